//! A TCP SYN or SYN+ACK turned into what p0f v3 compares against its signatures: a
//! [`PacketSig`], and the raw signature p0f prints for it ([`PacketSig::raw`]).
//!
//! The rules are p0f 3.09b's (`process.c`, `fp_tcp.c`), including its choices that its
//! README does not spell out; `docs/FINGERPRINT.md` lists them.

use std::net::IpAddr;

use super::sig::{quirk, OptionLayout, Quirks};
use super::text::{display_via_push_text, push_num, PushText};
use crate::probe::tcp_flags as flag;

/// Which side of the handshake a packet is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// A SYN (p0f's `[tcp:request]`): the client.
    Request,
    /// A SYN+ACK (`[tcp:response]`): the server.
    Response,
}

/// Everything p0f reads from a SYN or SYN+ACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PacketSig {
    /// SYN or SYN+ACK.
    pub direction: Direction,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Sequence number.
    pub seq: u32,
    /// IP version, 4 or 6.
    pub ver: u8,
    /// TTL or hop limit as received.
    pub ttl: u8,
    /// Length of IPv4 options (0 for IPv6).
    pub olen: u8,
    /// DSCP: the IPv4 TOS or IPv6 traffic class without its ECN bits.
    pub tos: u8,
    /// MSS option (0 without one).
    pub mss: u16,
    /// Window size.
    pub win: u16,
    /// Window scale option (0 without one).
    pub wscale: u8,
    /// Own timestamp (0 without a timestamp option).
    pub ts1: u32,
    /// TCP option layout.
    pub olayout: OptionLayout,
    /// Quirks seen.
    pub quirks: Quirks,
    /// Whether the segment carries payload.
    pub payload: bool,
    /// IP header (with options) plus TCP header (with options), in bytes.
    pub header_len: u16,
}

/// What keeps a packet out of fingerprinting, as p0f decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotFingerprinted {
    /// Not IPv4 or IPv6, or shorter than its headers, or its headers are inconsistent.
    #[error("malformed or truncated IP/TCP header")]
    Malformed,
    /// Not TCP (for IPv6: an extension header comes first, which p0f does not walk).
    #[error("not TCP")]
    NotTcp,
    /// An IPv4 fragment.
    #[error("IP fragment")]
    Fragment,
    /// Neither a SYN nor a SYN+ACK (or SYN with FIN or RST).
    #[error("not a SYN or SYN+ACK")]
    NotSyn,
}

