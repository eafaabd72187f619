//! The session's filesystem: the device profile's files, shared read-only by every session
//! of that profile, under a per-session copy-on-write layer with a size cap.
//!
//! Paths are bytes, absolute and normalised ([`resolve`]). Read-only mounts (from the
//! profile's `/proc/mounts`) refuse writes as a squashfs root would, which is what tells a
//! loader where it can drop its binary. Every file the session writes is remembered, with
//! the last content it had, so that a dropper written and then removed is still captured
//! ([`Fs::written`]).

use std::collections::BTreeMap;
use std::sync::Arc;

/// The longest path kept; longer ones are an error (`File name too long`).
pub const MAX_PATH: usize = 1024;

/// What each entry of the session's own costs against its cap besides its path and
/// content: an empty file or a directory still takes memory, and a loop of `mkdir`s must
/// run out of room too.
pub const ENTRY_BYTES: usize = 64;

/// One file or directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A directory with its mode bits.
    Dir {
        /// Permission bits (`0o755`).
        mode: u32,
    },
    /// A regular file: its bytes, shared with the profile until written.
    File {
        /// The content.
        data: Arc<[u8]>,
        /// Permission bits (`0o644`, `0o755`).
        mode: u32,
    },
    /// A character device such as `/dev/null`: reads are empty, writes vanish.
    Null,
}

impl Node {
    /// Whether it is a directory.
    pub fn is_dir(&self) -> bool {
        matches!(self, Node::Dir { .. })
    }

    /// Its mode bits.
    pub fn mode(&self) -> u32 {
        match self {
            Node::Dir { mode } | Node::File { mode, .. } => *mode,
            Node::Null => 0o666,
        }
    }

    /// Its size in bytes.
    pub fn size(&self) -> usize {
        match self {
            Node::File { data, .. } => data.len(),
            _ => 0,
        }
    }
}

/// The profile's tree, built once and shared by its sessions.
#[derive(Debug, Default)]
pub struct Base {
    nodes: BTreeMap<Vec<u8>, Node>,
    /// Mount points and how writable they are, longest first.
    mounts: Vec<(Vec<u8>, Mount)>,
    /// The busybox binary its applets' links share.
    busybox: Option<Arc<[u8]>>,
}

impl Base {
    /// A tree with `/`, the given directories (parents made as needed) and files.
    /// `mounts` is `/proc/mounts` text: it decides which paths are read-only.
    pub fn build<'a>(
        dirs: impl IntoIterator<Item = &'a str>,
        files: impl IntoIterator<Item = (&'a str, Arc<[u8]>, u32)>,
        mounts: &str,
    ) -> Base {
        let mut b = Base::default();
        b.nodes.insert(b"/".to_vec(), Node::Dir { mode: 0o755 });
        for d in dirs {
            b.add_dir(&resolve(b"/", d.as_bytes()));
        }
        for (path, data, mode) in files {
            let path = resolve(b"/", path.as_bytes());
            if let Some(parent) = parent(&path) {
                b.add_dir(parent);
            }
            let node = if path == b"/dev/null" || path == b"/dev/zero" {
                Node::Null
            } else {
                Node::File { data, mode }
            };
            b.nodes.insert(path, node);
        }
        b.add_dir(b"/dev");
        b.nodes.entry(b"/dev/null".to_vec()).or_insert(Node::Null);
        // Every mount decides for the paths below it; the longest mount point wins.
        for line in mounts.lines() {
            let mut f = line.split_whitespace();
            let (Some(_dev), Some(point), Some(fstype), Some(opts)) =
                (f.next(), f.next(), f.next(), f.next())
            else {
                continue;
            };
            let kind = if matches!(fstype, "proc" | "sysfs" | "devpts" | "debugfs" | "usbfs") {
                Mount::Pseudo
            } else if opts.split(',').any(|o| o == "ro") {
                Mount::ReadOnly
            } else {
                Mount::Writable
            };
            b.mounts.push((resolve(b"/", point.as_bytes()), kind));
        }
        // Of two mounts on one point the later hides the earlier: reversed, a stable sort
        // puts it first.
        b.mounts.reverse();
        b.mounts.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        b
    }

