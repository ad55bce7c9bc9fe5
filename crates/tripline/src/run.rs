//! `tripline run`: the daemon. Starts the pipeline with every configured source (files with
//! inotify and polling as the fallback, the journal, Cowrie logs, JSON-lines logs) on threads
//! of their own, and the API beside it; a missing source is reported and watched for, never
//! fatal. SIGTERM or SIGINT stops the sources, and the pipeline stops after the last batch and
//! its checkpoints are committed.

use crate::config::Config;
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tripline_event::Timestamp;
use tripline_runtime::{Pipeline, Sinks};
use tripline_sensors::source::{Mode, OpenCx, Source};
use tripline_store::{AlertQuery, Store};

pub fn run(cfg: Config, db: Option<PathBuf>, from_start: bool, files: Vec<PathBuf>) -> Result<()> {
    let t0 = Instant::now();
    let db = db.unwrap_or_else(|| cfg.db_path());
    let store = Store::open(&db)?;
    // the daemon's commits never wait for a checkpoint's fsyncs (held until the pipeline stops)
    let _checkpoints = store.checkpoint_in_background(Duration::from_secs(1))?;
    let reader = Store::open(&db)?;
    // Alerts that may still be open continue instead of being duplicated after a restart.
    // Open is a matter of event time (a log read behind the clock has alerts "older" than the
    // wall clock says): those last seen within a cooldown and a day of the newest stored one.
    let newest = reader
        .alerts(&AlertQuery {
            limit: 1,
            ..Default::default()
        })?
        .first()
        .map(|s| s.alert.last_seen);
    let restore_since = newest
        .unwrap_or_else(Timestamp::now)
        .add_secs(-(cfg.detect.cooldown_seconds as i64) - 86_400);
    let restore: Vec<_> = reader
        .alerts(&AlertQuery {
            since: Some(restore_since),
            limit: cfg.detect.max_tracked_entities,
            ..Default::default()
        })?
        .into_iter()
        .map(|s| s.alert)
        .collect();
    let state = reader.state(cfg.detect.max_tracked_entities)?;
    let mut sinks = Sinks {
        respond: responders(&cfg)?,
        ..Sinks::default()
    };
    let sources = open_sources(
        &cfg,
        &reader,
        Mode::Follow,
        (!files.is_empty()).then_some(("files", files)),
        from_start,
        false,
        None,
    )?;
    // the API binds before anything starts, so a taken port is a clear error, not a half start
    let metrics = Arc::new(tripline_runtime::metrics::Metrics::new());
    let health = tripline_sensors::source::HealthBoard::default();
    let store_health = sinks.store_health.clone();
    let api = if cfg.api.enabled {
        Some(Api::start(
            &cfg,
            &db,
            metrics.clone(),
            health.clone(),
            store_health,
        )?)
    } else {
        None
    };
    // the gateway binds before anything starts too; its verdicts come in through a push source
    let (gateway, gateway_source) = if cfg.gateway.enabled {
        let (pusher, source) = tripline_sensors::push::push(
            "gateway",
            tripline_event::SensorKind::new("gateway"),
            cfg.max_queue_size,
            cfg.batch_size,
            Duration::from_millis(20),
        );
        let g = crate::gateway::start(&cfg, &db, Some(pusher))?;
        (Some(g), Some(source))
    } else {
        (None, None)
    };
    // the honeypots too: their events come in through a push source of their own
    let honeypot_on = cfg.honeypot.any();
    let (honeypot, honeypot_source) = if honeypot_on {
        // a login on a decoy reaches its alert within milliseconds: the source gathers for
        // 1 ms, not the gateway's 20 (a decoy's events come per connection, not per request)
        let (pusher, source) = tripline_sensors::push::push(
            "honeypot",
            tripline_event::SensorKind::new("honeypot"),
            cfg.max_queue_size,
            cfg.batch_size,
            Duration::from_millis(1),
        );
        let h = crate::honeypot::start(&cfg, Some(pusher))?;
        (Some(h), Some(source))
    } else {
        (None, None)
    };
    metrics.watch_responders(sinks.respond.counts());
    if let Some(h) = &honeypot {
        metrics.watch_decoys(h.counters());
    }
    sinks.metrics = Some(metrics.clone());
    if let Some(a) = &api {
        let state = a.state.clone();
        sinks.on_commit = Some(Box::new(move |alert| state.publish(&alert.view("open"))));
    }
    let detectors = cfg.detectors(restore, state, cfg.reads_honeypots(None))?;
    let mut pipeline = Pipeline::start_with_health(
        &cfg.settings(),
        Box::new(store),
        sinks,
        detectors,
        Mode::Follow,
        health,
    );
    metrics.watch_health(pipeline.health());
    let stop = pipeline.stop_handle();
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
    ])
    .context("install signal handlers")?;
    for s in sources {
        pipeline.add(s).context("start a source thread")?;
    }
    if let Some(s) = gateway_source {
        pipeline
            .add(Box::new(s))
            .context("start the gateway's source")?;
    }
    if let Some(s) = honeypot_source {
        pipeline
            .add(Box::new(s))
            .context("start the honeypots' source")?;
    }
    if let Some(a) = &api {
        a.state.set_ready(true);
    }
    let names = pipeline.source_names();
    tracing::info!(
        ready_ms = format_args!("{:.1}", t0.elapsed().as_secs_f64() * 1000.0),
        db = %db.display(),
        api = %api
            .as_ref()
            .map(|a| format!("{}://{}", a.scheme, a.addr))
            .unwrap_or_else(|| "off".into()),
        gateway = %gateway
            .as_ref()
            .map(|g| format!("http://{}", g.addr))
            .unwrap_or_else(|| "off".into()),
        honeypot_ssh = %honeypot
            .as_ref()
            .and_then(|h| h.ssh)
            .map(|a| a.to_string())
            .unwrap_or_else(|| "off".into()),
        honeypot_tcp = %honeypot
            .as_ref()
            .map(|h| h.tcp.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(","))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "off".into()),
        honeypot_http = %honeypot
            .as_ref()
            .and_then(|h| h.http)
            .map(|a| format!("http://{a}"))
            .unwrap_or_else(|| "off".into()),
        sources = %if names.is_empty() {
            "none".into()
        } else {
            names.join(",")
        },
        "ready"
    );
    // block until SIGTERM or SIGINT
    let _ = signals.forever().next();
    if let Some(g) = gateway {
        // the requests in flight finish and their verdicts go in before the sources stop
        g.stop();
    }
    if let Some(h) = honeypot {
        h.stop();
    }
    stop.stop();
    if let Some(a) = api {
        a.stop();
    }
    let (stats, _failed) = pipeline.finish()?;
    tracing::info!(
        events = stats.events,
        alert_updates = stats.alerts_written,
        "stopped; checkpoints committed"
    );
    Ok(())
}

