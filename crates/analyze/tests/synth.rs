//! The synthetic seed month, read back with the Honeyd parser and counted here with plain
//! hash maps (independently of the generator), gives the seed study's numbers exactly.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, Write};
use std::net::{IpAddr, Ipv4Addr};

use honeyscope_analyze::synth;
use honeyscope_event::time::Ymd;
use honeyscope_event::{honeyd, Event, LocalZone, LogState, PacketEvent, PacketKind, TcpFlags};

const SEED: u64 = 20_160_401;

/// FxHash (as rustc uses): SipHash is slow in unoptimised test builds, and the keys here
/// are not attacker-controlled.
#[derive(Default)]
struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(i as u64);
    }
    fn write_u16(&mut self, i: u16) {
        self.write_u64(i as u64);
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(i as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
}

type Map<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fx>>;

/// The report's definition of a connection.
fn is_connection(p: &PacketEvent) -> bool {
    match (p.proto, p.kind) {
        (6, PacketKind::FlowStart) => true,
        (6, PacketKind::Probe) => p
            .tcp_flags
            .is_some_and(|f| f.has(TcpFlags::SYN) && !f.has(TcpFlags::ACK)),
        (17, PacketKind::FlowStart | PacketKind::Probe) => true,
        (1, PacketKind::Probe) => true,
        _ => false,
    }
}

/// `start,end,country` lines, looked up by address.
struct GeoCsv(Vec<(u32, u32, String)>);

impl GeoCsv {
    fn parse(text: &str) -> GeoCsv {
        let mut v: Vec<(u32, u32, String)> = text
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                assert_eq!(f.len(), 3, "{l:?}");
                let a: Ipv4Addr = f[0].parse().unwrap();
                let b: Ipv4Addr = f[1].parse().unwrap();
                assert!(u32::from(a) <= u32::from(b), "{l:?}");
                assert!(
                    f[2].len() == 2 && f[2].bytes().all(|c| c.is_ascii_uppercase()),
                    "{l:?}"
                );
                (u32::from(a), u32::from(b), f[2].to_string())
            })
            .collect();
        v.sort();
        for w in v.windows(2) {
            assert!(w[0].1 < w[1].0, "overlapping ranges {w:?}");
        }
        GeoCsv(v)
    }

    fn country(&self, ip: IpAddr) -> Option<&str> {
        let IpAddr::V4(v4) = ip else { return None };
        let a = u32::from(v4);
        let i = self.0.partition_point(|r| r.0 <= a);
        let r = self.0.get(i.checked_sub(1)?)?;
        (a <= r.1).then_some(r.2.as_str())
    }
}

/// Everything the assertions need, from one pass over the log.
#[derive(Default)]
struct Counts {
    lines: u64,
    lifecycle: Vec<(u64, LogState)>,
    connections: u64,
    by_port: Map<(u8, u16), u64>,
    tcp23_by_day: BTreeMap<i64, u64>,
    tcp23_by_src: Map<IpAddr, u64>,
    by_src: Map<IpAddr, u64>,
    /// bit 0: TCP/23, bit 1: UDP/53413, bit 2: TCP/6379.
    hits: Map<IpAddr, u8>,
    os_class: Map<String, u64>,
    /// Web flows started on TCP/80 and not yet ended.
    open80: Map<(IpAddr, u16, IpAddr), u32>,
    starts80: u64,
    ends80: u64,
    unmatched_ends80: u64,
    flow_ends: u64,
    other_packets: u64,
    stray_flags: HashSet<u8>,
    by_hour: [u64; 24],
    dsts: HashSet<IpAddr, std::hash::BuildHasherDefault<Fx>>,
    /// (source, UTC day, hour, port) of connections to TCP/23, TCP/6379 and UDP/53413.
    multi_log: Vec<(IpAddr, i64, u8, u16)>,
    out_of_order: u64,
}

