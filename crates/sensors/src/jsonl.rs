//! The JSON-lines source (`type = "jsonl"`): an application that writes its own security log,
//! one JSON object per line, feeds tripline's rules through a documented mapping from its
//! fields to an event's time, entity keys and kind.
//!
//! ```toml
//! [sources.myapp]
//! type = "jsonl"
//! paths = ["/var/log/myapp/security.jsonl"]
//! [sources.myapp.fields]          # which field holds what (a dotted path into nested objects)
//! time = "ts"                     # RFC 3339 text, or Unix seconds / milliseconds as a number
//! kind = "event"                  # its value picks the kind through `kinds`
//! src_ip = "client.ip"
//! user = "user"
//! [sources.myapp.kinds]           # the field's value → tripline's event kind
//! login_failed = "auth.failure"
//! login_ok = "auth.success"
//! ```
//!
//! A line whose kind field names no kind (an event the rules do not read) is counted as
//! unparsed; a line that is not a JSON object is counted as a parse error and skipped. Failures
//! (`auth.failure`, `auth.invalid_user`, `auth.refused`, `auth.max_attempts`,
//! `ssh.preauth_noise`) and honeypot events but the close are evidence against their source
//! address, as a fail2ban match is.
//! Files are followed as syslog files are (rotation, checkpoints, warm-up after a restart).

use crate::files::{Decoder, FileSet};
use crate::source::{parse_table, OpenCx, Source, SourceError, SourceSpec, SourceType};
use crate::LineParser;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use tripline_event::{
    truncate_str, Event, Key, KeyType, Kind, Line, SensorKind, SourcePos, Text, Timestamp,
    MAX_RAW_BYTES,
};

/// The sensor of a JSON-lines source's events.
pub const SENSOR: SensorKind = SensorKind::new("jsonl");

/// `[sources.NAME]` with `type = "jsonl"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JsonlConfig {
    pub enabled: bool,
    /// Paths or globs of the JSON-lines files. Missing files are reported and watched for.
    pub paths: Vec<String>,
    /// Read files never seen before from their start instead of their end.
    pub from_start: bool,
    /// On resuming a file, re-read up to this many MiB before the stored position to rebuild
    /// detection windows. 0: off. At most 4096.
    pub resume_warmup_mib: u64,
    /// Which field holds what.
    pub fields: Fields,
    /// The kind field's values, each mapped to an event kind (`auth.failure`, `auth.success`,
    /// `auth.invalid_user`, `priv.sudo_failure`, …: `tripline config default` lists them). A
    /// value that already is a kind's name needs no entry.
    pub kinds: BTreeMap<String, String>,
}

/// Field paths (`a.b` reads `{"a": {"b": …}}`); empty: the event has none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Fields {
    /// When it happened: RFC 3339 text, or Unix seconds or milliseconds. Missing: when read.
    pub time: String,
    /// What happened: its value is looked up in `kinds`. Required.
    pub kind: String,
    /// The remote address (an IP address; a host name is reported, not counted).
    pub src_ip: String,
    /// The account.
    pub user: String,
    /// A session key.
    pub session: String,
    /// The host that logged it. Missing: this host.
    pub host: String,
    /// How many occurrences the line stands for (a number). Missing: 1.
    pub count: String,
    /// Other entity keys, by type (`api_key`, `file`, `device`) → field path: what the event
    /// is about besides its address, user, session and host (which have fields above).
    pub keys: BTreeMap<String, String>,
}

impl Default for Fields {
    fn default() -> Self {
        Fields {
            time: "time".into(),
            kind: "event".into(),
            src_ip: "src_ip".into(),
            user: "user".into(),
            session: "session".into(),
            host: "host".into(),
            count: String::new(),
            keys: BTreeMap::new(),
        }
    }
}

impl Default for JsonlConfig {
    fn default() -> Self {
        JsonlConfig {
            enabled: true,
            paths: vec![],
            from_start: false,
            resume_warmup_mib: 16,
            fields: Fields::default(),
            kinds: BTreeMap::new(),
        }
    }
}

