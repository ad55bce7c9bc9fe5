//! The respond stage: what happens to alerts once the store has committed them.
//!
//! A [`Responder`] is one output (stdout JSON, devilnet's `stream.jsonl`, `INC-*.json` incident
//! reports; later webhooks, nftables, session lock). Each runs on a thread of its own behind a
//! bounded queue ([`Stage`]), fed after every commit by the store writer with
//! [`Stage::dispatch`], which never blocks: a responder that is slow, hangs or fails never
//! stalls detection or the store. What a full queue turns away is counted as dropped, what a
//! responder fails on as failed ([`Counts`]), and both are exported as metrics.
//!
//! Before a responder sees an alert, the decide stage asks its [`Filter`] (lowest severity,
//! rules, sensors): for now the decision is a per-responder filter; a policy language comes
//! with the decide-and-respond issue.
//!
//! Adding a responder: one file holding its config, its type implementing [`Responder`] and its
//! tests, plus the line in the binary that builds it from the configuration.
#![forbid(unsafe_code)]

pub mod incidents;
pub mod stdout;
pub mod stream;

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tripline_event::{Alert, Severity};

/// A responder failed to act on alerts (its words; the stage counts and logs it).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RespondError(pub String);

impl From<std::io::Error> for RespondError {
    fn from(e: std::io::Error) -> Self {
        RespondError(e.to_string())
    }
}

/// One output for committed alerts.
pub trait Responder: Send {
    /// Stable name, for metrics and logs (`stdout_json`).
    fn name(&self) -> &'static str;
    /// Act on the alerts of one commit that passed this responder's filter (new or grown
    /// alerts, in their state as stored). Runs on the responder's own thread.
    fn respond(&mut self, alerts: &[Alert]) -> Result<(), RespondError>;
}

/// Which alerts a responder gets (the decide stage, per responder).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Filter {
    /// Lowest severity passed on: info, low, medium, high or critical.
    pub min_severity: Severity,
    /// Only these rule ids (`ssh.bruteforce`; `ssh.*` for a family). Empty: every rule.
    pub rules: Vec<String>,
    /// Only alerts opened by these sensors (`files`, `journald`, `cowrie`). Empty: every sensor.
    pub sensors: Vec<String>,
}

impl Default for Filter {
    fn default() -> Self {
        Filter {
            min_severity: Severity::Info,
            rules: vec![],
            sensors: vec![],
        }
    }
}

impl Filter {
    /// Whether `a` passes.
    pub fn admits(&self, a: &Alert) -> bool {
        a.severity >= self.min_severity
            && (self.rules.is_empty()
                || self.rules.iter().any(|r| match r.strip_suffix('*') {
                    Some(prefix) => a.rule.starts_with(prefix),
                    None => *r == a.rule,
                }))
            && (self.sensors.is_empty() || self.sensors.iter().any(|s| s == a.sensor.as_str()))
    }

    /// Values serde cannot check, each naming its key (`prefix` ends with a dot).
    pub fn validate(&self, prefix: &str) -> Vec<String> {
        let mut p = vec![];
        for (i, r) in self.rules.iter().enumerate() {
            if r.is_empty()
                || r.len() > 64
                || r[..r.len() - r.ends_with('*') as usize].contains('*')
            {
                p.push(format!(
                    "{prefix}rules[{i}] = {r:?}: a rule id, or a prefix ending in `*`"
                ));
            }
        }
        for (i, s) in self.sensors.iter().enumerate() {
            if s.is_empty() || s.len() > 64 {
                p.push(format!("{prefix}sensors[{i}] = {s:?}: a sensor name"));
            }
        }
        p
    }
}

/// What happened to the alerts handed to one responder.
#[derive(Debug, Default)]
pub struct Counts {
    /// Alerts it acted on.
    pub delivered: AtomicU64,
    /// Alerts turned away because its queue was full (it was slow or hung).
    pub dropped: AtomicU64,
    /// Alerts of batches it failed on.
    pub failed: AtomicU64,
    /// Alerts its filter kept from it.
    pub filtered: AtomicU64,
}

impl Counts {
    fn add(n: &AtomicU64, by: usize) {
        n.fetch_add(by as u64, Ordering::Relaxed);
    }

    /// (delivered, dropped, failed, filtered) now.
    pub fn get(&self) -> (u64, u64, u64, u64) {
        (
            self.delivered.load(Ordering::Relaxed),
            self.dropped.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
            self.filtered.load(Ordering::Relaxed),
        )
    }
}

/// The alerts of one commit, shared by every responder's queue.
pub type Committed = Arc<[Alert]>;

struct Out {
    name: &'static str,
    tx: SyncSender<Committed>,
    counts: Arc<Counts>,
    /// Told when the responder's thread has ended.
    done: Receiver<()>,
}

/// The running respond stage: one thread and one bounded queue per responder.
#[derive(Default)]
pub struct Stage {
    outs: Vec<Out>,
}

