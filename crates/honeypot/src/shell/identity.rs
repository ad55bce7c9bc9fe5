//! The fake host's identity: everything an attacker can learn about "this machine" (hostname,
//! distribution, kernel, CPU, memory, disks, users, network, services, processes).
//!
//! It is drawn at random from a seed, once per deployment, and kept in the daemon's data
//! directory ([`Identity::load_or_create`]) so the host looks the same across restarts and
//! two deployments never look alike. Nothing here is a well-known honeypot default: the
//! hostnames, user names and hardware are drawn from our own lists, and the generator refuses
//! the names Cowrie ships with (`svr04`, `richard`, `phil`, …), which scanners look for.
//!
//! Finer details (file times, binary bytes, shadow salts) derive from [`Identity::seed`] so a
//! reloaded identity rebuilds the exact same filesystem.

use fastrand::Rng;
use serde::{Deserialize, Serialize};
use std::io;
use std::path::Path;

/// The distribution the host pretends to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Os {
    Debian11,
    Debian12,
    Ubuntu2004,
    Ubuntu2204,
    Ubuntu2404,
    Centos7,
    CentosStream9,
}

/// Distribution families, for what differs between them (paths, prompts, package tools).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Debian,
    Ubuntu,
    Rhel,
}

impl Os {
    pub fn family(self) -> Family {
        match self {
            Os::Debian11 | Os::Debian12 => Family::Debian,
            Os::Ubuntu2004 | Os::Ubuntu2204 | Os::Ubuntu2404 => Family::Ubuntu,
            Os::Centos7 | Os::CentosStream9 => Family::Rhel,
        }
    }
    /// Debian or Ubuntu (apt, dpkg, `/usr/sbin/nologin`, adduser's GECOS).
    pub fn is_deb(self) -> bool {
        self.family() != Family::Rhel
    }
    /// `ID=` of os-release.
    pub fn id(self) -> &'static str {
        match self.family() {
            Family::Debian => "debian",
            Family::Ubuntu => "ubuntu",
            Family::Rhel => "centos",
        }
    }
    /// `VERSION_ID=` of os-release.
    pub fn version_id(self) -> &'static str {
        match self {
            Os::Debian11 => "11",
            Os::Debian12 => "12",
            Os::Ubuntu2004 => "20.04",
            Os::Ubuntu2204 => "22.04",
            Os::Ubuntu2404 => "24.04",
            Os::Centos7 => "7",
            Os::CentosStream9 => "9",
        }
    }
    /// The release's code name (empty for CentOS).
    pub fn codename(self) -> &'static str {
        match self {
            Os::Debian11 => "bullseye",
            Os::Debian12 => "bookworm",
            Os::Ubuntu2004 => "focal",
            Os::Ubuntu2204 => "jammy",
            Os::Ubuntu2404 => "noble",
            Os::Centos7 | Os::CentosStream9 => "",
        }
    }
    /// `/bin/bash --version`'s version.
    pub fn bash_version(self) -> &'static str {
        match self {
            Os::Debian11 => "5.1.4(1)-release",
            Os::Debian12 => "5.2.15(1)-release",
            Os::Ubuntu2004 => "5.0.17(1)-release",
            Os::Ubuntu2204 => "5.1.16(1)-release",
            Os::Ubuntu2404 => "5.2.21(1)-release",
            Os::Centos7 => "4.2.46(2)-release",
            Os::CentosStream9 => "5.1.8(1)-release",
        }
    }
    /// The OpenSSH server's version banner this release ships.
    pub fn ssh_banner(self) -> &'static str {
        match self {
            Os::Debian11 => "SSH-2.0-OpenSSH_8.4p1 Debian-5+deb11u3",
            Os::Debian12 => "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u7",
            Os::Ubuntu2004 => "SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.11",
            Os::Ubuntu2204 => "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10",
            Os::Ubuntu2404 => "SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.5",
            Os::Centos7 => "SSH-2.0-OpenSSH_7.4",
            Os::CentosStream9 => "SSH-2.0-OpenSSH_8.7",
        }
    }
    /// The compiler part of `/proc/version`.
    pub fn compiler(self) -> &'static str {
        match self {
            Os::Debian11 => "(debian-kernel@lists.debian.org) (gcc-10 (Debian 10.2.1-6) 10.2.1 20210110, GNU ld (GNU Binutils for Debian) 2.35.2)",
            Os::Debian12 => "(debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40)",
            Os::Ubuntu2004 => "(buildd@lcy02-amd64-046) (gcc version 9.4.0 (Ubuntu 9.4.0-1ubuntu1~20.04.2))",
            Os::Ubuntu2204 => "(buildd@lcy02-amd64-059) (x86_64-linux-gnu-gcc-12 (Ubuntu 12.3.0-1ubuntu1~22.04) 12.3.0, GNU ld (GNU Binutils for Ubuntu) 2.38)",
            Os::Ubuntu2404 => "(buildd@lcy02-amd64-100) (x86_64-linux-gnu-gcc-13 (Ubuntu 13.2.0-23ubuntu4) 13.2.0, GNU ld (GNU Binutils for Ubuntu) 2.42)",
            Os::Centos7 => "(mockbuild@kbuilder.bsys.centos.org) (gcc version 4.8.5 20150623 (Red Hat 4.8.5-44) (GCC) )",
            Os::CentosStream9 => "(mockbuild@x86-05.stream.rdu2.redhat.com) (gcc (GCC) 11.5.0 20240719 (Red Hat 11.5.0-2), GNU ld version 2.35.2-54.el9)",
        }
    }
    /// The python3 (or, on CentOS 7, python2) version.
    pub fn python_version(self) -> &'static str {
        match self {
            Os::Debian11 => "3.9.2",
            Os::Debian12 => "3.11.2",
            Os::Ubuntu2004 => "3.8.10",
            Os::Ubuntu2204 => "3.10.12",
            Os::Ubuntu2404 => "3.12.3",
            Os::Centos7 => "2.7.5",
            Os::CentosStream9 => "3.9.21",
        }
    }
    /// (wget, curl) versions.
    pub fn tool_versions(self) -> (&'static str, &'static str) {
        match self {
            Os::Debian11 => ("1.21", "7.74.0"),
            Os::Debian12 => ("1.21.3", "7.88.1"),
            Os::Ubuntu2004 => ("1.20.3", "7.68.0"),
            Os::Ubuntu2204 => ("1.21.2", "7.81.0"),
            Os::Ubuntu2404 => ("1.21.4", "8.5.0"),
            Os::Centos7 => ("1.14", "7.29.0"),
            Os::CentosStream9 => ("1.21.1", "7.76.1"),
        }
    }
    /// BusyBox's version string.
    pub fn busybox_version(self) -> &'static str {
        match self {
            Os::Debian11 => "v1.30.1 (Debian 1:1.30.1-6+b3)",
            Os::Debian12 => "v1.35.0 (Debian 1:1.35.0-4+b3)",
            Os::Ubuntu2004 => "v1.30.1 (Ubuntu 1:1.30.1-4ubuntu6.5)",
            Os::Ubuntu2204 => "v1.30.1 (Ubuntu 1:1.30.1-7ubuntu3.1)",
            Os::Ubuntu2404 => "v1.36.1 (Ubuntu 1:1.36.1-6ubuntu3.1)",
            Os::Centos7 | Os::CentosStream9 => "v1.36.1 (2023-11-07 18:53:09 UTC)",
        }
    }
    /// Where systemd's own binaries live (`/lib/systemd` before the /usr merge was explicit).
    pub fn systemd_dir(self) -> &'static str {
        match self {
            Os::Debian11 | Os::Debian12 | Os::Ubuntu2004 | Os::Ubuntu2204 => "/lib/systemd",
            _ => "/usr/lib/systemd",
        }
    }
    /// `nologin`'s path in /etc/passwd.
    pub fn nologin(self) -> &'static str {
        if self.is_deb() {
            "/usr/sbin/nologin"
        } else {
            "/sbin/nologin"
        }
    }
    /// The crontab spool directory.
    pub fn cron_spool(self) -> &'static str {
        if self.is_deb() {
            "/var/spool/cron/crontabs"
        } else {
            "/var/spool/cron"
        }
    }
}

/// An account of `/etc/passwd` (and its `/etc/shadow` line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub gecos: String,
    pub home: String,
    pub shell: String,
    /// The shadow password field: `*`, `!`, `!*`, `!!` or a made-up `$6$` hash (not the hash
    /// of anything: the honeypot decides logins elsewhere).
    pub password_hash: String,
    /// Days since 1970 of the last password change (shadow's third field).
    pub last_change: u32,
}

