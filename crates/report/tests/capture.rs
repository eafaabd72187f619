//! Every analysis on a packet capture: SYNs count, SYN-ACKs and RSTs do not.

use etherparse::PacketBuilder;
use honeyscope_analyze::source::ReadOptions;
use honeyscope_event::LocalZone;
use honeyscope_report::engine::{self, Engine, ReportOptions};
use honeyscope_report::table;
use honeyscope_wire::capture::{LinkType, PcapWriter};

const MAC: ([u8; 6], [u8; 6]) = ([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);

fn tcp(src: [u8; 4], dport: u16, syn: bool, ack: bool, rst: bool) -> Vec<u8> {
    let mut b = PacketBuilder::ethernet2(MAC.0, MAC.1)
        .ipv4(src, [198, 51, 100, 7], 64)
        .tcp(40000, dport, 1, 1024);
    if syn {
        b = b.syn();
    }
    if ack {
        b = b.ack(1);
    }
    if rst {
        b = b.rst();
    }
    let mut v = Vec::new();
    b.write(&mut v, &[]).unwrap();
    v
}

fn udp(src: [u8; 4], dport: u16) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(MAC.0, MAC.1)
        .ipv4(src, [198, 51, 100, 8], 64)
        .udp(5353, dport);
    let mut v = Vec::new();
    b.write(&mut v, &[0; 12]).unwrap();
    v
}

#[test]
fn a_capture_gives_every_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("telescope.pcap");
    let mut w = PcapWriter::new(std::fs::File::create(&path).unwrap(), LinkType::Ethernet).unwrap();
    let day = 86_400_000_000i64;
    let t0 = 1_459_468_800_000_000i64; // 2016-04-01T00:00:00Z
    let hour = 3_600_000_000i64;
    let scanner = [203, 0, 113, 9];
    let other = [203, 0, 113, 10];
    // Day 1: the scanner SYNs 23/tcp at 02:00 and 03:00, then 53413/udp at 04:00.
    w.write_frame(t0 + 2 * hour, &tcp(scanner, 23, true, false, false))
        .unwrap();
    w.write_frame(t0 + 3 * hour, &tcp(scanner, 23, true, false, false))
        .unwrap();
    w.write_frame(t0 + 4 * hour, &udp(scanner, 53413)).unwrap();
    // Day 2: the other host SYNs 23/tcp three times; backscatter and a reset do not count.
    for i in 0..3 {
        w.write_frame(t0 + day + i, &tcp(other, 23, true, false, false))
            .unwrap();
    }
    w.write_frame(t0 + day + 10, &tcp(other, 23, true, true, false))
        .unwrap();
    w.write_frame(t0 + day + 11, &tcp(other, 23, false, false, true))
        .unwrap();
    w.flush().unwrap();
    drop(w);

    let opts = ReadOptions {
        tz: LocalZone::utc(),
        sensor: None,
        progress: None,
    };
    let loaded = table::load(&[path], &opts, 2, |_| {}).unwrap();
    assert_eq!(loaded.inputs[0].events, 8);
    let engine = Engine::new(loaded.batches, 2).unwrap();
    let r = engine::build(
        &engine,
        &ReportOptions {
            main: "23/tcp".parse().unwrap(),
            also: vec!["53413/udp".parse().unwrap()],
            sources: vec![],
            activity_top: 3,
            top: None,
            tz: "UTC".into(),
        },
        None,
    )
    .unwrap();
    assert_eq!(r.totals.connections, 6);
    assert_eq!(r.totals.sources, 2);
    assert_eq!(r.ports[0].port, Some(23));
    assert_eq!(r.ports[0].connections, 5);
    assert_eq!(r.ports[0].sources, 2);
    let daily: Vec<(&str, u64)> = r
        .daily
        .iter()
        .map(|d| (d.date.as_str(), d.connections))
        .collect();
    assert_eq!(daily, [("2016-04-01", 2), ("2016-04-02", 3)]);
    assert_eq!(r.multi_port_sources.len(), 1);
    assert_eq!(r.multi_port_sources[0].src, "203.0.113.9");
    assert_eq!(r.multi_port_sources[0].connections, 3);
    assert_eq!(r.activity[0].hours["23/tcp"], vec![2, 3]);
    assert_eq!(r.activity[0].hours["53413/udp"], vec![4]);
    assert_eq!(r.activity[0].hours_per_day, 3.0);
    assert_eq!(r.os.len(), 1);
    assert_eq!((r.os[0].os.as_str(), r.os[0].connections), ("unknown", 5));
}
