//! The sensor's core, sans-IO: IP packets and the time in, replies and events out.
//!
//! [`Engine::packet`] logs every packet to a claimed address (with the source's OS from
//! its last SYN), answers it as its template says, in its personality, and
//! [`Engine::poll`] ends flows whose time is up. A driver — a capture file, a TUN device or
//! a raw socket — owns the I/O; this code owns none, so a test can replay traffic at a fake
//! clock, and the same input always gives the same output.
//!
//! Nothing is kept for a SYN: our SYN+ACK's sequence number is a SYN cookie. State (a small
//! bounded table) exists only once a handshake has completed on an `open` port, until its
//! first payload, its FIN, or its idle time.

use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::sync::Arc;

use ahash::{HashMap, HashMapExt};
use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use honeyscope_event::{Event, PacketEvent, PacketKind, PayloadEvent, Timestamp};
use honeyscope_wire::cookie::{CookieKey, Handshake};
use honeyscope_wire::p0f::{Database, PacketSig};
use honeyscope_wire::personality::{IpId, Offered, Personality};
use honeyscope_wire::probe::tcp_flags as flag;
use honeyscope_wire::reply::{self, Segment};

mod sessions;

use crate::config::{Action, Close, Config};
use crate::os_cache::OsCache;
use honeyscope_services::Service;
use sessions::{tsval_with_shift, Sessions};

/// How long a source's OS label is kept: 5 minutes, as Honeyd does.
const OS_TTL_US: i64 = 5 * 60 * 1_000_000;

/// What the engine counted. Every packet in is in exactly one of `not_ip`, `malformed`,
/// `not_ours`, or `claimed`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stats {
    /// Packets handed in.
    pub packets: u64,
    /// Not IPv4 (IPv6 and others are not answered yet).
    pub not_ip: u64,
    /// IPv4 that does not parse.
    pub malformed: u64,
    /// To an address we do not claim.
    pub not_ours: u64,
    /// To a claimed address (logged).
    pub claimed: u64,
    /// SYN+ACKs sent (cookies).
    pub syn_acks: u64,
    /// RSTs sent.
    pub resets: u64,
    /// ICMP port unreachables sent.
    pub unreachables: u64,
    /// Echo replies sent.
    pub echo_replies: u64,
    /// FIN+ACKs sent (`close = "fin"`).
    pub fins: u64,
    /// Handshakes completed (valid cookies).
    pub handshakes: u64,
    /// Completed handshakes dropped from the flow table because it was full.
    pub flows_evicted: u64,
    /// TCP sessions opened (handshakes on echo and discard ports).
    pub sessions: u64,
    /// Handshakes refused with RST because the session table was full.
    pub sessions_refused: u64,
    /// Segments the sessions sent.
    pub session_segments: u64,
}

impl std::fmt::Display for Stats {
    /// One line for operators: where the packets went and what was sent.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} packets to claimed addresses, {} to others, {} malformed, {} not IPv4; sent {} \
             SYN+ACKs, {} RSTs, {} FIN+ACKs, {} port unreachables, {} echo replies; {} \
             handshakes completed ({} dropped from a full flow table); {} sessions ({} refused, \
             {} segments sent)",
            self.claimed,
            self.not_ours,
            self.malformed,
            self.not_ip,
            self.syn_acks,
            self.resets,
            self.fins,
            self.unreachables,
            self.echo_replies,
            self.handshakes,
            self.flows_evicted,
            self.sessions,
            self.sessions_refused,
            self.session_segments
        )
    }
}

/// One completed handshake, waiting for its first payload.
#[derive(Debug, Clone, Copy)]
struct Flow {
    started_us: i64,
    /// Our sequence number after the SYN+ACK (cookie + 1).
    our_seq: u32,
}

/// A flow's key: client address and port, our address and port.
pub(crate) type FlowKey = (Ipv4Addr, u16, Ipv4Addr, u16);

/// What one call produced: IPv4 datagrams to send, and events to log.
#[derive(Debug, Default)]
pub struct Output {
    /// Replies, whole IPv4 datagrams.
    pub replies: Vec<Vec<u8>>,
    /// Events, in order.
    pub events: Vec<Event>,
}

