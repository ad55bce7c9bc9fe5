//! Sensors: everything that turns outside input into [`Event`]s.
//!
//! * [`LineParser`] reads one syslog line (auth.log, secure, journald's MESSAGE) into an event:
//!   header and timestamp ([`syslog`]), then a dispatch on the program name to a hand-written
//!   message parser ([`sshd`], [`auth`]). Dispatching on the tag first is the prefilter: most
//!   lines of a real auth.log (cron, logind chatter) are rejected after a few byte compares.
//! * [`cowrie`] reads Cowrie honeypot JSON events.
//! * [`tail`] follows files across rotation; [`journald`] follows the journal.
//!
//! Everything here reads attacker-written bytes: parsers return `None` or an error, never panic,
//! and never allocate in proportion to hostile input beyond the bounded raw copy.
#![forbid(unsafe_code)]

pub mod auth;
pub mod cowrie;
mod dropbear;
pub mod files;
pub mod fuzz;
pub mod journald;
pub mod jsonl;
pub mod push;
pub mod source;
pub mod sshd;
pub mod syslog;
pub mod tail;

use rustc_hash::FxHasher;
use std::hash::Hasher;
use std::net::IpAddr;
use std::sync::Arc;
use tripline_event::{
    truncate_str, Event, Kind, Line, SensorKind, SourcePos, Text, Timestamp, MAX_RAW_BYTES,
};

pub use syslog::{Header, TimeContext};

/// The remote source named in a line: an address, or a host name when sshd logs names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Src<'a> {
    Ip(IpAddr),
    Name(&'a str),
}

/// Counters a parser keeps; the pipeline exports them as metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseStats {
    pub lines: u64,
    pub bytes: u64,
    /// Lines that became events.
    pub events: u64,
    /// Lines no parser understood (normal for most of an auth.log).
    pub unparsed: u64,
    /// Lines longer than [`MAX_RAW_BYTES`], truncated.
    pub truncated: u64,
}

/// sshd connections remembered per source. sshd itself admits at most 100 unauthenticated
/// connections by default (`MaxStartups 10:30:100`) and closed ones are dropped, so this bounds
/// connections whose close was never logged; the least recently used half goes when full.
const MAX_CONNECTIONS: usize = 2048;

/// Turns syslog lines into events. One per source: it remembers sshd connections by pid.
#[derive(Debug)]
pub struct LineParser {
    time: TimeContext,
    conns: sshd::ConnTracker,
    /// sudo's and su's PAM failures counted since that user's last line of the program's own
    /// ([`LineParser::pam_once`]): (host, program and user, how many, when the last was, s), at
    /// most [`MAX_PAM_COUNTED`].
    pam_counted: Vec<(u64, u32, i64)>,
    sensor: SensorKind,
    default_host: Arc<str>,
    last_host: Arc<str>,
    pub stats: ParseStats,
}

/// A line's verdict before it becomes an [`Event`].
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub ts: Option<Timestamp>,
    pub kind: Kind,
    pub src_ip: Option<IpAddr>,
    pub src_name: Option<Text>,
    pub user: Option<Text>,
    pub session: Option<Text>,
    pub count: u32,
    pub hostile: bool,
}

impl LineParser {
    pub fn new(time: TimeContext, sensor: SensorKind, default_host: &str) -> Self {
        let host: Arc<str> = default_host.into();
        LineParser {
            time,
            conns: sshd::ConnTracker::new(MAX_CONNECTIONS),
            pam_counted: Vec::new(),
            sensor,
            last_host: host.clone(),
            default_host: host,
            stats: ParseStats::default(),
        }
    }

    pub fn time_context(&mut self) -> &mut TimeContext {
        &mut self.time
    }

    /// A Cowrie JSON line as an event ([`cowrie::parse`]), counted in [`LineParser::stats`] as a
    /// syslog line is; `Err` for a line that is not valid Cowrie JSON (counted as unparsed).
    pub fn cowrie_event(
        &mut self,
        line: &str,
        observed: Timestamp,
        pos: SourcePos,
        host: &Arc<str>,
    ) -> Result<Option<Event>, cowrie::CowrieError> {
        self.cowrie_event_in(None, line, observed, pos, host)
    }

