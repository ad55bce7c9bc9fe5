//! sshd messages, and the per-connection tracker that gives address-less lines their source.
//!
//! Covers every message fail2ban's `sshd` filter knows in aggressive mode (normal + ddos +
//! extra): failed password / publickey / keyboard-interactive / hostbased / none, invalid users,
//! PAM failures, policy refusals, too many attempts, pre-auth disconnects and closes, banner,
//! kex and identification failures, `Unable to negotiate`, and OpenSSH ≥ 9.8's `sshd-session`.
//!
//! Many sshd lines carry no address ("Disconnecting: Too many authentication failures"), and
//! some failures only count in context (a wrong key before a right one is normal; PAM failures
//! for two different users on one connection is an attack). A bounded map keyed by
//! (host, pid) remembers each connection's address and pending attempts, so the verdict on a line
//! is the same as fail2ban's multi-line filter, without regular expressions: each message is
//! dispatched on its first bytes and parsed by hand, which is both the prefilter and the parser.

use crate::{split_once_str, Src};
use memchr::memmem;
use rustc_hash::FxHashMap;
use std::sync::LazyLock;
use tripline_event::{AuthKind, SessionKind};
use tripline_event::{AuthMethod, Kind, Text};

/// What one sshd message says, before connection context is applied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Msg<'a> {
    /// A failure that names its source.
    Fail {
        kind: Kind,
        user: Option<&'a str>,
        src: Src<'a>,
        count: u32,
    },
    /// A failure that is an attempt beyond any the connection announced (a change of user on
    /// one connection).
    Another {
        kind: Kind,
        user: Option<&'a str>,
        src: Src<'a>,
    },
    /// A failure without an address: needs the connection's.
    FailNoHost {
        kind: Kind,
        user: Option<&'a str>,
    },
    /// An attempt that is a failure only in context (wrong key of several; PAM's first method).
    Attempt {
        method: AuthMethod,
        user: &'a str,
        src: Src<'a>,
    },
    Success {
        method: AuthMethod,
        user: &'a str,
        src: Src<'a>,
    },
    /// Names the connection's address without being a failure.
    Open {
        src: Src<'a>,
    },
    /// The connection ended (not during authentication).
    Close {
        src: Src<'a>,
        user: Option<&'a str>,
    },
    /// The connection ended during authentication (`[preauth]`).
    PreauthClose {
        src: Src<'a>,
        user: Option<&'a str>,
    },
    Session {
        open: bool,
        user: &'a str,
    },
    /// Known, irrelevant (Postponed, listening, …).
    Ignored,
}

const FROM: &str = " from ";

/// Searchers built once: building one per call costs more than the search on a short line.
static FROM_FINDER: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new(FROM));
static PORT_RFINDER: LazyLock<memmem::FinderRev<'static>> =
    LazyLock::new(|| memmem::FinderRev::new(" port "));

/// Parse a source token (address or host name); trailing `:` is not part of it.
fn src_token(s: &str) -> Option<(Src<'_>, &str)> {
    let end = crate::find_byte(s.as_bytes(), b' ').unwrap_or(s.len());
    let mut tok = &s[..end];
    let mut rest = &s[end..];
    // `198.51.100.34: 11:` / `10.0.0.1 port 7736:3:` – split a trailing colon off IPv4/names;
    // IPv6 keeps its colons, so only strip when what precedes is a full address.
    if let Some(t) = tok.strip_suffix(':') {
        tok = t;
        rest = &s[end - 1..];
    }
    if tok.is_empty() {
        return None;
    }
    if let Some(ip) = tripline_event::net::parse_ip(tok) {
        return Some((Src::Ip(ip), rest));
    }
    let name_ok = tok.len() <= 253
        && tok
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'))
        && tok.bytes().any(|b| b.is_ascii_alphanumeric());
    name_ok.then_some((Src::Name(tok), rest))
}

fn skip_digits(s: &str) -> Option<&str> {
    let n = s.bytes().take_while(|b| b.is_ascii_digit()).count();
    (n > 0).then(|| &s[n..])
}

