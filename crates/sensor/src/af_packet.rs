//! An Ethernet interface through an `AF_PACKET` socket: the packet source for addresses on a
//! LAN. The kernel has no address of ours on the interface, so it answers nothing; the
//! [`Lan`] layer answers ARP for the claimed addresses and frames our replies.
//!
//! **Never point this at an interface on a network you share** unless the claimed addresses
//! are truly unused there: answering ARP takes traffic. [`ArpPolicy::Probe`] (the default)
//! asks first, as farpd does.

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use honeyscope_wire::ethernet::Mac;

use crate::config::Prefix;
use crate::lan::{ArpConfig, Frame, Lan};
use crate::source::{PacketSource, Recv, SourceStats};
use crate::sys::{self, now_us};

/// Why an interface could not be opened; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum AfPacketError {
    /// The name is not usable.
    #[error("bad interface name {0:?}: 1 to 15 characters, no '/' or whitespace")]
    Name(String),
    /// No such interface.
    #[error("no interface {name}: {err} (ip link shows the interfaces here)")]
    NoInterface {
        /// The interface.
        name: String,
        /// The error.
        err: io::Error,
    },
    /// The socket could not be made or bound.
    #[error("opening a packet socket on {name}: {err} (needs root or CAP_NET_RAW)")]
    Socket {
        /// The interface.
        name: String,
        /// The error.
        err: io::Error,
    },
    /// The kernel owns a claimed address on the interface.
    #[error("interface {name} has address {addr}, inside the claimed prefix {prefix}: the kernel would answer for it; remove it (ip addr del {addr}/… dev {name}) or claim around it")]
    OwnedAddress {
        /// The interface.
        name: String,
        /// The address.
        addr: Ipv4Addr,
        /// The prefix it is in.
        prefix: Prefix,
    },
}

/// An interface open for the sensor.
pub struct AfPacket {
    fd: OwnedFd,
    name: String,
    lan: Lan,
    prefixes: Vec<Prefix>,
    frame: Vec<u8>,
    pending: Vec<Vec<u8>>,
    /// The kernel's drop count so far (PACKET_STATISTICS resets it on every read).
    drops: std::cell::Cell<u64>,
    /// ARP frames the interface refused.
    arp_send_errors: u64,
}

/// Largest frame we read (jumbo frames included).
const MAX_FRAME: usize = 65_536 + 14;

