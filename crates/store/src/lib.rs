//! Persistence: alerts, source positions, first-seen pairs and events in one SQLite file (WAL).
//!
//! One transaction per batch holds both the alerts derived from a batch and the positions of the
//! sources it was read from, so after a crash the store is at a batch boundary: resuming from
//! the stored position neither loses a line nor counts one twice. Alerts are upserted by their
//! stable id with absolute counts, so replaying a batch is idempotent.
//!
//! A database that cannot be opened is an error that says so and why; it is never silently
//! recreated.
#![forbid(unsafe_code)]

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tripline_event::catalog::techniques_of;
use tripline_event::net::{Cidr, IpText};
use tripline_event::{
    Addr, Alert, AlertView, Checkpoint, Detail, DetailRef, Entity, EntityView, Event, Keep, Lines,
    Severity, StateRecord, TechniqueList, Techniques, Text, Timestamp,
};

/// 2: evidence lines joined by newlines instead of a JSON array; 3: the sensor; 4: the anomaly
/// detail; 5: a detector's detail of any kind (`detail`, `{key: value}`); 6: sources' checkpoints
/// are opaque text (`sources.checkpoint`).
const SCHEMA_VERSION: i64 = 7;

/// Store errors, each naming the database file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path} is locked by another process (is another tripline running on it?)")]
    Locked { path: PathBuf },
    #[error("database {path} is corrupt or not a tripline database: {detail}; move it away to start fresh (tripline never resets it silently)")]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "database {path} has schema version {found}, this tripline understands {SCHEMA_VERSION}"
    )]
    Version { path: PathBuf, found: i64 },
    #[error("cannot create directory for database {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database {path}: {source}")]
    Sql {
        path: PathBuf,
        source: rusqlite::Error,
    },
}

/// What one commit did beyond storing what it was given.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Committed {
    /// Events stored for timelines.
    pub events: usize,
    /// Alerts stored under another id than their own, because a different alert (another rule
    /// or entity) holds theirs: (index in the alerts given, id stored under).
    pub moved: Vec<(usize, Text)>,
    /// Alerts not stored (index in the alerts given) because their id and the ids after it,
    /// [`ID_PROBES`] in all, hold other alerts (only alerts made to collide within one second
    /// can do that).
    pub crowded: Vec<usize>,
}

/// How many ids, from an alert's own, are tried for it when different alerts hold them. An
/// alert id is its second and 32 bits of hash (`Alert::make_id`): natural collisions need two
/// alerts in one second whose hashes meet, and stop at the next id; the bound keeps alerts made
/// to collide from costing more than this many lookups each.
pub const ID_PROBES: u64 = 256;

/// The `n`th id after `id` within its second (the last 8 hex digits count up and wrap), or a
/// suffix for an id that is not 16 hex digits (only hand-made ones are not).
fn probe_id(id: &str, n: u64) -> String {
    match u64::from_str_radix(id, 16) {
        Ok(v) if id.len() == 16 => {
            let low = (v as u32).wrapping_add(n as u32);
            format!("{:016x}", v & !0xffff_ffff | low as u64)
        }
        _ => format!("{id}~{n}"),
    }
}

/// An alert as stored, with its workflow state.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAlert {
    pub alert: Alert,
    pub state: String,
    /// Who put it in that state, and when (none while it was never touched).
    pub state_by: Option<String>,
    pub state_at: Option<Timestamp>,
}

impl StoredAlert {
    /// Borrowed for output.
    pub fn view(&self) -> AlertView<'_> {
        AlertView {
            state_by: self.state_by.as_deref(),
            state_at: self.state_at,
            ..self.alert.view(&self.state)
        }
    }
}

/// Filters for [`Store::alerts`]; results are ordered most recently seen first.
#[derive(Debug, Clone, Default)]
pub struct AlertQuery {
    /// Last seen at or after.
    pub since: Option<Timestamp>,
    /// Last seen before.
    pub until: Option<Timestamp>,
    pub min_severity: Option<Severity>,
    pub rule: Option<String>,
    /// The entity's value (an address, a user name, a network in CIDR form).
    pub entity: Option<String>,
    /// The entity's type (`ip`, `user`, `subnet`, …).
    pub entity_type: Option<String>,
    /// Alerts that involve this value anywhere: as their entity, source address or user (an
    /// address is matched through the source-address index).
    pub about: Option<String>,
    /// Workflow state: `open`, `acknowledged`, `resolved`.
    pub state: Option<String>,
    /// Only alerts written (opened or grown) at or after this wall-clock time.
    pub updated_since: Option<Timestamp>,
    /// Resume after this alert (pagination): what [`Store::for_each_alert`] handed out last.
    pub after: Option<Cursor>,
    /// At most this many; 0: no limit.
    pub limit: usize,
}

/// A position in the alert order (last seen, then row), for cursor pagination that stays
/// correct while alerts are added: `{last_seen}.{row}` as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub last_seen: i64,
    pub row: i64,
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.last_seen, self.row)
    }
}

impl std::str::FromStr for Cursor {
    type Err = ();
    fn from_str(s: &str) -> Result<Cursor, ()> {
        let (a, b) = s.split_once('.').ok_or(())?;
        Ok(Cursor {
            last_seen: a.parse().map_err(|_| ())?,
            row: b.parse().map_err(|_| ())?,
        })
    }
}

/// An entity's alerts, summed up ([`Store::top_entities`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EntitySummary {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
    /// The highest score of its alerts.
    pub score: f32,
    pub severity: Severity,
    pub alerts: u64,
    /// Events its alerts counted.
    pub events: u64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

/// Alerts of one rule and severity in one time bucket ([`Store::alert_counts`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AlertCount {
    pub bucket: Timestamp,
    pub rule: String,
    pub severity: Severity,
    /// The sensor's name (`files`, `journald`, `cowrie`, `jsonl`, …).
    pub sensor: String,
    /// The techniques these alerts carry (the rule's, or an anomaly alert's own).
    pub techniques: Vec<&'static str>,
    pub alerts: u64,
}

/// Workflow states an alert can be put in by a person.
pub const STATES: [&str; 3] = ["open", "acknowledged", "resolved"];

/// What one commit writes, in one transaction: everything derived from a group of batches and
/// the checkpoints the group reached, so a crash leaves the store at a group boundary.
#[derive(Debug, Clone, Copy)]
pub struct Commit<'a> {
    /// New or grown alerts, each in its latest state.
    pub alerts: &'a [Alert],
    /// Detector state to keep across restarts.
    pub state: &'a [StateRecord],
    pub checkpoints: &'a [Checkpoint],
    /// Of each `(batch, n)`, the first `n` events that name an entity, for timelines.
    pub events: &'a [(std::sync::Arc<Vec<Event>>, usize)],
}

