//! f16 and bf16 storage with f32 arithmetic: the CPU has no f16 FMA we can count on, so values are
//! widened to f32 inside the kernel, tile by tile, and every product and sum is f32.
//!
//! - GEMM: B is widened once per call into a reusable buffer, A one row panel at a time, and the
//!   panel goes through the packed f32 GEMM ([`Kernels::gemm`]).
//! - GEMV `y = A·x` with A stored in f16/bf16 (weights) and x in f32: the memory-bound case,
//!   where halving the bytes of A is the point. On x86_64 rows are widened in registers
//!   (F16C `vcvtph2ps` for f16, a 16-bit shift for bf16) and dotted with AVX2 FMAs.

use super::simd::{GemmWorkspace, Kernels};
use half::slice::HalfFloatSliceExt;
use half::{bf16, f16};

/// A storage element: f32 itself, f16 or bf16.
pub trait Storage: Copy + Send + Sync + 'static {
    fn from_f32(x: f32) -> Self;
    fn to_f32(self) -> f32;
    /// Widens `src` into `dst` (same length), vectorised by `half` where the CPU allows.
    fn widen(src: &[Self], dst: &mut [f32]);
}

impl Storage for f32 {
    fn from_f32(x: f32) -> Self {
        x
    }
    fn to_f32(self) -> f32 {
        self
    }
    fn widen(src: &[f32], dst: &mut [f32]) {
        dst.copy_from_slice(src)
    }
}

impl Storage for f16 {
    fn from_f32(x: f32) -> Self {
        f16::from_f32(x)
    }
    fn to_f32(self) -> f32 {
        f16::to_f32(self)
    }
    fn widen(src: &[f16], dst: &mut [f32]) {
        src.convert_to_f32_slice(dst)
    }
}

impl Storage for bf16 {
    fn from_f32(x: f32) -> Self {
        bf16::from_f32(x)
    }
    fn to_f32(self) -> f32 {
        bf16::to_f32(self)
    }
    fn widen(src: &[bf16], dst: &mut [f32]) {
        src.convert_to_f32_slice(dst)
    }
}

/// Rounds every value to `T` (round to nearest even).
pub fn narrow<T: Storage>(x: &[f32]) -> Vec<T> {
    x.iter().map(|&v| T::from_f32(v)).collect()
}

/// Widens a whole slice to a new f32 vector.
pub fn widen_vec<T: Storage>(x: &[T]) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    T::widen(x, &mut out);
    out
}

/// Rows of A widened per GEMM call: a panel of this many rows stays in L2 for k up to ~1024.
const PANEL_ROWS: usize = 192;

/// Reusable buffers of the half-precision GEMM.
#[derive(Debug, Default, Clone)]
pub struct HalfGemmWorkspace {
    a: Vec<f32>,
    b: Vec<f32>,
    gemm: GemmWorkspace,
}

impl HalfGemmWorkspace {
    pub fn new() -> Self {
        Self::default()
    }
}

fn check_gemm<T>(m: usize, n: usize, k: usize, a: &[T], b: &[T], c: &[f32]) {
    crate::kernels::check_gemm_sizes("half gemm", (m, n, k), a.len(), b.len(), c.len());
}

/// `C[m×n] = A[m×k]·B[k×n]` (row-major) with A and B stored in `T`, f32 arithmetic, one thread.
#[allow(clippy::too_many_arguments)] // the BLAS shape: sizes, operands, workspace
pub fn gemm<T: Storage>(
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    b: &[T],
    c: &mut [f32],
    ws: &mut HalfGemmWorkspace,
) {
    check_gemm(m, n, k, a, b, c);
    ws.b.resize(k * n, 0.0);
    T::widen(b, &mut ws.b);
    if k == 0 || n == 0 {
        c.fill(0.0);
        return;
    }
    let kernels = Kernels::best();
    for (a_rows, c_rows) in a.chunks(PANEL_ROWS * k).zip(c.chunks_mut(PANEL_ROWS * n)) {
        let rows = c_rows.len() / n;
        ws.a.resize(rows * k, 0.0);
        T::widen(a_rows, &mut ws.a);
        kernels.gemm(rows, n, k, &ws.a, &ws.b, c_rows, &mut ws.gemm);
    }
}

