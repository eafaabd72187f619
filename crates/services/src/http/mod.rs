//! An IoT device's web interface, for the bots that send router, DVR and camera exploits
//! to ports 80 and 8080.
//!
//! * [`conn`]: HTTP/1.x framing, sans-IO: whole requests out of a byte stream, pipelined
//!   or split, within caps;
//! * [`exploit`]: which exploit a request is, and the shell commands and downloads it
//!   carries (sans-IO, signatures as data);
//! * [`service`]: the async loop: timers, the device's answers from its profile, and the
//!   records.

pub mod conn;
pub mod exploit;
pub mod service;
