//! Word expansion, as bash does it when a command runs: tilde, parameters (the session's
//! variables over a computed login environment), command substitution (run in this fake
//! shell, as a subshell), arithmetic, field splitting on `IFS`, and globbing against the
//! fake filesystem. Quoted text is neither split nor globbed.
//!
//! Bounded: the expansions of one line produce at most [`EXPAND_BUDGET`] bytes, a word at
//! most [`MAX_FIELDS`] fields, and arithmetic nests at most [`MAX_ARITH_DEPTH`] deep.

use super::exec::{Input, Io, Run, MAX_NEST};
use super::fs::has_glob_meta;
use super::parse::{byte_char, Part, Script, VarOp, Word};
use super::{identity::Family, Shell, Var, MAX_VARS, MAX_VARS_TOTAL, MAX_VAR_BYTES};

/// Fields one word may expand to (a glob matching more is cut).
const MAX_FIELDS: usize = 4096;
/// Nesting of parentheses and unary operators in `$(( ))`.
const MAX_ARITH_DEPTH: usize = 64;

/// Bytes as text: valid UTF-8 as is, other bytes as the stand-in characters that turn
/// back into them on output (so `$(cat binary)` keeps its bytes).
pub(crate) fn bytes_to_string(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        s.push_str(chunk.valid());
        for &x in chunk.invalid() {
            s.push(byte_char(x));
        }
    }
    s
}

/// A field being built: its text, and its glob pattern (quoted metacharacters escaped).
#[derive(Default)]
struct Field {
    text: String,
    pat: String,
    glob: bool,
}

#[derive(Default)]
struct Fields {
    done: Vec<Field>,
    cur: Option<Field>,
}

impl Fields {
    fn cur(&mut self) -> &mut Field {
        self.cur.get_or_insert_with(Field::default)
    }
    fn lit(&mut self, s: &str) {
        let f = self.cur();
        f.text.push_str(s);
        f.pat.push_str(s);
        if has_glob_meta(s) {
            f.glob = true;
        }
    }
    fn quoted(&mut self, s: &str) {
        let f = self.cur();
        f.text.push_str(s);
        for c in s.chars() {
            if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                f.pat.push('\\');
            }
            f.pat.push(c);
        }
    }
    fn end(&mut self) {
        if let Some(f) = self.cur.take() {
            self.done.push(f);
        }
    }
    /// An unquoted expansion's value: split on `ifs`, the pieces globbed.
    fn split(&mut self, v: &str, ifs: &str) {
        if ifs.is_empty() {
            self.lit(v);
            return;
        }
        let is_sep = |c: char| ifs.contains(c);
        let white = |c: char| is_sep(c) && c.is_whitespace();
        if v.starts_with(white) {
            self.end();
        }
        let mut first = true;
        let mut piece = String::new();
        let mut chars = v.chars().peekable();
        let mut pending_sep = false;
        while let Some(c) = chars.next() {
            if is_sep(c) {
                if !piece.is_empty() || (!c.is_whitespace() && !pending_sep) {
                    if !first {
                        self.end();
                    }
                    self.lit(&std::mem::take(&mut piece));
                    first = false;
                }
                pending_sep = true;
                if !c.is_whitespace() {
                    // a non-blank separator ends a field even if empty
                    self.end();
                    first = true;
                    pending_sep = false;
                }
                while chars.peek().is_some_and(|&n| white(n)) {
                    chars.next();
                }
                continue;
            }
            pending_sep = false;
            piece.push(c);
        }
        if !piece.is_empty() {
            if !first {
                self.end();
            }
            self.lit(&piece);
        }
        if v.ends_with(white) {
            self.end();
        }
    }
}

