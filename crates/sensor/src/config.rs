//! The sensor's configuration: what address space it claims, and how each address answers.
//!
//! Written in TOML (`docs/SENSOR.md` has a commented example); [`Config::seed_default`] is
//! the built-in one, which mirrors the seed study's Honeyd set-up. [`Config::parse`] checks
//! everything it can before the sensor starts, and its errors name the line.

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;
use std::sync::Arc;

use honeyscope_services::shell::Device;
use honeyscope_services::Service;
use honeyscope_wire::personality::{self, Personality};
use serde::Deserialize;

use crate::service_config::{self, HttpSettings, RawFetch, RawHttp, RawTelnet, TelnetSettings};

/// A config error, with the line it is on when it comes from a file.
#[derive(Debug, thiserror::Error)]
#[error("{}{message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct ConfigError {
    /// 1-based line in the config file.
    pub line: Option<usize>,
    /// What is wrong, and what to do about it.
    pub message: String,
}

fn err(message: impl Into<String>) -> ConfigError {
    ConfigError {
        line: None,
        message: message.into(),
    }
}

/// An IPv4 prefix, `198.51.100.0/24` (a bare address is a /32).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    /// The network address (host bits cleared).
    pub addr: Ipv4Addr,
    /// Prefix length, 0–32.
    pub len: u8,
}

impl Prefix {
    fn mask(self) -> u32 {
        u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0)
    }

    /// Whether `ip` is inside.
    pub fn contains(self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.addr)
    }

    /// Whether two prefixes share an address.
    pub fn overlaps(self, other: Prefix) -> bool {
        self.contains(other.addr) || other.contains(self.addr)
    }

    /// Number of addresses.
    pub fn size(self) -> u64 {
        1u64 << (32 - u32::from(self.len))
    }
}

impl FromStr for Prefix {
    type Err = String;

    fn from_str(s: &str) -> Result<Prefix, String> {
        let (a, l) = s.split_once('/').unwrap_or((s, "32"));
        let addr: Ipv4Addr = a.trim().parse().map_err(|_| {
            format!("{s:?} is not an IPv4 address or prefix (like 198.51.100.0/24)")
        })?;
        let len: u8 = l
            .trim()
            .parse()
            .ok()
            .filter(|&l| l <= 32)
            .ok_or_else(|| format!("{s:?}: the prefix length must be 0 to 32"))?;
        let p = Prefix { addr, len };
        if u32::from(addr) & !p.mask() != 0 {
            return Err(format!(
                "{s:?} has host bits set; did you mean {}/{len}?",
                Ipv4Addr::from(u32::from(addr) & p.mask())
            ));
        }
        Ok(p)
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// What an address does with a packet to a port (or a protocol's default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// TCP: complete the handshake (SYN cookie); UDP: take it silently; ICMP: answer echo
    /// requests.
    Open,
    /// TCP: answer with RST; UDP: ICMP port unreachable.
    Reset,
    /// Answer nothing (still logged).
    Block,
    /// Hand the connection to a service (`telnet`, `http`, `echo`, `discard`), on the TCP
    /// session layer (`sensor::tcp`).
    Service(&'static str),
}

impl FromStr for Action {
    type Err = String;

    fn from_str(s: &str) -> Result<Action, String> {
        Ok(match s {
            "open" => Action::Open,
            "reset" | "closed" => Action::Reset,
            "block" | "filtered" => Action::Block,
            "telnet" => Action::Service("telnet"),
            "http" => Action::Service("http"),
            "echo" => Action::Service("echo"),
            "discard" => Action::Service("discard"),
            _ => {
                return Err(format!(
                    "unknown action {s:?}: use open, reset, block, or a service (telnet, http, \
                     echo, discard)"
                ))
            }
        })
    }
}

impl Action {
    /// Whether TCP handshakes complete (open, or a service).
    pub fn accepts(&self) -> bool {
        matches!(self, Action::Open | Action::Service(_))
    }

    /// The config spelling.
    pub fn name(&self) -> &str {
        match self {
            Action::Open => "open",
            Action::Reset => "reset",
            Action::Block => "block",
            Action::Service(s) => s,
        }
    }
}

/// How one kind of host answers.
#[derive(Debug, Clone)]
pub struct Template {
    /// Its name in the config.
    pub name: String,
    /// The stack it imitates.
    pub personality: &'static Personality,
    /// TCP ports without an entry of their own.
    pub tcp: Action,
    /// UDP ports without an entry of their own.
    pub udp: Action,
    /// ICMP echo requests: `open` answers, `block` does not.
    pub icmp: Action,
    /// Per-port actions.
    pub tcp_ports: BTreeMap<u16, Action>,
    /// Per-port actions.
    pub udp_ports: BTreeMap<u16, Action>,
    /// The device profiles its addresses answer Telnet as; each address keeps one, picked
    /// by its address. Empty: [`DEFAULT_PROFILE`].
    pub profiles: Vec<String>,
}

impl Template {
    /// The action for a TCP port.
    pub fn tcp_action(&self, port: u16) -> &Action {
        self.tcp_ports.get(&port).unwrap_or(&self.tcp)
    }

    /// The action for a UDP port.
    pub fn udp_action(&self, port: u16) -> &Action {
        self.udp_ports.get(&port).unwrap_or(&self.udp)
    }
}

/// What to do once a handshake on an `open` port without a service has brought its first
/// payload (or a FIN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    /// Send RST.
    Reset,
    /// Send FIN+ACK (and forget the flow).
    Fin,
}

/// Bounds on what the sensor keeps.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Completed handshakes remembered while waiting for their first payload.
    pub flows: usize,
    /// Seconds a completed handshake waits for its first payload before it is logged as
    /// ended.
    pub flow_idle_secs: u64,
    /// Sources whose OS (from their last SYN) is remembered.
    pub os_cache: usize,
    /// Bytes of a first payload kept in its event (escaped).
    pub payload_bytes: usize,
    /// TCP sessions open at once; a handshake beyond that is answered with RST (counted).
    pub sessions: usize,
    /// Seconds a TCP session may go without a segment from the client before it is ended
    /// with RST.
    pub session_idle_secs: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            flows: 65_536,
            flow_idle_secs: 30,
            os_cache: 65_536,
            payload_bytes: 256,
            sessions: 10_000,
            session_idle_secs: 120,
        }
    }
}

