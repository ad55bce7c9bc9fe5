//! Isolation Forest (Liu, Ting & Zhou, 2008), with scikit-learn's choices where the paper
//! leaves room: ψ = min(`max_samples`, n) rows per tree drawn without replacement, trees grown
//! to ⌈log2 ψ⌉ levels, a split on a random feature that is not constant in the node at a
//! threshold drawn uniformly between its minimum and maximum there (`x <= t` goes left), a leaf
//! holding n rows adds c(n) to its depth, and the score is 2^(−E[h(x)] / c(ψ)). Values are
//! compared as `f32`, as scikit-learn's trees do.
//!
//! Each tree draws from its own generator seeded by (seed, tree index), so a seed reproduces a
//! model exactly. A tree is stored as a complete binary tree in flat arrays: node i's children
//! are 2i+1 and 2i+2, and a leaf above the last level becomes a chain of pass-through nodes
//! (threshold `f32::MAX`, always left) down to it. Every row then takes exactly ⌈log2 ψ⌉ steps with no
//! branch to mispredict, and a block of rows walks each tree together while it sits in cache.

use crate::kernel;
use serde::{Deserialize, Serialize};

/// Euler–Mascheroni constant.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// The average path length of an unsuccessful search in a binary search tree of `n` nodes:
/// the depth a leaf of `n` rows stands for. c(0) = c(1) = 0, c(2) = 1.
pub fn c(n: usize) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        _ => {
            let n = n as f64;
            2.0 * ((n - 1.0).ln() + EULER_GAMMA) - 2.0 * (n - 1.0) / n
        }
    }
}

/// How a forest is grown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params {
    pub n_estimators: usize,
    /// ψ: rows per tree (capped at the number of rows).
    pub max_samples: usize,
    pub seed: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            n_estimators: 100,
            max_samples: 256,
            seed: 0,
        }
    }
}

/// Rows of `f32` features, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub data: Vec<f32>,
    pub cols: usize,
}

impl Matrix {
    /// `data` holds `data.len() / cols` rows.
    pub fn new(data: Vec<f32>, cols: usize) -> Matrix {
        assert!(cols > 0 && data.len().is_multiple_of(cols), "ragged matrix");
        Matrix { data, cols }
    }

    pub fn rows(&self) -> usize {
        self.data.len() / self.cols
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }
}

/// Why a forest cannot be grown.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    #[error("need at least 2 rows to grow a forest, got {0}")]
    TooFewRows(usize),
    #[error("n_estimators must be at least 1")]
    NoTrees,
    #[error("max_samples must be at least 2, got {0}")]
    TinySample(usize),
    #[error("row {row}, column {col}: {value} is not a finite number")]
    NotFinite { row: usize, col: usize, value: f32 },
    #[error("{0} features: at most 65535")]
    TooManyFeatures(usize),
}

/// One isolation tree in complete-binary layout (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Tree {
    /// Per internal node (2^h − 1): the feature it splits on.
    feature: Vec<u16>,
    /// Per internal node: rows with a value above it go right ([`PASS`]: a pass-through).
    threshold: Vec<f32>,
    /// Per last-level slot (2^h): the path length a row ending there has, depth + c(n).
    leaf: Vec<f32>,
}

/// A grown forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forest {
    trees: Vec<Tree>,
    features: usize,
    /// ψ actually used.
    psi: usize,
    /// Levels of internal nodes: ⌈log2 ψ⌉.
    height: u32,
    params: Params,
    /// The trees again in fixed-size arrays, for forests of at most 8 levels (ψ ≤ 256) and 16
    /// features ([`kernel::Packed`]), walked by the fast step. Derived from `trees`
    /// ([`Forest::prepare`]), never stored.
    #[serde(skip)]
    packed: Option<Box<[kernel::Packed]>>,
}

/// The threshold of a pass-through node: no finite value is above it (a split's threshold is
/// always below its node's maximum, so never this). Not +∞, which JSON cannot carry.
const PASS: f32 = f32::MAX;

