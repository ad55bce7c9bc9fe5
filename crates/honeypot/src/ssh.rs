//! The SSH honeypot: an SSH server (russh) that offers what real bots need beside modern
//! algorithms, records every login attempt with the client's version and HASSH, lets the
//! configured credentials into the fake shell ([`crate::shell`]), takes `scp` and SFTP
//! ([`crate::sftp`]) uploads into the session's fake filesystem, and refuses (and records)
//! every request to connect elsewhere.
//! Nothing an attacker sends is executed and no connection ever leaves it.
//!
//! Limits: connections per address and in all (refused at accept, counted), an idle timeout
//! (russh's inactivity timeout), a session timeout, channels per connection, a command line's
//! length, a session's fake-filesystem bytes, an SFTP packet's length and handles (see
//! [`crate::sftp`]); what a limit refuses or cuts is counted and reported as [`What::Limit`].

use crate::event::{cap, now_micros, session_id, HpEvent, Sink, What};
use crate::hassh::{HelloCell, Tap};
use crate::sftp::{Note, Sftp};
use crate::shell::{Effect, Limits, Shell, World};
use russh::keys::{Algorithm, HashAlg, PrivateKey};
use russh::server::{Auth, ChannelOpenHandle, Config, Handler, Msg, Session};
use russh::{
    cipher, kex, mac, Channel, ChannelId, ChannelOpenFailure, MethodKind, MethodSet, Preferred,
    SshId,
};
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// Bytes of a command line kept in its event.
const EVENT_INPUT_BYTES: usize = 4096;

/// Who gets into the fake shell.
#[derive(Debug, Clone, PartialEq)]
pub enum Accept {
    /// Nobody: every login fails (a pure credential collector).
    Never,
    /// These user/password pairs (`*` for any user or any password).
    Credentials(Vec<(String, String)>),
    /// An address's `n`th password attempt and after, whatever it is (bots that try a list
    /// get in, as on a weak real host).
    AfterTries(u32),
}

/// The SSH honeypot's settings (`[honeypot.ssh]`).
#[derive(Debug, Clone)]
pub struct SshSettings {
    /// The version line it shows (`SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u7`; empty: the one
    /// the fake host's distribution ships).
    pub version: String,
    pub accept: Accept,
    /// Connections at once from one address.
    pub max_per_ip: usize,
    /// Connections at once in all.
    pub max_total: usize,
    /// Closed after this long without a packet.
    pub idle_timeout: Duration,
    /// Closed after this long whatever happens.
    pub session_timeout: Duration,
    /// How long a failed login takes to be answered (OpenSSH with PAM: about 2 s).
    pub auth_delay: Duration,
    /// Login attempts per connection (OpenSSH's `MaxAuthTries`).
    pub max_auth_tries: usize,
    /// Channels open at once per connection.
    pub max_channels: usize,
    pub shell: Limits,
}

impl Default for SshSettings {
    fn default() -> Self {
        SshSettings {
            version: String::new(),
            accept: Accept::AfterTries(3),
            max_per_ip: 16,
            max_total: 10_000,
            idle_timeout: Duration::from_secs(180),
            session_timeout: Duration::from_secs(3600),
            auth_delay: Duration::from_millis(1000),
            max_auth_tries: 6,
            max_channels: 4,
            shell: Limits::default(),
        }
    }
}

/// Counters of what the honeypot saw and refused.
#[derive(Debug, Default)]
pub struct Stats {
    pub connections: AtomicU64,
    pub refused_per_ip: AtomicU64,
    pub refused_total: AtomicU64,
    pub logins_failed: AtomicU64,
    pub logins_ok: AtomicU64,
    pub commands: AtomicU64,
    pub downloads: AtomicU64,
    pub uploads: AtomicU64,
    pub proxy_requests: AtomicU64,
    pub session_timeouts: AtomicU64,
    /// Connections closed for going idle (before or after logging in).
    pub idle_timeouts: AtomicU64,
    /// Connections closed on a protocol error: malformed or oversized packets, no common
    /// algorithm, a broken key exchange.
    pub protocol_errors: AtomicU64,
    pub capped: AtomicU64,
}

/// What all connections share.
struct Shared {
    settings: SshSettings,
    world: Arc<World>,
    sink: Arc<dyn Sink>,
    stats: Arc<Stats>,
    /// Connections open per address and in all.
    slots: Arc<crate::event::Slots>,
    /// Failed password attempts per address, for [`Accept::AfterTries`] (bounded: cleared
    /// when it holds `TRIES_KEPT` addresses).
    tries: Mutex<FxHashMap<IpAddr, u32>>,
}

