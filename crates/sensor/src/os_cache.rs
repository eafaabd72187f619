//! The OS last fingerprinted per source, for labelling that source's other packets, in a
//! fixed table: two-way set-associative, keyed by a hash the sensor's secret seeds.
//!
//! A telescope sees millions of sources that send one SYN each. A map with an eviction
//! queue pays a hash, an insert and queue upkeep for each of them, missing the cache at
//! every step; this table costs one hash and one cache line. When a set is full the older
//! entry goes, which is counted. The seed comes from the cookie key, so sources cannot aim
//! at one set, and a replay with the same key evicts the same entries.

use std::net::Ipv4Addr;

/// One remembered source: address, label index, when it was stored. `at_us == i64::MIN`
/// is an empty slot.
#[derive(Debug, Clone, Copy)]
struct Slot {
    ip: u32,
    label: u32,
    at_us: i64,
}

const EMPTY: Slot = Slot {
    ip: 0,
    label: 0,
    at_us: i64::MIN,
};

/// The OS label index per source, bounded in size and age.
#[derive(Debug)]
pub struct OsCache {
    sets: Vec<[Slot; 2]>,
    mask: usize,
    ttl_us: i64,
    hasher: ahash::RandomState,
    /// Live entries pushed out by a newer source in the same set.
    pub evicted: u64,
}

impl OsCache {
    /// A table for about `capacity` sources (rounded up to a power of two, at least 2),
    /// each kept `ttl_us`, hashed with `seed`.
    pub fn new(capacity: usize, ttl_us: i64, seed: [u64; 4]) -> OsCache {
        let sets = (capacity.max(2) / 2).next_power_of_two();
        OsCache {
            sets: vec![[EMPTY; 2]; sets],
            mask: sets - 1,
            ttl_us,
            hasher: ahash::RandomState::with_seeds(seed[0], seed[1], seed[2], seed[3]),
            evicted: 0,
        }
    }

    fn set(&self, ip: u32) -> usize {
        self.hasher.hash_one(ip) as usize & self.mask
    }

    fn live(&self, s: &Slot, now_us: i64) -> bool {
        s.at_us != i64::MIN && now_us.saturating_sub(s.at_us) <= self.ttl_us
    }

    /// Records that `src`'s SYN at `now_us` matched label `label`.
    pub fn store(&mut self, src: Ipv4Addr, label: usize, now_us: i64) {
        let ip = u32::from(src);
        let i = self.set(ip);
        let new = Slot {
            ip,
            label: label as u32,
            at_us: now_us,
        };
        let live = [
            self.live(&self.sets[i][0], now_us),
            self.live(&self.sets[i][1], now_us),
        ];
        let set = &mut self.sets[i];
        let way = if set[0].at_us != i64::MIN && set[0].ip == ip {
            0
        } else if set[1].at_us != i64::MIN && set[1].ip == ip {
            1
        } else {
            // A free or expired way, else the older one (counted).
            let way = match live {
                [false, _] => 0,
                [true, false] => 1,
                [true, true] => usize::from(set[1].at_us < set[0].at_us),
            };
            if live[way] {
                self.evicted += 1;
            }
            way
        };
        set[way] = new;
    }

    /// The label index last stored for `src`, if it is no older than the time to live.
    pub fn get(&self, src: Ipv4Addr, now_us: i64) -> Option<usize> {
        let ip = u32::from(src);
        self.sets[self.set(ip)]
            .iter()
            .find(|s| s.ip == ip && self.live(s, now_us))
            .map(|s| s.label as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u32) -> Ipv4Addr {
        Ipv4Addr::from(n)
    }

    #[test]
    fn remembers_for_the_time_to_live() {
        let mut c = OsCache::new(1024, 100, [1, 2, 3, 4]);
        c.store(ip(7), 3, 1_000);
        assert_eq!(c.get(ip(7), 1_050), Some(3));
        assert_eq!(c.get(ip(7), 1_100), Some(3));
        assert_eq!(c.get(ip(7), 1_101), None, "expired");
        assert_eq!(c.get(ip(8), 1_050), None);
        // A newer SYN replaces the label.
        c.store(ip(7), 5, 1_200);
        assert_eq!(c.get(ip(7), 1_250), Some(5));
        assert_eq!(c.evicted, 0);
    }

    #[test]
    fn a_full_set_drops_its_older_entry_and_counts_it() {
        // One set of two ways: every source lands in it.
        let mut c = OsCache::new(2, 1_000_000, [9, 9, 9, 9]);
        c.store(ip(1), 1, 10);
        c.store(ip(2), 2, 20);
        c.store(ip(3), 3, 30);
        assert_eq!(c.get(ip(1), 40), None, "the oldest went");
        assert_eq!((c.get(ip(2), 40), c.get(ip(3), 40)), (Some(2), Some(3)));
        assert_eq!(c.evicted, 1);
        // An expired entry is reused without counting.
        c.store(ip(4), 4, 2_000_000);
        assert_eq!(c.evicted, 1);
    }

    #[test]
    fn a_million_sources_stay_in_a_fixed_table() {
        let mut c = OsCache::new(65_536, i64::MAX, [5, 6, 7, 8]);
        for n in 0..1_000_000u32 {
            c.store(
                ip(n.wrapping_mul(2_654_435_761)),
                (n % 7) as usize,
                i64::from(n),
            );
        }
        assert_eq!(c.sets.len(), 32_768);
        // The latest sources are found, with their labels.
        for n in 999_000..1_000_000u32 {
            let found = c.get(ip(n.wrapping_mul(2_654_435_761)), 1_000_000);
            assert!(found.is_none() || found == Some((n % 7) as usize));
        }
        let recent = (999_900..1_000_000u32)
            .filter(|&n| {
                c.get(ip(n.wrapping_mul(2_654_435_761)), 1_000_000)
                    .is_some()
            })
            .count();
        assert!(recent > 95, "{recent} of the last 100 remembered");
        assert!(c.evicted > 900_000);
    }
}
