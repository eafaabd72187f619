//! ARP for IPv4 over Ethernet (RFC 826): a view over a received packet and an emitter.
//!
//! Only the one form found on Ethernet LANs is read: hardware type 1 (Ethernet), protocol
//! type 0x0800 (IPv4), address lengths 6 and 4. Anything else is not an ARP packet the sensor
//! answers, and [`ArpPacket::parse`] says `None`.

use std::net::Ipv4Addr;

use crate::ethernet::{ether_type, Mac};

/// Length of an Ethernet/IPv4 ARP packet.
pub const LEN: usize = 28;

/// The operation field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// 1: who has `target_ip`? tell `sender_ip`.
    Request,
    /// 2: `sender_ip` is at `sender_mac`.
    Reply,
    /// Any other value (RARP and friends), carried as is.
    Other(u16),
}

impl Op {
    fn to_u16(self) -> u16 {
        match self {
            Op::Request => 1,
            Op::Reply => 2,
            Op::Other(v) => v,
        }
    }
}

/// A received Ethernet/IPv4 ARP packet.
#[derive(Debug, Clone, Copy)]
pub struct ArpPacket<'a> {
    bytes: &'a [u8],
}

impl<'a> ArpPacket<'a> {
    /// A view over `bytes` (an Ethernet frame's payload; trailing padding is ignored), or
    /// `None` when it is short or not Ethernet/IPv4.
    pub fn parse(bytes: &'a [u8]) -> Option<Self> {
        let b = bytes.get(..LEN)?;
        let ethernet_ipv4 = b[0..2] == [0, 1]
            && u16::from_be_bytes([b[2], b[3]]) == ether_type::IPV4
            && b[4] == 6
            && b[5] == 4;
        ethernet_ipv4.then_some(ArpPacket { bytes: b })
    }

    /// What is asked or told.
    pub fn op(&self) -> Op {
        match u16::from_be_bytes([self.bytes[6], self.bytes[7]]) {
            1 => Op::Request,
            2 => Op::Reply,
            v => Op::Other(v),
        }
    }

    fn mac_at(&self, at: usize) -> Mac {
        let mut m = [0; 6];
        m.copy_from_slice(&self.bytes[at..at + 6]);
        Mac(m)
    }

    fn ip_at(&self, at: usize) -> Ipv4Addr {
        Ipv4Addr::new(
            self.bytes[at],
            self.bytes[at + 1],
            self.bytes[at + 2],
            self.bytes[at + 3],
        )
    }

    /// The sender's hardware address.
    pub fn sender_mac(&self) -> Mac {
        self.mac_at(8)
    }

    /// The sender's IPv4 address; 0.0.0.0 in a probe (RFC 5227), which claims nothing.
    pub fn sender_ip(&self) -> Ipv4Addr {
        self.ip_at(14)
    }

    /// The target's hardware address (zero in a request).
    pub fn target_mac(&self) -> Mac {
        self.mac_at(18)
    }

    /// The address asked about (request) or the requester's (reply).
    pub fn target_ip(&self) -> Ipv4Addr {
        self.ip_at(24)
    }
}

/// The 28 bytes of an Ethernet/IPv4 ARP packet.
pub fn emit(
    op: Op,
    sender_mac: Mac,
    sender_ip: Ipv4Addr,
    target_mac: Mac,
    target_ip: Ipv4Addr,
) -> [u8; LEN] {
    let mut b = [0u8; LEN];
    b[0..2].copy_from_slice(&1u16.to_be_bytes());
    b[2..4].copy_from_slice(&ether_type::IPV4.to_be_bytes());
    b[4] = 6;
    b[5] = 4;
    b[6..8].copy_from_slice(&op.to_u16().to_be_bytes());
    b[8..14].copy_from_slice(&sender_mac.0);
    b[14..18].copy_from_slice(&sender_ip.octets());
    b[18..24].copy_from_slice(&target_mac.0);
    b[24..28].copy_from_slice(&target_ip.octets());
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    // "Who has 198.51.100.10? Tell 198.51.100.1", from 02:00:00:00:00:01.
    const REQUEST: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, //
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 198, 51, 100, 1, //
        0, 0, 0, 0, 0, 0, 198, 51, 100, 10,
    ];

    #[test]
    fn reads_a_request() {
        let a = ArpPacket::parse(&REQUEST).unwrap();
        assert_eq!(a.op(), Op::Request);
        assert_eq!(a.sender_mac(), Mac([2, 0, 0, 0, 0, 1]));
        assert_eq!(a.sender_ip(), Ipv4Addr::new(198, 51, 100, 1));
        assert_eq!(a.target_mac(), Mac::ZERO);
        assert_eq!(a.target_ip(), Ipv4Addr::new(198, 51, 100, 10));
    }

    #[test]
    fn emit_round_trips() {
        let a = ArpPacket::parse(&REQUEST).unwrap();
        let b = emit(
            a.op(),
            a.sender_mac(),
            a.sender_ip(),
            a.target_mac(),
            a.target_ip(),
        );
        assert_eq!(b, REQUEST);
        let reply = emit(
            Op::Reply,
            Mac([2, 0, 0, 0, 0, 2]),
            Ipv4Addr::new(198, 51, 100, 10),
            a.sender_mac(),
            a.sender_ip(),
        );
        let r = ArpPacket::parse(&reply).unwrap();
        assert_eq!(r.op(), Op::Reply);
        assert_eq!(r.sender_ip(), Ipv4Addr::new(198, 51, 100, 10));
        assert_eq!(r.target_mac(), Mac([2, 0, 0, 0, 0, 1]));
    }

    #[test]
    fn only_ethernet_ipv4_is_read() {
        for n in 0..LEN {
            assert!(ArpPacket::parse(&REQUEST[..n]).is_none());
        }
        for (at, v) in [(1, 6u8), (2, 0x86), (4, 8), (5, 16)] {
            let mut b = REQUEST;
            b[at] = v;
            assert!(ArpPacket::parse(&b).is_none(), "byte {at} = {v}");
        }
        let mut other = REQUEST;
        other[7] = 3;
        assert_eq!(ArpPacket::parse(&other).unwrap().op(), Op::Other(3));
        // Padding after the packet is ignored.
        let mut padded = REQUEST.to_vec();
        padded.extend([0; 18]);
        assert!(ArpPacket::parse(&padded).is_some());
    }
}
