//! Network tools, which never touch the network: `wget curl tftp ftpget nc ncat scp ssh
//! ping` and BusyBox's applets. Each records what it was asked to fetch (or reach) as an
//! [`Effect::Download`](super::Effect::Download), prints what the real tool prints when the
//! network fails (names do not resolve: this host has no working DNS; addresses refuse the
//! connection), creates no file, and exits with the tool's failure status.

use super::cmd_files::name_of;
use super::exec::{Io, Run};
use super::util::{self, tm};
use super::Shell;

/// A URL as the tools read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Url {
    pub scheme: String,
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    pub path: String,
}

impl Url {
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(match self.scheme.as_str() {
            "https" => 443,
            "ftp" => 21,
            "tftp" => 69,
            "ssh" | "scp" | "sftp" => 22,
            _ => 80,
        })
    }
    /// `scheme://[user@]host[:port]/path`
    pub fn text(&self) -> String {
        let user = self
            .user
            .as_ref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        format!("{}://{user}{host}{port}{}", self.scheme, self.path)
    }
    /// The host is an address (nothing to resolve).
    pub fn is_ip(&self) -> bool {
        self.host.parse::<std::net::IpAddr>().is_ok()
    }
}

/// Parses `http://host:port/path`, `https://…`, `ftp://…`, `tftp://…` or a bare
/// `host[:port]/path` (taken as `default_scheme`). None if there is no usable host.
pub(crate) fn parse_url(s: &str, default_scheme: &str) -> Option<Url> {
    let s = s.trim();
    if s.is_empty() || s.len() > 8192 {
        return None;
    }
    let (scheme, rest) = match s.find("://") {
        Some(k)
            if k > 0
                && s[..k]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.') =>
        {
            (s[..k].to_ascii_lowercase(), &s[k + 3..])
        }
        _ => (default_scheme.to_string(), s),
    };
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(k) => (&rest[..k], &rest[k..]),
        None => (rest, ""),
    };
    let path = if path.is_empty() {
        "/".to_string()
    } else if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    let (user, hostport) = match authority.rfind('@') {
        Some(k) => (Some(authority[..k].to_string()), &authority[k + 1..]),
        None => (None, authority),
    };
    let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
        let end = h.find(']')?;
        let port = h[end + 1..]
            .strip_prefix(':')
            .map(|p| p.parse::<u16>().ok());
        (h[..end].to_string(), port)
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h.to_string(), Some(p.parse::<u16>().ok())),
            _ => (hostport.to_string(), None),
        }
    };
    let port = match port {
        Some(Some(p)) => Some(p),
        Some(None) => return None,
        None => None,
    };
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
    {
        return None;
    }
    Some(Url {
        scheme,
        user,
        host: host.to_ascii_lowercase(),
        port,
        path,
    })
}

/// Options of a tool: which take a value (short letters and long names).
fn split_args<'a>(
    argv: &'a [String],
    short_vals: &str,
    long_vals: &[&str],
) -> (Vec<(String, Option<String>)>, Vec<&'a str>) {
    let mut opts = Vec::new();
    let mut ops = Vec::new();
    let mut k = 1;
    while k < argv.len() {
        let a = argv[k].as_str();
        if a == "--" {
            ops.extend(argv[k + 1..].iter().map(String::as_str));
            break;
        }
        if let Some(l) = a.strip_prefix("--") {
            match l.split_once('=') {
                Some((n, v)) => opts.push((n.to_string(), Some(v.to_string()))),
                None if long_vals.contains(&l) => {
                    opts.push((l.to_string(), argv.get(k + 1).cloned()));
                    k += 1;
                }
                None => opts.push((l.to_string(), None)),
            }
        } else if a.len() > 1 && a.starts_with('-') {
            let cs: Vec<char> = a[1..].chars().collect();
            for (i, c) in cs.iter().enumerate() {
                if short_vals.contains(*c) {
                    let rest: String = cs[i + 1..].iter().collect();
                    let v = if rest.is_empty() {
                        k += 1;
                        argv.get(k).cloned()
                    } else {
                        Some(rest)
                    };
                    opts.push((c.to_string(), v));
                    break;
                }
                opts.push((c.to_string(), None));
            }
        } else {
            ops.push(a);
        }
        k += 1;
    }
    (opts, ops)
}

