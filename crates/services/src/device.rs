//! Device profiles: the cheap IoT box the Telnet service answers as, and whose web
//! interface ([`WebLook`], the `[web]` table) the HTTP service shows.
//!
//! A profile is one TOML file describing one device — how its telnetd greets, what its
//! BusyBox has, what `/proc` and `ps` say, a small filesystem — so that a bot's checks
//! (Mirai's loader reads `/proc/mounts`, `/proc/cpuinfo` and an ELF header) all tell the
//! same story. Four come built in (`profiles/*.toml`); operators add their own with
//! [`load_dir`].
//!
//! Line ends: the [`TelnetLook`] texts go on the wire as they are, so every `\n` in them
//! becomes `\r\n` on load. Everything else (command output, file contents) keeps plain
//! `\n`, as files and programs have it; the terminal layer adds the `\r` as a pty's
//! `ONLCR` would. Web page bodies are sent byte for byte as written.
//!
//! The `[web]` table (optional; without it, [`WebLook::plain`]):
//!
//! ```toml
//! [web]
//! server = "uc-httpd 1.0.0"                  # the Server header; leave out for none
//! headers = [["X-Frame-Options", "SAMEORIGIN"]]   # on every response, in order
//! basic_realm = "IPCAM"                      # pages with auth = true ask for Basic
//!
//! [[web.pages]]                              # any order; each path once
//! path = "/"                                 # the request target, query and all
//! status = 302                               # 200 when left out
//! content_type = "text/html"
//! headers = [["Location", "/login.htm"]]     # a 3xx needs a Location
//! body = "..."                               # text, or body_base64 = "..." (binary;
//! auth = false                               #   whitespace skipped); at most 64 KiB
//!
//! [web.not_found]                            # any other path; also bad_request (400):
//! status = 404                               #   status, content_type, headers, body or
//! content_type = "text/html"                 #   body_base64, no path or auth
//! body = "..."
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::elf::Arch;
use crate::telnet::protocol::{code, Negotiation};

/// The longest any one text in a profile may be (a file's content, `ps` output, …).
pub const MAX_TEXT: usize = 64 * 1024;

/// The most entries any one list in a profile may have (files, directories, applets, …).
pub const MAX_ENTRIES: usize = 4096;

/// The largest profile file [`load_dir`] reads.
pub const MAX_FILE: u64 = 4 * 1024 * 1024;

/// One device, as bots get to see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Its name: the file's stem, e.g. "dvr".
    pub name: String,
    /// What it imitates, for operators.
    pub description: String,
    /// How its telnetd greets and logs in.
    pub telnet: TelnetLook,
    /// The host name (uname's nodename, `hostname`, the prompt's `{hostname}`).
    pub hostname: String,
    /// The shell prompt, with `{hostname}`, `{cwd}` and `{user}` to fill in
    /// ([`Profile::prompt_for`]).
    pub prompt: String,
    /// A vendor CLI met after login, in front of the shell; `None` for a plain shell.
    pub cli: Option<VendorCli>,
    /// Its BusyBox.
    pub busybox: BusyBox,
    /// Programs on the box that are not BusyBox applets (e.g. `curl`), sorted.
    pub programs: Vec<String>,
    /// Its CPU, for the ELF files bots read.
    pub arch: Arch,
    /// What `uname` reports.
    pub uname: Uname,
    /// Texts of `/proc` files.
    pub proc: ProcFiles,
    /// What `free` prints.
    pub free: String,
    /// What `df` prints.
    pub df: String,
    /// What `ps` prints.
    pub ps: String,
    /// Every directory but `/`, absolute, sorted: those the profile lists and the parents
    /// of those and of its files.
    pub dirs: Vec<String>,
    /// Regular files, sorted by path.
    pub files: Vec<FileSpec>,
    /// The user a login ends up as, usually "root".
    pub user: String,
    /// The device's web interface (the `[web]` table; without one, [`WebLook::plain`]).
    pub web: WebLook,
}

/// The Telnet side of a device, each text as sent (line ends `\r\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelnetLook {
    /// Negotiations sent first, before any text: Mirai waits for them.
    pub offer: Vec<Negotiation>,
    /// Text before the first login prompt; may be empty.
    pub banner: String,
    /// The login prompt, e.g. `(none) login: `.
    pub login_prompt: String,
    /// The password prompt, e.g. `Password: `.
    pub password_prompt: String,
    /// What a refused login prints before the next login prompt.
    pub login_incorrect: String,
    /// What a login prints before the first prompt; may be empty.
    pub motd: String,
}

/// A vendor CLI (ZTE's, Huawei's, …) that stands between the login and the shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorCli {
    /// Its prompt, e.g. `WAP>`.
    pub prompt: String,
    /// Words that open the BusyBox shell (`sh`, `shell`, `enable`, …).
    pub to_shell: Vec<String>,
    /// Replies to exact commands (whitespace runs count as one space).
    pub replies: BTreeMap<String, String>,
    /// The reply to any other command; `{command}` stands for what was typed.
    pub unknown: String,
    /// Words that end the session.
    pub exit_words: Vec<String>,
}

/// What a vendor CLI does with one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliAnswer {
    /// Print this (maybe nothing) and prompt again.
    Reply(String),
    /// Drop into the BusyBox shell.
    Shell,
    /// End the session.
    Exit,
}

impl VendorCli {
    /// What the CLI does with `line` (surrounding whitespace ignored).
    pub fn answer(&self, line: &str) -> CliAnswer {
        let command = squeeze(line);
        if command.is_empty() {
            CliAnswer::Reply(String::new())
        } else if self.exit_words.contains(&command) {
            CliAnswer::Exit
        } else if self.to_shell.contains(&command) {
            CliAnswer::Shell
        } else if let Some(reply) = self.replies.get(&command) {
            CliAnswer::Reply(reply.clone())
        } else {
            CliAnswer::Reply(fill(&self.unknown, &[("command", &command)]))
        }
    }
}

/// The device's BusyBox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusyBox {
    /// The first line `busybox` prints, e.g. `BusyBox v1.19.4 (2014-03-19 17:52:07 CST)
    /// multi-call binary.`
    pub banner: String,
    /// Its applets, sorted, without duplicates (`cd` and other shell builtins are not
    /// applets).
    pub applets: Vec<String>,
}

/// What `uname` reports; the nodename is [`Profile::hostname`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uname {
    /// `uname -s`, e.g. "Linux".
    pub sysname: String,
    /// `uname -r`, e.g. "3.0.8".
    pub release: String,
    /// `uname -v`, e.g. "#1 PREEMPT Fri Jun 13 16:29:46 CST 2014".
    pub version: String,
    /// `uname -m`, e.g. "armv7l".
    pub machine: String,
}

/// `/proc` files bots read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcFiles {
    /// `/proc/mounts`: Mirai's loader looks here for a writable directory.
    pub mounts: String,
    /// `/proc/cpuinfo`: Mirai's loader tells ARMv7 from older ARM here.
    pub cpuinfo: String,
    /// `/proc/meminfo`.
    pub meminfo: String,
}

/// One regular file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpec {
    /// Its absolute path.
    pub path: String,
    /// Its content.
    pub content: String,
    /// Its permission bits (at most `0o7777`).
    pub mode: u32,
}

/// The device's web interface, as the HTTP service answers on 80 and 8080: a fixed set of
/// pages and the server's own error pages. Every text in it is checked on load, so none
/// can add a header line or break the response's framing: header names are tokens,
/// values have no control characters but tab, and `Content-Length`, `Transfer-Encoding`,
/// `Connection`, `Content-Type` and `Server` are the service's to write, never a
/// profile's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebLook {
    /// The `Server` header, e.g. "uc-httpd 1.0.0", "GoAhead-Webs", "lighttpd/1.4.54";
    /// `None`: the device sends none.
    pub server: Option<String>,
    /// Headers on every response (e.g. `X-Frame-Options`), in order, before the page's.
    pub headers: Vec<(String, String)>,
    /// The pages, sorted by path, each path once ([`Profile::web_page`]).
    pub pages: Vec<WebPage>,
    /// What any other path gets: a 404 in the server's style (its `path` is "").
    pub not_found: WebPage,
    /// What a malformed request gets: a 400 in the server's style (its `path` is "").
    pub bad_request: WebPage,
    /// When set, pages with [`WebPage::auth`] answer 401 with
    /// `WWW-Authenticate: Basic realm="…"` unless a credential is sent, as cameras do.
    /// Never holds `"`, `\` or control characters.
    pub basic_realm: Option<String>,
}

/// One response of a [`WebLook`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebPage {
    /// The request target it answers, exactly: "/", "/login.asp", "/favicon.ico", or
    /// with a query, "/getpage.gch?pid=1002". Printable ASCII without spaces or `#`.
    pub path: String,
    /// Its status code, 100 to 599; a 3xx has a `Location` header.
    pub status: u16,
    /// Its `Content-Type`, e.g. "text/html" or "image/x-icon".
    pub content_type: String,
    /// Headers of this page (`Location`, `Set-Cookie`, …), in order, after
    /// [`WebLook::headers`].
    pub headers: Vec<(String, String)>,
    /// Its body (at most [`MAX_TEXT`] bytes), from `body` (text, sent as written) or
    /// `body_base64` (binary, e.g. a favicon) in the file.
    pub body: Vec<u8>,
    /// Whether it is behind [`WebLook::basic_realm`] (only set when that is).
    pub auth: bool,
}

