//! The fake shell an attacker lands in after logging in to the SSH honeypot.
//!
//! It has to convince bots and people doing reconnaissance and dropping malware, and it must
//! never execute anything nor open any connection: every command is a pure, in-memory,
//! synchronous imitation. A download (`wget`, `curl`, `tftp`, `busybox wget`, `nc`…) is
//! recorded as an [`Effect::Download`] and answered with what the real tool prints when the
//! network fails; nothing is fetched and nothing is created.
//!
//! The pieces:
//! - [`identity`]: the per-deployment host (hostname, distribution, kernel, hardware, users,
//!   network, processes), drawn from a seed and kept on disk;
//! - [`World`]: the identity and the base filesystem built from it, shared (through `Arc`)
//!   by every session and never copied;
//! - [`Shell`]: one session (user, working directory, variables, history, and its overlay
//!   of the filesystem: what it wrote, changed or deleted);
//! - [`parse`]: bash's grammar, as far as attackers use it;
//! - the commands (`cmd_*` modules): GNU coreutils, procps, iproute2, net-tools, systemd and
//!   bash builtins as they print on Debian, Ubuntu or CentOS.
//!
//! Everything is bounded whatever the input: a line's length, a command's output, the bytes
//! and entries a session may add, the nesting of substitutions and scripts, the number of
//! commands one line may run, the bytes its expansions may produce. Nothing panics on input.
//!
//! Sizes (measured by `tests/shell_alloc.rs` and the unit tests): `size_of::<Shell>()` is
//! 208 bytes and an idle session keeps only its working directory's path on the heap
//! (5 to 20 bytes; a user the identity does not have also gets a home directory and its
//! dot files in the overlay, a few hundred bytes); a [`World`] is about 200 KB of heap
//! (some 700 entries, more with more cores), once per process.

// output helpers for the command modules: `out!(rt, io, "fmt", args)`
macro_rules! out {
    ($rt:expr, $io:expr, $($a:tt)*) => {
        $rt.out($io, format!($($a)*).as_bytes())
    };
}
macro_rules! err {
    ($rt:expr, $io:expr, $($a:tt)*) => {
        $rt.err($io, format!($($a)*).as_bytes())
    };
}

mod base;
mod cmd_files;
mod cmd_net;
mod cmd_sys;
mod cmd_text;
mod exec;
mod expand;
pub(crate) mod fs;
pub mod identity;
pub mod parse;
mod re;
pub(crate) mod util;

/// The names `ls -l` shows for a uid and a gid (the SFTP subsystem's long names too).
pub(crate) use cmd_files::{group, owner};
pub use identity::Identity;

use exec::{Input, Io, Run};
use fs::{Cred, Data, Fs, FsLimits, Kind, Node, Overlay};
use std::net::IpAddr;
use std::sync::Arc;

/// What every session shares: the identity and the base filesystem built from it
/// (immutable; sessions hold it through `Arc` and never copy it).
pub struct World {
    identity: Identity,
    pub(crate) base: fs::Base,
    pub(crate) facts: base::Facts,
    /// When it was built (seconds since 1970): the host's uptime counts from here.
    pub(crate) born: i64,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("hostname", &self.identity.hostname)
            .field("entries", &self.base.nodes.len())
            .finish()
    }
}

