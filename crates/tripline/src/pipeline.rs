//! The runtime: batches of events go from the reader to `parallel_processing` detector shards
//! (threads, state sharded by entity), and their alerts to one store writer, which commits each
//! batch's alerts together with the source positions the batch ended at.
//!
//! Queues are bounded (`max_queue_size` events): when detection or the store falls behind, the
//! reader blocks, it never drops. The writer commits batches strictly in order, so a stored
//! position always means "everything before this is in the store".

use crate::config::Config;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use tripline_detect::{DetectConfig, DetectStats, Detector, Output, Roles};
use tripline_event::net::Cidr;
use tripline_event::{Alert, Event, Line, SensorKind, SourcePos, Text, Timestamp};
use tripline_sensors::tail::{Poll, TailError, TailState, Tailer};
use tripline_sensors::{LineParser, TimeContext};
use tripline_store::{SourcePosition, Store, StoreError};

enum ShardMsg {
    /// A batch, shared by all shards, and which of its events this shard runs which rules on.
    Batch {
        seq: u64,
        events: Arc<Vec<Event>>,
        picks: Vec<(u32, Roles)>,
        /// Emit the alerts that changed (a checkpoint): the store then holds everything derived
        /// from this batch and the ones before it.
        flush: bool,
        /// Lines read before a restart, replayed to rebuild windows ([`Detector::set_warming`]).
        warm: bool,
        /// The last batch of the run: the anomaly stage closes every window.
        last: bool,
    },
}

enum WriterMsg {
    /// Sent by the reader: how many shard replies to wait for, and the positions to commit.
    Batch {
        seq: u64,
        positions: Vec<SourcePosition>,
        /// Whether the shards flush at this batch: only then may its positions be committed.
        checkpoint: bool,
        /// When its first event was read (end-to-end latency).
        read: std::time::Instant,
        /// The batch's events and how many of those that name an entity to store with it
        /// (`store.keep_events`, live, within `store.max_events_per_second`).
        events: Option<(Arc<Vec<Event>>, usize)>,
    },
    Shard {
        seq: u64,
        outputs: Vec<Output>,
    },
}

/// How the store writer groups batches into transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Watching live: commit as soon as a batch is complete (latency), grouping only what is
    /// already queued.
    Live,
    /// Scanning files: wait for a full group of batches before committing (throughput).
    Scan,
}

/// Totals reported when the pipeline stops.
#[derive(Debug, Default, Clone)]
pub struct RunStats {
    pub detect: DetectStats,
    /// Batches sent through the pipeline.
    pub batches: u64,
    /// Events pushed (each is offered to every shard; `detect.events` sums those offers).
    pub events: u64,
    pub alerts_written: u64,
    /// Store transactions committed, and the time spent in them.
    pub commits: u64,
    pub commit_seconds: f64,
    pub tracked_entities: usize,
}

/// A function alerts are handed to, on the store writer's thread.
pub type AlertSink = Box<dyn FnMut(&Alert) + Send>;

/// Where alerts go besides the store.
#[derive(Default)]
pub struct Sinks {
    /// The responders (stdout JSON, `stream.jsonl`, incident reports), each on its own queue:
    /// handed every commit's alerts without waiting.
    pub respond: tripline_respond::Stage,
    /// Each alert once, in its final state, after it is stored: when it closes (cooldown passed
    /// or evicted), and every alert still open when the pipeline stops, oldest first. What a
    /// scan prints, without reading the store back.
    pub finals: Option<AlertSink>,
    /// Each alert right after the transaction that stored it (the API's live stream).
    pub on_commit: Option<AlertSink>,
    /// The anomaly model: behaviour windows are scored as they close ([`anomaly_model`]).
    pub anomaly: Option<Arc<tripline_anomaly::Model>>,
    /// Counters every stage updates (`/metrics`).
    pub metrics: Option<Arc<crate::metrics::Metrics>>,
}

