//! What `/metrics` exports (Prometheus text format), names `tripline_<stage>_<name>_<unit>`:
//! per source the lines, bytes, events, unparsed and truncated lines and parse errors read;
//! events dropped (none: queues block, they never drop); batches in flight; tracked entities,
//! evictions and expiries per shard; alert writes by rule and severity; store commits, their
//! latency and size; the latency from an event being read to its alert being stored; and the
//! process's memory, CPU, uptime and build.
//!
//! Every stage updates plain atomics (prometheus-client's counters); a scrape renders them.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};
use std::sync::atomic::{AtomicI64, AtomicU64};
use std::time::Instant;

type Labels = Vec<(&'static str, String)>;

/// Counters of one stream of a source (a file, the journal), as its health reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceCounts {
    pub lines: u64,
    pub bytes: u64,
    pub events: u64,
    pub unparsed: u64,
    pub truncated: u64,
    pub parse_errors: u64,
    pub dropped: u64,
}

impl SourceCounts {
    fn of(s: &tripline_sensors::source::SensorState) -> SourceCounts {
        SourceCounts {
            lines: s.lines,
            bytes: s.bytes,
            events: s.events,
            unparsed: s.unparsed_lines,
            truncated: s.truncated_lines,
            parse_errors: s.parse_errors,
            dropped: s.dropped,
        }
    }
}

