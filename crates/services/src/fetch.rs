//! The opt-in fetcher: downloads what a bot told the shell to `wget` or `tftp`, so the
//! binary can be stored. Nothing in the shell fetches by default; an operator who wants
//! the files builds a [`Fetcher`] with [`FetchLimits`], and every fetch keeps to them.
//!
//! What the server sends is as hostile as what the bot types, so:
//!
//! * the whole fetch, name lookup included, runs under one [`FetchLimits::timeout`];
//! * bodies stop at [`FetchLimits::max_bytes`], headers at [`MAX_HEADER`], chunk lines and
//!   TFTP packets at their own small caps, and nothing is allocated from a length the
//!   server claims beyond what is kept;
//! * at most [`FetchLimits::max_concurrent`] fetches run at once; one more is refused with
//!   [`FetchError::Busy`] rather than queued, since queued fetches would be an unbounded
//!   backlog a bot controls;
//! * an address that is not public (loopback, private, link-local, CGNAT, multicast…) is
//!   refused unless [`FetchLimits::allow_local`] is set, so a bot cannot aim the fetcher at
//!   the honeypot's own network. This is a guard, not a firewall: egress filtering is
//!   still the operator's job.
//!
//! What is fetched:
//!
//! * **http**: one HTTP/1.0 `GET` with `Host:`, `User-Agent: Wget` (as BusyBox sends it)
//!   and `Connection: close`. Any 2xx is the file; a redirect is followed only up to
//!   [`FetchLimits::max_redirects`] (none by default) and only to http; anything else is a
//!   [`FetchError::Protocol`] naming the status. The body is `Content-Length` bytes when
//!   the server gives one, else all it sends until it closes. Chunked transfer-coding is
//!   decoded (some servers use it even for HTTP/1.0 requests), under the same byte cap.
//!   User and password in the URL are not sent.
//! * **tftp**: RFC 1350, a read request in octet mode over UDP. Blocks of 512 bytes come
//!   from the port the server answers from (its transfer ID); each is acknowledged, and a
//!   short block ends the file. With nothing heard for a second the last packet (the
//!   request or the last ACK) goes again, five times at most. Packets from any other
//!   address or port are ignored and counted ([`Fetcher::stray_packets`]).
//! * **https** and **ftp** URLs are recorded by the shell but not fetched:
//!   [`FetchError::Unsupported`].
//!
//! The rate cap paces reads: after each one the fetch sleeps until the average since its
//! start is back under [`FetchLimits::rate_bytes_per_sec`]. A slow cap with a big file
//! runs into the timeout, which is the point of having both.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::url::{Scheme, Url};

/// The most an HTTP status line and headers may take together, in bytes.
pub const MAX_HEADER: usize = 16 * 1024;

/// The most a chunk-size line (size and extensions) may take.
const MAX_CHUNK_LINE: usize = 1024;

/// The most a host name resolves to that we try.
const MAX_ADDRS: usize = 16;

/// Bytes read from a socket at a time.
const READ_CHUNK: usize = 16 * 1024;

/// A full TFTP data block; a shorter one is the last.
const TFTP_BLOCK: usize = 512;

/// How long to wait for a TFTP packet before sending the last one again.
const TFTP_RTO: Duration = Duration::from_secs(1);

/// How many times the last TFTP packet goes again before the fetch gives up.
const TFTP_RETRIES: u32 = 5;

/// The most of a server's error message kept, in bytes.
const MAX_MESSAGE: usize = 128;

/// The caps every fetch keeps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchLimits {
    /// The largest file kept; a bigger one fails with [`FetchError::TooLarge`]. Default
    /// 8 MiB.
    pub max_bytes: u64,
    /// The whole fetch, from looking up the name to the last byte. Default 30 s.
    pub timeout: Duration,
    /// The average rate a fetch may read at; 0 is no cap. Default 1 MiB/s.
    pub rate_bytes_per_sec: u64,
    /// HTTP redirects followed. Default 0: a redirect is reported, not followed.
    pub max_redirects: u8,
    /// Fetches at once; past it [`FetchError::Busy`]. 0 refuses every fetch. Default 4.
    pub max_concurrent: usize,
    /// Whether addresses that are not public (loopback, private, link-local, …) may be
    /// fetched from. Default false; tests and lab setups turn it on.
    pub allow_local: bool,
}

impl Default for FetchLimits {
    fn default() -> Self {
        FetchLimits {
            max_bytes: 8 << 20,
            timeout: Duration::from_secs(30),
            rate_bytes_per_sec: 1 << 20,
            max_redirects: 0,
            max_concurrent: 4,
            allow_local: false,
        }
    }
}

