//! One HTTP/1.x connection, sans-IO: bytes in, whole requests (or the reason there will be
//! none) out, in order, however the network split or joined them (pipelining).
//!
//! Request lines and headers are parsed by `httparse`; bodies are framed here by
//! `Content-Length` or `chunked`, each bounded ([`HttpLimits`]). A request with both, with a
//! bad length, or over a cap is an error: the caller answers it and closes, since the
//! stream can no longer be trusted to be in step.

/// Bounds for one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Bytes of request line and headers.
    pub max_header: usize,
    /// Headers in one request.
    pub max_headers: usize,
    /// Bytes of one body.
    pub max_body: usize,
    /// Requests on one connection; the last is answered with `Connection: close`.
    pub max_requests: u32,
    /// Seconds a client may take to send a whole request once its first byte came (slow
    /// clients).
    pub header_secs: u64,
    /// Seconds an idle keep-alive connection stays open after its last answer.
    pub keep_alive_secs: u64,
    /// Seconds a connection may last in all.
    pub connection_secs: u64,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_header: 16 * 1024,
            max_headers: 64,
            max_body: 1 << 20,
            max_requests: 100,
            header_secs: 10,
            keep_alive_secs: 15,
            connection_secs: 300,
        }
    }
}

/// A request, whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`, …
    pub method: Vec<u8>,
    /// The request-target as sent.
    pub target: Vec<u8>,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    /// Headers in order, as sent.
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl Request {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.as_slice())
    }

    /// Whether the client wants the connection kept open after this request.
    pub fn keep_alive(&self) -> bool {
        let conn = self.header("connection").map(|v| v.to_ascii_lowercase());
        match conn.as_deref() {
            Some(v) if v.windows(5).any(|w| w == b"close") => false,
            Some(v) if v.windows(10).any(|w| w == b"keep-alive") => true,
            _ => self.minor >= 1,
        }
    }

    /// The path part of the target, before any `?`.
    pub fn path(&self) -> &[u8] {
        let t = self.target.as_slice();
        let end = t
            .iter()
            .position(|&b| b == b'?' || b == b'#')
            .unwrap_or(t.len());
        // An absolute-form target (`GET http://host/x`): its path.
        let t = &t[..end];
        if let Some(rest) = t
            .strip_prefix(b"http://")
            .or_else(|| t.strip_prefix(b"https://"))
        {
            return rest
                .iter()
                .position(|&b| b == b'/')
                .map_or(b"/", |i| &rest[i..]);
        }
        t
    }

    /// The query, after `?`.
    pub fn query(&self) -> Option<&[u8]> {
        let t = self.target.as_slice();
        let at = t.iter().position(|&b| b == b'?')?;
        Some(&t[at + 1..])
    }
}

/// Why a request could not be taken: the status to answer, and what to log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// 400, 413, 431, 501 …
    pub status: u16,
    /// Why, for the event.
    pub why: &'static str,
}

/// What the connection has next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing whole yet: read more.
    Need,
    /// A request.
    Request(Request),
    /// The stream cannot be read further: answer this and close.
    Refuse(Refusal),
}

/// A connection's parse state: the bytes not yet taken.
#[derive(Debug, Default)]
pub struct Conn {
    buf: Vec<u8>,
    limits: HttpLimits,
    failed: bool,
    /// A request whose head is parsed, waiting for its body: the head is not parsed
    /// again, and a chunked body resumes where it stopped.
    pending: Option<Pending>,
}

/// A parsed head and how far its body has come.
#[derive(Debug)]
struct Pending {
    req: Request,
    /// Bytes of `buf` the head took.
    head: usize,
    body: Framing,
}

/// How a body is framed, and its progress.
#[derive(Debug)]
enum Framing {
    Length(usize),
    Chunked(Chunking),
}

/// Where a chunked body's reading stands, in bytes after the head.
#[derive(Debug, Default)]
struct Chunking {
    at: usize,
    /// Past the last chunk: reading trailers.
    trailers: bool,
}

impl Conn {
    /// A fresh connection under `limits`.
    pub fn new(limits: HttpLimits) -> Conn {
        Conn {
            buf: Vec::new(),
            limits,
            failed: false,
            pending: None,
        }
    }

