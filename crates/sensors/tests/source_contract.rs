//! The source contract, checked on every file-reading source type (files, cowrie, jsonl): run it
//! once over what a file holds, restart it from the checkpoint it handed over last, and the
//! second run reads exactly what was appended in between — nothing lost, nothing twice — while
//! the lines before the checkpoint come back only as warm-up (rebuilding windows, raising
//! nothing). Every checkpoint travels with the batch whose events it covers.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;
use tripline_event::Checkpoint;
use tripline_sensors::source::{
    source_type, Batch, Emit, HealthBoard, Mode, OpenCx, SourceCx, Stop,
};
use tripline_sensors::TimeContext;

/// Collects what a source hands over.
#[derive(Default)]
struct Collect(Vec<Batch>);

impl Emit for Collect {
    fn emit(&mut self, b: Batch) {
        self.0.push(b);
    }
}

/// Run the source `name` of type `ty` (its table `table`, its files `file`) once in scan mode
/// with the stored checkpoints `stored`; what it emitted.
fn scan(
    ty: &str,
    name: &str,
    table: &str,
    file: &Path,
    stored: &Mutex<HashMap<String, Checkpoint>>,
) -> Vec<Batch> {
    let spec = (source_type(ty).unwrap().parse)(name, toml::from_str(table).unwrap()).unwrap();
    let lookup = |id: &str| stored.lock().unwrap().get(id).cloned();
    let cx = OpenCx {
        checkpoint: &lookup,
        time: TimeContext::utc().with_year(Some(2024)),
        host: "h".into(),
        from_start: true,
        ignore_checkpoints: false,
        files: Some(vec![file.to_path_buf()]),
        batch_size: 4,
        max_batch_size: 4,
        poll_interval: Duration::from_millis(10),
        mode: Mode::Scan,
    };
    let mut source = spec.open(name, &cx).unwrap().expect("a source");
    let mut out = Collect::default();
    let stop = Stop::new();
    let mut scx = SourceCx {
        out: &mut out,
        mode: Mode::Scan,
        stop: &stop,
        health: HealthBoard::default().slot(0, name),
    };
    source.run(&mut scx).unwrap();
    // the store commits each checkpoint with its batch
    for b in &out.0 {
        if let Some(c) = &b.checkpoint {
            stored.lock().unwrap().insert(c.source.clone(), c.clone());
        }
    }
    out.0
}

/// The raw lines of the events a run emitted: (warm-up, new).
fn raw(batches: &[Batch]) -> (Vec<String>, Vec<String>) {
    let mut warm = vec![];
    let mut new = vec![];
    for b in batches {
        let to = if b.warm { &mut warm } else { &mut new };
        to.extend(b.events.iter().map(|e| e.raw.to_string()));
        // a warm batch moves no checkpoint: its lines were accounted for by the run before
        assert!(
            !(b.warm && b.checkpoint.is_some()),
            "a warm-up batch with a checkpoint"
        );
    }
    (warm, new)
}

fn check(ty: &str, name: &str, table: &str, event: impl Fn(usize) -> String, noise: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("input.log");
    let stored = Mutex::new(HashMap::new());
    let lines = |range: std::ops::Range<usize>| -> Vec<String> { range.map(&event).collect() };
    let write = |ls: &[String]| {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&file)
            .unwrap();
        for l in ls {
            writeln!(f, "{l}").unwrap();
            // a line that is no event in between: it moves the checkpoint, not the events
            writeln!(f, "{noise}").unwrap();
        }
    };
    let first = lines(0..10);
    write(&first);
    let (warm, new) = raw(&scan(ty, name, table, &file, &stored));
    assert!(warm.is_empty(), "{ty}: warm-up on a first run");
    assert_eq!(new, first, "{ty}: the first run");
    let second = lines(10..17);
    write(&second);
    let (warm, new) = raw(&scan(ty, name, table, &file, &stored));
    assert_eq!(
        new, second,
        "{ty}: the restart read more or less than was appended"
    );
    assert!(
        !warm.is_empty() && warm.iter().all(|w| first.contains(w)),
        "{ty}: warm-up {warm:?}"
    );
    // nothing new: nothing read, the checkpoint stays
    let before = stored.lock().unwrap().clone();
    let (_, new) = raw(&scan(ty, name, table, &file, &stored));
    assert!(new.is_empty(), "{ty}: {new:?}");
    assert_eq!(*stored.lock().unwrap(), before);
}

