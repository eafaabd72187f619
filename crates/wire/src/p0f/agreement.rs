//! Agreement with the real tool: captures of SYNs and SYN+ACKs shaped after every
//! signature in Debian's `p0f.fp` (and variations that match fuzzily, generically or not
//! at all) go through Debian's `p0f -r` and through [`Fingerprinter`]; every line of the
//! two logs must be the same.

use std::path::Path;
use std::process::Command;

use super::packet::tests::Syn;
use super::sig::{quirk, TcpSig, WindowSize};
use super::{Database, Direction, Fingerprinter};
use crate::capture::{CaptureReader, LinkType, PcapWriter};

const P0F_FP: &str = "/etc/p0f/p0f.fp";

/// Whether the real tools are here; when `HONEYSCOPE_REQUIRE_TOOLS` is set (CI) they must be.
fn have_p0f() -> bool {
    let here = Path::new(P0F_FP).exists() && Command::new("p0f").arg("-h").output().is_ok();
    assert!(
        here || std::env::var_os("HONEYSCOPE_REQUIRE_TOOLS").is_none(),
        "p0f missing (apt-get install p0f)"
    );
    here
}

/// TCP options laid out as `sig` describes, with the values it asks for.
fn options_for(sig: &TcpSig, mss: u16) -> Vec<u8> {
    let q = sig.quirks;
    let mut o = Vec::new();
    for &kind in sig.olayout.kinds() {
        match kind {
            0 => {
                o.push(0);
                let mut pad = vec![0u8; sig.olayout.eol_pad as usize];
                if q.has(quirk::OPT_PLUS) && pad.len() >= 2 {
                    pad[0] = 1;
                }
                o.extend(pad);
            }
            1 => o.push(1),
            2 => o.extend([2, 4, (mss >> 8) as u8, mss as u8]),
            3 => {
                let scale = if q.has(quirk::EXWS) {
                    15
                } else {
                    sig.scale.unwrap_or(7)
                };
                o.extend([3, 3, scale]);
            }
            4 => o.extend([4, 2]),
            5 => o.extend([5, 10, 0, 0, 0, 1, 0, 0, 0, 2]),
            8 => {
                let ts1: u32 = if q.has(quirk::TS1_MINUS) { 0 } else { 123_456 };
                let ts2: u32 = if q.has(quirk::TS2_PLUS) { 99 } else { 0 };
                o.extend([8, 10]);
                o.extend(ts1.to_be_bytes());
                o.extend(ts2.to_be_bytes());
            }
            k => o.extend([k, 2]),
        }
    }
    o
}

/// A packet shaped after `sig`: the values it names, ordinary ones for its wildcards.
fn packet_for(sig: &TcpSig, client: u16, direction: Direction) -> Syn {
    let q = sig.quirks;
    let mss = sig.mss.unwrap_or(1460);
    let win = match sig.wsize {
        WindowSize::Value(n) => n as u32,
        WindowSize::Mss(k) => k as u32 * mss as u32,
        WindowSize::Mtu(k) => k as u32 * (mss as u32 + 40),
        WindowSize::Multiple(k) => k as u32 * 3,
        WindowSize::Any => 8192,
    };
    let v6 = sig.ver == Some(6) || q.has(quirk::FLOW);
    let df = q.has(quirk::DF);
    let id = if (df && !q.has(quirk::ID_PLUS)) || (!df && q.has(quirk::ID_MINUS)) {
        0
    } else {
        0x3039
    };
    let mut flags = 0x02;
    if direction == Direction::Response {
        flags |= 0x10;
    }
    if q.has(quirk::URGF_PLUS) {
        flags |= 0x20;
    }
    if q.has(quirk::PUSHF_PLUS) {
        flags |= 0x08;
    }
    let ack = match direction {
        Direction::Request if q.has(quirk::ACK_PLUS) => 0x0100_0000,
        Direction::Request => 0,
        Direction::Response if q.has(quirk::ACK_MINUS) => 0,
        Direction::Response => 4242,
    };
    Syn {
        v6,
        ttl: if sig.bad_ttl { sig.ttl - 7 } else { sig.ttl },
        df,
        id,
        tos: if q.has(quirk::ECN) { 0x01 } else { 0 },
        ip_opts: vec![1; sig.olen as usize],
        flow: if q.has(quirk::FLOW) { 0x12345 } else { 0 },
        win: win.min(65535) as u16,
        flags,
        seq: if q.has(quirk::SEQ_MINUS) {
            0
        } else {
            1000 + client as u32
        },
        ack,
        urg: if q.has(quirk::UPTR_PLUS) { 5 } else { 0 },
        opts: options_for(sig, mss),
        payload: if sig.pclass == Some(true) {
            b"hi".to_vec()
        } else {
            vec![]
        },
        evil: q.has(quirk::ZERO_PLUS),
        client,
        from_server: direction == Direction::Response,
    }
}

