//! The command-line parser: bash's grammar, as much of it as attackers use.
//!
//! Words with single, double and `$'…'` quotes and backslash escapes; `$VAR`, `${VAR}`,
//! `${VAR:-word}` (and `:=`, `:+`, `#`), `$(…)`, backticks and `$((…))`, all kept unexpanded
//! in the tree (they are expanded when the command runs, against the session's state, as bash
//! does); `~`; `;`, `&`, `&&`, `||`, `|`, `|&`, `!`; redirections (`<`, `>`, `>>`, `>|`, `2>`,
//! `2>&1`, `&>`, `&>>`, `<<<`, here-documents); `#` comments; `( … )`, `{ …; }`, `if`, `for`,
//! `while` and `until`. What it does not know (functions, `case`, brace expansion) is either
//! a syntax error or a plain word, as it would be to a shell that lacks it.
//!
//! It is bounded whatever the input: one pass over the characters, and nesting (`$(`, `(`,
//! `{`, backticks, compound commands) capped at [`MAX_DEPTH`] so the recursion cannot grow
//! the stack. Errors read as bash's.

use std::fmt;

/// Deepest nesting of `$(`, backticks, `( )`, `{ }` and compound commands.
pub const MAX_DEPTH: usize = 16;

/// A list of commands: what one line (or one script) holds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Script {
    pub items: Vec<Item>,
}

/// One command of a list, with its terminator: `&` runs it in the background.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub chain: AndOr,
    pub background: bool,
}

/// Pipelines joined by `&&` and `||`.
#[derive(Debug, Clone, PartialEq)]
pub struct AndOr {
    pub first: Pipeline,
    pub rest: Vec<(Conn, Pipeline)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conn {
    And,
    Or,
}

/// Commands joined by `|`; `!` negates the status.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    pub bang: bool,
    pub cmds: Vec<Command>,
    /// Per command but the last: `|&` (stderr goes down the pipe too).
    pub with_err: Vec<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Simple(Simple),
    Compound(Box<Compound>, Vec<Redir>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Compound {
    /// `{ list; }`
    Group(Script),
    /// `( list )`
    Subshell(Script),
    /// `if c; then a; elif c2; then b; else d; fi`
    If {
        arms: Vec<(Script, Script)>,
        otherwise: Option<Script>,
    },
    /// `for v in words; do body; done` (`items` None: `for v; do`, the positional parameters)
    For {
        var: String,
        items: Option<Vec<Word>>,
        body: Script,
    },
    /// `while c; do body; done`, or `until`
    While {
        until: bool,
        cond: Script,
        body: Script,
    },
}

/// Assignments, words and redirections of one simple command.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Simple {
    pub assigns: Vec<Assign>,
    pub words: Vec<Word>,
    pub redirs: Vec<Redir>,
}

/// `NAME=value` (or `NAME+=value`).
#[derive(Debug, Clone, PartialEq)]
pub struct Assign {
    pub name: String,
    pub append: bool,
    pub value: Word,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Redir {
    /// The descriptor redirected (`2>`: 2); None for the operator's default.
    pub fd: Option<u32>,
    pub op: RedirOp,
    pub target: Word,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirOp {
    /// `<`
    In,
    /// `>` and `>|`
    Out,
    /// `>>`
    Append,
    /// `&>` (stdout and stderr)
    OutErr,
    /// `&>>`
    AppendOutErr,
    /// `>&N` (or `>&-`; `>&file` is `&>file`)
    DupOut,
    /// `<&N`
    DupIn,
    /// `<<< word`
    HereString,
    /// `<< DELIM`: the target is the body
    HereDoc,
    /// `<>`
    ReadWrite,
}

/// A word before expansion: its parts in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Word {
    pub parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    /// Unquoted text (split never, globbed yes).
    Lit(String),
    /// Quoted text (`'…'`, `$'…'`, `\x`): taken as is.
    Quoted(String),
    /// `"…"`: its parts expand but are neither split nor globbed.
    Double(Vec<Part>),
    /// `$name`, `${name}`, `${name:-word}`…
    Var(Box<VarExp>),
    /// `$(…)` or backticks.
    Subst(Box<Script>),
    /// `$((…))`: the expression's text.
    Arith(String),
    /// A leading `~` or `~user`.
    Tilde(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct VarExp {
    pub name: String,
    pub op: VarOp,
}

#[derive(Debug, Clone, PartialEq)]
pub enum VarOp {
    Plain,
    /// `${#name}`
    Length,
    /// `${name:-w}` (colon: also when empty)
    Default(bool, Word),
    /// `${name:=w}`
    Assign(bool, Word),
    /// `${name:+w}`
    Alt(bool, Word),
    /// `${name:?w}`
    Error(bool, Word),
    /// What bash would call a bad substitution: the text between the braces.
    Bad(String),
}

/// Why a line does not parse; `Display` reads as bash's message (without its `bash: `).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// A quote, backtick, `$(` or `${` left open: the character bash looked for.
    Unclosed(char),
    /// A token where none can be (`newline` at the end of the line).
    Unexpected(String),
    /// The line ended inside a construct (`a &&`, `if x; then`).
    UnexpectedEnd,
    /// A here-document is still open: an interactive shell waits for more lines.
    HereDocPending,
    /// Nesting deeper than [`MAX_DEPTH`].
    TooDeep,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Unclosed(c) => {
                write!(f, "unexpected EOF while looking for matching `{c}'")
            }
            ParseError::Unexpected(t) => write!(f, "syntax error near unexpected token `{t}'"),
            ParseError::UnexpectedEnd | ParseError::HereDocPending => {
                write!(f, "syntax error: unexpected end of file")
            }
            ParseError::TooDeep => write!(f, "expression recursion level exceeded"),
        }
    }
}

impl std::error::Error for ParseError {}

/// Parses one command line (or a whole `-c` string: newlines separate commands).
pub fn parse(line: &str) -> Result<Script, ParseError> {
    let mut p = Parser::new(line, 0);
    p.script_to_end()
}

/// A parser over one text; [`Parser::next_command`] gives a script's commands one line at a
/// time, so a syntax error on line 40 does not stop lines 1 to 39 (as in bash).
pub struct Parser {
    s: Vec<char>,
    i: usize,
    depth: usize,
    /// Here-documents: a newline at `.0` resumes at `.1` (after the bodies).
    skips: Vec<(usize, usize)>,
    /// Set when a here-document ran into the end of the text.
    heredoc_open: bool,
}

/// Where a list ends.
#[derive(Clone, Copy)]
enum End<'k> {
    /// The end of the text (or, for `next_command`, the end of a line).
    Top { line: bool },
    /// `)`
    Paren,
    /// One of these reserved words.
    Words(&'k [&'static str]),
}

