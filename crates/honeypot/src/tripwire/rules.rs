//! The command rules: what one simple command can give away, by family.
//!
//! A rule names the command words it is about (`words`) and/or the strings a line must hold for
//! it to apply (`needles`, found by one Aho-Corasick pass over the line); its `check` then looks
//! at the parsed command: its name, options, operands, redirections, its pipeline, the directory
//! the session is in. Tools are recognised by command word only, never inside another word
//! (`sshd` is not `sh`, `cat /etc/passwd` is not `passwd`); arguments are matched as paths
//! (resolved against the session's working directory) or as patterns.

use super::parse::{basename, is_assignment, is_shell, Cmd, RedirOp};
use super::Family;
use regex::Regex;
use tripline_event::Severity;

/// When a rule's check runs for a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// The command's name is one of `words`.
    Word,
    /// One of `needles` is in the line (any command).
    Needle,
    /// Either.
    WordOrNeedle,
    /// Both.
    WordAndNeedle,
    /// Every command (the check is cheap).
    Always,
}

/// A command rule.
pub(crate) struct RuleDef {
    pub id: &'static str,
    pub family: Family,
    pub severity: Severity,
    pub techniques: &'static [&'static str],
    pub reason: &'static str,
    pub need: Need,
    pub words: &'static [&'static str],
    /// Lowercase; matched case-insensitively.
    pub needles: &'static [&'static str],
    pub check: fn(&Env<'_>, &Cmd) -> bool,
}

/// The compiled patterns some checks use.
pub(crate) struct Patterns {
    secret: Regex,
    wallet: Regex,
}

impl Patterns {
    pub(crate) fn new() -> Patterns {
        let re = |s: &str| Regex::new(s).expect("a built-in pattern compiles");
        Patterns {
            secret: re(
                r"(?i)pass(?:w(?:or)?d)?|\bpwd\b|secret|token|api[_-]?key|credential|private[_-]?key|aws_(?:access|secret)",
            ),
            wallet: re(r"^(?:[48][0-9AB][1-9A-HJ-NP-Za-km-z]{93}|0x[0-9a-fA-F]{40})(?:[.+/].*)?$"),
        }
    }
}

/// What a check sees besides its command: the line's other commands and the session's place.
pub(crate) struct Env<'a> {
    pub cmds: &'a [Cmd],
    /// The command's index in `cmds`.
    pub idx: usize,
    /// The session's working directory ("" when unknown; `~` for the home directory).
    pub cwd: &'a str,
    /// The line (at most `parse::MAX_LINE` bytes of it).
    pub line: &'a str,
    pub pat: &'a Patterns,
}

impl Env<'_> {
    /// `p` made absolute against the working directory (`~` for the home directory).
    pub fn path(&self, p: &str) -> String {
        resolve(self.cwd, p)
    }

    /// The command reads a file `pred` accepts: an operand of a reader (the sources of a copy),
    /// or a `<` redirection.
    fn reads(&self, c: &Cmd, pred: impl Fn(&str) -> bool) -> bool {
        let ok = |p: &str| pred(&self.path(p));
        if c.redirs
            .iter()
            .any(|r| r.op == RedirOp::Read && ok(&r.target))
        {
            return true;
        }
        let name = c.name();
        if !READERS.contains(&name) {
            return false;
        }
        match name {
            "dd" => c
                .args()
                .iter()
                .filter_map(|a| a.strip_prefix("if="))
                .any(ok),
            "cp" | "scp" | "rsync" => {
                let ops: Vec<&str> = c.operands().collect();
                ops.len() >= 2 && ops[..ops.len() - 1].iter().any(|p| ok(p))
            }
            _ => c.operands().any(ok),
        }
    }

    /// The command writes to a file `pred` accepts: a `>`/`>>` redirection, `tee`, the
    /// destination of a copy or link, an in-place edit, an editor, `dd of=`, a download's
    /// output file.
    fn writes(&self, c: &Cmd, pred: impl Fn(&str) -> bool) -> bool {
        let ok = |p: &str| pred(&self.path(p));
        if c.redirs
            .iter()
            .any(|r| matches!(r.op, RedirOp::Write | RedirOp::Append) && ok(&r.target))
        {
            return true;
        }
        match c.name() {
            "tee" | "truncate" | "vi" | "vim" | "nano" | "pico" | "ed" | "emacs" | "joe"
            | "mcedit" => c.operands().any(ok),
            "cp" | "mv" | "install" | "ln" | "rsync" => last_of_two(c).is_some_and(ok),
            "sed" | "perl" => {
                (c.has_short('i') || c.has_long("--in-place")) && c.operands().any(ok)
            }
            "dd" => c
                .args()
                .iter()
                .filter_map(|a| a.strip_prefix("of="))
                .any(ok),
            "wget" => short_value(c, 'O')
                .or_else(|| long_value(c, "--output-document"))
                .is_some_and(ok),
            "curl" => short_value(c, 'o')
                .or_else(|| long_value(c, "--output"))
                .is_some_and(ok),
            _ => false,
        }
    }

    /// The command deletes, truncates or edits away a file `pred` accepts: `rm`, `shred`, a `>`
    /// redirection, `truncate`, a copy or link of `/dev/null` over it, `dd` of zeros onto it,
    /// `find … -delete`, `sed -i`.
    fn wipes(&self, c: &Cmd, pred: impl Fn(&str) -> bool) -> bool {
        let ok = |p: &str| pred(&self.path(p));
        if c.redirs
            .iter()
            .any(|r| r.op == RedirOp::Write && ok(&r.target))
        {
            return true;
        }
        match c.name() {
            "rm" | "unlink" | "shred" | "srm" | "wipe" | "truncate" => c.operands().any(ok),
            "cp" | "ln" => {
                c.operands().next() == Some("/dev/null") && last_of_two(c).is_some_and(ok)
            }
            "dd" => {
                c.args().iter().any(|a| {
                    matches!(
                        a.as_str(),
                        "if=/dev/zero" | "if=/dev/null" | "if=/dev/urandom"
                    )
                }) && c
                    .args()
                    .iter()
                    .filter_map(|a| a.strip_prefix("of="))
                    .any(ok)
            }
            "find" => {
                let deletes = c.has_arg("-delete")
                    || c.args().windows(2).any(|w| {
                        matches!(w[0].as_str(), "-exec" | "-execdir")
                            && matches!(basename(&w[1]), "rm" | "shred" | "truncate" | "unlink")
                    });
                deletes && find_roots(c).any(ok)
            }
            "sed" => (c.has_short('i') || c.has_long("--in-place")) && c.operands().any(ok),
            _ => false,
        }
    }

    /// The commands after this one in its pipeline.
    fn downstream(&self, c: &Cmd) -> impl Iterator<Item = &Cmd> {
        let pipeline = c.pipeline;
        let piped = c.pipe_out;
        self.cmds[self.idx + 1..]
            .iter()
            .filter(move |d| piped && d.pipeline == pipeline)
    }

    /// The other commands of this one's pipeline.
    fn pipeline(&self, c: &Cmd) -> impl Iterator<Item = &Cmd> {
        let (pipeline, idx) = (c.pipeline, self.idx);
        self.cmds
            .iter()
            .enumerate()
            .filter(move |(k, d)| *k != idx && d.pipeline == pipeline)
            .map(|(_, d)| d)
    }

    /// The command's output ends up in a shell.
    fn pipes_to_shell(&self, c: &Cmd) -> bool {
        self.downstream(c).any(|d| is_shell(d.name()))
    }
}

/// `p` resolved against `cwd`: `~`, `$HOME` and `${HOME}` become `~`, `.` and `..` are folded;
/// a relative path stays relative when the directory is unknown.
pub(crate) fn resolve(cwd: &str, p: &str) -> String {
    let (home, tail) = if let Some(t) = strip_home(p) {
        (true, t.to_string())
    } else if p.starts_with('/') {
        (false, p.to_string())
    } else if cwd.is_empty() {
        return p.to_string();
    } else {
        match strip_home(cwd) {
            Some(c) => (true, format!("{c}/{p}")),
            None => (false, format!("{cwd}/{p}")),
        }
    };
    let mut parts: Vec<&str> = vec![];
    for part in tail.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            x => parts.push(x),
        }
    }
    let mut out = String::with_capacity(tail.len() + 1);
    if home {
        out.push('~');
    } else if parts.is_empty() {
        out.push('/');
    }
    for x in parts {
        out.push('/');
        out.push_str(x);
    }
    out
}

/// The part of `p` after a leading home directory (`~`, `$HOME`, `${HOME}`), if it has one.
fn strip_home(p: &str) -> Option<&str> {
    ["~", "$HOME", "${HOME}"].iter().find_map(|h| {
        let rest = p.strip_prefix(h)?;
        (rest.is_empty() || rest.starts_with('/')).then_some(rest)
    })
}

/// The last operand of a command with at least two (a copy's destination).
fn last_of_two(c: &Cmd) -> Option<&str> {
    let ops: Vec<&str> = c.operands().collect();
    (ops.len() >= 2).then(|| ops[ops.len() - 1])
}