const TRIES_KEPT: usize = 65_536;

/// The host keys kept in `dir` (`ssh_host_ed25519_key`, `ssh_host_rsa_key`, OpenSSH format,
/// mode 0600), made at the first start.
pub fn host_keys(dir: &Path) -> std::io::Result<Vec<PrivateKey>> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mut keys = vec![];
    for (file, alg) in [
        ("ssh_host_ed25519_key", Algorithm::Ed25519),
        ("ssh_host_rsa_key", Algorithm::Rsa { hash: None }),
    ] {
        let path = dir.join(file);
        let bad = |e: &dyn std::fmt::Display| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        };
        let key = match std::fs::read_to_string(&path) {
            Ok(text) => PrivateKey::from_openssh(&text).map_err(|e| bad(&e))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = match alg {
                    Algorithm::Rsa { .. } => {
                        let rsa = russh::keys::ssh_key::private::RsaKeypair::random(
                            &mut rand::rng(),
                            3072,
                        )
                        .map_err(|e| bad(&e))?;
                        PrivateKey::from(rsa)
                    }
                    _ => PrivateKey::random(&mut rand::rng(), alg).map_err(|e| bad(&e))?,
                };
                let text = key
                    .to_openssh(russh::keys::ssh_key::LineEnding::LF)
                    .map_err(|e| bad(&e))?;
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)?;
                std::io::Write::write_all(&mut f, text.as_bytes())?;
                key
            }
            Err(e) => return Err(e),
        };
        keys.push(key);
    }
    Ok(keys)
}

/// russh's settings for the honeypot: OpenSSH's version line and auth methods (password and
/// public key only: a default russh server also offers host-based and keyboard-interactive,
/// which no stock OpenSSH server shows), modern algorithms first and the old ones bots still
/// use after them.
fn russh_config(s: &SshSettings, keys: Vec<PrivateKey>) -> Config {
    const KEX: &[kex::Name] = &[
        kex::CURVE25519,
        kex::CURVE25519_PRE_RFC_8731,
        kex::ECDH_SHA2_NISTP256,
        kex::ECDH_SHA2_NISTP384,
        kex::ECDH_SHA2_NISTP521,
        kex::DH_GEX_SHA256,
        kex::DH_G16_SHA512,
        kex::DH_G18_SHA512,
        kex::DH_G14_SHA256,
        kex::DH_G14_SHA1,
        kex::DH_G1_SHA1,
        kex::EXTENSION_SUPPORT_AS_SERVER,
        kex::EXTENSION_OPENSSH_STRICT_KEX_AS_SERVER,
    ];
    const CIPHERS: &[cipher::Name] = &[
        cipher::CHACHA20_POLY1305,
        cipher::AES_128_CTR,
        cipher::AES_192_CTR,
        cipher::AES_256_CTR,
        cipher::AES_128_GCM,
        cipher::AES_256_GCM,
        cipher::AES_128_CBC,
        cipher::AES_256_CBC,
    ];
    const MACS: &[mac::Name] = &[
        mac::HMAC_SHA256_ETM,
        mac::HMAC_SHA512_ETM,
        mac::HMAC_SHA1_ETM,
        mac::HMAC_SHA256,
        mac::HMAC_SHA512,
        mac::HMAC_SHA1,
    ];
    let methods: &[MethodKind] = &[MethodKind::PublicKey, MethodKind::Password];
    Config {
        server_id: SshId::Standard(Cow::Owned(s.version.clone())),
        methods: MethodSet::from(methods),
        auth_rejection_time: s.auth_delay,
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys,
        inactivity_timeout: Some(s.idle_timeout),
        max_auth_attempts: s.max_auth_tries,
        // small per-connection buffers: thousands of idle attackers at once
        window_size: 64 * 1024,
        maximum_packet_size: 32 * 1024,
        channel_buffer_size: 8,
        event_buffer_size: 4,
        nodelay: true,
        preferred: Preferred {
            kex: Cow::Borrowed(KEX),
            key: Cow::Borrowed(&[
                Algorithm::Ed25519,
                Algorithm::Rsa {
                    hash: Some(HashAlg::Sha512),
                },
                Algorithm::Rsa {
                    hash: Some(HashAlg::Sha256),
                },
                Algorithm::Rsa { hash: None },
            ]),
            cipher: Cow::Borrowed(CIPHERS),
            mac: Cow::Borrowed(MACS),
            ..Preferred::DEFAULT
        },
        ..Config::default()
    }
}

