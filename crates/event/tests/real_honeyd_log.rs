//! The real Honeyd log in `../shared/data/honeyd/` reads and writes back byte for byte.

use std::path::PathBuf;

use honeyscope_event::{honeyd, Event, LocalZone};

fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel)
}

#[test]
fn honeyevse_log_round_trips_byte_for_byte_in_several_zones() {
    let path = shared("data/honeyd/honeyevse-2023-04-28.log");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the shared/ folder must sit beside the checkout)",
            path.display()
        )
    });
    for zone in [
        "UTC",
        "Europe/Rome",
        "Asia/Tokyo",
        "America/New_York",
        "local",
    ] {
        let tz = LocalZone::named(zone).unwrap();
        let mut out = String::with_capacity(bytes.len());
        let mut events = Vec::new();
        for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            let ev = honeyd::parse_line(line, &tz).unwrap_or_else(|e| {
                panic!("line {}: {e}: {}", i + 1, String::from_utf8_lossy(line))
            });
            honeyd::write_event(&ev, &tz, &mut out);
            events.push(ev);
        }
        assert_eq!(out.as_bytes(), &bytes[..], "zone {zone}");
        assert_eq!(events.len(), 431);
        let lifecycle = events
            .iter()
            .filter(|e| matches!(e, Event::Lifecycle(_)))
            .count();
        assert_eq!(lifecycle, 37);
    }
}
