//! Cowrie honeypot JSON events (`cowrie.json`, one object per line).
//!
//! Any login attempt, command or download on a honeypot is hostile by definition: nobody
//! legitimate connects to it. Both the current schema and older field spellings are read:
//! `shasum` or `sha256`, `duration` as number or string, timestamps with `Z`, an offset, or
//! none (taken as UTC, as Cowrie writes them).

use crate::syslog::{parse_rfc3339, TimeContext};
use serde::Deserialize;
use std::sync::Arc;
use tripline_event::{
    net::parse_ip, truncate_str, Event, HoneypotKind, Kind, Line, SensorKind, SourcePos, Timestamp,
    MAX_RAW_BYTES,
};

/// Why a Cowrie line was rejected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CowrieError {
    #[error("not a JSON object: {0}")]
    Json(String),
    #[error("no eventid field")]
    NoEventId,
}

#[derive(Deserialize)]
struct RawEvent<'a> {
    eventid: Option<std::borrow::Cow<'a, str>>,
    timestamp: Option<std::borrow::Cow<'a, str>>,
    src_ip: Option<std::borrow::Cow<'a, str>>,
    session: Option<std::borrow::Cow<'a, str>>,
    sensor: Option<std::borrow::Cow<'a, str>>,
    username: Option<std::borrow::Cow<'a, str>>,
    password: Option<std::borrow::Cow<'a, str>>,
    input: Option<std::borrow::Cow<'a, str>>,
    url: Option<std::borrow::Cow<'a, str>>,
    filename: Option<std::borrow::Cow<'a, str>>,
    method: Option<std::borrow::Cow<'a, str>>,
    class: Option<std::borrow::Cow<'a, str>>,
    detail: Option<std::borrow::Cow<'a, str>>,
    shasum: Option<std::borrow::Cow<'a, str>>,
    sha256: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    duration: Option<Duration<'a>>,
    dst_ip: Option<std::borrow::Cow<'a, str>>,
    dst_port: Option<u16>,
}

/// A session's length in seconds: a number, or a number written as text (older Cowrie).
#[derive(Deserialize)]
#[serde(untagged)]
enum Duration<'a> {
    Number(f64),
    Text(std::borrow::Cow<'a, str>),
    /// Anything else: no duration, the event still counts.
    Other(serde::de::IgnoredAny),
}

impl Duration<'_> {
    /// The seconds, when they are a finite number that is not negative.
    fn seconds(self) -> Option<f32> {
        let s = match self {
            Duration::Number(n) => n,
            Duration::Text(t) => t.trim().parse().ok()?,
            Duration::Other(_) => return None,
        };
        (s.is_finite() && s >= 0.0).then_some(s as f32)
    }
}

fn bounded(s: Option<std::borrow::Cow<'_, str>>, max: usize) -> Box<str> {
    s.map(|s| truncate_str(&s, max).into()).unwrap_or_default()
}

/// Parse one Cowrie JSON line. `Ok(None)` for events that carry nothing for detection
/// (client size, kex details, log closed).
pub fn parse(
    line: &str,
    tc: &mut TimeContext,
    observed: Timestamp,
    pos: SourcePos,
    default_host: &Arc<str>,
) -> Result<Option<Event>, CowrieError> {
    parse_in(None, line, tc, observed, pos, default_host)
}