    /// Takes bytes from the client. Past a request's bounds (head, body, chunk framing)
    /// nothing more is kept: [`Conn::next_step`] refuses it.
    pub fn feed(&mut self, data: &[u8]) {
        let bound = self.limits.max_header + self.limits.max_body + CHUNK_SLACK;
        if !self.failed && self.buf.len() <= bound {
            self.buf.extend_from_slice(data);
        }
    }

    /// Whether part of a request is waiting (the header timer runs).
    pub fn partial(&self) -> bool {
        !self.buf.is_empty()
    }

    /// The next request, if one is whole.
    pub fn next_step(&mut self) -> Step {
        if self.failed {
            return Step::Need;
        }
        if self.buf.len() > self.limits.max_header + self.limits.max_body + CHUNK_SLACK {
            return self.refuse(413, "request too large");
        }
        if self.pending.is_some() {
            return self.body();
        }
        // Blank lines between pipelined requests are allowed (RFC 9112 §2.2).
        let blank = self
            .buf
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        self.buf.drain(..blank);
        if self.buf.is_empty() {
            return Step::Need;
        }
        // The usual number of header slots lives on the stack: no allocation per request.
        let mut stack = [httparse::EMPTY_HEADER; 64];
        let mut heap = Vec::new();
        let headers: &mut [httparse::Header<'_>] = if self.limits.max_headers <= stack.len() {
            &mut stack[..self.limits.max_headers]
        } else {
            heap.resize(self.limits.max_headers, httparse::EMPTY_HEADER);
            &mut heap
        };
        let mut req = httparse::Request::new(headers);
        let head = match req.parse(&self.buf) {
            Ok(httparse::Status::Complete(n)) if n <= self.limits.max_header => n,
            Ok(httparse::Status::Complete(_)) => return self.refuse(431, "header too large"),
            Ok(httparse::Status::Partial) if self.buf.len() > self.limits.max_header => {
                return self.refuse(431, "header too large")
            }
            Ok(httparse::Status::Partial) => return Step::Need,
            Err(httparse::Error::TooManyHeaders) => return self.refuse(431, "too many headers"),
            Err(httparse::Error::Version) => return self.refuse(505, "bad HTTP version"),
            Err(_) => return self.refuse(400, "malformed request"),
        };
        let r = Request {
            method: req.method.unwrap_or_default().as_bytes().to_vec(),
            target: req.path.unwrap_or_default().as_bytes().to_vec(),
            minor: req.version.unwrap_or(1),
            headers: req
                .headers
                .iter()
                .map(|h| (h.name.as_bytes().to_vec(), h.value.to_vec()))
                .collect(),
            body: Vec::new(),
        };
        let body = match framing(&r) {
            Ok(Some(f)) => f,
            Ok(None) => {
                self.buf.drain(..head);
                return Step::Request(r);
            }
            Err(refusal) => return self.refuse(refusal.status, refusal.why),
        };
        if let Framing::Length(n) = body {
            if n > self.limits.max_body {
                return self.refuse(413, "body too large");
            }
        }
        self.pending = Some(Pending { req: r, head, body });
        self.body()
    }

    /// Reads the pending request's body as far as it has come.
    fn body(&mut self) -> Step {
        let Some(mut p) = self.pending.take() else {
            return Step::Need;
        };
        let consumed = match &mut p.body {
            Framing::Length(n) => {
                if self.buf.len() < p.head + *n {
                    self.pending = Some(p);
                    return Step::Need;
                }
                p.req.body = self.buf[p.head..p.head + *n].to_vec();
                p.head + *n
            }
            Framing::Chunked(state) => {
                let data = &self.buf[p.head..];
                match dechunk(data, state, &mut p.req.body, &self.limits) {
                    Chunks::Need => {
                        self.pending = Some(p);
                        return Step::Need;
                    }
                    Chunks::Bad => return self.refuse(400, "bad chunked body"),
                    Chunks::TooLarge => return self.refuse(413, "body too large"),
                    Chunks::Done => p.head + state.at,
                }
            }
        };
        self.buf.drain(..consumed);
        Step::Request(p.req)
    }