/// The value of a short option, alone (`-O x`) or ending a cluster (`-qO-`, `-sSLo x`).
fn short_value(c: &Cmd, letter: char) -> Option<&str> {
    let args = c.args();
    for (k, a) in args.iter().enumerate() {
        if a.len() < 2 || !a.starts_with('-') || a.starts_with("--") {
            continue;
        }
        if let Some(pos) = a[1..].find(letter) {
            let rest = &a[1 + pos + letter.len_utf8()..];
            return if rest.is_empty() {
                args.get(k + 1).map(String::as_str)
            } else {
                Some(rest)
            };
        }
    }
    None
}

/// The value of a long option (`--output x`, `--output=x`).
fn long_value<'c>(c: &'c Cmd, flag: &str) -> Option<&'c str> {
    let args = c.args();
    args.iter().enumerate().find_map(|(k, a)| {
        if a == flag {
            args.get(k + 1).map(String::as_str)
        } else {
            a.strip_prefix(flag)?.strip_prefix('=')
        }
    })
}

/// The starting points of `find` (its operands before the expression).
fn find_roots(c: &Cmd) -> impl Iterator<Item = &str> {
    c.args()
        .iter()
        .take_while(|a| !a.starts_with('-') && !matches!(a.as_str(), "(" | "!" | ")"))
        .map(String::as_str)
}

/// The first operand that is not a subcommand option's value: `systemctl stop x` → `stop`.
fn verb(c: &Cmd) -> Option<&str> {
    c.operands().next()
}

/// `p` is `dir` or inside it (`/var/log`, `/var/log/x`, `/var/log*`).
fn under(p: &str, dir: &str) -> bool {
    p.strip_prefix(dir)
        .is_some_and(|r| r.is_empty() || r.starts_with('/') || r.starts_with('*'))
}

fn under_any(p: &str, dirs: &[&str]) -> bool {
    dirs.iter().any(|d| under(p, d))
}

/// World-writable scratch directories droppers use.
fn is_temp(p: &str) -> bool {
    under_any(
        p,
        &["/tmp", "/var/tmp", "/dev/shm", "/run/shm", "/var/run/shm"],
    )
}

fn is_log(p: &str) -> bool {
    under_any(p, &["/var/log", "/var/run/utmp", "/run/utmp", "/var/adm"])
        || matches!(basename(p), "wtmp" | "btmp" | "utmp" | "lastlog")
}

fn is_history_file(p: &str) -> bool {
    let b = basename(p);
    b.starts_with('.') && (b.contains("history") || b == ".histfile" || b == ".lesshst")
}

fn is_authorized_keys(p: &str) -> bool {
    basename(p).starts_with("authorized_keys")
}

fn is_cron(p: &str) -> bool {
    matches!(p, "/etc/crontab" | "/etc/anacrontab")
        || under_any(
            p,
            &[
                "/etc/cron.d",
                "/etc/cron.hourly",
                "/etc/cron.daily",
                "/etc/cron.weekly",
                "/etc/cron.monthly",
                "/var/spool/cron",
                "/etc/periodic",
            ],
        )
}

const SYSTEMD_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/etc/systemd/user",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/usr/local/lib/systemd/system",
    "/run/systemd/system",
    "~/.config/systemd/user",
];

fn is_rc_script(p: &str) -> bool {
    if p == "/etc/rc.local" || under_any(p, &["/etc/rc.d", "/etc/init.d"]) {
        return true;
    }
    // /etc/rc0.d … /etc/rc6.d, /etc/rcS.d
    p.strip_prefix("/etc/rc").is_some_and(|r| {
        let dir = r.split('/').next().unwrap_or("");
        dir.len() == 3 && dir.ends_with(".d") && matches!(dir.as_bytes()[0], b'0'..=b'6' | b'S')
    })
}

fn is_shell_rc(p: &str) -> bool {
    matches!(
        basename(p),
        ".bashrc"
            | ".bash_profile"
            | ".bash_login"
            | ".bash_logout"
            | ".profile"
            | ".zshrc"
            | ".zprofile"
            | ".zshenv"
            | ".zlogin"
            | ".kshrc"
            | ".cshrc"
            | ".tcshrc"
    ) || matches!(
        p,
        "/etc/profile" | "/etc/bash.bashrc" | "/etc/bashrc" | "/etc/zshrc" | "/etc/zsh/zshrc"
    ) || under(p, "/etc/profile.d")
}

fn is_shadow(p: &str) -> bool {
    matches!(
        p,
        "/etc/shadow" | "/etc/shadow-" | "/etc/gshadow" | "/etc/gshadow-" | "/etc/master.passwd"
    )
}

fn is_private_key(p: &str) -> bool {
    let b = basename(p);
    if b.ends_with(".pub") {
        return false;
    }
    (b.starts_with("id_") && p.contains(".ssh"))
        || ["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"]
            .iter()
            .any(|k| b.starts_with(k))
        || (b.starts_with("ssh_host_") && b.ends_with("_key"))
        || b.ends_with(".pem")
        || b.ends_with(".ppk")
        || b.ends_with(".key")
        || (b == "*" && p.contains("/.ssh/"))
}

fn is_cloud_credentials(p: &str) -> bool {
    [
        "/.aws/",
        "/.config/gcloud",
        "/.azure/",
        "/.kube/config",
        "/.docker/config.json",
    ]
    .iter()
    .any(|d| p.contains(d))
        || matches!(
            basename(p),
            ".git-credentials"
                | ".netrc"
                | ".pgpass"
                | ".my.cnf"
                | ".s3cfg"
                | ".boto"
                | "wp-config.php"
                | ".env"
                | "credentials.json"
        )
}

fn is_block_device(p: &str) -> bool {
    p.strip_prefix("/dev/").is_some_and(|d| {
        [
            "sd", "hd", "vd", "xvd", "nvme", "mmcblk", "md", "dm-", "mapper/", "disk/",
        ]
        .iter()
        .any(|k| d.starts_with(k))
    })
}

/// `s` names one of `list` as a token (`aliyun.service`, `/usr/local/aegis/x`, `AliYunDun`):
/// split on anything but letters, digits, `-` and `_`, a token equal to a name or made of one
/// and a `-`/`_` suffix or prefix.
fn names_any(s: &str, list: &[&str]) -> bool {
    let s = s.to_ascii_lowercase();
    s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .filter(|t| !t.is_empty())
        .any(|t| {
            list.iter().any(|n| {
                t == *n
                    || t.strip_prefix(n).is_some_and(|r| r.starts_with(['-', '_']))
                    || t.strip_suffix(n).is_some_and(|r| r.ends_with(['-', '_']))
            })
        })
}

/// Any word of the command (its name included) names one of `list`.
fn cmd_names_any(c: &Cmd, list: &[&str]) -> bool {
    c.words[c.start.min(c.words.len())..]
        .iter()
        .any(|w| names_any(w, list))
}

/// Commands that read the files they are given.
const READERS: &[&str] = &[
    "cat", "tac", "less", "more", "head", "tail", "strings", "grep", "egrep", "fgrep", "zgrep",
    "rgrep", "zcat", "nl", "od", "xxd", "hexdump", "base64", "cp", "scp", "rsync", "awk", "gawk",
    "mawk", "sed", "cut", "sort", "uniq", "wc", "diff", "tar", "zip", "gzip", "7z", "vi", "vim",
    "view", "nano", "pico", "ed", "dd", "openssl", "nc", "curl",
];

/// Services that answer with the caller's public address (a connectivity check, not a
/// download).
const IP_LOOKUPS: &[&str] = &[
    "ifconfig.me",
    "ifconfig.co",
    "icanhazip.com",
    "ipinfo.io",
    "api.ipify.org",
    "ipecho.net",
    "checkip.amazonaws.com",
    "ident.me",
    "ip.sb",
    "wtfismyip.com",
    "checkip.dyndns.org",
    "myip.opendns.com",
    "ipv4.icanhazip.com",
];

const FIREWALLS: &[&str] = &[
    "firewalld",
    "ufw",
    "iptables",
    "ip6tables",
    "nftables",
    "netfilter-persistent",
    "shorewall",
    "csf",
    "susefirewall2",
];

/// Security and logging agents attackers stop, kill or remove (cloud agents included: Alibaba
/// `aegis`/`AliYunDun`, Tencent `YDService`/`qcloud`… are the first thing Linux botnets kill).
const SECURITY_TOOLS: &[&str] = &[
    "aegis",
    "aliyun",
    "aliyundun",
    "aliyundunupdate",
    "alisecguard",
    "cloudmonitor",
    "qcloud",
    "yunjing",
    "ydservice",
    "ydlive",
    "sgagent",
    "barad_agent",
    "bcm-agent",
    "hostguard",
    "oracle-cloud-agent",
    "amazon-ssm-agent",
    "google-guest-agent",
    "waagent",
    "falcon-sensor",
    "falcond",
    "crowdstrike",
    "osqueryd",
    "osquery",
    "wazuh",
    "wazuh-agent",
    "ossec",
    "sysdig",
    "falco",
    "auditbeat",
    "elastic-agent",
    "elastic-endpoint",
    "sentinelone",
    "sentinelagent",
    "cbagentd",
    "mdatp",
    "wdavdaemon",
    "sophos",
    "kesl",
    "clamav",
    "clamd",
    "freshclam",
    "fail2ban",
    "rkhunter",
    "snort",
    "suricata",
    "aide",
    "tripwire",
    "rsyslog",
    "rsyslogd",
    "syslog-ng",
    "syslogd",
    "systemd-journald",
    "journald",
];

