//! A Linux TUN device: the packet source for routed prefixes. The kernel hands us every
//! datagram routed to the device and sends whatever we write back to it; it never owns the
//! claimed addresses itself, so every reply is ours.
//!
//! The few system calls (open, `TUNSETIFF`, `SIOCSIFFLAGS`, poll, read, write) go through
//! `libc`; this is the crate's only `unsafe` code, each call with its reason.

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::process::Command;
use std::time::Duration;

use crate::config::Prefix;

/// Largest datagram we read (the device's default MTU is 1500; this leaves room).
pub const MAX_PACKET: usize = 65_536;

/// An open TUN device.
pub struct Tun {
    file: File,
    name: String,
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

#[repr(C)]
struct IfReq {
    name: [libc::c_char; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

impl IfReq {
    fn new(name: &str) -> IfReq {
        let mut r = IfReq {
            name: [0; libc::IFNAMSIZ],
            flags: 0,
            _pad: [0; 22],
        };
        for (d, s) in r.name.iter_mut().zip(name.bytes()) {
            *d = s as libc::c_char;
        }
        r
    }
}

impl Tun {
    /// Creates (or attaches to) TUN device `name` and brings it up.
    pub fn create(name: &str) -> Result<Tun, TunError> {
        if name.is_empty()
            || name.len() >= libc::IFNAMSIZ
            || name
                .bytes()
                .any(|b| b == b'/' || b.is_ascii_whitespace() || b == 0)
        {
            return Err(TunError::Name(name.to_string()));
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/net/tun")
            .map_err(TunError::Open)?;
        let mut req = IfReq::new(name);
        req.flags = IFF_TUN | IFF_NO_PI;
        // SAFETY: TUNSETIFF reads and writes one `struct ifreq`, which `IfReq` lays out
        // (name, flags, padding to its 40 bytes), on a descriptor we own.
        let rc = unsafe { libc::ioctl(file.as_raw_fd(), TUNSETIFF, &mut req as *mut IfReq) };
        if rc < 0 {
            return Err(TunError::Create {
                name: name.to_string(),
                err: io::Error::last_os_error(),
            });
        }
        // Non-blocking reads: under load each datagram costs one read, not a poll and a read.
        // SAFETY: F_GETFL/F_SETFL on a descriptor we own.
        let rc = unsafe {
            let flags = libc::fcntl(file.as_raw_fd(), libc::F_GETFL);
            if flags < 0 {
                flags
            } else {
                libc::fcntl(file.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK)
            }
        };
        if rc < 0 {
            return Err(TunError::Create {
                name: name.to_string(),
                err: io::Error::last_os_error(),
            });
        }
        let tun = Tun {
            file,
            name: name.to_string(),
        };
        tun.set_up()?;
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

    /// Sets IFF_UP on the device.
    fn set_up(&self) -> Result<(), TunError> {
        // SAFETY: a plain datagram socket for the interface ioctls; closed below.
        let sock = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0) };
        if sock < 0 {
            return Err(self.configure_err(io::Error::last_os_error().to_string()));
        }
        let mut req = IfReq::new(&self.name);
        // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS read and write one `struct ifreq`.
        let rc = unsafe {
            let mut rc = libc::ioctl(sock, libc::SIOCGIFFLAGS, &mut req as *mut IfReq);
            if rc >= 0 {
                req.flags |= libc::IFF_UP as libc::c_short;
                rc = libc::ioctl(sock, libc::SIOCSIFFLAGS, &mut req as *mut IfReq);
            }
            rc
        };
        let err = io::Error::last_os_error();
        // SAFETY: `sock` is ours and open.
        unsafe { libc::close(sock) };
        if rc < 0 {
            return Err(self.configure_err(format!("bringing it up: {err}")));
        }
        Ok(())
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
        match self.file.read(buf) {
            Ok(n) => return Ok(Some(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(None),
            Err(e) => return Err(e),
        }
        let mut pfd = libc::pollfd {
            fd: self.file.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
        // SAFETY: one valid pollfd for a descriptor we own.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted {
                Ok(None)
            } else {
                Err(e)
            };
        }
        if rc == 0 {
            return Ok(None);
        }
        match self.file.read(buf) {
            Ok(n) => Ok(Some(n)),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
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

    /// The raw descriptor (for diagnostics).
    pub fn fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

/// `user`'s uid and gid.
fn user_ids(user: &str) -> io::Result<(libc::uid_t, libc::gid_t)> {
    let name = CString::new(user).map_err(|_| io::Error::other("user name has a NUL"))?;
    // SAFETY: getpwnam returns a pointer into static storage or NULL; we copy what we need
    // before any other call that might reuse it.
    unsafe {
        let pw = libc::getpwnam(name.as_ptr());
        if pw.is_null() {
            return Err(io::Error::other(format!(
                "no user {user:?} to drop privileges to (create it, or pass --user)"
            )));
        }
        Ok(((*pw).pw_uid, (*pw).pw_gid))
    }
}

/// Gives `dir` to `user`, so the sensor can still create its daily log files there once it
/// runs as that user.
pub fn give_to(dir: &std::path::Path, user: &str) -> io::Result<()> {
    let (uid, gid) = user_ids(user)?;
    std::os::unix::fs::chown(dir, Some(uid), Some(gid))
}

/// Drops root: switches to `user`'s uid and gid (and drops supplementary groups).
pub fn drop_privileges(user: &str) -> io::Result<()> {
    let (uid, gid) = user_ids(user)?;
    // SAFETY: plain system calls on the current process; order matters (groups and gid
    // before uid, or we could no longer change them).
    let rc = unsafe {
        if libc::setgroups(0, std::ptr::null()) != 0 {
            -1
        } else if libc::setgid(gid) != 0 {
            -2
        } else if libc::setuid(uid) != 0 {
            -3
        } else {
            0
        }
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Whether the process runs as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}
