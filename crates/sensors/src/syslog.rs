//! Syslog line headers: BSD (RFC 3164, no year), RFC 3339 timestamps, RFC 5424, and the bare
//! `host prog[pid]: msg` form journal exports use.
//!
//! Timestamps without a year get one inferred from a reference time (the wall clock when
//! watching live, or `--year` for replays): the reference year, unless that would put the line
//! more than a day in the future, in which case the year before. The seeds fed such stamps to an
//! ISO parser; this never guesses silently: a header that does not parse leaves `ts` empty and the
//! caller falls back to the observed time.
//!
//! Local-time conversion goes through `jiff`'s time zone database, cached per civil hour so the
//! hot path is a few integer operations per line.

use jiff::tz::TimeZone;
use tripline_event::time::{Civil, Timestamp};

/// The parts of a syslog line before the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header<'a> {
    pub ts: Option<Timestamp>,
    pub host: Option<&'a str>,
    pub program: Option<&'a str>,
    pub pid: Option<&'a str>,
    pub msg: &'a str,
}

/// How to turn civil times into instants.
#[derive(Debug, Clone)]
pub struct TimeContext {
    tz: TimeZone,
    /// Year inference reference (seconds); `None` means the wall clock.
    reference: Option<i64>,
    /// Fixed year for replays (`--year`).
    year: Option<i32>,
    // cache: (year, month, day, hour) of the last conversion and its UTC seconds at hh:00:00
    cache_key: u64,
    cache_base: i64,
    // year inference cache: (month, day, hour) -> year
    infer_key: u32,
    infer_year: i32,
}

impl TimeContext {
    /// `tz` is an IANA name or `local` / `UTC`.
    pub fn new(tz: &str) -> Result<TimeContext, String> {
        let tz = match tz {
            "local" | "" => TimeZone::try_system().unwrap_or(TimeZone::UTC),
            "UTC" | "utc" | "Z" => TimeZone::UTC,
            name => TimeZone::get(name).map_err(|e| format!("unknown time zone {name:?}: {e}"))?,
        };
        Ok(TimeContext {
            tz,
            reference: None,
            year: None,
            cache_key: u64::MAX,
            cache_base: 0,
            infer_key: u32::MAX,
            infer_year: 0,
        })
    }

    pub fn utc() -> TimeContext {
        // Invariant: "UTC" is always known.
        TimeContext::new("UTC").expect("UTC is a valid zone")
    }

    /// Use `year` for every year-less timestamp (replays of old logs).
    pub fn with_year(mut self, year: Option<i32>) -> Self {
        self.year = year;
        self.infer_key = u32::MAX;
        self
    }

    /// Infer years relative to `reference` instead of the wall clock.
    pub fn with_reference(mut self, reference: Option<Timestamp>) -> Self {
        self.reference = reference.map(|t| t.secs());
        self.infer_key = u32::MAX;
        self
    }

    /// Instant of a civil time in this zone.
    pub fn local_to_utc(&mut self, c: &Civil) -> Option<Timestamp> {
        if !c.is_valid() {
            return None;
        }
        let key = ((c.year as u64 & 0xffff) << 24)
            | ((c.month as u64) << 16)
            | ((c.day as u64) << 8)
            | c.hour as u64;
        if key != self.cache_key {
            let dt = jiff::civil::DateTime::new(
                c.year as i16,
                c.month as i8,
                c.day as i8,
                c.hour as i8,
                0,
                0,
                0,
            )
            .ok()?;
            let ts = self.tz.to_ambiguous_timestamp(dt).compatible().ok()?;
            self.cache_key = key;
            self.cache_base = ts.as_second();
        }
        let secs = self.cache_base + c.minute as i64 * 60 + c.second as i64;
        Some(Timestamp(secs * 1_000_000 + c.micros as i64))
    }

