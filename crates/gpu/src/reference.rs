//! The checks of a GPU kernel's f32 output against f64 references: the shared ones of
//! `tensorbench_ops::reference`, and the budgeted GEMM and MLP checks that only GPU sizes need.

use tensorbench_core::schema::Validation;
pub use tensorbench_ops::reference::{
    gelu, layer_norm_rows_with_magnitudes, softmax_rows, sum_and_abs,
};

/// Unit roundoff of f32 (2⁻²⁴).
pub const F32_UNIT_ROUNDOFF: f64 = 1.0 / 16_777_216.0;

/// One correctly rounded f32 operation on exact inputs: ≤ 2⁻²⁴ relative, with margin for a
/// fused multiply-add the compiler may form.
pub const ROUNDED_TOLERANCE: f64 = 2.0 * F32_UNIT_ROUNDOFF;

/// exp/tanh/inverseSqrt: WGSL allows exp 3 + 2·|x| ULP and derives tanh from it; CUDA's
/// non-fast-math `expf`/`tanhf` are within 2 ULP. 1e-5 (~170 ULP) covers the spec's worst case on
/// our input ranges with room, and still catches any wrong formula or index.
pub const TRANSCENDENTAL_TOLERANCE: f64 = 1e-5;

/// Error bound, relative to Σ|terms|, of an f32 sum whose longest chain of additions is `depth`.
pub fn summation_tolerance(depth: usize) -> f64 {
    (depth.max(1) as f64 + 1.0) * F32_UNIT_ROUNDOFF
}

/// Elementwise relative error of `got` against `reference(i)`, judged like
/// `tensorbench_core::workload::max_rel_err` (denominator floored at 1e-3 of the output's scale),
/// without materialising the reference: outputs reach 2²⁸ elements.
pub fn validate_elementwise(
    got: &[f32],
    reference: impl Fn(usize) -> f64,
    tolerance: f64,
    what: &str,
) -> Validation {
    let scale = (0..got.len())
        .map(&reference)
        .fold(0.0f64, |m, r| m.max(r.abs()))
        .max(1e-30);
    let floor = scale * 1e-3;
    let err = got
        .iter()
        .enumerate()
        .map(|(i, &g)| rel_err(g.into(), reference(i), floor))
        .fold(0.0, f64::max);
    validation(err, tolerance, what)
}

fn rel_err(g: f64, r: f64, floor: f64) -> f64 {
    if g.is_nan() != r.is_nan() {
        f64::INFINITY
    } else if g.is_nan() || g == r {
        0.0
    } else {
        (g - r).abs() / r.abs().max(floor)
    }
}

/// Checks each output's error relative to the magnitude of what it was computed from
/// (Σ|terms| of a sum; |a·b| + |c| of a fused last step): |got − reference| / magnitude,
/// against `tolerance` (see [`summation_tolerance`]). Unlike an elementwise relative error this
/// stays meaningful where the terms cancel to nearly zero.
pub fn validate_magnitudes(
    got: &[f32],
    reference: &[f64],
    magnitudes: &[f64],
    tolerance: f64,
    what: &str,
) -> Validation {
    if got.len() != reference.len() {
        return validation(f64::INFINITY, tolerance, what);
    }
    let err = got
        .iter()
        .zip(reference.iter().zip(magnitudes))
        .map(|(&g, (&s, &a))| {
            let g = f64::from(g);
            if g.is_nan() {
                f64::INFINITY
            } else {
                (g - s).abs() / a.max(f64::MIN_POSITIVE)
            }
        })
        .fold(0.0, f64::max);
    validation(err, tolerance, what)
}

/// Largest number of multiply-adds the GEMM check spends (about 0.1 s in f64 on one core);
/// beyond it, whole rows spread over the matrix are checked instead of every element.
const GEMM_CHECK_BUDGET: usize = 1 << 27;

