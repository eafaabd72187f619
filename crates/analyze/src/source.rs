//! Inputs: Honeyd logs, JSON lines and packet captures, plain or compressed, read into
//! [`Event`]s. What cannot be read is counted and described, never dropped in silence.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use honeyscope_event::input::{self, Compression, InputFormat};
use honeyscope_event::{honeyd, jsonl, Event, LocalZone, PacketEvent, Timestamp};
use honeyscope_wire::capture::{CaptureError, CaptureReader, Frame};
use honeyscope_wire::probe::{probe_from_frame, ProbeError};

/// How to read inputs.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The zone Honeyd's local timestamps are in.
    pub tz: LocalZone,
    /// The sensor id to set on events whose input does not carry one.
    pub sensor: Option<Arc<str>>,
    /// Counts the input's raw bytes as they are read (before decompression), for progress
    /// displays; only the parallel pipeline ([`crate::ingest::parse_file`]) updates it.
    pub progress: Option<Arc<std::sync::atomic::AtomicU64>>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            tz: LocalZone::system(),
            sensor: None,
            progress: None,
        }
    }
}

/// Records (lines or frames) that did not become events: how many, and the first few.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skipped {
    /// How many records were skipped.
    pub count: u64,
    /// The first [`Skipped::MAX_EXAMPLES`].
    pub examples: Vec<SkipExample>,
}

/// One skipped record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipExample {
    /// 1-based line number (text inputs) or frame number (captures).
    pub record: u64,
    /// Why it was skipped.
    pub reason: String,
    /// Its first bytes, lossily decoded (empty for captures).
    pub text: String,
}

impl Skipped {
    /// Examples kept.
    pub const MAX_EXAMPLES: usize = 5;
    const EXAMPLE_BYTES: usize = 120;

    /// Counts a skipped record, keeping it as an example while there is room.
    pub fn push(&mut self, record: u64, reason: &dyn std::fmt::Display, text: &[u8]) {
        self.count += 1;
        if self.examples.len() < Self::MAX_EXAMPLES {
            let cut = &text[..text.len().min(Self::EXAMPLE_BYTES)];
            self.examples.push(SkipExample {
                record,
                reason: reason.to_string(),
                text: String::from_utf8_lossy(cut).into_owned(),
            });
        }
    }

    /// Adds the skips of a later part of the same input, whose record numbers start after
    /// `offset` records.
    pub fn merge(&mut self, other: Skipped, offset: u64) {
        self.count += other.count;
        for mut ex in other.examples {
            if self.examples.len() < Self::MAX_EXAMPLES {
                ex.record += offset;
                self.examples.push(ex);
            }
        }
    }
}

/// What reading one input gave.
#[derive(Debug, Clone)]
pub struct InputReport {
    /// The input.
    pub path: PathBuf,
    /// Its format.
    pub format: InputFormat,
    /// Its compression.
    pub compression: Compression,
    /// Lines (text inputs) or frames (captures) read.
    pub records: u64,
    /// Events produced.
    pub events: u64,
    /// Records that produced no event.
    pub skipped: Skipped,
    /// Problems with the input as a whole (a truncated capture, a read error part way).
    pub warnings: Vec<String>,
}

impl InputReport {
    /// An empty report for `path`.
    pub fn new(path: &Path, format: InputFormat, compression: Compression) -> Self {
        InputReport {
            path: path.to_path_buf(),
            format,
            compression,
            records: 0,
            events: 0,
            skipped: Skipped::default(),
            warnings: Vec::new(),
        }
    }
}

/// A failure that stops reading an input before it started.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The input.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A capture whose header is unreadable.
    #[error("{path}: {source}")]
    Capture {
        /// The input.
        path: PathBuf,
        /// The error.
        source: CaptureError,
    },
}

/// Walks the lines of `chunk`, calling `each` on every non-blank one (without its `\r`);
/// an `Err` from it counts the line as skipped, with its reason. Line numbers in `skipped`
/// count from 1 at the chunk's start. Returns the number of lines.
pub fn for_each_line<E: std::fmt::Display>(
    chunk: &[u8],
    skipped: &mut Skipped,
    mut each: impl FnMut(&[u8]) -> Result<(), E>,
) -> u64 {
    walk_lines(chunk, skipped, |r| each(&chunk[r]))
}