/// The running honeypot's handle on its counters.
#[derive(Clone)]
pub struct SshHoneypot {
    shared: Arc<Shared>,
    config: Arc<Config>,
}

impl SshHoneypot {
    pub fn new(
        settings: SshSettings,
        keys: Vec<PrivateKey>,
        world: Arc<World>,
        sink: Arc<dyn Sink>,
    ) -> SshHoneypot {
        let mut settings = settings;
        if settings.version.is_empty() {
            // the version line of the OpenSSH the fake host's distribution ships
            settings.version = world.identity().ssh_banner().to_owned();
        }
        let config = Arc::new(russh_config(&settings, keys));
        SshHoneypot {
            shared: Arc::new(Shared {
                slots: crate::event::Slots::new(settings.max_per_ip, settings.max_total),
                settings,
                world,
                sink,
                stats: Arc::new(Stats::default()),
                tries: Mutex::new(FxHashMap::default()),
            }),
            config,
        }
    }

    pub fn stats(&self) -> Arc<Stats> {
        self.shared.stats.clone()
    }

    /// Accept connections on `listener` until `stop` resolves; each on a task of its own.
    pub async fn serve(
        &self,
        listener: TcpListener,
        stop: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        crate::event::accept_until(&listener, stop, |stream, src, dst| {
            self.accept(stream, src, dst)
        })
        .await
    }

    fn accept(&self, stream: tokio::net::TcpStream, src: SocketAddr, dst: SocketAddr) {
        let sh = &self.shared;
        let st = &sh.stats;
        st.connections.fetch_add(1, Ordering::Relaxed);
        let session = session_id();
        let emit = |what| {
            sh.sink.event(HpEvent {
                ts: now_micros(),
                sensor: "ssh",
                session: session.clone(),
                src,
                dst,
                what,
            })
        };
        // the caps: refused at once, counted
        let slot = match sh.slots.take(src.ip()) {
            Ok(slot) => slot,
            Err(what) => {
                match what {
                    "total" => &st.refused_total,
                    _ => &st.refused_per_ip,
                }
                .fetch_add(1, Ordering::Relaxed);
                emit(What::Limit { what });
                return; // dropping the stream closes it
            }
        };
        emit(What::Connect);
        // (russh sets TCP_NODELAY only on the sockets it accepts itself: `accept_until` does)
        let (tap, hello) = Tap::new(stream);
        let conn = Conn {
            shared: sh.clone(),
            session: session.clone(),
            src,
            dst,
            hello,
            client: None,
            user: String::new(),
            channels: Vec::new(),
        };
        let config = self.config.clone();
        let shared = sh.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let timeout = shared.settings.session_timeout;
            let run = async {
                match russh::server::run_stream(config, tap, conn).await {
                    Ok(s) => s.await.map(|_| ()),
                    Err(e) => Err(e),
                }
            };
            // how it ended, when that is a limit: counted, and said as a limit event
            let st = &shared.stats;
            let limit = match tokio::time::timeout(timeout, run).await {
                Err(_) => Some((&st.session_timeouts, "session")),
                // idle after the version line, or before it (russh times that read out)
                Ok(Err(russh::Error::InactivityTimeout | russh::Error::Elapsed(_))) => {
                    Some((&st.idle_timeouts, "idle"))
                }
                // the client went away (the usual end, not a limit)
                Ok(Err(
                    russh::Error::Disconnect
                    | russh::Error::HUP
                    | russh::Error::IO(_)
                    | russh::Error::SendError
                    | russh::Error::RecvError,
                ))
                | Ok(Ok(())) => None,
                Ok(Err(_)) => Some((&st.protocol_errors, "protocol")),
            };
            if let Some((counter, what)) = limit {
                counter.fetch_add(1, Ordering::Relaxed);
                shared.sink.event(HpEvent {
                    ts: now_micros(),
                    sensor: "ssh",
                    session: session.clone(),
                    src,
                    dst,
                    what: What::Limit { what },
                });
            }
            drop(slot);
            shared.sink.event(HpEvent {
                ts: now_micros(),
                sensor: "ssh",
                session,
                src,
                dst,
                what: What::Closed {
                    duration_ms: started.elapsed().as_millis() as u64,
                },
            });
        });
    }
}