/// Where the pipeline's writer commits: SQLite here ([`Store`]); a fleet's PostgreSQL later.
pub trait AlertStore: Send {
    /// Write one [`Commit`] in one transaction ([`Store::commit_with_events`] says how ids are
    /// placed).
    fn commit(&mut self, c: &Commit<'_>) -> Result<Committed, StoreError>;
}

impl AlertStore for Store {
    fn commit(&mut self, c: &Commit<'_>) -> Result<Committed, StoreError> {
        self.commit_with_events(c.alerts, c.state, c.checkpoints, c.events)
    }
}

/// What the API reads (and the one workflow write it makes): object safe, so the API holds any
/// store behind it.
pub trait AlertReader: Send {
    /// [`Store::for_each_alert`].
    fn each_alert(
        &self,
        q: &AlertQuery,
        f: &mut dyn FnMut(&AlertView<'_>, Cursor) -> bool,
    ) -> Result<usize, StoreError>;
    /// [`Store::alert`].
    fn alert(&self, id: &str) -> Result<Option<StoredAlert>, StoreError>;
    /// [`Store::set_state`].
    fn set_state(
        &mut self,
        id: &str,
        state: &str,
        by: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError>;
    /// [`Store::writable`].
    fn writable(&self) -> bool;
    /// [`Store::top_entities`].
    fn top_entities(
        &self,
        since: Timestamp,
        until: Timestamp,
        limit: usize,
    ) -> Result<Vec<EntitySummary>, StoreError>;
    /// [`Store::alert_counts`].
    fn alert_counts(
        &self,
        since: Timestamp,
        until: Timestamp,
        bucket: i64,
    ) -> Result<Vec<AlertCount>, StoreError>;
    /// [`Store::checkpoints`].
    fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError>;
    /// [`Store::state`].
    fn state(&self, limit: usize) -> Result<Vec<StateRecord>, StoreError>;
    /// [`Store::for_each_event`].
    fn each_event(
        &self,
        who: &EventsAbout,
        limit: usize,
        f: &mut dyn FnMut(&EventRow<'_>),
    ) -> Result<usize, StoreError>;
}

impl AlertReader for Store {
    fn each_alert(
        &self,
        q: &AlertQuery,
        f: &mut dyn FnMut(&AlertView<'_>, Cursor) -> bool,
    ) -> Result<usize, StoreError> {
        self.for_each_alert(q, f)
    }
    fn alert(&self, id: &str) -> Result<Option<StoredAlert>, StoreError> {
        Store::alert(self, id)
    }
    fn set_state(
        &mut self,
        id: &str,
        state: &str,
        by: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        Store::set_state(self, id, state, by, at)
    }
    fn writable(&self) -> bool {
        Store::writable(self)
    }
    fn top_entities(
        &self,
        since: Timestamp,
        until: Timestamp,
        limit: usize,
    ) -> Result<Vec<EntitySummary>, StoreError> {
        Store::top_entities(self, since, until, limit)
    }
    fn alert_counts(
        &self,
        since: Timestamp,
        until: Timestamp,
        bucket: i64,
    ) -> Result<Vec<AlertCount>, StoreError> {
        Store::alert_counts(self, since, until, bucket)
    }
    fn state(&self, limit: usize) -> Result<Vec<StateRecord>, StoreError> {
        Store::state(self, limit)
    }
    fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        Store::checkpoints(self)
    }
    fn each_event(
        &self,
        who: &EventsAbout,
        limit: usize,
        f: &mut dyn FnMut(&EventRow<'_>),
    ) -> Result<usize, StoreError> {
        self.for_each_event(who, limit, f)
    }
}

/// One finding of the LLM gateway (`firewall_logs`): never the raw prompt unless the gateway
/// is set to store prompts.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FirewallLog {
    /// µs since the epoch.
    pub ts: i64,
    pub route: String,
    /// `request` or `response`.
    pub direction: String,
    pub session: Option<String>,
    pub user_agent: Option<String>,
    pub src_ip: String,
    pub api_key_id: Option<String>,
    /// SHA-256 of the text scanned.
    pub input_hash: String,
    pub score: f64,
    /// JSON array.
    pub flags: String,
    /// JSON object: per scanner, its score and reasons.
    pub breakdown: String,
    pub action: String,
    pub policy: Option<String>,
    pub latency_ms: f64,
    pub prompt: Option<String>,
}

/// The thread that checkpoints a store's write-ahead log ([`Store::checkpoint_in_background`]);
/// dropping it stops the thread (after the checkpoint in progress, if any).
pub struct Checkpointer {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The SQLite store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Open (creating if missing) the database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        // the store holds copies of root-only logs: a directory made for it is its owner's
        // alone (0700), and so is a database file made here (0600; SQLite gives its WAL and
        // shared-memory files the database file's mode)
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(|source| StoreError::Dir {
                        path: path.to_path_buf(),
                        source,
                    })?;
            }
        }
        if !path.exists() {
            let made = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path);
            match made {
                // another process made it first: it is theirs as made
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                    return Err(StoreError::Dir {
                        path: path.to_path_buf(),
                        source: e,
                    })
                }
                _ => {}
            }
        }
        let sql = |source| classify(path, source);
        // No per-connection mutex: a `Connection` is never shared between threads (it is not
        // `Sync`), so SQLite's serialized mode would lock around every call for nothing.
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sql)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(sql)?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.init()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Move the write-ahead log's checkpoints off this connection's commits, to a thread of
    /// their own that checkpoints every `every` (PASSIVE: it never blocks a writer). SQLite's
    /// automatic checkpoint runs inside the commit that crosses its threshold, and its fsyncs
    /// then hold that commit (10–13 ms on this project's machine: the stalls in a live alert's
    /// p99). The checkpoints stop when the returned handle is dropped.
    pub fn checkpoint_in_background(&self, every: Duration) -> Result<Checkpointer, StoreError> {
        let sql = |source| classify(&self.path, source);
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sql)?;
        conn.busy_timeout(Duration::from_secs(1)).map_err(sql)?;
        self.conn
            .pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(sql)?;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let path = self.path.clone();
        let thread = std::thread::Builder::new()
            .name("store-checkpoint".into())
            .spawn(move || {
                let mut failing = false;
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(every)
                {
                    let r = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                    match (r, failing) {
                        (Err(e), false) => {
                            tracing::warn!(db = %path.display(), error = %e, "store: a checkpoint failed; retrying");
                            failing = true;
                        }
                        (Ok(()), true) => failing = false,
                        _ => {}
                    }
                }
            })
            .map_err(|source| StoreError::Dir {
                path: self.path.clone(),
                source,
            })?;
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    fn init(&self) -> Result<(), StoreError> {
        let sql = |source| classify(&self.path, source);
        // Any read of the schema fails on a file that is not a database.
        self.conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(sql)?;
        self.conn
            .pragma_update(None, "page_size", 16384)
            .map_err(sql)?;
        self.conn
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(sql)?;
        self.conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(sql)?;
        self.conn
            .pragma_update(None, "cache_size", -4000)
            .map_err(sql)?;
        self.conn
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS alerts (
                    id TEXT PRIMARY KEY, rule TEXT NOT NULL, severity INTEGER NOT NULL,
                    score REAL NOT NULL, entity_type TEXT NOT NULL, entity TEXT NOT NULL,
                    src_ip TEXT, user TEXT, host TEXT NOT NULL, techniques TEXT NOT NULL,
                    count INTEGER NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
                    explanation TEXT NOT NULL, evidence TEXT NOT NULL,
                    state TEXT NOT NULL DEFAULT 'open', updated INTEGER NOT NULL,
                    state_by TEXT, state_at INTEGER, sensor TEXT NOT NULL DEFAULT 'files',
                    detail TEXT);
                 CREATE INDEX IF NOT EXISTS alerts_last_seen ON alerts(last_seen);
                 CREATE INDEX IF NOT EXISTS alerts_src_ip ON alerts(src_ip);
                 CREATE INDEX IF NOT EXISTS alerts_rule ON alerts(rule, last_seen);
                 CREATE INDEX IF NOT EXISTS alerts_severity ON alerts(severity, last_seen);
                 CREATE TABLE IF NOT EXISTS sources (
                    name TEXT PRIMARY KEY, dev INTEGER NOT NULL, ino INTEGER NOT NULL,
                    offset INTEGER NOT NULL, head_hash INTEGER NOT NULL, cursor TEXT,
                    updated INTEGER NOT NULL, checkpoint TEXT);
                 CREATE TABLE IF NOT EXISTS detector_state (
                    owner TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
                    ts INTEGER NOT NULL, PRIMARY KEY (owner, key)) WITHOUT ROWID;
                 CREATE INDEX IF NOT EXISTS detector_state_ts ON detector_state(owner, ts);
                 CREATE TABLE IF NOT EXISTS events (
                    ts INTEGER NOT NULL, sensor TEXT NOT NULL, kind TEXT NOT NULL,
                    host TEXT NOT NULL, src_ip TEXT, user TEXT, session TEXT,
                    count INTEGER NOT NULL, hostile INTEGER NOT NULL, raw TEXT NOT NULL);
                 CREATE INDEX IF NOT EXISTS events_src_ip ON events(src_ip, ts);
                 CREATE INDEX IF NOT EXISTS events_user ON events(user, ts);
                 CREATE TABLE IF NOT EXISTS firewall_logs (
                    ts INTEGER NOT NULL, route TEXT NOT NULL, direction TEXT NOT NULL,
                    session TEXT, user_agent TEXT, src_ip TEXT NOT NULL, api_key_id TEXT,
                    input_hash TEXT NOT NULL, score REAL NOT NULL, flags TEXT NOT NULL,
                    breakdown TEXT NOT NULL, action TEXT NOT NULL, policy TEXT,
                    latency_ms REAL NOT NULL, prompt TEXT);
                 CREATE INDEX IF NOT EXISTS firewall_logs_ts ON firewall_logs(ts);
                 CREATE INDEX IF NOT EXISTS firewall_logs_src_ip ON firewall_logs(src_ip, ts);
",
            )
            .map_err(sql)?;
        let version: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key='schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql)?;
        match version {
            None => {
                self.conn
                    .execute(
                        "INSERT INTO meta(key, value) VALUES ('schema_version', ?1)",
                        [SCHEMA_VERSION.to_string()],
                    )
                    .map_err(sql)?;
            }
            Some(v) if v.parse::<i64>().ok() == Some(SCHEMA_VERSION) => {}
            Some(v) if v == "6" => self.migrate_6_to_7()?,
            // 5 → 6: a source's checkpoint is its own text; the old columns are read for rows
            // that have none ([`legacy_checkpoint`])
            Some(v) if v == "5" => {
                self.conn
                    .execute_batch(
                        "BEGIN;
                         ALTER TABLE sources ADD COLUMN checkpoint TEXT;
                         UPDATE meta SET value = '6' WHERE key = 'schema_version';
                         COMMIT;",
                    )
                    .map_err(sql)?;
                self.migrate_6_to_7()?;
            }
            // 2 → 3: alerts know their sensor (older ones came from files or the journal);
            // 3 → 4: anomaly alerts carry their detail; 4 → 5: the detail of any detector,
            // under its key (an anomaly detail becomes `{"anomaly": …}`)
            Some(v) if v == "2" || v == "3" || v == "4" => {
                let to_3 = "ALTER TABLE alerts ADD COLUMN sensor TEXT NOT NULL DEFAULT 'files';
                            UPDATE alerts SET sensor = 'cowrie' WHERE rule = 'honeypot.touch';";
                let to_4 = "ALTER TABLE alerts ADD COLUMN anomaly TEXT;";
                self.conn
                    .execute_batch(&format!(
                        "BEGIN;
                         {}
                         {}
                         ALTER TABLE alerts RENAME COLUMN anomaly TO detail;
                         UPDATE alerts SET detail = json_object('anomaly', json(detail))
                            WHERE detail IS NOT NULL AND json_valid(detail);
                         ALTER TABLE sources ADD COLUMN checkpoint TEXT;
                         UPDATE meta SET value = '6' WHERE key = 'schema_version';
                         COMMIT;",
                        if v == "2" { to_3 } else { "" },
                        if v == "4" { "" } else { to_4 },
                    ))
                    .map_err(sql)?;
                self.migrate_6_to_7()?;
            }
            Some(v) => {
                return Err(StoreError::Version {
                    path: self.path.clone(),
                    found: v.parse().unwrap_or(-1),
                });
            }
        }
        Ok(())
    }

    /// 6 → 7: detector state is one table of records of any owner; the (user, network, first
    /// seen) pairs become `ssh.new_source_login`'s records.
    fn migrate_6_to_7(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch(
                "BEGIN;
                 CREATE TABLE IF NOT EXISTS entity_first_seen (
                    user TEXT NOT NULL, subnet TEXT NOT NULL, first_seen INTEGER NOT NULL,
                    PRIMARY KEY (user, subnet));
                 INSERT OR IGNORE INTO detector_state (owner, key, value, ts)
                    SELECT 'ssh.new_source_login', subnet || ' ' || user, '', first_seen
                    FROM entity_first_seen;
                 DROP TABLE entity_first_seen;
                 UPDATE meta SET value = '7' WHERE key = 'schema_version';
                 COMMIT;",
            )
            .map_err(|e| classify(&self.path, e))
    }

    /// Whether an event names an entity, so that a timeline can find it (what
    /// [`Store::commit_with_events`] stores).
    pub fn names_entity(ev: &Event) -> bool {
        ev.src_ip.is_some() || ev.user.is_some() || ev.session.is_some()
    }

    /// Write one batch: alerts, detector state and source checkpoints, in one transaction.
    ///
    /// An alert is upserted by its id when the row there is the same alert (rule and entity);
    /// when a different alert holds the id, it goes to the next id of the same second that is
    /// free or its own (at most [`ID_PROBES`] tries), and [`Committed::moved`] says so. A replay
    /// finds it there again the same way.
    pub fn commit(
        &mut self,
        alerts: &[Alert],
        state: &[StateRecord],
        positions: &[Checkpoint],
    ) -> Result<Committed, StoreError> {
        self.commit_with_events(alerts, state, positions, &[])
    }

    /// [`Store::commit`], and in the same transaction, of each `(batch, n)` in `events`, the
    /// first `n` events of the batch that name an entity (an address, user or session), for
    /// entity timelines.
    pub fn commit_with_events(
        &mut self,
        alerts: &[Alert],
        state: &[StateRecord],
        positions: &[Checkpoint],
        events: &[(std::sync::Arc<Vec<Event>>, usize)],
    ) -> Result<Committed, StoreError> {
        let path = self.path.clone();
        let sql = |source| classify(&path, source);
        let now = Timestamp::now().0;
        let tx = self.conn.transaction().map_err(sql)?;
        let mut done = Committed::default();
        {
            let mut up = tx
                .prepare_cached(
                    "INSERT INTO alerts (id, rule, severity, score, entity_type, entity, src_ip, user, host,
                        techniques, count, first_seen, last_seen, explanation, evidence, updated,
                        sensor, detail)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                        ?17, ?18)
                     ON CONFLICT(id) DO UPDATE SET severity=excluded.severity, score=excluded.score,
                        count=excluded.count, last_seen=excluded.last_seen,
                        explanation=excluded.explanation, evidence=excluded.evidence,
                        updated=excluded.updated, detail=excluded.detail
                     WHERE alerts.rule = excluded.rule AND alerts.entity = excluded.entity
                        AND alerts.entity_type = excluded.entity_type",
                )
                .map_err(sql)?;
            // scratch text reused across rows
            let (mut evidence, mut techniques) = (String::new(), String::new());
            for (i, a) in alerts.iter().enumerate() {
                Lines::join_into(&a.evidence, &mut evidence);
                techniques.clear();
                for (i, t) in a.techniques.iter().enumerate() {
                    if i > 0 {
                        techniques.push(',');
                    }
                    techniques.push_str(t);
                }
                let entity_ip;
                let entity: &str = match &a.entity {
                    Entity::Ip(ip) => {
                        entity_ip = IpText::new(*ip);
                        &entity_ip
                    }
                    e => e.text().unwrap_or_default(),
                };
                let src_ip = a.src_ip.map(IpText::new);
                let detail = a.detail.as_ref().map(|d| d.to_json());
                // nothing changes when a different alert holds the id: try the next one
                let mut id = std::borrow::Cow::Borrowed(a.id.as_str());
                let mut n = 0;
                while up
                    .execute(params![
                        id,
                        a.rule.as_str(),
                        a.severity.rank(),
                        a.score as f64,
                        a.entity.type_name(),
                        entity,
                        src_ip.as_deref(),
                        a.user.as_deref(),
                        &*a.host,
                        techniques,
                        a.count as i64,
                        a.first_seen.0,
                        a.last_seen.0,
                        a.explanation,
                        evidence,
                        now,
                        a.sensor.as_str(),
                        detail,
                    ])
                    .map_err(sql)?
                    == 0
                {
                    n += 1;
                    if n >= ID_PROBES {
                        done.crowded.push(i);
                        break;
                    }
                    id = probe_id(&a.id, n).into();
                }
                if n > 0 && n < ID_PROBES {
                    done.moved.push((i, id.as_ref().into()));
                }
            }
            for r in state {
                let q = match r.keep {
                    Keep::First => {
                        "INSERT OR IGNORE INTO detector_state (owner, key, value, ts)
                         VALUES (?1, ?2, ?3, ?4)"
                    }
                    Keep::Latest => {
                        "INSERT INTO detector_state (owner, key, value, ts) VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT(owner, key) DO UPDATE SET value=excluded.value, ts=excluded.ts"
                    }
                };
                tx.prepare_cached(q)
                    .map_err(sql)?
                    .execute(params![r.owner.as_str(), r.key, r.value, r.ts.0])
                    .map_err(sql)?;
            }
            let mut pos = tx
                .prepare_cached(
                    "INSERT INTO sources (name, dev, ino, offset, head_hash, cursor, updated,
                        checkpoint)
                     VALUES (?1, 0, 0, 0, 0, NULL, ?2, ?3)
                     ON CONFLICT(name) DO UPDATE SET checkpoint=excluded.checkpoint,
                        updated=excluded.updated",
                )
                .map_err(sql)?;
            for p in positions {
                pos.execute(params![p.source, now, p.value]).map_err(sql)?;
            }
        }
        if !events.is_empty() {
            let mut ins = tx
                .prepare_cached(
                    "INSERT INTO events (ts, sensor, kind, host, src_ip, user, session, count,
                        hostile, raw) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .map_err(sql)?;
            for (batch, n) in events {
                for ev in batch.iter().filter(|e| Store::names_entity(e)).take(*n) {
                    done.events += 1;
                    ins.execute(params![
                        ev.ts.0,
                        ev.sensor.as_str(),
                        ev.kind.name(),
                        &*ev.host,
                        ev.src_ip.map(|ip| IpText::new(ip).to_string()),
                        ev.user.as_deref(),
                        ev.session.as_deref(),
                        ev.count,
                        ev.hostile,
                        &*ev.raw,
                    ])
                    .map_err(sql)?;
                }
            }
        }
        tx.commit().map_err(sql)?;
        Ok(done)
    }

    /// The stored checkpoint of a source.
    pub fn checkpoint(&self, source: &str) -> Result<Option<Checkpoint>, StoreError> {
        self.conn
            .query_row(
                "SELECT name, dev, ino, offset, head_hash, cursor, checkpoint FROM sources
                 WHERE name = ?1",
                [source],
                checkpoint_row,
            )
            .optional()
            .map_err(|e| classify(&self.path, e))
    }

    /// Detector state records, the newest first, at most `limit` of each owner.
    pub fn state(&self, limit: usize) -> Result<Vec<StateRecord>, StoreError> {
        let sql = |e| classify(&self.path, e);
        let mut st = self
            .conn
            .prepare(
                "SELECT owner, key, value, ts FROM (
                    SELECT owner, key, value, ts,
                        row_number() OVER (PARTITION BY owner ORDER BY ts DESC) AS n
                    FROM detector_state)
                 WHERE n <= ?1 ORDER BY owner, ts DESC",
            )
            .map_err(sql)?;
        let rows = st
            .query_map([limit as i64], |r| {
                Ok(StateRecord {
                    owner: r.get::<_, String>(0)?.into(),
                    key: r.get(1)?,
                    value: r.get(2)?,
                    ts: Timestamp(r.get(3)?),
                    keep: Keep::First,
                })
            })
            .map_err(sql)?;
        rows.collect::<Result<_, _>>().map_err(sql)
    }

    /// Alerts matching `q`, most recent first.
    pub fn alerts(&self, q: &AlertQuery) -> Result<Vec<StoredAlert>, StoreError> {
        let mut out = vec![];
        self.for_each_alert(q, |a, _| {
            out.push(StoredAlert::from_view(a));
            true
        })?;
        Ok(out)
    }

    /// Hand each alert matching `q` to `f` with its [`Cursor`], most recently seen first,
    /// borrowed from its row (nothing is copied or collected); `f` returns false to stop.
    /// Returns how many were handed over.
    pub fn for_each_alert(
        &self,
        q: &AlertQuery,
        mut f: impl FnMut(&AlertView<'_>, Cursor) -> bool,
    ) -> Result<usize, StoreError> {
        let sql = |e| classify(&self.path, e);
        // only the filters given: the planner then picks the index that fits them
        let mut text = String::from(
            "SELECT id, rule, severity, score, entity_type, entity, src_ip, user, host,
                    count, first_seen, last_seen, explanation, evidence, state, state_by, state_at,
                    sensor, detail, techniques, rowid
             FROM alerts WHERE 1",
        );
        let mut args: Vec<rusqlite::types::Value> = vec![];
        // `clause ?n`, or the clause with each `?` made `?n` when it has its own
        let mut cond = |clause: &str, v: rusqlite::types::Value| {
            args.push(v);
            let n = format!("?{}", args.len());
            if clause.contains('?') {
                text.push_str(&format!(" AND {}", clause.replace('?', &n)));
            } else {
                text.push_str(&format!(" AND {clause} {n}"));
            }
        };
        if let Some(t) = q.since {
            cond("last_seen >=", t.0.into());
        }
        if let Some(t) = q.until {
            cond("last_seen <", t.0.into());
        }
        if let Some(s) = q.min_severity {
            cond("severity >=", (s.rank() as i64).into());
        }
        if let Some(r) = &q.rule {
            cond("rule =", r.clone().into());
        }
        if let Some(e) = &q.entity {
            cond("entity =", e.clone().into());
        }
        if let Some(t) = &q.entity_type {
            cond("entity_type =", t.clone().into());
        }
        if let Some(a) = &q.about {
            if a.parse::<std::net::IpAddr>().is_ok() {
                cond("src_ip =", a.clone().into());
            } else {
                cond("(entity = ? OR user = ?)", a.clone().into());
            }
        }
        if let Some(s) = &q.state {
            cond("state =", s.clone().into());
        }
        if let Some(t) = q.updated_since {
            cond("updated >=", t.0.into());
        }
        if let Some(c) = q.after {
            args.push(c.last_seen.into());
            args.push(c.row.into());
            text.push_str(&format!(
                " AND (last_seen, rowid) < (?{}, ?{})",
                args.len() - 1,
                args.len()
            ));
        }
        text.push_str(" ORDER BY last_seen DESC, rowid DESC");
        if q.limit > 0 {
            text.push_str(&format!(" LIMIT {}", q.limit));
        }
        let mut st = self.conn.prepare_cached(&text).map_err(sql)?;
        let mut rows = st.query(rusqlite::params_from_iter(args)).map_err(sql)?;
        let mut n = 0;
        while let Some(r) = rows.next().map_err(sql)? {
            n += 1;
            let cursor = Cursor {
                last_seen: r.get(11).map_err(sql)?,
                row: r.get(20).map_err(sql)?,
            };
            if !f(&alert_view(r).map_err(sql)?, cursor) {
                break;
            }
        }
        Ok(n)
    }

    /// The alert with this id.
    pub fn alert(&self, id: &str) -> Result<Option<StoredAlert>, StoreError> {
        let sql = |e| classify(&self.path, e);
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT id, rule, severity, score, entity_type, entity, src_ip, user, host,
                        count, first_seen, last_seen, explanation, evidence, state, state_by,
                        state_at, sensor, detail, techniques
                 FROM alerts WHERE id = ?1",
            )
            .map_err(sql)?;
        let mut rows = st.query([id]).map_err(sql)?;
        match rows.next().map_err(sql)? {
            Some(r) => Ok(Some(StoredAlert::from_view(&alert_view(r).map_err(sql)?))),
            None => Ok(None),
        }
    }

    /// Put an alert in a workflow state ([`STATES`]), saying who did and when. Returns false
    /// when there is no such alert. Detection growing the alert later keeps the state.
    pub fn set_state(
        &mut self,
        id: &str,
        state: &str,
        by: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        self.conn
            .execute(
                "UPDATE alerts SET state = ?2, state_by = ?3, state_at = ?4 WHERE id = ?1",
                params![id, state, by, at.0],
            )
            .map(|n| n > 0)
            .map_err(|e| classify(&self.path, e))
    }

    /// Whether a write transaction can start within a second (readiness checks).
    pub fn writable(&self) -> bool {
        let _ = self.conn.busy_timeout(Duration::from_secs(1));
        let ok = self.conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK").is_ok();
        let _ = self.conn.busy_timeout(Duration::from_secs(5));
        ok
    }

    /// Number of stored alerts.
    pub fn alert_count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT count(*) FROM alerts", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|e| classify(&self.path, e))
    }

    /// The entities with the highest alert scores among alerts last seen in [since, until):
    /// most severe first, at most `limit`.
    pub fn top_entities(
        &self,
        since: Timestamp,
        until: Timestamp,
        limit: usize,
    ) -> Result<Vec<EntitySummary>, StoreError> {
        let sql = |e| classify(&self.path, e);
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT entity_type, entity, max(score), max(severity), count(*), sum(count),
                        min(first_seen), max(last_seen)
                 FROM alerts WHERE last_seen >= ?1 AND last_seen < ?2
                 GROUP BY entity_type, entity
                 ORDER BY max(score) DESC, max(last_seen) DESC LIMIT ?3",
            )
            .map_err(sql)?;
        let rows = st
            .query_map(params![since.0, until.0, limit as i64], |r| {
                Ok(EntitySummary {
                    kind: r.get(0)?,
                    value: r.get(1)?,
                    score: r.get::<_, f64>(2)? as f32,
                    severity: Severity::from_rank(r.get::<_, i64>(3)? as u8)
                        .unwrap_or(Severity::Info),
                    alerts: r.get::<_, i64>(4)? as u64,
                    events: r.get::<_, i64>(5)? as u64,
                    first_seen: Timestamp(r.get(6)?),
                    last_seen: Timestamp(r.get(7)?),
                })
            })
            .map_err(sql)?;
        rows.collect::<Result<_, _>>().map_err(sql)
    }

    /// Alert counts per time bucket (`bucket` µs wide, aligned to the epoch) and per rule and
    /// severity, for alerts last seen in [since, until).
    pub fn alert_counts(
        &self,
        since: Timestamp,
        until: Timestamp,
        bucket: i64,
    ) -> Result<Vec<AlertCount>, StoreError> {
        let sql = |e| classify(&self.path, e);
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT (last_seen / ?3) * ?3 AS b, rule, severity, sensor, techniques, count(*)
                 FROM alerts WHERE last_seen >= ?1 AND last_seen < ?2
                 GROUP BY b, rule, severity, sensor, techniques ORDER BY b",
            )
            .map_err(sql)?;
        let rows = st
            .query_map(params![since.0, until.0, bucket.max(1)], |r| {
                Ok(AlertCount {
                    bucket: Timestamp(r.get(0)?),
                    rule: r.get(1)?,
                    severity: Severity::from_rank(r.get::<_, i64>(2)? as u8)
                        .unwrap_or(Severity::Info),
                    sensor: r.get(3)?,
                    techniques: techniques_of(r.get_ref(4)?.as_str()?),
                    alerts: r.get::<_, i64>(5)? as u64,
                })
            })
            .map_err(sql)?;
        rows.collect::<Result<_, _>>().map_err(sql)
    }

    /// Every stored checkpoint (files, the journal cursor), by source.
    pub fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        let sql = |e| classify(&self.path, e);
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT name, dev, ino, offset, head_hash, cursor, checkpoint FROM sources
                 ORDER BY name",
            )
            .map_err(sql)?;
        let rows = st.query_map([], checkpoint_row).map_err(sql)?;
        rows.collect::<Result<_, _>>().map_err(sql)
    }

    /// Keep the LLM gateway's findings (one transaction).
    pub fn insert_firewall_logs(&mut self, rows: &[FirewallLog]) -> Result<usize, StoreError> {
        let sql = |e| classify(&self.path, e);
        let tx = self.conn.transaction().map_err(sql)?;
        {
            let mut st = tx
                .prepare_cached(
                    "INSERT INTO firewall_logs (ts, route, direction, session, user_agent, src_ip,
                        api_key_id, input_hash, score, flags, breakdown, action, policy,
                        latency_ms, prompt)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                )
                .map_err(sql)?;
            for r in rows {
                st.execute(rusqlite::params![
                    r.ts,
                    r.route,
                    r.direction,
                    r.session,
                    r.user_agent,
                    r.src_ip,
                    r.api_key_id,
                    r.input_hash,
                    r.score,
                    r.flags,
                    r.breakdown,
                    r.action,
                    r.policy,
                    r.latency_ms,
                    r.prompt
                ])
                .map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)?;
        Ok(rows.len())
    }

    /// The latest `limit` gateway findings, newest first.
    pub fn firewall_logs(&self, limit: usize) -> Result<Vec<FirewallLog>, StoreError> {
        let sql = |e| classify(&self.path, e);
        let mut st = self
            .conn
            .prepare(
                "SELECT ts, route, direction, session, user_agent, src_ip, api_key_id, input_hash,
                    score, flags, breakdown, action, policy, latency_ms, prompt
                 FROM firewall_logs ORDER BY ts DESC, rowid DESC LIMIT ?1",
            )
            .map_err(sql)?;
        let rows = st
            .query_map([limit as i64], |r| {
                Ok(FirewallLog {
                    ts: r.get(0)?,
                    route: r.get(1)?,
                    direction: r.get(2)?,
                    session: r.get(3)?,
                    user_agent: r.get(4)?,
                    src_ip: r.get(5)?,
                    api_key_id: r.get(6)?,
                    input_hash: r.get(7)?,
                    score: r.get(8)?,
                    flags: r.get(9)?,
                    breakdown: r.get(10)?,
                    action: r.get(11)?,
                    policy: r.get(12)?,
                    latency_ms: r.get(13)?,
                    prompt: r.get(14)?,
                })
            })
            .map_err(sql)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sql)?;
        Ok(rows)
    }

    /// Delete alerts last seen before `cutoff`, and events and gateway findings before it;
    /// returns how many alerts.
    pub fn prune(&mut self, cutoff: Timestamp) -> Result<usize, StoreError> {
        let sql = |e| classify(&self.path, e);
        self.conn
            .execute("DELETE FROM events WHERE ts < ?1", [cutoff.0])
            .map_err(sql)?;
        self.conn
            .execute("DELETE FROM firewall_logs WHERE ts < ?1", [cutoff.0])
            .map_err(sql)?;
        self.conn
            .execute("DELETE FROM alerts WHERE last_seen < ?1", [cutoff.0])
            .map_err(sql)
    }

    /// Hand the stored events about `who` to `f`, newest first, at most `limit`: an address by
    /// its index, a network by the newest events' addresses (up to `NET_SCAN` rows looked at),
    /// a name as a user or a session.
    pub fn for_each_event(
        &self,
        who: &EventsAbout,
        limit: usize,
        mut f: impl FnMut(&EventRow<'_>),
    ) -> Result<usize, StoreError> {
        let sql = |e| classify(&self.path, e);
        let (text, arg, filter): (String, rusqlite::types::Value, Option<Cidr>) = match who {
            EventsAbout::Ip(ip) => (
                format!("SELECT {EVENT_COLUMNS} FROM events WHERE src_ip = ?1 ORDER BY ts DESC, rowid DESC LIMIT ?2"),
                IpText::new(*ip).to_string().into(),
                None,
            ),
            EventsAbout::Net(c) => (
                format!(
                    "SELECT {EVENT_COLUMNS} FROM events WHERE src_ip IS NOT NULL AND ?1 >= 0
                     ORDER BY rowid DESC LIMIT {NET_SCAN}"
                ),
                0i64.into(),
                Some(*c),
            ),
            EventsAbout::Name(n) => (
                format!(
                    "SELECT {EVENT_COLUMNS} FROM (
                        SELECT {EVENT_COLUMNS}, rowid AS r FROM events WHERE user = ?1
                        UNION ALL
                        SELECT {EVENT_COLUMNS}, rowid AS r FROM events
                            WHERE session = ?1 AND user IS NOT ?1)
                     ORDER BY ts DESC, r DESC LIMIT ?2"
                ),
                n.clone().into(),
                None,
            ),
        };
        let mut st = self.conn.prepare_cached(&text).map_err(sql)?;
        let mut rows = if filter.is_some() {
            st.query(params![arg]).map_err(sql)?
        } else {
            st.query(params![arg, limit as i64]).map_err(sql)?
        };
        let mut n = 0;
        while let Some(r) = rows.next().map_err(sql)? {
            let row = event_row(r).map_err(sql)?;
            if let Some(c) = &filter {
                let inside = row
                    .src_ip
                    .and_then(|s| s.parse::<std::net::IpAddr>().ok())
                    .is_some_and(|ip| c.contains(ip));
                if !inside {
                    continue;
                }
            }
            f(&row);
            n += 1;
            if n >= limit {
                break;
            }
        }
        Ok(n)
    }

    /// Hand every stored event at or after `since` to `f`, in the order they were stored
    /// (each source's own order), for training on what the daemon has seen.
    pub fn for_each_event_since(
        &self,
        since: Timestamp,
        mut f: impl FnMut(&EventRow<'_>),
    ) -> Result<u64, StoreError> {
        let sql = |e| classify(&self.path, e);
        let mut st = self
            .conn
            .prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE ts >= ?1 ORDER BY rowid"
            ))
            .map_err(sql)?;
        let mut rows = st.query([since.0]).map_err(sql)?;
        let mut n = 0;
        while let Some(r) = rows.next().map_err(sql)? {
            f(&event_row(r).map_err(sql)?);
            n += 1;
        }
        Ok(n)
    }
}

