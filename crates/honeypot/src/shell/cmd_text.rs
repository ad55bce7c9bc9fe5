//! Text commands: `echo` and `printf` (bash's builtins), `grep sort uniq cut tr sed awk yes
//! seq expr test xargs`. They work on bytes where GNU does (tr, cut -b) and on text where
//! it matters; output raw bytes back exactly (`echo -e '\x7f'` writes byte 0x7f).

use super::cmd_files::{bad_option, getopt, inputs, name_of};
use super::exec::{Io, Run};
use super::fs::{fnmatch, Kind};
use super::parse::to_bytes;
use super::re::Regex;
use super::Shell;

/// Bytes of an escape sequence (`\n`, `\x41`, `\0101`…) as `echo -e` and `printf` read them:
/// (bytes, chars used, stop output (`\c`)).
fn escape(cs: &[char], i: usize, octal_zero: bool) -> (Vec<u8>, usize, bool) {
    let Some(&c) = cs.get(i) else {
        return (b"\\".to_vec(), 0, false);
    };
    let simple = |b: u8| (vec![b], 1, false);
    match c {
        'a' => simple(7),
        'b' => simple(8),
        'e' | 'E' => simple(0x1b),
        'f' => simple(12),
        'n' => simple(b'\n'),
        'r' => simple(b'\r'),
        't' => simple(b'\t'),
        'v' => simple(11),
        '\\' => simple(b'\\'),
        'c' => (vec![], 1, true),
        'x' => {
            let mut v = 0u32;
            let mut n = 0;
            while n < 2 {
                match cs.get(i + 1 + n).and_then(|c| c.to_digit(16)) {
                    Some(d) => {
                        v = v * 16 + d;
                        n += 1;
                    }
                    None => break,
                }
            }
            if n == 0 {
                (b"\\x".to_vec(), 1, false)
            } else {
                (vec![v as u8], 1 + n, false)
            }
        }
        'u' | 'U' => {
            let max = if c == 'u' { 4 } else { 8 };
            let mut v = 0u32;
            let mut n = 0;
            while n < max {
                match cs.get(i + 1 + n).and_then(|c| c.to_digit(16)) {
                    Some(d) => {
                        v = v.wrapping_mul(16).wrapping_add(d);
                        n += 1;
                    }
                    None => break,
                }
            }
            match (n, char::from_u32(v)) {
                (0, _) | (_, None) => (format!("\\{c}").into_bytes(), 1, false),
                (_, Some(ch)) => (ch.to_string().into_bytes(), 1 + n, false),
            }
        }
        '0'..='7' => {
            // echo: \0nnn; printf: \nnn
            let (start, max) = if octal_zero {
                if c != '0' {
                    return (format!("\\{c}").into_bytes(), 1, false);
                }
                (i + 1, 3)
            } else {
                (i, 3)
            };
            let mut v = 0u32;
            let mut n = 0;
            while n < max {
                match cs.get(start + n).and_then(|c| c.to_digit(8)) {
                    Some(d) => {
                        v = v * 8 + d;
                        n += 1;
                    }
                    None => break,
                }
            }
            (vec![(v & 0xff) as u8], start - i + n, false)
        }
        other => (format!("\\{other}").into_bytes(), 1, false),
    }
}

/// Expands escapes in `s`; the flag is `\c` (stop).
fn unescape(s: &str, octal_zero: bool) -> (Vec<u8>, bool) {
    let cs: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < cs.len() {
        if cs[i] == '\\' && i + 1 < cs.len() {
            let (b, used, stop) = escape(&cs, i + 1, octal_zero);
            out.extend_from_slice(&b);
            if stop {
                return (out, true);
            }
            i += 1 + used;
        } else {
            out.extend_from_slice(&to_bytes(&cs[i].to_string()));
            i += 1;
        }
    }
    (out, false)
}

pub(crate) fn echo(_: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let mut newline = true;
    let mut escapes = false;
    let mut k = 1;
    while let Some(a) = argv.get(k) {
        if a.len() > 1 && a.starts_with('-') && a[1..].chars().all(|c| matches!(c, 'n' | 'e' | 'E'))
        {
            for c in a[1..].chars() {
                match c {
                    'n' => newline = false,
                    'e' => escapes = true,
                    _ => escapes = false,
                }
            }
            k += 1;
        } else {
            break;
        }
    }
    let mut out = Vec::new();
    for (i, a) in argv[k.min(argv.len())..].iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        if escapes {
            let (b, stop) = unescape(a, true);
            out.extend_from_slice(&b);
            if stop {
                rt.out(io, &out);
                return 0;
            }
        } else {
            out.extend_from_slice(&to_bytes(a));
        }
    }
    if newline {
        out.push(b'\n');
    }
    rt.out(io, &out);
    0
}

/// A number argument of printf (`'c` is the character's code).
fn num_arg(a: &str) -> Result<i64, ()> {
    let t = a.trim();
    if let Some(c) = t.strip_prefix('\'').or_else(|| t.strip_prefix('"')) {
        return Ok(c.chars().next().map_or(0, |c| c as i64));
    }
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let v = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).map_err(|_| ())?
    } else if body.len() > 1 && body.starts_with('0') {
        i64::from_str_radix(&body[1..], 8).map_err(|_| ())?
    } else if body.is_empty() {
        0
    } else {
        body.parse::<i64>().map_err(|_| ())?
    };
    Ok(if neg { -v } else { v })
}

pub(crate) fn printf(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let mut args: &[String] = &argv[1..];
    let mut var = None;
    if args.first().is_some_and(|a| a == "-v") {
        var = args.get(1).cloned();
        args = args.get(2..).unwrap_or(&[]);
    }
    if args.first().is_some_and(|a| a == "--") {
        args = &args[1..];
    }
    let Some(fmt) = args.first() else {
        err!(
            rt,
            io,
            "{}: printf: usage: printf [-v var] format [arguments]\n",
            rt.prefix
        );
        return 2;
    };
    let fcs: Vec<char> = fmt.chars().collect();
    let mut rest = &args[1..];
    let mut out: Vec<u8> = Vec::new();
    let mut status = 0;
    let mut rounds = 0;
    loop {
        rounds += 1;
        let mut used_any = false;
        let mut i = 0;
        while i < fcs.len() {
            let c = fcs[i];
            if c == '\\' {
                let (b, used, stop) = escape(&fcs, i + 1, false);
                out.extend_from_slice(&b);
                if stop {
                    rt.out(io, &out);
                    return status;
                }
                i += 1 + used;
                continue;
            }
            if c != '%' {
                out.extend_from_slice(&to_bytes(&c.to_string()));
                i += 1;
                continue;
            }
            if fcs.get(i + 1) == Some(&'%') {
                out.push(b'%');
                i += 2;
                continue;
            }
            // %[flags][width][.prec]conv
            let start = i;
            i += 1;
            let mut flags = String::new();
            while let Some(&f) = fcs.get(i) {
                if "-+ 0#".contains(f) {
                    flags.push(f);
                    i += 1;
                } else {
                    break;
                }
            }
            let take_num = |i: &mut usize, rest: &mut &[String]| -> Option<usize> {
                if fcs.get(*i) == Some(&'*') {
                    *i += 1;
                    let v = rest.first().and_then(|a| num_arg(a).ok()).unwrap_or(0);
                    *rest = rest.get(1..).unwrap_or(&[]);
                    return Some(v.clamp(0, 4096) as usize);
                }
                let s = *i;
                while fcs.get(*i).is_some_and(|c| c.is_ascii_digit()) {
                    *i += 1;
                }
                (*i > s).then(|| {
                    fcs[s..*i]
                        .iter()
                        .collect::<String>()
                        .parse::<usize>()
                        .unwrap_or(0)
                        .min(4096)
                })
            };
            let width = take_num(&mut i, &mut rest);
            let prec = if fcs.get(i) == Some(&'.') {
                i += 1;
                Some(take_num(&mut i, &mut rest).unwrap_or(0))
            } else {
                None
            };
            while fcs
                .get(i)
                .is_some_and(|c| matches!(c, 'l' | 'h' | 'q' | 'j' | 'z' | 't' | 'L'))
            {
                i += 1;
            }
            let Some(&conv) = fcs.get(i) else {
                let spec: String = fcs[start..].iter().collect();
                err!(
                    rt,
                    io,
                    "{}: printf: `{spec}': missing format character\n",
                    rt.prefix
                );
                rt.out(io, &out);
                return 1;
            };
            i += 1;
            let arg = rest.first().cloned();
            if !matches!(conv, '%') {
                rest = rest.get(1..).unwrap_or(&[]);
                used_any = true;
            }
            let body: Vec<u8> = match conv {
                's' => {
                    let mut s = arg.unwrap_or_default();
                    if let Some(p) = prec {
                        s = s.chars().take(p).collect();
                    }
                    to_bytes(&s)
                }
                'b' => unescape(&arg.unwrap_or_default(), true).0,
                'c' => arg
                    .and_then(|a| a.chars().next())
                    .map(|c| to_bytes(&c.to_string()))
                    .unwrap_or_default(),
                'q' => {
                    let a = arg.unwrap_or_default();
                    if a.is_empty() {
                        b"''".to_vec()
                    } else if a
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,".contains(c))
                    {
                        a.into_bytes()
                    } else {
                        let mut q = String::new();
                        for ch in a.chars() {
                            if !(ch.is_ascii_alphanumeric() || "/._-+=:,".contains(ch)) {
                                q.push('\\');
                            }
                            q.push(ch);
                        }
                        q.into_bytes()
                    }
                }
                'd' | 'i' | 'u' | 'x' | 'X' | 'o' => {
                    let a = arg.unwrap_or_default();
                    let v = match num_arg(&a) {
                        Ok(v) => v,
                        Err(()) => {
                            err!(rt, io, "{}: printf: {a}: invalid number\n", rt.prefix);
                            status = 1;
                            0
                        }
                    };
                    let mut s = match conv {
                        'x' => format!("{v:x}"),
                        'X' => format!("{v:X}"),
                        'o' => format!("{v:o}"),
                        'u' => format!("{}", v as u64),
                        _ => v.abs().to_string(),
                    };
                    if let Some(p) = prec {
                        while s.len() < p {
                            s.insert(0, '0');
                        }
                    }
                    if flags.contains('#') && v != 0 {
                        match conv {
                            'x' => s.insert_str(0, "0x"),
                            'X' => s.insert_str(0, "0X"),
                            'o' => s.insert(0, '0'),
                            _ => {}
                        }
                    }
                    let sign = if matches!(conv, 'd' | 'i') {
                        if v < 0 {
                            "-"
                        } else if flags.contains('+') {
                            "+"
                        } else if flags.contains(' ') {
                            " "
                        } else {
                            ""
                        }
                    } else {
                        ""
                    };
                    if flags.contains('0') && !flags.contains('-') && prec.is_none() {
                        let w = width.unwrap_or(0).saturating_sub(sign.len());
                        while s.len() < w {
                            s.insert(0, '0');
                        }
                    }
                    format!("{sign}{s}").into_bytes()
                }
                'f' | 'F' | 'e' | 'E' | 'g' | 'G' => {
                    let a = arg.unwrap_or_default();
                    let v: f64 = a.trim().parse().unwrap_or_else(|_| {
                        if !a.is_empty() {
                            status = 1;
                        }
                        0.0
                    });
                    let p = prec.unwrap_or(6);
                    match conv {
                        'e' | 'E' => {
                            let s = format!("{v:.p$e}");
                            if conv == 'E' { s.to_uppercase() } else { s }.into_bytes()
                        }
                        'g' | 'G' => format!("{v}").into_bytes(),
                        _ => format!("{v:.p$}").into_bytes(),
                    }
                }
                other => {
                    err!(
                        rt,
                        io,
                        "{}: printf: `{other}': invalid format character\n",
                        rt.prefix
                    );
                    rt.out(io, &out);
                    return 1;
                }
            };
            let w = width.unwrap_or(0);
            let len = String::from_utf8_lossy(&body).chars().count();
            if len < w {
                let pad = vec![b' '; w - len];
                if flags.contains('-') {
                    out.extend_from_slice(&body);
                    out.extend_from_slice(&pad);
                } else {
                    out.extend_from_slice(&pad);
                    out.extend_from_slice(&body);
                }
            } else {
                out.extend_from_slice(&body);
            }
            if out.len() > rt_cap(rt) {
                break;
            }
        }
        if rest.is_empty() || !used_any || rounds > 10_000 || out.len() > rt_cap(rt) {
            break;
        }
    }
    match var {
        Some(v) => {
            let s = super::expand::bytes_to_string(&out);
            sh.set_var(&v, &s);
        }
        None => rt.out(io, &out),
    }
    status
}

