//! Runs the SQL files on DataFusion over the report table and assembles the [`Report`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};
use serde_json::Value;

use crate::geoip::GeoIp;
use crate::model::*;
use crate::queries::{self, Params, Query};
use crate::table::report_schema;

/// A failure while running the report's queries.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// DataFusion refused or failed a query.
    #[error("query {query}: {message}")]
    Query {
        /// The query's name.
        query: &'static str,
        /// DataFusion's message (its error chain repeats itself, so only this is kept).
        message: String,
    },
    /// A result had an unexpected shape.
    #[error("query {query}: {what}")]
    Shape {
        /// The query's name.
        query: &'static str,
        /// What was wrong.
        what: String,
    },
}

/// One result row, as JSON values: integers, floats, strings, null. Engine-neutral, so the
/// same rows can be compared with another engine's.
pub type Row = Vec<Value>;

/// DataFusion over the report table, with the `connections` table made.
pub struct Engine {
    ctx: SessionContext,
    runtime: tokio::runtime::Runtime,
}

impl Engine {
    /// Registers `batches` (with [`report_schema`]) as the table `events`, spread over
    /// `partitions` partitions, and makes the `connections` table (`sql/connections.sql`).
    pub fn new(batches: Vec<RecordBatch>, partitions: usize) -> Result<Engine, EngineError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(partitions.max(1))
            .build()
            .map_err(|e| EngineError::Query {
                query: "setup",
                message: e.to_string(),
            })?;
        let partitions = partitions.max(1);
        let mut parts: Vec<Vec<RecordBatch>> = vec![Vec::new(); partitions];
        for (i, b) in batches.into_iter().enumerate() {
            parts[i % partitions].push(b);
        }
        let config = SessionConfig::new().with_target_partitions(partitions);
        let ctx = SessionContext::new_with_config(config);
        let table = MemTable::try_new(report_schema(), parts).map_err(|e| EngineError::Query {
            query: "setup",
            message: e.to_string(),
        })?;
        ctx.register_table("events", Arc::new(table))
            .map_err(|e| EngineError::Query {
                query: "setup",
                message: e.to_string(),
            })?;
        let engine = Engine { ctx, runtime };
        engine.execute(&queries::connections, queries::connections.sql)?;
        Ok(engine)
    }

    fn execute(&self, query: &Query, sql: &str) -> Result<Vec<RecordBatch>, EngineError> {
        let err = |e: datafusion::error::DataFusionError| EngineError::Query {
            query: query.name,
            message: e.to_string(),
        };
        self.runtime.block_on(async {
            let df = self.ctx.sql(sql).await.map_err(err)?;
            df.collect().await.map_err(err)
        })
    }

    /// Runs an ad-hoc SQL statement over `events` and `connections`: its column names and
    /// rows.
    pub fn sql(&self, sql: &str) -> Result<(Vec<String>, Vec<Row>), EngineError> {
        const AD_HOC: Query = Query {
            name: "ad hoc",
            sql: "",
        };
        let batches = self.execute(&AD_HOC, sql)?;
        let names = batches
            .first()
            .map(|b| {
                b.schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect()
            })
            .unwrap_or_default();
        Ok((names, batch_rows(&AD_HOC, &batches)?))
    }

    /// Runs one query with `params`, returning its rows.
    pub fn rows(&self, query: &Query, params: &Params) -> Result<Vec<Row>, EngineError> {
        let started = std::time::Instant::now();
        let batches = self.execute(query, &params.render(query))?;
        tracing::debug!(
            query = query.name,
            seconds = started.elapsed().as_secs_f64(),
            "query run"
        );
        batch_rows(query, &batches)
    }
}

/// The rows of result batches as JSON values.
fn batch_rows(query: &Query, batches: &[RecordBatch]) -> Result<Vec<Row>, EngineError> {
    let mut rows = Vec::new();
    for batch in batches {
        let columns: Vec<Vec<Value>> = batch
            .columns()
            .iter()
            .map(|c| {
                column_values(c).map_err(|what| EngineError::Shape {
                    query: query.name,
                    what,
                })
            })
            .collect::<Result<_, _>>()?;
        for i in 0..batch.num_rows() {
            rows.push(columns.iter().map(|c| c[i].clone()).collect());
        }
    }
    Ok(rows)
}

