//! Per-stage throughput on the project's generated auth.log: parse (bytes → events), detect
//! (events → alerts, one shard) and store (alerts → SQLite, one transaction per 32 batches of
//! 1024 events, as the writer groups them when the reader is ahead). `cargo bench -p tripline --bench stages`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::sync::Arc;
use tripline::gen;
use tripline_detect::{DetectConfig, Output, Rules};
use tripline_event::{Alert, Event, SensorKind, SourcePos, Timestamp};
use tripline_sensors::{decode_lossy, LineParser, TimeContext};
use tripline_store::Store;

const LINES: u64 = 200_000;
const START: i64 = 1_700_000_000;

fn log() -> Vec<u8> {
    let mut out = vec![];
    gen::auth_log(&mut out, LINES, 1, START).expect("generate");
    out
}

fn parser() -> LineParser {
    LineParser::new(
        TimeContext::utc().with_year(Some(2023)),
        SensorKind::Files,
        "gen-host",
    )
}

fn parse_all(log: &[u8]) -> Vec<Event> {
    let mut out = vec![];
    parse_each(log, |ev| out.push(ev));
    out
}

fn parse_each(log: &[u8], mut f: impl FnMut(Event)) {
    let mut p = parser();
    for (i, line) in log.split(|b| *b == b'\n').enumerate() {
        let pos = SourcePos {
            source: 0,
            offset: i as u64,
        };
        if let Some(ev) = p.event(&decode_lossy(line), Timestamp(0), pos) {
            f(ev);
        }
    }
}

/// Events through one shard, flushed every 1024 events; returns each flush's alerts.
fn detect_all(events: &[Event]) -> Vec<Vec<Alert>> {
    let mut det = Rules::new(Arc::new(DetectConfig::default()), vec![], 0, 1);
    let mut out = vec![];
    for chunk in events.chunks(1024) {
        for ev in chunk {
            det.process(ev);
        }
        out.push(
            det.flush()
                .into_iter()
                .filter_map(|o| match o {
                    Output::Alert(a) => Some(a),
                    Output::State(_) | Output::Closed(_) => None,
                })
                .collect(),
        );
    }
    out
}

fn stages(c: &mut Criterion) {
    let log = log();
    let lines = log.split(|b| *b == b'\n').count() as u64;
    let events = parse_all(&log);
    // the writer commits consecutive batches together, each alert once in its latest state
    let groups: Vec<Vec<Alert>> = detect_all(&events)
        .chunks(32)
        .map(|c| {
            let mut latest = std::collections::HashMap::new();
            for a in c.iter().flatten() {
                latest.insert(a.id.clone(), a.clone());
            }
            latest.into_values().collect()
        })
        .collect();
    let alerts: usize = groups.iter().map(Vec::len).sum();

    let mut g = c.benchmark_group("stages");
    g.sample_size(10);
    g.throughput(Throughput::Elements(lines));
    g.bench_function("parse (lines)", |b| {
        b.iter(|| {
            let mut n = 0u64;
            parse_each(&log, |ev| n += ev.count as u64);
            n
        });
    });
    g.throughput(Throughput::Elements(events.len() as u64));
    g.bench_function("detect (events)", |b| {
        b.iter(|| detect_all(&events).len());
    });
    g.throughput(Throughput::Elements(alerts as u64));
    g.bench_function("store (alert writes)", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("tempdir");
                let store = Store::open(&dir.path().join("bench.db")).expect("open");
                (dir, store)
            },
            |(dir, mut store)| {
                for group in &groups {
                    store.commit(group, &[], &[]).expect("commit");
                }
                drop(store);
                drop(dir);
            },
            BatchSize::PerIteration,
        );
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
