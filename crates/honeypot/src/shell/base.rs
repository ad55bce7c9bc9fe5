//! The base filesystem and the host's derived facts (memory, mounts), built once per
//! [`World`](super::World) from the identity.
//!
//! Every text here is written for this project from what such a host holds (file formats,
//! the distributions' standard accounts and metadata); none is taken from another
//! honeypot's fake filesystem. Times are spread plausibly: packages from around the
//! release, configuration from the install, logs from minutes ago. Binaries are entries
//! with a size and a program name; their bytes are made only when read.

use super::fs::{Base, Data, Dev, DevKind, Dynamic, Kind, Node};
use super::identity::{cpu_details, Family, Identity, Os};
use super::util::{fnv, hex, tm, unix_of};
use fastrand::Rng;
use std::sync::Arc;

/// A mounted filesystem, for `/proc/mounts`, `mount` and `df`.
#[derive(Debug, Clone)]
pub(crate) struct Mount {
    pub dev: String,
    pub point: String,
    pub fstype: String,
    pub opts: String,
    /// 1K blocks, used, available (0 for the pseudo filesystems df skips).
    pub blocks: u64,
    pub used: u64,
}

/// Memory as `/proc/meminfo`, `free` and `top` show it (kB).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mem {
    pub total: u64,
    pub free: u64,
    pub available: u64,
    pub buffers: u64,
    pub cached: u64,
    pub sreclaimable: u64,
    pub shmem: u64,
    pub swap_total: u64,
    pub swap_free: u64,
}

impl Mem {
    pub fn buff_cache(&self) -> u64 {
        self.buffers + self.cached + self.sreclaimable
    }
    pub fn used(&self) -> u64 {
        self.total.saturating_sub(self.free + self.buff_cache())
    }
}

/// What the commands read besides the files.
#[derive(Debug)]
pub(crate) struct Facts {
    pub mem: Mem,
    pub mounts: Vec<Mount>,
    pub root_uuid: String,
    /// Load averages at rest.
    pub load: [f64; 3],
    /// The first PID a session's processes get (they count up from there).
    pub next_pid: u32,
}

/// The binaries: (name, directory, size in bytes). Sizes are those of typical builds.
const BINS: &[(&str, &str, u32)] = &[
    ("bash", "/usr/bin", 1_265_648),
    ("dash", "/usr/bin", 125_560),
    ("ls", "/usr/bin", 151_344),
    ("cat", "/usr/bin", 44_016),
    ("cp", "/usr/bin", 151_152),
    ("mv", "/usr/bin", 147_152),
    ("rm", "/usr/bin", 72_752),
    ("mkdir", "/usr/bin", 88_912),
    ("rmdir", "/usr/bin", 48_304),
    ("touch", "/usr/bin", 97_136),
    ("chmod", "/usr/bin", 64_448),
    ("chown", "/usr/bin", 72_672),
    ("chgrp", "/usr/bin", 68_576),
    ("ln", "/usr/bin", 72_752),
    ("head", "/usr/bin", 48_400),
    ("tail", "/usr/bin", 64_784),
    ("wc", "/usr/bin", 48_496),
    ("grep", "/usr/bin", 203_152),
    ("sort", "/usr/bin", 121_264),
    ("uniq", "/usr/bin", 48_464),
    ("cut", "/usr/bin", 48_496),
    ("tr", "/usr/bin", 52_560),
    ("sed", "/usr/bin", 122_224),
    ("whoami", "/usr/bin", 39_440),
    ("id", "/usr/bin", 48_464),
    ("uname", "/usr/bin", 35_280),
    ("hostname", "/usr/bin", 22_760),
    ("uptime", "/usr/bin", 14_480),
    ("w", "/usr/bin", 22_960),
    ("who", "/usr/bin", 52_584),
    ("last", "/usr/bin", 35_096),
    ("free", "/usr/bin", 22_936),
    ("df", "/usr/bin", 101_560),
    ("ps", "/usr/bin", 137_688),
    ("top", "/usr/bin", 130_376),
    ("kill", "/usr/bin", 31_112),
    ("pgrep", "/usr/bin", 31_344),
    ("pkill", "/usr/bin", 31_344),
    ("pidof", "/usr/bin", 22_920),
    ("killall", "/usr/bin", 31_280),
    ("nproc", "/usr/bin", 35_208),
    ("lscpu", "/usr/bin", 104_880),
    ("ss", "/usr/bin", 196_824),
    ("netstat", "/usr/bin", 158_880),
    ("env", "/usr/bin", 48_536),
    ("echo", "/usr/bin", 35_120),
    ("printf", "/usr/bin", 51_632),
    ("true", "/usr/bin", 27_072),
    ("false", "/usr/bin", 27_072),
    ("sleep", "/usr/bin", 35_200),
    ("nohup", "/usr/bin", 35_144),
    ("base64", "/usr/bin", 39_440),
    ("md5sum", "/usr/bin", 43_632),
    ("sha1sum", "/usr/bin", 43_632),
    ("sha256sum", "/usr/bin", 56_016),
    ("chattr", "/usr/bin", 14_520),
    ("lsattr", "/usr/bin", 14_504),
    ("dmesg", "/usr/bin", 80_224),
    ("mount", "/usr/bin", 59_704),
    ("umount", "/usr/bin", 39_128),
    ("lsblk", "/usr/bin", 149_848),
    ("yes", "/usr/bin", 31_176),
    ("perl", "/usr/bin", 3_926_232),
    ("wget", "/usr/bin", 523_264),
    ("curl", "/usr/bin", 260_328),
    ("tftp", "/usr/bin", 43_424),
    ("nc", "/usr/bin", 43_456),
    ("scp", "/usr/bin", 117_256),
    ("ssh", "/usr/bin", 1_142_624),
    ("sftp", "/usr/bin", 142_632),
    ("ssh-keygen", "/usr/bin", 473_064),
    ("sudo", "/usr/bin", 281_624),
    ("su", "/usr/bin", 72_000),
    ("passwd", "/usr/bin", 68_248),
    ("crontab", "/usr/bin", 43_568),
    ("systemctl", "/usr/bin", 1_321_496),
    ("journalctl", "/usr/bin", 84_328),
    ("busybox", "/usr/bin", 2_191_928),
    ("date", "/usr/bin", 109_616),
    ("stat", "/usr/bin", 88_632),
    ("file", "/usr/bin", 27_064),
    ("find", "/usr/bin", 224_848),
    ("xargs", "/usr/bin", 64_352),
    ("tee", "/usr/bin", 39_424),
    ("dd", "/usr/bin", 76_816),
    ("od", "/usr/bin", 72_752),
    ("whereis", "/usr/bin", 27_432),
    ("tar", "/usr/bin", 520_520),
    ("gzip", "/usr/bin", 98_136),
    ("nano", "/usr/bin", 283_328),
    ("vim.tiny", "/usr/bin", 1_727_464),
    ("less", "/usr/bin", 195_360),
    ("more", "/usr/bin", 59_688),
    ("clear", "/usr/bin", 14_568),
    ("mktemp", "/usr/bin", 35_280),
    ("readlink", "/usr/bin", 43_504),
    ("basename", "/usr/bin", 35_208),
    ("dirname", "/usr/bin", 35_208),
    ("realpath", "/usr/bin", 43_624),
    ("seq", "/usr/bin", 48_464),
    ("expr", "/usr/bin", 105_072),
    ("test", "/usr/bin", 43_512),
    ("[", "/usr/bin", 51_632),
    ("timeout", "/usr/bin", 39_496),
    ("getconf", "/usr/bin", 35_368),
    ("arch", "/usr/bin", 35_280),
    ("groups", "/usr/bin", 35_280),
    ("users", "/usr/bin", 35_280),
    ("ping", "/usr/bin", 89_768),
    ("pwd", "/usr/bin", 39_392),
    ("gpasswd", "/usr/bin", 88_496),
    ("chfn", "/usr/bin", 62_672),
    ("newgrp", "/usr/bin", 40_496),
    ("mesg", "/usr/bin", 18_744),
    ("ftpget", "/usr/bin", 43_216),
    ("ncat", "/usr/bin", 456_896),
    ("sshd", "/usr/sbin", 1_273_720),
    ("cron", "/usr/sbin", 56_128),
    ("rsyslogd", "/usr/sbin", 760_544),
    ("agetty", "/usr/sbin", 68_176),
    ("ifconfig", "/usr/sbin", 89_096),
    ("route", "/usr/sbin", 68_472),
    ("iptables", "/usr/sbin", 247_864),
    ("ip6tables", "/usr/sbin", 247_864),
    ("useradd", "/usr/sbin", 147_160),
    ("userdel", "/usr/sbin", 96_936),
    ("usermod", "/usr/sbin", 130_712),
    ("groupadd", "/usr/sbin", 88_584),
    ("chpasswd", "/usr/sbin", 59_976),
    ("sysctl", "/usr/sbin", 27_432),
    ("fdisk", "/usr/sbin", 151_200),
    ("mkfs.ext4", "/usr/sbin", 145_800),
    ("kmod", "/usr/bin", 170_760),
    ("ip", "/usr/sbin", 756_744),
    ("visudo", "/usr/sbin", 252_304),
];

/// Where a distribution's release came out.
fn released(os: Os) -> i64 {
    match os {
        Os::Debian11 => unix_of(2021, 8, 14, 0, 0, 0),
        Os::Debian12 => unix_of(2023, 6, 10, 0, 0, 0),
        Os::Ubuntu2004 => unix_of(2020, 4, 23, 0, 0, 0),
        Os::Ubuntu2204 => unix_of(2022, 4, 21, 0, 0, 0),
        Os::Ubuntu2404 => unix_of(2024, 4, 25, 0, 0, 0),
        Os::Centos7 => unix_of(2020, 11, 12, 0, 0, 0),
        Os::CentosStream9 => unix_of(2021, 12, 3, 0, 0, 0),
    }
}

struct B<'a> {
    base: Base,
    id: &'a Identity,
    r: Rng,
    released: i64,
    installed: i64,
    now: i64,
}

