//! The URLs bots hand to `wget`, `curl`, `ftpget` and `tftp`, parsed strictly enough that
//! what comes out is safe to put in a request line or a log record.
//!
//! The parse takes bytes, as the shell's arguments are bytes, and is total: anything it
//! does not understand is `None`, never a panic. What it accepts:
//!
//! * `http://`, `https://`, `ftp://` and `tftp://` (scheme case-insensitive); no scheme at
//!   all means `http`, as BusyBox `wget` reads `1.2.3.4/bins.sh`;
//! * an optional `user[:password]@` before the host;
//! * a host name or IPv4 address of letters, digits, `-`, `.` and `_` (lowercased), or an
//!   IPv6 address in brackets;
//! * an optional port, 1 to 65535 (an empty one, `host:/`, is the default);
//! * a path. For http and ftp it starts with `/` (added when missing) and bytes outside
//!   printable ASCII are percent-encoded, so it can go on a request line as it is; a
//!   `#fragment` is dropped, as clients never send it. For tftp the path is the file name
//!   without its leading `/`, printable ASCII only, since it goes raw into the request.
//!
//! Nowhere may spaces or control characters appear: a URL is one shell word, and a CR or
//! LF let through would let a bot write its own headers into our requests.

use std::fmt;
use std::net::Ipv6Addr;

/// The longest URL accepted, in bytes; longer ones are not URLs a bot means to fetch.
pub const MAX_LEN: usize = 2048;

/// The longest host name (RFC 1035's 253 characters in text form).
const MAX_HOST: usize = 253;

/// How a file is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `http://`, and a URL without a scheme.
    Http,
    /// `https://`.
    Https,
    /// `ftp://`.
    Ftp,
    /// `tftp://`, and the `tftp` command.
    Tftp,
}

impl Scheme {
    /// Every scheme.
    pub const ALL: &'static [Scheme] = &[Scheme::Http, Scheme::Https, Scheme::Ftp, Scheme::Tftp];

    /// Its name as written before `://`.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
            Scheme::Ftp => "ftp",
            Scheme::Tftp => "tftp",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A URL a bot asked to fetch.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Url {
    /// How to fetch it.
    pub scheme: Scheme,
    /// A lowercased host name or IPv4 address, or an IPv6 address without its brackets.
    pub host: String,
    /// The port, the scheme's default when the URL gives none.
    pub port: u16,
    /// For http, https and ftp the path (with any query), starting with `/`; for tftp the
    /// file name.
    pub path: String,
    /// The user before `@`, as written.
    pub user: Option<String>,
    /// The password after `user:`, as written.
    pub password: Option<String>,
}

impl Url {
    /// Parses what a bot gave `wget`, `curl` or `ftpget` as a URL; `None` when it is not
    /// one we could fetch (see the module docs).
    pub fn parse(s: &[u8]) -> Option<Url> {
        if s.is_empty() || s.len() > MAX_LEN {
            return None;
        }
        if s.iter().any(|&b| b.is_ascii_control() || b == b' ') {
            return None;
        }
        let (scheme, rest) = split_scheme(s)?;
        let end = rest
            .iter()
            .position(|&b| matches!(b, b'/' | b'?' | b'#'))
            .unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        // The last '@' ends the user info: a password may hold one, a host may not.
        let (userinfo, hostport) = match authority.iter().rposition(|&b| b == b'@') {
            Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
            None => (None, authority),
        };
        let (host, port) = split_host_port(hostport)?;
        let port = port.unwrap_or(Url::default_port(scheme));
        let (user, password) = match userinfo {
            None => (None, None),
            Some(info) => {
                let info = std::str::from_utf8(info).ok()?;
                match info.split_once(':') {
                    Some((u, p)) => (Some(u.to_string()), Some(p.to_string())),
                    None => (Some(info.to_string()), None),
                }
            }
        };
        let path = match scheme {
            Scheme::Tftp => tftp_file(path.strip_prefix(b"/").unwrap_or(path))?,
            _ => http_path(path),
        };
        Some(Url {
            scheme,
            host,
            port,
            path,
            user,
            password,
        })
    }

    /// The URL of what `tftp -g -r FILE HOST [PORT]` fetches. `host` may be an IPv6 address
    /// with or without brackets; `None` when the host or the file name would not do.
    pub fn tftp(host: &str, port: Option<u16>, file: &str) -> Option<Url> {
        if host.len() + file.len() > MAX_LEN || port == Some(0) {
            return None;
        }
        let host = if host.starts_with('[') {
            match split_host_port(host.as_bytes())? {
                (h, None) => h,
                (_, Some(_)) => return None,
            }
        } else if host.contains(':') {
            valid_v6(host.as_bytes())?
        } else {
            valid_name(host.as_bytes())?
        };
        Some(Url {
            scheme: Scheme::Tftp,
            host,
            port: port.unwrap_or(Url::default_port(Scheme::Tftp)),
            path: tftp_file(file.as_bytes())?,
            user: None,
            password: None,
        })
    }

