//! Elementwise maps written once over [`Lanes`]: full vectors for the body, [`One`] for the tail,
//! so every length works and every element goes through the same arithmetic.

use super::lanes::{Lanes, One};
use super::math;

/// An op on one input vector (scalar-operand binary ops are unary ops carrying their operand).
pub(crate) trait UnaryOp: Copy {
    fn apply<S: Lanes>(self, s: S, x: S::V) -> S::V;
}

/// An op on two input vectors.
pub(crate) trait BinaryOp: Copy {
    fn apply<S: Lanes>(self, s: S, a: S::V, b: S::V) -> S::V;
}

macro_rules! binary_ops {
    ($($name:ident => $method:ident),* $(,)?) => {$(
        #[derive(Debug, Clone, Copy)]
        pub(crate) struct $name;
        impl BinaryOp for $name {
            #[inline(always)]
            fn apply<S: Lanes>(self, s: S, a: S::V, b: S::V) -> S::V { s.$method(a, b) }
        }
    )*};
}
binary_ops!(Add => add, Sub => sub, Mul => mul, Div => div);

/// `a + s·b`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScaleAdd(pub f32);
impl BinaryOp for ScaleAdd {
    #[inline(always)]
    fn apply<S: Lanes>(self, s: S, a: S::V, b: S::V) -> S::V {
        s.fma(b, s.splat(self.0), a)
    }
}

/// `x ∘ c` for a binary op and a scalar `c`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WithScalar<O>(pub O, pub f32);

impl<O: BinaryOp> UnaryOp for WithScalar<O> {
    #[inline(always)]
    fn apply<S: Lanes>(self, s: S, x: S::V) -> S::V {
        self.0.apply(s, x, s.splat(self.1))
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Relu;
impl UnaryOp for Relu {
    #[inline(always)]
    fn apply<S: Lanes>(self, s: S, x: S::V) -> S::V {
        s.max(x, s.splat(0.0))
    }
}

/// `max(x, 0) + alpha·min(x, 0)`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LeakyRelu(pub f32);
impl UnaryOp for LeakyRelu {
    #[inline(always)]
    fn apply<S: Lanes>(self, s: S, x: S::V) -> S::V {
        let zero = s.splat(0.0);
        s.fma(s.min(x, zero), s.splat(self.0), s.max(x, zero))
    }
}

macro_rules! math_ops {
    ($($name:ident => $f:path),* $(,)?) => {$(
        #[derive(Debug, Clone, Copy)]
        pub(crate) struct $name;
        impl UnaryOp for $name {
            #[inline(always)]
            fn apply<S: Lanes>(self, s: S, x: S::V) -> S::V { $f(s, x) }
        }
    )*};
}
math_ops!(Exp => math::exp, Sigmoid => math::sigmoid, Tanh => math::tanh, Gelu => math::gelu);

/// `out[i] = op(x[i])`.
#[inline(always)]
pub(crate) fn map<S: Lanes, O: UnaryOp>(s: S, op: O, x: &[f32], out: &mut [f32]) {
    assert_eq!(x.len(), out.len(), "input and output lengths differ");
    let n = out.len();
    let body = n - n % S::WIDTH;
    let (px, po) = (x.as_ptr(), out.as_mut_ptr());
    let mut i = 0;
    while i < body {
        // SAFETY: i + WIDTH <= body <= n for both slices.
        unsafe { s.store(po.add(i), op.apply(s, s.load(px.add(i)))) };
        i += S::WIDTH;
    }
    for j in body..n {
        out[j] = op.apply(One, x[j]);
    }
}

/// `x[i] = op(x[i])`.
#[inline(always)]
pub(crate) fn map_in_place<S: Lanes, O: UnaryOp>(s: S, op: O, x: &mut [f32]) {
    let n = x.len();
    let body = n - n % S::WIDTH;
    let p = x.as_mut_ptr();
    let mut i = 0;
    while i < body {
        // SAFETY: i + WIDTH <= n.
        unsafe { s.store(p.add(i), op.apply(s, s.load(p.add(i)))) };
        i += S::WIDTH;
    }
    for v in &mut x[body..] {
        *v = op.apply(One, *v);
    }
}

/// `out[i] = value` (no input to read).
#[inline(always)]
pub(crate) fn fill<S: Lanes>(s: S, value: f32, out: &mut [f32]) {
    let n = out.len();
    let body = n - n % S::WIDTH;
    let v = s.splat(value);
    let po = out.as_mut_ptr();
    let mut i = 0;
    while i < body {
        // SAFETY: i + WIDTH <= n.
        unsafe { s.store(po.add(i), v) };
        i += S::WIDTH;
    }
    out[body..].fill(value);
}

/// `out[i] = op(a[i], b[i])`.
#[inline(always)]
pub(crate) fn zip<S: Lanes, O: BinaryOp>(s: S, op: O, a: &[f32], b: &[f32], out: &mut [f32]) {
    assert!(
        a.len() == out.len() && b.len() == out.len(),
        "input and output lengths differ"
    );
    let n = out.len();
    let body = n - n % S::WIDTH;
    let (pa, pb, po) = (a.as_ptr(), b.as_ptr(), out.as_mut_ptr());
    let mut i = 0;
    while i < body {
        // SAFETY: i + WIDTH <= body <= n for all three slices.
        unsafe { s.store(po.add(i), op.apply(s, s.load(pa.add(i)), s.load(pb.add(i)))) };
        i += S::WIDTH;
    }
    for j in body..n {
        out[j] = op.apply(One, a[j], b[j]);
    }
}

/// `out[i] = x[i]` with ordinary vector loads and stores (STREAM's copy). Four vectors per step:
/// a one-vector store-of-load loop is what LLVM turns into `memcpy`, whose large-size path uses
/// non-temporal stores and so measures something else.
#[inline(always)]
pub(crate) fn copy<S: Lanes>(s: S, x: &[f32], out: &mut [f32]) {
    assert_eq!(x.len(), out.len(), "input and output lengths differ");
    let n = out.len();
    let step = 4 * S::WIDTH;
    let body = n - n % step;
    let (px, po) = (x.as_ptr(), out.as_mut_ptr());
    let mut i = 0;
    while i < body {
        // SAFETY: i + 4·WIDTH <= body <= n for both slices.
        unsafe {
            // Four loads, then four stores; no `map` closure (see `reduce::reduce`).
            let w = S::WIDTH;
            let v = [
                s.load(px.add(i)),
                s.load(px.add(i + w)),
                s.load(px.add(i + 2 * w)),
                s.load(px.add(i + 3 * w)),
            ];
            for (k, &v) in v.iter().enumerate() {
                s.store(po.add(i + k * w), v);
            }
        }
        i += step;
    }
    // The tail is under four vectors: too short for memcpy's non-temporal path.
    out[body..].copy_from_slice(&x[body..]);
}
