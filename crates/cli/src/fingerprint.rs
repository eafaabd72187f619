//! `honeyscope fingerprint`: p0f v3 fingerprints of the TCP handshakes in captures.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::ValueEnum;
use honeyscope_event::{input, Timestamp};
use honeyscope_wire::os_class::os_class;
use honeyscope_wire::p0f::{Database, Fingerprinter, Observation, PushText};
use honeyscope_wire::CaptureReader;

/// Output of `honeyscope fingerprint`.
#[derive(Clone, Copy, ValueEnum)]
pub enum FingerprintFormat {
    /// One line per packet in p0f's log form, after the time.
    Text,
    /// One JSON object per packet.
    Json,
}

/// Loads the signature database: `path`, or honeyscope's built-in one when none is given.
pub fn load_database(path: Option<&Path>) -> Result<Database> {
    let Some(path) = path else {
        return Ok(Database::builtin());
    };
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "reading the p0f database {} (leave out --p0f-db to use the built-in one)",
            path.display()
        )
    })?;
    Database::parse(&text).with_context(|| format!("in the p0f database {}", path.display()))
}

/// Fingerprints every capture in turn, printing observations (or, with `summary`, the OS
/// classes seen per source) on standard output and the counts on standard error.
pub fn run(
    captures: &[PathBuf],
    db_path: Option<&Path>,
    format: FingerprintFormat,
    summary: bool,
) -> Result<()> {
    let db = load_database(db_path)?;
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    // (source, class) → packets.
    let mut classes: HashMap<(IpAddr, &'static str), u64> = HashMap::new();
    let mut line = String::with_capacity(256);
    let mut clock = SecondText::default();
    for path in captures {
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let (reader, _) =
            input::decompress(file).with_context(|| format!("reading {}", path.display()))?;
        let mut captured = CaptureReader::new(reader)
            .with_context(|| format!("{} is not a pcap or pcapng capture", path.display()))?;
        let mut fp = Fingerprinter::new(&db);
        let mut warning = None;
        loop {
            let frame = match captured.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(e) => {
                    warning = Some(e);
                    break;
                }
            };
            let Some(obs) = fp.frame(frame.link, frame.data, frame.ts_us) else {
                continue;
            };
            if summary {
                // The packet's sender is the host it describes.
                let class = os_class(obs.found.label.map(|l| l.name.as_str()));
                *classes.entry((obs.sig.src, class)).or_default() += 1;
                continue;
            }
            line.clear();
            match format {
                FingerprintFormat::Text => text_line(&mut line, &mut clock, frame.ts_us, &obs),
                FingerprintFormat::Json => json_line(&mut line, frame.ts_us, &obs),
            }
            out.write_all(line.as_bytes())?;
        }
        let c = fp.counts;
        eprintln!(
            "{}: {} frames, {} handshake packets fingerprinted; not fingerprinted: {} \
             malformed, {} other packets, {} retransmitted SYNs or unanswered SYN+ACKs{}",
            path.display(),
            c.frames,
            c.observed,
            c.malformed,
            c.other,
            c.unpaired,
            match fp.evicted() {
                0 => String::new(),
                n => format!("; {n} connections forgotten (handshake table full)"),
            }
        );
        if let Some(e) = warning {
            eprintln!(
                "{}: warning: capture ends early ({e}); kept what came before",
                path.display()
            );
        }
    }
    if summary {
        let mut rows: Vec<_> = classes.into_iter().collect();
        rows.sort();
        writeln!(out, "source\tclass\tpackets")?;
        for ((host, class), n) in rows {
            writeln!(out, "{host}\t{class}\t{n}")?;
        }
    }
    out.flush().context("writing to standard output")?;
    Ok(())
}

/// The last second written, and its text up to the fraction (`2016-04-01T00:00:01.`):
/// packets come many to a second, so the calendar work is done once per second.
#[derive(Default)]
struct SecondText {
    second: Option<i64>,
    text: String,
}

impl SecondText {
    /// Appends `ts_us` as RFC 3339 with microseconds, like [`Timestamp::write_rfc3339`].
    fn push(&mut self, out: &mut String, ts_us: i64) {
        let second = ts_us.div_euclid(1_000_000);
        if self.second != Some(second) {
            self.text.clear();
            Timestamp(second * 1_000_000).write_rfc3339(&mut self.text);
            // Keep `…:SS.`; the fraction and `Z` are written per packet.
            self.text.truncate(self.text.len().saturating_sub(7));
            self.second = Some(second);
        }
        out.push_str(&self.text);
        let micros = ts_us.rem_euclid(1_000_000) as u32;
        let mut digits = [b'0'; 6];
        let mut v = micros;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (v % 10) as u8;
            v /= 10;
        }
        for d in digits {
            out.push(d as char);
        }
        out.push('Z');
    }
}

/// The time, then p0f's log line (and its MTU line), each ending in a newline.
fn text_line(line: &mut String, clock: &mut SecondText, ts_us: i64, obs: &Observation<'_>) {
    let start = line.len();
    clock.push(line, ts_us);
    let ts_end = line.len();
    line.push(' ');
    obs.push_text(line);
    line.push('\n');
    if let Some(mtu) = obs.mtu_line() {
        line.extend_from_within(start..ts_end);
        line.push(' ');
        mtu.push_text(line);
        line.push('\n');
    }
}

/// One JSON object per packet.
fn json_line(line: &mut String, ts_us: i64, obs: &Observation<'_>) {
    let (client, server) = obs.endpoints();
    let label = obs.found.label;
    let v = serde_json::json!({
        "ts": Timestamp(ts_us).to_rfc3339(),
        "kind": obs.kind(),
        "client": client.to_string(),
        "server": server.to_string(),
        "label": label.map(|l| l.to_string()),
        "os_class": os_class(label.map(|l| l.name.as_str())),
        "name": label.map(|l| l.name.as_str()),
        "flavor": label.and_then(|l| l.flavor.as_deref()),
        "class": label.and_then(|l| l.class.as_deref()),
        "app": label.is_some_and(|l| l.is_app()),
        "generic": obs.found.generic(),
        "fuzzy": obs.found.fuzzy,
        "distance": obs.found.distance,
        "random_ttl": obs.found.random_ttl(),
        "params": obs.found.params(obs.sig.tos).to_string(),
        "raw_sig": obs.sig.raw(obs.syn_mss).to_string(),
        "mtu": obs.mtu.map(|m| m.0),
        "link": obs.mtu.and_then(|m| m.1),
    });
    line.push_str(&v.to_string());
    line.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_seconds_write_the_same_time_stamps() {
        let mut clock = SecondText::default();
        for ts in [
            0,
            1,
            999_999,
            1_000_000,
            1_459_468_801_000_100,
            -1,
            -1_000_001,
            86_399_999_999,
        ] {
            let mut ours = String::new();
            clock.push(&mut ours, ts);
            assert_eq!(ours, Timestamp(ts).to_rfc3339(), "{ts}");
        }
    }
}
