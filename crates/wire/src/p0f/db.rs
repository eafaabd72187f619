//! A p0f v3 signature database: the `p0f.fp` format, read into labelled TCP signatures
//! (`[tcp:request]`, `[tcp:response]`) and link MTUs (`[mtu]`).
//!
//! The format is line-based: `classes = win,unix,other`, section headers, then
//! `label = T:CLASS:NAME:FLAVOR` followed by its `sig = …` lines (and, for an application
//! label with class `!`, a `sys = …` line first). `;` starts a comment line. HTTP sections
//! are read past and counted, not used: honeyscope fingerprints TCP handshakes.
//! Errors name the line, as p0f's do, and loading stops at the first one, as p0f's does.

use super::packet::Direction;
use super::sig::{SigError, TcpSig};
use super::text::{display_via_push_text, PushText};

/// What a signature's label says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// `g`: a generic signature, tried after every specific one.
    pub generic: bool,
    /// The class (`unix`, `win`, …); `None` for an application label (`!`), such as a
    /// scanner's.
    pub class: Option<String>,
    /// OS or application name (`Linux`), spelled as first registered.
    pub name: String,
    /// Version or detail (`3.11 and newer`), if any.
    pub flavor: Option<String>,
}

impl Label {
    /// Whether this labels an application (class `!`) rather than an OS.
    pub fn is_app(&self) -> bool {
        self.class.is_none()
    }
}

impl PushText for Label {
    /// `name flavor`, as p0f prints it after `os =`.
    fn push_text(&self, out: &mut String) {
        out.push_str(&self.name);
        if let Some(fl) = &self.flavor {
            out.push(' ');
            out.push_str(fl);
        }
    }
}

display_via_push_text!(Label);

/// A TCP signature with its label and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The signature.
    pub sig: TcpSig,
    /// Index into [`Database::labels`].
    pub label: usize,
    /// Line number in the file (from 1).
    pub line: usize,
}

/// A loaded database.
#[derive(Debug, Clone, Default)]
pub struct Database {
    /// OS classes declared by `classes =`.
    pub classes: Vec<String>,
    /// Every label, in file order.
    pub labels: Vec<Label>,
    /// `[tcp:request]` signatures in file order.
    pub requests: Vec<Entry>,
    /// `[tcp:response]` signatures in file order.
    pub responses: Vec<Entry>,
    /// `[mtu]`: (MTU, link name), in file order.
    pub mtus: Vec<(u16, String)>,
    /// `sig` lines in sections honeyscope does not use (`[http:*]`).
    pub skipped_sigs: usize,
}

/// Why a database does not load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {what}")]
pub struct DbError {
    /// Line number (from 1).
    pub line: usize,
    /// What is wrong.
    pub what: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    None,
    Mtu,
    Tcp(Direction),
    Http,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    Section,
    Label,
    Sys,
    Sig,
}

/// Characters p0f allows in names besides letters and digits.
const NAME_CHARS: &str = " ./-_!?()";

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || NAME_CHARS.contains(c))
}

impl Database {
    /// The signatures for one direction.
    pub fn sigs(&self, direction: Direction) -> &[Entry] {
        match direction {
            Direction::Request => &self.requests,
            Direction::Response => &self.responses,
        }
    }

    /// The label of an entry.
    pub fn label(&self, entry: &Entry) -> &Label {
        &self.labels[entry.label]
    }

    /// The link an MTU is typical of (the first `[mtu]` label listing it).
    pub fn link_for_mtu(&self, mtu: u16) -> Option<&str> {
        self.mtus
            .iter()
            .find(|(m, _)| *m == mtu)
            .map(|(_, name)| name.as_str())
    }

    /// The text of honeyscope's own signature database (`builtin.fp`, p0f v3 format),
    /// written from documented facts about each stack; see `docs/FINGERPRINT.md`.
    pub const BUILTIN_TEXT: &'static str = include_str!("builtin.fp");

    /// honeyscope's own signature database, for when the user names no `p0f.fp`.
    pub fn builtin() -> Database {
        // The file is fixed at build time and tested to parse.
        Database::parse(Self::BUILTIN_TEXT).expect("builtin.fp parses")
    }

