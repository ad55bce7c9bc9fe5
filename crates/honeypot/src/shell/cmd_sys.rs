//! System commands: who am I and where (`id whoami uname hostname uptime w who last`),
//! resources (`free df ps top nproc lscpu lsblk mount dmesg`), network state (`ifconfig ip
//! netstat ss route`), privileges (`sudo su passwd useradd crontab`), services
//! (`systemctl service`), firewall and kernel knobs (`iptables sysctl modprobe`), package
//! managers, interpreters, and the nested shell (`bash -c`, `sh script`). Formats follow
//! procps-ng, util-linux, iproute2, net-tools and systemd as Debian ships them.
//!
//! Nothing changes the host: a service "restarted" as root is simply reported fine, a
//! password "changed" is not stored anywhere.

use super::cmd_files::{getopt, name_of};
use super::exec::{Flow, Input, Io, Run};
use super::identity::{Family, Os, Process};
use super::util::{self, human_ceil, human_procps, tm};
use super::{Effect, Shell};

/// A process as `ps` shows it: the host's and the session's own.
struct Proc {
    pid: u32,
    ppid: u32,
    user: String,
    cmd: String,
    vsz: u32,
    rss: u32,
    stat: String,
    tty: String,
    start: i64,
    cpu: u64,
}

impl Shell {
    /// The host's processes, then this session's (sshd, bash, and `current`).
    fn processes(&self, current: &str) -> Vec<Proc> {
        let boot = self.world.boot();
        let mut v: Vec<Proc> = self
            .world
            .identity
            .processes
            .iter()
            .map(|p: &Process| Proc {
                pid: p.pid,
                ppid: p.ppid,
                user: p.user.clone(),
                cmd: p.command.clone(),
                vsz: p.vsz_kib,
                rss: p.rss_kib,
                stat: p.stat.clone(),
                tty: p.tty.clone(),
                start: boot + p.started as i64,
                cpu: p.cpu_centis,
            })
            .collect();
        let me = self.user_name().to_string();
        let sshd = self
            .world
            .identity
            .processes
            .iter()
            .find(|p| p.command.contains("sshd"))
            .map_or(1, |p| p.pid);
        let start = self.started;
        if me == "root" {
            v.push(Proc {
                pid: self.pid - 2,
                ppid: sshd,
                user: "root".into(),
                cmd: "sshd: root@pts/0".into(),
                vsz: 17_800,
                rss: 11_200,
                stat: "Ss".into(),
                tty: "?".into(),
                start,
                cpu: 2,
            });
        } else {
            v.push(Proc {
                pid: self.pid - 3,
                ppid: sshd,
                user: "root".into(),
                cmd: format!("sshd: {me} [priv]"),
                vsz: 17_800,
                rss: 11_000,
                stat: "Ss".into(),
                tty: "?".into(),
                start,
                cpu: 1,
            });
            v.push(Proc {
                pid: self.pid - 2,
                ppid: self.pid - 3,
                user: me.clone(),
                cmd: format!("sshd: {me}@pts/0"),
                vsz: 17_900,
                rss: 7_000,
                stat: "S".into(),
                tty: "?".into(),
                start,
                cpu: 1,
            });
        }
        v.push(Proc {
            pid: self.pid,
            ppid: self.pid - 2,
            user: me.clone(),
            cmd: "-bash".into(),
            vsz: 8_900,
            rss: 5_400,
            stat: "Ss".into(),
            tty: "pts/0".into(),
            start,
            cpu: 1,
        });
        if !current.is_empty() {
            v.push(Proc {
                pid: self.next_pid + 1,
                ppid: self.pid,
                user: me,
                cmd: current.into(),
                vsz: 11_200,
                rss: 4_300,
                stat: "R+".into(),
                tty: "pts/0".into(),
                start: util::now(),
                cpu: 0,
            });
        }
        v
    }

    /// " 09:12:44 up 23 days,  4:12,  1 user,  load average: 0.08, 0.03, 0.01"
    fn uptime_line(&self) -> String {
        let t = tm(util::now());
        let up = self.world.uptime();
        let (d, h, m) = (up / 86_400, up / 3600 % 24, up / 60 % 60);
        let mut s = format!(" {} up ", t.clock());
        if d > 0 {
            s.push_str(&format!("{d} day{}, ", if d == 1 { "" } else { "s" }));
        }
        if h > 0 {
            s.push_str(&format!("{h:2}:{m:02}, "));
        } else {
            s.push_str(&format!("{m} min, "));
        }
        let [a, b, c] = self.load();
        s.push_str(&format!(" 1 user,  load average: {a:.2}, {b:.2}, {c:.2}"));
        s
    }

    fn client_ip(&self) -> String {
        match self.extra.as_ref().and_then(|e| e.client) {
            Some((ip, _)) => ip.to_string(),
            None => self
                .get_var("SSH_CLIENT")
                .and_then(|c| c.split(' ').next().map(String::from))
                .unwrap_or_default(),
        }
    }
}

fn ps_start(t: i64) -> String {
    let now = util::now();
    let a = tm(t);
    if now - t < 86_400 && tm(now).day == a.day {
        format!("{:02}:{:02}", a.hour, a.min)
    } else if tm(now).year == a.year {
        format!("{}{:02}", a.month_name(), a.day)
    } else {
        a.year.to_string()
    }
}

pub(crate) fn ps(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let args: Vec<&str> = argv.iter().skip(1).map(String::as_str).collect();
    let joined = args.join(" ");
    let bsd = args
        .iter()
        .any(|a| !a.starts_with('-') && a.chars().all(|c| "auxwwfe".contains(c)));
    let aux = bsd && joined.contains('u') || args.iter().any(|a| *a == "-aux" || *a == "aux");
    let all = bsd && (joined.contains('a') || joined.contains('x'))
        || args
            .iter()
            .any(|a| a.starts_with('-') && (a.contains('e') || a.contains('A')));
    let full = args.iter().any(|a| a.starts_with('-') && a.contains('f'));
    let pid_filter: Option<Vec<u32>> = args
        .iter()
        .position(|a| *a == "-p")
        .and_then(|k| args.get(k + 1))
        .map(|l| l.split(',').filter_map(|p| p.parse().ok()).collect());
    let user_filter: Option<String> = args
        .iter()
        .position(|a| *a == "-u" || *a == "-U")
        .and_then(|k| args.get(k + 1))
        .map(|s| s.to_string());
    if let Some(bad) = args
        .iter()
        .find(|a| a.starts_with("--") && !matches!(**a, "--sort" | "--forest" | "--no-headers"))
    {
        err!(rt, io, "error: unknown gnu long option\n\nUsage:\n ps [options]\n\n Try 'ps --help <simple|list|output|threads|misc|all>'\n  or 'ps --help <s|l|o|t|m|a>'\n for additional help text.\n\nFor more details see ps(1).\n");
        let _ = bad;
        return 1;
    }
    let me = sh.user_name().to_string();
    let procs = sh.processes(format!("ps {joined}").trim_end());
    let total_kib = sh.world.facts.mem.total.max(1);
    let now = util::now();
    let selected: Vec<&Proc> = procs
        .iter()
        .filter(|p| match (&pid_filter, &user_filter) {
            (Some(ids), _) => ids.contains(&p.pid),
            (_, Some(u)) => &p.user == u,
            _ => all || aux || (p.tty == "pts/0" && p.user == me),
        })
        .collect();
    let mut out = String::new();
    if aux {
        let vw = selected
            .iter()
            .map(|p| p.vsz.to_string().len())
            .max()
            .unwrap_or(6)
            .max(6);
        let rw = selected
            .iter()
            .map(|p| p.rss.to_string().len())
            .max()
            .unwrap_or(5)
            .max(5);
        out.push_str(&format!(
            "USER         PID %CPU %MEM {:>vw$} {:>rw$} TTY      STAT START   TIME COMMAND\n",
            "VSZ", "RSS"
        ));
        for p in &selected {
            let age = (now - p.start).max(1) as f64;
            let cpu = (p.cpu as f64 / age).min(99.9);
            let mem = f64::from(p.rss) * 100.0 / total_kib as f64;
            let secs = p.cpu / 100;
            let user = if p.user.len() > 8 {
                format!("{}+", &p.user[..7])
            } else {
                p.user.clone()
            };
            out.push_str(&format!("{user:<8} {:>7} {cpu:>4.1} {mem:>4.1} {:>vw$} {:>rw$} {:<8} {:<4} {:>5} {:>6} {}\n", p.pid, p.vsz, p.rss, p.tty, p.stat, ps_start(p.start), format!("{}:{:02}", secs / 60, secs % 60), p.cmd));
        }
    } else if full || all {
        if full {
            out.push_str("UID          PID    PPID  C STIME TTY          TIME CMD\n");
        } else {
            out.push_str("    PID TTY          TIME CMD\n");
        }
        for p in &selected {
            let secs = p.cpu / 100;
            let time = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
            if full {
                let user = if p.user.len() > 8 {
                    format!("{}+", &p.user[..7])
                } else {
                    p.user.clone()
                };
                out.push_str(&format!(
                    "{user:<8} {:>7} {:>7}  0 {:<5} {:<8} {time} {}\n",
                    p.pid,
                    p.ppid,
                    ps_start(p.start),
                    p.tty,
                    p.cmd
                ));
            } else {
                out.push_str(&format!(
                    "{:>7} {:<8} {time} {}\n",
                    p.pid,
                    p.tty,
                    super::base::comm_of(&p.cmd)
                ));
            }
        }
    } else {
        out.push_str("    PID TTY          TIME CMD\n");
        for p in &selected {
            let comm = super::base::comm_of(&p.cmd);
            out.push_str(&format!(
                "{:>7} {:<8} 00:00:00 {}\n",
                p.pid,
                p.tty,
                if comm == "bash" && p.cmd.starts_with('-') {
                    "bash"
                } else {
                    &comm
                }
            ));
        }
    }
    rt.out(io, out.as_bytes());
    i32::from(selected.is_empty())
}

pub(crate) fn top(sh: &mut Shell, rt: &mut Run, io: &mut Io, _: &[String]) -> i32 {
    let procs = sh.processes("top");
    let m = sh.world.facts.mem;
    let running = 1;
    let total = procs.len();
    let mib = |k: u64| k as f64 / 1024.0;
    let idle = 97.0 + fastrand::f64() * 2.5;
    let us = (100.0 - idle) * 0.6;
    let mut out = format!(
        "top - {}\nTasks: {total:3} total, {running:3} running, {:3} sleeping,   0 stopped,   0 zombie\n%Cpu(s): {us:4.1} us, {:4.1} sy,  0.0 ni, {idle:4.1} id,  0.0 wa,  0.0 hi,  0.0 si,  0.0 st\nMiB Mem : {:8.1} total, {:8.1} free, {:8.1} used, {:8.1} buff/cache\nMiB Swap: {:8.1} total, {:8.1} free, {:8.1} used. {:8.1} avail Mem\n\n    PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND\n",
        sh.uptime_line().trim_start(),
        total - running,
        100.0 - idle - us,
        mib(m.total),
        mib(m.free),
        mib(m.used()),
        mib(m.buff_cache()),
        mib(m.swap_total),
        mib(m.swap_free),
        mib(m.swap_total - m.swap_free),
        mib(m.available),
    );
    let mut sorted: Vec<&Proc> = procs.iter().collect();
    sorted.sort_by(|a, b| b.cpu.cmp(&a.cpu).then(a.pid.cmp(&b.pid)));
    for p in sorted.iter().take(30) {
        let secs = p.cpu as f64 / 100.0;
        let user = if p.user.len() > 8 {
            format!("{}+", &p.user[..7])
        } else {
            p.user.clone()
        };
        let pr = if p.stat.contains('<') { "0" } else { "20" };
        let ni = if p.stat.contains('<') {
            "-20"
        } else if p.stat.contains('N') {
            "5"
        } else {
            "0"
        };
        let state = p.stat.chars().next().unwrap_or('S');
        let mem = f64::from(p.rss) * 100.0 / m.total.max(1) as f64;
        let cpu = if p.stat.starts_with('R') { 0.3 } else { 0.0 };
        out.push_str(&format!(
            "{:>7} {user:<8}  {pr:>2} {ni:>3} {:>7} {:>6} {:>6} {state} {cpu:>5.1} {mem:>5.1} {:>3}:{:05.2} {}\n",
            p.pid,
            p.vsz,
            p.rss,
            p.rss * 2 / 3,
            (secs / 60.0) as u64,
            secs % 60.0,
            super::base::comm_of(&p.cmd)
        ));
    }
    rt.out(io, out.as_bytes());
    0
}

pub(crate) fn whoami(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    if let Some(a) = argv.get(1) {
        err!(
            rt,
            io,
            "whoami: extra operand ‘{a}’\nTry 'whoami --help' for more information.\n"
        );
        return 1;
    }
    out!(rt, io, "{}\n", sh.user_name());
    0
}

/// uid, gid, name, and groups as (gid, name).
type UserInfo = (u32, u32, String, Vec<(u32, String)>);

/// What `id` says about a user (the session's own by default).
fn user_info(sh: &Shell, name: Option<&str>) -> Option<UserInfo> {
    let id = &sh.world.identity;
    let (uid, gid, name) = match name {
        None => (sh.uid(), sh.gid(), sh.user_name().to_string()),
        Some(n) => {
            let u = id.user(n).or_else(|| {
                n.parse::<u32>()
                    .ok()
                    .and_then(|x| id.users.iter().find(|u| u.uid == x))
            })?;
            (u.uid, u.gid, u.name.clone())
        }
    };
    let mut groups = vec![(gid, super::cmd_files::group(sh, gid))];
    for g in &id.groups {
        if g.members.contains(&name) && g.gid != gid {
            groups.push((g.gid, g.name.clone()));
        }
    }
    Some((uid, gid, name, groups))
}

