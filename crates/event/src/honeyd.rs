//! The packet log of `honeyd -l`, read and written byte for byte.
//!
//! Honeyd (`log.c`) writes these line forms, each starting with local time
//! `YYYY-MM-DD-HH:MM:SS.ffff` and a space:
//!
//! ```text
//! … honeyd log started ------
//! … honeyd log stopped ------
//! … tcp(6) S 203.0.113.5 4711 198.51.100.7 23 [Linux 2.6 ]      flow start, OS optional
//! … tcp(6) E 203.0.113.5 4711 198.51.100.7 23: 734 13762         flow end: bytes rx tx
//! … tcp(6) - 203.0.113.5 4711 198.51.100.7 23: 40 S [Linux 2.6 ] {Honeyd Scanner?}
//! … tcp(6) - 203.0.113.5 4711 198.51.100.7 23: 40                a probe with no flags
//! … udp(17) - 203.0.113.5 53 198.51.100.7 53413: 51
//! … icmp(1) - 203.0.113.5 198.51.100.7: 8(0): 84
//! … gre(47) - 203.0.113.5 198.51.100.7: 64
//! ```
//!
//! A TCP probe's size is always followed by a space and the flag letters (possibly none);
//! the OS label follows in brackets, the remark in braces. [`parse_line`] accepts exactly
//! what [`write_event`] produces, so reading a Honeyd log and writing it back gives the
//! same bytes.

use std::net::IpAddr;

use crate::model::{Event, LifecycleEvent, LogState, PacketEvent, PacketKind, TcpFlags};
use crate::proto;
use crate::time::{LocalZone, StampReader, Timestamp};

/// Why a line is not a Honeyd log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// The first 24 bytes are not a valid `YYYY-MM-DD-HH:MM:SS.ffff` time.
    #[error("bad timestamp (want YYYY-MM-DD-HH:MM:SS.ffff)")]
    Time,
    /// No `name(number)` protocol field.
    #[error("bad protocol field (want e.g. tcp(6))")]
    Proto,
    /// The record kind is not `-`, `S` or `E`.
    #[error("bad record kind (want -, S or E)")]
    Kind,
    /// An address did not parse.
    #[error("bad IP address")]
    Address,
    /// A number (port, size, byte count, ICMP type) did not parse or is out of range.
    #[error("bad number")]
    Number,
    /// TCP flags other than Honeyd's letters in Honeyd's order.
    #[error("bad TCP flags (want letters from FSRPAUEC in that order)")]
    Flags,
    /// Text after the record that is neither ` [os]` nor ` {remark}`.
    #[error("unexpected trailing text")]
    Trailing,
    /// The line is cut short.
    #[error("line ends early")]
    Short,
    /// Not valid UTF-8 where text is expected (OS label, remark, protocol name).
    #[error("invalid UTF-8")]
    Utf8,
    /// A carriage return or line feed inside a text field; Honeyd never writes one, and
    /// [`write_event`] would replace it, so the line could not be written back the same.
    #[error("line break (CR or LF) inside the line")]
    LineBreak,
    /// A Honeyd service log line (`…: |text|`); not a packet record.
    #[error("service log line (not a packet record)")]
    Service,
}

/// A cursor over one line, known to be UTF-8 without line breaks. It walks the bytes; every
/// position it stops at follows an ASCII byte, so text between two positions is a `str`.
struct Cursor<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
}

