//! `tripline explain`: one log line in words, and the rules it moves.

use crate::cmd::{time_context, Config};
use anyhow::Result;
use tripline::output;
use tripline_event::AuthKind;
use tripline_event::SensorKind;
use tripline_sensors::LineParser;

pub fn verb(cfg: &Config, year: Option<i32>, line: &str) -> Result<()> {
    let mut parser = LineParser::new(time_context(cfg, year)?, SensorKind::Files, &cfg.hostname());
    let line = output::printable(line);
    let Some((h, p)) = parser.parse(&line) else {
        println!("not understood: no sensor reads this line as an event (tripline ignores it)");
        return Ok(());
    };
    println!("program:  {}", h.program.unwrap_or("(none; read as sshd)"));
    println!(
        "time:     {}",
        p.ts.map(|t| t.to_string())
            .unwrap_or_else(|| "(none in the line; the time it is read is used)".into())
    );
    println!("kind:     {}", p.kind.name());
    if let Some(ip) = p.src_ip {
        println!("source:   {ip}");
    } else if let Some(n) = &p.src_name {
        println!("source:   {n} (a host name: reported, not counted; sshd's UseDNS is on)");
    }
    if let Some(u) = &p.user {
        println!("user:     {u}");
    }
    if p.count != 1 {
        println!("count:    {}", p.count);
    }
    println!(
        "hostile:  {}",
        if p.hostile {
            "yes: evidence against its source"
        } else {
            "no"
        }
    );
    let r = &cfg.detect.rules;
    let mut moves: Vec<String> = vec![];
    let k = &p.kind;
    if p.hostile && p.src_ip.is_some() && k.is_login_failure() {
        moves.push(format!(
            "ssh.bruteforce (≥ {} per IP in {})",
            r.ssh_bruteforce.threshold,
            tripline_detect::fmt_secs(r.ssh_bruteforce.window_seconds)
        ));
        moves.push("ssh.bruteforce.slow".into());
        moves.push("ssh.compromise (failure history of the IP)".into());
        moves.push("ssh.distributed (per user and per network)".into());
        if p.user.is_some() {
            moves.push("ssh.spray".into());
        }
        if matches!(
            k,
            tripline_event::Kind::Auth(AuthKind::InvalidUser)
                | tripline_event::Kind::Auth(AuthKind::Failure {
                    invalid_user: true,
                    ..
                })
        ) {
            moves.push("ssh.enumeration".into());
        }
    }
    use tripline_event::{AccountKind as A, AuthKind as Au, Kind as K, PrivilegeKind as P};
    match k {
        K::Auth(Au::PreauthNoise | Au::PreauthClose) if p.hostile => moves.push("ssh.scan".into()),
        K::Auth(Au::Success { .. }) => {
            moves.extend(["ssh.compromise".into(), "ssh.new_source_login".into()])
        }
        K::Privilege(P::SudoFailure | P::SudoNotAllowed) => moves.push("priv.sudo_failures".into()),
        K::Privilege(P::SudoNotInSudoers) => moves.push("priv.not_in_sudoers".into()),
        K::Privilege(P::SuFailure { .. }) => moves.push("priv.su_failures".into()),
        K::Privilege(P::SudoCommand { .. } | P::SuSuccess { .. }) => {
            moves.push("priv.after_login (if root soon after a login from a new source)".into())
        }
        K::Account(A::Created | A::GroupMembership { .. } | A::PasswordChange { .. }) => {
            moves.push("account.change".into())
        }
        _ => {}
    }
    if moves.is_empty() {
        println!("rules:    none");
    } else {
        println!("rules:    {}", moves.join("\n          "));
    }
    Ok(())
}
