//! The `honeyscope` binary as a user runs it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn honeyscope(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_honeyscope"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run honeyscope")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn real_log() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/honeyd/honeyevse-2023-04-28.log")
        .canonicalize()
        .expect("shared/ must sit beside the checkout")
}

#[test]
fn quick_start_ingests_the_bundled_example_and_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = honeyscope(&["ingest"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("(bundled example log): honeyd log (plain), 115 events from 115 lines"),
        "{stdout}"
    );
    assert!(stdout.contains("distinct sources        8"), "{stdout}");
    assert!(stdout.contains("23/tcp"), "{stdout}");
    assert!(stdout.contains("2016-04-10"), "{stdout}");
    assert!(dir.path().join("honeyscope-store/manifest.jsonl").is_file());
    // Again: nothing new, said so.
    let out = honeyscope(&["ingest"], dir.path());
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("already in the store"));
}

#[test]
fn cat_writes_the_real_log_back_byte_for_byte_from_file_and_store() {
    let dir = tempfile::tempdir().unwrap();
    let log = real_log();
    let original = std::fs::read(&log).unwrap();
    let log = log.to_str().unwrap();
    let out = honeyscope(&["cat", log, "--tz", "Asia/Tokyo"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(out.stdout, original);

    let out = honeyscope(
        &["ingest", log, "--store", "s", "--tz", "Asia/Tokyo"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = honeyscope(&["cat", "s", "--tz", "Asia/Tokyo"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(out.stdout, original);

    // Through JSON and back.
    let out = honeyscope(&["cat", "s", "--format", "json"], dir.path());
    assert!(out.status.success());
    std::fs::write(dir.path().join("events.jsonl"), &out.stdout).unwrap();
    let out = honeyscope(&["cat", "events.jsonl", "--tz", "Asia/Tokyo"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(out.stdout, original);
}

#[test]
fn compressed_inputs_are_recognised() {
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read(real_log()).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&original).unwrap();
    std::fs::write(dir.path().join("a.log.gz"), gz.finish().unwrap()).unwrap();
    std::fs::write(
        dir.path().join("a.log.zst"),
        zstd::encode_all(&original[..], 3).unwrap(),
    )
    .unwrap();
    for f in ["a.log.gz", "a.log.zst"] {
        let out = honeyscope(&["cat", f, "--tz", "UTC"], dir.path());
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(out.stdout, original, "{f}");
    }
}

#[test]
fn bad_lines_are_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mixed.log"),
        "2016-04-01-00:00:01.0000 tcp(6) S 203.0.113.9 4711 198.51.100.7 23\n\
         this is no honeyd log line at all\n\
         2016-04-01-00:00:02.0000 tcp(6) E 203.0.113.9 4711 198.51.100.7 23: 1 2\n",
    )
    .unwrap();
    let out = honeyscope(
        &["ingest", "mixed.log", "--store", "s", "--tz", "UTC"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("2 events from 3 lines"));
    let err = text(&out.stderr);
    assert!(err.contains("mixed.log: 1 line(s) skipped"), "{err}");
    assert!(err.contains("line 2: bad timestamp"), "{err}");
    assert!(err.contains("this is no honeyd log line at all"), "{err}");
}

#[test]
fn user_errors_are_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = honeyscope(&["cat", "nope.log"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("honeyscope: error: nope.log: No such file"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    let out = honeyscope(
        &["cat", real_log().to_str().unwrap(), "--tz", "Mars/Olympus"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown time zone \"Mars/Olympus\": use an IANA name"));

    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let out = honeyscope(&["cat", "empty"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is not a honeyscope store"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn help_explains_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let out = honeyscope(&["--help"], dir.path());
    assert!(out.status.success());
    let help = text(&out.stdout);
    for word in ["ingest", "cat", "Honeyd", "honeyscope ingest"] {
        assert!(help.contains(word), "{word} missing from:\n{help}");
    }
}
