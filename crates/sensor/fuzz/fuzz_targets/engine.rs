//! The engine on arbitrary packets: the input is a sequence of packets, each prefixed by a
//! one-byte length and aimed at the claimed /24 (its destination rewritten when it is
//! IPv4). Each is also replayed as the handshake's next step, so the cookie, flow and reply
//! paths see hostile bytes too. No packet may panic, every reply must be well-formed IPv4,
//! and the counters must add up.
#![no_main]

use std::sync::OnceLock;

use honeyscope_sensor::{Config, Engine, Output};
use honeyscope_wire::cookie::CookieKey;
use honeyscope_wire::p0f::Database;
use honeyscope_wire::reply::checksum;
use libfuzzer_sys::fuzz_target;

fn db() -> &'static Database {
    static DB: OnceLock<Database> = OnceLock::new();
    DB.get_or_init(Database::builtin)
}

const CONFIG: &str = r#"prefixes = ["198.51.100.0/24"]
default_template = "a"
[templates.a]
personality = "linux-5"
tcp = "open"
udp = "reset"
ports = { "tcp/7" = "echo", "tcp/9" = "discard" }
[templates.b]
personality = "windows-xp"
tcp = "reset"
ports = { "tcp/23" = "telnet", "udp/53" = "open" }
[templates.c]
personality = "freebsd"
tcp = "block"
icmp = "block"
[[bind]]
addresses = "198.51.100.128/26"
template = "b"
[[bind]]
addresses = "198.51.100.192/26"
template = "c"
[limits]
flows = 4
sessions = 2
"#;

/// A segment answering the newest SYN+ACK in `replies` (so that sessions open: the fuzzer
/// cannot guess cookies), carrying `payload` with `flags`.
fn answer(replies: &[Vec<u8>], flags: u8, payload: &[u8]) -> Option<Vec<u8>> {
    let r = replies.iter().rev().find(|r| r.len() >= 40 && r[9] == 6 && r[33] == 0x12)?;
    let tcp = &r[20..];
    let seq = u32::from_be_bytes([tcp[8], tcp[9], tcp[10], tcp[11]]);
    let ack = u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]).wrapping_add(1);
    let mut t = vec![0u8; 20];
    t[0..2].copy_from_slice(&tcp[2..4]);
    t[2..4].copy_from_slice(&tcp[0..2]);
    t[4..8].copy_from_slice(&seq.to_be_bytes());
    t[8..12].copy_from_slice(&ack.to_be_bytes());
    t[12] = 5 << 4;
    t[13] = flags | 0x10;
    t[14..16].copy_from_slice(&8192u16.to_be_bytes());
    t.extend_from_slice(payload);
    let total = (20 + t.len()) as u16;
    let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0];
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&r[16..20]);
    ip.extend_from_slice(&r[12..16]);
    let c = checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    ip.extend(t);
    Some(ip)
}

fuzz_target!(|data: &[u8]| {
    let cfg = Config::parse(CONFIG).expect("the fuzz config loads");
    let mut engine = Engine::new(cfg, db(), CookieKey::new([3; 16]));
    let mut out = Output::default();
    let mut rest = data;
    let mut t = 1_700_000_000_000_000i64;
    while let Some((&len, tail)) = rest.split_first() {
        let n = usize::from(len).min(tail.len());
        let mut pkt = tail[..n].to_vec();
        rest = &tail[n..];
        if pkt.len() >= 20 && pkt[0] >> 4 == 4 {
            pkt[16..19].copy_from_slice(&[198, 51, 100]);
        } else if let [0xff, flags, payload @ ..] = pkt.as_slice() {
            // Complete a handshake (the TCP checksum is not checked by the engine).
            if let Some(a) = answer(&out.replies, *flags & 0x0d, payload) {
                pkt = a;
            }
        }
        engine.packet(t, &pkt, &mut out);
        // The services run on their own thread: wait for them, as a replay does, so an
        // input always gives the same run.
        assert!(engine.settle(t, &mut out));
        t += i64::from(len) * 7_000_000;
        engine.poll(t, &mut out);
    }
    engine.finish(t, &mut out);
    for r in &out.replies {
        assert!(r.len() >= 20 && r[0] == 0x45, "a reply is IPv4");
        assert_eq!(checksum(&r[..20]), 0, "its header checksum holds");
    }
    let s = engine.stats();
    assert_eq!(s.packets, s.claimed + s.not_ours + s.not_ip + s.malformed);
    assert!(engine.open_flows() == 0);
    assert!(engine.open_sessions() == 0, "finish ends every session");
});