impl Stage {
    /// Start `responders`, each with its filter and a queue of `queue` commits.
    pub fn start(responders: Vec<(Box<dyn Responder>, Filter)>, queue: usize) -> Stage {
        let mut outs = vec![];
        for (mut r, filter) in responders {
            let name = r.name();
            let (tx, rx) = sync_channel::<Committed>(queue.max(1));
            let (done_tx, done) = sync_channel::<()>(1);
            let counts = Arc::new(Counts::default());
            let c = counts.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("respond-{name}"))
                .spawn(move || {
                    let mut failures = 0u64;
                    let mut picked: Vec<Alert> = vec![];
                    while let Ok(batch) = rx.recv() {
                        picked.clear();
                        picked.extend(batch.iter().filter(|a| filter.admits(a)).cloned());
                        Counts::add(&c.filtered, batch.len() - picked.len());
                        if picked.is_empty() {
                            continue;
                        }
                        match r.respond(&picked) {
                            Ok(()) => Counts::add(&c.delivered, picked.len()),
                            Err(e) => {
                                Counts::add(&c.failed, picked.len());
                                // the first failure and every 100th after it: a broken output
                                // must not flood the log
                                if failures.is_multiple_of(100) {
                                    tracing::warn!(
                                        responder = name,
                                        failures = failures + 1,
                                        error = %e,
                                        "responder failed"
                                    );
                                }
                                failures += 1;
                            }
                        }
                    }
                    let _ = done_tx.send(());
                });
            if let Err(e) = spawned {
                tracing::error!(responder = name, error = %e, "responder not started");
                continue;
            }
            outs.push(Out {
                name,
                tx,
                counts,
                done,
            });
        }
        Stage { outs }
    }

    /// Hand one commit's alerts to every responder without waiting: a full queue drops them
    /// for that responder (counted).
    pub fn dispatch(&self, alerts: &Committed) {
        if alerts.is_empty() {
            return;
        }
        for o in &self.outs {
            match o.tx.try_send(alerts.clone()) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                    Counts::add(&o.counts.dropped, alerts.len())
                }
            }
        }
    }

    /// Each responder's name and counts.
    pub fn counts(&self) -> Vec<(&'static str, Arc<Counts>)> {
        self.outs
            .iter()
            .map(|o| (o.name, o.counts.clone()))
            .collect()
    }

    /// Whether there are responders at all.
    pub fn is_empty(&self) -> bool {
        self.outs.is_empty()
    }

    /// Close the queues and let each responder finish what it holds, waiting at most `grace`
    /// in all; returns the names of those still busy then (left to end with the process).
    pub fn finish(self, grace: Duration) -> Vec<&'static str> {
        let deadline = Instant::now() + grace;
        let mut busy = vec![];
        let waits: Vec<_> = self
            .outs
            .into_iter()
            .map(|o| {
                drop(o.tx);
                (o.name, o.done)
            })
            .collect();
        for (name, done) in waits {
            let left = deadline.saturating_duration_since(Instant::now());
            if done.recv_timeout(left).is_err()
                && !matches!(
                    done.try_recv(),
                    Err(std::sync::mpsc::TryRecvError::Disconnected)
                )
            {
                busy.push(name);
            }
        }
        busy
    }
}

/// devilnet's risk band of a 0–1 score: 0.4 / 0.6 / 0.8 / 0.9.
pub fn risk_band(score: f32) -> &'static str {
    match score {
        s if s >= 0.9 => "critical",
        s if s >= 0.8 => "high",
        s if s >= 0.6 => "medium",
        s if s >= 0.4 => "low",
        _ => "info",
    }
}

