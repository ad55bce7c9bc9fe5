//! A small regular-expression engine for `grep`, `sed`, `awk` and `[[ =~ ]]`: POSIX basic
//! and extended syntax (with GNU's `\|`, `\+`, `\?`, `\w`, `\s`), compiled to a Thompson NFA
//! and run as a Pike VM, so matching is linear in the text whatever the pattern (no
//! backtracking blow-up). Patterns and programs are capped in size.

/// Longest pattern accepted, characters.
const MAX_PATTERN: usize = 2048;
/// Most instructions a compiled pattern may have (counted repeats multiply).
const MAX_PROG: usize = 20_000;
/// Deepest group nesting.
const MAX_GROUPS: usize = 64;

#[derive(Debug, Clone)]
enum Ast {
    Char(char),
    Any,
    Class(Class),
    Bol,
    Eol,
    Cat(Vec<Ast>),
    Alt(Vec<Ast>),
    Rep(Box<Ast>, u32, Option<u32>),
}

#[derive(Debug, Clone, Default)]
struct Class {
    neg: bool,
    ranges: Vec<(char, char)>,
    named: Vec<fn(char) -> bool>,
}

impl Class {
    fn matches(&self, c: char, icase: bool) -> bool {
        let test = |c: char| {
            self.ranges.iter().any(|&(a, b)| a <= c && c <= b) || self.named.iter().any(|f| f(c))
        };
        let m =
            test(c) || (icase && (test(c.to_ascii_lowercase()) || test(c.to_ascii_uppercase())));
        m != self.neg
    }
}

