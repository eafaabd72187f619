//! The shell on arbitrary lines (the input split at `\n`), on a device the first byte
//! picks, with small limits. Nothing may panic; each line's output stays within
//! `max_output`; the session's files stay within `fs_bytes`; what a line reports stays
//! within the event cap; commands stay within `max_commands`.
#![no_main]

use std::sync::{Arc, OnceLock};

use honeyscope_services::device::Profile;
use honeyscope_services::shell::{Device, Flow, Shell, ShellEvent, ShellLimits};
use libfuzzer_sys::fuzz_target;

fn devices() -> &'static [Arc<Device>] {
    static DEVICES: OnceLock<Vec<Arc<Device>>> = OnceLock::new();
    DEVICES.get_or_init(|| {
        Profile::builtin()
            .iter()
            .map(|p| Device::new(p.clone()))
            .collect()
    })
}

const LIMITS: ShellLimits = ShellLimits {
    max_commands: 500,
    max_output: 16 * 1024,
    max_loop: 50,
    max_depth: 4,
    fs_bytes: 64 * 1024,
    max_vars: 32,
};

fuzz_target!(|input: &[u8]| {
    let Some((&pick, body)) = input.split_first() else {
        return;
    };
    let devices = devices();
    let device = devices[usize::from(pick) % devices.len()].clone();
    let mut shell = Shell::new(device, LIMITS);
    for line in body.split(|&b| b == b'\n') {
        let (mut out, mut events) = (Vec::new(), Vec::new());
        let flow = shell.execute(line, &mut out, &mut events);
        assert!(
            out.len() <= LIMITS.max_output,
            "{} bytes of output",
            out.len()
        );
        assert!(events.len() <= 1024);
        let size: usize = events
            .iter()
            .map(|e| match e {
                ShellEvent::NotFound(w) => w.len(),
                ShellEvent::Download(r) => r.url.to_string().len(),
                ShellEvent::Ran { path, .. } => path.len(),
            })
            .sum();
        assert!(size <= 1 << 20, "events of {size} bytes");
        assert!(
            shell.fs.used() <= LIMITS.fs_bytes,
            "fs holds {}",
            shell.fs.used()
        );
        assert!(shell.commands() <= LIMITS.max_commands);
        assert!(shell.prompt().len() <= 4096);
        if flow == Flow::Exit {
            break;
        }
    }
});