    /// The year for a year-less (month, day, hour).
    fn infer_year(&mut self, month: u8, day: u8, hour: u8) -> i32 {
        if let Some(y) = self.year {
            return y;
        }
        let key = ((month as u32) << 16) | ((day as u32) << 8) | hour as u32;
        if key == self.infer_key {
            return self.infer_year;
        }
        let now = self.reference.unwrap_or_else(|| Timestamp::now().secs());
        let ref_civil = Timestamp::from_secs(now).to_civil_utc();
        let mut year = ref_civil.year;
        let candidate = Civil {
            year,
            month,
            day,
            hour,
            minute: 0,
            second: 0,
            micros: 0,
        };
        // Feb 29 in a non-leap reference year: try the previous leap year logic below.
        if !candidate.is_valid() || candidate.to_utc_secs() > now + 86_400 {
            year -= 1;
        }
        self.infer_key = key;
        self.infer_year = year;
        year
    }
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

fn month_of(b: &[u8]) -> Option<u8> {
    let m = b.get(..3)?;
    // the common spelling first (`Jan`), then any case
    month_exact(m).or_else(|| {
        MONTHS
            .iter()
            .position(|x| x.eq_ignore_ascii_case(m))
            .map(|i| i as u8 + 1)
    })
}

/// The month (1–12) of a capitalised three-letter name, one match on the three bytes.
fn month_exact(m: &[u8]) -> Option<u8> {
    Some(match m {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    })
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 {
        return None;
    }
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

/// Parse `hh:mm:ss` at the start of `b`.
fn hms(b: &[u8]) -> Option<(u8, u8, u8)> {
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    Some((
        digits(&b[0..2])? as u8,
        digits(&b[3..5])? as u8,
        digits(&b[6..8])? as u8,
    ))
}

/// Parse an RFC 3339 timestamp (`2015-04-16T18:02:50.321974+00:00`, `Z`, or no offset = local)
/// at the start of `s`; returns the instant and the bytes consumed.
pub fn parse_rfc3339(s: &str, tc: &mut TimeContext) -> Option<(Timestamp, usize)> {
    let b = s.as_bytes();
    // `T`, a space (journalctl -o short-iso's relatives), or svlogd -tt's `_`
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b' ' | b'_') {
        return None;
    }
    let year = digits(&b[0..4])? as i32;
    let month = digits(&b[5..7])? as u8;
    let day = digits(&b[8..10])? as u8;
    let (hour, minute, second) = hms(&b[11..19])?;
    let mut i = 19;
    let mut micros = 0u32;
    if i < b.len() && (b[i] == b'.' || b[i] == b',') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let frac = &b[start..i];
        if frac.is_empty() {
            return None;
        }
        let mut m = 0u32;
        for k in 0..6 {
            m = m * 10 + frac.get(k).map(|d| (d - b'0') as u32).unwrap_or(0);
        }
        micros = m;
    }
    let civil = Civil {
        year,
        month,
        day,
        hour,
        minute,
        second,
        micros,
    };
    if !civil.is_valid() {
        return None;
    }
    let offset_secs: Option<i64> = match b.get(i) {
        Some(b'Z') | Some(b'z') => {
            i += 1;
            Some(0)
        }
        Some(&sign @ (b'+' | b'-')) => {
            // `+hh:mm`, or `+hhmm` (journalctl's short-iso, ISO 8601 basic)
            let colon = b.get(i + 3) == Some(&b':');
            let len = if colon { 6 } else { 5 };
            if b.len() < i + len {
                return None;
            }
            let h = digits(&b[i + 1..i + 3])? as i64;
            let m = digits(&b[i + len - 2..i + len])? as i64;
            i += len;
            let off = h * 3600 + m * 60;
            Some(if sign == b'-' { -off } else { off })
        }
        _ => None,
    };
    let ts = match offset_secs {
        Some(off) => Timestamp((civil.to_utc_secs() - off) * 1_000_000 + micros as i64),
        None => tc.local_to_utc(&civil)?,
    };
    Some((ts, i))
}

