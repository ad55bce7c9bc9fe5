//! The one event model of tripline, and the alert that detectors raise.
//!
//! Every sensor — log files, journald, Cowrie honeypots, and the sensors later issues add —
//! emits the same [`Event`]: when it happened (source time) and when we saw it, which sensor and
//! host, the entity keys (source IP, user, session), a typed [`Kind`] and a bounded copy of the
//! raw input. A new kind of sensor adds a family of kinds ([`kind`]); it never forks the
//! pipeline.
//!
//! Design choices: the hot fields are plain values (`IpAddr`, `Timestamp`) so detectors never
//! re-parse text; strings that are shared across many events (host, raw line) are reference
//! counted so an event can be fanned out to several detector shards without copying. The raw
//! line is a [`Line`]: a file sensor's lines share the one buffer their read filled, so a scan
//! does not allocate per line; whatever keeps a line past its batch (evidence) makes it its own.
#![forbid(unsafe_code)]

pub mod catalog;
pub mod json;
pub mod key;
pub mod kind;
pub mod net;
pub mod time;

use serde::ser::SerializeMap;
use serde::Serialize;
use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

pub use key::{Entity, Key, KeyRef, KeyType};
pub use kind::{
    AccountKind, Action, AuthKind, Family, HoneypotKind, Kind, PrivilegeKind, SessionKind,
    VerdictKind,
};
pub use time::Timestamp;

/// A short string stored inline when it fits (24 bytes: user names, process ids, session ids),
/// so most events carry their keys without a heap allocation.
pub type Text = compact_str::CompactString;

/// Longest raw line kept on an event (bytes). Longer input is truncated and counted by the
/// sensor that read it.
pub const MAX_RAW_BYTES: usize = 64 * 1024;

/// The raw text of one event: a part of a shared buffer (the read a file sensor's lines came
/// from: one allocation for a few thousand lines instead of one per line) or a buffer of its own.
///
/// Cloning is a reference count. A part keeps its whole buffer alive, so whatever keeps a line
/// longer than the batch it came in (an alert's evidence) stores [`Line::own`] or calls
/// [`Line::compact`]: holding parts of many reads would pin every one of them.
#[derive(Clone)]
pub struct Line {
    buf: Arc<str>,
    start: u32,
    end: u32,
}

impl Line {
    /// `part` as a part of `buf` when it lies inside it (by address: a slice of `buf`), without
    /// copying; None otherwise.
    pub fn part_of(buf: &Arc<str>, part: &str) -> Option<Line> {
        let base = buf.as_ptr() as usize;
        let at = (part.as_ptr() as usize).checked_sub(base)?;
        let end = at.checked_add(part.len())?;
        // a &str inside a str starts and ends on character boundaries
        if end > buf.len() || end > u32::MAX as usize {
            return None;
        }
        Some(Line {
            buf: buf.clone(),
            start: at as u32,
            end: end as u32,
        })
    }

    /// `part` as a part of `shared` when there is one and `part` lies inside it, else a copy
    /// of its own: how a sensor keeps the raw text of a line it may have been handed in a
    /// read's buffer.
    pub fn in_or_copy(shared: Option<&Arc<str>>, part: &str) -> Line {
        shared
            .and_then(|buf| Line::part_of(buf, part))
            .unwrap_or_else(|| Line::from(part))
    }

