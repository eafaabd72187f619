//! Synthetic Honeyd logs whose analysis gives known numbers.
//!
//! The one profile, `seed-2016-04`, is a month (April 2016) of a Honeyd claiming an unused
//! /24 (written as 198.51.100.0/24), calibrated so that a report over it reproduces the seed
//! study's figures exactly: 2,655,884 connections; TCP/23 1,940,825, UDP/53413 83,188 and
//! TCP/80 59,097 (web flows: an `S` line, later an `E` line); TCP/23 per day between 44,298
//! (April 30) and 92,246 (April 9); 89,857 TCP/23 sources, 29 of which also hit UDP/53413 or
//! TCP/6379 (the top three, by connections on all ports, with 1,482, 702 and 628, in NL, PH
//! and CN; the first active 4 hours a day, 2 on TCP/23 then 2 on TCP/6379); and the passive
//! OS labels of TCP/23 connections: Linux 984,857, Windows 1,467, Solaris 93, none 954,408.
//!
//! A *connection* is a TCP SYN without ACK (an `S` line, or a `-` line whose flags have S and
//! not A), a UDP `S` or `-` line, or an ICMP `-` line. The log also holds lines that are not
//! connections: `E` lines closing flows, backscatter (`SA`, `R`, `RA`, `A`), stray packets
//! after web flows, null/FIN/Xmas scans, and the `honeyd log started`/`stopped` lines.
//!
//! Everything else is seeded and only realistic: heavy-tailed per-source counts, a diurnal
//! curve in local time, random source ports, the /24's 254 addresses as destinations, sources
//! drawn from public IPv4 blocks of plausible countries. [`write_seed_geoip_csv`] writes those
//! blocks as a DB-IP-lite-style country CSV, so the sources' countries can be looked up.
//!
//! Generation is deterministic for a seed (integer arithmetic and IEEE-exact float operations
//! only) and keeps one 24-byte record per line in memory, sorted by time before writing.

use std::collections::HashSet;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr};

use honeyscope_event::honeyd::write_event;
use honeyscope_event::time::Ymd;
use honeyscope_event::{
    Event, LifecycleEvent, LocalZone, LogState, PacketEvent, PacketKind, TcpFlags, Timestamp,
};

/// What was generated, for messages and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SynthSummary {
    /// Lines written (lifecycle lines included).
    pub lines: u64,
    /// Connections, as the report counts them (see the module documentation).
    pub connections: u64,
    /// Connections to TCP/23.
    pub tcp23_connections: u64,
    /// Distinct sources of TCP/23 connections.
    pub tcp23_sources: u64,
    /// `E` lines (flow ends).
    pub flow_ends: u64,
    /// Packet lines that are neither connections nor flow ends (backscatter, stray packets).
    pub other_packets: u64,
}

/// The name of the profile calibrated to the seed study.
pub const SEED_PROFILE: &str = "seed-2016-04";

/// Profiles known by name; only `seed-2016-04` for now.
pub fn profile_names() -> &'static [&'static str] {
    &[SEED_PROFILE]
}

// ---------------------------------------------------------------------------------------
// Calibration targets (the seed study, April 2016).

const DAYS: usize = 30;
const TCP23_TOTAL: u64 = 1_940_825;
const UDP53413_TOTAL: u32 = 83_188;
const TCP80_TOTAL: u32 = 59_097;
const TCP23_SOURCES: usize = 89_857;
/// April 9 (index 8) is the busiest day, April 30 (index 29) the quietest.
const BUSIEST: (usize, u32) = (8, 92_246);
const QUIETEST: (usize, u32) = (29, 44_298);
const OS_LINUX: u64 = 984_857;
const OS_WINDOWS: u64 = 1_467;
const OS_SOLARIS: u64 = 93;

/// Connections (on all ports) of the 29 sources that hit TCP/23 and UDP/53413 or TCP/6379,
/// with their countries. The first three are the seed's table 2.
const MULTI: [(u32, &str); 29] = [
    (1_482, "NL"),
    (702, "PH"),
    (628, "CN"),
    (517, "VN"),
    (433, "BR"),
    (389, "TR"),
    (301, "RU"),
    (254, "CN"),
    (198, "KR"),
    (163, "TW"),
    (141, "US"),
    (117, "IN"),
    (96, "AR"),
    (83, "MX"),
    (71, "CN"),
    (58, "VN"),
    (47, "BR"),
    (39, "IR"),
    (33, "EG"),
    (27, "TH"),
    (22, "ID"),
    (18, "UA"),
    (14, "RO"),
    (11, "IT"),
    (9, "CO"),
    (7, "RU"),
    (5, "US"),
    (4, "IN"),
    (3, "BR"),
];
/// Where the top three live (the seed's 93.174.X, 124.83.Y, 183.60.Z).
const MULTI_PREFIXES: [([u8; 4], u8); 3] = [
    ([93, 174, 88, 0], 21),
    ([124, 83, 0, 0], 16),
    ([183, 60, 0, 0], 16),
];

/// Background: every other port, each with fewer connections than TCP/80.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    /// TCP SYN probes (`-` lines, flags `S`).
    Syn,
    /// TCP flows the web server engaged: `S`, later `E`.
    Web,
    /// UDP datagrams (`-` lines).
    Udp,
    /// UDP flows: `S`, later `E`.
    UdpFlow,
    /// ICMP probes.
    Icmp,
}

struct Job {
    style: Style,
    port: u16,
    total: u32,
    /// Mean connections per source.
    per_source: u32,
    /// Percentage of sources that are TCP/23 bots too (never for UDP/53413 or TCP/6379).
    bots_pct: u64,
}

const fn job(style: Style, port: u16, total: u32, per_source: u32, bots_pct: u64) -> Job {
    Job {
        style,
        port,
        total,
        per_source,
        bots_pct,
    }
}

const JOBS: &[Job] = &[
    job(Style::Web, 80, TCP80_TOTAL, 5, 30),
    job(Style::Udp, 53413, UDP53413_TOTAL, 130, 0),
    job(Style::Syn, 445, 52_630, 6, 0),
    job(Style::Web, 8080, 48_211, 6, 25),
    job(Style::Syn, 1433, 44_018, 25, 0),
    job(Style::Syn, 2323, 41_876, 5, 70),
    job(Style::Syn, 22, 39_544, 14, 3),
    job(Style::Syn, 3389, 35_902, 16, 0),
    job(Style::Syn, 6379, 27_353, 12, 0),
    job(Style::Udp, 5060, 19_870, 45, 0),
    job(Style::Syn, 3306, 18_342, 15, 0),
    job(Style::Syn, 21, 14_657, 9, 2),
    job(Style::Syn, 5900, 13_480, 12, 0),
    job(Style::Udp, 123, 12_518, 20, 0),
    job(Style::Syn, 7547, 12_406, 6, 20),
    job(Style::Syn, 25, 11_230, 10, 0),
    job(Style::Syn, 8000, 10_377, 7, 10),
    job(Style::Udp, 1900, 10_233, 18, 0),
    job(Style::Syn, 5555, 9_781, 8, 10),
    job(Style::Syn, 443, 9_118, 6, 0),
    job(Style::Syn, 81, 8_920, 5, 15),
    job(Style::Udp, 137, 8_533, 12, 0),
    job(Style::Udp, 161, 7_462, 15, 0),
    job(Style::Syn, 5358, 7_095, 5, 25),
    job(Style::Syn, 135, 6_707, 8, 0),
    job(Style::Syn, 3128, 6_102, 6, 0),
    job(Style::Syn, 139, 5_911, 7, 0),
    job(Style::Syn, 8888, 5_244, 6, 5),
    job(Style::UdpFlow, 53, 4_106, 8, 0),
    job(Style::Icmp, 0, 22_640, 9, 20),
];

