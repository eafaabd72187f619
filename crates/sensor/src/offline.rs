//! The sensor on a capture file: every frame goes through the [`Engine`] at its capture
//! time; events come out as the live sensor writes them, and the replies go to a capture
//! (raw IPv4, one frame per reply, stamped with the time of the packet that caused it).

use std::io::{self, Read, Write};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use honeyscope_wire::capture::{CaptureError, CaptureReader, LinkType, PcapWriter};
use honeyscope_wire::probe::link_ip;

use crate::engine::Engine;
use crate::log::EventLog;
use crate::source::{self, PacketSource, Recv, SourceStats};

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
    Write(#[from] io::Error),
}

/// The link type replies are written with.
pub const REPLY_LINK: LinkType = LinkType::RawIp;

/// A capture file as a packet source: frames at their capture times, replies to another
/// capture (or nowhere).
pub struct CaptureSource<'w, R: Read, W: Write> {
    reader: CaptureReader<R>,
    replies: Option<&'w mut PcapWriter<W>>,
    last_us: i64,
    frames: u64,
    not_ip: u64,
    /// The first error, kept so that the run can say what it was.
    capture_error: Option<CaptureError>,
    write_error: Option<io::Error>,
}

impl<'w, R: Read, W: Write> CaptureSource<'w, R, W> {
    /// A source reading `capture`, writing replies to `replies` when given.
    pub fn new(capture: R, replies: Option<&'w mut PcapWriter<W>>) -> Result<Self, CaptureError> {
        Ok(CaptureSource {
            reader: CaptureReader::new(capture)?,
            replies,
            last_us: 0,
            frames: 0,
            not_ip: 0,
            capture_error: None,
            write_error: None,
        })
    }
}

impl<R: Read, W: Write> PacketSource for CaptureSource<'_, R, W> {
    fn recv(&mut self, buf: &mut [u8], _timeout: Duration) -> io::Result<Recv> {
        loop {
            let frame = match self.reader.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => return Ok(Recv::End),
                Err(e) => {
                    let io = io::Error::new(io::ErrorKind::InvalidData, e.to_string());
                    self.capture_error = Some(e);
                    return Err(io);
                }
            };
            self.frames += 1;
            self.last_us = frame.ts_us;
            let Some(ip) = link_ip(frame.link, frame.data) else {
                self.not_ip += 1;
                continue;
            };
            let len = ip.len().min(buf.len());
            buf[..len].copy_from_slice(&ip[..len]);
            return Ok(Recv::Packet {
                range: 0..len,
                ts_us: frame.ts_us,
            });
        }
    }

    fn send(&mut self, packet: &[u8]) -> io::Result<()> {
        let Some(w) = self.replies.as_deref_mut() else {
            return Ok(());
        };
        w.write_frame(self.last_us, packet).inspect_err(|e| {
            if self.write_error.is_none() {
                self.write_error = Some(io::Error::new(e.kind(), e.to_string()));
            }
        })
    }

    fn replays(&self) -> bool {
        true
    }

    fn now_us(&self) -> i64 {
        self.last_us
    }

    fn stats(&self) -> SourceStats {
        SourceStats {
            not_ip: self.not_ip,
            ..SourceStats::default()
        }
    }

    fn describe(&self) -> String {
        "capture".into()
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.replies.as_deref_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

/// Runs every frame of `capture` through `engine`, then ends the flows still open. Events
/// go to `log`, replies to `replies` when given.
pub fn replay<W: Write>(
    engine: &mut Engine<'_>,
    capture: impl Read,
    log: &mut EventLog,
    replies: Option<&mut PcapWriter<W>>,
) -> Result<Replay, ReplayError> {
    let mut src = CaptureSource::new(capture, replies)?;
    let mut events = 0u64;
    let never = AtomicBool::new(false);
    let run = source::drive(
        engine,
        &mut src,
        &never,
        Duration::ZERO,
        |batch| {
            for ev in batch.iter() {
                log.write(ev)?;
            }
            events += batch.len() as u64;
            Ok(())
        },
        |_, _, _| {},
    );
    if let Some(e) = src.capture_error.take() {
        return Err(ReplayError::Capture(e));
    }
    let d = run?;
    if let Some(e) = src.write_error.take() {
        return Err(ReplayError::Write(e));
    }
    let r = Replay {
        frames: src.frames,
        not_ip: src.not_ip,
        events,
        replies: d.sent,
    };
    log.flush()?;
    Ok(r)
}