/// Parse a BSD syslog timestamp `Mmm dd hh:mm:ss` / `Mmm  d hh:mm:ss`; returns the instant and
/// bytes consumed. Also accepts single-digit days without padding (`Feb 7 16:01:07`).
pub fn parse_bsd(s: &str, tc: &mut TimeContext) -> Option<(Timestamp, usize)> {
    let b = s.as_bytes();
    let (month, day, hour, minute, second, micros, used) =
        bsd_fixed(b).or_else(|| bsd_general(b))?;
    let year = tc.infer_year(month, day, hour);
    let civil = Civil {
        year,
        month,
        day,
        hour,
        minute,
        second,
        micros,
    };
    Some((tc.local_to_utc(&civil)?, used))
}

/// (month, day, hour, minute, second, micros, bytes used) of a BSD timestamp.
type BsdFields = (u8, u8, u8, u8, u8, u32, usize);

/// The layout nearly every line has, `Mmm dd hh:mm:ss ` or `Mmm  d hh:mm:ss ` (day padded to two
/// columns, capitalised month, no fraction), read at fixed offsets. Anything else is left to
/// [`bsd_general`], which gives the same fields for these lines (tested).
#[inline(always)]
fn bsd_fixed(b: &[u8]) -> Option<BsdFields> {
    if b.len() < 16
        || b[3] != b' '
        || b[6] != b' '
        || b[9] != b':'
        || b[12] != b':'
        || b[15] != b' '
    {
        return None;
    }
    let m = &b[..3];
    let month = month_exact(m)?;
    let digit = |c: u8| c.is_ascii_digit().then(|| c - b'0');
    let two = |i: usize| Some(digit(b[i])? * 10 + digit(b[i + 1])?);
    let day = match b[4] {
        b' ' => digit(b[5])?,
        _ => two(4)?,
    };
    Some((month, day, two(7)?, two(10)?, two(13)?, 0, 15))
}

/// Any BSD timestamp: either month case, one or two spaces before the day, optional fraction.
fn bsd_general(b: &[u8]) -> Option<BsdFields> {
    let month = month_of(b)?;
    if b.get(3) != Some(&b' ') {
        return None;
    }
    let mut i = 4;
    if b.get(i) == Some(&b' ') {
        i += 1;
    }
    let ds = i;
    while i < b.len() && b[i].is_ascii_digit() && i - ds < 2 {
        i += 1;
    }
    let day = digits(&b[ds..i])? as u8;
    if b.get(i) != Some(&b' ') {
        return None;
    }
    i += 1;
    let (hour, minute, second) = hms(b.get(i..)?)?;
    i += 8;
    let mut micros = 0;
    // Some daemons add fractions: `Jan  1 00:00:00.123`
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        let mut j = start;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > start {
            let mut m = 0u32;
            for k in 0..6 {
                m = m * 10
                    + b.get(start + k)
                        .filter(|_| start + k < j)
                        .map(|d| (d - b'0') as u32)
                        .unwrap_or(0);
            }
            micros = m;
            i = j;
        }
    }
    Some((month, day, hour, minute, second, micros, i))
}

/// Split a syslog tag: `prog[pid]:`, `prog:`, `[prog]:`, `[prog]`.
fn parse_tag(tok: &str) -> Option<(&str, Option<&str>)> {
    // a tag ends in `:` or `]`; a host name (the usual first token) is rejected here
    if !matches!(tok.as_bytes().last(), Some(b':' | b']')) {
        return None;
    }
    let t = tok.strip_suffix(':').unwrap_or(tok);
    if let Some(inner) = t.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
        return (!inner.is_empty()).then_some((inner, None));
    }
    // a byte loop: a tag is a few bytes, shorter than a vectorized search's setup
    if let Some(open) = t.bytes().position(|b| b == b'[') {
        let prog = &t[..open];
        let pid = t[open + 1..].strip_suffix(']')?;
        if prog.is_empty() || pid.is_empty() {
            return None;
        }
        return Some((prog, Some(pid)));
    }
    if tok.ends_with(':') && !t.is_empty() {
        return Some((t, None));
    }
    None
}