pub(crate) fn id(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "", Some("ugGnrZaz"));
    if let Some(c) = o.bad {
        super::cmd_files::bad_option(rt, io, "id", c);
        return 1;
    }
    let who = o.ops.first().map(String::as_str);
    let Some((uid, gid, name, groups)) = user_info(sh, who) else {
        err!(rt, io, "id: ‘{}’: no such user\n", who.unwrap_or(""));
        return 1;
    };
    let n = o.has('n');
    if o.has('u') {
        out!(rt, io, "{}\n", if n { name } else { uid.to_string() });
    } else if o.has('g') {
        out!(
            rt,
            io,
            "{}\n",
            if n {
                groups[0].1.clone()
            } else {
                gid.to_string()
            }
        );
    } else if o.has('G') {
        let v: Vec<String> = groups
            .iter()
            .map(|(g, gn)| if n { gn.clone() } else { g.to_string() })
            .collect();
        out!(rt, io, "{}\n", v.join(" "));
    } else {
        let gs: Vec<String> = groups.iter().map(|(g, gn)| format!("{g}({gn})")).collect();
        out!(
            rt,
            io,
            "uid={uid}({name}) gid={gid}({}) groups={}\n",
            groups[0].1,
            gs.join(",")
        );
    }
    0
}

pub(crate) fn groups(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let who = argv.get(1).map(String::as_str);
    match user_info(sh, who) {
        Some((_, _, name, g)) => {
            let names: Vec<String> = g.into_iter().map(|(_, n)| n).collect();
            if who.is_some() {
                out!(rt, io, "{name} : {}\n", names.join(" "));
            } else {
                out!(rt, io, "{}\n", names.join(" "));
            }
            0
        }
        None => {
            err!(rt, io, "groups: ‘{}’: no such user\n", who.unwrap_or(""));
            1
        }
    }
}

pub(crate) fn users(sh: &mut Shell, rt: &mut Run, io: &mut Io, _: &[String]) -> i32 {
    out!(rt, io, "{}\n", sh.user_name());
    0
}

pub(crate) fn uname(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let id = &sh.world.identity;
    if name_of(argv) == "arch" {
        out!(rt, io, "{}\n", id.machine);
        return 0;
    }
    let o = getopt(argv, "", Some("asnrvmpio"));
    if let Some(c) = o.bad {
        super::cmd_files::bad_option(rt, io, "uname", c);
        return 1;
    }
    if let Some(op) = o.ops.first() {
        err!(
            rt,
            io,
            "uname: extra operand ‘{op}’\nTry 'uname --help' for more information.\n"
        );
        return 1;
    }
    let proc_ = if id.os.family() == Family::Debian {
        "unknown"
    } else {
        id.machine.as_str()
    };
    let all = o.has('a') || o.long_has("all");
    let mut parts: Vec<String> = Vec::new();
    let want = |c: char| all || o.has(c);
    if want('s') || (!all && o.flags.is_empty() && o.long.is_empty()) {
        parts.push("Linux".into());
    }
    if want('n') {
        parts.push(sh.hostname());
    }
    if want('r') {
        parts.push(id.kernel_release.clone());
    }
    if want('v') {
        parts.push(id.kernel_version.clone());
    }
    if want('m') {
        parts.push(id.machine.clone());
    }
    if (all && proc_ != "unknown") || o.has('p') {
        parts.push(proc_.to_string());
    }
    if (all && proc_ != "unknown") || o.has('i') {
        parts.push(proc_.to_string());
    }
    if want('o') {
        parts.push("GNU/Linux".into());
    }
    out!(rt, io, "{}\n", parts.join(" "));
    0
}

pub(crate) fn hostname(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "F", Some("aAbdfiIsyv"));
    let id = &sh.world.identity;
    let host = sh.hostname();
    if o.has('I') {
        let ips: Vec<String> = id.interfaces.iter().map(|i| i.ipv4.clone()).collect();
        out!(rt, io, "{} \n", ips.join(" "));
    } else if o.has('i') {
        let ip = if id.os.is_deb() {
            "127.0.1.1".to_string()
        } else {
            id.primary().map(|i| i.ipv4.clone()).unwrap_or_default()
        };
        out!(rt, io, "{ip}\n");
    } else if o.has('f') || o.has('A') {
        out!(
            rt,
            io,
            "{}\n",
            if id.domain.is_empty() {
                host
            } else {
                format!("{host}.{}", id.domain)
            }
        );
    } else if o.has('d') {
        out!(rt, io, "{}\n", id.domain);
    } else if o.has('s') {
        out!(rt, io, "{}\n", host.split('.').next().unwrap_or(&host));
    } else if let Some(new) = o.ops.first() {
        if !sh.is_root() {
            err!(
                rt,
                io,
                "hostname: you must be root to change the host name\n"
            );
            return 1;
        }
        let new = util::clip(new, 64).to_string();
        sh.extra_mut().hostname = Some(new);
    } else {
        out!(rt, io, "{host}\n");
    }
    0
}

pub(crate) fn uptime(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "", Some("psV"));
    let up = sh.world.uptime();
    if o.has('s') {
        out!(rt, io, "{}\n", tm(util::now() - up as i64).iso());
    } else if o.has('p') {
        let (w, d, h, m) = (up / 604_800, up / 86_400 % 7, up / 3600 % 24, up / 60 % 60);
        let mut parts = Vec::new();
        let pl = |n: u64, s: &str| format!("{n} {s}{}", if n == 1 { "" } else { "s" });
        if w > 0 {
            parts.push(pl(w, "week"));
        }
        if d > 0 {
            parts.push(pl(d, "day"));
        }
        if h > 0 {
            parts.push(pl(h, "hour"));
        }
        if m > 0 || parts.is_empty() {
            parts.push(pl(m, "minute"));
        }
        out!(rt, io, "up {}\n", parts.join(", "));
    } else {
        out!(rt, io, "{}\n", sh.uptime_line());
    }
    0
}

pub(crate) fn w(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let short = argv.iter().any(|a| a == "-s" || a == "-h");
    let t = tm(sh.started);
    let from = sh.client_ip();
    if !argv.iter().any(|a| a == "-h") {
        out!(rt, io, "{}\n", sh.uptime_line());
        if short {
            out!(rt, io, "USER     TTY      FROM              IDLE WHAT\n");
        } else {
            out!(
                rt,
                io,
                "USER     TTY      FROM             LOGIN@   IDLE   JCPU   PCPU WHAT\n"
            );
        }
    }
    let me = sh.user_name().to_string();
    let what = argv.join(" ");
    if short {
        out!(rt, io, "{me:<8} pts/0    {from:<16}  0.00s {what}\n");
    } else {
        out!(
            rt,
            io,
            "{me:<8} pts/0    {from:<16} {:02}:{:02}    0.00s  0.02s  0.00s {what}\n",
            t.hour,
            t.min
        );
    }
    0
}

pub(crate) fn who(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let t = tm(sh.started);
    let from = sh.client_ip();
    if argv.iter().any(|a| a == "-b") {
        out!(
            rt,
            io,
            "         system boot  {}\n",
            &tm(sh.world.boot()).iso()[..16]
        );
        return 0;
    }
    if argv.iter().any(|a| a == "-r") {
        out!(
            rt,
            io,
            "         run-level 5  {}\n",
            &tm(sh.world.boot()).iso()[..16]
        );
        return 0;
    }
    if argv.len() == 3 && argv[1] == "am" {
        out!(
            rt,
            io,
            "{:<8} pts/0        {} ({from})\n",
            sh.user_name(),
            &t.iso()[..16]
        );
        return 0;
    }
    out!(
        rt,
        io,
        "{:<8} pts/0        {} ({from})\n",
        sh.user_name(),
        &t.iso()[..16]
    );
    0
}

pub(crate) fn last(sh: &mut Shell, rt: &mut Run, io: &mut Io, _: &[String]) -> i32 {
    let id = &sh.world.identity;
    let t = tm(sh.started);
    let from = sh.client_ip();
    let mut out = format!(
        "{:<8} pts/0        {:<16} {} {} {:2} {:02}:{:02}   still logged in\n",
        sh.user_name(),
        util::clip(&from, 16),
        t.day_name(),
        t.month_name(),
        t.day,
        t.hour,
        t.min
    );
    // earlier logins: the admins, from inside the network
    let mut r = fastrand::Rng::with_seed(id.seed ^ 0x1a57);
    let admins: Vec<String> = id
        .users
        .iter()
        .filter(|u| u.uid == 0 || (u.uid >= 1000 && u.uid < 65_534))
        .map(|u| u.name.clone())
        .collect();
    let net = id
        .primary()
        .map(|i| {
            i.ipv4
                .rsplit_once('.')
                .map(|x| x.0.to_string())
                .unwrap_or_default()
        })
        .unwrap_or_default();
    let boot = sh.world.boot();
    let mut when = sh.started - r.i64(3600..3 * 86_400);
    for _ in 0..r.usize(2..7) {
        if when < boot {
            break;
        }
        let Some(who) = admins.get(r.usize(..admins.len().max(1))) else {
            break;
        };
        let dur = r.i64(60..4 * 3600);
        let a = tm(when);
        let b = tm(when + dur);
        out.push_str(&format!(
            "{who:<8} pts/0        {:<16} {} {} {:2} {:02}:{:02} - {:02}:{:02}  ({:02}:{:02})\n",
            format!("{net}.{}", r.u8(2..250)),
            a.day_name(),
            a.month_name(),
            a.day,
            a.hour,
            a.min,
            b.hour,
            b.min,
            dur / 3600,
            dur / 60 % 60
        ));
        when -= r.i64(3600..6 * 86_400);
    }
    let bt = tm(boot);
    out.push_str(&format!("reboot   system boot  {:<16} {} {} {:2} {:02}:{:02}   still running\n\nwtmp begins {} {} {:2} {:02}:{:02}:{:02} {}\n", util::clip(&id.kernel_release, 16), bt.day_name(), bt.month_name(), bt.day, bt.hour, bt.min, bt.day_name(), bt.month_name(), bt.day, bt.hour, bt.min, bt.sec, bt.year));
    rt.out(io, out.as_bytes());
    0
}

pub(crate) fn free(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "sc", Some("bkmghltwV"));
    let m = sh.world.facts.mem;
    let f = |k: u64| -> String {
        if o.has('h') || o.long_has("human") {
            human_procps(k)
        } else if o.has('g') || o.long_has("gibi") {
            (k / 1_048_576).to_string()
        } else if o.has('m') || o.long_has("mebi") {
            (k / 1024).to_string()
        } else if o.has('b') {
            (k * 1024).to_string()
        } else {
            k.to_string()
        }
    };
    let mut out = String::from(
        "               total        used        free      shared  buff/cache   available\n",
    );
    out.push_str(&format!(
        "{:<8}{:>12}{:>12}{:>12}{:>12}{:>12}{:>12}\n",
        "Mem:",
        f(m.total),
        f(m.used()),
        f(m.free),
        f(m.shmem),
        f(m.buff_cache()),
        f(m.available)
    ));
    out.push_str(&format!(
        "{:<8}{:>12}{:>12}{:>12}\n",
        "Swap:",
        f(m.swap_total),
        f(m.swap_total - m.swap_free),
        f(m.swap_free)
    ));
    if o.has('t') {
        out.push_str(&format!(
            "{:<8}{:>12}{:>12}{:>12}\n",
            "Total:",
            f(m.total + m.swap_total),
            f(m.used() + m.swap_total - m.swap_free),
            f(m.free + m.swap_free)
        ));
    }
    rt.out(io, out.as_bytes());
    0
}

pub(crate) fn df(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "tBx", Some("ahHiklPTv"));
    let human = o.has('h') || o.has('H');
    let show_type = o.has('T');
    let mounts: Vec<_> = sh
        .world
        .facts
        .mounts
        .iter()
        .filter(|m| m.blocks > 0 || o.has('a'))
        .cloned()
        .collect();
    let wanted: Vec<String> = o.ops.iter().map(|p| sh.abs(p)).collect();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut header = vec!["Filesystem".to_string()];
    if show_type {
        header.push("Type".into());
    }
    if human {
        header.extend(["Size", "Used", "Avail", "Use%", "Mounted on"].map(String::from));
    } else if o.has('i') {
        header.extend(["Inodes", "IUsed", "IFree", "IUse%", "Mounted on"].map(String::from));
    } else {
        header.extend(["1K-blocks", "Used", "Available", "Use%", "Mounted on"].map(String::from));
    }
    rows.push(header);
    for m in &mounts {
        if !wanted.is_empty() {
            // the mount each path lives on: the longest mount point that is its prefix
            let hit = wanted.iter().any(|w| {
                let best = mounts
                    .iter()
                    .filter(|x| {
                        x.blocks > 0
                            && (w == &x.point
                                || w.starts_with(&format!("{}/", x.point.trim_end_matches('/')))
                                || x.point == "/")
                    })
                    .max_by_key(|x| x.point.len());
                best.is_some_and(|b| b.point == m.point)
            });
            if !hit {
                continue;
            }
        }
        let reserved = if m.point == "/" && m.fstype == "ext4" {
            m.blocks / 20
        } else {
            0
        };
        let avail = m.blocks.saturating_sub(m.used + reserved);
        let pct = if m.used + avail == 0 {
            "-".to_string()
        } else {
            format!("{}%", (m.used * 100).div_ceil(m.used + avail))
        };
        let mut row = vec![m.dev.clone()];
        if show_type {
            row.push(m.fstype.clone());
        }
        if human {
            row.extend([
                human_ceil(m.blocks * 1024),
                if m.used == 0 {
                    "0".into()
                } else {
                    human_ceil(m.used * 1024)
                },
                human_ceil(avail * 1024),
                pct,
                m.point.clone(),
            ]);
        } else if o.has('i') {
            let inodes = m.blocks / 16;
            let used = m.used / 40;
            row.extend([
                inodes.to_string(),
                used.to_string(),
                (inodes - used.min(inodes)).to_string(),
                format!("{}%", (used * 100).div_ceil(inodes.max(1))),
                m.point.clone(),
            ]);
        } else {
            row.extend([
                m.blocks.to_string(),
                m.used.to_string(),
                avail.to_string(),
                pct,
                m.point.clone(),
            ]);
        }
        rows.push(row);
    }
    let ncol = rows[0].len();
    // GNU df's minimum widths: source 14, sizes 5, percentage 4
    let min = |c: usize| -> usize {
        if c == 0 {
            14
        } else if (show_type && c == 1) || c + 2 == ncol {
            4
        } else {
            5
        }
    };
    let widths: Vec<usize> = (0..ncol)
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
                .max(min(c))
        })
        .collect();
    let mut out = String::new();
    for r in &rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            let w = widths[c];
            let left = c == 0 || c + 1 == ncol || (show_type && c == 1);
            if c > 0 {
                line.push(' ');
            }
            if c + 1 == ncol {
                line.push_str(cell);
            } else if left {
                line.push_str(&format!("{cell:<w$}"));
            } else {
                line.push_str(&format!("{cell:>w$}"));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    rt.out(io, out.as_bytes());
    0
}