const MIN_TCP4: usize = 40;
const MIN_TCP6: usize = 60;

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl PacketSig {
    /// The signature with what matching never reads cleared (addresses, ports, sequence
    /// number; the timestamp only as zero or not): two packets with the same shape give
    /// the same shape, and [`crate::p0f::Database::match_packet`] gives both the same
    /// answer. For memoising matches.
    pub fn shape(&self) -> PacketSig {
        PacketSig {
            src: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            dst: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            sport: 0,
            dport: 0,
            seq: 0,
            ts1: u32::from(self.ts1 != 0),
            ..*self
        }
    }

    /// Reads an IP packet (from its first header byte). Only SYNs and SYN+ACKs are
    /// fingerprinted; anything else says why not.
    pub fn from_ip(ip: &[u8]) -> Result<PacketSig, NotFingerprinted> {
        use NotFingerprinted::*;
        // p0f works on at most 65535 bytes.
        let mut len = ip.len().min(65535);
        let ver = ip.first().ok_or(Malformed)? >> 4;
        let mut quirks = 0u32;
        let (src, dst, ttl, olen, tos, ip_hdr) = match ver {
            4 => {
                if len < MIN_TCP4 {
                    return Err(Malformed);
                }
                let hl = (ip[0] & 0x0f) as usize * 4;
                let tot_len = be16(ip, 2) as usize;
                // Link-layer padding after the packet is not part of it.
                len = len.min(tot_len);
                if len < MIN_TCP4 || hl < 20 || tot_len > ip.len() || hl + 20 > len {
                    return Err(Malformed);
                }
                if ip[9] != 6 {
                    return Err(NotTcp);
                }
                let flags_off = be16(ip, 6);
                if flags_off & 0x3fff != 0 {
                    return Err(Fragment);
                }
                if ip[1] & 0x03 != 0 {
                    quirks |= quirk::ECN;
                }
                if flags_off & 0x8000 != 0 {
                    quirks |= quirk::ZERO_PLUS;
                }
                let id = be16(ip, 4);
                if flags_off & 0x4000 != 0 {
                    quirks |= quirk::DF;
                    if id != 0 {
                        quirks |= quirk::ID_PLUS;
                    }
                } else if id == 0 {
                    quirks |= quirk::ID_MINUS;
                }
                let src = IpAddr::from([ip[12], ip[13], ip[14], ip[15]]);
                let dst = IpAddr::from([ip[16], ip[17], ip[18], ip[19]]);
                (src, dst, ip[8], (hl - 20) as u8, ip[1] >> 2, hl)
            }
            6 => {
                if len < MIN_TCP6 {
                    return Err(Malformed);
                }
                let tot_len = be16(ip, 4) as usize + 40;
                len = len.min(tot_len);
                if len < MIN_TCP6 || tot_len > ip.len() {
                    return Err(Malformed);
                }
                if ip[6] != 6 {
                    return Err(NotTcp);
                }
                let w0 = be32(ip, 0);
                if w0 & 0xfffff != 0 {
                    quirks |= quirk::FLOW;
                }
                if (w0 >> 20) & 0x03 != 0 {
                    quirks |= quirk::ECN;
                }
                let mut a = [0u8; 16];
                a.copy_from_slice(&ip[8..24]);
                let mut b = [0u8; 16];
                b.copy_from_slice(&ip[24..40]);
                let tos = ((w0 >> 22) & 0x3f) as u8;
                (IpAddr::from(a), IpAddr::from(b), ip[7], 0, tos, 40)
            }
            _ => return Err(Malformed),
        };

        let tcp = &ip[ip_hdr..len];
        let doff = (tcp[12] >> 4) as usize * 4;
        if doff < 20 || doff > tcp.len() {
            return Err(Malformed);
        }
        let flags = tcp[13];
        let kind = flags & (flag::SYN | flag::ACK | flag::FIN | flag::RST);
        let direction = match kind {
            flag::SYN => Direction::Request,
            k if k == flag::SYN | flag::ACK => Direction::Response,
            _ => return Err(NotSyn),
        };
        if flags & (flag::ECE | flag::CWR) != 0 || tcp[12] & 0x01 != 0 {
            quirks |= quirk::ECN;
        }
        let seq = be32(tcp, 4);
        if seq == 0 {
            quirks |= quirk::SEQ_MINUS;
        }
        let ack = be32(tcp, 8);
        if flags & flag::ACK != 0 {
            if ack == 0 {
                quirks |= quirk::ACK_MINUS;
            }
        } else if ack_plus(ack) {
            quirks |= quirk::ACK_PLUS;
        }
        if flags & flag::URG != 0 {
            quirks |= quirk::URGF_PLUS;
        } else if be16(tcp, 18) != 0 {
            quirks |= quirk::UPTR_PLUS;
        }
        if flags & flag::PSH != 0 {
            quirks |= quirk::PUSHF_PLUS;
        }

        let opts = read_options(&tcp[20..doff], direction);
        Ok(PacketSig {
            direction,
            src,
            dst,
            sport: be16(tcp, 0),
            dport: be16(tcp, 2),
            seq,
            ver,
            ttl,
            olen,
            tos,
            mss: opts.mss,
            win: be16(tcp, 14),
            wscale: opts.wscale,
            ts1: opts.ts1,
            olayout: opts.layout,
            quirks: Quirks(quirks | opts.quirks),
            payload: tcp.len() > doff,
            header_len: (ip_hdr + doff) as u16,
        })
    }

    /// A packet with only a version, MSS and window, standing in for a signature whose
    /// window a database compares at load time.
    pub(crate) fn stand_in(ver: u8, mss: u16, win: u16) -> PacketSig {
        let unspecified = IpAddr::from([0, 0, 0, 0]);
        PacketSig {
            direction: Direction::Request,
            src: unspecified,
            dst: unspecified,
            sport: 0,
            dport: 0,
            seq: 0,
            ver,
            ttl: 0,
            olen: 0,
            tos: 0,
            mss,
            win,
            wscale: 0,
            ts1: 0,
            olayout: OptionLayout::default(),
            quirks: Quirks::default(),
            payload: false,
            header_len: 0,
        }
    }

    /// The raw signature p0f prints for this packet (`raw_sig`), for a SYN+ACK given the
    /// MSS of the SYN it answers (0 for a SYN or when unknown).
    pub fn raw(&self, syn_mss: u16) -> RawSig<'_> {
        RawSig { sig: self, syn_mss }
    }
}

