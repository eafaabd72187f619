//! The honeyscope sensor: claim unused address space, log every packet sent to it, answer
//! as each address's template and personality say.
//!
//! * [`config`] reads and checks the TOML configuration (and holds the built-in one).
//! * [`honeyd_import`] turns a Honeyd config into ours, listing what it cannot carry.
//! * [`engine`] is the sans-IO core: packets and time in, replies and events out.
//! * [`offline`] drives the engine from a capture file: the same events come out as live,
//!   and the replies go to a capture.
//! * [`source`] is the packet-source trait and the one loop that drives the engine from any
//!   of them: a [`tun`] device, an Ethernet interface ([`af_packet`], with ARP from the
//!   sans-IO [`lan`] layer), or a capture ([`offline`]).
//! * [`live`] runs a live source with the log written off the packet path; [`sys`] holds the
//!   system calls the live sources share.
//! * [`tcp`] is the sans-IO TCP connection the session layer carries services on; the
//!   engine's session table drives it (`echo` and `discard` so far, issue 6).
//! * [`log`] writes events as Honeyd lines and JSON lines; [`metrics`] serves Prometheus
//!   counters.

#![warn(missing_docs)]

pub mod af_packet;
pub mod config;
pub mod engine;
pub mod honeyd_import;
pub mod host;
pub mod lan;
pub mod listen;
pub mod live;
pub mod log;
pub mod metrics;
pub mod offline;
pub mod os_cache;
pub mod service_config;
pub mod source;
mod stream;
pub mod sys;
pub mod tcp;
pub mod tun;

/// Largest packet a source hands the engine (a TUN device's default MTU is 1500, jumbo
/// Ethernet 9000; this leaves room).
pub const MAX_PACKET: usize = 65_536;

pub use config::{Config, ConfigError};
pub use engine::{Engine, Output, Stats};