/// The sensor's core.
pub struct Engine<'db> {
    cfg: Config,
    key: CookieKey,
    sensor: Option<Arc<str>>,
    /// The database's labels as they go into the log, made once.
    labels: Vec<Arc<str>>,
    db: &'db Database,
    /// SYN shape → the label it matched ([`Engine::syn_label`]).
    shapes: HashMap<PacketSig, Option<usize>>,
    os: OsCache,
    /// IP ID state per claimed host (personalities with counters or random IDs).
    /// Derived from the cookie key, so a replay with the same key gives the same IDs.
    ids: HashMap<Ipv4Addr, u16>,
    flows: HashMap<FlowKey, Flow>,
    /// The flows in the order they started, for expiry and eviction without a scan.
    /// Entries whose flow has since ended are skipped when they reach the front.
    flow_order: VecDeque<(i64, FlowKey)>,
    stats: Stats,
    sessions: Sessions,
}

/// SYN shapes whose match is remembered.
const MAX_SHAPES: usize = 4096;

/// Per-host IP ID state is bounded: when this many hosts have counters, they start over.
const MAX_ID_HOSTS: usize = 1 << 16;

impl<'db> Engine<'db> {
    /// An engine for `cfg`, fingerprinting with `db`, making cookies with `key`.
    pub fn new(cfg: Config, db: &'db Database, key: CookieKey) -> Self {
        // Seeded from the key: sources cannot aim at one set, and replays evict alike.
        let seed = std::array::from_fn(|i| key.derive(&[b"os-cache", &[i as u8]]));
        let os = OsCache::new(cfg.limits.os_cache, OS_TTL_US, seed);
        Engine {
            sensor: cfg.sensor_id.as_deref().map(Arc::from),
            key,
            labels: db.labels.iter().map(|l| Arc::from(l.to_string())).collect(),
            db,
            shapes: HashMap::new(),
            os,
            ids: HashMap::new(),
            flows: HashMap::new(),
            flow_order: VecDeque::new(),
            stats: Stats::default(),
            sessions: Sessions::default(),
            cfg,
        }
    }

    /// What has been counted so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The config the engine runs.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Completed handshakes waiting for a payload.
    pub fn open_flows(&self) -> usize {
        self.flows.len()
    }