/// Checks C = A·B row-major against f64 dot products, each element's error relative to
/// Σ|a·b| over its dot product. Large products check a spread of whole rows (first, last and
/// evenly spaced ones) so any indexing fault along either dimension still shows.
pub fn validate_gemm(
    got: &[f32],
    a: &[f32],
    b: &[f32],
    (m, n, k): (usize, usize, usize),
    tolerance: f64,
) -> Validation {
    if got.len() != m * n {
        return validation(f64::INFINITY, tolerance, "f64 GEMM");
    }
    let rows = checked_rows(m, n * k);
    let mut err = 0.0f64;
    let mut dot = vec![0.0f64; n];
    let mut abs = vec![0.0f64; n];
    for &i in &rows {
        dot.fill(0.0);
        abs.fill(0.0);
        for p in 0..k {
            let aip = f64::from(a[i * k + p]);
            for (j, &bpj) in b[p * n..(p + 1) * n].iter().enumerate() {
                let t = aip * f64::from(bpj);
                dot[j] += t;
                abs[j] += t.abs();
            }
        }
        for j in 0..n {
            let g = f64::from(got[i * n + j]);
            let e = if g.is_nan() {
                f64::INFINITY
            } else {
                (g - dot[j]).abs() / abs[j].max(f64::MIN_POSITIVE)
            };
            err = err.max(e);
        }
    }
    let what = if rows.len() == m {
        "f64 GEMM, error relative to Σ|a·b|".to_string()
    } else {
        format!(
            "f64 GEMM on {} of {m} rows, error relative to Σ|a·b|",
            rows.len()
        )
    };
    validation(err, tolerance, &what)
}

/// Row indices to check: all of them when affordable, else an even spread including both ends.
fn checked_rows(m: usize, work_per_row: usize) -> Vec<usize> {
    let affordable = (GEMM_CHECK_BUDGET / work_per_row.max(1)).max(2);
    if affordable >= m {
        return (0..m).collect();
    }
    let count = affordable.min(m);
    let mut rows: Vec<usize> = (0..count).map(|r| r * (m - 1) / (count - 1)).collect();
    rows.dedup();
    rows
}

fn validation(err: f64, tolerance: f64, what: &str) -> Validation {
    Validation {
        max_rel_err: err,
        tolerance,
        passed: err <= tolerance,
        reference: what.to_string(),
    }
}

/// The f64 forward pass of an MLP of square layers, h ← gelu(h·W) per weight matrix, with the
/// magnitude Σ|h·W| behind each output of the last layer (the scale its error is measured on).
pub fn mlp_forward(
    x: &[f32],
    weights: &[Vec<f32>],
    batch: usize,
    width: usize,
) -> (Vec<f64>, Vec<f64>) {
    let mut h: Vec<f64> = x.iter().map(|&v| v.into()).collect();
    let mut magnitudes = vec![0.0; batch * width];
    for w in weights {
        let mut next = vec![0.0f64; batch * width];
        magnitudes.fill(0.0);
        for r in 0..batch {
            let (row, out) = (&h[r * width..(r + 1) * width], r * width);
            for (p, &hp) in row.iter().enumerate() {
                for (j, &wpj) in w[p * width..(p + 1) * width].iter().enumerate() {
                    let t = hp * f64::from(wpj);
                    next[out + j] += t;
                    magnitudes[out + j] += t.abs();
                }
            }
        }
        h = next.into_iter().map(gelu).collect();
    }
    (h, magnitudes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemm_check_catches_one_wrong_element() {
        let (m, n, k) = (4, 3, 5);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.91).cos()).collect();
        let mut c = vec![0.0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        let tol = summation_tolerance(k);
        assert!(validate_gemm(&c, &a, &b, (m, n, k), tol).passed);
        c[7] += 0.01;
        assert!(!validate_gemm(&c, &a, &b, (m, n, k), tol).passed);
    }

    #[test]
    fn large_gemm_checks_rows_at_both_ends() {
        let rows = checked_rows(8192, 8192 * 8192);
        assert_eq!(rows.first(), Some(&0));
        assert_eq!(rows.last(), Some(&8191));
        assert!(rows.len() >= 2 && rows.len() < 8192);
    }

    #[test]
    fn elementwise_check_matches_core_semantics() {
        let got = [1.0f32, 2.0, 3.0];
        assert!(validate_elementwise(&got, |i| (i + 1) as f64, 0.0, "x").passed);
        let v = validate_elementwise(
            &got,
            |i| if i == 2 { 3.3 } else { (i + 1) as f64 },
            1e-3,
            "x",
        );
        assert!(!v.passed);
        assert!((v.max_rel_err - 0.3 / 3.3).abs() < 1e-6);
    }
}
