//! Telnet (issue 7), built up in layers, each sans-IO:
//!
//! * [`protocol`]: the Telnet protocol — option negotiation, subnegotiations, `IAC`
//!   escaping — bytes in, data and answers out;
//! * [`lines`]: what the client types, as lines, whatever their ends and however the
//!   network split them;
//! * [`auth`]: who gets in — accept all, a Cowrie-style user database, or refuse the first
//!   tries — with pairs that got in remembered across addresses.
//!
//! The service itself (device profiles, the login, the BusyBox shell, capture) is not
//! written yet, so no config can name `telnet` as a service; a `telnet` port completes the
//! handshake as `open` does until it is.

pub mod auth;
pub mod lines;
pub mod protocol;
