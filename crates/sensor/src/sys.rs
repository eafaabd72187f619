//! The few system calls the live packet sources share (interface ioctls, waiting on a
//! descriptor, dropping root), through `libc`. With [`crate::tun`] and [`crate::af_packet`],
//! this is the crate's only `unsafe` code, each call with its reason.

use std::ffi::CString;
use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

/// Microseconds since the epoch, now: the live sources' clock.
pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// Whether `name` can name a network interface: 1 to 15 bytes, no '/', whitespace or NUL.
pub fn valid_interface_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() < libc::IFNAMSIZ
        && !name
            .bytes()
            .any(|b| b == b'/' || b.is_ascii_whitespace() || b == 0)
}

/// `struct ifreq`: the interface name, then a 24-byte union (flags, or a hardware address as
/// a `struct sockaddr`).
#[repr(C)]
pub(crate) struct IfReq {
    pub(crate) name: [libc::c_char; libc::IFNAMSIZ],
    pub(crate) data: [u8; 24],
}

impl IfReq {
    pub(crate) fn new(name: &str) -> IfReq {
        let mut r = IfReq {
            name: [0; libc::IFNAMSIZ],
            data: [0; 24],
        };
        for (d, s) in r.name.iter_mut().zip(name.bytes()) {
            *d = s as libc::c_char;
        }
        r
    }

    pub(crate) fn flags(&self) -> libc::c_short {
        libc::c_short::from_ne_bytes([self.data[0], self.data[1]])
    }

    pub(crate) fn set_flags(&mut self, flags: libc::c_short) {
        self.data[..2].copy_from_slice(&flags.to_ne_bytes());
    }
}

/// Runs one interface ioctl (`SIOCGIFFLAGS`, `SIOCGIFHWADDR`, …) on a throwaway socket.
fn interface_ioctl(req: &mut IfReq, op: libc::c_ulong) -> io::Result<()> {
    // SAFETY: a plain datagram socket for the interface ioctls; closed below.
    let sock = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0) };
    if sock < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the interface ioctls read and write one `struct ifreq`, which `IfReq` lays out.
    let rc = unsafe { libc::ioctl(sock, op as _, req as *mut IfReq) };
    let err = io::Error::last_os_error();
    // SAFETY: `sock` is ours and open.
    unsafe { libc::close(sock) };
    if rc < 0 {
        return Err(err);
    }
    Ok(())
}

/// Sets IFF_UP on interface `name`.
pub fn set_up(name: &str) -> io::Result<()> {
    let mut req = IfReq::new(name);
    interface_ioctl(&mut req, libc::SIOCGIFFLAGS as _)?;
    req.set_flags(req.flags() | libc::IFF_UP as libc::c_short);
    interface_ioctl(&mut req, libc::SIOCSIFFLAGS as _)
}

/// Sets interface `name`'s transmit queue length: for a TUN device, how many packets the
/// kernel holds for us before it drops (and counts) them.
pub fn set_tx_queue_len(name: &str, len: u32) -> io::Result<()> {
    let mut req = IfReq::new(name);
    req.data[..4].copy_from_slice(&(len.min(i32::MAX as u32) as libc::c_int).to_ne_bytes());
    interface_ioctl(&mut req, libc::SIOCSIFTXQLEN as _)
}

/// Interface `name`'s hardware (MAC) address.
pub fn hw_addr(name: &str) -> io::Result<[u8; 6]> {
    let mut req = IfReq::new(name);
    interface_ioctl(&mut req, libc::SIOCGIFHWADDR as _)?;
    // sockaddr: family (2 bytes), then the address.
    let mut mac = [0; 6];
    mac.copy_from_slice(&req.data[2..8]);
    Ok(mac)
}

/// Interface `name`'s index.
pub fn interface_index(name: &str) -> io::Result<libc::c_int> {
    let c = CString::new(name).map_err(|_| io::Error::other("interface name has a NUL"))?;
    // SAFETY: a NUL-terminated string that outlives the call.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if i == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(i as libc::c_int)
}

/// The IPv4 addresses the kernel has on interface `name`.
pub fn interface_ipv4(name: &str) -> io::Result<Vec<std::net::Ipv4Addr>> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills a list we free below with freeifaddrs.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut found = vec![];
    let mut at = list;
    // SAFETY: walks the list getifaddrs made; every pointer in it is valid until it is freed,
    // and `ifa_addr` points at a `sockaddr_in` when its family is AF_INET.
    unsafe {
        while !at.is_null() {
            let ifa = &*at;
            let addr = ifa.ifa_addr;
            if !addr.is_null()
                && i32::from((*addr).sa_family) == libc::AF_INET
                && std::ffi::CStr::from_ptr(ifa.ifa_name).to_bytes() == name.as_bytes()
            {
                let sin = &*(addr as *const libc::sockaddr_in);
                found.push(std::net::Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)));
            }
            at = ifa.ifa_next;
        }
        libc::freeifaddrs(list);
    }
    Ok(found)
}

/// Makes `fd`'s reads non-blocking: under load each packet then costs one read, not a poll
/// and a read.
pub fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: F_GETFL/F_SETFL on a descriptor the caller owns.
    let rc = unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 {
            flags
        } else {
            libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK)
        }
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Waits up to `timeout` for `fd` to become readable. `false` on timeout or a signal.
pub fn wait_readable(fd: RawFd, timeout: Duration) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
    // SAFETY: one valid pollfd.
    let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok(false)
        } else {
            Err(e)
        };
    }
    Ok(rc > 0)
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