impl WebLook {
    /// The look of a profile without a `[web]` table: no `Server` header, no pages, a
    /// bare 404 and 400.
    pub fn plain() -> WebLook {
        let page = |status: u16, text: &str| WebPage {
            path: String::new(),
            status,
            content_type: "text/html".into(),
            headers: Vec::new(),
            body: format!("<html><body><h1>{status} {text}</h1></body></html>\n").into_bytes(),
            auth: false,
        };
        WebLook {
            server: None,
            headers: Vec::new(),
            pages: Vec::new(),
            not_found: page(404, "Not Found"),
            bad_request: page(400, "Bad Request"),
            basic_realm: None,
        }
    }

    /// The page for exactly `path`, if there is one.
    pub fn page(&self, path: &str) -> Option<&WebPage> {
        self.pages
            .binary_search_by(|p| p.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.pages[i])
    }
}

/// The built-in profiles' names and texts.
const BUILTIN: [(&str, &str); 4] = [
    ("busybox", include_str!("../profiles/busybox.toml")),
    ("dvr", include_str!("../profiles/dvr.toml")),
    ("ipcam", include_str!("../profiles/ipcam.toml")),
    ("router", include_str!("../profiles/router.toml")),
];

impl Profile {
    /// Reads the profile called `name` (its file's stem) from its TOML text, and checks
    /// it. Errors name the file and the field to fix.
    pub fn parse(name: &str, toml_text: &str) -> Result<Profile, String> {
        parse_as(name, &format!("profile {name}.toml"), toml_text)
    }

    /// The profiles that come with honeyscope, by name. Each is parsed once; a test
    /// parses them all, so none is ever missing (one that failed would be left out).
    pub fn builtin() -> &'static [Profile] {
        static PROFILES: OnceLock<Vec<Profile>> = OnceLock::new();
        PROFILES.get_or_init(|| {
            BUILTIN
                .iter()
                .filter_map(|(name, text)| Profile::parse(name, text).ok())
                .collect()
        })
    }

    /// The built-in profile called `name`.
    pub fn builtin_named(name: &str) -> Option<&'static Profile> {
        Profile::builtin().iter().find(|p| p.name == name)
    }

    /// The built-in profiles' names, for messages: "busybox, dvr, …".
    pub fn builtin_names() -> String {
        BUILTIN
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The shell prompt for `user` in `cwd` (as the shell shows it, e.g. `/` or `~`).
    pub fn prompt_for(&self, user: &str, cwd: &str) -> String {
        fill(
            &self.prompt,
            &[("hostname", &self.hostname), ("cwd", cwd), ("user", user)],
        )
    }

    /// Whether its BusyBox has the applet `name`.
    pub fn has_applet(&self, name: &str) -> bool {
        self.busybox
            .applets
            .binary_search_by(|a| a.as_str().cmp(name))
            .is_ok()
    }

    /// Whether the non-BusyBox program `name` is on the box.
    pub fn has_program(&self, name: &str) -> bool {
        self.programs
            .binary_search_by(|a| a.as_str().cmp(name))
            .is_ok()
    }

    /// The file at `path`, if the profile has one.
    pub fn file(&self, path: &str) -> Option<&FileSpec> {
        self.files
            .binary_search_by(|f| f.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.files[i])
    }

    /// The web page for exactly `path` (the request target as sent, query and all), if
    /// the profile has one; other paths get [`WebLook::not_found`].
    pub fn web_page(&self, path: &str) -> Option<&WebPage> {
        self.web.page(path)
    }
}

/// Every `*.toml` file in `dir`, as profiles named by their stems, sorted by name. The
/// first that does not read or parse is the error, naming the file.
pub fn load_dir(dir: &Path) -> Result<Vec<Profile>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("profile directory {}: {e}", dir.display()))?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("profile directory {}: {e}", dir.display()))?;
        let path = entry.path();
        if path.extension().is_some_and(|x| x == "toml") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        let shown = path.display().to_string();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(|| format!("profile {shown}: the file name should be UTF-8"))?;
        let size = std::fs::metadata(&path)
            .map_err(|e| format!("profile {shown}: {e}"))?
            .len();
        if size > MAX_FILE {
            return Err(format!(
                "profile {shown}: {size} bytes; a profile may be at most {MAX_FILE}"
            ));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| format!("profile {shown}: {e}"))?;
        out.push(parse_as(name, &format!("profile {shown}"), &text)?);
    }
    Ok(out)
}

// The file's shape; [`parse_as`] checks the values.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    description: String,
    hostname: String,
    prompt: String,
    #[serde(default = "root")]
    user: String,
    arch: String,
    #[serde(default)]
    programs: Vec<String>,
    #[serde(default)]
    dirs: Vec<String>,
    telnet: RawTelnet,
    cli: Option<RawCli>,
    busybox: RawBusyBox,
    uname: RawUname,
    proc: RawProc,
    output: RawOutput,
    #[serde(default)]
    files: Vec<RawFile>,
    web: Option<RawWeb>,
}