/// A random generator per tree: SplitMix64 over (seed, tree), so trees are independent of
/// each other and of the order they are grown in.
fn tree_rng(seed: u64, tree: usize) -> fastrand::Rng {
    let mut z = seed ^ (tree as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    fastrand::Rng::with_seed(z ^ (z >> 31))
}

impl Forest {
    /// Grow a forest on `x`.
    pub fn fit(x: &Matrix, params: Params) -> Result<Forest, FitError> {
        let n = x.rows();
        if n < 2 {
            return Err(FitError::TooFewRows(n));
        }
        if params.n_estimators == 0 {
            return Err(FitError::NoTrees);
        }
        if params.max_samples < 2 {
            return Err(FitError::TinySample(params.max_samples));
        }
        if x.cols > u16::MAX as usize {
            return Err(FitError::TooManyFeatures(x.cols));
        }
        if let Some(i) = x.data.iter().position(|v| !v.is_finite()) {
            return Err(FitError::NotFinite {
                row: i / x.cols,
                col: i % x.cols,
                value: x.data[i],
            });
        }
        let psi = params.max_samples.min(n);
        let height = (psi as f64).log2().ceil() as u32;
        let mut grower = Grower {
            x,
            height,
            sample: Vec::with_capacity(psi),
            order: (0..x.cols as u16).collect(),
        };
        let mut pool: Vec<u32> = (0..n as u32).collect();
        let trees = (0..params.n_estimators)
            .map(|t| {
                let mut rng = tree_rng(params.seed, t);
                // a partial Fisher–Yates shuffle: ψ distinct rows, uniformly
                for i in 0..psi {
                    let j = rng.usize(i..n);
                    pool.swap(i, j);
                }
                grower.sample.clear();
                grower.sample.extend_from_slice(&pool[..psi]);
                grower.grow(&mut rng)
            })
            .collect();
        let mut forest = Forest {
            trees,
            features: x.cols,
            psi,
            height,
            params,
            packed: None,
        };
        forest.prepare();
        Ok(forest)
    }

    /// Build the fast scoring layout when the forest fits it (after growing, and after reading
    /// a forest from a file once [`Forest::is_consistent`] holds).
    pub fn prepare(&mut self) {
        self.packed = None;
        if self.height > 8 || self.features > kernel::FEATURES || !self.is_consistent() {
            return;
        }
        let packed: Option<Box<[kernel::Packed]>> = self
            .trees
            .iter()
            .map(|t| kernel::Packed::new(&t.threshold, &t.feature, &t.leaf))
            .collect();
        self.packed = packed;
    }

    /// Whether the arrays fit together (a model file is input like any other: scoring a
    /// forest read from one must not index out of bounds).
    pub fn is_consistent(&self) -> bool {
        if !(1..=24).contains(&self.height) || self.trees.is_empty() || self.psi < 2 {
            return false;
        }
        let internal = (1usize << self.height) - 1;
        self.features >= 1
            && self.trees.iter().all(|t| {
                t.feature.len() == internal
                    && t.threshold.len() == internal
                    && t.leaf.len() == internal + 1
                    && t.feature.iter().all(|f| (*f as usize) < self.features)
                    && t.leaf.iter().all(|v| v.is_finite())
            })
    }

    /// Features a row must have.
    pub fn features(&self) -> usize {
        self.features
    }

    /// ψ, the rows each tree was grown on.
    pub fn psi(&self) -> usize {
        self.psi
    }

    pub fn params(&self) -> Params {
        self.params
    }

    /// The mean path length of `row` over the trees, E[h(x)].
    pub fn path_length(&self, row: &[f32]) -> f64 {
        assert_eq!(row.len(), self.features, "row width");
        let first_leaf = (1usize << self.height) - 1;
        let mut sum = 0.0f64;
        for t in &self.trees {
            let mut i = 0usize;
            for _ in 0..self.height {
                let f = t.feature[i] as usize;
                i = 2 * i + 1 + (row[f] > t.threshold[i]) as usize;
            }
            sum += t.leaf[i - first_leaf] as f64;
        }
        sum / self.trees.len() as f64
    }

    /// The anomaly score of one row, in (0, 1]: near 1 isolates quickly (anomalous), about 0.5
    /// or below is ordinary. Allocates nothing.
    pub fn score(&self, row: &[f32]) -> f64 {
        self.normalise(self.path_length(row))
    }

    fn normalise(&self, mean_path: f64) -> f64 {
        (2.0f64).powf(-mean_path / c(self.psi))
    }

    /// Scores of every row of `x` into `out` (resized), on the calling thread. Rows go through
    /// the trees in blocks, each tree walked by a block of rows at once.
    pub fn score_into(&self, x: &Matrix, out: &mut Vec<f64>) {
        assert_eq!(x.cols, self.features, "row width");
        out.clear();
        out.resize(x.rows(), 0.0);
        self.score_block(&x.data, out);
    }

    /// Scores of every row of `x`, spread over rayon's threads.
    pub fn score_par(&self, x: &Matrix) -> Vec<f64> {
        use rayon::prelude::*;
        assert_eq!(x.cols, self.features, "row width");
        let mut out = vec![0.0; x.rows()];
        const CHUNK: usize = 2048;
        out.par_chunks_mut(CHUNK)
            .zip(x.data.par_chunks(CHUNK * x.cols))
            .for_each(|(o, rows)| self.score_block(rows, o));
        out
    }

    /// Score the rows in `rows` (row-major) into `out` (one slot per row).
    fn score_block(&self, rows: &[f32], out: &mut [f64]) {
        match &self.packed {
            Some(p) => self.score_block_packed(p, rows, out),
            None => self.score_block_general(rows, out),
        }
    }

    /// [`Forest::score_block`] over the packed trees: each block of rows is first copied into
    /// fixed-width rows of keys, then walked by every tree, [`kernel::LANES`] rows at a time
    /// ([`kernel::walk_lanes`]).
    fn score_block_packed(&self, packed: &[kernel::Packed], rows: &[f32], out: &mut [f64]) {
        use kernel::{BLOCK, FEATURES, LANES};
        let d = self.features;
        let h = self.height;
        let mut buf: kernel::Block = [[0u32; FEATURES]; BLOCK];
        for (rows, out) in rows.chunks(BLOCK * d).zip(out.chunks_mut(BLOCK)) {
            let n = rows.len() / d;
            for (b, r) in buf.iter_mut().zip(rows.chunks_exact(d)) {
                for (k, v) in b.iter_mut().zip(r) {
                    *k = kernel::key(*v);
                }
            }
            let full = n / LANES * LANES;
            let mut sums = [0.0f32; BLOCK];
            for t in packed {
                for (first, sums) in (0..full).step_by(LANES).zip(sums.chunks_exact_mut(LANES)) {
                    for (s, p) in sums.iter_mut().zip(kernel::walk_lanes(t, &buf, first, h)) {
                        *s += p;
                    }
                }
                for (s, row) in sums[full..n].iter_mut().zip(&buf[full..n]) {
                    *s += t.path(row, h);
                }
            }
            let trees = packed.len() as f64;
            for (o, s) in out.iter_mut().zip(sums.iter()) {
                *o = self.normalise(*s as f64 / trees);
            }
        }
    }

    /// [`Forest::score_block`] over the trees as grown (any height).
    fn score_block_general(&self, rows: &[f32], out: &mut [f64]) {
        const LANES: usize = 8;
        const BLOCK: usize = 256;
        let d = self.features;
        let first_leaf = (1usize << self.height) - 1;
        for (rows, out) in rows.chunks(BLOCK * d).zip(out.chunks_mut(BLOCK)) {
            let mut sums = [0.0f32; BLOCK];
            for t in &self.trees {
                let (feat, thr, leaf) = (&t.feature[..], &t.threshold[..], &t.leaf[..]);
                let mut lanes = rows.chunks_exact(LANES * d);
                let mut at = 0;
                for group in &mut lanes {
                    let mut idx = [0usize; LANES];
                    for _ in 0..self.height {
                        for (l, i) in idx.iter_mut().enumerate() {
                            let f = feat[*i] as usize;
                            let v = group[l * d + f];
                            *i = 2 * *i + 1 + (v > thr[*i]) as usize;
                        }
                    }
                    for (l, i) in idx.iter().enumerate() {
                        sums[at + l] += leaf[i - first_leaf];
                    }
                    at += LANES;
                }
                for row in lanes.remainder().chunks_exact(d) {
                    let mut i = 0usize;
                    for _ in 0..self.height {
                        i = 2 * i + 1 + (row[feat[i] as usize] > thr[i]) as usize;
                    }
                    sums[at] += leaf[i - first_leaf];
                    at += 1;
                }
            }
            let n = self.trees.len() as f64;
            for (o, s) in out.iter_mut().zip(sums.iter()) {
                *o = self.normalise(*s as f64 / n);
            }
        }
    }

    /// For `row`, how much each feature did to isolate it: over every tree, each split on the
    /// row's path counts for its feature, weighted 1 / (depth + 1) — a split near the root
    /// isolates more. Pass-through nodes count nothing. Sums to 1 over the features (all zero
    /// when no split was taken).
    pub fn attribution(&self, row: &[f32], out: &mut [f64]) {
        assert_eq!(row.len(), self.features, "row width");
        assert_eq!(out.len(), self.features, "one slot per feature");
        out.iter_mut().for_each(|v| *v = 0.0);
        for t in &self.trees {
            let mut i = 0usize;
            for depth in 0..self.height {
                let f = t.feature[i] as usize;
                if t.threshold[i] < PASS {
                    out[f] += 1.0 / (depth as f64 + 1.0);
                }
                i = 2 * i + 1 + (row[f] > t.threshold[i]) as usize;
            }
        }
        let total: f64 = out.iter().sum();
        if total > 0.0 {
            out.iter_mut().for_each(|v| *v /= total);
        }
    }
}

/// Grows one tree at a time, reusing its buffers.
struct Grower<'a> {
    x: &'a Matrix,
    height: u32,
    /// The tree's rows; partitioned in place as the tree grows.
    sample: Vec<u32>,
    /// Feature indices, shuffled per node.
    order: Vec<u16>,
}