/// `ack+`: the acknowledgment number of a packet without ACK is not zero.
///
/// p0f 3.09b tests `value & 1` on the number as the host reads it from the wire, so on the
/// little-endian machines it runs on only bit 24 counts (`ack = 1` gives no quirk,
/// `ack = 0x01000000` does). We do the same, so labels agree with `p0f`; the documentation
/// says so.
fn ack_plus(ack: u32) -> bool {
    ack.to_be_bytes()[0] & 1 != 0
}

/// What the TCP options say.
struct Options {
    layout: OptionLayout,
    mss: u16,
    wscale: u8,
    ts1: u32,
    quirks: u32,
}

/// Walks the options as p0f does: a repeated option overrides the earlier one, a broken
/// one is recorded and stops the walk with `bad`.
fn read_options(opts: &[u8], direction: Direction) -> Options {
    let mut o = Options {
        layout: OptionLayout::default(),
        mss: 0,
        wscale: 0,
        ts1: 0,
        quirks: 0,
    };
    let end = opts.len();
    let mut p = 0;
    while p < end && !o.layout.is_full() {
        let kind = opts[p];
        o.layout.push(kind);
        p += 1;
        // The length byte p0f checks (it warns but goes on when it is wrong).
        let len_is = |want: u8| opts.get(p) == Some(&want);
        match kind {
            0 => {
                o.layout.eol_pad = (end - p).min(255) as u8;
                // p0f stops at the first non-zero byte after advancing past it, so a
                // non-zero last byte goes unnoticed; kept for agreement.
                while p < end {
                    let b = opts[p];
                    p += 1;
                    if b != 0 {
                        break;
                    }
                }
                if p != end {
                    o.quirks |= quirk::OPT_PLUS;
                    p = end;
                }
            }
            1 => {}
            2 => {
                if p + 3 > end {
                    o.quirks |= quirk::BAD;
                    return o;
                }
                if !len_is(4) {
                    o.quirks |= quirk::BAD;
                }
                o.mss = be16(opts, p + 1);
                p += 3;
            }
            3 => {
                if p + 2 > end {
                    o.quirks |= quirk::BAD;
                    return o;
                }
                if !len_is(3) {
                    o.quirks |= quirk::BAD;
                }
                o.wscale = opts[p + 1];
                if o.wscale > 14 {
                    o.quirks |= quirk::EXWS;
                }
                p += 2;
            }
            4 => {
                if p + 1 > end {
                    o.quirks |= quirk::BAD;
                    return o;
                }
                if !len_is(2) {
                    o.quirks |= quirk::BAD;
                }
                p += 1;
            }
            8 => {
                if p + 9 > end {
                    o.quirks |= quirk::BAD;
                    return o;
                }
                if !len_is(10) {
                    o.quirks |= quirk::BAD;
                }
                o.ts1 = be32(opts, p + 1);
                if o.ts1 == 0 {
                    o.quirks |= quirk::TS1_MINUS;
                }
                if direction == Direction::Request && be32(opts, p + 5) != 0 {
                    o.quirks |= quirk::TS2_PLUS;
                }
                p += 9;
            }
            // SACK and unknown options: a length byte covering the kind and itself.
            k => {
                let Some(&l) = opts.get(p) else {
                    o.quirks |= quirk::BAD;
                    return o;
                };
                let (min, max) = if k == 5 { (10, 34) } else { (2, 40) };
                let l = l as usize;
                if l < min || l > max || p - 1 + l > end {
                    o.quirks |= quirk::BAD;
                    return o;
                }
                p += l - 1;
            }
        }
    }
    if p != end {
        o.quirks |= quirk::BAD;
    }
    o
}

/// The distance p0f guesses from a TTL alone: hops below the next initial TTL of 32, 64,
/// 128 or 255.
pub fn guess_distance(ttl: u8) -> u8 {
    match ttl {
        0..=32 => 32 - ttl,
        33..=64 => 64 - ttl,
        65..=128 => 128 - ttl,
        _ => 255 - ttl,
    }
}

/// The farthest a host may be (in hops) for its TTL to match a signature exactly.
pub const MAX_DIST: u8 = 35;

/// How a window size relates to the MSS or MTU: `N` times one of them, as p0f finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowMultiple {
    /// N.
    pub times: u16,
    /// Whether it is N times an MTU (else an MSS).
    pub mtu: bool,
}

