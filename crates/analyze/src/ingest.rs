//! The ingest pipeline: one input file into day-partitioned Parquet files in a staging
//! directory, on every core.
//!
//! The calling thread reads (and decompresses) the input in line-aligned blocks, hashing the
//! raw bytes on the way; worker threads parse blocks, split events by UTC day and write one
//! Parquet file per (block, day). Blocks are numbered so the store can keep input order.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};

use arrow_array::RecordBatch;
use honeyscope_event::honeyd::{self, LineView, PacketLine};
use honeyscope_event::input::{self, Compression, InputFormat};
use honeyscope_event::{Event, Timestamp};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression as ParquetCompression, Encoding};
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use crate::schema::{col, event_schema, EventBatchBuilder, PACKET_COLUMNS};
use crate::source::{self, parse_lines, InputReport, ReadOptions, Skipped, CHUNK_BYTES};

/// A running BLAKE3 hash and the number of bytes it has seen.
#[derive(Default)]
struct HashState {
    hasher: blake3::Hasher,
    bytes: u64,
}

/// A reader that hashes what passes through it, into state shared with the caller (the
/// reader itself ends up inside a decompressor).
struct HashingReader<R> {
    inner: R,
    state: Arc<Mutex<HashState>>,
    enabled: bool,
    progress: Option<Arc<AtomicU64>>,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(p) = &self.progress {
            p.fetch_add(n as u64, AtomicOrdering::Relaxed);
        }
        if !self.enabled {
            return Ok(n);
        }
        if let Ok(mut st) = self.state.lock() {
            st.hasher.update(&buf[..n]);
            st.bytes += n as u64;
        }
        Ok(n)
    }
}

/// Hashes the rest of `path` from byte `from` into `state`.
fn hash_rest(path: &Path, from: u64, state: &Arc<Mutex<HashState>>) -> io::Result<()> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(from))?;
    let mut r = HashingReader {
        inner: file,
        state: state.clone(),
        enabled: true,
        progress: None,
    };
    io::copy(&mut r, &mut io::sink())?;
    Ok(())
}

/// The BLAKE3 digest of a file's bytes, as lowercase hex.
pub fn file_digest(path: &Path) -> io::Result<String> {
    let state = Arc::new(Mutex::new(HashState::default()));
    hash_rest(path, 0, &state)?;
    let st = state
        .lock()
        .map_err(|_| io::Error::other("hash state poisoned"))?;
    Ok(st.hasher.finalize().to_hex().to_string())
}

/// One Parquet file written to staging.
#[derive(Debug, Clone)]
pub struct StagedFile {
    /// The UTC day its rows fall on, `YYYY-MM-DD`.
    pub date: String,
    /// Block number within the input (input order).
    pub seq: u32,
    /// Where it is.
    pub path: PathBuf,
    /// Rows in it.
    pub rows: u64,
}

/// What ingesting one input produced.
#[derive(Debug)]
pub struct Staged {
    /// What was read.
    pub report: InputReport,
    /// BLAKE3 digest of the input file's bytes (as stored, compressed or not).
    pub digest: String,
    /// Size of the input file in bytes.
    pub size: u64,
    /// The Parquet files, in input order.
    pub files: Vec<StagedFile>,
}

/// A failure of the pipeline as a whole.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Reading the input failed before anything was read.
    #[error(transparent)]
    Source(#[from] source::SourceError),
    /// Writing staging files failed.
    #[error("writing {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The Parquet writer failed.
    #[error("writing {path}: {source}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The error.
        source: parquet::errors::ParquetError,
    },
}

