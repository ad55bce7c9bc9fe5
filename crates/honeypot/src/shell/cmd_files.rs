//! File commands, as GNU coreutils prints them: `ls cat cp mv rm mkdir rmdir touch chmod
//! chown ln head tail wc md5sum sha1sum sha256sum base64 stat file find dd tee readlink
//! basename dirname mktemp chattr lsattr`, and `tar`/`gzip` as far as failing goes.
//! Everything reads and writes the session's view of the fake filesystem.

use super::exec::{Io, Run};
use super::fs::{join, Data, Errno, Kind, Node, Readable};
use super::{util, Effect, Shell};

/// Options of a command line, getopt style (clusters, values attached or next, `--`).
#[derive(Debug, Default)]
pub(crate) struct Opts {
    pub flags: Vec<char>,
    pub vals: Vec<(char, String)>,
    pub long: Vec<String>,
    pub ops: Vec<String>,
    /// The first option not in the known set.
    pub bad: Option<char>,
    /// An option that needs a value and had none.
    pub missing: Option<char>,
}

impl Opts {
    pub fn has(&self, c: char) -> bool {
        self.flags.contains(&c)
    }
    pub fn val(&self, c: char) -> Option<&str> {
        self.vals
            .iter()
            .rev()
            .find(|(k, _)| *k == c)
            .map(|(_, v)| v.as_str())
    }
    pub fn long_has(&self, name: &str) -> bool {
        self.long
            .iter()
            .any(|l| l == name || l.starts_with(&format!("{name}=")))
    }
    pub fn long_val(&self, name: &str) -> Option<&str> {
        self.long
            .iter()
            .rev()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
    }
}

/// Parses `argv[1..]`: `takes` are the options with a value; `known` (when given) the
/// options without one.
pub(crate) fn getopt(argv: &[String], takes: &str, known: Option<&str>) -> Opts {
    let mut o = Opts::default();
    let mut it = argv.iter().skip(1);
    while let Some(a) = it.next() {
        if a == "--" {
            o.ops.extend(it.cloned());
            break;
        }
        if let Some(l) = a.strip_prefix("--") {
            o.long.push(l.to_string());
            continue;
        }
        if a.len() > 1 && a.starts_with('-') {
            let cs: Vec<char> = a.chars().skip(1).collect();
            let mut k = 0;
            while k < cs.len() {
                let c = cs[k];
                if takes.contains(c) {
                    let rest: String = cs[k + 1..].iter().collect();
                    let v = if !rest.is_empty() {
                        Some(rest)
                    } else {
                        it.next().cloned()
                    };
                    match v {
                        Some(v) => o.vals.push((c, v)),
                        None => {
                            o.missing.get_or_insert(c);
                        }
                    }
                    break;
                }
                if let Some(kn) = known {
                    if !kn.contains(c) && !c.is_ascii_digit() {
                        o.bad.get_or_insert(c);
                    }
                }
                o.flags.push(c);
                k += 1;
            }
            continue;
        }
        o.ops.push(a.clone());
    }
    o
}

/// `cmd: invalid option -- 'x'` and the hint, status 1 (2 for ls).
pub(crate) fn bad_option(rt: &mut Run, io: &Io, cmd: &str, c: char) {
    err!(
        rt,
        io,
        "{cmd}: invalid option -- '{c}'\nTry '{cmd} --help' for more information.\n"
    );
}

/// The base name a command calls itself by.
pub(crate) fn name_of(argv: &[String]) -> String {
    let a = argv.first().map(String::as_str).unwrap_or("sh");
    a.rsplit('/').next().unwrap_or(a).to_string()
}

/// The inputs of a filter: each file's bytes (stdin for none or `-`); errors printed as
/// `cmd: file: message`. The flag tells whether any failed.
pub(crate) fn inputs(
    sh: &mut Shell,
    rt: &mut Run,
    io: &mut Io,
    cmd: &str,
    files: &[String],
    limit: usize,
) -> (Vec<(String, Vec<u8>)>, bool) {
    let mut out = Vec::new();
    let mut failed = false;
    if files.is_empty() {
        let mut d = io.stdin.take_all();
        d.truncate(limit);
        out.push(("-".to_string(), d));
        return (out, false);
    }
    for f in files {
        if f == "-" {
            let mut d = io.stdin.take_all();
            d.truncate(limit);
            out.push((f.clone(), d));
            continue;
        }
        match sh.read_path(rt, f, limit) {
            Ok(b) => out.push((f.clone(), b)),
            Err(e) => {
                err!(rt, io, "{cmd}: {f}: {}\n", e.msg());
                failed = true;
            }
        }
    }
    (out, failed)
}

/// Bytes a command reads at most from one input (its output is cut at `max_output`).
fn read_limit(rt: &Run, sh: &Shell) -> usize {
    let _ = rt;
    sh.limits.max_output.max(sh.limits.max_fs_bytes) + 1
}

/// The name of a uid (or the number).
pub(crate) fn owner(sh: &Shell, uid: u32) -> String {
    if let (Who::Other(o), true) = (&sh.who, uid == sh.uid()) {
        return o.name.to_string();
    }
    sh.world
        .identity
        .user_name(uid)
        .map_or(uid.to_string(), String::from)
}

use super::Who;

pub(crate) fn group(sh: &Shell, gid: u32) -> String {
    if let (Who::Other(o), true) = (&sh.who, gid == sh.gid()) {
        return o.name.to_string();
    }
    sh.world
        .identity
        .group_name(gid)
        .map_or(gid.to_string(), String::from)
}

/// One entry to show in `ls`.
struct Entry {
    name: String,
    path: String,
    node: Node,
    /// Where a link points, for `-l` (and its target's type for `-F`).
    target: Option<String>,
}

pub(crate) fn ls(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "wIT", Some("aAlhdRr1CFtSinogpxUvcuLHBGQNk"));
    if let Some(c) = o.bad {
        bad_option(rt, io, "ls", c);
        return 2;
    }
    let long = o.has('l') || o.has('n') || o.has('o') || o.has('g');
    let all = o.has('a') || o.long_has("all");
    let almost = o.has('A') || o.long_has("almost-all");
    let human = o.has('h') || o.long_has("human-readable");
    let dir_self = o.has('d') || o.long_has("directory");
    let recursive = o.has('R') || o.long_has("recursive");
    let classify = o.has('F') || o.has('p') || o.long_has("classify");
    let one = o.has('1') || (!sh.on_tty(io) && !o.has('C'));
    let opts = LsOpts {
        long,
        human,
        classify,
        slash_only: o.has('p'),
        numeric: o.has('n'),
        no_group: o.has('o'),
        no_owner: o.has('g'),
        inode: o.has('i'),
        one,
        sort_time: o.has('t'),
        sort_size: o.has('S'),
        reverse: o.has('r'),
        unsorted: o.has('U') || o.has('f'),
    };
    let ops = if o.ops.is_empty() {
        vec![".".to_string()]
    } else {
        o.ops.clone()
    };
    let mut status = 0;
    let mut files: Vec<Entry> = Vec::new();
    let mut dirs: Vec<(String, String)> = Vec::new();
    for p in &ops {
        let abs = sh.abs(p);
        let f = sh.fs();
        // -l (and -d, -F) show a link given on the command line, not what it points to
        let follow = !(long || dir_self || classify) || p.ends_with('/');
        match f.stat(&abs, follow) {
            Err(e) => {
                err!(rt, io, "ls: cannot access '{p}': {}\n", e.msg());
                status = 2;
            }
            Ok((canon, n)) => {
                let is_dir = n.is_dir()
                    || (!follow
                        && n.is_link()
                        && !long
                        && !dir_self
                        && f.stat(&abs, true).is_ok_and(|(_, t)| t.is_dir()));
                if is_dir && !dir_self {
                    dirs.push((p.clone(), canon));
                } else {
                    let target = if let Kind::Link(t) = &n.kind {
                        Some(t.to_string())
                    } else {
                        None
                    };
                    files.push(Entry {
                        name: p.clone(),
                        path: canon,
                        node: n.clone(),
                        target,
                    });
                }
            }
        }
    }
    let show_headers = ops.len() > 1 || recursive;
    let mut first = true;
    if !files.is_empty() {
        sort_entries(&mut files, &opts);
        let text = render(sh, &files, &opts, false);
        rt.out(io, text.as_bytes());
        first = false;
    }
    let mut queue: std::collections::VecDeque<(String, String)> = dirs.into_iter().collect();
    let mut listed = 0;
    while let Some((shown, canon)) = queue.pop_front() {
        listed += 1;
        if listed > 2000 || !rt.work(1) {
            break;
        }
        let listing = sh.fs().list(&canon).map(|v| {
            v.into_iter()
                .map(|(n, node)| (n, node.clone()))
                .collect::<Vec<_>>()
        });
        if !first {
            rt.out(io, b"\n");
        }
        first = false;
        let entries = match listing {
            Ok(l) => l,
            Err(e) => {
                if show_headers {
                    out!(rt, io, "{shown}:\n");
                }
                err!(rt, io, "ls: cannot open directory '{shown}': {}\n", e.msg());
                status = 2;
                continue;
            }
        };
        if show_headers {
            out!(rt, io, "{shown}:\n");
        }
        let mut list: Vec<Entry> = Vec::new();
        if all {
            for (n, p) in [
                (".", canon.clone()),
                ("..", super::exec::normalize(&format!("{canon}/.."))),
            ] {
                if let Ok((_, node)) = sh.fs().stat(&p, true) {
                    list.push(Entry {
                        name: n.into(),
                        path: p.clone(),
                        node: node.clone(),
                        target: None,
                    });
                }
            }
        }
        let mut subdirs = Vec::new();
        for (name, node) in entries {
            if name.starts_with('.') && !all && !almost {
                continue;
            }
            let path = join(&canon, &name);
            if recursive && node.is_dir() {
                let s = if shown.ends_with('/') {
                    format!("{shown}{name}")
                } else {
                    format!("{shown}/{name}")
                };
                subdirs.push((s, path.clone()));
            }
            let target = if let Kind::Link(t) = &node.kind {
                Some(t.to_string())
            } else {
                None
            };
            list.push(Entry {
                name,
                path,
                node,
                target,
            });
        }
        if !opts.unsorted {
            let (dots, mut rest): (Vec<Entry>, Vec<Entry>) = list
                .into_iter()
                .partition(|e| e.name == "." || e.name == "..");
            sort_entries(&mut rest, &opts);
            list = dots.into_iter().chain(rest).collect();
        }
        if long {
            let blocks: u64 = list.iter().map(|e| blocks_k(&e.node)).sum();
            if human {
                out!(rt, io, "total {}\n", util::human_ceil(blocks * 1024));
            } else {
                out!(rt, io, "total {blocks}\n");
            }
        }
        let text = render(sh, &list, &opts, true);
        rt.out(io, text.as_bytes());
        for (i, d) in subdirs.into_iter().enumerate() {
            queue.insert(i, d);
        }
    }
    status
}

