//! Running a parsed line: lists, `&&`/`||`, pipelines, redirections, compound commands,
//! command lookup (builtins, then `$PATH` on the fake filesystem, then the program a binary
//! stands for), scripts, and bash's builtins.
//!
//! Output goes to numbered buffers (0 is the terminal); a command's stdout and stderr are
//! buffer numbers, so `2>&1`, pipes, `>file` and `2>/dev/null` are only a matter of which
//! buffer a write lands in, and the terminal sees stdout and stderr interleaved in order.
//! Every buffer is cut at `max_output`. A line runs at most [`MAX_STEPS`] simple commands;
//! command substitutions and nested shells (`sh -c`, scripts, `eval`, `source`) nest at
//! most [`MAX_NEST`] deep; expansions produce at most [`EXPAND_BUDGET`] bytes.

use super::fs::{self, Data, Errno, Kind, Readable};
use super::parse::{self, AndOr, Command, Compound, Conn, Pipeline, RedirOp, Script, Simple};
use super::{cmd_files, cmd_net, cmd_sys, cmd_text, util, Effect, Shell, Var, Who};
use std::borrow::Cow;

/// No buffer: writes vanish (`/dev/null`).
pub(crate) const NULL: usize = usize::MAX;
/// Simple commands one line may run (loops, scripts and all).
pub(crate) const MAX_STEPS: u32 = 20_000;
/// Nesting of substitutions and nested shells.
pub(crate) const MAX_NEST: u8 = 4;
/// Bytes the expansions of one line may produce.
pub(crate) const EXPAND_BUDGET: usize = 1 << 20;
/// Commands running commands (`sudo env xargs …`) inside one another.
const MAX_CALLS: u32 = 32;
/// Directory entries the walking commands of one line may visit, in all.
const MAX_WORK: usize = 200_000;
/// Bytes the commands of one line may read from files, in all.
const READ_BUDGET: usize = 16 << 20;

/// A command's standard input: bytes and how far they were read.
#[derive(Debug, Default)]
pub(crate) struct Input {
    pub data: Vec<u8>,
    pub pos: usize,
}

impl Input {
    pub fn new(data: Vec<u8>) -> Input {
        Input { data, pos: 0 }
    }
    /// Everything not read yet.
    pub fn take_all(&mut self) -> Vec<u8> {
        let rest = self
            .data
            .get(self.pos..)
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        self.pos = self.data.len();
        rest
    }
    /// The next line without its newline; None at the end.
    pub fn read_line(&mut self) -> Option<Vec<u8>> {
        let rest = self.data.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        let end = rest.iter().position(|&b| b == b'\n');
        let line = rest[..end.unwrap_or(rest.len())].to_vec();
        self.pos += end.map_or(rest.len(), |e| e + 1);
        Some(line)
    }
}

/// Where a command reads and writes.
#[derive(Debug)]
pub(crate) struct Io {
    pub stdin: Input,
    pub out: usize,
    pub err: usize,
}

impl Io {
    pub fn terminal() -> Io {
        Io {
            stdin: Input::default(),
            out: 0,
            err: 0,
        }
    }
}

/// How a list stops early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Normal,
    Break(u32),
    Continue(u32),
    /// `return` (ends a sourced script)
    Return,
    /// `exit` (ends the innermost shell)
    Exit,
}

/// The state of one line's run.
pub(crate) struct Run {
    bufs: Vec<Option<Vec<u8>>>,
    max_output: usize,
    cut_noted: bool,
    pub effects: Vec<Effect>,
    steps: u32,
    pub halted: bool,
    pub budget: usize,
    /// Nesting of substitutions and shells.
    pub depth: u8,
    /// Nested shells (`sh -c`, scripts): an `exit` ends the innermost one.
    pub shells: u8,
    pub flow: Flow,
    /// `exit` in the login shell, with its status.
    pub exit_req: Option<i32>,
    /// Positional parameters, `$0` first.
    pub args: Vec<String>,
    /// What errors start with: `-bash` in the login shell, `bash: line 3` in a script.
    pub prefix: Cow<'static, str>,
    /// Notices of background jobs, for the next line.
    pub new_notices: Vec<String>,
    /// PID of the last background job (`$!`).
    pub last_bg: Option<u32>,
    /// The words of the last simple command run (for write errors).
    pub last_cmd: String,
    /// The words of a background job's first command (for its notice).
    pub job_text: Option<String>,
    /// Commands running inside one another now.
    calls: u32,
    /// Entries the walking commands (find, ls -R, grep -r…) may still visit this line.
    work_left: usize,
    /// Bytes the commands may still read this line.
    read_left: usize,
}

impl Run {
    pub fn new(max_output: usize) -> Run {
        Run {
            bufs: vec![Some(Vec::new())],
            max_output,
            cut_noted: false,
            effects: Vec::new(),
            steps: 0,
            halted: false,
            budget: EXPAND_BUDGET,
            depth: 0,
            shells: 0,
            flow: Flow::Normal,
            exit_req: None,
            args: vec!["-bash".into()],
            prefix: Cow::Borrowed("-bash"),
            new_notices: Vec::new(),
            last_bg: None,
            last_cmd: String::new(),
            job_text: None,
            calls: 0,
            work_left: MAX_WORK,
            read_left: READ_BUDGET,
        }
    }

    fn write(&mut self, to: usize, b: &[u8]) {
        let max = self.max_output;
        let Some(Some(buf)) = self.bufs.get_mut(to) else {
            return;
        };
        let room = max.saturating_sub(buf.len());
        if b.len() > room {
            buf.extend_from_slice(&b[..room]);
            // a pipe or a file cut on the way is bounded silently; the terminal's cut is told
            if to == 0 && !self.cut_noted {
                self.cut_noted = true;
                self.effects.push(Effect::Capped { what: "output" });
            }
        } else {
            buf.extend_from_slice(b);
        }
    }

    /// Writes to the command's stdout.
    pub fn out(&mut self, io: &Io, b: &[u8]) {
        self.write(io.out, b);
    }

    /// Writes to the command's stderr.
    pub fn err(&mut self, io: &Io, b: &[u8]) {
        self.write(io.err, b);
    }

    /// A new buffer (a pipe, a redirection, a substitution).
    pub fn alloc(&mut self) -> usize {
        if let Some(k) = self.bufs.iter().position(Option::is_none) {
            self.bufs[k] = Some(Vec::new());
            return k;
        }
        self.bufs.push(Some(Vec::new()));
        self.bufs.len() - 1
    }

    /// Frees a buffer, giving its bytes.
    pub fn free(&mut self, k: usize) -> Vec<u8> {
        if k == 0 {
            return Vec::new();
        }
        let data = self
            .bufs
            .get_mut(k)
            .and_then(Option::take)
            .unwrap_or_default();
        while self.bufs.len() > 1 && self.bufs.last().is_some_and(Option::is_none) {
            self.bufs.pop();
        }
        data
    }

    pub fn take_terminal(&mut self) -> Vec<u8> {
        self.bufs
            .first_mut()
            .and_then(Option::take)
            .unwrap_or_default()
    }

    /// Counts a simple command; false once the line has run too many.
    fn step(&mut self) -> bool {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            self.halted = true;
        }
        !self.halted
    }

    /// Spends `n` units of a walk's budget; false (and the line stops) once it is gone.
    pub fn work(&mut self, n: usize) -> bool {
        if self.work_left < n {
            self.work_left = 0;
            self.halted = true;
            return false;
        }
        self.work_left -= n;
        true
    }

    /// Spends `n` bytes of the line's read budget; false once it would run out.
    pub fn read(&mut self, n: usize) -> bool {
        if self.read_left < n {
            return false;
        }
        self.read_left -= n;
        true
    }

    /// Stop running the current list?
    pub fn stopping(&self) -> bool {
        self.halted || self.flow != Flow::Normal
    }

    /// Records a download that did not happen.
    pub fn download(&mut self, url: impl Into<String>, tool: &str) {
        if self.effects.len() < 4096 {
            self.effects.push(Effect::Download {
                url: util::clip(&url.into(), 8192).to_string(),
                tool: tool.to_string(),
            });
        }
    }
}

/// A command implementation: the shell, the run, its I/O and its words (the name first).
pub(crate) type CmdFn = fn(&mut Shell, &mut Run, &mut Io, &[String]) -> i32;

