//! The fake filesystem: one base tree shared by every session, and each session's changes
//! as an overlay on top of it.
//!
//! The base ([`Base`]) is built once from the identity (see `base.rs`) and never changes; it
//! is reached through the [`World`](super::World)'s `Arc`, so 10,000 sessions hold one copy.
//! A session's [`Overlay`] maps canonical paths to what replaced them: a node, or a tombstone
//! for a deletion. A directory the session created (or re-created after deleting the base's)
//! is *opaque*: nothing of the base shows through below it. An idle session's overlay is an
//! empty map (no allocation).
//!
//! Paths resolve as the kernel does: component by component, `..` on the physical path,
//! symbolic links followed (40 at most, then `ELOOP`), search permission checked on every
//! directory, `PATH_MAX` and `NAME_MAX` enforced. Permissions are Unix's: owner, group,
//! other, root bypassing all but the exec bit, sticky directories.
//!
//! What a session can add is capped ([`FsLimits`]): bytes of file content it owns and
//! entries it adds or changes; past either, writes fail with `ENOSPC`. Binaries cost
//! nothing: their bytes are made on demand from the seed and the program name.

use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Longest path (bytes) and path component, as Linux's `PATH_MAX` and `NAME_MAX`.
pub(crate) const PATH_MAX: usize = 4096;
pub(crate) const NAME_MAX: usize = 255;
/// Symbolic links followed in one resolution.
const MAX_HOPS: usize = 40;
/// Directory entries one glob may look at.
const GLOB_WORK: usize = 100_000;

/// The errors a filesystem call can give, with `strerror`'s text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Errno {
    NoEnt,
    NotDir,
    IsDir,
    Acces,
    Perm,
    Exist,
    NotEmpty,
    Loop,
    NoSpc,
    Inval,
    Busy,
    NameTooLong,
    Io,
}

impl Errno {
    pub fn msg(self) -> &'static str {
        match self {
            Errno::NoEnt => "No such file or directory",
            Errno::NotDir => "Not a directory",
            Errno::IsDir => "Is a directory",
            Errno::Acces => "Permission denied",
            Errno::Perm => "Operation not permitted",
            Errno::Exist => "File exists",
            Errno::NotEmpty => "Directory not empty",
            Errno::Loop => "Too many levels of symbolic links",
            Errno::NoSpc => "No space left on device",
            Errno::Inval => "Invalid argument",
            Errno::Busy => "Device or resource busy",
            Errno::NameTooLong => "File name too long",
            Errno::Io => "Input/output error",
        }
    }
}

/// Device files the shell knows how to read and write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DevKind {
    /// Reads nothing, swallows everything.
    Null,
    /// Endless zero bytes.
    Zero,
    /// Endless random bytes.
    Random,
    /// The session's terminal: writes go to the output.
    Tty,
    /// A disk or anything else: reading it is refused.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dev {
    pub kind: DevKind,
    pub block: bool,
    pub major: u16,
    pub minor: u16,
}

/// Files whose content is made when read (the clock moves).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dynamic {
    Uptime,
    Loadavg,
    /// /etc/passwd with the session's own account when it is not in the identity.
    Passwd,
}

/// A session's own bytes, with the running SHA-256 of them (appends hash only what they
/// add, so a file built by ten thousand `echo >>` is not hashed ten thousand times).
#[derive(Clone)]
pub(crate) struct Owned {
    pub bytes: Vec<u8>,
    hasher: Sha256,
}

impl std::fmt::Debug for Owned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Owned({} bytes)", self.bytes.len())
    }
}

impl Owned {
    pub fn new(bytes: Vec<u8>) -> Owned {
        let mut hasher = Sha256::new();
        hasher.update(&bytes);
        Owned { bytes, hasher }
    }
    fn append(&mut self, more: &[u8]) {
        self.bytes.extend_from_slice(more);
        self.hasher.update(more);
    }
    pub fn sha256(&self) -> String {
        super::util::hex(&self.hasher.clone().finalize())
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Data {
    /// Text of the base, shared by every session.
    Shared(Arc<[u8]>),
    /// Bytes a session wrote.
    Owned(Box<Owned>),
    /// An executable: which program it is and its size (bytes made on demand).
    Binary { prog: &'static str, size: u32 },
    /// Made when read.
    Dynamic(Dynamic),
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Dir,
    File(Data),
    Link(Box<str>),
    Dev(Dev),
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub kind: Kind,
    /// Permission bits with setuid, setgid and sticky (`0o1777`).
    pub mode: u16,
    pub uid: u32,
    pub gid: u32,
    pub mtime: i64,
}

impl Node {
    pub fn is_dir(&self) -> bool {
        matches!(self.kind, Kind::Dir)
    }
    pub fn is_link(&self) -> bool {
        matches!(self.kind, Kind::Link(_))
    }
    /// Size as `ls -l` shows it.
    pub fn size(&self) -> u64 {
        match &self.kind {
            Kind::Dir => 4096,
            Kind::File(Data::Shared(b)) => b.len() as u64,
            Kind::File(Data::Owned(o)) => o.bytes.len() as u64,
            Kind::File(Data::Binary { size, .. }) => u64::from(*size),
            Kind::File(Data::Dynamic(_)) => 0,
            Kind::Link(t) => t.len() as u64,
            Kind::Dev(_) => 0,
        }
    }
    /// Owned bytes it holds (what the session's cap counts).
    fn owned_len(&self) -> usize {
        match &self.kind {
            Kind::File(Data::Owned(o)) => o.bytes.len(),
            Kind::Link(t) => t.len(),
            _ => 0,
        }
    }
    /// `ls -l`'s type letter.
    pub fn type_char(&self) -> char {
        match &self.kind {
            Kind::Dir => 'd',
            Kind::Link(_) => 'l',
            Kind::Dev(d) if d.block => 'b',
            Kind::Dev(_) => 'c',
            Kind::File(_) => '-',
        }
    }
    /// `drwxr-xr-x`
    pub fn mode_string(&self) -> String {
        let m = self.mode;
        let mut s = String::with_capacity(10);
        s.push(self.type_char());
        let bit = |b: u16, c: char| if m & b != 0 { c } else { '-' };
        s.push(bit(0o400, 'r'));
        s.push(bit(0o200, 'w'));
        s.push(match (m & 0o100 != 0, m & 0o4000 != 0) {
            (true, true) => 's',
            (false, true) => 'S',
            (true, false) => 'x',
            _ => '-',
        });
        s.push(bit(0o040, 'r'));
        s.push(bit(0o020, 'w'));
        s.push(match (m & 0o010 != 0, m & 0o2000 != 0) {
            (true, true) => 's',
            (false, true) => 'S',
            (true, false) => 'x',
            _ => '-',
        });
        s.push(bit(0o004, 'r'));
        s.push(bit(0o002, 'w'));
        s.push(match (m & 0o001 != 0, m & 0o1000 != 0) {
            (true, true) => 't',
            (false, true) => 'T',
            (true, false) => 'x',
            _ => '-',
        });
        s
    }
}

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cred {
    pub uid: u32,
    pub gid: u32,
}

impl Cred {
    pub fn is_root(&self) -> bool {
        self.uid == 0
    }
    /// May `self` do `want` (4 read, 2 write, 1 exec) to `n`?
    pub fn may(&self, n: &Node, want: u16) -> bool {
        if self.is_root() {
            // root may do anything but execute a file no one may execute
            return want & 1 == 0 || n.is_dir() || n.mode & 0o111 != 0;
        }
        let bits = if n.uid == self.uid {
            n.mode >> 6
        } else if n.gid == self.gid {
            n.mode >> 3
        } else {
            n.mode
        } & 7;
        bits & want == want
    }
}

/// One entry of the base: its node, and a directory's child names (sorted).
#[derive(Debug)]
pub(crate) struct BaseEntry {
    pub node: Node,
    pub children: Vec<Box<str>>,
}

/// The base tree, shared by every session.
#[derive(Debug, Default)]
pub(crate) struct Base {
    pub nodes: FxHashMap<Box<str>, BaseEntry>,
}

/// Splits a canonical path into its parent and name (`/a/b` → `/a`, `b`; `/a` → `/`, `a`).
pub(crate) fn split(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(0) => ("/", &path[1..]),
        Some(k) => (&path[..k], &path[k + 1..]),
        None => ("/", path),
    }
}

/// Joins a canonical directory and a name.
pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

impl Base {
    /// Adds (or replaces) a node; missing parents are made as root's 0755 directories.
    pub fn insert(&mut self, path: &str, node: Node) {
        if path != "/" {
            let (parent, name) = split(path);
            if !self.nodes.contains_key(parent) {
                let t = node.mtime;
                self.insert(
                    parent,
                    Node {
                        kind: Kind::Dir,
                        mode: 0o755,
                        uid: 0,
                        gid: 0,
                        mtime: t,
                    },
                );
            }
            if let Some(p) = self.nodes.get_mut(parent) {
                if let Err(at) = p.children.binary_search_by(|c| (**c).cmp(name)) {
                    p.children.insert(at, name.into());
                }
            }
        }
        match self.nodes.get_mut(path) {
            Some(e) => e.node = node,
            None => {
                self.nodes.insert(
                    path.into(),
                    BaseEntry {
                        node,
                        children: Vec::new(),
                    },
                );
            }
        }
    }

    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path).map(|e| &e.node)
    }

