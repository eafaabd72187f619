//! p0f v3 TCP signatures: the reference form a `p0f.fp` file holds ([`TcpSig`]) and the
//! pieces both it and a packet's signature are made of ([`Quirks`], [`OptionLayout`]).
//!
//! A signature is `ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass`, for example
//! `*:64:0:*:mss*20,10:mss,sok,ts,nop,ws:df,id+:0` (Linux 3.11 and newer). The fields and
//! every token they accept are those of p0f 3.09b's `fp_tcp.c`; where its parser has a bug
//! this one parses what the documentation means (noted at the field).

use std::fmt;

use super::text::{display_via_push_text, push_num, PushText};

/// One quirk: an odd or telling detail of the IP or TCP header. A set of them is a
/// [`Quirks`]. The bit values are p0f's own, so sets compare the same way.
pub mod quirk {
    /// ECN: the IP ECN bits, or TCP's ECE, CWR or NS flag.
    pub const ECN: u32 = 0x1;
    /// IPv4 "don't fragment" set.
    pub const DF: u32 = 0x2;
    /// IPv4: DF set but the IP ID is not zero.
    pub const ID_PLUS: u32 = 0x4;
    /// IPv4: DF clear but the IP ID is zero.
    pub const ID_MINUS: u32 = 0x8;
    /// IPv4: the reserved ("evil") flag bit set.
    pub const ZERO_PLUS: u32 = 0x10;
    /// IPv6: a non-zero flow label.
    pub const FLOW: u32 = 0x20;
    /// Sequence number zero.
    pub const SEQ_MINUS: u32 = 0x1000;
    /// ACK flag clear but the acknowledgment number not zero.
    pub const ACK_PLUS: u32 = 0x2000;
    /// ACK flag set but the acknowledgment number zero.
    pub const ACK_MINUS: u32 = 0x4000;
    /// URG flag clear but the urgent pointer not zero.
    pub const UPTR_PLUS: u32 = 0x8000;
    /// URG flag set.
    pub const URGF_PLUS: u32 = 0x10000;
    /// PSH flag set.
    pub const PUSHF_PLUS: u32 = 0x20000;
    /// Own timestamp zero.
    pub const TS1_MINUS: u32 = 0x0100_0000;
    /// Peer timestamp not zero on a SYN.
    pub const TS2_PLUS: u32 = 0x0200_0000;
    /// Non-zero bytes in the option padding after EOL.
    pub const OPT_PLUS: u32 = 0x0400_0000;
    /// Window scale above 14.
    pub const EXWS: u32 = 0x0800_0000;
    /// Malformed options.
    pub const BAD: u32 = 0x1000_0000;

    /// Every quirk with its name, in the order p0f prints them.
    pub const NAMES: [(u32, &str); 17] = [
        (DF, "df"),
        (ID_PLUS, "id+"),
        (ID_MINUS, "id-"),
        (ECN, "ecn"),
        (ZERO_PLUS, "0+"),
        (FLOW, "flow"),
        (SEQ_MINUS, "seq-"),
        (ACK_PLUS, "ack+"),
        (ACK_MINUS, "ack-"),
        (UPTR_PLUS, "uptr+"),
        (URGF_PLUS, "urgf+"),
        (PUSHF_PLUS, "pushf+"),
        (TS1_MINUS, "ts1-"),
        (TS2_PLUS, "ts2+"),
        (OPT_PLUS, "opt+"),
        (EXWS, "exws"),
        (BAD, "bad"),
    ];

    /// Quirks only an IPv4 header can show.
    pub const IPV4_ONLY: u32 = DF | ID_PLUS | ID_MINUS | ZERO_PLUS;
}

/// A set of [`quirk`]s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Quirks(pub u32);

impl Quirks {
    /// Whether every quirk in `q` is in the set.
    pub fn has(self, q: u32) -> bool {
        self.0 & q == q
    }
}