/// Why a fetch brought nothing back.
#[derive(Debug)]
pub enum FetchError {
    /// A scheme the fetcher does not speak (https, ftp): the URL is recorded, the file is
    /// not fetched.
    Unsupported(Scheme),
    /// The host name did not resolve.
    Resolve(String),
    /// The host resolved only to addresses that are not public, and
    /// [`FetchLimits::allow_local`] is off.
    Refused(IpAddr),
    /// The connection failed: connecting, or sending and receiving on it.
    Connect(io::Error),
    /// [`FetchLimits::timeout`] passed, or a TFTP server stopped answering.
    Timeout,
    /// The file is bigger than [`FetchLimits::max_bytes`].
    TooLarge {
        /// The cap it went past.
        limit: u64,
    },
    /// The server answered with something other than the file: an HTTP status, a TFTP
    /// error with the server's message, or bytes that break the protocol.
    Protocol(String),
    /// All [`FetchLimits::max_concurrent`] fetches are running.
    Busy,
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Unsupported(s) => write!(f, "{s} is recorded but not fetched"),
            FetchError::Resolve(e) => write!(f, "name lookup failed: {e}"),
            FetchError::Refused(ip) => write!(f, "{ip} is not a public address"),
            FetchError::Connect(e) => write!(f, "connection failed: {e}"),
            FetchError::Timeout => f.write_str("timed out"),
            FetchError::TooLarge { limit } => write!(f, "file larger than {limit} bytes"),
            FetchError::Protocol(e) => f.write_str(e),
            FetchError::Busy => f.write_str("too many fetches at once"),
        }
    }
}

impl std::error::Error for FetchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FetchError::Connect(e) => Some(e),
            _ => None,
        }
    }
}

/// Downloads files within [`FetchLimits`]; share one between sessions so the concurrency
/// cap holds across them.
#[derive(Debug)]
pub struct Fetcher {
    limits: FetchLimits,
    slots: Semaphore,
    stray: AtomicU64,
    /// [`TFTP_RTO`], shorter in tests.
    tftp_rto: Duration,
}

impl Fetcher {
    /// A fetcher keeping to `limits`.
    pub fn new(limits: FetchLimits) -> Fetcher {
        Fetcher {
            limits,
            slots: Semaphore::new(limits.max_concurrent.min(Semaphore::MAX_PERMITS)),
            stray: AtomicU64::new(0),
            tftp_rto: TFTP_RTO,
        }
    }

    /// The limits it keeps to.
    pub fn limits(&self) -> &FetchLimits {
        &self.limits
    }

    /// TFTP packets ignored so far because they came from another address or port than
    /// the transfer's.
    pub fn stray_packets(&self) -> u64 {
        self.stray.load(Ordering::Relaxed)
    }