/// The configured sources, opened: each enabled `[sources.NAME]` (or, with `files`, only the
/// source named `files.0` on the files `files.1`), each from its stored checkpoint. A source
/// that cannot start in a scan is an error; live, it is reported and the others go on.
pub fn open_sources(
    cfg: &Config,
    store: &Store,
    mode: Mode,
    files: Option<(&str, Vec<PathBuf>)>,
    from_start: bool,
    ignore_checkpoints: bool,
    year: Option<i32>,
) -> Result<Vec<Box<dyn Source>>> {
    let checkpoint = |id: &str| store.checkpoint(id).ok().flatten();
    let time = tripline_sensors::TimeContext::new(&cfg.timezone)
        .map_err(anyhow::Error::msg)?
        .with_year(year);
    let cx = OpenCx {
        checkpoint: &checkpoint,
        time,
        host: cfg.hostname(),
        from_start,
        ignore_checkpoints,
        files: files.as_ref().map(|f| f.1.clone()),
        batch_size: cfg.batch_size,
        max_batch_size: cfg.max_batch_size,
        poll_interval: Duration::from_secs_f64(cfg.poll_interval_seconds),
        mode,
    };
    let mut out = vec![];
    for (name, spec) in &cfg.sources.entries {
        // files on the command line: only the files source, on those files, even when off
        if files.as_ref().is_some_and(|f| f.0 != name) {
            continue;
        }
        if files.is_none() && !spec.enabled() {
            continue;
        }
        match spec.open(name, &cx) {
            Ok(Some(s)) => out.push(s),
            Ok(None) => {}
            Err(e) if mode == Mode::Scan => return Err(e.into()),
            Err(e) => tracing::error!(source = %e.source_name, error = %e.message, "cannot start"),
        }
    }
    Ok(out)
}

/// The responders the configuration asks for, each with its decide filter, started.
fn responders(cfg: &Config) -> Result<tripline_respond::Stage> {
    use tripline_respond::{incidents::Incidents, stdout::StdoutJson, stream::StreamJsonl};
    let (o, d) = (&cfg.output, &cfg.output.decide);
    let mut list: Vec<(
        Box<dyn tripline_respond::Responder>,
        tripline_respond::Filter,
    )> = vec![];
    if o.stdout_json {
        list.push((Box::new(StdoutJson::default()), d.stdout_json.clone()));
    }
    if !o.stream_jsonl.is_empty() {
        let s = StreamJsonl::open(std::path::Path::new(&o.stream_jsonl))
            .with_context(|| format!("output.stream_jsonl = {:?}", o.stream_jsonl))?;
        list.push((Box::new(s), d.stream_jsonl.clone()));
    }
    if !o.incidents_dir.is_empty() {
        let s = Incidents::open(std::path::Path::new(&o.incidents_dir))
            .with_context(|| format!("output.incidents_dir = {:?}", o.incidents_dir))?;
        list.push((Box::new(s), d.incidents.clone()));
    }
    Ok(tripline_respond::Stage::start(list, o.queue))
}