    /// Handles one IP datagram that arrived at `now_us` (microseconds since the epoch).
    pub fn packet(&mut self, now_us: i64, ip: &[u8], out: &mut Output) {
        self.stats.packets += 1;
        let Some(&first) = ip.first() else {
            self.stats.malformed += 1;
            return;
        };
        if first >> 4 != 4 {
            self.stats.not_ip += 1;
            return;
        }
        let Ok(sliced) = SlicedPacket::from_ip(ip) else {
            self.stats.malformed += 1;
            return;
        };
        let Some(NetSlice::Ipv4(v4)) = &sliced.net else {
            self.stats.malformed += 1;
            return;
        };
        let h = v4.header();
        let (src, dst) = (h.source_addr(), h.destination_addr());
        if !self.cfg.claims(dst) {
            self.stats.not_ours += 1;
            return;
        }
        self.stats.claimed += 1;
        // A segment of an open session goes to it without a line of its own: as Honeyd
        // does, a connection is logged by its start and end (`S`, `E`), not packet by packet.
        if let Some(TransportSlice::Tcp(t)) = &sliced.transport {
            if self.has_session(&(src, t.source_port(), dst, t.destination_port())) {
                self.session_segment(now_us, &TcpIn::new(src, dst, t), out);
                return;
            }
        }
        let time = Timestamp::from_micros(now_us).unwrap_or_default();

        // The source's OS: fingerprint its SYNs, remember the label, put it on every
        // packet of that source while it lasts.
        // Only SYNs are fingerprinted, each on its own: the sensor needs no pairing with
        // SYN+ACKs (p0f's handshake table), which a flood of sources would only churn.
        let syn_only = matches!(&sliced.transport,
            Some(TransportSlice::Tcp(t)) if t.slice()[13] & (flag::SYN | flag::ACK) == flag::SYN);
        if syn_only {
            if let Ok(sig) = PacketSig::from_ip(ip) {
                if let Some(label) = self.syn_label(&sig) {
                    self.os.store(src, label, now_us);
                }
            }
        }
        let os = self
            .os
            .get(src, now_us)
            .and_then(|i| self.labels.get(i).cloned());

        let tpl = self.cfg.template_for(dst);
        let p = tpl.personality;
        // Every packet to a claimed address is logged, as Honeyd's `-` line.
        let (ports, icmp, flags) = match &sliced.transport {
            Some(TransportSlice::Tcp(t)) => (
                Some((t.source_port(), t.destination_port())),
                None,
                Some(t.slice()[13]),
            ),
            Some(TransportSlice::Udp(u)) => {
                (Some((u.source_port(), u.destination_port())), None, None)
            }
            Some(TransportSlice::Icmpv4(i)) => (None, Some((i.slice()[0], i.slice()[1])), None),
            // Other protocols (GRE, ESP, …) and fragments are logged, not answered.
            _ => (None, None, None),
        };
        let mut ev = PacketEvent::probe(
            time,
            h.protocol().0,
            src.into(),
            dst.into(),
            ports,
            icmp,
            u32::from(h.total_len()),
            flags,
        );
        ev.os = os.clone();
        self.push(out, ev);

        match &sliced.transport {
            Some(TransportSlice::Tcp(t)) => {
                let seg = TcpIn::new(src, dst, t);
                let action = *tpl.tcp_action(seg.dport);
                self.tcp(now_us, p, &action, &seg, os, out);
            }
            Some(TransportSlice::Udp(u))
                if *tpl.udp_action(u.destination_port()) == Action::Reset =>
            {
                let id = self.ip_id(p, dst, false);
                out.replies.push(reply::unreachable(p, id, dst, src, 3, ip));
                self.stats.unreachables += 1;
            }
            // An echo request: type 8, code 0.
            Some(TransportSlice::Icmpv4(i))
                if i.slice()[..2] == [8, 0] && tpl.icmp == Action::Open =>
            {
                let b = i.slice();
                let id = self.ip_id(p, dst, false);
                let ident_seq = [b[4], b[5], b[6], b[7]];
                out.replies
                    .push(reply::echo_reply(p, id, dst, src, ident_seq, &b[8..]));
                self.stats.echo_replies += 1;
            }
            _ => {}
        }
    }

    /// Ends flows that have waited `flow_idle_secs` for a payload since their handshake.
    /// Cheap enough to call after every packet: it only looks at flows that are due.
    pub fn poll(&mut self, now_us: i64, out: &mut Output) {
        self.run_ready(now_us, out);
        self.sessions_poll(now_us, out);
        let idle = self.cfg.limits.flow_idle_secs as i64 * 1_000_000;
        while let Some(&(started, _)) = self.flow_order.front() {
            // Stamped with its deadline, not with when the timer ran: the same packets give
            // the same log however often poll is called.
            let deadline = started.saturating_add(idle);
            if now_us < deadline {
                break;
            }
            if let Some(key) = self.pop_oldest_flow() {
                self.flow_end(deadline, key, 0, out);
            }
        }
    }

    /// When [`Engine::poll`] next has work: the earliest session timer or flow deadline.
    pub fn poll_timeout(&self) -> Option<i64> {
        let idle = self.cfg.limits.flow_idle_secs as i64 * 1_000_000;
        let flow = self
            .flow_order
            .front()
            .map(|&(t, _)| t.saturating_add(idle));
        [flow, self.sessions_timeout()].into_iter().flatten().min()
    }

    /// Ends every flow (shutdown, end of a capture), oldest first.
    pub fn finish(&mut self, now_us: i64, out: &mut Output) {
        self.sessions_finish(now_us, out);
        while !self.flow_order.is_empty() {
            if let Some(key) = self.pop_oldest_flow() {
                self.flow_end(now_us, key, 0, out);
            }
        }
    }

    /// The label index a SYN matches. Scanners and bots send the same few shapes of SYN
    /// millions of times, so matches are memoised by shape, in a table that starts over
    /// when full (varied shapes then cost what they cost without it).
    fn syn_label(&mut self, sig: &PacketSig) -> Option<usize> {
        let shape = sig.shape();
        if let Some(&label) = self.shapes.get(&shape) {
            return label;
        }
        let label = self.db.match_packet(sig, 0).entry.map(|e| e.label);
        if self.shapes.len() >= MAX_SHAPES {
            self.shapes.clear();
        }
        self.shapes.insert(shape, label);
        label
    }