/// A redirection's file buffer, written to the file after the command.
struct Pending {
    buf: usize,
    path: String,
    shown: String,
    /// The record of the truncation (replaced by the final one if bytes follow).
    record: Option<usize>,
}

impl Shell {
    pub(crate) fn exec_script(&mut self, rt: &mut Run, io: &mut Io, s: &Script) -> i32 {
        let mut status = self.status;
        for item in &s.items {
            if rt.stopping() {
                break;
            }
            if item.background && rt.shells == 0 && rt.depth == 0 {
                let job = rt.new_notices.len() + 1;
                let pid = self.new_pid();
                rt.last_bg = Some(pid);
                out!(rt, &Io::terminal(), "[{job}] {pid}\n");
                let mut bg = Io {
                    stdin: Input::default(),
                    out: io.out,
                    err: io.err,
                };
                rt.job_text = Some(String::new());
                let st = self.exec_andor(rt, &mut bg, &item.chain);
                let what = util::clip(&rt.job_text.take().unwrap_or_default(), 200).to_string();
                let state = if st == 0 {
                    "Done".to_string()
                } else {
                    format!("Exit {st}")
                };
                rt.new_notices
                    .push(format!("[{job}]+  {state:<24}{what}\n"));
                // earlier jobs' marks: only the newest is "+"
                let n = rt.new_notices.len();
                for (i, note) in rt.new_notices.iter_mut().enumerate() {
                    let mark = if i + 1 == n {
                        '+'
                    } else if i + 2 == n {
                        '-'
                    } else {
                        ' '
                    };
                    if let Some(close) = note.find(']') {
                        note.replace_range(close + 1..close + 2, &mark.to_string());
                    }
                }
                status = 0;
                self.status = 0;
            } else {
                status = self.exec_andor(rt, io, &item.chain);
                self.status = status;
            }
        }
        status
    }

    fn exec_andor(&mut self, rt: &mut Run, io: &mut Io, a: &AndOr) -> i32 {
        let mut status = self.exec_pipeline(rt, io, &a.first);
        self.status = status;
        for (conn, p) in &a.rest {
            if rt.stopping() {
                break;
            }
            let run = match conn {
                Conn::And => status == 0,
                Conn::Or => status != 0,
            };
            if run {
                status = self.exec_pipeline(rt, io, p);
                self.status = status;
            }
        }
        status
    }

    fn exec_pipeline(&mut self, rt: &mut Run, io: &mut Io, p: &Pipeline) -> i32 {
        let mut status = 0;
        if p.cmds.len() == 1 {
            status = self.exec_command(rt, io, &p.cmds[0]);
        } else {
            let mut input = Some(std::mem::take(&mut io.stdin));
            let last = p.cmds.len() - 1;
            for (i, c) in p.cmds.iter().enumerate() {
                if rt.halted {
                    break;
                }
                let stdin = input.take().unwrap_or_default();
                rt.shells += 1;
                if i == last {
                    let mut sub = Io {
                        stdin,
                        out: io.out,
                        err: io.err,
                    };
                    status = self.exec_command(rt, &mut sub, c);
                } else {
                    let pipe = rt.alloc();
                    let err = if p.with_err.get(i).copied().unwrap_or(false) {
                        pipe
                    } else {
                        io.err
                    };
                    let mut sub = Io {
                        stdin,
                        out: pipe,
                        err,
                    };
                    self.exec_command(rt, &mut sub, c);
                    input = Some(Input::new(rt.free(pipe)));
                }
                rt.shells -= 1;
                // each stage is a subshell: its exit or break ends only itself
                if rt.flow != Flow::Normal && rt.exit_req.is_none() {
                    rt.flow = Flow::Normal;
                }
            }
        }
        if p.bang {
            status = i32::from(status == 0);
        }
        status
    }

    fn exec_command(&mut self, rt: &mut Run, io: &mut Io, c: &Command) -> i32 {
        match c {
            Command::Simple(s) => self.exec_simple(rt, io, s),
            Command::Compound(comp, redirs) => {
                let Some((mut sub, pending, took)) = self.redirect(rt, io, redirs) else {
                    return 1;
                };
                let st = self.exec_compound(rt, &mut sub, comp);
                self.finish_redirects(rt, &sub, pending);
                if took {
                    io.stdin = std::mem::take(&mut sub.stdin);
                }
                st
            }
        }
    }

    fn exec_compound(&mut self, rt: &mut Run, io: &mut Io, c: &Compound) -> i32 {
        match c {
            Compound::Group(s) => self.exec_script(rt, io, s),
            Compound::Subshell(s) => {
                let saved = self.save_state();
                rt.shells += 1;
                let st = self.exec_script(rt, io, s);
                rt.shells -= 1;
                self.restore_state(saved);
                if rt.flow == Flow::Exit && rt.exit_req.is_none() {
                    rt.flow = Flow::Normal;
                    return self.status;
                }
                st
            }
            Compound::If { arms, otherwise } => {
                for (cond, body) in arms {
                    let st = self.exec_script(rt, io, cond);
                    if rt.stopping() {
                        return st;
                    }
                    if st == 0 {
                        return self.exec_script(rt, io, body);
                    }
                }
                match otherwise {
                    Some(e) => self.exec_script(rt, io, e),
                    None => 0,
                }
            }
            Compound::For { var, items, body } => {
                let words = match items {
                    Some(ws) => match self.expand_words(rt, io, ws) {
                        Ok(w) => w,
                        Err(()) => return 1,
                    },
                    None => rt.args.iter().skip(1).cloned().collect(),
                };
                let mut st = 0;
                for w in words {
                    if rt.halted || !rt.step() {
                        break;
                    }
                    self.set_var(var, &w);
                    st = self.exec_script(rt, io, body);
                    if self.loop_flow(rt) {
                        break;
                    }
                }
                st
            }
            Compound::While { until, cond, body } => {
                let mut st = 0;
                loop {
                    if rt.halted || !rt.step() {
                        break;
                    }
                    let c = self.exec_script(rt, io, cond);
                    if rt.stopping() {
                        if self.loop_flow(rt) {
                            break;
                        }
                        continue;
                    }
                    if (c == 0) == *until {
                        break;
                    }
                    st = self.exec_script(rt, io, body);
                    if self.loop_flow(rt) {
                        break;
                    }
                }
                st
            }
        }
    }

    /// After a loop body: consumes `break`/`continue` meant for this loop; true to leave it.
    fn loop_flow(&mut self, rt: &mut Run) -> bool {
        match rt.flow {
            Flow::Break(n) => {
                rt.flow = if n > 1 {
                    Flow::Break(n - 1)
                } else {
                    Flow::Normal
                };
                true
            }
            Flow::Continue(n) => {
                if n > 1 {
                    rt.flow = Flow::Continue(n - 1);
                    true
                } else {
                    rt.flow = Flow::Normal;
                    false
                }
            }
            Flow::Normal => rt.halted,
            Flow::Return | Flow::Exit => true,
        }
    }

    fn exec_simple(&mut self, rt: &mut Run, io: &mut Io, s: &Simple) -> i32 {
        if !rt.step() {
            return 1;
        }
        let argv = match self.expand_words(rt, io, &s.words) {
            Ok(a) => a,
            Err(()) => return 1,
        };
        // assignments alone set shell variables; before a command, its environment
        let mut assigned = Vec::new();
        for a in &s.assigns {
            let Ok(mut v) = self.expand_single(rt, io, &a.value) else {
                return 1;
            };
            if a.append {
                v = format!("{}{v}", self.get_var(&a.name).unwrap_or_default());
            }
            if argv.is_empty() {
                if self.readonly(&a.name) {
                    err!(rt, io, "{}: {}: readonly variable\n", rt.prefix, a.name);
                    return 1;
                }
                self.set_var(&a.name, &v);
            } else {
                assigned.push((a.name.clone(), self.var_entry(&a.name)));
                self.set_var(&a.name, &v);
            }
        }
        let Some((mut sub, pending, took)) = self.redirect(rt, io, &s.redirs) else {
            self.unassign(assigned);
            return 1;
        };
        let st = if argv.is_empty() {
            // `> file` alone creates the file; the status of a substitution stays
            if s.assigns.is_empty() {
                0
            } else {
                self.status
            }
        } else {
            rt.last_cmd = argv.join(" ");
            if rt.job_text.as_ref().is_some_and(String::is_empty) {
                rt.job_text = Some(rt.last_cmd.clone());
            }
            let argv = self.expand_alias(rt, &sub, argv);
            self.run_argv(rt, &mut sub, &argv)
        };
        self.finish_redirects(rt, &sub, pending);
        if took {
            io.stdin = std::mem::take(&mut sub.stdin);
        }
        self.unassign(assigned);
        st
    }

