//! Wire formats for honeyscope: packet-capture files and per-packet summaries.
//!
//! * [`capture`] reads classic pcap and pcapng captures from any
//!   [`std::io::Read`] into [`Frame`]s, and writes classic pcap with
//!   [`PcapWriter`].
//! * [`probe`] turns one frame into the [`Probe`] a network telescope logs:
//!   addresses, protocol, ports, TCP flags or ICMP type and code.
//! * [`ethernet`] and [`arp`] read and write the frames a sensor on a LAN sees and sends.
//! * [`os_class`] maps fingerprint labels (Honeyd's and p0f's) onto OS classes.
//! * [`p0f`] fingerprints TCP SYNs and SYN+ACKs with p0f v3 signatures.
//! * [`personality`] describes how an impersonated stack answers; [`reply`] builds those
//!   answers (SYN+ACK, RST, ICMP); [`cookie`] makes and checks stateless SYN cookies.
//!
//! This crate does no I/O of its own and treats every byte it is given as
//! hostile: no input makes it panic, and no input makes it allocate more than
//! a bounded amount (see [`capture::MAX_RECORD_LEN`]).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod arp;
pub mod capture;
pub mod cookie;
pub mod ethernet;
pub mod os_class;
pub mod p0f;
pub mod personality;
pub mod probe;
pub mod reply;

pub use capture::{CaptureError, CaptureFormat, CaptureReader, Frame, LinkType, PcapWriter};
pub use probe::{probe_from_frame, Probe, ProbeError};
