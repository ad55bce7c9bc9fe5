//! What happened: an event's [`Kind`], one variant per family of sensors, each family an enum
//! of its own with the payloads its events carry.
//!
//! A family is a closed set of what one kind of sensor sees (authentication, privilege use,
//! accounts, sessions, honeypots); the next sensors add theirs (prompts, bait files, biometrics,
//! network) as one more enum and one more variant here, and nothing else in this crate changes.
//! Payloads are plain values and may hold floats (a honeypot session's duration; keystroke
//! timings and scores to come): kinds compare with `PartialEq`, never `Eq` or `Hash`.
//!
//! Every kind has a stable dotted name ([`Kind::name`]) that appears in JSON output, the
//! store and the JSON-lines source's mapping; [`Kind::from_name`] reads it back.

use crate::{AuthMethod, Text};

/// What happened, by family.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// Logins and connections (sshd, PAM).
    Auth(AuthKind),
    /// Privilege use (sudo, su).
    Privilege(PrivilegeKind),
    /// Accounts and groups changing.
    Account(AccountKind),
    /// Login sessions opening and closing.
    Session(SessionKind),
    /// What an attacker does on a honeypot.
    Honeypot(HoneypotKind),
    /// What a detector called inline by a request path decided about the request.
    Verdict(VerdictKind),
}

/// The families of [`Kind`], for a detector that looks at some families only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Auth,
    Privilege,
    Account,
    Session,
    Honeypot,
    Verdict,
}

impl Family {
    pub const ALL: [Family; 6] = [
        Family::Auth,
        Family::Privilege,
        Family::Account,
        Family::Session,
        Family::Honeypot,
        Family::Verdict,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Family::Auth => "auth",
            Family::Privilege => "privilege",
            Family::Account => "account",
            Family::Session => "session",
            Family::Honeypot => "honeypot",
            Family::Verdict => "verdict",
        }
    }

    /// The names of this family's kinds.
    pub fn kinds(self) -> &'static [&'static str] {
        match self {
            Family::Auth => &AuthKind::NAMES,
            Family::Privilege => &PrivilegeKind::NAMES,
            Family::Account => &AccountKind::NAMES,
            Family::Session => &SessionKind::NAMES,
            Family::Honeypot => &HoneypotKind::NAMES,
            Family::Verdict => &VerdictKind::NAMES,
        }
    }
}

/// Logins and connections.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthKind {
    /// A failed authentication (password, key, PAM…) from a remote source.
    Failure {
        method: AuthMethod,
        invalid_user: bool,
    },
    /// A login attempt for a user that does not exist (`Invalid user x from …`).
    InvalidUser,
    /// The server refused the user by policy (AllowUsers, DenyGroups, root login refused…).
    Refused,
    /// sshd gave up on a connection after too many failed attempts.
    MaxAttempts,
    /// A successful login.
    Success { method: AuthMethod },
    /// A pre-authentication failure that is not a login attempt: no identification string,
    /// bad protocol banner, kex/cipher negotiation failure, timeout. Scanners make these.
    PreauthNoise,
    /// A connection that closed during the authentication phase.
    PreauthClose,
    /// A new TCP connection (helper line: ties a process id to an address).
    ConnectionOpen,
    /// A connection that closed after authentication or without further information.
    ConnectionClose,
}

impl AuthKind {
    pub const NAMES: [&'static str; 9] = [
        "auth.failure",
        "auth.invalid_user",
        "auth.refused",
        "auth.max_attempts",
        "auth.success",
        "ssh.preauth_noise",
        "ssh.preauth_close",
        "ssh.connection_open",
        "ssh.connection_close",
    ];

    pub fn name(&self) -> &'static str {
        let i = match self {
            AuthKind::Failure { .. } => 0,
            AuthKind::InvalidUser => 1,
            AuthKind::Refused => 2,
            AuthKind::MaxAttempts => 3,
            AuthKind::Success { .. } => 4,
            AuthKind::PreauthNoise => 5,
            AuthKind::PreauthClose => 6,
            AuthKind::ConnectionOpen => 7,
            AuthKind::ConnectionClose => 8,
        };
        Self::NAMES[i]
    }

    /// The kind named `name`, its details empty (a method of `other`).
    pub fn from_name(name: &str) -> Option<AuthKind> {
        let other = AuthMethod::Other;
        Some(match name {
            "auth.failure" => AuthKind::Failure {
                method: other,
                invalid_user: false,
            },
            "auth.invalid_user" => AuthKind::InvalidUser,
            "auth.refused" => AuthKind::Refused,
            "auth.max_attempts" => AuthKind::MaxAttempts,
            "auth.success" => AuthKind::Success { method: other },
            "ssh.preauth_noise" => AuthKind::PreauthNoise,
            "ssh.preauth_close" => AuthKind::PreauthClose,
            "ssh.connection_open" => AuthKind::ConnectionOpen,
            "ssh.connection_close" => AuthKind::ConnectionClose,
            _ => return None,
        })
    }
}

