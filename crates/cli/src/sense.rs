//! `honeyscope sense`: the sensor. For now it runs on a capture file (`--pcap`); the live
//! packet sources (TUN, AF_PACKET) come with the rest of the sensor issue.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use honeyscope_event::{input, LocalZone};
use honeyscope_sensor::config::{Config, SEED_DEFAULT};
use honeyscope_sensor::offline::{self, Sinks, REPLY_LINK};
use honeyscope_sensor::Engine;
use honeyscope_wire::cookie::CookieKey;
use honeyscope_wire::PcapWriter;

use crate::fingerprint::load_database;

/// What `honeyscope sense` was asked to do.
pub struct SenseArgs {
    pub config: Option<PathBuf>,
    pub pcap: Option<PathBuf>,
    pub replies: Option<PathBuf>,
    pub log_dir: Option<PathBuf>,
    pub tz: String,
    pub p0f_db: Option<PathBuf>,
    pub cookie_key: Option<String>,
    pub print_config: bool,
}

fn load_config(path: Option<&Path>) -> Result<Config> {
    let Some(path) = path else {
        return Ok(Config::seed_default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the config {}", path.display()))?;
    Config::parse(&text).with_context(|| format!("in the config {}", path.display()))
}

fn cookie_key(hex: Option<&str>) -> Result<CookieKey> {
    let mut key = [0u8; 16];
    match hex {
        Some(h) => {
            let ok = h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit());
            if !ok {
                bail!("--cookie-key wants 32 hex digits (16 bytes)");
            }
            for (i, b) in key.iter_mut().enumerate() {
                *b = u8::from_str_radix(&h[2 * i..2 * i + 2], 16)?;
            }
        }
        None => File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut key))
            .context("reading 16 random bytes for the SYN cookie key from /dev/urandom")?,
    }
    Ok(CookieKey::new(key))
}

/// Runs the sensor.
pub fn run(args: SenseArgs) -> Result<()> {
    if args.print_config {
        print!("{SEED_DEFAULT}");
        return Ok(());
    }
    let cfg = load_config(args.config.as_deref())?;
    let Some(pcap) = args.pcap else {
        bail!(
            "live packet sources (TUN, AF_PACKET) are not built yet: run the sensor on a \
             capture with --pcap FILE (docs/SENSOR.md)"
        );
    };
    let tz = LocalZone::named(&args.tz)?;
    let db = load_database(args.p0f_db.as_deref())?;
    let key = cookie_key(args.cookie_key.as_deref())?;
    let dir = args
        .log_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&cfg.data_dir));
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating the log directory {}", dir.display()))?;
    let create = |name: &str| -> Result<BufWriter<File>> {
        let path = dir.join(name);
        let f = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(BufWriter::with_capacity(1 << 16, f))
    };
    let mut honeyd_log = create("honeyd.log")?;
    let mut json_log = create("events.jsonl")?;
    let mut replies_file = match &args.replies {
        Some(p) => Some(BufWriter::new(
            File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => None,
    };

    let file = File::open(&pcap).with_context(|| format!("opening {}", pcap.display()))?;
    let (reader, _) =
        input::decompress(file).with_context(|| format!("reading {}", pcap.display()))?;
    let mut engine = Engine::new(cfg, &db, key);
    let replay = {
        let replies = match replies_file.as_mut() {
            Some(w) => Some(PcapWriter::new(w as &mut dyn Write, REPLY_LINK)?),
            None => None,
        };
        let mut sinks = Sinks {
            honeyd: Some((&mut honeyd_log, &tz)),
            json: Some(&mut json_log),
            replies,
        };
        offline::replay(&mut engine, reader, &mut sinks)
            .with_context(|| format!("running the sensor on {}", pcap.display()))?
    };
    honeyd_log.flush()?;
    json_log.flush()?;
    if let Some(w) = replies_file.as_mut() {
        w.flush()?;
    }
    let s = engine.stats();
    eprintln!(
        "{}: {} frames ({} not IP); {} packets to claimed addresses, {} to others, {} malformed, \
         {} not IPv4; sent {} SYN+ACKs, {} RSTs, {} FIN+ACKs, {} port unreachables, {} echo replies; \
         {} handshakes completed ({} dropped from a full flow table); {} events in {}",
        pcap.display(),
        replay.frames,
        replay.not_ip,
        s.claimed,
        s.not_ours,
        s.malformed,
        s.not_ip,
        s.syn_acks,
        s.resets,
        s.fins,
        s.unreachables,
        s.echo_replies,
        s.handshakes,
        s.flows_evicted,
        replay.events,
        dir.display(),
    );
    Ok(())
}
