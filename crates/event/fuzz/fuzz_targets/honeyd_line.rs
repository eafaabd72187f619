//! Reads the input as one Honeyd log line, in UTC and in a zone with daylight-saving time,
//! and checks that writing what was read gives the line back.
#![no_main]

use honeyscope_event::{honeyd, Event, LocalZone};
use libfuzzer_sys::fuzz_target;

/// The zone with clock changes, by name for both `LocalZone` and jiff.
const DST_ZONE: &str = "Europe/Berlin";

thread_local! {
    // `LocalZone` caches offsets in `Cell`s, so it is not `Sync`: one per thread.
    static UTC: LocalZone = LocalZone::utc();
    static DST: (LocalZone, jiff::tz::TimeZone) = (
        LocalZone::named(DST_ZONE).expect("zone"),
        jiff::tz::TimeZone::get(DST_ZONE).expect("zone"),
    );
}

fn write(ev: &Event, tz: &LocalZone) -> String {
    let mut out = String::new();
    honeyd::write_event(ev, tz, &mut out);
    assert_eq!(out.find('\n'), Some(out.len() - 1), "one line: {out:?}");
    out.pop();
    out
}

/// Whether the line's `YYYY-MM-DD-HH:MM:SS` never happens on the wall clock in `tz`
/// (clocks went forward over it); such a time is read with the offset before the gap and
/// so written back as the wall-clock time after it.
fn in_gap(line: &[u8], tz: &jiff::tz::TimeZone) -> bool {
    let text = std::str::from_utf8(&line[..19]).expect("a parsed time is ASCII");
    let dt: jiff::civil::DateTime = format!("{}T{}", &text[..10], &text[11..])
        .parse()
        .expect("a parsed time is a civil time");
    matches!(
        tz.to_ambiguous_timestamp(dt).offset(),
        jiff::tz::AmbiguousOffset::Gap { .. }
    )
}

fn check(data: &[u8], tz: &LocalZone, gaps: Option<&jiff::tz::TimeZone>) {
    let Ok(ev) = honeyd::parse_line(data, tz) else {
        return;
    };
    let line = write(&ev, tz);
    let again = honeyd::parse_line(line.as_bytes(), tz)
        .unwrap_or_else(|e| panic!("written line does not read back: {e}: {line:?}"));
    assert_eq!(again, ev, "written line reads back different: {line:?}");
    assert_eq!(write(&again, tz), line, "writing is not idempotent");

    // Byte for byte: guaranteed for every line the parser accepts, except that a final
    // '\r' is dropped, IPv6 addresses are accepted in any form std parses (leading zeros,
    // upper case, uncompressed) and written canonically, and a time in a clock-change gap
    // is written as the time after the gap.
    let input = data.strip_suffix(b"\r").unwrap_or(data);
    let ipv6 = match &ev {
        Event::Packet(p) => p.src.is_ipv6() || p.dst.is_ipv6(),
        Event::Lifecycle(_) => false,
        Event::Payload(_) => unreachable!("the Honeyd reader makes no payload records"),
        Event::Session(_) => unreachable!("the Honeyd reader makes no session events"),
        Event::Http(_) => unreachable!("the Honeyd reader makes no HTTP requests"),
    };
    if ipv6 {
        return;
    }
    if gaps.is_some_and(|z| in_gap(input, z)) {
        assert_eq!(&line.as_bytes()[24..], &input[24..], "{line:?}");
        assert!(line.as_bytes()[..24] > input[..24], "{line:?}");
    } else {
        assert!(
            line.as_bytes() == input,
            "not written back byte for byte: {line:?} from {:?}",
            String::from_utf8_lossy(input)
        );
    }
}

/// Read as lines with one `StampReader` (as the ingest does: a minute is parsed once, then
/// only the seconds), every line reads as it does alone.
fn same_with_one_reader(data: &[u8], tz: &LocalZone) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut stamps = tz.stamp_reader();
    for line in text.split('\n') {
        let shared = honeyd::parse_then(line, &mut stamps, |v| v.to_event());
        let alone = honeyd::parse_view_str(line, tz).map(|v| v.to_event());
        assert_eq!(shared, alone, "{line:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    UTC.with(|tz| check(data, tz, None));
    DST.with(|(tz, jz)| check(data, tz, Some(jz)));
    UTC.with(|tz| same_with_one_reader(data, tz));
    DST.with(|(tz, _)| same_with_one_reader(data, tz));
});
