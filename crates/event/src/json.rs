//! The alert's JSON line, written by hand: the same bytes as `serde_json` writes for an
//! [`AlertView`], without its byte-at-a-time string escaping. Evidence lines are most of an
//! alert's bytes and almost never need escaping, so clean text is skipped a word at a time.
//! `once --json`, the `stdout_json` responder and the store's readers share it.

use crate::{Addr, AlertView};

/// One alert as a JSON line (with its `\n`): the same bytes as `serde_json` writes for an
/// [`AlertView`], without its byte-at-a-time string escaping (evidence lines are most of an
/// alert's bytes and almost never need escaping).
pub fn json_line(a: &AlertView<'_>, out: &mut Vec<u8>) {
    fn s(out: &mut Vec<u8>, key: &str, v: &str) {
        key_(out, key);
        str_(out, v);
    }
    fn key_(out: &mut Vec<u8>, key: &str) {
        if out.last() != Some(&b'{') {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
    }
    fn str_(out: &mut Vec<u8>, v: &str) {
        /// Non-zero when any of the 8 bytes of `c` is a control character, `"` or `\\` (SWAR:
        /// exact for "any").
        fn dirty(c: &[u8]) -> u64 {
            const LO: u64 = 0x0101_0101_0101_0101;
            const HI: u64 = 0x8080_8080_8080_8080;
            let w = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
            let zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
            let ctl = w.wrapping_sub(LO * 0x20) & !w & HI;
            ctl | zero(w ^ (LO * b'"' as u64)) | zero(w ^ (LO * b'\\' as u64))
        }
        out.push(b'"');
        let b = v.as_bytes();
        let mut start = 0;
        let mut i = 0;
        while i < b.len() {
            // most text needs no escape: skip it 32 bytes (four words, one branch) at a time
            if let Some(block) = b.get(i..i + 32) {
                if block.chunks_exact(8).fold(0, |m, c| m | dirty(c)) == 0 {
                    i += 32;
                    continue;
                }
            }
            if let Some(chunk) = b.get(i..i + 8) {
                if dirty(chunk) == 0 {
                    i += 8;
                    continue;
                }
            }
            let end = (i + 8).min(b.len());
            for (j, &c) in b[i..end].iter().enumerate() {
                if c >= 0x20 && c != b'"' && c != b'\\' {
                    continue;
                }
                out.extend_from_slice(&b[start..i + j]);
                start = i + j + 1;
                match c {
                    b'"' => out.extend_from_slice(b"\\\""),
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    0x08 => out.extend_from_slice(b"\\b"),
                    0x0c => out.extend_from_slice(b"\\f"),
                    c => {
                        const HEX: &[u8; 16] = b"0123456789abcdef";
                        out.extend_from_slice(b"\\u00");
                        out.push(HEX[(c >> 4) as usize]);
                        out.push(HEX[(c & 15) as usize]);
                    }
                }
            }
            i = end;
        }
        out.extend_from_slice(&b[start..]);
        out.push(b'"');
    }
    fn num(out: &mut Vec<u8>, key: &str, v: impl serde::Serialize) {
        key_(out, key);
        let _ = serde_json::to_writer(&mut *out, &v);
    }
    fn opt(out: &mut Vec<u8>, key: &str, v: Option<&str>) {
        match v {
            Some(v) => s(out, key, v),
            None => {
                key_(out, key);
                out.extend_from_slice(b"null");
            }
        }
    }
    let mut ts = [0u8; 32];
    out.push(b'{');
    s(out, "id", a.id);
    s(out, "rule", a.rule);
    s(out, "severity", a.severity.as_str());
    num(out, "score", a.score);
    key_(out, "entity");
    out.push(b'{');
    s(out, "type", a.entity.kind);
    key_(out, "value");
    match a.entity.value {
        Addr::Text(t) => str_(out, t),
        Addr::Ip(i) => str_(out, &crate::net::IpText::new(i)),
    }
    out.push(b'}');
    match a.src_ip {
        Some(Addr::Text(t)) => s(out, "src_ip", t),
        Some(Addr::Ip(i)) => s(out, "src_ip", &crate::net::IpText::new(i)),
        None => opt(out, "src_ip", None),
    }
    opt(out, "user", a.user);
    s(out, "host", a.host);
    s(out, "sensor", a.sensor);
    key_(out, "techniques");
    out.push(b'[');
    for (i, t) in a.techniques.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        str_(out, t);
    }
    out.push(b']');
    num(out, "count", a.count);
    s(out, "first_seen", a.first_seen.write_rfc3339(&mut ts));
    s(out, "last_seen", a.last_seen.write_rfc3339(&mut ts));
    s(out, "explanation", a.explanation);
    key_(out, "evidence");
    out.push(b'[');
    for (i, line) in a.evidence.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        str_(out, line);
    }
    out.push(b']');
    s(out, "state", a.state);
    if let Some(by) = a.state_by {
        s(out, "state_by", by);
    }
    if let Some(at) = a.state_at {
        s(out, "state_at", at.write_rfc3339(&mut ts));
    }
    if let Some((k, v)) = a.detail.as_ref().and_then(|d| d.read()) {
        // rare (anomaly alerts): serde's writer, same bytes as the API's
        out.push(b',');
        str_(out, &k);
        out.push(b':');
        if serde_json::to_writer(&mut *out, &*v).is_err() {
            out.extend_from_slice(b"null");
        }
    }
    out.extend_from_slice(b"}\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Alert, Entity, Severity, Timestamp};

    #[test]
    fn json_line_is_what_serde_writes() {
        let nasty = "q\"b\\s\u{1}\u{1f}\n\r\t\u{8}\u{c}\u{7f} é 𝄞 \u{2028} <script>";
        let mut a = Alert {
            id: "0123456789abcdef".into(),
            rule: "ssh.bruteforce".into(),
            severity: Severity::High,
            score: 0.758,
            entity: Entity::Ip("203.0.113.5".parse().unwrap()),
            src_ip: Some("2001:db8::1".parse().unwrap()),
            user: Some(nasty.into()),
            host: "web\"1".into(),
            sensor: "files".into(),
            techniques: crate::Techniques::Borrowed(&["T1110.001", "T1078"]),
            count: 12,
            first_seen: Timestamp(1_700_000_000_000_001),
            last_seen: Timestamp::from_secs(1_700_000_100),
            explanation: nasty.into(),
            evidence: vec![nasty.into(), "".into(), "plain".into()],
            detail: None,
        };
        for _ in 0..3 {
            for state in ["open", "ack\"d"] {
                let touched = AlertView {
                    state_by: Some("al\"ice"),
                    state_at: Some(Timestamp::from_secs(1_700_000_200)),
                    ..a.view(state)
                };
                for v in [a.view(state), touched] {
                    let mut line = vec![];
                    json_line(&v, &mut line);
                    let want = serde_json::to_string(&v).unwrap() + "\n";
                    assert_eq!(String::from_utf8(line).unwrap(), want);
                }
            }
            a.entity = Entity::User("<img src=x>".into());
            a.src_ip = None;
            a.user = None;
            a.techniques = crate::Techniques::Borrowed(&[]);
            a.evidence.clear();
            a.score = 1.0;
        }
        // a detector's detail, held or as a stored row keeps it: under its key, last
        a.detail = Some(Box::new(crate::Detail {
            key: "anomaly".into(),
            value: serde_json::json!({"band": "high", "features": [{"name": "q\"", "value": 1.5}]}),
        }));
        let stored = a.detail.as_ref().unwrap().to_json();
        for v in [
            a.view("open"),
            AlertView {
                detail: Some(crate::DetailRef::Json(&stored)),
                ..a.view("open")
            },
        ] {
            let mut line = vec![];
            json_line(&v, &mut line);
            let text = String::from_utf8(line).unwrap();
            assert_eq!(text, serde_json::to_string(&v).unwrap() + "\n");
            assert!(text.ends_with(r#""state":"open","anomaly":{"band":"high","features":[{"name":"q\"","value":1.5}]}}
"#), "{text}");
        }
        a.detail = None;
        // every byte value at every offset of an 8-byte word and a 32-byte block: texts up to
        // 100 bytes, dense with bytes to escape or with one now and then among clean ones
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed
        };
        for round in 0..4000 {
            let mut text = String::new();
            // a length drawn afresh each round (an empty text must not stop the sequence)
            for _ in 0..(next() >> 33) % 100 {
                let seed = next();
                let any = round % 2 == 0 || (seed >> 20) % 24 == 0;
                let c = if any {
                    char::from_u32((seed >> 33) as u32 % 0x90).unwrap_or('x')
                } else {
                    char::from(b' ' + ((seed >> 33) % 95) as u8)
                };
                text.push(c);
            }
            a.explanation = text;
            let v = a.view("open");
            let mut line = vec![];
            json_line(&v, &mut line);
            assert_eq!(
                String::from_utf8(line).unwrap(),
                serde_json::to_string(&v).unwrap() + "\n"
            );
        }
    }
}
