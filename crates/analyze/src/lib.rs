//! honeyscope's analysis side.
//!
//! - [`source`]: read any input (Honeyd log, JSON lines, pcap/pcapng; plain, gzip or zstd)
//!   into [`honeyscope_event::Event`]s, counting what cannot be read;
//! - [`schema`]: the Arrow/Parquet projection of the event model;
//! - [`ingest`]: the parallel pipeline from an input to Parquet files;
//! - [`store`]: the day-partitioned Parquet store and its manifest;
//! - [`summary`]: a first look at what a set of events holds;
//! - [`synth`]: synthetic Honeyd logs calibrated to the seed study (`seed-2016-04`).
//!
//! This crate never depends on the sensor.

pub mod ingest;
pub mod schema;
pub mod source;
pub mod store;
pub mod summary;
pub mod synth;

pub use source::{InputReport, ReadOptions, Skipped};
pub use store::{IngestOutcome, Store, StoreError, StoreWriter};
