//! What a network telescope logs about one captured frame: a [`Probe`].
//!
//! [`probe_from_frame`] strips the link layer (Ethernet with VLAN tags, Linux
//! cooked captures, BSD loopback, raw IP), reads the IPv4 or IPv6 header with
//! `etherparse`'s lax slicing (so a packet whose payload the snaplen cut still
//! yields its addresses and ports), walks IPv6 extension headers to the
//! transport protocol, and reads ports, TCP flags or ICMP type and code from
//! the first bytes of the transport header.
//!
//! Transport fields are read by hand rather than through etherparse's
//! transport slices because those need a complete header (20 bytes of TCP,
//! say), while the ports are in the first 4 bytes and a first IPv4 fragment
//! carries them too.

use std::net::IpAddr;

use etherparse::err::Layer;
use etherparse::{ether_type, EtherType, LaxNetSlice, LaxSlicedPacket};

use crate::capture::LinkType;

/// The header fields of one IP packet that a telescope records.
///
/// Fields the capture does not hold (a transport header cut by the snaplen,
/// a non-first fragment) are 0 or `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Probe {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Transport protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, ...),
    /// after any IPv6 extension headers.
    pub proto: u8,
    /// Source port; 0 when not TCP/UDP or not captured.
    pub sport: u16,
    /// Destination port; 0 when not TCP/UDP or not captured.
    pub dport: u16,
    /// ICMP or ICMPv6 (type, code); `None` for other protocols.
    pub icmp: Option<(u8, u8)>,
    /// Length of the IP packet as its header states it: the IPv4 total
    /// length, or the IPv6 payload length + 40.
    pub ip_len: u32,
    /// Raw TCP flags byte: FIN=0x01 SYN=0x02 RST=0x04 PSH=0x08 ACK=0x10
    /// URG=0x20 ECE=0x40 CWR=0x80; 0 when not TCP.
    pub tcp_flags: u8,
}

/// TCP flag bits of [`Probe::tcp_flags`].
pub mod tcp_flags {
    /// No more data from the sender.
    pub const FIN: u8 = 0x01;
    /// Synchronise sequence numbers (connection request).
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push function.
    pub const PSH: u8 = 0x08;
    /// Acknowledgment field is significant.
    pub const ACK: u8 = 0x10;
    /// Urgent pointer field is significant.
    pub const URG: u8 = 0x20;
    /// ECN echo.
    pub const ECE: u8 = 0x40;
    /// Congestion window reduced.
    pub const CWR: u8 = 0x80;
}

/// Why a frame yields no [`Probe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// The frame carries something other than IPv4 or IPv6 (ARP, LLDP, ...).
    #[error("not an IP packet")]
    NotIp,
    /// The frame is too short or its IP header is invalid.
    #[error("malformed packet: {0}")]
    Malformed(&'static str),
    /// The capture's link type is not one this crate parses.
    #[error("unsupported link type {0}")]
    UnsupportedLink(u32),
}