    /// The text inside `buf` that `part` is (by address), without checking it again: for a
    /// reader that split `buf` into byte slices. None when `part` is not inside `buf` or does
    /// not start and end on character boundaries.
    pub fn str_in<'a>(buf: &'a Arc<str>, part: &[u8]) -> Option<&'a str> {
        let at = (part.as_ptr() as usize).checked_sub(buf.as_ptr() as usize)?;
        buf.get(at..at.checked_add(part.len())?)
    }

    /// True when this is a part of a larger buffer (keeping it keeps the whole buffer).
    pub fn is_shared(&self) -> bool {
        self.start != 0 || self.end as usize != self.buf.len()
    }

    /// The text in a buffer of exactly its size: the buffer itself when it is one already, a
    /// copy when this is a part.
    pub fn own(&self) -> Arc<str> {
        if self.is_shared() {
            Arc::from(self.as_str())
        } else {
            self.buf.clone()
        }
    }

    /// Make this line its own buffer (a copy) when it is a part of a larger one.
    pub fn compact(&mut self) {
        if self.is_shared() {
            *self = Line::from(self.own());
        }
    }

    pub fn as_str(&self) -> &str {
        // the bounds were checked where the line was made and the buffer never changes
        self.buf
            .get(self.start as usize..self.end as usize)
            .unwrap_or_default()
    }
}

impl std::ops::Deref for Line {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<Arc<str>> for Line {
    fn from(buf: Arc<str>) -> Line {
        // a longer buffer than u32 can index is cut (raw lines are capped far below that)
        let end = if buf.len() <= u32::MAX as usize {
            buf.len() as u32
        } else {
            0
        };
        Line { buf, start: 0, end }
    }
}

impl From<&str> for Line {
    fn from(s: &str) -> Line {
        Line::from(Arc::<str>::from(s))
    }
}

impl From<String> for Line {
    fn from(s: String) -> Line {
        Line::from(Arc::<str>::from(s))
    }
}

impl std::fmt::Debug for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for Line {
    fn eq(&self, other: &Line) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Line {}

/// Which sensor produced an event: the name of its source type (`files`, `journald`, `cowrie`,
/// `jsonl`). Open: a new source type names itself with [`SensorKind::new`], nothing here changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SensorKind(&'static str);

#[allow(non_upper_case_globals)]
impl SensorKind {
    /// Syslog-style text files (auth.log, secure, syslog, messages).
    pub const Files: SensorKind = SensorKind("files");
    /// The systemd journal.
    pub const Journald: SensorKind = SensorKind("journald");
    /// Cowrie honeypot JSON logs.
    pub const Cowrie: SensorKind = SensorKind("cowrie");

    /// The sensor called `name` (a source type's name).
    pub const fn new(name: &'static str) -> SensorKind {
        SensorKind(name)
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl Serialize for SensorKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

/// Where in its source an event came from: the source's id in the offset store and the byte
/// offset just past the line (or the journal cursor's sequence). The pipeline commits this
/// position in the same transaction as everything derived from the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SourcePos {
    pub source: u32,
    pub offset: u64,
}

/// Where a source stands: its id (`file:/var/log/auth.log`, `journald`) and a value only that
/// source reads (a file's device, inode, offset and head hash; the journal's cursor). A source
/// hands one over with the batch it covers, and the store commits it in the same transaction
/// as everything derived from that batch, so a restart resumes exactly after what is stored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Checkpoint {
    pub source: String,
    pub value: String,
}

/// A piece of a detector's state kept across restarts, as the store keeps it: its owner (a
/// rule's id or a detector's name), a key and a value only the owner reads, and when. The store
/// commits records in the same transaction as the alerts and checkpoints of their batch, and
/// hands them back to their owner at the next start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateRecord {
    pub owner: Text,
    pub key: String,
    pub value: String,
    pub ts: Timestamp,
    /// Which record stays when one with the same owner and key is stored already.
    pub keep: Keep,
}

/// Of two state records with the same owner and key, which one the store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// The one stored first (a first sighting).
    First,
    /// The latest one (a value that moves).
    Latest,
}

/// How an SSH client tried to authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMethod {
    Password,
    Publickey,
    KeyboardInteractive,
    Hostbased,
    None,
    Pam,
    Other,
}

