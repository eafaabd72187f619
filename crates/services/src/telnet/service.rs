//! The Telnet service: the thin async loop around [`TelnetSession`]. It reads, feeds the
//! session, writes what it answers, and turns its notes into Cowrie-named session events;
//! it fetches what a line will download first when the operator allows it, and at the end
//! stores the files the session wrote and its asciicast transcript.
//!
//! Event times are the wall clock (the session layer has no packet time), so a replayed
//! capture logs its Telnet sessions at replay time.

use std::collections::HashSet;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use honeyscope_event::text::escape_bytes as text;
use honeyscope_event::{Event, SessionEvent, SessionEventId, Timestamp};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::auth::Auth;
use super::session::{Next, Note, Output, SessionLimits, TelnetSession};
use crate::asciicast::Recorder;
use crate::capture::{self, Store};
use crate::fetch::Fetcher;
use crate::shell::{Device, ShellEvent};
use crate::{now_us, session_id, within, ConnInfo, EventSink, Limits};

/// Everything the Telnet service shares across its connections.
pub struct TelnetService {
    /// Who gets in; shared so a pair that got in is remembered across connections.
    pub auth: Mutex<Auth>,
    /// Per-connection bounds.
    pub limits: SessionLimits,
    /// The longest a connection may last, whatever it does.
    pub lifetime: Duration,
    /// Where written and fetched files go; `None` keeps only their events.
    pub artifacts: Option<Store>,
    /// Where transcripts go (`<id>.cast`); `None` records none.
    pub transcripts: Option<PathBuf>,
    /// Bytes of transcript kept per session.
    pub transcript_bytes: usize,
    /// The operator's fetcher; `None` (the default) fetches nothing.
    pub fetcher: Option<Arc<Fetcher>>,
    /// Where events go.
    pub events: EventSink,
    /// The sensor named in every event.
    pub sensor: Option<Arc<str>>,
    /// Counters.
    pub stats: TelnetStats,
}

/// What the Telnet service counted.
#[derive(Debug, Default)]
pub struct TelnetStats {
    /// Connections served.
    pub sessions: AtomicU64,
    /// Logins that got in.
    pub logins: AtomicU64,
    /// Commands run.
    pub commands: AtomicU64,
    /// Files stored (written, fetched, transcripts).
    pub stored: AtomicU64,
    /// Files that could not be stored (disk full, …): their events say so.
    pub store_errors: AtomicU64,
}

/// Builds and sends one session's events.
struct Recorded {
    svc: Arc<TelnetService>,
    id: String,
    info: ConnInfo,
    profile: Arc<str>,
}

impl Recorded {
    fn event(&self, id: SessionEventId) -> SessionEvent {
        let time = Timestamp::from_micros(now_us()).unwrap_or_default();
        let mut e = SessionEvent::new(
            time,
            id,
            &self.id,
            "telnet",
            self.info.peer,
            self.info.local,
        );
        e.sensor = self.svc.sensor.clone();
        e.profile = Some(self.profile.as_ref().into());
        e
    }

    fn send(&self, e: SessionEvent) {
        (self.svc.events)(Event::from(e));
    }
}

/// Serves one Telnet connection as `device`.
pub async fn serve<S>(
    mut stream: S,
    info: ConnInfo,
    limits: Limits,
    svc: Arc<TelnetService>,
    device: Arc<Device>,
) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    svc.stats.sessions.fetch_add(1, Ordering::Relaxed);
    let started = Instant::now();
    let start_us = now_us();
    let rec = Recorded {
        svc: svc.clone(),
        id: session_id(&info),
        info,
        profile: device.profile.name.as_str().into(),
    };
    let mut connect = rec.event(SessionEventId::Connect);
    connect.message = Some(
        format!(
            "New connection: {}:{} ({}:{}) [session: {}]",
            info.peer.ip(),
            info.peer.port(),
            info.local.ip(),
            info.local.port(),
            rec.id
        )
        .into(),
    );
    rec.send(connect);
    let mut cast = svc
        .transcripts
        .as_ref()
        .map(|_| Recorder::new(start_us, 80, 24, &rec.id, svc.transcript_bytes));
    let mut out = Output::default();
    let mut session = TelnetSession::start(device, svc.limits, &mut out);
    let result = drive(
        &mut stream,
        &mut session,
        &mut out,
        &mut cast,
        &rec,
        limits,
        started,
    )
    .await;
    let _ = within(limits, stream.shutdown()).await;
    // The session's files (its transcript, what it wrote) are written off the services'
    // thread: a file created per session held the loop up for everyone else (a thousand
    // sessions closing at once stalled the others' commands by ~50 ms).
    let end = tokio::task::spawn_blocking(move || finish(&rec, &session, cast, start_us));
    if end.await.is_err() {
        svc.stats.store_errors.fetch_add(1, Ordering::Relaxed);
    }
    result
}

