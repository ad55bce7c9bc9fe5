//! What a honeypot saw, as it hands it on: one [`HpEvent`] per connection, login attempt,
//! command, transfer, proxy request and close. The daemon turns each into a pipeline event
//! (and, when configured, a line of Cowrie JSON); tests read them straight from a [`Sink`].

use std::net::SocketAddr;

/// Where a honeypot's events go. Must not block: the daemon's sink queues and counts.
pub trait Sink: Send + Sync {
    fn event(&self, e: HpEvent);
}

/// One thing a honeypot saw.
#[derive(Debug, Clone, PartialEq)]
pub struct HpEvent {
    /// Microseconds since the epoch.
    pub ts: i64,
    /// `ssh`, `http`, `telnet`, `redis`, … (the decoy's name).
    pub sensor: &'static str,
    /// The session: 12 hex digits, one per connection (Cowrie's shape).
    pub session: String,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub what: What,
}

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub enum What {
    /// A connection was accepted.
    Connect,
    /// The SSH client said who it is: its version line and its HASSH (MD5 of its first
    /// KEXINIT's algorithm lists) with the lists it was made from.
    ClientVersion {
        version: String,
        hassh: String,
        hassh_algorithms: String,
    },
    /// A login attempt: a password or a public key (its SHA-256 fingerprint), with the
    /// client's version line and HASSH when it sent them.
    Login {
        user: String,
        password: Option<String>,
        key_fingerprint: Option<String>,
        success: bool,
        client: Option<(String, String)>,
    },
    /// A command line the attacker ran (capped).
    Command { input: String },
    /// A download asked for and never made (`wget`, `curl`, …): the URL and the tool.
    Download { url: String, tool: String },
    /// A file the attacker uploaded (scp, SFTP) or wrote: kept (capped) in the session's
    /// fake filesystem, with the SHA-256 of what was kept.
    Upload {
        path: String,
        size: usize,
        sha256: String,
    },
    /// The honeypot was asked to open a connection elsewhere (`direct-tcpip`): refused.
    Proxy { dst: String },
    /// A request to an HTTP decoy, and what it was taken for ([`crate::http::classify`]).
    Http {
        method: String,
        target: String,
        user_agent: String,
        headers: Vec<(String, String)>,
        class: &'static str,
        detail: &'static str,
        body_bytes: usize,
    },
    /// A connection refused or cut by a limit (`per_ip`, `total`, `idle`, `session`, `line`…).
    Limit { what: &'static str },
    /// The connection closed after `duration_ms`.
    Closed { duration_ms: u64 },
}

impl What {
    /// Cowrie's event id for this kind of event.
    pub fn cowrie_eventid(&self) -> &'static str {
        match self {
            What::Connect => "cowrie.session.connect",
            What::ClientVersion { .. } => "cowrie.client.kex",
            What::Login {
                key_fingerprint: Some(_),
                success: false,
                ..
            } => "cowrie.client.fingerprint",
            What::Login { success: true, .. } => "cowrie.login.success",
            What::Login { success: false, .. } => "cowrie.login.failed",
            What::Command { .. } => "cowrie.command.input",
            What::Download { .. } => "cowrie.session.file_download.failed",
            What::Upload { .. } => "cowrie.session.file_upload",
            What::Proxy { .. } => "cowrie.direct-tcpip.request",
            What::Http { .. } => "tripline.http.request",
            What::Limit { .. } => "tripline.session.limit",
            What::Closed { .. } => "cowrie.session.closed",
        }
    }
}

/// Microseconds since the epoch, now.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// A new session id: 12 hex digits.
pub fn session_id() -> String {
    format!("{:012x}", fastrand::u64(..) & 0xffff_ffff_ffff)
}

/// `s` cut to at most `max` bytes at a character boundary.
pub fn cap(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_cuts_at_a_character_boundary() {
        assert_eq!(cap("héllo", 2), "h");
        assert_eq!(cap("héllo", 3), "hé");
        assert_eq!(cap("abc", 10), "abc");
    }

    #[test]
    fn session_ids_are_twelve_hex_digits_and_differ() {
        let (a, b) = (session_id(), session_id());
        assert_eq!(a.len(), 12);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
