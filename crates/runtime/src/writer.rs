//! The store writer: waits until every shard has answered for a batch, commits batches strictly
//! in order, grouping consecutive complete ones into one transaction that ends at a checkpoint,
//! and hands what it stored to the responders, the live stream and a scan's printer.

use crate::engine::{Sinks, WriterMsg};
use std::collections::BTreeMap;
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use tripline_detect::Output;
use tripline_event::Checkpoint;
use tripline_event::{Alert, Event, StateRecord, Text};
use tripline_store::{AlertStore, Commit, StoreError};

struct Pending {
    replies: usize,
    positions: Option<Vec<Checkpoint>>,
    checkpoint: bool,
    read: Option<std::time::Instant>,
    outputs: Vec<Output>,
    events: Option<(Arc<Vec<Event>>, usize)>,
}

/// What one transaction writes: the union of consecutive complete batches. An alert that grew in
/// several of them is written once, in its latest state; a source's position is its last one.
#[derive(Default)]
struct Group {
    alerts: Vec<Alert>,
    index: rustc_hash::FxHashMap<Text, usize>,
    state: Vec<StateRecord>,
    /// Alerts closed in these batches (after their last state above, if any).
    closed: Vec<Text>,
    positions: BTreeMap<String, Checkpoint>,
    batches: usize,
    /// The last batch added was a checkpoint: the group may be committed.
    complete: bool,
    /// When each batch's first event was read.
    read: Vec<std::time::Instant>,
    /// Events to store with the group (batch, how many).
    events: Vec<(Arc<Vec<Event>>, usize)>,
}

impl Group {
    fn add(&mut self, p: Pending) {
        self.batches += 1;
        self.complete = p.checkpoint;
        self.read.extend(p.read);
        self.events.extend(p.events);
        for o in p.outputs {
            match o {
                Output::Alert(a) => match self.index.get(&a.id) {
                    Some(&i) if same_alert(&self.alerts[i], &a) => self.alerts[i] = a,
                    // another alert with this id (rare: one second, hashes met): look for it
                    Some(_) => match self.alerts.iter().position(|b| same_alert(b, &a)) {
                        Some(j) => self.alerts[j] = a,
                        None => self.alerts.push(a),
                    },
                    None => {
                        self.index.insert(a.id.clone(), self.alerts.len());
                        self.alerts.push(a);
                    }
                },
                Output::State(r) => self.state.push(r),
                Output::Closed(id) => self.closed.push(id),
            }
        }
        for pos in p.positions.unwrap_or_default() {
            self.positions.insert(pos.source.clone(), pos);
        }
    }
}

/// Whether two states are of one alert: the store's test too (an id names a rule and entity).
fn same_alert(a: &Alert, b: &Alert) -> bool {
    a.id == b.id && a.rule == b.rule && a.entity == b.entity
}

/// Most batches, and alerts, one transaction takes: bounds the transaction and the memory held
/// for it while keeping commits rare when the reader is far ahead (a scan), and one batch per
/// commit when it is not (live).
const MAX_GROUP_BATCHES: usize = 64;
const MAX_GROUP_ALERTS: usize = 2048;

#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct WriterStats {
    pub(crate) alerts: u64,
    pub(crate) commits: u64,
    pub(crate) commit_seconds: f64,
}

/// How many events may still be stored with their batches: `rate` per second, at most one
/// second's worth saved up. A flood cannot make timelines cost the pipeline more than that.
pub(crate) struct EventBudget {
    rate: f64,
    left: f64,
    at: std::time::Instant,
}

impl EventBudget {
    pub(crate) fn new(rate: u32) -> EventBudget {
        EventBudget {
            rate: rate as f64,
            left: rate as f64,
            at: std::time::Instant::now(),
        }
    }

    /// Of `wanted` events, how many may be stored now (and are spent).
    pub(crate) fn grant(&mut self, wanted: usize) -> usize {
        let now = std::time::Instant::now();
        self.left =
            (self.left + now.duration_since(self.at).as_secs_f64() * self.rate).min(self.rate);
        self.at = now;
        let n = (self.left as usize).min(wanted);
        self.left -= n as f64;
        n
    }
}