    /// The port a scheme uses when a URL names none.
    pub fn default_port(scheme: Scheme) -> u16 {
        match scheme {
            Scheme::Http => 80,
            Scheme::Https => 443,
            Scheme::Ftp => 21,
            Scheme::Tftp => 69,
        }
    }

    /// The host as a URL or `Host:` header writes it: IPv6 addresses in brackets, the port
    /// only when it is not the scheme's default.
    pub fn authority(&self) -> String {
        let mut s = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port != Url::default_port(self.scheme) {
            s.push_str(&format!(":{}", self.port));
        }
        s
    }
}

/// The canonical text, `scheme://host[:port]/path`. User and password are left out: they
/// are in their fields, and a URL logged as text should not carry them around.
impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slash = if self.scheme == Scheme::Tftp { "/" } else { "" };
        write!(
            f,
            "{}://{}{}{}",
            self.scheme,
            self.authority(),
            slash,
            self.path
        )
    }
}

/// The scheme and what follows its `://`; `http` and all of `s` when it has none.
fn split_scheme(s: &[u8]) -> Option<(Scheme, &[u8])> {
    let Some(sep) = s.windows(3).position(|w| w == b"://") else {
        return Some((Scheme::Http, s));
    };
    let name = &s[..sep];
    // Only an RFC 3986 scheme name counts: in `h/x?u=http://y` the `://` is in the query.
    let is_name = name.first().is_some_and(u8::is_ascii_alphabetic)
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !is_name {
        return Some((Scheme::Http, s));
    }
    let scheme = Scheme::ALL
        .iter()
        .copied()
        .find(|sc| name.eq_ignore_ascii_case(sc.name().as_bytes()))?;
    Some((scheme, &s[sep + 3..]))
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(s: &[u8]) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(inner) = s.strip_prefix(b"[") {
        let close = inner.iter().position(|&b| b == b']')?;
        let host = valid_v6(&inner[..close])?;
        match &inner[close + 1..] {
            [] => (host, None),
            [b':', port @ ..] => (host, Some(port)),
            _ => return None,
        }
    } else {
        match s.iter().position(|&b| b == b':') {
            Some(colon) => (valid_name(&s[..colon])?, Some(&s[colon + 1..])),
            None => (valid_name(s)?, None),
        }
    };
    let port = match port {
        None | Some([]) => None,
        Some(digits) => Some(parse_port(digits)?),
    };
    Some((host, port))
}

/// A port of 1 to 65535, in decimal digits only (no sign, no spaces).
fn parse_port(digits: &[u8]) -> Option<u16> {
    if digits.is_empty() || digits.len() > 5 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: u32 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    u16::try_from(n).ok().filter(|&p| p != 0)
}

/// A host name or IPv4 address, lowercased.
fn valid_name(s: &[u8]) -> Option<String> {
    let ok = !s.is_empty()
        && s.len() <= MAX_HOST
        && s.iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    ok.then(|| String::from_utf8_lossy(s).to_ascii_lowercase())
}

/// An IPv6 address, in its canonical text.
fn valid_v6(s: &[u8]) -> Option<String> {
    let addr: Ipv6Addr = std::str::from_utf8(s).ok()?.parse().ok()?;
    Some(addr.to_string())
}