pub struct Engine {
    shards: Vec<SyncSender<ShardMsg>>,
    shard_handles: Vec<JoinHandle<(DetectStats, usize)>>,
    writer_tx: SyncSender<WriterMsg>,
    writer: JoinHandle<Result<WriterStats, StoreError>>,
    seq: u64,
    events: u64,
    /// Batches the shards are done with come back here, so that events are freed by the thread
    /// that allocated them (cross-thread frees are what make allocators slow and bloated).
    done_rx: Receiver<Arc<Vec<Event>>>,
    batch: Vec<Event>,
    /// Per shard: (index in `batch`, roles) of the events it owns a key of.
    picks: Vec<Vec<(u32, Roles)>>,
    batch_size: usize,
    positions: BTreeMap<String, SourcePosition>,
    /// Batches sent since the last checkpoint.
    unflushed: u64,
    /// The batch being filled holds warm-up events ([`FileSource::warm_up`]).
    warm: bool,
    /// When the first event of the batch being filled was read.
    first_read: Option<std::time::Instant>,
    metrics: Option<Arc<crate::metrics::Metrics>>,
    /// Events that may still be stored with their batches (live, `store.keep_events`).
    event_budget: Option<EventBudget>,
    /// The anomaly stage: its queue and thread, when a model is loaded.
    anomaly: Option<(SyncSender<ShardMsg>, JoinHandle<()>)>,
    /// The batch being sent is the run's last.
    last: bool,
}