    /// Fetches `url`: the file's bytes, or why not.
    pub async fn fetch(&self, url: &Url) -> Result<Vec<u8>, FetchError> {
        if matches!(url.scheme, Scheme::Https | Scheme::Ftp) {
            return Err(FetchError::Unsupported(url.scheme));
        }
        // `Url`'s fields are public: one built by hand, not parsed, could carry a CR LF or
        // a NUL into the request.
        let fit = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic());
        if !fit(&url.host) || !fit(&url.path) || url.port == 0 {
            return Err(FetchError::Protocol(format!(
                "unfit URL {:?}",
                url.to_string()
            )));
        }
        let _slot = self.slots.try_acquire().map_err(|_| FetchError::Busy)?;
        let fetch = async {
            match url.scheme {
                Scheme::Tftp => self.tftp(url).await,
                _ => self.http(url).await,
            }
        };
        tokio::time::timeout(self.limits.timeout, fetch)
            .await
            .unwrap_or(Err(FetchError::Timeout))
    }

    /// The addresses to try for `url`'s host, public ones only unless allowed.
    async fn resolve(&self, url: &Url) -> Result<Vec<SocketAddr>, FetchError> {
        let found: Vec<SocketAddr> = tokio::net::lookup_host((url.host.as_str(), url.port))
            .await
            .map_err(|e| FetchError::Resolve(format!("{}: {e}", url.host)))?
            .take(MAX_ADDRS)
            .collect();
        let Some(first) = found.first().copied() else {
            return Err(FetchError::Resolve(format!("{}: no addresses", url.host)));
        };
        let usable: Vec<SocketAddr> = found
            .into_iter()
            .filter(|a| self.limits.allow_local || is_public(a.ip()))
            .collect();
        if usable.is_empty() {
            return Err(FetchError::Refused(first.ip()));
        }
        Ok(usable)
    }

    /// An http fetch, following redirects as far as allowed.
    async fn http(&self, url: &Url) -> Result<Vec<u8>, FetchError> {
        let mut url = url.clone();
        let mut followed = 0u8;
        loop {
            let (status, location) = match self.http_once(&url).await? {
                Answer::File(body) => return Ok(body),
                Answer::Redirect { status, location } => (status, location),
            };
            if followed >= self.limits.max_redirects {
                return Err(FetchError::Protocol(format!(
                    "HTTP {status}, redirect to {location} not followed"
                )));
            }
            followed += 1;
            url = redirect_target(&url, &location).ok_or_else(|| {
                FetchError::Protocol(format!("HTTP {status}, redirect to a bad URL {location}"))
            })?;
            if url.scheme != Scheme::Http {
                return Err(FetchError::Unsupported(url.scheme));
            }
        }
    }

    /// One HTTP request and its answer.
    async fn http_once(&self, url: &Url) -> Result<Answer, FetchError> {
        let addrs = self.resolve(url).await?;
        let stream = connect(&addrs).await?;
        let mut conn = BufReader::with_capacity(READ_CHUNK, stream);
        let request = format!(
            "GET {} HTTP/1.0\r\nHost: {}\r\nUser-Agent: Wget\r\nConnection: close\r\n\r\n",
            url.path,
            url.authority()
        );
        conn.get_mut()
            .write_all(request.as_bytes())
            .await
            .map_err(FetchError::Connect)?;
        let head = read_head(&mut conn).await?;
        match head.code {
            200..=299 => {}
            300..=399 => {
                let status = format!("{} {}", head.code, head.reason);
                return match head.location {
                    Some(location) => Ok(Answer::Redirect { status, location }),
                    None => Err(FetchError::Protocol(format!(
                        "HTTP {status} without a Location"
                    ))),
                };
            }
            code => {
                return Err(FetchError::Protocol(format!("HTTP {code} {}", head.reason)));
            }
        }
        let mut body = Body {
            max: self.limits.max_bytes,
            data: Vec::new(),
            pacer: Pacer::new(self.limits.rate_bytes_per_sec),
        };
        if head.chunked {
            body.read_chunked(&mut conn).await?;
        } else {
            body.read_plain(&mut conn, head.length).await?;
        }
        Ok(Answer::File(body.data))
    }

    /// A TFTP read request and the transfer that answers it.
    async fn tftp(&self, url: &Url) -> Result<Vec<u8>, FetchError> {
        let server = self.resolve(url).await?[0];
        let any: IpAddr = match server {
            SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
            SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
        };
        let sock = UdpSocket::bind((any, 0))
            .await
            .map_err(FetchError::Connect)?;
        let mut rrq = vec![0, 1];
        rrq.extend_from_slice(url.path.as_bytes());
        rrq.push(0);
        rrq.extend_from_slice(b"octet\0");

        let mut last = (rrq, server);
        let mut tid: Option<SocketAddr> = None;
        let mut expect: u16 = 1;
        let mut acked_any = false;
        let mut retries = 0;
        let mut data = Vec::new();
        let mut pacer = Pacer::new(self.limits.rate_bytes_per_sec);
        // Bigger than the largest valid packet, so an oversize one shows as such.
        let mut buf = vec![0u8; 4 + TFTP_BLOCK + 1];
        send(&sock, &last.0, last.1).await?;
        let mut deadline = Instant::now() + self.tftp_rto;
        loop {
            let (n, from) = match tokio::time::timeout_at(deadline, sock.recv_from(&mut buf)).await
            {
                Ok(got) => got.map_err(FetchError::Connect)?,
                Err(_) if retries < TFTP_RETRIES => {
                    retries += 1;
                    send(&sock, &last.0, last.1).await?;
                    deadline = Instant::now() + self.tftp_rto;
                    continue;
                }
                Err(_) => return Err(FetchError::Timeout),
            };
            // The first answer from the server's address fixes its port, the transfer ID.
            if from.ip() != server.ip() || tid.is_some_and(|t| t != from) {
                self.stray.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let pkt = &buf[..n];
            if n > 4 + TFTP_BLOCK {
                return Err(FetchError::Protocol(format!("TFTP packet of {n} bytes")));
            }
            match pkt {
                [0, 3, hi, lo, block @ ..] => {
                    tid = Some(from);
                    let number = u16::from_be_bytes([*hi, *lo]);
                    if number == expect {
                        if data.len() as u64 + block.len() as u64 > self.limits.max_bytes {
                            // Tell the server, so it stops sending the block again.
                            let mut err = vec![0, 5, 0, 3];
                            err.extend_from_slice(b"file too large\0");
                            let _ = sock.send_to(&err, from).await;
                            return Err(FetchError::TooLarge {
                                limit: self.limits.max_bytes,
                            });
                        }
                        data.extend_from_slice(block);
                        let done = block.len() < TFTP_BLOCK;
                        pacer.account(block.len()).await;
                        let [hi, lo] = number.to_be_bytes();
                        last = (vec![0, 4, hi, lo], from);
                        send(&sock, &last.0, from).await?;
                        if done {
                            return Ok(data);
                        }
                        acked_any = true;
                        retries = 0;
                        deadline = Instant::now() + self.tftp_rto;
                        expect = expect.wrapping_add(1);
                    } else if acked_any && number == expect.wrapping_sub(1) {
                        // The server did not get our ACK and sent the block again.
                        send(&sock, &last.0, from).await?;
                    }
                }
                [0, 5, hi, lo, msg @ ..] => {
                    let code = u16::from_be_bytes([*hi, *lo]);
                    let end = msg.iter().position(|&b| b == 0).unwrap_or(msg.len());
                    return Err(FetchError::Protocol(format!(
                        "TFTP error {code}: {}",
                        printable(&msg[..end])
                    )));
                }
                _ => {
                    return Err(FetchError::Protocol(format!(
                        "unexpected TFTP packet {}",
                        printable(&pkt[..n.min(4)])
                    )));
                }
            }
        }
    }
}

/// What one HTTP request got.
enum Answer {
    File(Vec<u8>),
    Redirect { status: String, location: String },
}

/// What an HTTP response's head says that the fetch needs.
#[derive(Debug, Default)]
struct Head {
    code: u16,
    reason: String,
    length: Option<u64>,
    chunked: bool,
    location: Option<String>,
}