/// One connection.
struct Conn {
    shared: Arc<Shared>,
    session: String,
    src: SocketAddr,
    dst: SocketAddr,
    hello: HelloCell,
    /// The client's version line and HASSH, once known.
    client: Option<(String, String)>,
    /// The user that logged in.
    user: String,
    channels: Vec<Chan>,
}

/// One session channel.
struct Chan {
    id: ChannelId,
    user: String,
    pty: bool,
    shell: Option<Shell>,
    /// The line being typed (pty) or read (no pty).
    line: Vec<u8>,
    /// The last byte was a CR (a CR LF pair is one line end).
    cr: bool,
    /// Inside an escape sequence (arrow keys…): bytes to skip.
    esc: u8,
    /// The line went over the cap: the rest of it is dropped.
    over: bool,
    scp: Option<Scp>,
    /// The SFTP subsystem, once asked for.
    sftp: Option<Box<Sftp>>,
}

impl Chan {
    /// The channel's shell, started at its first use: the session's user, the client's address
    /// (`w`, `who`, `$SSH_CLIENT`), and a terminal only when the channel asked for one (`ssh
    /// host 'cmd'` output is what tools print to a pipe).
    fn shell_for(&mut self, shared: &Shared, src: SocketAddr) -> &mut Shell {
        let (user, pty) = (&self.user, self.pty);
        self.shell.get_or_insert_with(|| {
            let mut sh = Shell::new(shared.world.clone(), user, shared.settings.shell.clone());
            sh.set_client(src.ip(), src.port());
            sh.set_pty(pty);
            sh
        })
    }
}

/// An `scp -t TARGET` sink in progress.
struct Scp {
    target: String,
    /// The control line being read.
    ctl: Vec<u8>,
    /// A file's bytes being read: its name, what is left, what is kept.
    file: Option<(String, u64, Vec<u8>)>,
}

impl Conn {
    fn emit(&self, what: What) {
        self.shared.sink.event(HpEvent {
            ts: now_micros(),
            sensor: "ssh",
            session: self.session.clone(),
            src: self.src,
            dst: self.dst,
            what,
        });
    }

    /// The client's version and HASSH, once, as soon as they are known: the event, and the
    /// version and HASSH kept for its login events (the algorithm lists are let go).
    fn hello(&mut self) {
        if self.client.is_some() {
            return;
        }
        let taken = self.hello.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(Ok(h)) = taken {
            self.client = Some((cap(&h.version, 255), h.hassh.clone()));
            self.emit(What::ClientVersion {
                version: cap(&h.version, 255),
                hassh: h.hassh,
                hassh_algorithms: cap(&h.algorithms, 4096),
            });
        }
    }

    fn login(&mut self, user: &str, password: Option<&str>, key: Option<String>, ok: bool) {
        let st = &self.shared.stats;
        if ok { &st.logins_ok } else { &st.logins_failed }.fetch_add(1, Ordering::Relaxed);
        self.emit(What::Login {
            user: cap(user, 255),
            password: password.map(|p| cap(p, 255)),
            key_fingerprint: key,
            success: ok,
            client: self.client.clone(),
        });
    }

    fn password_ok(&self, user: &str, password: &str) -> bool {
        match &self.shared.settings.accept {
            Accept::Never => false,
            Accept::Credentials(list) => list
                .iter()
                .any(|(u, p)| (u == "*" || u == user) && (p == "*" || p == password)),
            Accept::AfterTries(n) => {
                let mut tries = self.shared.tries.lock().unwrap_or_else(|e| e.into_inner());
                if tries.len() >= TRIES_KEPT {
                    tries.clear();
                }
                let t = tries.entry(self.src.ip()).or_insert(0);
                *t = t.saturating_add(1);
                *t >= *n
            }
        }
    }

    fn chan(&mut self, id: ChannelId) -> Option<&mut Chan> {
        self.channels.iter_mut().find(|c| c.id == id)
    }