/// [`for_each_line`] over a chunk already known to be UTF-8: lines come as `str`.
pub fn for_each_text_line<E: std::fmt::Display>(
    chunk: &str,
    skipped: &mut Skipped,
    mut each: impl FnMut(&str) -> Result<(), E>,
) -> u64 {
    // Lines end at ASCII bytes, so every range is on character boundaries.
    walk_lines(chunk.as_bytes(), skipped, |r| {
        each(chunk.get(r).unwrap_or_default())
    })
}

/// The line walk behind [`for_each_line`]: `each` gets the byte range of each non-blank line.
fn walk_lines<E: std::fmt::Display>(
    chunk: &[u8],
    skipped: &mut Skipped,
    mut each: impl FnMut(std::ops::Range<usize>) -> Result<(), E>,
) -> u64 {
    let mut line_no = 0u64;
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', chunk).chain(std::iter::once(chunk.len()));
    for end in ends {
        if start > chunk.len() || (end == chunk.len() && start == end) {
            break;
        }
        let line_start = start;
        let line_end = if end > start && chunk[end - 1] == b'\r' {
            end - 1
        } else {
            end
        };
        start = end + 1;
        line_no += 1;
        let trimmed = &chunk[line_start..line_end];
        // Only a line that starts with white space can be blank; don't scan the others.
        if trimmed.first().is_none_or(|b| b.is_ascii_whitespace())
            && trimmed.iter().all(|b| b.is_ascii_whitespace())
        {
            continue;
        }
        if let Err(reason) = each(line_start..line_end) {
            skipped.push(line_no, &reason, trimmed);
        }
    }
    line_no
}

/// Parses the complete lines of `chunk` (text formats), calling `emit` for each event.
/// Line numbers in `skipped` count from 1 at the chunk's start. Returns the number of lines.
pub fn parse_lines(
    chunk: &[u8],
    format: InputFormat,
    opts: &ReadOptions,
    skipped: &mut Skipped,
    mut emit: impl FnMut(Event),
) -> u64 {
    for_each_line(chunk, skipped, |line| {
        let mut ev = match format {
            InputFormat::JsonLines => jsonl::parse_line(line).map_err(|e| e.to_string())?,
            _ => honeyd::parse_line(line, &opts.tz).map_err(|e| e.to_string())?,
        };
        if ev.sensor().is_none() && opts.sensor.is_some() {
            ev.set_sensor(opts.sensor.clone());
        }
        emit(ev);
        Ok::<(), String>(())
    })
}

/// The probe event a captured frame makes.
pub fn event_from_frame(frame: &Frame<'_>, sensor: &Option<Arc<str>>) -> Result<Event, ProbeError> {
    let probe = probe_from_frame(frame.link, frame.data)?;
    let time = Timestamp::from_micros(frame.ts_us).unwrap_or_default();
    let mut p = PacketEvent::probe(
        time,
        probe.proto,
        probe.src,
        probe.dst,
        matches!(probe.proto, 6 | 17).then_some((probe.sport, probe.dport)),
        probe.icmp,
        probe.ip_len,
        (probe.proto == 6).then_some(probe.tcp_flags),
    );
    p.sensor = sensor.clone();
    Ok(Event::Packet(p))
}

/// Reads every frame of a capture, calling `emit` for each event.
pub fn read_capture<R: Read>(
    reader: R,
    report: &mut InputReport,
    opts: &ReadOptions,
    mut emit: impl FnMut(Event),
) -> Result<(), CaptureError> {
    let mut captures = CaptureReader::new(reader)?;
    loop {
        match captures.next_frame() {
            Ok(Some(frame)) => {
                report.records += 1;
                match event_from_frame(&frame, &opts.sensor) {
                    Ok(ev) => {
                        report.events += 1;
                        emit(ev);
                    }
                    Err(e) => report.skipped.push(report.records, &e, b""),
                }
            }
            Ok(None) => return Ok(()),
            Err(e) => {
                report.warnings.push(format!(
                    "capture unreadable after frame {} ({e}); kept the {} frames before it",
                    report.records, report.records
                ));
                return Ok(());
            }
        }
    }
}

