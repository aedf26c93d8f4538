//! f64 references: the op computed in double precision from the (f32 or f64) inputs, written
//! for obviousness rather than speed. Every backend validates its outputs against these, and
//! `python/tests/fixtures/ops_reference.json` holds their values for the Python peers.
//!
//! Inputs are any `T: Copy + Into<f64>` (f32, f64, i8), so an f32 tensor needs no widened copy.

/// Epsilon added to the variance in layer normalisation (PyTorch's default).
pub const LAYER_NORM_EPS: f32 = 1e-5;

/// `a` as f64.
pub fn widen<T: Copy + Into<f64>>(a: &[T]) -> Vec<f64> {
    a.iter().map(|&v| v.into()).collect()
}

/// max(x, 0).
pub fn relu(x: f64) -> f64 {
    x.max(0.0)
}

/// GELU, tanh approximation: ½x(1 + tanh(√(2/π)(x + 0.044715x³))), evaluated as the identical
/// x·σ(2u), which does not cancel for large negative x as `1 + tanh` does.
pub fn gelu(x: f64) -> f64 {
    let u = (2.0 / std::f64::consts::PI).sqrt() * (x + 0.044_715 * x * x * x);
    x / (1.0 + (-2.0 * u).exp())
}

/// Σx and Σ|x| (the scale a sum's rounding error is judged on).
pub fn sum_and_abs<T: Copy + Into<f64>>(xs: &[T]) -> (f64, f64) {
    xs.iter().fold((0.0, 0.0), |(s, a), &x| {
        let x = x.into();
        (s + x, a + x.abs())
    })
}

/// Σ aᵢ·bᵢ.
pub fn dot<T: Copy + Into<f64>>(a: &[T], b: &[T]) -> f64 {
    assert_eq!(a.len(), b.len(), "dot sizes");
    a.iter().zip(b).map(|(&x, &y)| x.into() * y.into()).sum()
}

/// Softmax of each row of `cols` elements, the row maximum subtracted first.
pub fn softmax_rows<T: Copy + Into<f64>>(x: &[T], cols: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(x.len());
    for row in x.chunks(cols) {
        let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v.into()));
        let start = out.len();
        out.extend(row.iter().map(|&v| (v.into() - max).exp()));
        let sum: f64 = out[start..].iter().sum();
        out[start..].iter_mut().for_each(|v| *v /= sum);
    }
    out
}

/// Layer normalisation of each row of `gain.len()` elements: (x − mean)/√(var + eps)·gain + bias,
/// with the biased variance.
pub fn layer_norm_rows<T: Copy + Into<f64>>(x: &[T], gain: &[T], bias: &[T], eps: f64) -> Vec<f64> {
    layer_norm_rows_with_magnitudes(x, gain, bias, eps).0
}

/// [`layer_norm_rows`] and, per output, the magnitude |(x − mean)/√(var + eps)·gain| + |bias|
/// its rounding error scales with.
pub fn layer_norm_rows_with_magnitudes<T: Copy + Into<f64>>(
    x: &[T],
    gain: &[T],
    bias: &[T],
    eps: f64,
) -> (Vec<f64>, Vec<f64>) {
    let cols = gain.len();
    assert!(
        bias.len() == cols && x.len().is_multiple_of(cols.max(1)),
        "layer_norm sizes"
    );
    let mut out = Vec::with_capacity(x.len());
    let mut magnitudes = Vec::with_capacity(x.len());
    for row in x.chunks(cols) {
        let mean = row.iter().map(|&v| v.into()).sum::<f64>() / cols as f64;
        let var = row.iter().map(|&v| (v.into() - mean).powi(2)).sum::<f64>() / cols as f64;
        let rstd = 1.0 / (var + eps).sqrt();
        for (&v, (&g, &b)) in row.iter().zip(gain.iter().zip(bias)) {
            let scaled = (v.into() - mean) * rstd * g.into();
            let b: f64 = b.into();
            out.push(scaled + b);
            magnitudes.push(scaled.abs() + b.abs());
        }
    }
    (out, magnitudes)
}

/// `a[m×k] · b[k×n]`, row-major.
pub fn matmul<T: Copy + Into<f64>>(m: usize, n: usize, k: usize, a: &[T], b: &[T]) -> Vec<f64> {
    assert!(a.len() == m * k && b.len() == k * n, "matmul sizes");
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        let row = &mut c[i * n..(i + 1) * n];
        for p in 0..k {
            let aip: f64 = a[i * k + p].into();
            for (c, &b) in row.iter_mut().zip(&b[p * n..(p + 1) * n]) {
                *c += aip * b.into();
            }
        }
    }
    c
}

/// The `cols × rows` transpose of a `rows × cols` matrix.
pub fn transpose<T: Copy>(rows: usize, cols: usize, a: &[T]) -> Vec<T> {
    assert_eq!(a.len(), rows * cols, "transpose sizes");
    (0..rows * cols)
        .map(|ji| a[(ji % rows) * cols + ji / rows])
        .collect()
}

/// `x[r, j] += bias[j]` for every row.
pub fn add_bias(x: &mut [f64], bias: &[f64]) {
    for row in x.chunks_mut(bias.len()) {
        for (v, b) in row.iter_mut().zip(bias) {
            *v += b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_values() {
        assert!((gelu(1.0) - 0.841_191_990_608_276_8).abs() < 1e-15);
        assert_eq!(gelu(0.0), 0.0);
        // Where 1 + tanh(u) rounds to 0, the σ form still gives the tiny negative value.
        assert!(gelu(-8.0) < 0.0 && gelu(-8.0) > -1e-19);
        assert_eq!(softmax_rows(&[0.0f32, 0.0, 1.0, 1.0], 2), vec![0.5; 4]);
        let s = softmax_rows(&[0.0f64, 3f64.ln()], 2);
        assert!((s[0] - 0.25).abs() < 1e-15 && (s[1] - 0.75).abs() < 1e-15);
        let (ln, mag) =
            layer_norm_rows_with_magnitudes(&[1.0f32, 3.0], &[1.0, 1.0], &[0.5, 0.0], 0.0);
        assert_eq!(ln, vec![-0.5, 1.0]);
        assert_eq!(mag, vec![1.5, 1.0]);
        assert_eq!(matmul(1, 1, 2, &[1.0f32, 2.0], &[3.0, 4.0]), vec![11.0]);
        assert_eq!(sum_and_abs(&[1.0f32, -2.0]), (-1.0, 3.0));
        assert_eq!(dot(&[1i8, -2], &[3, 4]), -5.0);
    }

    #[test]
    fn transpose_and_matmul_agree_on_a_rectangle() {
        let a: Vec<f64> = (0..6).map(f64::from).collect(); // 2×3
        let t = transpose(2, 3, &a);
        assert_eq!(t, vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
        let eye = [1.0, 0.0, 0.0, 1.0];
        assert_eq!(matmul(3, 2, 2, &t, &eye), t);
        let mut x = vec![0.0; 4];
        add_bias(&mut x, &[1.0, 2.0]);
        assert_eq!(x, vec![1.0, 2.0, 1.0, 2.0]);
    }
}