/// Connections on TCP ports outside [`JOBS`] (masscan-style sweeps): the rest of the total.
const TAIL_TOTAL: u32 = 58_508;
const TAIL_PORTS: usize = 3_000;
const TOTAL_CONNECTIONS: u64 = 2_655_884;

/// Backscatter lines (replies of flooded hosts to spoofed sources), null/FIN/Xmas scans.
const BACKSCATTER_LINES: u32 = 34_000;
const BACKSCATTER_VICTIMS: usize = 80;
const ODD_SCAN_LINES: u32 = 700;

/// Passive OS labels as Honeyd wrote them; 0 means none.
const LABELS: [&str; 10] = [
    "",
    "Linux 2.6 .1-7",
    "Linux 2.6 ",
    "Linux 2.4 .18-21",
    "Linux 2.4-2.6 ",
    "Windows XP SP1",
    "Windows 2000 SP4",
    "Windows XP SP1+, 2000 SP3",
    "Solaris 10 (beta)",
    "Solaris 9 ",
];

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum OsClass {
    None,
    Linux,
    Windows,
    Solaris,
}

fn os_class(label: u8) -> OsClass {
    match label {
        1..=4 => OsClass::Linux,
        5..=7 => OsClass::Windows,
        8..=9 => OsClass::Solaris,
        _ => OsClass::None,
    }
}

fn pick_label(rng: &mut Rng, class: OsClass) -> u8 {
    match class {
        OsClass::None => 0,
        OsClass::Linux => match rng.below(100) {
            0..=44 => 1,
            45..=69 => 2,
            70..=89 => 3,
            _ => 4,
        },
        OsClass::Windows => 5 + rng.below(3) as u8,
        OsClass::Solaris => 8 + (rng.below(4) == 0) as u8,
    }
}

/// Relative activity per local hour of the day (evening peak).
const DIURNAL: [u64; 24] = [
    88, 84, 80, 78, 77, 78, 81, 85, 90, 94, 97, 99, 100, 101, 103, 105, 108, 111, 114, 116, 115,
    111, 103, 95,
];

// ---------------------------------------------------------------------------------------
// Address space: public IPv4 blocks and their countries (plausible, not authoritative).

const BLOCKS: &[([u8; 4], u8, &str)] = &[
    ([1, 80, 0, 0], 12, "CN"),
    ([1, 160, 0, 0], 12, "TW"),
    ([2, 176, 0, 0], 12, "IR"),
    ([5, 112, 0, 0], 12, "IR"),
    ([5, 136, 0, 0], 13, "RU"),
    ([14, 160, 0, 0], 11, "VN"),
    ([24, 0, 0, 0], 12, "US"),
    ([27, 64, 0, 0], 12, "VN"),
    ([27, 184, 0, 0], 13, "CN"),
    ([36, 64, 0, 0], 11, "ID"),
    ([36, 96, 0, 0], 11, "CN"),
    ([36, 224, 0, 0], 12, "TW"),
    ([39, 32, 0, 0], 11, "PK"),
    ([41, 32, 0, 0], 12, "EG"),
    ([45, 55, 0, 0], 16, "US"),
    ([46, 200, 0, 0], 13, "UA"),
    ([49, 144, 0, 0], 13, "PH"),
    ([58, 8, 0, 0], 13, "TH"),
    ([58, 16, 0, 0], 13, "CN"),
    ([58, 176, 0, 0], 13, "HK"),
    ([59, 88, 0, 0], 13, "IN"),
    ([60, 160, 0, 0], 11, "CN"),
    ([61, 128, 0, 0], 10, "CN"),
    ([67, 160, 0, 0], 11, "US"),
    ([71, 192, 0, 0], 11, "US"),
    ([77, 160, 0, 0], 13, "NL"),
    ([78, 160, 0, 0], 11, "TR"),
    ([79, 0, 0, 0], 12, "IT"),
    ([79, 112, 0, 0], 13, "RO"),
    ([79, 192, 0, 0], 10, "DE"),
    ([81, 96, 0, 0], 12, "GB"),
    ([83, 0, 0, 0], 11, "PL"),
    ([83, 32, 0, 0], 11, "ES"),
    ([84, 24, 0, 0], 13, "NL"),
    ([84, 128, 0, 0], 10, "DE"),
    ([85, 96, 0, 0], 12, "TR"),
    ([86, 120, 0, 0], 13, "RO"),
    ([86, 128, 0, 0], 11, "GB"),
    ([86, 192, 0, 0], 11, "FR"),
    ([88, 224, 0, 0], 11, "TR"),
    ([90, 0, 0, 0], 9, "FR"),
    ([93, 72, 0, 0], 13, "UA"),
    ([93, 174, 88, 0], 21, "NL"),
    ([95, 24, 0, 0], 13, "RU"),
    ([98, 192, 0, 0], 10, "US"),
    ([104, 131, 0, 0], 16, "US"),
    ([106, 192, 0, 0], 11, "IN"),
    ([110, 136, 0, 0], 13, "ID"),
    ([110, 164, 0, 0], 14, "TH"),
    ([112, 80, 0, 0], 12, "CN"),
    ([112, 198, 0, 0], 16, "PH"),
    ([113, 64, 0, 0], 11, "CN"),
    ([113, 160, 0, 0], 11, "VN"),
    ([113, 252, 0, 0], 14, "HK"),
    ([114, 32, 0, 0], 12, "TW"),
    ([114, 224, 0, 0], 12, "CN"),
    ([115, 72, 0, 0], 13, "VN"),
    ([115, 192, 0, 0], 11, "CN"),
    ([117, 136, 0, 0], 13, "CN"),
    ([117, 192, 0, 0], 10, "IN"),
    ([118, 160, 0, 0], 13, "TW"),
    ([119, 96, 0, 0], 13, "CN"),
    ([120, 28, 0, 0], 14, "PH"),
    ([121, 128, 0, 0], 10, "KR"),
    ([121, 224, 0, 0], 12, "CN"),
    ([122, 224, 0, 0], 12, "CN"),
    ([124, 83, 0, 0], 16, "PH"),
    ([125, 64, 0, 0], 11, "CN"),
    ([126, 0, 0, 0], 8, "JP"),
    ([153, 128, 0, 0], 9, "JP"),
    ([162, 243, 0, 0], 16, "US"),
    ([171, 96, 0, 0], 11, "TH"),
    ([171, 224, 0, 0], 11, "VN"),
    ([175, 192, 0, 0], 10, "KR"),
    ([177, 0, 0, 0], 14, "BR"),
    ([178, 64, 0, 0], 12, "RU"),
    ([178, 150, 0, 0], 15, "UA"),
    ([179, 96, 0, 0], 11, "BR"),
    ([180, 96, 0, 0], 11, "CN"),
    ([180, 240, 0, 0], 12, "ID"),
    ([181, 0, 0, 0], 12, "AR"),
    ([181, 48, 0, 0], 13, "CO"),
    ([183, 0, 0, 0], 10, "CN"),
    ([186, 0, 0, 0], 13, "AR"),
    ([186, 192, 0, 0], 11, "BR"),
    ([187, 0, 0, 0], 12, "BR"),
    ([187, 128, 0, 0], 10, "MX"),
    ([189, 0, 0, 0], 11, "BR"),
    ([189, 128, 0, 0], 10, "MX"),
    ([190, 16, 0, 0], 12, "AR"),
    ([190, 72, 0, 0], 14, "VE"),
    ([190, 144, 0, 0], 13, "CO"),
    ([190, 160, 0, 0], 12, "CL"),
    ([190, 232, 0, 0], 13, "PE"),
    ([191, 32, 0, 0], 11, "BR"),
    ([197, 32, 0, 0], 11, "EG"),
    ([201, 0, 0, 0], 12, "BR"),
    ([201, 96, 0, 0], 11, "MX"),
    ([211, 32, 0, 0], 11, "KR"),
    ([220, 64, 0, 0], 11, "KR"),
    ([222, 128, 0, 0], 12, "CN"),
];

