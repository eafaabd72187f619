//! Arbitrary Ethernet frames and clock steps into the LAN layer (ARP, neighbours): no
//! panic, every frame it sends is a well-formed ARP frame from our MAC about a claimed
//! address, and its tables stay within their bounds.
#![no_main]

use std::net::Ipv4Addr;

use honeyscope_sensor::lan::{ArpConfig, ArpPolicy, Frame, Lan};
use honeyscope_wire::arp::{ArpPacket, Op};
use honeyscope_wire::ethernet::{EthernetFrame, Mac};
use libfuzzer_sys::fuzz_target;

const US: Mac = Mac([2, 0, 0, 0, 0, 0x53]);

fn claims(ip: Ipv4Addr) -> bool {
    ip.octets()[..3] == [198, 51, 100]
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, mut rest)) = data.split_first() else {
        return;
    };
    let mut lan = Lan::new(
        US,
        ArpConfig {
            policy: if mode & 1 == 0 {
                ArpPolicy::Probe
            } else {
                ArpPolicy::All
            },
            max_addresses: 8,
            max_neighbours: 8,
            max_waiting: 2,
            ..ArpConfig::default()
        },
    );
    let mut now = 0i64;
    let mut out = Vec::new();
    let mut arp = 0u64;
    // Records: [clock step (ms), length, frame bytes…].
    while let [step, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (frame, next) = tail.split_at(n);
        rest = next;
        now += i64::from(*step) * 1_000;
        if lan.frame(now, frame, claims, &mut out) == Frame::Arp {
            arp += 1;
        }
        lan.poll(now, &mut out);
        let mut wire = Vec::new();
        lan.wrap(frame, &mut wire);
        for f in out.drain(..) {
            let e = EthernetFrame::parse(&f).expect("an Ethernet frame");
            assert_eq!(e.src(), US);
            assert_eq!(e.ether_type(), 0x0806);
            let a = ArpPacket::parse(e.payload()).expect("an ARP packet");
            assert_eq!(a.sender_mac(), US);
            if a.sender_ip().is_unspecified() {
                // A probe: a broadcast request about a claimed address.
                assert_eq!(a.op(), Op::Request);
                assert_eq!(e.dst(), Mac::BROADCAST);
                assert!(claims(a.target_ip()));
            } else {
                // An answer, speaking for a claimed address, to one requester.
                assert_eq!(a.op(), Op::Reply);
                assert!(claims(a.sender_ip()));
                assert!(!e.dst().is_group());
            }
        }
    }
    // Every frame is counted once, as IP, ARP or ignored.
    let s = lan.stats();
    assert_eq!(s.frames, s.ip + s.ignored + arp);
});
