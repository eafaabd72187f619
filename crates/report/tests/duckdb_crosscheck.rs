//! The report's SQL files give the same rows on DataFusion and on DuckDB, over the same data.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use honeyscope_analyze::source::ReadOptions;
use honeyscope_event::LocalZone;
use honeyscope_report::engine::{Engine, Row};
use honeyscope_report::queries::{self, Params};
use honeyscope_report::table::{self, report_schema};

mod common;
use common::generated_log;
use serde_json::Value;

fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel)
}

fn duckdb_rows(
    parquet: &Path,
    sql_files: &[(String, String)],
    dir: &Path,
) -> Option<Vec<Vec<Row>>> {
    let script = dir.join("run.py");
    std::fs::write(
        &script,
        r#"
import datetime, decimal, json, sys
import duckdb
con = duckdb.connect()
con.execute("SET TimeZone='UTC'")
con.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet('{sys.argv[1]}')")
queries = json.load(open(sys.argv[2]))
con.execute(queries[0][1])
def norm(v):
    if isinstance(v, datetime.datetime):
        return v.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return float(v)
    return v
out = []
for name, sql in queries[1:]:
    out.append([[norm(v) for v in row] for row in con.execute(sql).fetchall()])
json.dump(out, sys.stdout)
"#,
    )
    .unwrap();
    let qfile = dir.join("queries.json");
    std::fs::write(&qfile, serde_json::to_string(sql_files).unwrap()).unwrap();
    let out = Command::new("python3")
        .arg(&script)
        .arg(parquet)
        .arg(&qfile)
        .output();
    let out = match out {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr).to_string();
            if err.contains("No module named 'duckdb'") {
                return skip("the duckdb Python module is missing (pip install duckdb)");
            }
            panic!("duckdb failed: {err}");
        }
        Err(_) => return skip("python3 is missing"),
    };
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

fn skip<T>(why: &str) -> Option<T> {
    if std::env::var_os("HONEYSCOPE_REQUIRE_TOOLS").is_some() {
        panic!("{why}, and HONEYSCOPE_REQUIRE_TOOLS is set");
    }
    println!("skipped: {why}");
    None
}

fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        _ => a == b,
    }
}

#[test]
fn datafusion_and_duckdb_agree_on_every_query() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("gen.log");
    generated_log(&log);
    let opts = ReadOptions {
        tz: LocalZone::named("Asia/Tokyo").unwrap(),
        sensor: None,
        progress: None,
    };
    let loaded = table::load(
        &[log, shared("data/honeyd/honeyevse-2023-04-28.log")],
        &opts,
        2,
        |_| {},
    )
    .unwrap();
    let parquet = dir.path().join("events.parquet");
    let mut w = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&parquet).unwrap(),
        report_schema(),
        None,
    )
    .unwrap();
    for b in &loaded.batches {
        w.write(b).unwrap();
    }
    w.close().unwrap();

    let params = Params {
        main: "23/tcp".parse().unwrap(),
        also: vec!["53413/udp".parse().unwrap(), "6379/tcp".parse().unwrap()],
        sources: vec!["203.0.1.7".parse().unwrap(), "203.0.2.9".parse().unwrap()],
    };
    let engine = Engine::new(loaded.batches, 2).unwrap();
    let mut sql_files = vec![(
        "connections".to_string(),
        queries::connections.sql.to_string(),
    )];
    let mut ours = Vec::new();
    for q in &queries::ALL[1..] {
        sql_files.push((q.name.to_string(), params.render(q)));
        ours.push((q.name, engine.rows(q, &params).unwrap()));
    }
    let Some(theirs) = duckdb_rows(&parquet, &sql_files, dir.path()) else {
        return;
    };
    assert_eq!(ours.len(), theirs.len());
    for ((name, mut a), mut b) in ours.into_iter().zip(theirs) {
        assert!(
            !a.is_empty(),
            "{name} returned no rows: the data should exercise it"
        );
        if name == "sources" {
            // No ORDER BY: compare as sets.
            let key = |r: &Row| serde_json::to_string(r).unwrap();
            a.sort_by_key(key);
            b.sort_by_key(key);
        }
        assert_eq!(a.len(), b.len(), "{name}: row counts differ");
        for (i, (ra, rb)) in a.iter().zip(&b).enumerate() {
            assert!(
                ra.len() == rb.len() && ra.iter().zip(rb).all(|(x, y)| same(x, y)),
                "{name} row {i}: DataFusion {ra:?} vs DuckDB {rb:?}"
            );
        }
        let _ = std::io::stdout().flush();
    }
}