/// A `sources` row as a checkpoint: its own text, or for a row written before schema 6 the
/// text its source writes now ([`legacy_checkpoint`]).
fn checkpoint_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Checkpoint> {
    let source: String = r.get(0)?;
    let value = match r.get::<_, Option<String>>(6)? {
        Some(v) => v,
        None => legacy_checkpoint(
            &source,
            [r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?],
            r.get(5)?,
        ),
    };
    Ok(Checkpoint { source, value })
}

/// What a position stored before schema 6 (device, inode, offset, head hash; a journal
/// cursor) is as a checkpoint: the cursor for the journal, else `dev ino offset head_hash`.
pub fn legacy_checkpoint(source: &str, file: [i64; 4], cursor: Option<String>) -> String {
    match cursor {
        Some(c) if source == "journald" => c,
        _ => {
            let [dev, ino, offset, head] = file.map(|v| v as u64);
            format!("{dev} {ino} {offset} {head}")
        }
    }
}

/// The columns [`event_row`] reads, in its order.
const EVENT_COLUMNS: &str = "ts, sensor, kind, host, src_ip, user, session, count, hostile, raw";

/// A row of [`EVENT_COLUMNS`] as an event, borrowed.
fn event_row<'r>(r: &'r rusqlite::Row<'_>) -> rusqlite::Result<EventRow<'r>> {
    let text = |i: usize| -> rusqlite::Result<&str> { Ok(r.get_ref(i)?.as_str()?) };
    let opt = |i: usize| -> rusqlite::Result<Option<&str>> { Ok(r.get_ref(i)?.as_str_or_null()?) };
    Ok(EventRow {
        ts: Timestamp(r.get(0)?),
        sensor: text(1)?,
        kind: text(2)?,
        host: text(3)?,
        src_ip: opt(4)?,
        user: opt(5)?,
        session: opt(6)?,
        count: r.get(7)?,
        hostile: r.get(8)?,
        raw: text(9)?,
    })
}

