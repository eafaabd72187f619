//! One TCP connection on a claimed address, sans-IO: segments and
//! time in; segments, bytes for the service and events out. A driver owns the packets and
//! the clock, as quinn-proto's `Connection` leaves them to its endpoint.
//!
//! A connection starts **established**: the handshake was the stateless responder's, and the
//! final ACK carried a valid SYN cookie, so no state exists before this point. RFC 9293 is
//! the reference. What this core does:
//!
//! * in-order receive into a bounded buffer, with a small bounded out-of-order store;
//! * cumulative ACKs: at once for out-of-order data, a filled gap, a FIN or every second
//!   segment; otherwise delayed up to 40 ms (RFC 1122 4.2.3.2), or carried by our reply;
//! * sending within the peer's window (scaled) and MSS, with Reno congestion control
//!   (RFC 5681: slow start, congestion avoidance, fast retransmit on three duplicate ACKs);
//! * retransmission on the RTO of RFC 6298, with exponential back-off and a retry limit;
//! * zero-window probing (one byte, on the RTO schedule);
//! * FIN and RST both ways, half-close, a short TIME-WAIT;
//! * idle and total-lifetime limits, which end the connection with a RST;
//! * timestamps (RFC 7323) when the handshake had them: every segment echoes the newest
//!   TSval of a segment not ahead of what we acknowledge. Without them the peer takes no
//!   RTT sample from an ACK of retransmitted data (Karn), its back-off never resets, and
//!   under loss it stalls for ever longer: the impaired-link test found that out.
//!
//! What it leaves out on purpose, and why:
//!
//! * SACK (a personality may still offer it, as the stack it imitates does; blocks are
//!   ignored and the peer falls back to cumulative ACKs), PAWS, RTT samples from
//!   timestamps, window-scale changes: the SYN+ACK was stateless, so what was agreed is
//!   given to [`Connection::accept`] and kept small;
//! * urgent data: the pointer is ignored, and urgent bytes are ordinary bytes;
//! * RTO minimum of 200 ms, not RFC 6298's 1 s: the value Linux uses, so that a lossy link
//!   does not stall a session for a second per loss;
//! * TIME-WAIT of 2 s, not 2 MSL: a honeypot's addresses have no old incarnations to guard,
//!   and thousands of bots must not pin memory for minutes.

use std::collections::{BTreeMap, VecDeque};

/// The TCP flags this core reads and writes.
pub mod flag {
    /// No more data from the sender.
    pub const FIN: u8 = 0x01;
    /// Synchronise sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push.
    pub const PSH: u8 = 0x08;
    /// The acknowledgment field is significant.
    pub const ACK: u8 = 0x10;
}

/// Limits and timers of every connection.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Bytes received and not yet read by the service.
    pub rx_buffer: usize,
    /// Bytes written by the service and not yet acknowledged.
    pub tx_buffer: usize,
    /// Out-of-order segments kept (their bytes count against `rx_buffer` too).
    pub out_of_order: usize,
    /// Our MSS: the most we send in one segment, whatever the peer allows.
    pub mss: u16,
    /// Retransmissions of one segment before the connection is given up.
    pub max_retries: u32,
    /// No segment from the peer for this long ends the connection.
    pub idle_us: i64,
    /// No connection lives longer than this.
    pub lifetime_us: i64,
    /// How long a closed connection answers retransmitted FINs.
    pub time_wait_us: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            rx_buffer: 64 * 1024,
            tx_buffer: 64 * 1024,
            out_of_order: 64,
            mss: 1460,
            max_retries: 8,
            idle_us: 120_000_000,
            lifetime_us: 3_600_000_000,
            time_wait_us: 2_000_000,
        }
    }
}

const RTO_INITIAL_US: i64 = 1_000_000;
/// The longest an ACK is delayed (Linux's minimum; RFC 1122 allows 500 ms).
const DELAYED_ACK_US: i64 = 40_000;
const RTO_MIN_US: i64 = 200_000;
const RTO_MAX_US: i64 = 60_000_000;

/// What the handshake settled, for [`Connection::accept`].
#[derive(Debug, Clone, Copy)]
pub struct Handshake {
    /// Our initial sequence number (the SYN cookie).
    pub iss: u32,
    /// The peer's initial sequence number.
    pub irs: u32,
    /// The MSS the peer offered (536 when it offered none).
    pub peer_mss: u16,
    /// Window scales, when both sides offered one: (the peer's, ours).
    pub wscale: Option<(u8, u8)>,
    /// The window field of the peer's final ACK.
    pub peer_window: u16,
    /// The peer's TSval on its final ACK, when both sides sent timestamps (RFC 7323):
    /// then every segment carries them.
    pub ts_recent: Option<u32>,
}

/// A segment that arrived for this connection (its addresses and ports already matched).
#[derive(Debug, Clone, Copy)]
pub struct SegmentIn<'a> {
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Flags ([`flag`]).
    pub flags: u8,
    /// Window field, unscaled.
    pub window: u16,
    /// The timestamps option's TSval, if the segment has one.
    pub tsval: Option<u32>,
    /// Payload.
    pub payload: &'a [u8],
}

/// A segment to send; the driver wraps it in the personality's IP and TCP headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentOut {
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (always sent with ACK, except on a bare RST).
    pub ack: u32,
    /// Flags ([`flag`]).
    pub flags: u8,
    /// Window field, already scaled down.
    pub window: u16,
    /// When timestamps are on: the TSecr to send (the driver adds its own TSval, from a
    /// clock that never goes back).
    pub ts_ecr: Option<u32>,
    /// Payload.
    pub payload: Vec<u8>,
}

/// Why a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// Both sides sent FIN and it was acknowledged.
    Normal,
    /// The peer sent a RST.
    Reset,
    /// We aborted ([`Connection::abort`]).
    Aborted,
    /// A segment went unacknowledged through every retry.
    Retries,
    /// The peer sent nothing for [`Limits::idle_us`].
    Idle,
    /// [`Limits::lifetime_us`] passed.
    Lifetime,
}