/// The whole, checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Written into every event.
    pub sensor_id: Option<String>,
    /// Where logs go.
    pub data_dir: String,
    /// The address space we claim; packets to anything else are counted and ignored.
    pub prefixes: Vec<Prefix>,
    /// Templates by name.
    pub templates: BTreeMap<String, Template>,
    /// Address ranges and their templates, most specific first.
    pub binds: Vec<(Prefix, String)>,
    /// The template for claimed addresses no bind covers.
    pub default_template: String,
    /// After the first payload of an `open` port.
    pub close: Close,
    /// Bounds.
    pub limits: Limits,
    /// Services on ordinary kernel sockets.
    pub listen: Vec<Listen>,
    /// Address ranges that answer as one device profile, most specific first.
    pub bind_profiles: Vec<(Prefix, String)>,
    /// The device profiles by name: built in, and from `profiles_dir`.
    pub devices: BTreeMap<String, Arc<Device>>,
    /// The Telnet service's settings.
    pub telnet: TelnetSettings,
    /// The HTTP service's settings.
    pub http: HttpSettings,
    /// The fetcher's caps; `None` (the default): no service fetches anything.
    pub fetch: Option<honeyscope_services::fetch::FetchLimits>,
}

/// The profile an address answers as when its template names none.
pub const DEFAULT_PROFILE: &str = "busybox";

/// A `[[listen]]` entry: a service on an ordinary kernel socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    /// Where to listen (`0.0.0.0:2323`, `[::]:2323`, `127.0.0.1:2323`).
    pub address: std::net::SocketAddr,
    /// What to serve.
    pub service: Service,
    /// The port the log shows instead of the listening one, for set-ups where a firewall
    /// forwards port 23 to 2323 (Cowrie's `reported_port`).
    pub reported_port: Option<u16>,
    /// For `telnet`: the device profile it answers as ([`DEFAULT_PROFILE`] if unset).
    pub profile: Option<String>,
}

