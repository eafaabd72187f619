//! `config import-honeyd`: a Honeyd configuration turned into ours.
//!
//! Carried over: `create`, `set T personality`, `set T default tcp|udp|icmp action`,
//! `add T tcp|udp port N ACTION`, `bind ADDR T`. Everything else — scripts, proxies,
//! subsystems, routes, uptime, `maxfds`, Ethernet addresses, annotations — is listed with
//! its line number, never dropped quietly. honeyscope never runs or fetches anything a
//! config names, so a port served by a script becomes `open` (our engine completes the
//! handshake and records the first payload) and says so.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::config::Config;

/// What could not be carried over, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotCarried {
    /// 1-based line in the Honeyd config.
    pub line: usize,
    /// The line, trimmed.
    pub text: String,
    /// Why, and what the import did instead.
    pub why: String,
}

/// The result of an import.
#[derive(Debug, Clone)]
pub struct Imported {
    /// Our config, as TOML (it parses with [`Config::parse`]).
    pub toml: String,
    /// Lines not carried over.
    pub not_carried: Vec<NotCarried>,
}

#[derive(Default)]
struct Template {
    personality: Option<(String, &'static str)>,
    tcp: Option<&'static str>,
    udp: Option<&'static str>,
    icmp: Option<&'static str>,
    ports: BTreeMap<String, (&'static str, Option<String>)>,
}

/// Our personality for a Honeyd (nmap-database) personality name, by the OS it names.
fn personality_for(name: &str) -> Option<&'static str> {
    let n = name.to_ascii_lowercase();
    let has = |k: &str| n.contains(k);
    Some(
        if has("windows xp") || has("windows 2000") || has("windows nt") {
            "windows-xp"
        } else if has("windows 10") || has("windows 11") || has("windows server 2019") {
            "windows-10"
        } else if has("windows") {
            "windows-7"
        } else if has("cisco") {
            "cisco-ios"
        } else if has("freebsd") {
            "freebsd"
        } else if has("solaris") || has("sunos") {
            "solaris-10"
        } else if has("mac os") || has("macos") {
            "macos"
        } else if has("linux 2.4") || has("linux 2.6") || has("busybox") {
            "linux-2.6"
        } else if has("linux") {
            "linux-5"
        } else {
            return None;
        },
    )
}

/// Our action for a Honeyd action word, if it has one.
fn action_for(word: &str) -> Option<&'static str> {
    Some(match word {
        "open" => "open",
        "closed" | "reset" => "reset",
        "block" | "filtered" => "block",
        _ => return None,
    })
}

/// Splits a Honeyd config line into words, keeping quoted strings whole.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

