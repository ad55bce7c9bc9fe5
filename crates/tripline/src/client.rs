//! A small blocking HTTP/1.1 client for tripline's own API (`tripline top`, `tripline bench
//! api`): one keep-alive connection, requests written whole, responses read by Content-Length.

use anyhow::{Context, Result};
use std::io::{BufRead, Read, Write};
use std::time::Duration;

/// One keep-alive connection.
pub struct HttpConn {
    r: std::io::BufReader<std::net::TcpStream>,
    w: std::net::TcpStream,
}

/// Largest response body accepted.
const MAX_BODY: usize = 64 << 20;

impl HttpConn {
    pub fn open(addr: &str) -> Result<HttpConn> {
        let s = std::net::TcpStream::connect(addr)
            .with_context(|| format!("cannot connect to {addr}"))?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(HttpConn {
            r: std::io::BufReader::new(s.try_clone()?),
            w: s,
        })
    }

    /// Send `req` (a whole request), read the whole response: status and body.
    pub fn request(&mut self, req: &str) -> Result<(u16, Vec<u8>)> {
        self.w.write_all(req.as_bytes())?;
        let mut line = String::new();
        self.r.read_line(&mut line)?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("bad status line")?;
        let mut len = 0usize;
        loop {
            line.clear();
            if self.r.read_line(&mut line)? == 0 {
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
        self.r.read_exact(&mut body)?;
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
