//! Where the engine's packets come from and its replies go: one trait, three kinds.
//!
//! * [`crate::tun::Tun`]: a TUN device, for prefixes routed to this host.
//! * [`crate::af_packet::AfPacket`]: an Ethernet interface, for addresses on a LAN, with ARP
//!   answered by [`crate::lan`].
//! * [`crate::offline::CaptureSource`]: a capture file, replies written to another.
//!
//! [`drive`] is the one loop that runs any of them through the [`Engine`]: the live mode and
//! the offline mode differ only in their source and in where events go.

use std::io::{self, Write};
use std::ops::Range;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use honeyscope_event::Event;
use honeyscope_wire::capture::{LinkType, PcapWriter};

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

use crate::engine::{Engine, Output};
use crate::host::ServiceHost;
use crate::lan::LanStats;

/// What [`PacketSource::recv`] got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recv {
    /// An IP packet at `range` of the buffer, which arrived at `ts_us` (microseconds since
    /// the epoch): the time the engine stamps it with.
    Packet {
        /// Where the packet is in the buffer.
        range: Range<usize>,
        /// When it arrived.
        ts_us: i64,
    },
    /// Nothing within the timeout.
    Idle,
    /// There will be no more (the end of a capture).
    End,
}

/// Counters a source keeps of its own.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SourceStats {
    /// Packets the kernel dropped before we read them, if it says.
    pub kernel_drops: Option<u64>,
    /// Input that was not an IP packet for the engine (capture frames of other kinds).
    pub not_ip: u64,
    /// The LAN layer's counters (AF_PACKET only).
    pub lan: Option<LanStats>,
    /// Frames of the source's own (ARP answers and probes) the interface refused.
    pub link_send_errors: u64,
}

/// A packet source: IP packets in, IP replies out.
pub trait PacketSource {
    /// Reads the next IP packet into `buf`, waiting at most `timeout`.
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<Recv>;
    /// Sends one IP reply. An error is counted by the caller, not retried.
    fn send(&mut self, packet: &[u8]) -> io::Result<()>;
    /// The time now, for the engine's timers: the clock when live, the last packet's time
    /// in a capture.
    fn now_us(&self) -> i64;
    /// The source's own counters.
    fn stats(&self) -> SourceStats;
    /// A name for messages ("TUN device hs0", "interface eth1 (…)", "capture").
    fn describe(&self) -> String;
    /// Writes out whatever the source buffers (a capture of replies, a recording); called
    /// once at the end of a run.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// The descriptor that is readable when a packet may be waiting, for the loop to wait
    /// on; `None` for a source that never waits (a capture).
    fn fd(&self) -> Option<RawFd> {
        None
    }
    /// Whether this is a replay (a capture): then the loop lets the services finish what
    /// each packet gave them before the next, so every run gives the same replies.
    fn replays(&self) -> bool {
        false
    }
}

