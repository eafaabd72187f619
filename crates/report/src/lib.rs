//! honeyscope's report: the seed study's tables and figure from any events.
//!
//! - [`table`]: the report's input table — events plus local day, hour and OS class — from
//!   raw inputs (parsed on all cores) or a store;
//! - [`queries`]: the analyses as plain SQL files (`sql/*.sql`), portable across engines;
//! - [`engine`]: DataFusion runs them and [`engine::build`] assembles a [`model::Report`];
//! - [`geoip`]: countries from a MaxMind database or a range CSV;
//! - [`render`] and [`html`]: text, Markdown, CSV, JSON; an HTML page and SVG charts.
//!
//! `docs/REPORT.md` defines a connection and every table, and documents the JSON contract.

pub mod engine;
pub mod geoip;
pub mod html;
pub mod model;
pub mod queries;
pub mod render;
pub mod table;

pub use engine::{Engine, ReportOptions};
pub use model::{PortSpec, Report};