/// Where TCP/23 bots come from (IoT malware, 2016).
const BOT_COUNTRIES: &[(&str, u64)] = &[
    ("CN", 190),
    ("VN", 95),
    ("BR", 85),
    ("TR", 60),
    ("RU", 55),
    ("IN", 55),
    ("KR", 40),
    ("TW", 40),
    ("US", 35),
    ("AR", 30),
    ("MX", 30),
    ("CO", 22),
    ("IR", 22),
    ("EG", 20),
    ("TH", 20),
    ("ID", 20),
    ("PH", 18),
    ("UA", 18),
    ("RO", 14),
    ("IT", 14),
    ("PK", 12),
    ("VE", 12),
    ("HK", 8),
    ("PE", 10),
    ("CL", 10),
    ("ES", 8),
    ("PL", 8),
    ("DE", 6),
    ("FR", 6),
    ("GB", 5),
    ("JP", 5),
    ("NL", 3),
];

/// Where the other scanners (hosting, research, worms) come from.
const SCAN_COUNTRIES: &[(&str, u64)] = &[
    ("US", 180),
    ("CN", 170),
    ("RU", 70),
    ("NL", 50),
    ("DE", 40),
    ("BR", 40),
    ("FR", 30),
    ("KR", 30),
    ("GB", 25),
    ("TW", 25),
    ("VN", 25),
    ("IN", 25),
    ("UA", 20),
    ("TR", 20),
    ("RO", 15),
    ("JP", 15),
    ("HK", 15),
    ("IT", 12),
    ("ES", 10),
    ("PL", 10),
    ("IR", 10),
    ("AR", 10),
    ("MX", 10),
    ("TH", 8),
    ("ID", 8),
    ("PH", 6),
    ("EG", 6),
    ("CO", 6),
    ("CL", 4),
    ("PK", 4),
    ("VE", 4),
    ("PE", 3),
];

fn block_range(b: &([u8; 4], u8, &str)) -> (u32, u32) {
    let start = u32::from_be_bytes(b.0);
    let size = 1u64 << (32 - b.1 as u32);
    (start, (start as u64 + size - 1) as u32)
}

/// Writes the GeoIP CSV (DB-IP lite country layout: `start,end,country`, IPv4 ranges, ISO
/// country codes, no header) that covers every source of the log [`write_seed_month`]
/// writes. The blocks do not depend on the seed today; the parameter keeps the pairing
/// explicit.
pub fn write_seed_geoip_csv(out: &mut impl Write, seed: u64) -> io::Result<()> {
    let _ = seed;
    let mut blocks: Vec<(u32, u32, &str)> = BLOCKS
        .iter()
        .map(|b| {
            let (s, e) = block_range(b);
            (s, e, b.2)
        })
        .collect();
    blocks.sort_unstable();
    let mut w = io::BufWriter::new(out);
    for (s, e, cc) in blocks {
        writeln!(w, "{},{},{}", Ipv4Addr::from(s), Ipv4Addr::from(e), cc)?;
    }
    w.flush()
}

// ---------------------------------------------------------------------------------------
// A small seeded generator (splitmix64).

#[derive(Clone)]
struct Rng(u64);

fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// An independent stream per stage, so one stage's draws do not shift another's.
    fn new(seed: u64, stream: u64) -> Rng {
        Rng(mix64(
            seed ^ mix64(stream.wrapping_add(0x9E37_79B9_7F4A_7C15)),
        ))
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `(0, 1]`.
    fn unit_open(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Splits `total` over `n` sources (each at least 1), heavy-tailed: weights `1/(u + 1/cap)`
/// (Pareto with index 1, bent smoothly below `cap` so no two top sources tie), apportioned
/// on the cumulative sums so the parts add up exactly.
fn heavy_counts(rng: &mut Rng, n: usize, total: u64, cap: f64) -> Vec<u32> {
    assert!(n > 0 && total >= n as u64, "{total} over {n} sources");
    let weights: Vec<f64> = (0..n)
        .map(|_| 1.0 / (rng.unit_open() + 1.0 / cap))
        .collect();
    let sum: f64 = weights.iter().sum();
    let extra = total - n as u64;
    let mut counts = Vec::with_capacity(n);
    let mut cum = 0.0;
    let mut given = 0u64;
    for (i, w) in weights.iter().enumerate() {
        cum += w;
        let upto = if i + 1 == n {
            extra
        } else {
            ((cum * extra as f64 / sum).floor() as u64).clamp(given, extra)
        };
        counts.push((1 + upto - given) as u32);
        given = upto;
    }
    counts
}

/// Reflects `x` into `[0, DAYS)` and returns the day index.
fn day_of(mut x: f64) -> usize {
    let d = DAYS as f64;
    if x < 0.0 {
        x = -x;
    }
    if x >= d {
        x = 2.0 * d - x;
    }
    (x.max(0.0) as usize).min(DAYS - 1)
}

/// How many days either side of its centre a source with `count` connections is active.
fn spread(count: u32) -> f64 {
    let bits = 32 - count.leading_zeros();
    0.4 + 1.1 * bits as f64
}

// ---------------------------------------------------------------------------------------
// Local time.

#[derive(Clone, Copy)]
struct Hour {
    /// UTC µs of hh:00:00 local, when the whole hour maps one to one (no clock change).
    base: Option<i64>,
}

struct Clock<'a> {
    tz: &'a LocalZone,
    day0: i64,
    hours: Vec<Hour>,
    diurnal_cum: [u64; 24],
}

impl<'a> Clock<'a> {
    fn new(tz: &'a LocalZone) -> Clock<'a> {
        let day0 = Ymd {
            year: 2016,
            month: 4,
            day: 1,
        }
        .to_epoch_day()
        .unwrap_or(16_892);
        let mut clock = Clock {
            tz,
            day0,
            hours: Vec::with_capacity(DAYS * 24),
            diurnal_cum: [0; 24],
        };
        let mut acc = 0;
        for (c, w) in clock.diurnal_cum.iter_mut().zip(DIURNAL) {
            acc += w;
            *c = acc;
        }
        for d in 0..DAYS {
            for h in 0..24u32 {
                let start = clock.exact(d, h * 3600, 0);
                let end = clock.exact(d, h * 3600 + 3599, 0);
                let base = match (start, end) {
                    (Some(s), Some(e)) if e - s == 3_599_000_000 => Some(s),
                    _ => None,
                };
                clock.hours.push(Hour { base });
            }
        }
        clock
    }

    /// The UTC time of a local day (index from April 1), second of day and 100 µs unit, if
    /// writing it back in the zone gives the same local time.
    fn exact(&self, day: usize, sod: u32, units: u32) -> Option<i64> {
        let days = self.day0 + day as i64;
        let ts = self.tz.local_to_utc(days, sod, units * 100)?.as_micros();
        let local = ts.div_euclid(1_000_000) + self.tz.offset_at(Timestamp(ts)) as i64;
        (local == days * 86_400 + sod as i64).then_some(ts)
    }

    /// A random time in a local hour, if that hour exists (a few tries in a partial hour).
    fn in_hour(&self, rng: &mut Rng, day: usize, hour: u32) -> Option<i64> {
        let sec = rng.below(3600) as u32;
        let units = rng.below(10_000) as u32;
        if let Some(base) = self.hours[day * 24 + hour as usize].base {
            return Some(base + sec as i64 * 1_000_000 + units as i64 * 100);
        }
        (0..8).find_map(|_| {
            self.exact(
                day,
                hour * 3600 + rng.below(3600) as u32,
                rng.below(10_000) as u32,
            )
        })
    }

    fn hour(&self, rng: &mut Rng) -> u32 {
        let x = rng.below(self.diurnal_cum[23]);
        self.diurnal_cum.iter().position(|&c| x < c).unwrap_or(23) as u32
    }

    /// A random time on a local day, following the diurnal curve.
    fn in_day(&self, rng: &mut Rng, day: usize) -> i64 {
        for _ in 0..64 {
            let h = self.hour(rng);
            if let Some(ts) = self.in_hour(rng, day, h) {
                return ts;
            }
        }
        // Unreachable for real zones (no day lacks most of its hours); stay total anyway.
        self.tz
            .local_to_utc(self.day0 + day as i64, 12 * 3600, 0)
            .map_or(0, |t| t.as_micros())
    }

    /// Whether every hour in `hours` exists on `day` without a clock change.
    fn whole_hours(&self, day: usize, hours: std::ops::Range<u32>) -> bool {
        hours
            .into_iter()
            .all(|h| self.hours[day * 24 + h as usize].base.is_some())
    }
}

// ---------------------------------------------------------------------------------------
// Records: one compact line each.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum What {
    Started,
    Stopped,
    TcpProbe,
    TcpStart,
    TcpEnd,
    UdpProbe,
    UdpStart,
    UdpEnd,
    Icmp,
}

/// One line. ICMP keeps its type in `dport` and code in `sport`; flow ends keep the bytes
/// received in `len` and sent in `tx`.
#[derive(Clone, Copy, Debug)]
struct Rec {
    ts: i64,
    src: u32,
    sport: u16,
    dport: u16,
    len: u16,
    tx: u16,
    dst: u8,
    what: What,
    flags: u8,
    os: u8,
}

const SYN: u8 = TcpFlags::SYN;
const ACK: u8 = TcpFlags::ACK;

impl Rec {
    fn is_connection(&self) -> bool {
        match self.what {
            What::TcpProbe => self.flags & (SYN | ACK) == SYN,
            What::TcpStart | What::UdpStart | What::UdpProbe | What::Icmp => true,
            _ => false,
        }
    }

    fn event(&self) -> Event {
        let time = Timestamp(self.ts);
        let (kind, proto) = match self.what {
            What::Started | What::Stopped => {
                let state = if self.what == What::Started {
                    LogState::Started
                } else {
                    LogState::Stopped
                };
                return Event::Lifecycle(LifecycleEvent {
                    time,
                    sensor: None,
                    state,
                });
            }
            What::TcpProbe => (PacketKind::Probe, 6),
            What::TcpStart => (PacketKind::FlowStart, 6),
            What::TcpEnd => (PacketKind::FlowEnd, 6),
            What::UdpProbe => (PacketKind::Probe, 17),
            What::UdpStart => (PacketKind::FlowStart, 17),
            What::UdpEnd => (PacketKind::FlowEnd, 17),
            What::Icmp => (PacketKind::Probe, 1),
        };
        let src = IpAddr::V4(Ipv4Addr::from(self.src));
        let dst = IpAddr::V4(Ipv4Addr::new(198, 51, 100, self.dst));
        let mut p = PacketEvent::new(time, kind, proto, src, dst);
        if self.what == What::Icmp {
            p.icmp_type = Some(self.dport as u8);
            p.icmp_code = Some(self.sport as u8);
            p.ip_len = Some(self.len as u32);
            return Event::Packet(p);
        }
        p.sport = Some(self.sport);
        p.dport = Some(self.dport);
        match self.what {
            What::TcpProbe => {
                p.ip_len = Some(self.len as u32);
                p.tcp_flags = Some(TcpFlags(self.flags));
            }
            What::UdpProbe => p.ip_len = Some(self.len as u32),
            What::TcpEnd | What::UdpEnd => {
                p.rx_bytes = Some(self.len as u64);
                p.tx_bytes = Some(self.tx as u64);
            }
            _ => {}
        }
        if self.os != 0 {
            p.os = Some(LABELS[self.os as usize].into());
        }
        Event::Packet(p)
    }
}

// ---------------------------------------------------------------------------------------
// The generator.

/// Per-source passive OS: the first `n_a` TCP/23 connections carry `a`, the rest `b` (only
/// the few sources at a class boundary have `a != b`).
#[derive(Clone, Copy, Default)]
struct SourceOs {
    a: u8,
    b: u8,
    n_a: u32,
    used: u32,
}

impl SourceOs {
    fn next(&mut self) -> u8 {
        let os = if self.used < self.n_a { self.a } else { self.b };
        self.used += 1;
        os
    }
}

struct Geo {
    /// Block ranges (start, size) per country code, in [`BLOCKS`] order.
    by_cc: Vec<(&'static str, Vec<(u32, u32)>)>,
}

impl Geo {
    fn new() -> Geo {
        let mut by_cc: Vec<(&'static str, Vec<(u32, u32)>)> = Vec::new();
        for b in BLOCKS {
            let (s, e) = block_range(b);
            match by_cc.iter_mut().find(|(cc, _)| *cc == b.2) {
                Some((_, v)) => v.push((s, e - s + 1)),
                None => by_cc.push((b.2, vec![(s, e - s + 1)])),
            }
        }
        Geo { by_cc }
    }

    fn blocks(&self, cc: &str) -> &[(u32, u32)] {
        self.by_cc
            .iter()
            .find(|(c, _)| *c == cc)
            .map_or(&[][..], |(_, v)| v)
    }
}

struct Gen<'a> {
    clock: Clock<'a>,
    geo: Geo,
    used: HashSet<u32>,
    recs: Vec<Rec>,
    /// TCP/23 sources: the 29 multi-port sources first, then the others.
    bots: Vec<u32>,
    bot_os: Vec<SourceOs>,
    /// Sources that never touch TCP/23.
    fresh: Vec<u32>,
    fresh_os: Vec<u8>,
    end: i64,
}

/// A source's address and its passive OS label.
#[derive(Clone, Copy)]
struct Source {
    addr: u32,
    os: u8,
}

fn sport(rng: &mut Rng, os: u8) -> u16 {
    (match os_class(os) {
        OsClass::Linux => rng.range(32_768, 60_999),
        OsClass::Windows => rng.range(1_025, 5_000),
        OsClass::Solaris => rng.range(32_768, 65_535),
        OsClass::None => rng.range(1_024, 65_535),
    }) as u16
}

/// IP length of a SYN: with options from real stacks, bare from raw-socket scanners.
fn syn_len(addr: u32, os: u8) -> u16 {
    match os_class(os) {
        OsClass::Linux => 60,
        OsClass::Windows => 48,
        OsClass::Solaris => 64,
        OsClass::None => 40 + 4 * (mix64(addr as u64) & 1) as u16,
    }
}

fn udp_len(rng: &mut Rng, port: u16, addr: u32) -> u16 {
    let h = mix64(addr as u64 ^ port as u64);
    match port {
        53413 => [36, 38, 41, 52][(h % 4) as usize],
        123 => [36, 76][(h % 2) as usize],
        1900 => 120 + (h % 40) as u16,
        5060 => 380 + (h % 260) as u16,
        161 => [71, 82][(h % 2) as usize],
        137 => 78,
        53 => 40 + rng.below(30) as u16,
        _ => 28 + rng.below(100) as u16,
    }
}

impl<'a> Gen<'a> {
    fn dst(rng: &mut Rng) -> u8 {
        1 + rng.below(254) as u8
    }

    /// A new address nobody else uses, from a country drawn with `weights`.
    fn draw_addr(&mut self, rng: &mut Rng, weights: &[(&str, u64)]) -> u32 {
        let total: u64 = weights.iter().map(|w| w.1).sum();
        loop {
            let mut x = rng.below(total);
            let cc = weights
                .iter()
                .find(|(_, w)| {
                    if x < *w {
                        true
                    } else {
                        x -= w;
                        false
                    }
                })
                .map_or("CN", |w| w.0);
            // Blocks weighted by the square root of their size: big ISPs hold more
            // sources, without small hosting blocks vanishing or swarming.
            let blocks = self.geo.blocks(cc);
            let weight = |size: u32| 1u64 << (size.trailing_zeros() / 2);
            let mut x = rng.below(blocks.iter().map(|b| weight(b.1)).sum());
            let &(start, size) = blocks
                .iter()
                .find(|b| {
                    let w = weight(b.1);
                    x < w || {
                        x -= w;
                        false
                    }
                })
                .unwrap_or(&blocks[0]);
            if let Some(a) = self.fresh_in(rng, start, size) {
                return a;
            }
        }
    }

    /// A new address inside `start..start+size`, not ending in .0 or .255.
    fn fresh_in(&mut self, rng: &mut Rng, start: u32, size: u32) -> Option<u32> {
        (0..64).find_map(|_| {
            let a = start + rng.below(size as u64) as u32;
            let last = a & 0xff;
            (last != 0 && last != 255 && self.used.insert(a)).then_some(a)
        })
    }

    fn push(&mut self, r: Rec) {
        self.recs.push(r);
    }

    /// A TCP SYN probe (`-` line, flags S; ECN-setup SYNs from some Linux hosts).
    fn syn(&mut self, rng: &mut Rng, ts: i64, src: Source, dport: u16) {
        let flags = if os_class(src.os) == OsClass::Linux && rng.below(250) == 0 {
            SYN | 0x40 | 0x80
        } else {
            SYN
        };
        let r = Rec {
            ts,
            src: src.addr,
            sport: sport(rng, src.os),
            dport,
            len: syn_len(src.addr, src.os),
            tx: 0,
            dst: Self::dst(rng),
            what: What::TcpProbe,
            flags,
            os: src.os,
        };
        self.push(r);
    }

    fn udp(&mut self, rng: &mut Rng, ts: i64, src: Source, dport: u16) {
        let r = Rec {
            ts,
            src: src.addr,
            sport: sport(rng, 0),
            dport,
            len: udp_len(rng, dport, src.addr),
            tx: 0,
            dst: Self::dst(rng),
            what: What::UdpProbe,
            flags: 0,
            os: 0,
        };
        self.push(r);
    }

    /// A flow the honeypot answered: `S`, later `E` (and now and then a stray packet after).
    fn flow(&mut self, rng: &mut Rng, ts: i64, src: Source, dport: u16, tcp: bool) {
        let sp = sport(rng, src.os);
        let dst = Self::dst(rng);
        let ts = ts.min(self.end);
        let start = Rec {
            ts,
            src: src.addr,
            sport: sp,
            dport,
            len: 0,
            tx: 0,
            dst,
            what: if tcp { What::TcpStart } else { What::UdpStart },
            flags: 0,
            os: if tcp { src.os } else { 0 },
        };
        // Durations: mostly sub-second to a few seconds, some held open up to a minute.
        let dur = if rng.below(10) == 0 {
            rng.range(5_000_000, 60_000_000)
        } else {
            rng.range(20_000, 4_000_000)
        } as i64;
        let end_ts = (ts + dur / 100 * 100).min(self.end);
        let (rx, tx) = if tcp {
            match rng.below(10) {
                0..=1 => (0, 0),
                2 => (rng.range(16, 120), 0),
                _ => {
                    let rx = rng.range(60, 720);
                    (rx, *rng.pick(&[337u64, 1_452, 2_961, 5_120, 13_762]))
                }
            }
        } else {
            let rx = rng.range(17, 60);
            (rx, if rng.below(4) == 0 { 0 } else { rx + 16 })
        };
        let end = Rec {
            ts: end_ts,
            what: if tcp { What::TcpEnd } else { What::UdpEnd },
            len: rx as u16,
            tx: tx as u16,
            os: 0,
            ..start
        };
        self.push(start);
        self.push(end);
        if tcp && rng.below(100) < 3 {
            let flags = *rng.pick(&[TcpFlags::FIN | ACK, ACK, TcpFlags::RST]);
            let late = Rec {
                ts: (end_ts + rng.range(1, 2_000) as i64 * 100).min(self.end),
                what: What::TcpProbe,
                len: 40,
                flags,
                os: 0,
                ..start
            };
            self.push(late);
        }
    }

    fn icmp(&mut self, rng: &mut Rng, ts: i64, src: Source) {
        let (ty, code) = match rng.below(1000) {
            0..=959 => (8, 0),
            960..=969 => (13, 0),
            970..=984 => (3, 3),
            985..=994 => (11, 0),
            _ => (3, 1),
        };
        let len = [28u16, 60, 84, 92][(mix64(src.addr as u64 ^ 1) % 4) as usize];
        let r = Rec {
            ts,
            src: src.addr,
            sport: code,
            dport: ty,
            len: if ty == 8 { len } else { 56 },
            tx: 0,
            dst: Self::dst(rng),
            what: What::Icmp,
            flags: 0,
            os: 0,
        };
        self.push(r);
    }

    fn connection(&mut self, rng: &mut Rng, style: Style, ts: i64, src: Source, port: u16) {
        match style {
            Style::Syn => self.syn(rng, ts, src, port),
            Style::Web => self.flow(rng, ts, src, port, true),
            Style::Udp => self.udp(rng, ts, src, port),
            Style::UdpFlow => self.flow(rng, ts, src, port, false),
            Style::Icmp => self.icmp(rng, ts, src),
        }
    }

    /// A TCP/23 source as seen on other ports: its usual label.
    fn bot_source(&self, i: usize) -> Source {
        Source {
            addr: self.bots[i],
            os: self.bot_os[i].a,
        }
    }

    fn fresh_source(&self, i: usize) -> Source {
        Source {
            addr: self.fresh[i],
            os: self.fresh_os[i],
        }
    }

    /// `total` connections of one style and port from about `total / per_source` sources.
    fn spread_job(
        &mut self,
        rng: &mut Rng,
        style: Style,
        port: u16,
        total: u32,
        per_source: u32,
        bots_pct: u64,
    ) {
        if total == 0 {
            return;
        }
        let n = (total / per_source.max(1)).max(1) as usize;
        let cap = (n as f64).clamp(8.0, 2_000.0);
        let counts = heavy_counts(rng, n, total as u64, cap);
        for c in counts {
            let src = if rng.below(100) < bots_pct {
                self.bot_source(
                    MULTI.len() + rng.below((self.bots.len() - MULTI.len()) as u64) as usize,
                )
            } else {
                self.fresh_source(rng.below(self.fresh.len() as u64) as usize)
            };
            let centre = rng.unit() * DAYS as f64;
            let width = spread(c);
            for _ in 0..c {
                let day = day_of(centre + (rng.unit() + rng.unit() - 1.0) * width);
                let ts = self.clock.in_day(rng, day);
                self.connection(rng, style, ts, src, port);
            }
        }
    }
}

/// TCP/23 per local day: April 9 and April 30 fixed, the others between them with a weekly
/// wave, a slight downward trend and noise, summing to the month's total.
fn day_totals(rng: &mut Rng) -> [u32; DAYS] {
    // April 1, 2016 was a Friday.
    const WEEK: [i64; 7] = [1_500, 4_000, 2_500, -1_500, -3_000, -2_500, -1_000];
    let (lo, hi) = (QUIETEST.1 as i64 + 2_000, BUSIEST.1 as i64 - 2_000);
    let mut d = [0i64; DAYS];
    for (i, v) in d.iter_mut().enumerate() {
        *v = 64_438 + WEEK[i % 7] + 3_000 - 200 * i as i64 + rng.range(0, 18_000) as i64 - 9_000;
        *v = (*v).clamp(lo, hi);
    }
    d[BUSIEST.0] = BUSIEST.1 as i64;
    d[QUIETEST.0] = QUIETEST.1 as i64;
    let target = TCP23_TOTAL as i64;
    let free: Vec<usize> = (0..DAYS)
        .filter(|&i| i != BUSIEST.0 && i != QUIETEST.0)
        .collect();
    let mut sum: i64 = d.iter().sum();
    while sum != target {
        let i = *rng.pick(&free);
        let step = if sum < target { 1 } else { -1 };
        let room = if step > 0 { hi - d[i] } else { d[i] - lo };
        let k = room.min((target - sum).abs()).min(97);
        d[i] += step * k;
        sum += step * k;
    }
    d.map(|v| v as u32)
}

/// Assigns OS classes to TCP/23 sources so the connection counts per class are exact:
/// Solaris and Windows among light sources, Linux among the rest, none for what is left;
/// the one source at each class boundary is split.
fn assign_os(rng: &mut Rng, counts: &[u32]) -> Vec<SourceOs> {
    let mut os = vec![SourceOs::default(); counts.len()];
    let mut taken = vec![false; counts.len()];
    let mut order: Vec<usize> = (0..counts.len()).collect();
    for i in (1..order.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    let classes = [
        (OsClass::Solaris, OS_SOLARIS, 6),
        (OsClass::Windows, OS_WINDOWS, 25),
        (OsClass::Linux, OS_LINUX, u32::MAX),
    ];
    for (class, target, max_count) in classes {
        let mut got = 0u64;
        // Light sources first; any source if those do not suffice.
        for limit in [max_count, u32::MAX] {
            for &i in &order {
                if got == target {
                    break;
                }
                if taken[i] || counts[i] > limit {
                    continue;
                }
                taken[i] = true;
                let label = pick_label(rng, class);
                let n = (counts[i] as u64).min(target - got);
                got += n;
                os[i] = SourceOs {
                    a: label,
                    // The rest of a boundary source: unidentified.
                    b: if n < counts[i] as u64 { 0 } else { label },
                    n_a: n as u32,
                    used: 0,
                };
            }
        }
        assert_eq!(got, target, "not enough sources for {class:?}");
    }
    os
}

/// The per-source split of the 29 multi-port sources.
struct MultiPlan {
    n23: u32,
    n53413: u32,
    n6379: u32,
}

fn plan_multi(rng: &mut Rng) -> Vec<MultiPlan> {
    MULTI
        .iter()
        .enumerate()
        .map(|(i, &(total, _))| {
            if i == 0 {
                // Half and half, two hours each (see `multi_traffic`).
                return MultiPlan {
                    n23: total / 2,
                    n53413: 0,
                    n6379: total - total / 2,
                };
            }
            let n23 = ((total as u64 * rng.range(30, 80) / 100) as u32).clamp(1, total - 1);
            let rest = total - n23;
            let (a, b) = match rng.below(100) {
                0..=59 => (rest, 0),
                60..=84 => (0, rest),
                _ if rest >= 2 => {
                    let a = 1 + rng.below(rest as u64 - 1) as u32;
                    (a, rest - a)
                }
                _ => (rest, 0),
            };
            MultiPlan {
                n23,
                n53413: a,
                n6379: b,
            }
        })
        .collect()
}

/// Writes one month (April 2016, local days and hours in `tz`) of a synthetic Honeyd log
/// calibrated to the seed study, deterministic for `seed`. Lines are in time order.
pub fn write_seed_month(
    out: &mut impl Write,
    tz: &LocalZone,
    seed: u64,
) -> io::Result<SynthSummary> {
    let recs = generate(tz, seed);
    let mut summary = SynthSummary::default();
    let mut tcp23_sources = HashSet::new();
    let mut w = io::BufWriter::with_capacity(1 << 20, out);
    let mut line = String::with_capacity(1 << 16);
    for r in &recs {
        write_event(&r.event(), tz, &mut line);
        if line.len() > (1 << 16) - 256 {
            w.write_all(line.as_bytes())?;
            line.clear();
        }
        summary.lines += 1;
        if r.is_connection() {
            summary.connections += 1;
            if r.what == What::TcpProbe && r.dport == 23 {
                summary.tcp23_connections += 1;
                tcp23_sources.insert(r.src);
            }
        } else if matches!(r.what, What::TcpEnd | What::UdpEnd) {
            summary.flow_ends += 1;
        } else if !matches!(r.what, What::Started | What::Stopped) {
            summary.other_packets += 1;
        }
    }
    w.write_all(line.as_bytes())?;
    w.flush()?;
    summary.tcp23_sources = tcp23_sources.len() as u64;
    debug_assert_eq!(summary.connections, TOTAL_CONNECTIONS);
    debug_assert_eq!(summary.tcp23_sources, TCP23_SOURCES as u64);
    Ok(summary)
}

/// Every line of the month, sorted by time (stable: a flow's `S` stays before its `E`).
fn generate(tz: &LocalZone, seed: u64) -> Vec<Rec> {
    let clock = Clock::new(tz);
    let start = clock
        .tz
        .local_to_utc(clock.day0, 0, 0)
        .map_or(0, |t| t.as_micros());
    let end = clock
        .tz
        .local_to_utc(clock.day0 + DAYS as i64, 0, 0)
        .map_or(start + DAYS as i64 * 86_400_000_000, |t| t.as_micros())
        - 100;
    let mut g = Gen {
        clock,
        geo: Geo::new(),
        used: HashSet::with_capacity(200_000),
        recs: Vec::with_capacity(2_830_000),
        bots: Vec::with_capacity(TCP23_SOURCES),
        bot_os: Vec::new(),
        fresh: Vec::new(),
        fresh_os: Vec::new(),
        end,
    };
    let lifecycle = |ts, what| Rec {
        ts,
        src: 0,
        sport: 0,
        dport: 0,
        len: 0,
        tx: 0,
        dst: 0,
        what,
        flags: 0,
        os: 0,
    };
    g.push(lifecycle(start, What::Started));

    // Sources.
    let mut rng = Rng::new(seed, 1);
    for (i, &(_, cc)) in MULTI.iter().enumerate() {
        let addr = match MULTI_PREFIXES.get(i) {
            Some(&(net, len)) => {
                let size = 1u32 << (32 - len as u32);
                let mut a = None;
                while a.is_none() {
                    a = g.fresh_in(&mut rng, u32::from_be_bytes(net), size);
                }
                a.unwrap_or_default()
            }
            None => g.draw_addr(&mut rng, &[(cc, 1)]),
        };
        g.bots.push(addr);
    }
    while g.bots.len() < TCP23_SOURCES {
        let a = g.draw_addr(&mut rng, BOT_COUNTRIES);
        g.bots.push(a);
    }
    for _ in 0..60_000 {
        let a = g.draw_addr(&mut rng, SCAN_COUNTRIES);
        let class = match rng.below(1000) {
            0..=399 => OsClass::Linux,
            400..=439 => OsClass::Windows,
            440..=442 => OsClass::Solaris,
            _ => OsClass::None,
        };
        g.fresh.push(a);
        g.fresh_os.push(pick_label(&mut rng, class));
    }

    // TCP/23 counts per source and their OS classes.
    let mut rng = Rng::new(seed, 2);
    let plans = plan_multi(&mut rng);
    let multi23: u64 = plans.iter().map(|p| p.n23 as u64).sum();
    let mut counts: Vec<u32> = plans.iter().map(|p| p.n23).collect();
    counts.extend(heavy_counts(
        &mut rng,
        TCP23_SOURCES - MULTI.len(),
        TCP23_TOTAL - multi23,
        8_000.0,
    ));
    g.bot_os = assign_os(&mut rng, &counts);

    // The 29 multi-port sources; what they send to TCP/23 comes off the day totals.
    let mut rng = Rng::new(seed, 3);
    let mut quota = day_totals(&mut rng);
    let mut consumed_53413 = 0;
    let mut consumed_6379 = 0;
    for (i, plan) in plans.iter().enumerate() {
        consumed_53413 += plan.n53413;
        consumed_6379 += plan.n6379;
        let mut add23 = |g: &mut Gen, rng: &mut Rng, day: usize, ts: i64| {
            let src = Source {
                addr: g.bots[i],
                os: g.bot_os[i].next(),
            };
            g.syn(rng, ts, src, 23);
            quota[day] -= 1;
        };
        if i == 0 {
            // Active 4 hours a day: 2 on TCP/23, then 2 on TCP/6379, same hours every day.
            let h0 = rng.range(0, 20) as u32;
            let mut days: Vec<usize> = (0..DAYS)
                .filter(|&d| g.clock.whole_hours(d, h0..h0 + 4))
                .collect();
            for k in (1..days.len()).rev() {
                let j = rng.below(k as u64 + 1) as usize;
                days.swap(k, j);
            }
            days.truncate(13);
            days.sort_unstable();
            let per_day = |rng: &mut Rng, total: u32| -> Vec<u32> {
                heavy_counts(rng, days.len(), total as u64, 1.6)
            };
            let d23 = per_day(&mut rng, plan.n23);
            let d6379 = per_day(&mut rng, plan.n6379);
            for (k, &day) in days.iter().enumerate() {
                for (n, port, h) in [(d23[k], 23u16, h0), (d6379[k], 6379, h0 + 2)] {
                    // Both hours get at least one connection.
                    let first = if n >= 2 {
                        (n / 4 + rng.below(n as u64 / 2 + 1) as u32).clamp(1, n - 1)
                    } else {
                        n
                    };
                    for j in 0..n {
                        let hour = if j < first { h } else { h + 1 };
                        let ts = g.clock.in_hour(&mut rng, day, hour).unwrap_or(start);
                        if port == 23 {
                            add23(&mut g, &mut rng, day, ts);
                        } else {
                            let src = g.bot_source(i);
                            g.syn(&mut rng, ts, src, port);
                        }
                    }
                }
            }
            continue;
        }
        let first = rng.below(DAYS as u64) as usize;
        let len = 1 + rng.below((DAYS - first) as u64) as usize;
        for (n, port) in [(plan.n23, 23u16), (plan.n53413, 53413), (plan.n6379, 6379)] {
            for _ in 0..n {
                let day = first + rng.below(len as u64) as usize;
                let ts = g.clock.in_day(&mut rng, day);
                let src = g.bot_source(i);
                match port {
                    23 => add23(&mut g, &mut rng, day, ts),
                    53413 => g.udp(&mut rng, ts, src, port),
                    _ => g.syn(&mut rng, ts, src, port),
                }
            }
        }
    }

    // Every other TCP/23 connection: each source's connections scatter around its own centre
    // day; ranking them all by that position and cutting the ranking at the day totals makes
    // each day's count exact while keeping every source's days together.
    let mut rng = Rng::new(seed, 4);
    let mut keys: Vec<u64> = Vec::with_capacity((TCP23_TOTAL - multi23) as usize);
    for (i, &c) in counts.iter().enumerate().skip(MULTI.len()) {
        let centre = rng.unit() * DAYS as f64;
        let width = spread(c);
        for _ in 0..c {
            let mut x = centre + (rng.unit() + rng.unit() - 1.0) * width;
            x = x.abs();
            if x >= DAYS as f64 {
                x = (2.0 * DAYS as f64 - x).max(0.0);
            }
            let pos = ((x / DAYS as f64) * 4_294_967_295.0) as u64;
            keys.push(pos << 32 | i as u64);
        }
    }
    keys.sort_unstable();
    let mut day = 0;
    for key in keys {
        while quota[day] == 0 {
            day += 1;
        }
        quota[day] -= 1;
        let i = (key & 0xffff_ffff) as usize;
        let ts = g.clock.in_day(&mut rng, day);
        let src = Source {
            addr: g.bots[i],
            os: g.bot_os[i].next(),
        };
        g.syn(&mut rng, ts, src, 23);
    }

    // Background ports.
    let mut rng = Rng::new(seed, 5);
    for job in JOBS {
        let total = match (job.style, job.port) {
            (Style::Udp, 53413) => job.total - consumed_53413,
            (Style::Syn, 6379) => job.total - consumed_6379,
            _ => job.total,
        };
        g.spread_job(
            &mut rng,
            job.style,
            job.port,
            total,
            job.per_source,
            job.bots_pct,
        );
    }
    let mut rng = Rng::new(seed, 6);
    let mut ports = HashSet::new();
    let mut tail_ports = Vec::with_capacity(TAIL_PORTS);
    while tail_ports.len() < TAIL_PORTS {
        let p = rng.range(1, 65_535) as u16;
        if p != 23 && !JOBS.iter().any(|j| j.port == p) && ports.insert(p) {
            tail_ports.push(p);
        }
    }
    let per_port = heavy_counts(&mut rng, TAIL_PORTS, TAIL_TOTAL as u64, 300.0);
    for (&port, &n) in tail_ports.iter().zip(&per_port) {
        g.spread_job(&mut rng, Style::Syn, port, n, 12, 0);
    }

    // Lines that are not connections: backscatter from flooded hosts, odd scans.
    let mut rng = Rng::new(seed, 7);
    let per_victim = heavy_counts(
        &mut rng,
        BACKSCATTER_VICTIMS,
        BACKSCATTER_LINES as u64,
        40.0,
    );
    for n in per_victim {
        let victim = g.draw_addr(&mut rng, SCAN_COUNTRIES);
        let service = *rng.pick(&[80u16, 80, 443, 443, 22, 25, 53, 3389, 6667, 27015]);
        let day = rng.below(DAYS as u64) as usize;
        let t0 = g.clock.in_day(&mut rng, day);
        let span = (rng.range(300, 3 * 3600) * 1_000_000).min((end - t0).max(1) as u64);
        for _ in 0..n {
            let (flags, len) = match rng.below(100) {
                0..=69 => (SYN | ACK, 44),
                70..=89 => (TcpFlags::RST | ACK, 40),
                90..=96 => (TcpFlags::RST, 40),
                _ => (ACK, 40),
            };
            let r = Rec {
                ts: (t0 + (rng.below(span) / 100 * 100) as i64).min(end),
                src: victim,
                sport: service,
                dport: rng.range(1_024, 65_535) as u16,
                len,
                tx: 0,
                dst: Gen::dst(&mut rng),
                what: What::TcpProbe,
                flags,
                os: 0,
            };
            g.push(r);
        }
    }
    let scanners: Vec<usize> = (0..25)
        .map(|_| rng.below(g.fresh.len() as u64) as usize)
        .collect();
    for _ in 0..ODD_SCAN_LINES {
        let src = g.fresh[*rng.pick(&scanners)];
        let day = rng.below(DAYS as u64) as usize;
        let ts = g.clock.in_day(&mut rng, day);
        let flags = *rng.pick(&[0u8, TcpFlags::FIN, TcpFlags::FIN | TcpFlags::PSH | 0x20]);
        let r = Rec {
            ts,
            src,
            sport: rng.range(1_024, 65_535) as u16,
            dport: *rng.pick(&tail_ports),
            len: 40,
            tx: 0,
            dst: Gen::dst(&mut rng),
            what: What::TcpProbe,
            flags,
            os: 0,
        };
        g.push(r);
    }

    g.push(lifecycle(end, What::Stopped));
    let mut recs = g.recs;
    recs.sort_by_key(|r| r.ts);
    recs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heavy_counts_add_up_exactly_and_are_heavy_tailed() {
        let mut rng = Rng::new(7, 0);
        for (n, total, cap) in [
            (1, 1, 8.0),
            (1, 500, 8.0),
            (29, 30, 4.0),
            (3_000, 58_508, 300.0),
        ] {
            let c = heavy_counts(&mut rng, n, total, cap);
            assert_eq!(c.len(), n);
            assert!(c.iter().all(|&x| x >= 1));
            assert_eq!(c.iter().map(|&x| x as u64).sum::<u64>(), total);
        }
        let c = heavy_counts(&mut rng, 10_000, 200_000, 8_000.0);
        let mut sorted = c.clone();
        sorted.sort_unstable();
        let median = sorted[sorted.len() / 2];
        let max = *sorted.last().unwrap();
        assert!(median <= 10 && max >= 1_000, "median {median}, max {max}");
    }

    #[test]
    fn geoip_blocks_are_disjoint_public_and_cover_every_country_used() {
        let mut ranges: Vec<(u32, u32)> = BLOCKS.iter().map(block_range).collect();
        for b in BLOCKS {
            let mask = u32::MAX.checked_shl(32 - b.1 as u32).unwrap_or(0);
            assert_eq!(u32::from_be_bytes(b.0) & !mask, 0, "{b:?} not aligned");
        }
        ranges.sort_unstable();
        for w in ranges.windows(2) {
            assert!(w[0].1 < w[1].0, "{w:?} overlap");
        }
        let special: [([u8; 4], u8); 12] = [
            ([0, 0, 0, 0], 8),
            ([10, 0, 0, 0], 8),
            ([100, 64, 0, 0], 10),
            ([127, 0, 0, 0], 8),
            ([169, 254, 0, 0], 16),
            ([172, 16, 0, 0], 12),
            ([192, 0, 2, 0], 24),
            ([192, 168, 0, 0], 16),
            ([198, 18, 0, 0], 15),
            ([198, 51, 100, 0], 24),
            ([203, 0, 113, 0], 24),
            ([224, 0, 0, 0], 3),
        ];
        for s in special {
            let (a, b) = block_range(&(s.0, s.1, ""));
            for &(x, y) in &ranges {
                assert!(y < a || x > b, "{s:?} inside a source block");
            }
        }
        let geo = Geo::new();
        for (cc, _) in BOT_COUNTRIES.iter().chain(SCAN_COUNTRIES) {
            assert!(!geo.blocks(cc).is_empty(), "{cc} has no block");
        }
        for (i, (net, len)) in MULTI_PREFIXES.iter().enumerate() {
            let (a, _) = block_range(&(*net, *len, ""));
            let block = BLOCKS.iter().find(|b| {
                let (s, e) = block_range(b);
                (s..=e).contains(&a)
            });
            assert_eq!(block.map(|b| b.2), Some(MULTI[i].1));
        }
    }

    #[test]
    fn the_background_fills_the_total_and_ranks_below_tcp80() {
        let jobs: u64 = JOBS.iter().map(|j| j.total as u64).sum();
        assert_eq!(TCP23_TOTAL + jobs + TAIL_TOTAL as u64, TOTAL_CONNECTIONS);
        for j in JOBS {
            if j.port != 80 && j.port != 53413 {
                assert!(j.total < TCP80_TOTAL, "port {}", j.port);
            }
        }
        let multi: Vec<u32> = MULTI.iter().map(|m| m.0).collect();
        assert!(
            multi.windows(2).all(|w| w[0] > w[1]),
            "distinct, descending"
        );
    }

    #[test]
    fn day_totals_hit_the_seed_extremes() {
        for seed in 0..20 {
            let d = day_totals(&mut Rng::new(seed, 3));
            assert_eq!(d.iter().map(|&x| x as u64).sum::<u64>(), TCP23_TOTAL);
            assert_eq!(d[8], 92_246);
            assert_eq!(d[29], 44_298);
            for (i, &x) in d.iter().enumerate() {
                if i != 8 && i != 29 {
                    assert!(44_298 < x && x < 92_246, "day {i}: {x}");
                }
            }
        }
    }

    #[test]
    fn os_assignment_is_exact_per_class() {
        let mut rng = Rng::new(3, 9);
        for (n, total) in [(89_857, TCP23_TOTAL), (2_000, 1_990_000)] {
            let counts = heavy_counts(&mut rng, n, total, 8_000.0);
            check_os(&counts, assign_os(&mut rng, &counts));
        }
    }

    fn check_os(counts: &[u32], os: Vec<SourceOs>) {
        let mut by = std::collections::HashMap::new();
        let mut split = 0;
        for (mut s, &c) in os.into_iter().zip(counts) {
            split += (s.a != s.b) as u32;
            for _ in 0..c {
                *by.entry(os_class(s.next())).or_insert(0u64) += 1;
            }
        }
        assert_eq!(by[&OsClass::Linux], OS_LINUX);
        assert_eq!(by[&OsClass::Windows], OS_WINDOWS);
        assert_eq!(by[&OsClass::Solaris], OS_SOLARIS);
        assert!(split <= 3, "{split} sources split");
    }

    #[test]
    fn other_seeds_keep_the_calibration() {
        let tz = LocalZone::utc();
        let day0 = Clock::new(&tz).day0 * 86_400_000_000;
        for seed in [1, 2] {
            let recs = generate(&tz, seed);
            assert!(recs.windows(2).all(|w| w[0].ts <= w[1].ts));
            let mut connections = 0u64;
            let mut days = [0u64; DAYS];
            let mut hits: std::collections::HashMap<u32, u8> = Default::default();
            let mut by_src: std::collections::HashMap<u32, u64> = Default::default();
            let mut os = std::collections::HashMap::new();
            for r in recs.iter().filter(|r| r.is_connection()) {
                connections += 1;
                *by_src.entry(r.src).or_default() += 1;
                let bit = match r.what {
                    What::TcpProbe if r.dport == 23 => 1,
                    What::UdpProbe if r.dport == 53413 => 2,
                    What::TcpProbe if r.dport == 6379 => 4,
                    _ => 0,
                };
                *hits.entry(r.src).or_default() |= bit;
                if bit == 1 {
                    days[((r.ts - day0) / 86_400_000_000) as usize] += 1;
                    *os.entry(os_class(r.os)).or_insert(0u64) += 1;
                }
            }
            assert_eq!(connections, 2_655_884);
            assert_eq!(days.iter().sum::<u64>(), TCP23_TOTAL);
            assert_eq!((days[8], days[29]), (92_246, 44_298));
            assert!(days.iter().all(|&d| (44_298..=92_246).contains(&d)));
            assert_eq!(hits.values().filter(|&&h| h & 1 != 0).count(), 89_857);
            let mut multi: Vec<u64> = hits
                .iter()
                .filter(|(_, &h)| h & 1 != 0 && h & 6 != 0)
                .map(|(a, _)| by_src[a])
                .collect();
            multi.sort_unstable_by(|a, b| b.cmp(a));
            assert_eq!(multi.len(), 29);
            assert_eq!(multi[..3], [1_482, 702, 628]);
            assert_eq!(os[&OsClass::Linux], OS_LINUX);
            assert_eq!(os[&OsClass::Windows], OS_WINDOWS);
            assert_eq!(os[&OsClass::Solaris], OS_SOLARIS);
        }
    }
}
