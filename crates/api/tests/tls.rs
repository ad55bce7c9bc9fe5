//! The API over TLS: a certificate made by `openssl` (installed by `./scripts/check` when
//! missing), a rustls client that trusts only it, a plain-HTTP client that gets nothing, and
//! files that are not what they claim, named in the error.

use std::path::Path;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tripline_api::{app, serve_with, tls, ApiState, Limits};

/// A self-signed certificate for 127.0.0.1 and its key, in `dir`.
fn certificate(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=tripline test"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl (./scripts/check installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_answers_a_client_that_trusts_the_certificate_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(dir.path());
    let db = dir.path().join("t.db");
    tripline_store::Store::open(&db).unwrap();
    let state =
        Arc::new(ApiState::open(&db, "0123456789abcdef0123456789abcdef".into(), 1).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = tls::server_config(&cert, &key).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_with(
        listener,
        app(state),
        Limits::default(),
        Some(config),
        async {
            let _ = stopped.await;
        },
    ));

    // plain HTTP to the TLS port: no HTTP answer, and the server keeps serving
    let mut plain = tokio::net::TcpStream::connect(addr).await.unwrap();
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut got = vec![];
    let _ = plain.read_to_end(&mut got).await;
    assert!(!String::from_utf8_lossy(&got).contains("200 OK"));

    let connector = tokio_rustls::TlsConnector::from(tls::client_config(&cert).unwrap());
    for _ in 0..2 {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let mut s = connector.connect(name, tcp).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).await.unwrap();
        assert!(resp.starts_with("HTTP/1.1 200 OK"), "{resp}");
        assert!(resp.ends_with("ok\n"), "{resp}");
    }

    // a client that trusts another certificate refuses this server
    let other = tempfile::tempdir().unwrap();
    let (other_cert, _) = certificate(other.path());
    let stranger = tokio_rustls::TlsConnector::from(tls::client_config(&other_cert).unwrap());
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
    assert!(stranger.connect(name, tcp).await.is_err());

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[test]
fn files_that_are_not_a_certificate_or_key_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(dir.path());
    let missing = dir.path().join("missing.pem");
    let e = tls::server_config(&missing, &key).unwrap_err();
    assert!(e.contains("missing.pem"), "{e}");
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not pem at all\n").unwrap();
    let e = tls::server_config(&junk, &key).unwrap_err();
    assert!(
        e.contains("junk.pem") && e.contains("no PEM certificate"),
        "{e}"
    );
    // the certificate where the key should be
    let e = tls::server_config(&cert, &cert).unwrap_err();
    assert!(e.contains("cert.pem") && e.contains("private key"), "{e}");
    // a key that does not belong to the certificate
    let other = tempfile::tempdir().unwrap();
    let (_, other_key) = certificate(other.path());
    assert!(tls::server_config(&cert, &other_key).is_err());
    assert!(tls::server_config(&cert, &key).is_ok());
}