/// The names of a fresh login's environment, in the order `env` shows them (a system skips
/// those it does not set: [`Shell::login_value`]).
const LOGIN_ENV: [&str; 21] = [
    "SHELL",
    "PWD",
    "LOGNAME",
    "XDG_SESSION_TYPE",
    "MOTD_SHOWN",
    "HOME",
    "LANG",
    "SSH_CONNECTION",
    "XDG_SESSION_CLASS",
    "TERM",
    "USER",
    "SHLVL",
    "XDG_SESSION_ID",
    "XDG_RUNTIME_DIR",
    "SSH_CLIENT",
    "HOSTNAME",
    "HISTSIZE",
    "PATH",
    "MAIL",
    "SSH_TTY",
    "OLDPWD",
];

/// The variables bash sets and does not export, in the order `set` shows them.
const SHELL_ONLY: [&str; 19] = [
    "BASH",
    "BASH_VERSION",
    "COLUMNS",
    "EUID",
    "HISTFILE",
    "HISTFILESIZE",
    "HISTSIZE",
    "HOSTNAME",
    "HOSTTYPE",
    "IFS",
    "LINES",
    "MACHTYPE",
    "OPTERR",
    "OPTIND",
    "OSTYPE",
    "PPID",
    "PS4",
    "UID",
    "HISTCONTROL",
];

impl Shell {
    /// Expands words into the command's arguments.
    pub(crate) fn expand_words(
        &mut self,
        rt: &mut Run,
        io: &mut Io,
        words: &[Word],
    ) -> Result<Vec<String>, ()> {
        let mut out: Vec<String> = Vec::new();
        for w in words {
            let mut fs = Fields::default();
            self.expand_parts(rt, io, &w.parts, &mut fs, false)?;
            fs.end();
            for f in fs.done {
                if f.glob {
                    let cwd = self.cwd.to_string();
                    let matches = self.fs().glob(&cwd, &f.pat, MAX_FIELDS);
                    if !matches.is_empty() {
                        self.charge(rt, io, matches.iter().map(String::len).sum())?;
                        out.extend(matches);
                        continue;
                    }
                }
                out.push(f.text);
            }
            if out.len() > 65_536 {
                err!(rt, io, "{}: Argument list too long\n", rt.prefix);
                return Err(());
            }
        }
        Ok(out)
    }

    /// Expands a word into one string (assignments, here-documents): no splitting, no
    /// globbing.
    pub(crate) fn expand_single(
        &mut self,
        rt: &mut Run,
        io: &mut Io,
        w: &Word,
    ) -> Result<String, ()> {
        let mut fs = Fields::default();
        self.expand_parts(rt, io, &w.parts, &mut fs, true)?;
        fs.end();
        Ok(fs
            .done
            .into_iter()
            .map(|f| f.text)
            .collect::<Vec<_>>()
            .join(" "))
    }

    fn charge(&self, rt: &mut Run, io: &Io, n: usize) -> Result<(), ()> {
        if n > rt.budget {
            rt.budget = 0;
            err!(
                rt,
                io,
                "{}: xmalloc: cannot allocate {} bytes\n",
                rt.prefix,
                n
            );
            return Err(());
        }
        rt.budget -= n;
        Ok(())
    }