/// The text before the first space and the text after it. Header tokens (a host name, a tag,
/// an RFC 5424 field) are a few bytes: a word-at-a-time scan ([`crate::find_byte`]), not a
/// vectorized search whose setup costs more than the token.
fn split_token(s: &str) -> (&str, &str) {
    match crate::find_byte(s.as_bytes(), b' ') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, ""),
    }
}

/// `s` without its leading spaces (a byte loop: `trim_start_matches` walks characters).
fn skip_spaces(s: &str) -> &str {
    let n = s.bytes().take_while(|&b| b == b' ').count();
    &s[n..]
}

/// Parse `[host] tag msg` after the timestamp.
fn host_and_tag(rest: &str) -> (Option<&str>, Option<&str>, Option<&str>, &str) {
    let rest = skip_spaces(rest);
    let (first, after) = split_token(rest);
    if let Some((prog, pid)) = parse_tag(first) {
        // socklog's `auth.info:` after the time is a facility, not a program; the message's
        // own BSD time may follow it (what the program sent to /dev/log)
        if !(pid.is_none() && is_facility(prog)) {
            return (None, Some(prog), pid, after);
        }
        let after = match bsd_fixed(after.as_bytes()).or_else(|| bsd_general(after.as_bytes())) {
            Some(f) => &after[f.6..],
            None => after,
        };
        return match host_and_tag(after) {
            (None, None, None, _) => (None, None, None, rest),
            found => found,
        };
    }
    let (second, after2) = split_token(after);
    if let Some((prog, pid)) = parse_tag(second) {
        return (Some(first), Some(prog), pid, after2);
    }
    // the rarer forms, tried only when the usual ones fail: a facility token right after the
    // time (FreeBSD's `<auth.info>`, socklog's `auth.info:`) or after the host (BusyBox's
    // `auth.info`)
    let skipped = skip_facility(rest);
    if skipped.len() != rest.len() {
        let (first, after) = split_token(skipped);
        if let Some((prog, pid)) = parse_tag(first) {
            return (None, Some(prog), pid, after);
        }
        let (second, after2) = split_token(after);
        if let Some((prog, pid)) = parse_tag(second) {
            return (Some(first), Some(prog), pid, after2);
        }
    }
    let after = skip_facility(skip_spaces(after));
    let (second, after2) = split_token(after);
    if let Some((prog, pid)) = parse_tag(second) {
        return (Some(first), Some(prog), pid, after2);
    }
    (None, None, None, rest)
}

/// `s` past a leading `facility.priority` token (`auth.info`, `<authpriv.notice>`,
/// `auth.info:`) and the spaces after it; `s` itself when it starts with none.
fn skip_facility(s: &str) -> &str {
    let (tok, after) = split_token(s);
    let t = tok.strip_suffix(':').unwrap_or(tok);
    let t = t
        .strip_prefix('<')
        .and_then(|x| x.strip_suffix('>'))
        .unwrap_or(t);
    if is_facility(t) {
        skip_spaces(after)
    } else {
        s
    }
}

/// `auth.info`, `local7.debug`: a syslog facility and priority.
fn is_facility(t: &str) -> bool {
    const FACILITIES: [&str; 24] = [
        "auth", "authpriv", "security", "daemon", "user", "kern", "mail", "syslog", "cron", "news",
        "uucp", "lpr", "ftp", "ntp", "local0", "local1", "local2", "local3", "local4", "local5",
        "local6", "local7", "audit", "console",
    ];
    const PRIORITIES: [&str; 10] = [
        "emerg", "alert", "crit", "err", "error", "warning", "warn", "notice", "info", "debug",
    ];
    // a byte loop: most tokens are short and have no dot
    let Some(dot) = t.bytes().position(|b| b == b'.') else {
        return false;
    };
    let (f, p) = (&t[..dot], &t[dot + 1..]);
    FACILITIES.contains(&f) && PRIORITIES.contains(&p)
}