impl B<'_> {
    fn node(&mut self, path: &str, kind: Kind, mode: u16, uid: u32, gid: u32, t: i64) {
        self.base.insert(
            path,
            Node {
                kind,
                mode,
                uid,
                gid,
                mtime: t,
            },
        );
    }
    fn dir(&mut self, path: &str, mode: u16, uid: u32, gid: u32) {
        let t = self.t_cfg();
        self.node(path, Kind::Dir, mode, uid, gid, t);
    }
    fn text(
        &mut self,
        path: &str,
        text: impl Into<Vec<u8>>,
        mode: u16,
        uid: u32,
        gid: u32,
        t: i64,
    ) {
        let bytes: Vec<u8> = text.into();
        self.node(
            path,
            Kind::File(Data::Shared(Arc::from(bytes))),
            mode,
            uid,
            gid,
            t,
        );
    }
    /// A root-owned 0644 configuration file from the install.
    fn cfg(&mut self, path: &str, text: impl Into<Vec<u8>>) {
        let t = self.t_cfg();
        self.text(path, text, 0o644, 0, 0, t);
    }
    fn link(&mut self, path: &str, target: &str) {
        let t = self.t_pkg();
        self.node(path, Kind::Link(target.into()), 0o777, 0, 0, t);
    }
    fn dev(&mut self, path: &str, dev: Dev, mode: u16, gid: u32) {
        let t = self.now - self.id.uptime_base_secs as i64 + self.r.i64(2..30);
        self.node(path, Kind::Dev(dev), mode, 0, gid, t);
    }
    /// Package time: around the release, before now.
    /// A root-owned executable (0755) at `path` that runs `prog` as installed by a package:
    /// its time is the next package time.
    fn bin(&mut self, path: &str, prog: &'static str, size: u32) {
        let t = self.t_pkg();
        self.node(
            path,
            Kind::File(Data::Binary { prog, size }),
            0o755,
            0,
            0,
            t,
        );
    }

    fn t_pkg(&mut self) -> i64 {
        let span = (self.installed - self.released).max(86_400);
        self.released - 40 * 86_400 + self.r.i64(0..span + 40 * 86_400)
    }
    /// Configuration time: the install, give or take a day.
    fn t_cfg(&mut self) -> i64 {
        self.installed + self.r.i64(0..86_400)
    }
    /// Since the install.
    fn t_since_install(&mut self) -> i64 {
        let span = (self.now - self.installed).max(3600);
        self.installed + self.r.i64(0..span)
    }
    /// Minutes ago.
    fn t_recent(&mut self) -> i64 {
        self.now - self.r.i64(30..4 * 3600)
    }
    fn gid_of(&self, name: &str) -> u32 {
        self.id
            .groups
            .iter()
            .find(|g| g.name == name)
            .map_or(0, |g| g.gid)
    }
}

/// Builds the base tree and the facts from an identity, as of `now`.
pub(crate) fn build(id: &Identity, now: i64) -> (Base, Facts) {
    let rel = released(id.os);
    let installed = id.installed.max(rel + 86_400).min(now - 86_400);
    let mut b = B {
        base: Base::default(),
        id,
        r: Rng::with_seed(id.seed ^ 0x5eed_f00d),
        released: rel,
        installed,
        now,
    };
    let os = id.os;
    let deb = os.is_deb();
    let boot = now - id.uptime_base_secs as i64;

    // the top level, merged /usr
    b.dir("/", 0o755, 0, 0);
    for d in [
        "boot", "dev", "etc", "home", "media", "mnt", "opt", "proc", "run", "srv", "sys", "usr",
        "var",
    ] {
        b.dir(&format!("/{d}"), 0o755, 0, 0);
    }
    b.dir("/root", if deb { 0o700 } else { 0o550 }, 0, 0);
    b.dir("/tmp", 0o1777, 0, 0);
    if deb {
        b.dir("/lost+found", 0o700, 0, 0);
    }
    b.link("/bin", "usr/bin");
    b.link("/sbin", "usr/sbin");
    b.link("/lib", "usr/lib");
    b.link("/lib64", "usr/lib64");
    if os.family() == Family::Ubuntu {
        b.dir("/snap", 0o755, 0, 0);
        b.link("/lib32", "usr/lib32");
        b.link("/libx32", "usr/libx32");
    }
    for d in [
        "bin", "sbin", "lib", "lib64", "include", "share", "src", "libexec", "games",
    ] {
        b.dir(&format!("/usr/{d}"), 0o755, 0, 0);
    }
    for d in [
        "bin", "sbin", "lib", "share", "src", "include", "etc", "games",
    ] {
        b.dir(
            &format!("/usr/local/{d}"),
            if d == "src" && deb { 0o2775 } else { 0o755 },
            0,
            if d == "src" && deb { 50 } else { 0 },
        );
    }
    binaries(&mut b);
    etc(&mut b);
    homes(&mut b);
    let facts = proc_sys_dev(&mut b, boot);
    var_run_tmp(&mut b, boot);
    boot_lib(&mut b);
    (b.base, facts)
}

fn binaries(b: &mut B) {
    let os = b.id.os;
    for &(name, dir, size) in BINS {
        // a few are not where Debian keeps them on CentOS, and vice versa: keep it simple
        let path = format!("{dir}/{name}");
        let (mode, gid) = match name {
            "sudo" | "su" | "passwd" | "gpasswd" | "chfn" | "newgrp" | "mount" | "umount" => {
                (0o4755, 0)
            }
            "crontab" => (0o2755, b.gid_of("crontab")),
            _ => (0o755, 0),
        };
        let jitter = (fnv(&[name.as_bytes(), &b.id.seed.to_le_bytes()]) % 4096) as u32;
        let size = size + jitter - jitter % 8;
        let t = b.t_pkg();
        b.node(
            &path,
            Kind::File(Data::Binary { prog: name, size }),
            mode,
            0,
            gid,
            t,
        );
    }
    // the distribution's links
    b.link("/usr/bin/sh", if os.is_deb() { "dash" } else { "bash" });
    b.link(
        "/usr/bin/python3",
        &format!("python{}", minor(os.python_version())),
    );
    let py = format!("/usr/bin/python{}", minor(os.python_version()));
    b.bin(&py, "python3", 6_831_736);
    if os == Os::Centos7 {
        b.link("/usr/bin/python", "python2");
        b.link("/usr/bin/python2", "python2.7");
    }
    b.link(
        "/usr/bin/awk",
        if os.is_deb() {
            "/etc/alternatives/awk"
        } else {
            "gawk"
        },
    );
    let awk_bin = if os.is_deb() {
        "/usr/bin/mawk"
    } else {
        "/usr/bin/gawk"
    };
    b.bin(awk_bin, "awk", 162_320);
    b.link(
        "/usr/bin/vi",
        if os.is_deb() {
            "/etc/alternatives/vi"
        } else {
            "vim.tiny"
        },
    );
    b.link("/usr/bin/pager", "/etc/alternatives/pager");
    b.link("/usr/bin/gunzip", "gzip");
    b.link("/usr/bin/zcat", "gzip");
    b.link("/usr/bin/egrep", "grep");
    b.link("/usr/bin/fgrep", "grep");
    b.link("/usr/bin/netcat", "nc");
    b.link("/usr/bin/rbash", "bash");
    b.link(
        "/usr/bin/which",
        if os.is_deb() {
            "/etc/alternatives/which"
        } else {
            "/usr/bin/which.real"
        },
    );
    let t = b.t_pkg();
    let which_bin = if os.is_deb() {
        "/usr/bin/which.debianutils"
    } else {
        "/usr/bin/which.real"
    };
    b.node(
        which_bin,
        Kind::File(Data::Binary {
            prog: "which",
            size: 27_400,
        }),
        0o755,
        0,
        0,
        t,
    );
    b.link("/usr/bin/lsmod", "kmod");
    b.link("/usr/sbin/modprobe", "../bin/kmod");
    b.link("/usr/sbin/insmod", "../bin/kmod");
    b.link("/usr/sbin/reboot", "/bin/systemctl");
    b.link("/usr/sbin/shutdown", "/bin/systemctl");
    b.link("/usr/sbin/halt", "/bin/systemctl");
    b.link("/usr/sbin/poweroff", "/bin/systemctl");
    b.link("/usr/sbin/init", &format!("{}/systemd", os.systemd_dir()));
    b.link("/usr/sbin/iptables-save", "iptables");
    b.link("/usr/sbin/ifup", "ifconfig");
    b.link("/usr/bin/ifconfig", "/usr/sbin/ifconfig");
    b.link("/usr/bin/ip", "/usr/sbin/ip");
    b.link("/usr/sbin/killall5", "/usr/bin/pidof");
    // package managers
    if os.is_deb() {
        for (n, s) in [
            ("apt", 18_824u32),
            ("apt-get", 27_112),
            ("dpkg", 318_688),
            ("apt-cache", 84_800),
        ] {
            b.bin(&format!("/usr/bin/{n}"), "apt", s);
        }
        b.bin("/usr/sbin/service", "service", 9_264);
    } else {
        for (n, s) in [("yum", 801u32), ("dnf", 1_024), ("rpm", 20_320)] {
            b.bin(&format!("/usr/bin/{n}"), "yum", s);
        }
        b.bin("/usr/sbin/service", "service", 3_392);
        for n in ["setenforce", "getenforce"] {
            b.bin(&format!("/usr/sbin/{n}"), "selinux", 14_472);
        }
    }
    if os.family() == Family::Ubuntu {
        b.script(
            "/usr/sbin/ufw",
            "#!/usr/bin/python3\n#\n# ufw: front end for Linux firewalling\n#\nimport sys\n",
        );
        b.link("/usr/bin/snap", "/usr/lib/snapd/snap");
    }
    for d in ["/usr/lib/systemd", os.systemd_dir()] {
        for n in [
            "systemd",
            "systemd-journald",
            "systemd-udevd",
            "systemd-logind",
            "systemd-timesyncd",
            "systemd-networkd",
            "systemd-resolved",
        ] {
            b.bin(
                &format!("{d}/{n}"),
                "systemd",
                96_000 + n.len() as u32 * 1_000,
            );
        }
    }
    for n in [
        "libc.so.6",
        "libm.so.6",
        "libpthread.so.0",
        "libssl.so.3",
        "libcrypto.so.3",
        "libz.so.1.2.13",
    ] {
        let t = b.t_pkg();
        let dir = if os.is_deb() {
            "/usr/lib/x86_64-linux-gnu"
        } else {
            "/usr/lib64"
        };
        b.node(
            &format!("{dir}/{n}"),
            Kind::File(Data::Binary {
                prog: "lib",
                size: 1_922_136 / (n.len() as u32 % 5 + 1),
            }),
            0o644,
            0,
            0,
            t,
        );
    }
    let t = b.t_pkg();
    let ld = if os.is_deb() {
        "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
    } else {
        "/usr/lib64/ld-linux-x86-64.so.2"
    };
    b.node(
        ld,
        Kind::File(Data::Binary {
            prog: "ld.so",
            size: 210_968,
        }),
        0o755,
        0,
        0,
        t,
    );
    if os.is_deb() {
        b.link(
            "/usr/lib64/ld-linux-x86-64.so.2",
            "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
        );
        b.link("/etc/alternatives/awk", "/usr/bin/mawk");
        b.link("/etc/alternatives/vi", "/usr/bin/vim.tiny");
        b.link("/etc/alternatives/pager", "/usr/bin/less");
        b.link("/etc/alternatives/which", "/usr/bin/which.debianutils");
        b.link("/etc/alternatives/nc", "/bin/nc.openbsd");
    }
}

fn minor(v: &str) -> String {
    v.splitn(3, '.').take(2).collect::<Vec<_>>().join(".")
}

impl B<'_> {
    /// A root-owned executable shell script.
    fn script(&mut self, path: &str, text: &str) {
        let t = self.t_pkg();
        self.text(path, text, 0o755, 0, 0, t);
    }
}