/// A group of `/etc/group`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

/// A network interface (besides `lo`, which every host has).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interface {
    pub name: String,
    /// `52:54:00:12:34:56`
    pub mac: String,
    /// Dotted quad, in a private range.
    pub ipv4: String,
    /// Prefix length of the network.
    pub prefix: u8,
    pub mtu: u32,
    /// Link up (a fresh docker0 without containers is down).
    pub up: bool,
    /// Bytes received and sent since boot.
    pub rx_bytes: u64,
    pub tx_bytes: u64,
}

/// A process running on the host (besides the attacker's own session).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Process {
    pub pid: u32,
    pub ppid: u32,
    pub user: String,
    /// The command line as `ps` shows it; kernel threads in brackets.
    pub command: String,
    pub vsz_kib: u32,
    pub rss_kib: u32,
    /// `ps`'s STAT column (`Ss`, `S<`, `I<`, `Ssl`…).
    pub stat: String,
    pub tty: String,
    /// Seconds after boot it started.
    pub started: u64,
    /// CPU time used, hundredths of a second.
    pub cpu_centis: u64,
}

/// The per-deployment identity of the fake host. See the module documentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The seed it was drawn from; file times and other details derive from it.
    pub seed: u64,
    pub hostname: String,
    /// DNS domain (may be empty).
    pub domain: String,
    pub os: Os,
    /// `PRETTY_NAME` of os-release, with the point release (`Ubuntu 22.04.4 LTS`).
    pub os_pretty_name: String,
    /// `uname -r`
    pub kernel_release: String,
    /// `uname -v`
    pub kernel_version: String,
    /// `uname -m`
    pub machine: String,
    /// The hypervisor `lscpu` and `dmesg` name (`KVM`, `VMware`, `Microsoft`, `Xen`).
    pub hypervisor: String,
    pub cpu_model: String,
    /// CPU clock, kHz (`cpu MHz : 2394.454` is 2_394_454).
    pub cpu_khz: u32,
    pub cores: u32,
    pub mem_kib: u64,
    pub swap_kib: u64,
    /// The root disk's device name (`vda`, `sda`, `nvme0n1`, `xvda`).
    pub disk_dev: String,
    pub disk_gib: u32,
    /// Share of the root filesystem in use, per thousand.
    pub disk_used_permille: u32,
    /// Uptime when the daemon starts; it grows from there.
    pub uptime_base_secs: u64,
    /// When the system was installed (seconds since 1970): config files date from then.
    pub installed: i64,
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    pub interfaces: Vec<Interface>,
    pub gateway: String,
    pub nameservers: Vec<String>,
    /// Optional services it runs (`nginx`, `mysql`, `postgresql`, `redis`, `docker`…).
    pub services: Vec<String>,
    pub processes: Vec<Process>,
}

/// Names scanners use to spot a default Cowrie (or similar) install; never generated.
pub const FORBIDDEN_NAMES: &[&str] = &[
    "svr04", "nas3", "richard", "phil", "honeypot", "cowrie", "kippo", "svr03", "server01",
];

const ROLES: &[&str] = &[
    "web", "www", "app", "api", "db", "mysql", "pg", "redis", "cache", "mail", "smtp", "git", "ci",
    "build", "vpn", "proxy", "lb", "edge", "monitor", "grafana", "logs", "backup", "files",
    "storage", "dev", "worker", "node", "docker", "ns", "crm", "erp", "shop", "wp", "cms", "jump",
    "bastion", "media", "search", "queue", "auth", "billing", "report",
];
const ENVS: &[&str] = &[
    "prod", "prd", "stg", "stage", "dev", "test", "qa", "int", "live",
];
const WORDS: &[&str] = &[
    "atlas", "orion", "hermes", "nebula", "falcon", "kepler", "vega", "lynx", "cobalt", "juniper",
    "maple", "tundra", "sierra", "delta", "aurora", "zephyr", "onyx", "quartz", "titan", "helios",
    "boreal", "cedar", "ember", "fjord", "granite", "harbor", "iris",
];
const ORGS: &[&str] = &[
    "acme",
    "nordix",
    "kvadrat",
    "bluepeak",
    "stellar",
    "optima",
    "verdant",
    "intra",
    "corpnet",
    "hanse",
    "alpina",
    "solva",
    "tecnova",
    "medix",
    "logiq",
    "brightline",
];
const FIRST: &[&str] = &[
    "alex", "anna", "boris", "carlos", "chen", "daniel", "dmitri", "elena", "emma", "fatima",
    "felix", "hana", "ivan", "jakob", "james", "jan", "julia", "kai", "karim", "laura", "lena",
    "lucas", "marco", "maria", "marta", "mateo", "max", "mia", "milan", "nadia", "nina", "noah",
    "oliver", "omar", "paulo", "pavel", "petra", "rafael", "ravi", "sara", "sofia", "stefan",
    "tomas", "vera", "victor", "yuki", "zoe", "igor", "agnes", "bruno",
];
const LAST: &[&str] = &[
    "novak",
    "schmidt",
    "garcia",
    "kowalski",
    "tanaka",
    "nguyen",
    "silva",
    "petrov",
    "jensen",
    "muller",
    "rossi",
    "dubois",
    "moreau",
    "horvat",
    "kim",
    "larsen",
    "weber",
    "costa",
    "ivanova",
    "fischer",
    "lindqvist",
    "ortega",
    "bauer",
    "sato",
    "kovacs",
    "hansen",
];
const ROLE_USERS: &[&str] = &[
    "deploy", "ansible", "jenkins", "git", "backup", "ops", "devops", "webadmin", "dev",
    "sysadmin", "support", "monitor", "app", "admin", "service",
];

/// One row of the CPU table: model name, vendor, family, model, stepping, nominal kHz,
/// cache KB, flags variant.
struct Cpu {
    name: &'static str,
    family: u32,
    model: u32,
    stepping: u32,
    khz: u32,
    cache_kb: u32,
}

const CPUS: &[Cpu] = &[
    Cpu {
        name: "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz",
        family: 6,
        model: 79,
        stepping: 1,
        khz: 2_400_000,
        cache_kb: 35_840,
    },
    Cpu {
        name: "Intel(R) Xeon(R) Gold 6230R CPU @ 2.10GHz",
        family: 6,
        model: 85,
        stepping: 7,
        khz: 2_100_000,
        cache_kb: 36_608,
    },
    Cpu {
        name: "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz",
        family: 6,
        model: 85,
        stepping: 7,
        khz: 2_500_000,
        cache_kb: 36_608,
    },
    Cpu {
        name: "Intel(R) Xeon(R) Silver 4214 CPU @ 2.20GHz",
        family: 6,
        model: 85,
        stepping: 7,
        khz: 2_200_000,
        cache_kb: 16_896,
    },
    Cpu {
        name: "Intel Xeon Processor (Skylake, IBRS)",
        family: 6,
        model: 85,
        stepping: 4,
        khz: 2_100_000,
        cache_kb: 16_384,
    },
    Cpu {
        name: "Intel(R) Xeon(R) CPU E5-2650 v2 @ 2.60GHz",
        family: 6,
        model: 62,
        stepping: 4,
        khz: 2_600_000,
        cache_kb: 20_480,
    },
    Cpu {
        name: "Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz",
        family: 6,
        model: 158,
        stepping: 10,
        khz: 3_200_000,
        cache_kb: 12_288,
    },
    Cpu {
        name: "AMD EPYC 7543 32-Core Processor",
        family: 25,
        model: 1,
        stepping: 1,
        khz: 2_800_000,
        cache_kb: 512,
    },
    Cpu {
        name: "AMD EPYC-Rome Processor",
        family: 23,
        model: 49,
        stepping: 0,
        khz: 2_250_000,
        cache_kb: 512,
    },
    Cpu {
        name: "AMD EPYC 7R13 Processor",
        family: 25,
        model: 1,
        stepping: 1,
        khz: 2_650_000,
        cache_kb: 512,
    },
    Cpu {
        name: "AMD Ryzen 7 3700X 8-Core Processor",
        family: 23,
        model: 113,
        stepping: 0,
        khz: 3_600_000,
        cache_kb: 512,
    },
];

/// CPUID details of a model name (family, model, stepping, cache KB); a name not in the
/// table (an edited identity file) gets a generic Intel server part.
pub(crate) fn cpu_details(name: &str) -> (u32, u32, u32, u32) {
    CPUS.iter()
        .find(|c| c.name == name)
        .map(|c| (c.family, c.model, c.stepping, c.cache_kb))
        .unwrap_or((6, 85, 7, 16_896))
}