impl<'a> Cursor<'a> {
    #[inline(always)]
    fn rest(&self) -> &'a [u8] {
        &self.s[self.i..]
    }

    /// The text of bytes `a..b`; empty if that is not on character boundaries (which the
    /// cursor's positions always are).
    #[inline(always)]
    fn str(&self, a: usize, b: usize) -> &'a str {
        self.text.get(a..b).unwrap_or_default()
    }

    // Literals are fixed-size arrays so that comparing them compiles to a few byte
    // compares instead of a call to memcmp (this runs several times per line).
    #[inline(always)]
    fn eat<const N: usize>(&mut self, lit: &[u8; N]) -> bool {
        match self.rest().first_chunk::<N>() {
            Some(head) if head == lit => {
                self.i += N;
                true
            }
            _ => false,
        }
    }

    #[inline(always)]
    fn expect<const N: usize>(&mut self, lit: &[u8; N], err: LineError) -> Result<(), LineError> {
        if self.eat(lit) {
            Ok(())
        } else if self.rest().len() < N {
            Err(LineError::Short)
        } else {
            Err(err)
        }
    }

    /// Text up to (not including) the next `stop` byte, or to the end.
    #[inline(always)]
    fn token(&mut self, stop: u8) -> &'a str {
        let start = self.i;
        let rest = self.rest();
        // Tokens are short (`tcp`, an OS label): the first 8 bytes are searched as one
        // word; a call to memchr cost more than the search itself.
        let n = match rest.first_chunk::<8>().and_then(|w| byte_in_word(*w, stop)) {
            Some(n) => n,
            None => memchr::memchr(stop, rest).unwrap_or(rest.len()),
        };
        self.i += n;
        self.str(start, self.i)
    }

    #[inline(always)]
    fn number<T: TryFrom<u64>>(&mut self) -> Result<T, LineError> {
        let rest = self.rest();
        if let Some((v, n)) = rest.first_chunk::<8>().and_then(|w| short_number(*w)) {
            if n == 0 || (n > 1 && rest[0] == b'0') {
                return Err(LineError::Number);
            }
            self.i += n;
            return T::try_from(v).map_err(|_| LineError::Number);
        }
        // One pass: digits are summed as they are counted (wrapping past 19 digits, which
        // are refused below anyway).
        let mut v = 0u64;
        let mut n = 0;
        while let Some(d) = rest
            .get(n)
            .map(|b| b.wrapping_sub(b'0'))
            .filter(|d| *d <= 9)
        {
            v = v.wrapping_mul(10).wrapping_add(d as u64);
            n += 1;
        }
        if n == 0 {
            return Err(if rest.is_empty() {
                LineError::Short
            } else {
                LineError::Number
            });
        }
        // Honeyd prints with %d: no sign, no leading zeros; 20 digits overflow u64.
        if n > 19 || (n > 1 && rest[0] == b'0') {
            return Err(LineError::Number);
        }
        self.i += n;
        T::try_from(v).map_err(|_| LineError::Number)
    }

    /// An address ending at the next `stop` byte (or the end), written into `out` in place:
    /// returned through a `Result`, it was stored field by field and copied on with wide
    /// loads, which stalled (about a tenth of the parser's cycles).
    #[inline(always)]
    fn addr(&mut self, stop: u8, out: &mut (IpAddr, &'a str)) -> Result<(), LineError> {
        match self.ipv4_before(|b| b == Some(stop) || b.is_none()) {
            Some(v4) => *out = v4,
            None => *out = parse_addr(self.token(stop))?,
        }
        Ok(())
    }

    /// A destination with no port after it, the general way: it ends before ": ", before
    /// " " or at the end; IPv6 addresses hold ':' but never ": ", and may end in "::".
    fn dst_addr(&mut self) -> Result<(IpAddr, &'a str), LineError> {
        let rest = self.rest();
        let space = memchr::memchr(b' ', rest).unwrap_or(rest.len());
        let end = if space > 0 && rest[space - 1] == b':' {
            space - 1
        } else {
            space
        };
        let (dst, end) = match parse_addr(self.str(self.i, self.i + end)) {
            Ok(dst) => (dst, end),
            Err(_) if rest[..space].ends_with(b"::") => {
                (parse_addr(self.str(self.i, self.i + space))?, space)
            }
            Err(e) => return Err(e),
        };
        self.i += end;
        Ok(dst)
    }

    /// A dotted-quad IPv4 address at the cursor, read in place, if the byte after it passes
    /// `ends` (`None`: the end of the line). The common case; anything else is `None` and
    /// left for [`parse_addr`] to judge.
    #[inline(always)]
    fn ipv4_before(&mut self, ends: impl Fn(Option<u8>) -> bool) -> Option<(IpAddr, &'a str)> {
        let rest = self.rest();
        let (addr, i) = match rest.first_chunk::<16>() {
            Some(window) => ipv4_in_window(window)?,
            None => ipv4_in_slice(rest)?,
        };
        if !ends(rest.get(i).copied()) {
            return None;
        }
        let text = self.str(self.i, self.i + i);
        self.i += i;
        Some((IpAddr::V4(addr.into()), text))
    }
}

/// Where `byte` first occurs in `window`, if it does.
#[inline(always)]
fn byte_in_word(window: [u8; 8], byte: u8) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // Bytes equal to `byte` become zero; the lowest flagged byte is the first zero (a flag
    // can be false only above a true one).
    let x = u64::from_le_bytes(window) ^ (ONES * u64::from(byte));
    let zero = x.wrapping_sub(ONES) & !x & (ONES << 7);
    (zero != 0).then(|| (zero.trailing_zeros() / 8) as usize)
}

/// The decimal number at the start of an 8-byte window and its digit count, when a
/// non-digit follows within the window (at most 7 digits: every port, length and protocol).
/// The digits are found and summed a word at a time; per-byte loops were a tenth of the
/// parser's instructions.
#[inline(always)]
fn short_number(window: [u8; 8]) -> Option<(u64, usize)> {
    // Byte values minus '0'. A borrow only runs from a byte below '0' into the bytes after
    // it, so every byte up to the first non-digit is exact.
    let x = u64::from_le_bytes(window).wrapping_sub(0x3030_3030_3030_3030);
    // A byte is not a digit when its value is above 9: it has its top bit set, or gets it
    // by adding 0x76 (which cannot carry out of a digit's byte).
    let not_digit = (x | x.wrapping_add(0x7676_7676_7676_7676)) & 0x8080_8080_8080_8080;
    if not_digit == 0 {
        return None;
    }
    let n = (not_digit.trailing_zeros() / 8) as usize;
    if n == 0 {
        return Some((0, 0));
    }
    // The digits to the top of the word, first digit most significant, zeros before it;
    // then pairs, quads and the eight are summed in place.
    let v = x << (8 * (8 - n));
    let v = ((v & 0x0f00_0f00_0f00_0f00) >> 8) + (v & 0x000f_000f_000f_000f) * 10;
    let v = ((v & 0x00ff_0000_00ff_0000) >> 16) + (v & 0x0000_00ff_0000_00ff) * 100;
    let v = ((v & 0x0000_ffff_0000_0000) >> 32) + (v & 0x0000_0000_0000_ffff) * 10_000;
    Some((v, n))
}