pub(crate) fn kill(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let args: Vec<&str> = argv.iter().skip(1).map(String::as_str).collect();
    if args.first() == Some(&"-l") || args.first() == Some(&"-L") {
        out!(rt, io, " 1) SIGHUP\t 2) SIGINT\t 3) SIGQUIT\t 4) SIGILL\t 5) SIGTRAP\n 6) SIGABRT\t 7) SIGBUS\t 8) SIGFPE\t 9) SIGKILL\t10) SIGUSR1\n11) SIGSEGV\t12) SIGUSR2\t13) SIGPIPE\t14) SIGALRM\t15) SIGTERM\n16) SIGSTKFLT\t17) SIGCHLD\t18) SIGCONT\t19) SIGSTOP\t20) SIGTSTP\n21) SIGTTIN\t22) SIGTTOU\t23) SIGURG\t24) SIGXCPU\t25) SIGXFSZ\n26) SIGVTALRM\t27) SIGPROF\t28) SIGWINCH\t29) SIGIO\t30) SIGPWR\n31) SIGSYS\n");
        return 0;
    }
    let mut signal = "TERM".to_string();
    let mut targets = Vec::new();
    let mut k = 0;
    while k < args.len() {
        let a = args[k];
        if a == "-s" || a == "-n" {
            signal = args.get(k + 1).unwrap_or(&"TERM").to_string();
            k += 2;
            continue;
        }
        if targets.is_empty() && a.starts_with('-') && a.len() > 1 && a != "--" {
            signal = a[1..].to_string();
        } else if a != "--" {
            targets.push(a);
        }
        k += 1;
    }
    if targets.is_empty() {
        err!(rt, io, "{}: kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]\n", rt.prefix);
        return 2;
    }
    let procs = sh.processes("");
    let me = sh.user_name().to_string();
    let mut st = 0;
    for t in targets {
        if t.starts_with('%') {
            err!(rt, io, "{}: kill: {t}: no such job\n", rt.prefix);
            st = 1;
            continue;
        }
        let Ok(pid) = t.parse::<i64>() else {
            err!(
                rt,
                io,
                "{}: kill: {t}: arguments must be process or job IDs\n",
                rt.prefix
            );
            st = 1;
            continue;
        };
        if pid == i64::from(sh.pid) && matches!(signal.as_str(), "9" | "KILL" | "SIGKILL") {
            // the session kills its own shell: the connection drops
            rt.flow = Flow::Exit;
            rt.exit_req = Some(137);
            return 0;
        }
        if pid == -1 || pid == 0 {
            continue;
        }
        match procs.iter().find(|p| i64::from(p.pid) == pid) {
            None => {
                err!(rt, io, "{}: kill: ({pid}) - No such process\n", rt.prefix);
                st = 1;
            }
            Some(p) if p.user != me && !sh.is_root() => {
                err!(
                    rt,
                    io,
                    "{}: kill: ({pid}) - Operation not permitted\n",
                    rt.prefix
                );
                st = 1;
            }
            Some(_) => {}
        }
    }
    st
}

pub(crate) fn pkill(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let cmd = name_of(argv);
    let mut full = false;
    let mut user: Option<String> = None;
    let mut pats = Vec::new();
    let mut k = 1;
    while k < argv.len() {
        let a = argv[k].as_str();
        match a {
            "-f" => full = true,
            "-u" | "-U" => {
                user = argv.get(k + 1).cloned();
                k += 1;
            }
            s if s.starts_with('-') => {}
            s => pats.push(s.to_string()),
        }
        k += 1;
    }
    if pats.is_empty() && user.is_none() {
        match cmd.as_str() {
            "killall" => err!(rt, io, "Usage: killall [OPTION]... [--] NAME...\n"),
            "pidof" => return 1,
            _ => err!(
                rt,
                io,
                "{cmd}: no matching criteria specified\nTry `{cmd} --help' for more information.\n"
            ),
        }
        return if cmd == "pkill" || cmd == "pgrep" {
            2
        } else {
            1
        };
    }
    let procs = sh.processes(&argv.join(" "));
    let me = sh.user_name().to_string();
    let root = sh.is_root();
    let mut hits: Vec<&Proc> = Vec::new();
    for p in &procs {
        if p.cmd.starts_with('[') && cmd != "pgrep" {
            continue;
        }
        if p.cmd == argv.join(" ") {
            continue;
        }
        let name = super::base::comm_of(&p.cmd);
        let ok_user = user.as_ref().is_none_or(|u| &p.user == u);
        let ok_pat = pats.is_empty()
            || pats.iter().any(|pat| {
                if cmd == "killall" || cmd == "pidof" {
                    name == *pat
                        || p.cmd
                            .split_whitespace()
                            .next()
                            .is_some_and(|c| c.rsplit('/').next() == Some(pat.as_str()))
                } else {
                    let hay = if full { p.cmd.clone() } else { name.clone() };
                    super::re::Regex::new(pat, true, false)
                        .map(|r| r.is_match(&hay))
                        .unwrap_or(false)
                }
            });
        if ok_user && ok_pat {
            hits.push(p);
        }
    }
    match cmd.as_str() {
        "pgrep" => {
            for p in &hits {
                if argv.iter().any(|a| a == "-l") {
                    out!(rt, io, "{} {}\n", p.pid, super::base::comm_of(&p.cmd));
                } else if argv.iter().any(|a| a == "-a") {
                    out!(rt, io, "{} {}\n", p.pid, p.cmd);
                } else {
                    out!(rt, io, "{}\n", p.pid);
                }
            }
            i32::from(hits.is_empty())
        }
        "pidof" => {
            let ids: Vec<String> = hits.iter().rev().map(|p| p.pid.to_string()).collect();
            if !ids.is_empty() {
                out!(rt, io, "{}\n", ids.join(" "));
            }
            i32::from(hits.is_empty())
        }
        _ => {
            if hits.is_empty() {
                if cmd == "killall" {
                    for p in &pats {
                        err!(rt, io, "{p}: no process found\n");
                    }
                }
                return 1;
            }
            let mut st = 0;
            for p in &hits {
                if !root && p.user != me {
                    if cmd == "killall" {
                        err!(
                            rt,
                            io,
                            "{}({}): Operation not permitted\n",
                            super::base::comm_of(&p.cmd),
                            p.pid
                        );
                    } else {
                        err!(
                            rt,
                            io,
                            "pkill: killing pid {} failed: Operation not permitted\n",
                            p.pid
                        );
                    }
                    st = 1;
                }
            }
            st
        }
    }
}

pub(crate) fn nproc(sh: &mut Shell, rt: &mut Run, io: &mut Io, _: &[String]) -> i32 {
    out!(rt, io, "{}\n", sh.world.identity.cores);
    0
}

pub(crate) fn lscpu(sh: &mut Shell, rt: &mut Run, io: &mut Io, _: &[String]) -> i32 {
    let flags_line = sh
        .read_path(rt, "/proc/cpuinfo", 1 << 16)
        .ok()
        .and_then(|b| {
            String::from_utf8_lossy(&b)
                .lines()
                .find(|l| l.starts_with("flags"))
                .map(|l| l.split(": ").nth(1).unwrap_or("").to_string())
        })
        .unwrap_or_default();
    let id = &sh.world.identity;
    let (family, model, stepping, cache) = super::identity::cpu_details(&id.cpu_model);
    let amd = id.cpu_model.contains("AMD");
    let n = id.cores;
    let list = if n == 1 {
        "0".to_string()
    } else {
        format!("0-{}", n - 1)
    };
    let mhz = format!("{}.{:03}", id.cpu_khz / 1000, id.cpu_khz % 1000);
    let flags = flags_line;
    let l2 = if amd { 512 * n } else { 1024 * n };
    let rows: Vec<(&str, String)> = vec![
        ("Architecture:", id.machine.clone()),
        ("  CPU op-mode(s):", "32-bit, 64-bit".into()),
        (
            "  Address sizes:",
            if amd {
                "40 bits physical, 48 bits virtual".into()
            } else {
                "46 bits physical, 48 bits virtual".into()
            },
        ),
        ("  Byte Order:", "Little Endian".into()),
        ("CPU(s):", n.to_string()),
        ("  On-line CPU(s) list:", list.clone()),
        (
            "Vendor ID:",
            if amd {
                "AuthenticAMD".into()
            } else {
                "GenuineIntel".into()
            },
        ),
        ("  Model name:", id.cpu_model.clone()),
        ("    CPU family:", family.to_string()),
        ("    Model:", model.to_string()),
        ("    Thread(s) per core:", "1".into()),
        ("    Core(s) per socket:", n.to_string()),
        ("    Socket(s):", "1".into()),
        ("    Stepping:", stepping.to_string()),
        (
            "    BogoMIPS:",
            format!("{:.2}", f64::from(id.cpu_khz) / 500.0),
        ),
        ("    Flags:", flags),
        ("Virtualization features:", String::new()),
        ("  Hypervisor vendor:", id.hypervisor.clone()),
        ("  Virtualization type:", "full".into()),
        ("Caches (sum of all):", String::new()),
        (
            "  L1d:",
            format!(
                "{} KiB ({n} instance{})",
                32 * n,
                if n == 1 { "" } else { "s" }
            ),
        ),
        (
            "  L1i:",
            format!(
                "{} KiB ({n} instance{})",
                32 * n,
                if n == 1 { "" } else { "s" }
            ),
        ),
        (
            "  L2:",
            if l2 >= 1024 {
                format!(
                    "{} MiB ({n} instance{})",
                    l2 / 1024,
                    if n == 1 { "" } else { "s" }
                )
            } else {
                format!("{l2} KiB ({n} instance{})", if n == 1 { "" } else { "s" })
            },
        ),
        (
            "  L3:",
            format!("{} MiB (1 instance)", (cache / 1024).max(16)),
        ),
        ("NUMA:", String::new()),
        ("  NUMA node(s):", "1".into()),
        ("  NUMA node0 CPU(s):", list),
    ];
    let _ = mhz;
    let mut out = String::new();
    for (k, v) in rows {
        out.push_str(format!("{k:<25}{v}").trim_end());
        out.push('\n');
    }
    rt.out(io, out.as_bytes());
    0
}

/// Dotted netmask of a prefix length.
fn netmask(prefix: u8) -> String {
    let m = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    };
    let b = m.to_be_bytes();
    format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])
}

fn broadcast(ip: &str, prefix: u8) -> String {
    let v: u32 = ip.parse::<std::net::Ipv4Addr>().map(u32::from).unwrap_or(0);
    let m = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    };
    std::net::Ipv4Addr::from(v | !m).to_string()
}

fn network(ip: &str, prefix: u8) -> String {
    let v: u32 = ip.parse::<std::net::Ipv4Addr>().map(u32::from).unwrap_or(0);
    let m = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    };
    std::net::Ipv4Addr::from(v & m).to_string()
}

/// fe80:: address of a MAC (EUI-64).
fn link_local(mac: &str) -> String {
    let b: Vec<u8> = mac
        .split(':')
        .filter_map(|x| u8::from_str_radix(x, 16).ok())
        .collect();
    if b.len() != 6 {
        return "fe80::1".into();
    }
    let e = [b[0] ^ 2, b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]];
    let g = |i: usize| (u16::from(e[i]) << 8) | u16::from(e[i + 1]);
    format!("fe80::{:x}:{:x}:{:x}:{:x}", g(0), g(2), g(4), g(6))
}

fn si(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1} KB", b / 1e3)
    } else {
        format!("{bytes}.0 B")
    }
}

