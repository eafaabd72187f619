//! `honeyscope sense --interface`: the sensor on an Ethernet interface (AF_PACKET) of a LAN
//! the test makes from network namespaces and a bridge, answering ARP for its addresses.

mod common;

use std::path::Path;

use common::{have, ip, text, Dump, Killed};

/// A LAN the test makes: a bridge in the client's namespace (198.51.100.1/24), with a port
/// to the sensor's namespace (its interface has no address) and one to another host that
/// owns 198.51.100.20. Removed when dropped.
struct Lan {
    client: String,
    sensor: String,
    other: String,
}

impl Lan {
    fn new() -> Option<Lan> {
        let id = std::process::id();
        let lan = Lan {
            client: format!("hslan-c{id}"),
            sensor: format!("hslan-s{id}"),
            other: format!("hslan-o{id}"),
        };
        let (c, s, o) = (lan.client.as_str(), lan.sensor.as_str(), lan.other.as_str());
        let steps: [&[&str]; 19] = [
            &["netns", "add", c],
            &["netns", "add", s],
            &["netns", "add", o],
            &["-n", c, "link", "add", "br0", "type", "bridge"],
            &["-n", c, "addr", "add", "198.51.100.1/24", "dev", "br0"],
            &[
                "link", "add", "hsls", "netns", c, "type", "veth", "peer", "name", "lan0", "netns",
                s,
            ],
            &[
                "link", "add", "hslo", "netns", c, "type", "veth", "peer", "name", "lan0", "netns",
                o,
            ],
            &["-n", c, "link", "set", "hsls", "master", "br0"],
            &["-n", c, "link", "set", "hslo", "master", "br0"],
            &["-n", o, "addr", "add", "198.51.100.20/24", "dev", "lan0"],
            &["-n", c, "link", "set", "br0", "up"],
            &["-n", c, "link", "set", "hsls", "up"],
            &["-n", c, "link", "set", "hslo", "up"],
            &["-n", o, "link", "set", "lan0", "up"],
            &["-n", c, "link", "set", "lo", "up"],
            &["-n", s, "link", "set", "lo", "up"],
            &["-n", o, "link", "set", "lo", "up"],
            // The sensor's side comes up with the sensor; IPv6 stays quiet on it.
            &["-n", s, "link", "set", "lan0", "down"],
            &[
                "-n",
                c,
                "link",
                "set",
                "br0",
                "type",
                "bridge",
                "stp_state",
                "0",
            ],
        ];
        for args in steps {
            if !ip(args) {
                return None;
            }
        }
        Some(lan)
    }

    fn in_ns(&self, ns: &str, args: &[&str]) -> std::process::Output {
        std::process::Command::new("ip")
            .args(["netns", "exec", ns])
            .args(args)
            .output()
            .unwrap()
    }

    fn mac(&self, ns: &str, dev: &str) -> String {
        let out = self.in_ns(ns, &["cat", &format!("/sys/class/net/{dev}/address")]);
        text(&out.stdout).trim().to_string()
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for ns in [&self.client, &self.sensor, &self.other] {
            let _ = std::process::Command::new("ip")
                .args(["netns", "del", ns])
                .status();
        }
    }
}