struct LsOpts {
    long: bool,
    human: bool,
    classify: bool,
    slash_only: bool,
    numeric: bool,
    no_group: bool,
    no_owner: bool,
    inode: bool,
    one: bool,
    sort_time: bool,
    sort_size: bool,
    reverse: bool,
    unsorted: bool,
}

fn sort_entries(v: &mut [Entry], o: &LsOpts) {
    if o.unsorted {
        return;
    }
    v.sort_by(|a, b| {
        let ord = if o.sort_time {
            b.node
                .mtime
                .cmp(&a.node.mtime)
                .then_with(|| a.name.cmp(&b.name))
        } else if o.sort_size {
            b.node
                .size()
                .cmp(&a.node.size())
                .then_with(|| a.name.cmp(&b.name))
        } else {
            a.name.cmp(&b.name)
        };
        if o.reverse {
            ord.reverse()
        } else {
            ord
        }
    });
}

/// 1K blocks a node takes (4K per started block; links and devices none).
fn blocks_k(n: &Node) -> u64 {
    match &n.kind {
        Kind::Dir => 4,
        Kind::File(_) => n.size().div_ceil(4096) * 4,
        _ => 0,
    }
}

fn inode(path: &str) -> u64 {
    util::fnv(&[path.as_bytes()]) % 3_000_000 + 1000
}

fn suffix(e: &Entry, o: &LsOpts) -> &'static str {
    if !o.classify {
        return "";
    }
    match &e.node.kind {
        Kind::Dir => "/",
        _ if o.slash_only => "",
        Kind::Link(_) if !o.long => "@",
        Kind::File(_) if e.node.mode & 0o111 != 0 => "*",
        _ => "",
    }
}

fn render(sh: &mut Shell, list: &[Entry], o: &LsOpts, in_dir: bool) -> String {
    let _ = in_dir;
    let mut out = String::new();
    if list.is_empty() {
        return out;
    }
    if o.long {
        let now = util::now();
        let rows: Vec<[String; 7]> = list
            .iter()
            .map(|e| {
                let links = if e.node.is_dir() {
                    let subdirs = sh
                        .fs()
                        .list(&e.path)
                        .map_or(0, |l| l.iter().filter(|(_, n)| n.is_dir()).count());
                    (2 + subdirs).to_string()
                } else {
                    "1".to_string()
                };
                let size = match &e.node.kind {
                    Kind::Dev(d) => format!("{}, {}", d.major, d.minor),
                    _ if o.human => util::human_ceil(e.node.size()),
                    _ => e.node.size().to_string(),
                };
                let (u, g) = if o.numeric {
                    (e.node.uid.to_string(), e.node.gid.to_string())
                } else {
                    (owner(sh, e.node.uid), group(sh, e.node.gid))
                };
                let mut name = format!("{}{}", e.name, suffix(e, o));
                if let Some(t) = &e.target {
                    name = format!("{} -> {t}", e.name);
                }
                [
                    e.node.mode_string(),
                    links,
                    u,
                    g,
                    size,
                    util::ls_time(e.node.mtime, now),
                    name,
                ]
            })
            .collect();
        let w = |k: usize| rows.iter().map(|r| r[k].chars().count()).max().unwrap_or(0);
        let (wl, wu, wg, ws) = (w(1), w(2), w(3), w(4));
        for (r, e) in rows.iter().zip(list) {
            if o.inode {
                out.push_str(&format!("{} ", inode(&e.path)));
            }
            out.push_str(&format!("{} {:>wl$} ", r[0], r[1]));
            if !o.no_owner {
                out.push_str(&format!("{:<wu$} ", r[2]));
            }
            if !o.no_group {
                out.push_str(&format!("{:<wg$} ", r[3]));
            }
            out.push_str(&format!("{:>ws$} {} {}\n", r[4], r[5], r[6]));
        }
        return out;
    }
    let names: Vec<String> = list
        .iter()
        .map(|e| {
            let n = format!("{}{}", e.name, suffix(e, o));
            if o.inode {
                format!("{} {n}", inode(&e.path))
            } else {
                n
            }
        })
        .collect();
    if o.one {
        for n in names {
            out.push_str(&n);
            out.push('\n');
        }
        return out;
    }
    columns(&names, 80)
}

