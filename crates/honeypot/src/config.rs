//! `[honeypot]`: the decoys' settings, each checked by name.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `[honeypot]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct HoneypotConfig {
    /// Also write every honeypot event as a Cowrie JSON line to this file (empty: off), for
    /// Cowrie's tooling and SIEM parsers.
    pub cowrie_log: String,
    /// The name in Cowrie's `sensor` field and on the events (empty: the host name).
    pub sensor: String,
    /// Where the deployment's fake identity and the SSH host keys are kept (empty:
    /// `<data_dir>/honeypot`). Made at the first start, kept after.
    pub state_dir: String,
    pub ssh: SshConfig,
    pub http: HttpConfig,
    /// TCP banner decoys, each a `[[honeypot.tcp]]` table.
    pub tcp: Vec<TcpConfig>,
}

impl HoneypotConfig {
    /// Any decoy on.
    pub fn any(&self) -> bool {
        self.ssh.enabled || self.http.enabled || !self.tcp.is_empty()
    }

    /// Every decoy's values serde cannot check, each named with its value.
    pub fn validate(&self, errs: &mut Vec<String>) {
        if self.ssh.enabled {
            self.ssh.validate(errs);
        }
        if self.http.enabled {
            self.http.validate(errs);
        }
        for (i, t) in self.tcp.iter().enumerate() {
            t.validate(i, errs);
        }
    }
}

/// `[[honeypot.tcp]]`: one TCP decoy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TcpConfig {
    pub bind: String,
    /// `telnet` (a login prompt), `redis`, `mysql` (the server greeting), `ftp`, or `banner`
    /// (`banner` on connect, `reply` to every line).
    pub profile: String,
    /// For `banner`: sent on connect and after each line (`\r\n` and `\n` as written).
    pub banner: String,
    pub reply: String,
    pub idle_timeout_seconds: f64,
    /// Bytes read per connection at most.
    pub max_bytes: usize,
    pub max_connections_per_ip: usize,
    pub max_connections: usize,
}

impl Default for TcpConfig {
    fn default() -> Self {
        let d = crate::tcp::TcpSettings::default();
        TcpConfig {
            bind: String::new(),
            profile: "banner".into(),
            banner: String::new(),
            reply: String::new(),
            idle_timeout_seconds: d.idle_timeout.as_secs_f64(),
            max_bytes: d.max_bytes,
            max_connections_per_ip: d.max_per_ip,
            max_connections: d.max_total,
        }
    }
}

impl TcpConfig {
    pub fn validate(&self, i: usize, errs: &mut Vec<String>) {
        if self.bind.parse::<std::net::SocketAddr>().is_err() {
            errs.push(format!(
                "honeypot.tcp[{i}].bind = {:?}: not an address:port",
                self.bind
            ));
        }
        if crate::tcp::Profile::from_name(&self.profile).is_none() {
            errs.push(format!(
                "honeypot.tcp[{i}].profile = {:?}: one of \"telnet\", \"redis\", \"mysql\", \"ftp\", \"banner\"",
                self.profile
            ));
        }
        if !(self.idle_timeout_seconds > 0.0 && self.idle_timeout_seconds <= 86_400.0) {
            errs.push(format!(
                "honeypot.tcp[{i}].idle_timeout_seconds = {}: must be in (0, 86400]",
                self.idle_timeout_seconds
            ));
        }
        for (k, v) in [
            ("max_bytes", self.max_bytes),
            ("max_connections_per_ip", self.max_connections_per_ip),
            ("max_connections", self.max_connections),
        ] {
            if v == 0 {
                errs.push(format!("honeypot.tcp[{i}].{k} = 0: must be at least 1"));
            }
        }
    }

    /// The decoy's settings; `hostname` is the fake host's (for the telnet prompt).
    pub fn settings(&self, hostname: &str) -> crate::tcp::TcpSettings {
        crate::tcp::TcpSettings {
            profile: crate::tcp::Profile::from_name(&self.profile)
                .unwrap_or(crate::tcp::Profile::Banner),
            banner: self.banner.clone().into_bytes(),
            reply: self.reply.clone().into_bytes(),
            hostname: hostname.to_owned(),
            idle_timeout: Duration::from_secs_f64(self.idle_timeout_seconds.clamp(0.001, 86_400.0)),
            max_bytes: self.max_bytes,
            max_per_ip: self.max_connections_per_ip,
            max_total: self.max_connections,
        }
    }
}