/// Size of the blocks text inputs are read in: big enough that a block's Parquet file is
/// worth having (about 50,000 Honeyd lines), small enough that the blocks in flight (two per
/// worker) and their batches stay a few tens of MiB, touched afresh less often.
pub const CHUNK_BYTES: usize = 4 << 20;

/// Reads a text input in blocks of at most `block_bytes` that end at a line end; `f` gets
/// each block. A final line without a newline is passed as the last block. A line longer
/// than a block is cut at the block's end (a newline put there) and the rest of it skipped:
/// memory stays bounded, and the cut line fails to parse and is counted.
///
/// `spare` may hand back a block `f` is done with: its memory is read into again instead of
/// a fresh allocation being faulted in and zeroed (a block is 4 MiB). Reads go straight
/// into the block, so a reader without a buffer of its own is not copied twice.
pub fn for_each_block(
    mut reader: impl Read,
    block_bytes: usize,
    mut spare: impl FnMut() -> Option<Vec<u8>>,
    mut f: impl FnMut(Vec<u8>) -> io::Result<()>,
) -> io::Result<()> {
    let block_bytes = block_bytes.max(1);
    // The start of the next block's first line, read with the block before.
    let mut carry: Vec<u8> = Vec::new();
    loop {
        // What follows a cut line may be longer than a block (a skip reads 64 KiB).
        let size = block_bytes.max(carry.len() + 1);
        let mut block = spare().unwrap_or_else(|| Vec::with_capacity(size + 1));
        if block.len() < size {
            // Zeroes only what this buffer never held (all of a fresh one).
            block.resize(size, 0);
        }
        block[..carry.len()].copy_from_slice(&carry);
        let mut filled = carry.len();
        carry.clear();
        let eof = loop {
            if filled == size {
                break false;
            }
            match reader.read(&mut block[filled..size]) {
                Ok(0) => break true,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        block.truncate(filled);
        if eof {
            if !block.is_empty() {
                f(block)?;
            }
            return Ok(());
        }
        match memchr::memrchr(b'\n', &block) {
            Some(i) => {
                carry.extend_from_slice(&block[i + 1..]);
                block.truncate(i + 1);
                f(block)?;
            }
            None => {
                block.push(b'\n');
                f(block)?;
                if !skip_past_newline(&mut reader, &mut carry)? {
                    return Ok(());
                }
            }
        }
    }
}

/// Consumes input up to and including the next newline, keeping what follows it in
/// `carry`; `false` at the end of the input.
fn skip_past_newline(reader: &mut impl Read, carry: &mut Vec<u8>) -> io::Result<bool> {
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(false),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if let Some(i) = memchr::memchr(b'\n', &buf[..n]) {
            carry.extend_from_slice(&buf[i + 1..n]);
            return Ok(true);
        }
    }
}

/// Reads one input file of any format, calling `emit` for each event in order.
pub fn read_file(
    path: &Path,
    opts: &ReadOptions,
    mut emit: impl FnMut(Event),
) -> Result<InputReport, SourceError> {
    let io_err = |source| SourceError::Io {
        path: path.to_path_buf(),
        source,
    };
    let (reader, compression, format) = input::open(path).map_err(io_err)?;
    let mut report = InputReport::new(path, format, compression);
    if format == InputFormat::Capture {
        read_capture(reader, &mut report, opts, emit).map_err(|source| SourceError::Capture {
            path: path.to_path_buf(),
            source,
        })?;
        return Ok(report);
    }
    let mut events = 0u64;
    let result = for_each_block(
        reader,
        CHUNK_BYTES,
        || None,
        |block| {
            let mut skipped = Skipped::default();
            let lines = parse_lines(&block, format, opts, &mut skipped, |ev| {
                events += 1;
                emit(ev)
            });
            report.skipped.merge(skipped, report.records);
            report.records += lines;
            Ok(())
        },
    );
    report.events = events;
    if let Err(e) = result {
        report.warnings.push(format!(
            "read error after line {} ({e}); kept what came before",
            report.records
        ));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_end_at_line_ends() {
        let text = b"aaaa\nbb\ncccccccccc\nd";
        let blocks = blocks_of(text, 11);
        assert_eq!(blocks.concat(), text);
        assert!(blocks[..blocks.len() - 1]
            .iter()
            .all(|b| b.ends_with(b"\n")));
    }

    /// The blocks `for_each_block` makes of `text`, in blocks of `size`.
    fn blocks_of(text: &[u8], size: usize) -> Vec<Vec<u8>> {
        let mut blocks = Vec::new();
        for_each_block(
            text,
            size,
            || None,
            |b| {
                blocks.push(b);
                Ok(())
            },
        )
        .unwrap();
        blocks
    }

    /// Hands out at most `n` bytes per read, as a pipe or a decompressor may.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(out.len()).min(self.0.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn recycled_blocks_and_short_reads_give_the_same_lines() {
        let text: Vec<u8> = (0..500)
            .flat_map(|i| format!("line {i} {}\n", "x".repeat(i % 37)).into_bytes())
            .collect();
        for step in [1, 7, 64, 1 << 20] {
            let mut blocks = Vec::new();
            let spare = std::cell::RefCell::new(Vec::new());
            for_each_block(
                Trickle(&text, step),
                100,
                || spare.borrow_mut().pop(),
                |b| {
                    assert!(b.len() <= 100 && b.ends_with(b"\n"), "{b:?}");
                    blocks.push(b.clone());
                    // Handed back dirty: a recycled block must not leak old bytes.
                    let mut b = b;
                    b.iter_mut().for_each(|x| *x = b'#');
                    spare.borrow_mut().push(b);
                    Ok(())
                },
            )
            .unwrap();
            assert_eq!(blocks.concat(), text, "reads of {step} bytes");
        }
    }

    #[test]
    fn an_endless_line_is_cut_not_buffered() {
        let mut text = b"short\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', 3 << 20));
        text.extend_from_slice(b"\nafter\n");
        let blocks = blocks_of(&text, 16);
        let biggest = blocks.iter().map(Vec::len).max().unwrap();
        assert!(biggest <= 16 + 1, "{biggest}");
        let all = blocks.concat();
        let lines: Vec<&[u8]> = all.split(|&b| b == b'\n').collect();
        assert_eq!(lines[0], b"short");
        assert_eq!(lines[2], b"after", "the line after the cut one survives");

        // Many lines after a cut one, more than a block of them in the skip's read.
        let mut text = vec![b'x'; 100];
        text.push(b'\n');
        let tail: Vec<u8> = (0..50)
            .flat_map(|i| format!("l{i}\n").into_bytes())
            .collect();
        text.extend_from_slice(&tail);
        let blocks = blocks_of(&text, 16);
        assert_eq!(blocks[0], b"xxxxxxxxxxxxxxxx\n");
        assert_eq!(blocks[1..].concat(), tail);
    }

    #[test]
    fn skipped_lines_are_counted_with_examples() {
        let opts = ReadOptions {
            tz: LocalZone::utc(),
            sensor: Some("s".into()),
            progress: None,
        };
        let text = b"2023-04-28-13:47:14.3718 honeyd log started ------\nnonsense\n\n2023-04-28-13:47:14.3718 tcp(6) S 1.2.3.4 1 5.6.7.8 2\n";
        let mut skipped = Skipped::default();
        let mut events = Vec::new();
        let lines = parse_lines(text, InputFormat::Honeyd, &opts, &mut skipped, |e| {
            events.push(e)
        });
        assert_eq!(lines, 4);
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].sensor().map(|s| &**s), Some("s"));
        assert_eq!(skipped.count, 1);
        assert_eq!(skipped.examples[0].record, 2);
        assert_eq!(skipped.examples[0].text, "nonsense");
        let mut all = Skipped::default();
        all.merge(skipped, 100);
        assert_eq!(all.examples[0].record, 102);
    }
}
