//! Detector state over time: what is forgotten, what never is, and what is never lost.

use std::sync::Arc;
use tripline_detect::{DetectConfig, Output, Rules};
use tripline_event::{Alert, SensorKind, SourcePos, Timestamp};
use tripline_sensors::{LineParser, TimeContext};

/// 2024-01-01T00:00:00Z
const T0: i64 = 1_704_067_200;

struct Rig {
    det: Rules,
    parser: LineParser,
}

impl Rig {
    fn new(cfg: DetectConfig) -> Rig {
        Rig {
            det: Rules::new(Arc::new(cfg), vec![], 0, 1),
            parser: LineParser::new(TimeContext::utc(), SensorKind::Files, "h"),
        }
    }

    /// A failed password for `user` from `ip`, `secs` after T0.
    fn fail(&mut self, secs: i64, ip: &str, user: &str) {
        let ts = Timestamp::from_secs(T0 + secs);
        let line = format!(
            "{ts} h sshd[{}]: Failed password for {user} from {ip} port 22 ssh2",
            1000 + secs
        );
        let ev = self
            .parser
            .event(&line, Timestamp(0), SourcePos::default())
            .unwrap_or_else(|| panic!("not an event: {line}"));
        self.det.process(&ev);
    }

    /// The sshd message `msg`, `secs` after T0.
    fn sshd(&mut self, secs: i64, msg: &str) {
        let ts = Timestamp::from_secs(T0 + secs);
        let line = format!("{ts} h sshd[{}]: {msg}", 1000 + secs);
        let ev = self
            .parser
            .event(&line, Timestamp(0), SourcePos::default())
            .unwrap_or_else(|| panic!("not an event: {line}"));
        self.det.process(&ev);
    }

    fn alerts(&mut self) -> Vec<Alert> {
        self.det
            .flush()
            .into_iter()
            .filter_map(|o| match o {
                Output::Alert(a) => Some(a),
                Output::State(_) | Output::Closed(_) => None,
            })
            .collect()
    }
}

#[test]
fn idle_entities_expire_so_memory_follows_live_attacks() {
    let mut r = Rig::new(DetectConfig::default());
    for i in 0..1000 {
        r.fail(i, &format!("198.51.{}.{}", i / 250, i % 250 + 1), "root");
    }
    assert!(r.det.tracked() >= 1000, "tracked {}", r.det.tracked());
    // seven hours later every window (the longest is 6 h) has emptied
    r.fail(7 * 3600, "203.0.113.9", "root");
    assert!(
        r.det.tracked() < 10,
        "idle state kept: {} entities",
        r.det.tracked()
    );
    assert!(r.det.stats.expired >= 1000, "{:?}", r.det.stats);
    assert_eq!(r.det.stats.evictions, 0);
}

#[test]
fn an_alert_closed_and_reopened_within_one_batch_is_emitted_twice() {
    let mut r = Rig::new(DetectConfig {
        cooldown_seconds: 60,
        ..Default::default()
    });
    for i in 0..5 {
        r.fail(i, "198.51.100.7", "root");
    }
    // the first alert's cooldown passes with no flush in between (one large batch)
    for i in 0..5 {
        r.fail(3600 + i, "198.51.100.7", "root");
    }
    let alerts = r.alerts();
    let brute: Vec<&Alert> = alerts
        .iter()
        .filter(|a| a.rule == "ssh.bruteforce")
        .collect();
    assert_eq!(brute.len(), 2, "{alerts:#?}");
    assert_ne!(brute[0].id, brute[1].id);
    assert!(brute.iter().all(|a| a.count == 5), "{brute:#?}");
}

#[test]
fn the_entity_cap_never_drops_an_alert_not_yet_flushed() {
    let mut r = Rig::new(DetectConfig {
        max_tracked_entities: 16,
        ..Default::default()
    });
    for ip in 0..100 {
        for i in 0..5 {
            r.fail(ip * 10 + i, &format!("198.51.100.{}", ip + 1), "root");
        }
    }
    assert!(r.det.stats.evictions > 0, "the cap was not reached");
    let alerts = r.alerts();
    let brute = alerts.iter().filter(|a| a.rule == "ssh.bruteforce").count();
    assert_eq!(brute, 100);
}

