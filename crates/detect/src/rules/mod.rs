//! The log rules, one file each (or one per tight family sharing a window): its [`RuleInfo`]
//! (id, ATT&CK techniques, summary, base score), its settings and their defaults, its
//! severity, its explanation and its logic; its golden cases sit beside it in a directory of
//! the same name (`ssh_spray.rs`, `ssh_spray/*.log` + `.expected`).
//!
//! A rule is a type implementing [`RuleDef`] (every item required: a rule without its info,
//! settings, severity or explanation does not compile) and one line in [`rules!`] below, which
//! makes the [`Rule`] enum and its exhaustive dispatch. Its logic is a function the detector
//! calls for each event on an entity the rule keys on ([`On`]); a rule that keeps state of its
//! own declares it in its file and the entity's state holds it (`engine.rs`).

use crate::config::RuleConfig;
use crate::engine::Prior;
use crate::{DetectConfig, Output, Roles};
use std::net::IpAddr;
use tripline_event::{Addr, Alert, Event, Severity, Text};

pub use tripline_event::catalog::{technique_name, technique_url, RuleInfo};

pub mod account_change;
pub mod honeypot;
pub mod priv_after_login;
pub mod priv_su_failures;
pub mod priv_sudo;
pub mod ssh_bruteforce;
pub mod ssh_compromise;
pub mod ssh_distributed;
pub mod ssh_enumeration;
pub mod ssh_new_source_login;
pub mod ssh_refused;
pub mod ssh_scan;
pub mod ssh_spray;

/// What a rule is, as a type: everything but its logic.
pub trait RuleDef {
    /// Id, techniques, summary, base score.
    const INFO: RuleInfo;
    /// The entity states its windows live in ([`Roles::IP`], [`Roles::USER`], [`Roles::NET`]):
    /// what is idle longer than its window there is forgotten.
    const KEYS: u8;
    /// Its settings (`[detect.rules.NAME]`): enabled, severity, thresholds.
    type Config: RuleConfig;
    /// Its settings by default: what it is documented with.
    const DEFAULT: Self::Config;
    /// Why it fired, in words, with the numbers that made it fire.
    fn explain(x: &Explain<'_>, c: &Self::Config) -> String;
    /// Whether an event moves it (counts in its windows, or may fire it): what `tripline
    /// explain` lists for a line. The rule's logic looks only at such events.
    fn counts(ev: &Event) -> bool;
    /// The rules it tells more specifically about the same attempts on the same entity (one
    /// attacker, one story), and with them all they outrank: when it fires with one of them,
    /// or while its alert is open, they do not open or grow alerts of their own; their hits
    /// grow this one, and an alert of theirs already open is named in this one's `folds`.
    const OUTRANKS: &'static [Rule] = &[];
}

/// An attempt to log in from an address: what its attempts window counts (brute force, slow
/// brute force, spraying, enumeration, and the failures before a compromise). A failed login on
/// a honeypot is one too: a burst of them is a brute force, whatever the server.
#[inline]
pub fn attempt(ev: &Event) -> bool {
    use tripline_event::{AuthKind, HoneypotKind, Kind};
    ev.hostile
        && ev.src_ip.is_some()
        && (ev.kind.is_login_failure()
            || matches!(
                ev.kind,
                Kind::Auth(AuthKind::Success { .. })
                    | Kind::Honeypot(HoneypotKind::Login { success: false, .. })
            )
            || (matches!(
                ev.kind,
                Kind::Auth(AuthKind::PreauthClose | AuthKind::ConnectionClose)
            ) && ev.user.is_some()))
}

/// What an explanation is made from: the alert, the entity, the users and sources it saw, and
/// the words its rule gave when it fired.
pub struct Explain<'a> {
    pub alert: &'a Alert,
    pub who: Addr<'a>,
    pub users: Names<'a>,
    pub sources: List<'a, IpAddr>,
    pub detail: &'a str,
}

/// A rule that fires on an event.
pub struct Fire {
    pub rule: Rule,
    /// Words for the explanation (empty: the rule's own words say it all).
    pub detail: String,
    /// How many events its window counts.
    pub n: u64,
    /// Event time of the first of them, µs.
    pub first: i64,
    /// A severity other than the rule's configured one, for this hit (a compromise that looks
    /// like a typo).
    pub severity: Option<Severity>,
    /// The techniques this hit shows, when the rule's alerts carry only those their hits showed
    /// (of the rule's own list) rather than the whole list.
    pub techniques: &'static [&'static str],
    /// A rule that outranks this one may take the hit over ([`RuleDef::OUTRANKS`]); `false`
    /// for a hit that tells something the outranking rules do not.
    pub foldable: bool,
}

impl Fire {
    /// `rule` fires: its window counts `n` events, the first at `first` (µs).
    pub fn new(rule: Rule, n: u64, first: i64) -> Fire {
        Fire {
            rule,
            detail: String::new(),
            n,
            first,
            severity: None,
            techniques: &[],
            foldable: true,
        }
    }

