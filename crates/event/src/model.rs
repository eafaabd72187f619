//! The event model: one enum for everything a sensor records.
//!
//! Field by field documentation, with each format's projection, is in `docs/EVENTS.md`.
//! Packet-level records mirror what Honeyd logs; session records (logins, commands,
//! downloads) and HTTP requests are variants of [`Event`] too.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use crate::proto;
use crate::time::Timestamp;

/// One record of what a sensor saw or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A packet, or the start or end of a flow (Honeyd's `-`, `S` and `E` lines).
    Packet(PacketEvent),
    /// The packet log was opened or closed (Honeyd's `honeyd log started ------`).
    Lifecycle(LifecycleEvent),
    /// The first bytes a client sent on a connection the sensor accepted (no Honeyd line).
    Payload(PayloadEvent),
    /// Something that happened in an interactive session (a Telnet login, a command, a
    /// download), with Cowrie's `eventid` (no Honeyd line). Boxed: it is rare and large,
    /// and every packet's event would otherwise be as large as it.
    Session(Box<SessionEvent>),
    /// One HTTP request (or a malformed one) to the web service, with what it exploits
    /// (no Honeyd line). Boxed, like a session event.
    Http(Box<HttpEvent>),
}

impl From<SessionEvent> for Event {
    fn from(s: SessionEvent) -> Self {
        Event::Session(Box::new(s))
    }
}

impl From<HttpEvent> for Event {
    fn from(h: HttpEvent) -> Self {
        Event::Http(Box::new(h))
    }
}

impl Event {
    /// When it happened.
    pub fn time(&self) -> Timestamp {
        match self {
            Event::Packet(p) => p.time,
            Event::Lifecycle(l) => l.time,
            Event::Payload(d) => d.time,
            Event::Session(s) => s.time,
            Event::Http(h) => h.time,
        }
    }

    /// Which sensor recorded it, if known.
    pub fn sensor(&self) -> Option<&Arc<str>> {
        match self {
            Event::Packet(p) => p.sensor.as_ref(),
            Event::Lifecycle(l) => l.sensor.as_ref(),
            Event::Payload(d) => d.sensor.as_ref(),
            Event::Session(s) => s.sensor.as_ref(),
            Event::Http(h) => h.sensor.as_ref(),
        }
    }

    /// Sets the sensor id (for inputs such as Honeyd logs that do not carry one).
    pub fn set_sensor(&mut self, sensor: Option<Arc<str>>) {
        match self {
            Event::Packet(p) => p.sensor = sensor,
            Event::Lifecycle(l) => l.sensor = sensor,
            Event::Payload(d) => d.sensor = sensor,
            Event::Session(s) => s.sensor = sensor,
            Event::Http(h) => h.sensor = sensor,
        }
    }
}

/// What a packet-level record says about the flow it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketKind {
    /// A packet that starts or belongs to no flow the sensor tracks (Honeyd `-`).
    Probe,
    /// A flow (TCP connection or UDP conversation) began (Honeyd `S`).
    FlowStart,
    /// A flow ended, with its byte counts (Honeyd `E`).
    FlowEnd,
}

impl PacketKind {
    /// The stable name used in JSON and Parquet: `probe`, `flow_start`, `flow_end`.
    pub const fn as_str(self) -> &'static str {
        match self {
            PacketKind::Probe => "probe",
            PacketKind::FlowStart => "flow_start",
            PacketKind::FlowEnd => "flow_end",
        }
    }

    /// The inverse of [`PacketKind::as_str`].
    pub fn from_name(s: &str) -> Option<PacketKind> {
        match s {
            "probe" => Some(PacketKind::Probe),
            "flow_start" => Some(PacketKind::FlowStart),
            "flow_end" => Some(PacketKind::FlowEnd),
            _ => None,
        }
    }
}

