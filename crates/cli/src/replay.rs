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
/// Unless `raw`, the terminal's control strings (OSC, DCS, APC, PM, SOS, and the C1
/// controls) are left out: the transcript holds what an attacker typed and wrote, and those
/// strings can set the clipboard or the title, or make the terminal answer.
pub fn run(
    session: &str,
    dir: &Path,
    speed: f64,
    max_idle: f64,
    instant: bool,
    raw: bool,
) -> Result<()> {
    if !(speed.is_finite() && speed > 0.0) {
        bail!("--speed must be a positive number (2 plays twice as fast)");
    }
    let path = locate(session, dir)?;
    let text = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let cast = asciicast::parse(&text)
        .map_err(|e| anyhow::anyhow!("{}: not an asciicast v2 transcript: {e}", path.display()))?;
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    let mut filtered = Defanged::new(&mut lock);
    let out: &mut dyn Write = if raw { &mut lock } else { &mut filtered };
    let max_idle = Duration::from_secs_f64(max_idle.clamp(0.0, 3600.0));
    let mut sleep = |d: Duration| {
        if !instant {
            std::thread::sleep(d)
        }
    };
    asciicast::play(&cast, out, speed, max_idle, &mut sleep)?;
    out.flush()?;
    Ok(())
}

/// A writer that drops a terminal's control strings and C1 controls from UTF-8 text,
/// keeping text, C0 controls and CSI sequences (colours, cursor moves).
struct Defanged<W: Write> {
    inner: W,
    /// Inside a control string (after ESC ] / P / _ / ^ / X), until ST or BEL.
    in_string: bool,
    /// The last byte was ESC.
    escape: bool,
    /// The last byte was 0xC2 (a C1 control may follow).
    c2: bool,
}

impl<W: Write> Defanged<W> {
    fn new(inner: W) -> Self {
        Defanged {
            inner,
            in_string: false,
            escape: false,
            c2: false,
        }
    }
}

impl<W: Write> Write for Defanged<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut kept = Vec::with_capacity(buf.len());
        for &b in buf {
            if std::mem::take(&mut self.c2) {
                if (0x80..=0x9f).contains(&b) {
                    continue;
                }
                if !self.in_string {
                    kept.push(0xc2);
                }
            }
            if b == 0xc2 {
                self.c2 = true;
                continue;
            }
            if std::mem::take(&mut self.escape) {
                if self.in_string {
                    // ESC \ ends the string; any other ESC inside it is dropped with it.
                    self.in_string = b != b'\\';
                    continue;
                }
                if matches!(b, b']' | b'P' | b'_' | b'^' | b'X') {
                    self.in_string = true;
                    continue;
                }
                kept.extend_from_slice(&[0x1b, b]);
                continue;
            }
            match b {
                0x1b => self.escape = true,
                0x07 if self.in_string => self.in_string = false,
                _ if self.in_string => {}
                _ => kept.push(b),
            }
        }
        self.inner.write_all(&kept)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defang(parts: &[&[u8]]) -> Vec<u8> {
        let mut d = Defanged::new(Vec::new());
        for p in parts {
            d.write_all(p).unwrap();
        }
        d.inner
    }

    #[test]
    fn control_strings_go_and_the_rest_stays() {
        // The clipboard (OSC 52) and a title, ended by BEL and by ST, split anywhere.
        let evil: &[u8] = b"a\x1b]52;c;ZXZpbA==\x07b\x1b]0;title\x1b\\c\x1bP1$r\x1b\\d";
        assert_eq!(defang(&[evil]), b"abcd");
        for cut in 0..evil.len() {
            assert_eq!(defang(&[&evil[..cut], &evil[cut..]]), b"abcd", "cut {cut}");
        }
        // Colours and cursor moves, UTF-8 text, and C1 controls (U+009B, a one-byte CSI).
        assert_eq!(
            defang(&["\x1b[31mrot\x1b[0m é \u{9b}6n".as_bytes()]),
            "\x1b[31mrot\x1b[0m é 6n".as_bytes()
        );
    }
}
