//! Kernel listeners: the `[[listen]]` entries serve the same services on ordinary sockets,
//! for hosts where no TUN device or raw socket may be used, and for port-forwarded set-ups
//! (`reported_port` is the port the log shows, as Cowrie's `reported_port` is).
//!
//! A connection is logged as the sessions on claimed addresses are: a flow start (`S`)
//! when it is accepted, and a flow end (`E`) with the bytes received and sent. The kernel
//! completed the handshake, so there is no SYN to fingerprint: these events carry no OS.
//! Connections open at once are bounded (`limits.sessions`, counted apart from the
//! sessions on claimed addresses); one beyond it is closed at once and counted. When the
//! sensor stops, [`ListenStats::end_open`] ends the connections still open with their bytes
//! so far, as the sensor does with its own flows, and the listeners take no more.

use std::collections::BTreeMap;
use std::io;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use honeyscope_event::{Event, PacketEvent, PacketKind, Timestamp};
use honeyscope_services::shell::Device;
use honeyscope_services::{ConnInfo, Service};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::config::Listen;
use crate::host::ServiceHost;

/// Where listener events go: the sensor's log queue.
pub use honeyscope_services::EventSink;

/// What the listeners counted.
#[derive(Debug, Default)]
pub struct ListenStats {
    /// Connections accepted and served.
    pub accepted: AtomicU64,
    /// Connections closed at once because `limits.sessions` were open, or because the
    /// sensor was stopping.
    pub refused: AtomicU64,
    /// Failed accepts (out of descriptors, …), each followed by a short pause.
    pub accept_errors: AtomicU64,
    /// Connections open now.
    pub open: AtomicUsize,
    /// The connections whose flow end is not logged yet, by accept order; closed to new
    /// ones when the sensor stops. Whoever takes a connection out logs its end: the
    /// connection's own task, or [`ListenStats::end_open`].
    flows: Mutex<Flows>,
}

/// The listeners' open flows.
#[derive(Debug, Default)]
struct Flows {
    next: u64,
    open: BTreeMap<u64, OpenFlow>,
    stopped: bool,
}

/// A flow whose end is not logged yet.
#[derive(Debug)]
struct OpenFlow {
    info: ConnInfo,
    sensor: Option<Arc<str>>,
    traffic: Arc<Traffic>,
}

impl ListenStats {
    fn flows(&self) -> MutexGuard<'_, Flows> {
        self.flows.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The flow ends of the connections still open, with their bytes so far, in accept
    /// order; the listeners log no more (a connection accepted after this is closed unlogged
    /// and counted as refused). For the sensor's stop: a connection the process leaves open
    /// is ended in the log, as the sensor's own flows are.
    pub fn end_open(&self) -> Vec<Event> {
        let mut flows = self.flows();
        flows.stopped = true;
        std::mem::take(&mut flows.open)
            .into_values()
            .map(|f| Event::Packet(flow_end(&f.info, f.sensor, &f.traffic)))
            .collect()
    }
}

/// A listener bound (before the sensor drops root, so privileged ports work), not yet
/// serving.
pub struct Bound {
    listener: StdListener,
    entry: Listen,
}

impl Bound {
    /// The address it is bound to (the port the kernel chose, for port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The entry it serves.
    pub fn entry(&self) -> &Listen {
        &self.entry
    }
}

/// Binds every entry; the first that fails says which and why.
pub fn bind(entries: &[Listen]) -> io::Result<Vec<Bound>> {
    entries
        .iter()
        .map(|e| {
            let listener = StdListener::bind(e.address).map_err(|err| {
                io::Error::new(
                    err.kind(),
                    format!(
                        "listening on {} for {}: {err}{}",
                        e.address,
                        e.service.name(),
                        match err.kind() {
                            io::ErrorKind::AddrInUse => " (another program has the port)",
                            io::ErrorKind::PermissionDenied =>
                                " (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
                            _ => "",
                        }
                    ),
                )
            })?;
            listener.set_nonblocking(true)?;
            Ok(Bound {
                listener,
                entry: e.clone(),
            })
        })
        .collect()
}

