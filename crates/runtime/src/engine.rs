//! The router and the detection shards: batches of events go from the sources to
//! `parallel_processing` detector shards (threads, state sharded by entity), and their alerts
//! to one store writer ([`crate::writer`]), which commits each batch's alerts together with the
//! source positions the batch ended at.
//!
//! Queues are bounded (`max_queue_size` events): when detection or the store falls behind, the
//! reader blocks, it never drops. The writer commits batches strictly in order, so a stored
//! position always means "everything before this is in the store".

use crate::writer::{writer_loop, EventBudget, WriterStats};
use std::collections::BTreeMap;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use tripline_detect::{
    DetectConfig, DetectStats, Detector, DetectorSpec, Output, Placement, Roles, Sharding,
};
use tripline_event::net::Cidr;
use tripline_event::Checkpoint;
use tripline_event::{Alert, Event};
use tripline_sensors::source::{Batch, Emit};
use tripline_store::{AlertStore, Store, StoreError};

/// What the runtime needs of the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Events per batch (`batch_size`).
    pub batch_size: usize,
    /// Events that may wait between reading and detection (`max_queue_size`).
    pub max_queue_size: usize,
    /// Detection shards (threads).
    pub shards: usize,
    /// Store the events that name an entity with their batches, live (`store.keep_events`).
    pub keep_events: bool,
    /// At most this many per second (`store.max_events_per_second`).
    pub max_events_per_second: u32,
}