/// Summarises one captured frame of link type `link`.
///
/// Never panics, whatever `data` holds.
///
/// ```
/// use honeyscope_wire::capture::LinkType;
/// use honeyscope_wire::probe::probe_from_frame;
///
/// // IPv4 TCP SYN 192.0.2.1:40000 -> 192.0.2.2:23, cut after the flags.
/// let pkt = [
///     0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
///     0x9c, 0x40, 0, 23, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x02,
/// ];
/// let p = probe_from_frame(LinkType::RawIp, &pkt).unwrap();
/// assert_eq!((p.proto, p.sport, p.dport, p.tcp_flags), (6, 40000, 23, 0x02));
/// ```
pub fn probe_from_frame(link: LinkType, data: &[u8]) -> Result<Probe, ProbeError> {
    let sliced = slice_link(link, data)?;
    let transport_ok = match &sliced.stop_err {
        None => true,
        // Errors at the transport layer only mean its header was cut; what
        // is there is still read. Errors above it leave no transport bytes.
        Some((_, layer)) => matches!(
            layer,
            Layer::TcpHeader
                | Layer::UdpHeader
                | Layer::UdpPayload
                | Layer::Icmpv4
                | Layer::Icmpv4Timestamp
                | Layer::Icmpv4TimestampReply
                | Layer::Icmpv6
                | Layer::Igmp
        ),
    };
    let (src, dst, ip_len, payload, first_fragment, icmp_proto) = match &sliced.net {
        Some(LaxNetSlice::Ipv4(v4)) => {
            let h = v4.header();
            (
                IpAddr::from(h.source()),
                IpAddr::from(h.destination()),
                u32::from(h.total_len()),
                v4.payload(),
                h.fragments_offset().value() == 0,
                1,
            )
        }
        Some(LaxNetSlice::Ipv6(v6)) => {
            let h = v6.header();
            let exts = v6.extensions();
            let first = ipv6_first_fragment(exts.first_header().map(|n| n.0), exts.slice());
            (
                IpAddr::from(h.source()),
                IpAddr::from(h.destination()),
                u32::from(h.payload_length()) + 40,
                v6.payload(),
                first,
                58,
            )
        }
        Some(LaxNetSlice::Arp(_)) => return Err(ProbeError::NotIp),
        None => {
            return Err(match &sliced.stop_err {
                Some((_, layer)) => ProbeError::Malformed(layer_problem(*layer)),
                None => ProbeError::NotIp,
            })
        }
    };
    let proto = payload.ip_number.0;
    let mut probe = Probe {
        src,
        dst,
        proto,
        sport: 0,
        dport: 0,
        icmp: None,
        ip_len,
        tcp_flags: 0,
    };
    if !(transport_ok && first_fragment) {
        return Ok(probe);
    }
    let t = payload.payload;
    match proto {
        6 | 17 => {
            if let [s0, s1, d0, d1, ..] = *t {
                probe.sport = u16::from_be_bytes([s0, s1]);
                probe.dport = u16::from_be_bytes([d0, d1]);
            }
            if proto == 6 {
                probe.tcp_flags = t.get(13).copied().unwrap_or(0);
            }
        }
        p if p == icmp_proto => {
            if let [ty, code, ..] = *t {
                probe.icmp = Some((ty, code));
            }
        }
        _ => {}
    }
    Ok(probe)
}

/// Strips the link layer of `data` and slices the rest.
fn slice_link(link: LinkType, data: &[u8]) -> Result<LaxSlicedPacket<'_>, ProbeError> {
    let (et, rest) = link_payload(link, data)?;
    Ok(LaxSlicedPacket::from_ether_type(et, rest))
}

/// The network-layer bytes of a frame and their EtherType: the link layer stripped
/// (Ethernet with any 802.1Q/802.1ad tags, Linux cooked captures, BSD loopback, raw IP).
/// The IP packet a frame carries (IPv4 or IPv6), if it carries one.
pub fn link_ip(link: LinkType, data: &[u8]) -> Option<&[u8]> {
    match link_payload(link, data) {
        Ok((et, ip)) if et == ether_type::IPV4 || et == ether_type::IPV6 => Some(ip),
        _ => None,
    }
}

