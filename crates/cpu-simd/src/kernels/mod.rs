//! The kernels, as plain functions over `f32` slices, in backend families:
//!
//! - [`scalar`]: the readable reference, one element at a time;
//! - [`simd`]: explicit SIMD per instruction set ([`simd::Kernels`]), with a portable fallback;
//! - [`par`] (feature `parallel`): rayon over the SIMD kernels, in chunks;
//! - [`peers`] (feature `suite`): well-known crates (`ndarray`, `gemm`, `matrixmultiply`);
//! - [`conv`]: conv2d via im2col + any of the GEMMs above;
//! - [`int8`]: quantized dot and GEMM (`i8` in, `i32` accumulated).
//!
//! Everything outside `par` and `peers` is free of threads and OS services (except the AMX
//! peak's one `arch_prctl`, x86_64 Linux only), so a wasm32 build can use it unchanged.

pub mod amx_peak;
pub mod bf16_peak;
pub mod conv;
pub mod f16_peak;
pub mod half_prec;
pub mod int8;
pub mod int8_gemm;
pub mod int8_peak;
#[cfg(feature = "parallel")]
pub mod par;
#[cfg(feature = "suite")]
pub mod peers;
pub mod quant;
pub mod scalar;
pub mod simd;
pub mod sparse;
pub mod stream_nt;

/// Panics, naming `what` and the shape, unless `a`, `b` and `c` hold exactly `m·k`, `k·n` and
/// `m·n` elements. The products are checked: a wrapped product could match a short slice in
/// release builds and send the unchecked kernels out of bounds.
#[track_caller]
pub fn check_gemm_sizes(
    what: &str,
    (m, n, k): (usize, usize, usize),
    a: usize,
    b: usize,
    c: usize,
) {
    let len = |x: usize, y: usize| x.checked_mul(y);
    let (mk, kn, mn) = (len(m, k), len(k, n), len(m, n));
    assert!(
        mk.is_some() && kn.is_some() && mn.is_some(),
        "{what}: m={m} n={n} k={k} overflows usize"
    );
    assert!(
        mk == Some(a) && kn == Some(b) && mn == Some(c),
        "{what} operand sizes do not match m={m} n={n} k={k}: a has {a}, b {b}, c {c} elements"
    );
}

/// A reduction over a slice, a row or a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reduction {
    Sum,
    Mean,
    Max,
    Min,
}

impl Reduction {
    pub const ALL: [Reduction; 4] = [
        Reduction::Sum,
        Reduction::Mean,
        Reduction::Max,
        Reduction::Min,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Reduction::Sum => "sum",
            Reduction::Mean => "mean",
            Reduction::Max => "max",
            Reduction::Min => "min",
        }
    }

    /// The f64 reference of this reduction (NaN for the mean of nothing).
    pub fn reference(self, x: impl IntoIterator<Item = f64>) -> f64 {
        let (mut sum, mut max, mut min, mut n) = (0.0, f64::NEG_INFINITY, f64::INFINITY, 0usize);
        for v in x {
            sum += v;
            max = max.max(v);
            min = min.min(v);
            n += 1;
        }
        match self {
            Reduction::Sum => sum,
            Reduction::Mean => sum / n as f64,
            Reduction::Max => max,
            Reduction::Min => min,
        }
    }
}

/// The slope of leaky ReLU for negative inputs used by the workloads.
pub const LEAKY_RELU_ALPHA: f32 = 0.01;
/// The epsilon of layer normalisation used by the workloads (the one every backend uses).
pub use tensorbench_ops::reference::LAYER_NORM_EPS;

/// `out (cols × rows) = xᵀ` for row-major `x` (`rows × cols`), in tiles that stay in L1.
pub fn transpose<T: Copy>(rows: usize, cols: usize, x: &[T], out: &mut [T]) {
    const TILE: usize = 32;
    assert!(
        x.len() == rows * cols && out.len() == rows * cols,
        "transpose sizes"
    );
    for i0 in (0..rows).step_by(TILE) {
        for j0 in (0..cols).step_by(TILE) {
            for i in i0..(i0 + TILE).min(rows) {
                for j in j0..(j0 + TILE).min(cols) {
                    out[j * rows + i] = x[i * cols + j];
                }
            }
        }
    }
}

#[cfg(test)]
mod size_checks {
    /// m·k = 2^64 wraps to 0 in release, which an unchecked `a.len() == m * k` takes for an
    /// empty A; the check must refuse the shape before any kernel indexes.
    #[test]
    #[should_panic(expected = "overflows usize")]
    fn a_gemm_whose_sizes_overflow_is_refused_before_indexing() {
        let (m, k) = (1usize << 33, 1usize << 31);
        super::scalar::gemm(m, 0, k, &[], &[], &mut []);
    }

    #[test]
    #[should_panic(expected = "operand sizes do not match")]
    fn a_gemm_with_a_short_operand_is_refused() {
        super::scalar::gemm(2, 2, 2, &[0.0; 3], &[0.0; 4], &mut [0.0; 4]);
    }
}
