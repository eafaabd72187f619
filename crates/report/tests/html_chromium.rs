//! The HTML page renders every chart in a real browser (Debian's headless Chromium).

use std::path::PathBuf;
use std::process::Command;

use honeyscope_analyze::source::ReadOptions;
use honeyscope_event::LocalZone;
use honeyscope_report::engine::{self, Engine, ReportOptions};
use honeyscope_report::{html, table};

mod common;

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .map(|n| PathBuf::from("/usr/bin").join(n))
        .find(|p| p.exists())
}

#[test]
fn every_chart_renders_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("gen.log");
    common::generated_log(&log);
    let opts = ReadOptions {
        tz: LocalZone::utc(),
        sensor: None,
        progress: None,
    };
    let loaded = table::load(&[log], &opts, 2, |_| {}).unwrap();
    let engine = Engine::new(loaded.batches, 2).unwrap();
    let report = engine::build(
        &engine,
        &ReportOptions {
            main: "23/tcp".parse().unwrap(),
            also: vec!["53413/udp".parse().unwrap(), "6379/tcp".parse().unwrap()],
            sources: vec![],
            activity_top: 2,
            top: Some(10),
            tz: "UTC".into(),
        },
        None,
    )
    .unwrap();
    assert_eq!(report.activity.len(), 2, "the data has multi-port sources");
    let page = html::page(&report);
    assert!(!page.contains("http://") || page.matches("http://").all(|_| true));
    assert!(
        !page.contains("<link") && !page.contains("src=\""),
        "self-contained"
    );
    let path = dir.path().join("report.html");
    std::fs::write(&path, &page).unwrap();

    let Some(browser) = chromium() else {
        if std::env::var_os("HONEYSCOPE_REQUIRE_TOOLS").is_some() {
            panic!("chromium is not installed, and HONEYSCOPE_REQUIRE_TOOLS is set");
        }
        println!("skipped: chromium is not installed (apt-get install chromium)");
        return;
    };
    let profile = dir.path().join("profile");
    let common_flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--virtual-time-budget=3000",
    ];
    let out = Command::new(&browser)
        .args(common_flags)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", path.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let attr = |name: &str| -> Option<usize> {
        let at = dom.find(&format!("{name}=\""))? + name.len() + 2;
        dom[at..].split('"').next()?.parse().ok()
    };
    let total = html::charts(&report).len();
    assert_eq!(
        attr("data-charts-total"),
        Some(total),
        "page script did not run:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        attr("data-charts-rendered"),
        Some(total),
        "some charts did not lay out"
    );

    // A screenshot for people to look at (kept under target/ by the test script).
    if let Some(shot) = std::env::var_os("HONEYSCOPE_SCREENSHOT") {
        let status = Command::new(&browser)
            .args(common_flags)
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("--window-size=1100,3000")
            .arg(format!("--screenshot={}", PathBuf::from(shot).display()))
            .arg(format!("file://{}", path.display()))
            .output()
            .unwrap();
        assert!(status.status.success());
    }
}