/// Names in columns down then across, as `ls -C` fits them in `width`.
pub(crate) fn columns(names: &[String], width: usize) -> String {
    let n = names.len();
    let lens: Vec<usize> = names.iter().map(|s| s.chars().count()).collect();
    let mut rows = n;
    let mut widths = vec![lens.iter().copied().max().unwrap_or(0)];
    for cols in (1..=n.min(width / 3 + 1)).rev() {
        let r = n.div_ceil(cols);
        let cols_used = n.div_ceil(r);
        let ws: Vec<usize> = (0..cols_used)
            .map(|c| {
                (c * r..((c + 1) * r).min(n))
                    .map(|i| lens[i])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let total: usize = ws.iter().sum::<usize>() + 2 * (cols_used.saturating_sub(1));
        if total < width {
            rows = r;
            widths = ws;
            break;
        }
    }
    let mut out = String::new();
    for r in 0..rows {
        let mut line = String::new();
        for (c, w) in widths.iter().enumerate() {
            let i = c * rows + r;
            if i >= n {
                break;
            }
            let last = c + 1 == widths.len() || (c + 1) * rows + r >= n;
            line.push_str(&names[i]);
            if !last {
                line.push_str(&" ".repeat(w - lens[i] + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub(crate) fn cat(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "", None);
    let number = o.has('n') || o.has('b');
    let limit = sh.limits.max_output + 1;
    let files = o.ops.clone();
    let cmd = name_of(argv);
    let mut status = 0;
    let mut line_no = 0usize;
    let list: Vec<String> = if files.is_empty() {
        vec!["-".into()]
    } else {
        files
    };
    for f in &list {
        let data = if f == "-" {
            io.stdin.take_all()
        } else {
            match sh.read_path(rt, f, limit) {
                Ok(d) => d,
                Err(e) => {
                    err!(rt, io, "{cmd}: {f}: {}\n", e.msg());
                    status = 1;
                    continue;
                }
            }
        };
        if number {
            let mut outb = Vec::new();
            for l in data.split_inclusive(|&b| b == b'\n') {
                line_no += 1;
                outb.extend_from_slice(format!("{line_no:6}\t").as_bytes());
                outb.extend_from_slice(l);
            }
            rt.out(io, &outb);
        } else {
            rt.out(io, &data);
        }
    }
    status
}

pub(crate) fn touch(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "dtr", None);
    if o.ops.is_empty() {
        err!(
            rt,
            io,
            "touch: missing file operand\nTry 'touch --help' for more information.\n"
        );
        return 1;
    }
    let mut st = 0;
    let now = util::now();
    for f in &o.ops {
        let abs = sh.abs(f);
        let exists = sh.fs().stat(&abs, true).is_ok();
        if exists {
            let cred = sh.cred();
            let may = sh
                .fs()
                .stat(&abs, true)
                .map(|(_, n)| cred.may(n, 2) || n.uid == cred.uid)
                .unwrap_or(false);
            if !may {
                err!(rt, io, "touch: cannot touch '{f}': Permission denied\n");
                st = 1;
                continue;
            }
            if let Err(e) = sh.fs().modify(&abs, true, |n| n.mtime = now) {
                err!(rt, io, "touch: cannot touch '{f}': {}\n", e.msg());
                st = 1;
            }
        } else if o.has('c') {
            continue;
        } else if !sh.write_for_quiet(rt, &abs) {
            let e = sh
                .fs()
                .write(&abs, b"", false, 0o644)
                .err()
                .unwrap_or(Errno::NoEnt);
            err!(rt, io, "touch: cannot touch '{f}': {}\n", e.msg());
            st = 1;
        }
    }
    st
}

impl Shell {
    /// Creates an empty file (touch), recording it; false if it could not.
    fn write_for_quiet(&mut self, rt: &mut Run, abs: &str) -> bool {
        let mode = self.umask_mode(0o666);
        match self.fs().write(abs, b"", false, mode) {
            Ok(w) => {
                if let Some(sha) = w.sha256 {
                    rt.effects.push(Effect::FileWritten {
                        path: w.path,
                        size: w.size,
                        sha256: sha,
                    });
                }
                true
            }
            Err(_) => false,
        }
    }
}

pub(crate) fn mkdir(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "m", Some("pv"));
    if let Some(c) = o.bad {
        bad_option(rt, io, "mkdir", c);
        return 1;
    }
    if o.ops.is_empty() {
        err!(
            rt,
            io,
            "mkdir: missing operand\nTry 'mkdir --help' for more information.\n"
        );
        return 1;
    }
    let mode = o
        .val('m')
        .and_then(|m| u16::from_str_radix(m, 8).ok())
        .unwrap_or_else(|| sh.umask_mode(0o777));
    let parents = o.has('p') || o.long_has("parents");
    let mut st = 0;
    for d in &o.ops {
        let abs = sh.abs(d);
        if parents {
            let mut cur = String::new();
            let mut failed = None;
            let comps: Vec<&str> = abs.split('/').filter(|c| !c.is_empty()).collect();
            for c in comps {
                cur = format!("{cur}/{c}");
                let exists = sh.fs().stat(&cur, true).map(|(_, n)| n.is_dir());
                match exists {
                    Ok(true) => continue,
                    Ok(false) => {
                        failed = Some(Errno::Exist);
                        break;
                    }
                    Err(Errno::NoEnt) => {
                        if let Err(e) = sh.fs().create(&cur, Kind::Dir, mode) {
                            failed = Some(e);
                            break;
                        }
                        if o.has('v') {
                            out!(rt, io, "mkdir: created directory '{cur}'\n");
                        }
                    }
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            if let Some(e) = failed {
                err!(
                    rt,
                    io,
                    "mkdir: cannot create directory ‘{d}’: {}\n",
                    e.msg()
                );
                st = 1;
            }
        } else {
            match sh.fs().create(&abs, Kind::Dir, mode) {
                Ok(_) => {
                    if o.has('v') {
                        out!(rt, io, "mkdir: created directory '{d}'\n");
                    }
                }
                Err(e) => {
                    if e == Errno::NoSpc {
                        rt.effects.push(Effect::Capped { what: "fs" });
                    }
                    err!(
                        rt,
                        io,
                        "mkdir: cannot create directory ‘{d}’: {}\n",
                        e.msg()
                    );
                    st = 1;
                }
            }
        }
    }
    st
}

pub(crate) fn rmdir(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "", Some("pv"));
    if o.ops.is_empty() {
        err!(
            rt,
            io,
            "rmdir: missing operand\nTry 'rmdir --help' for more information.\n"
        );
        return 1;
    }
    let mut st = 0;
    for d in &o.ops {
        let abs = sh.abs(d);
        if let Err(e) = sh.fs().rmdir(&abs) {
            err!(rt, io, "rmdir: failed to remove '{d}': {}\n", e.msg());
            st = 1;
        }
    }
    st
}

pub(crate) fn rm(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "", Some("rRfivdI"));
    if let Some(c) = o.bad {
        bad_option(rt, io, "rm", c);
        return 1;
    }
    let force = o.has('f') || o.long_has("force");
    let recursive = o.has('r') || o.has('R') || o.long_has("recursive");
    if o.ops.is_empty() {
        if force {
            return 0;
        }
        err!(
            rt,
            io,
            "rm: missing operand\nTry 'rm --help' for more information.\n"
        );
        return 1;
    }
    let mut st = 0;
    for f in &o.ops {
        let abs = sh.abs(f);
        let base = f.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        if base == "." || base == ".." {
            err!(
                rt,
                io,
                "rm: refusing to remove '.' or '..' directory: skipping '{f}'\n"
            );
            st = 1;
            continue;
        }
        let canon_root = super::exec::normalize(&abs) == "/";
        if canon_root && recursive && !o.long_has("no-preserve-root") {
            err!(rt, io, "rm: it is dangerous to operate recursively on '/'\nrm: use --no-preserve-root to override this failsafe\n");
            st = 1;
            continue;
        }
        let node = sh.fs().stat(&abs, false).map(|(_, n)| n.is_dir());
        match node {
            Err(e) => {
                if !(force && e == Errno::NoEnt) {
                    err!(rt, io, "rm: cannot remove '{f}': {}\n", e.msg());
                    st = 1;
                }
            }
            Ok(true) if !recursive => {
                if o.has('d') {
                    if let Err(e) = sh.fs().rmdir(&abs) {
                        err!(rt, io, "rm: cannot remove '{f}': {}\n", e.msg());
                        st = 1;
                    }
                } else {
                    err!(rt, io, "rm: cannot remove '{f}': Is a directory\n");
                    st = 1;
                }
            }
            Ok(true) => {
                if canon_root {
                    // --no-preserve-root: every top-level entry goes
                    let names: Vec<String> = sh
                        .fs()
                        .list("/")
                        .map(|l| l.into_iter().map(|(n, _)| n).collect())
                        .unwrap_or_default();
                    for n in names {
                        if let Err((p, e)) = sh.fs().remove_tree(&format!("/{n}")) {
                            err!(rt, io, "rm: cannot remove '{p}': {}\n", e.msg());
                            st = 1;
                        }
                    }
                    continue;
                }
                if let Err((p, e)) = sh.fs().remove_tree(&abs) {
                    let shown = if p == super::exec::normalize(&abs) {
                        f.clone()
                    } else {
                        p
                    };
                    err!(rt, io, "rm: cannot remove '{shown}': {}\n", e.msg());
                    st = 1;
                } else if o.has('v') {
                    out!(rt, io, "removed directory '{f}'\n");
                }
            }
            Ok(false) => match sh.fs().unlink(&abs) {
                Ok(()) => {
                    if o.has('v') {
                        out!(rt, io, "removed '{f}'\n");
                    }
                }
                Err(e) => {
                    err!(rt, io, "rm: cannot remove '{f}': {}\n", e.msg());
                    st = 1;
                }
            },
        }
    }
    st
}

/// The destination of a copy or move of `src` to `dst`: into it if it is a directory.
fn into_target(sh: &mut Shell, src: &str, dst: &str, dst_is_dir: bool) -> String {
    let _ = sh;
    if dst_is_dir {
        let base = src.trim_end_matches('/').rsplit('/').next().unwrap_or(src);
        if dst.ends_with('/') {
            format!("{dst}{base}")
        } else {
            format!("{dst}/{base}")
        }
    } else {
        dst.to_string()
    }
}

pub(crate) fn cp(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "St", Some("rRafpvinuldPHLbsxT"));
    if let Some(c) = o.bad {
        bad_option(rt, io, "cp", c);
        return 1;
    }
    let recursive = o.has('r') || o.has('R') || o.has('a') || o.long_has("recursive");
    let keep = o.has('p') || o.has('a');
    match o.ops.len() {
        0 => {
            err!(
                rt,
                io,
                "cp: missing file operand\nTry 'cp --help' for more information.\n"
            );
            return 1;
        }
        1 => {
            err!(rt, io, "cp: missing destination file operand after '{}'\nTry 'cp --help' for more information.\n", o.ops[0]);
            return 1;
        }
        _ => {}
    }
    let (srcs, dst) = o.ops.split_at(o.ops.len() - 1);
    let dst = &dst[0];
    let dst_abs = sh.abs(dst);
    let dst_is_dir = sh.fs().stat(&dst_abs, true).is_ok_and(|(_, n)| n.is_dir());
    if srcs.len() > 1 && !dst_is_dir {
        err!(rt, io, "cp: target '{dst}' is not a directory\n");
        return 1;
    }
    let mut st = 0;
    let now = util::now();
    let (uid, gid) = (sh.uid(), sh.gid());
    for s in srcs {
        let s_abs = sh.abs(s);
        let node = match sh.fs().stat(&s_abs, true) {
            Ok((_, n)) => n.clone(),
            Err(e) => {
                err!(rt, io, "cp: cannot stat '{s}': {}\n", e.msg());
                st = 1;
                continue;
            }
        };
        let target = into_target(sh, s, dst, dst_is_dir);
        if node.is_dir() && !recursive {
            err!(rt, io, "cp: -r not specified; omitting directory '{s}'\n");
            st = 1;
            continue;
        }
        // the files to copy: (source path, relative path, node)
        let mut todo: Vec<(String, String, Node)> = vec![(s_abs.clone(), String::new(), node)];
        let mut count = 0;
        while let Some((src, rel, n)) = todo.pop() {
            count += 1;
            if count > sh.limits.max_files * 2 || !rt.work(1) {
                break;
            }
            let t_abs = sh.abs(&format!("{target}{rel}"));
            if n.is_dir() {
                if t_abs.starts_with(&format!("{s_abs}/")) {
                    err!(
                        rt,
                        io,
                        "cp: cannot copy a directory, '{s}', into itself, '{target}'\n"
                    );
                    st = 1;
                    break;
                }
                match sh.fs().create(
                    &t_abs,
                    Kind::Dir,
                    if keep { n.mode } else { n.mode & 0o777 },
                ) {
                    Ok(_) | Err(Errno::Exist) => {}
                    Err(e) => {
                        err!(
                            rt,
                            io,
                            "cp: cannot create directory '{target}{rel}': {}\n",
                            e.msg()
                        );
                        st = 1;
                        continue;
                    }
                }
                let children: Vec<(String, Node)> = sh
                    .fs()
                    .list(&src)
                    .map(|l| l.into_iter().map(|(a, b)| (a, b.clone())).collect())
                    .unwrap_or_default();
                for (name, c) in children.into_iter().rev() {
                    todo.push((join(&src, &name), format!("{rel}/{name}"), c));
                }
                continue;
            }
            let readable = sh.cred().may(&n, 4);
            if !readable {
                err!(
                    rt,
                    io,
                    "cp: cannot open '{s}{rel}' for reading: Permission denied\n"
                );
                st = 1;
                continue;
            }
            let data = match &n.kind {
                Kind::File(d) => d.clone(),
                Kind::Link(t) if rel.is_empty() => Data::Shared(std::sync::Arc::from(t.as_bytes())),
                Kind::Link(t) => {
                    let _ = sh.fs().create(&t_abs, Kind::Link(t.clone()), 0o777);
                    continue;
                }
                Kind::Dev(_) => Data::Shared(std::sync::Arc::from(&b""[..])),
                Kind::Dir => continue,
            };
            let data = match data {
                Data::Dynamic(d) => {
                    let bytes = sh.materialize(Readable::Data(Data::Dynamic(d)), 1 << 20);
                    Data::Owned(Box::new(super::fs::Owned::new(bytes)))
                }
                other => other,
            };
            let mode = if keep {
                n.mode
            } else {
                sh.umask_mode(n.mode & 0o777)
            };
            let new = Node {
                kind: Kind::File(data),
                mode,
                uid: if keep { n.uid } else { uid },
                gid: if keep { n.gid } else { gid },
                mtime: if keep { n.mtime } else { now },
            };
            match sh.fs().place(&t_abs, new) {
                Ok(p) => sh.record_file(rt, &p),
                Err(e) => {
                    if e == Errno::NoSpc {
                        rt.effects.push(Effect::Capped { what: "fs" });
                    }
                    err!(
                        rt,
                        io,
                        "cp: cannot create regular file '{target}{rel}': {}\n",
                        e.msg()
                    );
                    st = 1;
                }
            }
        }
    }
    st
}

impl Shell {
    /// Records a file the session now holds at canonical `path` (size and SHA-256 of its
    /// bytes; past the line's read budget, a copy goes unrecorded rather than hashed).
    pub(crate) fn record_file(&mut self, rt: &mut Run, path: &str) {
        let Ok((_, r)) = self.fs_as(super::fs::Cred { uid: 0, gid: 0 }).read(path) else {
            return;
        };
        let size = match &r {
            Readable::Data(Data::Binary { size, .. }) => *size as usize,
            Readable::Data(Data::Owned(o)) => o.bytes.len(),
            Readable::Data(Data::Shared(b)) => b.len(),
            _ => 0,
        };
        if !rt.read(size) {
            return;
        }
        let bytes = self.materialize(r, usize::MAX);
        rt.effects.push(Effect::FileWritten {
            path: path.to_string(),
            size: bytes.len(),
            sha256: util::sha256_hex(&bytes),
        });
    }
}

pub(crate) fn mv(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "St", Some("fivnuTbZ"));
    if let Some(c) = o.bad {
        bad_option(rt, io, "mv", c);
        return 1;
    }
    match o.ops.len() {
        0 => {
            err!(
                rt,
                io,
                "mv: missing file operand\nTry 'mv --help' for more information.\n"
            );
            return 1;
        }
        1 => {
            err!(rt, io, "mv: missing destination file operand after '{}'\nTry 'mv --help' for more information.\n", o.ops[0]);
            return 1;
        }
        _ => {}
    }
    let (srcs, dst) = o.ops.split_at(o.ops.len() - 1);
    let dst = &dst[0];
    let dst_abs = sh.abs(dst);
    let dst_is_dir = sh.fs().stat(&dst_abs, true).is_ok_and(|(_, n)| n.is_dir());
    if srcs.len() > 1 && !dst_is_dir {
        err!(rt, io, "mv: target '{dst}' is not a directory\n");
        return 1;
    }
    let mut st = 0;
    for s in srcs {
        let s_abs = sh.abs(s);
        if let Err(e) = sh.fs().stat(&s_abs, false) {
            err!(rt, io, "mv: cannot stat '{s}': {}\n", e.msg());
            st = 1;
            continue;
        }
        let target = into_target(sh, s, dst, dst_is_dir);
        let t_abs = sh.abs(&target);
        match sh.fs().rename(&s_abs, &t_abs) {
            Ok(()) => {
                if let Ok((p, n)) = sh.fs().stat(&t_abs, false) {
                    if matches!(n.kind, Kind::File(_)) {
                        let p = p.clone();
                        sh.record_file(rt, &p);
                    }
                }
            }
            Err(Errno::Inval) => {
                err!(
                    rt,
                    io,
                    "mv: cannot move '{s}' to a subdirectory of itself, '{target}'\n"
                );
                st = 1;
            }
            Err(e) => {
                err!(rt, io, "mv: cannot move '{s}' to '{target}': {}\n", e.msg());
                st = 1;
            }
        }
    }
    st
}

/// Applies a chmod mode (octal or symbolic) to `m`; None if it does not parse.
pub(crate) fn apply_mode(spec: &str, m: u16, is_dir: bool) -> Option<u16> {
    if !spec.is_empty() && spec.chars().all(|c| c.is_digit(8)) && spec.len() <= 4 {
        let v = u16::from_str_radix(spec, 8).ok()?;
        // GNU keeps a directory's setuid/setgid bits unless all four digits are given
        return Some(if is_dir && spec.len() < 4 {
            (m & 0o6000) | v
        } else {
            v
        });
    }
    let mut mode = m;
    for clause in spec.split(',') {
        let mut chars = clause.chars().peekable();
        let mut who = 0u16;
        while let Some(&c) = chars.peek() {
            match c {
                'u' => who |= 0o4700,
                'g' => who |= 0o2070,
                'o' => who |= 0o1007,
                'a' => who |= 0o7777,
                _ => break,
            }
            chars.next();
        }
        let mut any_op = false;
        while let Some(op) = chars.next() {
            if !matches!(op, '+' | '-' | '=') {
                return None;
            }
            any_op = true;
            let mut perm = 0u16;
            while let Some(&c) = chars.peek() {
                match c {
                    'r' => perm |= 0o444,
                    'w' => perm |= 0o222,
                    'x' => perm |= 0o111,
                    'X' if is_dir || mode & 0o111 != 0 => perm |= 0o111,
                    'X' => {}
                    's' => perm |= 0o6000,
                    't' => perm |= 0o1000,
                    _ => break,
                }
                chars.next();
            }
            let mask = if who == 0 {
                0o7777 & !0o022 | 0o6000
            } else {
                who
            };
            let bits = perm & mask;
            match op {
                '+' => mode |= bits,
                '-' => mode &= !bits,
                _ => mode = (mode & !(if who == 0 { 0o7777 } else { who })) | bits,
            }
        }
        if !any_op {
            return None;
        }
    }
    Some(mode)
}

pub(crate) fn chmod(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    // modes like -x look like options: take the first operand-looking word as the mode
    let mut recursive = false;
    let mut verbose = false;
    let mut words: Vec<&String> = Vec::new();
    for a in argv.iter().skip(1) {
        match a.as_str() {
            "-R" | "--recursive" => recursive = true,
            "-v" | "-c" | "--verbose" | "-f" | "--silent" | "--quiet" => verbose |= a == "-v",
            _ => words.push(a),
        }
    }
    let Some(spec) = words.first() else {
        err!(
            rt,
            io,
            "chmod: missing operand\nTry 'chmod --help' for more information.\n"
        );
        return 1;
    };
    if words.len() < 2 {
        err!(
            rt,
            io,
            "chmod: missing operand after ‘{spec}’\nTry 'chmod --help' for more information.\n"
        );
        return 1;
    }
    if apply_mode(spec, 0o644, false).is_none() {
        err!(
            rt,
            io,
            "chmod: invalid mode: ‘{spec}’\nTry 'chmod --help' for more information.\n"
        );
        return 1;
    }
    let mut st = 0;
    let uid = sh.uid();
    for f in &words[1..] {
        let abs = sh.abs(f);
        let mut todo = vec![abs.clone()];
        let mut n_done = 0;
        while let Some(p) = todo.pop() {
            n_done += 1;
            if n_done > 5000 || !rt.work(1) {
                break;
            }
            let node = match sh.fs().stat(&p, true) {
                Ok((_, n)) => n.clone(),
                Err(e) => {
                    err!(rt, io, "chmod: cannot access '{f}': {}\n", e.msg());
                    st = 1;
                    continue;
                }
            };
            let shown = if p == abs { f.to_string() } else { p.clone() };
            if uid != 0 && node.uid != uid {
                err!(
                    rt,
                    io,
                    "chmod: changing permissions of '{shown}': Operation not permitted\n"
                );
                st = 1;
                continue;
            }
            let new = apply_mode(spec, node.mode, node.is_dir()).unwrap_or(node.mode);
            if let Err(e) = sh.fs().modify(&p, true, |n| n.mode = new) {
                if e == Errno::NoSpc {
                    rt.effects.push(Effect::Capped { what: "fs" });
                }
                err!(
                    rt,
                    io,
                    "chmod: changing permissions of '{shown}': {}\n",
                    e.msg()
                );
                st = 1;
                continue;
            }
            if verbose {
                out!(
                    rt,
                    io,
                    "mode of '{shown}' changed from {:04o} to {:04o}\n",
                    node.mode,
                    new
                );
            }
            if recursive && node.is_dir() {
                if let Ok(l) = sh.fs().list(&p) {
                    let names: Vec<String> = l
                        .into_iter()
                        .filter(|(_, n)| !n.is_link())
                        .map(|(n, _)| join(&p, &n))
                        .collect();
                    todo.extend(names);
                }
            }
        }
    }
    st
}

pub(crate) fn chown(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let cmd = name_of(argv);
    let o = getopt(argv, "", Some("RhvcfHLP"));
    if o.ops.len() < 2 {
        if o.ops.is_empty() {
            err!(
                rt,
                io,
                "{cmd}: missing operand\nTry '{cmd} --help' for more information.\n"
            );
        } else {
            err!(
                rt,
                io,
                "{cmd}: missing operand after ‘{}’\nTry '{cmd} --help' for more information.\n",
                o.ops[0]
            );
        }
        return 1;
    }
    let spec = &o.ops[0];
    let id = &sh.world.identity;
    let lookup_user = |s: &str| id.user(s).map(|u| u.uid).or_else(|| s.parse().ok());
    let lookup_group = |s: &str| {
        id.groups
            .iter()
            .find(|g| g.name == s)
            .map(|g| g.gid)
            .or_else(|| s.parse().ok())
    };
    let (uid, gid) = if cmd == "chgrp" {
        match lookup_group(spec) {
            Some(g) => (None, Some(g)),
            None => {
                err!(rt, io, "chgrp: invalid group: ‘{spec}’\n");
                return 1;
            }
        }
    } else {
        let (u, g) = match spec.split_once([':', '.']) {
            Some((u, g)) => (u, Some(g)),
            None => (spec.as_str(), None),
        };
        let uid = if u.is_empty() {
            None
        } else {
            match lookup_user(u) {
                Some(x) => Some(x),
                None => {
                    err!(rt, io, "chown: invalid user: ‘{spec}’\n");
                    return 1;
                }
            }
        };
        let gid = match g {
            Some(g) if !g.is_empty() => match lookup_group(g) {
                Some(x) => Some(x),
                None => {
                    err!(rt, io, "chown: invalid group: ‘{spec}’\n");
                    return 1;
                }
            },
            _ => None,
        };
        (uid, gid)
    };
    let root = sh.is_root();
    let mut st = 0;
    for f in &o.ops[1..] {
        let abs = sh.abs(f);
        let exists = sh.fs().stat(&abs, true).map(|(_, n)| n.clone());
        match exists {
            Err(e) => {
                err!(rt, io, "{cmd}: cannot access '{f}': {}\n", e.msg());
                st = 1;
            }
            Ok(n) => {
                let changes_owner = uid.is_some_and(|u| u != n.uid);
                if !root && (changes_owner || n.uid != sh.uid()) {
                    err!(
                        rt,
                        io,
                        "{cmd}: changing ownership of '{f}': Operation not permitted\n"
                    );
                    st = 1;
                    continue;
                }
                let _ = sh.fs().modify(&abs, true, |n| {
                    if let Some(u) = uid {
                        n.uid = u;
                    }
                    if let Some(g) = gid {
                        n.gid = g;
                    }
                });
            }
        }
    }
    st
}

pub(crate) fn ln(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "St", Some("sfnvibTLPr"));
    if let Some(c) = o.bad {
        bad_option(rt, io, "ln", c);
        return 1;
    }
    if o.ops.is_empty() {
        err!(
            rt,
            io,
            "ln: missing file operand\nTry 'ln --help' for more information.\n"
        );
        return 1;
    }
    let target = o.ops[0].clone();
    let link = if o.ops.len() > 1 {
        o.ops[1].clone()
    } else {
        target
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(&target)
            .to_string()
    };
    let link_abs = sh.abs(&link);
    let link_abs = match sh.fs().stat(&link_abs, true) {
        Ok((_, n)) if n.is_dir() && !o.has('n') => into_target(sh, &target, &link_abs, true),
        _ => link_abs,
    };
    if o.has('f') {
        let _ = sh.fs().unlink(&link_abs);
    }
    let symbolic = o.has('s');
    let res = if symbolic {
        sh.fs()
            .create(&link_abs, Kind::Link(target.as_str().into()), 0o777)
            .map(|_| ())
    } else {
        let t_abs = sh.abs(&target);
        match sh.fs().stat(&t_abs, true) {
            Ok((_, n)) if n.is_dir() => {
                err!(
                    rt,
                    io,
                    "ln: {target}: hard link not allowed for directory\n"
                );
                return 1;
            }
            Ok((_, n)) => {
                let n = n.clone();
                match sh.fs().stat(&link_abs, false) {
                    Ok(_) => Err(Errno::Exist),
                    Err(_) => sh.fs().place(&link_abs, n).map(|_| ()),
                }
            }
            Err(e) => {
                err!(rt, io, "ln: failed to access '{target}': {}\n", e.msg());
                return 1;
            }
        }
    };
    match res {
        Ok(()) => 0,
        Err(e) => {
            let what = if symbolic {
                "symbolic link"
            } else {
                "hard link"
            };
            err!(
                rt,
                io,
                "ln: failed to create {what} '{link}': {}\n",
                e.msg()
            );
            1
        }
    }
}

/// `-n 5`, `-5`, `-n +5`, `-c 10`: (count, from the start (+), bytes).
fn count_opt(argv: &[String]) -> (Vec<String>, i64, bool, bool, bool) {
    let mut n: i64 = 10;
    let mut plus = false;
    let mut bytes = false;
    let mut quiet = false;
    let mut files = Vec::new();
    let mut it = argv.iter().skip(1).peekable();
    let parse = |s: &str| -> (i64, bool) {
        let plus = s.starts_with('+');
        let t = s.trim_start_matches(['+', '-']);
        let (num, mult) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
            Some((k, _)) => (
                &t[..k],
                match &t[k..] {
                    "b" => 512,
                    "K" | "k" | "KiB" => 1024,
                    "M" | "MiB" => 1 << 20,
                    "kB" => 1000,
                    _ => 1,
                },
            ),
            None => (t, 1),
        };
        let v = num.parse::<i64>().unwrap_or(10).saturating_mul(mult);
        (if s.starts_with('-') { -v } else { v }, plus)
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "-n" | "--lines" => {
                if let Some(v) = it.next() {
                    (n, plus) = parse(v);
                }
            }
            "-c" | "--bytes" => {
                if let Some(v) = it.next() {
                    (n, plus) = parse(v);
                    bytes = true;
                }
            }
            "-q" | "--quiet" | "--silent" => quiet = true,
            "-f" | "-F" | "--follow" | "-v" => {}
            s if s.starts_with("-n") && s.len() > 2 => (n, plus) = parse(&s[2..]),
            s if s.starts_with("-c") && s.len() > 2 => {
                (n, plus) = parse(&s[2..]);
                bytes = true;
            }
            s if s.starts_with("--lines=") => (n, plus) = parse(&s[8..]),
            s if s.len() > 1
                && s.starts_with('-')
                && s[1..].chars().all(|c| c.is_ascii_digit()) =>
            {
                n = s[1..].parse().unwrap_or(10)
            }
            s if s.len() > 1
                && s.starts_with('+')
                && s[1..].chars().all(|c| c.is_ascii_digit()) =>
            {
                n = s[1..].parse().unwrap_or(10);
                plus = true;
            }
            _ => files.push(a.clone()),
        }
    }
    (files, n, plus, bytes, quiet)
}