    /// Runs one line in channel `id`'s shell: its events, its output (CR LF on a pty), its
    /// status, and whether the shell exited.
    fn run_line(&mut self, id: ChannelId, line: &str) -> (Vec<u8>, i32, bool) {
        let Some(c) = self.channels.iter_mut().find(|c| c.id == id) else {
            return (vec![], 0, false);
        };
        let pty = c.pty;
        let shell = c.shell_for(&self.shared, self.src);
        let out = shell.run(line);
        let prompt = (!out.exit && pty).then(|| shell.prompt());
        let st = &self.shared.stats;
        st.commands.fetch_add(1, Ordering::Relaxed);
        let mut events = vec![What::Command {
            input: cap(line, EVENT_INPUT_BYTES),
        }];
        for e in out.effects {
            match e {
                Effect::Download { url, tool } => {
                    st.downloads.fetch_add(1, Ordering::Relaxed);
                    events.push(What::Download {
                        url: cap(&url, 2048),
                        tool,
                    });
                }
                Effect::Capped { what } => {
                    st.capped.fetch_add(1, Ordering::Relaxed);
                    events.push(What::Limit { what });
                }
                Effect::FileWritten { .. } => {}
            }
        }
        for e in events {
            self.emit(e);
        }
        let mut bytes = if pty { crlf(&out.output) } else { out.output };
        if let Some(p) = prompt {
            bytes.extend_from_slice(p.as_bytes());
        }
        (bytes, out.status, out.exit)
    }

    /// Typed bytes on a pty: line editing as a terminal's line discipline and bash do.
    fn typed(
        &mut self,
        id: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), russh::Error> {
        let max_line = self.shared.settings.shell.max_line;
        let mut echo: Vec<u8> = Vec::new();
        let mut over = false;
        for &b in data {
            let Some(c) = self.chan(id) else { break };
            if c.esc > 0 {
                // ESC [ params final: skip to the final byte
                c.esc = if c.esc == 1 && b == b'[' || (0x20..0x40).contains(&b) {
                    2
                } else {
                    0
                };
                continue;
            }
            match b {
                b'\r' | b'\n' => {
                    if b == b'\n' && std::mem::take(&mut c.cr) {
                        continue;
                    }
                    c.cr = b == b'\r';
                    let line = String::from_utf8_lossy(&std::mem::take(&mut c.line)).into_owned();
                    c.over = false;
                    echo.extend_from_slice(b"\r\n");
                    session.data(id, std::mem::take(&mut echo))?;
                    let (out, status, exit) = self.run_line(id, &line);
                    session.data(id, out)?;
                    if exit {
                        return self.exit(id, status as u32, session);
                    }
                    continue;
                }
                0x7f | 0x08 => {
                    if !c.line.is_empty() {
                        // one character: back over its continuation bytes
                        while let Some(x) = c.line.pop() {
                            if x & 0xc0 != 0x80 {
                                break;
                            }
                        }
                        echo.extend_from_slice(b"\x08 \x08");
                    }
                }
                0x03 => {
                    c.line.clear();
                    c.over = false;
                    echo.extend_from_slice(b"^C\r\n");
                    if let Some(s) = &c.shell {
                        echo.extend_from_slice(s.prompt().as_bytes());
                    }
                }
                0x04 if c.line.is_empty() => {
                    echo.extend_from_slice(b"logout\r\n");
                    session.data(id, std::mem::take(&mut echo))?;
                    return self.exit(id, 0, session);
                }
                0x15 => {
                    for _ in 0..String::from_utf8_lossy(&c.line).chars().count() {
                        echo.extend_from_slice(b"\x08 \x08");
                    }
                    c.line.clear();
                }
                0x1b => c.esc = 1,
                b if b < 0x20 => {}
                b => {
                    if c.line.len() < max_line {
                        c.line.push(b);
                        echo.push(b);
                    } else if !c.over {
                        c.over = true;
                        over = true;
                    }
                }
            }
            c.cr = false;
        }
        if over {
            self.shared.stats.capped.fetch_add(1, Ordering::Relaxed);
            self.emit(What::Limit { what: "line" });
        }
        if !echo.is_empty() {
            session.data(id, echo)?;
        }
        Ok(())
    }

    /// Bytes on a shell without a pty (a script piped in): lines, no echo, no prompt.
    fn piped(
        &mut self,
        id: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), russh::Error> {
        let max_line = self.shared.settings.shell.max_line;
        let mut lines = vec![];
        {
            let Some(c) = self.chan(id) else {
                return Ok(());
            };
            for &b in data {
                if b == b'\n' {
                    lines.push(String::from_utf8_lossy(&std::mem::take(&mut c.line)).into_owned());
                    c.over = false;
                } else if c.line.len() < max_line {
                    c.line.push(b);
                } else {
                    c.over = true;
                }
            }
        }
        for line in lines {
            let (out, status, exit) = self.run_line(id, line.trim_end_matches('\r'));
            session.data(id, out)?;
            if exit {
                return self.exit(id, status as u32, session);
            }
        }
        Ok(())
    }