impl Grower<'_> {
    fn grow(&mut self, rng: &mut fastrand::Rng) -> Tree {
        let internal = (1usize << self.height) - 1;
        let mut tree = Tree {
            feature: vec![0; internal],
            threshold: vec![PASS; internal],
            leaf: vec![0.0; internal + 1],
        };
        let n = self.sample.len();
        self.node(&mut tree, rng, 0, 0, 0, n);
        tree
    }

    /// Grow node `i` at `depth` over `sample[lo..hi]`.
    fn node(
        &mut self,
        tree: &mut Tree,
        rng: &mut fastrand::Rng,
        i: usize,
        depth: u32,
        lo: usize,
        hi: usize,
    ) {
        let n = hi - lo;
        if depth == self.height || n <= 1 {
            return self.leaf(tree, i, depth, n);
        }
        let d = self.x.cols;
        // features in random order until one is not constant here (scikit-learn draws without
        // replacement and skips constant ones the same way)
        for k in 0..d {
            let j = rng.usize(k..d);
            self.order.swap(k, j);
            let f = self.order[k] as usize;
            let (mut min, mut max) = (f32::INFINITY, f32::NEG_INFINITY);
            for &r in &self.sample[lo..hi] {
                let v = self.x.data[r as usize * d + f];
                min = min.min(v);
                max = max.max(v);
            }
            // scikit-learn's FEATURE_THRESHOLD: a range this small counts as constant
            if max <= min + 1e-7 {
                continue;
            }
            let mut t = (min as f64 + rng.f64() * (max as f64 - min as f64)) as f32;
            if t >= max {
                t = min;
            }
            // partition: values <= t first
            let rows = &mut self.sample[lo..hi];
            let mut left = 0;
            for k in 0..rows.len() {
                if self.x.data[rows[k] as usize * d + f] <= t {
                    rows.swap(left, k);
                    left += 1;
                }
            }
            tree.feature[i] = f as u16;
            tree.threshold[i] = t;
            let mid = lo + left;
            self.node(tree, rng, 2 * i + 1, depth + 1, lo, mid);
            self.node(tree, rng, 2 * i + 2, depth + 1, mid, hi);
            return;
        }
        self.leaf(tree, i, depth, n)
    }

    /// Node `i` at `depth` holds `n` rows: every row reaching it walks left to the last level,
    /// where its path length is stored.
    fn leaf(&self, tree: &mut Tree, mut i: usize, depth: u32, n: usize) {
        for _ in depth..self.height {
            // pass-through (the arrays start that way: feature 0, threshold PASS)
            i = 2 * i + 1;
        }
        let first_leaf = (1usize << self.height) - 1;
        tree.leaf[i - first_leaf] = (depth as f64 + c(n)) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(n: usize, seed: u64) -> Matrix {
        let mut rng = fastrand::Rng::with_seed(seed);
        let data = (0..n * 2).map(|_| rng.f32() * 2.0 - 1.0).collect();
        Matrix::new(data, 2)
    }

    #[test]
    fn c_matches_the_paper() {
        assert_eq!(c(1), 0.0);
        assert_eq!(c(2), 1.0);
        // 2 H(255) − 2·255/256, H(i) ≈ ln i + γ
        let want = 2.0 * (255f64.ln() + EULER_GAMMA) - 2.0 * 255.0 / 256.0;
        assert!((c(256) - want).abs() < 1e-12);
        assert!((c(256) - 10.244_770_8).abs() < 1e-6);
    }

    #[test]
    fn a_hand_computable_forest() {
        // two distinct rows: one split, each alone in its leaf at depth 1
        let x = Matrix::new(vec![0.0, 10.0], 1);
        let f = Forest::fit(
            &x,
            Params {
                n_estimators: 3,
                max_samples: 256,
                seed: 7,
            },
        )
        .unwrap();
        assert_eq!((f.psi(), f.height), (2, 1));
        assert_eq!(f.path_length(&[0.0]), 1.0);
        assert_eq!(f.path_length(&[10.0]), 1.0);
        // E[h] = 1 = c(2): score 2^-1
        assert_eq!(f.score(&[0.0]), 0.5);
        // identical rows cannot be split: a leaf of 4 at the root, path c(4)
        let same = Matrix::new(vec![3.0; 4], 1);
        let f = Forest::fit(
            &same,
            Params {
                n_estimators: 2,
                max_samples: 4,
                seed: 1,
            },
        )
        .unwrap();
        assert!((f.path_length(&[3.0]) - c(4)).abs() < 1e-6);
        assert!((f.score(&[3.0]) - 0.5).abs() < 1e-6);
        // three rows 0, 1, 100 on one feature: 100 is isolated first far more often
        let x = Matrix::new(vec![0.0, 1.0, 100.0], 1);
        let f = Forest::fit(
            &x,
            Params {
                n_estimators: 200,
                max_samples: 3,
                seed: 3,
            },
        )
        .unwrap();
        assert!(f.path_length(&[100.0]) < f.path_length(&[0.5]));
    }

    #[test]
    fn scores_are_in_the_open_unit_interval_and_outliers_score_higher() {
        let x = blob(1000, 1);
        let f = Forest::fit(&x, Params::default()).unwrap();
        let mut s = vec![];
        f.score_into(&x, &mut s);
        assert!(s.iter().all(|v| *v > 0.0 && *v < 1.0));
        let mut sorted = s.clone();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[sorted.len() / 2];
        for far in [[50.0, 50.0], [-9.0, 0.0], [0.0, 1e6]] {
            assert!(f.score(&far) > median, "{far:?}");
        }
        // beyond a corner: as isolated as the most extreme rows there, in the top 2 %
        assert!(f.score(&[50.0, 50.0]) >= sorted[sorted.len() * 98 / 100]);
    }

    #[test]
    fn a_seed_reproduces_the_model_and_another_seed_does_not() {
        let x = blob(600, 2);
        let p = Params {
            seed: 42,
            ..Params::default()
        };
        let a = Forest::fit(&x, p).unwrap();
        assert_eq!(a, Forest::fit(&x, p).unwrap());
        assert_ne!(a, Forest::fit(&x, Params { seed: 43, ..p }).unwrap());
    }

    #[test]
    fn every_scoring_path_agrees() {
        let x = blob(3001, 3); // not a multiple of the block or the lanes
        let f = Forest::fit(
            &x,
            Params {
                seed: 9,
                ..Params::default()
            },
        )
        .unwrap();
        let mut one_thread = vec![];
        f.score_into(&x, &mut one_thread);
        let par = f.score_par(&x);
        for i in 0..x.rows() {
            let single = f.score(x.row(i));
            assert!((one_thread[i] - single).abs() < 1e-6, "row {i}");
            assert_eq!(one_thread[i], par[i], "row {i}");
        }
    }

    #[test]
    fn attribution_names_the_feature_that_isolates() {
        // feature 1 is noise around 0; the outlier differs only in feature 0
        let mut rng = fastrand::Rng::with_seed(5);
        let mut data = vec![];
        for _ in 0..500 {
            data.extend([rng.f32(), rng.f32()]);
        }
        let f = Forest::fit(&Matrix::new(data, 2), Params::default()).unwrap();
        let mut a = [0.0; 2];
        f.attribution(&[40.0, 0.5], &mut a);
        assert!(a[0] > a[1], "{a:?}");
        assert!((a.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn bad_input_is_refused_with_the_place() {
        let p = Params::default();
        assert_eq!(
            Forest::fit(&Matrix::new(vec![1.0], 1), p),
            Err(FitError::TooFewRows(1))
        );
        let e = Forest::fit(&Matrix::new(vec![1.0, 2.0, f32::NAN, 4.0], 2), p).unwrap_err();
        assert_eq!(e.to_string(), "row 1, column 0: NaN is not a finite number");
        let e = Forest::fit(&Matrix::new(vec![1.0, f32::INFINITY], 1), p).unwrap_err();
        assert!(matches!(e, FitError::NotFinite { row: 1, col: 0, .. }));
        let x = blob(10, 1);
        assert_eq!(
            Forest::fit(
                &x,
                Params {
                    n_estimators: 0,
                    ..p
                }
            ),
            Err(FitError::NoTrees)
        );
    }
}
