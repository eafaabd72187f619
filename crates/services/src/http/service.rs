//! The HTTP service: the thin async loop around [`Conn`]. It reads under the header and
//! keep-alive timers, answers each request as the device's web interface would
//! ([`respond`]), looks for an IoT exploit in it ([`Signatures::inspect`]), and records
//! the request and every download the exploit names.

use std::io::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use honeyscope_event::text::escape_bytes as text;
use honeyscope_event::{Event, HttpEvent, SessionEvent, SessionEventId, Timestamp};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::conn::{Conn, HttpLimits, Refusal, Request, Step};
use super::exploit::{self, Finding, Signatures};
use crate::capture::{self, Store};
use crate::device::{Profile, WebPage};
use crate::fetch::Fetcher;
use crate::shell::Device;
use crate::{now_us, session_id, within, ConnInfo, EventSink, Limits};

/// Everything the HTTP service shares across its connections.
pub struct HttpService {
    /// Per-connection bounds.
    pub limits: HttpLimits,
    /// The exploits it recognises.
    pub signatures: Arc<Signatures>,
    /// Where fetched files go; `None` keeps only their events.
    pub artifacts: Option<Store>,
    /// The operator's fetcher; `None` (the default) fetches nothing.
    pub fetcher: Option<Arc<Fetcher>>,
    /// Where events go.
    pub events: EventSink,
    /// The sensor named in every event.
    pub sensor: Option<Arc<str>>,
    /// Counters.
    pub stats: HttpStats,
}

/// What the HTTP service counted.
#[derive(Debug, Default)]
pub struct HttpStats {
    /// Requests answered (malformed ones included).
    pub requests: AtomicU64,
    /// Requests a signature recognised.
    pub exploits: AtomicU64,
    /// Download URLs found in requests.
    pub downloads: AtomicU64,
}

/// Headers and their values kept in a request's event.
const MAX_LOGGED_HEADERS: usize = 64;
/// Bytes of a header value kept in the event.
const MAX_LOGGED_VALUE: usize = 1024;
/// Download events (and fetches) per request at most.
const DOWNLOADS_PER_REQUEST: usize = 8;

/// Bytes of a body kept (escaped) in the event.
const BODY_HEAD: usize = 256;

/// Serves one HTTP connection as `device`'s web interface.
pub async fn serve<S>(
    mut stream: S,
    info: ConnInfo,
    limits: Limits,
    svc: Arc<HttpService>,
    device: Arc<Device>,
) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let id = session_id(&info);
    let mut conn = Conn::new(svc.limits);
    let mut buf = vec![0u8; 4096];
    let mut served = 0u32;
    let mut out = Vec::new();
    // Deadlines, not per-read timers, so a byte every few seconds buys nothing: a started
    // request must be whole `header_secs` after its first byte; an idle connection closes
    // `keep_alive_secs` after its last answer (blank lines do not count); no connection
    // outlives `connection_secs`.
    let opened = Instant::now();
    let mut last_answer = opened;
    let mut request_started: Option<Instant> = None;
    let l = svc.limits;
    loop {
        let deadline = match request_started {
            Some(t) => t + Duration::from_secs(l.header_secs),
            None => last_answer + Duration::from_secs(l.keep_alive_secs),
        }
        .min(opened + Duration::from_secs(l.connection_secs));
        let wait = Limits {
            idle: limits
                .idle
                .min(deadline.saturating_duration_since(Instant::now())),
        };
        let n = match within(wait, stream.read(&mut buf)).await {
            Ok(0) | Err(_) if conn.partial() => {
                // The client stalled or left halfway through a request: a 408 in the
                // device's style (if it still listens), and the event.
                let r = Refusal {
                    status: 408,
                    why: "request incomplete (client too slow or gone)",
                };
                let page = &device.profile.web.bad_request;
                write_page(&device.profile, page, 408, None, false, true, &mut out);
                let sent = within(limits, stream.write_all(&out)).await.is_ok();
                record_refusal(
                    &svc,
                    &id,
                    &info,
                    &device.profile,
                    r,
                    if sent { 408 } else { 0 },
                );
                return Ok(());
            }
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::TimedOut => return Ok(()),
            Err(e) => return Err(e),
        };
        conn.feed(&buf[..n]);
        if conn.partial() {
            request_started.get_or_insert_with(Instant::now);
        }
        let mut close = false;
        loop {
            match conn.next_step() {
                Step::Need => break,
                Step::Refuse(r) => {
                    let page = &device.profile.web.bad_request;
                    let status =
                        write_page(&device.profile, page, r.status, None, false, true, &mut out);
                    record_refusal(&svc, &id, &info, &device.profile, r, status);
                    close = true;
                    break;
                }
                Step::Request(req) => {
                    served += 1;
                    last_answer = Instant::now();
                    request_started = conn.partial().then_some(last_answer);
                    let last = served >= svc.limits.max_requests || !req.keep_alive();
                    let status = respond(&device.profile, &req, last, &mut out);
                    let finding = svc.signatures.inspect(&exploit::Request {
                        method: &req.method,
                        target: &req.target,
                        headers: &req
                            .headers
                            .iter()
                            .map(|(n, v)| (n.as_slice(), v.as_slice()))
                            .collect::<Vec<_>>(),
                        body: &req.body,
                    });
                    record(&svc, &id, &info, &device.profile, &req, status, &finding);
                    if !finding.downloads.is_empty() {
                        // Answer first: a bot waits for the response, not for our fetch.
                        within(limits, stream.write_all(&out)).await?;
                        out.clear();
                        downloads(&svc, &id, &info, &device.profile, &finding).await;
                    }
                    if last {
                        close = true;
                        break;
                    }
                }
            }
        }
        if !out.is_empty() {
            within(limits, stream.write_all(&out)).await?;
            out.clear();
        }
        if close {
            let _ = within(limits, stream.shutdown()).await;
            return Ok(());
        }
    }
}

