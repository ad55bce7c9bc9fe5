//! The source contract: how anything that produces events (files, the journal, Cowrie logs, a
//! JSON-lines log; later network listeners and subscribers) hands them to the pipeline.
//!
//! A [`Source`] runs on a thread of its own ([`Source::run`]) and pushes [`Batch`]es into an
//! [`Emit`]: events, and the [`Checkpoint`] the source reached after them, which the store
//! commits in the same transaction as everything derived from the batch. The emitter is the
//! pipeline's one bounded queue: it blocks while detection or the store is behind
//! (backpressure), and many sources may share it. A pull source (a file) reads when woken or
//! polled; a push source (a listener) emits as requests arrive; a source on the tokio runtime
//! emits from `spawn_blocking` or a thread of its own. Every source reports its health and
//! counters through one [`Health`] slot that `/api/v1/sensors`, `/metrics` and `tripline top`
//! read, whatever the source is.
//!
//! A source type is registered once ([`SourceType`] in [`TYPES`]): its config table
//! (`[sources.NAME]`, with `type = "…"` unless the name is the type's), parsed strictly, and the
//! constructor that opens it.

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tripline_event::{Checkpoint, Event};

/// Events a source hands over at once, with where the source stands after them.
#[derive(Debug, Default)]
pub struct Batch {
    pub events: Vec<Event>,
    /// The source's position after these events (none when it did not move).
    pub checkpoint: Option<Checkpoint>,
    /// Events read before a restart, replayed only to rebuild detection windows: they open,
    /// grow and store nothing (their alerts are stored already).
    pub warm: bool,
    /// The source has more to read right away: the pipeline may make this batch's alerts and
    /// checkpoint wait for a few more batches (a scan, a backlog). A batch without it is
    /// committed as soon as detection is done with it.
    pub backlog: bool,
}

/// Where sources push their batches.
pub trait Emit {
    /// Hand over a batch; blocks while the pipeline is full.
    fn emit(&mut self, batch: Batch);
}

/// How a source runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Follow: keep watching until stopped (`tripline run`).
    Follow,
    /// Read what is there and return (`tripline once`).
    Scan,
}

/// What a source cannot recover from (it is then reported and stopped; the others go on).
#[derive(Debug, thiserror::Error)]
#[error("source {source_name}: {message}")]
pub struct SourceError {
    pub source_name: String,
    pub message: String,
}

/// A stop request shared by the sources: a flag, and a wake-up for each source that waits.
#[derive(Debug, Default)]
pub struct Stop {
    flag: AtomicBool,
    wakers: Mutex<Vec<Sender<()>>>,
}

impl Stop {
    pub fn new() -> Arc<Stop> {
        Arc::new(Stop::default())
    }

    /// Ask every source to stop, waking those that wait.
    pub fn stop(&self) {
        self.flag.store(true, Ordering::SeqCst);
        for w in self.wakers.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = w.send(());
        }
    }

    pub fn is_stopped(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Send `()` on `wake` when a stop is asked (a source waiting on its own channel).
    pub fn wake_on_stop(&self, wake: Sender<()>) {
        if self.is_stopped() {
            let _ = wake.send(());
        }
        self.wakers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(wake);
    }
}

/// What one source is handed to run.
pub struct SourceCx<'a> {
    pub out: &'a mut dyn Emit,
    pub mode: Mode,
    pub stop: &'a Stop,
    /// Where it reports its state (at most about once a second).
    pub health: Health,
}

/// One running source.
pub trait Source: Send {
    /// Its name: `files`, `journald`, `cowrie`, or the name of its `[sources.NAME]` table.
    fn name(&self) -> &str;
    /// Read and hand over events until stopped (follow) or until everything there is was read
    /// (scan). Problems it can live with (a missing file, an unreadable line) are counted and
    /// reported in its health; an error ends this source only.
    fn run(&mut self, cx: &mut SourceCx<'_>) -> Result<(), SourceError>;
}

/// What `/api/v1/sensors` shows of one stream of a source (a file, the journal): what an
/// operator checks first.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SensorState {
    /// The source type: `files`, `journald`, `cowrie`, `jsonl`.
    pub sensor: &'static str,
    pub path: String,
    /// `reading`, `missing`, or the error that stops it.
    pub state: String,
    /// Bytes read and committed so far, the file's size, and the difference (files).
    pub offset: u64,
    /// Where the journal source is (journald; null for files).
    pub cursor: Option<String>,
    pub size: u64,
    pub lag_bytes: u64,
    /// Seconds since the reader was last caught up with the file (0 when it is).
    pub lag_seconds: f64,
    pub lines: u64,
    pub events: u64,
    pub unparsed_lines: u64,
    pub truncated_lines: u64,
    pub parse_errors: u64,
    /// Events a push source refused because the pipeline was behind (the request that made
    /// them was not held up).
    pub dropped: u64,
    /// Lines per second over the last interval (about a second).
    pub lines_per_second: f64,
    /// Bytes read (the metrics' `tripline_sensor_read_bytes_total`).
    #[serde(skip)]
    pub bytes: u64,
}

/// Every source's health, by source name, in the order the sources were started.
#[derive(Debug, Clone, Default)]
pub struct HealthBoard(Arc<Mutex<Slots>>);

