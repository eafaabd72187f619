//! The fingerprinter: frames in, p0f-style observations out (sans-IO).
//!
//! [`Fingerprinter::frame`] takes one captured frame and its time; for a SYN or SYN+ACK
//! that p0f would fingerprint it returns an [`Observation`]: the packet's signature, the
//! match, and the link MTU its MSS implies. [`Observation`] prints as a line of p0f's log
//! format (`p0f -o`), so the two tools' outputs compare line by line.

use super::db::Database;
use super::flow::Handshakes;
use super::matcher::TcpMatch;
use super::packet::{Direction, NotFingerprinted, PacketSig};
use super::text::{display_via_push_text, push_num, PushText};
use crate::capture::LinkType;
use crate::probe::{link_payload, ProbeError};
use etherparse::ether_type;

/// What p0f reports for one handshake packet.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// The packet's signature.
    pub sig: PacketSig,
    /// For a SYN+ACK, the MSS of the SYN it answers.
    pub syn_mss: u16,
    /// Part of a probe by p0f's own `p0f-sendsyn` tool, reported as such.
    pub sendsyn: bool,
    /// The match.
    pub found: TcpMatch<'a>,
    /// The MTU the MSS implies (MSS + 40 for IPv4, + 60 for IPv6) and the link it is
    /// typical of, when the packet has an MSS and did not match an application.
    pub mtu: Option<(u16, Option<&'a str>)>,
}

impl Observation<'_> {
    /// `syn` or `syn+ack` (`sendsyn probe` or `sendsyn response` for p0f's own probes).
    pub fn kind(&self) -> &'static str {
        match (self.sig.direction, self.sendsyn) {
            (Direction::Request, false) => "syn",
            (Direction::Response, false) => "syn+ack",
            (Direction::Request, true) => "sendsyn probe",
            (Direction::Response, true) => "sendsyn response",
        }
    }

    /// (client, server) as p0f writes them, `addr/port`, whichever way the packet went.
    pub fn endpoints(&self) -> (Endpoint, Endpoint) {
        let s = &self.sig;
        let src = Endpoint(s.src, s.sport);
        let dst = Endpoint(s.dst, s.dport);
        match s.direction {
            Direction::Request => (src, dst),
            Direction::Response => (dst, src),
        }
    }

    /// `cli` or `srv`: whose packet it is.
    fn subject(&self) -> &'static str {
        match self.sig.direction {
            Direction::Request => "cli",
            Direction::Response => "srv",
        }
    }

    /// The MTU line p0f logs after the packet's (`mod=mtu|…|link=…|raw_mtu=…`), if any.
    pub fn mtu_line(&self) -> Option<MtuLine<'_>> {
        self.mtu.map(|(mtu, link)| MtuLine {
            obs: self,
            mtu,
            link,
        })
    }
}

/// An address and port as p0f writes them: `addr/port`, IPv6 in full groups without
/// leading zeros.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint(pub std::net::IpAddr, pub u16);

impl PushText for Endpoint {
    fn push_text(&self, out: &mut String) {
        match self.0 {
            std::net::IpAddr::V4(a) => {
                for (i, o) in a.octets().into_iter().enumerate() {
                    if i > 0 {
                        out.push('.');
                    }
                    push_num(out, o.into());
                }
            }
            std::net::IpAddr::V6(a) => {
                use std::fmt::Write as _;
                let g = a.segments();
                // Writing into a String cannot fail.
                let _ = write!(
                    out,
                    "{:x}:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}",
                    g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]
                );
            }
        }
        out.push('/');
        push_num(out, self.1.into());
    }
}

/// [`Observation::mtu_line`].
pub struct MtuLine<'a> {
    obs: &'a Observation<'a>,
    mtu: u16,
    link: Option<&'a str>,
}

impl PushText for MtuLine<'_> {
    fn push_text(&self, out: &mut String) {
        let (cli, srv) = self.obs.endpoints();
        out.push_str("mod=mtu|cli=");
        cli.push_text(out);
        out.push_str("|srv=");
        srv.push_text(out);
        out.push_str("|subj=");
        out.push_str(self.obs.subject());
        out.push_str("|link=");
        out.push_str(self.link.unwrap_or("???"));
        out.push_str("|raw_mtu=");
        push_num(out, self.mtu.into());
    }
}

