//! The Telnet service against Mirai's scanner and loader dialogs (as `telnet::bot` replays
//! them from reading Mirai's public source), on loopback TCP: what a real device would
//! answer, and what the session records and keeps.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use honeyscope_event::{Event, SessionEvent, SessionEventId};
use honeyscope_services::capture::sha256_hex;
use honeyscope_services::device::Profile;
use honeyscope_services::elf::{self, Arch};
use honeyscope_services::fetch::{FetchLimits, Fetcher};
use honeyscope_services::shell::Device;
use honeyscope_services::telnet::auth::{Auth, Policy};
use honeyscope_services::telnet::bot::{self, Bot, Pace};
use honeyscope_services::telnet::service::{collecting_sink, TelnetService, TelnetStats};
use honeyscope_services::telnet::session::SessionLimits;
use honeyscope_services::{asciicast, capture::Store, Conn, ConnInfo, Limits, Service};

/// A Telnet service on 127.0.0.1 answering as `profile`, on a runtime thread of its own.
struct Server {
    addr: SocketAddr,
    events: Arc<Mutex<Vec<Event>>>,
    dir: tempfile::TempDir,
    /// Runs the listener until the test ends.
    _rt: tokio::runtime::Runtime,
}

fn start(profile: &str, policy: Policy, fetch: Option<FetchLimits>) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let (sink, events) = collecting_sink();
    let svc = Arc::new(TelnetService {
        auth: Mutex::new(Auth::new(policy, 3_600_000_000)),
        limits: SessionLimits::default(),
        lifetime: Duration::from_secs(60),
        artifacts: Some(Store::open(&dir.path().join("artifacts")).unwrap()),
        transcripts: Some(dir.path().join("sessions")),
        transcript_bytes: 1 << 20,
        fetcher: fetch.map(|f| Arc::new(Fetcher::new(f))),
        events: sink,
        sensor: Some("test".into()),
        stats: TelnetStats::default(),
    });
    let device = Device::new(Profile::builtin_named(profile).unwrap().clone());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move {
        loop {
            let Ok((sock, peer)) = listener.accept().await else {
                return;
            };
            sock.set_nodelay(true).unwrap();
            let conn = Conn {
                info: ConnInfo {
                    peer,
                    local: SocketAddr::new(addr.ip(), 23),
                },
                limits: Limits {
                    idle: Duration::from_secs(20),
                },
                device: Some(device.clone()),
                telnet: Some(svc.clone()),
                http: None,
            };
            tokio::spawn(async move {
                let _ = Service::Telnet.serve(sock, conn).await;
            });
        }
    });
    Server {
        addr,
        events,
        dir,
        _rt: rt,
    }
}

impl Server {
    fn bot(&self, pace: Pace) -> Bot<TcpStream> {
        let s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.set_nodelay(true).unwrap();
        Bot::new(s, pace)
    }

