//! Prometheus metrics on a local HTTP port: a tiny server on its own thread that answers
//! `GET /metrics` with the latest counters the packet loop published. It reads nothing from
//! the client but the request line (bounded), and every connection has a timeout.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::live::LiveReport;

/// The counters the server shows; the packet loop replaces them as it runs.
pub type Shared = Arc<Mutex<LiveReport>>;

/// Starts serving on `addr` (e.g. `127.0.0.1:9100`; port 0 picks one). Returns the bound
/// address.
pub fn serve(addr: &str, shared: Shared) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr)?;
    let bound = listener.local_addr()?;
    std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            for conn in listener.incoming().flatten() {
                // One slow or hostile client cannot hold the others for long.
                let _ = answer(conn, &shared);
            }
        })?;
    Ok(bound)
}

fn answer(conn: TcpStream, shared: &Shared) -> io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(2)))?;
    conn.set_write_timeout(Some(Duration::from_secs(2)))?;
    let mut line = String::new();
    BufReader::new((&conn).take(4096)).read_line(&mut line)?;
    let mut w = &conn;
    if line.starts_with("GET /metrics ") || line.starts_with("GET / ") {
        let body = render(&shared.lock().map(|r| r.clone()).unwrap_or_default());
        write!(
            w,
            "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    } else {
        w.write_all(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    }
}

/// The Prometheus text format of a report.
pub fn render(r: &LiveReport) -> String {
    let s = &r.engine;
    let mut o = String::with_capacity(2048);
    let mut metric = |name: &str, help: &str, kind: &str, rows: &[(&str, u64)]| {
        o.push_str(&format!(
            "# HELP honeyscope_{name} {help}\n# TYPE honeyscope_{name} {kind}\n"
        ));
        for (labels, v) in rows {
            if labels.is_empty() {
                o.push_str(&format!("honeyscope_{name} {v}\n"));
            } else {
                o.push_str(&format!("honeyscope_{name}{{{labels}}} {v}\n"));
            }
        }
    };
    metric(
        "packets_in_total",
        "Datagrams read, by what became of them.",
        "counter",
        &[
            ("outcome=\"claimed\"", s.claimed),
            ("outcome=\"not_ours\"", s.not_ours),
            ("outcome=\"not_ipv4\"", s.not_ip),
            ("outcome=\"malformed\"", s.malformed),
        ],
    );
    metric(
        "packets_out_total",
        "Replies sent, by kind.",
        "counter",
        &[
            ("reply=\"syn_ack\"", s.syn_acks),
            ("reply=\"rst\"", s.resets),
            ("reply=\"fin_ack\"", s.fins),
            ("reply=\"port_unreachable\"", s.unreachables),
            ("reply=\"echo_reply\"", s.echo_replies),
        ],
    );
    metric(
        "send_errors_total",
        "Replies the device refused.",
        "counter",
        &[("", r.send_errors)],
    );
    metric(
        "handshakes_total",
        "Handshakes completed from a SYN cookie.",
        "counter",
        &[("", s.handshakes)],
    );
    metric(
        "flows_evicted_total",
        "Completed handshakes dropped from a full flow table.",
        "counter",
        &[("", s.flows_evicted)],
    );
    metric(
        "events_written_total",
        "Events written to the logs.",
        "counter",
        &[("", r.logged)],
    );
    metric(
        "events_dropped_total",
        "Events dropped because the log queue was full; log lines lost to failed writes.",
        "counter",
        &[
            ("reason=\"queue_full\"", r.dropped),
            ("reason=\"write_error\"", r.write_failed),
        ],
    );
    metric(
        "queue_depth",
        "Events waiting for the log writer.",
        "gauge",
        &[("", r.queued.saturating_sub(r.logged))],
    );
    metric(
        "sessions",
        "Completed handshakes open: waiting for a first payload, or in a TCP session.",
        "gauge",
        &[("", r.open_flows)],
    );
    metric(
        "tcp_sessions_total",
        "TCP sessions on claimed addresses: opened, and refused (the table was full).",
        "counter",
        &[
            ("outcome=\"opened\"", s.sessions),
            ("outcome=\"refused\"", s.sessions_refused),
        ],
    );
    metric(
        "service_errors_total",
        "Services that ended with an error (the client reset, a timeout).",
        "counter",
        &[("", r.service_errors)],
    );
    metric(
        "service_events_dropped_total",
        "Service events (Telnet sessions' records) dropped: the packet loop's inbox was full.",
        "counter",
        &[("", r.service_events_dropped)],
    );
    if let Some(t) = &r.telnet {
        metric(
            "telnet_sessions_total",
            "Telnet connections served.",
            "counter",
            &[("", t.sessions)],
        );
        metric(
            "telnet_logins_total",
            "Telnet logins that got in.",
            "counter",
            &[("", t.logins)],
        );
        metric(
            "telnet_commands_total",
            "Command lines run in Telnet sessions.",
            "counter",
            &[("", t.commands)],
        );
        metric(
            "telnet_files_total",
            "Files kept from Telnet sessions (written, fetched, transcripts), by outcome.",
            "counter",
            &[
                ("outcome=\"stored\"", t.stored),
                ("outcome=\"error\"", t.store_errors),
            ],
        );
    }
    if let Some(h) = &r.http {
        metric(
            "http_requests_total",
            "HTTP requests answered (malformed ones included).",
            "counter",
            &[("", h.requests)],
        );
        metric(
            "http_exploits_total",
            "HTTP requests recognised as an IoT exploit.",
            "counter",
            &[("", h.exploits)],
        );
        metric(
            "http_downloads_total",
            "Download URLs found in HTTP requests.",
            "counter",
            &[("", h.downloads)],
        );
    }
    if let Some(l) = &r.listen {
        metric(
            "listener_connections_total",
            "Connections to the kernel listeners, by outcome.",
            "counter",
            &[
                ("outcome=\"accepted\"", l.accepted),
                ("outcome=\"refused\"", l.refused),
                ("outcome=\"accept_error\"", l.accept_errors),
            ],
        );
        metric(
            "listener_connections",
            "Connections to the kernel listeners open now.",
            "gauge",
            &[("", l.open)],
        );
    }
    if let Some(d) = r.kernel_drops {
        metric(
            "device_drops_total",
            "Packets the kernel dropped at the device or socket before the sensor read them.",
            "counter",
            &[("", d)],
        );
    }
    if let Some(l) = &r.lan {
        metric(
            "frames_in_total",
            "Ethernet frames read, by what they were.",
            "counter",
            &[
                ("kind=\"ip\"", l.ip),
                ("kind=\"arp\"", l.frames - l.ip - l.ignored),
                ("kind=\"ignored\"", l.ignored),
            ],
        );
        metric(
            "arp_total",
            "ARP: requests for claimed addresses, and what we sent and decided.",
            "counter",
            &[
                ("what=\"request\"", l.arp_requests),
                ("what=\"reply_sent\"", l.arp_replies),
                ("what=\"probe_sent\"", l.arp_probes),
                ("what=\"claimed\"", l.claimed),
                ("what=\"conflict\"", l.conflicts),
            ],
        );
        metric(
            "link_drops_total",
            "Frames not sent: no MAC known for a reply, the interface refused an ARP frame, a full table started over.",
            "counter",
            &[
                ("reason=\"no_neighbour\"", l.no_neighbour),
                ("reason=\"arp_send_error\"", r.link_send_errors),
                ("reason=\"table_reset\"", l.table_resets),
            ],
        );
    }
    o
}
