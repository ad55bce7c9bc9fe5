//! TCP banner decoys (OpenCanary's `tcpbanner` idea): a port, what it says first, what it
//! answers; with built-in profiles that speak just enough of a protocol to take a login:
//! telnet (a login prompt: user and password recorded), Redis (`AUTH` recorded, commands
//! answered from a small table), MySQL (the server greeting; the client's user recorded, the
//! login refused as a real server refuses it) and FTP (`USER`/`PASS` recorded, refused).
//!
//! Limits: bytes read per connection, an idle timeout, connections per address and in all.
//! Nothing a client sends is executed.

use crate::event::{cap, now_micros, session_id, HpEvent, Sink, What};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What a decoy speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// The configured banner, and the configured reply to every line.
    Banner,
    Telnet,
    Redis,
    Mysql,
    Ftp,
}

impl Profile {
    pub fn from_name(s: &str) -> Option<Profile> {
        Some(match s {
            "banner" => Profile::Banner,
            "telnet" => Profile::Telnet,
            "redis" => Profile::Redis,
            "mysql" => Profile::Mysql,
            "ftp" => Profile::Ftp,
            _ => return None,
        })
    }

    /// The sensor name on its events.
    pub fn sensor(self) -> &'static str {
        match self {
            Profile::Banner => "tcp",
            Profile::Telnet => "telnet",
            Profile::Redis => "redis",
            Profile::Mysql => "mysql",
            Profile::Ftp => "ftp",
        }
    }
}

/// One decoy's settings (`[[honeypot.tcp]]`).
#[derive(Debug, Clone)]
pub struct TcpSettings {
    pub profile: Profile,
    /// Sent on connect (`Banner`; the others have their own).
    pub banner: Vec<u8>,
    /// Sent after every line received (`Banner`).
    pub reply: Vec<u8>,
    /// The host name a telnet prompt shows.
    pub hostname: String,
    pub idle_timeout: Duration,
    /// Bytes read per connection; beyond, closed.
    pub max_bytes: usize,
    pub max_per_ip: usize,
    pub max_total: usize,
}

impl Default for TcpSettings {
    fn default() -> Self {
        TcpSettings {
            profile: Profile::Banner,
            banner: vec![],
            reply: vec![],
            hostname: "localhost".into(),
            idle_timeout: Duration::from_secs(60),
            max_bytes: 64 * 1024,
            max_per_ip: 16,
            max_total: 2048,
        }
    }
}

/// Counters.
#[derive(Debug, Default)]
pub struct TcpStats {
    pub connections: AtomicU64,
    pub refused: AtomicU64,
    pub capped: AtomicU64,
}

struct Shared {
    settings: TcpSettings,
    sink: Arc<dyn Sink>,
    stats: Arc<TcpStats>,
    slots: Arc<crate::event::Slots>,
}

/// One TCP decoy.
#[derive(Clone)]
pub struct TcpHoneypot {
    shared: Arc<Shared>,
}

/// One connection's state: who, and where events go.
struct Conn<'a> {
    sh: &'a Shared,
    session: String,
    src: SocketAddr,
    dst: SocketAddr,
    read: usize,
}

impl Conn<'_> {
    fn emit(&self, what: What) {
        self.sh.sink.event(HpEvent {
            ts: now_micros(),
            sensor: self.sh.settings.profile.sensor(),
            session: self.session.clone(),
            src: self.src,
            dst: self.dst,
            what,
        });
    }

    fn login(&self, user: &str, password: Option<&str>) {
        self.emit(What::Login {
            user: cap(user, 255),
            password: password.map(|p| cap(p, 255)),
            key_fingerprint: None,
            success: false,
            client: None,
        });
    }

    /// Reads what the client sends next (at most the bytes left of the cap), or `None` at
    /// the end, on the idle timeout or over the cap.
    async fn next(&mut self, s: &mut TcpStream, buf: &mut [u8]) -> Option<usize> {
        let left = self.sh.settings.max_bytes.saturating_sub(self.read);
        if left == 0 {
            self.sh.stats.capped.fetch_add(1, Ordering::Relaxed);
            self.emit(What::Limit { what: "bytes" });
            return None;
        }
        let n = buf.len().min(left);
        match tokio::time::timeout(self.sh.settings.idle_timeout, s.read(&mut buf[..n])).await {
            Ok(Ok(0)) | Ok(Err(_)) => None,
            Ok(Ok(k)) => {
                self.read += k;
                Some(k)
            }
            Err(_) => {
                self.emit(What::Limit { what: "idle" });
                None
            }
        }
    }
}