impl<S: PacketSource + ?Sized> PacketSource for Box<S> {
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<Recv> {
        (**self).recv(buf, timeout)
    }
    fn send(&mut self, packet: &[u8]) -> io::Result<()> {
        (**self).send(packet)
    }
    fn now_us(&self) -> i64 {
        (**self).now_us()
    }
    fn stats(&self) -> SourceStats {
        (**self).stats()
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn flush(&mut self) -> io::Result<()> {
        (**self).flush()
    }
    fn fd(&self) -> Option<RawFd> {
        (**self).fd()
    }
    fn replays(&self) -> bool {
        (**self).replays()
    }
}

/// A source whose every packet is also written to a capture (raw IP), stamped with the time
/// the engine was given. Running that capture offline, with the same config and cookie key,
/// gives the same logs and replies byte for byte. A failed write stops the run: a recording
/// with holes would not be what was asked for.
pub struct Recording<S, W: Write> {
    inner: S,
    capture: PcapWriter<W>,
}

impl<S: PacketSource, W: Write> Recording<S, W> {
    /// Records what `inner` reads into `capture`.
    pub fn new(inner: S, capture: W) -> io::Result<Self> {
        Ok(Recording {
            inner,
            capture: PcapWriter::new(capture, LinkType::RawIp)?,
        })
    }
}

impl<S: PacketSource, W: Write> PacketSource for Recording<S, W> {
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<Recv> {
        let r = self.inner.recv(buf, timeout)?;
        if let Recv::Packet { range, ts_us } = &r {
            let packet = buf.get(range.clone()).unwrap_or_default();
            self.capture
                .write_frame(*ts_us, packet)
                .map_err(|e| io::Error::new(e.kind(), format!("writing the recording: {e}")))?;
        }
        Ok(r)
    }
    fn send(&mut self, packet: &[u8]) -> io::Result<()> {
        self.inner.send(packet)
    }
    fn now_us(&self) -> i64 {
        self.inner.now_us()
    }
    fn stats(&self) -> SourceStats {
        self.inner.stats()
    }
    fn describe(&self) -> String {
        format!("{} (recorded)", self.inner.describe())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()?;
        self.capture.flush()
    }
    fn fd(&self) -> Option<RawFd> {
        self.inner.fd()
    }
    fn replays(&self) -> bool {
        self.inner.replays()
    }
}

/// No packets at all: the sensor claims nothing and serves only its kernel listeners
/// (`[[listen]]`).
#[derive(Debug, Default)]
pub struct NoPackets;

impl PacketSource for NoPackets {
    fn recv(&mut self, _buf: &mut [u8], _timeout: Duration) -> io::Result<Recv> {
        Ok(Recv::Idle)
    }
    fn send(&mut self, _packet: &[u8]) -> io::Result<()> {
        Err(io::Error::other("no packet source to send on"))
    }
    fn now_us(&self) -> i64 {
        crate::sys::now_us()
    }
    fn stats(&self) -> SourceStats {
        SourceStats::default()
    }
    fn describe(&self) -> String {
        "kernel sockets only (no prefix claimed)".into()
    }
}

/// What [`drive`] counted.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Drive {
    /// Packets read from the source.
    pub received: u64,
    /// Replies sent.
    pub sent: u64,
    /// Replies the source refused (counted, not retried).
    pub send_errors: u64,
    /// Replay only: packets after which a service was still busy when the loop stopped
    /// waiting for it ([`SETTLE_PATIENCE`]); its replies may differ from run to run.
    pub unsettled: u64,
}

/// How long a replay waits, after a packet, for the services to finish with it.
pub const SETTLE_PATIENCE: Duration = Duration::from_secs(5);

/// Packets read before the services get a turn: few enough that a session's receive
/// buffer (64 KB) does not fill before its service reads.
const BATCH: usize = 16;

