//! One topology for `run` and `once`: the engine (router, shards, anomaly stage, writer,
//! responders) and the sources around it, each source on a thread of its own pushing into the
//! engine. `once` runs its sources until they have read everything; `run` until it is told to
//! stop. Both then finish the engine the same way: a last checkpoint, every thread joined.

use crate::engine::{Engine, Mode as EngineMode, RunStats, Settings, Sinks, StoreHealth};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tripline_detect::DetectorSpec;
use tripline_sensors::source::{Batch, Emit, HealthBoard, Mode, Source, SourceCx, Stop};
use tripline_store::{AlertStore, StoreError};

/// The engine shared by the sources: each batch is routed and sent under the lock (one lock per
/// batch, uncontended with one source).
#[derive(Clone)]
pub struct Shared(Arc<Mutex<Engine>>);

impl Emit for Shared {
    fn emit(&mut self, batch: Batch) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).emit(batch)
    }
}

/// The running pipeline and its sources.
pub struct Pipeline {
    engine: Shared,
    mode: Mode,
    stop: Arc<Stop>,
    health: HealthBoard,
    sources: Vec<(String, JoinHandle<()>)>,
    /// What ended a source (its name and why).
    failed: Arc<Mutex<Vec<String>>>,
    store_health: Arc<StoreHealth>,
}

impl Pipeline {
    /// Start the engine with these detectors.
    pub fn start(
        settings: &Settings,
        store: Box<dyn AlertStore>,
        sinks: Sinks,
        detectors: Vec<DetectorSpec>,
        mode: Mode,
    ) -> Pipeline {
        let health = HealthBoard::default();
        Pipeline::start_with_health(settings, store, sinks, detectors, mode, health)
    }

    /// [`Pipeline::start`], with the sources reporting on `health` (made before the API that
    /// shows it).
    pub fn start_with_health(
        settings: &Settings,
        store: Box<dyn AlertStore>,
        sinks: Sinks,
        detectors: Vec<DetectorSpec>,
        mode: Mode,
        health: HealthBoard,
    ) -> Pipeline {
        let engine_mode = match mode {
            Mode::Follow => EngineMode::Live,
            Mode::Scan => EngineMode::Scan,
        };
        let store_health = sinks.store_health.clone();
        let engine = Engine::start(settings, store, sinks, detectors, engine_mode);
        Pipeline {
            engine: Shared(Arc::new(Mutex::new(engine))),
            mode,
            stop: Stop::new(),
            health,
            sources: vec![],
            failed: Default::default(),
            store_health,
        }
    }

    /// Whether the store takes the writer's transactions (what `/readyz` reports).
    pub fn store_health(&self) -> Arc<StoreHealth> {
        self.store_health.clone()
    }

    /// Run `source` on a thread of its own.
    pub fn add(&mut self, mut source: Box<dyn Source>) -> std::io::Result<()> {
        let name = source.name().to_string();
        let health = self.health.slot(self.sources.len(), &name);
        let (mut out, stop, mode) = (self.engine.clone(), self.stop.clone(), self.mode);
        let failed = self.failed.clone();
        let handle = std::thread::Builder::new()
            .name(format!("source-{name}"))
            .spawn(move || {
                let mut cx = SourceCx {
                    out: &mut out,
                    mode,
                    stop: &stop,
                    health,
                };
                if let Err(e) = source.run(&mut cx) {
                    tracing::error!(source = %e.source_name, error = %e.message, "source stopped");
                    failed
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(e.to_string());
                }
            })?;
        self.sources.push((name, handle));
        Ok(())
    }

    /// The sources' names, in the order they were added.
    pub fn source_names(&self) -> Vec<String> {
        self.sources.iter().map(|(n, _)| n.clone()).collect()
    }

    /// Whether every source has ended (a scan's have read everything).
    pub fn sources_done(&self) -> bool {
        self.sources.iter().all(|(_, h)| h.is_finished())
    }

    /// Where the sources report their state.
    pub fn health(&self) -> HealthBoard {
        self.health.clone()
    }

    /// The stop every source watches (a signal handler calls [`Stop::stop`]).
    pub fn stop_handle(&self) -> Arc<Stop> {
        self.stop.clone()
    }

    /// Wait for every source to end (a scan: when each has read everything; live: once
    /// stopped), then finish the engine: a last checkpoint, every thread joined. The error of a
    /// source that failed is returned after the engine is finished (what it read is stored).
    pub fn finish(self) -> Result<(RunStats, Vec<String>), StoreError> {
        // a writer retrying a store that refuses writes stops trying (a source blocked on the
        // full queues is then let go): what is not stored is read again after a restart
        if self.mode == Mode::Follow {
            self.store_health.give_up();
        }
        for (_, h) in self.sources {
            let _ = h.join();
        }
        let engine = match Arc::try_unwrap(self.engine.0) {
            Ok(m) => m.into_inner().unwrap_or_else(|e| e.into_inner()),
            // every source thread has ended, so nothing else holds the engine
            Err(_) => unreachable!("a source outlived its thread"),
        };
        let stats = engine.finish()?;
        let failed = std::mem::take(&mut *self.failed.lock().unwrap_or_else(|e| e.into_inner()));
        Ok((stats, failed))
    }
}