/// Parquet settings for the store, chosen by measurement (`bench/RESULTS.md`).
///
/// - Snappy: fast to write and to read.
/// - Dictionaries only for the text that repeats and is long enough to pay for a hash per row
///   (addresses, OS labels, remarks, sensor). Small integers and the short `kind` and
///   `proto_name` go plain: Snappy shrinks their runs nearly as well, for a fraction of the
///   time (interning was a sixth of the ingest time).
/// - Min/max statistics only where they prune: times, protocols, destination ports.
/// - No compression where Snappy gains nothing.
/// - Delta encoding for the mostly increasing timestamps.
/// - `packets_only`: for a batch without payload, session or HTTP rows, whose later columns
///   are all null, those columns get neither a dictionary nor compression (setting them up
///   for forty empty columns cost 0.6 % of the ingest's instructions, about 2 % of its CPU
///   time).
pub fn writer_properties(packets_only: bool) -> WriterProperties {
    let mut b = WriterProperties::builder();
    let plain = [
        col::TS,
        col::KIND,
        col::PROTO,
        col::PROTO_NAME,
        col::SPORT,
        col::DPORT,
        col::ICMP_TYPE,
        col::ICMP_CODE,
        col::IP_LEN,
        col::TCP_FLAGS,
        col::RX_BYTES,
        col::TX_BYTES,
    ];
    for name in plain {
        b = b.set_column_dictionary_enabled(name.into(), false);
    }
    let pruning = [col::TS, col::PROTO, col::DPORT];
    for field in event_schema().fields() {
        let stats = if pruning.contains(&field.name().as_str()) {
            EnabledStatistics::Chunk
        } else {
            EnabledStatistics::None
        };
        b = b.set_column_statistics_enabled(field.name().as_str().into(), stats);
    }
    // Columns Snappy cannot shrink (ratio 1.00–1.10 on the bench month: random source
    // ports, dictionary indices of a /24, rare text) are stored as they are.
    for name in [col::SPORT, col::DST, col::OS, col::REMARK, col::SENSOR] {
        b = b.set_column_compression(name.into(), ParquetCompression::UNCOMPRESSED);
    }
    if packets_only {
        for field in &event_schema().fields()[PACKET_COLUMNS..] {
            let name = field.name().as_str();
            b = b
                .set_column_dictionary_enabled(name.into(), false)
                .set_column_compression(name.into(), ParquetCompression::UNCOMPRESSED);
        }
    }
    b.set_column_encoding(col::TS.into(), Encoding::DELTA_BINARY_PACKED)
        .set_compression(ParquetCompression::SNAPPY)
        .set_max_row_group_row_count(Some(1 << 20))
        .set_write_batch_size(1 << 16)
        .set_created_by(format!("honeyscope {}", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Work for a parser thread.
enum Work {
    /// Complete lines of a text input.
    Lines {
        seq: u32,
        format: InputFormat,
        bytes: Vec<u8>,
    },
    /// Events already decoded (captures).
    Events { seq: u32, events: Vec<Event> },
}

/// What a parser thread reports for one block.
struct BlockResult {
    seq: u32,
    lines: u64,
    events: u64,
    skipped: Skipped,
}

/// Where the pipeline's batches go: one call per (block, UTC day), from the worker threads.
pub trait BatchSink: Sync {
    /// Takes the events of block `seq` that fall on UTC day `day` (days since 1970-01-01).
    fn accept(&self, seq: u32, day: i64, batch: RecordBatch) -> Result<(), IngestError>;
}

/// What parsing one input gave, besides its batches.
#[derive(Debug)]
pub struct Parsed {
    /// What was read.
    pub report: InputReport,
    /// BLAKE3 digest of the input file's bytes, when asked for.
    pub digest: Option<String>,
    /// Size of the input file in bytes.
    pub size: u64,
}

/// Writes each batch as a Parquet file under a staging directory, and hands the file to the
/// syncer thread.
struct StagingSink<'a> {
    dir: &'a Path,
    files: Mutex<Vec<StagedFile>>,
    sync: mpsc::Sender<(PathBuf, File)>,
}

impl BatchSink for StagingSink<'_> {
    fn accept(&self, seq: u32, day: i64, batch: RecordBatch) -> Result<(), IngestError> {
        let (staged, file) = write_parquet(self.dir, seq, day, &batch)?;
        let path = staged.path.clone();
        if let Ok(mut files) = self.files.lock() {
            files.push(staged);
        }
        // The syncer only stops early on an error, which `stage_file` reports.
        let _ = self.sync.send((path, file));
        Ok(())
    }
}

/// Reads `path` and writes its events as Parquet under `staging`, using `workers` threads;
/// every file is on disk (fsynced) when this returns.
pub fn stage_file(
    path: &Path,
    opts: &ReadOptions,
    staging: &Path,
    workers: usize,
) -> Result<Staged, IngestError> {
    let (sync_tx, sync_rx) = mpsc::channel::<(PathBuf, File)>();
    std::thread::scope(|scope| {
        // Files are fsynced on a thread of their own: a parser thread that waited on the
        // disk for each file it wrote left its core idle (90 fsyncs, 88 ms on the bench).
        let syncer = scope.spawn(move || -> Result<(), IngestError> {
            for (path, file) in sync_rx {
                file.sync_all()
                    .map_err(|source| IngestError::Write { path, source })?;
            }
            Ok(())
        });
        let sink = StagingSink {
            dir: staging,
            files: Mutex::new(Vec::new()),
            sync: sync_tx,
        };
        let parsed = parse_file(path, opts, workers, true, &sink);
        let StagingSink { files, sync, .. } = sink;
        drop(sync);
        let synced = syncer.join().unwrap_or_else(|_| {
            Err(IngestError::Write {
                path: staging.to_path_buf(),
                source: io::Error::other("the syncer thread panicked"),
            })
        });
        let parsed = parsed?;
        synced?;
        let mut files = files.into_inner().unwrap_or_default();
        files.sort_by(|a, b| (a.seq, &a.date).cmp(&(b.seq, &b.date)));
        Ok(Staged {
            report: parsed.report,
            digest: parsed.digest.unwrap_or_default(),
            size: parsed.size,
            files,
        })
    })
}

/// Reads `path` on all `workers` threads, handing the events to `sink` as Arrow batches per
/// (block, UTC day); hashes the file's bytes on the way when `digest` is set.
pub fn parse_file(
    path: &Path,
    opts: &ReadOptions,
    workers: usize,
    digest: bool,
    sink: &impl BatchSink,
) -> Result<Parsed, IngestError> {
    let src_err = |source| {
        IngestError::Source(source::SourceError::Io {
            path: path.to_path_buf(),
            source,
        })
    };
    let file = File::open(path).map_err(src_err)?;
    let size = file.metadata().map_err(src_err)?.len();
    let hash = Arc::new(Mutex::new(HashState::default()));
    let hashing = HashingReader {
        inner: file,
        state: hash.clone(),
        enabled: digest,
        progress: opts.progress.clone(),
    };
    let workers = workers.max(1);
    let (tx, rx) = mpsc::sync_channel::<Work>(workers * 2);
    let rx = Mutex::new(rx);
    // Blocks the workers are done with, back to the reader to be read into again.
    let (spare_tx, spare_rx) = mpsc::channel::<Vec<u8>>();

    std::thread::scope(|scope| -> Result<Parsed, IngestError> {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let rx = &rx;
                let opts = opts.clone();
                let spare = spare_tx.clone();
                scope.spawn(move || -> Result<Vec<BlockResult>, IngestError> {
                    let mut results = Vec::new();
                    loop {
                        let work = match rx.lock() {
                            Ok(guard) => guard.recv(),
                            Err(_) => break,
                        };
                        let Ok(work) = work else { break };
                        let (result, bytes) = process_block(work, &opts, sink)?;
                        results.push(result);
                        if let Some(bytes) = bytes {
                            // The reader may have finished; then the block is just freed.
                            let _ = spare.send(bytes);
                        }
                    }
                    Ok(results)
                })
            })
            .collect();

        // Read on this thread; the hash covers the file's raw bytes.
        let read_result = (|| -> Result<ReadOutcome, IngestError> {
            let mut warnings = Vec::new();
            let mut capture = None;
            let (mut reader, compression) = input::decompress(hashing).map_err(src_err)?;
            let format = input::sniff_format(io::BufRead::fill_buf(&mut reader).map_err(src_err)?);
            let mut seq = 0u32;
            if format == InputFormat::Capture {
                let mut report = InputReport::new(path, format, compression);
                let mut batch = Vec::with_capacity(BATCH_EVENTS);
                let mut send_err = false;
                source::read_capture(&mut reader, &mut report, opts, |ev| {
                    batch.push(ev);
                    if batch.len() == BATCH_EVENTS {
                        let events =
                            std::mem::replace(&mut batch, Vec::with_capacity(BATCH_EVENTS));
                        send_err |= tx.send(Work::Events { seq, events }).is_err();
                        seq += 1;
                    }
                })
                .map_err(|source| {
                    IngestError::Source(source::SourceError::Capture {
                        path: path.to_path_buf(),
                        source,
                    })
                })?;
                if !batch.is_empty() && !send_err {
                    let _ = tx.send(Work::Events { seq, events: batch });
                }
                warnings.extend(report.warnings);
                // Frames that were not IP are counted in the report's skips; carry them.
                capture = Some((report.records, report.skipped));
            } else {
                let spare = || spare_rx.try_recv().ok();
                let r =
                    source::for_each_block(reader.into_unbuffered(), CHUNK_BYTES, spare, |bytes| {
                        tx.send(Work::Lines { seq, format, bytes })
                            .map_err(|_| io::Error::other("parser threads stopped"))?;
                        seq += 1;
                        Ok(())
                    });
                if let Err(e) = r {
                    warnings.push(format!("read error part way ({e}); kept what came before"));
                }
            }
            Ok(ReadOutcome {
                format,
                compression,
                warnings,
                capture,
            })
        })();
        drop(tx);

        let mut blocks = Vec::new();
        let mut first_err = None;
        for h in handles {
            match h.join() {
                Ok(Ok(r)) => blocks.extend(r),
                Ok(Err(e)) => first_err = first_err.or(Some(e)),
                Err(_) => {
                    first_err = first_err.or(Some(IngestError::Write {
                        path: path.to_path_buf(),
                        source: io::Error::other("a parser thread panicked"),
                    }))
                }
            }
        }
        let ReadOutcome {
            format,
            compression,
            warnings,
            capture,
        } = read_result?;
        if let Some(e) = first_err {
            return Err(e);
        }
        // The digest covers the whole file, even when a decompressor or the capture reader
        // stopped early (trailing garbage, a truncated capture).
        let digest = if digest {
            let hashed = hash.lock().map(|st| st.bytes).unwrap_or(0);
            if hashed < size {
                hash_rest(path, hashed, &hash).map_err(src_err)?;
            }
            let hex = hash
                .lock()
                .map(|st| st.hasher.finalize().to_hex().to_string())
                .map_err(|_| src_err(io::Error::other("hash state poisoned")))?;
            Some(hex)
        } else {
            None
        };

        blocks.sort_by_key(|b| b.seq);
        let mut report = InputReport::new(path, format, compression);
        report.warnings = warnings;
        let capture_records = capture.as_ref().map(|c| c.0);
        if let Some((_, skips)) = capture {
            report.skipped = skips;
        }
        for b in blocks {
            report.skipped.merge(b.skipped, report.records);
            report.records += b.lines;
            report.events += b.events;
        }
        if let Some(records) = capture_records {
            report.records = records;
        }
        Ok(Parsed {
            report,
            digest,
            size,
        })
    })
}