/// A column's values as JSON: integers as integers, floats as floats, timestamps as RFC 3339
/// strings (UTC), everything else as text.
fn column_values(c: &ArrayRef) -> Result<Vec<Value>, String> {
    /// Every row's value, `null` where the array has one.
    fn each(a: &dyn Array, value: impl Fn(usize) -> Value) -> Vec<Value> {
        (0..a.len())
            .map(|i| if a.is_null(i) { Value::Null } else { value(i) })
            .collect()
    }
    let cast_to = |t: &DataType| cast(c, t).map_err(|e| e.to_string());
    let out = match c.data_type() {
        t if t.is_integer() => {
            let a = cast_to(&DataType::Int64)?;
            let a = a.as_primitive::<Int64Type>();
            each(a, |i| Value::from(a.value(i)))
        }
        t if t.is_floating()
            || matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..)) =>
        {
            let a = cast_to(&DataType::Float64)?;
            let a = a.as_primitive::<Float64Type>();
            each(a, |i| Value::from(a.value(i)))
        }
        DataType::Timestamp(_, _) => {
            let a = cast_to(&DataType::Timestamp(TimeUnit::Microsecond, None))?;
            let a = cast(&a, &DataType::Int64).map_err(|e| e.to_string())?;
            let a = a.as_primitive::<Int64Type>();
            each(a, |i| {
                Value::from(honeyscope_event::Timestamp(a.value(i)).to_rfc3339())
            })
        }
        _ => {
            let a = cast_to(&DataType::Utf8)?;
            let a = a.as_string::<i32>();
            each(a, |i| Value::from(a.value(i)))
        }
    };
    Ok(out)
}

fn u64_at(row: &Row, i: usize) -> u64 {
    row.get(i).and_then(Value::as_u64).unwrap_or(0)
}

fn f64_at(row: &Row, i: usize) -> f64 {
    row.get(i).and_then(Value::as_f64).unwrap_or(0.0)
}

fn str_at(row: &Row, i: usize) -> String {
    match row.get(i) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    }
}

fn port_at(row: &Row, i: usize) -> Option<u16> {
    row.get(i)
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
}

fn port_label(proto: &str, port: Option<u16>) -> String {
    match port {
        Some(p) => format!("{p}/{proto}"),
        None => proto.to_string(),
    }
}

/// What the report is asked for.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// The main port (`--port`).
    pub main: PortSpec,
    /// The other named ports (`--also`).
    pub also: Vec<PortSpec>,
    /// Sources whose activity to show besides the top multi-port ones (`--source`).
    pub sources: Vec<IpAddr>,
    /// How many of the top multi-port sources get an activity grid.
    pub activity_top: usize,
    /// Keep only the `top` busiest ports in table 1 (`--top`).
    pub top: Option<usize>,
    /// The zone's name, for the output.
    pub tz: String,
}