/// Runs `source` through `engine` until the source ends or `stop` is set, then ends the
/// flows still open. Replies go back to the source; each packet's events go to `events`,
/// which takes them (its error stops the run). `tick` runs after every step, for counters.
/// When nothing arrives, the loop waits at most `idle` before running the timers again.
///
/// The loop runs inside the engine's service runtime ([`crate::host`]): after every batch
/// of packets it yields, the services run on what arrived, and what they wrote is sent.
/// Timers run before each packet at that packet's time, and at the clock's time when the
/// source is idle, so the same packets at the same times give the same events in the same
/// order, live or offline; a replay also lets the services finish with each packet before
/// the next.
pub fn drive<S: PacketSource + ?Sized>(
    engine: &mut Engine<'_>,
    source: &mut S,
    stop: &AtomicBool,
    idle: Duration,
    events: impl FnMut(&mut Vec<Event>) -> io::Result<()>,
    tick: impl FnMut(&Engine<'_>, &S, &Drive),
) -> io::Result<Drive> {
    let host = engine.services()?.clone();
    host.block_on(drive_in(engine, &host, source, stop, idle, events, tick))
}

/// A descriptor for tokio's reactor to watch (the source keeps owning it).
struct Watched(RawFd);

impl std::os::fd::AsRawFd for Watched {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

async fn drive_in<S: PacketSource + ?Sized>(
    engine: &mut Engine<'_>,
    host: &ServiceHost,
    source: &mut S,
    stop: &AtomicBool,
    idle: Duration,
    mut events: impl FnMut(&mut Vec<Event>) -> io::Result<()>,
    mut tick: impl FnMut(&Engine<'_>, &S, &Drive),
) -> io::Result<Drive> {
    let mut d = Drive::default();
    let mut buf = vec![0u8; crate::MAX_PACKET];
    let mut out = Output::default();
    let replay = source.replays();
    let ready = host.ready().clone();
    let watched = match source.fd() {
        // SAFETY: the source owns `fd` and is borrowed for all of this function, which
        // drops the registration before it returns: the descriptor stays open and the
        // same while registered.
        Some(fd) => Some(
            unsafe { AsyncFd::register_with_interest(Watched(fd), Interest::READABLE) }
                .map_err(|e| io::Error::other(format!("watching the source: {e}")))?,
        ),
        None => None,
    };
    while !stop.load(Ordering::Relaxed) {
        let sent_before = d.sent;
        let mut read = 0;
        let mut ended = false;
        while read < BATCH {
            match source.recv(&mut buf, Duration::ZERO)? {
                Recv::Packet { range, ts_us } => {
                    read += 1;
                    d.received += 1;
                    engine.poll(ts_us, &mut out);
                    engine.packet(ts_us, buf.get(range).unwrap_or_default(), &mut out);
                    if replay && !settle(engine, host, ts_us, &mut out).await {
                        d.unsettled += 1;
                    }
                }
                Recv::Idle => break,
                Recv::End => {
                    ended = true;
                    break;
                }
            }
        }
        flush(&mut out, source, &mut d, &mut events)?;
        if ended {
            break;
        }
        if !replay {
            // The services' turn if one has something to do, then what they wrote goes out
            // (and the timers run).
            if host.running() > 0 {
                tokio::task::yield_now().await;
            }
            engine.poll(source.now_us(), &mut out);
            flush(&mut out, source, &mut d, &mut events)?;
        }
        tick(engine, source, &d);
        // Something read, or something sent (an ACK makes the peer's kernel send more at
        // once): look again before waiting.
        if read > 0 || d.sent > sent_before || replay {
            continue;
        }
        // Nothing waiting: sleep until a packet, a service's output, or the next timer.
        let now = source.now_us();
        let wait = engine
            .poll_timeout()
            .map_or(idle, |t| {
                Duration::from_micros(t.saturating_sub(now).max(0) as u64)
            })
            .min(idle);
        let device = async {
            match &watched {
                Some(w) => match w.readable().await {
                    Ok(mut guard) => guard.clear_ready(),
                    Err(_) => std::future::pending().await,
                },
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = device => {}
            () = ready.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
    engine.finish(source.now_us(), &mut out);
    flush(&mut out, source, &mut d, &mut events)?;
    tick(engine, source, &d);
    source.flush()?;
    Ok(d)
}

/// A replay's wait after a packet: the services run until every one waits again, and the
/// sessions they wrote to are stepped, in key order, at the packet's time. False when a
/// service was still busy after [`SETTLE_PATIENCE`].
pub(crate) async fn settle(
    engine: &mut Engine<'_>,
    host: &ServiceHost,
    now_us: i64,
    out: &mut Output,
) -> bool {
    let start = std::time::Instant::now();
    loop {
        while host.running() > 0 {
            if start.elapsed() > SETTLE_PATIENCE {
                return false;
            }
            tokio::task::yield_now().await;
        }
        if host.settled() {
            return true;
        }
        engine.run_ready(now_us, out);
    }
}

fn flush<S: PacketSource + ?Sized>(
    out: &mut Output,
    source: &mut S,
    d: &mut Drive,
    events: &mut impl FnMut(&mut Vec<Event>) -> io::Result<()>,
) -> io::Result<()> {
    for r in out.replies.drain(..) {
        match source.send(&r) {
            Ok(()) => d.sent += 1,
            Err(_) => d.send_errors += 1,
        }
    }
    if !out.events.is_empty() {
        events(&mut out.events)?;
        out.events.clear();
    }
    Ok(())
}