fn has(opts: &[(String, Option<String>)], names: &[&str]) -> bool {
    opts.iter().any(|(n, _)| names.contains(&n.as_str()))
}

fn val<'a>(opts: &'a [(String, Option<String>)], names: &[&str]) -> Option<&'a str> {
    opts.iter()
        .rev()
        .find(|(n, _)| names.contains(&n.as_str()))
        .and_then(|(_, v)| v.as_deref())
}

pub(crate) fn wget(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let (opts, ops) = split_args(
        argv,
        "OoaPUtTwelNiBYDQA",
        &[
            "output-document",
            "output-file",
            "append-output",
            "directory-prefix",
            "user-agent",
            "tries",
            "timeout",
            "wait",
            "execute",
            "header",
            "user",
            "password",
            "post-data",
            "post-file",
            "referer",
            "input-file",
            "base",
            "limit-rate",
            "http-user",
            "http-password",
            "ftp-user",
            "ftp-password",
            "method",
            "body-data",
            "bind-address",
            "ca-certificate",
            "certificate",
            "load-cookies",
            "save-cookies",
            "level",
            "accept",
            "reject",
            "domains",
            "exclude-domains",
            "dns-timeout",
            "connect-timeout",
            "read-timeout",
            "quota",
            "proxy-user",
            "proxy-password",
        ],
    );
    if has(&opts, &["V", "version"]) {
        let (v, _) = sh.world.identity.os.tool_versions();
        out!(rt, io, "GNU Wget {v} built on linux-gnu.\n\n-cares +digest -gpgme +https +ipv6 +iri +large-file -metalink +nls\n+ntlm +opie +psl +ssl/gnutls\n");
        return 0;
    }
    let quiet = has(&opts, &["q", "quiet"]);
    let mut urls: Vec<String> = ops.iter().map(|s| s.to_string()).collect();
    if let Some(f) = val(&opts, &["i", "input-file"]) {
        if let Ok(b) = sh.read_path(rt, f, 1 << 20) {
            urls.extend(
                String::from_utf8_lossy(&b)
                    .lines()
                    .map(|l| l.trim().to_string())
                    .filter(|l| !l.is_empty())
                    .take(100),
            );
        } else if !quiet {
            err!(
                rt,
                io,
                "{f}: No such file or directory\nNo URLs found in {f}.\n"
            );
            return 1;
        }
    }
    if urls.is_empty() {
        err!(rt, io, "wget: missing URL\nUsage: wget [OPTION]... [URL]...\n\nTry `wget --help' for more options.\n");
        return 1;
    }
    if has(&opts, &["b", "background"]) {
        let pid = sh.new_pid();
        for u in &urls {
            if let Some(url) = parse_url(u, "http") {
                rt.download(url.text(), "wget");
            }
        }
        out!(
            rt,
            io,
            "Continuing in background, pid {pid}.\nOutput will be written to ‘wget-log’.\n"
        );
        return 0;
    }
    let nv = has(&opts, &["nv", "no-verbose"]) || (has(&opts, &["n"]) && has(&opts, &["v"]));
    let mut status = 0;
    for u in urls.iter().take(100) {
        let Some(url) = parse_url(u, "http") else {
            if !quiet {
                err!(rt, io, "{u}: Invalid host name.\n");
            }
            status = 1;
            continue;
        };
        rt.download(url.text(), "wget");
        status = 4;
        if quiet {
            continue;
        }
        if !nv {
            err!(rt, io, "--{}--  {}\n", tm(util::now()).iso(), url.text());
        }
        if url.is_ip() {
            if nv {
                err!(rt, io, "failed: Connection refused.\n");
            } else {
                err!(
                    rt,
                    io,
                    "Connecting to {}:{}... failed: Connection refused.\n",
                    url.host,
                    url.port_or_default()
                );
            }
        } else {
            if !nv {
                err!(
                    rt,
                    io,
                    "Resolving {} ({})... failed: Temporary failure in name resolution.\n",
                    url.host,
                    url.host
                );
            }
            err!(
                rt,
                io,
                "wget: unable to resolve host address ‘{}’\n",
                url.host
            );
        }
    }
    status
}