/// The HTTP API on its own small runtime (two worker threads), beside the pipeline.
struct Api {
    state: Arc<tripline_api::ApiState>,
    /// `http` or `https`.
    scheme: &'static str,
    addr: std::net::SocketAddr,
    shutdown: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Api {
    fn start(
        cfg: &Config,
        db: &std::path::Path,
        metrics: Arc<tripline_runtime::metrics::Metrics>,
        health: tripline_sensors::source::HealthBoard,
        store_health: Arc<tripline_runtime::StoreHealth>,
    ) -> Result<Api> {
        let dir = cfg.data_dir();
        let token = tripline_api::token::load_or_create(&dir)
            .with_context(|| format!("api token in {}", dir.display()))?;
        let tls = if cfg.api.tls_cert.is_empty() {
            None
        } else {
            let (cert, key) = (&cfg.api.tls_cert, &cfg.api.tls_key);
            Some(
                tripline_api::tls::server_config(cert.as_ref(), key.as_ref()).map_err(|e| {
                    anyhow::anyhow!("api.tls_cert = {cert:?}, api.tls_key = {key:?}: {e}")
                })?,
            )
        };
        let state = tripline_api::ApiState::open(db, token, 2)?
            .with_catalog(Config::catalog())
            .with_secure_cookies(tls.is_some())
            .with_metrics(move || metrics.render())
            .with_store_health(move || store_health.error())
            .with_sensors(move || serde_json::to_value(health.snapshot()).unwrap_or_default());
        let state = Arc::new(state);
        let listen = |key: &str, at: &str| -> Result<std::net::TcpListener> {
            let l = std::net::TcpListener::bind(at).with_context(|| {
                format!(
                    "api.{key} = {at:?}: cannot listen there (in use? set another port or [api] enabled = false)"
                )
            })?;
            l.set_nonblocking(true)?;
            Ok(l)
        };
        let listener = listen("bind", &cfg.api.bind)?;
        let addr = listener.local_addr()?;
        let metrics_listener = match cfg.api.metrics_bind.as_str() {
            "" => None,
            at => Some(listen("metrics_bind", at)?),
        };
        let (shutdown, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let app = tripline_api::app(state.clone());
        let metrics_app = tripline_api::metrics_app(state.clone());
        let thread = std::thread::Builder::new()
            .name("api".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("api-worker")
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        tracing::error!(error = %e, "api: cannot start its runtime");
                        return;
                    }
                };
                let served = rt.block_on(async move {
                    let (stop_metrics, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
                    let metrics = match metrics_listener {
                        Some(l) => Some(tokio::spawn(tripline_api::serve(
                            tokio::net::TcpListener::from_std(l)?,
                            metrics_app,
                            tripline_api::Limits::default(),
                            async {
                                let _ = metrics_stopped.await;
                            },
                        ))),
                        None => None,
                    };
                    let listener = tokio::net::TcpListener::from_std(listener)?;
                    let served = tripline_api::serve_with(
                        listener,
                        app,
                        tripline_api::Limits::default(),
                        tls,
                        async {
                            let _ = stop_rx.await;
                        },
                    )
                    .await;
                    let _ = stop_metrics.send(());
                    if let Some(m) = metrics {
                        let _ = m.await;
                    }
                    served
                });
                if let Err(e) = served {
                    tracing::error!(error = %e, "api stopped");
                }
            })
            .context("spawn the api thread")?;
        Ok(Api {
            state,
            scheme: if cfg.api.tls_cert.is_empty() {
                "http"
            } else {
                "https"
            },
            addr,
            shutdown,
            thread,
        })
    }

    /// Finish the requests in flight and stop.
    fn stop(self) {
        self.state.set_ready(false);
        let _ = self.shutdown.send(());
        let _ = self.thread.join();
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn sensor_state_is_what_the_openapi_document_says() {
        use utoipa::OpenApi;
        let s = tripline_sensors::source::SensorState {
            sensor: "files",
            path: "/var/log/auth.log".into(),
            state: "reading".into(),
            offset: 1,
            cursor: None,
            size: 2,
            lag_bytes: 1,
            lag_seconds: 0.5,
            lines: 3,
            events: 1,
            unparsed_lines: 2,
            truncated_lines: 0,
            parse_errors: 0,
            dropped: 4,
            lines_per_second: 1.5,
            bytes: 90,
        };
        let doc = serde_json::to_value(tripline_api::doc::ApiDoc::openapi()).unwrap();
        let mut want: Vec<String> = doc["components"]["schemas"]["Sensor"]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let mut got: Vec<String> = serde_json::to_value(&s)
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        want.sort();
        got.sort();
        assert_eq!(got, want);
    }
}