/// What the service is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Bytes are waiting for [`Connection::read`].
    Readable,
    /// Room freed in the send buffer.
    Writable,
    /// The peer sent FIN: it will send nothing more (it may still read).
    PeerFinished,
    /// The connection is over.
    Closed(CloseReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Established,
    /// Our FIN is sent (or queued behind data), not yet acknowledged.
    FinWait1,
    /// Our FIN is acknowledged; waiting for the peer's.
    FinWait2,
    /// Both FINs sent, ours not yet acknowledged.
    Closing,
    /// Both done; answering stray FINs for a while.
    TimeWait,
    /// The peer's FIN arrived; we may still send.
    CloseWait,
    /// The peer's FIN arrived and ours is sent.
    LastAck,
    Closed,
}

/// Copies bytes of `q` from `at` on into `out`, as many as fit or remain (the ring's two
/// halves in at most two copies); how many.
fn copy_out(q: &VecDeque<u8>, at: usize, out: &mut [u8]) -> usize {
    let (a, b) = q.as_slices();
    let mut done = 0;
    let mut pos = at;
    for part in [a, b] {
        if done == out.len() {
            break;
        }
        if pos >= part.len() {
            pos -= part.len();
            continue;
        }
        let take = (part.len() - pos).min(out.len() - done);
        out[done..done + take].copy_from_slice(&part[pos..pos + take]);
        done += take;
        pos = 0;
    }
    done
}

fn lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

fn le(a: u32, b: u32) -> bool {
    a == b || lt(a, b)
}

/// One connection.
#[derive(Debug)]
pub struct Connection {
    limits: Limits,
    state: State,
    // Send side. `tx` holds the bytes from `snd_una` on, sent or not.
    snd_una: u32,
    /// The next sequence number to send; a timeout moves it back to `snd_una`.
    snd_nxt: u32,
    /// The highest sequence number sent so far, plus one.
    snd_max: u32,
    snd_wnd: u32,
    snd_wl1: u32,
    snd_wl2: u32,
    peer_mss: u16,
    peer_shift: u8,
    our_shift: u8,
    tx: VecDeque<u8>,
    /// The service asked to close: a FIN follows the data.
    fin_queued: bool,
    /// Our FIN's sequence number, once sent.
    fin_seq: Option<u32>,
    cwnd: u32,
    ssthresh: u32,
    dup_acks: u32,
    /// In fast recovery until this is acknowledged (NewReno, RFC 6582).
    recover: Option<u32>,
    /// Resend one segment from `snd_una` at the next transmit.
    retransmit: bool,
    // Receive side.
    rcv_nxt: u32,
    rx: VecDeque<u8>,
    /// Out-of-order data by its offset in the stream (`bytes_in` is `rcv_nxt`'s), so the
    /// order holds across sequence-number wrap.
    ooo: BTreeMap<u64, Vec<u8>>,
    fin_received: bool,
    /// The stream offset of a FIN that came beyond a gap.
    fin_at: Option<u64>,
    ack_pending: bool,
    /// The TSval to echo, when timestamps are on.
    ts_recent: Option<u32>,
    /// The right edge of the window we last advertised.
    adv_edge: u32,
    /// In-order segments received since our last ACK.
    unacked_segments: u32,
    /// When a delayed ACK is due.
    ack_at: Option<i64>,
    rst_pending: bool,
    // Timers (microseconds since the epoch).
    srtt: Option<i64>,
    rttvar: i64,
    /// The RTO from the RTT estimate, before back-off.
    rto_base: i64,
    /// The RTO in force: `rto_base`, doubled by each timeout until the next ACK.
    rto: i64,
    rtt_probe: Option<(u32, i64)>,
    retries: u32,
    rto_at: Option<i64>,
    last_heard: i64,
    created: i64,
    time_wait_until: Option<i64>,
    events: VecDeque<Event>,
    /// Payload bytes received in order, and sent for the first time.
    pub bytes_in: u64,
    /// Payload bytes sent (first transmissions only).
    pub bytes_out: u64,
}

impl Connection {
    /// A connection established at `now` by a handshake that completed from a cookie.
    pub fn accept(now: i64, h: Handshake, limits: Limits) -> Connection {
        let (peer_shift, our_shift) = h.wscale.map_or((0, 0), |(p, o)| (p.min(14), o.min(14)));
        // The timestamps option takes 12 bytes of every segment.
        let ts_room = if h.ts_recent.is_some() { 12 } else { 0 };
        let mss = u32::from(h.peer_mss.clamp(64, limits.mss.max(64)) - ts_room);
        let iss1 = h.iss.wrapping_add(1);
        Connection {
            state: State::Established,
            snd_una: iss1,
            snd_nxt: iss1,
            snd_max: iss1,
            snd_wnd: u32::from(h.peer_window) << peer_shift,
            snd_wl1: h.irs.wrapping_add(1),
            snd_wl2: iss1,
            peer_mss: mss as u16,
            peer_shift,
            our_shift,
            tx: VecDeque::new(),
            fin_queued: false,
            fin_seq: None,
            cwnd: 10 * mss,
            ssthresh: u32::MAX,
            dup_acks: 0,
            recover: None,
            retransmit: false,
            rcv_nxt: h.irs.wrapping_add(1),
            rx: VecDeque::new(),
            ooo: BTreeMap::new(),
            fin_received: false,
            fin_at: None,
            ack_pending: false,
            ts_recent: h.ts_recent,
            // The SYN+ACK's window; the final ACK's processing sends ours soon enough.
            adv_edge: h.irs.wrapping_add(1),
            unacked_segments: 0,
            ack_at: None,
            rst_pending: false,
            srtt: None,
            rttvar: 0,
            rto_base: RTO_INITIAL_US,
            rto: RTO_INITIAL_US,
            rtt_probe: None,
            retries: 0,
            rto_at: None,
            last_heard: now,
            created: now,
            time_wait_until: None,
            events: VecDeque::new(),
            bytes_in: 0,
            bytes_out: 0,
            limits,
        }
    }

    /// Whether the connection is over (its state can be dropped).
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    fn mss(&self) -> u32 {
        u32::from(self.peer_mss)
    }

    /// Bytes in the receive store, in order and out of order.
    fn rx_used(&self) -> usize {
        self.rx.len() + self.ooo.values().map(Vec::len).sum::<usize>()
    }

    fn rcv_wnd(&self) -> u32 {
        self.limits.rx_buffer.saturating_sub(self.rx.len()) as u32
    }

