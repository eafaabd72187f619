//! Reads the input as one JSON line; checks that it survives JSON lines unchanged, and
//! the Honeyd log format in every field that format carries.
#![no_main]

use honeyscope_event::{honeyd, jsonl, proto, Event, LocalZone, PacketKind, Timestamp};
use libfuzzer_sys::fuzz_target;

thread_local! {
    // `LocalZone` caches offsets in `Cell`s, so it is not `Sync`: one per thread.
    static UTC: LocalZone = LocalZone::utc();
}

/// Text as `honeyd::write_event` writes it: line breaks become spaces, and `swap` (the
/// character that would end the field early) becomes `)`.
fn clean(s: &str, swap: char) -> Box<str> {
    s.chars()
        .map(|c| match c {
            '\n' | '\r' => ' ',
            c if c == swap => ')',
            c => c,
        })
        .collect()
}

/// What a Honeyd log line can say about `ev`: the time in 100 µs units, no sensor, and per
/// kind and protocol only the fields the line has (a missing one is written as 0).
fn honeyd_projection(ev: &Event) -> Event {
    let mut ev = ev.clone();
    ev.set_sensor(None);
    let Event::Packet(p) = &mut ev else {
        let Event::Lifecycle(l) = &mut ev else {
            unreachable!()
        };
        l.time = Timestamp(l.time.0 - l.time.0.rem_euclid(100));
        return ev;
    };
    p.time = Timestamp(p.time.0 - p.time.0.rem_euclid(100));
    let name = clean(p.proto_name(), '(');
    p.set_proto_name(&name);
    // Ports, else ICMP type and code, else neither.
    if p.sport.is_some() || p.dport.is_some() {
        p.sport = Some(p.sport.unwrap_or(0));
        p.dport = Some(p.dport.unwrap_or(0));
        (p.icmp_type, p.icmp_code) = (None, None);
    } else if p.icmp_type.is_some() || p.icmp_code.is_some() {
        p.icmp_type = Some(p.icmp_type.unwrap_or(0));
        p.icmp_code = Some(p.icmp_code.unwrap_or(0));
    }
    let probe = p.kind == PacketKind::Probe;
    let end = p.kind == PacketKind::FlowEnd;
    p.ip_len = probe.then(|| p.ip_len.unwrap_or(0));
    p.tcp_flags = (probe && p.proto == proto::TCP).then(|| p.tcp_flags.unwrap_or_default());
    p.rx_bytes = end.then(|| p.rx_bytes.unwrap_or(0));
    p.tx_bytes = end.then(|| p.tx_bytes.unwrap_or(0));
    p.os = if end {
        None
    } else {
        p.os.as_deref().map(|s| clean(s, ']').into())
    };
    p.remark = if end {
        None
    } else {
        p.remark.as_deref().map(|s| clean(s, '\n'))
    };
    ev
}

fuzz_target!(|data: &[u8]| {
    let Ok(ev) = jsonl::parse_line(data) else {
        return;
    };
    let mut json = String::new();
    jsonl::write_event(&ev, &mut json);
    assert_eq!(json.find('\n'), Some(json.len() - 1), "one line: {json:?}");
    let back = jsonl::parse_line(&json.as_bytes()[..json.len() - 1])
        .unwrap_or_else(|e| panic!("written JSON does not read back: {e}: {json}"));
    assert_eq!(back, ev, "written JSON reads back different: {json}");

    UTC.with(|tz| {
        let mut line = String::new();
        honeyd::write_event(&ev, tz, &mut line);
        // A payload record, a session event or an HTTP request has no Honeyd line.
        if let Event::Payload(_) | Event::Session(_) | Event::Http(_) = ev {
            assert!(line.is_empty(), "a record without a line wrote {line:?}");
            return;
        }
        assert_eq!(line.find('\n'), Some(line.len() - 1), "one line: {line:?}");
        line.pop();
        let read = honeyd::parse_line(line.as_bytes(), tz)
            .unwrap_or_else(|e| panic!("written Honeyd line does not read: {e}: {line:?}"));
        assert_eq!(read, honeyd_projection(&ev), "Honeyd line: {line:?}");
    });
});
