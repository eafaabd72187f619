//! ash's builtins and BusyBox's applets, answering as the profile's device would. Each
//! takes its arguments (expanded), its input, and writes to the command's [`Io`]; it
//! returns the exit status.

use std::sync::Arc;

use crate::device::Profile;

use super::download;
use super::fs::{self, FsError, Node};
use super::{lossy, Io, Shell, ShellEvent};

/// The builtins of ash: they run whatever the applet list says. `None`: not a builtin.
pub(crate) fn builtin(
    sh: &mut Shell,
    name: &[u8],
    args: &[Vec<u8>],
    stdin: &[u8],
    io: &mut Io,
) -> Option<i32> {
    Some(match name {
        b"cd" => {
            let to = args.first().cloned().unwrap_or_else(|| b"/root".to_vec());
            match sh.cd(&to) {
                Ok(()) => 0,
                Err(e) => {
                    io.errf(format!(
                        "-sh: cd: can't cd to {}: {}\n",
                        lossy(&to),
                        e.text()
                    ));
                    2
                }
            }
        }
        b"pwd" => {
            io.out(&[sh.cwd(), b"\n"].concat());
            0
        }
        b"echo" => echo(args, io),
        b"printf" => printf(args, io),
        b"true" | b":" => 0,
        b"false" => 1,
        b"exit" | b"logout" | b"quit" => {
            sh.exit();
            0
        }
        b"export" | b"unset" | b"set" | b"ulimit" | b"umask" | b"trap" | b"wait" | b"hash" => 0,
        b"read" => 1,
        b"test" | b"[" | b"[[" => test(sh, name, args),
        b"kill" => kill(sh, args, io),
        b"eval" => sh.eval(&args.join(&b' '), io),
        b"." | b"source" => match args.first() {
            None => {
                io.err(b"-sh: .: filename argument required\n");
                2
            }
            Some(f) => source_file(sh, "-sh: .", f, &args[1..], io),
        },
        b"sh" | b"ash" | b"/bin/sh" | b"/bin/ash" => sh_command(sh, args, stdin, io),
        b"help" => {
            io.out(HELP.as_bytes());
            0
        }
        b"exec" => match args.split_first() {
            None => 0,
            Some(_) => return Some(sh.run_words(args, stdin, io)),
        },
        b"command" => return Some(sh.run_words(args, stdin, io)),
        b"type" | b"which" => {
            for a in args {
                let s = lossy(a);
                if sh.device().profile.has_applet(&s) {
                    io.out(format!("{s} is /bin/{s}\n").as_bytes());
                } else {
                    io.errf(format!("{s}: not found\n"));
                }
            }
            0
        }
        _ => return None,
    })
}

/// `sh`, `sh -c TEXT`, `sh FILE ARGS…`.
fn sh_command(sh: &mut Shell, args: &[Vec<u8>], stdin: &[u8], io: &mut Io) -> i32 {
    match args.first().map(Vec::as_slice) {
        None if stdin.is_empty() => {
            sh.nest();
            0
        }
        // `… | sh`: the input is the script.
        None => sh.source(b"sh", stdin, &[], io),
        Some(b"-c") => {
            let text = args.get(1).cloned().unwrap_or_default();
            sh.eval(&text, io)
        }
        Some(file) => source_file(sh, "sh", file, &args[1..], io),
    }
}

/// Runs the script in `file` with `args` (`. FILE`, `sh FILE`); `who` names the complaint
/// when it cannot be read.
fn source_file(sh: &mut Shell, who: &str, file: &[u8], args: &[Vec<u8>], io: &mut Io) -> i32 {
    match sh.fs.read(&fs::resolve(sh.cwd(), file)) {
        Ok(d) => sh.source(file, &d, args, io),
        Err(_) => {
            io.errf(format!("{who}: can't open '{}'\n", lossy(file)));
            2
        }
    }
}

/// `busybox …` or a link to it: the applet is the link's name, or for `busybox` itself
/// the first argument.
pub(crate) fn busybox(
    sh: &mut Shell,
    name: &[u8],
    args: &[Vec<u8>],
    stdin: &[u8],
    io: &mut Io,
) -> i32 {
    if name != b"busybox" {
        return applet_or_missing(sh, name, args, stdin, io);
    }
    let Some((applet, rest)) = args.split_first() else {
        io.out(usage(&sh.device().profile).as_bytes());
        return 0;
    };
    applet_or_missing(sh, applet, rest, stdin, io)
}

fn applet_or_missing(
    sh: &mut Shell,
    name: &[u8],
    args: &[Vec<u8>],
    stdin: &[u8],
    io: &mut Io,
) -> i32 {
    let known = sh.device().profile.has_applet(&lossy(name));
    if !known {
        // The answer Mirai's scanner and loader wait for.
        io.errf(format!("{}: applet not found\n", lossy(name)));
        return 127;
    }
    applet(sh, name, args, stdin, io)
}

