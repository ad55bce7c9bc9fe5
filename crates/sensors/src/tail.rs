//! Following a log file: only new bytes, across rotation, without losing or repeating a line.
//!
//! A file is identified by (device, inode) plus a hash of its first line, so a file that was
//! replaced under the same name, or truncated in place (copytruncate), is recognized. On
//! rename + create, the old file is read to its end before switching to the new one. The
//! position ([`TailState`]) is what the pipeline stores in the same transaction as everything
//! derived from those bytes; on restart it resumes there, even when the file was rotated while
//! tripline was down (the rotated file is found by inode next to the original).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tripline_event::MAX_RAW_BYTES;

/// Bytes one read asks for. The complete lines of a read share one buffer while their events
/// are in flight, so this also sizes the blocks the allocator hands out and takes back.
pub const READ_BYTES: usize = 64 * 1024;

/// Called per complete line: its bytes, the buffer they lie in when they are a part of a shared
/// read (see [`LineSplitter::feed_shared`]), and the offset just past the line.
pub type OnLine<'a> = dyn FnMut(&[u8], Option<&Arc<str>>, u64) + 'a;

/// A stored read position.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TailState {
    pub dev: u64,
    pub ino: u64,
    pub offset: u64,
    /// FNV-1a of the first line (up to 256 bytes); 0 when the file was empty.
    pub head_hash: u64,
}