impl AuthMethod {
    pub fn parse(s: &str) -> AuthMethod {
        match s {
            "password" => AuthMethod::Password,
            "publickey" => AuthMethod::Publickey,
            "hostbased" => AuthMethod::Hostbased,
            "none" => AuthMethod::None,
            s if s.starts_with("keyboard-interactive") => AuthMethod::KeyboardInteractive,
            _ => AuthMethod::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Password => "password",
            AuthMethod::Publickey => "publickey",
            AuthMethod::KeyboardInteractive => "keyboard-interactive",
            AuthMethod::Hostbased => "hostbased",
            AuthMethod::None => "none",
            AuthMethod::Pam => "pam",
            AuthMethod::Other => "other",
        }
    }
}

/// One normalized observation from any sensor.
#[derive(Debug, Clone)]
pub struct Event {
    /// When it happened, from the data itself (event time).
    pub ts: Timestamp,
    /// When tripline read it.
    pub observed: Timestamp,
    pub sensor: SensorKind,
    /// The host that logged it (syslog hostname, journal `_HOSTNAME`, Cowrie sensor name).
    pub host: Arc<str>,
    /// The remote address the event is about, when there is one.
    pub src_ip: Option<IpAddr>,
    /// The remote source when the log names it by host name instead of address (sshd with
    /// `UseDNS yes`); detectors key on addresses only, so such events are reported, not counted.
    pub src_name: Option<Text>,
    /// The account the event is about (the user tried, logged in, or acting).
    pub user: Option<Text>,
    /// A session key: the daemon's process id for syslog sources, the Cowrie session id.
    pub session: Option<Text>,
    /// Any other entity keys it is about (an API key's fingerprint, a file, a device): see
    /// [`Event::key`] for reading any key by type. Empty for most events (no allocation).
    pub keys: Vec<Key>,
    pub kind: Kind,
    /// How many occurrences this one line stands for (`message repeated 3 times`, `PAM 2 more
    /// authentication failures`, sudo's `3 incorrect password attempts`).
    pub count: u32,
    /// True when the line is evidence against its source, as a fail2ban filter match is.
    pub hostile: bool,
    /// The input line, truncated to [`MAX_RAW_BYTES`].
    pub raw: Line,
    pub pos: SourcePos,
}

impl Event {
    /// An event of `kind` at `ts` (read then too) from `sensor` on `host` with its raw text,
    /// about nothing yet: no address, user, session or other key, one occurrence, no evidence
    /// against anyone. Set what it has with struct update syntax (`Event { src_ip, ..base }`).
    pub fn new(ts: Timestamp, sensor: SensorKind, host: Arc<str>, kind: Kind, raw: Line) -> Event {
        Event {
            ts,
            observed: ts,
            sensor,
            host,
            src_ip: None,
            src_name: None,
            user: None,
            session: None,
            keys: vec![],
            kind,
            count: 1,
            hostile: false,
            raw,
            pos: SourcePos::default(),
        }
    }
}

/// How bad an alert is. Ordered: comparisons follow severity, never string order.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
    }

    /// Numeric rank, 0 (info) to 4 (critical); what the store indexes.
    pub fn rank(self) -> u8 {
        self as u8
    }

    pub fn from_rank(rank: u8) -> Option<Severity> {
        Severity::ALL.get(rank as usize).copied()
    }
}

/// Most evidence lines one alert keeps: the first half of the attack and the latest lines.
pub const MAX_EVIDENCE: usize = 10;