fn pick<'a, T>(r: &mut Rng, s: &'a [T]) -> &'a T {
    &s[r.usize(..s.len())]
}

impl Identity {
    /// Draws an identity from `seed`: the same seed always gives the same identity.
    pub fn generate(seed: u64) -> Identity {
        let mut r = Rng::with_seed(seed);
        let os = *pick(
            &mut r,
            &[
                Os::Debian11,
                Os::Debian12,
                Os::Debian12,
                Os::Debian12,
                Os::Ubuntu2004,
                Os::Ubuntu2204,
                Os::Ubuntu2204,
                Os::Ubuntu2204,
                Os::Ubuntu2404,
                Os::Ubuntu2404,
                Os::Centos7,
                Os::CentosStream9,
            ],
        );
        // the hypervisor decides the NIC name, MAC prefix and disk device
        let hyper = r.usize(..10);
        let (hypervisor, mac_prefix, disk_dev, nics): (&str, &[u8], &str, &[&str]) = match hyper {
            0..=3 => (
                "KVM",
                &[0x52, 0x54, 0x00],
                "vda",
                &["ens3", "eth0", "enp1s0", "ens18"],
            ),
            4 => ("KVM", &[0xfa, 0x16, 0x3e], "vda", &["ens3", "eth0"]),
            5 => ("KVM", &[0xbc, 0x24, 0x11], "sda", &["ens18", "eth0"]),
            6 => (
                "VMware",
                &[0x00, 0x50, 0x56],
                "sda",
                &["ens160", "ens192", "ens33"],
            ),
            7 => ("Microsoft", &[0x00, 0x15, 0x5d], "sda", &["eth0"]),
            8 => ("KVM", &[0x02], "nvme0n1", &["ens5", "eth0"]),
            _ => ("Xen", &[0x00, 0x16, 0x3e], "xvda", &["eth0"]),
        };
        let nic = if os.family() == Family::Rhel && nics.contains(&"eth0") {
            "eth0"
        } else {
            *pick(&mut r, nics)
        };
        let mut mac = mac_prefix.to_vec();
        while mac.len() < 6 {
            mac.push(r.u8(..));
        }
        let mac = fmt_mac(&mac);

        // a private address: 10/8, 172.16/12 or 192.168/16
        let (ip, prefix) = match r.usize(..3) {
            0 => (
                [10, r.u8(..), r.u8(..), r.u8(4..250)],
                *pick(&mut r, &[24u8, 24, 20, 16]),
            ),
            1 => (
                [172, r.u8(16..32), r.u8(..), r.u8(4..250)],
                *pick(&mut r, &[24u8, 20]),
            ),
            _ => ([192, 168, r.u8(..), r.u8(4..250)], 24),
        };
        let mask = u32::MAX << (32 - u32::from(prefix));
        let net = u32::from_be_bytes(ip) & mask;
        let gateway = fmt_ip(net + 1);
        let ipv4 = fmt_ip(u32::from_be_bytes(ip));

        let hostname = loop {
            let h = match r.usize(..6) {
                0 => format!(
                    "{}-{}-{:02}",
                    pick(&mut r, ROLES),
                    pick(&mut r, ENVS),
                    r.u32(1..12)
                ),
                1 => format!("{}{:02}", pick(&mut r, ROLES), r.u32(1..20)),
                2 => format!("{}-{:02}", pick(&mut r, ROLES), r.u32(1..9)),
                3 => format!(
                    "{}-{}{}",
                    pick(&mut r, ORGS),
                    pick(&mut r, ROLES),
                    r.u32(1..6)
                ),
                4 if hyper == 8 => format!("ip-{}", ipv4.replace('.', "-")),
                _ => pick(&mut r, WORDS).to_string(),
            };
            if !FORBIDDEN_NAMES.contains(&h.as_str()) {
                break h;
            }
        };
        let domain = match r.usize(..6) {
            0 => "internal".to_string(),
            1 => "lan".to_string(),
            2 => format!("{}.net", pick(&mut r, ORGS)),
            3 => format!("corp.{}.com", pick(&mut r, ORGS)),
            _ => String::new(),
        };

        // hardware
        let cpu = pick(&mut r, CPUS);
        let cores = *pick(&mut r, &[1u32, 2, 2, 2, 4, 4, 4, 8, 8, 16]);
        let gib = *pick(&mut r, &[1u64, 2, 4, 4, 8, 8, 16, 32]).max(&u64::from(cores / 2).max(1));
        let mem_kib = gib * 1_048_576 * r.u64(955..986) / 1000;
        let swap_kib = *pick(&mut r, &[0u64, 0, 1_048_572, 2_097_148, 4_194_300]);
        let cpu_khz = cpu.khz - 10_000 + r.u32(..20_000);
        let disk_gib = *pick(&mut r, &[20u32, 25, 30, 40, 50, 60, 80, 100, 120, 160, 200]);
        let disk_used_permille = r.u32(80..660);

        // kernel, dated along its release's life
        let (kernel_release, kernel_version, build_day) = kernel(&mut r, os);
        let installed = build_day - i64::from(r.u32(20..400)) * 86_400;
        let uptime_base_secs = r.u64(2 * 86_400..400 * 86_400);
        let os_pretty_name = match os {
            Os::Debian11 => "Debian GNU/Linux 11 (bullseye)".to_string(),
            Os::Debian12 => "Debian GNU/Linux 12 (bookworm)".to_string(),
            Os::Ubuntu2004 => "Ubuntu 20.04.6 LTS".to_string(),
            Os::Ubuntu2204 => format!("Ubuntu 22.04.{} LTS", r.u32(3..6)),
            Os::Ubuntu2404 => format!("Ubuntu 24.04.{} LTS", r.u32(1..3)),
            Os::Centos7 => "CentOS Linux 7 (Core)".to_string(),
            Os::CentosStream9 => "CentOS Stream 9".to_string(),
        };

        // services
        let mut services = Vec::new();
        let web = r.usize(..10);
        if web < 5 {
            services.push("nginx");
        } else if web < 7 {
            services.push(if os.is_deb() { "apache2" } else { "httpd" });
        }
        if r.usize(..10) < 3 {
            services.push("mysql");
        }
        if r.usize(..10) < 2 {
            services.push("postgresql");
        }
        if r.usize(..10) < 2 {
            services.push("redis");
        }
        if r.usize(..10) < 3 {
            services.push("docker");
        }
        if web < 7 && r.bool() {
            services.push("php-fpm");
        }
        if os.family() == Family::Rhel || r.usize(..10) < 2 {
            services.push("postfix");
        }
        let services: Vec<String> = services.into_iter().map(String::from).collect();

        let (users, groups) = accounts(&mut r, os, &services, installed);

        let mut interfaces = vec![Interface {
            name: nic.to_string(),
            mac,
            ipv4,
            prefix,
            mtu: if hyper == 8 { 9001 } else { 1500 },
            up: true,
            rx_bytes: r.u64(200_000_000..90_000_000_000),
            tx_bytes: r.u64(50_000_000..30_000_000_000),
        }];
        if services.iter().any(|s| s == "docker") {
            let mut m = vec![0x02, 0x42];
            m.extend((0..4).map(|_| r.u8(..)));
            interfaces.push(Interface {
                name: "docker0".into(),
                mac: fmt_mac(&m),
                ipv4: "172.17.0.1".into(),
                prefix: 16,
                mtu: 1500,
                up: false,
                rx_bytes: 0,
                tx_bytes: 0,
            });
        }
        let nameservers = match os.family() {
            Family::Ubuntu => vec!["127.0.0.53".to_string()],
            _ => match r.usize(..4) {
                0 => vec![gateway.clone()],
                1 => vec!["1.1.1.1".into(), "1.0.0.1".into()],
                2 => vec!["8.8.8.8".into(), "8.8.4.4".into()],
                _ => vec!["9.9.9.9".into(), "149.112.112.112".into()],
            },
        };

        let mut id = Identity {
            seed,
            hostname,
            domain,
            os,
            os_pretty_name,
            kernel_release,
            kernel_version,
            machine: "x86_64".into(),
            hypervisor: hypervisor.into(),
            cpu_model: cpu.name.into(),
            cpu_khz,
            cores,
            mem_kib,
            swap_kib,
            disk_dev: disk_dev.into(),
            disk_gib,
            disk_used_permille,
            uptime_base_secs,
            installed,
            users,
            groups,
            interfaces,
            gateway,
            nameservers,
            services,
            processes: vec![],
        };
        id.processes = processes(&mut r, &id);
        id
    }