/// How long the responders may take at the stop to finish what they hold.
const RESPOND_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Most batches between checkpoints while a source has a backlog (a scan, a flood, catching up
/// after a restart). An alert that grows in every batch (a distributed attack, a flood) is then
/// rendered and written once per 8 batches instead of once per batch; positions are committed
/// only at checkpoints, so a crash replays at most these batches. A source that has caught up
/// (live traffic) checkpoints every batch: no latency is added.
const BACKLOG_CHECKPOINT_BATCHES: u64 = 8;

/// The allowlist: configured blocks, plus loopback and this host's addresses with `ignore_self`.
pub fn allowlist(cfg: &DetectConfig) -> Vec<Cidr> {
    let mut out: Vec<Cidr> = cfg
        .allowlist
        .iter()
        .filter_map(|c| Cidr::parse(c).ok())
        .collect();
    if cfg.ignore_self {
        out.push(Cidr {
            addr: "127.0.0.0".parse().expect("literal"),
            prefix: 8,
        });
        out.push(Cidr {
            addr: "::1".parse().expect("literal"),
            prefix: 128,
        });
        if let Ok(ifs) = if_addrs::get_if_addrs() {
            for i in ifs {
                let ip = i.ip();
                out.push(Cidr {
                    addr: ip,
                    prefix: if ip.is_ipv4() { 32 } else { 128 },
                });
            }
        }
    }
    out
}

impl Engine {
    /// Start shards and the writer. `restore` are alerts still open from an earlier run;
    /// `known` the stored (user, network) pairs.
    pub fn start(
        cfg: &Config,
        mut store: Store,
        mut sinks: Sinks,
        restore: Vec<Alert>,
        known: Vec<(String, String, Timestamp)>,
        mode: Mode,
    ) -> Engine {
        let scan = mode == Mode::Scan;
        let metrics = sinks.metrics.clone();
        let n = cfg.shards();
        let queue_batches = (cfg.max_queue_size / cfg.batch_size.max(1)).max(1);
        let dcfg = Arc::new(cfg.detect.clone());
        let allow = allowlist(&cfg.detect);
        let (writer_tx, writer_rx) = sync_channel::<WriterMsg>(queue_batches * (n + 1));
        let mut shards = vec![];
        let mut shard_handles = vec![];
        let (done_tx, done_rx) = std::sync::mpsc::channel::<Arc<Vec<Event>>>();
        for i in 0..n {
            let (tx, rx) = sync_channel::<ShardMsg>(queue_batches);
            let mut det = Detector::new(dcfg.clone(), allow.clone(), i, n);
            det.report_closed(sinks.finals.is_some());
            for (user, subnet, ts) in &known {
                if let Some(ip) = subnet.split('/').next().and_then(|a| a.parse().ok()) {
                    det.learn_source(user, ip, *ts);
                }
            }
            for a in &restore {
                det.restore_alert(a.clone());
            }
            let wtx = writer_tx.clone();
            let done = done_tx.clone();
            let m = metrics.clone();
            shard_handles.push(
                std::thread::Builder::new()
                    .name(format!("detect-{i}"))
                    .spawn(move || shard_loop(det, rx, wtx, done, m, i))
                    .expect("spawn shard thread"),
            );
            shards.push(tx);
        }
        let anomaly = sinks.anomaly.take().map(|model| {
            let (tx, rx) = sync_channel::<ShardMsg>(queue_batches);
            let stage = AnomalyStage {
                model,
                windows: tripline_anomaly::features::Extractor::new(
                    cfg.anomaly.feature_window_minutes,
                    cfg.detect.max_tracked_entities,
                ),
                threshold: cfg.anomaly.anomaly_threshold,
            };
            let (wtx, done) = (writer_tx.clone(), done_tx.clone());
            let handle = std::thread::Builder::new()
                .name("anomaly".into())
                .spawn(move || stage.run(rx, wtx, done))
                .expect("spawn anomaly thread");
            (tx, handle)
        });
        let replies = n + anomaly.is_some() as usize;
        let writer_done = done_tx.clone();
        let writer = std::thread::Builder::new()
            .name("store".into())
            .spawn(move || {
                let written = writer_loop(
                    &mut store,
                    &mut sinks,
                    writer_rx,
                    replies,
                    scan,
                    writer_done,
                );
                // what the responders hold is theirs to finish, within a grace time
                let busy = std::mem::take(&mut sinks.respond).finish(RESPOND_GRACE);
                if !busy.is_empty() {
                    eprintln!(
                        "tripline: warning: responder(s) {} still busy at the stop; left behind",
                        busy.join(", ")
                    );
                }
                written
            })
            .expect("spawn writer thread");
        Engine {
            shards,
            shard_handles,
            writer_tx,
            writer,
            seq: 0,
            events: 0,
            done_rx,
            batch: Vec::with_capacity(cfg.batch_size),
            picks: vec![vec![]; n],
            batch_size: cfg.batch_size.max(1),
            positions: BTreeMap::new(),
            unflushed: 0,
            warm: false,
            first_read: None,
            metrics,
            event_budget: (mode == Mode::Live && cfg.store.keep_events)
                .then(|| EventBudget::new(cfg.store.max_events_per_second)),
            anomaly,
            last: false,
        }
    }

    /// Switch between warm-up events (rebuild detection state, alert nothing) and normal ones;
    /// what is queued is sent first, so a batch is one or the other.
    pub fn set_warm(&mut self, on: bool) {
        if self.warm != on {
            self.send();
            self.warm = on;
        }
    }

    /// Queue one event. A full batch is sent first, so the positions recorded so far (which
    /// cover exactly the events already queued) travel with the events they cover.
    pub fn push(&mut self, ev: Event) {
        if self.batch.len() >= self.batch_size {
            self.send();
        }
        self.hold(ev);
    }

    /// Queue one event without ever sending: the caller sends once it has recorded the position
    /// that covers it (a file source, whose position is known only after the read).
    pub fn hold(&mut self, ev: Event) {
        self.events += 1;
        if self.first_read.is_none() {
            self.first_read = Some(std::time::Instant::now());
        }
        // route once here: each shard gets the indices of the events it owns a key of
        let n = self.picks.len();
        let owners = tripline_detect::owners(&ev, n);
        let idx = self.batch.len() as u32;
        for (shard, picks) in self.picks.iter_mut().enumerate() {
            let roles = Roles::of(owners, shard);
            if !roles.is_empty() {
                picks.push((idx, roles));
            }
        }
        self.batch.push(ev);
    }

    /// Record a source position reached by the events pushed so far.
    pub fn position(&mut self, pos: SourcePosition) {
        self.positions.insert(pos.name.clone(), pos);
    }

    /// Send what is queued (also when only positions moved) as a checkpoint; nothing when
    /// nothing is queued and every batch sent was checkpointed.
    pub fn send(&mut self) {
        if self.batch.is_empty() && self.positions.is_empty() && self.unflushed == 0 {
            return;
        }
        self.send_as(true);
    }

    /// Send what is queued while the source has more to read: a checkpoint only every
    /// `BACKLOG_CHECKPOINT_BATCHES` (8).
    pub fn send_backlogged(&mut self) {
        self.send_as(false);
    }

    /// When the sources have nothing more to read: a checkpoint if batches were sent since the
    /// last one, so their alerts and positions are committed now.
    pub fn settle(&mut self) {
        if self.unflushed > 0 {
            self.send_as(true);
        }
    }

    /// Send what is queued; `checkpoint` makes it one whatever the cadence.
    fn send_as(&mut self, checkpoint: bool) {
        // free the batches every shard has finished (the last reference drops here)
        while let Ok(done) = self.done_rx.try_recv() {
            drop(done);
        }
        if self.batch.is_empty() && self.positions.is_empty() && !checkpoint {
            return;
        }
        self.seq += 1;
        self.unflushed += 1;
        let flush = checkpoint || self.unflushed >= BACKLOG_CHECKPOINT_BATCHES;
        if flush {
            self.unflushed = 0;
        }
        let events = Arc::new(std::mem::replace(
            &mut self.batch,
            Vec::with_capacity(self.batch_size),
        ));
        let positions = std::mem::take(&mut self.positions).into_values().collect();
        // The writer outlives the reader; a send error means it died, which `finish` reports.
        if let Some(m) = &self.metrics {
            m.batches_in_flight.inc();
        }
        let stored = self.events_to_store(&events);
        let _ = self.writer_tx.send(WriterMsg::Batch {
            seq: self.seq,
            positions,
            checkpoint: flush,
            read: self
                .first_read
                .take()
                .unwrap_or_else(std::time::Instant::now),
            events: stored,
        });
        for (s, picks) in self.shards.iter().zip(self.picks.iter_mut()) {
            let _ = s.send(ShardMsg::Batch {
                seq: self.seq,
                events: events.clone(),
                picks: std::mem::take(picks),
                flush,
                warm: self.warm,
                last: self.last,
            });
        }
        if let Some((tx, _)) = &self.anomaly {
            let _ = tx.send(ShardMsg::Batch {
                seq: self.seq,
                events: events.clone(),
                picks: vec![],
                flush,
                warm: self.warm,
                last: self.last,
            });
        }
    }

    /// The batch and how many of its events to store with it, within the budget; the rest are
    /// counted. None in scans, in warm-up (it replays what an earlier run stored) and when the
    /// budget is spent (the writer then holds no events at all).
    fn events_to_store(&mut self, events: &Arc<Vec<Event>>) -> Option<(Arc<Vec<Event>>, usize)> {
        let budget = self.event_budget.as_mut().filter(|_| !self.warm)?;
        let named = events.iter().filter(|e| Store::names_entity(e)).count();
        let n = budget.grant(named);
        if let Some(m) = &self.metrics {
            m.events_not_stored.inc_by((named - n) as u64);
        }
        (n > 0).then(|| (events.clone(), n))
    }

    /// Flush, stop every thread, and return totals (or the store's error).
    pub fn finish(mut self) -> Result<RunStats, StoreError> {
        // a last checkpoint, so every shard flushes (and the anomaly stage closes its windows)
        self.last = true;
        if self.unflushed > 0
            || !self.batch.is_empty()
            || !self.positions.is_empty()
            || self.anomaly.is_some()
        {
            self.send_as(true);
        }
        let batches = self.seq;
        drop(self.shards);
        if let Some((tx, handle)) = self.anomaly.take() {
            drop(tx);
            let _ = handle.join();
        }
        let mut stats = RunStats {
            batches,
            ..RunStats::default()
        };
        for h in self.shard_handles {
            if let Ok((d, tracked)) = h.join() {
                stats.detect.events += d.events;
                stats.detect.allowlisted += d.allowlisted;
                stats.detect.evictions += d.evictions;
                stats.detect.expired += d.expired;
                stats.detect.alerts_opened += d.alerts_opened;
                stats.detect.alerts_updated += d.alerts_updated;
                stats.tracked_entities += tracked;
            }
        }
        drop(self.writer_tx);
        stats.events = self.events;
        let w = self.writer.join().unwrap_or(Ok(WriterStats::default()))?;
        stats.alerts_written = w.alerts;
        stats.commits = w.commits;
        stats.commit_seconds = w.commit_seconds;
        Ok(stats)
    }
}

/// Loads the anomaly model `anomaly.model` names (it must exist) or the one in the data
/// directory (when there is one): None without a model. A model file that cannot be used is an
/// error naming it.
pub fn anomaly_model(cfg: &Config) -> anyhow::Result<Option<Arc<tripline_anomaly::Model>>> {
    let path = cfg.model_path();
    if cfg.anomaly.model.is_empty() && !path.exists() {
        return Ok(None);
    }
    let names = tripline_anomaly::features::FEATURES;
    let model = tripline_anomaly::Model::load(&path, Some(&names))
        .map_err(|e| anyhow::anyhow!("anomaly.model: {e}"))?;
    Ok(Some(Arc::new(model)))
}

/// Behaviour windows and the model that scores them as they close; answers the writer like a
/// shard, so its alerts are committed with the batch that closed their window.
struct AnomalyStage {
    model: Arc<tripline_anomaly::Model>,
    windows: tripline_anomaly::features::Extractor,
    threshold: f64,
}

impl AnomalyStage {
    fn run(
        mut self,
        rx: Receiver<ShardMsg>,
        wtx: SyncSender<WriterMsg>,
        done: std::sync::mpsc::Sender<Arc<Vec<Event>>>,
    ) {
        while let Ok(ShardMsg::Batch {
            seq,
            events,
            flush,
            warm,
            last,
            ..
        }) = rx.recv()
        {
            for ev in events.iter() {
                self.windows.push(ev);
            }
            self.windows.end_batch();
            let _ = done.send(events);
            let mut outputs = vec![];
            if flush {
                if last {
                    self.windows.finish();
                } else {
                    self.windows.close_idle();
                }
                let closed = self.windows.take_closed();
                // windows of a warm-up replay were judged by the run that read them first
                if !warm {
                    outputs = self.alerts(closed);
                }
            }
            if wtx.send(WriterMsg::Shard { seq, outputs }).is_err() {
                break;
            }
        }
    }

    /// An `anomaly` alert for each window that scores at or above the threshold.
    fn alerts(&self, closed: Vec<tripline_anomaly::features::ClosedWindow>) -> Vec<Output> {
        use tripline_anomaly::features::{readable, Key};
        if closed.is_empty() {
            return vec![];
        }
        let m = &self.model;
        let x = crate::train::matrix(&closed);
        let mut scores = vec![];
        m.forest.score_into(&x, &mut scores);
        let Some(rule) = tripline_detect::rule_info("anomaly") else {
            return vec![];
        };
        let mut out = vec![];
        for (w, raw) in closed.into_iter().zip(scores) {
            let calibrated = m.calibrated(raw);
            if calibrated < self.threshold {
                continue;
            }
            let band = tripline_anomaly::model::risk_band(calibrated);
            // devilnet's bands are severities, but for "normal" (a threshold set below 0.4)
            let severity =
                tripline_event::Severity::parse(band).unwrap_or(tripline_event::Severity::Low);
            let (entity, src_ip, user) = match &w.key {
                Key::Ip(ip) => (
                    tripline_event::Entity::Ip(*ip),
                    Some(*ip),
                    w.users.first().map(|u| Text::from(&**u)),
                ),
                Key::User(u) => (
                    tripline_event::Entity::User(u.to_string()),
                    None,
                    Some(Text::from(&**u)),
                ),
            };
            let unusual = m.explain(&w.row, 3);
            let features: Vec<tripline_anomaly::FeatureDetail> = unusual
                .iter()
                .map(|c| tripline_anomaly::FeatureDetail {
                    // the model was loaded with exactly FEATURES, so its columns are theirs
                    name: c.feature.clone(),
                    value: readable(c.index, c.value),
                    baseline_median: readable(c.index, c.baseline_median),
                })
                .collect();
            let why: Vec<String> = features
                .iter()
                .map(|f| {
                    format!(
                        "{} {:.1} (baseline median {:.1})",
                        f.name, f.value, f.baseline_median
                    )
                })
                .collect();
            let percentile = m.baseline_fraction(raw) * 100.0;
            let explanation = format!(
                "{} behaved unlike the baseline in the {}-minute window from {}: anomaly score {:.2} \
                 (raw {:.3}, above {:.1} % of the training windows), risk {band}; most unusual: {}",
                entity.value(),
                (w.end.0 - w.start.0) / 60_000_000,
                w.start,
                calibrated,
                raw,
                percentile,
                why.join(", ")
            );
            out.push(Output::Alert(Alert {
                id: Alert::make_id(rule.id, &entity, w.start),
                rule: Text::const_new(rule.id),
                severity,
                score: calibrated as f32,
                entity,
                src_ip,
                user,
                host: w.host.clone(),
                sensor: w.sensor,
                // what the most unusual features point at (the rule itself names none)
                techniques: tripline_event::Techniques::Borrowed(
                    tripline_detect::ANOMALY_TECHNIQUES[tripline_anomaly::features::technique_bits(
                        unusual.iter().map(|c| c.index),
                    )],
                ),
                count: w.events as u64,
                first_seen: w.first_seen,
                last_seen: w.last_seen,
                explanation,
                evidence: w.evidence,
                detail: Some(Box::new(
                    tripline_anomaly::AnomalyDetail {
                        raw_score: raw,
                        percentile,
                        band: band.to_string(),
                        features,
                    }
                    .to_detail(),
                )),
            }));
        }
        out
    }
}

fn shard_loop(
    mut det: Detector,
    rx: Receiver<ShardMsg>,
    wtx: SyncSender<WriterMsg>,
    done: std::sync::mpsc::Sender<Arc<Vec<Event>>>,
    metrics: Option<Arc<crate::metrics::Metrics>>,
    shard: usize,
) -> (DetectStats, usize) {
    let mut reported = DetectStats::default();
    while let Ok(ShardMsg::Batch {
        seq,
        events,
        picks,
        flush,
        warm,
        ..
    }) = rx.recv()
    {
        det.set_warming(warm);
        for (i, roles) in picks {
            if let Some(ev) = events.get(i as usize) {
                det.process_as(ev, roles);
            }
        }
        // evidence gets its own copies before the batch (and its read buffers) can be freed
        det.end_batch();
        // hand the batch back to be freed by the reader; if it is gone, free it here
        let _ = done.send(events);
        let outputs = if flush { det.flush() } else { vec![] };
        if let Some(m) = &metrics {
            let s = det.stats;
            m.shard(
                shard,
                det.tracked(),
                s.evictions - reported.evictions,
                s.expired - reported.expired,
            );
            reported = s;
        }
        if wtx.send(WriterMsg::Shard { seq, outputs }).is_err() {
            break;
        }
    }
    (det.stats, det.tracked())
}

struct Pending {
    replies: usize,
    positions: Option<Vec<SourcePosition>>,
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
    first_seen: Vec<(String, String, Timestamp)>,
    /// Alerts closed in these batches (after their last state above, if any).
    closed: Vec<Text>,
    positions: BTreeMap<String, SourcePosition>,
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
                Output::FirstSeen { user, subnet, ts } => self.first_seen.push((user, subnet, ts)),
                Output::Closed(id) => self.closed.push(id),
            }
        }
        for pos in p.positions.unwrap_or_default() {
            self.positions.insert(pos.name.clone(), pos);
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
struct WriterStats {
    alerts: u64,
    commits: u64,
    commit_seconds: f64,
}

/// How many events may still be stored with their batches: `rate` per second, at most one
/// second's worth saved up. A flood cannot make timelines cost the pipeline more than that.
struct EventBudget {
    rate: f64,
    left: f64,
    at: std::time::Instant,
}

impl EventBudget {
    fn new(rate: u32) -> EventBudget {
        EventBudget {
            rate: rate as f64,
            left: rate as f64,
            at: std::time::Instant::now(),
        }
    }

    /// Of `wanted` events, how many may be stored now (and are spent).
    fn grant(&mut self, wanted: usize) -> usize {
        let now = std::time::Instant::now();
        self.left =
            (self.left + now.duration_since(self.at).as_secs_f64() * self.rate).min(self.rate);
        self.at = now;
        let n = (self.left as usize).min(wanted);
        self.left -= n as f64;
        n
    }
}

fn writer_loop(
    store: &mut Store,
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
        let positions: Vec<SourcePosition> = g.positions.into_values().collect();
        if g.alerts.is_empty()
            && g.first_seen.is_empty()
            && positions.is_empty()
            && g.events.is_empty()
        {
            report_closed(sinks, &mut held, &mut moved, &g.closed);
            continue;
        }
        let t = std::time::Instant::now();
        match store.commit_with_events(&g.alerts, &g.first_seen, &positions, &g.events) {
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
                    eprintln!(
                        "tripline: warning: {} alert(s) not stored: their id and the ids after \
                         it, {} in all, hold other alerts of the same second",
                        c.crowded.len(),
                        tripline_store::ID_PROBES
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
        write_sinks(sinks, &g.alerts);
        if let Some(f) = sinks.on_commit.as_mut() {
            g.alerts.iter().for_each(&mut *f);
        }
        if sinks.finals.is_some() {
            held.extend(g.alerts.into_iter().map(|a| (a.id.clone(), a)));
            report_closed(sinks, &mut held, &mut moved, &g.closed);
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

fn write_sinks(sinks: &mut Sinks, alerts: &[Alert]) {
    if alerts.is_empty() || sinks.respond.is_empty() {
        return;
    }
    sinks.respond.dispatch(&alerts.to_vec().into());
}

/// One line of a file source as an event: Cowrie JSON or syslog (invalid Cowrie JSON counted
/// in `bad_lines`).
fn line_event(
    parser: &mut LineParser,
    cowrie: bool,
    host: &Arc<str>,
    bad_lines: &mut u64,
    (bytes, shared): (&[u8], Option<&Arc<str>>),
    observed: Timestamp,
    pos: SourcePos,
) -> Option<Event> {
    // a line inside the read's shared buffer is text already (the read was checked as a whole)
    let (shared, line) = match shared.and_then(|b| Some((b, Line::str_in(b, bytes)?))) {
        Some((buf, line)) => (Some(buf), std::borrow::Cow::Borrowed(line)),
        None => (None, tripline_sensors::decode_lossy(bytes)),
    };
    if !cowrie {
        return parser.event_in(shared, &line, observed, pos);
    }
    parser
        .cowrie_event_in(shared, &line, observed, pos, host)
        .unwrap_or_else(|_| {
            *bad_lines += 1;
            None
        })
}

/// Hand each line of the file at `path` to `f` (without its line ending, cut to
/// `MAX_RAW_BYTES`, invalid UTF-8 replaced), as `parse` and `train` read a whole file; returns
/// how many lines there were.
pub fn for_each_line(path: &std::path::Path, mut f: impl FnMut(&str)) -> std::io::Result<u64> {
    use std::io::BufRead;
    let file = std::fs::File::open(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("open {}: {e}", path.display())))?;
    let mut r = std::io::BufReader::with_capacity(1 << 20, file);
    let (mut buf, mut n) = (vec![], 0u64);
    loop {
        buf.clear();
        let read = r
            .read_until(b'\n', &mut buf)
            .map_err(|e| std::io::Error::new(e.kind(), format!("read {}: {e}", path.display())))?;
        if read == 0 {
            return Ok(n);
        }
        n += 1;
        let bytes = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        f(&tripline_sensors::decode_lossy(
            &bytes[..bytes.len().min(tripline_event::MAX_RAW_BYTES)],
        ));
    }
}

/// A followed file and how its lines become events: the one place where `once` and `run` turn
/// file bytes into pushed events and recorded positions.
pub struct FileSource {
    /// Key of the stored position: `file:/abs/path` or `cowrie:/abs/path`.
    pub name: String,
    pub tail: Tailer,
    parser: LineParser,
    cowrie: bool,
    host: Arc<str>,
    /// Cowrie lines that were not valid JSON events (counted and skipped).
    pub bad_lines: u64,
}

impl FileSource {
    /// The stored-position key of `path`.
    pub fn name_for(path: &Path, cowrie: bool) -> String {
        let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        format!(
            "{}:{}",
            if cowrie { "cowrie" } else { "file" },
            abs.display()
        )
    }

    /// Follow `path` from `saved` (or, never seen, from its start or end per `from_start`).
    pub fn open(
        path: &Path,
        cowrie: bool,
        tc: TimeContext,
        host: &str,
        saved: Option<&SourcePosition>,
        from_start: bool,
    ) -> Result<FileSource, TailError> {
        let state = saved.map(|s| TailState {
            dev: s.dev,
            ino: s.ino,
            offset: s.offset,
            head_hash: s.head_hash,
        });
        Ok(FileSource {
            name: FileSource::name_for(path, cowrie),
            tail: Tailer::open(path, state, from_start)?,
            parser: LineParser::new(tc, SensorKind::Files, host),
            cowrie,
            host: host.into(),
            bad_lines: 0,
        })
    }

    /// After resuming from a stored position, replay up to `budget` bytes before it as warm-up
    /// ([`Engine::set_warm`]): detection windows, sshd connection state and login history are
    /// rebuilt, nothing is alerted or counted twice. Without it an attack that straddles a
    /// restart starts from empty windows and may stay under its threshold. Returns the lines
    /// replayed; reading errors only shorten the warm-up.
    pub fn warm_up(&mut self, engine: &mut Engine, budget: u64, batch_size: usize) -> u64 {
        use std::io::{Read, Seek, SeekFrom};
        let end = self.tail.state().offset;
        if budget == 0 || end == 0 || !self.tail.is_open() {
            return 0;
        }
        let start = end.saturating_sub(budget);
        let Ok(mut f) = std::fs::File::open(self.tail.path()) else {
            return 0;
        };
        // the same file the tailer resumed in (a rotation meanwhile leaves nothing to warm)
        use std::os::unix::fs::MetadataExt;
        match f.metadata() {
            Ok(m) if m.ino() == self.tail.state().ino && m.len() >= end => {}
            _ => return 0,
        }
        if f.seek(SeekFrom::Start(start)).is_err() {
            return 0;
        }
        let mut r = f.take(end - start);
        let counted = self.parser.stats;
        let observed = Timestamp::now();
        engine.set_warm(true);
        // lines cut as the tailer cuts them; the first is partial when the budget starts mid-line
        let mut splitter = tripline_sensors::tail::LineSplitter::default();
        let mut buf = vec![0u8; tripline_sensors::tail::READ_BYTES];
        let (mut offset, mut n, mut queued) = (start, 0u64, 0usize);
        let mut skip_first = start > 0;
        let mut ignored_bad_lines = 0;
        let FileSource {
            parser,
            cowrie,
            host,
            ..
        } = self;
        loop {
            let read = match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(k) => k,
            };
            splitter.feed_shared(&buf[..read], &mut offset, &mut |bytes, shared, _| {
                if std::mem::take(&mut skip_first) {
                    return;
                }
                n += 1;
                let ev = line_event(
                    parser,
                    *cowrie,
                    host,
                    &mut ignored_bad_lines,
                    (bytes, shared),
                    observed,
                    SourcePos::default(),
                );
                if let Some(ev) = ev {
                    engine.hold(ev);
                    queued += 1;
                    if queued >= batch_size.max(1) {
                        engine.send();
                        queued = 0;
                    }
                }
            });
        }
        engine.set_warm(false);
        // warm-up lines were counted when they were first read
        self.parser.stats = counted;
        n
    }

    /// Its counters for the metrics.
    pub fn counts(&self) -> crate::metrics::SourceCounts {
        let p = self.parser.stats;
        crate::metrics::SourceCounts {
            lines: p.lines,
            bytes: p.bytes,
            events: p.events,
            unparsed: p.unparsed,
            truncated: p.truncated + self.tail.truncated(),
            parse_errors: self.bad_lines,
        }
    }

    pub fn is_cowrie(&self) -> bool {
        self.cowrie
    }

    /// Counters of the line parser (lines, events, unparsed, truncated).
    pub fn parser_stats(&self) -> tripline_sensors::ParseStats {
        self.parser.stats
    }

    /// Read what is new (at most `max_bytes`) into `engine` as one batch with the position
    /// reached. Keep `max_bytes` near `batch_size` lines: it bounds the batch.
    pub fn poll(
        &mut self,
        engine: &mut Engine,
        max_bytes: usize,
        eof_flush: bool,
    ) -> Result<Poll, TailError> {
        let observed = Timestamp::now();
        let FileSource {
            tail,
            parser,
            cowrie,
            host,
            bad_lines,
            ..
        } = self;
        let poll = tail.poll(max_bytes, eof_flush, &mut |bytes, shared, off| {
            let pos = SourcePos {
                source: 0,
                offset: off,
            };
            let ev = line_event(
                parser,
                *cowrie,
                host,
                bad_lines,
                (bytes, shared),
                observed,
                pos,
            );
            if let Some(ev) = ev {
                engine.hold(ev);
            }
        })?;
        // One read is one batch: its events leave together with the position after the last
        // byte read, so a stored position never lags the alerts derived before it (a lag would
        // count those lines twice after a crash) nor runs ahead of them (a line lost).
        if poll == Poll::Data {
            let st = self.tail.state();
            engine.position(SourcePosition {
                name: self.name.clone(),
                dev: st.dev,
                ino: st.ino,
                offset: st.offset,
                head_hash: st.head_hash,
                cursor: None,
            });
            if self.tail.backlog() {
                engine.send_backlogged();
            } else {
                engine.send();
            }
        }
        Ok(poll)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tripline_event::{Entity, SensorKind, Severity};

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
            sensor: SensorKind::Files,
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
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
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