/// A packet-level record. Which optional fields are set depends on the protocol and kind;
/// `docs/EVENTS.md` has the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketEvent {
    /// When the packet arrived (UTC, microseconds).
    pub time: Timestamp,
    /// The sensor that saw it; `None` for inputs that do not say (Honeyd logs, captures)
    /// unless the operator named one when ingesting.
    pub sensor: Option<Arc<str>>,
    /// Probe, flow start or flow end.
    pub kind: PacketKind,
    /// IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, 47 GRE, …).
    pub proto: u8,
    /// The protocol's name as the source logged it, when it differs from the name honeyscope
    /// uses for that number ([`crate::proto::name`]); `None` otherwise. See [`Self::proto_name`].
    pub proto_label: Option<Box<str>>,
    /// Source address: the remote host that sent the packet.
    pub src: IpAddr,
    /// Destination address: the (claimed) address it was sent to.
    pub dst: IpAddr,
    /// Source port (TCP and UDP).
    pub sport: Option<u16>,
    /// Destination port (TCP and UDP).
    pub dport: Option<u16>,
    /// ICMP type (ICMP and ICMPv6 probes).
    pub icmp_type: Option<u8>,
    /// ICMP code (ICMP and ICMPv6 probes).
    pub icmp_code: Option<u8>,
    /// Length of the IP packet in bytes, header included (probes).
    pub ip_len: Option<u32>,
    /// TCP flags of the packet (TCP probes).
    pub tcp_flags: Option<TcpFlags>,
    /// Payload bytes received from the source during the flow (flow ends).
    pub rx_bytes: Option<u64>,
    /// Payload bytes sent to the source during the flow (flow ends).
    pub tx_bytes: Option<u64>,
    /// The source's operating system as passive fingerprinting labelled it, verbatim
    /// (Honeyd's `[Linux 2.6 ]` keeps its trailing space). Shared, since a sensor puts
    /// the same few labels on every packet.
    pub os: Option<Arc<str>>,
    /// A free-text remark, such as Honeyd's `Honeyd Scanner?`.
    pub remark: Option<Box<str>>,
}

impl PacketEvent {
    /// A record with only the always-present fields set.
    pub fn new(time: Timestamp, kind: PacketKind, proto: u8, src: IpAddr, dst: IpAddr) -> Self {
        PacketEvent {
            time,
            sensor: None,
            kind,
            proto,
            proto_label: None,
            src,
            dst,
            sport: None,
            dport: None,
            icmp_type: None,
            icmp_code: None,
            ip_len: None,
            tcp_flags: None,
            rx_bytes: None,
            tx_bytes: None,
            os: None,
            remark: None,
        }
    }

    /// A probe record for one packet as a telescope sees it: the ports for TCP and UDP,
    /// the type and code for ICMP, the flags for TCP.
    #[allow(clippy::too_many_arguments)]
    pub fn probe(
        time: Timestamp,
        proto: u8,
        src: IpAddr,
        dst: IpAddr,
        ports: Option<(u16, u16)>,
        icmp: Option<(u8, u8)>,
        ip_len: u32,
        tcp_flags: Option<u8>,
    ) -> Self {
        let mut p = PacketEvent::new(time, PacketKind::Probe, proto, src, dst);
        p.sport = ports.map(|p| p.0);
        p.dport = ports.map(|p| p.1);
        p.icmp_type = icmp.map(|i| i.0);
        p.icmp_code = icmp.map(|i| i.1);
        p.ip_len = Some(ip_len);
        p.tcp_flags = tcp_flags.map(TcpFlags);
        p
    }

    /// The protocol's name: as logged, else honeyscope's name for the number.
    pub fn proto_name(&self) -> &str {
        self.proto_label
            .as_deref()
            .unwrap_or(proto::name(self.proto))
    }

    /// Sets the protocol name, keeping it only when it differs from the default one. An
    /// empty name says nothing (and a Honeyd line cannot hold one), so it means the default.
    pub fn set_proto_name(&mut self, name: &str) {
        self.proto_label =
            (!name.is_empty() && name != proto::name(self.proto)).then(|| name.into());
    }
}