/// What the reading thread learnt about the input.
struct ReadOutcome {
    format: InputFormat,
    compression: Compression,
    warnings: Vec<String>,
    /// For captures: frames read and frames skipped (parsed on the reading thread).
    capture: Option<(u64, Skipped)>,
}

/// Events per Parquet batch for captures.
const BATCH_EVENTS: usize = 1 << 18;

/// Appends events to one batch builder per UTC day, keeping the current day's at hand
/// (consecutive events nearly always share a day).
struct DaySplitter {
    /// The current day's span in UTC microseconds (its start is the day's key): a time
    /// inside it needs no division.
    span: std::ops::Range<i64>,
    current: EventBatchBuilder,
    others: BTreeMap<i64, EventBatchBuilder>,
    /// Rows the block is expected to hold, and rows appended so far: a new day's builder is
    /// sized for what is left of the block, so its columns are not grown and copied while
    /// filling.
    expected: usize,
    appended: usize,
    /// Rows that may still be reserved ahead (twice the block's expected rows in all), so a
    /// block that hops between many days cannot reserve much more than it holds.
    budget: usize,
}

const DAY_US: i64 = 86_400_000_000;

impl DaySplitter {
    fn new(expected: usize) -> Self {
        DaySplitter {
            span: 0..0,
            current: EventBatchBuilder::with_capacity(0),
            others: BTreeMap::new(),
            expected,
            appended: 0,
            budget: expected * 2,
        }
    }