const MINERS: &[&str] = &[
    "xmrig",
    "xmrig-notls",
    "xmr-stak",
    "xmr-stak-cpu",
    "xmr-stak-rx",
    "minerd",
    "cpuminer",
    "cpuminer-multi",
    "cpuminer-opt",
    "cgminer",
    "bfgminer",
    "sgminer",
    "ethminer",
    "t-rex",
    "nbminer",
    "lolminer",
    "phoenixminer",
    "nanominer",
    "srbminer",
    "srbminer-multi",
    "teamredminer",
    "gminer",
    "ccminer",
    "bminer",
    "kdevtmpfsi",
];

/// Names of miners and of the miner botnets that fight over a host.
const COMPETITORS: &[&str] = &[
    "xmrig",
    "xmr",
    "minerd",
    "cpuminer",
    "kinsing",
    "kdevtmpfsi",
    "kworkerds",
    "kthreaddi",
    "watchbog",
    "ddgs",
    "sysupdate",
    "networkservice",
    "sysguard",
    "dbused",
    "stratum",
    "miner",
    "cryptonight",
    "monero",
    ":3333",
    ":4444",
    ":5555",
    ":7777",
    ":14444",
    "nanopool",
    "minexmr",
    "supportxmr",
    "c3pool",
    "moneroocean",
];

const POOL_DOMAINS: &[&str] = &[
    "minexmr.com",
    "supportxmr.com",
    "nanopool.org",
    "moneroocean.stream",
    "c3pool.com",
    "c3pool.org",
    "hashvault.pro",
    "f2pool.com",
    "2miners.com",
    "nicehash.com",
    "minergate.com",
    "herominers.com",
    "unmineable.com",
    "xmrpool.eu",
    "monerohash.com",
    "ethermine.org",
    "zpool.ca",
    "prohashing.com",
    "hiveon.net",
    "flexpool.io",
];

const POOL_PORTS: &[&str] = &[
    "3333", "4444", "5555", "6666", "7777", "14444", "14433", "45560", "45700", "10128", "10343",
    "20535",
];

/// Tools that reach other hosts (for loops over hosts).
const REMOTE_TOOLS: &[&str] = &[
    "ssh", "scp", "sshpass", "ping", "nc", "ncat", "netcat", "telnet", "hydra", "rsync", "nmap",
    "masscan",
];

const SYSINFO_FILES: &[&str] = &[
    "/proc/cpuinfo",
    "/proc/meminfo",
    "/proc/version",
    "/proc/stat",
    "/etc/os-release",
    "/usr/lib/os-release",
    "/etc/issue",
    "/etc/lsb-release",
    "/etc/redhat-release",
    "/etc/debian_version",
];

// ---------------------------------------------------------------------------------------------
// the table

use Family::*;
use Need::*;
use Severity::{Critical, High, Low, Medium};

