//! The LLM gateway inside `tripline run`: its listener on a runtime of its own, its verdicts
//! pushed into the pipeline as events (so `llm.*` alerts are raised and stored with everything
//! else about the address) and kept in `firewall_logs` by a writer thread of their own.

use crate::config::Config;
use anyhow::{Context, Result};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::time::Duration;
use tripline_event::{Action, Text, Timestamp};
use tripline_gateway::{detector, Decision, Gateway, Record, Sink};
use tripline_prompt::scan::{ScanSettings, Scanner};
use tripline_sensors::push::Pusher;
use tripline_store::{FirewallLog, Store};

/// The running gateway.
pub struct Handle {
    pub addr: SocketAddr,
    shutdown: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
    logs: Option<std::thread::JoinHandle<()>>,
}

impl Handle {
    /// Stop listening, finish the requests in flight, write the findings still queued.
    pub fn stop(self) {
        let _ = self.shutdown.send(());
        let _ = self.thread.join();
        if let Some(l) = self.logs {
            let _ = l.join();
        }
    }
}

/// Where verdicts go: the pipeline (an event each) and `firewall_logs`.
pub struct DaemonSink {
    pusher: Option<Pusher>,
    host: Arc<str>,
    logs: SyncSender<FirewallLog>,
    pub dropped_logs: AtomicU64,
}