/// After a source: optional ` port N`, ` on ADDR [port N]`, ` sshN`; returns what follows.
fn skip_port_on_proto(mut r: &str) -> &str {
    if let Some(x) = r.strip_prefix(" port ").and_then(skip_digits) {
        r = x;
    }
    if let Some(x) = r.strip_prefix(" on ") {
        let end = x.find(' ').unwrap_or(x.len());
        r = &x[end..];
        if let Some(x) = r.strip_prefix(" port ").and_then(skip_digits) {
            r = x;
        }
    }
    if let Some(x) = r.strip_prefix(" ssh") {
        r = x.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    r
}

fn is_end(r: &str) -> bool {
    let r = r.trim();
    r.is_empty() || r == "[preauth]"
}

/// `USER from SRC[ port N][ sshN]` followed by end of line or `: info`. The user may itself
/// contain ` from ` (attackers choose it), so take the first candidate whose tail is well formed,
/// as fail2ban does.
fn user_from_src(s: &str) -> Option<(&str, Src<'_>)> {
    // `find` on the rest rather than `find_iter`, which copies the finder on every call
    let mut from = 0;
    while let Some(i) = FROM_FINDER.find(&s.as_bytes()[from..]) {
        let pos = from + i;
        from = pos + FROM.len();
        let after = &s[pos + FROM.len()..];
        let Some((src, rest)) = src_token(after) else {
            continue;
        };
        let tail = skip_port_on_proto(rest);
        // (an end, blank or `[preauth]`, cannot hold another ` from `)
        if tail.starts_with(':') || is_end(tail) {
            return Some((&s[..pos], src));
        }
    }
    None
}

/// `… [by|from] [authenticating|invalid] user USER SRC [port N] [[preauth]]`: the source is the
/// last token before the optional port, so a user name with spaces cannot inject one.
fn close_tail(s: &str) -> Option<(Option<&str>, Src<'_>, bool)> {
    let mut r = s.trim_end();
    let preauth = match r.strip_suffix("[preauth]") {
        Some(x) => {
            r = x.trim_end();
            true
        }
        None => false,
    };
    // strip ` port N`
    if let Some(i) = PORT_RFINDER.rfind(r.as_bytes()) {
        if r[i + 6..].bytes().all(|b| b.is_ascii_digit()) && i + 6 < r.len() {
            r = &r[..i];
        }
    }
    let (head, src_tok) = match r.rfind(' ') {
        Some(i) => (&r[..i], &r[i + 1..]),
        None => ("", r),
    };
    let (src, rest) = src_token(src_tok)?;
    if !rest.is_empty() {
        return None;
    }
    let head = head.trim_start_matches(' ');
    let user = ["authenticating user ", "invalid user ", "user "]
        .iter()
        .find_map(|p| head.strip_prefix(p))
        .or_else(|| {
            ["authenticating user", "invalid user"]
                .contains(&head)
                .then_some("")
        });
    if user.is_none() && !head.is_empty() {
        return None;
    }
    Some((user, src, preauth))
}

/// Value of `key=` in a PAM `k=v k=v` list (empty values allowed).
fn pam_field<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let b = s.as_bytes();
    let mut start = 0;
    while let Some(i) = memmem::find(&b[start..], key.as_bytes()) {
        let at = start + i;
        if (at == 0 || b[at - 1] == b' ' || b[at - 1] == b';')
            && b.get(at + key.len()) == Some(&b'=')
        {
            let v = &s[at + key.len() + 1..];
            let end = v.find(' ').unwrap_or(v.len());
            return Some(&v[..end]);
        }
        start = at + key.len();
    }
    None
}

fn fail<'a>(kind: Kind, user: Option<&'a str>, src: Src<'a>) -> Msg<'a> {
    Msg::Fail {
        kind,
        user,
        src,
        count: 1,
    }
}

/// `METHOD for REST` (the method is one word) → (method, rest).
fn method_for(r: &str) -> Option<(&str, &str)> {
    // the method is a short word: a byte loop, not a searcher
    let sp = r.bytes().position(|b| b == b' ')?;
    let (method, r) = (&r[..sp], &r[sp + 1..]);
    Some((method, r.strip_prefix("for ")?))
}