/// Live, a transaction the store refused is tried again, with backoff (0.25 s doubling to
/// 5 s), until it is stored or the pipeline stops ([`StoreHealth::give_up`]). Meanwhile the
/// writer takes nothing new, so the bounded queues make reading wait: the unsaved work is
/// this group and what the queues hold. Said at once in the log and on `/readyz`.
fn retry(
    store: &mut dyn AlertStore,
    commit: &Commit<'_>,
    first: Result<tripline_store::Committed, StoreError>,
    sinks: &Sinks,
) -> Result<tripline_store::Committed, StoreError> {
    let mut result = first;
    let mut wait = std::time::Duration::from_millis(250);
    let mut failures = 0u64;
    let mut said = std::time::Instant::now();
    loop {
        let e = match result {
            Ok(c) => {
                if failures > 0 {
                    sinks.store_health.set(None);
                    tracing::info!(
                        failures,
                        "the store takes writes again; what waited is stored"
                    );
                }
                return Ok(c);
            }
            Err(e) => e,
        };
        failures += 1;
        if let Some(m) = &sinks.metrics {
            m.commit_failures.inc();
        }
        if failures == 1 {
            sinks.store_health.set(Some(e.to_string()));
            tracing::error!(
                error = %e,
                "the store refused a transaction: nothing is stored until it takes writes \
                 again; reading waits (nothing read is lost), retrying"
            );
        } else if said.elapsed() >= std::time::Duration::from_secs(60) {
            said = std::time::Instant::now();
            tracing::warn!(error = %e, failures, "the store still refuses writes; retrying");
        }
        if sinks.store_health.giving_up() {
            return Err(e);
        }
        // sleep in short steps, so that a stop is seen soon
        let until = std::time::Instant::now() + wait;
        while std::time::Instant::now() < until && !sinks.store_health.giving_up() {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        wait = (wait * 2).min(std::time::Duration::from_secs(5));
        result = store.commit(commit);
    }
}

pub(crate) fn writer_loop(
    store: &mut dyn AlertStore,
    sinks: &mut Sinks,
    rx: Receiver<WriterMsg>,
    shards: usize,
    scan: bool,
    done: std::sync::mpsc::Sender<Arc<Vec<Event>>>,
) -> Result<WriterStats, StoreError> {
    let mut pending: BTreeMap<u64, Pending> = BTreeMap::new();
    let mut next = 1u64;
    let mut written = WriterStats::default();
    let mut err: Option<StoreError> = None;
    let mut group = Group::default();
    let mut open = true;
    // with a `finals` sink: alerts stored but not closed yet, by id
    let mut held: rustc_hash::FxHashMap<Text, Alert> = Default::default();
    // with a `finals` sink: detector id → stored id, for the alerts the store moved
    let mut moved: rustc_hash::FxHashMap<Text, Text> = Default::default();
    while open {
        // block for one message, then take whatever else is already queued: group commit
        let mut msg = rx.recv().ok();
        if msg.is_none() {
            open = false;
        }
        while let Some(m) = msg.take() {
            let (seq, positions, checkpoint, read, outputs, reply, events) = match m {
                WriterMsg::Batch {
                    seq,
                    positions,
                    checkpoint,
                    read,
                    events,
                } => (
                    seq,
                    Some(positions),
                    checkpoint,
                    Some(read),
                    vec![],
                    0,
                    events,
                ),
                WriterMsg::Shard { seq, outputs } => (seq, None, false, None, outputs, 1, None),
            };
            let p = pending.entry(seq).or_insert(Pending {
                replies: 0,
                positions: None,
                checkpoint: false,
                read: None,
                outputs: vec![],
                events: None,
            });
            p.replies += reply;
            p.outputs.extend(outputs);
            if positions.is_some() {
                p.positions = positions;
                p.checkpoint = checkpoint;
                p.read = read;
                p.events = events;
            }
            // collect every complete batch, in order
            while pending
                .get(&next)
                .is_some_and(|p| p.replies >= shards && p.positions.is_some())
            {
                if let Some(p) = pending.remove(&next) {
                    group.add(p);
                }
                next += 1;
            }
            // a group ends at a checkpoint: its positions then cover everything it stores
            let full = group.batches >= MAX_GROUP_BATCHES || group.alerts.len() >= MAX_GROUP_ALERTS;
            if !group.complete || !full {
                // a scan waits for a full group (nobody watches latency); live takes what is there
                msg = if scan {
                    let m = rx.recv().ok();
                    open = m.is_some();
                    m
                } else {
                    rx.try_recv().ok()
                };
            }
        }
        if group.batches == 0 || (!group.complete && open) {
            continue;
        }
        let mut g = std::mem::take(&mut group);
        if let Some(m) = &sinks.metrics {
            m.batches_in_flight.dec_by(g.batches as i64);
        }
        if err.is_some() {
            continue; // keep draining so the reader never blocks on a dead writer
        }
        let positions: Vec<Checkpoint> = g.positions.into_values().collect();
        if g.alerts.is_empty() && g.state.is_empty() && positions.is_empty() && g.events.is_empty()
        {
            report_closed(sinks, &mut held, &mut moved, &g.closed);
            continue;
        }
        let t = std::time::Instant::now();
        let commit = Commit {
            alerts: &g.alerts,
            state: &g.state,
            checkpoints: &positions,
            events: &g.events,
        };
        let mut result = store.commit(&commit);
        if !scan {
            result = retry(store, &commit, result, sinks);
        }
        match result {
            Ok(c) => {
                if let Some(m) = &sinks.metrics {
                    m.events_stored.inc_by(c.events as u64);
                }
                // an alert stored under another id is reported under that one
                for (i, id) in c.moved {
                    let own = std::mem::replace(&mut g.alerts[i].id, id);
                    if sinks.finals.is_some() {
                        moved.insert(own, g.alerts[i].id.clone());
                    }
                }
                if !c.crowded.is_empty() {
                    tracing::warn!(
                        alerts = c.crowded.len(),
                        probes = tripline_store::ID_PROBES,
                        "alerts not stored: their id and the ids after it hold other alerts of \
                         the same second"
                    );
                    // not stored, so not reported either (their id is another alert's)
                    for &i in c.crowded.iter().rev() {
                        g.alerts.remove(i);
                    }
                }
            }
            Err(e) => {
                err = Some(e);
                continue;
            }
        }
        // stored: hand the batches back to the reader, which allocated them, to free
        for (events, _) in g.events {
            let _ = done.send(events);
        }
        let took = t.elapsed().as_secs_f64();
        written.commit_seconds += took;
        written.alerts += g.alerts.len() as u64;
        written.commits += 1;
        if let Some(m) = &sinks.metrics {
            m.commits.inc();
            m.commit_seconds.observe(took);
            m.commit_alerts.observe(g.alerts.len() as f64);
            for r in &g.read {
                m.latency_seconds.observe(r.elapsed().as_secs_f64());
            }
            for a in &g.alerts {
                m.alert_written(&a.rule, a.severity.as_str());
            }
        }
        if let Some(f) = sinks.on_commit.as_mut() {
            g.alerts.iter().for_each(&mut *f);
        }
        if sinks.finals.is_some() {
            // a scan keeps the alerts until they close: the responders get copies
            if !g.alerts.is_empty() && !sinks.respond.is_empty() {
                sinks.respond.dispatch(&g.alerts.to_vec().into());
            }
            held.extend(g.alerts.into_iter().map(|a| (a.id.clone(), a)));
            report_closed(sinks, &mut held, &mut moved, &g.closed);
        } else if !g.alerts.is_empty() && !sinks.respond.is_empty() {
            // live: the responders share the alerts themselves (no copy)
            sinks.respond.dispatch(&g.alerts.into());
        }
    }
    match err {
        Some(e) => Err(e),
        None => {
            if let Some(f) = sinks.finals.as_mut() {
                let mut rest: Vec<Alert> = held.into_values().collect();
                rest.sort_unstable_by(|a, b| (a.last_seen, &a.id).cmp(&(b.last_seen, &b.id)));
                rest.iter().for_each(f);
            }
            Ok(written)
        }
    }
}

/// Hand the alerts that closed to the `finals` sink, in their last stored state. `closed` has
/// the detectors' ids; `moved` maps those the store moved to the id they are stored (held) under.
fn report_closed(
    sinks: &mut Sinks,
    held: &mut rustc_hash::FxHashMap<Text, Alert>,
    moved: &mut rustc_hash::FxHashMap<Text, Text>,
    closed: &[Text],
) {
    if let Some(f) = sinks.finals.as_mut() {
        for id in closed {
            let id = moved.remove(id).unwrap_or_else(|| id.clone());
            if let Some(a) = held.remove(&id) {
                f(&a);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tripline_event::{Entity, Severity, Timestamp};

    fn alert(id: &str, ip: &str, count: u64) -> Alert {
        Alert {
            id: id.into(),
            rule: "ssh.bruteforce".into(),
            severity: Severity::High,
            score: 0.8,
            entity: Entity::Ip(ip.parse().unwrap()),
            src_ip: ip.parse().ok(),
            user: None,
            host: "h".into(),
            sensor: "files".into(),
            techniques: tripline_event::Techniques::Borrowed(&[]),
            count,
            first_seen: Timestamp(1),
            last_seen: Timestamp(2),
            explanation: String::new(),
            evidence: vec![],
            detail: None,
        }
    }

    #[test]
    fn an_alert_the_store_moves_is_reported_under_its_stored_id_when_it_closes() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = tripline_store::Store::open(&dir.path().join("t.db")).unwrap();
        let id = "0000000100000001";
        // a different alert already holds the id
        store
            .commit(&[alert(id, "192.0.2.1", 5)], &[], &[])
            .unwrap();
        let finals = Arc::new(std::sync::Mutex::new(vec![]));
        let (committed, got) = (finals.clone(), finals.clone());
        let mut sinks = Sinks {
            on_commit: Some(Box::new(move |a: &Alert| {
                committed
                    .lock()
                    .unwrap()
                    .push(("stored", a.id.clone(), a.count))
            })),
            finals: Some(Box::new(move |a: &Alert| {
                got.lock().unwrap().push(("closed", a.id.clone(), a.count))
            })),
            ..Sinks::default()
        };
        let (tx, rx) = std::sync::mpsc::sync_channel(8);
        let (done, _back) = std::sync::mpsc::channel();
        let writer = std::thread::spawn(move || {
            writer_loop(&mut store, &mut sinks, rx, 1, false, done).map(|_| store)
        });
        for (seq, outputs) in [
            (1, vec![Output::Alert(alert(id, "192.0.2.2", 5))]),
            (
                2,
                vec![
                    Output::Alert(alert(id, "192.0.2.2", 6)),
                    Output::Closed(id.into()),
                ],
            ),
        ] {
            tx.send(WriterMsg::Batch {
                seq,
                positions: vec![],
                checkpoint: true,
                read: std::time::Instant::now(),
                events: None,
            })
            .unwrap();
            tx.send(WriterMsg::Shard { seq, outputs }).unwrap();
        }
        // the close is reported while the writer runs, not only by the flush at its end
        let moved = Text::from("0000000100000002");
        let closed = ("closed", moved.clone(), 6);
        let waited = std::time::Instant::now();
        while !finals.lock().unwrap().contains(&closed) {
            assert!(
                waited.elapsed() < Duration::from_secs(10),
                "never reported: {:?}",
                finals.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        drop(tx);
        let store = writer.join().unwrap().unwrap();
        let seen = finals.lock().unwrap().clone();
        assert_eq!(seen.last(), Some(&closed), "{seen:?}");
        assert!(seen.contains(&("stored", moved, 6)), "{seen:?}");
        assert_eq!(store.alert_count().unwrap(), 2);
    }

    #[test]
    fn a_group_keeps_the_latest_state_of_each_alert_also_when_two_share_an_id() {
        let mut g = Group::default();
        let outputs = [
            alert("0000000100000001", "192.0.2.1", 5),
            alert("0000000100000001", "192.0.2.2", 5),
            alert("0000000100000002", "192.0.2.3", 5),
            alert("0000000100000001", "192.0.2.2", 6),
            alert("0000000100000001", "192.0.2.1", 7),
        ];
        g.add(Pending {
            replies: 1,
            positions: None,
            checkpoint: true,
            read: None,
            outputs: outputs.into_iter().map(Output::Alert).collect(),
            events: None,
        });
        let got: Vec<(Text, Entity, u64)> = g
            .alerts
            .iter()
            .map(|a| (a.id.clone(), a.entity.clone(), a.count))
            .collect();
        let ip = |s: &str| Entity::Ip(s.parse().unwrap());
        assert_eq!(
            got,
            vec![
                ("0000000100000001".into(), ip("192.0.2.1"), 7),
                ("0000000100000001".into(), ip("192.0.2.2"), 6),
                ("0000000100000002".into(), ip("192.0.2.3"), 5),
            ]
        );
    }
}
