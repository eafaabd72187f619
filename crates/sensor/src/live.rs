//! The sensor on a live TUN device: datagrams in, the [`Engine`], replies out, and events to
//! the log through a bounded queue, so writing never holds up the packet path. A full queue
//! drops events and counts them; nothing is lost without a count.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, TryRecvError, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use honeyscope_event::Event;

use crate::engine::Stats;
use crate::lan::LanStats;
use crate::listen;
use crate::log::EventSink;
use crate::source::{self, PacketSource};

/// How often the engine's timers run when no packet arrives.
const TICK: Duration = Duration::from_millis(100);

/// What a live run did, beyond the engine's own counters.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LiveReport {
    /// The engine's counters.
    pub engine: Stats,
    /// Packets read from the source.
    pub received: u64,
    /// Replies sent.
    pub sent: u64,
    /// Replies the source refused (counted, not retried).
    pub send_errors: u64,
    /// Events the log writer took (written, or lost to a write error and counted in
    /// `write_failed`).
    pub logged: u64,
    /// Events dropped because the log queue was full.
    pub dropped: u64,
    /// Log lines lost to failed writes (an event has a line in each of the two logs; the
    /// first error is in `write_error`).
    pub write_failed: u64,
    /// The first write error, if any.
    pub write_error: Option<String>,
    /// Events handed to the log queue so far.
    pub queued: u64,
    /// Completed handshakes open now: waiting for a first payload, or in a TCP session.
    pub open_flows: u64,
    /// Packets the kernel dropped before we read them (its counter).
    pub kernel_drops: Option<u64>,
    /// The LAN layer's counters (AF_PACKET).
    pub lan: Option<LanStats>,
    /// ARP frames the interface refused.
    pub link_send_errors: u64,
    /// The kernel listeners' counters, when there are listeners.
    pub listen: Option<ListenReport>,
    /// Services that ended with an error (a reset, a timeout).
    pub service_errors: u64,
    /// Service events dropped because the packet loop's inbox was full.
    pub service_events_dropped: u64,
    /// The Telnet service's counters, when it runs.
    pub telnet: Option<TelnetReport>,
    /// The HTTP service's counters, when it runs.
    pub http: Option<HttpReport>,
}

/// The HTTP service's counters ([`honeyscope_services::http::service::HttpStats`]).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HttpReport {
    /// Requests answered (malformed ones included).
    pub requests: u64,
    /// Requests a signature recognised as an exploit.
    pub exploits: u64,
    /// Download URLs found in requests.
    pub downloads: u64,
}

/// The Telnet service's counters ([`honeyscope_services::telnet::service::TelnetStats`]).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TelnetReport {
    /// Connections served.
    pub sessions: u64,
    /// Logins that got in.
    pub logins: u64,
    /// Command lines run.
    pub commands: u64,
    /// Files stored (written, fetched, transcripts).
    pub stored: u64,
    /// Files that could not be stored (their events say why).
    pub store_errors: u64,
}

/// The kernel listeners' counters ([`crate::listen::ListenStats`]), as they stood.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ListenReport {
    /// Connections accepted.
    pub accepted: u64,
    /// Connections closed at once: `limits.sessions` were open, or the sensor was stopping.
    pub refused: u64,
    /// Failed accepts.
    pub accept_errors: u64,
    /// Connections open now (at the end: still open when the sensor stopped; their flow
    /// ends are logged at the stop, with their bytes so far).
    pub open: u64,
}