    /// The session events, once `n` sessions have closed.
    fn sessions_closed(&self, n: usize) -> Vec<SessionEvent> {
        let t = std::time::Instant::now();
        loop {
            let evs: Vec<SessionEvent> = self
                .events
                .lock()
                .unwrap()
                .iter()
                .filter_map(|e| match e {
                    Event::Session(s) => Some((**s).clone()),
                    _ => None,
                })
                .collect();
            if evs
                .iter()
                .filter(|e| e.eventid == SessionEventId::Closed)
                .count()
                >= n
            {
                return evs;
            }
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "sessions not closed: {evs:#?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

fn of(evs: &[SessionEvent], id: SessionEventId) -> Vec<&SessionEvent> {
    evs.iter().filter(|e| e.eventid == id).collect()
}

/// A dropper as Mirai's `dlr` is: a small ELF for the CPU with its download server's
/// address in a `sockaddr_in`.
fn dropper(arch: Arch) -> Vec<u8> {
    let mut d = elf::binary(arch, 900);
    let at = 600;
    d[at..at + 16].copy_from_slice(&[2, 0, 0, 80, 203, 0, 113, 9, 0, 0, 0, 0, 0, 0, 0, 0]);
    // Bytes a terminal or Telnet must carry untouched.
    d[700..706].copy_from_slice(&[0xff, 0xff, b'\n', b'\r', 0, 0x0d]);
    d
}

#[test]
fn the_scanner_finds_a_dvr_and_its_login_is_recorded() {
    for pace in [Pace::Whole, Pace::Split(3)] {
        let srv = start("dvr", Policy::AcceptAll, None);
        let mut b = srv.bot(pace);
        let found = bot::scan(&mut b, "root", "xc3511", "MIRAI").unwrap();
        assert!(found.verified);
        let text = String::from_utf8_lossy(&found.text);
        assert!(text.contains("login: "), "{text}");
        assert!(text.contains("-sh: enable: not found"), "{text}");
        assert!(text.contains("MIRAI: applet not found"), "{text}");
        drop(b);
        let evs = srv.sessions_closed(1);
        assert_eq!(evs[0].eventid, SessionEventId::Connect);
        let login = of(&evs, SessionEventId::LoginSuccess);
        assert_eq!(login[0].username.as_deref(), Some("root"));
        assert_eq!(login[0].password.as_deref(), Some("xc3511"));
        let size = of(&evs, SessionEventId::ClientSize);
        assert_eq!((size[0].width, size[0].height), (Some(80), Some(24)));
        let inputs: Vec<&str> = of(&evs, SessionEventId::CommandInput)
            .iter()
            .filter_map(|e| e.input.as_deref())
            .collect();
        assert_eq!(
            inputs,
            ["enable", "system", "shell", "sh", "/bin/busybox MIRAI"]
        );
        let failed: Vec<&str> = of(&evs, SessionEventId::CommandFailed)
            .iter()
            .filter_map(|e| e.input.as_deref())
            .collect();
        assert_eq!(failed, ["enable", "system", "shell"]);
        assert!(evs
            .iter()
            .all(|e| e.profile.as_deref() == Some("dvr") && e.dport == 23));
        // The transcript is there, and plays back what the bot saw.
        let closed = of(&evs, SessionEventId::LogClosed);
        let cast = std::fs::read(closed[0].ttylog.as_deref().unwrap()).unwrap();
        let cast = asciicast::parse(&cast).unwrap();
        let mut screen = Vec::new();
        asciicast::play(&cast, &mut screen, 1.0, Duration::ZERO, &mut |_| {}).unwrap();
        assert!(String::from_utf8_lossy(&screen).contains("MIRAI: applet not found"));
    }
}

#[test]
fn the_router_cli_lets_the_scanner_through_to_busybox() {
    let srv = start("router", Policy::AcceptAll, None);
    let mut b = srv.bot(Pace::Whole);
    let found = bot::scan(&mut b, "admin", "admin", "OKIRU").unwrap();
    assert!(found.verified);
    let text = String::from_utf8_lossy(&found.text);
    assert!(text.contains("ZXHN H108N>"), "{text}");
    assert!(text.contains("built-in shell (ash)"), "{text}");
}

#[test]
fn the_loader_echoes_its_dropper_onto_a_dvr_and_we_keep_it() {
    for pace in [Pace::Whole, Pace::Split(7)] {
        let srv = start("dvr", Policy::RejectThenAccept(0), None);
        let mut b = srv.bot(pace);
        let d = dropper(Arch::Arm);
        let got = bot::load(&mut b, "root", "vizxv", "ECCHI", &d, "203.0.113.9:80").unwrap();
        assert_eq!(got.arch, "arm7", "the DVR is an ARMv7");
        assert_eq!(got.method, "echo", "the DVR has no wget or tftp");
        assert!(
            ["/var", "/tmp", "/dev", "/mnt"]
                .iter()
                .any(|p| got.dir.starts_with(p)),
            "{got:?}"
        );
        let text = String::from_utf8_lossy(&b.transcript).to_string();
        assert!(text.contains("wget: applet not found"), "{text}");
        assert!(text.contains("kami/dev"), "{text}");
        drop(b);
        let evs = srv.sessions_closed(1);
        let uploads = of(&evs, SessionEventId::FileUpload);
        let up = uploads
            .iter()
            .find(|e| e.filename.as_deref().is_some_and(|f| f.ends_with("/upnp")))
            .unwrap_or_else(|| panic!("no upnp upload in {uploads:#?}"));
        assert_eq!(up.shasum.as_deref(), Some(sha256_hex(&d).as_str()));
        assert_eq!(up.size, Some(d.len() as u64));
        assert_eq!(up.arch.as_deref(), Some("arm"));
        assert_eq!(up.callback.as_deref(), Some("203.0.113.9:80"));
        let stored = std::fs::read(up.outfile.as_deref().unwrap()).unwrap();
        assert_eq!(stored, d, "the dropper's bytes, exactly");
        assert!(up
            .outfile
            .as_deref()
            .unwrap()
            .starts_with(srv.path().to_str().unwrap()));
    }
}

#[test]
fn the_loader_asks_a_camera_to_wget_and_the_url_is_an_event() {
    let srv = start("ipcam", Policy::AcceptAll, None);
    let mut b = srv.bot(Pace::Whole);
    let got = bot::load(&mut b, "root", "xmhdipc", "ECCHI", b"", "203.0.113.9:8080").unwrap();
    assert_eq!((got.arch.as_str(), got.method.as_str()), ("mpsl", "wget"));
    drop(b);
    let evs = srv.sessions_closed(1);
    let dl = of(&evs, SessionEventId::FileDownload);
    let dl = dl[0];
    assert_eq!(
        dl.url.as_deref(),
        Some("http://203.0.113.9:8080/bins/mirai.mpsl")
    );
    assert_eq!(dl.host.as_deref(), Some("203.0.113.9"));
    assert_eq!(dl.port, Some(8080));
    assert_eq!(dl.method.as_deref(), Some("wget"));
    assert!(dl.shasum.is_none(), "nothing is fetched by default");
}

#[test]
fn with_fetching_on_the_file_is_fetched_and_stored() {
    // An HTTP server of the test's own, on loopback.
    let payload: Vec<u8> = dropper(Arch::Mipsel);
    let http = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let http_addr = http.local_addr().unwrap();
    let served = payload.clone();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for s in http.incoming() {
            let Ok(mut s) = s else { return };
            let mut req = [0u8; 1024];
            let _ = s.read(&mut req);
            let head = format!(
                "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n",
                served.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&served);
        }
    });
    let limits = FetchLimits {
        allow_local: true,
        ..FetchLimits::default()
    };
    let srv = start("ipcam", Policy::AcceptAll, Some(limits));
    let mut b = srv.bot(Pace::Whole);
    bot::load(
        &mut b,
        "root",
        "xmhdipc",
        "ECCHI",
        b"",
        &http_addr.to_string(),
    )
    .unwrap();
    drop(b);
    let evs = srv.sessions_closed(1);
    let dl = of(&evs, SessionEventId::FileDownload);
    assert_eq!(
        dl[0].shasum.as_deref(),
        Some(sha256_hex(&payload).as_str()),
        "{dl:#?}"
    );
    assert_eq!(dl[0].arch.as_deref(), Some("mipsel"));
    assert_eq!(
        std::fs::read(dl[0].outfile.as_deref().unwrap()).unwrap(),
        payload
    );
}
