//! The same services on both transports (issue 6): `curl`, `nc` and `telnet` talk to the echo
//! service on a claimed address (the user-space TCP sessions, through a TUN device) and on a
//! kernel listener (`[[listen]]`), from a namespace the test makes; and the kernel's TCP
//! carries 10 MB each way through the echo session across a link that delays, reorders, duplicates
//! and drops packets.

mod common;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{enter, have, honeyd_log, ip, text, tun_sensor, Netns};
use honeyscope_sensor::tun::Tun;

const CONFIG: &str = "sensor_id = \"t\"\nprefixes = [\"198.51.100.0/24\"]\n\
    [templates.t]\npersonality = \"linux-5\"\ntcp = \"reset\"\n\
    [templates.t.ports]\n\"tcp/7\" = \"echo\"\n\"tcp/9\" = \"discard\"\n\
    [limits]\nsession_idle_secs = 20\n\
    [[listen]]\naddress = \"127.0.0.1:2007\"\nservice = \"echo\"\nreported_port = 7\n";

/// What a client tool said, after checking it ran.
fn run(ns: &str, shell: &str) -> String {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "sh", "-c", shell])
        .output()
        .unwrap();
    text(&out.stdout)
}

#[test]
fn curl_nc_and_telnet_reach_the_echo_service_on_both_transports() {
    if !(have("ip") && have("curl") && have("nc") && have("telnet")) {
        return;
    }
    let Some(netns) = Netns::with_client(format!("hstr-{}", std::process::id())) else {
        return;
    };
    let ns = netns.0.clone();
    let (sensor, _dir, logs) = common::tun_sensor_with(&ns, "hstr0", CONFIG);
    // The listener is bound before the device is routed, so it is up by now.
    for (host, port) in [("198.51.100.7", 7), ("127.0.0.1", 2007)] {
        let nc = run(
            &ns,
            &format!("printf 'hello from nc\\n' | nc -N -w 5 {host} {port}"),
        );
        assert_eq!(nc, "hello from nc\n", "nc to {host}:{port}");
        // curl's request comes back as the whole answer: no status line, so HTTP/0.9, and
        // no end but curl's own time limit.
        let curl = run(
            &ns,
            &format!("curl -s --http0.9 --max-time 2 http://{host}:{port}/echo-me"),
        );
        assert!(
            curl.starts_with("GET /echo-me HTTP/1.1\r\nHost: "),
            "curl to {host}:{port}: {curl:?}"
        );
        let telnet = run(
            &ns,
            &format!("(printf 'hello from telnet\\r\\n'; sleep 1) | telnet {host} {port}"),
        );
        assert!(
            telnet.contains("Connected to") && telnet.contains("hello from telnet"),
            "telnet to {host}:{port}: {telnet:?}"
        );
    }
    // A client that half-closes, to discard: its data all taken, then our FIN.
    let half = run(
        &ns,
        "head -c 300000 /dev/zero | nc -N -w 5 198.51.100.9 9; echo rc=$?",
    );
    assert_eq!(half, "rc=0\n");
    let report = sensor.terminate();
    assert!(
        report.contains("kernel listeners: 3 connections, 0 refused"),
        "{report}"
    );
    assert!(report.contains("4 sessions (0 refused"), "{report}");
    let log = honeyd_log(&logs);
    // Every connection has its start and its end, with the bytes each way; the
    // listener's are logged with its reported port.
    let ends: Vec<&str> = log.lines().filter(|l| l.contains(") E ")).collect();
    assert_eq!(ends.len(), 7, "{log}");
    assert_eq!(
        log.lines().filter(|l| l.contains(") S ")).count(),
        7,
        "{log}"
    );
    assert!(
        ends.iter()
            .filter(|l| l.contains(" 127.0.0.1 7: 14 14"))
            .count()
            == 1,
        "nc via the listener, reported as port 7: {log}"
    );
    assert!(
        ends.iter().any(|l| l.contains(" 198.51.100.7 7: 14 14")),
        "{log}"
    );
    assert!(
        ends.iter().any(|l| l.contains(" 198.51.100.9 9: 300000 0")),
        "{log}"
    );
}

