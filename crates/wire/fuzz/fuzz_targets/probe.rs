//! Summarises the input as a frame of every supported link type.
#![no_main]

use honeyscope_wire::{probe_from_frame, LinkType};
use libfuzzer_sys::fuzz_target;

const LINKS: [LinkType; 9] = [
    LinkType::Ethernet,
    LinkType::RawIp,
    LinkType::Ipv4,
    LinkType::Ipv6,
    LinkType::LinuxSll,
    LinkType::LinuxSll2,
    LinkType::Null,
    LinkType::Loop,
    LinkType::Other(147),
];

fuzz_target!(|data: &[u8]| {
    for link in LINKS {
        if let Ok(p) = probe_from_frame(link, data) {
            // Ports only for TCP and UDP, ICMP codes only for ICMP.
            assert!(matches!(p.proto, 6 | 17) || (p.sport, p.dport) == (0, 0));
            assert!(p.proto == 6 || p.tcp_flags == 0);
            assert!(matches!(p.proto, 1 | 58) || p.icmp.is_none());
        }
    }
});