    fn unassign(&mut self, assigned: Vec<(String, Option<Var>)>) {
        for (name, old) in assigned.into_iter().rev() {
            self.vars.retain(|v| *v.name != *name);
            if let Some(v) = old {
                self.vars.push(v);
            }
        }
    }

    /// An alias for the first word, once (its value's words, then the rest).
    fn expand_alias(&mut self, rt: &mut Run, io: &Io, argv: Vec<String>) -> Vec<String> {
        let Some(value) = self.alias(&argv[0]) else {
            return argv;
        };
        let Ok(script) = parse::parse(&value) else {
            return argv;
        };
        let Some(item) = script.items.first() else {
            return argv;
        };
        let Command::Simple(simple) = &item.chain.first.cmds[0] else {
            return argv;
        };
        if script.items.len() > 1 || !item.chain.rest.is_empty() || item.chain.first.cmds.len() > 1
        {
            return argv;
        }
        let mut probe = Io {
            stdin: Input::default(),
            out: NULL,
            err: io.err,
        };
        let Ok(mut words) = self.expand_words(rt, &mut probe, &simple.words) else {
            return argv;
        };
        if words.is_empty() {
            return argv;
        }
        words.extend(argv.into_iter().skip(1));
        words
    }

    /// Applies redirections: the command's I/O, the files to write after it, and whether it
    /// took the caller's stdin (to give back after); None (and the error printed) if one
    /// fails.
    fn redirect(
        &mut self,
        rt: &mut Run,
        io: &mut Io,
        redirs: &[parse::Redir],
    ) -> Option<(Io, Vec<Pending>, bool)> {
        let mut sub = Io {
            stdin: Input::default(),
            out: io.out,
            err: io.err,
        };
        let mut pending: Vec<Pending> = Vec::new();
        let fail = |_: &mut Shell, rt: &mut Run, pending: Vec<Pending>| {
            for p in pending {
                rt.free(p.buf);
            }
            None
        };
        for r in redirs {
            let target = match r.op {
                RedirOp::HereDoc => match self.expand_single(rt, io, &r.target) {
                    Ok(t) => t,
                    Err(()) => return fail(self, rt, pending),
                },
                _ => match self.expand_words(rt, io, std::slice::from_ref(&r.target)) {
                    Ok(mut w) if w.len() == 1 => w.pop().unwrap_or_default(),
                    Ok(_) => {
                        let raw = word_text(&r.target);
                        err!(rt, io, "{}: {raw}: ambiguous redirect\n", rt.prefix);
                        return fail(self, rt, pending);
                    }
                    Err(()) => return fail(self, rt, pending),
                },
            };
            let fd = r.fd.unwrap_or(match r.op {
                RedirOp::In
                | RedirOp::DupIn
                | RedirOp::HereString
                | RedirOp::HereDoc
                | RedirOp::ReadWrite => 0,
                _ => 1,
            });
            match r.op {
                RedirOp::In | RedirOp::ReadWrite => {
                    if fd != 0 {
                        continue;
                    }
                    match self.read_path(rt, &target, 1 << 20) {
                        Ok(bytes) => sub.stdin = Input::new(bytes),
                        Err(e) => {
                            err!(rt, io, "{}: {target}: {}\n", rt.prefix, e.msg());
                            return fail(self, rt, pending);
                        }
                    }
                }
                RedirOp::HereString => {
                    sub.stdin = Input::new(parse::to_bytes(&format!("{target}\n")))
                }
                RedirOp::HereDoc => sub.stdin = Input::new(parse::to_bytes(&target)),
                RedirOp::DupIn => {}
                RedirOp::DupOut if target == "-" => set_fd(&mut sub, fd, NULL),
                RedirOp::DupOut
                    if target.bytes().all(|b| b.is_ascii_digit()) && !target.is_empty() =>
                {
                    let to = match target.as_str() {
                        "1" => sub.out,
                        "2" => sub.err,
                        "0" => sub.out,
                        _ => {
                            err!(rt, io, "{}: {target}: Bad file descriptor\n", rt.prefix);
                            return fail(self, rt, pending);
                        }
                    };
                    set_fd(&mut sub, fd, to);
                }
                RedirOp::Out
                | RedirOp::Append
                | RedirOp::OutErr
                | RedirOp::AppendOutErr
                | RedirOp::DupOut => {
                    let both = matches!(
                        r.op,
                        RedirOp::OutErr | RedirOp::AppendOutErr | RedirOp::DupOut
                    );
                    let append = matches!(r.op, RedirOp::Append | RedirOp::AppendOutErr);
                    let to = match self.open_for_write(rt, io, &target, append) {
                        Ok(Some((path, record))) => {
                            let buf = rt.alloc();
                            pending.push(Pending {
                                buf,
                                path,
                                shown: target.clone(),
                                record,
                            });
                            buf
                        }
                        Ok(None) => match self.special_target(&target, &sub) {
                            Some(t) => t,
                            None => NULL,
                        },
                        Err(()) => return fail(self, rt, pending),
                    };
                    if both {
                        sub.out = to;
                        sub.err = to;
                    } else {
                        set_fd(&mut sub, fd, to);
                    }
                }
            }
        }
        let took = !redirs.iter().any(|r| {
            r.fd.unwrap_or(0) == 0
                && matches!(
                    r.op,
                    RedirOp::In | RedirOp::HereDoc | RedirOp::HereString | RedirOp::ReadWrite
                )
        });
        if took {
            sub.stdin = std::mem::take(&mut io.stdin);
        }
        Some((sub, pending, took))
    }

    /// `/dev/stdout`, `/dev/stderr`, `/dev/tty`: where they point now.
    fn special_target(&self, target: &str, sub: &Io) -> Option<usize> {
        match target {
            "/dev/stdout" | "/proc/self/fd/1" | "/dev/fd/1" => Some(sub.out),
            "/dev/stderr" | "/proc/self/fd/2" | "/dev/fd/2" => Some(sub.err),
            "/dev/tty" | "/dev/pts/0" | "/dev/console" => Some(0),
            _ => None,
        }
    }

    /// Opens `target` for writing as a redirection does (truncating now unless `append`):
    /// Some((path, index of the truncation's record)) of a file to write after the command,
    /// None for a device (or a special name), Err when it cannot (error printed).
    fn open_for_write(
        &mut self,
        rt: &mut Run,
        io: &Io,
        target: &str,
        append: bool,
    ) -> Result<Option<(String, Option<usize>)>, ()> {
        if target.is_empty() {
            err!(rt, io, "{}: : No such file or directory\n", rt.prefix);
            return Err(());
        }
        if matches!(
            target,
            "/dev/stdout"
                | "/dev/stderr"
                | "/dev/tty"
                | "/proc/self/fd/1"
                | "/proc/self/fd/2"
                | "/dev/fd/1"
                | "/dev/fd/2"
        ) {
            return Ok(None);
        }
        let abs = self.abs(target);
        if self.fs().device(&abs).is_some() {
            // a device: writable if its mode says so
            return match self.fs().write(&abs, b"", true, 0o644) {
                Ok(_) => Ok(None),
                Err(e) => {
                    err!(rt, io, "{}: {target}: {}\n", rt.prefix, e.msg());
                    Err(())
                }
            };
        }
        let mode = self.umask_mode(0o666);
        match self.fs().write(&abs, b"", append, mode) {
            Ok(w) => {
                let mut record = None;
                if !append {
                    // truncated (or created) now, as bash does before running the command
                    if let Some(sha) = w.sha256.clone() {
                        record = Some(rt.effects.len());
                        rt.effects.push(Effect::FileWritten {
                            path: w.path.clone(),
                            size: w.size,
                            sha256: sha,
                        });
                    }
                }
                Ok(Some((w.path, record)))
            }
            Err(e) => {
                err!(rt, io, "{}: {target}: {}\n", rt.prefix, e.msg());
                Err(())
            }
        }
    }

