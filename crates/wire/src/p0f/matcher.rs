//! Matching a packet's signature against a [`Database`], as p0f 3.09b does.
//!
//! Signatures are tried in file order. The option layout must be equal; quirks equal, or
//! different only in the ways a NAT or a tunnel changes them (`df`/`id+` lost, `id-`/`ecn`
//! gained) for a fuzzy match; IPv4 option length and EOL padding equal; MSS, window scale
//! and payload class equal unless the signature says `*`; the window as the signature
//! describes it. A TTL above the signature's, or more than [`MAX_DIST`] hops below it,
//! makes the match fuzzy (for a `N-` signature, a TTL above it fails). The first exact
//! specific signature wins, then the first exact generic one, then the first fuzzy one —
//! never an application's.

use super::db::{Database, Entry, Label};
use super::packet::{
    guess_distance, window_multiplier, Direction, PacketSig, WindowMultiple, MAX_DIST,
};
use super::sig::{quirk, OptionLayout, Quirks, TcpSig, WindowSize};
use super::text::{display_via_push_text, PushText};

/// The result of matching one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpMatch<'a> {
    /// The matching signature, if any.
    pub entry: Option<&'a Entry>,
    /// Its label.
    pub label: Option<&'a Label>,
    /// Matched only fuzzily.
    pub fuzzy: bool,
    /// Hops between the host and the sensor: from the signature's initial TTL when one
    /// matched, else guessed from the TTL. For a signature with a random TTL (`N-`) it is
    /// an upper bound.
    pub distance: u8,
}

impl TcpMatch<'_> {
    /// Whether the signature is generic (`g`).
    pub fn generic(&self) -> bool {
        self.label.is_some_and(|l| l.generic)
    }

    /// Whether the signature's TTL is random (`N-`), so the distance is at most this.
    pub fn random_ttl(&self) -> bool {
        self.entry.is_some_and(|e| e.sig.bad_ttl)
    }

    /// p0f's `params` line: `generic fuzzy random_ttl excess_dist tos:0xNN`, or `none`.
    pub fn params(&self, tos: u8) -> Params {
        Params {
            generic: self.generic(),
            fuzzy: self.fuzzy,
            random_ttl: self.random_ttl(),
            excess_dist: self.distance > MAX_DIST,
            tos,
        }
    }
}

/// [`TcpMatch::params`], written without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    generic: bool,
    fuzzy: bool,
    random_ttl: bool,
    excess_dist: bool,
    tos: u8,
}

impl PushText for Params {
    fn push_text(&self, out: &mut String) {
        let start = out.len();
        for (on, word) in [
            (self.generic, "generic"),
            (self.fuzzy, "fuzzy"),
            (self.random_ttl, "random_ttl"),
            (self.excess_dist, "excess_dist"),
        ] {
            if on {
                if out.len() > start {
                    out.push(' ');
                }
                out.push_str(word);
            }
        }
        if self.tos != 0 {
            if out.len() > start {
                out.push(' ');
            }
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("tos:0x");
            out.push(HEX[(self.tos >> 4) as usize] as char);
            out.push(HEX[(self.tos & 15) as usize] as char);
        }
        if out.len() == start {
            out.push_str("none");
        }
    }
}

display_via_push_text!(Params);

/// The window an observation has: a number (a packet's, or a new signature's plain
/// `N`), or — when a database checks a new signature against earlier ones — the new
/// signature's other form (`*`, `%N`, `mss*N`, `mtu*N`).
#[derive(Clone, Copy)]
enum ObservedWindow {
    Number(u16),
    Form(WindowSize),
}

impl ObservedWindow {
    fn of_sig(w: WindowSize) -> Self {
        match w {
            WindowSize::Value(n) => ObservedWindow::Number(n),
            form => ObservedWindow::Form(form),
        }
    }
}

/// What the matcher compares: a packet, or a signature standing in for one.
struct Observed {
    ver: Option<u8>,
    ttl: u8,
    olen: u8,
    mss: Option<u16>,
    win: ObservedWindow,
    wscale: Option<u8>,
    olayout: OptionLayout,
    quirks: Quirks,
    pclass: Option<bool>,
    multiple: Option<WindowMultiple>,
}