pub(crate) fn ifconfig(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let id = &sh.world.identity;
    let up = sh.world.uptime();
    let only = argv.get(1).filter(|a| !a.starts_with('-')).cloned();
    if argv.len() > 2 && !sh.is_root() {
        err!(rt, io, "SIOCSIFFLAGS: Operation not permitted\n");
        return 1;
    }
    let mut out = String::new();
    let mut found = false;
    for i in &id.interfaces {
        if only.as_ref().is_some_and(|o| o != &i.name)
            || (!i.up && only.is_none() && !argv.iter().any(|a| a == "-a"))
        {
            continue;
        }
        found = true;
        let rxp = i.rx_bytes / 900 + 1;
        let txp = i.tx_bytes / 700 + 1;
        let flags = if i.up {
            "4163<UP,BROADCAST,RUNNING,MULTICAST>"
        } else {
            "4099<UP,BROADCAST,MULTICAST>"
        };
        out.push_str(&format!(
            "{}: flags={flags}  mtu {}\n        inet {}  netmask {}  broadcast {}\n",
            i.name,
            i.mtu,
            i.ipv4,
            netmask(i.prefix),
            broadcast(&i.ipv4, i.prefix)
        ));
        if i.up {
            out.push_str(&format!(
                "        inet6 {}  prefixlen 64  scopeid 0x20<link>\n",
                link_local(&i.mac)
            ));
        }
        out.push_str(&format!("        ether {}  txqueuelen {}  (Ethernet)\n        RX packets {rxp}  bytes {} ({})\n        RX errors 0  dropped {}  overruns 0  frame 0\n        TX packets {txp}  bytes {} ({})\n        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0\n\n", i.mac, if i.name == "docker0" { 0 } else { 1000 }, i.rx_bytes, si(i.rx_bytes), up / 5000, i.tx_bytes, si(i.tx_bytes)));
    }
    if only.as_ref().is_none_or(|o| o == "lo") {
        found = true;
        let lo = 2_000_000 + up * 3;
        out.push_str(&format!("lo: flags=73<UP,LOOPBACK,RUNNING>  mtu 65536\n        inet 127.0.0.1  netmask 255.0.0.0\n        inet6 ::1  prefixlen 128  scopeid 0x10<host>\n        loop  txqueuelen 1000  (Local Loopback)\n        RX packets {}  bytes {lo} ({})\n        RX errors 0  dropped 0  overruns 0  frame 0\n        TX packets {}  bytes {lo} ({})\n        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0\n\n", lo / 120, si(lo), lo / 120, si(lo)));
    }
    if !found {
        if let Some(o) = only {
            err!(
                rt,
                io,
                "{o}: error fetching interface information: Device not found\n"
            );
            return 1;
        }
    }
    rt.out(io, out.as_bytes());
    0
}

pub(crate) fn ip(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let args: Vec<&str> = argv
        .iter()
        .skip(1)
        .map(String::as_str)
        .filter(|a| !matches!(*a, "-4" | "-6" | "-c" | "-color" | "-br" | "-s" | "-d"))
        .collect();
    let id = &sh.world.identity;
    let obj = args.first().copied().unwrap_or("");
    let verb = args.get(1).copied().unwrap_or("show");
    let is = |s: &str, full: &str| !s.is_empty() && full.starts_with(s);
    if ["add", "del", "delete", "set", "change", "replace", "flush"].contains(&verb)
        && !sh.is_root()
    {
        err!(rt, io, "RTNETLINK answers: Operation not permitted\n");
        return 2;
    }
    if ["add", "del", "delete", "set", "change", "replace", "flush"].contains(&verb) {
        return 0;
    }
    let mut out = String::new();
    if is(obj, "address") || is(obj, "link") {
        let addr = is(obj, "address");
        out.push_str("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n");
        if addr {
            out.push_str("    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n    inet6 ::1/128 scope host noprefixroute \n       valid_lft forever preferred_lft forever\n");
        }
        for (k, i) in id.interfaces.iter().enumerate() {
            let (flags, state, qdisc) = if i.up {
                ("<BROADCAST,MULTICAST,UP,LOWER_UP>", "UP", "fq_codel")
            } else {
                ("<NO-CARRIER,BROADCAST,MULTICAST,UP>", "DOWN", "noqueue")
            };
            out.push_str(&format!("{}: {}: {flags} mtu {} qdisc {qdisc} state {state} group default {}\n    link/ether {} brd ff:ff:ff:ff:ff:ff\n", k + 2, i.name, i.mtu, if i.name == "docker0" { "" } else { "qlen 1000" }, i.mac));
            if k == 0 && i.name.starts_with("ens") {
                out.push_str(&format!(
                    "    altname enp0s{}\n",
                    i.name.trim_start_matches("ens").parse::<u32>().unwrap_or(3)
                ));
            }
            if addr {
                let dyn_ = if i.name == "docker0" { "" } else { "dynamic " };
                out.push_str(&format!("    inet {}/{} brd {} scope global {dyn_}{}\n       valid_lft {} preferred_lft {}\n", i.ipv4, i.prefix, broadcast(&i.ipv4, i.prefix), i.name, if dyn_.is_empty() { "forever".to_string() } else { format!("{}sec", 40_000 + fastrand::u32(..40_000)) }, if dyn_.is_empty() { "forever".to_string() } else { format!("{}sec", 30_000 + fastrand::u32(..10_000)) }));
                if i.up {
                    out.push_str(&format!("    inet6 {}/64 scope link \n       valid_lft forever preferred_lft forever\n", link_local(&i.mac)));
                }
            }
        }
    } else if is(obj, "route") {
        if let Some(i) = id.primary() {
            out.push_str(&format!(
                "default via {} dev {} proto dhcp src {} metric 100 \n",
                id.gateway, i.name, i.ipv4
            ));
            out.push_str(&format!(
                "{}/{} dev {} proto kernel scope link src {} metric 100 \n",
                network(&i.ipv4, i.prefix),
                i.prefix,
                i.name,
                i.ipv4
            ));
        }
        for i in id.interfaces.iter().skip(1) {
            out.push_str(&format!(
                "{}/{} dev {} proto kernel scope link src {} linkdown \n",
                network(&i.ipv4, i.prefix),
                i.prefix,
                i.name,
                i.ipv4
            ));
        }
    } else if is(obj, "neighbour") || obj == "neigh" {
        let mac = format!(
            "52:54:00:{:02x}:{:02x}:{:02x}",
            id.seed as u8,
            (id.seed >> 8) as u8,
            (id.seed >> 16) as u8
        );
        if let Some(i) = id.primary() {
            out.push_str(&format!(
                "{} dev {} lladdr {mac} REACHABLE\n",
                id.gateway, i.name
            ));
        }
    } else if obj.is_empty() {
        err!(rt, io, "Usage: ip [ OPTIONS ] OBJECT {{ COMMAND | help }}\n       ip [ -force ] -batch filename\nwhere  OBJECT := {{ address | addrlabel | amt | fou | help | ila | ioam | l2tp |\n                   link | macsec | maddress | monitor | mptcp | mroute | mrule |\n                   neighbor | neighbour | netconf | netns | nexthop | ntable |\n                   ntbl | route | rule | sr | tap | tcpmetrics |\n                   token | tunnel | tuntap | vrf | xfrm }}\n");
        return 255;
    } else {
        err!(rt, io, "Object \"{obj}\" is unknown, try \"ip help\".\n");
        return 255;
    }
    rt.out(io, out.as_bytes());
    0
}

/// A socket for netstat and ss.
struct Sock {
    proto: &'static str,
    local: String,
    peer: String,
    state: &'static str,
    pid: u32,
    prog: String,
    uid: u32,
}

fn sockets(sh: &Shell) -> Vec<Sock> {
    let id = &sh.world.identity;
    let find = |needle: &str| id.processes.iter().find(|p| p.command.contains(needle));
    let mut v = Vec::new();
    let mut listen = |proto: &'static str, local: &str, needle: &str, prog: &str, uid: u32| {
        let pid = find(needle).map_or(1, |p| p.pid);
        let state = if proto.starts_with("udp") {
            ""
        } else {
            "LISTEN"
        };
        let peer = if proto.ends_with('6') {
            ":::*"
        } else {
            "0.0.0.0:*"
        };
        v.push(Sock {
            proto,
            local: local.to_string(),
            peer: peer.into(),
            state,
            pid,
            prog: prog.to_string(),
            uid,
        });
    };
    listen("tcp", "0.0.0.0:22", "sshd", "sshd", 0);
    listen("tcp6", ":::22", "sshd", "sshd", 0);
    let uid_of = |n: &str| id.user(n).map_or(0, |u| u.uid);
    match id.os.family() {
        Family::Ubuntu => {
            listen(
                "tcp",
                "127.0.0.53:53",
                "systemd-resolved",
                "systemd-resolve",
                uid_of("systemd-resolve"),
            );
            listen(
                "udp",
                "127.0.0.53:53",
                "systemd-resolved",
                "systemd-resolve",
                uid_of("systemd-resolve"),
            );
        }
        Family::Rhel => {
            listen(
                "udp",
                "127.0.0.1:323",
                "chronyd",
                "chronyd",
                uid_of("chrony"),
            );
            listen("udp6", "::1:323", "chronyd", "chronyd", uid_of("chrony"));
        }
        Family::Debian => {}
    }
    for s in &id.services {
        match s.as_str() {
            "nginx" => {
                listen("tcp", "0.0.0.0:80", "nginx: master", "nginx: master", 0);
                listen("tcp6", ":::80", "nginx: master", "nginx: master", 0);
            }
            "apache2" | "httpd" => listen("tcp6", ":::80", s, s, 0),
            "mysql" => listen(
                "tcp",
                "127.0.0.1:3306",
                if id.os.is_deb() && matches!(id.os, Os::Debian11 | Os::Debian12) {
                    "mariadbd"
                } else {
                    "mysqld"
                },
                if matches!(id.os, Os::Debian11 | Os::Debian12 | Os::CentosStream9) {
                    "mariadbd"
                } else {
                    "mysqld"
                },
                uid_of("mysql"),
            ),
            "postgresql" => listen(
                "tcp",
                "127.0.0.1:5432",
                "postgres -D",
                "postgres",
                uid_of("postgres"),
            ),
            "redis" => listen(
                "tcp",
                "127.0.0.1:6379",
                "redis-server",
                "redis-server",
                uid_of("redis"),
            ),
            "postfix" => listen("tcp", "127.0.0.1:25", "master -w", "master", 0),
            _ => {}
        }
    }
    v
}

pub(crate) fn netstat(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let ss = name_of(argv) == "ss";
    let flags: String = argv
        .iter()
        .skip(1)
        .filter(|a| a.starts_with('-') && !a.starts_with("--"))
        .flat_map(|a| a.chars().skip(1))
        .collect();
    let show_tcp = flags.contains('t') || !(flags.contains('u') || flags.contains('x'));
    let show_udp = flags.contains('u') || (!flags.contains('t') && !flags.contains('x'));
    let listening = flags.contains('l');
    let all = flags.contains('a');
    let procs = flags.contains('p');
    let root = sh.is_root();
    let me = sh.uid();
    let mut socks: Vec<Sock> = sockets(sh)
        .into_iter()
        .filter(|s| {
            if s.proto.starts_with("tcp") {
                show_tcp
            } else {
                show_udp
            }
        })
        .collect();
    // the attacker's own connection
    let client = sh.extra.as_ref().and_then(|e| e.client);
    if !listening && show_tcp {
        if let (Some((ip, port)), Some(i)) = (client, sh.world.identity.primary()) {
            let sshd_pid = sh.pid - 2;
            socks.push(Sock {
                proto: "tcp",
                local: format!("{}:22", i.ipv4),
                peer: format!("{ip}:{port}"),
                state: "ESTABLISHED",
                pid: sshd_pid,
                prog: format!("sshd: {}", sh.user_name()),
                uid: 0,
            });
        }
    }
    if !listening && !all {
        socks.retain(|s| s.state == "ESTABLISHED");
    }
    let mut out = String::new();
    if ss {
        out.push_str(&format!(
            "Netid State  Recv-Q Send-Q {:>20}:{:<6}{:>18}:{:<5}{}\n",
            "Local Address",
            "Port",
            "Peer Address",
            "Port",
            if procs { "Process" } else { "" }
        ));
        for s in &socks {
            let (addr, port) = s.local.rsplit_once(':').unwrap_or((&s.local, ""));
            let addr = if addr.contains(':') {
                format!("[{addr}]")
            } else {
                addr.to_string()
            };
            let (paddr, pport) = s.peer.rsplit_once(':').unwrap_or((&s.peer, "*"));
            let paddr = if paddr == "::" {
                "[::]".to_string()
            } else {
                paddr.to_string()
            };
            let state = if s.state.is_empty() {
                "UNCONN"
            } else if s.state == "ESTABLISHED" {
                "ESTAB"
            } else {
                s.state
            };
            let netid = if s.proto.starts_with("tcp") {
                "tcp"
            } else {
                "udp"
            };
            let process = if procs && (root || s.uid == me) {
                format!(
                    "users:((\"{}\",pid={},fd=3))",
                    s.prog.split(':').next().unwrap_or(&s.prog),
                    s.pid
                )
            } else {
                String::new()
            };
            out.push_str(&format!(
                "{netid:<5} {state:<6} {:<6} {:<6} {:>20}:{:<6}{:>18}:{:<5}{process}\n",
                0,
                if s.state == "LISTEN" { 128 } else { 0 },
                addr,
                port,
                paddr,
                pport
            ));
        }
    } else {
        if procs && !root {
            out.push_str("(Not all processes could be identified, non-owned process info\n will not be shown, you would have to be root to see it all.)\n");
        }
        out.push_str(if listening {
            "Active Internet connections (only servers)\n"
        } else if all {
            "Active Internet connections (servers and established)\n"
        } else {
            "Active Internet connections (w/o servers)\n"
        });
        out.push_str(&format!(
            "Proto Recv-Q Send-Q Local Address           Foreign Address         State      {}\n",
            if procs { " PID/Program name    " } else { "" }
        ));
        for s in &socks {
            let prog = if !procs {
                String::new()
            } else if root || s.uid == me {
                format!(" {}/{}", s.pid, util::clip(&s.prog, 18))
            } else {
                " -".to_string()
            };
            out.push_str(&format!(
                "{:<5} {:>6} {:>6} {:<23} {:<23} {:<11}{prog}\n",
                s.proto,
                0,
                if s.state == "ESTABLISHED" { 36 } else { 0 },
                s.local,
                s.peer,
                s.state
            ));
        }
    }
    rt.out(io, out.as_bytes());
    0
}