    fn refuse(&mut self, status: u16, why: &'static str) -> Step {
        self.failed = true;
        self.pending = None;
        self.buf = Vec::new();
        Step::Refuse(Refusal { status, why })
    }
}

enum Chunks {
    Need,
    Bad,
    TooLarge,
    Done,
}

/// Bytes beyond head and body a chunked request may take in framing: chunk-size lines,
/// extensions, trailers.
const CHUNK_SLACK: usize = 64 * 1024;

/// The body framing a head asks for, strictly: one `Content-Length` of digits (repeats
/// must agree), or `Transfer-Encoding` ending in `chunked` and nothing else; both, or any
/// other coding, is refused, so a body can never be read as the next request.
fn framing(r: &Request) -> Result<Option<Framing>, Refusal> {
    let bad = |why| Refusal { status: 400, why };
    let mut length: Option<usize> = None;
    let mut codings: Vec<Vec<u8>> = Vec::new();
    for (name, value) in &r.headers {
        if name.eq_ignore_ascii_case(b"content-length") {
            let v = value.trim_ascii();
            if v.is_empty() || v.len() > 18 || !v.iter().all(u8::is_ascii_digit) {
                return Err(bad("bad Content-Length"));
            }
            let n = v.iter().fold(0usize, |n, d| n * 10 + usize::from(d - b'0'));
            if length.is_some_and(|l| l != n) {
                return Err(bad("Content-Lengths that differ"));
            }
            length = Some(n);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            for c in value.split(|&b| b == b',') {
                let c = c.trim_ascii();
                if !c.is_empty() {
                    codings.push(c.to_ascii_lowercase());
                }
            }
        }
    }
    match (length, codings.is_empty()) {
        (Some(_), false) => Err(bad("both Content-Length and Transfer-Encoding")),
        (Some(0) | None, true) => Ok(None),
        (Some(n), true) => Ok(Some(Framing::Length(n))),
        (None, false) if codings.iter().all(|c| c == b"chunked") && codings.len() == 1 => {
            Ok(Some(Framing::Chunked(Chunking::default())))
        }
        (None, false) => Err(Refusal {
            status: 501,
            why: "a transfer coding other than chunked",
        }),
    }
}

/// Reads a chunked body (RFC 9112 §7.1) from `data` (the bytes after the head), from
/// where `state` stopped, into `body`, within the limits.
fn dechunk(data: &[u8], state: &mut Chunking, body: &mut Vec<u8>, limits: &HttpLimits) -> Chunks {
    loop {
        let rest = &data[state.at..];
        let Some(eol) = find_crlf(rest) else {
            // A size line or trailer that never ends.
            return if rest.len() > 1024 {
                Chunks::Bad
            } else {
                Chunks::Need
            };
        };
        if state.trailers {
            state.at += eol + 2;
            if eol == 0 {
                return Chunks::Done;
            }
            if state.at > limits.max_header + CHUNK_SLACK + body.len() {
                return Chunks::TooLarge;
            }
            continue;
        }
        let line = &rest[..eol];
        let hex = line
            .split(|&b| b == b';')
            .next()
            .unwrap_or_default()
            .trim_ascii();
        if hex.is_empty() || hex.len() > 15 || !hex.iter().all(u8::is_ascii_hexdigit) {
            return Chunks::Bad;
        }
        let size = hex.iter().fold(0usize, |n, &d| {
            n * 16 + (d as char).to_digit(16).unwrap_or(0) as usize
        });
        if size == 0 {
            state.at += eol + 2;
            state.trailers = true;
            continue;
        }
        if body.len().saturating_add(size) > limits.max_body {
            return Chunks::TooLarge;
        }
        let start = eol + 2;
        if rest.len() < start + size + 2 {
            return Chunks::Need;
        }
        if &rest[start + size..start + size + 2] != b"\r\n" {
            return Chunks::Bad;
        }
        body.extend_from_slice(&rest[start..start + size]);
        state.at += start + size + 2;
    }
}