impl PushText for Quirks {
    /// Comma-separated names in p0f's order (empty for none).
    fn push_text(&self, out: &mut String) {
        let mut first = true;
        for (bit, name) in quirk::NAMES {
            if self.0 & bit != 0 {
                if !first {
                    out.push(',');
                }
                out.push_str(name);
                first = false;
            }
        }
    }
}

/// The most TCP options p0f records; a packet with more gets the `bad` quirk.
pub const MAX_OPTIONS: usize = 24;

/// TCP option kinds in the order they appear, and the padding after an EOL.
///
/// Fixed-size, so a packet's layout costs no allocation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OptionLayout {
    kinds: [u8; MAX_OPTIONS],
    len: u8,
    /// Bytes after the EOL option (kind 0) to the end of the TCP header.
    pub eol_pad: u8,
}

impl Default for OptionLayout {
    fn default() -> Self {
        OptionLayout {
            kinds: [0; MAX_OPTIONS],
            len: 0,
            eol_pad: 0,
        }
    }
}

impl OptionLayout {
    /// The option kinds in order.
    pub fn kinds(&self) -> &[u8] {
        &self.kinds[..self.len as usize]
    }

    /// Appends a kind; false (and nothing appended) when [`MAX_OPTIONS`] are there.
    pub fn push(&mut self, kind: u8) -> bool {
        match self.kinds.get_mut(self.len as usize) {
            Some(slot) => {
                *slot = kind;
                self.len += 1;
                true
            }
            None => false,
        }
    }

    /// Whether the layout is full.
    pub fn is_full(&self) -> bool {
        self.len as usize == MAX_OPTIONS
    }
}

impl fmt::Debug for OptionLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OptionLayout({self})")
    }
}

impl PushText for OptionLayout {
    /// p0f's notation: `mss,sok,ts,nop,ws`, unknown kinds as `?N`, EOL as `eol+PAD` (a
    /// signature may hold kind 0 elsewhere, written `?0`; a packet's EOL is always last).
    fn push_text(&self, out: &mut String) {
        let last = self.kinds().len().saturating_sub(1);
        for (i, &kind) in self.kinds().iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            match kind {
                0 if i == last => {
                    out.push_str("eol+");
                    push_num(out, self.eol_pad.into());
                }
                1 => out.push_str("nop"),
                2 => out.push_str("mss"),
                3 => out.push_str("ws"),
                4 => out.push_str("sok"),
                5 => out.push_str("sack"),
                8 => out.push_str("ts"),
                k => {
                    out.push('?');
                    push_num(out, k.into());
                }
            }
        }
    }
}

display_via_push_text!(Quirks, OptionLayout);

/// The window size a reference signature asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WindowSize {
    /// `*`: any window.
    Any,
    /// `N`: exactly N.
    Value(u16),
    /// `%N`: a multiple of N.
    Multiple(u16),
    /// `mss*N`: N times the MSS (see [`super::packet::window_multiplier`]).
    Mss(u16),
    /// `mtu*N`: N times the MTU.
    Mtu(u16),
}

impl fmt::Display for WindowSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WindowSize::Any => f.write_str("*"),
            WindowSize::Value(n) => write!(f, "{n}"),
            WindowSize::Multiple(n) => write!(f, "%{n}"),
            WindowSize::Mss(n) => write!(f, "mss*{n}"),
            WindowSize::Mtu(n) => write!(f, "mtu*{n}"),
        }
    }
}