/// Each source's streams, by (start order, name).
type Slots = BTreeMap<(usize, String), Vec<SensorState>>;

/// How a source type reads its table: the parsed config, or every problem, named.
pub type ParseFn = fn(key: &str, table: toml::Value) -> Result<Box<dyn SourceSpec>, Vec<String>>;

/// One source's place on the [`HealthBoard`].
#[derive(Debug, Clone)]
pub struct Health {
    board: HealthBoard,
    key: (usize, String),
}

impl HealthBoard {
    /// A slot for the `n`th source, called `name`.
    pub fn slot(&self, n: usize, name: &str) -> Health {
        Health {
            board: self.clone(),
            key: (n, name.to_string()),
        }
    }

    /// Every stream of every source, in source order.
    pub fn snapshot(&self) -> Vec<SensorState> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .flatten()
            .cloned()
            .collect()
    }
}

impl Health {
    /// Replace what this source shows.
    pub fn set(&self, states: Vec<SensorState>) {
        self.board
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(self.key.clone(), states);
    }
}

/// What opening a source may need besides its own config.
pub struct OpenCx<'a> {
    /// The stored checkpoint of a source id (`file:/var/log/auth.log`).
    pub checkpoint: &'a dyn Fn(&str) -> Option<Checkpoint>,
    /// Zone and year of syslog timestamps that carry none.
    pub time: crate::TimeContext,
    /// This host's name, for events that carry none.
    pub host: String,
    /// Read never-seen files from their start, and ignore stored checkpoints (`once
    /// --from-start`): only the first.
    pub from_start: bool,
    pub ignore_checkpoints: bool,
    /// These files instead of the configured paths (`run FILES`, `once FILES`), when given.
    pub files: Option<Vec<PathBuf>>,
    /// Lines per batch (`batch_size`) and at most per batch with a backlog (`max_batch_size`).
    pub batch_size: usize,
    pub max_batch_size: usize,
    /// How often to look again without a wake-up (`poll_interval_seconds`).
    pub poll_interval: Duration,
    pub mode: Mode,
}

/// A source type: how its `[sources.NAME]` table is read and how it is opened.
pub struct SourceType {
    /// The `type` value (`jsonl`), and the table name that implies it (`files`, `journald`,
    /// `cowrie` need no `type`).
    pub name: &'static str,
    /// One line for `tripline config default` and errors.
    pub summary: &'static str,
    /// Read its table (everything but `type`): the problems, each naming its key under `key`.
    pub parse: ParseFn,
}

/// A source's parsed configuration.
pub trait SourceSpec: Send + Sync + std::fmt::Debug {
    /// The [`SourceType::name`].
    fn type_name(&self) -> &'static str;
    /// Whether `tripline run` starts it.
    fn enabled(&self) -> bool;
    /// Its table again (for `config default` and comparisons).
    fn to_toml(&self) -> toml::Value;
    /// Open it as `name`; `Ok(None)` when there is nothing to run (no files to scan).
    fn open(&self, name: &str, cx: &OpenCx<'_>) -> Result<Option<Box<dyn Source>>, SourceError>;
}

/// Every source type tripline knows. A new source: one file, and one line here.
pub const TYPES: &[SourceType] = &[
    crate::files::FILES,
    crate::files::COWRIE,
    crate::journald::JOURNALD,
    crate::jsonl::JSONL,
];

/// The source type called `name`.
pub fn source_type(name: &str) -> Option<&'static SourceType> {
    TYPES.iter().find(|t| t.name == name)
}

/// A typed config as its TOML table ([`SourceSpec::to_toml`]).
pub fn table_of(c: &impl Serialize) -> toml::Value {
    toml::Value::try_from(c).unwrap_or(toml::Value::Table(Default::default()))
}

/// Parse a typed config table strictly, naming bad keys under `key` (`sources.myapp`).
pub fn parse_table<T: serde::de::DeserializeOwned>(
    key: &str,
    table: toml::Value,
) -> Result<T, Vec<String>> {
    table
        .try_into::<T>()
        .map_err(|e| vec![format!("{key}: {}", e.to_string().trim())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_wakes_every_waiting_source_also_one_that_asks_after_it() {
        let stop = Stop::new();
        let (tx, rx) = std::sync::mpsc::channel();
        stop.wake_on_stop(tx);
        assert!(!stop.is_stopped());
        stop.stop();
        assert!(rx.recv_timeout(Duration::from_secs(1)).is_ok());
        let (late, late_rx) = std::sync::mpsc::channel();
        stop.wake_on_stop(late);
        assert!(late_rx.try_recv().is_ok());
    }

    #[test]
    fn the_board_lists_every_source_in_start_order() {
        let board = HealthBoard::default();
        let b = board.slot(1, "journald");
        let a = board.slot(0, "files");
        let st = |path: &str| SensorState {
            path: path.into(),
            ..SensorState::default()
        };
        b.set(vec![st("journal")]);
        a.set(vec![st("/a"), st("/b")]);
        a.set(vec![st("/a")]);
        let paths: Vec<String> = board.snapshot().into_iter().map(|s| s.path).collect();
        assert_eq!(paths, ["/a", "journal"]);
        for t in TYPES {
            assert!(source_type(t.name).is_some());
        }
        assert!(source_type("nope").is_none());
    }
}
