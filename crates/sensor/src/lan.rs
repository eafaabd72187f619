//! The sensor on a LAN, sans-IO: Ethernet frames and time in; IP packets for the engine,
//! ARP answers and framed replies out. The `AF_PACKET` source ([`crate::af_packet`]) is a thin
//! loop around it.
//!
//! **ARP.** The kernel does not own the claimed addresses, so nothing answers ARP for them
//! unless we do. Two policies:
//!
//! * [`ArpPolicy::All`] answers every request for a claimed address at once, as Honeyd does.
//! * [`ArpPolicy::Probe`] (the default) first asks the LAN itself, as farpd does: on the first
//!   request for an address it sends RFC 5227 probes (sender 0.0.0.0, so they claim nothing),
//!   and only when no other host has answered within [`ArpConfig::probes`] ×
//!   [`ArpConfig::probe_interval_us`] does it take the address, and then answers the requests
//!   that waited. An address some other host speaks for (it answers a probe, or sends any
//!   ARP packet from that address) is left alone for [`ArpConfig::taken_us`], and an address
//!   we had taken is given up the moment another host shows up with it.
//!
//! **Replies.** The engine's replies are IP packets; each goes to the MAC address its
//! destination last sent from (the router, for sources off the LAN), kept in a bounded
//! neighbour table.
//!
//! Every table is bounded; when one is full it starts over, and that is counted.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use honeyscope_wire::arp::{self, ArpPacket, Op};
use honeyscope_wire::ethernet::{self, ether_type, EthernetFrame, Mac};

/// Who gets an ARP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArpPolicy {
    /// Every claimed address, at once (Honeyd's way). Only where nothing else uses them.
    All,
    /// Claimed addresses that no other host answers for, after probing (farpd's way).
    Probe,
}

/// How the LAN layer behaves.
#[derive(Debug, Clone)]
pub struct ArpConfig {
    /// Who gets an answer.
    pub policy: ArpPolicy,
    /// Probes sent before an address is taken.
    pub probes: u32,
    /// Time between probes, and from the last probe to taking the address.
    pub probe_interval_us: i64,
    /// How long an address another host answered for is left alone before it is probed
    /// again.
    pub taken_us: i64,
    /// Addresses whose state (ours, taken, being probed) is remembered.
    pub max_addresses: usize,
    /// Requests remembered per address while it is probed, answered once it is ours.
    pub max_waiting: usize,
    /// Neighbours (IP → MAC) remembered for replies.
    pub max_neighbours: usize,
}

impl Default for ArpConfig {
    fn default() -> Self {
        ArpConfig {
            policy: ArpPolicy::Probe,
            probes: 2,
            probe_interval_us: 200_000,
            taken_us: 300_000_000,
            max_addresses: 65_536,
            max_waiting: 8,
            max_neighbours: 65_536,
        }
    }
}

/// What the LAN layer counted.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LanStats {
    /// Frames read.
    pub frames: u64,
    /// IPv4 or IPv6 frames to our MAC, handed to the engine.
    pub ip: u64,
    /// Frames for another MAC, broadcast or multicast IP, other EtherTypes, runts.
    pub ignored: u64,
    /// ARP requests for a claimed address.
    pub arp_requests: u64,
    /// ARP replies we sent.
    pub arp_replies: u64,
    /// ARP probes we sent.
    pub arp_probes: u64,
    /// Addresses taken after probing.
    pub claimed: u64,
    /// Times another host turned out to own a claimed address (we stay silent for it).
    pub conflicts: u64,
    /// Replies not sent because their destination's MAC was unknown.
    pub no_neighbour: u64,
    /// Times a full table (addresses or neighbours) started over.
    pub table_resets: u64,
}

#[derive(Debug)]
enum AddrState {
    Ours,
    Taken {
        until_us: i64,
    },
    Probing {
        next_us: i64,
        sent: u32,
        waiting: Vec<(Mac, Ipv4Addr)>,
    },
}

/// What a frame turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// An IP packet for the engine, at this range of the frame.
    Ip(std::ops::Range<usize>),
    /// ARP (answered, if it asked for us, into `out`).
    Arp,
    /// Not for us.
    Ignored,
}