fn rt_cap(_: &Run) -> usize {
    1 << 20
}

/// Splits bytes into lines (without their newlines).
fn lines(d: &[u8]) -> Vec<&[u8]> {
    let mut v: Vec<&[u8]> = d.split(|&b| b == b'\n').collect();
    if d.ends_with(b"\n") || d.is_empty() {
        v.pop();
    }
    v
}

pub(crate) fn grep(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let cmd = name_of(argv);
    let o = getopt(argv, "efmABCd", Some("ivcnlLoqshHrREFwxPaIUzZbTV"));
    if let Some(c) = o.bad {
        err!(rt, io, "grep: invalid option -- '{c}'\nUsage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n");
        return 2;
    }
    let mut ops = o.ops.clone();
    let mut pats: Vec<String> = o
        .vals
        .iter()
        .filter(|(k, _)| *k == 'e')
        .map(|(_, v)| v.clone())
        .collect();
    if let Some(f) = o.val('f') {
        match sh.read_path(rt, f, 1 << 16) {
            Ok(b) => pats.extend(String::from_utf8_lossy(&b).lines().map(String::from)),
            Err(e) => {
                err!(rt, io, "grep: {f}: {}\n", e.msg());
                return 2;
            }
        }
    }
    if pats.is_empty() {
        if ops.is_empty() {
            err!(rt, io, "Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n");
            return 2;
        }
        pats = ops.remove(0).split('\n').map(String::from).collect();
    }
    let icase = o.has('i') || o.long_has("ignore-case");
    let fixed = o.has('F') || cmd == "fgrep";
    let ere = o.has('E') || o.has('P') || cmd == "egrep";
    let word = o.has('w');
    let whole = o.has('x');
    let mut res = Vec::new();
    for p in &pats {
        let p = if word && !fixed {
            format!("\\b{p}\\b")
        } else {
            p.clone()
        };
        let r = if fixed {
            Ok(Regex::literal(&p, icase))
        } else {
            Regex::new(&p, ere, icase)
        };
        match r {
            Ok(r) => res.push(r),
            Err(e) => {
                err!(rt, io, "grep: {e}\n");
                return 2;
            }
        }
    }
    let recursive = o.has('r') || o.has('R');
    // the files: recursion expands directories
    let mut files: Vec<String> = Vec::new();
    for f in &ops {
        if recursive {
            let abs = sh.abs(f);
            let mut stack = vec![(f.clone(), abs)];
            let mut seen = 0;
            while let Some((shown, abs)) = stack.pop() {
                seen += 1;
                if seen > 5000 || !rt.work(1) {
                    break;
                }
                match sh.fs().stat(&abs, true) {
                    Ok((p, n)) if n.is_dir() => {
                        let p = p.clone();
                        if let Ok(l) = sh.fs().list(&p) {
                            let kids: Vec<(String, String)> = l
                                .iter()
                                .filter(|(_, n)| !n.is_link() && !matches!(n.kind, Kind::Dev(_)))
                                .map(|(name, _)| {
                                    (
                                        format!("{}/{name}", shown.trim_end_matches('/')),
                                        super::fs::join(&p, name),
                                    )
                                })
                                .collect();
                            stack.extend(kids.into_iter().rev());
                        }
                    }
                    _ => files.push(shown),
                }
            }
        } else {
            files.push(f.clone());
        }
    }
    if recursive && ops.is_empty() {
        files.push(".".into());
    }
    let many = (files.len() > 1 || recursive) && !o.has('h');
    let show_name = many || o.has('H');
    let quiet = o.has('q');
    let limit = sh.limits.max_output.max(sh.limits.max_fs_bytes) + 1;
    let mut any = false;
    let mut err_any = false;
    let list = if files.is_empty() {
        vec!["-".to_string()]
    } else {
        files
    };
    for f in &list {
        let data = if f == "-" {
            let mut d = io.stdin.take_all();
            d.truncate(limit);
            d
        } else {
            match sh.read_path(rt, f, limit) {
                Ok(d) => d,
                Err(e) => {
                    if !o.has('s') {
                        err!(rt, io, "grep: {f}: {}\n", e.msg());
                    }
                    err_any = true;
                    continue;
                }
            }
        };
        let shown = if f == "-" {
            "(standard input)".to_string()
        } else {
            f.clone()
        };
        let binary = data[..data.len().min(32 * 1024)].contains(&0) && !o.has('a');
        let mut count = 0usize;
        let mut matched_file = false;
        for (n, line) in lines(&data).iter().enumerate() {
            let text = String::from_utf8_lossy(&line[..line.len().min(64 * 1024)]);
            let chars: Vec<char> = text.chars().collect();
            let hit = res.iter().find_map(|r| {
                let mut from = 0;
                while from <= chars.len() {
                    let (s, e) = r.find_at(&chars, from)?;
                    if !whole || (s == 0 && e == chars.len()) {
                        return Some((s, e));
                    }
                    from = s + 1;
                }
                None
            });
            let selected = hit.is_some() != o.has('v');
            if !selected {
                continue;
            }
            count += 1;
            matched_file = true;
            any = true;
            if quiet {
                return 0;
            }
            if o.has('c') || o.has('l') || o.has('L') || binary {
                continue;
            }
            let prefix = match (show_name, o.has('n')) {
                (true, true) => format!("{shown}:{}:", n + 1),
                (true, false) => format!("{shown}:"),
                (false, true) => format!("{}:", n + 1),
                _ => String::new(),
            };
            if o.has('o') {
                if let Some(r) = res.first() {
                    let mut from = 0;
                    while let Some((s, e)) = r.find_at(&chars, from) {
                        if e > s {
                            let m: String = chars[s..e].iter().collect();
                            out!(rt, io, "{prefix}{m}\n");
                        }
                        from = if e > s { e } else { s + 1 };
                        if from > chars.len() {
                            break;
                        }
                    }
                }
            } else {
                let mut b = prefix.into_bytes();
                b.extend_from_slice(line);
                b.push(b'\n');
                rt.out(io, &b);
            }
        }
        if o.has('c') {
            if show_name {
                out!(rt, io, "{shown}:{count}\n");
            } else {
                out!(rt, io, "{count}\n");
            }
        } else if (o.has('l') && matched_file) || (o.has('L') && !matched_file) {
            out!(rt, io, "{shown}\n");
        } else if binary && matched_file {
            out!(rt, io, "grep: {shown}: binary file matches\n");
        }
    }
    if err_any && !any {
        2
    } else {
        i32::from(!any)
    }
}

/// A sort key: the fields from `k` (1-based, `k,e`) split on `sep` (blanks by default).
fn key_of<'a>(
    line: &'a str,
    key: Option<(usize, Option<usize>)>,
    sep: Option<char>,
) -> std::borrow::Cow<'a, str> {
    let Some((k, e)) = key else {
        return line.into();
    };
    let fields: Vec<&str> = match sep {
        Some(c) => line.split(c).collect(),
        None => line.split_whitespace().collect(),
    };
    let end = e.unwrap_or(fields.len()).min(fields.len());
    if k == 0 || k > fields.len() || end < k {
        return "".into();
    }
    fields[k - 1..end]
        .join(&sep.map_or(" ".to_string(), |c| c.to_string()))
        .into()
}

/// The leading number of a string (`sort -n`).
fn leading_num(s: &str) -> f64 {
    let t = s.trim_start();
    let end = t
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && c == '-')))
        .map_or(t.len(), |(i, _)| i);
    t[..end].parse().unwrap_or(0.0)
}