pub(crate) fn route(sh: &mut Shell, rt: &mut Run, io: &mut Io, _: &[String]) -> i32 {
    let id = &sh.world.identity;
    let mut out = String::from("Kernel IP routing table\nDestination     Gateway         Genmask         Flags Metric Ref    Use Iface\n");
    if let Some(i) = id.primary() {
        out.push_str(&format!(
            "{:<15} {:<15} {:<15} UG    100    0        0 {}\n",
            "0.0.0.0", id.gateway, "0.0.0.0", i.name
        ));
        out.push_str(&format!(
            "{:<15} {:<15} {:<15} U     100    0        0 {}\n",
            network(&i.ipv4, i.prefix),
            "0.0.0.0",
            netmask(i.prefix),
            i.name
        ));
    }
    for i in id.interfaces.iter().skip(1) {
        out.push_str(&format!(
            "{:<15} {:<15} {:<15} U     0      0        0 {}\n",
            network(&i.ipv4, i.prefix),
            "0.0.0.0",
            netmask(i.prefix),
            i.name
        ));
    }
    rt.out(io, out.as_bytes());
    0
}

pub(crate) fn env(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let mut k = 1;
    let mut clear = false;
    let mut set: Vec<(String, String)> = Vec::new();
    while k < argv.len() {
        let a = &argv[k];
        if a == "-i" || a == "-" {
            clear = true;
        } else if a == "-u" {
            k += 1;
        } else if let Some((n, v)) = a.split_once('=').filter(|(n, _)| super::parse::is_name(n)) {
            set.push((n.to_string(), v.to_string()));
        } else {
            break;
        }
        k += 1;
    }
    if k < argv.len() {
        let saved = sh.vars.clone();
        for (n, v) in &set {
            sh.set_var(n, v);
        }
        let st = sh.run_argv(rt, io, &argv[k..]);
        sh.vars = saved;
        if st == 127 {
            return 127;
        }
        return st;
    }
    let mut vars = if clear { Vec::new() } else { sh.environment() };
    for (n, v) in set {
        vars.retain(|(k, _)| *k != n);
        vars.push((n, v));
    }
    let mut out = String::new();
    for (k, v) in vars {
        out.push_str(&format!("{k}={v}\n"));
    }
    if !clear {
        out.push_str(&format!(
            "_={}\n",
            if name_of(argv) == "printenv" {
                "/usr/bin/printenv"
            } else {
                "/usr/bin/env"
            }
        ));
    }
    rt.out(io, &super::parse::to_bytes(&out));
    0
}

pub(crate) fn sleep(_: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    if argv.len() < 2 {
        err!(
            rt,
            io,
            "sleep: missing operand\nTry 'sleep --help' for more information.\n"
        );
        return 1;
    }
    for a in &argv[1..] {
        let t = a.trim_end_matches(['s', 'm', 'h', 'd']);
        if t.parse::<f64>().is_err() && a != "infinity" {
            err!(
                rt,
                io,
                "sleep: invalid time interval ‘{a}’\nTry 'sleep --help' for more information.\n"
            );
            return 1;
        }
    }
    // no time passes: the honeypot never waits
    0
}

pub(crate) fn nohup(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let cmd = name_of(argv);
    let mut k = 1;
    if cmd == "timeout" {
        while k < argv.len() && argv[k].starts_with('-') {
            k += if matches!(argv[k].as_str(), "-s" | "-k" | "--signal" | "--kill-after") {
                2
            } else {
                1
            };
        }
        k += 1; // the duration
    }
    if k >= argv.len() {
        err!(
            rt,
            io,
            "{cmd}: missing operand\nTry '{cmd} --help' for more information.\n"
        );
        return 125;
    }
    let words = argv[k..].to_vec();
    if cmd == "nohup" && io.out == 0 {
        err!(
            rt,
            io,
            "nohup: ignoring input and appending output to 'nohup.out'\n"
        );
        let buf = rt.alloc();
        let mut sub = Io {
            stdin: Input::default(),
            out: buf,
            err: if io.err == 0 { buf } else { io.err },
        };
        let st = sh.run_argv(rt, &mut sub, &words);
        let data = rt.free(buf);
        let home_file = "nohup.out".to_string();
        sh.write_for(rt, io, "nohup", &home_file, &data, true);
        return st;
    }
    sh.run_argv(rt, io, &words)
}

/// `date +FORMAT` conversions.
fn strftime(fmt: &str, t: i64) -> String {
    let a = tm(t);
    let mut out = String::new();
    let mut cs = fmt.chars();
    while let Some(c) = cs.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let full = [
            "Sunday",
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
        ];
        let months = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        match cs.next() {
            Some('Y') => out.push_str(&a.year.to_string()),
            Some('y') => out.push_str(&format!("{:02}", a.year % 100)),
            Some('m') => out.push_str(&format!("{:02}", a.mon)),
            Some('d') => out.push_str(&format!("{:02}", a.day)),
            Some('e') => out.push_str(&format!("{:2}", a.day)),
            Some('H') => out.push_str(&format!("{:02}", a.hour)),
            Some('I') => out.push_str(&format!(
                "{:02}",
                match a.hour % 12 {
                    0 => 12,
                    h => h,
                }
            )),
            Some('p') => out.push_str(if a.hour < 12 { "AM" } else { "PM" }),
            Some('M') => out.push_str(&format!("{:02}", a.min)),
            Some('S') => out.push_str(&format!("{:02}", a.sec)),
            Some('s') => out.push_str(&t.to_string()),
            Some('N') => out.push_str(&format!("{:09}", fastrand::u32(..1_000_000_000))),
            Some('a') => out.push_str(a.day_name()),
            Some('A') => out.push_str(full[(a.wday % 7) as usize]),
            Some('b') | Some('h') => out.push_str(a.month_name()),
            Some('B') => out.push_str(months[(a.mon.clamp(1, 12) - 1) as usize]),
            Some('j') => out.push_str(&format!(
                "{:03}",
                util::days_from_civil(a.year, a.mon, a.day) - util::days_from_civil(a.year, 1, 1)
                    + 1
            )),
            Some('u') => out.push_str(&(if a.wday == 0 { 7 } else { a.wday }).to_string()),
            Some('w') => out.push_str(&a.wday.to_string()),
            Some('Z') => out.push_str("UTC"),
            Some('z') => out.push_str("+0000"),
            Some('F') => out.push_str(&format!("{}-{:02}-{:02}", a.year, a.mon, a.day)),
            Some('T') => out.push_str(&a.clock()),
            Some('R') => out.push_str(&format!("{:02}:{:02}", a.hour, a.min)),
            Some('D') => out.push_str(&format!("{:02}/{:02}/{:02}", a.mon, a.day, a.year % 100)),
            Some('c') => out.push_str(&a.date().replace(" UTC", "")),
            Some('x') => out.push_str(&format!("{:02}/{:02}/{:02}", a.mon, a.day, a.year % 100)),
            Some('X') => out.push_str(&a.clock()),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('%') => out.push('%'),
            Some(o) => {
                out.push('%');
                out.push(o);
            }
            None => out.push('%'),
        }
    }
    out
}

pub(crate) fn date(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let mut t = util::now();
    let mut fmt: Option<String> = None;
    let mut k = 1;
    while k < argv.len() {
        let a = &argv[k];
        if let Some(f) = a.strip_prefix('+') {
            fmt = Some(f.to_string());
        } else if a == "-s" || a.starts_with("--set") {
            if !sh.is_root() {
                err!(rt, io, "date: cannot set date: Operation not permitted\n");
                return 1;
            }
            k += 1;
        } else if a == "-d" || a == "--date" {
            if let Some(v) = argv.get(k + 1) {
                if let Some(s) = v.strip_prefix('@') {
                    t = s.parse().unwrap_or(t);
                } else if v.contains("yesterday") {
                    t -= 86_400;
                } else if v.contains("tomorrow") {
                    t += 86_400;
                } else if v != "now" && v != "today" {
                    err!(rt, io, "date: invalid date ‘{v}’\n");
                    return 1;
                }
            }
            k += 1;
        } else if a == "-R" {
            fmt = Some("%a, %d %b %Y %H:%M:%S +0000".into());
        } else if a == "-I" || a == "--iso-8601" {
            fmt = Some("%F".into());
        }
        k += 1;
    }
    let s = match fmt {
        Some(f) => strftime(&f, t),
        None => tm(t).date(),
    };
    out!(rt, io, "{s}\n");
    0
}

pub(crate) fn getconf(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let v = match argv.get(1).map(String::as_str) {
        Some("LONG_BIT") | Some("WORD_BIT") if argv[1] == "LONG_BIT" => "64".to_string(),
        Some("WORD_BIT") => "32".into(),
        Some("PAGESIZE") | Some("PAGE_SIZE") => "4096".into(),
        Some("_NPROCESSORS_ONLN") | Some("_NPROCESSORS_CONF") => {
            sh.world.identity.cores.to_string()
        }
        Some("ARG_MAX") => "2097152".into(),
        Some("CLK_TCK") => "100".into(),
        Some("GNU_LIBC_VERSION") => "glibc 2.36".into(),
        Some("PATH") => "/bin:/usr/bin".into(),
        Some(x) => {
            err!(rt, io, "getconf: Unrecognized variable `{x}'\n");
            return 1;
        }
        None => {
            err!(
                rt,
                io,
                "Usage: getconf [-v SPEC] VAR\n  or:  getconf [-v SPEC] PATH_VAR PATH\n"
            );
            return 1;
        }
    };
    out!(rt, io, "{v}\n");
    0
}

pub(crate) fn dmesg(sh: &mut Shell, rt: &mut Run, io: &mut Io, _: &[String]) -> i32 {
    let id = &sh.world.identity;
    if !sh.is_root() && id.os.is_deb() {
        err!(
            rt,
            io,
            "dmesg: read kernel buffer failed: Operation not permitted\n"
        );
        return 1;
    }
    let (family, model, stepping, _) = super::identity::cpu_details(&id.cpu_model);
    let disk = &id.disk_dev;
    let nic = id.primary().map_or("eth0".to_string(), |i| i.name.clone());
    let mut r = fastrand::Rng::with_seed(id.seed ^ 0xd3e5);
    let mut t = 0.0f64;
    let mut out = String::new();
    let lines = [
        format!("Linux version {} {} {}", id.kernel_release, id.os.compiler(), id.kernel_version),
        format!("Command line: BOOT_IMAGE=/boot/vmlinuz-{} root=UUID={} ro console=tty1 console=ttyS0", id.kernel_release, sh.world.facts.root_uuid),
        "BIOS-provided physical RAM map:".into(),
        format!("Hypervisor detected: {}", id.hypervisor),
        format!("Memory: {}K/{}K available", id.mem_kib * 97 / 100, id.mem_kib + 131_072),
        format!("smpboot: CPU0: {} (family: 0x{family:x}, model: 0x{model:x}, stepping: 0x{stepping:x})", id.cpu_model),
        format!("smp: Brought up 1 node, {} CPU{}", id.cores, if id.cores == 1 { "" } else { "s" }),
        "NET: Registered PF_INET protocol family".into(),
        format!("virtio_blk virtio2: [{disk}] {} 512-byte logical blocks", u64::from(id.disk_gib) * 2_097_152),
        format!("EXT4-fs ({disk}1): mounted filesystem with ordered data mode. Quota mode: none."),
        format!("virtio_net virtio1 {nic}: renamed from eth0"),
        "systemd[1]: Detected virtualization kvm.".into(),
        "systemd[1]: Detected architecture x86-64.".into(),
        format!("systemd[1]: Hostname set to <{}>.", id.hostname),
        "audit: type=1400 audit(1.234:2): apparmor=\"STATUS\" operation=\"profile_load\"".into(),
    ];
    for l in lines {
        out.push_str(&format!("[{t:12.6}] {l}\n"));
        t += r.f64() * 0.8;
    }
    rt.out(io, out.as_bytes());
    0
}

pub(crate) fn mount(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let cmd = name_of(argv);
    let ops: Vec<&String> = argv
        .iter()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if cmd == "umount" || !ops.is_empty() {
        if !sh.is_root() {
            let target = ops.last().map_or("", |s| s.as_str());
            err!(rt, io, "{cmd}: {target}: must be superuser to use {cmd}.\n");
            return 32;
        }
        if let Some(dev) = ops.first() {
            if cmd == "umount" {
                err!(rt, io, "umount: {dev}: target is busy.\n");
            } else {
                err!(
                    rt,
                    io,
                    "mount: {}: special device {dev} does not exist.\n",
                    ops.last().map_or("", |s| s.as_str())
                );
            }
        }
        return 32;
    }
    let mut out = String::new();
    for m in &sh.world.facts.mounts {
        out.push_str(&format!(
            "{} on {} type {} ({})\n",
            m.dev, m.point, m.fstype, m.opts
        ));
    }
    rt.out(io, out.as_bytes());
    0
}