/// Privilege use.
#[derive(Debug, Clone, PartialEq)]
pub enum PrivilegeKind {
    /// sudo ran a command.
    SudoCommand { target: Text, command: Box<str> },
    /// sudo rejected a password (the event's `count` carries the number of attempts).
    SudoFailure,
    /// The user is not in sudoers.
    SudoNotInSudoers,
    /// The user may use sudo but not for this command.
    SudoNotAllowed,
    /// su succeeded (target user in `target`).
    SuSuccess { target: Text },
    /// su failed.
    SuFailure { target: Text },
}

impl PrivilegeKind {
    pub const NAMES: [&'static str; 6] = [
        "priv.sudo_command",
        "priv.sudo_failure",
        "priv.sudo_not_in_sudoers",
        "priv.sudo_not_allowed",
        "priv.su_success",
        "priv.su_failure",
    ];

    pub fn name(&self) -> &'static str {
        let i = match self {
            PrivilegeKind::SudoCommand { .. } => 0,
            PrivilegeKind::SudoFailure => 1,
            PrivilegeKind::SudoNotInSudoers => 2,
            PrivilegeKind::SudoNotAllowed => 3,
            PrivilegeKind::SuSuccess { .. } => 4,
            PrivilegeKind::SuFailure { .. } => 5,
        };
        Self::NAMES[i]
    }

    /// The kind named `name`, its details empty (no target, no command).
    pub fn from_name(name: &str) -> Option<PrivilegeKind> {
        let target = Text::default();
        Some(match name {
            "priv.sudo_command" => PrivilegeKind::SudoCommand {
                target,
                command: "".into(),
            },
            "priv.sudo_failure" => PrivilegeKind::SudoFailure,
            "priv.sudo_not_in_sudoers" => PrivilegeKind::SudoNotInSudoers,
            "priv.sudo_not_allowed" => PrivilegeKind::SudoNotAllowed,
            "priv.su_success" => PrivilegeKind::SuSuccess { target },
            "priv.su_failure" => PrivilegeKind::SuFailure { target },
            _ => return None,
        })
    }

    /// The user it makes someone (sudo's and su's target), when there is one.
    pub fn target(&self) -> Option<&str> {
        match self {
            PrivilegeKind::SudoCommand { target, .. }
            | PrivilegeKind::SuSuccess { target }
            | PrivilegeKind::SuFailure { target } => Some(target),
            _ => None,
        }
    }
}

/// Accounts and groups changing.
#[derive(Debug, Clone, PartialEq)]
pub enum AccountKind {
    /// A new user account.
    Created,
    /// A user account was deleted.
    Deleted,
    /// A new group.
    GroupCreated,
    /// A user was added to a group.
    GroupMembership { group: Text },
    /// A password was changed (user in the event's `user`; `by` is who changed it, when the
    /// log says).
    PasswordChange { by: Option<Text> },
    /// PAM locked the account after consecutive failures (pam_faillock, pam_tally2); `service`
    /// is the PAM service that counted them (`sshd`, `sudo`, `su`, `login`…).
    Locked { service: Text },
}

impl AccountKind {
    pub const NAMES: [&'static str; 6] = [
        "account.created",
        "account.deleted",
        "account.group_created",
        "account.group_membership",
        "account.password_change",
        "account.locked",
    ];

    pub fn name(&self) -> &'static str {
        let i = match self {
            AccountKind::Created => 0,
            AccountKind::Deleted => 1,
            AccountKind::GroupCreated => 2,
            AccountKind::GroupMembership { .. } => 3,
            AccountKind::PasswordChange { .. } => 4,
            AccountKind::Locked { .. } => 5,
        };
        Self::NAMES[i]
    }

    /// The kind named `name`, its details empty.
    pub fn from_name(name: &str) -> Option<AccountKind> {
        Some(match name {
            "account.created" => AccountKind::Created,
            "account.deleted" => AccountKind::Deleted,
            "account.group_created" => AccountKind::GroupCreated,
            "account.group_membership" => AccountKind::GroupMembership {
                group: Text::default(),
            },
            "account.password_change" => AccountKind::PasswordChange { by: None },
            "account.locked" => AccountKind::Locked {
                service: Text::default(),
            },
            _ => return None,
        })
    }
}

