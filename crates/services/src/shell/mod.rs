//! The device's shell, sans-IO: a command line in, the terminal's output and what the
//! session did (commands, downloads, exits) out.
//!
//! * [`parse`]: the POSIX-sh subset BusyBox ash takes, as an AST;
//! * [`fs`]: the profile's filesystem under a per-session copy-on-write layer;
//! * the interpreter (here): expansion (`$VAR`, `$(…)`, globs), pipelines, redirections,
//!   `&&`/`||`, loops, and running dropped files and scripts;
//! * [`applets`]: BusyBox's applets and ash's builtins, answering as the profile's device;
//! * [`download`]: what `wget`, `tftp`, `curl` and `ftpget` are asked to fetch.
//!
//! Nothing here runs or fetches anything: a download is an event, and its bytes arrive
//! only when the operator's fetcher got them before the line ran ([`Shell::provide`]).
//! Every loop, output and file is bounded by [`ShellLimits`].

pub mod applets;
pub mod download;
pub mod fs;
pub mod parse;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::device::{CliAnswer, Profile};
use crate::elf;
use crate::url::Url;
use fs::{Base, Fs, FsError, Node};
use parse::{AndOr, Command, Connector, Item, RedirOp, Script, Simple, Word, WordPart};

/// Bounds on what one session's shell does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShellLimits {
    /// Commands a session may run in all; past it, every line answers nothing.
    pub max_commands: u64,
    /// Bytes of output one line may produce (the rest is cut).
    pub max_output: usize,
    /// Iterations of one loop.
    pub max_loop: usize,
    /// Scripts within scripts, `$(…)` within `$(…)`.
    pub max_depth: usize,
    /// Bytes of files a session may hold.
    pub fs_bytes: usize,
    /// Shell variables a session may set.
    pub max_vars: usize,
}

impl Default for ShellLimits {
    fn default() -> Self {
        ShellLimits {
            max_commands: 10_000,
            max_output: 1 << 20,
            max_loop: 1_000,
            max_depth: 8,
            fs_bytes: 8 << 20,
            max_vars: 256,
        }
    }
}

/// Events one line may report: a loop of unknown commands says the same thing each time.
pub const MAX_EVENTS: usize = 1024;
/// Bytes of events one line may report.
pub const MAX_EVENT_BYTES: usize = 256 * 1024;
/// The longest command kept in a [`ShellEvent::NotFound`].
pub const MAX_EVENT_TEXT: usize = 4096;

/// A profile made ready for sessions: its filesystem built once, shared by all.
#[derive(Debug)]
pub struct Device {
    /// The profile.
    pub profile: Profile,
    /// Its files.
    pub base: Arc<Base>,
}

/// Size of the `/bin/busybox` a device shows: large enough to look like one, small enough
/// that `cat /bin/echo` stays cheap for every bot that asks.
pub const BUSYBOX_BYTES: usize = 16 * 1024;

impl Device {
    /// Builds `profile`'s filesystem: its directories and files, `/proc`'s texts, and
    /// `/bin/busybox` (an ELF of the profile's architecture) with its applets' links.
    pub fn new(profile: Profile) -> Arc<Device> {
        let busybox: Arc<[u8]> = elf::binary(profile.arch, BUSYBOX_BYTES).into();
        let mut files: Vec<(&str, Arc<[u8]>, u32)> = Vec::new();
        let text = |s: &str| -> Arc<[u8]> { Arc::from(s.as_bytes()) };
        let proc = [
            ("/proc/mounts", text(&profile.proc.mounts)),
            ("/proc/cpuinfo", text(&profile.proc.cpuinfo)),
            ("/proc/meminfo", text(&profile.proc.meminfo)),
            ("/proc/version", text(&applets::kernel_version(&profile))),
            ("/etc/hostname", text(&format!("{}\n", profile.hostname))),
        ];
        files.extend(proc.into_iter().map(|(p, d)| (p, d, 0o444)));
        files.push(("/bin/busybox", busybox.clone(), 0o755));
        // Applets are links to busybox; `cat /bin/echo` is how loaders learn the CPU.
        let links: Vec<String> = profile
            .busybox
            .applets
            .iter()
            .map(|a| format!("/bin/{a}"))
            .collect();
        for l in &links {
            files.push((l.as_str(), busybox.clone(), 0o755));
        }
        for f in &profile.files {
            files.push((f.path.as_str(), text(&f.content), f.mode));
        }
        let base = Base::build(
            profile.dirs.iter().map(String::as_str),
            files,
            &profile.proc.mounts,
        )
        .with_busybox(busybox);
        Arc::new(Device {
            base: Arc::new(base),
            profile,
        })
    }
}

/// What a line made the session do, besides printing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShellEvent {
    /// A command the shell could not find (`-sh: NAME: not found`), as typed.
    NotFound(Vec<u8>),
    /// A download was asked for.
    Download(download::Request),
    /// A dropped file was run: its path and bytes.
    Ran {
        /// Where it was.
        path: Vec<u8>,
        /// Its ELF architecture, or `None` for a script or other data.
        arch: Option<elf::Arch>,
    },
}

/// Where the session goes after a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Waits for the next line (print the prompt).
    Continue,
    /// The client logged out.
    Exit,
}

/// Who reads the line: the vendor CLI in front of the shell, or the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Cli,
    Shell,
}

/// A shell's output for one command: stdout and stderr, each capped.
#[derive(Debug, Default)]
pub struct Io {
    /// Standard output.
    pub out: Vec<u8>,
    /// Standard error.
    pub err: Vec<u8>,
    cap: usize,
}

impl Io {
    fn new(cap: usize) -> Io {
        Io {
            cap,
            ..Io::default()
        }
    }

    /// Writes to stdout, within the cap.
    pub fn out(&mut self, data: &[u8]) {
        let room = self.cap.saturating_sub(self.out.len() + self.err.len());
        self.out.extend_from_slice(&data[..data.len().min(room)]);
    }

