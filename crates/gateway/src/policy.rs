//! Policy rules: GhostAI's `{id, if, action, reason}` over a scan, with a small, safe
//! expression language for `if`: numbers, 'strings', true/false, `[lists]`, field names,
//! `== != > >= < <= in`, `and or not`, parentheses and `LIKE(x, 'glob*')`. Nothing in it can
//! loop, call out or allocate without bound: parsing is limited in depth and length.

use std::fmt;

/// A value in an expression or a field.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    List(Vec<Value>),
}

impl Value {
    fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Num(n) => *n != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    In,
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Lit(Value),
    Field(String),
    List(Vec<Expr>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp(Box<Expr>, Op, Box<Expr>),
    Like(Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Ident(String),
    Op(Op),
    LParen,
    RParen,
    LBrack,
    RBrack,
    Comma,
}

/// A parse error, with where.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const MAX_LEN: usize = 4096;
const MAX_DEPTH: usize = 32;

fn lex(s: &str) -> Result<Vec<Tok>, ParseError> {
    if s.len() > MAX_LEN {
        return Err(ParseError(format!("longer than {MAX_LEN} bytes")));
    }
    let b: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = vec![];
    while i < b.len() {
        let c = b[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1
            }
            '[' => {
                out.push(Tok::LBrack);
                i += 1
            }
            ']' => {
                out.push(Tok::RBrack);
                i += 1
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1
            }
            '\'' | '"' => {
                let q = c;
                let mut t = String::new();
                i += 1;
                loop {
                    match b.get(i) {
                        None => return Err(ParseError("a string is not closed".into())),
                        Some('\\') if b.get(i + 1).is_some() => {
                            t.push(b[i + 1]);
                            i += 2;
                        }
                        Some(&c) if c == q => {
                            i += 1;
                            break;
                        }
                        Some(&c) => {
                            t.push(c);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(t));
            }
            '=' | '!' | '<' | '>' => {
                let two = b.get(i + 1) == Some(&'=');
                let op = match (c, two) {
                    ('=', true) => Op::Eq,
                    ('!', true) => Op::Ne,
                    ('>', true) => Op::Ge,
                    ('<', true) => Op::Le,
                    ('>', false) => Op::Gt,
                    ('<', false) => Op::Lt,
                    _ => return Err(ParseError(format!("unexpected {c:?} (use == or !=)"))),
                };
                out.push(Tok::Op(op));
                i += if two { 2 } else { 1 };
            }
            c if c.is_ascii_digit()
                || (c == '-' && b.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let st = i;
                i += 1;
                while i < b.len() && (b[i].is_ascii_digit() || b[i] == '.') {
                    i += 1;
                }
                let t: String = b[st..i].iter().collect();
                let n = t
                    .parse::<f64>()
                    .map_err(|_| ParseError(format!("{t:?} is not a number")))?;
                out.push(Tok::Num(n));
            }
            c if c.is_alphabetic() || c == '_' => {
                let st = i;
                while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_' || b[i] == '.') {
                    i += 1;
                }
                let t: String = b[st..i].iter().collect();
                if t == "in" {
                    out.push(Tok::Op(Op::In));
                } else {
                    out.push(Tok::Ident(t));
                }
            }
            c => return Err(ParseError(format!("unexpected {c:?}"))),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }
    fn word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(x)) if x.eq_ignore_ascii_case(w))
    }
    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError(format!("nested deeper than {MAX_DEPTH}")));
        }
        Ok(())
    }
    fn or(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let mut l = self.and()?;
        while self.word("or") {
            self.at += 1;
            let r = self.and()?;
            l = Expr::Or(Box::new(l), Box::new(r));
        }
        self.depth -= 1;
        Ok(l)
    }
    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.not()?;
        while self.word("and") {
            self.at += 1;
            let r = self.not()?;
            l = Expr::And(Box::new(l), Box::new(r));
        }
        Ok(l)
    }
    fn not(&mut self) -> Result<Expr, ParseError> {
        if self.word("not") {
            self.at += 1;
            self.enter()?;
            let e = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e)));
        }
        self.cmp()
    }
    fn cmp(&mut self) -> Result<Expr, ParseError> {
        let l = self.atom()?;
        if let Some(Tok::Op(op)) = self.peek().cloned() {
            self.at += 1;
            let r = self.atom()?;
            return Ok(Expr::Cmp(Box::new(l), op, Box::new(r)));
        }
        Ok(l)
    }
    fn atom(&mut self) -> Result<Expr, ParseError> {
        match self.next() {
            Some(Tok::Num(n)) => Ok(Expr::Lit(Value::Num(n))),
            Some(Tok::Str(s)) => Ok(Expr::Lit(Value::Str(s))),
            Some(Tok::LParen) => {
                let e = self.or()?;
                match self.next() {
                    Some(Tok::RParen) => Ok(e),
                    _ => Err(ParseError("a '(' is not closed".into())),
                }
            }
            Some(Tok::LBrack) => {
                let mut items = vec![];
                if self.peek() == Some(&Tok::RBrack) {
                    self.at += 1;
                    return Ok(Expr::List(items));
                }
                loop {
                    items.push(self.atom()?);
                    match self.next() {
                        Some(Tok::Comma) => continue,
                        Some(Tok::RBrack) => break,
                        _ => return Err(ParseError("a '[' is not closed".into())),
                    }
                }
                Ok(Expr::List(items))
            }
            Some(Tok::Ident(w)) => match w.to_ascii_lowercase().as_str() {
                "true" => Ok(Expr::Lit(Value::Bool(true))),
                "false" => Ok(Expr::Lit(Value::Bool(false))),
                "null" | "none" => Ok(Expr::Lit(Value::Null)),
                "like" => {
                    if self.next() != Some(Tok::LParen) {
                        return Err(ParseError("LIKE needs (value, 'glob')".into()));
                    }
                    self.enter()?;
                    let a = self.or()?;
                    if self.next() != Some(Tok::Comma) {
                        return Err(ParseError("LIKE needs (value, 'glob')".into()));
                    }
                    let g = self.or()?;
                    if self.next() != Some(Tok::RParen) {
                        return Err(ParseError("LIKE( is not closed".into()));
                    }
                    self.depth -= 1;
                    Ok(Expr::Like(Box::new(a), Box::new(g)))
                }
                "and" | "or" | "not" => Err(ParseError(format!("{w:?} without a value before it"))),
                _ => Ok(Expr::Field(w)),
            },
            Some(t) => Err(ParseError(format!("unexpected {t:?}"))),
            None => Err(ParseError("the expression ends too early".into())),
        }
    }
}

