//! `honeyscope fingerprint` as a user runs it, and against `p0f -r` on the kernel's own SYNs.

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;

use common::{have, honeyscope, text, Dump, Namespaces};

use honeyscope_wire::{LinkType, PcapWriter};

const DB: &str = "classes = win,unix,other\n\
    [mtu]\nlabel = Ethernet or modem\nsig = 1500\n\
    [tcp:request]\nlabel = s:unix:Linux:3.11 and newer\n\
    sig = *:64:0:*:mss*20,7:mss,sok,ts,nop,ws:df,id+:0\n\
    [tcp:response]\nlabel = g:unix:Linux:3.x\n\
    sig = *:64:0:*:mss*10,*:mss,sok,ts,nop,ws:df:0\n";

/// A Linux SYN (or, from the server, its SYN+ACK) as raw IPv4.
fn handshake_packet(from_server: bool) -> Vec<u8> {
    let (src, dst, sport, dport, flags, win, id) = if from_server {
        (
            [203, 0, 113, 9],
            [198, 51, 100, 7],
            23u16,
            40000u16,
            0x12u8,
            14480u16,
            0u16,
        )
    } else {
        (
            [198, 51, 100, 7],
            [203, 0, 113, 9],
            40000,
            23,
            0x02,
            29200,
            0x1234,
        )
    };
    let opts = [
        2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
    ];
    let mut p = vec![0x45, 0, 0, 60];
    p.extend(id.to_be_bytes());
    p.extend([0x40, 0, 64, 6, 0, 0]);
    p.extend(src);
    p.extend(dst);
    p.extend(sport.to_be_bytes());
    p.extend(dport.to_be_bytes());
    p.extend(1000u32.to_be_bytes());
    p.extend(if from_server { 1001u32 } else { 0 }.to_be_bytes());
    p.extend([0xa0, flags]);
    p.extend(win.to_be_bytes());
    p.extend([0, 0, 0, 0]);
    p.extend(opts);
    p
}

fn write_capture(path: &Path) {
    let mut w = PcapWriter::new(std::fs::File::create(path).unwrap(), LinkType::RawIp).unwrap();
    w.write_frame(1_459_468_801_000_000, &handshake_packet(false))
        .unwrap();
    w.write_frame(1_459_468_801_000_100, &handshake_packet(true))
        .unwrap();
    w.flush().unwrap();
}

