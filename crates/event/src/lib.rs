//! The honeyscope event model and its text formats.
//!
//! One enum, [`Event`], holds everything a sensor records. Every format is a projection of
//! it, documented field by field in `docs/EVENTS.md`:
//!
//! - [`honeyd`]: the packet log of `honeyd -l`, read and written byte for byte;
//! - [`jsonl`]: one JSON object per line, the documented schema;
//! - the Parquet store lives in `honeyscope-analyze` and uses the same fields.
//!
//! This crate knows nothing of packets' bytes or sockets.

pub mod honeyd;
pub mod input;
pub mod jsonl;
pub mod model;
pub mod proto;
pub mod text;
pub mod time;

pub use model::{
    Event, HttpEvent, LifecycleEvent, LogState, PacketEvent, PacketKind, PayloadEvent,
    SessionEvent, SessionEventId, TcpFlags,
};
pub use time::{LocalZone, StampReader, Timestamp};
