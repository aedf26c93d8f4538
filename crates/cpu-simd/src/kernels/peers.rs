//! Peer backends from well-known crates, run on the same data through the same sampler:
//! `ndarray` for elementwise ops and reductions, `gemm` and `matrixmultiply` for GEMM.

use super::Reduction;
use ndarray::{ArrayView1, ArrayView2, ArrayViewMut1, Axis, Zip};

fn zip(a: &[f32], b: &[f32], out: &mut [f32], f: impl Fn(f32, f32) -> f32) {
    Zip::from(ArrayViewMut1::from(out))
        .and(ArrayView1::from(a))
        .and(ArrayView1::from(b))
        .for_each(|o, &x, &y| *o = f(x, y));
}

fn map(x: &[f32], out: &mut [f32], f: impl Fn(f32) -> f32) {
    Zip::from(ArrayViewMut1::from(out))
        .and(ArrayView1::from(x))
        .for_each(|o, &v| *o = f(v));
}

/// `ndarray` elementwise: `Zip` over one-dimensional views.
pub mod nd {
    use super::*;

    pub fn add(a: &[f32], b: &[f32], out: &mut [f32]) {
        zip(a, b, out, |x, y| x + y)
    }
    pub fn sub(a: &[f32], b: &[f32], out: &mut [f32]) {
        zip(a, b, out, |x, y| x - y)
    }
    pub fn mul(a: &[f32], b: &[f32], out: &mut [f32]) {
        zip(a, b, out, |x, y| x * y)
    }
    pub fn div(a: &[f32], b: &[f32], out: &mut [f32]) {
        zip(a, b, out, |x, y| x / y)
    }
    pub fn add_scalar(x: &[f32], c: f32, out: &mut [f32]) {
        map(x, out, |v| v + c)
    }
    pub fn mul_scalar(x: &[f32], c: f32, out: &mut [f32]) {
        map(x, out, |v| v * c)
    }
    pub fn relu(x: &[f32], out: &mut [f32]) {
        map(x, out, |v| v.max(0.0))
    }
    pub fn exp(x: &[f32], out: &mut [f32]) {
        map(x, out, f32::exp)
    }

    /// `ndarray`'s own reductions (`sum` is pairwise in ndarray).
    pub fn reduce(op: Reduction, x: &[f32]) -> f32 {
        let v = ArrayView1::from(x);
        match op {
            Reduction::Sum => v.sum(),
            Reduction::Mean => v.mean().unwrap_or(f32::NAN),
            Reduction::Max => v.fold(f32::NEG_INFINITY, |m, &x| m.max(x)),
            Reduction::Min => v.fold(f32::INFINITY, |m, &x| m.min(x)),
        }
    }

    /// Along an axis of a `rows × cols` view: `Axis(1)` reduces each row, `Axis(0)` each column.
    pub fn reduce_axis(op: Reduction, x: &[f32], cols: usize, axis: usize, out: &mut [f32]) {
        let rows = x.len().checked_div(cols).unwrap_or(0);
        let v = ArrayView2::from_shape((rows, cols), x).expect("matrix is rows × cols");
        let ax = Axis(axis);
        let r = match op {
            Reduction::Sum => v.sum_axis(ax),
            Reduction::Mean => v.mean_axis(ax).expect("non-empty axis"),
            Reduction::Max => v.fold_axis(ax, f32::NEG_INFINITY, |m, &x| m.max(x)),
            Reduction::Min => v.fold_axis(ax, f32::INFINITY, |m, &x| m.min(x)),
        };
        out.copy_from_slice(r.as_slice().expect("contiguous result"));
    }
}

/// `C = A·B` (row-major) with the `gemm` crate on `threads` rayon threads.
pub fn gemm_crate(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    threads: usize,
) {
    crate::kernels::check_gemm_sizes("gemm", (m, n, k), a.len(), b.len(), c.len());
    let par = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the sizes were checked; strides describe row-major m×k, k×n and m×n matrices.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.as_ptr(),
            1,
            k as isize,
            b.as_ptr(),
            1,
            n as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            par,
        )
    }
}

/// `C = A·B` (row-major) with `matrixmultiply::sgemm` (its own threads, `MATMUL_NUM_THREADS`).
pub fn matrixmultiply(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    crate::kernels::check_gemm_sizes("gemm", (m, n, k), a.len(), b.len(), c.len());
    // SAFETY: the sizes were checked; strides describe row-major matrices.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        )
    }
}
