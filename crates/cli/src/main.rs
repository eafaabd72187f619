//! `honeyscope`: argument parsing and wiring over honeyscope's crates, nothing more.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use honeyscope_analyze::source::{self, InputReport, ReadOptions};
use honeyscope_analyze::store::{IngestOutcome, Store};
use honeyscope_analyze::summary::Summary;
use honeyscope_event::{honeyd, jsonl, Event, LocalZone, Timestamp};
use honeyscope_report::engine::{self, Engine, ReportOptions};
use honeyscope_report::geoip::GeoIp;
use honeyscope_report::model::PortSpec;
use honeyscope_report::{html, render, table};

mod fingerprint;
mod progress;
mod replay;
mod sense;

// mimalloc keeps freed pages for reuse: the ingest and report paths allocate and drop large
// Arrow and Parquet buffers per batch, which the system allocator maps and zeroes afresh.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The bundled example: a small Honeyd log (UTC times) of a telescope on 198.51.100.0/24.
const EXAMPLE_LOG: &[u8] = include_bytes!("../assets/example-honeyd.log");

#[derive(Parser)]
#[command(
    name = "honeyscope",
    version,
    about = "A darknet honeypot and network-telescope toolkit: collect, engage, analyse.",
    long_about = "A darknet honeypot and network-telescope toolkit: collect, engage, analyse.\n\n\
        Today honeyscope reads Honeyd packet logs, its own JSON events and pcap/pcapng \
        captures (plain, .gz or .zst), converts between them, and stores them as Parquet \
        partitioned by day for analysis.\n\n\
        Start with `honeyscope ingest`: with no input it loads a bundled example log into \
        ./honeyscope-store and shows what it holds.",
    after_help = "Examples:\n  \
        honeyscope ingest                                   # the bundled example\n  \
        honeyscope ingest honeyd.log.gz --store store/ --tz Asia/Tokyo\n  \
        honeyscope cat store/ --format json | head\n  \
        honeyscope cat capture.pcapng --format honeyd --tz UTC"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct ReadArgs {
    /// Time zone of Honeyd logs' local timestamps, for reading and writing them: an IANA
    /// name (Asia/Tokyo), UTC, a fixed offset (+09:00), or `local` for this machine's zone.
    #[arg(long, default_value = "local", value_name = "ZONE")]
    tz: String,
    /// Sensor id to record on events whose input does not name one (Honeyd logs, captures).
    #[arg(long, value_name = "ID")]
    sensor: Option<String>,
}