    /// [`LineParser::cowrie_event`] for a line that is a part of `shared` (a file read's buffer).
    pub fn cowrie_event_in(
        &mut self,
        shared: Option<&Arc<str>>,
        line: &str,
        observed: Timestamp,
        pos: SourcePos,
        host: &Arc<str>,
    ) -> Result<Option<Event>, cowrie::CowrieError> {
        let ev = cowrie::parse_in(shared, line, &mut self.time, observed, pos, host);
        self.stats.lines += 1;
        self.stats.bytes += line.len() as u64 + 1;
        match ev {
            Ok(Some(_)) => self.stats.events += 1,
            _ => self.stats.unparsed += 1,
        }
        ev
    }

    /// Parse one line (without its newline). Returns `None` for lines that are not events.
    pub fn parse<'a>(&mut self, line: &'a str) -> Option<(Header<'a>, Parsed)> {
        let header = syslog::parse_header(line, &mut self.time);
        let parsed = self.parse_message(&header)?;
        Some((header, parsed))
    }

    /// Parse the message part of an already split line (journald gives fields directly).
    pub fn parse_message(&mut self, h: &Header<'_>) -> Option<Parsed> {
        let mut msg = h.msg;
        let mut repeat = 1u32;
        if let Some(r) = msg.strip_prefix("message repeated ") {
            // rsyslog: `message repeated 3 times: [ Failed password for … ]`
            let (n, r) = split_once_str(r, " times: [")?;
            repeat = n.trim().parse::<u32>().ok()?.clamp(1, 100_000);
            msg = r.trim_start().strip_suffix(']').unwrap_or(r).trim_end();
        }
        let program = h.program.unwrap_or("sshd");
        // a PAM lockout, whichever program PAM ran in
        if msg.starts_with("pam_faillock(") || msg.starts_with("pam_tally") {
            if let Some(m) = auth::pam_lockout(msg) {
                return Some(auth_parsed(h, m, repeat));
            }
        }
        // the old PAM program form (`sshd(pam_unix)[pid]:`, `su(pam_unix)[pid]:`, older RHEL
        // and Fedora): PAM's message for that service, without its `pam_unix(…)` prefix
        if let Some(service) = program.strip_suffix("(pam_unix)") {
            return self.old_pam(h, service, msg, repeat);
        }
        match program {
            "sshd" | "sshd-session" | "sshd-auth" | "dropbear" => {
                let m = match program {
                    "dropbear" => dropbear::classify(msg)?,
                    _ => sshd::classify(msg)?,
                };
                self.sshd_parsed(h, m, repeat)
            }
            _ => {
                let m = match program {
                    "sudo" => match auth::sudo_pam_failure(msg) {
                        Some(m) => Some(self.pam_once(h, m, true)),
                        None => auth::sudo(msg).map(|m| self.pam_once(h, m, false)),
                    },
                    "su" => {
                        let pam = msg.trim_start().starts_with("pam_unix(");
                        auth::su(msg).map(|m| self.pam_once(h, m, pam))
                    }
                    "useradd" | "usermod" | "groupadd" | "userdel" | "passwd" | "chpasswd"
                    | "gpasswd" => auth::account(program, msg),
                    "systemd-logind" => auth::logind(msg),
                    _ => None,
                }?;
                Some(auth_parsed(h, m, repeat))
            }
        }
    }

    /// An sshd (or Dropbear) message judged with its connection's context.
    fn sshd_parsed(&mut self, h: &Header<'_>, m: sshd::Msg<'_>, repeat: u32) -> Option<Parsed> {
        let key = h.pid.map(|pid| conn_key(h.host, pid));
        let v = self.conns.judge(m, key, repeat)?;
        let (src_ip, src_name) = match v.src {
            Some(sshd::OwnedSrc::Ip(ip)) => (Some(ip), None),
            Some(sshd::OwnedSrc::Name(n)) => (None, Some(n)),
            None => (None, None),
        };
        Some(Parsed {
            ts: h.ts,
            kind: v.kind,
            src_ip,
            src_name,
            user: v.user,
            session: h.pid.map(Into::into),
            count: v.count,
            hostile: v.hostile,
        })
    }

    /// A line of the old PAM program form, for `service` (`sshd`, `su`).
    fn old_pam(&mut self, h: &Header<'_>, service: &str, msg: &str, repeat: u32) -> Option<Parsed> {
        match service {
            "sshd" => self.sshd_parsed(h, sshd::old_pam(msg)?, repeat),
            "su" => {
                let m = auth::su_pam_failure(msg)?;
                let m = self.pam_once(h, m, true);
                Some(auth_parsed(h, m, repeat))
            }
            _ => None,
        }
    }

    /// sudo and su write PAM's failure for each wrong password and then, when they give up,
    /// their own line (sudo's `N incorrect password attempts`, su's `FAILED SU`): that line
    /// counts only the tries PAM's lines did not. Keyed by host, program and user (sudo often
    /// logs without a pid), forgotten after sudo's 5 min password timeout.
    fn pam_once<'m>(
        &mut self,
        h: &Header<'_>,
        mut m: auth::AuthMsg<'m>,
        pam: bool,
    ) -> auth::AuthMsg<'m> {
        use tripline_event::PrivilegeKind::{SuFailure, SudoFailure};
        let su = match m.kind {
            Kind::Privilege(SudoFailure) => false,
            Kind::Privilege(SuFailure { .. }) => true,
            _ => return m,
        };
        let Some(user) = m.user else { return m };
        let key = conn_key(h.host, user) ^ su as u64;
        let now = h.ts.map_or(0, |t| t.secs());
        self.pam_counted
            .retain(|e| now - e.2 <= PAM_COUNTED_SECONDS);
        let i = self.pam_counted.iter().position(|e| e.0 == key);
        if pam {
            match i {
                Some(i) => {
                    let e = &mut self.pam_counted[i];
                    e.1 = e.1.saturating_add(m.count);
                    e.2 = now;
                }
                None if self.pam_counted.len() < MAX_PAM_COUNTED => {
                    self.pam_counted.push((key, m.count, now))
                }
                None => {}
            }
        } else if let Some(i) = i {
            m.count = m.count.saturating_sub(self.pam_counted.swap_remove(i).1);
        }
        m
    }

    /// Parse a line into a full event; `None` (and a counted `unparsed`) when it is not one.
    pub fn event(&mut self, line: &str, observed: Timestamp, pos: SourcePos) -> Option<Event> {
        self.event_in(None, line, observed, pos)
    }

    /// [`LineParser::event`] for a line that is a part of `shared` (a file read's buffer): the
    /// event's raw text then shares that buffer instead of copying the line.
    pub fn event_in(
        &mut self,
        shared: Option<&Arc<str>>,
        line: &str,
        observed: Timestamp,
        pos: SourcePos,
    ) -> Option<Event> {
        self.stats.lines += 1;
        self.stats.bytes += line.len() as u64 + 1;
        let raw = if line.len() > MAX_RAW_BYTES {
            self.stats.truncated += 1;
            truncate_str(line, MAX_RAW_BYTES)
        } else {
            line
        };
        let header = syslog::parse_header(raw, &mut self.time);
        let host = header.host;
        let Some(p) = self.parse_message(&header) else {
            self.stats.unparsed += 1;
            return None;
        };
        self.stats.events += 1;
        let host = self.intern_host(host);
        let raw = Line::in_or_copy(shared, raw);
        Some(build_event(p, observed, self.sensor, host, raw, pos))
    }

    fn intern_host(&mut self, host: Option<&str>) -> Arc<str> {
        match host {
            None => self.default_host.clone(),
            Some(h) if *self.last_host == *h => self.last_host.clone(),
            Some(h) => {
                self.last_host = truncate_str(h, 255).into();
                self.last_host.clone()
            }
        }
    }
}