pub(crate) fn lsblk(sh: &mut Shell, rt: &mut Run, io: &mut Io, _: &[String]) -> i32 {
    let id = &sh.world.identity;
    let d = &id.disk_dev;
    let major = match d.as_str() {
        x if x.starts_with("sd") => 8,
        x if x.starts_with("nvme") => 259,
        x if x.starts_with("xvd") => 202,
        _ => 252,
    };
    let p = |n: u32| {
        if d.starts_with("nvme") {
            format!("{d}p{n}")
        } else {
            format!("{d}{n}")
        }
    };
    let size = id.disk_gib;
    let mut out = format!(
        "NAME{} MAJ:MIN RM  SIZE RO TYPE MOUNTPOINTS\n",
        " ".repeat(d.len() + 2usize.saturating_sub(2))
    );
    let w = d.len() + 4;
    out.push_str(&format!("{:<w$}{major}:0    0 {:>4}G  0 disk \n", d, size));
    if id.os.is_deb() {
        out.push_str(&format!(
            "{:<w$}{major}:1    0 {:>4.1}G  0 part /\n",
            format!("├─{}", p(1)),
            f64::from(size) - 0.1
        ));
        out.push_str(&format!(
            "{:<w$}{major}:14   0    4M  0 part \n",
            format!("├─{}", p(14))
        ));
        out.push_str(&format!(
            "{:<w$}{major}:15   0  106M  0 part /boot/efi\n",
            format!("└─{}", p(15))
        ));
    } else {
        let vg = if id.os == Os::Centos7 { "centos" } else { "cs" };
        out.push_str(&format!(
            "{:<w$}{major}:1    0    1G  0 part /boot\n",
            format!("├─{}", p(1))
        ));
        out.push_str(&format!(
            "{:<w$}{major}:2    0 {:>4}G  0 part \n",
            format!("└─{}", p(2)),
            size - 1
        ));
        out.push_str(&format!(
            "  ├─{vg}-root 253:0    0 {:>4}G  0 lvm  /\n",
            size - 3
        ));
        out.push_str(&format!("  └─{vg}-swap 253:1    0    2G  0 lvm  [SWAP]\n"));
    }
    rt.out(io, out.as_bytes());
    0
}

/// `bash`, `sh`, `dash`: `-c 'line'`, a script file, or commands on stdin.
pub(crate) fn shell(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let name = name_of(argv);
    let mut k = 1;
    let mut command: Option<String> = None;
    while k < argv.len() {
        let a = argv[k].as_str();
        if a == "-c" {
            command = argv.get(k + 1).cloned();
            k += 2;
            break;
        }
        if a == "--version" {
            out!(rt, io, "GNU bash, version {} (x86_64-pc-linux-gnu)\nCopyright (C) 2022 Free Software Foundation, Inc.\nLicense GPLv3+: GNU GPL version 3 or later <http://gnu.org/licenses/gpl.html>\n\nThis is free software; you are free to change and redistribute it.\nThere is NO WARRANTY, to the extent permitted by law.\n", sh.world.identity.os.bash_version());
            return 0;
        }
        if a.starts_with('-') || a.starts_with('+') {
            if a.contains('c') && !a.starts_with("--") {
                command = argv.get(k + 1).cloned();
                k += 2;
                break;
            }
            k += 1;
            continue;
        }
        break;
    }
    if let Some(c) = command {
        let mut args = vec![argv.get(k).cloned().unwrap_or_else(|| name.clone())];
        args.extend(argv.iter().skip(k + 1).cloned());
        return sh.run_text(rt, io, &c, &name, args, true);
    }
    if let Some(file) = argv.get(k) {
        return match sh.read_path(rt, file, 1 << 20) {
            Ok(bytes) => {
                if bytes.starts_with(b"\x7fELF") || bytes[..bytes.len().min(4096)].contains(&0) {
                    err!(rt, io, "{file}: {file}: cannot execute binary file\n");
                    return 126;
                }
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let args: Vec<String> = argv[k..].to_vec();
                sh.run_text(rt, io, &text, file, args, true)
            }
            Err(e) => {
                if name == "bash" {
                    err!(rt, io, "bash: {file}: {}\n", e.msg());
                } else {
                    err!(
                        rt,
                        io,
                        "{name}: 0: cannot open {file}: {}\n",
                        if e == super::fs::Errno::NoEnt {
                            "No such file"
                        } else {
                            e.msg()
                        }
                    );
                }
                if e == super::fs::Errno::NoEnt {
                    127
                } else {
                    2
                }
            }
        };
    }
    // commands on stdin (`curl … | sh`); an interactive nested shell just carries on
    let input = io.stdin.take_all();
    if input.is_empty() {
        return 0;
    }
    let text = super::expand::bytes_to_string(&input);
    sh.run_text(rt, io, &text, &name, vec![name.clone()], true)
}

pub(crate) fn sudo(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let mut k = 1;
    let mut login = false;
    let mut user: Option<String> = None;
    let mut stdin_pw = false;
    while k < argv.len() && argv[k].starts_with('-') {
        match argv[k].as_str() {
            "-i" | "-s" | "--login" | "--shell" => login = true,
            "-u" => {
                user = argv.get(k + 1).cloned();
                k += 1;
            }
            "-S" | "--stdin" => stdin_pw = true,
            "-l" | "--list" if sh.is_root() => {
                out!(rt, io, "Matching Defaults entries for root on {}:\n    env_reset, mail_badpass, secure_path=/usr/local/sbin\\:/usr/local/bin\\:/usr/sbin\\:/usr/bin\\:/sbin\\:/bin, use_pty\n\nUser root may run the following commands on {}:\n    (ALL : ALL) ALL\n", sh.hostname(), sh.hostname());
                return 0;
            }
            "-V" | "--version" => {
                out!(rt, io, "Sudo version 1.9.13p3\nSudoers policy plugin version 1.9.13p3\nSudoers file grammar version 50\nSudoers I/O plugin version 1.9.13p3\nSudoers audit plugin version 1.9.13p3\n");
                return 0;
            }
            "-k" | "-K" | "-v" | "-n" | "-E" | "-H" | "-b" | "-P" => {}
            "--" => {
                k += 1;
                break;
            }
            _ => {}
        }
        k += 1;
    }
    let rest: Vec<String> = argv[k.min(argv.len())..].to_vec();
    if rest.is_empty() && !login && !argv.iter().any(|a| a == "-l" || a == "-v" || a == "-k") {
        err!(rt, io, "usage: sudo -h | -K | -k | -V\nusage: sudo -v [-ABkNnS] [-g group] [-h host] [-p prompt] [-u user]\nusage: sudo -l [-ABkNnS] [-g group] [-h host] [-p prompt] [-U user]\n            [-u user] [command [arg ...]]\nusage: sudo [-ABbEHkNnPS] [-r role] [-t type] [-C num] [-D directory]\n            [-g group] [-h host] [-p prompt] [-R directory] [-T timeout]\n            [-u user] [VAR=value] [-i | -s] [command [arg ...]]\nusage: sudo -e [-ABkNnS] [-r role] [-t type] [-C num] [-D directory]\n            [-g group] [-h host] [-p prompt] [-R directory] [-T timeout]\n            [-u user] file ...\n");
        return 1;
    }
    if !sh.is_root() {
        let me = sh.user_name().to_string();
        if stdin_pw {
            let _ = io.stdin.read_line();
        }
        // no password can be typed here: three empty tries, as sudo reports them
        err!(rt, io, "[sudo] password for {me}: \nSorry, try again.\n[sudo] password for {me}: \nSorry, try again.\n[sudo] password for {me}: \nsudo: 3 incorrect password attempts\n");
        return 1;
    }
    if let Some(u) = user.filter(|u| u != "root") {
        if sh.world.identity.user(&u).is_none() {
            err!(
                rt,
                io,
                "sudo: unknown user {u}\nsudo: error initializing audit plugin sudoers_audit\n"
            );
            return 1;
        }
    }
    if rest.is_empty() {
        return 0;
    }
    sh.run_argv(rt, io, &rest)
}

pub(crate) fn su(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let mut login = false;
    let mut target = "root".to_string();
    let mut command: Option<String> = None;
    let mut k = 1;
    while k < argv.len() {
        match argv[k].as_str() {
            "-" | "-l" | "--login" => login = true,
            "-c" | "--command" => {
                command = argv.get(k + 1).cloned();
                k += 1;
            }
            "-s" | "--shell" => k += 1,
            s if s.starts_with('-') => {}
            s => target = s.to_string(),
        }
        k += 1;
    }
    if !sh.is_root() {
        err!(rt, io, "Password: \nsu: Authentication failure\n");
        return 1;
    }
    if sh.world.identity.user(&target).is_none() {
        err!(rt, io, "su: user {target} does not exist or the user entry does not contain all the required fields\n");
        return 1;
    }
    if let Some(c) = command {
        return sh.run_text(rt, io, &c, "bash", vec!["bash".into()], true);
    }
    if target != "root" {
        sh.switch_user(&target, login);
    } else if login {
        sh.cwd = "/root".into();
    }
    0
}

pub(crate) fn passwd(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let cmd = name_of(argv);
    let root = sh.is_root();
    let me = sh.user_name().to_string();
    match cmd.as_str() {
        "chpasswd" => {
            let _ = io.stdin.take_all();
            if !root {
                err!(rt, io, "chpasswd: Permission denied.\n");
                return 1;
            }
            0
        }
        "passwd" => {
            let target = argv
                .iter()
                .skip(1)
                .find(|a| !a.starts_with('-'))
                .cloned()
                .unwrap_or_else(|| me.clone());
            if argv.iter().any(|a| a == "--stdin") {
                let _ = io.stdin.take_all();
                if root {
                    out!(rt, io, "Changing password for user {target}.\npasswd: all authentication tokens updated successfully.\n");
                    return 0;
                }
            }
            if !root && target != me {
                err!(
                    rt,
                    io,
                    "passwd: You may not view or modify password information for {target}.\n"
                );
                return 1;
            }
            if root && sh.world.identity.user(&target).is_none() {
                err!(rt, io, "passwd: user '{target}' does not exist\n");
                return 1;
            }
            if argv.iter().any(|a| a == "-S" || a == "--status") {
                out!(
                    rt,
                    io,
                    "{target} P {} 0 99999 7 -1\n",
                    tm(util::now() - 86_400 * 30)
                        .iso()
                        .split(' ')
                        .next()
                        .unwrap_or("")
                );
                return 0;
            }
            // the prompts with nothing typed; nothing is stored
            if !root {
                out!(rt, io, "Changing password for {me}.\nCurrent password: \n");
            }
            out!(
                rt,
                io,
                "New password: \nRetype new password: \npasswd: password updated successfully\n"
            );
            0
        }
        _ => {
            if !root && cmd != "chfn" {
                err!(rt, io, "{cmd}: Permission denied.\n");
                return 1;
            }
            0
        }
    }
}

/// `useradd`, `userdel`, `usermod`, `groupadd`, `visudo`: root's changes land in the
/// session's copy of /etc/passwd (and the home directory with `-m`).
pub(crate) fn useradd(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let cmd = name_of(argv);
    if !sh.is_root() {
        err!(
            rt,
            io,
            "{cmd}: Permission denied.\n{cmd}: cannot lock /etc/passwd; try again later.\n"
        );
        return 1;
    }
    if cmd != "useradd" {
        return 0;
    }
    let o = getopt(argv, "cdegGkKpsuUZbf", Some("mMrDNoU"));
    let Some(name) = o.ops.last().cloned() else {
        err!(
            rt,
            io,
            "Usage: useradd [options] LOGIN\n       useradd -D\n       useradd -D [options]\n"
        );
        return 2;
    };
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        || name.len() > 32
    {
        err!(
            rt,
            io,
            "useradd: invalid user name '{name}': use --badname to ignore\n"
        );
        return 3;
    }
    let passwd = sh.read_path(rt, "/etc/passwd", 1 << 20).unwrap_or_default();
    let text = String::from_utf8_lossy(&passwd).into_owned();
    if text.lines().any(|l| l.split(':').next() == Some(&name)) {
        err!(rt, io, "useradd: user '{name}' already exists\n");
        return 9;
    }
    let uid = o
        .val('u')
        .and_then(|u| u.parse::<u32>().ok())
        .unwrap_or_else(|| {
            (1001..)
                .find(|u| {
                    !text
                        .lines()
                        .any(|l| l.split(':').nth(2) == Some(&u.to_string()))
                })
                .unwrap_or(1999)
        });
    let home = o
        .val('d')
        .map(String::from)
        .unwrap_or_else(|| format!("/home/{name}"));
    let shell = o
        .val('s')
        .unwrap_or(if sh.world.identity.os.is_deb() {
            "/bin/sh"
        } else {
            "/bin/bash"
        })
        .to_string();
    let line = format!(
        "{name}:x:{uid}:{uid}:{}:{home}:{shell}\n",
        o.val('c').unwrap_or("")
    );
    let pw = o.val('p').unwrap_or("!");
    let day = util::now() / 86_400;
    sh.as_root(|sh| {
        sh.write_for(rt, io, "useradd", "/etc/passwd", line.as_bytes(), true);
        sh.write_for(
            rt,
            io,
            "useradd",
            "/etc/shadow",
            format!("{name}:{pw}:{day}:0:99999:7:::\n").as_bytes(),
            true,
        );
        sh.write_for(
            rt,
            io,
            "useradd",
            "/etc/group",
            format!("{name}:x:{uid}:\n").as_bytes(),
            true,
        );
        if o.has('m') {
            let _ = sh.fs().create(&home, super::fs::Kind::Dir, 0o750);
            let _ = sh.fs().modify(&home, false, |n| {
                n.uid = uid;
                n.gid = uid;
            });
        }
    });
    0
}

impl Shell {
    /// Runs `f` with root's credentials (setuid tools writing root's files).
    pub(crate) fn as_root(&mut self, f: impl FnOnce(&mut Shell)) {
        let saved = std::mem::replace(&mut self.who, super::Who::Known(0));
        f(self);
        self.who = saved;
    }
}