impl AfPacket {
    /// Opens `name` for the addresses in `prefixes`, brings it up, and answers ARP per `arp`.
    /// Refuses an interface where the kernel holds a claimed address.
    pub fn open(
        name: &str,
        prefixes: &[Prefix],
        arp: ArpConfig,
    ) -> Result<AfPacket, AfPacketError> {
        if !sys::valid_interface_name(name) {
            return Err(AfPacketError::Name(name.to_string()));
        }
        let no_if = |err| AfPacketError::NoInterface {
            name: name.to_string(),
            err,
        };
        let index = sys::interface_index(name).map_err(no_if)?;
        for addr in sys::interface_ipv4(name).map_err(no_if)? {
            if let Some(&prefix) = prefixes.iter().find(|p| p.contains(addr)) {
                return Err(AfPacketError::OwnedAddress {
                    name: name.to_string(),
                    addr,
                    prefix,
                });
            }
        }
        let sock_err = |err| AfPacketError::Socket {
            name: name.to_string(),
            err,
        };
        let mac = sys::hw_addr(name).map_err(sock_err)?;
        // Up before the bind: a socket bound to a down interface starts with ENETDOWN.
        sys::set_up(name).map_err(sock_err)?;
        let all = (libc::ETH_P_ALL as u16).to_be();
        // SAFETY: socket(2) with constant arguments; the descriptor is owned right below.
        let raw = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                i32::from(all),
            )
        };
        if raw < 0 {
            return Err(sock_err(io::Error::last_os_error()));
        }
        // SAFETY: `raw` is a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: a zeroed sockaddr_ll is valid; we fill the fields bind(2) reads.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = all;
        sll.sll_ifindex = index;
        // SAFETY: binds our socket to a sockaddr_ll of the right size.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                &sll as *const libc::sockaddr_ll as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(sock_err(io::Error::last_os_error()));
        }
        // A larger receive buffer rides out bursts; the kernel caps it at rmem_max.
        let size: libc::c_int = 8 << 20;
        // SAFETY: SO_RCVBUF reads one c_int.
        unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVBUF,
                &size as *const libc::c_int as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        Ok(AfPacket {
            fd,
            name: name.to_string(),
            lan: Lan::new(Mac(mac), arp),
            prefixes: prefixes.to_vec(),
            frame: vec![0; MAX_FRAME],
            pending: Vec::new(),
            drops: std::cell::Cell::new(0),
            arp_send_errors: 0,
        })
    }

    /// The interface's MAC address.
    pub fn mac(&self) -> Mac {
        self.lan.mac()
    }

    /// The interface's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn send_frame(&mut self, frame: &[u8]) -> io::Result<()> {
        // SAFETY: sends `frame` on our bound socket.
        let rc = unsafe {
            libc::send(
                self.fd.as_raw_fd(),
                frame.as_ptr() as *const libc::c_void,
                frame.len(),
                0,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Sends the ARP frames the LAN layer produced.
    fn send_pending(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        for f in &pending {
            if self.send_frame(f).is_err() {
                self.arp_send_errors += 1;
            }
        }
        self.pending = pending;
        self.pending.clear();
    }

    /// One frame, if one is waiting: its length, or `None`. Our own outgoing frames, which
    /// an `AF_PACKET` socket also sees, are skipped.
    fn read_frame(&mut self) -> io::Result<Option<usize>> {
        loop {
            // SAFETY: a zeroed sockaddr_ll is valid for recvfrom to fill.
            let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            let mut len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            // SAFETY: reads at most `self.frame.len()` bytes into it, and the sender's
            // address into `from`, whose size we pass.
            let n = unsafe {
                libc::recvfrom(
                    self.fd.as_raw_fd(),
                    self.frame.as_mut_ptr() as *mut libc::c_void,
                    self.frame.len(),
                    0,
                    &mut from as *mut libc::sockaddr_ll as *mut libc::sockaddr,
                    &mut len,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                return match e.raw_os_error() {
                    // The interface went down (and comes back up): the socket reports it once.
                    Some(libc::EAGAIN | libc::EINTR | libc::ENETDOWN) => Ok(None),
                    _ => Err(e),
                };
            }
            if from.sll_pkttype == libc::PACKET_OUTGOING {
                continue;
            }
            return Ok(Some(n as usize));
        }
    }

    /// Frames the kernel dropped since the last call.
    fn new_kernel_drops(&self) -> u64 {
        // SAFETY: a zeroed tpacket_stats is valid.
        let mut st: libc::tpacket_stats = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::tpacket_stats>() as libc::socklen_t;
        // SAFETY: PACKET_STATISTICS fills one tpacket_stats, whose size we pass.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                &mut st as *mut libc::tpacket_stats as *mut libc::c_void,
                &mut len,
            )
        };
        if rc == 0 {
            u64::from(st.tp_drops)
        } else {
            0
        }
    }
}

impl PacketSource for AfPacket {
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<Recv> {
        let deadline = Instant::now() + timeout;
        loop {
            let now = now_us();
            self.lan.poll(now, &mut self.pending);
            self.send_pending();
            let Some(n) = self.read_frame()? else {
                let left = deadline.saturating_duration_since(Instant::now());
                // Wake for the probe timers too (they run in steps of a tenth of a second).
                let wait = left.min(Duration::from_millis(50));
                if left.is_zero() {
                    return Ok(Recv::Idle);
                }
                sys::wait_readable(self.fd.as_raw_fd(), wait)?;
                continue;
            };
            let prefixes = &self.prefixes;
            let claims = |ip: Ipv4Addr| prefixes.iter().any(|p| p.contains(ip));
            match self
                .lan
                .frame(now, &self.frame[..n], claims, &mut self.pending)
            {
                Frame::Ip(range) => {
                    let ip = &self.frame[range];
                    let len = ip.len().min(buf.len());
                    buf[..len].copy_from_slice(&ip[..len]);
                    return Ok(Recv::Packet {
                        range: 0..len,
                        ts_us: now,
                    });
                }
                Frame::Arp => self.send_pending(),
                Frame::Ignored => {}
            }
        }
    }

    fn send(&mut self, packet: &[u8]) -> io::Result<()> {
        let mut frame = std::mem::take(&mut self.frame);
        let r = if self.lan.wrap(packet, &mut frame) {
            self.send_frame(&frame)
        } else {
            Err(io::Error::other(
                "no MAC address known for the reply's destination",
            ))
        };
        frame.resize(MAX_FRAME, 0);
        self.frame = frame;
        r
    }

    fn now_us(&self) -> i64 {
        now_us()
    }

    fn stats(&self) -> SourceStats {
        self.drops.set(self.drops.get() + self.new_kernel_drops());
        SourceStats {
            kernel_drops: Some(self.drops.get()),
            lan: Some(self.lan.stats().clone()),
            link_send_errors: self.arp_send_errors,
            ..SourceStats::default()
        }
    }

    fn describe(&self) -> String {
        format!("interface {} ({})", self.name, self.lan.mac())
    }

    fn fd(&self) -> Option<std::os::fd::RawFd> {
        Some(self.fd.as_raw_fd())
    }
}