/// The status line and headers, within [`MAX_HEADER`] bytes.
async fn read_head<R: AsyncBufRead + Unpin>(r: &mut R) -> Result<Head, FetchError> {
    let mut budget = MAX_HEADER;
    let mut line = Vec::new();
    read_line(r, &mut budget, &mut line, "header").await?;
    let mut head = parse_status(&line)?;
    loop {
        read_line(r, &mut budget, &mut line, "header").await?;
        if line.is_empty() {
            return Ok(head);
        }
        let colon = line.iter().position(|&b| b == b':').ok_or_else(|| {
            FetchError::Protocol(format!("malformed header line {}", printable(&line)))
        })?;
        let name = String::from_utf8_lossy(&line[..colon])
            .trim()
            .to_ascii_lowercase();
        let value = String::from_utf8_lossy(&line[colon + 1..])
            .trim()
            .to_string();
        match name.as_str() {
            "content-length" => {
                let n = parse_decimal(&value).ok_or_else(|| {
                    FetchError::Protocol(format!(
                        "bad Content-Length {}",
                        printable(value.as_bytes())
                    ))
                })?;
                if head.length.is_some_and(|m| m != n) {
                    return Err(FetchError::Protocol("two different Content-Lengths".into()));
                }
                head.length = Some(n);
            }
            "transfer-encoding" => {
                for coding in value.split(',').map(str::trim) {
                    match coding.to_ascii_lowercase().as_str() {
                        "chunked" => head.chunked = true,
                        "identity" | "" => {}
                        other => {
                            return Err(FetchError::Protocol(format!(
                                "unsupported Transfer-Encoding {}",
                                printable(other.as_bytes())
                            )))
                        }
                    }
                }
            }
            "location" => head.location = Some(value),
            _ => {}
        }
    }
}

/// `HTTP/1.x 200 OK`.
fn parse_status(line: &[u8]) -> Result<Head, FetchError> {
    let bad = || FetchError::Protocol(format!("malformed status line {}", printable(line)));
    let text = std::str::from_utf8(line).map_err(|_| bad())?;
    let mut parts = text.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let code = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/") || code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    Ok(Head {
        code: code.parse().map_err(|_| bad())?,
        reason: printable(parts.next().unwrap_or("").trim().as_bytes()),
        ..Head::default()
    })
}

/// One line into `line`, without its `\n` or `\r\n`, taking at most `budget` bytes.
async fn read_line<R: AsyncBufRead + Unpin>(
    r: &mut R,
    budget: &mut usize,
    line: &mut Vec<u8>,
    what: &str,
) -> Result<(), FetchError> {
    line.clear();
    let limit = *budget as u64;
    let n = r
        .take(limit)
        .read_until(b'\n', line)
        .await
        .map_err(FetchError::Connect)?;
    *budget -= n;
    if line.last() != Some(&b'\n') {
        return Err(FetchError::Protocol(if *budget == 0 {
            format!("{what} too long")
        } else {
            format!("connection closed in the {what}")
        }));
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(())
}

/// A body being read, under the byte cap and the rate cap.
struct Body {
    max: u64,
    data: Vec<u8>,
    pacer: Pacer,
}

impl Body {
    /// `length` bytes, or all until the server closes when it gave no length.
    async fn read_plain<R: AsyncRead + Unpin>(
        &mut self,
        r: &mut R,
        length: Option<u64>,
    ) -> Result<(), FetchError> {
        if let Some(n) = length {
            if n > self.max {
                return Err(FetchError::TooLarge { limit: self.max });
            }
            // A claimed length is only a hint for the first allocation.
            self.data.reserve(n.min(READ_CHUNK as u64 * 4) as usize);
        }
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            let want = match length {
                Some(n) => (n - self.data.len() as u64).min(READ_CHUNK as u64) as usize,
                None => READ_CHUNK,
            };
            if want == 0 {
                return Ok(());
            }
            let got = r
                .read(&mut buf[..want])
                .await
                .map_err(FetchError::Connect)?;
            if got == 0 {
                return match length {
                    Some(n) => Err(FetchError::Protocol(format!(
                        "body ended after {} of {n} bytes",
                        self.data.len()
                    ))),
                    None => Ok(()),
                };
            }
            self.keep(&buf[..got]).await?;
        }
    }

    /// A chunked body: size lines, chunks, and trailers up to the empty line.
    async fn read_chunked<R: AsyncBufRead + Unpin>(&mut self, r: &mut R) -> Result<(), FetchError> {
        let mut line = Vec::new();
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            let mut budget = MAX_CHUNK_LINE;
            read_line(r, &mut budget, &mut line, "chunk size line").await?;
            let end = line.iter().position(|&b| b == b';').unwrap_or(line.len());
            let size = parse_hex(&line[..end]).ok_or_else(|| {
                FetchError::Protocol(format!("bad chunk size {}", printable(&line)))
            })?;
            if size == 0 {
                break;
            }
            if self.data.len() as u64 + size > self.max {
                return Err(FetchError::TooLarge { limit: self.max });
            }
            let mut left = size;
            while left > 0 {
                let want = left.min(READ_CHUNK as u64) as usize;
                let got = r
                    .read(&mut buf[..want])
                    .await
                    .map_err(FetchError::Connect)?;
                if got == 0 {
                    return Err(FetchError::Protocol("body ended in a chunk".into()));
                }
                left -= got as u64;
                self.keep(&buf[..got]).await?;
            }
            let mut budget = 2;
            read_line(r, &mut budget, &mut line, "chunk end").await?;
            if !line.is_empty() {
                return Err(FetchError::Protocol("chunk longer than its size".into()));
            }
        }
        let mut budget = MAX_HEADER;
        loop {
            read_line(r, &mut budget, &mut line, "trailer").await?;
            if line.is_empty() {
                return Ok(());
            }
        }
    }

    /// Appends what was read, or fails past the cap; then waits out the rate cap.
    async fn keep(&mut self, bytes: &[u8]) -> Result<(), FetchError> {
        if self.data.len() as u64 + bytes.len() as u64 > self.max {
            return Err(FetchError::TooLarge { limit: self.max });
        }
        self.data.extend_from_slice(bytes);
        self.pacer.account(bytes.len()).await;
        Ok(())
    }
}