pub(crate) fn crontab(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let o = getopt(argv, "u", Some("lerisn"));
    let me = sh.user_name().to_string();
    let user = match o.val('u') {
        Some(u) if u != me && !sh.is_root() => {
            err!(rt, io, "must be privileged to use -u\n");
            return 1;
        }
        Some(u) => u.to_string(),
        None => me,
    };
    let spool = format!("{}/{user}", sh.world.identity.os.cron_spool());
    let current = {
        let f = sh.fs_as(super::fs::Cred { uid: 0, gid: 0 });
        f.read(&spool).ok().map(|(_, r)| r)
    };
    let current = current.map(|r| sh.materialize(r, 1 << 20));
    if o.has('l') {
        return match current {
            Some(c) => {
                rt.out(io, &c);
                0
            }
            None => {
                err!(rt, io, "no crontab for {user}\n");
                1
            }
        };
    }
    if o.has('r') {
        if current.is_none() {
            err!(rt, io, "no crontab for {user}\n");
            return 1;
        }
        let _ = sh.fs_as(super::fs::Cred { uid: 0, gid: 0 }).unlink(&spool);
        return 0;
    }
    if o.has('e') {
        if current.is_none() {
            err!(rt, io, "no crontab for {user} - using an empty one\n");
        }
        err!(rt, io, "crontab: no changes made to crontab\n");
        return 0;
    }
    let content = match o.ops.first().map(String::as_str) {
        None | Some("-") => io.stdin.take_all(),
        Some(f) => match sh.read_path(rt, f, 1 << 20) {
            Ok(b) => b,
            Err(e) => {
                err!(rt, io, "{f}: {}\n", e.msg());
                return 1;
            }
        },
    };
    let src = o.ops.first().cloned().unwrap_or_else(|| "-".into());
    // crontab checks each line before installing
    for (n, line) in String::from_utf8_lossy(&content).lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if let Some((var, _)) = l.split_once('=') {
            if super::parse::is_name(var.trim()) {
                continue;
            }
        }
        let fields: Vec<&str> = l.split_whitespace().collect();
        let ok = if l.starts_with('@') {
            fields.len() >= 2
                && matches!(
                    fields[0],
                    "@reboot"
                        | "@yearly"
                        | "@annually"
                        | "@monthly"
                        | "@weekly"
                        | "@daily"
                        | "@midnight"
                        | "@hourly"
                )
        } else {
            fields.len() >= 6
                && fields[..5].iter().all(|f| {
                    f.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "*/,-".contains(c))
                })
        };
        if !ok {
            let what = if l.starts_with('@') {
                "bad time specifier"
            } else if fields.len() < 6 {
                "bad command"
            } else {
                "bad minute"
            };
            err!(
                rt,
                io,
                "\"{src}\":{}: {what}\nerrors in crontab file, can't install.\n",
                n + 1
            );
            return 1;
        }
    }
    let (uid, gid) = (
        sh.world.identity.user(&user).map_or(sh.uid(), |u| u.uid),
        sh.world
            .identity
            .groups
            .iter()
            .find(|g| g.name == "crontab")
            .map_or(0, |g| g.gid),
    );
    let mut f = sh.fs_as(super::fs::Cred { uid: 0, gid: 0 });
    match f.write(&spool, &content, false, 0o600) {
        Ok(w) => {
            let _ = f.modify(&spool, false, |n| {
                n.uid = uid;
                n.gid = gid;
                n.mode = 0o600;
            });
            if let Some(sha) = w.sha256 {
                rt.effects.push(Effect::FileWritten {
                    path: w.path,
                    size: w.size,
                    sha256: sha,
                });
            }
            if w.cut {
                rt.effects.push(Effect::Capped { what: "fs" });
            }
            0
        }
        Err(e) => {
            err!(rt, io, "crontab: {}\n", e.msg());
            1
        }
    }
}

/// Units this host has: (name, description, main command needle).
fn units(sh: &Shell) -> Vec<(String, String, String)> {
    let id = &sh.world.identity;
    let deb = id.os.is_deb();
    let mut v: Vec<(String, String, String)> = vec![
        (
            if deb { "ssh" } else { "sshd" }.into(),
            "OpenBSD Secure Shell server".into(),
            "sshd".into(),
        ),
        (
            if deb { "cron" } else { "crond" }.into(),
            if deb {
                "Regular background program processing daemon".into()
            } else {
                "Command Scheduler".into()
            },
            "cron".into(),
        ),
        (
            "rsyslog".into(),
            "System Logging Service".into(),
            "rsyslogd".into(),
        ),
        (
            "systemd-journald".into(),
            "Journal Service".into(),
            "systemd-journald".into(),
        ),
        (
            "systemd-logind".into(),
            "User Login Management".into(),
            "systemd-logind".into(),
        ),
        (
            "dbus".into(),
            "D-Bus System Message Bus".into(),
            "dbus".into(),
        ),
    ];
    if id.os.family() == Family::Rhel {
        v.push((
            "firewalld".into(),
            "firewalld - dynamic firewall daemon".into(),
            "firewalld".into(),
        ));
        v.push((
            "NetworkManager".into(),
            "Network Manager".into(),
            "NetworkManager".into(),
        ));
        v.push((
            "chronyd".into(),
            "NTP client/server".into(),
            "chronyd".into(),
        ));
    } else {
        v.push((
            "systemd-timesyncd".into(),
            "Network Time Synchronization".into(),
            "systemd-timesyncd".into(),
        ));
    }
    if id.os.family() == Family::Ubuntu {
        v.push((
            "systemd-resolved".into(),
            "Network Name Resolution".into(),
            "systemd-resolved".into(),
        ));
        v.push(("snapd".into(), "Snap Daemon".into(), "snapd".into()));
    }
    for s in &id.services {
        let (name, desc, needle): (&str, &str, &str) = match s.as_str() {
            "nginx" => (
                "nginx",
                "A high performance web server and a reverse proxy server",
                "nginx: master",
            ),
            "apache2" => ("apache2", "The Apache HTTP Server", "apache2 -k"),
            "httpd" => ("httpd", "The Apache HTTP Server", "httpd"),
            "mysql"
                if matches!(
                    id.os,
                    Os::Debian11 | Os::Debian12 | Os::CentosStream9 | Os::Centos7
                ) =>
            {
                ("mariadb", "MariaDB database server", "mysqld")
            }
            "mysql" => ("mysql", "MySQL Community Server", "mysqld"),
            "postgresql" => ("postgresql", "PostgreSQL RDBMS", "postgres -D"),
            "redis" => ("redis-server", "Advanced key-value store", "redis-server"),
            "docker" => ("docker", "Docker Application Container Engine", "dockerd"),
            "php-fpm" => (
                "php-fpm",
                "The PHP FastCGI Process Manager",
                "php-fpm: master",
            ),
            "postfix" => ("postfix", "Postfix Mail Transport Agent", "master -w"),
            _ => continue,
        };
        v.push((name.into(), desc.into(), needle.into()));
        if name == "mariadb" {
            v.push((
                "mysql".into(),
                desc.into(),
                needle.replace("mysqld", "mariadbd"),
            ));
        }
    }
    v
}

fn ago(secs: i64) -> String {
    let s = secs.max(1);
    let (mo, w, d, h, m) = (s / 2_629_800, s / 604_800, s / 86_400, s / 3600, s / 60);
    if mo >= 1 {
        format!(
            "{mo} month{} {} days ago",
            if mo == 1 { "" } else { "s" },
            (s % 2_629_800) / 86_400
        )
    } else if w >= 1 {
        format!(
            "{w} week{} {} days ago",
            if w == 1 { "" } else { "s" },
            (s % 604_800) / 86_400
        )
    } else if d >= 1 {
        format!(
            "{d} day{} {}h ago",
            if d == 1 { "" } else { "s" },
            (s % 86_400) / 3600
        )
    } else if h >= 1 {
        format!("{h}h {}min ago", m % 60)
    } else {
        format!("{m}min {}s ago", s % 60)
    }
}

pub(crate) fn service(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    if argv.get(1).is_some_and(|a| a == "--status-all") {
        let mut names: Vec<String> = units(sh).into_iter().map(|u| u.0).collect();
        names.sort();
        for n in names {
            out!(rt, io, " [ + ]  {n}\n");
        }
        return 0;
    }
    let (Some(unit), Some(action)) = (argv.get(1), argv.get(2)) else {
        err!(rt, io, "Usage: service < option > | --status-all | [ service_name [ command | --full-restart ] ]\n");
        return 1;
    };
    let words = vec!["systemctl".to_string(), action.clone(), unit.clone()];
    systemctl(sh, rt, io, &words)
}

pub(crate) fn systemctl(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let cmd = name_of(argv);
    let root = sh.is_root();
    if matches!(cmd.as_str(), "reboot" | "shutdown" | "halt" | "poweroff")
        || argv
            .get(1)
            .is_some_and(|a| matches!(a.as_str(), "reboot" | "poweroff" | "halt"))
    {
        if !root {
            err!(rt, io, "Failed to set wall message, ignoring: Interactive authentication required.\nFailed to {} system via logind: Interactive authentication required.\n", if cmd == "reboot" || argv.get(1).is_some_and(|a| a == "reboot") { "reboot" } else { "power off" });
            return 1;
        }
        // the machine goes down: the session ends
        rt.flow = Flow::Exit;
        rt.exit_req = Some(0);
        return 0;
    }
    if cmd == "journalctl" {
        if !root {
            out!(rt, io, "Hint: You are currently not seeing messages from other users and the system.\n      Users in groups 'adm', 'systemd-journal' can see all messages.\n      Pass -q to turn off this notice.\n-- No entries --\n");
            return 0;
        }
        let log = if sh.world.identity.os.is_deb() {
            "/var/log/syslog"
        } else {
            "/var/log/messages"
        };
        let b = sh.read_path(rt, log, 1 << 16).unwrap_or_default();
        rt.out(io, &b);
        return 0;
    }
    let args: Vec<&String> = argv
        .iter()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let verb = args.first().map_or("list-units", |s| s.as_str());
    let names: Vec<String> = args
        .iter()
        .skip(1)
        .map(|s| s.trim_end_matches(".service").to_string())
        .collect();
    let known = units(sh);
    let find = |n: &str| known.iter().find(|u| u.0 == n);
    match verb {
        "status" => {
            let list: Vec<String> = if names.is_empty() {
                vec![]
            } else {
                names.clone()
            };
            if list.is_empty() {
                out!(rt, io, "● {}\n    State: running\n    Units: {} loaded (incl. loaded aliases)\n     Jobs: 0 queued\n   Failed: 0 units\n    Since: {}; {}\n  systemd: 252\n   CGroup: /\n", sh.hostname(), 190 + known.len(), tm(sh.world.boot()).date(), ago(sh.world.uptime() as i64));
                return 0;
            }
            let mut st = 0;
            for n in list {
                let Some(u) = find(&n) else {
                    err!(rt, io, "Unit {n}.service could not be found.\n");
                    st = 4;
                    continue;
                };
                let p = sh
                    .world
                    .identity
                    .processes
                    .iter()
                    .find(|p| p.command.contains(&u.2))
                    .cloned();
                let since = sh.world.boot() + p.as_ref().map_or(8, |p| p.started as i64);
                let t = tm(since);
                let sysdir = if sh.world.identity.os.is_deb() {
                    "/lib/systemd/system"
                } else {
                    "/usr/lib/systemd/system"
                };
                let mut s = format!("● {}.service - {}\n     Loaded: loaded ({sysdir}/{}.service; enabled; preset: enabled)\n     Active: active (running) since {} {}-{:02}-{:02} {}; {}\n", u.0, u.1, u.0, t.day_name(), t.year, t.mon, t.day, t.clock().to_string() + " UTC", ago(util::now() - since));
                if let Some(p) = &p {
                    let comm = super::base::comm_of(&p.command);
                    s.push_str(&format!("   Main PID: {} ({comm})\n      Tasks: {} (limit: {})\n     Memory: {:.1}M\n        CPU: {:.3}s\n     CGroup: /system.slice/{}.service\n             └─{} \"{}\"\n", p.pid, 1 + p.pid % 5, sh.world.identity.mem_kib / 880, f64::from(p.rss_kib) / 1024.0, p.cpu_centis as f64 / 100.0, u.0, p.pid, p.command));
                }
                rt.out(io, s.as_bytes());
            }
            st
        }
        "is-active" => {
            let mut st = 0;
            for n in &names {
                if find(n).is_some() {
                    out!(rt, io, "active\n");
                } else {
                    out!(rt, io, "inactive\n");
                    st = 3;
                }
            }
            st
        }
        "is-enabled" => {
            let mut st = 0;
            for n in &names {
                if find(n).is_some() {
                    out!(rt, io, "enabled\n");
                } else {
                    err!(rt, io, "Failed to get unit file state for {n}.service: No such file or directory\n");
                    st = 1;
                }
            }
            st
        }
        "list-units" | "list-unit-files" => {
            out!(
                rt,
                io,
                "  UNIT{} LOAD   ACTIVE SUB     DESCRIPTION\n",
                " ".repeat(30)
            );
            for u in &known {
                out!(
                    rt,
                    io,
                    "  {:<34} loaded active running {}\n",
                    format!("{}.service", u.0),
                    u.1
                );
            }
            out!(rt, io, "\nLOAD   = Reflects whether the unit definition was properly loaded.\nACTIVE = The high-level unit activation state, i.e. generalization of SUB.\nSUB    = The low-level unit activation state, values depend on unit type.\n{} loaded units listed.\n", known.len());
            0
        }
        "daemon-reload" | "start" | "stop" | "restart" | "reload" | "enable" | "disable"
        | "mask" | "unmask" | "kill" | "try-restart" | "reload-or-restart" => {
            if names.is_empty() && verb != "daemon-reload" {
                err!(rt, io, "Too few arguments.\n");
                return 1;
            }
            if !root {
                let what = match verb {
                    "daemon-reload" => "reload daemon".to_string(),
                    v => format!("{v} {}.service", names[0]),
                };
                err!(rt, io, "Failed to {what}: Interactive authentication required.\nSee system logs and 'systemctl status {}.service' for details.\n", names.first().map_or("", |s| s.as_str()));
                return 1;
            }
            let mut st = 0;
            for n in &names {
                if find(n).is_none() && !matches!(verb, "mask" | "disable") {
                    err!(
                        rt,
                        io,
                        "Failed to {verb} {n}.service: Unit {n}.service not found.\n"
                    );
                    st = 5;
                } else if verb == "disable" && find(n).is_some() {
                    out!(
                        rt,
                        io,
                        "Removed \"/etc/systemd/system/multi-user.target.wants/{n}.service\".\n"
                    );
                } else if verb == "mask" {
                    out!(
                        rt,
                        io,
                        "Created symlink /etc/systemd/system/{n}.service → /dev/null.\n"
                    );
                }
            }
            st
        }
        other => {
            err!(rt, io, "Unknown command verb {other}.\n");
            1
        }
    }
}

