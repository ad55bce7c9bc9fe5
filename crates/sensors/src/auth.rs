//! Non-sshd authentication messages: sudo, su, account management (useradd, usermod, groupadd,
//! userdel, passwd, chpasswd, gpasswd) and systemd-logind sessions.
//!
//! Each parser takes the message after the syslog tag and returns the kind and the user it is
//! about. Lines that only restate what another line says (PAM's copy of a sudo failure, the
//! shadow-group copy of a group change) are deliberately not events, so nothing is counted twice.

use crate::split_once_str;
use tripline_event::Kind;
use tripline_event::{AccountKind, PrivilegeKind, SessionKind};

/// A parsed non-sshd message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AuthMsg<'a> {
    pub kind: Kind,
    pub user: Option<&'a str>,
    pub count: u32,
    pub hostile: bool,
}

fn msg(kind: Kind, user: &str) -> AuthMsg<'_> {
    AuthMsg {
        kind,
        user: Some(user),
        count: 1,
        hostile: false,
    }
}

/// `alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/x ; USER=root ; COMMAND=/bin/ls`
pub(crate) fn sudo(m: &str) -> Option<AuthMsg<'_>> {
    let m = m.trim_start();
    let (user, rest) = split_once_str(m, " : ")?;
    let user = user.trim();
    if user.is_empty() || user.contains(' ') {
        return None;
    }
    let mut status = None;
    let mut target = "root";
    let mut command = "";
    let mut fields = Some(rest);
    let mut i = 0;
    while let Some(r) = fields {
        let field = match split_once_str(r, " ; ") {
            Some((field, next)) => {
                fields = Some(next);
                field
            }
            None => {
                fields = None;
                r
            }
        };
        if let Some(v) = field.strip_prefix("USER=") {
            target = v.trim();
        } else if let Some(v) = field.strip_prefix("COMMAND=") {
            command = v.trim_end();
        } else if i == 0 && !field.contains('=') {
            status = Some(field.trim());
        }
        i += 1;
    }
    let out = match status {
        None => msg(
            Kind::Privilege(PrivilegeKind::SudoCommand {
                target: target.into(),
                command: command.into(),
            }),
            user,
        ),
        Some(s) if s.contains("incorrect password attempt") => {
            let n = s
                .split(' ')
                .next()
                .and_then(|n| n.parse::<u32>().ok())
                .unwrap_or(1);
            AuthMsg {
                kind: Kind::Privilege(PrivilegeKind::SudoFailure),
                user: Some(user),
                count: n.clamp(1, 1000),
                hostile: true,
            }
        }
        Some(s) if s.contains("NOT in sudoers") => AuthMsg {
            hostile: true,
            ..msg(Kind::Privilege(PrivilegeKind::SudoNotInSudoers), user)
        },
        Some(s) if s.contains("command not allowed") || s.contains("not allowed to execute") => {
            AuthMsg {
                hostile: true,
                ..msg(Kind::Privilege(PrivilegeKind::SudoNotAllowed), user)
            }
        }
        Some(_) => return None,
    };
    Some(out)
}

/// PAM's copy of a sudo failure, `pam_unix(sudo:auth): authentication failure; logname=bob
/// uid=1000 euid=0 tty=/dev/pts/1 ruser=bob rhost=  user=bob` (`sudo-i` too): one wrong
/// password of the user who ran sudo. sudo's own summary (`N incorrect password attempts`)
/// counts the same tries: the parser counts each try once ([`crate::LineParser`]).
pub(crate) fn sudo_pam_failure(m: &str) -> Option<AuthMsg<'_>> {
    let r = m.trim_start().strip_prefix("pam_unix(sudo")?;
    let (svc, rest) = split_once_str(r, "): ")?;
    if !matches!(svc, ":auth" | "-i:auth") {
        return None;
    }
    let field = pam_failure_fields(rest)?;
    let user = field("ruser=")
        .or_else(|| field("logname="))
        .or_else(|| field("user="))?;
    Some(AuthMsg {
        kind: Kind::Privilege(PrivilegeKind::SudoFailure),
        user: Some(user),
        count: 1,
        hostile: true,
    })
}