/// Runs `source` through `engine` until `stop` is set, with events queued (at most `queue`
/// batches waiting) for a writer thread, and serves `listeners` (bound already) on the
/// engine's service host, their events into the same queue. On stop, ends the open flows
/// and flushes the log. When `metrics` is given, the counters are published there every
/// [`TICK`] or so.
pub fn run<S: PacketSource + ?Sized>(
    engine: &mut crate::Engine<'_>,
    source: &mut S,
    listeners: Vec<listen::Bound>,
    mut log: Box<dyn EventSink>,
    queue: usize,
    stop: &AtomicBool,
    metrics: Option<&crate::metrics::Shared>,
) -> io::Result<LiveReport> {
    let (tx, rx) = sync_channel::<Vec<Event>>(queue.max(1));
    let listening = if listeners.is_empty() {
        None
    } else {
        // The listeners' events go through the services' inbox, as the sessions' on claimed
        // addresses do: the packet loop queues them in batches, in order with its own, so
        // the log writer is woken once a loop turn rather than once an event.
        let host = engine.services()?.clone();
        let cfg = engine.config();
        let sensor = cfg.sensor_id.as_deref().map(Arc::from);
        Some(listen::serve(
            &host,
            listeners,
            cfg.limits.sessions,
            sensor,
            host.events(),
            |l| cfg.listen_device(l),
        ))
    };
    let logged = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let writer = {
        let (logged, failed) = (logged.clone(), failed.clone());
        std::thread::Builder::new()
            .name("event-log".into())
            .spawn(move || -> Option<String> {
                let mut first_error = None;
                loop {
                    // Flushed whenever the queue runs dry, so the files stay current without
                    // a write per packet under load.
                    let batch = match rx.try_recv() {
                        Ok(b) => b,
                        Err(TryRecvError::Disconnected) => break,
                        Err(TryRecvError::Empty) => {
                            if let Err(e) = log.flush() {
                                first_error.get_or_insert_with(|| e.to_string());
                            }
                            failed.store(log.lost(), Ordering::Relaxed);
                            match rx.recv() {
                                Ok(b) => b,
                                Err(_) => break,
                            }
                        }
                    };
                    if REOPEN.swap(false, Ordering::Relaxed) {
                        if let Err(e) = log.reopen() {
                            first_error.get_or_insert_with(|| e.to_string());
                        }
                    }
                    for ev in &batch {
                        if let Err(e) = log.write(ev) {
                            first_error.get_or_insert_with(|| e.to_string());
                        }
                    }
                    logged.fetch_add(batch.len() as u64, Ordering::Relaxed);
                }
                if let Err(e) = log.flush() {
                    first_error.get_or_insert_with(|| e.to_string());
                }
                failed.store(log.lost(), Ordering::Relaxed);
                first_error
            })?
    };
    // Cells: both closures below read them, one also counts.
    let (queued, dropped) = (std::cell::Cell::new(0u64), std::cell::Cell::new(0u64));
    // Hands a batch to the writer, or counts it dropped when the queue is full.
    let queue_batch = |batch: Vec<Event>| {
        let n = batch.len() as u64;
        match tx.try_send(batch) {
            Ok(()) => queued.set(queued.get() + n),
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                dropped.set(dropped.get() + n)
            }
        }
    };
    let mut published = Instant::now();
    let mut report = LiveReport::default();
    // The counters as they stand, into `report` and the metrics.
    let snapshot = |report: &mut LiveReport,
                    engine: &crate::Engine<'_>,
                    source: &S,
                    d: &source::Drive,
                    queued: u64,
                    dropped: u64| {
        let s = source.stats();
        let listen = listening.as_ref().map(|l| ListenReport {
            accepted: l.accepted.load(Ordering::Relaxed),
            refused: l.refused.load(Ordering::Relaxed),
            accept_errors: l.accept_errors.load(Ordering::Relaxed),
            open: l.open.load(Ordering::Relaxed) as u64,
        });
        *report = LiveReport {
            engine: engine.stats().clone(),
            received: d.received,
            sent: d.sent,
            send_errors: d.send_errors,
            logged: logged.load(Ordering::Relaxed),
            dropped,
            write_failed: failed.load(Ordering::Relaxed),
            write_error: None,
            queued,
            open_flows: (engine.open_flows() + engine.open_sessions()) as u64,
            kernel_drops: s.kernel_drops,
            lan: s.lan,
            link_send_errors: s.link_send_errors,
            listen,
            service_errors: engine
                .service_host()
                .map_or(0, |h| h.stats().errors.load(Ordering::Relaxed)),
            service_events_dropped: engine
                .service_host()
                .map_or(0, |h| h.stats().events_dropped.load(Ordering::Relaxed)),
            telnet: engine.service_host().and_then(|h| h.telnet()).map(|t| {
                let c = |a: &AtomicU64| a.load(Ordering::Relaxed);
                TelnetReport {
                    sessions: c(&t.stats.sessions),
                    logins: c(&t.stats.logins),
                    commands: c(&t.stats.commands),
                    stored: c(&t.stats.stored),
                    store_errors: c(&t.stats.store_errors),
                }
            }),
            http: engine.service_host().and_then(|h| h.http()).map(|t| {
                let c = |a: &AtomicU64| a.load(Ordering::Relaxed);
                HttpReport {
                    requests: c(&t.stats.requests),
                    exploits: c(&t.stats.exploits),
                    downloads: c(&t.stats.downloads),
                }
            }),
        };
        if let Some(m) = metrics {
            if let Ok(mut shared) = m.lock() {
                *shared = report.clone();
            }
        }
    };
    let d = source::drive(
        engine,
        source,
        stop,
        TICK,
        |batch| {
            queue_batch(std::mem::take(batch));
            Ok(())
        },
        |engine, source, d| {
            if metrics.is_some() && published.elapsed() >= TICK {
                snapshot(&mut report, engine, source, d, queued.get(), dropped.get());
                published = Instant::now();
            }
        },
    )?;
    // The listeners' connections still open end now, as the engine's flows did (and the
    // listeners log no more); then what the services recorded after the loop's last turn (a
    // connection that closed as the sensor stopped) still goes to the log, before those ends.
    let ends = listening.as_ref().map(|l| l.end_open()).unwrap_or_default();
    let mut rest = Vec::new();
    if let Some(host) = engine.service_host() {
        host.take_events(&mut rest);
    }
    rest.extend(ends);
    if !rest.is_empty() {
        queue_batch(rest);
    }
    drop(tx);
    let write_error = writer
        .join()
        .unwrap_or(Some("the log writer panicked".into()));
    snapshot(&mut report, engine, source, &d, queued.get(), dropped.get());
    report.write_error = write_error;
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