    /// Writes what the redirected command produced into its files.
    fn finish_redirects(&mut self, rt: &mut Run, io: &Io, pending: Vec<Pending>) {
        for p in pending.into_iter().rev() {
            let data = rt.free(p.buf);
            if data.is_empty() {
                continue;
            }
            match self.fs().write(&p.path, &data, true, 0o644) {
                Ok(w) => {
                    if let Some(sha) = w.sha256 {
                        // the truncation's record becomes the final one
                        let rec = Effect::FileWritten {
                            path: w.path,
                            size: w.size,
                            sha256: sha,
                        };
                        match p.record.and_then(|k| rt.effects.get_mut(k)) {
                            Some(slot) => *slot = rec,
                            None => rt.effects.push(rec),
                        }
                    }
                    if w.cut {
                        rt.effects.push(Effect::Capped { what: "fs" });
                        let name = rt.last_cmd.split(' ').next().unwrap_or("bash").to_string();
                        err!(
                            rt,
                            io,
                            "{}: {name}: write error: No space left on device\n",
                            rt.prefix
                        );
                    }
                }
                Err(e) => {
                    if e == Errno::NoSpc {
                        rt.effects.push(Effect::Capped { what: "fs" });
                    }
                    err!(rt, io, "{}: {}: {}\n", rt.prefix, p.shown, e.msg());
                }
            }
        }
    }

    /// Runs a command by its words: builtins, then a path, then `$PATH`.
    pub(crate) fn run_argv(&mut self, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
        // commands that run commands (sudo, env, xargs, nohup, busybox…) nest only so deep
        if rt.calls >= MAX_CALLS {
            err!(
                rt,
                io,
                "{}: fork: retry: Resource temporarily unavailable\n",
                rt.prefix
            );
            return 126;
        }
        if !rt.step() {
            return 1;
        }
        rt.calls += 1;
        let st = self.run_argv_inner(rt, io, argv);
        rt.calls -= 1;
        st
    }

    fn run_argv_inner(&mut self, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
        let Some(name) = argv.first() else { return 0 };
        if let Some(f) = builtin(name) {
            return f(self, rt, io, argv);
        }
        if name.contains('/') {
            return self.exec_path(rt, io, name, argv);
        }
        if name.is_empty() {
            err!(rt, io, "{}: : command not found\n", rt.prefix);
            return 127;
        }
        match self.which(name) {
            Some(path) => self.exec_path(rt, io, &path, argv),
            None => {
                err!(
                    rt,
                    io,
                    "{}: {}: command not found\n",
                    rt.prefix,
                    clip_name(name)
                );
                127
            }
        }
    }

    /// Where `$PATH` finds `name` (an executable file), as `which` prints it.
    pub(crate) fn which(&mut self, name: &str) -> Option<String> {
        if name.is_empty() || name.contains('/') || name.len() > fs::NAME_MAX {
            return None;
        }
        let path = self.get_var("PATH").unwrap_or_default();
        let cred = self.cred();
        for dir in path.split(':').take(32) {
            let dir = if dir.is_empty() { "." } else { dir };
            let p = if dir.ends_with('/') {
                format!("{dir}{name}")
            } else {
                format!("{dir}/{name}")
            };
            let abs = self.abs(&p);
            let f = self.fs();
            if let Ok((_, n)) = f.stat(&abs, true) {
                if matches!(n.kind, Kind::File(_)) && cred.may(n, 1) {
                    return Some(p);
                }
            }
        }
        None
    }

    /// Runs the file at `path` (as typed) with `argv`.
    fn exec_path(&mut self, rt: &mut Run, io: &mut Io, path: &str, argv: &[String]) -> i32 {
        let abs = self.abs(path);
        let cred = self.cred();
        let (data, executable) = {
            let f = self.fs();
            match f.stat(&abs, true) {
                Err(e) => {
                    err!(rt, io, "{}: {path}: {}\n", rt.prefix, e.msg());
                    return if e == Errno::Acces { 126 } else { 127 };
                }
                Ok((_, n)) => match &n.kind {
                    Kind::Dir => {
                        err!(rt, io, "{}: {path}: Is a directory\n", rt.prefix);
                        return 126;
                    }
                    Kind::File(d) => (d.clone(), cred.may(n, 1)),
                    _ => {
                        err!(rt, io, "{}: {path}: Permission denied\n", rt.prefix);
                        return 126;
                    }
                },
            }
        };
        if !executable {
            err!(rt, io, "{}: {path}: Permission denied\n", rt.prefix);
            return 126;
        }
        match data {
            Data::Binary { prog, .. } => self.run_program(rt, io, prog, argv),
            Data::Dynamic(_) => {
                err!(rt, io, "{}: {path}: Permission denied\n", rt.prefix);
                126
            }
            Data::Shared(b) => self.exec_bytes(rt, io, path, &b, argv),
            Data::Owned(o) => self.exec_bytes(rt, io, path, &o.bytes, argv),
        }
    }

    /// An executable file of bytes: a shell script runs through this shell, an ELF cannot
    /// run ("Exec format error": this host runs nothing), other interpreters do nothing.
    fn exec_bytes(
        &mut self,
        rt: &mut Run,
        io: &mut Io,
        path: &str,
        bytes: &[u8],
        argv: &[String],
    ) -> i32 {
        if bytes.starts_with(b"\x7fELF") || !looks_like_text(bytes) {
            err!(
                rt,
                io,
                "{}: {path}: cannot execute binary file: Exec format error\n",
                rt.prefix
            );
            return 126;
        }
        let text = String::from_utf8_lossy(bytes);
        if let Some(rest) = text.strip_prefix("#!") {
            let line = rest.lines().next().unwrap_or("").trim();
            let mut parts = line.split_whitespace();
            let interp = parts.next().unwrap_or("");
            let arg = parts.next().unwrap_or("");
            let base = interp.rsplit('/').next().unwrap_or(interp);
            let prog = if base == "env" { arg } else { base };
            let shell = matches!(
                prog,
                "sh" | "bash" | "dash" | "ash" | "ksh" | "zsh" | "busybox"
            );
            let interp_abs = self.abs(interp);
            if !interp.is_empty() && self.fs().stat(&interp_abs, true).is_err() {
                err!(
                    rt,
                    io,
                    "{}: {path}: {interp}: bad interpreter: No such file or directory\n",
                    rt.prefix
                );
                return 126;
            }
            if !shell {
                // python, perl…: nothing runs
                return 0;
            }
        }
        let mut args: Vec<String> = vec![path.to_string()];
        args.extend(argv.iter().skip(1).cloned());
        self.run_text(rt, io, &text, path, args, true)
    }

    /// Runs a script's text (a file, `sh -c`, `eval`, `source`). `child`: in a new shell
    /// (its `exit` and `cd` end with it) rather than this one.
    pub(crate) fn run_text(
        &mut self,
        rt: &mut Run,
        io: &mut Io,
        text: &str,
        name: &str,
        args: Vec<String>,
        child: bool,
    ) -> i32 {
        if rt.depth >= MAX_NEST || rt.halted {
            return 0;
        }
        rt.depth += 1;
        let saved_args = std::mem::replace(&mut rt.args, args);
        let saved_prefix = std::mem::replace(&mut rt.prefix, Cow::Owned(name.to_string()));
        let saved_state = child.then(|| self.save_state());
        if child {
            rt.shells += 1;
        }
        let mut p = parse::Parser::new(text, 0);
        let mut status = 0;
        while let Some(r) = p.next_command() {
            let line = p.line_no().saturating_sub(1).max(1);
            match r {
                Ok(script) => {
                    rt.prefix = Cow::Owned(format!("{name}: line {line}"));
                    status = self.exec_script(rt, io, &script);
                    self.status = status;
                }
                Err(e) => {
                    err!(rt, io, "{name}: line {line}: {e}\n");
                    status = 2;
                    break;
                }
            }
            if rt.stopping() {
                break;
            }
        }
        match rt.flow {
            Flow::Exit if child && rt.exit_req.is_none() => {
                rt.flow = Flow::Normal;
                status = self.status;
            }
            Flow::Return => {
                rt.flow = Flow::Normal;
                status = self.status;
            }
            Flow::Break(_) | Flow::Continue(_) => rt.flow = Flow::Normal,
            _ => {}
        }
        if child {
            rt.shells -= 1;
        }
        if let Some(s) = saved_state {
            self.restore_state(s);
        }
        rt.prefix = saved_prefix;
        rt.args = saved_args;
        rt.depth -= 1;
        status
    }