pub(crate) fn iptables(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let c7 = sh.world.identity.os == Os::Centos7;
    let version = if c7 { "v1.4.21" } else { "v1.8.9 (nf_tables)" };
    if argv.iter().any(|a| a == "-V" || a == "--version") {
        out!(rt, io, "{} {version}\n", name_of(argv));
        return 0;
    }
    if !sh.is_root() {
        if c7 {
            err!(rt, io, "iptables {version}: can't initialize iptables table `filter': Permission denied (you must be root)\nPerhaps iptables or your kernel needs to be upgraded.\n");
        } else {
            err!(
                rt,
                io,
                "iptables {version}: Permission denied (you must be root)\n"
            );
        }
        return 4;
    }
    if argv.iter().any(|a| {
        a == "-L" || a.starts_with("-L") || a == "--list" || a.starts_with("-nL") || a == "-vnL"
    }) {
        out!(rt, io, "Chain INPUT (policy ACCEPT)\ntarget     prot opt source               destination         \n\nChain FORWARD (policy ACCEPT)\ntarget     prot opt source               destination         \n\nChain OUTPUT (policy ACCEPT)\ntarget     prot opt source               destination         \n");
    } else if argv.iter().any(|a| a == "-S" || a == "--list-rules") {
        out!(
            rt,
            io,
            "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n"
        );
    }
    0
}

/// sysctl, lsmod/modprobe/insmod (kmod), fdisk, mkfs, setenforce/getenforce.
pub(crate) fn admin_tool(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let cmd = name_of(argv);
    let root = sh.is_root();
    let id = &sh.world.identity;
    match cmd.as_str() {
        "sysctl" => {
            let keys: Vec<&String> = argv
                .iter()
                .skip(1)
                .filter(|a| !a.starts_with('-'))
                .collect();
            if keys.is_empty() {
                out!(rt, io, "kernel.hostname = {}\nkernel.osrelease = {}\nkernel.ostype = Linux\nkernel.pid_max = 4194304\nnet.ipv4.ip_forward = 0\nvm.overcommit_memory = 0\nvm.swappiness = 60\n", sh.hostname(), id.kernel_release);
                return 0;
            }
            let mut st = 0;
            for k in keys {
                if let Some((key, val)) = k.split_once('=') {
                    if !root {
                        err!(rt, io, "sysctl: permission denied on key \"{key}\"\n");
                        st = 1;
                    } else {
                        out!(rt, io, "{key} = {val}\n");
                    }
                } else {
                    let v = match k.as_str() {
                        "kernel.hostname" => sh.hostname(),
                        "kernel.osrelease" => id.kernel_release.clone(),
                        "net.ipv4.ip_forward" | "vm.overcommit_memory" => "0".into(),
                        "vm.swappiness" => "60".into(),
                        _ => {
                            err!(
                                rt,
                                io,
                                "sysctl: cannot stat /proc/sys/{}: No such file or directory\n",
                                k.replace('.', "/")
                            );
                            st = 255;
                            continue;
                        }
                    };
                    out!(rt, io, "{k} = {v}\n");
                }
            }
            st
        }
        "lsmod" => {
            out!(rt, io, "Module                  Size  Used by\nnf_tables             307200  0\nnfnetlink              20480  1 nf_tables\nvirtio_net             61440  0\nnet_failover           20480  1 virtio_net\nfailover               16384  1 net_failover\nvirtio_blk             20480  2\next4                  987136  1\nmbcache                16384  1 ext4\njbd2                  167936  1 ext4\n");
            0
        }
        "modprobe" | "insmod" | "rmmod" | "kmod" => {
            let m = argv
                .iter()
                .skip(1)
                .find(|a| !a.starts_with('-'))
                .cloned()
                .unwrap_or_default();
            if !root {
                err!(
                    rt,
                    io,
                    "{cmd}: ERROR: could not insert '{m}': Operation not permitted\n"
                );
            } else {
                err!(
                    rt,
                    io,
                    "{cmd}: FATAL: Module {m} not found in directory /lib/modules/{}\n",
                    id.kernel_release
                );
            }
            1
        }
        "fdisk" | "mkfs.ext4" => {
            let dev = format!("/dev/{}", id.disk_dev);
            if !root {
                err!(rt, io, "{cmd}: cannot open {dev}: Permission denied\n");
                return 1;
            }
            if argv.iter().any(|a| a == "-l") {
                let bytes = u64::from(id.disk_gib) << 30;
                out!(rt, io, "Disk {dev}: {} GiB, {bytes} bytes, {} sectors\nUnits: sectors of 1 * 512 = 512 bytes\nSector size (logical/physical): 512 bytes / 512 bytes\nI/O size (minimum/optimal): 512 bytes / 512 bytes\nDisklabel type: gpt\n", id.disk_gib, bytes / 512);
            }
            0
        }
        "setenforce" => {
            if !root {
                err!(
                    rt,
                    io,
                    "setenforce:  security_setenforce() failed:  Permission denied\n"
                );
                return 1;
            }
            0
        }
        "getenforce" => {
            out!(rt, io, "Enforcing\n");
            0
        }
        _ => 0,
    }
}

/// python3, perl (and python2 on CentOS 7): versions, and nothing run.
pub(crate) fn interpreter(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let cmd = name_of(argv);
    let os = sh.world.identity.os;
    let perl = cmd.starts_with("perl");
    if argv
        .iter()
        .any(|a| a == "-V" || a == "--version" || a == "-v")
    {
        if perl {
            out!(rt, io, "\nThis is perl 5, version 36, subversion 0 (v5.36.0) built for x86_64-linux-gnu-thread-multi\n\nCopyright 1987-2022, Larry Wall\n\nPerl may be copied only under the terms of either the Artistic License or the\nGNU General Public License, which may be found in the Perl 5 source kit.\n");
        } else {
            out!(rt, io, "Python {}\n", os.python_version());
        }
        return 0;
    }
    let inline = argv.iter().any(|a| a == "-c" || a == "-e" || a == "-E");
    if inline {
        // the code is not run; it fails on what the host lacks, quietly
        return 0;
    }
    if let Some(file) = argv.iter().skip(1).find(|a| !a.starts_with('-')) {
        if sh.read_path(rt, file, 1).is_err() {
            let abs = sh.abs(file);
            if perl {
                err!(
                    rt,
                    io,
                    "Can't open perl script \"{file}\": No such file or directory\n"
                );
            } else {
                err!(
                    rt,
                    io,
                    "{cmd}: can't open file '{abs}': [Errno 2] No such file or directory\n"
                );
            }
            return 2;
        }
        return 0;
    }
    let _ = io.stdin.take_all();
    0
}

/// apt, apt-get, dpkg, yum, dnf, rpm: no network to fetch from.
pub(crate) fn package_manager(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let cmd = name_of(argv);
    let id = &sh.world.identity;
    let root = sh.is_root();
    let verb = argv
        .iter()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .cloned()
        .unwrap_or_default();
    let pkgs: Vec<String> = argv
        .iter()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .skip(1)
        .cloned()
        .collect();
    if matches!(cmd.as_str(), "dpkg" | "rpm") {
        if argv.iter().any(|a| a == "-l" || a == "-qa") {
            if cmd == "dpkg" {
                out!(rt, io, "Desired=Unknown/Install/Remove/Purge/Hold\n| Status=Not/Inst/Conf-files/Unpacked/halF-conf/Half-inst/trig-aWait/Trig-pend\n|/ Err?=(none)/Reinst-required (Status,Err: uppercase=bad)\n||/ Name           Version         Architecture Description\n+++-==============-===============-============-=================================\nii  bash           {}     amd64        GNU Bourne Again SHell\nii  coreutils      9.1-1           amd64        GNU core utilities\nii  openssh-server 1:9.2p1-2       amd64        secure shell (SSH) server\n", id.os.bash_version().split('(').next().unwrap_or("5"));
            } else {
                out!(rt, io, "bash-5.1.8-9.el9.x86_64\ncoreutils-8.32-35.el9.x86_64\nopenssh-server-8.7p1-38.el9.x86_64\n");
            }
        }
        return 0;
    }
    let deb = id.os.is_deb();
    if verb.is_empty() {
        err!(rt, io, "{cmd}: no command given\n");
        return 1;
    }
    let modifying = matches!(
        verb.as_str(),
        "install"
            | "remove"
            | "purge"
            | "update"
            | "upgrade"
            | "dist-upgrade"
            | "autoremove"
            | "reinstall"
            | "erase"
            | "groupinstall"
            | "makecache"
    );
    if modifying && !root {
        if deb {
            err!(rt, io, "E: Could not open lock file /var/lib/dpkg/lock-frontend - open (13: Permission denied)\nE: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), are you root?\n");
            return 100;
        }
        if id.os == Os::Centos7 {
            err!(
                rt,
                io,
                "Loaded plugins: fastestmirror\nYou need to be root to perform this command.\n"
            );
        } else {
            err!(rt, io, "Error: This command has to be run with superuser privileges (under the root user on most systems).\n");
        }
        return 1;
    }
    if !modifying {
        return 0;
    }
    if deb {
        let (mirror, host) = if id.os.family() == Family::Ubuntu {
            ("http://archive.ubuntu.com/ubuntu", "archive.ubuntu.com")
        } else {
            ("http://deb.debian.org/debian", "deb.debian.org")
        };
        let c = id.os.codename();
        if verb == "update" {
            out!(rt, io, "Err:1 {mirror} {c} InRelease\n  Temporary failure resolving '{host}'\nErr:2 {mirror} {c}-updates InRelease\n  Temporary failure resolving '{host}'\nReading package lists... Done\nW: Failed to fetch {mirror}/dists/{c}/InRelease  Temporary failure resolving '{host}'\nW: Failed to fetch {mirror}/dists/{c}-updates/InRelease  Temporary failure resolving '{host}'\nW: Some index files failed to download. They have been ignored, or old ones used instead.\n");
            return 0;
        }
        out!(rt, io, "Reading package lists... Done\nBuilding dependency tree... Done\nReading state information... Done\n");
        for p in &pkgs {
            let installed = sh.which(p).is_some();
            if installed {
                out!(rt, io, "{p} is already the newest version.\n");
            } else if verb == "install" {
                err!(rt, io, "E: Unable to locate package {p}\n");
                return 100;
            }
        }
        out!(
            rt,
            io,
            "0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n"
        );
        0
    } else if id.os == Os::Centos7 {
        out!(rt, io, "Loaded plugins: fastestmirror\nDetermining fastest mirrors\nCould not retrieve mirrorlist http://mirrorlist.centos.org/?release=7&arch=x86_64&repo=os&infra=stock error was\n14: curl#6 - \"Could not resolve host: mirrorlist.centos.org; Unknown error\"\n\n\n One of the configured repositories failed (Unknown),\n and yum doesn't have enough cached data to continue.\n");
        1
    } else {
        err!(rt, io, "Errors during downloading metadata for repository 'baseos':\n  - Curl error (6): Couldn't resolve host name for https://mirrors.centos.org/metalink?repo=centos-baseos-9-stream&arch=x86_64 [Could not resolve host: mirrors.centos.org]\nError: Failed to download metadata for repo 'baseos': Cannot prepare internal mirrorlist: Curl error (6): Couldn't resolve host name for https://mirrors.centos.org/metalink?repo=centos-baseos-9-stream&arch=x86_64 [Could not resolve host: mirrors.centos.org]\n");
        1
    }
}

pub(crate) fn which(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let mut st = 0;
    let names: Vec<&String> = argv
        .iter()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if names.is_empty() {
        return 1;
    }
    for n in names {
        let found = if n.contains('/') {
            let abs = sh.abs(n);
            sh.fs().stat(&abs, true).is_ok().then(|| n.to_string())
        } else {
            sh.which(n)
        };
        match found {
            Some(p) => out!(rt, io, "{p}\n"),
            None => st = 1,
        }
    }
    st
}

pub(crate) fn whereis(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    for n in argv.iter().skip(1).filter(|a| !a.starts_with('-')) {
        let mut found = Vec::new();
        for dir in ["/usr/bin", "/usr/sbin", "/usr/lib", "/etc"] {
            let p = format!("{dir}/{n}");
            if sh.fs().stat(&p, true).is_ok() {
                found.push(p);
            }
        }
        if found
            .iter()
            .any(|p| p.starts_with("/usr/bin") || p.starts_with("/usr/sbin"))
        {
            found.push(format!("/usr/share/man/man1/{n}.1.gz"));
        }
        if found.is_empty() {
            out!(rt, io, "{n}:\n");
        } else {
            out!(rt, io, "{n}: {}\n", found.join(" "));
        }
    }
    0
}
