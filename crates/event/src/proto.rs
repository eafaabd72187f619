//! IP protocol numbers and the names Honeyd logs for them.
//!
//! Honeyd names TCP, UDP and ICMP itself and asks `getprotobynumber(3)` for the rest, so its
//! log says `gre(47)` or, for a number the system does not know, `unkn(253)`. The table
//! below is the one Debian's `netbase` ships in `/etc/protocols`, so a log written here
//! matches one Honeyd wrote on a typical Linux host.

/// TCP.
pub const TCP: u8 = 6;
/// UDP.
pub const UDP: u8 = 17;
/// ICMP for IPv4.
pub const ICMP: u8 = 1;
/// ICMP for IPv6.
pub const ICMPV6: u8 = 58;

/// `(number, name)` as in Debian's `/etc/protocols` (first name per number).
const NAMES: &[(u8, &str)] = &[
    (0, "ip"),
    (1, "icmp"),
    (2, "igmp"),
    (3, "ggp"),
    (4, "ipencap"),
    (5, "st"),
    (6, "tcp"),
    (8, "egp"),
    (9, "igp"),
    (12, "pup"),
    (17, "udp"),
    (20, "hmp"),
    (22, "xns-idp"),
    (27, "rdp"),
    (29, "iso-tp4"),
    (33, "dccp"),
    (36, "xtp"),
    (37, "ddp"),
    (38, "idpr-cmtp"),
    (41, "ipv6"),
    (43, "ipv6-route"),
    (44, "ipv6-frag"),
    (45, "idrp"),
    (46, "rsvp"),
    (47, "gre"),
    (50, "esp"),
    (51, "ah"),
    (57, "skip"),
    (58, "ipv6-icmp"),
    (59, "ipv6-nonxt"),
    (60, "ipv6-opts"),
    (73, "rspf"),
    (81, "vmtp"),
    (88, "eigrp"),
    (89, "ospf"),
    (93, "ax.25"),
    (94, "ipip"),
    (97, "etherip"),
    (98, "encap"),
    (103, "pim"),
    (108, "ipcomp"),
    (112, "vrrp"),
    (115, "l2tp"),
    (124, "isis"),
    (132, "sctp"),
    (133, "fc"),
    (135, "mobility-header"),
    (136, "udplite"),
    (137, "mpls-in-ip"),
    (138, "manet"),
    (139, "hip"),
    (140, "shim6"),
    (141, "wesp"),
    (142, "rohc"),
    (143, "ethernet"),
];

/// The name Honeyd would log for `proto`, or `unkn` for a number without one.
pub fn name(proto: u8) -> &'static str {
    match proto {
        TCP => "tcp",
        UDP => "udp",
        ICMP => "icmp",
        _ => NAMES
            .binary_search_by_key(&proto, |&(n, _)| n)
            .map(|i| NAMES[i].1)
            .unwrap_or("unkn"),
    }
}

/// Whether the protocol carries 16-bit ports that Honeyd logs (`src sport dst dport`).
pub fn has_ports(proto: u8) -> bool {
    proto == TCP || proto == UDP
}

/// Whether the protocol is ICMP (v4 or v6), logged as `type(code)`.
pub fn is_icmp(proto: u8) -> bool {
    proto == ICMP || proto == ICMPV6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_netbase() {
        assert!(NAMES.windows(2).all(|w| w[0].0 < w[1].0), "table sorted");
        assert_eq!(name(6), "tcp");
        assert_eq!(name(47), "gre");
        assert_eq!(name(58), "ipv6-icmp");
        assert_eq!(name(253), "unkn");
    }
}