    /// Writes to stderr, within the cap.
    pub fn err(&mut self, data: &[u8]) {
        let room = self.cap.saturating_sub(self.out.len() + self.err.len());
        self.err.extend_from_slice(&data[..data.len().min(room)]);
    }

    /// `format!` to stderr.
    pub fn errf(&mut self, s: String) {
        self.err(s.as_bytes());
    }
}

/// One session's shell.
#[derive(Debug)]
pub struct Shell {
    device: Arc<Device>,
    /// The session's files.
    pub fs: Fs,
    cwd: Vec<u8>,
    vars: BTreeMap<Vec<u8>, Vec<u8>>,
    args: Vec<Vec<u8>>,
    status: i32,
    mode: Mode,
    /// `sh` run inside the login shell: `exit` leaves one level.
    levels: u32,
    limits: ShellLimits,
    commands: u64,
    depth: usize,
    /// Bytes the operator's fetcher got for a URL before the line ran.
    fetched: BTreeMap<String, Arc<[u8]>>,
    events: Vec<ShellEvent>,
    /// Bytes the line's events hold so far.
    event_bytes: usize,
    exit: bool,
}

impl Shell {
    /// A login shell on `device` (behind its vendor CLI when it has one).
    pub fn new(device: Arc<Device>, limits: ShellLimits) -> Shell {
        let mode = if device.profile.cli.is_some() {
            Mode::Cli
        } else {
            Mode::Shell
        };
        let home: &[u8] = if device.profile.user == "root" {
            b"/root"
        } else {
            b"/"
        };
        let fs = Fs::new(device.base.clone(), limits.fs_bytes);
        let cwd = if fs.is_dir(home) {
            home.to_vec()
        } else {
            b"/".to_vec()
        };
        Shell {
            device,
            fs,
            cwd,
            vars: BTreeMap::new(),
            args: Vec::new(),
            status: 0,
            mode,
            levels: 0,
            limits,
            commands: 0,
            depth: 0,
            fetched: BTreeMap::new(),
            events: Vec::new(),
            event_bytes: 0,
            exit: false,
        }
    }

    /// The profile it answers as.
    pub fn profile(&self) -> &Profile {
        &self.device.profile
    }

    /// The prompt to print now.
    pub fn prompt(&self) -> String {
        match (&self.mode, &self.device.profile.cli) {
            (Mode::Cli, Some(cli)) => cli.prompt.clone(),
            _ => self.device.profile.prompt_for(
                &self.device.profile.user,
                &String::from_utf8_lossy(&self.cwd),
            ),
        }
    }

    /// The working directory.
    pub fn cwd(&self) -> &[u8] {
        &self.cwd
    }

    /// Commands run so far.
    pub fn commands(&self) -> u64 {
        self.commands
    }

    /// The URLs a line will ask to download, as far as they can be known before it runs
    /// (words without expansions), so the operator's fetcher can get them first. None
    /// while the vendor CLI reads the lines: they do not reach the shell.
    pub fn downloads_in(&self, line: &[u8]) -> Vec<Url> {
        if self.mode == Mode::Cli {
            return Vec::new();
        }
        let Ok(script) = parse::parse(line, &parse::Limits::default()) else {
            return Vec::new();
        };
        let mut urls = Vec::new();
        requests_in(&script, &self.cwd, &mut |r| urls.push(r.url));
        urls
    }

    /// Hands in what the fetcher got for `url` (bounded by the fetcher's caps): the next
    /// `wget` of it succeeds with these bytes.
    pub fn provide(&mut self, url: &Url, data: Arc<[u8]>) {
        if self.fetched.len() < 64 {
            self.fetched.insert(url.to_string(), data);
        }
    }

    /// Runs one line: output goes to `out` (with `\n`, as the program wrote it), events to
    /// `events`.
    pub fn execute(
        &mut self,
        line: &[u8],
        out: &mut Vec<u8>,
        events: &mut Vec<ShellEvent>,
    ) -> Flow {
        let mut io = Io::new(self.limits.max_output);
        if self.mode == Mode::Cli {
            self.cli(line, &mut io);
        } else {
            self.run_text(line, None, &mut io);
        }
        out.extend_from_slice(&io.out);
        out.extend_from_slice(&io.err);
        events.append(&mut self.events);
        self.event_bytes = 0;
        // Fetched files the line did not use are not kept for later lines.
        self.fetched.clear();
        if std::mem::take(&mut self.exit) {
            Flow::Exit
        } else {
            Flow::Continue
        }
    }

    /// A line for the vendor CLI.
    fn cli(&mut self, line: &[u8], io: &mut Io) {
        let Some(cli) = &self.device.profile.cli else {
            return;
        };
        self.commands += 1;
        match cli.answer(&String::from_utf8_lossy(line)) {
            CliAnswer::Shell => {
                self.mode = Mode::Shell;
                io.out(applets::shell_banner(&self.device.profile).as_bytes());
            }
            CliAnswer::Exit => self.exit = true,
            CliAnswer::Reply(text) => io.out(text.as_bytes()),
        }
    }

    /// Parses and runs `text`; `script` names the file it came from (for error messages).
    fn run_text(&mut self, text: &[u8], script: Option<&[u8]>, io: &mut Io) {
        let limits = parse::Limits {
            max_depth: 16,
            max_nodes: 4096,
        };
        match parse::parse(text, &limits) {
            Ok(s) => self.run_script(&s, io),
            Err(e) => {
                match script {
                    Some(p) => io.errf(format!(
                        "{}: line 1: {}\n",
                        String::from_utf8_lossy(p),
                        e.message()
                    )),
                    None => io.errf(format!("-sh: {}\n", e.message())),
                }
                self.status = 2;
            }
        }
    }