    fn expand_parts(
        &mut self,
        rt: &mut Run,
        io: &mut Io,
        parts: &[Part],
        fs: &mut Fields,
        quoted: bool,
    ) -> Result<(), ()> {
        for p in parts {
            match p {
                Part::Lit(s) if quoted => fs.quoted(s),
                Part::Lit(s) => fs.lit(s),
                Part::Quoted(s) => fs.quoted(s),
                Part::Double(inner) => {
                    fs.cur();
                    // "$@": one field per argument
                    if let [Part::Var(v)] = inner.as_slice() {
                        if v.name == "@" && v.op == VarOp::Plain {
                            let args: Vec<String> = rt.args.iter().skip(1).cloned().collect();
                            for (i, a) in args.iter().enumerate() {
                                if i > 0 {
                                    fs.end();
                                }
                                fs.quoted(a);
                            }
                            if args.is_empty() {
                                fs.cur = None;
                            }
                            continue;
                        }
                    }
                    self.expand_parts(rt, io, inner, fs, true)?;
                }
                Part::Tilde(user) => {
                    let home = if user.is_empty() {
                        self.get_var("HOME").unwrap_or_else(|| self.home())
                    } else {
                        match self.world.identity.user(user) {
                            Some(u) => u.home.clone(),
                            None => format!("~{user}"),
                        }
                    };
                    fs.quoted(&home);
                }
                Part::Var(v) => {
                    let value = self.param(rt, io, v)?;
                    self.charge(rt, io, value.len())?;
                    if quoted {
                        fs.quoted(&value);
                    } else {
                        let ifs = self.get_var("IFS").unwrap_or_else(|| " \t\n".into());
                        fs.split(&value, &ifs);
                    }
                }
                Part::Subst(script) => {
                    let value = self.substitute(rt, io, script);
                    self.charge(rt, io, value.len())?;
                    if quoted {
                        fs.quoted(&value);
                    } else {
                        let ifs = self.get_var("IFS").unwrap_or_else(|| " \t\n".into());
                        fs.split(&value, &ifs);
                    }
                }
                Part::Arith(expr) => match self.arith(rt, expr) {
                    Ok(v) => {
                        let s = v.to_string();
                        if quoted {
                            fs.quoted(&s);
                        } else {
                            fs.lit(&s);
                        }
                    }
                    Err(m) => {
                        err!(
                            rt,
                            io,
                            "{}: {}: {m}\n",
                            rt.prefix,
                            super::util::clip(expr.trim(), 200)
                        );
                        return Err(());
                    }
                },
            }
        }
        Ok(())
    }

    /// `$name` and `${name…}`.
    fn param(&mut self, rt: &mut Run, io: &mut Io, v: &super::parse::VarExp) -> Result<String, ()> {
        let value = self.lookup(rt, &v.name);
        let empty = value.as_deref().is_none_or(str::is_empty);
        Ok(match &v.op {
            VarOp::Plain => value.unwrap_or_default(),
            VarOp::Length => value.map_or(0, |s| s.chars().count()).to_string(),
            VarOp::Default(colon, w) => {
                if value.is_none() || (*colon && empty) {
                    self.expand_single(rt, io, w)?
                } else {
                    value.unwrap_or_default()
                }
            }
            VarOp::Assign(colon, w) => {
                if value.is_none() || (*colon && empty) {
                    let d = self.expand_single(rt, io, w)?;
                    self.set_var(&v.name, &d);
                    d
                } else {
                    value.unwrap_or_default()
                }
            }
            VarOp::Alt(colon, w) => {
                if value.is_none() || (*colon && empty) {
                    String::new()
                } else {
                    self.expand_single(rt, io, w)?
                }
            }
            VarOp::Error(colon, w) => {
                if value.is_none() || (*colon && empty) {
                    let m = self.expand_single(rt, io, w)?;
                    let m = if m.is_empty() {
                        "parameter null or not set".to_string()
                    } else {
                        m
                    };
                    err!(rt, io, "{}: {}: {m}\n", rt.prefix, v.name);
                    return Err(());
                }
                value.unwrap_or_default()
            }
            VarOp::Bad(text) => {
                err!(
                    rt,
                    io,
                    "{}: {}: bad substitution\n",
                    rt.prefix,
                    super::util::clip(text, 200)
                );
                return Err(());
            }
        })
    }