/// A dotted quad at the start of a 16-byte window (the longest quad is 15 bytes, so the byte
/// after it is in the window too): the address and its length. Fixed offsets keep this to a
/// few compares per octet, and the address is built in a register rather than stored octet
/// by octet and read back as a word.
#[inline(always)]
fn ipv4_in_window(w: &[u8; 16]) -> Option<(u32, usize)> {
    let mut addr = 0u32;
    let mut i = 0;
    for n in 0..4 {
        if n > 0 {
            if w[i] != b'.' {
                return None;
            }
            i += 1;
        }
        // i <= 12 here: at most three octets of three digits and three dots before.
        let digit = |k: usize| w[k].wrapping_sub(b'0') as u32;
        let (d0, d1, d2) = (digit(i), digit(i + 1), digit(i + 2));
        let (v, len) = match (d0 <= 9, d1 <= 9, d2 <= 9) {
            (false, _, _) => return None,
            (true, false, _) => (d0, 1),
            (true, true, false) => (d0 * 10 + d1, 2),
            (true, true, true) => (d0 * 100 + d1 * 10 + d2, 3),
        };
        if v > 255 || (len > 1 && d0 == 0) || (len == 3 && w[i + 3].is_ascii_digit()) {
            return None;
        }
        addr = addr << 8 | v;
        i += len;
    }
    Some((addr, i))
}

/// [`ipv4_in_window`] for the last bytes of a line, where no full window is left.
fn ipv4_in_slice(rest: &[u8]) -> Option<(u32, usize)> {
    let mut addr = 0u32;
    let mut i = 0;
    for n in 0..4 {
        if n > 0 {
            if rest.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let start = i;
        let mut v = 0u32;
        while let Some(d) = rest
            .get(i)
            .map(|b| b.wrapping_sub(b'0'))
            .filter(|d| *d <= 9)
        {
            v = v * 10 + d as u32;
            i += 1;
            if i - start > 3 {
                return None;
            }
        }
        if i == start || v > 255 || (i - start > 1 && rest[start] == b'0') {
            return None;
        }
        addr = addr << 8 | v;
    }
    Some((addr, i))
}

/// Parses an address and keeps its text; dotted-quad IPv4 (the common case) is parsed
/// strictly, so its text is the canonical form.
fn parse_addr(text: &str) -> Result<(IpAddr, &str), LineError> {
    if let Some(v4) = parse_ipv4(text.as_bytes()) {
        return Ok((IpAddr::V4(v4), text));
    }
    Ok((text.parse().map_err(|_| LineError::Address)?, text))
}

/// Strict dotted-quad: four decimal octets, no leading zeros (as `inet_ntoa` writes them).
fn parse_ipv4(tok: &[u8]) -> Option<std::net::Ipv4Addr> {
    match ipv4_in_slice(tok) {
        Some((addr, len)) if len == tok.len() => Some(addr.into()),
        _ => None,
    }
}

/// An address not read yet.
const NO_ADDR: (IpAddr, &str) = (IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), "");

const STARTED: &[u8] = b"honeyd log started ------";
const STOPPED: &[u8] = b"honeyd log stopped ------";

/// A packet line, parsed but not copied: numbers and addresses decoded, text fields borrowed
/// from the line. [`parse_view`] makes one; [`PacketLine::to_event`] turns it into an event.
/// Bulk readers use it to skip the event's allocations and, for IPv4, re-formatting the
/// addresses: an address that [`parse_view`] accepted as IPv4 is already in canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketLine<'a> {
    /// When (UTC).
    pub time: Timestamp,
    /// Probe, flow start or flow end.
    pub kind: PacketKind,
    /// IP protocol number.
    pub proto: u8,
    /// The protocol name as written (`tcp`, `gre`, `unkn`, …).
    pub proto_name: &'a str,
    /// Source address and its text as written (canonical for IPv4, maybe not for IPv6).
    pub src: (IpAddr, &'a str),
    /// Destination address and its text as written (canonical for IPv4, maybe not for IPv6).
    pub dst: (IpAddr, &'a str),
    /// Source port (TCP, UDP).
    pub sport: Option<u16>,
    /// Destination port (TCP, UDP).
    pub dport: Option<u16>,
    /// ICMP type and code.
    pub icmp: Option<(u8, u8)>,
    /// IP length (probes).
    pub ip_len: Option<u32>,
    /// TCP flags (TCP probes).
    pub tcp_flags: Option<TcpFlags>,
    /// Bytes received and sent (flow ends).
    pub bytes: Option<(u64, u64)>,
    /// OS label.
    pub os: Option<&'a str>,
    /// Remark.
    pub remark: Option<&'a str>,
}

impl PacketLine<'_> {
    /// The event this line records.
    pub fn to_event(&self) -> Event {
        let mut ev = PacketEvent::new(self.time, self.kind, self.proto, self.src.0, self.dst.0);
        ev.set_proto_name(self.proto_name);
        ev.sport = self.sport;
        ev.dport = self.dport;
        ev.icmp_type = self.icmp.map(|i| i.0);
        ev.icmp_code = self.icmp.map(|i| i.1);
        ev.ip_len = self.ip_len;
        ev.tcp_flags = self.tcp_flags;
        ev.rx_bytes = self.bytes.map(|b| b.0);
        ev.tx_bytes = self.bytes.map(|b| b.1);
        ev.os = self.os.map(Into::into);
        ev.remark = self.remark.map(Into::into);
        Event::Packet(ev)
    }
}