/// curl's message when it cannot connect, by version.
fn curl_refused(version: &str, host: &str, port: u16) -> String {
    let ms = fastrand::u32(0..3);
    if version.starts_with("7.29") {
        format!("curl: (7) Failed connect to {host}:{port}; Connection refused\n")
    } else if version.starts_with("7.8") && version != "7.81.0" || version.starts_with('8') {
        format!("curl: (7) Failed to connect to {host} port {port} after {ms} ms: Couldn't connect to server\n")
    } else if version == "7.81.0" {
        format!(
            "curl: (7) Failed to connect to {host} port {port} after {ms} ms: Connection refused\n"
        )
    } else {
        format!("curl: (7) Failed to connect to {host} port {port}: Connection refused\n")
    }
}

pub(crate) fn curl(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let (opts, ops) = split_args(
        argv,
        "oudHAXeEbcxmwTFKrYyzCQDUPt",
        &[
            "output",
            "user",
            "data",
            "data-raw",
            "data-binary",
            "data-urlencode",
            "header",
            "user-agent",
            "request",
            "referer",
            "cookie",
            "cookie-jar",
            "proxy",
            "max-time",
            "connect-timeout",
            "write-out",
            "upload-file",
            "form",
            "config",
            "range",
            "retry",
            "retry-delay",
            "url",
            "cacert",
            "cert",
            "key",
            "resolve",
            "interface",
            "dump-header",
            "output-dir",
            "limit-rate",
            "speed-limit",
            "speed-time",
            "max-redirs",
            "proxy-user",
            "ciphers",
        ],
    );
    let (_, version) = sh.world.identity.os.tool_versions();
    if has(&opts, &["V", "version"]) {
        out!(rt, io, "curl {version} (x86_64-pc-linux-gnu) libcurl/{version} OpenSSL/3.0.11 zlib/1.2.13\nRelease-Date: 2023-02-20\nProtocols: dict file ftp ftps gopher gophers http https imap imaps ldap ldaps mqtt pop3 pop3s rtsp rtmp scp sftp smb smbs smtp smtps telnet tftp\nFeatures: alt-svc AsynchDNS HSTS HTTP2 HTTPS-proxy IDN IPv6 Largefile libz NTLM SSL UnixSockets\n");
        return 0;
    }
    let mut urls: Vec<String> = ops.iter().map(|s| s.to_string()).collect();
    urls.extend(
        opts.iter()
            .filter(|(n, _)| n == "url")
            .filter_map(|(_, v)| v.clone()),
    );
    if urls.is_empty() {
        err!(
            rt,
            io,
            "curl: try 'curl --help' or 'curl --manual' for more information\n"
        );
        return 2;
    }
    let silent = has(&opts, &["s", "silent"]);
    let show_err = has(&opts, &["S", "show-error"]) || !silent;
    let to_file = has(
        &opts,
        &["o", "O", "output", "remote-name", "remote-name-all"],
    );
    let meter = !silent && (to_file || !sh.on_tty(io));
    let mut status = 0;
    for u in urls.iter().take(100) {
        let Some(url) = parse_url(u, "http") else {
            if show_err {
                err!(
                    rt,
                    io,
                    "curl: (3) URL using bad/illegal format or missing URL\n"
                );
            }
            status = 3;
            continue;
        };
        rt.download(url.text(), "curl");
        if meter {
            // the meter's line is not ended before the error, as curl leaves it
            err!(rt, io, "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n                                 Dload  Upload   Total   Spent    Left  Speed\n  0     0    0     0    0     0      0      0 --:--:-- --:--:-- --:--:--     0");
        }
        if url.is_ip() {
            status = 7;
            if show_err {
                rt.err(
                    io,
                    curl_refused(version, &url.host, url.port_or_default()).as_bytes(),
                );
            }
        } else {
            status = 6;
            if show_err {
                if version.starts_with("7.29") {
                    err!(
                        rt,
                        io,
                        "curl: (6) Could not resolve host: {}; Name or service not known\n",
                        url.host
                    );
                } else {
                    err!(rt, io, "curl: (6) Could not resolve host: {}\n", url.host);
                }
            }
        }
    }
    status
}