    /// Heap bytes it holds, roughly (for the report of what a World costs).
    pub fn heap_bytes(&self) -> usize {
        self.nodes
            .iter()
            .map(|(k, e)| {
                k.len()
                    + std::mem::size_of::<BaseEntry>()
                    + std::mem::size_of::<Box<str>>()
                    + e.children.iter().map(|c| c.len() + 16).sum::<usize>()
                    + match &e.node.kind {
                        Kind::File(Data::Shared(b)) => b.len(),
                        Kind::Link(t) => t.len(),
                        _ => 0,
                    }
            })
            .sum()
    }
}

/// What a session changed: a node, or a tombstone.
#[derive(Debug, Clone)]
enum Slot {
    Gone,
    Here { node: Node, opaque: bool },
}

/// Caps of one session's overlay.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FsLimits {
    pub max_bytes: usize,
    pub max_files: usize,
}

/// A session's changes to the base.
#[derive(Debug, Default)]
pub(crate) struct Overlay {
    map: FxHashMap<Box<str>, Slot>,
    /// Bytes of content (and link targets) it owns.
    bytes: usize,
    /// Bytes of the paths it keys (capped like content: long paths cost too).
    key_bytes: usize,
}

impl Overlay {
    /// Puts a slot at `k`, counting a new key's bytes.
    fn insert(&mut self, k: &str, slot: Slot) -> Option<Slot> {
        let old = self.map.insert(k.into(), slot);
        if old.is_none() {
            self.key_bytes += k.len();
        }
        old
    }

    /// Removes `k`'s slot.
    fn remove(&mut self, k: &str) -> Option<Slot> {
        let old = self.map.remove(k);
        if old.is_some() {
            self.key_bytes -= k.len();
        }
        old
    }

    /// Content bytes owned.
    #[cfg(test)]
    pub fn content_bytes(&self) -> usize {
        self.bytes
    }
    /// Approximate heap bytes held: keys, slots and content.
    pub fn heap_bytes(&self) -> usize {
        self.map.len() * (std::mem::size_of::<(Box<str>, Slot)>() + 8) + self.key_bytes + self.bytes
    }
    pub fn entries(&self) -> usize {
        self.map.len()
    }
}

/// A resolved path: its canonical form and node (None: the last component does not exist,
/// but its directory does), and whether base entries show below it.
#[derive(Debug)]
pub(crate) struct Resolved<'a> {
    pub path: String,
    pub node: Option<&'a Node>,
    pub backed: bool,
    /// The parent directory's "base shows through" flag.
    pub parent_backed: bool,
}

/// The filesystem as one session sees it.
pub(crate) struct Fs<'a> {
    pub base: &'a Base,
    pub ov: &'a mut Overlay,
    pub cred: Cred,
    pub limits: FsLimits,
    pub now: i64,
    /// The identity's seed (binary bytes derive from it).
    pub seed: u64,
}

impl<'a> Fs<'a> {
    /// A child of a directory whose base-ness is `parent_backed`: its node and whether base
    /// entries show below it.
    fn child(&self, parent_backed: bool, path: &str) -> Option<(&Node, bool)> {
        match self.ov.map.get(path) {
            Some(Slot::Gone) => None,
            Some(Slot::Here { node, opaque }) => Some((
                node,
                parent_backed && !opaque && self.base.nodes.contains_key(path),
            )),
            None if parent_backed => self.base.get(path).map(|n| (n, true)),
            None => None,
        }
    }