// The file's shape, before checking.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    sensor_id: Option<String>,
    data_dir: Option<String>,
    #[serde(default)]
    prefixes: Vec<String>,
    default_template: Option<String>,
    close: Option<String>,
    #[serde(default)]
    templates: BTreeMap<String, RawTemplate>,
    #[serde(default)]
    bind: Vec<RawBind>,
    limits: Option<RawLimits>,
    #[serde(default)]
    listen: Vec<RawListen>,
    profiles_dir: Option<String>,
    telnet: Option<RawTelnet>,
    http: Option<RawHttp>,
    fetch: Option<RawFetch>,
}

/// One name or several.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawListen {
    address: String,
    service: String,
    reported_port: Option<u16>,
    profile: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    personality: String,
    tcp: Option<String>,
    udp: Option<String>,
    icmp: Option<String>,
    profile: Option<OneOrMany>,
    #[serde(default)]
    ports: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBind {
    addresses: String,
    template: String,
    profile: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    flows: Option<usize>,
    flow_idle_secs: Option<u64>,
    os_cache: Option<usize>,
    payload_bytes: Option<usize>,
    sessions: Option<usize>,
    session_idle_secs: Option<u64>,
}

/// The built-in configuration, as TOML: the seed study's set-up.
pub const SEED_DEFAULT: &str = r#"# The seed study's set-up: one /24, a web server on 80 and 8080, Telnet on 23 and 2323,
# every other port only logged. 198.51.100.0/24 is a documentation prefix: put yours here.
sensor_id = "honeyscope"
data_dir = "honeyscope-data"
prefixes = ["198.51.100.0/24"]
default_template = "seed"

[templates.seed]
personality = "linux-2.6"
tcp = "block"
udp = "block"
icmp = "open"
# Telnet answers as one of these devices, each address keeping its own.
profile = ["dvr", "ipcam", "router", "busybox"]

[templates.seed.ports]
"tcp/80" = "http"
"tcp/8080" = "http"
"tcp/23" = "telnet"
"tcp/2323" = "telnet"

# Services on ordinary sockets: these run whether or not a prefix is claimed, and are all
# the sensor serves when it is started without --tun or --interface. Loopback only, to
# check a deployment; listen on 0.0.0.0 to face the Internet.
[[listen]]
address = "127.0.0.1:7007"
service = "echo"

[[listen]]
address = "127.0.0.1:9009"
service = "discard"

[[listen]]
address = "127.0.0.1:2323"
service = "telnet"
profile = "dvr"

[[listen]]
address = "127.0.0.1:8080"
service = "http"
profile = "dvr"
"#;

impl Config {
    /// The built-in configuration ([`SEED_DEFAULT`]).
    pub fn seed_default() -> Config {
        Config::parse(SEED_DEFAULT).unwrap_or_else(|e| unreachable!("built-in config: {e}"))
    }