/// Classify one sshd message (the part after `sshd[pid]: `).
pub(crate) fn classify(msg: &str) -> Option<Msg<'_>> {
    let mut m = msg.trim_end_matches(['\r', '\n']);
    for p in ["error: ", "fatal: "] {
        if let Some(x) = m.strip_prefix(p) {
            m = x;
        }
    }
    if let Some(x) = m.strip_prefix("PAM: ") {
        m = x;
    }
    let first = *m.as_bytes().first()?;
    match first {
        b'F' => {
            let r = m.strip_prefix("Failed ")?;
            let (method, r) = method_for(r)?;
            let method_kind = AuthMethod::parse(method);
            let (invalid, r) = match r
                .strip_prefix("invalid user ")
                .or_else(|| r.strip_prefix("illegal user "))
            {
                Some(x) => (true, x),
                None => (false, r),
            };
            let (user, src) = user_from_src(r)?;
            let invalid = invalid || user == "<invalid username>";
            if method_kind == AuthMethod::Publickey && !invalid {
                return Some(Msg::Attempt {
                    method: method_kind,
                    user,
                    src,
                });
            }
            Some(fail(
                Kind::Auth(AuthKind::Failure {
                    method: method_kind,
                    invalid_user: invalid,
                }),
                Some(user),
                src,
            ))
        }
        b'A' => {
            if let Some(r) = m.strip_prefix("Accepted ") {
                let (method, r) = method_for(r)?;
                let (user, src) = user_from_src(r)?;
                return Some(Msg::Success {
                    method: AuthMethod::parse(method),
                    user,
                    src,
                });
            }
            if let Some(r) = m.strip_prefix("Authentication ") {
                return pam_auth_failure(r);
            }
            if m.starts_with("Address ") {
                return Some(Msg::Ignored);
            }
            None
        }
        b'a' => {
            if let Some(r) = m.strip_prefix("authentication ") {
                return pam_auth_failure(r);
            }
            None
        }
        b'I' | b'i' => {
            let r = m
                .strip_prefix("Invalid user ")
                .or_else(|| m.strip_prefix("Illegal user "))
                .or_else(|| m.strip_prefix("illegal user "))
                .or_else(|| m.strip_prefix("invalid user "));
            match r {
                Some(r) => {
                    let (user, src) = user_from_src(r)?;
                    Some(fail(Kind::Auth(AuthKind::InvalidUser), Some(user), src))
                }
                None => m
                    .starts_with("input_userauth_request")
                    .then_some(Msg::Ignored),
            }
        }
        b'U' => {
            if let Some(r) =
                m.strip_prefix("User not known to the underlying authentication module for ")
            {
                let r = r
                    .strip_prefix("illegal user ")
                    .or_else(|| r.strip_prefix("invalid user "))
                    .unwrap_or(r);
                let (user, src) = user_from_src(r)?;
                return Some(fail(Kind::Auth(AuthKind::InvalidUser), Some(user), src));
            }
            if let Some(r) = m.strip_prefix("User ") {
                // `User U from SRC not allowed because …` / `User U not allowed because account is locked`
                if let Some(i) = memmem::rfind(r.as_bytes(), b" not allowed because ") {
                    let head = &r[..i];
                    if let Some(j) = memmem::rfind(head.as_bytes(), FROM.as_bytes()) {
                        if let Some((src, rest)) = src_token(&head[j + FROM.len()..]) {
                            if rest.is_empty() {
                                return Some(fail(
                                    Kind::Auth(AuthKind::Refused),
                                    Some(&head[..j]),
                                    src,
                                ));
                            }
                        }
                    }
                    return Some(Msg::FailNoHost {
                        kind: Kind::Auth(AuthKind::Refused),
                        user: Some(head),
                    });
                }
                return None;
            }
            if let Some(r) = m.strip_prefix("Unable to negotiate with ") {
                let (src, rest) = src_token(r)?;
                let tail = skip_port_on_proto(rest);
                return tail
                    .strip_prefix(": no matching ")
                    .filter(|t| t.contains(" found"))
                    .map(|_| fail(Kind::Auth(AuthKind::PreauthNoise), None, src));
            }
            if m.starts_with("Unable to negotiate a ") {
                return Some(Msg::FailNoHost {
                    kind: Kind::Auth(AuthKind::PreauthNoise),
                    user: None,
                });
            }
            None
        }
        b'R' => {
            if let Some(r) = m.strip_prefix("ROOT LOGIN REFUSED FROM ") {
                let (src, _) = src_token(r)?;
                return Some(fail(Kind::Auth(AuthKind::Refused), Some("root"), src));
            }
            if let Some(r) = m.strip_prefix("Received disconnect from ") {
                return received_disconnect(r);
            }
            if m.starts_with("Read from socket failed: Connection reset by peer") {
                return Some(Msg::FailNoHost {
                    kind: Kind::Auth(AuthKind::PreauthNoise),
                    user: None,
                });
            }
            None
        }
        b'r' => {
            let r = m.strip_prefix("refused connect from ")?;
            let open = r.rfind(" (")?;
            let inner = r[open + 2..].trim_end().strip_suffix(')')?;
            let (src, _) = src_token(inner)?;
            Some(fail(Kind::Auth(AuthKind::Refused), None, src))
        }
        b'm' => {
            if let Some(r) = m.strip_prefix("maximum authentication attempts exceeded for ") {
                let r = r.strip_prefix("invalid user ").unwrap_or(r);
                let (user, src) = user_from_src(r)?;
                return Some(fail(Kind::Auth(AuthKind::MaxAttempts), Some(user), src));
            }
            if let Some(r) = m.strip_prefix("message repeated ") {
                // handled by the caller (needs the count); here only the inner message matters
                let _ = r;
            }
            None
        }
        b'D' => {
            if let Some(r) = m.strip_prefix("Disconnecting: Too many authentication failures") {
                let user = r
                    .strip_prefix(" for ")
                    .map(|u| u.trim_end().trim_end_matches("[preauth]").trim_end());
                return Some(Msg::FailNoHost {
                    kind: Kind::Auth(AuthKind::MaxAttempts),
                    user,
                });
            }
            if let Some(r) = m.strip_prefix("Disconnecting ") {
                // `Disconnecting (invalid|authenticating) user U SRC port N: REASON [preauth]`
                let (who, reason) = split_once_str(r, ": ")?;
                let (user, src, _) = close_tail(who)?;
                if reason.starts_with("Change of username or service not allowed") {
                    // a try with another user on the same connection: an attempt of its own
                    let kind = Kind::Auth(AuthKind::Failure {
                        method: AuthMethod::Other,
                        invalid_user: r.starts_with("invalid user "),
                    });
                    return Some(Msg::Another { kind, user, src });
                }
                if reason.starts_with("Too many authentication failures") {
                    // the close that always follows `maximum authentication attempts exceeded`:
                    // its attempts are counted there (a close, not a connection opening)
                    return Some(Msg::Close { src, user });
                }
                // naming the user it was authenticating: an attempt ended
                return Some(match user {
                    Some(_) => Msg::PreauthClose { src, user },
                    None => Msg::Close { src, user },
                });
            }
            if let Some(r) = m.strip_prefix("Did not receive identification string from ") {
                let (src, _) = src_token(r)?;
                return Some(fail(Kind::Auth(AuthKind::PreauthNoise), None, src));
            }
            if let Some(r) = m.strip_prefix("Disconnected from ") {
                let (user, src, preauth) = close_tail(r)?;
                // `Disconnected from invalid user X addr port N`, with or without `[preauth]`:
                // an attempt ended; after a login (`user X`, no `[preauth]`) a session ended
                let during_auth = preauth
                    || r.starts_with("invalid user ")
                    || r.starts_with("authenticating user ");
                return Some(if during_auth {
                    Msg::PreauthClose { src, user }
                } else {
                    Msg::Close { src, user }
                });
            }
            None
        }
        b'u' => {
            // `PAM: unknown user X from SRC` (older sshd with PAM): a user that does not exist
            let r = m.strip_prefix("unknown user ")?;
            let (user, src) = user_from_src(r)?;
            Some(fail(Kind::Auth(AuthKind::InvalidUser), Some(user), src))
        }
        b'd' => {
            // OpenSSH ≥ 9.8: `drop connection #N from [ADDR]:PORT on [ADDR]:PORT penalty: WHY`,
            // a connection refused because its source is penalised (failed authentication, no
            // authentication, a crash, LoginGraceTime): each one an attempt of its own
            let r = m.strip_prefix("drop connection #")?;
            let r = skip_digits(r)?.strip_prefix(" from ")?;
            let (src, rest) = src_token(r)?;
            let why = rest.split_once(" penalty: ")?.1;
            let kind = if why.starts_with("failed authentication") {
                Kind::Auth(AuthKind::Refused)
            } else {
                Kind::Auth(AuthKind::PreauthNoise)
            };
            Some(Msg::Another {
                kind,
                user: None,
                src,
            })
        }
        b'B' => {
            let r = m.strip_prefix("Bad protocol version identification ")?;
            let i = memmem::rfind(r.as_bytes(), b"' from ")?;
            let (src, _) = src_token(&r[i + 7..])?;
            Some(fail(Kind::Auth(AuthKind::PreauthNoise), None, src))
        }
        b'b' => {
            let r = m.strip_prefix("banner exchange: Connection from ")?;
            let (src, rest) = src_token(r)?;
            skip_port_on_proto(rest)
                .starts_with(": invalid format")
                .then(|| fail(Kind::Auth(AuthKind::PreauthNoise), None, src))
        }
        b'k' => {
            let r = m.strip_prefix("kex_exchange_identification: ")?;
            let r = r.strip_prefix("read: ").unwrap_or(r);
            let lower = r.get(..1)?.to_ascii_lowercase() + r.get(1..)?;
            let hit = lower.starts_with("client sent invalid protocol identifier")
                || lower.starts_with("connection closed by remote host")
                || lower.starts_with("connection reset by peer");
            hit.then_some(Msg::FailNoHost {
                kind: Kind::Auth(AuthKind::PreauthNoise),
                user: None,
            })
        }
        b's' => {
            if let Some(r) = m.strip_prefix("ssh_dispatch_run_fatal: Connection from ") {
                let (src, rest) = src_token(r)?;
                let tail = skip_port_on_proto(rest);
                let t = tail.strip_prefix(": ")?;
                let hit = t.starts_with("message authentication code incorrect")
                    || t.starts_with("Connection corrupted")
                    || t.starts_with("invalid format");
                return hit.then(|| fail(Kind::Auth(AuthKind::PreauthNoise), None, src));
            }
            None
        }
        b'T' => {
            let r = m.strip_prefix("Timeout before authentication for ")?;
            let r = r.strip_prefix("connection from ").unwrap_or(r);
            let (src, _) = src_token(r.trim_end_matches(','))
                .or_else(|| src_token(r.split(',').next().unwrap_or(r)))?;
            Some(fail(Kind::Auth(AuthKind::PreauthNoise), None, src))
        }
        b'n' => m
            .strip_prefix("no matching ")
            .filter(|r| r.contains(" found"))
            .map(|_| Msg::FailNoHost {
                kind: Kind::Auth(AuthKind::PreauthNoise),
                user: None,
            }),
        b'C' => {
            if let Some(r) = m.strip_prefix("Connection from ") {
                let (src, _) = src_token(r)?;
                return Some(Msg::Open { src });
            }
            let r = m
                .strip_prefix("Connection closed by ")
                .or_else(|| m.strip_prefix("Connection reset by "))?;
            let (user, src, preauth) = close_tail(r)?;
            Some(if preauth {
                Msg::PreauthClose { src, user }
            } else {
                Msg::Close { src, user }
            })
        }
        b'S' => {
            let r = m.strip_prefix("SSH: Server;Ltype: ")?;
            let r = split_once_str(r, ";Remote: ")?.1;
            let dash = r.rfind('-')?;
            let host_port = &r[..dash];
            let src = match src_token(host_port) {
                Some((s, "")) => s,
                _ => {
                    // `HOST-PORT;…`: the dash we found may be inside the trailing fields
                    let semi = r.find(';')?;
                    let hp = &r[..semi];
                    let d = hp.rfind('-')?;
                    src_token(&hp[..d])?.0
                }
            };
            Some(Msg::Open { src })
        }
        b'p' => {
            if m.starts_with("pam_") {
                let (module, rest) = split_once_str(m, "): ")?;
                let svc = module.split_once('(')?.1;
                if svc == "sshd:auth" && rest.starts_with("authentication failure;") {
                    let fields = &rest["authentication failure;".len()..];
                    let Some((src, _)) = pam_field(fields, "rhost").and_then(src_token) else {
                        return Some(Msg::Ignored);
                    };
                    let user = pam_field(fields, "user")
                        .filter(|u| !u.is_empty())
                        .or_else(|| pam_field(fields, "ruser"))
                        .unwrap_or("");
                    return Some(Msg::Attempt {
                        method: AuthMethod::Pam,
                        user,
                        src,
                    });
                }
                if svc == "sshd:session" {
                    if let Some(r) = rest.strip_prefix("session opened for user ") {
                        return Some(Msg::Session {
                            open: true,
                            user: pam_user(r),
                        });
                    }
                    if let Some(r) = rest.strip_prefix("session closed for user ") {
                        return Some(Msg::Session {
                            open: false,
                            user: pam_user(r),
                        });
                    }
                }
                return Some(Msg::Ignored);
            }
            None
        }
        b'P' => {
            if let Some(r) = m.strip_prefix("PAM ") {
                // `PAM 2 more authentication failures; logname= … rhost=SRC user=U`
                let (n, rest) = r.split_once(' ')?;
                let n: u32 = n.parse().ok()?;
                let fields = rest.strip_prefix("more authentication failure")?;
                let (src, _) = pam_field(fields, "rhost").and_then(src_token)?;
                let user = pam_field(fields, "user").filter(|u| !u.is_empty());
                return Some(Msg::Fail {
                    kind: Kind::Auth(AuthKind::Failure {
                        method: AuthMethod::Pam,
                        invalid_user: false,
                    }),
                    user,
                    src,
                    count: n.max(1),
                });
            }
            m.starts_with("Postponed ").then_some(Msg::Ignored)
        }
        _ => None,
    }
}

