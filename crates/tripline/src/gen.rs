//! `tripline gen auth-log`: a realistic synthetic auth.log, written by the project, for
//! benchmarks and tests. Normal traffic (key logins from office networks, sessions, cron, sudo)
//! is interleaved with every attack the rules know. Deterministic for a seed; the optional
//! ground truth lists each injected attack as `rule entity`, one line per attack in the order
//! they happen (an entity attacked again later is listed again).

use std::io::{self, Write};

const USERS: [&str; 6] = ["alice", "bob", "carol", "dave", "erin", "deploy"];
const TRIED: [&str; 12] = [
    "root", "admin", "test", "oracle", "postgres", "ubuntu", "git", "user", "guest", "pi", "ftp",
    "support",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `line` with a message formatted first (the format may draw from the generator's RNG).
macro_rules! emit {
    ($g:expr, $prog:expr, $pid:expr, $($arg:tt)*) => {{
        let m = format!($($arg)*);
        $g.line($prog, $pid, &m)
    }};
}

struct Gen<'a, W: Write> {
    out: &'a mut W,
    rng: fastrand::Rng,
    t: i64,
    pid: u32,
    lines: u64,
    truth: Vec<String>,
    /// Percent of normal scenarios that are benign oddities (a mistyped password, a sudo typo,
    /// a login from home): what real baselines contain.
    noise: u8,
}

impl<W: Write> Gen<'_, W> {
    fn stamp(&self) -> String {
        let c = tripline_event::Timestamp::from_secs(self.t).to_civil_utc();
        format!(
            "{} {:>2} {:02}:{:02}:{:02}",
            MONTHS[(c.month - 1) as usize],
            c.day,
            c.hour,
            c.minute,
            c.second
        )
    }

    fn line(&mut self, prog: &str, pid: u32, msg: &str) -> io::Result<()> {
        self.lines += 1;
        writeln!(self.out, "{} gen-host {prog}[{pid}]: {msg}", self.stamp())
    }

    fn tick(&mut self, max: i64) {
        self.t += self.rng.i64(0..=max);
    }

    fn next_pid(&mut self) -> u32 {
        self.pid = self.pid.wrapping_add(self.rng.u32(1..40)) % 4_000_000 + 1000;
        self.pid
    }

    fn attacker(&mut self) -> String {
        // public-looking unicast: never 10/8 or 127/8 (allowlisted or private)
        let first = match self.rng.u8(1..=223) {
            10 | 127 => 11,
            n => n,
        };
        format!(
            "{}.{}.{}.{}",
            first,
            self.rng.u8(0..=255),
            self.rng.u8(0..=255),
            self.rng.u8(1..=254)
        )
    }

    /// A benign oddity: a user mistypes a password once, or sudo's, or logs in from home.
    fn oddity(&mut self) -> io::Result<()> {
        let pid = self.next_pid();
        let i = self.rng.usize(..5);
        let u = USERS[i];
        match self.rng.u8(0..3) {
            0 => {
                let ip = format!("198.51.100.{}", 10 + self.rng.u8(0..20));
                let port = self.rng.u16(30000..60000);
                emit!(
                    self,
                    "sshd",
                    pid,
                    "Failed password for {u} from {ip} port {port} ssh2"
                )?;
                self.tick(4);
                emit!(
                    self,
                    "sshd",
                    pid,
                    "Accepted password for {u} from {ip} port {port} ssh2"
                )?;
            }
            1 => {
                emit!(self, "sudo", pid, "   {u} : 1 incorrect password attempt ; TTY=pts/1 ; PWD=/home/{u} ; USER=root ; COMMAND=/usr/bin/apt update")?;
                emit!(
                    self,
                    "sudo",
                    pid,
                    "   {u} : TTY=pts/1 ; PWD=/home/{u} ; USER=root ; COMMAND=/usr/bin/apt update"
                )?;
            }
            _ => {
                // each user's home network
                let ip = format!("192.0.2.{}", 10 + i * 10 + self.rng.usize(0..3));
                let port = self.rng.u16(30000..60000);
                emit!(self, "sshd", pid, "Accepted publickey for {u} from {ip} port {port} ssh2: ED25519 SHA256:abcdefghijklmnop")?;
            }
        }
        Ok(())
    }

    fn normal(&mut self) -> io::Result<()> {
        if self.noise > 0 && self.rng.u8(0..100) < self.noise {
            return self.oddity();
        }
        let pid = self.next_pid();
        match self.rng.u8(0..10) {
            0..=3 => {
                let pid2 = pid + 1;
                self.line(
                    "CRON",
                    pid,
                    "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
                )?;
                self.line(
                    "CRON",
                    pid2,
                    "pam_unix(cron:session): session closed for user root",
                )?;
            }
            4..=6 => {
                let u = USERS[self.rng.usize(..USERS.len())];
                let ip = format!("198.51.100.{}", 10 + self.rng.u8(0..20));
                let port = self.rng.u16(30000..60000);
                emit!(
                    self,
                    "sshd",
                    pid,
                    "Connection from {ip} port {port} on 10.0.0.5 port 22 rdomain \"\""
                )?;
                emit!(self, "sshd", pid, "Accepted publickey for {u} from {ip} port {port} ssh2: ED25519 SHA256:abcdefghijklmnop")?;
                emit!(
                    self,
                    "sshd",
                    pid,
                    "pam_unix(sshd:session): session opened for user {u}(uid=1000) by (uid=0)"
                )?;
                emit!(
                    self,
                    "systemd-logind",
                    500,
                    "New session {pid} of user {u}."
                )?;
            }
            7 | 8 => {
                let u = USERS[self.rng.usize(..4)];
                emit!(self, "sudo", pid, "   {u} : TTY=pts/{} ; PWD=/home/{u} ; USER=root ; COMMAND=/usr/bin/systemctl status nginx", self.rng.u8(0..5))?;
                emit!(
                    self,
                    "sudo",
                    pid,
                    "pam_unix(sudo:session): session opened for user root(uid=0) by {u}(uid=1000)"
                )?;
            }
            _ => {
                emit!(
                    self,
                    "systemd-logind",
                    500,
                    "Removed session {}.",
                    self.rng.u32(1..9999)
                )?;
            }
        }
        Ok(())
    }

    fn attack(&mut self) -> io::Result<()> {
        match self.rng.u8(0..100) {
            // brute force: a burst of failures against root/admin
            0..=44 => {
                let ip = self.attacker();
                let n = self.rng.u32(5..40);
                for _ in 0..n {
                    let pid = self.next_pid();
                    let u = TRIED[self.rng.usize(..3)];
                    if self.rng.bool() {
                        emit!(
                            self,
                            "sshd",
                            pid,
                            "Failed password for {u} from {ip} port {} ssh2",
                            self.rng.u16(1024..65535)
                        )?;
                    } else {
                        emit!(
                            self,
                            "sshd",
                            pid,
                            "Failed password for invalid user {u} from {ip} port {} ssh2",
                            self.rng.u16(1024..65535)
                        )?;
                    }
                    self.tick(3);
                }
                self.truth.push(format!("ssh.bruteforce ip:{ip}"));
            }
            // scanners
            45..=64 => {
                let ip = self.attacker();
                for _ in 0..3 {
                    let pid = self.next_pid();
                    match self.rng.u8(0..3) {
                        0 => emit!(self, "sshd", pid, "Did not receive identification string from {ip} port {}", self.rng.u16(1024..65535))?,
                        1 => emit!(self, "sshd", pid, "banner exchange: Connection from {ip} port {}: invalid format", self.rng.u16(1024..65535))?,
                        _ => emit!(self, "sshd", pid, "Unable to negotiate with {ip} port {}: no matching key exchange method found. Their offer: diffie-hellman-group1-sha1 [preauth]", self.rng.u16(1024..65535))?,
                    }
                    self.tick(20);
                }
                self.truth.push(format!("ssh.scan ip:{ip}"));
            }
            // spraying
            65..=74 => {
                let ip = self.attacker();
                for u in USERS.iter().take(5) {
                    let pid = self.next_pid();
                    emit!(
                        self,
                        "sshd",
                        pid,
                        "Failed password for {u} from {ip} port {} ssh2",
                        self.rng.u16(1024..65535)
                    )?;
                    self.tick(200);
                }
                self.truth.push(format!("ssh.spray ip:{ip}"));
            }
            // enumeration
            75..=84 => {
                let ip = self.attacker();
                for u in TRIED.iter().skip(3).take(6) {
                    let pid = self.next_pid();
                    emit!(
                        self,
                        "sshd",
                        pid,
                        "Invalid user {u} from {ip} port {}",
                        self.rng.u16(1024..65535)
                    )?;
                    emit!(
                        self,
                        "sshd",
                        pid,
                        "Connection closed by invalid user {u} {ip} port {} [preauth]",
                        self.rng.u16(1024..65535)
                    )?;
                    self.tick(150);
                }
                self.truth.push(format!("ssh.enumeration ip:{ip}"));
            }
            // compromise: failures then success, then root
            85..=87 => {
                let ip = self.attacker();
                for _ in 0..4 {
                    let pid = self.next_pid();
                    emit!(
                        self,
                        "sshd",
                        pid,
                        "Failed password for deploy from {ip} port {} ssh2",
                        self.rng.u16(1024..65535)
                    )?;
                    self.tick(10);
                }
                let pid = self.next_pid();
                emit!(
                    self,
                    "sshd",
                    pid,
                    "Accepted password for deploy from {ip} port {} ssh2",
                    self.rng.u16(1024..65535)
                )?;
                self.tick(20);
                self.line(
                    "sudo",
                    pid + 5,
                    "  deploy : TTY=pts/7 ; PWD=/home/deploy ; USER=root ; COMMAND=/bin/bash",
                )?;
                self.truth.push(format!("ssh.compromise ip:{ip}"));
            }
            // privilege abuse and account changes
            88..=93 => {
                let pid = self.next_pid();
                self.line("sudo", pid, "  mallory : user NOT in sudoers ; TTY=pts/3 ; PWD=/tmp ; USER=root ; COMMAND=/bin/sh")?;
                self.line("sudo", pid + 1, "  bob : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/ls")?;
                self.truth.push("priv.not_in_sudoers user:mallory".into());
                self.truth.push("priv.sudo_failures user:bob".into());
            }
            94..=96 => {
                let pid = self.next_pid();
                let name = format!("svc{}", self.rng.u16(100..999));
                emit!(self, "useradd", pid, "new group: name={name}, GID=1100")?;
                emit!(self, "useradd", pid, "new user: name={name}, UID=1100, GID=1100, home=/home/{name}, shell=/bin/bash, from=/dev/pts/7")?;
                emit!(self, "usermod", pid + 1, "add '{name}' to group 'sudo'")?;
                self.truth.push(format!("account.change user:{name}"));
            }
            // distributed: a botnet against root
            _ => {
                let net = (
                    self.rng.u8(128..=223),
                    self.rng.u8(0..=255),
                    self.rng.u8(0..=255),
                );
                for i in 0..25 {
                    let pid = self.next_pid();
                    let ip = format!("{}.{}.{}.{}", net.0, net.1, net.2, 10 + i % 8);
                    emit!(
                        self,
                        "sshd",
                        pid,
                        "Failed password for root from {ip} port {} ssh2",
                        self.rng.u16(1024..65535)
                    )?;
                    self.tick(5);
                }
                self.truth.push(format!(
                    "ssh.distributed subnet:{}.{}.{}.0/24",
                    net.0, net.1, net.2
                ));
            }
        }
        Ok(())
    }
}