pub(crate) fn head(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    head_tail(sh, rt, io, argv, true)
}

pub(crate) fn tail(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    head_tail(sh, rt, io, argv, false)
}

fn head_tail(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String], head: bool) -> i32 {
    let cmd = if head { "head" } else { "tail" };
    let (files, n, plus, bytes, quiet) = count_opt(argv);
    // a head of an endless device reads only what it needs
    let limit = if head && n >= 0 && bytes {
        n as usize
    } else {
        read_limit(rt, sh)
    };
    let limit = if head && !bytes && n >= 0 {
        limit.max(1)
    } else {
        limit
    };
    let many = files.len() > 1 && !quiet;
    let (ins, failed) = inputs(
        sh,
        rt,
        io,
        cmd,
        &files,
        if head && !bytes {
            read_limit(rt, sh)
        } else {
            limit
        },
    );
    for (i, (name, data)) in ins.iter().enumerate() {
        if many {
            let shown = if name == "-" { "standard input" } else { name };
            out!(rt, io, "{}==> {shown} <==\n", if i > 0 { "\n" } else { "" });
        }
        let slice: &[u8] = if bytes {
            let len = data.len() as i64;
            if head {
                let k = if n >= 0 { n.min(len) } else { (len + n).max(0) };
                &data[..k as usize]
            } else if plus {
                &data[((n - 1).clamp(0, len)) as usize..]
            } else {
                &data[(len - n.abs().min(len)) as usize..]
            }
        } else {
            let lines: Vec<&[u8]> = data.split_inclusive(|&b| b == b'\n').collect();
            let len = lines.len() as i64;
            let (a, b) = if head {
                (0, if n >= 0 { n.min(len) } else { (len + n).max(0) })
            } else if plus {
                ((n - 1).clamp(0, len), len)
            } else {
                (len - n.abs().min(len), len)
            };
            let start: usize = lines[..a as usize].iter().map(|l| l.len()).sum();
            let end: usize = start
                + lines[a as usize..b as usize]
                    .iter()
                    .map(|l| l.len())
                    .sum::<usize>();
            &data[start..end]
        };
        rt.out(io, slice);
    }
    i32::from(failed)
}