/// What `busybox` alone prints: the banner, usage, and the applet list.
fn usage(p: &Profile) -> String {
    let mut s = format!(
        "{}\n\nUsage: busybox [function] [arguments]...\n   or: function [arguments]...\n\n\
         \tBusyBox is a multi-call binary that combines many common Unix\n\
         \tutilities into a single executable.  Most people will create a\n\
         \tlink to busybox for each function they wish to use and BusyBox\n\
         \twill act like whatever it was invoked as.\n\nCurrently defined functions:\n",
        p.busybox.banner.trim_end()
    );
    let mut line = String::from("\t");
    for a in &p.busybox.applets {
        if line.len() + a.len() + 2 > 78 {
            s.push_str(line.trim_end());
            s.push('\n');
            line = String::from("\t");
        }
        line.push_str(a);
        line.push_str(", ");
    }
    s.push_str(line.trim_end().trim_end_matches(','));
    s.push_str("\n\n");
    s
}

/// An applet by name (the profile has it).
pub(crate) fn applet(
    sh: &mut Shell,
    name: &[u8],
    args: &[Vec<u8>],
    stdin: &[u8],
    io: &mut Io,
) -> i32 {
    if let Some(status) = builtin(sh, name, args, stdin, io) {
        return status;
    }
    let p = sh.device().clone();
    let p = &p.profile;
    match name {
        b"cat" => cat(sh, args, stdin, io),
        b"cp" => copy_or_move(sh, "cp", args, io, false),
        b"mv" => copy_or_move(sh, "mv", args, io, true),
        b"rm" => rm(sh, args, io),
        b"rmdir" => each_path(sh, "rmdir", args, io, |sh, p| sh.fs.rmdir(p)),
        b"mkdir" => {
            let parents = args
                .iter()
                .any(|a| a.starts_with(b"-") && a.contains(&b'p'));
            each_path(sh, "mkdir", args, io, |sh, p| sh.fs.mkdir(p, parents))
        }
        b"touch" => each_path(sh, "touch", args, io, |sh, p| match sh.fs.get(p) {
            Some(_) => Ok(()),
            None => sh.fs.write(p, b"", false),
        }),
        b"chmod" => chmod(sh, args, io),
        b"chown" | b"chgrp" | b"sync" | b"sleep" | b"usleep" | b"killall" | b"pkill" => 0,
        b"ls" => ls(sh, args, io),
        b"dd" => dd(sh, args, stdin, io),
        b"head" => head(sh, args, stdin, io),
        b"ps" => {
            io.out(p.ps.as_bytes());
            0
        }
        b"uname" => uname(p, args, io),
        b"free" => {
            io.out(p.free.as_bytes());
            0
        }
        b"df" => {
            io.out(p.df.as_bytes());
            0
        }
        b"mount" if args.is_empty() => {
            io.out(p.proc.mounts.as_bytes());
            0
        }
        b"mount" => {
            io.err(b"mount: permission denied (are you root?)\n");
            1
        }
        b"nproc" => {
            let n = p
                .proc
                .cpuinfo
                .lines()
                .filter(|l| l.starts_with("processor"))
                .count()
                .max(1);
            io.out(format!("{n}\n").as_bytes());
            0
        }
        b"hostname" => {
            io.out(format!("{}\n", p.hostname).as_bytes());
            0
        }
        b"id" => {
            io.out(b"uid=0(root) gid=0(root)\n");
            0
        }
        b"whoami" => {
            io.out(format!("{}\n", p.user).as_bytes());
            0
        }
        b"uptime" => {
            io.out(b" 00:13:37 up 3 days,  4:02, load average: 0.08, 0.11, 0.09\n");
            0
        }
        b"grep" => grep(sh, args, stdin, io),
        b"wget" | b"tftp" | b"ftpget" => download(sh, name, args, io),
        b"nc" | b"telnet" => {
            let host = args.iter().find(|a| !a.starts_with(b"-"));
            match host {
                Some(h) => io.errf(format!(
                    "{}: can't connect to remote host ({}): Connection refused\n",
                    lossy(name),
                    lossy(h)
                )),
                None => io.errf(format!("BusyBox {}: usage error\n", lossy(name))),
            }
            1
        }
        b"reboot" | b"poweroff" | b"halt" => 0,
        b"sh" | b"ash" => sh_command(sh, args, stdin, io),
        // Applets the profile lists that we do not emulate: they run and say nothing.
        _ => 0,
    }
}

/// A program outside BusyBox (the profile's `programs`).
pub(crate) fn program(
    sh: &mut Shell,
    name: &[u8],
    args: &[Vec<u8>],
    _stdin: &[u8],
    io: &mut Io,
) -> i32 {
    match name {
        b"curl" => download(sh, name, args, io),
        _ => 0,
    }
}

fn echo(args: &[Vec<u8>], io: &mut Io) -> i32 {
    let (mut newline, mut escapes) = (true, false);
    let mut rest = args;
    while let Some((a, tail)) = rest.split_first() {
        let flags = a
            .strip_prefix(b"-")
            .filter(|f| !f.is_empty() && f.iter().all(|c| matches!(c, b'n' | b'e' | b'E')));
        let Some(flags) = flags else { break };
        for f in flags {
            match f {
                b'n' => newline = false,
                b'e' => escapes = true,
                _ => escapes = false,
            }
        }
        rest = tail;
    }
    let mut out = Vec::new();
    for (i, a) in rest.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        if escapes {
            if unescape(a, &mut out) {
                io.out(&out);
                return 0;
            }
        } else {
            out.extend_from_slice(a);
        }
    }
    if newline {
        out.push(b'\n');
    }
    io.out(&out);
    0
}