pub(crate) fn tftp(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    tftp_as(sh, rt, io, argv, false)
}

/// tftp-hpa (`tftp host -c get file`) and BusyBox's (`tftp -g -r file host`).
fn tftp_as(_: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String], busybox: bool) -> i32 {
    let (opts, ops) = split_args(argv, "rlmcRb", &["remote-file", "local-file", "blocksize"]);
    let bb = busybox || has(&opts, &["g", "p", "r", "l", "get", "put"]);
    let (host, port, file) = if bb {
        let file = val(&opts, &["r", "remote-file"])
            .or(val(&opts, &["l", "local-file"]))
            .unwrap_or("")
            .to_string();
        (
            ops.first().map(|s| s.to_string()),
            ops.get(1).and_then(|p| p.parse::<u16>().ok()),
            file,
        )
    } else {
        // tftp-hpa: host [port] -c get remote [local]; -c's value was taken as an option
        let mut words: Vec<String> = ops.iter().map(|s| s.to_string()).collect();
        if let Some(v) = val(&opts, &["c"]) {
            words.insert(words.len().min(1), v.to_string());
        }
        let host = words.first().cloned();
        let port = words.get(1).and_then(|p| p.parse::<u16>().ok());
        let file = words
            .iter()
            .skip_while(|w| *w != "get" && *w != "put")
            .nth(1)
            .cloned()
            .unwrap_or_default();
        (host, port, file)
    };
    let Some(host) = host else {
        if bb {
            err!(
                rt,
                io,
                "BusyBox tftp: missing host\nUsage: tftp [OPTIONS] HOST [PORT]\n"
            );
        }
        return 1;
    };
    let url = Url {
        scheme: "tftp".into(),
        user: None,
        host: host.to_ascii_lowercase(),
        port,
        path: format!("/{}", file.trim_start_matches('/')),
    };
    rt.download(url.text(), if busybox { "busybox tftp" } else { "tftp" });
    if !url.is_ip() {
        if bb {
            err!(rt, io, "tftp: bad address '{host}'\n");
        } else {
            err!(rt, io, "{host}: Temporary failure in name resolution\n");
        }
        return 1;
    }
    if bb {
        err!(rt, io, "tftp: timeout\n");
    } else {
        out!(rt, io, "Transfer timed out.\n\n");
    }
    1
}

pub(crate) fn ftpget(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    ftpget_as(sh, rt, io, argv, false)
}