/// Every command rule (ids unique; their techniques in the catalog under their current ids).
pub(crate) static RULES: &[RuleDef] = &[
    // -- reconnaissance / discovery -----------------------------------------------------------
    RuleDef {
        id: "tw.recon.system_info",
        family: Recon,
        severity: Low,
        techniques: &["T1082"],
        reason: "system information discovery",
        need: Word,
        words: &[
            "uname",
            "lscpu",
            "nproc",
            "free",
            "hostnamectl",
            "lsb_release",
            "uptime",
            "lshw",
            "lspci",
            "nvidia-smi",
            "lsblk",
            "hostname",
            "df",
            "arch",
            "cat",
            "tac",
            "less",
            "more",
            "head",
            "tail",
            "grep",
            "egrep",
            "awk",
            "sed",
            "cut",
            "wc",
        ],
        needles: &[],
        check: |e, c| match c.name() {
            "uname" | "lscpu" | "nproc" | "free" | "hostnamectl" | "lsb_release" | "uptime"
            | "lshw" | "lspci" | "nvidia-smi" | "lsblk" | "df" | "arch" => true,
            "hostname" => !c.has_short('I') && !c.has_short('i'),
            _ => e.reads(c, |p| SYSINFO_FILES.contains(&p)),
        },
    },
    RuleDef {
        id: "tw.recon.user_discovery",
        family: Recon,
        severity: Low,
        techniques: &["T1033"],
        reason: "system owner/user discovery",
        need: Word,
        words: &[
            "whoami", "id", "w", "who", "last", "lastb", "lastlog", "users", "logname", "finger",
        ],
        needles: &[],
        check: |_, _| true,
    },
    RuleDef {
        id: "tw.recon.account_discovery",
        family: Recon,
        severity: Low,
        techniques: &["T1087.001"],
        reason: "local account discovery",
        need: Word,
        words: &[
            "getent", "compgen", "ls", "cat", "tac", "less", "more", "head", "tail", "grep",
            "egrep", "awk", "cut", "sort", "wc",
        ],
        needles: &[],
        check: |e, c| match c.name() {
            "getent" => matches!(verb(c), Some("passwd" | "group")),
            "compgen" => c.has_short('u') || c.has_short('g'),
            "ls" => {
                let home = |p: &str| under(p, "/home") || p == "/root";
                c.operands().any(|p| home(&e.path(p)))
                    || (c.operands().next().is_none() && home(e.cwd))
            }
            _ => e.reads(c, |p| {
                matches!(p, "/etc/passwd" | "/etc/group" | "/etc/passwd-")
            }),
        },
    },
    RuleDef {
        id: "tw.recon.network_config",
        family: Recon,
        severity: Low,
        techniques: &["T1016"],
        reason: "network configuration discovery",
        need: Word,
        words: &[
            "ifconfig", "iwconfig", "route", "ip", "nmcli", "hostname", "cat", "less", "more",
            "head", "tail", "grep",
        ],
        needles: &[],
        check: |e, c| match c.name() {
            "ifconfig" | "iwconfig" | "route" | "nmcli" => true,
            "ip" => matches!(
                verb(c),
                Some("a" | "ad" | "addr" | "address" | "l" | "li" | "link" | "r" | "ro" | "route")
            ),
            "hostname" => c.has_short('I') || c.has_short('i'),
            _ => e.reads(c, |p| {
                matches!(
                    p,
                    "/etc/resolv.conf" | "/etc/network/interfaces" | "/proc/net/route"
                ) || under(p, "/etc/sysconfig/network-scripts")
                    || under(p, "/etc/netplan")
            }),
        },
    },
    RuleDef {
        id: "tw.recon.network_connections",
        family: Recon,
        severity: Low,
        techniques: &["T1049"],
        reason: "network connections discovery",
        need: Word,
        words: &[
            "netstat", "ss", "lsof", "cat", "less", "head", "tail", "grep",
        ],
        needles: &[],
        check: |e, c| match c.name() {
            "netstat" | "ss" => true,
            "lsof" => c.has_short('i'),
            _ => e.reads(c, |p| under_any(p, &["/proc/net/tcp", "/proc/net/udp"])),
        },
    },
    RuleDef {
        id: "tw.recon.process",
        family: Recon,
        severity: Low,
        techniques: &["T1057"],
        reason: "process discovery",
        need: Word,
        words: &["ps", "top", "htop", "pstree", "pgrep", "pidof"],
        needles: &[],
        check: |_, _| true,
    },
    RuleDef {
        id: "tw.recon.services",
        family: Recon,
        severity: Low,
        techniques: &["T1007"],
        reason: "service and scheduled job discovery",
        need: Word,
        words: &[
            "systemctl",
            "service",
            "crontab",
            "chkconfig",
            "ls",
            "cat",
            "less",
            "more",
            "head",
            "tail",
            "grep",
        ],
        needles: &[],
        check: |e, c| match c.name() {
            "systemctl" => matches!(
                verb(c),
                None | Some("list-units" | "list-unit-files" | "list-timers" | "status")
            ),
            "service" => c.has_long("--status-all"),
            "crontab" => c.has_short('l'),
            "chkconfig" => c.has_long("--list") || c.args().is_empty(),
            "ls" => c.operands().any(|p| {
                let p = e.path(p);
                is_cron(&p) || under_any(&p, &["/etc/systemd/system", "/etc/init.d"])
            }),
            _ => e.reads(c, is_cron),
        },
    },
    RuleDef {
        id: "tw.recon.virtualization",
        family: Recon,
        severity: Medium,
        techniques: &["T1497.001"],
        reason: "checks for a virtual machine, container or sandbox",
        need: Word,
        words: &[
            "dmidecode",
            "systemd-detect-virt",
            "virt-what",
            "imvirt",
            "ls",
            "cat",
            "head",
            "grep",
            "less",
            "more",
        ],
        needles: &[],
        check: |e, c| match c.name() {
            "dmidecode" | "systemd-detect-virt" | "virt-what" | "imvirt" => true,
            "ls" => c.operands().any(|p| e.path(p) == "/.dockerenv"),
            _ => e.reads(c, |p| {
                matches!(
                    p,
                    "/proc/1/cgroup" | "/proc/self/cgroup" | "/proc/scsi/scsi" | "/.dockerenv"
                ) || under_any(p, &["/sys/class/dmi/id", "/sys/hypervisor"])
            }),
        },
    },
    RuleDef {
        id: "tw.recon.software",
        family: Recon,
        severity: Low,
        techniques: &["T1518"],
        reason: "software discovery",
        need: Word,
        words: &["dpkg", "rpm", "apt", "which", "whereis", "command", "type"],
        needles: &[],
        check: |_, c| match c.name() {
            "dpkg" => c.has_short('l') || c.has_long("--list") || c.has_long("--get-selections"),
            "rpm" => c.has_short('q'),
            "apt" => verb(c) == Some("list"),
            "which" | "whereis" | "type" => c.operands().next().is_some(),
            "command" => c.has_short('v') || c.has_short('V'),
            _ => false,
        },
    },
    RuleDef {
        id: "tw.recon.network_scan",
        family: Recon,
        severity: Medium,
        techniques: &["T1046"],
        reason: "network service scanning",
        need: Word,
        words: &[
            "nmap",
            "masscan",
            "zmap",
            "unicornscan",
            "rustscan",
            "naabu",
            "nc",
            "ncat",
            "netcat",
        ],
        needles: &[],
        check: |_, c| match c.name() {
            "nc" | "ncat" | "netcat" => c.has_short('z'),
            _ => true,
        },
    },
    RuleDef {
        id: "tw.recon.remote_systems",
        family: Recon,
        severity: Low,
        techniques: &["T1018"],
        reason: "remote system discovery",
        need: Word,
        words: &["arp", "ip", "cat", "less", "more", "head", "tail", "grep"],
        needles: &[],
        check: |e, c| match c.name() {
            "arp" => true,
            "ip" => matches!(
                verb(c),
                Some("n" | "ne" | "nei" | "neigh" | "neighbor" | "neighbour")
            ),
            _ => e.reads(c, |p| p == "/etc/hosts"),
        },
    },
    RuleDef {
        id: "tw.recon.internet_check",
        family: Recon,
        severity: Low,
        techniques: &["T1016.001"],
        reason: "internet connection discovery (ping, public address look-up)",
        need: Word,
        words: &["ping", "ping6", "curl", "wget", "dig", "nslookup"],
        needles: &[],
        check: |_, c| match c.name() {
            "ping" | "ping6" => c.operands().next().is_some(),
            _ => c.operands().any(is_ip_lookup),
        },
    },
    // -- persistence ---------------------------------------------------------------------------
    RuleDef {
        id: "tw.persist.cron",
        family: Persistence,
        severity: High,
        techniques: &["T1053.003"],
        reason: "installs a cron job",
        need: Needle,
        words: &[],
        needles: &["cron"],
        check: |e, c| {
            if c.name() == "crontab" {
                let (mut list_or_remove, mut operands, mut skip) = (false, 0, false);
                for a in c.args() {
                    if skip {
                        skip = false;
                        continue;
                    }
                    match a.as_str() {
                        "-u" => skip = true,
                        "-e" => return true,
                        "-" => operands += 1,
                        s if s.starts_with('-') => {
                            list_or_remove |= s.contains(['l', 'r', 'i']);
                        }
                        _ => operands += 1,
                    }
                }
                return operands > 0 || !list_or_remove;
            }
            e.writes(c, is_cron)
        },
    },
    RuleDef {
        id: "tw.persist.authorized_keys",
        family: Persistence,
        severity: High,
        techniques: &["T1098.004"],
        reason: "writes an SSH authorized_keys file",
        need: Needle,
        words: &[],
        needles: &["authorized_keys"],
        check: |e, c| e.writes(c, is_authorized_keys),
    },
    RuleDef {
        id: "tw.persist.systemd",
        family: Persistence,
        severity: High,
        techniques: &["T1543.002"],
        reason: "installs or enables a systemd service",
        need: Needle,
        words: &[],
        needles: &["systemd", "systemctl", ".service"],
        check: |e, c| {
            if c.name() == "systemctl" && verb(c) == Some("enable") {
                return true;
            }
            e.writes(c, |p| under_any(p, SYSTEMD_DIRS))
        },
    },
    RuleDef {
        id: "tw.persist.rc_scripts",
        family: Persistence,
        severity: High,
        techniques: &["T1037.004"],
        reason: "installs a boot script (rc.local, init.d)",
        need: Needle,
        words: &[],
        needles: &[
            "rc.local",
            "init.d",
            "rc.d",
            "update-rc",
            "chkconfig",
            "/etc/rc",
        ],
        check: |e, c| match c.name() {
            "update-rc.d" => c.has_arg("defaults") || c.has_arg("enable"),
            "chkconfig" => c.has_long("--add") || c.has_arg("on"),
            _ => e.writes(c, is_rc_script),
        },
    },
    RuleDef {
        id: "tw.persist.shell_config",
        family: Persistence,
        severity: High,
        techniques: &["T1546.004"],
        reason: "modifies a shell startup file (.bashrc, /etc/profile)",
        need: Needle,
        words: &[],
        needles: &[
            "bashrc",
            "zshrc",
            ".kshrc",
            ".cshrc",
            "profile",
            ".bash_login",
            ".bash_logout",
            ".zshenv",
            ".zlogin",
        ],
        check: |e, c| e.writes(c, is_shell_rc),
    },
    RuleDef {
        id: "tw.persist.create_account",
        family: Persistence,
        severity: High,
        techniques: &["T1136.001"],
        reason: "creates a local account",
        need: WordOrNeedle,
        words: &["useradd", "adduser", "newusers"],
        needles: &["/etc/passwd"],
        check: |e, c| match c.name() {
            "useradd" | "adduser" | "newusers" => !c.has_long("--help") && !c.has_short('h'),
            _ => e.writes(c, |p| p == "/etc/passwd"),
        },
    },
    RuleDef {
        id: "tw.persist.account_change",
        family: Persistence,
        severity: High,
        techniques: &["T1098"],
        reason: "modifies an account or group",
        need: WordOrNeedle,
        words: &["usermod", "gpasswd", "vipw", "vigr", "chsh"],
        needles: &["/etc/shadow", "/etc/group", "/etc/gshadow"],
        check: |e, c| match c.name() {
            "usermod" | "gpasswd" | "vipw" | "vigr" | "chsh" => !c.has_long("--help"),
            _ => e.writes(c, |p| {
                matches!(p, "/etc/shadow" | "/etc/group" | "/etc/gshadow")
            }),
        },
    },
    RuleDef {
        id: "tw.persist.sudoers",
        family: Persistence,
        severity: High,
        techniques: &["T1548.003"],
        reason: "grants itself sudo rights",
        need: WordOrNeedle,
        words: &["visudo"],
        needles: &["sudoers"],
        check: |e, c| {
            c.name() == "visudo" && !c.has_short('c')
                || e.writes(c, |p| p == "/etc/sudoers" || under(p, "/etc/sudoers.d"))
        },
    },
    RuleDef {
        id: "tw.persist.password_change",
        family: Persistence,
        severity: High,
        techniques: &["T1098", "T1531"],
        reason: "changes an account's password",
        need: Word,
        words: &["passwd", "chpasswd"],
        needles: &[],
        check: |_, c| match c.name() {
            "passwd" => !c.has_short('S') && !c.has_long("--status") && !c.has_long("--help"),
            _ => true,
        },
    },
    RuleDef {
        id: "tw.persist.kernel_module",
        family: Persistence,
        severity: High,
        techniques: &["T1547.006"],
        reason: "loads a kernel module",
        need: Word,
        words: &["insmod", "modprobe"],
        needles: &[],
        check: |_, c| match c.name() {
            "insmod" => c.operands().next().is_some(),
            _ => !c.has_short('r') && !c.has_long("--remove") && c.operands().any(|m| m != "msr"),
        },
    },
    RuleDef {
        id: "tw.persist.ld_preload",
        family: Persistence,
        severity: High,
        techniques: &["T1574.006"],
        reason: "hijacks the dynamic linker (ld.so.preload, LD_PRELOAD)",
        need: Needle,
        words: &[],
        needles: &["ld.so.preload", "ld_preload"],
        check: |e, c| {
            e.writes(c, |p| p == "/etc/ld.so.preload")
                || c.words
                    .iter()
                    .any(|w| w.strip_prefix("LD_PRELOAD=").is_some_and(|v| !v.is_empty()))
        },
    },
    // -- stealth -------------------------------------------------------------------------------
    RuleDef {
        id: "tw.stealth.clear_history",
        family: Stealth,
        severity: High,
        techniques: &["T1070.003"],
        reason: "clears the shell history",
        need: Needle,
        words: &[],
        needles: &["history", "histfile", "lesshst"],
        check: |e, c| {
            if c.name() == "history" {
                return c.has_short('c') || c.has_short('d');
            }
            e.wipes(c, is_history_file)
        },
    },
    RuleDef {
        id: "tw.stealth.timestomp",
        family: Stealth,
        severity: Medium,
        techniques: &["T1070.006"],
        reason: "changes a file's timestamps (timestomp)",
        need: Word,
        words: &["touch"],
        needles: &[],
        check: |_, c| {
            c.has_short('r')
                || c.has_short('t')
                || c.has_short('d')
                || c.has_long("--reference")
                || c.has_long("--date")
        },
    },
    RuleDef {
        id: "tw.stealth.hidden_dir",
        family: Stealth,
        severity: Medium,
        techniques: &["T1564.001"],
        reason: "hides files in a dot directory of a scratch directory",
        need: Word,
        words: &["mkdir", "cd", "mv", "cp", "wget", "curl"],
        needles: &[],
        check: |e, c| {
            let hidden = |p: &str| {
                let p = e.path(p);
                if !is_temp(&p) {
                    return false;
                }
                p.split('/').skip(2).any(|part| {
                    part.starts_with('.')
                        && part != "."
                        && part != ".."
                        && !matches!(
                            part,
                            ".ICE-unix" | ".X11-unix" | ".font-unix" | ".XIM-unix" | ".Test-unix"
                        )
                        || part.trim_matches([' ', '.']).is_empty() && part.len() > 2
                })
            };
            match c.name() {
                "mkdir" | "cd" => c.operands().any(hidden),
                "mv" | "cp" => last_of_two(c).is_some_and(hidden),
                "wget" => short_value(c, 'O')
                    .or_else(|| short_value(c, 'P'))
                    .is_some_and(hidden),
                _ => short_value(c, 'o').is_some_and(hidden),
            }
        },
    },
    RuleDef {
        id: "tw.stealth.delete_tools",
        family: Stealth,
        severity: Low,
        techniques: &["T1070.004"],
        reason: "deletes files from a scratch directory",
        need: Word,
        words: &["rm", "unlink", "shred"],
        needles: &[],
        check: |e, c| c.operands().any(|p| is_temp(&e.path(p))),
    },
    RuleDef {
        id: "tw.stealth.decode_payload",
        family: Stealth,
        severity: Medium,
        techniques: &["T1140"],
        reason: "decodes an encoded payload",
        need: Word,
        words: &[
            "base64", "base32", "openssl", "xxd", "uudecode", "python", "python2", "python3",
            "perl",
        ],
        needles: &[],
        check: |e, c| is_decoder(c) && !e.pipes_to_shell(c),
    },
    // -- defence impairment --------------------------------------------------------------------
    RuleDef {
        id: "tw.impair.history_logging",
        family: DefenseImpairment,
        severity: High,
        techniques: &["T1690"],
        reason: "stops the shell from recording its history",
        need: Needle,
        words: &[],
        needles: &["hist", "$$"],
        check: |_, c| {
            let assigns = |w: &str| {
                let Some((name, value)) = w.split_once('=') else {
                    return false;
                };
                let value = value.trim_matches(['\'', '"']);
                match name {
                    "HISTFILE" => value.is_empty() || value == "/dev/null",
                    "HISTSIZE" | "HISTFILESIZE" | "SAVEHIST" => value == "0",
                    "HISTCONTROL" => value.contains("ignorespace") || value.contains("ignoreboth"),
                    "HISTIGNORE" => value.contains('*'),
                    _ => false,
                }
            };
            let declares = matches!(
                c.name(),
                "export" | "declare" | "typeset" | "readonly" | "local" | "env" | ""
            );
            match c.name() {
                "unset" => c
                    .operands()
                    .any(|v| matches!(v, "HISTFILE" | "HISTORY" | "HISTSAVE" | "HISTLOG")),
                "set" => c
                    .args()
                    .windows(2)
                    .any(|w| w[0] == "+o" && w[1] == "history"),
                "kill" => {
                    c.has_arg("$$")
                        && (c.has_arg("-9") || c.has_arg("-KILL") || c.has_arg("-SIGKILL"))
                }
                _ => {
                    c.prefix().iter().any(|w| is_assignment(w) && assigns(w))
                        || declares && c.args().iter().any(|w| assigns(w))
                }
            }
        },
    },
    RuleDef {
        id: "tw.impair.clear_logs",
        family: DefenseImpairment,
        severity: High,
        techniques: &["T1685.006"],
        reason: "clears system logs",
        need: Needle,
        words: &[],
        needles: &[
            "/var/log",
            "wtmp",
            "btmp",
            "utmp",
            "lastlog",
            "journalctl",
            "/var/adm",
            "log",
        ],
        check: |e, c| {
            if c.name() == "journalctl" {
                return c.args().iter().any(|a| a.starts_with("--vacuum"));
            }
            e.wipes(c, is_log)
        },
    },
    RuleDef {
        id: "tw.impair.firewall",
        family: DefenseImpairment,
        severity: High,
        techniques: &["T1686"],
        reason: "disables or opens the firewall",
        need: Word,
        words: &[
            "iptables",
            "ip6tables",
            "iptables-legacy",
            "iptables-nft",
            "ufw",
            "nft",
            "systemctl",
            "service",
            "chkconfig",
            "firewall-cmd",
        ],
        needles: &[],
        check: |_, c| match c.name() {
            "iptables" | "ip6tables" | "iptables-legacy" | "iptables-nft" => {
                let a = c.args();
                c.has_short('F')
                    || c.has_long("--flush")
                    || c.has_short('X')
                    || c.has_long("--delete-chain")
                    || verb(c) == Some("stop")
                    || a.windows(3)
                        .any(|w| matches!(w[0].as_str(), "-P" | "--policy") && w[2] == "ACCEPT")
                    || a.iter()
                        .any(|x| matches!(x.as_str(), "-I" | "-A" | "--insert" | "--append"))
                        && a.windows(2).any(|w| w[0] == "-j" && w[1] == "ACCEPT")
            }
            "ufw" => matches!(verb(c), Some("disable" | "reset")),
            "nft" => c.has_arg("flush") || c.has_arg("delete"),
            "firewall-cmd" => c.args().iter().any(|a| {
                a.starts_with("--add-port")
                    || a.starts_with("--add-rich-rule")
                    || a == "--set-default-zone=trusted"
                    || a == "--panic-off"
            }),
            _ => stops_service(c) && cmd_names_any(c, FIREWALLS),
        },
    },
    RuleDef {
        id: "tw.impair.selinux",
        family: DefenseImpairment,
        severity: High,
        techniques: &["T1685"],
        reason: "disables SELinux or AppArmor",
        need: WordOrNeedle,
        words: &[
            "setenforce",
            "aa-teardown",
            "aa-disable",
            "aa-complain",
            "apparmor_parser",
            "systemctl",
            "service",
        ],
        needles: &["selinux"],
        check: |e, c| match c.name() {
            "setenforce" => c
                .operands()
                .any(|a| a == "0" || a.eq_ignore_ascii_case("permissive")),
            "aa-teardown" | "aa-disable" | "aa-complain" => true,
            "apparmor_parser" => c.has_short('R') || c.has_long("--remove"),
            "systemctl" | "service" => stops_service(c) && cmd_names_any(c, &["apparmor"]),
            _ => e.writes(c, |p| under(p, "/etc/selinux")),
        },
    },
    RuleDef {
        id: "tw.impair.security_tools",
        family: DefenseImpairment,
        severity: High,
        techniques: &["T1685"],
        reason: "stops, kills or removes a security or logging agent",
        need: Word,
        words: &[
            "systemctl",
            "service",
            "chkconfig",
            "update-rc.d",
            "kill",
            "pkill",
            "killall",
            "rm",
            "unlink",
            "apt",
            "apt-get",
            "yum",
            "dnf",
            "zypper",
            "rpm",
            "dpkg",
            "sh",
            "bash",
            "uninstall.sh",
            "uninst.sh",
            "uninstall",
        ],
        needles: &[],
        check: |_, c| {
            let stops = match c.name() {
                "kill" | "pkill" | "killall" | "rm" | "unlink" => true,
                "apt" | "apt-get" | "yum" | "dnf" | "zypper" => {
                    matches!(verb(c), Some("remove" | "purge" | "erase" | "autoremove"))
                }
                "rpm" => c.has_short('e') || c.has_long("--erase"),
                "dpkg" => {
                    c.has_short('r')
                        || c.has_short('P')
                        || c.has_long("--purge")
                        || c.has_long("--remove")
                }
                "sh" | "bash" => c.operands().next().is_some_and(|s| s.contains("uninst")),
                n if n.starts_with("uninst") => true,
                _ => stops_service(c),
            };
            stops && cmd_names_any(c, SECURITY_TOOLS)
        },
    },
    RuleDef {
        id: "tw.impair.audit",
        family: DefenseImpairment,
        severity: High,
        techniques: &["T1685.004"],
        reason: "disables the Linux audit system",
        need: WordOrNeedle,
        words: &["auditctl"],
        needles: &["audit"],
        check: |e, c| match c.name() {
            "auditctl" => {
                c.has_short('D') || c.args().windows(2).any(|w| w[0] == "-e" && w[1] == "0")
            }
            "systemctl" | "service" | "chkconfig" => {
                stops_service(c) && cmd_names_any(c, &["auditd"])
            }
            "kill" | "pkill" | "killall" => cmd_names_any(c, &["auditd"]),
            _ => e.wipes(c, |p| under_any(p, &["/etc/audit", "/var/log/audit"])),
        },
    },
    RuleDef {
        id: "tw.impair.immutable",
        family: DefenseImpairment,
        severity: Medium,
        techniques: &["T1222.002"],
        reason: "sets or clears the immutable/append-only attribute",
        need: Word,
        words: &["chattr"],
        needles: &[],
        check: |_, c| {
            c.args().iter().any(|a| {
                a.len() > 1
                    && a.starts_with(['+', '-', '='])
                    && a[1..].chars().all(|ch| ch.is_ascii_alphabetic())
                    && a[1..].contains(['i', 'a'])
            })
        },
    },
    // -- credential access ---------------------------------------------------------------------
    RuleDef {
        id: "tw.cred.shadow",
        family: CredentialAccess,
        severity: High,
        techniques: &["T1003.008"],
        reason: "reads the password hashes (/etc/shadow)",
        need: Needle,
        words: &[],
        needles: &["shadow", "master.passwd"],
        check: |e, c| c.name() == "unshadow" || e.reads(c, is_shadow),
    },
    RuleDef {
        id: "tw.cred.shell_history",
        family: CredentialAccess,
        severity: Medium,
        techniques: &["T1552.003"],
        reason: "reads shell history for credentials",
        need: Needle,
        words: &[],
        needles: &["history", "histfile"],
        check: |e, c| {
            if c.name() == "history" {
                return c
                    .args()
                    .iter()
                    .all(|a| a.bytes().all(|b| b.is_ascii_digit()));
            }
            e.reads(c, is_history_file)
        },
    },
    RuleDef {
        id: "tw.cred.private_keys",
        family: CredentialAccess,
        severity: High,
        techniques: &["T1552.004"],
        reason: "looks for or reads private keys",
        need: Needle,
        words: &[],
        needles: &["id_", ".pem", ".key", ".ppk", "ssh_host", ".ssh/"],
        check: |e, c| {
            if c.name() == "find" {
                return c.args().windows(2).any(|w| {
                    matches!(w[0].as_str(), "-name" | "-iname")
                        && [
                            "id_rsa",
                            "id_dsa",
                            "id_ecdsa",
                            "id_ed25519",
                            ".pem",
                            ".ppk",
                            ".key",
                        ]
                        .iter()
                        .any(|k| w[1].contains(k))
                });
            }
            e.reads(c, is_private_key)
        },
    },
    RuleDef {
        id: "tw.cred.cloud_files",
        family: CredentialAccess,
        severity: High,
        techniques: &["T1552.001"],
        reason: "reads credential files (cloud, docker, kube, .netrc)",
        need: Needle,
        words: &[],
        needles: &[
            ".aws",
            "gcloud",
            ".azure",
            ".kube",
            ".docker",
            "credentials",
            ".netrc",
            ".pgpass",
            ".my.cnf",
            "wp-config",
            ".env",
            ".s3cfg",
            ".boto",
        ],
        check: |e, c| e.reads(c, is_cloud_credentials),
    },
    RuleDef {
        id: "tw.cred.metadata",
        family: CredentialAccess,
        severity: High,
        techniques: &["T1552.005"],
        reason: "queries the cloud instance metadata service",
        need: Needle,
        words: &[],
        needles: &[
            "169.254.169.254",
            "metadata.google.internal",
            "100.100.100.200",
            "fd00:ec2::254",
        ],
        check: |_, c| {
            !matches!(c.name(), "echo" | "printf" | "")
                && c.args().iter().any(|a| {
                    [
                        "169.254.169.254",
                        "metadata.google.internal",
                        "100.100.100.200",
                        "fd00:ec2::254",
                    ]
                    .iter()
                    .any(|m| a.contains(m))
                })
        },
    },
    RuleDef {
        id: "tw.cred.grep_secrets",
        family: CredentialAccess,
        severity: Medium,
        techniques: &["T1552.001"],
        reason: "searches files recursively for passwords or keys",
        need: Word,
        words: &[
            "grep", "egrep", "fgrep", "rgrep", "rg", "ag", "ack", "zgrep",
        ],
        needles: &[],
        check: |e, c| {
            let recursive = matches!(c.name(), "rgrep" | "rg" | "ag" | "ack")
                || c.has_short('r')
                || c.has_short('R')
                || c.has_long("--recursive");
            recursive && c.args().iter().any(|a| e.pat.secret.is_match(a))
        },
    },
    // -- download and execute ------------------------------------------------------------------
    RuleDef {
        id: "tw.dl.download",
        family: DownloadExecute,
        severity: Medium,
        techniques: &["T1105"],
        reason: "downloads a file",
        need: Word,
        words: &[
            "wget",
            "curl",
            "tftp",
            "ftpget",
            "fetch",
            "aria2c",
            "axel",
            "lwp-download",
            "GET",
            "scp",
            "rsync",
            "nc",
            "ncat",
            "netcat",
        ],
        needles: &[],
        check: |_, c| match c.name() {
            "tftp" | "ftpget" => c.args().len() >= 2,
            "scp" | "rsync" => {
                let ops: Vec<&str> = c.operands().collect();
                ops.len() >= 2 && is_remote(ops[0]) && !is_remote(ops[ops.len() - 1])
            }
            "nc" | "ncat" | "netcat" => c.redirs.iter().any(|r| {
                matches!(r.op, RedirOp::Write | RedirOp::Append) && r.target != "/dev/null"
            }),
            _ => {
                let mut urls = c.operands().peekable();
                urls.peek().is_some() && urls.any(|a| !is_ip_lookup(a))
            }
        },
    },
    RuleDef {
        id: "tw.dl.pipe_to_shell",
        family: DownloadExecute,
        severity: Critical,
        techniques: &["T1105", "T1059.004"],
        reason: "downloads a script straight into a shell",
        need: Word,
        words: &[
            "wget",
            "curl",
            "fetch",
            "GET",
            "lwp-download",
            "sh",
            "bash",
            "dash",
            "zsh",
            "ksh",
            "ash",
        ],
        needles: &[],
        check: |e, c| {
            if is_shell(c.name()) {
                // `bash -c "$(curl …)"`, `sh <(wget -O- …)`
                return c.args().iter().any(|a| {
                    (a.contains("$(") || a.contains("<(") || a.contains('`'))
                        && names_any(a, &["curl", "wget", "fetch"])
                });
            }
            e.pipes_to_shell(c)
        },
    },
    RuleDef {
        id: "tw.exec.chmod_exec",
        family: DownloadExecute,
        severity: Medium,
        techniques: &["T1222.002"],
        reason: "makes a file executable",
        need: Word,
        words: &["chmod"],
        needles: &[],
        check: |_, c| c.args().iter().any(|m| grants_exec(m)),
    },
    RuleDef {
        id: "tw.exec.run_dropped",
        family: DownloadExecute,
        severity: Medium,
        techniques: &["T1059.004"],
        reason: "runs a file from the current or a scratch directory",
        need: Always,
        words: &[],
        needles: &[],
        check: |e, c| {
            let w = c.word();
            if w.starts_with("./") || w.starts_with("../") || (w.starts_with('/') && is_temp(w)) {
                return true;
            }
            let name = c.name();
            if is_shell(name) {
                // `sh x.sh` (not `sh -c`, not `sh` reading a pipe)
                let mut args = c.args().iter();
                for a in args.by_ref() {
                    if let Some(flags) = a.strip_prefix('-') {
                        if flags.contains('c') || flags == "s" {
                            return false;
                        }
                        continue;
                    }
                    return !a.starts_with("$(") && !a.starts_with("<(");
                }
                return false;
            }
            matches!(name, "." | "source")
                && c.operands().next().is_some_and(|p| {
                    let p = e.path(p);
                    is_temp(&p) || (p.ends_with(".sh") && !is_shell_rc(&p))
                })
        },
    },
    RuleDef {
        id: "tw.exec.reverse_shell",
        family: DownloadExecute,
        severity: Critical,
        techniques: &["T1059.004", "T1095"],
        reason: "opens a reverse shell",
        need: Needle,
        words: &[],
        needles: &["/dev/tcp/", "/dev/udp/", "nc", "socat", "socket", "telnet"],
        check: |e, c| {
            let dev_tcp = |s: &str| s.starts_with("/dev/tcp/") || s.starts_with("/dev/udp/");
            if c.redirs.iter().any(|r| dev_tcp(&r.target)) {
                return is_shell(c.name())
                    || c.name().is_empty()
                    || c.name() == "exec"
                    || e.pipeline(c).any(|d| is_shell(d.name()));
            }
            match c.name() {
                "nc" | "ncat" | "netcat" | "nc.traditional" | "nc.openbsd" => {
                    let exec_flag = c.args().iter().any(|a| {
                        a.starts_with('-') && !a.starts_with("--") && a.ends_with(['e', 'c'])
                    });
                    let runs_shell = c.args().iter().any(|a| is_shell(basename(a)));
                    exec_flag && runs_shell || e.pipeline(c).any(|d| is_shell(d.name()))
                }
                "socat" => c.args().iter().any(|a| {
                    let a = a.to_ascii_lowercase();
                    a.starts_with("exec:") || a.starts_with("system:")
                }),
                "telnet" => e.pipeline(c).any(|d| is_shell(d.name())),
                "python" | "python2" | "python3" | "perl" | "ruby" | "php" | "lua" => {
                    c.args().iter().any(|a| {
                        a.contains("socket")
                            && ["subprocess", "/bin/sh", "/bin/bash", "pty", "dup2", "exec("]
                                .iter()
                                .any(|k| a.contains(k))
                    })
                }
                _ => false,
            }
        },
    },
    RuleDef {
        id: "tw.exec.decode_to_shell",
        family: DownloadExecute,
        severity: High,
        techniques: &["T1140", "T1059.004"],
        reason: "decodes a payload straight into a shell",
        need: Word,
        words: &[
            "base64", "base32", "openssl", "xxd", "uudecode", "python", "python2", "python3",
            "perl", "sh", "bash", "dash", "zsh", "ksh", "ash",
        ],
        needles: &[],
        check: |e, c| {
            if is_shell(c.name()) {
                return c.args().iter().any(|a| {
                    let a: String = a.split_whitespace().collect::<Vec<_>>().join(" ");
                    a.contains("base64 -d") || a.contains("base64 --decode")
                });
            }
            is_decoder(c) && e.pipes_to_shell(c)
        },
    },
    // -- crypto-mining -------------------------------------------------------------------------
    RuleDef {
        id: "tw.mine.miner",
        family: Mining,
        severity: Critical,
        techniques: &["T1496.001"],
        reason: "runs a cryptocurrency miner",
        need: Word,
        words: MINERS,
        needles: &[],
        check: |_, c| !c.has_long("--help") && !c.has_long("--version"),
    },
    RuleDef {
        id: "tw.mine.pool",
        family: Mining,
        severity: Critical,
        techniques: &["T1496.001"],
        reason: "points a miner at a mining pool",
        need: Needle,
        words: &[],
        needles: &[
            "stratum",
            "--donate-level",
            "--cpu-max-threads-hint",
            "--randomx",
            "pool",
            "hiveon",
            "unmineable",
            "nicehash",
            "ethermine",
            "herominers",
            "minergate",
            "hashvault",
            "-u ",
            "--user",
        ],
        check: |e, c| {
            let words = &c.words[c.start.min(c.words.len())..];
            let lower = |w: &String| w.to_ascii_lowercase();
            if words.iter().any(|w| {
                let w = lower(w);
                w.contains("stratum+tcp://")
                    || w.contains("stratum+ssl://")
                    || w.contains("stratum+tls://")
                    || w.contains("stratum2+tcp://")
                    || w.contains("stratum://")
                    || w.starts_with("--donate-level")
                    || w.starts_with("--cpu-max-threads-hint")
                    || w.starts_with("--randomx")
                    || POOL_DOMAINS.iter().any(|d| w.contains(d))
            }) {
                return true;
            }
            // `-o host:3333 -u WALLET`
            let args = c.args();
            let pool_port = args.windows(2).any(|w| {
                matches!(w[0].as_str(), "-o" | "--url")
                    && w[1]
                        .rsplit(':')
                        .next()
                        .is_some_and(|port| POOL_PORTS.contains(&port))
            });
            let user = args.windows(2).find_map(|w| {
                matches!(w[0].as_str(), "-u" | "--user" | "-O" | "--userpass").then_some(&w[1])
            });
            pool_port && user.is_some() || user.is_some_and(|u| e.pat.wallet.is_match(u))
        },
    },
    RuleDef {
        id: "tw.mine.kill_competitors",
        family: Mining,
        severity: High,
        techniques: &["T1489"],
        reason: "kills competing miners",
        need: WordAndNeedle,
        words: &["kill", "pkill", "killall"],
        needles: COMPETITORS,
        check: |e, c| {
            let named = |d: &Cmd| {
                d.words.iter().any(|w| {
                    let w = w.to_ascii_lowercase();
                    COMPETITORS.iter().any(|n| w.contains(n))
                })
            };
            named(c) || e.pipeline(c).any(named)
        },
    },
    RuleDef {
        id: "tw.mine.tuning",
        family: Mining,
        severity: Medium,
        techniques: &["T1496.001"],
        reason: "tunes the host for mining (huge pages, MSR)",
        need: WordOrNeedle,
        words: &["wrmsr"],
        needles: &["nr_hugepages", "hugepages", "msr"],
        check: |e, c| match c.name() {
            "wrmsr" => true,
            "sysctl" => c.args().iter().any(|a| a.contains("nr_hugepages")),
            "modprobe" => c.operands().any(|m| m == "msr"),
            _ => e.writes(c, |p| {
                p == "/proc/sys/vm/nr_hugepages" || under(p, "/sys/kernel/mm/hugepages")
            }),
        },
    },
    // -- lateral movement ----------------------------------------------------------------------
    RuleDef {
        id: "tw.lateral.ssh",
        family: LateralMovement,
        severity: High,
        techniques: &["T1021.004"],
        reason: "connects to another host over SSH",
        need: Word,
        words: &["ssh"],
        needles: &[],
        check: |_, c| ssh_destination(c).is_some_and(|h| !is_local_host(h)),
    },
    RuleDef {
        id: "tw.lateral.copy_out",
        family: LateralMovement,
        severity: High,
        techniques: &["T1570"],
        reason: "copies files to another host",
        need: Word,
        words: &["scp", "rsync"],
        needles: &[],
        check: |_, c| last_of_two(c).is_some_and(|d| is_remote(d) && !is_local_host(d)),
    },
    RuleDef {
        id: "tw.lateral.sshpass",
        family: LateralMovement,
        severity: High,
        techniques: &["T1021.004"],
        reason: "logs in to other hosts with a password on the command line (sshpass)",
        need: Word,
        words: &["sshpass", "ssh", "scp", "rsync"],
        needles: &[],
        check: |_, c| c.prefix().iter().any(|w| basename(w) == "sshpass"),
    },
    RuleDef {
        id: "tw.lateral.known_hosts",
        family: LateralMovement,
        severity: Medium,
        techniques: &["T1018"],
        reason: "reads the hosts this one connects to (known_hosts, ssh config)",
        need: Needle,
        words: &[],
        needles: &["known_hosts", ".ssh/config", "ssh_config"],
        check: |e, c| {
            e.reads(c, |p| {
                basename(p).contains("known_hosts")
                    || p.ends_with("/.ssh/config")
                    || p == "/etc/ssh/ssh_config"
            })
        },
    },
    RuleDef {
        id: "tw.lateral.host_loop",
        family: LateralMovement,
        severity: Medium,
        techniques: &["T1018"],
        reason: "loops over hosts with a remote tool",
        need: Word,
        words: &["for", "read"],
        needles: &[],
        check: |e, c| {
            let looping =
                c.name() == "for" || c.prefix().iter().any(|w| w == "while" || w == "until");
            looping && e.cmds.iter().any(|d| REMOTE_TOOLS.contains(&d.name()))
        },
    },
    RuleDef {
        id: "tw.lateral.bruteforce",
        family: LateralMovement,
        severity: High,
        techniques: &["T1110"],
        reason: "runs a password brute-forcer against other hosts",
        need: Word,
        words: &[
            "hydra",
            "medusa",
            "ncrack",
            "patator",
            "crowbar",
            "brutespray",
            "thc-hydra",
        ],
        needles: &[],
        check: |_, c| !c.args().is_empty(),
    },
    // -- impact --------------------------------------------------------------------------------
    RuleDef {
        id: "tw.impact.destroy",
        family: Impact,
        severity: Critical,
        techniques: &["T1485"],
        reason: "deletes the system or home directories",
        need: Word,
        words: &["rm", "find"],
        needles: &[],
        check: |e, c| {
            const TARGETS: &[&str] = &[
                "/", "/*", "~", "~/*", "/home", "/home/*", "/root", "/root/*", "/etc", "/etc/*",
                "/bin", "/bin/*", "/sbin", "/usr", "/usr/*", "/boot", "/boot/*", "/var", "/var/*",
                "/lib", "/lib/*", "/lib64", "/opt", "/srv", "/*/*",
            ];
            if c.name() == "find" {
                return find_roots(c).any(|r| e.path(r) == "/") && c.has_arg("-delete");
            }
            let recursive = c.has_short('r') || c.has_short('R') || c.has_long("--recursive");
            c.has_long("--no-preserve-root")
                || recursive && c.operands().any(|p| TARGETS.contains(&e.path(p).as_str()))
        },
    },
    RuleDef {
        id: "tw.impact.disk_wipe",
        family: Impact,
        severity: Critical,
        techniques: &["T1561.001"],
        reason: "overwrites a disk",
        need: WordOrNeedle,
        words: &["dd", "shred", "wipe"],
        needles: &[
            "/dev/sd",
            "/dev/hd",
            "/dev/vd",
            "/dev/xvd",
            "/dev/nvme",
            "/dev/mmcblk",
            "/dev/md",
            "/dev/dm-",
            "/dev/mapper/",
            "/dev/disk/",
        ],
        check: |_, c| match c.name() {
            "dd" => c
                .args()
                .iter()
                .filter_map(|a| a.strip_prefix("of="))
                .any(is_block_device),
            "shred" | "wipe" => c.operands().any(is_block_device),
            _ => c
                .redirs
                .iter()
                .any(|r| r.op != RedirOp::Read && is_block_device(&r.target)),
        },
    },
    RuleDef {
        id: "tw.impact.disk_structure",
        family: Impact,
        severity: Critical,
        techniques: &["T1561.002"],
        reason: "destroys a disk's partitions or file system",
        need: Word,
        words: &[
            "mkfs",
            "mkfs.ext2",
            "mkfs.ext3",
            "mkfs.ext4",
            "mkfs.xfs",
            "mkfs.btrfs",
            "mkfs.vfat",
            "mke2fs",
            "wipefs",
            "sgdisk",
            "blkdiscard",
            "parted",
        ],
        needles: &[],
        check: |_, c| match c.name() {
            "sgdisk" => c.has_short('Z') || c.has_long("--zap-all") || c.has_short('o'),
            "parted" => c.has_arg("rm") || c.has_arg("mklabel"),
            "wipefs" => c.has_short('a') || c.has_long("--all"),
            _ => c.operands().any(is_block_device),
        },
    },
    RuleDef {
        id: "tw.impact.fork_bomb",
        family: Impact,
        severity: Critical,
        techniques: &["T1499.001"],
        reason: "runs a fork bomb",
        need: Needle,
        words: &[],
        needles: &["()"],
        check: |e, _| e.idx == 0 && is_fork_bomb(e.line),
    },
    RuleDef {
        id: "tw.impact.shutdown",
        family: Impact,
        severity: High,
        techniques: &["T1529"],
        reason: "shuts down or reboots the host",
        need: WordOrNeedle,
        words: &[
            "shutdown",
            "reboot",
            "halt",
            "poweroff",
            "init",
            "telinit",
            "systemctl",
        ],
        needles: &["sysrq-trigger"],
        check: |e, c| match c.name() {
            "shutdown" => !c.has_short('c') && !c.has_long("--help"),
            "reboot" | "halt" | "poweroff" => !c.has_long("--help"),
            "init" | "telinit" => matches!(verb(c), Some("0" | "6")),
            "systemctl" => matches!(verb(c), Some("reboot" | "poweroff" | "halt" | "kexec")),
            _ => e.writes(c, |p| p == "/proc/sysrq-trigger"),
        },
    },
];