/// `echo -e`'s escapes: `\xHH`, `\0NNN` and `\NNN` octal, `\n` and friends. True at `\c`
/// (stop printing).
pub(crate) fn unescape(s: &[u8], out: &mut Vec<u8>) -> bool {
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' || i + 1 == s.len() {
            out.push(s[i]);
            i += 1;
            continue;
        }
        let c = s[i + 1];
        i += 2;
        let simple = match c {
            b'a' => Some(7),
            b'b' => Some(8),
            b'e' => Some(27),
            b'f' => Some(12),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'v' => Some(11),
            b'\\' => Some(b'\\'),
            _ => None,
        };
        if let Some(b) = simple {
            out.push(b);
            continue;
        }
        match c {
            b'c' => return true,
            b'x' => {
                let digits: Vec<u8> = s[i..]
                    .iter()
                    .take(2)
                    .take_while(|b| b.is_ascii_hexdigit())
                    .copied()
                    .collect();
                if digits.is_empty() {
                    out.extend_from_slice(b"\\x");
                } else {
                    let v = u8::from_str_radix(std::str::from_utf8(&digits).unwrap_or("0"), 16)
                        .unwrap_or(0);
                    out.push(v);
                    i += digits.len();
                }
            }
            b'0'..=b'7' => {
                // `\0NNN` takes up to three digits after the 0; `\NNN` up to three in all.
                let (start, max) = if c == b'0' { (i, 3) } else { (i - 1, 3) };
                let digits: Vec<u8> = s[start..]
                    .iter()
                    .take(max)
                    .take_while(|b| (b'0'..=b'7').contains(b))
                    .copied()
                    .collect();
                let v = digits.iter().fold(0u32, |v, d| v * 8 + u32::from(d - b'0'));
                out.push(v as u8);
                i = start + digits.len();
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    false
}

/// `printf FORMAT ARGS…`: escapes as `echo -e`, `%s`, `%d`, `%c`, `%%`.
fn printf(args: &[Vec<u8>], io: &mut Io) -> i32 {
    let Some((format, rest)) = args.split_first() else {
        io.err(b"printf: usage: printf FORMAT [ARGUMENT...]\n");
        return 1;
    };
    let mut expanded = Vec::new();
    unescape(format, &mut expanded);
    let mut args = rest.iter();
    let mut out = Vec::new();
    let mut i = 0;
    while i < expanded.len() {
        if expanded[i] == b'%' && i + 1 < expanded.len() {
            match expanded[i + 1] {
                b'%' => out.push(b'%'),
                b's' | b'b' => {
                    out.extend_from_slice(args.next().map(Vec::as_slice).unwrap_or_default())
                }
                b'd' | b'i' | b'u' => {
                    let n: i64 = args
                        .next()
                        .and_then(|a| std::str::from_utf8(a).ok()?.trim().parse().ok())
                        .unwrap_or(0);
                    out.extend_from_slice(n.to_string().as_bytes());
                }
                b'c' => out.extend(args.next().and_then(|a| a.first().copied())),
                other => out.extend_from_slice(&[b'%', other]),
            }
            i += 2;
        } else {
            out.push(expanded[i]);
            i += 1;
        }
    }
    io.out(&out);
    0
}

fn cat(sh: &mut Shell, args: &[Vec<u8>], stdin: &[u8], io: &mut Io) -> i32 {
    let files: Vec<&Vec<u8>> = args.iter().filter(|a| !is_flag(a)).collect();
    if files.is_empty() {
        io.out(stdin);
        return 0;
    }
    let mut status = 0;
    for f in files {
        if f.as_slice() == b"-" {
            io.out(stdin);
            continue;
        }
        match sh.fs.read(&fs::resolve(sh.cwd(), f)) {
            Ok(d) => io.out(&d),
            Err(e) => {
                io.errf(format!("cat: can't open '{}': {}\n", lossy(f), e.text()));
                status = 1;
            }
        }
    }
    status
}

fn is_flag(a: &[u8]) -> bool {
    a.len() > 1 && a[0] == b'-'
}

/// `cp SRC… DST` and `mv SRC… DST`: into DST when it is a directory.
fn copy_or_move(sh: &mut Shell, tool: &str, args: &[Vec<u8>], io: &mut Io, mv: bool) -> i32 {
    let paths: Vec<&Vec<u8>> = args.iter().filter(|a| !is_flag(a)).collect();
    let Some((dst, srcs)) = paths.split_last() else {
        io.errf(format!("BusyBox {tool}: missing file operand\n"));
        return 1;
    };
    if srcs.is_empty() {
        io.errf(format!(
            "{tool}: missing destination file operand after '{}'\n",
            lossy(dst)
        ));
        return 1;
    }
    let dst_abs = fs::resolve(sh.cwd(), dst);
    let into_dir = sh.fs.is_dir(&dst_abs);
    let mut status = 0;
    for src in srcs {
        let from = fs::resolve(sh.cwd(), src);
        let to = if into_dir {
            fs::join(&dst_abs, fs::file_name(&from))
        } else {
            dst_abs.clone()
        };
        let r = if mv {
            sh.fs.rename(&from, &to)
        } else if sh.fs.is_dir(&from) {
            Err(FsError::IsDir)
        } else {
            sh.fs.copy(&from, &to)
        };
        if let Err(e) = r {
            let what = if matches!(e, FsError::NotFound) && sh.fs.get(&from).is_none() {
                format!("{tool}: can't stat '{}': {}\n", lossy(src), e.text())
            } else {
                format!("{tool}: can't create '{}': {}\n", lossy(dst), e.text())
            };
            io.errf(what);
            status = 1;
        }
    }
    status
}

fn rm(sh: &mut Shell, args: &[Vec<u8>], io: &mut Io) -> i32 {
    let flags: Vec<u8> = args
        .iter()
        .filter(|a| is_flag(a))
        .flat_map(|a| a[1..].to_vec())
        .collect();
    let (recursive, force) = (
        flags.iter().any(|f| matches!(f, b'r' | b'R')),
        flags.contains(&b'f'),
    );
    let mut status = 0;
    for a in args.iter().filter(|a| !is_flag(a)) {
        let path = fs::resolve(sh.cwd(), a);
        if let Err(e) = sh.fs.remove(&path, recursive) {
            if force && e == FsError::NotFound {
                continue;
            }
            io.errf(format!("rm: can't remove '{}': {}\n", lossy(a), e.text()));
            status = 1;
        }
    }
    status
}

fn each_path(
    sh: &mut Shell,
    tool: &str,
    args: &[Vec<u8>],
    io: &mut Io,
    mut f: impl FnMut(&mut Shell, &[u8]) -> Result<(), FsError>,
) -> i32 {
    let mut status = 0;
    for a in args.iter().filter(|a| !is_flag(a)) {
        let path = fs::resolve(sh.cwd(), a);
        if let Err(e) = f(sh, &path) {
            io.errf(format!(
                "{tool}: can't create '{}': {}\n",
                lossy(a),
                e.text()
            ));
            status = 1;
        }
    }
    status
}

fn chmod(sh: &mut Shell, args: &[Vec<u8>], io: &mut Io) -> i32 {
    let mut rest = args.iter().filter(|a| a.as_slice() != b"-R");
    let Some(mode) = rest.next() else {
        io.err(b"BusyBox chmod: missing operand\n");
        return 1;
    };
    let mut status = 0;
    for f in rest {
        let path = fs::resolve(sh.cwd(), f);
        let Some(old) = sh.fs.get(&path).map(Node::mode) else {
            io.errf(format!("chmod: {}: No such file or directory\n", lossy(f)));
            status = 1;
            continue;
        };
        let Some(new) = parse_mode(mode, old) else {
            io.errf(format!("chmod: invalid mode '{}'\n", lossy(mode)));
            return 1;
        };
        if let Err(e) = sh.fs.chmod(&path, new) {
            io.errf(format!("chmod: {}: {}\n", lossy(f), e.text()));
            status = 1;
        }
    }
    status
}

/// An octal mode, or a symbolic one (`+x`, `u+rwx`, `a-w`, `=rw`).
fn parse_mode(m: &[u8], old: u32) -> Option<u32> {
    if !m.is_empty() && m.iter().all(|b| (b'0'..=b'7').contains(b)) && m.len() <= 4 {
        return u32::from_str_radix(std::str::from_utf8(m).ok()?, 8).ok();
    }
    let mut mode = old;
    for clause in m.split(|&b| b == b',') {
        let op_at = clause
            .iter()
            .position(|b| matches!(b, b'+' | b'-' | b'='))?;
        let (who, rest) = clause.split_at(op_at);
        let mut mask = 0;
        for w in who {
            mask |= match w {
                b'u' => 0o700,
                b'g' => 0o070,
                b'o' => 0o007,
                b'a' => 0o777,
                _ => return None,
            };
        }
        if who.is_empty() {
            mask = 0o777;
        }
        let mut bits = 0;
        for p in &rest[1..] {
            bits |= match p {
                b'r' => 0o444,
                b'w' => 0o222,
                b'x' => 0o111,
                _ => return None,
            };
        }
        match rest[0] {
            b'+' => mode |= bits & mask,
            b'-' => mode &= !(bits & mask),
            _ => mode = (mode & !mask) | (bits & mask),
        }
    }
    Some(mode)
}

fn ls(sh: &mut Shell, args: &[Vec<u8>], io: &mut Io) -> i32 {
    let flags: Vec<u8> = args
        .iter()
        .filter(|a| is_flag(a))
        .flat_map(|a| a[1..].to_vec())
        .collect();
    let (long, all) = (flags.contains(&b'l'), flags.contains(&b'a'));
    let mut paths: Vec<Vec<u8>> = args.iter().filter(|a| !is_flag(a)).cloned().collect();
    if paths.is_empty() {
        paths.push(b".".to_vec());
    }
    let mut status = 0;
    let many = paths.len() > 1;
    for p in &paths {
        let abs = fs::resolve(sh.cwd(), p);
        let entries: Vec<(Vec<u8>, Node)> = match sh.fs.get(&abs) {
            None => {
                io.errf(format!("ls: {}: No such file or directory\n", lossy(p)));
                status = 1;
                continue;
            }
            Some(n) if !n.is_dir() => vec![(p.clone(), n.clone())],
            Some(_) => {
                if many {
                    io.out(format!("{}:\n", lossy(p)).as_bytes());
                }
                sh.fs.list(&abs).unwrap_or_default()
            }
        };
        let shown = entries
            .into_iter()
            .filter(|(n, _)| all || n.first() != Some(&b'.'));
        let mut line = Vec::new();
        for (name, node) in shown {
            if long {
                io.out(long_entry(&name, &node).as_bytes());
            } else {
                line.extend_from_slice(&name);
                line.push(b'\n');
            }
        }
        io.out(&line);
    }
    status
}

fn long_entry(name: &[u8], node: &Node) -> String {
    let mode = node.mode();
    let kind = match node {
        Node::Dir { .. } => 'd',
        Node::Null => 'c',
        Node::File { .. } => '-',
    };
    let mut perms = String::new();
    for shift in [6, 3, 0] {
        let m = (mode >> shift) & 7;
        perms.push(if m & 4 != 0 { 'r' } else { '-' });
        perms.push(if m & 2 != 0 { 'w' } else { '-' });
        perms.push(if m & 1 != 0 { 'x' } else { '-' });
    }
    format!(
        "{kind}{perms}    1 root     root     {:>9} Jan  1 00:00 {}\n",
        node.size(),
        lossy(name)
    )
}

/// `dd if= of= bs= count= skip= seek=`, with BusyBox's record report on stderr.
fn dd(sh: &mut Shell, args: &[Vec<u8>], stdin: &[u8], io: &mut Io) -> i32 {
    let (mut input, mut output, mut bs, mut count, mut skip) =
        (None, None, 512usize, None::<usize>, 0usize);
    for a in args {
        let Some(eq) = a.iter().position(|&b| b == b'=') else {
            io.errf(format!("dd: invalid argument '{}'\n", lossy(a)));
            return 1;
        };
        let (k, v) = (&a[..eq], &a[eq + 1..]);
        match k {
            b"if" => input = Some(v.to_vec()),
            b"of" => output = Some(v.to_vec()),
            b"bs" | b"ibs" | b"obs" => bs = size(v).unwrap_or(512).clamp(1, 1 << 20),
            b"count" => count = size(v),
            b"skip" => skip = size(v).unwrap_or(0),
            _ => {}
        }
    }
    let data: Arc<[u8]> = match &input {
        None => Arc::from(stdin),
        Some(f) => match sh.fs.read(&fs::resolve(sh.cwd(), f)) {
            Ok(d) => d,
            Err(e) => {
                io.errf(format!("dd: can't open '{}': {}\n", lossy(f), e.text()));
                return 1;
            }
        },
    };
    let start = skip.saturating_mul(bs).min(data.len());
    let end = match count {
        Some(c) => start.saturating_add(c.saturating_mul(bs)).min(data.len()),
        None => data.len(),
    };
    let chunk = &data[start..end];
    match &output {
        None => io.out(chunk),
        Some(f) => {
            if let Err(e) = sh.fs.write(&fs::resolve(sh.cwd(), f), chunk, false) {
                io.errf(format!("dd: can't open '{}': {}\n", lossy(f), e.text()));
                return 1;
            }
        }
    }
    let (full, partial) = (
        chunk.len() / bs,
        usize::from(!chunk.len().is_multiple_of(bs)),
    );
    io.errf(format!(
        "{full}+{partial} records in\n{full}+{partial} records out\n{} bytes ({}) copied, 0.000412 seconds, {}/s\n",
        chunk.len(),
        human(chunk.len()),
        human(chunk.len() * 2427)
    ));
    0
}

/// `512`, `1k`, `2M`, `4b` (blocks of 512).
fn size(v: &[u8]) -> Option<usize> {
    let s = std::str::from_utf8(v).ok()?;
    let (num, mult) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1024),
        'M' => (&s[..s.len() - 1], 1 << 20),
        'b' => (&s[..s.len() - 1], 512),
        _ => (s, 1),
    };
    num.parse::<usize>().ok()?.checked_mul(mult)
}