/// Most users whose PAM failures wait for sudo's or su's own line.
const MAX_PAM_COUNTED: usize = 64;
/// How long they wait: sudo's default password timeout.
const PAM_COUNTED_SECONDS: i64 = 300;

/// A message of sudo, su, the account tools or logind (no address).
fn auth_parsed(h: &Header<'_>, m: auth::AuthMsg<'_>, repeat: u32) -> Parsed {
    Parsed {
        ts: h.ts,
        kind: m.kind,
        src_ip: None,
        src_name: None,
        user: m.user.map(Into::into),
        session: h.pid.map(Into::into),
        count: m.count.saturating_mul(repeat),
        hostile: m.hostile,
    }
}

/// A process's key: a hash of its host and pid.
fn conn_key(host: Option<&str>, pid: &str) -> u64 {
    let mut hs = FxHasher::default();
    hs.write(host.unwrap_or("").as_bytes());
    hs.write_u8(0);
    hs.write(pid.as_bytes());
    hs.finish()
}

/// Assemble an event from a parsed line.
pub fn build_event(
    p: Parsed,
    observed: Timestamp,
    sensor: SensorKind,
    host: Arc<str>,
    raw: Line,
    pos: SourcePos,
) -> Event {
    Event {
        ts: p.ts.unwrap_or(observed),
        observed,
        sensor,
        host,
        src_ip: p.src_ip,
        src_name: p.src_name,
        user: p.user,
        session: p.session,
        keys: vec![],
        kind: p.kind,
        count: p.count,
        hostile: p.hostile,
        raw,
        pos,
    }
}