/// A PAM lockout, whatever the program: `pam_faillock(sshd:auth): Consecutive login failures
/// for user root account temporarily locked`, `pam_tally2(sshd:auth): user root (0) tally 4,
/// deny 3` (and pam_tally's). `None` for other messages, quickly.
pub(crate) fn pam_lockout(m: &str) -> Option<AuthMsg<'_>> {
    let r = m.strip_prefix("pam_")?;
    let (module, r) = split_once_str(r, "(")?;
    let (svc, rest) = split_once_str(r, "): ")?;
    let service = svc.split(':').next().filter(|s| !s.is_empty())?;
    let user = match module {
        "faillock" => rest
            .strip_prefix("Consecutive login failures for user ")?
            .split(' ')
            .next()?,
        "tally2" | "tally" => {
            // `user root (0) tally 4, deny 3`: locked once the tally passes deny
            let r = rest.strip_prefix("user ")?;
            let (user, r) = split_once_str(r, " (")?;
            let (_, r) = split_once_str(r, ") tally ")?;
            let (tally, deny) = split_once_str(r, ", deny ")?;
            let tally: u64 = tally.trim().parse().ok()?;
            let deny: u64 = deny.trim().parse().ok()?;
            if tally < deny {
                return None;
            }
            user
        }
        _ => return None,
    };
    (!user.is_empty()).then(|| AuthMsg {
        kind: Kind::Account(AccountKind::Locked {
            service: service.into(),
        }),
        user: Some(user),
        count: 1,
        hostile: true,
    })
}

/// su (util-linux and shadow): `FAILED SU (to root) alice on pts/0`, `(to root) alice on pts/0`,
/// `Successful su for root by alice`, `FAILED su for root by alice`.
pub(crate) fn su(m: &str) -> Option<AuthMsg<'_>> {
    let m = m.trim_start();
    let (failed, r) = match m.strip_prefix("FAILED SU ") {
        Some(r) => (true, r),
        None => (false, m),
    };
    if let Some(r) = r.strip_prefix("(to ") {
        let (target, r) = split_once_str(r, ") ")?;
        let user = r.split(' ').next().filter(|u| !u.is_empty())?;
        return Some(su_msg(failed, target, user));
    }
    for (prefix, failed) in [("Successful su for ", false), ("FAILED su for ", true)] {
        if let Some(r) = m.strip_prefix(prefix) {
            let (target, user) = split_once_str(r, " by ")?;
            return Some(su_msg(failed, target, user.trim_end()));
        }
    }
    // the old su's own form: `+ pts/1 bob:root` (success), `- pts/1 bob:root` (failure)
    if let Some((sign, r)) = m
        .split_at_checked(2)
        .filter(|(p, _)| matches!(*p, "+ " | "- "))
    {
        let (_tty, who) = split_once_str(r, " ")?;
        let (user, target) = who.trim_end().split_once(':')?;
        if user.is_empty() || target.is_empty() {
            return None;
        }
        return Some(su_msg(sign == "- ", target, user));
    }
    // PAM's: `pam_unix(su:auth): authentication failure; logname=bob … ruser=bob rhost= user=root`
    if let Some(r) = m.strip_prefix("pam_unix(su") {
        let (svc, rest) = split_once_str(r, "): ")?;
        if matches!(svc, ":auth" | "-l:auth") {
            return su_pam_failure(rest);
        }
    }
    None
}

/// The `key=value` fields of PAM's `authentication failure; logname=… ruser=… user=…`: a
/// lookup of a field by its `key=` (none when empty); `None` for another message.
fn pam_failure_fields<'a>(rest: &'a str) -> Option<impl Fn(&str) -> Option<&'a str>> {
    let fields = rest.strip_prefix("authentication failure;")?;
    Some(move |k: &str| {
        fields
            .split(' ')
            .find_map(|f| f.strip_prefix(k))
            .filter(|v| !v.is_empty())
    })
}

/// The body of PAM's su failure (`authentication failure; logname=bob … ruser=bob … user=root`):
/// the user who ran su and the one they tried to become.
pub(crate) fn su_pam_failure(rest: &str) -> Option<AuthMsg<'_>> {
    let field = pam_failure_fields(rest)?;
    let target = field("user=")?;
    let user = field("ruser=").or_else(|| field("logname="))?;
    Some(su_msg(true, target, user))
}

fn su_msg<'a>(failed: bool, target: &str, user: &'a str) -> AuthMsg<'a> {
    if failed {
        AuthMsg {
            hostile: true,
            ..msg(
                Kind::Privilege(PrivilegeKind::SuFailure {
                    target: target.into(),
                }),
                user,
            )
        }
    } else {
        msg(
            Kind::Privilege(PrivilegeKind::SuSuccess {
                target: target.into(),
            }),
            user,
        )
    }
}

/// `name=eve, UID=…` → `eve`
fn kv<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let i = s.find(key)?;
    let v = &s[i + key.len()..];
    let end = v.find([',', ' ']).unwrap_or(v.len());
    let v = &v[..end];
    (!v.is_empty()).then_some(v)
}

/// `'eve'` → `eve`
fn quoted(s: &str) -> Option<(&str, &str)> {
    let s = s.strip_prefix('\'')?;
    let end = s.find('\'')?;
    Some((&s[..end], &s[end + 1..]))
}