fn human(n: usize) -> String {
    if n < 1024 {
        format!("{n}B")
    } else if n < 1 << 20 {
        format!("{:.1}KB", n as f64 / 1024.0)
    } else {
        format!("{:.1}MB", n as f64 / 1048576.0)
    }
}

fn head(sh: &mut Shell, args: &[Vec<u8>], stdin: &[u8], io: &mut Io) -> i32 {
    let (mut lines, mut bytes) = (Some(10usize), None::<usize>);
    let mut files = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let num = |v: Option<&Vec<u8>>| v.and_then(|v| size(v));
        match a.as_slice() {
            b"-n" => lines = num(it.next()),
            b"-c" => {
                bytes = num(it.next());
                lines = None;
            }
            o if o.starts_with(b"-n") => lines = size(&o[2..]),
            o if o.starts_with(b"-c") => {
                bytes = size(&o[2..]);
                lines = None;
            }
            o if o.starts_with(b"-") && o[1..].iter().all(u8::is_ascii_digit) && o.len() > 1 => {
                lines = size(&o[1..])
            }
            f => files.push(f.to_vec()),
        }
    }
    let mut inputs: Vec<Arc<[u8]>> = Vec::new();
    if files.is_empty() {
        inputs.push(Arc::from(stdin));
    }
    for f in &files {
        match sh.fs.read(&fs::resolve(sh.cwd(), f)) {
            Ok(d) => inputs.push(d),
            Err(e) => {
                io.errf(format!("head: can't open '{}': {}\n", lossy(f), e.text()));
                return 1;
            }
        }
    }
    for d in inputs {
        match (bytes, lines) {
            (Some(b), _) => io.out(&d[..b.min(d.len())]),
            (None, Some(n)) => {
                let end = d
                    .iter()
                    .enumerate()
                    .filter(|(_, &b)| b == b'\n')
                    .nth(n.saturating_sub(1))
                    .map_or(d.len(), |(i, _)| i + 1);
                io.out(if n == 0 { &[] } else { &d[..end] });
            }
            (None, None) => io.out(&d),
        }
    }
    0
}