/// An http or ftp path: starts with `/`, no fragment, printable ASCII with everything else
/// percent-encoded.
fn http_path(path: &[u8]) -> String {
    let path = match path.iter().position(|&b| b == b'#') {
        Some(hash) => &path[..hash],
        None => path,
    };
    let mut out = String::with_capacity(path.len() + 1);
    if path.first() != Some(&b'/') {
        out.push('/');
    }
    for &b in path {
        if b.is_ascii_graphic() {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A TFTP file name: not empty, printable ASCII (it goes raw into the request, between
/// NULs).
fn tftp_file(file: &[u8]) -> Option<String> {
    let ok = !file.is_empty() && file.len() <= MAX_LEN && file.iter().all(u8::is_ascii_graphic);
    ok.then(|| String::from_utf8_lossy(file).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s.as_bytes()).unwrap_or_else(|| panic!("{s} should parse"))
    }

    #[test]
    fn what_bots_write() {
        let u = url("http://1.2.3.4/bins.sh");
        assert_eq!(u.scheme, Scheme::Http);
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("1.2.3.4", 80, "/bins.sh")
        );
        assert_eq!(u.to_string(), "http://1.2.3.4/bins.sh");

        let u = url("http://1.2.3.4:8080/x");
        assert_eq!((u.port, u.path.as_str()), (8080, "/x"));
        assert_eq!(u.to_string(), "http://1.2.3.4:8080/x");

        let u = url("1.2.3.4/x");
        assert_eq!((u.scheme, u.host.as_str()), (Scheme::Http, "1.2.3.4"));
        assert_eq!(u.to_string(), "http://1.2.3.4/x");

        let u = url("HTTP://Evil.Example.COM");
        assert_eq!(
            (u.host.as_str(), u.path.as_str()),
            ("evil.example.com", "/")
        );

        let u = url("http://h:80/a?b=c#frag");
        assert_eq!(u.path, "/a?b=c");
        assert_eq!(u.to_string(), "http://h/a?b=c");
        assert_eq!(url("http://h?q").path, "/?q");
        assert_eq!(url("http://h:/x").port, 80);
        assert_eq!(url("h/x?u=http://y").path, "/x?u=http://y");
    }

    #[test]
    fn ftp_with_credentials() {
        let u = url("ftp://u:p@h/f");
        assert_eq!(u.scheme, Scheme::Ftp);
        assert_eq!(u.user.as_deref(), Some("u"));
        assert_eq!(u.password.as_deref(), Some("p"));
        assert_eq!((u.host.as_str(), u.port, u.path.as_str()), ("h", 21, "/f"));
        assert_eq!(u.to_string(), "ftp://h/f");

        let u = url("ftp://anonymous@h/f");
        assert_eq!((u.user.as_deref(), u.password), (Some("anonymous"), None));
        let u = url("ftp://u:p@ss@h/f");
        assert_eq!(u.password.as_deref(), Some("p@ss"));
        assert_eq!(u.host, "h");
    }

    #[test]
    fn tftp_urls_and_commands() {
        let u = url("tftp://h/f");
        assert_eq!((u.scheme, u.port, u.path.as_str()), (Scheme::Tftp, 69, "f"));
        assert_eq!(u.to_string(), "tftp://h/f");
        assert_eq!(Url::tftp("h", None, "f"), Some(u));

        let u = Url::tftp("::1", Some(6969), "mips").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 6969));
        assert_eq!(u.to_string(), "tftp://[::1]:6969/mips");
        assert_eq!(Url::tftp("[::1]", None, "mips").unwrap().host, "::1");

        assert_eq!(Url::tftp("h", None, ""), None);
        assert_eq!(Url::tftp("h", None, "a b"), None);
        assert_eq!(Url::tftp("h", None, "a\0b"), None);
        assert_eq!(Url::tftp("h", Some(0), "f"), None);
        assert_eq!(Url::tftp("h h", None, "f"), None);
        assert_eq!(Url::tftp("[::1]:69", None, "f"), None);
        assert_eq!(Url::parse(b"tftp://h/"), None);
        assert_eq!(Url::parse(b"tftp://h/\xff"), None);
    }

    #[test]
    fn ipv6_hosts() {
        let u = url("[::1]:80");
        assert_eq!(
            (u.scheme, u.host.as_str(), u.port),
            (Scheme::Http, "::1", 80)
        );
        assert_eq!(u.to_string(), "http://[::1]/");
        let u = url("http://[2001:DB8::0001]:8080/x");
        assert_eq!(u.host, "2001:db8::1");
        assert_eq!(u.to_string(), "http://[2001:db8::1]:8080/x");
        assert_eq!(Url::parse(b"http://[::1"), None);
        assert_eq!(Url::parse(b"http://[::1]x/"), None);
        assert_eq!(Url::parse(b"http://[nope]/"), None);
    }

    #[test]
    fn display_parses_back_the_same() {
        for s in [
            "http://1.2.3.4/bins.sh",
            "https://h:8443/a/b?c",
            "ftp://h:2121/f",
            "tftp://[::1]:6969/f",
            "http://h/%FF",
        ] {
            let u = url(s);
            assert_eq!(u.to_string(), s);
            assert_eq!(url(&u.to_string()), u);
        }
    }

    #[test]
    fn non_ascii_path_bytes_are_percent_encoded() {
        let u = Url::parse(b"http://h/a\xff\xc3\xa9").unwrap();
        assert_eq!(u.path, "/a%FF%C3%A9");
    }

    #[test]
    fn refuses_what_is_not_a_url() {
        let bad: &[&[u8]] = &[
            b"",
            b"http://",
            b"http:///x",
            b"http://h h/x",
            b"http://h\r\nX-Evil: 1/x",
            b"http://h/x\r\nHost: y",
            b"http://h/\x7f",
            b"http://h\x00/",
            b"http://h:0/",
            b"http://h:65536/",
            b"http://h:99999999999999999999/",
            b"http://h:+80/",
            b"http://h:8a/",
            b"http://h\xff/",
            b"http://h!/",
            b"gopher://h/",
            b"://h/",
            b"http://u@/",
        ];
        for s in bad {
            assert_eq!(Url::parse(s), None, "{}", String::from_utf8_lossy(s));
        }
        let mut long = b"http://h/".to_vec();
        long.resize(MAX_LEN, b'a');
        assert!(Url::parse(&long).is_some());
        long.push(b'a');
        assert_eq!(Url::parse(&long), None);
        let mut host = b"http://".to_vec();
        host.resize(7 + MAX_HOST + 1, b'a');
        assert_eq!(Url::parse(&host), None);
    }

    #[test]
    fn ports_at_the_edges() {
        assert_eq!(url("http://h:1/").port, 1);
        assert_eq!(url("http://h:65535/").port, 65535);
        assert_eq!(url("http://h:00080/").port, 80);
        for s in Scheme::ALL {
            let u = url(&format!("{s}://h/f"));
            assert_eq!(u.port, Url::default_port(*s));
        }
    }
}