/// Rows of the newest events a network's timeline looks through.
pub const NET_SCAN: usize = 200_000;

/// Whose events [`Store::for_each_event`] hands over.
#[derive(Debug, Clone)]
pub enum EventsAbout {
    Ip(std::net::IpAddr),
    Net(Cidr),
    /// A user name or a session id.
    Name(String),
}

/// A stored event, borrowed from its row.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EventRow<'a> {
    pub ts: Timestamp,
    pub sensor: &'a str,
    pub kind: &'a str,
    pub host: &'a str,
    pub src_ip: Option<&'a str>,
    pub user: Option<&'a str>,
    pub session: Option<&'a str>,
    pub count: u32,
    pub hostile: bool,
    pub raw: &'a str,
}

/// One `alerts` row (columns as selected by [`Store::for_each_alert`]), borrowed.
fn alert_view<'r>(r: &'r rusqlite::Row<'_>) -> rusqlite::Result<AlertView<'r>> {
    let text = |i: usize| -> rusqlite::Result<&'r str> { Ok(r.get_ref(i)?.as_str()?) };
    let opt =
        |i: usize| -> rusqlite::Result<Option<&'r str>> { Ok(r.get_ref(i)?.as_str_or_null()?) };
    // any entity type by its name (a session's alert reads back as a session's); what no type
    // names reads as a network's, as stored before types were kept
    let kind = tripline_event::KeyType::parse(text(4)?)
        .unwrap_or(tripline_event::KeyType::Subnet)
        .name();
    Ok(AlertView {
        id: text(0)?,
        rule: text(1)?,
        severity: Severity::from_rank(r.get::<_, i64>(2)? as u8).unwrap_or(Severity::Info),
        score: r.get::<_, f64>(3)? as f32,
        entity: EntityView {
            kind,
            value: Addr::Text(text(5)?),
        },
        src_ip: opt(6)?.map(Addr::Text),
        user: opt(7)?,
        host: text(8)?,
        techniques: TechniqueList::Joined(text(19)?),
        count: r.get::<_, i64>(9)? as u64,
        first_seen: Timestamp(r.get(10)?),
        last_seen: Timestamp(r.get(11)?),
        explanation: text(12)?,
        evidence: Lines::Joined(text(13)?),
        state: text(14)?,
        state_by: opt(15)?,
        state_at: r.get::<_, Option<i64>>(16)?.map(Timestamp),
        sensor: text(17)?,
        detail: opt(18)?.map(DetailRef::Json),
    })
}