/// The `jsonl` source type.
pub const JSONL: SourceType = SourceType {
    name: "jsonl",
    summary: "an application's own JSON-lines log, mapped field by field to events",
    parse: |key, table| {
        let c: JsonlConfig = parse_table(key, table)?;
        let mut p = vec![];
        if c.paths.is_empty() {
            p.push(format!("{key}.paths = []: name at least one file"));
        }
        if c.fields.kind.is_empty() {
            p.push(format!(
                "{key}.fields.kind = \"\": the field that says what happened is required"
            ));
        }
        if c.resume_warmup_mib > 4096 {
            p.push(format!(
                "{key}.resume_warmup_mib = {}: must be 0..=4096",
                c.resume_warmup_mib
            ));
        }
        for (t, field) in &c.fields.keys {
            match KeyType::parse(t) {
                Some(k) if k.is_field() => p.push(format!(
                    "{key}.fields.keys.{t} = {field:?}: a {t} has a field of its own ({key}.fields.{})",
                    if matches!(k, KeyType::Ip | KeyType::Subnet) { "src_ip" } else { t }
                )),
                Some(_) if field.is_empty() => {
                    p.push(format!("{key}.fields.keys.{t} = \"\": name the field"))
                }
                Some(_) => {}
                None => p.push(format!(
                    "{key}.fields.keys.{t} = {field:?}: not a key type (one of {})",
                    KeyType::ALL
                        .iter()
                        .filter(|k| !k.is_field())
                        .map(|k| k.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        }
        for (value, kind) in &c.kinds {
            if Kind::from_name(kind).is_none() {
                p.push(format!(
                    "{key}.kinds.{value} = {kind:?}: not an event kind (one of {})",
                    Kind::names().collect::<Vec<_>>().join(", ")
                ));
            }
        }
        match p.is_empty() {
            true => Ok(Box::new(c)),
            false => Err(p),
        }
    },
};

impl SourceSpec for JsonlConfig {
    fn type_name(&self) -> &'static str {
        "jsonl"
    }
    fn enabled(&self) -> bool {
        self.enabled
    }
    fn to_toml(&self) -> toml::Value {
        let mut v = crate::source::table_of(self);
        if let toml::Value::Table(t) = &mut v {
            t.insert("type".into(), "jsonl".into());
        }
        v
    }
    fn open(&self, name: &str, cx: &OpenCx<'_>) -> Result<Option<Box<dyn Source>>, SourceError> {
        let decoder = Decoder::Jsonl(Box::new(Mapping::new(self)));
        let warmup = self.resume_warmup_mib << 20;
        let set = FileSet::open(
            name,
            "jsonl",
            &self.paths,
            decoder,
            warmup,
            self.from_start,
            cx,
        );
        FileSet::boxed(set)
    }
}

/// A field path, split once.
type Path = Vec<String>;

fn path(p: &str) -> Option<Path> {
    (!p.is_empty()).then(|| p.split('.').map(String::from).collect())
}

/// A [`JsonlConfig`]'s mapping, ready to read lines.
#[derive(Debug, Clone)]
pub struct Mapping {
    time: Option<Path>,
    kind: Option<Path>,
    src_ip: Option<Path>,
    user: Option<Path>,
    session: Option<Path>,
    host: Option<Path>,
    count: Option<Path>,
    keys: Vec<(KeyType, Path)>,
    kinds: BTreeMap<String, Kind>,
}

fn get<'a>(v: &'a serde_json::Value, p: &Option<Path>) -> Option<&'a serde_json::Value> {
    get_at(v, p.as_ref()?)
}

fn get_at<'a>(v: &'a serde_json::Value, p: &[String]) -> Option<&'a serde_json::Value> {
    p.iter().try_fold(v, |v, k| v.get(k))
}

/// A string field, or a number as text; cut to 255 bytes.
fn text(v: Option<&serde_json::Value>) -> Option<Text> {
    match v? {
        serde_json::Value::String(s) if !s.is_empty() => Some(truncate_str(s, 255).into()),
        serde_json::Value::Number(n) => Some(n.to_string().into()),
        _ => None,
    }
}

impl Mapping {
    pub fn new(c: &JsonlConfig) -> Mapping {
        let f = &c.fields;
        Mapping {
            time: path(&f.time),
            kind: path(&f.kind),
            src_ip: path(&f.src_ip),
            user: path(&f.user),
            session: path(&f.session),
            host: path(&f.host),
            count: path(&f.count),
            keys: f
                .keys
                .iter()
                .filter_map(|(t, p)| Some((KeyType::parse(t)?, path(p)?)))
                .collect(),
            kinds: c
                .kinds
                .iter()
                .filter_map(|(v, k)| Some((v.clone(), Kind::from_name(k)?)))
                .collect(),
        }
    }