/// [`parse`] for a line that is a part of `shared` (a file read's buffer): the event's raw text
/// shares it instead of copying the line.
pub fn parse_in(
    shared: Option<&Arc<str>>,
    line: &str,
    tc: &mut TimeContext,
    observed: Timestamp,
    pos: SourcePos,
    default_host: &Arc<str>,
) -> Result<Option<Event>, CowrieError> {
    let raw: RawEvent<'_> =
        serde_json::from_str(line).map_err(|e| CowrieError::Json(e.to_string()))?;
    let eventid = raw.eventid.ok_or(CowrieError::NoEventId)?;
    let kind = match &*eventid {
        "cowrie.session.connect" => Kind::Honeypot(HoneypotKind::Connect),
        "cowrie.login.success" => Kind::Honeypot(HoneypotKind::Login {
            success: true,
            password: bounded(raw.password, 256),
        }),
        "cowrie.login.failed" => Kind::Honeypot(HoneypotKind::Login {
            success: false,
            password: bounded(raw.password, 256),
        }),
        // a public key offered for a user: a login attempt (sshd counts it as one), no password
        "cowrie.client.fingerprint" => Kind::Honeypot(HoneypotKind::Login {
            success: false,
            password: "".into(),
        }),
        "cowrie.command.input" | "cowrie.command.failed" => Kind::Honeypot(HoneypotKind::Command {
            input: bounded(raw.input, 4096),
        }),
        "cowrie.session.file_download" | "cowrie.session.file_upload" => {
            Kind::Honeypot(HoneypotKind::Download {
                // an upload has no URL: its file name says what came
                url: bounded(raw.url.or(raw.filename), 2048),
                sha256: bounded(raw.shasum.or(raw.sha256), 128),
            })
        }
        // a fetch the honeypot tried and failed: what was asked for, without a file
        "cowrie.session.file_download.failed" => Kind::Honeypot(HoneypotKind::Download {
            url: bounded(raw.url, 2048),
            sha256: "".into(),
        }),
        "cowrie.direct-tcpip.request" => {
            let host = raw.dst_ip.as_deref().unwrap_or("?");
            let dst = match raw.dst_port {
                Some(p) if host.contains(':') => format!("[{host}]:{p}"),
                Some(p) => format!("{host}:{p}"),
                None => host.to_string(),
            };
            Kind::Honeypot(HoneypotKind::Proxy {
                dst: bounded(Some(dst.into()), 300),
            })
        }
        // tripline's HTTP decoy (its own event id: Cowrie has no web decoy)
        "tripline.http.request" => Kind::Honeypot(HoneypotKind::Request {
            method: bounded(raw.method, 16),
            target: bounded(raw.url, 2048),
            class: bounded(raw.class, 32),
            detail: bounded(raw.detail, 128),
        }),
        "cowrie.session.closed" => Kind::Honeypot(HoneypotKind::Close {
            duration: raw.duration.and_then(Duration::seconds),
        }),
        _ => return Ok(None),
    };
    let ts = raw
        .timestamp
        .as_deref()
        .and_then(|t| {
            let (ts, used) = parse_rfc3339(t, tc)?;
            // Cowrie writes UTC; a stamp without an offset is UTC, not local time
            Some(
                if used == t.len() && !t.ends_with('Z') && !t[19..].contains(['+', '-']) {
                    let (utc, _) = parse_rfc3339(&format!("{t}Z"), tc)?;
                    utc
                } else {
                    ts
                },
            )
        })
        .unwrap_or(observed);
    let host: Arc<str> = match raw.sensor {
        Some(s) if !s.is_empty() => truncate_str(&s, 255).into(),
        _ => default_host.clone(),
    };
    let hostile = kind.is_evidence();
    Ok(Some(Event {
        ts,
        observed,
        sensor: SensorKind::Cowrie,
        host,
        src_ip: raw.src_ip.as_deref().and_then(parse_ip),
        src_name: None,
        user: raw.username.map(|u| truncate_str(&u, 256).into()),
        session: raw.session.map(|s| truncate_str(&s, 64).into()),
        keys: vec![],
        kind,
        count: 1,
        hostile,
        raw: Line::in_or_copy(shared, truncate_str(line, MAX_RAW_BYTES)),
        pos,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Result<Option<Event>, CowrieError> {
        parse(
            line,
            &mut TimeContext::utc(),
            Timestamp(0),
            SourcePos::default(),
            &Arc::from("hp"),
        )
    }

    #[test]
    fn a_public_key_offered_is_a_failed_login_and_an_upload_names_its_file() {
        let k = p(r#"{"eventid":"cowrie.client.fingerprint","username":"root","fingerprint":"SHA256:abc","src_ip":"203.0.113.7","session":"s1"}"#)
            .unwrap()
            .unwrap();
        assert_eq!(k.kind.name(), "honeypot.login_failed");
        assert_eq!(k.user.as_deref(), Some("root"));
        let u = p(r#"{"eventid":"cowrie.session.file_upload","filename":"/tmp/x.sh","shasum":"ab12","src_ip":"203.0.113.7","session":"s1"}"#)
            .unwrap()
            .unwrap();
        match u.kind {
            Kind::Honeypot(HoneypotKind::Download { url, sha256 }) => {
                assert_eq!((&*url, &*sha256), ("/tmp/x.sh", "ab12"));
            }
            k => panic!("{k:?}"),
        }
    }

    #[test]
    fn an_http_decoy_request_keeps_what_it_was_taken_for() {
        let r = p(r#"{"eventid":"tripline.http.request","method":"GET","url":"/cgi-bin/.%2e/.%2e/bin/sh","class":"exploit","detail":"CVE-2021-41773","src_ip":"198.51.100.4","session":"h1"}"#)
            .unwrap()
            .unwrap();
        assert_eq!(r.kind.name(), "honeypot.request");
        assert!(r.hostile);
        match r.kind {
            Kind::Honeypot(HoneypotKind::Request { class, detail, .. }) => {
                assert_eq!((&*class, &*detail), ("exploit", "CVE-2021-41773"));
            }
            k => panic!("{k:?}"),
        }
    }

    #[test]
    fn login_failed_is_hostile() {
        let ev = p(r#"{"eventid":"cowrie.login.failed","username":"root","password":"123456","message":"x","sensor":"hp1","timestamp":"2019-05-18T00:00:01.123456Z","src_ip":"203.0.113.7","session":"a1b2"}"#)
            .unwrap()
            .unwrap();
        assert_eq!(ev.kind.name(), "honeypot.login_failed");
        assert!(ev.hostile);
        assert_eq!(ev.user.as_deref(), Some("root"));
        assert_eq!(ev.ts.to_string(), "2019-05-18T00:00:01.123456Z");
        assert_eq!(&*ev.host, "hp1");
    }

    #[test]
    fn a_line_of_a_shared_read_keeps_its_raw_text_in_that_read() {
        let line = r#"{"eventid":"cowrie.command.input","input":"uname -a","timestamp":"2019-05-18T00:00:01Z","src_ip":"203.0.113.7","session":"a1"}"#;
        let buf: Arc<str> = format!("{line}\n{line}\n").into();
        let second = buf.lines().nth(1).unwrap();
        let (mut tc, host) = (TimeContext::utc(), Arc::from("hp"));
        let ev = parse_in(
            Some(&buf),
            second,
            &mut tc,
            Timestamp(0),
            SourcePos::default(),
            &host,
        )
        .unwrap()
        .unwrap();
        assert!(ev.raw.is_shared());
        assert_eq!(&*ev.raw, line);
        // without the buffer, a copy of its own
        let ev = parse(line, &mut tc, Timestamp(0), SourcePos::default(), &host)
            .unwrap()
            .unwrap();
        assert!(!ev.raw.is_shared());
        assert_eq!(&*ev.raw, line);
    }

    #[test]
    fn old_schema_without_zone_and_with_sha256() {
        let ev = p(r#"{"eventid":"cowrie.session.file_download","url":"http://x/y.sh","sha256":"ab","timestamp":"2016-01-02T03:04:05.000000","src_ip":"::ffff:198.51.100.2","session":"s"}"#)
            .unwrap()
            .unwrap();
        assert_eq!(
            ev.kind,
            Kind::Honeypot(HoneypotKind::Download {
                url: "http://x/y.sh".into(),
                sha256: "ab".into()
            })
        );
        assert_eq!(ev.ts.to_string(), "2016-01-02T03:04:05Z");
        assert_eq!(ev.src_ip, Some("198.51.100.2".parse().unwrap()));
    }

    #[test]
    fn bad_input_is_an_error_or_skipped() {
        assert!(matches!(p("not json"), Err(CowrieError::Json(_))));
        assert_eq!(p(r#"{"foo":1}"#).unwrap_err(), CowrieError::NoEventId);
        assert!(p(r#"{"eventid":"cowrie.client.size","width":80}"#)
            .unwrap()
            .is_none());
        assert!(p(r#"[1,2]"#).is_err());
        // a session's duration: a number, or text (older Cowrie); anything else is no duration
        let closed = |d: &str| {
            let line = format!(
                r#"{{"eventid":"cowrie.session.closed","duration":{d},"src_ip":"192.0.2.9"}}"#
            );
            match p(&line).unwrap().unwrap().kind {
                Kind::Honeypot(HoneypotKind::Close { duration }) => duration,
                k => panic!("{k:?}"),
            }
        };
        assert_eq!(closed("12.5"), Some(12.5));
        assert_eq!(closed(r#""3.25""#), Some(3.25));
        assert_eq!(closed(r#""soon""#), None);
        assert_eq!(closed("-1"), None);
        assert_eq!(closed(r#"{"a":[1]}"#), None);
        assert_eq!(closed("null"), None);
        let ev =
            p(r#"{"eventid":"cowrie.command.input","input":"uname -a","timestamp":"garbage"}"#)
                .unwrap()
                .unwrap();
        assert_eq!(
            ev.ts,
            Timestamp(0),
            "bad timestamp falls back to observed time"
        );
    }

    #[test]
    fn a_failed_fetch_and_a_proxy_request_are_read() {
        let p = |line: &str| {
            parse(
                line,
                &mut TimeContext::utc(),
                Timestamp(0),
                SourcePos::default(),
                &Arc::from("h"),
            )
            .unwrap()
            .unwrap()
        };
        let ev = p(
            r#"{"eventid":"cowrie.session.file_download.failed","url":"http://x/y.sh","timestamp":"2024-01-02T03:04:05Z","src_ip":"198.51.100.2","session":"s"}"#,
        );
        assert_eq!(
            ev.kind,
            Kind::Honeypot(HoneypotKind::Download {
                url: "http://x/y.sh".into(),
                sha256: "".into()
            })
        );
        let ev = p(
            r#"{"eventid":"cowrie.direct-tcpip.request","dst_ip":"2001:db8::25","dst_port":25,"src_port":5555,"timestamp":"2024-01-02T03:04:05Z","src_ip":"198.51.100.2","session":"s"}"#,
        );
        assert_eq!(
            ev.kind,
            Kind::Honeypot(HoneypotKind::Proxy {
                dst: "[2001:db8::25]:25".into()
            })
        );
        assert!(ev.kind.is_evidence());
    }
}