/// Reads, runs and answers until the client leaves, a limit, or an error.
async fn drive<S>(
    stream: &mut S,
    session: &mut TelnetSession,
    out: &mut Output,
    cast: &mut Option<Recorder>,
    rec: &Recorded,
    limits: Limits,
    started: Instant,
) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let svc = &rec.svc;
    let lifetime = svc.lifetime;
    let mut fetches = 0u32;
    let mut buf = vec![0u8; 2048];
    let mut next = Next::Open;
    loop {
        flush(stream, out, cast, rec, limits).await?;
        if next == Next::Close {
            return Ok(());
        }
        let left = lifetime.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Ok(());
        }
        let wait = Limits {
            idle: limits.idle.min(left),
        };
        let n = within(wait, stream.read(&mut buf)).await?;
        if n == 0 {
            return Ok(());
        }
        session.feed(&buf[..n], out);
        while let Some(line) = session.next_line() {
            if let Some(c) = cast.as_mut() {
                c.input(now_us(), &line);
            }
            // What the fetcher got for this line: matched to the line's downloads, then gone.
            let mut downloads = Vec::new();
            if let (Some(fetcher), Some(shell)) = (&svc.fetcher, session.shell()) {
                let mut urls = shell.downloads_in(&line);
                urls.dedup_by_key(|u| u.to_string());
                for url in urls.into_iter().take(FETCHES_PER_LINE) {
                    // Within the session's fetches and its lifetime.
                    if fetches >= FETCHES_PER_SESSION || started.elapsed() >= lifetime {
                        break;
                    }
                    fetches += 1;
                    let got = fetcher.fetch(&url).await;
                    let fetched = Fetched {
                        url: url.clone(),
                        result: got
                            .as_ref()
                            .map(|d| Arc::<[u8]>::from(d.as_slice()))
                            .map_err(|e| e.to_string()),
                    };
                    if let (Ok(data), Some(shell)) = (&fetched.result, session.shell_mut()) {
                        shell.provide(&url, data.clone());
                    }
                    downloads.push(fetched);
                }
            }
            let src = rec.info.peer.ip();
            next = {
                let mut auth = svc.auth.lock().unwrap_or_else(|e| e.into_inner());
                session.line(&line, now_us(), &mut auth, src, out)
            };
            record(rec, std::mem::take(&mut out.notes), &mut downloads);
            // Fetched for a command the line did not run (`false && wget …`): still an
            // outbound fetch, so still an event; then dropped.
            for f in downloads.drain(..) {
                unused_fetch(rec, f);
            }
            if next == Next::Close {
                break;
            }
        }
    }
}

/// Sends what is waiting, and records the screen.
async fn flush<S: AsyncWrite + Unpin>(
    stream: &mut S,
    out: &mut Output,
    cast: &mut Option<Recorder>,
    rec: &Recorded,
    limits: Limits,
) -> io::Result<()> {
    record(rec, std::mem::take(&mut out.notes), &mut Vec::new());
    if let Some(c) = cast.as_mut() {
        if !out.screen.is_empty() {
            c.output(now_us(), &out.screen);
        }
    }
    out.screen.clear();
    if !out.wire.is_empty() {
        within(limits, stream.write_all(&out.wire)).await?;
        out.wire.clear();
    }
    Ok(())
}

/// Fetches per line, and per session, at most.
const FETCHES_PER_LINE: usize = 4;
const FETCHES_PER_SESSION: u32 = 16;

/// The event of a fetch no command of the line used.
fn unused_fetch(rec: &Recorded, f: Fetched) {
    let id = match &f.result {
        Ok(_) => SessionEventId::FileDownload,
        Err(_) => SessionEventId::FileDownloadFailed,
    };
    let mut e = rec.event(id);
    capture::url_fields(&mut e, &f.url);
    match f.result {
        Ok(data) => {
            describe_file(rec, &mut e, &data);
            e.message = Some("fetched ahead of the line, which did not use it".into());
        }
        Err(why) => e.message = Some(why.into()),
    }
    rec.send(e);
}

/// A download the fetcher tried.
struct Fetched {
    url: crate::url::Url,
    result: Result<Arc<[u8]>, String>,
}