/// Splits complete lines (LF, CR LF or CR NUL) off `pending`.
fn lines(pending: &mut Vec<u8>) -> Vec<String> {
    let mut out = vec![];
    while let Some(i) = pending.iter().position(|&b| b == b'\n' || b == b'\r') {
        let line: Vec<u8> = pending.drain(..=i).collect();
        // a CR's partner (LF or NUL) is dropped with it
        if line.last() == Some(&b'\r') && matches!(pending.first(), Some(b'\n' | 0)) {
            pending.remove(0);
        }
        let text = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
        out.push(text);
    }
    out
}

/// Telnet option negotiation stripped: IAC commands and subnegotiations.
fn strip_telnet(data: &[u8], in_sb: &mut bool, out: &mut Vec<u8>) {
    let mut i = 0;
    while i < data.len() {
        let b = data[i];
        if *in_sb {
            if b == 255 && data.get(i + 1) == Some(&240) {
                *in_sb = false;
                i += 2;
            } else {
                i += 1;
            }
            continue;
        }
        if b == 255 {
            match data.get(i + 1) {
                Some(250) => {
                    *in_sb = true;
                    i += 2;
                }
                Some(251..=254) => i += 3,
                Some(255) => {
                    out.push(255);
                    i += 2;
                }
                Some(_) => i += 2,
                None => i += 1,
            }
            continue;
        }
        out.push(b);
        i += 1;
    }
}

impl TcpHoneypot {
    pub fn new(settings: TcpSettings, sink: Arc<dyn Sink>) -> TcpHoneypot {
        TcpHoneypot {
            shared: Arc::new(Shared {
                slots: crate::event::Slots::new(settings.max_per_ip, settings.max_total),
                settings,
                sink,
                stats: Arc::default(),
            }),
        }
    }

    pub fn stats(&self) -> Arc<TcpStats> {
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
            sh.stats.connections.fetch_add(1, Ordering::Relaxed);
            let Ok(slot) = sh.slots.take(src.ip()) else {
                sh.stats.refused.fetch_add(1, Ordering::Relaxed);
                return;
            };
            tokio::spawn(async move {
                let started = std::time::Instant::now();
                let mut c = Conn {
                    sh: &sh,
                    session: session_id(),
                    src,
                    dst,
                    read: 0,
                };
                c.emit(What::Connect);
                let mut stream = stream;
                let _ = match sh.settings.profile {
                    Profile::Banner => banner(&mut c, &mut stream).await,
                    Profile::Telnet => telnet(&mut c, &mut stream).await,
                    Profile::Redis => redis(&mut c, &mut stream).await,
                    Profile::Mysql => mysql(&mut c, &mut stream).await,
                    Profile::Ftp => ftp(&mut c, &mut stream).await,
                };
                c.emit(What::Closed {
                    duration_ms: started.elapsed().as_millis() as u64,
                });
                drop(slot);
            });
        })
        .await
    }
}