fn ftpget_as(_: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String], busybox: bool) -> i32 {
    let (opts, ops) = split_args(argv, "upP", &["username", "password", "port"]);
    let Some(host) = ops.first() else {
        err!(rt, io, "BusyBox ftpget: missing operands\nUsage: ftpget [OPTIONS] HOST [LOCAL_FILE] REMOTE_FILE\n");
        return 1;
    };
    let remote = ops.get(2).or(ops.get(1)).map_or("", |s| *s);
    let port = val(&opts, &["P", "port"]).and_then(|p| p.parse().ok());
    let user = val(&opts, &["u", "username"]).map(String::from);
    let url = Url {
        scheme: "ftp".into(),
        user,
        host: host.to_ascii_lowercase(),
        port,
        path: format!("/{}", remote.trim_start_matches('/')),
    };
    rt.download(
        url.text(),
        if busybox { "busybox ftpget" } else { "ftpget" },
    );
    if url.is_ip() {
        err!(
            rt,
            io,
            "ftpget: can't connect to remote host ({}): Connection refused\n",
            url.host
        );
    } else {
        err!(rt, io, "ftpget: bad address '{host}'\n");
    }
    1
}

pub(crate) fn nc(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    nc_as(sh, rt, io, argv, false)
}

fn nc_as(_: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String], busybox: bool) -> i32 {
    let cmd = name_of(argv);
    let ncat = cmd == "ncat";
    let (opts, ops) = split_args(
        argv,
        "pewsiqxXIOTVcg",
        &[
            "exec",
            "sh-exec",
            "source-port",
            "wait",
            "proxy",
            "proxy-type",
            "send-only",
        ],
    );
    if has(&opts, &["h", "help"]) {
        err!(rt, io, "usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]\n\t  [-m minttl] [-O length] [-P proxy_username] [-p source_port]\n\t  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]\n\t  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]\n\t  [destination] [port]\n");
        return 1;
    }
    let _ = io.stdin.take_all();
    if has(&opts, &["l", "listen"]) {
        // a listener waits for a connection that never comes; nothing to record
        return 0;
    }
    let (Some(host), Some(port)) = (ops.first(), ops.get(1)) else {
        if ncat {
            err!(
                rt,
                io,
                "Ncat: You must specify a host to connect to. QUITTING.\n"
            );
        } else {
            err!(rt, io, "usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]\n\t  [-m minttl] [-O length] [-P proxy_username] [-p source_port]\n\t  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]\n\t  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]\n\t  [destination] [port]\n");
        }
        return 1;
    };
    let tool = if busybox {
        "busybox nc".to_string()
    } else {
        cmd.clone()
    };
    rt.download(format!("{host}:{port}"), &tool);
    let ip = host.parse::<std::net::IpAddr>().is_ok();
    let verbose = has(&opts, &["v"]);
    if busybox {
        if ip {
            err!(
                rt,
                io,
                "nc: can't connect to remote host ({host}): Connection refused\n"
            );
        } else {
            err!(rt, io, "nc: bad address '{host}'\n");
        }
    } else if ncat {
        if ip {
            err!(rt, io, "Ncat: Connection refused.\n");
        } else {
            err!(rt, io, "Ncat: Could not resolve hostname \"{host}\": Temporary failure in name resolution. QUITTING.\n");
        }
    } else if !ip {
        err!(rt, io, "nc: getaddrinfo for host \"{host}\" port {port}: Temporary failure in name resolution\n");
    } else if verbose {
        err!(
            rt,
            io,
            "nc: connect to {host} port {port} (tcp) failed: Connection refused\n"
        );
    }
    1
}

/// `[user@]host:path` of scp.
fn remote_spec(s: &str) -> Option<(Option<String>, String, String)> {
    if s.starts_with('/') || s.starts_with("./") {
        return None;
    }
    if let Some(rest) = s.strip_prefix("scp://") {
        let u = parse_url(&format!("scp://{rest}"), "scp")?;
        return Some((u.user, u.host, u.path));
    }
    let colon = s.find(':')?;
    let slash = s.find('/').unwrap_or(usize::MAX);
    if colon > slash || colon == 0 {
        return None;
    }
    let (who, path) = (&s[..colon], &s[colon + 1..]);
    let (user, host) = match who.rsplit_once('@') {
        Some((u, h)) => (Some(u.to_string()), h.to_string()),
        None => (None, who.to_string()),
    };
    Some((
        user,
        host.trim_matches(['[', ']']).to_string(),
        path.to_string(),
    ))
}