impl World {
    /// Builds the base filesystem from an identity.
    pub fn new(identity: Identity) -> Arc<World> {
        let born = util::now();
        let (base, facts) = base::build(&identity, born);
        Arc::new(World {
            identity,
            base,
            facts,
            born,
        })
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Entries of the base filesystem.
    pub fn entries(&self) -> usize {
        self.base.nodes.len()
    }

    /// Approximate heap bytes of the base filesystem (what one World costs in memory).
    pub fn heap_bytes(&self) -> usize {
        self.base.heap_bytes()
    }

    /// Seconds since boot, now.
    pub(crate) fn uptime(&self) -> u64 {
        self.identity.uptime_base_secs + (util::now() - self.born).max(0) as u64
    }

    /// When the fake host booted (seconds since the epoch): as long before it was made as its
    /// identity's uptime then.
    pub(crate) fn boot(&self) -> i64 {
        self.born - self.identity.uptime_base_secs as i64
    }

    /// The login message this distribution shows (without the "Last login" line, which
    /// [`Shell::banner`] adds).
    pub fn motd(&self) -> String {
        let id = &self.identity;
        match id.os.family() {
            identity::Family::Ubuntu => {
                let t = util::tm(util::now());
                let used = f64::from(id.disk_used_permille) / 10.0;
                let gb = f64::from(id.disk_gib) * 0.96 * 1.073_741_824;
                let mem_pct = self.facts.mem.used() * 100 / self.facts.mem.total.max(1);
                let procs = id.processes.len() + 3;
                let nic = id.primary().map(|i| format!("IPv4 address for {}: {}", i.name, i.ipv4)).unwrap_or_default();
                format!(
                    "Welcome to {} (GNU/Linux {} x86_64)\n\n * Documentation:  https://help.ubuntu.com\n * Management:     https://landscape.canonical.com\n * Support:        https://ubuntu.com/pro\n\n System information as of {} {} {:2} {:02}:{:02}:{:02} UTC {}\n\n  System load:  {:<18.2} Processes:             {procs}\n  Usage of /:   {:<18} Users logged in:       0\n  Memory usage: {:<18} {nic}\n  Swap usage:   0%\n\n",
                    id.os_pretty_name,
                    id.kernel_release,
                    t.day_name(),
                    t.month_name(),
                    t.day,
                    t.hour,
                    t.min,
                    t.sec,
                    t.year,
                    self.facts.load[0],
                    format!("{used:.1}% of {gb:.2}GB"),
                    format!("{mem_pct}%"),
                )
            }
            identity::Family::Debian => format!(
                "Linux {} {} {} {}\n\nThis system is for authorised use by the operations team only.\n",
                id.hostname, id.kernel_release, id.kernel_version, id.machine
            ),
            identity::Family::Rhel => String::new(),
        }
    }
}

/// Caps for one session.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Longest command line: a longer one is refused with a bash-like error and counted
    /// ([`Effect::Capped`] `"line"`). Default 64 KiB.
    pub max_line: usize,
    /// Output of one command line: cut there ([`Effect::Capped`] `"output"`). Default
    /// 256 KiB.
    pub max_output: usize,
    /// Bytes of file content a session may add on top of the base. Default 1 MiB.
    pub max_fs_bytes: usize,
    /// Entries a session may add or change. Default 512.
    pub max_files: usize,
    /// Bytes kept of one upload; the SHA-256 reported is of the bytes kept. Default 1 MiB.
    pub max_upload: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: 64 * 1024,
            max_output: 256 * 1024,
            max_fs_bytes: 1024 * 1024,
            max_files: 512,
            max_upload: 1024 * 1024,
        }
    }
}

/// What running one line did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// Standard output and errors, in order, `\n` line ends.
    pub output: Vec<u8>,
    pub effects: Vec<Effect>,
    /// `exit` or `logout`: the session ends.
    pub exit: bool,
    /// The exit status of the last command (`$?`).
    pub status: i32,
}

/// Something worth recording that a line did.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// wget, curl, tftp, ftpget, busybox wget, scp, ssh, nc…: the URL (or `host:port`)
    /// asked for, never fetched.
    Download { url: String, tool: String },
    /// A file written by a redirection, `touch`, `cp`, `tee`, `crontab`, an upload…: its
    /// path, size and SHA-256 (hex) after the write.
    FileWritten {
        path: String,
        size: usize,
        sha256: String,
    },
    /// A line refused (`"line"`), the terminal's output cut (`"output"`), or a write cut
    /// or refused by the session's filesystem caps (`"fs"`). (An upload's cut is in
    /// [`Upload::truncated`].)
    Capped { what: &'static str },
}

/// A file uploaded into a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// Where it was kept (canonical).
    pub path: String,
    /// Bytes kept.
    pub size: usize,
    /// SHA-256 (hex) of the bytes kept.
    pub sha256: String,
    /// Cut by `max_upload` or by the session's filesystem cap.
    pub truncated: bool,
}

/// Who the session is: an account of the identity, or a name that is not one (the SSH
/// layer may let any name in), given the next free uid.
#[derive(Debug, Clone)]
enum Who {
    Known(u16),
    Other(Box<OtherUser>),
}

#[derive(Debug, Clone)]
struct OtherUser {
    name: Box<str>,
    uid: u32,
    home: Box<str>,
}

/// A shell variable the session set (the login environment is computed, not stored).
#[derive(Debug, Clone)]
pub(crate) struct Var {
    name: Box<str>,
    /// None: unset (hides a default).
    value: Option<Box<str>>,
    exported: bool,
}