/// One alert: a (rule, entity) pair that grows while the attack lasts.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Stable id, 16 hex digits: the second the alert opened (8 digits, so ids sort by time)
    /// and a hash of rule, entity and that instant (8 digits), so replaying the same input after
    /// a crash updates the same alert instead of creating a duplicate. The store moves an alert
    /// whose id is taken by a different one to the next free id (see `Store::commit`). Held
    /// inline (no allocation).
    pub id: Text,
    /// The rule's id ([`catalog::RuleInfo::id`]), held without allocating.
    pub rule: Text,
    pub severity: Severity,
    /// 0–1: how sure and how bad.
    pub score: f32,
    pub entity: Entity,
    pub src_ip: Option<IpAddr>,
    /// Held inline when short (most user names).
    pub user: Option<Text>,
    /// Shared with the events of that host.
    pub host: Arc<str>,
    /// The sensor of the event that opened it ([`SensorKind::as_str`]), held without allocating.
    pub sensor: Text,
    /// MITRE ATT&CK technique ids ([`catalog::TECHNIQUES`]): the rule's own list, or a list of
    /// the alert's own (an anomaly alert's, a stored alert's).
    pub techniques: Techniques,
    /// Events that moved this alert.
    pub count: u64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// Why it fired, in words.
    pub explanation: String,
    /// Sample input lines: the first ones, then the latest (each the detector's own copy,
    /// shared, not copied again, by every output that carries the alert).
    pub evidence: Vec<Arc<str>>,
    /// What the detector knows beyond the common fields, under a key of its own.
    pub detail: Option<Box<Detail>>,
}

/// An alert's ATT&CK technique ids: a rule's static list, or a list of the alert's own.
pub type Techniques = std::borrow::Cow<'static, [&'static str]>;

/// What a detector knows about an alert beyond the common fields, in fields a SIEM can read,
/// shown in the alert's JSON under the detector's own `key` (`anomaly`: the forest's raw
/// score, the window's percentile in the baseline, its risk band and the features that stood
/// out). The explanation says the same in words.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    /// The field the detail is shown under; never one of the alert's own fields.
    pub key: Text,
    pub value: serde_json::Value,
}

impl Detail {
    /// The detail as the store keeps it: a JSON object of the one key.
    pub fn to_json(&self) -> String {
        let mut m = serde_json::Map::new();
        m.insert(self.key.to_string(), self.value.clone());
        serde_json::Value::Object(m).to_string()
    }
}

/// An alert view's detail: the value, or the JSON object (`{key: value}`) a store row keeps.
#[derive(Debug, Clone, Copy)]
pub enum DetailRef<'a> {
    Value(&'a Detail),
    Json(&'a str),
}

/// A detail's key and value, borrowed or read from stored JSON.
pub type DetailPair<'a> = (Cow<'a, str>, Cow<'a, serde_json::Value>);

impl<'a> DetailRef<'a> {
    /// The key and value; `None` when stored JSON is not an object of one key (a hand-edited
    /// database): the alert then shows no detail rather than failing.
    pub fn read(&self) -> Option<DetailPair<'a>> {
        match *self {
            DetailRef::Value(d) => Some((Cow::Borrowed(d.key.as_str()), Cow::Borrowed(&d.value))),
            DetailRef::Json(j) => {
                let serde_json::Value::Object(m) = serde_json::from_str(j).ok()? else {
                    return None;
                };
                let mut it = m.into_iter();
                let (k, v) = it.next()?;
                it.next()
                    .is_none()
                    .then_some((Cow::Owned(k), Cow::Owned(v)))
            }
        }
    }
}