    /// Removes the flow at the front of the start order, if it is still open (an entry
    /// whose flow already ended is just dropped).
    fn pop_oldest_flow(&mut self) -> Option<FlowKey> {
        let (started, key) = self.flow_order.pop_front()?;
        match self.flows.get(&key) {
            Some(f) if f.started_us == started => {
                self.flows.remove(&key);
                Some(key)
            }
            _ => None,
        }
    }

    fn tcp(
        &mut self,
        now_us: i64,
        p: &'static Personality,
        action: &Action,
        s: &TcpIn<'_>,
        os: Option<Arc<str>>,
        out: &mut Output,
    ) {
        let key: FlowKey = (s.src, s.sport, s.dst, s.dport);
        if self.has_session(&key) {
            self.session_segment(now_us, s, out);
            return;
        }
        if s.flags & flag::RST != 0 || *action == Action::Block {
            return;
        }
        let session = match action {
            Action::Service(name) => Service::named(name),
            _ => None,
        };
        let now_secs = (now_us.max(0) / 1_000_000) as u64;
        let syn = s.flags & flag::SYN != 0;
        let ack = s.flags & flag::ACK != 0;
        if syn && !ack {
            if action.accepts() {
                let mut offered = Offered::from_options(s.options);
                if session.is_some() && offered.ts.is_none() {
                    // The client's shift could not ride back in a timestamp, and a cookie
                    // has no room for it: no scaling on this session.
                    offered.ws = false;
                }
                let hs = self.handshake(s, s.seq);
                let cookie = self.key.make(now_secs, &hs, offered.mss.unwrap_or(536));
                let mut tsval = p.tsval(now_us.max(0) as u64);
                if session.is_some() {
                    tsval = tsval_with_shift(tsval, &offered);
                }
                let options = p.syn_ack_options(&offered, tsval);
                let window = p.syn_ack_window(&offered);
                self.send(
                    p,
                    out,
                    s,
                    cookie,
                    s.seq.wrapping_add(1),
                    flag::SYN | flag::ACK,
                    window,
                    &options,
                );
                self.stats.syn_acks += 1;
            } else {
                self.reset(p, s, out);
            }
            return;
        }
        if ack && !syn && action.accepts() {
            if let Some(service) = session {
                if self.session_closed_recently(&key, now_us) {
                    self.reset(p, s, out);
                    return;
                }
                let hs = self.handshake(s, s.seq.wrapping_sub(1));
                if let Some(mss) = self.key.check(now_secs, &hs, s.ack) {
                    self.session_open(now_us, service, s, mss, os, out);
                    return;
                }
            }
            // Is this the end of one of our handshakes? Before any data, the client's
            // sequence number is its ISN + 1.
            let known = self.flows.contains_key(&key);
            let valid = known
                || self
                    .key
                    .check(now_secs, &self.handshake(s, s.seq.wrapping_sub(1)), s.ack)
                    .is_some();
            if valid {
                if !known {
                    self.flow_start(now_us, key, s.ack, os, out);
                }
                // A repeated pure ACK changes nothing: the flow waits from its handshake.
                let fin = s.flags & flag::FIN != 0;
                if !s.payload.is_empty() || fin {
                    if !s.payload.is_empty() {
                        self.payload_event(now_us, s, out);
                    }
                    let flow = self.flows.remove(&key);
                    let rx = s.payload.len() as u64;
                    let our_seq = flow.map_or(s.ack, |f| f.our_seq);
                    let their_next = s.seq.wrapping_add(rx as u32).wrapping_add(u32::from(fin));
                    match self.cfg.close {
                        Close::Reset => {
                            self.send(p, out, s, our_seq, 0, flag::RST, 0, &[]);
                            self.stats.resets += 1;
                        }
                        Close::Fin => {
                            let window = p.syn_ack_window(&Offered::default());
                            self.send(
                                p,
                                out,
                                s,
                                our_seq,
                                their_next,
                                flag::FIN | flag::ACK,
                                window,
                                &[],
                            );
                            self.stats.fins += 1;
                        }
                    }
                    self.flow_end(now_us, key, rx, out);
                }
                return;
            }
        }
        // Anything else to a port that answers: a stack's RST (RFC 9293 3.10.7.1).
        self.reset(p, s, out);
    }