fn etc(b: &mut B) {
    let id = b.id;
    let os = id.os;
    let deb = os.is_deb();
    let mut passwd = String::new();
    let mut shadow = String::new();
    for u in &id.users {
        passwd.push_str(&format!(
            "{}:x:{}:{}:{}:{}:{}\n",
            u.name, u.uid, u.gid, u.gecos, u.home, u.shell
        ));
        shadow.push_str(&format!(
            "{}:{}:{}:0:99999:7:::\n",
            u.name, u.password_hash, u.last_change
        ));
    }
    let mut group = String::new();
    let mut gshadow = String::new();
    for g in &id.groups {
        group.push_str(&format!("{}:x:{}:{}\n", g.name, g.gid, g.members.join(",")));
        gshadow.push_str(&format!("{}:*::{}\n", g.name, g.members.join(",")));
    }
    let t = b.t_since_install();
    b.text("/etc/passwd", passwd.clone(), 0o644, 0, 0, t);
    b.text("/etc/passwd-", passwd, 0o644, 0, 0, t - 60);
    let (smode, sgid) = if deb {
        (0o640, b.gid_of("shadow"))
    } else {
        (0o000, 0)
    };
    b.text("/etc/shadow", shadow.clone(), smode, 0, sgid, t);
    b.text("/etc/shadow-", shadow, smode, 0, sgid, t - 60);
    b.text("/etc/group", group, 0o644, 0, 0, t);
    b.text("/etc/gshadow", gshadow, smode, 0, sgid, t);
    b.cfg("/etc/hostname", format!("{}\n", id.hostname));
    let ip = id.primary().map(|i| i.ipv4.clone()).unwrap_or_default();
    let fq = id.fqdn();
    let names = if fq == id.hostname {
        id.hostname.clone()
    } else {
        format!("{fq}\t{}", id.hostname)
    };
    let hosts = if deb {
        format!("127.0.0.1\tlocalhost\n127.0.1.1\t{names}\n{ip}\t{names}\n\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n")
    } else {
        format!("127.0.0.1   localhost localhost.localdomain localhost4 localhost4.localdomain4\n::1         localhost localhost.localdomain localhost6 localhost6.localdomain6\n{ip}   {}\n", names.replace('\t', " "))
    };
    b.cfg("/etc/hosts", hosts);
    let pretty = &id.os_pretty_name;
    match os.family() {
        Family::Debian => {
            b.cfg(
                "/etc/issue",
                format!("Debian GNU/Linux {} \\n \\l\n\n", os.version_id()),
            );
            b.cfg(
                "/etc/issue.net",
                format!("Debian GNU/Linux {}\n", os.version_id()),
            );
            let point = if os == Os::Debian12 {
                format!("12.{}", 4 + b.r.u32(..6))
            } else {
                format!("11.{}", 7 + b.r.u32(..4))
            };
            b.cfg("/etc/debian_version", format!("{point}\n"));
        }
        Family::Ubuntu => {
            b.cfg("/etc/issue", format!("{pretty} \\n \\l\n\n"));
            b.cfg("/etc/issue.net", format!("{pretty}\n"));
            b.cfg(
                "/etc/debian_version",
                match os {
                    Os::Ubuntu2004 => "bullseye/sid\n",
                    Os::Ubuntu2204 => "bookworm/sid\n",
                    _ => "trixie/sid\n",
                },
            );
            b.cfg("/etc/lsb-release", format!(
                "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE={}\nDISTRIB_CODENAME={}\nDISTRIB_DESCRIPTION=\"{pretty}\"\n",
                os.version_id(),
                os.codename()
            ));
        }
        Family::Rhel => {
            b.cfg("/etc/issue", "\\S\nKernel \\r on an \\m\n\n");
            let rel = if os == Os::Centos7 {
                "CentOS Linux release 7.9.2009 (Core)\n"
            } else {
                "CentOS Stream release 9\n"
            };
            b.cfg("/etc/centos-release", rel);
            b.link("/etc/redhat-release", "centos-release");
            b.link("/etc/system-release", "centos-release");
        }
    }
    b.cfg("/usr/lib/os-release", os_release(os, pretty));
    b.link("/etc/os-release", "../usr/lib/os-release");
    // name resolution
    let mut resolv = String::new();
    if os.family() == Family::Ubuntu {
        resolv.push_str("# managed by systemd-resolved; edits here are lost\n");
    }
    for ns in &id.nameservers {
        resolv.push_str(&format!("nameserver {ns}\n"));
    }
    if os.family() == Family::Ubuntu {
        resolv.push_str("options edns0 trust-ad\n");
    }
    if !id.domain.is_empty() {
        resolv.push_str(&format!("search {}\n", id.domain));
    } else if os.family() == Family::Ubuntu {
        resolv.push_str("search .\n");
    }
    if os.family() == Family::Ubuntu {
        b.cfg("/run/systemd/resolve/stub-resolv.conf", resolv);
        b.link(
            "/etc/resolv.conf",
            "../run/systemd/resolve/stub-resolv.conf",
        );
    } else {
        b.cfg("/etc/resolv.conf", resolv);
    }
    let uuid = uuid(&mut b.r);
    let efi = format!("{:04X}-{:04X}", b.r.u16(..), b.r.u16(..));
    let fstab = if deb {
        format!("# /etc/fstab: static file system information\nUUID={uuid}\t/\text4\tdiscard,errors=remount-ro\t0 1\nUUID={efi}\t/boot/efi\tvfat\tumask=0077\t0 1\n")
    } else {
        let vg = if os == Os::Centos7 { "centos" } else { "cs" };
        format!("\n#\n# /etc/fstab\n# Created by anaconda\n#\n/dev/mapper/{vg}-root     /                       xfs     defaults        0 0\nUUID={uuid} /boot                   xfs     defaults        0 0\n/dev/mapper/{vg}-swap     none                    swap    defaults        0 0\n")
    };
    b.cfg("/etc/fstab", fstab);
    b.cfg("/etc/shells", if deb {
        "# /etc/shells: valid login shells\n/bin/sh\n/usr/bin/sh\n/bin/bash\n/usr/bin/bash\n/bin/rbash\n/usr/bin/rbash\n/bin/dash\n/usr/bin/dash\n"
    } else {
        "/bin/sh\n/bin/bash\n/usr/bin/sh\n/usr/bin/bash\n"
    });
    b.cfg("/etc/timezone", "Etc/UTC\n");
    b.link("/etc/localtime", "/usr/share/zoneinfo/Etc/UTC");
    let mid = hex(&(0..16).map(|_| b.r.u8(..)).collect::<Vec<u8>>());
    b.text(
        "/etc/machine-id",
        format!("{mid}\n"),
        0o444,
        0,
        0,
        b.installed,
    );
    b.cfg("/etc/motd", "");
    b.cfg("/etc/environment", if os.family() == Family::Ubuntu {
        "PATH=\"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/games:/usr/local/games:/snap/bin\"\n"
    } else {
        ""
    });
    let admin_group = if deb { "%sudo" } else { "%wheel" };
    let t = b.t_cfg();
    b.text(
        "/etc/sudoers",
        format!("#\n# Edit with visudo.\n#\nDefaults\tenv_reset\nDefaults\tmail_badpass\nDefaults\tsecure_path=\"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"\nDefaults\tuse_pty\n\nroot\tALL=(ALL:ALL) ALL\n{admin_group}\tALL=(ALL:ALL) ALL\n\n@includedir /etc/sudoers.d\n"),
        0o440,
        0,
        0,
        t,
    );
    b.dir("/etc/sudoers.d", 0o750, 0, 0);
    let m = b.r.u32(1..59);
    b.cfg("/etc/crontab", format!(
        "SHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin\n\n# min hour day month weekday user command\n{m} *\t* * *\troot\tcd / && run-parts --report /etc/cron.hourly\n{} 6\t* * *\troot\ttest -x /usr/sbin/anacron || {{ cd / && run-parts --report /etc/cron.daily; }}\n{} 6\t* * 7\troot\ttest -x /usr/sbin/anacron || {{ cd / && run-parts --report /etc/cron.weekly; }}\n{} 6\t1 * *\troot\ttest -x /usr/sbin/anacron || {{ cd / && run-parts --report /etc/cron.monthly; }}\n",
        (m + 8) % 60,
        (m + 30) % 60,
        (m + 35) % 60
    ));
    for d in [
        "cron.d",
        "cron.daily",
        "cron.hourly",
        "cron.weekly",
        "cron.monthly",
    ] {
        b.dir(&format!("/etc/{d}"), 0o755, 0, 0);
    }
    b.script("/etc/cron.daily/logrotate", "#!/bin/sh\n# rotate the logs once a day\n[ -x /usr/sbin/logrotate ] || exit 0\n/usr/sbin/logrotate /etc/logrotate.conf\n");
    if deb {
        b.script(
            "/etc/cron.daily/dpkg",
            "#!/bin/sh\n# back up the package database\n[ -d /var/backups ] || exit 0\n",
        );
        b.script(
            "/etc/cron.daily/apt-compat",
            "#!/bin/sh\n# apt's daily jobs run from a systemd timer now\nexit 0\n",
        );
    }
    b.cfg("/etc/cron.d/e2scrub_all", "30 3 * * 0 root test -e /run/systemd/system || SERVICE_MODE=1 /usr/lib/x86_64-linux-gnu/e2fsprogs/e2scrub_all_cron\n");
    // ssh
    b.dir("/etc/ssh", 0o755, 0, 0);
    b.cfg("/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\n\n#Port 22\n#PermitRootLogin prohibit-password\nPasswordAuthentication yes\nKbdInteractiveAuthentication no\nUsePAM yes\nX11Forwarding yes\nPrintMotd no\nAcceptEnv LANG LC_*\nSubsystem\tsftp\t/usr/lib/openssh/sftp-server\n");
    b.dir("/etc/ssh/sshd_config.d", 0o755, 0, 0);
    b.cfg(
        "/etc/ssh/ssh_config",
        "Host *\n    SendEnv LANG LC_*\n    HashKnownHosts yes\n    GSSAPIAuthentication yes\n",
    );
    let host = id.hostname.clone();
    for (kind, alg, len) in [
        ("ed25519", "ssh-ed25519", 51usize),
        ("ecdsa", "ecdsa-sha2-nistp256", 136),
        ("rsa", "ssh-rsa", 540),
    ] {
        let key = b64(&mut b.r, len);
        let t = b.installed + 120;
        b.text(
            &format!("/etc/ssh/ssh_host_{kind}_key.pub"),
            format!("{alg} {key} root@{host}\n"),
            0o644,
            0,
            0,
            t,
        );
        let private = b64(&mut b.r, len * 3);
        let body: Vec<String> = private
            .as_bytes()
            .chunks(70)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        b.text(
            &format!("/etc/ssh/ssh_host_{kind}_key"),
            format!(
                "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
                body.join("\n")
            ),
            0o600,
            0,
            0,
            t,
        );
    }
    // shells' startup files
    b.cfg("/etc/profile", "# system-wide login shell setup\nif [ \"$(id -u)\" -eq 0 ]; then\n  PATH=\"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"\nelse\n  PATH=\"/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games\"\nfi\nexport PATH\n\nfor i in /etc/profile.d/*.sh; do\n  [ -r \"$i\" ] && . \"$i\"\ndone\nunset i\n");
    b.dir("/etc/profile.d", 0o755, 0, 0);
    b.cfg(if deb { "/etc/bash.bashrc" } else { "/etc/bashrc" }, "# system-wide bashrc for interactive shells\n[ -z \"$PS1\" ] && return\nshopt -s checkwinsize\n");
    b.cfg("/etc/skel/.bashrc", bashrc());
    b.cfg("/etc/skel/.profile", profile());
    b.cfg("/etc/skel/.bash_logout", bash_logout());
    b.cfg(
        "/etc/sysctl.conf",
        "# kernel parameters, see sysctl.d(5)\nnet.ipv4.ip_forward=0\nkernel.kptr_restrict=1\n",
    );
    b.cfg("/etc/login.defs", "MAIL_DIR        /var/mail\nPASS_MAX_DAYS\t99999\nPASS_MIN_DAYS\t0\nPASS_WARN_AGE\t7\nUID_MIN\t\t\t 1000\nUID_MAX\t\t\t60000\nUMASK\t\t022\nENCRYPT_METHOD SHA512\n");
    b.cfg("/etc/nsswitch.conf", "passwd:         files systemd\ngroup:          files systemd\nshadow:         files\nhosts:          files dns\nnetworks:       files\nprotocols:      db files\nservices:       db files\n");
    // network configuration
    if let Some(i) = id.primary() {
        match os.family() {
            Family::Debian => b.cfg("/etc/network/interfaces", format!("source /etc/network/interfaces.d/*\n\nauto lo\niface lo inet loopback\n\nallow-hotplug {0}\niface {0} inet dhcp\n", i.name)),
            Family::Ubuntu => {
                b.dir("/etc/netplan", 0o755, 0, 0);
                let t = b.t_cfg();
                b.text("/etc/netplan/50-cloud-init.yaml", format!("network:\n    version: 2\n    ethernets:\n        {}:\n            dhcp4: true\n            match:\n                macaddress: {}\n            set-name: {}\n", i.name, i.mac, i.name), 0o600, 0, 0, t);
            }
            Family::Rhel => b.cfg(&format!("/etc/sysconfig/network-scripts/ifcfg-{}", i.name), format!("TYPE=Ethernet\nBOOTPROTO=dhcp\nDEFROUTE=yes\nNAME={0}\nDEVICE={0}\nONBOOT=yes\n", i.name)),
        }
    }
    if deb {
        let (mirror, comps) = if os.family() == Family::Ubuntu {
            (
                "http://archive.ubuntu.com/ubuntu",
                "main restricted universe multiverse",
            )
        } else {
            ("http://deb.debian.org/debian", "main contrib non-free")
        };
        let c = os.codename();
        b.cfg("/etc/apt/sources.list", format!("deb {mirror} {c} {comps}\ndeb {mirror} {c}-updates {comps}\ndeb http://security.{}/{} {c}-security {comps}\n", if os.family() == Family::Ubuntu { "ubuntu.com" } else { "debian.org" }, if os.family() == Family::Ubuntu { "ubuntu" } else { "debian-security" }));
        b.dir("/etc/apt/sources.list.d", 0o755, 0, 0);
        b.dir("/etc/apt/apt.conf.d", 0o755, 0, 0);
    } else {
        b.cfg("/etc/yum.repos.d/centos.repo", "[baseos]\nname=CentOS - BaseOS\nmetalink=https://mirrors.centos.org/metalink?repo=centos-baseos-$releasever&arch=$basearch\ngpgcheck=1\nenabled=1\n");
        b.cfg(
            "/etc/selinux/config",
            "SELINUX=enforcing\nSELINUXTYPE=targeted\n",
        );
    }
    b.dir("/etc/systemd/system", 0o755, 0, 0);
    b.dir("/etc/systemd/system/multi-user.target.wants", 0o755, 0, 0);
    b.dir("/etc/init.d", 0o755, 0, 0);
    let mut units = vec!["cron", "ssh", "rsyslog"];
    units.extend(id.services.iter().map(String::as_str));
    for s in units {
        let name = if !deb && s == "cron" {
            "crond"
        } else if !deb && s == "ssh" {
            "sshd"
        } else {
            s
        };
        if deb {
            b.script(&format!("/etc/init.d/{name}"), &format!("#!/bin/sh\n# {name}: start and stop the service (a systemd unit does the work)\nexec systemctl \"${{1:-status}}\" {name}\n"));
        }
        b.link(
            &format!("/etc/systemd/system/multi-user.target.wants/{name}.service"),
            &format!("/lib/systemd/system/{name}.service"),
        );
    }
    // services' configuration
    for s in &id.services {
        match s.as_str() {
            "nginx" => {
                b.cfg("/etc/nginx/nginx.conf", format!("user {};\nworker_processes auto;\npid /run/nginx.pid;\n\nevents {{\n\tworker_connections 768;\n}}\n\nhttp {{\n\tsendfile on;\n\ttcp_nopush on;\n\tinclude /etc/nginx/mime.types;\n\taccess_log /var/log/nginx/access.log;\n\terror_log /var/log/nginx/error.log;\n\tinclude /etc/nginx/conf.d/*.conf;\n\tinclude /etc/nginx/sites-enabled/*;\n}}\n", if deb { "www-data" } else { "nginx" }));
                b.cfg("/etc/nginx/sites-available/default", format!("server {{\n\tlisten 80 default_server;\n\tlisten [::]:80 default_server;\n\troot /var/www/html;\n\tindex index.html index.php;\n\tserver_name {};\n\tlocation / {{\n\t\ttry_files $uri $uri/ =404;\n\t}}\n}}\n", id.fqdn()));
                b.link(
                    "/etc/nginx/sites-enabled/default",
                    "/etc/nginx/sites-available/default",
                );
                b.dir("/etc/nginx/conf.d", 0o755, 0, 0);
                b.dir("/var/log/nginx", 0o755, 0, b.gid_of("adm"));
            }
            "apache2" => {
                b.cfg("/etc/apache2/apache2.conf", "DefaultRuntimeDir ${APACHE_RUN_DIR}\nPidFile ${APACHE_PID_FILE}\nTimeout 300\nKeepAlive On\nUser ${APACHE_RUN_USER}\nGroup ${APACHE_RUN_GROUP}\nErrorLog ${APACHE_LOG_DIR}/error.log\nIncludeOptional sites-enabled/*.conf\n");
                b.dir("/var/log/apache2", 0o750, 0, b.gid_of("adm"));
            }
            "httpd" => {
                b.cfg("/etc/httpd/conf/httpd.conf", "ServerRoot \"/etc/httpd\"\nListen 80\nInclude conf.modules.d/*.conf\nUser apache\nGroup apache\nDocumentRoot \"/var/www/html\"\nErrorLog \"logs/error_log\"\n");
            }
            "mysql" => {
                b.cfg("/etc/mysql/my.cnf", "[client-server]\nsocket = /run/mysqld/mysqld.sock\n\n!includedir /etc/mysql/conf.d/\n!includedir /etc/mysql/mariadb.conf.d/\n");
                b.dir(
                    "/var/lib/mysql",
                    0o700,
                    b.uid_of("mysql"),
                    b.gid_of("mysql"),
                );
            }
            "postgresql" => {
                b.dir("/etc/postgresql", 0o755, 0, 0);
                b.dir(
                    if deb {
                        "/var/lib/postgresql"
                    } else {
                        "/var/lib/pgsql"
                    },
                    0o755,
                    b.uid_of("postgres"),
                    b.gid_of("postgres"),
                );
            }
            "redis" => {
                let t = b.t_cfg();
                b.text("/etc/redis/redis.conf", "bind 127.0.0.1 -::1\nprotected-mode yes\nport 6379\ndaemonize yes\nsupervised systemd\nloglevel notice\nlogfile /var/log/redis/redis-server.log\ndir /var/lib/redis\n", 0o640, b.uid_of("redis"), b.gid_of("redis"), t);
            }
            "docker" => {
                b.dir("/etc/docker", 0o755, 0, 0);
                b.dir("/var/lib/docker", 0o710, 0, 0);
            }
            _ => {}
        }
    }
    let has_web = id
        .services
        .iter()
        .any(|s| s == "nginx" || s == "apache2" || s == "httpd");
    if has_web {
        let t = b.t_since_install();
        let title = id.fqdn();
        b.text("/var/www/html/index.html", format!("<!doctype html>\n<html>\n<head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n<p>Service portal. Please sign in through the company VPN.</p>\n</body>\n</html>\n"), 0o644, 0, 0, t);
    }
}

impl B<'_> {
    fn uid_of(&self, name: &str) -> u32 {
        self.id.user(name).map_or(0, |u| u.uid)
    }
}

