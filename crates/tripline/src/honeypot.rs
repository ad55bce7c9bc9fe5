//! The honeypots inside `tripline run`: the decoys on a runtime of their own, each event they
//! report written as Cowrie JSON and read back by tripline's Cowrie reader into a pipeline
//! event (one mapping for Cowrie's files and tripline's own decoys), pushed through a push
//! source, and, when `cowrie_log` is set, appended to that file by a writer thread.

use crate::config::Config;
use anyhow::{Context, Result};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::time::Duration;
use tripline_event::{SensorKind, SourcePos, Timestamp};
use tripline_honeypot::event::{HpEvent, Sink};
use tripline_honeypot::http::HttpHoneypot;
use tripline_honeypot::shell::{Identity, World};
use tripline_honeypot::ssh::{host_keys, SshHoneypot, Stats};
use tripline_honeypot::tcp::TcpHoneypot;
use tripline_sensors::push::Pusher;

/// The running honeypots.
pub struct Handle {
    /// Where the SSH decoy listens.
    pub ssh: Option<SocketAddr>,
    pub ssh_stats: Option<Arc<Stats>>,
    /// Where the HTTP decoy listens.
    pub http: Option<SocketAddr>,
    /// Where the TCP decoys listen, in the order configured.
    pub tcp: Vec<SocketAddr>,
    http_stats: Option<Arc<tripline_honeypot::http::HttpStats>>,
    tcp_stats: Vec<(String, Arc<tripline_honeypot::tcp::TcpStats>)>,
    /// The sink's own counters (not the sink: holding it would keep its queues open).
    sink: Arc<SinkCounts>,
    shutdown: tokio::sync::watch::Sender<bool>,
    thread: std::thread::JoinHandle<()>,
    cowrie: Option<std::thread::JoinHandle<()>>,
}

impl Handle {
    /// What the decoys counted, read at each metrics scrape: (decoy, counter, total) each.
    pub fn counters(&self) -> tripline_runtime::metrics::DecoyCounts {
        let ssh = self.ssh_stats.clone();
        let http = self.http_stats.clone();
        let tcp = self.tcp_stats.clone();
        let sink = self.sink.clone();
        Box::new(move || {
            let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
            let mut out = vec![];
            let mut add = |decoy: &str, list: &[(&'static str, &AtomicU64)]| {
                out.extend(list.iter().map(|(k, v)| (decoy.to_owned(), *k, n(v))));
            };
            if let Some(s) = &ssh {
                add(
                    "ssh",
                    &[
                        ("connections", &s.connections),
                        ("refused_per_ip", &s.refused_per_ip),
                        ("refused_total", &s.refused_total),
                        ("logins_failed", &s.logins_failed),
                        ("logins_ok", &s.logins_ok),
                        ("commands", &s.commands),
                        ("downloads", &s.downloads),
                        ("uploads", &s.uploads),
                        ("proxy_requests", &s.proxy_requests),
                        ("session_timeouts", &s.session_timeouts),
                        ("idle_timeouts", &s.idle_timeouts),
                        ("protocol_errors", &s.protocol_errors),
                        ("capped", &s.capped),
                    ],
                );
            }
            if let Some(h) = &http {
                add(
                    "http",
                    &[
                        ("requests", &h.requests),
                        ("refused", &h.refused),
                        ("bodies_cut", &h.bodies_cut),
                        ("too_large", &h.too_large),
                    ],
                );
            }
            for (name, t) in &tcp {
                add(
                    name,
                    &[
                        ("connections", &t.connections),
                        ("refused", &t.refused),
                        ("capped", &t.capped),
                    ],
                );
            }
            add(
                "all",
                &[
                    ("unreadable_events", &sink.unreadable),
                    ("cowrie_lines_dropped", &sink.dropped_cowrie),
                ],
            );
            out
        })
    }

    /// Stop listening (sessions in flight are dropped), write the Cowrie lines still queued.
    pub fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.thread.join();
        if let Some(c) = self.cowrie {
            let _ = c.join();
        }
    }
}

