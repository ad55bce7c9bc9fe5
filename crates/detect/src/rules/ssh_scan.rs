//! `ssh.scan`: pre-authentication noise from one address (no identification string, bad
//! banners, kex or cipher failures, closes before any login; ≥ 3 within 10 min; T1595, T1046).

use super::{Explain, Fire, On, Rule, RuleDef, RuleInfo};
use crate::config::{count, CountRule};
use crate::engine::IpState;
use crate::state::Ring;
use crate::{Roles, Secs};
use tripline_event::{AuthKind, Event, Kind, Severity};

/// `ssh.scan`.
pub struct Scan;

impl RuleDef for Scan {
    const INFO: RuleInfo = RuleInfo {
        id: "ssh.scan",
        techniques: &["T1595", "T1046"],
        summary: "pre-authentication noise from one address: a scanner",
        base_score: 0.4,
    };
    const KEYS: u8 = Roles::IP;
    type Config = CountRule;
    const DEFAULT: CountRule = count(3, 600, Severity::Low);

    fn explain(x: &Explain<'_>, c: &CountRule) -> String {
        format!(
            "{} pre-authentication failures from {} (no identification, bad banner, kex or cipher failures; threshold {} within {})",
            x.alert.count,
            x.who,
            c.threshold,
            Secs(c.window_seconds)
        )
    }

    fn counts(ev: &Event) -> bool {
        ev.hostile
            && ev.src_ip.is_some()
            && ev.user.is_none()
            && matches!(
                ev.kind,
                Kind::Auth(
                    AuthKind::PreauthNoise | AuthKind::PreauthClose | AuthKind::ConnectionClose
                )
            )
    }
}

/// The address's latest pre-authentication noise.
#[derive(Default)]
pub struct Noise(Ring);

#[inline]
pub fn on_ip(on: &mut On<'_, IpState>) {
    let ev = on.ev;
    if !Scan::counts(ev) {
        return;
    }
    let (sc, now, prior) = (&on.cfg.rules.ssh_scan, on.now, on.prior);
    let noise = &mut on.st.scan.0;
    noise.push(now, ev.count, sc.threshold as usize);
    let from = || prior.start(Rule::SshScan, sc.window_seconds);
    if let Some((n, first)) = noise.counting(sc, now, from, || prior.open(Rule::SshScan)) {
        on.fire.push(Fire::new(Rule::SshScan, n, first));
    }
}
