//! Session transcripts as asciicast v2 (<https://docs.asciinema.org/manual/asciicast/v2/>):
//! a JSON header line, then one JSON array per event, `[seconds, "o", "data"]`.
//!
//! [`Recorder`] writes one in memory while a session runs, under a byte cap so a chatty
//! bot cannot grow it without end; [`parse`] reads one back and [`play`] replays its
//! output, which is what `honeyscope replay` does.
//!
//! Event data is a JSON string, so it must be text, while a session's bytes need not be.
//! The recorder decodes them as UTF-8 and writes each invalid sequence as U+FFFD, the
//! replacement character, exactly as [`String::from_utf8_lossy`] does; asciinema's players
//! take that as they take any text. A multi-byte character split between two writes is
//! not invalid: its first bytes wait for the rest, so the split costs nothing. What a bot
//! sends that is not UTF-8 at all (a binary dropped through `echo -e`) thus shows where
//! and how long it was, but not its bytes: the capture keeps those, not the transcript.

use std::io::{self, Write};
use std::time::Duration;

use serde_json::Value;

/// The largest cast [`parse`] reads, in bytes.
pub const MAX_CAST: usize = 64 << 20;

/// The longest title kept in a header, in characters.
const MAX_TITLE: usize = 256;

/// Records a session as asciicast v2, in memory.
///
/// Times are microseconds on any clock (the session's, usually Unix time); the recorder
/// writes them as seconds since `start_us`. A time before the start, or before the last
/// event's, is written as the last event's, so times never run backwards.
///
/// Once the next event would take the cast past `max_bytes`, it and all events after it
/// are dropped, and a marker event (`"m"`, "truncated: …") is written in their place, once.
/// So [`Recorder::len`] stays under `max_bytes` plus that marker's line.
#[derive(Debug, Clone)]
pub struct Recorder {
    start_us: i64,
    /// The last event's time, in microseconds since the start.
    last_us: i64,
    buf: Vec<u8>,
    /// The header line's length.
    header_len: usize,
    max_bytes: usize,
    truncated: bool,
    /// The start of a character the last output ended in the middle of.
    carry_out: Vec<u8>,
    /// The same for input.
    carry_in: Vec<u8>,
}

impl Recorder {
    /// A cast of a `width` × `height` terminal starting at `start_us` (Unix time, in
    /// microseconds), titled `title` (cut to 256 characters), of at most about `max_bytes`.
    pub fn new(start_us: i64, width: u16, height: u16, title: &str, max_bytes: usize) -> Recorder {
        let title: String = title.chars().take(MAX_TITLE).collect();
        let header = format!(
            "{{\"version\": 2, \"width\": {width}, \"height\": {height}, \"timestamp\": {}, \
             \"title\": {}, \"env\": {{\"TERM\": \"vt100\"}}}}\n",
            start_us.div_euclid(1_000_000),
            json_string(&title),
        );
        Recorder {
            start_us,
            last_us: 0,
            header_len: header.len(),
            buf: header.into_bytes(),
            max_bytes,
            truncated: false,
            carry_out: Vec::new(),
            carry_in: Vec::new(),
        }
    }

    /// What the session sent the client at `at_us`: an `"o"` event.
    pub fn output(&mut self, at_us: i64, bytes: &[u8]) {
        if self.skip(bytes) {
            return;
        }
        let text = decode(&mut self.carry_out, bytes);
        if !text.is_empty() {
            self.event(at_us, "o", &text);
        }
    }

    /// What the client sent at `at_us`: an `"i"` event.
    pub fn input(&mut self, at_us: i64, bytes: &[u8]) {
        if self.skip(bytes) {
            return;
        }
        let text = decode(&mut self.carry_in, bytes);
        if !text.is_empty() {
            self.event(at_us, "i", &text);
        }
    }

    /// The client's terminal became `width` × `height` at `at_us`: an `"r"` event.
    pub fn resize(&mut self, at_us: i64, width: u16, height: u16) {
        self.event(at_us, "r", &format!("{width}x{height}"));
    }

    /// The cast's size so far, in bytes.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether it has no events yet (only its header).
    pub fn is_empty(&self) -> bool {
        self.buf.len() == self.header_len
    }

    /// Whether events were dropped for the cap.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// The cast, as asciicast v2 text. A character left unfinished at the end is written
    /// as U+FFFD.
    pub fn finish(mut self) -> Vec<u8> {
        let at = self.start_us.saturating_add(self.last_us);
        for (code, carry) in [("o", self.carry_out.clone()), ("i", self.carry_in.clone())] {
            if !carry.is_empty() {
                self.event(at, code, &String::from_utf8_lossy(&carry));
            }
        }
        self.buf
    }

