//! Load client for a Telnet honeypot (bench/telnet.sh, issue 7): holds many logged-in idle
//! sessions, then has some of them run commands back-to-back and reports the round trips.
//!
//! ```text
//! telnet_load ADDR[,ADDR...] --sessions N --active M --commands K
//!     [--user root] [--password x] [--command "echo hi"] [--concurrency 200]
//!     [--hold SECS] [--think MS] [--login-timeout SECS] [--command-timeout SECS] [--slow MS]
//!     [--threads T]
//! ```
//!
//! ADDR is `host:port`; `A.B.C.X-Y:port` stands for the addresses X to Y of that /24.
//! Sessions are spread over the addresses in turn. Steps:
//!
//! 1. Opens N connections, at most `--concurrency` connecting or logging in at once. Each
//!    refuses every option (DO → WONT, WILL → DONT), waits for `login:`, sends the user,
//!    waits for `assword`, sends the password and waits for a prompt ending in `# `.
//! 2. Prints `ready OK FAILED SECS` when every session has logged in or failed, then waits
//!    for a line on standard input (or `--hold SECS`; at most 600 s) while the caller
//!    reads the server's memory. The sessions stay open and idle meanwhile.
//! 3. The first M logged-in sessions each run K commands back-to-back, all M at once; a
//!    round trip is the time from writing the line to the prompt coming back. Every
//!    session stays open until all M are done, so the M are active throughout. With
//!    `--think MS`, each waits that long between a prompt and its next command (the
//!    sessions' starts spread over one such pause), so the load is offered at a pace
//!    instead of as fast as the server answers.
//! 4. Prints `rtt COUNT FAILED p50 p90 p99 max` (milliseconds) and a readable summary.
//!    With `--slow MS`, first lists the round trips longer than that, grouped by when they
//!    started: one short window holding many sessions' slow commands is a stall of the
//!    whole path (the server, the kernel or this client), not of one session.
//!
//! Every wait has a timeout; a session that fails is counted (its first few reasons go to
//! standard error), never waited for.

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio::time::timeout_at;

const IAC: u8 = 255;
const DONT: u8 = 254;
const DO: u8 = 253;
const WONT: u8 = 252;
const WILL: u8 = 251;
const SB: u8 = 250;
const SE: u8 = 240;

struct Args {
    addrs: Vec<SocketAddr>,
    sessions: usize,
    active: usize,
    commands: usize,
    user: String,
    password: String,
    command: String,
    concurrency: usize,
    hold: Option<f64>,
    think: Duration,
    login_timeout: Duration,
    command_timeout: Duration,
    threads: usize,
    /// Round trips longer than this are listed, grouped by when they started.
    slow: Option<Duration>,
}

fn usage() -> ! {
    eprintln!(
        "usage: telnet_load ADDR[,ADDR...] --sessions N --active M --commands K \
         [--user root] [--password x] [--command \"echo hi\"] [--concurrency 200] \
         [--hold SECS] [--think MS] [--login-timeout SECS] [--command-timeout SECS] [--threads T] \
         [--slow MS]"
    );
    std::process::exit(2)
}

/// `host:port`, or `A.B.C.X-Y:port` for a run of addresses.
fn parse_addrs(text: &str) -> Result<Vec<SocketAddr>, String> {
    let mut out = Vec::new();
    for part in text.split(',').filter(|p| !p.is_empty()) {
        let (host, port) = part
            .rsplit_once(':')
            .ok_or_else(|| format!("{part:?}: no port"))?;
        let range = host.rsplit_once('.').and_then(|(net, last)| {
            let (a, b) = last.split_once('-')?;
            Some((net, a.parse::<u8>().ok()?, b.parse::<u8>().ok()?))
        });
        match range {
            Some((net, a, b)) => {
                for x in a..=b {
                    let s = format!("{net}.{x}:{port}");
                    out.push(s.parse().map_err(|e| format!("{s:?}: {e}"))?);
                }
            }
            None => out.extend(
                part.to_socket_addrs()
                    .map_err(|e| format!("{part:?}: {e}"))?
                    .take(1),
            ),
        }
    }
    if out.is_empty() {
        return Err("no address".into());
    }
    Ok(out)
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        addrs: Vec::new(),
        sessions: 100,
        active: 10,
        commands: 20,
        user: "root".into(),
        password: "x".into(),
        command: "echo hi".into(),
        concurrency: 200,
        hold: None,
        think: Duration::ZERO,
        login_timeout: Duration::from_secs(60),
        command_timeout: Duration::from_secs(30),
        threads: 2,
        slow: None,
    };
    while let Some(arg) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        let num = |v: String| v.parse::<usize>().map_err(|e| format!("{v:?}: {e}"));
        let secs = |v: String| v.parse::<f64>().map_err(|e| format!("{v:?}: {e}"));
        match arg.as_str() {
            "--sessions" => a.sessions = num(val()?)?,
            "--active" => a.active = num(val()?)?,
            "--commands" => a.commands = num(val()?)?,
            "--user" => a.user = val()?,
            "--password" => a.password = val()?,
            "--command" => a.command = val()?,
            "--concurrency" => a.concurrency = num(val()?)?.max(1),
            "--hold" => a.hold = Some(secs(val()?)?),
            "--think" => a.think = Duration::from_secs_f64(secs(val()?)? / 1e3),
            "--login-timeout" => a.login_timeout = Duration::from_secs_f64(secs(val()?)?),
            "--command-timeout" => a.command_timeout = Duration::from_secs_f64(secs(val()?)?),
            "--threads" => a.threads = num(val()?)?.max(1),
            "--slow" => a.slow = Some(Duration::from_secs_f64(secs(val()?)? / 1e3)),
            "-h" | "--help" => usage(),
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            s => a.addrs.extend(parse_addrs(s)?),
        }
    }
    if a.addrs.is_empty() {
        return Err("no address".into());
    }
    Ok(a)
}

