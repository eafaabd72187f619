//! Appending numbers and addresses to text without going through `fmt`: the log writers
//! put several on every line, at up to millions of lines a second.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;

/// Appends `n` in decimal.
pub fn push_u64(out: &mut String, n: u64) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Decimal text of every octet value.
fn octet_text() -> &'static [String; 256] {
    static TABLE: OnceLock<[String; 256]> = OnceLock::new();
    TABLE.get_or_init(|| std::array::from_fn(|i| i.to_string()))
}

/// Appends an IPv4 address in dotted decimal to bytes.
pub fn extend_ipv4(out: &mut Vec<u8>, ip: Ipv4Addr) {
    let table = octet_text();
    let [a, b, c, d] = ip.octets();
    out.extend_from_slice(table[usize::from(a)].as_bytes());
    for o in [b, c, d] {
        out.push(b'.');
        out.extend_from_slice(table[usize::from(o)].as_bytes());
    }
}

/// Appends an address in its canonical text form (IPv4 without `fmt`).
pub fn push_ip(out: &mut String, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            let table = octet_text();
            let [a, b, c, d] = v4.octets();
            out.push_str(&table[usize::from(a)]);
            for o in [b, c, d] {
                out.push('.');
                out.push_str(&table[usize::from(o)]);
            }
        }
        IpAddr::V6(v6) => {
            use std::fmt::Write;
            let _ = write!(out, "{v6}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
