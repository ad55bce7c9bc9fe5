//! An entity's timeline: every event and alert for an address, a network, a user or a session,
//! across all sensors, in time order.
//!
//! Alerts come from the store (all of them, however old). Events are not stored — writing every
//! event would cost the scan most of its speed — so the daemon keeps the latest ones that name
//! an entity in a bounded ring ([`Timeline`], `api.timeline_events`), fed by the pipeline as each
//! batch is read. The answer says how far back the ring reaches.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use tripline_event::net::{canonical, Cidr, IpText};
use tripline_event::{Event, Timestamp};

/// The latest events that name an entity (an address, user, session or remote host name).
pub struct Timeline {
    ring: Mutex<VecDeque<Event>>,
    cap: usize,
    /// Events that fell out of the ring since start.
    dropped: AtomicU64,
}

impl Timeline {
    /// A ring of at most `cap` events (0 keeps none).
    pub fn new(cap: usize) -> Timeline {
        Timeline {
            ring: Mutex::new(VecDeque::with_capacity(cap.min(4096))),
            cap,
            dropped: AtomicU64::new(0),
        }
    }

    /// Keep the events of a batch that name an entity; the oldest fall out when full.
    pub fn record(&self, events: &[Event]) {
        if self.cap == 0 {
            return;
        }
        let mut ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        for ev in events {
            if ev.src_ip.is_none()
                && ev.user.is_none()
                && ev.session.is_none()
                && ev.src_name.is_none()
            {
                continue;
            }
            if ring.len() == self.cap {
                ring.pop_front();
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            ring.push_back(ev.clone());
        }
    }

    /// The latest `limit` events about `who`, oldest first, and the time of the oldest event
    /// still held (how far back the answer can reach).
    pub fn about(&self, who: &Who, limit: usize) -> (Vec<Event>, Option<Timestamp>) {
        let ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        let mut found: Vec<Event> = ring
            .iter()
            .rev()
            .filter(|ev| who.matches(ev))
            .take(limit)
            .cloned()
            .collect();
        found.reverse();
        // events arrive per source in order, but sources interleave
        found.sort_by_key(|e| e.ts);
        (found, ring.front().map(|e| e.ts))
    }

    /// Events held now.
    pub fn len(&self) -> usize {
        self.ring.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether no event is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Events that fell out of the ring since start.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Who a timeline is about: an address or network (matching source addresses), or a name
/// (matching users, sessions and remote host names).
#[derive(Debug, Clone)]
pub enum Who {
    Net(Cidr),
    Name(String),
}

impl Who {
    /// An address (`203.0.113.7`), a network (`203.0.113.0/24`), or anything else as a name.
    pub fn parse(v: &str) -> Who {
        match Cidr::parse(v) {
            Ok(c) => Who::Net(c),
            Err(_) => Who::Name(v.to_string()),
        }
    }

    /// The value as the store writes it: a single address in its canonical text.
    pub fn store_value(&self, given: &str) -> String {
        match self {
            Who::Net(c) if c.prefix == if c.addr.is_ipv4() { 32 } else { 128 } => {
                IpText::new(canonical(c.addr)).to_string()
            }
            _ => given.to_string(),
        }
    }

    fn matches(&self, ev: &Event) -> bool {
        match self {
            Who::Net(c) => ev.src_ip.is_some_and(|ip: IpAddr| c.contains(ip)),
            Who::Name(n) => {
                ev.user.as_deref() == Some(n.as_str())
                    || ev.session.as_deref() == Some(n.as_str())
                    || ev.src_name.as_deref() == Some(n.as_str())
            }
        }
    }
}

/// One event as the timeline shows it.
pub(crate) fn event_json(ev: &Event) -> serde_json::Value {
    serde_json::json!({
        "type": "event",
        "ts": ev.ts,
        "sensor": ev.sensor.as_str(),
        "kind": ev.kind.name(),
        "host": &*ev.host,
        "src_ip": ev.src_ip.map(|ip| IpText::new(ip).to_string()),
        "user": ev.user.as_deref(),
        "session": ev.session.as_deref(),
        "count": ev.count,
        "hostile": ev.hostile,
        "raw": &*ev.raw,
    })
}
