//! `honeyscope replay SESSION`: plays a Telnet session's asciicast transcript back in the
//! terminal, as the bot saw it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use honeyscope_services::asciicast;

/// Where `session` is: a `.cast` file, or a session id under `<dir>/sessions/`.
fn locate(session: &str, dir: &Path) -> Result<PathBuf> {
    let as_path = PathBuf::from(session);
    if as_path.is_file() {
        return Ok(as_path);
    }
    let valid_id = !session.is_empty() && session.chars().all(|c| c.is_ascii_hexdigit());
    let by_id = dir.join("sessions").join(format!("{session}.cast"));
    if valid_id && by_id.is_file() {
        return Ok(by_id);
    }
    bail!(
        "no transcript {session:?}: give a .cast file, or a session id (the `session` field of \
         the cowrie.* events) with --dir set to the sensor's data directory (looked in {})",
        dir.join("sessions").display()
    )
}

/// Plays `session` at `speed`, pauses capped at `max_idle` (no pauses with `instant`).
pub fn run(session: &str, dir: &Path, speed: f64, max_idle: f64, instant: bool) -> Result<()> {
    if !(speed.is_finite() && speed > 0.0) {
        bail!("--speed must be a positive number (2 plays twice as fast)");
    }
    let path = locate(session, dir)?;
    let text = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let cast = asciicast::parse(&text)
        .map_err(|e| anyhow::anyhow!("{}: not an asciicast v2 transcript: {e}", path.display()))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let max_idle = Duration::from_secs_f64(max_idle.clamp(0.0, 3600.0));
    let mut sleep = |d: Duration| {
        if !instant {
            std::thread::sleep(d)
        }
    };
    asciicast::play(&cast, &mut out, speed, max_idle, &mut sleep)?;
    out.flush()?;
    Ok(())
}