fn os_release(os: Os, pretty: &str) -> String {
    match os.family() {
        Family::Debian => {
            let v = os.version_id();
            let c = os.codename();
            format!("PRETTY_NAME=\"{pretty}\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"{v}\"\nVERSION=\"{v} ({c})\"\nVERSION_CODENAME={c}\nID=debian\nHOME_URL=\"https://www.debian.org/\"\nSUPPORT_URL=\"https://www.debian.org/support\"\nBUG_REPORT_URL=\"https://bugs.debian.org/\"\n")
        }
        Family::Ubuntu => {
            let v = os.version_id();
            let c = os.codename();
            let animal = match os {
                Os::Ubuntu2004 => "Focal Fossa",
                Os::Ubuntu2204 => "Jammy Jellyfish",
                _ => "Noble Numbat",
            };
            let full = pretty.trim_start_matches("Ubuntu ");
            let logo = if os == Os::Ubuntu2404 { "LOGO=ubuntu-logo\n" } else { "" };
            format!("PRETTY_NAME=\"{pretty}\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"{v}\"\nVERSION=\"{} ({animal})\"\nVERSION_CODENAME={c}\nID=ubuntu\nID_LIKE=debian\nHOME_URL=\"https://www.ubuntu.com/\"\nSUPPORT_URL=\"https://help.ubuntu.com/\"\nBUG_REPORT_URL=\"https://bugs.launchpad.net/ubuntu/\"\nPRIVACY_POLICY_URL=\"https://www.ubuntu.com/legal/terms-and-policies/privacy-policy\"\nUBUNTU_CODENAME={c}\n{logo}", full)
        }
        Family::Rhel if os == Os::Centos7 => "NAME=\"CentOS Linux\"\nVERSION=\"7 (Core)\"\nID=\"centos\"\nID_LIKE=\"rhel fedora\"\nVERSION_ID=\"7\"\nPRETTY_NAME=\"CentOS Linux 7 (Core)\"\nANSI_COLOR=\"0;31\"\nCPE_NAME=\"cpe:/o:centos:centos:7\"\nHOME_URL=\"https://www.centos.org/\"\nBUG_REPORT_URL=\"https://bugs.centos.org/\"\n".into(),
        Family::Rhel => "NAME=\"CentOS Stream\"\nVERSION=\"9\"\nID=\"centos\"\nID_LIKE=\"rhel fedora\"\nVERSION_ID=\"9\"\nPLATFORM_ID=\"platform:el9\"\nPRETTY_NAME=\"CentOS Stream 9\"\nANSI_COLOR=\"0;31\"\nCPE_NAME=\"cpe:/o:centos:centos:9\"\nHOME_URL=\"https://centos.org/\"\nBUG_REPORT_URL=\"https://issues.redhat.com/\"\n".into(),
    }
}