const KEYWORDS: &[&str] = &[
    "if", "then", "elif", "else", "fi", "for", "while", "until", "do", "done", "{", "}", "!", "in",
];

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\r'
}

fn is_meta(c: char) -> bool {
    is_blank(c) || matches!(c, '\n' | ';' | '&' | '|' | '<' | '>' | '(' | ')')
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Is `s` a valid shell variable name?
pub fn is_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(is_name_start) && c.all(is_name_char)
}

type R<T> = Result<T, ParseError>;

impl Parser {
    pub fn new(text: &str, depth: usize) -> Parser {
        Parser {
            s: text.chars().collect(),
            i: 0,
            depth,
            skips: Vec::new(),
            heredoc_open: false,
        }
    }

    /// The 1-based line the parser is on (for a script's error messages).
    pub fn line_no(&self) -> usize {
        1 + self.s[..self.i.min(self.s.len())]
            .iter()
            .filter(|&&c| c == '\n')
            .count()
    }

    /// Everything left is blanks, newlines and comments.
    pub fn at_end(&mut self) -> bool {
        loop {
            self.skip_blanks();
            match self.peek() {
                Some('\n') => self.newline(),
                None => return true,
                _ => return false,
            }
        }
    }

    /// The next line's commands (a script run line by line); None at the end. After an
    /// error the rest of the text is skipped.
    pub fn next_command(&mut self) -> Option<R<Script>> {
        if self.at_end() {
            return None;
        }
        let r = self.list(End::Top { line: true });
        if r.is_err() {
            self.i = self.s.len();
        } else if self.heredoc_open {
            // a here-document cut by the end of a script is taken as it is (bash warns)
            self.heredoc_open = false;
        }
        Some(r)
    }

    /// A here-document ran into the end of the text.
    pub fn heredoc_open(&self) -> bool {
        self.heredoc_open
    }

    fn script_to_end(&mut self) -> R<Script> {
        let s = self.list(End::Top { line: false })?;
        if self.heredoc_open {
            return Err(ParseError::HereDocPending);
        }
        Ok(s)
    }

    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    fn peek_at(&self, k: usize) -> Option<char> {
        self.s.get(self.i + k).copied()
    }

    fn starts(&self, t: &str) -> bool {
        t.chars()
            .enumerate()
            .all(|(j, c)| self.s.get(self.i + j) == Some(&c))
    }

    fn skip_blanks(&mut self) {
        while let Some(c) = self.peek() {
            if is_blank(c) {
                self.i += 1;
            } else if c == '\\' && self.peek_at(1) == Some('\n') {
                self.i += 2;
            } else if c == '#' {
                while self.peek().is_some_and(|c| c != '\n') {
                    self.i += 1;
                }
            } else {
                break;
            }
        }
    }

    /// Consumes the newline at `self.i`, jumping over here-document bodies.
    fn newline(&mut self) {
        let at = self.i;
        self.i += 1;
        if let Some(k) = self.skips.iter().position(|&(nl, _)| nl == at) {
            self.i = self.skips[k].1;
            self.skips.swap_remove(k);
        }
    }

    fn skip_newlines(&mut self) {
        loop {
            self.skip_blanks();
            if self.peek() == Some('\n') {
                self.newline();
            } else {
                break;
            }
        }
    }