pub struct Metrics {
    registry: Registry,
    started: Instant,
    lines: Family<Labels, Counter>,
    bytes: Family<Labels, Counter>,
    events: Family<Labels, Counter>,
    unparsed: Family<Labels, Counter>,
    truncated: Family<Labels, Counter>,
    parse_errors: Family<Labels, Counter>,
    source_dropped: Family<Labels, Counter>,
    pub dropped: Counter,
    pub batches_in_flight: Gauge,
    tracked: Family<Labels, Gauge>,
    evictions: Family<Labels, Counter>,
    expired: Family<Labels, Counter>,
    alert_writes: Family<Labels, Counter>,
    pub commits: Counter,
    /// Transactions the store refused (each retry counts).
    pub commit_failures: Counter,
    pub events_stored: Counter,
    pub events_not_stored: Counter,
    pub commit_seconds: Histogram,
    pub commit_alerts: Histogram,
    pub latency_seconds: Histogram,
    respond: Family<Labels, Counter>,
    honeypot: Family<Labels, Counter>,
    /// The decoys' counters (read at each scrape), and what of each was last added.
    decoys: std::sync::Mutex<Option<Decoys>>,
    /// The sources' health, and what of each stream's counters was last added.
    health: std::sync::Mutex<Option<Health>>,
    /// The responders' counts, and what of them was last added to `respond`.
    responders: std::sync::Mutex<Vec<Watched>>,
    rss_bytes: Gauge<i64, AtomicI64>,
    cpu_seconds: Gauge<f64, AtomicU64>,
    uptime_seconds: Gauge<f64, AtomicU64>,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut r = Registry::with_prefix("tripline");
        let m = Metrics {
            registry: Registry::default(),
            started: Instant::now(),
            lines: Family::default(),
            bytes: Family::default(),
            events: Family::default(),
            unparsed: Family::default(),
            truncated: Family::default(),
            parse_errors: Family::default(),
            source_dropped: Family::default(),
            dropped: Counter::default(),
            batches_in_flight: Gauge::default(),
            tracked: Family::default(),
            evictions: Family::default(),
            expired: Family::default(),
            alert_writes: Family::default(),
            commits: Counter::default(),
            commit_failures: Counter::default(),
            events_stored: Counter::default(),
            events_not_stored: Counter::default(),
            commit_seconds: Histogram::new(exponential_buckets(0.0001, 2.5, 14)),
            commit_alerts: Histogram::new(exponential_buckets(1.0, 4.0, 8)),
            latency_seconds: Histogram::new(exponential_buckets(0.0001, 2.5, 14)),
            respond: Family::default(),
            honeypot: Family::default(),
            decoys: Default::default(),
            health: Default::default(),
            responders: Default::default(),
            rss_bytes: Gauge::default(),
            cpu_seconds: Gauge::default(),
            uptime_seconds: Gauge::default(),
        };
        r.register("sensor_lines", "Lines read", m.lines.clone());
        r.register_with_unit("sensor_read", "Bytes read", Unit::Bytes, m.bytes.clone());
        r.register(
            "sensor_events",
            "Events parsed from the lines",
            m.events.clone(),
        );
        r.register(
            "sensor_unparsed_lines",
            "Lines that are not events (most lines of a log)",
            m.unparsed.clone(),
        );
        r.register(
            "sensor_truncated_lines",
            "Lines over 64 KiB, truncated",
            m.truncated.clone(),
        );
        r.register(
            "sensor_parse_errors",
            "Lines that should have parsed and did not (invalid Cowrie JSON)",
            m.parse_errors.clone(),
        );
        r.register(
            "sensor_dropped_events",
            "Events a push source refused because the pipeline was behind (the request was not held up)",
            m.source_dropped.clone(),
        );
        r.register(
            "pipeline_events_dropped",
            "Events dropped (queues apply backpressure; this stays 0)",
            m.dropped.clone(),
        );
        r.register(
            "pipeline_queue_batches",
            "Batches read and not yet committed",
            m.batches_in_flight.clone(),
        );
        r.register(
            "detect_tracked_entities",
            "Addresses, users and networks with state, per shard",
            m.tracked.clone(),
        );
        r.register(
            "detect_evictions",
            "Entities evicted at max_tracked_entities",
            m.evictions.clone(),
        );
        r.register(
            "detect_expired",
            "Entities and alerts forgotten once their windows passed",
            m.expired.clone(),
        );
        r.register(
            "store_alert_writes",
            "Alerts written (opened or grown), by rule and severity",
            m.alert_writes.clone(),
        );
        r.register("store_commits", "Store transactions", m.commits.clone());
        r.register(
            "store_commit_failures",
            "Store transactions that failed (the writer retries; reading waits meanwhile)",
            m.commit_failures.clone(),
        );
        r.register(
            "store_events",
            "Events stored for entity timelines",
            m.events_stored.clone(),
        );
        r.register(
            "store_events_not_stored",
            "Events not stored for timelines: over store.max_events_per_second (a flood)",
            m.events_not_stored.clone(),
        );
        r.register_with_unit(
            "store_commit",
            "Time per store transaction",
            Unit::Seconds,
            m.commit_seconds.clone(),
        );
        r.register(
            "store_commit_alerts",
            "Alerts per store transaction",
            m.commit_alerts.clone(),
        );
        r.register_with_unit(
            "pipeline_latency",
            "From a batch's first event being read to its alerts being stored",
            Unit::Seconds,
            m.latency_seconds.clone(),
        );
        r.register(
            "honeypot",
            "What the decoys counted (decoy, counter): connections, logins, commands, transfers, and what their limits refused or cut",
            m.honeypot.clone(),
        );
        r.register(
            "respond_alerts",
            "Alerts handed to each responder, by outcome: delivered, dropped (its queue was full), failed, filtered (its decide filter)",
            m.respond.clone(),
        );
        r.register_with_unit(
            "process_resident_memory",
            "Resident memory",
            Unit::Bytes,
            m.rss_bytes.clone(),
        );
        r.register_with_unit(
            "process_cpu",
            "CPU time used (user + system)",
            Unit::Seconds,
            m.cpu_seconds.clone(),
        );
        r.register_with_unit(
            "process_uptime",
            "Time since start",
            Unit::Seconds,
            m.uptime_seconds.clone(),
        );
        let build: Family<Labels, Gauge> = Family::default();
        build
            .get_or_create(&vec![("version", env!("CARGO_PKG_VERSION").to_string())])
            .set(1);
        r.register("build_info", "The running build", build);
        Metrics { registry: r, ..m }
    }

    /// Add what a source's counters moved since `before`.
    pub fn source(&self, sensor: &str, source: &str, before: SourceCounts, now: SourceCounts) {
        let l = vec![
            ("sensor", sensor.to_string()),
            ("source", source.to_string()),
        ];
        let add = |f: &Family<Labels, Counter>, a: u64, b: u64| {
            if b > a {
                f.get_or_create(&l).inc_by(b - a);
            }
        };
        add(&self.lines, before.lines, now.lines);
        add(&self.bytes, before.bytes, now.bytes);
        add(&self.events, before.events, now.events);
        add(&self.unparsed, before.unparsed, now.unparsed);
        add(&self.truncated, before.truncated, now.truncated);
        add(&self.parse_errors, before.parse_errors, now.parse_errors);
        add(&self.source_dropped, before.dropped, now.dropped);
    }

    /// A shard's state after a batch: entities tracked, and evictions / expiries since the last.
    pub fn shard(&self, shard: usize, tracked: usize, evicted: u64, expired: u64) {
        let l = vec![("shard", shard.to_string())];
        self.tracked.get_or_create(&l).set(tracked as i64);
        if evicted > 0 {
            self.evictions.get_or_create(&l).inc_by(evicted);
        }
        if expired > 0 {
            self.expired.get_or_create(&l).inc_by(expired);
        }
    }

    /// One alert written by the store.
    pub fn alert_written(&self, rule: &str, severity: &str) {
        self.alert_writes
            .get_or_create(&vec![
                ("rule", rule.to_string()),
                ("severity", severity.to_string()),
            ])
            .inc();
    }

    /// Export the counters the sources report on `board` (read at each scrape).
    pub fn watch_health(&self, board: tripline_sensors::source::HealthBoard) {
        *self.health.lock().unwrap_or_else(|e| e.into_inner()) = Some(Health {
            board,
            added: Default::default(),
        });
    }

    /// Export these responders' counts (read at each scrape).
    pub fn watch_responders(
        &self,
        list: Vec<(&'static str, std::sync::Arc<tripline_respond::Counts>)>,
    ) {
        let mut w = self.responders.lock().unwrap_or_else(|e| e.into_inner());
        w.extend(list.into_iter().map(|(name, counts)| Watched {
            name,
            counts,
            added: (0, 0, 0, 0),
        }));
    }

    /// Export the decoys' counters: `read` gives each as (decoy, counter, total so far), read
    /// at each scrape.
    pub fn watch_decoys(&self, read: DecoyCounts) {
        *self.decoys.lock().unwrap_or_else(|e| e.into_inner()) = Some(Decoys {
            read,
            added: Default::default(),
        });
    }

    /// The Prometheus text exposition, with the process gauges read now.
    pub fn render(&self) -> String {
        if let Some(d) = self
            .decoys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            for (decoy, counter, n) in (d.read)() {
                let before = d.added.insert((decoy.clone(), counter), n).unwrap_or(0);
                self.honeypot
                    .get_or_create(&vec![("decoy", decoy), ("counter", counter.to_string())])
                    .inc_by(n.saturating_sub(before));
            }
        }
        if let Some(h) = self
            .health
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            for s in h.board.snapshot() {
                let key = (s.sensor, s.path.clone());
                let before = h.added.get(&key).copied().unwrap_or_default();
                let now = SourceCounts::of(&s);
                self.source(s.sensor, &s.path, before, now);
                h.added.insert(key, now);
            }
        }
        for w in self
            .responders
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter_mut()
        {
            let now = w.counts.get();
            let outcomes = [
                ("delivered", now.0, w.added.0),
                ("dropped", now.1, w.added.1),
                ("failed", now.2, w.added.2),
                ("filtered", now.3, w.added.3),
            ];
            for (outcome, n, added) in outcomes {
                let l = vec![
                    ("responder", w.name.to_string()),
                    ("outcome", outcome.to_string()),
                ];
                // every outcome shows, at 0 until something happens
                self.respond
                    .get_or_create(&l)
                    .inc_by(n.saturating_sub(added));
            }
            w.added = now;
        }
        let (cpu, _) = crate::process::self_usage();
        self.cpu_seconds.set(cpu);
        self.rss_bytes
            .set(crate::process::status_kb("self", "VmRSS") as i64 * 1024);
        self.uptime_seconds
            .set(self.started.elapsed().as_secs_f64());
        let mut out = String::with_capacity(8 * 1024);
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// The sources' health board as the metrics follow it.
struct Health {
    board: tripline_sensors::source::HealthBoard,
    added: std::collections::HashMap<(&'static str, String), SourceCounts>,
}

/// What reads the decoys' counters: (decoy, counter, total so far) each.
pub type DecoyCounts = Box<dyn Fn() -> Vec<(String, &'static str, u64)> + Send + Sync>;

/// The decoys' counters as the metrics follow them.
struct Decoys {
    read: DecoyCounts,
    added: std::collections::HashMap<(String, &'static str), u64>,
}

/// A responder's counts as the metrics follow them.
struct Watched {
    name: &'static str,
    counts: std::sync::Arc<tripline_respond::Counts>,
    added: (u64, u64, u64, u64),
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_stage_with_its_labels() {
        let m = Metrics::new();
        let a = SourceCounts::default();
        let b = SourceCounts {
            lines: 10,
            bytes: 900,
            events: 4,
            unparsed: 6,
            ..a
        };
        m.source("files", "/var/log/auth.log", a, b);
        m.source("files", "/var/log/auth.log", b, b);
        m.shard(0, 12, 3, 0);
        m.alert_written("ssh.bruteforce", "high");
        let counts = std::sync::Arc::new(tripline_respond::Counts::default());
        m.watch_responders(vec![("stdout_json", counts.clone())]);
        let refused = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(4));
        let r = refused.clone();
        m.watch_decoys(Box::new(move || {
            vec![(
                "ssh".to_string(),
                "refused_per_ip",
                r.load(std::sync::atomic::Ordering::Relaxed),
            )]
        }));
        m.render();
        refused.fetch_add(3, std::sync::atomic::Ordering::Relaxed);
        counts
            .dropped
            .fetch_add(3, std::sync::atomic::Ordering::Relaxed);
        m.render();
        counts
            .dropped
            .fetch_add(2, std::sync::atomic::Ordering::Relaxed);
        m.commit_seconds.observe(0.002);
        m.latency_seconds.observe(0.0007);
        let text = m.render();
        for want in [
            r#"tripline_sensor_lines_total{sensor="files",source="/var/log/auth.log"} 10"#,
            r#"tripline_sensor_read_bytes_total{sensor="files",source="/var/log/auth.log"} 900"#,
            r#"tripline_sensor_unparsed_lines_total{sensor="files",source="/var/log/auth.log"} 6"#,
            r#"tripline_detect_tracked_entities{shard="0"} 12"#,
            r#"tripline_detect_evictions_total{shard="0"} 3"#,
            r#"tripline_store_alert_writes_total{rule="ssh.bruteforce",severity="high"} 1"#,
            "tripline_pipeline_events_dropped_total 0",
            r#"tripline_respond_alerts_total{responder="stdout_json",outcome="dropped"} 5"#,
            r#"tripline_respond_alerts_total{responder="stdout_json",outcome="failed"} 0"#,
            r#"tripline_honeypot_total{decoy="ssh",counter="refused_per_ip"} 7"#,
            "tripline_store_commit_seconds_count 1",
            "tripline_pipeline_latency_seconds_bucket{le=",
            "tripline_process_resident_memory_bytes ",
            "tripline_process_uptime_seconds ",
            r#"tripline_build_info{version=""#,
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }
}