#[test]
fn files_resume_exactly_after_their_checkpoint() {
    check(
        "files",
        "files",
        "",
        |i| {
            format!("Mar  4 10:00:{i:02} web1 sshd[{i}]: Failed password for root from 203.0.113.5 port 40001 ssh2")
        },
        "Mar  4 10:00:00 web1 CRON[9]: (root) CMD (true)",
    );
}

#[test]
fn cowrie_resumes_exactly_after_its_checkpoint() {
    check(
        "cowrie",
        "cowrie",
        "",
        |i| {
            format!(
                r#"{{"eventid":"cowrie.login.failed","username":"root","password":"p{i}","timestamp":"2024-03-04T10:00:{i:02}Z","src_ip":"203.0.113.7","session":"s{i}"}}"#
            )
        },
        r#"{"eventid":"cowrie.client.size","timestamp":"2024-03-04T10:00:00Z","src_ip":"203.0.113.7"}"#,
    );
}

#[test]
fn a_jsonl_source_resumes_exactly_after_its_checkpoint() {
    check(
        "jsonl",
        "myapp",
        "paths = [\"/unused\"]\n[kinds]\nlogin_failed = \"auth.failure\"\n",
        |i| {
            format!(
                r#"{{"time":"2024-03-04T10:00:{i:02}Z","event":"login_failed","src_ip":"198.51.100.{i}"}}"#
            )
        },
        r#"{"event":"page_view"}"#,
    );
}

/// Regression: globs were expanded only at start, so a file that matches later (`g2.log`,
/// created after the daemon started) was never read. Live, a file source expands its globs
/// again and follows a new match from its start.
#[test]
fn a_file_that_matches_a_glob_after_the_start_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    let line = |n: u32| {
        format!(
            "Mar  4 10:00:0{n} h sshd[{n}]: Failed password for root from 192.0.2.{n} port 22 ssh2"
        )
    };
    std::fs::write(dir.path().join("g1.log"), "").unwrap();
    let table = format!("paths = [{:?}]\n", dir.path().join("g*.log"));
    let spec =
        (source_type("files").unwrap().parse)("files", toml::from_str(&table).unwrap()).unwrap();
    let lookup = |_: &str| None;
    let cx = OpenCx {
        checkpoint: &lookup,
        time: TimeContext::utc().with_year(Some(2024)),
        host: "h".into(),
        from_start: false,
        ignore_checkpoints: false,
        files: None,
        batch_size: 4,
        max_batch_size: 4,
        poll_interval: Duration::from_millis(20),
        mode: Mode::Follow,
    };
    let mut source = spec.open("files", &cx).unwrap().expect("a source");
    struct Send(std::sync::mpsc::Sender<Vec<String>>);
    impl Emit for Send {
        fn emit(&mut self, b: Batch) {
            let _ = self
                .0
                .send(b.events.iter().map(|e| e.raw.to_string()).collect());
        }
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let stop = Stop::new();
    let board = HealthBoard::default();
    let (stop2, slot) = (stop.clone(), board.slot(0, "files"));
    let runner = std::thread::spawn(move || {
        let mut out = Send(tx);
        let mut scx = SourceCx {
            out: &mut out,
            mode: Mode::Follow,
            stop: &stop2,
            health: slot,
        };
        source.run(&mut scx).unwrap();
    });
    std::thread::sleep(Duration::from_millis(100));
    // made after the start: read from its start
    std::fs::write(
        dir.path().join("g2.log"),
        format!("{}\n{}\n", line(1), line(2)),
    )
    .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut got = vec![];
    while got.len() < 2 && std::time::Instant::now() < deadline {
        if let Ok(lines) = rx.recv_timeout(Duration::from_millis(50)) {
            got.extend(lines);
        }
    }
    stop.stop();
    runner.join().unwrap();
    assert_eq!(got, vec![line(1), line(2)]);
    let paths: Vec<String> = board.snapshot().into_iter().map(|s| s.path).collect();
    assert!(paths.iter().any(|p| p.ends_with("g2.log")), "{paths:?}");
}