    /// The record of a connection's first payload: its size, SHA-256 and escaped head.
    fn payload_event(&mut self, now_us: i64, s: &TcpIn<'_>, out: &mut Output) {
        use sha2::{Digest, Sha256};
        let sha = format!("{:x}", Sha256::digest(s.payload));
        let keep = &s.payload[..s.payload.len().min(self.cfg.limits.payload_bytes)];
        let ev = PayloadEvent {
            time: Timestamp::from_micros(now_us).unwrap_or_default(),
            sensor: self.sensor.clone(),
            proto: 6,
            src: s.src.into(),
            sport: s.sport,
            dst: s.dst.into(),
            dport: s.dport,
            size: s.payload.len() as u64,
            sha256: sha.into(),
            head: escape(keep).into(),
        };
        out.events.push(Event::Payload(ev));
    }

    fn handshake(&self, s: &TcpIn<'_>, isn: u32) -> Handshake {
        Handshake {
            client: s.src.into(),
            server: s.dst.into(),
            client_port: s.sport,
            server_port: s.dport,
            client_isn: isn,
        }
    }

    fn flow_start(
        &mut self,
        now_us: i64,
        key: FlowKey,
        our_seq: u32,
        os: Option<Arc<str>>,
        out: &mut Output,
    ) {
        self.stats.handshakes += 1;
        // Full: the oldest waiting flow is logged as ended to make room.
        while self.flows.len() >= self.cfg.limits.flows && !self.flow_order.is_empty() {
            if let Some(old) = self.pop_oldest_flow() {
                self.stats.flows_evicted += 1;
                self.flow_end(now_us, old, 0, out);
            }
        }
        // Stale entries (flows that ended by payload or FIN) are dropped once they would
        // outnumber the open flows, so the order stays bounded too.
        if self.flow_order.len() >= 2 * self.cfg.limits.flows {
            let flows = &self.flows;
            self.flow_order
                .retain(|(t, k)| flows.get(k).is_some_and(|f| f.started_us == *t));
        }
        self.flows.insert(
            key,
            Flow {
                started_us: now_us,
                our_seq,
            },
        );
        self.flow_order.push_back((now_us, key));
        let mut ev = self.flow_record(now_us, key, PacketKind::FlowStart);
        ev.os = os;
        self.push(out, ev);
    }

    /// A flow's end (`E`), with the payload bytes it brought (`rx`); a flow without a
    /// service sends nothing.
    fn flow_end(&mut self, now_us: i64, key: FlowKey, rx: u64, out: &mut Output) {
        let mut ev = self.flow_record(now_us, key, PacketKind::FlowEnd);
        ev.rx_bytes = Some(rx);
        ev.tx_bytes = Some(0);
        self.push(out, ev);
    }

    fn flow_record(&self, now_us: i64, key: FlowKey, kind: PacketKind) -> PacketEvent {
        let (src, sport, dst, dport) = key;
        let time = Timestamp::from_micros(now_us).unwrap_or_default();
        let mut ev = PacketEvent::new(time, kind, 6, src.into(), dst.into());
        ev.sport = Some(sport);
        ev.dport = Some(dport);
        ev
    }

    /// A RST for a segment that gets one: `seq = ack` when it acknowledged something,
    /// else `seq 0` and an ACK of everything it occupied.
    fn reset(&mut self, p: &'static Personality, s: &TcpIn<'_>, out: &mut Output) {
        if s.flags & flag::ACK != 0 {
            self.send(p, out, s, s.ack, 0, flag::RST, 0, &[]);
        } else {
            let len = s.payload.len() as u32
                + u32::from(s.flags & flag::SYN != 0)
                + u32::from(s.flags & flag::FIN != 0);
            self.send(
                p,
                out,
                s,
                0,
                s.seq.wrapping_add(len),
                flag::RST | flag::ACK,
                0,
                &[],
            );
        }
        self.stats.resets += 1;
    }

