//! The services bots talk to once a TCP connection is up.
//!
//! Every service is an `async fn` over a byte stream (tokio's `AsyncRead + AsyncWrite`) and
//! the connection's addresses. It does not know what carries the stream: the sensor's
//! user-space TCP sessions on claimed addresses, or an ordinary kernel socket from a
//! `[[listen]]` entry. The transport logs the connection's start and end; a service only
//! reads, writes and returns.
//!
//! * [`echo`]: sends back what it receives (RFC 862), for checking a deployment.
//! * [`discard`]: reads and drops what it receives (RFC 863).
//! * [`telnet`]: an IoT device's Telnet login and shell, for bots to log into and finish
//!   their attack on: [`device`] profiles say which device, [`shell`] is its BusyBox,
//!   [`capture`] keeps what the bots leave, [`asciicast`] records each session, and the
//!   opt-in [`fetch`]er gets what they download ([`url`]).
//! * [`http`]: the same device's web interface, recognising the IoT exploits sent to it.

#![warn(missing_docs)]

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

pub mod asciicast;
pub mod capture;
pub mod device;
pub mod discard;
pub mod echo;
pub mod elf;
pub mod fetch;
pub mod http;
pub mod shell;
pub mod telnet;
pub mod url;

/// Where services send their records (session events); the transport decides where they
/// go from there.
pub type EventSink = Arc<dyn Fn(honeyscope_event::Event) + Send + Sync>;

/// The addresses of one connection, as the service's log records should show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnInfo {
    /// The client.
    pub peer: SocketAddr,
    /// Our end: the claimed address and port, or a listener's address with its reported
    /// port.
    pub local: SocketAddr,
}

/// One connection as a service gets it.
#[derive(Clone)]
pub struct Conn {
    /// Its addresses.
    pub info: ConnInfo,
    /// Its bounds.
    pub limits: Limits,
    /// The device this address answers as (Telnet, HTTP).
    pub device: Option<Arc<shell::Device>>,
    /// The Telnet service, when it runs.
    pub telnet: Option<Arc<telnet::service::TelnetService>>,
    /// The HTTP service, when it runs.
    pub http: Option<Arc<http::service::HttpService>>,
}

/// Bounds every service keeps to, set by the transport from the sensor's config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest a service waits for the client to send or to take what it sent.
    pub idle: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            idle: Duration::from_secs(120),
        }
    }
}

/// The services there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// [`echo`].
    Echo,
    /// [`discard`].
    Discard,
    /// [`telnet`]: a device's login and shell.
    Telnet,
    /// [`http`]: a device's web interface.
    Http,
}

impl Service {
    /// Every service, for messages and docs.
    pub const ALL: &'static [Service] = &[
        Service::Echo,
        Service::Discard,
        Service::Telnet,
        Service::Http,
    ];

    /// The service a config name stands for.
    pub fn named(name: &str) -> Option<Service> {
        Service::ALL.iter().copied().find(|s| s.name() == name)
    }

    /// Every service's name, for messages: "echo, discard".
    pub fn names() -> String {
        Service::ALL
            .iter()
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Its name in the config.
    pub fn name(self) -> &'static str {
        match self {
            Service::Echo => "echo",
            Service::Discard => "discard",
            Service::Telnet => "telnet",
            Service::Http => "http",
        }
    }

    /// Serves one connection until the client is done, an error, or a limit.
    pub async fn serve<S>(self, stream: S, conn: Conn) -> io::Result<()>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        match self {
            Service::Echo => echo::serve(stream, conn.limits).await,
            Service::Discard => discard::serve(stream, conn.limits).await,
            Service::Telnet => match (conn.telnet, conn.device) {
                (Some(service), Some(device)) => {
                    telnet::service::serve(stream, conn.info, conn.limits, service, device).await
                }
                _ => Err(io::Error::other(
                    "telnet: no service or device profile set up",
                )),
            },
            Service::Http => match (conn.http, conn.device) {
                (Some(service), Some(device)) => {
                    http::service::serve(stream, conn.info, conn.limits, service, device).await
                }
                _ => Err(io::Error::other(
                    "http: no service or device profile set up",
                )),
            },
        }
    }
}

/// A fresh session id: 12 hex digits, as Cowrie's; unpredictable, and never the same twice
/// in a process.
pub fn session_id(info: &ConnInfo) -> String {
    use std::hash::{BuildHasher, Hash, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static SESSIONS: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    SESSIONS.fetch_add(1, Ordering::Relaxed).hash(&mut h);
    info.peer.hash(&mut h);
    format!("{:012x}", h.finish() & 0xffff_ffff_ffff)
}

/// The wall clock in microseconds since 1970: the time of service events.
pub(crate) fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// `io` within `limits.idle`, or a `TimedOut` error.
async fn within<T>(
    limits: Limits,
    io: impl std::future::Future<Output = io::Result<T>>,
) -> io::Result<T> {
    tokio::time::timeout(limits.idle, io)
        .await
        .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()))
}