    /// Parses a `p0f.fp` file.
    pub fn parse(text: &str) -> Result<Database, DbError> {
        let mut db = Database::default();
        let mut section = Section::None;
        let mut want = Want::Section;
        let mut label: Option<usize> = None;
        // Names compare without case; the first spelling is the one printed.
        let mut names: Vec<String> = Vec::new();
        for (i, raw) in text.split('\n').enumerate() {
            let line_no = i + 1;
            let err = |what: String| DbError {
                line: line_no,
                what,
            };
            let line = raw.trim_start_matches([' ', '\t']);
            if line.is_empty() || line.starts_with(';') {
                continue;
            }
            if let Some(head) = line.strip_prefix('[') {
                section = match head {
                    "mtu]" => Section::Mtu,
                    "tcp:request]" => Section::Tcp(Direction::Request),
                    "tcp:response]" => Section::Tcp(Direction::Response),
                    "http:request]" | "http:response]" => Section::Http,
                    _ => return Err(err(format!("unknown section [{head}"))),
                };
                want = Want::Label;
                label = None;
                continue;
            }
            let key_len = line
                .bytes()
                .take_while(|b| b.is_ascii_alphabetic() || *b == b'_')
                .count();
            let (key, rest) = line.split_at(key_len);
            let Some(value) = rest.trim_start_matches([' ', '\t']).strip_prefix('=') else {
                return Err(err(format!(
                    "unexpected statement {line:?} (want KEY = VALUE)"
                )));
            };
            let value = value.trim_start_matches([' ', '\t']);
            match key {
                "classes" => {
                    if want != Want::Section || section != Section::None {
                        return Err(err("classes must come before the first section".into()));
                    }
                    for c in value.split(',') {
                        let c = c.trim_start_matches([' ', '\t']);
                        if c.is_empty() || !c.bytes().all(|b| b.is_ascii_alphanumeric()) {
                            return Err(err(format!("bad class name {c:?}")));
                        }
                        db.classes.push(c.to_string());
                    }
                }
                "ua_os" => {
                    if section != Section::Http {
                        return Err(err("ua_os outside an [http:*] section".into()));
                    }
                }
                "label" => {
                    if !matches!(want, Want::Label | Want::Sig) {
                        return Err(err(match want {
                            Want::Sys => "an application label needs a sys line first".into(),
                            _ => "label outside a section".into(),
                        }));
                    }
                    if section == Section::Mtu {
                        if value.is_empty() {
                            return Err(err("empty MTU label".into()));
                        }
                        db.labels.push(Label {
                            generic: false,
                            class: Some(String::new()),
                            name: value.to_string(),
                            flavor: None,
                        });
                        label = Some(db.labels.len() - 1);
                        want = Want::Sig;
                        continue;
                    }
                    let l = parse_label(value, &db.classes, &mut names).map_err(err)?;
                    want = if l.is_app() { Want::Sys } else { Want::Sig };
                    db.labels.push(l);
                    label = Some(db.labels.len() - 1);
                }
                "sys" => {
                    if want != Want::Sys {
                        return Err(err("misplaced sys (only after an application label)".into()));
                    }
                    for s in value.split(',') {
                        let s = s.trim_start_matches([' ', '\t']);
                        if let Some(class) = s.strip_prefix('@') {
                            if !db.classes.iter().any(|c| c.eq_ignore_ascii_case(class)) {
                                return Err(err(format!("unknown class {class:?} in sys")));
                            }
                        } else if !is_name(s) {
                            return Err(err(format!("bad system name {s:?}")));
                        }
                    }
                    want = Want::Sig;
                }
                "sig" => {
                    let (Want::Sig, Some(label)) = (want, label) else {
                        return Err(err("misplaced sig (want a label first)".into()));
                    };
                    match section {
                        Section::Mtu => {
                            let mtu = value
                                .parse::<u16>()
                                .ok()
                                .filter(|m| *m >= 1 && value.bytes().all(|b| b.is_ascii_digit()))
                                .ok_or_else(|| err(format!("bad MTU {value:?} (want 1..65535)")))?;
                            db.mtus.push((mtu, db.labels[label].name.clone()));
                        }
                        Section::Tcp(direction) => {
                            let sig: TcpSig =
                                value.parse().map_err(|e: SigError| err(e.to_string()))?;
                            let entry = Entry {
                                sig,
                                label,
                                line: line_no,
                            };
                            if let Some(earlier) = db.covered_by(direction, &entry.sig) {
                                return Err(err(format!(
                                    "signature already covered by line {}",
                                    earlier.line
                                )));
                            }
                            match direction {
                                Direction::Request => db.requests.push(entry),
                                Direction::Response => db.responses.push(entry),
                            }
                        }
                        Section::Http => db.skipped_sigs += 1,
                        Section::None => unreachable!("want is Sig only inside a section"),
                    }
                }
                _ => return Err(err(format!("unknown field {key:?}"))),
            }
        }
        Ok(db)
    }
}