fn grep(sh: &mut Shell, args: &[Vec<u8>], stdin: &[u8], io: &mut Io) -> i32 {
    let flags: Vec<u8> = args
        .iter()
        .filter(|a| is_flag(a))
        .flat_map(|a| a[1..].to_vec())
        .collect();
    let mut rest = args.iter().filter(|a| !is_flag(a));
    let Some(pattern) = rest.next() else {
        io.err(b"BusyBox grep: missing pattern\n");
        return 2;
    };
    let files: Vec<&Vec<u8>> = rest.collect();
    let data: Arc<[u8]> = match files.first() {
        None => Arc::from(stdin),
        Some(f) => match sh.fs.read(&fs::resolve(sh.cwd(), f)) {
            Ok(d) => d,
            Err(e) => {
                io.errf(format!("grep: {}: {}\n", lossy(f), e.text()));
                return 2;
            }
        },
    };
    let (invert, icase, count) = (
        flags.contains(&b'v'),
        flags.contains(&b'i'),
        flags.contains(&b'c'),
    );
    let fold = |b: &[u8]| -> Vec<u8> {
        if icase {
            b.to_ascii_lowercase()
        } else {
            b.to_vec()
        }
    };
    let pat = Needle::new(fold(pattern));
    let mut n = 0;
    for line in data.split(|&b| b == b'\n') {
        let hit = pat.found_in(&fold(line));
        if hit != invert && !(line.is_empty() && data.ends_with(b"\n")) {
            n += 1;
            if !count {
                io.out(&[line, b"\n"].concat());
            }
        }
    }
    if count {
        io.out(format!("{n}\n").as_bytes());
    }
    i32::from(n == 0)
}

