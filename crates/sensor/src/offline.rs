//! The sensor on a capture file: every frame goes through the [`Engine`] at its capture
//! time; events come out as the live sensor writes them, and the replies go to a capture
//! (raw IPv4, one frame per reply, stamped with the time of the packet that caused it).

use std::io::{Read, Write};

use honeyscope_event::{honeyd, jsonl, Event, LocalZone};
use honeyscope_wire::capture::{CaptureError, CaptureReader, LinkType, PcapWriter};
use honeyscope_wire::probe::link_ip;

use crate::engine::{Engine, Output};

/// Where the offline run's outputs go. Each is optional.
pub struct Sinks<'a> {
    /// The Honeyd-format packet log, with times in `tz`.
    pub honeyd: Option<(&'a mut dyn Write, &'a LocalZone)>,
    /// JSON lines, one event each.
    pub json: Option<&'a mut dyn Write>,
    /// Our replies.
    pub replies: Option<PcapWriter<&'a mut dyn Write>>,
}

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

/// Runs every frame of `capture` through `engine`, then ends the flows still open.
pub fn replay(
    engine: &mut Engine<'_>,
    capture: impl Read,
    sinks: &mut Sinks<'_>,
) -> Result<Replay, ReplayError> {
    let mut reader = CaptureReader::new(capture)?;
    let mut r = Replay::default();
    let mut out = Output::default();
    let mut line = String::with_capacity(256);
    let mut last_us = 0i64;
    while let Some(frame) = reader.next_frame()? {
        r.frames += 1;
        last_us = frame.ts_us;
        engine.poll(frame.ts_us, &mut out);
        match link_ip(frame.link, frame.data) {
            Some(ip) => engine.packet(frame.ts_us, ip, &mut out),
            None => r.not_ip += 1,
        }
        drain(&mut out, frame.ts_us, sinks, &mut line, &mut r)?;
    }
    engine.finish(last_us, &mut out);
    drain(&mut out, last_us, sinks, &mut line, &mut r)?;
    if let Some(w) = sinks.replies.as_mut() {
        w.flush()?;
    }
    Ok(r)
}

fn drain(
    out: &mut Output,
    ts_us: i64,
    sinks: &mut Sinks<'_>,
    line: &mut String,
    r: &mut Replay,
) -> Result<(), ReplayError> {
    for ev in out.events.drain(..) {
        write_event(&ev, sinks, line)?;
        r.events += 1;
    }
    for reply in out.replies.drain(..) {
        if let Some(w) = sinks.replies.as_mut() {
            w.write_frame(ts_us, &reply)?;
        }
        r.replies += 1;
    }
    Ok(())
}

fn write_event(ev: &Event, sinks: &mut Sinks<'_>, line: &mut String) -> std::io::Result<()> {
    if let Some((w, tz)) = sinks.honeyd.as_mut() {
        line.clear();
        honeyd::write_event(ev, tz, line);
        w.write_all(line.as_bytes())?;
    }
    if let Some(w) = sinks.json.as_mut() {
        line.clear();
        jsonl::write_event(ev, line);
        w.write_all(line.as_bytes())?;
    }
    Ok(())
}

/// The link type replies are written with.
pub const REPLY_LINK: LinkType = LinkType::RawIp;