/// Where `pat` (ASCII, not empty) first occurs in `s`. Lines and patterns are short, so a scan
/// for the first byte beats building the standard library's two-way searcher on every call.
pub(crate) fn find_str(s: &str, pat: &str) -> Option<usize> {
    let (b, p) = (s.as_bytes(), pat.as_bytes());
    let (&first, rest) = p.split_first()?;
    let last = b.len().checked_sub(p.len())?;
    let mut from = 0;
    while from <= last {
        let i = from + find_byte(&b[from..=last], first)?;
        if b[i + 1..i + p.len()] == *rest {
            return Some(i);
        }
        from = i + 1;
    }
    None
}

/// Where byte `c` first occurs in `b`, eight bytes at a time in a plain `u64` (SWAR). The
/// tokens searched here are a few to a few dozen bytes: no setup to amortise, unlike a
/// vectorised search, and an eighth of a byte loop's steps.
pub(crate) fn find_byte(b: &[u8], c: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let spread = LO * c as u64;
    let mut chunks = b.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let w = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8])) ^ spread;
        // the lowest set bit is exact: a borrow only ever runs upwards from a zero byte
        let zero = w.wrapping_sub(LO) & !w & HI;
        if zero != 0 {
            return Some(at + (zero.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&x| x == c)
        .map(|i| at + i)
}

/// `s.split_once(pat)` through [`find_str`].
pub(crate) fn split_once_str<'a>(s: &'a str, pat: &str) -> Option<(&'a str, &'a str)> {
    // `pat` is ASCII: both cuts are on character boundaries
    find_str(s, pat).map(|i| (&s[..i], &s[i + pat.len()..]))
}

/// Hand each line of the file at `path` to `f` (without its line ending, cut to
/// `MAX_RAW_BYTES`, invalid UTF-8 replaced), as `parse` and `train` read a whole file; returns
/// how many lines there were.
pub fn for_each_line(path: &std::path::Path, mut f: impl FnMut(&str)) -> std::io::Result<u64> {
    use std::io::BufRead;
    let file = std::fs::File::open(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("open {}: {e}", path.display())))?;
    let mut r = std::io::BufReader::with_capacity(1 << 20, file);
    let (mut buf, mut n) = (vec![], 0u64);
    loop {
        buf.clear();
        let read = r
            .read_until(b'\n', &mut buf)
            .map_err(|e| std::io::Error::new(e.kind(), format!("read {}: {e}", path.display())))?;
        if read == 0 {
            return Ok(n);
        }
        n += 1;
        let bytes = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        f(&decode_lossy(&bytes[..bytes.len().min(MAX_RAW_BYTES)]));
    }
}