/// The `.bashrc` every account gets (our own, with the usual settings).
pub(crate) fn bashrc() -> &'static str {
    "# ~/.bashrc: interactive shell settings\n\n# not interactive: nothing to do\ncase $- in\n    *i*) ;;\n      *) return;;\nesac\n\nHISTCONTROL=ignoreboth\nHISTSIZE=1000\nHISTFILESIZE=2000\nshopt -s histappend\nshopt -s checkwinsize\n\nPS1='\\u@\\h:\\w\\$ '\n\nalias ll='ls -alF'\nalias la='ls -A'\nalias l='ls -CF'\n\nif [ -f ~/.bash_aliases ]; then\n    . ~/.bash_aliases\nfi\n"
}

fn profile() -> &'static str {
    "# ~/.profile: login shell setup\n\n# bash reads ~/.bashrc too\nif [ -n \"$BASH_VERSION\" ]; then\n    if [ -f \"$HOME/.bashrc\" ]; then\n        . \"$HOME/.bashrc\"\n    fi\nfi\n\n# private bin directories first\nif [ -d \"$HOME/bin\" ] ; then\n    PATH=\"$HOME/bin:$PATH\"\nfi\nif [ -d \"$HOME/.local/bin\" ] ; then\n    PATH=\"$HOME/.local/bin:$PATH\"\nfi\n"
}

fn bash_logout() -> &'static str {
    "# ~/.bash_logout: run when a login shell exits\n\n# clear the console on logout\nif [ \"$SHLVL\" = 1 ]; then\n    [ -x /usr/bin/clear_console ] && /usr/bin/clear_console -q\nfi\n"
}

/// Admin commands someone would have typed on this host.
fn history(r: &mut Rng, id: &Identity, root: bool) -> String {
    let os = id.os;
    let deb = os.is_deb();
    let sudo = if root { "" } else { "sudo " };
    let mut pool: Vec<String> = vec![
        "df -h".into(),
        "free -m".into(),
        "uptime".into(),
        "ls -la".into(),
        "top".into(),
        "ip a".into(),
        "ss -tlnp".into(),
        format!("{sudo}journalctl -u ssh --since today"),
        "tail -n 100 /var/log/syslog".into(),
        format!("{sudo}systemctl status cron"),
        "history".into(),
        "crontab -l".into(),
        "du -sh /var/log/*".into(),
        "ping -c 3 8.8.8.8".into(),
        "cat /etc/os-release".into(),
        "last -n 20".into(),
    ];
    if deb {
        pool.push(format!("{sudo}apt update"));
        pool.push(format!("{sudo}apt upgrade -y"));
        pool.push(format!("{sudo}apt autoremove"));
        pool.push(format!("{sudo}unattended-upgrade --dry-run"));
    } else {
        pool.push(format!("{sudo}yum update -y"));
        pool.push(format!("{sudo}firewall-cmd --list-all"));
        pool.push("tail -n 100 /var/log/messages".into());
    }
    for s in &id.services {
        match s.as_str() {
            "nginx" => {
                pool.push(format!("{sudo}nginx -t"));
                pool.push(format!("{sudo}systemctl reload nginx"));
                pool.push("tail -f /var/log/nginx/error.log".into());
                pool.push("cd /var/www/html".into());
            }
            "apache2" | "httpd" => pool.push(format!("{sudo}systemctl restart {s}")),
            "mysql" => {
                pool.push("mysql -u root -p".into());
                pool.push(format!("{sudo}systemctl status mariadb"));
            }
            "postgresql" => pool.push("sudo -u postgres psql".into()),
            "redis" => pool.push("redis-cli ping".into()),
            "docker" => {
                pool.push("docker ps".into());
                pool.push("docker images".into());
                pool.push("docker compose up -d".into());
                pool.push("docker logs --tail 50 app".into());
            }
            _ => {}
        }
    }
    let n = r.usize(8..22).min(pool.len());
    let mut out = String::new();
    for _ in 0..n {
        let k = r.usize(..pool.len());
        out.push_str(&pool.swap_remove(k));
        out.push('\n');
    }
    out.push_str("exit\n");
    out
}

fn homes(b: &mut B) {
    let id = b.id;
    let people: Vec<_> = id
        .users
        .iter()
        .filter(|u| u.uid == 0 || (u.uid >= 1000 && u.uid < 65534 && u.home.starts_with("/home/")))
        .cloned()
        .collect();
    for u in people {
        let home = u.home.clone();
        let root = u.uid == 0;
        let (uid, gid) = (u.uid, u.gid);
        if !root {
            let t = b.t_cfg();
            b.node(
                &home,
                Kind::Dir,
                if b.id.os.is_deb() { 0o750 } else { 0o700 },
                uid,
                gid,
                t,
            );
        }
        let t = b.t_cfg();
        b.text(&format!("{home}/.bashrc"), bashrc(), 0o644, uid, gid, t);
        b.text(&format!("{home}/.profile"), profile(), 0o644, uid, gid, t);
        if !root {
            b.text(
                &format!("{home}/.bash_logout"),
                bash_logout(),
                0o644,
                uid,
                gid,
                t,
            );
        }
        let hist = history(&mut b.r, id, root);
        let t = b.t_recent() - 86_400 * b.r.i64(1..30);
        b.text(&format!("{home}/.bash_history"), hist, 0o600, uid, gid, t);
        let t = b.t_since_install();
        b.node(&format!("{home}/.ssh"), Kind::Dir, 0o700, uid, gid, t);
        // an admin's key (or, sometimes, none yet)
        let keys = if b.r.usize(..4) == 0 {
            String::new()
        } else {
            let who = if root {
                id.users
                    .iter()
                    .find(|x| x.uid == 1000)
                    .map_or("admin".to_string(), |x| x.name.clone())
            } else {
                u.name.clone()
            };
            let laptop = ["laptop", "workstation", "mbp", "desktop", "thinkpad"][b.r.usize(..5)];
            format!("ssh-ed25519 {} {who}@{laptop}\n", b64_key(&mut b.r))
        };
        b.text(
            &format!("{home}/.ssh/authorized_keys"),
            keys,
            0o600,
            uid,
            gid,
            t,
        );
        b.node(&format!("{home}/.cache"), Kind::Dir, 0o700, uid, gid, t);
        if !root && b.r.bool() {
            let t = b.t_since_install();
            b.text(
                &format!("{home}/.gitconfig"),
                format!(
                    "[user]\n\tname = {}\n\temail = {}@{}\n",
                    u.gecos.trim_end_matches(','),
                    u.name,
                    if id.domain.is_empty() {
                        "example.org"
                    } else {
                        &id.domain
                    }
                ),
                0o644,
                uid,
                gid,
                t,
            );
        }
        if root || b.r.bool() {
            let t = b.t_since_install();
            b.text(
                &format!("{home}/.lesshst"),
                ".less-history-file:\n",
                0o600,
                uid,
                gid,
                t,
            );
        }
    }
    if let Some(u) = id.users.iter().find(|u| u.uid == 1000) {
        // a small script of the admin's, harmless if run
        let t = b.t_since_install();
        let home = u.home.clone();
        b.node(
            &format!("{home}/scripts"),
            Kind::Dir,
            0o755,
            u.uid,
            u.gid,
            t,
        );
        b.text(
            &format!("{home}/scripts/disk-report.sh"),
            "#!/bin/bash\n# mail-free disk report, run by hand\ndf -h /\nfree -m\n",
            0o755,
            u.uid,
            u.gid,
            t,
        );
    }
}