impl Sink for DaemonSink {
    fn record(&self, r: Record) {
        let action = match r.action {
            Decision::Block => Action::Block,
            Decision::Allow => Action::Allow,
            Decision::Log | Decision::Redact => Action::Flag,
        };
        let rules: Vec<Text> = r
            .flags
            .iter()
            .filter_map(|f| tripline_prompt::rules::of_flag(f))
            .map(|rule| Text::const_new(rule.id))
            .collect();
        let summary = format!(
            "{} {} {}: {} (score {:.2}) input {}",
            r.route,
            r.direction,
            r.action.as_str(),
            if r.flags.is_empty() {
                "clean".to_owned()
            } else {
                r.flags.join(", ")
            },
            r.score,
            &r.input_hash[..16.min(r.input_hash.len())]
        );
        if let Some(p) = &self.pusher {
            let ev = detector::verdict_event(
                self.host.clone(),
                Timestamp(r.ts),
                r.ip,
                r.api_key_id.as_deref(),
                action,
                r.score,
                rules,
                &summary,
            );
            // a full queue drops it (counted in the source's health); never waits
            let _ = p.send(ev);
        }
        let row = FirewallLog {
            ts: r.ts,
            route: r.route.into(),
            direction: r.direction.into(),
            session: r.session,
            user_agent: r.user_agent,
            src_ip: r.ip.to_string(),
            api_key_id: r.api_key_id,
            input_hash: r.input_hash,
            score: r.score as f64,
            flags: serde_json::to_string(&r.flags).unwrap_or_default(),
            breakdown: r.breakdown.to_string(),
            action: r.action.as_str().into(),
            policy: r.policy,
            latency_ms: r.latency_ms,
            prompt: r.prompt,
        };
        if self.logs.try_send(row).is_err() {
            self.dropped_logs.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn refused(&self, ip: IpAddr, api_key_id: Option<&str>, code: &'static str) {
        self.push_now(
            ip,
            api_key_id,
            Action::Block,
            detector::REFUSED,
            &format!("refused: {code}"),
        );
    }

    fn unscanned(&self, ip: IpAddr, api_key_id: Option<&str>) {
        self.push_now(
            ip,
            api_key_id,
            Action::Allow,
            tripline_prompt::rules::UNSCANNED.id,
            "forwarded unscanned: the firewall failed (fail_open)",
        );
    }
}

impl DaemonSink {
    /// A verdict of the gateway's own (no scan) about `ip`, now, into the pipeline.
    fn push_now(
        &self,
        ip: IpAddr,
        api_key_id: Option<&str>,
        action: Action,
        rule: &'static str,
        summary: &str,
    ) {
        if let Some(p) = &self.pusher {
            let ev = detector::verdict_event(
                self.host.clone(),
                Timestamp::now(),
                ip,
                api_key_id,
                action,
                0.0,
                vec![Text::const_new(rule)],
                summary,
            );
            let _ = p.send(ev);
        }
    }
}

/// The scanner the configuration asks for.
pub fn scanner(cfg: &Config) -> Result<Scanner> {
    let g = &cfg.gateway;
    let settings = ScanSettings {
        flag_at: g.flag_at,
        ..ScanSettings::default()
    };
    let model = if g.model.is_empty() {
        tripline_prompt::classifier::Model::shared()
    } else {
        let b =
            std::fs::read(&g.model).with_context(|| format!("gateway.model = {:?}", g.model))?;
        Arc::new(
            tripline_prompt::classifier::Model::from_bytes(&b)
                .map_err(|e| anyhow::anyhow!("gateway.model = {:?}: {e}", g.model))?,
        )
    };
    let mut secrets = tripline_prompt::secrets::Secrets::builtin();
    if !g.secret_rules.is_empty() {
        let t = std::fs::read_to_string(&g.secret_rules)
            .with_context(|| format!("gateway.secret_rules = {:?}", g.secret_rules))?;
        let extra = tripline_prompt::secrets::from_gitleaks_toml(&t)
            .map_err(|e| anyhow::anyhow!("gateway.secret_rules = {:?}: {e}", g.secret_rules))?;
        secrets = secrets.with_extra(extra);
    }
    Ok(Scanner::with(settings, model, secrets))
}

/// Bind and start the gateway; `pusher` takes its verdict events into the pipeline.
pub fn start(cfg: &Config, db: &Path, pusher: Option<Pusher>) -> Result<Handle> {
    let g = &cfg.gateway;
    let listener = std::net::TcpListener::bind(&g.bind).with_context(|| {
        format!(
            "gateway.bind = {:?}: cannot listen there (in use? set another port or [gateway] enabled = false)",
            g.bind
        )
    })?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let (tx, rx) = sync_channel::<FirewallLog>(4096);
    let logs = {
        let db = db.to_path_buf();
        std::thread::Builder::new()
            .name("gateway-logs".into())
            .spawn(move || write_logs(&db, rx))
            .context("spawn the gateway's log writer")?
    };
    let sink = Arc::new(DaemonSink {
        pusher,
        host: Arc::from(cfg.hostname().as_str()),
        logs: tx,
        dropped_logs: AtomicU64::new(0),
    });
    let gw = Arc::new(
        Gateway::new(g.clone(), Arc::new(scanner(cfg)?), Some(sink))
            .map_err(|e| anyhow::anyhow!(e))?,
    );
    let (shutdown, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("gateway".into())
        .spawn(move || {
            // scans of long texts go to the blocking pool: at most one thread per core (each
            // keeps its scratch space)
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .max_blocking_threads(std::thread::available_parallelism().map_or(2, |n| n.get()))
                .thread_name("gateway-worker")
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!(error = %e, "gateway: cannot start its runtime");
                    return;
                }
            };
            let served = rt.block_on(async move {
                let l = tokio::net::TcpListener::from_std(listener)?;
                tripline_gateway::serve(l, gw, async {
                    let _ = stop_rx.await;
                })
                .await
            });
            if let Err(e) = served {
                tracing::error!(error = %e, "gateway stopped");
            }
        })
        .context("spawn the gateway thread")?;
    Ok(Handle {
        addr,
        shutdown,
        thread,
        logs: Some(logs),
    })
}

/// Write findings in batches (at most 256, or what came within 200 ms) until every sender is
/// gone. A batch the store refuses is reported and dropped (the verdicts went on as events).
fn write_logs(db: &Path, rx: Receiver<FirewallLog>) {
    let mut store = match Store::open(db) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "gateway: cannot open the store for firewall_logs");
            // drain so senders never block (they never do: try_send)
            while rx.recv().is_ok() {}
            return;
        }
    };
    while let Ok(first) = rx.recv() {
        let batch = tripline_sensors::push::gather(&rx, first, Duration::from_millis(50), 4096);
        if let Err(e) = store.insert_firewall_logs(&batch) {
            tracing::warn!(error = %e, rows = batch.len(), "gateway: firewall_logs not written");
        }
    }
}