    fn run_script(&mut self, script: &Script, io: &mut Io) {
        for Item { and_or, .. } in &script.0 {
            if self.exit {
                return;
            }
            self.run_and_or(and_or, io);
        }
    }

    fn run_and_or(&mut self, a: &AndOr, io: &mut Io) {
        self.run_pipeline(&a.first, io);
        for (c, p) in &a.rest {
            if self.exit {
                return;
            }
            let go = match c {
                Connector::And => self.status == 0,
                Connector::Or => self.status != 0,
            };
            if go {
                self.run_pipeline(p, io);
            }
        }
    }

    fn run_pipeline(&mut self, p: &parse::Pipeline, io: &mut Io) {
        let mut input: Vec<u8> = Vec::new();
        let last = p.commands.len().saturating_sub(1);
        for (i, c) in p.commands.iter().enumerate() {
            if i == last {
                self.run_command(c, &input, io);
            } else {
                let mut inner = Io::new(self.limits.max_output);
                self.run_command(c, &input, &mut inner);
                io.err(&inner.err);
                input = inner.out;
            }
        }
        if p.bang {
            self.status = i32::from(self.status == 0);
        }
    }

    fn run_command(&mut self, c: &Command, stdin: &[u8], io: &mut Io) {
        if self.commands >= self.limits.max_commands {
            return;
        }
        self.commands += 1;
        match c {
            Command::Simple(s) => self.run_simple(s, stdin, io),
            Command::For {
                var,
                items,
                body,
                redirects,
            } => {
                let values = match items {
                    Some(words) => self.expand_words(words, io),
                    None => self.args.clone(),
                };
                self.with_redirects(redirects, stdin, io, |sh, _stdin, io| {
                    for v in values.into_iter().take(sh.limits.max_loop) {
                        sh.set_var(var, v);
                        sh.run_script(body, io);
                        if sh.exit {
                            break;
                        }
                    }
                });
            }
            Command::While {
                until,
                cond,
                body,
                redirects,
            } => {
                self.with_redirects(redirects, stdin, io, |sh, stdin, io| {
                    // `read` in the condition takes lines from the loop's input.
                    let mut input = LineInput::new(stdin);
                    for _ in 0..sh.limits.max_loop {
                        sh.run_script_reading(cond, &mut input, io);
                        if (sh.status == 0) == *until || sh.exit {
                            break;
                        }
                        sh.run_script(body, io);
                    }
                    sh.status = 0;
                });
            }
            Command::If {
                branches,
                otherwise,
                redirects,
            } => {
                self.with_redirects(redirects, stdin, io, |sh, _stdin, io| {
                    for (cond, body) in branches {
                        sh.run_script(cond, io);
                        if sh.status == 0 {
                            sh.run_script(body, io);
                            return;
                        }
                    }
                    sh.status = 0;
                    if let Some(body) = otherwise {
                        sh.run_script(body, io);
                    }
                });
            }
            Command::Group {
                body,
                subshell,
                redirects,
            } => {
                let saved = subshell.then(|| self.cwd.clone());
                self.with_redirects(redirects, stdin, io, |sh, _stdin, io| {
                    sh.run_script(body, io)
                });
                if let Some(cwd) = saved {
                    self.cwd = cwd;
                    self.exit = false;
                }
            }
        }
    }

    /// Runs `cond` with `read` taking lines from `input`.
    fn run_script_reading(&mut self, cond: &Script, input: &mut LineInput, io: &mut Io) {
        // A condition of one `read` command is the loop's common shape; anything else runs
        // as a script with no input.
        if let [Item { and_or, .. }] = cond.0.as_slice() {
            if let (Command::Simple(s), true) = (
                and_or.first.commands.first().unwrap_or(&EMPTY),
                and_or.rest.is_empty() && and_or.first.commands.len() == 1,
            ) {
                let words = self.expand_words(&s.words, io);
                if words.first().map(Vec::as_slice) == Some(b"read") {
                    self.read_builtin(&words[1..], input);
                    return;
                }
            }
        }
        self.run_script(cond, io);
    }

    fn read_builtin(&mut self, args: &[Vec<u8>], input: &mut LineInput) {
        let names: Vec<&Vec<u8>> = args.iter().filter(|a| !a.starts_with(b"-")).collect();
        match input.next() {
            None => self.status = 1,
            Some(line) => {
                let mut fields: Vec<&[u8]> = line
                    .split(|b| b.is_ascii_whitespace())
                    .filter(|f| !f.is_empty())
                    .collect();
                for (i, name) in names.iter().enumerate() {
                    let value = if i + 1 == names.len() {
                        // The last name takes the rest of the line.
                        let rest = fields.get(i..).unwrap_or_default().join(&b' ');
                        fields.clear();
                        rest
                    } else {
                        fields.get(i).map(|f| f.to_vec()).unwrap_or_default()
                    };
                    self.set_var(name, value);
                }
                if names.is_empty() {
                    self.set_var(b"REPLY", line);
                }
                self.status = 0;
            }
        }
    }

