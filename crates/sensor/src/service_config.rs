//! The config's `[telnet]`, `[http]` and `[fetch]` tables and the device profiles: which
//! device each address (or listener) answers as, who gets in, what is kept, and whether
//! anything is fetched.
//!
//! ```toml
//! profiles_dir = "/etc/honeyscope/profiles"   # optional: operators' own *.toml profiles
//!
//! [templates.seed]
//! profile = ["dvr", "ipcam"]       # each address keeps one of these, picked by its address
//!
//! [telnet]
//! auth = "accept-all"              # or "userdb" (with userdb = "path") or "reject-first"
//! reject_first = 1                 # with auth = "reject-first"
//! remember_secs = 86400            # a pair that got in gets in from anywhere this long
//! max_commands = 10000             # and max_line, max_tries, session_secs, fs_bytes
//! transcripts = true               # asciicast per session under <data_dir>/sessions
//!
//! [http]
//! max_body = 1048576               # and max_header, max_requests, header_secs, keep_alive_secs,
//!                                  # connection_secs
//! signatures = "my-exploits.toml"  # more exploit signatures, besides the built-in ones
//!
//! [fetch]                          # absent: nothing is ever fetched, by any service
//! max_bytes = 8388608
//! timeout_secs = 30
//! rate_bytes_per_sec = 1048576
//! ```

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use honeyscope_services::capture::Store;
use honeyscope_services::device::{self, Profile};
use honeyscope_services::fetch::{FetchLimits, Fetcher};
use honeyscope_services::http::conn::HttpLimits;
use honeyscope_services::http::exploit::Signatures;
use honeyscope_services::http::service::{HttpService, HttpStats};
use honeyscope_services::shell::Device;
use honeyscope_services::telnet::auth::{Auth, Policy};
use honeyscope_services::telnet::service::{TelnetService, TelnetStats};
use honeyscope_services::telnet::session::SessionLimits;
use honeyscope_services::EventSink;
use serde::Deserialize;

/// The `[telnet]` table as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTelnet {
    auth: Option<String>,
    userdb: Option<String>,
    reject_first: Option<u32>,
    remember_secs: Option<u64>,
    max_tries: Option<u32>,
    max_line: Option<usize>,
    max_commands: Option<u64>,
    session_secs: Option<u64>,
    fs_bytes: Option<usize>,
    transcripts: Option<bool>,
    transcript_bytes: Option<usize>,
}

/// The `[http]` table as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHttp {
    max_header: Option<usize>,
    max_headers: Option<usize>,
    max_body: Option<usize>,
    max_requests: Option<u32>,
    header_secs: Option<u64>,
    keep_alive_secs: Option<u64>,
    connection_secs: Option<u64>,
    signatures: Option<String>,
}

/// The `[fetch]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFetch {
    max_bytes: Option<u64>,
    timeout_secs: Option<u64>,
    rate_bytes_per_sec: Option<u64>,
    max_concurrent: Option<usize>,
    allow_local: Option<bool>,
}

/// The checked `[telnet]` settings.
#[derive(Debug, Clone)]
pub struct TelnetSettings {
    /// Who gets in.
    pub policy: Policy,
    /// How long a pair that got in is let in again from any address.
    pub remember_secs: u64,
    /// Per-connection bounds.
    pub limits: SessionLimits,
    /// The longest a connection lasts.
    pub session_secs: u64,
    /// Whether each session's asciicast transcript is kept.
    pub transcripts: bool,
    /// Bytes of transcript kept per session.
    pub transcript_bytes: usize,
}

impl Default for TelnetSettings {
    fn default() -> Self {
        TelnetSettings {
            policy: Policy::AcceptAll,
            remember_secs: 86_400,
            limits: SessionLimits::default(),
            session_secs: 1_800,
            transcripts: true,
            transcript_bytes: 1 << 20,
        }
    }
}

impl TelnetSettings {
    /// Checks the table; `base` is the config file's directory, for a relative `userdb`.
    pub(crate) fn from_raw(raw: RawTelnet, base: Option<&Path>) -> Result<Self, String> {
        let mut s = TelnetSettings::default();
        s.policy = match raw.auth.as_deref() {
            None | Some("accept-all") => Policy::AcceptAll,
            Some("reject-first") => Policy::RejectThenAccept(raw.reject_first.unwrap_or(1)),
            Some("userdb") => {
                let path = raw.userdb.as_deref().ok_or(
                    "telnet: auth = \"userdb\" needs userdb = \"path/to/userdb.txt\" (Cowrie's form)",
                )?;
                let path = base.map_or_else(|| PathBuf::from(path), |b| b.join(path));
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("telnet: userdb {}: {e}", path.display()))?;
                Policy::database(&text)
                    .map_err(|e| format!("telnet: userdb {}: {e}", path.display()))?
            }
            Some(o) => {
                return Err(format!(
                    "telnet: auth = {o:?}: use \"accept-all\", \"userdb\" or \"reject-first\""
                ))
            }
        };
        s.remember_secs = raw.remember_secs.unwrap_or(s.remember_secs);
        let l = &mut s.limits;
        l.max_tries = raw.max_tries.unwrap_or(l.max_tries).max(1);
        l.max_line = raw.max_line.unwrap_or(l.max_line).clamp(64, 1 << 20);
        l.shell.max_commands = raw.max_commands.unwrap_or(l.shell.max_commands);
        l.shell.fs_bytes = raw.fs_bytes.unwrap_or(l.shell.fs_bytes).min(1 << 30);
        s.session_secs = raw.session_secs.unwrap_or(s.session_secs).max(1);
        s.transcripts = raw.transcripts.unwrap_or(s.transcripts);
        s.transcript_bytes = raw.transcript_bytes.unwrap_or(s.transcript_bytes);
        Ok(s)
    }

    /// The service its connections share: events to `events`, files to `shared`'s store,
    /// transcripts under `data_dir`.
    pub fn service(&self, data_dir: &Path, shared: &Shared) -> Arc<TelnetService> {
        Arc::new(TelnetService {
            auth: Mutex::new(Auth::new(
                self.policy.clone(),
                self.remember_secs as i64 * 1_000_000,
            )),
            limits: self.limits,
            lifetime: Duration::from_secs(self.session_secs),
            artifacts: Some(shared.artifacts.clone()),
            transcripts: self.transcripts.then(|| data_dir.join("sessions")),
            transcript_bytes: self.transcript_bytes,
            fetcher: shared.fetcher.clone(),
            events: shared.events.clone(),
            sensor: shared.sensor.clone(),
            stats: TelnetStats::default(),
        })
    }
}