pub(crate) fn wc(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "", Some("lwcmL"));
    if let Some(c) = o.bad {
        bad_option(rt, io, "wc", c);
        return 1;
    }
    let (mut l, mut w, mut c, m) = (o.has('l'), o.has('w'), o.has('c'), o.has('m'));
    if !(l || w || c || m) {
        (l, w, c) = (true, true, true);
    }
    let limit = usize::MAX / 2;
    let (ins, failed) = inputs(sh, rt, io, "wc", &o.ops, limit);
    let counts: Vec<(String, [usize; 4])> = ins
        .iter()
        .map(|(name, d)| {
            let lines = d.iter().filter(|&&b| b == b'\n').count();
            let words = String::from_utf8_lossy(d).split_whitespace().count();
            let chars = String::from_utf8_lossy(d).chars().count();
            (name.clone(), [lines, words, chars, d.len()])
        })
        .collect();
    let ncounts = [l, w, m, c].iter().filter(|x| **x).count();
    let from_stdin = o.ops.is_empty() || o.ops.iter().any(|f| f == "-");
    let total_bytes: usize = counts.iter().map(|c| c.1[3]).sum();
    let width = if ncounts == 1 && counts.len() == 1 {
        1
    } else if from_stdin {
        7
    } else {
        total_bytes.to_string().len()
    };
    let mut totals = [0usize; 4];
    let show = |rt: &mut Run, v: &[usize; 4], name: &str| {
        let mut parts = Vec::new();
        for (on, k) in [(l, 0), (w, 1), (m, 2), (c, 3)] {
            if on {
                parts.push(format!("{:>width$}", v[k]));
            }
        }
        let name = if name == "-" && o.ops.is_empty() {
            String::new()
        } else {
            format!(" {name}")
        };
        out!(rt, io, "{}{name}\n", parts.join(" "));
    };
    for (name, v) in &counts {
        for k in 0..4 {
            totals[k] += v[k];
        }
        show(rt, v, name);
    }
    if counts.len() > 1 {
        show(rt, &totals, "total");
    }
    i32::from(failed)
}