fn toml_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// Imports a Honeyd config. Fails only when nothing usable is left (no bind at all), with
/// the reason; every line it could not carry is in [`Imported::not_carried`].
pub fn import(text: &str, source: &str) -> Result<Imported, String> {
    let mut templates: BTreeMap<String, Template> = BTreeMap::new();
    let mut binds: Vec<(String, String)> = Vec::new();
    let mut not = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let w = words(line);
        let w: Vec<&str> = w.iter().map(String::as_str).collect();
        let mut skip = |why: &str| {
            not.push(NotCarried {
                line: i + 1,
                text: line.to_string(),
                why: why.to_string(),
            })
        };
        match w.as_slice() {
            ["create", name] => {
                templates.entry(name.to_string()).or_default();
            }
            ["set", name, "personality", p] => match personality_for(p) {
                Some(ours) => {
                    templates.entry(name.to_string()).or_default().personality =
                        Some((p.to_string(), ours));
                }
                None => skip("no personality of ours matches this OS; the template uses linux-5"),
            },
            ["set", name, "default", proto @ ("tcp" | "udp" | "icmp"), "action", act] => {
                match action_for(act) {
                    Some(a) => {
                        let t = templates.entry(name.to_string()).or_default();
                        let a = if *proto == "icmp" && a == "reset" {
                            "block"
                        } else {
                            a
                        };
                        match *proto {
                            "tcp" => t.tcp = Some(a),
                            "udp" => t.udp = Some(a),
                            _ => t.icmp = Some(a),
                        }
                    }
                    None => skip("unknown default action; left at ours"),
                }
            }
            ["add", name, proto @ ("tcp" | "udp"), "port", port, rest @ ..] => {
                let Ok(port) = port.parse::<u16>() else {
                    skip("not a port number");
                    continue;
                };
                let key = format!("{proto}/{port}");
                let (act, note) = match rest {
                    [a] if action_for(a).is_some() => (action_for(a).unwrap_or("open"), None),
                    ["proxy", to] => {
                        skip(&format!(
                            "proxies to {to}: honeyscope does not forward; the port is open"
                        ));
                        ("open", Some(format!("was: proxy {to}")))
                    }
                    ["tarpit", a] if action_for(a).is_some() => {
                        skip("tarpit is not carried; the plain action is");
                        (action_for(a).unwrap_or("open"), None)
                    }
                    [script] => {
                        skip("runs a script: honeyscope never runs what a config names; the port is open (the handshake completes and the first payload is recorded)");
                        ("open", Some(format!("was: {script}")))
                    }
                    _ => {
                        skip("unknown port action");
                        continue;
                    }
                };
                templates
                    .entry(name.to_string())
                    .or_default()
                    .ports
                    .insert(key, (act, note));
            }
            ["bind", addr, name] => binds.push((addr.to_string(), name.to_string())),
            ["set", _, "uptime" | "maxfds" | "droprate" | "ethernet" | "uid" | "gid", ..] => {
                skip("host detail honeyscope does not emulate")
            }
            ["subsystem", ..] | ["add", _, "subsystem", ..] => {
                skip("subsystems run programs; honeyscope never does")
            }
            ["route", ..] => skip("virtual routing topologies are not emulated"),
            ["annotate", ..] => skip("annotations are for Honeyd's own fingerprints"),
            _ => skip("not understood"),
        }
    }
    if binds.is_empty() {
        return Err("no bind lines: honeyscope needs the addresses it claims (add `bind ADDRESS TEMPLATE` or write prefixes = [...] yourself)".into());
    }
    let mut t = String::new();
    let _ = writeln!(
        t,
        "# Imported from {source} by `honeyscope config import-honeyd`."
    );
    let _ = writeln!(
        t,
        "# Each bound address is claimed as a /32; claim whole prefixes instead if you route them."
    );
    let prefixes: Vec<String> = binds.iter().map(|(a, _)| toml_str(a)).collect();
    let _ = writeln!(t, "prefixes = [{}]", prefixes.join(", "));
    let default = if templates.contains_key("default") {
        "default".to_string()
    } else {
        binds[0].1.clone()
    };
    let _ = writeln!(t, "default_template = {}", toml_str(&default));
    for (name, tpl) in &templates {
        let _ = writeln!(t, "\n[templates.{}]", toml_str(name));
        match &tpl.personality {
            Some((theirs, ours)) => {
                let _ = writeln!(
                    t,
                    "personality = \"{ours}\"   # Honeyd: {}",
                    theirs.replace('\n', " ")
                );
            }
            None => {
                let _ = writeln!(t, "personality = \"linux-5\"");
            }
        }
        // Honeyd's defaults when a template says nothing: TCP and UDP closed, ICMP open.
        let _ = writeln!(t, "tcp = \"{}\"", tpl.tcp.unwrap_or("reset"));
        let _ = writeln!(t, "udp = \"{}\"", tpl.udp.unwrap_or("reset"));
        let _ = writeln!(t, "icmp = \"{}\"", tpl.icmp.unwrap_or("open"));
        if !tpl.ports.is_empty() {
            let _ = writeln!(t, "\n[templates.{}.ports]", toml_str(name));
            for (key, (act, note)) in &tpl.ports {
                match note {
                    Some(n) => {
                        let _ = writeln!(t, "\"{key}\" = \"{act}\"   # {}", n.replace('\n', " "));
                    }
                    None => {
                        let _ = writeln!(t, "\"{key}\" = \"{act}\"");
                    }
                }
            }
        }
    }
    for (addr, name) in &binds {
        if !templates.contains_key(name) {
            return Err(format!(
                "bind {addr} names template {name:?}, which no create line makes"
            ));
        }
        let _ = writeln!(
            t,
            "\n[[bind]]\naddresses = {}\ntemplate = {}",
            toml_str(addr),
            toml_str(name)
        );
    }
    // What we wrote must be a config we accept.
    Config::parse(&t)
        .map_err(|e| format!("the imported config does not load ({e}); please report this"))?;
    Ok(Imported {
        toml: t,
        not_carried: not,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Action;

    fn shared(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/honeyd")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (the shared/ folder must sit beside the checkout)",
                path.display()
            )
        })
    }

    #[test]
    fn the_honeyevse_config() {
        let text = shared("honeyevse-honeyd.conf");
        let r = import(&text, "honeyevse-honeyd.conf").unwrap();
        let c = Config::parse(&r.toml).unwrap();
        let ip = "192.168.56.104".parse().unwrap();
        assert!(c.claims(ip));
        let t = c.template_for(ip);
        assert_eq!(t.name, "siemens");
        assert_eq!(t.tcp_action(12345), &Action::Reset);
        assert_eq!(t.udp_action(161), &Action::Reset);
        assert_eq!(t.tcp_action(80), &Action::Open);
        assert_eq!(t.tcp_action(102), &Action::Open);
        // The proxies, the three scripts, the uptime and the personality (a PLC) are listed.
        let lines: Vec<usize> = r.not_carried.iter().map(|n| n.line).collect();
        assert_eq!(lines, [6, 14, 16, 20, 21, 22, 24], "{:#?}", r.not_carried);
        assert!(r.not_carried[1].why.contains("proxies to 127.0.0.1:102"));
        assert!(r.not_carried[3].why.contains("never runs"));
    }

    #[test]
    fn the_datasoft_sample() {
        let text = shared("datasoft-config.sample");
        let r = import(&text, "datasoft-config.sample").unwrap();
        let c = Config::parse(&r.toml).unwrap();
        let ip = "192.168.3.137".parse().unwrap();
        let t = c.template_for(ip);
        assert_eq!(t.name, "windows");
        assert_eq!(t.udp_action(53), &Action::Open);
        assert_eq!(
            t.tcp_action(1),
            &Action::Reset,
            "set windows default tcp action closed"
        );
        assert_eq!(c.default_template, "default");
        assert_eq!(c.templates["default"].tcp, Action::Block);
        assert_eq!(c.templates["default"].icmp, Action::Block);
        let why = |line| {
            r.not_carried
                .iter()
                .find(|n| n.line == line)
                .map(|n| n.why.clone())
        };
        assert!(
            why(15).unwrap().contains("no personality"),
            "OpenBSD 4.0 has none of ours"
        );
        assert!(why(16).is_some() && why(17).is_some(), "uptime, maxfds");
        assert!(why(18).unwrap().contains("never runs"));
        assert!(why(22).unwrap().contains("host detail"), "ethernet");
        assert!(why(21).is_none(), "udp 53 open is carried");
    }

    #[test]
    fn no_bind_is_an_error_and_quotes_stay_whole() {
        assert!(import("create a\n", "x")
            .unwrap_err()
            .contains("no bind lines"));
        assert_eq!(
            words(r#"set a personality "Linux 2.6.18 (x)" "#),
            ["set", "a", "personality", "Linux 2.6.18 (x)"]
        );
        let r = import(
            "create a\nset a personality \"Microsoft Windows XP SP1\"\nbind 198.51.100.1 a\n",
            "x",
        )
        .unwrap();
        assert!(r.toml.contains("personality = \"windows-xp\""));
        assert!(r.not_carried.is_empty());
    }
}