/// Where the Telnet decoder is between reads.
#[derive(Clone, Copy)]
enum Tn {
    Data,
    Iac,
    Opt(u8),
    Sb,
    SbIac,
}

/// One client connection: the stream, the data seen (commands removed) and the decoder.
struct Conn {
    stream: TcpStream,
    seen: Vec<u8>,
    state: Tn,
}

impl Conn {
    /// Strips Telnet commands from `data` into `seen`; returns the refusals to send.
    fn take(&mut self, data: &[u8], replies: &mut Vec<u8>) {
        for &b in data {
            self.state = match (self.state, b) {
                (Tn::Data, IAC) => Tn::Iac,
                (Tn::Data, _) => {
                    self.seen.push(b);
                    Tn::Data
                }
                (Tn::Iac, IAC) => {
                    self.seen.push(IAC);
                    Tn::Data
                }
                (Tn::Iac, DO | DONT | WILL | WONT) => Tn::Opt(b),
                (Tn::Iac, SB) => Tn::Sb,
                (Tn::Iac, _) => Tn::Data,
                (Tn::Opt(cmd), opt) => {
                    match cmd {
                        DO => replies.extend_from_slice(&[IAC, WONT, opt]),
                        WILL => replies.extend_from_slice(&[IAC, DONT, opt]),
                        _ => {}
                    }
                    Tn::Data
                }
                (Tn::Sb, IAC) => Tn::SbIac,
                (Tn::Sb, _) => Tn::Sb,
                (Tn::SbIac, SE) => Tn::Data,
                (Tn::SbIac, _) => Tn::Sb,
            };
        }
    }

    /// Reads until `done(seen)` holds, answering negotiation, by `deadline`.
    async fn wait(
        &mut self,
        what: &str,
        deadline: tokio::time::Instant,
        done: impl Fn(&[u8]) -> bool,
    ) -> Result<(), String> {
        let mut buf = [0u8; 2048];
        let mut replies = Vec::new();
        while !done(&self.seen) {
            let n = match timeout_at(deadline, self.stream.read(&mut buf)).await {
                Err(_) => return Err(format!("timeout waiting for {what}")),
                Ok(Err(e)) => return Err(format!("read error waiting for {what}: {e}")),
                Ok(Ok(0)) => return Err(format!("closed while waiting for {what}")),
                Ok(Ok(n)) => n,
            };
            replies.clear();
            self.take(&buf[..n], &mut replies);
            if !replies.is_empty() {
                self.send(&replies, deadline).await?;
            }
        }
        Ok(())
    }

    async fn send(&mut self, data: &[u8], deadline: tokio::time::Instant) -> Result<(), String> {
        match timeout_at(deadline, self.stream.write_all(data)).await {
            Err(_) => Err("timeout writing".into()),
            Ok(Err(e)) => Err(format!("write error: {e}")),
            Ok(Ok(())) => Ok(()),
        }
    }

