//! One Telnet connection as a device answers it, sans-IO: the client's bytes in; the bytes
//! to send, the screen as the client sees it, and what happened (logins, commands,
//! downloads) out.
//!
//! It stacks the layers: [`Telnet`] decodes the protocol, [`Lines`] cuts lines, the login
//! asks for a user and a password and lets [`Auth`] decide, and then the profile's vendor
//! CLI or its [`Shell`] takes each line. The login prompt, the shell prompt and the echo
//! of what was typed are the device's; `\n` goes out as `\r\n` (a terminal's `ONLCR`) and
//! `0xFF` doubled (`IAC IAC`).
//!
//! Lines are taken one at a time ([`TelnetSession::feed`] then
//! [`TelnetSession::next_line`]) so the driver can fetch what a line will download before
//! it runs, when the operator allows fetching.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;

use super::auth::{Auth, Outcome};
use super::lines::Lines;
use super::protocol::{code, escape, Telnet, TelnetEvent};
use crate::shell::{Device, Flow, Shell, ShellEvent, ShellLimits};

/// Window sizes and variables noted per session at most.
pub const MAX_CLIENT_NOTES: u32 = 32;

/// Bounds for one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// The longest line kept; the rest is dropped.
    pub max_line: usize,
    /// Failed logins before the connection is closed (as `login` does after three).
    pub max_tries: u32,
    /// Lines waiting to run; past it, more input is dropped.
    pub max_queued: usize,
    /// The shell's bounds.
    pub shell: ShellLimits,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            max_line: 4096,
            max_tries: 3,
            max_queued: 256,
            shell: ShellLimits::default(),
        }
    }
}

/// What happened, for the session's records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// The client's window size (NAWS).
    ClientSize {
        /// Columns.
        width: u16,
        /// Rows.
        height: u16,
    },
    /// A variable the client sent: `TTYPE`, or one from NEW-ENVIRON.
    ClientVar {
        /// Its name.
        name: String,
        /// Its value.
        value: String,
    },
    /// A login attempt and whether it got in.
    Login {
        /// The user name typed.
        username: Vec<u8>,
        /// The password typed.
        password: Vec<u8>,
        /// Whether it got in (by the policy, or remembered).
        accepted: bool,
    },
    /// A line typed at the CLI or the shell.
    Command(Vec<u8>),
    /// What the shell reported.
    Shell(ShellEvent),
}

/// Where the connection goes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Wait for more input.
    Open,
    /// Close it: the client logged out or failed to log in too often.
    Close,
}

/// What one step produced.
#[derive(Debug, Default)]
pub struct Output {
    /// Bytes to send.
    pub wire: Vec<u8>,
    /// The same as the client's screen shows it (no Telnet commands), for the transcript.
    pub screen: Vec<u8>,
    /// What the session recorded.
    pub notes: Vec<Note>,
}

impl Output {
    /// Screen text: a lone `\n` as `\r\n` (profile texts have theirs already), `IAC`
    /// escaped on the wire.
    fn print(&mut self, text: &[u8]) {
        let start = self.screen.len();
        let mut prev = 0u8;
        for &b in text {
            if b == b'\n' && prev != b'\r' {
                self.screen.push(b'\r');
            }
            self.screen.push(b);
            prev = b;
        }
        escape(&self.screen[start..], &mut self.wire);
    }
}

#[derive(Debug)]
enum Stage {
    User,
    Password { user: Vec<u8> },
    Shell(Box<Shell>),
    Closed,
}

/// One connection.
#[derive(Debug)]
pub struct TelnetSession {
    telnet: Telnet,
    lines: Lines,
    queued: VecDeque<Vec<u8>>,
    /// Lines dropped because too many were waiting.
    pub dropped_lines: u64,
    client_notes: u32,
    /// What the client said about itself past [`MAX_CLIENT_NOTES`], not noted.
    pub client_notes_dropped: u64,
    stage: Stage,
    device: Arc<Device>,
    limits: SessionLimits,
    tries: u32,
}

impl TelnetSession {
    /// A connection to `device`: its negotiation, banner and login prompt go to `out`.
    pub fn start(device: Arc<Device>, limits: SessionLimits, out: &mut Output) -> Self {
        let telnet = Telnet::new(&device.profile.telnet.offer, &mut out.wire);
        let s = TelnetSession {
            telnet,
            lines: Lines::new(limits.max_line),
            queued: VecDeque::new(),
            dropped_lines: 0,
            client_notes: 0,
            client_notes_dropped: 0,
            stage: Stage::User,
            device,
            limits,
            tries: 0,
        };
        let look = &s.device.profile.telnet;
        out.print(format!("{}{}", look.banner, look.login_prompt).as_bytes());
        s
    }