impl ReadArgs {
    fn options(&self) -> Result<ReadOptions> {
        Ok(ReadOptions {
            tz: LocalZone::named(&self.tz)?,
            sensor: self.sensor.as_deref().map(Arc::from),
            progress: None,
        })
    }
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Turn a Honeyd config into a honeyscope sensor config (printed as TOML).
    ///
    /// Templates, personalities, default actions, port actions and binds are carried over;
    /// every line that is not (scripts, proxies, subsystems, routes, uptime, …) is listed on
    /// standard error with its line number. Scripts are never run: their ports become open.
    ImportHoneyd {
        /// The Honeyd config file.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Play a Telnet session's transcript back in the terminal, as the bot saw it.
    Replay {
        /// A session id (the `session` field of its events) or a .cast file.
        session: String,
        /// The sensor's data directory (its sessions/ holds the transcripts).
        #[arg(long, default_value = "honeyscope-data", value_name = "DIR")]
        dir: PathBuf,
        /// Playback speed (2 is twice as fast).
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// The longest pause kept, in seconds.
        #[arg(long, default_value_t = 2.0, value_name = "SECS")]
        max_idle: f64,
        /// Print it all at once, without pauses.
        #[arg(long)]
        instant: bool,
        /// Pass the terminal's control strings through (OSC, DCS, …): by default they are
        /// left out, since the attacker wrote them.
        #[arg(long)]
        raw: bool,
    },
    /// Load inputs into a Parquet store, partitioned by day; each input is stored once.
    ///
    /// Inputs are Honeyd logs, honeyscope JSON lines, or pcap/pcapng captures, plain or
    /// compressed with gzip or zstd; the format is recognised from the content. Lines that
    /// do not parse are counted and shown, never fatal. With no INPUT, loads the bundled
    /// example log (read as UTC unless --tz is given) and prints a summary of the store.
    Ingest {
        /// Files to ingest.
        inputs: Vec<PathBuf>,
        /// The store directory (created if missing).
        #[arg(long, default_value = "honeyscope-store", value_name = "DIR")]
        store: PathBuf,
        /// Parser threads (default: one per core).
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
        /// Print a summary of the whole store afterwards (always on for the example).
        #[arg(long)]
        summary: bool,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Analyse inputs or stores as the seed study did: connections per port, per day,
    /// sources, sources that hit several ports with their country, activity windows, OS.
    ///
    /// A connection is a TCP SYN without ACK, a UDP flow start or datagram, or an ICMP
    /// probe (docs/REPORT.md). Each analysis is an SQL file run by DataFusion. Days and
    /// hours are counted in --tz.
    Report {
        /// Files (any input format) or store directories.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// The main port, for the daily counts, OS shares and multi-port sources.
        #[arg(long, default_value = "23/tcp", value_name = "PORT/PROTO")]
        port: PortSpec,
        /// The other ports of interest: sources that hit the main port and one of these.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "53413/udp,6379/tcp",
            value_name = "PORT/PROTO,..."
        )]
        also: Vec<PortSpec>,
        /// Show only the N busiest ports in the port table.
        #[arg(long, value_name = "N")]
        top: Option<usize>,
        /// Also show the activity windows of this source (repeatable).
        #[arg(long = "source", value_name = "IP")]
        sources: Vec<std::net::IpAddr>,
        /// How many of the top multi-port sources get activity windows.
        #[arg(long, default_value_t = 3, value_name = "N")]
        activity_top: usize,
        /// Countries from a MaxMind .mmdb database or a CSV of start,end,country ranges.
        #[arg(long, value_name = "FILE")]
        geoip: Option<PathBuf>,
        /// Output format of the tables on standard output.
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
        /// Also write one self-contained HTML page with every table and chart.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// Also write each chart as an SVG file into this directory.
        #[arg(long, value_name = "DIR")]
        svg_dir: Option<PathBuf>,
        /// Parser threads (default: one per core).
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Answer an ad-hoc SQL question over a store (or any inputs) with DataFusion.
    ///
    /// Tables: `events` (docs/EVENTS.md, plus local_date, local_hour and os_class in --tz)
    /// and `connections` (docs/REPORT.md). Example:
    /// honeyscope sql --store store/ "SELECT src, count(*) n FROM connections GROUP BY src ORDER BY n DESC LIMIT 10"
    Sql {
        /// The SQL statement.
        query: String,
        /// A store directory to query.
        #[arg(long, value_name = "DIR")]
        store: Vec<PathBuf>,
        /// Input files to query (any format), besides or instead of a store.
        #[arg(long = "input", value_name = "FILE")]
        inputs: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
        /// Parser threads (default: one per core).
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Write a synthetic Honeyd log whose report reproduces a study, and its GeoIP CSV.
    ///
    /// `seed-2016-04` is the seed study's month (April 2016, 2,655,884 connections, TCP/23
    /// 73.1 %, …; docs/REPORT.md). Writes OUT and OUT.geoip.csv; deterministic per --seed.
    Synth {
        /// The profile.
        #[arg(long, default_value = "seed-2016-04", value_name = "NAME")]
        profile: String,
        /// The log to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Random seed: the same seed gives the same bytes.
        #[arg(long, default_value_t = 2016)]
        seed: u64,
        /// Time zone of the log's local timestamps (and so of the report's days).
        #[arg(long, default_value = "UTC", value_name = "ZONE")]
        tz: String,
    },
    /// Run the sensor: log every packet to the claimed addresses (Honeyd log and JSON lines
    /// in the log directory) and answer each as its template and personality say.
    ///
    /// Without --config it runs the built-in one (the seed study's: one /24, web on 80 and
    /// 8080, Telnet on 23 and 2323, every other port only logged; --print-config shows it).
    /// Live on a TUN device (--tun NAME --route; needs root, then drops to --user), or on a
    /// capture (--pcap) with its replies written to a capture (--replies). docs/SENSOR.md.
    Sense(sense::SenseArgs),
    /// Work with sensor configs.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Fingerprint the TCP handshakes in captures with p0f v3 signatures, as `p0f -r` does.
    ///
    /// Prints one line per SYN and SYN+ACK p0f would fingerprint, in p0f's log form after
    /// the time (client, server, OS label, distance, raw signature; then the link MTU), or
    /// JSON, or with --summary the OS classes seen per source. Labels agree with Debian's
    /// p0f 3.09b given the same database (docs/FINGERPRINT.md).
    Fingerprint {
        /// pcap or pcapng captures (plain, gzip or zstd).
        #[arg(required = true)]
        captures: Vec<PathBuf>,
        /// A p0f v3 signature database, such as Debian's /etc/p0f/p0f.fp (default: the
        /// built-in one, docs/FINGERPRINT.md).
        #[arg(long, value_name = "FILE")]
        p0f_db: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = fingerprint::FingerprintFormat::Text)]
        format: fingerprint::FingerprintFormat,
        /// Print only the OS classes seen per source, with packet counts.
        #[arg(long)]
        summary: bool,
    },
    /// Print the events of inputs or stores, as Honeyd log lines or JSON lines.
    Cat {
        /// Files (any input format) or store directories.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Honeyd)]
        format: Format,
        #[command(flatten)]
        read: ReadArgs,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportFormat {
    /// Aligned tables for a terminal.
    Text,
    /// Markdown tables.
    Md,
    /// CSV, one block per table after a `# name` line.
    Csv,
    /// The JSON contract of docs/REPORT.md.
    Json,
}

impl From<ReportFormat> for render::Format {
    fn from(f: ReportFormat) -> Self {
        match f {
            ReportFormat::Text => render::Format::Text,
            ReportFormat::Md => render::Format::Markdown,
            ReportFormat::Csv => render::Format::Csv,
            ReportFormat::Json => render::Format::Json,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// Honeyd's packet log (`honeyd -l`), times in --tz.
    Honeyd,
    /// One JSON object per event (docs/EVENTS.md).
    Json,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HONEYSCOPE_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ingest {
            inputs,
            store,
            threads,
            summary,
            read,
        } => ingest(inputs, &store, threads, summary, read),
        Command::Cat {
            inputs,
            format,
            read,
        } => cat(&inputs, format, &read),
        Command::Sense(args) => sense::run(args),
        Command::Replay {
            session,
            dir,
            speed,
            max_idle,
            instant,
            raw,
        } => replay::run(&session, &dir, speed, max_idle, instant, raw),
        Command::Config(ConfigCommand::ImportHoneyd { file }) => sense::import_honeyd(&file),
        Command::Fingerprint {
            captures,
            p0f_db,
            format,
            summary,
        } => fingerprint::run(&captures, p0f_db.as_deref(), format, summary),
        Command::Sql {
            query,
            store,
            inputs,
            format,
            threads,
            read,
        } => {
            let mut all = store;
            all.extend(inputs);
            sql(&query, &all, format, threads, &read)
        }
        Command::Synth {
            profile,
            out,
            seed,
            tz,
        } => synth(&profile, &out, seed, &tz),
        Command::Report {
            inputs,
            port,
            also,
            top,
            sources,
            activity_top,
            geoip,
            format,
            html,
            svg_dir,
            threads,
            read,
        } => {
            let opts = ReportOptions {
                main: port,
                also,
                sources,
                activity_top,
                top,
                tz: read.tz.clone(),
            };
            report(
                &inputs,
                &opts,
                geoip.as_deref(),
                format,
                html.as_deref(),
                svg_dir.as_deref(),
                threads,
                &read,
            )
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("honeyscope: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn ingest(
    inputs: Vec<PathBuf>,
    store_dir: &Path,
    threads: Option<usize>,
    summary: bool,
    read: ReadArgs,
) -> Result<()> {
    let workers = workers(threads);
    let mut writer = Store::open_writer(store_dir)?;
    let example;
    let (inputs, labels, opts, summary) = if inputs.is_empty() {
        // The example was written in UTC; honour an explicit --tz all the same.
        let mut args = read.clone();
        if read.tz == "local" {
            args.tz = "UTC".into();
        }
        example = tempfile::Builder::new()
            .prefix("honeyscope-example-")
            .suffix(".log")
            .tempfile()
            .context("creating a temporary file for the bundled example")?;
        std::fs::write(example.path(), EXAMPLE_LOG)?;
        eprintln!(
            "No input given: ingesting the bundled example log (a telescope on 198.51.100.0/24) into {}.",
            store_dir.display()
        );
        (
            vec![example.path().to_path_buf()],
            vec!["(bundled example log)".to_string()],
            args.options()?,
            true,
        )
    } else {
        let labels = inputs.iter().map(|p| p.display().to_string()).collect();
        (inputs, labels, read.options()?, summary)
    };

    let mut out = io::stdout().lock();
    let mut failed = 0;
    for (path, label) in inputs.iter().zip(&labels) {
        match writer.ingest_as(path, label, &opts, workers) {
            Ok(IngestOutcome::Added { report, entry }) => {
                writeln!(
                    out,
                    "{label}: {} ({}), {} events from {} {} into {} file(s)",
                    report.format.as_str(),
                    compression_name(report.compression),
                    entry.events,
                    report.records,
                    record_unit(report.format),
                    entry.files.len(),
                )?;
                print_problems(label, &report);
            }
            Ok(IngestOutcome::Duplicate {
                digest, previous, ..
            }) => writeln!(
                out,
                "{label}: already in the store (same content as {previous}, blake3 {}…); skipped",
                &digest[..16]
            )?,
            Err(e) => {
                failed += 1;
                eprintln!("honeyscope: error: {e}");
            }
        }
    }
    if summary {
        print_summary(&mut out, writer.store())?;
    }
    if failed > 0 {
        bail!(
            "{failed} of {} input(s) could not be ingested",
            inputs.len()
        );
    }
    Ok(())
}

fn sql(
    query: &str,
    inputs: &[PathBuf],
    format: ReportFormat,
    threads: Option<usize>,
    read: &ReadArgs,
) -> Result<()> {
    if inputs.is_empty() {
        bail!("nothing to query: give --store DIR or --input FILE");
    }
    let workers = workers(threads);
    let loaded = table::load(inputs, &read.options()?, workers, |_| {})?;
    for input in &loaded.inputs {
        print_problems(&input.path.display().to_string(), input);
    }
    let engine = Engine::new(loaded.batches, workers)?;
    let (names, rows) = engine.sql(query)?;
    let cell = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    let t = render::Table {
        name: "result",
        title: String::new(),
        numeric: rows
            .first()
            .map(|r| r.iter().map(serde_json::Value::is_number).collect())
            .unwrap_or_else(|| vec![false; names.len()]),
        headers: names,
        rows: rows.iter().map(|r| r.iter().map(cell).collect()).collect(),
    };
    let text = render::table(&t, format.into());
    let mut out = io::stdout().lock();
    out.write_all(text.trim_start_matches('\n').as_bytes())?;
    out.flush()?;
    Ok(())
}

fn synth(profile: &str, out: &Path, seed: u64, tz: &str) -> Result<()> {
    use honeyscope_analyze::synth;
    if !synth::profile_names().contains(&profile) {
        bail!(
            "unknown profile {profile:?}; known: {}",
            synth::profile_names().join(", ")
        );
    }
    let tz = LocalZone::named(tz)?;
    let create = |p: &Path| {
        std::fs::File::create(p)
            .map(|f| BufWriter::with_capacity(1 << 20, f))
            .with_context(|| format!("creating {}", p.display()))
    };
    let mut log = create(out)?;
    let summary = synth::write_seed_month(&mut log, &tz, seed)
        .with_context(|| format!("writing {}", out.display()))?;
    log.flush()?;
    let csv_path = PathBuf::from(format!("{}.geoip.csv", out.display()));
    let mut csv = create(&csv_path)?;
    synth::write_seed_geoip_csv(&mut csv, seed)
        .with_context(|| format!("writing {}", csv_path.display()))?;
    csv.flush()?;
    println!(
        "{}: {} lines, {} connections ({} to 23/tcp from {} sources); GeoIP ranges in {}",
        out.display(),
        summary.lines,
        summary.connections,
        summary.tcp23_connections,
        summary.tcp23_sources,
        csv_path.display()
    );
    Ok(())
}

fn workers(threads: Option<usize>) -> usize {
    threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1)
}

#[allow(clippy::too_many_arguments)]
fn report(
    inputs: &[PathBuf],
    opts: &ReportOptions,
    geoip: Option<&Path>,
    format: ReportFormat,
    html_out: Option<&Path>,
    svg_dir: Option<&Path>,
    threads: Option<usize>,
    read: &ReadArgs,
) -> Result<()> {
    let geoip = geoip
        .map(GeoIp::open)
        .transpose()
        .context("loading the GeoIP source")?;
    let progress = progress::Progress::start();
    let mut read_opts = read.options()?;
    read_opts.progress = Some(progress.done.clone());
    let workers = workers(threads);
    let started = std::time::Instant::now();
    let loaded = table::load(inputs, &read_opts, workers, |path| {
        let size = std::fs::metadata(path)
            .map(|m| if m.is_dir() { 0 } else { m.len() })
            .unwrap_or(0);
        progress.step(&format!("reading {}", path.display()), size);
    });
    let loaded = match loaded {
        Ok(l) => l,
        Err(e) => {
            progress.finish();
            return Err(e.into());
        }
    };
    let rows: usize = loaded.batches.iter().map(|b| b.num_rows()).sum();
    tracing::info!(
        rows,
        seconds = started.elapsed().as_secs_f64(),
        "inputs loaded"
    );
    progress.step("running the queries", 0);
    let started = std::time::Instant::now();
    let result = Engine::new(loaded.batches, workers)
        .and_then(|engine| engine::build(&engine, opts, geoip.as_ref()));
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "queries run");
    progress.finish();
    for input in &loaded.inputs {
        print_problems(&input.path.display().to_string(), input);
    }
    let r = result?;
    let text = render::render(&r, format.into());
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    if let Some(path) = html_out {
        std::fs::write(path, html::page(&r))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(dir) = svg_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for chart in html::charts(&r) {
            let path = dir.join(format!("{}.svg", chart.name));
            std::fs::write(&path, &chart.svg)
                .with_context(|| format!("writing {}", path.display()))?;
        }
    }
    Ok(())
}

fn compression_name(c: honeyscope_event::input::Compression) -> &'static str {
    use honeyscope_event::input::Compression::*;
    match c {
        None => "plain",
        Gzip => "gzip",
        Zstd => "zstd",
    }
}

/// What an input's records are called.
fn record_unit(format: honeyscope_event::input::InputFormat) -> &'static str {
    match format {
        honeyscope_event::input::InputFormat::Capture => "frames",
        _ => "lines",
    }
}

/// Skipped records and warnings go to stderr: counted, shown, never fatal.
fn print_problems(label: &str, report: &InputReport) {
    let unit = record_unit(report.format).trim_end_matches('s');
    if report.skipped.count > 0 {
        eprintln!(
            "warning: {label}: {} {unit}(s) skipped; the first:",
            report.skipped.count
        );
        for ex in &report.skipped.examples {
            if ex.text.is_empty() {
                eprintln!("  {unit} {}: {}", ex.record, ex.reason);
            } else {
                eprintln!("  {unit} {}: {}: {:?}", ex.record, ex.reason, ex.text);
            }
        }
    }
    for w in &report.warnings {
        eprintln!("warning: {label}: {w}");
    }
}

fn print_summary(out: &mut impl Write, store: &Store) -> Result<()> {
    let mut s = Summary::default();
    store.for_each_event(|ev| s.add(&ev))?;
    let fmt = |t: Option<Timestamp>| t.map_or("-".to_string(), |t| t.to_rfc3339());
    writeln!(out)?;
    writeln!(out, "Store {}", store.root().display())?;
    writeln!(
        out,
        "  inputs {:>10}    events {:>12}    distinct sources {:>8}",
        store.entries().len(),
        s.events,
        s.distinct_sources()
    )?;
    writeln!(out, "  first  {}    last {}", fmt(s.first), fmt(s.last))?;
    writeln!(out, "  events by type:")?;
    for (kind, n) in &s.by_kind {
        writeln!(out, "    {kind:<12} {n:>12}")?;
    }
    if !s.by_eventid.is_empty() {
        writeln!(out, "  session events by eventid:")?;
        for (id, n) in &s.by_eventid {
            writeln!(out, "    {id:<36} {n:>12}")?;
        }
    }
    if !s.by_exploit.is_empty() {
        writeln!(out, "  http requests by exploit:")?;
        for (exploit, n) in &s.by_exploit {
            writeln!(out, "    {exploit:<36} {n:>12}")?;
        }
    }
    writeln!(out, "  packet events by protocol:")?;
    for (proto, n) in &s.by_proto {
        writeln!(out, "    {proto:<12} {n:>12}")?;
    }
    writeln!(out, "  busiest destination ports:")?;
    for (proto, port, n) in s.top_ports(10) {
        writeln!(out, "    {:<12} {n:>12}", format!("{port}/{proto}"))?;
    }
    writeln!(out, "  events per day (UTC):")?;
    for (day, n) in &s.by_day {
        writeln!(
            out,
            "    {:<12} {n:>12}",
            Timestamp(day * 86_400_000_000).utc_date()
        )?;
    }
    Ok(())
}

/// Writes events to standard output in one format, remembering the first write error.
struct Printer<W: Write> {
    out: W,
    format: Format,
    tz: LocalZone,
    line: String,
    error: Option<io::Error>,
}

impl<W: Write> Printer<W> {
    fn emit(&mut self, ev: Event) {
        if self.error.is_some() {
            return;
        }
        self.line.clear();
        match self.format {
            Format::Honeyd => honeyd::write_event(&ev, &self.tz, &mut self.line),
            Format::Json => jsonl::write_event(&ev, &mut self.line),
        }
        if let Err(e) = self.out.write_all(self.line.as_bytes()) {
            self.error = Some(e);
        }
    }

    fn check(&mut self) -> Result<()> {
        match self.error.take() {
            Some(e) => Err(e).context("writing to standard output"),
            None => Ok(()),
        }
    }
}

fn cat(inputs: &[PathBuf], format: Format, read: &ReadArgs) -> Result<()> {
    let opts = read.options()?;
    let mut p = Printer {
        out: BufWriter::with_capacity(1 << 16, io::stdout().lock()),
        format,
        tz: opts.tz.clone(),
        line: String::with_capacity(256),
        error: None,
    };
    for path in inputs {
        if path.is_dir() {
            Store::open(path)?.for_each_event(|ev| p.emit(ev))?;
        } else {
            let report = source::read_file(path, &opts, |ev| p.emit(ev))?;
            print_problems(&path.display().to_string(), &report);
        }
        p.check()?;
    }
    p.out.flush().context("writing to standard output")?;
    Ok(())
}
