//! PII: e-mail addresses, phone numbers, payment cards, IBANs, US SSNs, IP addresses and three
//! national ids, each found by a regex for candidates and then confirmed in code.
//!
//! The regex only proposes; the validator decides. A card number is reported only with a known
//! issuer prefix, a length that issuer uses, a valid Luhn digit and no digits running on either
//! side, so that an order number is not a card. An IBAN needs its country's length and
//! mod-97 == 1; a national id its checksum (Spanish DNI/NIE letter, Aadhaar Verhoeff digit, French
//! NIR key). Forms that carry no checksum of their own (a bare 9-digit SSN, a bare 12-digit
//! Aadhaar) need a keyword nearby. Addresses are parsed with `std::net`, and a dotted quad that
//! continues (`1.2.3.4.5`) or follows `version` is not an address.
//!
//! Spans may not overlap: when two kinds claim the same bytes, the one with the stronger
//! validator (card, IBAN, SSN, national ids) wins over the weaker (e-mail, IP, phone).
//!
//! Cost: ten regexes that each read every byte take about 1.3 ms per 100 KB, so one pass first
//! finds clusters of digits (and colons, for IPv6) and the digit-bearing kinds run only on the
//! regions around them (see `regions`), each kind only where a cluster is dense enough to hold
//! one of its numbers; e-mail's `@` already lets the regex engine skip. 100 KB of prose with a
//! number every 80 words then scans in about 0.1 ms. The one form this can miss is an IPv6
//! address with no four digits or colons in a row (gaps of up to two bytes), like `abcd:ef::ab`.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use regex::Regex;

use crate::Span;

/// A kind of personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PiiKind {
    /// `local@domain.tld`.
    Email,
    /// International `+CC …` or North American `(555) 123-4567` / `555-123-4567`.
    Phone,
    /// Card number: issuer prefix, issuer length, Luhn.
    PaymentCard,
    /// International bank account number: country length, mod-97.
    Iban,
    /// US social security number: `AAA-GG-SSSS` with valid area, group and serial.
    UsSsn,
    /// IPv4 address.
    Ipv4,
    /// IPv6 address.
    Ipv6,
    /// Spanish DNI (`12345678Z`) or NIE (`X1234567L`): mod-23 control letter.
    EsDni,
    /// Indian Aadhaar number: 12 digits, Verhoeff check digit.
    InAadhaar,
    /// French social security number (NIR): 13 digits and a mod-97 key.
    FrNir,
}

/// Which kinds a scanner reports.
#[derive(Debug, Clone)]
pub struct Pii {
    on: [bool; KINDS],
    ids: [Arc<str>; KINDS],
}

const KINDS: usize = 10;

impl PiiKind {
    const ALL: [PiiKind; KINDS] = [
        PiiKind::Email,
        PiiKind::Phone,
        PiiKind::PaymentCard,
        PiiKind::Iban,
        PiiKind::UsSsn,
        PiiKind::Ipv4,
        PiiKind::Ipv6,
        PiiKind::EsDni,
        PiiKind::InAadhaar,
        PiiKind::FrNir,
    ];

    /// The id reported in spans and used in configuration.
    pub fn id(self) -> &'static str {
        match self {
            PiiKind::Email => "email",
            PiiKind::Phone => "phone",
            PiiKind::PaymentCard => "payment-card",
            PiiKind::Iban => "iban",
            PiiKind::UsSsn => "us-ssn",
            PiiKind::Ipv4 => "ipv4",
            PiiKind::Ipv6 => "ipv6",
            PiiKind::EsDni => "es-dni",
            PiiKind::InAadhaar => "in-aadhaar",
            PiiKind::FrNir => "fr-nir",
        }
    }

    /// Every kind.
    pub fn all() -> &'static [PiiKind] {
        &Self::ALL
    }

    /// The kind with this [`PiiKind::id`].
    pub fn from_id(id: &str) -> Option<PiiKind> {
        Self::ALL.iter().copied().find(|k| k.id() == id)
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The fewest digits (or colons) that any valid candidate holds in one cluster of
    /// [`regions`]; e-mail is looked for everywhere.
    fn densest_cluster(self) -> usize {
        match self {
            PiiKind::Email => 0,
            PiiKind::Ipv4 | PiiKind::Ipv6 | PiiKind::Iban => 4,
            PiiKind::Phone | PiiKind::EsDni => 7,
            PiiKind::UsSsn => 9,
            PiiKind::InAadhaar => 12,
            PiiKind::PaymentCard | PiiKind::FrNir => 13,
        }
    }

    /// Overlap precedence: lower wins.
    fn rank(self) -> u8 {
        match self {
            PiiKind::PaymentCard => 0,
            PiiKind::Iban => 1,
            PiiKind::UsSsn => 2,
            PiiKind::FrNir => 3,
            PiiKind::InAadhaar => 4,
            PiiKind::EsDni => 5,
            PiiKind::Email => 6,
            PiiKind::Ipv6 => 7,
            PiiKind::Ipv4 => 8,
            PiiKind::Phone => 9,
        }
    }
}

impl Pii {
    /// A scanner reporting `kinds`.
    pub fn new(kinds: &[PiiKind]) -> Pii {
        let mut on = [false; KINDS];
        for k in kinds {
            on[k.index()] = true;
        }
        Pii {
            on,
            ids: std::array::from_fn(|i| Arc::from(PiiKind::ALL[i].id())),
        }
    }

    /// A scanner reporting every kind.
    pub fn all() -> Pii {
        Pii::new(PiiKind::all())
    }

    /// Whether `kind` is reported.
    pub fn reports(&self, kind: PiiKind) -> bool {
        self.on[kind.index()]
    }

    /// The spans of the PII in `text`, sorted by start, never overlapping.
    pub fn scan(&self, text: &str) -> Vec<Span> {
        self.scan_regions(text, &regions(text))
    }