/// What few sessions use, kept out of line so an idle `Shell` stays small.
#[derive(Debug, Default)]
struct Extra {
    oldpwd: Option<String>,
    /// The session's aliases once it changed any (None: the defaults).
    aliases: Option<Vec<(String, String)>>,
    /// "[1]+  Done  …" lines to print after the next command.
    notices: Vec<String>,
    /// A line waiting for its here-document's end.
    pending: Option<String>,
    client: Option<(IpAddr, u16)>,
    /// Users `su` came from (an `exit` goes back).
    su_stack: Vec<(Who, Box<str>)>,
    /// `history -c` was run: the loaded ~/.bash_history is gone.
    history_cleared: bool,
    /// The hostname root set (shown by `hostname` and the prompt).
    hostname: Option<String>,
}

/// Most variables a session may set, and bytes per value.
const MAX_VARS: usize = 128;
const MAX_VAR_BYTES: usize = 64 * 1024;
/// Bytes all the session's variables may hold.
const MAX_VARS_TOTAL: usize = 256 * 1024;
/// History lines kept, and bytes per line.
const HISTORY_LINES: usize = 500;
const HISTORY_LINE_BYTES: usize = 1024;

/// One attacker session. See the module documentation.
pub struct Shell {
    world: Arc<World>,
    who: Who,
    cwd: Box<str>,
    ov: Overlay,
    limits: Limits,
    vars: Vec<Var>,
    history: Vec<Box<str>>,
    extra: Option<Box<Extra>>,
    /// `$?`
    status: i32,
    /// The shell's PID; its children count up from it.
    pid: u32,
    next_pid: u32,
    /// When the session started (seconds since 1970).
    started: i64,
    /// The session has a terminal (`ls` prints columns; tools draw no progress meters).
    pty: bool,
}

impl std::fmt::Debug for Shell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shell")
            .field("user", &self.user_name())
            .field("cwd", &self.cwd)
            .field("overlay_entries", &self.ov.entries())
            .finish()
    }
}

impl Shell {
    /// A session for `user` (an account of the identity, or any other name: it gets the
    /// next free uid and a home directory in its overlay).
    pub fn new(world: Arc<World>, user: &str, limits: Limits) -> Shell {
        let users = &world.identity.users;
        let (who, home) = match users.iter().position(|u| u.name == user) {
            Some(i) => (Who::Known(i as u16), users[i].home.clone()),
            None => {
                let name: String = user
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                    .take(32)
                    .collect();
                let name = if name.is_empty() || name.starts_with(['-', '.']) {
                    "user".to_string()
                } else {
                    name
                };
                let uid = (1000..)
                    .find(|u| !users.iter().any(|x| x.uid == *u))
                    .unwrap_or(1999);
                let home = format!("/home/{name}");
                (
                    Who::Other(Box::new(OtherUser {
                        name: name.into(),
                        uid,
                        home: home.clone().into(),
                    })),
                    home,
                )
            }
        };
        let pid = world.facts.next_pid + fastrand::u32(..5000);
        let mut sh = Shell {
            cwd: "/".into(),
            who,
            ov: Overlay::default(),
            limits,
            vars: Vec::new(),
            history: Vec::new(),
            extra: None,
            status: 0,
            pid,
            next_pid: pid + 1,
            started: util::now(),
            pty: true,
            world,
        };
        if matches!(sh.who, Who::Other(_)) {
            let (uid, now) = (sh.uid(), util::now());
            let mut f = sh.fs_as(Cred { uid: 0, gid: 0 });
            let _ = f.create(&home, Kind::Dir, 0o750);
            let _ = f.modify(&home, false, |n| {
                n.uid = uid;
                n.gid = uid;
                n.mtime = now;
            });
            // the skeleton's dot files (shared bytes: nothing copied)
            for dot in [".bashrc", ".profile", ".bash_logout"] {
                if let Some(n) = f.base.get(&format!("/etc/skel/{dot}")).cloned() {
                    let _ = f.place(
                        &format!("{home}/{dot}"),
                        Node {
                            uid,
                            gid: uid,
                            mtime: now,
                            ..n
                        },
                    );
                }
            }
            // /etc/passwd lists the account (made when read: no copy of the file)
            let _ = f.modify("/etc/passwd", false, |n| {
                n.kind = Kind::File(Data::Dynamic(fs::Dynamic::Passwd))
            });
        }
        let home_ok = sh.fs().stat(&home, true).is_ok_and(|(_, n)| n.is_dir());
        if home_ok {
            sh.cwd = home.into();
        }
        sh
    }