async fn banner(c: &mut Conn<'_>, s: &mut TcpStream) -> std::io::Result<()> {
    s.write_all(&c.sh.settings.banner).await?;
    let mut buf = [0u8; 4096];
    let mut pending = vec![];
    while let Some(n) = c.next(s, &mut buf).await {
        pending.extend_from_slice(&buf[..n]);
        for line in lines(&mut pending) {
            c.emit(What::Command {
                input: cap(&line, 4096),
            });
            s.write_all(&c.sh.settings.reply).await?;
        }
        if pending.len() > 4096 {
            let line = String::from_utf8_lossy(&std::mem::take(&mut pending)).into_owned();
            c.emit(What::Command {
                input: cap(&line, 4096),
            });
        }
    }
    Ok(())
}

async fn telnet(c: &mut Conn<'_>, s: &mut TcpStream) -> std::io::Result<()> {
    // IAC WILL ECHO, IAC WILL SUPPRESS-GO-AHEAD, IAC DO NAWS: what a Linux telnetd opens with
    s.write_all(&[255, 251, 1, 255, 251, 3, 255, 253, 31])
        .await?;
    let host = c.sh.settings.hostname.clone();
    s.write_all(format!("\r\n{host} login: ").as_bytes())
        .await?;
    let mut buf = [0u8; 1024];
    let (mut pending, mut in_sb) = (vec![], false);
    let mut user: Option<String> = None;
    let mut tries = 0;
    while let Some(n) = c.next(s, &mut buf).await {
        let mut clean = vec![];
        strip_telnet(&buf[..n], &mut in_sb, &mut clean);
        // the server echoes (it said WILL ECHO): the user name yes, the password no
        if user.is_none() {
            let echo: Vec<u8> = clean.iter().copied().filter(|&b| b != 0).collect();
            s.write_all(&echo).await?;
        }
        pending.extend_from_slice(&clean);
        for line in lines(&mut pending) {
            match user.take() {
                None => {
                    user = Some(line);
                    s.write_all(b"Password: ").await?;
                }
                Some(u) => {
                    c.login(&u, Some(&line));
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    if tries >= 3 {
                        s.write_all(b"\r\nLogin incorrect\r\n").await?;
                        return Ok(());
                    }
                    s.write_all(format!("\r\nLogin incorrect\r\n{host} login: ").as_bytes())
                        .await?;
                }
            }
        }
    }
    Ok(())
}