fn proc_sys_dev(b: &mut B, boot: i64) -> Facts {
    let id = b.id;
    let os = id.os;
    let (family, model, stepping, cache) = cpu_details(&id.cpu_model);
    let amd = id.cpu_model.contains("AMD");
    let flags = if amd {
        "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm rep_good nopl cpuid extd_apicid tsc_known_freq pni pclmulqdq ssse3 fma cx16 sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm cmp_legacy cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw topoext perfctr_core ssbd ibrs ibpb stibp vmmcall fsgsbase bmi1 avx2 smep bmi2 rdseed adx smap clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 clzero xsaveerptr wbnoinvd arat umip rdpid arch_capabilities"
    } else if model == 85 {
        "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss syscall nx pdpe1gb rdtscp lm constant_tsc arch_perfmon rep_good nopl xtopology cpuid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm abm 3dnowprefetch cpuid_fault invpcid_single ssbd ibrs ibpb stibp ibrs_enhanced fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid mpx avx512f avx512dq rdseed adx smap clflushopt clwb avx512cd avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves arat pku ospke avx512_vnni md_clear arch_capabilities"
    } else {
        "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss syscall nx pdpe1gb rdtscp lm constant_tsc arch_perfmon rep_good nopl xtopology cpuid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm abm 3dnowprefetch cpuid_fault invpcid_single pti ssbd ibrs ibpb stibp fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid xsaveopt arat md_clear"
    };
    let bugs = if amd {
        "sysret_ss_attrs null_seg spectre_v1 spectre_v2 spec_store_bypass srso"
    } else {
        "cpu_meltdown spectre_v1 spectre_v2 spec_store_bypass swapgs taa itlb_multihit mmio_stale_data retbleed gds"
    };
    let mhz = format!("{}.{:03}", id.cpu_khz / 1000, id.cpu_khz % 1000);
    let bogo = f64::from(id.cpu_khz) / 500.0;
    let mut cpuinfo = String::new();
    for c in 0..id.cores {
        cpuinfo.push_str(&format!(
            "processor\t: {c}\nvendor_id\t: {}\ncpu family\t: {family}\nmodel\t\t: {model}\nmodel name\t: {}\nstepping\t: {stepping}\nmicrocode\t: 0x{:x}\ncpu MHz\t\t: {mhz}\ncache size\t: {cache} KB\nphysical id\t: 0\nsiblings\t: {}\ncore id\t\t: {c}\ncpu cores\t: {}\napicid\t\t: {c}\ninitial apicid\t: {c}\nfpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: {}\nwp\t\t: yes\nflags\t\t: {flags}\nbugs\t\t: {bugs}\nbogomips\t: {bogo:.2}\nclflush size\t: 64\ncache_alignment\t: 64\naddress sizes\t: {} bits physical, 48 bits virtual\npower management:\n\n",
            if amd { "AuthenticAMD" } else { "GenuineIntel" },
            id.cpu_model,
            if amd { 0x1000065 } else { 0x500320a + (id.seed as u32 & 0xff) },
            id.cores,
            id.cores,
            if amd { 16 } else { 13 },
            if amd { 40 } else { 46 },
        ));
    }
    let boot_t = boot + 2;
    let proc_file = |b: &mut B, path: &str, text: String| {
        b.text(path, text, 0o444, 0, 0, boot_t);
    };
    proc_file(b, "/proc/cpuinfo", cpuinfo);
    // memory: used 12 to 40 %, the rest free and cache
    let total = id.mem_kib;
    let used = total * b.r.u64(12..40) / 100;
    let buffers = total * b.r.u64(1..4) / 100;
    let cached = total * b.r.u64(10..35) / 100;
    let sreclaimable = total * b.r.u64(1..4) / 100;
    let free = total.saturating_sub(used + buffers + cached + sreclaimable);
    let shmem = 800 + b.r.u64(..total / 200 + 1);
    let available = free + buffers + cached * 9 / 10 + sreclaimable / 2;
    let swap_used = if id.swap_kib > 0 {
        b.r.u64(..id.swap_kib / 50 + 1)
    } else {
        0
    };
    let mem = Mem {
        total,
        free,
        available,
        buffers,
        cached,
        sreclaimable,
        shmem,
        swap_total: id.swap_kib,
        swap_free: id.swap_kib - swap_used,
    };
    let kb = |k: &str, v: u64| format!("{:<16}{:>8} kB\n", format!("{k}:"), v);
    let mut mi = String::new();
    let anon = used * 7 / 10;
    for (k, v) in [
        ("MemTotal", total),
        ("MemFree", free),
        ("MemAvailable", available),
        ("Buffers", buffers),
        ("Cached", cached),
        ("SwapCached", swap_used / 4),
        ("Active", anon / 3 + cached / 2),
        ("Inactive", anon * 2 / 3 + cached / 2),
        ("Active(anon)", anon / 3),
        ("Inactive(anon)", anon * 2 / 3),
        ("Active(file)", cached / 2),
        ("Inactive(file)", cached / 2),
        ("Unevictable", 0),
        ("Mlocked", 0),
        ("SwapTotal", id.swap_kib),
        ("SwapFree", id.swap_kib - swap_used),
        ("Dirty", b.r.u64(..400)),
        ("Writeback", 0),
        ("AnonPages", anon),
        ("Mapped", cached / 5),
        ("Shmem", shmem),
        ("KReclaimable", sreclaimable),
        ("Slab", sreclaimable * 3 / 2),
        ("SReclaimable", sreclaimable),
        ("SUnreclaim", sreclaimable / 2),
        ("KernelStack", 2_400 * u64::from(id.cores)),
        ("PageTables", used / 80),
        ("NFS_Unstable", 0),
        ("Bounce", 0),
        ("WritebackTmp", 0),
        ("CommitLimit", total / 2 + id.swap_kib),
        ("Committed_AS", used * 2),
        ("VmallocTotal", 34_359_738_367),
        ("VmallocUsed", 14_000 + b.r.u64(..20_000)),
        ("VmallocChunk", 0),
        ("Percpu", 600 * u64::from(id.cores)),
        ("HardwareCorrupted", 0),
        ("AnonHugePages", 0),
        ("ShmemHugePages", 0),
        ("ShmemPmdMapped", 0),
        ("FileHugePages", 0),
        ("FilePmdMapped", 0),
    ] {
        mi.push_str(&kb(k, v));
    }
    mi.push_str("HugePages_Total:       0\nHugePages_Free:        0\nHugePages_Rsvd:        0\nHugePages_Surp:        0\n");
    mi.push_str(&kb("Hugepagesize", 2048));
    mi.push_str(&kb("Hugetlb", 0));
    mi.push_str(&kb("DirectMap4k", 120_000 + b.r.u64(..60_000)));
    mi.push_str(&kb("DirectMap2M", total / 2));
    mi.push_str(&kb("DirectMap1G", total / 2));
    proc_file(b, "/proc/meminfo", mi);
    proc_file(
        b,
        "/proc/version",
        format!(
            "Linux version {} {} {}\n",
            id.kernel_release,
            os.compiler(),
            id.kernel_version
        ),
    );
    b.node(
        "/proc/uptime",
        Kind::File(Data::Dynamic(Dynamic::Uptime)),
        0o444,
        0,
        0,
        boot_t,
    );
    b.node(
        "/proc/loadavg",
        Kind::File(Data::Dynamic(Dynamic::Loadavg)),
        0o444,
        0,
        0,
        boot_t,
    );
    // mounts
    let disk = id.disk_dev.clone();
    let p = |n: u32| {
        if disk.starts_with("nvme") {
            format!("/dev/{disk}p{n}")
        } else {
            format!("/dev/{disk}{n}")
        }
    };
    let disk_k = u64::from(id.disk_gib) * 1_048_576;
    let root_blocks = disk_k * 96 / 100;
    let root_used = root_blocks * u64::from(id.disk_used_permille) / 1000;
    let run = total / 10;
    let mut mounts = vec![
        Mount {
            dev: "sysfs".into(),
            point: "/sys".into(),
            fstype: "sysfs".into(),
            opts: "rw,nosuid,nodev,noexec,relatime".into(),
            blocks: 0,
            used: 0,
        },
        Mount {
            dev: "proc".into(),
            point: "/proc".into(),
            fstype: "proc".into(),
            opts: "rw,nosuid,nodev,noexec,relatime".into(),
            blocks: 0,
            used: 0,
        },
        Mount {
            dev: if os.is_deb() { "udev" } else { "devtmpfs" }.into(),
            point: "/dev".into(),
            fstype: "devtmpfs".into(),
            opts: format!(
                "rw,nosuid,relatime,size={}k,nr_inodes={},mode=755,inode64",
                total / 2,
                total / 8
            ),
            blocks: total / 2,
            used: 0,
        },
        Mount {
            dev: "devpts".into(),
            point: "/dev/pts".into(),
            fstype: "devpts".into(),
            opts: "rw,nosuid,noexec,relatime,gid=5,mode=620,ptmxmode=000".into(),
            blocks: 0,
            used: 0,
        },
        Mount {
            dev: "tmpfs".into(),
            point: "/run".into(),
            fstype: "tmpfs".into(),
            opts: format!("rw,nosuid,nodev,noexec,relatime,size={run}k,mode=755,inode64"),
            blocks: run,
            used: 900 + b.r.u64(..600),
        },
    ];
    if os.is_deb() {
        mounts.push(Mount {
            dev: p(1),
            point: "/".into(),
            fstype: "ext4".into(),
            opts: "rw,relatime,discard,errors=remount-ro".into(),
            blocks: root_blocks,
            used: root_used,
        });
    } else {
        let vg = if os == Os::Centos7 { "centos" } else { "cs" };
        mounts.push(Mount {
            dev: format!("/dev/mapper/{vg}-root"),
            point: "/".into(),
            fstype: "xfs".into(),
            opts: "rw,relatime,attr2,inode64,logbufs=8,logbsize=32k,noquota".into(),
            blocks: root_blocks * 9 / 10,
            used: root_used * 9 / 10,
        });
    }
    mounts.extend([
        Mount {
            dev: "securityfs".into(),
            point: "/sys/kernel/security".into(),
            fstype: "securityfs".into(),
            opts: "rw,nosuid,nodev,noexec,relatime".into(),
            blocks: 0,
            used: 0,
        },
        Mount {
            dev: "tmpfs".into(),
            point: "/dev/shm".into(),
            fstype: "tmpfs".into(),
            opts: "rw,nosuid,nodev,inode64".into(),
            blocks: total / 2,
            used: 0,
        },
        Mount {
            dev: "tmpfs".into(),
            point: "/run/lock".into(),
            fstype: "tmpfs".into(),
            opts: "rw,nosuid,nodev,noexec,relatime,size=5120k,inode64".into(),
            blocks: 5120,
            used: 0,
        },
        Mount {
            dev: "cgroup2".into(),
            point: "/sys/fs/cgroup".into(),
            fstype: "cgroup2".into(),
            opts: "rw,nosuid,nodev,noexec,relatime,nsdelegate,memory_recursiveprot".into(),
            blocks: 0,
            used: 0,
        },
        Mount {
            dev: "pstore".into(),
            point: "/sys/fs/pstore".into(),
            fstype: "pstore".into(),
            opts: "rw,nosuid,nodev,noexec,relatime".into(),
            blocks: 0,
            used: 0,
        },
        Mount {
            dev: "bpf".into(),
            point: "/sys/fs/bpf".into(),
            fstype: "bpf".into(),
            opts: "rw,nosuid,nodev,noexec,relatime,mode=700".into(),
            blocks: 0,
            used: 0,
        },
        Mount {
            dev: "hugetlbfs".into(),
            point: "/dev/hugepages".into(),
            fstype: "hugetlbfs".into(),
            opts: "rw,relatime,pagesize=2M".into(),
            blocks: 0,
            used: 0,
        },
        Mount {
            dev: "mqueue".into(),
            point: "/dev/mqueue".into(),
            fstype: "mqueue".into(),
            opts: "rw,nosuid,nodev,noexec,relatime".into(),
            blocks: 0,
            used: 0,
        },
        Mount {
            dev: "debugfs".into(),
            point: "/sys/kernel/debug".into(),
            fstype: "debugfs".into(),
            opts: "rw,nosuid,nodev,noexec,relatime".into(),
            blocks: 0,
            used: 0,
        },
        Mount {
            dev: "tracefs".into(),
            point: "/sys/kernel/tracing".into(),
            fstype: "tracefs".into(),
            opts: "rw,nosuid,nodev,noexec,relatime".into(),
            blocks: 0,
            used: 0,
        },
    ]);
    if os.is_deb() {
        mounts.push(Mount { dev: p(15), point: "/boot/efi".into(), fstype: "vfat".into(), opts: "rw,relatime,fmask=0077,dmask=0077,codepage=437,iocharset=ascii,shortname=mixed,utf8,errors=remount-ro".into(), blocks: 106_858, used: 6_186 });
    } else {
        mounts.push(Mount {
            dev: p(1),
            point: "/boot".into(),
            fstype: "xfs".into(),
            opts: "rw,relatime,attr2,inode64,logbufs=8,logbsize=32k,noquota".into(),
            blocks: 1_038_336,
            used: 190_000 + b.r.u64(..80_000),
        });
    }
    mounts.push(Mount {
        dev: "tmpfs".into(),
        point: "/run/user/0".into(),
        fstype: "tmpfs".into(),
        opts: format!(
            "rw,nosuid,nodev,relatime,size={run}k,nr_inodes={},mode=700,inode64",
            run / 4
        ),
        blocks: run,
        used: 4,
    });
    let mut mtxt = String::new();
    for m in &mounts {
        mtxt.push_str(&format!(
            "{} {} {} {} 0 0\n",
            m.dev, m.point, m.fstype, m.opts
        ));
    }
    proc_file(b, "/proc/mounts", mtxt);
    b.link("/etc/mtab", "../proc/self/mounts");
    let root_uuid = b.r.u64(..);
    let root_uuid = format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        root_uuid >> 32,
        root_uuid & 0xffff,
        (root_uuid >> 16) & 0xfff | 0x4000,
        b.r.u16(..) & 0x3fff | 0x8000,
        b.r.u64(..) & 0xffff_ffff_ffff
    );
    proc_file(
        b,
        "/proc/cmdline",
        format!(
            "BOOT_IMAGE=/boot/vmlinuz-{} root=UUID={root_uuid} ro console=tty1 console=ttyS0\n",
            id.kernel_release
        ),
    );
    proc_file(b, "/proc/filesystems", "nodev\tsysfs\nnodev\ttmpfs\nnodev\tbdev\nnodev\tproc\nnodev\tcgroup\nnodev\tcgroup2\nnodev\tcpuset\nnodev\tdevtmpfs\nnodev\tdebugfs\nnodev\ttracefs\nnodev\tsecurityfs\nnodev\tsockfs\nnodev\tbpf\nnodev\tpipefs\nnodev\tdevpts\n\text3\n\text2\n\text4\n\txfs\n\tvfat\nnodev\tmqueue\nnodev\thugetlbfs\nnodev\tautofs\n".into());
    proc_file(
        b,
        "/proc/swaps",
        if id.swap_kib > 0 {
            format!("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/swapfile                               file\t\t{}\t\t{swap_used}\t\t-2\n", id.swap_kib)
        } else {
            "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n".into()
        },
    );
    proc_file(b, "/proc/sys/kernel/hostname", format!("{}\n", id.hostname));
    proc_file(
        b,
        "/proc/sys/kernel/osrelease",
        format!("{}\n", id.kernel_release),
    );
    proc_file(b, "/proc/sys/kernel/ostype", "Linux\n".into());
    proc_file(b, "/proc/sys/kernel/pid_max", "4194304\n".into());
    proc_file(b, "/proc/sys/vm/overcommit_memory", "0\n".into());
    proc_file(b, "/proc/sys/net/ipv4/ip_forward", "0\n".into());
    for p in &id.processes {
        let dir = format!("/proc/{}", p.pid);
        let uid = id.user(&p.user).map_or(0, |u| u.uid);
        let t = boot + p.started as i64;
        b.node(&dir, Kind::Dir, 0o555, uid, uid, t);
        let cmd = if p.command.starts_with('[') {
            String::new()
        } else {
            p.command.replace(' ', "\0") + "\0"
        };
        let comm = comm_of(&p.command);
        b.text(&format!("{dir}/cmdline"), cmd, 0o444, uid, uid, t);
        b.text(
            &format!("{dir}/comm"),
            format!("{comm}\n"),
            0o644,
            uid,
            uid,
            t,
        );
    }
    // the shell's own process: what droppers read to learn the architecture
    b.node("/proc/self", Kind::Dir, 0o555, 0, 0, boot_t);
    b.link("/proc/self/exe", "/usr/bin/bash");
    b.text("/proc/self/cmdline", "-bash\0", 0o444, 0, 0, boot_t);
    b.text("/proc/self/comm", "bash\n", 0o644, 0, 0, boot_t);
    b.text("/proc/self/mounts", "", 0o444, 0, 0, boot_t);
    b.dir("/proc/net", 0o555, 0, 0);
    b.dir("/proc/sys/fs", 0o555, 0, 0);
    // /sys
    for d in [
        "block",
        "bus",
        "class",
        "dev",
        "devices",
        "firmware",
        "fs",
        "hypervisor",
        "kernel",
        "module",
        "power",
    ] {
        b.node(&format!("/sys/{d}"), Kind::Dir, 0o755, 0, 0, boot_t);
    }
    for i in &id.interfaces {
        b.text(
            &format!("/sys/class/net/{}/address", i.name),
            format!("{}\n", i.mac),
            0o444,
            0,
            0,
            boot_t,
        );
        b.text(
            &format!("/sys/class/net/{}/mtu", i.name),
            format!("{}\n", i.mtu),
            0o644,
            0,
            0,
            boot_t,
        );
        b.text(
            &format!("/sys/class/net/{}/operstate", i.name),
            if i.up { "up\n" } else { "down\n" },
            0o444,
            0,
            0,
            boot_t,
        );
    }
    b.text(
        "/sys/class/net/lo/address",
        "00:00:00:00:00:00\n",
        0o444,
        0,
        0,
        boot_t,
    );
    let (vendor, product) = match id.hypervisor.as_str() {
        "VMware" => ("VMware, Inc.", "VMware Virtual Platform"),
        "Microsoft" => ("Microsoft Corporation", "Virtual Machine"),
        "Xen" => ("Xen", "HVM domU"),
        _ if id.disk_dev.starts_with("nvme") => ("Amazon EC2", "t3.medium"),
        _ if id
            .interfaces
            .first()
            .is_some_and(|i| i.mac.starts_with("bc:24:11")) =>
        {
            ("QEMU", "Standard PC (i440FX + PIIX, 1996)")
        }
        _ => ("QEMU", "Standard PC (Q35 + ICH9, 2009)"),
    };
    for (f, v) in [
        ("sys_vendor", vendor),
        ("product_name", product),
        (
            "bios_vendor",
            if vendor == "QEMU" { "SeaBIOS" } else { vendor },
        ),
        ("chassis_type", "1"),
    ] {
        b.text(
            &format!("/sys/class/dmi/id/{f}"),
            format!("{v}\n"),
            0o444,
            0,
            0,
            boot_t,
        );
    }
    // /dev
    let tty = b.gid_of("tty");
    let disk_gid = b.gid_of("disk");
    b.dev(
        "/dev/null",
        Dev {
            kind: DevKind::Null,
            block: false,
            major: 1,
            minor: 3,
        },
        0o666,
        0,
    );
    b.dev(
        "/dev/zero",
        Dev {
            kind: DevKind::Zero,
            block: false,
            major: 1,
            minor: 5,
        },
        0o666,
        0,
    );
    b.dev(
        "/dev/full",
        Dev {
            kind: DevKind::Zero,
            block: false,
            major: 1,
            minor: 7,
        },
        0o666,
        0,
    );
    b.dev(
        "/dev/random",
        Dev {
            kind: DevKind::Random,
            block: false,
            major: 1,
            minor: 8,
        },
        0o666,
        0,
    );
    b.dev(
        "/dev/urandom",
        Dev {
            kind: DevKind::Random,
            block: false,
            major: 1,
            minor: 9,
        },
        0o666,
        0,
    );
    b.dev(
        "/dev/tty",
        Dev {
            kind: DevKind::Tty,
            block: false,
            major: 5,
            minor: 0,
        },
        0o666,
        tty,
    );
    b.dev(
        "/dev/console",
        Dev {
            kind: DevKind::Other,
            block: false,
            major: 5,
            minor: 1,
        },
        0o600,
        0,
    );
    b.dev(
        "/dev/ptmx",
        Dev {
            kind: DevKind::Tty,
            block: false,
            major: 5,
            minor: 2,
        },
        0o666,
        tty,
    );
    b.dev(
        "/dev/tty0",
        Dev {
            kind: DevKind::Other,
            block: false,
            major: 4,
            minor: 0,
        },
        0o620,
        tty,
    );
    b.dev(
        "/dev/tty1",
        Dev {
            kind: DevKind::Other,
            block: false,
            major: 4,
            minor: 1,
        },
        0o620,
        tty,
    );
    b.dev(
        "/dev/ttyS0",
        Dev {
            kind: DevKind::Other,
            block: false,
            major: 4,
            minor: 64,
        },
        0o660,
        b.gid_of("dialout"),
    );
    b.dev(
        "/dev/kmsg",
        Dev {
            kind: DevKind::Other,
            block: false,
            major: 1,
            minor: 11,
        },
        0o644,
        0,
    );
    b.dev(
        "/dev/mem",
        Dev {
            kind: DevKind::Other,
            block: false,
            major: 1,
            minor: 1,
        },
        0o640,
        b.gid_of("kmem"),
    );
    b.node("/dev/pts", Kind::Dir, 0o755, 0, 0, boot_t);
    b.dev(
        "/dev/pts/ptmx",
        Dev {
            kind: DevKind::Other,
            block: false,
            major: 5,
            minor: 2,
        },
        0o000,
        0,
    );
    b.dev(
        "/dev/pts/0",
        Dev {
            kind: DevKind::Tty,
            block: false,
            major: 136,
            minor: 0,
        },
        0o620,
        tty,
    );
    b.node("/dev/shm", Kind::Dir, 0o1777, 0, 0, boot_t);
    b.node("/dev/mqueue", Kind::Dir, 0o1777, 0, 0, boot_t);
    b.node("/dev/hugepages", Kind::Dir, 0o755, 0, 0, boot_t);
    b.node("/dev/disk", Kind::Dir, 0o755, 0, 0, boot_t);
    b.node("/dev/disk/by-uuid", Kind::Dir, 0o755, 0, 0, boot_t);
    b.node("/dev/net", Kind::Dir, 0o755, 0, 0, boot_t);
    b.dev(
        "/dev/net/tun",
        Dev {
            kind: DevKind::Other,
            block: false,
            major: 10,
            minor: 200,
        },
        0o666,
        0,
    );
    let major = match id.disk_dev.as_str() {
        d if d.starts_with("sd") => 8,
        d if d.starts_with("nvme") => 259,
        d if d.starts_with("xvd") => 202,
        _ => 252,
    };
    b.dev(
        &format!("/dev/{disk}"),
        Dev {
            kind: DevKind::Other,
            block: true,
            major,
            minor: 0,
        },
        0o660,
        disk_gid,
    );
    for n in [1u16, 14, 15] {
        if !os.is_deb() && n > 2 {
            continue;
        }
        b.dev(
            &p(u32::from(n)),
            Dev {
                kind: DevKind::Other,
                block: true,
                major,
                minor: n,
            },
            0o660,
            disk_gid,
        );
    }
    if !os.is_deb() {
        b.dev(
            &p(2),
            Dev {
                kind: DevKind::Other,
                block: true,
                major,
                minor: 2,
            },
            0o660,
            disk_gid,
        );
    }
    for (i, name) in ["stdin", "stdout", "stderr"].iter().enumerate() {
        b.link(&format!("/dev/{name}"), &format!("/proc/self/fd/{i}"));
    }
    b.link("/dev/fd", "/proc/self/fd");
    b.link("/dev/core", "/proc/kcore");
    b.link("/dev/log", "/run/systemd/journal/dev-log");
    b.link(
        &format!("/dev/disk/by-uuid/{root_uuid}"),
        &format!("../../{disk}1"),
    );
    let load = [b.r.f64() * 0.3, b.r.f64() * 0.25, b.r.f64() * 0.2];
    let last_pid = id.processes.iter().map(|p| p.pid).max().unwrap_or(1000);
    Facts {
        mem,
        mounts,
        root_uuid,
        load,
        next_pid: last_pid + 1000 + b.r.u32(..20_000),
    }
}