/// useradd, usermod, groupadd, userdel, passwd, chpasswd, gpasswd.
pub(crate) fn account<'a>(program: &str, m: &'a str) -> Option<AuthMsg<'a>> {
    let m = m.trim_start();
    if let Some(r) = m.strip_prefix("new user: ") {
        return Some(msg(Kind::Account(AccountKind::Created), kv(r, "name=")?));
    }
    if let Some(r) = m.strip_prefix("new group: ") {
        if program == "groupadd" {
            return Some(msg(
                Kind::Account(AccountKind::GroupCreated),
                kv(r, "name=")?,
            ));
        }
        return None; // useradd's per-user group: part of the account creation
    }
    if let Some(r) = m.strip_prefix("add ") {
        // `add 'eve' to group 'sudo'` (the `shadow group` copy is skipped)
        let (user, r) = quoted(r)?;
        let r = r.strip_prefix(" to group ")?;
        let (group, _) = quoted(r)?;
        return Some(msg(
            Kind::Account(AccountKind::GroupMembership {
                group: group.into(),
            }),
            user,
        ));
    }
    if let Some(r) = m.strip_prefix("user ") {
        // gpasswd: `user eve added by root to group sudo`
        let (user, r) = split_once_str(r, " added by ")?;
        let (_, group) = split_once_str(r, " to group ")?;
        return Some(msg(
            Kind::Account(AccountKind::GroupMembership {
                group: group.trim().into(),
            }),
            user,
        ));
    }
    if let Some(r) = m.strip_prefix("delete user ") {
        return Some(msg(Kind::Account(AccountKind::Deleted), quoted(r)?.0));
    }
    if let Some(r) = m.strip_prefix("password for ") {
        // shadow's passwd: `password for 'eve' changed by 'alice'`
        let (user, r) = quoted(r)?;
        let by = r
            .strip_prefix(" changed by ")
            .and_then(quoted)
            .map(|(b, _)| b);
        return Some(msg(
            Kind::Account(AccountKind::PasswordChange {
                by: by.map(Into::into),
            }),
            user,
        ));
    }
    if m.starts_with("pam_unix(") {
        let (_, rest) = split_once_str(m, "): ")?;
        let user = rest.strip_prefix("password changed for ")?.trim_end();
        let by = (program == "chpasswd").then(|| "chpasswd".into());
        return Some(msg(Kind::Account(AccountKind::PasswordChange { by }), user));
    }
    None
}