fn ssh_fail(rt: &mut Run, io: &Io, host: &str, port: u16) {
    if host.parse::<std::net::IpAddr>().is_ok() {
        err!(
            rt,
            io,
            "ssh: connect to host {host} port {port}: Connection refused\n"
        );
    } else {
        err!(
            rt,
            io,
            "ssh: Could not resolve hostname {host}: Temporary failure in name resolution\n"
        );
    }
}

pub(crate) fn scp(_: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let (opts, ops) = split_args(argv, "PiocFlSJ", &[]);
    if has(&opts, &["t", "f"]) {
        // the remote end of a transfer: the SSH layer takes the bytes
        return 0;
    }
    if ops.len() < 2 {
        err!(rt, io, "usage: scp [-346ABCOpqRrsTv] [-c cipher] [-D sftp_server_path] [-F ssh_config]\n           [-i identity_file] [-J destination] [-l limit] [-o ssh_option]\n           [-P port] [-S program] [-X sftp_option] source ... target\n");
        return 1;
    }
    let port = val(&opts, &["P"]).and_then(|p| p.parse::<u16>().ok());
    let mut any = false;
    for s in &ops {
        if let Some((user, host, path)) = remote_spec(s) {
            let url = Url {
                scheme: "scp".into(),
                user,
                host: host.to_ascii_lowercase(),
                port,
                path: if path.starts_with('/') {
                    path
                } else {
                    format!("/{path}")
                },
            };
            rt.download(url.text(), "scp");
            if !any {
                ssh_fail(rt, io, &url.host, url.port_or_default());
                err!(rt, io, "lost connection\n");
            }
            any = true;
        }
    }
    i32::from(any)
}

pub(crate) fn ssh(_: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let (opts, ops) = split_args(argv, "pilocDLRFJWbeEmOQSwB", &[]);
    if has(&opts, &["V"]) {
        err!(
            rt,
            io,
            "OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.11 19 Sep 2023\n"
        );
        return 0;
    }
    let Some(dest) = ops.first() else {
        err!(rt, io, "usage: ssh [-46AaCfGgKkMNnqsTtVvXxYy] [-B bind_interface] [-b bind_address]\n           [-c cipher_spec] [-D [bind_address:]port] [-E log_file]\n           [-e escape_char] [-F configfile] [-I pkcs11] [-i identity_file]\n           [-J destination] [-L address] [-l login_name] [-m mac_spec]\n           [-O ctl_cmd] [-o option] [-P tag] [-p port] [-R address]\n           [-S ctl_path] [-W host:port] [-w local_tun[:remote_tun]]\n           destination [command [argument ...]]\n");
        return 255;
    };
    let (user, host) = match dest.rsplit_once('@') {
        Some((u, h)) => (Some(u.to_string()), h.to_string()),
        None => (val(&opts, &["l"]).map(String::from), dest.to_string()),
    };
    let url = match parse_url(&format!("ssh://{host}"), "ssh") {
        Some(mut u) => {
            u.user = user;
            if let Some(p) = val(&opts, &["p"]).and_then(|p| p.parse().ok()) {
                u.port = Some(p);
            }
            u.path = String::new();
            u
        }
        None => {
            err!(
                rt,
                io,
                "ssh: Could not resolve hostname {host}: Name or service not known\n"
            );
            return 255;
        }
    };
    rt.download(url.text(), "ssh");
    ssh_fail(rt, io, &url.host, url.port_or_default());
    255
}