    fn close_with(&mut self, reason: CloseReason) {
        if self.state != State::Closed {
            self.state = State::Closed;
            self.rto_at = None;
            self.events.push_back(Event::Closed(reason));
        }
    }

    /// Handles a segment that arrived at `now`.
    pub fn segment(&mut self, now: i64, s: &SegmentIn<'_>) {
        if self.state == State::Closed {
            return;
        }
        let len = s.payload.len() as u32;
        let wnd = self.rcv_wnd().max(1);
        let in_window = |seq: u32| le(self.rcv_nxt, seq) && lt(seq, self.rcv_nxt.wrapping_add(wnd));
        // RFC 7323 4.3: echo the newest TSval of a segment that is not ahead of what we
        // acknowledge (no PAWS: a segment with an old TSval is still taken).
        if let (Some(recent), Some(v)) = (self.ts_recent, s.tsval) {
            if le(s.seq, self.rcv_nxt) && le(recent, v) {
                self.ts_recent = Some(v);
            }
        }
        if s.flags & flag::RST != 0 {
            // RFC 5961: only the exact next sequence number resets; elsewhere in the window
            // earns a challenge ACK, and outside it nothing.
            if s.seq == self.rcv_nxt {
                self.close_with(CloseReason::Reset);
            } else if in_window(s.seq) {
                self.ack_pending = true;
            }
            return;
        }
        if s.flags & flag::SYN != 0 {
            // A SYN on an established connection: a challenge ACK (RFC 5961), no reset.
            self.ack_pending = true;
            return;
        }
        // Acceptable? Something of the segment must fall in the window (RFC 9293 3.10.7.4);
        // a FIN counts as one more octet, so old data carried with a new FIN is taken.
        let end = s.seq.wrapping_add(len);
        let seg_len = len + u32::from(s.flags & flag::FIN != 0);
        let seg_end = s.seq.wrapping_add(seg_len);
        let acceptable = if seg_len == 0 {
            s.seq == self.rcv_nxt || in_window(s.seq)
        } else {
            in_window(s.seq)
                || in_window(seg_end.wrapping_sub(1))
                || lt(s.seq, self.rcv_nxt) && lt(self.rcv_nxt, seg_end)
        };
        if !acceptable {
            // Old duplicates and segments beyond the window get an ACK saying where we are.
            if s.flags & flag::FIN == 0 || s.seq != self.rcv_nxt {
                self.ack_pending = true;
                if self.state == State::TimeWait && s.flags & flag::FIN != 0 {
                    self.time_wait_until = Some(now + self.limits.time_wait_us);
                }
                return;
            }
        }
        if s.flags & flag::ACK == 0 {
            return;
        }
        // Only acceptable segments keep the connection alive: junk cannot defeat the idle
        // limit.
        self.last_heard = now;
        if !self.ack(now, s) || self.state == State::Closed {
            return;
        }
        // Nothing is taken after the peer's FIN; it is only acknowledged.
        if len > 0 && !self.fin_received {
            self.receive(now, s.seq, s.payload);
        } else if len > 0 {
            self.ack_pending = true;
        }
        let fin = s.flags & flag::FIN != 0;
        if fin && !self.fin_received && lt(self.rcv_nxt, end) {
            // A FIN beyond a gap: remembered by its stream offset, taken once the gap fills.
            self.fin_at = Some(self.bytes_in + u64::from(end.wrapping_sub(self.rcv_nxt)));
        }
        let fin_now = fin && end == self.rcv_nxt || self.fin_at == Some(self.bytes_in);
        if fin_now && !self.fin_received {
            self.fin_received = true;
            self.fin_at = None;
            self.rcv_nxt = self.rcv_nxt.wrapping_add(1);
            self.ack_pending = true;
            self.events.push_back(Event::PeerFinished);
            self.state = match self.state {
                State::Established => State::CloseWait,
                State::FinWait1 => State::Closing,
                State::FinWait2 => {
                    self.time_wait_until = Some(now + self.limits.time_wait_us);
                    State::TimeWait
                }
                other => other,
            };
        } else if self.state == State::TimeWait && fin {
            // The peer did not hear our ACK of its FIN: again, and wait again.
            self.ack_pending = true;
            self.time_wait_until = Some(now + self.limits.time_wait_us);
        }
    }