    /// Applies `redirects` around `body`: input from a file, output to files or
    /// elsewhere.
    fn with_redirects(
        &mut self,
        redirects: &[parse::Redirect],
        stdin: &[u8],
        io: &mut Io,
        body: impl FnOnce(&mut Shell, &[u8], &mut Io),
    ) {
        let mut input: Option<Arc<[u8]>> = None;
        // Where stdout and stderr go: the terminal (None), nowhere, or a file.
        let mut targets: [Target; 2] = [Target::Terminal, Target::Terminal];
        for r in redirects {
            let Some(word) = self.expand_word_one(&r.target, io) else {
                io.err(b"-sh: ambiguous redirect\n");
                self.status = 1;
                return;
            };
            let fd = r.fd.unwrap_or(match r.op {
                RedirOp::In | RedirOp::DupIn | RedirOp::ReadWrite => 0,
                _ => 1,
            });
            match r.op {
                RedirOp::In | RedirOp::ReadWrite if fd == 0 => {
                    let path = fs::resolve(&self.cwd, &word);
                    match self.fs.read(&path) {
                        Ok(d) => input = Some(d),
                        Err(e) => {
                            io.errf(format!(
                                "-sh: can't open '{}': {}\n",
                                lossy(&word),
                                e.text()
                            ));
                            self.status = 1;
                            return;
                        }
                    }
                }
                RedirOp::Out | RedirOp::Clobber | RedirOp::Append if fd <= 2 => {
                    let path = fs::resolve(&self.cwd, &word);
                    let append = r.op == RedirOp::Append;
                    // The shell opens (and truncates) the file before the command runs.
                    let opened = match (append, self.fs.get(&path)) {
                        (true, Some(_)) => Ok(()),
                        _ => self.fs.write(&path, b"", false),
                    };
                    if let Err(e) = opened {
                        io.errf(format!(
                            "-sh: can't create {}: {}\n",
                            lossy(&word),
                            e.text()
                        ));
                        self.status = 1;
                        return;
                    }
                    if fd >= 1 {
                        targets[fd as usize - 1] = Target::File(path);
                    }
                }
                RedirOp::DupOut if (1..=2).contains(&fd) => {
                    let to = match word.as_slice() {
                        b"1" => targets[0].clone(),
                        b"2" => targets[1].clone(),
                        b"-" => Target::Nowhere,
                        _ => Target::Terminal,
                    };
                    targets[fd as usize - 1] = to;
                }
                // Other descriptors: nothing of ours reads or writes them.
                _ => {}
            }
        }
        let stdin: &[u8] = input.as_deref().unwrap_or(stdin);
        if targets.iter().all(|t| *t == Target::Terminal) {
            body(self, stdin, io);
            return;
        }
        let mut inner = Io::new(self.limits.max_output);
        body(self, stdin, &mut inner);
        let Io { out, err, .. } = inner;
        for (data, target, to_err) in [(out, &targets[0], false), (err, &targets[1], true)] {
            match target {
                Target::Terminal if to_err => io.err(&data),
                Target::Terminal => io.out(&data),
                Target::Nowhere => {}
                Target::File(path) => {
                    if let Err(e) = self.fs.write(path, &data, true) {
                        io.errf(format!("-sh: write error: {}\n", e.text()));
                        self.status = 1;
                    }
                }
            }
        }
    }

    fn run_simple(&mut self, s: &Simple, stdin: &[u8], io: &mut Io) {
        let words = self.expand_words(&s.words, io);
        for (name, value) in &s.assigns {
            // An assignment's value is one field, however many blanks the expansion holds.
            let (mut fields, mut room) = (Vec::new(), MAX_ARGS);
            self.expand_into(value, io, &mut fields, &mut room, false);
            self.set_var(name, fields.pop().unwrap_or_default());
        }
        if words.is_empty() {
            // Only assignments or redirections (`>file` empties it).
            self.with_redirects(&s.redirects, stdin, io, |_, _, _| {});
            if s.redirects.is_empty() {
                self.status = 0;
            }
            return;
        }
        self.with_redirects(&s.redirects, stdin, io, |sh, stdin, io| {
            sh.status = sh.run_words(&words, stdin, io);
        });
    }

    /// Runs a command given its expanded words; returns its status.
    pub(crate) fn run_words(&mut self, words: &[Vec<u8>], stdin: &[u8], io: &mut Io) -> i32 {
        let Some(name) = words.first() else { return 0 };
        let args = &words[1..];
        if let Some(status) = applets::builtin(self, name, args, stdin, io) {
            return status;
        }
        if name.contains(&b'/') {
            let path = fs::resolve(&self.cwd, name);
            let busybox = self.fs.get(&path).is_some_and(|n| match n {
                Node::File { data, .. } => self.is_busybox(data),
                _ => false,
            });
            if busybox {
                // `/bin/busybox X …` and `/bin/echo …`: the link's name picks the applet.
                return applets::busybox(self, fs::file_name(&path), args, stdin, io);
            }
            return self.run_file(name, &path, args, io);
        }
        if self
            .device
            .profile
            .has_applet(&String::from_utf8_lossy(name))
        {
            return applets::applet(self, name, args, stdin, io);
        }
        if self
            .device
            .profile
            .has_program(&String::from_utf8_lossy(name))
        {
            return applets::program(self, name, args, stdin, io);
        }
        self.not_found(words, io)
    }

    /// `-sh: NAME: not found`, and the event.
    pub(crate) fn not_found(&mut self, words: &[Vec<u8>], io: &mut Io) -> i32 {
        let name = words.first().map(Vec::as_slice).unwrap_or_default();
        io.errf(format!("-sh: {}: not found\n", lossy(name)));
        let mut typed = words.join(&b' ');
        typed.truncate(MAX_EVENT_TEXT);
        self.event(ShellEvent::NotFound(typed));
        127
    }

    /// Whether `data` is the device's busybox binary (a link to it).
    fn is_busybox(&self, data: &Arc<[u8]>) -> bool {
        self.device
            .base
            .busybox()
            .is_some_and(|b| Arc::ptr_eq(b, data))
    }

    /// Runs a file: an ELF for this CPU runs (quietly), anything else is read as a script,
    /// as ash does when `execve` says `ENOEXEC`.
    fn run_file(&mut self, typed: &[u8], path: &[u8], args: &[Vec<u8>], io: &mut Io) -> i32 {
        let (data, mode) = match self.fs.get(path) {
            None => {
                io.errf(format!("-sh: {}: not found\n", lossy(typed)));
                return 127;
            }
            Some(Node::Dir { .. }) | Some(Node::Null) => {
                io.errf(format!("-sh: {}: Permission denied\n", lossy(typed)));
                return 126;
            }
            Some(Node::File { data, mode }) => (data.clone(), *mode),
        };
        if mode & 0o111 == 0 {
            io.errf(format!("-sh: {}: Permission denied\n", lossy(typed)));
            return 126;
        }
        let info = elf::inspect(&data);
        self.event(ShellEvent::Ran {
            path: path.to_vec(),
            arch: info.as_ref().and_then(|i| i.arch),
        });
        match info {
            Some(i) if i.arch.is_some_and(|a| a.runs_on(self.device.profile.arch)) => 0,
            _ => self.source(typed, &data, args, io),
        }
    }

