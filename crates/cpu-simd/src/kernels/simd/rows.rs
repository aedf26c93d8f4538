//! Row-wise kernels over [`Lanes`]: softmax and layer normalisation of a row-major matrix.
//!
//! A row of up to a few thousand floats stays in L1 after its first read, so the extra passes
//! below cost cache bandwidth, not memory bandwidth: each element is read from memory once and
//! written once. (An online max-and-sum pass would need two `exp` per element to save a pass
//! over L1, which does not pay at these row lengths.)

use super::elementwise::{UnaryOp, map_in_place};
use super::lanes::{Lanes, One};
use super::math;
use super::reduce::{MaxOp, SumOp, reduce};

/// `out = softmax(x)` along each row of `cols` elements.
#[inline(always)]
pub(crate) fn softmax_rows<S: Lanes>(s: S, x: &[f32], cols: usize, out: &mut [f32]) {
    assert_eq!(x.len(), out.len(), "input and output lengths differ");
    if cols == 0 {
        return;
    }
    assert_eq!(x.len() % cols, 0, "length is not a multiple of cols");
    for (row, o) in x.chunks_exact(cols).zip(out.chunks_exact_mut(cols)) {
        let max = reduce(s, MaxOp, row);
        let sum = exp_shifted_sum(s, row, max, o);
        map_in_place(s, Scale(1.0 / sum), o);
    }
}

/// Writes `e^(x - shift)` to `out` and returns its sum. Two vectors per step with separate
/// accumulators, so the sum's add latency does not serialise the (independent) exps.
#[inline(always)]
fn exp_shifted_sum<S: Lanes>(s: S, x: &[f32], shift: f32, out: &mut [f32]) -> f32 {
    let n = x.len();
    let w = S::WIDTH;
    let body2 = n - n % (2 * w);
    let body = n - n % w;
    let (px, po) = (x.as_ptr(), out.as_mut_ptr());
    let m = s.splat(shift);
    let mut acc = [s.splat(0.0); 2];
    let mut i = 0;
    while i < body2 {
        for (k, a) in acc.iter_mut().enumerate() {
            // SAFETY: i + 2·WIDTH <= n for both slices.
            unsafe {
                let e = math::exp(s, s.sub(s.load(px.add(i + k * w)), m));
                s.store(po.add(i + k * w), e);
                *a = s.add(*a, e);
            }
        }
        i += 2 * w;
    }
    while i < body {
        // SAFETY: i + WIDTH <= n for both slices.
        unsafe {
            let e = math::exp(s, s.sub(s.load(px.add(i)), m));
            s.store(po.add(i), e);
            acc[0] = s.add(acc[0], e);
        }
        i += w;
    }
    let mut sum = s.reduce_add(s.add(acc[0], acc[1]));
    for j in body..n {
        let e = math::exp(One, x[j] - shift);
        out[j] = e;
        sum += e;
    }
    sum
}

#[derive(Debug, Clone, Copy)]
struct Scale(f32);
impl UnaryOp for Scale {
    #[inline(always)]
    fn apply<S: Lanes>(self, s: S, x: S::V) -> S::V {
        s.mul(x, s.splat(self.0))
    }
}

/// `out = (x - mean) / sqrt(var + eps) · gamma + beta` along each row of `gamma.len()` elements.
/// Mean and variance take two passes over the (L1-resident) row, which is exact where the
/// one-pass `E[x²] - E[x]²` form would cancel.
#[inline(always)]
pub(crate) fn layer_norm_rows<S: Lanes>(
    s: S,
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    eps: f32,
    out: &mut [f32],
) {
    let cols = gamma.len();
    assert_eq!(beta.len(), cols, "gamma and beta lengths differ");
    assert_eq!(x.len(), out.len(), "input and output lengths differ");
    if cols == 0 {
        return;
    }
    assert_eq!(x.len() % cols, 0, "length is not a multiple of gamma.len()");
    for (row, o) in x.chunks_exact(cols).zip(out.chunks_exact_mut(cols)) {
        let mean = reduce(s, SumOp, row) / cols as f32;
        let var = centered_square_sum(s, row, mean) / cols as f32;
        let rstd = 1.0 / (var + eps).sqrt();
        normalize(s, row, gamma, beta, mean, rstd, o);
    }
}

/// `Σ (x - mean)²` with four accumulators.
#[inline(always)]
fn centered_square_sum<S: Lanes>(s: S, x: &[f32], mean: f32) -> f32 {
    let n = x.len();
    let body = n - n % S::WIDTH;
    let p = x.as_ptr();
    let m = s.splat(mean);
    let mut acc = [s.splat(0.0); 4];
    let mut i = 0;
    let mut k = 0;
    while i < body {
        // SAFETY: i + WIDTH <= n.
        let d = s.sub(unsafe { s.load(p.add(i)) }, m);
        acc[k] = s.fma(d, d, acc[k]);
        k = (k + 1) & 3;
        i += S::WIDTH;
    }
    let v = s.add(s.add(acc[0], acc[1]), s.add(acc[2], acc[3]));
    let mut sum = s.reduce_add(v);
    for &t in &x[body..] {
        sum += (t - mean) * (t - mean);
    }
    sum
}

#[inline(always)]
fn normalize<S: Lanes>(
    s: S,
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    mean: f32,
    rstd: f32,
    out: &mut [f32],
) {
    let n = x.len();
    let body = n - n % S::WIDTH;
    let (px, pg, pb, po) = (x.as_ptr(), gamma.as_ptr(), beta.as_ptr(), out.as_mut_ptr());
    let (m, r) = (s.splat(mean), s.splat(rstd));
    let mut i = 0;
    while i < body {
        // SAFETY: all four slices have length n and i + WIDTH <= n.
        unsafe {
            let xhat = s.mul(s.sub(s.load(px.add(i)), m), r);
            s.store(po.add(i), s.fma(xhat, s.load(pg.add(i)), s.load(pb.add(i))));
        }
        i += S::WIDTH;
    }
    for j in body..n {
        out[j] = (x[j] - mean) * rstd * gamma[j] + beta[j];
    }
}