#[derive(Debug, Clone)]
enum Inst {
    Char(char),
    Any,
    Class(usize),
    Split(usize, usize),
    Jmp(usize),
    Bol,
    Eol,
    Match,
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub(crate) struct Regex {
    prog: Vec<Inst>,
    classes: Vec<Class>,
    icase: bool,
}

struct Parser<'a> {
    s: &'a [char],
    i: usize,
    ere: bool,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }
    fn at_alt(&self) -> bool {
        if self.ere {
            self.peek() == Some('|')
        } else {
            self.peek() == Some('\\') && self.s.get(self.i + 1) == Some(&'|')
        }
    }
    fn at_close(&self) -> bool {
        if self.ere {
            self.peek() == Some(')') && self.depth > 0
        } else {
            self.peek() == Some('\\') && self.s.get(self.i + 1) == Some(&')')
        }
    }
    fn alt(&mut self) -> Result<Ast, String> {
        let mut alts = vec![self.cat()?];
        while self.at_alt() {
            self.i += if self.ere { 1 } else { 2 };
            alts.push(self.cat()?);
        }
        Ok(if alts.len() == 1 {
            alts.pop().unwrap_or(Ast::Cat(vec![]))
        } else {
            Ast::Alt(alts)
        })
    }
    fn cat(&mut self) -> Result<Ast, String> {
        let mut items = Vec::new();
        while self.peek().is_some() && !self.at_alt() && !self.at_close() {
            let first = items.is_empty();
            let atom = self.atom(first)?;
            let atom = self.repeats(atom)?;
            items.push(atom);
        }
        Ok(Ast::Cat(items))
    }
    fn repeats(&mut self, mut atom: Ast) -> Result<Ast, String> {
        loop {
            let (min, max, len) = match (self.peek(), self.s.get(self.i + 1).copied()) {
                (Some('*'), _) => (0, None, 1),
                (Some('+'), _) if self.ere => (1, None, 1),
                (Some('?'), _) if self.ere => (0, Some(1), 1),
                (Some('\\'), Some('+')) if !self.ere => (1, None, 2),
                (Some('\\'), Some('?')) if !self.ere => (0, Some(1), 2),
                (Some('{'), _) if self.ere => match self.bounds(1)? {
                    Some(b) => b,
                    None => return Ok(atom),
                },
                (Some('\\'), Some('{')) if !self.ere => match self.bounds(2)? {
                    Some(b) => b,
                    None => return Ok(atom),
                },
                _ => return Ok(atom),
            };
            self.i += len;
            atom = Ast::Rep(Box::new(atom), min, max);
        }
    }
    /// `{n}`, `{n,}`, `{n,m}` (after an opener of `open` chars): (min, max, length).
    fn bounds(&mut self, open: usize) -> Result<Option<(u32, Option<u32>, usize)>, String> {
        let start = self.i + open;
        let close = if self.ere { "}" } else { "\\}" };
        let rest: String = self.s[start.min(self.s.len())..].iter().collect();
        let Some(end) = rest.find(close) else {
            return if self.ere {
                Ok(None)
            } else {
                Err("Unmatched \\{".into())
            };
        };
        let body = &rest[..end];
        let parse = |t: &str| t.trim().parse::<u32>().ok();
        let (min, max) = match body.split_once(',') {
            Some((a, b)) => (
                parse(a).unwrap_or(0),
                if b.trim().is_empty() {
                    None
                } else {
                    Some(parse(b).ok_or("Invalid content of \\{\\}")?)
                },
            ),
            None => match parse(body) {
                Some(n) => (n, Some(n)),
                None if self.ere => return Ok(None),
                None => return Err("Invalid content of \\{\\}".into()),
            },
        };
        if min > 255 || max.is_some_and(|m| m > 255 || m < min) {
            return Err("Invalid content of \\{\\}".into());
        }
        let len = open + body.chars().count() + close.len();
        Ok(Some((min, max, len)))
    }
    fn atom(&mut self, first: bool) -> Result<Ast, String> {
        let Some(c) = self.peek() else {
            return Ok(Ast::Cat(vec![]));
        };
        self.i += 1;
        Ok(match c {
            '.' => Ast::Any,
            '^' if self.ere || first => Ast::Bol,
            '$' if self.ere || self.peek().is_none() || self.at_close() || self.at_alt() => {
                Ast::Eol
            }
            '*' if first => Ast::Char('*'),
            '[' => Ast::Class(self.class()?),
            '(' if self.ere => self.group()?,
            ')' if self.ere => Ast::Char(')'),
            '\\' => {
                let Some(e) = self.peek() else {
                    return Err("Trailing backslash".into());
                };
                self.i += 1;
                match e {
                    '(' if !self.ere => self.group()?,
                    'w' | 'W' | 's' | 'S' | 'd' | 'D' => {
                        let f: fn(char) -> bool = match e.to_ascii_lowercase() {
                            'w' => |c| c.is_alphanumeric() || c == '_',
                            's' => char::is_whitespace,
                            _ => |c| c.is_ascii_digit(),
                        };
                        Ast::Class(Class {
                            neg: e.is_uppercase(),
                            ranges: vec![],
                            named: vec![f],
                        })
                    }
                    'b' | 'B' | '<' | '>' => Ast::Cat(vec![]),
                    'n' => Ast::Char('\n'),
                    't' => Ast::Char('\t'),
                    other => Ast::Char(other),
                }
            }
            other => Ast::Char(other),
        })
    }
    fn group(&mut self) -> Result<Ast, String> {
        self.depth += 1;
        if self.depth > MAX_GROUPS {
            return Err("Regular expression too big".into());
        }
        let inner = self.alt()?;
        if self.ere {
            if self.peek() != Some(')') {
                return Err("Unmatched ( or \\(".into());
            }
            self.i += 1;
        } else {
            if !(self.peek() == Some('\\') && self.s.get(self.i + 1) == Some(&')')) {
                return Err("Unmatched ( or \\(".into());
            }
            self.i += 2;
        }
        self.depth -= 1;
        Ok(inner)
    }
    fn class(&mut self) -> Result<Class, String> {
        let mut cl = Class::default();
        if self.peek() == Some('^') {
            cl.neg = true;
            self.i += 1;
        }
        let mut first = true;
        loop {
            let Some(c) = self.peek() else {
                return Err("Unmatched [, [^, [:, [., or [=".into());
            };
            if c == ']' && !first {
                self.i += 1;
                break;
            }
            first = false;
            if c == '[' && self.s.get(self.i + 1) == Some(&':') {
                let rest: String = self.s[self.i + 2..].iter().collect();
                if let Some(end) = rest.find(":]") {
                    let f: fn(char) -> bool = match &rest[..end] {
                        "alpha" => char::is_alphabetic,
                        "digit" => |c| c.is_ascii_digit(),
                        "alnum" => char::is_alphanumeric,
                        "upper" => char::is_uppercase,
                        "lower" => char::is_lowercase,
                        "space" => char::is_whitespace,
                        "blank" => |c| c == ' ' || c == '\t',
                        "punct" => |c| c.is_ascii_punctuation(),
                        "xdigit" => |c| c.is_ascii_hexdigit(),
                        "print" => |c| !c.is_control(),
                        "cntrl" => char::is_control,
                        _ => return Err("Invalid character class name".into()),
                    };
                    cl.named.push(f);
                    self.i += 2 + rest[..end].chars().count() + 2;
                    continue;
                }
            }
            self.i += 1;
            if self.peek() == Some('-') && self.s.get(self.i + 1).is_some_and(|&n| n != ']') {
                let hi = self.s[self.i + 1];
                self.i += 2;
                if hi < c {
                    return Err("Invalid range end".into());
                }
                cl.ranges.push((c, hi));
            } else {
                cl.ranges.push((c, c));
            }
        }
        Ok(cl)
    }
}

