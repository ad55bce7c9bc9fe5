//! HASSH: the fingerprint of an SSH client's implementation, the MD5 of the algorithm lists in
//! its first `SSH_MSG_KEXINIT` (`kex;ciphers;macs;compression`, client to server). russh does
//! not hand the client's KEXINIT to its handler, so the connection is read through a [`Tap`]
//! that keeps a copy of the first bytes the client sends (its version line and first packet,
//! which travel unencrypted) until the fingerprint is made, then stops copying.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The largest first packet read for a fingerprint (RFC 4253: 35,000 bytes of packet).
const MAX_COPY: usize = 36 * 1024;

/// What a client's first bytes say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    /// Its version line (`SSH-2.0-OpenSSH_9.2p1 …`), without the line end.
    pub version: String,
    /// The MD5 of `algorithms`, in hex.
    pub hassh: String,
    /// `kex;ciphers;macs;compression` as the client listed them.
    pub algorithms: String,
}

/// Reads a client's version line and first KEXINIT from `data` (what it sent first): `None`
/// while there is not enough yet, `Some(Err)` when it is not an SSH client's start.
pub fn parse(data: &[u8]) -> Option<Result<Hello, &'static str>> {
    // the version line: lines before it are allowed (RFC 4253 4.2), each ending in LF
    let mut at = 0;
    let version = loop {
        let nl = data[at..].iter().position(|&b| b == b'\n')?;
        let line = &data[at..at + nl];
        at += nl + 1;
        if line.starts_with(b"SSH-") {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            break String::from_utf8_lossy(line).into_owned();
        }
        if at > 8192 {
            return Some(Err("no version line"));
        }
    };
    let rest = &data[at..];
    if rest.len() < 6 {
        return None;
    }
    let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
    if !(12..=35_000).contains(&len) {
        return Some(Err("first packet length out of range"));
    }
    if rest.len() < 4 + len {
        return None;
    }
    let pad = rest[4] as usize;
    let Some(payload) = rest.get(5..4 + len - pad.min(len)) else {
        return Some(Err("padding longer than the packet"));
    };
    if payload.first() != Some(&20) {
        return Some(Err("first packet is not a KEXINIT"));
    }
    // message id, cookie, then ten name-lists
    let mut p = payload.get(17..).unwrap_or_default();
    let mut lists: Vec<&[u8]> = Vec::with_capacity(10);
    for _ in 0..10 {
        let Some(n) = p.get(..4) else {
            return Some(Err("KEXINIT cut short"));
        };
        let n = u32::from_be_bytes([n[0], n[1], n[2], n[3]]) as usize;
        let Some(l) = p.get(4..4 + n) else {
            return Some(Err("KEXINIT name-list cut short"));
        };
        lists.push(l);
        p = &p[4 + n..];
    }
    // kex, host key, ciphers c→s, s→c, macs c→s, s→c, compression c→s, …
    let pick = [0, 2, 4, 6];
    let algorithms = pick
        .iter()
        .map(|&i| String::from_utf8_lossy(lists[i]).into_owned())
        .collect::<Vec<_>>()
        .join(";");
    let hassh = format!("{:x}", md5::compute(algorithms.as_bytes()));
    Some(Ok(Hello {
        version,
        hassh,
        algorithms,
    }))
}

/// Where a [`Tap`] leaves the client's [`Hello`] (or why there is none) once it is made, for
/// the connection to take (so its algorithm lists are not held for the session's life).
pub type HelloCell = Arc<Mutex<Option<Result<Hello, &'static str>>>>;

/// A stream that copies what is read from it until the client's [`Hello`] is made.
pub struct Tap<S> {
    inner: S,
    copy: Vec<u8>,
    done: bool,
    hello: HelloCell,
}

impl<S> Tap<S> {
    pub fn new(inner: S) -> (Tap<S>, HelloCell) {
        let hello = Arc::new(Mutex::new(None));
        (
            Tap {
                inner,
                copy: Vec::new(),
                done: false,
                hello: hello.clone(),
            },
            hello,
        )
    }