/// The device's answer to `req`: its page for the path (behind Basic auth where the
/// profile says so), else its 404. Returns the status.
pub fn respond(p: &Profile, req: &Request, close: bool, out: &mut Vec<u8>) -> u16 {
    let web = &p.web;
    // A profile's page may name a query (`/getpage.gch?pid=1002`): the whole target first.
    let target = String::from_utf8_lossy(&req.target);
    let path = String::from_utf8_lossy(req.path());
    let page = p
        .web_page(&target)
        .or_else(|| p.web_page(&path))
        .unwrap_or(&web.not_found);
    let head = req.method.eq_ignore_ascii_case(b"HEAD");
    if page.auth && web.basic_realm.is_some() && req.header("authorization").is_none() {
        return write_page(p, page, 401, web.basic_realm.as_deref(), head, close, out);
    }
    write_page(p, page, page.status, None, head, close, out)
}

/// Writes `page` with `status`: the device's headers, the page's, framing. With `realm`, a
/// Basic challenge and a short body instead of the page's.
fn write_page(
    p: &Profile,
    page: &WebPage,
    status: u16,
    realm: Option<&str>,
    head: bool,
    close: bool,
    out: &mut Vec<u8>,
) -> u16 {
    let body: &[u8] = match realm {
        Some(_) => b"<html><body><h1>401 Unauthorized</h1></body></html>\n",
        None => &page.body,
    };
    // Written in place: a response costs no allocation of its own.
    let _ = write!(out, "HTTP/1.1 {status} {}\r\n", reason(status));
    if let Some(server) = &p.web.server {
        let _ = write!(out, "Server: {server}\r\n");
    }
    let content_type = if realm.is_some() {
        "text/html"
    } else {
        &page.content_type
    };
    let _ = write!(
        out,
        "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(r) = realm {
        let _ = write!(out, "WWW-Authenticate: Basic realm=\"{r}\"\r\n");
    }
    let page_headers = if realm.is_some() {
        &[][..]
    } else {
        &page.headers[..]
    };
    for (n, v) in p.web.headers.iter().chain(page_headers) {
        let _ = write!(out, "{n}: {v}\r\n");
    }
    out.extend_from_slice(if close {
        b"Connection: close\r\n\r\n"
    } else {
        b"Connection: keep-alive\r\n\r\n"
    });
    if !head {
        out.extend_from_slice(body);
    }
    status
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

fn base_event(svc: &HttpService, id: &str, info: &ConnInfo, p: &Profile) -> HttpEvent {
    let time = Timestamp::from_micros(now_us()).unwrap_or_default();
    let mut e = HttpEvent::new(time, id, info.peer, info.local);
    e.sensor = svc.sensor.clone();
    e.profile = Some(p.name.as_str().into());
    e
}

/// The event of a request we answered.
fn record(
    svc: &HttpService,
    id: &str,
    info: &ConnInfo,
    p: &Profile,
    req: &Request,
    status: u16,
    finding: &Finding,
) {
    svc.stats.requests.fetch_add(1, Ordering::Relaxed);
    let mut e = base_event(svc, id, info, p);
    e.method = Some(text(&req.method).into());
    e.target = Some(text(&req.target).into());
    e.path = Some(text(&exploit::percent_decode(req.path(), false)).into());
    e.query = req.query().map(|q| text(q).into());
    e.version = Some(format!("HTTP/1.{}", req.minor).into());
    e.host = req.header("host").map(|h| text(h).into());
    e.user_agent = req.header("user-agent").map(|h| text(h).into());
    e.headers = req
        .headers
        .iter()
        .take(MAX_LOGGED_HEADERS)
        .map(|(n, v)| {
            let v = &v[..v.len().min(MAX_LOGGED_VALUE)];
            (text(n).into(), text(v).into())
        })
        .collect();
    e.body_size = req.body.len() as u64;
    if !req.body.is_empty() {
        e.body_sha256 = Some(capture::sha256_hex(&req.body).into());
        e.body_head = Some(text(&req.body[..req.body.len().min(BODY_HEAD)]).into());
    }
    e.status = status;
    if let Some(name) = &finding.exploit {
        svc.stats.exploits.fetch_add(1, Ordering::Relaxed);
        e.exploit = Some(name.as_str().into());
    }
    e.commands = finding.commands.iter().map(|c| text(c).into()).collect();
    (svc.events)(Event::from(e));
}

/// The event of a request we could not take.
fn record_refusal(
    svc: &HttpService,
    id: &str,
    info: &ConnInfo,
    p: &Profile,
    r: Refusal,
    status: u16,
) {
    svc.stats.requests.fetch_add(1, Ordering::Relaxed);
    let mut e = base_event(svc, id, info, p);
    e.status = status;
    e.error = Some(r.why.into());
    (svc.events)(Event::from(e));
}

/// A download event for each URL the exploit names, fetching it first when allowed.
async fn downloads(svc: &HttpService, id: &str, info: &ConnInfo, p: &Profile, finding: &Finding) {
    // Each URL once, and few of them: a request may name many, and the fetch (when it is
    // on) holds the connection.
    let mut seen: Vec<String> = Vec::new();
    for req in &finding.downloads {
        let url = req.url.to_string();
        if seen.contains(&url) || seen.len() >= DOWNLOADS_PER_REQUEST {
            continue;
        }
        seen.push(url);
        svc.stats.downloads.fetch_add(1, Ordering::Relaxed);
        let time = Timestamp::from_micros(now_us()).unwrap_or_default();
        let fetched = match &svc.fetcher {
            Some(f) => Some(f.fetch(&req.url).await),
            None => None,
        };
        let eventid = match &fetched {
            Some(Err(_)) => SessionEventId::FileDownloadFailed,
            _ => SessionEventId::FileDownload,
        };
        let mut e = SessionEvent::new(time, eventid, id, "http", info.peer, info.local);
        e.sensor = svc.sensor.clone();
        e.profile = Some(p.name.as_str().into());
        capture::download_fields(&mut e, req);
        let exploit = finding
            .exploit
            .as_deref()
            .unwrap_or("a command in a request");
        match fetched {
            None => {
                e.message = Some(format!("from {exploit}; not fetched: fetching is off").into())
            }
            Some(Err(why)) => e.message = Some(format!("from {exploit}; {why}").into()),
            Some(Ok(data)) => {
                capture::describe(svc.artifacts.as_ref(), &data, &mut e);
            }
        }
        (svc.events)(Event::from(e));
    }
}