/// `T:CLASS:NAME:FLAVOR`.
fn parse_label(value: &str, classes: &[String], names: &mut Vec<String>) -> Result<Label, String> {
    let bad = || format!("bad label {value:?} (want s|g:CLASS:NAME:FLAVOR)");
    let (kind, rest) = value.split_once(':').ok_or_else(bad)?;
    let generic = match kind {
        "s" => false,
        "g" => true,
        _ => return Err(bad()),
    };
    let (class, rest) = rest.split_once(':').ok_or_else(bad)?;
    if class.is_empty()
        || !class
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'!')
    {
        return Err(bad());
    }
    let class = if class == "!" {
        None
    } else {
        let known = classes.iter().find(|c| c.eq_ignore_ascii_case(class));
        Some(
            known
                .ok_or_else(|| format!("unknown class {class:?}"))?
                .clone(),
        )
    };
    let (name, flavor) = rest.split_once(':').ok_or_else(bad)?;
    if !is_name(name) {
        return Err(format!("bad name {name:?} in label"));
    }
    let name = match names.iter().find(|n| n.eq_ignore_ascii_case(name)) {
        Some(first) => first.clone(),
        None => {
            names.push(name.to_string());
            name.to_string()
        }
    };
    Ok(Label {
        generic,
        class,
        name,
        flavor: (!flavor.is_empty()).then(|| flavor.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Debian's p0f package installs its database here; tests that need it say so.
    pub const DEBIAN_P0F_FP: &str = "/etc/p0f/p0f.fp";

    #[test]
    fn a_small_database_loads() {
        let db = Database::parse(
            "classes = win,unix,other\n\
             [mtu]\nlabel = Ethernet or modem\nsig = 576\nsig   = 1500\n\
             [tcp:request]\n; Linux\n\
             label = s:unix:Linux:3.11 and newer\n\
             sig   = *:64:0:*:mss*20,10:mss,sok,ts,nop,ws:df,id+:0\n\
             label = s:!:NMap:SYN scan\nsys = @unix,@win\n\
             sig = *:64-:0:1460:1024,0:mss::0\n\
             label = g:UNIX:linux:\nsig = *:64:0:*:*,*:mss:df,id+:0\n\
             [tcp:response]\nlabel = s:unix:Linux:a:b\nsig = *:64:0:*:*,*:mss::0\n\
             [http:request]\nua_os = Linux\nlabel = s:unix:Linux:x\nsig = anything\n",
        )
        .unwrap();
        assert_eq!(
            db.mtus,
            [
                (576, "Ethernet or modem".into()),
                (1500, "Ethernet or modem".into())
            ]
        );
        assert_eq!(db.requests.len(), 3);
        assert_eq!(db.responses.len(), 1);
        assert_eq!(db.skipped_sigs, 1);
        let l = db.label(&db.requests[0]);
        assert_eq!(l.to_string(), "Linux 3.11 and newer");
        assert!(db.label(&db.requests[1]).is_app());
        // The first spelling of a name is kept; an empty flavor is none; a flavor may hold ':'.
        let g = db.label(&db.requests[2]);
        assert_eq!(
            (g.name.as_str(), g.generic, g.flavor.as_deref()),
            ("Linux", true, None)
        );
        assert_eq!(g.class.as_deref(), Some("unix"));
        assert_eq!(db.label(&db.responses[0]).flavor.as_deref(), Some("a:b"));
        assert_eq!(db.link_for_mtu(1500), Some("Ethernet or modem"));
        assert_eq!(db.link_for_mtu(1501), None);
    }

    #[test]
    fn bad_databases_name_the_line() {
        let head = "classes = win,unix\n[tcp:request]\n";
        for (body, want) in [
            (
                "label = s:unix:Linux:x\nsig = *:*:0:*:*,*:mss::0\n",
                "line 4",
            ),
            ("label = s:bsd:X:y\n", "unknown class"),
            (
                "label = s:!:NMap:x\nsig = *:64-:0:1460:1024,0:mss::0\n",
                "misplaced sig",
            ),
            ("label = s:!:NMap:x\nlabel = s:unix:Y:z\n", "sys line"),
            ("sig = *:64:0:*:*,*:mss::0\n", "misplaced sig"),
            ("label = x:unix:Linux:x\n", "bad label"),
            ("label = s:unix:Li$nux:x\n", "bad name"),
            ("wat = 1\n", "unknown field"),
            (
                "label = s:unix:Linux:x\nsig = *:64:0:*:*,*:mss::0\nsig = *:64:0:*:*,*:mss::0\n",
                "covered by line 4",
            ),
        ] {
            let err = Database::parse(&format!("{head}{body}"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{body:?}: {err}");
        }
        assert!(Database::parse("[tcp:request] \n").is_err());
        assert!(Database::parse("[mtu]\nlabel = x\nsig = 1500 \n").is_err());
        assert!(Database::parse("[tcp:request]\nclasses = unix\n").is_err());
    }

    #[test]
    fn debians_database_loads_when_installed() {
        let Ok(text) = std::fs::read_to_string(DEBIAN_P0F_FP) else {
            assert!(
                std::env::var_os("HONEYSCOPE_REQUIRE_TOOLS").is_none(),
                "{DEBIAN_P0F_FP} missing (apt-get install p0f)"
            );
            return;
        };
        let db = Database::parse(&text).unwrap();
        assert!(db.requests.len() > 50 && db.responses.len() > 20, "{db:?}");
        assert!(db.mtus.len() > 20);
        assert!(db.skipped_sigs > 50);
    }
}
