//! Who gets in: the login policy, sans-IO (the caller passes the time).
//!
//! * [`Policy::AcceptAll`]: every pair.
//! * [`Policy::Database`]: rules in Cowrie's `userdb.txt` form, `user:x:password`, first
//!   match wins: `*` matches anything, `!password` denies it, and a pair no rule matches is
//!   refused.
//! * [`Policy::RejectThenAccept`]: the first `n` tries from a source address fail, the next
//!   one gets in, whatever the pair: bots that give up after one refusal are not the ones
//!   worth watching.
//!
//! Whatever the policy, a pair that got in is remembered for a while
//! ([`Auth::remember_us`]) and let in again from any address: Mirai's scanner and its
//! loader are different hosts, and the loader comes back with the pair the scanner found.
//! Both tables are bounded; when full they start over, which only makes a bot try again.

use std::collections::HashMap;
use std::net::IpAddr;

/// One `userdb.txt` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The user name, or `*`.
    pub user: String,
    /// The password, or `*`.
    pub password: String,
    /// False for a `!password` rule.
    pub allow: bool,
}

/// How logins are decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Policy {
    /// Every pair gets in.
    AcceptAll,
    /// Rules, first match wins; no match is a refusal.
    Database(Vec<Rule>),
    /// The first `n` tries from each source fail; the next gets in.
    RejectThenAccept(u32),
}

impl Policy {
    /// Reads Cowrie's `userdb.txt` form: one `user:x:password` per line, `#` comments.
    /// A line that does not parse is an error naming it.
    pub fn database(text: &str) -> Result<Policy, String> {
        let mut rules = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.splitn(3, ':');
            let (Some(user), Some(_), Some(password)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(format!(
                    "line {}: {line:?} should look like user:x:password (* for any, !password to deny)",
                    i + 1
                ));
            };
            let (allow, password) = match password.strip_prefix('!') {
                Some(p) => (false, p),
                None => (true, password),
            };
            rules.push(Rule {
                user: user.to_string(),
                password: password.to_string(),
                allow,
            });
        }
        Ok(Policy::Database(rules))
    }
}

/// What one try got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// In, by the policy.
    Accepted,
    /// In, because the pair got in before (perhaps from another address).
    Remembered,
    /// Refused.
    Rejected,
}

/// Pairs remembered, and sources counted, at most.
const MAX_ENTRIES: usize = 65_536;

/// The login decisions of one sensor (shared by its sessions).
#[derive(Debug, Clone)]
pub struct Auth {
    policy: Policy,
    /// How long a pair that got in is let in again, in microseconds.
    pub remember_us: i64,
    /// Pairs that got in, by a keyed 128-bit digest of the pair: a table entry costs the
    /// same whatever a client typed.
    remembered: HashMap<u128, i64>,
    tries: HashMap<IpAddr, u32>,
    keys: std::collections::hash_map::RandomState,
}

impl Auth {
    /// Decisions by `policy`, remembering pairs that got in for `remember_us`.
    pub fn new(policy: Policy, remember_us: i64) -> Auth {
        Auth {
            policy,
            remember_us,
            remembered: HashMap::new(),
            tries: HashMap::new(),
            keys: std::collections::hash_map::RandomState::new(),
        }
    }

    /// A pair's digest: two keyed hashes, so that telling two pairs apart does not rest
    /// on 64 bits.
    fn digest(&self, user: &[u8], password: &[u8]) -> u128 {
        use std::hash::{BuildHasher, Hash, Hasher};
        let half = |salt: u8| {
            let mut h = self.keys.build_hasher();
            salt.hash(&mut h);
            user.hash(&mut h);
            password.hash(&mut h);
            h.finish()
        };
        u128::from(half(1)) << 64 | u128::from(half(2))
    }

    /// Decides a try of `user` and `password` from `source` at `now_us`.
    pub fn attempt(
        &mut self,
        now_us: i64,
        source: IpAddr,
        user: &[u8],
        password: &[u8],
    ) -> Outcome {
        let pair = self.digest(user, password);
        if self
            .remembered
            .get(&pair)
            .is_some_and(|&t| now_us.saturating_sub(t) < self.remember_us)
        {
            return Outcome::Remembered;
        }
        let ok = match &self.policy {
            Policy::AcceptAll => true,
            Policy::Database(rules) => rules
                .iter()
                .find(|r| matches(&r.user, user) && matches(&r.password, password))
                .is_some_and(|r| r.allow),
            Policy::RejectThenAccept(n) => {
                if self.tries.len() >= MAX_ENTRIES {
                    self.tries.clear();
                }
                let tries = self.tries.entry(source).or_insert(0);
                *tries += 1;
                if *tries > *n {
                    *tries = 0;
                    true
                } else {
                    false
                }
            }
        };
        if !ok {
            return Outcome::Rejected;
        }
        if self.remembered.len() >= MAX_ENTRIES {
            self.remembered.clear();
        }
        self.remembered.insert(pair, now_us);
        Outcome::Accepted
    }
}

/// A rule's field against what was typed: `*` matches anything.
fn matches(pattern: &str, typed: &[u8]) -> bool {
    pattern == "*" || pattern.as_bytes() == typed
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 5));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 6));
    const MINUTE: i64 = 60_000_000;

    #[test]
    fn a_database_first_match_wins_and_denials_deny() {
        let policy = Policy::database(
            "# Mirai's favourites, but not root/root\nroot:x:!root\nroot:x:*\nadmin:x:admin\n",
        )
        .unwrap();
        let mut auth = Auth::new(policy, MINUTE);
        assert_eq!(auth.attempt(0, A, b"root", b"root"), Outcome::Rejected);
        assert_eq!(auth.attempt(0, A, b"root", b"xc3511"), Outcome::Accepted);
        assert_eq!(auth.attempt(0, A, b"admin", b"admin"), Outcome::Accepted);
        assert_eq!(auth.attempt(0, A, b"admin", b"1234"), Outcome::Rejected);
        assert_eq!(auth.attempt(0, A, b"guest", b"guest"), Outcome::Rejected);
        assert!(Policy::database("root\n")
            .unwrap_err()
            .starts_with("line 1:"));
    }

    #[test]
    fn the_first_tries_fail_then_one_gets_in() {
        let mut auth = Auth::new(Policy::RejectThenAccept(2), MINUTE);
        assert_eq!(auth.attempt(0, A, b"root", b"a"), Outcome::Rejected);
        assert_eq!(auth.attempt(0, B, b"root", b"b"), Outcome::Rejected);
        assert_eq!(auth.attempt(0, A, b"root", b"c"), Outcome::Rejected);
        assert_eq!(auth.attempt(0, A, b"root", b"d"), Outcome::Accepted);
    }

    #[test]
    fn the_loader_gets_in_with_the_scanners_pair_for_a_while() {
        let mut auth = Auth::new(Policy::RejectThenAccept(1), 10 * MINUTE);
        assert_eq!(auth.attempt(0, A, b"root", b"vizxv"), Outcome::Rejected);
        assert_eq!(auth.attempt(1, A, b"root", b"vizxv"), Outcome::Accepted);
        // The loader, from elsewhere, five minutes later: in at once.
        assert_eq!(
            auth.attempt(5 * MINUTE, B, b"root", b"vizxv"),
            Outcome::Remembered
        );
        // After the memory ends, the policy decides again.
        assert_eq!(
            auth.attempt(11 * MINUTE, B, b"root", b"vizxv"),
            Outcome::Rejected
        );
    }
}