    /// An `scp -t` sink's bytes: control lines answered with a zero byte, files kept.
    fn scp_data(
        &mut self,
        id: ChannelId,
        mut data: &[u8],
        session: &mut Session,
    ) -> Result<(), russh::Error> {
        let max_upload = self.shared.settings.shell.max_upload;
        let mut done: Vec<(String, Vec<u8>)> = vec![];
        let mut acks = 0usize;
        let mut fail: Option<&'static str> = None;
        {
            let Some(c) = self.chan(id) else {
                return Ok(());
            };
            let Some(scp) = c.scp.as_mut() else {
                return Ok(());
            };
            while !data.is_empty() {
                if let Some((name, left, kept)) = scp.file.as_mut() {
                    // the file's bytes, then its closing zero byte
                    if *left > 0 {
                        let n = (*left).min(data.len() as u64) as usize;
                        let room = max_upload.saturating_sub(kept.len());
                        kept.extend_from_slice(&data[..n.min(room)]);
                        *left -= n as u64;
                        data = &data[n..];
                        continue;
                    }
                    data = &data[1..];
                    done.push((std::mem::take(name), std::mem::take(kept)));
                    scp.file = None;
                    acks += 1;
                    continue;
                }
                let Some(nl) = data.iter().position(|&b| b == b'\n') else {
                    if scp.ctl.len() + data.len() > 4096 {
                        fail = Some("scp control line too long");
                        break;
                    }
                    scp.ctl.extend_from_slice(data);
                    break;
                };
                scp.ctl.extend_from_slice(&data[..nl]);
                data = &data[nl + 1..];
                let ctl = String::from_utf8_lossy(&std::mem::take(&mut scp.ctl)).into_owned();
                match ctl.as_bytes().first() {
                    Some(b'C') => {
                        // C0644 SIZE NAME
                        let mut parts = ctl[1..].splitn(3, ' ');
                        let (_mode, size, name) = (parts.next(), parts.next(), parts.next());
                        match (size.and_then(|s| s.parse::<u64>().ok()), name) {
                            (Some(size), Some(name)) if !name.contains('/') => {
                                scp.file = Some((name.to_owned(), size, Vec::new()));
                                acks += 1;
                            }
                            _ => {
                                fail = Some("scp: protocol error: bad mode");
                                break;
                            }
                        }
                    }
                    Some(b'D' | b'E' | b'T') => acks += 1,
                    _ => {
                        fail = Some("scp: protocol error: unexpected <newline>");
                        break;
                    }
                }
            }
        }
        for (name, bytes) in done {
            let target = self
                .chan(id)
                .and_then(|c| c.scp.as_ref())
                .map(|s| s.target.clone())
                .unwrap_or_default();
            let path = if target.ends_with('/') || target.is_empty() || target == "." {
                format!(
                    "{}{}",
                    if target.is_empty() || target == "." {
                        ""
                    } else {
                        &target
                    },
                    name
                )
            } else {
                target
            };
            let (shared, src) = (self.shared.clone(), self.src);
            let uploaded = self
                .chan(id)
                .and_then(|c| c.shell_for(&shared, src).upload(&path, &bytes).ok());
            if let Some(u) = uploaded {
                // recorded exactly as an SFTP upload
                self.transfer_notes(vec![Note::Upload(u)]);
            }
        }
        for _ in 0..acks {
            session.data(id, vec![0u8])?;
        }
        if let Some(msg) = fail {
            let mut m = vec![1u8];
            m.extend_from_slice(msg.as_bytes());
            m.push(b'\n');
            session.data(id, m)?;
            return self.exit(id, 1, session);
        }
        Ok(())
    }

    /// An SFTP channel's bytes: the answers sent, what they did recorded (uploads as scp's
    /// are), the channel closed on a protocol error.
    fn sftp_data(
        &mut self,
        id: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), russh::Error> {
        let (shared, src) = (self.shared.clone(), self.src);
        let Some(c) = self.chan(id) else {
            return Ok(());
        };
        c.shell_for(&shared, src);
        let Chan {
            shell: Some(shell),
            sftp: Some(sftp),
            ..
        } = c
        else {
            return Ok(());
        };
        let out = sftp.feed(shell, data);
        self.transfer_notes(out.notes);
        if !out.reply.is_empty() {
            session.data(id, out.reply)?;
        }
        if out.close {
            return self.exit(id, 1, session);
        }
        Ok(())
    }