    /// One line as an event, counted in `parser`'s stats as a syslog line is: `Ok(None)` for a
    /// record whose kind is none the mapping knows, `Err` for a line that is not a JSON object
    /// (the caller counts it; there is nothing more to say about it).
    #[allow(clippy::result_unit_err)]
    pub fn event_in(
        &self,
        parser: &mut LineParser,
        shared: Option<&Arc<str>>,
        line: &str,
        observed: Timestamp,
        pos: SourcePos,
        host: &Arc<str>,
    ) -> Result<Option<Event>, ()> {
        let st = &mut parser.stats;
        st.lines += 1;
        st.bytes += line.len() as u64 + 1;
        let raw = if line.len() > MAX_RAW_BYTES {
            st.truncated += 1;
            truncate_str(line, MAX_RAW_BYTES)
        } else {
            line
        };
        let v: serde_json::Value = match serde_json::from_str(raw) {
            Ok(v @ serde_json::Value::Object(_)) => v,
            _ => {
                st.unparsed += 1;
                return Err(());
            }
        };
        let kind = match get(&v, &self.kind) {
            Some(serde_json::Value::String(k)) => {
                self.kinds.get(k).cloned().or_else(|| Kind::from_name(k))
            }
            _ => None,
        };
        let Some(kind) = kind else {
            st.unparsed += 1;
            return Ok(None);
        };
        st.events += 1;
        let ts = match get(&v, &self.time) {
            Some(serde_json::Value::String(t)) => {
                crate::syslog::parse_rfc3339(t, parser.time_context()).map(|(ts, _)| ts)
            }
            Some(serde_json::Value::Number(n)) => n.as_f64().and_then(unix_time),
            _ => None,
        }
        .unwrap_or(observed);
        let (src_ip, src_name) = match text(get(&v, &self.src_ip)) {
            Some(s) => match s.parse() {
                Ok(ip) => (Some(ip), None),
                Err(_) => (None, Some(s)),
            },
            None => (None, None),
        };
        let host: Arc<str> = match get(&v, &self.host) {
            Some(serde_json::Value::String(h)) if !h.is_empty() => truncate_str(h, 255).into(),
            _ => host.clone(),
        };
        let count = get(&v, &self.count)
            .and_then(|c| c.as_u64())
            .map_or(1, |c| c.clamp(1, 100_000) as u32);
        let hostile = kind.is_evidence();
        Ok(Some(Event {
            ts,
            observed,
            sensor: SENSOR,
            host,
            src_ip,
            src_name,
            user: text(get(&v, &self.user)),
            session: text(get(&v, &self.session)),
            keys: self
                .keys
                .iter()
                .filter_map(|(kind, p)| {
                    let value = text(get_at(&v, p))?;
                    Some(Key { kind: *kind, value })
                })
                .collect(),
            kind,
            count,
            hostile,
            raw: Line::in_or_copy(shared, raw),
            pos,
        }))
    }
}