/// The first payload of a connection the sensor accepted: what a two-phase scanner sends
/// once the handshake completes (Spoki's observation). Kept whole only as a digest; its
/// head is kept escaped and bounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadEvent {
    /// When it arrived.
    pub time: Timestamp,
    /// The sensor that took it.
    pub sensor: Option<Arc<str>>,
    /// IP protocol (6).
    pub proto: u8,
    /// The client.
    pub src: IpAddr,
    /// The client's port.
    pub sport: u16,
    /// Our (claimed) address.
    pub dst: IpAddr,
    /// Our port.
    pub dport: u16,
    /// Payload bytes in the segment.
    pub size: u64,
    /// SHA-256 of those bytes, lowercase hex.
    pub sha256: Box<str>,
    /// The first bytes (at most the sensor's `payload_bytes`), printable ASCII as is,
    /// `\\` for a backslash and `\xNN` for every other byte.
    pub head: Box<str>,
}

/// What happened in an interactive session, named as Cowrie names it (its `eventid`), so
/// that pipelines built for Cowrie's JSON read ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionEventId {
    /// A client connected (`cowrie.session.connect`).
    Connect,
    /// The client told its terminal size (`cowrie.client.size`; Telnet NAWS).
    ClientSize,
    /// The client told a variable (`cowrie.client.var`; Telnet TTYPE, NEW-ENVIRON).
    ClientVar,
    /// A login was accepted (`cowrie.login.success`).
    LoginSuccess,
    /// A login was refused (`cowrie.login.failed`).
    LoginFailed,
    /// A command line was entered (`cowrie.command.input`).
    CommandInput,
    /// A command is not known to the shell (`cowrie.command.failed`).
    CommandFailed,
    /// A file was fetched for the client (`cowrie.session.file_download`).
    FileDownload,
    /// A fetch failed (`cowrie.session.file_download.failed`).
    FileDownloadFailed,
    /// A file was written in the session by other means than a download, e.g. with `echo`
    /// (`cowrie.session.file_upload`).
    FileUpload,
    /// The session's transcript was closed (`cowrie.log.closed`).
    LogClosed,
    /// The connection closed (`cowrie.session.closed`).
    Closed,
}

impl SessionEventId {
    /// Every id, in the order of a typical session.
    pub const ALL: &'static [SessionEventId] = &[
        SessionEventId::Connect,
        SessionEventId::ClientSize,
        SessionEventId::ClientVar,
        SessionEventId::LoginSuccess,
        SessionEventId::LoginFailed,
        SessionEventId::CommandInput,
        SessionEventId::CommandFailed,
        SessionEventId::FileDownload,
        SessionEventId::FileDownloadFailed,
        SessionEventId::FileUpload,
        SessionEventId::LogClosed,
        SessionEventId::Closed,
    ];

    /// Cowrie's name, e.g. `cowrie.login.success`, used in JSON and Parquet.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionEventId::Connect => "cowrie.session.connect",
            SessionEventId::ClientSize => "cowrie.client.size",
            SessionEventId::ClientVar => "cowrie.client.var",
            SessionEventId::LoginSuccess => "cowrie.login.success",
            SessionEventId::LoginFailed => "cowrie.login.failed",
            SessionEventId::CommandInput => "cowrie.command.input",
            SessionEventId::CommandFailed => "cowrie.command.failed",
            SessionEventId::FileDownload => "cowrie.session.file_download",
            SessionEventId::FileDownloadFailed => "cowrie.session.file_download.failed",
            SessionEventId::FileUpload => "cowrie.session.file_upload",
            SessionEventId::LogClosed => "cowrie.log.closed",
            SessionEventId::Closed => "cowrie.session.closed",
        }
    }

    /// The inverse of [`SessionEventId::as_str`].
    pub fn from_name(s: &str) -> Option<SessionEventId> {
        Self::ALL.iter().copied().find(|id| id.as_str() == s)
    }
}

