//! `honeyscope sense`: the sensor, live on a TUN device (`--tun`) or an Ethernet interface
//! (`--interface`, answering ARP), or on a capture file (`--pcap`).

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use honeyscope_event::{input, LocalZone};
use honeyscope_sensor::af_packet::AfPacket;
use honeyscope_sensor::config::{Config, SEED_DEFAULT};
use honeyscope_sensor::lan::{ArpConfig, ArpPolicy};
use honeyscope_sensor::listen;
use honeyscope_sensor::log::{DailyLog, EventLog};
use honeyscope_sensor::offline::{self, REPLY_LINK};
use honeyscope_sensor::source::{NoPackets, PacketSource};
use honeyscope_sensor::sys;
use honeyscope_sensor::tun::Tun;
use honeyscope_sensor::{live, Engine};
use honeyscope_wire::cookie::CookieKey;
use honeyscope_wire::PcapWriter;

use crate::fingerprint::load_database;

/// What `honeyscope sense` was asked to do.
#[derive(clap::Args)]
pub struct SenseArgs {
    /// The sensor's TOML config (default: the built-in one).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Run on the packets of this capture (pcap or pcapng, plain, gzip or zstd).
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
    /// Write the replies to this capture (raw IPv4).
    #[arg(long, value_name = "FILE")]
    pub replies: Option<PathBuf>,
    /// Directory for honeyd.log, events.jsonl, artifacts/ and sessions/ (default: the
    /// config's data_dir).
    #[arg(long, value_name = "DIR")]
    pub log_dir: Option<PathBuf>,
    /// Time zone of the Honeyd log's local timestamps (IANA name, UTC, +09:00, local).
    #[arg(long, default_value = "local", value_name = "ZONE")]
    pub tz: String,
    /// A p0f v3 signature database for the sources' OS (default: the built-in one).
    #[arg(long, value_name = "FILE")]
    pub p0f_db: Option<PathBuf>,
    /// The SYN cookie key, 32 hex digits, for replies that are the same on every run
    /// (default: random).
    #[arg(long, value_name = "HEX")]
    pub cookie_key: Option<String>,
    /// Print the built-in config (a commented starting point for your own) and exit.
    #[arg(long)]
    pub print_config: bool,
    /// Run live on this TUN device (created if missing, brought up).
    #[arg(long, value_name = "NAME")]
    pub tun: Option<String>,
    /// With --tun: route the config's prefixes to the device.
    #[arg(long)]
    pub route: bool,
    /// Run live on this Ethernet interface (AF_PACKET), answering ARP for the claimed
    /// addresses. Only on a LAN where they are unused: see --arp.
    #[arg(long, value_name = "NAME")]
    pub interface: Option<String>,
    /// With --interface: `probe` answers ARP only for addresses no other host answers for,
    /// after asking (farpd's way); `all` answers for every claimed address at once.
    #[arg(long, default_value = "probe", value_name = "POLICY", value_parser = ["probe", "all"])]
    pub arp: String,
    /// Live: also write every packet read to this capture (raw IP, with the time the sensor
    /// stamped it), so `--pcap` can replay the run exactly.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Live: the user to drop to once the device or socket is open.
    #[arg(long, default_value = "nobody", value_name = "USER")]
    pub user: String,
    /// Live: stay root (not recommended).
    #[arg(long)]
    pub keep_root: bool,
    /// Live: event batches that may wait for the log writer; beyond that they are dropped
    /// and counted.
    #[arg(long, default_value_t = 4096, value_name = "N")]
    pub queue: usize,
    /// Live: serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9100).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,
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
    let mut cfg = load_config(args.config.as_deref())?;
    let sources = [
        args.pcap.is_some(),
        args.tun.is_some(),
        args.interface.is_some(),
    ];
    let given = sources.iter().filter(|&&s| s).count();
    let listen_only = given == 0 && !cfg.listen.is_empty();
    if given > 1 || (given == 0 && !listen_only) {
        bail!(
            "say where packets come from, one of: --tun NAME (live, on a TUN device; --route \
             adds the config's prefixes to it), --interface NAME (live, on an Ethernet \
             interface, answering ARP) or --pcap FILE (a capture); or give a config with \
             [[listen]] entries to serve on kernel sockets only (docs/SENSOR.md)"
        );
    }
    let tz = LocalZone::named(&args.tz)?;
    let db = load_database(args.p0f_db.as_deref())?;
    let key = cookie_key(args.cookie_key.as_deref())?;
    let dir = args
        .log_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&cfg.data_dir));
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating the log directory {}", dir.display()))?;
    // Artifacts and transcripts go beside the logs.
    cfg.data_dir = dir.to_string_lossy().into_owned();
    let tz = std::sync::Arc::new(tz);
    let mut engine = Engine::new(cfg, &db, key);

    if args.tun.is_some() || args.interface.is_some() || listen_only {
        return run_live(&args, &mut engine, &dir, tz);
    }

    let create = |name: &str| -> Result<Box<dyn Write + Send>> {
        let path = dir.join(name);
        let f = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        // The event log buffers its lines itself.
        Ok(Box::new(f))
    };
    let mut log = EventLog::new(
        Some((create("honeyd.log")?, tz)),
        Some(create("events.jsonl")?),
    );
    let pcap = args.pcap.unwrap_or_default();
    let mut replies_file = match &args.replies {
        Some(p) => Some(BufWriter::new(
            File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => None,
    };
    let file = File::open(&pcap).with_context(|| format!("opening {}", pcap.display()))?;
    let (reader, _) =
        input::decompress(file).with_context(|| format!("reading {}", pcap.display()))?;
    let mut replies = match replies_file.as_mut() {
        Some(w) => Some(PcapWriter::new(w, REPLY_LINK)?),
        None => None,
    };
    let replay = offline::replay(&mut engine, reader, &mut log, replies.as_mut())
        .with_context(|| format!("running the sensor on {}", pcap.display()))?;
    if let Some(w) = replies_file.as_mut() {
        w.flush()?;
    }
    eprintln!(
        "{}: {} frames ({} not IP); {}; {} events in {}",
        pcap.display(),
        replay.frames,
        replay.not_ip,
        engine.stats(),
        replay.events,
        dir.display(),
    );
    Ok(())
}

/// The live sensor: open the source, bind the listeners and the metrics port, drop root,
/// run until a signal.
fn run_live(
    args: &SenseArgs,
    engine: &mut Engine<'_>,
    dir: &Path,
    tz: std::sync::Arc<LocalZone>,
) -> Result<()> {
    let claims = args.tun.is_some() || args.interface.is_some();
    if claims && !sys::is_root() {
        bail!(
            "live sensing needs root (or CAP_NET_ADMIN and CAP_NET_RAW) to open the device; \
             it drops to --user after"
        );
    }
    let mut source: Box<dyn PacketSource> = match (&args.tun, &args.interface) {
        (Some(name), _) => {
            let dev = Tun::create_with_offloads(name)?;
            if args.route {
                for p in &engine.config().prefixes {
                    dev.route(*p)?;
                }
            }
            Box::new(dev)
        }
        (None, Some(name)) => {
            let policy = if args.arp == "all" {
                ArpPolicy::All
            } else {
                ArpPolicy::Probe
            };
            let arp = ArpConfig {
                policy,
                ..ArpConfig::default()
            };
            Box::new(AfPacket::open(name, &engine.config().prefixes, arp)?)
        }
        (None, None) => Box::new(NoPackets),
    };
    // Bound before dropping root, so privileged ports work too.
    let listeners = listen::bind(&engine.config().listen)?;
    let listening: Vec<String> = listeners
        .iter()
        .map(|b| {
            let e = b.entry();
            let shown = e
                .reported_port
                .map(|p| format!(", logged as port {p}"))
                .unwrap_or_default();
            format!("{} ({}{shown})", e.address, e.service.name())
        })
        .collect();
    if let Some(path) = &args.record {
        let f = File::create(path).with_context(|| format!("creating {}", path.display()))?;
        source = Box::new(
            honeyscope_sensor::source::Recording::new(source, BufWriter::new(f))
                .with_context(|| format!("writing {}", path.display()))?,
        );
    }
    // Bound before dropping root, so a privileged port works too.
    let shared = match &args.metrics {
        Some(addr) => {
            let shared = honeyscope_sensor::metrics::Shared::default();
            let bound = honeyscope_sensor::metrics::serve(addr, shared.clone())
                .with_context(|| format!("serving metrics on {addr}"))?;
            eprintln!("metrics on http://{bound}/metrics");
            Some(shared)
        }
        None => None,
    };
    if !args.keep_root && sys::is_root() {
        sys::give_to(dir, &args.user).with_context(|| {
            format!(
                "giving the log directory {} to {:?}",
                dir.display(),
                args.user
            )
        })?;
        sys::drop_privileges(&args.user).with_context(|| {
            format!(
                "dropping root to user {:?} (pass --keep-root to stay root)",
                args.user
            )
        })?;
    }
    let what = source.describe();
    let routes = match (&args.tun, args.route) {
        (Some(_), true) => "; routes added",
        (Some(_), false) => "; no routes added",
        _ => match args.arp.as_str() {
            "all" => "; answering ARP for every claimed address",
            _ => "; answering ARP for claimed addresses no other host answers for",
        },
    };
    let routes = if claims { routes } else { "" };
    if !claims {
        eprintln!(
            "no --tun or --interface given, so no prefix is claimed: serving on kernel sockets \
             only{}",
            if args.config.is_none() {
                " (the built-in config listens on loopback; see --print-config)"
            } else {
                ""
            }
        );
    }
    if !listening.is_empty() {
        eprintln!("listening on {}", listening.join(", "));
    }
    eprintln!(
        "sensing on {what}{routes}; honeyd-DATE.log, events-DATE.jsonl in {}; stop with Ctrl-C \
         or SIGTERM, reopen the logs with SIGHUP",
        dir.display()
    );
    let stop = live::stop_on_signals();
    // One pair of files per local day, reopened on SIGHUP.
    let log = Box::new(DailyLog::new(dir, tz));
    let r = live::run(
        engine,
        source.as_mut(),
        listeners,
        log,
        args.queue,
        stop,
        shared.as_ref(),
    )
    .with_context(|| format!("reading {what}"))?;
    let lan = match &r.lan {
        Some(l) => format!(
            "; ARP: {} requests, {} replies, {} probes, {} addresses taken, {} conflicts; {} \
             replies without a known MAC, {} ARP frames refused",
            l.arp_requests,
            l.arp_replies,
            l.arp_probes,
            l.claimed,
            l.conflicts,
            l.no_neighbour,
            r.link_send_errors
        ),
        None => String::new(),
    };
    let listen = match &r.listen {
        Some(l) => format!(
            "; kernel listeners: {} connections, {} refused (limits.sessions open, or \
             stopping), {} failed accepts, {} still open at the stop (ended in the log)",
            l.accepted, l.refused, l.accept_errors, l.open
        ),
        None => String::new(),
    };
    let telnet = match &r.telnet {
        Some(t) => format!(
            "; telnet: {} sessions, {} logins, {} commands, {} files kept, {} not kept \
             (write errors)",
            t.sessions, t.logins, t.commands, t.stored, t.store_errors
        ),
        None => String::new(),
    };
    let http = match &r.http {
        Some(h) => format!(
            "; http: {} requests, {} exploits, {} download URLs",
            h.requests, h.exploits, h.downloads
        ),
        None => String::new(),
    };
    eprintln!(
        "{what}: {} packets ({} more dropped by the kernel); {}; {} replies sent, {} refused; \
         {} events logged, {} dropped (queue full), {} log lines lost to write errors{}{lan}\
         {listen}{telnet}{http}; {} services ended by an error, {} service events dropped (inbox \
         full)",
        r.received,
        r.kernel_drops.map_or("?".into(), |d| d.to_string()),
        r.engine,
        r.sent,
        r.send_errors,
        r.logged,
        r.dropped,
        r.write_failed,
        r.write_error
            .as_ref()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default(),
        r.service_errors,
        r.service_events_dropped,
    );
    Ok(())
}

/// `honeyscope config import-honeyd FILE`: our config on standard output, what could not be
/// carried on standard error.
pub fn import_honeyd(file: &Path) -> Result<()> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading the Honeyd config {}", file.display()))?;
    let name = file.display().to_string();
    let r = honeyscope_sensor::honeyd_import::import(&text, &name)
        .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    print!("{}", r.toml);
    for n in &r.not_carried {
        eprintln!("{name}:{}: not carried: {} ({})", n.line, n.text, n.why);
    }
    eprintln!(
        "{name}: imported; {} line(s) not carried, listed above",
        r.not_carried.len()
    );
    Ok(())
}