fn find_crlf(d: &[u8]) -> Option<usize> {
    d.windows(2).position(|w| w == b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(conn: &mut Conn) -> Vec<Step> {
        let mut out = Vec::new();
        loop {
            match conn.next_step() {
                Step::Need => return out,
                s @ Step::Refuse(_) => {
                    out.push(s);
                    return out;
                }
                s => out.push(s),
            }
        }
    }

    #[test]
    fn pipelined_requests_however_split() {
        let wire: &[u8] = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST /x?y=1 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc\
                            POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n1;x=y\r\n!\r\n0\r\nT: 1\r\n\r\n";
        for cut in 0..wire.len() {
            let mut c = Conn::new(HttpLimits::default());
            c.feed(&wire[..cut]);
            let mut got = all(&mut c);
            c.feed(&wire[cut..]);
            got.extend(all(&mut c));
            let reqs: Vec<Request> = got
                .into_iter()
                .map(|s| match s {
                    Step::Request(r) => r,
                    other => panic!("{other:?} at {cut}"),
                })
                .collect();
            assert_eq!(reqs.len(), 3, "cut at {cut}");
            assert_eq!(reqs[0].path(), b"/");
            assert_eq!(reqs[1].query(), Some(&b"y=1"[..]));
            assert_eq!(reqs[1].body, b"abc");
            assert_eq!(reqs[2].body, b"hi!");
            assert!(!c.partial());
        }
    }

    #[test]
    fn refusals() {
        let cases: [(&[u8], u16); 12] = [
            (b"GARBAGE\x01\r\n\r\n", 400),
            // Framing a body could be read around: refused, never guessed.
            (
                b"POST / HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 27\r\n\r\n",
                400,
            ),
            (b"POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                501,
            ),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n",
                501,
            ),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
                501,
            ),
            (b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", 413),
            (
                b"GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                400,
            ),
            (
                b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                400,
            ),
            (b"GET / HTTP/2.0\r\n\r\n", 505),
        ];
        for (wire, status) in cases {
            let mut c = Conn::new(HttpLimits::default());
            c.feed(wire);
            assert!(
                matches!(c.next_step(), Step::Refuse(r) if r.status == status),
                "{:?}",
                String::from_utf8_lossy(wire)
            );
            // Nothing more is taken from a stream out of step.
            c.feed(b"GET / HTTP/1.1\r\n\r\n");
            assert_eq!(c.next_step(), Step::Need);
        }
        let mut c = Conn::new(HttpLimits::default());
        c.feed(&vec![b'a'; 20_000]);
        assert!(matches!(c.next_step(), Step::Refuse(r) if r.status == 431 || r.status == 400));
        // Trailers that never end: bounded, then refused; what is kept stays bounded.
        let limits = HttpLimits::default();
        let mut c = Conn::new(limits);
        c.feed(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n");
        assert_eq!(c.next_step(), Step::Need);
        let mut refused = false;
        for _ in 0..2000 {
            c.feed(&[b'a'; 4096]);
            if let Step::Refuse(r) = c.next_step() {
                assert!(r.status == 400 || r.status == 413);
                refused = true;
                break;
            }
        }
        assert!(refused);
        // A body arriving in many small reads is read once, not again from its start.
        let mut c = Conn::new(limits);
        c.feed(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
        for _ in 0..1000 {
            c.feed(b"3\r\nabc\r\n");
            assert_eq!(c.next_step(), Step::Need);
        }
        c.feed(b"0\r\n\r\n");
        let Step::Request(r) = c.next_step() else {
            panic!()
        };
        assert_eq!(r.body.len(), 3000);
    }

    #[test]
    fn keep_alive_and_paths() {
        let mut c = Conn::new(HttpLimits::default());
        c.feed(b"GET http://h/a/b?q HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\nGET /z HTTP/1.1\r\nConnection: close\r\n\r\n");
        let Step::Request(a) = c.next_step() else {
            panic!()
        };
        let Step::Request(b) = c.next_step() else {
            panic!()
        };
        assert_eq!(a.path(), b"/a/b");
        assert!(a.keep_alive());
        assert!(!b.keep_alive());
        assert_eq!(b.header("CONNECTION"), Some(&b"close"[..]));
    }
}