    /// An SFTP channel ends: files still open for writing are kept and recorded.
    fn sftp_finish(&mut self, id: ChannelId) {
        let notes = match self.chan(id) {
            Some(Chan {
                shell: Some(shell),
                sftp: Some(sftp),
                ..
            }) => sftp.finish(shell),
            _ => return,
        };
        self.transfer_notes(notes);
    }

    /// What a transfer (SFTP, scp) did, as events: changes as commands, files as uploads
    /// (one record for both), limits counted.
    fn transfer_notes(&mut self, notes: Vec<Note>) {
        for n in notes {
            match n {
                Note::Command(line) => self.emit(What::Command {
                    input: cap(&line, EVENT_INPUT_BYTES),
                }),
                Note::Upload(u) => {
                    self.shared.stats.uploads.fetch_add(1, Ordering::Relaxed);
                    self.emit(What::Upload {
                        path: cap(&u.path, 1024),
                        size: u.size,
                        sha256: u.sha256,
                    });
                }
                Note::Limit(what) => {
                    self.shared.stats.capped.fetch_add(1, Ordering::Relaxed);
                    self.emit(What::Limit { what });
                }
            }
        }
    }

    fn exit(
        &mut self,
        id: ChannelId,
        status: u32,
        session: &mut Session,
    ) -> Result<(), russh::Error> {
        session.exit_status_request(id, status)?;
        session.eof(id)?;
        session.close(id)?;
        self.channels.retain(|c| c.id != id);
        Ok(())
    }
}

/// `\n` as `\r\n` (what a terminal's output processing does).
fn crlf(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len() + b.len() / 16);
    let mut prev = 0u8;
    for &x in b {
        if x == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(x);
        prev = x;
    }
    out
}

impl Handler for Conn {
    type Error = russh::Error;

