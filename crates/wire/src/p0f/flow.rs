//! Which handshake packets p0f fingerprints, and what a SYN+ACK needs from its SYN.
//!
//! p0f fingerprints every new SYN (a retransmission with the same sequence number is
//! skipped) and only the first SYN+ACK that answers a SYN it saw within 30 seconds; the
//! SYN's MSS is one of the divisors it tries on the SYN+ACK's window. [`Handshakes`] keeps
//! that state for a bounded number of connections: when full, the oldest is forgotten.

use std::net::IpAddr;

use super::bounded::Bounded;
use super::packet::{Direction, PacketSig};

/// How long a SYN waits for its SYN+ACK, in microseconds (p0f's `CONN_MAX_AGE`).
pub const MAX_AGE_US: i64 = 30_000_000;

/// Connections remembered by default: p0f's own default (`-m 1000,…`), so that on a busy
/// capture the same SYN+ACKs go unpaired in both tools. A telescope's SYNs are rarely
/// answered; a table this size also stays in cache.
pub const DEFAULT_CAPACITY: usize = 1000;

/// (client, client port, server, server port).
type Key = (IpAddr, u16, IpAddr, u16);

#[derive(Debug, Clone, Copy)]
struct Pending {
    seq: u32,
    syn_mss: u16,
    sendsyn: bool,
    answered: bool,
}

/// What a fingerprinted packet's connection says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pairing {
    /// For a SYN+ACK, the MSS of its SYN (0 for a SYN).
    pub syn_mss: u16,
    /// The connection is a probe of p0f's own `p0f-sendsyn` tool (window 1337, MSS 1331),
    /// which p0f reports as such.
    pub sendsyn: bool,
}

/// p0f's `SPECIAL_WIN` and `SPECIAL_MSS`: the SYN its `p0f-sendsyn` tool sends.
fn is_sendsyn(p: &PacketSig) -> bool {
    p.direction == Direction::Request && p.win == 1337 && p.mss == 1331
}

/// Handshakes in progress: connections whose SYN was seen, by (client, port, server, port).
#[derive(Debug)]
pub struct Handshakes {
    pending: Bounded<Key, Pending>,
}

impl Default for Handshakes {
    fn default() -> Self {
        Handshakes::with_capacity(DEFAULT_CAPACITY)
    }
}

impl Handshakes {
    /// A table for at most `capacity` connections (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        Handshakes {
            pending: Bounded::new(capacity),
        }
    }

    /// Connections waiting for a SYN+ACK.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether none is waiting.
    pub fn is_empty(&self) -> bool {
        self.pending.len() == 0
    }

    /// Connections forgotten because the table was full.
    pub fn evicted(&self) -> u64 {
        self.pending.evicted
    }

    /// Whether to fingerprint `p`, seen at `now_us`, and what its SYN said. `None`: p0f
    /// would not fingerprint it (a retransmitted SYN, a SYN+ACK to no SYN seen or already
    /// answered).
    pub fn admit(&mut self, p: &PacketSig, now_us: i64) -> Option<Pairing> {
        self.pending
            .expire_before(now_us.saturating_sub(MAX_AGE_US));
        match p.direction {
            Direction::Request => {
                let key = (p.src, p.sport, p.dst, p.dport);
                if self.pending.get(&key).is_some_and(|(f, _)| f.seq == p.seq) {
                    return None;
                }
                let sendsyn = is_sendsyn(p);
                let pending = Pending {
                    seq: p.seq,
                    syn_mss: p.mss,
                    sendsyn,
                    answered: false,
                };
                self.pending.insert(key, pending, now_us);
                Some(Pairing {
                    syn_mss: 0,
                    sendsyn,
                })
            }
            Direction::Response => {
                let key = (p.dst, p.dport, p.src, p.sport);
                let flow = self.pending.get_mut(&key)?;
                if flow.answered {
                    return None;
                }
                flow.answered = true;
                Some(Pairing {
                    syn_mss: flow.syn_mss,
                    sendsyn: flow.sendsyn,
                })
            }
        }
    }

    /// Forgets the connection a SYN opened (p0f drops a connection whose SYN matched an
    /// application signature, so its SYN+ACK is not fingerprinted).
    pub fn forget(&mut self, syn: &PacketSig) {
        self.pending
            .remove(&(syn.src, syn.sport, syn.dst, syn.dport));
    }
}

#[cfg(test)]
mod tests {
    use super::super::packet::tests::Syn;
    use super::*;

    fn synack(syn: &PacketSig) -> PacketSig {
        let mut p = *syn;
        p.direction = Direction::Response;
        std::mem::swap(&mut p.src, &mut p.dst);
        std::mem::swap(&mut p.sport, &mut p.dport);
        p.mss = 1400;
        p
    }

    #[test]
    fn syn_then_first_synack() {
        let mut h = Handshakes::default();
        let syn = Syn::default().sig();
        let sa = synack(&syn);
        assert_eq!(h.admit(&sa, 0), None, "stray SYN+ACK");
        assert_eq!(h.admit(&syn, 0).map(|p| p.syn_mss), Some(0));
        assert_eq!(h.admit(&syn, 1), None, "retransmission");
        assert_eq!(h.admit(&sa, 2).map(|p| p.syn_mss), Some(1460));
        assert_eq!(h.admit(&sa, 3), None, "second SYN+ACK");
        // A new SYN (new sequence number) is fingerprinted again and may be answered again.
        let again = Syn {
            seq: 7,
            ..Syn::default()
        }
        .sig();
        assert_eq!(h.admit(&again, 4).map(|p| p.syn_mss), Some(0));
        assert_eq!(h.admit(&sa, 5).map(|p| p.syn_mss), Some(1460));
    }

    #[test]
    fn old_and_forgotten_syns_are_not_answered() {
        let mut h = Handshakes::default();
        let syn = Syn::default().sig();
        h.admit(&syn, 0);
        assert_eq!(h.admit(&synack(&syn), MAX_AGE_US + 1), None);
        assert!(h.is_empty());
        h.admit(&syn, 0);
        h.forget(&syn);
        assert_eq!(h.admit(&synack(&syn), 1), None);
    }

    #[test]
    fn repeated_syns_stay_bounded() {
        let mut h = Handshakes::with_capacity(4);
        for seq in 0..1000 {
            let syn = Syn {
                seq,
                ..Syn::default()
            }
            .sig();
            h.admit(&syn, 0);
        }
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn the_table_is_bounded() {
        let mut h = Handshakes::with_capacity(3);
        let syns: Vec<PacketSig> = (0..5u16)
            .map(|i| {
                let mut p = Syn::default().sig();
                p.sport = 1000 + i;
                p
            })
            .collect();
        for (t, s) in syns.iter().enumerate() {
            h.admit(s, t as i64);
        }
        // Full at 3: the oldest goes each time (a tenth of 3, plus one).
        assert_eq!(h.len(), 3);
        assert_eq!(h.evicted(), 2);
        assert_eq!(h.admit(&synack(&syns[0]), 10), None);
        assert_eq!(
            h.admit(&synack(&syns[4]), 10).map(|p| p.syn_mss),
            Some(1460)
        );
    }
}
