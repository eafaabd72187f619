//! The built-in database against the facts it was written from: one packet per stack,
//! built from what that stack's code or documentation says it sends, or from what a public
//! capture of it shows (not from the signature text), must get the stack's label. The
//! sources are in `docs/FINGERPRINT.md`.

use super::packet::tests::Syn;
use super::{Database, PacketSig};

/// TCP options from p0f-like names: `mss1460`, `ws7`, `sok`, `ts`, `nop`, `eol`.
fn opts(layout: &str) -> Vec<u8> {
    let mut o = Vec::new();
    for name in layout.split(',').filter(|n| !n.is_empty()) {
        match name {
            "sok" => o.extend([4, 2]),
            "ts" => o.extend([8, 10, 0, 0, 0x30, 0x39, 0, 0, 0, 0]),
            "nop" => o.push(1),
            "eol" => o.push(0),
            _ if name.starts_with("mss") => {
                let v: u16 = name[3..].parse().unwrap();
                o.extend([2, 4, (v >> 8) as u8, v as u8]);
            }
            _ if name.starts_with("ws") => o.extend([3, 3, name[2..].parse().unwrap()]),
            _ => panic!("unknown option {name}"),
        }
    }
    o
}

/// A SYN as a stack sends it, seen `hops` routers away.
fn syn(ttl: u8, hops: u8, df: bool, id: u16, win: u16, layout: &str) -> Syn {
    Syn {
        ttl: ttl - hops,
        df,
        id,
        win,
        opts: opts(layout),
        ..Syn::default()
    }
}

const LINUX: &str = "mss1460,sok,ts,nop,ws7";

/// A SYN+ACK as a server sends it.
fn synack(mut p: Syn) -> Syn {
    p.from_server = true;
    p.flags |= 0x10;
    p.ack = 7;
    p
}