    /// [`Pii::scan`], the digit-bearing kinds looked for in `regions` only.
    fn scan_regions(&self, text: &str, regions: &[Region]) -> Vec<Span> {
        let p = patterns();
        let mut found: Vec<(usize, usize, PiiKind)> = Vec::new();
        let mut one = Vec::new();
        for &kind in PiiKind::all() {
            if !self.on[kind.index()] {
                continue;
            }
            one.clear();
            let find: Finder = match kind {
                PiiKind::Email => find_emails,
                PiiKind::Phone => find_phones,
                PiiKind::PaymentCard => find_cards,
                PiiKind::Iban => find_ibans,
                PiiKind::UsSsn => find_ssns,
                PiiKind::Ipv4 => find_ipv4,
                PiiKind::Ipv6 => find_ipv6,
                PiiKind::EsDni => find_es_dni,
                PiiKind::InAadhaar => find_aadhaar,
                PiiKind::FrNir => find_fr_nir,
            };
            if kind == PiiKind::Email {
                // its `@` lets the regex engine skip ahead on its own
                find(text, 0..text.len(), p, &mut one);
            } else {
                for r in regions
                    .iter()
                    .filter(|r| r.densest >= kind.densest_cluster())
                {
                    find(text, r.range.clone(), p, &mut one);
                }
            }
            found.extend(one.iter().map(|&(s, e)| (s, e, kind)));
        }
        // strongest kind first, then earliest and longest; keep what overlaps nothing kept
        found.sort_by_key(|&(s, e, k)| (k.rank(), s, std::cmp::Reverse(e)));
        let mut kept: BTreeMap<usize, (usize, PiiKind)> = BTreeMap::new();
        for (start, end, kind) in found {
            let clash = kept
                .range(..end)
                .next_back()
                .is_some_and(|(_, &(e, _))| e > start);
            if !clash {
                kept.insert(start, (end, kind));
            }
        }
        kept.into_iter()
            .map(|(start, (end, kind))| Span {
                id: self.ids[kind.index()].clone(),
                start,
                end,
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// candidates
// ---------------------------------------------------------------------------------------------

/// The candidate regexes, compiled once per process. Boundaries are checked in code (the regex
/// crate has no look-around), on ASCII bytes.
struct Patterns {
    email: Regex,
    phone_intl: Regex,
    phone_na: Regex,
    card: Regex,
    iban: Regex,
    ssn: Regex,
    ipv4: Regex,
    ipv6: Regex,
    es_dni: Regex,
    aadhaar: Regex,
    fr_nir: Regex,
}

fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        // the patterns are constants; `patterns_compile_and_ids_round_trip` compiles them
        let re = |p: &str| Regex::new(p).expect("a constant PII pattern compiles");
        Patterns {
            email: re(
                r"[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}",
            ),
            phone_intl: re(r"\+[1-9][0-9]{0,2}(?:[ .\-]?(?:\([0-9]{1,4}\)|[0-9]{1,5})){1,7}"),
            phone_na: re(
                r"(?:1[\-. ]?)?(?:\([2-9][0-9]{2}\) ?|[2-9][0-9]{2}([\-. ]))[0-9]{3}([\-. ])[0-9]{4}",
            ),
            card: re(concat!(
                r"[0-9]{13,19}",
                r"|[0-9]{4}(?: [0-9]{4}){2} [0-9]{1,4}(?: [0-9]{3})?",
                r"|[0-9]{4}(?:-[0-9]{4}){2}-[0-9]{1,4}(?:-[0-9]{3})?",
                r"|[0-9]{4} [0-9]{6} [0-9]{4,5}",
                r"|[0-9]{4}-[0-9]{6}-[0-9]{4,5}",
            )),
            iban: re(
                r"[A-Z]{2}[0-9]{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?)",
            ),
            ssn: re(r"[0-9]{3}-[0-9]{2}-[0-9]{4}|[0-9]{3} [0-9]{2} [0-9]{4}|[0-9]{9}"),
            ipv4: re(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}"),
            ipv6: re(
                r"(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}|[0-9A-Fa-f]{1,4})?",
            ),
            es_dni: re(r"[0-9]{8}-?[A-Z]|[XYZ]-?[0-9]{7}-?[A-Z]"),
            aadhaar: re(
                r"[2-9][0-9]{3} [0-9]{4} [0-9]{4}|[2-9][0-9]{3}-[0-9]{4}-[0-9]{4}|[2-9][0-9]{11}",
            ),
            fr_nir: re(concat!(
                r"[12][0-9]{2}(?:0[1-9]|1[0-2]|[2-9][0-9])(?:[0-9]{2}|2[AB])[0-9]{8}",
                r"|[12] [0-9]{2} (?:0[1-9]|1[0-2]|[2-9][0-9]) (?:[0-9]{2}|2[AB]) [0-9]{3} [0-9]{3} [0-9]{2}",
            )),
        }
    })
}

/// A finder: the kind's candidates in `text[range]`, validated against the whole `text`.
type Finder = fn(&str, Range<usize>, &Patterns, &mut Vec<(usize, usize)>);

/// A regex match found in a region, with offsets into the whole text.
#[derive(Clone, Copy)]
struct Shifted<'t> {
    start: usize,
    end: usize,
    text: &'t str,
}

impl<'t> Shifted<'t> {
    fn new(m: regex::Match<'t>, by: usize) -> Shifted<'t> {
        Shifted {
            start: m.start() + by,
            end: m.end() + by,
            text: m.as_str(),
        }
    }

    fn start(&self) -> usize {
        self.start
    }

    fn end(&self) -> usize {
        self.end
    }

    fn as_str(&self) -> &'t str {
        self.text
    }
}

/// A part of the text worth running the digit-bearing kinds on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Region {
    range: Range<usize>,
    /// Interesting bytes in its densest cluster: a kind needing more is not run here.
    densest: usize,
}