impl Alert {
    /// The stable id of the alert for `rule` on `entity` opened at `first_seen`: its second,
    /// then 32 bits of a hash of all three. Ids made in one second share their first half, so the
    /// store's id index grows at its end instead of being rewritten all over on every commit;
    /// two alerts of one second whose hashes meet are told apart by the store.
    pub fn make_id(rule: &str, entity: &Entity, first_seen: Timestamp) -> Text {
        // FNV-1a, 64 bit: deterministic across runs and builds (std's hasher is not).
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut feed = |bytes: &[u8]| {
            for b in bytes {
                h ^= *b as u64;
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
            h ^= 0xff;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        };
        feed(rule.as_bytes());
        feed(entity.type_name().as_bytes());
        match entity {
            Entity::Ip(ip) => feed(net::IpText::new(*ip).as_bytes()),
            e => feed(e.text().unwrap_or_default().as_bytes()),
        }
        feed(&first_seen.0.to_le_bytes());
        let second = first_seen.0.div_euclid(1_000_000).clamp(0, u32::MAX as i64) as u64;
        let h = second << 32 | (h ^ h >> 32) & 0xffff_ffff;
        // sixteen hex digits, without the formatting machinery (one id per alert opened)
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut digits = [0u8; 16];
        for (i, d) in digits.iter_mut().enumerate() {
            *d = HEX[(h >> (60 - 4 * i)) as usize & 15];
        }
        // ASCII digits: always text
        Text::from(std::str::from_utf8(&digits).unwrap_or_default())
    }

    /// Add an evidence line, keeping the first `MAX_EVIDENCE / 2` and the latest ones.
    pub fn push_evidence(&mut self, line: &str) {
        let line: Arc<str> = truncate_str(line, 1024).into();
        if self.evidence.len() < MAX_EVIDENCE {
            self.evidence.push(line);
        } else {
            self.evidence.remove(MAX_EVIDENCE / 2);
            self.evidence.push(line);
        }
    }
}

/// An alert borrowed for output: built from an [`Alert`] ([`Alert::view`]) or straight from a
/// stored row, so printing or serving many alerts allocates nothing per field. Its JSON is the
/// one alert shape of `once --json`, the `stdout_json` responder and the API: the fields in this
/// order, `state_by` and `state_at` once set, and a detail last, under its own key.
#[derive(Debug, Clone, Copy)]
pub struct AlertView<'a> {
    pub id: &'a str,
    pub rule: &'a str,
    pub severity: Severity,
    pub score: f32,
    pub entity: EntityView<'a>,
    pub src_ip: Option<Addr<'a>>,
    pub user: Option<&'a str>,
    pub host: &'a str,
    pub sensor: &'a str,
    pub techniques: TechniqueList<'a>,
    pub count: u64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub explanation: &'a str,
    pub evidence: Lines<'a>,
    pub state: &'a str,
    /// Who set the workflow state, and when; absent until a person did.
    pub state_by: Option<&'a str>,
    pub state_at: Option<Timestamp>,
    /// The detector's own fields ([`Detail`]).
    pub detail: Option<DetailRef<'a>>,
}

impl Serialize for AlertView<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", self.id)?;
        m.serialize_entry("rule", self.rule)?;
        m.serialize_entry("severity", &self.severity)?;
        m.serialize_entry("score", &self.score)?;
        m.serialize_entry("entity", &self.entity)?;
        m.serialize_entry("src_ip", &self.src_ip)?;
        m.serialize_entry("user", &self.user)?;
        m.serialize_entry("host", self.host)?;
        m.serialize_entry("sensor", self.sensor)?;
        m.serialize_entry("techniques", &self.techniques)?;
        m.serialize_entry("count", &self.count)?;
        m.serialize_entry("first_seen", &self.first_seen)?;
        m.serialize_entry("last_seen", &self.last_seen)?;
        m.serialize_entry("explanation", self.explanation)?;
        m.serialize_entry("evidence", &self.evidence)?;
        m.serialize_entry("state", self.state)?;
        if let Some(by) = self.state_by {
            m.serialize_entry("state_by", by)?;
        }
        if let Some(at) = &self.state_at {
            m.serialize_entry("state_at", at)?;
        }
        if let Some((k, v)) = self.detail.as_ref().and_then(DetailRef::read) {
            m.serialize_entry(&*k, &*v)?;
        }
        m.end()
    }
}

/// Technique ids: a list, or the ids joined by commas (how the store keeps them). Serialized
/// as a JSON array either way.
#[derive(Debug, Clone, Copy)]
pub enum TechniqueList<'a> {
    List(&'a [&'static str]),
    Joined(&'a str),
}

impl<'a> TechniqueList<'a> {
    pub fn iter(self) -> impl Iterator<Item = &'a str> {
        let (list, joined) = match self {
            TechniqueList::List(l) => (l, None),
            TechniqueList::Joined(s) => (&[][..], Some(s).filter(|s| !s.is_empty())),
        };
        list.iter()
            .copied()
            .chain(joined.into_iter().flat_map(|s| s.split(',')))
    }
}