/// A reference TCP signature from a `p0f.fp` file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TcpSig {
    /// IP version the signature is written for (`None`: `*`). p0f does not compare it when
    /// matching; it decides which quirks the signature may name and, for `*`, which of a
    /// packet's quirks are ignored.
    pub ver: Option<u8>,
    /// Initial TTL (`64`, or `60+4` written as a sum).
    pub ttl: u8,
    /// `N-`: the TTL is random or crafted (scanners); the packet's must not exceed it.
    pub bad_ttl: bool,
    /// Length of IPv4 options.
    pub olen: u8,
    /// MSS (`None`: `*`).
    pub mss: Option<u16>,
    /// Window size.
    pub wsize: WindowSize,
    /// Window scale (`None`: `*`).
    pub scale: Option<u8>,
    /// TCP option layout.
    pub olayout: OptionLayout,
    /// Quirks.
    pub quirks: Quirks,
    /// Payload class: `Some(false)` no payload, `Some(true)` some, `None` either.
    pub pclass: Option<bool>,
}

/// Why a signature does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigError {
    /// A field is missing or not in its form.
    #[error("bad {field} field {text:?} (want {want})")]
    Field {
        /// Which field.
        field: &'static str,
        /// What it held.
        text: String,
        /// What it should look like.
        want: &'static str,
    },
    /// Not eight `:`-separated fields.
    #[error("want 8 fields ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass, found {0}")]
    FieldCount(usize),
    /// An option name p0f does not know.
    #[error("unknown TCP option {0:?} (want nop, mss, ws, sok, sack, ts, ?N or eol+N)")]
    Option(String),
    /// More than [`MAX_OPTIONS`] options.
    #[error("more than {MAX_OPTIONS} TCP options")]
    TooManyOptions,
    /// `eol+N` not last.
    #[error("eol+N must be the last option")]
    EolNotLast,
    /// A quirk name p0f does not know.
    #[error("unknown quirk {0:?}")]
    Quirk(String),
    /// A quirk the signature's IP version cannot show.
    #[error("quirk {quirk:?} is not valid for IPv{ver}")]
    QuirkForVersion {
        /// The quirk.
        quirk: &'static str,
        /// The signature's IP version.
        ver: u8,
    },
}

fn field_err(field: &'static str, text: &str, want: &'static str) -> SigError {
    SigError::Field {
        field,
        text: text.to_string(),
        want,
    }
}

/// A decimal number in `0..=max`: digits only, at most 5 of them.
fn decimal(text: &str, max: u32) -> Option<u32> {
    if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u32>().ok().filter(|v| *v <= max)
}

impl std::str::FromStr for TcpSig {
    type Err = SigError;

    fn from_str(s: &str) -> Result<Self, SigError> {
        let fields: Vec<&str> = s.split(':').collect();
        let [ver, ittl, olen, mss, win, olayout, quirks, pclass] = fields[..] else {
            return Err(SigError::FieldCount(fields.len()));
        };
        let ver = match ver {
            "4" => Some(4),
            "6" => Some(6),
            "*" => None,
            _ => return Err(field_err("ver", ver, "4, 6 or *")),
        };

        // `N`, `N-` or `N+D` (p0f's parser skips a character after `N-`; we do not).
        let ttl_want = "N, N- or N+D with N in 1..255";
        let (ttl, bad_ttl) = if let Some(n) = ittl.strip_suffix('-') {
            (decimal(n, 255), true)
        } else if let Some((n, d)) = ittl.split_once('+') {
            let sum = decimal(n, 255).zip(decimal(d, 255)).map(|(n, d)| n + d);
            (sum.filter(|t| *t <= 255), false)
        } else {
            (decimal(ittl, 255), false)
        };
        let ttl = ttl
            .filter(|t| *t >= 1)
            .ok_or_else(|| field_err("ittl", ittl, ttl_want))? as u8;
        let olen = decimal(olen, 255).ok_or_else(|| field_err("olen", olen, "0..255"))? as u8;
        let mss = match mss {
            "*" => None,
            m => {
                Some(decimal(m, 65535).ok_or_else(|| field_err("mss", m, "* or 0..65535"))? as u16)
            }
        };

        let (wsize, scale) = win
            .split_once(',')
            .ok_or_else(|| field_err("wsize,scale", win, "WSIZE,SCALE"))?;
        let win_want = "*, N, %N, mss*N or mtu*N";
        let wsize = if wsize == "*" {
            WindowSize::Any
        } else if let Some(n) = wsize.strip_prefix('%') {
            let n = decimal(n, 65535).filter(|n| *n >= 2);
            WindowSize::Multiple(n.ok_or_else(|| field_err("wsize", wsize, win_want))? as u16)
        } else if let Some(n) = wsize.strip_prefix("mss*") {
            let n = decimal(n, 1000).filter(|n| *n >= 1);
            WindowSize::Mss(n.ok_or_else(|| field_err("wsize", wsize, win_want))? as u16)
        } else if let Some(n) = wsize.strip_prefix("mtu*") {
            let n = decimal(n, 1000).filter(|n| *n >= 1);
            WindowSize::Mtu(n.ok_or_else(|| field_err("wsize", wsize, win_want))? as u16)
        } else {
            let n = decimal(wsize, 65535).ok_or_else(|| field_err("wsize", wsize, win_want))?;
            WindowSize::Value(n as u16)
        };
        let scale = match scale {
            "*" => None,
            n => Some(decimal(n, 255).ok_or_else(|| field_err("scale", n, "* or 0..255"))? as u8),
        };

        let olayout = parse_layout(olayout)?;
        let quirks = parse_quirks(quirks, ver)?;
        let pclass = match pclass {
            "*" => None,
            "0" => Some(false),
            "+" => Some(true),
            _ => return Err(field_err("pclass", pclass, "0, + or *")),
        };
        Ok(TcpSig {
            ver,
            ttl,
            bad_ttl,
            olen,
            mss,
            wsize,
            scale,
            olayout,
            quirks,
            pclass,
        })
    }
}