/// `systemctl stop|disable|mask|kill x`, `service x stop`, `chkconfig x off`,
/// `update-rc.d x remove|disable`, `/etc/init.d/x stop`.
fn stops_service(c: &Cmd) -> bool {
    match c.name() {
        "systemctl" => matches!(verb(c), Some("stop" | "disable" | "mask" | "kill")),
        "service" => c.has_arg("stop"),
        "chkconfig" => c.has_arg("off") || c.has_long("--del"),
        "update-rc.d" => c.has_arg("remove") || c.has_arg("disable"),
        _ => c.word().starts_with("/etc/init.d/") && c.has_arg("stop"),
    }
}

/// A decoding command: `base64 -d`, `openssl enc -d`, `xxd -r`, `uudecode`, a Python or Perl
/// base64 decode.
fn is_decoder(c: &Cmd) -> bool {
    match c.name() {
        "base64" | "base32" => c.has_short('d') || c.has_short('D') || c.has_long("--decode"),
        "openssl" => {
            (c.has_arg("enc") || c.has_arg("base64"))
                && (c.has_short('d') || c.has_arg("-base64") && c.has_arg("-d"))
        }
        "xxd" => c.has_short('r'),
        "uudecode" => true,
        "python" | "python2" | "python3" => c
            .args()
            .iter()
            .any(|a| a.contains("b64decode") || a.contains("decode('base64')")),
        "perl" => c.args().iter().any(|a| a.contains("decode_base64")),
        _ => false,
    }
}