/// A human size (`sort -h`): 2K < 1M.
fn human_num(s: &str) -> f64 {
    let t = s.trim();
    let n = leading_num(t);
    let unit = t
        .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c == '-')
        .chars()
        .next();
    let m = match unit.map(|c| c.to_ascii_uppercase()) {
        Some('K') => 1e3,
        Some('M') => 1e6,
        Some('G') => 1e9,
        Some('T') => 1e12,
        _ => 1.0,
    };
    n * m
}

pub(crate) fn sort(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "ktoST", Some("rnufhbVMRsdgcm"));
    if let Some(c) = o.bad {
        bad_option(rt, io, "sort", c);
        return 2;
    }
    let limit = sh.limits.max_output.max(sh.limits.max_fs_bytes) + 1;
    let (ins, failed) = inputs(sh, rt, io, "sort", &o.ops, limit);
    if failed {
        return 2;
    }
    let data: Vec<u8> = ins
        .into_iter()
        .flat_map(|(_, mut d)| {
            if !d.is_empty() && !d.ends_with(b"\n") {
                d.push(b'\n');
            }
            d
        })
        .collect();
    let text = String::from_utf8_lossy(&data).into_owned();
    let mut ls: Vec<&str> = text.lines().collect();
    let key = o.val('k').map(|k| {
        let mut p = k.split(',');
        let a = p
            .next()
            .and_then(|x| x.split('.').next())
            .and_then(|x| x.trim_end_matches(|c: char| c.is_alphabetic()).parse().ok())
            .unwrap_or(1);
        let b = p
            .next()
            .and_then(|x| x.split('.').next())
            .and_then(|x| x.trim_end_matches(|c: char| c.is_alphabetic()).parse().ok());
        (a, b)
    });
    let sep = o.val('t').and_then(|t| t.chars().next());
    let numeric = o.has('n') || o.has('g') || o.val('k').is_some_and(|k| k.contains('n'));
    let human = o.has('h');
    let fold = o.has('f');
    let rev = o.has('r') || o.val('k').is_some_and(|k| k.ends_with('r'));
    ls.sort_by(|a, b| {
        let (ka, kb) = (key_of(a, key, sep), key_of(b, key, sep));
        let ord = if human {
            human_num(&ka)
                .partial_cmp(&human_num(&kb))
                .unwrap_or(std::cmp::Ordering::Equal)
        } else if numeric {
            leading_num(&ka)
                .partial_cmp(&leading_num(&kb))
                .unwrap_or(std::cmp::Ordering::Equal)
        } else if fold {
            ka.to_lowercase().cmp(&kb.to_lowercase())
        } else {
            ka.cmp(&kb)
        };
        let ord = ord.then_with(|| {
            if key.is_some() || numeric {
                a.cmp(b)
            } else {
                std::cmp::Ordering::Equal
            }
        });
        if rev {
            ord.reverse()
        } else {
            ord
        }
    });
    if o.has('u') {
        ls.dedup_by(|a, b| key_of(a, key, sep) == key_of(b, key, sep));
    }
    let mut out = String::with_capacity(text.len());
    for l in ls {
        out.push_str(l);
        out.push('\n');
    }
    if let Some(f) = o.val('o') {
        return i32::from(!sh.write_for(rt, io, "sort", f, &to_bytes(&out), false));
    }
    rt.out(io, &to_bytes(&out));
    0
}

pub(crate) fn uniq(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "fsw", Some("cduiz"));
    if let Some(c) = o.bad {
        bad_option(rt, io, "uniq", c);
        return 1;
    }
    let (ins, failed) = inputs(
        sh,
        rt,
        io,
        "uniq",
        &o.ops[..o.ops.len().min(1)],
        sh.limits.max_output + 1,
    );
    if failed {
        return 1;
    }
    let data: Vec<u8> = ins.into_iter().flat_map(|(_, d)| d).collect();
    let icase = o.has('i');
    let mut groups: Vec<(&[u8], usize)> = Vec::new();
    for l in lines(&data) {
        match groups.last_mut() {
            Some((prev, n)) if *prev == l || (icase && prev.eq_ignore_ascii_case(l)) => *n += 1,
            _ => groups.push((l, 1)),
        }
    }
    let mut out = Vec::new();
    for (l, n) in groups {
        if (o.has('d') && n < 2) || (o.has('u') && n > 1) {
            continue;
        }
        if o.has('c') {
            out.extend_from_slice(format!("{n:7} ").as_bytes());
        }
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    rt.out(io, &out);
    0
}

/// A cut list (`1,3-5,7-`): inclusive 1-based ranges.
fn ranges(spec: &str) -> Option<Vec<(usize, usize)>> {
    let mut v = Vec::new();
    for part in spec.split(',') {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (
                if a.is_empty() { 1 } else { a.parse().ok()? },
                if b.is_empty() {
                    usize::MAX
                } else {
                    b.parse().ok()?
                },
            ),
            None => {
                let n = part.parse().ok()?;
                (n, n)
            }
        };
        if a == 0 || b < a {
            return None;
        }
        v.push((a, b));
    }
    Some(v)
}

pub(crate) fn cut(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "dfcb", Some("snz"));
    let (spec, mode) = match (o.val('f'), o.val('c'), o.val('b')) {
        (Some(f), _, _) => (f, 'f'),
        (_, Some(c), _) => (c, 'c'),
        (_, _, Some(b)) => (b, 'b'),
        _ => {
            err!(rt, io, "cut: you must specify a list of bytes, characters, or fields\nTry 'cut --help' for more information.\n");
            return 1;
        }
    };
    let Some(rs) = ranges(spec) else {
        err!(
            rt,
            io,
            "cut: invalid field value ‘{spec}’\nTry 'cut --help' for more information.\n"
        );
        return 1;
    };
    let delim = o
        .val('d')
        .map(|d| d.chars().next().unwrap_or('\t'))
        .unwrap_or('\t');
    if o.val('d').is_some_and(|d| d.chars().count() > 1) {
        err!(rt, io, "cut: the delimiter must be a single character\nTry 'cut --help' for more information.\n");
        return 1;
    }
    let (ins, failed) = inputs(sh, rt, io, "cut", &o.ops, sh.limits.max_output + 1);
    let within = |i: usize| rs.iter().any(|&(a, b)| a <= i && i <= b);
    let mut out = Vec::new();
    for (_, d) in ins {
        for l in lines(&d) {
            match mode {
                'f' => {
                    let text = String::from_utf8_lossy(l);
                    if !text.contains(delim) {
                        if !o.has('s') {
                            out.extend_from_slice(l);
                            out.push(b'\n');
                        }
                        continue;
                    }
                    let picked: Vec<&str> = text
                        .split(delim)
                        .enumerate()
                        .filter(|(i, _)| within(i + 1))
                        .map(|(_, f)| f)
                        .collect();
                    out.extend_from_slice(&to_bytes(&picked.join(&delim.to_string())));
                }
                'c' => {
                    let text = String::from_utf8_lossy(l);
                    let s: String = text
                        .chars()
                        .enumerate()
                        .filter(|(i, _)| within(i + 1))
                        .map(|(_, c)| c)
                        .collect();
                    out.extend_from_slice(s.as_bytes());
                }
                _ => out.extend(
                    l.iter()
                        .enumerate()
                        .filter(|(i, _)| within(i + 1))
                        .map(|(_, b)| *b),
                ),
            }
            out.push(b'\n');
        }
    }
    rt.out(io, &out);
    i32::from(failed)
}

/// A tr set expanded to bytes: ranges, classes, escapes.
fn tr_set(s: &str) -> Vec<u8> {
    let b = to_bytes(s);
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'[' && b.get(i + 1) == Some(&b':') {
            if let Some(end) = b[i + 2..].windows(2).position(|w| w == b":]") {
                let name = String::from_utf8_lossy(&b[i + 2..i + 2 + end]).into_owned();
                let f: fn(&u8) -> bool = match name.as_str() {
                    "lower" => u8::is_ascii_lowercase,
                    "upper" => u8::is_ascii_uppercase,
                    "digit" => u8::is_ascii_digit,
                    "alpha" => u8::is_ascii_alphabetic,
                    "alnum" => u8::is_ascii_alphanumeric,
                    "space" => u8::is_ascii_whitespace,
                    "punct" => u8::is_ascii_punctuation,
                    "xdigit" => u8::is_ascii_hexdigit,
                    "blank" => |c| *c == b' ' || *c == b'\t',
                    "cntrl" => u8::is_ascii_control,
                    _ => |_| false,
                };
                out.extend((0u8..=255).filter(f));
                i += end + 4;
                continue;
            }
        }
        let (c, used) = if b[i] == b'\\' && i + 1 < b.len() {
            match b[i + 1] {
                b'n' => (b'\n', 2),
                b't' => (b'\t', 2),
                b'r' => (b'\r', 2),
                b'\\' => (b'\\', 2),
                d @ b'0'..=b'7' => {
                    let mut v = u32::from(d - b'0');
                    let mut k = 2;
                    while k < 4 && b.get(i + k).is_some_and(|x| (b'0'..=b'7').contains(x)) {
                        v = v * 8 + u32::from(b[i + k] - b'0');
                        k += 1;
                    }
                    ((v & 0xff) as u8, k)
                }
                x => (x, 2),
            }
        } else {
            (b[i], 1)
        };
        if b.get(i + used) == Some(&b'-') && i + used + 1 < b.len() {
            let hi = b[i + used + 1];
            if hi >= c {
                out.extend(c..=hi);
                i += used + 2;
                continue;
            }
        }
        out.push(c);
        i += used;
    }
    out
}

