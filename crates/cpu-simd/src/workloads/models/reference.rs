//! Straightforward f64 versions of the ops the models are built from: the references every
//! model output (and gradient) is validated against. Written for obviousness, not speed.

/// `a` as f64.
pub fn widen(a: &[f32]) -> Vec<f64> {
    a.iter().map(|&v| f64::from(v)).collect()
}

/// `a[m×k] · b[k×n]`, row-major.
pub fn matmul(m: usize, n: usize, k: usize, a: &[f64], b: &[f64]) -> Vec<f64> {
    assert!(a.len() == m * k && b.len() == k * n, "matmul sizes");
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        let row = &mut c[i * n..(i + 1) * n];
        for p in 0..k {
            let aip = a[i * k + p];
            for (c, &b) in row.iter_mut().zip(&b[p * n..(p + 1) * n]) {
                *c += aip * b;
            }
        }
    }
    c
}

/// The `cols × rows` transpose of a `rows × cols` matrix.
pub fn transpose(rows: usize, cols: usize, a: &[f64]) -> Vec<f64> {
    let mut t = vec![0.0; a.len()];
    for i in 0..rows {
        for j in 0..cols {
            t[j * rows + i] = a[i * cols + j];
        }
    }
    t
}

/// `x[r, j] += bias[j]` for every row.
pub fn add_bias(x: &mut [f64], bias: &[f64]) {
    for row in x.chunks_mut(bias.len()) {
        for (v, b) in row.iter_mut().zip(bias) {
            *v += b;
        }
    }
}

/// GELU, tanh form: `0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³)))`.
pub fn gelu(x: f64) -> f64 {
    let u = (2.0 / std::f64::consts::PI).sqrt() * (x + 0.044_715 * x * x * x);
    0.5 * x * (1.0 + u.tanh())
}

pub fn relu(x: f64) -> f64 {
    x.max(0.0)
}

/// Softmax of each row of `cols` elements, in place.
pub fn softmax_rows(x: &mut [f64], cols: usize) {
    for row in x.chunks_mut(cols) {
        let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        row.iter_mut().for_each(|v| *v = (*v - max).exp());
        let sum: f64 = row.iter().sum();
        row.iter_mut().for_each(|v| *v /= sum);
    }
}

/// Layer normalisation of each row of `gamma.len()` elements, in place.
pub fn layer_norm_rows(x: &mut [f64], gamma: &[f64], beta: &[f64], eps: f64) {
    let n = gamma.len() as f64;
    for row in x.chunks_mut(gamma.len()) {
        let mean = row.iter().sum::<f64>() / n;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        let rstd = 1.0 / (var + eps).sqrt();
        for (j, v) in row.iter_mut().enumerate() {
            *v = (*v - mean) * rstd * gamma[j] + beta[j];
        }
    }
}
