//! TCP sessions on the claimed addresses (issue 6): the kernel's TCP, in a namespace the
//! test makes, talks to the sensor's echo and discard services through a TUN device.

mod common;

use common::{have, honeyd_log, text, tun_sensor, Netns};

/// TCP sessions on the claimed addresses (issue 6, first part): the kernel's TCP, in a
/// namespace, sends 10 MB through the echo service on a TUN device and reads every byte back
/// in order, while a second connection sends 1 MB to discard. The log holds each session's
/// start and its end with the bytes each way.
#[test]
fn kernel_tcp_through_the_echo_and_discard_sessions() {
    if !(have("ip") && have("python3")) {
        return;
    }
    let Some(netns) = Netns::with_client(format!("hsecho-{}", std::process::id())) else {
        return;
    };
    let ns = netns.0.clone();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("echo.toml");
    std::fs::write(
        &cfg,
        "prefixes = [\"198.51.100.0/24\"]\n[templates.t]\npersonality = \"linux-5\"\n\
         tcp = \"reset\"\n[templates.t.ports]\n\"tcp/7\" = \"echo\"\n\"tcp/9\" = \"discard\"\n\
         [limits]\nsession_idle_secs = 3\n",
    )
    .unwrap();
    let logs = dir.path().join("logs");
    let sensor = tun_sensor(
        &ns,
        "hse0",
        &[
            "--keep-root".as_ref(),
            "--config".as_ref(),
            cfg.as_os_str(),
            "--log-dir".as_ref(),
            logs.as_os_str(),
        ],
    );
    let client = std::process::Command::new("ip")
        .args(["netns", "exec", &ns, "python3", "-c"])
        .arg(
            "import socket, threading, random\n\
             rng = random.Random(7)\n\
             data = bytes(rng.getrandbits(8) for _ in range(10_000_000))\n\
             s = socket.create_connection(('198.51.100.7', 7), timeout=20)\n\
             port = s.getsockname()[1]\n\
             def send():\n    s.sendall(data)\n    s.shutdown(socket.SHUT_WR)\n\
             t = threading.Thread(target=send); t.start()\n\
             got = bytearray()\n\
             while True:\n    b = s.recv(65536)\n    if not b: break\n    got += b\n\
             t.join()\n\
             print('echo', port, len(got), bytes(got) == data)\n\
             d = socket.create_connection(('198.51.100.8', 9), timeout=20)\n\
             d.sendall(data[:1_000_000]); d.shutdown(socket.SHUT_WR)\n\
             print('discard', d.getsockname()[1], len(d.recv(10)))\n",
        )
        .output()
        .unwrap();
    let said = text(&client.stdout);
    assert!(client.status.success(), "{said}{}", text(&client.stderr));
    // Clients that misbehave: one resets, one vanishes (its session ends at the idle limit,
    // 3 s here), one lets its receive window fill and reads only later.
    let rude = std::process::Command::new("ip")
        .args(["netns", "exec", &ns, "python3", "-c"])
        .arg(
            "import socket, struct, time, os, threading\n\
             r = socket.create_connection(('198.51.100.11', 7), timeout=20)\n\
             r.sendall(b'bye'); r.recv(3)\n\
             r.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))\n\
             print('reset', r.getsockname()[1]); r.close()\n\
             v = socket.create_connection(('198.51.100.12', 7), timeout=20)\n\
             v.sendall(b'anyone'); v.recv(6)\n\
             print('vanish', v.getsockname()[1])\n\
             z = socket.socket(); z.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)\n\
             z.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)\n\
             z.settimeout(20); z.connect(('198.51.100.13', 7))\n\
             data = os.urandom(1_000_000)\n\
             z.setblocking(False)\n\
             sent = 0\n\
             deadline = time.time() + 1.5\n\
             while time.time() < deadline:\n    \
             try:\n        sent += z.send(data[sent:sent + 65536])\n    \
             except BlockingIOError:\n        time.sleep(0.01)\n\
             z.setblocking(True); z.settimeout(20)\n\
             got = bytearray()\n\
             def rd():\n    \
             while True:\n        b = z.recv(65536)\n        if not b: break\n        got.extend(b)\n\
             t = threading.Thread(target=rd); t.start()\n\
             z.sendall(data[sent:]); z.shutdown(socket.SHUT_WR); t.join()\n\
             print('zero-window', sent < len(data), bytes(got) == data)\n\
             time.sleep(4)\n",
        )
        .output()
        .unwrap();
    let said_rude = text(&rude.stdout);
    assert!(
        said_rude.contains("zero-window True True"),
        "{said_rude}{}",
        text(&rude.stderr)
    );
    // A thousand connections open at once, each echoing its own message.
    let many = std::process::Command::new("ip")
        .args(["netns", "exec", &ns, "python3", "-c"])
        .arg(
            "import socket\n\
             conns = [socket.create_connection(('198.51.100.10', 7), timeout=30) for _ in range(1000)]\n\
             for i, c in enumerate(conns):\n    c.sendall(b'message %d' % i)\n\
             ok = 0\n\
             for i, c in enumerate(conns):\n    want = b'message %d' % i\n    got = b''\n    \
             while len(got) < len(want):\n        got += c.recv(100)\n    ok += got == want\n\
             for c in conns:\n    c.close()\n\
             print('concurrent', ok)\n",
        )
        .output()
        .unwrap();
    let said_many = text(&many.stdout);
    assert!(
        said_many.contains("concurrent 1000"),
        "{said_many}{}",
        text(&many.stderr)
    );
    // 5 % of the segments each way dropped (nftables: this kernel has no netem), and still
    // every byte comes back in order.
    let lossy = have("nft").then(|| {
        let rules = "table inet loss {\n\
             chain out { type filter hook output priority 0; oifname \"hse0\" numgen random mod 100 < 5 counter drop; }\n\
             chain in { type filter hook input priority 0; iifname \"hse0\" numgen random mod 100 < 5 counter drop; }\n}\n";
        let mut nft = std::process::Command::new("ip")
            .args(["netns", "exec", &ns, "nft", "-f", "-"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(nft.stdin.as_mut().unwrap(), rules.as_bytes()).unwrap();
        assert!(nft.wait().unwrap().success(), "nft rules");
        let out = std::process::Command::new("ip")
            .args(["netns", "exec", &ns, "python3", "-c"])
            .arg(
                "import socket, threading, os\n\
                 data = os.urandom(2_000_000)\n\
                 s = socket.create_connection(('198.51.100.9', 7), timeout=120)\n\
                 def send():\n    s.sendall(data)\n    s.shutdown(socket.SHUT_WR)\n\
                 t = threading.Thread(target=send); t.start()\n\
                 got = bytearray()\n\
                 while True:\n    b = s.recv(65536)\n    if not b: break\n    got += b\n\
                 t.join()\n\
                 print('lossy', len(got), bytes(got) == data)\n",
            )
            .output()
            .unwrap();
        let counters = std::process::Command::new("ip")
            .args(["netns", "exec", &ns, "nft", "list", "ruleset"])
            .output()
            .unwrap();
        (text(&out.stdout) + &text(&out.stderr), text(&counters.stdout))
    });
    if let Some((said, counters)) = &lossy {
        assert!(said.contains("lossy 2000000 True"), "{said}");
        let dropped: Vec<u64> = counters
            .lines()
            .filter_map(|l| l.split("counter packets ").nth(1))
            .map(|r| r.split_whitespace().next().unwrap().parse().unwrap())
            .collect();
        assert!(
            dropped.len() == 2 && dropped.iter().all(|&d| d > 0),
            "{counters}"
        );
    }
    let port = |what: &str| -> String {
        said.lines()
            .find_map(|l| l.strip_prefix(what))
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    assert!(said.contains(" 10000000 True"), "{said}");
    assert!(
        said.contains("discard ") && said.trim_end().ends_with(" 0"),
        "{said}"
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    let report = sensor.terminate();
    let sessions = if lossy.is_some() { 1006 } else { 1005 };
    assert!(
        report.contains(&format!("{sessions} sessions (0 refused")),
        "{report}"
    );
    let log = honeyd_log(&logs);
    let echo = format!("203.0.113.1 {} 198.51.100.7 7", port("echo "));
    let discard = format!("203.0.113.1 {} 198.51.100.8 9", port("discard "));
    assert!(log.contains(&format!("tcp(6) S {echo}")), "{echo}");
    assert!(log.contains(&format!("tcp(6) E {echo}: 10000000 10000000\n")));
    assert!(log.contains(&format!("tcp(6) E {discard}: 1000000 0\n")));
    let rude_port = |what: &str| -> String {
        said_rude
            .lines()
            .find_map(|l| l.strip_prefix(what))
            .unwrap()
            .trim()
            .to_string()
    };
    // The reset and the vanished client's sessions ended, with what they had exchanged.
    let reset = format!("203.0.113.1 {} 198.51.100.11 7", rude_port("reset "));
    let vanished = format!("203.0.113.1 {} 198.51.100.12 7", rude_port("vanish "));
    assert!(log.contains(&format!("tcp(6) E {reset}: 3 3\n")), "{reset}");
    assert!(
        log.contains(&format!("tcp(6) E {vanished}: 6 6\n")),
        "{vanished}"
    );
}
