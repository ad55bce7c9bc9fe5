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
    tripline_event::Timestamp::now().0
}

/// A new session id: 12 hex digits.
pub fn session_id() -> String {
    format!("{:012x}", fastrand::u64(..) & 0xffff_ffff_ffff)
}

/// `s` cut to at most `max` bytes at a character boundary.
pub fn cap(s: &str, max: usize) -> String {
    tripline_event::truncate_str(s, max).to_owned()
}

/// Connections open at once, per address and in all: a decoy's caps. A [`Slot`] is held for
/// each accepted connection and given back when dropped; addresses at zero are forgotten, so
/// the map never holds more than `max_total` of them.
pub struct Slots {
    per_ip: std::sync::Mutex<rustc_hash::FxHashMap<std::net::IpAddr, u32>>,
    max_per_ip: usize,
    max_total: usize,
    open: std::sync::atomic::AtomicUsize,
}

/// One connection's place in its [`Slots`], given back when dropped.
pub struct Slot {
    slots: std::sync::Arc<Slots>,
    ip: std::net::IpAddr,
}

impl Slots {
    pub fn new(max_per_ip: usize, max_total: usize) -> std::sync::Arc<Slots> {
        std::sync::Arc::new(Slots {
            per_ip: Default::default(),
            max_per_ip,
            max_total,
            open: Default::default(),
        })
    }

    /// A place for a connection from `ip`, or which cap refuses it (`total`, `per_ip`).
    pub fn take(self: &std::sync::Arc<Self>, ip: std::net::IpAddr) -> Result<Slot, &'static str> {
        use std::sync::atomic::Ordering;
        let mut per_ip = self.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        if self.open.load(Ordering::Relaxed) >= self.max_total {
            return Err("total");
        }
        let n = per_ip.entry(ip).or_insert(0);
        if *n as usize >= self.max_per_ip {
            return Err("per_ip");
        }
        *n += 1;
        self.open.fetch_add(1, Ordering::Relaxed);
        Ok(Slot {
            slots: self.clone(),
            ip,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut per_ip = self.slots.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = per_ip.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                per_ip.remove(&self.ip);
            }
        }
        self.slots
            .open
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Accepts connections on `listener` until `stop` resolves, handing each to `on` with its
/// source and destination. An accept error (out of descriptors) waits a moment, never spins.
pub async fn accept_until(
    listener: &tokio::net::TcpListener,
    stop: impl std::future::Future<Output = ()>,
    mut on: impl FnMut(tokio::net::TcpStream, SocketAddr, SocketAddr),
) -> std::io::Result<()> {
    tokio::pin!(stop);
    loop {
        let (stream, src) = tokio::select! {
            _ = &mut stop => return Ok(()),
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let dst = stream.local_addr().unwrap_or(src);
        // a reply held back by Nagle behind a delayed ACK costs a client 40 ms
        let _ = stream.set_nodelay(true);
        on(stream, src, dst);
    }
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
    fn slots_cap_per_address_and_in_all_and_come_back_when_dropped() {
        let s = Slots::new(2, 3);
        let (a, b): (std::net::IpAddr, std::net::IpAddr) =
            ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let a1 = s.take(a).unwrap();
        let _a2 = s.take(a).unwrap();
        assert_eq!(s.take(a).err(), Some("per_ip"));
        let _b1 = s.take(b).unwrap();
        assert_eq!(s.take(b).err(), Some("total"));
        assert_eq!(s.open(), 3);
        drop(a1);
        assert_eq!(s.open(), 2);
        let _a3 = s.take(a).unwrap();
    }

    #[test]
    fn session_ids_are_twelve_hex_digits_and_differ() {
        let (a, b) = (session_id(), session_id());
        assert_eq!(a.len(), 12);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