/// Errors reading a followed file.
#[derive(Debug, thiserror::Error)]
pub enum TailError {
    #[error("permission denied reading {path}: add the user running tripline to the group that owns it (on Debian: `adm`, e.g. `sudo usermod -aG adm $USER`) or run as root")]
    PermissionDenied { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

impl TailError {
    fn from_io(path: &Path, e: io::Error) -> TailError {
        if e.kind() == io::ErrorKind::PermissionDenied {
            TailError::PermissionDenied {
                path: path.to_path_buf(),
            }
        } else {
            TailError::Io {
                path: path.to_path_buf(),
                source: e,
            }
        }
    }
}

/// What happened on the last poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poll {
    /// Lines were delivered.
    Data,
    /// Nothing new.
    Idle,
    /// The file does not exist (yet).
    Missing,
}

/// Follows one path.
#[derive(Debug)]
pub struct Tailer {
    path: PathBuf,
    file: Option<File>,
    state: TailState,
    lines: LineSplitter,
    buf: Vec<u8>,
    /// Old file still to be drained after a rotation found at startup.
    draining: Option<File>,
    /// The last poll stopped at `max_bytes` with more to read.
    backlog: bool,
}

/// A hash of the file's first line (of at most its first 256 bytes); 0 while that is not known
/// yet (empty, or a first line still being written): a hash that cannot change as the file
/// grows, so a different one means the file was rewritten.
fn head_hash(file: &mut File) -> io::Result<u64> {
    use std::os::unix::fs::FileExt;
    let mut head = [0u8; 256];
    // read in place: the reading position stays where it is
    let mut n = 0;
    while n < head.len() {
        match file.read_at(&mut head[n..], n as u64)? {
            0 => break,
            k => n += k,
        }
    }
    let line = match memchr::memchr(b'\n', &head[..n]) {
        Some(i) => &head[..i],
        None if n == head.len() => &head[..n],
        None => return Ok(0),
    };
    if line.is_empty() {
        return Ok(0);
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in line {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    Ok(h)
}

impl Tailer {
    /// Start following `path`. With a saved state, resume from it (reading the rest of a file
    /// rotated meanwhile first); without, start at the end unless `from_start`.
    pub fn open(
        path: &Path,
        saved: Option<TailState>,
        from_start: bool,
    ) -> Result<Tailer, TailError> {
        let mut t = Tailer {
            path: path.to_path_buf(),
            file: None,
            state: TailState::default(),
            lines: LineSplitter::default(),
            buf: vec![0; READ_BYTES],
            draining: None,
            backlog: false,
        };
        let Some((mut file, meta)) = t.open_current()? else {
            // not there yet: when it appears it is new, so read it from its start
            return Ok(t);
        };
        let hh = head_hash(&mut file).map_err(|e| TailError::from_io(path, e))?;
        let mut state = TailState {
            dev: meta.dev(),
            ino: meta.ino(),
            offset: 0,
            head_hash: hh,
        };
        match saved {
            Some(s)
                if s.dev == state.dev
                    && s.ino == state.ino
                    && s.head_hash == hh
                    && meta.len() >= s.offset =>
            {
                state.offset = s.offset;
            }
            Some(s) if s.ino != state.ino => {
                // rotated while we were away: drain the old file from where we stopped
                if let Some(mut old) = find_rotated(path, &s) {
                    if old.seek(SeekFrom::Start(s.offset)).is_ok() {
                        t.draining = Some(old);
                    }
                }
            }
            Some(_) => {} // same inode but truncated or rewritten: start over
            None if from_start => {}
            None => state.offset = meta.len(),
        }
        file.seek(SeekFrom::Start(state.offset))
            .map_err(|e| TailError::from_io(path, e))?;
        t.state = state;
        t.file = Some(file);
        Ok(t)
    }

    /// Whether the last [`Tailer::poll`] stopped at its byte budget with more to read (a
    /// backlog), rather than at the end of the file.
    pub fn backlog(&self) -> bool {
        self.backlog
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The position just past the last delivered line.
    pub fn state(&self) -> &TailState {
        &self.state
    }

    /// Lines cut at [`MAX_RAW_BYTES`] so far.
    pub fn truncated(&self) -> u64 {
        self.lines.truncated
    }

    pub fn is_open(&self) -> bool {
        self.file.is_some()
    }

    fn open_current(&self) -> Result<Option<(File, std::fs::Metadata)>, TailError> {
        match File::open(&self.path) {
            Ok(f) => {
                let m = f
                    .metadata()
                    .map_err(|e| TailError::from_io(&self.path, e))?;
                Ok(Some((f, m)))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(TailError::from_io(&self.path, e)),
        }
    }

    /// Read what is available, calling `line(bytes, end_offset)` per complete line, up to about
    /// `max_bytes`. With `eof_flush`, a final line without newline is delivered too (for `once`).
    pub fn poll(
        &mut self,
        max_bytes: usize,
        eof_flush: bool,
        line: &mut OnLine<'_>,
    ) -> Result<Poll, TailError> {
        if let Some(mut old) = self.draining.take() {
            // the rest of a file rotated while we were away; its positions are not resumable
            // once the new file is current, so lines from it report offset 0 of the new file
            let mut drain = LineSplitter::default();
            let mut scratch = 0u64;
            loop {
                let n = old
                    .read(&mut self.buf)
                    .map_err(|e| TailError::from_io(&self.path, e))?;
                if n == 0 {
                    break;
                }
                drain.feed_shared(&self.buf[..n], &mut scratch, &mut |l, s, _| line(l, s, 0));
            }
            drain.flush(&mut scratch, &mut |l, s, _| line(l, s, 0));
            self.lines.truncated += drain.truncated;
        }
        if self.file.is_none() {
            match self.open_current()? {
                Some((mut f, m)) => {
                    let hh = head_hash(&mut f).map_err(|e| TailError::from_io(&self.path, e))?;
                    self.state = TailState {
                        dev: m.dev(),
                        ino: m.ino(),
                        offset: 0,
                        head_hash: hh,
                    };
                    self.file = Some(f);
                }
                None => return Ok(Poll::Missing),
            }
        }
        // rewritten in place since the last read (copytruncate, then a write longer than where
        // we were): its first line is another; read it again from its start
        if self.state.head_hash != 0 && self.state.offset > 0 {
            if let Some(f) = self.file.as_mut() {
                let hh = head_hash(f).map_err(|e| TailError::from_io(&self.path, e))?;
                if hh != 0 && hh != self.state.head_hash {
                    f.seek(SeekFrom::Start(0))
                        .map_err(|e| TailError::from_io(&self.path, e))?;
                    self.lines.reset();
                    self.state.offset = 0;
                    self.state.head_hash = hh;
                }
            }
        }
        let mut delivered = false;
        let mut total = 0usize;
        self.backlog = false;
        loop {
            // Invariant: self.file is Some here (opened above or kept from before).
            let file = self.file.as_mut().expect("file is open");
            let n = file
                .read(&mut self.buf)
                .map_err(|e| TailError::from_io(&self.path, e))?;
            if n == 0 {
                if eof_flush {
                    delivered |= self.lines.flush(&mut self.state.offset, line);
                }
                if self.check_rotation(line)? {
                    continue;
                }
                break;
            }
            if self.state.head_hash == 0 {
                if let Some(f) = self.file.as_mut() {
                    self.state.head_hash = head_hash(f).unwrap_or(0);
                }
            }
            let before = self.state.offset;
            self.lines
                .feed_shared(&self.buf[..n], &mut self.state.offset, line);
            delivered |= self.state.offset != before;
            total += n;
            if total >= max_bytes {
                self.backlog = true;
                break;
            }
        }
        Ok(if delivered { Poll::Data } else { Poll::Idle })
    }

    /// At end of file: has the path been replaced, or the file truncated? Returns true when the
    /// reader switched files and should read again.
    fn check_rotation(&mut self, line: &mut OnLine<'_>) -> Result<bool, TailError> {
        let Some(file) = self.file.as_mut() else {
            return Ok(false);
        };
        let pos = self.state.offset + self.lines.pending;
        let meta = file
            .metadata()
            .map_err(|e| TailError::from_io(&self.path, e))?;
        if meta.len() < pos {
            // truncated in place (copytruncate): start again from the beginning
            file.seek(SeekFrom::Start(0))
                .map_err(|e| TailError::from_io(&self.path, e))?;
            self.lines.reset();
            self.state.offset = 0;
            self.state.head_hash = head_hash(file).unwrap_or(0);
            return Ok(true);
        }
        match std::fs::metadata(&self.path) {
            Ok(m) if m.ino() != self.state.ino || m.dev() != self.state.dev => {
                // rename + create: the old file may have grown since the read that found its
                // end (its writer appends its last lines after the rename, before the new file
                // appears): read it to its end now, then a last line without newline in it is
                // still a line
                if let Some(old) = self.file.as_mut() {
                    loop {
                        let n = old
                            .read(&mut self.buf)
                            .map_err(|e| TailError::from_io(&self.path, e))?;
                        if n == 0 {
                            break;
                        }
                        self.lines
                            .feed_shared(&self.buf[..n], &mut self.state.offset, line);
                    }
                }
                let mut off = self.state.offset;
                self.lines.flush(&mut off, &mut |l, s, _| line(l, s, 0));
                self.file = None;
                match self.open_current()? {
                    Some((mut f, m)) => {
                        let hh =
                            head_hash(&mut f).map_err(|e| TailError::from_io(&self.path, e))?;
                        self.state = TailState {
                            dev: m.dev(),
                            ino: m.ino(),
                            offset: 0,
                            head_hash: hh,
                        };
                        self.file = Some(f);
                        Ok(true)
                    }
                    None => Ok(false),
                }
            }
            _ => Ok(false),
        }
    }
}

/// Splits a byte stream into lines, carrying an unfinished line between reads and capping lines
/// at [`MAX_RAW_BYTES`] (the excess is skipped and counted). Offsets advance only when a line is
/// complete, so a stored offset always points at the start of a line.
#[derive(Debug, Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
    /// bytes consumed since the last complete line (kept or skipped)
    pending: u64,
    skipping: bool,
    truncated: u64,
}

impl LineSplitter {
    /// [`LineSplitter::feed`], with the complete lines of `chunk` copied into one shared buffer
    /// when they are valid UTF-8: each line is then handed out with that buffer, and the events
    /// made of them share it instead of each copying its line (one allocation per read instead
    /// of one per line). Lines of a read that is not valid UTF-8 come without it.
    pub fn feed_shared(&mut self, chunk: &[u8], offset: &mut u64, line: &mut OnLine<'_>) {
        let end = memchr::memrchr(b'\n', chunk).map_or(0, |i| i + 1);
        // a line carried over from the last read is put together apart (and may start with the
        // rest of a character the last read cut)
        let start = if self.pending > 0 {
            memchr::memchr(b'\n', &chunk[..end]).map_or(0, |i| i + 1)
        } else {
            0
        };
        match simdutf8::basic::from_utf8(&chunk[start..end]) {
            Ok(text) if end > start => {
                self.feed(&chunk[..start], None, offset, line);
                let shared: Arc<str> = Arc::from(text);
                self.feed(shared.as_bytes(), Some(&shared), offset, line);
                self.feed(&chunk[end..], None, offset, line);
            }
            _ => self.feed(chunk, None, offset, line),
        }
    }

    /// Split `chunk`, calling `line(bytes, shared, offset after the line)` for each complete
    /// line; `offset` is where `chunk` starts and advances line by line. `shared` is the buffer
    /// `chunk` is (or None); a line put together across reads comes without it.
    pub fn feed(
        &mut self,
        chunk: &[u8],
        shared: Option<&Arc<str>>,
        offset: &mut u64,
        line: &mut OnLine<'_>,
    ) {
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', chunk) {
            let piece = &chunk[start..nl];
            *offset += self.pending + (nl + 1 - start) as u64;
            self.pending = 0;
            if self.partial.is_empty() && !self.skipping {
                if piece.len() > MAX_RAW_BYTES {
                    self.truncated += 1;
                    line(&piece[..MAX_RAW_BYTES], shared, *offset);
                } else {
                    line(strip_cr(piece), shared, *offset);
                }
            } else {
                if !self.skipping {
                    let room = MAX_RAW_BYTES.saturating_sub(self.partial.len());
                    if piece.len() > room {
                        self.truncated += 1;
                    }
                    self.partial
                        .extend_from_slice(&piece[..piece.len().min(room)]);
                }
                self.skipping = false;
                let p = std::mem::take(&mut self.partial);
                line(strip_cr(&p), None, *offset);
            }
            start = nl + 1;
        }
        let rest = &chunk[start..];
        self.pending += rest.len() as u64;
        if !self.skipping {
            let room = MAX_RAW_BYTES.saturating_sub(self.partial.len());
            if rest.len() > room {
                self.partial.extend_from_slice(&rest[..room]);
                self.truncated += 1;
                self.skipping = true;
            } else {
                self.partial.extend_from_slice(rest);
            }
        }
    }

    /// Deliver an unfinished last line (end of a `once` scan or of a rotated file).
    fn flush(&mut self, offset: &mut u64, line: &mut OnLine<'_>) -> bool {
        if self.pending == 0 {
            return false;
        }
        *offset += self.pending;
        self.pending = 0;
        self.skipping = false;
        let p = std::mem::take(&mut self.partial);
        line(strip_cr(&p), None, *offset);
        true
    }

    fn reset(&mut self) {
        self.partial.clear();
        self.pending = 0;
        self.skipping = false;
    }
}

fn strip_cr(b: &[u8]) -> &[u8] {
    b.strip_suffix(b"\r").unwrap_or(b)
}

/// A rotated copy of `path` with the saved inode: `path.1`, `path.0`, `path-*`.
fn find_rotated(path: &Path, saved: &TailState) -> Option<File> {
    let name = path.file_name()?.to_string_lossy().to_string();
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let entries = std::fs::read_dir(dir).ok()?;
    for entry in entries.flatten() {
        let n = entry.file_name().to_string_lossy().to_string();
        if n != name && n.starts_with(&name) && !n.ends_with(".gz") && !n.ends_with(".xz") {
            if let Ok(m) = entry.metadata() {
                if m.ino() == saved.ino && m.dev() == saved.dev {
                    return File::open(entry.path()).ok();
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn collect(t: &mut Tailer, flush: bool) -> Vec<(String, u64)> {
        let mut out = vec![];
        t.poll(usize::MAX, flush, &mut |l, shared, off| {
            // a line handed out with a shared buffer is a part of it
            if let Some(buf) = shared {
                assert_eq!(
                    tripline_event::Line::str_in(buf, l).map(str::as_bytes),
                    Some(l)
                );
            }
            out.push((String::from_utf8_lossy(l).into_owned(), off))
        })
        .unwrap();
        out
    }

    #[test]
    fn reads_only_new_lines_and_reports_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("auth.log");
        std::fs::write(&p, "old\n").unwrap();
        let mut t = Tailer::open(&p, None, false).unwrap();
        assert!(
            collect(&mut t, false).is_empty(),
            "starts at the end of a never-seen file"
        );
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"a\nb\nparti").unwrap();
        assert_eq!(
            collect(&mut t, false),
            vec![("a".into(), 6), ("b".into(), 8)]
        );
        f.write_all(b"al\n").unwrap();
        assert_eq!(collect(&mut t, false), vec![("partial".into(), 16)]);
    }

    #[test]
    fn follows_rename_and_create() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("auth.log");
        std::fs::write(&p, "first\n").unwrap();
        let mut t = Tailer::open(&p, None, true).unwrap();
        assert_eq!(collect(&mut t, false).len(), 1);
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"late line in old file\n").unwrap();
        std::fs::rename(&p, dir.path().join("auth.log.1")).unwrap();
        std::fs::write(&p, "new file\n").unwrap();
        let got: Vec<String> = collect(&mut t, false).into_iter().map(|x| x.0).collect();
        assert_eq!(got, vec!["late line in old file", "new file"]);
    }

    #[test]
    fn follows_copytruncate() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("auth.log");
        std::fs::write(&p, "one\ntwo\n").unwrap();
        let mut t = Tailer::open(&p, None, true).unwrap();
        assert_eq!(collect(&mut t, false).len(), 2);
        std::fs::write(&p, "x\n").unwrap(); // truncate + write, same inode
        assert_eq!(collect(&mut t, false), vec![("x".into(), 2)]);
    }

    /// copytruncate, then one write longer than where the reader was, before it looked again:
    /// every new line is read (none lost to the old offset), and a restart from the state it
    /// leaves reads none of them twice.
    #[test]
    fn copytruncate_then_a_write_longer_than_the_old_offset_loses_and_doubles_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("auth.log");
        std::fs::write(&p, "one\ntwo\n").unwrap();
        let mut t = Tailer::open(&p, None, true).unwrap();
        assert_eq!(collect(&mut t, false).len(), 2);
        let new: String = (0..10).map(|i| format!("new line {i}\n")).collect();
        std::fs::write(&p, &new).unwrap(); // truncate + one long write, same inode
        let got: Vec<String> = collect(&mut t, false).into_iter().map(|x| x.0).collect();
        assert_eq!(got.len(), 10, "{got:?}");
        assert_eq!(got[0], "new line 0");
        let saved = t.state().clone();
        assert_eq!(saved.offset, new.len() as u64);
        drop(t);
        let mut t = Tailer::open(&p, Some(saved), false).unwrap();
        assert!(collect(&mut t, false).is_empty());
    }

    /// A first line still being written is not taken for a rewritten file as it grows.
    #[test]
    fn a_first_line_written_in_parts_is_read_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("auth.log");
        std::fs::write(&p, "first li").unwrap();
        let mut t = Tailer::open(&p, None, true).unwrap();
        assert!(collect(&mut t, false).is_empty());
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"ne\nsecond\n").unwrap();
        let got: Vec<String> = collect(&mut t, false).into_iter().map(|x| x.0).collect();
        assert_eq!(got, vec!["first line", "second"]);
        f.write_all(b"third\n").unwrap();
        let got: Vec<String> = collect(&mut t, false).into_iter().map(|x| x.0).collect();
        assert_eq!(got, vec!["third"]);
    }

    #[test]
    fn resumes_from_saved_state_and_drains_file_rotated_while_down() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("auth.log");
        std::fs::write(&p, "a\nb\n").unwrap();
        let mut t = Tailer::open(&p, None, true).unwrap();
        collect(&mut t, false);
        let saved = t.state().clone();
        drop(t);
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"c\n").unwrap();
        std::fs::rename(&p, dir.path().join("auth.log.1")).unwrap();
        std::fs::write(&p, "d\n").unwrap();
        let mut t = Tailer::open(&p, Some(saved), false).unwrap();
        let got: Vec<String> = collect(&mut t, false).into_iter().map(|x| x.0).collect();
        assert_eq!(got, vec!["c", "d"]);
    }

    #[test]
    fn overlong_lines_are_cut_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.log");
        let mut data = vec![b'x'; MAX_RAW_BYTES * 3];
        data.extend_from_slice(b"\nnext\n");
        std::fs::write(&p, &data).unwrap();
        let mut t = Tailer::open(&p, None, true).unwrap();
        let got = collect(&mut t, false);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0.len(), MAX_RAW_BYTES);
        assert_eq!(got[1], ("next".into(), data.len() as u64));
        assert_eq!(t.truncated(), 1);
    }

    #[test]
    fn missing_file_is_reported_then_picked_up_from_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("later.log");
        let mut t = Tailer::open(&p, None, false).unwrap();
        assert_eq!(
            t.poll(1 << 20, false, &mut |_, _, _| {}).unwrap(),
            Poll::Missing
        );
        std::fs::write(&p, "hello\n").unwrap();
        assert_eq!(collect(&mut t, false), vec![("hello".into(), 6)]);
    }

    /// Feed `reads` through one splitter; per line: its text and whether it came shared.
    fn split_shared(reads: &[&[u8]]) -> Vec<(String, bool)> {
        let (mut sp, mut off, mut out) = (LineSplitter::default(), 0u64, vec![]);
        for r in reads {
            sp.feed_shared(r, &mut off, &mut |l, shared, _| {
                if let Some(buf) = shared {
                    assert_eq!(
                        tripline_event::Line::str_in(buf, l).map(str::as_bytes),
                        Some(l)
                    );
                }
                out.push((String::from_utf8_lossy(l).into_owned(), shared.is_some()))
            });
        }
        out
    }

    #[test]
    fn lines_of_a_valid_read_share_its_buffer_and_the_others_come_alone() {
        let got = split_shared(&[
            b"one\ntwo\r\nthr",
            b"ee\nf\xffour\nfive\n",
            b"s\xc3\xa9x\nr\xc3",
            // the read cut a character: the line it ends is put together, the rest shared
            b"\xa9st\nlast\n",
        ]);
        assert_eq!(
            got,
            vec![
                ("one".into(), true),
                ("two".into(), true),
                // put together across two reads
                ("three".into(), false),
                // a read with invalid UTF-8 shares nothing
                ("f\u{fffd}our".into(), false),
                ("five".into(), false),
                ("s\u{e9}x".into(), true),
                ("r\u{e9}st".into(), false),
                ("last".into(), true),
            ]
        );
        // a line cut at the cap inside a character is not a text on its own: its bytes come
        // with the buffer, and the reader finds it is not a part of it (then decodes it)
        let mut long = vec![b'a'; MAX_RAW_BYTES - 1];
        long.extend_from_slice("\u{e9}\n".as_bytes());
        let (mut sp, mut off, mut parts) = (LineSplitter::default(), 0u64, vec![]);
        sp.feed_shared(&long, &mut off, &mut |l, shared, _| {
            parts.push(
                shared
                    .and_then(|b| tripline_event::Line::str_in(b, l))
                    .is_some(),
            )
        });
        assert_eq!(parts, vec![false]);
        assert_eq!(sp.truncated, 1);
    }
}
