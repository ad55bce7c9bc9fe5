//! `tripline.toml`: one file, every field documented with its default, unknown keys rejected.
//!
//! Loading reports every problem at once — unknown keys with their values, type errors, values
//! out of range — each naming the key, so a user fixes the file in one pass.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tripline_detect::DetectConfig;

/// The full configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the database and state live. Empty: `/var/lib/tripline` as root, else
    /// `$XDG_DATA_HOME/tripline` (`~/.local/share/tripline`).
    pub data_dir: String,
    /// Zone of syslog timestamps that carry none (`local`, `UTC`, or an IANA name).
    pub timezone: String,
    /// This host's name in alerts when a line carries none. Empty: the system host name.
    pub host: String,
    /// Seconds between polls of watched files when inotify is unavailable or missed an event.
    pub poll_interval_seconds: f64,
    /// Lines read per batch; each batch is one store transaction.
    pub batch_size: usize,
    /// Upper bound for a batch when a source has a backlog.
    pub max_batch_size: usize,
    /// Events that may wait between reading and detection; a full queue slows the reader
    /// (backpressure), it never drops.
    pub max_queue_size: usize,
    /// Detection shards (threads). 0: one per CPU left after the reader and the writer.
    pub parallel_processing: usize,
    /// Keep hot-path caches (timestamp conversion, host names). Off only for debugging.
    pub cache_enabled: bool,
    /// Read apart from the rest ([`SourcesConfig::parse`]): each table by its source type.
    #[serde(skip_deserializing)]
    pub sources: SourcesConfig,
    pub store: StoreConfig,
    pub output: OutputConfig,
    pub api: ApiConfig,
    pub detect: DetectConfig,
    pub anomaly: AnomalyConfig,
    /// The LLM gateway (`[gateway]`): an OpenAI-compatible proxy that scans every prompt.
    pub gateway: tripline_gateway::config::GatewayConfig,
    /// The honeypots (`[honeypot]`): decoys attackers connect to.
    pub honeypot: tripline_honeypot::config::HoneypotConfig,
}

/// What to watch: `[sources.files]`, `[sources.journald]`, `[sources.cowrie]`, and any
/// `[sources.NAME]` with a `type` (`jsonl`). Each table is read by its source type
/// (`tripline_sensors::source::TYPES`), strictly: a bad key is named with its table.
#[derive(Debug, Clone)]
pub struct SourcesConfig {
    /// Each source by name, built-in ones first.
    pub entries: Vec<(String, std::sync::Arc<dyn SourceSpec>)>,
}

use tripline_sensors::source::SourceSpec;

/// The table names that imply their type.
const BUILT_IN_SOURCES: [&str; 3] = ["files", "journald", "cowrie"];

impl Default for SourcesConfig {
    fn default() -> Self {
        use tripline_sensors::{files, journald};
        SourcesConfig {
            entries: vec![
                (
                    "files".into(),
                    std::sync::Arc::new(files::FilesConfig::default()),
                ),
                (
                    "journald".into(),
                    std::sync::Arc::new(journald::JournaldConfig::default()),
                ),
                (
                    "cowrie".into(),
                    std::sync::Arc::new(files::CowrieConfig::default()),
                ),
            ],
        }
    }
}

