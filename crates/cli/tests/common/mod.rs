//! Helpers the CLI's integration tests share: running the binary, checking for the real
//! tools, tcpdump, and network namespaces.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

pub fn honeyscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_honeyscope"))
        .args(args)
        .output()
        .expect("run honeyscope")
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The Honeyd log lines a sensor wrote into `dir` (every `.log` file, in one string).
pub fn honeyd_log(dir: &Path) -> String {
    logs(dir, "log")
}

/// The JSON lines a sensor wrote into `dir` (every `.jsonl` file, in one string).
pub fn json_log(dir: &Path) -> String {
    logs(dir, "jsonl")
}

/// The JSON events a sensor logged into `dir`, once `n` of them match `counted` (within
/// 20 s, else the test fails showing the log).
pub fn json_events_once(
    dir: &Path,
    n: usize,
    counted: impl Fn(&serde_json::Value) -> bool,
) -> Vec<serde_json::Value> {
    let t = std::time::Instant::now();
    loop {
        let text = json_log(dir);
        let evs: Vec<serde_json::Value> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        if evs.iter().filter(|e| counted(e)).count() >= n {
            return evs;
        }
        assert!(
            t.elapsed() < std::time::Duration::from_secs(20),
            "fewer than {n} such events: {text}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn logs(dir: &Path, ext: &str) -> String {
    std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == ext))
                .map(|p| std::fs::read_to_string(p).unwrap())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `tool` runs; with `HONEYSCOPE_REQUIRE_TOOLS` set (CI) it must.
pub fn have(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    assert!(
        ok || std::env::var_os("HONEYSCOPE_REQUIRE_TOOLS").is_none(),
        "{tool} missing"
    );
    ok
}

/// A tcpdump writing a capture, started from `cmd` (`tcpdump`, or `ip netns exec NS
/// tcpdump`) once it says it listens.
pub struct Dump(Child);

impl Dump {
    pub fn start(mut cmd: Command, iface: &str, cap: &Path, filter: &str) -> Dump {
        let mut child = cmd
            .args([
                "-i",
                iface,
                "--immediate-mode",
                "-U",
                "-n",
                "-Z",
                "root",
                "-w",
            ])
            .arg(cap)
            .arg(filter)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        while stderr.read_line(&mut line).unwrap() > 0 && !line.contains("listening on") {
            line.clear();
        }
        Dump(child)
    }

    /// SIGINT: tcpdump writes out what it holds and exits.
    pub fn stop(mut self) {
        std::thread::sleep(std::time::Duration::from_millis(500));
        let _ = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

/// Runs `ip ARGS`; false (and, under HONEYSCOPE_REQUIRE_TOOLS, a failed test) if it fails.
pub fn ip(args: &[&str]) -> bool {
    let ok = Command::new("ip")
        .args(args)
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok || std::env::var_os("HONEYSCOPE_REQUIRE_TOOLS").is_none(),
        "ip {args:?} failed (needs root and iproute2)"
    );
    ok
}

/// Two network namespaces, "client" and "server", joined by a veth pair (`<tag>c` in the
/// client, `<tag>s` in the server) with the given addresses, removed when dropped.
pub struct Namespaces {
    pub client: String,
    pub server: String,
    /// The veth ends: (client's, server's).
    pub links: (String, String),
}

impl Namespaces {
    /// `tag` keeps tests that run at once apart (2 or 3 letters).
    pub fn new(tag: &str, client_addr: &str, server_addr: &str) -> Option<Namespaces> {
        let id = std::process::id();
        let ns = Namespaces {
            client: format!("hs{tag}-c{id}"),
            server: format!("hs{tag}-s{id}"),
            links: (format!("{tag}c"), format!("{tag}s")),
        };
        let (c, s) = (ns.client.as_str(), ns.server.as_str());
        let (lc, ls) = (ns.links.0.as_str(), ns.links.1.as_str());
        let steps: [&[&str]; 9] = [
            &["netns", "add", c],
            &["netns", "add", s],
            &[
                "link", "add", lc, "netns", c, "type", "veth", "peer", "name", ls, "netns", s,
            ],
            &["-n", c, "addr", "add", client_addr, "dev", lc],
            &["-n", s, "addr", "add", server_addr, "dev", ls],
            &["-n", c, "link", "set", lc, "up"],
            &["-n", s, "link", "set", ls, "up"],
            &["-n", c, "link", "set", "lo", "up"],
            &["-n", s, "link", "set", "lo", "up"],
        ];
        for args in steps {
            if !ns.ip(args) {
                return None;
            }
        }
        Some(ns)
    }

    /// Runs `ip ARGS` ([`ip`]).
    pub fn ip(&self, args: &[&str]) -> bool {
        ip(args)
    }

    pub fn exec(&self, ns: &str, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns]).args(args);
        c
    }

    /// The MAC address of the server's end.
    pub fn server_mac(&self) -> String {
        let out = Command::new("ip")
            .args(["-n", &self.server, "-br", "link", "show", &self.links.1])
            .output()
            .unwrap();
        text(&out.stdout)
            .split_whitespace()
            .nth(2)
            .unwrap_or_default()
            .to_string()
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for ns in [&self.client, &self.server] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// A child process killed (and reaped) when dropped: a sensor a failing test leaves behind.
pub struct Killed(pub Child);

impl Killed {
    /// SIGTERM, then the exit: what the process wrote on standard error (piped), after
    /// asserting it exited cleanly.
    pub fn terminate(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let status = self.0.wait().unwrap();
        let mut report = String::new();
        if let Some(err) = self.0.stderr.as_mut() {
            std::io::Read::read_to_string(err, &mut report).unwrap();
        }
        assert!(status.success(), "{report}");
        report
    }
}

/// `honeyscope sense --tun DEV --route --tz UTC ARGS…` in namespace `ns` (stderr piped),
/// once it has routed 198.51.100.0/24 to its device.
pub fn tun_sensor(ns: &str, dev: &str, args: &[&std::ffi::OsStr]) -> Killed {
    let sensor = Killed(
        Command::new("ip")
            .args(["netns", "exec", ns, env!("CARGO_BIN_EXE_honeyscope")])
            .args(["sense", "--tun", dev, "--route", "--tz", "UTC"])
            .args(args)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    for _ in 0..100 {
        let out = Command::new("ip")
            .args(["-n", ns, "route", "show", "198.51.100.0/24"])
            .output()
            .unwrap();
        if text(&out.stdout).contains(&format!("dev {dev}")) {
            return sensor;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the sensor did not route 198.51.100.0/24 to {dev}");
}

/// A sensor on TUN device `dev` in namespace `ns` with config `toml`, logging into a
/// temporary directory: the sensor, the directory (kept while the test runs), the log
/// directory.
pub fn tun_sensor_with(
    ns: &str,
    dev: &str,
    toml: &str,
) -> (Killed, tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("sensor.toml");
    std::fs::write(&cfg, toml).unwrap();
    let logs = dir.path().join("logs");
    let sensor = tun_sensor(
        ns,
        dev,
        &[
            "--keep-root".as_ref(),
            "--config".as_ref(),
            cfg.as_os_str(),
            "--log-dir".as_ref(),
            logs.as_os_str(),
        ],
    );
    (sensor, dir, logs)
}

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A network namespace of the test's own, deleted when dropped.
pub struct Netns(pub String);

impl Netns {
    /// Adds namespace `name` with its loopback up; `None` (a failed test under
    /// HONEYSCOPE_REQUIRE_TOOLS) when it cannot.
    pub fn add(name: String) -> Option<Netns> {
        if !ip(&["netns", "add", &name]) {
            return None;
        }
        let ns = Netns(name);
        ip(&["-n", &ns.0, "link", "set", "lo", "up"]).then_some(ns)
    }

    /// Adds namespace `name` with the clients' own address, 203.0.113.1, on its loopback
    /// (a TUN device holds no address).
    pub fn with_client(name: String) -> Option<Netns> {
        let ns = Netns::add(name)?;
        ip(&["-n", &ns.0, "addr", "add", "203.0.113.1/32", "dev", "lo"]).then_some(ns)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// Joins the calling thread to network namespace `ns`.
pub fn enter(ns: &str) {
    let f = std::fs::File::open(format!("/var/run/netns/{ns}")).unwrap();
    // SAFETY: setns on a descriptor we hold; it changes only this thread's namespace.
    let rc = unsafe { libc::setns(std::os::fd::AsRawFd::as_raw_fd(&f), libc::CLONE_NEWNET) };
    assert_eq!(rc, 0, "setns {ns}: {}", std::io::Error::last_os_error());
}