/// The candidates one pass over the signatures found.
struct Found<'a> {
    exact: Option<&'a Entry>,
    generic: Option<&'a Entry>,
    fuzzy: Option<&'a Entry>,
}

fn find<'a>(sigs: &'a [Entry], db: &Database, o: &Observed) -> Found<'a> {
    let mut found = Found {
        exact: None,
        generic: None,
        fuzzy: None,
    };
    for entry in sigs {
        let r = &entry.sig;
        if r.olayout.kinds() != o.olayout.kinds() {
            continue;
        }
        let mut fuzzy = false;
        let mut rq = r.quirks.0;
        // A `*` signature ignores the quirks the packet's IP version cannot show (but not
        // `0+`, which p0f leaves in).
        if r.ver.is_none() {
            rq &= if o.ver == Some(4) {
                !quirk::FLOW
            } else {
                !(quirk::DF | quirk::ID_PLUS | quirk::ID_MINUS)
            };
        }
        if rq != o.quirks.0 {
            let deleted = rq & !o.quirks.0;
            let added = o.quirks.0 & !rq;
            if found.fuzzy.is_some()
                || deleted & !(quirk::DF | quirk::ID_PLUS) != 0
                || added & !(quirk::ID_MINUS | quirk::ECN) != 0
            {
                continue;
            }
            fuzzy = true;
        }
        if r.olayout.eol_pad != o.olayout.eol_pad || r.olen != o.olen {
            continue;
        }
        if r.bad_ttl {
            if r.ttl < o.ttl {
                continue;
            }
        } else if r.ttl < o.ttl || r.ttl - o.ttl > MAX_DIST {
            fuzzy = true;
        }
        if r.mss.is_some() && r.mss != o.mss {
            continue;
        }
        if r.scale.is_some() && r.scale != o.wscale {
            continue;
        }
        if r.pclass.is_some() && r.pclass != o.pclass {
            continue;
        }
        let window_fits = match (o.win, r.wsize) {
            // Checking a new signature: an earlier one covers its window form only if it is
            // the same form.
            (ObservedWindow::Form(w), ref_w) => w == ref_w,
            (ObservedWindow::Number(_), WindowSize::Any) => true,
            (ObservedWindow::Number(win), WindowSize::Value(n)) => win == n,
            (ObservedWindow::Number(win), WindowSize::Multiple(n)) => n != 0 && win % n == 0,
            (ObservedWindow::Number(_), WindowSize::Mss(times)) => {
                o.multiple == Some(WindowMultiple { times, mtu: false })
            }
            (ObservedWindow::Number(_), WindowSize::Mtu(times)) => {
                o.multiple == Some(WindowMultiple { times, mtu: true })
            }
        };
        if !window_fits {
            continue;
        }
        if !fuzzy {
            if !db.label(entry).generic {
                found.exact = Some(entry);
                return found;
            }
            found.generic = found.generic.or(Some(entry));
        } else if found.fuzzy.is_none() {
            found.fuzzy = Some(entry);
        }
    }
    found
}