/// Strip Solaris `[ID 800047 auth.info] ` and kernel-timestamp prefixes from a message.
fn strip_msg_prefixes(mut msg: &str) -> &str {
    if let Some(r) = msg.strip_prefix("[ID ") {
        if let Some(end) = r.find("] ") {
            msg = &r[end + 2..];
        }
    }
    if let Some(r) = msg.strip_prefix("kernel:") {
        let r = r.trim_start_matches(' ');
        if let Some(r) = r.strip_prefix('[') {
            if let Some(end) = r.find(']') {
                let r = &r[end + 1..];
                msg = r.strip_prefix(':').unwrap_or(r).trim_start_matches(' ');
            }
        }
    }
    msg
}

/// Parse any supported syslog line. Never fails: an unrecognized header yields a header whose
/// `msg` is the whole line and whose `ts` is `None`.
pub fn parse_header<'a>(line: &'a str, tc: &mut TimeContext) -> Header<'a> {
    let mut s = line;
    // RFC 5424: `<PRI>1 TS HOST APP PROCID MSGID SD MSG`
    if let Some(r) = s.strip_prefix('<') {
        if let Some(end) = r.find('>').filter(|e| *e <= 3) {
            let after = &r[end + 1..];
            if let Some(v5424) = after.strip_prefix("1 ") {
                if let Some(h) = parse_5424(v5424, tc) {
                    return h;
                }
            }
            s = after;
        }
    }
    // RFC 5424 without its PRI (some relays drop it): `1 TS HOST APP PROCID MSGID SD MSG`
    if let Some(v5424) = s.strip_prefix("1 ") {
        if v5424.as_bytes().first().is_some_and(|c| c.is_ascii_digit()) {
            if let Some(h) = parse_5424(v5424, tc) {
                return h;
            }
        }
    }
    let b = s.as_bytes();
    let parsed = if b.first().is_some_and(|c| c.is_ascii_digit()) {
        parse_rfc3339(s, tc)
    } else {
        parse_bsd(s, tc)
    };
    let (ts, rest) = match parsed {
        Some((ts, used)) => (Some(ts), &s[used..]),
        None => (None, s),
    };
    let (host, program, pid, msg) = host_and_tag(rest);
    if program.is_none() && ts.is_some() {
        return Header {
            ts,
            host: None,
            program: None,
            pid: None,
            msg: rest.trim_start_matches(' '),
        };
    }
    Header {
        ts,
        host,
        program,
        pid,
        msg: strip_msg_prefixes(msg),
    }
}

