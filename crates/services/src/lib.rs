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
//! * [`telnet`]: the layers of the Telnet service, so far its protocol and line reader.

#![warn(missing_docs)]

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

pub mod discard;
pub mod echo;
pub mod telnet;

/// The addresses of one connection, as the service's log records should show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnInfo {
    /// The client.
    pub peer: SocketAddr,
    /// Our end: the claimed address and port, or a listener's address with its reported
    /// port.
    pub local: SocketAddr,
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
}

impl Service {
    /// Every service, for messages and docs.
    pub const ALL: &'static [Service] = &[Service::Echo, Service::Discard];

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
        }
    }

    /// Serves one connection until the client is done, an error, or a limit.
    pub async fn serve<S>(self, stream: S, info: ConnInfo, limits: Limits) -> io::Result<()>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let _ = info;
        match self {
            Service::Echo => echo::serve(stream, limits).await,
            Service::Discard => discard::serve(stream, limits).await,
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