/// What one search reuses from character to character: when each instruction was last added
/// (at which position), and `add`'s work list (empty between calls).
struct Scratch {
    seen: Vec<usize>,
    stack: Vec<usize>,
}

impl Regex {
    /// Compiles a pattern: `ere` for extended syntax (`grep -E`, `sed -E`, awk).
    pub fn new(pattern: &str, ere: bool, icase: bool) -> Result<Regex, String> {
        let chars: Vec<char> = pattern.chars().collect();
        if chars.len() > MAX_PATTERN {
            return Err("Regular expression too big".into());
        }
        let mut p = Parser {
            s: &chars,
            i: 0,
            ere,
            depth: 0,
        };
        let ast = p.alt()?;
        if p.i < chars.len() {
            return Err("Unmatched ) or \\)".into());
        }
        let mut re = Regex {
            prog: Vec::new(),
            classes: Vec::new(),
            icase,
        };
        re.emit(&ast)?;
        re.prog.push(Inst::Match);
        Ok(re)
    }

    /// A pattern matching `text` literally (`grep -F`).
    pub fn literal(text: &str, icase: bool) -> Regex {
        let mut prog: Vec<Inst> = text.chars().take(MAX_PATTERN).map(Inst::Char).collect();
        prog.push(Inst::Match);
        Regex {
            prog,
            classes: Vec::new(),
            icase,
        }
    }