    /// The prompt: `root@host:~# ` on Debian and Ubuntu, `[root@host ~]# ` on CentOS (as
    /// their default `PS1`s), or the session's own `PS1`; `> ` while a here-document is
    /// open.
    pub fn prompt(&self) -> String {
        if self.extra.as_ref().is_some_and(|e| e.pending.is_some()) {
            return self.get_var("PS2").unwrap_or_else(|| "> ".into());
        }
        if let Some(ps1) = self
            .vars
            .iter()
            .find(|v| &*v.name == "PS1")
            .and_then(|v| v.value.as_deref())
        {
            return self.render_ps1(ps1);
        }
        let ps1 = if self.world.identity.os.is_deb() {
            "\\u@\\h:\\w\\$ "
        } else {
            "[\\u@\\h \\W]\\$ "
        };
        self.render_ps1(ps1)
    }

    /// Runs one command line.
    pub fn run(&mut self, line: &str) -> Outcome {
        let mut rt = Run::new(self.limits.max_output);
        if line.len() > self.limits.max_line {
            rt.effects.push(Effect::Capped { what: "line" });
            let word: String = line
                .split_whitespace()
                .next()
                .unwrap_or("bash")
                .chars()
                .take(64)
                .collect();
            let word = if word.is_empty() {
                "bash".to_string()
            } else {
                word
            };
            let io = Io::terminal();
            err!(rt, &io, "-bash: {word}: Argument list too long\n");
            self.push_history(util::clip(line, HISTORY_LINE_BYTES));
            self.status = 126;
            return self.finish(rt);
        }
        let text = match self.extra.as_mut().and_then(|e| e.pending.take()) {
            Some(mut p) => {
                p.push('\n');
                p.push_str(line);
                p
            }
            None => line.to_string(),
        };
        match parse::parse(&text) {
            Err(parse::ParseError::HereDocPending) if text.len() <= self.limits.max_line => {
                self.extra_mut().pending = Some(text);
                return Outcome {
                    status: self.status,
                    ..Outcome::default()
                };
            }
            Err(e) => {
                self.push_history(&text);
                let io = Io::terminal();
                err!(rt, &io, "-bash: {e}\n");
                if matches!(e, parse::ParseError::Unclosed(_)) {
                    err!(rt, &io, "-bash: syntax error: unexpected end of file\n");
                }
                self.status = 2;
            }
            Ok(script) => {
                self.push_history(&text);
                let mut io = Io {
                    stdin: Input::default(),
                    out: 0,
                    err: 0,
                };
                let st = self.exec_script(&mut rt, &mut io, &script);
                self.status = st;
            }
        }
        self.finish(rt)
    }

    /// The output and effects of a finished line, with the background jobs' notices.
    fn finish(&mut self, mut rt: Run) -> Outcome {
        let notices = self
            .extra
            .as_mut()
            .map(|e| std::mem::take(&mut e.notices))
            .unwrap_or_default();
        let io = Io::terminal();
        for n in notices {
            rt.out(&io, n.as_bytes());
        }
        if !rt.new_notices.is_empty() {
            self.extra_mut().notices = std::mem::take(&mut rt.new_notices);
        }
        let mut exit = false;
        if let Some(code) = rt.exit_req {
            self.status = code;
            if let Some((who, cwd)) = self.extra.as_mut().and_then(|e| e.su_stack.pop()) {
                self.who = who;
                self.cwd = cwd;
                rt.out(&io, b"logout\n");
            } else {
                rt.out(&io, b"logout\n");
                exit = true;
            }
        }
        Outcome {
            output: rt.take_terminal(),
            effects: std::mem::take(&mut rt.effects),
            exit,
            status: self.status,
        }
    }