/// p0f's search for what the window is a multiple of: the packet's MSS (less 12 when
/// timestamps are on), the common Ethernet MSS values, the MTU the MSS implies, 1500, and
/// for a SYN+ACK the SYN's MSS. The first divisor that fits wins, so `mss*N` can mean a
/// multiple of 1460 when the MSS itself does not divide the window.
pub fn window_multiplier(p: &PacketSig, syn_mss: u16) -> Option<WindowMultiple> {
    let win = p.win as i32;
    let mss = p.mss as i32;
    if win == 0 || mss < 100 {
        return None;
    }
    let v6 = p.ver == 6;
    let syn = syn_mss as i32;
    let candidates: [(bool, i32, bool); 12] = [
        (true, mss, false),
        (p.ts1 != 0, mss - 12, false),
        (true, 1460, false),
        (true, 1448, false),
        (v6, 1440, false),
        (v6, 1428, false),
        (true, mss + 40, true),
        (true, mss + p.header_len as i32, true),
        (v6, mss + 60, true),
        (true, 1500, true),
        (syn != 0, syn, false),
        (syn != 0, syn - 12, false),
    ];
    for (enabled, div, mtu) in candidates {
        if enabled && div > 0 && win % div == 0 {
            let times = win / div;
            // p0f keeps the result in a signed 16-bit number.
            return u16::try_from(times)
                .ok()
                .filter(|t| *t > 0 && *t <= i16::MAX as u16)
                .map(|times| WindowMultiple { times, mtu });
        }
    }
    None
}

/// [`PacketSig::raw`]: the signature in p0f's raw notation,
/// `4:64+0:0:1460:mss*20,7:mss,sok,ts,nop,ws:df,id+:0`.
pub struct RawSig<'a> {
    sig: &'a PacketSig,
    syn_mss: u16,
}

impl PushText for RawSig<'_> {
    fn push_text(&self, out: &mut String) {
        let p = self.sig;
        let d = guess_distance(p.ttl);
        push_num(out, p.ver.into());
        out.push(':');
        push_num(out, p.ttl.into());
        if d > MAX_DIST {
            out.push_str("+?:");
        } else {
            out.push('+');
            push_num(out, d.into());
            out.push(':');
        }
        push_num(out, p.olen.into());
        out.push(':');
        // p0f's own probe tool answers with MSS 1331; p0f hides it on responses.
        if p.mss == 1331 && p.direction == Direction::Response {
            out.push('*');
        } else {
            push_num(out, p.mss.into());
        }
        out.push(':');
        match window_multiplier(p, self.syn_mss) {
            Some(WindowMultiple { times, mtu }) => {
                out.push_str(if mtu { "mtu*" } else { "mss*" });
                push_num(out, times.into());
            }
            None => push_num(out, p.win.into()),
        }
        out.push(',');
        push_num(out, p.wscale.into());
        out.push(':');
        p.olayout.push_text(out);
        out.push(':');
        p.quirks.push_text(out);
        out.push_str(if p.payload { ":+" } else { ":0" });
    }
}

