//! Building the IPv4 replies a sensor sends — SYN+ACK, RST, ICMP echo reply and port
//! unreachable — with a [`Personality`]'s TTL, DF and IP ID.
//!
//! Every function returns a whole IPv4 datagram with correct checksums; the caller picks the
//! IP ID (from the personality's [`IpId`](crate::personality::IpId) rule and its per-host
//! state) and the sequence numbers.

use std::net::Ipv4Addr;

use crate::personality::Personality;

/// IP protocol numbers used here.
const PROTO_ICMP: u8 = 1;
const PROTO_TCP: u8 = 6;

/// One's-complement sum of 16-bit words (RFC 1071), not yet folded.
fn sum16(mut acc: u32, bytes: &[u8]) -> u32 {
    let mut chunks = bytes.chunks_exact(2);
    for c in &mut chunks {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u32::from(*last) << 8;
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// The Internet checksum of `bytes`.
pub fn checksum(bytes: &[u8]) -> u16 {
    fold(sum16(0, bytes))
}

/// An IPv4 datagram around `payload`.
fn ipv4(
    p: &Personality,
    df: bool,
    id: u16,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    payload: &[u8],
) -> Vec<u8> {
    let total = (20 + payload.len()).min(65535) as u16;
    let mut d = Vec::with_capacity(20 + payload.len());
    d.extend([0x45, 0]);
    d.extend(total.to_be_bytes());
    d.extend(id.to_be_bytes());
    d.extend(if df { [0x40, 0] } else { [0, 0] });
    d.extend([p.ttl, proto, 0, 0]);
    d.extend(src.octets());
    d.extend(dst.octets());
    let c = checksum(&d);
    d[10..12].copy_from_slice(&c.to_be_bytes());
    d.extend_from_slice(payload);
    d
}

/// A TCP segment's fields, as we send it.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    /// Our address and port.
    pub src: (Ipv4Addr, u16),
    /// The peer's address and port.
    pub dst: (Ipv4Addr, u16),
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// TCP flags (`probe::tcp_flags`).
    pub flags: u8,
    /// Receive window.
    pub window: u16,
    /// Options, already padded to a multiple of 4 bytes (at most 40).
    pub options: &'a [u8],
    /// Payload.
    pub payload: &'a [u8],
}

/// A TCP segment in an IPv4 datagram with `p`'s TTL and DF, and IP ID `id`.
pub fn tcp(p: &Personality, id: u16, s: &Segment<'_>) -> Vec<u8> {
    let opts = &s.options[..s.options.len().min(40) / 4 * 4];
    let hlen = 20 + opts.len();
    let mut t = Vec::with_capacity(hlen + s.payload.len());
    t.extend(s.src.1.to_be_bytes());
    t.extend(s.dst.1.to_be_bytes());
    t.extend(s.seq.to_be_bytes());
    t.extend(s.ack.to_be_bytes());
    t.extend([((hlen / 4) as u8) << 4, s.flags]);
    t.extend(s.window.to_be_bytes());
    t.extend([0, 0, 0, 0]);
    t.extend_from_slice(opts);
    t.extend_from_slice(s.payload);
    let mut pseudo = Vec::with_capacity(12);
    pseudo.extend(s.src.0.octets());
    pseudo.extend(s.dst.0.octets());
    pseudo.extend([0, PROTO_TCP]);
    pseudo.extend((t.len() as u16).to_be_bytes());
    let c = fold(sum16(sum16(0, &pseudo), &t));
    t[16..18].copy_from_slice(&c.to_be_bytes());
    ipv4(p, p.df, id, s.src.0, s.dst.0, PROTO_TCP, &t)
}

/// An ICMP message (type, code, the four bytes after the checksum, data) in a datagram
/// from `src` to `dst`. ICMP goes without DF, as stacks send it.
fn icmp(
    p: &Personality,
    id: u16,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    head: [u8; 4],
    rest: [u8; 4],
    data: &[u8],
) -> Vec<u8> {
    let mut m = Vec::with_capacity(8 + data.len());
    m.extend(head);
    m.extend(rest);
    m.extend_from_slice(data);
    let c = checksum(&m);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    ipv4(p, false, id, src, dst, PROTO_ICMP, &m)
}

/// The echo reply to an echo request whose ICMP identifier, sequence number and data
/// (everything after the first 4 bytes of the ICMP header) are `body`. Data beyond 1472
/// bytes is not echoed (the reply stays within one Ethernet frame).
pub fn echo_reply(
    p: &Personality,
    id: u16,
    us: Ipv4Addr,
    to: Ipv4Addr,
    ident_seq: [u8; 4],
    data: &[u8],
) -> Vec<u8> {
    let data = &data[..data.len().min(1472)];
    icmp(p, id, us, to, [0, 0, 0, 0], ident_seq, data)
}

/// ICMP destination unreachable (`code` 3 = port unreachable) about `original`, the
/// datagram that caused it: its IP header and first 8 bytes of payload go back, as
/// RFC 792 asks.
pub fn unreachable(
    p: &Personality,
    id: u16,
    us: Ipv4Addr,
    to: Ipv4Addr,
    code: u8,
    original: &[u8],
) -> Vec<u8> {
    let ihl = original.first().map_or(20, |b| usize::from(b & 0x0f) * 4);
    let quote = &original[..original.len().min(ihl + 8)];
    icmp(p, id, us, to, [3, code, 0, 0], [0; 4], quote)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::personality::builtin;
    use crate::probe::tcp_flags;

    #[test]
    fn checksums_verify_and_fields_land_where_they_belong() {
        let p = builtin("windows-7").unwrap();
        let opts = [2, 4, 5, 0xb4];
        let d = tcp(
            p,
            0x1234,
            &Segment {
                src: ("198.51.100.7".parse().unwrap(), 23),
                dst: ("203.0.113.9".parse().unwrap(), 40000),
                seq: 7,
                ack: 8,
                flags: tcp_flags::SYN | tcp_flags::ACK,
                window: 8192,
                options: &opts,
                payload: &[],
            },
        );
        assert_eq!(d.len(), 44);
        assert_eq!(checksum(&d[..20]), 0, "IP header checksum");
        assert_eq!(d[8], 128, "TTL");
        assert_eq!(d[6], 0x40, "DF");
        assert_eq!(&d[4..6], &[0x12, 0x34]);
        // The TCP checksum over the pseudo-header verifies to zero.
        let mut pseudo = d[12..20].to_vec();
        pseudo.extend([0, 6, 0, 24]);
        assert_eq!(fold(sum16(sum16(0, &pseudo), &d[20..])), 0);
        let parsed = etherparse::SlicedPacket::from_ip(&d).unwrap();
        let Some(etherparse::TransportSlice::Tcp(t)) = parsed.transport else {
            panic!("not TCP")
        };
        assert_eq!((t.source_port(), t.destination_port()), (23, 40000));
        assert!(t.syn() && t.ack());
        assert_eq!(t.options(), &opts);
    }

    #[test]
    fn icmp_replies() {
        let p = builtin("linux-5").unwrap();
        let us = "198.51.100.7".parse().unwrap();
        let them = "203.0.113.9".parse().unwrap();
        let e = echo_reply(p, 0, us, them, [0, 1, 0, 2], b"ping");
        assert_eq!(e.len(), 20 + 8 + 4);
        assert_eq!(checksum(&e[20..]), 0);
        assert_eq!(e[20], 0);
        let udp = [
            0x45, 0, 0, 29, 0, 0, 0, 0, 64, 17, 0, 0, 203, 0, 113, 9, 198, 51, 100, 7, 0x9c, 0x40,
            0, 53, 0, 9, 0, 0, 0x61,
        ];
        let u = unreachable(p, 0, us, them, 3, &udp);
        assert_eq!(&u[20..22], &[3, 3]);
        assert_eq!(&u[28..], &udp[..28], "IP header and 8 bytes quoted");
        assert_eq!(checksum(&u[20..]), 0);
        // A bogus header length quotes what there is.
        let short = unreachable(p, 0, us, them, 3, &[0x4f, 0, 0]);
        assert_eq!(&short[28..], &[0x4f, 0, 0]);
    }
}