/// Average seconds of log time per generated line (measured: 4.9 s).
pub const SECONDS_PER_LINE: i64 = 5;

/// A start time that makes `lines` lines end about an hour before now, so that a syslog reader
/// infers the right year for every line (a log that ran into the future would wrap to last year).
pub fn default_start(lines: u64) -> i64 {
    tripline_event::Timestamp::now().secs() - (lines as i64).saturating_mul(SECONDS_PER_LINE) - 3600
}

/// Write about `lines` lines to `out`; returns the ground truth (`rule entity` per attack, in
/// order).
pub fn auth_log<W: Write>(
    out: &mut W,
    lines: u64,
    seed: u64,
    start_secs: i64,
) -> io::Result<Vec<String>> {
    auth_log_with(out, lines, seed, start_secs, DEFAULT_ATTACK_PERCENT, 0)
}

/// Percent of generated scenarios that are attacks, by default.
pub const DEFAULT_ATTACK_PERCENT: u8 = 12;

/// [`auth_log`] with `attack_percent` of the scenarios attacks (0: a normal-only baseline) and
/// `noise` percent of the normal ones benign oddities.
pub fn auth_log_with<W: Write>(
    out: &mut W,
    lines: u64,
    seed: u64,
    start_secs: i64,
    attack_percent: u8,
    noise: u8,
) -> io::Result<Vec<String>> {
    let mut g = Gen {
        out,
        rng: fastrand::Rng::with_seed(seed),
        t: start_secs,
        pid: 1000,
        lines: 0,
        truth: vec![],
        noise,
    };
    while g.lines < lines {
        if g.rng.u8(0..100) < attack_percent {
            g.attack()?;
        } else {
            g.normal()?;
        }
        g.tick(8);
    }
    Ok(g.truth)
}

