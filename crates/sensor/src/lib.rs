//! The honeyscope sensor: claim unused address space, log every packet sent to it, answer
//! as each address's template and personality say.
//!
//! * [`config`] reads and checks the TOML configuration (and holds the built-in one).
//! * [`honeyd_import`] turns a Honeyd config into ours, listing what it cannot carry.
//! * [`engine`] is the sans-IO core: packets and time in, replies and events out.
//! * [`offline`] drives the engine from a capture file: the same events come out as live,
//!   and the replies go to a capture.
//! * [`live`] drives it from a [`tun`] device, with the log written off the packet path.
//! * [`log`] writes events as Honeyd lines and JSON lines; [`metrics`] serves Prometheus
//!   counters.

#![warn(missing_docs)]

pub mod config;
pub mod engine;
pub mod honeyd_import;
pub mod live;
pub mod log;
pub mod metrics;
pub mod offline;
pub mod tun;

pub use config::{Config, ConfigError};
pub use engine::{Engine, Output, Stats};
