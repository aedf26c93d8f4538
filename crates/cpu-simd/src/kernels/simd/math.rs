//! Vectorised transcendental functions, written once over [`Lanes`].

use super::lanes::Lanes;

/// `1.5·2^23`: adding it rounds a float below 2^22 to the nearest integer, which then sits in the
/// low mantissa bits.
const MAGIC: f32 = 12_582_912.0;
const LOG2E: f32 = std::f32::consts::LOG2_E;
/// ln 2 split in a part exact in f32 and a correction (Cody–Waite), as in Cephes `expf`.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// Cephes `expf` minimax polynomial for `(e^r - 1 - r) / r²` on `|r| ≤ ln2/2`.
const EXP_P: [f32; 6] = [
    1.987_569_1e-4,
    1.398_199_9e-3,
    8.333_452e-3,
    4.166_579_6e-2,
    1.666_666_5e-1,
    5e-1,
];
/// Inputs are clamped so `2^n` stays a normal float: below, e^x is flushed to 2^-126; above,
/// it saturates at about 2^127.5 instead of overflowing.
const EXP_LO: f32 = -87.336_54;
const EXP_HI: f32 = 88.376_26;

/// `e^x` to about 2 ulp: range reduction `x = n·ln2 + r`, a degree-7 polynomial in `r`, and the
/// exponent `n` written straight into the float's bits.
#[inline(always)]
pub(crate) fn exp<S: Lanes>(s: S, x: S::V) -> S::V {
    let x = s.min(s.max(x, s.splat(EXP_LO)), s.splat(EXP_HI));
    let t = s.fma(x, s.splat(LOG2E), s.splat(MAGIC));
    let n = s.sub(t, s.splat(MAGIC));
    let r = s.fma(n, s.splat(-LN2_HI), x);
    let r = s.fma(n, s.splat(-LN2_LO), r);
    let mut p = s.splat(EXP_P[0]);
    for &c in &EXP_P[1..] {
        p = s.fma(p, r, s.splat(c));
    }
    let e = s.fma(p, s.mul(r, r), s.add(r, s.splat(1.0)));
    s.mul(e, s.pow2_from_magic(t))
}

/// `1 / (1 + e^-x)`.
#[inline(always)]
pub(crate) fn sigmoid<S: Lanes>(s: S, x: S::V) -> S::V {
    let one = s.splat(1.0);
    s.div(one, s.add(one, exp(s, s.sub(s.splat(0.0), x))))
}

/// Odd/even minimax coefficients of the rational `tanh` approximation used by Eigen and XLA.
const TANH_ALPHA: [f32; 7] = [
    -2.760_768_5e-16,
    2.000_188e-13,
    -8.604_672e-11,
    5.122_297e-8,
    1.485_722_4e-5,
    6.372_619_3e-4,
    4.893_524_6e-3,
];
const TANH_BETA: [f32; 4] = [1.198_258_4e-6, 1.185_347_1e-4, 2.268_434_6e-3, 4.893_525e-3];
/// Beyond this, tanh rounds to ±1 in f32.
const TANH_CLAMP: f32 = 7.905_311;

/// `tanh(x)` as `x·P(x²)/Q(x²)`: no cancellation near zero, unlike formulas built on `e^2x`.
#[inline(always)]
pub(crate) fn tanh<S: Lanes>(s: S, x: S::V) -> S::V {
    let x = s.min(s.max(x, s.splat(-TANH_CLAMP)), s.splat(TANH_CLAMP));
    let x2 = s.mul(x, x);
    let mut p = s.splat(TANH_ALPHA[0]);
    for &c in &TANH_ALPHA[1..] {
        p = s.fma(p, x2, s.splat(c));
    }
    let mut q = s.splat(TANH_BETA[0]);
    for &c in &TANH_BETA[1..] {
        q = s.fma(q, x2, s.splat(c));
    }
    s.div(s.mul(x, p), q)
}

/// `2·sqrt(2/π)` and `2·sqrt(2/π)·0.044715`.
const GELU_C1: f32 = 1.595_769;
const GELU_C2: f32 = 0.071_354_82;

/// GELU, tanh approximation (Hendrycks & Gimpel; the GPT-2/BERT form):
/// `0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³)))`, evaluated as the identical
/// `x·sigmoid(2·sqrt(2/π)·(x + 0.044715·x³))`, which avoids `1 + tanh` cancelling for negative x.
#[inline(always)]
pub(crate) fn gelu<S: Lanes>(s: S, x: S::V) -> S::V {
    let u = s.mul(x, s.fma(s.mul(x, x), s.splat(GELU_C2), s.splat(GELU_C1)));
    s.mul(x, sigmoid(s, u))
}