    /// Showing these techniques (the alert carries the union of its hits').
    pub fn techniques(self, techniques: &'static [&'static str]) -> Fire {
        Fire { techniques, ..self }
    }

    /// Never taken over by a rule that outranks it.
    pub fn unfoldable(self) -> Fire {
        Fire {
            foldable: false,
            ..self
        }
    }

    /// With words for the explanation.
    pub fn detail(self, detail: String) -> Fire {
        Fire { detail, ..self }
    }

    /// At this severity rather than the configured one.
    pub fn severity(self, s: Severity) -> Fire {
        Fire {
            severity: Some(s),
            ..self
        }
    }
}

/// What a rule sees of one event on one of its entities: the event, the entity's state `S`,
/// its earlier alerts, the settings; what fires goes to `fire`.
pub struct On<'a, S> {
    pub ev: &'a Event,
    /// The event's time, µs.
    pub now: i64,
    pub st: &'a mut S,
    pub prior: &'a Prior<'a>,
    pub cfg: &'a DetectConfig,
    pub fire: &'a mut Vec<Fire>,
    /// Records for the store beside alerts (first-seen networks).
    pub out: &'a mut Vec<Output>,
    /// Rebuilding state from lines already accounted for: record nothing.
    pub warming: bool,
    /// The event's user has logged in successfully from the event's network before (set for
    /// the address's rules: a login this shard saw, or one the store remembers).
    pub known_login: bool,
}

/// How many µs in a second.
pub const SECOND: i64 = 1_000_000;

/// The rules: each variant, its type and its settings' field in [`RulesConfig`]. This makes
/// [`Rule`] and every match on it, exhaustive by construction.
macro_rules! rules {
    ($($variant:ident => $def:ty, $field:ident;)*) => {
        /// A rule of this crate.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Rule {
            $($variant,)*
        }

        impl Rule {
            /// Every rule, in catalog order.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant,)*];

            /// What the rule is (id, techniques, summary, base score).
            pub fn info(self) -> &'static RuleInfo {
                match self {
                    $(Rule::$variant => &<$def as RuleDef>::INFO,)*
                }
            }

            /// The path of its type (`module::Type`): its file.
            #[cfg(test)]
            pub(crate) fn type_path(self) -> &'static str {
                match self {
                    $(Rule::$variant => stringify!($def),)*
                }
            }

            /// Its settings' key under `[detect.rules]`.
            pub fn key(self) -> &'static str {
                match self {
                    $(Rule::$variant => stringify!($field),)*
                }
            }

            /// The entity states its windows live in.
            pub fn keys(self) -> Roles {
                match self {
                    $(Rule::$variant => Roles(<$def as RuleDef>::KEYS),)*
                }
            }

            /// Its settings.
            pub fn config(self, r: &RulesConfig) -> &dyn RuleConfig {
                match self {
                    $(Rule::$variant => &r.$field,)*
                }
            }

            /// The severity its alerts carry, from its configuration.
            pub fn severity(self, r: &RulesConfig) -> Severity {
                match self {
                    $(Rule::$variant => RuleConfig::severity(&r.$field),)*
                }
            }

            /// The rules it outranks on the same entity ([`RuleDef::OUTRANKS`]).
            pub fn outranks(self) -> &'static [Rule] {
                match self {
                    $(Rule::$variant => <$def as RuleDef>::OUTRANKS,)*
                }
            }

            /// Whether an event moves it ([`RuleDef::counts`]).
            pub fn counts(self, ev: &Event) -> bool {
                match self {
                    $(Rule::$variant => <$def as RuleDef>::counts(ev),)*
                }
            }

            /// Why it fired, in words (at most 2 KiB).
            pub fn explain(self, x: &Explain<'_>, r: &RulesConfig) -> String {
                let mut s = match self {
                    $(Rule::$variant => <$def as RuleDef>::explain(x, &r.$field),)*
                };
                s.truncate(tripline_event::truncate_str(&s, 2048).len());
                s
            }
        }

        /// Every rule of this crate, in catalog order.
        pub const RULES: &[RuleInfo] = &[$(<$def as RuleDef>::INFO,)*];

        /// Every rule's settings, with the defaults the rules are documented with.
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct RulesConfig {
            $(
                #[doc = concat!("`[detect.rules.", stringify!($field), "]`: its rule's settings (`rules/`).")]
                pub $field: <$def as RuleDef>::Config,
            )*
        }

        impl Default for RulesConfig {
            fn default() -> Self {
                RulesConfig {
                    $($field: <$def as RuleDef>::DEFAULT,)*
                }
            }
        }
    };
}