fn root() -> String {
    "root".to_string()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTelnet {
    offer: Vec<String>,
    #[serde(default)]
    banner: String,
    login_prompt: String,
    password_prompt: String,
    login_incorrect: String,
    #[serde(default)]
    motd: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCli {
    prompt: String,
    to_shell: Vec<String>,
    #[serde(default)]
    replies: BTreeMap<String, String>,
    unknown: String,
    #[serde(default)]
    exit_words: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBusyBox {
    banner: String,
    applets: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUname {
    sysname: String,
    release: String,
    version: String,
    machine: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProc {
    mounts: String,
    cpuinfo: String,
    meminfo: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutput {
    free: String,
    df: String,
    ps: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    path: String,
    #[serde(default)]
    content: String,
    /// An octal string ("0755") or an integer (`0o755`, or decimal).
    mode: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWeb {
    server: Option<String>,
    #[serde(default)]
    headers: Vec<(String, String)>,
    basic_realm: Option<String>,
    #[serde(default)]
    pages: Vec<RawPage>,
    not_found: RawErrorPage,
    bad_request: RawErrorPage,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPage {
    path: String,
    /// Taken wide so that a wrong number gets our message, not toml's.
    #[serde(default = "ok_status")]
    status: i64,
    content_type: String,
    #[serde(default)]
    headers: Vec<(String, String)>,
    body: Option<String>,
    body_base64: Option<String>,
    #[serde(default)]
    auth: bool,
}

/// `not_found` and `bad_request`: no path, never behind the realm, the status given.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawErrorPage {
    status: i64,
    content_type: String,
    #[serde(default)]
    headers: Vec<(String, String)>,
    body: Option<String>,
    body_base64: Option<String>,
}

fn ok_status() -> i64 {
    200
}

/// Checks as it converts; `origin` names the file in messages.
struct Check<'a> {
    origin: &'a str,
}

impl Check<'_> {
    fn err(&self, field: &str, msg: impl std::fmt::Display) -> String {
        format!("{}: `{field}`: {msg}", self.origin)
    }

    /// A text of at most [`MAX_TEXT`] bytes.
    fn text(&self, field: &str, value: String) -> Result<String, String> {
        if value.len() > MAX_TEXT {
            return Err(self.err(
                field,
                format_args!("{} bytes; at most {MAX_TEXT}", value.len()),
            ));
        }
        Ok(value)
    }

    /// A text that must not be empty.
    fn nonempty(&self, field: &str, value: String) -> Result<String, String> {
        if value.is_empty() {
            return Err(self.err(field, "should not be empty"));
        }
        self.text(field, value)
    }

    /// One line: not empty, no line breaks or control characters.
    fn line(&self, field: &str, value: String) -> Result<String, String> {
        if value.chars().any(char::is_control) {
            return Err(self.err(
                field,
                format_args!("{value:?} should be one line, without control characters"),
            ));
        }
        self.nonempty(field, value)
    }

    /// A word (a command or applet name): no whitespace, no `/`.
    fn word(&self, field: &str, value: String) -> Result<String, String> {
        if value.is_empty()
            || value.len() > 64
            || value
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '/')
        {
            return Err(self.err(
                field,
                format_args!(
                    "{value:?} should be a name of 1 to 64 characters, without spaces or /"
                ),
            ));
        }
        Ok(value)
    }

    /// A list of at most [`MAX_ENTRIES`].
    fn count<T>(&self, field: &str, list: &[T]) -> Result<(), String> {
        if list.len() > MAX_ENTRIES {
            return Err(self.err(
                field,
                format_args!("{} entries; at most {MAX_ENTRIES}", list.len()),
            ));
        }
        Ok(())
    }

    /// Words, sorted and without duplicates.
    fn words(&self, field: &str, list: Vec<String>) -> Result<Vec<String>, String> {
        self.count(field, &list)?;
        let mut out = list
            .into_iter()
            .map(|w| self.word(field, w))
            .collect::<Result<Vec<_>, _>>()?;
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// A template whose only placeholders are `allowed`.
    fn template(&self, field: &str, value: String, allowed: &[&str]) -> Result<String, String> {
        let value = self.text(field, value)?;
        let mut rest = value.as_str();
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            let name = after.find('}').map(|close| &after[..close]);
            match name {
                Some(name) if allowed.contains(&name) => {
                    rest = &after[name.len() + 1..];
                }
                _ => {
                    let names = allowed
                        .iter()
                        .map(|n| format!("{{{n}}}"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    return Err(self.err(
                        field,
                        format_args!("{value:?} has a `{{` that is not one of {names}"),
                    ));
                }
            }
        }
        Ok(value)
    }

    /// An absolute path without `.`, `..` or empty components; `/` only when `root_ok`.
    fn path(&self, field: &str, value: String, root_ok: bool) -> Result<String, String> {
        let bad = |why: &str| self.err(field, format_args!("{value:?} {why}"));
        if !value.starts_with('/') {
            return Err(bad("should be an absolute path (start with /)"));
        }
        if value.len() > 1024 || value.contains('\0') {
            return Err(bad("should be at most 1024 bytes, without NUL"));
        }
        if value == "/" {
            return if root_ok {
                Ok(value)
            } else {
                Err(bad("is the root directory, not a file"))
            };
        }
        for part in value[1..].split('/') {
            match part {
                "" => return Err(bad("has an empty component (// or a trailing /)")),
                "." | ".." => return Err(bad("should not have . or .. in it")),
                p if p.len() > 255 => return Err(bad("has a component over 255 bytes")),
                _ => {}
            }
        }
        Ok(value)
    }

    /// A telnet option as "WILL ECHO", "DO 31", ….
    fn negotiation(&self, field: &str, value: &str) -> Result<Negotiation, String> {
        let bad = || {
            self.err(
                field,
                format_args!(
                    "{value:?} should be WILL, WONT, DO or DONT and an option: ECHO, SGA, \
                     TTYPE, NAWS, LINEMODE, NEW-ENVIRON or a number 0 to 255"
                ),
            )
        };
        let mut parts = value.split_whitespace();
        let (Some(command), Some(option), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let command = match command.to_ascii_uppercase().as_str() {
            "WILL" => code::WILL,
            "WONT" => code::WONT,
            "DO" => code::DO,
            "DONT" => code::DONT,
            _ => return Err(bad()),
        };
        let option = match option.to_ascii_uppercase().as_str() {
            "ECHO" => code::ECHO,
            "SGA" => code::SGA,
            "TTYPE" => code::TTYPE,
            "NAWS" => code::NAWS,
            "LINEMODE" => code::LINEMODE,
            "NEW-ENVIRON" | "NEW_ENVIRON" => code::NEW_ENVIRON,
            n => n.parse::<u8>().map_err(|_| bad())?,
        };
        Ok(Negotiation { command, option })
    }

    /// A file mode: an octal string ("0755", "755", "0o755") or an integer.
    fn mode(&self, field: &str, value: Option<toml::Value>) -> Result<u32, String> {
        let bad = |shown: &dyn std::fmt::Display| {
            self.err(
                field,
                format_args!("{shown} should be a mode up to 0o7777: \"0755\" or 0o755"),
            )
        };
        let mode = match value {
            None => return Ok(0o644),
            Some(toml::Value::Integer(n)) => u32::try_from(n).map_err(|_| bad(&n))?,
            Some(toml::Value::String(s)) => {
                let digits = s.strip_prefix("0o").unwrap_or(&s);
                if digits.is_empty() || digits.len() > 6 {
                    return Err(bad(&format_args!("{s:?}")));
                }
                u32::from_str_radix(digits, 8).map_err(|_| bad(&format_args!("{s:?}")))?
            }
            Some(other) => return Err(bad(&other)),
        };
        if mode > 0o7777 {
            return Err(bad(&format_args!("{mode:#o}")));
        }
        Ok(mode)
    }
}

/// Parses and checks; `origin` names the file in messages.
fn parse_as(name: &str, origin: &str, text: &str) -> Result<Profile, String> {
    if name.is_empty() || name.contains(['/', '\\']) {
        return Err(format!(
            "{origin}: the profile name {name:?} should be a file stem"
        ));
    }
    let raw: RawProfile = toml::from_str(text).map_err(|e| format!("{origin}: {e}"))?;
    let c = Check { origin };

    let t = raw.telnet;
    c.count("telnet.offer", &t.offer)?;
    let offer = t
        .offer
        .iter()
        .map(|o| c.negotiation("telnet.offer", o))
        .collect::<Result<Vec<_>, _>>()?;
    let telnet = TelnetLook {
        offer,
        banner: crlf(c.text("telnet.banner", t.banner)?),
        login_prompt: crlf(c.nonempty("telnet.login_prompt", t.login_prompt)?),
        password_prompt: crlf(c.nonempty("telnet.password_prompt", t.password_prompt)?),
        login_incorrect: crlf(c.text("telnet.login_incorrect", t.login_incorrect)?),
        motd: crlf(c.text("telnet.motd", t.motd)?),
    };

    let hostname = c.line("hostname", raw.hostname)?;
    if hostname.len() > 64 || hostname.contains([' ', '/']) {
        return Err(c.err(
            "hostname",
            format_args!("{hostname:?} should be at most 64 characters, without spaces or /"),
        ));
    }
    let prompt = c.nonempty(
        "prompt",
        c.template("prompt", raw.prompt, &["hostname", "cwd", "user"])?,
    )?;
    let user = c.word("user", raw.user)?;
    if user.contains(':') {
        return Err(c.err("user", format_args!("{user:?} should not contain :")));
    }

    let cli = raw.cli.map(|cli| cli_of(&c, cli)).transpose()?;

    let applets = c.words("busybox.applets", raw.busybox.applets)?;
    if applets.binary_search_by(|a| a.as_str().cmp("sh")).is_err() {
        return Err(c.err(
            "busybox.applets",
            "sh is missing: the login shell is BusyBox's sh",
        ));
    }
    let busybox = BusyBox {
        banner: c.line("busybox.banner", raw.busybox.banner)?,
        applets,
    };
    let programs = c.words("programs", raw.programs)?;

    let arch = Arch::named(&raw.arch).ok_or_else(|| {
        c.err(
            "arch",
            format_args!("{:?} is not one of {}", raw.arch, Arch::names()),
        )
    })?;
    let uname = Uname {
        sysname: c.line("uname.sysname", raw.uname.sysname)?,
        release: c.line("uname.release", raw.uname.release)?,
        version: c.line("uname.version", raw.uname.version)?,
        machine: c.line("uname.machine", raw.uname.machine)?,
    };
    let proc = ProcFiles {
        mounts: c.nonempty("proc.mounts", raw.proc.mounts)?,
        cpuinfo: c.nonempty("proc.cpuinfo", raw.proc.cpuinfo)?,
        meminfo: c.nonempty("proc.meminfo", raw.proc.meminfo)?,
    };

    c.count("dirs", &raw.dirs)?;
    c.count("files", &raw.files)?;
    let mut dirs = BTreeSet::new();
    for d in raw.dirs {
        let d = c.path("dirs", d, true)?;
        add_with_parents(&mut dirs, &d);
    }
    let mut files = Vec::with_capacity(raw.files.len());
    let mut seen = BTreeSet::new();
    for f in raw.files {
        let path = c.path("files.path", f.path, false)?;
        if path == "/proc" || path.starts_with("/proc/") {
            return Err(c.err(
                "files.path",
                format_args!("{path:?}: /proc comes from the [proc] table and the shell"),
            ));
        }
        if !seen.insert(path.clone()) {
            return Err(c.err("files.path", format_args!("{path:?} is listed twice")));
        }
        let field = format!("files.content of {path}");
        let content = c.text(&field, f.content)?;
        let mode = c.mode(&format!("files.mode of {path}"), f.mode)?;
        if let Some((parent, _)) = path.rsplit_once('/') {
            add_with_parents(&mut dirs, parent);
        }
        files.push(FileSpec {
            path,
            content,
            mode,
        });
    }
    if let Some(f) = files.iter().find(|f| dirs.contains(&f.path)) {
        return Err(c.err(
            "files.path",
            format_args!("{:?} is both a file and a directory", f.path),
        ));
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    dirs.remove("/");
    dirs.remove("");

    let out = raw.output;
    Ok(Profile {
        name: name.to_string(),
        description: c.line("description", raw.description)?,
        telnet,
        hostname,
        prompt,
        cli,
        busybox,
        programs,
        arch,
        uname,
        proc,
        free: c.text("output.free", out.free)?,
        df: c.text("output.df", out.df)?,
        ps: c.text("output.ps", out.ps)?,
        dirs: dirs.into_iter().collect(),
        files,
        user,
        web: raw
            .web
            .map(|w| web_of(&c, w))
            .transpose()?
            .unwrap_or_else(WebLook::plain),
    })
}

/// The `[cli]` table, checked.
fn cli_of(c: &Check, cli: RawCli) -> Result<VendorCli, String> {
    let prompt = c.nonempty("cli.prompt", cli.prompt)?;
    let commands = |field: &str, list: Vec<String>| -> Result<Vec<String>, String> {
        c.count(field, &list)?;
        let mut out = Vec::with_capacity(list.len());
        for w in list {
            let s = squeeze(&w);
            if s.is_empty() || s.len() > 256 {
                return Err(c.err(field, format_args!("{w:?} should be a command")));
            }
            out.push(s);
        }
        out.sort();
        out.dedup();
        Ok(out)
    };
    let to_shell = commands("cli.to_shell", cli.to_shell)?;
    if to_shell.is_empty() {
        return Err(c.err(
            "cli.to_shell",
            "name at least one word that opens the shell",
        ));
    }
    let exit_words = commands("cli.exit_words", cli.exit_words)?;
    if let Some(w) = exit_words.iter().find(|w| to_shell.contains(w)) {
        return Err(c.err(
            "cli.exit_words",
            format_args!("{w:?} is in cli.to_shell too"),
        ));
    }
    if cli.replies.len() > MAX_ENTRIES {
        return Err(c.err("cli.replies", format_args!("at most {MAX_ENTRIES} entries")));
    }
    let mut replies = BTreeMap::new();
    for (command, reply) in cli.replies {
        let key = squeeze(&command);
        let field = format!("cli.replies.{command:?}");
        if key.is_empty() || key.len() > 256 {
            return Err(c.err(&field, "the command should be 1 to 256 characters"));
        }
        if to_shell.contains(&key) || exit_words.contains(&key) {
            return Err(c.err(
                &field,
                "is in cli.to_shell or cli.exit_words: the reply would never be seen",
            ));
        }
        let reply = c.text(&field, reply)?;
        if replies.insert(key, reply).is_some() {
            return Err(c.err(&field, "is listed twice (spaces do not count)"));
        }
    }
    Ok(VendorCli {
        prompt,
        to_shell,
        replies,
        unknown: c.template("cli.unknown", cli.unknown, &["command"])?,
        exit_words,
    })
}

/// The most headers one list in `[web]` may have.
const MAX_HEADERS: usize = 32;

/// Headers the HTTP service writes itself: a profile setting them could break the
/// response's framing or contradict `server` and `content_type`.
const RESERVED_HEADERS: [&str; 5] = [
    "connection",
    "content-length",
    "content-type",
    "server",
    "transfer-encoding",
];

/// The `[web]` table, checked.
fn web_of(c: &Check, web: RawWeb) -> Result<WebLook, String> {
    let server = web
        .server
        .map(|s| header_value(c, "web.server", s))
        .transpose()?;
    if server.as_deref() == Some("") {
        return Err(c.err(
            "web.server",
            "should not be empty: leave it out for no Server header",
        ));
    }
    let headers = headers(c, "web.headers", web.headers)?;
    let basic_realm = match web.basic_realm {
        None => None,
        Some(realm) => {
            let realm = c.line("web.basic_realm", realm)?;
            if realm.len() > 128 || realm.contains(['"', '\\']) {
                return Err(c.err(
                    "web.basic_realm",
                    format_args!("{realm:?} should be at most 128 bytes, without \" or \\"),
                ));
            }
            Some(realm)
        }
    };

    c.count("web.pages", &web.pages)?;
    let mut pages = Vec::with_capacity(web.pages.len());
    let mut seen = BTreeSet::new();
    for p in web.pages {
        let path = web_path(c, p.path)?;
        if !seen.insert(path.clone()) {
            return Err(c.err("web.pages.path", format_args!("{path:?} is listed twice")));
        }
        if p.auth && basic_realm.is_none() {
            return Err(c.err(
                &format!("web.pages.auth of {path}"),
                "is true but web.basic_realm is not set",
            ));
        }
        let fields = PageFields {
            status: p.status,
            content_type: p.content_type,
            headers: p.headers,
            body: p.body,
            body_base64: p.body_base64,
        };
        pages.push(page(
            c,
            "web.pages",
            &format!(" of {path}"),
            path,
            fields,
            p.auth,
        )?);
    }
    pages.sort_by(|a, b| a.path.cmp(&b.path));

    let error_page = |name: &str, p: RawErrorPage| {
        let fields = PageFields {
            status: p.status,
            content_type: p.content_type,
            headers: p.headers,
            body: p.body,
            body_base64: p.body_base64,
        };
        page(c, &format!("web.{name}"), "", String::new(), fields, false)
    };
    Ok(WebLook {
        server,
        headers,
        pages,
        not_found: error_page("not_found", web.not_found)?,
        bad_request: error_page("bad_request", web.bad_request)?,
        basic_realm,
    })
}

/// What a page and an error page share.
struct PageFields {
    status: i64,
    content_type: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
    body_base64: Option<String>,
}

/// One page, checked; its fields are named `{table}.{field}{which}`, e.g.
/// "web.pages.status of /x" or "web.not_found.status".
fn page(
    c: &Check,
    table: &str,
    which: &str,
    path: String,
    p: PageFields,
    auth: bool,
) -> Result<WebPage, String> {
    let field = |name: &str| format!("{table}.{name}{which}");
    let status = match u16::try_from(p.status) {
        Ok(s) if (100..=599).contains(&s) => s,
        _ => {
            return Err(c.err(
                &field("status"),
                format_args!("{} should be a status code, 100 to 599", p.status),
            ))
        }
    };
    let content_type = header_value(c, &field("content_type"), p.content_type)?;
    if content_type.is_empty() {
        return Err(c.err(&field("content_type"), "should not be empty"));
    }
    let headers = headers(c, &field("headers"), p.headers)?;
    if (300..400).contains(&status)
        && !headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("location") && !v.is_empty())
    {
        return Err(c.err(
            &field("headers"),
            format_args!("a {status} needs a Location header"),
        ));
    }
    let body = match (p.body, p.body_base64) {
        (Some(_), Some(_)) => {
            return Err(c.err(&field("body"), "give body or body_base64, not both"))
        }
        (Some(text), None) => c.text(&field("body"), text)?.into_bytes(),
        (None, Some(encoded)) => {
            let f = field("body_base64");
            if encoded.len() > 2 * MAX_TEXT {
                return Err(c.err(&f, format_args!("{} bytes; too long", encoded.len())));
            }
            let bytes = base64_decode(&encoded).map_err(|e| c.err(&f, e))?;
            if bytes.len() > MAX_TEXT {
                return Err(c.err(
                    &f,
                    format_args!("{} bytes decoded; at most {MAX_TEXT}", bytes.len()),
                ));
            }
            bytes
        }
        (None, None) => Vec::new(),
    };
    Ok(WebPage {
        path,
        status,
        content_type,
        headers,
        body,
        auth,
    })
}

/// A page's path: a request target as a client sends it, absolute, printable ASCII
/// without spaces or `#`, a query allowed.
fn web_path(c: &Check, path: String) -> Result<String, String> {
    if !path.starts_with('/')
        || path.len() > 1024
        || !path.bytes().all(|b| b.is_ascii_graphic() && b != b'#')
    {
        return Err(c.err(
            "web.pages.path",
            format_args!(
                "{path:?} should start with / and be at most 1024 bytes of printable \
                 ASCII without spaces or # (percent-encode the rest)"
            ),
        ));
    }
    Ok(path)
}

/// Header lines: names are tokens (RFC 9110) and not the service's own, values have
/// no control characters but tab (no CR or LF: no header of the profile's making).
fn headers(
    c: &Check,
    field: &str,
    list: Vec<(String, String)>,
) -> Result<Vec<(String, String)>, String> {
    if list.len() > MAX_HEADERS {
        return Err(c.err(
            field,
            format_args!("{} headers; at most {MAX_HEADERS}", list.len()),
        ));
    }
    let mut out = Vec::with_capacity(list.len());
    for (name, value) in list {
        let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        if name.is_empty() || name.len() > 64 || !name.bytes().all(token) {
            return Err(c.err(
                field,
                format_args!(
                    "{name:?} should be a header name: 1 to 64 letters, digits or !#$%&'*+-.^_`|~"
                ),
            ));
        }
        if RESERVED_HEADERS
            .iter()
            .any(|r| name.eq_ignore_ascii_case(r))
        {
            return Err(c.err(
                field,
                format_args!("{name} is written by the HTTP service (server and content_type set the Server and Content-Type headers)"),
            ));
        }
        let value = header_value(c, &format!("{field} ({name})"), value)?;
        out.push((name, value));
    }
    Ok(out)
}

/// A header's value: at most 4096 bytes, no control characters but tab, no leading or
/// trailing whitespace.
fn header_value(c: &Check, field: &str, value: String) -> Result<String, String> {
    if value.len() > 4096
        || value.chars().any(|ch| ch.is_control() && ch != '\t')
        || value.trim() != value
    {
        return Err(c.err(
            field,
            format_args!(
                "{value:?} should be a header value: at most 4096 bytes, no line breaks or \
                 other control characters, no space at either end"
            ),
        ));
    }
    Ok(value)
}

/// Decodes standard base64 (RFC 4648 section 4), skipping whitespace so that a long body
/// can be wrapped over lines; the final `=` padding may be left out. Written here rather
/// than taken from a crate: favicons in profiles are all it decodes.
fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    let (mut symbols, mut pad) = (0usize, 0usize);
    for (at, b) in text.bytes().enumerate() {
        if b.is_ascii_whitespace() {
            continue;
        }
        if b == b'=' {
            pad += 1;
            continue;
        }
        if pad > 0 {
            return Err(format!("data after the = padding, at byte {at}"));
        }
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => {
                return Err(format!(
                    "{:?} at byte {at} is not base64 (A-Z a-z 0-9 + /)",
                    char::from(b)
                ))
            }
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        symbols += 1;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if symbols % 4 == 1 {
        return Err("truncated: one character too many or too few".into());
    }
    if pad > 2 || (pad > 0 && (symbols + pad) % 4 != 0) {
        return Err("wrong = padding".into());
    }
    if acc != 0 {
        return Err("stray bits after the last byte (truncated?)".into());
    }
    Ok(out)
}

/// Adds `path` and every directory above it.
fn add_with_parents(dirs: &mut BTreeSet<String>, path: &str) {
    let mut p = path;
    while !p.is_empty() && dirs.insert(p.to_string()) {
        p = match p.rsplit_once('/') {
            Some((parent, _)) => parent,
            None => "",
        };
    }
}

/// Words separated by single spaces.
fn squeeze(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every bare `\n` as `\r\n`.
fn crlf(text: String) -> String {
    if !text.contains('\n') {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut prev = '\0';
    for ch in text.chars() {
        if ch == '\n' && prev != '\r' {
            out.push('\r');
        }
        out.push(ch);
        prev = ch;
    }
    out
}

/// `template` with each `{name}` replaced by its value, in one pass (a value that holds
/// a placeholder stays as it is).
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let hit = after.find('}').and_then(|close| {
            let name = &after[..close];
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (close, *v))
        });
        match hit {
            Some((close, value)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dvr() -> &'static Profile {
        Profile::builtin_named("dvr").unwrap()
    }

    #[test]
    fn every_builtin_parses() {
        for (name, text) in BUILTIN {
            if let Err(e) = Profile::parse(name, text) {
                panic!("{e}");
            }
        }
        let names: Vec<_> = Profile::builtin().iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["busybox", "dvr", "ipcam", "router"]);
        assert_eq!(Profile::builtin_names(), "busybox, dvr, ipcam, router");
        let arch = |n| Profile::builtin_named(n).unwrap().arch;
        assert_eq!(arch("dvr"), Arch::Armv7);
        assert_eq!(arch("ipcam"), Arch::Mipsel);
        assert_eq!(arch("router"), Arch::Mips);
        assert_eq!(arch("busybox"), Arch::Arm);
        assert!(Profile::builtin_named("toaster").is_none());
    }

    #[test]
    fn builtin_files_stay_small() {
        // 400 lines: about 250 for the Telnet side and the filesystem, about 110 for the
        // web UI ([web]: a login page, a few of the UI's paths, a favicon, the error
        // pages), with room for a few more of either.
        for (name, text) in BUILTIN {
            assert!(text.lines().count() <= 400, "{name}");
        }
    }

    /// What bots rely on, in every built-in profile.
    #[test]
    fn builtins_are_consistent() {
        let needed = [
            "sh", "echo", "cat", "cp", "mv", "rm", "chmod", "pwd", "ls", "mkdir", "dd", "head",
            "ps", "kill", "uname", "free", "df", "mount", "ftpget", "nc",
        ];
        // Mirai's loader uses wget, else tftp, else echo: the DVR has neither, so it is
        // the one that gets the echoed dropper; the others have both.
        let no_fetchers: Vec<&str> = Profile::builtin()
            .iter()
            .filter(|p| !p.has_applet("wget") && !p.has_applet("tftp"))
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(no_fetchers, ["dvr"]);
        let mut without_nproc = 0;
        for p in Profile::builtin() {
            let n = &p.name;
            for a in needed {
                assert!(p.has_applet(a), "{n}: applet {a}");
            }
            if n != "dvr" {
                assert!(p.has_applet("wget") && p.has_applet("tftp"), "{n}");
            }
            if !p.has_applet("nproc") {
                without_nproc += 1;
            }
            assert!(!p.has_applet("curl"), "{n}: curl is not an applet");
            assert!(!p.has_applet("cd"), "{n}: cd is a builtin");
            assert!(p.busybox.banner.starts_with("BusyBox v"), "{n}");
            assert!(p.busybox.banner.ends_with("multi-call binary."), "{n}");
            assert!(
                !p.telnet.offer.is_empty(),
                "{n}: Mirai waits for negotiation"
            );
            assert_eq!(p.user, "root", "{n}");

            // A read-only root and a writable tmpfs, for Mirai's loader.
            let mounts: Vec<Vec<&str>> = p
                .proc
                .mounts
                .lines()
                .map(|l| l.split_whitespace().collect())
                .collect();
            assert!(mounts.iter().all(|m| m.len() == 6), "{n}: mounts lines");
            assert!(
                mounts.iter().any(|m| m[1] == "/"
                    && ["squashfs", "cramfs"].contains(&m[2])
                    && m[3].starts_with("ro")),
                "{n}: read-only root"
            );
            assert!(
                mounts
                    .iter()
                    .any(|m| m[2] == "tmpfs" && m[3].starts_with("rw") && m[1] != "/dev"),
                "{n}: writable tmpfs"
            );
            for m in &mounts {
                assert!(
                    m[1] == "/" || p.dirs.iter().any(|d| d == m[1]),
                    "{n}: mount point {} is not a directory",
                    m[1]
                );
            }

            // The CPU agrees with itself.
            let (cpu, machine): (&str, &[&str]) = match p.arch {
                Arch::Armv7 => ("ARMv7", &["armv7l"]),
                Arch::Arm => ("(v5l)", &["armv5tejl", "armv5tel"]),
                Arch::Mips | Arch::Mipsel => ("cpu model", &["mips"]),
                other => panic!("{n}: no check for {other:?}"),
            };
            assert!(p.proc.cpuinfo.contains(cpu), "{n}: cpuinfo");
            assert!(machine.contains(&p.uname.machine.as_str()), "{n}: machine");
            assert_eq!(p.uname.sysname, "Linux");

            // Memory agrees between meminfo and free.
            let total = p
                .proc
                .meminfo
                .lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next())
                .unwrap();
            let free_total = p
                .free
                .lines()
                .find_map(|l| l.trim().strip_prefix("Mem:"))
                .and_then(|v| v.split_whitespace().next())
                .unwrap();
            assert_eq!(total, free_total, "{n}: MemTotal");

            // The filesystem.
            for d in [
                "/bin", "/sbin", "/dev", "/etc", "/home", "/mnt", "/proc", "/root", "/tmp",
                "/usr/bin", "/var",
            ] {
                assert!(p.dirs.iter().any(|x| x == d), "{n}: dir {d}");
            }
            let passwd = &p.file("/etc/passwd").expect("passwd").content;
            assert!(passwd.starts_with("root:"), "{n}: passwd");
            let hostname = &p.file("/etc/hostname").expect("hostname").content;
            assert_eq!(hostname.trim(), p.hostname, "{n}: /etc/hostname");
            let rcs = p.file("/etc/init.d/rcS").expect("rcS");
            assert_eq!(rcs.mode, 0o755, "{n}: rcS mode");
            for f in &p.files {
                assert!(
                    f.content.is_empty() || f.content.ends_with('\n'),
                    "{}",
                    f.path
                );
            }

            assert!(p.ps.starts_with("  PID"), "{n}: ps header");
            assert!(p.df.starts_with("Filesystem"), "{n}: df header");
        }
        assert_eq!(without_nproc, 1, "one old BusyBox without nproc");
        assert!(!dvr().has_applet("nproc"));
        assert!(dvr().ps.contains("Sofia"));
        assert!(dvr().dirs.iter().any(|d| d == "/mnt/mtd/Config"));
    }

    #[test]
    fn router_has_a_vendor_cli() {
        let r = Profile::builtin_named("router").unwrap();
        let cli = r.cli.as_ref().unwrap();
        for w in ["enable", "system", "shell", "sh", "linuxshell"] {
            assert_eq!(cli.answer(w), CliAnswer::Shell, "{w}");
        }
        assert_eq!(cli.answer("  exit "), CliAnswer::Exit);
        assert_eq!(cli.answer(""), CliAnswer::Reply(String::new()));
        match cli.answer("cd /tmp") {
            CliAnswer::Reply(r) => assert!(r.contains("Unknown command"), "{r}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(cli.answer("help"), CliAnswer::Reply(r) if !r.is_empty()));
        for p in Profile::builtin() {
            assert_eq!(p.cli.is_some(), p.name == "router", "{}", p.name);
        }
    }

    #[test]
    fn prompts_fill_in() {
        let mut p = dvr().clone();
        p.prompt = "[{user}@{hostname} {cwd}]# ".into();
        p.hostname = "cam".into();
        assert_eq!(p.prompt_for("root", "/tmp"), "[root@cam /tmp]# ");
        // A value holding a placeholder is not filled again.
        assert_eq!(p.prompt_for("{hostname}", "~"), "[{hostname}@cam ~]# ");
        assert_eq!(fill("{a", &[("a", "x")]), "{a");
        assert_eq!(fill("}{}{b}", &[("b", "x")]), "}{}x");
    }

    #[test]
    fn telnet_texts_get_crlf() {
        assert_eq!(crlf("a\nb\r\nc".into()), "a\r\nb\r\nc");
        let p = dvr();
        assert!(!p.telnet.login_incorrect.replace("\r\n", "").contains('\n'));
        assert!(p.telnet.login_incorrect.ends_with("\r\n"));
    }

    /// A small valid profile, to break one field at a time.
    const MINIMAL: &str = r##"
description = "test box"
hostname = "box"
prompt = "# "
arch = "x86_64"
dirs = ["/tmp"]

[telnet]
offer = ["WILL ECHO", "will sga", "DO 31", "DONT NEW-ENVIRON"]
login_prompt = "login: "
password_prompt = "Password: "
login_incorrect = "Login incorrect\n"

[busybox]
banner = "BusyBox v1.0 multi-call binary."
applets = ["sh", "ls", "echo", "ls"]

[uname]
sysname = "Linux"
release = "4.4.0"
version = "#1 SMP"
machine = "x86_64"

[proc]
mounts = "tmpfs /tmp tmpfs rw 0 0\n"
cpuinfo = "processor : 0\n"
meminfo = "MemTotal: 1 kB\n"

[output]
free = ""
df = ""
ps = ""

[[files]]
path = "/etc/a/b"
content = "x\n"
mode = "0755"

[[files]]
path = "/bin/x"
mode = 0o4711

[[files]]
path = "/c"
"##;

    #[test]
    fn minimal_parses() {
        let p = Profile::parse("mini", MINIMAL).unwrap();
        assert_eq!(p.name, "mini");
        assert_eq!(p.user, "root");
        assert_eq!(p.busybox.applets, ["echo", "ls", "sh"]);
        assert!(p.has_applet("ls") && !p.has_applet("wget"));
        assert!(!p.has_program("curl"));
        assert_eq!(
            p.telnet.offer,
            [
                Negotiation {
                    command: code::WILL,
                    option: code::ECHO
                },
                Negotiation {
                    command: code::WILL,
                    option: code::SGA
                },
                Negotiation {
                    command: code::DO,
                    option: code::NAWS
                },
                Negotiation {
                    command: code::DONT,
                    option: code::NEW_ENVIRON
                },
            ]
        );
        assert_eq!(p.telnet.login_incorrect, "Login incorrect\r\n");
        assert_eq!(p.dirs, ["/bin", "/etc", "/etc/a", "/tmp"]);
        let modes: Vec<_> = p.files.iter().map(|f| (f.path.as_str(), f.mode)).collect();
        assert_eq!(
            modes,
            [("/bin/x", 0o4711), ("/c", 0o644), ("/etc/a/b", 0o755)]
        );
        assert_eq!(p.file("/etc/a/b").unwrap().content, "x\n");
        assert!(p.file("/etc/a").is_none());
        assert!(p.cli.is_none());
    }

    /// `MINIMAL` with `from` replaced by `to` must fail with a message holding `want`.
    fn fails(from: &str, to: &str, want: &[&str]) {
        assert!(MINIMAL.contains(from), "{from}");
        let text = MINIMAL.replacen(from, to, 1);
        let e = Profile::parse("mini", &text).expect_err(to);
        assert!(e.starts_with("profile mini.toml: "), "{e}");
        for w in want {
            assert!(e.contains(w), "{e:?} lacks {w:?}");
        }
    }

    #[test]
    fn errors_name_the_field() {
        fails(
            "arch = \"x86_64\"",
            "arch = \"vax\"",
            &["`arch`", "vax", "mipsel"],
        );
        fails("\"DO 31\"", "\"DO 256\"", &["telnet.offer", "DO 256"]);
        fails("\"DO 31\"", "\"MAYBE ECHO\"", &["telnet.offer"]);
        fails("\"DO 31\"", "\"DO ECHO SGA\"", &["telnet.offer"]);
        fails("\"DO 31\"", "\"DO FOO\"", &["telnet.offer"]);
        fails(
            "dirs = [\"/tmp\"]",
            "dirs = [\"tmp\"]",
            &["`dirs`", "absolute"],
        );
        fails(
            "dirs = [\"/tmp\"]",
            "dirs = [\"/a/../b\"]",
            &["`dirs`", ".."],
        );
        fails(
            "dirs = [\"/tmp\"]",
            "dirs = [\"/a//b\"]",
            &["`dirs`", "empty"],
        );
        fails("dirs = [\"/tmp\"]", "dirs = [\"/c\"]", &["/c", "both"]);
        fails("dirs = [\"/tmp\"]", "dirs = [\"/c/d\"]", &["/c", "both"]);
        fails(
            "path = \"/c\"",
            "path = \"/bin/x\"",
            &["files.path", "twice"],
        );
        fails("path = \"/c\"", "path = \"/\"", &["files.path", "root"]);
        fails("path = \"/c\"", "path = \"/proc/cpuinfo\"", &["[proc]"]);
        fails(
            "mode = \"0755\"",
            "mode = \"0789\"",
            &["files.mode of /etc/a/b"],
        );
        fails("mode = \"0755\"", "mode = \"\"", &["files.mode"]);
        fails("mode = \"0755\"", "mode = -1", &["files.mode"]);
        fails("mode = \"0755\"", "mode = 0o17777", &["files.mode"]);
        fails("mode = \"0755\"", "mode = true", &["files.mode"]);
        fails("prompt = \"# \"", "prompt = \"\"", &["`prompt`", "empty"]);
        fails(
            "prompt = \"# \"",
            "prompt = \"{host} # \"",
            &["`prompt`", "{hostname}"],
        );
        fails("prompt = \"# \"", "prompt = \"{cwd # \"", &["`prompt`"]);
        fails("\"sh\", ", "", &["busybox.applets", "sh"]);
        fails(
            "\"ls\", \"echo\"",
            "\"l s\", \"echo\"",
            &["busybox.applets"],
        );
        fails("hostname = \"box\"", "hostname = \"a b\"", &["`hostname`"]);
        fails(
            "hostname = \"box\"",
            "hostname = \"a\\nb\"",
            &["`hostname`"],
        );
        fails(
            "login_prompt = \"login: \"",
            "login_prompt = \"\"",
            &["telnet.login_prompt"],
        );
        fails("release = \"4.4.0\"", "release = \"\"", &["uname.release"]);
        // Unknown and missing fields: toml's own message, which names them.
        fails(
            "description = ",
            "colour = \"red\"\ndescription = ",
            &["colour"],
        );
        fails("[output]\nfree = \"\"\n", "[output]\n", &["free"]);
        fails("sysname = \"Linux\"", "sysname = 3", &["sysname"]);
        // Oversized text.
        let big = format!("content = \"{}\"", "x".repeat(MAX_TEXT + 1));
        fails(
            "content = \"x\\n\"",
            &big,
            &["files.content of /etc/a/b", "65536"],
        );
    }

    #[test]
    fn cli_is_checked() {
        let with = |cli: &str| Profile::parse("mini", &format!("{MINIMAL}\n{cli}"));
        let ok = with(
            "[cli]\nprompt = \"WAP>\"\nto_shell = [\"su\", \"sh\"]\nunknown = \"{command}: no\\n\"\n\
             exit_words = [\"quit\"]\n[cli.replies]\n\"show  ver\" = \"1.0\\n\"\n",
        )
        .unwrap();
        let cli = ok.cli.unwrap();
        assert_eq!(cli.answer("show ver"), CliAnswer::Reply("1.0\n".into()));
        assert_eq!(
            cli.answer("\tshow   ver "),
            CliAnswer::Reply("1.0\n".into())
        );
        assert_eq!(cli.answer("ls  -l"), CliAnswer::Reply("ls -l: no\n".into()));
        assert_eq!(cli.answer("su"), CliAnswer::Shell);
        assert_eq!(cli.answer("quit"), CliAnswer::Exit);

        let e = with("[cli]\nprompt = \"\"\nto_shell = [\"sh\"]\nunknown = \"\"\n").unwrap_err();
        assert!(e.contains("cli.prompt"), "{e}");
        let e = with("[cli]\nprompt = \">\"\nto_shell = []\nunknown = \"\"\n").unwrap_err();
        assert!(e.contains("cli.to_shell"), "{e}");
        let e =
            with("[cli]\nprompt = \">\"\nto_shell = [\"sh\"]\nunknown = \"{cmd}\"\n").unwrap_err();
        assert!(e.contains("cli.unknown"), "{e}");
        let e = with(
            "[cli]\nprompt = \">\"\nto_shell = [\"sh\"]\nexit_words = [\"sh\"]\nunknown = \"\"\n",
        )
        .unwrap_err();
        assert!(e.contains("cli.exit_words"), "{e}");
        let e = with(
            "[cli]\nprompt = \">\"\nto_shell = [\"sh\"]\nunknown = \"\"\n[cli.replies]\nsh = \"x\"\n",
        )
        .unwrap_err();
        assert!(e.contains("cli.replies"), "{e}");
        let e = with(
            "[cli]\nprompt = \">\"\nto_shell = [\"sh\"]\nunknown = \"\"\n[cli.replies]\n\"a b\" = \"x\"\n\"a  b\" = \"y\"\n",
        )
        .unwrap_err();
        assert!(e.contains("twice"), "{e}");
    }

    /// Whether `data` is an ICO file: the header (reserved 0, type 1), at least one
    /// entry, and each entry's image inside the file, a BMP header or a PNG.
    fn is_ico(data: &[u8]) -> bool {
        let u16_at = |i: usize| u16::from_le_bytes([data[i], data[i + 1]]);
        let u32_at = |i: usize| u32::from_le_bytes(data[i..i + 4].try_into().unwrap());
        if data.len() < 6 || data[..4] != [0, 0, 1, 0] {
            return false;
        }
        let count = usize::from(u16_at(4));
        if count == 0 || data.len() < 6 + 16 * count {
            return false;
        }
        (0..count).all(|k| {
            let entry = 6 + 16 * k;
            let (size, offset) = (u32_at(entry + 8) as usize, u32_at(entry + 12) as usize);
            offset >= 6 + 16 * count
                && size >= 40
                && offset + size <= data.len()
                && (u32_at(offset) == 40 || data[offset..].starts_with(b"\x89PNG"))
        })
    }

    #[test]
    fn builtins_have_a_web_ui() {
        for p in Profile::builtin() {
            let n = &p.name;
            let w = &p.web;
            assert!(w.server.is_some(), "{n}: Server");
            assert!(
                w.pages.windows(2).all(|x| x[0].path < x[1].path),
                "{n}: pages sorted"
            );
            let root = p.web_page("/").expect("/");
            assert!(
                root.status == 200 || root.headers.iter().any(|(h, _)| h == "Location"),
                "{n}: / is a page or a redirect"
            );
            let login = match root.headers.iter().find(|(h, _)| h == "Location") {
                Some((_, to)) => p.web_page(to).expect("where / redirects"),
                None => root,
            };
            let html = String::from_utf8_lossy(&login.body);
            assert_eq!(login.status, 200, "{n}: the login page");
            let lower = html.to_ascii_lowercase();
            assert!(lower.contains("<title>"), "{n}: a title");
            assert!(
                n == "ipcam" || lower.contains("password"),
                "{n}: a password field"
            );
            let icon = p.web_page("/favicon.ico").expect("favicon");
            assert_eq!(icon.status, 200, "{n}");
            assert_eq!(icon.content_type, "image/x-icon", "{n}");
            assert!(is_ico(&icon.body), "{n}: favicon is not an ICO");
            assert!(!icon.auth, "{n}: favicon behind the realm");
            let robots = p.web_page("/robots.txt").expect("robots.txt");
            assert!(robots.body.starts_with(b"User-agent: *\n"), "{n}");
            assert!(!robots.auth, "{n}");
            assert_eq!(w.not_found.status, 404, "{n}");
            assert_eq!(w.bad_request.status, 400, "{n}");
            assert_eq!(w.not_found.path, "", "{n}");
            assert!(!w.not_found.body.is_empty() && !w.bad_request.body.is_empty());
            assert!(w.pages.len() >= 5, "{n}: / and 2 to 4 of the UI's paths");
            assert!(p.web_page("/nothing-here").is_none());
            // Only the camera asks for a password, and uses it.
            assert_eq!(w.basic_realm.is_some(), n == "ipcam", "{n}");
            assert_eq!(w.pages.iter().any(|pg| pg.auth), n == "ipcam", "{n}");
        }
        let server = |n| {
            Profile::builtin_named(n)
                .unwrap()
                .web
                .server
                .clone()
                .unwrap()
        };
        assert_eq!(server("dvr"), "uc-httpd 1.0.0");
        assert!(server("router").contains("ZTE"));
        assert!(server("busybox").starts_with("lighttpd/1.4."));
        let router = Profile::builtin_named("router").unwrap();
        assert!(router.web_page("/getpage.gch?pid=1002").is_some());
        assert!(router.web_page("/getpage.gch").is_none());
        let cam = Profile::builtin_named("ipcam").unwrap();
        assert!(cam.web_page("/cgi-bin/hi3510/param.cgi").unwrap().auth);
        // The Buildroot box's lighttpd runs, as its web UI says.
        let bb = Profile::builtin_named("busybox").unwrap();
        assert!(bb.ps.contains("lighttpd") && bb.has_program("lighttpd"));
    }

    /// `web` as a `[web]` table, every body as base64: what a profile would say.
    fn web_toml(web: &WebLook) -> String {
        use toml::{Table, Value};
        fn headers(list: &[(String, String)]) -> Value {
            Value::Array(
                list.iter()
                    .map(|(n, v)| Value::Array(vec![n.clone().into(), v.clone().into()]))
                    .collect(),
            )
        }
        fn encode(data: &[u8]) -> String {
            const ABC: &[u8; 64] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            let mut out = String::new();
            for chunk in data.chunks(3) {
                let b = [
                    chunk[0],
                    *chunk.get(1).unwrap_or(&0),
                    *chunk.get(2).unwrap_or(&0),
                ];
                let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
                for i in 0..4 {
                    if i <= chunk.len() {
                        out.push(char::from(ABC[(n >> (18 - 6 * i) & 63) as usize]));
                    } else {
                        out.push('=');
                    }
                }
            }
            out
        }
        let page = |p: &WebPage, with_path: bool| {
            let mut t = Table::new();
            if with_path {
                t.insert("path".into(), p.path.clone().into());
                t.insert("auth".into(), p.auth.into());
            }
            t.insert("status".into(), i64::from(p.status).into());
            t.insert("content_type".into(), p.content_type.clone().into());
            t.insert("headers".into(), headers(&p.headers));
            t.insert("body_base64".into(), encode(&p.body).into());
            Value::Table(t)
        };
        let mut t = Table::new();
        if let Some(s) = &web.server {
            t.insert("server".into(), s.clone().into());
        }
        if let Some(r) = &web.basic_realm {
            t.insert("basic_realm".into(), r.clone().into());
        }
        t.insert("headers".into(), headers(&web.headers));
        // Reversed: the order in the file does not matter.
        let pages = web.pages.iter().rev().map(|p| page(p, true)).collect();
        t.insert("pages".into(), Value::Array(pages));
        t.insert("not_found".into(), page(&web.not_found, false));
        t.insert("bad_request".into(), page(&web.bad_request, false));
        let mut doc = Table::new();
        doc.insert("web".into(), Value::Table(t));
        toml::to_string(&doc).unwrap()
    }

    #[test]
    fn web_round_trips() {
        for p in Profile::builtin() {
            let text = format!("{MINIMAL}\n{}", web_toml(&p.web));
            let again = Profile::parse("mini", &text).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(again.web, p.web, "{}", p.name);
        }
        // Without a [web] table: the plain look.
        let p = Profile::parse("mini", MINIMAL).unwrap();
        assert_eq!(p.web, WebLook::plain());
        assert_eq!(p.web.not_found.status, 404);
        assert_eq!(p.web.server, None);
        assert!(p.web_page("/").is_none());
    }

    /// A `[web]` table for `MINIMAL`, to break one field at a time.
    const WEB: &str = r#"
[web]
server = "Boa/0.94.13"
headers = [["X-Frame-Options", "DENY"], ["X-A", "1"]]
basic_realm = "cam"

[[web.pages]]
path = "/login.asp"
content_type = "text/html"
headers = [["Set-Cookie", "a=1"], ["Set-Cookie", "b=2"]]
body = "<p>hi</p>\n"

[[web.pages]]
path = "/"
status = 302
content_type = "text/html"
headers = [["Location", "/login.asp"]]

[[web.pages]]
path = "/favicon.ico"
content_type = "image/x-icon"
body_base64 = """
AAAB
AAI="""

[[web.pages]]
path = "/cgi-bin/a.cgi?x=1"
status = 200
content_type = "text/plain"
auth = true
body = "ok"

[web.not_found]
status = 404
content_type = "text/html"
body = "nf"

[web.bad_request]
status = 400
content_type = "text/html"
"#;

    #[test]
    fn web_section_parses() {
        let p = Profile::parse("mini", &format!("{MINIMAL}{WEB}")).unwrap();
        let w = &p.web;
        assert_eq!(w.server.as_deref(), Some("Boa/0.94.13"));
        assert_eq!(w.basic_realm.as_deref(), Some("cam"));
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            w.headers,
            [pair("X-Frame-Options", "DENY"), pair("X-A", "1")]
        );
        let paths: Vec<_> = w.pages.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            ["/", "/cgi-bin/a.cgi?x=1", "/favicon.ico", "/login.asp"]
        );
        let login = p.web_page("/login.asp").unwrap();
        assert_eq!(login.status, 200);
        assert_eq!(login.body, b"<p>hi</p>\n");
        assert_eq!(
            login.headers,
            [pair("Set-Cookie", "a=1"), pair("Set-Cookie", "b=2")]
        );
        assert!(!login.auth);
        let root = p.web_page("/").unwrap();
        assert_eq!((root.status, root.body.len()), (302, 0));
        assert_eq!(p.web_page("/favicon.ico").unwrap().body, [0, 0, 1, 0, 2]);
        assert!(p.web_page("/cgi-bin/a.cgi?x=1").unwrap().auth);
        assert!(p.web_page("/cgi-bin/a.cgi").is_none());
        assert_eq!(w.not_found.body, b"nf");
        assert_eq!(
            (w.bad_request.status, w.bad_request.path.as_str()),
            (400, "")
        );
        assert!(w.bad_request.body.is_empty());
    }

    /// `MINIMAL` + `WEB` with `from` replaced by `to` must fail with a message holding
    /// `want`.
    fn web_fails(from: &str, to: &str, want: &[&str]) {
        assert!(WEB.contains(from), "{from}");
        let text = format!("{MINIMAL}{}", WEB.replacen(from, to, 1));
        let e = Profile::parse("mini", &text).expect_err(to);
        assert!(e.starts_with("profile mini.toml: "), "{e}");
        for w in want {
            assert!(e.contains(w), "{e:?} lacks {w:?}");
        }
    }

    #[test]
    fn web_errors_name_the_field() {
        let login = "path = \"/login.asp\"";
        web_fails(
            login,
            "path = \"login.asp\"",
            &["web.pages.path", "start with /"],
        );
        web_fails(login, "path = \"\"", &["web.pages.path"]);
        web_fails(login, "path = \"/a b\"", &["web.pages.path"]);
        web_fails(login, "path = \"/a#b\"", &["web.pages.path"]);
        web_fails(login, "path = \"/\u{e9}\"", &["web.pages.path"]);
        web_fails(
            login,
            "path = \"/favicon.ico\"",
            &["web.pages.path", "twice"],
        );
        web_fails(
            "status = 302",
            "status = 99",
            &["web.pages.status of /", "99"],
        );
        web_fails("status = 302", "status = 600", &["web.pages.status of /"]);
        web_fails("status = 302", "status = 70000", &["web.pages.status of /"]);
        web_fails(
            "headers = [[\"Location\", \"/login.asp\"]]",
            "headers = []",
            &["web.pages.headers of /", "Location"],
        );
        web_fails(
            "headers = [[\"Location\", \"/login.asp\"]]",
            "headers = [[\"Location\", \"\"]]",
            &["web.pages.headers of /", "Location"],
        );
        web_fails("status = 404", "status = 0", &["web.not_found.status"]);
        web_fails("status = 400", "status = -400", &["web.bad_request.status"]);
        web_fails(
            "content_type = \"text/plain\"",
            "content_type = \"\"",
            &["web.pages.content_type of /cgi-bin/a.cgi?x=1", "empty"],
        );
        web_fails(
            "content_type = \"text/plain\"",
            "content_type = \"text/plain\\r\\nX-Evil: 1\"",
            &["web.pages.content_type of /cgi-bin/a.cgi?x=1"],
        );
        web_fails(
            "[\"X-A\", \"1\"]",
            "[\"X-A\", \"1\\r\\nX-Evil: 1\"]",
            &["web.headers (X-A)"],
        );
        web_fails(
            "[\"X-A\", \"1\"]",
            "[\"X-A\", \"1\\nSet-Cookie: x\"]",
            &["web.headers"],
        );
        web_fails(
            "[\"X-A\", \"1\"]",
            "[\"X-A\", \"a\\u0000\"]",
            &["web.headers"],
        );
        web_fails(
            "[\"X-A\", \"1\"]",
            "[\"X A\", \"1\"]",
            &["web.headers", "header name"],
        );
        web_fails(
            "[\"X-A\", \"1\"]",
            "[\"X:A\", \"1\"]",
            &["web.headers", "header name"],
        );
        web_fails("[\"X-A\", \"1\"]", "[\"\", \"1\"]", &["web.headers"]);
        web_fails("[\"X-A\", \"1\"]", "[\"X-A\"]", &["headers"]);
        web_fails(
            "[\"X-A\", \"1\"]",
            "[\"content-length\", \"1\"]",
            &["web.headers", "content-length"],
        );
        web_fails(
            "[\"Set-Cookie\", \"a=1\"]",
            "[\"Transfer-Encoding\", \"chunked\"]",
            &["web.pages.headers of /login.asp", "Transfer-Encoding"],
        );
        web_fails(
            "[\"X-A\", \"1\"]",
            "[\"Server\", \"x\"]",
            &["web.headers", "Server"],
        );
        let many = vec!["[\"X-A\", \"1\"]"; MAX_HEADERS + 1].join(", ");
        web_fails("[\"X-A\", \"1\"]", &many, &["web.headers", "at most 32"]);
        web_fails(
            "server = \"Boa/0.94.13\"",
            "server = \"\"",
            &["web.server", "empty"],
        );
        web_fails(
            "server = \"Boa/0.94.13\"",
            "server = \"Boa\\r\\nX: y\"",
            &["web.server"],
        );
        web_fails(
            "basic_realm = \"cam\"",
            "basic_realm = \"a\\\"b\"",
            &["web.basic_realm"],
        );
        web_fails(
            "basic_realm = \"cam\"",
            "basic_realm = \"\"",
            &["web.basic_realm"],
        );
        web_fails(
            "basic_realm = \"cam\"",
            "",
            &["web.pages.auth of /cgi-bin/a.cgi?x=1", "basic_realm"],
        );
        web_fails(
            "body = \"ok\"",
            "body = \"ok\"\nbody_base64 = \"AA==\"",
            &["web.pages.body of /cgi-bin/a.cgi?x=1", "not both"],
        );
        web_fails(
            "AAI=",
            "AAI==",
            &["web.pages.body_base64 of /favicon.ico", "padding"],
        );
        web_fails(
            "AAI=",
            "A!I=",
            &["web.pages.body_base64 of /favicon.ico", "'!'"],
        );
        let big = format!("body = \"{}\"", "x".repeat(MAX_TEXT + 1));
        web_fails(
            "body = \"ok\"",
            &big,
            &["web.pages.body of /cgi-bin/a.cgi?x=1", "65536"],
        );
        let big = format!("body_base64 = \"{}\"", "A".repeat((MAX_TEXT + 3) / 3 * 4));
        web_fails(
            "body = \"ok\"",
            &big,
            &["web.pages.body_base64 of /cgi-bin/a.cgi?x=1", "decoded"],
        );
        // Unknown and missing fields: toml's message, which names them.
        web_fails("body = \"nf\"", "body = \"nf\"\npath = \"/x\"", &["path"]);
        web_fails("auth = true", "auth = true\ncolour = 1", &["colour"]);
        web_fails(
            "[web.bad_request]\nstatus = 400\ncontent_type = \"text/html\"\n",
            "",
            &["bad_request"],
        );
        web_fails("content_type = \"image/x-icon\"\n", "", &["content_type"]);
    }

    #[test]
    fn base64_decodes() {
        // RFC 4648's test vectors, with and without padding.
        for (enc, dec) in [
            ("", ""),
            ("Zg==", "f"),
            ("Zm8=", "fo"),
            ("Zm9v", "foo"),
            ("Zm9vYg==", "foob"),
            ("Zm9vYmE=", "fooba"),
            ("Zm9vYmFy", "foobar"),
            ("Zm9vYg", "foob"),
            ("Zm9vYmE", "fooba"),
            (" Zm9v\n YmFy\r\n", "foobar"),
        ] {
            assert_eq!(base64_decode(enc).unwrap(), dec.as_bytes(), "{enc:?}");
        }
        assert_eq!(base64_decode("+/8=").unwrap(), [0xfb, 0xff]);
        assert_eq!(base64_decode("AAEC/w==").unwrap(), [0, 1, 2, 255]);
        for bad in [
            "Z", "Zm9vY", "Zg=", "Zg===", "Zm=9", "Zh==", "Zm9v-A==", "Zm9v_A==", "\u{e9}",
        ] {
            assert!(base64_decode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for text in [
            "",
            "\0",
            "[[[",
            "description = 1",
            "files = 3",
            "\u{feff}x = ",
        ] {
            assert!(Profile::parse("x", text).is_err());
        }
        assert!(Profile::parse("", MINIMAL).is_err());
        assert!(Profile::parse("a/b", MINIMAL).is_err());
        // Every prefix of a real profile.
        let (_, text) = BUILTIN[1];
        for end in (0..text.len()).step_by(97) {
            if text.is_char_boundary(end) {
                let _ = Profile::parse("dvr", &text[..end]);
            }
        }
    }

    #[test]
    fn load_dir_reads_toml_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.toml"), MINIMAL).unwrap();
        std::fs::write(dir.path().join("a.toml"), BUILTIN[0].1).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a profile").unwrap();
        std::fs::create_dir(dir.path().join("sub.toml")).unwrap();
        let got = load_dir(dir.path()).unwrap();
        let names: Vec<_> = got.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);

        let bad = MINIMAL.replace("\"DO 31\"", "\"DO NOTHING\"");
        std::fs::write(dir.path().join("c.toml"), bad).unwrap();
        let e = load_dir(dir.path()).unwrap_err();
        assert!(e.contains("c.toml") && e.contains("telnet.offer"), "{e}");

        let e = load_dir(&dir.path().join("missing")).unwrap_err();
        assert!(e.contains("missing"), "{e}");
        assert_eq!(load_dir(tempfile::tempdir().unwrap().path()).unwrap(), []);
    }
}
