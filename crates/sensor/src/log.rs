//! Where events are written: Honeyd's packet log and JSON lines, each optional.

use std::io::{self, Write};
use std::sync::Arc;

use honeyscope_event::{honeyd, jsonl, Event, LocalZone};

/// The sensor's event log.
///
/// Lines are formatted straight into one buffer per output, which goes to its writer whole
/// once it holds [`CHUNK`] bytes: one copy per line instead of two. The writers should not
/// buffer again. When a write fails, the lines it held are counted as lost
/// ([`EventLog::lost`]), never silently dropped.
pub struct EventLog {
    honeyd: Option<(Output, Arc<LocalZone>)>,
    json: Option<Output>,
    lost: u64,
}

/// One output and the lines waiting for it.
struct Output {
    w: Box<dyn Write + Send>,
    buf: String,
    lines: u64,
}

impl Output {
    fn new(w: Box<dyn Write + Send>) -> Output {
        Output {
            w,
            buf: String::with_capacity(CHUNK + 1024),
            lines: 0,
        }
    }

    /// Writes the buffer out; on failure its lines are added to `lost`.
    fn drain(&mut self, lost: &mut u64) -> io::Result<()> {
        let r = self.w.write_all(self.buf.as_bytes());
        if r.is_err() {
            *lost += self.lines;
        }
        self.buf.clear();
        self.lines = 0;
        r
    }
}

/// Bytes an output's buffer collects before they are written.
pub const CHUNK: usize = 1 << 16;

impl EventLog {
    /// A log writing Honeyd lines (times local in their zone) and/or JSON lines.
    pub fn new(
        honeyd: Option<(Box<dyn Write + Send>, Arc<LocalZone>)>,
        json: Option<Box<dyn Write + Send>>,
    ) -> EventLog {
        EventLog {
            honeyd: honeyd.map(|(w, tz)| (Output::new(w), tz)),
            json: json.map(Output::new),
            lost: 0,
        }
    }

    /// Writes one event to every output.
    pub fn write(&mut self, ev: &Event) -> io::Result<()> {
        let mut r = Ok(());
        if let Some((o, tz)) = self.honeyd.as_mut() {
            honeyd::write_event(ev, tz, &mut o.buf);
            o.lines += 1;
            if o.buf.len() >= CHUNK {
                r = o.drain(&mut self.lost);
            }
        }
        if let Some(o) = self.json.as_mut() {
            jsonl::write_event(ev, &mut o.buf);
            o.lines += 1;
            if o.buf.len() >= CHUNK {
                r = r.and(o.drain(&mut self.lost));
            }
        }
        r
    }

    /// Writes out what is buffered and flushes every output.
    pub fn flush(&mut self) -> io::Result<()> {
        let mut r = Ok(());
        if let Some((o, _)) = self.honeyd.as_mut() {
            r = o.drain(&mut self.lost).and_then(|()| o.w.flush());
        }
        if let Some(o) = self.json.as_mut() {
            r = r.and(o.drain(&mut self.lost).and_then(|()| o.w.flush()));
        }
        r
    }

    /// Lines lost to failed writes so far (an event has a line in each output).
    pub fn lost(&self) -> u64 {
        self.lost
    }
}

/// Where an event log's outputs go, and when they change: the live sensor writes one pair
/// of files per local day and reopens them on SIGHUP.
pub trait EventSink: Send {
    /// Writes one event.
    fn write(&mut self, ev: &Event) -> io::Result<()>;
    /// Flushes what is buffered.
    fn flush(&mut self) -> io::Result<()>;
    /// Closes and reopens the files (after an outside tool moved them).
    fn reopen(&mut self) -> io::Result<()> {
        self.flush()
    }
    /// Lines lost to failed writes so far.
    fn lost(&self) -> u64;
}

impl EventSink for EventLog {
    fn write(&mut self, ev: &Event) -> io::Result<()> {
        EventLog::write(self, ev)
    }

    fn flush(&mut self) -> io::Result<()> {
        EventLog::flush(self)
    }

    fn lost(&self) -> u64 {
        EventLog::lost(self)
    }
}

/// `honeyd-YYYY-MM-DD.log` and `events-YYYY-MM-DD.jsonl` in a directory, one pair per day
/// in the log's time zone (the day of each event's time), opened for appending.
pub struct DailyLog {
    dir: std::path::PathBuf,
    tz: Arc<LocalZone>,
    day: Option<i64>,
    log: Option<EventLog>,
    /// Lines lost by the logs of earlier days and opens.
    lost_before: u64,
}

impl DailyLog {
    /// Daily files in `dir`, days and Honeyd times in `tz`.
    pub fn new(dir: impl Into<std::path::PathBuf>, tz: Arc<LocalZone>) -> DailyLog {
        DailyLog {
            dir: dir.into(),
            tz,
            day: None,
            log: None,
            lost_before: 0,
        }
    }