/// A `chmod` mode that grants execution: `+x`, `u+x`, `a+rx`, `755`, `0777`.
fn grants_exec(m: &str) -> bool {
    if (3..=4).contains(&m.len()) && m.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return m.bytes().rev().take(3).any(|b| (b - b'0') & 1 == 1);
    }
    m.split(',').any(|clause| {
        let rest = clause.trim_start_matches(['u', 'g', 'o', 'a']);
        rest.starts_with(['+', '='])
            && rest[1..].contains(['x', 'X'])
            && rest[1..].chars().all(|ch| "rwxXst".contains(ch))
    })
}

/// A public-address look-up service (`curl ifconfig.me`).
fn is_ip_lookup(arg: &str) -> bool {
    let a = arg.to_ascii_lowercase();
    let host = a.split("://").last().unwrap_or(&a);
    let host = host.split(['/', ':', '?']).next().unwrap_or(host);
    IP_LOOKUPS.contains(&host)
}

/// An `scp`/`rsync` location on another host: `user@host:path`, `host:`.
fn is_remote(s: &str) -> bool {
    if s.contains("://") || s.starts_with(['/', '.', '~']) {
        return false;
    }
    s.find(':').is_some_and(|k| k > 0 && !s[..k].contains('/'))
}

/// The host part of `user@host:path` or `user@host`, tested for loopback.
fn is_local_host(dest: &str) -> bool {
    let host = dest.rsplit('@').next().unwrap_or(dest);
    let host = host.split(':').next().unwrap_or(host);
    host == "localhost" || host.starts_with("127.") || host == "::1" || host == "0.0.0.0"
}