#[test]
fn restoring_an_entitys_alerts_keeps_its_latest_open() {
    let mut r = Rig::new(DetectConfig::default());
    for i in 0..5 {
        r.fail(i, "198.51.100.7", "root");
    }
    let first = r.alerts().into_iter().find(|a| a.rule == "ssh.bruteforce");
    let first = first.expect("first alert");
    for i in 0..5 {
        r.fail(7200 + i, "198.51.100.7", "root");
    }
    let second = r.alerts().into_iter().find(|a| a.rule == "ssh.bruteforce");
    let second = second.expect("second alert");
    // a restart restores both, newest first as the store returns them
    let mut r2 = Rig::new(DetectConfig::default());
    r2.det.restore_alert(second.clone());
    r2.det.restore_alert(first.clone());
    r2.fail(7300, "198.51.100.7", "root");
    let grown = r2.alerts();
    let bf: Vec<&Alert> = grown
        .iter()
        .filter(|a| a.rule == "ssh.bruteforce")
        .collect();
    assert_eq!(bf.len(), 1, "{grown:#?}");
    assert_eq!(bf[0].id, second.id, "the older alert was revived");
    assert_eq!(bf[0].count, second.count + 1);
}

#[test]
fn closed_alerts_are_reported_once_when_asked() {
    let cfg = DetectConfig {
        cooldown_seconds: 60,
        ..Default::default()
    };
    let closed = |r: &mut Rig| -> Vec<String> {
        r.det
            .flush()
            .into_iter()
            .filter_map(|o| match o {
                Output::Closed(id) => Some(id.to_string()),
                _ => None,
            })
            .collect()
    };
    let mut r = Rig::new(cfg.clone());
    r.det.report_closed(true);
    for i in 0..5 {
        r.fail(i, "198.51.100.7", "root");
    }
    let opened = r.alerts();
    assert_eq!(opened.len(), 1);
    assert!(closed(&mut r).is_empty(), "still open");
    // the same address again after the cooldown: the first alert is final, a second opens
    for i in 0..5 {
        r.fail(3600 + i, "198.51.100.7", "root");
    }
    let out = r.det.flush();
    let ids: Vec<&str> = out
        .iter()
        .filter_map(|o| match o {
            Output::Closed(id) => Some(id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(ids, vec![opened[0].id.as_str()]);
    let reopened: Vec<&Alert> = out
        .iter()
        .filter_map(|o| match o {
            Output::Alert(a) => Some(a),
            _ => None,
        })
        .collect();
    assert_eq!(reopened.len(), 1);
    assert_ne!(reopened[0].id, opened[0].id);
    // much later, event time sweeps the second one out: reported once
    r.fail(10 * 3600, "203.0.113.1", "root");
    assert_eq!(closed(&mut r), vec![reopened[0].id.clone()]);
    r.fail(20 * 3600, "203.0.113.2", "root");
    assert!(closed(&mut r).is_empty());

    // not asked: nothing reported
    let mut quiet = Rig::new(cfg);
    for i in 0..5 {
        quiet.fail(i, "198.51.100.7", "root");
    }
    quiet.fail(10 * 3600, "203.0.113.1", "root");
    assert!(closed(&mut quiet).is_empty());
}

#[test]
fn an_alert_starts_at_the_first_event_its_window_counted() {
    let mut r = Rig::new(DetectConfig::default());
    let first_seen = |alerts: &[Alert], rule: &str| {
        let a = alerts
            .iter()
            .find(|a| a.rule == rule)
            .unwrap_or_else(|| panic!("no {rule} alert"));
        (a.first_seen.secs() - T0, a.last_seen.secs() - T0, a.count)
    };
    // brute force: a failure long before the window, then five within ten minutes
    r.fail(0, "203.0.113.7", "root");
    for i in 0..5 {
        r.fail(1000 + 10 * i, "203.0.113.7", "root");
    }
    assert_eq!(
        first_seen(&r.alerts(), "ssh.bruteforce"),
        (1000, 1040, 5),
        "the failure at 0 is outside the 10-minute window"
    );
    // spray: five users, one try each, from one address
    for (i, user) in ["ann", "ben", "cat", "dan", "eve"].iter().enumerate() {
        r.fail(5000 + 20 * i as i64, "198.51.100.9", user);
    }
    assert_eq!(first_seen(&r.alerts(), "ssh.spray"), (5000, 5080, 5));
    // distributed: twenty failures against one user from five addresses
    for i in 0..20 {
        r.fail(9000 + 3 * i, &format!("192.0.2.{}", i % 5 + 1), "oracle");
    }
    let alerts = r.alerts();
    let dist = alerts
        .iter()
        .find(|a| a.rule == "ssh.distributed" && a.entity.value() == "oracle")
        .expect("distributed alert for oracle");
    assert_eq!(
        (dist.first_seen.secs() - T0, dist.last_seen.secs() - T0),
        (9000, 9057)
    );
}

#[test]
fn an_alert_reopened_after_its_cooldown_counts_only_what_came_after_it() {
    // slow brute force: 10 failures within 6 h, 15 minutes apart (never 5 within 10 minutes)
    let mut r = Rig::new(DetectConfig::default());
    let ip = "198.51.100.77";
    let mut alerts: Vec<Alert> = vec![];
    for i in 0..10 {
        r.fail(i * 900, ip, "root");
        alerts.extend(r.alerts());
    }
    // 40 minutes of quiet (cooldown 30), then ten more: the first nine must not reopen it on
    // the strength of the ten already alerted, the tenth opens a new alert of its own
    for i in 0..10 {
        r.fail(9 * 900 + 2400 + i * 900, ip, "root");
        alerts.extend(r.alerts());
    }
    let mut slow: Vec<(i64, i64, u64)> = alerts
        .iter()
        .filter(|a| a.rule == "ssh.bruteforce.slow")
        .map(|a| (a.first_seen.secs() - T0, a.last_seen.secs() - T0, a.count))
        .collect();
    slow.dedup_by_key(|a| a.0);
    let last_of = |first: i64| {
        alerts
            .iter()
            .filter(|a| a.rule == "ssh.bruteforce.slow" && a.first_seen.secs() - T0 == first)
            .map(|a| (a.last_seen.secs() - T0, a.count))
            .max()
    };
    let firsts: Vec<i64> = slow.iter().map(|a| a.0).collect();
    assert_eq!(firsts, vec![0, 10500], "{slow:?}");
    assert_eq!(last_of(0), Some((8100, 10)));
    assert_eq!(last_of(10500), Some((10500 + 9 * 900, 10)));
}

#[test]
fn evidence_gets_its_own_copy_at_the_end_of_a_batch_so_no_read_buffer_is_kept() {
    let mut r = Rig::new(DetectConfig::default());
    // eight failures in one read: their lines are parts of one shared buffer, as a file
    // sensor's are
    let text: String = (0..8)
        .map(|i| {
            format!(
                "{} h sshd[{}]: Failed password for root from 203.0.113.7 port 22 ssh2\n",
                Timestamp::from_secs(T0 + i),
                2000 + i
            )
        })
        .collect();
    let buf: Arc<str> = text.into();
    let events: Vec<_> = buf
        .lines()
        .map(|line| {
            r.parser
                .event_in(Some(&buf), line, Timestamp(0), SourcePos::default())
                .unwrap()
        })
        .collect();
    assert!(events.iter().all(|e| e.raw.is_shared()));
    for ev in &events {
        r.det.process(ev);
    }
    drop(events);
    // the open alert's evidence still points into the read buffer...
    assert!(Arc::strong_count(&buf) > 1);
    r.det.end_batch();
    // ...and no longer after the batch ended
    assert_eq!(Arc::strong_count(&buf), 1);
    let alerts = r.alerts();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    // the lines from the one that tripped the rule (the fifth) on
    let lines: Vec<&str> = buf.lines().skip(4).collect();
    let evidence: Vec<&str> = alerts[0].evidence.iter().map(|l| &**l).collect();
    assert_eq!(evidence, lines);
}

/// The detector contract: under a flood of distinct addresses, users and networks, a shard's
/// state stays within its cap (each of addresses, users and networks is capped at
/// `max_tracked_entities`), and its evictions are counted.
#[test]
fn the_rules_state_stays_within_its_cap_under_a_flood_of_distinct_entities() {
    use tripline_detect::contract::check_state_stays_within_cap;
    let cap = 1000;
    let make = || -> Box<dyn tripline_detect::Detector> {
        let cfg = DetectConfig {
            max_tracked_entities: cap,
            ..DetectConfig::default()
        };
        Box::new(Rules::new(Arc::new(cfg), vec![], 0, 1))
    };
    let (most, stats) = check_state_stays_within_cap(&make, 50_000, 3 * cap).unwrap();
    // the cap was reached (the flood is big enough to test it), not merely never approached,
    // and what went was counted
    assert!(most > 2 * cap, "{most}");
    assert!(stats.evictions > 40_000, "{stats:?}");
}

/// What the rules keep across a restart goes out as state records, and a detector made from
/// them knows it: a user's networks are not new to it, another network still is.
#[test]
fn state_records_carry_a_users_networks_across_a_restart() {
    let cfg = DetectConfig {
        learning_period_seconds: 60,
        ..Default::default()
    };
    let login = |r: &mut Rig, secs: i64, ip: &str| {
        let ts = Timestamp::from_secs(T0 + secs);
        let line =
            format!("{ts} h sshd[{secs}]: Accepted password for alice from {ip} port 22 ssh2");
        let ev = r
            .parser
            .event(&line, Timestamp(0), SourcePos::default())
            .unwrap();
        r.det.process(&ev);
        r.det.flush()
    };
    let mut first = Rig::new(cfg.clone());
    let out = login(&mut first, 0, "198.51.100.7");
    let state: Vec<_> = out
        .into_iter()
        .filter_map(|o| match o {
            Output::State(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(state.len(), 1, "{state:?}");
    assert_eq!(state[0].owner, "ssh.new_source_login");
    // the same network again adds nothing to keep
    assert!(login(&mut first, 30, "198.51.100.8").is_empty());

    let mut second = Rig::new(cfg);
    for s in &state {
        second.det.restore_state(s);
    }
    let rules = |out: Vec<Output>| -> Vec<String> {
        out.into_iter()
            .filter_map(|o| match o {
                Output::Alert(a) => Some(a.rule.to_string()),
                _ => None,
            })
            .collect()
    };
    // the learning period ran from the stored first login: a new network alerts at once (a
    // detector without the records would be learning), the known one stays quiet (it would be
    // new to a detector without them)
    assert_eq!(
        rules(login(&mut second, 3600, "203.0.113.5")),
        vec!["ssh.new_source_login"]
    );
    assert!(rules(login(&mut second, 3700, "198.51.100.9")).is_empty());
}

/// One attacker, one story: the enumeration that follows a brute force from the same address
/// names the brute force's alert in its explanation and its `folds` detail; the root attempts
/// after it grow the enumeration, and it lists every user it counted, from before it opened
/// too (8 by name, then how many more).
#[test]
fn a_more_specific_rule_folds_in_the_open_alert_it_outranks_and_counts_every_user() {
    let mut r = Rig::new(DetectConfig::default());
    for i in 0..6 {
        r.fail(i * 10, "203.0.113.77", "root");
    }
    let bf = r.alerts();
    assert_eq!(bf.len(), 1);
    assert_eq!(bf[0].rule, "ssh.bruteforce");
    let bf_id = bf[0].id.clone();
    for i in 0..20 {
        r.sshd(
            60 + i * 10,
            &format!("Invalid user probe{i} from 203.0.113.77 port 4000"),
        );
    }
    for i in 0..3 {
        r.fail(300 + i * 10, "203.0.113.77", "root");
    }
    let all = r.alerts();
    let bf = all.iter().find(|a| a.rule == "ssh.bruteforce").unwrap();
    // 6 root attempts, then 4 probes before five names made it an enumeration
    assert_eq!(bf.count, 10);
    let en = all.iter().find(|a| a.rule == "ssh.enumeration").unwrap();
    // the 5 probes that made it fire, the 15 after them, then 3 root attempts
    assert_eq!(en.count, 5 + 15 + 3, "{}", en.explanation);
    assert!(
        en.explanation
            .contains(&format!("it folds in ssh.bruteforce {bf_id}")),
        "{}",
        en.explanation
    );
    let d = en.detail.as_ref().expect("folds detail");
    assert_eq!(d.key, "folds");
    assert_eq!(d.value[0]["id"], bf_id.as_str());
    assert_eq!(d.value[0]["rule"], "ssh.bruteforce");
    // the probes before it opened too: probe0..probe7 by name; probe8..probe19 and root beyond
    assert!(
        en.explanation.contains(": probe0, probe1, ") && en.explanation.contains(" and 13 more"),
        "{}",
        en.explanation
    );
}

/// A network a user logs in from all the time is never "new", however many other networks
/// they log in from (only the one unused longest is forgotten when their history is full).
#[test]
fn a_network_used_all_the_time_stays_known_among_hundreds_of_others() {
    let mut r = Rig::new(DetectConfig {
        learning_period_seconds: 0,
        ..Default::default()
    });
    let mut t = 0;
    for i in 0..2000 {
        t += 60;
        r.sshd(
            t,
            "Accepted publickey for erin from 192.0.2.10 port 5000 ssh2",
        );
        if i % 5 == 0 {
            // 400 other networks, one each
            t += 60;
            let other = format!(
                "Accepted publickey for erin from 10.{}.{}.1 port 5000 ssh2",
                i / 250,
                i % 250
            );
            r.sshd(t, &other);
        }
    }
    let alerts = r.alerts();
    let new = alerts
        .iter()
        .find(|a| a.rule == "ssh.new_source_login")
        .unwrap();
    // one alert grown by each new network: the 400 others, and never home again
    assert_eq!(new.count, 400, "{}", new.explanation);
    assert!(!new.explanation.contains("192.0.2."), "{}", new.explanation);
}

/// What happened on a honeypot is told by a rule per act, with the techniques of what happened:
/// failed logins alone are a low `honeypot.login` with T1110 (not T1078); a login is one with
/// T1078; a failed fetch after it is a critical `honeypot.download` naming the URL (it was not
/// fetched); a direct-tcpip request a `honeypot.proxy` naming where to. A command alone is
/// none of them (what commands add up to is the honeypot detector's).
#[test]
fn honeypot_acts_are_told_by_their_own_rules_with_what_happened() {
    let mut r = Rig::new(DetectConfig::default());
    let host: Arc<str> = "hp".into();
    let mut cowrie = |line: &str| {
        let ev = r
            .parser
            .cowrie_event(line, Timestamp(0), SourcePos::default(), &host)
            .unwrap()
            .unwrap_or_else(|| panic!("no event: {line}"));
        r.det.process(&ev);
    };
    let at = |s: u32| format!("2024-03-04T10:00:{s:02}Z");
    cowrie(&format!(
        r#"{{"eventid":"cowrie.login.failed","username":"root","password":"x","timestamp":"{}","src_ip":"203.0.113.20","session":"a"}}"#,
        at(0)
    ));
    cowrie(&format!(
        r#"{{"eventid":"cowrie.login.failed","username":"root","password":"y","timestamp":"{}","src_ip":"203.0.113.20","session":"a"}}"#,
        at(1)
    ));
    let s = "203.0.113.21";
    cowrie(&format!(
        r#"{{"eventid":"cowrie.login.success","username":"root","password":"z","timestamp":"{}","src_ip":"{s}","session":"b"}}"#,
        at(2)
    ));
    cowrie(&format!(
        r#"{{"eventid":"cowrie.command.input","input":"uname -a","timestamp":"{}","src_ip":"{s}","session":"b"}}"#,
        at(3)
    ));
    cowrie(&format!(
        r#"{{"eventid":"cowrie.session.file_download.failed","url":"http://198.51.100.9/x.sh","timestamp":"{}","src_ip":"{s}","session":"b"}}"#,
        at(4)
    ));
    cowrie(&format!(
        r#"{{"eventid":"cowrie.direct-tcpip.request","dst_ip":"192.0.2.80","dst_port":25,"timestamp":"{}","src_ip":"{s}","session":"b"}}"#,
        at(5)
    ));
    let alerts = r.alerts();
    let of = |ip: &str, rule: &str| {
        alerts
            .iter()
            .find(|a| a.src_ip.map(|i| i.to_string()).as_deref() == Some(ip) && a.rule == rule)
            .unwrap_or_else(|| panic!("no {rule} on {ip}: {alerts:?}"))
    };
    use tripline_event::Severity::{Critical, Low, Medium};
    for (ip, rule, technique, severity, words) in [
        (
            "203.0.113.20",
            "honeypot.login",
            "T1110",
            Low,
            "tried to log in",
        ),
        (s, "honeypot.login", "T1078", Medium, "logged in as root"),
        (
            s,
            "honeypot.download",
            "T1105",
            Critical,
            "tried to fetch http://198.51.100.9/x.sh (not fetched)",
        ),
        (s, "honeypot.proxy", "T1090", Medium, "192.0.2.80:25"),
    ] {
        let a = of(ip, rule);
        assert_eq!(&*a.techniques, [technique], "{rule} on {ip}");
        assert_eq!(a.severity, severity, "{rule} on {ip}");
        assert!(a.explanation.contains(words), "{}", a.explanation);
    }
    assert_eq!(alerts.len(), 4, "a command alone is no alert: {alerts:?}");
}

/// After a restart (the alerts restored, no warm-up), an attempt that the brute force would
/// count grows the restored enumeration that outranks it, not a brute force of its own.
#[test]
fn a_restored_alert_still_outranks_after_a_restart() {
    let mut r = Rig::new(DetectConfig::default());
    for i in 0..5 {
        r.sshd(
            i * 10,
            &format!("Invalid user probe{i} from 203.0.113.78 port 4000"),
        );
    }
    let first = r.alerts();
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].rule, "ssh.enumeration");
    let mut again = Rig::new(DetectConfig::default());
    again.det.restore_alert(first[0].clone());
    for i in 0..6 {
        again.fail(100 + i * 10, "203.0.113.78", "root");
    }
    let after = again.alerts();
    assert!(
        after.iter().all(|a| a.rule == "ssh.enumeration"),
        "{:?}",
        after.iter().map(|a| (&a.rule, a.count)).collect::<Vec<_>>()
    );
    // the brute force fires from the fifth root attempt on: those two hits grow it
    assert_eq!(after[0].count, 5 + 2);
}

/// An address seen on a honeypot is remembered across a restart: the contact gives one record
/// for the store (a flood of contacts the same day gives no more), and a detector that took it
/// back raises `honeypot.returned` when the address logs in over SSH; a detector without it
/// does not.
#[test]
fn an_address_seen_on_a_honeypot_is_remembered_across_a_restart() {
    let host: Arc<str> = "hp".into();
    let contact = |r: &mut Rig, s: u32| {
        let line = format!(
            r#"{{"eventid":"cowrie.session.connect","timestamp":"2023-12-31T10:00:{s:02}Z","src_ip":"198.51.100.70","session":"c{s}"}}"#
        );
        let ev = r
            .parser
            .cowrie_event(&line, Timestamp(0), SourcePos::default(), &host)
            .unwrap()
            .unwrap();
        r.det.process(&ev);
        r.det.flush()
    };
    let mut first = Rig::new(DetectConfig::default());
    let state: Vec<_> = contact(&mut first, 0)
        .into_iter()
        .filter_map(|o| match o {
            Output::State(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(state.len(), 1, "{state:?}");
    assert_eq!(state[0].owner, "honeypot.returned");
    assert_eq!(state[0].key, "198.51.100.70");
    assert!(
        contact(&mut first, 5).is_empty(),
        "no record again the same day"
    );

    let login = |r: &mut Rig| {
        // an hour after T0, 15 hours after the contact
        r.sshd(
            3600,
            "Accepted password for deploy from 198.51.100.70 port 4242 ssh2",
        );
        r.alerts()
            .into_iter()
            .filter(|a| a.rule == "honeypot.returned")
            .collect::<Vec<_>>()
    };
    let mut second = Rig::new(DetectConfig::default());
    for s in &state {
        second.det.restore_state(s);
    }
    let got = login(&mut second);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].severity, tripline_event::Severity::Critical);
    assert!(
        got[0].explanation.contains("logged in over SSH as deploy")
            && got[0].explanation.contains("on a honeypot from 2023-12-31"),
        "{}",
        got[0].explanation
    );
    assert!(login(&mut Rig::new(DetectConfig::default())).is_empty());
}