    /// Runs `data` as a script with `args` as `$1 …`.
    pub(crate) fn source(
        &mut self,
        name: &[u8],
        data: &[u8],
        args: &[Vec<u8>],
        io: &mut Io,
    ) -> i32 {
        if self.depth >= self.limits.max_depth {
            io.errf(format!("-sh: {}: too deeply nested\n", lossy(name)));
            return 2;
        }
        self.depth += 1;
        let saved = std::mem::replace(&mut self.args, args.to_vec());
        self.run_text(data, Some(name), io);
        self.args = saved;
        self.depth -= 1;
        self.status
    }

    /// Runs a line of text (`sh -c`, `eval`) at the current level.
    pub(crate) fn eval(&mut self, text: &[u8], io: &mut Io) -> i32 {
        if self.depth >= self.limits.max_depth {
            return 2;
        }
        self.depth += 1;
        self.run_text(text, None, io);
        self.depth -= 1;
        self.status
    }

    fn set_var(&mut self, name: &[u8], value: Vec<u8>) {
        if self.vars.len() < self.limits.max_vars || self.vars.contains_key(name) {
            let value = value[..value.len().min(4096)].to_vec();
            self.vars.insert(name.to_vec(), value);
        }
    }

    fn var(&self, name: &[u8]) -> Vec<u8> {
        // `${name:-default}` and `${name-default}`: the parser keeps the inside whole.
        if let Some(i) = name.iter().position(|&b| b == b'-' || b == b':') {
            let (n, rest) = name.split_at(i);
            let default = rest
                .strip_prefix(b":-")
                .or_else(|| rest.strip_prefix(b"-"))
                .unwrap_or_default();
            let v = self.var(n);
            return if v.is_empty() { default.to_vec() } else { v };
        }
        match name {
            b"?" => self.status.to_string().into_bytes(),
            b"$" => applets::shell_pid(&self.device.profile)
                .to_string()
                .into_bytes(),
            b"#" => self.args.len().to_string().into_bytes(),
            b"0" => b"-sh".to_vec(),
            b"@" | b"*" => self.args.join(&b' '),
            b"PWD" => self.cwd.clone(),
            b"HOME" => b"/root".to_vec(),
            b"USER" | b"LOGNAME" => self.device.profile.user.clone().into_bytes(),
            b"HOSTNAME" => self.device.profile.hostname.clone().into_bytes(),
            b"PATH" if !self.vars.contains_key(name) => b"/bin:/sbin:/usr/bin:/usr/sbin".to_vec(),
            b"SHELL" if !self.vars.contains_key(name) => b"/bin/sh".to_vec(),
            _ => {
                if let Ok(n) = std::str::from_utf8(name).unwrap_or("x").parse::<usize>() {
                    return self
                        .args
                        .get(n.wrapping_sub(1))
                        .cloned()
                        .unwrap_or_default();
                }
                self.vars.get(name).cloned().unwrap_or_default()
            }
        }
    }

