//! JSON lines: one object per event, the schema of `docs/EVENTS.md`.
//!
//! ```json
//! {"ts":"2016-04-01T00:00:01.000000Z","event":"packet","kind":"probe","proto":6,"proto_name":"tcp","src":"203.0.113.9","sport":4711,"dst":"198.51.100.7","dport":23,"ip_len":40,"tcp_flags":"S","os":"Linux 2.6 "}
//! {"ts":"2016-04-01T00:00:02.000000Z","sensor":"tokyo-1","event":"log_started"}
//! ```
//!
//! Absent fields are left out, never written as `null` (both are read). Unknown fields are
//! ignored when reading, so newer writers stay readable.

use std::net::IpAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::model::{
    Event, LifecycleEvent, LogState, PacketEvent, PacketKind, PayloadEvent, TcpFlags,
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
    #[error("unknown event type {0:?} (want packet, payload, log_started or log_stopped)")]
    EventType(String),
    /// A field the event type requires is missing or malformed.
    #[error("field {0}: missing or malformed")]
    Field(&'static str),
}

/// The flat on-the-wire record; every event type uses a subset of these fields.
#[derive(Serialize, Deserialize, Default)]
struct Record<'a> {
    #[serde(borrow)]
    ts: std::borrow::Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    sensor: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
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
}

/// Parses one JSON line.
pub fn parse_line(line: &[u8]) -> Result<Event, JsonError> {
    let r: Record<'_> = serde_json::from_slice(line)?;
    let time = Timestamp::parse_rfc3339(&r.ts).ok_or(JsonError::Time)?;
    let sensor: Option<Arc<str>> = r.sensor.map(|s| Arc::from(s.as_ref()));
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
