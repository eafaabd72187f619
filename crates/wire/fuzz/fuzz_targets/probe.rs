//! Summarises the input as a frame of every supported link type.
#![no_main]

use honeyscope_wire::{probe_from_frame, LinkType};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Every named link type, and one it does not know.
    for link in LinkType::KNOWN.into_iter().chain([LinkType::Other(147)]) {
        if let Ok(p) = probe_from_frame(link, data) {
            // Ports only for TCP and UDP, ICMP codes only for ICMP.
            assert!(matches!(p.proto, 6 | 17) || (p.sport, p.dport) == (0, 0));
            assert!(p.proto == 6 || p.tcp_flags == 0);
            assert!(matches!(p.proto, 1 | 58) || p.icmp.is_none());
        }
    }
});