/// Decode bytes as UTF-8, replacing invalid sequences (never drop a line for its encoding).
pub fn decode_lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    // Almost every line is valid: check with SIMD first; the lossy decoder walks bytes.
    match simdutf8::basic::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_str_agrees_with_the_standard_library() {
        let hays = [
            "",
            "a",
            " : ",
            "alice : TTY=pts/0 ; PWD=/",
            "x ; ; y",
            "é ; ü : ",
            "; ",
            " ;",
            "abc",
            "New session 4 of user bob.",
            "ab ab ab",
            "aaa : : :",
        ];
        let pats = [" ; ", " : ", ";", "ab", " of user ", "abcd", "a", " "];
        for h in hays {
            for p in pats {
                assert_eq!(find_str(h, p), h.find(p), "find {p:?} in {h:?}");
                assert_eq!(
                    split_once_str(h, p),
                    h.split_once(p),
                    "split {h:?} at {p:?}"
                );
            }
        }
        assert_eq!(find_str("abc", ""), None);
    }

    #[test]
    fn find_byte_agrees_with_a_byte_loop_at_every_length_and_place() {
        // every length around the 8-byte words, the byte at each place, twice, or not at all;
        // the other bytes just above and below it, so a borrow from a neighbour would show
        for len in 0..40usize {
            for at in 0..=len {
                for other in [0u8, b' ' - 1, b' ' + 1, 0x80, 0xff] {
                    let mut hay = vec![other; len];
                    if at < len {
                        hay[at] = b' ';
                        if at + 3 < len {
                            hay[at + 3] = b' ';
                        }
                    }
                    let want = hay.iter().position(|&x| x == b' ');
                    assert_eq!(find_byte(&hay, b' '), want, "{hay:?}");
                }
            }
        }
        assert_eq!(find_byte(b"\x00\x01", 0), Some(0));
        assert_eq!(find_byte(b"aaaaaaaaa\x00", 0), Some(9));
    }

    fn parser() -> LineParser {
        let tc = TimeContext::utc().with_year(Some(2024));
        LineParser::new(tc, SensorKind::Files, "localhost")
    }

    #[test]
    fn message_repeated_multiplies_the_count() {
        let mut p = parser();
        let ev = p
            .event(
                "Jan  1 00:00:00 h sshd[1]: message repeated 3 times: [ Failed password for root from 192.0.2.9 port 22 ssh2]",
                Timestamp(0),
                SourcePos::default(),
            )
            .unwrap();
        assert_eq!(ev.count, 3);
        assert!(ev.hostile);
        assert_eq!(ev.src_ip, Some("192.0.2.9".parse().unwrap()));
    }

    /// The attempts the lines of `log` add up to, per address.
    fn attempts(log: &str) -> std::collections::BTreeMap<String, u32> {
        let mut p = parser();
        let mut out = std::collections::BTreeMap::new();
        for line in log.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if let Some(ev) = p.event(line, Timestamp(0), SourcePos::default()) {
                if ev.hostile && (ev.kind.is_login_failure() || ev.user.is_some()) {
                    let ip = ev.src_ip.map(|i| i.to_string()).unwrap_or_default();
                    *out.entry(ip).or_insert(0) += ev.count;
                }
            }
        }
        out
    }

    /// One OpenSSH attempt writes several lines; the connection's attempts count once each.
    #[test]
    fn one_attempt_is_one_count_whatever_lines_it_writes() {
        // the issue's reproduction: a user mistypes three times
        let typo = "
            Jan  1 10:00:00 h sshd[100]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.10  user=alice
            Jan  1 10:00:02 h sshd[100]: Failed password for alice from 192.0.2.10 port 5000 ssh2
            Jan  1 10:00:05 h sshd[100]: Failed password for alice from 192.0.2.10 port 5000 ssh2
            Jan  1 10:00:08 h sshd[100]: Failed password for alice from 192.0.2.10 port 5000 ssh2
            Jan  1 10:00:08 h sshd[100]: Connection closed by authenticating user alice 192.0.2.10 port 5000 [preauth]
            Jan  1 10:00:08 h sshd[100]: PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.10  user=alice";
        assert_eq!(attempts(typo)["192.0.2.10"], 3);
        // three attempts by an invalid user
        let invalid = "
            Jan  1 10:00:00 h sshd[200]: Invalid user admin from 198.51.100.4 port 6000
            Jan  1 10:00:00 h sshd[200]: pam_unix(sshd:auth): check pass; user unknown
            Jan  1 10:00:00 h sshd[200]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=198.51.100.4
            Jan  1 10:00:02 h sshd[200]: Failed password for invalid user admin from 198.51.100.4 port 6000 ssh2
            Jan  1 10:00:04 h sshd[200]: Failed password for invalid user admin from 198.51.100.4 port 6000 ssh2
            Jan  1 10:00:06 h sshd[200]: Failed password for invalid user admin from 198.51.100.4 port 6000 ssh2
            Jan  1 10:00:06 h sshd[200]: Disconnected from invalid user admin 198.51.100.4 port 6000 [preauth]
            Jan  1 10:00:06 h sshd[200]: PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=198.51.100.4";
        assert_eq!(attempts(invalid)["198.51.100.4"], 3);
        // three connections, one root attempt and its close each
        let mut closes = String::new();
        for pid in 300..303 {
            closes += &format!(
                "Jan  1 10:00:00 h sshd[{pid}]: Failed password for root from 203.0.113.7 port {pid} ssh2\n\
                 Jan  1 10:00:00 h sshd[{pid}]: Connection closed by authenticating user root 203.0.113.7 port {pid} [preauth]\n"
            );
        }
        assert_eq!(attempts(&closes)["203.0.113.7"], 3);
        // an invalid user who disconnects without trying a password made one attempt
        let probe = "Jan  1 10:00:00 h sshd[400]: Invalid user oracle from 192.0.2.50 port 1\n\
                     Jan  1 10:00:01 h sshd[400]: Connection closed by invalid user oracle 192.0.2.50 port 1 [preauth]";
        assert_eq!(attempts(probe)["192.0.2.50"], 1);
        // lines without a pid stand alone: each one counts
        let nopid =
            "Jan  1 10:00:00 h sshd: Failed password for root from 192.0.2.60 port 1 ssh2\n\
                     Jan  1 10:00:01 h sshd: Failed password for root from 192.0.2.60 port 1 ssh2";
        assert_eq!(attempts(nopid)["192.0.2.60"], 2);
        // a pid reused by a later connection starts a count of its own
        let reused = "Jan  1 10:00:00 h sshd[500]: Failed password for root from 192.0.2.70 port 1 ssh2\n\
                      Jan  1 10:00:00 h sshd[500]: Failed password for root from 192.0.2.70 port 1 ssh2\n\
                      Jan  1 10:00:01 h sshd[500]: Connection closed by authenticating user root 192.0.2.70 port 1 [preauth]\n\
                      Jan  1 11:00:00 h sshd[500]: Invalid user x from 192.0.2.70 port 2\n\
                      Jan  1 11:00:01 h sshd[500]: Failed password for invalid user x from 192.0.2.70 port 2 ssh2";
        assert_eq!(attempts(reused)["192.0.2.70"], 3);
        // a host where sshd logs only through PAM: PAM's first failure and its summary
        let pam_only = "
            Jan  1 10:00:00 h sshd[600]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.80  user=root
            Jan  1 10:00:09 h sshd[600]: Connection closed by authenticating user root 192.0.2.80 port 1 [preauth]
            Jan  1 10:00:09 h sshd[600]: PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.80  user=root";
        assert_eq!(attempts(pam_only)["192.0.2.80"], 3);
    }

    /// Regression: an IPv6 address with a scope, or `[addr]:port`, made the line no event.
    #[test]
    fn ipv6_scopes_and_bracketed_ports_are_addresses() {
        let mut p = parser();
        for (msg, ip, user) in [
            (
                "Failed password for root from fe80::1%eth0 port 22 ssh2",
                "fe80::1",
                "root",
            ),
            (
                "Invalid user bob from fe80::2%enp0s3 port 22",
                "fe80::2",
                "bob",
            ),
            (
                "Failed password for root from [2001:db8::5]:2222 ssh2",
                "2001:db8::5",
                "root",
            ),
        ] {
            let ev = p
                .event(
                    &format!("Jan  1 00:00:00 h sshd[9]: {msg}"),
                    Timestamp(0),
                    SourcePos::default(),
                )
                .unwrap_or_else(|| panic!("{msg}"));
            assert_eq!(ev.src_ip, ip.parse().ok(), "{msg}");
            assert_eq!(ev.user.as_deref(), Some(user), "{msg}");
            assert!(ev.hostile, "{msg}");
        }
    }

    /// Regression: sshd's close after too many failures was read as a connection opening.
    #[test]
    fn too_many_failures_closes_the_connection() {
        let mut p = parser();
        let ev = p
            .event("Jan  1 00:00:00 h sshd[9]: Disconnecting invalid user xxx 192.0.2.7 port 49941: Too many authentication failures [preauth]", Timestamp(0), SourcePos::default())
            .unwrap();
        assert_eq!(ev.kind.name(), "ssh.connection_close");
        assert_eq!(ev.src_ip, "192.0.2.7".parse().ok());
    }

    /// Headers real hosts write: each line is a failure from its address, at its time.
    #[test]
    fn header_forms_real_hosts_write() {
        let mut p = parser();
        let msg = "Failed password for root from 192.0.2.9 port 22 ssh2";
        for (line, ts, host) in [
            // ISO date, a space, fractions, +hhmm, two spaces before the host
            (
                format!("2024-03-04 10:00:00.123456+0100  web1 sshd[1]: {msg}"),
                "2024-03-04T09:00:00.123456Z",
                Some("web1"),
            ),
            // journalctl -o short-iso
            (
                format!("2024-03-04T10:00:00+0100 web1 sshd[1]: {msg}"),
                "2024-03-04T09:00:00Z",
                Some("web1"),
            ),
            // BusyBox: a facility after the host
            (
                format!("Mar  4 10:00:00 web1 auth.info sshd[1]: {msg}"),
                "2024-03-04T10:00:00Z",
                Some("web1"),
            ),
            // FreeBSD: `<facility.priority>` before the host
            (
                format!("Mar  4 10:00:00 <auth.info> web1 sshd[1]: {msg}"),
                "2024-03-04T10:00:00Z",
                Some("web1"),
            ),
            // socklog: ISO time, then `facility.priority:`
            (
                format!("2024-03-04T10:00:00.5+01:00 auth.info: sshd[1]: {msg}"),
                "2024-03-04T09:00:00.500Z",
                None,
            ),
            // RFC 5424 without its PRI
            (
                format!("1 2024-03-04T10:00:00.003Z web1 sshd 1 - - {msg}"),
                "2024-03-04T10:00:00.003Z",
                Some("web1"),
            ),
        ] {
            let ev = p
                .event(&line, Timestamp(0), SourcePos::default())
                .unwrap_or_else(|| panic!("{line}"));
            assert_eq!(ev.src_ip, "192.0.2.9".parse().ok(), "{line}");
            assert_eq!(
                ev.ts,
                ts.parse::<jiff::Timestamp>()
                    .map(|t| Timestamp(t.as_microsecond()))
                    .unwrap(),
                "{line}"
            );
            assert_eq!(ev.host.as_ref(), host.unwrap_or("localhost"), "{line}");
            assert!(ev.hostile, "{line}");
        }
    }

    #[test]
    fn cron_and_unknown_programs_are_not_events() {
        let mut p = parser();
        assert!(p.event("Jan  1 00:00:00 h CRON[1]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)", Timestamp(0), SourcePos::default()).is_none());
        assert!(p
            .event(
                "Jan  1 00:00:00 h kernel: x",
                Timestamp(0),
                SourcePos::default()
            )
            .is_none());
        assert_eq!(p.stats.unparsed, 2);
    }

    #[test]
    fn long_lines_are_truncated_and_counted() {
        let mut p = parser();
        let long = format!(
            "Jan  1 00:00:00 h sshd[1]: Invalid user {} from 192.0.2.1",
            "a".repeat(70_000)
        );
        let ev = p.event(&long, Timestamp(0), SourcePos::default());
        assert_eq!(p.stats.truncated, 1);
        assert!(
            ev.is_none(),
            "truncated line lost its source; it must not be misattributed"
        );
    }

    #[test]
    fn sudo_event_keeps_user_and_host() {
        let mut p = parser();
        let ev = p
            .event("Mar  1 10:00:00 web1 sudo:   alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/bash", Timestamp(0), SourcePos::default())
            .unwrap();
        assert_eq!(&*ev.host, "web1");
        assert_eq!(ev.user.as_deref(), Some("alice"));
        assert_eq!(ev.ts.to_string(), "2024-03-01T10:00:00Z");
    }
}
