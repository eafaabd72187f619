//! Countries of source addresses: a MaxMind database (`.mmdb`, GeoIP2/GeoLite2 Country or
//! City) or a CSV of address ranges (`start,end,country`, the DB-IP lite layout).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// A loaded GeoIP source.
pub enum GeoIp {
    /// A MaxMind database.
    MaxMind(maxminddb::Reader<Vec<u8>>),
    /// Sorted, non-overlapping ranges.
    Ranges(Vec<(IpAddr, IpAddr, String)>),
}

/// A GeoIP source that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum GeoIpError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Not a MaxMind database.
    #[error("{path}: not a MaxMind database ({reason}); give a .mmdb file or a CSV of start,end,country ranges")]
    MaxMind {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A CSV line that is not `start,end,country`.
    #[error("{path}, line {line}: want start,end,country (e.g. 1.0.0.0,1.0.0.255,AU)")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
    },
}

impl GeoIp {
    /// Opens a `.mmdb` file (told by its content) or a range CSV.
    pub fn open(path: &Path) -> Result<GeoIp, GeoIpError> {
        let bytes = std::fs::read(path).map_err(|source| GeoIpError::Io {
            path: path.into(),
            source,
        })?;
        // A MaxMind database ends with its metadata, introduced by this marker.
        const MARKER: &[u8] = b"\xab\xcd\xefMaxMind.com";
        if bytes.windows(MARKER.len()).any(|w| w == MARKER) {
            let reader =
                maxminddb::Reader::from_source(bytes).map_err(|e| GeoIpError::MaxMind {
                    path: path.into(),
                    reason: e.to_string(),
                })?;
            return Ok(GeoIp::MaxMind(reader));
        }
        let text = String::from_utf8_lossy(&bytes);
        let mut ranges = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = || GeoIpError::Csv {
                path: path.into(),
                line: i + 1,
            };
            let mut f = line.split(',').map(|s| s.trim().trim_matches('"'));
            let (Some(a), Some(b), Some(c)) = (f.next(), f.next(), f.next()) else {
                return Err(bad());
            };
            // A header line is allowed.
            if i == 0 && a.parse::<IpAddr>().is_err() {
                continue;
            }
            let (a, b): (IpAddr, IpAddr) =
                (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
            if a.is_ipv4() != b.is_ipv4() || a > b || c.is_empty() {
                return Err(bad());
            }
            ranges.push((a, b, c.to_string()));
        }
        ranges.sort();
        Ok(GeoIp::Ranges(ranges))
    }

    /// The ISO country code of `ip`, if known.
    pub fn country(&self, ip: IpAddr) -> Option<String> {
        match self {
            GeoIp::MaxMind(r) => {
                let found = r.lookup(ip).ok()?;
                let c: maxminddb::geoip2::Country = found.decode().ok()??;
                c.country
                    .iso_code
                    .or(c.registered_country.iso_code)
                    .map(str::to_string)
            }
            GeoIp::Ranges(ranges) => {
                let i = ranges.partition_point(|(start, _, _)| *start <= ip);
                let (start, end, country) = ranges.get(i.checked_sub(1)?)?;
                (start.is_ipv4() == ip.is_ipv4() && ip <= *end).then(|| country.clone())
            }
        }
    }

    /// [`GeoIp::country`] of an address in text form.
    pub fn country_of_text(&self, ip: &str) -> Option<String> {
        self.country(ip.parse().ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(rel: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/geoip")
            .join(rel)
    }

    #[test]
    fn maxmind_test_databases_answer() {
        for db in ["GeoLite2-Country-Test.mmdb", "GeoIP2-Country-Test.mmdb"] {
            let g = GeoIp::open(&shared(db)).unwrap();
            assert_eq!(
                g.country_of_text("81.2.69.142").as_deref(),
                Some("GB"),
                "{db}"
            );
            assert_eq!(
                g.country_of_text("202.196.224.1").as_deref(),
                Some("PH"),
                "{db}"
            );
            assert_eq!(
                g.country_of_text("111.235.160.1").as_deref(),
                Some("CN"),
                "{db}"
            );
            assert_eq!(
                g.country_of_text("89.160.20.113").as_deref(),
                Some("SE"),
                "{db}"
            );
            assert_eq!(g.country_of_text("10.0.0.1"), None);
        }
    }

    #[test]
    fn range_csv_answers_and_rejects_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ranges.csv");
        std::fs::write(
            &p,
            "start,end,country\n93.174.88.0,93.174.95.255,NL\n1.0.0.0,1.0.0.255,AU\n2001:db8::,2001:db8::ffff,ZZ\n",
        )
        .unwrap();
        let g = GeoIp::open(&p).unwrap();
        assert_eq!(g.country_of_text("93.174.93.12").as_deref(), Some("NL"));
        assert_eq!(g.country_of_text("1.0.0.0").as_deref(), Some("AU"));
        assert_eq!(g.country_of_text("1.0.1.0"), None);
        assert_eq!(g.country_of_text("2001:db8::1").as_deref(), Some("ZZ"));
        std::fs::write(&p, "1.0.0.0,1.0.0.255,AU\nnonsense\n").unwrap();
        let e = GeoIp::open(&p).err().unwrap().to_string();
        assert!(e.contains("line 2"), "{e}");
    }
}