/// Runs every query and assembles the report.
pub fn build(
    engine: &Engine,
    opts: &ReportOptions,
    geoip: Option<&GeoIp>,
) -> Result<Report, EngineError> {
    let mut params = Params {
        main: opts.main,
        also: opts.also.clone(),
        sources: Vec::new(),
    };
    let totals_row = engine.rows(&queries::totals, &params)?;
    let t = totals_row.first().cloned().unwrap_or_default();
    let totals = Totals {
        connections: u64_at(&t, 0),
        sources: u64_at(&t, 1),
        first: t.get(2).and_then(Value::as_str).map(str::to_string),
        last: t.get(3).and_then(Value::as_str).map(str::to_string),
    };

    let mut ports: Vec<PortRow> = engine
        .rows(&queries::ports, &params)?
        .iter()
        .map(|r| PortRow {
            proto: str_at(r, 0),
            port: port_at(r, 1),
            connections: u64_at(r, 2),
            share_pct: f64_at(r, 3),
            sources: u64_at(r, 4),
        })
        .collect();
    if let Some(n) = opts.top {
        ports.truncate(n);
    }

    // Figure 1: every day the data spans, zero where the main port saw nothing.
    let counts: HashMap<String, u64> = engine
        .rows(&queries::daily, &params)?
        .iter()
        .map(|r| (str_at(r, 0), u64_at(r, 1)))
        .collect();
    let daily: Vec<DailyRow> = engine
        .rows(&queries::days, &params)?
        .iter()
        .map(|r| {
            let date = str_at(r, 0);
            DailyRow {
                connections: counts.get(&date).copied().unwrap_or(0),
                date,
                proto: opts.main.proto_name().to_string(),
                port: opts.main.port,
            }
        })
        .collect();
    let daily_summary = summarise_days(&daily);

    // Table 2.
    let mut multi: BTreeMap<String, MultiPortSource> = BTreeMap::new();
    for r in engine.rows(&queries::multi_port, &params)? {
        let src = str_at(&r, 0);
        let entry = multi.entry(src.clone()).or_insert_with(|| MultiPortSource {
            country: geoip.and_then(|g| g.country_of_text(&src)),
            src,
            connections: 0,
            ports: Vec::new(),
        });
        let n = u64_at(&r, 3);
        entry.connections += n;
        entry.ports.push(PortCount {
            proto: str_at(&r, 1),
            port: port_at(&r, 2),
            connections: n,
        });
    }
    let mut multi_port_sources: Vec<MultiPortSource> = multi.into_values().collect();
    for m in &mut multi_port_sources {
        m.ports.sort_by(|a, b| {
            b.connections
                .cmp(&a.connections)
                .then(a.proto.cmp(&b.proto))
                .then(a.port.cmp(&b.port))
        });
    }
    multi_port_sources.sort_by(|a, b| b.connections.cmp(&a.connections).then(a.src.cmp(&b.src)));

    // Activity of the top multi-port sources and any asked for.
    let mut chosen: Vec<IpAddr> = multi_port_sources
        .iter()
        .take(opts.activity_top)
        .filter_map(|m| m.src.parse().ok())
        .collect();
    for s in &opts.sources {
        if !chosen.contains(s) {
            chosen.push(*s);
        }
    }
    params.sources = chosen.clone();
    let activity_rows = if chosen.is_empty() {
        Vec::new()
    } else {
        engine.rows(&queries::activity, &params)?
    };
    let activity = chosen
        .iter()
        .map(|ip| summarise_activity(&ip.to_string(), &activity_rows))
        .collect();

    let os = engine
        .rows(&queries::os, &params)?
        .iter()
        .map(|r| OsRow {
            os: str_at(r, 0),
            connections: u64_at(r, 1),
            share_pct: f64_at(r, 2),
        })
        .collect();

    let countries = match geoip {
        None => None,
        Some(g) => {
            let mut by: BTreeMap<String, (u64, u64)> = BTreeMap::new();
            for r in engine.rows(&queries::sources, &params)? {
                let c = g
                    .country_of_text(&str_at(&r, 0))
                    .unwrap_or_else(|| "unknown".into());
                let e = by.entry(c).or_default();
                e.0 += 1;
                e.1 += u64_at(&r, 1);
            }
            let mut rows: Vec<CountryRow> = by
                .into_iter()
                .map(|(country, (sources, connections))| CountryRow {
                    country,
                    sources,
                    connections,
                })
                .collect();
            rows.sort_by(|a, b| {
                b.connections
                    .cmp(&a.connections)
                    .then(a.country.cmp(&b.country))
            });
            Some(rows)
        }
    };

    Ok(Report {
        totals,
        ports,
        daily,
        daily_summary,
        multi_port_sources,
        activity,
        os,
        countries,
        parameters: Parameters {
            port: opts.main.to_string(),
            also: opts.also.iter().map(ToString::to_string).collect(),
            tz: opts.tz.clone(),
        },
    })
}