    fn emit(&mut self, a: &Ast) -> Result<(), String> {
        if self.prog.len() > MAX_PROG {
            return Err("Regular expression too big".into());
        }
        match a {
            Ast::Char(c) => self.prog.push(Inst::Char(*c)),
            Ast::Any => self.prog.push(Inst::Any),
            Ast::Class(c) => {
                self.classes.push(c.clone());
                self.prog.push(Inst::Class(self.classes.len() - 1));
            }
            Ast::Bol => self.prog.push(Inst::Bol),
            Ast::Eol => self.prog.push(Inst::Eol),
            Ast::Cat(items) => {
                for i in items {
                    self.emit(i)?;
                }
            }
            Ast::Alt(alts) => {
                let mut jumps = Vec::new();
                for (k, alt) in alts.iter().enumerate() {
                    if k + 1 < alts.len() {
                        let split = self.prog.len();
                        self.prog.push(Inst::Split(split + 1, 0));
                        self.emit(alt)?;
                        jumps.push(self.prog.len());
                        self.prog.push(Inst::Jmp(0));
                        let next = self.prog.len();
                        self.prog[split] = Inst::Split(split + 1, next);
                    } else {
                        self.emit(alt)?;
                    }
                }
                let end = self.prog.len();
                for j in jumps {
                    self.prog[j] = Inst::Jmp(end);
                }
            }
            Ast::Rep(inner, min, max) => {
                for _ in 0..*min {
                    self.emit(inner)?;
                }
                match max {
                    None => {
                        let split = self.prog.len();
                        self.prog.push(Inst::Split(split + 1, 0));
                        self.emit(inner)?;
                        self.prog.push(Inst::Jmp(split));
                        let end = self.prog.len();
                        self.prog[split] = Inst::Split(split + 1, end);
                    }
                    Some(m) => {
                        let mut splits = Vec::new();
                        for _ in *min..*m {
                            splits.push(self.prog.len());
                            self.prog.push(Inst::Split(0, 0));
                            self.emit(inner)?;
                        }
                        let end = self.prog.len();
                        for s in splits {
                            self.prog[s] = Inst::Split(s + 1, end);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Does it match anywhere in `text`?
    pub fn is_match(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        self.find_at(&chars, 0).is_some()
    }

    /// The leftmost match at or after `from` (char indices): (start, end).
    pub fn find_at(&self, text: &[char], from: usize) -> Option<(usize, usize)> {
        let n = self.prog.len();
        let mut clist: Vec<(usize, usize)> = Vec::new();
        let mut nlist: Vec<(usize, usize)> = Vec::new();
        let mut sc = Scratch {
            seen: vec![usize::MAX; n],
            stack: Vec::new(),
        };
        let mut best: Option<(usize, usize)> = None;
        let mut pos = from;
        loop {
            if best.is_none() && pos <= text.len() {
                // a new thread starting here (lowest priority)
                self.add(&mut clist, &mut sc, 0, pos, pos, text);
            }
            if clist.is_empty() {
                break;
            }
            let c = text.get(pos).copied();
            let mut k = 0;
            while k < clist.len() {
                let (pc, start) = clist[k];
                k += 1;
                match &self.prog[pc] {
                    Inst::Match => {
                        if best.is_none_or(|b| b.0 >= start) {
                            best = Some((start, pos));
                        }
                        // lower-priority threads give way
                        clist.truncate(k);
                        break;
                    }
                    Inst::Char(want) if c.is_some_and(|c| self.eq(c, *want)) => {
                        self.add(&mut nlist, &mut sc, pc + 1, start, pos + 1, text);
                    }
                    Inst::Any if c.is_some_and(|c| c != '\n') => {
                        self.add(&mut nlist, &mut sc, pc + 1, start, pos + 1, text);
                    }
                    Inst::Class(i)
                        if c.is_some_and(|c| self.classes[*i].matches(c, self.icase)) =>
                    {
                        self.add(&mut nlist, &mut sc, pc + 1, start, pos + 1, text);
                    }
                    _ => {}
                }
            }
            if pos >= text.len() {
                break;
            }
            pos += 1;
            std::mem::swap(&mut clist, &mut nlist);
            nlist.clear();
        }
        best
    }

    fn eq(&self, a: char, b: char) -> bool {
        a == b || (self.icase && a.to_lowercase().eq(b.to_lowercase()))
    }

    /// Adds a thread, following jumps, splits and assertions (iteratively).
    fn add(
        &self,
        list: &mut Vec<(usize, usize)>,
        sc: &mut Scratch,
        pc: usize,
        start: usize,
        pos: usize,
        text: &[char],
    ) {
        sc.stack.clear();
        sc.stack.push(pc);
        while let Some(pc) = sc.stack.pop() {
            if pc >= self.prog.len() || sc.seen[pc] == pos {
                continue;
            }
            sc.seen[pc] = pos;
            match &self.prog[pc] {
                Inst::Jmp(t) => sc.stack.push(*t),
                Inst::Split(a, b) => {
                    sc.stack.push(*b);
                    sc.stack.push(*a);
                }
                Inst::Bol => {
                    if pos == 0 || text.get(pos - 1) == Some(&'\n') {
                        sc.stack.push(pc + 1);
                    }
                }
                Inst::Eol => {
                    if pos == text.len() || text.get(pos) == Some(&'\n') {
                        sc.stack.push(pc + 1);
                    }
                }
                _ => list.push((pc, start)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, ere: bool, t: &str) -> bool {
        Regex::new(p, ere, false).unwrap().is_match(t)
    }

    #[test]
    fn basic_and_extended_syntax() {
        assert!(m("model name", false, "model name\t: Intel"));
        assert!(m("^proc", false, "processor\t: 0"));
        assert!(!m("^proc", false, "a processor"));
        assert!(m("[Mm]iner", false, "xmrig Miner"));
        assert!(m("a\\|b", false, "xbx"));
        assert!(m("a|b", true, "xbx"));
        assert!(m("^(ab)+$", true, "ababab"));
        assert!(!m("^(ab)+$", true, "ababa"));
        assert!(m("x{2,3}", true, "axxb"));
        assert!(m("\\(ab\\)\\{2\\}", false, "abab"));
        assert!(m("[[:digit:]]+", true, "v12"));
        assert!(m("a.c$", false, "abc"));
        assert!(Regex::new("ABC", false, true).unwrap().is_match("xabcx"));
        assert!(Regex::new("(", true, false).is_err());
        assert!(Regex::new("a{999}", true, false).is_err());
    }

    #[test]
    fn leftmost_greedy_positions() {
        let r = Regex::new("b+", true, false).unwrap();
        let t: Vec<char> = "aabbbcbb".chars().collect();
        assert_eq!(r.find_at(&t, 0), Some((2, 5)));
        assert_eq!(r.find_at(&t, 5), Some((6, 8)));
        let e = Regex::new("x*", true, false).unwrap();
        assert_eq!(e.find_at(&t, 0), Some((0, 0)));
    }

    #[test]
    fn pathological_patterns_stay_linear() {
        let r = Regex::new("(a*)*(a*)*(a*)*b", true, false).unwrap();
        let t: String = "a".repeat(5000);
        assert!(!r.is_match(&t));
    }
}