/// Unix seconds, or milliseconds (a number past 10¹¹ is read as milliseconds: year 5138 in
/// seconds), as a timestamp; None for what is not a time.
fn unix_time(n: f64) -> Option<Timestamp> {
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    let secs = if n >= 1e11 { n / 1000.0 } else { n };
    (secs < 1e11).then_some(Timestamp((secs * 1e6) as i64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TimeContext;

    fn mapping(kinds: &[(&str, &str)]) -> (JsonlConfig, Mapping) {
        let mut c = JsonlConfig {
            paths: vec!["/x".into()],
            ..JsonlConfig::default()
        };
        c.fields.time = "ts".into();
        c.fields.src_ip = "client.ip".into();
        c.fields.count = "n".into();
        c.fields.keys.insert("api_key".into(), "auth.key_id".into());
        c.fields.keys.insert("device".into(), "dev".into());
        for (v, k) in kinds {
            c.kinds.insert(v.to_string(), k.to_string());
        }
        let m = Mapping::new(&c);
        (c, m)
    }

    #[test]
    fn fields_map_to_time_keys_and_kind_and_other_lines_are_counted() {
        let (_, m) = mapping(&[("login_failed", "auth.failure")]);
        let mut p = LineParser::new(TimeContext::new("UTC").unwrap(), SENSOR, "h");
        let host: Arc<str> = "me".into();
        let seen = Timestamp::from_secs(1_800_000_000);
        let mut read =
            |line: &str| m.event_in(&mut p, None, line, seen, SourcePos::default(), &host);
        let ev = read(r#"{"ts":"2026-03-04T10:00:01Z","event":"login_failed","client":{"ip":"203.0.113.5"},"user":"root","session":42,"n":3}"#)
            .unwrap()
            .unwrap();
        assert_eq!(ev.kind.name(), "auth.failure");
        assert_eq!(ev.ts, Timestamp::from_secs(1_772_618_401));
        assert_eq!(ev.src_ip, "203.0.113.5".parse().ok());
        assert_eq!(ev.user.as_deref(), Some("root"));
        assert_eq!(ev.session.as_deref(), Some("42"));
        assert_eq!((ev.count, ev.hostile, &*ev.host), (3, true, "me"));
        // other keys by type, read like the common ones; missing ones are not keys
        assert!(ev.keys.is_empty());
        let ev = read(r#"{"event":"login_failed","auth":{"key_id":"k-7f3a"},"dev":9}"#)
            .unwrap()
            .unwrap();
        let key = |t| ev.key(t).map(|k| format!("{k:?}"));
        assert_eq!(key(KeyType::ApiKey).as_deref(), Some(r#"Text("k-7f3a")"#));
        assert_eq!(key(KeyType::Device).as_deref(), Some(r#"Text("9")"#));
        assert_eq!(key(KeyType::File), None);
        // a kind's own name needs no entry; seconds and milliseconds are both times
        let ev = read(
            r#"{"ts":1772618401,"event":"auth.success","client":{"ip":"h.example"},"host":"app1"}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!((ev.kind.name(), ev.hostile), ("auth.success", false));
        assert_eq!(ev.ts, Timestamp::from_secs(1_772_618_401));
        assert_eq!(
            (ev.src_ip, ev.src_name.as_deref()),
            (None, Some("h.example"))
        );
        assert_eq!(&*ev.host, "app1");
        let ev = read(r#"{"ts":1772618401500,"event":"auth.success"}"#)
            .unwrap()
            .unwrap();
        assert_eq!(ev.ts, Timestamp(1_772_618_401_500_000));
        // no time, or a time that is none: when it was read
        let ev = read(r#"{"ts":"yesterday","event":"auth.success"}"#)
            .unwrap()
            .unwrap();
        assert_eq!(ev.ts, seen);
        // an event the mapping does not know is not one; junk is an error; both counted
        assert!(read(r#"{"event":"page_view","user":"bob"}"#)
            .unwrap()
            .is_none());
        for junk in ["not json", "[1,2]", "{\"event\":", "\"x\""] {
            assert!(read(junk).is_err(), "{junk}");
        }
        let st = p.stats;
        assert_eq!((st.lines, st.events, st.unparsed), (10, 5, 5));
    }

    #[test]
    fn a_mapping_to_no_kind_and_missing_paths_are_named() {
        let table: toml::Value = toml::from_str(
            "paths = []\n[fields]\nkind = \"\"\n[kinds]\nlogin_failed = \"auth.fail\"\n",
        )
        .unwrap();
        let p = (JSONL.parse)("sources.myapp", table).unwrap_err();
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(p[0].starts_with("sources.myapp.paths = []"), "{p:?}");
        assert!(
            p[1].starts_with("sources.myapp.fields.kind = \"\""),
            "{p:?}"
        );
        assert!(
            p[2].starts_with("sources.myapp.kinds.login_failed = \"auth.fail\": not an event kind"),
            "{p:?}"
        );
        // keys: a type that has a field of its own, one that is no type, and an empty path
        let table: toml::Value = toml::from_str(
            "paths = [\"/x\"]\n[fields.keys]\nuser = \"u\"\ngadget = \"g\"\nfile = \"\"\n",
        )
        .unwrap();
        let p = (JSONL.parse)("sources.myapp", table).unwrap_err();
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(
            p[0].starts_with("sources.myapp.fields.keys.file = \"\": name"),
            "{p:?}"
        );
        assert!(
            p[1].starts_with("sources.myapp.fields.keys.gadget = \"g\": not a key type (one of api_key, file, device)"),
            "{p:?}"
        );
        assert!(
            p[2].contains(
                "keys.user = \"u\": a user has a field of its own (sources.myapp.fields.user)"
            ),
            "{p:?}"
        );
        let table: toml::Value = toml::from_str("paths = [\"/x\"]\npathz = 1\n").unwrap();
        let p = (JSONL.parse)("sources.myapp", table).unwrap_err();
        assert!(
            p[0].starts_with("sources.myapp: unknown field `pathz`"),
            "{p:?}"
        );
    }
}
