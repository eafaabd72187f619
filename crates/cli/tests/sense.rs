//! `honeyscope sense` on captures and live on a TUN device: real scanners' traffic, captured
//! in network namespaces the test makes, goes through the sensor offline, and the kernel's
//! own TCP talks to it live; the logs name every packet and its sender's OS, the replies are
//! the ones the config asks for, and offline replays the live run byte for byte. The LAN
//! mode is in `lan.rs`, TCP sessions in `sessions.rs`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{have, honeyscope, text, tun_sensor, Dump, Namespaces, Netns};

const KEY: &str = "000102030405060708090a0b0c0d0e0f";

/// The events of a capture or log, as JSON objects (`honeyscope cat`).
fn events(input: &Path) -> Vec<serde_json::Value> {
    let out = honeyscope(&[
        "cat",
        input.to_str().unwrap(),
        "--format",
        "json",
        "--tz",
        "UTC",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `honeyscope sense` on a capture, with the fixed cookie key and UTC times.
fn sense_offline(cap: &Path, replies: &Path, logs: &Path) -> std::process::Output {
    sense_offline_with(cap, replies, logs, None)
}

/// The same, with a config file.
fn sense_offline_with(
    cap: &Path,
    replies: &Path,
    logs: &Path,
    config: Option<&Path>,
) -> std::process::Output {
    let path = |p: &Path| p.to_str().unwrap().to_string();
    let mut args = vec![
        "sense".to_string(),
        "--pcap".into(),
        path(cap),
        "--replies".into(),
        path(replies),
        "--log-dir".into(),
        path(logs),
        "--tz".into(),
        "UTC".into(),
        "--cookie-key".into(),
        KEY.into(),
    ];
    if let Some(c) = config {
        args.extend(["--config".into(), path(c)]);
    }
    honeyscope(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn flags(e: &serde_json::Value) -> String {
    e["tcp_flags"].as_str().unwrap_or_default().to_string()
}

#[test]
fn the_seed_config_on_scanners_traffic() {
    let tools = ["tcpdump", "nmap", "hping3", "masscan", "ip", "nc", "ping"];
    if !tools.iter().all(|t| have(t)) {
        return;
    }
    // The client reaches 198.51.100.0/24 through the server namespace, where nothing owns
    // those addresses: the capture there is what a telescope's link would carry.
    let Some(ns) = Namespaces::new("se", "203.0.113.1/24", "203.0.113.2/24") else {
        return;
    };
    assert!(ns.ip(&[
        "-n",
        &ns.client,
        "route",
        "add",
        "198.51.100.0/24",
        "via",
        "203.0.113.2"
    ]));
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("telescope.pcap");
    let dump = Dump::start(
        ns.exec(&ns.server, &["tcpdump"]),
        &ns.links.1,
        &cap,
        "net 198.51.100.0/24",
    );
    let run = |args: &[&str]| {
        let out = ns.exec(&ns.client, args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    };
    // hping3 exits non-zero when nothing answers, which is the point here.
    let run_unanswered = |args: &[&str]| {
        let out = ns.exec(&ns.client, args).output().unwrap();
        assert!(
            text(&out.stderr).contains("2 packets transmitted"),
            "{args:?}: {}",
            text(&out.stderr)
        );
    };
    // The kernel's own connection attempt (nobody answers live: one SYN, a retry maybe).
    run(&[
        "python3",
        "-c",
        "import socket\ntry: socket.create_connection(('198.51.100.9', 80), timeout=0.3)\nexcept OSError: pass",
    ]);
    run(&[
        "nmap",
        "-sS",
        "-n",
        "-Pn",
        "--max-retries",
        "0",
        "-p",
        "23,80,6379",
        "198.51.100.1-2",
    ]);
    run_unanswered(&[
        "hping3",
        "-S",
        "-p",
        "2323",
        "-c",
        "2",
        "-i",
        "u100000",
        "198.51.100.3",
    ]);
    run_unanswered(&["hping3", "-1", "-c", "2", "-i", "u100000", "198.51.100.4"]);
    // nc's datagram to the seed's UDP port, and ping's echo requests (unanswered live).
    run(&["sh", "-c", "echo x | nc -u -w 1 198.51.100.5 53413"]);
    let _ = ns
        .exec(
            &ns.client,
            &["ping", "-c", "2", "-i", "0.2", "-W", "0.2", "198.51.100.6"],
        )
        .output()
        .unwrap();
    let mac = ns.server_mac();
    run(&[
        "masscan",
        "198.51.100.16/30",
        "-p23",
        "--rate",
        "100",
        "--wait",
        "0",
        "-e",
        &ns.links.0,
        "--adapter-ip",
        "203.0.113.1",
        "--router-mac",
        &mac,
    ]);
    dump.stop();

    let logs = dir.path().join("logs");
    let replies = dir.path().join("replies.pcap");
    let out = sense_offline(&cap, &replies, &logs);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = text(&out.stderr);
    assert!(
        summary.contains("to claimed addresses, 0 to others"),
        "{summary}"
    );

    // Every packet of the capture is in the log, in order, with the same fields.
    let seen = events(&cap);
    let logged = events(&logs.join("events.jsonl"));
    assert_eq!(logged.len(), seen.len(), "{summary}");
    for (a, b) in seen.iter().zip(&logged) {
        for field in [
            "ts",
            "src",
            "dst",
            "sport",
            "dport",
            "tcp_flags",
            "icmp_type",
            "ip_len",
        ] {
            assert_eq!(a[field], b[field], "{field}: {a} vs {b}");
        }
    }
    // The Honeyd log says the same.
    let honeyd = std::fs::read_to_string(logs.join("honeyd.log")).unwrap();
    assert_eq!(honeyd.lines().count(), seen.len());
    assert_eq!(events(&logs.join("honeyd.log")).len(), seen.len());

    // Each sender's OS, from its SYNs, is on its packets.
    let os_of = |port: u64, dst: &str| -> Vec<String> {
        logged
            .iter()
            .filter(|e| e["dport"] == port && e["dst"] == dst && flags(e) == "S")
            .map(|e| e["os"].as_str().unwrap_or("-").to_string())
            .collect()
    };
    assert!(os_of(80, "198.51.100.9")
        .iter()
        .all(|o| o == "Linux 4.20 and newer"));
    assert!(!os_of(80, "198.51.100.9").is_empty());
    assert!(os_of(23, "198.51.100.1")
        .iter()
        .all(|o| o == "nmap SYN scan"));
    assert!(os_of(2323, "198.51.100.3").iter().all(|o| o == "hping3"));
    assert!(os_of(23, "198.51.100.17").iter().all(|o| o == "masscan"));

    // Replies: a SYN+ACK for every SYN to 23, 80, 2323 (open in the seed config); nothing
    // for 6379 or UDP 53413 (only logged); an echo reply for every echo request.
    let answered: Vec<&serde_json::Value> = seen
        .iter()
        .filter(|e| flags(e) == "S" && [23, 80, 2323].iter().any(|p| e["dport"] == *p))
        .collect();
    let pings = seen.iter().filter(|e| e["icmp_type"] == 8).count();
    assert!(answered.len() >= 7 && pings == 4, "{answered:?}");
    let sent = events(&replies);
    let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for r in &sent {
        let kind = match r["proto"].as_u64() {
            Some(6) => format!("tcp {}", flags(r)),
            Some(1) => format!("icmp {}", r["icmp_type"]),
            other => format!("{other:?}"),
        };
        *by_kind.entry(kind).or_default() += 1;
    }
    let want = BTreeMap::from([
        ("tcp SA".to_string(), answered.len()),
        ("icmp 0".to_string(), pings),
    ]);
    assert_eq!(by_kind, want);
    // Each SYN+ACK answers its SYN: addresses and ports swapped, in the personality of the
    // seed template (Linux 2.6: TTL 64, window 4 segments).
    for (syn, synack) in answered.iter().zip(sent.iter().filter(|r| r["proto"] == 6)) {
        assert_eq!(
            (&syn["src"], &syn["sport"]),
            (&synack["dst"], &synack["dport"])
        );
        assert_eq!(
            (&syn["dst"], &syn["dport"]),
            (&synack["src"], &synack["sport"])
        );
    }

    // The same capture and key give the same bytes.
    let again = dir.path().join("again");
    let replies2 = dir.path().join("replies2.pcap");
    let out = sense_offline(&cap, &replies2, &again);
    assert!(out.status.success());
    for (a, b) in [
        (logs.join("honeyd.log"), again.join("honeyd.log")),
        (logs.join("events.jsonl"), again.join("events.jsonl")),
        (replies.clone(), replies2),
    ] {
        assert_eq!(
            std::fs::read(&a).unwrap(),
            std::fs::read(&b).unwrap(),
            "{a:?}"
        );
    }
}

#[test]
fn config_errors_and_the_missing_live_mode_are_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("sensor.toml");
    std::fs::write(
        &cfg,
        "prefixes = [\"198.51.100.0/24\"]\n[templates.t]\npersonality = \"beos\"\n",
    )
    .unwrap();
    let out = honeyscope(&[
        "sense",
        "--config",
        cfg.to_str().unwrap(),
        "--pcap",
        "x.pcap",
    ]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("line 3: template t: unknown personality \"beos\""),
        "{err}"
    );
    // No source, and nothing to listen on: say what to give. (The built-in config has
    // listeners, so it serves them: tests/transports.rs.)
    std::fs::write(
        &cfg,
        "prefixes = [\"198.51.100.0/24\"]\n[templates.t]\npersonality = \"linux-5\"\n",
    )
    .unwrap();
    let out = honeyscope(&["sense", "--config", cfg.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--pcap FILE"));
    let out = honeyscope(&["sense", "--print-config"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("\"tcp/23\" = \"telnet\""));
}

/// The live sensor on a TUN device in a namespace the test makes: the kernel's TCP, in the
/// same namespace, connects through the route the sensor added, completes the handshake
/// from our SYN cookie, sends its request and gets the configured RST; a blocked port
/// stays silent; the log has the flow's `S` and `E` lines and the client's OS.
#[test]
fn live_on_a_tun_device() {
    if !(have("ip") && have("ping")) {
        return;
    }
    let Some(netns) = Netns::with_client(format!("hslive-{}", std::process::id())) else {
        return;
    };
    let ns = netns.0.clone();
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let recording = dir.path().join("recorded.pcap");
    let wire = dir.path().join("wire.pcap");
    // The seed's set-up with port 80 `open` (no service): a handshake, its first payload,
    // a reset, all of it the same when the recording is replayed.
    let config = dir.path().join("sensor.toml");
    let seed = honeyscope_sensor::config::SEED_DEFAULT;
    assert!(seed.contains("\"tcp/80\" = \"http\""));
    std::fs::write(
        &config,
        seed.replace("\"tcp/80\" = \"http\"", "\"tcp/80\" = \"open\""),
    )
    .unwrap();
    // Killed if the test fails before it stops the sensor itself.
    let sensor = tun_sensor(
        &ns,
        "hst0",
        &[
            "--config".as_ref(),
            config.as_os_str(),
            "--cookie-key".as_ref(),
            KEY.as_ref(),
            "--metrics".as_ref(),
            "127.0.0.1:9464".as_ref(),
            "--log-dir".as_ref(),
            logs.as_os_str(),
            "--record".as_ref(),
            recording.as_os_str(),
        ],
    );
    // What crosses the device, both ways, as tcpdump sees it.
    let mut tcpdump = std::process::Command::new("ip");
    tcpdump.args(["netns", "exec", &ns, "tcpdump"]);
    let dump = have("tcpdump").then(|| Dump::start(tcpdump, "hst0", &wire, "ip"));
    // It dropped root once the device was open.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let status = std::fs::read_to_string(format!("/proc/{}/status", sensor.0.id())).unwrap();
    let uid = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .unwrap()
        .to_string();
    assert!(uid.contains("65534"), "still root: {uid}");

    let client = std::process::Command::new("ip")
        .args(["netns", "exec", &ns, "python3", "-c"])
        .arg(
            "import socket\n\
             s = socket.create_connection(('198.51.100.7', 80), timeout=3)\n\
             print('port', s.getsockname()[1])\n\
             s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')\n\
             try:\n    print('read', len(s.recv(100)))\n\
             except ConnectionResetError:\n    print('reset')\n\
             try:\n    socket.create_connection(('198.51.100.7', 6379), timeout=0.5)\n    print('open')\n\
             except OSError as e:\n    print('silent', type(e).__name__)\n",
        )
        .output()
        .unwrap();
    let said = text(&client.stdout);
    assert!(client.status.success(), "{said}{}", text(&client.stderr));
    assert!(
        said.contains("reset") && said.contains("silent TimeoutError"),
        "{said}"
    );
    let port: u16 = said
        .lines()
        .find_map(|l| l.strip_prefix("port "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // An echo request from ping(8), which picks its source by the route.
    let ping = || {
        let out = std::process::Command::new("ip")
            .args([
                "netns",
                "exec",
                &ns,
                "ping",
                "-c",
                "1",
                "-W",
                "3",
                "198.51.100.9",
            ])
            .output()
            .unwrap();
        assert!(
            text(&out.stdout).contains("1 received"),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    };
    ping();

    // Prometheus metrics, from inside the namespace, once the loop has published.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let metrics = std::process::Command::new("ip")
        .args(["netns", "exec", &ns, "python3", "-c"])
        .arg("import urllib.request\nprint(urllib.request.urlopen('http://127.0.0.1:9464/metrics', timeout=3).read().decode())")
        .output()
        .unwrap();
    let m = text(&metrics.stdout);
    for want in [
        "honeyscope_handshakes_total 1\n",
        "honeyscope_packets_out_total{reply=\"syn_ack\"} 1\n",
        "honeyscope_packets_out_total{reply=\"rst\"} 1\n",
        "honeyscope_packets_out_total{reply=\"echo_reply\"} 1\n",
        "honeyscope_events_dropped_total{reason=\"queue_full\"} 0\n",
        "# TYPE honeyscope_queue_depth gauge\n",
    ] {
        assert!(
            m.contains(want),
            "no {want:?} in\n{m}{}",
            text(&metrics.stderr)
        );
    }

    // logrotate's way: move the day's log away, SIGHUP, and the next events go to a new
    // file of the same name.
    let day_log = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("honeyd-")
        })
        .expect("a honeyd-DATE.log");
    let moved = dir.path().join("moved.log");
    std::fs::rename(&day_log, &moved).unwrap();
    let _ = std::process::Command::new("kill")
        .args(["-HUP", &sensor.0.id().to_string()])
        .status();
    std::thread::sleep(std::time::Duration::from_millis(200));
    ping();

    if let Some(d) = dump {
        d.stop();
    }
    let report = sensor.terminate();
    assert!(report.contains("1 handshakes completed"), "{report}");
    assert!(
        report.contains("0 dropped (queue full), 0 log lines lost to write errors"),
        "{report}"
    );

    let after = std::fs::read_to_string(&day_log).unwrap();
    assert!(
        after.lines().count() == 1 && after.contains("icmp(1) - 203.0.113.1 198.51.100.9: 8(0)"),
        "after SIGHUP: {after}"
    );
    // The request itself, as the payload record in the JSON log.
    let json = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("events-")
        })
        .map(|p| std::fs::read_to_string(p).unwrap())
        .unwrap_or_default();
    assert!(
        json.contains(r#""event":"payload","proto":6,"src":"203.0.113.1""#)
            && json.contains(r#""payload_size":18,"#)
            && json.contains(r#""payload_head":"GET / HTTP/1.0\\x0d\\x0a\\x0d\\x0a""#),
        "{json}"
    );
    let log = std::fs::read_to_string(&moved).unwrap();
    let flow = format!("203.0.113.1 {port} 198.51.100.7 80");
    let lines: Vec<&str> = log.lines().filter(|l| l.contains(&flow)).collect();
    assert!(
        lines[0].contains(&format!("tcp(6) - {flow}: 60 S [Linux 4.20 and newer]")),
        "{log}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&format!("tcp(6) S {flow}"))),
        "{log}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with(&format!("tcp(6) E {flow}: 18 0"))),
        "{log}"
    );
    assert!(log.contains("198.51.100.7 6379: 60 S"), "{log}");
    assert!(
        log.contains("icmp(1) - 203.0.113.1 198.51.100.9: 8(0)"),
        "{log}"
    );

    // The same traffic offline: the recording, run with the same config and key, gives the
    // live run's logs byte for byte, and the replies tcpdump saw leave the device.
    let off = dir.path().join("offline");
    let replies = dir.path().join("replies.pcap");
    let out = sense_offline_with(&recording, &replies, &off, Some(&config));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let live_log = std::fs::read_to_string(&moved).unwrap() + &after;
    let off_log = std::fs::read_to_string(off.join("honeyd.log")).unwrap();
    assert_eq!(off_log, live_log, "offline and live Honeyd logs differ");
    assert_eq!(
        std::fs::read_to_string(off.join("events.jsonl")).unwrap(),
        json,
        "offline and live JSON logs differ"
    );
    if have("tcpdump") {
        let ours = |p: &Path| -> Vec<Vec<u8>> {
            let f = std::fs::File::open(p).unwrap();
            let mut r = honeyscope_wire::CaptureReader::new(f).unwrap();
            let mut v = vec![];
            while let Some(fr) = r.next_frame().unwrap() {
                let ip = honeyscope_wire::probe::link_ip(fr.link, fr.data).unwrap();
                // Replies come from the claimed prefix.
                if ip.len() >= 20 && ip[0] >> 4 == 4 && ip[12..15] == [198, 51, 100] {
                    v.push(ip.to_vec());
                }
            }
            v
        };
        let (on_wire, offline) = (ours(&wire), ours(&replies));
        assert_eq!(on_wire.len(), 4, "SYN+ACK, RST, two echo replies");
        assert_eq!(
            offline, on_wire,
            "offline replies differ from what went out live"
        );
    }
}

#[test]
fn a_honeyd_config_imports_and_runs() {
    let conf = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/honeyd/honeyevse-honeyd.conf");
    let out = honeyscope(&["config", "import-honeyd", conf.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("honeyevse-honeyd.conf:14: not carried: add siemens tcp port 102 proxy"),
        "{err}"
    );
    assert!(err.contains("7 line(s) not carried"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("sensor.toml");
    std::fs::write(&ours, &out.stdout).unwrap();
    // The imported config loads: the run gets as far as the (missing) capture.
    let out = honeyscope(&[
        "sense",
        "--config",
        ours.to_str().unwrap(),
        "--pcap",
        dir.path().join("none.pcap").to_str().unwrap(),
        "--log-dir",
        dir.path().join("logs").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("opening"),
        "{}",
        text(&out.stderr)
    );
}