    /// `$(…)`: the inner commands' output, run as a subshell, trailing newlines removed.
    fn substitute(&mut self, rt: &mut Run, io: &mut Io, s: &Script) -> String {
        if rt.depth >= MAX_NEST || rt.halted {
            return String::new();
        }
        rt.depth += 1;
        rt.shells += 1;
        let buf = rt.alloc();
        let mut sub = Io {
            stdin: Input::default(),
            out: buf,
            err: io.err,
        };
        let saved = (self.cwd.clone(), self.vars.clone());
        self.exec_script(rt, &mut sub, s);
        self.cwd = saved.0;
        self.vars = saved.1;
        rt.shells -= 1;
        rt.depth -= 1;
        if rt.exit_req.is_none() {
            rt.flow = super::exec::Flow::Normal;
        }
        let mut bytes = rt.free(buf);
        bytes.retain(|&b| b != 0);
        let mut s = bytes_to_string(&bytes);
        while s.ends_with('\n') {
            s.pop();
        }
        s
    }

    /// A parameter's value: positional and special ones, then variables.
    pub(crate) fn lookup(&self, rt: &Run, name: &str) -> Option<String> {
        if let Ok(n) = name.parse::<usize>() {
            return rt.args.get(n).cloned();
        }
        match name {
            "#" => Some(rt.args.len().saturating_sub(1).to_string()),
            "@" | "*" => Some(
                rt.args
                    .iter()
                    .skip(1)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            "?" => Some(self.status.to_string()),
            "$" => Some(self.pid.to_string()),
            "!" => rt.last_bg.map(|p| p.to_string()),
            "-" => Some("himBHs".into()),
            _ => self.get_var(name),
        }
    }

    /// A variable's value: what the session set, then the login environment.
    pub(crate) fn get_var(&self, name: &str) -> Option<String> {
        if let Some(v) = self.vars.iter().find(|v| *v.name == *name) {
            return v.value.as_ref().map(|s| s.to_string());
        }
        self.default_var(name)
    }

    /// The session's entry for a variable (to restore after a command's own assignment).
    pub(crate) fn var_entry(&self, name: &str) -> Option<Var> {
        self.vars.iter().find(|v| *v.name == *name).cloned()
    }

    pub(crate) fn readonly(&self, name: &str) -> bool {
        matches!(name, "UID" | "EUID" | "PPID" | "BASHOPTS" | "SHELLOPTS")
    }

    /// Sets a variable (capped in number and size; past the cap it is silently not kept,
    /// as a shell out of memory would not be either).
    pub(crate) fn set_var(&mut self, name: &str, value: &str) {
        let value = super::util::clip(value, MAX_VAR_BYTES);
        let held: usize = self
            .vars
            .iter()
            .filter(|v| *v.name != *name)
            .map(|v| v.name.len() + v.value.as_ref().map_or(0, |x| x.len()))
            .sum();
        if held + name.len() + value.len() > MAX_VARS_TOTAL {
            // out of memory for variables: the value is not kept
            return;
        }
        if let Some(v) = self.vars.iter_mut().find(|v| *v.name == *name) {
            v.value = Some(value.into());
            return;
        }
        if self.vars.len() >= MAX_VARS {
            return;
        }
        let exported = self.default_exported(name);
        self.vars.push(Var {
            name: name.into(),
            value: Some(value.into()),
            exported,
        });
    }

    fn default_exported(&self, name: &str) -> bool {
        self.login_value(name).is_some()
    }

    fn user_shell(&self) -> String {
        self.account()
            .map_or("/bin/bash".into(), |u| u.shell.clone())
    }

    /// The client's address and port as the session's environment shows them: the real one,
    /// else one drawn from the session's pid (the same on every call).
    fn client_addr(&self) -> (String, u16) {
        match self.extra.as_ref().and_then(|e| e.client) {
            Some((ip, port)) => (ip.to_string(), port),
            None => {
                let mut r = fastrand::Rng::with_seed(u64::from(self.pid));
                (
                    format!(
                        "{}.{}.{}.{}",
                        r.u8(1..224),
                        r.u8(..),
                        r.u8(..),
                        r.u8(1..255)
                    ),
                    r.u16(32_768..61_000),
                )
            }
        }
    }

    /// The environment a fresh login has, in the order `env` shows it.
    fn login_env(&self) -> Vec<(&'static str, String)> {
        LOGIN_ENV
            .iter()
            .filter_map(|k| self.login_value(k).map(|v| (*k, v)))
            .collect()
    }

    /// One variable of a fresh login's environment ([`LOGIN_ENV`]); None for a name it does
    /// not have (or this system does not set). Only that value is made: variables are read
    /// for every command (`PATH`, `IFS`), and the whole environment is some twenty strings.
    fn login_value(&self, name: &str) -> Option<String> {
        let id = &self.world.identity;
        let deb = id.os.is_deb();
        Some(match name {
            "SHELL" => self.user_shell(),
            "PWD" => self.cwd.to_string(),
            "LOGNAME" | "USER" => self.user_name().to_string(),
            "XDG_SESSION_TYPE" => "tty".into(),
            "MOTD_SHOWN" if deb => "pam".into(),
            "HOME" => self.home(),
            "LANG" if deb => "C.UTF-8".into(),
            "LANG" => "en_US.UTF-8".into(),
            "SSH_CONNECTION" => {
                let (cip, cport) = self.client_addr();
                let host_ip = id.primary().map(|i| i.ipv4.as_str()).unwrap_or_default();
                format!("{cip} {cport} {host_ip} 22")
            }
            "XDG_SESSION_CLASS" => "user".into(),
            "TERM" => "xterm-256color".into(),
            "SHLVL" => "1".into(),
            "XDG_SESSION_ID" => (self.pid % 900 + 3).to_string(),
            "XDG_RUNTIME_DIR" => format!("/run/user/{}", self.uid()),
            "SSH_CLIENT" => {
                let (cip, cport) = self.client_addr();
                format!("{cip} {cport} 22")
            }
            "HOSTNAME" if !deb => self.hostname(),
            "HISTSIZE" if !deb => "1000".into(),
            "PATH" => {
                let home = self.home();
                match (id.os.family(), self.is_root()) {
                    (Family::Rhel, true) => "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/root/bin".to_string(),
                    (Family::Rhel, false) => format!("/usr/local/bin:/usr/bin:/usr/local/sbin:/usr/sbin:{home}/.local/bin:{home}/bin"),
                    (Family::Ubuntu, _) => "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/games:/usr/local/games:/snap/bin".into(),
                    (Family::Debian, true) => "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
                    (Family::Debian, false) => "/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games".into(),
                }
            }
            "MAIL" if deb => format!("/var/mail/{}", self.user_name()),
            "MAIL" => format!("/var/spool/mail/{}", self.user_name()),
            "SSH_TTY" => "/dev/pts/0".into(),
            "OLDPWD" => return self.extra.as_ref().and_then(|e| e.oldpwd.clone()),
            _ => return None,
        })
    }

    /// One variable bash sets and does not export ([`SHELL_ONLY`]); None for another name.
    fn shell_value(&self, name: &str) -> Option<String> {
        let os = self.world.identity.os;
        Some(match name {
            "BASH" => "/bin/bash".into(),
            "BASH_VERSION" => os.bash_version().to_string(),
            "COLUMNS" => "80".into(),
            "EUID" | "UID" => self.uid().to_string(),
            "HISTFILE" => format!("{}/.bash_history", self.home()),
            "HISTFILESIZE" => "2000".into(),
            "HISTSIZE" => "1000".into(),
            "HOSTNAME" => self.hostname(),
            "HOSTTYPE" => "x86_64".into(),
            "IFS" => " \t\n".into(),
            "LINES" => "24".into(),
            "MACHTYPE" => "x86_64-pc-linux-gnu".into(),
            "OPTERR" | "OPTIND" => "1".into(),
            "OSTYPE" => "linux-gnu".into(),
            "PPID" => (self.pid - 1).to_string(),
            "PS4" => "+ ".into(),
            "HISTCONTROL" if os.is_deb() => "ignoreboth".into(),
            _ => return None,
        })
    }

    /// Variables bash sets that are not exported.
    pub(crate) fn shell_only_vars(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = SHELL_ONLY
            .iter()
            .filter_map(|k| self.shell_value(k).map(|v| (k.to_string(), v)))
            .collect();
        for x in &self.vars {
            if let Some(val) = &x.value {
                if !x.exported {
                    v.push((x.name.to_string(), val.to_string()));
                }
            }
        }
        v
    }

    /// The exported environment (`env`, `export`).
    pub(crate) fn environment(&self) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = Vec::new();
        for (k, v) in self.login_env() {
            match self.vars.iter().find(|x| *x.name == *k) {
                Some(x) => {
                    if let Some(val) = &x.value {
                        env.push((k.to_string(), val.to_string()));
                    }
                }
                None => env.push((k.to_string(), v)),
            }
        }
        for x in &self.vars {
            if x.exported && !env.iter().any(|(k, _)| *k == *x.name) {
                if let Some(val) = &x.value {
                    env.push((x.name.to_string(), val.to_string()));
                }
            }
        }
        env
    }