/// The old PAM program form's message (`sshd(pam_unix)[pid]: authentication failure; … rhost=SRC
/// user=U`): PAM's first failure of an attempt, as `pam_unix(sshd:auth)` says it today.
pub(crate) fn old_pam(m: &str) -> Option<Msg<'_>> {
    let fields = m.strip_prefix("authentication failure;")?;
    let (src, _) = pam_field(fields, "rhost").and_then(src_token)?;
    let user = pam_field(fields, "user")
        .filter(|u| !u.is_empty())
        .or_else(|| pam_field(fields, "ruser"))
        .unwrap_or("");
    Some(Msg::Attempt {
        method: AuthMethod::Pam,
        user,
        src,
    })
}

/// `root(uid=0) by (uid=0)` → `root`
fn pam_user(r: &str) -> &str {
    let end = r.find(['(', ' ']).unwrap_or(r.len());
    &r[..end]
}

/// After `PAM: Authentication ` / `authentication `: `(failure|error|failed) for U from SRC [via X]`.
fn pam_auth_failure(r: &str) -> Option<Msg<'_>> {
    let r = r
        .strip_prefix("failure for ")
        .or_else(|| r.strip_prefix("error for "))
        .or_else(|| r.strip_prefix("failed for "))?;
    let r = match memmem::rfind(r.as_bytes(), b" via ") {
        Some(i) => &r[..i],
        None => r,
    };
    let (invalid, r) = match r
        .strip_prefix("illegal user ")
        .or_else(|| r.strip_prefix("invalid user "))
    {
        Some(x) => (true, x),
        None => (false, r),
    };
    let (user, src) = user_from_src(r)?;
    Some(fail(
        Kind::Auth(AuthKind::Failure {
            method: AuthMethod::Pam,
            invalid_user: invalid,
        }),
        Some(user),
        src,
    ))
}

