//! Cross-checks against real tools, when they are installed: libpcap (through
//! `tcpdump -r`) reads what `PcapWriter` writes and dissects the packets as
//! `probe_from_frame` does, and Wireshark's `editcap` rewrites the capture as
//! nanosecond pcap and as pcapng, which `CaptureReader` must read back
//! unchanged. A missing tool skips its part with a printed reason.

use std::path::{Path, PathBuf};
use std::process::Command;

use etherparse::{PacketBuilder, VlanId};
use honeyscope_wire::{probe_from_frame, CaptureFormat, CaptureReader, LinkType, PcapWriter};

/// A scratch directory under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("honeyscope-wire-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Ethernet frames of several kinds, built with etherparse's builder.
fn frames() -> Vec<Vec<u8>> {
    let mac_a = [2, 0, 0, 0, 0, 1];
    let mac_b = [2, 0, 0, 0, 0, 2];
    let mut out = Vec::new();
    let mut push = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut v = Vec::new();
        f(&mut v);
        out.push(v);
    };
    push(&|v| {
        PacketBuilder::ethernet2(mac_a, mac_b)
            .ipv4([192, 0, 2, 1], [203, 0, 113, 9], 64)
            .tcp(40000, 23, 1, 29200)
            .syn()
            .write(v, &[])
            .unwrap()
    });
    push(&|v| {
        PacketBuilder::ethernet2(mac_a, mac_b)
            .single_vlan(VlanId::try_new(100).unwrap())
            .ipv4([192, 0, 2, 7], [203, 0, 113, 10], 50)
            .udp(5353, 53)
            .write(v, b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00")
            .unwrap()
    });
    push(&|v| {
        PacketBuilder::ethernet2(mac_a, mac_b)
            .ipv6(
                [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
                [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
                64,
            )
            .tcp(1234, 443, 7, 65535)
            .syn()
            .write(v, &[])
            .unwrap()
    });
    push(&|v| {
        PacketBuilder::ethernet2(mac_a, mac_b)
            .ipv4([192, 0, 2, 3], [203, 0, 113, 11], 64)
            .icmpv4_echo_request(1, 2)
            .write(v, b"ping")
            .unwrap()
    });
    out
}

fn write_pcap(path: &Path, frames: &[Vec<u8>]) -> Vec<i64> {
    let mut w = PcapWriter::new(std::fs::File::create(path).unwrap(), LinkType::Ethernet).unwrap();
    let times: Vec<i64> = (0..frames.len() as i64)
        .map(|i| 1_700_000_000_123_456 + i * 1_000_001)
        .collect();
    for (ts, f) in times.iter().zip(frames) {
        w.write_frame(*ts, f).unwrap();
    }
    w.flush().unwrap();
    times
}

/// A frame copied out of the reader: time, link type, original length, data.
type OwnedFrame = (i64, LinkType, u32, Vec<u8>);

/// Skips a test whose peer tool is missing, unless HONEYSCOPE_REQUIRE_TOOLS is set (as the
/// project's test script sets it, having installed the tools): then a missing peer fails.
fn skip(why: &str) {
    if std::env::var_os("HONEYSCOPE_REQUIRE_TOOLS").is_some() {
        panic!("{why}, and HONEYSCOPE_REQUIRE_TOOLS is set");
    }
    println!("skipped: {why}");
}

fn read(path: &Path) -> (CaptureFormat, Vec<OwnedFrame>) {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut r = CaptureReader::new(file).unwrap();
    let mut out = Vec::new();
    while let Some(f) = r.next_frame().unwrap() {
        out.push((f.ts_us, f.link, f.orig_len, f.data.to_vec()));
    }
    (r.format(), out)
}

#[test]
fn libpcap_reads_our_pcap_and_agrees_on_the_packets() {
    let Some(tcpdump) = tool("tcpdump") else {
        return skip("tcpdump is not installed (apt-get install tcpdump)");
    };
    let dir = Scratch::new("tcpdump");
    let pcap = dir.0.join("ours.pcap");
    let frames = frames();
    let times = write_pcap(&pcap, &frames);
    let out = Command::new(tcpdump)
        .args(["-nn", "-tt", "-r"])
        .arg(&pcap)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), frames.len(), "{text}");
    for ((line, ts), frame) in lines.iter().zip(&times).zip(&frames) {
        let stamp = format!("{}.{:06} ", ts / 1_000_000, ts % 1_000_000);
        assert!(line.starts_with(&stamp), "{line} vs {stamp}");
        let p = probe_from_frame(LinkType::Ethernet, frame).unwrap();
        let want = if p.icmp.is_some() {
            format!("{} > {}: ICMP", p.src, p.dst)
        } else {
            format!("{}.{} > {}.{}:", p.src, p.sport, p.dst, p.dport)
        };
        assert!(line.contains(&want), "{line} lacks {want}");
        if p.tcp_flags == 0x02 {
            assert!(line.contains("Flags [S]"), "{line}");
        }
    }
}

#[test]
fn wireshark_rewrites_read_back_unchanged() {
    let Some(editcap) = tool("editcap") else {
        return skip("editcap is not installed (apt-get install wireshark-common)");
    };
    let dir = Scratch::new("editcap");
    let pcap = dir.0.join("ours.pcap");
    write_pcap(&pcap, &frames());
    let (format, want) = read(&pcap);
    assert_eq!(format, CaptureFormat::Pcap);
    assert_eq!(want.len(), 4);

    let convert = |format: &str, from: &Path, to: &str| {
        let to = dir.0.join(to);
        let status = Command::new(&editcap)
            .args(["-F", format])
            .arg(from)
            .arg(&to)
            .status()
            .unwrap();
        assert!(status.success(), "editcap -F {format}");
        to
    };
    let ns = convert("nsecpcap", &pcap, "ns.pcap");
    assert_eq!(read(&ns), (CaptureFormat::Pcap, want.clone()));
    // pcapng from microsecond input, and from nanosecond input (if_tsresol 9).
    let ng = convert("pcapng", &pcap, "us.pcapng");
    assert_eq!(read(&ng), (CaptureFormat::PcapNg, want.clone()));
    let ng_ns = convert("pcapng", &ns, "ns.pcapng");
    assert_eq!(read(&ng_ns), (CaptureFormat::PcapNg, want));
}