/// The sensor on an Ethernet interface (AF_PACKET) of a LAN the test makes. With the probe
/// policy it takes the claimed addresses nobody answers for and leaves alone the one another
/// host owns; `ping` and `nc` get their answers from the sensor's MAC, and tshark reads
/// from the client's capture that every ARP answer for the sensor's addresses, and none for
/// the other host's or an unclaimed one, came from it. With the `all` policy it answers at
/// once, without probing.
#[test]
fn live_on_an_ethernet_interface_answering_arp() {
    if !(have("ip") && have("ping") && have("nc") && have("tcpdump") && have("tshark")) {
        return;
    }
    let Some(lan) = Lan::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("lan.toml");
    std::fs::write(
        &cfg,
        "prefixes = [\"198.51.100.16/28\"]\n\
         [templates.t]\npersonality = \"linux-2.6\"\ntcp = \"reset\"\n\
         [templates.t.ports]\n\"tcp/80\" = \"open\"\n",
    )
    .unwrap();
    let start = |policy: &str, logs: &Path| {
        Killed(
            std::process::Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    &lan.sensor,
                    env!("CARGO_BIN_EXE_honeyscope"),
                ])
                .args([
                    "sense",
                    "--interface",
                    "lan0",
                    "--arp",
                    policy,
                    "--tz",
                    "UTC",
                ])
                .arg("--config")
                .arg(&cfg)
                .arg("--log-dir")
                .arg(logs)
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap(),
        )
    };
    let ping = |addr: &str, count: &str| -> String {
        let out = lan.in_ns(&lan.client, &["ping", "-n", "-c", count, "-W", "2", addr]);
        text(&out.stdout)
    };
    let wait_up = || {
        for _ in 0..100 {
            let out = lan.in_ns(&lan.sensor, &["ip", "-br", "link", "show", "lan0"]);
            if text(&out.stdout).contains("UP") {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the sensor did not bring lan0 up");
    };

    let logs = dir.path().join("probe");
    let cap = dir.path().join("client.pcap");
    let mut tcpdump = std::process::Command::new("ip");
    tcpdump.args(["netns", "exec", &lan.client, "tcpdump"]);
    let dump = Dump::start(tcpdump, "br0", &cap, "arp or icmp or tcp");
    let sensor = start("probe", &logs);
    wait_up();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let sensor_mac = lan.mac(&lan.sensor, "lan0");
    let other_mac = lan.mac(&lan.other, "lan0");

    // 198.51.100.17: nobody owns it; the sensor probes, takes it and answers.
    let said = ping("198.51.100.17", "3");
    assert!(
        said.contains("3 received") || said.contains("2 received"),
        "{said}"
    );
    // 198.51.100.20 belongs to the other host: it answers, the sensor stays out of it.
    assert!(ping("198.51.100.20", "1").contains("1 received"));
    // Port 80 is open (the handshake completes from the cookie), 22 resets.
    let nc = |addr: &str, port: &str| {
        lan.in_ns(&lan.client, &["nc", "-z", "-w", "3", addr, port])
            .status
            .success()
    };
    assert!(
        nc("198.51.100.18", "80"),
        "no handshake on 198.51.100.18:80"
    );
    assert!(!nc("198.51.100.18", "22"));
    // An address outside the claimed /28 gets no answer from anyone.
    assert!(ping("198.51.100.50", "1").contains("0 received"));
    let neigh = text(
        &lan.in_ns(&lan.client, &["ip", "neigh", "show", "dev", "br0"])
            .stdout,
    );
    assert!(
        neigh.contains(&format!("198.51.100.17 lladdr {sensor_mac}"))
            && neigh.contains(&format!("198.51.100.18 lladdr {sensor_mac}"))
            && neigh.contains(&format!("198.51.100.20 lladdr {other_mac}")),
        "{neigh}"
    );
    let report = sensor.terminate();
    dump.stop();
    assert!(
        report.contains("1 handshakes completed") && report.contains("2 addresses taken"),
        "{report}"
    );
    assert!(report.contains("1 conflicts"), "{report}");

    // Every ARP answer the client saw, by sender: the sensor's for .17 and .18 only.
    let out = std::process::Command::new("tshark")
        .args([
            "-r",
            cap.to_str().unwrap(),
            "-Y",
            "arp.opcode == 2",
            "-T",
            "fields",
        ])
        .args(["-e", "arp.src.hw_mac", "-e", "arp.src.proto_ipv4"])
        .output()
        .unwrap();
    let answers: std::collections::BTreeSet<String> = text(&out.stdout)
        .lines()
        .map(|l| l.replace('\t', " "))
        .collect();
    let want: std::collections::BTreeSet<String> = [
        format!("{sensor_mac} 198.51.100.17"),
        format!("{sensor_mac} 198.51.100.18"),
        format!("{other_mac} 198.51.100.20"),
    ]
    .into_iter()
    .collect();
    assert_eq!(answers, want, "{}", text(&out.stderr));
    // The sensor's replies carry its personality (Linux 2.6: TTL 64) and its MAC.
    let out = std::process::Command::new("tshark")
        .args(["-r", cap.to_str().unwrap(), "-Y"])
        .arg(format!("eth.src == {sensor_mac} && ip"))
        .args([
            "-T",
            "fields",
            "-e",
            "ip.src",
            "-e",
            "ip.ttl",
            "-e",
            "_ws.col.Info",
        ])
        .output()
        .unwrap();
    let replies = text(&out.stdout);
    assert!(
        replies.contains("198.51.100.17\t64\tEcho (ping) reply")
            && replies.contains("198.51.100.18\t64\t80 → ")
            && replies.contains("[RST, ACK]"),
        "{replies}"
    );
    assert!(!replies.contains("198.51.100.20"), "{replies}");
    let log = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect::<String>();
    assert!(
        log.contains("icmp(1) - 198.51.100.1 198.51.100.17: 8(0)"),
        "{log}"
    );
    assert!(log.contains("tcp(6) S 198.51.100.1 "), "{log}");
    assert!(!log.contains("198.51.100.20"), "{log}");

    // The `all` policy: answered at once, no probes.
    let logs = dir.path().join("all");
    let sensor = start("all", &logs);
    wait_up();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(ping("198.51.100.19", "2").contains("2 received"));
    let report = sensor.terminate();
    assert!(report.contains(" 0 probes, 0 addresses taken"), "{report}");
}
