//! `ssh.distributed`: many addresses failing against one account (≥ 20 failures from ≥ 5
//! addresses within 10 min), and the same per network (/24, /64) when `per_subnet` (T1110).

use super::{Explain, Fire, On, Rule, RuleDef, RuleInfo, SECOND};
use crate::config::RuleConfig;
use crate::engine::{NetState, UserState};
use crate::shard::ip_key;
use crate::state::push_capped;
use crate::{Roles, Secs};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use tripline_event::{Event, Severity};

/// `ssh.distributed`.
pub struct Distributed;

/// `[detect.rules.ssh_distributed]`: many sources against one user (or from one network).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistributedRule {
    pub enabled: bool,
    /// Failures in the window.
    pub failures: u32,
    /// From at least this many distinct addresses.
    pub sources: u32,
    pub window_seconds: u64,
    /// Also aggregate by /24 (IPv4) and /64 (IPv6) network.
    pub per_subnet: bool,
    pub severity: Severity,
}

impl RuleConfig for DistributedRule {
    crate::rule_config_fields!(window);
    fn validate(&self, key: &str, errs: &mut Vec<String>) {
        if !(1..=1000).contains(&self.failures) {
            errs.push(format!(
                "{key}.failures = {}: must be 1..=1000",
                self.failures
            ));
        }
        if self.sources == 0 || self.sources > self.failures {
            errs.push(format!(
                "{key}.sources = {}: must be 1..=failures ({})",
                self.sources, self.failures
            ));
        }
    }
}

impl RuleDef for Distributed {
    const INFO: RuleInfo = RuleInfo {
        id: "ssh.distributed",
        techniques: &["T1110"],
        summary: "many addresses failing against one account, or from one network",
        base_score: 0.75,
    };
    const KEYS: u8 = Roles::USER | Roles::NET;
    type Config = DistributedRule;
    const DEFAULT: DistributedRule = DistributedRule {
        enabled: true,
        failures: 20,
        sources: 5,
        window_seconds: 600,
        per_subnet: true,
        severity: Severity::High,
    };

    fn explain(x: &Explain<'_>, c: &DistributedRule) -> String {
        format!(
            "{} failed SSH login attempts against {} from ≥ {} addresses within {} (threshold {} attempts); sources include {}",
            x.alert.count,
            x.who,
            c.sources,
            Secs(c.window_seconds),
            c.failures,
            x.sources
        )
    }

    fn counts(ev: &Event) -> bool {
        counted(ev)
    }
}

/// A failure this rule counts: hostile, a failed login, from an address.
#[inline]
fn counted(ev: &Event) -> bool {
    ev.hostile && ev.kind.is_login_failure() && ev.src_ip.is_some()
}

/// True when a network's state is needed for the event: most events leave none.
#[inline]
pub fn counts_network(ev: &Event, d: &DistributedRule) -> bool {
    d.enabled && d.per_subnet && counted(ev)
}

/// Failures against a user.
#[inline]
pub fn on_user(on: &mut On<'_, UserState>) {
    if on.cfg.rules.ssh_distributed.enabled && counted(on.ev) {
        let (ev, now, prior, d) = (on.ev, on.now, on.prior, &on.cfg.rules.ssh_distributed);
        count(&mut on.st.dist, ev, now, prior, d, on.fire);
    }
}

/// Failures from a network ([`counts_network`] said it counts them).
#[inline]
pub fn on_net(on: &mut On<'_, NetState>) {
    let (ev, now, prior, d) = (on.ev, on.now, on.prior, &on.cfg.rules.ssh_distributed);
    count(&mut on.st.dist, ev, now, prior, d, on.fire);
}

/// Count a failure from `ev`'s address in an entity's window; fire when it holds enough.
#[inline]
fn count(
    dist: &mut Dist,
    ev: &Event,
    now: i64,
    prior: &crate::engine::Prior<'_>,
    d: &DistributedRule,
    fire: &mut Vec<super::Fire>,
) {
    let Some(ip) = ev.src_ip else { return };
    let horizon = now - d.window_seconds as i64 * SECOND;
    let from = || prior.start(Rule::SshDistributed, d.window_seconds);
    if dist.push(
        now,
        ip_key(ip),
        ev.count,
        d.failures,
        d.sources,
        horizon,
        from,
    ) {
        let first = dist.win.front().map_or(now, |d| d.0);
        fire.push(Fire::new(
            Rule::SshDistributed,
            dist.win.len() as u64,
            first,
        ));
    }
}