    fn append(&mut self, ev: &Event) {
        self.builder_for(ev.time()).append(ev);
    }

    fn append_line(&mut self, line: &PacketLine<'_>, sensor: Option<&str>, block: &[u8]) {
        self.builder_for(line.time).append_line(line, sensor, block);
    }

    fn builder_for(&mut self, time: Timestamp) -> &mut EventBatchBuilder {
        self.appended += 1;
        if !self.span.contains(&time.0) {
            let day = time.utc_day();
            let next = self.others.remove(&day).unwrap_or_else(|| {
                let left = self.expected.saturating_sub(self.appended - 1);
                let rows = left.min(self.budget).max(1 << 12);
                self.budget = self.budget.saturating_sub(rows);
                EventBatchBuilder::with_capacity(rows)
            });
            let prev = std::mem::replace(&mut self.current, next);
            if !prev.is_empty() {
                self.others.insert(self.day(), prev);
            }
            // Days of valid timestamps (years 1–9999) are far from overflowing.
            self.span = day.saturating_mul(DAY_US)..(day.saturating_add(1)).saturating_mul(DAY_US);
        }
        &mut self.current
    }

    /// The current day (days since 1970-01-01).
    fn day(&self) -> i64 {
        self.span.start.div_euclid(DAY_US)
    }