pub(crate) fn ping(_: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let (opts, ops) = split_args(argv, "cWiswtIlpQSMT", &[]);
    let Some(host) = ops.last() else {
        err!(rt, io, "ping: usage error: Destination address required\n");
        return 1;
    };
    if host.parse::<std::net::IpAddr>().is_err() {
        err!(
            rt,
            io,
            "ping: {host}: Temporary failure in name resolution\n"
        );
        return 2;
    }
    let n: u64 = val(&opts, &["c"])
        .and_then(|c| c.parse().ok())
        .unwrap_or(4)
        .clamp(1, 100);
    out!(rt, io, "PING {host} ({host}) 56(84) bytes of data.\n\n--- {host} ping statistics ---\n{n} packets transmitted, 0 received, 100% packet loss, time {}ms\n\n", (n - 1) * 1000 + fastrand::u64(20..90));
    1
}

/// BusyBox's applets.
const APPLETS: &[&str] = &[
    "[",
    "[[",
    "ar",
    "arch",
    "ash",
    "awk",
    "base64",
    "basename",
    "bunzip2",
    "busybox",
    "bzcat",
    "cat",
    "chgrp",
    "chmod",
    "chown",
    "chroot",
    "clear",
    "cmp",
    "cp",
    "cpio",
    "cut",
    "date",
    "dd",
    "df",
    "diff",
    "dirname",
    "dmesg",
    "dnsdomainname",
    "du",
    "echo",
    "egrep",
    "env",
    "expr",
    "false",
    "fgrep",
    "find",
    "free",
    "ftpget",
    "ftpput",
    "getopt",
    "grep",
    "gunzip",
    "gzip",
    "head",
    "hostname",
    "id",
    "ip",
    "kill",
    "killall",
    "less",
    "ln",
    "ls",
    "md5sum",
    "mkdir",
    "mknod",
    "mktemp",
    "more",
    "mount",
    "mv",
    "nc",
    "netstat",
    "nproc",
    "ping",
    "ps",
    "pwd",
    "readlink",
    "realpath",
    "rm",
    "rmdir",
    "sed",
    "seq",
    "sh",
    "sha1sum",
    "sha256sum",
    "sleep",
    "sort",
    "stat",
    "tail",
    "tar",
    "tee",
    "telnet",
    "test",
    "tftp",
    "touch",
    "tr",
    "true",
    "umount",
    "uname",
    "uniq",
    "unzip",
    "uptime",
    "vi",
    "wc",
    "wget",
    "which",
    "whoami",
    "xargs",
    "yes",
    "zcat",
];