    /// Expands words into fields: variables, substitutions, splitting, globs. All of them
    /// hold at most [`MAX_ARGS`] bytes (the rest is cut).
    fn expand_words(&mut self, words: &[Word], io: &mut Io) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut room = MAX_ARGS;
        for w in words {
            self.expand_into(w, io, &mut out, &mut room, true);
        }
        out
    }

    /// A word that must stay one field (a redirection's target).
    fn expand_word_one(&mut self, w: &Word, io: &mut Io) -> Option<Vec<u8>> {
        let (mut fields, mut room) = (Vec::new(), MAX_ARGS);
        self.expand_into(w, io, &mut fields, &mut room, true);
        match fields.len() {
            0 => Some(Vec::new()),
            1 => fields.pop(),
            _ => None,
        }
    }

    /// Expands `w` into `out`, adding at most `room` bytes (and taking them off it): a line
    /// of `$a$a$a…` or of many `$(…)` must not copy without end.
    /// `split`: unquoted expansions are split into fields and globs expanded (not so in an
    /// assignment's value).
    fn expand_into(
        &mut self,
        w: &Word,
        io: &mut Io,
        out: &mut Vec<Vec<u8>>,
        room: &mut usize,
        split: bool,
    ) {
        // Fields so far; `cur` is the one being built, `quoted` whether any of it was quoted
        // (an empty quoted word is still a field), `glob` whether it may hold a pattern.
        let mut cur = Capped {
            data: Vec::new(),
            room,
        };
        let mut started = false;
        let mut glob = false;
        for part in &w.0 {
            match part {
                WordPart::Literal(t) => {
                    glob |= t.iter().any(|b| matches!(b, b'*' | b'?' | b'['));
                    cur.extend_from_slice(t);
                    started = true;
                }
                // Full: variables are not even looked up (substitutions still run, for
                // what they do).
                WordPart::Var(_) if *cur.room == 0 => {}
                WordPart::Quoted(t) => {
                    cur.extend_from_slice(t);
                    started = true;
                }
                WordPart::DoubleQuoted(parts) => {
                    for p in parts {
                        match p {
                            WordPart::Var(_) if *cur.room == 0 => {}
                            WordPart::Var(n) => {
                                let v = self.var(n);
                                cur.extend_from_slice(&v);
                            }
                            WordPart::CmdSubst(s) => {
                                let v = self.substitute(s, io);
                                cur.extend_from_slice(&v);
                            }
                            WordPart::Literal(t) | WordPart::Quoted(t) | WordPart::Arith(t) => {
                                cur.extend_from_slice(t)
                            }
                            WordPart::DoubleQuoted(_) => {}
                        }
                    }
                    started = true;
                }
                WordPart::Var(n) if !split => {
                    let v = self.var(n);
                    cur.extend_from_slice(&v);
                    started = true;
                }
                WordPart::CmdSubst(sub) if !split => {
                    let v = self.substitute(sub, io);
                    cur.extend_from_slice(&v);
                    started = true;
                }
                WordPart::Var(_) | WordPart::CmdSubst(_) => {
                    let v = match part {
                        WordPart::Var(n) => self.var(n),
                        WordPart::CmdSubst(s) => self.substitute(s, io),
                        _ => Vec::new(),
                    };
                    // Unquoted: split on blanks.
                    let mut fields = v.split(|b| b.is_ascii_whitespace()).peekable();
                    let leading = v.first().is_some_and(u8::is_ascii_whitespace);
                    if leading && started {
                        out.push(cur.take());
                        started = false;
                    }
                    while let Some(f) = fields.next() {
                        if f.is_empty() {
                            continue;
                        }
                        cur.extend_from_slice(f);
                        started = true;
                        if fields.peek().is_some() {
                            out.push(cur.take());
                            started = false;
                        }
                    }
                    if v.last().is_some_and(u8::is_ascii_whitespace) && started {
                        out.push(cur.take());
                        started = false;
                    }
                }
                WordPart::Arith(t) => {
                    cur.extend_from_slice(applets::arith(self, t).to_string().as_bytes());
                    started = true;
                }
            }
        }
        if !started {
            return;
        }
        let cur = cur.data;
        if glob && split {
            let mut matches = self.glob(&cur);
            if !matches.is_empty() {
                // The names take room too (and the pattern's bytes are given back).
                *room += cur.len();
                matches.retain(|m| {
                    let fits = m.len() <= *room;
                    if fits {
                        *room -= m.len();
                    }
                    fits
                });
                out.extend(matches);
                return;
            }
        }
        out.push(cur);
    }

    /// `$(…)`: the script's output, trailing newlines removed.
    fn substitute(&mut self, s: &Script, io: &mut Io) -> Vec<u8> {
        if self.depth >= self.limits.max_depth {
            return Vec::new();
        }
        self.depth += 1;
        let mut inner = Io::new(self.limits.max_output.min(64 * 1024));
        let saved_cwd = self.cwd.clone();
        self.run_script(s, &mut inner);
        self.cwd = saved_cwd;
        self.exit = false;
        self.depth -= 1;
        io.err(&inner.err);
        let mut v = inner.out;
        while v.last() == Some(&b'\n') {
            v.pop();
        }
        v
    }

    /// Expands a pattern in its last component (`*`, `rm -rf /tmp/*`): sorted matches, or
    /// none.
    fn glob(&self, pattern: &[u8]) -> Vec<Vec<u8>> {
        let (dir, name) = match pattern.iter().rposition(|&b| b == b'/') {
            Some(i) => (&pattern[..=i], &pattern[i + 1..]),
            None => (&b""[..], pattern),
        };
        if dir.iter().any(|b| matches!(b, b'*' | b'?' | b'[')) {
            return Vec::new();
        }
        let abs = fs::resolve(&self.cwd, if dir.is_empty() { b"." } else { dir });
        let Ok(entries) = self.fs.list(&abs) else {
            return Vec::new();
        };
        let pat = compile(name);
        entries
            .into_iter()
            .filter(|(n, _)| n.first() != Some(&b'.') || name.first() == Some(&b'.'))
            .filter(|(n, _)| matches(&pat, n))
            .map(|(n, _)| [dir, n.as_slice()].concat())
            .collect()
    }

    pub(crate) fn cd(&mut self, to: &[u8]) -> Result<(), FsError> {
        let path = fs::resolve(&self.cwd, to);
        match self.fs.get(&path) {
            Some(n) if n.is_dir() => {
                self.cwd = path;
                Ok(())
            }
            Some(_) => Err(FsError::NotDir),
            None => Err(FsError::NotFound),
        }
    }

    /// Records what a line did, within [`MAX_EVENTS`] and [`MAX_EVENT_BYTES`] a line.
    pub(crate) fn event(&mut self, e: ShellEvent) {
        let size = match &e {
            ShellEvent::NotFound(w) => w.len(),
            ShellEvent::Download(r) => {
                r.url.to_string().len() + r.dest.as_ref().map_or(0, Vec::len)
            }
            ShellEvent::Ran { path, .. } => path.len(),
        };
        if self.events.len() < MAX_EVENTS && self.event_bytes + size <= MAX_EVENT_BYTES {
            self.event_bytes += size;
            self.events.push(e);
        }
    }

    /// What the fetcher got for `url` before this line ran: taken, so it is held no
    /// longer than the line.
    pub(crate) fn fetched(&mut self, url: &Url) -> Option<Arc<[u8]>> {
        self.fetched.remove(&url.to_string())
    }

    pub(crate) fn device(&self) -> &Arc<Device> {
        &self.device
    }

    /// `exit`: leaves a nested `sh`, else the session (or the shell, back to the CLI).
    pub(crate) fn exit(&mut self) {
        if self.levels > 0 {
            self.levels -= 1;
        } else if self.device.profile.cli.is_some() && self.mode == Mode::Shell {
            self.mode = Mode::Cli;
        } else {
            self.exit = true;
        }
    }

    /// `sh` with no script: one level deeper.
    pub(crate) fn nest(&mut self) {
        self.levels = (self.levels + 1).min(64);
    }
}

const EMPTY: Command = Command::Group {
    body: Script(Vec::new()),
    subshell: false,
    redirects: Vec::new(),
};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Terminal,
    Nowhere,
    File(Vec<u8>),
}