fn count(reader: impl BufRead, tz: &LocalZone) -> Counts {
    let mut c = Counts::default();
    let mut last = i64::MIN;
    for (n, line) in reader.split(b'\n').enumerate() {
        let line = line.unwrap();
        c.lines += 1;
        let ev = honeyd::parse_line(&line, tz)
            .unwrap_or_else(|e| panic!("line {}: {e}: {}", n + 1, String::from_utf8_lossy(&line)));
        let t = ev.time().as_micros();
        c.out_of_order += (t < last) as u64;
        last = t;
        let p = match ev {
            Event::Lifecycle(l) => {
                c.lifecycle.push((n as u64 + 1, l.state));
                continue;
            }
            Event::Packet(p) => p,
            Event::Payload(_) => panic!("a Honeyd log has no payload records"),
            Event::Session(_) => panic!("a Honeyd log has no session events"),
            Event::Http(_) => panic!("a Honeyd log has no HTTP requests"),
        };
        c.dsts.insert(p.dst);
        let day = p.time.utc_day();
        let hour = (p.time.as_micros().rem_euclid(86_400_000_000) / 3_600_000_000) as u8;
        if p.kind == PacketKind::FlowEnd {
            c.flow_ends += 1;
            if p.proto == 6 && p.dport == Some(80) {
                c.ends80 += 1;
                match c.open80.get_mut(&(p.src, p.sport.unwrap(), p.dst)) {
                    Some(k) if *k > 0 => *k -= 1,
                    _ => c.unmatched_ends80 += 1,
                }
            }
            continue;
        }
        if !is_connection(&p) {
            c.other_packets += 1;
            c.stray_flags.insert(p.tcp_flags.map_or(0xff, |f| f.0));
            continue;
        }
        c.connections += 1;
        c.by_hour[hour as usize] += 1;
        let port = if p.proto == 1 { 0 } else { p.dport.unwrap() };
        *c.by_port.entry((p.proto, port)).or_default() += 1;
        *c.by_src.entry(p.src).or_default() += 1;
        let bit = match (p.proto, port) {
            (6, 23) => 1,
            (17, 53413) => 2,
            (6, 6379) => 4,
            _ => 0,
        };
        if bit != 0 {
            *c.hits.entry(p.src).or_default() |= bit;
            c.multi_log.push((p.src, day, hour, port));
        }
        if (p.proto, port) == (6, 80) && p.kind == PacketKind::FlowStart {
            c.starts80 += 1;
            *c.open80
                .entry((p.src, p.sport.unwrap(), p.dst))
                .or_default() += 1;
        }
        if bit == 1 {
            *c.tcp23_by_day.entry(day).or_default() += 1;
            *c.tcp23_by_src.entry(p.src).or_default() += 1;
            let class =
                p.os.as_deref()
                    .map_or("none", |l| l.split(' ').next().unwrap());
            match c.os_class.get_mut(class) {
                Some(n) => *n += 1,
                None => {
                    c.os_class.insert(class.to_string(), 1);
                }
            }
        }
    }
    c
}

/// A writer that compares what it is given with an earlier output, byte for byte.
struct Compare<R> {
    earlier: R,
    pos: u64,
    first_difference: Option<u64>,
    /// Fail the write at the first difference (to stop generating early).
    stop: bool,
}

impl<R: io::Read> Compare<R> {
    fn new(earlier: R, stop: bool) -> Self {
        Compare {
            earlier,
            pos: 0,
            first_difference: None,
            stop,
        }
    }

    /// Whether the earlier output has bytes left over.
    fn earlier_has_more(&mut self) -> bool {
        let mut b = [0u8; 1];
        self.earlier.read(&mut b).unwrap() > 0
    }
}