pub(crate) fn busybox(sh: &mut Shell, rt: &mut Run, io: &mut Io, argv: &[String]) -> i32 {
    let me = name_of(argv);
    let (applet, args): (String, Vec<String>) = if me == "busybox" {
        match argv.get(1) {
            Some(a) => (a.clone(), argv[1..].to_vec()),
            None => {
                let ver = sh.world.identity.os.busybox_version();
                let mut list = String::new();
                let mut line = String::from("\t");
                for a in APPLETS {
                    if line.len() + a.len() + 2 > 70 {
                        list.push_str(line.trim_end());
                        list.push('\n');
                        line = String::from("\t");
                    }
                    line.push_str(a);
                    line.push_str(", ");
                }
                list.push_str(line.trim_end().trim_end_matches(','));
                list.push('\n');
                out!(rt, io, "BusyBox {ver} multi-call binary.\nBusyBox is copyrighted by many authors between 1998-2015.\nLicensed under GPLv2. See source distribution for detailed\ncopyright notices.\n\nUsage: busybox [function [arguments]...]\n   or: busybox --list[-full]\n   or: busybox --show SCRIPT\n   or: busybox --install [-s] [DIR]\n   or: function [arguments]...\n\n\tBusyBox is a multi-call binary that combines many common Unix\n\tutilities into a single executable.\n\nCurrently defined functions:\n{list}");
                return 0;
            }
        }
    } else {
        (me.clone(), argv.to_vec())
    };
    if applet == "--list" || applet == "--list-full" {
        for a in APPLETS {
            out!(rt, io, "{a}\n");
        }
        return 0;
    }
    if applet == "--help" {
        return busybox(sh, rt, io, &argv[..1]);
    }
    if !APPLETS.contains(&applet.as_str()) {
        // how droppers probe for BusyBox (`/bin/busybox ECCHI`)
        err!(rt, io, "{applet}: applet not found\n");
        return 127;
    }
    match applet.as_str() {
        "wget" => {
            let (_, ops) = split_args(
                &args,
                "OoYPUT",
                &["header", "user-agent", "output-document"],
            );
            let quiet = args.iter().any(|a| a == "-q");
            for u in ops.iter().take(100) {
                let Some(url) = parse_url(u, "http") else {
                    continue;
                };
                rt.download(url.text(), "busybox wget");
                if quiet {
                    continue;
                }
                if url.is_ip() {
                    err!(rt, io, "Connecting to {} ({}:{})\nwget: can't connect to remote host ({}): Connection refused\n", url.host, url.host, url.port_or_default(), url.host);
                } else {
                    err!(rt, io, "wget: bad address '{}'\n", url.host);
                }
            }
            1
        }
        "tftp" => tftp_as(sh, rt, io, &args, true),
        "ftpget" | "ftpput" => ftpget_as(sh, rt, io, &args, true),
        "nc" => nc_as(sh, rt, io, &args, true),
        "telnet" => {
            if let Some(h) = args.get(1) {
                let port = args.get(2).cloned().unwrap_or_else(|| "23".into());
                rt.download(format!("{h}:{port}"), "busybox telnet");
                if h.parse::<std::net::IpAddr>().is_ok() {
                    err!(
                        rt,
                        io,
                        "telnet: can't connect to remote host ({h}): Connection refused\n"
                    );
                } else {
                    err!(rt, io, "telnet: bad address '{h}'\n");
                }
            }
            1
        }
        "sh" | "ash" => super::cmd_sys::shell(sh, rt, io, &args),
        _ => {
            // the applet behaves as the host's own command of that name
            if let Some(path) = sh.which(&applet) {
                let mut words = args.clone();
                words[0] = applet.clone();
                let _ = path;
                sh.run_argv(rt, io, &words)
            } else {
                let mut words = args.clone();
                words[0] = applet.clone();
                sh.run_argv(rt, io, &words)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_as_the_tools_read_them() {
        let u = parse_url("http://1.2.3.4:8080/x.sh?a=b", "http").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("1.2.3.4", Some(8080), "/x.sh?a=b")
        );
        assert!(u.is_ip());
        assert_eq!(u.text(), "http://1.2.3.4:8080/x.sh?a=b");
        let u = parse_url("evil.example/bins/arm7", "http").unwrap();
        assert_eq!(u.text(), "http://evil.example/bins/arm7");
        assert!(!u.is_ip());
        let u = parse_url("HTTPS://Evil.Example", "http").unwrap();
        assert_eq!(u.text(), "https://evil.example/");
        assert_eq!(u.port_or_default(), 443);
        let u = parse_url("ftp://anon@10.0.0.1/pub/x", "http").unwrap();
        assert_eq!(u.text(), "ftp://anon@10.0.0.1/pub/x");
        assert_eq!(u.port_or_default(), 21);
        let u = parse_url("http://[2001:db8::1]:81/a", "http").unwrap();
        assert_eq!(u.text(), "http://[2001:db8::1]:81/a");
        assert!(parse_url("http://", "http").is_none());
        assert!(parse_url("http://host:99999/", "http").is_none());
        assert!(parse_url("http://ho st/", "http").is_none());
    }

    #[test]
    fn scp_remote_specs() {
        assert_eq!(
            remote_spec("root@1.2.3.4:/tmp/x"),
            Some((Some("root".into()), "1.2.3.4".into(), "/tmp/x".into()))
        );
        assert_eq!(
            remote_spec("host:file"),
            Some((None, "host".into(), "file".into()))
        );
        assert_eq!(remote_spec("./a:b"), None);
        assert_eq!(remote_spec("/tmp/a"), None);
    }
}