/// A fixed string to look for in linear time (Knuth–Morris–Pratt): a long pattern of
/// zeros over a long line of zeros must not compare each window in full.
struct Needle {
    pat: Vec<u8>,
    /// For each prefix, the length of its longest proper prefix that is also its suffix.
    fail: Vec<usize>,
}

impl Needle {
    fn new(pat: Vec<u8>) -> Needle {
        let mut fail = vec![0; pat.len()];
        let mut k = 0;
        for i in 1..pat.len() {
            while k > 0 && pat[i] != pat[k] {
                k = fail[k - 1];
            }
            if pat[i] == pat[k] {
                k += 1;
            }
            fail[i] = k;
        }
        Needle { pat, fail }
    }

    fn found_in(&self, hay: &[u8]) -> bool {
        if self.pat.is_empty() {
            return true;
        }
        let mut k = 0;
        for &b in hay {
            while k > 0 && b != self.pat[k] {
                k = self.fail[k - 1];
            }
            if b == self.pat[k] {
                k += 1;
                if k == self.pat.len() {
                    return true;
                }
            }
        }
        false
    }
}

fn uname(p: &Profile, args: &[Vec<u8>], io: &mut Io) -> i32 {
    let flags: Vec<u8> = args
        .iter()
        .filter(|a| is_flag(a))
        .flat_map(|a| a[1..].to_vec())
        .collect();
    let all = flags.contains(&b'a');
    let mut parts: Vec<&str> = Vec::new();
    let want = |c: u8| all || flags.contains(&c);
    if want(b's') || flags.is_empty() {
        parts.push(&p.uname.sysname);
    }
    if want(b'n') {
        parts.push(&p.hostname);
    }
    if want(b'r') {
        parts.push(&p.uname.release);
    }
    if want(b'v') {
        parts.push(&p.uname.version);
    }
    if want(b'm') {
        parts.push(&p.uname.machine);
    }
    if all {
        parts.push("GNU/Linux");
    }
    io.out(format!("{}\n", parts.join(" ")).as_bytes());
    0
}

/// ash's `kill`: PIDs in the profile's `ps` exist; others do not.
fn kill(sh: &mut Shell, args: &[Vec<u8>], io: &mut Io) -> i32 {
    let p = sh.device().clone();
    let pids: Vec<&str> = p
        .profile
        .ps
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let mut status = 0;
    for a in args
        .iter()
        .filter(|a| !a.starts_with(b"-") && !a.starts_with(b"%"))
    {
        let s = lossy(a);
        if !pids.contains(&s.as_ref()) {
            io.errf(format!("-sh: kill: can't kill pid {s}: No such process\n"));
            status = 1;
        }
    }
    status
}