pub(crate) fn tr(_: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "", Some("dscCt"));
    if let Some(c) = o.bad {
        bad_option(rt, io, "tr", c);
        return 1;
    }
    let delete = o.has('d');
    let squeeze = o.has('s');
    let complement = o.has('c') || o.has('C');
    if o.ops.is_empty() || (!delete && !squeeze && o.ops.len() < 2) {
        if o.ops.is_empty() {
            err!(
                rt,
                io,
                "tr: missing operand\nTry 'tr --help' for more information.\n"
            );
        } else {
            err!(rt, io, "tr: missing operand after ‘{}’\nTwo strings must be given when translating.\nTry 'tr --help' for more information.\n", o.ops[0]);
        }
        return 1;
    }
    let mut s1 = tr_set(&o.ops[0]);
    if complement {
        s1 = (0u8..=255).filter(|b| !s1.contains(b)).collect();
    }
    let s2 = o.ops.get(1).map(|s| tr_set(s)).unwrap_or_default();
    let data = io.stdin.take_all();
    let mut map: [Option<u8>; 256] = [None; 256];
    if !delete {
        for (i, &c) in s1.iter().enumerate() {
            if let Some(&last) = s2.last() {
                map[c as usize] = Some(*s2.get(i).unwrap_or(&last));
            }
        }
    }
    let squeeze_set: Vec<u8> = if delete {
        s2.clone()
    } else if s2.is_empty() {
        s1.clone()
    } else {
        s2.clone()
    };
    let mut out = Vec::with_capacity(data.len());
    for b in data {
        if delete && s1.contains(&b) {
            continue;
        }
        let c = map[b as usize].unwrap_or(b);
        if squeeze && squeeze_set.contains(&c) && out.last() == Some(&c) {
            continue;
        }
        out.push(c);
    }
    rt.out(io, &out);
    0
}

pub(crate) fn yes(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let word = if argv.len() > 1 {
        argv[1..].join(" ")
    } else {
        "y".into()
    };
    let line = to_bytes(&format!("{word}\n"));
    // the terminal (or the next command) gets more than it can take: cut there
    let target = sh.limits.max_output + 1;
    let mut buf = Vec::with_capacity(target.min(1 << 20));
    while buf.len() < target {
        buf.extend_from_slice(&line);
    }
    rt.out(io, &buf);
    0
}

pub(crate) fn seq(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "sf", Some("w"));
    let nums: Vec<f64> = o.ops.iter().filter_map(|a| a.parse().ok()).collect();
    if nums.len() != o.ops.len() || nums.is_empty() || nums.len() > 3 {
        if let Some(bad) = o.ops.iter().find(|a| a.parse::<f64>().is_err()) {
            err!(rt, io, "seq: invalid floating point argument: ‘{bad}’\nTry 'seq --help' for more information.\n");
        } else {
            err!(
                rt,
                io,
                "seq: missing operand\nTry 'seq --help' for more information.\n"
            );
        }
        return 1;
    }
    let (first, step, last) = match nums.as_slice() {
        [l] => (1.0, 1.0, *l),
        [f, l] => (*f, 1.0, *l),
        [f, s, l] => (*f, *s, *l),
        _ => return 1,
    };
    if step == 0.0 {
        err!(
            rt,
            io,
            "seq: invalid Zero increment value: ‘0’\nTry 'seq --help' for more information.\n"
        );
        return 1;
    }
    let sep = o.val('s').unwrap_or("\n");
    let int = o.ops.iter().all(|a| !a.contains('.'));
    let width = if o.has('w') {
        format!("{}", last as i64).len()
    } else {
        0
    };
    let mut out = String::new();
    let mut v = first;
    let cap = sh.limits.max_output + 1;
    let mut n = 0u64;
    while (step > 0.0 && v <= last) || (step < 0.0 && v >= last) {
        if n > 0 {
            out.push_str(sep);
        }
        if int {
            out.push_str(&format!("{:0width$}", v as i64));
        } else {
            out.push_str(&format!("{v}"));
        }
        n += 1;
        v = first + step * n as f64;
        if out.len() > cap {
            break;
        }
    }
    if n > 0 {
        out.push('\n');
    }
    rt.out(io, out.as_bytes());
    0
}

pub(crate) fn expr(_: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let a: Vec<&str> = argv.iter().skip(1).map(String::as_str).collect();
    let num = |s: &str| s.parse::<i64>().ok();
    let res: Result<String, String> = match a.as_slice() {
        [] => Err("missing operand".into()),
        [x] => Ok(x.to_string()),
        ["length", s] => Ok(s.chars().count().to_string()),
        ["substr", s, p, l] => match (num(p), num(l)) {
            (Some(p), Some(l)) if p > 0 && l > 0 => {
                Ok(s.chars().skip(p as usize - 1).take(l as usize).collect())
            }
            _ => Ok(String::new()),
        },
        ["index", s, chars] => Ok(s
            .chars()
            .position(|c| chars.contains(c))
            .map_or(0, |p| p + 1)
            .to_string()),
        [l, op, r] => match (num(l), num(r), *op) {
            (Some(x), Some(y), "+") => Ok(x.wrapping_add(y).to_string()),
            (Some(x), Some(y), "-") => Ok(x.wrapping_sub(y).to_string()),
            (Some(x), Some(y), "*") => Ok(x.wrapping_mul(y).to_string()),
            (Some(_), Some(0), "/" | "%") => Err("division by zero".into()),
            (Some(x), Some(y), "/") => Ok(x.wrapping_div(y).to_string()),
            (Some(x), Some(y), "%") => Ok(x.wrapping_rem(y).to_string()),
            (_, _, "+" | "-" | "*" | "/" | "%") => Err("non-integer argument".into()),
            (x, y, cmp @ ("<" | "<=" | "=" | "==" | "!=" | ">=" | ">")) => {
                let ord = match (x, y) {
                    (Some(x), Some(y)) => x.cmp(&y),
                    _ => l.cmp(r),
                };
                let t = match cmp {
                    "<" => ord.is_lt(),
                    "<=" => ord.is_le(),
                    "=" | "==" => ord.is_eq(),
                    "!=" => ord.is_ne(),
                    ">=" => ord.is_ge(),
                    _ => ord.is_gt(),
                };
                Ok(i32::from(t).to_string())
            }
            (_, _, ":") => match Regex::new(&format!("^{r}"), false, false) {
                Ok(re) => {
                    let cs: Vec<char> = l.chars().collect();
                    Ok(re
                        .find_at(&cs, 0)
                        .map_or(0, |(s, e)| if s == 0 { e } else { 0 })
                        .to_string())
                }
                Err(e) => Err(e),
            },
            _ => Err(format!("syntax error: unexpected argument ‘{r}’")),
        },
        _ => Err(format!(
            "syntax error: unexpected argument ‘{}’",
            a.get(3).unwrap_or(&"")
        )),
    };
    match res {
        Ok(v) => {
            out!(rt, io, "{v}\n");
            i32::from(v == "0" || v.is_empty())
        }
        Err(e) => {
            err!(rt, io, "expr: {e}\n");
            2
        }
    }
}

/// `test`, `[` and `[[`.
pub(crate) fn test(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let name = argv[0].as_str();
    let mut args: Vec<&str> = argv.iter().skip(1).map(String::as_str).collect();
    if name == "[" || name == "[[" {
        let close = if name == "[" { "]" } else { "]]" };
        if args.last() != Some(&close) {
            err!(rt, io, "{}: {name}: missing `{close}'\n", rt.prefix);
            return 2;
        }
        args.pop();
    }
    let extended = name == "[[";
    match eval_test(sh, &args, extended, 0) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(m) => {
            err!(rt, io, "{}: {name}: {m}\n", rt.prefix);
            2
        }
    }
}

fn eval_test(sh: &mut Shell, a: &[&str], ext: bool, depth: usize) -> Result<bool, String> {
    if depth > 32 {
        return Err("expression too complex".into());
    }
    // -o lowest, then -a (and && || in [[ ]])
    let or2 = if ext { "||" } else { "-o" };
    if let Some(k) = a.iter().position(|x| *x == "-o" || *x == or2) {
        if k > 0 {
            return Ok(eval_test(sh, &a[..k], ext, depth + 1)?
                || eval_test(sh, &a[k + 1..], ext, depth + 1)?);
        }
    }
    let and2 = if ext { "&&" } else { "-a" };
    if let Some(k) = a.iter().position(|x| *x == "-a" || *x == and2) {
        if k > 0 {
            return Ok(eval_test(sh, &a[..k], ext, depth + 1)?
                && eval_test(sh, &a[k + 1..], ext, depth + 1)?);
        }
    }
    match a {
        [] => Ok(false),
        ["!", rest @ ..] => Ok(!eval_test(sh, rest, ext, depth + 1)?),
        ["(", inner @ .., ")"] => eval_test(sh, inner, ext, depth + 1),
        [s] => Ok(!s.is_empty()),
        [op, x] => unary(sh, op, x),
        [l, op, r] => binary(sh, l, op, r, ext),
        _ => Err("too many arguments".into()),
    }
}

fn unary(sh: &mut Shell, op: &str, x: &str) -> Result<bool, String> {
    let abs = sh.abs(x);
    let follow = !matches!(op, "-L" | "-h");
    let cred = sh.cred();
    let node = if x.is_empty() {
        None
    } else {
        sh.fs().stat(&abs, follow).ok().map(|(_, n)| n.clone())
    };
    Ok(match op {
        "-z" => x.is_empty(),
        "-n" => !x.is_empty(),
        "-e" | "-a" => node.is_some(),
        "-f" => node.is_some_and(|n| matches!(n.kind, Kind::File(_))),
        "-d" => node.is_some_and(|n| n.is_dir()),
        "-L" | "-h" => node.is_some_and(|n| n.is_link()),
        "-s" => node.is_some_and(|n| n.size() > 0),
        "-r" => node.is_some_and(|n| cred.may(&n, 4)),
        "-w" => node.is_some_and(|n| cred.may(&n, 2)),
        "-x" => node.is_some_and(|n| cred.may(&n, 1)),
        "-c" => node.is_some_and(|n| matches!(&n.kind, Kind::Dev(d) if !d.block)),
        "-b" => node.is_some_and(|n| matches!(&n.kind, Kind::Dev(d) if d.block)),
        "-p" | "-S" | "-t" | "-g" | "-k" | "-O" | "-G" | "-N" => {
            if op == "-O" {
                node.is_some_and(|n| n.uid == cred.uid)
            } else if op == "-u" {
                node.is_some_and(|n| n.mode & 0o4000 != 0)
            } else {
                false
            }
        }
        "-u" => node.is_some_and(|n| n.mode & 0o4000 != 0),
        _ => return Err(format!("{op}: unary operator expected")),
    })
}

