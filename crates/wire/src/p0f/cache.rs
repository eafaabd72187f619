//! The OS last seen from each source, as Honeyd keeps it: a sensor fingerprints a source's
//! SYN and labels that source's later packets (UDP, ICMP, stray TCP) with the same OS for a
//! while.
//!
//! [`SourceCache`] holds, per source address, the label of its last fingerprinted SYN and
//! when it was seen; an entry older than the time to live reads as absent. The cache is
//! bounded: when full, the least recently stored entries go first (a tenth at once, so a
//! flood of new sources costs amortised constant time per packet).

use std::net::IpAddr;

use super::bounded::Bounded;

/// Honeyd's time to live for a source's OS: five minutes, in microseconds.
pub const DEFAULT_TTL_US: i64 = 5 * 60 * 1_000_000;

/// Sources remembered by default.
pub const DEFAULT_CAPACITY: usize = 65_536;

/// The OS label last seen per source, bounded in size and age.
#[derive(Debug)]
pub struct SourceCache {
    /// Source → index of its label in the database the caller matches with.
    seen: Bounded<IpAddr, usize>,
    ttl_us: i64,
}

impl Default for SourceCache {
    fn default() -> Self {
        SourceCache::new(DEFAULT_CAPACITY, DEFAULT_TTL_US)
    }
}

impl SourceCache {
    /// A cache for at most `capacity` sources (at least 1), each kept `ttl_us`.
    pub fn new(capacity: usize, ttl_us: i64) -> Self {
        SourceCache {
            seen: Bounded::new(capacity),
            ttl_us,
        }
    }

    /// Sources held (some may have expired but not yet been dropped).
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.seen.len() == 0
    }

    /// Entries dropped because the cache was full.
    pub fn evicted(&self) -> u64 {
        self.seen.evicted
    }

    /// Records that `src`'s SYN at `now_us` matched the label with index `label` (an index
    /// into [`super::Database::labels`]); expired entries are dropped on the way.
    pub fn store(&mut self, src: IpAddr, label: usize, now_us: i64) {
        self.seen.expire_before(now_us.saturating_sub(self.ttl_us));
        self.seen.insert(src, label, now_us);
    }

    /// The label index last stored for `src`, if it is no older than the time to live.
    pub fn get(&self, src: IpAddr, now_us: i64) -> Option<usize> {
        self.seen
            .get(&src)
            .filter(|(_, at)| now_us - at <= self.ttl_us)
            .map(|(label, _)| *label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u32) -> IpAddr {
        IpAddr::from(n.to_be_bytes())
    }

    #[test]
    fn remembers_for_five_minutes() {
        let mut c = SourceCache::default();
        c.store(ip(1), 7, 0);
        assert_eq!(c.get(ip(1), DEFAULT_TTL_US), Some(7));
        assert_eq!(c.get(ip(1), DEFAULT_TTL_US + 1), None);
        assert_eq!(c.get(ip(2), 0), None);
        // A later SYN replaces the label and restarts the clock.
        c.store(ip(1), 9, DEFAULT_TTL_US);
        assert_eq!(c.get(ip(1), 2 * DEFAULT_TTL_US), Some(9));
    }

    #[test]
    fn stays_bounded_under_a_flood() {
        let mut c = SourceCache::new(100, DEFAULT_TTL_US);
        for n in 0..10_000 {
            c.store(ip(n), 1, n as i64);
        }
        assert!(c.len() <= 100);
        assert!(c.evicted() >= 9_900);
        // The newest survive.
        assert_eq!(c.get(ip(9_999), 10_000), Some(1));
        assert_eq!(c.get(ip(0), 10_000), None);
    }
}