/// After `Received disconnect from `: `SRC[ port N]:[ ]CODE: TEXT[ [preauth]]`.
fn received_disconnect(r: &str) -> Option<Msg<'_>> {
    let (src, rest) = src_token(r)?;
    let rest = skip_port_on_proto(rest);
    let rest = rest.strip_prefix(':')?.trim_start();
    let (code, text) = rest.split_once(':')?;
    let text = text.trim();
    let text = text.strip_suffix("[preauth]").unwrap_or(text).trim_end();
    match code.trim() {
        "3" if text.ends_with("Auth fail") => Some(fail(
            Kind::Auth(AuthKind::Failure {
                method: AuthMethod::Other,
                invalid_user: false,
            }),
            None,
            src,
        )),
        "14" if text.starts_with("No supported authentication methods available")
            || text.starts_with("No authentication methods available") =>
        {
            Some(fail(Kind::Auth(AuthKind::PreauthNoise), None, src))
        }
        _ => Some(Msg::Close { src, user: None }),
    }
}

/// Per-connection memory: the connection's address and attempts not yet judged.
#[derive(Debug, Default, Clone)]
struct Conn {
    src: Option<OwnedSrc>,
    /// failures seen before the address was known
    pending: u32,
    /// context-dependent attempts (publickey, PAM first method)
    attempts: u32,
    users: Vec<Text>,
    last_use: u64,
    /// What was counted on this connection, so that one attempt counts once.
    tries: Tries,
    /// The connection closed; it is kept only for PAM's summary line that may follow.
    closed: bool,
}

/// The attempts one connection made, as its lines tell them. One OpenSSH attempt writes several
/// lines (`Invalid user`, PAM's failure, `Failed password`, the preauth close, and at the end
/// `PAM N more authentication failures`); each says "at least this many attempts" from its own
/// side (sshd's failure lines, PAM's lines, a line that says there was one), and the
/// connection made as many as the largest of them. A line counts what it adds to that.
#[derive(Debug, Default, Clone, Copy)]
struct Tries {
    /// sshd's own failure lines (`Failed password`, a `message repeated` counted in full).
    sshd: u32,
    /// PAM's failures (its first failure line, then its `N more` summary).
    pam: u32,
    /// A line said there was an attempt without being one of the above (`Invalid user`, a
    /// refusal, a close after authenticating).
    one: bool,
    /// Lines that are an attempt beyond all the others say (a change of user).
    extra: u32,
    /// Attempts counted so far.
    counted: u32,
}