/// Bytes one command's expanded words may hold in all: Linux's `ARG_MAX` of old, as the
/// devices we answer as have it.
pub const MAX_ARGS: usize = 128 * 1024;

/// A field being built, within the bytes its command has left.
struct Capped<'a> {
    data: Vec<u8>,
    room: &'a mut usize,
}

impl Capped<'_> {
    fn extend_from_slice(&mut self, t: &[u8]) {
        let n = t.len().min(*self.room);
        self.data.extend_from_slice(&t[..n]);
        *self.room -= n;
    }

    fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.data)
    }
}

/// Lines of a loop's input, for `read`.
struct LineInput<'a> {
    rest: &'a [u8],
}

impl<'a> LineInput<'a> {
    fn new(data: &'a [u8]) -> Self {
        LineInput { rest: data }
    }

    fn next(&mut self) -> Option<Vec<u8>> {
        if self.rest.is_empty() {
            return None;
        }
        let end = self.rest.iter().position(|&b| b == b'\n');
        let (line, rest) = match end {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
            None => (self.rest, &b""[..]),
        };
        self.rest = rest;
        Some(line.to_vec())
    }
}

/// The downloads a parsed script asks for, as far as they can be known before it runs:
/// every simple command whose words have no expansions, in the order they would run
/// (commands in `$(…)` and backquotes before the command they stand in). Shared by
/// [`Shell::downloads_in`] and the HTTP service's exploit reader, so a command gives the
/// same downloads whichever way it came in.
pub(crate) fn requests_in(script: &Script, cwd: &[u8], f: &mut dyn FnMut(download::Request)) {
    visit_simple(script, &mut |s: &Simple| {
        let words: Option<Vec<Vec<u8>>> = s.words.iter().map(literal).collect();
        let Some(words) = words else { return };
        if let Some(r) = download::request(&words, cwd) {
            f(r);
        }
    });
}

/// A word's text when it has no expansions in it.
pub(crate) fn literal(w: &Word) -> Option<Vec<u8>> {
    let mut v = Vec::new();
    for p in &w.0 {
        match p {
            WordPart::Literal(t) | WordPart::Quoted(t) => v.extend_from_slice(t),
            WordPart::DoubleQuoted(inner) => {
                for q in inner {
                    match q {
                        WordPart::Literal(t) | WordPart::Quoted(t) => v.extend_from_slice(t),
                        _ => return None,
                    }
                }
            }
            _ => return None,
        }
    }
    Some(v)
}

/// Calls `f` on every simple command in `script`, loops and groups included, and the
/// commands of `$(…)` and backquotes in its words before the command they stand in (as
/// they would run). The parser's depth limit bounds the recursion.
pub(crate) fn visit_simple(script: &Script, f: &mut dyn FnMut(&Simple)) {
    for item in &script.0 {
        let a = &item.and_or;
        for p in std::iter::once(&a.first).chain(a.rest.iter().map(|(_, p)| p)) {
            for c in &p.commands {
                match c {
                    Command::Simple(s) => {
                        let words = s.assigns.iter().map(|(_, w)| w);
                        let words = words
                            .chain(&s.words)
                            .chain(s.redirects.iter().map(|r| &r.target));
                        for w in words {
                            visit_substitutions(&w.0, f);
                        }
                        f(s)
                    }
                    Command::For { items, body, .. } => {
                        for w in items.iter().flatten() {
                            visit_substitutions(&w.0, f);
                        }
                        visit_simple(body, f)
                    }
                    Command::Group { body, .. } => visit_simple(body, f),
                    Command::While { cond, body, .. } => {
                        visit_simple(cond, f);
                        visit_simple(body, f);
                    }
                    Command::If {
                        branches,
                        otherwise,
                        ..
                    } => {
                        for (c, b) in branches {
                            visit_simple(c, f);
                            visit_simple(b, f);
                        }
                        if let Some(o) = otherwise {
                            visit_simple(o, f);
                        }
                    }
                }
            }
        }
    }
}

/// [`visit_simple`] over the `$(…)` and backquoted commands in a word's parts.
fn visit_substitutions(parts: &[WordPart], f: &mut dyn FnMut(&Simple)) {
    for p in parts {
        match p {
            WordPart::CmdSubst(script) => visit_simple(script, f),
            WordPart::DoubleQuoted(inner) => visit_substitutions(inner, f),
            _ => {}
        }
    }
}

/// One element of a shell pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pat<'a> {
    Star,
    Any,
    Byte(u8),
    /// A `[…]` class: its body (without the brackets) and whether it is negated.
    Class(&'a [u8], bool),
}

impl Pat<'_> {
    fn matches(self, c: u8) -> bool {
        match self {
            Pat::Star | Pat::Any => true,
            Pat::Byte(b) => b == c,
            Pat::Class(body, negate) => {
                let mut found = false;
                let mut i = 0;
                while i < body.len() {
                    if i + 2 < body.len() && body[i + 1] == b'-' {
                        found |= (body[i]..=body[i + 2]).contains(&c);
                        i += 3;
                    } else {
                        found |= body[i] == c;
                        i += 1;
                    }
                }
                found != negate
            }
        }
    }
}

/// A pattern's elements, runs of `*` as one.
fn compile(pattern: &[u8]) -> Vec<Pat<'_>> {
    // Where the next `]` is from each position on: a class is found without looking
    // through the rest of the pattern again at every `[`.
    let mut close = vec![usize::MAX; pattern.len() + 1];
    for i in (0..pattern.len()).rev() {
        close[i] = if pattern[i] == b']' { i } else { close[i + 1] };
    }
    let mut out = Vec::new();
    let mut p = 0;
    while p < pattern.len() {
        let (item, len) = match pattern[p] {
            b'*' => (Pat::Star, 1),
            b'?' => (Pat::Any, 1),
            b'[' => match class(&pattern[p..], close.get(p + 2).map(|&c| c.wrapping_sub(p))) {
                Some((body, negate, len)) => (Pat::Class(body, negate), len),
                None => (Pat::Byte(b'['), 1),
            },
            c => (Pat::Byte(c), 1),
        };
        if !(item == Pat::Star && out.last() == Some(&Pat::Star)) {
            out.push(item);
        }
        p += len;
    }
    out
}