impl fmt::Display for SessionEventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing that happened in an interactive session, with Cowrie's fields (and a few of
/// honeyscope's own). Which optional fields are set depends on [`Self::eventid`];
/// `docs/EVENTS.md` has the table. Text an attacker chose (`username`, `password`,
/// `input`, `url`, paths) is escaped by the producer where it is not printable UTF-8, with
/// [`crate::text::escape_bytes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEvent {
    /// When it happened.
    pub time: Timestamp,
    /// The sensor whose service it was.
    pub sensor: Option<Arc<str>>,
    /// What happened.
    pub eventid: SessionEventId,
    /// The session's id, shared by all its events: 12 lowercase hex digits, like Cowrie's.
    pub session: Box<str>,
    /// The service's protocol: `telnet` (later `http`, `ssh`).
    pub protocol: Box<str>,
    /// The client.
    pub src: IpAddr,
    /// The client's port.
    pub sport: u16,
    /// Our (claimed) address.
    pub dst: IpAddr,
    /// Our port.
    pub dport: u16,
    /// The user name tried (logins).
    pub username: Option<Box<str>>,
    /// The password tried (logins).
    pub password: Option<Box<str>>,
    /// A command line as typed (commands).
    pub input: Option<Box<str>>,
    /// The URL handed to wget, tftp, curl or ftpget (downloads).
    pub url: Option<Box<str>>,
    /// The download's host (honeyscope's addition).
    pub host: Option<Box<str>>,
    /// The download's port (honeyscope's addition).
    pub port: Option<u16>,
    /// The tool that fetched or wrote the file: `wget`, `tftp`, `curl`, `ftpget`, `nc`,
    /// `echo` (honeyscope's addition).
    pub method: Option<Box<str>>,
    /// Where the stored copy is (`artifacts/<sha256>`).
    pub outfile: Option<Box<str>>,
    /// Downloads: the path the client asked for on the device.
    pub destfile: Option<Box<str>>,
    /// Uploads: the path written in the session.
    pub filename: Option<Box<str>>,
    /// SHA-256 of the stored file, lowercase hex.
    pub shasum: Option<Box<str>>,
    /// Bytes of the file (or of the transcript).
    pub size: Option<u64>,
    /// The ELF architecture of the file, when it is an ELF (honeyscope's addition).
    pub arch: Option<Box<str>>,
    /// The `ip:port` a dropper embeds for its download server (honeyscope's addition).
    pub callback: Option<Box<str>>,
    /// Terminal width in columns (`client.size`).
    pub width: Option<u32>,
    /// Terminal height in rows (`client.size`).
    pub height: Option<u32>,
    /// A client variable's name (`client.var`).
    pub name: Option<Box<str>>,
    /// A client variable's value (`client.var`).
    pub value: Option<Box<str>>,
    /// Path of the session's asciicast transcript (`log.closed`).
    pub ttylog: Option<Box<str>>,
    /// How long the session (or its transcript) lasted, in microseconds; Cowrie's
    /// `duration` in float seconds in JSON.
    pub duration_us: Option<u64>,
    /// Human text as Cowrie has one, e.g. `login attempt [root/xc3511] succeeded`.
    pub message: Option<Box<str>>,
    /// The device profile answering (honeyscope's addition).
    pub profile: Option<Box<str>>,
}

impl SessionEvent {
    /// An event with only the always-present fields set.
    pub fn new(
        time: Timestamp,
        eventid: SessionEventId,
        session: &str,
        protocol: &str,
        src: SocketAddr,
        dst: SocketAddr,
    ) -> Self {
        SessionEvent {
            time,
            sensor: None,
            eventid,
            session: session.into(),
            protocol: protocol.into(),
            src: src.ip(),
            sport: src.port(),
            dst: dst.ip(),
            dport: dst.port(),
            username: None,
            password: None,
            input: None,
            url: None,
            host: None,
            port: None,
            method: None,
            outfile: None,
            destfile: None,
            filename: None,
            shasum: None,
            size: None,
            arch: None,
            callback: None,
            width: None,
            height: None,
            name: None,
            value: None,
            ttylog: None,
            duration_us: None,
            message: None,
            profile: None,
        }
    }
}

