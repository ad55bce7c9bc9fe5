//! Per-client bookkeeping, bounded: rate limits per address and per API key, the duplicate
//! window, and the verdict cache. Each is a map with a cap; beyond it the oldest half goes.

use rustc_hash::FxHashMap;
use std::time::{Duration, Instant};

/// A sliding one-minute rate limit per key (two fixed windows weighted, as nginx and
/// Cloudflare approximate a sliding window): O(1) per request, 24 bytes per key.
pub struct RateLimit {
    per_minute: u32,
    keys: FxHashMap<u64, (u64, u32, u32)>,
    cap: usize,
}

impl RateLimit {
    pub fn new(per_minute: u32, cap: usize) -> RateLimit {
        RateLimit {
            per_minute,
            keys: FxHashMap::default(),
            cap: cap.max(16),
        }
    }

    /// Count a request of `key` at `now_ms`; Err(seconds to wait) when over the limit (the
    /// refused request is not counted).
    pub fn hit(&mut self, key: u64, now_ms: u64) -> Result<(), u64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let minute = now_ms / 60_000;
        if self.keys.len() >= self.cap && !self.keys.contains_key(&key) {
            // the keys not seen this minute or the last cannot be limited any more
            self.keys.retain(|_, v| v.0 + 1 >= minute);
            if self.keys.len() >= self.cap {
                self.keys.clear();
            }
        }
        let e = self.keys.entry(key).or_insert((minute, 0, 0));
        if e.0 != minute {
            let prev = if e.0 + 1 == minute { e.2 } else { 0 };
            *e = (minute, prev, 0);
        }
        let into = (now_ms % 60_000) as f64 / 60_000.0;
        let estimate = e.1 as f64 * (1.0 - into) + e.2 as f64;
        if estimate + 1.0 > self.per_minute as f64 {
            // when enough of the previous minute's weight will have gone
            let wait = if e.1 > 0 {
                let need = estimate + 1.0 - self.per_minute as f64;
                (need / e.1 as f64 * 60.0).ceil() as u64
            } else {
                60 - (now_ms % 60_000) / 1000
            };
            return Err(wait.clamp(1, 60));
        }
        e.2 += 1;
        Ok(())
    }
}

/// Requests seen within the duplicate window, by the hash of (client, body).
pub struct Duplicates {
    window: Duration,
    seen: FxHashMap<u64, Instant>,
    cap: usize,
}

impl Duplicates {
    pub fn new(window: Duration, cap: usize) -> Duplicates {
        Duplicates {
            window,
            seen: FxHashMap::default(),
            cap: cap.max(16),
        }
    }

    /// True when the same request came within the window (then it is not recorded again).
    pub fn repeat(&mut self, h: u64, now: Instant) -> bool {
        if self.window.is_zero() {
            return false;
        }
        if let Some(t) = self.seen.get(&h) {
            if now.duration_since(*t) < self.window {
                return true;
            }
        }
        if self.seen.len() >= self.cap {
            let w = self.window;
            self.seen.retain(|_, t| now.duration_since(*t) < w);
            if self.seen.len() >= self.cap {
                self.seen.clear();
            }
        }
        self.seen.insert(h, now);
        false
    }
}

/// Verdicts by the hash of the text scanned, least recently stored evicted in halves.
pub struct Cache<V> {
    map: FxHashMap<[u8; 32], (u64, V)>,
    cap: usize,
    clock: u64,
    pub hits: u64,
    pub misses: u64,
}

impl<V: Clone> Cache<V> {
    pub fn new(cap: usize) -> Cache<V> {
        Cache {
            map: FxHashMap::default(),
            cap,
            clock: 0,
            hits: 0,
            misses: 0,
        }
    }

    pub fn get(&mut self, k: &[u8; 32]) -> Option<V> {
        self.clock += 1;
        let clock = self.clock;
        match self.map.get_mut(k) {
            Some(e) => {
                e.0 = clock;
                self.hits += 1;
                Some(e.1.clone())
            }
            None => {
                self.misses += 1;
                None
            }
        }
    }

    pub fn put(&mut self, k: [u8; 32], v: V) {
        if self.cap == 0 {
            return;
        }
        if self.map.len() >= self.cap {
            let mut ages: Vec<u64> = self.map.values().map(|e| e.0).collect();
            let mid = ages.len() / 2;
            let (_, cut, _) = ages.select_nth_unstable(mid);
            let cut = *cut;
            self.map.retain(|_, e| e.0 > cut);
        }
        self.clock += 1;
        self.map.insert(k, (self.clock, v));
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_limit_refuses_past_its_rate_and_says_how_long_to_wait() {
        let mut r = RateLimit::new(3, 100);
        let t = 120_000; // the start of a minute
        for _ in 0..3 {
            assert!(r.hit(1, t).is_ok());
        }
        let wait = r.hit(1, t + 1000).unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        // another key is not affected
        assert!(r.hit(2, t + 1000).is_ok());
        // two minutes on, the key starts over
        assert!(r.hit(1, t + 120_000).is_ok());
        assert!(RateLimit::new(0, 10).hit(1, 0).is_ok());
    }

    #[test]
    fn maps_stay_within_their_caps() {
        let mut r = RateLimit::new(10, 100);
        for k in 0..10_000 {
            let _ = r.hit(k, 60_000 * (k / 50));
        }
        assert!(r.keys.len() <= 100);
        let mut d = Duplicates::new(Duration::from_secs(5), 100);
        let now = Instant::now();
        for k in 0..10_000 {
            assert!(!d.repeat(k, now));
        }
        assert!(d.seen.len() <= 100);
        assert!(d.repeat(9_999, now));
        let mut c: Cache<u32> = Cache::new(100);
        for k in 0..1000u32 {
            let mut key = [0u8; 32];
            key[..4].copy_from_slice(&k.to_le_bytes());
            c.put(key, k);
        }
        assert!(c.len() <= 100);
    }
}