impl Serialize for TechniqueList<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// An entity as `{"type": …, "value": …}`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct EntityView<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub value: Addr<'a>,
}

/// An address or name: parsed, or as text (a stored row keeps it as text).
#[derive(Debug, Clone, Copy)]
pub enum Addr<'a> {
    Ip(IpAddr),
    Text(&'a str),
}

impl std::fmt::Display for Addr<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Addr::Ip(ip) => f.write_str(&net::IpText::new(*ip)),
            Addr::Text(s) => f.write_str(s),
        }
    }
}

impl Serialize for Addr<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Addr::Ip(ip) => s.serialize_str(&net::IpText::new(*ip)),
            Addr::Text(t) => s.serialize_str(t),
        }
    }
}

/// Evidence lines: a list, or one string with the lines joined by `\n` (how the store keeps
/// them: a log line never contains a newline). Serialized as a JSON array either way.
#[derive(Debug, Clone, Copy)]
pub enum Lines<'a> {
    List(&'a [Arc<str>]),
    Joined(&'a str),
}

impl<'a> Lines<'a> {
    pub fn iter(self) -> impl Iterator<Item = &'a str> {
        let (list, joined) = match self {
            Lines::List(l) => (l, None),
            Lines::Joined(s) => (&[][..], Some(s).filter(|s| !s.is_empty())),
        };
        list.iter()
            .map(|l| &**l)
            .chain(joined.into_iter().flat_map(|s| s.split('\n')))
    }

    /// The lines joined by `\n` (the stored form), written into `out` after clearing it.
    pub fn join_into(list: &[Arc<str>], out: &mut String) {
        out.clear();
        for (i, l) in list.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(l);
        }
    }
}

impl Serialize for Lines<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'a> AlertView<'a> {
    /// The entity as an owned [`Entity`].
    pub fn entity(&self) -> Entity {
        let t = KeyType::parse(self.entity.kind).unwrap_or(KeyType::Subnet);
        match self.entity.value {
            Addr::Ip(ip) => Entity::Ip(ip),
            // a stored row that does not read back as its type (a hand-edited database) is
            // shown as the text it holds
            Addr::Text(v) => Entity::new(t, v).unwrap_or_else(|| Entity::Subnet(v.into())),
        }
    }
}

impl Entity {
    /// The entity borrowed for output.
    pub fn view(&self) -> EntityView<'_> {
        EntityView {
            kind: self.type_name(),
            value: match self {
                Entity::Ip(ip) => Addr::Ip(*ip),
                e => Addr::Text(e.text().unwrap_or_default()),
            },
        }
    }
}

impl Alert {
    /// The alert borrowed for output, in workflow `state` (`open` when not stored).
    pub fn view<'a>(&'a self, state: &'a str) -> AlertView<'a> {
        AlertView {
            id: &self.id,
            rule: &self.rule,
            severity: self.severity,
            score: self.score,
            entity: self.entity.view(),
            src_ip: self.src_ip.map(Addr::Ip),
            user: self.user.as_deref(),
            host: &self.host,
            sensor: &self.sensor,
            techniques: TechniqueList::List(&self.techniques),
            count: self.count,
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            explanation: &self.explanation,
            evidence: Lines::List(&self.evidence),
            state,
            state_by: None,
            state_at: None,
            detail: self.detail.as_deref().map(DetailRef::Value),
        }
    }
}