pub(crate) fn checksum(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let cmd = name_of(argv);
    let o = getopt(argv, "", None);
    if o.has('c') {
        return 0;
    }
    let (ins, failed) = inputs(sh, rt, io, &cmd, &o.ops, usize::MAX / 2);
    for (name, d) in ins {
        let h = match cmd.as_str() {
            "md5sum" => format!("{:x}", md5::compute(&d)),
            "sha1sum" => util::hex(&util::sha1(&d)),
            _ => util::sha256_hex(&d),
        };
        out!(rt, io, "{h}  {name}\n");
    }
    i32::from(failed)
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64.
pub(crate) fn b64_encode(d: &[u8]) -> String {
    let mut s = String::with_capacity(d.len().div_ceil(3) * 4);
    for ch in d.chunks(3) {
        let b = [ch[0], *ch.get(1).unwrap_or(&0), *ch.get(2).unwrap_or(&0)];
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= ch.len() {
                s.push(B64[((v >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// Decodes base64 (whitespace ignored); Err with what decoded before the bad input.
pub(crate) fn b64_decode(s: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut acc = 0u32;
    let mut bits = 0;
    let mut pad = false;
    for &c in s {
        if c.is_ascii_whitespace() {
            continue;
        }
        if c == b'=' {
            pad = true;
            continue;
        }
        if pad {
            return Err(out);
        }
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return Err(out),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

pub(crate) fn base64(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "w", Some("dDi"));
    let decode = o.has('d') || o.has('D') || o.long_has("decode");
    let wrap: usize = o
        .val('w')
        .or(o.long_val("wrap"))
        .and_then(|w| w.parse().ok())
        .unwrap_or(76);
    let (ins, failed) = inputs(sh, rt, io, "base64", &o.ops, read_limit(rt, sh));
    if failed {
        return 1;
    }
    let data: Vec<u8> = ins.into_iter().flat_map(|(_, d)| d).collect();
    if decode {
        match b64_decode(&data) {
            Ok(d) => rt.out(io, &d),
            Err(d) => {
                rt.out(io, &d);
                err!(rt, io, "base64: invalid input\n");
                return 1;
            }
        }
        return 0;
    }
    let enc = b64_encode(&data);
    if wrap == 0 {
        out!(rt, io, "{enc}\n");
    } else {
        for chunk in enc.as_bytes().chunks(wrap) {
            rt.out(io, chunk);
            rt.out(io, b"\n");
        }
        if enc.is_empty() {
            rt.out(io, b"");
        }
    }
    0
}

pub(crate) fn chattr(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let mut files = Vec::new();
    let mut spec = None;
    for a in argv.iter().skip(1) {
        if (a.starts_with('+') || a.starts_with('-') || a.starts_with('='))
            && spec.is_none()
            && !matches!(a.as_str(), "-R" | "-V" | "-f")
        {
            spec = Some(a.clone());
        } else if !matches!(a.as_str(), "-R" | "-V" | "-f") {
            files.push(a.clone());
        }
    }
    if spec.is_none() || files.is_empty() {
        err!(
            rt,
            io,
            "Usage: chattr [-RVf] [-+=aAcCdDeijPsStTuFx] [-p project] [-v version] files...\n"
        );
        return 1;
    }
    let mut st = 0;
    let root = sh.is_root();
    for f in files {
        let abs = sh.abs(&f);
        match sh.fs().stat(&abs, true) {
            Err(e) => {
                err!(rt, io, "chattr: {} while trying to stat {f}\n", e.msg());
                st = 1;
            }
            Ok(_) if !root => {
                err!(
                    rt,
                    io,
                    "chattr: Operation not permitted while setting flags on {f}\n"
                );
                st = 1;
            }
            Ok(_) => {}
        }
    }
    st
}

pub(crate) fn lsattr(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "", None);
    let flags = "--------------e-------";
    let mut st = 0;
    let targets = if o.ops.is_empty() {
        vec![".".to_string()]
    } else {
        o.ops.clone()
    };
    for t in targets {
        let abs = sh.abs(&t);
        let node = sh.fs().stat(&abs, true).map(|(_, n)| n.is_dir());
        match node {
            Err(e) => {
                err!(rt, io, "lsattr: {} while trying to stat {t}\n", e.msg());
                st = 1;
            }
            Ok(true) if !o.has('d') => {
                let l = sh
                    .fs()
                    .list(&abs)
                    .map(|v| v.into_iter().map(|(n, _)| n).collect::<Vec<String>>());
                match l {
                    Ok(entries) => {
                        let names: Vec<String> = entries
                            .into_iter()
                            .filter(|n| o.has('a') || !n.starts_with('.'))
                            .collect();
                        for n in names {
                            let p = if t == "." {
                                format!("./{n}")
                            } else {
                                format!("{}/{n}", t.trim_end_matches('/'))
                            };
                            out!(rt, io, "{flags} {p}\n");
                        }
                    }
                    Err(e) => {
                        err!(rt, io, "lsattr: {} While reading flags on {t}\n", e.msg());
                        st = 1;
                    }
                }
            }
            Ok(_) => out!(rt, io, "{flags} {t}\n"),
        }
    }
    st
}

pub(crate) fn stat(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "cf", Some("LtfF"));
    if o.ops.is_empty() {
        err!(
            rt,
            io,
            "stat: missing operand\nTry 'stat --help' for more information.\n"
        );
        return 1;
    }
    let mut st = 0;
    for f in &o.ops {
        let abs = sh.abs(f);
        let found = sh.fs().stat(&abs, o.has('L')).map(|(p, n)| (p, n.clone()));
        let (canon, n) = match found {
            Ok(x) => x,
            Err(e) => {
                err!(rt, io, "stat: cannot statx '{f}': {}\n", e.msg());
                st = 1;
                continue;
            }
        };
        if let Some(fmt) = o.val('c') {
            let mut s = String::new();
            let mut cs = fmt.chars();
            while let Some(c) = cs.next() {
                if c != '%' {
                    s.push(c);
                    continue;
                }
                match cs.next() {
                    Some('a') => s.push_str(&format!("{:o}", n.mode & 0o7777)),
                    Some('A') => s.push_str(&n.mode_string()),
                    Some('s') => s.push_str(&n.size().to_string()),
                    Some('U') => s.push_str(&owner(sh, n.uid)),
                    Some('G') => s.push_str(&group(sh, n.gid)),
                    Some('u') => s.push_str(&n.uid.to_string()),
                    Some('g') => s.push_str(&n.gid.to_string()),
                    Some('n') => s.push_str(f),
                    Some('Y') => s.push_str(&n.mtime.to_string()),
                    Some('F') => s.push_str(kind_name(&n)),
                    Some(o) => {
                        s.push('%');
                        s.push(o);
                    }
                    None => s.push('%'),
                }
            }
            out!(rt, io, "{s}\n");
            continue;
        }
        let t = util::tm(n.mtime);
        let stamp = format!(
            "{}.{:09} +0000",
            t.iso(),
            (util::fnv(&[canon.as_bytes()]) % 1_000_000_000)
        );
        let blocks = n.size().div_ceil(4096) * 8;
        let name = match &n.kind {
            Kind::Link(tg) => format!("{f} -> {tg}"),
            _ => f.clone(),
        };
        out!(
            rt,
            io,
            "  File: {name}\n  Size: {:<15} Blocks: {:<10} IO Block: 4096   {}\nDevice: 252,1\tInode: {:<11} Links: {}\nAccess: ({:04o}/{})  Uid: ({:>5}/{:>8})   Gid: ({:>5}/{:>8})\nAccess: {stamp}\nModify: {stamp}\nChange: {stamp}\n Birth: {stamp}\n",
            n.size(),
            blocks,
            kind_name(&n),
            inode(&canon),
            if n.is_dir() { 2 } else { 1 },
            n.mode & 0o7777,
            n.mode_string(),
            n.uid,
            owner(sh, n.uid),
            n.gid,
            group(sh, n.gid)
        );
    }
    st
}

fn kind_name(n: &Node) -> &'static str {
    match &n.kind {
        Kind::Dir => "directory",
        Kind::Link(_) => "symbolic link",
        Kind::Dev(d) if d.block => "block special file",
        Kind::Dev(_) => "character special file",
        Kind::File(_) if n.size() == 0 => "regular empty file",
        Kind::File(_) => "regular file",
    }
}

/// What `file` says about bytes.
pub(crate) fn describe(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "empty".into();
    }
    if bytes.len() >= 20 && bytes.starts_with(b"\x7fELF") {
        let class = if bytes[4] == 2 { "64-bit" } else { "32-bit" };
        let lsb = bytes[5] != 2;
        let rd16 = |o: usize| {
            if lsb {
                u16::from_le_bytes([bytes[o], bytes[o + 1]])
            } else {
                u16::from_be_bytes([bytes[o], bytes[o + 1]])
            }
        };
        let kind = match rd16(16) {
            2 => "executable",
            3 => "pie executable",
            1 => "relocatable",
            4 => "core file",
            _ => "executable",
        };
        let arch = match rd16(18) {
            3 => "Intel 80386",
            8 => "MIPS, MIPS-I version 1 (SYSV)",
            20 => "PowerPC or cisco 4500",
            21 => "64-bit PowerPC or cisco 7500",
            40 => "ARM, EABI5 version 1 (SYSV)",
            42 => "Renesas SH",
            43 => "SPARC V9",
            62 => "x86-64",
            183 => "ARM aarch64",
            243 => "UCB RISC-V",
            _ => "unknown arch",
        };
        let order = if lsb { "LSB" } else { "MSB" };
        let version = if arch.contains("version") {
            ""
        } else {
            ", version 1 (SYSV)"
        };
        let linked = if bytes
            .windows(10)
            .take(8192)
            .any(|w| w == b"/lib64/ld-" || w == b"ld-linux-x")
        {
            "dynamically linked, interpreter /lib64/ld-linux-x86-64.so.2"
        } else {
            "statically linked"
        };
        return format!("ELF {class} {order} {kind}, {arch}{version}, {linked}, stripped");
    }
    if bytes.starts_with(b"\x1f\x8b") {
        return "gzip compressed data, from Unix".into();
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return "Zip archive data, at least v2.0 to extract".into();
    }
    if bytes.len() > 262 && &bytes[257..262] == b"ustar" {
        return "POSIX tar archive (GNU)".into();
    }
    if bytes.starts_with(b"#!") {
        let line = bytes.split(|&b| b == b'\n').next().unwrap_or(b"");
        let l = String::from_utf8_lossy(line);
        return if l.contains("bash") {
            "Bourne-Again shell script, ASCII text executable".into()
        } else if l.contains("python") {
            "Python script, ASCII text executable".into()
        } else if l.contains("perl") {
            "Perl script text executable".into()
        } else {
            "POSIX shell script, ASCII text executable".into()
        };
    }
    if bytes.contains(&0) {
        return "data".into();
    }
    if bytes.is_ascii() {
        "ASCII text".into()
    } else if std::str::from_utf8(bytes).is_ok() {
        "Unicode text, UTF-8 text".into()
    } else {
        "data".into()
    }
}

pub(crate) fn file(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "", None);
    if o.ops.is_empty() {
        err!(rt, io, "Usage: file [-bcCdEhikLlNnprsSvzZ0] [--apple] [--extension] [--mime-encoding]\n            [--mime-type] [-e <testname>] [-F <separator>]  [-f <namefile>]\n            [-m <magicfiles>] [-P <parameter=value>] [--exclude-quiet]\n            <file> ...\n       file -C [-m <magicfiles>]\n       file [--help]\n");
        return 1;
    }
    for f in &o.ops {
        let abs = sh.abs(f);
        let info = sh.fs().stat(&abs, false).map(|(_, n)| n.clone());
        let desc = match info {
            Err(e) => format!("cannot open `{f}' ({})", e.msg()),
            Ok(n) => match &n.kind {
                Kind::Dir => "directory".into(),
                Kind::Link(t) => format!("symbolic link to {t}"),
                Kind::Dev(d) => format!(
                    "{} special ({}/{})",
                    if d.block { "block" } else { "character" },
                    d.major,
                    d.minor
                ),
                Kind::File(Data::Binary { prog, .. }) => {
                    let id = util::fnv(&[prog.as_bytes(), &sh.world.identity.seed.to_le_bytes()]);
                    format!("ELF 64-bit LSB pie executable, x86-64, version 1 (SYSV), dynamically linked, interpreter /lib64/ld-linux-x86-64.so.2, BuildID[sha1]={:016x}{:016x}{:08x}, for GNU/Linux 3.2.0, stripped", id, id.rotate_left(17), (id >> 7) as u32)
                }
                Kind::File(_) => match sh.read_path(rt, f, 64 * 1024) {
                    Ok(b) => describe(&b),
                    Err(e) => format!("cannot open `{f}' ({})", e.msg()),
                },
            },
        };
        if o.has('b') {
            out!(rt, io, "{desc}\n");
        } else {
            out!(rt, io, "{f}: {desc}\n");
        }
    }
    0
}

pub(crate) fn find(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    // paths first, then the expression
    let mut k = 1;
    let mut roots = Vec::new();
    while k < argv.len() && !argv[k].starts_with('-') && argv[k] != "!" && argv[k] != "(" {
        roots.push(argv[k].clone());
        k += 1;
    }
    if roots.is_empty() {
        roots.push(".".into());
    }
    let mut name: Option<(String, bool)> = None;
    let mut kind: Option<char> = None;
    let mut maxdepth = usize::MAX;
    let mut mindepth = 0usize;
    let mut perm: Option<(u16, char)> = None;
    let mut user: Option<u32> = None;
    let mut exec: Option<Vec<String>> = None;
    let mut delete = false;
    let mut negate_next = false;
    let mut negate_name = false;
    while k < argv.len() {
        let a = argv[k].as_str();
        let val = argv.get(k + 1).cloned();
        match a {
            "!" | "-not" => {
                negate_next = true;
                k += 1;
                continue;
            }
            "-name" | "-iname" => {
                name = val.map(|v| (v, a == "-iname"));
                negate_name = negate_next;
                k += 2;
            }
            "-type" => {
                kind = val.and_then(|v| v.chars().next());
                k += 2;
            }
            "-maxdepth" => {
                maxdepth = val.and_then(|v| v.parse().ok()).unwrap_or(usize::MAX);
                k += 2;
            }
            "-mindepth" => {
                mindepth = val.and_then(|v| v.parse().ok()).unwrap_or(0);
                k += 2;
            }
            "-perm" => {
                perm = val.and_then(|v| {
                    let (m, digits) = match v.chars().next() {
                        Some(c @ ('-' | '/')) => (c, v[1..].to_string()),
                        _ => ('=', v.clone()),
                    };
                    u16::from_str_radix(&digits, 8).ok().map(|p| (p, m))
                });
                k += 2;
            }
            "-user" => {
                user = val.and_then(|v| {
                    sh.world
                        .identity
                        .user(&v)
                        .map(|u| u.uid)
                        .or_else(|| v.parse().ok())
                });
                k += 2;
            }
            "-exec" | "-execdir" | "-ok" => {
                let mut cmd = Vec::new();
                k += 1;
                while k < argv.len() && argv[k] != ";" && argv[k] != "+" {
                    cmd.push(argv[k].clone());
                    k += 1;
                }
                k += 1;
                exec = Some(cmd);
            }
            "-delete" => {
                delete = true;
                k += 1;
            }
            "-print" | "-print0" | "-ls" | "-xdev" | "-mount" | "-follow" | "-depth" | "-o"
            | "-a" | "-or" | "-and" | "(" | ")" => k += 1,
            "-size" | "-mtime" | "-mmin" | "-newer" | "-group" | "-path" | "-regex" | "-ctime"
            | "-atime" | "-links" | "-fstype" | "-wholename" | "-prune" => {
                k += if a == "-prune" { 1 } else { 2 }
            }
            _ => {
                err!(rt, io, "find: unknown predicate `{a}'\n");
                return 1;
            }
        }
        negate_next = false;
    }
    let mut st = 0;
    let mut visited = 0usize;
    let mut found: Vec<String> = Vec::new();
    for root in roots {
        let abs = sh.abs(&root);
        let root_node = sh.fs().stat(&abs, true).map(|(p, n)| (p, n.clone()));
        let (canon, node) = match root_node {
            Ok(x) => x,
            Err(e) => {
                err!(rt, io, "find: ‘{root}’: {}\n", e.msg());
                st = 1;
                continue;
            }
        };
        let mut stack = vec![(root.clone(), canon, node, 0usize)];
        while let Some((shown, path, n, depth)) = stack.pop() {
            visited += 1;
            if visited > 20_000 || found.len() > 10_000 || !rt.work(1) {
                break;
            }
            let base = shown
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or(&shown)
                .to_string();
            let mut ok = depth >= mindepth;
            if let Some((pat, icase)) = &name {
                let (p, b) = if *icase {
                    (pat.to_lowercase(), base.to_lowercase())
                } else {
                    (pat.clone(), base.clone())
                };
                let m = super::fs::fnmatch(
                    &p.chars().collect::<Vec<_>>(),
                    &b.chars().collect::<Vec<_>>(),
                );
                ok &= m != negate_name;
            }
            if let Some(t) = kind {
                ok &= match t {
                    'f' => matches!(n.kind, Kind::File(_)),
                    'd' => n.is_dir(),
                    'l' => n.is_link(),
                    'c' | 'b' => matches!(n.kind, Kind::Dev(_)),
                    _ => false,
                };
            }
            if let Some((p, how)) = perm {
                let m = n.mode & 0o7777;
                ok &= match how {
                    '-' => m & p == p,
                    '/' => m & p != 0 || p == 0,
                    _ => m == p,
                };
            }
            if let Some(u) = user {
                ok &= n.uid == u;
            }
            if ok {
                found.push(shown.clone());
            }
            if n.is_dir() && depth < maxdepth {
                match sh.fs().list(&path) {
                    Ok(l) => {
                        let kids: Vec<(String, String, Node)> = l
                            .into_iter()
                            .map(|(name, c)| (name.clone(), join(&path, &name), c.clone()))
                            .collect();
                        for (name, p, c) in kids.into_iter().rev() {
                            let s = if shown.ends_with('/') {
                                format!("{shown}{name}")
                            } else {
                                format!("{shown}/{name}")
                            };
                            stack.push((s, p, c, depth + 1));
                        }
                    }
                    Err(e) => {
                        err!(rt, io, "find: ‘{shown}’: {}\n", e.msg());
                        st = 1;
                    }
                }
            }
        }
    }
    for f in found {
        if rt.halted {
            break;
        }
        if let Some(cmd) = &exec {
            let words: Vec<String> = cmd.iter().map(|w| w.replace("{}", &f)).collect();
            if !words.is_empty() {
                sh.run_argv(rt, io, &words);
            }
        } else if delete {
            let abs = sh.abs(&f);
            let r = match sh.fs().stat(&abs, false) {
                Ok((_, n)) if n.is_dir() => sh.fs().rmdir(&abs),
                _ => sh.fs().unlink(&abs),
            };
            if let Err(e) = r {
                err!(rt, io, "find: cannot delete ‘{f}’: {}\n", e.msg());
                st = 1;
            }
        } else {
            out!(rt, io, "{f}\n");
        }
    }
    st
}

/// A dd size: `512`, `1k`, `1M`, `2x4`.
fn dd_size(s: &str) -> Option<usize> {
    let (num, mult) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((k, _)) => (
            &s[..k],
            match &s[k..] {
                "c" => 1,
                "w" => 2,
                "b" => 512,
                "k" | "K" | "KiB" => 1024,
                "kB" => 1000,
                "M" | "MiB" => 1 << 20,
                "MB" => 1_000_000,
                "G" | "GiB" => 1 << 30,
                _ => return None,
            },
        ),
        None => (s, 1),
    };
    num.parse::<usize>().ok()?.checked_mul(mult)
}

pub(crate) fn dd(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let mut input = None;
    let mut output = None;
    let mut bs = 512usize;
    let mut count: Option<usize> = None;
    let mut skip = 0usize;
    let mut seek = 0usize;
    let mut quiet = false;
    for a in argv.iter().skip(1) {
        let Some((k, v)) = a.split_once('=') else {
            err!(
                rt,
                io,
                "dd: unrecognized operand ‘{a}’\nTry 'dd --help' for more information.\n"
            );
            return 1;
        };
        let size = || dd_size(v);
        match k {
            "if" => input = Some(v.to_string()),
            "of" => output = Some(v.to_string()),
            "bs" | "ibs" | "obs" => match size() {
                Some(s) if s > 0 => bs = s,
                _ => {
                    err!(rt, io, "dd: invalid number: ‘{v}’\n");
                    return 1;
                }
            },
            "count" => count = size(),
            "skip" | "iseek" => skip = size().unwrap_or(0),
            "seek" | "oseek" => seek = size().unwrap_or(0),
            "status" => quiet = v == "none",
            "conv" | "iflag" | "oflag" => {}
            _ => {
                err!(
                    rt,
                    io,
                    "dd: unrecognized operand ‘{a}’\nTry 'dd --help' for more information.\n"
                );
                return 1;
            }
        }
    }
    let cap = sh.limits.max_output.max(sh.limits.max_fs_bytes) + 1;
    let want = count.map_or(cap, |c| {
        c.saturating_mul(bs)
            .saturating_add(skip.saturating_mul(bs))
            .min(cap)
    });
    let data = match &input {
        Some(f) => match sh.read_path(rt, f, want) {
            Ok(d) => d,
            Err(e) => {
                err!(rt, io, "dd: failed to open '{f}': {}\n", e.msg());
                return 1;
            }
        },
        None => {
            let mut d = io.stdin.take_all();
            d.truncate(want);
            d
        }
    };
    let start = skip.saturating_mul(bs).min(data.len());
    let end = count.map_or(data.len(), |c| {
        start.saturating_add(c.saturating_mul(bs)).min(data.len())
    });
    let chunk = &data[start..end];
    let ok = match &output {
        Some(f) => {
            let _ = seek;
            sh.write_for(rt, io, "dd", f, chunk, false)
        }
        None => {
            rt.out(io, chunk);
            true
        }
    };
    if !ok {
        return 1;
    }
    if !quiet {
        let full = chunk.len() / bs;
        let part = usize::from(chunk.len() % bs != 0);
        let secs = 0.000_05 + chunk.len() as f64 / 4e9;
        let rate = chunk.len() as f64 / secs;
        let rate = if rate > 1e9 {
            format!("{:.1} GB/s", rate / 1e9)
        } else if rate > 1e6 {
            format!("{:.1} MB/s", rate / 1e6)
        } else {
            format!("{:.0} kB/s", rate / 1e3)
        };
        err!(rt, io, "{full}+{part} records in\n{full}+{part} records out\n{} bytes copied, {secs:.6} s, {rate}\n", chunk.len());
    }
    0
}

pub(crate) fn tee(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "", Some("aip"));
    let data = io.stdin.take_all();
    rt.out(io, &data);
    let mut st = 0;
    for (i, f) in o.ops.iter().enumerate() {
        if i > 0 && !o.has('a') && o.ops[..i].contains(f) {
            continue;
        }
        if f == "/dev/null" {
            continue;
        }
        if !sh.write_for(rt, io, "tee", f, &data, o.has('a')) {
            st = 1;
        }
    }
    st
}

pub(crate) fn readlink(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let cmd = name_of(argv);
    let o = getopt(argv, "", None);
    let canon = cmd == "realpath" || o.has('f') || o.has('e') || o.has('m');
    let mut st = 0;
    for f in &o.ops {
        let abs = sh.abs(f);
        if canon {
            match sh.fs().resolve(&abs, true) {
                Ok(r) if r.node.is_some() || o.has('m') || o.has('f') => {
                    out!(rt, io, "{}\n", r.path)
                }
                Ok(_) => {
                    if cmd == "realpath" {
                        err!(rt, io, "realpath: {f}: No such file or directory\n");
                    }
                    st = 1;
                }
                Err(e) => {
                    if cmd == "realpath" {
                        err!(rt, io, "realpath: {f}: {}\n", e.msg());
                    }
                    st = 1;
                }
            }
        } else {
            match sh.fs().stat(&abs, false) {
                Ok((
                    _,
                    Node {
                        kind: Kind::Link(t),
                        ..
                    },
                )) => {
                    let t = t.to_string();
                    out!(rt, io, "{t}\n");
                }
                _ => st = 1,
            }
        }
    }
    st
}

pub(crate) fn basename(_: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let Some(p) = argv.get(1) else {
        err!(
            rt,
            io,
            "basename: missing operand\nTry 'basename --help' for more information.\n"
        );
        return 1;
    };
    let t = p.trim_end_matches('/');
    let mut b = if t.is_empty() && !p.is_empty() {
        "/".to_string()
    } else {
        t.rsplit('/').next().unwrap_or(t).to_string()
    };
    if let Some(suf) = argv.get(2) {
        if b.len() > suf.len() && b.ends_with(suf.as_str()) {
            b.truncate(b.len() - suf.len());
        }
    }
    out!(rt, io, "{b}\n");
    0
}

pub(crate) fn dirname(_: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let Some(p) = argv.get(1) else {
        err!(
            rt,
            io,
            "dirname: missing operand\nTry 'dirname --help' for more information.\n"
        );
        return 1;
    };
    let t = p.trim_end_matches('/');
    let d = match t.rfind('/') {
        Some(0) => "/".to_string(),
        Some(k) => t[..k].trim_end_matches('/').to_string(),
        None if p.starts_with('/') => "/".into(),
        None => ".".into(),
    };
    out!(rt, io, "{}\n", if d.is_empty() { "/" } else { &d });
    0
}

pub(crate) fn mktemp(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "pt", Some("duq"));
    let template = o
        .ops
        .first()
        .cloned()
        .unwrap_or_else(|| "tmp.XXXXXXXXXX".into());
    let xs = template.chars().rev().take_while(|&c| c == 'X').count();
    if xs < 3 {
        err!(rt, io, "mktemp: too few X's in template ‘{template}’\n");
        return 1;
    }
    let rand: String = (0..xs).map(|_| fastrand::alphanumeric()).collect();
    let name = format!("{}{rand}", &template[..template.len() - xs]);
    let path = if name.starts_with('/') {
        name
    } else {
        format!("{}/{name}", o.val('p').unwrap_or("/tmp"))
    };
    let res = if o.has('d') {
        sh.fs().create(&path, Kind::Dir, 0o700).map(|_| ())
    } else {
        sh.fs().write(&path, b"", false, 0o600).map(|_| ())
    };
    match res {
        Ok(()) => {
            out!(rt, io, "{path}\n");
            0
        }
        Err(e) => {
            err!(
                rt,
                io,
                "mktemp: failed to create {} via template ‘{path}’: {}\n",
                if o.has('d') { "directory" } else { "file" },
                e.msg()
            );
            1
        }
    }
}

/// `tar` and `gzip`: they find the archive (or not) and, for a real archive, quietly do
/// nothing; anything else fails as the real tools do.
pub(crate) fn archive(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let cmd = name_of(argv);
    let file = if cmd == "tar" {
        let mut f = None;
        for (i, a) in argv.iter().enumerate().skip(1) {
            if a.starts_with('-') && a.contains('f') && !a.starts_with("--") {
                f = argv.get(i + 1).cloned();
                break;
            }
            if i == 1 && !a.starts_with('-') && a.contains('f') {
                f = argv.get(2).cloned();
                break;
            }
            if let Some(v) = a.strip_prefix("--file=") {
                f = Some(v.to_string());
            }
        }
        f
    } else {
        argv.iter().skip(1).find(|a| !a.starts_with('-')).cloned()
    };
    let Some(f) = file else {
        if cmd == "tar" {
            err!(rt, io, "tar: You must specify one of the '-Acdtrux', '--delete' or '--test-label' options\nTry 'tar --help' or 'tar --usage' for more information.\n");
            return 2;
        }
        return 0;
    };
    let creating = cmd == "tar" && argv.get(1).is_some_and(|a| a.contains('c'));
    if creating {
        return if sh.write_for(rt, io, "tar", &f, &[0u8; 10240], false) {
            0
        } else {
            2
        };
    }
    match sh.read_path(rt, &f, 1 << 20) {
        Err(e) => {
            if cmd == "tar" {
                err!(
                    rt,
                    io,
                    "tar: {f}: Cannot open: {}\ntar: Error is not recoverable: exiting now\n",
                    e.msg()
                );
                2
            } else {
                err!(rt, io, "gzip: {f}: {}\n", e.msg());
                1
            }
        }
        Ok(b) => {
            let gz = b.starts_with(b"\x1f\x8b");
            let tar = b.len() > 262 && &b[257..262] == b"ustar";
            if gz || tar {
                0
            } else if cmd == "tar" {
                err!(rt, io, "tar: This does not look like a tar archive\ntar: Exiting with failure status due to previous errors\n");
                2
            } else {
                err!(rt, io, "gzip: {f}: not in gzip format\n");
                1
            }
        }
    }
}