/// (what the packet is, the packet, the label we expect, generic?)
#[rustfmt::skip]
fn cases() -> Vec<(&'static str, Syn, &'static str, bool)> {
    let mut v6 = syn(64, 9, true, 0, 64800, "mss1440,sok,ts,nop,ws7");
    v6.v6 = true;
    v6.flow = 0x5_1234;
    let mut ecn_mac = syn(64, 2, true, 0, 65535, "mss1460,nop,ws6,nop,nop,ts,sok,eol,eol");
    ecn_mac.flags |= 0x40 | 0x80;
    let mut hping_ack = syn(64, 3, false, 0x4d2, 512, "");
    hping_ack.ack = 0x0100_0000;
    vec![
        // Linux: the window from the MSS by kernel era; the scale from memory.
        ("Linux 6.x desktop", syn(64, 12, true, 0x9c1e, 64240, LINUX), "Linux 4.20 and newer", false),
        ("Linux 6.16+ (32 MB rmem)", syn(64, 3, true, 7, 64240, "mss1460,sok,ts,nop,ws10"), "Linux 4.20 and newer", false),
        ("Linux 5.x over PPPoE", syn(64, 7, true, 42, 65340, "mss1452,sok,ts,nop,ws7"), "Linux 4.20 and newer", false),
        ("Linux 6.x over IPv6", v6, "Linux 4.20 and newer", false),
        ("Linux 4.9", syn(64, 20, true, 1, 29200, LINUX), "Linux 3.11-4.19", false),
        ("Raspbian, MSS clamped to 1452", syn(64, 17, true, 20232, 29200, "mss1452,sok,ts,nop,ws7"), "Linux 3.11-4.19", false),
        ("Linux 3.2", syn(64, 20, true, 1, 14600, LINUX), "Linux 2.6.38-3.10", false),
        ("Linux 2.6.32 server", syn(64, 20, true, 1, 5840, LINUX), "Linux 2.6.36 and older", false),
        ("Linux 2.6.37", syn(64, 20, true, 1, 4380, LINUX), "Linux 2.6.37", false),
        ("BusyBox router, 2.6.32, 32 MB", syn(64, 14, true, 3, 5840, "mss1460,sok,ts,nop,ws1"), "Linux 2.6.36 and older (embedded)", false),
        ("DVR, 3.10, 64 MB", syn(64, 14, true, 3, 14600, "mss1460,sok,ts,nop,ws3"), "Linux 2.6.38-3.10 (embedded)", false),
        ("IP camera, 4.4, 128 MB", syn(64, 14, true, 3, 29200, "mss1460,sok,ts,nop,ws4"), "Linux 3.11-4.19 (embedded)", false),
        ("Linux over loopback", syn(64, 0, true, 5, 65495, "mss65495,sok,ts,nop,ws7"), "Linux 2.6 and newer", true),
        ("Linux, timestamps off", syn(64, 9, true, 5, 64240, "mss1460,nop,nop,sok,nop,ws7"), "Linux 2.6 and newer (timestamps off)", true),
        ("Linux 4.20+ SYN+ACK", synack(syn(64, 5, true, 0, 65160, LINUX)), "Linux 4.20 and newer", false),
        ("Android 4.4", syn(64, 0, true, 20266, 14600, "mss1460,sok,ts,nop,ws6"), "Linux 2.6.38-3.10", false),
        ("Android 11", syn(64, 0, true, 23697, 65535, "mss1460,sok,ts,nop,ws10"), "Android 5 and newer", false),
        // Windows: TTL 128; XP without window scaling; Vista and later with scale 8.
        ("Windows XP", syn(128, 15, true, 0x0102, 65535, "mss1460,nop,nop,sok"), "Windows XP", false),
        ("Windows XP, http.cap", syn(128, 0, true, 3905, 8760, "mss1460,nop,nop,sok"), "Windows XP", false),
        ("Windows 2000/XP default", syn(128, 15, true, 0x0102, 17520, "mss1460,nop,nop,sok"), "Windows XP", false),
        ("Windows 7", syn(128, 15, true, 0x0102, 8192, "mss1460,nop,ws8,nop,nop,sok"), "Windows 7 to 10 1607", false),
        ("Windows 7, 2010", syn(128, 15, true, 16626, 8192, "mss1460,nop,ws2,nop,nop,sok"), "Windows 7 to 10 1607", false),
        ("Windows 10 1511", syn(128, 1, true, 20829, 8192, "mss1460,nop,ws8,nop,nop,sok"), "Windows 7 to 10 1607", false),
        ("Windows 10 1903+", syn(128, 15, true, 0x0102, 64240, "mss1460,nop,ws8,nop,nop,sok"), "Windows 10 1903 and newer, or 11", false),
        ("Windows Vista+, other window", syn(128, 15, true, 0x0102, 16384, "mss1460,nop,ws8,nop,nop,sok"), "Windows Vista and newer", true),
        ("Windows 10 22H2 SYN+ACK", synack(syn(128, 1, true, 46408, 65535, "mss1460,nop,ws8,nop,nop,sok")), "Windows 10 1703 and newer, Server 2019 and newer", false),
        ("Server 2016 SYN+ACK", synack(syn(128, 1, true, 30523, 8192, "mss1460,nop,ws8,nop,nop,sok")), "Windows Vista to 10 1607", false),
        // The BSDs and XNU.
        ("macOS 10.14", syn(64, 11, true, 0, 65535, "mss1460,nop,ws6,nop,nop,ts,sok,eol,eol"), "macOS 10.13 and newer, or iOS", false),
        ("macOS asking for ECN", ecn_mac, "macOS 10.13 and newer, or iOS", false),
        ("macOS 10.12", syn(64, 11, true, 64418, 65535, "mss1460,nop,ws5,nop,nop,ts,sok,eol,eol"), "macOS 10.10-10.12, or iOS 10", false),
        ("OS X 10.8", syn(64, 11, true, 57230, 65535, "mss1460,nop,ws4,nop,nop,ts,sok,eol,eol"), "macOS 10.8-10.9", false),
        ("OS X 10.6", syn(64, 11, true, 17984, 65535, "mss1460,nop,ws3,nop,nop,ts,sok,eol,eol"), "macOS 10.4-10.6", false),
        ("FreeBSD", syn(64, 11, true, 0, 65535, "mss1460,nop,ws6,sok,ts"), "FreeBSD", false),
        ("OpenBSD", syn(64, 11, true, 0xbeef, 16384, "mss1460,nop,nop,sok,nop,ws6,nop,nop,ts"), "OpenBSD", false),
        ("OpenBSD 5.5", syn(64, 9, true, 49314, 16384, "mss1460,nop,nop,sok,nop,ws0,nop,nop,ts"), "OpenBSD", false),
        ("Solaris 10", syn(64, 20, true, 0x77, 49640, "mss1460,sok,ts,nop,ws0"), "Solaris 10", false),
        ("Solaris 10 SYN+ACK", synack(syn(64, 20, true, 0x78, 49232, "mss1460,sok,ts,nop,ws0")), "Solaris 10", false),
        ("Cisco IOS", syn(255, 0, false, 1568, 4128, "mss1460"), "Cisco IOS", false),
        // Tools that write their own packets.
        ("nmap -sS", syn(64, 64 - 41, false, 0x4a1f, 1024, "mss1460"), "nmap SYN scan", false),
        ("masscan 1.3", syn(255, 18, false, 0x1f2e, 1024, ""), "masscan", false),
        ("masscan, late 2023", syn(255, 18, false, 0x1f2e, 1024, "mss1460"), "masscan", false),
        ("ZMap 2.x", syn(255, 18, false, 54321, 65535, ""), "ZMap", false),
        ("ZMap 3.x", syn(255, 18, false, 54321, 65535, "mss1460"), "ZMap", false),
        ("ZMap 4.1", syn(64, 18, false, 0x3344, 65535, "mss1460,nop,ws8,nop,nop,sok"), "ZMap", false),
        ("hping3 -S", syn(64, 3, false, 0x4d2, 512, ""), "hping3", false),
        ("hping3 -S, ack bits", hping_ack, "hping3", false),
        ("Mirai scanner", syn(64, 13, false, 0x9e01, 0x5a3c, ""), "Mirai or another raw-socket scanner", true),
    ]
}

#[test]
fn every_stack_gets_its_label() {
    let db = Database::builtin();
    let mut wrong = Vec::new();
    for (what, packet, want, generic) in cases() {
        let p = PacketSig::from_ip(&packet.bytes()).unwrap();
        let m = db.match_packet(&p, 1460);
        let got = m.label.map(|l| (l.to_string(), l.generic));
        if got != Some((want.to_string(), generic)) || m.fuzzy {
            wrong.push(format!(
                "{what}: want {want} (generic {generic}), got {got:?} fuzzy {}",
                m.fuzzy
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_builtin_database_is_complete_and_tcp_only() {
    let db = Database::builtin();
    assert_eq!(db.skipped_sigs, 0);
    assert!(db.requests.len() >= 50 && db.responses.len() >= 10);
    assert_eq!(db.link_for_mtu(1492), Some("PPPoE"));
    // Every label's OS class is one the reports know.
    for e in db.requests.iter().chain(&db.responses) {
        let l = db.label(e);
        let class = crate::os_class::os_class(Some(&l.name));
        if l.is_app() {
            assert_eq!(class, "scanner", "{}", l.name);
        } else {
            assert_ne!(class, crate::os_class::OTHER, "{}", l.name);
        }
    }
}