impl SourcesConfig {
    /// Read `[sources]`: each table by its type, every problem named. A built-in table left
    /// out keeps its defaults.
    pub fn parse(v: &toml::Value) -> Result<SourcesConfig, Vec<String>> {
        let mut out = SourcesConfig::default();
        let mut problems = vec![];
        let Some(t) = v.as_table() else {
            return Err(vec![format!("sources = {v}: expected a table of sources")]);
        };
        for (name, table) in t {
            let key = format!("sources.{name}");
            let mut table = table.clone();
            let Some(fields) = table.as_table_mut() else {
                problems.push(format!("{key} = {table}: expected a table"));
                continue;
            };
            let ty = match fields.remove("type") {
                Some(toml::Value::String(t)) => t,
                Some(other) => {
                    problems.push(format!("{key}.type = {other}: expected a source type name"));
                    continue;
                }
                None if BUILT_IN_SOURCES.contains(&name.as_str()) => name.clone(),
                None => {
                    problems.push(format!(
                        "{key}: needs `type = \"…\"` (one of {})",
                        type_names()
                    ));
                    continue;
                }
            };
            if BUILT_IN_SOURCES.contains(&name.as_str()) && ty != *name {
                problems.push(format!(
                    "{key}.type = {ty:?}: [sources.{name}] is always of type {name}"
                ));
                continue;
            }
            if !(1..=64).contains(&name.len())
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
            {
                problems.push(format!(
                    "{key}: a source name is 1 to 64 of a-z, 0-9, _ and -"
                ));
                continue;
            }
            let Some(t) = tripline_sensors::source::source_type(&ty) else {
                problems.push(format!(
                    "{key}.type = {ty:?}: not a source type (one of {})",
                    type_names()
                ));
                continue;
            };
            match (t.parse)(&key, table) {
                Ok(spec) => match out.entries.iter_mut().find(|(n, _)| n == name) {
                    Some(e) => e.1 = spec.into(),
                    None => out.entries.push((name.clone(), spec.into())),
                },
                Err(p) => problems.extend(p),
            }
        }
        match problems.is_empty() {
            true => Ok(out),
            false => Err(problems),
        }
    }

    /// The source called `name`.
    pub fn get(&self, name: &str) -> Option<&dyn SourceSpec> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| &**s)
    }

    /// As a TOML table (name → its table).
    pub fn to_toml(&self) -> toml::Value {
        toml::Value::Table(
            self.entries
                .iter()
                .map(|(n, s)| (n.clone(), s.to_toml()))
                .collect(),
        )
    }
}

fn type_names() -> String {
    tripline_sensors::source::TYPES
        .iter()
        .map(|t| t.name)
        .collect::<Vec<_>>()
        .join(", ")
}

impl PartialEq for SourcesConfig {
    fn eq(&self, other: &Self) -> bool {
        self.to_toml() == other.to_toml()
    }
}

impl Serialize for SourcesConfig {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_toml().serialize(s)
    }
}

/// Persistence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// SQLite file. Empty: `<data_dir>/tripline.db`.
    pub path: String,
    /// Alerts last seen longer ago than this are deleted (and stored events as old).
    pub retention_days: u32,
    /// `tripline run` stores every event that names an address, user or session, in the same
    /// transaction as its batch, for entity timelines. Scans (`once`) never do.
    pub keep_events: bool,
    /// Most events stored per second; beyond it (a flood) events are counted, not stored, so
    /// timelines never slow detection down.
    pub max_events_per_second: u32,
}

/// The Isolation Forest over behaviour windows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnomalyConfig {
    /// Model file (`tripline train` writes it). Empty: `<data_dir>/anomaly.model`.
    pub model: String,
    /// Length of a behaviour window, minutes of event time.
    pub feature_window_minutes: u32,
    /// Fewest windows `tripline train` accepts.
    pub training_samples: usize,
    /// Calibrated score at or above which a window alerts (0.7: the baseline percentile).
    pub anomaly_threshold: f64,
    /// Percentile of the training windows' scores that the calibrated 0.7 stands for.
    pub baseline_percentile: f64,
    pub n_estimators: usize,
    pub max_samples: usize,
    pub seed: u64,
}

impl Default for AnomalyConfig {
    fn default() -> Self {
        AnomalyConfig {
            model: String::new(),
            feature_window_minutes: 10,
            training_samples: 200,
            anomaly_threshold: 0.7,
            baseline_percentile: 99.5,
            n_estimators: 100,
            max_samples: 256,
            seed: 0,
        }
    }
}