/// `honeyscope sense` with the built-in config and no source claims nothing, says so, and
/// serves its loopback listeners; the log has the connection.
#[test]
fn the_built_in_config_without_a_source_serves_on_loopback() {
    if !(have("ip") && have("nc")) {
        return;
    }
    let Some(netns) = Netns::add(format!("hsdef-{}", std::process::id())) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let sensor = common::Killed(
        Command::new("ip")
            .args(["netns", "exec", &netns.0, env!("CARGO_BIN_EXE_honeyscope")])
            .args(["sense", "--tz", "UTC", "--log-dir"])
            .arg(&logs)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut said = String::new();
    for _ in 0..100 {
        said = run(
            &netns.0,
            "printf 'are you there\n' | nc -N -w 5 127.0.0.1 7007",
        );
        if !said.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(said, "are you there\n");
    let report = sensor.terminate();
    assert!(
        report.contains("no --tun or --interface given, so no prefix is claimed")
            && report.contains("listening on 127.0.0.1:7007 (echo), 127.0.0.1:9009 (discard)"),
        "{report}"
    );
    let log = honeyd_log(&logs);
    assert!(log.contains(" 127.0.0.1 7007: 14 14\n"), "{log}");
}

/// A tiny xorshift generator: the impairments are the same on every run.
struct Rng(u64);

impl Rng {
    fn chance(&mut self, p: f64) -> bool {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// What the impairing link did.
#[derive(Debug, Default)]
struct Impaired {
    forwarded: u64,
    dropped: u64,
    duplicated: u64,
    held_back: u64,
}

/// A packet on the link: when it leaves, its number (ties keep their order), the side it
/// came from, its bytes.
type Held = (Instant, u64, usize, Vec<u8>);

/// The link between the client's TUN device and the sensor's namespace, standing in for
/// `tc netem` (this machine's kernel has no sch_netem): every packet waits `delay`; of
/// them, `reorder` are held `delay * 4` (the ones behind overtake them), `dup` are sent
/// twice, `loss` are dropped. Runs until `stop`.
fn impair(a: &mut Tun, b: &mut Tun, stop: &AtomicBool, seed: u64) -> Impaired {
    let (delay, loss, dup, reorder) = (Duration::from_millis(3), 0.05, 0.03, 0.10);
    let mut rng = Rng(seed);
    let mut counts = Impaired::default();
    let mut queue: BinaryHeap<Reverse<Held>> = BinaryHeap::new();
    let mut buf = vec![0u8; 65_536];
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let mut busy = false;
        for (side, tun) in [&mut *a, &mut *b].into_iter().enumerate() {
            for _ in 0..64 {
                let Ok(Some(len)) = tun.recv(&mut buf, Duration::ZERO) else {
                    break;
                };
                busy = true;
                if rng.chance(loss) {
                    counts.dropped += 1;
                    continue;
                }
                let mut at = Instant::now() + delay;
                if rng.chance(reorder) {
                    counts.held_back += 1;
                    at += delay * 4;
                }
                n += 1;
                queue.push(Reverse((at, n, side, buf[..len].to_vec())));
                if rng.chance(dup) {
                    counts.duplicated += 1;
                    n += 1;
                    queue.push(Reverse((at + delay, n, side, buf[..len].to_vec())));
                }
            }
        }
        let now = Instant::now();
        while queue.peek().is_some_and(|Reverse((at, ..))| *at <= now) {
            let Some(Reverse((_, _, side, packet))) = queue.pop() else {
                break;
            };
            let to = if side == 0 { &mut *b } else { &mut *a };
            if to.send(&packet).is_ok() {
                counts.forwarded += 1;
            }
        }
        if !busy {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    counts
}

#[test]
fn echo_survives_delay_reordering_duplication_and_loss() {
    if !(have("ip") && have("python3")) {
        return;
    }
    let id = std::process::id();
    let (Some(client), Some(server)) = (
        Netns::with_client(format!("hsimc-{id}")),
        Netns::add(format!("hsims-{id}")),
    ) else {
        return;
    };
    let (c, s) = (client.0.clone(), server.0.clone());
    // The link's two ends: a TUN device in each namespace, made from a thread that enters
    // them; the relay thread carries packets between them.
    let stop = Arc::new(AtomicBool::new(false));
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let relay = {
        let (c, s, stop) = (c.clone(), s.clone(), stop.clone());
        std::thread::spawn(move || {
            enter(&c);
            let mut a = Tun::create("hsimc0").unwrap();
            enter(&s);
            let mut b = Tun::create("hsims0").unwrap();
            ready_tx.send(()).unwrap();
            impair(&mut a, &mut b, &stop, 0x9e37_79b9_7f4a_7c15)
        })
    };
    ready_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(ip(&[
        "-n",
        &c,
        "route",
        "add",
        "198.51.100.0/24",
        "dev",
        "hsimc0",
        "src",
        "203.0.113.1"
    ]));
    assert!(ip(&[
        "-n",
        &s,
        "route",
        "add",
        "203.0.113.0/24",
        "dev",
        "hsims0"
    ]));
    // Forwarding between the link and the sensor's device, in the server namespace only.
    let sysctl = Command::new("ip")
        .args([
            "netns",
            "exec",
            &s,
            "sysctl",
            "-qw",
            "net.ipv4.ip_forward=1",
        ])
        .args([
            "net.ipv4.conf.all.rp_filter=0",
            "net.ipv4.conf.default.rp_filter=0",
        ])
        .status()
        .unwrap();
    assert!(sysctl.success());
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("sensor.toml");
    std::fs::write(&cfg, CONFIG.replace("127.0.0.1:2007", "127.0.0.1:0")).unwrap();
    let logs = dir.path().join("logs");
    let sensor = tun_sensor(
        &s,
        "hsimt0",
        &[
            "--keep-root".as_ref(),
            "--config".as_ref(),
            cfg.as_os_str(),
            "--log-dir".as_ref(),
            logs.as_os_str(),
        ],
    );
    // HS_DUMP=FILE keeps a tcpdump of the sensor's side, to study a failure.
    let dump = std::env::var_os("HS_DUMP").map(|p| {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &s, "tcpdump", "-s", "80"]);
        common::Dump::start(cmd, "hsimt0", std::path::Path::new(&p), "tcp")
    });
    let out = Command::new("ip")
        .args(["netns", "exec", &c, "python3", "-c"])
        .arg(
            "import socket, threading, random\n\
             rng = random.Random(11)\n\
             data = bytes(rng.getrandbits(8) for _ in range(10_000_000))\n\
             s = socket.create_connection(('198.51.100.7', 7), timeout=120)\n\
             def send():\n    s.sendall(data)\n    s.shutdown(socket.SHUT_WR)\n\
             t = threading.Thread(target=send); t.start()\n\
             got = bytearray()\n\
             while True:\n    b = s.recv(65536)\n    if not b: break\n    got += b\n\
             t.join()\n\
             print('echo', len(got), bytes(got) == data)\n",
        )
        .output()
        .unwrap();
    let said = text(&out.stdout);
    if let Some(d) = dump {
        d.stop();
    }
    stop.store(true, Ordering::Relaxed);
    let impaired = relay.join().unwrap();
    let report = sensor.terminate();
    assert!(
        out.status.success(),
        "{said}{}\n{impaired:?}\n{report}",
        text(&out.stderr)
    );
    let log = honeyd_log(&logs);
    assert_eq!(
        said, "echo 10000000 True\n",
        "{impaired:?}\n{report}\n{log}"
    );
    // The link did impair: every kind happened.
    assert!(
        impaired.dropped > 100 && impaired.duplicated > 10 && impaired.held_back > 50,
        "{impaired:?}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains(" E 203.0.113.1 ")
                && l.ends_with(" 198.51.100.7 7: 10000000 10000000")),
        "{log}"
    );
}