/// One HTTP request a client sent to the web service (port 80 or 8080 of a device), or
/// what could be read of a malformed one. Text the client chose is escaped by the producer
/// with [`crate::text::escape_bytes`] (valid UTF-8 kept, `\\` for a backslash, `\xNN` for
/// control characters and bytes that are not UTF-8). Downloads an exploit leads to are
/// [`SessionEvent`]s (`cowrie.session.file_download`, protocol `http`) of the same
/// `session`. `docs/EVENTS.md` has each format's projection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpEvent {
    /// When the request (its head, or the error) was complete.
    pub time: Timestamp,
    /// The sensor whose service it was.
    pub sensor: Option<Arc<str>>,
    /// The connection's id, 12 lowercase hex digits like a session's: requests on one
    /// keep-alive connection share it.
    pub session: Box<str>,
    /// The client.
    pub src: IpAddr,
    /// The client's port.
    pub sport: u16,
    /// Our (claimed) address.
    pub dst: IpAddr,
    /// Our port.
    pub dport: u16,
    /// The request method (`GET`, `POST`, …); `None` when the request line did not parse.
    pub method: Option<Box<str>>,
    /// The request-target as sent (escaped).
    pub target: Option<Box<str>>,
    /// The target's path, percent-decoded (escaped).
    pub path: Option<Box<str>>,
    /// The raw query string after `?` (escaped).
    pub query: Option<Box<str>>,
    /// The protocol version as sent, e.g. `HTTP/1.1`.
    pub version: Option<Box<str>>,
    /// The `Host` header (escaped).
    pub host: Option<Box<str>>,
    /// The `User-Agent` header (escaped).
    pub user_agent: Option<Box<str>>,
    /// Every header in the order sent, duplicates included, as (name, value), escaped;
    /// the producer caps how many and how long.
    pub headers: Vec<(Box<str>, Box<str>)>,
    /// Bytes of the request body (0 for none).
    pub body_size: u64,
    /// SHA-256 of the body, lowercase hex (when `body_size` > 0).
    pub body_sha256: Option<Box<str>>,
    /// The body's first bytes (escaped).
    pub body_head: Option<Box<str>>,
    /// The status code we answered; 0 when we answered nothing (the connection was dropped).
    pub status: u16,
    /// The name of the exploit recognised in the request, e.g. `gpon-diag-form`.
    pub exploit: Option<Box<str>>,
    /// Shell commands the exploit would run, in order (escaped).
    pub commands: Vec<Box<str>>,
    /// Why the request was malformed or refused, e.g. `header too large`.
    pub error: Option<Box<str>>,
    /// The device profile answering.
    pub profile: Option<Box<str>>,
}

impl HttpEvent {
    /// A request with only the always-present fields set: no text fields, no headers or
    /// commands, an empty body and status 0.
    pub fn new(time: Timestamp, session: &str, src: SocketAddr, dst: SocketAddr) -> Self {
        HttpEvent {
            time,
            sensor: None,
            session: session.into(),
            src: src.ip(),
            sport: src.port(),
            dst: dst.ip(),
            dport: dst.port(),
            method: None,
            target: None,
            path: None,
            query: None,
            version: None,
            host: None,
            user_agent: None,
            headers: Vec::new(),
            body_size: 0,
            body_sha256: None,
            body_head: None,
            status: 0,
            exploit: None,
            commands: Vec::new(),
            error: None,
            profile: None,
        }
    }

    /// The `eventid` an HTTP request carries in JSON and Parquet, so that pipelines keyed
    /// on Cowrie's `eventid` see it: `honeyscope.http.request`.
    pub const EVENTID: &'static str = "honeyscope.http.request";
}

/// The packet log was opened or closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleEvent {
    /// When.
    pub time: Timestamp,
    /// The sensor whose log it is, if known.
    pub sensor: Option<Arc<str>>,
    /// Started or stopped.
    pub state: LogState,
}

