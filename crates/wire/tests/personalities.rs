//! Our SYN+ACKs, built from each built-in personality, read by the real `p0f -r`: where
//! p0f's database (Debian's, or ours) has a response signature for the stack, p0f must name
//! the stack we meant.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::process::Command;

use honeyscope_wire::p0f::Database;
use honeyscope_wire::personality::{builtin, IpId, Offered, BUILTIN};
use honeyscope_wire::probe::tcp_flags;
use honeyscope_wire::reply::{tcp, Segment};
use honeyscope_wire::{LinkType, PcapWriter};

const DEBIAN_FP: &str = "/etc/p0f/p0f.fp";

/// A Linux client's SYN options: mss 1460, sok, ts, nop, ws 7.
const LINUX_SYN_OPTS: [u8; 20] = [
    2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 1, 0xe2, 0x40, 0, 0, 0, 0, 1, 3, 3, 7,
];

/// (personality, p0f's label with Debian's database, p0f's label with ours). `None` where
/// the database has no response signature for that stack.
const EXPECTED: &[(&str, Option<&str>, &str)] = &[
    ("linux-5", None, "Linux 4.20 and newer"),
    ("linux-2.6", Some("Linux 2.6.x"), "Linux 2.6.36 and older"),
    ("busybox", Some("Linux 2.6.x"), "Linux 2.6.36 and older"),
    ("windows-xp", Some("Windows XP"), "Windows XP"),
    (
        "windows-7",
        Some("Windows 7 or 8"),
        "Windows Vista to 10 1607",
    ),
    (
        "windows-10",
        None,
        "Windows 10 1703 and newer, Server 2019 and newer",
    ),
    ("freebsd", Some("FreeBSD 9.x"), "FreeBSD"),
    ("macos", None, "macOS or iOS"),
    ("cisco-ios", None, "Cisco IOS"),
    ("solaris-10", None, "Solaris 10"),
];

fn ethernet(ip: &[u8]) -> Vec<u8> {
    let mut f = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 8, 0];
    f.extend_from_slice(ip);
    f
}

/// A capture of, per personality, a Linux client's SYN and our SYN+ACK from address
/// 198.51.100.(index + 1).
fn capture(path: &std::path::Path) {
    let client = builtin("linux-5").unwrap();
    let mut w = PcapWriter::new(std::fs::File::create(path).unwrap(), LinkType::Ethernet).unwrap();
    let mut t = 1_700_000_000_000_000i64;
    for (i, p) in BUILTIN.iter().enumerate() {
        let them = (Ipv4Addr::new(203, 0, 113, 9), 40000 + i as u16);
        let us = (Ipv4Addr::new(198, 51, 100, i as u8 + 1), 23);
        let syn = tcp(
            client,
            0x4000 + i as u16,
            &Segment {
                src: them,
                dst: us,
                seq: 1000,
                ack: 0,
                flags: tcp_flags::SYN,
                window: 64240,
                options: &LINUX_SYN_OPTS,
                payload: &[],
            },
        );
        let offered = Offered::from_options(&LINUX_SYN_OPTS);
        let options = p.syn_ack_options(&offered, p.tsval(123_456_789));
        let id = match p.ip_id {
            IpId::Zero => 0,
            IpId::Counter | IpId::Random => 0x2345,
        };
        let synack = tcp(
            p,
            id,
            &Segment {
                src: us,
                dst: them,
                seq: 77_777,
                ack: 1001,
                flags: tcp_flags::SYN | tcp_flags::ACK,
                window: p.syn_ack_window(&offered),
                options: &options,
                payload: &[],
            },
        );
        for ip in [syn, synack] {
            w.write_frame(t, &ethernet(&ip)).unwrap();
            t += 1000;
        }
    }
    w.flush().unwrap();
}

/// p0f's label for each server address's SYN+ACK: (label, fuzzy?).
fn p0f_labels(cap: &std::path::Path, fp: &std::path::Path) -> HashMap<String, (String, bool)> {
    let log = cap.with_extension("log");
    let _ = std::fs::remove_file(&log);
    let out = Command::new("p0f")
        .arg("-r")
        .arg(cap)
        .arg("-f")
        .arg(fp)
        .arg("-o")
        .arg(&log)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut labels = HashMap::new();
    for line in std::fs::read_to_string(&log).unwrap().lines() {
        if !line.contains("] mod=syn+ack|") {
            continue;
        }
        let field = |name: &str| {
            line.split('|')
                .find_map(|f| f.strip_prefix(name))
                .unwrap_or_default()
                .to_string()
        };
        let srv = field("srv=");
        let addr = srv.split('/').next().unwrap_or_default().to_string();
        labels.insert(addr, (field("os="), field("params=").contains("fuzzy")));
    }
    labels
}

#[test]
fn p0f_names_the_stack_each_personality_imitates() {
    let here =
        std::path::Path::new(DEBIAN_FP).exists() && Command::new("p0f").arg("-h").output().is_ok();
    assert!(
        here || std::env::var_os("HONEYSCOPE_REQUIRE_TOOLS").is_none(),
        "p0f missing (apt-get install p0f)"
    );
    if !here {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("synacks.pcap");
    capture(&cap);
    let ours = dir.path().join("builtin.fp");
    std::fs::write(&ours, Database::BUILTIN_TEXT).unwrap();
    let debian = p0f_labels(&cap, std::path::Path::new(DEBIAN_FP));
    let builtin_db = p0f_labels(&cap, &ours);
    let mut wrong = Vec::new();
    for (i, p) in BUILTIN.iter().enumerate() {
        let addr = format!("198.51.100.{}", i + 1);
        let (_, want_debian, want_ours) = EXPECTED
            .iter()
            .find(|(n, _, _)| *n == p.name)
            .unwrap_or_else(|| panic!("no expectation for {}", p.name));
        let got_ours = builtin_db.get(&addr).cloned().unwrap_or_default();
        if got_ours != (want_ours.to_string(), false) {
            wrong.push(format!(
                "{} with our database: {got_ours:?}, want {want_ours}",
                p.name
            ));
        }
        if let Some(want) = want_debian {
            let got = debian.get(&addr).cloned().unwrap_or_default();
            if got != (want.to_string(), false) {
                wrong.push(format!(
                    "{} with Debian's database: {got:?}, want {want}",
                    p.name
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