pub(crate) fn link_payload(link: LinkType, data: &[u8]) -> Result<(EtherType, &[u8]), ProbeError> {
    match link {
        LinkType::Ethernet => {
            let short = ProbeError::Malformed("frame shorter than an Ethernet header");
            let mut et = data.get(12..14).ok_or(short)?;
            let mut at = 14;
            // VLAN tags (802.1Q, 802.1ad, the old QinQ value) each hold 4 bytes.
            while matches!(u16::from_be_bytes([et[0], et[1]]), 0x8100 | 0x88a8 | 0x9100) {
                et = data
                    .get(at + 2..at + 4)
                    .ok_or(ProbeError::Malformed("VLAN header truncated"))?;
                at += 4;
            }
            let et = EtherType(u16::from_be_bytes([et[0], et[1]]));
            Ok((et, data.get(at..).unwrap_or_default()))
        }
        LinkType::RawIp | LinkType::Ipv4 | LinkType::Ipv6 => {
            // Dispatch on the version nibble, whatever the link type says.
            let et = match data.first().map(|b| b >> 4) {
                None => return Err(ProbeError::Malformed("empty frame")),
                Some(6) => ether_type::IPV6,
                Some(_) => ether_type::IPV4,
            };
            Ok((et, data))
        }
        LinkType::Null | LinkType::Loop => {
            let (Some(af), Some(rest)) = (data.get(..4), data.get(4..)) else {
                return Err(ProbeError::Malformed(
                    "frame shorter than a loopback header",
                ));
            };
            let af = [af[0], af[1], af[2], af[3]];
            // The family is in the capturing host's byte order (Null) or in
            // network order (Loop); the frame does not say which host wrote
            // it, but families are small numbers, so the order that yields
            // one is the right one.
            let le = u32::from_le_bytes(af);
            let family = if le <= 0xffff {
                le
            } else {
                u32::from_be_bytes(af)
            };
            let et = match family {
                2 => ether_type::IPV4,
                // AF_INET6 on Linux, NetBSD/OpenBSD, FreeBSD, macOS.
                10 | 24 | 28 | 30 => ether_type::IPV6,
                _ => return Err(ProbeError::NotIp),
            };
            Ok((et, rest))
        }
        LinkType::LinuxSll => {
            // packet type, ARPHRD type, address length, address (8), protocol
            let (Some(hdr), Some(rest)) = (data.get(..16), data.get(16..)) else {
                return Err(ProbeError::Malformed(
                    "frame shorter than a Linux SLL header",
                ));
            };
            sll_payload(
                u16::from_be_bytes([hdr[2], hdr[3]]),
                u16::from_be_bytes([hdr[14], hdr[15]]),
                rest,
            )
        }
        LinkType::LinuxSll2 => {
            // protocol, reserved, interface index, ARPHRD type, packet type,
            // address length, address (8)
            let (Some(hdr), Some(rest)) = (data.get(..20), data.get(20..)) else {
                return Err(ProbeError::Malformed(
                    "frame shorter than a Linux SLL2 header",
                ));
            };
            sll_payload(
                u16::from_be_bytes([hdr[8], hdr[9]]),
                u16::from_be_bytes([hdr[0], hdr[1]]),
                rest,
            )
        }
        LinkType::Other(n) => Err(ProbeError::UnsupportedLink(n)),
    }
}

/// The payload of a Linux cooked header with ARPHRD type `arphrd` and protocol field
/// `proto`.
fn sll_payload(arphrd: u16, proto: u16, rest: &[u8]) -> Result<(EtherType, &[u8]), ProbeError> {
    const ARPHRD_NETLINK: u16 = 824;
    // Netlink frames hold a netlink protocol number, and values below 0x0600
    // are Linux's pseudo-protocols (802.2, 802.3, CAN, ...), not EtherTypes.
    if arphrd == ARPHRD_NETLINK || proto < 0x0600 {
        return Err(ProbeError::NotIp);
    }
    Ok((EtherType(proto), rest))
}

/// Whether the IPv6 extension headers `exts`, starting with header number
/// `first`, hold no fragment header with a non-zero offset.
///
/// Walked here with checked slicing rather than through etherparse's
/// `Ipv6ExtensionSliceIter`: in etherparse 0.21 that iterator reads past the
/// end of its slice when lax parsing stopped at a broken extension header
/// (found by the `probe` fuzz target).
fn ipv6_first_fragment(first: Option<u8>, exts: &[u8]) -> bool {
    const HOP_BY_HOP: u8 = 0;
    const ROUTING: u8 = 43;
    const FRAGMENT: u8 = 44;
    const AUTH: u8 = 51;
    const DEST_OPTIONS: u8 = 60;
    let mut next = first;
    let mut rest = exts;
    while let (Some(header), [next_header, len, ..]) = (next, rest) {
        let header_len = match header {
            HOP_BY_HOP | ROUTING | DEST_OPTIONS => (usize::from(*len) + 1) * 8,
            AUTH => (usize::from(*len) + 2) * 4,
            FRAGMENT => {
                let offset = rest
                    .get(2..4)
                    .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]) >> 3);
                if offset != 0 {
                    return false;
                }
                8
            }
            _ => break,
        };
        next = Some(*next_header);
        rest = rest.get(header_len..).unwrap_or_default();
    }
    true
}