    /// Whether `bytes` go past the cap even before they are written out (their line can
    /// only be longer), in which case the cast is truncated here. This keeps a huge write
    /// from being decoded just to be dropped.
    fn skip(&mut self, bytes: &[u8]) -> bool {
        if self.truncated {
            return true;
        }
        if self.buf.len().saturating_add(bytes.len()) > self.max_bytes {
            self.truncate(self.last_us);
            return true;
        }
        false
    }

    fn event(&mut self, at_us: i64, code: &str, data: &str) {
        let rel = at_us.saturating_sub(self.start_us).max(self.last_us);
        if self.truncated {
            return;
        }
        self.last_us = rel;
        let line = event_line(rel, code, data);
        if self.buf.len().saturating_add(line.len()) > self.max_bytes {
            self.truncate(rel);
            return;
        }
        self.buf.extend_from_slice(line.as_bytes());
    }

    fn truncate(&mut self, rel: i64) {
        self.truncated = true;
        let note = format!(
            "truncated: the recording reached its cap of {} bytes",
            self.max_bytes
        );
        self.buf
            .extend_from_slice(event_line(rel, "m", &note).as_bytes());
    }
}

/// `[secs, "code", "data"]` and a newline, with the time exact to the microsecond.
fn event_line(rel_us: i64, code: &str, data: &str) -> String {
    format!(
        "[{}.{:06}, {}, {}]\n",
        rel_us / 1_000_000,
        rel_us % 1_000_000,
        json_string(code),
        json_string(data)
    )
}

fn json_string(s: &str) -> String {
    // Serializing a str cannot fail; the fallback is never used.
    serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""))
}

/// `carry` and `bytes` as text, invalid sequences as U+FFFD; an unfinished character at
/// the end goes back into `carry` for the next call.
fn decode(carry: &mut Vec<u8>, bytes: &[u8]) -> String {
    let joined: Vec<u8>;
    let mut rest: &[u8] = if carry.is_empty() {
        bytes
    } else {
        joined = [std::mem::take(carry).as_slice(), bytes].concat();
        &joined
    };
    let mut out = String::with_capacity(rest.len());
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).unwrap_or_default());
                match e.error_len() {
                    Some(n) => {
                        out.push(char::REPLACEMENT_CHARACTER);
                        rest = &bad[n..];
                    }
                    None => {
                        carry.extend_from_slice(bad);
                        return out;
                    }
                }
            }
        }
    }
}

/// An asciicast v2 header: the fields playing needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The format version, always 2.
    pub version: u8,
    /// The terminal's columns.
    pub width: u16,
    /// The terminal's rows.
    pub height: u16,
    /// When the recording started, in Unix seconds.
    pub timestamp: Option<i64>,
    /// The title.
    pub title: Option<String>,
}

/// A parsed cast.
#[derive(Debug, Clone, PartialEq)]
pub struct Cast {
    /// Its header line.
    pub header: Header,
    /// Its events: seconds since the start, the type (`o` output, `i` input, `r` resize,
    /// `m` marker), and the data.
    pub events: Vec<(f64, char, String)>,
}

/// Reads an asciicast v2 cast. Every line must be the header (the first) or an event;
/// any other line is an error naming its number (from 1). Blank lines hold nothing and
/// are passed over. Header fields other than those in [`Header`] are allowed and not
/// kept.
pub fn parse(text: &[u8]) -> Result<Cast, String> {
    if text.len() > MAX_CAST {
        return Err(format!(
            "cast of {} bytes, over the cap of {MAX_CAST}",
            text.len()
        ));
    }
    let mut lines = text.split(|&b| b == b'\n').map(<[u8]>::trim_ascii);
    let header =
        parse_header(lines.next().unwrap_or_default()).map_err(|e| format!("line 1: {e}"))?;
    let mut events = Vec::new();
    for (i, line) in lines.enumerate() {
        if line.is_empty() {
            continue;
        }
        events.push(parse_event(line).map_err(|e| format!("line {}: {e}", i + 2))?);
    }
    Ok(Cast { header, events })
}

