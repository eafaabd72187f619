//! Where events are written: Honeyd's packet log and JSON lines, each optional.

use std::io::{self, Write};
use std::sync::Arc;

use honeyscope_event::{honeyd, jsonl, Event, LocalZone};

/// The sensor's event log.
pub struct EventLog {
    honeyd: Option<(Box<dyn Write + Send>, Arc<LocalZone>)>,
    json: Option<Box<dyn Write + Send>>,
    line: String,
}

impl EventLog {
    /// A log writing Honeyd lines (times local in their zone) and/or JSON lines.
    pub fn new(
        honeyd: Option<(Box<dyn Write + Send>, Arc<LocalZone>)>,
        json: Option<Box<dyn Write + Send>>,
    ) -> EventLog {
        EventLog {
            honeyd,
            json,
            line: String::with_capacity(256),
        }
    }

    /// Writes one event to every output.
    pub fn write(&mut self, ev: &Event) -> io::Result<()> {
        if let Some((w, tz)) = self.honeyd.as_mut() {
            self.line.clear();
            honeyd::write_event(ev, tz, &mut self.line);
            w.write_all(self.line.as_bytes())?;
        }
        if let Some(w) = self.json.as_mut() {
            self.line.clear();
            jsonl::write_event(ev, &mut self.line);
            w.write_all(self.line.as_bytes())?;
        }
        Ok(())
    }

    /// Flushes every output.
    pub fn flush(&mut self) -> io::Result<()> {
        if let Some((w, _)) = self.honeyd.as_mut() {
            w.flush()?;
        }
        if let Some(w) = self.json.as_mut() {
            w.flush()?;
        }
        Ok(())
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
}

impl EventSink for EventLog {
    fn write(&mut self, ev: &Event) -> io::Result<()> {
        EventLog::write(self, ev)
    }

    fn flush(&mut self) -> io::Result<()> {
        EventLog::flush(self)
    }
}

/// `honeyd-YYYY-MM-DD.log` and `events-YYYY-MM-DD.jsonl` in a directory, one pair per day
/// in the log's time zone (the day of each event's time), opened for appending.
pub struct DailyLog {
    dir: std::path::PathBuf,
    tz: Arc<LocalZone>,
    day: Option<i64>,
    log: Option<EventLog>,
}

impl DailyLog {
    /// Daily files in `dir`, days and Honeyd times in `tz`.
    pub fn new(dir: impl Into<std::path::PathBuf>, tz: Arc<LocalZone>) -> DailyLog {
        DailyLog {
            dir: dir.into(),
            tz,
            day: None,
            log: None,
        }
    }

    /// The two file names for local day `day` (days since 1970-01-01).
    pub fn names(day: i64) -> (String, String) {
        let d = honeyscope_event::time::Ymd::from_epoch_day(day);
        let date = format!("{:04}-{:02}-{:02}", d.year, d.month, d.day);
        (format!("honeyd-{date}.log"), format!("events-{date}.jsonl"))
    }

    fn open(&mut self, day: i64) -> io::Result<()> {
        if let Some(log) = self.log.as_mut() {
            log.flush()?;
        }
        let (h, j) = Self::names(day);
        let open = |name: &str| -> io::Result<Box<dyn Write + Send>> {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.dir.join(name))?;
            Ok(Box::new(io::BufWriter::with_capacity(1 << 16, f)))
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
}