/// As [`gemm`], with row panels of C over rayon (each thread widens its own A panel; B is
/// widened once, in parallel chunks).
#[cfg(feature = "parallel")]
pub fn par_gemm<T: Storage>(
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    b: &[T],
    c: &mut [f32],
    b_wide: &mut Vec<f32>,
) {
    use rayon::prelude::*;
    use std::cell::RefCell;
    thread_local! {
        static WS: RefCell<(Vec<f32>, GemmWorkspace)> = RefCell::default();
    }
    check_gemm(m, n, k, a, b, c);
    b_wide.resize(k * n, 0.0);
    const WIDEN_CHUNK: usize = 1 << 14;
    b_wide
        .par_chunks_mut(WIDEN_CHUNK)
        .zip(b.par_chunks(WIDEN_CHUNK))
        .for_each(|(d, s)| T::widen(s, d));
    if k == 0 || n == 0 {
        c.fill(0.0);
        return;
    }
    let threads = rayon::current_num_threads();
    let panel = m.div_ceil(threads).next_multiple_of(16).min(PANEL_ROWS);
    let b_wide = &b_wide[..];
    let kernels = Kernels::best();
    c.par_chunks_mut(panel * n)
        .zip(a.par_chunks(panel * k))
        .for_each(|(c_rows, a_rows)| {
            let rows = c_rows.len() / n;
            WS.with(|ws| {
                let (a_wide, gws) = &mut *ws.borrow_mut();
                a_wide.resize(rows * k, 0.0);
                T::widen(a_rows, a_wide);
                kernels.gemm(rows, n, k, a_wide, b_wide, c_rows, gws);
            });
        });
}

/// A storage type the GEMV kernel can widen in registers.
pub trait GemvStorage: Storage {
    /// `Σ row[p]·x[p]` in f32.
    fn dot(row: &[Self], x: &[f32]) -> f32;
}

fn check_gemv<T>(a: &[T], x: &[f32], y: &[f32]) {
    assert!(
        a.len() == y.len() * x.len(),
        "gemv sizes do not match: A has {} values, x {} and y {}",
        a.len(),
        x.len(),
        y.len()
    );
}

/// `y = A·x` for row-major `A[y.len() × x.len()]` stored in `T`, one thread.
pub fn gemv<T: GemvStorage>(a: &[T], x: &[f32], y: &mut [f32]) {
    check_gemv(a, x, y);
    let k = x.len();
    if k == 0 {
        y.fill(0.0);
        return;
    }
    for (out, row) in y.iter_mut().zip(a.chunks(k)) {
        *out = T::dot(row, x);
    }
}

/// `y = A·x` with blocks of rows over rayon.
#[cfg(feature = "parallel")]
pub fn par_gemv<T: GemvStorage>(a: &[T], x: &[f32], y: &mut [f32]) {
    use rayon::prelude::*;
    check_gemv(a, x, y);
    let k = x.len();
    if k == 0 {
        y.fill(0.0);
        return;
    }
    const ROWS: usize = 64;
    y.par_chunks_mut(ROWS)
        .zip(a.par_chunks(ROWS * k))
        .for_each(|(ys, rows)| gemv(rows, x, ys));
}

impl GemvStorage for f32 {
    fn dot(row: &[f32], x: &[f32]) -> f32 {
        #[cfg(target_arch = "x86_64")]
        if x86::has_avx2_fma() {
            // SAFETY: AVX2 and FMA were detected.
            return unsafe { x86::dot_f32(row, x) };
        }
        portable_dot(row, x)
    }
}

impl GemvStorage for f16 {
    fn dot(row: &[f16], x: &[f32]) -> f32 {
        #[cfg(target_arch = "x86_64")]
        if x86::has_avx2_fma() && std::arch::is_x86_feature_detected!("f16c") {
            // SAFETY: AVX2, FMA and F16C were detected.
            return unsafe { x86::dot_f16(row, x) };
        }
        portable_dot(row, x)
    }
}

impl GemvStorage for bf16 {
    fn dot(row: &[bf16], x: &[f32]) -> f32 {
        #[cfg(target_arch = "x86_64")]
        if x86::has_avx2_fma() {
            // SAFETY: AVX2 and FMA were detected.
            return unsafe { x86::dot_bf16(row, x) };
        }
        portable_dot(row, x)
    }
}