    /// Marks `data` as the busybox binary: a file with this very content runs as the
    /// applet its name says.
    pub fn with_busybox(mut self, data: Arc<[u8]>) -> Base {
        self.busybox = Some(data);
        self
    }

    /// The busybox binary, if set.
    pub fn busybox(&self) -> Option<&Arc<[u8]>> {
        self.busybox.as_ref()
    }

    fn add_dir(&mut self, path: &[u8]) {
        let mut p = path;
        let mut todo = Vec::new();
        while p.len() > 1 && !self.nodes.contains_key(p) {
            todo.push(p.to_vec());
            p = parent(p).unwrap_or(b"/");
        }
        for d in todo {
            self.nodes.insert(d, Node::Dir { mode: 0o755 });
        }
    }

    /// Why nothing may be written at `path`, if so: a read-only mount, or a kernel's
    /// pseudo filesystem (`/proc`, `/sys`) where no file can be made.
    fn unwritable(&self, path: &[u8]) -> Option<FsError> {
        match self.mounts.iter().find(|(point, _)| under(path, point)) {
            Some((_, Mount::ReadOnly)) => Some(FsError::ReadOnly),
            Some((_, Mount::Pseudo)) => Some(FsError::Denied),
            _ => None,
        }
    }
}

/// How a mount takes writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mount {
    Writable,
    ReadOnly,
    Pseudo,
}

/// Why a file operation failed, with BusyBox's words for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsError {
    /// `No such file or directory`.
    NotFound,
    /// `Is a directory`.
    IsDir,
    /// `Not a directory`.
    NotDir,
    /// `File exists`.
    Exists,
    /// `Directory not empty`.
    NotEmpty,
    /// `Read-only file system`.
    ReadOnly,
    /// `No space left on device`: the session's cap.
    NoSpace,
    /// `File name too long`.
    TooLong,
    /// `Permission denied`.
    Denied,
}

impl FsError {
    /// The `strerror` text.
    pub fn text(self) -> &'static str {
        match self {
            FsError::NotFound => "No such file or directory",
            FsError::IsDir => "Is a directory",
            FsError::NotDir => "Not a directory",
            FsError::Exists => "File exists",
            FsError::NotEmpty => "Directory not empty",
            FsError::ReadOnly => "Read-only file system",
            FsError::NoSpace => "No space left on device",
            FsError::TooLong => "File name too long",
            FsError::Denied => "Permission denied",
        }
    }
}

/// One session's view: the base, and its own changes on top.
#[derive(Debug)]
pub struct Fs {
    base: Arc<Base>,
    /// Changed paths: a node, or `None` where a base entry was removed.
    upper: BTreeMap<Vec<u8>, Option<Node>>,
    /// Bytes the session holds: its entries ([`ENTRY_BYTES`], the path, and content not
    /// shared with the profile), and removed files kept for capture.
    used: usize,
    cap: usize,
    /// The files the session wrote, by path, with their last content.
    written: BTreeMap<Vec<u8>, Arc<[u8]>>,
    /// Content of written files that were later overwritten or removed.
    dropped: Vec<(Vec<u8>, Arc<[u8]>)>,
}

impl Fs {
    /// A fresh view of `base`, holding at most `cap` bytes of its own.
    pub fn new(base: Arc<Base>, cap: usize) -> Fs {
        Fs {
            base,
            upper: BTreeMap::new(),
            used: 0,
            cap,
            written: BTreeMap::new(),
            dropped: Vec::new(),
        }
    }

    /// Bytes the session's files take (with [`ENTRY_BYTES`] and its path for each entry).
    pub fn used(&self) -> usize {
        self.used
    }

    /// The node at `path`.
    pub fn get(&self, path: &[u8]) -> Option<&Node> {
        match self.upper.get(path) {
            Some(n) => n.as_ref(),
            None => self.base.nodes.get(path),
        }
    }