    /// Processes the acknowledgment of `s`; `false` when the segment is to be dropped (it
    /// acknowledges what we never sent).
    fn ack(&mut self, now: i64, s: &SegmentIn<'_>) -> bool {
        let ack = s.ack;
        if lt(self.snd_max, ack) {
            // Acknowledges what we never sent: an ACK says where we are, and the segment
            // goes (RFC 9293 3.10.7.4).
            self.ack_pending = true;
            return false;
        }
        let window = u32::from(s.window) << self.peer_shift;
        if window == 0 {
            // The peer answers while it holds its window shut: alive, so probing goes on
            // (RFC 9293 3.8.6.1) until the idle or lifetime limit.
            self.retries = 0;
        }
        let mss = self.mss();
        if lt(self.snd_una, ack) {
            let acked = ack.wrapping_sub(self.snd_una);
            let fin_acked = self.fin_seq.is_some_and(|f| lt(f, ack));
            let data = acked - u32::from(fin_acked);
            self.tx.drain(..(data as usize).min(self.tx.len()));
            self.snd_una = ack;
            if lt(self.snd_nxt, ack) {
                // After a timeout rewound it: what the peer already has is not resent.
                self.snd_nxt = ack;
            }
            self.retries = 0;
            self.dup_acks = 0;
            // The path delivers again: the back-off ends (as Linux does), without waiting
            // for Karn's next clean sample.
            self.rto = self.rto_base;
            if let Some((seq, sent)) = self.rtt_probe {
                if lt(seq, ack) {
                    self.rtt_sample(now - sent);
                    self.rtt_probe = None;
                }
            }
            match self.recover {
                // A partial ACK in fast recovery: the next hole is lost too (RFC 6582).
                Some(r) if lt(ack, r) => self.retransmit = true,
                Some(_) => {
                    self.recover = None;
                    self.cwnd = self.ssthresh;
                }
                // Congestion control: slow start, then about one MSS per window.
                None if self.cwnd < self.ssthresh => {
                    self.cwnd = self.cwnd.saturating_add(acked.min(mss))
                }
                None => {
                    self.cwnd = self
                        .cwnd
                        .saturating_add((mss * mss / self.cwnd.max(1)).max(1))
                }
            }
            self.rto_at = (self.snd_una != self.snd_max).then_some(now + self.rto);
            if data > 0 {
                self.events.push_back(Event::Writable);
            }
            if fin_acked {
                match self.state {
                    State::FinWait1 => self.state = State::FinWait2,
                    State::Closing => {
                        self.state = State::TimeWait;
                        self.time_wait_until = Some(now + self.limits.time_wait_us);
                    }
                    State::LastAck => self.close_with(CloseReason::Normal),
                    _ => {}
                }
            }
        } else if ack == self.snd_una
            && s.payload.is_empty()
            && s.flags & flag::FIN == 0
            && window == self.snd_wnd
            && window != 0
            && self.snd_una != self.snd_max
        {
            self.dup_acks += 1;
            if self.dup_acks == 3 && self.recover.is_none() {
                // Fast retransmit (RFC 5681 3.2), then NewReno recovery.
                let flight = self.snd_max.wrapping_sub(self.snd_una);
                self.ssthresh = (flight / 2).max(2 * mss);
                self.cwnd = self.ssthresh + 3 * mss;
                self.recover = Some(self.snd_max);
                self.retransmit = true;
            } else if self.dup_acks > 3 {
                // Each further duplicate means a segment left the network.
                self.cwnd = self.cwnd.saturating_add(mss);
            }
        }
        // Window update, from the newest segment that acknowledges within what we sent
        // (RFC 9293 SND.WL1/WL2).
        let newest = lt(self.snd_wl1, s.seq) || self.snd_wl1 == s.seq && le(self.snd_wl2, ack);
        if newest && le(self.snd_una, ack) {
            if self.snd_wnd == 0 && window > 0 && self.snd_nxt != self.snd_una {
                // The window opened without taking the probe byte: send from the oldest
                // byte again, now, on the plain RTO.
                self.snd_nxt = self.snd_una;
                self.rto = self.rto_base;
                self.rto_at = None;
            }
            self.snd_wnd = window;
            self.snd_wl1 = s.seq;
            self.snd_wl2 = ack;
        }
        true
    }