fn binary(sh: &mut Shell, l: &str, op: &str, r: &str, ext: bool) -> Result<bool, String> {
    let int = |s: &str| {
        s.trim()
            .parse::<i64>()
            .map_err(|_| format!("{s}: integer expression expected"))
    };
    Ok(match op {
        "=" | "==" if ext => fnmatch(
            &r.chars().collect::<Vec<_>>(),
            &l.chars().collect::<Vec<_>>(),
        ),
        "!=" if ext => !fnmatch(
            &r.chars().collect::<Vec<_>>(),
            &l.chars().collect::<Vec<_>>(),
        ),
        "=" | "==" => l == r,
        "!=" => l != r,
        "<" => l < r,
        ">" => l > r,
        "=~" => Regex::new(r, true, false)
            .map(|re| re.is_match(l))
            .unwrap_or(false),
        "-eq" => int(l)? == int(r)?,
        "-ne" => int(l)? != int(r)?,
        "-lt" => int(l)? < int(r)?,
        "-le" => int(l)? <= int(r)?,
        "-gt" => int(l)? > int(r)?,
        "-ge" => int(l)? >= int(r)?,
        "-nt" | "-ot" | "-ef" => {
            let (a, b) = (sh.abs(l), sh.abs(r));
            let ta = sh.fs().stat(&a, true).map(|(_, n)| n.mtime).ok();
            let tb = sh.fs().stat(&b, true).map(|(_, n)| n.mtime).ok();
            match op {
                "-nt" => ta.is_some() && (tb.is_none() || ta > tb),
                "-ot" => tb.is_some() && (ta.is_none() || ta < tb),
                _ => ta.is_some() && a == b,
            }
        }
        _ => return Err(format!("{op}: binary operator expected")),
    })
}

pub(crate) fn xargs(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    // options, then the command
    let mut k = 1;
    let mut per: Option<usize> = None;
    let mut replace: Option<String> = None;
    let mut null = false;
    while k < argv.len() && argv[k].starts_with('-') {
        match argv[k].as_str() {
            "-n" => {
                per = argv.get(k + 1).and_then(|v| v.parse().ok());
                k += 1;
            }
            "-I" | "-i" => {
                replace = Some(argv.get(k + 1).cloned().unwrap_or_else(|| "{}".into()));
                k += 1;
            }
            "-0" => null = true,
            "-d" | "-P" | "-L" | "-s" | "-a" | "-E" => k += 1,
            s if s.starts_with("-n") => per = s[2..].parse().ok(),
            _ => {}
        }
        k += 1;
    }
    let cmd: Vec<String> = if k < argv.len() {
        argv[k..].to_vec()
    } else {
        vec!["echo".into()]
    };
    let data = io.stdin.take_all();
    let text = super::expand::bytes_to_string(&data);
    let items: Vec<String> = if null {
        text.split('\0')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    } else if replace.is_some() {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.trim().to_string())
            .collect()
    } else {
        text.split_whitespace()
            .map(|s| s.trim_matches(['"', '\'']).to_string())
            .collect()
    };
    if items.is_empty() && replace.is_some() {
        return 0;
    }
    let mut st = 0;
    let batches: Vec<Vec<String>> = if let Some(r) = &replace {
        items
            .iter()
            .map(|it| cmd.iter().map(|w| w.replace(r.as_str(), it)).collect())
            .collect()
    } else {
        let n = per.unwrap_or(usize::MAX).max(1);
        let mut v = Vec::new();
        if items.is_empty() {
            v.push(cmd.clone());
        }
        for chunk in items.chunks(n.min(items.len().max(1))) {
            let mut words = cmd.clone();
            words.extend(chunk.iter().cloned());
            v.push(words);
        }
        v
    };
    for words in batches {
        if rt.halted {
            break;
        }
        let mut sub = Io {
            stdin: super::exec::Input::default(),
            out: io.out,
            err: io.err,
        };
        let s = sh.run_argv(rt, &mut sub, &words);
        if s != 0 {
            st = 123;
        }
    }
    st
}

// ---- sed ----

enum Addr {
    Line(usize),
    Last,
    Re(Regex),
}

enum SedCmd {
    Sub {
        re: Regex,
        rep: String,
        global: bool,
        nth: usize,
        print: bool,
    },
    Print,
    Delete,
    Quit,
    LineNo,
    Append(String),
    Insert(String),
}

struct SedRule {
    from: Option<Addr>,
    to: Option<Addr>,
    negate: bool,
    cmd: SedCmd,
}

fn sed_addr(cs: &[char], i: &mut usize, ere: bool) -> Result<Option<Addr>, String> {
    match cs.get(*i) {
        Some(c) if c.is_ascii_digit() => {
            let s = *i;
            while cs.get(*i).is_some_and(|c| c.is_ascii_digit()) {
                *i += 1;
            }
            Ok(Some(Addr::Line(
                cs[s..*i].iter().collect::<String>().parse().unwrap_or(0),
            )))
        }
        Some('$') => {
            *i += 1;
            Ok(Some(Addr::Last))
        }
        Some('/') => {
            *i += 1;
            let mut p = String::new();
            while let Some(&c) = cs.get(*i) {
                *i += 1;
                if c == '\\' && cs.get(*i) == Some(&'/') {
                    p.push('/');
                    *i += 1;
                } else if c == '/' {
                    return Regex::new(&p, ere, false).map(|r| Some(Addr::Re(r)));
                } else {
                    p.push(c);
                }
            }
            Err("unterminated address regex".into())
        }
        _ => Ok(None),
    }
}

fn sed_parse(script: &str, ere: bool) -> Result<Vec<SedRule>, String> {
    let cs: Vec<char> = script.chars().collect();
    let mut i = 0;
    let mut rules = Vec::new();
    while i < cs.len() {
        while cs.get(i).is_some_and(|c| c.is_whitespace() || *c == ';') {
            i += 1;
        }
        if i >= cs.len() {
            break;
        }
        let from = sed_addr(&cs, &mut i, ere)?;
        let mut to = None;
        if from.is_some() && cs.get(i) == Some(&',') {
            i += 1;
            to = sed_addr(&cs, &mut i, ere)?;
        }
        while cs.get(i) == Some(&' ') {
            i += 1;
        }
        let negate = cs.get(i) == Some(&'!');
        if negate {
            i += 1;
        }
        let Some(&c) = cs.get(i) else {
            return Err("missing command".into());
        };
        i += 1;
        let cmd = match c {
            's' => {
                let Some(&d) = cs.get(i) else {
                    return Err("unterminated `s' command".into());
                };
                i += 1;
                let mut parts = vec![String::new(), String::new()];
                for part in parts.iter_mut() {
                    loop {
                        let Some(&x) = cs.get(i) else {
                            return Err("unterminated `s' command".into());
                        };
                        i += 1;
                        if x == '\\' && cs.get(i) == Some(&d) {
                            part.push(d);
                            i += 1;
                        } else if x == d {
                            break;
                        } else {
                            part.push(x);
                        }
                    }
                }
                let (mut global, mut nth, mut print, mut icase) = (false, 1usize, false, false);
                while let Some(&f) = cs.get(i) {
                    match f {
                        'g' => global = true,
                        'p' => print = true,
                        'i' | 'I' => icase = true,
                        d if d.is_ascii_digit() => nth = d.to_digit(10).unwrap_or(1) as usize,
                        ';' | '\n' | ' ' | '}' => break,
                        other => return Err(format!("unknown option to `s': `{other}'")),
                    }
                    i += 1;
                }
                let re = Regex::new(&parts[0], ere, icase)?;
                SedCmd::Sub {
                    re,
                    rep: parts.pop().unwrap_or_default(),
                    global,
                    nth,
                    print,
                }
            }
            'p' => SedCmd::Print,
            'd' => SedCmd::Delete,
            'q' => SedCmd::Quit,
            '=' => SedCmd::LineNo,
            'a' | 'i' => {
                let text: String = cs[i..]
                    .iter()
                    .collect::<String>()
                    .trim_start_matches('\\')
                    .trim_start()
                    .to_string();
                i = cs.len();
                if c == 'a' {
                    SedCmd::Append(text)
                } else {
                    SedCmd::Insert(text)
                }
            }
            other => return Err(format!("unknown command: `{other}'")),
        };
        rules.push(SedRule {
            from,
            to,
            negate,
            cmd,
        });
    }
    Ok(rules)
}

/// The replacement text for one match (`&`, `\1`… (groups are the whole match here), `\n`).
fn sed_rep(rep: &str, m: &str) -> String {
    let mut out = String::new();
    let mut cs = rep.chars();
    while let Some(c) = cs.next() {
        match c {
            '&' => out.push_str(m),
            '\\' => match cs.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(d) if d.is_ascii_digit() => out.push_str(m),
                Some(o) => out.push(o),
                None => out.push('\\'),
            },
            o => out.push(o),
        }
    }
    out
}