impl<R: io::Read> Write for Compare<R> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut old = vec![0u8; buf.len()];
        let mut got = 0;
        while got < buf.len() {
            match self.earlier.read(&mut old[got..])? {
                0 => break,
                n => got += n,
            }
        }
        if self.first_difference.is_none() && (got < buf.len() || old != buf) {
            let at = old[..got]
                .iter()
                .zip(buf)
                .position(|(a, b)| a != b)
                .unwrap_or(got);
            self.first_difference = Some(self.pos + at as u64);
        }
        self.pos += buf.len() as u64;
        if self.stop && self.first_difference.is_some() {
            return Err(io::Error::other("outputs differ"));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn april(day: u32) -> i64 {
    Ymd {
        year: 2016,
        month: 4,
        day,
    }
    .to_epoch_day()
    .unwrap()
}

#[test]
fn seed_month_reproduces_the_seed_study() {
    assert_eq!(synth::profile_names(), ["seed-2016-04"]);
    let tz = LocalZone::utc();
    let started = std::time::Instant::now();
    let named = tempfile::NamedTempFile::new().unwrap();
    let mut file = named.reopen().unwrap();
    let summary = {
        let mut w = io::BufWriter::new(&mut file);
        let s = synth::write_seed_month(&mut w, &tz, SEED).unwrap();
        w.flush().unwrap();
        s
    };
    eprintln!("generated {summary:?} in {:?}", started.elapsed());
    let mut csv = Vec::new();
    synth::write_seed_geoip_csv(&mut csv, SEED).unwrap();
    let geo = GeoCsv::parse(std::str::from_utf8(&csv).unwrap());

    // Determinism, checked on the other core while this one counts: the same seed gives the
    // same bytes, another seed other bytes.
    let path = named.path().to_path_buf();
    let expected = summary.clone();
    let determinism = std::thread::spawn(move || {
        let earlier = BufReader::new(File::open(&path).unwrap());
        let mut same = Compare::new(earlier, false);
        let again = synth::write_seed_month(&mut same, &LocalZone::utc(), SEED).unwrap();
        assert_eq!(same.first_difference, None, "same seed, different bytes");
        assert!(!same.earlier_has_more(), "same seed, shorter output");
        assert_eq!(again, expected);
        let earlier = BufReader::new(File::open(&path).unwrap());
        let mut other = Compare::new(earlier, true);
        let _ = synth::write_seed_month(&mut other, &LocalZone::utc(), SEED + 1);
        assert!(other.first_difference.is_some(), "another seed, same bytes");
    });

    file.rewind().unwrap();
    let started = std::time::Instant::now();
    let c = count(BufReader::with_capacity(1 << 20, &mut file), &tz);
    eprintln!("counted {} lines in {:?}", c.lines, started.elapsed());

    // The log as a whole.
    assert!(
        (2_700_000..2_900_000).contains(&c.lines),
        "{} lines",
        c.lines
    );
    assert_eq!(summary.lines, c.lines);
    assert_eq!(c.out_of_order, 0, "lines out of time order");
    assert_eq!(
        c.lifecycle,
        [(1, LogState::Started), (c.lines, LogState::Stopped)]
    );
    let net: Vec<IpAddr> = (1..=254)
        .map(|i| IpAddr::V4(Ipv4Addr::new(198, 51, 100, i)))
        .collect();
    assert_eq!(c.dsts, net.into_iter().collect());

    // Connections and the port table.
    assert_eq!(c.connections, 2_655_884);
    assert_eq!(summary.connections, c.connections);
    let mut ports: Vec<((u8, u16), u64)> = c.by_port.iter().map(|(k, v)| (*k, *v)).collect();
    ports.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    assert_eq!(
        &ports[..3],
        [
            ((6, 23), 1_940_825),
            ((17, 53413), 83_188),
            ((6, 80), 59_097)
        ]
    );
    let pct = |n: u64| (n * 1000 + c.connections / 2) / c.connections;
    assert_eq!(
        (pct(1_940_825), pct(83_188), pct(59_097)),
        (731, 31, 22),
        "‰"
    );
    let rest: u64 = ports[3..].iter().map(|p| p.1).sum();
    assert_eq!(rest, 572_774);
    assert!(ports[3].1 < 59_097);
    for key in [
        (6, 8080),
        (6, 2323),
        (6, 22),
        (6, 6379),
        (6, 5555),
        (6, 7547),
        (6, 81),
        (6, 8000),
        (6, 3389),
        (6, 445),
        (6, 1433),
        (6, 5358),
        (17, 123),
        (17, 1900),
        (17, 5060),
        (1, 0),
    ] {
        assert!(c.by_port.get(&key).copied().unwrap_or(0) > 1_000, "{key:?}");
    }
    assert!(ports.len() > 1_000, "a long tail of ports: {}", ports.len());

    // TCP/80: web flows, each S line closed by a later E line.
    assert_eq!(c.starts80, 59_097, "every TCP/80 connection is an S line");
    assert_eq!(c.ends80, 59_097);
    assert_eq!(c.unmatched_ends80, 0);
    assert!(c.open80.values().all(|&k| k == 0));

    // Lines that are not connections.
    assert_eq!(summary.flow_ends, c.flow_ends);
    assert!(c.flow_ends > 59_097 + 40_000, "{}", c.flow_ends);
    assert_eq!(summary.other_packets, c.other_packets);
    assert!(c.other_packets > 30_000, "{}", c.other_packets);
    for flags in [0x12, 0x14, 0x04, 0x10, 0x11, 0x00, 0x01] {
        assert!(c.stray_flags.contains(&flags), "no stray {flags:#x}");
    }

    // TCP/23 per day.
    assert_eq!(c.tcp23_by_day.len(), 30);
    assert_eq!(*c.tcp23_by_day.keys().next().unwrap(), april(1));
    assert_eq!(*c.tcp23_by_day.keys().last().unwrap(), april(30));
    let total23: u64 = c.tcp23_by_day.values().sum();
    assert_eq!(total23, 1_940_825);
    assert_eq!(total23 / 30, 64_694);
    assert_eq!(c.tcp23_by_day[&april(9)], 92_246);
    assert_eq!(c.tcp23_by_day[&april(30)], 44_298);
    for (day, n) in &c.tcp23_by_day {
        if *day != april(9) && *day != april(30) {
            assert!(44_298 < *n && *n < 92_246, "day {day}: {n}");
        }
    }

    // TCP/23 sources: how many, and heavy-tailed.
    assert_eq!(c.tcp23_by_src.len(), 89_857);
    assert_eq!(summary.tcp23_sources, 89_857);
    let mut per_src: Vec<u64> = c.tcp23_by_src.values().copied().collect();
    per_src.sort_unstable();
    let median = per_src[per_src.len() / 2];
    let over_1000 = per_src.iter().filter(|&&n| n >= 1_000).count();
    assert!(median <= 10, "median {median}");
    assert!(
        (3..2_000).contains(&over_1000),
        "{over_1000} sources ≥ 1000"
    );

    // Time of day varies.
    let (lo, hi) = (
        *c.by_hour.iter().min().unwrap(),
        *c.by_hour.iter().max().unwrap(),
    );
    assert!(hi as f64 > 1.2 * lo as f64, "{:?}", c.by_hour);

    // The 29 sources on TCP/23 and UDP/53413 or TCP/6379.
    let mut multi: Vec<(u64, IpAddr)> = c
        .hits
        .iter()
        .filter(|(_, &h)| h & 1 != 0 && h & 6 != 0)
        .map(|(ip, _)| (c.by_src[ip], *ip))
        .collect();
    multi.sort_by(|a, b| b.cmp(a));
    assert_eq!(multi.len(), 29);
    let totals: Vec<u64> = multi.iter().map(|m| m.0).collect();
    assert_eq!(totals[..3], [1_482, 702, 628]);
    assert!(totals[3..].iter().all(|&n| n < 628));
    assert_eq!(
        totals.iter().collect::<HashSet<_>>().len(),
        29,
        "{totals:?}"
    );
    let countries: Vec<Option<&str>> = multi.iter().map(|m| geo.country(m.1)).collect();
    assert_eq!(countries[..3], [Some("NL"), Some("PH"), Some("CN")]);
    assert!(countries.iter().all(|c| c.is_some()));
    let prefix =
        |ip: IpAddr, a: u8, b: u8| matches!(ip, IpAddr::V4(v) if v.octets()[..2] == [a, b]);
    assert!(prefix(multi[0].1, 93, 174));
    assert!(prefix(multi[1].1, 124, 83));
    assert!(prefix(multi[2].1, 183, 60));

    // The first: 4 hours a day, 2 on TCP/23 then 2 on TCP/6379, the same hours each day.
    let top = multi[0].1;
    let mut days: BTreeMap<i64, BTreeMap<u8, HashSet<u16>>> = BTreeMap::new();
    for &(src, day, hour, port) in &c.multi_log {
        if src == top {
            days.entry(day)
                .or_default()
                .entry(hour)
                .or_default()
                .insert(port);
        }
    }
    assert!(days.len() >= 5, "{} days", days.len());
    let mut starts = HashSet::new();
    for (day, hours) in &days {
        let h: Vec<u8> = hours.keys().copied().collect();
        assert_eq!(h.len(), 4, "day {day}: hours {h:?}");
        assert!(h.windows(2).all(|w| w[1] == w[0] + 1), "day {day}: {h:?}");
        let one = |p: u16| HashSet::from([p]);
        assert_eq!(
            h.iter().map(|x| &hours[x]).collect::<Vec<_>>(),
            [&one(23), &one(23), &one(6379), &one(6379)],
            "day {day}"
        );
        starts.insert(h[0]);
    }
    assert_eq!(starts.len(), 1, "same hours every day: {starts:?}");
    assert!(c.hits.iter().filter(|(_, &h)| h == 1).count() > 89_000);

    // Passive OS of TCP/23 connections.
    let os: BTreeMap<&str, u64> = c.os_class.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        os,
        BTreeMap::from([
            ("Linux", 984_857),
            ("Solaris", 93),
            ("Windows", 1_467),
            ("none", 954_408),
        ])
    );

    determinism.join().unwrap();
}

#[test]
fn geoip_csv_is_the_same_for_a_seed_and_covers_the_seed_prefixes() {
    let mut a = Vec::new();
    let mut b = Vec::new();
    synth::write_seed_geoip_csv(&mut a, SEED).unwrap();
    synth::write_seed_geoip_csv(&mut b, SEED).unwrap();
    assert_eq!(a, b);
    let geo = GeoCsv::parse(std::str::from_utf8(&a).unwrap());
    let at = |s: &str| geo.country(s.parse().unwrap());
    assert_eq!(at("93.174.93.12"), Some("NL"));
    assert_eq!(at("124.83.10.1"), Some("PH"));
    assert_eq!(at("183.60.48.25"), Some("CN"));
    assert_eq!(at("198.51.100.7"), None, "the honeypot's own prefix");
    assert_eq!(at("10.0.0.1"), None);
}