fn test(sh: &mut Shell, name: &[u8], args: &[Vec<u8>]) -> i32 {
    let mut args: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
    if name != b"test" && args.last().is_some_and(|a| *a == b"]" || *a == b"]]") {
        args.pop();
    }
    let (negate, args) = match args.split_first() {
        Some((&b"!", rest)) => (true, rest.to_vec()),
        _ => (false, args),
    };
    let ok = match args.as_slice() {
        [] => false,
        [s] => !s.is_empty(),
        [op, path] if op.len() == 2 && op[0] == b'-' => {
            let node = sh.fs.get(&fs::resolve(sh.cwd(), path));
            match op[1] {
                b'e' => node.is_some(),
                b'f' => node.is_some_and(|n| !n.is_dir()),
                b'd' => node.is_some_and(Node::is_dir),
                b's' => node.is_some_and(|n| n.size() > 0),
                b'x' => node.is_some_and(|n| n.mode() & 0o111 != 0),
                b'r' | b'w' => node.is_some(),
                b'z' => path.is_empty(),
                b'n' => !path.is_empty(),
                _ => false,
            }
        }
        [a, op, b] => {
            let num = |v: &[u8]| -> i64 {
                std::str::from_utf8(v)
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(0)
            };
            match *op {
                b"=" | b"==" => a == b,
                b"!=" => a != b,
                b"-eq" => num(a) == num(b),
                b"-ne" => num(a) != num(b),
                b"-lt" => num(a) < num(b),
                b"-le" => num(a) <= num(b),
                b"-gt" => num(a) > num(b),
                b"-ge" => num(a) >= num(b),
                _ => false,
            }
        }
        _ => false,
    };
    i32::from(ok == negate)
}

/// `wget`, `curl`, `tftp`, `ftpget`: the download is an event; the file arrives only if
/// the operator's fetcher got it before the line ran. Otherwise the tool fails the way it
/// does when its server does not answer.
fn download(sh: &mut Shell, name: &[u8], args: &[Vec<u8>], io: &mut Io) -> i32 {
    let mut words = vec![name.to_vec()];
    words.extend_from_slice(args);
    let Some(req) = download::request(&words, sh.cwd()) else {
        return download_usage(name, io);
    };
    sh.event(ShellEvent::Download(req.clone()));
    let url = &req.url;
    let host = url.host.clone();
    let Some(data) = sh.fetched(url) else {
        io.errf(match req.tool {
            "wget" => format!(
                "Connecting to {host} ({host}:{})\nwget: can't connect to remote host ({host}): Connection refused\n",
                url.port
            ),
            "curl" => format!(
                "curl: (7) Failed to connect to {host} port {}: Connection refused\n",
                url.port
            ),
            "tftp" => "tftp: timeout\n".to_string(),
            _ => format!("ftpget: can't connect to remote host ({host}): Connection refused\n"),
        });
        return 1;
    };
    let Some(dest) = &req.dest else {
        io.out(&data);
        return 0;
    };
    if let Err(e) = sh.fs.write(dest, &data, false) {
        io.errf(format!(
            "{}: can't open '{}': {}\n",
            req.tool,
            lossy(dest),
            e.text()
        ));
        return 1;
    }
    if req.tool == "wget" {
        let file = lossy(fs::file_name(dest)).into_owned();
        io.errf(format!(
            "Connecting to {host} ({host}:{})\nsaving to '{file}'\n{file:<20} 100% |********************************| {:>6}  0:00:00 ETA\n'{file}' saved\n",
            url.port,
            data.len()
        ));
    }
    0
}

fn download_usage(name: &[u8], io: &mut Io) -> i32 {
    let text = match name {
        b"wget" => "BusyBox wget: missing URL\n",
        b"tftp" => "BusyBox tftp: usage: tftp [OPTIONS] HOST [PORT]\n",
        b"ftpget" => "BusyBox ftpget: usage: ftpget [OPTIONS] HOST [LOCAL_FILE] REMOTE_FILE\n",
        _ => "curl: try 'curl --help' or 'curl --manual' for more information\n",
    };
    io.err(text.as_bytes());
    1
}

/// `$((…))`: integers with `+ - * / %` and parentheses, left to right within a level;
/// anything else is 0.
pub(crate) fn arith(sh: &Shell, text: &[u8]) -> i64 {
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < text.len() && tokens.len() < 256 {
        let c = text[i];
        if c.is_ascii_digit() {
            let start = i;
            while i < text.len() && text[i].is_ascii_digit() {
                i += 1;
            }
            let n = std::str::from_utf8(&text[start..i])
                .ok()
                .and_then(|s| s.parse().ok());
            tokens.push(Tok::Num(n.unwrap_or(0)));
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' || c == b'$' {
            let start = if c == b'$' { i + 1 } else { i };
            i = start;
            while i < text.len() && (text[i].is_ascii_alphanumeric() || text[i] == b'_') {
                i += 1;
            }
            let v = sh.var(&text[start..i]);
            let n = std::str::from_utf8(&v)
                .ok()
                .and_then(|s| s.trim().parse().ok());
            tokens.push(Tok::Num(n.unwrap_or(0)));
            continue;
        }
        if b"+-*/%()".contains(&c) {
            tokens.push(Tok::Op(c));
        }
        i += 1;
    }
    let mut pos = 0;
    expr(&tokens, &mut pos, 0)
}