/// Whose count a hostile line adds to.
enum Side {
    Sshd(u32),
    Pam(u32),
    /// At least one attempt, and `n` more that were never counted (a close that ends tries
    /// made before the address was known).
    One(u32),
    /// Attempts beyond all the others.
    Extra(u32),
}

impl Tries {
    /// Add what a line says; how many attempts it adds.
    fn add(&mut self, side: Side) -> u32 {
        match side {
            Side::Sshd(n) => self.sshd = self.sshd.saturating_add(n),
            Side::Pam(n) => self.pam = self.pam.saturating_add(n),
            Side::One(n) => {
                self.one = true;
                self.sshd = self.sshd.saturating_add(n);
            }
            Side::Extra(n) => self.extra = self.extra.saturating_add(n),
        }
        let made = (self.sshd.max(self.pam).max(self.one as u32)).saturating_add(self.extra);
        let new = made.saturating_sub(self.counted);
        self.counted = self.counted.max(made);
        new
    }

    /// PAM may still report more failures of this connection after it closed.
    fn awaits_pam(&self) -> bool {
        self.pam > 0 || self.sshd >= 2
    }
}

/// The side a hostile verdict of `count` is on; None for what is no login attempt.
fn side(kind: &Kind, count: u32) -> Option<Side> {
    Some(match kind {
        Kind::Auth(AuthKind::Failure {
            method: AuthMethod::Pam,
            ..
        }) => Side::Pam(count),
        // the client's own `Auth fail` disconnect (JSch): it gave up after at least one attempt,
        // which the connection's failure line (when there is one) counted already
        Kind::Auth(AuthKind::Failure {
            method: AuthMethod::Other,
            ..
        }) => Side::One(count.saturating_sub(1)),
        // sshd's failure lines; `Too many authentication failures` ends tries it never logged
        // one by one (several keys), and counts them
        Kind::Auth(AuthKind::Failure { .. } | AuthKind::MaxAttempts) => Side::Sshd(count),
        Kind::Auth(
            AuthKind::InvalidUser
            | AuthKind::Refused
            | AuthKind::PreauthClose
            | AuthKind::ConnectionClose,
        ) => Side::One(count.saturating_sub(1)),
        _ => return None,
    })
}

/// An owned copy of a source, kept across lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OwnedSrc {
    Ip(std::net::IpAddr),
    Name(Text),
}

impl OwnedSrc {
    fn from(src: &Src<'_>) -> OwnedSrc {
        match src {
            Src::Ip(ip) => OwnedSrc::Ip(*ip),
            Src::Name(n) => OwnedSrc::Name((*n).into()),
        }
    }
}

/// The verdict on one sshd line, after connection context.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Verdict {
    pub kind: Kind,
    pub src: Option<OwnedSrc>,
    pub user: Option<Text>,
    pub count: u32,
    pub hostile: bool,
}

/// Bounded per-connection state, keyed by a hash of (host, pid).
#[derive(Debug)]
pub(crate) struct ConnTracker {
    conns: FxHashMap<u64, Conn>,
    cap: usize,
    clock: u64,
}

impl ConnTracker {
    pub fn new(cap: usize) -> Self {
        ConnTracker {
            conns: FxHashMap::default(),
            cap: cap.max(16),
            clock: 0,
        }
    }

    fn conn(&mut self, key: u64) -> &mut Conn {
        self.clock += 1;
        if self.conns.len() >= self.cap && !self.conns.contains_key(&key) {
            // Drop the older half: amortized O(1) per insert, bounded memory.
            let mut ages: Vec<u64> = self.conns.values().map(|c| c.last_use).collect();
            let mid = ages.len() / 2;
            let (_, cut, _) = ages.select_nth_unstable(mid);
            let cut = *cut;
            self.conns.retain(|_, c| c.last_use > cut);
        }
        let clock = self.clock;
        let c = self.conns.entry(key).or_default();
        c.last_use = clock;
        c
    }