fn parse_layout(text: &str) -> Result<OptionLayout, SigError> {
    let mut layout = OptionLayout::default();
    if text.is_empty() {
        return Ok(layout);
    }
    let tokens: Vec<&str> = text.split(',').collect();
    for (i, tok) in tokens.iter().enumerate() {
        let kind = match *tok {
            "nop" => 1,
            "mss" => 2,
            "ws" => 3,
            "sok" => 4,
            "sack" => 5,
            "ts" => 8,
            t => {
                if let Some(pad) = t.strip_prefix("eol+") {
                    if i + 1 != tokens.len() {
                        return Err(SigError::EolNotLast);
                    }
                    layout.eol_pad =
                        decimal(pad, 255).ok_or_else(|| SigError::Option(t.to_string()))? as u8;
                    0
                } else if let Some(n) = t.strip_prefix('?') {
                    decimal(n, 255).ok_or_else(|| SigError::Option(t.to_string()))? as u8
                } else {
                    return Err(SigError::Option(t.to_string()));
                }
            }
        };
        if !layout.push(kind) {
            return Err(SigError::TooManyOptions);
        }
    }
    Ok(layout)
}

fn parse_quirks(text: &str, ver: Option<u8>) -> Result<Quirks, SigError> {
    let mut q = 0;
    if text.is_empty() {
        return Ok(Quirks(q));
    }
    for tok in text.split(',') {
        let (bit, name) = quirk::NAMES
            .iter()
            .find(|(_, name)| *name == tok)
            .copied()
            .ok_or_else(|| SigError::Quirk(tok.to_string()))?;
        let invalid = match ver {
            Some(6) => bit & quirk::IPV4_ONLY != 0,
            Some(4) => bit == quirk::FLOW,
            _ => false,
        };
        if let (true, Some(ver)) = (invalid, ver) {
            return Err(SigError::QuirkForVersion { quirk: name, ver });
        }
        q |= bit;
    }
    Ok(Quirks(q))
}