#[derive(Clone, Copy)]
enum Tok {
    Num(i64),
    Op(u8),
}

fn expr(t: &[Tok], pos: &mut usize, depth: usize) -> i64 {
    let mut v = term(t, pos, depth);
    while let Some(Tok::Op(op @ (b'+' | b'-'))) = t.get(*pos) {
        *pos += 1;
        let r = term(t, pos, depth);
        v = if *op == b'+' {
            v.wrapping_add(r)
        } else {
            v.wrapping_sub(r)
        };
    }
    v
}

fn term(t: &[Tok], pos: &mut usize, depth: usize) -> i64 {
    let mut v = atom(t, pos, depth);
    while let Some(Tok::Op(op @ (b'*' | b'/' | b'%'))) = t.get(*pos) {
        *pos += 1;
        let r = atom(t, pos, depth);
        v = match op {
            b'*' => v.wrapping_mul(r),
            _ if r == 0 => 0,
            b'/' => v.wrapping_div(r),
            _ => v.wrapping_rem(r),
        };
    }
    v
}

fn atom(t: &[Tok], pos: &mut usize, depth: usize) -> i64 {
    match t.get(*pos) {
        Some(Tok::Num(n)) => {
            *pos += 1;
            *n
        }
        Some(Tok::Op(b'-')) => {
            *pos += 1;
            atom(t, pos, depth).wrapping_neg()
        }
        Some(Tok::Op(b'(')) if depth < 32 => {
            *pos += 1;
            let v = expr(t, pos, depth + 1);
            if let Some(Tok::Op(b')')) = t.get(*pos) {
                *pos += 1;
            }
            v
        }
        _ => {
            *pos += 1;
            0
        }
    }
}

/// `/proc/version`'s line for a profile.
pub(crate) fn kernel_version(p: &Profile) -> String {
    format!(
        "{} version {} (root@{}) (gcc version 4.8.3) {}\n",
        p.uname.sysname, p.uname.release, p.hostname, p.uname.version
    )
}

/// What ash prints when the vendor CLI hands over to it.
pub(crate) fn shell_banner(p: &Profile) -> String {
    let version = p
        .busybox
        .banner
        .split(" multi-call")
        .next()
        .unwrap_or("BusyBox")
        .trim_end_matches('.');
    format!("\n\n{version} built-in shell (ash)\nEnter 'help' for a list of built-in commands.\n\n")
}

/// The login shell's PID (`$$`): the last process of the profile's `ps`, plus one.
pub(crate) fn shell_pid(p: &Profile) -> u32 {
    p.ps.lines()
        .filter_map(|l| l.split_whitespace().next()?.parse::<u32>().ok())
        .max()
        .map_or(1234, |m| m + 1)
}

const HELP: &str = "\nBuilt-in commands:\n------------------\n\t. : [ [[ alias bg break cd chdir command continue echo eval exec\n\texit export false fg getopts hash help history jobs kill let\n\tlocal printf pwd read readonly return set shift source test times\n\ttrap true type ulimit umask unalias unset wait\n\n";

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(s: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        unescape(s, &mut out);
        out
    }

    #[test]
    fn echo_escapes() {
        assert_eq!(esc(br"\x6b\x61\x6d\x69"), b"kami");
        assert_eq!(esc(br"\x7fELF\x01"), b"\x7fELF\x01");
        assert_eq!(esc(br"\0101\101\n"), b"AA\n");
        assert_eq!(esc(br"a\tb\\c"), b"a\tb\\c");
        assert_eq!(esc(br"\xZ"), b"\\xZ");
        assert_eq!(esc(br"\0"), b"\0");
        assert_eq!(esc(b"end\\"), b"end\\");
    }

    #[test]
    fn modes() {
        assert_eq!(parse_mode(b"777", 0o644), Some(0o777));
        assert_eq!(parse_mode(b"+x", 0o644), Some(0o755));
        assert_eq!(parse_mode(b"u+x,go-r", 0o644), Some(0o700));
        assert_eq!(parse_mode(b"a=rw", 0o755), Some(0o666));
        assert_eq!(parse_mode(b"zz", 0o644), None);
    }

    #[test]
    fn grep_finds_substrings_in_linear_time() {
        let find = |p: &[u8], h: &[u8]| Needle::new(p.to_vec()).found_in(h);
        assert!(find(b"", b""));
        assert!(find(b"abc", b"xxabcxx"));
        assert!(find(b"aab", b"aaab"));
        assert!(find(b"abab", b"abaabab"));
        assert!(!find(b"abc", b"ab"));
        assert!(!find(b"abd", b"abcabc"));
        // Comparing every window in full took 64K × 1M steps here.
        let mut pat = vec![0u8; 64 * 1024];
        pat.push(b'x');
        let hay = vec![0u8; 1 << 20];
        let t = std::time::Instant::now();
        assert!(!find(&pat, &hay));
        assert!(t.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn sizes() {
        assert_eq!(size(b"1k"), Some(1024));
        assert_eq!(size(b"2b"), Some(1024));
        assert_eq!(size(b"x"), None);
    }
}
