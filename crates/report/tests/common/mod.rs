//! Test data shared by the report's tests.

use std::path::Path;

/// A log with every shape the queries care about: several days, ports, multi-port
/// sources, OS labels, non-connections (flow ends, stray ACK/RST), ICMP, UDP.
pub fn generated_log(path: &Path) {
    let mut out = String::new();
    let mut state = 0x9e3779b97f4a7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let oses = [
        "",
        " [Linux 2.6 .1-7]",
        " [Windows XP SP1]",
        " [Solaris 10 (beta)]",
    ];
    for i in 0..20_000u64 {
        let r = next();
        let day = 1 + (i * 5 / 20_000);
        let hour = (r >> 8) % 24;
        let ts = format!(
            "2016-04-{day:02}-{hour:02}:{:02}:{:02}.{:04}",
            (r >> 16) % 60,
            (r >> 24) % 60,
            (r >> 32) % 10_000
        );
        let src = format!("203.0.{}.{}", (r >> 40) % 4, (r >> 44) % 50 + 1);
        let dst = format!("198.51.100.{}", (r >> 50) % 254 + 1);
        let os = oses[((r >> 56) % 4) as usize];
        let line = match r % 10 {
            0..=4 => format!("{ts} tcp(6) - {src} 4711 {dst} 23: 40 S{os}"),
            5 => format!("{ts} tcp(6) S {src} 4711 {dst} 80{os}"),
            6 => format!("{ts} tcp(6) E {src} 4711 {dst} 80: 10 20"),
            7 => format!("{ts} udp(17) - {src} 53 {dst} 53413: 51"),
            8 => format!(
                "{ts} tcp(6) - {src} 4711 {dst} 6379: 40 {}",
                if r & 1 == 0 { "S" } else { "SA" }
            ),
            _ => format!("{ts} icmp(1) - {src} {dst}: 8(0): 84"),
        };
        out.push_str(&line);
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
}
