//! Ethernet II frames: a read-only view over received bytes and an emitter for the frames
//! a sensor sends on a LAN (its ARP answers and its replies).
//!
//! Only what a sensor on an access port needs: untagged frames with an EtherType. 802.1Q
//! tags are normally stripped by the kernel before an `AF_PACKET` socket sees a frame; a
//! tagged frame shows up here with EtherType 0x8100 and is left alone by the caller.

use std::fmt;

/// A 48-bit MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    /// ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: Mac = Mac([0xff; 6]);
    /// 00:00:00:00:00:00, the "unknown" target of an ARP request.
    pub const ZERO: Mac = Mac([0; 6]);

    /// Whether the group bit is set (broadcast and multicast).
    pub fn is_group(self) -> bool {
        self.0[0] & 1 == 1
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

/// EtherType values the sensor dispatches on.
pub mod ether_type {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// ARP.
    pub const ARP: u16 = 0x0806;
    /// IPv6.
    pub const IPV6: u16 = 0x86dd;
}

/// Length of the header: destination, source, EtherType.
pub const HEADER_LEN: usize = 14;
/// Shortest frame on the wire without its FCS; shorter frames are padded with zeros.
pub const MIN_FRAME_LEN: usize = 60;

/// A received Ethernet II frame.
#[derive(Debug, Clone, Copy)]
pub struct EthernetFrame<'a> {
    bytes: &'a [u8],
}

impl<'a> EthernetFrame<'a> {
    /// A view over `bytes`, or `None` when they are shorter than the header.
    pub fn parse(bytes: &'a [u8]) -> Option<Self> {
        (bytes.len() >= HEADER_LEN).then_some(EthernetFrame { bytes })
    }

    fn mac_at(&self, at: usize) -> Mac {
        let mut m = [0; 6];
        m.copy_from_slice(&self.bytes[at..at + 6]);
        Mac(m)
    }

    /// Where the frame goes.
    pub fn dst(&self) -> Mac {
        self.mac_at(0)
    }

    /// Who sent it.
    pub fn src(&self) -> Mac {
        self.mac_at(6)
    }

    /// What the payload is ([`ether_type`]).
    pub fn ether_type(&self) -> u16 {
        u16::from_be_bytes([self.bytes[12], self.bytes[13]])
    }

    /// Everything after the header, including any padding the sender added.
    pub fn payload(&self) -> &'a [u8] {
        &self.bytes[HEADER_LEN..]
    }
}

/// Appends a frame to `out`: header, `payload`, then zeros up to [`MIN_FRAME_LEN`].
pub fn emit(out: &mut Vec<u8>, dst: Mac, src: Mac, ether_type: u16, payload: &[u8]) {
    let start = out.len();
    out.extend_from_slice(&dst.0);
    out.extend_from_slice(&src.0);
    out.extend_from_slice(&ether_type.to_be_bytes());
    out.extend_from_slice(payload);
    if out.len() - start < MIN_FRAME_LEN {
        out.resize(start + MIN_FRAME_LEN, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // An ARP request from 02:00:00:00:00:01, as a Linux host sends it (padded to 60 bytes).
    const ARP_REQUEST: [u8; 42] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, //
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, //
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 198, 51, 100, 1, //
        0, 0, 0, 0, 0, 0, 198, 51, 100, 10,
    ];

    #[test]
    fn reads_the_header() {
        let f = EthernetFrame::parse(&ARP_REQUEST).unwrap();
        assert_eq!(f.dst(), Mac::BROADCAST);
        assert!(f.dst().is_group());
        assert_eq!(f.src(), Mac([2, 0, 0, 0, 0, 1]));
        assert!(!f.src().is_group());
        assert_eq!(f.ether_type(), ether_type::ARP);
        assert_eq!(f.payload().len(), 28);
        assert_eq!(f.src().to_string(), "02:00:00:00:00:01");
    }

    #[test]
    fn short_input_is_not_a_frame() {
        for n in 0..HEADER_LEN {
            assert!(EthernetFrame::parse(&ARP_REQUEST[..n]).is_none());
        }
        assert!(EthernetFrame::parse(&ARP_REQUEST[..HEADER_LEN]).is_some());
    }

    #[test]
    fn emit_round_trips_and_pads() {
        let mut out = vec![];
        emit(
            &mut out,
            Mac::BROADCAST,
            Mac([2, 0, 0, 0, 0, 1]),
            ether_type::ARP,
            &ARP_REQUEST[HEADER_LEN..],
        );
        assert_eq!(out.len(), MIN_FRAME_LEN);
        assert_eq!(&out[..42], &ARP_REQUEST[..]);
        assert!(out[42..].iter().all(|&b| b == 0));
        // A long payload is not padded.
        let mut long = vec![];
        emit(&mut long, Mac::ZERO, Mac::ZERO, ether_type::IPV4, &[7; 100]);
        assert_eq!(long.len(), HEADER_LEN + 100);
    }
}