pub(crate) fn sed(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "ef", Some("nirEsuz"));
    let mut ops = o.ops.clone();
    let mut script: Vec<String> = o
        .vals
        .iter()
        .filter(|(k, _)| *k == 'e')
        .map(|(_, v)| v.clone())
        .collect();
    if script.is_empty() {
        if ops.is_empty() {
            err!(
                rt,
                io,
                "Usage: sed [OPTION]... {{script-only-if-no-other-script}} [input-file]...\n"
            );
            return 1;
        }
        script.push(ops.remove(0));
    }
    let ere = o.has('E') || o.has('r');
    let rules = match sed_parse(&script.join("\n"), ere) {
        Ok(r) => r,
        Err(e) => {
            err!(
                rt,
                io,
                "sed: -e expression #1, char {}: {e}\n",
                script[0].chars().count()
            );
            return 1;
        }
    };
    let quiet = o.has('n');
    let in_place = o.has('i');
    let (ins, failed) = inputs(
        sh,
        rt,
        io,
        "sed",
        &ops,
        sh.limits.max_output.max(sh.limits.max_fs_bytes) + 1,
    );
    for (name, d) in ins {
        let text = String::from_utf8_lossy(&d).into_owned();
        let all: Vec<&str> = text.lines().collect();
        let mut out = String::new();
        let mut active: Vec<bool> = vec![false; rules.len()];
        'lines: for (n, line) in all.iter().enumerate() {
            let no = n + 1;
            let last = no == all.len();
            let mut cur = line.to_string();
            let mut append = Vec::new();
            for (k, r) in rules.iter().enumerate() {
                let hit = |a: &Addr, s: &str| match a {
                    Addr::Line(x) => *x == no,
                    Addr::Last => last,
                    Addr::Re(re) => re.is_match(s),
                };
                let mut sel = match (&r.from, &r.to) {
                    (None, _) => true,
                    (Some(f), None) => hit(f, &cur),
                    (Some(f), Some(t)) => {
                        if active[k] {
                            if hit(t, &cur) || matches!(t, Addr::Line(x) if *x <= no) {
                                active[k] = false;
                            }
                            true
                        } else if hit(f, &cur) {
                            active[k] = !matches!(t, Addr::Line(x) if *x <= no);
                            true
                        } else {
                            false
                        }
                    }
                };
                if r.negate {
                    sel = !sel;
                }
                if !sel {
                    continue;
                }
                match &r.cmd {
                    SedCmd::Print => {
                        out.push_str(&cur);
                        out.push('\n');
                    }
                    SedCmd::Delete => continue 'lines,
                    SedCmd::Quit => {
                        if !quiet {
                            out.push_str(&cur);
                            out.push('\n');
                        }
                        break 'lines;
                    }
                    SedCmd::LineNo => out.push_str(&format!("{no}\n")),
                    SedCmd::Append(t) => append.push(t.clone()),
                    SedCmd::Insert(t) => {
                        out.push_str(t);
                        out.push('\n');
                    }
                    SedCmd::Sub {
                        re,
                        rep,
                        global,
                        nth,
                        print,
                    } => {
                        let cs: Vec<char> = cur.chars().collect();
                        let mut res = String::new();
                        let mut from = 0;
                        let mut count = 0;
                        let mut changed = false;
                        while from <= cs.len() {
                            let Some((s, e)) = re.find_at(&cs, from) else {
                                break;
                            };
                            count += 1;
                            res.extend(&cs[from..s]);
                            let m: String = cs[s..e].iter().collect();
                            if count >= *nth && (*global || count == *nth) {
                                res.push_str(&sed_rep(rep, &m));
                                changed = true;
                            } else {
                                res.push_str(&m);
                            }
                            if e == s {
                                if let Some(&c) = cs.get(s) {
                                    res.push(c);
                                }
                                from = s + 1;
                            } else {
                                from = e;
                            }
                            if !*global && count >= *nth {
                                break;
                            }
                        }
                        if from < cs.len() {
                            res.extend(&cs[from..]);
                        }
                        if changed {
                            cur = res;
                            if *print {
                                out.push_str(&cur);
                                out.push('\n');
                            }
                        }
                    }
                }
            }
            if !quiet {
                out.push_str(&cur);
                out.push('\n');
            }
            for a in append {
                out.push_str(&a);
                out.push('\n');
            }
            if out.len() > sh.limits.max_output.max(sh.limits.max_fs_bytes) {
                break;
            }
        }
        if in_place && name != "-" {
            if !sh.write_for(rt, io, "sed", &name, &to_bytes(&out), false) {
                return 4;
            }
        } else {
            rt.out(io, &to_bytes(&out));
        }
    }
    i32::from(failed) * 2
}

// ---- awk ----

#[derive(Debug, Clone)]
enum AExpr {
    Num(f64),
    Str(String),
    Field(Box<AExpr>),
    Var(String),
    Bin(Box<AExpr>, String, Box<AExpr>),
    Neg(Box<AExpr>),
    Not(Box<AExpr>),
    Match(Box<AExpr>, String, bool),
    Concat(Vec<AExpr>),
    Call(String, Vec<AExpr>),
}

#[derive(Debug, Clone)]
enum AStmt {
    Print(Vec<AExpr>),
    Printf(Vec<AExpr>),
    Assign(String, String, AExpr),
    Next,
    Expr(AExpr),
}

#[derive(Debug, Clone)]
enum APat {
    All,
    Begin,
    End,
    Expr(AExpr),
}

struct AwkParser {
    t: Vec<String>,
    i: usize,
}

/// Tokens of an awk program: strings keep their quotes, regexes their slashes.
fn awk_tokens(src: &str) -> Result<Vec<String>, String> {
    let cs: Vec<char> = src.chars().collect();
    let mut t: Vec<String> = Vec::new();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if c.is_whitespace() && c != '\n' {
            i += 1;
            continue;
        }
        if c == '"' {
            let mut s = String::from("\"");
            i += 1;
            while i < cs.len() && cs[i] != '"' {
                if cs[i] == '\\' && i + 1 < cs.len() {
                    i += 1;
                    s.push(match cs[i] {
                        'n' => '\n',
                        't' => '\t',
                        o => o,
                    });
                } else {
                    s.push(cs[i]);
                }
                i += 1;
            }
            if i >= cs.len() {
                return Err("runaway string constant".into());
            }
            i += 1;
            t.push(s);
            continue;
        }
        // a regex where an operand can start
        if c == '/'
            && t.last().is_none_or(|p| {
                matches!(
                    p.as_str(),
                    "(" | "," | "{" | "!" | "~" | "!~" | "&&" | "||" | ";" | "\n"
                )
            })
        {
            let mut s = String::from("/");
            i += 1;
            while i < cs.len() && cs[i] != '/' {
                if cs[i] == '\\' && i + 1 < cs.len() {
                    s.push('\\');
                    i += 1;
                }
                s.push(cs[i]);
                i += 1;
            }
            i += 1;
            t.push(s);
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && cs.get(i + 1).is_some_and(|d| d.is_ascii_digit())) {
            let s = i;
            while i < cs.len() && (cs[i].is_ascii_digit() || cs[i] == '.') {
                i += 1;
            }
            t.push(cs[s..i].iter().collect());
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let s = i;
            while i < cs.len() && (cs[i].is_alphanumeric() || cs[i] == '_') {
                i += 1;
            }
            t.push(cs[s..i].iter().collect());
            continue;
        }
        let two: String = cs[i..(i + 2).min(cs.len())].iter().collect();
        if [
            "==", "!=", "<=", ">=", "&&", "||", "+=", "-=", "*=", "/=", "++", "--", "!~",
        ]
        .contains(&two.as_str())
        {
            t.push(two);
            i += 2;
            continue;
        }
        if "{}()$,;+-*/%<>!~=\n".contains(c) {
            t.push(c.to_string());
            i += 1;
            continue;
        }
        return Err(format!("syntax error at or near {c}"));
    }
    Ok(t)
}