    /// Reads the identity kept at `path`, or draws one from a random seed and keeps it there
    /// (mode 0600, parent directories created, written to a temporary file and renamed).
    /// A file that is not a valid identity is an error naming the path; it is never replaced.
    pub fn load_or_create(path: &Path) -> io::Result<Identity> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("corrupt honeypot identity {}: {e}", path.display()),
                )
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let id = Identity::generate(fastrand::u64(..));
                let json = serde_json::to_vec_pretty(&id).map_err(io::Error::other)?;
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)?;
                }
                let tmp = path.with_extension(format!("tmp{}", std::process::id()));
                let mut opts = std::fs::OpenOptions::new();
                opts.write(true).create(true).truncate(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    opts.mode(0o600);
                }
                let res = (|| {
                    use std::io::Write;
                    let mut f = opts.open(&tmp)?;
                    f.write_all(&json)?;
                    f.sync_all()?;
                    std::fs::rename(&tmp, path)
                })();
                if let Err(e) = res {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(io::Error::new(
                        e.kind(),
                        format!("writing honeypot identity {}: {e}", path.display()),
                    ));
                }
                Ok(id)
            }
            Err(e) => Err(io::Error::new(
                e.kind(),
                format!("reading honeypot identity {}: {e}", path.display()),
            )),
        }
    }

    /// The account called `name`.
    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }

    /// The name of user id `uid`.
    pub fn user_name(&self, uid: u32) -> Option<&str> {
        self.users
            .iter()
            .find(|u| u.uid == uid)
            .map(|u| u.name.as_str())
    }

    /// The name of group id `gid`.
    pub fn group_name(&self, gid: u32) -> Option<&str> {
        self.groups
            .iter()
            .find(|g| g.gid == gid)
            .map(|g| g.name.as_str())
    }

    /// The version banner this host's OpenSSH would send, for the SSH layer to match.
    pub fn ssh_banner(&self) -> &'static str {
        self.os.ssh_banner()
    }

    /// The primary interface (the first one).
    pub fn primary(&self) -> Option<&Interface> {
        self.interfaces.first()
    }

    /// The fully qualified host name (the host name alone without a domain).
    pub fn fqdn(&self) -> String {
        if self.domain.is_empty() {
            self.hostname.clone()
        } else {
            format!("{}.{}", self.hostname, self.domain)
        }
    }
}

fn fmt_mac(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn fmt_ip(v: u32) -> String {
    let b = v.to_be_bytes();
    format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])
}

/// A kernel release and version string for `os`, and the day it was built (seconds since
/// 1970): later patch levels are built later.
fn kernel(r: &mut Rng, os: Os) -> (String, String, i64) {
    use super::util::{tm, unix_of};
    // (lowest ABI, highest ABI, date of the lowest, date of the highest)
    let (lo, hi, d0, d1) = match os {
        Os::Debian11 => (
            18u32,
            32u32,
            unix_of(2022, 10, 1, 0, 0, 0),
            unix_of(2025, 6, 1, 0, 0, 0),
        ),
        Os::Debian12 => (
            9,
            31,
            unix_of(2023, 5, 1, 0, 0, 0),
            unix_of(2025, 3, 1, 0, 0, 0),
        ),
        Os::Ubuntu2004 => (
            150,
            212,
            unix_of(2023, 4, 1, 0, 0, 0),
            unix_of(2025, 4, 1, 0, 0, 0),
        ),
        Os::Ubuntu2204 => (
            88,
            139,
            unix_of(2023, 10, 1, 0, 0, 0),
            unix_of(2025, 5, 1, 0, 0, 0),
        ),
        Os::Ubuntu2404 => (
            31,
            63,
            unix_of(2024, 4, 20, 0, 0, 0),
            unix_of(2025, 6, 1, 0, 0, 0),
        ),
        Os::Centos7 => (
            80,
            119,
            unix_of(2022, 11, 1, 0, 0, 0),
            unix_of(2024, 6, 1, 0, 0, 0),
        ),
        Os::CentosStream9 => (
            362,
            570,
            unix_of(2023, 11, 1, 0, 0, 0),
            unix_of(2025, 4, 1, 0, 0, 0),
        ),
    };
    let abi = r.u32(lo..=hi);
    let at = d0
        + (d1 - d0) * i64::from(abi - lo) / i64::from((hi - lo).max(1))
        + i64::from(r.u32(..40_000));
    let t = tm(at);
    let stamp = format!(
        "{} {} {:2} {:02}:{:02}:{:02} UTC {}",
        t.day_name(),
        t.month_name(),
        t.day,
        t.hour,
        t.min,
        t.sec,
        t.year
    );
    let debdate = format!("{}-{:02}-{:02}", t.year, t.mon, t.day);
    match os {
        Os::Debian11 => (
            format!("5.10.0-{abi}-amd64"),
            format!(
                "#1 SMP Debian 5.10.{}-1 ({debdate})",
                150 + (abi - lo) * 5 + r.u32(..4)
            ),
            at,
        ),
        Os::Debian12 => (
            format!("6.1.0-{abi}-amd64"),
            format!(
                "#1 SMP PREEMPT_DYNAMIC Debian 6.1.{}-1 ({debdate})",
                52 + (abi - lo) * 4 + r.u32(..3)
            ),
            at,
        ),
        Os::Ubuntu2004 => (
            format!("5.4.0-{abi}-generic"),
            format!("#{}-Ubuntu SMP {stamp}", abi + 17),
            at,
        ),
        Os::Ubuntu2204 => (
            format!("5.15.0-{abi}-generic"),
            format!("#{}-Ubuntu SMP {stamp}", abi + 10),
            at,
        ),
        Os::Ubuntu2404 => (
            format!("6.8.0-{abi}-generic"),
            format!("#{abi}-Ubuntu SMP PREEMPT_DYNAMIC {stamp}"),
            at,
        ),
        Os::Centos7 => (
            format!("3.10.0-1160.{abi}.1.el7.x86_64"),
            format!("#1 SMP {stamp}"),
            at,
        ),
        Os::CentosStream9 => (
            format!("5.14.0-{abi}.el9.x86_64"),
            format!("#1 SMP PREEMPT_DYNAMIC {stamp}"),
            at,
        ),
    }
}

/// A made-up SHA-512-crypt shaped hash (`$6$` salt `$` 86 characters). It is the hash of
/// nothing: only its shape matters.
fn fake_hash(r: &mut Rng) -> String {
    const B64: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut s = String::from("$6$");
    for _ in 0..16 {
        s.push(B64[r.usize(..64)] as char);
    }
    s.push('$');
    for _ in 0..86 {
        s.push(B64[r.usize(..64)] as char);
    }
    s
}

