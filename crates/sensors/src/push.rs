//! Push sources: events made by request paths (a gateway's handlers, a honeypot's sessions, a
//! subscriber's callback) rather than read from a file.
//!
//! [`push`] makes a pair: a [`Pusher`] that any number of request handlers clone and send
//! events into, on any thread or task, and a [`PushSource`] that the pipeline runs like any
//! other source. A handler never waits on the pipeline: when the bounded queue is full (detection
//! or the store is behind), [`Pusher::send`] refuses the event at once and it is counted as
//! dropped in the source's health, where `/api/v1/sensors` and `/metrics` show it. The source
//! gathers what arrives into batches (up to `batch_size` events, or what came within
//! `max_wait`), so a burst of requests costs one batch, not one per request, and no wake-up of
//! the source per event.
//!
//! Push events have no position to resume from: what was accepted before a crash and not yet
//! committed is lost with the process, as a request in flight is.

use crate::source::{Batch, SensorState, Source, SourceCx, SourceError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tripline_event::{Event, SensorKind};

/// Where request handlers send their events. Cheap to clone; never blocks.
#[derive(Clone)]
pub struct Pusher {
    tx: SyncSender<Event>,
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    accepted: AtomicU64,
    dropped: AtomicU64,
}

/// Why an event was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// The queue is full: the pipeline is behind. Counted as dropped.
    #[error("the pipeline is behind: event dropped")]
    Full,
    /// The source has stopped (the daemon is stopping).
    #[error("the source has stopped")]
    Stopped,
}

impl Pusher {
    /// Hand an event to the pipeline, or refuse it at once.
    pub fn send(&self, ev: Event) -> Result<(), Refused> {
        match self.tx.try_send(ev) {
            Ok(()) => {
                self.counts.accepted.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(TrySendError::Full(_)) => {
                self.counts.dropped.fetch_add(1, Ordering::Relaxed);
                Err(Refused::Full)
            }
            Err(TrySendError::Disconnected(_)) => Err(Refused::Stopped),
        }
    }
}

/// The pipeline's side of a [`push`] pair.
pub struct PushSource {
    name: String,
    sensor: SensorKind,
    rx: Receiver<Event>,
    counts: Arc<Counts>,
    batch_size: usize,
    max_wait: Duration,
}

/// A push source called `name` for events of `sensor`, queueing at most `queue` events, handing
/// them over in batches of at most `batch_size` or after `max_wait`.
pub fn push(
    name: &str,
    sensor: SensorKind,
    queue: usize,
    batch_size: usize,
    max_wait: Duration,
) -> (Pusher, PushSource) {
    let (tx, rx) = sync_channel(queue.max(1));
    let counts = Arc::new(Counts::default());
    let pusher = Pusher {
        tx,
        counts: counts.clone(),
    };
    let source = PushSource {
        name: name.to_string(),
        sensor,
        rx,
        counts,
        batch_size: batch_size.max(1),
        max_wait,
    };
    (pusher, source)
}

impl PushSource {
    fn health(&self, state: &str) -> SensorState {
        let accepted = self.counts.accepted.load(Ordering::Relaxed);
        SensorState {
            sensor: self.sensor.as_str(),
            path: self.name.clone(),
            state: state.into(),
            events: accepted,
            dropped: self.counts.dropped.load(Ordering::Relaxed),
            ..SensorState::default()
        }
    }
}

/// `first`, then what else arrives on `rx` within `wait` (at most `max` in all), gathered
/// while the calling thread sleeps: senders never wake a consumer one item at a time (at
/// thousands of requests a second those wake-ups cost more than the items).
pub fn gather<T>(rx: &Receiver<T>, first: T, wait: Duration, max: usize) -> Vec<T> {
    let mut out = vec![first];
    std::thread::sleep(wait);
    out.extend(rx.try_iter().take(max.saturating_sub(1)));
    out
}

impl Source for PushSource {
    fn name(&self) -> &str {
        &self.name
    }

    /// Hand over what arrives until stopped, or until every [`Pusher`] is gone and the queue is
    /// empty (the request side has shut down).
    fn run(&mut self, cx: &mut SourceCx<'_>) -> Result<(), SourceError> {
        let tick = self.max_wait.min(Duration::from_millis(100));
        let mut reported = Instant::now();
        cx.health.set(vec![self.health("receiving")]);
        loop {
            let mut events = vec![];
            let mut gone = false;
            match self.rx.recv_timeout(tick) {
                Ok(ev) => events = gather(&self.rx, ev, self.max_wait, self.batch_size),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => gone = true,
            }
            if !events.is_empty() {
                cx.out.emit(Batch {
                    events,
                    ..Batch::default()
                });
            }
            if reported.elapsed() >= Duration::from_secs(1) || gone {
                cx.health.set(vec![self.health("receiving")]);
                reported = Instant::now();
            }
            // every pusher gone (only reported once the queue is empty): nothing more can come
            if gone {
                cx.health.set(vec![self.health("stopped")]);
                return Ok(());
            }
            // a stop: what was accepted before it is handed over first
            if cx.stop.is_stopped() {
                let rest: Vec<Event> = self.rx.try_iter().collect();
                if !rest.is_empty() {
                    cx.out.emit(Batch {
                        events: rest,
                        ..Batch::default()
                    });
                }
                cx.health.set(vec![self.health("stopped")]);
                return Ok(());
            }
        }
    }
}