/// What the sink counted.
#[derive(Debug, Default)]
pub struct SinkCounts {
    /// Events that could not be read back (never expected: counted, not lost silently).
    pub unreadable: AtomicU64,
    /// Cowrie lines dropped because the log's writer was behind.
    pub dropped_cowrie: AtomicU64,
}

/// Where the decoys' events go: the pipeline and the Cowrie log.
pub struct DaemonSink {
    pusher: Option<Pusher>,
    host: Arc<str>,
    sensor: String,
    cowrie: Option<SyncSender<String>>,
    pub counts: Arc<SinkCounts>,
}

impl Sink for DaemonSink {
    fn event(&self, e: HpEvent) {
        let mut lines = String::new();
        tripline_honeypot::cowrie::write(&e, &self.sensor, &mut lines);
        if let Some(p) = &self.pusher {
            let mut tc = tripline_sensors::syslog::TimeContext::utc();
            for line in lines.lines() {
                match tripline_sensors::cowrie::parse(
                    line,
                    &mut tc,
                    Timestamp::now(),
                    SourcePos::default(),
                    &self.host,
                ) {
                    Ok(Some(mut ev)) => {
                        ev.sensor = SensorKind::new("honeypot");
                        // a full queue drops it (counted in the source's health); never waits
                        let _ = p.send(ev);
                    }
                    Ok(None) => {}
                    Err(_) => {
                        self.counts.unreadable.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
        if let Some(c) = &self.cowrie {
            if c.try_send(lines).is_err() {
                self.counts.dropped_cowrie.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Where the identity and host keys are kept.
fn state_dir(cfg: &Config) -> PathBuf {
    match cfg.honeypot.state_dir.as_str() {
        "" => cfg.data_dir().join("honeypot"),
        d => PathBuf::from(d),
    }
}

/// A decoy's listening socket (non-blocking, for its runtime); a failure names the setting
/// `key` and its value, then `hint`.
fn listen(bind: &str, key: &str, hint: &str) -> Result<std::net::TcpListener> {
    let l = std::net::TcpListener::bind(bind)
        .with_context(|| format!("{key} = {bind:?}: cannot listen there{hint}"))?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// Resolves when the decoys are told to stop.
async fn stopped(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Bind and start the configured honeypots; `pusher` takes their events into the pipeline.
pub fn start(cfg: &Config, pusher: Option<Pusher>) -> Result<Handle> {
    let h = &cfg.honeypot;
    let dir = state_dir(cfg);
    let identity = Identity::load_or_create(&dir.join("identity.json"))
        .with_context(|| format!("honeypot.state_dir = {:?}: the fake identity", dir))?;
    let world = World::new(identity);
    let sensor = match h.sensor.as_str() {
        "" => cfg.hostname(),
        s => s.to_owned(),
    };
    let (cowrie_tx, cowrie) = if h.cowrie_log.is_empty() {
        (None, None)
    } else {
        let path = PathBuf::from(&h.cowrie_log);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("honeypot.cowrie_log = {:?}: cannot open", h.cowrie_log))?;
        let (tx, rx) = sync_channel::<String>(8192);
        let t = std::thread::Builder::new()
            .name("honeypot-cowrie".into())
            .spawn(move || write_cowrie(file, rx))
            .context("spawn the Cowrie log writer")?;
        (Some(tx), Some(t))
    };
    let sink = Arc::new(DaemonSink {
        pusher,
        host: Arc::from(cfg.hostname().as_str()),
        sensor,
        cowrie: cowrie_tx,
        counts: Arc::default(),
    });
    let mut ssh = None;
    if h.ssh.enabled {
        let listener = listen(
            &h.ssh.bind,
            "honeypot.ssh.bind",
            " (in use? set another port or [honeypot.ssh] enabled = false)",
        )?;
        let keys = host_keys(&dir)
            .with_context(|| format!("honeypot.state_dir = {:?}: the SSH host keys", dir))?;
        let hp = SshHoneypot::new(h.ssh.settings(), keys, world.clone(), sink.clone());
        ssh = Some((listener, hp));
    }
    let ssh_addr = match &ssh {
        Some((l, _)) => Some(l.local_addr()?),
        None => None,
    };
    let http = if h.http.enabled {
        let listener = listen(
            &h.http.bind,
            "honeypot.http.bind",
            " (in use? set another port or [honeypot.http] enabled = false)",
        )?;
        Some((listener, HttpHoneypot::new(h.http.settings(), sink.clone())))
    } else {
        None
    };
    let http_addr = match &http {
        Some((l, _)) => Some(l.local_addr()?),
        None => None,
    };
    let mut tcp = vec![];
    for (i, t) in h.tcp.iter().enumerate() {
        let listener = listen(&t.bind, &format!("honeypot.tcp[{i}].bind"), "")?;
        let hp = TcpHoneypot::new(t.settings(&world.identity().hostname), sink.clone());
        tcp.push((listener, hp));
    }
    let tcp_addrs = tcp
        .iter()
        .map(|(l, _)| l.local_addr())
        .collect::<std::io::Result<Vec<_>>>()?;
    let ssh_stats = ssh.as_ref().map(|(_, hp)| hp.stats());
    let http_stats = http.as_ref().map(|(_, hp)| hp.stats());
    // a TCP decoy by its profile and port (`tcp:redis:6379`)
    let tcp_stats = tcp
        .iter()
        .zip(&h.tcp)
        .zip(&tcp_addrs)
        .map(|(((_, hp), t), a)| (format!("tcp:{}:{}", t.profile, a.port()), hp.stats()))
        .collect();
    let counted = sink.counts.clone();
    let (shutdown, stop_rx) = tokio::sync::watch::channel(false);
    let thread = std::thread::Builder::new()
        .name("honeypot".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("honeypot-worker")
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!(error = %e, "honeypot: cannot start its runtime");
                    return;
                }
            };
            rt.block_on(async move {
                let mut tasks = vec![];
                if let Some((listener, hp)) = ssh {
                    let stop = stopped(stop_rx.clone());
                    tasks.push(tokio::spawn(async move {
                        hp.serve(tokio::net::TcpListener::from_std(listener)?, stop)
                            .await
                    }));
                }
                if let Some((listener, hp)) = http {
                    let stop = stopped(stop_rx.clone());
                    tasks.push(tokio::spawn(async move {
                        hp.serve(tokio::net::TcpListener::from_std(listener)?, stop)
                            .await
                    }));
                }
                for (listener, hp) in tcp {
                    let stop = stopped(stop_rx.clone());
                    tasks.push(tokio::spawn(async move {
                        hp.serve(tokio::net::TcpListener::from_std(listener)?, stop)
                            .await
                    }));
                }
                for t in tasks {
                    match t.await {
                        Ok(Err(e)) => tracing::error!(error = %e, "honeypot stopped"),
                        Err(e) => tracing::error!(error = %e, "honeypot task failed"),
                        Ok(Ok(())) => {}
                    }
                }
            });
            // sessions still open are dropped with the runtime
            rt.shutdown_timeout(Duration::from_millis(500));
        })
        .context("spawn the honeypot thread")?;
    Ok(Handle {
        ssh: ssh_addr,
        ssh_stats,
        http_stats,
        tcp_stats,
        sink: counted,
        http: http_addr,
        tcp: tcp_addrs,
        shutdown,
        thread,
        cowrie,
    })
}

/// Append Cowrie lines in batches until every sender is gone. A write that fails is reported
/// once per batch (the events went on into the pipeline).
fn write_cowrie(file: std::fs::File, rx: Receiver<String>) {
    let mut out = std::io::BufWriter::new(file);
    while let Ok(first) = rx.recv() {
        let batch = tripline_sensors::push::gather(&rx, first, Duration::from_millis(50), 4096);
        let r = batch
            .iter()
            .try_for_each(|l| out.write_all(l.as_bytes()))
            .and_then(|_| out.flush());
        if let Err(e) = r {
            tracing::warn!(error = %e, lines = batch.len(), "honeypot: cowrie_log not written");
        }
    }
}