    fn rtt_sample(&mut self, r: i64) {
        // RFC 6298 2.2 and 2.3.
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(srtt) => {
                self.rttvar = (3 * self.rttvar + (srtt - r).abs()) / 4;
                self.srtt = Some((7 * srtt + r) / 8);
            }
        }
        let srtt = self.srtt.unwrap_or(r);
        self.rto_base = (srtt + (4 * self.rttvar).max(1_000)).clamp(RTO_MIN_US, RTO_MAX_US);
        self.rto = self.rto_base;
    }

    /// Takes in data at `seq`: in order into `rx`, ahead of a gap into the bounded store.
    fn receive(&mut self, now: i64, seq: u32, payload: &[u8]) {
        // Drop what we already have.
        let skip = if lt(seq, self.rcv_nxt) {
            self.rcv_nxt.wrapping_sub(seq) as usize
        } else {
            0
        };
        let Some(payload) = payload.get(skip..) else {
            return;
        };
        let seq = seq.wrapping_add(skip as u32);
        // Out of order (or old): a duplicate ACK at once, which is what makes the peer's
        // fast retransmit work.
        if seq != self.rcv_nxt || payload.is_empty() {
            self.ack_pending = true;
        }
        if seq != self.rcv_nxt {
            let ahead = seq.wrapping_sub(self.rcv_nxt) as usize;
            let fits = payload
                .len()
                .min((self.rcv_wnd() as usize).saturating_sub(ahead));
            let stored: usize = self.ooo.values().map(Vec::len).sum();
            if fits > 0
                && self.ooo.len() < self.limits.out_of_order
                && self.rx.len() + stored + fits <= self.limits.rx_buffer
            {
                self.ooo
                    .entry(self.bytes_in + ahead as u64)
                    .or_insert_with(|| payload[..fits].to_vec());
            }
            return;
        }
        // In-order bytes may use the whole window even when out-of-order ones are stored:
        // they are what lets the store drain. So `rx` and the store are each at most
        // `rx_buffer`.
        let take = payload.len().min(self.rcv_wnd() as usize);
        self.rx.extend(&payload[..take]);
        self.rcv_nxt = self.rcv_nxt.wrapping_add(take as u32);
        self.bytes_in += take as u64;
        // In order: every second segment is acknowledged at once, a lone one within 40 ms
        // (or by the reply it provokes); a gap just filled, or data we could not take, at
        // once.
        // A segment the sender's kernel handed over whole (TSO through a TUN device with
        // offloads) counts as the segments it stands for.
        self.unacked_segments += (payload.len() as u32).div_ceil(self.mss()).max(1);
        if self.unacked_segments >= 2 || take < payload.len() || !self.ooo.is_empty() {
            self.ack_pending = true;
        } else {
            self.ack_at.get_or_insert(now + DELAYED_ACK_US);
        }
        // Out-of-order segments that now join on.
        while let Some((&at, _)) = self.ooo.first_key_value() {
            if at > self.bytes_in {
                break;
            }
            let Some((at, data)) = self.ooo.pop_first() else {
                break;
            };
            let skip = (self.bytes_in - at) as usize;
            if let Some(rest) = data.get(skip..) {
                let take = rest.len().min(self.rcv_wnd() as usize);
                self.rx.extend(&rest[..take]);
                self.rcv_nxt = self.rcv_nxt.wrapping_add(take as u32);
                self.bytes_in += take as u64;
            }
        }
        if take > 0 {
            self.events.push_back(Event::Readable);
        }
    }

    /// Bytes received and waiting for [`Connection::read`].
    pub fn readable(&self) -> usize {
        self.rx.len()
    }

    /// Reads received bytes into `buf`; how many.
    pub fn read(&mut self, buf: &mut [u8]) -> usize {
        let n = copy_out(&self.rx, 0, buf);
        self.consume(n)
    }

    /// Drops up to `n` received bytes unread (a service that discards); how many. When
    /// that opens a window that was nearly closed, the peer is told at once.
    pub fn consume(&mut self, n: usize) -> usize {
        let n = n.min(self.rx.len());
        self.rx.drain(..n);
        // Tell the peer when the window it knows has shrunk to half the buffer or less and
        // reading has at least doubled it (Linux's rule in tcp_cleanup_rbuf); this also
        // covers a window that was nearly closed.
        let known = self.adv_edge.wrapping_sub(self.rcv_nxt) as i32;
        let known = known.max(0) as u32;
        let buffer = self.limits.rx_buffer as u32;
        if n > 0 && 2 * known <= buffer && self.rcv_wnd() >= (2 * known).max(self.mss()) {
            self.ack_pending = true;
        }
        n
    }

    /// Queues `data` to send; how much of it fit in the send buffer.
    pub fn write(&mut self, data: &[u8]) -> usize {
        if self.write_closed() {
            return 0;
        }
        let n = data
            .len()
            .min(self.limits.tx_buffer.saturating_sub(self.tx.len()));
        self.tx.extend(&data[..n]);
        n
    }

    /// Whether our side is shut ([`Connection::close`], or the connection is past it):
    /// writes take nothing.
    pub fn write_closed(&self) -> bool {
        self.fin_queued || !matches!(self.state, State::Established | State::CloseWait)
    }

    /// Room left in the send buffer.
    pub fn send_room(&self) -> usize {
        if self.write_closed() {
            return 0;
        }
        self.limits.tx_buffer.saturating_sub(self.tx.len())
    }

    /// Sends FIN once everything written is sent (half-close: we may still receive).
    pub fn close(&mut self) {
        if matches!(self.state, State::Established | State::CloseWait) {
            self.fin_queued = true;
        }
    }

    /// Ends the connection now with a RST.
    pub fn abort(&mut self) {
        if self.state != State::Closed {
            self.rst_pending = true;
            self.close_with(CloseReason::Aborted);
        }
    }

    fn window_field(&self) -> u16 {
        (self.rcv_wnd() >> self.our_shift).min(u32::from(u16::MAX)) as u16
    }

    fn out(&mut self, seq: u32, flags: u8, payload: Vec<u8>) -> SegmentOut {
        // Every segment we send acknowledges everything received.
        self.ack_pending = false;
        self.unacked_segments = 0;
        self.ack_at = None;
        let window = (u32::from(self.window_field())) << self.our_shift;
        self.adv_edge = self.rcv_nxt.wrapping_add(window);
        SegmentOut {
            seq,
            ack: self.rcv_nxt,
            flags: flags | flag::ACK,
            window: self.window_field(),
            ts_ecr: self.ts_recent,
            payload,
        }
    }

    /// The next segment to send at `now`, if any. Call until `None`.
    pub fn poll_transmit(&mut self, now: i64) -> Option<SegmentOut> {
        if self.rst_pending {
            self.rst_pending = false;
            return Some(SegmentOut {
                // Where the peer expects us, unless it lost what we sent last.
                seq: self.snd_max,
                ack: self.rcv_nxt,
                flags: flag::RST | flag::ACK,
                window: 0,
                ts_ecr: None,
                payload: vec![],
            });
        }
        if matches!(self.state, State::Closed) {
            return None;
        }
        let mss = self.mss() as usize;
        if self.retransmit {
            // One segment from the oldest unacknowledged byte: a fast retransmit, a NewReno
            // partial ACK, or a zero-window probe (one byte).
            self.retransmit = false;
            self.rtt_probe = None; // Karn: no samples from retransmissions.
            self.rto_at = Some(now + self.rto);
            let n = self.tx.len().min(mss).min(self.snd_wnd.max(1) as usize);
            if n > 0 {
                let mut data = vec![0; n];
                copy_out(&self.tx, 0, &mut data);
                self.sent_up_to(self.snd_una.wrapping_add(n as u32));
                return Some(self.out(self.snd_una, flag::PSH, data));
            }
            if let Some(f) = self.fin_seq.filter(|&f| f == self.snd_una) {
                self.sent_up_to(f.wrapping_add(1));
                return Some(self.out(f, flag::FIN, vec![]));
            }
        }
        // Data from `snd_nxt`, within the peer's window and the congestion window. `tx`
        // holds the bytes from `snd_una` up to our FIN.
        let off = self.snd_nxt.wrapping_sub(self.snd_una) as usize;
        let in_flight = off;
        let limit = (self.snd_wnd.min(self.cwnd) as usize).saturating_sub(in_flight);
        let n = self.tx.len().saturating_sub(off).min(mss).min(limit);
        if n > 0 {
            let mut data = vec![0; n];
            copy_out(&self.tx, off, &mut data);
            let seq = self.snd_nxt;
            if seq == self.snd_max {
                self.rtt_probe.get_or_insert((seq, now));
            }
            self.sent_up_to(seq.wrapping_add(n as u32));
            self.rto_at.get_or_insert(now + self.rto);
            return Some(self.out(seq, flag::PSH, data));
        }
        // The FIN, once every byte before it is sent (again, after a timeout).
        let all_sent = off == self.tx.len();
        if self.fin_queued && all_sent && self.fin_seq.is_none_or(|f| f == self.snd_nxt) {
            let seq = self.snd_nxt;
            if self.fin_seq.is_none() {
                self.fin_seq = Some(seq);
                self.state = match self.state {
                    State::CloseWait => State::LastAck,
                    _ => State::FinWait1,
                };
            }
            self.sent_up_to(seq.wrapping_add(1));
            self.rto_at.get_or_insert(now + self.rto);
            return Some(self.out(seq, flag::FIN, vec![]));
        }
        if self.ack_pending {
            return Some(self.out(self.snd_nxt, 0, vec![]));
        }
        None
    }

    /// Moves `snd_nxt` (and `snd_max`, counting first transmissions) up to `end`.
    fn sent_up_to(&mut self, end: u32) {
        if lt(self.snd_nxt, end) {
            self.snd_nxt = end;
        }
        if lt(self.snd_max, end) {
            // The FIN takes a sequence number but is not a byte of data.
            let fin = u32::from(
                self.fin_seq
                    .is_some_and(|f| le(self.snd_max, f) && lt(f, end)),
            );
            self.bytes_out += u64::from(end.wrapping_sub(self.snd_max) - fin);
            self.snd_max = end;
        }
    }

    /// When [`Connection::handle_timeout`] should next run.
    pub fn poll_timeout(&self) -> Option<i64> {
        if self.state == State::Closed {
            return None;
        }
        let limits = [
            self.ack_at,
            self.rto_at,
            self.time_wait_until,
            Some(self.last_heard + self.limits.idle_us),
            Some(self.created + self.limits.lifetime_us),
            // A zero window with data waiting: probe on the RTO schedule.
            (self.snd_wnd == 0 && !self.tx.is_empty() && self.rto_at.is_none())
                .then_some(self.last_heard + self.rto),
        ];
        limits.into_iter().flatten().min()
    }

    /// Runs the timers that are due at `now`.
    pub fn handle_timeout(&mut self, now: i64) {
        if self.state == State::Closed {
            return;
        }
        if self.time_wait_until.is_some_and(|t| now >= t) {
            self.close_with(CloseReason::Normal);
            return;
        }
        if now >= self.created + self.limits.lifetime_us {
            self.abort_for(CloseReason::Lifetime);
            return;
        }
        if now >= self.last_heard + self.limits.idle_us {
            self.abort_for(CloseReason::Idle);
            return;
        }
        if self.ack_at.is_some_and(|t| now >= t) {
            self.ack_at = None;
            self.ack_pending = true;
        }
        let zero_window_probe = self.snd_wnd == 0
            && !self.tx.is_empty()
            && self.rto_at.is_none()
            && now >= self.last_heard + self.rto;
        if self.rto_at.is_some_and(|t| now >= t) || zero_window_probe {
            self.retries += 1;
            if self.retries > self.limits.max_retries {
                self.abort_for(CloseReason::Retries);
                return;
            }
            // RFC 6298 5.5–5.7 and RFC 5681 3.1: back off, restart from one segment, and
            // send everything unacknowledged again (go-back-N), as Linux does after a
            // timeout. Without it each lost segment of a window would wait for its own,
            // ever longer, timeout.
            self.rto = (self.rto * 2).min(RTO_MAX_US);
            let flight = self.snd_max.wrapping_sub(self.snd_una);
            self.ssthresh = (flight / 2).max(2 * self.mss());
            self.cwnd = self.mss();
            self.recover = None;
            self.dup_acks = 0;
            self.rtt_probe = None;
            self.snd_nxt = self.snd_una;
            // A zero window takes a one-byte probe; otherwise the go-back-N path sends.
            self.retransmit = self.snd_wnd == 0;
            self.rto_at = Some(now + self.rto);
        }
    }

    fn abort_for(&mut self, reason: CloseReason) {
        self.rst_pending = true;
        self.close_with(reason);
    }

    /// Whether [`Connection::poll_transmit`] may have something to send: what a driver
    /// asks after the service read or wrote, to know whether to run the connection again.
    pub fn wants_transmit(&self) -> bool {
        let unsent = (self.snd_nxt.wrapping_sub(self.snd_una) as usize) < self.tx.len();
        self.rst_pending
            || self.ack_pending
            || self.retransmit
            || unsent
            || (self.fin_queued && self.fin_seq.is_none())
    }

    /// The next event for the service.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The oldest unacknowledged sequence number and the peer's window in bytes: no new
    /// data goes past `una + window` (a zero-window probe sends one byte).
    pub fn send_window(&self) -> (u32, u32) {
        (self.snd_una, self.snd_wnd)
    }

    /// Memory this connection holds beyond its fixed size: at most `tx_buffer` to send, and
    /// `rx_buffer` each in order and out of order ([`Limits`]).
    pub fn buffered(&self) -> usize {
        self.rx_used() + self.tx.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: u32 = 0xffff_fff0; // wraps during the tests
    const IRS: u32 = 1_000;

    fn conn(window: u16) -> Connection {
        conn_from(IRS, window)
    }

    /// A connection whose peer started at `irs`.
    fn conn_from(irs: u32, window: u16) -> Connection {
        Connection::accept(
            0,
            Handshake {
                iss: ISS,
                irs,
                peer_mss: 1000,
                wscale: None,
                peer_window: window,
                ts_recent: None,
            },
            Limits {
                rx_buffer: 4000,
                tx_buffer: 10_000,
                ..Limits::default()
            },
        )
    }

    fn seg(seq: u32, ack: u32, flags: u8, payload: &[u8]) -> SegmentIn<'_> {
        SegmentIn {
            seq,
            ack,
            flags: flags | flag::ACK,
            window: 65_535,
            tsval: None,
            payload,
        }
    }

    fn drain(c: &mut Connection, now: i64) -> Vec<SegmentOut> {
        std::iter::from_fn(|| c.poll_transmit(now)).collect()
    }

    fn events(c: &mut Connection) -> Vec<Event> {
        std::iter::from_fn(|| c.poll_event()).collect()
    }

    #[test]
    fn timestamps_echo_the_newest_tsval_and_take_their_room() {
        let mut c = Connection::accept(
            0,
            Handshake {
                iss: ISS,
                irs: IRS,
                peer_mss: 1000,
                wscale: None,
                peer_window: 65_535,
                ts_recent: Some(5),
            },
            Limits::default(),
        );
        let us = ISS.wrapping_add(1);
        let mut s = seg(IRS + 1, us, 0, b"hi");
        s.tsval = Some(9);
        c.segment(1, &s);
        // A segment from beyond a gap does not move what we echo.
        let mut ahead = seg(IRS + 100, us, 0, b"later");
        ahead.tsval = Some(50);
        c.segment(2, &ahead);
        c.write(&[7; 3000]);
        let out = drain(&mut c, 3);
        assert!(!out.is_empty());
        assert!(out.iter().all(|o| o.ts_ecr == Some(9)), "{out:?}");
        // The option's 12 bytes come out of the MSS.
        assert!(out.iter().all(|o| o.payload.len() <= 988));
        assert_eq!(out[0].payload.len(), 988);
    }

    #[test]
    fn in_order_data_is_read_and_acknowledged() {
        let mut c = conn(65_535);
        let us = ISS.wrapping_add(1);
        c.segment(1, &seg(IRS + 1, us, flag::PSH, b"hello"));
        // One segment: the ACK waits (for a reply to carry it), at most 40 ms.
        assert!(drain(&mut c, 1).is_empty());
        assert_eq!(c.poll_timeout(), Some(40_001));
        c.handle_timeout(40_001);
        let out = drain(&mut c, 40_001);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].ack, out[0].flags), (IRS + 6, flag::ACK));
        // Two segments: acknowledged at once.
        c.segment(50_000, &seg(IRS + 6, us, 0, b"a"));
        c.segment(50_001, &seg(IRS + 7, us, 0, b"b"));
        assert_eq!(drain(&mut c, 50_001)[0].ack, IRS + 8);
        let mut buf = [0; 16];
        assert_eq!(c.read(&mut buf), 7);
        assert_eq!(&buf[..7], b"helloab");
        assert_eq!(
            events(&mut c),
            [Event::Readable, Event::Readable, Event::Readable]
        );
        assert_eq!(c.bytes_in, 7);
    }

    #[test]
    fn out_of_order_data_waits_for_the_gap() {
        let mut c = conn(65_535);
        let us = ISS.wrapping_add(1);
        c.segment(1, &seg(IRS + 4, us, 0, b"def"));
        let out = drain(&mut c, 1);
        assert_eq!(out[0].ack, IRS + 1, "a duplicate ACK for the gap");
        assert_eq!(c.read(&mut [0; 8]), 0);
        c.segment(2, &seg(IRS + 1, us, 0, b"abc"));
        assert_eq!(drain(&mut c, 2)[0].ack, IRS + 7);
        let mut buf = [0; 8];
        assert_eq!(c.read(&mut buf), 6);
        assert_eq!(&buf[..6], b"abcdef");
        // A duplicate of old data is acknowledged and dropped.
        c.segment(3, &seg(IRS + 1, us, 0, b"abc"));
        assert_eq!(drain(&mut c, 3)[0].ack, IRS + 7);
        assert_eq!(c.read(&mut buf), 0);
    }

    #[test]
    fn the_receive_buffer_is_a_hard_cap() {
        let mut c = conn(65_535);
        let us = ISS.wrapping_add(1);
        let big = vec![7u8; 3000];
        c.segment(1, &seg(IRS + 1, us, 0, &big));
        c.segment(2, &seg(IRS + 3001, us, 0, &big));
        assert!(c.buffered() <= 4000);
        let out = drain(&mut c, 2);
        assert_eq!(out.last().unwrap().ack, IRS + 4001, "only what fits");
        assert_eq!(out.last().unwrap().window, 0);
        // Reading opens the window, and the peer is told.
        assert_eq!(c.read(&mut [0; 4000]), 4000);
        assert_eq!(drain(&mut c, 3).last().unwrap().window, 4000);
    }

    #[test]
    fn sends_within_the_window_and_the_mss_and_retransmits_with_backoff() {
        let mut c = conn(2500);
        assert_eq!(c.write(&[1; 4000]), 4000);
        let out = drain(&mut c, 0);
        let sizes: Vec<usize> = out.iter().map(|s| s.payload.len()).collect();
        assert_eq!(sizes, [1000, 1000, 500], "MSS 1000, window 2500");
        assert_eq!(out[0].seq, ISS.wrapping_add(1));
        // Nothing acknowledged: the RTO (1 s at first) resends the first segment.
        assert_eq!(c.poll_timeout(), Some(1_000_000));
        c.handle_timeout(1_000_000);
        let again = drain(&mut c, 1_000_000);
        assert_eq!(again.len(), 1);
        assert_eq!((again[0].seq, again[0].payload.len()), (out[0].seq, 1000));
        assert_eq!(c.poll_timeout(), Some(3_000_000), "backed off to 2 s");
        // Acknowledged: the rest flows.
        c.segment(3_100_000, &seg(IRS + 1, ISS.wrapping_add(2501), 0, b""));
        let rest = drain(&mut c, 3_100_000);
        assert_eq!(rest.iter().map(|s| s.payload.len()).sum::<usize>(), 1500);
        assert_eq!(events(&mut c), [Event::Writable]);
    }

    #[test]
    fn three_duplicate_acks_resend_at_once() {
        let mut c = conn(65_535);
        c.write(&[1; 5000]);
        let out = drain(&mut c, 0);
        assert_eq!(out.len(), 5);
        let una = ISS.wrapping_add(1001);
        c.segment(10, &seg(IRS + 1, una, 0, b""));
        drain(&mut c, 10);
        for t in 11..14 {
            c.segment(t, &seg(IRS + 1, una, 0, b""));
        }
        let re = drain(&mut c, 14);
        assert_eq!(re[0].seq, una, "fast retransmit of the missing segment");
    }

    #[test]
    fn a_zero_window_is_probed_until_it_opens() {
        let mut c = conn(0);
        c.write(b"abc");
        assert!(drain(&mut c, 0).is_empty(), "nothing fits a zero window");
        let us = ISS.wrapping_add(1);
        let zero = |seq| SegmentIn {
            seq,
            ack: us,
            flags: flag::ACK,
            window: 0,
            tsval: None,
            payload: b"",
        };
        let mut probes = 0;
        for _ in 0..3 {
            let t = c.poll_timeout().unwrap();
            c.handle_timeout(t);
            let out = drain(&mut c, t);
            assert_eq!(out.len(), 1);
            assert_eq!(
                (out[0].seq, out[0].payload.as_slice()),
                (us, &b"a"[..]),
                "one byte"
            );
            probes += 1;
            // The peer is still full.
            c.segment(t + 1, &zero(IRS + 1));
        }
        assert_eq!(probes, 3);
        assert!(!c.is_closed());
        // The window opens: everything goes, and is acknowledged.
        c.segment(10_000_000, &seg(IRS + 1, us, 0, b""));
        let mut got = Vec::new();
        for _ in 0..3 {
            for s in drain(&mut c, 10_000_000) {
                let at = s.seq.wrapping_sub(us) as usize;
                got.resize(got.len().max(at + s.payload.len()), 0);
                got[at..at + s.payload.len()].copy_from_slice(&s.payload);
            }
            let t = c.poll_timeout().unwrap();
            c.handle_timeout(t);
        }
        assert_eq!(got, b"abc");
    }

    /// Sends what `c` has at time 0, then runs its timers, sending each time, until it
    /// closes; the time it closed.
    fn run_timers_to_the_end(c: &mut Connection) -> i64 {
        let mut now = 0;
        drain(c, now);
        while !c.is_closed() {
            now = c.poll_timeout().unwrap();
            c.handle_timeout(now);
            drain(c, now);
        }
        now
    }

    #[test]
    fn a_vanished_peer_ends_at_the_idle_limit_or_after_the_retries() {
        let mut c = conn(65_535);
        c.write(b"anyone?");
        let now = run_timers_to_the_end(&mut c);
        assert_eq!(
            events(&mut c).last(),
            Some(&Event::Closed(CloseReason::Idle))
        );
        assert_eq!(now, 120_000_000);
        // With fewer retries allowed, they run out first: 1 + 2 + 4 s of back-off.
        let mut c = conn(65_535);
        c.limits.max_retries = 2;
        c.write(b"anyone?");
        let now = run_timers_to_the_end(&mut c);
        assert_eq!(
            events(&mut c).last(),
            Some(&Event::Closed(CloseReason::Retries))
        );
        assert_eq!(now, 7_000_000);
    }

    #[test]
    fn the_peer_closes_first_then_we_do() {
        let mut c = conn(65_535);
        let us = ISS.wrapping_add(1);
        c.segment(1, &seg(IRS + 1, us, flag::FIN, b"bye"));
        assert_eq!(
            drain(&mut c, 1)[0].ack,
            IRS + 5,
            "data and FIN acknowledged"
        );
        assert_eq!(events(&mut c), [Event::Readable, Event::PeerFinished]);
        // Half-closed: we can still send.
        assert_eq!(c.write(b"ok"), 2);
        c.close();
        let out = drain(&mut c, 2);
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].flags, flag::FIN | flag::ACK);
        c.segment(3, &seg(IRS + 5, us.wrapping_add(3), 0, b""));
        assert!(c.is_closed());
        assert_eq!(
            events(&mut c),
            [Event::Writable, Event::Closed(CloseReason::Normal)]
        );
    }

    #[test]
    fn we_close_first_and_wait_briefly() {
        let mut c = conn(65_535);
        let us = ISS.wrapping_add(1);
        c.close();
        let fin = drain(&mut c, 0);
        assert_eq!(fin[0].flags, flag::FIN | flag::ACK);
        c.segment(1, &seg(IRS + 1, us.wrapping_add(1), 0, b""));
        c.segment(2, &seg(IRS + 1, us.wrapping_add(1), flag::FIN, b""));
        assert_eq!(drain(&mut c, 2)[0].ack, IRS + 2);
        assert!(!c.is_closed(), "TIME-WAIT");
        // The peer's FIN again: acknowledged again.
        c.segment(3, &seg(IRS + 1, us.wrapping_add(1), flag::FIN, b""));
        assert_eq!(drain(&mut c, 3).len(), 1);
        let t = c.poll_timeout().unwrap();
        c.handle_timeout(t);
        assert!(c.is_closed());
    }

    #[test]
    fn only_an_exact_reset_resets() {
        let mut c = conn(65_535);
        let rst = |seq| SegmentIn {
            seq,
            ack: 0,
            flags: flag::RST,
            window: 0,
            tsval: None,
            payload: b"",
        };
        c.segment(1, &rst(IRS + 100));
        assert!(!c.is_closed());
        assert_eq!(drain(&mut c, 1).len(), 1, "a challenge ACK");
        c.segment(2, &rst(IRS + 100_000));
        assert!(drain(&mut c, 2).is_empty(), "outside the window: ignored");
        c.segment(3, &rst(IRS + 1));
        assert!(c.is_closed());
        assert_eq!(events(&mut c), [Event::Closed(CloseReason::Reset)]);
    }

    #[test]
    fn idle_and_lifetime_limits_end_with_a_reset() {
        let mut c = conn(65_535);
        let t = c.poll_timeout().unwrap();
        assert_eq!(t, 120_000_000);
        c.handle_timeout(t);
        let out = drain(&mut c, t);
        assert_eq!(out[0].flags & flag::RST, flag::RST);
        assert_eq!(events(&mut c), [Event::Closed(CloseReason::Idle)]);
    }

    #[test]
    fn copy_out_reads_across_the_ring_seam() {
        let mut q: VecDeque<u8> = VecDeque::with_capacity(8);
        q.extend([0, 0, 0, 0, 0, 0]);
        q.drain(..5);
        q.extend([1, 2, 3, 4, 5, 6]); // wraps around
        assert_eq!(q.iter().copied().collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5, 6]);
        for at in 0..8 {
            for len in 0..9 {
                let mut out = vec![9; len];
                let n = copy_out(&q, at, &mut out);
                let want: Vec<u8> = q.iter().skip(at).take(len).copied().collect();
                assert_eq!(
                    (n, &out[..n]),
                    (want.len(), &want[..]),
                    "at {at}, len {len}"
                );
            }
        }
    }

    #[test]
    fn out_of_order_data_joins_across_the_sequence_wrap() {
        let irs = 0xffff_fff0u32;
        let mut c = conn_from(irs, 65_535);
        let us = ISS.wrapping_add(1);
        let at = |off: u32| irs.wrapping_add(1).wrapping_add(off);
        // Bytes 8..16 straddle 2^32; 16..24 lie past it; 0..8 arrive last.
        c.segment(1, &seg(at(16), us, 0, b"QRSTUVWX"));
        c.segment(2, &seg(at(8), us, 0, b"IJKLMNOP"));
        c.segment(3, &seg(at(0), us, 0, b"ABCDEFGH"));
        let mut buf = [0; 32];
        assert_eq!(c.read(&mut buf), 24);
        assert_eq!(&buf[..24], b"ABCDEFGHIJKLMNOPQRSTUVWX");
        assert_eq!(drain(&mut c, 3).last().unwrap().ack, at(24));
    }

    #[test]
    fn a_fin_beyond_a_gap_is_taken_once_the_gap_fills() {
        let mut c = conn(65_535);
        let us = ISS.wrapping_add(1);
        c.segment(1, &seg(IRS + 4, us, flag::FIN, b"def"));
        assert!(!events(&mut c).contains(&Event::PeerFinished));
        c.segment(2, &seg(IRS + 1, us, 0, b"abc"));
        assert_eq!(
            events(&mut c),
            [Event::Readable, Event::PeerFinished],
            "the gap filled, then the remembered FIN"
        );
        assert_eq!(
            drain(&mut c, 2).last().unwrap().ack,
            IRS + 8,
            "six bytes and the FIN"
        );
    }
}
