//! TCP sessions on the claimed addresses: a handshake that completes on a port whose
//! template names a service becomes a [`Connection`] here, and the service runs on it as a
//! task of the [`ServiceHost`], reading and writing a [`SessionStream`]. The engine routes
//! the connection's segments to it, runs its timers, and sends what it returns in the
//! template's personality; it steps a session again when the service has read or written
//! (the host's ready list).
//!
//! The table is bounded (`limits.sessions`). When it is full, a new handshake is answered
//! with RST and counted: the sessions already open keep going, because a flood of new
//! handshakes must not cut off the bots already talking to us.
//!
//! Window scaling across a stateless handshake: the cookie cannot hold the client's
//! window-scale shift, so on service ports the SYN+ACK's TSval carries it in its low four
//! bits, as Linux does with SYN cookies, and the final ACK echoes it. A client that sends
//! no timestamps is not offered scaling on these ports (both windows stay unscaled).
//!
//! A session that has closed leaves its key behind for as long as its cookie stays valid,
//! so a duplicated final ACK cannot open it a second time; it gets a RST, as a closed port
//! would give.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use ahash::HashMap;
use std::net::{SocketAddr, SocketAddrV4};
use std::sync::Arc;

use honeyscope_event::PacketKind;
use honeyscope_services::{ConnInfo, Service};
use honeyscope_wire::personality::{Offered, OptionStyle, Personality};
use honeyscope_wire::reply::{self, Segment};

use super::{Engine, FlowKey, Output, TcpIn};
use crate::host::ServiceHost;
use crate::stream::{SessionStream, Shared};
use crate::tcp::{self, Connection, Event as TcpEvent, Handshake};

pub(super) struct Session {
    /// The connection, shared with the service's stream.
    shared: Arc<Shared>,
    personality: &'static Personality,
    /// The due time of this session's live entry in `Sessions::timers`.
    scheduled: Option<i64>,
}

/// The open sessions, and when the next of their timers is due. The maps hash with aHash,
/// keyed per process: the keys come from the network.
#[derive(Default)]
pub(super) struct Sessions {
    table: HashMap<FlowKey, Session>,
    /// Sessions closed within a cookie's lifetime, and when.
    closed: HashMap<FlowKey, i64>,
    /// Timers by due time: (due, session). An entry is live while it matches its
    /// session's `scheduled`; others are skipped when they come up, so rescheduling
    /// costs no search.
    timers: BinaryHeap<Reverse<(i64, FlowKey)>>,
    /// Where the services run; started with the first session, or by the driver.
    host: Option<ServiceHost>,
    /// The host's ready list, taken.
    ready: Vec<FlowKey>,
}

/// How long a SYN cookie stays valid (three 64-second slots), and so how long a closed
/// session's key is kept.
const COOKIE_LIFETIME_US: i64 = 3 * 64 * 1_000_000;

/// Four bits of the SYN+ACK's TSval carry the client's window-scale shift; 15 says none.
const NO_SHIFT: u32 = 15;

/// The TSval for a SYN+ACK on a session port: the personality's clock, with the client's
/// shift in the low four bits.
pub(super) fn tsval_with_shift(clock: u32, offered: &Offered) -> u32 {
    let shift = offered.ws_shift.map_or(NO_SHIFT, |s| u32::from(s.min(14)));
    let ts = (clock & !0xf) | shift;
    // Never ahead of the clock: the session's later segments carry the clock itself, and a
    // TSval that went back would fail the client's PAWS check.
    if ts > clock {
        ts.wrapping_sub(16)
    } else {
        ts
    }
}