/// One parsed line: a lifecycle record, or a packet line still borrowing from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineView<'a> {
    /// `honeyd log started` / `stopped`.
    Lifecycle(LifecycleEvent),
    /// A packet record.
    Packet(PacketLine<'a>),
}

impl LineView<'_> {
    /// The event this line records.
    pub fn to_event(&self) -> Event {
        match self {
            LineView::Lifecycle(l) => Event::Lifecycle(l.clone()),
            LineView::Packet(p) => p.to_event(),
        }
    }
}

/// Parses one line (without its newline; a trailing `\r` is ignored) in the zone `tz`.
pub fn parse_line(line: &[u8], tz: &LocalZone) -> Result<Event, LineError> {
    parse_view(line, tz).map(|v| v.to_event())
}

/// Parses one line like [`parse_line`], borrowing its text instead of copying it.
pub fn parse_view<'a>(line: &'a [u8], tz: &LocalZone) -> Result<LineView<'a>, LineError> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    // Text fields (protocol name, OS label, remark) must be UTF-8 without line breaks, or
    // the line could not be written back the same; checking the whole line once is cheaper
    // than checking each field.
    if memchr::memchr2(b'\r', b'\n', line).is_some() {
        return Err(LineError::LineBreak);
    }
    let text = std::str::from_utf8(line).map_err(|_| LineError::Utf8)?;
    parse_view_str(text, tz)
}

/// Parses one line like [`parse_view`], for a caller that has already checked, for a whole
/// block at once, that it is UTF-8 without CR or LF (a line that has them is still parsed
/// without panicking, but may not be written back the same).
pub fn parse_view_str<'a>(line: &'a str, tz: &LocalZone) -> Result<LineView<'a>, LineError> {
    parse_then(line, &mut tz.stamp_reader(), LineView::clone)
}

/// Parses one line like [`parse_view_str`] and lends it to `then`. For bulk readers: the
/// time is read with `stamps`, one per thread, so that lines sharing a minute read only
/// their seconds; and the parsed line is not moved (that was a copy of it per line).
#[inline]
pub fn parse_then<'a, R>(
    line: &'a str,
    stamps: &mut StampReader<'_>,
    then: impl FnOnce(&LineView<'a>) -> R,
) -> Result<R, LineError> {
    let text = line;
    let line = line.as_bytes();
    if line.len() < 25 {
        return Err(LineError::Short);
    }
    let time = stamps.read(&line[..24]).ok_or(LineError::Time)?;
    let mut c = Cursor {
        s: line,
        text,
        i: 24,
    };
    c.expect(b" ", LineError::Time)?;
    match c.rest() {
        STARTED | STOPPED => {
            let state = if c.rest() == STARTED {
                LogState::Started
            } else {
                LogState::Stopped
            };
            return Ok(then(&LineView::Lifecycle(LifecycleEvent {
                time,
                sensor: None,
                state,
            })));
        }
        _ => {}
    }

    // Protocol: name(number).
    let name = c.token(b'(');
    if name.is_empty() || !c.eat(b"(") {
        return Err(LineError::Proto);
    }
    let proto: u8 = c.number().map_err(|_| LineError::Proto)?;
    c.expect(b") ", LineError::Proto)?;
    let kind = match c.rest().first() {
        Some(b'-') => PacketKind::Probe,
        Some(b'S') => PacketKind::FlowStart,
        Some(b'E') => PacketKind::FlowEnd,
        Some(_) if c.rest().windows(3).any(|w| w == b": |") => return Err(LineError::Service),
        Some(_) => return Err(LineError::Kind),
        None => return Err(LineError::Short),
    };
    c.i += 1;
    c.expect(b" ", LineError::Kind)?;

    // The address tuple: `src sport dst dport`, `src dst: type(code)` or `src dst`.
    let proto_name = name;
    let mut view = LineView::Packet(PacketLine {
        time,
        kind,
        proto,
        proto_name,
        src: NO_ADDR,
        dst: NO_ADDR,
        sport: None,
        dport: None,
        icmp: None,
        ip_len: None,
        tcp_flags: None,
        bytes: None,
        os: None,
        remark: None,
    });
    if let LineView::Packet(ev) = &mut view {
        c.addr(b' ', &mut ev.src)?;
        c.expect(b" ", LineError::Short)?;
        // A source port: digits up to the next space or the end (a dotted or IPv6 destination
        // goes on with other bytes).
        let digits = c.rest().iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 && matches!(c.rest().get(digits), None | Some(b' ')) {
            ev.sport = Some(c.number()?);
            c.expect(b" ", LineError::Short)?;
            c.addr(b' ', &mut ev.dst)?;
            c.expect(b" ", LineError::Short)?;
            ev.dport = Some(c.number()?);
        } else {
            // The destination ends before ": " (probes, flow ends), before " " (a flow start's
            // comment) or at the end. IPv6 addresses hold ':' but never ": "; one may end in
            // "::", so "2001:db8::" before a space or the end is the whole address.
            ev.dst = match c.ipv4_before(|b| matches!(b, None | Some(b' ' | b':'))) {
                Some(dst) => dst,
                None => c.dst_addr()?,
            };
            // ICMP: `: type(code)`.
            let r = c.rest();
            if r.starts_with(b": ") && r[2..].iter().take_while(|b| b.is_ascii_digit()).count() > 0
            {
                let digits = r[2..].iter().take_while(|b| b.is_ascii_digit()).count();
                if r.get(2 + digits) == Some(&b'(') {
                    c.i += 2;
                    let icmp_type = c.number()?;
                    c.expect(b"(", LineError::Number)?;
                    let icmp_code = c.number()?;
                    c.expect(b")", LineError::Number)?;
                    ev.icmp = Some((icmp_type, icmp_code));
                }
            }
        }

        match kind {
            PacketKind::FlowStart => parse_comment(&mut c, ev)?,
            PacketKind::FlowEnd => {
                c.expect(b": ", LineError::Short)?;
                let rx = c.number()?;
                c.expect(b" ", LineError::Short)?;
                let tx = c.number()?;
                ev.bytes = Some((rx, tx));
                if !c.rest().is_empty() {
                    return Err(LineError::Trailing);
                }
            }
            PacketKind::Probe => {
                c.expect(b": ", LineError::Short)?;
                ev.ip_len = Some(c.number()?);
                if proto == proto::TCP {
                    c.expect(b" ", LineError::Flags)?;
                    let letters = c
                        .rest()
                        .iter()
                        .take_while(|b| b.is_ascii_uppercase())
                        .count();
                    ev.tcp_flags =
                        Some(TcpFlags::from_letters(&c.rest()[..letters]).ok_or(LineError::Flags)?);
                    c.i += letters;
                }
                parse_comment(&mut c, ev)?;
            }
        }
    }
    Ok(then(&view))
}

