//! The store: a directory of Parquet files partitioned by UTC day, and a manifest of what
//! was ingested.
//!
//! ```text
//! STORE/
//!   manifest.jsonl                       one line per ingested input (the commit record)
//!   date=2016-04-01/part-<digest16>-<block>.parquet
//!   .lock                                held by the one writer
//! ```
//!
//! An ingest writes into a staging directory inside the store, renames each finished file
//! into its partition and then rewrites the manifest (write, fsync, rename). Readers use only
//! files whose input is in the manifest, so a crash part way leaves nothing half-counted; the
//! next ingest of the same input removes the leftovers first. An input whose content digest
//! is already in the manifest is not ingested again.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use honeyscope_event::{Event, Timestamp};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::{Deserialize, Serialize};

use crate::ingest::{self, IngestError, Staged};
use crate::schema::{conform, events_from_batch};
use crate::source::{InputReport, ReadOptions};

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.jsonl";
const LOCK: &str = ".lock";
const STAGING_PREFIX: &str = ".staging-";

/// One ingested input, as the manifest records it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestEntry {
    /// BLAKE3 digest of the input file's bytes (`b3sum` prints the same).
    pub digest: String,
    /// The path it was ingested from (for people; identity is the digest).
    pub source: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// `honeyd log`, `JSON lines` or `packet capture`.
    pub format: String,
    /// Lines or frames read.
    pub records: u64,
    /// Events stored.
    pub events: u64,
    /// Records skipped.
    pub skipped: u64,
    /// When it was ingested (RFC 3339, UTC).
    pub ingested_at: String,
    /// Its Parquet files, relative to the store.
    pub files: Vec<String>,
}

/// A failure of a store operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A filesystem operation failed.
    #[error("{path}: {source}")]
    Io {
        /// What it was done to.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// Another process holds the store's lock.
    #[error("{0} is in use by another honeyscope ingest; wait for it to finish")]
    Locked(PathBuf),
    /// The manifest has a line that does not parse.
    #[error("{path}, line {line}: not a manifest entry ({reason}); the store is damaged, restore the manifest or re-ingest into a new store")]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// Why.
        reason: String,
    },
    /// The directory is not a store.
    #[error("{0} is not a honeyscope store (no {MANIFEST}); create one with `honeyscope ingest INPUT --store DIR`")]
    NotAStore(PathBuf),
    /// Ingesting failed.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// A Parquet file could not be read.
    #[error("{path}: {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

fn io_err(path: &Path) -> impl Fn(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What ingesting one input did.
#[derive(Debug)]
pub enum IngestOutcome {
    /// The input was new and is now in the store.
    Added {
        /// What was read.
        report: InputReport,
        /// Its manifest entry.
        entry: ManifestEntry,
    },
    /// The same content is already in the store (ingested from `previous`).
    Duplicate {
        /// The input given now.
        path: PathBuf,
        /// Its digest.
        digest: String,
        /// Where the earlier copy came from.
        previous: String,
    },
}

/// A store opened for reading.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    entries: Vec<ManifestEntry>,
}

/// A store opened for writing: holds the lock until dropped.
#[derive(Debug)]
pub struct StoreWriter {
    store: Store,
    _lock: File,
}

impl Store {
    /// Whether `dir` looks like a store.
    pub fn is_store(dir: &Path) -> bool {
        dir.join(MANIFEST).is_file()
    }

    /// Opens an existing store for reading.
    pub fn open(root: &Path) -> Result<Store, StoreError> {
        if !Store::is_store(root) {
            return Err(StoreError::NotAStore(root.to_path_buf()));
        }
        let entries = read_manifest(&root.join(MANIFEST))?;
        Ok(Store {
            root: root.to_path_buf(),
            entries,
        })
    }