/// Whether the log started or stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogState {
    /// The sensor started logging.
    Started,
    /// The sensor stopped logging.
    Stopped,
}

impl LogState {
    /// The stable name: `log_started` or `log_stopped`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogState::Started => "log_started",
            LogState::Stopped => "log_stopped",
        }
    }

    /// The inverse of [`LogState::as_str`].
    pub fn from_name(s: &str) -> Option<LogState> {
        match s {
            "log_started" => Some(LogState::Started),
            "log_stopped" => Some(LogState::Stopped),
            _ => None,
        }
    }
}

/// The TCP flags byte. Displayed as Honeyd does, letters in the order `FSRPAUEC`
/// (FIN SYN RST PSH ACK URG ECE CWR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

/// Flag bits and their letters, in Honeyd's order.
const FLAG_LETTERS: [(u8, u8); 8] = [
    (0x01, b'F'),
    (0x02, b'S'),
    (0x04, b'R'),
    (0x08, b'P'),
    (0x10, b'A'),
    (0x20, b'U'),
    (0x40, b'E'),
    (0x80, b'C'),
];

impl TcpFlags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;

    /// Whether every bit of `mask` is set.
    pub fn has(self, mask: u8) -> bool {
        self.0 & mask == mask
    }

    /// Parses Honeyd's letters (`SA`, `FA`, the empty string). Letters must be distinct and
    /// in Honeyd's order, so that writing the flags back gives the same text.
    pub fn from_letters(s: &[u8]) -> Option<TcpFlags> {
        let mut bits = 0u8;
        let mut next = 0;
        for &c in s {
            let i = FLAG_LETTERS[next..].iter().position(|&(_, l)| l == c)? + next;
            bits |= FLAG_LETTERS[i].0;
            next = i + 1;
        }
        Some(TcpFlags(bits))
    }

    /// Appends the letters to `out`.
    pub fn push_letters(self, out: &mut String) {
        for (bit, letter) in FLAG_LETTERS {
            if self.0 & bit != 0 {
                out.push(letter as char);
            }
        }
    }
}

impl fmt::Display for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(8);
        self.push_letters(&mut s);
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip_in_honeyd_order() {
        for bits in 0..=255u8 {
            let text = TcpFlags(bits).to_string();
            assert_eq!(
                TcpFlags::from_letters(text.as_bytes()),
                Some(TcpFlags(bits))
            );
        }
        assert_eq!(TcpFlags::from_letters(b"AS"), None, "out of order");
        assert_eq!(TcpFlags::from_letters(b"SS"), None, "repeated");
        assert_eq!(TcpFlags::from_letters(b"X"), None);
        assert_eq!(TcpFlags(0x12).to_string(), "SA");
    }

    #[test]
    fn session_event_ids_have_cowries_names() {
        assert_eq!(SessionEventId::ALL.len(), 12);
        for &id in SessionEventId::ALL {
            assert!(id.as_str().starts_with("cowrie."));
            assert_eq!(SessionEventId::from_name(id.as_str()), Some(id));
        }
        assert_eq!(
            SessionEventId::FileDownloadFailed.as_str(),
            "cowrie.session.file_download.failed"
        );
        assert_eq!(SessionEventId::from_name("cowrie.client.version"), None);
    }

    #[test]
    fn empty_proto_name_means_the_default() {
        // Found by fuzzing: JSON `"proto_name":""` was kept and written to a Honeyd line as
        // `(8) S …`, which does not read back.
        let any = IpAddr::from([192, 0, 2, 1]);
        let mut p = PacketEvent::new(Timestamp(0), PacketKind::FlowStart, 8, any, any);
        p.set_proto_name("");
        assert_eq!((p.proto_label.as_deref(), p.proto_name()), (None, "egp"));
        p.set_proto_name("EGP");
        assert_eq!(p.proto_name(), "EGP");
        p.set_proto_name("egp");
        assert_eq!(p.proto_label, None);
    }
}