/// The destination of `ssh` (`user@host`), skipping options and their values.
fn ssh_destination(c: &Cmd) -> Option<&str> {
    const WITH_VALUE: &str = "bcDEeFIiJLlmOopQRSWwB";
    let args = c.args();
    let mut k = 0;
    while let Some(a) = args.get(k) {
        if a == "--" {
            return args.get(k + 1).map(String::as_str);
        }
        if a.len() > 1 && a.starts_with('-') {
            let takes_value = a.len() == 2 && WITH_VALUE.contains(&a[1..]);
            k += if takes_value { 2 } else { 1 };
            continue;
        }
        return Some(a);
    }
    None
}

/// `NAME(){ NAME|NAME& };NAME` (`:(){ :|:& };:`), spaces anywhere, a name of at most 64 bytes.
fn is_fork_bomb(line: &str) -> bool {
    let b: Vec<u8> = line.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    let mut i = 0;
    while let Some(p) = b[i..].windows(3).position(|w| w == b"(){") {
        let at = i + p;
        let lo = at.saturating_sub(64);
        let start = b[lo..at]
            .iter()
            .rposition(|c| b";&|(){}".contains(c))
            .map_or(lo, |k| lo + k + 1);
        let (name, body) = (&b[start..at], &b[at + 3..]);
        let n = name.len();
        if n > 0
            && body.len() > 2 * n + 1
            && body.starts_with(name)
            && body[n] == b'|'
            && body[n + 1..].starts_with(name)
            && body[2 * n + 1] == b'&'
        {
            return true;
        }
        i = at + 3;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_against_the_working_directory() {
        assert_eq!(resolve("", "x"), "x");
        assert_eq!(resolve("/tmp", "x"), "/tmp/x");
        assert_eq!(resolve("/tmp", "./x"), "/tmp/x");
        assert_eq!(resolve("/var/log", "*"), "/var/log/*");
        assert_eq!(resolve("/tmp", "../etc/shadow"), "/etc/shadow");
        assert_eq!(
            resolve("~", ".ssh/authorized_keys"),
            "~/.ssh/authorized_keys"
        );
        assert_eq!(resolve("/x", "$HOME/.bashrc"), "~/.bashrc");
        assert_eq!(resolve("/x", "${HOME}"), "~");
        assert_eq!(resolve("/x", "/"), "/");
        assert_eq!(resolve("/x", "/usr/"), "/usr");
        assert_eq!(resolve("/", "*"), "/*");
        assert_eq!(resolve("/a", "../../.."), "/");
    }

    #[test]
    fn path_classes() {
        assert!(under("/var/log/wtmp", "/var/log") && under("/var/log*", "/var/log"));
        assert!(!under("/var/logs", "/var/log"));
        assert!(is_temp("/dev/shm/.x") && !is_temp("/tmpx"));
        assert!(is_history_file("~/.bash_history") && is_history_file("/root/.zsh_history"));
        assert!(!is_history_file("/usr/bin/history"));
        assert!(is_rc_script("/etc/rc3.d/S99x") && is_rc_script("/etc/rc.local"));
        assert!(!is_rc_script("/etc/rcx/y"));
        assert!(is_private_key("~/.ssh/id_rsa") && !is_private_key("~/.ssh/id_rsa.pub"));
        assert!(is_block_device("/dev/sda") && !is_block_device("/dev/null"));
        assert!(is_shell_rc("/root/.bashrc") && is_shell_rc("/etc/profile.d/x.sh"));
    }

    #[test]
    fn small_predicates() {
        for m in [
            "+x",
            "u+x",
            "a+rx",
            "755",
            "0777",
            "ugo+rwx",
            "u=rwx,go=rx",
            "711",
        ] {
            assert!(grants_exec(m), "{m}");
        }
        for m in ["644", "-x", "u-x", "600", "+r", "-R", "0644", "abc"] {
            assert!(!grants_exec(m), "{m}");
        }
        assert!(names_any("aliyun.service", SECURITY_TOOLS));
        assert!(names_any("/usr/local/aegis/aegis_update", SECURITY_TOOLS));
        assert!(names_any("$(pidof AliYunDun)", SECURITY_TOOLS));
        assert!(!names_any("falconry", SECURITY_TOOLS));
        assert!(!names_any("aidevops", SECURITY_TOOLS));
        assert!(is_fork_bomb(":(){ :|:& };:"));
        assert!(is_fork_bomb("bomb() { bomb | bomb & }; bomb"));
        assert!(!is_fork_bomb("f(){ echo hi; }; f"));
        assert!(!is_fork_bomb(":(){ :|:"));
        assert!(!is_fork_bomb(&"(){".repeat(3000)));
        assert!(is_remote("root@1.2.3.4:/tmp") && is_remote("host:"));
        assert!(!is_remote("/tmp/a:b") && !is_remote("http://x:80/") && !is_remote("x"));
        assert!(is_ip_lookup("http://ifconfig.me/ip") && !is_ip_lookup("http://1.2.3.4/x"));
        assert!(is_local_host("root@127.0.0.1") && !is_local_host("root@10.0.0.2"));
        let p = Patterns::new();
        assert!(p.wallet.is_match(&format!("4{}", "A".repeat(94))));
        assert!(!p.wallet.is_match("root"));
        assert!(p.secret.is_match("password") && p.secret.is_match("AWS_SECRET"));
        assert!(!p.secret.is_match("sh"));
    }
}