    /// A nested shell's view of what it may change: working directory and variables.
    fn save_state(&self) -> (Box<str>, Vec<Var>, Option<String>) {
        (
            self.cwd.clone(),
            self.vars.clone(),
            self.extra.as_ref().and_then(|e| e.oldpwd.clone()),
        )
    }

    fn restore_state(&mut self, s: (Box<str>, Vec<Var>, Option<String>)) {
        self.cwd = s.0;
        self.vars = s.1;
        if let Some(e) = self.extra.as_mut() {
            e.oldpwd = s.2;
        }
    }

    /// Reads a file's bytes (at most `limit`), as a command would; the line's read budget
    /// pays for them (past it reads fail with EIO: a 30 MB initrd hashed ten thousand times
    /// in one line would be a denial of service).
    pub(crate) fn read_path(
        &mut self,
        rt: &mut Run,
        path: &str,
        limit: usize,
    ) -> Result<Vec<u8>, Errno> {
        let abs = self.abs(path);
        let (_, r) = self.fs().read(&abs)?;
        let size = match &r {
            Readable::Data(Data::Shared(b)) => b.len(),
            Readable::Data(Data::Owned(o)) => o.bytes.len(),
            Readable::Data(Data::Binary { size, .. }) => *size as usize,
            Readable::Data(Data::Dynamic(_)) => 4096,
            Readable::Dev(_) => self.limits.max_output + 1,
        };
        if !rt.read(size.min(limit)) {
            return Err(Errno::Io);
        }
        Ok(self.materialize(r, limit))
    }

    /// The bytes of what a read gave.
    pub(crate) fn materialize(&self, r: Readable, limit: usize) -> Vec<u8> {
        match r {
            Readable::Data(Data::Shared(b)) => b[..b.len().min(limit)].to_vec(),
            Readable::Data(Data::Owned(o)) => {
                let mut v = o.bytes;
                v.truncate(limit);
                v
            }
            Readable::Data(Data::Binary { prog, size }) => {
                fs::binary_bytes(self.world.identity.seed, prog, size as usize, limit)
            }
            Readable::Data(Data::Dynamic(d)) => {
                let mut v = self.dynamic(d).into_bytes();
                v.truncate(limit);
                v
            }
            Readable::Dev(fs::DevKind::Zero) => vec![0; limit.min(self.limits.max_output + 1)],
            Readable::Dev(fs::DevKind::Random) => {
                let n = limit.min(self.limits.max_output + 1);
                let mut v = Vec::with_capacity(n);
                while v.len() < n {
                    v.extend_from_slice(&fastrand::u64(..).to_le_bytes());
                }
                v.truncate(n);
                v
            }
            Readable::Dev(_) => Vec::new(),
        }
    }

    /// The text of a file made when read.
    fn dynamic(&self, d: fs::Dynamic) -> String {
        match d {
            fs::Dynamic::Uptime => {
                let up = self.world.uptime();
                let idle = up * u64::from(self.world.identity.cores) * 97 / 100;
                format!(
                    "{up}.{:02} {idle}.{:02}\n",
                    fastrand::u8(..100),
                    fastrand::u8(..100)
                )
            }
            fs::Dynamic::Loadavg => {
                let [a, b, c] = self.load();
                format!(
                    "{a:.2} {b:.2} {c:.2} 1/{} {}\n",
                    self.world.identity.processes.len() + 4,
                    self.next_pid
                )
            }
            fs::Dynamic::Passwd => {
                let base = match self.world.base.get("/etc/passwd").map(|n| &n.kind) {
                    Some(Kind::File(Data::Shared(b))) => String::from_utf8_lossy(b).into_owned(),
                    _ => String::new(),
                };
                match &self.who {
                    Who::Other(o) => format!(
                        "{base}{}:x:{}:{}::{}:/bin/bash\n",
                        o.name, o.uid, o.uid, o.home
                    ),
                    Who::Known(_) => base,
                }
            }
        }
    }

    /// Load averages now (small wobbles around the host's).
    pub(crate) fn load(&self) -> [f64; 3] {
        let l = self.world.facts.load;
        let w = (util::now() % 97) as f64 / 970.0;
        [l[0] + w, l[1] + w / 2.0, l[2] + w / 4.0]
    }

    pub(crate) fn new_pid(&mut self) -> u32 {
        self.next_pid += 1 + fastrand::u32(..4);
        self.next_pid
    }

    /// The file mode a new file gets (umask 022).
    pub(crate) fn umask_mode(&self, m: u16) -> u16 {
        m & !0o022
    }

    /// Writes a file for a command, recording it; errors as `cmd: path: message`.
    pub(crate) fn write_for(
        &mut self,
        rt: &mut Run,
        io: &Io,
        cmd: &str,
        path: &str,
        data: &[u8],
        append: bool,
    ) -> bool {
        let abs = self.abs(path);
        let mode = self.umask_mode(0o666);
        match self.fs().write(&abs, data, append, mode) {
            Ok(w) => {
                if let Some(sha) = w.sha256 {
                    rt.effects.push(Effect::FileWritten {
                        path: w.path,
                        size: w.size,
                        sha256: sha,
                    });
                }
                if w.cut {
                    rt.effects.push(Effect::Capped { what: "fs" });
                    err!(rt, io, "{cmd}: write error: No space left on device\n");
                    return false;
                }
                true
            }
            Err(e) => {
                if e == Errno::NoSpc {
                    rt.effects.push(Effect::Capped { what: "fs" });
                }
                err!(rt, io, "{cmd}: {path}: {}\n", e.msg());
                false
            }
        }
    }

    /// The program a binary stands for, run with `argv`.
    pub(crate) fn run_program(
        &mut self,
        rt: &mut Run,
        io: &mut Io,
        prog: &str,
        argv: &[String],
    ) -> i32 {
        match program(prog) {
            Some(f) => f(self, rt, io, argv),
            None => 0,
        }
    }
}

fn set_fd(io: &mut Io, fd: u32, to: usize) {
    match fd {
        1 => io.out = to,
        2 => io.err = to,
        _ => {}
    }
}

/// A word's source-like text (for "ambiguous redirect").
fn word_text(w: &parse::Word) -> String {
    let mut s = String::new();
    for p in &w.parts {
        match p {
            parse::Part::Lit(t) | parse::Part::Quoted(t) => s.push_str(t),
            parse::Part::Var(v) => {
                s.push('$');
                s.push_str(&v.name);
            }
            _ => s.push_str("$(...)"),
        }
    }
    s
}

/// A command name for an error message (cut, as bash would print a huge one whole but we
/// need not).
fn clip_name(name: &str) -> &str {
    util::clip(name, 4096)
}

/// Text rather than a binary: no NUL in its first 4 KiB.
fn looks_like_text(b: &[u8]) -> bool {
    !b[..b.len().min(4096)].contains(&0)
}

/// Bash's builtins (they run whatever `$PATH` says).
fn builtin(name: &str) -> Option<CmdFn> {
    let f: CmdFn = match name {
        "cd" => b_cd,
        "pwd" => b_pwd,
        "echo" => cmd_text::echo,
        "printf" => cmd_text::printf,
        "export" | "declare" | "typeset" | "local" | "readonly" => b_export,
        "unset" => b_unset,
        "set" => b_set,
        "alias" => b_alias,
        "unalias" => b_unalias,
        "history" => b_history,
        "exit" | "logout" => b_exit,
        "type" => b_type,
        "true" | ":" => |_, _, _, _| 0,
        "false" => |_, _, _, _| 1,
        "test" | "[" | "[[" => cmd_text::test,
        "source" | "." => b_source,
        "eval" => b_eval,
        "exec" => b_exec,
        "read" => b_read,
        "shift" => b_shift,
        "return" => b_return,
        "break" | "continue" => b_break,
        "jobs" | "wait" | "disown" | "fg" | "bg" | "suspend" => b_jobs,
        "kill" => cmd_sys::kill,
        "umask" => b_umask,
        "ulimit" => b_ulimit,
        "hash" | "shopt" | "trap" | "times" | "enable" | "builtin" | "bind" | "complete"
        | "compgen" | "caller" | "dirs" | "pushd" | "popd" | "getopts" | "mapfile"
        | "readarray" => b_quiet,
        "let" => b_let,
        "command" => b_command,
        "help" => b_help,
        _ => return None,
    };
    Some(f)
}

