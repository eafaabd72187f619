//! The report's results as typed records. The JSON output is these records serialised; its
//! keys are a contract documented in `docs/REPORT.md`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// A destination port and protocol, written `23/tcp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortSpec {
    /// IP protocol number (6 or 17).
    pub proto: u8,
    /// Port.
    pub port: u16,
}

impl PortSpec {
    /// The protocol's name as the report writes it.
    pub fn proto_name(self) -> &'static str {
        honeyscope_event::proto::name(self.proto)
    }
}

impl fmt::Display for PortSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.port, self.proto_name())
    }
}

/// A `PORT/PROTO` argument that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("bad port {0:?}: write PORT/tcp or PORT/udp, e.g. 23/tcp or 53413/udp")]
pub struct BadPortSpec(pub String);

impl FromStr for PortSpec {
    type Err = BadPortSpec;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadPortSpec(s.to_string());
        let (port, proto) = s.trim().split_once('/').ok_or_else(bad)?;
        let proto = match proto.to_ascii_lowercase().as_str() {
            "tcp" => 6,
            "udp" => 17,
            _ => return Err(bad()),
        };
        Ok(PortSpec {
            proto,
            port: port.parse().map_err(|_| bad())?,
        })
    }
}

/// Everything the report computed.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    /// Connections, sources and time span over all connections.
    pub totals: Totals,
    /// Connections per destination (protocol, port), busiest first.
    pub ports: Vec<PortRow>,
    /// Connections per day to the main port.
    pub daily: Vec<DailyRow>,
    /// Mean, busiest and quietest day of `daily`.
    pub daily_summary: DailySummary,
    /// Sources that hit the main port and one of the other named ports.
    pub multi_port_sources: Vec<MultiPortSource>,
    /// Activity windows of chosen sources.
    pub activity: Vec<Activity>,
    /// OS classes of the main port's connections.
    pub os: Vec<OsRow>,
    /// Countries of sources, when a GeoIP database was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub countries: Option<Vec<CountryRow>>,
    /// What the report was asked for.
    pub parameters: Parameters,
}

/// Totals over all connections.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Totals {
    /// Connections.
    pub connections: u64,
    /// Distinct source addresses.
    pub sources: u64,
    /// First connection (RFC 3339, UTC), if any.
    pub first: Option<String>,
    /// Last connection (RFC 3339, UTC), if any.
    pub last: Option<String>,
}

/// One row of table 1.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PortRow {
    /// Protocol name (`tcp`, `udp`, `icmp`, …).
    pub proto: String,
    /// Destination port; `null` for protocols without ports.
    pub port: Option<u16>,
    /// Connections.
    pub connections: u64,
    /// Share of all connections, percent.
    pub share_pct: f64,
    /// Distinct sources.
    pub sources: u64,
}

/// One day of figure 1.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DailyRow {
    /// The day (`YYYY-MM-DD`, in the report's zone).
    pub date: String,
    /// Protocol of the main port.
    pub proto: String,
    /// The main port.
    pub port: u16,
    /// Connections that day.
    pub connections: u64,
}

/// A day and its count.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DayCount {
    /// The day.
    pub date: String,
    /// Connections.
    pub connections: u64,
}

/// Summary of the daily counts.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DailySummary {
    /// Mean connections per day over the days the data spans.
    pub mean: f64,
    /// The busiest day (the earliest of ties).
    pub max: Option<DayCount>,
    /// The quietest day (the earliest of ties).
    pub min: Option<DayCount>,
}

/// A (protocol, port) and a count.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PortCount {
    /// Protocol name.
    pub proto: String,
    /// Port.
    pub port: Option<u16>,
    /// Connections.
    pub connections: u64,
}

/// One row of table 2.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MultiPortSource {
    /// Source address.
    pub src: String,
    /// Its country (ISO code), when a GeoIP database was given and knows it.
    pub country: Option<String>,
    /// Its connections on all ports.
    pub connections: u64,
    /// Its connections per port, busiest first.
    pub ports: Vec<PortCount>,
}

/// When one source was active.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Activity {
    /// Source address.
    pub src: String,
    /// Days with at least one connection.
    pub days_active: u32,
    /// Mean number of distinct active hours on an active day.
    pub hours_per_day: f64,
    /// Per port (`23/tcp`), the hours of the day (0–23) it was active on that port.
    pub hours: BTreeMap<String, Vec<u8>>,
    /// The hour-by-day grid: connections per (day, hour) and the busiest port then.
    pub grid: Vec<GridCell>,
}

/// One cell of an activity grid.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GridCell {
    /// The day.
    pub date: String,
    /// The hour (0–23, report's zone).
    pub hour: u8,
    /// Connections in that hour.
    pub connections: u64,
    /// The port with the most connections in that hour.
    pub port: String,
}

/// One row of table 3.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OsRow {
    /// OS class (`Linux`, `Windows`, `Solaris`, …, `unknown`).
    pub os: String,
    /// Connections.
    pub connections: u64,
    /// Share of the main port's connections, percent.
    pub share_pct: f64,
}

/// Sources and connections per country.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CountryRow {
    /// ISO country code, or `unknown`.
    pub country: String,
    /// Distinct sources.
    pub sources: u64,
    /// Connections.
    pub connections: u64,
}

/// The report's parameters, echoed in the output.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Parameters {
    /// The main port (`23/tcp`).
    pub port: String,
    /// The other named ports.
    pub also: Vec<String>,
    /// The zone days and hours are counted in.
    pub tz: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_specs_parse_and_print() {
        let p: PortSpec = "23/tcp".parse().unwrap();
        assert_eq!((p.proto, p.port), (6, 23));
        assert_eq!(
            "53413/UDP".parse::<PortSpec>().unwrap().to_string(),
            "53413/udp"
        );
        for bad in ["23", "23/icmp", "x/tcp", "70000/tcp", ""] {
            assert!(bad.parse::<PortSpec>().is_err(), "{bad}");
        }
    }
}