/// Login sessions.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionKind {
    /// A login session opened (systemd-logind, pam_unix session).
    Open,
    /// A login session closed.
    Close,
}

impl SessionKind {
    pub const NAMES: [&'static str; 2] = ["session.open", "session.close"];

    pub fn name(&self) -> &'static str {
        match self {
            SessionKind::Open => Self::NAMES[0],
            SessionKind::Close => Self::NAMES[1],
        }
    }

    pub fn from_name(name: &str) -> Option<SessionKind> {
        match name {
            "session.open" => Some(SessionKind::Open),
            "session.close" => Some(SessionKind::Close),
            _ => None,
        }
    }
}

/// What an attacker does on a honeypot.
#[derive(Debug, Clone, PartialEq)]
pub enum HoneypotKind {
    Connect,
    Login {
        success: bool,
        password: Box<str>,
    },
    Command {
        input: Box<str>,
    },
    /// A file fetched or uploaded: its URL, and its SHA-256 when the honeypot has the file
    /// (empty: the fetch failed or was not made).
    Download {
        url: Box<str>,
        sha256: Box<str>,
    },
    /// The attacker asked the honeypot to open a connection elsewhere (`direct-tcpip`: the
    /// honeypot used as a proxy), to `dst` (`host:port`).
    Proxy {
        dst: Box<str>,
    },
    /// The session ended, after `duration` seconds when the honeypot says.
    Close {
        duration: Option<f32>,
    },
    /// A request to an HTTP decoy: its method and target (path and query, capped), what it
    /// was taken for (`credential`, `exploit`, `scanner`, `crawler`, `other`) and the exploit's
    /// CVE or family when the request says (`CVE-2021-41773`, `path-traversal`).
    Request {
        method: Box<str>,
        target: Box<str>,
        class: Box<str>,
        detail: Box<str>,
    },
}

impl HoneypotKind {
    pub const NAMES: [&'static str; 8] = [
        "honeypot.connect",
        "honeypot.login_failed",
        "honeypot.login_success",
        "honeypot.command",
        "honeypot.download",
        "honeypot.closed",
        "honeypot.proxy",
        "honeypot.request",
    ];

    pub fn name(&self) -> &'static str {
        let i = match self {
            HoneypotKind::Connect => 0,
            HoneypotKind::Login { success: false, .. } => 1,
            HoneypotKind::Login { success: true, .. } => 2,
            HoneypotKind::Command { .. } => 3,
            HoneypotKind::Download { .. } => 4,
            HoneypotKind::Close { .. } => 5,
            HoneypotKind::Proxy { .. } => 6,
            HoneypotKind::Request { .. } => 7,
        };
        Self::NAMES[i]
    }

    /// The kind named `name`, its details empty.
    pub fn from_name(name: &str) -> Option<HoneypotKind> {
        let login = |success| HoneypotKind::Login {
            success,
            password: "".into(),
        };
        Some(match name {
            "honeypot.connect" => HoneypotKind::Connect,
            "honeypot.login_failed" => login(false),
            "honeypot.login_success" => login(true),
            "honeypot.command" => HoneypotKind::Command { input: "".into() },
            "honeypot.download" => HoneypotKind::Download {
                url: "".into(),
                sha256: "".into(),
            },
            "honeypot.closed" => HoneypotKind::Close { duration: None },
            "honeypot.proxy" => HoneypotKind::Proxy { dst: "".into() },
            "honeypot.request" => HoneypotKind::Request {
                method: "".into(),
                target: "".into(),
                class: "".into(),
                detail: "".into(),
            },
            _ => return None,
        })
    }
}

/// What a detector called inline decided: let the request through, let it through and say so,
/// or stop it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Allow,
    Flag,
    Block,
}

/// A decision made inline by a request path (the LLM gateway scanning a prompt before it
/// forwards it), carried on through the pipeline so it is stored, counted and correlated with
/// everything else about the same entity.
#[derive(Debug, Clone, PartialEq)]
pub struct VerdictKind {
    /// The detector that decided (its name).
    pub judge: Text,
    pub action: Action,
    /// 0–1: how sure it was.
    pub score: f32,
    /// The rules its findings name (catalog ids), the strongest first.
    pub rules: Box<[Text]>,
}