    /// Whether `path` is a directory.
    pub fn is_dir(&self, path: &[u8]) -> bool {
        self.get(path).is_some_and(Node::is_dir)
    }

    /// A file's bytes.
    pub fn read(&self, path: &[u8]) -> Result<Arc<[u8]>, FsError> {
        match self.get(path) {
            None => Err(FsError::NotFound),
            Some(Node::Dir { .. }) => Err(FsError::IsDir),
            Some(Node::Null) => Ok(Arc::from(&[][..])),
            Some(Node::File { data, .. }) => Ok(data.clone()),
        }
    }

    /// Checks that a new entry may go at `path`: its parent is a directory and the mount
    /// is writable.
    fn writable(&self, path: &[u8]) -> Result<(), FsError> {
        if path.len() > MAX_PATH {
            return Err(FsError::TooLong);
        }
        match parent(path).map(|p| self.get(p)) {
            Some(Some(Node::Dir { .. })) => {}
            Some(Some(_)) => return Err(FsError::NotDir),
            _ => return Err(FsError::NotFound),
        }
        match self.base.unwritable(path) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Writes `data` to the file at `path`, creating it (mode 0644) or replacing or
    /// extending its content.
    pub fn write(&mut self, path: &[u8], data: &[u8], append: bool) -> Result<(), FsError> {
        let (old, mode) = match self.get(path) {
            Some(Node::Null) => return Ok(()),
            Some(Node::Dir { .. }) => return Err(FsError::IsDir),
            Some(Node::File { data, mode }) => (Some(data.clone()), *mode),
            None => (None, 0o644),
        };
        self.writable(path)?;
        let keep = if append {
            old.as_deref().unwrap_or(&[])
        } else {
            &[]
        };
        let new_len = keep.len() + data.len();
        // Checked before the content is built: `keep` and `data` may be large.
        if self.used - self.cost(path) + ENTRY_BYTES + path.len() + new_len > self.cap {
            return Err(FsError::NoSpace);
        }
        let mut content = Vec::with_capacity(new_len);
        content.extend_from_slice(keep);
        content.extend_from_slice(data);
        let content: Arc<[u8]> = content.into();
        self.set(
            path,
            Node::File {
                data: content.clone(),
                mode,
            },
        )?;
        if !append {
            self.keep_dropped(path);
        }
        self.written.insert(path.to_vec(), content);
        Ok(())
    }

    /// What the session's entry at `path` costs against the cap: [`ENTRY_BYTES`], the path,
    /// and its content unless that is still the profile's. A removed base entry costs
    /// nothing (there are only as many as the profile has).
    fn cost(&self, path: &[u8]) -> usize {
        let Some(Some(node)) = self.upper.get(path) else {
            return 0;
        };
        let shared = match (node, self.base.nodes.get(path)) {
            (Node::File { data, .. }, Some(Node::File { data: b, .. })) => Arc::ptr_eq(data, b),
            _ => false,
        };
        ENTRY_BYTES + path.len() + if shared { 0 } else { node.size() }
    }

    /// Puts `node` at `path` in the session's layer, if the cap has room for it.
    fn set(&mut self, path: &[u8], node: Node) -> Result<(), FsError> {
        let old_cost = self.cost(path);
        let old = self.upper.insert(path.to_vec(), Some(node));
        let new_cost = self.cost(path);
        if self.used - old_cost + new_cost > self.cap {
            match old {
                Some(o) => self.upper.insert(path.to_vec(), o),
                None => self.upper.remove(path),
            };
            return Err(FsError::NoSpace);
        }
        self.used = self.used - old_cost + new_cost;
        Ok(())
    }

    /// Takes `path` out of the session's view (hiding the profile's entry, if any).
    fn unset(&mut self, path: &[u8]) {
        self.used -= self.cost(path);
        if self.base.nodes.contains_key(path) {
            self.upper.insert(path.to_vec(), None);
        } else {
            self.upper.remove(path);
        }
    }

    /// Before a written file's content goes (overwritten or removed), keeps it for
    /// capture when there is room: a dropper removed after it ran is what we came for.
    fn keep_dropped(&mut self, path: &[u8]) {
        if let Some(data) = self.written.remove(path) {
            let cost = ENTRY_BYTES + path.len() + data.len();
            if !data.is_empty() && self.used + cost <= self.cap {
                self.used += cost;
                self.dropped.push((path.to_vec(), data));
            }
        }
    }

    /// Makes a directory; with `parents`, makes missing parents and accepts one that
    /// exists.
    pub fn mkdir(&mut self, path: &[u8], parents: bool) -> Result<(), FsError> {
        match self.get(path) {
            Some(Node::Dir { .. }) if parents => return Ok(()),
            Some(_) => return Err(FsError::Exists),
            None => {}
        }
        if parents {
            if let Some(p) = parent(path) {
                if self.get(p).is_none() {
                    self.mkdir(p, true)?;
                }
            }
        }
        self.writable(path)?;
        self.set(path, Node::Dir { mode: 0o755 })
    }

    /// Removes a file, or with `recursive` a directory and all below it.
    pub fn remove(&mut self, path: &[u8], recursive: bool) -> Result<(), FsError> {
        let is_dir = self.get(path).ok_or(FsError::NotFound)?.is_dir();
        if path == b"/" {
            return Err(FsError::Denied);
        }
        if let Some(e) = self.base.unwritable(path) {
            return Err(e);
        }
        let below = self.list(path).map(|l| l.len()).unwrap_or(0);
        if is_dir && !recursive {
            return Err(FsError::IsDir);
        }
        if is_dir && below > 0 {
            for (name, _) in self.list(path).unwrap_or_default() {
                let child = join(path, &name);
                self.remove(&child, true)?;
            }
        }
        self.keep_dropped(path);
        self.unset(path);
        Ok(())
    }

    /// Removes an empty directory.
    pub fn rmdir(&mut self, path: &[u8]) -> Result<(), FsError> {
        match self.get(path) {
            None => Err(FsError::NotFound),
            Some(n) if !n.is_dir() => Err(FsError::NotDir),
            Some(_) if !self.list(path).unwrap_or_default().is_empty() => Err(FsError::NotEmpty),
            Some(_) => self.remove(path, true),
        }
    }

    /// Sets a file's or directory's mode bits.
    pub fn chmod(&mut self, path: &[u8], mode: u32) -> Result<(), FsError> {
        let mut node = self.get(path).ok_or(FsError::NotFound)?.clone();
        if let Some(e) = self.base.unwritable(path) {
            return Err(e);
        }
        match &mut node {
            Node::Dir { mode: m } | Node::File { mode: m, .. } => *m = mode & 0o7777,
            Node::Null => return Ok(()),
        }
        self.set(path, node)
    }

    /// Copies a file (`cp`), or moves a file or directory (`mv`).
    pub fn copy(&mut self, from: &[u8], to: &[u8]) -> Result<(), FsError> {
        let data = self.read(from)?;
        let mode = self.get(from).map_or(0o644, Node::mode);
        self.write(to, &data, false)?;
        self.chmod(to, mode)
    }

    /// Moves `from` to `to` (a file, or a directory of the session's own).
    pub fn rename(&mut self, from: &[u8], to: &[u8]) -> Result<(), FsError> {
        if self.get(from).ok_or(FsError::NotFound)?.is_dir() {
            if under(to, from) {
                return Err(FsError::Denied);
            }
            self.mkdir(to, false)?;
            for (name, _) in self.list(from).unwrap_or_default() {
                self.rename(&join(from, &name), &join(to, &name))?;
            }
            return self.remove(from, true);
        }
        self.copy(from, to)?;
        // The content lives on at `to`: no need to keep it as dropped.
        self.written.remove(from);
        self.remove(from, false)
    }

    /// The entries of a directory, sorted by name.
    pub fn list(&self, dir: &[u8]) -> Result<Vec<(Vec<u8>, Node)>, FsError> {
        match self.get(dir) {
            None => return Err(FsError::NotFound),
            Some(n) if !n.is_dir() => return Err(FsError::NotDir),
            Some(_) => {}
        }
        let prefix = if dir == b"/" {
            b"/".to_vec()
        } else {
            let mut p = dir.to_vec();
            p.push(b'/');
            p
        };
        let mut out: BTreeMap<Vec<u8>, Node> = BTreeMap::new();
        for_children(&self.base.nodes, &prefix, |name, node| {
            out.insert(name.to_vec(), node.clone());
        });
        for_children(&self.upper, &prefix, |name, node| {
            match node {
                Some(n) => out.insert(name.to_vec(), n.clone()),
                None => out.remove(name),
            };
        });
        Ok(out.into_iter().collect())
    }

    /// Every file the session wrote, with the content it had last: those still there, then
    /// those overwritten or removed, in order.
    pub fn written(&self) -> impl Iterator<Item = (&[u8], &Arc<[u8]>)> {
        self.written
            .iter()
            .map(|(p, d)| (p.as_slice(), d))
            .chain(self.dropped.iter().map(|(p, d)| (p.as_slice(), d)))
    }
}

/// Calls `f` on the entries of `map` directly below `prefix` (a directory's path with its
/// `/`), skipping what lies deeper: the time it takes follows the children, not the whole
/// tree below (`ls` and globs of a directory holding a deep tree stay cheap).
fn for_children<V>(map: &BTreeMap<Vec<u8>, V>, prefix: &[u8], mut f: impl FnMut(&[u8], &V)) {
    let mut from = prefix.to_vec();
    loop {
        let Some((path, v)) = map.range(from.clone()..).next() else {
            return;
        };
        let Some(rest) = path.strip_prefix(prefix) else {
            return;
        };
        match rest.iter().position(|&b| b == b'/') {
            // Below a child: everything under `prefix/child/` sorts before `prefix/child0`.
            Some(i) => {
                from = path[..prefix.len() + i].to_vec();
                from.push(b'/' + 1);
            }
            None => {
                if !rest.is_empty() {
                    f(rest, v);
                }
                from = path.clone();
                from.push(0);
            }
        }
    }
}

/// `path` made absolute against `cwd` and normalised: no `.`, `..` or empty components.
pub fn resolve(cwd: &[u8], path: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    let start: &[u8] = if path.first() == Some(&b'/') {
        b""
    } else {
        cwd
    };
    for part in start
        .split(|&b| b == b'/')
        .chain(path.split(|&b| b == b'/'))
    {
        match part {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let mut out = Vec::with_capacity(path.len() + cwd.len() + 1);
    for p in parts {
        out.push(b'/');
        out.extend_from_slice(p);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

/// The directory holding `path` (`None` for `/`).
pub fn parent(path: &[u8]) -> Option<&[u8]> {
    if path == b"/" {
        return None;
    }
    let i = path.iter().rposition(|&b| b == b'/')?;
    Some(if i == 0 { b"/" } else { &path[..i] })
}

/// The last component of `path`.
pub fn file_name(path: &[u8]) -> &[u8] {
    path.rsplit(|&b| b == b'/').next().unwrap_or(path)
}

/// `dir/name`.
pub fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = dir.to_vec();
    if p.last() != Some(&b'/') {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

/// Whether `path` is `dir` or below it.
fn under(path: &[u8], dir: &[u8]) -> bool {
    dir == b"/" || path == dir || (path.starts_with(dir) && path.get(dir.len()) == Some(&b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTS: &str = "rootfs / rootfs rw 0 0\n/dev/root / squashfs ro,relatime 0 0\n\
                          proc /proc proc rw 0 0\ntmpfs /tmp tmpfs rw 0 0\n\
                          tmpfs /var tmpfs rw 0 0\n";

    fn fs(cap: usize) -> Fs {
        let base = Base::build(
            ["/tmp", "/var/run", "/bin", "/etc", "/proc"],
            [(
                "/etc/passwd",
                Arc::from(&b"root:x:0:0::/root:/bin/sh\n"[..]),
                0o644,
            )],
            MOUNTS,
        );
        Fs::new(Arc::new(base), cap)
    }

    #[test]
    fn resolves_paths() {
        assert_eq!(resolve(b"/tmp", b"x"), b"/tmp/x");
        assert_eq!(resolve(b"/tmp", b"../etc//passwd"), b"/etc/passwd");
        assert_eq!(resolve(b"/", b"../../.."), b"/");
        assert_eq!(resolve(b"/a/b", b"./c/./d/.."), b"/a/b/c");
        assert_eq!(parent(b"/a/b"), Some(&b"/a"[..]));
        assert_eq!(parent(b"/a"), Some(&b"/"[..]));
        assert_eq!(parent(b"/"), None);
        assert_eq!(file_name(b"/a/b"), b"b");
    }

    #[test]
    fn writes_on_writable_mounts_only() {
        let mut f = fs(1 << 20);
        assert_eq!(f.write(b"/bin/x", b"1", false), Err(FsError::ReadOnly));
        assert_eq!(f.write(b"/proc/.nippon", b"1", false), Err(FsError::Denied));
        assert_eq!(f.write(b"/nope/x", b"1", false), Err(FsError::NotFound));
        f.write(b"/tmp/.d", b"\x7fEL", false).unwrap();
        f.write(b"/tmp/.d", b"F", true).unwrap();
        assert_eq!(&*f.read(b"/tmp/.d").unwrap(), b"\x7fELF");
        f.write(b"/dev/null", b"gone", false).unwrap();
        assert_eq!(&*f.read(b"/dev/null").unwrap(), b"");
        assert_eq!(f.read(b"/tmp"), Err(FsError::IsDir));
    }

    /// What `/tmp/a` costs besides its content.
    const ENTRY: usize = ENTRY_BYTES + b"/tmp/a".len();

    #[test]
    fn caps_what_a_session_holds() {
        let mut f = fs(ENTRY + 10);
        f.write(b"/tmp/a", b"12345678", false).unwrap();
        assert_eq!(f.write(b"/tmp/a", b"901", true), Err(FsError::NoSpace));
        // Replacing frees the old content first (and keeps it for capture if it fits).
        f.write(b"/tmp/a", b"12", false).unwrap();
        assert!(f.used() <= ENTRY + 10);
    }

    #[test]
    fn a_kept_dropper_stays_within_the_cap() {
        // Replacing a file by a longer one used to keep the old content for capture
        // against the cap as it was before the write, then add the new: one byte over.
        let cap = 2 * ENTRY + 10;
        let mut f = fs(cap);
        f.write(b"/tmp/a", b"12345", false).unwrap();
        f.write(b"/tmp/a", b"123456", false).unwrap();
        assert!(f.used() <= cap, "{} > {cap}", f.used());
        f.write(b"/tmp/a", b"1234", false).unwrap();
        assert!(f.used() <= cap, "{} > {cap}", f.used());
    }

    #[test]
    fn directories_and_empty_files_count_against_the_cap() {
        // They held no bytes, so a loop of `mkdir`s or `touch`es could fill memory.
        let mut f = fs(10 * (ENTRY_BYTES + b"/tmp/d000".len()));
        let mut made = 0;
        for i in 0..1000 {
            let path = format!("/tmp/d{i:03}");
            let r = if i % 2 == 0 {
                f.mkdir(path.as_bytes(), false)
            } else {
                f.write(path.as_bytes(), b"", false)
            };
            match r {
                Ok(()) => made += 1,
                Err(e) => assert_eq!(e, FsError::NoSpace),
            }
        }
        assert_eq!(made, 10);
        assert!(f.used() <= 10 * (ENTRY_BYTES + b"/tmp/d000".len()));
        // Removing gives the room back.
        f.remove(b"/tmp/d000", true).unwrap();
        f.mkdir(b"/tmp/e000", false).unwrap();
        f.remove(b"/tmp", true).unwrap();
        assert_eq!(f.used(), 0);
    }

    #[test]
    fn chmod_of_a_profile_file_then_remove_keeps_the_count() {
        // A profile's file on a writable mount, chmod'ed, sat in the session's layer with
        // the profile's bytes, which were then taken off a count that never had them.
        let base = Base::build(
            ["/tmp"],
            [("/tmp/base", Arc::from(&b"0123456789"[..]), 0o644)],
            MOUNTS,
        );
        let mut f = Fs::new(Arc::new(base), 1 << 20);
        f.chmod(b"/tmp/base", 0o755).unwrap();
        assert_eq!(f.used(), ENTRY_BYTES + b"/tmp/base".len());
        f.remove(b"/tmp/base", false).unwrap();
        assert_eq!(f.used(), 0);
        assert!(f.get(b"/tmp/base").is_none());
    }

    #[test]
    fn lists_only_children_of_deep_trees() {
        let mut f = fs(1 << 20);
        f.mkdir(b"/tmp/a/b/c/d", true).unwrap();
        f.write(b"/tmp/a-x", b"1", false).unwrap();
        f.write(b"/tmp/a/b/c/d/e", b"1", false).unwrap();
        f.write(b"/tmp/a0", b"1", false).unwrap();
        f.write(b"/tmp/b", b"1", false).unwrap();
        let names: Vec<_> = f.list(b"/tmp").unwrap().into_iter().map(|e| e.0).collect();
        let want: Vec<&[u8]> = vec![b"a", b"a-x", b"a0", b"b"];
        assert_eq!(names, want);
        let names: Vec<_> = f
            .list(b"/tmp/a/b")
            .unwrap()
            .into_iter()
            .map(|e| e.0)
            .collect();
        assert_eq!(names, vec![b"c".to_vec()]);
    }

    #[test]
    fn keeps_removed_files_for_capture() {
        let mut f = fs(1 << 20);
        f.write(b"/tmp/.nippon", b"kami", false).unwrap();
        f.remove(b"/tmp/.nippon", false).unwrap();
        assert_eq!(f.get(b"/tmp/.nippon"), None);
        let w: Vec<_> = f.written().map(|(p, d)| (p.to_vec(), d.to_vec())).collect();
        assert_eq!(w, vec![(b"/tmp/.nippon".to_vec(), b"kami".to_vec())]);
    }

    #[test]
    fn lists_merge_base_and_session() {
        let mut f = fs(1 << 20);
        f.write(b"/tmp/b", b"x", false).unwrap();
        f.mkdir(b"/tmp/a/b", true).unwrap();
        let names: Vec<_> = f.list(b"/tmp").unwrap().into_iter().map(|e| e.0).collect();
        assert_eq!(names, vec![b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(f.remove(b"/tmp/a", false), Err(FsError::IsDir));
        f.remove(b"/tmp/a", true).unwrap();
        assert!(f.get(b"/tmp/a/b").is_none());
        assert_eq!(f.remove(b"/etc/passwd", false), Err(FsError::ReadOnly));
        let root: Vec<_> = f.list(b"/").unwrap().into_iter().map(|e| e.0).collect();
        assert!(root.contains(&b"etc".to_vec()) && root.contains(&b"dev".to_vec()));
    }

    #[test]
    fn moves_and_copies() {
        let mut f = fs(1 << 20);
        f.write(b"/tmp/a", b"abc", false).unwrap();
        f.chmod(b"/tmp/a", 0o777).unwrap();
        f.copy(b"/tmp/a", b"/var/b").unwrap();
        assert_eq!(f.get(b"/var/b").map(Node::mode), Some(0o777));
        f.rename(b"/tmp/a", b"/tmp/c").unwrap();
        assert!(f.get(b"/tmp/a").is_none());
        assert_eq!(&*f.read(b"/tmp/c").unwrap(), b"abc");
    }
}
