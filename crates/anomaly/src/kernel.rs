//! The inner loop of batch scoring: [`LANES`] rows walking one tree of at most 8 levels.
//!
//! A tree is packed as an implicit heap counted from 1 (node i's children are 2i and 2i + 1),
//! thresholds and row values as order-preserving integer keys ([`key`]). A step is then
//! `i = 2i + (threshold[i] < row[feature[i]])`, and on x86-64 that is four instructions: load
//! the feature, load the row's value for it, compare the threshold in memory against it — the
//! carry flag is the borrow, set exactly when the row goes right — and `adc i, i`, which
//! doubles the index and adds the carry. The compiler writes the same step as eight or nine (a
//! flag read into a register, its widening, an `lea`, index masks for the bounds checks), and
//! a row takes 100 trees × 8 levels = 800 steps. A step needs one scratch register, so ten rows
//! (ten chains of dependent loads for the processor to overlap) fit in the registers at once.
//! This is why the crate allows `unsafe` here and nowhere else: measured, the assembly step
//! takes batch scoring on one thread from 1.5M to 2.4–2.5M rows/s on the benchmark machine
//! (`docs/BENCHMARKS.md`).
//!
//! Safety rests on invariants this module establishes itself, not on its callers: a
//! [`Packed`] tree is only built by [`Packed::new`], which stores every feature below
//! [`FEATURES`]; [`walk_lanes`] checks the height (≤ 8) and that [`LANES`] rows follow `first`
//! in the block, so node indices stay below 256 and every row read stays inside those rows. Other
//! targets run the same step in safe Rust with masked indices.
#![allow(unsafe_code)]

/// Most features a packed tree takes (a row in a [`Block`] has this many keys).
pub(crate) const FEATURES: usize = 16;

/// Rows a block holds: a multiple of [`LANES`], the block's keys in a quarter of L1.
pub(crate) const BLOCK: usize = 26 * LANES;

/// Rows walked together, each an independent chain of loads for the processor to overlap:
/// as many as the registers hold (12 spill and run slower than 10, 8 leave the processor
/// waiting on loads).
pub(crate) const LANES: usize = 10;

/// A block of rows as keys, each row padded to [`FEATURES`].
pub(crate) type Block = [[u32; FEATURES]; BLOCK];

/// An unsigned integer in the order of the float: `a > b` exactly when `key(a) > key(b)`,
/// for every value a row may hold against every threshold a forest has (thresholds are finite;
/// ±0 are equal; a NaN value goes left, as `NaN > t` is false).
pub(crate) fn key(v: f32) -> u32 {
    if v.is_nan() {
        return 0;
    }
    let bits = (v + 0.0).to_bits(); // −0 becomes +0
    if bits >> 31 == 1 {
        !bits
    } else {
        bits | 1 << 31
    }
}

/// One tree of at most 8 levels as a heap from 1: node i's threshold key and feature (slot 0
/// unused), leaf slot j's path length. `repr(C)` so the assembly finds `feature` at a fixed
/// offset from `threshold`.
#[derive(Debug, Clone, PartialEq)]
#[repr(C)]
pub(crate) struct Packed {
    threshold: [u32; 256],
    feature: [u8; 256],
    leaf: [f32; 256],
}

impl Packed {
    /// Pack a complete tree of internal nodes 0.. (children 2i+1, 2i+2) and its last-level
    /// leaves; `None` when it has more than 8 levels or a feature of [`FEATURES`] or more.
    pub(crate) fn new(threshold: &[f32], feature: &[u16], leaf: &[f32]) -> Option<Packed> {
        if threshold.len() > 255
            || feature.len() != threshold.len()
            || leaf.len() > 256
            || feature.iter().any(|f| *f as usize >= FEATURES)
        {
            return None;
        }
        let mut p = Packed {
            threshold: [u32::MAX; 256],
            feature: [0; 256],
            leaf: [0.0; 256],
        };
        for (i, (t, f)) in threshold.iter().zip(feature).enumerate() {
            p.threshold[i + 1] = key(*t);
            p.feature[i + 1] = *f as u8;
        }
        p.leaf[..leaf.len()].copy_from_slice(leaf);
        Some(p)
    }

