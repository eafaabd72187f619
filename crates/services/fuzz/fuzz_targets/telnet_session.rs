//! A whole Telnet session on arbitrary client bytes: the first byte picks the device
//! profile, the client logs in (every pair accepted), and the rest arrives as client
//! bytes, whole or split where the second byte says; then every queued line runs. Nothing
//! may panic; a split may not change what goes on the wire; each line's output stays
//! within what the limits allow, the session's files within `fs_bytes`, and what a line
//! records within the event cap.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, OnceLock};

use honeyscope_services::device::Profile;
use honeyscope_services::shell::{Device, ShellEvent, ShellLimits};
use honeyscope_services::telnet::auth::{Auth, Policy};
use honeyscope_services::telnet::session::{Next, Note, Output, SessionLimits, TelnetSession};
use libfuzzer_sys::fuzz_target;

fn devices() -> &'static [Arc<Device>] {
    static DEVICES: OnceLock<Vec<Arc<Device>>> = OnceLock::new();
    DEVICES.get_or_init(|| {
        let all: Vec<_> = Profile::builtin()
            .iter()
            .map(|p| Device::new(p.clone()))
            .collect();
        assert_eq!(all.len(), 4);
        all
    })
}

/// A session's limits: the defaults, with a smaller budget of commands so that one input
/// stays quick (every other cap as deployed).
fn limits() -> SessionLimits {
    SessionLimits {
        shell: ShellLimits {
            max_commands: 2_000,
            ..ShellLimits::default()
        },
        ..SessionLimits::default()
    }
}

/// Bytes a note holds.
fn note_size(n: &Note) -> usize {
    match n {
        Note::ClientSize { .. } => 4,
        Note::ClientVar { name, value } => name.len() + value.len(),
        Note::Login {
            username, password, ..
        } => username.len() + password.len(),
        Note::Command(c) => c.len(),
        Note::Shell(ShellEvent::NotFound(w)) => w.len(),
        Note::Shell(ShellEvent::Download(r)) => {
            r.url.to_string().len() + r.dest.as_ref().map_or(0, Vec::len)
        }
        Note::Shell(ShellEvent::Ran { path, .. }) => path.len(),
    }
}

fn run(device: &Arc<Device>, parts: &[&[u8]]) -> (Vec<u8>, Vec<u8>) {
    let limits = limits();
    let mut out = Output::default();
    let mut s = TelnetSession::start(device.clone(), limits, &mut out);
    let mut auth = Auth::new(Policy::AcceptAll, 0);
    let src = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    s.feed(b"root\r\nxc3511\r\n", &mut out);
    while let Some(l) = s.next_line() {
        assert_eq!(s.line(&l, 0, &mut auth, src, &mut out), Next::Open);
    }
    assert!(s.shell().is_some(), "did not log in");
    for p in parts {
        s.feed(p, &mut out);
    }
    let look = &device.profile.telnet;
    // What one line may print: its echo, the shell's capped output, the prompt (its cwd
    // at most a path long), the vendor CLI's texts; `\n` may become `\r\n` and every byte
    // an escaped `IAC`, each doubling.
    let fixed = look.motd.len() + look.banner.len() + look.login_prompt.len() + 4096;
    let mut steps = 0u64;
    while let Some(l) = s.next_line() {
        assert!(l.len() <= limits.max_line);
        let (wire, screen, notes) = (out.wire.len(), out.screen.len(), out.notes.len());
        let next = s.line(&l, 0, &mut auth, src, &mut out);
        let bound = l.len() + 1 + limits.shell.max_output + fixed;
        assert!(
            out.wire.len() - wire <= 4 * bound,
            "wire {}",
            out.wire.len() - wire
        );
        assert!(out.screen.len() - screen <= 2 * bound);
        let recorded: usize = out.notes[notes..].iter().map(note_size).sum();
        assert!(
            out.notes.len() - notes <= 1024 + 1,
            "{} notes",
            out.notes.len() - notes
        );
        assert!(recorded <= 1 << 20, "notes of {recorded} bytes");
        steps += 1;
        if let Some(sh) = s.shell() {
            assert!(
                sh.fs.used() <= limits.shell.fs_bytes,
                "fs holds {}",
                sh.fs.used()
            );
            assert!(sh.commands() <= limits.shell.max_commands);
        }
        if next == Next::Close {
            break;
        }
        // Keep memory flat across lines: what the driver would have sent.
        out.wire.truncate(0);
        out.screen.truncate(0);
        out.notes.clear();
    }
    assert!(steps <= limits.max_queued as u64);
    (out.wire, out.screen)
}

fuzz_target!(|input: &[u8]| {
    let [pick, cut, body @ ..] = input else {
        return;
    };
    let devices = devices();
    let device = &devices[usize::from(*pick) % devices.len()];
    let cut = usize::from(*cut) * body.len() / 256;
    let whole = run(device, &[body]);
    let split = run(device, &[&body[..cut], &body[cut..]]);
    assert!(whole == split, "a split changed the outcome");
});