    #[allow(clippy::too_many_arguments)]
    fn send(
        &mut self,
        p: &'static Personality,
        out: &mut Output,
        s: &TcpIn<'_>,
        seq: u32,
        ack: u32,
        flags: u8,
        window: u16,
        options: &[u8],
    ) {
        let id = self.ip_id(p, s.dst, p.df);
        out.replies.push(reply::tcp(
            p,
            id,
            &Segment {
                src: (s.dst, s.dport),
                dst: (s.src, s.sport),
                seq,
                ack,
                flags,
                window,
                options,
                payload: &[],
            },
        ));
    }

    /// The IP ID of host `us`'s next datagram.
    fn ip_id(&mut self, p: &Personality, us: Ipv4Addr, df: bool) -> u16 {
        match p.ip_id {
            // Linux sends 0 with DF; without DF (ICMP) it counts like everyone else.
            IpId::Zero if df => 0,
            IpId::Zero | IpId::Counter => {
                if self.ids.len() >= MAX_ID_HOSTS && !self.ids.contains_key(&us) {
                    self.ids.clear();
                }
                let key = &self.key;
                let next = self
                    .ids
                    .entry(us)
                    .or_insert_with(|| key.derive(&[b"ip-id", &us.octets()]) as u16);
                *next = next.wrapping_add(1).max(1);
                *next
            }
            IpId::Random => {
                let n = self.stats.packets.to_le_bytes();
                (self.key.derive(&[b"ip-id-random", &n, &us.octets()]) as u16).max(1)
            }
        }
    }

