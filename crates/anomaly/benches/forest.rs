//! The forest's speed: fitting 100 trees × 256 rows, batch scoring on one thread and on all,
//! and one row at a time. Data: ODDS annthyroid (7,200 rows, 6 features) from
//! `../shared/data/odds/`, repeated to 100k rows for the batch.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use tripline_anomaly::data::read_csv;
use tripline_anomaly::{Forest, Matrix, Params};

fn annthyroid() -> Matrix {
    let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/odds/annthyroid.csv");
    read_csv(&p).unwrap_or_else(|e| panic!("{e}")).x
}

fn bench(c: &mut Criterion) {
    let x = annthyroid();
    let mut g = c.benchmark_group("forest");
    g.bench_function("fit 100 trees x 256", |b| {
        b.iter(|| Forest::fit(black_box(&x), Params::default()).unwrap())
    });
    let f = Forest::fit(&x, Params::default()).unwrap();
    let mut big = Vec::with_capacity(100_000 * x.cols);
    while big.len() < 100_000 * x.cols {
        big.extend_from_slice(&x.data);
    }
    big.truncate(100_000 * x.cols);
    let big = Matrix::new(big, x.cols);
    g.throughput(Throughput::Elements(big.rows() as u64));
    let mut out = vec![];
    g.bench_function("score 100k rows, one thread", |b| {
        b.iter(|| f.score_into(black_box(&big), &mut out))
    });
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        g.bench_function(format!("score 100k rows, rayon {threads} threads"), |b| {
            b.iter(|| pool.install(|| f.score_par(black_box(&big))))
        });
    }
    g.throughput(Throughput::Elements(1));
    let mut i = 0;
    g.bench_function("score one row", |b| {
        b.iter_batched(
            || {
                i = (i + 1) % x.rows();
                i
            },
            |i| f.score(black_box(x.row(i))),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
