//! Dropbear's SSH server (routers, embedded hosts): its failures, invalid users, successes and
//! the end of a connection that ran out of tries, read as sshd's are, so the same connection
//! memory counts each attempt once.
//!
//! Forms (from Dropbear's own messages): `Bad password attempt for 'U' from ADDR:PORT`,
//! `Login attempt for nonexistent user ['U' ]from ADDR:PORT`, `Password auth succeeded for 'U'
//! from ADDR:PORT`, `Pubkey auth succeeded for 'U' with … from ADDR:PORT`, `Exit before auth
//! [from <ADDR:PORT>]: (user 'U', N fails): Max auth tries reached - user 'U'[ from ADDR:PORT]`.
//! Some builds repeat the pid and time inside the message (`[825] Jul 10 23:53:52 …`).

use crate::sshd::Msg;
use crate::Src;
use tripline_event::{AuthKind, AuthMethod, Kind};

/// Classify one Dropbear message.
pub(crate) fn classify(m: &str) -> Option<Msg<'_>> {
    let m = strip_own_prefix(m.trim_start());
    let lower_first = |p: &str| {
        let mut c = p.chars();
        c.next()
            .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
    };
    let starts = |p: &str| m.starts_with(p) || lower_first(p).is_some_and(|l| m.starts_with(&l));
    if starts("Bad password attempt for ") || starts("Bad PAM password attempt for ") {
        let (user, src) = user_then_src(m)?;
        return Some(Msg::Fail {
            kind: Kind::Auth(AuthKind::Failure {
                method: AuthMethod::Password,
                invalid_user: false,
            }),
            user,
            src,
            count: 1,
        });
    }
    if starts("Login attempt for nonexistent user") {
        let (user, src) = user_then_src(m)?;
        return Some(Msg::Fail {
            kind: Kind::Auth(AuthKind::InvalidUser),
            user,
            src,
            count: 1,
        });
    }
    for (p, method) in [
        ("Password auth succeeded for ", AuthMethod::Password),
        ("Pubkey auth succeeded for ", AuthMethod::Publickey),
    ] {
        if m.starts_with(p) {
            let (user, src) = user_then_src(m)?;
            return Some(Msg::Success {
                method,
                user: user?,
                src,
            });
        }
    }
    if m.starts_with("Exit before auth") && m.contains("Max auth tries reached") {
        // the end of a connection whose tries are counted line by line: a close that ends them
        let src = m
            .split_once(" from <")
            .and_then(|(_, r)| r.split_once('>'))
            .and_then(|(a, _)| addr_port(a))
            .or_else(|| {
                m.rsplit_once(" from ")
                    .and_then(|(_, a)| addr_port(a.trim()))
            })?;
        let user = quoted(m).filter(|u| *u != "is invalid");
        return Some(Msg::PreauthClose { src, user });
    }
    None
}

/// `[825] Jul 10 23:53:52 ` that some builds put before the message.
fn strip_own_prefix(m: &str) -> &str {
    let Some(r) = m.strip_prefix('[') else {
        return m;
    };
    let Some((pid, r)) = r.split_once("] ") else {
        return m;
    };
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return m;
    }
    // `Mon dd hh:mm:ss `
    match r.get(15..).filter(|_| r.as_bytes().get(15) == Some(&b' ')) {
        Some(rest) => &rest[1..],
        None => m,
    }
}

/// The first `'quoted'` name.
fn quoted(m: &str) -> Option<&str> {
    let (_, r) = m.split_once('\'')?;
    let (u, _) = r.split_once('\'')?;
    (!u.is_empty()).then_some(u)
}

/// The quoted user (if any) and the `ADDR:PORT` after the last ` from `.
fn user_then_src(m: &str) -> Option<(Option<&str>, Src<'_>)> {
    let (head, a) = m.rsplit_once(" from ")?;
    Some((quoted(head), addr_port(a.trim())?))
}

/// `198.51.100.87:5543`, `::ffff:198.51.100.215:60495`, `[2001:db8::1]:22`: the address.
fn addr_port(a: &str) -> Option<Src<'_>> {
    let (addr, port) = a.rsplit_once(':')?;
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    tripline_event::net::parse_ip(addr).map(Src::Ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropbear_forms() {
        let ip = |s: &str| Src::Ip(s.parse().unwrap());
        match classify("Bad password attempt for 'root' from 198.51.100.87:5543").unwrap() {
            Msg::Fail { user, src, .. } => {
                assert_eq!((user, src), (Some("root"), ip("198.51.100.87")))
            }
            m => panic!("{m:?}"),
        }
        match classify("login attempt for nonexistent user from ::ffff:198.51.100.215:60495")
            .unwrap()
        {
            Msg::Fail {
                kind, user, src, ..
            } => {
                assert_eq!(kind, Kind::Auth(AuthKind::InvalidUser));
                assert_eq!((user, src), (None, ip("198.51.100.215")));
            }
            m => panic!("{m:?}"),
        }
        match classify("[825] Jul 10 23:53:52 Bad password attempt for 'root' from 1.2.3.4:52289")
            .unwrap()
        {
            Msg::Fail { src, .. } => assert_eq!(src, ip("1.2.3.4")),
            m => panic!("{m:?}"),
        }
        match classify("Exit before auth from <192.0.2.3:52289>: (user 'root', 10 fails): Max auth tries reached - user 'root'").unwrap() {
            Msg::PreauthClose { src, user } => {
                assert_eq!((src, user), (ip("192.0.2.3"), Some("root")))
            }
            m => panic!("{m:?}"),
        }
        match classify("Password auth succeeded for 'admin' from 192.0.2.13:5000").unwrap() {
            Msg::Success { user, src, .. } => {
                assert_eq!((user, src), ("admin", ip("192.0.2.13")))
            }
            m => panic!("{m:?}"),
        }
        for junk in [
            "Bad password attempt for 'root' from nowhere",
            "Bad password attempt for 'root' from 1.2.3.4:x",
            "Child connection from 1.2.3.4:5",
            "[12] x",
        ] {
            assert!(
                !matches!(classify(junk), Some(Msg::Fail { .. } | Msg::Success { .. })),
                "{junk}"
            );
        }
    }
}