    fn took(&mut self, bytes: &[u8]) {
        if self.done || bytes.is_empty() {
            return;
        }
        let room = MAX_COPY.saturating_sub(self.copy.len());
        self.copy.extend_from_slice(&bytes[..bytes.len().min(room)]);
        let result = match parse(&self.copy) {
            Some(r) => r,
            None if self.copy.len() >= MAX_COPY => Err("no KEXINIT in the first bytes"),
            None => return,
        };
        *self.hello.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
        self.done = true;
        self.copy = Vec::new();
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tap<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        // once the fingerprint is made, reads pass through untouched
        if let (Poll::Ready(Ok(())), false) = (&r, self.done) {
            self.took(&buf.filled()[before..]);
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tap<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client's start: version line and one KEXINIT packet with these lists.
    fn hello_bytes(lists: [&str; 10]) -> Vec<u8> {
        let mut payload = vec![20u8];
        payload.extend_from_slice(&[7u8; 16]);
        for l in lists {
            payload.extend_from_slice(&(l.len() as u32).to_be_bytes());
            payload.extend_from_slice(l.as_bytes());
        }
        payload.extend_from_slice(&[0, 0, 0, 0, 0]);
        let pad = 8 - (payload.len() + 5) % 8 + 4;
        let len = payload.len() + pad + 1;
        let mut out = b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n".to_vec();
        out.extend_from_slice(&(len as u32).to_be_bytes());
        out.push(pad as u8);
        out.extend_from_slice(&payload);
        out.extend(std::iter::repeat_n(0u8, pad));
        out
    }

    const LISTS: [&str; 10] = [
        "curve25519-sha256,diffie-hellman-group14-sha1",
        "ssh-ed25519,rsa-sha2-512",
        "aes128-ctr,aes128-cbc",
        "aes128-ctr",
        "hmac-sha1,hmac-sha2-256",
        "hmac-sha1",
        "none,zlib@openssh.com",
        "none",
        "",
        "",
    ];

    #[test]
    fn hassh_is_the_md5_of_the_client_to_server_lists() {
        let h = parse(&hello_bytes(LISTS)).unwrap().unwrap();
        assert_eq!(h.version, "SSH-2.0-OpenSSH_9.2p1 Debian-2");
        let algorithms = "curve25519-sha256,diffie-hellman-group14-sha1;aes128-ctr,aes128-cbc;hmac-sha1,hmac-sha2-256;none,zlib@openssh.com";
        assert_eq!(h.algorithms, algorithms);
        assert_eq!(h.hassh, format!("{:x}", md5::compute(algorithms)));
    }

    #[test]
    fn partial_input_waits_and_garbage_is_an_error() {
        let full = hello_bytes(LISTS);
        for cut in [0, 10, 40, full.len() - 1] {
            assert_eq!(parse(&full[..cut]), None, "cut at {cut}");
        }
        assert!(matches!(
            parse(b"SSH-2.0-x\r\n\xff\xff\xff\xff\x00\x00"),
            Some(Err(_))
        ));
        let mut not_kexinit = full.clone();
        let at = full.iter().position(|&b| b == b'\n').unwrap() + 6;
        not_kexinit[at] = 21;
        assert!(matches!(parse(&not_kexinit), Some(Err(_))));
        // lying list lengths never read past the packet
        let mut lying = full.clone();
        lying[at + 17..at + 21].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(parse(&lying), Some(Err(_))));
    }

    #[tokio::test]
    async fn the_tap_makes_the_fingerprint_from_what_is_read_in_pieces() {
        use tokio::io::AsyncReadExt;
        let bytes = hello_bytes(LISTS);
        let (client, mut server) = tokio::io::duplex(64);
        let (mut tap, hello) = Tap::new(client);
        let send = bytes.clone();
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            for chunk in send.chunks(7) {
                server.write_all(chunk).await.unwrap();
            }
            server
        });
        let mut got = vec![0u8; bytes.len()];
        tap.read_exact(&mut got).await.unwrap();
        let _server = writer.await.unwrap();
        assert_eq!(got, bytes, "the tap passes everything through");
        let h = hello.lock().unwrap().take().unwrap().unwrap();
        assert_eq!(h.version, "SSH-2.0-OpenSSH_9.2p1 Debian-2");
        assert!(
            tap.copy.is_empty() && tap.done,
            "the copy is dropped once made"
        );
    }
}