/// A Redis command from RESP (`*2\r\n$4\r\nAUTH\r\n$3\r\npwd\r\n`) or inline (`AUTH pwd`):
/// its words, and the bytes it took; `None` while incomplete, `Some(Err)` when malformed.
fn resp_command(b: &[u8]) -> Option<Result<(Vec<String>, usize), ()>> {
    if b.first() != Some(&b'*') {
        let end = b.iter().position(|&x| x == b'\n')?;
        let line = String::from_utf8_lossy(&b[..end]);
        let words = line.split_whitespace().map(str::to_owned).collect();
        return Some(Ok((words, end + 1)));
    }
    let line_end = |from: usize| {
        b[from..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .map(|p| from + p)
    };
    let e = line_end(0)?;
    let Ok(n) = std::str::from_utf8(&b[1..e])
        .unwrap_or("x")
        .parse::<usize>()
    else {
        return Some(Err(()));
    };
    if n > 64 {
        return Some(Err(()));
    }
    let mut at = e + 2;
    let mut words = Vec::with_capacity(n);
    for _ in 0..n {
        if at >= b.len() {
            return None;
        }
        if b[at] != b'$' {
            return Some(Err(()));
        }
        let e = line_end(at)?;
        let Ok(len) = std::str::from_utf8(&b[at + 1..e])
            .unwrap_or("x")
            .parse::<usize>()
        else {
            return Some(Err(()));
        };
        if len > 16 * 1024 {
            return Some(Err(()));
        }
        let start = e + 2;
        if b.len() < start + len + 2 {
            return None;
        }
        words.push(String::from_utf8_lossy(&b[start..start + len]).into_owned());
        at = start + len + 2;
    }
    Some(Ok((words, at)))
}

async fn redis(c: &mut Conn<'_>, s: &mut TcpStream) -> std::io::Result<()> {
    let mut buf = [0u8; 4096];
    let mut pending: Vec<u8> = vec![];
    while let Some(n) = c.next(s, &mut buf).await {
        pending.extend_from_slice(&buf[..n]);
        loop {
            let (words, used) = match resp_command(&pending) {
                None => break,
                Some(Err(())) => {
                    s.write_all(b"-ERR Protocol error: invalid multibulk length\r\n")
                        .await?;
                    return Ok(());
                }
                Some(Ok(x)) => x,
            };
            pending.drain(..used);
            let Some(cmd) = words.first().map(|w| w.to_ascii_uppercase()) else {
                continue;
            };
            let reply: Vec<u8> = match cmd.as_str() {
                "AUTH" => {
                    let (user, pass) = match &words[1..] {
                        [p] => ("default", p.as_str()),
                        [u, p, ..] => (u.as_str(), p.as_str()),
                        [] => ("default", ""),
                    };
                    c.login(user, Some(pass));
                    b"-WRONGPASS invalid username-password pair or user is disabled.\r\n".to_vec()
                }
                "PING" => b"+PONG\r\n".to_vec(),
                "QUIT" => {
                    s.write_all(b"+OK\r\n").await?;
                    return Ok(());
                }
                "INFO" => {
                    c.emit(What::Command {
                        input: cap(&words.join(" "), 4096),
                    });
                    let info = "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\nos:Linux 6.1.0-27-amd64 x86_64\r\narch_bits:64\r\ntcp_port:6379\r\n";
                    format!("${}\r\n{info}\r\n", info.len()).into_bytes()
                }
                _ => {
                    // CONFIG SET dir, SLAVEOF, MODULE LOAD, EVAL…: what an exploit does, recorded
                    c.emit(What::Command {
                        input: cap(&words.join(" "), 4096),
                    });
                    b"-NOAUTH Authentication required.\r\n".to_vec()
                }
            };
            s.write_all(&reply).await?;
        }
        if pending.len() > 64 * 1024 {
            return Ok(());
        }
    }
    Ok(())
}

async fn mysql(c: &mut Conn<'_>, s: &mut TcpStream) -> std::io::Result<()> {
    // protocol 10 greeting: version, connection id, 20 bytes of scramble, capabilities,
    // utf8mb4, status, mysql_native_password
    let version = b"8.0.39-0ubuntu0.22.04.1";
    let mut p = vec![10u8];
    p.extend_from_slice(version);
    p.push(0);
    p.extend_from_slice(&(fastrand::u32(1000..100_000)).to_le_bytes());
    let scramble: Vec<u8> = (0..20).map(|_| fastrand::u8(33..127)).collect();
    p.extend_from_slice(&scramble[..8]);
    p.push(0);
    p.extend_from_slice(&0xf7ffu16.to_le_bytes());
    p.push(255);
    p.extend_from_slice(&2u16.to_le_bytes());
    p.extend_from_slice(&0xdfffu16.to_le_bytes());
    p.push(21);
    p.extend_from_slice(&[0u8; 10]);
    p.extend_from_slice(&scramble[8..]);
    p.push(0);
    p.extend_from_slice(b"mysql_native_password\0");
    s.write_all(&packet(0, &p)).await?;
    // the client's answer: 4-byte header, then 32 bytes (capabilities, size, charset,
    // filler), then the user name, NUL-terminated
    let mut buf = [0u8; 4096];
    let mut got: Vec<u8> = vec![];
    while got.len() < 4
        || got.len() < 4 + (u32::from_le_bytes([got[0], got[1], got[2], 0]) as usize).min(4092)
    {
        let Some(n) = c.next(s, &mut buf).await else {
            return Ok(());
        };
        got.extend_from_slice(&buf[..n]);
    }
    let body = &got[4..];
    let user = body
        .get(32..)
        .map(|r| {
            let end = r.iter().position(|&b| b == 0).unwrap_or(r.len());
            String::from_utf8_lossy(&r[..end.min(255)]).into_owned()
        })
        .unwrap_or_default();
    // the password travels scrambled: the attempt is recorded without it
    c.login(&user, None);
    let msg = format!(
        "Access denied for user '{}'@'{}' (using password: YES)",
        cap(&user, 64),
        c.src.ip()
    );
    let mut e = vec![0xffu8];
    e.extend_from_slice(&1045u16.to_le_bytes());
    e.extend_from_slice(b"#28000");
    e.extend_from_slice(msg.as_bytes());
    s.write_all(&packet(2, &e)).await?;
    Ok(())
}

fn packet(seq: u8, payload: &[u8]) -> Vec<u8> {
    let n = payload.len() as u32;
    let mut out = vec![n as u8, (n >> 8) as u8, (n >> 16) as u8, seq];
    out.extend_from_slice(payload);
    out
}

async fn ftp(c: &mut Conn<'_>, s: &mut TcpStream) -> std::io::Result<()> {
    s.write_all(b"220 (vsFTPd 3.0.5)\r\n").await?;
    let mut buf = [0u8; 1024];
    let mut pending = vec![];
    let mut user: Option<String> = None;
    while let Some(n) = c.next(s, &mut buf).await {
        pending.extend_from_slice(&buf[..n]);
        for line in lines(&mut pending) {
            let (verb, arg) = line.split_once(' ').unwrap_or((&line, ""));
            let reply: &[u8] = match verb.to_ascii_uppercase().as_str() {
                "USER" => {
                    user = Some(arg.to_owned());
                    b"331 Please specify the password.\r\n"
                }
                "PASS" => {
                    c.login(user.as_deref().unwrap_or(""), Some(arg));
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    b"530 Login incorrect.\r\n"
                }
                "QUIT" => {
                    s.write_all(b"221 Goodbye.\r\n").await?;
                    return Ok(());
                }
                "" => continue,
                _ => {
                    c.emit(What::Command {
                        input: cap(&line, 4096),
                    });
                    b"530 Please login with USER and PASS.\r\n"
                }
            };
            s.write_all(reply).await?;
        }
        if pending.len() > 4096 {
            return Ok(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_on_any_line_end() {
        let mut p = b"root\r\0pass\r\nthird\nrest".to_vec();
        assert_eq!(lines(&mut p), vec!["root", "pass", "third"]);
        assert_eq!(p, b"rest");
    }

    #[test]
    fn telnet_negotiation_is_stripped() {
        let mut out = vec![];
        let mut sb = false;
        strip_telnet(
            &[
                255, 253, 1, b'r', 255, 250, 31, 0, 80, 255, 240, b'o', 255, 255,
            ],
            &mut sb,
            &mut out,
        );
        assert_eq!(out, vec![b'r', b'o', 255]);
        assert!(!sb);
    }

    #[test]
    fn redis_commands_are_read_inline_and_in_resp() {
        let (w, used) = resp_command(b"*2\r\n$4\r\nAUTH\r\n$6\r\nsecret\r\nPING")
            .unwrap()
            .unwrap();
        assert_eq!(w, vec!["AUTH", "secret"]);
        assert_eq!(used, 26);
        assert!(
            resp_command(b"*2\r\n$4\r\nAUTH\r\n$6\r\nsec").is_none(),
            "incomplete"
        );
        assert_eq!(resp_command(b"PING\r\n").unwrap().unwrap().0, vec!["PING"]);
        for bad in [
            &b"*x\r\n"[..],
            b"*99999\r\n",
            b"*1\r\n+oops\r\n",
            b"*1\r\n$999999999\r\n",
        ] {
            assert!(matches!(resp_command(bad), Some(Err(()))), "{bad:?}");
        }
    }
}
