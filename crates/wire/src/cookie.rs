//! SYN cookies: the sequence number of our SYN+ACK encodes everything we need to accept
//! the handshake's final ACK, so a SYN costs no state (RFC 4987 section 3.6).
//!
//! Layout of the 32-bit cookie (as in Linux's, in spirit):
//!
//! | bits | meaning |
//! |---|---|
//! | 31–27 | time slot (`now / 64 s`) mod 32 |
//! | 26–24 | index of the client's MSS in [`MSS_TABLE`] (rounded down) |
//! | 23–0 | SipHash-1-3 of the key, the full slot, both addresses and ports, and the client's ISN |
//!
//! A cookie is accepted for [`MAX_AGE_SLOTS`] slots after the one it was made in (two to
//! three minutes), and forging one means guessing 24 bits of a keyed hash per attempt.

use std::hash::Hasher;
use std::net::IpAddr;

use siphasher::sip::SipHasher13;

/// Seconds per time slot.
pub const SLOT_SECS: u64 = 64;
/// Slots after its own in which a cookie is still accepted.
pub const MAX_AGE_SLOTS: u64 = 2;
/// MSS values a cookie can carry (the client's MSS is rounded down to one of them).
pub const MSS_TABLE: [u16; 8] = [216, 536, 1200, 1300, 1400, 1440, 1452, 1460];

/// The secret a sensor makes its cookies with; fresh random bytes at start-up.
#[derive(Clone)]
pub struct CookieKey([u8; 16]);

impl CookieKey {
    /// A key from 16 secret bytes (the caller reads them from the OS's random source).
    pub fn new(bytes: [u8; 16]) -> CookieKey {
        CookieKey(bytes)
    }
}

impl std::fmt::Debug for CookieKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CookieKey(..)")
    }
}

/// The connection a cookie belongs to, as the client sent its SYN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handshake {
    /// The client.
    pub client: IpAddr,
    /// Our (claimed) address.
    pub server: IpAddr,
    /// The client's port.
    pub client_port: u16,
    /// Our port.
    pub server_port: u16,
    /// The client's initial sequence number (the SYN's).
    pub client_isn: u32,
}

impl CookieKey {
    fn hasher(&self) -> SipHasher13 {
        let (k0, k1) = self.0.split_at(8);
        SipHasher13::new_with_keys(
            u64::from_le_bytes(k0.try_into().unwrap_or_default()),
            u64::from_le_bytes(k1.try_into().unwrap_or_default()),
        )
    }

    /// A keyed hash of `parts` for other secrets the sensor derives from its key (IP ID
    /// starting points), so one key makes a run reproducible.
    pub fn derive(&self, parts: &[&[u8]]) -> u64 {
        let mut s = self.hasher();
        for p in parts {
            s.write(p);
        }
        s.finish()
    }

    fn hash(&self, slot: u64, h: &Handshake) -> u32 {
        let mut s = self.hasher();
        s.write_u64(slot);
        for ip in [h.client, h.server] {
            match ip {
                IpAddr::V4(a) => s.write(&a.octets()),
                IpAddr::V6(a) => s.write(&a.octets()),
            }
        }
        s.write_u16(h.client_port);
        s.write_u16(h.server_port);
        s.write_u32(h.client_isn);
        (s.finish() & 0x00ff_ffff) as u32
    }

    /// The sequence number of our SYN+ACK for `h` at `now_secs`, carrying the client's MSS.
    pub fn make(&self, now_secs: u64, h: &Handshake, client_mss: u16) -> u32 {
        let slot = now_secs / SLOT_SECS;
        let mss_index = MSS_TABLE
            .iter()
            .rposition(|&m| m <= client_mss)
            .unwrap_or(0) as u32;
        ((slot as u32 & 0x1f) << 27) | (mss_index << 24) | self.hash(slot, h)
    }

    /// Checks the acknowledgment of a handshake's final ACK (`ack` = cookie + 1; `h`'s
    /// ISN = the ACK's sequence number − 1). Returns the MSS the cookie carried.
    pub fn check(&self, now_secs: u64, h: &Handshake, ack: u32) -> Option<u16> {
        let cookie = ack.wrapping_sub(1);
        let now_slot = now_secs / SLOT_SECS;
        let age = (now_slot as u32).wrapping_sub(cookie >> 27) & 0x1f;
        if u64::from(age) > MAX_AGE_SLOTS {
            return None;
        }
        let slot = now_slot.checked_sub(u64::from(age))?;
        (self.hash(slot, h) == cookie & 0x00ff_ffff)
            .then(|| MSS_TABLE[((cookie >> 24) & 7) as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hs() -> Handshake {
        Handshake {
            client: "203.0.113.9".parse().unwrap(),
            server: "198.51.100.7".parse().unwrap(),
            client_port: 40000,
            server_port: 23,
            client_isn: 0xdead_beef,
        }
    }

    #[test]
    fn a_cookie_is_accepted_for_its_age_and_handshake_only() {
        let key = CookieKey::new(*b"0123456789abcdef");
        let t = 1_700_000_000;
        let c = key.make(t, &hs(), 1460);
        assert_eq!(key.check(t, &hs(), c.wrapping_add(1)), Some(1460));
        assert_eq!(key.check(t + 120, &hs(), c.wrapping_add(1)), Some(1460));
        assert_eq!(key.check(t + 64 * 4, &hs(), c.wrapping_add(1)), None);
        assert_eq!(key.check(t, &hs(), c), None);
        let other = Handshake {
            client_port: 40001,
            ..hs()
        };
        assert_eq!(key.check(t, &other, c.wrapping_add(1)), None);
        let key2 = CookieKey::new(*b"fedcba9876543210");
        assert_eq!(key2.check(t, &hs(), c.wrapping_add(1)), None);
    }

    #[test]
    fn the_mss_is_rounded_down_to_the_table() {
        let key = CookieKey::new([7; 16]);
        for (mss, want) in [
            (1460, 1460),
            (1459, 1452),
            (65495, 1460),
            (100, 216),
            (536, 536),
        ] {
            let c = key.make(0, &hs(), mss);
            assert_eq!(key.check(0, &hs(), c.wrapping_add(1)), Some(want), "{mss}");
        }
    }
}
