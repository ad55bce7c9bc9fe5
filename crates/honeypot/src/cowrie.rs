//! Honeypot events as Cowrie JSON lines, so Cowrie's tooling and the SIEM parsers written for
//! it read tripline's honeypots unchanged (and tripline's own Cowrie reader takes them back:
//! the daemon turns every honeypot event into a pipeline event through that reader).
//!
//! Fields as Cowrie writes them: `eventid`, `timestamp` (UTC, microseconds), `session`,
//! `src_ip`, `src_port`, `dst_ip`, `dst_port`, `sensor`, `protocol`, `message`, and per event
//! `username`/`password`, `fingerprint`, `version`, `hassh`/`hasshAlgorithms`, `input`, `url`,
//! `filename`/`outfile`/`shasum`/`size`, `duration`. A login line also carries the client's
//! `version` and `hassh`, which Cowrie logs only on their own lines: one line says who tried
//! what with which client.

use crate::event::{HpEvent, What};
use serde_json::{json, Map, Value};
use tripline_event::Timestamp;

/// The Cowrie JSON line(s) of `e`, each ending in a newline, appended to `out`. `sensor` is
/// the honeypot's name (Cowrie's `sensor` field: the host name by default).
pub fn write(e: &HpEvent, sensor: &str, out: &mut String) {
    let mut base = Map::new();
    base.insert("timestamp".into(), json!(Timestamp(e.ts).to_string()));
    base.insert("session".into(), json!(e.session));
    base.insert("src_ip".into(), json!(e.src.ip().to_string()));
    base.insert("src_port".into(), json!(e.src.port()));
    base.insert("dst_ip".into(), json!(e.dst.ip().to_string()));
    base.insert("dst_port".into(), json!(e.dst.port()));
    base.insert("sensor".into(), json!(sensor));
    base.insert("protocol".into(), json!(e.sensor));
    let line = |out: &mut String, eventid: &str, fields: Vec<(&str, Value)>, message: String| {
        let mut m = Map::new();
        m.insert("eventid".into(), json!(eventid));
        for (k, v) in &base {
            m.insert(k.clone(), v.clone());
        }
        for (k, v) in fields {
            m.insert(k.into(), v);
        }
        m.insert("message".into(), json!(message));
        out.push_str(&Value::Object(m).to_string());
        out.push('\n');
    };
    let id = e.what.cowrie_eventid();
    match &e.what {
        What::Connect => line(
            out,
            id,
            vec![],
            format!(
                "New connection: {}:{} ({}:{}) [session: {}]",
                e.src.ip(),
                e.src.port(),
                e.dst.ip(),
                e.dst.port(),
                e.session
            ),
        ),
        What::ClientVersion {
            version,
            hassh,
            hassh_algorithms,
        } => {
            line(
                out,
                "cowrie.client.version",
                vec![("version", json!(version))],
                format!("Remote SSH version: {version}"),
            );
            line(
                out,
                id,
                vec![
                    ("hassh", json!(hassh)),
                    ("hasshAlgorithms", json!(hassh_algorithms)),
                ],
                format!("SSH client hassh fingerprint: {hassh}"),
            );
        }
        What::Login {
            user,
            password,
            key_fingerprint,
            success,
            client,
        } => {
            let mut f = vec![("username", json!(user))];
            if let Some(p) = password {
                f.push(("password", json!(p)));
            }
            if let Some(k) = key_fingerprint {
                f.push(("fingerprint", json!(k)));
            }
            if let Some((version, hassh)) = client {
                f.push(("version", json!(version)));
                f.push(("hassh", json!(hassh)));
            }
            let msg = match (key_fingerprint, success) {
                (Some(k), _) => format!("public key attempt for user {user} with fingerprint {k}"),
                (None, true) => format!(
                    "login attempt [{user}/{}] succeeded",
                    password.as_deref().unwrap_or("")
                ),
                (None, false) => format!(
                    "login attempt [{user}/{}] failed",
                    password.as_deref().unwrap_or("")
                ),
            };
            line(out, id, f, msg);
        }
        What::Command { input } => line(
            out,
            id,
            vec![("input", json!(input))],
            format!("CMD: {input}"),
        ),
        What::Download { url, tool } => line(
            out,
            id,
            vec![("url", json!(url)), ("tool", json!(tool))],
            format!("Attempt to download file(s) from URL ({url}) failed: never fetched"),
        ),
        What::Upload { path, size, sha256 } => line(
            out,
            id,
            vec![
                ("filename", json!(path)),
                ("outfile", json!(path)),
                ("shasum", json!(sha256)),
                ("size", json!(size)),
            ],
            format!("Saved upload {path} ({size} bytes) with SHA-256 {sha256}"),
        ),
        What::Proxy { dst } => {
            let (host, port) = match dst.rsplit_once(':') {
                Some((h, p)) => (h, p.parse::<u32>().ok()),
                None => (dst.as_str(), None),
            };
            line(
                out,
                id,
                vec![("dst_ip", json!(host)), ("dst_port", json!(port))],
                format!("direct-tcp connection request to {dst} refused"),
            );
        }
        What::Http {
            method,
            target,
            user_agent,
            headers,
            class,
            detail,
            body_bytes,
        } => {
            let h: Map<String, Value> =
                headers.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            line(
                out,
                id,
                vec![
                    ("method", json!(method)),
                    ("url", json!(target)),
                    ("user_agent", json!(user_agent)),
                    ("headers", Value::Object(h)),
                    ("class", json!(class)),
                    ("detail", json!(detail)),
                    ("body_bytes", json!(body_bytes)),
                ],
                format!(
                    "{method} {target} ({class}{}{detail})",
                    if detail.is_empty() { "" } else { ": " }
                ),
            )
        }
        What::Limit { what } => line(
            out,
            id,
            vec![("limit", json!(what))],
            format!("refused or cut by the {what} limit"),
        ),
        What::Closed { duration_ms } => line(
            out,
            id,
            vec![("duration", json!(*duration_ms as f64 / 1000.0))],
            format!(
                "Connection lost after {:.1} seconds",
                *duration_ms as f64 / 1000.0
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(what: What) -> HpEvent {
        HpEvent {
            ts: 1_700_000_000_123_456,
            sensor: "ssh",
            session: "0123456789ab".into(),
            src: "203.0.113.9:40000".parse().unwrap(),
            dst: "10.0.0.5:2222".parse().unwrap(),
            what,
        }
    }

    fn lines(what: What) -> Vec<Value> {
        let mut s = String::new();
        write(&ev(what), "hp1", &mut s);
        s.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn a_login_is_cowries_shape_with_its_client() {
        let l = lines(What::Login {
            user: "root".into(),
            password: Some("hunter2".into()),
            key_fingerprint: None,
            success: false,
            client: Some(("SSH-2.0-Go".into(), "abc".into())),
        });
        assert_eq!(l.len(), 1);
        let l = &l[0];
        assert_eq!(l["eventid"], "cowrie.login.failed");
        assert_eq!(l["username"], "root");
        assert_eq!(l["password"], "hunter2");
        assert_eq!(l["src_ip"], "203.0.113.9");
        assert_eq!(l["src_port"], 40000);
        assert_eq!(l["dst_port"], 2222);
        assert_eq!(l["session"], "0123456789ab");
        assert_eq!(l["sensor"], "hp1");
        assert_eq!(l["hassh"], "abc");
        assert_eq!(l["timestamp"], "2023-11-14T22:13:20.123456Z");
    }

    #[test]
    fn every_kind_writes_its_fields() {
        let v = lines(What::ClientVersion {
            version: "SSH-2.0-libssh".into(),
            hassh: "h".into(),
            hassh_algorithms: "a;b;c;d".into(),
        });
        assert_eq!(v[0]["eventid"], "cowrie.client.version");
        assert_eq!(v[1]["eventid"], "cowrie.client.kex");
        assert_eq!(v[1]["hasshAlgorithms"], "a;b;c;d");
        let d = lines(What::Download {
            url: "http://x/y".into(),
            tool: "wget".into(),
        });
        assert_eq!(d[0]["eventid"], "cowrie.session.file_download.failed");
        assert_eq!(d[0]["url"], "http://x/y");
        let p = lines(What::Proxy {
            dst: "8.8.8.8:53".into(),
        });
        assert_eq!(p[0]["dst_ip"], "8.8.8.8");
        assert_eq!(p[0]["dst_port"], 53);
        let c = lines(What::Closed { duration_ms: 1500 });
        assert_eq!(c[0]["duration"], 1.5);
        let u = lines(What::Upload {
            path: "/tmp/x".into(),
            size: 3,
            sha256: "s".into(),
        });
        assert_eq!(u[0]["shasum"], "s");
        assert_eq!(u[0]["filename"], "/tmp/x");
    }
}
