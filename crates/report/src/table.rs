//! The report's input table: the event schema plus three derived columns, computed once per
//! row in Rust so that the SQL stays portable across engines:
//!
//! - `local_date` (`Date32`) and `local_hour` (`Int32`, 0–23): when the event
//!   happened in the report's zone (`--tz`), for days and hours of activity;
//! - `os_class` (`Utf8`): the OS class of the `os` label (`unknown` when there is none).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use arrow_array::builder::{Date32Builder, Int32Builder, StringBuilder};
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use honeyscope_analyze::ingest::{self, BatchSink, IngestError};
use honeyscope_analyze::schema::{col, event_schema};
use honeyscope_analyze::source::{InputReport, ReadOptions};
use honeyscope_analyze::store::Store;
use honeyscope_event::{LocalZone, Timestamp};

/// Names of the derived columns.
pub const LOCAL_DATE: &str = "local_date";
/// See [`LOCAL_DATE`].
pub const LOCAL_HOUR: &str = "local_hour";
/// See [`LOCAL_DATE`].
pub const OS_CLASS: &str = "os_class";

/// The event schema followed by the derived columns.
pub fn report_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let mut fields: Vec<Field> = event_schema()
                .fields()
                .iter()
                .map(|f| f.as_ref().clone())
                .collect();
            fields.push(Field::new(LOCAL_DATE, DataType::Date32, false));
            fields.push(Field::new(LOCAL_HOUR, DataType::Int32, false));
            fields.push(Field::new(OS_CLASS, DataType::Utf8, false));
            Arc::new(Schema::new(fields))
        })
        .clone()
}

/// Adds the derived columns to a batch with the event schema.
pub fn derive(batch: &RecordBatch, tz: &LocalZone) -> Result<RecordBatch, TableError> {
    let ts = batch
        .column_by_name(col::TS)
        .and_then(|c| c.as_any().downcast_ref::<TimestampMicrosecondArray>())
        .ok_or(TableError::Schema("ts"))?;
    let os = batch
        .column_by_name(col::OS)
        .and_then(|c| c.as_any().downcast_ref::<StringArray>())
        .ok_or(TableError::Schema("os"))?;
    let rows = batch.num_rows();
    let mut dates = Date32Builder::with_capacity(rows);
    let mut hours = Int32Builder::with_capacity(rows);
    let mut classes = StringBuilder::with_capacity(rows, rows * 7);
    // Rows are nearly always in time order: reuse the last OS label's class.
    let mut os_cache: (Option<String>, &'static str) = (None, honeyscope_wire::os_class::UNKNOWN);
    for i in 0..rows {
        let utc = Timestamp(ts.value(i));
        let local_secs = utc.as_micros().div_euclid(1_000_000) + tz.offset_at(utc) as i64;
        // Days of years 1..=9999 fit an i32.
        dates.append_value(local_secs.div_euclid(86_400) as i32);
        hours.append_value((local_secs.rem_euclid(86_400) / 3600) as i32);
        let label = (!os.is_null(i)).then(|| os.value(i));
        if label != os_cache.0.as_deref() {
            os_cache = (
                label.map(str::to_string),
                honeyscope_wire::os_class::os_class(label),
            );
        }
        classes.append_value(os_cache.1);
    }
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    columns.push(Arc::new(dates.finish()));
    columns.push(Arc::new(hours.finish()));
    columns.push(Arc::new(classes.finish()));
    RecordBatch::try_new(report_schema(), columns).map_err(|e| TableError::Arrow(e.to_string()))
}

/// A failure to build the report's table.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// A batch lacks an event column.
    #[error("not an event batch: column {0} missing or of the wrong type")]
    Schema(&'static str),
    /// Arrow refused the batch.
    #[error("building the report table: {0}")]
    Arrow(String),
    /// Reading an input failed.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// Reading a store failed.
    #[error(transparent)]
    Store(#[from] honeyscope_analyze::StoreError),
}

/// Collects derived batches from the parallel parser, in block order.
struct Collect<'a> {
    tz: &'a LocalZone,
    batches: Mutex<Vec<(u32, i64, RecordBatch)>>,
}

impl BatchSink for Collect<'_> {
    fn accept(&self, seq: u32, day: i64, batch: RecordBatch) -> Result<(), IngestError> {
        let derived = derive(&batch, self.tz);
        let derived = derived.map_err(|e| IngestError::Write {
            path: PathBuf::from("(memory)"),
            source: std::io::Error::other(e.to_string()),
        })?;
        if let Ok(mut v) = self.batches.lock() {
            v.push((seq, day, derived));
        }
        Ok(())
    }
}