    /// Apply connection context to a classified message that stands for `repeat` lines
    /// (`message repeated N times`). `key` is `None` when the line has no pid (then each line
    /// stands alone). A hostile verdict's count is the attempts it adds to its connection's
    /// ([`Tries`]): 0 for a line about an attempt already counted.
    pub fn judge(&mut self, msg: Msg<'_>, key: Option<u64>, repeat: u32) -> Option<Verdict> {
        let closing = matches!(msg, Msg::Close { .. } | Msg::PreauthClose { .. });
        let (msg, extra) = match msg {
            Msg::Another { kind, user, src } => (
                Msg::Fail {
                    kind,
                    user,
                    src,
                    count: 1,
                },
                true,
            ),
            m => (m, false),
        };
        let pam_summary = matches!(
            msg,
            Msg::Fail {
                kind: Kind::Auth(AuthKind::Failure {
                    method: AuthMethod::Pam,
                    ..
                }),
                ..
            }
        );
        // PAM's first failure of an attempt (`pam_unix(sshd:auth): authentication failure`):
        // an attempt on PAM's side, counted once nothing from sshd counts it (a host where sshd
        // logs only through PAM) — at the close, or at PAM's summary
        let pam_attempt = matches!(
            msg,
            Msg::Attempt {
                method: AuthMethod::Pam,
                ..
            }
        );
        let mut scratch = Conn::default();
        let conn = match key {
            Some(k) => self.conn(k),
            None => &mut scratch,
        };
        // a closed connection waits only for PAM's summary; any other line is a new one (its
        // pid reused)
        let closed_before = conn.closed;
        if closed_before && !pam_summary {
            *conn = Conn {
                last_use: conn.last_use,
                ..Conn::default()
            };
        }
        let mut tries = conn.tries;
        let mut v = judge_conn(conn, msg)?;
        v.count = v.count.saturating_mul(repeat);
        if pam_attempt {
            tries.pam = tries.pam.saturating_add(1);
            if v.hostile {
                // several users tried on this connection: what is not counted yet counts now
                v.count = tries.add(Side::Pam(0));
            }
        } else if v.hostile {
            let side = match extra {
                true => Some(Side::Extra(v.count)),
                false => side(&v.kind, v.count),
            };
            if let Some(side) = side {
                v.count = tries.add(side);
            }
        }
        conn.tries = tries;
        // dropping a closed connection keeps the map to the live ones, which keeps lookups in
        // cache; one whose PAM summary may follow waits for it
        let summary_done = closed_before && pam_summary;
        if closing && tries.awaits_pam() {
            conn.closed = true;
        } else if let (true, Some(k)) = (closing || summary_done, key) {
            self.conns.remove(&k);
        }
        Some(v)
    }
}