/// A process's `comm` (the executable's base name, 15 bytes at most).
pub(crate) fn comm_of(cmd: &str) -> String {
    if let Some(k) = cmd.strip_prefix('[') {
        return super::util::clip(k.trim_end_matches(']'), 15).to_string();
    }
    if let Some(rest) = cmd.strip_prefix("nginx:") {
        let _ = rest;
        return "nginx".into();
    }
    let first = cmd.split([' ', ':']).next().unwrap_or(cmd);
    let base = first
        .rsplit('/')
        .next()
        .unwrap_or(first)
        .trim_start_matches('@')
        .trim_start_matches('-');
    super::util::clip(base, 15).to_string()
}

fn var_run_tmp(b: &mut B, boot: i64) {
    let id = b.id;
    let os = id.os;
    let deb = os.is_deb();
    let adm = b.gid_of("adm");
    let utmp = b.gid_of("utmp");
    for d in [
        "backups", "cache", "lib", "local", "mail", "opt", "spool", "log",
    ] {
        b.dir(
            &format!("/var/{d}"),
            if d == "mail" { 0o2775 } else { 0o755 },
            0,
            if d == "mail" { b.gid_of("mail") } else { 0 },
        );
    }
    b.dir("/var/tmp", 0o1777, 0, 0);
    b.link("/var/run", "/run");
    b.link("/var/lock", "/run/lock");
    b.dir("/var/spool/cron", 0o755, 0, 0);
    if deb {
        let g = b.gid_of("crontab");
        b.dir("/var/spool/cron/crontabs", 0o1730, 0, g);
    } else {
        b.dir("/var/spool/cron", 0o700, 0, 0);
    }
    b.dir("/var/cache/apt", 0o755, 0, 0);
    b.dir("/var/lib/dpkg", 0o755, 0, 0);
    b.dir("/var/log/journal", 0o2755, 0, b.gid_of("systemd-journal"));
    let host = id.hostname.clone();
    let ip = id.primary().map(|i| i.ipv4.clone()).unwrap_or_default();
    let now = b.now;
    let sshd_pid = id
        .processes
        .iter()
        .find(|p| p.command.contains("sshd"))
        .map_or(700, |p| p.pid);
    // logs: a few recent lines each
    let mut syslog = String::new();
    let mut auth = String::new();
    for k in (1..12).rev() {
        let t = tm(now - k * 317 - b.r.i64(0..200));
        let stamp = format!(
            "{} {:2} {:02}:{:02}:{:02}",
            t.month_name(),
            t.day,
            t.hour,
            t.min,
            t.sec
        );
        syslog.push_str(&format!(
            "{stamp} {host} systemd[1]: Starting {}...\n",
            [
                "Daily apt download activities",
                "Cleanup of Temporary Directories",
                "Rotate log files",
                "Discard unused blocks on filesystems",
                "Message of the Day"
            ][b.r.usize(..5)]
        ));
        if k % 3 == 0 {
            syslog.push_str(&format!("{stamp} {host} CRON[{}]: (root) CMD (   cd / && run-parts --report /etc/cron.hourly)\n", 30_000 + b.r.u32(..20_000)));
        }
        let src = format!(
            "{}.{}.{}.{}",
            b.r.u8(1..224),
            b.r.u8(..),
            b.r.u8(..),
            b.r.u8(1..255)
        );
        let user = [
            "admin", "test", "oracle", "ubuntu", "user", "postgres", "git", "ftpuser",
        ][b.r.usize(..8)];
        let port = b.r.u16(30_000..65_000);
        let pid = 40_000 + b.r.u32(..30_000);
        auth.push_str(&format!("{stamp} {host} sshd[{pid}]: Invalid user {user} from {src} port {port}\n{stamp} {host} sshd[{pid}]: Connection closed by invalid user {user} {src} port {port} [preauth]\n"));
    }
    let _ = (sshd_pid, ip);
    let (sys, authf) = if deb {
        ("/var/log/syslog", "/var/log/auth.log")
    } else {
        ("/var/log/messages", "/var/log/secure")
    };
    let t = b.t_recent();
    let syslog_owner = if os.family() == Family::Ubuntu {
        b.uid_of("syslog")
    } else {
        0
    };
    b.text(sys, syslog, 0o640, syslog_owner, adm, t);
    b.text(authf, auth, 0o640, syslog_owner, adm, t);
    b.text("/var/log/kern.log", "", 0o640, syslog_owner, adm, t);
    let t = b.t_recent();
    b.text("/var/log/wtmp", vec![0u8; 384 * 12], 0o664, 0, utmp, t);
    b.text("/var/log/btmp", vec![0u8; 384 * 40], 0o660, 0, utmp, t);
    b.text("/var/log/lastlog", vec![0u8; 292 * 4], 0o664, 0, utmp, t);
    if deb {
        let t = b.t_since_install();
        b.text(
            "/var/log/dpkg.log",
            format!("{} startup archives unpack\n", tm(t).iso()),
            0o644,
            0,
            0,
            t,
        );
        b.dir("/var/log/apt", 0o755, 0, 0);
    }
    if id.services.iter().any(|s| s == "nginx") {
        let t = b.t_recent();
        let mut access = String::new();
        for _ in 0..8 {
            let src = format!(
                "{}.{}.{}.{}",
                b.r.u8(1..224),
                b.r.u8(..),
                b.r.u8(..),
                b.r.u8(1..255)
            );
            let path = [
                "/",
                "/favicon.ico",
                "/robots.txt",
                "/.env",
                "/wp-login.php",
                "/index.html",
            ][b.r.usize(..6)];
            let code = if path == "/" || path == "/index.html" {
                200
            } else {
                404
            };
            let t = tm(now - b.r.i64(60..7200));
            access.push_str(&format!("{src} - - [{:02}/{}/{}:{:02}:{:02}:{:02} +0000] \"GET {path} HTTP/1.1\" {code} 162 \"-\" \"Mozilla/5.0\"\n", t.day, t.month_name(), t.year, t.hour, t.min, t.sec));
        }
        let g = if deb { adm } else { 0 };
        let u = if deb { b.uid_of("www-data") } else { 0 };
        b.text("/var/log/nginx/access.log", access, 0o640, u, g, t);
        b.text("/var/log/nginx/error.log", "", 0o640, u, g, t);
    }
    // /run
    let t = boot + 5;
    b.node("/run/lock", Kind::Dir, 0o1777, 0, 0, t);
    b.node("/run/user", Kind::Dir, 0o755, 0, 0, t);
    b.node("/run/user/0", Kind::Dir, 0o700, 0, 0, t);
    b.node("/run/sshd", Kind::Dir, 0o755, 0, 0, t);
    b.node("/run/systemd", Kind::Dir, 0o755, 0, 0, t);
    b.text("/run/sshd.pid", format!("{sshd_pid}\n"), 0o644, 0, 0, t);
    b.text("/run/utmp", vec![0u8; 384 * 3], 0o664, 0, utmp, now - 60);
    // /tmp: what systemd and X leave
    for d in [
        ".X11-unix",
        ".ICE-unix",
        ".font-unix",
        ".XIM-unix",
        ".Test-unix",
    ] {
        b.node(&format!("/tmp/{d}"), Kind::Dir, 0o1777, 0, 0, t);
    }
    let boot_id = hex(&(0..16).map(|_| b.r.u8(..)).collect::<Vec<u8>>());
    let mut private = vec!["systemd-logind.service"];
    if deb {
        private.push("systemd-timesyncd.service");
    } else {
        private.push("chronyd.service");
    }
    if os.family() == Family::Ubuntu {
        private.push("systemd-resolved.service");
    }
    for s in private {
        let suffix: String = (0..6).map(|_| b.r.alphanumeric()).collect();
        b.node(
            &format!("/tmp/systemd-private-{boot_id}-{s}-{suffix}"),
            Kind::Dir,
            0o700,
            0,
            0,
            t,
        );
    }
    b.node("/var/tmp/cloud-init", Kind::Dir, 0o700, 0, 0, b.installed);
}