/// Keeps the average rate since the start at or under `rate` bytes a second.
struct Pacer {
    rate: u64,
    start: Instant,
    bytes: u64,
}

impl Pacer {
    fn new(rate: u64) -> Pacer {
        Pacer {
            rate,
            start: Instant::now(),
            bytes: 0,
        }
    }

    /// Counts `n` bytes read, and sleeps until the time they are due at this rate.
    async fn account(&mut self, n: usize) {
        if self.rate == 0 {
            return;
        }
        self.bytes = self.bytes.saturating_add(n as u64);
        let secs = self.bytes / self.rate;
        let nanos =
            (u128::from(self.bytes % self.rate) * 1_000_000_000 / u128::from(self.rate)) as u32;
        match self.start.checked_add(Duration::new(secs, nanos)) {
            Some(due) => tokio::time::sleep_until(due).await,
            // Due beyond what the clock holds: only the fetch's timeout ends it.
            None => std::future::pending().await,
        }
    }
}

/// The first of `addrs` that takes a connection, or the last error.
async fn connect(addrs: &[SocketAddr]) -> Result<TcpStream, FetchError> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(FetchError::Connect(last))
}

async fn send(sock: &UdpSocket, pkt: &[u8], to: SocketAddr) -> Result<(), FetchError> {
    sock.send_to(pkt, to).await.map_err(FetchError::Connect)?;
    Ok(())
}

/// Where a `Location` points, from `base`: an absolute URL, an absolute path, or a path
/// relative to `base`'s directory.
fn redirect_target(base: &Url, location: &str) -> Option<Url> {
    if location.contains("://") {
        return Url::parse(location.as_bytes());
    }
    let path = if location.starts_with('/') {
        location.to_string()
    } else {
        let path = base.path.split(['?', '#']).next().unwrap_or("/");
        let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        format!("{dir}{location}")
    };
    let text = format!("{}://{}{}", base.scheme, base.authority(), path);
    Url::parse(text.as_bytes())
}