/// The programs binaries stand for.
fn program(prog: &str) -> Option<CmdFn> {
    let f: CmdFn = match prog {
        "bash" | "dash" | "sh" => cmd_sys::shell,
        "ls" => cmd_files::ls,
        "cat" => cmd_files::cat,
        "cp" => cmd_files::cp,
        "mv" => cmd_files::mv,
        "rm" => cmd_files::rm,
        "mkdir" => cmd_files::mkdir,
        "rmdir" => cmd_files::rmdir,
        "touch" => cmd_files::touch,
        "chmod" => cmd_files::chmod,
        "chown" | "chgrp" => cmd_files::chown,
        "ln" => cmd_files::ln,
        "head" => cmd_files::head,
        "tail" => cmd_files::tail,
        "wc" => cmd_files::wc,
        "md5sum" | "sha1sum" | "sha256sum" => cmd_files::checksum,
        "base64" => cmd_files::base64,
        "chattr" => cmd_files::chattr,
        "lsattr" => cmd_files::lsattr,
        "stat" => cmd_files::stat,
        "file" => cmd_files::file,
        "find" => cmd_files::find,
        "dd" => cmd_files::dd,
        "tee" => cmd_files::tee,
        "readlink" | "realpath" => cmd_files::readlink,
        "basename" => cmd_files::basename,
        "dirname" => cmd_files::dirname,
        "mktemp" => cmd_files::mktemp,
        "tar" | "gzip" => cmd_files::archive,
        "grep" => cmd_text::grep,
        "sort" => cmd_text::sort,
        "uniq" => cmd_text::uniq,
        "cut" => cmd_text::cut,
        "tr" => cmd_text::tr,
        "awk" => cmd_text::awk,
        "sed" => cmd_text::sed,
        "echo" => cmd_text::echo,
        "printf" => cmd_text::printf,
        "yes" => cmd_text::yes,
        "seq" => cmd_text::seq,
        "expr" => cmd_text::expr,
        "test" | "[" => cmd_text::test,
        "true" => |_, _, _, _| 0,
        "false" => |_, _, _, _| 1,
        "xargs" => cmd_text::xargs,
        "od" => cmd_text::od,
        "less" | "more" => cmd_files::cat,
        "pwd" => b_pwd,
        "whoami" => cmd_sys::whoami,
        "id" => cmd_sys::id,
        "groups" => cmd_sys::groups,
        "users" => cmd_sys::users,
        "uname" | "arch" => cmd_sys::uname,
        "hostname" => cmd_sys::hostname,
        "uptime" => cmd_sys::uptime,
        "w" => cmd_sys::w,
        "who" => cmd_sys::who,
        "last" => cmd_sys::last,
        "free" => cmd_sys::free,
        "df" => cmd_sys::df,
        "ps" => cmd_sys::ps,
        "top" => cmd_sys::top,
        "kill" => cmd_sys::kill,
        "pkill" | "pgrep" | "killall" | "pidof" => cmd_sys::pkill,
        "nproc" => cmd_sys::nproc,
        "lscpu" => cmd_sys::lscpu,
        "ifconfig" => cmd_sys::ifconfig,
        "ip" => cmd_sys::ip,
        "netstat" | "ss" => cmd_sys::netstat,
        "route" => cmd_sys::route,
        "env" => cmd_sys::env,
        "sleep" => cmd_sys::sleep,
        "nohup" | "timeout" => cmd_sys::nohup,
        "date" => cmd_sys::date,
        "getconf" => cmd_sys::getconf,
        "dmesg" => cmd_sys::dmesg,
        "mount" | "umount" => cmd_sys::mount,
        "lsblk" => cmd_sys::lsblk,
        "sudo" => cmd_sys::sudo,
        "su" => cmd_sys::su,
        "passwd" | "chpasswd" | "chfn" | "gpasswd" | "newgrp" => cmd_sys::passwd,
        "useradd" | "userdel" | "usermod" | "groupadd" | "visudo" => cmd_sys::useradd,
        "crontab" => cmd_sys::crontab,
        "systemctl" | "journalctl" => cmd_sys::systemctl,
        "service" => cmd_sys::service,
        "iptables" | "ip6tables" => cmd_sys::iptables,
        "sysctl" | "kmod" | "fdisk" | "mkfs.ext4" | "selinux" => cmd_sys::admin_tool,
        "python3" | "perl" => cmd_sys::interpreter,
        "apt" | "yum" => cmd_sys::package_manager,
        "clear" => |sh, rt, io, _| {
            let _ = sh;
            rt.out(io, b"\x1b[H\x1b[2J\x1b[3J");
            0
        },
        "which" => cmd_sys::which,
        "whereis" => cmd_sys::whereis,
        "wget" => cmd_net::wget,
        "curl" => cmd_net::curl,
        "tftp" => cmd_net::tftp,
        "ftpget" => cmd_net::ftpget,
        "nc" | "ncat" => cmd_net::nc,
        "scp" | "sftp" => cmd_net::scp,
        "ssh" => cmd_net::ssh,
        "ping" => cmd_net::ping,
        "busybox" => cmd_net::busybox,
        "nano" | "vim.tiny" | "ssh-keygen" | "mesg" | "systemd" | "sshd" | "cron" | "rsyslogd"
        | "agetty" | "lib" | "ld.so" | "vmlinuz" | "initrd" | "sysmap" => |_, _, _, _| 0,
        _ => return None,
    };
    Some(f)
}

// ---- builtins ----

fn b_pwd(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    if argv.iter().skip(1).any(|a| a == "-P") {
        let cwd = sh.cwd.to_string();
        let p = sh.fs().stat(&cwd, true).map(|(p, _)| p).unwrap_or(cwd);
        out!(rt, io, "{p}\n");
    } else {
        out!(rt, io, "{}\n", sh.cwd);
    }
    0
}

fn b_cd(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let args: Vec<&String> = argv
        .iter()
        .skip(1)
        .filter(|a| !matches!(a.as_str(), "-L" | "-P" | "--"))
        .collect();
    if args.len() > 1 {
        err!(rt, io, "{}: cd: too many arguments\n", rt.prefix);
        return 1;
    }
    let mut print = false;
    let target = match args.first().map(|s| s.as_str()) {
        None | Some("~") => match sh.get_var("HOME") {
            Some(h) => h,
            None => {
                err!(rt, io, "{}: cd: HOME not set\n", rt.prefix);
                return 1;
            }
        },
        Some("-") => match sh.extra.as_ref().and_then(|e| e.oldpwd.clone()) {
            Some(o) => {
                print = true;
                o
            }
            None => {
                err!(rt, io, "{}: cd: OLDPWD not set\n", rt.prefix);
                return 1;
            }
        },
        Some("") => return 0,
        Some(t) => t.to_string(),
    };
    // logical: `..` undoes the last component of what was typed, as bash does
    let logical = normalize(&sh.abs(&target));
    let checked = {
        let f = sh.fs();
        match f.resolve(&logical, true) {
            Ok(r) => match r.node {
                Some(n) if n.is_dir() => {
                    if f.cred.may(n, 1) {
                        Ok(())
                    } else {
                        Err(Errno::Acces)
                    }
                }
                Some(_) => Err(Errno::NotDir),
                None => Err(Errno::NoEnt),
            },
            Err(e) => Err(e),
        }
    };
    if let Err(e) = checked {
        err!(rt, io, "{}: cd: {target}: {}\n", rt.prefix, e.msg());
        return 1;
    }
    let old = std::mem::replace(&mut sh.cwd, logical.into());
    sh.extra_mut().oldpwd = Some(old.to_string());
    if print {
        out!(rt, io, "{}\n", sh.cwd);
    }
    0
}