    /// The path length of one row of keys through `h` levels (safe Rust, for the rows left
    /// over after the groups of [`LANES`]).
    pub(crate) fn path(&self, row: &[u32; FEATURES], h: u32) -> f32 {
        let mut i = 1usize;
        for _ in 0..h {
            i = step(self, row, i);
        }
        self.leaf[(i - (1 << h)) & 255]
    }
}

/// One step in safe Rust; the indices are masked, which the invariants make no-ops.
fn step(t: &Packed, row: &[u32; FEATURES], i: usize) -> usize {
    let f = t.feature[i & 255] as usize & (FEATURES - 1);
    2 * i + (t.threshold[i & 255] < row[f]) as usize
}

/// The path lengths of rows `first..first + LANES` of `block` through tree `t` of `h` levels.
pub(crate) fn walk_lanes(t: &Packed, block: &Block, first: usize, h: u32) -> [f32; LANES] {
    assert!(h <= 8, "a packed tree has at most 8 levels");
    let rows = block[first..]
        .first_chunk::<LANES>()
        .expect("LANES rows follow the first"); // before any unchecked read
    let idx = walk(t, rows, h);
    idx.map(|i| t.leaf[(i - (1 << h)) & 255])
}

#[cfg(target_arch = "x86_64")]
fn walk(t: &Packed, rows: &[[u32; FEATURES]; LANES], h: u32) -> [usize; LANES] {
    use std::arch::asm;
    debug_assert!(h <= 8);
    let p = t as *const Packed;
    let r = rows.as_ptr();
    let mut i = [1usize; LANES];
    // One step of lane $l: before step k of h ≤ 8, i is below 2^(k+1) ≤ 256, so it indexes
    // inside `threshold` and `feature`; the feature is below FEATURES, so the row read stays
    // inside row $l of `rows`. Nothing is written.
    macro_rules! step {
        ($l:literal) => {
            // SAFETY: see above; reads only, no stack, flags clobbered (asm's default).
            unsafe {
                asm!(
                    "movzx {f:e}, byte ptr [{p} + {i} + {fo}]",
                    "mov {f:e}, dword ptr [{r} + {f}*4 + {ro}]",
                    "cmp dword ptr [{p} + {i}*4], {f:e}",
                    "adc {i}, {i}",
                    i = inout(reg) i[$l],
                    f = out(reg) _,
                    p = in(reg) p,
                    r = in(reg) r,
                    fo = const std::mem::offset_of!(Packed, feature),
                    ro = const $l * FEATURES * 4,
                    options(pure, readonly, nostack),
                );
            }
        };
    }
    for _ in 0..h {
        step!(0);
        step!(1);
        step!(2);
        step!(3);
        step!(4);
        step!(5);
        step!(6);
        step!(7);
        step!(8);
        step!(9);
    }
    i
}

/// The walk in safe Rust: the step on other targets, and the reference the assembly is tested
/// against.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn walk_safe(t: &Packed, rows: &[[u32; FEATURES]; LANES], h: u32) -> [usize; LANES] {
    let mut i = [1usize; LANES];
    for _ in 0..h {
        for (i, row) in i.iter_mut().zip(rows) {
            *i = step(t, row, *i);
        }
    }
    i
}

