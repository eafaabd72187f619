//! A map bounded in size, forgetting its oldest entries first: the state the fingerprinter
//! keeps per connection and per source, both keyed by addresses an attacker chooses.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

use ahash::RandomState;

/// An entry and when it was stored.
#[derive(Debug, Clone, Copy)]
struct Slot<V> {
    value: V,
    at_us: i64,
    serial: u64,
}

/// Entries in the order they were stored. When full, the oldest tenth goes at once (p0f's
/// rule for its connection table), so a flood of new keys costs amortised constant time.
#[derive(Debug)]
pub(crate) struct Bounded<K, V> {
    /// A randomly keyed hash: chosen keys cannot flood it.
    map: HashMap<K, Slot<V>, RandomState>,
    /// Keys in store order with their store's serial; an entry whose key was stored again
    /// since (or removed) is stale and skipped.
    order: VecDeque<(K, u64, i64)>,
    serial: u64,
    capacity: usize,
    /// Entries dropped because the map was full.
    pub evicted: u64,
}

impl<K: Hash + Eq + Copy, V> Bounded<K, V> {
    /// A map of at most `capacity` entries (at least 1).
    pub fn new(capacity: usize) -> Self {
        Bounded {
            map: HashMap::default(),
            order: VecDeque::new(),
            serial: 0,
            capacity: capacity.max(1),
            evicted: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// The value for `key` and when it was stored.
    pub fn get(&self, key: &K) -> Option<(&V, i64)> {
        self.map.get(key).map(|s| (&s.value, s.at_us))
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.map.get_mut(key).map(|s| &mut s.value)
    }

    pub fn remove(&mut self, key: &K) {
        self.map.remove(key);
    }

    /// Stores `value` for `key` at `now_us`, as the newest entry.
    pub fn insert(&mut self, key: K, value: V, now_us: i64) {
        self.serial += 1;
        let serial = self.serial;
        let slot = Slot {
            value,
            at_us: now_us,
            serial,
        };
        self.order.push_back((key, serial, now_us));
        // Insert first (one hash), then make room if the key was new and the map is over:
        // the new entry is the newest, so it is not among those forgotten.
        if self.map.insert(key, slot).is_none() && self.map.len() > self.capacity {
            for _ in 0..1 + (self.map.len() - 1) / 10 {
                self.evict_oldest();
            }
        }
        // Keys stored again and again leave stale entries behind; keep them bounded.
        if self.order.len() > 2 * self.capacity {
            let map = &self.map;
            self.order
                .retain(|(k, n, _)| map.get(k).is_some_and(|s| s.serial == *n));
        }
    }

    /// Drops the entries stored before `cutoff_us` (entries are stored in time order).
    pub fn expire_before(&mut self, cutoff_us: i64) {
        while let Some(&(key, serial, at)) = self.order.front() {
            if at >= cutoff_us {
                break;
            }
            self.order.pop_front();
            if self.map.get(&key).is_some_and(|s| s.serial == serial) {
                self.map.remove(&key);
            }
        }
    }

    fn evict_oldest(&mut self) {
        while let Some((key, serial, _)) = self.order.pop_front() {
            if self.map.get(&key).is_some_and(|s| s.serial == serial) {
                self.map.remove(&key);
                self.evicted += 1;
                return;
            }
        }
    }

    #[cfg(test)]
    pub fn queued(&self) -> usize {
        self.order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_maps_forget_the_oldest_tenth() {
        let mut m = Bounded::new(20);
        for k in 0..20u32 {
            m.insert(k, k, k as i64);
        }
        m.insert(99, 99, 99);
        // 1 + 20/10 = 3 oldest gone.
        assert_eq!(m.evicted, 3);
        assert!(m.get(&0).is_none() && m.get(&2).is_none());
        assert_eq!(m.get(&3).map(|v| *v.0), Some(3));
        assert_eq!(m.len(), 18);
    }

    #[test]
    fn restored_and_removed_keys_leave_no_trace() {
        let mut m = Bounded::new(4);
        for t in 0..1000 {
            m.insert(1u8, t, t as i64);
        }
        assert_eq!(m.len(), 1);
        assert!(m.queued() <= 8);
        m.remove(&1);
        m.expire_before(i64::MAX);
        assert_eq!((m.len(), m.queued()), (0, 0));
        // Expiry drops only what is older than the cutoff.
        m.insert(1, 0, 10);
        m.insert(2, 0, 20);
        m.expire_before(15);
        assert!(m.get(&1).is_none() && m.get(&2).is_some());
    }
}
