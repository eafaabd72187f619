//! The sensor on a live TUN device: datagrams in, the [`Engine`], replies out, and events to
//! the log through a bounded queue, so writing never holds up the packet path. A full queue
//! drops events and counts them; nothing is lost without a count.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, TrySendError};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use honeyscope_event::Event;

use crate::engine::{Engine, Output, Stats};
use crate::log::EventSink;
use crate::tun::{Tun, MAX_PACKET};

/// How often the engine's timers run when no packet arrives.
const TICK: Duration = Duration::from_millis(100);

/// What a live run did, beyond the engine's own counters.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LiveReport {
    /// The engine's counters.
    pub engine: Stats,
    /// Datagrams read from the device.
    pub received: u64,
    /// Replies written to the device.
    pub sent: u64,
    /// Replies the device refused (counted, not retried).
    pub send_errors: u64,
    /// Events written to the log.
    pub logged: u64,
    /// Events dropped because the log queue was full.
    pub dropped: u64,
    /// Events lost to a failed write (the first error is in `write_error`).
    pub write_failed: u64,
    /// The first write error, if any.
    pub write_error: Option<String>,
    /// Events handed to the log queue so far.
    pub queued: u64,
    /// Completed handshakes waiting for a payload, now.
    pub open_flows: u64,
    /// Datagrams the kernel dropped at the device before we read them (its counter).
    pub kernel_drops: Option<u64>,
}

/// Microseconds since the epoch, now.
fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// Runs until `stop` is set: reads the device, answers, queues events (at most `queue`
/// waiting) for a writer thread. On stop, ends the open flows and flushes the log.
/// When `metrics` is given, the counters are published there every [`TICK`] or so.
pub fn run(
    engine: &mut Engine<'_>,
    tun: &mut Tun,
    mut log: Box<dyn EventSink>,
    queue: usize,
    stop: &AtomicBool,
    metrics: Option<&crate::metrics::Shared>,
) -> io::Result<LiveReport> {
    let (tx, rx) = sync_channel::<Vec<Event>>(queue.max(1));
    let logged = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let writer = {
        let (logged, failed) = (logged.clone(), failed.clone());
        std::thread::Builder::new()
            .name("event-log".into())
            .spawn(move || -> Option<String> {
                let mut first_error = None;
                for batch in rx {
                    if REOPEN.swap(false, Ordering::Relaxed) {
                        if let Err(e) = log.reopen() {
                            first_error.get_or_insert_with(|| e.to_string());
                        }
                    }
                    for ev in &batch {
                        match log.write(ev) {
                            Ok(()) => logged.fetch_add(1, Ordering::Relaxed),
                            Err(e) => {
                                first_error.get_or_insert_with(|| e.to_string());
                                failed.fetch_add(1, Ordering::Relaxed)
                            }
                        };
                    }
                    // Flushed whenever the queue runs dry, so the files stay current.
                    if let Err(e) = log.flush() {
                        first_error.get_or_insert_with(|| e.to_string());
                    }
                }
                if let Err(e) = log.flush() {
                    first_error.get_or_insert_with(|| e.to_string());
                }
                first_error
            })?
    };
    let mut report = LiveReport::default();
    let mut buf = vec![0u8; MAX_PACKET];
    let mut out = Output::default();
    let send = |out: &mut Output, report: &mut LiveReport, tun: &mut Tun| {
        for r in out.replies.drain(..) {
            match tun.send(&r) {
                Ok(()) => report.sent += 1,
                Err(_) => report.send_errors += 1,
            }
        }
        if !out.events.is_empty() {
            let batch = std::mem::take(&mut out.events);
            let n = batch.len() as u64;
            match tx.try_send(batch) {
                Ok(()) => report.queued += n,
                Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                    report.dropped += n;
                }
            }
        }
    };
    let mut published = std::time::Instant::now();
    // The counters as they stand, into `report` and the metrics.
    let snapshot = |report: &mut LiveReport, engine: &Engine<'_>, tun: &Tun| {
        report.engine = engine.stats().clone();
        report.logged = logged.load(Ordering::Relaxed);
        report.write_failed = failed.load(Ordering::Relaxed);
        report.open_flows = engine.open_flows() as u64;
        report.kernel_drops = tun.kernel_drops();
        if let Some(m) = metrics {
            if let Ok(mut shared) = m.lock() {
                *shared = report.clone();
            }
        }
    };
    while !stop.load(Ordering::Relaxed) {
        if let Some(n) = tun.recv(&mut buf, TICK)? {
            report.received += 1;
            engine.packet(now_us(), &buf[..n], &mut out);
        }
        // Due flows end even while packets keep coming.
        engine.poll(now_us(), &mut out);
        send(&mut out, &mut report, tun);
        if metrics.is_some() && published.elapsed() >= TICK {
            snapshot(&mut report, engine, tun);
            published = std::time::Instant::now();
        }
    }
    engine.finish(now_us(), &mut out);
    send(&mut out, &mut report, tun);
    drop(tx);
    report.write_error = writer
        .join()
        .unwrap_or(Some("the log writer panicked".into()));
    snapshot(&mut report, engine, tun);
    Ok(report)
}

/// Set by SIGHUP: the log writer reopens its files before its next batch.
static REOPEN: AtomicBool = AtomicBool::new(false);

/// A flag set by SIGINT or SIGTERM, for [`run`]'s `stop`. Installs the handlers once, and
/// SIGHUP's, which makes the log writer reopen its files (for logrotate and the like).
pub fn stop_on_signals() -> &'static AtomicBool {
    static STOP: AtomicBool = AtomicBool::new(false);
    extern "C" fn on_stop(_: libc::c_int) {
        // Only an atomic store: async-signal-safe.
        STOP.store(true, Ordering::Relaxed);
    }
    extern "C" fn on_hup(_: libc::c_int) {
        REOPEN.store(true, Ordering::Relaxed);
    }
    let stop = on_stop as extern "C" fn(libc::c_int) as libc::sighandler_t;
    let hup = on_hup as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: installs handlers that only store to atomics; the previous handlers are not
    // needed.
    unsafe {
        libc::signal(libc::SIGINT, stop);
        libc::signal(libc::SIGTERM, stop);
        libc::signal(libc::SIGHUP, hup);
    }
    &STOP
}