/// ` [os]` then ` {remark}`, each optional, as `honeyd_log_comment` builds them.
#[inline]
fn parse_comment<'a>(c: &mut Cursor<'a>, ev: &mut PacketLine<'a>) -> Result<(), LineError> {
    if c.eat(b" [") {
        let os = c.token(b']');
        if !c.eat(b"]") {
            return Err(LineError::Trailing);
        }
        ev.os = Some(os);
    }
    if c.eat(b" {") {
        if c.s.last() != Some(&b'}') {
            return Err(LineError::Trailing);
        }
        ev.remark = Some(c.str(c.i, c.s.len() - 1));
        c.i = c.s.len();
    }
    if c.rest().is_empty() {
        Ok(())
    } else {
        Err(LineError::Trailing)
    }
}

/// Appends `ev` as one Honeyd log line, newline included, with times in `tz`.
///
/// OS labels and remarks are written verbatim; a `]` in an OS label or a newline anywhere
/// would not read back the same, so those characters are replaced by `)` and a space. A
/// payload record, a session event or an HTTP request writes nothing: Honeyd's log has no
/// such line.
pub fn write_event(ev: &Event, tz: &LocalZone, out: &mut String) {
    // Honeyd's log has no line for a payload record, a session event or an HTTP request
    // (Honeyd's service lines are free text from its scripts): they only appear in the
    // other formats.
    if let Event::Payload(_) | Event::Session(_) | Event::Http(_) = ev {
        return;
    }
    tz.write_honeyd_time(ev.time(), out);
    out.push(' ');
    let p = match ev {
        Event::Payload(_) | Event::Session(_) | Event::Http(_) => return,
        Event::Lifecycle(l) => {
            out.push_str(match l.state {
                LogState::Started => "honeyd log started ------\n",
                LogState::Stopped => "honeyd log stopped ------\n",
            });
            return;
        }
        Event::Packet(p) => p,
    };
    use crate::text::{push_ip, push_u64};
    push_clean(out, p.proto_name(), b"( \n");
    out.push('(');
    push_u64(out, u64::from(p.proto));
    out.push_str(") ");
    out.push(match p.kind {
        PacketKind::Probe => '-',
        PacketKind::FlowStart => 'S',
        PacketKind::FlowEnd => 'E',
    });
    out.push(' ');
    push_ip(out, p.src);
    out.push(' ');
    if p.sport.is_some() || p.dport.is_some() {
        push_u64(out, u64::from(p.sport.unwrap_or(0)));
        out.push(' ');
        push_ip(out, p.dst);
        out.push(' ');
        push_u64(out, u64::from(p.dport.unwrap_or(0)));
    } else {
        push_ip(out, p.dst);
        if p.icmp_type.is_some() || p.icmp_code.is_some() {
            out.push_str(": ");
            push_u64(out, u64::from(p.icmp_type.unwrap_or(0)));
            out.push('(');
            push_u64(out, u64::from(p.icmp_code.unwrap_or(0)));
            out.push(')');
        }
    }
    match p.kind {
        PacketKind::FlowStart => push_comment(out, p),
        PacketKind::FlowEnd => {
            out.push_str(": ");
            push_u64(out, p.rx_bytes.unwrap_or(0));
            out.push(' ');
            push_u64(out, p.tx_bytes.unwrap_or(0));
        }
        PacketKind::Probe => {
            out.push_str(": ");
            push_u64(out, u64::from(p.ip_len.unwrap_or(0)));
            if p.proto == proto::TCP {
                out.push(' ');
                p.tcp_flags.unwrap_or_default().push_letters(out);
            }
            push_comment(out, p);
        }
    }
    out.push('\n');
}