fn summarise_days(daily: &[DailyRow]) -> DailySummary {
    let total: u64 = daily.iter().map(|d| d.connections).sum();
    let pick = |better: fn(u64, u64) -> bool| {
        let mut best: Option<&DailyRow> = None;
        for d in daily {
            if best.is_none_or(|b| better(d.connections, b.connections)) {
                best = Some(d);
            }
        }
        best.map(|d| DayCount {
            date: d.date.clone(),
            connections: d.connections,
        })
    };
    DailySummary {
        mean: if daily.is_empty() {
            0.0
        } else {
            total as f64 / daily.len() as f64
        },
        max: pick(|a, b| a > b),
        min: pick(|a, b| a < b),
    }
}

/// Rows of `activity.sql` are (src, date, hour, proto, port, connections).
fn summarise_activity(src: &str, rows: &[Row]) -> Activity {
    let mine: Vec<&Row> = rows.iter().filter(|r| str_at(r, 0) == src).collect();
    let mut cells: BTreeMap<(String, u8), (u64, BTreeMap<String, u64>)> = BTreeMap::new();
    let mut hours: BTreeMap<String, BTreeSet<u8>> = BTreeMap::new();
    for r in &mine {
        let hour = u64_at(r, 2).min(23) as u8;
        let label = port_label(&str_at(r, 3), port_at(r, 4));
        let n = u64_at(r, 5);
        let cell = cells.entry((str_at(r, 1), hour)).or_default();
        cell.0 += n;
        *cell.1.entry(label.clone()).or_default() += n;
        hours.entry(label).or_default().insert(hour);
    }
    let days: BTreeSet<&String> = cells.keys().map(|(d, _)| d).collect();
    let days_active = days.len() as u32;
    let hours_per_day = if days_active == 0 {
        0.0
    } else {
        cells.len() as f64 / days_active as f64
    };
    let grid = cells
        .iter()
        .map(|((date, hour), (n, by_port))| GridCell {
            date: date.clone(),
            hour: *hour,
            connections: *n,
            port: by_port
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(p, _)| p.clone())
                .unwrap_or_default(),
        })
        .collect();
    Activity {
        src: src.to_string(),
        days_active,
        hours_per_day,
        hours: hours
            .into_iter()
            .map(|(k, v)| (k, v.into_iter().collect()))
            .collect(),
        grid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_and_busy_days_take_the_earliest_tie() {
        let d = |date: &str, n| DailyRow {
            date: date.into(),
            proto: "tcp".into(),
            port: 23,
            connections: n,
        };
        let s = summarise_days(&[
            d("2016-04-01", 5),
            d("2016-04-02", 9),
            d("2016-04-03", 9),
            d("2016-04-04", 0),
        ]);
        assert_eq!(s.mean, 5.75);
        assert_eq!(s.max.unwrap().date, "2016-04-02");
        assert_eq!(s.min.unwrap().connections, 0);
    }

    #[test]
    fn activity_counts_hours_per_day_and_port() {
        let r = |date: &str, hour: i64, port: i64, n: i64| -> Row {
            vec![
                Value::from("192.0.2.1"),
                Value::from(date),
                Value::from(hour),
                Value::from("tcp"),
                Value::from(port),
                Value::from(n),
            ]
        };
        let rows = vec![
            r("2016-04-01", 2, 23, 10),
            r("2016-04-01", 3, 23, 10),
            r("2016-04-01", 4, 6379, 10),
            r("2016-04-01", 5, 6379, 10),
            r("2016-04-02", 2, 23, 1),
        ];
        let a = summarise_activity("192.0.2.1", &rows);
        assert_eq!(a.days_active, 2);
        assert_eq!(a.hours_per_day, 2.5);
        assert_eq!(a.hours["23/tcp"], vec![2, 3]);
        assert_eq!(a.hours["6379/tcp"], vec![4, 5]);
        assert_eq!(a.grid.len(), 5);
        assert_eq!(a.grid[2].port, "6379/tcp");
    }
}