impl Engine<'_> {
    /// Whether `key` belongs to a session that closed recently enough for its cookie to
    /// still be valid.
    pub(super) fn session_closed_recently(&self, key: &FlowKey, now_us: i64) -> bool {
        self.sessions
            .closed
            .get(key)
            .is_some_and(|&t| now_us.saturating_sub(t) < COOKIE_LIFETIME_US)
    }

    /// Whether `key` is an open session.
    pub(super) fn has_session(&self, key: &FlowKey) -> bool {
        // Most packets meet an empty table: no hash for them.
        !self.sessions.table.is_empty() && self.sessions.table.contains_key(key)
    }

    /// Opens a session for the handshake `s` completes (its cookie already checked), or
    /// refuses it with RST when the table is full.
    pub(super) fn session_open(
        &mut self,
        now_us: i64,
        service: Service,
        s: &TcpIn<'_>,
        client_mss: u16,
        os: Option<Arc<str>>,
        out: &mut Output,
    ) {
        let key: FlowKey = (s.src, s.sport, s.dst, s.dport);
        let p = self.cfg.template_for(s.dst).personality;
        let full = self.sessions.table.len() >= self.cfg.limits.sessions;
        let host = match self.services() {
            Ok(h) if !full => Some(h.clone()),
            _ => None,
        };
        let Some(host) = host else {
            // Full, or the services' runtime could not start (counted as refused too).
            self.stats.sessions_refused += 1;
            self.send(p, out, s, s.ack, 0, tcp::flag::RST, 0, &[]);
            self.stats.resets += 1;
            return;
        };
        let offered = Offered::from_options(s.options);
        // Scaling is on when the client offered it: then our SYN+ACK offered ours.
        // Scaling was offered both ways only where the client sent timestamps and a
        // window-scale option, and the personality sends options at all.
        let wscale = offered
            .ts_echo
            .filter(|_| p.options != OptionStyle::MssOnly)
            .and_then(|echo| {
                let shift = echo & 0xf;
                (shift != NO_SHIFT).then_some((shift as u8, p.wscale))
            });
        let limits = tcp::Limits {
            mss: p.mss,
            idle_us: self.cfg.limits.session_idle_secs as i64 * 1_000_000,
            ..tcp::Limits::default()
        };
        let conn = Connection::accept(
            now_us,
            Handshake {
                iss: s.ack.wrapping_sub(1),
                irs: s.seq.wrapping_sub(1),
                peer_mss: client_mss,
                wscale,
                peer_window: s.window,
                // The final ACK carries timestamps only when our SYN+ACK did too.
                ts_recent: offered.ts.filter(|_| offered.ts_echo.is_some()),
            },
            limits,
        );
        self.stats.handshakes += 1;
        self.stats.sessions += 1;
        let mut ev = self.flow_record(now_us, key, PacketKind::FlowStart);
        ev.os = os;
        self.push(out, ev);
        let shared = Shared::new(conn, key, host.ready().clone());
        let info = ConnInfo {
            peer: SocketAddr::V4(SocketAddrV4::new(s.src, s.sport)),
            local: SocketAddr::V4(SocketAddrV4::new(s.dst, s.dport)),
        };
        let device = matches!(service, Service::Telnet | Service::Http)
            .then(|| self.cfg.device_for(s.dst))
            .flatten();
        host.serve(
            service,
            SessionStream::new(shared.clone()),
            info,
            device,
            |_| {},
        );
        self.sessions.table.insert(
            key,
            Session {
                shared,
                personality: p,
                scheduled: None,
            },
        );
        // The final ACK may carry data already.
        self.session_segment(now_us, s, out);
    }

    /// A segment for an open session.
    pub(super) fn session_segment(&mut self, now_us: i64, s: &TcpIn<'_>, out: &mut Output) {
        let key: FlowKey = (s.src, s.sport, s.dst, s.dport);
        if let Some(sess) = self.sessions.table.get_mut(&key) {
            sess.shared.lock().conn.segment(
                now_us,
                &tcp::SegmentIn {
                    seq: s.seq,
                    ack: s.ack,
                    flags: s.flags,
                    window: s.window,
                    tsval: Offered::from_options(s.options).ts,
                    payload: s.payload,
                },
            );
        }
        self.session_step(now_us, key, out);
    }

    /// Sends what the session's connection has to send, wakes its service if it has
    /// something to do, and ends the session if it is over.
    fn session_step(&mut self, now_us: i64, key: FlowKey, out: &mut Output) {
        let Some(sess) = self.sessions.table.get_mut(&key) else {
            return;
        };
        let p = sess.personality;
        let shared = sess.shared.clone();
        let mut st = shared.lock();
        st.dequeued();
        let mut segments = Vec::new();
        while let Some(seg) = st.conn.poll_transmit(now_us) {
            segments.push(seg);
        }
        while let Some(ev) = st.conn.poll_event() {
            match ev {
                TcpEvent::PeerFinished => st.peer_done = true,
                TcpEvent::Closed(reason) => st.closed = Some(reason),
                TcpEvent::Readable | TcpEvent::Writable => {}
            }
        }
        let due = st.conn.poll_timeout();
        let (rx, tx) = (st.conn.bytes_in, st.conn.bytes_out);
        let over = st.closed.is_some() || st.conn.is_closed();
        let wakers = st.due_wakers();
        drop(st);
        for w in wakers.into_iter().flatten() {
            w.wake();
        }
        for seg in segments {
            let (src, sport, dst, dport) = key;
            let id = self.ip_id(p, dst, p.df);
            let mut ts = [0u8; 12];
            let options: &[u8] = match seg.ts_ecr {
                Some(ecr) => {
                    ts[..4].copy_from_slice(&[1, 1, 8, 10]);
                    ts[4..8].copy_from_slice(&p.tsval(now_us.max(0) as u64).to_be_bytes());
                    ts[8..].copy_from_slice(&ecr.to_be_bytes());
                    &ts
                }
                None => &[],
            };
            out.replies.push(reply::tcp(
                p,
                id,
                &Segment {
                    src: (dst, dport),
                    dst: (src, sport),
                    seq: seg.seq,
                    ack: seg.ack,
                    flags: seg.flags,
                    window: seg.window,
                    options,
                    payload: &seg.payload,
                },
            ));
            self.stats.session_segments += 1;
        }
        if over {
            self.sessions.table.remove(&key);
            if self.sessions.closed.len() >= 4 * self.cfg.limits.sessions.max(1) {
                // Bounded: forgetting early only lets a very late duplicate reopen.
                self.sessions.closed.clear();
            }
            self.sessions.closed.insert(key, now_us);
            let mut ev = self.flow_record(now_us, key, PacketKind::FlowEnd);
            ev.rx_bytes = Some(rx);
            ev.tx_bytes = Some(tx);
            self.push(out, ev);
        } else if let Some(t) = due {
            // A new entry only when the timer moves earlier; a later one is found when the
            // earlier entry comes up and is not due yet.
            if let Some(sess) = self.sessions.table.get_mut(&key) {
                if sess.scheduled.is_none_or(|s| t < s) {
                    sess.scheduled = Some(t);
                    self.sessions.timers.push(Reverse((t, key)));
                }
            }
        }
    }

    /// Runs the sessions' timers that are due at `now_us`, in due order (ties by key), so
    /// the same input gives the same output.
    pub(super) fn sessions_poll(&mut self, now_us: i64, out: &mut Output) {
        while let Some(&Reverse((t, key))) = self.sessions.timers.peek() {
            if t > now_us {
                break;
            }
            self.sessions.timers.pop();
            let Some(sess) = self.sessions.table.get_mut(&key) else {
                continue; // the session is gone
            };
            if sess.scheduled != Some(t) {
                continue; // superseded by an earlier entry
            }
            sess.scheduled = None;
            // A timer that moved later since is scheduled again by the step.
            let mut st = sess.shared.lock();
            if st.conn.poll_timeout().is_some_and(|due| due <= now_us) {
                st.conn.handle_timeout(now_us);
            }
            drop(st);
            self.session_step(now_us, key, out);
        }
    }

    /// Ends every session (shutdown, end of a capture) with a RST, in key order.
    pub(super) fn sessions_finish(&mut self, now_us: i64, out: &mut Output) {
        let mut keys: Vec<FlowKey> = self.sessions.table.keys().copied().collect();
        keys.sort_unstable();
        for key in keys {
            if let Some(sess) = self.sessions.table.get_mut(&key) {
                sess.shared.lock().conn.abort();
            }
            self.session_step(now_us, key, out);
        }
    }

    /// Sessions open now.
    pub fn open_sessions(&self) -> usize {
        self.sessions.table.len()
    }

    /// Steps the sessions whose service read or wrote since the last call, in key order.
    pub fn run_ready(&mut self, now_us: i64, out: &mut Output) {
        let Some(host) = &self.sessions.host else {
            return;
        };
        host.take_events(&mut out.events);
        let mut ready = std::mem::take(&mut self.sessions.ready);
        host.ready().take(&mut ready);
        ready.sort_unstable();
        ready.dedup();
        for &key in &ready {
            self.session_step(now_us, key, out);
        }
        ready.clear();
        self.sessions.ready = ready;
    }

    /// The services' runtime, if it has started.
    pub fn service_host(&self) -> Option<&ServiceHost> {
        self.sessions.host.as_ref()
    }

    /// The services' runtime, started on first use.
    pub fn services(&mut self) -> std::io::Result<&ServiceHost> {
        if self.sessions.host.is_none() {
            let limits = honeyscope_services::Limits {
                idle: std::time::Duration::from_secs(self.cfg.limits.session_idle_secs),
            };
            let host = ServiceHost::start(limits)?;
            if self.cfg.uses(Service::Telnet) || self.cfg.uses(Service::Http) {
                let dir = std::path::Path::new(&self.cfg.data_dir);
                let shared = crate::service_config::Shared::open(
                    dir,
                    self.cfg.fetch,
                    self.sensor.clone(),
                    host.events(),
                )?;
                if self.cfg.uses(Service::Telnet) {
                    host.set_telnet(self.cfg.telnet.service(dir, &shared));
                }
                if self.cfg.uses(Service::Http) {
                    host.set_http(self.cfg.http.service(&shared));
                }
            }
            self.sessions.host = Some(host);
        }
        Ok(self
            .sessions
            .host
            .as_ref()
            .unwrap_or_else(|| unreachable!("set above")))
    }

    /// Lets every service do what the last packets let it do, stepping the sessions they
    /// wrote to, so the same input always gives the same replies (the fuzzer's way; a
    /// replay does the same inside its loop). False when a service was still busy after
    /// [`crate::source::SETTLE_PATIENCE`].
    pub fn settle(&mut self, now_us: i64, out: &mut Output) -> bool {
        let Some(host) = self.sessions.host.clone() else {
            return true;
        };
        host.block_on(crate::source::settle(self, &host, now_us, out))
    }

    /// When the earliest session timer is due, if any (perhaps one that has since moved
    /// later: waking early is harmless).
    pub(super) fn sessions_timeout(&self) -> Option<i64> {
        self.sessions.timers.peek().map(|Reverse((t, _))| *t)
    }
}