/// Decimal digits only, as `Content-Length` must be.
fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A chunk size: hex digits, optionally padded with spaces or tabs.
fn parse_hex(s: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(s).ok()?.trim_matches([' ', '\t']);
    if s.is_empty() || s.len() > 15 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

/// Server text fit for an error message: printable ASCII, others as `?`, cut short.
fn printable(b: &[u8]) -> String {
    let mut s: String = b
        .iter()
        .take(MAX_MESSAGE)
        .map(|&c| {
            if c == b' ' || c.is_ascii_graphic() {
                char::from(c)
            } else {
                '?'
            }
        })
        .collect();
    if b.len() > MAX_MESSAGE {
        s.push('…');
    }
    s
}

/// Whether an address is on the public internet, as far as the address alone tells.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let [first, second, ..] = a.octets();
            !(a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.is_broadcast()
                || a.is_documentation()
                || a.is_unspecified()
                || a.is_multicast()
                || first == 0
                || first >= 240
                // 100.64.0.0/10, carrier-grade NAT.
                || (first == 100 && second & 0xc0 == 64))
        }
        IpAddr::V6(a) => {
            if let Some(v4) = a.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = a.segments()[0];
            !(a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                // fc00::/7 unique local, fe80::/10 link-local.
                || first & 0xfe00 == 0xfc00
                || first & 0xffc0 == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;
    use tokio::task::JoinHandle;

    fn limits() -> FetchLimits {
        FetchLimits {
            timeout: Duration::from_secs(10),
            allow_local: true,
            ..FetchLimits::default()
        }
    }

    fn file(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 31 % 251) as u8).collect()
    }

    fn http_url(addr: SocketAddr, path: &str) -> Url {
        Url::parse(format!("http://{addr}{path}").as_bytes()).unwrap()
    }

    /// An HTTP server answering one connection per response, in order; gives back the
    /// requests it read.
    async fn http_server(responses: Vec<Vec<u8>>) -> (SocketAddr, JoinHandle<Vec<Vec<u8>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut requests = Vec::new();
            for response in responses {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.ends_with(b"\r\n\r\n") {
                    let n = s.read(&mut buf).await.unwrap();
                    assert!(n > 0, "request cut short");
                    req.extend_from_slice(&buf[..n]);
                }
                requests.push(req);
                // The client may have hung up already (a refused length, say).
                let _ = s.write_all(&response).await;
                let _ = s.shutdown().await;
            }
            requests
        });
        (addr, task)
    }

    fn ok_response(body: &[u8], length: bool) -> Vec<u8> {
        let mut r = b"HTTP/1.0 200 OK\r\nServer: test\r\n".to_vec();
        if length {
            r.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        }
        r.extend_from_slice(b"\r\n");
        r.extend_from_slice(body);
        r
    }

    #[tokio::test]
    async fn http_gets_the_exact_bytes_and_sends_a_wget_request() {
        let body = file(100_000);
        let (addr, server) =
            http_server(vec![ok_response(&body, true), ok_response(&body, false)]).await;
        let f = Fetcher::new(FetchLimits {
            rate_bytes_per_sec: 0,
            ..limits()
        });
        let url = http_url(addr, "/bins/mirai.arm7?x=1");
        assert_eq!(f.fetch(&url).await.unwrap(), body);
        assert_eq!(f.fetch(&url).await.unwrap(), body);
        let requests = server.await.unwrap();
        let want = format!(
            "GET /bins/mirai.arm7?x=1 HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nUser-Agent: Wget\r\n\
             Connection: close\r\n\r\n",
            addr.port()
        );
        assert_eq!(String::from_utf8_lossy(&requests[0]), want);
    }

    #[tokio::test]
    async fn http_rate_capped_fetch_gets_the_bytes() {
        let body = file(1300);
        let (addr, _server) = http_server(vec![ok_response(&body, true)]).await;
        let f = Fetcher::new(FetchLimits {
            rate_bytes_per_sec: 8192,
            ..limits()
        });
        assert_eq!(f.fetch(&http_url(addr, "/x")).await.unwrap(), body);
    }

    #[tokio::test(start_paused = true)]
    async fn the_pacer_keeps_the_average_under_the_rate() {
        let start = Instant::now();
        let mut p = Pacer::new(1000);
        p.account(500).await;
        assert_eq!(start.elapsed(), Duration::from_millis(500));
        p.account(1500).await;
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        let start = Instant::now();
        Pacer::new(0).account(1 << 30).await;
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test]
    async fn http_chunked_bodies_are_decoded() {
        let response =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n\
                         5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: x\r\n\r\n"
                .to_vec();
        let (addr, _server) = http_server(vec![response]).await;
        let f = Fetcher::new(limits());
        assert_eq!(f.fetch(&http_url(addr, "/")).await.unwrap(), b"hello world");
    }

    #[tokio::test]
    async fn http_too_large_with_a_length_without_one_and_chunked() {
        let body = file(1300);
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                        400\r\n"
            .iter()
            .chain(&body[..1024])
            .chain(b"\r\n400\r\n")
            .copied()
            .collect();
        let (addr, _server) = http_server(vec![
            ok_response(&body, true),
            ok_response(&body, false),
            chunked,
        ])
        .await;
        let f = Fetcher::new(FetchLimits {
            max_bytes: 1299,
            ..limits()
        });
        for _ in 0..3 {
            let err = f.fetch(&http_url(addr, "/x")).await.unwrap_err();
            assert!(
                matches!(err, FetchError::TooLarge { limit: 1299 }),
                "{err:?}"
            );
        }
        // Exactly at the cap is fine.
        let (addr, _server) = http_server(vec![ok_response(&body, false)]).await;
        let f = Fetcher::new(FetchLimits {
            max_bytes: 1300,
            ..limits()
        });
        assert_eq!(f.fetch(&http_url(addr, "/x")).await.unwrap(), body);
    }

    #[tokio::test]
    async fn http_errors_are_protocol_errors() {
        let (addr, _server) = http_server(vec![
            b"HTTP/1.0 404 Not Found\r\n\r\nnope".to_vec(),
            b"SSH-2.0-OpenSSH\r\n\r\n".to_vec(),
            b"HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nshort".to_vec(),
            b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab".to_vec(),
            b"HTTP/1.0 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n".to_vec(),
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec(),
            b"HTTP/1.0 200 OK\r\nContent-Length: 1".to_vec(),
        ])
        .await;
        let f = Fetcher::new(limits());
        let want = [
            "HTTP 404 Not Found",
            "malformed status line",
            "body ended after 5 of 10 bytes",
            "two different Content-Lengths",
            "unsupported Transfer-Encoding gzip",
            "bad chunk size",
            "connection closed in the header",
        ];
        for w in want {
            match f.fetch(&http_url(addr, "/x")).await {
                Err(FetchError::Protocol(e)) => assert!(e.starts_with(w), "{e:?} is not {w:?}"),
                other => panic!("{other:?} for {w}"),
            }
        }
    }

    #[tokio::test]
    async fn http_header_over_the_cap() {
        let mut response = b"HTTP/1.0 200 OK\r\nX-Junk: ".to_vec();
        response.resize(MAX_HEADER + 100, b'a');
        let (addr, _server) = http_server(vec![response]).await;
        let f = Fetcher::new(limits());
        match f.fetch(&http_url(addr, "/x")).await {
            Err(FetchError::Protocol(e)) => assert_eq!(e, "header too long"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn redirects_are_reported_unless_allowed() {
        let redirect = b"HTTP/1.0 302 Found\r\nLocation: real.bin\r\n\r\n".to_vec();
        let (addr, _server) = http_server(vec![redirect.clone()]).await;
        let f = Fetcher::new(limits());
        match f.fetch(&http_url(addr, "/dir/x")).await {
            Err(FetchError::Protocol(e)) => {
                assert_eq!(e, "HTTP 302 Found, redirect to real.bin not followed")
            }
            other => panic!("{other:?}"),
        }

        let (addr, server) = http_server(vec![redirect, ok_response(b"payload", true)]).await;
        let f = Fetcher::new(FetchLimits {
            max_redirects: 1,
            ..limits()
        });
        assert_eq!(
            f.fetch(&http_url(addr, "/dir/x")).await.unwrap(),
            b"payload"
        );
        let requests = server.await.unwrap();
        assert!(requests[1].starts_with(b"GET /dir/real.bin HTTP/1.0\r\n"));

        let to_https = b"HTTP/1.0 301 Moved\r\nLocation: https://h/x\r\n\r\n".to_vec();
        let (addr, _server) = http_server(vec![to_https]).await;
        let err = f.fetch(&http_url(addr, "/x")).await.unwrap_err();
        assert!(
            matches!(err, FetchError::Unsupported(Scheme::Https)),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_silent_server_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _server = tokio::spawn(async move {
            let (_s, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(30)).await;
        });
        let f = Fetcher::new(FetchLimits {
            timeout: Duration::from_millis(200),
            ..limits()
        });
        let err = f.fetch(&http_url(addr, "/x")).await.unwrap_err();
        assert!(matches!(err, FetchError::Timeout), "{err:?}");
    }

    #[tokio::test]
    async fn past_the_slots_a_fetch_is_busy() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _server = tokio::spawn(async move {
            let (_s, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(30)).await;
        });
        let f = Fetcher::new(FetchLimits {
            timeout: Duration::from_millis(200),
            max_concurrent: 1,
            ..limits()
        });
        let url = http_url(addr, "/x");
        let (first, second) = tokio::join!(f.fetch(&url), f.fetch(&url));
        assert!(matches!(first, Err(FetchError::Timeout)), "{first:?}");
        assert!(matches!(second, Err(FetchError::Busy)), "{second:?}");
        // The slot is free again.
        let (addr, _server) = http_server(vec![ok_response(b"x", true)]).await;
        assert_eq!(f.fetch(&http_url(addr, "/")).await.unwrap(), b"x");
    }

    #[tokio::test]
    async fn local_addresses_are_refused_by_default_and_some_schemes_unsupported() {
        let f = Fetcher::new(FetchLimits::default());
        let err = f
            .fetch(&Url::parse(b"http://127.0.0.1:9/x").unwrap())
            .await
            .unwrap_err();
        assert!(
            matches!(err, FetchError::Refused(ip) if ip.is_loopback()),
            "{err:?}"
        );
        let err = f
            .fetch(&Url::tftp("::1", None, "f").unwrap())
            .await
            .unwrap_err();
        assert!(matches!(err, FetchError::Refused(_)), "{err:?}");
        for (s, scheme) in [
            ("https://h/x", Scheme::Https),
            ("ftp://u:p@h/f", Scheme::Ftp),
        ] {
            let err = f
                .fetch(&Url::parse(s.as_bytes()).unwrap())
                .await
                .unwrap_err();
            assert!(
                matches!(err, FetchError::Unsupported(sc) if sc == scheme),
                "{err:?}"
            );
            assert!(err.to_string().contains("recorded but not fetched"));
        }
    }

    #[tokio::test]
    async fn hand_built_urls_cannot_inject() {
        let f = Fetcher::new(limits());
        let mut url = Url::parse(b"http://127.0.0.1:9/x").unwrap();
        url.path = "/x HTTP/1.0\r\nX-Evil: 1".into();
        let err = f.fetch(&url).await.unwrap_err();
        assert!(
            matches!(err, FetchError::Protocol(ref e) if e.starts_with("unfit URL")),
            "{err:?}"
        );
        let mut url = Url::tftp("127.0.0.1", None, "f").unwrap();
        url.path = "f\0netascii".into();
        assert!(matches!(f.fetch(&url).await, Err(FetchError::Protocol(_))));
    }

    #[test]
    fn public_addresses() {
        for a in ["1.2.3.4", "8.8.8.8", "2001:4860::8888", "::ffff:1.2.3.4"] {
            assert!(is_public(a.parse().unwrap()), "{a}");
        }
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.1.1",
            "172.16.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn redirect_targets() {
        let base = Url::parse(b"http://h:8080/a/b?q").unwrap();
        let t = |l: &str| redirect_target(&base, l).map(|u| u.to_string());
        assert_eq!(t("c").as_deref(), Some("http://h:8080/a/c"));
        assert_eq!(t("/d").as_deref(), Some("http://h:8080/d"));
        assert_eq!(t("http://x/y").as_deref(), Some("http://x/y"));
        assert_eq!(t("http://x y/"), None);
    }

    /// How the test TFTP server misbehaves.
    #[derive(Clone, Copy, Default)]
    struct Quirks {
        ignore_first_rrq: bool,
        ignore_first_ack: bool,
        stray_after_first_ack: bool,
        silent: bool,
    }

    /// A small RFC 1350 server for one read request: `file` for any name but `missing`,
    /// which gets error 1. Gives back the requests it saw.
    async fn tftp_server(file: Vec<u8>, quirks: Quirks) -> (SocketAddr, JoinHandle<Vec<Vec<u8>>>) {
        let listen = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = listen.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut requests = Vec::new();
            let mut buf = [0u8; 600];
            let client = loop {
                let (n, client) = listen.recv_from(&mut buf).await.unwrap();
                requests.push(buf[..n].to_vec());
                if quirks.silent && requests.len() as u32 == 1 + TFTP_RETRIES {
                    return requests;
                }
                if quirks.silent || (quirks.ignore_first_rrq && requests.len() == 1) {
                    continue;
                }
                break client;
            };
            // A new port, the server's transfer ID.
            let tid = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            if requests.last().unwrap()[2..].starts_with(b"missing\0") {
                tid.send_to(b"\0\x05\0\x01File not found\0", client)
                    .await
                    .unwrap();
                return requests;
            }
            let mut ignored_ack = false;
            for (i, block) in file
                .chunks(TFTP_BLOCK)
                .chain(
                    // A file of whole blocks ends with an empty one.
                    file.len().is_multiple_of(TFTP_BLOCK).then_some(&[][..]),
                )
                .enumerate()
            {
                let number = (i + 1) as u16;
                let mut pkt = vec![0, 3];
                pkt.extend_from_slice(&number.to_be_bytes());
                pkt.extend_from_slice(block);
                'resend: for _ in 0..5 {
                    tid.send_to(&pkt, client).await.unwrap();
                    let deadline = Instant::now() + Duration::from_millis(300);
                    loop {
                        let Ok(got) =
                            tokio::time::timeout_at(deadline, tid.recv_from(&mut buf)).await
                        else {
                            continue 'resend;
                        };
                        let (n, from) = got.unwrap();
                        assert_eq!(from, client);
                        if buf[..n] != [0, 4, pkt[2], pkt[3]] {
                            continue;
                        }
                        if quirks.ignore_first_ack && !ignored_ack {
                            ignored_ack = true;
                            continue;
                        }
                        if quirks.stray_after_first_ack && number == 1 {
                            let stray = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                            stray.send_to(b"\0\x03\0\x02EVIL", client).await.unwrap();
                        }
                        break 'resend;
                    }
                }
            }
            requests
        });
        (addr, task)
    }

    fn tftp_fetcher(limits: FetchLimits) -> Fetcher {
        let mut f = Fetcher::new(limits);
        f.tftp_rto = Duration::from_millis(100);
        f
    }

    fn tftp_url(addr: SocketAddr, file: &str) -> Url {
        Url::tftp(&addr.ip().to_string(), Some(addr.port()), file).unwrap()
    }

    #[tokio::test]
    async fn tftp_gets_the_exact_bytes() {
        for size in [1300, 1024, 0, 100] {
            let body = file(size);
            let (addr, server) = tftp_server(body.clone(), Quirks::default()).await;
            let f = tftp_fetcher(limits());
            assert_eq!(
                f.fetch(&tftp_url(addr, "mirai.mips")).await.unwrap(),
                body,
                "{size}"
            );
            let requests = server.await.unwrap();
            assert_eq!(requests, [b"\0\x01mirai.mips\0octet\0".to_vec()]);
        }
    }

    #[tokio::test]
    async fn tftp_resends_and_survives_lost_packets() {
        let body = file(1300);
        let quirks = Quirks {
            ignore_first_rrq: true,
            ignore_first_ack: true,
            ..Quirks::default()
        };
        let (addr, server) = tftp_server(body.clone(), quirks).await;
        let f = tftp_fetcher(limits());
        assert_eq!(f.fetch(&tftp_url(addr, "f")).await.unwrap(), body);
        assert_eq!(server.await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn tftp_ignores_and_counts_strays() {
        let body = file(1300);
        let quirks = Quirks {
            stray_after_first_ack: true,
            ..Quirks::default()
        };
        let (addr, _server) = tftp_server(body.clone(), quirks).await;
        let f = tftp_fetcher(limits());
        assert_eq!(f.fetch(&tftp_url(addr, "f")).await.unwrap(), body);
        assert_eq!(f.stray_packets(), 1);
    }

    #[tokio::test]
    async fn tftp_errors_limits_and_silence() {
        let (addr, _server) = tftp_server(file(10), Quirks::default()).await;
        let f = tftp_fetcher(limits());
        match f.fetch(&tftp_url(addr, "missing")).await {
            Err(FetchError::Protocol(e)) => assert_eq!(e, "TFTP error 1: File not found"),
            other => panic!("{other:?}"),
        }

        let (addr, _server) = tftp_server(file(1300), Quirks::default()).await;
        let f = tftp_fetcher(FetchLimits {
            max_bytes: 1000,
            ..limits()
        });
        let err = f.fetch(&tftp_url(addr, "f")).await.unwrap_err();
        assert!(
            matches!(err, FetchError::TooLarge { limit: 1000 }),
            "{err:?}"
        );

        let quirks = Quirks {
            silent: true,
            ..Quirks::default()
        };
        let (addr, server) = tftp_server(file(10), quirks).await;
        let f = tftp_fetcher(limits());
        let err = f.fetch(&tftp_url(addr, "f")).await.unwrap_err();
        assert!(matches!(err, FetchError::Timeout), "{err:?}");
        // The request and its five resends.
        assert_eq!(server.await.unwrap().len(), 6);
    }
}