/// Variations of a packet that should land on other branches of the matcher.
fn variations(base: &Syn) -> Vec<Syn> {
    let with = |f: &dyn Fn(&mut Syn)| {
        let mut s = Syn {
            opts: base.opts.clone(),
            ip_opts: base.ip_opts.clone(),
            payload: base.payload.clone(),
            ..*base
        };
        f(&mut s);
        s
    };
    vec![
        with(&|s| s.ttl = s.ttl.saturating_sub(12)),
        with(&|s| s.ttl = s.ttl.saturating_sub(40)),
        with(&|s| s.ttl = s.ttl.saturating_add(3)),
        with(&|s| s.id = 0),
        with(&|s| s.tos |= 0x02),
        with(&|s| s.tos |= 0x28),
        with(&|s| s.win = s.win.wrapping_add(1)),
        with(&|s| s.win = 0),
        with(&|s| s.payload = b"x".to_vec()),
        with(&|s| {
            s.opts.pop();
        }),
        with(&|s| s.flags |= 0x40 | 0x80),
        with(&|s| s.v6 = !s.v6),
    ]
}

fn ethernet(ip: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
    f.extend(if ip[0] >> 4 == 6 {
        [0x86, 0xdd]
    } else {
        [0x08, 0x00]
    });
    f.extend_from_slice(ip);
    f
}

/// Every test packet, in capture order: each client its own address, a SYN+ACK after the
/// SYN it answers.
fn capture_packets(db: &Database) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    let mut client = 0u16;
    let mut next = || {
        client += 1;
        client
    };
    for entry in &db.requests {
        let base = packet_for(&entry.sig, next(), Direction::Request);
        frames.push(base.bytes());
        for mut v in variations(&base) {
            v.client = next();
            frames.push(v.bytes());
        }
    }
    for entry in &db.responses {
        let base = packet_for(&entry.sig, next(), Direction::Response);
        let mut shapes = vec![base];
        shapes.extend(variations(&shapes[0]));
        for mut synack in shapes {
            synack.client = next();
            let syn = Syn {
                v6: synack.v6,
                client: synack.client,
                opts: vec![2, 4, 0x05, 0x64, 1, 3, 3, 7, 4, 2, 0, 0],
                ..Syn::default()
            };
            frames.push(syn.bytes());
            frames.push(synack.bytes());
        }
    }
    frames
}

#[test]
fn labels_agree_with_p0f_on_every_signature_shape() {
    if have_p0f() {
        agree_with_p0f(Path::new(P0F_FP), "HONEYSCOPE_KEEP_SHAPES_PCAP");
    }
}

/// The same for our own database: p0f reads it, and labels as we do.
#[test]
fn labels_agree_with_p0f_on_the_builtin_database() {
    if have_p0f() {
        let dir = tempfile::tempdir().unwrap();
        let fp = dir.path().join("builtin.fp");
        std::fs::write(&fp, Database::BUILTIN_TEXT).unwrap();
        agree_with_p0f(&fp, "HONEYSCOPE_KEEP_BUILTIN_SHAPES_PCAP");
    }
}

/// Runs packets shaped after every signature in `fp` through `p0f -r -f fp` and through
/// our fingerprinter; the logs must be the same line for line. `keep` names an environment
/// variable that, when set, is where the capture is kept (for other tools, such as the
/// huginn-net comparison in docs/FINGERPRINT.md).
fn agree_with_p0f(fp: &Path, keep: &str) {
    let text = std::fs::read_to_string(fp).unwrap();
    let db = Database::parse(&text).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("shapes.pcap");
    let frames: Vec<Vec<u8>> = capture_packets(&db).iter().map(|ip| ethernet(ip)).collect();
    let mut w = PcapWriter::new(std::fs::File::create(&pcap).unwrap(), LinkType::Ethernet).unwrap();
    for (i, f) in frames.iter().enumerate() {
        w.write_frame(1_700_000_000_000_000 + i as i64 * 1000, f)
            .unwrap();
    }
    w.flush().unwrap();
    drop(w);
    if let Some(keep) = std::env::var_os(keep) {
        std::fs::copy(&pcap, keep).unwrap();
    }

    let log = dir.path().join("p0f.log");
    let out = Command::new("p0f")
        .args([
            "-r",
            pcap.to_str().unwrap(),
            "-f",
            fp.to_str().unwrap(),
            "-o",
            log.to_str().unwrap(),
        ])
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "p0f: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once("] ").map(|(_, rest)| rest.to_string()))
        .filter(|l| !l.starts_with("mod=host change") && !l.starts_with("mod=ip sharing"))
        .collect();

    let mut fp = Fingerprinter::new(&db);
    let mut ours = Vec::new();
    let mut reader = CaptureReader::new(std::fs::File::open(&pcap).unwrap()).unwrap();
    while let Some(frame) = reader.next_frame().unwrap() {
        if let Some(obs) = fp.frame(frame.link, frame.data, frame.ts_us) {
            ours.push(obs.to_string());
            ours.extend(obs.mtu_line().map(|m| m.to_string()));
        }
    }

    let mut report = Vec::new();
    for (i, (a, b)) in theirs.iter().zip(&ours).enumerate() {
        if a != b {
            report.push(format!("line {i}\n  p0f:  {a}\n  ours: {b}"));
        }
    }
    if theirs.len() != ours.len() {
        report.push(format!(
            "p0f logged {} lines, we {}",
            theirs.len(),
            ours.len()
        ));
    }
    assert!(
        report.is_empty(),
        "{} disagreements over {} lines, first:\n{}",
        report.len(),
        theirs.len(),
        report
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // The capture exercised every kind of result.
    for want in [
        "fuzzy",
        "generic",
        "os=???",
        "app=",
        "mod=syn+ack",
        "mod=mtu",
        "random_ttl",
    ] {
        assert!(theirs.iter().any(|l| l.contains(want)), "no {want} line");
    }
}