/// The parts of `text` worth running the digit-bearing kinds on.
///
/// Every such candidate holds a cluster of at least four digits or colons, each within two
/// bytes of the next (`4111 1111`, `(555) 123-4567`, `GB82WEST1234…`, `fe80::`), and spans at
/// most 53 bytes; a region is a cluster plus 64 bytes on each side, so a candidate never
/// straddles a region's edge and the regexes see the same matches as on the whole text. Prose
/// with a few numbers is then mostly skipped: ten regexes cost about 1.3 ms per 100 KB when
/// each reads every byte.
fn regions(text: &str) -> Vec<Region> {
    const MAX_GAP: usize = 2;
    const MIN_CLUSTER: usize = 4;
    const MARGIN: usize = 64;
    let mut out: Vec<Region> = Vec::new();
    let mut push = |start: usize, end: usize, count: usize| {
        let mut s = start.saturating_sub(MARGIN);
        while !text.is_char_boundary(s) {
            s -= 1;
        }
        let mut e = (end + MARGIN).min(text.len());
        while !text.is_char_boundary(e) {
            e += 1;
        }
        match out.last_mut() {
            Some(last) if s <= last.range.end => {
                last.range.end = last.range.end.max(e);
                last.densest = last.densest.max(count);
            }
            _ => out.push(Region {
                range: s..e,
                densest: count,
            }),
        }
    };
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(start) = next_interesting(bytes, i) {
        let mut end = start + 1;
        let mut count = 1;
        // extend while the next interesting byte is at most MAX_GAP bytes away
        while let Some(g) = bytes[end..]
            .iter()
            .take(MAX_GAP + 1)
            .position(|&b| is_interesting(b))
        {
            end += g + 1;
            count += 1;
        }
        if count >= MIN_CLUSTER {
            push(start, end, count);
        }
        i = end;
    }
    out
}

/// A digit or a colon: what the clusters of [`regions`] are made of.
fn is_interesting(b: u8) -> bool {
    b.wrapping_sub(b'0') < 10 || b == b':'
}

/// The first interesting byte at or after `i`; skips 32 bytes at a time with a branch-free
/// test (vectorised by the compiler), since most of a prompt is letters.
fn next_interesting(bytes: &[u8], mut i: usize) -> Option<usize> {
    const CHUNK: usize = 32;
    while let Some(chunk) = bytes.get(i..i + CHUNK) {
        if chunk.iter().fold(false, |any, &b| any | is_interesting(b)) {
            break;
        }
        i += CHUNK;
    }
    bytes
        .get(i..)?
        .iter()
        .position(|&b| is_interesting(b))
        .map(|k| i + k)
}

// ---------------------------------------------------------------------------------------------
// context helpers
// ---------------------------------------------------------------------------------------------

fn byte_before(text: &str, i: usize) -> Option<u8> {
    i.checked_sub(1).map(|j| text.as_bytes()[j])
}

fn byte_at(text: &str, i: usize) -> Option<u8> {
    text.as_bytes().get(i).copied()
}

