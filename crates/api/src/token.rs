//! The API token: 32 random bytes as hex, created at first start in the data directory, readable
//! and writable by its owner only (0600), shown by `tripline token`.

use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Where the token lives in `data_dir`.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("api.token")
}

/// The token stored in `data_dir`, created (0600) when missing. A token file that others can
/// read is made private again, with a warning; an empty or malformed one is an error that names
/// the file (never silently replaced).
pub fn load_or_create(data_dir: &Path) -> std::io::Result<String> {
    let p = path(data_dir);
    match std::fs::read_to_string(&p) {
        Ok(text) => {
            let t = text.trim();
            if t.len() < 32 || !t.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "{}: not a tripline token (remove it to create a new one)",
                        p.display()
                    ),
                ));
            }
            let mode = std::fs::metadata(&p)?.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(
                    path = %p.display(),
                    mode = format_args!("{:o}", mode & 0o777),
                    "the token was readable by others; made private"
                );
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))?;
            }
            Ok(t.to_string())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir)?;
            let token = random_hex(32)?;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&p)?;
            f.write_all(token.as_bytes())?;
            f.write_all(b"\n")?;
            Ok(token)
        }
        Err(e) => Err(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", p.display()),
        )),
    }
}

/// `n` bytes from the kernel's random source, as lowercase hex.
pub(crate) fn random_hex(n: usize) -> std::io::Result<String> {
    let mut bytes = vec![0u8; n];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create(dir.path()).unwrap();
        assert_eq!(a.len(), 64);
        let mode = std::fs::metadata(path(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(load_or_create(dir.path()).unwrap(), a);
        let other = tempfile::tempdir().unwrap();
        assert_ne!(load_or_create(other.path()).unwrap(), a);
    }

    #[test]
    fn loose_permissions_are_fixed_and_garbage_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let t = load_or_create(dir.path()).unwrap();
        let p = path(dir.path());
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(load_or_create(dir.path()).unwrap(), t);
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        std::fs::write(&p, "short\n").unwrap();
        let e = load_or_create(dir.path()).unwrap_err();
        assert!(e.to_string().contains("api.token"), "{e}");
    }
}
