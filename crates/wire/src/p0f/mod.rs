//! Passive OS fingerprinting of TCP handshakes with p0f v3 signatures.
//!
//! * [`db`] reads a `p0f.fp` file into a [`Database`] of labelled signatures, or gives
//!   honeyscope's own (`builtin.fp`, [`Database::builtin`]).
//! * [`packet`] turns a SYN or SYN+ACK into a [`PacketSig`] and prints its raw signature.
//! * [`cache`] keeps the OS last seen per source, for labelling its later packets.
//! * [`flow`] decides which handshake packets are fingerprinted, as p0f does.
//! * [`observe`] runs frames through all of it: [`Fingerprinter`] → [`Observation`]s.
//! * [`matcher`] finds a packet's label as p0f 3.09b does ([`Database::match_packet`]).
//!
//! The rules follow p0f's code, including where it departs from its README; the
//! departures are listed in `docs/FINGERPRINT.md`, and tests check the labels against
//! Debian's `p0f -r` on the same captures.

mod bounded;
pub mod cache;
pub mod db;
pub mod flow;
pub mod matcher;
pub mod observe;
pub mod packet;
pub mod sig;
pub mod text;

#[cfg(test)]
mod agreement;
#[cfg(test)]
mod builtin_facts;

pub use cache::SourceCache;
pub use db::{Database, DbError, Entry, Label};
pub use flow::Handshakes;
pub use matcher::TcpMatch;
pub use observe::{Counts, Fingerprinter, Observation};
pub use packet::{guess_distance, Direction, NotFingerprinted, PacketSig};
pub use sig::{quirk, OptionLayout, Quirks, SigError, TcpSig, WindowSize};
pub use text::PushText;