/// Outputs besides the store (the responders), and which alerts each gets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputConfig {
    /// Print every new or grown alert as a JSON line on stdout (`run`).
    pub stdout_json: bool,
    /// devilnet-compatible `stream.jsonl` path. Empty: off.
    pub stream_jsonl: String,
    /// Directory for devilnet-compatible `INC-YYYYMMDD-NNNNNN.json` incident reports. Empty: off.
    pub incidents_dir: String,
    /// Commits each output may fall behind by; beyond it (a slow or hung output) alerts are
    /// dropped for that output and counted (`tripline_respond_alerts_total{outcome="dropped"}`),
    /// never held up detection or the store.
    pub queue: usize,
    /// Which alerts each output gets.
    pub decide: DecideConfig,
}

/// The decide stage: one filter per output.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecideConfig {
    pub stdout_json: tripline_respond::Filter,
    pub stream_jsonl: tripline_respond::Filter,
    pub incidents: tripline_respond::Filter,
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            stdout_json: false,
            stream_jsonl: String::new(),
            incidents_dir: String::new(),
            queue: 1024,
            decide: DecideConfig::default(),
        }
    }
}

/// The HTTP API inside `tripline run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    pub enabled: bool,
    /// Address and port to listen on; loopback unless you mean otherwise.
    pub bind: String,
    /// A second address serving only `/metrics`, without the token (Prometheus convention).
    /// Empty: off.
    pub metrics_bind: String,
    /// PEM certificate chain and private key: serve HTTPS instead of HTTP. Both or neither.
    pub tls_cert: String,
    pub tls_key: String,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            enabled: true,
            bind: "127.0.0.1:8731".into(),
            metrics_bind: String::new(),
            tls_cert: String::new(),
            tls_key: String::new(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: String::new(),
            timezone: "local".into(),
            host: String::new(),
            poll_interval_seconds: 1.0,
            batch_size: 1024,
            max_batch_size: 8192,
            max_queue_size: 4096,
            parallel_processing: 0,
            cache_enabled: true,
            sources: SourcesConfig::default(),
            store: StoreConfig::default(),
            output: OutputConfig::default(),
            api: ApiConfig::default(),
            detect: DetectConfig::default(),
            anomaly: AnomalyConfig::default(),
            gateway: Default::default(),
            honeypot: Default::default(),
        }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            path: String::new(),
            retention_days: 90,
            keep_events: true,
            max_events_per_second: 5000,
        }
    }
}

/// The documented default file printed by `tripline config default`.
pub const DEFAULT_TOML: &str = include_str!("default.toml");

/// Configuration problems, all of them.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration {source_name}:\n  {}", problems.join("\n  "))]
pub struct ConfigError {
    pub source_name: String,
    pub problems: Vec<String>,
}

fn unknown_keys(v: &toml::Value, known: &toml::Value, path: &str, out: &mut Vec<String>) {
    if let (toml::Value::Table(t), toml::Value::Table(k)) = (v, known) {
        for (key, val) in t {
            let p = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            match k.get(key) {
                None => {
                    let shown = val.to_string();
                    let shown = tripline_event::truncate_str(&shown, 80);
                    out.push(format!("{p} = {shown}: unknown key"));
                }
                Some(kv) => unknown_keys(val, kv, &p, out),
            }
        }
    }
}

/// The values given in `v` that `known` has a place for, each with its path: a table's keys
/// one by one (a table the defaults have as a table), anything else whole.
fn leaves(
    v: &toml::Value,
    known: &toml::Value,
    path: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, toml::Value)>,
) {
    match (v, known) {
        (toml::Value::Table(t), toml::Value::Table(k)) => {
            for (key, val) in t {
                if let Some(kv) = k.get(key) {
                    path.push(key.clone());
                    leaves(val, kv, path, out);
                    path.pop();
                }
            }
        }
        _ => out.push((path.clone(), v.clone())),
    }
}