/// The latest failures against one user or network, for distributed detection.
#[derive(Default)]
pub struct Dist {
    /// (ts, ip key), oldest first, at most `failures` of them
    win: VecDeque<(i64, u128)>,
    /// At least the number of distinct sources in `win`: the last exact count, plus one for
    /// every failure since from another address than the one before it. While it is below the
    /// rule's `sources` the window cannot fire, so a single address hammering one account
    /// (the usual case) never pays for a count.
    most: u32,
}

impl Dist {
    /// Record a failure; true when the window (the failures at or after `horizon`, and after
    /// `start()`, the end of the entity's previous alert, looked up only when needed) holds
    /// ≥ `failures` failures from ≥ `sources` distinct addresses.
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        now: i64,
        ip: u128,
        count: u32,
        failures: u32,
        sources: u32,
        horizon: i64,
        start: impl FnOnce() -> i64,
    ) -> bool {
        let dist = &mut self.win;
        let cap = failures as usize;
        if dist.back().map(|d| d.1) != Some(ip) {
            self.most = self.most.saturating_add(1);
        }
        push_capped(dist, (now, ip), count, cap);
        if dist.len() < cap || dist[0].0 < horizon || self.most < sources {
            return false;
        }
        // distinct sources, on the stack for the usual small thresholds
        let mut stack = [0u128; 16];
        let mut heap = vec![];
        let seen: &mut [u128] = if sources as usize <= stack.len() {
            &mut stack
        } else {
            heap.resize(sources as usize, 0);
            &mut heap
        };
        let mut n = 0;
        for (_, ip) in dist.iter() {
            if !seen[..n].contains(ip) {
                seen[n] = *ip;
                n += 1;
                if n >= sources as usize {
                    // enough sources (how many more is not counted: no bound below `most`);
                    // the window may still reach back into a closed alert
                    return dist[0].0 >= start();
                }
            }
        }
        self.most = n as u32;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Dist::push` skips counting while its bound says the window cannot fire: it must answer
    /// as a count of the whole window every time would, over runs of one address, a few taking
    /// turns, and many, with `count` > 1 and a horizon that moves.
    #[test]
    fn a_window_skips_the_count_only_when_it_cannot_fire() {
        let mut seed = 11u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 33
        };
        let (mut fired, mut skipped) = (0, 0);
        for case in 0..300 {
            let failures = 3 + (next() % 20) as u32;
            let sources = 1 + (next() % 6) as u32 + if case % 10 == 0 { 20 } else { 0 };
            let pool = 1 + next() % [1, 3, 8, 40][case % 4];
            let mut d = Dist::default();
            let mut all: Vec<(i64, u128)> = vec![];
            let mut ip = 0u128;
            for t in 0..200i64 {
                // runs: keep the address most of the time, switch now and then
                if next() % 4 == 0 {
                    ip = (next() % pool) as u128;
                }
                let count = if next() % 8 == 0 {
                    1 + (next() % 4) as u32
                } else {
                    1
                };
                let horizon = t - 30;
                let got = d.push(t, ip, count, failures, sources, horizon, || i64::MIN);
                for _ in 0..count.min(failures) {
                    all.push((t, ip));
                }
                let win = &all[all.len().saturating_sub(failures as usize)..];
                let mut distinct: Vec<u128> = win.iter().map(|w| w.1).collect();
                distinct.sort_unstable();
                distinct.dedup();
                let want = win.len() == failures as usize
                    && win[0].0 >= horizon
                    && distinct.len() >= sources as usize;
                assert_eq!(
                    got, want,
                    "case {case} t {t}: {failures} failures, {sources} sources"
                );
                assert!(d.most as usize >= distinct.len(), "the bound is a bound");
                fired += want as u32;
                skipped += (win.len() == failures as usize && d.most < sources) as u32;
            }
        }
        assert!(
            fired > 500 && skipped > 500,
            "fired {fired}, skipped {skipped}"
        );
    }
}