fn push_comment(out: &mut String, p: &PacketEvent) {
    if let Some(os) = &p.os {
        out.push_str(" [");
        push_clean(out, os, b"]\n");
        out.push(']');
    }
    if let Some(remark) = &p.remark {
        out.push_str(" {");
        push_clean(out, remark, b"\n");
        out.push('}');
    }
}

/// Appends `s`, replacing bytes that would break the line's structure.
fn push_clean(out: &mut String, s: &str, bad: &[u8]) {
    if !s.bytes().any(|b| bad.contains(&b) || b == b'\r') {
        out.push_str(s);
        return;
    }
    for ch in s.chars() {
        match ch {
            ']' | '(' if bad.contains(&(ch as u8)) => out.push(')'),
            c if c.is_ascii() && (bad.contains(&(c as u8)) || c == '\r') => out.push(' '),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(line: &str) -> Event {
        let tz = LocalZone::utc();
        let ev = parse_line(line.as_bytes(), &tz).unwrap_or_else(|e| panic!("{line:?}: {e}"));
        let mut out = String::new();
        write_event(&ev, &tz, &mut out);
        assert_eq!(out, format!("{line}\n"));
        ev
    }

    fn packet(ev: Event) -> PacketEvent {
        match ev {
            Event::Packet(p) => p,
            other => panic!("not a packet: {other:?}"),
        }
    }

    #[test]
    fn every_line_form_round_trips() {
        let lines = [
            "2023-04-28-13:47:14.3718 honeyd log started ------",
            "2023-04-28-13:47:42.3235 honeyd log stopped ------",
            "2023-04-28-15:53:49.3951 tcp(6) S 192.168.10.4 52404 185.213.114.29 80",
            "2016-04-01-00:00:01.0000 tcp(6) S 203.0.113.9 4711 198.51.100.7 23 [Linux 2.6 ]",
            "2023-04-28-15:58:34.4550 tcp(6) E 192.168.10.4 37230 185.213.114.29 80: 734 13762",
            "2023-04-28-19:34:35.2069 tcp(6) - 192.168.10.2 51572 185.213.114.29 80: 429 PA",
            "2016-04-01-00:00:01.0000 tcp(6) - 203.0.113.9 4711 198.51.100.7 23: 40 ",
            "2016-04-01-00:00:01.0000 tcp(6) - 203.0.113.9 4711 198.51.100.7 23: 40  [Windows XP SP1]",
            "2016-04-01-00:00:01.0000 tcp(6) - 203.0.113.9 4711 198.51.100.7 23: 40 S [Linux 2.6 ] {Honeyd Scanner?}",
            "2016-04-01-00:00:01.0000 tcp(6) - 203.0.113.9 4711 198.51.100.7 23: 40 S {Honeyd Scanner?}",
            "2016-04-01-00:00:01.0000 udp(17) S 203.0.113.9 53 198.51.100.7 53413",
            "2016-04-01-00:00:01.0000 udp(17) E 203.0.113.9 53 198.51.100.7 53413: 51 0",
            "2016-04-01-00:00:01.0000 udp(17) - 203.0.113.9 53 198.51.100.7 53413: 51",
            "2016-04-01-00:00:01.0000 udp(17) - 203.0.113.9 53 198.51.100.7 53413: 51 [Linux 3.11 and newer]",
            "2023-04-28-15:53:38.9189 icmp(1) - 192.168.10.4 185.213.114.29: 8(0): 84",
            "2016-04-01-00:00:01.0000 gre(47) - 203.0.113.9 198.51.100.7: 64",
            "2016-04-01-00:00:01.0000 unkn(253) - 203.0.113.9 198.51.100.7: 64",
            "2016-04-01-00:00:01.0000 ipv6-icmp(58) - 2001:db8::1 2001:db8::2: 128(0): 104",
            "2016-04-01-00:00:01.0000 tcp(6) - 2001:db8::1 4711 2001:db8::2 23: 60 S",
            "2016-04-01-00:00:01.0000 gre(47) - 2001:db8::1 2001:db8::2: 64",
        ];
        for line in lines {
            round_trip(line);
        }
    }

    #[test]
    fn fields_are_read() {
        let p = packet(round_trip(
            "2016-04-01-00:00:01.0000 tcp(6) - 203.0.113.9 4711 198.51.100.7 23: 40 S [Linux 2.6 ] {Honeyd Scanner?}",
        ));
        assert_eq!(p.kind, PacketKind::Probe);
        assert_eq!((p.proto, p.proto_name()), (6, "tcp"));
        assert_eq!(p.src.to_string(), "203.0.113.9");
        assert_eq!((p.sport, p.dport), (Some(4711), Some(23)));
        assert_eq!(p.ip_len, Some(40));
        assert_eq!(p.tcp_flags, Some(TcpFlags(TcpFlags::SYN)));
        assert_eq!(p.os.as_deref(), Some("Linux 2.6 "));
        assert_eq!(p.remark.as_deref(), Some("Honeyd Scanner?"));
        let p = packet(round_trip(
            "2023-04-28-15:53:38.9189 icmp(1) - 192.168.10.4 185.213.114.29: 8(0): 84",
        ));
        assert_eq!(
            (p.icmp_type, p.icmp_code, p.ip_len),
            (Some(8), Some(0), Some(84))
        );
        assert_eq!((p.sport, p.dport), (None, None));
        let p = packet(round_trip(
            "2023-04-28-15:58:34.4550 tcp(6) E 192.168.10.4 37230 185.213.114.29 80: 734 13762",
        ));
        assert_eq!((p.rx_bytes, p.tx_bytes), (Some(734), Some(13762)));
        let p = packet(round_trip(
            "2016-04-01-00:00:01.0000 udp(17) - 203.0.113.9 53 198.51.100.7 53413: 51",
        ));
        assert_eq!(p.tcp_flags, None);
        let p = packet(round_trip(
            "2016-04-01-00:00:01.0000 GRE(47) - 203.0.113.9 198.51.100.7: 64",
        ));
        assert_eq!(p.proto_name(), "GRE");
    }

    #[test]
    fn bad_lines_say_why() {
        let tz = LocalZone::utc();
        let cases: &[(&str, LineError)] = &[
            ("", LineError::Short),
            (
                "2016-04-01 00:00:01.0000 tcp(6) S 1.2.3.4 1 5.6.7.8 2",
                LineError::Time,
            ),
            (
                "2016-04-01-00:00:01.0000 tcp6 S 1.2.3.4 1 5.6.7.8 2",
                LineError::Proto,
            ),
            (
                "2016-04-01-00:00:01.0000 tcp(666) S 1.2.3.4 1 5.6.7.8 2",
                LineError::Proto,
            ),
            (
                "2016-04-01-00:00:01.0000 tcp(6) X 1.2.3.4 1 5.6.7.8 2",
                LineError::Kind,
            ),
            (
                "2016-04-01-00:00:01.0000 tcp(6) S 1.2.3.400 1 5.6.7.8 2",
                LineError::Address,
            ),
            (
                "2016-04-01-00:00:01.0000 tcp(6) S 1.2.3.4 70000 5.6.7.8 2",
                LineError::Number,
            ),
            (
                "2016-04-01-00:00:01.0000 tcp(6) - 1.2.3.4 1 5.6.7.8 2: 40 AS",
                LineError::Flags,
            ),
            (
                "2016-04-01-00:00:01.0000 tcp(6) - 1.2.3.4 1 5.6.7.8 2: 40 S junk",
                LineError::Trailing,
            ),
            (
                "2016-04-01-00:00:01.0000 tcp(6) E 1.2.3.4 1 5.6.7.8 2: 40",
                LineError::Short,
            ),
            (
                "2016-04-01-00:00:01.0000 tcp(6) 1.2.3.4 1 5.6.7.8 2: |GET /|",
                LineError::Service,
            ),
        ];
        for (line, want) in cases {
            assert_eq!(
                parse_line(line.as_bytes(), &tz).err(),
                Some(*want),
                "{line:?}"
            );
        }
    }

    #[test]
    fn byte_in_word_finds_the_first_occurrence() {
        let mut seed = 0x853c_49e6_748f_ea9bu64;
        for _ in 0..100_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // Few distinct bytes, so that repeats and near misses (a byte one off) are common.
            let w = seed.to_le_bytes().map(|b| b'(' - 1 + b % 4);
            for stop in [b'(' - 1, b'(', b'(' + 1, b']'] {
                let want = w.iter().position(|b| *b == stop);
                assert_eq!(byte_in_word(w, stop), want, "{w:?} {stop}");
            }
            let w = seed.to_le_bytes();
            assert_eq!(byte_in_word(w, w[3]), w.iter().position(|b| *b == w[3]));
        }
    }

    /// The word-at-a-time number reader agrees with reading digit by digit, for every
    /// length, leading zeros, and any byte after the digits.
    #[test]
    fn short_numbers_agree_with_a_digit_loop() {
        let slow = |w: &[u8; 8]| {
            let n = w.iter().take_while(|b| b.is_ascii_digit()).count();
            (n < 8).then(|| {
                let v = w[..n]
                    .iter()
                    .fold(0u64, |v, b| v * 10 + u64::from(b - b'0'));
                (v, n)
            })
        };
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..200_000 {
            let r = next();
            let digits = (r % 9) as usize;
            let mut w = [0u8; 8];
            for (i, b) in w.iter_mut().enumerate() {
                let pick = (next() >> 8) as u8;
                *b = if i < digits { b'0' + pick % 10 } else { pick };
            }
            assert_eq!(short_number(w), slow(&w), "{w:?}");
        }
        for v in [0u64, 7, 10, 99, 255, 256, 65_535, 1_234_567] {
            let mut w = *b"        ";
            let t = v.to_string();
            w[..t.len()].copy_from_slice(t.as_bytes());
            assert_eq!(short_number(w), Some((v, t.len())));
        }
    }

    #[test]
    fn fast_ipv4_parser_agrees_with_std() {
        let mut texts: Vec<String> = [
            "0.0.0.0",
            "255.255.255.255",
            "1.2.3.4",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "1.2.3.",
            ".1.2.3",
            "1..2.3",
            "1.2.3.4 ",
            "1234.1.1.1",
            "",
            "a.b.c.d",
            "10.0.100.9",
            "1.2.3.00",
            "1.2.3.0",
            "100.200.250.255",
            "1.2.3.256",
            "0.0.0.01",
            "999.1.1.1",
            "1.2.3.4.",
            "1.2.3.-4",
            "111.222.333.44",
            "1.20.3.400",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // And many random strings over digits, dots and one other byte.
        let mut x = 0x2545f4914f6cdd1du64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 17) as usize;
            let t: String = (0..len)
                .map(|i| b"0123456789...12x"[((x >> (4 + 4 * (i % 15))) & 15) as usize] as char)
                .collect();
            texts.push(t);
        }
        for text in &texts {
            let std: Option<std::net::Ipv4Addr> = text.parse().ok();
            assert_eq!(parse_ipv4(text.as_bytes()), std, "{text:?}");
            // The in-place reader agrees on the text up to the first space, and stops there.
            let std: Option<std::net::Ipv4Addr> =
                text.split(' ').next().and_then(|t| t.parse().ok());
            // Short suffix: the slice reader; long: the window reader.
            for suffix in [" r", " rest of the line"] {
                let line = format!("{text}{suffix}");
                let mut c = Cursor {
                    s: line.as_bytes(),
                    text: &line,
                    i: 0,
                };
                let got = c.ipv4_before(|b| b == Some(b' '));
                assert_eq!(got.map(|g| g.0), std.map(IpAddr::V4), "{text:?}");
                if got.is_some() {
                    assert_eq!(c.rest()[0], b' ');
                } else {
                    assert_eq!(c.i, 0);
                }
            }
        }
    }

    #[test]
    fn payload_session_and_http_records_have_no_line() {
        use crate::{HttpEvent, PayloadEvent, SessionEvent, SessionEventId, Timestamp};
        let tz = LocalZone::utc();
        let (a, b) = ("203.0.113.9:4711", "198.51.100.7:23");
        let session = SessionEvent::new(
            Timestamp(0),
            SessionEventId::LoginSuccess,
            "0123456789ab",
            "telnet",
            a.parse().unwrap(),
            b.parse().unwrap(),
        );
        let payload = PayloadEvent {
            time: Timestamp(0),
            sensor: None,
            proto: 6,
            src: session.src,
            sport: 4711,
            dst: session.dst,
            dport: 23,
            size: 0,
            sha256: "".into(),
            head: "".into(),
        };
        let mut http = HttpEvent::new(
            Timestamp(0),
            "0123456789ab",
            a.parse().unwrap(),
            b.parse().unwrap(),
        );
        http.method = Some("GET".into());
        http.status = 200;
        for ev in [
            Event::Session(Box::new(session)),
            Event::Payload(payload),
            Event::from(http),
        ] {
            let mut out = String::new();
            write_event(&ev, &tz, &mut out);
            assert_eq!(out, "");
        }
    }

    #[test]
    fn structure_breaking_text_is_replaced_when_writing() {
        let tz = LocalZone::utc();
        let mut ev = packet(round_trip(
            "2016-04-01-00:00:01.0000 tcp(6) S 203.0.113.9 4711 198.51.100.7 23",
        ));
        ev.os = Some("Evil] OS\nnext".into());
        let mut out = String::new();
        write_event(&Event::Packet(ev), &tz, &mut out);
        assert_eq!(out.matches('\n').count(), 1);
        assert!(parse_line(out.trim_end_matches('\n').as_bytes(), &tz).is_ok());
    }

    #[test]
    fn line_breaks_inside_text_are_rejected() {
        // Found by fuzzing: these were read, then written with the CR or LF replaced by a
        // space, so the line read back as a different event.
        let tz = LocalZone::utc();
        for line in [
            "2016-04-01-00:00:01.0000 udp(17) - 203.0.113.9 53 198.51.100.7 53413: 51 [Linux\r3.11]",
            "2016-04-01-00:00:01.0000 tcp(6) - 203.0.113.9 4711 198.51.100.7 23: 40 S {a\nb}",
            "2016-04-01-00:00:01.0000 g\rre(47) - 203.0.113.9 198.51.100.7: 64",
        ] {
            assert_eq!(
                parse_line(line.as_bytes(), &tz),
                Err(LineError::LineBreak),
                "{line:?}"
            );
        }
        // A final CR (a CRLF file) is still ignored.
        let crlf =
            "2016-04-01-00:00:01.0000 udp(17) - 203.0.113.9 53 198.51.100.7 53413: 51 [Linux]\r";
        assert!(parse_line(crlf.as_bytes(), &tz).is_ok());
    }

    #[test]
    fn ipv6_destination_ending_in_double_colon_round_trips() {
        // Found by fuzzing: with no ports and no ": " after it, "2001:db8::" lost its last
        // ':' and did not parse.
        for line in [
            "2016-04-01-00:00:01.0000 gre(47) S 2001:db8::1 2001:db8::",
            "2016-04-01-00:00:01.0000 gre(47) S 2001:db8::1 :: [Linux 2.6 ]",
            "2016-04-01-00:00:01.0000 gre(47) S 2001:db8::1 ::: 3(1) {x}",
            "2016-04-01-00:00:01.0000 gre(47) - 2001:db8::1 2001:db8::: 64",
            "2016-04-01-00:00:01.0000 gre(47) E 2001:db8::1 ::: 1 2",
        ] {
            round_trip(line);
        }
        assert_eq!(
            packet(round_trip("2016-04-01-00:00:01.0000 gre(47) S 1.2.3.4 ::")).dst,
            "::".parse::<IpAddr>().unwrap()
        );
        let tz = LocalZone::utc();
        assert_eq!(
            parse_line(
                b"2016-04-01-00:00:01.0000 gre(47) - 1.2.3.4 2001:db8:: 64",
                &tz
            ),
            Err(LineError::Short)
        );
    }
}