impl Expr {
    pub fn parse(s: &str) -> Result<Expr, ParseError> {
        let toks = lex(s)?;
        if toks.is_empty() {
            return Err(ParseError("empty".into()));
        }
        let mut p = Parser {
            toks,
            at: 0,
            depth: 0,
        };
        let e = p.or()?;
        if p.at < p.toks.len() {
            return Err(ParseError(format!(
                "unexpected {:?} after a complete expression",
                p.toks[p.at]
            )));
        }
        Ok(e)
    }

    /// The field names it reads.
    pub fn fields(&self, out: &mut Vec<String>) {
        match self {
            Expr::Field(f) => out.push(f.clone()),
            Expr::Lit(_) => {}
            Expr::List(l) => l.iter().for_each(|e| e.fields(out)),
            Expr::Not(e) => e.fields(out),
            Expr::And(a, b) | Expr::Or(a, b) | Expr::Cmp(a, _, b) | Expr::Like(a, b) => {
                a.fields(out);
                b.fields(out);
            }
        }
    }

    /// True or false over the fields `get` gives (an unknown field is null: comparisons with
    /// it are false).
    pub fn eval(&self, get: &dyn Fn(&str) -> Value) -> bool {
        self.value(get).truthy()
    }

    fn value(&self, get: &dyn Fn(&str) -> Value) -> Value {
        match self {
            Expr::Lit(v) => v.clone(),
            Expr::Field(f) => get(f),
            Expr::List(l) => Value::List(l.iter().map(|e| e.value(get)).collect()),
            Expr::Not(e) => Value::Bool(!e.value(get).truthy()),
            Expr::And(a, b) => Value::Bool(a.value(get).truthy() && b.value(get).truthy()),
            Expr::Or(a, b) => Value::Bool(a.value(get).truthy() || b.value(get).truthy()),
            Expr::Like(a, g) => match (a.value(get), g.value(get)) {
                (Value::Str(s), Value::Str(g)) => Value::Bool(glob(&g, &s)),
                (Value::List(l), Value::Str(g)) => {
                    Value::Bool(l.iter().any(|v| matches!(v, Value::Str(s) if glob(&g, s))))
                }
                _ => Value::Bool(false),
            },
            Expr::Cmp(a, op, b) => {
                let (x, y) = (a.value(get), b.value(get));
                Value::Bool(compare(&x, *op, &y))
            }
        }
    }
}

