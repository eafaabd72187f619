//! A first look at what a set of events holds: totals, time span, record kinds, protocols,
//! the busiest destination ports and distinct sources. (The seed's full report, as SQL over
//! the store, is `honeyscope report`'s job.)

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;

use honeyscope_event::{Event, Timestamp};

/// Counts over a stream of events.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// Events seen.
    pub events: u64,
    /// Earliest event time.
    pub first: Option<Timestamp>,
    /// Latest event time.
    pub last: Option<Timestamp>,
    /// Events per type (`probe`, `flow_start`, `flow_end`, `payload`, `session`, `http`,
    /// `log_started`, `log_stopped`).
    pub by_kind: BTreeMap<&'static str, u64>,
    /// Session events per Cowrie `eventid` (`cowrie.login.success`, …): connections to
    /// services, logins, commands and downloads.
    pub by_eventid: BTreeMap<&'static str, u64>,
    /// HTTP requests per recognised exploit (`gpon-diag-form`, …); requests without one
    /// are only in `by_kind["http"]`.
    pub by_exploit: BTreeMap<String, u64>,
    /// Packet events per protocol name.
    pub by_proto: BTreeMap<String, u64>,
    /// Packet events per (protocol name, destination port) for TCP and UDP.
    pub by_port: HashMap<(String, u16), u64>,
    /// Events per UTC day (`YYYY-MM-DD`).
    pub by_day: BTreeMap<i64, u64>,
    sources: HashSet<IpAddr>,
}

impl Summary {
    /// Adds one event.
    pub fn add(&mut self, ev: &Event) {
        self.events += 1;
        let t = ev.time();
        self.first = Some(self.first.map_or(t, |f| f.min(t)));
        self.last = Some(self.last.map_or(t, |l| l.max(t)));
        *self.by_day.entry(t.utc_day()).or_default() += 1;
        match ev {
            Event::Lifecycle(l) => *self.by_kind.entry(l.state.as_str()).or_default() += 1,
            Event::Payload(d) => {
                *self.by_kind.entry("payload").or_default() += 1;
                self.sources.insert(d.src);
            }
            Event::Session(e) => {
                // Counted by eventid only: they are not packets, so by_proto and by_port
                // (the packet view) leave them out.
                *self.by_kind.entry("session").or_default() += 1;
                *self.by_eventid.entry(e.eventid.as_str()).or_default() += 1;
                self.sources.insert(e.src);
            }
            Event::Http(h) => {
                // Not packets either.
                *self.by_kind.entry("http").or_default() += 1;
                if let Some(x) = &h.exploit {
                    match self.by_exploit.get_mut(&**x) {
                        Some(n) => *n += 1,
                        None => {
                            self.by_exploit.insert(x.to_string(), 1);
                        }
                    }
                }
                self.sources.insert(h.src);
            }
            Event::Packet(p) => {
                *self.by_kind.entry(p.kind.as_str()).or_default() += 1;
                *self.by_proto.entry(p.proto_name().to_string()).or_default() += 1;
                if let Some(port) = p.dport {
                    *self
                        .by_port
                        .entry((p.proto_name().to_string(), port))
                        .or_default() += 1;
                }
                self.sources.insert(p.src);
            }
        }
    }

    /// Distinct source addresses.
    pub fn distinct_sources(&self) -> usize {
        self.sources.len()
    }

    /// The `n` busiest (protocol, port) pairs, busiest first, ties by protocol then port.
    pub fn top_ports(&self, n: usize) -> Vec<(&str, u16, u64)> {
        let mut v: Vec<_> = self
            .by_port
            .iter()
            .map(|((proto, port), c)| (proto.as_str(), *port, *c))
            .collect();
        v.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(b.0)).then(a.1.cmp(&b.1)));
        v.truncate(n);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use honeyscope_event::{honeyd, LocalZone};

    #[test]
    fn counts_add_up() {
        let tz = LocalZone::utc();
        let mut s = Summary::default();
        for l in [
            "2016-04-01-00:00:01.0000 tcp(6) - 203.0.113.9 4711 198.51.100.7 23: 40 S",
            "2016-04-01-00:00:02.0000 tcp(6) - 203.0.113.10 4711 198.51.100.7 23: 40 S",
            "2016-04-02-00:00:01.0000 udp(17) - 203.0.113.9 53 198.51.100.7 53413: 51",
            "2016-04-02-00:00:01.0000 honeyd log stopped ------",
        ] {
            s.add(&honeyd::parse_line(l.as_bytes(), &tz).unwrap());
        }
        assert_eq!(s.events, 4);
        assert_eq!(s.distinct_sources(), 2);
        assert_eq!(s.top_ports(1), vec![("tcp", 23, 2)]);
        assert_eq!(s.by_day.len(), 2);
        assert_eq!(s.by_kind["probe"], 3);
        assert_eq!(s.by_kind["log_stopped"], 1);

        use honeyscope_event::{SessionEvent, SessionEventId};
        for id in [SessionEventId::LoginFailed, SessionEventId::LoginSuccess] {
            s.add(&Event::from(SessionEvent::new(
                Timestamp(1_459_468_801_000_000),
                id,
                "a1b2c3d4e5f6",
                "telnet",
                "203.0.113.11:40000".parse().unwrap(),
                "198.51.100.7:23".parse().unwrap(),
            )));
        }
        assert_eq!(s.events, 6);
        assert_eq!(s.by_kind["session"], 2);
        assert_eq!(s.by_eventid["cowrie.login.success"], 1);
        assert_eq!(s.distinct_sources(), 3);
        assert_eq!(
            s.top_ports(1),
            vec![("tcp", 23, 2)],
            "sessions are not packets"
        );

        use honeyscope_event::HttpEvent;
        for (src, exploit) in [
            ("203.0.113.12:40000", Some("gpon-diag-form")),
            ("203.0.113.12:40001", Some("gpon-diag-form")),
            ("203.0.113.9:40000", Some("jaws-shell")),
            ("203.0.113.9:40001", None),
        ] {
            let mut h = HttpEvent::new(
                Timestamp(1_459_468_802_000_000),
                "0f1e2d3c4b5a",
                src.parse().unwrap(),
                "198.51.100.7:80".parse().unwrap(),
            );
            h.exploit = exploit.map(Into::into);
            s.add(&Event::from(h));
        }
        assert_eq!(s.events, 10);
        assert_eq!(s.by_kind["http"], 4);
        assert_eq!(s.by_exploit["gpon-diag-form"], 2);
        assert_eq!(s.by_exploit["jaws-shell"], 1);
        assert_eq!(s.by_exploit.len(), 2);
        assert_eq!(s.distinct_sources(), 4);
        assert_eq!(
            s.top_ports(1),
            vec![("tcp", 23, 2)],
            "requests are not packets"
        );
    }
}