impl StoredAlert {
    /// An owned copy of a borrowed stored alert.
    pub fn from_view(v: &AlertView<'_>) -> StoredAlert {
        StoredAlert {
            alert: Alert {
                id: v.id.into(),
                rule: v.rule.into(),
                severity: v.severity,
                score: v.score,
                entity: v.entity(),
                src_ip: v.src_ip.and_then(|a| a.to_string().parse().ok()),
                user: v.user.map(Into::into),
                host: v.host.into(),
                sensor: v.sensor.into(),
                techniques: Techniques::Owned(
                    v.techniques
                        .iter()
                        .filter_map(|t| tripline_event::catalog::technique(t).map(|t| t.id))
                        .collect(),
                ),
                count: v.count,
                first_seen: v.first_seen,
                last_seen: v.last_seen,
                explanation: v.explanation.to_string(),
                evidence: v.evidence.iter().map(Into::into).collect(),
                detail: v.detail.and_then(|d| d.read()).map(|(key, value)| {
                    Box::new(Detail {
                        key: Text::from(&*key),
                        value: value.into_owned(),
                    })
                }),
            },
            state: v.state.to_string(),
            state_by: v.state_by.map(str::to_string),
            state_at: v.state_at,
        }
    }
}

fn classify(path: &Path, e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    if let rusqlite::Error::SqliteFailure(f, ref msg) = e {
        match f.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                return StoreError::Locked {
                    path: path.to_path_buf(),
                }
            }
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                return StoreError::Corrupt {
                    path: path.to_path_buf(),
                    detail: msg.clone().unwrap_or_else(|| f.to_string()),
                }
            }
            _ => {}
        }
    }
    StoreError::Sql {
        path: path.to_path_buf(),
        source: e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(id: &str, count: u64, last: i64) -> Alert {
        Alert {
            id: id.into(),
            rule: "ssh.bruteforce".into(),
            severity: Severity::High,
            score: 0.8,
            entity: Entity::Ip("203.0.113.5".parse().unwrap()),
            src_ip: Some("203.0.113.5".parse().unwrap()),
            user: Some("root".into()),
            host: "web1".into(),
            sensor: "files".into(),
            techniques: Techniques::Borrowed(&["T1110.001"]),
            count,
            first_seen: Timestamp(1),
            last_seen: Timestamp(last),
            explanation: "why".into(),
            evidence: vec!["line <script>".into()],
            detail: None,
        }
    }

    #[test]
    fn upsert_is_idempotent_and_positions_commit_together() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("t.db")).unwrap();
        let pos = |value: &str| Checkpoint {
            source: "file:/x".into(),
            value: value.into(),
        };
        s.commit(&[alert("a", 5, 10)], &[], &[pos("1 2 300 9")])
            .unwrap();
        s.commit(&[alert("a", 7, 20)], &[], &[pos("1 2 400 9")])
            .unwrap();
        s.commit(&[alert("a", 7, 20)], &[], &[]).unwrap();
        let all = s.alerts(&AlertQuery::default()).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].alert.count, 7);
        assert_eq!(all[0].alert, alert("a", 7, 20));
        assert_eq!(s.checkpoint("file:/x").unwrap(), Some(pos("1 2 400 9")));
        assert_eq!(s.checkpoints().unwrap(), vec![pos("1 2 400 9")]);
        assert_eq!(s.checkpoint("file:/y").unwrap(), None);
    }

    /// The checkpointer copies committed pages into the database file on its own thread:
    /// with the commits' automatic checkpoints off, the file grows only through it.
    #[test]
    fn checkpoints_run_on_their_own_thread() {
        let dir = tempfile::tempdir().unwrap();
        let size = |s: &Store| std::fs::metadata(s.path()).unwrap().len();
        let alerts: Vec<Alert> = (0..400).map(|i| alert(&format!("a{i}"), 1, i)).collect();
        let mut plain = Store::open(&dir.path().join("plain.db")).unwrap();
        plain
            .conn
            .pragma_update(None, "wal_autocheckpoint", 0)
            .unwrap();
        let before = size(&plain);
        plain.commit(&alerts, &[], &[]).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(size(&plain), before, "no checkpoint without the thread");

        let mut s = Store::open(&dir.path().join("t.db")).unwrap();
        let before = size(&s);
        let c = s
            .checkpoint_in_background(Duration::from_millis(20))
            .unwrap();
        s.commit(&alerts, &[], &[]).unwrap();
        let end = std::time::Instant::now() + Duration::from_secs(5);
        while size(&s) == before && std::time::Instant::now() < end {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(size(&s) > before, "the thread checkpointed");
        drop(c);
        assert_eq!(s.alert_count().unwrap(), 400);
    }

    /// Regression: an alert on a session (the honeypot's) or a host read back as a network's.
    #[test]
    fn every_entity_type_reads_back_as_itself() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("t.db")).unwrap();
        let entities = [
            Entity::Ip("203.0.113.5".parse().unwrap()),
            Entity::User("root".into()),
            Entity::Subnet("203.0.113.0/24".into()),
            Entity::Session("803ba252d7d6".into()),
            Entity::Host("web1".into()),
        ];
        let alerts: Vec<Alert> = entities
            .iter()
            .enumerate()
            .map(|(i, e)| Alert {
                entity: e.clone(),
                ..alert(&format!("e{i}"), 1, 10)
            })
            .collect();
        s.commit(&alerts, &[], &[]).unwrap();
        for (i, e) in entities.iter().enumerate() {
            let got = s.alert(&format!("e{i}")).unwrap().unwrap();
            assert_eq!(&got.alert.entity, e);
        }
    }

    #[test]
    fn an_alert_whose_id_another_holds_moves_to_the_next_free_id_and_is_found_there_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("t.db")).unwrap();
        let id = "6553f100fffffffe";
        let other = |ip: &str, count: u64| {
            let mut a = alert(id, count, 10);
            a.entity = Entity::Ip(ip.parse().unwrap());
            a
        };
        // the id is taken by a different entity (and the next one by a different rule)
        let mut spray = other("203.0.113.7", 1);
        spray.rule = "ssh.spray".into();
        spray.id = "6553f100ffffffff".into();
        s.commit(&[alert(id, 5, 10), spray], &[], &[]).unwrap();
        // what a commit moved: (index, the last hex digit of the id it took)
        let moves = |s: &mut Store, alerts: &[Alert]| {
            let c = s.commit(alerts, &[], &[]).unwrap();
            assert!(c.crowded.is_empty());
            let ids: Vec<(usize, Text)> = c.moved;
            assert!(ids.iter().all(|(_, id)| id.starts_with("6553f1000000000")));
            ids.into_iter()
                .map(|(i, id)| (i, id.chars().last().unwrap()))
                .collect::<Vec<_>>()
        };
        // within the second, wrapping: …fe is the first alert's, …ff the spray's
        let new = [other("198.51.100.1", 6), other("198.51.100.2", 7)];
        assert_eq!(moves(&mut s, &new), vec![(0, '0'), (1, '1')]);
        // growth (and a replay) of each finds its own row: the same moves, nothing added
        for _ in 0..2 {
            let grown = [
                other("198.51.100.2", 9),
                alert(id, 8, 20),
                other("198.51.100.1", 6),
            ];
            assert_eq!(moves(&mut s, &grown), vec![(0, '1'), (2, '0')]);
        }
        let mut all: Vec<(String, String, String, u64)> = s
            .alerts(&AlertQuery::default())
            .unwrap()
            .into_iter()
            .map(|a| {
                let e = match &a.alert.entity {
                    Entity::Ip(ip) => ip.to_string(),
                    e => e.value(),
                };
                (
                    a.alert.id.to_string(),
                    a.alert.rule.to_string(),
                    e,
                    a.alert.count,
                )
            })
            .collect();
        all.sort();
        let row = |id: &str, rule: &str, e: &str, n| (id.into(), rule.into(), e.into(), n);
        assert_eq!(
            all,
            vec![
                row("6553f10000000000", "ssh.bruteforce", "198.51.100.1", 6),
                row("6553f10000000001", "ssh.bruteforce", "198.51.100.2", 9),
                row("6553f100fffffffe", "ssh.bruteforce", "203.0.113.5", 8),
                row("6553f100ffffffff", "ssh.spray", "203.0.113.7", 1),
            ]
        );
        // when every id it may take holds another alert, it is not stored and counted
        let crowd: Vec<Alert> = (0..ID_PROBES)
            .map(|i| {
                let mut a = other(&format!("2001:db8::{i:x}"), 1);
                a.id = probe_id("00000001000000f0", i).into();
                a
            })
            .collect();
        assert!(s.commit(&crowd, &[], &[]).unwrap().moved.is_empty());
        let mut late = other("2001:db8::ffff", 1);
        late.id = "00000001000000f0".into();
        let c = s.commit(&[late], &[], &[]).unwrap();
        assert_eq!((c.moved.len(), c.crowded), (0, vec![0]));
        assert_eq!(s.alert_count().unwrap(), 4 + ID_PROBES);
    }

    #[test]
    fn many_alerts_in_one_commit_are_stored_whole_and_grow_in_place() {
        // many alerts in one transaction, then one that grows some of them and adds others
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("t.db")).unwrap();
        let n = 37;
        let first: Vec<Alert> = (0..n)
            .map(|i| {
                let mut a = alert(&format!("id{i:03}"), 5 + i as u64, 100 + i as i64);
                a.user = Some(format!("user{i}").into());
                a.evidence = vec![format!("line {i}").into(), "second".into()];
                a
            })
            .collect();
        s.commit(&first, &[], &[]).unwrap();
        let mut second: Vec<Alert> = first[13..].to_vec();
        for a in &mut second {
            a.count += 1000;
            a.last_seen = Timestamp(a.last_seen.0 + 1000);
        }
        second.extend((n..n + 16).map(|i| alert(&format!("id{i:03}"), 1, 1)));
        s.commit(&second, &[], &[]).unwrap();
        let mut want: Vec<Alert> = first[..13].to_vec();
        want.extend(second);
        want.sort_by(|a, b| a.id.cmp(&b.id));
        for w in &want {
            let got = s.alert(&w.id).unwrap().expect("stored");
            assert_eq!(got.alert, *w, "{}", w.id);
        }
        let all = s
            .alerts(&AlertQuery {
                limit: 1000,
                ..AlertQuery::default()
            })
            .unwrap();
        assert_eq!(all.len(), want.len());
    }

    /// The store holds copies of root-only logs: what it makes is its owner's alone.
    #[test]
    fn a_new_store_and_its_directory_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data/sub");
        let db = data.join("t.db");
        let mut s = Store::open(&db).unwrap();
        s.commit(&[alert("a", 1, 1)], &[], &[]).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&dir.path().join("data")), 0o700);
        assert_eq!(mode(&db), 0o600);
        let wal = data.join("t.db-wal");
        if wal.exists() {
            assert_eq!(mode(&wal), 0o600);
        }
        // an existing database is opened as it is
        drop(s);
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o640)).unwrap();
        Store::open(&db).unwrap();
        assert_eq!(mode(&db), 0o640);
    }

    #[test]
    fn query_filters_and_retention() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("t.db")).unwrap();
        let mut low = alert("b", 1, 50);
        low.severity = Severity::Low;
        let rec = |owner: &str, key: &str, value: &str, ts, keep| StateRecord {
            owner: owner.into(),
            key: key.into(),
            value: value.into(),
            ts: Timestamp(ts),
            keep,
        };
        let first = rec("r1", "10.0.0.0/24 alice", "", 3, Keep::First);
        let moving = rec("r2", "k", "v1", 4, Keep::Latest);
        s.commit(&[alert("a", 5, 10), low], &[first.clone(), moving], &[])
            .unwrap();
        // a first sighting stays the first; a moving value moves
        let moved = rec("r2", "k", "v2", 9, Keep::Latest);
        let again = rec("r1", "10.0.0.0/24 alice", "", 8, Keep::First);
        s.commit(&[], &[again, moved.clone()], &[]).unwrap();
        let q = AlertQuery {
            min_severity: Some(Severity::Medium),
            ..Default::default()
        };
        assert_eq!(s.alerts(&q).unwrap().len(), 1);
        let q = AlertQuery {
            since: Some(Timestamp(20)),
            ..Default::default()
        };
        assert_eq!(s.alerts(&q).unwrap()[0].alert.id, "b");
        assert_eq!(s.prune(Timestamp(20)).unwrap(), 1);
        assert_eq!(s.alert_count().unwrap(), 1);
        // state outlives the alerts pruned; read back per owner, newest first
        let mut back = s.state(10).unwrap();
        back.sort_by(|a, b| a.owner.cmp(&b.owner));
        let as_read = |r: StateRecord| StateRecord {
            keep: Keep::First,
            ..r
        };
        assert_eq!(back, vec![as_read(first), as_read(moved)]);
        let many: Vec<StateRecord> = (0..30)
            .map(|i| rec("r3", &format!("k{i}"), "", i, Keep::First))
            .collect();
        s.commit(&[], &many, &[]).unwrap();
        let r3: Vec<i64> = s
            .state(5)
            .unwrap()
            .into_iter()
            .filter(|r| r.owner == "r3")
            .map(|r| r.ts.0)
            .collect();
        assert_eq!(r3, vec![29, 28, 27, 26, 25]);
    }

    #[test]
    fn cursor_pages_cover_everything_once_and_state_survives_growth() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("t.db")).unwrap();
        // 25 alerts, several sharing a last_seen (the row breaks the tie)
        let batch: Vec<Alert> = (0..25).map(|i| alert(&format!("a{i}"), 1, i / 3)).collect();
        s.commit(&batch, &[], &[]).unwrap();
        let mut seen = vec![];
        let mut q = AlertQuery {
            limit: 4,
            ..Default::default()
        };
        loop {
            let mut last = None;
            let n = s
                .for_each_alert(&q, |a, c| {
                    seen.push((a.last_seen.0, a.id.to_string()));
                    last = Some(c);
                    true
                })
                .unwrap();
            if n == 0 {
                break;
            }
            // an alert arriving between pages lands before the cursor: it is not repeated
            s.commit(&[alert(&format!("new{}", seen.len()), 1, 100)], &[], &[])
                .unwrap();
            q.after = last;
        }
        assert_eq!(seen.len(), 25, "{seen:?}");
        let mut ids: Vec<_> = seen.iter().map(|x| x.1.clone()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 25);
        assert!(seen.windows(2).all(|w| w[0].0 >= w[1].0), "newest first");

        // filters
        let count = |q: AlertQuery| s.alerts(&q).unwrap().len();
        assert_eq!(
            count(AlertQuery {
                since: Some(Timestamp(3)),
                until: Some(Timestamp(5)),
                ..Default::default()
            }),
            6
        );
        assert_eq!(
            count(AlertQuery {
                entity: Some("203.0.113.5".into()),
                ..Default::default()
            }),
            25 + 7
        );
        assert_eq!(
            count(AlertQuery {
                entity: Some("198.51.100.1".into()),
                ..Default::default()
            }),
            0
        );

        // workflow state: who and when, kept when detection grows the alert
        assert!(s
            .set_state("a3", "acknowledged", "alice", Timestamp(77))
            .unwrap());
        assert!(!s
            .set_state("nope", "resolved", "alice", Timestamp(77))
            .unwrap());
        s.commit(&[alert("a3", 9, 50)], &[], &[]).unwrap();
        let a = s.alert("a3").unwrap().unwrap();
        assert_eq!(a.alert.count, 9);
        assert_eq!(a.state, "acknowledged");
        assert_eq!(a.state_by.as_deref(), Some("alice"));
        assert_eq!(a.state_at, Some(Timestamp(77)));
        let acked = s
            .alerts(&AlertQuery {
                state: Some("acknowledged".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(acked.len(), 1);
        assert!(s.alert("nope").unwrap().is_none());
        assert_eq!(
            "12.34".parse::<Cursor>(),
            Ok(Cursor {
                last_seen: 12,
                row: 34
            })
        );
        assert!("12".parse::<Cursor>().is_err());
        assert!("a.b".parse::<Cursor>().is_err());
    }

    #[test]
    fn corrupt_file_is_a_clear_error_not_a_reset() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.db");
        std::fs::write(
            &p,
            b"this is not a database, it is a text file long enough to have a header......",
        )
        .unwrap();
        let err = Store::open(&p).err().expect("must fail");
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("bad.db"));
        assert!(
            std::fs::read(&p).unwrap().starts_with(b"this is not"),
            "file untouched"
        );
    }

    #[test]
    fn locked_database_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.db");
        let _s = Store::open(&p).unwrap();
        let other = Connection::open(&p).unwrap();
        other.execute_batch("BEGIN EXCLUSIVE").unwrap();
        let mut s2 = Store::open(&p).unwrap_or_else(|e| panic!("{e}"));
        s2.conn.busy_timeout(Duration::from_millis(50)).unwrap();
        let err = s2.commit(&[alert("z", 1, 1)], &[], &[]).unwrap_err();
        assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    }

    #[test]
    fn a_schema_2_store_is_migrated_and_keeps_its_alerts() {
        let dir = tempfile::tempdir().unwrap();
        // make it what schema 2 wrote: no sensor column, no detail column
        let s = migrated(
            dir.path(),
            |s| {
                let mut hp = alert("h", 1, 5);
                hp.rule = "honeypot.touch".into();
                s.commit(&[alert("a", 3, 1), hp], &[], &[]).unwrap();
            },
            "ALTER TABLE alerts DROP COLUMN sensor;
                     ALTER TABLE alerts DROP COLUMN detail;
                     ALTER TABLE sources DROP COLUMN checkpoint;
                     UPDATE meta SET value = '2' WHERE key = 'schema_version';",
        );
        let a = s.alert("a").unwrap().expect("kept");
        assert_eq!((a.alert.count, a.alert.sensor.as_str()), (3, "files"));
        assert!(a.alert.detail.is_none());
        let h = s.alert("h").unwrap().expect("kept");
        assert_eq!(h.alert.sensor, "cowrie");
        assert_eq!(schema(&s), "7");
    }

    /// A store made in `dir`, given what `prepare` writes, then turned by `sql` into what an
    /// older schema wrote, and opened again (migrated).
    fn migrated(dir: &Path, prepare: impl FnOnce(&mut Store), sql: &str) -> Store {
        let p = dir.join("old.db");
        {
            let mut s = Store::open(&p).unwrap();
            prepare(&mut s);
            s.conn.execute_batch(sql).unwrap();
        }
        Store::open(&p).unwrap_or_else(|e| panic!("{e}"))
    }

    fn schema(s: &Store) -> String {
        s.conn
            .query_row(
                "SELECT value FROM meta WHERE key='schema_version'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    }

    /// An anomaly detail as schema 4 kept it (the JSON of the detail alone).
    const ANOMALY_JSON: &str = r#"{"raw_score":0.69,"percentile":99.7,"band":"medium","features":[{"name":"new_source","value":1.0,"baseline_median":0.0}]}"#;

    #[test]
    fn a_schema_3_store_gains_details_and_keeps_its_alerts() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = migrated(
            dir.path(),
            |s| {
                s.commit(&[alert("a", 3, 1)], &[], &[]).unwrap();
            },
            "ALTER TABLE alerts DROP COLUMN detail;
                     ALTER TABLE sources DROP COLUMN checkpoint;
                     UPDATE meta SET value = '3' WHERE key = 'schema_version';",
        );
        assert_eq!(s.alert("a").unwrap().expect("kept").alert.count, 3);
        assert_eq!(schema(&s), "7");
        // a detector's detail round-trips under its key
        let mut an = alert("n", 1, 9);
        an.rule = "anomaly".into();
        an.detail = Some(Box::new(Detail {
            key: "anomaly".into(),
            value: serde_json::from_str(ANOMALY_JSON).unwrap(),
        }));
        an.techniques = Techniques::Borrowed(&["T1078", "T1548"]);
        s.commit(std::slice::from_ref(&an), &[], &[]).unwrap();
        let back = s.alert("n").unwrap().unwrap().alert;
        assert_eq!(back.detail, an.detail);
        // its own techniques too, by the listing and by id
        assert_eq!(&*back.techniques, ["T1078", "T1548"]);
        let mut listed = vec![];
        s.for_each_alert(&AlertQuery::default(), |v, _| {
            let json = serde_json::to_value(v).unwrap();
            listed.push((
                v.id.to_string(),
                json["techniques"].clone(),
                json["anomaly"]["band"].clone(),
            ));
            true
        })
        .unwrap();
        let want = (
            "n".to_string(),
            serde_json::json!(["T1078", "T1548"]),
            serde_json::json!("medium"),
        );
        assert!(listed.contains(&want), "{listed:?}");
        // a detail that does not read (a hand-edited file) is left out, not a failure
        s.conn
            .execute("UPDATE alerts SET detail = '{oops' WHERE id = 'n'", [])
            .unwrap();
        assert!(s.alert("n").unwrap().unwrap().alert.detail.is_none());
    }

    #[test]
    fn a_schema_5_position_reads_back_as_the_checkpoint_its_source_writes() {
        let dir = tempfile::tempdir().unwrap();
        // what schema 5 wrote: typed columns, no checkpoint
        let mut s = migrated(
            dir.path(),
            |_| {},
            "ALTER TABLE sources DROP COLUMN checkpoint;
                     INSERT INTO sources VALUES ('file:/var/log/auth.log', 2049, 77, 1234, 99, NULL, 1);
                     INSERT INTO sources VALUES ('journald', 0, 0, 0, 0, 's=ab;i=9;t=5f', 1);
                     UPDATE meta SET value = '5' WHERE key = 'schema_version';",
        );
        assert_eq!(schema(&s), "7");
        let file = s.checkpoint("file:/var/log/auth.log").unwrap().unwrap();
        assert_eq!(file.value, "2049 77 1234 99");
        let journal = s.checkpoint("journald").unwrap().unwrap();
        assert_eq!(journal.value, "s=ab;i=9;t=5f");
        // a new checkpoint replaces the old columns' reading
        let next = Checkpoint {
            source: "journald".into(),
            value: "s=ab;i=10;t=60".into(),
        };
        s.commit(&[], &[], std::slice::from_ref(&next)).unwrap();
        assert_eq!(s.checkpoint("journald").unwrap(), Some(next));
    }

    #[test]
    fn schema_6_first_seen_pairs_become_the_new_source_rules_state() {
        let dir = tempfile::tempdir().unwrap();
        // what schema 6 wrote: a table of its own for the pairs
        let s = migrated(
            dir.path(),
            |_| {},
            "DROP TABLE detector_state;
                     CREATE TABLE entity_first_seen (
                        user TEXT NOT NULL, subnet TEXT NOT NULL, first_seen INTEGER NOT NULL,
                        PRIMARY KEY (user, subnet));
                     INSERT INTO entity_first_seen VALUES ('alice', '10.0.0.0/24', 3);
                     INSERT INTO entity_first_seen VALUES ('dev ops', '2001:db8::/64', 5);
                     UPDATE meta SET value = '6' WHERE key = 'schema_version';",
        );
        assert_eq!(schema(&s), "7");
        let got: Vec<(String, String, i64)> = s
            .state(10)
            .unwrap()
            .into_iter()
            .map(|r| (r.owner.to_string(), r.key, r.ts.0))
            .collect();
        let want = |k: &str, ts| ("ssh.new_source_login".to_string(), k.to_string(), ts);
        assert_eq!(
            got,
            vec![
                want("2001:db8::/64 dev ops", 5),
                want("10.0.0.0/24 alice", 3)
            ]
        );
    }

    #[test]
    fn a_schema_4_anomaly_detail_reads_back_under_its_key() {
        let dir = tempfile::tempdir().unwrap();
        // what schema 4 wrote: the anomaly detail's own JSON in `anomaly`, or junk
        let s = migrated(
            dir.path(),
            |s| {
                let mut an = alert("n", 1, 9);
                an.rule = "anomaly".into();
                let mut bad = alert("b", 1, 9);
                bad.rule = "anomaly".into();
                s.commit(&[an, bad], &[], &[]).unwrap();
            },
            &format!(
                "ALTER TABLE alerts RENAME COLUMN detail TO anomaly;
                     ALTER TABLE sources DROP COLUMN checkpoint;
                     UPDATE alerts SET anomaly = '{ANOMALY_JSON}' WHERE id = 'n';
                     UPDATE alerts SET anomaly = '{{oops' WHERE id = 'b';
                     UPDATE meta SET value = '4' WHERE key = 'schema_version';"
            ),
        );
        assert_eq!(schema(&s), "7");
        let d = s
            .alert("n")
            .unwrap()
            .unwrap()
            .alert
            .detail
            .expect("migrated");
        assert_eq!(d.key, "anomaly");
        assert_eq!(
            d.value,
            serde_json::from_str::<serde_json::Value>(ANOMALY_JSON).unwrap()
        );
        assert!(s.alert("b").unwrap().unwrap().alert.detail.is_none());
    }
}