/// The LAN layer of one interface.
#[derive(Debug)]
pub struct Lan {
    mac: Mac,
    cfg: ArpConfig,
    addrs: HashMap<Ipv4Addr, AddrState>,
    /// Addresses being probed, so timers need not scan `addrs`.
    probing: Vec<Ipv4Addr>,
    neighbours: HashMap<Ipv4Addr, Mac>,
    stats: LanStats,
}

impl Lan {
    /// The LAN layer for an interface whose address is `mac`.
    pub fn new(mac: Mac, cfg: ArpConfig) -> Lan {
        Lan {
            mac,
            cfg,
            addrs: HashMap::new(),
            probing: Vec::new(),
            neighbours: HashMap::new(),
            stats: LanStats::default(),
        }
    }

    /// The interface's MAC address, which our frames come from.
    pub fn mac(&self) -> Mac {
        self.mac
    }

    /// What has been counted.
    pub fn stats(&self) -> &LanStats {
        &self.stats
    }

    /// Handles one received frame at `now_us`. `claims` says whether an address is in the
    /// claimed space. ARP answers and probes are appended to `out`, one frame each.
    pub fn frame(
        &mut self,
        now_us: i64,
        bytes: &[u8],
        claims: impl Fn(Ipv4Addr) -> bool,
        out: &mut Vec<Vec<u8>>,
    ) -> Frame {
        self.stats.frames += 1;
        let Some(f) = EthernetFrame::parse(bytes) else {
            self.stats.ignored += 1;
            return Frame::Ignored;
        };
        match f.ether_type() {
            ether_type::ARP => match ArpPacket::parse(f.payload()) {
                Some(a) => {
                    self.arp(now_us, &a, &claims, out);
                    Frame::Arp
                }
                None => {
                    self.stats.ignored += 1;
                    Frame::Ignored
                }
            },
            ether_type::IPV4 | ether_type::IPV6 if f.dst() == self.mac => {
                let ip = f.payload();
                // The sender's MAC, for our replies to it.
                if ip.len() >= 20 && ip[0] >> 4 == 4 && !f.src().is_group() {
                    let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
                    self.learn(src, f.src());
                }
                self.stats.ip += 1;
                Frame::Ip(ethernet::HEADER_LEN..bytes.len())
            }
            _ => {
                self.stats.ignored += 1;
                Frame::Ignored
            }
        }
    }

    fn learn(&mut self, ip: Ipv4Addr, mac: Mac) {
        if self.neighbours.get(&ip) == Some(&mac) {
            return;
        }
        if self.neighbours.len() >= self.cfg.max_neighbours && !self.neighbours.contains_key(&ip) {
            self.neighbours.clear();
            self.stats.table_resets += 1;
        }
        self.neighbours.insert(ip, mac);
    }

    fn arp(
        &mut self,
        now_us: i64,
        a: &ArpPacket<'_>,
        claims: &impl Fn(Ipv4Addr) -> bool,
        out: &mut Vec<Vec<u8>>,
    ) {
        // Our own frames, and senders no host can be (a group address): not answered.
        if a.sender_mac() == self.mac || a.sender_mac().is_group() {
            return;
        }
        // Another host speaking for a claimed address (an answer to our probe, a request
        // from it, a gratuitous announcement): it is not ours to answer for.
        let sender = a.sender_ip();
        if !sender.is_unspecified() && claims(sender) {
            self.learn(sender, a.sender_mac());
            if self.cfg.policy == ArpPolicy::Probe {
                let was = self.addrs.get(&sender);
                if !matches!(was, Some(AddrState::Taken { .. })) {
                    self.stats.conflicts += 1;
                }
                self.set(
                    sender,
                    AddrState::Taken {
                        until_us: now_us.saturating_add(self.cfg.taken_us),
                    },
                );
                self.probing.retain(|&p| p != sender);
            } else {
                self.stats.conflicts += 1;
            }
        }
        let target = a.target_ip();
        if a.op() != Op::Request || !claims(target) || target == sender {
            return;
        }
        self.stats.arp_requests += 1;
        if !sender.is_unspecified() {
            self.learn(sender, a.sender_mac());
        }
        let requester = (a.sender_mac(), sender);
        if self.cfg.policy == ArpPolicy::All {
            self.answer(target, requester, out);
            return;
        }
        match self.addrs.get_mut(&target) {
            Some(AddrState::Ours) => self.answer(target, requester, out),
            Some(AddrState::Taken { until_us }) if now_us < *until_us => {}
            Some(AddrState::Probing { waiting, .. }) => {
                if waiting.len() < self.cfg.max_waiting && !waiting.contains(&requester) {
                    waiting.push(requester);
                }
            }
            _ => {
                self.probe(target, out);
                self.set(
                    target,
                    AddrState::Probing {
                        next_us: now_us.saturating_add(self.cfg.probe_interval_us),
                        sent: 1,
                        waiting: vec![requester],
                    },
                );
                self.probing.push(target);
            }
        }
    }