fn parse_header(line: &[u8]) -> Result<Header, String> {
    let v: Value = serde_json::from_slice(line).map_err(|e| format!("header: {e}"))?;
    let obj = v.as_object().ok_or("the header is not a JSON object")?;
    match obj.get("version").and_then(Value::as_u64) {
        Some(2) => {}
        Some(n) => return Err(format!("version {n}, only 2 is read")),
        None => return Err("no version".into()),
    }
    let size = |name: &str| {
        obj.get(name)
            .and_then(Value::as_u64)
            .and_then(|n| u16::try_from(n).ok())
            .ok_or(format!("{name} missing or not 0 to 65535"))
    };
    let timestamp = match obj.get("timestamp") {
        None | Some(Value::Null) => None,
        Some(t) => match (t.as_i64(), t.as_f64()) {
            (Some(n), _) => Some(n),
            // A float of any size: the saturating cast keeps it in range.
            (None, Some(f)) if f.is_finite() => Some(f as i64),
            _ => return Err("timestamp is not a number".into()),
        },
    };
    let title = match obj.get("title") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("title is not a string".into()),
    };
    Ok(Header {
        version: 2,
        width: size("width")?,
        height: size("height")?,
        timestamp,
        title,
    })
}

fn parse_event(line: &[u8]) -> Result<(f64, char, String), String> {
    let v: Value = serde_json::from_slice(line).map_err(|e| format!("event: {e}"))?;
    let Some([time, code, data]) = v.as_array().map(Vec::as_slice) else {
        return Err("an event is an array of three".into());
    };
    let time = time
        .as_f64()
        .filter(|t| t.is_finite() && *t >= 0.0)
        .ok_or("event time is not a number of seconds")?;
    let code = match code.as_str() {
        Some(c @ ("o" | "i" | "r" | "m")) => c.chars().next().unwrap_or('o'),
        Some(c) => return Err(format!("unknown event type {c:?}")),
        None => return Err("event type is not a string".into()),
    };
    let data = data
        .as_str()
        .ok_or("event data is not a string")?
        .to_string();
    Ok((time, code, data))
}