    /// The reserved word at the cursor (after blanks), if any.
    fn keyword(&mut self) -> Option<&'static str> {
        self.skip_blanks();
        KEYWORDS
            .iter()
            .copied()
            .find(|kw| self.starts(kw) && self.s.get(self.i + kw.len()).is_none_or(|&c| is_meta(c)))
    }

    fn enter(&mut self) -> R<()> {
        if self.depth >= MAX_DEPTH {
            return Err(ParseError::TooDeep);
        }
        self.depth += 1;
        Ok(())
    }

    /// The operator at the cursor, longest first.
    fn op(&self) -> Option<&'static str> {
        const OPS: &[&str] = &[
            "&>>", "<<<", "<<-", "&&", "||", ";;", "|&", "&>", ">>", ">|", ">&", "<<", "<&", "<>",
            "<", ">", "|", "&", ";", "(", ")", "\n",
        ];
        OPS.iter().copied().find(|o| self.starts(o))
    }

    /// The token bash would name in an error at the cursor.
    fn token_here(&mut self) -> String {
        self.skip_blanks();
        match self.op() {
            Some("\n") | None => "newline".into(),
            Some(o) => o.into(),
        }
    }

    fn unexpected(&mut self) -> ParseError {
        if self.peek().is_none() {
            ParseError::UnexpectedEnd
        } else {
            ParseError::Unexpected(self.token_here())
        }
    }

    fn list(&mut self, end: End) -> R<Script> {
        let mut items = Vec::new();
        loop {
            match end {
                End::Top { line: true } => {
                    self.skip_blanks();
                    if self.peek() == Some('\n') {
                        self.newline();
                        break;
                    }
                }
                _ => self.skip_newlines(),
            }
            if self.at_list_end(end)? {
                break;
            }
            let chain = self.and_or()?;
            self.skip_blanks();
            let c = self.peek();
            match c {
                Some(';') if !self.starts(";;") => {
                    self.i += 1;
                    items.push(Item {
                        chain,
                        background: false,
                    });
                }
                Some('&') if !self.starts("&&") && !self.starts("&>") => {
                    self.i += 1;
                    items.push(Item {
                        chain,
                        background: true,
                    });
                }
                Some('\n') => {
                    self.newline();
                    items.push(Item {
                        chain,
                        background: false,
                    });
                    if matches!(end, End::Top { line: true }) {
                        break;
                    }
                }
                _ => {
                    items.push(Item {
                        chain,
                        background: false,
                    });
                    if !self.at_list_end(end)? {
                        return Err(self.unexpected());
                    }
                    break;
                }
            }
        }
        Ok(Script { items })
    }

    /// At the end of a list of kind `end`? Errors on a closer that belongs to no opener.
    fn at_list_end(&mut self, end: End) -> R<bool> {
        self.skip_blanks();
        let Some(c) = self.peek() else {
            return match end {
                End::Top { .. } => Ok(true),
                End::Paren => Err(ParseError::Unclosed(')')),
                End::Words(_) => Err(ParseError::UnexpectedEnd),
            };
        };
        if c == ')' {
            return match end {
                End::Paren => Ok(true),
                _ => Err(ParseError::Unexpected(")".into())),
            };
        }
        if let Some(kw) = self.keyword() {
            if let End::Words(ws) = end {
                if ws.contains(&kw) {
                    return Ok(true);
                }
            }
            if matches!(kw, "then" | "elif" | "else" | "fi" | "do" | "done" | "}") {
                return Err(ParseError::Unexpected(kw.into()));
            }
        }
        if matches!(end, End::Top { .. }) && (c == ';' || c == '&' || c == '|') {
            return Err(ParseError::Unexpected(self.token_here()));
        }
        Ok(false)
    }

    fn and_or(&mut self) -> R<AndOr> {
        let first = self.pipeline()?;
        let mut rest = Vec::new();
        loop {
            self.skip_blanks();
            let conn = if self.starts("&&") {
                Conn::And
            } else if self.starts("||") {
                Conn::Or
            } else {
                break;
            };
            self.i += 2;
            self.skip_newlines();
            rest.push((conn, self.pipeline()?));
        }
        Ok(AndOr { first, rest })
    }

    fn pipeline(&mut self) -> R<Pipeline> {
        let mut bang = false;
        while self.keyword() == Some("!") {
            self.i += 1;
            bang = !bang;
        }
        let mut cmds = vec![self.command()?];
        let mut with_err = Vec::new();
        loop {
            self.skip_blanks();
            if self.starts("||") || !self.starts("|") {
                break;
            }
            let both = self.starts("|&");
            self.i += if both { 2 } else { 1 };
            with_err.push(both);
            self.skip_newlines();
            cmds.push(self.command()?);
        }
        Ok(Pipeline {
            bang,
            cmds,
            with_err,
        })
    }

    fn command(&mut self) -> R<Command> {
        self.skip_blanks();
        if self.peek().is_none() {
            return Err(ParseError::UnexpectedEnd);
        }
        let compound = match self.keyword() {
            Some("{") => {
                self.enter()?;
                self.i += 1;
                let body = self.list(End::Words(&["}"]))?;
                self.expect_word("}")?;
                self.depth -= 1;
                Some(Compound::Group(body))
            }
            Some("if") => {
                self.enter()?;
                self.i += 2;
                let mut arms = Vec::new();
                let mut otherwise = None;
                loop {
                    let cond = self.list(End::Words(&["then"]))?;
                    self.expect_word("then")?;
                    let body = self.list(End::Words(&["elif", "else", "fi"]))?;
                    arms.push((cond, body));
                    match self.keyword() {
                        Some("elif") => self.i += 4,
                        Some("else") => {
                            self.i += 4;
                            otherwise = Some(self.list(End::Words(&["fi"]))?);
                            self.expect_word("fi")?;
                            break;
                        }
                        _ => {
                            self.expect_word("fi")?;
                            break;
                        }
                    }
                }
                self.depth -= 1;
                Some(Compound::If { arms, otherwise })
            }
            Some(kw @ ("while" | "until")) => {
                self.enter()?;
                self.i += kw.len();
                let cond = self.list(End::Words(&["do"]))?;
                self.expect_word("do")?;
                let body = self.list(End::Words(&["done"]))?;
                self.expect_word("done")?;
                self.depth -= 1;
                Some(Compound::While {
                    until: kw == "until",
                    cond,
                    body,
                })
            }
            Some("for") => {
                self.enter()?;
                self.i += 3;
                self.skip_blanks();
                let start = self.i;
                while self.peek().is_some_and(is_name_char) {
                    self.i += 1;
                }
                let var: String = self.s[start..self.i].iter().collect();
                if !is_name(&var) {
                    return Err(self.unexpected());
                }
                self.skip_blanks();
                let mut items = None;
                if self.peek() == Some(';') {
                    self.i += 1;
                }
                self.skip_newlines();
                if self.keyword() == Some("in") {
                    self.i += 2;
                    let mut ws = Vec::new();
                    loop {
                        self.skip_blanks();
                        match self.peek() {
                            Some(';') | Some('\n') => {
                                if self.peek() == Some('\n') {
                                    self.newline();
                                } else {
                                    self.i += 1;
                                }
                                break;
                            }
                            None => return Err(ParseError::UnexpectedEnd),
                            Some(c) if is_meta(c) => return Err(self.unexpected()),
                            _ => ws.push(self.word()?),
                        }
                    }
                    items = Some(ws);
                }
                self.skip_newlines();
                self.expect_word("do")?;
                let body = self.list(End::Words(&["done"]))?;
                self.expect_word("done")?;
                self.depth -= 1;
                Some(Compound::For { var, items, body })
            }
            Some(kw @ ("then" | "elif" | "else" | "fi" | "do" | "done" | "}")) => {
                return Err(ParseError::Unexpected(kw.into()));
            }
            _ if self.peek() == Some('(') => {
                self.enter()?;
                self.i += 1;
                let body = self.list(End::Paren)?;
                if self.peek() != Some(')') {
                    return Err(ParseError::Unclosed(')'));
                }
                self.i += 1;
                self.depth -= 1;
                Some(Compound::Subshell(body))
            }
            _ => None,
        };
        if let Some(c) = compound {
            let mut redirs = Vec::new();
            loop {
                self.skip_blanks();
                match self.redir()? {
                    Some(r) => redirs.push(r),
                    None => break,
                }
            }
            self.skip_blanks();
            if let Some(c) = self.peek() {
                if !is_meta(c) || c == '(' {
                    return Err(ParseError::Unexpected(self.word_text_here()));
                }
            }
            return Ok(Command::Compound(Box::new(c), redirs));
        }
        self.simple().map(Command::Simple)
    }

    /// The raw word at the cursor (for error messages).
    fn word_text_here(&self) -> String {
        self.s[self.i..]
            .iter()
            .take_while(|&&c| !is_meta(c))
            .take(64)
            .collect()
    }

    fn expect_word(&mut self, kw: &str) -> R<()> {
        self.skip_newlines();
        if self.keyword() == Some(kw) || (kw == "}" && self.starts("}")) {
            self.i += kw.len();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn simple(&mut self) -> R<Simple> {
        let mut cmd = Simple::default();
        loop {
            self.skip_blanks();
            let Some(c) = self.peek() else { break };
            if let Some(r) = self.redir()? {
                cmd.redirs.push(r);
                continue;
            }
            if c == '(' && !cmd.words.is_empty() {
                return Err(ParseError::Unexpected("(".into()));
            }
            if is_meta(c) {
                break;
            }
            let w = self.word()?;
            if cmd.words.is_empty() {
                if let Some(a) = as_assign(&w) {
                    cmd.assigns.push(a);
                    continue;
                }
                if w.parts == [Part::Lit("[[".into())] {
                    cmd.words.push(w);
                    self.test_words(&mut cmd.words)?;
                    continue;
                }
            }
            cmd.words.push(w);
        }
        if cmd.words.is_empty() && cmd.assigns.is_empty() && cmd.redirs.is_empty() {
            return Err(self.unexpected());
        }
        Ok(cmd)
    }

    /// The words of `[[ … ]]` up to and with `]]`: `&&`, `||`, `<`, `>`, `(`, `)` and `!`
    /// are words there, not operators.
    fn test_words(&mut self, words: &mut Vec<Word>) -> R<()> {
        loop {
            self.skip_blanks();
            let Some(c) = self.peek() else {
                return Err(ParseError::UnexpectedEnd);
            };
            if c == '\n' || c == ';' {
                return Err(ParseError::Unexpected(self.token_here()));
            }
            let op = ["&&", "||", "<", ">", "(", ")"]
                .into_iter()
                .find(|o| self.starts(o));
            if let Some(o) = op {
                self.i += o.len();
                words.push(Word {
                    parts: vec![Part::Lit(o.into())],
                });
                continue;
            }
            if is_meta(c) {
                return Err(ParseError::Unexpected(self.token_here()));
            }
            let w = self.word()?;
            let end = w.parts == [Part::Lit("]]".into())];
            words.push(w);
            if end {
                return Ok(());
            }
        }
    }

    /// A redirection at the cursor, if one starts here.
    fn redir(&mut self) -> R<Option<Redir>> {
        let start = self.i;
        let mut fd = None;
        let mut k = self.i;
        while self.s.get(k).is_some_and(|c| c.is_ascii_digit()) {
            k += 1;
        }
        if k > self.i && matches!(self.s.get(k), Some('<') | Some('>')) {
            let digits: String = self.s[self.i..k].iter().collect();
            fd = Some(digits.parse::<u32>().unwrap_or(u32::MAX));
            self.i = k;
        }
        let op = match self.op() {
            Some("<") => RedirOp::In,
            Some(">") | Some(">|") => RedirOp::Out,
            Some(">>") => RedirOp::Append,
            Some("&>") if fd.is_none() => RedirOp::OutErr,
            Some("&>>") if fd.is_none() => RedirOp::AppendOutErr,
            Some(">&") => RedirOp::DupOut,
            Some("<&") => RedirOp::DupIn,
            Some("<<<") => RedirOp::HereString,
            Some("<<") | Some("<<-") => RedirOp::HereDoc,
            Some("<>") => RedirOp::ReadWrite,
            _ => {
                self.i = start;
                return Ok(None);
            }
        };
        let strip = self.starts("<<-");
        self.i += match self.op() {
            Some(o) => o.chars().count(),
            None => 0,
        };
        self.skip_blanks();
        match self.peek() {
            None => return Err(ParseError::Unexpected("newline".into())),
            Some(c) if is_meta(c) => return Err(ParseError::Unexpected(self.token_here())),
            _ => {}
        }
        if op == RedirOp::HereDoc {
            let target = self.heredoc(strip)?;
            return Ok(Some(Redir { fd, op, target }));
        }
        let target = self.word()?;
        Ok(Some(Redir { fd, op, target }))
    }

    /// `<< DELIM`: reads the body from the line after this one, and arranges for the parser
    /// to jump over it when it reaches the end of this line.
    fn heredoc(&mut self, strip: bool) -> R<Word> {
        let delim_word = self.word()?;
        let mut quoted = false;
        let mut delim = String::new();
        for p in &delim_word.parts {
            match p {
                Part::Lit(s) => delim.push_str(s),
                Part::Quoted(s) => {
                    quoted = true;
                    delim.push_str(s);
                }
                Part::Double(ps) => {
                    quoted = true;
                    for q in ps {
                        if let Part::Lit(s) = q {
                            delim.push_str(s);
                        }
                    }
                }
                _ => {}
            }
        }
        // the body starts after this line's newline, or after the bodies already read for it
        let nl = match self.s[self.i..].iter().position(|&c| c == '\n') {
            Some(k) => self.i + k,
            None => {
                self.heredoc_open = true;
                return Ok(Word::default());
            }
        };
        let mut pos = match self.skips.iter().find(|s| s.0 == nl) {
            Some(&(_, resume)) => resume,
            None => nl + 1,
        };
        let mut body = String::new();
        let mut closed = false;
        while pos < self.s.len() {
            let line_end = self.s[pos..]
                .iter()
                .position(|&c| c == '\n')
                .map_or(self.s.len(), |k| pos + k);
            let mut line: &[char] = &self.s[pos..line_end];
            if strip {
                while line.first() == Some(&'\t') {
                    line = &line[1..];
                }
            }
            pos = (line_end + 1).min(self.s.len());
            if line.iter().copied().eq(delim.chars()) {
                closed = true;
                break;
            }
            body.extend(line.iter());
            body.push('\n');
        }
        if !closed {
            self.heredoc_open = true;
        }
        match self.skips.iter_mut().find(|s| s.0 == nl) {
            Some(s) => s.1 = pos,
            None => self.skips.push((nl, pos)),
        }
        if quoted {
            return Ok(Word {
                parts: vec![Part::Quoted(body)],
            });
        }
        // unquoted: $ expansions, backticks and \$ \` \\ as in double quotes
        let mut sub = Parser::new(&body, self.depth);
        let parts = sub.dq_parts(None)?;
        Ok(Word {
            parts: vec![Part::Double(parts)],
        })
    }

    /// One word: until an unquoted metacharacter.
    fn word(&mut self) -> R<Word> {
        let mut parts: Vec<Part> = Vec::new();
        let mut lit = String::new();
        while let Some(c) = self.peek() {
            if is_meta(c) {
                break;
            }
            match c {
                '\\' => {
                    self.i += 1;
                    match self.peek() {
                        None => {}
                        Some('\n') => self.i += 1,
                        Some(n) => {
                            self.i += 1;
                            flush(&mut lit, &mut parts);
                            parts.push(Part::Quoted(n.to_string()));
                        }
                    }
                }
                '\'' => {
                    flush(&mut lit, &mut parts);
                    self.i += 1;
                    let start = self.i;
                    while self.peek().is_some_and(|c| c != '\'') {
                        self.i += 1;
                    }
                    if self.peek().is_none() {
                        return Err(ParseError::Unclosed('\''));
                    }
                    parts.push(Part::Quoted(self.s[start..self.i].iter().collect()));
                    self.i += 1;
                }
                '"' => {
                    flush(&mut lit, &mut parts);
                    self.i += 1;
                    let inner = self.dq_parts(Some('"'))?;
                    parts.push(Part::Double(inner));
                }
                '$' => {
                    flush(&mut lit, &mut parts);
                    if self.peek_at(1) == Some('\'') {
                        self.i += 2;
                        parts.push(Part::Quoted(self.ansi_c()?));
                    } else if self.peek_at(1) == Some('"') {
                        self.i += 2;
                        let inner = self.dq_parts(Some('"'))?;
                        parts.push(Part::Double(inner));
                    } else {
                        match self.dollar()? {
                            Some(p) => parts.push(p),
                            None => lit.push('$'),
                        }
                    }
                }
                '`' => {
                    flush(&mut lit, &mut parts);
                    parts.push(self.backtick()?);
                }
                '~' if parts.is_empty() && lit.is_empty() => {
                    self.i += 1;
                    let start = self.i;
                    while self.peek().is_some_and(|c| {
                        !is_meta(c)
                            && c != '/'
                            && (is_name_char(c) || c == '-' || c == '.' || c == '+')
                    }) {
                        self.i += 1;
                    }
                    let user: String = self.s[start..self.i].iter().collect();
                    if self.peek().is_none_or(|c| is_meta(c) || c == '/') {
                        parts.push(Part::Tilde(user));
                    } else {
                        lit.push('~');
                        lit.push_str(&user);
                    }
                }
                _ => {
                    lit.push(c);
                    self.i += 1;
                }
            }
        }
        flush(&mut lit, &mut parts);
        Ok(Word { parts })
    }

    /// The inside of double quotes (up to `close`, consumed), or a here-document body (no
    /// `close`: to the end).
    fn dq_parts(&mut self, close: Option<char>) -> R<Vec<Part>> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        loop {
            let Some(c) = self.peek() else {
                if let Some(q) = close {
                    return Err(ParseError::Unclosed(q));
                }
                break;
            };
            if Some(c) == close {
                self.i += 1;
                break;
            }
            match c {
                '\\' => match self.peek_at(1) {
                    Some(n @ ('$' | '`' | '"' | '\\')) if n != '"' || close.is_some() => {
                        lit.push(n);
                        self.i += 2;
                    }
                    Some('\n') => self.i += 2,
                    _ => {
                        lit.push('\\');
                        self.i += 1;
                    }
                },
                '$' => {
                    flush(&mut lit, &mut parts);
                    match self.dollar()? {
                        Some(p) => parts.push(p),
                        None => lit.push('$'),
                    }
                }
                '`' => {
                    flush(&mut lit, &mut parts);
                    parts.push(self.backtick()?);
                }
                _ => {
                    lit.push(c);
                    self.i += 1;
                }
            }
        }
        flush(&mut lit, &mut parts);
        Ok(parts)
    }

    /// `$'…'` after the opening quote: ANSI-C escapes.
    fn ansi_c(&mut self) -> R<String> {
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(ParseError::Unclosed('\''));
            };
            self.i += 1;
            match c {
                '\'' => break,
                '\\' => {
                    let Some(e) = self.peek() else {
                        return Err(ParseError::Unclosed('\''));
                    };
                    self.i += 1;
                    match e {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        'a' => out.push('\x07'),
                        'b' => out.push('\x08'),
                        'e' | 'E' => out.push('\x1b'),
                        'f' => out.push('\x0c'),
                        'v' => out.push('\x0b'),
                        '\\' | '\'' | '"' | '?' => out.push(e),
                        'x' => {
                            let v = self.hex_digits(2);
                            match v {
                                Some(v) => out.push(byte_char(v as u8)),
                                None => out.push_str("\\x"),
                            }
                        }
                        'u' | 'U' => {
                            let n = if e == 'u' { 4 } else { 8 };
                            match self.hex_digits(n).and_then(char::from_u32) {
                                Some(ch) => out.push(ch),
                                None => {
                                    out.push('\\');
                                    out.push(e);
                                }
                            }
                        }
                        '0'..='7' => {
                            let mut v = e.to_digit(8).unwrap_or(0);
                            for _ in 0..2 {
                                match self.peek().and_then(|c| c.to_digit(8)) {
                                    Some(d) => {
                                        v = v * 8 + d;
                                        self.i += 1;
                                    }
                                    None => break,
                                }
                            }
                            out.push(byte_char((v & 0xff) as u8));
                        }
                        other => {
                            out.push('\\');
                            out.push(other);
                        }
                    }
                }
                other => out.push(other),
            }
        }
        Ok(out)
    }

    fn hex_digits(&mut self, max: usize) -> Option<u32> {
        let mut v: u32 = 0;
        let mut n = 0;
        while n < max {
            match self.peek().and_then(|c| c.to_digit(16)) {
                Some(d) => {
                    v = v.wrapping_mul(16).wrapping_add(d);
                    self.i += 1;
                    n += 1;
                }
                None => break,
            }
        }
        (n > 0).then_some(v)
    }

    /// After `$`: the expansion it starts, or None for a lone `$`.
    fn dollar(&mut self) -> R<Option<Part>> {
        match self.peek_at(1) {
            Some('(') if self.peek_at(2) == Some('(') => {
                // $(( expr )): up to the matching ))
                self.i += 3;
                let start = self.i;
                let mut depth = 0usize;
                loop {
                    match self.peek() {
                        None => return Err(ParseError::Unclosed(')')),
                        Some('(') => depth += 1,
                        Some(')') if depth == 0 => {
                            if self.peek_at(1) == Some(')') {
                                let text: String = self.s[start..self.i].iter().collect();
                                self.i += 2;
                                return Ok(Some(Part::Arith(text)));
                            }
                            return Err(ParseError::Unclosed(')'));
                        }
                        Some(')') => depth -= 1,
                        _ => {}
                    }
                    self.i += 1;
                }
            }
            Some('(') => {
                self.enter()?;
                self.i += 2;
                let body = self.list(End::Paren)?;
                if self.peek() != Some(')') {
                    return Err(ParseError::Unclosed(')'));
                }
                self.i += 1;
                self.depth -= 1;
                Ok(Some(Part::Subst(Box::new(body))))
            }
            Some('{') => {
                self.enter()?;
                self.i += 2;
                let r = self.braced();
                self.depth -= 1;
                r.map(Some)
            }
            Some(c) if is_name_start(c) => {
                self.i += 1;
                let start = self.i;
                while self.peek().is_some_and(is_name_char) {
                    self.i += 1;
                }
                let name: String = self.s[start..self.i].iter().collect();
                Ok(Some(Part::Var(Box::new(VarExp {
                    name,
                    op: VarOp::Plain,
                }))))
            }
            Some(c)
                if c.is_ascii_digit() || matches!(c, '?' | '$' | '#' | '@' | '*' | '!' | '-') =>
            {
                self.i += 2;
                Ok(Some(Part::Var(Box::new(VarExp {
                    name: c.to_string(),
                    op: VarOp::Plain,
                }))))
            }
            _ => {
                self.i += 1;
                Ok(None)
            }
        }
    }

    /// `${…}` after the brace.
    fn braced(&mut self) -> R<Part> {
        let start = self.i;
        let length = self.peek() == Some('#') && self.peek_at(1).is_some_and(|c| c != '}');
        if length {
            self.i += 1;
        }
        let name_start = self.i;
        match self.peek() {
            Some(c) if is_name_start(c) => {
                while self.peek().is_some_and(is_name_char) {
                    self.i += 1;
                }
            }
            Some(c) if c.is_ascii_digit() => {
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.i += 1;
                }
            }
            Some('?' | '$' | '#' | '@' | '*' | '!' | '-') => self.i += 1,
            _ => {}
        }
        let name: String = self.s[name_start..self.i].iter().collect();
        if self.peek() == Some('}') && !name.is_empty() {
            self.i += 1;
            let op = if length { VarOp::Length } else { VarOp::Plain };
            return Ok(Part::Var(Box::new(VarExp { name, op })));
        }
        let colon = self.peek() == Some(':');
        let k = usize::from(colon);
        let kind = self.peek_at(k);
        if !length && !name.is_empty() && matches!(kind, Some('-' | '=' | '+' | '?')) {
            self.i += k + 1;
            let word = self.brace_word()?;
            let op = match kind {
                Some('-') => VarOp::Default(colon, word),
                Some('=') => VarOp::Assign(colon, word),
                Some('+') => VarOp::Alt(colon, word),
                _ => VarOp::Error(colon, word),
            };
            return Ok(Part::Var(Box::new(VarExp { name, op })));
        }
        // anything else is kept as a bad substitution (reported when expanded)
        let mut depth = 0usize;
        loop {
            match self.peek() {
                None => return Err(ParseError::Unclosed('}')),
                Some('{') => depth += 1,
                Some('}') if depth == 0 => break,
                Some('}') => depth -= 1,
                _ => {}
            }
            self.i += 1;
        }
        let text: String = self.s[start..self.i].iter().collect();
        self.i += 1;
        Ok(Part::Var(Box::new(VarExp {
            name,
            op: VarOp::Bad(format!("${{{text}}}")),
        })))
    }

    /// The word of `${name:-word}`, up to the closing brace (consumed).
    fn brace_word(&mut self) -> R<Word> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(ParseError::Unclosed('}'));
            };
            match c {
                '}' => {
                    self.i += 1;
                    break;
                }
                '\\' => {
                    self.i += 1;
                    if let Some(n) = self.peek() {
                        self.i += 1;
                        flush(&mut lit, &mut parts);
                        parts.push(Part::Quoted(n.to_string()));
                    }
                }
                '\'' => {
                    flush(&mut lit, &mut parts);
                    self.i += 1;
                    let start = self.i;
                    while self.peek().is_some_and(|c| c != '\'') {
                        self.i += 1;
                    }
                    if self.peek().is_none() {
                        return Err(ParseError::Unclosed('\''));
                    }
                    parts.push(Part::Quoted(self.s[start..self.i].iter().collect()));
                    self.i += 1;
                }
                '"' => {
                    flush(&mut lit, &mut parts);
                    self.i += 1;
                    parts.push(Part::Double(self.dq_parts(Some('"'))?));
                }
                '$' => {
                    flush(&mut lit, &mut parts);
                    match self.dollar()? {
                        Some(p) => parts.push(p),
                        None => lit.push('$'),
                    }
                }
                '`' => {
                    flush(&mut lit, &mut parts);
                    parts.push(self.backtick()?);
                }
                _ => {
                    lit.push(c);
                    self.i += 1;
                }
            }
        }
        flush(&mut lit, &mut parts);
        Ok(Word { parts })
    }

    /// `` `…` ``: the text up to the closing backtick, unescaped and parsed on its own.
    fn backtick(&mut self) -> R<Part> {
        self.enter()?;
        self.i += 1;
        let mut inner = String::new();
        loop {
            match self.peek() {
                None => return Err(ParseError::Unclosed('`')),
                Some('`') => {
                    self.i += 1;
                    break;
                }
                Some('\\') => {
                    match self.peek_at(1) {
                        Some(n @ ('`' | '$' | '\\')) => inner.push(n),
                        Some(n) => {
                            inner.push('\\');
                            inner.push(n);
                        }
                        None => return Err(ParseError::Unclosed('`')),
                    }
                    self.i += 2;
                }
                Some(c) => {
                    inner.push(c);
                    self.i += 1;
                }
            }
        }
        let mut sub = Parser::new(&inner, self.depth);
        let body = sub.script_to_end()?;
        self.depth -= 1;
        Ok(Part::Subst(Box::new(body)))
    }
}

