//! A small blocking HTTP/1.1 client for tripline's own API (`tripline top`, `tripline bench
//! api`): one keep-alive connection, plain or TLS, requests written whole, responses read by
//! Content-Length.

use anyhow::{Context, Result};
use std::io::{BufRead, Read, Write};
use std::sync::Arc;
use std::time::Duration;
use tripline_api::tls;

/// Where the API is: `host:port`, and the TLS configuration and server name when it speaks TLS.
#[derive(Clone)]
pub struct Target {
    pub addr: String,
    pub tls: Option<(Arc<tls::rustls::ClientConfig>, String)>,
}

impl Target {
    /// Plain HTTP to `addr`.
    pub fn plain(addr: &str) -> Target {
        Target {
            addr: addr.to_string(),
            tls: None,
        }
    }

    /// The API a configuration serves: `addr` (or `api.bind`), over TLS trusting `api.tls_cert`
    /// when it is set (the certificate must name the host of the address).
    pub fn of(cfg: &crate::config::Config, addr: Option<String>) -> Result<Target> {
        let addr = addr.unwrap_or_else(|| cfg.api.bind.clone());
        if cfg.api.tls_cert.is_empty() {
            return Ok(Target::plain(&addr));
        }
        let config = tls::client_config(std::path::Path::new(&cfg.api.tls_cert))
            .map_err(|e| anyhow::anyhow!("api.tls_cert = {:?}: {e}", cfg.api.tls_cert))?;
        let host = match addr.parse::<std::net::SocketAddr>() {
            Ok(a) => a.ip().to_string(),
            Err(_) => addr.rsplit_once(':').map_or(&*addr, |(h, _)| h).to_string(),
        };
        Ok(Target {
            addr,
            tls: Some((config, host)),
        })
    }
}

/// What a connection reads and writes: a TCP stream, or TLS over one.
trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// One keep-alive connection.
pub struct HttpConn {
    s: std::io::BufReader<Box<dyn Stream>>,
}

/// Largest response body accepted.
const MAX_BODY: usize = 64 << 20;

impl HttpConn {
    pub fn open(to: &Target) -> Result<HttpConn> {
        let addr = &to.addr;
        let s = std::net::TcpStream::connect(addr)
            .with_context(|| format!("cannot connect to {addr}"))?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        let stream: Box<dyn Stream> = match &to.tls {
            None => Box::new(s),
            Some((config, name)) => Box::new(
                tls::connect_blocking(config.clone(), name, s)
                    .map_err(|e| anyhow::anyhow!("{addr}: {e}"))?,
            ),
        };
        Ok(HttpConn {
            s: std::io::BufReader::new(stream),
        })
    }

    /// Send `req` (a whole request), read the whole response: status and body.
    pub fn request(&mut self, req: &str) -> Result<(u16, Vec<u8>)> {
        let w = self.s.get_mut();
        w.write_all(req.as_bytes())?;
        w.flush()?;
        let mut line = String::new();
        self.s.read_line(&mut line)?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("bad status line")?;
        let mut len = 0usize;
        loop {
            line.clear();
            if self.s.read_line(&mut line)? == 0 {
                anyhow::bail!("connection closed in the response head");
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((_, v)) = l
                .split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        anyhow::ensure!(len <= MAX_BODY, "response of {len} bytes");
        let mut body = vec![0u8; len];
        self.s.read_exact(&mut body)?;
        Ok((status, body))
    }

    /// `GET path` with the bearer token, as JSON.
    pub fn get_json(&mut self, host: &str, token: &str, path: &str) -> Result<serde_json::Value> {
        let (status, body) = self.request(&format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n"
        ))?;
        let v: serde_json::Value =
            serde_json::from_slice(&body).with_context(|| format!("{path}: not JSON"))?;
        anyhow::ensure!(
            status == 200,
            "{path}: {status} {}",
            v["error"].as_str().unwrap_or("")
        );
        Ok(v)
    }
}