/// An alert for tests: `rule` on an address, of `severity`.
#[doc(hidden)]
pub fn test_alert(id: &str, rule: &'static str, severity: Severity) -> Alert {
    use tripline_event::{Entity, SensorKind, Techniques, Timestamp};
    Alert {
        id: id.into(),
        rule: rule.into(),
        severity,
        score: 0.8,
        entity: Entity::Ip("192.0.2.1".parse().expect("literal")),
        src_ip: "192.0.2.1".parse().ok(),
        user: None,
        host: "h".into(),
        sensor: SensorKind::Files.as_str().into(),
        techniques: Techniques::Borrowed(&["T1110.001"]),
        count: 5,
        first_seen: Timestamp::from_secs(1_700_000_000),
        last_seen: Timestamp::from_secs(1_700_000_100),
        explanation: "e".into(),
        evidence: vec![],
        detail: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A responder that records what it got, and can be made to hang or fail.
    struct Probe {
        got: Arc<Mutex<Vec<String>>>,
        gate: Option<Receiver<()>>,
        fail: bool,
    }

    impl Responder for Probe {
        fn name(&self) -> &'static str {
            if self.fail {
                "failing"
            } else if self.gate.is_some() {
                "hanging"
            } else {
                "probe"
            }
        }
        fn respond(&mut self, alerts: &[Alert]) -> Result<(), RespondError> {
            if let Some(g) = &self.gate {
                let _ = g.recv(); // hangs until the test lets it go (or drops the gate)
            }
            if self.fail {
                return Err(RespondError("the far end is down".into()));
            }
            let mut got = self.got.lock().unwrap();
            got.extend(alerts.iter().map(|a| a.id.to_string()));
            Ok(())
        }
    }

    fn batch(ids: &[(&str, &'static str, Severity)]) -> Committed {
        ids.iter()
            .map(|(id, rule, sev)| test_alert(id, rule, *sev))
            .collect::<Vec<_>>()
            .into()
    }

    #[test]
    fn a_hanging_or_failing_responder_is_counted_and_never_holds_up_the_others() {
        let got = Arc::new(Mutex::new(vec![]));
        let (release, gate) = sync_channel::<()>(0);
        let probe = |gate, fail| -> Box<dyn Responder> {
            Box::new(Probe {
                got: got.clone(),
                gate,
                fail,
            })
        };
        let stage = Stage::start(
            vec![
                (probe(Some(gate), false), Filter::default()),
                (probe(None, true), Filter::default()),
                (probe(None, false), Filter::default()),
            ],
            2,
        );
        let counts = stage.counts();
        let wait_for = |name: &str, want: (u64, u64, u64, u64)| {
            let c = &counts.iter().find(|c| c.0 == name).unwrap().1;
            let t = Instant::now();
            while c.get() != want {
                assert!(
                    t.elapsed() < Duration::from_secs(10),
                    "{name}: {:?}",
                    c.get()
                );
                std::thread::sleep(Duration::from_millis(1));
            }
        };
        // the hanging one takes the first batch and holds it; two more fill its queue, and the
        // rest are dropped for it, while the others take every batch: dispatch never waits
        for i in 0..10u64 {
            let t = Instant::now();
            stage.dispatch(&batch(&[(&format!("a{i}"), "ssh.scan", Severity::Low)]));
            assert!(t.elapsed() < Duration::from_millis(500), "dispatch waited");
            wait_for("probe", (i + 1, 0, 0, 0));
            wait_for("failing", (0, 0, i + 1, 0));
        }
        let hanging = counts.iter().find(|c| c.0 == "hanging").unwrap().1.clone();
        let (_, dropped, _, _) = hanging.get();
        assert!((7..=8).contains(&dropped), "dropped {dropped}");
        // the stage ends in its grace time with the hanging one still busy, and says so
        let t = Instant::now();
        let busy = stage.finish(Duration::from_millis(200));
        assert_eq!(busy, vec!["hanging"]);
        assert!(t.elapsed() < Duration::from_secs(2));
        // let go, it finishes what its queue held: nothing it accepted is lost
        drop(release);
        let t = Instant::now();
        while got.lock().unwrap().len() < 20 - dropped as usize {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "{:?}",
                got.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        assert_eq!(hanging.get(), (10 - dropped, dropped, 0, 0));
    }

    #[test]
    fn a_filter_passes_severity_rules_and_sensors_it_names() {
        let f = Filter {
            min_severity: Severity::Medium,
            rules: vec!["ssh.*".into(), "priv.after_login".into()],
            sensors: vec![],
        };
        assert!(f.admits(&test_alert("a", "ssh.bruteforce", Severity::High)));
        assert!(f.admits(&test_alert("a", "priv.after_login", Severity::Medium)));
        assert!(!f.admits(&test_alert("a", "ssh.scan", Severity::Low)));
        assert!(!f.admits(&test_alert("a", "priv.su_failures", Severity::High)));
        let cowrie_only = Filter {
            sensors: vec!["cowrie".into()],
            ..Filter::default()
        };
        assert!(!cowrie_only.admits(&test_alert("a", "ssh.scan", Severity::Low)));
        assert!(Filter::default().admits(&test_alert("a", "ssh.scan", Severity::Info)));
        let bad = Filter {
            rules: vec!["".into(), "s*sh".into(), "ok.*".into()],
            sensors: vec!["".into()],
            ..Filter::default()
        };
        let p = bad.validate("output.decide.stdout_json.");
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(
            p[0].starts_with("output.decide.stdout_json.rules[0] = \"\""),
            "{p:?}"
        );
        assert!(p[1].contains("rules[1] = \"s*sh\""), "{p:?}");
        assert!(p[2].contains("sensors[0]"), "{p:?}");
    }

    #[test]
    fn bands_match_devilnet() {
        assert_eq!(risk_band(0.95), "critical");
        assert_eq!(risk_band(0.85), "high");
        assert_eq!(risk_band(0.65), "medium");
        assert_eq!(risk_band(0.45), "low");
        assert_eq!(risk_band(0.1), "info");
    }
}