pub(crate) enum ShardMsg {
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

pub(crate) enum WriterMsg {
    /// Sent by the reader: how many shard replies to wait for, and the positions to commit.
    Batch {
        seq: u64,
        positions: Vec<Checkpoint>,
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
    /// Counters every stage updates (`/metrics`).
    pub metrics: Option<Arc<crate::metrics::Metrics>>,
    /// Whether the store takes the writer's transactions (`/readyz`), and when to stop trying.
    pub store_health: Arc<StoreHealth>,
}

/// Whether the store takes the writer's transactions. While it does not (read-only, immutable,
/// disk full), a live writer keeps the batch it could not store and tries again, with backoff,
/// and reading waits (the queues are bounded): nothing is lost and memory stays bounded; what
/// was read is stored once the store takes it, and `/readyz` says what is wrong meanwhile.
#[derive(Debug, Default)]
pub struct StoreHealth {
    error: std::sync::Mutex<Option<String>>,
    give_up: std::sync::atomic::AtomicBool,
}

impl StoreHealth {
    /// Why the store's latest transaction failed, while it keeps failing.
    pub fn error(&self) -> Option<String> {
        self.error.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn set(&self, error: Option<String>) {
        *self.error.lock().unwrap_or_else(|e| e.into_inner()) = error;
    }

    /// Stop retrying: the pipeline is stopping. What is not stored then is read again after a
    /// restart (its checkpoint was not stored either).
    pub fn give_up(&self) {
        self.give_up
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub(crate) fn giving_up(&self) -> bool {
        self.give_up.load(std::sync::atomic::Ordering::SeqCst)
    }
}

pub struct Engine {
    shards: Vec<SyncSender<ShardMsg>>,
    shard_handles: Vec<DetectionThread>,
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
    /// The key types the sharded detectors keep state on (the union of theirs).
    keys: Roles,
    /// Per shard, the roles of the event being routed (kept to reuse its allocation).
    roles: Vec<u8>,
    positions: BTreeMap<String, Checkpoint>,
    /// Batches sent since the last checkpoint.
    unflushed: u64,
    /// The batch being filled holds warm-up events (a source's replay before its checkpoint).
    warm: bool,
    /// When the first event of the batch being filled was read.
    first_read: Option<std::time::Instant>,
    metrics: Option<Arc<crate::metrics::Metrics>>,
    /// Events that may still be stored with their batches (live, `store.keep_events`).
    event_budget: Option<EventBudget>,
    /// The detectors that see every event: each one's queue and thread.
    whole: Vec<(SyncSender<ShardMsg>, DetectionThread)>,
    /// The batch being sent is the run's last.
    last: bool,
}

/// How long the responders may take at the stop to finish what they hold.
pub(crate) const RESPOND_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

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
    /// Start the detectors (those sharded by key on `shards` threads, each of the others on
    /// one of its own) and the writer.
    pub fn start(
        cfg: &Settings,
        mut store: Box<dyn AlertStore>,
        mut sinks: Sinks,
        detectors: Vec<DetectorSpec>,
        mode: Mode,
    ) -> Engine {
        let scan = mode == Mode::Scan;
        let metrics = sinks.metrics.clone();
        let n = cfg.shards.max(1);
        let queue_batches = (cfg.max_queue_size / cfg.batch_size.max(1)).max(1);
        let (writer_tx, writer_rx) = sync_channel::<WriterMsg>(queue_batches * (n + 1));
        let mut shards = vec![];
        let mut shard_handles = vec![];
        let (done_tx, done_rx) = std::sync::mpsc::channel::<Arc<Vec<Event>>>();
        let report_closed = sinks.finals.is_some();
        let (by_keys, whole): (Vec<_>, Vec<_>) = detectors
            .into_iter()
            .partition(|d| matches!(d.sharding, Sharding::ByKeys(_)));
        let keys_of = |d: &DetectorSpec| match d.sharding {
            Sharding::ByKeys(k) => k,
            Sharding::Whole => Roles::ALL,
        };
        let keys = by_keys
            .iter()
            .fold(Roles(0), |k, d| Roles(k.0 | keys_of(d).0));
        for i in 0..n {
            let (tx, rx) = sync_channel::<ShardMsg>(queue_batches);
            let place = Placement {
                shard: i,
                shards: n,
                report_closed,
            };
            let dets: Vec<(Box<dyn Detector>, Roles)> = by_keys
                .iter()
                .map(|d| ((d.make)(place), keys_of(d)))
                .collect();
            let wtx = writer_tx.clone();
            let done = done_tx.clone();
            let m = metrics.clone();
            shard_handles.push(
                std::thread::Builder::new()
                    .name(format!("detect-{i}"))
                    .spawn(move || detector_loop(dets, rx, wtx, done, m, Some(i)))
                    .expect("spawn shard thread"),
            );
            shards.push(tx);
        }
        let whole: Vec<_> = whole
            .into_iter()
            .map(|d| {
                let (tx, rx) = sync_channel::<ShardMsg>(queue_batches);
                let det = (d.make)(Placement {
                    shard: 0,
                    shards: 1,
                    report_closed,
                });
                let (wtx, done) = (writer_tx.clone(), done_tx.clone());
                let handle = std::thread::Builder::new()
                    .name(d.name.into())
                    .spawn(move || {
                        detector_loop(vec![(det, Roles::ALL)], rx, wtx, done, None, None)
                    })
                    .expect("spawn detector thread");
                (tx, handle)
            })
            .collect();
        let replies = n + whole.len();
        let writer_done = done_tx.clone();
        let writer = std::thread::Builder::new()
            .name("store".into())
            .spawn(move || {
                let written = writer_loop(
                    &mut *store,
                    &mut sinks,
                    writer_rx,
                    replies,
                    scan,
                    writer_done,
                );
                // what the responders hold is theirs to finish, within a grace time
                let busy = std::mem::take(&mut sinks.respond).finish(RESPOND_GRACE);
                if !busy.is_empty() {
                    tracing::warn!(
                        responders = %busy.join(","),
                        "responders still busy at the stop; left behind"
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
            batch: Vec::new(),
            picks: vec![vec![]; n],
            keys,
            roles: vec![0; n],
            positions: BTreeMap::new(),
            unflushed: 0,
            warm: false,
            first_read: None,
            metrics,
            event_budget: (mode == Mode::Live && cfg.keep_events)
                .then(|| EventBudget::new(cfg.max_events_per_second)),
            whole,
            last: false,
        }
    }

    /// Switch between warm-up events (rebuild detection state, alert nothing) and normal ones;
    /// what is queued is sent first, so a batch is one or the other.
    fn set_warm(&mut self, on: bool) {
        if self.warm != on {
            self.send();
            self.warm = on;
        }
    }

    /// Take a source's events as the batch (the vector itself: no copy), routing each event
    /// once: each shard gets the indices of the events it owns a key of, with their roles.
    fn take(&mut self, events: Vec<Event>) {
        // every emit ends with a send, so nothing is queued here; should it be, it leaves first
        if !self.batch.is_empty() {
            self.send();
        }
        self.events += events.len() as u64;
        if !events.is_empty() && self.first_read.is_none() {
            self.first_read = Some(std::time::Instant::now());
        }
        self.batch = events;
        let shards = self.picks.len();
        let roles = &mut self.roles;
        for (idx, ev) in self.batch.iter().enumerate() {
            tripline_detect::owners(ev, shards, self.keys, |shard, bit| roles[shard] |= bit);
            for (picks, r) in self.picks.iter_mut().zip(roles.iter_mut()) {
                if *r != 0 {
                    picks.push((idx as u32, Roles(std::mem::take(r))));
                }
            }
        }
    }

    /// Send what is queued (also when only positions moved) as a checkpoint; nothing when
    /// nothing is queued and every batch sent was checkpointed.
    fn send(&mut self) {
        if self.batch.is_empty() && self.positions.is_empty() && self.unflushed == 0 {
            return;
        }
        self.send_as(true);
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
        let events = Arc::new(std::mem::take(&mut self.batch));
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
        for (tx, _) in &self.whole {
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
        // a last checkpoint, so every shard flushes (and the detectors that wait for more
        // input, the anomaly model's windows, decide)
        self.last = true;
        if self.unflushed > 0
            || !self.batch.is_empty()
            || !self.positions.is_empty()
            || !self.whole.is_empty()
        {
            self.send_as(true);
        }
        let batches = self.seq;
        drop(self.shards);
        for (tx, handle) in std::mem::take(&mut self.whole) {
            drop(tx);
            let _ = handle.join();
        }
        let mut stats = RunStats {
            batches,
            ..RunStats::default()
        };
        for h in self.shard_handles {
            if let Ok((d, tracked)) = h.join() {
                stats.detect += d;
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

/// A detection thread: it ends with its detectors' counters and the entities they track.
type DetectionThread = JoinHandle<(DetectStats, usize)>;

/// One detection thread: a shard's detectors (`shard` is its number, for the metrics), or one
/// detector that sees every event (`shard` None). It answers the writer for every batch.
fn detector_loop(
    mut dets: Vec<(Box<dyn Detector>, Roles)>,
    rx: Receiver<ShardMsg>,
    wtx: SyncSender<WriterMsg>,
    done: std::sync::mpsc::Sender<Arc<Vec<Event>>>,
    metrics: Option<Arc<crate::metrics::Metrics>>,
    shard: Option<usize>,
) -> (DetectStats, usize) {
    let mut reported = DetectStats::default();
    let sum = |dets: &[(Box<dyn Detector>, Roles)]| {
        dets.iter()
            .fold((DetectStats::default(), 0), |(mut s, t), (d, _)| {
                s += d.stats();
                (s, t + d.tracked())
            })
    };
    while let Ok(ShardMsg::Batch {
        seq,
        events,
        picks,
        flush,
        warm,
        last,
    }) = rx.recv()
    {
        for (d, _) in dets.iter_mut() {
            d.set_warming(warm);
        }
        match (shard, &mut dets[..]) {
            // the usual shard: one detector, its keys all the routed ones, called straight
            // for each event it owns
            (Some(_), [(d, _)]) => {
                for (i, roles) in picks {
                    if let Some(ev) = events.get(i as usize) {
                        d.process(ev, roles);
                    }
                }
            }
            // several: each in the roles of its own keys
            (Some(_), dets) => {
                for (i, roles) in picks {
                    if let Some(ev) = events.get(i as usize) {
                        for (d, keys) in dets.iter_mut() {
                            let r = roles.and(*keys);
                            if !r.is_empty() {
                                d.process(ev, r);
                            }
                        }
                    }
                }
            }
            (None, dets) => {
                for ev in events.iter() {
                    dets.iter_mut().for_each(|(d, _)| d.process(ev, Roles::ALL));
                }
            }
        }
        // evidence gets its own copies before the batch (and its read buffers) can be freed
        for (d, _) in dets.iter_mut() {
            d.end_batch();
        }
        // hand the batch back to be freed where it was made; if that is gone, free it here
        let _ = done.send(events);
        let mut outputs = vec![];
        if flush {
            for (d, _) in dets.iter_mut() {
                outputs.extend(d.flush(last));
            }
        }
        if let (Some(m), Some(shard)) = (&metrics, shard) {
            let (s, tracked) = sum(&dets);
            m.shard(
                shard,
                tracked,
                s.evictions - reported.evictions,
                s.expired - reported.expired,
            );
            reported = s;
        }
        if wtx.send(WriterMsg::Shard { seq, outputs }).is_err() {
            break;
        }
    }
    sum(&dets)
}

/// Sources hand their batches straight to the engine: a batch is routed and sent as it comes,
/// one source batch one pipeline batch, with the checkpoint that covers it.
impl Emit for Engine {
    fn emit(&mut self, b: Batch) {
        self.set_warm(b.warm);
        self.take(b.events);
        if let Some(c) = b.checkpoint {
            self.positions.insert(c.source.clone(), c);
        }
        // caught up: a checkpoint now; with a backlog, one every BACKLOG_CHECKPOINT_BATCHES
        if b.backlog {
            self.send_as(false);
        } else {
            self.send();
        }
    }
}