/// Put `v` at `path` in `root` (whose tables along the path exist: they are the defaults').
fn set_at(root: &mut toml::Value, path: &[String], v: toml::Value) {
    let Some((last, parents)) = path.split_last() else {
        *root = v;
        return;
    };
    let mut at = root;
    for p in parents {
        match at {
            toml::Value::Table(t) => match t.get_mut(p) {
                Some(next) => at = next,
                None => return,
            },
            _ => return,
        }
    }
    if let toml::Value::Table(t) = at {
        t.insert(last.clone(), v);
    }
}

impl Config {
    /// Parse TOML (or JSON, when the text starts with `{`), reporting every problem.
    pub fn parse(text: &str, source_name: &str) -> Result<Config, ConfigError> {
        let err = |problems| ConfigError {
            source_name: source_name.to_string(),
            problems,
        };
        let value: toml::Value = if text.trim_start().starts_with('{') {
            let j: serde_json::Value =
                serde_json::from_str(text).map_err(|e| err(vec![format!("JSON: {e}")]))?;
            toml::Value::try_from(j).map_err(|e| err(vec![format!("JSON: {e}")]))?
        } else {
            toml::from_str(text)
                .map_err(|e| err(vec![e.to_string().trim().replace('\n', "\n  ")]))?
        };
        let mut value = value;
        // sources are read by their types, which name their own bad keys
        let sources = match &mut value {
            toml::Value::Table(t) => t.remove("sources"),
            _ => None,
        };
        let known =
            toml::Value::try_from(Config::default()).map_err(|e| err(vec![e.to_string()]))?;
        let mut known = known;
        if let toml::Value::Table(t) = &mut known {
            t.remove("sources");
        }
        let mut problems = vec![];
        unknown_keys(&value, &known, "", &mut problems);
        let sources = match sources.map(|v| SourcesConfig::parse(&v)) {
            None => SourcesConfig::default(),
            Some(Ok(s)) => s,
            Some(Err(p)) => {
                problems.extend(p);
                SourcesConfig::default()
            }
        };
        // every value given, over the defaults, one at a time: a table given in part takes the
        // defaults for the keys it leaves out, and every value of the wrong type is named, not
        // only the first
        let mut merged = known.clone();
        let mut given = vec![];
        leaves(&value, &known, &mut vec![], &mut given);
        for (path, leaf) in given {
            let mut candidate = merged.clone();
            set_at(&mut candidate, &path, leaf.clone());
            match candidate.try_into::<Config>() {
                Ok(_) => set_at(&mut merged, &path, leaf),
                Err(e) => {
                    let shown = leaf.to_string();
                    let why = e.to_string();
                    let why = why.trim().lines().next().unwrap_or_default();
                    problems.push(format!(
                        "{} = {}: {why}",
                        path.join("."),
                        tripline_event::truncate_str(&shown, 80)
                    ));
                }
            }
        }
        let cfg = merged
            .try_into::<Config>()
            .map(|c| Config { sources, ..c })
            .map_err(|e| err(vec![e.to_string()]))?;
        // what the values say together (ranges, addresses, time zones), on the values that read
        problems.extend(cfg.validate());
        match problems.is_empty() {
            true => Ok(cfg),
            false => Err(err(problems)),
        }
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            source_name: path.display().to_string(),
            problems: vec![format!("cannot read: {e}")],
        })?;
        Config::parse(&text, &path.display().to_string())
    }

    /// Values serde cannot check.
    pub fn validate(&self) -> Vec<String> {
        let mut p = vec![];
        if self.gateway.enabled {
            self.gateway.validate(&mut p);
        }
        self.honeypot.validate(&mut p);
        if !(self.poll_interval_seconds > 0.0 && self.poll_interval_seconds <= 3600.0) {
            p.push(format!(
                "poll_interval_seconds = {}: must be in (0, 3600]",
                self.poll_interval_seconds
            ));
        }
        if self.batch_size == 0 || self.batch_size > self.max_batch_size {
            p.push(format!(
                "batch_size = {}: must be 1..=max_batch_size ({})",
                self.batch_size, self.max_batch_size
            ));
        }
        if self.max_batch_size > 1_000_000 {
            p.push(format!(
                "max_batch_size = {}: must be at most 1000000",
                self.max_batch_size
            ));
        }
        if self.max_queue_size < self.batch_size {
            p.push(format!(
                "max_queue_size = {}: must be at least batch_size ({})",
                self.max_queue_size, self.batch_size
            ));
        }
        if self.api.enabled && self.api.bind.parse::<std::net::SocketAddr>().is_err() {
            p.push(format!(
                "api.bind = {:?}: expected an address and port like 127.0.0.1:8731",
                self.api.bind
            ));
        }
        if self.api.enabled
            && !self.api.metrics_bind.is_empty()
            && self
                .api
                .metrics_bind
                .parse::<std::net::SocketAddr>()
                .is_err()
        {
            p.push(format!(
                "api.metrics_bind = {:?}: expected an address and port like 127.0.0.1:9731, or empty",
                self.api.metrics_bind
            ));
        }
        match (self.api.tls_cert.is_empty(), self.api.tls_key.is_empty()) {
            (false, true) => p.push(format!(
                "api.tls_key = \"\": needed with api.tls_cert = {:?}",
                self.api.tls_cert
            )),
            (true, false) => p.push(format!(
                "api.tls_cert = \"\": needed with api.tls_key = {:?}",
                self.api.tls_key
            )),
            _ => {}
        }
        let a = &self.anomaly;
        let bad: [(bool, &str, String, &str); 6] = [
            (
                !(1..=1440).contains(&a.feature_window_minutes),
                "feature_window_minutes",
                a.feature_window_minutes.to_string(),
                "1..=1440",
            ),
            (
                a.training_samples < 2,
                "training_samples",
                a.training_samples.to_string(),
                "at least 2",
            ),
            (
                !(a.anomaly_threshold > 0.0 && a.anomaly_threshold <= 1.0),
                "anomaly_threshold",
                a.anomaly_threshold.to_string(),
                "above 0, at most 1",
            ),
            (
                !(50.0..=99.99).contains(&a.baseline_percentile),
                "baseline_percentile",
                a.baseline_percentile.to_string(),
                "50..=99.99",
            ),
            (
                !(1..=10_000).contains(&a.n_estimators),
                "n_estimators",
                a.n_estimators.to_string(),
                "1..=10000",
            ),
            (
                !(2..=65_536).contains(&a.max_samples),
                "max_samples",
                a.max_samples.to_string(),
                "2..=65536",
            ),
        ];
        for (wrong, key, value, want) in bad {
            if wrong {
                p.push(format!("anomaly.{key} = {value}: must be {want}"));
            }
        }
        if self.parallel_processing > 256 {
            p.push(format!(
                "parallel_processing = {}: must be 0..=256",
                self.parallel_processing
            ));
        }
        if let Err(e) = tripline_sensors::TimeContext::new(&self.timezone) {
            p.push(format!("timezone = {:?}: {e}", self.timezone));
        }
        p.extend(self.detect.validate("detect."));
        if !(1..=1_000_000).contains(&self.output.queue) {
            p.push(format!(
                "output.queue = {}: must be 1..=1000000",
                self.output.queue
            ));
        }
        let d = &self.output.decide;
        p.extend(d.stdout_json.validate("output.decide.stdout_json."));
        p.extend(d.stream_jsonl.validate("output.decide.stream_jsonl."));
        p.extend(d.incidents.validate("output.decide.incidents."));
        p
    }

    pub fn data_dir(&self) -> PathBuf {
        if !self.data_dir.is_empty() {
            return PathBuf::from(&self.data_dir);
        }
        let root = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("Uid:"))
                    .map(|l| l.split_whitespace().nth(1) == Some("0"))
            })
            .unwrap_or(false);
        if root {
            return PathBuf::from("/var/lib/tripline");
        }
        match std::env::var_os("XDG_DATA_HOME") {
            Some(d) => PathBuf::from(d).join("tripline"),
            None => PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| ".".into()))
                .join(".local/share/tripline"),
        }
    }

    /// Where the anomaly model is.
    pub fn model_path(&self) -> PathBuf {
        if self.anomaly.model.is_empty() {
            self.data_dir().join("anomaly.model")
        } else {
            PathBuf::from(&self.anomaly.model)
        }
    }

    pub fn db_path(&self) -> PathBuf {
        if self.store.path.is_empty() {
            self.data_dir().join("tripline.db")
        } else {
            PathBuf::from(&self.store.path)
        }
    }

    /// Detection shards: `parallel_processing`, or with 0 one per CPU left after the reader
    /// and the store writer (at least one). More shards than free cores only add hand-offs:
    /// on 2 cores one shard scans ~20 % cheaper in CPU than two (docs/BENCHMARKS.md).
    pub fn shards(&self) -> usize {
        match self.parallel_processing {
            0 => std::thread::available_parallelism()
                .map(|n| n.get().saturating_sub(2))
                .unwrap_or(1)
                .max(1),
            n => n,
        }
    }

    /// What the runtime needs of this configuration.
    pub fn settings(&self) -> tripline_runtime::Settings {
        tripline_runtime::Settings {
            batch_size: self.batch_size,
            max_queue_size: self.max_queue_size,
            shards: self.shards(),
            keep_events: self.store.keep_events,
            max_events_per_second: self.store.max_events_per_second,
        }
    }

    /// The anomaly model `anomaly.model` names (it must exist) or the one in the data
    /// directory (when there is one): None without a model. A model file that cannot be used
    /// is an error naming it.
    pub fn anomaly_model(&self) -> anyhow::Result<Option<std::sync::Arc<tripline_anomaly::Model>>> {
        let path = self.model_path();
        if self.anomaly.model.is_empty() && !path.exists() {
            return Ok(None);
        }
        let names = tripline_anomaly::features::FEATURES;
        let model = tripline_anomaly::Model::load(&path, Some(&names))
            .map_err(|e| anyhow::anyhow!("anomaly.model: {e}"))?;
        Ok(Some(std::sync::Arc::new(model)))
    }

    /// Whether honeypot events can reach the pipeline: from tripline's decoys, or from a source
    /// that reads Cowrie's log or JSON-lines events (`only`: that source alone, as a scan reads).
    pub fn reads_honeypots(&self, only: Option<&str>) -> bool {
        let carries = |s: &dyn SourceSpec| matches!(s.type_name(), "cowrie" | "jsonl");
        match only {
            Some(name) => self.sources.get(name).is_some_and(carries),
            None => {
                self.honeypot.any()
                    || self
                        .sources
                        .entries
                        .iter()
                        .any(|(_, s)| s.enabled() && carries(&**s))
            }
        }
    }

    /// The detectors this configuration runs: the log rules (continuing `restore`, the alerts
    /// still open from an earlier run, from `state`, the detector state stored then), the
    /// tripwires when honeypot events can come (`honeypots`, [`Config::reads_honeypots`]: a
    /// log-only run keeps each shard's one detector called straight), the gateway's detector
    /// when it is on, and the anomaly model when there is one.
    pub fn detectors(
        &self,
        restore: Vec<tripline_event::Alert>,
        state: Vec<tripline_event::StateRecord>,
        honeypots: bool,
    ) -> anyhow::Result<Vec<tripline_detect::DetectorSpec>> {
        let mut out = vec![tripline_detect::rules_spec(
            std::sync::Arc::new(self.detect.clone()),
            tripline_runtime::allowlist(&self.detect),
            restore,
            state,
        )];
        // the tripwires read honeypot sessions from tripline's decoys and from Cowrie's logs
        if honeypots {
            out.push(tripline_honeypot::detector::spec(
                tripline_honeypot::detector::HoneypotDetectConfig {
                    cooldown_seconds: self.detect.cooldown_seconds as i64,
                    max_sessions: self.detect.max_tracked_entities.min(100_000),
                    allow: tripline_runtime::allowlist(&self.detect),
                    ..Default::default()
                },
            ));
        }
        if self.gateway.enabled {
            out.push(tripline_gateway::detector::spec(
                tripline_gateway::detector::LlmDetectConfig {
                    cooldown_seconds: self.detect.cooldown_seconds as i64,
                    max_tracked: self.detect.max_tracked_entities,
                    ..Default::default()
                },
            ));
        }
        if let Some(model) = self.anomaly_model()? {
            out.push(tripline_anomaly::detector::spec(
                model,
                self.anomaly.feature_window_minutes,
                self.detect.max_tracked_entities,
                self.anomaly.anomaly_threshold,
            ));
        }
        Ok(out)
    }

    /// Every rule any detector raises (whether it runs or not: stored alerts of a detector
    /// turned off still read back with their names).
    pub fn catalog() -> tripline_event::catalog::Catalog {
        let rules = tripline_detect::RULES.iter();
        tripline_event::catalog::Catalog::new(
            rules
                .chain([&tripline_anomaly::detector::RULE])
                .chain([
                    &tripline_honeypot::detector::SESSION,
                    &tripline_honeypot::detector::EXPLOIT,
                ])
                .chain(tripline_prompt::rules::all()),
        )
    }

    pub fn hostname(&self) -> String {
        if !self.host.is_empty() {
            return self.host.clone();
        }
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "localhost".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_default_file_is_the_default() {
        let c = Config::parse(DEFAULT_TOML, "default.toml").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c, Config::default());
    }

    #[test]
    fn every_unknown_key_is_named_with_its_value() {
        let e = Config::parse("bogus = 1\n[detect]\ncooldown = \"x\"\n[detect.rules.ssh_bruteforce]\nthreshhold = 3\n", "t").unwrap_err();
        let all = e.problems.join("\n");
        assert!(all.contains("bogus = 1: unknown key"), "{all}");
        assert!(
            all.contains("detect.cooldown = \"x\": unknown key"),
            "{all}"
        );
        assert!(
            all.contains("detect.rules.ssh_bruteforce.threshhold = 3"),
            "{all}"
        );
        assert_eq!(e.problems.len(), 3);
    }

    /// Regression: a rule table given in part was refused (`missing field enabled`), and only
    /// the first problem of a file was reported.
    #[test]
    fn a_partial_table_takes_the_defaults_and_every_problem_is_named_at_once() {
        let c = Config::parse("[detect.rules.ssh_bruteforce]\nthreshold = 3\n", "t")
            .unwrap_or_else(|e| panic!("{e}"));
        let want = tripline_detect::RulesConfig::default().ssh_bruteforce;
        assert_eq!(c.detect.rules.ssh_bruteforce.threshold, 3);
        assert_eq!(
            c.detect.rules.ssh_bruteforce.window_seconds,
            want.window_seconds
        );
        assert_eq!(c.detect.rules.ssh_bruteforce.severity, want.severity);
        let e = Config::parse(
            "batch_size = \"many\"\n[detect]\nnope = 1\ncooldown_seconds = \"soon\"\n[detect.rules.ssh_spray]\nusers = 0\n[anomaly]\nanomaly_threshold = 1.5\n",
            "t",
        )
        .unwrap_err();
        let all = e.problems.join("\n");
        for want in [
            "batch_size = \"many\"",
            "detect.nope = 1: unknown key",
            "detect.cooldown_seconds = \"soon\"",
            "detect.rules.ssh_spray.users = 0",
            "anomaly.anomaly_threshold = 1.5",
        ] {
            assert!(all.contains(want), "{want}: {all}");
        }
        assert_eq!(e.problems.len(), 5, "{all}");
    }

    #[test]
    fn bad_values_are_named() {
        let e = Config::parse("batch_size = 0\ntimezone = \"Nowhere/Land\"\n[detect]\nallowlist = [\"10.0.0.0/99\"]\n", "t").unwrap_err();
        let all = e.problems.join("\n");
        assert!(all.contains("batch_size = 0"), "{all}");
        assert!(all.contains("timezone = \"Nowhere/Land\""), "{all}");
        assert!(
            all.contains("detect.allowlist[0] = \"10.0.0.0/99\""),
            "{all}"
        );
        let e = Config::parse("batch_size = \"many\"\n", "t").unwrap_err();
        assert!(e.problems[0].contains("batch_size"), "{:?}", e.problems);
        let e = Config::parse("[anomaly]\nanomaly_threshold = 1.5\nmax_samples = 1\n", "t")
            .unwrap_err();
        let all = e.problems.join("\n");
        assert!(all.contains("anomaly.anomaly_threshold = 1.5"), "{all}");
        assert!(all.contains("anomaly.max_samples = 1"), "{all}");
        let e =
            Config::parse("[sources.journald]\nresume_warmup_minutes = 20000\n", "t").unwrap_err();
        assert!(
            e.problems[0].contains("sources.journald.resume_warmup_minutes = 20000"),
            "{:?}",
            e.problems
        );
        let e = Config::parse("[api]\ntls_cert = \"/c.pem\"\n", "t").unwrap_err();
        assert!(
            e.problems[0].contains("api.tls_key = \"\": needed with api.tls_cert = \"/c.pem\""),
            "{:?}",
            e.problems
        );
    }

    #[test]
    fn outputs_and_sources_name_their_bad_keys() {
        let e = Config::parse(
            "[output]\nqueue = 0\n[output.decide.stdout_json]\nrules = [\"\"]\nmin_severity = \"loud\"\n",
            "t",
        )
        .unwrap_err();
        let all = e.problems.join("\n");
        assert!(all.contains("min_severity"), "{all}");
        let e = Config::parse(
            "[output]\nqueue = 0\n[output.decide.incidents]\nrules = [\"s*sh\"]\n",
            "t",
        )
        .unwrap_err();
        let all = e.problems.join("\n");
        assert!(all.contains("output.queue = 0"), "{all}");
        assert!(
            all.contains("output.decide.incidents.rules[0] = \"s*sh\""),
            "{all}"
        );
        // a source table: its type's own keys, a built-in's type fixed, a name that is no name
        let e = Config::parse(
            "[sources.files]\ntype = \"jsonl\"\n[sources.journald]\nmatchez = []\n[sources.\"My App\"]\ntype = \"jsonl\"\n",
            "t",
        )
        .unwrap_err();
        let all = e.problems.join("\n");
        assert!(all.contains("sources.files.type = \"jsonl\""), "{all}");
        assert!(
            all.contains("sources.journald: unknown field `matchez`"),
            "{all}"
        );
        assert!(all.contains("sources.My App: a source name"), "{all}");
        // a good one reads back, and the built-in tables keep their defaults
        let c = Config::parse(
            "[sources.myapp]\ntype = \"jsonl\"\npaths = [\"/var/log/app.jsonl\"]\n",
            "t",
        )
        .unwrap();
        assert_eq!(c.sources.get("myapp").map(|s| s.type_name()), Some("jsonl"));
        assert_eq!(c.sources.entries.len(), 4);
        assert_eq!(
            c.sources.get("files").map(|s| s.to_toml()),
            Config::default().sources.get("files").map(|s| s.to_toml())
        );
    }

    #[test]
    fn json_is_accepted() {
        let c = Config::parse(
            r#"{"batch_size": 10, "detect": {"cooldown_seconds": 5}}"#,
            "t.json",
        )
        .unwrap();
        assert_eq!((c.batch_size, c.detect.cooldown_seconds), (10, 5));
    }
}