rules! {
    SshBruteforce => ssh_bruteforce::Bruteforce, ssh_bruteforce;
    SshBruteforceSlow => ssh_bruteforce::Slow, ssh_bruteforce_slow;
    SshSpray => ssh_spray::Spray, ssh_spray;
    SshEnumeration => ssh_enumeration::Enumeration, ssh_enumeration;
    SshDistributed => ssh_distributed::Distributed, ssh_distributed;
    SshScan => ssh_scan::Scan, ssh_scan;
    SshRefused => ssh_refused::Refused, ssh_refused;
    SshCompromise => ssh_compromise::Compromise, ssh_compromise;
    SshNewSourceLogin => ssh_new_source_login::NewSourceLogin, ssh_new_source_login;
    PrivSudoFailures => priv_sudo::SudoFailures, priv_sudo_failures;
    PrivNotInSudoers => priv_sudo::NotInSudoers, priv_not_in_sudoers;
    PrivSuFailures => priv_su_failures::SuFailures, priv_su_failures;
    PrivAfterLogin => priv_after_login::AfterLogin, priv_after_login;
    AccountChange => account_change::AccountChange, account_change;
    HoneypotLogin => honeypot::Login, honeypot_login;
    HoneypotDownload => honeypot::Download, honeypot_download;
    HoneypotProxy => honeypot::Proxy, honeypot_proxy;
    HoneypotReturned => honeypot::Returned, honeypot_returned;
}

/// The rule with this id.
pub fn rule_info(id: &str) -> Option<&'static RuleInfo> {
    RULES.iter().find(|r| r.id == id)
}

/// Items joined by `, `, formatted in place.
#[derive(Clone, Copy)]
pub struct List<'a, T>(pub &'a [T]);

impl<T: ListItem> std::fmt::Display for List<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            item.write(f)?;
        }
        Ok(())
    }
}

/// The users an alert saw: the first few by name, then how many more.
#[derive(Clone, Copy)]
pub struct Names<'a> {
    pub names: &'a [Text],
    /// Distinct users beyond `names`.
    pub more: usize,
    /// `more` stopped counting (there are at least that many).
    pub capped: bool,
}

impl std::fmt::Display for Names<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.names.is_empty() && self.more == 0 {
            // the lines named no user (a client's own disconnect, a scan)
            return f.write_str("none named");
        }
        List(self.names).fmt(f)?;
        match (self.more, self.capped) {
            (0, _) => Ok(()),
            (n, false) => write!(f, " and {n} more"),
            (n, true) => write!(f, " and over {n} more"),
        }
    }
}

pub trait ListItem {
    fn write(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result;
}

impl ListItem for Text {
    fn write(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

impl ListItem for IpAddr {
    fn write(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&tripline_event::net::IpText::new(*self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn every_rule_is_in_the_catalog_once_with_techniques_a_severity_and_words() {
        let cfg = RulesConfig::default();
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len(), "a repeated rule id");
        assert_eq!(RULES.len(), Rule::ALL.len());
        for (i, r) in Rule::ALL.iter().copied().enumerate() {
            let info = r.info();
            assert_eq!(RULES[i], *info, "{} out of order", info.id);
            assert_eq!(r as usize, i);
            assert!(!info.techniques.is_empty(), "{}: no technique", info.id);
            for t in info.techniques {
                assert!(technique_name(t).is_some(), "{}: {t} has no name", info.id);
            }
            // the settings' key is the id with `_` for `.`
            assert_eq!(r.key(), info.id.replace('.', "_"), "{}", info.id);
            assert!(!r.keys().is_empty(), "{}: keyed on nothing", info.id);
            let a = tripline_event::Alert {
                id: "x".into(),
                rule: info.id.into(),
                severity: r.severity(&cfg),
                score: info.score(1),
                entity: tripline_event::Entity::User("u".into()),
                src_ip: None,
                user: None,
                host: "h".into(),
                sensor: "files".into(),
                techniques: tripline_event::Techniques::Borrowed(info.techniques),
                count: 1,
                first_seen: tripline_event::Timestamp(0),
                last_seen: tripline_event::Timestamp(0),
                explanation: String::new(),
                evidence: vec![],
                detail: None,
            };
            let x = Explain {
                alert: &a,
                who: a.entity.view().value,
                users: Names {
                    names: &[],
                    more: 0,
                    capped: false,
                },
                sources: List(&[]),
                detail: "d",
            };
            assert!(!r.explain(&x, &cfg).is_empty(), "{}", info.id);
        }
        assert_eq!(
            technique_url("T1110.001"),
            "https://attack.mitre.org/techniques/T1110/001/"
        );
        assert_eq!(technique_name("T9999"), None);
    }

    /// Each rule's golden cases sit beside it (`rules/NAME/`), and at least one of them makes
    /// it fire.
    #[test]
    fn every_rule_has_a_golden_case_beside_it_that_makes_it_fire() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rules");
        for r in Rule::ALL {
            let file = module_of(*r);
            let cases = dir.join(file);
            let fires = std::fs::read_dir(&cases)
                .unwrap_or_else(|e| {
                    panic!(
                        "{}: no golden cases in {}: {e}",
                        r.info().id,
                        cases.display()
                    )
                })
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "expected"))
                .any(|p| {
                    std::fs::read_to_string(&p)
                        .unwrap()
                        .lines()
                        .any(|l| l.split(' ').next() == Some(r.info().id))
                });
            assert!(
                fires,
                "{}: no case in {} fires it",
                r.info().id,
                cases.display()
            );
        }
    }

    /// The file a rule's type is declared in (its module), from the type's path.
    fn module_of(r: Rule) -> &'static str {
        r.type_path().split("::").next().unwrap().trim()
    }
}
