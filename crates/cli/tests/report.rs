//! `honeyscope report` end to end: the calibrated month reproduces the seed exactly, and raw
//! logs, JSON events, stores and captures of the same traffic give the same report.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn honeyscope(args: &[&str], cwd: &Path) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_honeyscope"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run honeyscope");
    assert!(
        out.status.success(),
        "honeyscope {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs a command that must fail with a user error (exit code 2): its stderr.
fn user_error(args: &[&str], cwd: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_honeyscope"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run honeyscope");
    assert_eq!(out.status.code(), Some(2), "honeyscope {args:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).expect("report JSON")
}

fn real_log() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/honeyd/honeyevse-2023-04-28.log")
        .canonicalize()
        .unwrap()
}

fn port_row<'a>(r: &'a Value, proto: &str, port: u64) -> &'a Value {
    r["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["proto"] == proto && p["port"] == port)
        .unwrap_or_else(|| panic!("no row for {port}/{proto}"))
}

#[test]
fn the_calibrated_month_reproduces_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    honeyscope(
        &["synth", "--profile", "seed-2016-04", "--out", "month.log"],
        dir.path(),
    );
    let out = honeyscope(
        &[
            "report",
            "month.log",
            "--tz",
            "UTC",
            "--geoip",
            "month.log.geoip.csv",
            "--format",
            "json",
        ],
        dir.path(),
    );
    let r = json(&out);

    assert_eq!(r["totals"]["connections"], 2_655_884);
    let ports = r["ports"].as_array().unwrap();
    let first3: Vec<(String, u64)> = ports[..3]
        .iter()
        .map(|p| {
            (
                p["proto"].as_str().unwrap().to_string(),
                p["port"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        first3,
        [
            ("tcp".to_string(), 23),
            ("udp".to_string(), 53413),
            ("tcp".to_string(), 80)
        ]
    );
    for (proto, port, n, pct) in [
        ("tcp", 23, 1_940_825u64, "73.1"),
        ("udp", 53413, 83_188, "3.1"),
        ("tcp", 80, 59_097, "2.2"),
    ] {
        let row = port_row(&r, proto, port);
        assert_eq!(row["connections"], n, "{port}/{proto}");
        assert_eq!(format!("{:.1}", row["share_pct"].as_f64().unwrap()), pct);
    }
    assert_eq!(port_row(&r, "tcp", 23)["sources"], 89_857);

    let days = r["daily"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    let s = &r["daily_summary"];
    assert_eq!(s["mean"].as_f64().unwrap().round(), 64_694.0);
    assert_eq!(s["max"]["date"], "2016-04-09");
    assert_eq!(s["max"]["connections"], 92_246);
    assert_eq!(s["min"]["date"], "2016-04-30");
    assert_eq!(s["min"]["connections"], 44_298);

    let multi = r["multi_port_sources"].as_array().unwrap();
    assert_eq!(multi.len(), 29);
    let top: Vec<(u64, &str)> = multi[..3]
        .iter()
        .map(|m| {
            (
                m["connections"].as_u64().unwrap(),
                m["country"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(top, [(1482, "NL"), (702, "PH"), (628, "CN")]);

    let a = &r["activity"][0];
    assert_eq!(a["src"], multi[0]["src"]);
    assert_eq!(a["hours_per_day"].as_f64().unwrap(), 4.0);
    let h23: Vec<u64> = a["hours"]["23/tcp"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_u64().unwrap())
        .collect();
    let h6379: Vec<u64> = a["hours"]["6379/tcp"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_u64().unwrap())
        .collect();
    assert_eq!(h23.len(), 2, "{h23:?}");
    assert_eq!(h6379.len(), 2, "{h6379:?}");
    assert_eq!(h23[1], h23[0] + 1);
    assert_eq!(h6379[0], h23[1] + 1, "TCP/6379 follows TCP/23");
    assert_eq!(h6379[1], h6379[0] + 1);

    let os: Vec<(String, u64, String)> = r["os"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["os"].as_str().unwrap().to_string(),
                o["connections"].as_u64().unwrap(),
                format!("{:.1}", o["share_pct"].as_f64().unwrap()),
            )
        })
        .collect();
    let want = [
        ("Linux", 984_857u64, "50.7"),
        ("unknown", 954_408, "49.2"),
        ("Windows", 1_467, "0.1"),
        ("Solaris", 93, "0.0"),
    ];
    assert_eq!(os.len(), want.len(), "{os:?}");
    for ((o, n, p), (wo, wn, wp)) in os.iter().zip(want) {
        assert_eq!((o.as_str(), *n, p.as_str()), (wo, wn, wp));
    }
    assert!(r["countries"].as_array().unwrap().len() > 3);
}

#[test]
fn raw_log_json_events_and_store_give_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    let log = real_log();
    let log = log.to_str().unwrap();
    let args = |input: &str| {
        vec![
            "report".to_string(),
            input.to_string(),
            "--tz".into(),
            "Europe/Rome".into(),
            "--port".into(),
            "80/tcp".into(),
            "--also".into(),
            "23/tcp,21/tcp".into(),
            "--format".into(),
            "json".into(),
        ]
    };
    let run = |input: &str| {
        let a = args(input);
        json(&honeyscope(
            &a.iter().map(String::as_str).collect::<Vec<_>>(),
            dir.path(),
        ))
    };
    let raw = run(log);
    honeyscope(
        &["ingest", log, "--store", "s", "--tz", "Europe/Rome"],
        dir.path(),
    );
    let stored = run("s");
    let events = honeyscope(
        &["cat", log, "--format", "json", "--tz", "Europe/Rome"],
        dir.path(),
    );
    std::fs::write(dir.path().join("events.jsonl"), &events.stdout).unwrap();
    let from_json = run("events.jsonl");
    assert_eq!(raw, stored);
    assert_eq!(raw, from_json);
    // The real log's web flows: 34 SYNs to 80/tcp (S lines), none counted twice by E lines.
    assert_eq!(port_row(&raw, "tcp", 80)["connections"], 34);
    assert_eq!(raw["totals"]["connections"], 86);
    assert_eq!(raw["multi_port_sources"].as_array().unwrap().len(), 2);
}

#[test]
fn every_output_format_and_the_charts_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let log = real_log();
    let log = log.to_str().unwrap();
    for (format, marker) in [
        ("text", "Connections per destination port (table 1)"),
        ("md", "| port | connections | share % | sources |"),
        (
            "csv",
            "# ports\nport,connections,share %,sources\n23/tcp,37,43.0,2",
        ),
    ] {
        let out = honeyscope(
            &["report", log, "--tz", "UTC", "--format", format],
            dir.path(),
        );
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(marker), "{format}:\n{text}");
    }
    honeyscope(
        &[
            "report",
            log,
            "--tz",
            "UTC",
            "--html",
            "r.html",
            "--svg-dir",
            "svg",
            "--format",
            "json",
        ],
        dir.path(),
    );
    let page = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    assert!(page.contains("<svg") && page.contains("data-chart=\"daily\""));
    for chart in ["daily", "ports", "os"] {
        let svg = std::fs::read_to_string(dir.path().join(format!("svg/{chart}.svg"))).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("<rect"), "{chart}");
    }
}

#[test]
fn a_bad_port_or_geoip_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let log = real_log();
    let log = log.to_str().unwrap();
    let err = user_error(&["report", log, "--port", "23"], dir.path());
    assert!(err.contains("write PORT/tcp or PORT/udp"), "{err}");
    std::fs::write(dir.path().join("bad.csv"), "1.2.3.4,nonsense\n").unwrap();
    let err = user_error(&["report", log, "--geoip", "bad.csv"], dir.path());
    assert!(
        err.contains("bad.csv, line 1: want start,end,country"),
        "{err}"
    );
}

#[test]
fn sql_answers_ad_hoc_questions_over_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let log = real_log();
    honeyscope(
        &[
            "ingest",
            log.to_str().unwrap(),
            "--store",
            "s",
            "--tz",
            "UTC",
        ],
        dir.path(),
    );
    let out = honeyscope(
        &[
            "sql",
            "--store",
            "s",
            "--tz",
            "UTC",
            "--format",
            "csv",
            "SELECT dport, count(*) AS n FROM connections WHERE proto = 6 GROUP BY dport ORDER BY n DESC, dport",
        ],
        dir.path(),
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text, "# result\ndport,n\n23,37\n80,34\n21,9\n443,2\n\n");
    let err = user_error(&["sql", "--store", "s", "SELEC nonsense"], dir.path());
    assert!(
        err.starts_with("honeyscope: error: query ad hoc: SQL error"),
        "{err}"
    );
}