/// A short description of what broke at `layer`.
fn layer_problem(layer: Layer) -> &'static str {
    match layer {
        Layer::VlanHeader => "VLAN header truncated",
        Layer::MacsecHeader | Layer::MacsecPacket => "MACsec header truncated or invalid",
        Layer::Ipv4Header | Layer::Ipv4Packet => "IPv4 header truncated or invalid",
        Layer::Ipv6Header | Layer::Ipv6Packet => "IPv6 header truncated or invalid",
        _ => "IP header truncated or invalid",
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const SRC4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    const DST4: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9));
    const SRC6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
    const DST6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2));

    /// IPv4 TCP SYN 192.0.2.1:40000 -> 203.0.113.9:23, no payload.
    static IPV4_TCP_SYN: [u8; 40] = [
        0x45, 0x00, 0x00, 0x28, 0x00, 0x01, 0x40, 0x00, // DF
        0x40, 0x06, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x01, // TTL 64, TCP
        0xcb, 0x00, 0x71, 0x09, //
        0x9c, 0x40, 0x00, 0x17, 0x00, 0x00, 0x00, 0x01, // ports, seq
        0x00, 0x00, 0x00, 0x00, 0x50, 0x02, 0x72, 0x10, // ack, off 5, SYN
        0x00, 0x00, 0x00, 0x00,
    ];

    /// IPv6 with a hop-by-hop header (PadN) before TCP SYN|ECE|CWR
    /// [2001:db8::1]:1234 -> [2001:db8::2]:443.
    static IPV6_HBH_TCP: [u8; 40 + 8 + 20] = [
        0x60, 0x00, 0x00, 0x00, 0x00, 0x1c, 0x00, 0x40, // len 28, next 0 (HBH)
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, //
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, //
        0x06, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, // next TCP, PadN
        0x04, 0xd2, 0x01, 0xbb, 0x00, 0x00, 0x00, 0x01, //
        0x00, 0x00, 0x00, 0x00, 0x50, 0xc2, 0x72, 0x10, //
        0x00, 0x00, 0x00, 0x00,
    ];

    /// Ethernet header for IPv4, to prefix [`IPV4_TCP_SYN`].
    static ETH_IPV4: [u8; 14] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
    ];

    fn cat(parts: &[&[u8]]) -> Vec<u8> {
        parts.concat()
    }

    fn syn4() -> Probe {
        Probe {
            src: SRC4,
            dst: DST4,
            proto: 6,
            sport: 40000,
            dport: 23,
            icmp: None,
            ip_len: 40,
            tcp_flags: tcp_flags::SYN,
        }
    }

    #[test]
    fn ethernet_ipv4_tcp() {
        let frame = cat(&[&ETH_IPV4, &IPV4_TCP_SYN]);
        assert_eq!(probe_from_frame(LinkType::Ethernet, &frame), Ok(syn4()));
    }

    #[test]
    fn ethernet_vlan_and_qinq() {
        // 802.1Q VLAN 100.
        let vlan: [u8; 18] = [
            0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x81, 0x00, 0x00, 0x64, 0x08, 0x00,
        ];
        let frame = cat(&[&vlan, &IPV4_TCP_SYN]);
        assert_eq!(probe_from_frame(LinkType::Ethernet, &frame), Ok(syn4()));
        // 802.1ad outer tag 10, inner tag 100.
        let qinq: [u8; 22] = [
            0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x88, 0xa8, 0x00, 0x0a, 0x81, 0x00,
            0x00, 0x64, 0x08, 0x00,
        ];
        let frame = cat(&[&qinq, &IPV4_TCP_SYN]);
        assert_eq!(probe_from_frame(LinkType::Ethernet, &frame), Ok(syn4()));
        // Tag cut short.
        assert_eq!(
            probe_from_frame(LinkType::Ethernet, &vlan[..16]),
            Err(ProbeError::Malformed("VLAN header truncated"))
        );
    }

    #[test]
    fn arp_and_other_ethertypes_are_not_ip() {
        // ARP request who-has 192.0.2.9 tell 192.0.2.1.
        let arp: [u8; 42] = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x06, //
            0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, //
            0x02, 0, 0, 0, 0, 0x01, 192, 0, 2, 1, //
            0, 0, 0, 0, 0, 0, 192, 0, 2, 9,
        ];
        assert_eq!(
            probe_from_frame(LinkType::Ethernet, &arp),
            Err(ProbeError::NotIp)
        );
        // LLDP (0x88cc), and an 802.3 length field.
        let mut lldp = arp;
        lldp[12..14].copy_from_slice(&[0x88, 0xcc]);
        assert_eq!(
            probe_from_frame(LinkType::Ethernet, &lldp),
            Err(ProbeError::NotIp)
        );
        lldp[12..14].copy_from_slice(&[0x00, 0x2e]);
        assert_eq!(
            probe_from_frame(LinkType::Ethernet, &lldp),
            Err(ProbeError::NotIp)
        );
    }

    #[test]
    fn linux_cooked_v1_and_v2() {
        // SLL: incoming (0), ARPHRD_ETHER, 6-byte address, IPv4.
        let sll: [u8; 16] = [
            0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x02, 0, 0, 0, 0, 0x01, 0, 0, 0x08, 0x00,
        ];
        let frame = cat(&[&sll, &IPV4_TCP_SYN]);
        assert_eq!(probe_from_frame(LinkType::LinuxSll, &frame), Ok(syn4()));
        // SLL2: IPv6, interface 2, ARPHRD_ETHER, incoming, 6-byte address.
        let sll2: [u8; 20] = [
            0x86, 0xdd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x00, 0x06, //
            0x02, 0, 0, 0, 0, 0x01, 0, 0,
        ];
        let frame = cat(&[&sll2, &IPV6_HBH_TCP]);
        let p = probe_from_frame(LinkType::LinuxSll2, &frame).unwrap();
        assert_eq!((p.src, p.dst, p.proto), (SRC6, DST6, 6));
        // Netlink and Linux pseudo-protocols are not IP; short headers are
        // malformed.
        let mut netlink = sll;
        netlink[2..4].copy_from_slice(&824u16.to_be_bytes());
        let frame = cat(&[&netlink, &IPV4_TCP_SYN]);
        assert_eq!(
            probe_from_frame(LinkType::LinuxSll, &frame),
            Err(ProbeError::NotIp)
        );
        let mut llc = sll;
        llc[14..16].copy_from_slice(&[0x00, 0x04]);
        assert_eq!(
            probe_from_frame(LinkType::LinuxSll, &llc),
            Err(ProbeError::NotIp)
        );
        assert!(matches!(
            probe_from_frame(LinkType::LinuxSll, &sll[..15]),
            Err(ProbeError::Malformed(_))
        ));
        assert!(matches!(
            probe_from_frame(LinkType::LinuxSll2, &sll2[..19]),
            Err(ProbeError::Malformed(_))
        ));
    }

    #[test]
    fn raw_ip_links() {
        for link in [LinkType::RawIp, LinkType::Ipv4] {
            assert_eq!(probe_from_frame(link, &IPV4_TCP_SYN), Ok(syn4()));
        }
        for link in [LinkType::RawIp, LinkType::Ipv6] {
            let p = probe_from_frame(link, &IPV6_HBH_TCP).unwrap();
            assert_eq!(p.dst, DST6);
        }
        assert_eq!(
            probe_from_frame(LinkType::RawIp, &[]),
            Err(ProbeError::Malformed("empty frame"))
        );
        // Version 5.
        let mut v5 = IPV4_TCP_SYN;
        v5[0] = 0x55;
        assert!(matches!(
            probe_from_frame(LinkType::RawIp, &v5),
            Err(ProbeError::Malformed(_))
        ));
        // IHL 4 (shorter than the fixed header).
        let mut ihl4 = IPV4_TCP_SYN;
        ihl4[0] = 0x44;
        assert!(matches!(
            probe_from_frame(LinkType::RawIp, &ihl4),
            Err(ProbeError::Malformed(_))
        ));
        for cut in 0..20 {
            assert!(matches!(
                probe_from_frame(LinkType::RawIp, &IPV4_TCP_SYN[..cut]),
                Err(ProbeError::Malformed(_))
            ));
        }
    }

    #[test]
    fn bsd_loopback_both_byte_orders() {
        // AF_INET, little endian (x86 host) and big endian.
        for af in [[2, 0, 0, 0], [0, 0, 0, 2]] {
            let frame = cat(&[&af, &IPV4_TCP_SYN]);
            assert_eq!(probe_from_frame(LinkType::Null, &frame), Ok(syn4()));
            assert_eq!(probe_from_frame(LinkType::Loop, &frame), Ok(syn4()));
        }
        // AF_INET6 as macOS (30) and FreeBSD (28) write it.
        for af in [[30, 0, 0, 0], [0, 0, 0, 28]] {
            let frame = cat(&[&af, &IPV6_HBH_TCP]);
            let p = probe_from_frame(LinkType::Null, &frame).unwrap();
            assert_eq!(p.src, SRC6);
        }
        // AF_APPLETALK, and a header cut short.
        let frame = cat(&[&[16, 0, 0, 0], &IPV4_TCP_SYN]);
        assert_eq!(
            probe_from_frame(LinkType::Null, &frame),
            Err(ProbeError::NotIp)
        );
        assert!(matches!(
            probe_from_frame(LinkType::Null, &[2, 0, 0]),
            Err(ProbeError::Malformed(_))
        ));
    }

    #[test]
    fn ipv6_hop_by_hop_then_tcp() {
        assert_eq!(
            probe_from_frame(LinkType::RawIp, &IPV6_HBH_TCP),
            Ok(Probe {
                src: SRC6,
                dst: DST6,
                proto: 6,
                sport: 1234,
                dport: 443,
                icmp: None,
                ip_len: 68,
                tcp_flags: tcp_flags::SYN | tcp_flags::ECE | tcp_flags::CWR,
            })
        );
        // Extension header cut by the snaplen: its number is all there is.
        let p = probe_from_frame(LinkType::RawIp, &IPV6_HBH_TCP[..44]).unwrap();
        assert_eq!((p.proto, p.sport, p.dport, p.ip_len), (0, 0, 0, 68));
        // A good hop-by-hop header, then destination options cut short: the
        // case where etherparse 0.21's extension iterator reads out of
        // bounds. The broken header's number is the protocol.
        let mut cut = IPV6_HBH_TCP;
        cut[40] = 60;
        let p = probe_from_frame(LinkType::RawIp, &cut[..50]).unwrap();
        assert_eq!((p.proto, p.sport, p.dport), (60, 0, 0));
        // A second hop-by-hop header is invalid there.
        cut[40] = 0;
        let p = probe_from_frame(LinkType::RawIp, &cut).unwrap();
        assert_eq!((p.proto, p.sport, p.dport), (0, 0, 0));
    }

    #[test]
    fn ipv6_fragments_and_icmpv6() {
        // Fragment header (offset 0, more fragments) before UDP 5353 -> 53.
        let mut frag: [u8; 40 + 8 + 8] = [
            0x60, 0x00, 0x00, 0x00, 0x00, 0x10, 0x2c, 0x40, // len 16, next 44
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, //
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, //
            0x11, 0x00, 0x00, 0x01, 0x12, 0x34, 0x56, 0x78, // next UDP, M=1
            0x14, 0xe9, 0x00, 0x35, 0x05, 0xdc, 0x00, 0x00,
        ];
        let p = probe_from_frame(LinkType::Ipv6, &frag).unwrap();
        assert_eq!((p.proto, p.sport, p.dport, p.ip_len), (17, 5353, 53, 56));
        // A later fragment (offset 1480 = 185 units): no ports.
        frag[42..44].copy_from_slice(&((185u16 << 3) | 1).to_be_bytes());
        let p = probe_from_frame(LinkType::Ipv6, &frag).unwrap();
        assert_eq!((p.proto, p.sport, p.dport), (17, 0, 0));

        // ICMPv6 echo request.
        let echo: [u8; 40 + 8] = [
            0x60, 0x00, 0x00, 0x00, 0x00, 0x08, 0x3a, 0xff, //
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, //
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, //
            0x80, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01,
        ];
        let p = probe_from_frame(LinkType::RawIp, &echo).unwrap();
        assert_eq!(
            (p.proto, p.icmp, p.sport, p.tcp_flags),
            (58, Some((128, 0)), 0, 0)
        );
    }

    #[test]
    fn ipv4_fragments_options_icmp_and_snaplen() {
        // First fragment (MF, offset 0): ports are there.
        let mut first = IPV4_TCP_SYN;
        first[6..8].copy_from_slice(&[0x20, 0x00]);
        assert_eq!(probe_from_frame(LinkType::RawIp, &first), Ok(syn4()));
        // Later fragment: protocol only.
        let mut later = IPV4_TCP_SYN;
        later[6..8].copy_from_slice(&[0x00, 0xb9]);
        let p = probe_from_frame(LinkType::RawIp, &later).unwrap();
        assert_eq!((p.proto, p.sport, p.dport, p.tcp_flags), (6, 0, 0, 0));

        // Header with 4 bytes of options (IHL 6), UDP 137 -> 137.
        let opts: [u8; 24 + 8] = [
            0x46, 0x00, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, //
            0x40, 0x11, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x01, //
            0xcb, 0x00, 0x71, 0x09, 0x01, 0x01, 0x01, 0x00, // NOP NOP NOP EOL
            0x00, 0x89, 0x00, 0x89, 0x00, 0x08, 0x00, 0x00,
        ];
        let p = probe_from_frame(LinkType::RawIp, &opts).unwrap();
        assert_eq!((p.proto, p.sport, p.dport, p.ip_len), (17, 137, 137, 32));

        // ICMP echo request.
        let icmp: [u8; 28] = [
            0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, //
            0x40, 0x01, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x01, //
            0xcb, 0x00, 0x71, 0x09, 0x08, 0x00, 0xf7, 0xff, //
            0x00, 0x00, 0x00, 0x00,
        ];
        let p = probe_from_frame(LinkType::RawIp, &icmp).unwrap();
        assert_eq!((p.proto, p.icmp, p.dport), (1, Some((8, 0)), 0));

        // Snaplen cuts: ports survive 4 bytes of TCP, flags need 14; the
        // length is the header's.
        let p = probe_from_frame(LinkType::RawIp, &IPV4_TCP_SYN[..24]).unwrap();
        assert_eq!(
            (p.sport, p.dport, p.tcp_flags, p.ip_len),
            (40000, 23, 0, 40)
        );
        let p = probe_from_frame(LinkType::RawIp, &IPV4_TCP_SYN[..34]).unwrap();
        assert_eq!(p.tcp_flags, tcp_flags::SYN);
        let p = probe_from_frame(LinkType::RawIp, &IPV4_TCP_SYN[..22]).unwrap();
        assert_eq!((p.proto, p.sport, p.dport), (6, 0, 0));
    }

    #[test]
    fn unsupported_link() {
        assert_eq!(
            probe_from_frame(LinkType::Other(147), &IPV4_TCP_SYN),
            Err(ProbeError::UnsupportedLink(147))
        );
    }

    #[test]
    fn every_prefix_of_every_vector_is_handled() {
        let eth = cat(&[&ETH_IPV4, &IPV4_TCP_SYN]);
        let links = LinkType::KNOWN;
        for v in [&eth[..], &IPV4_TCP_SYN[..], &IPV6_HBH_TCP[..]] {
            for cut in 0..=v.len() {
                for link in links {
                    // Must not panic; any answer is fine.
                    let _ = probe_from_frame(link, &v[..cut]);
                }
            }
        }
    }
}