impl Database {
    /// Matches a SYN (against `[tcp:request]`) or SYN+ACK (against `[tcp:response]`); for
    /// a SYN+ACK, `syn_mss` is the MSS of the SYN it answers (0 if unknown), which p0f also
    /// tries as a window divisor.
    pub fn match_packet(&self, p: &PacketSig, syn_mss: u16) -> TcpMatch<'_> {
        let o = Observed {
            ver: Some(p.ver),
            ttl: p.ttl,
            olen: p.olen,
            mss: Some(p.mss),
            win: ObservedWindow::Number(p.win),
            wscale: Some(p.wscale),
            olayout: p.olayout,
            quirks: p.quirks,
            pclass: Some(p.payload),
            multiple: window_multiplier(p, syn_mss),
        };
        let found = find(self.sigs(p.direction), self, &o);
        let hit = |entry, fuzzy, distance| TcpMatch {
            entry: Some(entry),
            label: Some(self.label(entry)),
            fuzzy,
            distance,
        };
        if let Some(e) = found.exact.or(found.generic) {
            return hit(e, false, e.sig.ttl - p.ttl);
        }
        let none = |distance| TcpMatch {
            entry: None,
            label: None,
            fuzzy: false,
            distance,
        };
        match found.fuzzy {
            // Applications are never matched fuzzily; p0f then leaves the distance at 0.
            Some(e) if self.label(e).is_app() => none(0),
            Some(e) => {
                let r = &e.sig;
                let far = r.ttl < p.ttl || (!r.bad_ttl && r.ttl - p.ttl > MAX_DIST);
                let d = if far {
                    guess_distance(p.ttl)
                } else {
                    r.ttl - p.ttl
                };
                hit(e, true, d)
            }
            None => none(guess_distance(p.ttl)),
        }
    }

    /// The earlier specific signature that already matches everything `sig` would (p0f
    /// refuses such a file: the new line could never be reported).
    pub(crate) fn covered_by(&self, direction: Direction, sig: &TcpSig) -> Option<&Entry> {
        // A plain window is judged as a packet's would be, with no timestamps, header
        // lengths or SYN known.
        let multiple = match (sig.wsize, sig.mss) {
            (WindowSize::Value(win), Some(mss)) => {
                window_multiplier(&PacketSig::stand_in(sig.ver.unwrap_or(4), mss, win), 0)
            }
            _ => None,
        };
        let o = Observed {
            ver: sig.ver,
            ttl: sig.ttl,
            olen: sig.olen,
            mss: sig.mss,
            win: ObservedWindow::of_sig(sig.wsize),
            wscale: sig.scale,
            olayout: sig.olayout,
            quirks: sig.quirks,
            pclass: sig.pclass,
            multiple,
        };
        find(self.sigs(direction), self, &o).exact
    }
}

#[cfg(test)]
mod tests {
    use super::super::packet::tests::{Syn, LINUX_OPTS};
    use super::*;

    fn db() -> Database {
        Database::parse(
            "classes = win,unix,other\n[tcp:request]\n\
             label = s:unix:Linux:3.11 and newer\n\
             sig   = *:64:0:*:mss*20,10:mss,sok,ts,nop,ws:df,id+:0\n\
             sig   = *:64:0:*:mss*20,7:mss,sok,ts,nop,ws:df,id+:0\n\
             label = g:unix:Linux:2.2.x-3.x\n\
             sig   = *:64:0:*:*,*:mss,sok,ts,nop,ws:df,id+:0\n\
             label = s:!:NMap:SYN scan\nsys = @unix,@win\n\
             sig   = *:64-:0:1460:1024,0:mss::0\n\
             label = g:unix:Linux:2.2.x-3.x (barebone)\n\
             sig   = *:64:0:*:*,0:mss:df,id+:0\n\
             label = s:win:Windows:7 or 8\n\
             sig   = *:128:0:*:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0\n\
             label = s:other:NeXTSTEP:\n\
             sig   = 4:64:0:1024:mss*4,0:mss::0\n",
        )
        .unwrap()
    }

    fn m(syn: Syn) -> (String, bool, bool, u8, String) {
        let db = db();
        let p = syn.sig();
        let r = db.match_packet(&p, 0);
        (
            r.label
                .map(|l| l.to_string())
                .unwrap_or_else(|| "???".into()),
            r.generic(),
            r.fuzzy,
            r.distance,
            r.params(p.tos).to_string(),
        )
    }