impl AwkParser {
    fn peek(&self) -> Option<&str> {
        self.t.get(self.i).map(String::as_str)
    }
    fn next(&mut self) -> Option<String> {
        let v = self.t.get(self.i).cloned();
        self.i += 1;
        v
    }
    fn err(&self) -> String {
        format!(
            "syntax error at or near {}",
            self.peek()
                .map_or("end of file".to_string(), |t| if t == "\n" {
                    "end of line".into()
                } else {
                    t.to_string()
                })
        )
    }
    fn skip_nl(&mut self) {
        while matches!(self.peek(), Some("\n") | Some(";")) {
            self.i += 1;
        }
    }
    fn program(&mut self) -> Result<Vec<(APat, Vec<AStmt>)>, String> {
        let mut rules = Vec::new();
        loop {
            self.skip_nl();
            let Some(tok) = self.peek() else { break };
            let pat = match tok {
                "BEGIN" => {
                    self.i += 1;
                    APat::Begin
                }
                "END" => {
                    self.i += 1;
                    APat::End
                }
                "{" => APat::All,
                _ => APat::Expr(self.expr(0)?),
            };
            let body = if self.peek() == Some("{") {
                self.block()?
            } else {
                vec![AStmt::Print(vec![])]
            };
            rules.push((pat, body));
        }
        Ok(rules)
    }
    fn block(&mut self) -> Result<Vec<AStmt>, String> {
        self.i += 1;
        let mut body = Vec::new();
        loop {
            self.skip_nl();
            match self.peek() {
                Some("}") => {
                    self.i += 1;
                    return Ok(body);
                }
                None => return Err("syntax error at or near end of file".into()),
                _ => body.push(self.stmt()?),
            }
        }
    }
    fn stmt(&mut self) -> Result<AStmt, String> {
        match self.peek() {
            Some("print") | Some("printf") => {
                let pf = self.next().as_deref() == Some("printf");
                let mut args = Vec::new();
                let paren = self.peek() == Some("(");
                if paren {
                    self.i += 1;
                }
                while !matches!(
                    self.peek(),
                    None | Some("}") | Some(";") | Some("\n") | Some(")") | Some(">")
                ) {
                    args.push(self.expr(0)?);
                    if self.peek() == Some(",") {
                        self.i += 1;
                    }
                }
                if paren && self.peek() == Some(")") {
                    self.i += 1;
                }
                Ok(if pf {
                    AStmt::Printf(args)
                } else {
                    AStmt::Print(args)
                })
            }
            Some("next") => {
                self.i += 1;
                Ok(AStmt::Next)
            }
            Some(name)
                if self.t.get(self.i + 1).is_some_and(|o| {
                    matches!(o.as_str(), "=" | "+=" | "-=" | "*=" | "/=" | "++" | "--")
                }) && name.chars().all(|c| c.is_alphanumeric() || c == '_') =>
            {
                let name = name.to_string();
                self.i += 1;
                let op = self.next().unwrap_or_default();
                if op == "++" || op == "--" {
                    return Ok(AStmt::Assign(
                        name,
                        if op == "++" { "+=".into() } else { "-=".into() },
                        AExpr::Num(1.0),
                    ));
                }
                let e = self.expr(0)?;
                Ok(AStmt::Assign(name, op, e))
            }
            _ => Ok(AStmt::Expr(self.expr(0)?)),
        }
    }
    fn expr(&mut self, depth: usize) -> Result<AExpr, String> {
        if depth > 64 {
            return Err("expression too deep".into());
        }
        self.or(depth)
    }
    fn or(&mut self, d: usize) -> Result<AExpr, String> {
        let mut l = self.and(d)?;
        while self.peek() == Some("||") {
            self.i += 1;
            let r = self.and(d)?;
            l = AExpr::Bin(Box::new(l), "||".into(), Box::new(r));
        }
        Ok(l)
    }
    fn and(&mut self, d: usize) -> Result<AExpr, String> {
        let mut l = self.cmp(d)?;
        while self.peek() == Some("&&") {
            self.i += 1;
            let r = self.cmp(d)?;
            l = AExpr::Bin(Box::new(l), "&&".into(), Box::new(r));
        }
        Ok(l)
    }
    fn cmp(&mut self, d: usize) -> Result<AExpr, String> {
        let l = self.concat(d)?;
        match self.peek() {
            Some(op @ ("==" | "!=" | "<" | "<=" | ">" | ">=")) => {
                let op = op.to_string();
                self.i += 1;
                let r = self.concat(d)?;
                Ok(AExpr::Bin(Box::new(l), op, Box::new(r)))
            }
            Some(op @ ("~" | "!~")) => {
                let neg = op == "!~";
                self.i += 1;
                match self.next() {
                    Some(re) if re.starts_with('/') => {
                        Ok(AExpr::Match(Box::new(l), re[1..].to_string(), neg))
                    }
                    Some(s) if s.starts_with('"') => {
                        Ok(AExpr::Match(Box::new(l), s[1..].to_string(), neg))
                    }
                    _ => Err(self.err()),
                }
            }
            _ => Ok(l),
        }
    }
    fn concat(&mut self, d: usize) -> Result<AExpr, String> {
        let mut parts = vec![self.additive(d)?];
        while let Some(t) = self.peek() {
            let starts = t.starts_with('"')
                || t == "$"
                || t == "("
                || t == "!"
                || t.starts_with(|c: char| c.is_alphanumeric() || c == '_');
            if !starts || matches!(t, "in" | "getline") {
                break;
            }
            parts.push(self.additive(d)?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().unwrap_or(AExpr::Num(0.0))
        } else {
            AExpr::Concat(parts)
        })
    }
    fn additive(&mut self, d: usize) -> Result<AExpr, String> {
        let mut l = self.mul(d)?;
        while let Some(op @ ("+" | "-")) = self.peek() {
            let op = op.to_string();
            self.i += 1;
            let r = self.mul(d)?;
            l = AExpr::Bin(Box::new(l), op, Box::new(r));
        }
        Ok(l)
    }
    fn mul(&mut self, d: usize) -> Result<AExpr, String> {
        let mut l = self.unary(d)?;
        while let Some(op @ ("*" | "/" | "%")) = self.peek() {
            let op = op.to_string();
            self.i += 1;
            let r = self.unary(d)?;
            l = AExpr::Bin(Box::new(l), op, Box::new(r));
        }
        Ok(l)
    }
    fn unary(&mut self, d: usize) -> Result<AExpr, String> {
        match self.peek() {
            Some("-") => {
                self.i += 1;
                Ok(AExpr::Neg(Box::new(self.unary(d + 1)?)))
            }
            Some("!") => {
                self.i += 1;
                Ok(AExpr::Not(Box::new(self.unary(d + 1)?)))
            }
            _ => self.primary(d),
        }
    }
    fn primary(&mut self, d: usize) -> Result<AExpr, String> {
        if d > 64 {
            return Err("expression too deep".into());
        }
        let Some(t) = self.next() else {
            return Err(self.err());
        };
        if t == "$" {
            return Ok(AExpr::Field(Box::new(self.primary(d + 1)?)));
        }
        if t == "(" {
            let e = self.expr(d + 1)?;
            if self.next().as_deref() != Some(")") {
                return Err(self.err());
            }
            return Ok(e);
        }
        if let Some(s) = t.strip_prefix('"') {
            return Ok(AExpr::Str(s.to_string()));
        }
        if let Some(re) = t.strip_prefix('/') {
            return Ok(AExpr::Match(
                Box::new(AExpr::Field(Box::new(AExpr::Num(0.0)))),
                re.to_string(),
                false,
            ));
        }
        if let Ok(n) = t.parse::<f64>() {
            return Ok(AExpr::Num(n));
        }
        if t.chars().all(|c| c.is_alphanumeric() || c == '_') {
            if self.peek() == Some("(")
                && matches!(
                    t.as_str(),
                    "length" | "substr" | "tolower" | "toupper" | "index" | "int"
                )
            {
                self.i += 1;
                let mut args = Vec::new();
                while self.peek() != Some(")") {
                    if self.peek().is_none() {
                        return Err(self.err());
                    }
                    args.push(self.expr(d + 1)?);
                    if self.peek() == Some(",") {
                        self.i += 1;
                    }
                }
                self.i += 1;
                return Ok(AExpr::Call(t, args));
            }
            if t == "length" {
                return Ok(AExpr::Call(t, vec![]));
            }
            return Ok(AExpr::Var(t));
        }
        self.i -= 1;
        Err(self.err())
    }
}

#[derive(Debug, Clone)]
enum AVal {
    Num(f64),
    Str(String),
}

impl AVal {
    fn num(&self) -> f64 {
        match self {
            AVal::Num(n) => *n,
            AVal::Str(s) => leading_num(s),
        }
    }
    fn text(&self) -> String {
        match self {
            AVal::Num(n) => fmt_num(*n),
            AVal::Str(s) => s.clone(),
        }
    }
    fn truthy(&self) -> bool {
        match self {
            AVal::Num(n) => *n != 0.0,
            AVal::Str(s) => !s.is_empty(),
        }
    }
}

