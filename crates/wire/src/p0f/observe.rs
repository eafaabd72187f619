//! The fingerprinter: frames in, p0f-style observations out (sans-IO).
//!
//! [`Fingerprinter::frame`] takes one captured frame and its time; for a SYN or SYN+ACK
//! that p0f would fingerprint it returns an [`Observation`]: the packet's signature, the
//! match, and the link MTU its MSS implies. [`Observation`] prints as a line of p0f's log
//! format (`p0f -o`), so the two tools' outputs compare line by line.

use std::fmt;

use super::db::Database;
use super::flow::Handshakes;
use super::matcher::TcpMatch;
use super::packet::{Direction, NotFingerprinted, PacketSig};
use crate::capture::LinkType;
use crate::probe::link_payload;

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

    /// The label as p0f prints it (`Linux 3.11 and newer`), or `???`.
    pub fn label(&self) -> String {
        self.found
            .label
            .map(|l| l.to_string())
            .unwrap_or_else(|| "???".to_string())
    }

    /// The distance as p0f prints it: `N`, or `<= N` for a random-TTL signature.
    pub fn distance(&self) -> String {
        if self.found.random_ttl() {
            format!("<= {}", self.found.distance)
        } else {
            self.found.distance.to_string()
        }
    }

    /// (client, server) as `addr/port`, whichever way the packet went.
    pub fn endpoints(&self) -> (String, String) {
        let s = &self.sig;
        let src = endpoint(s.src, s.sport);
        let dst = endpoint(s.dst, s.dport);
        match s.direction {
            Direction::Request => (src, dst),
            Direction::Response => (dst, src),
        }
    }
}

/// p0f's `addr/port`; IPv6 written out in full groups without leading zeros, as p0f does.
pub fn endpoint(addr: std::net::IpAddr, port: u16) -> String {
    match addr {
        std::net::IpAddr::V4(a) => format!("{a}/{port}"),
        std::net::IpAddr::V6(a) => {
            let g = a.segments();
            format!(
                "{:x}:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}/{port}",
                g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]
            )
        }
    }
}

impl Observation<'_> {
    /// The MTU line p0f logs after the packet's (`mod=mtu|…|link=…|raw_mtu=…`), if any.
    pub fn mtu_line(&self) -> Option<String> {
        let (mtu, link) = self.mtu?;
        let (cli, srv) = self.endpoints();
        let subj = match self.sig.direction {
            Direction::Request => "cli",
            Direction::Response => "srv",
        };
        Some(format!(
            "mod=mtu|cli={cli}|srv={srv}|subj={subj}|link={}|raw_mtu={mtu}",
            link.unwrap_or("???")
        ))
    }
}

impl fmt::Display for Observation<'_> {
    /// The packet's line of p0f's log, without the time:
    /// `mod=syn|cli=…|srv=…|subj=cli|os=…|dist=…|params=…|raw_sig=…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (cli, srv) = self.endpoints();
        let subj = match self.sig.direction {
            Direction::Request => "cli",
            Direction::Response => "srv",
        };
        // `app` for an application's label, or any label on p0f's own probes; unlabelled
        // packets are always `os = ???`.
        let key = if self.found.label.is_some_and(|l| l.is_app() || self.sendsyn) {
            "app"
        } else {
            "os"
        };
        write!(
            f,
            "mod={}|cli={cli}|srv={srv}|subj={subj}|{key}={}|dist={}|params={}|raw_sig={}",
            self.kind(),
            self.label(),
            self.distance(),
            self.found.params(self.sig.tos),
            self.sig.raw(self.syn_mss)
        )
    }
}

/// Counts of what the fingerprinter saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Frames given.
    pub frames: u64,
    /// Observations made.
    pub observed: u64,
    /// Frames that were not IP, or not well-formed.
    pub malformed: u64,
    /// TCP packets that were not SYN or SYN+ACK, and non-TCP packets.
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
        self.handshakes.evicted
    }

    /// One frame, captured at `time_us`.
    pub fn frame(&mut self, link: LinkType, data: &[u8], time_us: i64) -> Option<Observation<'a>> {
        self.counts.frames += 1;
        let ip = match link_payload(link, data) {
            Ok((_, ip)) => ip,
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