    #[test]
    fn exact_generic_and_fuzzy_as_p0f() {
        let linux = m(Syn::default());
        assert_eq!(
            linux,
            (
                "Linux 3.11 and newer".into(),
                false,
                false,
                0,
                "none".into()
            )
        );
        assert_eq!(
            m(Syn {
                ttl: 60,
                ..Syn::default()
            })
            .3,
            4
        );
        // An unknown window: the generic signature.
        let g = m(Syn {
            win: 12345,
            ..Syn::default()
        });
        assert_eq!(
            (g.0.as_str(), g.1, g.4.as_str()),
            ("Linux 2.2.x-3.x", true, "generic")
        );
        // IP ID zero: df,id+ lost → fuzzy.
        let f = m(Syn {
            id: 0,
            ..Syn::default()
        });
        assert_eq!(
            (f.0.as_str(), f.2, f.4.as_str()),
            ("Linux 3.11 and newer", true, "fuzzy")
        );
        // TTL out of range: fuzzy, distance guessed.
        assert_eq!(
            m(Syn {
                ttl: 20,
                ..Syn::default()
            })
            .3,
            12
        );
        let far = m(Syn {
            ttl: 200,
            ..Syn::default()
        });
        assert_eq!(
            (far.2, far.3, far.4.as_str()),
            (true, 55, "fuzzy excess_dist")
        );
        // ECN setup: fuzzy; DSCP shows in params.
        let tos = m(Syn {
            tos: 0x10,
            ..Syn::default()
        });
        assert_eq!(tos.4, "tos:0x04");
    }

    #[test]
    fn applications_and_versions() {
        let nmap = Syn {
            ttl: 50,
            df: false,
            win: 1024,
            opts: vec![2, 4, 0x05, 0xb4],
            ..Syn::default()
        };
        let r = m(nmap);
        assert_eq!(
            (r.0.as_str(), r.3, r.4.as_str()),
            ("NMap SYN scan", 14, "random_ttl")
        );
        // Above the scanner's TTL: not the scanner; the barebone Linux fuzzily.
        let r = m(Syn {
            ttl: 70,
            df: false,
            win: 1024,
            opts: vec![2, 4, 0x05, 0xb4],
            ..Syn::default()
        });
        assert_eq!(
            (r.0.as_str(), r.2, r.3),
            ("Linux 2.2.x-3.x (barebone)", true, 58)
        );
        // A fuzzy application hit is no match, with distance 0.
        let r = m(Syn {
            ttl: 50,
            df: false,
            win: 1024,
            tos: 0x02,
            opts: vec![2, 4, 0x05, 0xb4],
            ..Syn::default()
        });
        assert_eq!((r.0.as_str(), r.3), ("???", 0));
        // p0f does not compare the IP version: a `4:` signature matches IPv6.
        let v6 = Syn {
            v6: true,
            win: 4096,
            opts: vec![2, 4, 0x04, 0x00],
            ..Syn::default()
        };
        assert_eq!(m(v6).0, "NeXTSTEP");
        // Windows at TTL 64: fuzzy, distance 0.
        let win7 = Syn {
            ttl: 64,
            win: 8192,
            opts: vec![2, 4, 5, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2],
            ..Syn::default()
        };
        let r = m(win7);
        assert_eq!((r.0.as_str(), r.2, r.3), ("Windows 7 or 8", true, 0));
        let _ = LINUX_OPTS;
    }

    #[test]
    fn covered_signatures_are_refused() {
        let head = "classes = unix\n[tcp:request]\nlabel = s:unix:A:\n";
        let covered = |first: &str, second: &str| {
            Database::parse(&format!(
                "{head}sig = {first}\nlabel = s:unix:B:\nsig = {second}\n"
            ))
            .is_err()
        };
        assert!(covered("*:64:0:*:*,*:mss::0", "*:64:0:1460:1024,0:mss::0"));
        // `*` does not cover `mss*20`; a `6:` signature covers the same `4:` one.
        assert!(!covered("*:64:0:*:*,*:mss::0", "*:64:0:*:mss*20,*:mss::0"));
        assert!(covered("6:64:0:*:*,*:mss::0", "4:64:0:*:*,*:mss::0"));
        // A generic earlier signature never covers.
        let g = "classes = unix\n[tcp:request]\nlabel = g:unix:A:\nsig = *:64:0:*:*,*:mss::0\nlabel = s:unix:B:\nsig = *:64:0:1460:1024,0:mss::0\n";
        assert!(Database::parse(g).is_ok());
    }
}