    /// A file uploaded (scp, SFTP): kept in the overlay (at most `max_upload` bytes, and what
    /// the session's filesystem cap leaves room for), with the SHA-256 of the bytes kept.
    /// A relative path is taken from the user's home directory. Nothing is executed.
    pub fn upload(&mut self, path: &str, bytes: &[u8]) -> Result<Upload, String> {
        let abs = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("{}/{}", self.home(), path)
        };
        let kept = &bytes[..bytes.len().min(self.limits.max_upload)];
        let mut f = self.fs();
        if let Ok((_, n)) = f.stat(&abs, true) {
            if n.is_dir() {
                return Err(format!("scp: {path}: Is a directory"));
            }
        }
        let w = f
            .write(&abs, kept, false, 0o644)
            .map_err(|e| format!("scp: {path}: {}", e.msg()))?;
        let truncated = kept.len() < bytes.len() || w.cut;
        Ok(Upload {
            path: w.path,
            size: w.size,
            sha256: w.sha256.unwrap_or_default(),
            truncated,
        })
    }

    /// Bytes of overlay this session holds (for memory accounting): entries, their paths
    /// and the content it wrote.
    pub fn overlay_bytes(&self) -> usize {
        self.ov.heap_bytes()
    }

    /// The user's name.
    pub fn user_name(&self) -> &str {
        match &self.who {
            Who::Known(_) => self.account().map_or("root", |u| u.name.as_str()),
            Who::Other(o) => &o.name,
        }
    }

    /// The working directory.
    pub fn cwd(&self) -> &str {
        &self.cwd
    }

    /// Tells the shell where the attacker connects from (shown by `w`, `who`, `last`,
    /// `netstat`, `$SSH_CLIENT`).
    pub fn set_client(&mut self, addr: IpAddr, port: u16) {
        self.extra_mut().client = Some((addr, port));
    }

    /// Whether the session has a terminal (default yes). Without one (`ssh host 'cmd'`),
    /// output is what tools print to a pipe: `ls` one name per line, curl's progress meter.
    pub fn set_pty(&mut self, pty: bool) {
        self.pty = pty;
    }

    /// Output goes to a terminal.
    pub(crate) fn on_tty(&self, io: &Io) -> bool {
        io.out == 0 && self.pty
    }

    /// "Last login: … from …" as sshd prints it before the first prompt.
    pub fn banner(&self) -> String {
        let id = &self.world.identity;
        let mut r = fastrand::Rng::with_seed(id.seed ^ u64::from(self.uid()));
        let t = util::tm(self.started - r.i64(3600..20 * 86_400));
        let from = id
            .primary()
            .and_then(|i| i.ipv4.parse::<std::net::Ipv4Addr>().ok())
            .map(|ip| {
                let o = ip.octets();
                format!("{}.{}.{}.{}", o[0], o[1], o[2], r.u8(2..250))
            })
            .unwrap_or_else(|| "10.0.0.2".into());
        format!(
            "Last login: {} {} {:2} {:02}:{:02}:{:02} {} from {from}\n",
            t.day_name(),
            t.month_name(),
            t.day,
            t.hour,
            t.min,
            t.sec,
            t.year
        )
    }

    // ---- internals shared by the command modules ----

    fn extra_mut(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// The session's user's account in the identity (None for a user it does not have).
    pub(crate) fn account(&self) -> Option<&identity::User> {
        match &self.who {
            Who::Known(i) => self.world.identity.users.get(*i as usize),
            Who::Other(_) => None,
        }
    }

    pub(crate) fn uid(&self) -> u32 {
        match &self.who {
            Who::Other(o) => o.uid,
            Who::Known(_) => self.account().map_or(0, |u| u.uid),
        }
    }

    pub(crate) fn gid(&self) -> u32 {
        match &self.who {
            Who::Other(o) => o.uid,
            Who::Known(_) => self.account().map_or(0, |u| u.gid),
        }
    }

    pub(crate) fn is_root(&self) -> bool {
        self.uid() == 0
    }

    pub(crate) fn home(&self) -> String {
        match &self.who {
            Who::Other(o) => o.home.to_string(),
            Who::Known(_) => self.account().map_or("/".into(), |u| u.home.clone()),
        }
    }

    pub(crate) fn hostname(&self) -> String {
        self.extra
            .as_ref()
            .and_then(|e| e.hostname.clone())
            .unwrap_or_else(|| self.world.identity.hostname.clone())
    }

    pub(crate) fn cred(&self) -> Cred {
        Cred {
            uid: self.uid(),
            gid: self.gid(),
        }
    }

    /// The filesystem as this session sees it.
    pub(crate) fn fs(&mut self) -> Fs<'_> {
        let cred = self.cred();
        self.fs_as(cred)
    }

    pub(crate) fn fs_as(&mut self, cred: Cred) -> Fs<'_> {
        Fs {
            base: &self.world.base,
            ov: &mut self.ov,
            cred,
            limits: FsLimits {
                max_bytes: self.limits.max_fs_bytes,
                max_files: self.limits.max_files,
            },
            now: util::now(),
            seed: self.world.identity.seed,
        }
    }

    /// An absolute path for what the user typed (relative ones from the working directory).
    pub(crate) fn abs(&self, p: &str) -> String {
        if p.starts_with('/') {
            p.to_string()
        } else if &*self.cwd == "/" {
            format!("/{p}")
        } else {
            format!("{}/{p}", self.cwd)
        }
    }

    fn push_history(&mut self, line: &str) {
        let line = util::clip(line, HISTORY_LINE_BYTES);
        // HISTCONTROL=ignoreboth: no lines starting with a space, no repeats
        if line.trim().is_empty() || line.starts_with(' ') {
            return;
        }
        if self.history.last().is_some_and(|l| &**l == line) {
            return;
        }
        if self.history.len() >= HISTORY_LINES {
            self.history.remove(0);
        }
        self.history.push(line.into());
    }

    /// `PS1` escapes: `\u \h \H \w \W \$ \n \t \d \\ \[ \] \e \0NN`.
    fn render_ps1(&self, ps1: &str) -> String {
        let mut out = String::new();
        let mut c = ps1.chars().peekable();
        let host = self.hostname();
        let home = self.home();
        let w = if *self.cwd == *home {
            "~".to_string()
        } else if let Some(rest) = self
            .cwd
            .strip_prefix(&format!("{home}/"))
            .filter(|_| home != "/")
        {
            format!("~/{rest}")
        } else {
            self.cwd.to_string()
        };
        while let Some(ch) = c.next() {
            if ch != '\\' {
                out.push(ch);
                continue;
            }
            match c.next() {
                Some('u') => out.push_str(self.user_name()),
                Some('h') => out.push_str(host.split('.').next().unwrap_or(&host)),
                Some('H') => out.push_str(&host),
                Some('w') => out.push_str(&w),
                Some('W') => out.push_str(if w == "~" {
                    "~"
                } else if &*self.cwd == "/" {
                    "/"
                } else {
                    self.cwd.rsplit('/').next().unwrap_or("/")
                }),
                Some('$') => out.push(if self.is_root() { '#' } else { '$' }),
                Some('n') => out.push('\n'),
                Some('t') => out.push_str(&util::tm(util::now()).clock()),
                Some('d') => {
                    let t = util::tm(util::now());
                    out.push_str(&format!("{} {} {:02}", t.day_name(), t.month_name(), t.day));
                }
                Some('s') => out.push_str("bash"),
                Some('[') | Some(']') => {}
                Some('e') => out.push('\x1b'),
                Some('0') => {
                    let mut v = 0u32;
                    for _ in 0..2 {
                        if let Some(d) = c.peek().and_then(|d| d.to_digit(8)) {
                            v = v * 8 + d;
                            c.next();
                        }
                    }
                    out.push(char::from_u32(v).unwrap_or('?'));
                }
                Some('\\') => out.push('\\'),
                Some(o) => {
                    out.push('\\');
                    out.push(o);
                }
                None => out.push('\\'),
            }
            if out.len() > 4096 {
                break;
            }
        }
        out
    }
}

/// Runs arbitrary bytes as shell lines against a fresh session (for the fuzz target): it
/// must never panic nor run past its caps.
pub fn fuzz(data: &[u8]) {
    use std::sync::OnceLock;
    static WORLD: OnceLock<Arc<World>> = OnceLock::new();
    let world = WORLD
        .get_or_init(|| World::new(Identity::generate(7)))
        .clone();
    let limits = Limits {
        max_output: 64 * 1024,
        max_fs_bytes: 64 * 1024,
        max_files: 64,
        ..Limits::default()
    };
    let user = if data.first().is_some_and(|b| b & 1 == 1) {
        "root"
    } else {
        "nobody-here"
    };
    let mut sh = Shell::new(world, user, limits);
    let text = String::from_utf8_lossy(data);
    for line in text.split('\n').take(64) {
        let _ = sh.run(line);
        let _ = sh.prompt();
    }
    let _ = sh.upload("fuzz.bin", data);
}

#[cfg(test)]
mod tests;
