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
    /// Seconds a client may take to send a request's head once it started (slow clients).
    pub header_secs: u64,
    /// Seconds an idle keep-alive connection stays open.
    pub keep_alive_secs: u64,
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
}

impl Conn {
    /// A fresh connection under `limits`.
    pub fn new(limits: HttpLimits) -> Conn {
        Conn {
            buf: Vec::new(),
            limits,
            failed: false,
        }
    }

    /// Takes bytes from the client.
    pub fn feed(&mut self, data: &[u8]) {
        if !self.failed {
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
        let mut r = Request {
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
        let chunked = r
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().windows(7).any(|w| w == b"chunked"));
        let length = r.header("content-length");
        let consumed = match (chunked, length) {
            (true, Some(_)) => return self.refuse(400, "both Content-Length and chunked"),
            (true, None) => match dechunk(&self.buf[head..], self.limits.max_body) {
                Chunks::Need => return Step::Need,
                Chunks::Bad => return self.refuse(400, "bad chunked body"),
                Chunks::TooLarge => return self.refuse(413, "body too large"),
                Chunks::Done(body, used) => {
                    r.body = body;
                    head + used
                }
            },
            (false, Some(v)) => {
                let Some(n) = std::str::from_utf8(v)
                    .ok()
                    .and_then(|s| s.trim().parse::<usize>().ok())
                else {
                    return self.refuse(400, "bad Content-Length");
                };
                if n > self.limits.max_body {
                    return self.refuse(413, "body too large");
                }
                if self.buf.len() < head + n {
                    return Step::Need;
                }
                r.body = self.buf[head..head + n].to_vec();
                head + n
            }
            (false, None) => head,
        };
        self.buf.drain(..consumed);
        Step::Request(r)
    }

    fn refuse(&mut self, status: u16, why: &'static str) -> Step {
        self.failed = true;
        self.buf = Vec::new();
        Step::Refuse(Refusal { status, why })
    }
}

enum Chunks {
    Need,
    Bad,
    TooLarge,
    /// The body and the bytes it took, trailers included.
    Done(Vec<u8>, usize),
}

/// A chunked body at the start of `data` (RFC 9112 §7.1), at most `max` bytes of it.
fn dechunk(data: &[u8], max: usize) -> Chunks {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let Some(eol) = find_crlf(&data[at..]) else {
            return if data.len() - at > 1024 {
                Chunks::Bad
            } else {
                Chunks::Need
            };
        };
        let line = &data[at..at + eol];
        let hex = line.split(|&b| b == b';').next().unwrap_or_default();
        let Some(size) = std::str::from_utf8(hex)
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
        else {
            return Chunks::Bad;
        };
        at += eol + 2;
        if size == 0 {
            // Trailers, up to an empty line.
            loop {
                let Some(eol) = find_crlf(&data[at..]) else {
                    return Chunks::Need;
                };
                at += eol + 2;
                if eol == 0 {
                    return Chunks::Done(body, at);
                }
            }
        }
        if body.len().saturating_add(size) > max {
            return Chunks::TooLarge;
        }
        if data.len() < at + size + 2 {
            return Chunks::Need;
        }
        body.extend_from_slice(&data[at..at + size]);
        if &data[at + size..at + size + 2] != b"\r\n" {
            return Chunks::Bad;
        }
        at += size + 2;
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
        let cases: [(&[u8], u16); 6] = [
            (b"GARBAGE\x01\r\n\r\n", 400),
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