/// `s` cut to at most `max` bytes on a char boundary.
pub fn truncate_str(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_shares_the_buffer_it_lies_in_and_owns_a_copy_when_kept() {
        let buf: Arc<str> = "first line\nsécond\n".into();
        let second = buf.lines().nth(1).unwrap();
        let line = Line::part_of(&buf, second).unwrap();
        assert_eq!(&*line, "sécond");
        assert!(line.is_shared());
        assert_eq!(Arc::strong_count(&buf), 2);
        // a text elsewhere is not a part of it
        let elsewhere = String::from("sécond");
        assert!(Line::part_of(&buf, &elsewhere).is_none());
        assert!(Line::str_in(&buf, elsewhere.as_bytes()).is_none());
        // bytes inside it are its text, unless they cut a character
        let bytes = buf.as_bytes();
        assert_eq!(Line::str_in(&buf, &bytes[11..18]), Some("sécond"));
        assert_eq!(Line::str_in(&buf, &bytes[11..13]), None);
        // kept: a copy of exactly the line, and the buffer is let go
        let own = line.own();
        assert_eq!(&*own, "sécond");
        let mut kept = line.clone();
        kept.compact();
        assert!(!kept.is_shared());
        assert_eq!(kept, line);
        drop(line);
        assert_eq!(Arc::strong_count(&buf), 1);
        // a whole buffer is not shared: owning it is the same buffer
        let whole = Line::from(own.clone());
        assert!(!whole.is_shared());
        assert!(Arc::ptr_eq(&whole.own(), &own));
        assert_eq!(format!("{whole} {whole:?}"), "sécond \"sécond\"");
    }

    #[test]
    fn severity_orders_by_rank_not_by_name() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::High > Severity::Medium);
        assert!(Severity::Low > Severity::Info);
        assert_eq!(Severity::parse("HIGH"), Some(Severity::High));
        assert_eq!(Severity::parse("nope"), None);
        for s in Severity::ALL {
            assert_eq!(Severity::from_rank(s.rank()), Some(s));
        }
    }

    #[test]
    fn alert_id_is_stable_and_distinguishes_inputs() {
        let e = Entity::Ip("192.0.2.1".parse().unwrap());
        let a = Alert::make_id("ssh.bruteforce", &e, Timestamp(5));
        assert_eq!(a, Alert::make_id("ssh.bruteforce", &e, Timestamp(5)));
        assert_ne!(a, Alert::make_id("ssh.bruteforce", &e, Timestamp(6)));
        assert_ne!(a, Alert::make_id("ssh.spray", &e, Timestamp(5)));
        assert_eq!(a.len(), 16);
        // the first half is the second it opened: ids sort by time across seconds
        let at = |s: i64| Alert::make_id("ssh.bruteforce", &e, Timestamp::from_secs(s));
        assert_eq!(&at(1_700_000_000)[..8], "6553f100");
        let ids: Vec<Text> = (0..50).map(|i| at(1_700_000_000 + i * 37)).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        // before 1970 and past 2106 the second is clamped, the hash still tells them apart
        assert_eq!(&Alert::make_id("r", &e, Timestamp(-5))[..8], "00000000");
        assert_ne!(
            Alert::make_id("r", &e, Timestamp(-5)),
            Alert::make_id("r", &e, Timestamp(-6))
        );
        assert_eq!(
            &Alert::make_id("r", &e, Timestamp(i64::MAX))[..8],
            "ffffffff"
        );
    }

    #[test]
    fn evidence_keeps_first_and_latest() {
        let mut a = Alert {
            id: Text::default(),
            rule: "r".into(),
            severity: Severity::Low,
            score: 0.5,
            entity: Entity::User("u".into()),
            src_ip: None,
            user: None,
            host: "".into(),
            sensor: "files".into(),
            techniques: Techniques::Borrowed(&[]),
            count: 0,
            first_seen: Timestamp(0),
            last_seen: Timestamp(0),
            explanation: String::new(),
            evidence: vec![],
            detail: None,
        };
        for i in 0..25 {
            a.push_evidence(&format!("line {i}"));
        }
        assert_eq!(a.evidence.len(), MAX_EVIDENCE);
        assert_eq!(&*a.evidence[0], "line 0");
        assert_eq!(&*a.evidence[4], "line 4");
        assert_eq!(&*a.evidence[9], "line 24");
    }

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate_str("héllo", 2), "h");
        assert_eq!(truncate_str("abc", 10), "abc");
    }
}