impl PushText for Observation<'_> {
    /// The packet's line of p0f's log, without the time:
    /// `mod=syn|cli=…|srv=…|subj=cli|os=…|dist=…|params=…|raw_sig=…`.
    fn push_text(&self, out: &mut String) {
        let (cli, srv) = self.endpoints();
        out.push_str("mod=");
        out.push_str(self.kind());
        out.push_str("|cli=");
        cli.push_text(out);
        out.push_str("|srv=");
        srv.push_text(out);
        out.push_str("|subj=");
        out.push_str(self.subject());
        // `app` for an application's label, or any label on p0f's own probes; unlabelled
        // packets are always `os = ???`.
        match self.found.label {
            Some(l) => {
                out.push_str(if l.is_app() || self.sendsyn {
                    "|app="
                } else {
                    "|os="
                });
                l.push_text(out);
            }
            None => out.push_str("|os=???"),
        }
        out.push_str("|dist=");
        if self.found.random_ttl() {
            out.push_str("<= ");
        }
        push_num(out, self.found.distance.into());
        out.push_str("|params=");
        self.found.params(self.sig.tos).push_text(out);
        out.push_str("|raw_sig=");
        self.sig.raw(self.syn_mss).push_text(out);
    }
}

display_via_push_text!(Endpoint, MtuLine<'_>, Observation<'_>);

/// Counts of what the fingerprinter saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Frames given.
    pub frames: u64,
    /// Observations made.
    pub observed: u64,
    /// Frames or packets too short or inconsistent to read.
    pub malformed: u64,
    /// Packets that were not TCP SYN or SYN+ACK, and frames that were not IP.
    pub other: u64,
    /// SYNs p0f skips (retransmissions) and SYN+ACKs to no SYN seen.
    pub unpaired: u64,
}

/// Fingerprints the handshake packets of a stream of frames.
#[derive(Debug)]
pub struct Fingerprinter<'a> {
    db: &'a Database,
    handshakes: Handshakes,
    /// What was seen so far.
    pub counts: Counts,
}

impl<'a> Fingerprinter<'a> {
    /// A fingerprinter using `db`.
    pub fn new(db: &'a Database) -> Self {
        Fingerprinter {
            db,
            handshakes: Handshakes::default(),
            counts: Counts::default(),
        }
    }

    /// Connections forgotten because the handshake table was full.
    pub fn evicted(&self) -> u64 {
        self.handshakes.evicted()
    }

    /// One frame, captured at `time_us`.
    pub fn frame(&mut self, link: LinkType, data: &[u8], time_us: i64) -> Option<Observation<'a>> {
        self.counts.frames += 1;
        let ip = match link_payload(link, data) {
            Ok((et, ip)) if et == ether_type::IPV4 || et == ether_type::IPV6 => ip,
            // ARP, LLDP, a loopback family that is not IP, …
            Ok(_) | Err(ProbeError::NotIp) => {
                self.counts.other += 1;
                return None;
            }
            Err(_) => {
                self.counts.malformed += 1;
                return None;
            }
        };
        self.packet(ip, time_us)
    }

    /// One IP packet (from its first header byte), captured at `time_us`.
    pub fn packet(&mut self, ip: &[u8], time_us: i64) -> Option<Observation<'a>> {
        let sig = match PacketSig::from_ip(ip) {
            Ok(sig) => sig,
            Err(NotFingerprinted::Malformed) => {
                self.counts.malformed += 1;
                return None;
            }
            Err(_) => {
                self.counts.other += 1;
                return None;
            }
        };
        let Some(pairing) = self.handshakes.admit(&sig, time_us) else {
            self.counts.unpaired += 1;
            return None;
        };
        let found = self.db.match_packet(&sig, pairing.syn_mss);
        let app = found.label.is_some_and(|l| l.is_app());
        if app && sig.direction == Direction::Request {
            self.handshakes.forget(&sig);
        }
        let mtu = (!app && !pairing.sendsyn && sig.mss != 0).then(|| {
            let mtu = sig.mss.saturating_add(if sig.ver == 6 { 60 } else { 40 });
            (mtu, self.db.link_for_mtu(mtu))
        });
        self.counts.observed += 1;
        Some(Observation {
            sig,
            syn_mss: pairing.syn_mss,
            sendsyn: pairing.sendsyn,
            found,
            mtu,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::packet::tests::Syn;
    use super::*;

    #[test]
    fn frames_are_counted_by_what_they_are() {
        let db = Database::parse("classes = unix\n[tcp:request]\n").unwrap();
        let mut fp = Fingerprinter::new(&db);
        let syn = Syn::default().bytes();
        let mut eth = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00];
        eth.extend_from_slice(&syn);
        assert!(fp.frame(LinkType::Ethernet, &eth, 0).is_some());
        // ARP is not IP: other, not malformed.
        let mut arp = eth.clone();
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        assert!(fp.frame(LinkType::Ethernet, &arp, 1).is_none());
        // A loopback family that is not IP.
        assert!(fp.frame(LinkType::Null, &[7, 0, 0, 0, 0x45], 2).is_none());
        // Cut short.
        assert!(fp.frame(LinkType::Ethernet, &eth[..30], 3).is_none());
        assert_eq!(
            fp.counts,
            Counts {
                frames: 4,
                observed: 1,
                malformed: 1,
                other: 2,
                unpaired: 0,
            }
        );
    }
}