    fn push(&self, out: &mut Output, mut ev: PacketEvent) {
        ev.sensor = self.sensor.clone();
        out.events.push(Event::Packet(ev));
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Bytes as text: printable ASCII as it is, `\\` for a backslash, `\xNN` for the rest, so
/// an attacker's bytes can be read safely in any log viewer.
pub fn escape(bytes: &[u8]) -> String {
    let mut o = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\\' => o.push_str("\\\\"),
            0x20..=0x7e => o.push(char::from(b)),
            _ => {
                o.push_str("\\x");
                o.push(char::from(HEX[usize::from(b >> 4)]));
                o.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
    }
    o
}

/// The parts of an incoming TCP segment the engine uses.
struct TcpIn<'a> {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    window: u16,
    options: &'a [u8],
    payload: &'a [u8],
}

impl<'a> TcpIn<'a> {
    fn new(src: Ipv4Addr, dst: Ipv4Addr, t: &'a etherparse::TcpSlice<'a>) -> TcpIn<'a> {
        TcpIn {
            src,
            dst,
            sport: t.source_port(),
            dport: t.destination_port(),
            seq: t.sequence_number(),
            ack: t.acknowledgment_number(),
            flags: t.slice()[13],
            window: t.window_size(),
            options: t.options(),
            payload: t.payload(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use honeyscope_wire::personality::builtin;

    const LINUX_SYN_OPTS: [u8; 20] = [
        2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 1, 0xe2, 0x40, 0, 0, 0, 0, 1, 3, 3, 7,
    ];
    const T0: i64 = 1_700_000_000_000_000;

    fn them() -> Ipv4Addr {
        Ipv4Addr::new(203, 0, 113, 9)
    }

    fn us() -> Ipv4Addr {
        Ipv4Addr::new(198, 51, 100, 7)
    }

    fn segment(dport: u16, seq: u32, ack: u32, flags: u8, opts: &[u8], payload: &[u8]) -> Vec<u8> {
        reply::tcp(
            builtin("linux-5").unwrap(),
            0x1111,
            &Segment {
                src: (them(), 40000),
                dst: (us(), dport),
                seq,
                ack,
                flags,
                window: 64240,
                options: opts,
                payload,
            },
        )
    }

    fn engine(cfg: Config, db: &Database) -> Engine<'_> {
        Engine::new(cfg, db, CookieKey::new([9; 16]))
    }

    fn tcp_of(ip: &[u8]) -> (u32, u32, u8, u16) {
        let s = SlicedPacket::from_ip(ip).unwrap();
        let Some(TransportSlice::Tcp(t)) = s.transport else {
            panic!("not TCP")
        };
        (
            t.sequence_number(),
            t.acknowledgment_number(),
            t.slice()[13],
            t.window_size(),
        )
    }

    fn kinds(out: &Output) -> Vec<PacketKind> {
        out.events
            .iter()
            .map(|e| match e {
                Event::Packet(p) => p.kind,
                other => panic!("not a packet record: {other:?}"),
            })
            .collect()
    }

    /// The seed's config with TCP/23 `open` (no service): handshakes and first payloads
    /// only.
    fn open_23() -> Config {
        let mut cfg = Config::seed_default();
        for t in cfg.templates.values_mut() {
            t.tcp_ports.insert(23, crate::config::Action::Open);
        }
        cfg
    }

    #[test]
    fn a_handshake_on_an_open_port_completes_from_the_cookie_alone() {
        let db = Database::builtin();
        let mut e = engine(open_23(), &db);
        let mut out = Output::default();
        e.packet(
            T0,
            &segment(23, 1000, 0, flag::SYN, &LINUX_SYN_OPTS, b""),
            &mut out,
        );
        assert_eq!(out.replies.len(), 1);
        let (cookie, ack, flags, window) = tcp_of(&out.replies[0]);
        assert_eq!((ack, flags), (1001, flag::SYN | flag::ACK));
        assert_eq!(window, 5792, "linux-2.6: 4 segments of 1448");
        assert_eq!(e.open_flows(), 0, "no state for a SYN");
        // The SYN's OS is on its log line.
        let Event::Packet(p) = &out.events[0] else {
            panic!()
        };
        assert_eq!(p.os.as_deref(), Some("Linux 4.20 and newer"));
        assert_eq!(p.tcp_flags.map(|f| f.0), Some(flag::SYN));

        let mut out = Output::default();
        e.packet(
            T0 + 1000,
            &segment(23, 1001, cookie.wrapping_add(1), flag::ACK, &[], b""),
            &mut out,
        );
        assert!(out.replies.is_empty());
        assert_eq!(kinds(&out), [PacketKind::Probe, PacketKind::FlowStart]);
        assert_eq!(e.open_flows(), 1);

        let mut out = Output::default();
        let data = b"GET / HTTP/1.0\r\n\r\n";
        e.packet(
            T0 + 2000,
            &segment(
                23,
                1001,
                cookie.wrapping_add(1),
                flag::ACK | flag::PSH,
                &[],
                data,
            ),
            &mut out,
        );
        let Event::Payload(first) = &out.events[1] else {
            panic!("no payload record: {:?}", out.events)
        };
        assert_eq!(first.size, data.len() as u64);
        assert_eq!(&*first.head, "GET / HTTP/1.0\\x0d\\x0a\\x0d\\x0a");
        // sha256 of "GET / HTTP/1.0\r\n\r\n"
        assert_eq!(first.sha256.len(), 64);
        out.events.remove(1);
        assert_eq!(kinds(&out), [PacketKind::Probe, PacketKind::FlowEnd]);
        let Event::Packet(end) = &out.events[1] else {
            panic!()
        };
        assert_eq!(
            (end.rx_bytes, end.tx_bytes),
            (Some(data.len() as u64), Some(0))
        );
        let (seq, _, flags, _) = tcp_of(&out.replies[0]);
        assert_eq!((seq, flags), (cookie.wrapping_add(1), flag::RST));
        assert_eq!(e.open_flows(), 0);
        assert_eq!(e.stats().handshakes, 1);
        // The ended flow's place in the expiry order yields no second `E`.
        let mut out = Output::default();
        e.poll(T0 + 60_000_000, &mut out);
        assert!(out.events.is_empty());
    }

    #[test]
    fn a_forged_ack_gets_a_reset_and_no_flow() {
        let db = Database::builtin();
        let mut e = engine(Config::seed_default(), &db);
        let mut out = Output::default();
        e.packet(
            T0,
            &segment(80, 5000, 0x1234_5678, flag::ACK, &[], b""),
            &mut out,
        );
        assert_eq!(kinds(&out), [PacketKind::Probe]);
        let (seq, _, flags, _) = tcp_of(&out.replies[0]);
        assert_eq!((seq, flags), (0x1234_5678, flag::RST));
        assert_eq!(e.open_flows(), 0);
    }

    #[test]
    fn blocked_ports_are_only_logged_and_reset_ports_reset() {
        let db = Database::builtin();
        let mut e = engine(Config::seed_default(), &db);
        let mut out = Output::default();
        e.packet(T0, &segment(6379, 7, 0, flag::SYN, &[], b""), &mut out);
        assert!(out.replies.is_empty());
        assert_eq!(out.events.len(), 1);

        let cfg = Config::parse(
            "prefixes = [\"198.51.100.0/24\"]\n[templates.t]\npersonality = \"windows-7\"\ntcp = \"reset\"\n",
        )
        .unwrap();
        let mut e = engine(cfg, &db);
        let mut out = Output::default();
        e.packet(T0, &segment(6379, 7, 0, flag::SYN, &[], b""), &mut out);
        let (seq, ack, flags, _) = tcp_of(&out.replies[0]);
        assert_eq!((seq, ack, flags), (0, 8, flag::RST | flag::ACK));
        assert_eq!(out.replies[0][8], 128, "the template's personality answers");
    }

    #[test]
    fn udp_icmp_and_addresses_we_do_not_claim() {
        let db = Database::builtin();
        let cfg = Config::parse(
            "prefixes = [\"198.51.100.0/24\"]\n[templates.t]\npersonality = \"linux-5\"\n",
        )
        .unwrap();
        let mut e = engine(cfg, &db);
        let mut out = Output::default();
        let udp = [
            0x45, 0, 0, 29, 0, 0, 0, 0, 64, 17, 0, 0, 203, 0, 113, 9, 198, 51, 100, 7, 0x9c, 0x40,
            0xd0, 0xa5, 0, 9, 0, 0, 0x61,
        ];
        e.packet(T0, &udp, &mut out);
        assert_eq!(&out.replies[0][20..22], &[3, 3], "port unreachable");
        let ping = reply::echo_reply(
            builtin("linux-5").unwrap(),
            1,
            them(),
            us(),
            [0, 7, 0, 1],
            b"abcd",
        );
        let mut ping = ping.clone();
        ping[20] = 8; // echo request; the engine does not check ICMP checksums
        e.packet(T0, &ping, &mut out);
        assert_eq!(out.replies[1][20], 0, "echo reply");
        assert_eq!(&out.replies[1][24..28], &[0, 7, 0, 1]);
        let mut elsewhere = udp;
        elsewhere[19] = 7;
        elsewhere[18] = 101;
        e.packet(T0, &elsewhere, &mut out);
        e.packet(T0, &[0x60, 0, 0], &mut out);
        e.packet(T0, &[0x45, 0], &mut out);
        e.packet(T0, &[], &mut out);
        let s = e.stats();
        assert_eq!(out.events.len(), 2);
        assert_eq!((s.claimed, s.not_ours, s.not_ip, s.malformed), (2, 1, 1, 2));
        assert_eq!(s.packets, s.claimed + s.not_ours + s.not_ip + s.malformed);
    }

    #[test]
    fn idle_flows_end_and_the_table_is_bounded() {
        let db = Database::builtin();
        let mut cfg = open_23();
        cfg.limits.flows = 2;
        let mut e = engine(cfg, &db);
        let mut out = Output::default();
        for port in [40000u16, 40001, 40002] {
            let syn = reply::tcp(
                builtin("linux-5").unwrap(),
                1,
                &Segment {
                    src: (them(), port),
                    dst: (us(), 23),
                    seq: 10,
                    ack: 0,
                    flags: flag::SYN,
                    window: 1024,
                    options: &[],
                    payload: &[],
                },
            );
            e.packet(T0, &syn, &mut out);
            let (cookie, ..) = tcp_of(out.replies.last().unwrap());
            let ack = reply::tcp(
                builtin("linux-5").unwrap(),
                2,
                &Segment {
                    src: (them(), port),
                    dst: (us(), 23),
                    seq: 11,
                    ack: cookie.wrapping_add(1),
                    flags: flag::ACK,
                    window: 1024,
                    options: &[],
                    payload: &[],
                },
            );
            e.packet(T0 + i64::from(port - 40000), &ack, &mut out);
        }
        assert_eq!(e.open_flows(), 2);
        assert_eq!(e.stats().flows_evicted, 1);
        let mut out = Output::default();
        e.poll(T0 + 31_000_000, &mut out);
        assert_eq!(kinds(&out), [PacketKind::FlowEnd, PacketKind::FlowEnd]);
        assert_eq!(e.open_flows(), 0);
    }
}