/// Widens 64 values at a time on the stack, then eight independent f32 sums.
fn portable_dot<T: Storage>(row: &[T], x: &[f32]) -> f32 {
    const CHUNK: usize = 64;
    let mut buf = [0.0f32; CHUNK];
    let mut acc = [0.0f32; 8];
    for (r, xs) in row.chunks(CHUNK).zip(x.chunks(CHUNK)) {
        let wide = &mut buf[..r.len()];
        T::widen(r, wide);
        for (i, (&a, &b)) in wide.iter().zip(xs).enumerate() {
            acc[i % 8] += a * b;
        }
    }
    acc.iter().sum()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use half::{bf16, f16};
    use std::arch::x86_64::*;

    pub(super) fn has_avx2_fma() -> bool {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }

    /// Four independent 8-lane accumulators over 32 values per step; `load(i)` widens the eight
    /// values starting at `i`. The tail is summed one value at a time.
    #[inline(always)]
    unsafe fn dot_with(
        len: usize,
        x: &[f32],
        load: impl Fn(usize) -> __m256,
        tail: impl Fn(usize) -> f32,
    ) -> f32 {
        // SAFETY: the callers are compiled with AVX2+FMA, which they checked; `load` reads
        // eight values at i with i + 8 <= len = x.len().
        unsafe {
            let mut acc = [_mm256_setzero_ps(); 4];
            let body = len / 32 * 32;
            for i in (0..body).step_by(32) {
                for (u, a) in acc.iter_mut().enumerate() {
                    let j = i + 8 * u;
                    *a = _mm256_fmadd_ps(load(j), _mm256_loadu_ps(x.as_ptr().add(j)), *a);
                }
            }
            let mut rest = body;
            while rest + 8 <= len {
                acc[0] = _mm256_fmadd_ps(load(rest), _mm256_loadu_ps(x.as_ptr().add(rest)), acc[0]);
                rest += 8;
            }
            let s = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
            let h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps::<1>(s));
            let h = _mm_add_ps(h, _mm_movehl_ps(h, h));
            let mut total = _mm_cvtss_f32(_mm_add_ss(h, _mm_shuffle_ps::<1>(h, h)));
            for (i, &xi) in x.iter().enumerate().take(len).skip(rest) {
                total += tail(i) * xi;
            }
            total
        }
    }

    /// # Safety
    /// AVX2 and FMA must be present.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn dot_f32(row: &[f32], x: &[f32]) -> f32 {
        assert_eq!(row.len(), x.len());
        // SAFETY: features present; loads stay below row.len() (see `dot_with`).
        unsafe {
            dot_with(
                row.len(),
                x,
                |i| _mm256_loadu_ps(row.as_ptr().add(i)),
                |i| row[i],
            )
        }
    }

    /// # Safety
    /// AVX2, FMA and F16C must be present.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub(super) unsafe fn dot_f16(row: &[f16], x: &[f32]) -> f32 {
        assert_eq!(row.len(), x.len());
        let p = row.as_ptr().cast::<__m128i>();
        // SAFETY: features present; each load reads eight f16 (16 bytes) below row.len().
        unsafe {
            dot_with(
                row.len(),
                x,
                |i| _mm256_cvtph_ps(_mm_loadu_si128(p.cast::<u16>().add(i).cast())),
                |i| row[i].to_f32(),
            )
        }
    }

    /// # Safety
    /// AVX2 and FMA must be present.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn dot_bf16(row: &[bf16], x: &[f32]) -> f32 {
        assert_eq!(row.len(), x.len());
        let p = row.as_ptr().cast::<u16>();
        // bf16 is the high half of an f32: zero-extend to 32 bits and shift left by 16.
        // SAFETY: features present; each load reads eight bf16 (16 bytes) below row.len().
        unsafe {
            dot_with(
                row.len(),
                x,
                |i| {
                    let h = _mm_loadu_si128(p.add(i).cast());
                    _mm256_castsi256_ps(_mm256_slli_epi32::<16>(_mm256_cvtepu16_epi32(h)))
                },
                |i| row[i].to_f32(),
            )
        }
    }
}