    fn into_days(mut self) -> BTreeMap<i64, EventBatchBuilder> {
        if !self.current.is_empty() {
            let day = self.day();
            self.others.insert(day, self.current);
        }
        self.others
    }
}

fn process_block(
    work: Work,
    opts: &ReadOptions,
    sink: &impl BatchSink,
) -> Result<(BlockResult, Option<Vec<u8>>), IngestError> {
    let expected = match &work {
        // Honeyd lines are 60–100 bytes; sizing for 64 rarely leaves a column to grow.
        Work::Lines { bytes, .. } => bytes.len() / 64 + 1,
        Work::Events { events, .. } => events.len(),
    };
    let mut days = DaySplitter::new(expected);
    let mut skipped = Skipped::default();
    let mut events = 0u64;
    let (seq, lines, spent) = match work {
        Work::Lines {
            seq,
            format: InputFormat::Honeyd,
            bytes,
        } => {
            // The bulk path: lines go into the batch builders without becoming events.
            let sensor = opts.sensor.as_deref();
            // By reference: moving the parsed line around was a copy of it per line.
            let mut add = |view: &LineView<'_>| {
                match view {
                    LineView::Packet(p) => days.append_line(p, sensor, &bytes),
                    LineView::Lifecycle(l) => {
                        let mut l = l.clone();
                        l.sensor = opts.sensor.clone();
                        days.append(&Event::Lifecycle(l))
                    }
                }
                events += 1;
            };
            // A block that is UTF-8 without CR (the usual case) is checked once here
            // instead of line by line.
            let text = std::str::from_utf8(&bytes)
                .ok()
                .filter(|t| memchr::memchr(b'\r', t.as_bytes()).is_none());
            let mut stamps = opts.tz.stamp_reader();
            let lines = match text {
                Some(text) => source::for_each_text_line(text, &mut skipped, |line| {
                    honeyd::parse_then(line, &mut stamps, &mut add)
                }),
                None => source::for_each_line(&bytes, &mut skipped, |line| {
                    honeyd::parse_view(line, &opts.tz).map(|v| add(&v))
                }),
            };
            (seq, lines, Some(bytes))
        }
        Work::Lines { seq, format, bytes } => {
            let lines = parse_lines(&bytes, format, opts, &mut skipped, |ev| {
                events += 1;
                days.append(&ev)
            });
            (seq, lines, Some(bytes))
        }
        Work::Events { seq, events: evs } => {
            events = evs.len() as u64;
            for ev in &evs {
                days.append(ev);
            }
            (seq, 0, None)
        }
    };
    let by_day = days.into_days();

    for (day, mut builder) in by_day {
        sink.accept(seq, day, builder.finish())?;
    }
    let result = BlockResult {
        seq,
        lines,
        events,
        skipped,
    };
    Ok((result, spent))
}

/// Writes one batch as `DIR/date=YYYY-MM-DD/SEQ.parquet`; the caller syncs the file.
fn write_parquet(
    dir: &Path,
    seq: u32,
    day: i64,
    batch: &RecordBatch,
) -> Result<(StagedFile, File), IngestError> {
    let date = Timestamp(day * DAY_US).utc_date();
    let part = dir.join(format!("date={date}"));
    let path = part.join(format!("{seq:06}.parquet"));
    let werr = |source| IngestError::Write {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(&part).map_err(werr)?;
    let file = File::create(&path).map_err(werr)?;
    let perr = |source| IngestError::Parquet {
        path: path.clone(),
        source,
    };
    // Built once per kind: a file took 100,000 instructions to build its settings.
    static SETTINGS: [OnceLock<WriterProperties>; 2] = [OnceLock::new(), OnceLock::new()];
    let packets_only = batch.columns()[PACKET_COLUMNS..]
        .iter()
        .all(|c| c.null_count() == c.len());
    let props = SETTINGS[usize::from(packets_only)]
        .get_or_init(|| writer_properties(packets_only))
        .clone();
    let mut writer = ArrowWriter::try_new(file, event_schema(), Some(props)).map_err(perr)?;
    writer.write(batch).map_err(perr)?;
    let file = writer.into_inner().map_err(perr)?;
    let staged = StagedFile {
        date,
        seq,
        path,
        rows: batch.num_rows() as u64,
    };
    Ok((staged, file))
}
