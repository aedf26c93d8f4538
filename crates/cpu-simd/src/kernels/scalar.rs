//! The scalar family: one element at a time, written for readability. It is the backend every
//! faster one is compared against in speed, and it is validated against f64 like the others.

use super::Reduction;

fn zip_with(a: &[f32], b: &[f32], out: &mut [f32], f: impl Fn(f32, f32) -> f32) {
    assert!(
        a.len() == out.len() && b.len() == out.len(),
        "input and output lengths differ"
    );
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = f(x, y);
    }
}

fn map_with(x: &[f32], out: &mut [f32], f: impl Fn(f32) -> f32) {
    assert_eq!(x.len(), out.len(), "input and output lengths differ");
    for (o, &v) in out.iter_mut().zip(x) {
        *o = f(v);
    }
}

pub fn add(a: &[f32], b: &[f32], out: &mut [f32]) {
    zip_with(a, b, out, |x, y| x + y)
}
pub fn sub(a: &[f32], b: &[f32], out: &mut [f32]) {
    zip_with(a, b, out, |x, y| x - y)
}
pub fn mul(a: &[f32], b: &[f32], out: &mut [f32]) {
    zip_with(a, b, out, |x, y| x * y)
}
pub fn div(a: &[f32], b: &[f32], out: &mut [f32]) {
    zip_with(a, b, out, |x, y| x / y)
}
pub fn add_scalar(x: &[f32], c: f32, out: &mut [f32]) {
    map_with(x, out, |v| v + c)
}
pub fn sub_scalar(x: &[f32], c: f32, out: &mut [f32]) {
    map_with(x, out, |v| v - c)
}
pub fn mul_scalar(x: &[f32], c: f32, out: &mut [f32]) {
    map_with(x, out, |v| v * c)
}
pub fn div_scalar(x: &[f32], c: f32, out: &mut [f32]) {
    map_with(x, out, |v| v / c)
}
pub fn relu(x: &[f32], out: &mut [f32]) {
    map_with(x, out, |v| v.max(0.0))
}
pub fn leaky_relu(x: &[f32], alpha: f32, out: &mut [f32]) {
    map_with(x, out, |v| if v > 0.0 { v } else { alpha * v })
}
pub fn sigmoid(x: &[f32], out: &mut [f32]) {
    map_with(x, out, |v| 1.0 / (1.0 + (-v).exp()))
}
pub fn tanh(x: &[f32], out: &mut [f32]) {
    map_with(x, out, f32::tanh)
}
/// GELU, tanh approximation: `0.5·x·(1 + tanh(u))` with `u = sqrt(2/π)·(x + 0.044715·x³)`,
/// computed as the identical `x / (1 + e^(-2u))`, since `1 + tanh(u)` cancels to 0 for x < -6.
pub fn gelu(x: &[f32], out: &mut [f32]) {
    let k = (2.0 / std::f32::consts::PI).sqrt();
    map_with(x, out, |v| {
        v / (1.0 + (-2.0 * k * (v + 0.044_715 * v * v * v)).exp())
    })
}
pub fn exp(x: &[f32], out: &mut [f32]) {
    map_with(x, out, f32::exp)
}
pub fn zeros(out: &mut [f32]) {
    fill(out, 0.0)
}
pub fn fill(out: &mut [f32], value: f32) {
    for o in out {
        *o = value;
    }
}

/// Pairwise (recursive halving) sum: the error grows with log n, not n.
pub fn sum(x: &[f32]) -> f32 {
    if x.len() <= 32 {
        return x.iter().sum();
    }
    let (lo, hi) = x.split_at(x.len() / 2);
    sum(lo) + sum(hi)
}

/// Pairwise sum of products, like [`sum`].
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "dot operands differ in length");
    if a.len() <= 32 {
        return a.iter().zip(b).map(|(x, y)| x * y).sum();
    }
    let h = a.len() / 2;
    dot(&a[..h], &b[..h]) + dot(&a[h..], &b[h..])
}

pub fn reduce(op: Reduction, x: &[f32]) -> f32 {
    match op {
        Reduction::Sum => sum(x),
        Reduction::Mean => sum(x) / x.len() as f32,
        Reduction::Max => x.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)),
        Reduction::Min => x.iter().fold(f32::INFINITY, |m, &v| m.min(v)),
    }
}

/// `out[r] = op(x[r, ..])` for a `out.len() × cols` matrix.
pub fn reduce_rows(op: Reduction, x: &[f32], cols: usize, out: &mut [f32]) {
    assert_eq!(x.len(), out.len() * cols, "matrix is not rows × cols");
    if cols == 0 {
        out.fill(reduce(op, &[]));
        return;
    }
    for (o, row) in out.iter_mut().zip(x.chunks_exact(cols)) {
        *o = reduce(op, row);
    }
}

/// `out[c] = op(x[.., c])` for a `rows × out.len()` matrix.
pub fn reduce_cols(op: Reduction, x: &[f32], out: &mut [f32]) {
    let cols = out.len();
    if cols == 0 {
        return;
    }
    assert_eq!(x.len() % cols, 0, "matrix is not rows × cols");
    let rows = x.len() / cols;
    let mut column = Vec::with_capacity(rows);
    for (c, o) in out.iter_mut().enumerate() {
        column.clear();
        column.extend(x.iter().skip(c).step_by(cols));
        *o = reduce(op, &column);
    }
}

/// Softmax along each row of `cols` elements: `e^(x - max) / Σ e^(x - max)`.
pub fn softmax_rows(x: &[f32], cols: usize, out: &mut [f32]) {
    assert_eq!(x.len(), out.len(), "input and output lengths differ");
    if cols == 0 {
        return;
    }
    for (row, o) in x.chunks_exact(cols).zip(out.chunks_exact_mut(cols)) {
        let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        for (o, &v) in o.iter_mut().zip(row) {
            *o = (v - max).exp();
        }
        let inv = 1.0 / sum(o);
        for v in o.iter_mut() {
            *v *= inv;
        }
    }
}

/// Layer normalisation along each row of `gamma.len()` elements.
pub fn layer_norm_rows(x: &[f32], gamma: &[f32], beta: &[f32], eps: f32, out: &mut [f32]) {
    let cols = gamma.len();
    assert!(
        beta.len() == cols && x.len() == out.len(),
        "layer_norm operand lengths differ"
    );
    if cols == 0 {
        return;
    }
    for (row, o) in x.chunks_exact(cols).zip(out.chunks_exact_mut(cols)) {
        let mean = sum(row) / cols as f32;
        // Squared deviations summed in blocks, then pairwise, like `sum`.
        let var = row
            .chunks(32)
            .map(|b| b.iter().map(|&v| (v - mean) * (v - mean)).sum::<f32>())
            .fold(0.0, |acc, s| acc + s)
            / cols as f32;
        let rstd = 1.0 / (var + eps).sqrt();
        for (j, (o, &v)) in o.iter_mut().zip(row).enumerate() {
            *o = (v - mean) * rstd * gamma[j] + beta[j];
        }
    }
}

/// `C[m×n] = A[m×k]·B[k×n]`, row-major, the textbook i-p-j loop order (unit stride inside).
pub fn gemm(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    crate::kernels::check_gemm_sizes("gemm", (m, n, k), a.len(), b.len(), c.len());
    c.fill(0.0);
    for i in 0..m {
        let crow = &mut c[i * n..(i + 1) * n];
        for p in 0..k {
            let aip = a[i * k + p];
            for (cv, &bv) in crow.iter_mut().zip(&b[p * n..(p + 1) * n]) {
                *cv += aip * bv;
            }
        }
    }
}