    fn set(&mut self, ip: Ipv4Addr, state: AddrState) {
        if self.addrs.len() >= self.cfg.max_addresses && !self.addrs.contains_key(&ip) {
            self.addrs.clear();
            self.probing.clear();
            self.stats.table_resets += 1;
        }
        self.addrs.insert(ip, state);
    }

    /// "`target` is at our MAC", to one requester.
    fn answer(&mut self, target: Ipv4Addr, (mac, ip): (Mac, Ipv4Addr), out: &mut Vec<Vec<u8>>) {
        let body = arp::emit(Op::Reply, self.mac, target, mac, ip);
        let mut frame = Vec::with_capacity(ethernet::MIN_FRAME_LEN);
        ethernet::emit(&mut frame, mac, self.mac, ether_type::ARP, &body);
        out.push(frame);
        self.stats.arp_replies += 1;
    }

    /// "Who has `target`?", from 0.0.0.0 (RFC 5227), to everyone.
    fn probe(&mut self, target: Ipv4Addr, out: &mut Vec<Vec<u8>>) {
        let body = arp::emit(
            Op::Request,
            self.mac,
            Ipv4Addr::UNSPECIFIED,
            Mac::ZERO,
            target,
        );
        let mut frame = Vec::with_capacity(ethernet::MIN_FRAME_LEN);
        ethernet::emit(&mut frame, Mac::BROADCAST, self.mac, ether_type::ARP, &body);
        out.push(frame);
        self.stats.arp_probes += 1;
    }

    /// Runs the probe timers: sends the next probe, or takes an address nobody answered for
    /// and answers the requests that waited for it.
    pub fn poll(&mut self, now_us: i64, out: &mut Vec<Vec<u8>>) {
        let mut i = 0;
        while i < self.probing.len() {
            let ip = self.probing[i];
            let Some(AddrState::Probing {
                next_us,
                sent,
                waiting,
            }) = self.addrs.get_mut(&ip)
            else {
                self.probing.swap_remove(i);
                continue;
            };
            if now_us < *next_us {
                i += 1;
                continue;
            }
            if *sent < self.cfg.probes {
                *sent += 1;
                *next_us = now_us.saturating_add(self.cfg.probe_interval_us);
                self.probe(ip, out);
                i += 1;
                continue;
            }
            let waiting = std::mem::take(waiting);
            self.addrs.insert(ip, AddrState::Ours);
            self.probing.swap_remove(i);
            self.stats.claimed += 1;
            for r in waiting {
                self.answer(ip, r, out);
            }
        }
    }