fn fmt_num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e16 {
        format!("{}", n as i64)
    } else {
        let s = format!("{n:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

struct AwkState {
    vars: rustc_hash::FxHashMap<String, AVal>,
    fields: Vec<String>,
    line: String,
    nr: usize,
    fs: Option<String>,
}

impl AwkState {
    fn split(&mut self) {
        self.fields = match self.fs.as_deref() {
            None | Some(" ") => self.line.split_whitespace().map(String::from).collect(),
            Some(f) if f.chars().count() == 1 => self.line.split(f).map(String::from).collect(),
            Some(f) => match Regex::new(f, true, false) {
                Ok(re) => {
                    let cs: Vec<char> = self.line.chars().collect();
                    let mut v = Vec::new();
                    let mut from = 0;
                    while let Some((s, e)) = re.find_at(&cs, from) {
                        if e == s {
                            break;
                        }
                        v.push(cs[from..s].iter().collect());
                        from = e;
                    }
                    v.push(cs[from..].iter().collect());
                    v
                }
                Err(_) => self.line.split(f).map(String::from).collect(),
            },
        };
    }
    fn eval(&mut self, e: &AExpr) -> AVal {
        match e {
            AExpr::Num(n) => AVal::Num(*n),
            AExpr::Str(s) => AVal::Str(s.clone()),
            AExpr::Field(i) => {
                let k = self.eval(i).num().max(0.0) as usize;
                AVal::Str(if k == 0 {
                    self.line.clone()
                } else {
                    self.fields.get(k - 1).cloned().unwrap_or_default()
                })
            }
            AExpr::Var(v) => match v.as_str() {
                "NR" | "FNR" => AVal::Num(self.nr as f64),
                "NF" => AVal::Num(self.fields.len() as f64),
                _ => self
                    .vars
                    .get(v)
                    .cloned()
                    .unwrap_or(AVal::Str(String::new())),
            },
            AExpr::Neg(x) => AVal::Num(-self.eval(x).num()),
            AExpr::Not(x) => AVal::Num(f64::from(u8::from(!self.eval(x).truthy()))),
            AExpr::Match(x, re, neg) => {
                let s = self.eval(x).text();
                let m = Regex::new(re, true, false)
                    .map(|r| r.is_match(&s))
                    .unwrap_or(false);
                AVal::Num(f64::from(u8::from(m != *neg)))
            }
            AExpr::Concat(parts) => AVal::Str(parts.iter().map(|p| self.eval(p).text()).collect()),
            AExpr::Call(f, args) => {
                let a: Vec<AVal> = args.iter().map(|x| self.eval(x)).collect();
                let s0 = a.first().map_or_else(|| self.line.clone(), AVal::text);
                match f.as_str() {
                    "length" => AVal::Num(s0.chars().count() as f64),
                    "tolower" => AVal::Str(s0.to_lowercase()),
                    "toupper" => AVal::Str(s0.to_uppercase()),
                    "int" => AVal::Num(a.first().map_or(0.0, AVal::num).trunc()),
                    "index" => AVal::Num(
                        a.get(1)
                            .and_then(|t| s0.find(&t.text()))
                            .map_or(0, |p| s0[..p].chars().count() + 1)
                            as f64,
                    ),
                    _ => {
                        let start = a.get(1).map_or(1.0, AVal::num).max(1.0) as usize;
                        let len = a.get(2).map_or(usize::MAX, |l| l.num().max(0.0) as usize);
                        AVal::Str(s0.chars().skip(start - 1).take(len).collect())
                    }
                }
            }
            AExpr::Bin(l, op, r) => {
                let (a, b) = (self.eval(l), self.eval(r));
                let num = |x: bool| AVal::Num(f64::from(u8::from(x)));
                match op.as_str() {
                    "+" => AVal::Num(a.num() + b.num()),
                    "-" => AVal::Num(a.num() - b.num()),
                    "*" => AVal::Num(a.num() * b.num()),
                    "/" => AVal::Num(if b.num() == 0.0 {
                        0.0
                    } else {
                        a.num() / b.num()
                    }),
                    "%" => AVal::Num(if b.num() == 0.0 {
                        0.0
                    } else {
                        a.num() % b.num()
                    }),
                    "&&" => num(a.truthy() && b.truthy()),
                    "||" => num(a.truthy() || b.truthy()),
                    cmp => {
                        let numeric = |v: &AVal| match v {
                            AVal::Num(_) => true,
                            AVal::Str(s) => !s.trim().is_empty() && s.trim().parse::<f64>().is_ok(),
                        };
                        let ord = if numeric(&a) && numeric(&b) {
                            a.num()
                                .partial_cmp(&b.num())
                                .unwrap_or(std::cmp::Ordering::Equal)
                        } else {
                            a.text().cmp(&b.text())
                        };
                        num(match cmp {
                            "==" => ord.is_eq(),
                            "!=" => ord.is_ne(),
                            "<" => ord.is_lt(),
                            "<=" => ord.is_le(),
                            ">" => ord.is_gt(),
                            _ => ord.is_ge(),
                        })
                    }
                }
            }
        }
    }
}

pub(crate) fn awk(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let mut k = 1;
    let mut fs: Option<String> = None;
    let mut assigns = Vec::new();
    while k < argv.len() && argv[k].starts_with('-') && argv[k].len() > 1 {
        let a = &argv[k];
        if a == "-F" {
            fs = argv.get(k + 1).cloned();
            k += 1;
        } else if let Some(f) = a.strip_prefix("-F") {
            fs = Some(f.to_string());
        } else if a == "-v" {
            if let Some(v) = argv.get(k + 1) {
                assigns.push(v.clone());
            }
            k += 1;
        } else if a == "--" {
            k += 1;
            break;
        }
        k += 1;
    }
    let fs = fs.map(|f| {
        if f == "\\t" || f == "t" {
            "\t".to_string()
        } else {
            f
        }
    });
    let gawk = !sh.world.identity.os.is_deb();
    let prefix = if gawk {
        "awk: cmd. line:1:"
    } else {
        "awk: line 1:"
    };
    let Some(src) = argv.get(k) else {
        err!(
            rt,
            io,
            "usage: awk [-F value] [-v var=value] [--] 'program text' [file ...]\n"
        );
        return 2;
    };
    let program = awk_tokens(src).and_then(|t| AwkParser { t, i: 0 }.program());
    let program = match program {
        Ok(p) => p,
        Err(e) => {
            err!(rt, io, "{prefix} {e}\n");
            return 2;
        }
    };
    let files: Vec<String> = argv[k + 1..].to_vec();
    let mut st = AwkState {
        vars: Default::default(),
        fields: vec![],
        line: String::new(),
        nr: 0,
        fs,
    };
    for a in assigns {
        if let Some((n, v)) = a.split_once('=') {
            st.vars.insert(n.to_string(), AVal::Str(v.to_string()));
        }
    }
    let mut out = String::new();
    let cap = sh.limits.max_output + 1;
    let run = |st: &mut AwkState, body: &[AStmt], out: &mut String| -> bool {
        for s in body {
            match s {
                AStmt::Print(args) => {
                    if args.is_empty() {
                        out.push_str(&st.line);
                    } else {
                        let parts: Vec<String> = args.iter().map(|a| st.eval(a).text()).collect();
                        out.push_str(&parts.join(" "));
                    }
                    out.push('\n');
                }
                AStmt::Printf(args) => {
                    let vals: Vec<String> = args.iter().map(|a| st.eval(a).text()).collect();
                    if let Some((fmt, rest)) = vals.split_first() {
                        let mut it = rest.iter();
                        let mut cs = fmt.chars().peekable();
                        while let Some(c) = cs.next() {
                            if c == '%' {
                                let mut spec = String::new();
                                while let Some(&n) = cs.peek() {
                                    cs.next();
                                    if n.is_ascii_alphabetic() || n == '%' {
                                        spec.push(n);
                                        break;
                                    }
                                    spec.push(n);
                                }
                                let conv = spec.chars().last().unwrap_or('s');
                                if conv == '%' {
                                    out.push('%');
                                    continue;
                                }
                                let v = it.next().cloned().unwrap_or_default();
                                let width: usize = spec
                                    .trim_start_matches('-')
                                    .trim_end_matches(|c: char| c.is_ascii_alphabetic())
                                    .split('.')
                                    .next()
                                    .and_then(|w| w.parse().ok())
                                    .unwrap_or(0);
                                let body = if matches!(conv, 'd' | 'i') {
                                    fmt_num(leading_num(&v).trunc())
                                } else {
                                    v
                                };
                                if spec.starts_with('-') {
                                    out.push_str(&format!("{body:<width$}"));
                                } else {
                                    out.push_str(&format!("{body:>width$}"));
                                }
                            } else {
                                out.push(c);
                            }
                        }
                    }
                }
                AStmt::Assign(n, op, e) => {
                    let v = st.eval(e);
                    let old = st.vars.get(n).map_or(0.0, AVal::num);
                    let new = match op.as_str() {
                        "+=" => AVal::Num(old + v.num()),
                        "-=" => AVal::Num(old - v.num()),
                        "*=" => AVal::Num(old * v.num()),
                        "/=" => AVal::Num(if v.num() == 0.0 { 0.0 } else { old / v.num() }),
                        _ => v,
                    };
                    if st.vars.len() < 1000 {
                        st.vars.insert(n.clone(), new);
                    }
                }
                AStmt::Next => return false,
                AStmt::Expr(e) => {
                    st.eval(e);
                }
            }
        }
        true
    };
    for (p, body) in &program {
        if matches!(p, APat::Begin) {
            run(&mut st, body, &mut out);
        }
    }
    let needs_input = program.iter().any(|(p, _)| !matches!(p, APat::Begin));
    let mut failed = false;
    if needs_input {
        let (ins, f) = inputs(
            sh,
            rt,
            io,
            "awk",
            &files,
            sh.limits.max_output.max(sh.limits.max_fs_bytes) + 1,
        );
        failed = f;
        'outer: for (_, d) in ins {
            let text = String::from_utf8_lossy(&d).into_owned();
            for line in text.lines() {
                st.nr += 1;
                st.line = line.to_string();
                st.split();
                for (p, body) in &program {
                    let sel = match p {
                        APat::All => true,
                        APat::Expr(e) => st.eval(e).truthy(),
                        _ => false,
                    };
                    if sel && !run(&mut st, body, &mut out) {
                        break;
                    }
                }
                if out.len() > cap {
                    break 'outer;
                }
            }
        }
    }
    for (p, body) in &program {
        if matches!(p, APat::End) {
            run(&mut st, body, &mut out);
        }
    }
    rt.out(io, &to_bytes(&out));
    i32::from(failed) * 2
}

/// `od`: octal words by default; `-c`, `-x`, `-b`, `-t x1|x2|o1|d1|c`, `-A d|o|x|n`,
/// `-N count`, `-j skip`.
pub(crate) fn od(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "AtNjw", Some("bcdxvosi"));
    if let Some(c) = o.bad {
        bad_option(rt, io, "od", c);
        return 1;
    }
    let kind = match (o.val('t'), o.has('c'), o.has('x'), o.has('b'), o.has('d')) {
        (Some(t), ..) => t.to_string(),
        (_, true, ..) => "c".into(),
        (_, _, true, ..) => "x2".into(),
        (_, _, _, true, _) => "o1".into(),
        (_, _, _, _, true) => "u2".into(),
        _ => "o2".into(),
    };
    let radix = o.val('A').and_then(|a| a.chars().next()).unwrap_or('o');
    let skip: usize = o.val('j').and_then(|v| v.parse().ok()).unwrap_or(0);
    let count: Option<usize> = o.val('N').and_then(|v| v.parse().ok());
    let limit = count
        .map_or(sh.limits.max_output / 4, |c| c.saturating_add(skip))
        .min(sh.limits.max_output / 4);
    let (ins, failed) = inputs(sh, rt, io, "od", &o.ops, limit);
    let data: Vec<u8> = ins.into_iter().flat_map(|(_, d)| d).collect();
    let start = skip.min(data.len());
    let end = count.map_or(data.len(), |c| start.saturating_add(c).min(data.len()));
    let d = &data[start..end];
    let addr = |a: usize| match radix {
        'd' => format!("{a:07}"),
        'x' => format!("{a:06x}"),
        'n' => String::new(),
        _ => format!("{a:07o}"),
    };
    let mut out = String::new();
    for (k, chunk) in d.chunks(16).enumerate() {
        out.push_str(&addr(start + k * 16));
        match kind.as_str() {
            "c" | "a" => {
                for &b in chunk {
                    let s = match b {
                        0 => "\\0".to_string(),
                        7 => "\\a".into(),
                        8 => "\\b".into(),
                        9 => "\\t".into(),
                        10 => "\\n".into(),
                        11 => "\\v".into(),
                        12 => "\\f".into(),
                        13 => "\\r".into(),
                        0x20..=0x7e => (b as char).to_string(),
                        _ => format!("{b:03o}"),
                    };
                    out.push_str(&format!(" {s:>3}"));
                }
            }
            "x1" | "o1" | "d1" | "u1" => {
                for &b in chunk {
                    match kind.as_str() {
                        "x1" => out.push_str(&format!(" {b:02x}")),
                        "o1" => out.push_str(&format!(" {b:03o}")),
                        _ => out.push_str(&format!(" {b:3}")),
                    }
                }
            }
            _ => {
                for pair in chunk.chunks(2) {
                    let v = u16::from(pair[0]) | (u16::from(*pair.get(1).unwrap_or(&0)) << 8);
                    match kind.as_str() {
                        "x2" | "x" => out.push_str(&format!(" {v:04x}")),
                        "u2" | "d2" => out.push_str(&format!(" {v:5}")),
                        _ => out.push_str(&format!(" {v:06o}")),
                    }
                }
            }
        }
        out.push('\n');
    }
    if radix != 'n' {
        out.push_str(&addr(end));
        out.push('\n');
    }
    rt.out(io, out.as_bytes());
    i32::from(failed)
}