fn parse_5424<'a>(s: &'a str, tc: &mut TimeContext) -> Option<Header<'a>> {
    let (ts_tok, rest) = split_token(s);
    let ts = if ts_tok == "-" {
        None
    } else {
        Some(parse_rfc3339(ts_tok, tc)?.0)
    };
    let (host, rest) = split_token(rest);
    let (app, rest) = split_token(rest);
    let (procid, rest) = split_token(rest);
    let (_msgid, rest) = split_token(rest);
    // structured data: `-` or one or more `[id k="v" ...]`, values may hold escaped `]` or `"`.
    let b = rest.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i = 1;
    } else {
        while b.get(i) == Some(&b'[') {
            let mut in_quotes = false;
            i += 1;
            loop {
                match b.get(i)? {
                    b'\\' => i += 1,
                    b'"' => in_quotes = !in_quotes,
                    b']' if !in_quotes => break,
                    _ => {}
                }
                i += 1;
            }
            i += 1;
        }
    }
    let msg = rest.get(i..)?.trim_start_matches(' ');
    let msg = msg.strip_prefix('\u{feff}').unwrap_or(msg);
    let nil = |v: &'a str| (v != "-").then_some(v);
    Some(Header {
        ts,
        host: nil(host),
        program: nil(app),
        pid: nil(procid),
        msg,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tc() -> TimeContext {
        TimeContext::utc().with_reference(Some(Timestamp::from_secs(1_124_020_800)))
        // 2005-08-14T12:00Z
    }

    #[test]
    fn fixed_layout_reads_what_the_general_parser_reads() {
        // every month, day and time shape, plus near misses at each fixed offset
        let mut inputs: Vec<String> = vec![];
        for m in MONTHS.iter().map(|m| std::str::from_utf8(&m[..]).unwrap()) {
            for day in [
                "  1", " 01", " 12", " 31", "  0", " 1 ", " ab", " 9 ", "  x", " 123",
            ] {
                for time in [
                    "00:00:00",
                    "23:59:59",
                    "99:99:99",
                    "1:00:00 ",
                    "12:3a:00",
                    "12:00:00.5",
                ] {
                    inputs.push(format!("{m}{day} {time} host sshd[1]: x"));
                }
            }
        }
        for odd in [
            "jan  1 00:00:00 h p: x",
            "JAN  1 00:00:00 h p: x",
            "Jan  1 00:00:00",
            "Jan  1 00:00:0",
            "Jan 1 00:00:00 h p: x",
            "Jan\t1 00:00:00 h p: x",
            "Foo  1 00:00:00 h p: x",
            "",
        ] {
            inputs.push(odd.into());
        }
        let mut seed = 3u64;
        for _ in 0..20_000 {
            let base = inputs[(seed % 100) as usize].clone().into_bytes();
            let mut b = base;
            for _ in 0..2 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let at = (seed >> 33) as usize % b.len().max(1);
                if let Some(c) = b.get_mut(at) {
                    *c = b" 0123456789:.aJn"[(seed >> 20) as usize % 16];
                }
            }
            inputs.push(String::from_utf8_lossy(&b).into_owned());
        }
        let mut fixed = 0;
        for line in &inputs {
            let b = line.as_bytes();
            if let Some(f) = bsd_fixed(b) {
                fixed += 1;
                assert_eq!(Some(f), bsd_general(b), "{line:?}");
            }
        }
        assert!(
            fixed > 1000,
            "the fixed layout was tried on {fixed} lines only"
        );
    }

    #[test]
    fn bsd_header_with_host_and_pid() {
        let h = parse_header("Jun 21 16:47:48 digital sshd[13709]: error: x", &mut tc());
        assert_eq!(h.ts.unwrap().to_string(), "2005-06-21T16:47:48Z");
        assert_eq!(h.host, Some("digital"));
        assert_eq!(h.program, Some("sshd"));
        assert_eq!(h.pid, Some("13709"));
        assert_eq!(h.msg, "error: x");
    }

    #[test]
    fn year_is_inferred_backwards_for_future_dates() {
        let h = parse_header("Dec 12 20:04:39 aragorn sshd[1328]: m", &mut tc());
        assert_eq!(h.ts.unwrap().to_string(), "2004-12-12T20:04:39Z");
        let mut fixed = tc().with_year(Some(2019));
        let h = parse_header("Dec 12 20:04:39 aragorn sshd[1328]: m", &mut fixed);
        assert_eq!(h.ts.unwrap().to_string(), "2019-12-12T20:04:39Z");
    }

    #[test]
    fn tag_forms_without_host() {
        let h = parse_header("Nov 23 21:50:19 sshd[8148]: Disconnecting", &mut tc());
        assert_eq!(
            (h.host, h.program, h.pid, h.msg),
            (None, Some("sshd"), Some("8148"), "Disconnecting")
        );
        let h = parse_header("Mar  3 00:17:22 [sshd]: User root", &mut tc());
        assert_eq!((h.program, h.msg), (Some("sshd"), "User root"));
        let h = parse_header("Jun 25 23:53:34 [sshd] User root", &mut tc());
        assert_eq!((h.program, h.msg), (Some("sshd"), "User root"));
        let h = parse_header("Feb 7 16:01:07 linux-m899 sshd[5106]: User", &mut tc());
        assert_eq!(h.ts.unwrap().to_string(), "2005-02-07T16:01:07Z");
    }

    #[test]
    fn solaris_and_kernel_prefixes_are_stripped() {
        let h = parse_header(
            "Mar 29 05:59:23 dusky sshd[20878]: [ID 800047 auth.info] Failed x",
            &mut tc(),
        );
        assert_eq!(h.msg, "Failed x");
        let h = parse_header(
            "srv sshd[20878]: kernel:[  970.699396]: Failed y",
            &mut tc(),
        );
        assert_eq!((h.ts, h.host, h.msg), (None, Some("srv"), "Failed y"));
        let h = parse_header(
            "srv sshd[20879]: kernel: [  970.699397] Failed z",
            &mut tc(),
        );
        assert_eq!(h.msg, "Failed z");
    }

    #[test]
    fn rfc3339_with_offset_and_fraction() {
        let h = parse_header(
            "2015-04-16T18:02:50.321974+00:00 host sshd[2716]: m",
            &mut tc(),
        );
        assert_eq!(h.ts.unwrap().to_string(), "2015-04-16T18:02:50.321974Z");
        assert_eq!(h.program, Some("sshd"));
        let (t, _) = parse_rfc3339("2019-07-08T17:40:16-04:00", &mut tc()).unwrap();
        assert_eq!(t.to_string(), "2019-07-08T21:40:16Z");
    }

    /// socklog under svlogd: its time (`-tt`: `_` between date and time; `-ttt`: `T`), the
    /// facility, then the program's message with its own BSD time and no host.
    #[test]
    fn socklog_lines_with_svlogd_times() {
        let mut tc = tc();
        for line in [
            "2024-03-04_10:00:00.12345 auth.info: Mar  4 10:00:00 sshd[7]: Failed password",
            "2024-03-04T10:00:00.12345 auth.info: sshd[7]: Failed password",
        ] {
            let h = parse_header(line, &mut tc);
            assert_eq!(
                (h.program, h.pid, h.host, h.msg),
                (Some("sshd"), Some("7"), None, "Failed password"),
                "{line}"
            );
            let want = parse_rfc3339("2024-03-04T10:00:00.12345Z", &mut tc)
                .unwrap()
                .0;
            assert_eq!(h.ts, Some(want), "{line}");
        }
    }

    #[test]
    fn rfc5424_with_structured_data() {
        let line = r#"<38>1 2019-07-08T17:40:17.954167-04:00 hostname.example.com sshd 55555 - [timeQuality tzKnown="1" isSynced="0"][xxx@123 test="[brackets]"] Failed unknown for x"#;
        let h = parse_header(line, &mut tc());
        assert_eq!(h.ts.unwrap().to_string(), "2019-07-08T21:40:17.954167Z");
        assert_eq!(
            (h.host, h.program, h.pid),
            (Some("hostname.example.com"), Some("sshd"), Some("55555"))
        );
        assert_eq!(h.msg, "Failed unknown for x");
    }

    #[test]
    fn local_zone_conversion() {
        let mut z = TimeContext::new("Europe/Zurich")
            .unwrap()
            .with_year(Some(2005));
        let h = parse_header("Jun 21 16:47:48 h sshd[1]: m", &mut z);
        assert_eq!(h.ts.unwrap().to_string(), "2005-06-21T14:47:48Z");
        assert!(TimeContext::new("Mars/Olympus").is_err());
    }

    #[test]
    fn garbage_never_panics_and_keeps_the_message() {
        for line in [
            "",
            "J",
            "Jan",
            "Jan 99 99:99:99 x y: z",
            "<999>1 x",
            "<1>",
            "2020-13-45T99:00:00Z h p: m",
            "\u{fffd}\u{fffd}c 31 11:59:59 [sshd] x",
            "[",
            "a[",
            "a[]:",
        ] {
            let h = parse_header(line, &mut tc());
            assert!(line.contains(h.msg) || h.msg.is_empty());
        }
        assert_eq!(parse_header("Jan 31 25:00:00 h p: m", &mut tc()).ts, None);
    }
}
