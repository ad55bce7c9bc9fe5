//! TLS for the API (rustls with ring), on when `api.tls_cert` and `api.tls_key` name a PEM
//! certificate chain and its private key. Loaded once at start; a file that cannot be read or
//! holds no certificate or key is an error that names the file.

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::path::Path;
use std::sync::Arc;
/// The rustls this module builds on (for its configuration types).
pub use tokio_rustls::rustls;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificates in a PEM file, leaf first.
fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no PEM certificate in it", path.display()));
    }
    Ok(certs)
}

/// A server configuration from a PEM certificate chain and its PEM private key (PKCS#8,
/// PKCS#1 or SEC1), speaking HTTP/1.1.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, String> {
    let certs = certificates(cert)?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("{}: no usable PEM private key ({e})", key.display()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A client configuration that trusts exactly the certificates in `cert` (the daemon's own,
/// for `tripline top` and tests).
pub fn client_config(cert: &Path) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    for c in certificates(cert)? {
        roots
            .add(c)
            .map_err(|e| format!("{}: {e}", cert.display()))?;
    }
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A blocking TLS stream to `addr` (`host:port`), verified against `config` for `name`.
pub fn connect_blocking(
    config: Arc<rustls::ClientConfig>,
    name: &str,
    tcp: std::net::TcpStream,
) -> Result<rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream>, String> {
    let server = ServerName::try_from(name.to_string()).map_err(|e| format!("{name}: {e}"))?;
    let conn = rustls::ClientConnection::new(config, server).map_err(|e| e.to_string())?;
    Ok(rustls::StreamOwned::new(conn, tcp))
}