/// The accounts and groups of a fresh `os` install, plus the packages' service accounts and
/// one to three people.
fn accounts(r: &mut Rng, os: Os, services: &[String], installed: i64) -> (Vec<User>, Vec<Group>) {
    let nologin = os.nologin();
    let day = (installed / 86_400) as u32;
    let mut users: Vec<User> = Vec::new();
    let mut groups: Vec<Group> = Vec::new();
    let add_user = |users: &mut Vec<User>,
                    name: &str,
                    uid: u32,
                    gid: u32,
                    gecos: &str,
                    home: &str,
                    shell: &str,
                    pw: &str| {
        users.push(User {
            name: name.into(),
            uid,
            gid,
            gecos: gecos.into(),
            home: home.into(),
            shell: shell.into(),
            password_hash: pw.into(),
            last_change: day,
        });
    };
    let group = |groups: &mut Vec<Group>, name: &str, gid: u32| {
        groups.push(Group {
            name: name.into(),
            gid,
            members: vec![],
        });
    };
    let has = |s: &str| services.iter().any(|x| x == s);
    let root_hash = fake_hash(r);
    if os.is_deb() {
        add_user(
            &mut users,
            "root",
            0,
            0,
            "root",
            "/root",
            "/bin/bash",
            &root_hash,
        );
        let fixed: &[(&str, u32, u32, &str, &str)] = &[
            ("daemon", 1, 1, "daemon", "/usr/sbin"),
            ("bin", 2, 2, "bin", "/bin"),
            ("sys", 3, 3, "sys", "/dev"),
            ("sync", 4, 65534, "sync", "/bin"),
            ("games", 5, 60, "games", "/usr/games"),
            ("man", 6, 12, "man", "/var/cache/man"),
            ("lp", 7, 7, "lp", "/var/spool/lpd"),
            ("mail", 8, 8, "mail", "/var/mail"),
            ("news", 9, 9, "news", "/var/spool/news"),
            ("uucp", 10, 10, "uucp", "/var/spool/uucp"),
            ("proxy", 13, 13, "proxy", "/bin"),
            ("www-data", 33, 33, "www-data", "/var/www"),
            ("backup", 34, 34, "backup", "/var/backups"),
            ("list", 38, 38, "Mailing List Manager", "/var/list"),
            ("irc", 39, 39, "ircd", "/run/ircd"),
        ];
        for (n, uid, gid, g, h) in fixed {
            let shell = if *n == "sync" { "/bin/sync" } else { nologin };
            add_user(&mut users, n, *uid, *gid, g, h, shell, "*");
        }
        if matches!(os, Os::Debian11 | Os::Ubuntu2004 | Os::Ubuntu2204) {
            add_user(
                &mut users,
                "gnats",
                41,
                41,
                "Gnats Bug-Reporting System (admin)",
                "/var/lib/gnats",
                nologin,
                "*",
            );
            group(&mut groups, "gnats", 41);
        }
        add_user(
            &mut users,
            "nobody",
            65534,
            65534,
            "nobody",
            "/nonexistent",
            nologin,
            "*",
        );
        for (n, g) in [
            ("root", 0),
            ("daemon", 1),
            ("bin", 2),
            ("sys", 3),
            ("adm", 4),
            ("tty", 5),
            ("disk", 6),
            ("lp", 7),
            ("mail", 8),
            ("news", 9),
            ("uucp", 10),
            ("man", 12),
            ("proxy", 13),
            ("kmem", 15),
            ("dialout", 20),
            ("fax", 21),
            ("voice", 22),
            ("cdrom", 24),
            ("floppy", 25),
            ("tape", 26),
            ("sudo", 27),
            ("audio", 29),
            ("dip", 30),
            ("www-data", 33),
            ("backup", 34),
            ("operator", 37),
            ("list", 38),
            ("irc", 39),
            ("src", 40),
            ("shadow", 42),
            ("utmp", 43),
            ("video", 44),
            ("sasl", 45),
            ("plugdev", 46),
            ("staff", 50),
            ("games", 60),
            ("users", 100),
            ("nogroup", 65534),
        ] {
            group(&mut groups, n, g);
        }
        // package accounts, allocated from 100 up in install order (groups from 101 up)
        let mut pkg: Vec<(&str, &str, &str, &str, bool)> = vec![
            ("_apt", "", "/nonexistent", nologin, false),
            (
                "systemd-network",
                "systemd Network Management,,,",
                "/run/systemd",
                nologin,
                true,
            ),
            (
                "systemd-resolve",
                "systemd Resolver,,,",
                "/run/systemd",
                nologin,
                true,
            ),
            ("messagebus", "", "/nonexistent", nologin, true),
            (
                "systemd-timesync",
                "systemd Time Synchronization,,,",
                "/run/systemd",
                nologin,
                true,
            ),
        ];
        if os.family() == Family::Ubuntu {
            pkg.extend([
                ("pollinate", "", "/var/cache/pollinate", "/bin/false", false),
                ("syslog", "", "/home/syslog", nologin, true),
                ("uuidd", "", "/run/uuidd", nologin, true),
                ("tcpdump", "", "/nonexistent", nologin, true),
                (
                    "tss",
                    "TPM software stack,,,",
                    "/var/lib/tpm",
                    "/bin/false",
                    true,
                ),
                ("landscape", "", "/var/lib/landscape", nologin, true),
                (
                    "fwupd-refresh",
                    "fwupd-refresh user,,,",
                    "/run/systemd",
                    nologin,
                    true,
                ),
            ]);
        }
        pkg.push(("sshd", "", "/run/sshd", nologin, false));
        if has("mysql") {
            pkg.push((
                "mysql",
                "MySQL Server,,,",
                "/nonexistent",
                "/bin/false",
                true,
            ));
        }
        if has("postgresql") {
            pkg.push((
                "postgres",
                "PostgreSQL administrator,,,",
                "/var/lib/postgresql",
                "/bin/bash",
                true,
            ));
        }
        if has("redis") {
            pkg.push(("redis", "", "/var/lib/redis", nologin, true));
        }
        if has("postfix") {
            pkg.push(("postfix", "", "/var/spool/postfix", nologin, true));
        }
        let mut uid = 100;
        let mut gid = 101;
        for extra in ["systemd-journal", "crontab", "netdev", "ssh", "_ssh"] {
            if extra == "ssh" && os == Os::Debian12 || extra == "_ssh" && os != Os::Debian12 {
                continue;
            }
            group(&mut groups, extra, gid);
            gid += 1;
        }
        for (n, gecos, home, shell, own_group) in pkg {
            let g = if own_group {
                group(&mut groups, n, gid);
                gid += 1;
                gid - 1
            } else {
                65534
            };
            let pw = if n == "postgres" { "*" } else { "!" };
            add_user(&mut users, n, uid, g, gecos, home, shell, pw);
            uid += 1;
        }
        if has("docker") {
            group(&mut groups, "docker", 999);
        }
        if os.family() == Family::Ubuntu {
            add_user(
                &mut users,
                "lxd",
                999,
                100,
                "",
                "/var/snap/lxd/common/lxd",
                "/bin/false",
                "!",
            );
            group(&mut groups, "lxd", 110);
        }
        if has("postfix") {
            group(&mut groups, "postdrop", gid);
        }
    } else {
        add_user(
            &mut users,
            "root",
            0,
            0,
            "root",
            "/root",
            "/bin/bash",
            &root_hash,
        );
        let fixed: &[(&str, u32, u32, &str, &str, &str)] = &[
            ("bin", 1, 1, "bin", "/bin", nologin),
            ("daemon", 2, 2, "daemon", "/sbin", nologin),
            ("adm", 3, 4, "adm", "/var/adm", nologin),
            ("lp", 4, 7, "lp", "/var/spool/lpd", nologin),
            ("sync", 5, 0, "sync", "/sbin", "/bin/sync"),
            ("shutdown", 6, 0, "shutdown", "/sbin", "/sbin/shutdown"),
            ("halt", 7, 0, "halt", "/sbin", "/sbin/halt"),
            ("mail", 8, 12, "mail", "/var/spool/mail", nologin),
            ("operator", 11, 0, "operator", "/root", nologin),
            ("games", 12, 100, "games", "/usr/games", nologin),
            ("ftp", 14, 50, "FTP User", "/var/ftp", nologin),
            (
                "systemd-network",
                192,
                192,
                "systemd Network Management",
                "/",
                nologin,
            ),
            ("dbus", 81, 81, "System message bus", "/", nologin),
            ("polkitd", 999, 998, "User for polkitd", "/", nologin),
            (
                "tss",
                59,
                59,
                "Account used for TPM access",
                "/dev/null",
                nologin,
            ),
            (
                "sshd",
                74,
                74,
                "Privilege-separated SSH",
                "/var/empty/sshd",
                nologin,
            ),
            (
                "chrony",
                998,
                996,
                "chrony system user",
                "/var/lib/chrony",
                nologin,
            ),
        ];
        for (n, uid, gid, g, h, s) in fixed {
            let pw = if *n == "sync" || *n == "shutdown" || *n == "halt" {
                "*"
            } else {
                "!!"
            };
            add_user(&mut users, n, *uid, *gid, g, h, s, pw);
        }
        let nobody = if os == Os::Centos7 { 99 } else { 65534 };
        add_user(
            &mut users, "nobody", nobody, nobody, "Nobody", "/", nologin, "*",
        );
        for (n, g) in [
            ("root", 0),
            ("bin", 1),
            ("daemon", 2),
            ("sys", 3),
            ("adm", 4),
            ("tty", 5),
            ("disk", 6),
            ("lp", 7),
            ("mem", 8),
            ("kmem", 9),
            ("wheel", 10),
            ("cdrom", 11),
            ("mail", 12),
            ("man", 15),
            ("dialout", 18),
            ("floppy", 19),
            ("games", 20),
            ("tape", 33),
            ("video", 39),
            ("ftp", 50),
            ("lock", 54),
            ("audio", 63),
            ("users", 100),
            ("nobody", nobody),
            ("utmp", 22),
            ("utempter", 35),
            ("input", 999),
            ("systemd-journal", 190),
            ("systemd-network", 192),
            ("dbus", 81),
            ("polkitd", 998),
            ("ssh_keys", 997),
            ("sshd", 74),
            ("chrony", 996),
            ("tss", 59),
        ] {
            group(&mut groups, n, g);
        }
        if has("postfix") {
            add_user(
                &mut users,
                "postfix",
                89,
                89,
                "",
                "/var/spool/postfix",
                nologin,
                "!!",
            );
            group(&mut groups, "postdrop", 90);
            group(&mut groups, "postfix", 89);
        }
        if has("mysql") {
            add_user(
                &mut users,
                "mysql",
                27,
                27,
                "MariaDB Server",
                "/var/lib/mysql",
                nologin,
                "!!",
            );
            group(&mut groups, "mysql", 27);
        }
        if has("postgresql") {
            add_user(
                &mut users,
                "postgres",
                26,
                26,
                "PostgreSQL Server",
                "/var/lib/pgsql",
                "/bin/bash",
                "!!",
            );
            group(&mut groups, "postgres", 26);
        }
        if has("nginx") {
            add_user(
                &mut users,
                "nginx",
                997,
                995,
                "Nginx web server",
                "/var/lib/nginx",
                nologin,
                "!!",
            );
            group(&mut groups, "nginx", 995);
        }
        if has("httpd") {
            add_user(
                &mut users,
                "apache",
                48,
                48,
                "Apache",
                "/usr/share/httpd",
                nologin,
                "!!",
            );
            group(&mut groups, "apache", 48);
        }
        if has("redis") {
            add_user(
                &mut users,
                "redis",
                996,
                994,
                "Redis Database Server",
                "/var/lib/redis",
                nologin,
                "!!",
            );
            group(&mut groups, "redis", 994);
        }
        if has("docker") {
            group(&mut groups, "docker", 993);
        }
    }

    // people: maybe the cloud image's default user, then one or two more
    let mut people: Vec<(String, String)> = Vec::new();
    if r.usize(..10) < 4 {
        let (n, g) = match os.family() {
            Family::Debian => ("debian", "Debian"),
            Family::Ubuntu => ("ubuntu", "Ubuntu"),
            Family::Rhel => ("centos", "Cloud User"),
        };
        people.push((n.into(), g.into()));
    }
    let want = people.len() + r.usize(1..3);
    while people.len() < want {
        let (name, gecos) = match r.usize(..3) {
            0 => {
                let f = pick(r, FIRST);
                let l = pick(r, LAST);
                (f.to_string(), format!("{} {}", cap(f), cap(l)))
            }
            1 => {
                let f = pick(r, FIRST);
                let l = pick(r, LAST);
                (
                    format!("{}{}", &f[..1], l),
                    format!("{} {}", cap(f), cap(l)),
                )
            }
            _ => {
                let n = pick(r, ROLE_USERS);
                (n.to_string(), String::new())
            }
        };
        let taken = users.iter().any(|u| u.name == name) || people.iter().any(|p| p.0 == name);
        if !taken && !FORBIDDEN_NAMES.contains(&name.as_str()) {
            people.push((name, gecos));
        }
    }
    let first_admin_groups: &[&str] = match os.family() {
        Family::Debian => &["sudo", "adm"],
        Family::Ubuntu => &["adm", "cdrom", "sudo", "dip", "plugdev", "lxd"],
        Family::Rhel => &["wheel"],
    };
    for (i, (name, gecos)) in people.iter().enumerate() {
        let id = 1000 + i as u32;
        let gecos = if os.is_deb() && !gecos.is_empty() {
            format!("{gecos},,,")
        } else {
            gecos.clone()
        };
        let hash = fake_hash(r);
        add_user(
            &mut users,
            name,
            id,
            id,
            &gecos,
            &format!("/home/{name}"),
            "/bin/bash",
            &hash,
        );
        if let Some(u) = users.last_mut() {
            u.last_change = day + r.u32(..200);
        }
        group(&mut groups, name, id);
        let mut extra: Vec<&str> = if i == 0 {
            first_admin_groups.to_vec()
        } else {
            vec![]
        };
        if i == 0 && services.iter().any(|s| s == "docker") {
            extra.push("docker");
        }
        for g in extra {
            if let Some(gr) = groups.iter_mut().find(|x| x.name == g) {
                gr.members.push(name.clone());
            }
        }
    }
    if os.family() == Family::Ubuntu {
        if let Some(g) = groups.iter_mut().find(|g| g.name == "adm") {
            g.members.insert(0, "syslog".into());
        }
    }
    groups.sort_by_key(|g| if g.gid == 65534 { u32::MAX - 1 } else { g.gid });
    (users, groups)
}