impl VerdictKind {
    pub const NAMES: [&'static str; 3] = ["verdict.allowed", "verdict.flagged", "verdict.blocked"];

    pub fn name(&self) -> &'static str {
        Self::NAMES[match self.action {
            Action::Allow => 0,
            Action::Flag => 1,
            Action::Block => 2,
        }]
    }

    /// The kind named `name`, its judge unnamed and its score 0.
    pub fn from_name(name: &str) -> Option<VerdictKind> {
        let action = match name {
            "verdict.allowed" => Action::Allow,
            "verdict.flagged" => Action::Flag,
            "verdict.blocked" => Action::Block,
            _ => return None,
        };
        Some(VerdictKind {
            judge: Text::default(),
            action,
            score: 0.0,
            rules: Box::new([]),
        })
    }
}

impl Kind {
    /// The stable dotted name of this kind.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Auth(k) => k.name(),
            Kind::Privilege(k) => k.name(),
            Kind::Account(k) => k.name(),
            Kind::Session(k) => k.name(),
            Kind::Honeypot(k) => k.name(),
            Kind::Verdict(k) => k.name(),
        }
    }

    pub fn family(&self) -> Family {
        match self {
            Kind::Auth(_) => Family::Auth,
            Kind::Privilege(_) => Family::Privilege,
            Kind::Account(_) => Family::Account,
            Kind::Session(_) => Family::Session,
            Kind::Honeypot(_) => Family::Honeypot,
            Kind::Verdict(_) => Family::Verdict,
        }
    }

    /// The kind named `name` ([`Kind::name`]), its details empty (an authentication method of
    /// `other`, no sudo command or target): how a source that maps its own records to kinds
    /// (the JSON-lines source) names them. None for a name no kind has.
    pub fn from_name(name: &str) -> Option<Kind> {
        let (family, _) = name.split_once('.')?;
        match family {
            "auth" | "ssh" => AuthKind::from_name(name).map(Kind::Auth),
            "priv" => PrivilegeKind::from_name(name).map(Kind::Privilege),
            "account" => AccountKind::from_name(name).map(Kind::Account),
            "session" => SessionKind::from_name(name).map(Kind::Session),
            "honeypot" => HoneypotKind::from_name(name).map(Kind::Honeypot),
            "verdict" => VerdictKind::from_name(name).map(Kind::Verdict),
            _ => None,
        }
    }

    /// Every kind's name, family by family.
    pub fn names() -> impl Iterator<Item = &'static str> {
        Family::ALL
            .into_iter()
            .flat_map(|f| f.kinds().iter().copied())
    }

    /// True for SSH events that are an attempt to log in that failed (what brute-force rules
    /// count), as opposed to pre-auth noise.
    pub fn is_login_failure(&self) -> bool {
        matches!(
            self,
            Kind::Auth(
                AuthKind::Failure { .. }
                    | AuthKind::InvalidUser
                    | AuthKind::Refused
                    | AuthKind::MaxAttempts
            )
        )
    }

    /// True for what is evidence against its source by its kind alone, where a sensor knows
    /// nothing more of it (a mapped JSON record, a honeypot's log): a failed login or
    /// pre-authentication noise, and anything on a honeypot but its close (nobody legitimate
    /// is there).
    pub fn is_evidence(&self) -> bool {
        match self {
            Kind::Honeypot(k) => !matches!(k, HoneypotKind::Close { .. }),
            k => k.is_login_failure() || matches!(k, Kind::Auth(AuthKind::PreauthNoise)),
        }
    }

    /// True for honeypot events.
    pub fn is_honeypot(&self) -> bool {
        matches!(self, Kind::Honeypot(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_name_reads_back_as_the_kind_of_that_name_in_its_family() {
        let mut n = 0;
        for family in Family::ALL {
            for name in family.kinds() {
                let kind = Kind::from_name(name).expect(name);
                assert_eq!(kind.name(), *name);
                assert_eq!(kind.family(), family, "{name}");
                n += 1;
            }
        }
        assert_eq!(Kind::names().count(), n);
        let mut all: Vec<_> = Kind::names().collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "a name used twice");
        for bad in ["auth.nope", "nope", "", "ssh", "priv.", ".failure"] {
            assert_eq!(Kind::from_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_payload_may_hold_a_float() {
        let a = Kind::Honeypot(HoneypotKind::Close {
            duration: Some(1.5),
        });
        assert_eq!(a.name(), "honeypot.closed");
        assert_ne!(
            a,
            Kind::Honeypot(HoneypotKind::Close {
                duration: Some(2.5)
            })
        );
    }
}