/// A brute-force flood: `lines` failed logins from `ips` distinct addresses taken in turn
/// (100.64.0.0/10 upward), one per millisecond from `start_secs`, with RFC 3339 timestamps. Every
/// address stays inside every window, so only the entity cap bounds detection memory.
pub fn flood<W: Write>(out: &mut W, lines: u64, ips: u32, start_secs: i64) -> io::Result<()> {
    let ips = ips.clamp(1, 1 << 22);
    let base = u32::from(std::net::Ipv4Addr::new(100, 64, 0, 0));
    for n in 0..lines {
        let ip = std::net::Ipv4Addr::from(base + (n % ips as u64) as u32);
        let ts = tripline_event::Timestamp(start_secs * 1_000_000 + n as i64 * 1000);
        writeln!(
            out,
            "{ts} gen-host sshd[{}]: Failed password for invalid user u{} from {ip} port {} ssh2",
            1000 + n % 30_000,
            n % 997,
            1024 + n % 60_000
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_log() {
        let mut a = vec![];
        let mut b = vec![];
        auth_log(&mut a, 500, 7, 1_700_000_000).unwrap();
        auth_log(&mut b, 500, 7, 1_700_000_000).unwrap();
        assert_eq!(a, b);
        let mut c = vec![];
        auth_log(&mut c, 500, 8, 1_700_000_000).unwrap();
        assert_ne!(a, c);
        assert!(String::from_utf8(a).unwrap().lines().count() >= 500);
    }
}
