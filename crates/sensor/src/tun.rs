//! A Linux TUN device: the packet source for routed prefixes. The kernel hands us every
//! datagram routed to the device and sends whatever we write back to it; it never owns the
//! claimed addresses itself, so every reply is ours.
//!
//! Creating it takes one ioctl (`TUNSETIFF`) of its own; the rest is in [`crate::sys`].

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::time::Duration;

use crate::config::Prefix;
use crate::source::{PacketSource, Recv, SourceStats};
use crate::sys::{self, now_us, IfReq};

/// Packets the kernel may queue on the device for the sensor.
pub const TX_QUEUE_LEN: u32 = 10_000;

/// An open TUN device.
pub struct Tun {
    file: File,
    name: String,
    /// Every datagram comes with a `virtio_net_hdr` ([`Tun::create_with_offloads`]).
    vnet: bool,
}

/// The `virtio_net_hdr` in front of each datagram on a device with offloads.
const VNET_HDR_LEN: usize = 10;

/// Why a TUN device could not be set up; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum TunError {
    /// Opening `/dev/net/tun` failed.
    #[error("opening /dev/net/tun: {0} (run as root or with CAP_NET_ADMIN; load the tun module: modprobe tun)")]
    Open(io::Error),
    /// The name is not usable.
    #[error("bad TUN device name {0:?}: 1 to 15 characters, no '/' or whitespace")]
    Name(String),
    /// `TUNSETIFF` failed.
    #[error("creating TUN device {name}: {err} (EBUSY: the name is taken by another device or process; EPERM: needs root or CAP_NET_ADMIN)")]
    Create {
        /// The device name.
        name: String,
        /// The error.
        err: io::Error,
    },
    /// Bringing the device up or adding a route failed.
    #[error("configuring TUN device {name}: {what}")]
    Configure {
        /// The device name.
        name: String,
        /// What failed.
        what: String,
    },
}

// From <linux/if_tun.h> and <linux/if.h>.
const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const IFF_TUN: libc::c_short = 0x0001;
const IFF_NO_PI: libc::c_short = 0x1000;
const IFF_VNET_HDR: libc::c_short = 0x4000;
const TUNSETOFFLOAD: libc::c_ulong = 0x4004_54d0;
const TUN_F_CSUM: libc::c_ulong = 0x01;
const TUN_F_TSO4: libc::c_ulong = 0x02;

impl Tun {
    /// Creates (or attaches to) TUN device `name` and brings it up.
    pub fn create(name: &str) -> Result<Tun, TunError> {
        Tun::open(name, false)
    }

    /// [`Tun::create`], with TCP segmentation offload: the kernel may hand over a local
    /// sender's TCP data as one datagram of up to 64 KB (and leave its checksum to us,
    /// which we do not check), as it does to a virtual machine's NIC. A bulk session then
    /// costs one read per 64 KB instead of one per segment. What a telescope logs is
    /// unchanged for traffic that arrives from a network one segment at a time; merged
    /// datagrams (GRO on the way in) are logged as one, as a capture on that host shows
    /// them.
    pub fn create_with_offloads(name: &str) -> Result<Tun, TunError> {
        Tun::open(name, true)
    }

    fn open(name: &str, offloads: bool) -> Result<Tun, TunError> {
        if !sys::valid_interface_name(name) {
            return Err(TunError::Name(name.to_string()));
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/net/tun")
            .map_err(TunError::Open)?;
        let create_err = |err| TunError::Create {
            name: name.to_string(),
            err,
        };
        let mut req = IfReq::new(name);
        let vnet = if offloads { IFF_VNET_HDR } else { 0 };
        req.set_flags(IFF_TUN | IFF_NO_PI | vnet);
        // SAFETY: TUNSETIFF reads and writes one `struct ifreq`, which `IfReq` lays out, on a
        // descriptor we own.
        let rc = unsafe { libc::ioctl(file.as_raw_fd(), TUNSETIFF as _, &mut req as *mut IfReq) };
        if rc < 0 {
            return Err(create_err(io::Error::last_os_error()));
        }
        if offloads {
            // SAFETY: TUNSETOFFLOAD takes its flags by value, on a descriptor we own.
            let rc = unsafe {
                libc::ioctl(
                    file.as_raw_fd(),
                    TUNSETOFFLOAD as _,
                    TUN_F_CSUM | TUN_F_TSO4,
                )
            };
            if rc < 0 {
                return Err(create_err(io::Error::last_os_error()));
            }
        }
        sys::set_nonblocking(file.as_raw_fd()).map_err(create_err)?;
        let tun = Tun {
            file,
            name: name.to_string(),
            vnet: offloads,
        };
        // Bursts (a scan sweeping the prefix, a thousand FINs at once) overflow the default
        // 500 packets; the kernel counts what still overflows (`kernel_drops`).
        sys::set_tx_queue_len(name, TX_QUEUE_LEN)
            .map_err(|e| tun.configure_err(format!("setting its queue length: {e}")))?;
        sys::set_up(name).map_err(|e| tun.configure_err(format!("bringing it up: {e}")))?;
        Ok(tun)
    }

    /// The device's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn configure_err(&self, what: String) -> TunError {
        TunError::Configure {
            name: self.name.clone(),
            what,
        }
    }