#[cfg(not(target_arch = "x86_64"))]
use walk_safe as walk;

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree of 3 levels over two features, walked by the assembly and the safe step alike.
    #[test]
    fn the_fast_walk_and_the_safe_step_agree() {
        // internal nodes 0..7 (children 2i+1, 2i+2), leaves 0..8 numbered by path
        let thr = [0.5, -1.0, 2.0, 0.0, 0.0, 1.0, 3.0];
        let feat = [0u16, 1, 1, 0, 1, 0, 0];
        let leaf: Vec<f32> = (0..8).map(|j| j as f32).collect();
        let t = Packed::new(&thr, &feat, &leaf).unwrap();
        let mut block: Block = [[0; FEATURES]; BLOCK];
        let vals = [
            [0.0, -2.0],
            [0.6, 2.5],
            [0.5, -1.0],
            [f32::NAN, 5.0],
            [-0.0, 0.0],
            [10.0, 1.5],
            [0.7, -3.0],
            [0.2, 0.1],
        ];
        for (b, v) in block.iter_mut().zip(vals.iter().cycle()).take(16) {
            b[0] = key(v[0]);
            b[1] = key(v[1]);
        }
        for first in [0, 8, 3] {
            let rows = block[first..].first_chunk::<LANES>().unwrap();
            assert_eq!(walk(&t, rows, 3), walk_safe(&t, rows, 3));
            let fast = walk_lanes(&t, &block, first, 3);
            for (l, got) in fast.iter().enumerate() {
                assert_eq!(*got, t.path(&block[first + l], 3), "row {}", first + l);
            }
        }
        // by hand: row [0.0, -2.0] goes left at the root (0.0 <= 0.5), left at node 1
        // (-2.0 <= -1.0), then node 3 splits feature 0 at 0.0: 0.0 <= 0.0, left: leaf 0;
        // row [0.6, 2.5]: right (0.6 > 0.5), node 2 feature 1 at 2.0: right, node 6 feature
        // 0 at 3.0: left: leaf 6
        let fast = walk_lanes(&t, &block, 0, 3);
        assert_eq!(fast[0], 0.0);
        assert_eq!(fast[1], 6.0);
    }

    #[test]
    fn keys_order_as_the_floats_compare() {
        let mut v = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            f32::MIN_POSITIVE,
            -f32::MIN_POSITIVE,
            1e-45,
            -1e-45,
            f32::MAX,
            f32::MIN,
            f32::NAN,
        ];
        let mut rng = fastrand::Rng::with_seed(2);
        v.extend((0..200).map(|_| (rng.f32() - 0.5) * 10f32.powi(rng.i32(-20..20))));
        // thresholds are finite (fit refuses the rest); a value may be NaN
        for a in &v {
            for b in v.iter().filter(|b| !b.is_nan()) {
                assert_eq!(key(*a) > key(*b), a > b, "{a} > {b}");
            }
        }
    }

    /// Random full trees of every height against random rows (NaN, ±0 and the extremes
    /// among the values): the assembly lands on the leaf the safe step does.
    #[test]
    fn the_fast_walk_agrees_on_random_trees() {
        let mut rng = fastrand::Rng::with_seed(11);
        let special = [0.0, -0.0, f32::NAN, f32::MAX, f32::MIN, 1e-45];
        let value = |rng: &mut fastrand::Rng| {
            if rng.u8(..8) == 0 {
                special[rng.usize(..special.len())]
            } else {
                (rng.f32() - 0.5) * 4.0
            }
        };
        let mut block: Block = [[0; FEATURES]; BLOCK];
        for row in block.iter_mut() {
            for k in row.iter_mut() {
                *k = key(value(&mut rng));
            }
        }
        for h in 1..=8u32 {
            let internal = (1usize << h) - 1;
            let thr: Vec<f32> = (0..internal)
                .map(|_| value(&mut rng))
                .map(|v| if v.is_nan() { 0.5 } else { v })
                .collect();
            let feat: Vec<u16> = (0..internal).map(|_| rng.u16(..FEATURES as u16)).collect();
            let leaf: Vec<f32> = (0..=internal).map(|j| j as f32).collect();
            let t = Packed::new(&thr, &feat, &leaf).unwrap();
            for first in (0..BLOCK - LANES).step_by(7) {
                let rows = block[first..].first_chunk::<LANES>().unwrap();
                assert_eq!(
                    walk(&t, rows, h),
                    walk_safe(&t, rows, h),
                    "h {h} row {first}"
                );
            }
        }
    }

    #[test]
    fn a_tree_past_the_packed_limits_is_refused() {
        assert!(Packed::new(&[0.0; 256], &[0; 256], &[0.0; 257]).is_none());
        assert!(Packed::new(&[0.0], &[16], &[0.0, 0.0]).is_none());
        assert!(Packed::new(&[0.0], &[15], &[0.0, 0.0]).is_some());
    }

    #[test]
    #[should_panic]
    fn every_lane_needs_a_row() {
        let t = Packed::new(&[0.0], &[0], &[0.0, 1.0]).unwrap();
        let block: Block = [[0; FEATURES]; BLOCK];
        walk_lanes(&t, &block, BLOCK - 4, 1);
    }
}