#[test]
fn prints_p0f_lines_json_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p0f.fp");
    std::fs::write(&db, DB).unwrap();
    let cap = dir.path().join("syn.pcap");
    write_capture(&cap);
    let (db, cap) = (db.to_str().unwrap(), cap.to_str().unwrap());

    let out = honeyscope(&["fingerprint", cap, "--p0f-db", db]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
    assert_eq!(
        lines,
        [
            "2016-04-01T00:00:01.000000Z mod=syn|cli=198.51.100.7/40000|srv=203.0.113.9/23|subj=cli|os=Linux 3.11 and newer|dist=0|params=none|raw_sig=4:64+0:0:1460:mss*20,7:mss,sok,ts,nop,ws:df,id+:0",
            "2016-04-01T00:00:01.000000Z mod=mtu|cli=198.51.100.7/40000|srv=203.0.113.9/23|subj=cli|link=Ethernet or modem|raw_mtu=1500",
            "2016-04-01T00:00:01.000100Z mod=syn+ack|cli=198.51.100.7/40000|srv=203.0.113.9/23|subj=srv|os=Linux 3.x|dist=0|params=generic|raw_sig=4:64+0:0:1460:mss*10,7:mss,sok,ts,nop,ws:df:0",
            "2016-04-01T00:00:01.000100Z mod=mtu|cli=198.51.100.7/40000|srv=203.0.113.9/23|subj=srv|link=Ethernet or modem|raw_mtu=1500",
        ]
    );
    assert!(text(&out.stderr).contains("2 frames, 2 handshake packets fingerprinted"));

    let out = honeyscope(&["fingerprint", cap, "--p0f-db", db, "--format", "json"]);
    let first: serde_json::Value =
        serde_json::from_str(text(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(first["os_class"], "Linux");
    assert_eq!(first["flavor"], "3.11 and newer");
    assert_eq!(first["mtu"], 1500);

    let out = honeyscope(&["fingerprint", cap, "--p0f-db", db, "--summary"]);
    assert_eq!(
        text(&out.stdout),
        "source\tclass\tpackets\n198.51.100.7\tLinux\t1\n203.0.113.9\tLinux\t1\n"
    );
}

#[test]
fn a_bad_database_or_capture_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p0f.fp");
    std::fs::write(&db, "[tcp:request]\nsig = 1\n").unwrap();
    let cap = dir.path().join("syn.pcap");
    write_capture(&cap);
    let out = honeyscope(&[
        "fingerprint",
        cap.to_str().unwrap(),
        "--p0f-db",
        db.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("line 2") && err.contains("misplaced sig"),
        "{err}"
    );
    let out = honeyscope(&[
        "fingerprint",
        db.to_str().unwrap(),
        "--p0f-db",
        db.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
}

const DEBIAN_FP: &str = "/etc/p0f/p0f.fp";

/// honeyscope's built-in database, written out for p0f to read.
fn builtin_fp(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("builtin.fp");
    std::fs::write(&path, honeyscope_wire::p0f::Database::BUILTIN_TEXT).unwrap();
    path
}

/// The `syn`, `syn+ack` and `mtu` lines of `p0f -r` and of `honeyscope fingerprint` on
/// one capture with the database `fp`, time stamps cut: (p0f's, ours).
fn both_logs(cap: &Path, fp: &Path) -> (Vec<String>, Vec<String>) {
    let log = cap.with_extension("p0f.log");
    let _ = std::fs::remove_file(&log);
    let p0f = Command::new("p0f")
        .args(["-r", cap.to_str().unwrap(), "-o", log.to_str().unwrap()])
        .arg("-f")
        .arg(fp)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(p0f.status.success(), "{}", text(&p0f.stderr));
    let theirs = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once("] ").map(|(_, rest)| rest.to_string()))
        .filter(|l| l.starts_with("mod=syn") || l.starts_with("mod=mtu"))
        .collect();
    let out = honeyscope(&[
        "fingerprint",
        cap.to_str().unwrap(),
        "--p0f-db",
        fp.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ours = text(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(_, rest)| rest.to_string()))
        .collect();
    (theirs, ours)
}

/// The kernel's own handshakes on loopback, captured by tcpdump, read by both tools.
#[test]
fn agrees_with_p0f_on_the_kernels_handshakes() {
    if !(have("tcpdump") && have("p0f") && Path::new(DEBIAN_FP).exists()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("lo.pcap");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let dump = Dump::start(
        Command::new("tcpdump"),
        "lo",
        &cap,
        &format!("tcp port {port}"),
    );
    for _ in 0..3 {
        let c = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (s, _) = listener.accept().unwrap();
        drop((c, s));
    }
    dump.stop();
    let (theirs, ours) = both_logs(&cap, Path::new(DEBIAN_FP));
    assert_eq!(
        ours.iter().filter(|l| l.starts_with("mod=syn|")).count(),
        3,
        "{}",
        ours.join("\n")
    );
    assert_eq!(ours, theirs);
    // The built-in database: loopback's MSS (65495) fits no kernel era's window rule, so
    // the generic Linux signature answers, for p0f as for us.
    let (theirs, ours) = both_logs(&cap, &builtin_fp(dir.path()));
    assert_eq!(ours, theirs);
    for l in ours.iter().filter(|l| l.starts_with("mod=syn")) {
        assert!(l.contains("|os=Linux 2.6 and newer|"), "{l}");
    }
}

/// The kernel's own SYNs (a connection), `nmap -sS`, `hping3 -S` and `masscan`, sent from one
/// namespace into another and captured there: both tools read the capture the same way.
#[test]
fn agrees_with_p0f_on_scanners_in_a_namespace() {
    let tools = ["tcpdump", "p0f", "nmap", "hping3", "masscan", "ip"];
    if !tools.iter().all(|t| have(t)) || !Path::new(DEBIAN_FP).exists() {
        return;
    }
    let Some(ns) = Namespaces::new("fp", "198.51.100.1/24", "198.51.100.2/24") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("ns.pcap");
    let dump = Dump::start(ns.exec(&ns.server, &["tcpdump"]), &ns.links.1, &cap, "tcp");
    // A listener on 80 so the kernel's and nmap's SYNs get SYN+ACKs; 23 stays closed.
    let mut listener = ns
        .exec(
            &ns.server,
            &[
                "python3",
                "-c",
                "import socket,time\ns=socket.socket();s.bind(('198.51.100.2',80));s.listen(50)\ntime.sleep(30)",
            ],
        )
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let run = |args: &[&str]| {
        let out = ns.exec(&ns.client, args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    };
    run(&[
        "python3",
        "-c",
        "import socket\nfor _ in range(2): socket.create_connection(('198.51.100.2',80)).close()",
    ]);
    run(&["nmap", "-sS", "-n", "-Pn", "-p", "23,80", "198.51.100.2"]);
    run(&[
        "hping3",
        "-S",
        "-p",
        "23",
        "-c",
        "2",
        "-i",
        "u100000",
        "198.51.100.2",
    ]);
    let mac = ns.server_mac();
    run(&[
        "masscan",
        "198.51.100.2",
        "-p23",
        "--rate",
        "50",
        "--wait",
        "1",
        "-e",
        &ns.links.0,
        "--adapter-ip",
        "198.51.100.1",
        "--router-mac",
        &mac,
    ]);
    dump.stop();
    let _ = listener.kill();
    let _ = listener.wait();
    let (theirs, ours) = both_logs(&cap, Path::new(DEBIAN_FP));
    // Two kernel connections, nmap's two ports, hping3's two probes, masscan's one.
    let syns = ours.iter().filter(|l| l.starts_with("mod=syn|")).count();
    assert!(syns >= 7, "{syns} SYNs:\n{}", ours.join("\n"));
    assert!(
        ours.iter().any(|l| l.contains("app=NMap SYN scan")),
        "{}",
        ours.join("\n")
    );
    assert_eq!(ours, theirs);

    // The built-in database names every sender, and p0f reading it agrees.
    let (theirs, ours) = both_logs(&cap, &builtin_fp(dir.path()));
    assert_eq!(ours, theirs);
    let label_of = |port: &str, client: &str| -> Vec<String> {
        ours.iter()
            .filter(|l| {
                l.starts_with("mod=syn|") && l.contains(&format!("srv=198.51.100.2/{port}|"))
            })
            .filter(|l| l.contains(&format!("cli=198.51.100.1/{client}")))
            .filter_map(|l| {
                l.split('|')
                    .find(|f| f.starts_with("os=") || f.starts_with("app="))
            })
            .map(String::from)
            .collect()
    };
    let all = ours.join("\n");
    let kernel_and_nmap = label_of("80", "");
    assert!(
        kernel_and_nmap
            .iter()
            .filter(|l| *l == "os=Linux 4.20 and newer")
            .count()
            == 2,
        "{all}"
    );
    assert!(
        kernel_and_nmap.iter().any(|l| l == "app=nmap SYN scan"),
        "{all}"
    );
    let on_23 = label_of("23", "");
    for want in ["app=nmap SYN scan", "app=hping3", "app=masscan"] {
        assert!(on_23.iter().any(|l| l == want), "no {want}:\n{all}");
    }
    assert!(
        ours.iter()
            .any(|l| l.starts_with("mod=syn+ack|") && l.contains("|os=Linux 4.20 and newer|")),
        "{all}"
    );
}