/// Writes `cast`'s output events to `out`, each after the pause before it: the time since
/// the previous output event (or the start), divided by `speed` and capped at `max_idle`.
/// Pauses go through `sleep`, so a caller decides what waiting means. Input, resize and
/// marker events are not written. `speed` must be a positive number.
pub fn play(
    cast: &Cast,
    out: &mut dyn Write,
    speed: f64,
    max_idle: Duration,
    sleep: &mut dyn FnMut(Duration),
) -> io::Result<()> {
    if !(speed.is_finite() && speed > 0.0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("speed {speed} is not a positive number"),
        ));
    }
    let cap = max_idle.as_secs_f64();
    let mut prev = 0.0f64;
    for (time, code, data) in &cast.events {
        if *code != 'o' {
            continue;
        }
        let gap = (time - prev) / speed;
        // NaN and negative gaps are no pause; an infinite one is the cap.
        let secs = if gap > 0.0 { gap.min(cap) } else { 0.0 };
        let pause = Duration::try_from_secs_f64(secs).unwrap_or(max_idle);
        if !pause.is_zero() {
            sleep(pause);
        }
        out.write_all(data.as_bytes())?;
        out.flush()?;
        prev = prev.max(*time);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: i64 = 1_700_000_000_123_456;

    fn text(cast: &[u8]) -> &str {
        std::str::from_utf8(cast).unwrap()
    }

    #[test]
    fn records_and_parses_back() {
        let mut r = Recorder::new(START, 80, 24, "telnet 198.51.100.7 \"bot\"", 1 << 20);
        assert!(r.is_empty());
        r.output(START + 100_000, b"login: ");
        r.input(START + 1_500_000, b"root\r\n");
        r.resize(START + 2_000_000, 100, 30);
        r.output(START + 2_500_001, "\x1b[1m# é\u{1F600}".as_bytes());
        assert!(!r.is_empty() && !r.truncated());
        let len = r.len();
        let cast = r.finish();
        assert_eq!(cast.len(), len);
        let lines: Vec<&str> = text(&cast).lines().collect();
        assert_eq!(
            lines[0],
            "{\"version\": 2, \"width\": 80, \"height\": 24, \"timestamp\": 1700000000, \
             \"title\": \"telnet 198.51.100.7 \\\"bot\\\"\", \"env\": {\"TERM\": \"vt100\"}}"
        );
        assert_eq!(lines[1], "[0.100000, \"o\", \"login: \"]");
        assert_eq!(lines[2], "[1.500000, \"i\", \"root\\r\\n\"]");
        assert_eq!(lines[3], "[2.000000, \"r\", \"100x30\"]");

        let parsed = parse(&cast).unwrap();
        assert_eq!(
            parsed.header,
            Header {
                version: 2,
                width: 80,
                height: 24,
                timestamp: Some(1_700_000_000),
                title: Some("telnet 198.51.100.7 \"bot\"".into()),
            }
        );
        assert_eq!(
            parsed.events,
            [
                (0.1, 'o', "login: ".to_string()),
                (1.5, 'i', "root\r\n".to_string()),
                (2.0, 'r', "100x30".to_string()),
                (2.500001, 'o', "\x1b[1m# é\u{1F600}".to_string()),
            ]
        );
    }

    #[test]
    fn times_never_run_backwards() {
        let mut r = Recorder::new(START, 80, 24, "", 1 << 20);
        r.output(START - 5_000_000, b"a");
        r.output(START + 3_000_000, b"b");
        r.output(START + 1_000_000, b"c");
        r.output(i64::MAX, b"d");
        let times: Vec<f64> = parse(&r.finish())
            .unwrap()
            .events
            .iter()
            .map(|e| e.0)
            .collect();
        assert_eq!(times[..3], [0.0, 3.0, 3.0]);
        assert!(times[3] > 3.0);
    }

    #[test]
    fn invalid_utf8_becomes_replacement_characters() {
        let mut r = Recorder::new(START, 80, 24, "t", 1 << 20);
        r.output(START, b"a\xffb\xc3(");
        // é split across two writes, then a character cut short by the end.
        r.output(START + 1, b"x\xc3");
        r.output(START + 2, b"\xa9y");
        r.input(START + 3, b"\xe2\x82");
        r.output(START + 4, b"\xf0\x9f");
        r.output(START + 5, b"\x98");
        let events = parse(&r.finish()).unwrap().events;
        let data: Vec<(char, &str)> = events.iter().map(|e| (e.1, e.2.as_str())).collect();
        assert_eq!(
            data,
            [
                ('o', "a\u{FFFD}b\u{FFFD}("),
                ('o', "x"),
                ('o', "éy"),
                ('o', "\u{FFFD}"),
                ('i', "\u{FFFD}"),
            ]
        );
    }

    #[test]
    fn the_cap_drops_later_events_and_marks_it_once() {
        let header = Recorder::new(START, 80, 24, "t", 0).len();
        let line = event_line(0, "o", "0123456789").len();
        let mut r = Recorder::new(START, 80, 24, "t", header + 3 * line);
        for i in 0..3 {
            r.output(START + i, b"0123456789");
        }
        assert!(!r.truncated());
        assert_eq!(r.len(), header + 3 * line);
        r.output(START + 10, b"x");
        assert!(r.truncated());
        let len = r.len();
        r.output(START + 11, b"y");
        r.input(START + 12, b"z");
        r.resize(START + 13, 1, 1);
        r.output(START + 14, &[b'w'; 1 << 20]);
        assert_eq!(r.len(), len);
        let events = parse(&r.finish()).unwrap().events;
        assert_eq!(events.len(), 4);
        assert_eq!(events[3].1, 'm');
        assert!(events[3].2.starts_with("truncated"));

        // One huge write is refused whole, without building its line.
        let mut r = Recorder::new(START, 80, 24, "t", 1000);
        r.output(START, &[b'a'; 5000]);
        assert!(r.truncated());
        assert!(r.len() < 1000);
    }

    #[test]
    fn long_titles_are_cut() {
        let title = "é".repeat(1000);
        let cast = Recorder::new(START, 80, 24, &title, 1 << 20).finish();
        let title = parse(&cast).unwrap().header.title.unwrap();
        assert_eq!(title.chars().count(), MAX_TITLE);
    }

    #[test]
    fn parse_names_the_bad_line() {
        let good = "{\"version\": 2, \"width\": 80, \"height\": 24}\n";
        let cases: &[(&[u8], &str)] = &[
            (b"", "line 1: header"),
            (
                b"[1, \"o\", \"x\"]\n",
                "line 1: the header is not a JSON object",
            ),
            (
                b"{\"version\": 1, \"width\": 80, \"height\": 24}\n",
                "line 1: version 1",
            ),
            (
                b"{\"version\": 2, \"width\": 80}\n",
                "line 1: height missing",
            ),
            (
                b"{\"version\": 2, \"width\": 70000, \"height\": 1}\n",
                "line 1: width",
            ),
            (
                b"{\"version\": 2, \"width\": 1, \"height\": 1, \"title\": 5}",
                "line 1: title",
            ),
        ];
        for (cast, want) in cases {
            let err = parse(cast).unwrap_err();
            assert!(err.starts_with(want), "{err:?} is not {want:?}");
        }
        let events: &[(&str, &str)] = &[
            ("[1.0, \"o\"]", "an event is an array"),
            ("{}", "an event is an array"),
            ("[-1, \"o\", \"x\"]", "event time"),
            ("[\"1\", \"o\", \"x\"]", "event time"),
            ("[1, \"x\", \"x\"]", "unknown event type \"x\""),
            ("[1, \"oo\", \"x\"]", "unknown event type"),
            ("[1, 111, \"x\"]", "event type is not a string"),
            ("[1, \"o\", 5]", "event data is not a string"),
            ("[1, \"o\", \"x\"", "event:"),
            ("[1, \"o\", \"\\ud800\"]", "event:"),
        ];
        for (line, want) in events {
            let cast = format!("{good}[0.5, \"o\", \"ok\"]\n\n{line}\n[2, \"o\", \"later\"]\n");
            let err = parse(cast.as_bytes()).unwrap_err();
            assert!(
                err.starts_with(&format!("line 4: {want}")),
                "{err:?} for {line}"
            );
        }
        let mut bad_utf8 = format!("{good}[0.5, \"o\", \"").into_bytes();
        bad_utf8.extend_from_slice(b"\xff\"]\n");
        assert!(parse(&bad_utf8).unwrap_err().starts_with("line 2:"));
        let deep = format!("{good}{}", "[".repeat(100_000));
        assert!(parse(deep.as_bytes()).unwrap_err().starts_with("line 2:"));
    }

    #[test]
    fn parse_takes_what_asciinema_writes() {
        let cast = "{\"version\": 2, \"width\": 80, \"height\": 24, \"timestamp\": 1504467315.5, \
                    \"idle_time_limit\": 2.0, \"env\": {\"SHELL\": \"/bin/zsh\", \"TERM\": \
                    \"xterm-256color\"}, \"theme\": {\"fg\": \"#d0d0d0\"}}\r\n\
                    [0.248848, \"o\", \"\\u001b[1;31mHello \\u001b[32mWorld!\\u001b[0m\\n\"]\r\n\
                    [1.001376, \"o\", \"That was ok\\rThis is better.\"]\r\n\
                    [1.5, \"m\", \"\"]\r\n";
        let parsed = parse(cast.as_bytes()).unwrap();
        assert_eq!(parsed.header.timestamp, Some(1_504_467_315));
        assert_eq!(parsed.header.title, None);
        assert_eq!(parsed.events.len(), 3);
        assert_eq!(
            parsed.events[0].2,
            "\x1b[1;31mHello \x1b[32mWorld!\x1b[0m\n"
        );
    }

    #[test]
    fn play_writes_output_with_capped_scaled_pauses() {
        let cast = Cast {
            header: Header {
                version: 2,
                width: 80,
                height: 24,
                timestamp: None,
                title: None,
            },
            events: vec![
                (0.5, 'o', "a".into()),
                (1.0, 'i', "typed".into()),
                (3.0, 'o', "b".into()),
                (3.1, 'r', "10x10".into()),
                (3.2, 'o', "c".into()),
                (3.2, 'o', "d".into()),
                (10.0, 'm', "mark".into()),
                (20.0, 'o', "é\r\n".into()),
            ],
        };
        let mut out = Vec::new();
        let mut pauses = Vec::new();
        play(&cast, &mut out, 2.0, Duration::from_secs(1), &mut |d| {
            pauses.push(d)
        })
        .unwrap();
        assert_eq!(out, "abcdé\r\n".as_bytes());
        assert_eq!(
            pauses,
            [
                Duration::from_millis(250),
                Duration::from_secs(1),
                Duration::from_secs_f64((3.2 - 3.0) / 2.0),
                Duration::from_secs(1),
            ]
        );
        for speed in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let err = play(&cast, &mut Vec::new(), speed, Duration::MAX, &mut |_| {}).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        }
        // No cap to speak of, tiny speed: pauses stay finite.
        let mut pauses = Vec::new();
        play(&cast, &mut Vec::new(), 1e-300, Duration::MAX, &mut |d| {
            pauses.push(d)
        })
        .unwrap();
        assert_eq!(pauses.len(), 4);
    }
}
