//! A Linux TUN device: the packet source for routed prefixes. The kernel hands us every
//! datagram routed to the device and sends whatever we write back to it; it never owns the
//! claimed addresses itself, so every reply is ours.
//!
//! Creating it takes one ioctl (`TUNSETIFF`) of its own; the rest is in [`crate::sys`].

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
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
    /// Also ends a wait when readable ([`PacketSource::wake_on`]).
    wake: Option<RawFd>,
}

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

impl Tun {
    /// Creates (or attaches to) TUN device `name` and brings it up.
    pub fn create(name: &str) -> Result<Tun, TunError> {
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
        req.set_flags(IFF_TUN | IFF_NO_PI);
        // SAFETY: TUNSETIFF reads and writes one `struct ifreq`, which `IfReq` lays out, on a
        // descriptor we own.
        let rc = unsafe { libc::ioctl(file.as_raw_fd(), TUNSETIFF as _, &mut req as *mut IfReq) };
        if rc < 0 {
            return Err(create_err(io::Error::last_os_error()));
        }
        sys::set_nonblocking(file.as_raw_fd()).map_err(create_err)?;
        let tun = Tun {
            file,
            name: name.to_string(),
            wake: None,
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
            match self.file.read(buf) {
                Ok(n) => return Ok(Some(n)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if attempt == 1
                        || sys::wait_readable_or(self.file.as_raw_fd(), self.wake, timeout)?
                            != sys::Waited::Readable
                    {
                        return Ok(None);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// Sends one datagram (a full device queue is an error the caller counts).
    pub fn send(&mut self, packet: &[u8]) -> io::Result<()> {
        self.file.write(packet).map(|_| ())
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

    fn wake_on(&mut self, fd: RawFd) {
        self.wake = Some(fd);
    }
}
