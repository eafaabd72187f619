//! What sessions leave behind: files stored once by SHA-256 in the artifacts directory, and
//! the download server a dropper was built to call back to.

use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};

use honeyscope_event::SessionEvent;
use sha2::{Digest, Sha256};

use crate::elf;

/// The artifacts directory: `<dir>/<sha256>`, each file written once.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

/// A file in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Its SHA-256, lowercase hex.
    pub sha256: String,
    /// Where it is.
    pub path: PathBuf,
    /// False when the store had it already.
    pub new: bool,
}

impl Store {
    /// A store in `dir`, made if missing.
    pub fn open(dir: &Path) -> io::Result<Store> {
        std::fs::create_dir_all(dir).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("artifacts directory {}: {e}", dir.display()),
            )
        })?;
        Ok(Store {
            dir: dir.to_path_buf(),
        })
    }

    /// Its directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stores `data` under its digest (written to a temporary name, then renamed, so a
    /// reader never sees half a file).
    pub fn put(&self, data: &[u8]) -> io::Result<Stored> {
        let sha256 = sha256_hex(data);
        let path = self.dir.join(&sha256);
        if path.exists() {
            return Ok(Stored {
                sha256,
                path,
                new: false,
            });
        }
        let tmp = self.dir.join(format!(".{sha256}.{}", std::process::id()));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_data().ok();
        std::fs::rename(&tmp, &path)?;
        Ok(Stored {
            sha256,
            path,
            new: true,
        })
    }
}

/// Fills in the file fields of a download or upload event for `data` (size, digest, ELF
/// architecture, callback address) and stores it when there is a store: `Some(true)`
/// stored, `Some(false)` not (the event's message says why), `None` no store.
pub fn describe(store: Option<&Store>, data: &[u8], e: &mut SessionEvent) -> Option<bool> {
    e.size = Some(data.len() as u64);
    e.arch = elf::inspect(data)
        .and_then(|i| i.arch)
        .map(|a| a.name().into());
    e.callback = callbacks(data).first().map(|a| a.to_string().into());
    let Some(store) = store else {
        e.shasum = Some(sha256_hex(data).into());
        return None;
    };
    match store.put(data) {
        Ok(s) => {
            e.outfile = Some(s.path.display().to_string().into());
            e.shasum = Some(s.sha256.into());
            Some(true)
        }
        Err(err) => {
            e.shasum = Some(sha256_hex(data).into());
            e.message = Some(format!("not stored: {err}").into());
            Some(false)
        }
    }
}

/// Fills in what a download request says (URL, host, port, tool, destination) on its
/// `cowrie.session.file_download` event: the same from the Telnet shell and from an HTTP
/// exploit.
pub fn download_fields(e: &mut SessionEvent, req: &crate::shell::download::Request) {
    url_fields(e, &req.url);
    e.method = Some(req.tool.into());
    e.destfile = req
        .dest
        .as_deref()
        .map(|d| honeyscope_event::text::escape_bytes(d).into());
}

/// A download's URL, host and port on its event.
pub fn url_fields(e: &mut SessionEvent, url: &crate::url::Url) {
    e.url = Some(url.to_string().into());
    e.host = Some(url.host.as_str().into());
    e.port = Some(url.port);
}

/// SHA-256 as lowercase hex.
pub fn sha256_hex(data: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(64);
    for b in Sha256::digest(data) {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s
}

/// The IPv4 addresses and ports a dropper embeds for its download server: `struct
/// sockaddr_in` images (`AF_INET` in either byte order, a port, a routable address, eight
/// zero bytes after), and `a.b.c.d:port` text. At most four, first seen first.
pub fn callbacks(data: &[u8]) -> Vec<SocketAddrV4> {
    let mut found: Vec<SocketAddrV4> = Vec::new();
    let mut add = |a: SocketAddrV4| {
        if found.len() < 4 && !found.contains(&a) && routable(*a.ip()) && a.port() != 0 {
            found.push(a);
        }
    };
    for w in data.windows(16) {
        let family_le = w[0] == 2 && w[1] == 0;
        let family_be = w[0] == 0 && w[1] == 2;
        if (family_le || family_be) && w[8..16].iter().all(|&b| b == 0) {
            // sin_port and sin_addr are in network order whatever the CPU.
            let port = u16::from_be_bytes([w[2], w[3]]);
            let ip = Ipv4Addr::new(w[4], w[5], w[6], w[7]);
            add(SocketAddrV4::new(ip, port));
        }
    }
    for (ip, port) in dotted_with_port(data) {
        add(SocketAddrV4::new(ip, port));
    }
    found
}

/// Whether a callback to `ip` could be real: not zero, loopback, broadcast or multicast.
fn routable(ip: Ipv4Addr) -> bool {
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.octets()[0] == 0)
}

/// `a.b.c.d:port` in text.
fn dotted_with_port(data: &[u8]) -> Vec<(Ipv4Addr, u16)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < data.len() && out.len() < 8 {
        if !data[i].is_ascii_digit()
            || (i > 0 && (data[i - 1].is_ascii_digit() || data[i - 1] == b'.'))
        {
            i += 1;
            continue;
        }
        let end = data[i..]
            .iter()
            .position(|b| !(b.is_ascii_digit() || *b == b'.' || *b == b':'))
            .map_or(data.len(), |n| i + n);
        if let Ok(text) = std::str::from_utf8(&data[i..end]) {
            if let Some((ip, port)) = text.split_once(':') {
                if let (Ok(ip), Ok(port)) = (ip.parse::<Ipv4Addr>(), port.parse::<u16>()) {
                    out.push((ip, port));
                }
            }
        }
        i = end.max(i + 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_once_by_digest() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("artifacts")).unwrap();
        let a = store.put(b"\x7fELF dropper").unwrap();
        assert!(a.new);
        assert_eq!(a.sha256.len(), 64);
        assert_eq!(std::fs::read(&a.path).unwrap(), b"\x7fELF dropper");
        let b = store.put(b"\x7fELF dropper").unwrap();
        assert!(!b.new);
        assert_eq!(a.path, b.path);
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn finds_sockaddrs_and_text() {
        // A little-endian sockaddr_in for 198.51.100.7:80 inside other bytes.
        let mut bin = vec![0x11u8; 40];
        bin.extend_from_slice(&[2, 0, 0, 80, 198, 51, 100, 7, 0, 0, 0, 0, 0, 0, 0, 0]);
        bin.extend_from_slice(b"\x00GET /bins/mirai.arm HTTP/1.0\r\nHost: 203.0.113.5:8080\r\n");
        assert_eq!(
            callbacks(&bin),
            vec![
                "198.51.100.7:80".parse().unwrap(),
                "203.0.113.5:8080".parse().unwrap()
            ]
        );
        // Zeroes alone, loopback, and plain version numbers are not callbacks.
        assert!(callbacks(&[0u8; 64]).is_empty());
        assert!(callbacks(b"\x02\x00\x00\x50\x7f\x00\x00\x01\0\0\0\0\0\0\0\0").is_empty());
        assert!(callbacks(b"BusyBox v1.19.4 (2014-03-19 17:52:07 CST)").is_empty());
    }
}