/// Turns notes into events.
fn record(rec: &Recorded, notes: Vec<Note>, fetched: &mut Vec<Fetched>) {
    let svc = &rec.svc;
    for n in notes {
        match n {
            Note::ClientSize { width, height } => {
                let mut e = rec.event(SessionEventId::ClientSize);
                e.width = Some(width.into());
                e.height = Some(height.into());
                rec.send(e);
            }
            Note::ClientVar { name, value } => {
                let mut e = rec.event(SessionEventId::ClientVar);
                e.name = Some(name.into());
                e.value = Some(value.into());
                rec.send(e);
            }
            Note::Login {
                username,
                password,
                accepted,
            } => {
                let (id, word) = if accepted {
                    svc.stats.logins.fetch_add(1, Ordering::Relaxed);
                    (SessionEventId::LoginSuccess, "succeeded")
                } else {
                    (SessionEventId::LoginFailed, "failed")
                };
                let mut e = rec.event(id);
                let (u, p) = (text(&username), text(&password));
                e.message = Some(format!("login attempt [{u}/{p}] {word}").into());
                e.username = Some(u.into());
                e.password = Some(p.into());
                rec.send(e);
            }
            Note::Command(line) => {
                svc.stats.commands.fetch_add(1, Ordering::Relaxed);
                let mut e = rec.event(SessionEventId::CommandInput);
                let t = text(&line);
                e.message = Some(format!("CMD: {t}").into());
                e.input = Some(t.into());
                rec.send(e);
            }
            Note::Shell(ShellEvent::NotFound(cmd)) => {
                let mut e = rec.event(SessionEventId::CommandFailed);
                let t = text(&cmd);
                e.message = Some(format!("Command not found: {t}").into());
                e.input = Some(t.into());
                rec.send(e);
            }
            Note::Shell(ShellEvent::Download(req)) => {
                let url = req.url.to_string();
                let got = fetched.iter().position(|f| f.url.to_string() == url);
                let got = got.map(|i| fetched.remove(i));
                let id = match &got {
                    Some(Fetched { result: Err(_), .. }) => SessionEventId::FileDownloadFailed,
                    _ => SessionEventId::FileDownload,
                };
                let mut e = rec.event(id);
                capture::download_fields(&mut e, &req);
                match got.map(|f| f.result) {
                    None => e.message = Some("not fetched: fetching is off".into()),
                    Some(Err(why)) => e.message = Some(why.into()),
                    Some(Ok(data)) => describe_file(rec, &mut e, &data),
                }
                rec.send(e);
            }
            Note::Shell(ShellEvent::Ran { .. }) => {}
        }
    }
}

/// Stores `data` and fills in the file fields of `e`, counting.
fn describe_file(rec: &Recorded, e: &mut SessionEvent, data: &[u8]) {
    let stats = &rec.svc.stats;
    match capture::describe(rec.svc.artifacts.as_ref(), data, e) {
        Some(true) => stats.stored.fetch_add(1, Ordering::Relaxed),
        Some(false) => stats.store_errors.fetch_add(1, Ordering::Relaxed),
        None => 0,
    };
}

/// At the end: the files the session wrote, the transcript, and the close.
fn finish(rec: &Recorded, session: &TelnetSession, cast: Option<Recorder>, start_us: i64) {
    let duration_us = (now_us() - start_us).max(0) as u64;
    if let Some(shell) = session.shell() {
        let mut seen = HashSet::new();
        for (path, data) in shell.fs.written() {
            if data.is_empty() || !seen.insert(capture::sha256_hex(data)) {
                continue;
            }
            let mut e = rec.event(SessionEventId::FileUpload);
            e.filename = Some(text(path).into());
            e.method = Some("shell".into());
            describe_file(rec, &mut e, data);
            rec.send(e);
        }
    }
    if let (Some(cast), Some(dir)) = (cast, &rec.svc.transcripts) {
        let bytes = cast.finish();
        let path = dir.join(format!("{}.cast", rec.id));
        let mut e = rec.event(SessionEventId::LogClosed);
        e.size = Some(bytes.len() as u64);
        e.duration_us = Some(duration_us);
        match std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, &bytes)) {
            Ok(()) => {
                rec.svc.stats.stored.fetch_add(1, Ordering::Relaxed);
                e.ttylog = Some(path.display().to_string().into());
                e.shasum = Some(capture::sha256_hex(&bytes).into());
            }
            Err(err) => {
                rec.svc.stats.store_errors.fetch_add(1, Ordering::Relaxed);
                e.message = Some(format!("transcript not written: {err}").into());
            }
        }
        rec.send(e);
    }
    let mut e = rec.event(SessionEventId::Closed);
    e.duration_us = Some(duration_us);
    e.message = Some(format!("Connection lost after {} seconds", duration_us / 1_000_000).into());
    rec.send(e);
}

/// A sink that keeps the events in memory: for tests and tools that drive the service
/// themselves.
pub fn collecting_sink() -> (EventSink, Arc<Mutex<Vec<Event>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let e2 = events.clone();
    let sink: EventSink = Arc::new(move |ev| {
        if let Ok(mut v) = e2.lock() {
            v.push(ev);
        }
    });
    (sink, events)
}