impl fmt::Display for TcpSig {
    /// The signature as a `p0f.fp` file writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ver {
            Some(v) => write!(f, "{v}:")?,
            None => f.write_str("*:")?,
        }
        write!(
            f,
            "{}{}:{}:",
            self.ttl,
            if self.bad_ttl { "-" } else { "" },
            self.olen
        )?;
        match self.mss {
            Some(m) => write!(f, "{m}:")?,
            None => f.write_str("*:")?,
        }
        write!(f, "{},", self.wsize)?;
        match self.scale {
            Some(s) => write!(f, "{s}:")?,
            None => f.write_str("*:")?,
        }
        write!(f, "{}:{}:", self.olayout, self.quirks)?;
        f.write_str(match self.pclass {
            None => "*",
            Some(false) => "0",
            Some(true) => "+",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_round_trip() {
        for sig in [
            "*:64:0:*:mss*20,10:mss,sok,ts,nop,ws:df,id+:0",
            "*:64-:0:1460:1024,0:mss::0",
            "4:128:0:1460:mtu*2,0:mss,nop,ws::0",
            "*:64:0:*:*,*:mss,nop,nop,sok,nop,ws:df,id+:0",
            "*:192:0:1331:1337,0:mss,nop,eol+18::0",
            "6:64:0:*:%8192,*:mss,?30,sack:ecn,flow:*",
            "*:64-:0:1460:3,10:ws,nop,mss,sok,nop,nop:ecn,uptr+:+",
            "*:64:0:*:*,*:::0",
            // Found by fuzzing: kind 0 written as `?0` before other options.
            "*:64:0:*:*,*:?0,nop::0",
        ] {
            let parsed: TcpSig = sig.parse().unwrap_or_else(|e| panic!("{sig}: {e}"));
            assert_eq!(parsed.to_string(), sig);
        }
    }

    #[test]
    fn fields_are_read() {
        let s: TcpSig = "*:60+4:0:*:mss*20,10:mss,sok,ts,nop,ws,eol+3:df,id+:0"
            .parse()
            .unwrap();
        assert_eq!((s.ttl, s.bad_ttl), (64, false));
        assert_eq!(s.wsize, WindowSize::Mss(20));
        assert_eq!(s.scale, Some(10));
        assert_eq!(s.olayout.kinds(), &[2, 4, 8, 1, 3, 0]);
        assert_eq!(s.olayout.eol_pad, 3);
        assert_eq!(s.quirks, Quirks(quirk::DF | quirk::ID_PLUS));
        // `?N` is the raw kind: `?4` is `sok`.
        let q: TcpSig = "*:64:0:*:*,*:mss,?4:df:0".parse().unwrap();
        assert_eq!(q.olayout.kinds(), &[2, 4]);
    }

    #[test]
    fn bad_signatures_say_why() {
        for (sig, want) in [
            ("*:*:0:*:*,*:mss::0", "ittl"),
            ("*:64:0:*:mss*0,*:mss::0", "wsize"),
            ("*:64:0:*:%1,*:mss::0", "wsize"),
            ("*:64:0:*:*,*:eol+1,mss::0", "last"),
            ("*:64:0:*:*,*:mss:wat:0", "quirk"),
            ("6:64:0:*:*,*:mss:df:0", "IPv6"),
            ("4:64:0:*:*,*:mss:flow:0", "IPv4"),
            ("*:64:0:*:*,*:mss::0 ", "pclass"),
            ("*:64:0:*:*,*:mss::0\r", "pclass"),
            ("*:64:0:*:*,*:mss:", "8 fields"),
            ("*:64:0:*:*,*:bogus::0", "option"),
            ("*:256:0:*:*,*:mss::0", "ittl"),
            ("*:250+10:0:*:*,*:mss::0", "ittl"),
        ] {
            let err = sig.parse::<TcpSig>().unwrap_err().to_string();
            assert!(err.contains(want), "{sig:?}: {err}");
        }
        let many = vec!["nop"; MAX_OPTIONS + 1].join(",");
        assert_eq!(
            format!("*:64:0:*:*,*:{many}::0").parse::<TcpSig>(),
            Err(SigError::TooManyOptions)
        );
    }
}