fn boot_lib(b: &mut B) {
    let id = b.id;
    let rel = id.kernel_release.clone();
    let t = b.t_since_install();
    b.node(
        &format!("/boot/vmlinuz-{rel}"),
        Kind::File(Data::Binary {
            prog: "vmlinuz",
            size: 8_129_472,
        }),
        0o600,
        0,
        0,
        t,
    );
    b.node(
        &format!("/boot/initrd.img-{rel}"),
        Kind::File(Data::Binary {
            prog: "initrd",
            size: 31_236_096,
        }),
        0o644,
        0,
        0,
        t,
    );
    b.node(
        &format!("/boot/System.map-{rel}"),
        Kind::File(Data::Binary {
            prog: "sysmap",
            size: 4_921_344,
        }),
        0o600,
        0,
        0,
        t,
    );
    b.text(&format!("/boot/config-{rel}"), format!("#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86 {rel} Kernel Configuration\n#\nCONFIG_64BIT=y\nCONFIG_X86_64=y\nCONFIG_SMP=y\nCONFIG_HYPERVISOR_GUEST=y\nCONFIG_KVM_GUEST=y\n"), 0o644, 0, 0, t);
    b.node("/boot/grub", Kind::Dir, 0o755, 0, 0, t);
    b.text("/boot/grub/grub.cfg", format!("set default=\"0\"\nset timeout=5\nmenuentry '{}' {{\n\tlinux\t/boot/vmlinuz-{rel} root=UUID={} ro\n\tinitrd\t/boot/initrd.img-{rel}\n}}\n", id.os_pretty_name, "auto"), 0o444, 0, 0, t);
    if id.os.is_deb() {
        b.node("/boot/efi", Kind::Dir, 0o700, 0, 0, t);
        b.link("/vmlinuz", &format!("boot/vmlinuz-{rel}"));
        b.link("/initrd.img", &format!("boot/initrd.img-{rel}"));
    }
    b.node(
        &format!("/usr/lib/modules/{rel}"),
        Kind::Dir,
        0o755,
        0,
        0,
        t,
    );
    b.node(
        &format!("/usr/lib/modules/{rel}/kernel"),
        Kind::Dir,
        0o755,
        0,
        0,
        t,
    );
    b.node("/usr/lib/systemd/system", Kind::Dir, 0o755, 0, 0, t);
    b.node("/usr/share/doc", Kind::Dir, 0o755, 0, 0, t);
    b.node("/usr/share/man", Kind::Dir, 0o755, 0, 0, t);
    b.node("/usr/share/zoneinfo", Kind::Dir, 0o755, 0, 0, t);
    b.node("/usr/share/zoneinfo/Etc", Kind::Dir, 0o755, 0, 0, t);
    b.node("/usr/share/zoneinfo/Etc/UTC", Kind::File(Data::Shared(Arc::from(&b"TZif2\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\0\0\0\x04\0\0\0\0\0\0UTC\0\n<UTC>0\n"[..]))), 0o644, 0, 0, t);
    b.node("/opt/containerd", Kind::Dir, 0o711, 0, 0, t);
    if id.services.iter().any(|s| s == "docker") {
        b.node("/opt/containerd/bin", Kind::Dir, 0o711, 0, 0, t);
    } else {
        let _ = b.base.nodes.remove("/opt/containerd");
        if let Some(e) = b.base.nodes.get_mut("/opt") {
            e.children.retain(|c| &**c != "containerd");
        }
    }
}

fn uuid(r: &mut Rng) -> String {
    let b: Vec<u8> = (0..16).map(|_| r.u8(..)).collect();
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn b64(r: &mut Rng, n: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (0..n).map(|_| A[r.usize(..64)] as char).collect()
}

/// An Ed25519 public key blob in base64 (the right prefix, random key bytes).
fn b64_key(r: &mut Rng) -> String {
    format!("AAAAC3NzaC1lZDI1NTE5AAAAI{}", b64(r, 43))
}