/// Serves `bound` on `host` until the host stops. `max_open` bounds the connections open
/// at once; `sensor` goes into every event; `device` says which device a Telnet listener
/// answers as.
pub fn serve(
    host: &ServiceHost,
    bound: Vec<Bound>,
    max_open: usize,
    sensor: Option<Arc<str>>,
    events: EventSink,
    device: impl Fn(&Listen) -> Option<Arc<Device>>,
) -> Arc<ListenStats> {
    let stats = Arc::new(ListenStats::default());
    for b in bound {
        let device = matches!(b.entry.service, Service::Telnet | Service::Http)
            .then(|| device(&b.entry))
            .flatten();
        let (host2, stats, sensor, events) =
            (host.clone(), stats.clone(), sensor.clone(), events.clone());
        host.handle().spawn(async move {
            let listener = match tokio::net::TcpListener::from_std(b.listener) {
                Ok(l) => l,
                Err(_) => {
                    stats.accept_errors.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            };
            loop {
                let (socket, peer) = match listener.accept().await {
                    Ok(a) => a,
                    Err(_) => {
                        // Out of descriptors and the like: count, breathe, go on.
                        stats.accept_errors.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        continue;
                    }
                };
                if stats.open.load(Ordering::Relaxed) >= max_open {
                    stats.refused.fetch_add(1, Ordering::Relaxed);
                    drop(socket);
                    continue;
                }
                let Ok(local) = socket.local_addr() else {
                    continue;
                };
                let reported =
                    SocketAddr::new(local.ip(), b.entry.reported_port.unwrap_or(local.port()));
                let info = ConnInfo {
                    peer,
                    local: reported,
                };
                let traffic = Arc::new(Traffic::default());
                // The flow start is logged under the flows' lock, so that a stop either
                // comes before it (and the connection is closed unlogged) or ends it.
                let id = {
                    let mut flows = stats.flows();
                    if flows.stopped {
                        stats.refused.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    let id = flows.next;
                    flows.next += 1;
                    flows.open.insert(
                        id,
                        OpenFlow {
                            info,
                            sensor: sensor.clone(),
                            traffic: traffic.clone(),
                        },
                    );
                    events(Event::Packet(flow_event(
                        PacketKind::FlowStart,
                        &info,
                        sensor.clone(),
                    )));
                    id
                };
                let _ = socket.set_nodelay(true);
                stats.accepted.fetch_add(1, Ordering::Relaxed);
                let slot = OpenSlot::take(stats.clone());
                let events = events.clone();
                let (stats, sensor) = (stats.clone(), sensor.clone());
                host2.serve(
                    b.entry.service,
                    Counted::new(socket, traffic),
                    info,
                    device.clone(),
                    move |stream: &Counted<tokio::net::TcpStream>| {
                        // Logged under the lock too: a stop that ended the flow first took
                        // it out, and one that comes after finds this end in the queue.
                        let mut flows = stats.flows();
                        if flows.open.remove(&id).is_some() {
                            events(Event::Packet(flow_end(&info, sensor, &stream.traffic)));
                        }
                        drop(flows);
                        drop(slot);
                    },
                );
            }
        });
    }
    stats
}

/// One open listener connection, counted in `open` for as long as it lives: given back
/// when the service ends, and also if its task is dropped unfinished (a panic, the stop).
struct OpenSlot(Arc<ListenStats>);

impl OpenSlot {
    fn take(stats: Arc<ListenStats>) -> OpenSlot {
        stats.open.fetch_add(1, Ordering::Relaxed);
        OpenSlot(stats)
    }
}

impl Drop for OpenSlot {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A listener connection's flow end, stamped now, with its bytes so far.
fn flow_end(info: &ConnInfo, sensor: Option<Arc<str>>, traffic: &Traffic) -> PacketEvent {
    let mut end = flow_event(PacketKind::FlowEnd, info, sensor);
    end.rx_bytes = Some(traffic.rx.load(Ordering::Relaxed));
    end.tx_bytes = Some(traffic.tx.load(Ordering::Relaxed));
    end
}

/// A TCP flow record for a listener connection, stamped now.
fn flow_event(kind: PacketKind, info: &ConnInfo, sensor: Option<Arc<str>>) -> PacketEvent {
    let time = Timestamp::from_micros(crate::sys::now_us()).unwrap_or_default();
    let mut ev = PacketEvent::new(time, kind, 6, info.peer.ip(), info.local.ip());
    ev.sport = Some(info.peer.port());
    ev.dport = Some(info.local.port());
    ev.sensor = sensor;
    ev
}

/// The bytes a connection carried each way so far.
#[derive(Debug, Default)]
pub struct Traffic {
    /// Bytes read from the client.
    pub rx: AtomicU64,
    /// Bytes written to it.
    pub tx: AtomicU64,
}

/// A stream that counts the bytes each way, for the flow end's `rx` and `tx` (readable
/// while it runs: the sensor's stop ends a flow that is still open).
pub struct Counted<S> {
    inner: S,
    /// What it carried so far.
    pub traffic: Arc<Traffic>,
}

impl<S> Counted<S> {
    /// Counts `inner`'s bytes into `traffic`.
    pub fn new(inner: S, traffic: Arc<Traffic>) -> Self {
        Counted { inner, traffic }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = (buf.filled().len() - before) as u64;
        self.traffic.rx.fetch_add(n, Ordering::Relaxed);
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, data);
        if let Poll::Ready(Ok(n)) = r {
            self.traffic.tx.fetch_add(n as u64, Ordering::Relaxed);
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use honeyscope_services::Service;
    use std::io::{Read, Write};
    use std::sync::Mutex;
    use std::time::Duration;

    /// Runs `client` on a thread of its own while the host's loop runs the listeners, as
    /// the sensor's packet loop does.
    fn in_the_loop<T: Send + 'static>(
        host: &ServiceHost,
        client: impl FnOnce() -> T + Send + 'static,
    ) -> T {
        host.block_on(async { tokio::task::spawn_blocking(client).await })
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }

    /// One listener for `service` on a loopback port, served on a fresh host with at most
    /// `max_open` connections; what it logs is collected.
    struct Serving {
        host: ServiceHost,
        addr: SocketAddr,
        stats: Arc<ListenStats>,
        logged: Arc<Mutex<Vec<Event>>>,
    }

    fn serving(
        service: Service,
        reported_port: Option<u16>,
        max_open: usize,
        sensor: Option<Arc<str>>,
    ) -> Serving {
        let host = ServiceHost::start(honeyscope_services::Limits::default()).unwrap();
        let entry = Listen {
            address: "127.0.0.1:0".parse().unwrap(),
            service,
            reported_port,
            profile: None,
        };
        let bound = bind(&[entry]).unwrap();
        let addr = bound[0].local_addr().unwrap();
        let logged: Arc<Mutex<Vec<Event>>> = Arc::default();
        let sink = logged.clone();
        let stats = serve(
            &host,
            bound,
            max_open,
            sensor,
            Arc::new(move |ev| sink.lock().unwrap().push(ev)),
            |_| None,
        );
        Serving {
            host,
            addr,
            stats,
            logged,
        }
    }

    #[test]
    fn serves_echo_on_a_kernel_socket_and_logs_both_ends() {
        let Serving {
            host,
            addr,
            stats,
            logged: got,
        } = serving(Service::Echo, Some(7), 10, Some("t".into()));
        let got2 = got.clone();
        let client = in_the_loop(&host, move || {
            let mut c = std::net::TcpStream::connect(addr).unwrap();
            c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            c.write_all(b"hello").unwrap();
            c.shutdown(std::net::Shutdown::Write).unwrap();
            let mut back = Vec::new();
            c.read_to_end(&mut back).unwrap();
            assert_eq!(back, b"hello");
            let t = std::time::Instant::now();
            while got2.lock().unwrap().len() < 2 {
                assert!(t.elapsed() < Duration::from_secs(5), "no flow end logged");
                std::thread::sleep(Duration::from_millis(10));
            }
            c.local_addr().unwrap().port()
        });
        let evs = got.lock().unwrap();
        let [Event::Packet(s), Event::Packet(e)] = &evs[..] else {
            panic!("{evs:?}")
        };
        assert_eq!(
            (s.kind, e.kind),
            (PacketKind::FlowStart, PacketKind::FlowEnd)
        );
        assert_eq!(s.dport, Some(7), "the reported port");
        assert_eq!(s.sport, Some(client));
        assert_eq!((e.rx_bytes, e.tx_bytes), (Some(5), Some(5)));
        assert_eq!(s.sensor.as_deref(), Some("t"));
        assert_eq!(stats.accepted.load(Ordering::Relaxed), 1);
    }

    /// At the stop, a connection still open is ended in the log with its bytes so far,
    /// once: its own end later logs nothing, and a connection after the stop is not served.
    #[test]
    fn a_connection_open_at_the_stop_is_ended_once() {
        let Serving {
            host,
            addr,
            stats,
            logged: got,
        } = serving(Service::Echo, None, 10, None);
        let stopping = stats.clone();
        let (ends, late) = in_the_loop(&host, move || {
            let mut c = std::net::TcpStream::connect(addr).unwrap();
            c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            c.write_all(b"hello").unwrap();
            let mut back = [0u8; 5];
            c.read_exact(&mut back).unwrap();
            // The service counts a write just after the kernel took it: wait for the count.
            let t = std::time::Instant::now();
            let sent = || {
                let flows = stopping.flows();
                flows
                    .open
                    .values()
                    .map(|f| f.traffic.tx.load(Ordering::Relaxed))
                    .sum::<u64>()
            };
            while sent() < 5 {
                assert!(
                    t.elapsed() < Duration::from_secs(5),
                    "the echo was not counted"
                );
                std::thread::sleep(Duration::from_millis(1));
            }
            let ends = stopping.end_open();
            // The client goes; the service's own end finds the flow ended already.
            drop(c);
            let t = std::time::Instant::now();
            while stopping.open.load(Ordering::Relaxed) > 0 {
                assert!(
                    t.elapsed() < Duration::from_secs(5),
                    "the service did not end"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
            // A connection after the stop: closed, not served.
            let mut late = std::net::TcpStream::connect(addr).unwrap();
            late.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let _ = late.write_all(b"x");
            let mut buf = [0u8; 1];
            (ends, late.read(&mut buf).ok())
        });
        let [Event::Packet(end)] = &ends[..] else {
            panic!("{ends:?}")
        };
        assert_eq!(end.kind, PacketKind::FlowEnd);
        assert_eq!((end.rx_bytes, end.tx_bytes), (Some(5), Some(5)));
        assert!(
            matches!(late, None | Some(0)),
            "served after the stop: {late:?}"
        );
        let logged = got.lock().unwrap();
        let kinds: Vec<_> = logged
            .iter()
            .map(|e| match e {
                Event::Packet(p) => p.kind,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            kinds,
            [PacketKind::FlowStart],
            "only the start is logged by the listener"
        );
        assert_eq!(stats.refused.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_connection_beyond_the_cap_is_closed_and_counted() {
        let Serving {
            host, addr, stats, ..
        } = serving(Service::Discard, None, 1, None);
        let counted = stats.clone();
        in_the_loop(&host, move || {
            let _first = std::net::TcpStream::connect(addr).unwrap();
            let t = std::time::Instant::now();
            while counted.accepted.load(Ordering::Relaxed) < 1 {
                assert!(t.elapsed() < Duration::from_secs(5));
                std::thread::sleep(Duration::from_millis(10));
            }
            let mut second = std::net::TcpStream::connect(addr).unwrap();
            second
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut buf = [0u8; 1];
            // Closed by the sensor: end of stream (or a reset).
            assert!(matches!(second.read(&mut buf), Ok(0) | Err(_)));
        });
        assert_eq!(stats.refused.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_port_in_use_is_named_in_the_error() {
        let taken = StdListener::bind("127.0.0.1:0").unwrap();
        let entry = Listen {
            address: taken.local_addr().unwrap(),
            service: Service::Echo,
            reported_port: None,
            profile: None,
        };
        let Err(e) = bind(&[entry]) else {
            panic!("bound a port in use")
        };
        let msg = e.to_string();
        assert!(msg.contains("another program has the port"), "{msg}");
        assert!(
            msg.contains(&taken.local_addr().unwrap().to_string()),
            "{msg}"
        );
    }
}