/// `[honeypot.http]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    pub enabled: bool,
    pub bind: String,
    /// The login page at `/`: `admin` (a generic panel), `wordpress` or `router`.
    pub profile: String,
    /// The `Server` header.
    pub server: String,
    /// Body bytes kept per request (the rest is read and dropped, up to `max_body_read`).
    pub max_body_bytes: usize,
    /// Body bytes read at most: beyond, 413 and the connection closed.
    pub max_body_read: usize,
    /// Seconds to send the request head (slowloris is cut there), and the body.
    pub header_timeout_seconds: f64,
    pub body_timeout_seconds: f64,
    pub max_connections_per_ip: usize,
    pub max_connections: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        let d = crate::http::HttpSettings::default();
        HttpConfig {
            enabled: false,
            bind: "0.0.0.0:8080".into(),
            profile: "admin".into(),
            server: d.server,
            max_body_bytes: d.max_body,
            max_body_read: d.max_body_read,
            header_timeout_seconds: d.header_timeout.as_secs_f64(),
            body_timeout_seconds: d.body_timeout.as_secs_f64(),
            max_connections_per_ip: d.max_per_ip,
            max_connections: d.max_total,
        }
    }
}

impl HttpConfig {
    /// Values serde cannot check, each named with its value.
    pub fn validate(&self, errs: &mut Vec<String>) {
        if self.bind.parse::<std::net::SocketAddr>().is_err() {
            errs.push(format!(
                "honeypot.http.bind = {:?}: not an address:port",
                self.bind
            ));
        }
        if crate::http::Profile::from_name(&self.profile).is_none() {
            errs.push(format!(
                "honeypot.http.profile = {:?}: one of \"admin\", \"wordpress\", \"router\"",
                self.profile
            ));
        }
        if self.server.is_empty()
            || self.server.len() > 200
            || self.server.chars().any(|c| c.is_control())
        {
            errs.push(format!(
                "honeypot.http.server = {:?}: one line of 1 to 200 characters",
                self.server
            ));
        }
        for (k, v, lo) in [
            ("max_body_bytes", self.max_body_bytes, 0),
            ("max_body_read", self.max_body_read, 1024),
            ("max_connections_per_ip", self.max_connections_per_ip, 1),
            ("max_connections", self.max_connections, 1),
        ] {
            if v < lo {
                errs.push(format!("honeypot.http.{k} = {v}: must be at least {lo}"));
            }
        }
        for (k, v) in [
            ("header_timeout_seconds", self.header_timeout_seconds),
            ("body_timeout_seconds", self.body_timeout_seconds),
        ] {
            if !(v > 0.0 && v <= 3600.0) {
                errs.push(format!("honeypot.http.{k} = {v}: must be in (0, 3600]"));
            }
        }
    }

    /// The HTTP decoy's settings (call [`HttpConfig::validate`] first).
    pub fn settings(&self) -> crate::http::HttpSettings {
        let secs = |s: f64| Duration::from_secs_f64(s.clamp(0.001, 3600.0));
        crate::http::HttpSettings {
            profile: crate::http::Profile::from_name(&self.profile)
                .unwrap_or(crate::http::Profile::Admin),
            server: self.server.clone(),
            max_body: self.max_body_bytes,
            max_body_read: self.max_body_read.max(self.max_body_bytes),
            header_timeout: secs(self.header_timeout_seconds),
            body_timeout: secs(self.body_timeout_seconds),
            max_per_ip: self.max_connections_per_ip,
            max_total: self.max_connections,
        }
    }
}

/// `[honeypot.ssh]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SshConfig {
    pub enabled: bool,
    /// Address and port to listen on (`0.0.0.0:2222`; port 22 with the real sshd moved).
    pub bind: String,
    /// The version line shown to clients (empty: the one the fake host's distribution's
    /// OpenSSH sends, e.g. `SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u7`).
    pub version: String,
    /// `user:password` pairs let into the fake shell; `*` for any user or password
    /// (`"root:*"`). Empty: `accept_after` decides.
    pub credentials: Vec<String>,
    /// With no `credentials`: an address's password attempt number `accept_after` and after
    /// get in (0: nobody gets in, every attempt is only recorded).
    pub accept_after: u32,
    pub max_connections_per_ip: usize,
    pub max_connections: usize,
    pub idle_timeout_seconds: f64,
    pub session_timeout_seconds: f64,
    /// How long a failed login takes to be answered, ms (OpenSSH with PAM: ~2,000).
    pub auth_delay_ms: u64,
    /// Login attempts per connection (OpenSSH's `MaxAuthTries`).
    pub max_auth_tries: usize,
    /// Longest command line, bytes: longer is cut and counted.
    pub max_line_bytes: usize,
    /// Bytes a session may write into its fake filesystem (uploads, redirections).
    pub max_session_bytes: usize,
}

impl Default for SshConfig {
    fn default() -> Self {
        let d = crate::ssh::SshSettings::default();
        let l = crate::shell::Limits::default();
        SshConfig {
            enabled: false,
            bind: "0.0.0.0:2222".into(),
            version: String::new(),
            credentials: vec![],
            accept_after: 3,
            max_connections_per_ip: d.max_per_ip,
            max_connections: d.max_total,
            idle_timeout_seconds: d.idle_timeout.as_secs_f64(),
            session_timeout_seconds: d.session_timeout.as_secs_f64(),
            auth_delay_ms: d.auth_delay.as_millis() as u64,
            max_auth_tries: d.max_auth_tries,
            max_line_bytes: l.max_line,
            max_session_bytes: l.max_fs_bytes,
        }
    }
}