/// Shell pattern matching of `*`, `?` and `[…]`: the pattern is read once, a name shorter
/// than what the pattern needs fails at once, and at most one star is pending (no
/// backtracking blow-up), so the time stays within the name's length times its own.
#[cfg(test)]
pub(crate) fn wildcard(pattern: &[u8], name: &[u8]) -> bool {
    matches(&compile(pattern), name)
}

/// [`wildcard`] with the pattern read already.
fn matches(pat: &[Pat], name: &[u8]) -> bool {
    if pat.iter().filter(|p| **p != Pat::Star).count() > name.len() {
        return false;
    }
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pat.get(p) {
            Some(Pat::Star) => {
                star = Some((p, n));
                p += 1;
                continue;
            }
            Some(&item) if item.matches(name[n]) => {
                p += 1;
                n += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((sp, sn)) => {
                p = sp + 1;
                n = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    pat[p..].iter().all(|&b| b == Pat::Star)
}

/// A `[…]` class at the start of `pattern`, given where its first `]` after the one it may
/// begin with is: its body, whether it is negated, and its length with the brackets.
fn class(pattern: &[u8], end: Option<usize>) -> Option<(&[u8], bool, usize)> {
    let end = end.filter(|&e| e < pattern.len())?;
    let body = &pattern[1..end];
    Some(match body.first() {
        Some(b'!' | b'^') => (&body[1..], true, end + 1),
        _ => (body, false, end + 1),
    })
}

/// Bytes as text for messages.
pub(crate) fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn shell(limits: ShellLimits) -> Shell {
        let device = Device::new(Profile::builtin_named("busybox").unwrap().clone());
        Shell::new(device, limits)
    }

    fn run(sh: &mut Shell, line: &str) -> (Vec<u8>, Vec<ShellEvent>) {
        let (mut out, mut events) = (Vec::new(), Vec::new());
        sh.execute(line.as_bytes(), &mut out, &mut events);
        (out, events)
    }

    #[test]
    fn unknown_commands_in_a_loop_report_within_the_cap() {
        // `not_found` pushed its event past the cap, with the whole command line in it:
        // 10,000 commands of 16 KiB each in one line.
        let mut sh = shell(ShellLimits::default());
        run(&mut sh, "a=$(cat /bin/busybox)");
        let (_, events) = run(
            &mut sh,
            "for i in /bin/* /bin/* /bin/*; do for j in 1 2 3 4 5 6 7 8 9 10; do x$a$a; done; done",
        );
        assert!(events.len() <= MAX_EVENTS, "{} events", events.len());
        let bytes: usize = events
            .iter()
            .map(|e| match e {
                ShellEvent::NotFound(w) => w.len(),
                _ => 0,
            })
            .sum();
        assert!(bytes <= MAX_EVENT_BYTES, "{bytes} bytes of events");
        assert!(events.iter().all(|e| match e {
            ShellEvent::NotFound(w) => w.len() <= MAX_EVENT_TEXT,
            _ => true,
        }));
    }

    #[test]
    fn expansion_is_capped() {
        // `$a` repeated copied 4 KiB per reference into one word, for every command of a
        // loop.
        let mut sh = shell(ShellLimits::default());
        run(&mut sh, "a=$(cat /bin/busybox)");
        let line = format!("b=1; echo {}", "$a".repeat(1900));
        let t = Instant::now();
        let (out, _) = run(
            &mut sh,
            &format!("for i in 1 2 3 4 5 6 7 8; do {line}; done"),
        );
        assert!(out.len() <= 8 * (MAX_ARGS + 1));
        let words = sh.expand_words(
            &parse::parse(
                b"$a$a$a$a$a$a$a$a$a$a$a$a$a$a$a$a$a$a$a$a$a$a$a$a$a$a$a$a$a$a$a$a$a$a $a$a",
                &parse::Limits::default(),
            )
            .map(|s| match &s.0[0].and_or.first.commands[0] {
                Command::Simple(s) => s.words.clone(),
                _ => unreachable!(),
            })
            .unwrap(),
            &mut Io::new(1),
        );
        assert_eq!(words.iter().map(Vec::len).sum::<usize>(), MAX_ARGS);
        assert!(t.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn assignments_are_not_split() {
        // `a=$(uname -a)` came out empty: the value was split into fields, and more than
        // one field was taken as no value.
        let mut sh = shell(ShellLimits::default());
        let (out, _) = run(&mut sh, "a=$(echo 'x  y'); b=$a*; echo \"$a\" \"$b\"");
        assert_eq!(out, b"x  y x  y*\n");
    }

    #[test]
    fn globs_stay_linear() {
        assert!(wildcard(b"*.sh", b"x.sh"));
        assert!(wildcard(b"[a-c]?*", b"bzz"));
        assert!(!wildcard(b"[!a-c]*", b"bzz"));
        assert!(wildcard(b"[[]x", b"[x"));
        assert!(wildcard(b"[x", b"[x"));
        assert!(wildcard(b"a**b***", b"aXXb"));
        assert!(!wildcard(b"a*b", b"aXXc"));
        // Each `[` without a `]` was looked for again at every step of every retry.
        let pattern = [&b"*"[..], &b"[".repeat(60_000)].concat();
        let name = b"[".repeat(1000);
        let t = Instant::now();
        assert!(!wildcard(&pattern, &name));
        let pattern = [b"*".repeat(500), b"[".repeat(999), b"x".to_vec()].concat();
        assert!(!wildcard(&pattern, &name));
        assert!(t.elapsed() < Duration::from_secs(2));
    }
}