    /// A variable of the login environment or one bash keeps.
    fn default_var(&self, name: &str) -> Option<String> {
        match name {
            "PWD" => return Some(self.cwd.to_string()),
            "OLDPWD" => return self.extra.as_ref().and_then(|e| e.oldpwd.clone()),
            "RANDOM" => return Some(fastrand::u16(..32_768).to_string()),
            "SECONDS" => return Some((super::util::now() - self.started).max(0).to_string()),
            "LINENO" => return Some("1".into()),
            "PS1" => {
                return Some(if self.world.identity.os.is_deb() {
                    "\\u@\\h:\\w\\$ ".into()
                } else {
                    "[\\u@\\h \\W]\\$ ".into()
                })
            }
            "PS2" => return Some("> ".into()),
            _ => {}
        }
        // (the session's own variables were looked up before this)
        self.login_value(name).or_else(|| self.shell_value(name))
    }

    /// Evaluates `$(( expr ))`.
    pub(crate) fn arith(&mut self, rt: &Run, expr: &str) -> Result<i64, String> {
        // parameters inside are expanded first
        let mut text = String::new();
        let cs: Vec<char> = expr.chars().collect();
        let mut i = 0;
        while i < cs.len() {
            if cs[i] == '$' {
                let (name, next) = if cs.get(i + 1) == Some(&'{') {
                    let end = cs[i + 2..]
                        .iter()
                        .position(|&c| c == '}')
                        .map_or(cs.len(), |k| i + 2 + k);
                    (
                        cs[i + 2..end.min(cs.len())].iter().collect::<String>(),
                        end + 1,
                    )
                } else {
                    let mut k = i + 1;
                    if cs
                        .get(k)
                        .is_some_and(|c| c.is_ascii_digit() || matches!(c, '?' | '#' | '$'))
                    {
                        k += 1;
                    } else {
                        while cs
                            .get(k)
                            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
                        {
                            k += 1;
                        }
                    }
                    (cs[i + 1..k].iter().collect::<String>(), k)
                };
                text.push_str(&self.lookup(rt, &name).unwrap_or_else(|| "0".into()));
                i = next;
            } else {
                text.push(cs[i]);
                i += 1;
            }
        }
        let mut a = Arith {
            s: text.chars().collect(),
            i: 0,
            depth: 0,
            sh: self,
        };
        let v = a.assign()?;
        a.ws();
        if a.i < a.s.len() {
            let rest: String = a.s[a.i..].iter().collect();
            return Err(format!(
                "syntax error in expression (error token is \"{rest}\")"
            ));
        }
        Ok(v)
    }
}