    /// The two file names for local day `day` (days since 1970-01-01).
    pub fn names(day: i64) -> (String, String) {
        let d = honeyscope_event::time::Ymd::from_epoch_day(day);
        let date = format!("{:04}-{:02}-{:02}", d.year, d.month, d.day);
        (format!("honeyd-{date}.log"), format!("events-{date}.jsonl"))
    }

    fn open(&mut self, day: i64) -> io::Result<()> {
        if let Some(mut log) = self.log.take() {
            let r = log.flush();
            self.lost_before += log.lost();
            r?;
        }
        let (h, j) = Self::names(day);
        let open = |name: &str| -> io::Result<Box<dyn Write + Send>> {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.dir.join(name))?;
            // EventLog buffers; a second buffer would only copy.
            Ok(Box::new(f))
        };
        self.log = Some(EventLog::new(
            Some((open(&h)?, self.tz.clone())),
            Some(open(&j)?),
        ));
        self.day = Some(day);
        Ok(())
    }
}

impl EventSink for DailyLog {
    fn write(&mut self, ev: &Event) -> io::Result<()> {
        let t = ev.time();
        let local = t.as_micros() + i64::from(self.tz.offset_at(t)) * 1_000_000;
        let day = local.div_euclid(86_400_000_000);
        if self.day != Some(day) || self.log.is_none() {
            self.open(day)?;
        }
        match self.log.as_mut() {
            Some(log) => log.write(ev),
            None => Ok(()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.log.as_mut() {
            Some(log) => log.flush(),
            None => Ok(()),
        }
    }

    fn lost(&self) -> u64 {
        self.lost_before + self.log.as_ref().map_or(0, EventLog::lost)
    }

    fn reopen(&mut self) -> io::Result<()> {
        match self.day {
            Some(day) => self.open(day),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use honeyscope_event::{PacketEvent, PacketKind, Timestamp};

    fn ev(us: i64) -> Event {
        Event::Packet(PacketEvent::new(
            Timestamp::from_micros(us).unwrap(),
            PacketKind::Probe,
            6,
            "203.0.113.9".parse().unwrap(),
            "198.51.100.7".parse().unwrap(),
        ))
    }

    #[test]
    fn a_file_pair_per_local_day_reopened_on_request() {
        let dir = tempfile::tempdir().unwrap();
        let tz = LocalZone::named("+09:00").unwrap();
        let mut log = DailyLog::new(dir.path(), Arc::new(tz));
        // 2016-04-01 14:59:59 UTC is 23:59:59 in +09:00; a second later it is the 2nd.
        let t = 1_459_522_799_000_000;
        log.write(&ev(t)).unwrap();
        log.write(&ev(t + 1_000_000)).unwrap();
        log.flush().unwrap();
        let read = |n: &str| std::fs::read_to_string(dir.path().join(n)).unwrap();
        assert_eq!(read("honeyd-2016-04-01.log").lines().count(), 1);
        assert!(read("honeyd-2016-04-02.log").starts_with("2016-04-02-00:00:00.0000 tcp(6) -"));
        assert_eq!(read("events-2016-04-02.jsonl").lines().count(), 1);
        // An outside tool moves the file away; after reopen the day's file is new.
        std::fs::rename(
            dir.path().join("honeyd-2016-04-02.log"),
            dir.path().join("old"),
        )
        .unwrap();
        log.reopen().unwrap();
        log.write(&ev(t + 2_000_000)).unwrap();
        log.flush().unwrap();
        assert_eq!(read("honeyd-2016-04-02.log").lines().count(), 1);
        assert_eq!(read("old").lines().count(), 1);
    }

    #[test]
    fn lines_a_failed_write_held_are_counted_lost() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let tz = Arc::new(LocalZone::named("UTC").unwrap());
        let mut log = EventLog::new(Some((Box::new(Broken), tz)), Some(Box::new(io::sink())));
        for i in 0..3 {
            // Buffered: nothing is written, nothing fails yet.
            assert!(log.write(&ev(i)).is_ok());
        }
        assert_eq!(log.lost(), 0);
        assert!(log.flush().is_err());
        assert_eq!(
            log.lost(),
            3,
            "the three Honeyd lines; the JSON lines were written"
        );
        // Enough lines to fill a chunk fail at once, and are counted.
        let mut failed_at = None;
        for i in 0..10_000 {
            if log.write(&ev(i)).is_err() {
                failed_at = Some(i);
                break;
            }
        }
        let n = failed_at.expect("a chunk was written") + 1;
        assert_eq!(log.lost(), 3 + n as u64);
    }
}
