//! A progress bar on stderr for work that takes more than a second, only when stderr is a
//! terminal (never in pipes, logs or CI).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A running progress display.
pub struct Progress {
    /// Bytes done, updated by the worker.
    pub done: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
    label: Arc<Mutex<String>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts the display; it stays silent for the first second.
    pub fn start() -> Progress {
        let done = Arc::new(AtomicU64::new(0));
        let total = Arc::new(AtomicU64::new(0));
        let label = Arc::new(Mutex::new(String::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::io::stderr().is_terminal().then(|| {
            let (done, total, label, stop) =
                (done.clone(), total.clone(), label.clone(), stop.clone());
            std::thread::spawn(move || {
                let start = Instant::now();
                let mut drawn = false;
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(100));
                    if start.elapsed() < Duration::from_secs(1) {
                        continue;
                    }
                    let (d, t) = (done.load(Ordering::Relaxed), total.load(Ordering::Relaxed));
                    let frac = if t > 0 {
                        (d as f64 / t as f64).min(1.0)
                    } else {
                        0.0
                    };
                    let filled = (frac * 30.0) as usize;
                    let text = label.lock().map(|l| l.clone()).unwrap_or_default();
                    eprint!(
                        "\r[{}{}] {:3.0}% {:.0}/{:.0} MB {:.1}s {}\x1b[K",
                        "#".repeat(filled),
                        ".".repeat(30 - filled),
                        frac * 100.0,
                        d as f64 / 1e6,
                        t as f64 / 1e6,
                        start.elapsed().as_secs_f64(),
                        text
                    );
                    let _ = std::io::stderr().flush();
                    drawn = true;
                }
                if drawn {
                    eprint!("\r\x1b[K");
                }
            })
        });
        Progress {
            done,
            total,
            label,
            stop,
            thread,
        }
    }

    /// Names the current step and adds `bytes` to the total.
    pub fn step(&self, label: &str, bytes: u64) {
        self.total.fetch_add(bytes, Ordering::Relaxed);
        if let Ok(mut l) = self.label.lock() {
            *l = label.to_string();
        }
    }

    /// Clears the display.
    pub fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