fn cap(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// What runs on the host: kernel threads, the init system's daemons, the services.
fn processes(r: &mut Rng, id: &Identity) -> Vec<Process> {
    let os = id.os;
    let sd = os.systemd_dir();
    let mut ps: Vec<Process> = Vec::new();
    let mut pid = 1u32;
    let push = |ps: &mut Vec<Process>,
                pid: u32,
                ppid: u32,
                user: &str,
                cmd: &str,
                vsz: u32,
                rss: u32,
                stat: &str,
                started: u64,
                cpu: u64| {
        ps.push(Process {
            pid,
            ppid,
            user: user.into(),
            command: cmd.into(),
            // a process's virtual size is never below what it has resident
            vsz_kib: if vsz == 0 { 0 } else { vsz.max(rss + rss / 2) },
            rss_kib: rss,
            stat: stat.into(),
            tty: "?".into(),
            started,
            cpu_centis: cpu,
        });
    };
    let up = id.uptime_base_secs;
    let init = if os == Os::Centos7 {
        "/usr/lib/systemd/systemd --switched-root --system --deserialize 22"
    } else if os.family() == Family::Rhel {
        "/usr/lib/systemd/systemd rhgb --switched-root --system --deserialize 31"
    } else {
        "/sbin/init"
    };
    push(
        &mut ps,
        1,
        0,
        "root",
        init,
        167_000 + r.u32(..8000),
        9000 + r.u32(..5000),
        "Ss",
        0,
        up / 900,
    );
    // kernel threads
    let mut kt = vec![
        "[kthreadd]".to_string(),
        "[rcu_gp]".into(),
        "[rcu_par_gp]".into(),
        "[slub_flushwq]".into(),
        "[netns]".into(),
        "[kworker/0:0H-events_highpri]".into(),
        "[mm_percpu_wq]".into(),
        "[rcu_tasks_kthread]".into(),
        "[ksoftirqd/0]".into(),
        "[rcu_preempt]".into(),
        "[migration/0]".into(),
        "[cpuhp/0]".into(),
    ];
    for c in 1..id.cores.min(16) {
        kt.push(format!("[cpuhp/{c}]"));
        kt.push(format!("[migration/{c}]"));
        kt.push(format!("[ksoftirqd/{c}]"));
        kt.push(format!("[kworker/{c}:0H-events_highpri]"));
    }
    for k in [
        "[kdevtmpfs]",
        "[inet_frag_wq]",
        "[kauditd]",
        "[khungtaskd]",
        "[oom_reaper]",
        "[writeback]",
        "[kcompactd0]",
        "[ksmd]",
        "[khugepaged]",
        "[kintegrityd]",
        "[kblockd]",
        "[blkcg_punt_bio]",
        "[md]",
        "[watchdogd]",
        "[kswapd0]",
        "[kthrotld]",
        "[acpi_thermal_pm]",
        "[scsi_eh_0]",
        "[scsi_tmf_0]",
        "[ipv6_addrconf]",
        "[kstrp]",
        "[charger_manager]",
    ] {
        kt.push(k.into());
    }
    let disk = &id.disk_dev;
    let part = if disk.starts_with("nvme") {
        format!("{disk}p1")
    } else {
        format!("{disk}1")
    };
    kt.push(format!("[jbd2/{part}-8]"));
    kt.push("[ext4-rsv-conver]".into());
    for (i, k) in kt.iter().enumerate() {
        pid += 1;
        let stat = if k.contains("kworker")
            || k.contains("_wq")
            || k.contains("rcu_gp")
            || k.contains("netns")
            || k.contains("kblockd")
            || k.contains("kintegrityd")
            || k.contains("md]")
            || k.contains("kthrotld")
            || k.contains("ipv6")
            || k.contains("kstrp")
            || k.contains("ext4")
            || k.contains("blkcg")
            || k.contains("charger")
            || k.contains("rcu_par")
            || k.contains("scsi_tmf")
            || k.contains("acpi")
        {
            "I<"
        } else if k.contains("ksmd") || k.contains("khugepaged") {
            "SN"
        } else {
            "S"
        };
        let ppid = if i == 0 { 0 } else { 2 };
        let started = if i < 40 { 0 } else { 1 };
        push(
            &mut ps,
            pid,
            ppid,
            "root",
            k,
            0,
            0,
            stat,
            started,
            r.u64(..3000),
        );
        pid += r.u32(0..3);
    }
    // userland daemons, after the kernel threads
    pid = pid.max(180) + r.u32(..200);
    let daemon = |ps: &mut Vec<Process>,
                  pid: &mut u32,
                  user: &str,
                  cmd: &str,
                  vsz: u32,
                  rss: u32,
                  stat: &str,
                  r: &mut Rng| {
        *pid += r.u32(1..40);
        let started = r.u64(2..12);
        let cpu = r.u64(100..(up / 100).max(200));
        push(ps, *pid, 1, user, cmd, vsz, rss, stat, started, cpu);
        *pid
    };
    daemon(
        &mut ps,
        &mut pid,
        "root",
        &format!("{sd}/systemd-journald"),
        49_000,
        16_000 + r.u32(..40_000),
        "Ss",
        r,
    );
    daemon(
        &mut ps,
        &mut pid,
        "root",
        &format!("{sd}/systemd-udevd"),
        25_000,
        6_000,
        "Ss",
        r,
    );
    match os.family() {
        Family::Rhel => {
            daemon(
                &mut ps,
                &mut pid,
                "root",
                "/sbin/auditd",
                90_000,
                2_400,
                "S<sl",
                r,
            );
            daemon(
                &mut ps,
                &mut pid,
                "root",
                "/usr/sbin/irqbalance --foreground",
                82_000,
                3_800,
                "Ssl",
                r,
            );
            daemon(
                &mut ps,
                &mut pid,
                "root",
                &format!("{sd}/systemd-logind"),
                26_000,
                5_600,
                "Ss",
                r,
            );
            daemon(
                &mut ps,
                &mut pid,
                "dbus",
                "/usr/bin/dbus-broker-launch --scope system --audit",
                9_000,
                4_200,
                "Ss",
                r,
            );
            daemon(
                &mut ps,
                &mut pid,
                "polkitd",
                "/usr/lib/polkit-1/polkitd --no-debug",
                612_000,
                12_000,
                "Ssl",
                r,
            );
            daemon(
                &mut ps,
                &mut pid,
                "chrony",
                "/usr/sbin/chronyd -F 2",
                85_000,
                3_600,
                "S",
                r,
            );
            let py = if os == Os::Centos7 {
                "/usr/bin/python2 -Es"
            } else {
                "/usr/bin/python3 -s"
            };
            daemon(
                &mut ps,
                &mut pid,
                "root",
                &format!("{py} /usr/sbin/firewalld --nofork --nopid"),
                360_000,
                40_000,
                "Ssl",
                r,
            );
            daemon(
                &mut ps,
                &mut pid,
                "root",
                "/usr/sbin/NetworkManager --no-daemon",
                255_000,
                18_000,
                "Ssl",
                r,
            );
            daemon(
                &mut ps,
                &mut pid,
                "root",
                "/usr/sbin/rsyslogd -n",
                160_000,
                6_400,
                "Ssl",
                r,
            );
            daemon(
                &mut ps,
                &mut pid,
                "root",
                "/usr/sbin/crond -n",
                222_000,
                3_300,
                "Ss",
                r,
            );
            let py = if os == Os::Centos7 {
                "/usr/bin/python2 -Es /usr/sbin/tuned -l -P"
            } else {
                "/usr/bin/python3 -Es /usr/sbin/tuned -l -P"
            };
            daemon(&mut ps, &mut pid, "root", py, 430_000, 28_000, "Ssl", r);
            let sshd = if os == Os::Centos7 {
                "/usr/sbin/sshd -D"
            } else {
                "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"
            };
            daemon(&mut ps, &mut pid, "root", sshd, 112_000, 4_300, "Ss", r);
            let ag = daemon(
                &mut ps,
                &mut pid,
                "root",
                "/sbin/agetty -o -p -- \\u --noclear - linux",
                221_000,
                1_900,
                "Ss+",
                r,
            );
            if let Some(p) = ps.iter_mut().find(|p| p.pid == ag) {
                p.tty = "tty1".into();
            }
        }
        _ => {
            if os.family() == Family::Ubuntu {
                daemon(
                    &mut ps,
                    &mut pid,
                    "root",
                    "/sbin/multipathd -d -s",
                    280_000,
                    27_000,
                    "SLsl",
                    r,
                );
                daemon(
                    &mut ps,
                    &mut pid,
                    "systemd-network",
                    &format!("{sd}/systemd-networkd"),
                    16_000,
                    8_000,
                    "Ss",
                    r,
                );
                daemon(
                    &mut ps,
                    &mut pid,
                    "systemd-resolve",
                    &format!("{sd}/systemd-resolved"),
                    25_000,
                    12_500,
                    "Ss",
                    r,
                );
            }
            daemon(
                &mut ps,
                &mut pid,
                "systemd-timesync",
                &format!("{sd}/systemd-timesyncd"),
                89_000,
                6_800,
                "Ssl",
                r,
            );
            let cron = if os == Os::Ubuntu2204 || os == Os::Ubuntu2404 {
                "/usr/sbin/cron -f -P"
            } else {
                "/usr/sbin/cron -f"
            };
            daemon(&mut ps, &mut pid, "root", cron, 6_700, 2_600, "Ss", r);
            daemon(&mut ps, &mut pid, "messagebus", "@dbus-daemon --system --address=systemd: --nofork --nopidfile --systemd-activation --syslog-only", 9_300, 4_800, "Ss", r);
            if os.family() == Family::Ubuntu {
                daemon(
                    &mut ps,
                    &mut pid,
                    "root",
                    "/usr/bin/python3 /usr/bin/networkd-dispatcher --run-startup-triggers",
                    32_000,
                    19_000,
                    "Ss",
                    r,
                );
                let pk = if os == Os::Ubuntu2404 {
                    "/usr/lib/polkit-1/polkitd --no-debug"
                } else {
                    "/usr/libexec/polkitd --no-debug"
                };
                daemon(&mut ps, &mut pid, "root", pk, 234_000, 7_600, "Ssl", r);
                daemon(
                    &mut ps,
                    &mut pid,
                    "syslog",
                    "/usr/sbin/rsyslogd -n -iNONE",
                    222_000,
                    5_200,
                    "Ssl",
                    r,
                );
                daemon(
                    &mut ps,
                    &mut pid,
                    "root",
                    "/usr/lib/snapd/snapd",
                    1_460_000,
                    31_000,
                    "Ssl",
                    r,
                );
            } else {
                daemon(
                    &mut ps,
                    &mut pid,
                    "root",
                    "/usr/sbin/rsyslogd -n -iNONE",
                    222_000,
                    4_800,
                    "Ssl",
                    r,
                );
            }
            daemon(
                &mut ps,
                &mut pid,
                "root",
                &format!("{sd}/systemd-logind"),
                25_000,
                7_300,
                "Ss",
                r,
            );
            let ag = daemon(
                &mut ps,
                &mut pid,
                "root",
                "/sbin/agetty -o -p -- \\u --noclear tty1 linux",
                5_900,
                1_100,
                "Ss+",
                r,
            );
            if let Some(p) = ps.iter_mut().find(|p| p.pid == ag) {
                p.tty = "tty1".into();
            }
            if os.family() == Family::Ubuntu {
                daemon(&mut ps, &mut pid, "root", "/usr/bin/python3 /usr/share/unattended-upgrades/unattended-upgrade-shutdown --wait-for-signal", 110_000, 21_000, "Ssl", r);
            }
            daemon(
                &mut ps,
                &mut pid,
                "root",
                "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups",
                15_400,
                9_200,
                "Ss",
                r,
            );
        }
    }
    // services, started a little later
    let deb = os.is_deb();
    let php = match os {
        Os::Debian11 | Os::Ubuntu2004 => "7.4",
        Os::Debian12 => "8.2",
        Os::Ubuntu2204 => "8.1",
        Os::Ubuntu2404 => "8.3",
        Os::Centos7 | Os::CentosStream9 => "",
    };
    pid += r.u32(100..600);
    for s in &id.services {
        match s.as_str() {
            "nginx" => {
                let m = daemon(
                    &mut ps,
                    &mut pid,
                    "root",
                    "nginx: master process /usr/sbin/nginx -g daemon on; master_process on;",
                    55_000,
                    1_600,
                    "Ss",
                    r,
                );
                let wu = if deb { "www-data" } else { "nginx" };
                for _ in 0..id.cores.min(8) {
                    let w = daemon(
                        &mut ps,
                        &mut pid,
                        wu,
                        "nginx: worker process",
                        56_000,
                        5_800,
                        "S",
                        r,
                    );
                    set_ppid(&mut ps, w, m);
                }
            }
            "apache2" | "httpd" => {
                let (cmd, wu) = if deb {
                    ("/usr/sbin/apache2 -k start", "www-data")
                } else {
                    ("/usr/sbin/httpd -DFOREGROUND", "apache")
                };
                let m = daemon(&mut ps, &mut pid, "root", cmd, 6_600, 4_600, "Ss", r);
                for _ in 0..r.u32(2..6) {
                    let w = daemon(&mut ps, &mut pid, wu, cmd, 754_000, 6_200, "Sl", r);
                    set_ppid(&mut ps, w, m);
                }
            }
            "php-fpm" => {
                let (cmd, u) = if deb {
                    (
                        format!("php-fpm: master process (/etc/php/{php}/fpm/php-fpm.conf)"),
                        "www-data",
                    )
                } else {
                    (
                        "php-fpm: master process (/etc/php-fpm.conf)".to_string(),
                        "apache",
                    )
                };
                let m = daemon(&mut ps, &mut pid, "root", &cmd, 203_000, 19_000, "Ss", r);
                for _ in 0..2 {
                    let w = daemon(
                        &mut ps,
                        &mut pid,
                        u,
                        "php-fpm: pool www",
                        203_000,
                        7_400,
                        "S",
                        r,
                    );
                    set_ppid(&mut ps, w, m);
                }
            }
            "mysql" => {
                let cmd = match os {
                    Os::Debian11 | Os::Debian12 => "/usr/sbin/mariadbd",
                    Os::Centos7 => "/usr/libexec/mysqld --basedir=/usr --datadir=/var/lib/mysql --plugin-dir=/usr/lib64/mysql/plugin --log-error=/var/log/mariadb/mariadb.log --pid-file=/var/run/mariadb/mariadb.pid --socket=/var/lib/mysql/mysql.sock",
                    Os::CentosStream9 => "/usr/libexec/mariadbd --basedir=/usr",
                    _ => "/usr/sbin/mysqld",
                };
                daemon(
                    &mut ps,
                    &mut pid,
                    "mysql",
                    cmd,
                    1_300_000,
                    98_000 + r.u32(..200_000),
                    "Ssl",
                    r,
                );
            }
            "postgresql" => {
                let v = match os {
                    Os::Debian11 => "13",
                    Os::Debian12 => "15",
                    Os::Ubuntu2004 => "12",
                    Os::Ubuntu2204 => "14",
                    _ => "16",
                };
                let (main, prefix) = if deb {
                    (format!("/usr/lib/postgresql/{v}/bin/postgres -D /var/lib/postgresql/{v}/main -c config_file=/etc/postgresql/{v}/main/postgresql.conf"), format!("postgres: {v}/main: "))
                } else {
                    (
                        "/usr/bin/postmaster -D /var/lib/pgsql/data".to_string(),
                        "postgres: ".to_string(),
                    )
                };
                let m = daemon(
                    &mut ps, &mut pid, "postgres", &main, 217_000, 29_000, "Ss", r,
                );
                for w in [
                    "checkpointer",
                    "background writer",
                    "walwriter",
                    "autovacuum launcher",
                    "logical replication launcher",
                ] {
                    let c = daemon(
                        &mut ps,
                        &mut pid,
                        "postgres",
                        &format!("{prefix}{w}"),
                        217_000,
                        6_000,
                        "Ss",
                        r,
                    );
                    set_ppid(&mut ps, c, m);
                }
            }
            "redis" => {
                let u = "redis";
                daemon(
                    &mut ps,
                    &mut pid,
                    u,
                    "/usr/bin/redis-server 127.0.0.1:6379",
                    67_000,
                    11_000,
                    "Ssl",
                    r,
                );
            }
            "docker" => {
                daemon(
                    &mut ps,
                    &mut pid,
                    "root",
                    "/usr/bin/containerd",
                    1_800_000,
                    46_000,
                    "Ssl",
                    r,
                );
                daemon(
                    &mut ps,
                    &mut pid,
                    "root",
                    "/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock",
                    2_200_000,
                    78_000,
                    "Ssl",
                    r,
                );
            }
            "postfix" => {
                let master = if deb {
                    "/usr/lib/postfix/sbin/master -w"
                } else {
                    "/usr/libexec/postfix/master -w"
                };
                let m = daemon(&mut ps, &mut pid, "root", master, 42_000, 4_500, "Ss", r);
                for w in ["qmgr -l -t unix -u", "pickup -l -t unix -u"] {
                    let c = daemon(&mut ps, &mut pid, "postfix", w, 42_000, 6_700, "S", r);
                    set_ppid(&mut ps, c, m);
                }
            }
            _ => {}
        }
    }
    // a couple of recent kernel workers
    let mut pid = 40_000 + r.u32(..200_000);
    for c in 0..id.cores.min(3) {
        pid += r.u32(3..900);
        push(
            &mut ps,
            pid,
            2,
            "root",
            &format!("[kworker/{c}:{}-events]", r.u32(0..3)),
            0,
            0,
            "I",
            up.saturating_sub(r.u64(60..4000)),
            r.u64(..50),
        );
    }
    ps
}

fn set_ppid(ps: &mut [Process], pid: u32, ppid: u32) {
    if let Some(p) = ps.iter_mut().find(|p| p.pid == pid) {
        p.ppid = ppid;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_identity_and_different_seeds_differ() {
        assert_eq!(Identity::generate(42), Identity::generate(42));
        let a = Identity::generate(1);
        let b = Identity::generate(2);
        assert_ne!(a, b);
        // over many seeds the host names and addresses spread out
        let names: std::collections::HashSet<String> =
            (0..200).map(|s| Identity::generate(s).hostname).collect();
        assert!(
            names.len() > 100,
            "only {} distinct host names",
            names.len()
        );
    }

    #[test]
    fn never_cowrie_defaults() {
        for seed in 0..1000 {
            let id = Identity::generate(seed);
            assert!(
                !FORBIDDEN_NAMES.contains(&id.hostname.as_str()),
                "seed {seed}: {}",
                id.hostname
            );
            for u in &id.users {
                assert!(
                    !FORBIDDEN_NAMES.contains(&u.name.as_str()),
                    "seed {seed}: user {}",
                    u.name
                );
            }
            assert!(!id.cpu_model.contains("E8200"));
            assert_ne!(id.kernel_release, "3.2.0-4-amd64");
        }
    }

    #[test]
    fn generated_identities_are_consistent() {
        for seed in 0..300 {
            let id = Identity::generate(seed);
            assert_eq!(id.users[0].name, "root");
            assert!(id.users[0].password_hash.starts_with("$6$"));
            assert_eq!(id.users[0].password_hash.len(), 3 + 16 + 1 + 86);
            // at least one person with a home directory
            assert!(id
                .users
                .iter()
                .any(|u| u.uid >= 1000 && u.uid < 65534 && u.home.starts_with("/home/")));
            // unique user names and uids
            let mut names: Vec<&str> = id.users.iter().map(|u| u.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), id.users.len(), "seed {seed}");
            // every user's group exists
            for u in &id.users {
                assert!(
                    id.groups.iter().any(|g| g.gid == u.gid),
                    "seed {seed}: {} gid {}",
                    u.name,
                    u.gid
                );
            }
            // a private IPv4 address
            let ip: std::net::Ipv4Addr = id.interfaces[0].ipv4.parse().unwrap();
            assert!(ip.is_private(), "{ip}");
            assert!(id.processes.iter().any(|p| p.command.contains("sshd")));
            assert!(
                id.processes.windows(2).all(|w| w[0].pid < w[1].pid),
                "seed {seed}: pids out of order"
            );
            assert!(id.cores >= 1 && id.mem_kib > 900_000);
        }
    }

    #[test]
    fn load_or_create_round_trips_and_keeps_the_file_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/identity.json");
        let first = Identity::load_or_create(&path).unwrap();
        let again = Identity::load_or_create(&path).unwrap();
        assert_eq!(first, again);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // two creations in different places draw different hosts
        let other = Identity::load_or_create(&dir.path().join("other.json")).unwrap();
        assert_ne!(first.seed, other.seed);
    }

    #[test]
    fn a_corrupt_identity_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("identity.json");
        std::fs::write(&path, b"{ not json").unwrap();
        let err = Identity::load_or_create(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
        // and the file was left alone
        assert_eq!(std::fs::read(&path).unwrap(), b"{ not json");
    }
}
