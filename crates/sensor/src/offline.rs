//! The sensor on a capture file: every frame goes through the [`Engine`] at its capture
//! time; events come out as the live sensor writes them, and the replies go to a capture
//! (raw IPv4, one frame per reply, stamped with the time of the packet that caused it).

use std::io::{Read, Write};

use honeyscope_wire::capture::{CaptureError, CaptureReader, LinkType, PcapWriter};
use honeyscope_wire::probe::link_ip;

use crate::engine::{Engine, Output};
use crate::log::EventLog;

/// What an offline run read.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Replay {
    /// Frames in the capture.
    pub frames: u64,
    /// Frames that carried no IP packet (ARP, …) or could not be read as one.
    pub not_ip: u64,
    /// Events written.
    pub events: u64,
    /// Replies written.
    pub replies: u64,
}

/// Why an offline run stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The capture could not be read.
    #[error("reading the capture: {0}")]
    Capture(#[from] CaptureError),
    /// An output could not be written.
    #[error("writing the output: {0}")]
    Write(#[from] std::io::Error),
}

/// The link type replies are written with.
pub const REPLY_LINK: LinkType = LinkType::RawIp;

/// Runs every frame of `capture` through `engine`, then ends the flows still open. Events
/// go to `log`, replies to `replies` when given.
pub fn replay<W: Write>(
    engine: &mut Engine<'_>,
    capture: impl Read,
    log: &mut EventLog,
    mut replies: Option<&mut PcapWriter<W>>,
) -> Result<Replay, ReplayError> {
    let mut reader = CaptureReader::new(capture)?;
    let mut r = Replay::default();
    let mut out = Output::default();
    let mut last_us = 0i64;
    while let Some(frame) = reader.next_frame()? {
        r.frames += 1;
        last_us = frame.ts_us;
        engine.poll(frame.ts_us, &mut out);
        match link_ip(frame.link, frame.data) {
            Some(ip) => engine.packet(frame.ts_us, ip, &mut out),
            None => r.not_ip += 1,
        }
        drain(&mut out, frame.ts_us, log, replies.as_deref_mut(), &mut r)?;
    }
    engine.finish(last_us, &mut out);
    drain(&mut out, last_us, log, replies.as_deref_mut(), &mut r)?;
    log.flush()?;
    if let Some(w) = replies {
        w.flush()?;
    }
    Ok(r)
}

fn drain<W: Write>(
    out: &mut Output,
    ts_us: i64,
    log: &mut EventLog,
    mut replies: Option<&mut PcapWriter<W>>,
    r: &mut Replay,
) -> Result<(), ReplayError> {
    for ev in out.events.drain(..) {
        log.write(&ev)?;
        r.events += 1;
    }
    for reply in out.replies.drain(..) {
        if let Some(w) = replies.as_deref_mut() {
            w.write_frame(ts_us, &reply)?;
        }
        r.replies += 1;
    }
    Ok(())
}
