//! Reductions over [`Lanes`]: whole slices, rows and columns of a row-major matrix.

use super::lanes::{Lanes, One};

/// An associative reduction with an identity.
pub(crate) trait ReduceOp: Copy {
    const IDENTITY: f32;
    fn combine<S: Lanes>(self, s: S, a: S::V, b: S::V) -> S::V;
    fn finish<S: Lanes>(self, s: S, v: S::V) -> f32;
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct SumOp;
impl ReduceOp for SumOp {
    const IDENTITY: f32 = 0.0;
    #[inline(always)]
    fn combine<S: Lanes>(self, s: S, a: S::V, b: S::V) -> S::V {
        s.add(a, b)
    }
    #[inline(always)]
    fn finish<S: Lanes>(self, s: S, v: S::V) -> f32 {
        s.reduce_add(v)
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct MaxOp;
impl ReduceOp for MaxOp {
    const IDENTITY: f32 = f32::NEG_INFINITY;
    #[inline(always)]
    fn combine<S: Lanes>(self, s: S, a: S::V, b: S::V) -> S::V {
        s.max(a, b)
    }
    #[inline(always)]
    fn finish<S: Lanes>(self, s: S, v: S::V) -> f32 {
        s.reduce_max(v)
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct MinOp;
impl ReduceOp for MinOp {
    const IDENTITY: f32 = f32::INFINITY;
    #[inline(always)]
    fn combine<S: Lanes>(self, s: S, a: S::V, b: S::V) -> S::V {
        s.min(a, b)
    }
    #[inline(always)]
    fn finish<S: Lanes>(self, s: S, v: S::V) -> f32 {
        s.reduce_min(v)
    }
}

/// Elements per leaf of the pairwise sum: short enough that the leaf's rounding error is small,
/// long enough to run at full vector speed.
const LEAF: usize = 2048;

/// Reduces one leaf with four independent vector accumulators (hides the add latency and
/// spreads the rounding error over 4·WIDTH partial sums).
#[inline(always)]
pub(crate) fn reduce_leaf<S: Lanes, R: ReduceOp>(s: S, op: R, x: &[f32]) -> f32 {
    let n = x.len();
    let step = 4 * S::WIDTH;
    let body4 = n - n % step;
    let body = n - n % S::WIDTH;
    let p = x.as_ptr();
    let mut acc = [s.splat(R::IDENTITY); 4];
    let mut i = 0;
    while i < body4 {
        for (k, a) in acc.iter_mut().enumerate() {
            // SAFETY: i + 4·WIDTH <= n.
            *a = op.combine(s, *a, unsafe { s.load(p.add(i + k * S::WIDTH)) });
        }
        i += step;
    }
    while i < body {
        // SAFETY: i + WIDTH <= n.
        acc[0] = op.combine(s, acc[0], unsafe { s.load(p.add(i)) });
        i += S::WIDTH;
    }
    let v = op.combine(
        s,
        op.combine(s, acc[0], acc[1]),
        op.combine(s, acc[2], acc[3]),
    );
    let mut total = op.finish(s, v);
    for &t in &x[body..] {
        total = op.combine(One, total, t);
    }
    total
}

/// Whole-slice reduction. Sums are pairwise over leaves (iteratively, with a binary-counter
/// stack) so the error grows with log(n), which keeps f32 within tolerance at 2^24 elements.
#[inline(always)]
pub(crate) fn reduce<S: Lanes, R: ReduceOp>(s: S, op: R, x: &[f32]) -> f32 {
    // A plain loop, not `chunks().map(..)`: a closure handed to an iterator adapter is compiled
    // into the adapter, outside the `#[target_feature]` function, and every vector op in it
    // becomes a call (measured: the AVX2 sum ran at a fifth of the scalar one).
    let mut sum = Pairwise::new(op);
    for leaf in x.chunks(LEAF) {
        sum.push(reduce_leaf(s, op, leaf));
    }
    sum.finish()
}

/// Combines leaf results pairwise: leaf `i` meets its neighbours like a binary counter's carries.
struct Pairwise<R> {
    op: R,
    stack: [f32; 64],
    depth: usize,
    count: usize,
}

impl<R: ReduceOp> Pairwise<R> {
    #[inline(always)]
    fn new(op: R) -> Self {
        Self {
            op,
            stack: [0.0; 64],
            depth: 0,
            count: 0,
        }
    }

    #[inline(always)]
    fn push(&mut self, mut v: f32) {
        self.count += 1;
        let mut c = self.count;
        while c & 1 == 0 {
            self.depth -= 1;
            v = self.op.combine(One, self.stack[self.depth], v);
            c >>= 1;
        }
        self.stack[self.depth] = v;
        self.depth += 1;
    }

    #[inline(always)]
    fn finish(self) -> f32 {
        let mut total = R::IDENTITY;
        for &v in self.stack[..self.depth].iter().rev() {
            total = self.op.combine(One, v, total);
        }
        total
    }
}

/// `Σ a[i]·b[i]`, pairwise over leaves like the sum.
#[inline(always)]
pub(crate) fn dot<S: Lanes>(s: S, a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "dot operands differ in length");
    let mut sum = Pairwise::new(SumOp);
    for (a, b) in a.chunks(LEAF).zip(b.chunks(LEAF)) {
        sum.push(dot_leaf(s, a, b));
    }
    sum.finish()
}

/// One leaf of the dot product with four independent vector accumulators.
#[inline(always)]
fn dot_leaf<S: Lanes>(s: S, a: &[f32], b: &[f32]) -> f32 {
    let n = a.len();
    let w = S::WIDTH;
    let body4 = n - n % (4 * w);
    let body = n - n % w;
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [s.splat(0.0); 4];
    let mut i = 0;
    while i < body4 {
        for (k, c) in acc.iter_mut().enumerate() {
            // SAFETY: i + 4·WIDTH <= n for both slices.
            let (x, y) = unsafe { (s.load(pa.add(i + k * w)), s.load(pb.add(i + k * w))) };
            *c = s.fma(x, y, *c);
        }
        i += 4 * w;
    }
    while i < body {
        // SAFETY: i + WIDTH <= n for both slices.
        let (x, y) = unsafe { (s.load(pa.add(i)), s.load(pb.add(i))) };
        acc[0] = s.fma(x, y, acc[0]);
        i += w;
    }
    let mut total = s.reduce_add(s.add(s.add(acc[0], acc[1]), s.add(acc[2], acc[3])));
    for j in body..n {
        total = One.fma(a[j], b[j], total);
    }
    total
}

/// `out[r] = reduce(x[r, ..])` for a row-major `rows × cols` matrix.
#[inline(always)]
pub(crate) fn reduce_rows<S: Lanes, R: ReduceOp>(
    s: S,
    op: R,
    x: &[f32],
    cols: usize,
    out: &mut [f32],
) {
    assert_eq!(x.len(), out.len() * cols, "matrix is not rows × cols");
    if cols == 0 {
        out.fill(R::IDENTITY);
        return;
    }
    for (o, row) in out.iter_mut().zip(x.chunks_exact(cols)) {
        *o = reduce(s, op, row);
    }
}

/// Rows accumulated in registers before folding into the running total, bounding the length of
/// any sequential f32 sum.
const COL_BLOCK: usize = 256;

/// `out[c] = reduce(x[.., c])`: columns are processed `V` vectors at a time with the partial
/// results kept in registers while walking down the rows.
#[inline(always)]
pub(crate) fn reduce_cols<S: Lanes, R: ReduceOp>(
    s: S,
    op: R,
    x: &[f32],
    cols: usize,
    out: &mut [f32],
) {
    assert_eq!(out.len(), cols, "output length must equal cols");
    if cols == 0 {
        return;
    }
    assert_eq!(x.len() % cols, 0, "matrix is not rows × cols");
    let rows = x.len() / cols;
    let mut c = 0;
    while c + 4 * S::WIDTH <= cols {
        cols_block::<S, R, 4>(s, op, x, rows, cols, c, out);
        c += 4 * S::WIDTH;
    }
    while c + S::WIDTH <= cols {
        cols_block::<S, R, 1>(s, op, x, rows, cols, c, out);
        c += S::WIDTH;
    }
    while c < cols {
        cols_block::<One, R, 1>(One, op, x, rows, cols, c, out);
        c += 1;
    }
}

#[inline(always)]
fn cols_block<S: Lanes, R: ReduceOp, const V: usize>(
    s: S,
    op: R,
    x: &[f32],
    rows: usize,
    cols: usize,
    c0: usize,
    out: &mut [f32],
) {
    debug_assert!(c0 + V * S::WIDTH <= cols && x.len() == rows * cols);
    let p = x.as_ptr();
    let mut total = [s.splat(R::IDENTITY); V];
    let mut r = 0;
    while r < rows {
        let end = (r + COL_BLOCK).min(rows);
        let mut acc = [s.splat(R::IDENTITY); V];
        for row in r..end {
            for (k, a) in acc.iter_mut().enumerate() {
                // SAFETY: row < rows and c0 + (k+1)·WIDTH <= cols, so inside `x`.
                *a = op.combine(s, *a, unsafe {
                    s.load(p.add(row * cols + c0 + k * S::WIDTH))
                });
            }
        }
        for (t, a) in total.iter_mut().zip(acc) {
            *t = op.combine(s, *t, a);
        }
        r = end;
    }
    for (k, t) in total.into_iter().enumerate() {
        // SAFETY: c0 + (k+1)·WIDTH <= cols == out.len().
        unsafe { s.store(out.as_mut_ptr().add(c0 + k * S::WIDTH), t) };
    }
}