/// A small recursive-descent evaluator of bash integer arithmetic.
struct Arith<'a> {
    s: Vec<char>,
    i: usize,
    depth: usize,
    sh: &'a mut Shell,
}

impl Arith<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_whitespace()) {
            self.i += 1;
        }
    }
    fn eat(&mut self, t: &str) -> bool {
        self.ws();
        let n = t.chars().count();
        if self.s.len() >= self.i + n && self.s[self.i..self.i + n].iter().copied().eq(t.chars()) {
            self.i += n;
            true
        } else {
            false
        }
    }
    fn err(&self) -> String {
        let rest: String = self.s[self.i.min(self.s.len())..].iter().collect();
        if rest.is_empty() {
            "syntax error: operand expected (error token is \"\")".into()
        } else {
            format!("syntax error: operand expected (error token is \"{rest}\")")
        }
    }
    fn deeper(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_ARITH_DEPTH {
            return Err("expression recursion level exceeded".into());
        }
        Ok(())
    }
    fn var(&self, name: &str) -> i64 {
        self.sh
            .get_var(name)
            .and_then(|v| parse_int(v.trim()))
            .unwrap_or(0)
    }
    /// `name = e`, `name += e`, `name -= e`, or a conditional expression.
    fn assign(&mut self) -> Result<i64, String> {
        self.ws();
        let save = self.i;
        let mut name = String::new();
        while let Some(&c) = self.s.get(self.i) {
            if c.is_ascii_alphanumeric() || c == '_' {
                name.push(c);
                self.i += 1;
            } else {
                break;
            }
        }
        if !name.is_empty() && super::parse::is_name(&name) {
            self.ws();
            for op in ["+=", "-=", "*=", "="] {
                if self.s.get(self.i) == Some(&'=') && self.s.get(self.i + 1) == Some(&'=') {
                    break;
                }
                if self.eat(op) {
                    self.deeper()?;
                    let v = self.assign()?;
                    self.depth -= 1;
                    let old = self.var(&name);
                    let new = match op {
                        "+=" => old.wrapping_add(v),
                        "-=" => old.wrapping_sub(v),
                        "*=" => old.wrapping_mul(v),
                        _ => v,
                    };
                    self.sh.set_var(&name, &new.to_string());
                    return Ok(new);
                }
            }
        }
        self.i = save;
        self.ternary()
    }
    fn ternary(&mut self) -> Result<i64, String> {
        let c = self.binary(0)?;
        if self.eat("?") {
            self.deeper()?;
            let a = self.assign()?;
            if !self.eat(":") {
                return Err(self.err());
            }
            let b = self.assign()?;
            self.depth -= 1;
            return Ok(if c != 0 { a } else { b });
        }
        Ok(c)
    }
    fn binary(&mut self, level: usize) -> Result<i64, String> {
        const LEVELS: &[&[&str]] = &[
            &["||"],
            &["&&"],
            &["|"],
            &["^"],
            &["&"],
            &["==", "!="],
            &["<=", ">=", "<", ">"],
            &["<<", ">>"],
            &["+", "-"],
            &["*", "/", "%"],
        ];
        if level >= LEVELS.len() {
            return self.power();
        }
        let mut v = self.binary(level + 1)?;
        'outer: loop {
            self.ws();
            for op in LEVELS[level] {
                // don't take `|` of `||`, `&` of `&&`, `<` of `<<`…
                let n = op.len();
                let next = self.s.get(self.i + n).copied();
                let longer = matches!(
                    (*op, next),
                    ("|", Some('|'))
                        | ("&", Some('&'))
                        | ("<", Some('<'))
                        | (">", Some('>'))
                        | ("<", Some('='))
                        | (">", Some('='))
                        | ("*", Some('*'))
                );
                if !longer && self.eat(op) {
                    let r = self.binary(level + 1)?;
                    v = match *op {
                        "||" => i64::from(v != 0 || r != 0),
                        "&&" => i64::from(v != 0 && r != 0),
                        "|" => v | r,
                        "^" => v ^ r,
                        "&" => v & r,
                        "==" => i64::from(v == r),
                        "!=" => i64::from(v != r),
                        "<=" => i64::from(v <= r),
                        ">=" => i64::from(v >= r),
                        "<" => i64::from(v < r),
                        ">" => i64::from(v > r),
                        "<<" => v.wrapping_shl((r & 63) as u32),
                        ">>" => v.wrapping_shr((r & 63) as u32),
                        "+" => v.wrapping_add(r),
                        "-" => v.wrapping_sub(r),
                        "*" => v.wrapping_mul(r),
                        "/" | "%" => {
                            if r == 0 {
                                return Err("division by 0 (error token is \"0\")".into());
                            }
                            if *op == "/" {
                                v.wrapping_div(r)
                            } else {
                                v.wrapping_rem(r)
                            }
                        }
                        _ => v,
                    };
                    continue 'outer;
                }
            }
            break;
        }
        Ok(v)
    }
    fn power(&mut self) -> Result<i64, String> {
        let b = self.unary()?;
        if self.eat("**") {
            self.deeper()?;
            let e = self.power()?;
            self.depth -= 1;
            if e < 0 {
                return Err("exponent less than 0 (error token is \"0\")".into());
            }
            return Ok(b.wrapping_pow(e.min(u32::MAX as i64) as u32));
        }
        Ok(b)
    }
    fn unary(&mut self) -> Result<i64, String> {
        self.ws();
        for (op, f) in [("!", 0), ("~", 1), ("-", 2), ("+", 3)] {
            let is_incdec = (op == "-" && self.s.get(self.i + 1) == Some(&'-'))
                || (op == "+" && self.s.get(self.i + 1) == Some(&'+'));
            if !is_incdec && self.eat(op) {
                self.deeper()?;
                let v = self.unary()?;
                self.depth -= 1;
                return Ok(match f {
                    0 => i64::from(v == 0),
                    1 => !v,
                    2 => v.wrapping_neg(),
                    _ => v,
                });
            }
        }
        self.primary()
    }
    fn primary(&mut self) -> Result<i64, String> {
        self.ws();
        if self.eat("(") {
            self.deeper()?;
            let v = self.assign()?;
            self.depth -= 1;
            if !self.eat(")") {
                return Err(self.err());
            }
            return Ok(v);
        }
        let pre = if self.eat("++") {
            1
        } else if self.eat("--") {
            -1
        } else {
            0
        };
        self.ws();
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '#')
        {
            self.i += 1;
        }
        let tok: String = self.s[start..self.i].iter().collect();
        if tok.is_empty() {
            return Err(self.err());
        }
        if tok.starts_with(|c: char| c.is_ascii_digit()) {
            return parse_int(&tok)
                .ok_or_else(|| format!("value too great for base (error token is \"{tok}\")"));
        }
        let mut v = self.var(&tok);
        if pre != 0 {
            v = v.wrapping_add(pre);
            self.sh.set_var(&tok, &v.to_string());
            return Ok(v);
        }
        if self.eat("++") {
            self.sh.set_var(&tok, &v.wrapping_add(1).to_string());
        } else if self.eat("--") {
            self.sh.set_var(&tok, &v.wrapping_sub(1).to_string());
        }
        Ok(v)
    }
}

/// An integer as bash reads one: decimal, `0x` hex, leading-zero octal, `base#digits`.
fn parse_int(t: &str) -> Option<i64> {
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let v = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()?
    } else if let Some((b, d)) = t.split_once('#') {
        let base: u32 = b.parse().ok()?;
        if !(2..=36).contains(&base) {
            return None;
        }
        i64::from_str_radix(d, base).ok()?
    } else if t.len() > 1 && t.starts_with('0') {
        i64::from_str_radix(&t[1..], 8).ok()?
    } else {
        t.parse().ok()?
    };
    Some(if neg { v.wrapping_neg() } else { v })
}