/// A path with `.` and `..` resolved textually (`/a/b/../c` → `/a/c`).
pub(crate) fn normalize(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

fn b_export(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let words: Vec<&String> = argv
        .iter()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let cmd = argv[0].as_str();
    if words.is_empty() {
        // the environment, as `declare -x` lines
        let mut vars = sh.environment();
        vars.sort();
        for (k, v) in vars {
            if cmd == "export" || argv.iter().any(|a| a.contains('x')) {
                out!(rt, io, "declare -x {k}=\"{}\"\n", v.replace('"', "\\\""));
            } else {
                out!(rt, io, "{k}={v}\n");
            }
        }
        return 0;
    }
    let mut st = 0;
    for w in words {
        let (name, value) = match w.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (w.as_str(), None),
        };
        if !parse::is_name(name) {
            err!(
                rt,
                io,
                "{}: {cmd}: `{w}': not a valid identifier\n",
                rt.prefix
            );
            st = 1;
            continue;
        }
        if sh.readonly(name) {
            if value.is_some() {
                err!(rt, io, "{}: {name}: readonly variable\n", rt.prefix);
                st = 1;
            }
            continue;
        }
        match value {
            Some(v) => sh.set_var(name, v),
            None => {
                if let Some(v) = sh.get_var(name) {
                    sh.set_var(name, &v);
                }
            }
        }
        if cmd == "export" {
            if let Some(v) = sh.vars.iter_mut().find(|v| *v.name == *name) {
                v.exported = true;
            }
        }
    }
    st
}

fn b_unset(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    for name in argv.iter().skip(1).filter(|a| !a.starts_with('-')) {
        if sh.readonly(name) {
            err!(
                rt,
                io,
                "{}: unset: {name}: cannot unset: readonly variable\n",
                rt.prefix
            );
            return 1;
        }
        sh.vars.retain(|v| *v.name != **name);
        if sh.vars.len() < super::MAX_VARS {
            sh.vars.push(Var {
                name: name.as_str().into(),
                value: None,
                exported: false,
            });
        }
    }
    0
}

fn b_set(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    if argv.len() > 1 {
        // `set -e`, `set +o history`, `set -- a b`: options are accepted and ignored
        if let Some(k) = argv.iter().position(|a| a == "--") {
            let mut args = vec![rt.args.first().cloned().unwrap_or_default()];
            args.extend(argv[k + 1..].iter().cloned());
            rt.args = args;
        }
        return 0;
    }
    let mut vars = sh.environment();
    vars.extend(sh.shell_only_vars());
    vars.sort();
    vars.dedup_by(|a, b| a.0 == b.0);
    for (k, v) in vars {
        if v.contains([' ', '\'', '"', '$', '\\', '*']) || v.is_empty() {
            out!(rt, io, "{k}='{}'\n", v.replace('\'', "'\\''"));
        } else {
            out!(rt, io, "{k}={v}\n");
        }
    }
    0
}

fn b_alias(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let mut st = 0;
    if argv.len() == 1 || argv[1] == "-p" {
        for (k, v) in sh.aliases() {
            out!(rt, io, "alias {k}='{v}'\n");
        }
        return 0;
    }
    for a in &argv[1..] {
        match a.split_once('=') {
            Some((k, v)) => {
                let mut list = sh.aliases();
                list.retain(|(n, _)| n != k);
                if list.len() < 64 {
                    list.push((k.to_string(), util::clip(v, 1024).to_string()));
                }
                list.sort();
                sh.extra_mut().aliases = Some(list);
            }
            None => match sh.alias(a) {
                Some(v) => out!(rt, io, "alias {a}='{v}'\n"),
                None => {
                    err!(rt, io, "{}: alias: {a}: not found\n", rt.prefix);
                    st = 1;
                }
            },
        }
    }
    st
}

fn b_unalias(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let mut list = sh.aliases();
    let mut st = 0;
    for a in &argv[1..] {
        if a == "-a" {
            list.clear();
        } else if list.iter().any(|(n, _)| n == a) {
            list.retain(|(n, _)| n != a);
        } else {
            err!(rt, io, "{}: unalias: {a}: not found\n", rt.prefix);
            st = 1;
        }
    }
    sh.extra_mut().aliases = Some(list);
    st
}

fn b_history(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    if argv.iter().any(|a| a == "-c") {
        sh.history.clear();
        sh.extra_mut().history_cleared = true;
        return 0;
    }
    if argv.iter().skip(1).any(|a| a.starts_with('-')) {
        return 0;
    }
    let mut lines: Vec<String> = Vec::new();
    if !sh.extra.as_ref().is_some_and(|e| e.history_cleared) {
        let home = sh.home();
        if let Some(Readable::Data(d)) = sh
            .fs()
            .read(&format!("{home}/.bash_history"))
            .ok()
            .map(|r| r.1)
        {
            let bytes = sh.materialize(Readable::Data(d), 64 * 1024);
            lines.extend(String::from_utf8_lossy(&bytes).lines().map(String::from));
        }
    }
    lines.extend(sh.history.iter().map(|l| l.to_string()));
    let n = argv
        .get(1)
        .and_then(|a| a.parse::<usize>().ok())
        .unwrap_or(lines.len());
    let skip = lines.len().saturating_sub(n);
    for (i, l) in lines.iter().enumerate().skip(skip) {
        out!(rt, io, "{:5}  {l}\n", i + 1);
    }
    0
}

fn b_exit(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let code = match argv.get(1) {
        Some(a) => match a.parse::<i64>() {
            Ok(v) => (v & 0xff) as i32,
            Err(_) => {
                err!(
                    rt,
                    io,
                    "{}: exit: {a}: numeric argument required\n",
                    rt.prefix
                );
                2
            }
        },
        None => sh.status,
    };
    if argv[0] == "logout" && rt.shells > 0 {
        err!(
            rt,
            io,
            "{}: logout: not login shell: use `exit'\n",
            rt.prefix
        );
        return 1;
    }
    rt.flow = Flow::Exit;
    if rt.shells == 0 {
        rt.exit_req = Some(code);
    }
    sh.status = code;
    code
}

fn b_type(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let mut st = 0;
    let path_only = argv.iter().any(|a| a == "-p" || a == "-P");
    for name in argv.iter().skip(1).filter(|a| !a.starts_with('-')) {
        if !path_only {
            if let Some(v) = sh.alias(name) {
                out!(rt, io, "{name} is aliased to `{v}'\n");
                continue;
            }
            if matches!(
                name.as_str(),
                "if" | "then"
                    | "else"
                    | "elif"
                    | "fi"
                    | "for"
                    | "while"
                    | "until"
                    | "do"
                    | "done"
                    | "case"
                    | "esac"
                    | "in"
                    | "function"
                    | "{"
                    | "}"
                    | "!"
                    | "[["
                    | "]]"
            ) {
                out!(rt, io, "{name} is a shell keyword\n");
                continue;
            }
            if builtin(name).is_some() {
                out!(rt, io, "{name} is a shell builtin\n");
                continue;
            }
        }
        match sh.which(name) {
            Some(p) if path_only => out!(rt, io, "{p}\n"),
            Some(p) => out!(rt, io, "{name} is {p}\n"),
            None => {
                if !path_only {
                    err!(rt, io, "{}: type: {name}: not found\n", rt.prefix);
                }
                st = 1;
            }
        }
    }
    st
}

fn b_source(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let Some(file) = argv.get(1) else {
        err!(
            rt,
            io,
            "{}: {}: filename argument required\n{}: usage: {} filename [arguments]\n",
            rt.prefix,
            argv[0],
            argv[0],
            argv[0]
        );
        return 2;
    };
    match sh.read_path(rt, file, 1 << 20) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let mut args = vec![rt.args.first().cloned().unwrap_or_default()];
            args.extend(argv.iter().skip(2).cloned());
            sh.run_text(rt, io, &text, file, args, false)
        }
        Err(e) => {
            err!(rt, io, "{}: {file}: {}\n", rt.prefix, e.msg());
            1
        }
    }
}

fn b_eval(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let text = argv[1..].join(" ");
    let args = rt.args.clone();
    let prefix = rt.prefix.to_string();
    sh.run_text(rt, io, &text, &prefix, args, false)
}

fn b_exec(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    if argv.len() < 2 {
        return 0;
    }
    let st = sh.run_argv(rt, io, &argv[1..]);
    // the shell is replaced: a script ends; the login shell carries on only as a new shell
    let name = argv[1].rsplit('/').next().unwrap_or("");
    if rt.shells > 0 {
        rt.flow = Flow::Exit;
    } else if !matches!(name, "bash" | "sh" | "dash" | "su" | "sudo") {
        rt.flow = Flow::Exit;
        rt.exit_req = Some(st);
    }
    st
}