fn compare(x: &Value, op: Op, y: &Value) -> bool {
    use std::cmp::Ordering;
    if op == Op::In {
        return match y {
            Value::List(l) => l.iter().any(|v| v == x),
            Value::Str(s) => matches!(x, Value::Str(n) if s.contains(n.as_str())),
            _ => false,
        };
    }
    // a list on the left: `flags == 'secrets'` means it holds it
    if let (Value::List(l), Op::Eq) = (x, op) {
        return l.contains(y);
    }
    if let (Value::List(l), Op::Ne) = (x, op) {
        return !l.contains(y);
    }
    let ord = match (x, y) {
        (Value::Num(a), Value::Num(b)) => a.partial_cmp(b),
        (Value::Str(a), Value::Str(b)) => Some(a.cmp(b)),
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        _ => None,
    };
    match (ord, op) {
        (None, Op::Ne) => true,
        (None, _) => false,
        (Some(o), Op::Eq) => o == Ordering::Equal,
        (Some(o), Op::Ne) => o != Ordering::Equal,
        (Some(o), Op::Gt) => o == Ordering::Greater,
        (Some(o), Op::Ge) => o != Ordering::Less,
        (Some(o), Op::Lt) => o == Ordering::Less,
        (Some(o), Op::Le) => o != Ordering::Greater,
        (Some(_), Op::In) => false,
    }
}

/// `*` any run, `?` one character; case-insensitive. Linear in practice: the classic
/// backtracking-to-the-last-star match.
pub fn glob(pattern: &str, s: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = s.to_lowercase().chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(name: &str) -> Value {
        match name {
            "score" => Value::Num(0.85),
            "injection" => Value::Num(0.9),
            "route" => Value::Str("chat".into()),
            "flags" => Value::List(vec![
                Value::Str("injection".into()),
                Value::Str("pii".into()),
            ]),
            "ip" => Value::Str("203.0.113.7".into()),
            _ => Value::Null,
        }
    }

    #[test]
    fn expressions_evaluate() {
        for (e, want) in [
            ("score >= 0.8", true),
            ("injection > 0.95", false),
            ("route == 'chat' and injection > 0.8", true),
            ("route != 'chat' or not (score < 0.5)", true),
            ("'pii' in flags", true),
            ("flags == 'secrets'", false),
            ("route in ['chat', 'completions']", true),
            ("LIKE(ip, '203.0.113.*')", true),
            ("LIKE(flags, 'inj*')", true),
            ("unknown_field > 1", false),
            ("unknown_field != 1", true),
            ("not not true", true),
        ] {
            let x = Expr::parse(e).unwrap_or_else(|err| panic!("{e}: {err}"));
            assert_eq!(x.eval(&fields), want, "{e}");
        }
    }

    #[test]
    fn bad_expressions_are_errors_not_panics() {
        for e in [
            "",
            "score >",
            "(score > 1",
            "score = 1",
            "'open",
            "and score",
            "LIKE(ip)",
            &"(".repeat(1000),
            &"not ".repeat(1000),
            &"x".repeat(5000),
            "score > 1 2",
            "[1, 2",
        ] {
            assert!(Expr::parse(e).is_err(), "{e:.40}");
        }
    }

    #[test]
    fn globs() {
        assert!(glob("a*c", "abbbc"));
        assert!(glob("*", ""));
        assert!(!glob("a?c", "ac"));
        assert!(glob("*.example.*", "api.example.com"));
        assert!(!glob(&"*a".repeat(50), &"b".repeat(1000)));
    }
}