    /// The profile answering.
    pub fn device(&self) -> &Arc<Device> {
        &self.device
    }

    /// Bytes from the client: negotiation is answered into `out`, what the client said
    /// about itself noted, and complete lines queued for [`Self::next_line`].
    pub fn feed(&mut self, input: &[u8], out: &mut Output) {
        let (mut data, mut events) = (Vec::new(), Vec::new());
        self.telnet
            .receive(input, &mut data, &mut out.wire, &mut events);
        for e in events {
            // What a client says about itself is noted a few times per session, not once
            // per subnegotiation: a client repeating NAWS must not flood the log.
            let noted: Vec<Note> = match e {
                TelnetEvent::WindowSize { width, height } => {
                    vec![Note::ClientSize { width, height }]
                }
                TelnetEvent::TerminalType(t) => vec![Note::ClientVar {
                    name: "TTYPE".into(),
                    value: t,
                }],
                TelnetEvent::Environment(vars) => vars
                    .into_iter()
                    .map(|(name, value)| Note::ClientVar { name, value })
                    .collect(),
                _ => Vec::new(),
            };
            for n in noted {
                if self.client_notes < MAX_CLIENT_NOTES {
                    self.client_notes += 1;
                    out.notes.push(n);
                } else {
                    self.client_notes_dropped += 1;
                }
            }
        }
        let mut done = Vec::new();
        self.lines.push(&data, &mut done);
        for line in done {
            if self.queued.len() < self.limits.max_queued {
                self.queued.push_back(line);
            } else {
                self.dropped_lines += 1;
            }
        }
    }

    /// The next line to run, if one is complete.
    pub fn next_line(&mut self) -> Option<Vec<u8>> {
        self.queued.pop_front()
    }

    /// The shell, once logged in.
    pub fn shell(&self) -> Option<&Shell> {
        match &self.stage {
            Stage::Shell(s) => Some(s),
            _ => None,
        }
    }

    /// Mutable access to the shell, once logged in (to hand it fetched files).
    pub fn shell_mut(&mut self) -> Option<&mut Shell> {
        match &mut self.stage {
            Stage::Shell(s) => Some(s),
            _ => None,
        }
    }

    /// Runs one line from `src` at `now_us`: the login, or the CLI or shell.
    pub fn line(
        &mut self,
        line: &[u8],
        now_us: i64,
        auth: &mut Auth,
        src: IpAddr,
        out: &mut Output,
    ) -> Next {
        let echo = self.telnet.we_perform(code::ECHO);
        match std::mem::replace(&mut self.stage, Stage::Closed) {
            Stage::User => {
                if echo {
                    out.print(&[line, b"\n"].concat());
                }
                if line.is_empty() {
                    out.print(self.device.profile.telnet.login_prompt.as_bytes());
                    self.stage = Stage::User;
                } else {
                    out.print(self.device.profile.telnet.password_prompt.as_bytes());
                    self.stage = Stage::Password {
                        user: line.to_vec(),
                    };
                }
            }
            Stage::Password { user } => {
                // The password is not echoed; the line end is.
                if echo {
                    out.print(b"\n");
                }
                let outcome = auth.attempt(now_us, src, &user, line);
                let accepted = outcome != Outcome::Rejected;
                out.notes.push(Note::Login {
                    username: user,
                    password: line.to_vec(),
                    accepted,
                });
                let look = &self.device.profile.telnet;
                if accepted {
                    let shell = Shell::new(self.device.clone(), self.limits.shell);
                    out.print(look.motd.as_bytes());
                    out.print(shell.prompt().as_bytes());
                    self.stage = Stage::Shell(Box::new(shell));
                } else {
                    self.tries += 1;
                    out.print(look.login_incorrect.as_bytes());
                    if self.tries >= self.limits.max_tries {
                        return Next::Close;
                    }
                    out.print(look.login_prompt.as_bytes());
                    self.stage = Stage::User;
                }
            }
            Stage::Shell(mut shell) => {
                if echo {
                    out.print(&[line, b"\n"].concat());
                }
                if !line.iter().all(u8::is_ascii_whitespace) {
                    out.notes.push(Note::Command(line.to_vec()));
                }
                let (mut text, mut events) = (Vec::new(), Vec::new());
                let flow = shell.execute(line, &mut text, &mut events);
                out.print(&text);
                out.notes.extend(events.into_iter().map(Note::Shell));
                if flow == Flow::Exit {
                    return Next::Close;
                }
                out.print(shell.prompt().as_bytes());
                self.stage = Stage::Shell(shell);
            }
            Stage::Closed => return Next::Close,
        }
        Next::Open
    }
}
