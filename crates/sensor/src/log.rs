//! Where events are written: Honeyd's packet log and JSON lines, each optional.

use std::io::{self, Write};

use honeyscope_event::{honeyd, jsonl, Event, LocalZone};

/// The sensor's event log.
pub struct EventLog {
    honeyd: Option<(Box<dyn Write + Send>, LocalZone)>,
    json: Option<Box<dyn Write + Send>>,
    line: String,
}

impl EventLog {
    /// A log writing Honeyd lines (times local in their zone) and/or JSON lines.
    pub fn new(
        honeyd: Option<(Box<dyn Write + Send>, LocalZone)>,
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