    /// Creates the store if needed and opens it for writing, taking its lock. Removes
    /// staging directories a crashed ingest left behind.
    pub fn open_writer(root: &Path) -> Result<StoreWriter, StoreError> {
        fs::create_dir_all(root).map_err(io_err(root))?;
        let lock_path = root.join(LOCK);
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(StoreError::Locked(root.into())),
            Err(fs::TryLockError::Error(e)) => return Err(io_err(&lock_path)(e)),
        }
        let manifest = root.join(MANIFEST);
        if !manifest.exists() {
            write_manifest(&manifest, &[])?;
        }
        for entry in fs::read_dir(root).map_err(io_err(root))? {
            let entry = entry.map_err(io_err(root))?;
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with(STAGING_PREFIX)
            {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
        Ok(StoreWriter {
            store: Store::open(root)?,
            _lock: lock,
        })
    }

    /// The store's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// What has been ingested, in order.
    pub fn entries(&self) -> &[ManifestEntry] {
        &self.entries
    }

    /// The Parquet files of committed inputs, by day, then in ingest order, then in input
    /// order: reading them in this order gives events as they were ingested, day by day.
    pub fn files(&self) -> Vec<PathBuf> {
        let mut files: Vec<(&str, usize, &str)> = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            for f in &e.files {
                let date = f.split('/').next().unwrap_or("");
                files.push((date, i, f));
            }
        }
        files.sort();
        files
            .into_iter()
            .map(|(_, _, f)| self.root.join(f))
            .collect()
    }

    /// Total events stored.
    pub fn event_count(&self) -> u64 {
        self.entries.iter().map(|e| e.events).sum()
    }

    /// Calls `f` for every stored batch, made to have the current event schema
    /// ([`conform`]), in [`Store::files`] order.
    pub fn for_each_batch(&self, mut f: impl FnMut(RecordBatch)) -> Result<(), StoreError> {
        for path in self.files() {
            let bad = |reason: String| StoreError::Read {
                path: path.clone(),
                reason,
            };
            let file = File::open(&path).map_err(io_err(&path))?;
            let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                .and_then(|b| b.with_batch_size(64 * 1024).build())
                .map_err(|e| bad(e.to_string()))?;
            for batch in reader {
                // Files written before the payload or session columns lack them.
                let batch = batch.map_err(|e| bad(e.to_string()))?;
                f(conform(batch).map_err(|e| bad(e.to_string()))?);
            }
        }
        Ok(())
    }

    /// Calls `f` for every stored event, in [`Store::files`] order.
    pub fn for_each_event(&self, mut f: impl FnMut(Event)) -> Result<u64, StoreError> {
        let mut n = 0;
        let mut failed = None;
        self.for_each_batch(|batch| {
            if failed.is_some() {
                return;
            }
            match events_from_batch(&batch) {
                Ok(events) => {
                    for ev in events {
                        n += 1;
                        f(ev);
                    }
                }
                Err(e) => failed = Some(e),
            }
        })?;
        match failed {
            Some(e) => Err(StoreError::Read {
                path: self.root.clone(),
                reason: e.to_string(),
            }),
            None => Ok(n),
        }
    }
}

impl StoreWriter {
    /// The store as it is now.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Ingests one input file with `workers` parser threads.
    pub fn ingest(
        &mut self,
        path: &Path,
        opts: &ReadOptions,
        workers: usize,
    ) -> Result<IngestOutcome, StoreError> {
        self.ingest_as(path, &path.display().to_string(), opts, workers)
    }

    /// Like [`StoreWriter::ingest`], recording `source` as where the input came from.
    pub fn ingest_as(
        &mut self,
        path: &Path,
        source: &str,
        opts: &ReadOptions,
        workers: usize,
    ) -> Result<IngestOutcome, StoreError> {
        let root = self.store.root.clone();
        // Only an input whose size matches a stored one can be a duplicate: hash those
        // first and skip the work; everything else is hashed while it is read.
        let size = fs::metadata(path).map_err(io_err(path))?.len();
        if self.store.entries.iter().any(|e| e.bytes == size) {
            let digest = ingest::file_digest(path).map_err(io_err(path))?;
            if let Some(prev) = self.store.entries.iter().find(|e| e.digest == digest) {
                return Ok(IngestOutcome::Duplicate {
                    path: path.into(),
                    digest,
                    previous: prev.source.clone(),
                });
            }
        }

        let staging = root.join(format!(
            "{STAGING_PREFIX}{}-{}",
            std::process::id(),
            Timestamp::from_micros(now_micros()).unwrap_or_default().0
        ));
        fs::create_dir_all(&staging).map_err(io_err(&staging))?;
        let result = ingest::stage_file(path, opts, &staging, workers);
        let outcome = match result {
            Ok(staged) => self.commit(path, source, staged),
            Err(e) => Err(e.into()),
        };
        let _ = fs::remove_dir_all(&staging);
        outcome
    }