/// Apply one connection's context to a classified message.
fn judge_conn(conn: &mut Conn, msg: Msg<'_>) -> Option<Verdict> {
    let v = |kind, src: Option<OwnedSrc>, user: Option<&str>, count, hostile| Verdict {
        kind,
        src,
        user: user.map(Into::into),
        count,
        hostile,
    };
    Some(match msg {
        Msg::Fail {
            kind,
            user,
            src,
            count,
        } => {
            let src = OwnedSrc::from(&src);
            conn.src = Some(src.clone());
            let n = count + std::mem::take(&mut conn.pending);
            v(kind, Some(src), user, n, true)
        }
        Msg::FailNoHost { kind, user } => match conn.src.clone() {
            Some(src) => {
                let n = 1 + std::mem::take(&mut conn.attempts) + std::mem::take(&mut conn.pending);
                v(kind, Some(src), user, n, true)
            }
            None => {
                conn.pending += 1;
                v(kind, None, user, 1, false)
            }
        },
        Msg::Attempt { method, user, src } => {
            let src = OwnedSrc::from(&src);
            conn.src = Some(src.clone());
            conn.attempts += 1;
            if !conn.users.iter().any(|u| &**u == user) && conn.users.len() < 8 {
                conn.users.push(user.into());
            }
            let kind = Kind::Auth(AuthKind::Failure {
                method,
                invalid_user: false,
            });
            if conn.users.len() >= 2 {
                // Several accounts tried on one connection: a failure, not a second key.
                let n = std::mem::take(&mut conn.attempts);
                v(kind, Some(src), Some(user), n, true)
            } else {
                v(kind, Some(src), Some(user), 1, false)
            }
        }
        Msg::Success { method, user, src } => {
            let src = OwnedSrc::from(&src);
            let other_users = conn.users.iter().any(|u| &**u != user);
            let n = conn.attempts + 1;
            *conn = Conn {
                last_use: conn.last_use,
                ..Conn::default()
            };
            if other_users {
                v(
                    Kind::Auth(AuthKind::Success { method }),
                    Some(src),
                    Some(user),
                    n,
                    true,
                )
            } else {
                v(
                    Kind::Auth(AuthKind::Success { method }),
                    Some(src),
                    Some(user),
                    1,
                    false,
                )
            }
        }
        Msg::Open { src } => {
            conn.src = Some(OwnedSrc::from(&src));
            v(
                Kind::Auth(AuthKind::ConnectionOpen),
                conn.src.clone(),
                None,
                1,
                false,
            )
        }
        Msg::Close { src, user } => {
            let src = OwnedSrc::from(&src);
            let pending = conn.pending;
            *conn = Conn {
                last_use: conn.last_use,
                ..Conn::default()
            };
            if pending > 0 {
                v(
                    Kind::Auth(AuthKind::ConnectionClose),
                    Some(src),
                    user,
                    pending,
                    true,
                )
            } else {
                v(
                    Kind::Auth(AuthKind::ConnectionClose),
                    Some(src),
                    user,
                    1,
                    false,
                )
            }
        }
        Msg::PreauthClose { src, user } => {
            let src = OwnedSrc::from(&src);
            let n = (conn.pending + conn.attempts).max(1);
            *conn = Conn {
                last_use: conn.last_use,
                ..Conn::default()
            };
            v(Kind::Auth(AuthKind::PreauthClose), Some(src), user, n, true)
        }
        Msg::Session { open, user } => {
            let kind = if open {
                Kind::Session(SessionKind::Open)
            } else {
                Kind::Session(SessionKind::Close)
            };
            v(kind, conn.src.clone(), Some(user), 1, false)
        }
        // made a `Fail` by `judge`
        Msg::Another { .. } | Msg::Ignored => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Src<'_> {
        Src::Ip(s.parse().unwrap())
    }

    #[test]
    fn failed_password_variants() {
        let m =
            classify("Failed password for invalid user ROOT from 194.117.26.69 port 50273 ssh2")
                .unwrap();
        assert_eq!(
            m,
            Msg::Fail {
                kind: Kind::Auth(AuthKind::Failure {
                    method: AuthMethod::Password,
                    invalid_user: true
                }),
                user: Some("ROOT"),
                src: ip("194.117.26.69"),
                count: 1
            }
        );
        let m = classify("Failed none for invalid user x from 2001:db8::1 port 1 ssh2").unwrap();
        assert!(matches!(
            m,
            Msg::Fail {
                src: Src::Ip(_),
                ..
            }
        ));
    }

    #[test]
    fn injected_user_names_do_not_move_the_source() {
        let cases = [
            ("Failed password for invalid user from 10.10.1.1 from 127.0.0.1 port 58946 ssh2", "127.0.0.1", "from 10.10.1.1"),
            ("Failed password for invalid user test from 10.10.1.2 port 55555 ssh2 from 127.0.0.1 port 58946 ssh2", "127.0.0.1", "test from 10.10.1.2 port 55555 ssh2"),
            ("Failed password for invalid user test from 127.0.0.1 port 58946 ssh2: from 10.10.1.2 port 55555 ssh2", "127.0.0.1", "test"),
        ];
        for (line, want, user) in cases {
            match classify(line).unwrap() {
                Msg::Fail { src, user: u, .. } => {
                    assert_eq!(src, ip(want), "{line}");
                    assert_eq!(u, Some(user), "{line}");
                }
                other => panic!("{line}: {other:?}"),
            }
        }
        let (user, src, preauth) = close_tail(
            "authenticating user test 127.0.0.1 port 12345 192.0.2.11 port 46039 [preauth]",
        )
        .unwrap();
        assert_eq!(
            (user, src, preauth),
            (Some("test 127.0.0.1 port 12345"), ip("192.0.2.11"), true)
        );
    }

    #[test]
    fn valid_user_publickey_needs_context() {
        let mut t = ConnTracker::new(64);
        let k = Some(7);
        let a =
            classify("Failed publickey for git from 192.0.2.111 port 57910 ssh2: ECDSA x").unwrap();
        assert!(!t.judge(a.clone(), k, 1).unwrap().hostile);
        assert!(!t.judge(a, k, 1).unwrap().hostile);
        let d =
            classify("Disconnecting: Too many authentication failures for git [preauth]").unwrap();
        let v = t.judge(d, k, 1).unwrap();
        assert!(v.hostile);
        assert_eq!(v.count, 3);
        assert_eq!(v.src, Some(OwnedSrc::Ip("192.0.2.111".parse().unwrap())));
    }

    #[test]
    fn success_after_attempts_for_other_users_is_hostile() {
        let mut t = ConnTracker::new(64);
        let k = Some(1);
        let p = |u: &str| {
            format!("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser={u} rhost=192.0.2.116")
        };
        assert!(
            !t.judge(classify(&p("root")).unwrap(), k, 1)
                .unwrap()
                .hostile
        );
        assert!(
            !t.judge(classify(&p("root")).unwrap(), k, 1)
                .unwrap()
                .hostile
        );
        let v = t
            .judge(
                classify("Accepted password for known from 192.0.2.116 port 52100 ssh2").unwrap(),
                k,
                1,
            )
            .unwrap();
        assert!(v.hostile);
        assert_eq!(v.count, 3);
        // and the same user succeeding is forgiven
        let k = Some(2);
        let line = "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.113  user=rda";
        assert!(!t.judge(classify(line).unwrap(), k, 1).unwrap().hostile);
        let v = t
            .judge(
                classify("Accepted password for rda from 192.0.2.113 port 52100 ssh2").unwrap(),
                k,
                1,
            )
            .unwrap();
        assert!(!v.hostile);
    }

    #[test]
    fn hostless_failure_waits_for_the_address() {
        let mut t = ConnTracker::new(64);
        let v = t
            .judge(
                classify("User root not allowed because account is locked").unwrap(),
                Some(3),
                1,
            )
            .unwrap();
        assert!(!v.hostile && v.src.is_none());
        let v = t
            .judge(
                classify("Received disconnect from 1.2.3.4: 11: Bye Bye [preauth]").unwrap(),
                Some(3),
                1,
            )
            .unwrap();
        assert!(v.hostile);
        // a different pid does not inherit it
        let v = t
            .judge(
                classify("Connection closed by 61.0.0.1").unwrap(),
                Some(4),
                1,
            )
            .unwrap();
        assert!(!v.hostile);
    }

    #[test]
    fn tracker_memory_is_bounded() {
        let mut t = ConnTracker::new(100);
        for k in 0..10_000u64 {
            t.judge(
                classify("Connection from 192.0.2.1 port 1").unwrap(),
                Some(k),
                1,
            );
        }
        assert!(t.conns.len() <= 100);
    }

    #[test]
    fn hostile_bytes_never_panic() {
        let nasty = [
            "Failed ",
            "Failed  for ",
            "Failed x for  from ",
            "Received disconnect from :",
            "User ",
            "SSH: Server;Ltype: ;Remote: -",
            "kex_exchange_identification: ",
            "Disconnecting : ",
            "Connection closed by ",
            "PAM 99999999999999 more",
            "Bad protocol version identification ' from ",
            "refused connect from (",
            "Timeout before authentication for ,",
            "\u{0}\u{1}",
            "é",
        ];
        for n in nasty {
            let _ = classify(n);
        }
    }
}