    /// Routes `prefix` to the device (`ip route replace PREFIX dev NAME`).
    pub fn route(&self, prefix: Prefix) -> Result<(), TunError> {
        let out = Command::new("ip")
            .args(["route", "replace", &prefix.to_string(), "dev", &self.name])
            .output()
            .map_err(|e| {
                self.configure_err(format!("running ip (iproute2) to add a route: {e}"))
            })?;
        if !out.status.success() {
            return Err(self.configure_err(format!(
                "ip route replace {prefix} dev {}: {}",
                self.name,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(())
    }

    /// Waits up to `timeout` for a datagram; `Ok(None)` when none came.
    pub fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<Option<usize>> {
        // A datagram already waiting is read at once.
        for attempt in 0..2 {
            match self.read_one(buf) {
                Ok(n) => return Ok(Some(n)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if attempt == 1
                        || timeout.is_zero()
                        || !sys::wait_readable(self.file.as_raw_fd(), timeout)?
                    {
                        return Ok(None);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// One datagram into `buf`, without its `virtio_net_hdr` (read into a side buffer by
    /// the same call).
    fn read_one(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.vnet {
            return self.file.read(buf);
        }
        let mut hdr = [0u8; VNET_HDR_LEN];
        let iov = [
            libc::iovec {
                iov_base: hdr.as_mut_ptr().cast(),
                iov_len: hdr.len(),
            },
            libc::iovec {
                iov_base: buf.as_mut_ptr().cast(),
                iov_len: buf.len(),
            },
        ];
        // SAFETY: both iovecs point into live buffers of the lengths given.
        let n = unsafe { libc::readv(self.file.as_raw_fd(), iov.as_ptr(), 2) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((n as usize).saturating_sub(VNET_HDR_LEN))
    }

    /// Sends one datagram (a full device queue is an error the caller counts).
    pub fn send(&mut self, packet: &[u8]) -> io::Result<()> {
        if !self.vnet {
            return self.file.write(packet).map(|_| ());
        }
        // No offload asked: a zero header, and the checksums we computed.
        let hdr = [0u8; VNET_HDR_LEN];
        let iov = [
            libc::iovec {
                iov_base: hdr.as_ptr() as *mut libc::c_void,
                iov_len: hdr.len(),
            },
            libc::iovec {
                iov_base: packet.as_ptr() as *mut libc::c_void,
                iov_len: packet.len(),
            },
        ];
        // SAFETY: both iovecs point into live buffers of the lengths given; writev only
        // reads them.
        let n = unsafe { libc::writev(self.file.as_raw_fd(), iov.as_ptr(), 2) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Datagrams the kernel dropped at this device because we did not read them fast
    /// enough (its TX drop counter: towards us), if the kernel says.
    pub fn kernel_drops(&self) -> Option<u64> {
        std::fs::read_to_string(format!(
            "/sys/class/net/{}/statistics/tx_dropped",
            self.name
        ))
        .ok()?
        .trim()
        .parse()
        .ok()
    }
}

impl PacketSource for Tun {
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<Recv> {
        Ok(match Tun::recv(self, buf, timeout)? {
            Some(n) => Recv::Packet {
                range: 0..n,
                ts_us: now_us(),
            },
            None => Recv::Idle,
        })
    }

    fn send(&mut self, packet: &[u8]) -> io::Result<()> {
        Tun::send(self, packet)
    }

    fn now_us(&self) -> i64 {
        now_us()
    }

    fn stats(&self) -> SourceStats {
        SourceStats {
            kernel_drops: self.kernel_drops(),
            ..SourceStats::default()
        }
    }

    fn describe(&self) -> String {
        format!("TUN device {}", self.name)
    }

    fn fd(&self) -> Option<std::os::fd::RawFd> {
        Some(self.file.as_raw_fd())
    }
}