fn b_read(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let mut names: Vec<&str> = Vec::new();
    let mut raw = false;
    let mut skip = false;
    for (i, a) in argv.iter().enumerate().skip(1) {
        if skip {
            skip = false;
            continue;
        }
        match a.as_str() {
            "-r" => raw = true,
            "-p" | "-t" | "-n" | "-d" | "-u" | "-a" | "-N" => {
                if a == "-p" {
                    if let Some(p) = argv.get(i + 1) {
                        rt.err(io, p.as_bytes());
                    }
                }
                skip = true;
            }
            s if s.starts_with('-') => {}
            s => names.push(s),
        }
    }
    let Some(line) = io.stdin.read_line() else {
        return 1;
    };
    let mut text = super::expand::bytes_to_string(&line);
    if !raw {
        text = text.replace("\\", "");
    }
    if names.is_empty() {
        sh.set_var("REPLY", &text);
        return 0;
    }
    let mut fields: Vec<&str> = text.split_whitespace().collect();
    for (i, n) in names.iter().enumerate() {
        if i + 1 == names.len() {
            let rest = fields.join(" ");
            sh.set_var(n, &rest);
        } else {
            let v = if fields.is_empty() {
                ""
            } else {
                fields.remove(0)
            };
            sh.set_var(n, v);
        }
    }
    0
}

fn b_shift(_: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let n = argv
        .get(1)
        .and_then(|a| a.parse::<usize>().ok())
        .unwrap_or(1);
    if n >= rt.args.len() {
        if n > rt.args.len().saturating_sub(1) && argv.get(1).is_some() {
            err!(
                rt,
                io,
                "{}: shift: {n}: shift count out of range\n",
                rt.prefix
            );
        }
        return 1;
    }
    rt.args.drain(1..=n);
    0
}

fn b_return(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    if rt.depth == 0 {
        err!(
            rt,
            io,
            "{}: return: can only `return' from a function or sourced script\n",
            rt.prefix
        );
        return 2;
    }
    let code = argv
        .get(1)
        .and_then(|a| a.parse::<i32>().ok())
        .unwrap_or(sh.status);
    sh.status = code;
    rt.flow = Flow::Return;
    code
}

fn b_break(_: &mut Shell, rt: &mut Run, _: &mut Io, argv: &[String]) -> i32 {
    let n = argv
        .get(1)
        .and_then(|a| a.parse::<u32>().ok())
        .unwrap_or(1)
        .max(1);
    rt.flow = if argv[0] == "break" {
        Flow::Break(n)
    } else {
        Flow::Continue(n)
    };
    0
}

fn b_jobs(_: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    match argv[0].as_str() {
        "fg" | "bg" => {
            err!(rt, io, "{}: {}: current: no such job\n", rt.prefix, argv[0]);
            1
        }
        _ => 0,
    }
}

fn b_umask(_: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    if argv.len() == 1 {
        out!(rt, io, "0022\n");
    } else if argv[1] == "-S" {
        out!(rt, io, "u=rwx,g=rx,o=rx\n");
    }
    0
}

fn b_ulimit(_: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let a = argv.get(1).map(String::as_str).unwrap_or("-f");
    if argv.len() <= 2 {
        match a {
            "-n" => out!(rt, io, "1024\n"),
            "-u" => out!(rt, io, "15339\n"),
            "-s" => out!(rt, io, "8192\n"),
            "-a" => out!(rt, io, "real-time non-blocking time  (microseconds, -R) unlimited\ncore file size              (blocks, -c) 0\ndata seg size               (kbytes, -d) unlimited\nscheduling priority                 (-e) 0\nfile size                   (blocks, -f) unlimited\npending signals                     (-i) 15339\nmax locked memory           (kbytes, -l) 8192\nmax memory size             (kbytes, -m) unlimited\nopen files                          (-n) 1024\npipe size                (512 bytes, -p) 8\nPOSIX message queues         (bytes, -q) 819200\nreal-time priority                  (-r) 0\nstack size                  (kbytes, -s) 8192\ncpu time                   (seconds, -t) unlimited\nmax user processes                  (-u) 15339\nvirtual memory              (kbytes, -v) unlimited\nfile locks                          (-x) unlimited\n"),
            _ => out!(rt, io, "unlimited\n"),
        }
    }
    0
}

fn b_quiet(_: &mut Shell, _: &mut Run, _: &mut Io, _: &[String]) -> i32 {
    0
}

fn b_let(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let mut last = 0;
    for e in &argv[1..] {
        match sh.arith(rt, e) {
            Ok(v) => last = v,
            Err(m) => {
                err!(rt, io, "{}: let: {m}\n", rt.prefix);
                return 1;
            }
        }
    }
    i32::from(last == 0)
}

fn b_command(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let rest: Vec<String> = argv.iter().skip(1).cloned().collect();
    match rest.first().map(String::as_str) {
        Some("-v") | Some("-V") => {
            let mut st = 0;
            for name in &rest[1..] {
                if builtin(name).is_some() {
                    out!(rt, io, "{name}\n");
                } else if let Some(p) = sh.which(name) {
                    out!(rt, io, "{p}\n");
                } else {
                    st = 1;
                }
            }
            st
        }
        Some(_) => {
            let words: Vec<String> = rest.into_iter().filter(|a| a != "-p").collect();
            sh.run_argv(rt, io, &words)
        }
        None => 0,
    }
}

fn b_help(_: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    if argv.len() > 1 {
        err!(
            rt,
            io,
            "{}: help: no help topics match `{}'.  Try `help help' or `man -k {}' or `info {}'.\n",
            rt.prefix,
            argv[1],
            argv[1],
            argv[1]
        );
        return 1;
    }
    out!(rt, io, "GNU bash, version 5 (x86_64-pc-linux-gnu)\nThese shell commands are defined internally.  Type `help' to see this list.\nType `help name' to find out more about the function `name'.\n\n job_spec [&]                            history [-c] [-d offset] [n]\n (( expression ))                        if COMMANDS; then COMMANDS; fi\n . filename [arguments]                  jobs [-lnprs] [jobspec ...]\n :                                       kill [-s sigspec | -n signum]\n [ arg... ]                              let arg [arg ...]\n alias [-p] [name[=value] ... ]          read [-ers] [-a array] [-d delim]\n cd [-L|[-P [-e]] [-@]] [dir]            set [-abefhkmnptuvxBCEHPT] [-o op]\n echo [-neE] [arg ...]                   type [-afptP] name [name ...]\n exit [n]                                unset [-f] [-v] [-n] [name ...]\n export [-fn] [name[=value] ...]         while COMMANDS; do COMMANDS; done\n");
    0
}

impl Shell {
    /// The aliases in force.
    pub(crate) fn aliases(&self) -> Vec<(String, String)> {
        match self.extra.as_ref().and_then(|e| e.aliases.clone()) {
            Some(a) => a,
            None => vec![
                ("l".into(), "ls -CF".into()),
                ("la".into(), "ls -A".into()),
                ("ll".into(), "ls -alF".into()),
            ],
        }
    }

    pub(crate) fn alias(&self, name: &str) -> Option<String> {
        match self.extra.as_ref().and_then(|e| e.aliases.as_ref()) {
            Some(a) => a.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()),
            None => match name {
                "l" => Some("ls -CF".into()),
                "la" => Some("ls -A".into()),
                "ll" => Some("ls -alF".into()),
                _ => None,
            },
        }
    }

    /// The user `su` or `sudo` switches to.
    pub(crate) fn switch_user(&mut self, name: &str, login: bool) -> bool {
        let users = &self.world.identity.users;
        let Some(i) = users.iter().position(|u| u.name == name) else {
            return false;
        };
        let home = users[i].home.clone();
        let prev = std::mem::replace(&mut self.who, Who::Known(i as u16));
        let cwd = self.cwd.clone();
        self.extra_mut().su_stack.push((prev, cwd));
        if login {
            let ok = self.fs().stat(&home, true).is_ok_and(|(_, n)| n.is_dir());
            if ok {
                self.cwd = home.into();
            }
        }
        true
    }
}