/// What the services of one sensor share: where files go, the fetcher, where events go.
pub struct Shared {
    /// `<data_dir>/artifacts`, opened once.
    pub artifacts: Store,
    /// The operator's fetcher, if any.
    pub fetcher: Option<Arc<Fetcher>>,
    /// The services' event sink.
    pub events: EventSink,
    /// The sensor named in every event.
    pub sensor: Option<Arc<str>>,
}

impl Shared {
    /// Opens the artifacts directory under `data_dir` and makes the fetcher `fetch` asks for.
    pub fn open(
        data_dir: &Path,
        fetch: Option<FetchLimits>,
        sensor: Option<Arc<str>>,
        events: EventSink,
    ) -> std::io::Result<Shared> {
        Ok(Shared {
            artifacts: Store::open(&data_dir.join("artifacts"))?,
            fetcher: fetch.map(|f| Arc::new(Fetcher::new(f))),
            events,
            sensor,
        })
    }
}

/// The `[fetch]` table: the fetcher's caps, or `None` (nothing is fetched).
pub(crate) fn fetch_limits(raw: Option<RawFetch>) -> Option<FetchLimits> {
    raw.map(|f| {
        let d = FetchLimits::default();
        FetchLimits {
            max_bytes: f.max_bytes.unwrap_or(d.max_bytes),
            timeout: f.timeout_secs.map_or(d.timeout, Duration::from_secs),
            rate_bytes_per_sec: f.rate_bytes_per_sec.unwrap_or(d.rate_bytes_per_sec),
            max_concurrent: f.max_concurrent.unwrap_or(d.max_concurrent),
            allow_local: f.allow_local.unwrap_or(d.allow_local),
            ..d
        }
    })
}

/// The checked `[http]` settings.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Per-connection bounds.
    pub limits: HttpLimits,
    /// The exploits recognised: the built-in signatures and the operator's.
    pub signatures: Arc<Signatures>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            limits: HttpLimits::default(),
            signatures: Arc::new(Signatures::builtin().clone()),
        }
    }
}

impl HttpSettings {
    /// Checks the table.
    pub(crate) fn from_raw(raw: RawHttp) -> Result<Self, String> {
        let d = HttpLimits::default();
        let limits = HttpLimits {
            max_header: raw.max_header.unwrap_or(d.max_header).clamp(1024, 1 << 20),
            max_headers: raw.max_headers.unwrap_or(d.max_headers).clamp(8, 1024),
            max_body: raw.max_body.unwrap_or(d.max_body).min(64 << 20),
            max_requests: raw.max_requests.unwrap_or(d.max_requests).max(1),
            header_secs: raw.header_secs.unwrap_or(d.header_secs).clamp(1, 3600),
            keep_alive_secs: raw
                .keep_alive_secs
                .unwrap_or(d.keep_alive_secs)
                .clamp(1, 3600),
            connection_secs: raw
                .connection_secs
                .unwrap_or(d.connection_secs)
                .clamp(1, 86_400),
        };
        let mut signatures = Signatures::builtin().clone();
        if let Some(path) = &raw.signatures {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("http: signatures {path}: {e}"))?;
            let more =
                Signatures::parse(&text).map_err(|e| format!("http: signatures {path}: {e}"))?;
            signatures.extend(more);
        }
        Ok(HttpSettings {
            limits,
            signatures: Arc::new(signatures),
        })
    }

    /// The service its connections share.
    pub fn service(&self, shared: &Shared) -> Arc<HttpService> {
        Arc::new(HttpService {
            limits: self.limits,
            signatures: self.signatures.clone(),
            artifacts: Some(shared.artifacts.clone()),
            fetcher: shared.fetcher.clone(),
            events: shared.events.clone(),
            sensor: shared.sensor.clone(),
            stats: HttpStats::default(),
        })
    }
}

/// The devices a config can answer as: the built-in profiles and the operator's.
pub(crate) fn load(dir: Option<&Path>) -> Result<BTreeMap<String, Arc<Device>>, String> {
    let mut profiles: Vec<Profile> = Profile::builtin().to_vec();
    if let Some(d) = dir {
        for p in device::load_dir(d)? {
            profiles.retain(|q| q.name != p.name);
            profiles.push(p);
        }
    }
    Ok(profiles
        .into_iter()
        .map(|p| (p.name.clone(), Device::new(p)))
        .collect())
}

/// One of `names`, the same for `ip` every time: a virtual host keeps its device across
/// connections and restarts.
pub(crate) fn pick(names: &[String], ip: Ipv4Addr) -> Option<&String> {
    if names.len() <= 1 {
        return names.first();
    }
    // A fixed multiplicative hash: stable across runs and builds, and neighbours differ.
    let h = u32::from(ip).wrapping_mul(0x9e37_79b1) >> 8;
    names.get(h as usize % names.len())
}
