//! The building blocks of detection state: maps with a size cap that evict the least recently
//! seen entries in bulk ([`Bounded`]), and windows of the latest event times ([`Ring`]).

use crate::config;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;

use crate::rules::SECOND;

/// Something with a last-seen time, so the least recent can be evicted.
pub trait Aged {
    fn last(&self) -> i64;
    /// Never evicted while true (an alert not yet flushed).
    fn pinned(&self) -> bool {
        false
    }
}

/// A map with a size cap: beyond it the least recently seen eighth is evicted at once
/// (amortized O(1) per insert).
pub struct Bounded<V> {
    pub map: FxHashMap<u128, V>,
    cap: usize,
}

impl<V: Aged + Default> Bounded<V> {
    pub fn new(cap: usize) -> Self {
        Bounded {
            map: FxHashMap::default(),
            cap: cap.max(8),
        }
    }

    pub fn entry(&mut self, key: u128, evictions: &mut u64) -> &mut V {
        self.entry_with(key, evictions, |_| {})
    }

    /// [`Bounded::entry`], handing each evicted value to `dropped` first.
    pub fn entry_with(
        &mut self,
        key: u128,
        evictions: &mut u64,
        mut dropped: impl FnMut(&V),
    ) -> &mut V {
        if self.map.len() >= self.cap && !self.map.contains_key(&key) {
            let mut ages: Vec<i64> = self.map.values().map(Aged::last).collect();
            let k = ages.len() / 8;
            let (_, cut, _) = ages.select_nth_unstable(k);
            let cut = *cut;
            let before = self.map.len();
            self.map.retain(|_, v| {
                let keep = v.last() > cut || v.pinned();
                if !keep {
                    dropped(v);
                }
                keep
            });
            *evictions += (before - self.map.len()) as u64;
        }
        self.map.entry(key).or_default()
    }

    /// Drop entries idle for more than `ttl` µs before `now` (unless `keep` says otherwise);
    /// returns how many went.
    pub fn expire(&mut self, now: i64, ttl: i64, keep: impl Fn(&V) -> bool) -> u64 {
        self.expire_with(now, ttl, keep, |_| {})
    }

    /// [`Bounded::expire`], handing each dropped value to `dropped` first.
    pub fn expire_with(
        &mut self,
        now: i64,
        ttl: i64,
        keep: impl Fn(&V) -> bool,
        mut dropped: impl FnMut(&V),
    ) -> u64 {
        let before = self.map.len();
        self.map.retain(|_, v| {
            let k = now.saturating_sub(v.last()) <= ttl || keep(v);
            if !k {
                dropped(v);
            }
            k
        });
        (before - self.map.len()) as u64
    }
}

/// Push onto a list that most entities keep one item in: the first allocation holds one, not
/// four (a flood's 100,000 addresses, each trying one user, then hold 32 bytes each, not 128).
#[inline]
pub fn push_lean<T>(v: &mut Vec<T>, x: T) {
    if v.capacity() == 0 {
        v.reserve_exact(1);
    }
    v.push(x);
}

/// Timestamps of the latest events, at most `cap`.
#[derive(Default)]
pub struct Ring(pub VecDeque<i64>);

/// Append `v` `times` times to a window of at most `cap` entries, dropping the oldest.
pub fn push_capped<T: Copy>(q: &mut VecDeque<T>, v: T, times: u32, cap: usize) {
    if q.len() == q.capacity() && q.capacity() < cap {
        // room for 4 first, then for the cap exactly: most entities see a few events (a
        // flood's addresses hold 32 bytes each, not the cap's 80), and a window never holds more
        let want = if q.len() < 4 { 4.min(cap) } else { cap };
        q.reserve_exact(want - q.len());
    }
    for _ in 0..times.min(cap as u32) {
        if q.len() >= cap {
            q.pop_front();
        }
        q.push_back(v);
    }
}

impl Ring {
    pub fn push(&mut self, ts: i64, times: u32, cap: usize) {
        push_capped(&mut self.0, ts, times, cap);
    }

    /// At least `n` events at or after `start`.
    pub fn has(&self, n: u32, start: i64) -> bool {
        let n = n as usize;
        n > 0 && self.0.len() >= n && self.0[self.0.len() - n] >= start
    }

    /// Where a window holding at least `n` events starts: at `horizon`, or later at `start()`
    /// (the end of the entity's previous alert, a lookup made only once the events from
    /// `horizon` reach `n`). None when the window holds fewer.
    #[inline]
    pub fn holds(&self, n: u32, horizon: i64, start: impl FnOnce() -> i64) -> Option<i64> {
        if !self.has(n, horizon) {
            return None;
        }
        let from = start();
        self.has(n, from).then_some(from)
    }

    /// A counting rule `c` over this ring at `now`: it fires when its window (from
    /// [`Ring::holds`]) holds the threshold, or while its alert is `open()`; (how many, first)
    /// in that window.
    #[inline]
    pub fn counting(
        &self,
        c: &config::CountRule,
        now: i64,
        start: impl FnOnce() -> i64,
        open: impl FnOnce() -> bool,
    ) -> Option<(u64, i64)> {
        let horizon = now - c.window_seconds as i64 * SECOND;
        let held = if c.enabled {
            self.holds(c.threshold, horizon, start)
        } else {
            None
        };
        (held.is_some() || open()).then(|| self.since(held.unwrap_or(horizon), now))
    }

    /// How many events are at or after `since`, and the time of the first of them (`now` when
    /// there are none).
    pub fn since(&self, since: i64, now: i64) -> (u64, i64) {
        let n = self.0.iter().rev().take_while(|t| **t >= since).count();
        let first = match n {
            0 => now,
            n => self.0[self.0.len() - n],
        };
        (n as u64, first)
    }
}