fn is_word(b: Option<u8>) -> bool {
    b.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn is_digit(b: Option<u8>) -> bool {
    b.is_some_and(|b| b.is_ascii_digit())
}

/// Length of the run of ASCII digits ending just before `i`.
fn digits_before(text: &str, i: usize) -> usize {
    text.as_bytes()[..i]
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count()
}

/// Length of the run of ASCII digits starting at `i`.
fn digits_from(text: &str, i: usize) -> usize {
    text.as_bytes().get(i..).map_or(0, |rest| {
        rest.iter().take_while(|b| b.is_ascii_digit()).count()
    })
}

/// Whether a number at `start..end` continues into more digits: a digit touching it, or a group
/// of at least `group` digits one separator (`seps`) away.
fn runs_on(text: &str, start: usize, end: usize, seps: &[u8], group: usize) -> bool {
    if is_digit(byte_before(text, start)) || is_digit(byte_at(text, end)) {
        return true;
    }
    let before = byte_before(text, start)
        .filter(|b| seps.contains(b))
        .is_some_and(|_| digits_before(text, start - 1) >= group);
    let after = byte_at(text, end)
        .filter(|b| seps.contains(b))
        .is_some_and(|_| digits_from(text, end + 1) >= group);
    before || after
}

/// Whether one of `words` (lower-case ASCII) occurs within `before` bytes before `start` or
/// `after` bytes after `end`.
fn keyword_near(
    text: &str,
    (start, end): (usize, usize),
    words: &[&str],
    before: usize,
    after: usize,
) -> bool {
    let mut from = start.saturating_sub(before);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    let mut to = (end + after).min(text.len());
    while !text.is_char_boundary(to) {
        to += 1;
    }
    let before = text[from..start].to_ascii_lowercase();
    let after = text[end..to].to_ascii_lowercase();
    words
        .iter()
        .any(|w| before.contains(w) || after.contains(w))
}

fn digit_values(s: &str) -> Vec<u8> {
    s.bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect()
}

// ---------------------------------------------------------------------------------------------
// finders and validators
// ---------------------------------------------------------------------------------------------

fn find_emails(text: &str, r: Range<usize>, p: &Patterns, out: &mut Vec<(usize, usize)>) {
    for m in p.email.find_iter(&text[r.clone()]) {
        let m = Shifted::new(m, r.start);
        let local_byte = |b: u8| b.is_ascii_alphanumeric() || b"._%+-".contains(&b);
        if byte_before(text, m.start()).is_some_and(local_byte) {
            continue;
        }
        if byte_at(text, m.end()).is_some_and(|b| b.is_ascii_alphanumeric() || b == b'-') {
            continue;
        }
        if email_ok(m.as_str()) {
            out.push((m.start(), m.end()));
        }
    }
}

/// Image suffixes of `icon@2x.png`-style asset names.
const ASSET_SUFFIXES: &[&str] = &["png", "jpg", "jpeg", "gif", "svg", "webp", "avif"];

fn email_ok(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    if s.len() > 254 || local.len() > 64 || domain.len() > 253 {
        return false;
    }
    if local.ends_with('.') || local.contains("..") {
        return false;
    }
    // `icon@2x.png` is a retina asset, not an address
    if let Some((first, tld)) = domain.split_once('.') {
        let scale =
            first.len() == 2 && first.as_bytes()[0].is_ascii_digit() && first.ends_with('x');
        if scale && ASSET_SUFFIXES.contains(&tld.to_ascii_lowercase().as_str()) {
            return false;
        }
    }
    true
}

fn find_phones(text: &str, r: Range<usize>, p: &Patterns, out: &mut Vec<(usize, usize)>) {
    for m in p.phone_intl.find_iter(&text[r.clone()]) {
        let m = Shifted::new(m, r.start);
        let prev = byte_before(text, m.start());
        if is_word(prev) || prev == Some(b'+') || prev == Some(b')') {
            continue;
        }
        // the pattern ends on a digit or `)`, so a trailing `.` or `-` is never taken in
        if runs_on(text, m.start(), m.end(), b".-", 1) || is_word(byte_at(text, m.end())) {
            continue;
        }
        if intl_phone_ok(m.as_str()) {
            out.push((m.start(), m.end()));
        }
    }
    for caps in p.phone_na.captures_iter(&text[r.clone()]) {
        let Some(m) = caps.get(0).map(|m| Shifted::new(m, r.start)) else {
            continue;
        };
        if let (Some(a), Some(b)) = (caps.get(1), caps.get(2)) {
            if a.as_str() != b.as_str() {
                continue;
            }
        }
        let prev = byte_before(text, m.start());
        if is_word(prev) || prev == Some(b'+') {
            continue;
        }
        if runs_on(text, m.start(), m.end(), b".-", 1) || is_word(byte_at(text, m.end())) {
            continue;
        }
        out.push((m.start(), m.end()));
    }
}

/// `+CC …` with 7 to 15 digits, which is neither a date, an IP address nor a bare count.
fn intl_phone_ok(s: &str) -> bool {
    let rest = &s[1..];
    let n = rest.bytes().filter(u8::is_ascii_digit).count();
    if !(7..=15).contains(&n) {
        return false;
    }
    if rest.parse::<Ipv4Addr>().is_ok() {
        return false;
    }
    // a date: +2024-03-04
    let groups: Vec<&str> = rest.split(['-', '.', ' ']).collect();
    let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    if lens.len() >= 3 && lens[..3] == [4, 2, 2] {
        return false;
    }
    // parentheses come in pairs
    rest.bytes().filter(|&b| b == b'(').count() == rest.bytes().filter(|&b| b == b')').count()
}

fn find_cards(text: &str, r: Range<usize>, p: &Patterns, out: &mut Vec<(usize, usize)>) {
    for m in p.card.find_iter(&text[r.clone()]) {
        let m = Shifted::new(m, r.start);
        let (start, mut end) = (m.start(), m.end());
        let grouped = m.as_str().contains([' ', '-']);
        let sep = if grouped { 4 } else { 1 };
        if runs_on(text, start, end, b" -", sep) {
            continue;
        }
        let mut ok = card_ok(&digit_values(&text[start..end]));
        // `4111 1111 1111 1111 123` may be a card followed by a short number
        if !ok && grouped {
            if let Some(cut) = text[start..end].rfind([' ', '-']) {
                let (s2, e2) = (start, start + cut);
                let groups = text[s2..e2].split([' ', '-']).count();
                if groups >= 4 && card_ok(&digit_values(&text[s2..e2])) {
                    ok = true;
                    end = e2;
                }
            }
        }
        if ok {
            out.push((start, end));
        }
    }
}

/// Issuer prefix, a length that issuer uses, and Luhn.
fn card_ok(d: &[u8]) -> bool {
    let n = d.len();
    if !(13..=19).contains(&n) {
        return false;
    }
    let prefix = |k: usize| d[..k].iter().fold(0u32, |acc, &x| acc * 10 + u32::from(x));
    let (p1, p2, p3, p4) = (prefix(1), prefix(2), prefix(3), prefix(4));
    let issuer = if p1 == 4 {
        // Visa
        matches!(n, 13 | 16 | 19)
    } else if (51..=55).contains(&p2) || (2221..=2720).contains(&p4) {
        // Mastercard
        n == 16
    } else if p2 == 34 || p2 == 37 {
        // American Express
        n == 15
    } else if p4 == 6011 || p2 == 65 || (644..=649).contains(&p3) {
        // Discover
        (16..=19).contains(&n)
    } else if (3528..=3589).contains(&p4) {
        // JCB
        (16..=19).contains(&n)
    } else if p2 == 36 || (300..=305).contains(&p3) {
        // Diners Club
        (14..=19).contains(&n)
    } else if p2 == 62 {
        // UnionPay
        (16..=19).contains(&n)
    } else {
        false
    };
    issuer && luhn(d)
}

fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = u32::from(x);
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 {
                    y - 9
                } else {
                    y
                }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn find_ibans(text: &str, r: Range<usize>, p: &Patterns, out: &mut Vec<(usize, usize)>) {
    for m in p.iban.find_iter(&text[r.clone()]) {
        let m = Shifted::new(m, r.start);
        if is_word(byte_before(text, m.start())) {
            continue;
        }
        let s = m.as_str();
        let Some(want) = iban_length(&s[..2]) else {
            continue;
        };
        // cut after `want` alphanumerics; the cut must fall at the end or before a space
        let mut seen = 0;
        let mut cut = None;
        for (i, b) in s.bytes().enumerate() {
            if b != b' ' {
                seen += 1;
                if seen == want {
                    cut = Some(i + 1);
                    break;
                }
            }
        }
        let Some(cut) = cut else { continue };
        let end = m.start() + cut;
        if is_word(byte_at(text, end)) {
            continue;
        }
        let compact: String = text[m.start()..end].chars().filter(|c| *c != ' ').collect();
        if iban_checksum_ok(&compact) {
            out.push((m.start(), end));
        }
    }
}

/// IBAN lengths per country (ISO 13616 registry).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SC", 31),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

fn iban_length(country: &str) -> Option<usize> {
    IBAN_LENGTHS
        .iter()
        .find(|(c, _)| *c == country)
        .map(|&(_, n)| n)
}

/// ISO 7064 mod 97-10 over the IBAN with its first four characters moved to the end.
fn iban_checksum_ok(iban: &str) -> bool {
    if iban.len() < 5 || !iban.is_ascii() {
        return false;
    }
    let (head, tail) = iban.split_at(4);
    let mut rem: u32 = 0;
    for c in tail.chars().chain(head.chars()) {
        let v = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'A'..='Z' => c as u32 - 'A' as u32 + 10,
            _ => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// Words that make a bare 9-digit number an SSN.
const SSN_WORDS: &[&str] = &["ssn", "social security", "ss#", "ss no", "ss-no"];

fn find_ssns(text: &str, r: Range<usize>, p: &Patterns, out: &mut Vec<(usize, usize)>) {
    for m in p.ssn.find_iter(&text[r.clone()]) {
        let m = Shifted::new(m, r.start);
        let s = m.as_str();
        if is_word(byte_before(text, m.start())) || is_word(byte_at(text, m.end())) {
            continue;
        }
        if runs_on(text, m.start(), m.end(), b"- ", 1) {
            continue;
        }
        let bare = !s.contains(['-', ' ']);
        if bare && !keyword_near(text, (m.start(), m.end()), SSN_WORDS, 40, 40) {
            continue;
        }
        if ssn_ok(&digit_values(s)) {
            out.push((m.start(), m.end()));
        }
    }
}

/// Area not 000, 666 or 900–999; group not 00; serial not 0000.
fn ssn_ok(d: &[u8]) -> bool {
    if d.len() != 9 {
        return false;
    }
    let num = |r: std::ops::Range<usize>| d[r].iter().fold(0u32, |a, &x| a * 10 + u32::from(x));
    let (area, group, serial) = (num(0..3), num(3..5), num(5..9));
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

fn find_ipv4(text: &str, r: Range<usize>, p: &Patterns, out: &mut Vec<(usize, usize)>) {
    for m in p.ipv4.find_iter(&text[r.clone()]) {
        let m = Shifted::new(m, r.start);
        let prev = byte_before(text, m.start());
        if is_word(prev) || prev == Some(b'.') {
            continue;
        }
        let next = byte_at(text, m.end());
        if is_word(next) {
            continue;
        }
        if next == Some(b'.') && is_digit(byte_at(text, m.end() + 1)) {
            continue;
        }
        if keyword_near(text, (m.start(), m.end()), &["version", "ver."], 10, 0) {
            continue;
        }
        if m.as_str().parse::<Ipv4Addr>().is_ok() {
            out.push((m.start(), m.end()));
        }
    }
}

fn find_ipv6(text: &str, r: Range<usize>, p: &Patterns, out: &mut Vec<(usize, usize)>) {
    for m in p.ipv6.find_iter(&text[r.clone()]) {
        let m = Shifted::new(m, r.start);
        let prev = byte_before(text, m.start());
        if is_word(prev) || prev == Some(b':') || prev == Some(b'.') {
            continue;
        }
        let mut end = m.end();
        let mut s = m.as_str();
        // `2001:db8::1:` at the end of a clause
        if s.parse::<Ipv6Addr>().is_err() && s.ends_with(':') && !s.ends_with("::") {
            s = &s[..s.len() - 1];
            end -= 1;
        }
        let next = byte_at(text, end);
        if is_word(next) || (next == Some(b':') && end == m.end()) {
            continue;
        }
        // `::`, `a::b` and `::1` are too short to be worth a redaction
        let hex = s.bytes().filter(u8::is_ascii_hexdigit).count();
        if hex >= 3 && s.parse::<Ipv6Addr>().is_ok() {
            out.push((m.start(), end));
        }
    }
}

/// The DNI/NIE control letters, indexed by the number mod 23.
const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

fn find_es_dni(text: &str, r: Range<usize>, p: &Patterns, out: &mut Vec<(usize, usize)>) {
    for m in p.es_dni.find_iter(&text[r.clone()]) {
        let m = Shifted::new(m, r.start);
        if is_word(byte_before(text, m.start())) || is_word(byte_at(text, m.end())) {
            continue;
        }
        if es_dni_ok(m.as_str()) {
            out.push((m.start(), m.end()));
        }
    }
}

fn es_dni_ok(s: &str) -> bool {
    let compact: Vec<u8> = s.bytes().filter(|b| *b != b' ' && *b != b'-').collect();
    let Some((&letter, body)) = compact.split_last() else {
        return false;
    };
    let mut n: u32 = 0;
    for (i, &b) in body.iter().enumerate() {
        let v = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'X' if i == 0 => 0,
            b'Y' if i == 0 => 1,
            b'Z' if i == 0 => 2,
            _ => return false,
        };
        n = n * 10 + v;
    }
    DNI_LETTERS[(n % 23) as usize] == letter
}

/// Words that make a bare 12-digit number an Aadhaar number.
const AADHAAR_WORDS: &[&str] = &["aadhaar", "aadhar", "uidai"];

fn find_aadhaar(text: &str, r: Range<usize>, p: &Patterns, out: &mut Vec<(usize, usize)>) {
    for m in p.aadhaar.find_iter(&text[r.clone()]) {
        let m = Shifted::new(m, r.start);
        if is_word(byte_before(text, m.start())) || is_word(byte_at(text, m.end())) {
            continue;
        }
        if runs_on(text, m.start(), m.end(), b" -", 1) {
            continue;
        }
        let bare = !m.as_str().contains([' ', '-']);
        if bare && !keyword_near(text, (m.start(), m.end()), AADHAAR_WORDS, 40, 40) {
            continue;
        }
        if verhoeff_ok(&digit_values(m.as_str())) {
            out.push((m.start(), m.end()));
        }
    }
}

const VERHOEFF_D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];

const VERHOEFF_P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/// Verhoeff check over `d` (check digit last).
fn verhoeff_ok(d: &[u8]) -> bool {
    let mut c = 0usize;
    for (i, &x) in d.iter().rev().enumerate() {
        let Some(&px) = VERHOEFF_P[i % 8].get(usize::from(x)) else {
            return false;
        };
        c = usize::from(VERHOEFF_D[c][usize::from(px)]);
    }
    !d.is_empty() && c == 0
}

fn find_fr_nir(text: &str, r: Range<usize>, p: &Patterns, out: &mut Vec<(usize, usize)>) {
    for m in p.fr_nir.find_iter(&text[r.clone()]) {
        let m = Shifted::new(m, r.start);
        if is_word(byte_before(text, m.start())) || is_word(byte_at(text, m.end())) {
            continue;
        }
        if runs_on(text, m.start(), m.end(), b" ", 1) {
            continue;
        }
        if fr_nir_ok(m.as_str()) {
            out.push((m.start(), m.end()));
        }
    }
}

/// The key is 97 minus the first 13 characters mod 97, Corsica's `2A`/`2B` read as 19/18 with
/// 1 000 000 / 2 000 000 taken off.
fn fr_nir_ok(s: &str) -> bool {
    let compact: String = s.chars().filter(|c| *c != ' ').collect();
    if compact.len() != 15 || !compact.is_ascii() {
        return false;
    }
    let (body, key) = compact.split_at(13);
    let (digits, minus) = match &body[5..7] {
        "2A" => (format!("{}19{}", &body[..5], &body[7..]), 1_000_000),
        "2B" => (format!("{}18{}", &body[..5], &body[7..]), 2_000_000),
        _ => (body.to_string(), 0),
    };
    let (Ok(n), Ok(key)) = (digits.parse::<u64>(), key.parse::<u64>()) else {
        return false;
    };
    let n = n - minus;
    (1..=97).contains(&key) && 97 - n % 97 == key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(&str, &str)> {
        Pii::all()
            .scan(text)
            .into_iter()
            .map(|s| {
                (
                    &text[s.start..s.end],
                    PiiKind::from_id(&s.id).map_or("?", |k| k.id()),
                )
            })
            .collect()
    }

    /// Asserts that `text` holds exactly one finding, of `kind`, covering `what`.
    fn one(text: &str, kind: PiiKind, what: &str) {
        let f = found(text);
        assert_eq!(f, vec![(what, kind.id())], "in {text:?}");
    }

    fn none(text: &str) {
        let f = found(text);
        assert!(f.is_empty(), "{text:?} gave {f:?}");
    }

    fn no_kind(text: &str, kind: PiiKind) {
        let f = found(text);
        assert!(
            f.iter().all(|(_, k)| *k != kind.id()),
            "{text:?} gave {f:?}"
        );
    }

    /// The Luhn check digit for `body`.
    fn luhn_digit(body: &str) -> u8 {
        (0..10u8)
            .find(|c| luhn(&digit_values(&format!("{body}{c}"))))
            .unwrap()
    }

    /// An IBAN for `country` and `bban` with the right check digits.
    fn make_iban(country: &str, bban: &str) -> String {
        (0..100)
            .map(|c| format!("{country}{c:02}{bban}"))
            .find(|i| iban_checksum_ok(i))
            .unwrap()
    }

    /// A 12-digit Aadhaar-shaped number with a valid Verhoeff digit.
    fn aadhaar(body11: &str) -> String {
        (0..10)
            .map(|c| format!("{body11}{c}"))
            .find(|s| verhoeff_ok(&digit_values(s)))
            .unwrap()
    }

    fn nir(body13: &str) -> String {
        (1..=97)
            .map(|k| format!("{body13}{k:02}"))
            .find(|s| fr_nir_ok(s))
            .unwrap()
    }

    #[test]
    fn patterns_compile_and_ids_round_trip() {
        let _ = patterns();
        assert_eq!(PiiKind::all().len(), KINDS);
        for (i, k) in PiiKind::all().iter().enumerate() {
            assert_eq!(k.index(), i);
            assert_eq!(PiiKind::from_id(k.id()), Some(*k));
        }
        assert_eq!(PiiKind::from_id("nope"), None);
        let only = Pii::new(&[PiiKind::Email]);
        assert!(only.reports(PiiKind::Email) && !only.reports(PiiKind::Phone));
        assert_eq!(
            only.scan("mail a.b@example.org, call +44 20 7946 0958")
                .len(),
            1
        );
    }

    #[test]
    fn email() {
        one(
            "write to jane.doe+tag@mail.example.co.uk today",
            PiiKind::Email,
            "jane.doe+tag@mail.example.co.uk",
        );
        one("<a@b.io>.", PiiKind::Email, "a@b.io");
        none("icon@2x.png and logo@3x.webp");
        none("an @ sign, user@localhost, a@b.c, x..y@z.com is bad");
        none("npm i @scope/pkg@1.2.3");
    }

    #[test]
    fn phone() {
        one("call +44 20 7946 0958.", PiiKind::Phone, "+44 20 7946 0958");
        one(
            "tel: +1 (555) 123-4567",
            PiiKind::Phone,
            "+1 (555) 123-4567",
        );
        one(
            "tel +33.1.23.45.67.89 ok",
            PiiKind::Phone,
            "+33.1.23.45.67.89",
        );
        one("call (555) 123-4567 now", PiiKind::Phone, "(555) 123-4567");
        one("call 555-123-4567 now", PiiKind::Phone, "555-123-4567");
        one("call 555.123.4567", PiiKind::Phone, "555.123.4567");
        one("call 1-800-555-1234!", PiiKind::Phone, "1-800-555-1234");
        one("call 1 (800) 555-1234", PiiKind::Phone, "1 (800) 555-1234");
        none("on 2024-03-04 at 10:30, version 1.2.3.4.5");
        none("+2024-03-04 and 555-123.4567 and 055-123-4567");
        none("ids 12345678901234567890 and 1234567890");
        none("x+1 234 5678 and 3 + 4 = 7, +12 points");
        none("total 5551234567 items");
        no_kind("host 192.168.100.200 up, v 10.20.30.40", PiiKind::Phone);
    }

    #[test]
    fn payment_card() {
        one(
            "card 4111 1111 1111 1111 exp 12/29",
            PiiKind::PaymentCard,
            "4111 1111 1111 1111",
        );
        one(
            "card 4111-1111-1111-1111.",
            PiiKind::PaymentCard,
            "4111-1111-1111-1111",
        );
        one(
            "pan=4111111111111111;",
            PiiKind::PaymentCard,
            "4111111111111111",
        );
        one(
            "mc 5500 0000 0000 0004",
            PiiKind::PaymentCard,
            "5500 0000 0000 0004",
        );
        let mc2 = format!("222100000000000{}", luhn_digit("222100000000000"));
        one(&format!("mc {mc2}"), PiiKind::PaymentCard, &mc2);
        one(
            "amex 3782 822463 10005",
            PiiKind::PaymentCard,
            "3782 822463 10005",
        );
        one(
            "discover 6011111111111117",
            PiiKind::PaymentCard,
            "6011111111111117",
        );
        let jcb = format!("353011133330000{}", luhn_digit("353011133330000"));
        one(&format!("jcb {jcb}"), PiiKind::PaymentCard, &jcb);
        let diners = format!("3056930902590{}", luhn_digit("3056930902590"));
        one(&format!("diners {diners}"), PiiKind::PaymentCard, &diners);
        let up = format!("621234567890123{}", luhn_digit("621234567890123"));
        one(&format!("unionpay {up}"), PiiKind::PaymentCard, &up);
        one(
            "4111 1111 1111 1111 123",
            PiiKind::PaymentCard,
            "4111 1111 1111 1111",
        );
        // an order number that fails Luhn
        none("order 1234567890123456 shipped");
        // Luhn-valid without an issuer prefix
        let no_issuer = format!("100000000000000{}", luhn_digit("100000000000000"));
        none(&format!("ref {no_issuer}"));
        // a valid card inside a longer digit run
        none("run 94111111111111111 and 41111111111111110000");
        none("groups 1234 4111 1111 1111 1111");
        // a Visa prefix with an issuer-invalid length (14)
        let visa14 = format!("4111111111111{}", luhn_digit("4111111111111"));
        none(&format!("x {visa14}"));
    }

    #[test]
    fn iban() {
        one(
            "pay DE89 3704 0044 0532 0130 00 now",
            PiiKind::Iban,
            "DE89 3704 0044 0532 0130 00",
        );
        one(
            "IBAN: GB82WEST12345698765432.",
            PiiKind::Iban,
            "GB82WEST12345698765432",
        );
        let fr = make_iban("FR", "20041010050500013M02606");
        one(&format!("iban {fr}"), PiiKind::Iban, &fr);
        one("NO93 8601 1117 947", PiiKind::Iban, "NO93 8601 1117 947");
        // wrong check digits
        none("pay DE88 3704 0044 0532 0130 00 now");
        // right checksum, wrong length for the country
        let short = make_iban("DE", "3704004405320130");
        none(&format!("iban {short}"));
        // unknown country
        none("XX89370400440532013000");
        none("PART NUMBER AB12CDEF34567890XYZ");
    }

    #[test]
    fn us_ssn() {
        one("ssn 123-45-6789", PiiKind::UsSsn, "123-45-6789");
        one("id 123 45 6789.", PiiKind::UsSsn, "123 45 6789");
        one("SSN: 123456789", PiiKind::UsSsn, "123456789");
        one(
            "social security number is 078051121",
            PiiKind::UsSsn,
            "078051121",
        );
        none("ssn 000-12-3456");
        none("ssn 666-12-3456 and 912-34-5678 and 123-00-4567 and 123-45-0000");
        none("order 123456789 shipped");
        none("range 1-123-45-6789-0");
    }

    #[test]
    fn ip_addresses() {
        one("from 192.168.1.20 port 22", PiiKind::Ipv4, "192.168.1.20");
        one("cidr 10.0.0.0/8", PiiKind::Ipv4, "10.0.0.0");
        none("version 1.2.3.4.5 and 1.2.3.4.5.6");
        none("release v1.2.3.4 and 256.1.1.1 and 01.02.03.04");
        none("version 1.2.3.4");
        one("10.1.2.3 version 2", PiiKind::Ipv4, "10.1.2.3");
        one(
            "host 2001:db8::8a2e:370:7334 up",
            PiiKind::Ipv6,
            "2001:db8::8a2e:370:7334",
        );
        one(
            "at fe80::1ff:fe23:4567:890a%eth0",
            PiiKind::Ipv6,
            "fe80::1ff:fe23:4567:890a",
        );
        one(
            "mapped ::ffff:192.0.2.1 ok",
            PiiKind::Ipv6,
            "::ffff:192.0.2.1",
        );
        one("addr 2001:db8::1: gone", PiiKind::Ipv6, "2001:db8::1");
        none("at 12:30:45, std::io::Error, a::b, mac 00:1A:2B:3C:4D:5E, ::1");
    }

    #[test]
    fn es_dni() {
        one("DNI 12345678Z", PiiKind::EsDni, "12345678Z");
        one("NIE X1234567L.", PiiKind::EsDni, "X1234567L");
        one("dni 12345678-Z", PiiKind::EsDni, "12345678-Z");
        none("DNI 12345678A and X1234567A and 12345678z");
        none("SKU12345678Z, 12345678 Z, X 1234567 L");
    }

    #[test]
    fn in_aadhaar() {
        assert!(verhoeff_ok(&[2, 3, 6, 3]));
        assert!(!verhoeff_ok(&[2, 3, 6, 4]));
        let a = aadhaar("23456789012");
        let spaced = format!("{} {} {}", &a[..4], &a[4..8], &a[8..]);
        one(&format!("aadhaar {spaced}"), PiiKind::InAadhaar, &spaced);
        one(&format!("my Aadhaar number: {a}"), PiiKind::InAadhaar, &a);
        none(&format!("invoice {a}"));
        none(&format!("uuid {a}, fluid {a}"));
        let last = a.as_bytes()[11] - b'0';
        let bad = format!("{}{}", &a[..11], (last + 1) % 10);
        none(&format!(
            "aadhaar {} {} {}",
            &bad[..4],
            &bad[4..8],
            &bad[8..]
        ));
        // first digit 0 or 1 is never issued
        let low = aadhaar("12345678901");
        none(&format!(
            "aadhaar {} {} {}",
            &low[..4],
            &low[4..8],
            &low[8..]
        ));
    }

    #[test]
    fn fr_nir() {
        let n = nir("1850578006084");
        one(&format!("NIR {n}"), PiiKind::FrNir, &n);
        let spaced = format!(
            "{} {} {} {} {} {} {}",
            &n[..1],
            &n[1..3],
            &n[3..5],
            &n[5..7],
            &n[7..10],
            &n[10..13],
            &n[13..]
        );
        one(&format!("sécu : {spaced}."), PiiKind::FrNir, &spaced);
        let corse = nir("285072A006084");
        one(&format!("NIR {corse}"), PiiKind::FrNir, &corse);
        let key: u64 = n[13..].parse().unwrap();
        let bad = format!("{}{:02}", &n[..13], key % 97 + 1);
        none(&format!("NIR {bad}"));
        none("NIR 385057800608436");
    }

    #[test]
    fn overlaps_resolve_to_the_strongest_kind() {
        // the card's digits also look like an Aadhaar group and a phone
        let f = found("card 4111 1111 1111 1111 and ip ::ffff:10.1.2.3");
        assert_eq!(
            f,
            vec![
                ("4111 1111 1111 1111", "payment-card"),
                ("::ffff:10.1.2.3", "ipv6")
            ]
        );
        let spans = Pii::all().scan("a@b.io 10.0.0.1 +44 20 7946 0958");
        assert!(spans.windows(2).all(|w| w[0].end <= w[1].start));
    }

    #[test]
    fn regions_find_what_the_whole_text_finds() {
        let pieces = [
            "4111 1111 1111 1111",
            "+44 20 7946 0958",
            "(555) 123-4567",
            "555.123.4567",
            "DE89 3704 0044 0532 0130 00",
            "GB82WEST12345698765432",
            "123-45-6789",
            "SSN",
            "192.168.1.20",
            "2001:db8::8a2e:370:7334",
            "fe80::abcd",
            "12345678Z",
            "X1234567L",
            "a.b@example.org",
            "1.2.3.4.5",
            "2024-03-04",
            "order 1234567890123456",
            "10:30",
            "aadhaar",
            "ééé",
            "the quick brown fox jumps over the lazy dog",
            "\n",
            "  ",
            "-",
            "123456789",
            "version",
            "99",
            "7",
            "x",
        ];
        let p = Pii::all();
        let mut x: u64 = 0x1234_5678_9abc_def1;
        for _ in 0..300 {
            let mut text = String::new();
            for _ in 0..(x % 40) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                text.push_str(pieces[(x % pieces.len() as u64) as usize]);
                if x.is_multiple_of(3) {
                    text.push(' ');
                }
                if x.is_multiple_of(7) {
                    text.push_str(&"filler words ".repeat((x % 9) as usize));
                }
            }
            let all = Region {
                range: 0..text.len(),
                densest: usize::MAX,
            };
            let whole = p.scan_regions(&text, &[all]);
            assert_eq!(p.scan(&text), whole, "in {text:?}");
        }
    }

    #[test]
    fn scan_of_100kb_prose() {
        let words = [
            "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "model", "prompt",
            "order", "page", "at", "email", "me", "about", "it", "call", "(see", "below)", "in",
        ];
        let mut x: u64 = 99;
        let mut text = String::new();
        let mut n = 0;
        while text.len() < 100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            n += 1;
            if n % 80 == 0 {
                // a year, a time or a version every 80 words
                text.push_str(["2024", "10:30", "v1.2.3", "3.5"][(x % 4) as usize]);
            } else {
                text.push_str(words[(x % words.len() as u64) as usize]);
            }
            text.push(if x.is_multiple_of(12) { '.' } else { ' ' });
        }
        let p = Pii::all();
        assert!(p.scan(&text).is_empty());
        let t = std::time::Instant::now();
        let runs = 20;
        for _ in 0..runs {
            std::hint::black_box(p.scan(std::hint::black_box(&text)));
        }
        let covered: usize = regions(&text).iter().map(|r| r.range.len()).sum();
        println!(
            "pii: {} bytes of prose in {:?} ({covered} bytes in candidate regions)",
            text.len(),
            t.elapsed() / runs
        );
    }

    #[test]
    fn hostile_input_never_panics() {
        let p = Pii::all();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut bytes = Vec::new();
        for i in 0..300_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            bytes.push((x & 0xff) as u8);
            if i % 101 == 0 {
                bytes.extend_from_slice(b" 4111 1111 1111 1111 +1 (555) 123-4567 a@b.io ::1 ");
            }
        }
        p.scan(&String::from_utf8_lossy(&bytes));
        p.scan(&"9".repeat(1_000_000));
        p.scan(&"4111 ".repeat(100_000));
        p.scan(&"1.".repeat(200_000));
        p.scan(&":".repeat(200_000));
        p.scan(&"ab:".repeat(100_000));
        p.scan(&"a@".repeat(100_000));
        p.scan(&"+1 ".repeat(100_000));
        p.scan(&"DE89 ".repeat(100_000));
        p.scan(&"ssn ".repeat(100_000));
        p.scan(&"é1".repeat(100_000));
        p.scan("");
        // multi-byte text right before and after candidates
        p.scan("ééé123-45-6789ééé aadhaar€2345 6789 0123€ uid");
        assert!(Pii::new(&[]).scan("a@b.io").is_empty());
    }
}
