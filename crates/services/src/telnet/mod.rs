//! Telnet (issue 7), built in layers, each sans-IO but the last:
//!
//! * [`protocol`]: the Telnet protocol — option negotiation, subnegotiations, `IAC`
//!   escaping — bytes in, data and answers out;
//! * [`lines`]: what the client types, as lines, whatever their ends and however the
//!   network split them;
//! * [`auth`]: who gets in — accept all, a Cowrie-style user database, or refuse the first
//!   tries — with pairs that got in remembered across addresses;
//! * [`session`]: one connection as a device answers it — login, then the vendor CLI or
//!   the BusyBox shell ([`crate::shell`]);
//! * [`service`]: the async loop that drives a session over a stream and records it
//!   (Cowrie-named events, stored files, an asciicast transcript);
//! * [`bot`]: a client that talks as Mirai's scanner and loader do, to check a deployment
//!   and for the tests and the benchmark.

pub mod auth;
pub mod bot;
pub mod lines;
pub mod protocol;
pub mod service;
pub mod session;