/// systemd-logind: `New session 12 of user alice.` / `Removed session 12.`
pub(crate) fn logind(m: &str) -> Option<AuthMsg<'_>> {
    if let Some(r) = m.strip_prefix("New session ") {
        let (_, user) = split_once_str(r, " of user ")?;
        return Some(msg(
            Kind::Session(SessionKind::Open),
            user.trim_end().trim_end_matches('.'),
        ));
    }
    if m.starts_with("Removed session ") {
        return Some(AuthMsg {
            kind: Kind::Session(SessionKind::Close),
            user: None,
            count: 1,
            hostile: false,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sudo_lines() {
        let m = sudo(
            "    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update",
        )
        .unwrap();
        assert_eq!(
            m.kind,
            Kind::Privilege(PrivilegeKind::SudoCommand {
                target: "root".into(),
                command: "/usr/bin/apt update".into()
            })
        );
        assert_eq!(m.user, Some("alice"));
        assert!(!m.hostile);
        let m = sudo("alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls").unwrap();
        assert_eq!(
            (m.kind, m.count, m.hostile),
            (Kind::Privilege(PrivilegeKind::SudoFailure), 3, true)
        );
        let m = sudo("bob : user NOT in sudoers ; TTY=pts/1 ; PWD=/ ; USER=root ; COMMAND=/bin/sh")
            .unwrap();
        assert_eq!(m.kind, Kind::Privilege(PrivilegeKind::SudoNotInSudoers));
        let m = sudo("bob : command not allowed ; TTY=pts/1 ; PWD=/ ; USER=root ; COMMAND=/bin/sh")
            .unwrap();
        assert_eq!(m.kind, Kind::Privilege(PrivilegeKind::SudoNotAllowed));
        assert!(sudo("pam_unix(sudo:session): session opened for user root").is_none());
    }

    #[test]
    fn su_lines() {
        let m = su("FAILED SU (to root) alice on pts/0").unwrap();
        assert_eq!(
            (m.kind, m.user),
            (
                Kind::Privilege(PrivilegeKind::SuFailure {
                    target: "root".into()
                }),
                Some("alice")
            )
        );
        let m = su("(to root) alice on pts/0").unwrap();
        assert_eq!(
            m.kind,
            Kind::Privilege(PrivilegeKind::SuSuccess {
                target: "root".into()
            })
        );
        let m = su("Successful su for root by alice").unwrap();
        assert_eq!(
            (m.kind, m.user),
            (
                Kind::Privilege(PrivilegeKind::SuSuccess {
                    target: "root".into()
                }),
                Some("alice")
            )
        );
    }

    #[test]
    fn account_lines() {
        let m = account("useradd", "new user: name=eve, UID=1001, GID=1001, home=/home/eve, shell=/bin/bash, from=/dev/pts/0").unwrap();
        assert_eq!(
            (m.kind, m.user),
            (Kind::Account(AccountKind::Created), Some("eve"))
        );
        assert!(account("useradd", "new group: name=eve, GID=1001").is_none());
        let m = account("usermod", "add 'eve' to group 'sudo'").unwrap();
        assert_eq!(
            m.kind,
            Kind::Account(AccountKind::GroupMembership {
                group: "sudo".into()
            })
        );
        assert!(account("usermod", "add 'eve' to shadow group 'sudo'").is_none());
        let m = account("passwd", "password for 'eve' changed by 'alice'").unwrap();
        assert_eq!(
            (m.kind, m.user),
            (
                Kind::Account(AccountKind::PasswordChange {
                    by: Some("alice".into())
                }),
                Some("eve")
            )
        );
        let m = account(
            "chpasswd",
            "pam_unix(chpasswd:chauthtok): password changed for eve",
        )
        .unwrap();
        assert_eq!(
            m.kind,
            Kind::Account(AccountKind::PasswordChange {
                by: Some("chpasswd".into())
            })
        );
        let m = account("gpasswd", "user eve added by root to group wheel").unwrap();
        assert_eq!(
            m.kind,
            Kind::Account(AccountKind::GroupMembership {
                group: "wheel".into()
            })
        );
        let m = account("userdel", "delete user 'eve'").unwrap();
        assert_eq!(m.kind, Kind::Account(AccountKind::Deleted));
    }

    #[test]
    fn logind_lines() {
        assert_eq!(
            logind("New session 12 of user alice.").unwrap().user,
            Some("alice")
        );
        assert_eq!(
            logind("Removed session 12.").unwrap().kind,
            Kind::Session(SessionKind::Close)
        );
    }

    #[test]
    fn pam_lockouts_name_the_locked_user_and_the_service() {
        let locked = |m: &str| {
            pam_lockout(m).map(|a| match a.kind {
                Kind::Account(AccountKind::Locked { service }) => {
                    (a.user.unwrap().to_string(), service.to_string())
                }
                k => panic!("{k:?}"),
            })
        };
        let pair = |u: &str, s: &str| Some((u.to_string(), s.to_string()));
        assert_eq!(
            locked("pam_faillock(sshd:auth): Consecutive login failures for user root account temporarily locked"),
            pair("root", "sshd")
        );
        assert_eq!(
            locked("pam_faillock(sudo:auth): Consecutive login failures for user bob account temporarily locked"),
            pair("bob", "sudo")
        );
        assert_eq!(
            locked("pam_tally2(sshd:auth): user root (0) tally 4, deny 3"),
            pair("root", "sshd")
        );
        assert_eq!(
            locked("pam_tally(login:auth): user eve (1003) tally 5, deny 5"),
            pair("eve", "login")
        );
        // below the limit, and PAM's other messages, are no lockout
        assert_eq!(
            locked("pam_tally2(sshd:auth): user root (0) tally 2, deny 3"),
            None
        );
        assert_eq!(locked("pam_faillock(sshd:auth): User unknown"), None);
        assert_eq!(
            locked("pam_unix(sshd:auth): authentication failure; user=root"),
            None
        );
        assert_eq!(
            locked("pam_tally2(sshd:auth): user  (0) tally x, deny 3"),
            None
        );
    }

    #[test]
    fn sudo_pam_failures_are_the_invoking_users_wrong_passwords() {
        let m = sudo_pam_failure("pam_unix(sudo:auth): authentication failure; logname=bob uid=1001 euid=0 tty=/dev/pts/1 ruser=bob rhost=  user=bob").unwrap();
        assert_eq!((m.user, m.count, m.hostile), (Some("bob"), 1, true));
        assert_eq!(m.kind, Kind::Privilege(PrivilegeKind::SudoFailure));
        // sudo -i's service; no ruser: the login name
        let m = sudo_pam_failure("pam_unix(sudo-i:auth): authentication failure; logname=eve uid=1003 euid=0 tty=/dev/pts/0 ruser= rhost=  user=eve").unwrap();
        assert_eq!(m.user, Some("eve"));
        assert!(sudo_pam_failure("pam_unix(sudo:auth): conversation failed").is_none());
        assert!(sudo_pam_failure("pam_unix(sudo:session): session opened for user root").is_none());
    }
}
