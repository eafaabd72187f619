//! `honeyscope fingerprint`: p0f v3 fingerprints of the TCP handshakes in captures.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use honeyscope_event::{input, Timestamp};
use honeyscope_wire::os_class::os_class;
use honeyscope_wire::p0f::{Database, Fingerprinter, Observation};
use honeyscope_wire::CaptureReader;

/// Where Debian's `p0f` package puts its database.
pub const DEBIAN_P0F_FP: &str = "/etc/p0f/p0f.fp";

/// Output of `honeyscope fingerprint`.
#[derive(Clone, Copy, ValueEnum)]
pub enum FingerprintFormat {
    /// One line per packet in p0f's log form, after the time.
    Text,
    /// One JSON object per packet.
    Json,
}

/// Loads the signature database: `path`, or Debian's when none is given.
pub fn load_database(path: Option<&Path>) -> Result<Database> {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None if Path::new(DEBIAN_P0F_FP).exists() => PathBuf::from(DEBIAN_P0F_FP),
        None => bail!(
            "no p0f signature database: pass --p0f-db FILE (Debian's p0f package installs \
             {DEBIAN_P0F_FP})"
        ),
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading the p0f database {}", path.display()))?;
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
    // source → class → packets.
    let mut classes: BTreeMap<String, BTreeMap<&'static str, u64>> = BTreeMap::new();
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
                let (client, server) = obs.endpoints();
                let who = match obs.sig.direction {
                    honeyscope_wire::p0f::Direction::Request => client,
                    honeyscope_wire::p0f::Direction::Response => server,
                };
                let host = who
                    .rsplit_once('/')
                    .map(|(h, _)| h.to_string())
                    .unwrap_or(who);
                let class = os_class(obs.found.label.map(|l| l.name.as_str()));
                *classes.entry(host).or_default().entry(class).or_default() += 1;
                continue;
            }
            match format {
                FingerprintFormat::Text => write_text(&mut out, frame.ts_us, &obs)?,
                FingerprintFormat::Json => write_json(&mut out, frame.ts_us, &obs)?,
            }
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
        writeln!(out, "source\tclass\tpackets")?;
        for (host, per_class) in &classes {
            for (class, n) in per_class {
                writeln!(out, "{host}\t{class}\t{n}")?;
            }
        }
    }
    out.flush().context("writing to standard output")?;
    Ok(())
}

fn write_text(out: &mut impl Write, ts_us: i64, obs: &Observation<'_>) -> Result<()> {
    let ts = Timestamp(ts_us).to_rfc3339();
    writeln!(out, "{ts} {obs}")?;
    if let Some(mtu) = obs.mtu_line() {
        writeln!(out, "{ts} {mtu}")?;
    }
    Ok(())
}

fn write_json(out: &mut impl Write, ts_us: i64, obs: &Observation<'_>) -> Result<()> {
    let (client, server) = obs.endpoints();
    let label = obs.found.label;
    let v = serde_json::json!({
        "ts": Timestamp(ts_us).to_rfc3339(),
        "kind": obs.kind(),
        "client": client,
        "server": server,
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
        "params": obs.found.params(obs.sig.tos),
        "raw_sig": obs.sig.raw(obs.syn_mss).to_string(),
        "mtu": obs.mtu.map(|m| m.0),
        "link": obs.mtu.and_then(|m| m.1),
    });
    writeln!(out, "{v}")?;
    Ok(())
}