    async fn auth_none(&mut self, _user: &str) -> Result<Auth, Self::Error> {
        self.hello();
        Ok(Auth::reject())
    }

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        self.hello();
        let ok = self.password_ok(user, password);
        self.login(user, Some(password), None, ok);
        if ok {
            self.user = cap(user, 32);
        }
        Ok(if ok { Auth::Accept } else { Auth::reject() })
    }

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: russh::server::PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        self.hello();
        let fp = offer.public_key.fingerprint(HashAlg::Sha256).to_string();
        self.login(user, None, Some(fp), false);
        Ok(Auth::reject())
    }

    async fn auth_succeeded(&mut self, _session: &mut Session) -> Result<(), Self::Error> {
        Ok(())
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.channels.len() >= self.shared.settings.max_channels {
            self.shared.stats.capped.fetch_add(1, Ordering::Relaxed);
            self.emit(What::Limit { what: "channels" });
            reply.reject(ChannelOpenFailure::ResourceShortage).await;
            return Ok(());
        }
        let user = self.user.clone();
        // most sessions open one channel: room for exactly one more, not Vec's first four
        // (1.5 KB a session, 15 MB of 10,000 idle ones)
        self.channels.reserve_exact(1);
        self.channels.push(Chan {
            id: channel.id(),
            user,
            pty: false,
            shell: None,
            line: Vec::new(),
            cr: false,
            esc: 0,
            over: false,
            scp: None,
            sftp: None,
        });
        reply.accept().await;
        Ok(())
    }

    async fn channel_open_direct_tcpip(
        &mut self,
        _channel: Channel<Msg>,
        host_to_connect: &str,
        port_to_connect: u32,
        _originator_address: &str,
        _originator_port: u32,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.shared
            .stats
            .proxy_requests
            .fetch_add(1, Ordering::Relaxed);
        self.emit(What::Proxy {
            dst: format!("{}:{port_to_connect}", cap(host_to_connect, 255)),
        });
        reply.reject(ChannelOpenFailure::ConnectFailed).await;
        Ok(())
    }

    async fn tcpip_forward(
        &mut self,
        address: &str,
        port: &mut u32,
        _session: &mut Session,
    ) -> Result<bool, Self::Error> {
        self.shared
            .stats
            .proxy_requests
            .fetch_add(1, Ordering::Relaxed);
        self.emit(What::Proxy {
            dst: format!("listen {}:{port}", cap(address, 255)),
        });
        Ok(false)
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _col_width: u32,
        _row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        match self.chan(channel) {
            Some(c) => {
                c.pty = true;
                session.channel_success(channel)
            }
            None => session.channel_failure(channel),
        }
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        _value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // OpenSSH accepts only AcceptEnv names (LANG, LC_*): refusing is what it mostly does
        session.channel_failure(channel)
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let (shared, src) = (self.shared.clone(), self.src);
        let Some(c) = self.chan(channel) else {
            return session.channel_failure(channel);
        };
        let pty = c.pty;
        let shell = c.shell_for(&shared, src);
        let mut hello = Vec::new();
        if pty {
            let motd = motd(&shared.world) + &shell.banner();
            hello.extend_from_slice(crlf(motd.as_bytes()).as_slice());
            hello.extend_from_slice(shell.prompt().as_bytes());
        }
        session.channel_success(channel)?;
        if !hello.is_empty() {
            session.data(channel, hello)?;
        }
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let max_line = self.shared.settings.shell.max_line;
        let line = String::from_utf8_lossy(&data[..data.len().min(max_line)]).into_owned();
        if self.chan(channel).is_none() {
            return session.channel_failure(channel);
        }
        session.channel_success(channel)?;
        if let Some(target) = scp_sink(&line) {
            self.emit(What::Command {
                input: cap(&line, EVENT_INPUT_BYTES),
            });
            if let Some(c) = self.chan(channel) {
                c.scp = Some(Scp {
                    target,
                    ctl: Vec::new(),
                    file: None,
                });
            }
            // ready for the first control line
            return session.data(channel, vec![0u8]);
        }
        let (out, status, _) = self.run_line(channel, &line);
        session.data(channel, out)?;
        self.exit(channel, status as u32, session)
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.emit(What::Command {
            input: format!("subsystem {}", cap(name, 64)),
        });
        if name == "sftp" {
            let (shared, src) = (self.shared.clone(), self.src);
            if let Some(c) = self.chan(channel) {
                if c.scp.is_none() && c.sftp.is_none() {
                    c.shell_for(&shared, src);
                    c.sftp = Some(Box::new(Sftp::new(shared.settings.shell.max_upload)));
                    return session.channel_success(channel);
                }
            }
        }
        session.channel_failure(channel)
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(c) = self.chan(channel) else {
            return Ok(());
        };
        if c.scp.is_some() {
            return self.scp_data(channel, data, session);
        }
        if c.sftp.is_some() {
            return self.sftp_data(channel, data, session);
        }
        if c.shell.is_none() {
            return Ok(());
        }
        if c.pty {
            self.typed(channel, data, session)
        } else {
            self.piped(channel, data, session)
        }
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // a script piped in has ended, or an scp sink or an SFTP session is done
        let Some(c) = self.chan(channel) else {
            return Ok(());
        };
        if c.sftp.is_some() {
            self.sftp_finish(channel);
            return self.exit(channel, 0, session);
        }
        if c.scp.is_some() || !c.pty {
            let rest = std::mem::take(&mut c.line);
            if !rest.is_empty() && c.scp.is_none() {
                let line = String::from_utf8_lossy(&rest).into_owned();
                let (out, _, _) = self.run_line(channel, &line);
                session.data(channel, out)?;
            }
            return self.exit(channel, 0, session);
        }
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.sftp_finish(channel);
        self.channels.retain(|c| c.id != channel);
        Ok(())
    }
}

/// `scp -t [-r] [-d] [-p] [-v] TARGET` (the remote end of an upload): its target.
fn scp_sink(line: &str) -> Option<String> {
    let mut words = line.split_whitespace();
    if words.next()? != "scp" {
        return None;
    }
    let mut sink = false;
    let mut target = None;
    for w in words {
        match w {
            "-t" => sink = true,
            w if w.starts_with('-') => {
                if w.contains('t') {
                    sink = true;
                }
            }
            w => target = Some(w.to_owned()),
        }
    }
    sink.then(|| target.unwrap_or_else(|| ".".into()))
}

/// What a login shows before the first prompt, before the shell's "Last login" line
/// ([`Shell::banner`]): the distribution's first line (Debian: the kernel as `uname -a` has
/// it; Ubuntu: its welcome line; CentOS: nothing).
fn motd(world: &World) -> String {
    use crate::shell::identity::Family;
    let id = world.identity();
    match id.os.family() {
        Family::Debian => format!(
            "Linux {} {} {} {}\n\n",
            id.hostname, id.kernel_release, id.kernel_version, id.machine
        ),
        Family::Ubuntu => format!(
            "Welcome to {} (GNU/Linux {} {})\n\n",
            id.os_pretty_name, id.kernel_release, id.machine
        ),
        Family::Rhel => String::new(),
    }
}