    /// Resolves an absolute path (relative ones are taken from `/`; the shell joins its
    /// working directory first). `follow`: follow a final symbolic link.
    pub fn resolve(&self, path: &str, follow: bool) -> Result<Resolved<'_>, Errno> {
        if path.is_empty() {
            return Err(Errno::NoEnt);
        }
        if path.len() > PATH_MAX {
            return Err(Errno::NameTooLong);
        }
        let trailing_slash = path.len() > 1 && path.ends_with('/');
        // components still to walk, last first
        let mut todo: Vec<String> = path
            .split('/')
            .filter(|c| !c.is_empty())
            .rev()
            .map(String::from)
            .collect();
        let mut cur = String::from("/");
        // (length of `cur` before each push, backed flag of the directory pushed)
        let mut stack: Vec<(usize, bool)> = Vec::new();
        let mut backed = true;
        let mut node: &Node = self.root();
        let mut hops = 0;
        while let Some(comp) = todo.pop() {
            if comp.len() > NAME_MAX {
                return Err(Errno::NameTooLong);
            }
            if !node.is_dir() {
                return Err(Errno::NotDir);
            }
            if !self.cred.may(node, 1) {
                return Err(Errno::Acces);
            }
            if comp == "." {
                continue;
            }
            if comp == ".." {
                if let Some((len, _)) = stack.pop() {
                    cur.truncate(len);
                    backed = stack.last().is_none_or(|s| s.1);
                    node = self.lookup_dir(&cur, backed).unwrap_or(self.root());
                }
                continue;
            }
            let p = join(&cur, &comp);
            let last = todo.is_empty();
            match self.child(backed, &p) {
                None => {
                    if last {
                        return Ok(Resolved {
                            path: p,
                            node: None,
                            backed: false,
                            parent_backed: backed,
                        });
                    }
                    return Err(Errno::NoEnt);
                }
                Some((n, b)) => {
                    if let Kind::Link(target) = &n.kind {
                        if !last || follow || trailing_slash {
                            hops += 1;
                            if hops > MAX_HOPS {
                                return Err(Errno::Loop);
                            }
                            if todo.len() + target.len() > PATH_MAX {
                                return Err(Errno::NameTooLong);
                            }
                            todo.extend(
                                target
                                    .split('/')
                                    .filter(|c| !c.is_empty())
                                    .rev()
                                    .map(String::from),
                            );
                            if target.starts_with('/') {
                                cur = String::from("/");
                                stack.clear();
                                backed = true;
                                node = self.root();
                            }
                            continue;
                        }
                    }
                    stack.push((cur.len(), b));
                    cur = p;
                    backed = b;
                    node = n;
                }
            }
        }
        if trailing_slash && !node.is_dir() {
            return Err(Errno::NotDir);
        }
        let parent_backed = if stack.len() >= 2 {
            stack[stack.len() - 2].1
        } else {
            true
        };
        Ok(Resolved {
            path: cur,
            node: Some(node),
            backed,
            parent_backed,
        })
    }

    fn root(&self) -> &Node {
        static ROOT: Node = Node {
            kind: Kind::Dir,
            mode: 0o755,
            uid: 0,
            gid: 0,
            mtime: 0,
        };
        self.base.get("/").unwrap_or(&ROOT)
    }

    /// The node at a canonical directory path (used when walking back up with `..`).
    fn lookup_dir(&self, canon: &str, backed: bool) -> Option<&Node> {
        if canon == "/" {
            return Some(self.root());
        }
        match self.ov.map.get(canon) {
            Some(Slot::Here { node, .. }) => Some(node),
            Some(Slot::Gone) => None,
            None if backed => self.base.get(canon),
            None => None,
        }
    }

    /// Resolves a path that must exist.
    pub fn stat(&self, path: &str, follow: bool) -> Result<(String, &Node), Errno> {
        let r = self.resolve(path, follow)?;
        match r.node {
            Some(n) => Ok((r.path, n)),
            None => Err(Errno::NoEnt),
        }
    }

    /// The entries of a directory (sorted by name), without `.` and `..`.
    pub fn list(&self, path: &str) -> Result<Vec<(String, &Node)>, Errno> {
        let r = self.resolve(path, true)?;
        let Some(dir) = r.node else {
            return Err(Errno::NoEnt);
        };
        if !dir.is_dir() {
            return Err(Errno::NotDir);
        }
        if !self.cred.may(dir, 4) {
            return Err(Errno::Acces);
        }
        Ok(self.children(&r.path, r.backed))
    }

    /// A directory's entries, no permission check.
    pub fn children(&self, dir: &str, backed: bool) -> Vec<(String, &Node)> {
        let mut out: Vec<(String, &Node)> = Vec::new();
        if backed {
            if let Some(e) = self.base.nodes.get(dir) {
                for name in &e.children {
                    let p = join(dir, name);
                    match self.ov.map.get(p.as_str()) {
                        Some(Slot::Gone) => {}
                        Some(Slot::Here { node, .. }) => out.push((name.to_string(), node)),
                        None => {
                            if let Some(n) = self.base.get(&p) {
                                out.push((name.to_string(), n));
                            }
                        }
                    }
                }
            }
        }
        for (k, v) in &self.ov.map {
            let Slot::Here { node, .. } = v else { continue };
            let (parent, name) = split(k);
            if parent == dir
                && k.as_ref() != "/"
                && !(backed && self.base.nodes.contains_key(k.as_ref()))
            {
                out.push((name.to_string(), node));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Whether a directory has entries.
    pub fn is_empty_dir(&self, dir: &str, backed: bool) -> bool {
        self.children(dir, backed).is_empty()
    }

    /// May the caller add or remove entries in the directory containing `path`, and (sticky
    /// directories) remove `victim`?
    fn may_change_in(&self, path: &str, victim: Option<&Node>) -> Result<(), Errno> {
        let (parent, _) = split(path);
        let r = self.resolve(parent, true)?;
        let Some(dir) = r.node else {
            return Err(Errno::NoEnt);
        };
        if !dir.is_dir() {
            return Err(Errno::NotDir);
        }
        if !self.cred.may(dir, 3) {
            return Err(Errno::Acces);
        }
        if let Some(v) = victim {
            if dir.mode & 0o1000 != 0
                && !self.cred.is_root()
                && v.uid != self.cred.uid
                && dir.uid != self.cred.uid
            {
                return Err(Errno::Perm);
            }
        }
        Ok(())
    }

    /// Room for one more entry at `path`?
    fn room_for(&self, path: &str, tombstone: bool) -> Result<(), Errno> {
        if self.ov.map.contains_key(path) {
            return Ok(());
        }
        // tombstones may use a second allowance: deleting never fails on a real disk
        let cap = if tombstone {
            self.limits.max_files * 2
        } else {
            self.limits.max_files
        };
        if self.ov.map.len() >= cap || self.ov.key_bytes + path.len() > self.limits.max_bytes {
            return Err(Errno::NoSpc);
        }
        Ok(())
    }

    /// Puts `node` at canonical `path` (whose parent exists). `parent_backed`: the base
    /// shows through the parent.
    fn put(&mut self, path: &str, node: Node, parent_backed: bool) -> Result<(), Errno> {
        self.room_for(path, false)?;
        // a base directory changed in place (chmod, touch) still shows the base's entries;
        // anything created (or re-created after a deletion) is opaque
        let opaque = match self.ov.map.get(path) {
            Some(Slot::Here { opaque, .. }) => *opaque,
            Some(Slot::Gone) => true,
            None => {
                !(parent_backed && node.is_dir() && self.base.get(path).is_some_and(Node::is_dir))
            }
        };
        let add = node.owned_len();
        let old = match self.ov.map.get(path) {
            Some(Slot::Here { node, .. }) => node.owned_len(),
            _ => 0,
        };
        if self.ov.bytes - old + add > self.limits.max_bytes {
            return Err(Errno::NoSpc);
        }
        self.ov.bytes = self.ov.bytes - old + add;
        self.ov.insert(path, Slot::Here { node, opaque });
        Ok(())
    }

    /// Removes canonical `path` (and, for a directory, everything the session put below it).
    fn drop_path(&mut self, path: &str, parent_backed: bool) -> Result<(), Errno> {
        let prefix = if path == "/" {
            "/".to_string()
        } else {
            format!("{path}/")
        };
        let below: Vec<Box<str>> = self
            .ov
            .map
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .cloned()
            .collect();
        for k in below {
            if let Some(Slot::Here { node, .. }) = self.ov.remove(&k) {
                self.ov.bytes -= node.owned_len();
            }
        }
        let in_base = parent_backed && self.base.nodes.contains_key(path);
        if in_base {
            self.room_for(path, true)?;
            if let Some(Slot::Here { node, .. }) = self.ov.insert(path, Slot::Gone) {
                self.ov.bytes -= node.owned_len();
            }
        } else if let Some(Slot::Here { node, .. }) = self.ov.remove(path) {
            self.ov.bytes -= node.owned_len();
        }
        Ok(())
    }

    /// Reads a file's data (following links); directories are `EISDIR`.
    pub fn read(&self, path: &str) -> Result<(String, Readable), Errno> {
        let (canon, n) = self.stat(path, true)?;
        match &n.kind {
            Kind::Dir => Err(Errno::IsDir),
            _ if !self.cred.may(n, 4) => Err(Errno::Acces),
            Kind::File(d) => Ok((canon, Readable::Data(d.clone()))),
            Kind::Dev(d) => Ok((canon, Readable::Dev(d.kind))),
            Kind::Link(_) => Err(Errno::Loop),
        }
    }

    /// The device at `path`, if it is one (following links).
    pub fn device(&self, path: &str) -> Option<Dev> {
        match self.stat(path, true) {
            Ok((
                _,
                Node {
                    kind: Kind::Dev(d), ..
                },
            )) => Some(*d),
            _ => None,
        }
    }

    /// Writes (or appends) bytes to a file, creating it with `mode` (already masked) if it
    /// does not exist. Returns the canonical path, new size and SHA-256, and whether the
    /// session's cap cut the write (the part that fit is kept).
    pub fn write(
        &mut self,
        path: &str,
        data: &[u8],
        append: bool,
        mode: u16,
    ) -> Result<WriteResult, Errno> {
        let r = self.resolve(path, true)?;
        let canon = r.path.clone();
        let parent_backed = r.parent_backed;
        let existing = r.node.cloned();
        if let Some(n) = &existing {
            match &n.kind {
                Kind::Dir => return Err(Errno::IsDir),
                Kind::Dev(_) => {
                    if !self.cred.may(n, 2) {
                        return Err(Errno::Acces);
                    }
                    return Ok(WriteResult {
                        path: canon,
                        size: 0,
                        sha256: None,
                        cut: false,
                    });
                }
                _ => {}
            }
            if !self.cred.may(n, 2) {
                return Err(Errno::Acces);
            }
        } else {
            self.may_change_in(&canon, None)?;
        }
        let (mut file, uid, gid, fmode) = match existing {
            Some(n) => {
                let base_bytes: Vec<u8> = if append {
                    match &n.kind {
                        Kind::File(Data::Shared(b)) => b.to_vec(),
                        Kind::File(Data::Owned(o)) => {
                            return self.append_owned(
                                canon,
                                parent_backed,
                                n.clone(),
                                o.clone(),
                                data,
                            )
                        }
                        // only what can fit is made (the cap cuts the rest anyway)
                        Kind::File(Data::Binary { prog, size }) => {
                            binary_bytes(self.seed, prog, *size as usize, self.room_bytes(&canon))
                        }
                        _ => Vec::new(),
                    }
                } else {
                    Vec::new()
                };
                (Owned::new(base_bytes), n.uid, n.gid, n.mode)
            }
            None => (Owned::new(Vec::new()), self.cred.uid, self.cred.gid, mode),
        };
        let room = self.room_bytes(&canon);
        let cut = file.bytes.len() + data.len() > room;
        if file.bytes.len() > room {
            file = Owned::new(file.bytes[..room].to_vec());
        }
        let keep = data.len().min(room - file.bytes.len());
        file.append(&data[..keep]);
        let size = file.bytes.len();
        let sha = file.sha256();
        let node = Node {
            kind: Kind::File(Data::Owned(Box::new(file))),
            mode: fmode,
            uid,
            gid,
            mtime: self.now,
        };
        self.put(&canon, node, parent_backed)?;
        Ok(WriteResult {
            path: canon,
            size,
            sha256: Some(sha),
            cut,
        })
    }

    fn append_owned(
        &mut self,
        canon: String,
        parent_backed: bool,
        n: Node,
        mut o: Box<Owned>,
        data: &[u8],
    ) -> Result<WriteResult, Errno> {
        let room = self.room_bytes(&canon);
        let keep = data.len().min(room.saturating_sub(o.bytes.len()));
        let cut = keep < data.len();
        o.append(&data[..keep]);
        let size = o.bytes.len();
        let sha = o.sha256();
        let node = Node {
            kind: Kind::File(Data::Owned(o)),
            mtime: self.now,
            ..n
        };
        self.put(&canon, node, parent_backed)?;
        Ok(WriteResult {
            path: canon,
            size,
            sha256: Some(sha),
            cut,
        })
    }

    /// Bytes a file at `canon` may hold given the session's cap and what it holds now.
    fn room_bytes(&self, canon: &str) -> usize {
        let current = match self.ov.map.get(canon) {
            Some(Slot::Here { node, .. }) => node.owned_len(),
            _ => 0,
        };
        self.limits
            .max_bytes
            .saturating_sub(self.ov.bytes - current)
    }

    /// Creates a node at a path that must not exist (mkdir, ln -s, mknod-like).
    pub fn create(&mut self, path: &str, kind: Kind, mode: u16) -> Result<String, Errno> {
        let r = self.resolve(path, false)?;
        if r.node.is_some() {
            return Err(Errno::Exist);
        }
        let canon = r.path.clone();
        let pb = r.parent_backed;
        self.may_change_in(&canon, None)?;
        let node = Node {
            kind,
            mode,
            uid: self.cred.uid,
            gid: self.cred.gid,
            mtime: self.now,
        };
        self.put(&canon, node, pb)?;
        Ok(canon)
    }

    /// Puts a node (a copy, an upload) at a path, replacing a file there (not a directory).
    pub fn place(&mut self, path: &str, node: Node) -> Result<String, Errno> {
        let r = self.resolve(path, true)?;
        let canon = r.path.clone();
        let pb = r.parent_backed;
        match r.node {
            Some(n) if n.is_dir() => return Err(Errno::IsDir),
            Some(n) if !self.cred.may(n, 2) => return Err(Errno::Acces),
            Some(_) => {}
            None => self.may_change_in(&canon, None)?,
        }
        self.put(&canon, node, pb)?;
        Ok(canon)
    }

    /// Removes a file or symbolic link (not following it).
    pub fn unlink(&mut self, path: &str) -> Result<(), Errno> {
        let r = self.resolve(path, false)?;
        let Some(n) = r.node else {
            return Err(Errno::NoEnt);
        };
        if n.is_dir() {
            return Err(Errno::IsDir);
        }
        let n = n.clone();
        let (canon, pb) = (r.path.clone(), r.parent_backed);
        self.may_change_in(&canon, Some(&n))?;
        self.drop_path(&canon, pb)
    }

    /// Removes an empty directory.
    pub fn rmdir(&mut self, path: &str) -> Result<(), Errno> {
        let r = self.resolve(path, false)?;
        let Some(n) = r.node else {
            return Err(Errno::NoEnt);
        };
        if !n.is_dir() {
            return Err(Errno::NotDir);
        }
        if r.path == "/" {
            return Err(Errno::Busy);
        }
        let n = n.clone();
        let (canon, pb, backed) = (r.path.clone(), r.parent_backed, r.backed);
        if !self.is_empty_dir(&canon, backed) {
            return Err(Errno::NotEmpty);
        }
        self.may_change_in(&canon, Some(&n))?;
        self.drop_path(&canon, pb)
    }

    /// Removes a directory and everything below it; the first error met (with the path it
    /// concerns) if some entry could not go (what could go is gone, as `rm -r` does).
    pub fn remove_tree(&mut self, path: &str) -> Result<(), (String, Errno)> {
        let r = self
            .resolve(path, false)
            .map_err(|e| (path.to_string(), e))?;
        let Some(n) = r.node else {
            return Err((path.to_string(), Errno::NoEnt));
        };
        let n = n.clone();
        let (canon, pb, backed) = (r.path.clone(), r.parent_backed, r.backed);
        if !n.is_dir() {
            self.may_change_in(&canon, Some(&n))
                .map_err(|e| (canon.clone(), e))?;
            return self.drop_path(&canon, pb).map_err(|e| (canon, e));
        }
        // check every directory below may be emptied (non-root: search, read and write)
        let mut first_err: Option<(String, Errno)> = None;
        let mut todo = vec![(canon.clone(), backed, n.clone())];
        let mut seen = 0usize;
        while let Some((dir, b, node)) = todo.pop() {
            seen += 1;
            if seen > 100_000 {
                break;
            }
            if !self.cred.may(&node, 7) {
                first_err.get_or_insert((dir.clone(), Errno::Acces));
                continue;
            }
            for (name, child) in self.children(&dir, b) {
                if child.is_dir() && !child.is_link() {
                    let p = join(&dir, &name);
                    let cb = self.child(b, &p).is_some_and(|(_, cb)| cb);
                    todo.push((p, cb, child.clone()));
                }
            }
        }
        if let Some(e) = first_err {
            return Err(e);
        }
        self.may_change_in(&canon, Some(&n))
            .map_err(|e| (canon.clone(), e))?;
        if canon == "/" {
            return Err((canon, Errno::Busy));
        }
        self.drop_path(&canon, pb).map_err(|e| (canon, e))
    }

    /// Changes a node in place (chmod, chown, touch): `f` edits a copy that goes into the
    /// overlay.
    pub fn modify(
        &mut self,
        path: &str,
        follow: bool,
        f: impl FnOnce(&mut Node),
    ) -> Result<String, Errno> {
        let r = self.resolve(path, follow)?;
        let Some(n) = r.node else {
            return Err(Errno::NoEnt);
        };
        let mut node = n.clone();
        let (canon, pb) = (r.path.clone(), r.parent_backed);
        f(&mut node);
        self.put(&canon, node, pb)?;
        Ok(canon)
    }

    /// Moves `from` to `to` (a path that is not an existing directory: the caller resolves
    /// "into a directory" first). Directories move with everything below them.
    pub fn rename(&mut self, from: &str, to: &str) -> Result<(), Errno> {
        let r = self.resolve(from, false)?;
        let Some(n) = r.node else {
            return Err(Errno::NoEnt);
        };
        let n = n.clone();
        let (src, src_pb, src_backed) = (r.path.clone(), r.parent_backed, r.backed);
        let t = self.resolve(to, false)?;
        let (dst, dst_pb) = (t.path.clone(), t.parent_backed);
        if let Some(existing) = t.node {
            if existing.is_dir() && !n.is_dir() {
                return Err(Errno::IsDir);
            }
            if !existing.is_dir() && n.is_dir() {
                return Err(Errno::NotDir);
            }
            if existing.is_dir() && !self.is_empty_dir(&dst, t.backed) {
                return Err(Errno::NotEmpty);
            }
        }
        if src == dst {
            return Ok(());
        }
        if dst.starts_with(&format!("{src}/")) || src == "/" {
            return Err(Errno::Inval);
        }
        self.may_change_in(&src, Some(&n))?;
        self.may_change_in(&dst, None)?;
        // gather the subtree first (bounded by the entry cap)
        let mut moved: Vec<(String, Node)> = vec![(String::new(), n.clone())];
        if n.is_dir() {
            let mut todo = vec![(src.clone(), src_backed)];
            while let Some((dir, b)) = todo.pop() {
                for (name, child) in self.children(&dir, b) {
                    let p = join(&dir, &name);
                    if moved.len() > self.limits.max_files {
                        return Err(Errno::NoSpc);
                    }
                    if child.is_dir() {
                        let cb = self.child(b, &p).is_some_and(|(_, cb)| cb);
                        todo.push((p.clone(), cb));
                    }
                    moved.push((p[src.len()..].to_string(), child.clone()));
                }
            }
        }
        // the session's own bytes only change places; entries must fit
        if self.ov.map.len() + moved.len() + 1 > self.limits.max_files * 2 {
            return Err(Errno::NoSpc);
        }
        if t.node.is_some() {
            self.drop_path(&dst, dst_pb)?;
        }
        self.drop_path(&src, src_pb)?;
        for (rel, node) in moved {
            let p = format!("{dst}{rel}");
            // moved entries are the session's own now: opaque, nothing of the base below
            self.ov.bytes += node.owned_len();
            self.ov.insert(&p, Slot::Here { node, opaque: true });
        }
        Ok(())
    }

    /// Expands a glob pattern (absolute, or relative to `cwd`) against the tree: matches
    /// sorted, at most `cap` of them; empty when nothing matches.
    pub fn glob(&self, cwd: &str, pattern: &str, cap: usize) -> Vec<String> {
        if pattern.len() > PATH_MAX {
            return Vec::new();
        }
        // entries looked at, in all: `*/*/*/…` cannot make it run away
        let mut work = 0usize;
        let absolute = pattern.starts_with('/');
        let comps: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
        // (path as the user wrote it, canonical path to look in)
        let mut cur: Vec<(String, String)> = vec![(
            if absolute { "/".into() } else { String::new() },
            if absolute {
                "/".into()
            } else {
                cwd.to_string()
            },
        )];
        for (i, comp) in comps.iter().enumerate() {
            let last = i + 1 == comps.len();
            let mut next = Vec::new();
            let magic = has_glob_meta(comp);
            for (shown, real) in &cur {
                let join_shown = |name: &str| {
                    if shown.is_empty() {
                        name.to_string()
                    } else if shown.ends_with('/') {
                        format!("{shown}{name}")
                    } else {
                        format!("{shown}/{name}")
                    }
                };
                if !magic {
                    let lit = unescape_glob(comp);
                    let p = join(real, &lit);
                    if let Ok(r) = self.resolve(&p, true) {
                        if r.node.is_some() && (last || r.node.is_some_and(Node::is_dir)) {
                            next.push((join_shown(&lit), r.path.clone()));
                        }
                    }
                    continue;
                }
                let Ok(entries) = self.list(real) else {
                    continue;
                };
                let pat: Vec<char> = comp.chars().collect();
                work += entries.len();
                if work > GLOB_WORK {
                    return Vec::new();
                }
                for (name, node) in entries {
                    if name.starts_with('.') && !comp.starts_with('.') {
                        continue;
                    }
                    let n: Vec<char> = name.chars().collect();
                    if fnmatch(&pat, &n) {
                        let canon = join(real, &name);
                        let is_dir = node.is_dir()
                            || (node.is_link()
                                && self
                                    .resolve(&canon, true)
                                    .ok()
                                    .and_then(|r| r.node)
                                    .is_some_and(Node::is_dir));
                        if last || is_dir {
                            next.push((join_shown(&name), canon));
                        }
                        if next.len() >= cap {
                            break;
                        }
                    }
                }
                if next.len() >= cap {
                    break;
                }
            }
            cur = next;
            if cur.is_empty() {
                return Vec::new();
            }
        }
        let mut out: Vec<String> = cur.into_iter().map(|(s, _)| s).collect();
        if pattern.ends_with('/') {
            for s in &mut out {
                s.push('/');
            }
        }
        out.sort();
        out.truncate(cap);
        out
    }
}

/// What reading a path gives.
#[derive(Debug)]
pub(crate) enum Readable {
    Data(Data),
    Dev(DevKind),
}

/// What a write did.
#[derive(Debug)]
pub(crate) struct WriteResult {
    pub path: String,
    pub size: usize,
    /// None for a device.
    pub sha256: Option<String>,
    /// The session's cap cut it.
    pub cut: bool,
}

/// Does a glob pattern have an unescaped `*`, `?` or `[`?
pub(crate) fn has_glob_meta(p: &str) -> bool {
    let mut esc = false;
    for c in p.chars() {
        if esc {
            esc = false;
        } else if c == '\\' {
            esc = true;
        } else if matches!(c, '*' | '?' | '[') {
            return true;
        }
    }
    false
}

/// A pattern's literal text (backslashes removed).
pub(crate) fn unescape_glob(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    let mut esc = false;
    for c in p.chars() {
        if esc {
            out.push(c);
            esc = false;
        } else if c == '\\' {
            esc = true;
        } else {
            out.push(c);
        }
    }
    out
}

/// Shell pattern matching (`*`, `?`, `[…]` with ranges and `!`/`^`, `\` escapes); linear
/// backtracking over the last `*`, so no pattern can make it exponential.
pub(crate) fn fnmatch(p: &[char], s: &[char]) -> bool {
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, si));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, next)) = class(p, pi, s[si]) {
                        if matched {
                            pi = next;
                            si += 1;
                            continue;
                        }
                    } else if s[si] == '[' {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                }
                '\\' if pi + 1 < p.len() => {
                    if p[pi + 1] == s[si] {
                        pi += 2;
                        si += 1;
                        continue;
                    }
                }
                c => {
                    if c == s[si] {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, ss)) => {
                pi = sp + 1;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// A bracket expression at `p[at]` against `c`: (matched, index after it), or None when the
/// bracket does not close (then it is a literal `[`).
fn class(p: &[char], at: usize, c: char) -> Option<(bool, usize)> {
    let mut i = at + 1;
    let negate = matches!(p.get(i), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < p.len() {
        let x = p[i];
        if x == ']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if x == '[' && p.get(i + 1) == Some(&':') {
            if let Some(end) =
                (i + 2..p.len().saturating_sub(1)).find(|&k| p[k] == ':' && p[k + 1] == ']')
            {
                let name: String = p[i + 2..end].iter().collect();
                matched |= match name.as_str() {
                    "alpha" => c.is_alphabetic(),
                    "digit" => c.is_ascii_digit(),
                    "alnum" => c.is_alphanumeric(),
                    "upper" => c.is_uppercase(),
                    "lower" => c.is_lowercase(),
                    "space" => c.is_whitespace(),
                    "xdigit" => c.is_ascii_hexdigit(),
                    "punct" => c.is_ascii_punctuation(),
                    _ => false,
                };
                i = end + 2;
                continue;
            }
        }
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&e| e != ']') {
            let hi = p[i + 2];
            matched |= x <= c && c <= hi;
            i += 3;
        } else {
            matched |= x == c;
            i += 1;
        }
    }
    None
}

/// The bytes of a binary: an x86-64 ELF header (what droppers read to learn the
/// architecture) and pseudo-random bytes with a few strings, the same for the same seed and
/// program. `limit` cuts what is made (a `head -c 20` makes 20 bytes).
pub(crate) fn binary_bytes(seed: u64, prog: &str, size: usize, limit: usize) -> Vec<u8> {
    let n = size.min(limit);
    let mut out = Vec::with_capacity(n);
    let h = super::util::fnv(&[prog.as_bytes(), &seed.to_le_bytes()]);
    let mut hdr = [0u8; 64];
    hdr[..8].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    hdr[16] = 3; // ET_DYN
    hdr[18] = 0x3e; // EM_X86_64
    hdr[20] = 1;
    let entry = 0x4000u64 + (h & 0xfff0);
    hdr[24..32].copy_from_slice(&entry.to_le_bytes());
    hdr[32..40].copy_from_slice(&64u64.to_le_bytes());
    let shoff = (size as u64).saturating_sub(64 * 30);
    hdr[40..48].copy_from_slice(&shoff.to_le_bytes());
    hdr[52] = 64;
    hdr[54] = 56;
    hdr[56] = 13;
    hdr[58] = 64;
    hdr[60] = 30;
    hdr[62] = 29;
    out.extend_from_slice(&hdr[..n.min(64)]);
    let strings: [&[u8]; 10] = [
        b"/lib64/ld-linux-x86-64.so.2\0",
        b"libc.so.6\0",
        b"GLIBC_2.34\0",
        b"GLIBC_2.2.5\0",
        b"__cxa_finalize\0",
        b"_ITM_registerTMCloneTable\0",
        b"__libc_start_main\0",
        b".shstrtab\0.interp\0.note.gnu.property\0.text\0.rodata\0.data\0.bss\0",
        b"__gmon_start__\0",
        b"GCC: (GNU) 12.2.0\0",
    ];
    let mut rng = fastrand::Rng::with_seed(h);
    let mut k = 0usize;
    while out.len() < n {
        if out.len() >= 0x318 && k < strings.len() && rng.u8(..) < 8 {
            out.extend_from_slice(strings[k]);
            k += 1;
        } else if rng.u8(..) < 96 {
            // real binaries are full of zeros
            let z = rng.usize(1..24);
            out.extend(std::iter::repeat_n(0u8, z));
        } else {
            out.extend_from_slice(&rng.u64(..).to_le_bytes());
        }
    }
    out.truncate(n);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Base {
        let mut b = Base::default();
        let dir = |mode| Node {
            kind: Kind::Dir,
            mode,
            uid: 0,
            gid: 0,
            mtime: 0,
        };
        b.insert("/", dir(0o755));
        b.insert("/tmp", dir(0o1777));
        b.insert("/root", dir(0o700));
        b.insert(
            "/root/secret",
            Node {
                kind: Kind::File(Data::Shared(Arc::from(&b"s3cret\n"[..]))),
                mode: 0o600,
                uid: 0,
                gid: 0,
                mtime: 0,
            },
        );
        b.insert(
            "/etc/passwd",
            Node {
                kind: Kind::File(Data::Shared(Arc::from(
                    &b"root:x:0:0::/root:/bin/bash\n"[..],
                ))),
                mode: 0o644,
                uid: 0,
                gid: 0,
                mtime: 0,
            },
        );
        b.insert(
            "/usr/bin/ls",
            Node {
                kind: Kind::File(Data::Binary {
                    prog: "ls",
                    size: 138_208,
                }),
                mode: 0o755,
                uid: 0,
                gid: 0,
                mtime: 0,
            },
        );
        b.insert(
            "/bin",
            Node {
                kind: Kind::Link("usr/bin".into()),
                mode: 0o777,
                uid: 0,
                gid: 0,
                mtime: 0,
            },
        );
        b.insert(
            "/home/u",
            Node {
                kind: Kind::Dir,
                mode: 0o750,
                uid: 1000,
                gid: 1000,
                mtime: 0,
            },
        );
        b.insert(
            "/loop",
            Node {
                kind: Kind::Link("/loop".into()),
                mode: 0o777,
                uid: 0,
                gid: 0,
                mtime: 0,
            },
        );
        b
    }

    fn fs<'a>(b: &'a Base, ov: &'a mut Overlay, uid: u32) -> Fs<'a> {
        Fs {
            base: b,
            ov,
            cred: Cred { uid, gid: uid },
            limits: FsLimits {
                max_bytes: 1000,
                max_files: 8,
            },
            now: 1,
            seed: 7,
        }
    }

    #[test]
    fn resolution_follows_links_and_checks_permissions() {
        let b = base();
        let mut ov = Overlay::default();
        let f = fs(&b, &mut ov, 1000);
        assert_eq!(f.stat("/bin/ls", true).unwrap().0, "/usr/bin/ls");
        assert_eq!(f.stat("/tmp/../bin/./ls", true).unwrap().0, "/usr/bin/ls");
        assert_eq!(f.stat("/bin", false).unwrap().0, "/bin");
        assert_eq!(f.stat("/root/secret", true).unwrap_err(), Errno::Acces);
        assert_eq!(f.stat("/nope/x", true).unwrap_err(), Errno::NoEnt);
        assert_eq!(f.stat("/etc/passwd/x", true).unwrap_err(), Errno::NotDir);
        assert_eq!(f.stat("/etc/passwd/", true).unwrap_err(), Errno::NotDir);
        assert_eq!(f.stat("/loop", true).unwrap_err(), Errno::Loop);
        assert_eq!(
            f.stat(&format!("/{}", "a".repeat(300)), true).unwrap_err(),
            Errno::NameTooLong
        );
        let root = fs(&b, &mut ov, 0);
        assert!(root.stat("/root/secret", true).is_ok());
    }

    #[test]
    fn the_overlay_hides_and_adds_without_touching_the_base() {
        let b = base();
        let mut ov = Overlay::default();
        let mut f = fs(&b, &mut ov, 0);
        f.write("/tmp/a", b"hello", false, 0o644).unwrap();
        f.unlink("/etc/passwd").unwrap();
        assert_eq!(f.stat("/etc/passwd", true).unwrap_err(), Errno::NoEnt);
        let names: Vec<String> = f.list("/tmp").unwrap().into_iter().map(|e| e.0).collect();
        assert_eq!(names, ["a"]);
        // a re-created directory is opaque: the base's entries below do not come back
        f.remove_tree("/root").unwrap();
        f.create("/root", Kind::Dir, 0o700).unwrap();
        assert!(f.list("/root").unwrap().is_empty());
        assert_eq!(f.stat("/root/secret", true).unwrap_err(), Errno::NoEnt);
        // the base is unchanged
        assert!(b.get("/etc/passwd").is_some());
        let mut other = Overlay::default();
        let g = fs(&b, &mut other, 0);
        assert!(g.stat("/etc/passwd", true).is_ok());
        assert_eq!(g.stat("/tmp/a", true).unwrap_err(), Errno::NoEnt);
    }

    #[test]
    fn caps_give_enospc_and_keep_what_fit() {
        let b = base();
        let mut ov = Overlay::default();
        let mut f = fs(&b, &mut ov, 0);
        let w = f.write("/tmp/big", &[b'x'; 1500], false, 0o644).unwrap();
        assert!(w.cut);
        assert_eq!(w.size, 1000);
        assert_eq!(f.ov.content_bytes(), 1000);
        assert!(f.write("/tmp/more", b"y", false, 0o644).unwrap().cut);
        f.unlink("/tmp/big").unwrap();
        assert_eq!(f.ov.content_bytes(), 0);
        // /tmp/more is one entry: seven more fill the eight
        for i in 0..7 {
            f.create(&format!("/tmp/d{i}"), Kind::Dir, 0o755).unwrap();
        }
        assert_eq!(
            f.create("/tmp/d9", Kind::Dir, 0o755).unwrap_err(),
            Errno::NoSpc
        );
    }

    #[test]
    fn appends_hash_incrementally_and_match_a_full_hash() {
        let b = base();
        let mut ov = Overlay::default();
        let mut f = fs(&b, &mut ov, 0);
        f.write("/tmp/x", b"ab", false, 0o644).unwrap();
        let w = f.write("/tmp/x", b"c", true, 0o644).unwrap();
        assert_eq!(w.sha256.unwrap(), super::super::util::sha256_hex(b"abc"));
        // appending to a base file copies it first
        let w = f.write("/etc/passwd", b"x\n", true, 0o644).unwrap();
        assert_eq!(w.size, "root:x:0:0::/root:/bin/bash\nx\n".len());
    }

    #[test]
    fn sticky_tmp_and_non_root_writes() {
        let b = base();
        let mut ov = Overlay::default();
        let mut f = fs(&b, &mut ov, 0);
        f.write("/tmp/roots", b"r", false, 0o644).unwrap();
        let mut u = fs(&b, f.ov, 1000);
        assert_eq!(u.unlink("/tmp/roots").unwrap_err(), Errno::Perm);
        assert_eq!(
            u.write("/etc/passwd", b"x", true, 0o644).unwrap_err(),
            Errno::Acces
        );
        assert_eq!(
            u.write("/etc/new", b"x", false, 0o644).unwrap_err(),
            Errno::Acces
        );
        assert!(u.write("/tmp/mine", b"x", false, 0o644).is_ok());
        assert!(u.unlink("/tmp/mine").is_ok());
    }

    #[test]
    fn rename_moves_subtrees() {
        let b = base();
        let mut ov = Overlay::default();
        let mut f = fs(&b, &mut ov, 0);
        f.create("/tmp/d", Kind::Dir, 0o755).unwrap();
        f.write("/tmp/d/f", b"data", false, 0o644).unwrap();
        f.rename("/tmp/d", "/tmp/e").unwrap();
        assert!(f.stat("/tmp/d", true).is_err());
        assert_eq!(f.stat("/tmp/e/f", true).unwrap().1.size(), 4);
        f.rename("/etc/passwd", "/tmp/p").unwrap();
        assert!(f.stat("/etc/passwd", true).is_err());
        assert!(f.stat("/tmp/p", true).is_ok());
        assert_eq!(f.ov.content_bytes(), 4);
    }

    #[test]
    fn globbing() {
        let b = base();
        let mut ov = Overlay::default();
        let mut f = fs(&b, &mut ov, 0);
        for n in ["a.sh", "b.sh", "c.txt", ".hidden.sh"] {
            f.write(&format!("/tmp/{n}"), b"", false, 0o644).unwrap();
        }
        assert_eq!(f.glob("/", "/tmp/*.sh", 100), ["/tmp/a.sh", "/tmp/b.sh"]);
        assert_eq!(f.glob("/tmp", "*.sh", 100), ["a.sh", "b.sh"]);
        assert_eq!(f.glob("/tmp", ".*.sh", 100), [".hidden.sh"]);
        assert_eq!(f.glob("/", "/t?p/[ab].*", 100), ["/tmp/a.sh", "/tmp/b.sh"]);
        assert_eq!(f.glob("/", "/*/ls", 100), ["/bin/ls"]);
        assert!(f.glob("/", "/nope/*", 100).is_empty());
        assert!(!fnmatch(
            &"*a*a*a*a*a*b".chars().collect::<Vec<_>>(),
            &"a".repeat(2000).chars().collect::<Vec<_>>()
        ));
        assert!(fnmatch(
            &"[!0-9]x".chars().collect::<Vec<_>>(),
            &"ax".chars().collect::<Vec<_>>()
        ));
    }

    #[test]
    fn binaries_look_like_x86_64_elf() {
        let b = binary_bytes(7, "ls", 138_208, usize::MAX);
        assert_eq!(b.len(), 138_208);
        assert_eq!(&b[..4], b"\x7fELF");
        assert_eq!(b[18], 0x3e);
        assert_eq!(binary_bytes(7, "ls", 138_208, 52), b[..52]);
        assert_ne!(binary_bytes(7, "cat", 138_208, 4096), b[..4096]);
    }
}