    fn commit(
        &mut self,
        path: &Path,
        source: &str,
        staged: Staged,
    ) -> Result<IngestOutcome, StoreError> {
        let root = self.store.root.clone();
        if let Some(prev) = self
            .store
            .entries
            .iter()
            .find(|e| e.digest == staged.digest)
        {
            return Ok(IngestOutcome::Duplicate {
                path: path.into(),
                digest: staged.digest,
                previous: prev.source.clone(),
            });
        }
        let short = &staged.digest[..16];
        remove_leftovers(&root, short)?;
        let mut files = Vec::with_capacity(staged.files.len());
        for f in &staged.files {
            let rel = format!("date={}/part-{short}-{:06}.parquet", f.date, f.seq);
            let dest = root.join(&rel);
            if let Some(dir) = dest.parent() {
                fs::create_dir_all(dir).map_err(io_err(dir))?;
            }
            fs::rename(&f.path, &dest).map_err(io_err(&dest))?;
            files.push(rel);
        }
        let report = staged.report;
        let entry = ManifestEntry {
            digest: staged.digest,
            source: source.to_string(),
            bytes: staged.size,
            format: report.format.as_str().into(),
            records: report.records,
            events: report.events,
            skipped: report.skipped.count,
            ingested_at: Timestamp::from_micros(now_micros())
                .unwrap_or_default()
                .to_rfc3339(),
            files,
        };
        let mut entries = self.store.entries.clone();
        entries.push(entry.clone());
        write_manifest(&root.join(MANIFEST), &entries)?;
        self.store.entries = entries;
        Ok(IngestOutcome::Added { report, entry })
    }
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Removes partition files of an input whose ingest crashed before its manifest entry.
fn remove_leftovers(root: &Path, short_digest: &str) -> Result<(), StoreError> {
    let prefix = format!("part-{short_digest}-");
    for dir in fs::read_dir(root).map_err(io_err(root))? {
        let dir = dir.map_err(io_err(root))?.path();
        if !dir.is_dir()
            || !dir
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("date="))
        {
            continue;
        }
        for f in fs::read_dir(&dir).map_err(io_err(&dir))? {
            let f = f.map_err(io_err(&dir))?.path();
            if f.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
            {
                fs::remove_file(&f).map_err(io_err(&f))?;
            }
        }
    }
    Ok(())
}

fn read_manifest(path: &Path) -> Result<Vec<ManifestEntry>, StoreError> {
    let file = File::open(path).map_err(io_err(path))?;
    let mut entries = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(io_err(path))?;
        if line.trim().is_empty() {
            continue;
        }
        let entry = serde_json::from_str(&line).map_err(|e| StoreError::Manifest {
            path: path.into(),
            line: i + 1,
            reason: e.to_string(),
        })?;
        entries.push(entry);
    }
    Ok(entries)
}

/// Writes the manifest atomically: a temporary file, fsync, rename, fsync of the directory.
fn write_manifest(path: &Path, entries: &[ManifestEntry]) -> Result<(), StoreError> {
    let tmp = path.with_extension("jsonl.tmp");
    let mut text = String::new();
    for e in entries {
        text.push_str(&serde_json::to_string(e).unwrap_or_default());
        text.push('\n');
    }
    let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(text.as_bytes()).map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    fs::rename(&tmp, path).map_err(io_err(path))?;
    if let Some(dir) = path.parent() {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trips_and_damage_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MANIFEST);
        let e = ManifestEntry {
            digest: "ab".repeat(32),
            source: "x.log".into(),
            bytes: 10,
            format: "honeyd log".into(),
            records: 3,
            events: 2,
            skipped: 1,
            ingested_at: "2026-11-28T00:00:00.000000Z".into(),
            files: vec!["date=2016-04-01/part-abababababababab-000000.parquet".into()],
        };
        write_manifest(&path, &[e.clone(), e.clone()]).unwrap();
        assert_eq!(read_manifest(&path).unwrap(), vec![e.clone(), e]);
        fs::write(&path, "{nope\n").unwrap();
        let err = read_manifest(&path).unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn a_second_writer_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let _w = Store::open_writer(dir.path()).unwrap();
        assert!(matches!(
            Store::open_writer(dir.path()),
            Err(StoreError::Locked(_))
        ));
    }
}