/// What loading inputs gave.
pub struct Loaded {
    /// The report table's batches.
    pub batches: Vec<RecordBatch>,
    /// One report per input file read (stores are not listed).
    pub inputs: Vec<InputReport>,
}

/// Loads input files (any format) and stores into the report's table, on `workers` threads.
pub fn load(
    paths: &[PathBuf],
    opts: &ReadOptions,
    workers: usize,
    mut progress: impl FnMut(&Path),
) -> Result<Loaded, TableError> {
    let mut batches = Vec::new();
    let mut inputs = Vec::new();
    for path in paths {
        progress(path);
        if path.is_dir() {
            let mut failed = None;
            Store::open(path)?.for_each_batch(|b| match derive(&b, &opts.tz) {
                Ok(d) => batches.push(d),
                Err(e) => failed = failed.take().or(Some(e)),
            })?;
            if let Some(e) = failed {
                return Err(e);
            }
        } else {
            let sink = Collect {
                tz: &opts.tz,
                batches: Mutex::new(Vec::new()),
            };
            let parsed = ingest::parse_file(path, opts, workers, false, &sink)?;
            let mut got = sink.batches.into_inner().unwrap_or_default();
            got.sort_by_key(|(seq, day, _)| (*seq, *day));
            batches.extend(got.into_iter().map(|(_, _, b)| b));
            inputs.push(parsed.report);
        }
    }
    Ok(Loaded { batches, inputs })
}

#[cfg(test)]
mod tests {
    use super::*;
    use honeyscope_analyze::schema::EventBatchBuilder;
    use honeyscope_event::honeyd;

    #[test]
    fn derived_columns_follow_the_zone() {
        let utc = LocalZone::utc();
        let mut b = EventBatchBuilder::default();
        for l in [
            "2016-04-01-14:59:59.0000 tcp(6) - 203.0.113.9 4711 198.51.100.7 23: 40 S [Linux 2.6 ]",
            "2016-04-01-15:00:00.0000 tcp(6) - 203.0.113.9 4711 198.51.100.7 23: 40 S [Windows XP SP1]",
            "2016-04-01-15:00:01.0000 tcp(6) - 203.0.113.9 4711 198.51.100.7 23: 40 S",
        ] {
            b.append(&honeyd::parse_line(l.as_bytes(), &utc).unwrap());
        }
        let batch = derive(&b.finish(), &LocalZone::named("Asia/Tokyo").unwrap()).unwrap();
        let dates = batch.column_by_name(LOCAL_DATE).unwrap();
        let dates = dates
            .as_any()
            .downcast_ref::<arrow_array::Date32Array>()
            .unwrap();
        // 2016-04-01 is day 16892 after 1970-01-01.
        assert_eq!((dates.value(0), dates.value(1)), (16_892, 16_893));
        let hours = batch.column_by_name(LOCAL_HOUR).unwrap();
        let hours = hours
            .as_any()
            .downcast_ref::<arrow_array::Int32Array>()
            .unwrap();
        assert_eq!((hours.value(0), hours.value(1)), (23, 0));
        let classes = batch.column_by_name(OS_CLASS).unwrap();
        let classes = classes.as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(
            (classes.value(0), classes.value(1), classes.value(2)),
            ("Linux", "Windows", "unknown")
        );
    }
}