    /// Parses and checks a TOML config.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError {
            line: e.span().map(|s| line_of(text, s.start)),
            message: e.message().trim().to_string(),
        })?;
        // Semantic errors name the line of the offending key when it can be found.
        let at = |needle: &str, message: String| ConfigError {
            line: text.find(needle).map(|i| line_of(text, i)),
            message,
        };
        let mut prefixes = Vec::new();
        for p in &raw.prefixes {
            let prefix: Prefix = p.parse().map_err(|m| at(p, m))?;
            if let Some(other) = prefixes.iter().find(|o: &&Prefix| o.overlaps(prefix)) {
                return Err(at(
                    p,
                    format!("{prefix} overlaps {other}; claim each address once"),
                ));
            }
            prefixes.push(prefix);
        }
        let devices = service_config::load(raw.profiles_dir.as_deref().map(std::path::Path::new))
            .map_err(|m| at("profiles_dir", m))?;
        let known_profile = |name: &str, what: &str| -> Result<(), ConfigError> {
            if devices.contains_key(name) {
                return Ok(());
            }
            Err(at(
                name,
                format!(
                    "{what}: no device profile {name:?}; there are: {}",
                    devices.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            ))
        };
        let mut listen = Vec::new();
        for l in &raw.listen {
            let address = l.address.parse().map_err(|_| {
                at(
                    &l.address,
                    format!(
                        "listen: {:?} is not an address and port (like \"0.0.0.0:2323\" or \"[::]:2323\")",
                        l.address
                    ),
                )
            })?;
            let service = Service::named(&l.service).ok_or_else(|| {
                at(
                    &l.service,
                    format!(
                        "listen {}: no service {:?}; there are: {}",
                        l.address,
                        l.service,
                        Service::names()
                    ),
                )
            })?;
            if let Some(other) = listen.iter().find(|o: &&Listen| o.address == address) {
                return Err(at(
                    &l.address,
                    format!(
                        "listen {address} is given twice (for {} too)",
                        other.service.name()
                    ),
                ));
            }
            if let Some(p) = &l.profile {
                known_profile(p, &format!("listen {address}"))?;
            }
            listen.push(Listen {
                address,
                service,
                reported_port: l.reported_port,
                profile: l.profile.clone(),
            });
        }
        if prefixes.is_empty() && listen.is_empty() {
            return Err(err(
                "no prefixes and no [[listen]] entries: claim a prefix, e.g. prefixes = \
                 [\"198.51.100.0/24\"], or serve on a kernel socket with [[listen]]",
            ));
        }
        let mut templates = BTreeMap::new();
        for (name, t) in &raw.templates {
            let personality = personality::builtin(&t.personality).ok_or_else(|| {
                at(
                    &t.personality,
                    format!(
                        "template {name}: unknown personality {:?}; built in: {}",
                        t.personality,
                        personality::BUILTIN
                            .iter()
                            .map(|p| p.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
            let action = |v: &Option<String>, default: Action| -> Result<Action, ConfigError> {
                match v {
                    None => Ok(default),
                    Some(s) => s
                        .parse()
                        .map_err(|m| at(s, format!("template {name}: {m}"))),
                }
            };
            let mut tpl = Template {
                name: name.clone(),
                personality,
                tcp: action(&t.tcp, Action::Reset)?,
                udp: action(&t.udp, Action::Reset)?,
                icmp: action(&t.icmp, Action::Open)?,
                tcp_ports: BTreeMap::new(),
                udp_ports: BTreeMap::new(),
                profiles: match &t.profile {
                    None => Vec::new(),
                    Some(OneOrMany::One(p)) => vec![p.clone()],
                    Some(OneOrMany::Many(ps)) => ps.clone(),
                },
            };
            for p in &tpl.profiles {
                known_profile(p, &format!("template {name}"))?;
            }
            if matches!(tpl.icmp, Action::Reset | Action::Service(_)) {
                return Err(at(
                    "icmp",
                    format!("template {name}: icmp is open or block"),
                ));
            }
            for (key, value) in &t.ports {
                let bad = || {
                    at(
                        key,
                        format!("template {name}: port {key:?} should look like \"tcp/80\" or \"udp/53\""),
                    )
                };
                let (proto, port) = key.split_once('/').ok_or_else(bad)?;
                let port: u16 = port.parse().map_err(|_| bad())?;
                let act: Action = value
                    .parse()
                    .map_err(|m| at(key, format!("template {name}, port {key}: {m}")))?;
                match proto {
                    "tcp" => tpl.tcp_ports.insert(port, act),
                    "udp" if matches!(act, Action::Service(_)) => {
                        return Err(at(
                            key,
                            format!("template {name}: services run on TCP ports"),
                        ))
                    }
                    "udp" => tpl.udp_ports.insert(port, act),
                    _ => return Err(bad()),
                };
            }
            templates.insert(name.clone(), tpl);
        }
        let mut binds = Vec::new();
        let mut bind_profiles = Vec::new();
        for b in &raw.bind {
            let prefix: Prefix = b.addresses.parse().map_err(|m| at(&b.addresses, m))?;
            if !prefixes
                .iter()
                .any(|p| p.contains(prefix.addr) && p.len <= prefix.len)
            {
                return Err(at(
                    &b.addresses,
                    format!("bind {prefix} is outside every claimed prefix; add it to prefixes"),
                ));
            }
            if !templates.contains_key(&b.template) {
                return Err(at(
                    &b.template,
                    format!("bind {prefix}: no template {:?}", b.template),
                ));
            }
            binds.push((prefix, b.template.clone()));
            if let Some(p) = &b.profile {
                known_profile(p, &format!("bind {prefix}"))?;
                bind_profiles.push((prefix, p.clone()));
            }
        }
        // Most specific first, so the first bind that contains an address is its own.
        binds.sort_by_key(|(p, _)| std::cmp::Reverse(p.len));
        bind_profiles.sort_by_key(|(p, _)| std::cmp::Reverse(p.len));
        let default_template = match raw.default_template {
            Some(t) if templates.contains_key(&t) => t,
            Some(t) => return Err(at(&t, format!("default_template: no template {t:?}"))),
            None if templates.len() == 1 => templates.keys().next().cloned().unwrap_or_default(),
            // Nothing is claimed, so no address needs a template.
            None if prefixes.is_empty() => String::new(),
            None => {
                return Err(err(
                    "default_template is missing: name the template for addresses no bind covers",
                ))
            }
        };
        let close = match raw.close.as_deref() {
            None | Some("reset") => Close::Reset,
            Some("fin") => Close::Fin,
            Some(o) => return Err(at(o, format!("close = {o:?}: use \"reset\" or \"fin\""))),
        };
        let mut limits = Limits::default();
        if let Some(l) = raw.limits {
            limits.flows = l.flows.unwrap_or(limits.flows).max(1);
            limits.flow_idle_secs = l.flow_idle_secs.unwrap_or(limits.flow_idle_secs).max(1);
            limits.os_cache = l.os_cache.unwrap_or(limits.os_cache).max(1);
            limits.payload_bytes = l.payload_bytes.unwrap_or(limits.payload_bytes).min(65_535);
            limits.sessions = l.sessions.unwrap_or(limits.sessions);
            limits.session_idle_secs = l
                .session_idle_secs
                .unwrap_or(limits.session_idle_secs)
                .clamp(1, 86_400);
        }
        Ok(Config {
            sensor_id: raw.sensor_id,
            data_dir: raw.data_dir.unwrap_or_else(|| "honeyscope-data".into()),
            prefixes,
            templates,
            binds,
            default_template,
            close,
            limits,
            listen,
            bind_profiles,
            devices,
            telnet: TelnetSettings::from_raw(raw.telnet.unwrap_or_default(), None)
                .map_err(|m| at("[telnet]", m))?,
            http: HttpSettings::from_raw(raw.http.unwrap_or_default())
                .map_err(|m| at("[http]", m))?,
            fetch: service_config::fetch_limits(raw.fetch),
        })
    }

    /// The device a claimed address answers Telnet and HTTP as: its bind's profile, else one of its
    /// template's (the same one every time), else [`DEFAULT_PROFILE`].
    pub fn device_for(&self, ip: Ipv4Addr) -> Option<Arc<Device>> {
        let name = match self.bind_profiles.iter().find(|(p, _)| p.contains(ip)) {
            Some((_, name)) => name.as_str(),
            None => service_config::pick(&self.template_for(ip).profiles, ip)
                .map_or(DEFAULT_PROFILE, String::as_str),
        };
        self.devices.get(name).cloned()
    }

    /// The device a listener answers Telnet or HTTP as.
    pub fn listen_device(&self, l: &Listen) -> Option<Arc<Device>> {
        self.devices
            .get(l.profile.as_deref().unwrap_or(DEFAULT_PROFILE))
            .cloned()
    }

    /// Whether we claim `ip`.
    pub fn claims(&self, ip: Ipv4Addr) -> bool {
        self.prefixes.iter().any(|p| p.contains(ip))
    }

    /// Whether some port runs a service on the TCP session layer.
    pub fn uses_services(&self) -> bool {
        let service = |a: &Action| matches!(a, Action::Service(s) if Service::named(s).is_some());
        self.templates
            .values()
            .any(|t| service(&t.tcp) || t.tcp_ports.values().any(service))
    }

    /// Whether some port or listener runs `service`.
    pub fn uses(&self, service: Service) -> bool {
        let runs = |a: &Action| *a == Action::Service(service.name());
        self.listen.iter().any(|l| l.service == service)
            || self
                .templates
                .values()
                .any(|t| runs(&t.tcp) || t.tcp_ports.values().any(runs))
    }

    /// The template of a claimed address.
    pub fn template_for(&self, ip: Ipv4Addr) -> &Template {
        let name = self
            .binds
            .iter()
            .find(|(p, _)| p.contains(ip))
            .map_or(&self.default_template, |(_, t)| t);
        &self.templates[name]
    }
}

fn line_of(text: &str, byte: usize) -> usize {
    text.as_bytes()[..byte.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_default() {
        let c = Config::seed_default();
        assert!(c.claims("198.51.100.7".parse().unwrap()));
        assert!(!c.claims("198.51.101.7".parse().unwrap()));
        let t = c.template_for("198.51.100.7".parse().unwrap());
        assert_eq!(t.tcp_action(80), &Action::Service("http"));
        assert_eq!(t.tcp_action(23), &Action::Service("telnet"));
        assert_eq!(t.tcp_action(6379), &Action::Block);
        assert_eq!(t.udp_action(53413), &Action::Block);
        assert_eq!(t.personality.name, "linux-2.6");
        assert!(c.listen.iter().all(|l| l.address.ip().is_loopback()));
        assert_eq!(c.listen[0].service, Service::Echo);
        // Telnet on loopback as a DVR; each claimed address keeps one device.
        let telnet = c
            .listen
            .iter()
            .find(|l| l.service == Service::Telnet)
            .unwrap();
        assert_eq!(c.listen_device(telnet).unwrap().profile.name, "dvr");
        assert!(c.uses(Service::Telnet) && c.uses(Service::Http));
        let ip = "198.51.100.7".parse().unwrap();
        let d = c.device_for(ip).unwrap();
        assert!(Arc::ptr_eq(&d, &c.device_for(ip).unwrap()));
        let spread: std::collections::BTreeSet<String> = (1..=254u8)
            .map(|i| {
                c.device_for(Ipv4Addr::new(198, 51, 100, i))
                    .unwrap()
                    .profile
                    .name
                    .clone()
            })
            .collect();
        assert_eq!(
            spread.len(),
            4,
            "the /24 answers as every profile: {spread:?}"
        );
    }

    /// The commented examples in the docs are configs that load.
    #[test]
    fn the_documented_examples_parse() {
        for (doc, text) in [
            ("SENSOR.md", include_str!("../../../docs/SENSOR.md")),
            ("TELNET.md", include_str!("../../../docs/TELNET.md")),
            ("HTTP.md", include_str!("../../../docs/HTTP.md")),
        ] {
            let block = text
                .split("```toml\n")
                .nth(1)
                .and_then(|b| b.split("```").next())
                .unwrap_or_else(|| panic!("{doc}: no toml block"));
            // The Telnet page's example is a fragment: give it a prefix to stand on.
            let block = if block.contains("prefixes") {
                block.to_string()
            } else {
                format!("prefixes = [\"198.51.100.0/24\"]\n{block}")
            };
            if let Err(e) = Config::parse(&block) {
                panic!("{doc}: {e}");
            }
        }
    }

    #[test]
    fn profiles_are_checked() {
        let e = Config::parse(
            "prefixes = [\"198.51.100.0/24\"]\n[templates.a]\npersonality = \"linux-2.6\"\nprofile = \"toaster\"\n",
        )
        .unwrap_err();
        assert!(e.message.contains("no device profile \"toaster\""), "{e}");
        assert!(e.message.contains("dvr"), "{e}");
        let c = Config::parse(
            "prefixes = [\"198.51.100.0/24\"]\n[templates.a]\npersonality = \"linux-2.6\"\n\
             [[bind]]\naddresses = \"198.51.100.8/29\"\ntemplate = \"a\"\nprofile = \"router\"\n\
             [telnet]\nauth = \"reject-first\"\nreject_first = 2\n",
        )
        .unwrap();
        let name = |ip: &str| {
            c.device_for(ip.parse().unwrap())
                .unwrap()
                .profile
                .name
                .clone()
        };
        assert_eq!(name("198.51.100.9"), "router");
        assert_eq!(name("198.51.100.200"), DEFAULT_PROFILE);
        assert_eq!(
            c.telnet.policy,
            honeyscope_services::telnet::auth::Policy::RejectThenAccept(2)
        );
        let e = Config::parse("prefixes = [\"198.51.100.0/24\"]\n[templates.a]\npersonality = \"linux-2.6\"\n[telnet]\nauth = \"guess\"\n").unwrap_err();
        assert!(e.message.contains("accept-all"), "{e}");
    }

    #[test]
    fn a_config_may_only_listen() {
        let c = Config::parse(
            "[[listen]]\naddress = \"[::]:2323\"\nservice = \"echo\"\nreported_port = 23\n",
        )
        .unwrap();
        assert!(c.prefixes.is_empty() && c.templates.is_empty());
        assert!(!c.claims("198.51.100.7".parse().unwrap()));
        assert_eq!(
            c.listen,
            [Listen {
                address: "[::]:2323".parse().unwrap(),
                service: Service::Echo,
                reported_port: Some(23),
                profile: None,
            }]
        );
    }

    #[test]
    fn binds_pick_the_most_specific_template() {
        let c = Config::parse(
            r#"prefixes = ["198.51.100.0/24"]
default_template = "a"
[templates.a]
personality = "linux-5"
[templates.b]
personality = "windows-7"
tcp = "open"
ports = { "udp/53" = "open", "tcp/25" = "block" }
[[bind]]
addresses = "198.51.100.128/25"
template = "b"
[[bind]]
addresses = "198.51.100.200"
template = "a"
"#,
        )
        .unwrap();
        let name = |ip: &str| c.template_for(ip.parse().unwrap()).name.clone();
        assert_eq!(name("198.51.100.1"), "a");
        assert_eq!(name("198.51.100.129"), "b");
        assert_eq!(name("198.51.100.200"), "a");
        let b = &c.templates["b"];
        assert_eq!(b.tcp_action(1), &Action::Open);
        assert_eq!(b.tcp_action(25), &Action::Block);
        assert_eq!(b.udp_action(53), &Action::Open);
        assert_eq!(b.udp_action(54), &Action::Reset);
    }

    #[test]
    fn errors_name_the_line_and_the_fix() {
        for (text, want) in [
            ("prefixes = [\"198.51.100.1/24\"]\n", "line 1: \"198.51.100.1/24\" has host bits set; did you mean 198.51.100.0/24?"),
            ("prefixes = [\"198.51.100.0/24\"]\n[templates.a]\npersonality = \"beos\"\n", "line 3: template a: unknown personality \"beos\""),
            ("prefixes = [\"198.51.100.0/24\"]\n[templates.a]\npersonality = \"linux-5\"\ntcp = \"maybe\"\n", "line 4: template a: unknown action \"maybe\""),
            ("prefixes = [\"198.51.100.0/24\"]\nbogus = 1\n", "line 2: unknown field `bogus`"),
            ("prefixes = [\"198.51.100.0/24\"]\n[templates.a]\npersonality = \"linux-5\"\n[[bind]]\naddresses = \"10.0.0.0/8\"\ntemplate = \"a\"\n", "line 5: bind 10.0.0.0/8 is outside every claimed prefix"),
            ("prefixes = [\"198.51.100.0/24\", \"198.51.100.128/25\"]\n", "overlaps"),
            ("prefixes = []\n", "no prefixes and no [[listen]] entries"),
            ("[[listen]]\naddress = \"0.0.0.0\"\nservice = \"echo\"\n", "line 2: listen: \"0.0.0.0\" is not an address and port"),
            ("[[listen]]\naddress = \"0.0.0.0:23\"\nservice = \"ssh\"\n", "line 3: listen 0.0.0.0:23: no service \"ssh\"; there are: echo, discard"),
        ] {
            let e = Config::parse(text).unwrap_err().to_string();
            assert!(e.starts_with(want) || e.contains(want), "{e}\n  want {want}");
        }
    }

    #[test]
    fn prefixes() {
        let p: Prefix = "0.0.0.0/0".parse().unwrap();
        assert!(p.contains("1.2.3.4".parse().unwrap()));
        assert_eq!(p.size(), 1 << 32);
        let h: Prefix = "203.0.113.9".parse().unwrap();
        assert_eq!(h.len, 32);
        assert!(h.contains("203.0.113.9".parse().unwrap()));
        assert!(!h.contains("203.0.113.8".parse().unwrap()));
        assert!("1.2.3.4/33".parse::<Prefix>().is_err());
    }
}
