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
    /// For Telnet: the shared service and the device this address answers as.
    pub telnet: Option<(Arc<telnet::service::TelnetService>, Arc<shell::Device>)>,
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
}

impl Service {
    /// Every service, for messages and docs.
    pub const ALL: &'static [Service] = &[Service::Echo, Service::Discard, Service::Telnet];

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
            Service::Telnet => match conn.telnet {
                Some((service, device)) => {
                    telnet::service::serve(stream, conn.info, conn.limits, service, device).await
                }
                None => Err(io::Error::other(
                    "telnet: no service or device profile set up",
                )),
            },
        }
    }
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