/// A character standing for one byte: ASCII as itself, a high byte as a char in the
/// private-use area that the expansion turns back into that raw byte (so `$'\xff'` and
/// `echo -e '\x7f'` write the bytes asked for, not their UTF-8 encoding).
pub fn byte_char(b: u8) -> char {
    if b < 0x80 {
        b as char
    } else {
        char::from_u32(RAW_BASE + u32::from(b)).unwrap_or('\u{fffd}')
    }
}

/// Where the private-use characters standing for raw bytes start.
pub const RAW_BASE: u32 = 0xF700;

/// The bytes of a string, raw-byte stand-ins turned back into their bytes.
pub fn to_bytes(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        let v = c as u32;
        if (RAW_BASE + 0x80..=RAW_BASE + 0xff).contains(&v) {
            out.push((v - RAW_BASE) as u8);
        } else {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
    out
}

/// A word that is an assignment (`NAME=…`, `NAME+=…`) as one.
fn as_assign(w: &Word) -> Option<Assign> {
    let Some(Part::Lit(first)) = w.parts.first() else {
        return None;
    };
    let eq = first.find('=')?;
    let (mut name, append) = (&first[..eq], false);
    let append = if let Some(n) = name.strip_suffix('+') {
        name = n;
        true
    } else {
        append
    };
    if !is_name(name) {
        return None;
    }
    let rest = &first[eq + 1..];
    let mut parts = Vec::new();
    if !rest.is_empty() {
        parts.push(Part::Lit(rest.to_string()));
    }
    parts.extend(w.parts[1..].iter().cloned());
    Some(Assign {
        name: name.to_string(),
        append,
        value: Word { parts },
    })
}

/// The literal text gathered so far, as a part of its word (nothing when there is none).
fn flush(lit: &mut String, parts: &mut Vec<Part>) {
    if !lit.is_empty() {
        parts.push(Part::Lit(std::mem::take(lit)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn simple(s: &Script, item: usize) -> &Simple {
        match &s.items[item].chain.first.cmds[0] {
            Command::Simple(c) => c,
            other => panic!("not simple: {other:?}"),
        }
    }

    /// The literal text of a word without expansions.
    fn text(w: &Word) -> String {
        let mut s = String::new();
        for p in &w.parts {
            match p {
                Part::Lit(t) | Part::Quoted(t) => s.push_str(t),
                Part::Double(ps) => {
                    for q in ps {
                        if let Part::Lit(t) = q {
                            s.push_str(t);
                        } else {
                            s.push('$');
                        }
                    }
                }
                _ => s.push('$'),
            }
        }
        s
    }

    fn words(line: &str) -> Vec<String> {
        let s = parse(line).unwrap();
        simple(&s, 0).words.iter().map(text).collect()
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(
            words(r#"echo 'a b' "c d" e\ f"#),
            ["echo", "a b", "c d", "e f"]
        );
        assert_eq!(
            words(r#"echo "a\"b" 'x"y' "\$HOME" \$x"#),
            ["echo", "a\"b", "x\"y", "$HOME", "$x"]
        );
        assert_eq!(words(r"echo $'a\tb\x41'"), ["echo", "a\tbA"]);
        assert_eq!(words("echo a'b'\"c\"d"), ["echo", "abcd"]);
        // a backslash inside double quotes before an ordinary char stays
        assert_eq!(words(r#"echo "a\nb""#), ["echo", "a\\nb"]);
    }

    #[test]
    fn separators_and_pipelines() {
        let s = parse("cd /tmp; wget x && chmod +x y || echo no & ls | grep a | wc -l").unwrap();
        assert_eq!(s.items.len(), 3);
        assert!(!s.items[0].background);
        assert!(s.items[1].background);
        assert_eq!(s.items[1].chain.rest.len(), 2);
        assert_eq!(s.items[1].chain.rest[0].0, Conn::And);
        assert_eq!(s.items[1].chain.rest[1].0, Conn::Or);
        assert_eq!(s.items[2].chain.first.cmds.len(), 3);
        // a comment ends the line
        let s = parse("echo a # rm -rf /").unwrap();
        assert_eq!(simple(&s, 0).words.len(), 2);
    }

    #[test]
    fn redirections() {
        let s = parse("cat a >out 2>&1 >>log 2>/dev/null &>both <in 3>x <<<word").unwrap();
        let r = &simple(&s, 0).redirs;
        let ops: Vec<(Option<u32>, RedirOp, String)> =
            r.iter().map(|r| (r.fd, r.op, text(&r.target))).collect();
        assert_eq!(
            ops,
            [
                (None, RedirOp::Out, "out".into()),
                (Some(2), RedirOp::DupOut, "1".into()),
                (None, RedirOp::Append, "log".into()),
                (Some(2), RedirOp::Out, "/dev/null".into()),
                (None, RedirOp::OutErr, "both".into()),
                (None, RedirOp::In, "in".into()),
                (Some(3), RedirOp::Out, "x".into()),
                (None, RedirOp::HereString, "word".into()),
            ]
        );
        assert_eq!(
            parse("echo >").unwrap_err(),
            ParseError::Unexpected("newline".into())
        );
    }

    #[test]
    fn expansions_are_kept_for_later() {
        let s = parse("echo $HOME ${USER} ${X:-def} $(uname -a) `id` $((1+2)) ~/x").unwrap();
        let w = &simple(&s, 0).words;
        assert!(matches!(&w[1].parts[0], Part::Var(v) if v.name == "HOME"));
        assert!(matches!(&w[2].parts[0], Part::Var(v) if v.name == "USER"));
        assert!(matches!(&w[3].parts[0], Part::Var(v) if matches!(v.op, VarOp::Default(true, _))));
        assert!(matches!(&w[4].parts[0], Part::Subst(s) if s.items.len() == 1));
        assert!(matches!(&w[5].parts[0], Part::Subst(_)));
        assert!(matches!(&w[6].parts[0], Part::Arith(t) if t == "1+2"));
        assert!(matches!(&w[7].parts[0], Part::Tilde(u) if u.is_empty()));
        // assignments before a command, not after
        let s = parse("A=1 B+=2 env C=3").unwrap();
        let c = simple(&s, 0);
        assert_eq!(c.assigns.len(), 2);
        assert!(c.assigns[1].append);
        assert_eq!(c.words.len(), 2);
    }

    #[test]
    fn compound_commands() {
        let s = parse("if [ -d /tmp ]; then cd /tmp; elif true; then :; else cd /; fi").unwrap();
        assert!(
            matches!(&s.items[0].chain.first.cmds[0], Command::Compound(c, _) if matches!(**c, Compound::If { ref arms, otherwise: Some(_) } if arms.len() == 2))
        );
        let s = parse("for i in a b c; do echo $i; done > out").unwrap();
        match &s.items[0].chain.first.cmds[0] {
            Command::Compound(c, r) => {
                assert!(
                    matches!(&**c, Compound::For { var, items: Some(i), .. } if var == "i" && i.len() == 3)
                );
                assert_eq!(r.len(), 1);
            }
            _ => panic!(),
        }
        assert!(parse("while read l; do echo $l; done < f").is_ok());
        assert!(parse("(crontab -l; echo x) | crontab -").is_ok());
        assert!(parse("{ echo a; echo b; } 2>&1").is_ok());
        // keywords are words elsewhere
        assert_eq!(words("echo if then fi"), ["echo", "if", "then", "fi"]);
    }

    #[test]
    fn errors_read_as_bash() {
        assert_eq!(parse("echo 'abc").unwrap_err(), ParseError::Unclosed('\''));
        assert_eq!(
            parse("echo 'abc").unwrap_err().to_string(),
            "unexpected EOF while looking for matching `''"
        );
        assert_eq!(parse("echo \"abc").unwrap_err(), ParseError::Unclosed('"'));
        assert_eq!(parse("echo `abc").unwrap_err(), ParseError::Unclosed('`'));
        assert_eq!(parse("echo $(abc").unwrap_err(), ParseError::Unclosed(')'));
        assert_eq!(
            parse("; ls").unwrap_err(),
            ParseError::Unexpected(";".into())
        );
        assert_eq!(
            parse("ls | | wc").unwrap_err(),
            ParseError::Unexpected("|".into())
        );
        assert_eq!(
            parse("ls )").unwrap_err(),
            ParseError::Unexpected(")".into())
        );
        assert_eq!(parse("ls &&").unwrap_err(), ParseError::UnexpectedEnd);
        assert_eq!(
            parse("fi").unwrap_err(),
            ParseError::Unexpected("fi".into())
        );
        assert_eq!(
            parse("f() { :; }").unwrap_err(),
            ParseError::Unexpected("(".into())
        );
        assert_eq!(
            parse("ls ;;").unwrap_err().to_string(),
            "syntax error near unexpected token `;;'"
        );
    }

    #[test]
    fn here_documents() {
        let s = parse("cat > x <<EOF\nhello $USER\nEOF\necho done").unwrap();
        assert_eq!(s.items.len(), 2);
        let r = &simple(&s, 0).redirs[1];
        assert_eq!(r.op, RedirOp::HereDoc);
        assert!(
            matches!(&r.target.parts[0], Part::Double(p) if matches!(&p[0], Part::Lit(t) if t == "hello "))
        );
        let s = parse("cat <<'E'\n$x\nE").unwrap();
        assert_eq!(text(&simple(&s, 0).redirs[0].target), "$x\n");
        assert_eq!(parse("cat <<EOF").unwrap_err(), ParseError::HereDocPending);
        assert_eq!(
            parse("cat <<EOF\nabc").unwrap_err(),
            ParseError::HereDocPending
        );
    }

    #[test]
    fn a_script_parses_line_by_line() {
        let mut p = Parser::new("echo a\nfi\necho c", 0);
        assert!(p.next_command().unwrap().is_ok());
        assert!(p.next_command().unwrap().is_err());
        assert!(p.next_command().is_none());
        let mut p = Parser::new("if true\nthen echo a\nfi\necho b\n", 0);
        let first = p.next_command().unwrap().unwrap();
        assert!(matches!(
            &first.items[0].chain.first.cmds[0],
            Command::Compound(..)
        ));
        assert!(p.next_command().unwrap().is_ok());
        assert!(p.next_command().is_none());
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        for open in ["$(", "(", "`", "${x:-", "{ ", "\"$("] {
            let body = open.repeat(if open == "`" { 100_001 } else { 100_000 });
            // `{` and `(` open groups where a command starts
            let line = if open == "{ " {
                body
            } else {
                format!("echo {body}")
            };
            assert!(parse(&line).is_err(), "{open}");
        }
        let nested = format!(
            "echo {}x{}",
            "$(echo ".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(parse(&nested).unwrap_err(), ParseError::TooDeep);
        let ok = format!("echo {}x{}", "$(echo ".repeat(4), ")".repeat(4));
        assert!(parse(&ok).is_ok());
        // balanced but deep: refused too
        let deep = format!("{}true{}", "(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(parse(&deep).unwrap_err(), ParseError::TooDeep);
    }

    #[test]
    fn huge_and_binary_lines_do_not_panic() {
        let big = format!("echo {}", "a".repeat(1 << 20));
        assert_eq!(words(&big)[1].len(), 1 << 20);
        let many = "x;".repeat(200_000);
        assert_eq!(parse(&many).unwrap().items.len(), 200_000);
        let junk: String = (0..100_000u32)
            .map(|i| {
                char::from_u32((i.wrapping_mul(2_654_435_761) >> 7) % 0x3000).unwrap_or('\u{fffd}')
            })
            .collect();
        let _ = parse(&junk);
        let _ = parse("\0\0\u{fffd}\u{fffd}$'\\x00'\"\0\"");
        // every prefix of a tricky line parses or errors, never panics
        let tricky = "a$'\\u{zz}\\x' ${#} ${x:?} $((1+(2)) `x\\` \"$(\"; <<- E\n\tE\n";
        for (k, _) in tricky.char_indices() {
            let _ = parse(&tricky[..k]);
        }
    }

    #[test]
    fn raw_bytes_survive_ansi_c_quoting() {
        let s = parse(r"echo $'\x7f\x45\xff'").unwrap();
        let w = &simple(&s, 0).words[1];
        let Part::Quoted(t) = &w.parts[0] else {
            panic!()
        };
        assert_eq!(to_bytes(t), [0x7f, 0x45, 0xff]);
    }
}