display_via_push_text!(RawSig<'_>);

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A SYN (or, with `ack`, a SYN+ACK) built field by field.
    pub struct Syn {
        pub v6: bool,
        pub ttl: u8,
        pub df: bool,
        pub id: u16,
        pub tos: u8,
        pub ip_opts: Vec<u8>,
        pub flow: u32,
        pub win: u16,
        pub flags: u8,
        pub seq: u32,
        pub ack: u32,
        pub urg: u16,
        pub opts: Vec<u8>,
        pub payload: Vec<u8>,
        /// The IPv4 reserved flag.
        pub evil: bool,
        /// Which client (its address is derived from it).
        pub client: u16,
        /// Sent by the server (a SYN+ACK): addresses and ports swapped.
        pub from_server: bool,
    }

    /// Linux's SYN options: mss 1460, sok, ts (ts1 1, ts2 0), nop, ws 7.
    pub const LINUX_OPTS: [u8; 20] = [
        2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
    ];

    impl Default for Syn {
        fn default() -> Self {
            Syn {
                v6: false,
                ttl: 64,
                df: true,
                id: 0x1234,
                tos: 0,
                ip_opts: vec![],
                flow: 0,
                win: 29200,
                flags: flag::SYN,
                seq: 1000,
                ack: 0,
                urg: 0,
                opts: LINUX_OPTS.to_vec(),
                payload: vec![],
                evil: false,
                client: 0,
                from_server: false,
            }
        }
    }

    impl Syn {
        pub fn bytes(&self) -> Vec<u8> {
            let mut tcp = vec![0u8; 20];
            let (sport, dport) = if self.from_server {
                (80u16, 40000u16)
            } else {
                (40000, 80)
            };
            tcp[0..2].copy_from_slice(&sport.to_be_bytes());
            tcp[2..4].copy_from_slice(&dport.to_be_bytes());
            tcp[4..8].copy_from_slice(&self.seq.to_be_bytes());
            tcp[8..12].copy_from_slice(&self.ack.to_be_bytes());
            let mut opts = self.opts.clone();
            while !opts.len().is_multiple_of(4) {
                opts.push(0);
            }
            tcp[12] = (((20 + opts.len()) / 4) as u8) << 4;
            tcp[13] = self.flags;
            tcp[14..16].copy_from_slice(&self.win.to_be_bytes());
            tcp[18..20].copy_from_slice(&self.urg.to_be_bytes());
            tcp.extend_from_slice(&opts);
            tcp.extend_from_slice(&self.payload);
            if self.v6 {
                let mut ip = vec![0u8; 40];
                let w0 = (6u32 << 28) | ((self.tos as u32) << 20) | (self.flow & 0xfffff);
                ip[0..4].copy_from_slice(&w0.to_be_bytes());
                ip[4..6].copy_from_slice(&(tcp.len() as u16).to_be_bytes());
                ip[6] = 6;
                ip[7] = self.ttl;
                let [hi, lo] = self.client.to_be_bytes();
                let (c, srv) = if self.from_server { (24, 8) } else { (8, 24) };
                ip[c..c + 2].copy_from_slice(&[0x20, 0x01]);
                ip[c + 14] = hi;
                ip[c + 15] = lo.max(1);
                ip[srv..srv + 2].copy_from_slice(&[0x20, 0x01]);
                ip[srv + 1] = 0x02;
                ip[srv + 15] = 2;
                ip.extend_from_slice(&tcp);
                ip
            } else {
                let hl = 20 + self.ip_opts.len();
                let mut ip = vec![0u8; 20];
                ip[0] = 0x40 | (hl / 4) as u8;
                ip[1] = self.tos;
                ip[2..4].copy_from_slice(&((hl + tcp.len()) as u16).to_be_bytes());
                ip[4..6].copy_from_slice(&self.id.to_be_bytes());
                ip[6] = if self.df { 0x40 } else { 0 } | if self.evil { 0x80 } else { 0 };
                ip[8] = self.ttl;
                ip[9] = 6;
                let [hi, lo] = self.client.to_be_bytes();
                let client = [10, hi, lo, 7];
                let server = [172, 16, 0, 9];
                let (src, dst) = if self.from_server {
                    (server, client)
                } else {
                    (client, server)
                };
                ip[12..16].copy_from_slice(&src);
                ip[16..20].copy_from_slice(&dst);
                ip.extend_from_slice(&self.ip_opts);
                ip.extend_from_slice(&tcp);
                ip
            }
        }

        pub fn sig(&self) -> PacketSig {
            PacketSig::from_ip(&self.bytes()).unwrap()
        }

        pub fn raw(&self) -> String {
            self.sig().raw(0).to_string()
        }
    }

    /// A shape matches as its packet does: what it clears is never read by the matcher.
    #[test]
    fn a_shape_matches_as_its_packet() {
        let db = crate::p0f::Database::builtin();
        let mut no_ts = LINUX_OPTS.to_vec();
        no_ts[6..16].fill(1);
        let mut zero_ts = LINUX_OPTS.to_vec();
        zero_ts[11] = 0;
        for (i, opts) in [LINUX_OPTS.to_vec(), no_ts, zero_ts, vec![2, 4, 5, 0xb4]]
            .into_iter()
            .enumerate()
        {
            for (ttl, win, client, v6) in [
                (64, 29200, 1, false),
                (128, 8192, 7, true),
                (255, 1024, 9, false),
            ] {
                let p = PacketSig::from_ip(
                    &Syn {
                        opts: opts.clone(),
                        ttl,
                        win,
                        client,
                        v6,
                        seq: 77 * client as u32,
                        ..Syn::default()
                    }
                    .bytes(),
                )
                .unwrap();
                let (a, b) = (db.match_packet(&p, 0), db.match_packet(&p.shape(), 0));
                assert_eq!(
                    (a.label.map(|l| l.to_string()), a.fuzzy, a.distance),
                    (b.label.map(|l| l.to_string()), b.fuzzy, b.distance),
                    "case {i}, ttl {ttl}"
                );
                assert_eq!(
                    p.shape(),
                    PacketSig { src: p.dst, ..p }.shape(),
                    "addresses are cleared"
                );
            }
        }
    }

    #[test]
    fn linux_syn_reads_as_p0f_prints_it() {
        let s = Syn::default().sig();
        assert_eq!(s.direction, Direction::Request);
        assert_eq!((s.mss, s.win, s.wscale, s.ts1), (1460, 29200, 7, 1));
        assert_eq!(
            s.raw(0).to_string(),
            "4:64+0:0:1460:mss*20,7:mss,sok,ts,nop,ws:df,id+:0"
        );
        let v6 = Syn {
            v6: true,
            win: 28800,
            opts: {
                let mut o = LINUX_OPTS.to_vec();
                o[2..4].copy_from_slice(&1440u16.to_be_bytes());
                o
            },
            ..Syn::default()
        };
        assert_eq!(v6.raw(), "6:64+0:0:1440:mss*20,7:mss,sok,ts,nop,ws::0");
        let flow = Syn { flow: 5, ..v6 };
        assert!(flow.raw().ends_with(":flow:0"));
    }

    #[test]
    fn ttl_distance_and_window_forms() {
        let raw = |syn: Syn| syn.raw();
        assert!(raw(Syn {
            ttl: 50,
            ..Syn::default()
        })
        .starts_with("4:50+14:"));
        assert!(raw(Syn {
            ttl: 200,
            ..Syn::default()
        })
        .starts_with("4:200+?:"));
        assert!(raw(Syn {
            ttl: 70,
            ..Syn::default()
        })
        .starts_with("4:70+?:"));
        // 14600 = 10 × 1460 (the Ethernet MSS) though the MSS is 1400.
        let mss1400 = |win| Syn {
            win,
            opts: vec![2, 4, 0x05, 0x78],
            ..Syn::default()
        };
        assert_eq!(raw(mss1400(14600)), "4:64+0:0:1400:mss*10,0:mss:df,id+:0");
        // 3000 = 2 × 1500.
        let mss1460 = |win| Syn {
            win,
            opts: vec![2, 4, 0x05, 0xb4],
            ..Syn::default()
        };
        assert_eq!(raw(mss1460(3000)), "4:64+0:0:1460:mtu*2,0:mss:df,id+:0");
        assert_eq!(raw(mss1460(0)), "4:64+0:0:1460:0,0:mss:df,id+:0");
        // MSS below 100: a plain number.
        let tiny = Syn {
            win: 396,
            opts: vec![2, 4, 0, 99],
            ..Syn::default()
        };
        assert_eq!(raw(tiny), "4:64+0:0:99:396,0:mss:df,id+:0");
        // No options at all.
        let bare = Syn {
            win: 8192,
            opts: vec![],
            ..Syn::default()
        };
        assert_eq!(raw(bare), "4:64+0:0:0:8192,0::df,id+:0");
        // SYN+ACK of window 28960 with timestamps: 28960 = 20 × (1460 - 12).
        let synack = Syn {
            flags: flag::SYN | flag::ACK,
            ack: 1001,
            id: 0,
            win: 28960,
            ..Syn::default()
        };
        assert_eq!(
            synack.raw(),
            "4:64+0:0:1460:mss*20,7:mss,sok,ts,nop,ws:df:0"
        );
    }

    #[test]
    fn quirks_are_p0fs() {
        let q = |syn: Syn| syn.sig().quirks.to_string();
        assert_eq!(
            q(Syn {
                id: 0,
                ..Syn::default()
            }),
            "df"
        );
        assert_eq!(
            q(Syn {
                df: false,
                id: 0,
                ..Syn::default()
            }),
            "id-"
        );
        assert_eq!(
            q(Syn {
                tos: 0x02,
                ..Syn::default()
            }),
            "df,id+,ecn"
        );
        assert_eq!(
            q(Syn {
                flags: flag::SYN | flag::ECE | flag::CWR,
                ..Syn::default()
            }),
            "df,id+,ecn"
        );
        assert_eq!(
            q(Syn {
                seq: 0,
                ..Syn::default()
            }),
            "df,id+,seq-"
        );
        assert_eq!(
            q(Syn {
                ack: 1,
                ..Syn::default()
            }),
            "df,id+"
        );
        assert_eq!(
            q(Syn {
                ack: 0x0100_0000,
                ..Syn::default()
            }),
            "df,id+,ack+"
        );
        assert_eq!(
            q(Syn {
                urg: 5,
                flags: flag::SYN | flag::PSH,
                ..Syn::default()
            }),
            "df,id+,uptr+,pushf+"
        );
        let mut ts2 = LINUX_OPTS.to_vec();
        ts2[15] = 9;
        assert_eq!(
            q(Syn {
                opts: ts2.clone(),
                ..Syn::default()
            }),
            "df,id+,ts2+"
        );
        let mut ts1 = LINUX_OPTS.to_vec();
        ts1[11] = 0;
        assert_eq!(
            q(Syn {
                opts: ts1,
                ..Syn::default()
            }),
            "df,id+,ts1-"
        );
        let mut ws = LINUX_OPTS.to_vec();
        ws[19] = 15;
        assert_eq!(
            q(Syn {
                opts: ws,
                ..Syn::default()
            }),
            "df,id+,exws"
        );
        let sig = Syn {
            payload: vec![1, 2, 3],
            ..Syn::default()
        }
        .sig();
        assert!(sig.payload);
        let opts4 = Syn {
            ip_opts: vec![1, 1, 1, 0],
            ..Syn::default()
        }
        .raw();
        assert!(opts4.starts_with("4:64+0:4:"), "{opts4}");
    }

    #[test]
    fn options_are_walked_like_p0f() {
        let layout = |opts: Vec<u8>| {
            let s = Syn {
                opts,
                ..Syn::default()
            }
            .sig();
            (
                s.olayout.to_string(),
                s.quirks.has(quirk::BAD),
                s.quirks.has(quirk::OPT_PLUS),
            )
        };
        // EOL padding; a non-zero byte before the last one is opt+, the last one is not.
        assert_eq!(layout(vec![2, 4, 5, 0xb4, 0, 0, 0, 5]).0, "mss,eol+3");
        assert!(!layout(vec![2, 4, 5, 0xb4, 0, 0, 0, 5]).2);
        assert!(layout(vec![2, 4, 5, 0xb4, 0, 0, 5, 0]).2);
        // Unknown option kept as ?N; a broken one ends the walk with bad.
        assert_eq!(
            layout(vec![2, 4, 5, 0xb4, 30, 4, 0, 0, 1, 0, 0, 0]),
            ("mss,?30,nop,eol+2".to_string(), false, false)
        );
        assert_eq!(
            layout(vec![2, 4, 5, 0xb4, 30, 1, 0, 0]),
            ("mss,?30".to_string(), true, false)
        );
        // 28 NOPs: 24 recorded, then bad.
        let (l, bad, _) = layout(vec![1; 28]);
        assert_eq!(l.split(',').count(), 24);
        assert!(bad);
        // A wrong MSS length byte is bad but the value is still read.
        let s = Syn {
            opts: vec![2, 5, 5, 0xb4],
            ..Syn::default()
        }
        .sig();
        assert_eq!(s.mss, 1460);
        assert!(s.quirks.has(quirk::BAD));
    }

    #[test]
    fn what_is_not_fingerprinted() {
        let err = |syn: Syn| PacketSig::from_ip(&syn.bytes()).unwrap_err();
        assert_eq!(
            err(Syn {
                flags: flag::ACK,
                ..Syn::default()
            }),
            NotFingerprinted::NotSyn
        );
        assert_eq!(
            err(Syn {
                flags: flag::SYN | flag::FIN,
                ..Syn::default()
            }),
            NotFingerprinted::NotSyn
        );
        let mut frag = Syn::default().bytes();
        frag[6] |= 0x20;
        assert_eq!(PacketSig::from_ip(&frag), Err(NotFingerprinted::Fragment));
        let full = Syn::default().bytes();
        for cut in 0..full.len() {
            assert!(PacketSig::from_ip(&full[..cut]).is_err(), "cut at {cut}");
        }
        let mut udp = full.clone();
        udp[9] = 17;
        assert_eq!(PacketSig::from_ip(&udp), Err(NotFingerprinted::NotTcp));
    }
}