    async fn line(&mut self, text: &str, deadline: tokio::time::Instant) -> Result<(), String> {
        let mut data = Vec::with_capacity(text.len() + 2);
        data.extend_from_slice(text.as_bytes());
        data.extend_from_slice(b"\r\n");
        self.send(&data, deadline).await
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn refused(seen: &[u8]) -> bool {
    contains(seen, b"ncorrect") || contains(seen, b"denied")
}

/// Connects and logs in; returns the connection and its prompt (the text after the last
/// line break of the login's answer).
async fn login(addr: SocketAddr, a: &Args) -> Result<(Conn, Vec<u8>), String> {
    let deadline = tokio::time::Instant::now() + a.login_timeout;
    let stream = match timeout_at(deadline, TcpStream::connect(addr)).await {
        Err(_) => return Err("timeout connecting".into()),
        Ok(Err(e)) => return Err(format!("connect: {e}")),
        Ok(Ok(s)) => s,
    };
    let _ = stream.set_nodelay(true);
    let mut c = Conn {
        stream,
        seen: Vec::new(),
        state: Tn::Data,
    };
    c.wait("the login prompt", deadline, |s| contains(s, b"ogin: "))
        .await?;
    c.seen.clear();
    c.line(&a.user, deadline).await?;
    c.wait("the password prompt", deadline, |s| contains(s, b"assword"))
        .await?;
    c.seen.clear();
    c.line(&a.password, deadline).await?;
    c.wait("the shell prompt", deadline, |s| {
        s.ends_with(b"# ") || refused(s)
    })
    .await?;
    if refused(&c.seen) {
        return Err(format!(
            "login refused: {:?}",
            String::from_utf8_lossy(&c.seen)
        ));
    }
    let start = c
        .seen
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let prompt = c.seen[start..].to_vec();
    c.seen.clear();
    Ok((c, prompt))
}

/// Runs `k` commands back-to-back; returns each round trip (when it started, how long it
/// took), or the first failure with those done before it.
async fn run_commands(
    c: &mut Conn,
    prompt: &[u8],
    a: &Args,
) -> (Vec<(Instant, Duration)>, Option<String>) {
    let mut rtts = Vec::with_capacity(a.commands);
    for i in 0..a.commands {
        if i > 0 && !a.think.is_zero() {
            tokio::time::sleep(a.think).await;
        }
        let t = Instant::now();
        let deadline = tokio::time::Instant::now() + a.command_timeout;
        let r = match c.line(&a.command, deadline).await {
            Ok(()) => {
                c.wait("the prompt after a command", deadline, |s| {
                    s.ends_with(prompt)
                })
                .await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = r {
            return (rtts, Some(e));
        }
        rtts.push((t, t.elapsed()));
        c.seen.clear();
    }
    (rtts, None)
}

/// Counts failures by reason and prints the first few.
#[derive(Default)]
struct Failures {
    by_reason: BTreeMap<String, usize>,
    printed: usize,
}

impl Failures {
    fn add(&mut self, what: &str, e: &str) {
        if self.printed < 5 {
            eprintln!("{what} failed: {e}");
            self.printed += 1;
        }
        // The reason without what was seen, so that like failures count together.
        let key = e.split(": \"").next().unwrap_or(e).to_string();
        *self.by_reason.entry(key).or_default() += 1;
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[i.clamp(1, sorted.len()) - 1].as_secs_f64() * 1e3
}

async fn run(a: Arc<Args>) {
    let failures = Arc::new(Mutex::new(Failures::default()));
    let limit = Arc::new(Semaphore::new(a.concurrency));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<bool>();
    let (go_tx, go_rx) = tokio::sync::watch::channel(false);
    let (result_tx, mut result_rx) = mpsc::unbounded_channel();
    let started = Instant::now();
    // Active sessions are the first M to log in.
    let active_left = Arc::new(std::sync::atomic::AtomicUsize::new(a.active));
    let mut tasks = Vec::with_capacity(a.sessions);
    for i in 0..a.sessions {
        let addr = a.addrs[i % a.addrs.len()];
        let (a, limit, failures, done_tx, result_tx) = (
            a.clone(),
            limit.clone(),
            failures.clone(),
            done_tx.clone(),
            result_tx.clone(),
        );
        let mut go_rx = go_rx.clone();
        let active_left = active_left.clone();
        tasks.push(tokio::spawn(async move {
            let logged = {
                let _permit = limit.acquire().await;
                login(addr, &a).await
            };
            let (mut conn, prompt) = match logged {
                Ok(x) => x,
                Err(e) => {
                    failures.lock().unwrap().add("login", &e);
                    let _ = done_tx.send(false);
                    return;
                }
            };
            let _ = done_tx.send(true);
            drop(done_tx);
            // Idle until the run starts (or the run is called off).
            if go_rx.wait_for(|&go| go).await.is_err() {
                return;
            }
            let mine = active_left
                .fetch_update(
                    std::sync::atomic::Ordering::Relaxed,
                    std::sync::atomic::Ordering::Relaxed,
                    |n| n.checked_sub(1),
                )
                .map(|left| a.active - left);
            if let Ok(slot) = mine {
                if !a.think.is_zero() {
                    tokio::time::sleep(a.think.mul_f64(slot as f64 / a.active as f64)).await;
                }
                let (rtts, err) = run_commands(&mut conn, &prompt, &a).await;
                if let Some(e) = &err {
                    failures.lock().unwrap().add("command", e);
                }
                let _ = result_tx.send((rtts, err.is_some()));
                // Open until every active session is done: one that closed early would
                // leave the others measured beside a burst of disconnections.
                let _ = go_rx.wait_for(|&go| !go).await;
            } else {
                // Stay open until the run is over.
                let _ = go_rx.wait_for(|&go| !go).await;
            }
        }));
    }
    drop(done_tx);
    drop(result_tx);
    let (mut ok, mut failed) = (0usize, 0usize);
    while let Some(good) = done_rx.recv().await {
        if good {
            ok += 1;
        } else {
            failed += 1;
        }
        let n = ok + failed;
        if n % 1000 == 0 && n < a.sessions {
            eprintln!(
                "  {n} sessions through login ({failed} failed), {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    let login_secs = started.elapsed().as_secs_f64();
    println!("ready {ok} {failed} {login_secs:.2}");
    eprintln!(
        "{ok} of {} sessions logged in and idle ({failed} failed) in {login_secs:.1} s",
        a.sessions
    );
    {
        let f = failures.lock().unwrap();
        for (reason, n) in &f.by_reason {
            eprintln!("  login failures: {n} × {reason}");
        }
    }
    // Hold: until a line on stdin (or its end), or --hold seconds; never more than 600 s.
    let hold = a.hold.unwrap_or(600.0).min(600.0);
    if a.hold.is_some() {
        tokio::time::sleep(Duration::from_secs_f64(hold)).await;
    } else {
        let (tx, rx) = oneshot::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
            let _ = tx.send(());
        });
        let _ = tokio::time::timeout(Duration::from_secs_f64(hold), rx).await;
    }
    let active = a.active.min(ok);
    eprintln!(
        "running: {active} sessions × {} commands ({:?})",
        a.commands, a.command
    );
    let t = Instant::now();
    let _ = go_tx.send(true);
    let mut all = Vec::with_capacity(active * a.commands);
    let mut slow = Vec::new();
    let mut cmd_failed = 0usize;
    for _ in 0..active {
        match result_rx.recv().await {
            Some((rtts, bad)) => {
                for (start, rtt) in rtts {
                    all.push(rtt);
                    if a.slow.is_some_and(|s| rtt > s) {
                        slow.push((start.saturating_duration_since(t), rtt));
                    }
                }
                cmd_failed += bad as usize;
            }
            None => break,
        }
    }
    let run_secs = t.elapsed().as_secs_f64();
    let _ = go_tx.send(false);
    for task in tasks {
        task.abort();
    }
    {
        let f = failures.lock().unwrap();
        for (reason, n) in &f.by_reason {
            eprintln!("  failures (login and commands): {n} × {reason}");
        }
    }
    if let Some(limit) = a.slow {
        print_slow(&mut slow, limit);
    }
    all.sort();
    let (p50, p90, p99) = (
        percentile(&all, 50.0),
        percentile(&all, 90.0),
        percentile(&all, 99.0),
    );
    let max = all.last().map_or(f64::NAN, |d| d.as_secs_f64() * 1e3);
    println!(
        "rtt {} {cmd_failed} {p50:.3} {p90:.3} {p99:.3} {max:.3}",
        all.len()
    );
    eprintln!(
        "{} round trips from {active} sessions in {run_secs:.2} s ({:.0}/s), {cmd_failed} sessions \
         failed: p50 {p50:.3} ms, p90 {p90:.3} ms, p99 {p99:.3} ms, max {max:.3} ms",
        all.len(),
        all.len() as f64 / run_secs
    );
}

/// Lists the round trips longer than `limit` in groups that started within 20 ms of each
/// other: one group holding many sessions' commands is a stall of the path, not of a session.
fn print_slow(slow: &mut [(Duration, Duration)], limit: Duration) {
    slow.sort();
    eprintln!(
        "{} round trips over {:.1} ms, by start (ms after the go):",
        slow.len(),
        limit.as_secs_f64() * 1e3
    );
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mut i = 0;
    while i < slow.len() {
        let mut j = i + 1;
        while j < slow.len() && slow[j].0 - slow[j - 1].0 < Duration::from_millis(20) {
            j += 1;
        }
        let worst = slow[i..j].iter().map(|s| s.1).max().unwrap_or_default();
        eprintln!(
            "  {:9.1} – {:9.1}: {:5} round trips, longest {:.1} ms",
            ms(slow[i].0),
            ms(slow[j - 1].0),
            j - i,
            ms(worst)
        );
        i = j;
    }
}

fn main() {
    let a = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("telnet_load: {e}");
            usage()
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(a.threads)
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(run(Arc::new(a)));
    // Dropping the runtime would wait for nothing more; leave at once, sockets and all.
    std::process::exit(0);
}