    /// Frames an IP reply for the wire, to its destination's last known MAC. `false` (and
    /// counted) when that MAC is not known.
    pub fn wrap(&mut self, ip: &[u8], out: &mut Vec<u8>) -> bool {
        let dst = match ip {
            [v, ..] if v >> 4 == 4 && ip.len() >= 20 => {
                Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19])
            }
            _ => {
                self.stats.no_neighbour += 1;
                return false;
            }
        };
        let Some(&mac) = self.neighbours.get(&dst) else {
            self.stats.no_neighbour += 1;
            return false;
        };
        out.clear();
        ethernet::emit(out, mac, self.mac, ether_type::IPV4, ip);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const US: Mac = Mac([2, 0, 0, 0, 0, 0x53]);
    const CLIENT: Mac = Mac([2, 0, 0, 0, 0, 1]);
    const OTHER: Mac = Mac([2, 0, 0, 0, 0, 2]);

    fn ip(last: u8) -> Ipv4Addr {
        Ipv4Addr::new(198, 51, 100, last)
    }

    fn claims(a: Ipv4Addr) -> bool {
        a.octets()[..3] == [198, 51, 100] && a.octets()[3] >= 10
    }

    fn arp_frame(op: Op, sha: Mac, spa: Ipv4Addr, tha: Mac, tpa: Ipv4Addr) -> Vec<u8> {
        let dst = if op == Op::Request {
            Mac::BROADCAST
        } else {
            tha
        };
        let mut f = vec![];
        ethernet::emit(
            &mut f,
            dst,
            sha,
            ether_type::ARP,
            &arp::emit(op, sha, spa, tha, tpa),
        );
        f
    }

    fn who_has(target: u8) -> Vec<u8> {
        arp_frame(Op::Request, CLIENT, ip(1), Mac::ZERO, ip(target))
    }

    /// The ARP packets in `out`: (op, sender MAC, sender IP, target IP, Ethernet dst).
    fn arps(out: &[Vec<u8>]) -> Vec<(Op, Mac, Ipv4Addr, Ipv4Addr, Mac)> {
        out.iter()
            .map(|f| {
                let e = EthernetFrame::parse(f).unwrap();
                assert_eq!(e.src(), US);
                assert_eq!(f.len(), ethernet::MIN_FRAME_LEN);
                let a = ArpPacket::parse(e.payload()).unwrap();
                (
                    a.op(),
                    a.sender_mac(),
                    a.sender_ip(),
                    a.target_ip(),
                    e.dst(),
                )
            })
            .collect()
    }

    #[test]
    fn policy_all_answers_at_once_and_only_for_claimed_addresses() {
        let mut lan = Lan::new(
            US,
            ArpConfig {
                policy: ArpPolicy::All,
                ..ArpConfig::default()
            },
        );
        let mut out = vec![];
        assert_eq!(lan.frame(0, &who_has(10), claims, &mut out), Frame::Arp);
        assert_eq!(
            arps(&out),
            [(Op::Reply, US, ip(10), ip(1), CLIENT)],
            "a reply to the requester saying 198.51.100.10 is at our MAC"
        );
        out.clear();
        lan.frame(0, &who_has(5), claims, &mut out);
        assert!(out.is_empty(), "198.51.100.5 is not claimed");
        assert_eq!(lan.stats().arp_probes, 0);
    }

    #[test]
    fn probe_policy_takes_an_address_nobody_answers_for() {
        let mut lan = Lan::new(US, ArpConfig::default());
        let mut out = vec![];
        lan.frame(0, &who_has(10), claims, &mut out);
        assert_eq!(
            arps(&out),
            [(
                Op::Request,
                US,
                Ipv4Addr::UNSPECIFIED,
                ip(10),
                Mac::BROADCAST
            )],
            "an RFC 5227 probe, not an answer"
        );
        out.clear();
        // The client asks again while we probe: remembered once.
        lan.frame(100_000, &who_has(10), claims, &mut out);
        lan.poll(100_000, &mut out);
        assert!(out.is_empty());
        lan.poll(200_000, &mut out);
        assert_eq!(arps(&out).len(), 1, "the second probe");
        assert_eq!(arps(&out)[0].0, Op::Request);
        out.clear();
        lan.poll(399_999, &mut out);
        assert!(out.is_empty());
        lan.poll(400_000, &mut out);
        assert_eq!(
            arps(&out),
            [(Op::Reply, US, ip(10), ip(1), CLIENT)],
            "taken: the waiting request is answered, once"
        );
        assert_eq!(lan.stats().claimed, 1);
        out.clear();
        // From now on, at once.
        lan.frame(500_000, &who_has(10), claims, &mut out);
        assert_eq!(arps(&out), [(Op::Reply, US, ip(10), ip(1), CLIENT)]);
    }

    #[test]
    fn probe_policy_leaves_alone_an_address_another_host_answers_for() {
        let mut lan = Lan::new(US, ArpConfig::default());
        let mut out = vec![];
        lan.frame(0, &who_has(20), claims, &mut out);
        assert_eq!(out.len(), 1);
        out.clear();
        // The owner answers our probe (to 0.0.0.0, as Linux does).
        let answer = arp_frame(Op::Reply, OTHER, ip(20), US, Ipv4Addr::UNSPECIFIED);
        lan.frame(1_000, &answer, claims, &mut out);
        for t in [200_000, 400_000, 1_000_000] {
            lan.poll(t, &mut out);
        }
        lan.frame(2_000_000, &who_has(20), claims, &mut out);
        assert!(out.is_empty(), "{:?}", arps(&out));
        assert_eq!(lan.stats().conflicts, 1);
        assert_eq!(lan.stats().claimed, 0);
        // After `taken_us` it is probed again.
        lan.frame(300_001_000, &who_has(20), claims, &mut out);
        assert_eq!(arps(&out)[0].0, Op::Request);
    }

    #[test]
    fn an_address_we_took_is_given_up_when_its_owner_appears() {
        let mut lan = Lan::new(US, ArpConfig::default());
        let mut out = vec![];
        lan.frame(0, &who_has(30), claims, &mut out);
        lan.poll(1_000_000, &mut out);
        lan.poll(2_000_000, &mut out);
        assert_eq!(lan.stats().claimed, 1);
        out.clear();
        // A host comes up on .30 and announces itself.
        let announce = arp_frame(Op::Request, OTHER, ip(30), Mac::ZERO, ip(30));
        lan.frame(3_000_000, &announce, claims, &mut out);
        lan.frame(3_100_000, &who_has(30), claims, &mut out);
        assert!(out.is_empty());
        assert_eq!(lan.stats().conflicts, 1);
    }

    #[test]
    fn ip_frames_to_our_mac_go_to_the_engine_and_replies_go_back() {
        let mut lan = Lan::new(US, ArpConfig::default());
        let mut packet = vec![0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 6, 0, 0];
        packet.extend(ip(1).octets());
        packet.extend(ip(10).octets());
        let mut frame = vec![];
        ethernet::emit(&mut frame, US, CLIENT, ether_type::IPV4, &packet);
        let mut out = vec![];
        let range = match lan.frame(0, &frame, claims, &mut out) {
            Frame::Ip(r) => r,
            other => panic!("{other:?}"),
        };
        assert_eq!(&frame[range][..20], &packet[..]);
        // The same packet to another MAC is not ours.
        let mut elsewhere = vec![];
        ethernet::emit(&mut elsewhere, OTHER, CLIENT, ether_type::IPV4, &packet);
        assert_eq!(lan.frame(0, &elsewhere, claims, &mut out), Frame::Ignored);
        // A reply to 198.51.100.1 goes to the MAC it came from.
        let mut reply = packet.clone();
        reply[12..16].copy_from_slice(&ip(10).octets());
        reply[16..20].copy_from_slice(&ip(1).octets());
        let mut wire = vec![];
        assert!(lan.wrap(&reply, &mut wire));
        let e = EthernetFrame::parse(&wire).unwrap();
        assert_eq!((e.dst(), e.src(), e.ether_type()), (CLIENT, US, 0x0800));
        // To someone never heard from: not sent, counted.
        reply[16..20].copy_from_slice(&ip(2).octets());
        assert!(!lan.wrap(&reply, &mut wire));
        assert_eq!(lan.stats().no_neighbour, 1);
        assert_eq!(lan.stats().ignored, 1);
        assert_eq!(lan.stats().ip, 1);
    }

    #[test]
    fn tables_stay_bounded() {
        let mut lan = Lan::new(
            US,
            ArpConfig {
                max_addresses: 4,
                max_neighbours: 4,
                ..ArpConfig::default()
            },
        );
        let mut out = vec![];
        for last in 10..=250 {
            let f = arp_frame(
                Op::Request,
                Mac([2, 0, 0, 0, 1, last]),
                Ipv4Addr::new(10, 0, 0, last),
                Mac::ZERO,
                ip(last),
            );
            lan.frame(i64::from(last), &f, claims, &mut out);
            lan.poll(i64::from(last), &mut out);
            assert!(lan.addrs.len() <= 4 && lan.neighbours.len() <= 4);
            assert!(lan.probing.len() <= 4);
        }
        assert!(lan.stats().table_resets > 0);
    }
}