impl SshConfig {
    /// Values serde cannot check, each named with its value.
    pub fn validate(&self, errs: &mut Vec<String>) {
        if self.bind.parse::<std::net::SocketAddr>().is_err() {
            errs.push(format!(
                "honeypot.ssh.bind = {:?}: not an address:port",
                self.bind
            ));
        }
        let v = &self.version;
        if !v.is_empty() && !v.starts_with("SSH-2.0-")
            || v.len() > 200
            || v.chars().any(|c| c.is_control())
        {
            errs.push(format!(
                "honeypot.ssh.version = {v:?}: must start with \"SSH-2.0-\", one line of at most 200 characters"
            ));
        }
        for c in &self.credentials {
            if !c.contains(':') {
                errs.push(format!(
                    "honeypot.ssh.credentials: {c:?} is not \"user:password\""
                ));
            }
        }
        for (k, v, lo) in [
            ("max_connections_per_ip", self.max_connections_per_ip, 1),
            ("max_connections", self.max_connections, 1),
            ("max_auth_tries", self.max_auth_tries, 1),
            ("max_line_bytes", self.max_line_bytes, 256),
            ("max_session_bytes", self.max_session_bytes, 0),
        ] {
            if v < lo {
                errs.push(format!("honeypot.ssh.{k} = {v}: must be at least {lo}"));
            }
        }
        for (k, v) in [
            ("idle_timeout_seconds", self.idle_timeout_seconds),
            ("session_timeout_seconds", self.session_timeout_seconds),
        ] {
            if !(v > 0.0 && v <= 86_400.0) {
                errs.push(format!("honeypot.ssh.{k} = {v}: must be in (0, 86400]"));
            }
        }
        if self.auth_delay_ms > 10_000 {
            errs.push(format!(
                "honeypot.ssh.auth_delay_ms = {}: must be at most 10000",
                self.auth_delay_ms
            ));
        }
    }

    /// The SSH honeypot's settings (call [`SshConfig::validate`] first).
    pub fn settings(&self) -> crate::ssh::SshSettings {
        use crate::ssh::Accept;
        let accept = if !self.credentials.is_empty() {
            Accept::Credentials(
                self.credentials
                    .iter()
                    .filter_map(|c| c.split_once(':'))
                    .map(|(u, p)| (u.to_owned(), p.to_owned()))
                    .collect(),
            )
        } else if self.accept_after == 0 {
            Accept::Never
        } else {
            Accept::AfterTries(self.accept_after)
        };
        let secs = |s: f64| Duration::from_secs_f64(s.clamp(0.001, 86_400.0));
        crate::ssh::SshSettings {
            version: self.version.clone(),
            accept,
            max_per_ip: self.max_connections_per_ip,
            max_total: self.max_connections,
            idle_timeout: secs(self.idle_timeout_seconds),
            session_timeout: secs(self.session_timeout_seconds),
            auth_delay: Duration::from_millis(self.auth_delay_ms),
            max_auth_tries: self.max_auth_tries,
            shell: crate::shell::Limits {
                max_line: self.max_line_bytes,
                max_fs_bytes: self.max_session_bytes,
                ..crate::shell::Limits::default()
            },
            ..crate::ssh::SshSettings::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_are_named_with_their_value() {
        let c = SshConfig {
            bind: "nowhere".into(),
            version: "OpenSSH".into(),
            credentials: vec!["rootpassword".into()],
            max_connections: 0,
            idle_timeout_seconds: -1.0,
            ..SshConfig::default()
        };
        let mut e = vec![];
        c.validate(&mut e);
        let all = e.join("\n");
        for want in [
            "honeypot.ssh.bind = \"nowhere\"",
            "honeypot.ssh.version = \"OpenSSH\"",
            "\"rootpassword\" is not",
            "honeypot.ssh.max_connections = 0",
            "honeypot.ssh.idle_timeout_seconds = -1",
        ] {
            assert!(all.contains(want), "{want} not in {all}");
        }
        let mut ok = vec![];
        SshConfig::default().validate(&mut ok);
        assert!(ok.is_empty(), "{ok:?}");
    }

    #[test]
    fn credentials_or_tries_decide_who_gets_in() {
        use crate::ssh::Accept;
        let c = SshConfig {
            credentials: vec!["root:*".into(), "admin:admin".into()],
            ..SshConfig::default()
        };
        assert_eq!(
            c.settings().accept,
            Accept::Credentials(vec![
                ("root".into(), "*".into()),
                ("admin".into(), "admin".into())
            ])
        );
        let never = SshConfig {
            accept_after: 0,
            ..SshConfig::default()
        };
        assert_eq!(never.settings().accept, Accept::Never);
        assert_eq!(
            SshConfig::default().settings().accept,
            Accept::AfterTries(3)
        );
    }
}
