//! Telnet on both transports (issue 7): Mirai's scanner and loader dialogs (as
//! `telnet::bot` replays them), whole and split across segments, against a claimed
//! address (the user-space TCP sessions, through a TUN device) and a kernel listener, from
//! a namespace the test makes; Debian's `telnet` logs in too. The log has Cowrie's events,
//! the dropper is kept byte for byte, and `honeyscope replay` plays a session back.

mod common;

use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use common::{enter, have, honeyd_log, json_events_once, text, Netns};
use honeyscope_services::capture::sha256_hex;
use honeyscope_services::elf::{self, Arch};
use honeyscope_services::telnet::bot::{self, Bot, Pace};

const CONFIG: &str = "sensor_id = \"t\"\nprefixes = [\"198.51.100.0/24\"]\n\
    [templates.t]\npersonality = \"linux-2.6\"\ntcp = \"reset\"\nprofile = \"ipcam\"\n\
    [templates.t.ports]\n\"tcp/23\" = \"telnet\"\n\
    [[bind]]\naddresses = \"198.51.100.7/32\"\ntemplate = \"t\"\nprofile = \"dvr\"\n\
    [limits]\nsession_idle_secs = 30\n\
    [[listen]]\naddress = \"127.0.0.1:2323\"\nservice = \"telnet\"\nprofile = \"dvr\"\n\
    reported_port = 23\n";

/// A dropper as Mirai's `dlr` is: a small ARM ELF with its server's `sockaddr_in`, and the
/// bytes Telnet and terminals must carry untouched.
fn dropper() -> Vec<u8> {
    let mut d = elf::binary(Arch::Arm, 1000);
    d[600..616].copy_from_slice(&[2, 0, 0x1f, 0x90, 203, 0, 113, 50, 0, 0, 0, 0, 0, 0, 0, 0]);
    d[700..706].copy_from_slice(&[0xff, 0xff, b'\n', b'\r', 0, 0x0d]);
    d
}

fn connect(addr: &str, pace: Pace) -> Bot<TcpStream> {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    s.set_nodelay(true).unwrap();
    Bot::new(s, pace)
}

/// The session events of `dir`'s JSON log, once `n` sessions have closed.
fn sessions(dir: &std::path::Path, n: usize) -> Vec<serde_json::Value> {
    json_events_once(dir, n, |e| e["eventid"] == "cowrie.session.closed")
        .into_iter()
        .filter(|v| v["event"] == "session")
        .collect()
}

#[test]
fn mirai_dialogs_on_both_transports() {
    if !(have("ip") && have("telnet")) {
        return;
    }
    let Some(netns) = Netns::with_client(format!("hstn-{}", std::process::id())) else {
        return;
    };
    let ns = netns.0.clone();
    let (sensor, _dir, logs) = common::tun_sensor_with(&ns, "hstn0", CONFIG);
    let d = dropper();
    let d2 = d.clone();
    let ns2 = ns.clone();
    // The bots run on a thread inside the namespace.
    let loaded = std::thread::spawn(move || {
        enter(&ns2);
        let mut loaded = Vec::new();
        for addr in ["198.51.100.7:23", "127.0.0.1:2323"] {
            for pace in [Pace::Whole, Pace::Split(5)] {
                let found = bot::scan(&mut connect(addr, pace), "root", "xc3511", "MIRAI");
                assert!(found.unwrap().verified, "{addr} {pace:?}");
                let mut b = connect(addr, pace);
                let got = bot::load(&mut b, "root", "xc3511", "ECCHI", &d2, "203.0.113.50:8080");
                loaded.push((addr, got.unwrap_or_else(|e| panic!("{addr} {pace:?}: {e}"))));
            }
        }
        // Another address of the prefix answers as its template's camera, with wget.
        let cam = bot::load(
            &mut connect("198.51.100.8:23", Pace::Whole),
            "root",
            "x",
            "OKIRU",
            b"",
            "203.0.113.50:80",
        );
        loaded.push(("198.51.100.8:23", cam.unwrap()));
        loaded
    })
    .join()
    .unwrap();
    for (addr, got) in &loaded[..4] {
        assert_eq!(
            (got.arch.as_str(), got.method.as_str()),
            ("arm7", "echo"),
            "{addr}"
        );
    }
    assert_eq!(
        (loaded[4].1.arch.as_str(), loaded[4].1.method.as_str()),
        ("mpsl", "wget")
    );
    // Debian's telnet client logs in and asks the scanner's question.
    let said = Command::new("ip")
        .args(["netns", "exec", &ns, "sh", "-c"])
        .arg(
            "(sleep 1; printf 'root\\r\\n'; sleep 0.5; printf 'vizxv\\r\\n'; sleep 0.5; \
              printf '/bin/busybox MIRAI; uname -m; cat /proc/mounts | head -n 1\\r\\n'; sleep 1) \
              | telnet 198.51.100.7 23",
        )
        .output()
        .unwrap();
    let said = text(&said.stdout);
    assert!(said.contains("MIRAI: applet not found"), "{said}");
    assert!(said.contains("armv7l"), "{said}");
    let evs = sessions(&logs, 10);
    let report = sensor.terminate();
    assert!(
        report.contains("telnet: 10 sessions, 10 logins"),
        "{report}"
    );
    // Every session on both transports is in Cowrie's terms.
    let sha = sha256_hex(&d);
    let uploads: Vec<&serde_json::Value> = evs
        .iter()
        .filter(|e| e["eventid"] == "cowrie.session.file_upload" && e["shasum"] == sha.as_str())
        .collect();
    assert_eq!(uploads.len(), 4, "the dropper from each loader session");
    for u in &uploads {
        assert_eq!(u["arch"], "arm");
        assert_eq!(u["callback"], "203.0.113.50:8080");
        assert!(u["filename"].as_str().unwrap().ends_with("/upnp"), "{u}");
        assert_eq!(u["dst_port"], 23, "both transports log port 23: {u}");
    }
    let stored = std::fs::read(logs.join("artifacts").join(&sha)).unwrap();
    assert_eq!(stored, d, "the dropper's bytes, exactly");
    let dl: Vec<&serde_json::Value> = evs
        .iter()
        .filter(|e| e["eventid"] == "cowrie.session.file_download")
        .collect();
    assert_eq!(dl.len(), 1, "{dl:?}");
    assert_eq!(dl[0]["url"], "http://203.0.113.50/bins/mirai.mpsl");
    assert_eq!(dl[0]["profile"], "ipcam");
    for id in [
        "cowrie.session.connect",
        "cowrie.login.success",
        "cowrie.command.input",
        "cowrie.log.closed",
    ] {
        assert!(evs.iter().any(|e| e["eventid"] == id), "no {id}");
    }
    let logins = evs
        .iter()
        .filter(|e| e["eventid"] == "cowrie.login.success")
        .count();
    assert_eq!(logins, 10);
    // The packet log has the sessions too.
    let log = honeyd_log(&logs);
    assert!(
        log.lines()
            .filter(|l| l.contains(" 23: ") && l.contains(") E "))
            .count()
            >= 10,
        "{log}"
    );
    // A session plays back.
    let id = uploads[0]["session"].as_str().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_honeyscope"))
        .args(["replay", id, "--instant", "--dir"])
        .arg(&logs)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let screen = text(&out.stdout);
    assert!(
        screen.contains("ECCHI: applet not found") && screen.contains("IHCCE"),
        "{screen}"
    );
}
