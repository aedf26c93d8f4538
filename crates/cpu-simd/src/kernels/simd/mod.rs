//! Explicit SIMD kernels: AVX-512F and AVX2+FMA on x86_64 (detected at run time), NEON on
//! aarch64, simd128 on wasm32 (fixed when the module is built), and a portable fallback that
//! compiles everywhere.
//!
//! Each kernel is written once, generically over an internal `Lanes` register abstraction, and
//! instantiated per instruction set inside a `#[target_feature]` function. [`Kernels`] is the
//! public face: `Kernels::best()` picks the widest instruction set this CPU has, and
//! `Kernels::new(isa)` pins one (tests run every kernel on every available set).

mod elementwise;
mod fused;
mod gemm;
mod lanes;
mod math;
#[cfg(target_arch = "aarch64")]
mod neon;
mod peak;
mod reduce;
mod rows;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm;
#[cfg(target_arch = "x86_64")]
mod x86;

pub use fused::Act;
pub(crate) use gemm::GemmArgs;
pub use gemm::GemmWorkspace;

use super::Reduction;
use elementwise::{Add, BinaryOp, Div, Mul, Sub, UnaryOp, WithScalar};
use lanes::{Lanes, Portable};
use reduce::{MaxOp, MinOp, ReduceOp, SumOp};

/// An instruction set a kernel can be compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Isa {
    /// Plain arrays the compiler vectorises for the baseline target (SSE2, simd128, ...).
    Portable,
    Avx2,
    Avx512,
    Neon,
    /// wasm32 `simd128`; present only in modules built with `-C target-feature=+simd128`.
    Simd128,
}

impl Isa {
    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
            Isa::Neon => "neon",
            Isa::Simd128 => "simd128",
        }
    }

    /// Whether this CPU can run kernels compiled for this instruction set.
    pub fn is_supported(self) -> bool {
        match self {
            Isa::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => {
                Isa::Avx2.is_supported() && std::arch::is_x86_feature_detected!("avx512f")
            }
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => true,
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            Isa::Simd128 => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// Every instruction set this CPU supports, narrowest first.
    pub fn available() -> Vec<Isa> {
        [
            Isa::Portable,
            Isa::Simd128,
            Isa::Neon,
            Isa::Avx2,
            Isa::Avx512,
        ]
        .into_iter()
        .filter(|i| i.is_supported())
        .collect()
    }

    /// The widest supported instruction set.
    pub fn best() -> Isa {
        [Isa::Avx512, Isa::Avx2, Isa::Neon, Isa::Simd128]
            .into_iter()
            .find(|i| i.is_supported())
            .unwrap_or(Isa::Portable)
    }
}

/// One kernel call, generic over the register type so it can be instantiated per instruction set.
trait Task {
    type Out;
    fn run<S: Lanes>(self, s: S) -> Self::Out;
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn run_avx2<T: Task>(t: T) -> T::Out {
    t.run(x86::Avx2(()))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
fn run_avx512<T: Task>(t: T) -> T::Out {
    t.run(x86::Avx512(()))
}

/// The SIMD kernel family, bound to one supported instruction set.
///
/// All slices are row-major `f32`; every length works (tails take the same arithmetic one lane
/// at a time). Mismatched lengths panic with a message naming the mismatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kernels {
    isa: Isa,
}

impl Kernels {
    /// Kernels for the widest instruction set this CPU has.
    pub fn best() -> Self {
        Self { isa: Isa::best() }
    }

    /// Kernels for `isa`, or `None` when this CPU lacks it.
    pub fn new(isa: Isa) -> Option<Self> {
        isa.is_supported().then_some(Self { isa })
    }

    pub fn isa(&self) -> Isa {
        self.isa
    }

    #[inline]
    fn run<T: Task>(&self, t: T) -> T::Out {
        match self.isa {
            // SAFETY: `Kernels` only exists for supported instruction sets.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { run_avx512(t) },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { run_avx2(t) },
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => t.run(neon::Neon),
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            Isa::Simd128 => t.run(wasm::Simd128),
            _ => t.run(Portable),
        }
    }

    fn zip<O: BinaryOp>(&self, op: O, a: &[f32], b: &[f32], out: &mut [f32]) {
        self.run(Zip { op, a, b, out })
    }

    fn map<O: UnaryOp>(&self, op: O, x: &[f32], out: &mut [f32]) {
        self.run(Map { op, x, out })
    }

    /// `out = a + b`.
    pub fn add(&self, a: &[f32], b: &[f32], out: &mut [f32]) {
        self.zip(Add, a, b, out)
    }
    /// `out = a - b`.
    pub fn sub(&self, a: &[f32], b: &[f32], out: &mut [f32]) {
        self.zip(Sub, a, b, out)
    }
    /// `out = a * b`.
    pub fn mul(&self, a: &[f32], b: &[f32], out: &mut [f32]) {
        self.zip(Mul, a, b, out)
    }
    /// `out = a + s·b` (the STREAM triad).
    pub fn scale_add(&self, a: &[f32], b: &[f32], s: f32, out: &mut [f32]) {
        self.zip(elementwise::ScaleAdd(s), a, b, out)
    }
    /// `out = a / b`.
    pub fn div(&self, a: &[f32], b: &[f32], out: &mut [f32]) {
        self.zip(Div, a, b, out)
    }
    /// `out = x + c`.
    pub fn add_scalar(&self, x: &[f32], c: f32, out: &mut [f32]) {
        self.map(WithScalar(Add, c), x, out)
    }
    /// `out = x - c`.
    pub fn sub_scalar(&self, x: &[f32], c: f32, out: &mut [f32]) {
        self.map(WithScalar(Sub, c), x, out)
    }
    /// `out = x * c`.
    pub fn mul_scalar(&self, x: &[f32], c: f32, out: &mut [f32]) {
        self.map(WithScalar(Mul, c), x, out)
    }
    /// `out = x / c`.
    pub fn div_scalar(&self, x: &[f32], c: f32, out: &mut [f32]) {
        self.map(WithScalar(Div, c), x, out)
    }
    /// `out = max(x, 0)`.
    pub fn relu(&self, x: &[f32], out: &mut [f32]) {
        self.map(elementwise::Relu, x, out)
    }
    /// `out = max(x, 0) + alpha·min(x, 0)`.
    pub fn leaky_relu(&self, x: &[f32], alpha: f32, out: &mut [f32]) {
        self.map(elementwise::LeakyRelu(alpha), x, out)
    }
    /// `out = 1 / (1 + e^-x)`.
    pub fn sigmoid(&self, x: &[f32], out: &mut [f32]) {
        self.map(elementwise::Sigmoid, x, out)
    }
    /// `out = tanh(x)` (rational minimax approximation, a few ulp).
    pub fn tanh(&self, x: &[f32], out: &mut [f32]) {
        self.map(elementwise::Tanh, x, out)
    }
    /// GELU, tanh approximation: `0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³)))`.
    pub fn gelu(&self, x: &[f32], out: &mut [f32]) {
        self.map(elementwise::Gelu, x, out)
    }
    /// `out = e^x` (Cephes-style polynomial, about 2 ulp; saturates instead of overflowing).
    pub fn exp(&self, x: &[f32], out: &mut [f32]) {
        self.map(elementwise::Exp, x, out)
    }
    /// `out = 0`.
    pub fn zeros(&self, out: &mut [f32]) {
        self.fill(out, 0.0)
    }
    /// `out = x` with ordinary stores (never `memcpy`'s non-temporal path).
    pub fn copy(&self, x: &[f32], out: &mut [f32]) {
        self.run(CopyTask { x, out })
    }
    /// `out = value`.
    pub fn fill(&self, out: &mut [f32], value: f32) {
        self.run(FillTask { value, out })
    }
    /// Sum of all elements, pairwise over blocks (error grows with log n).
    pub fn sum(&self, x: &[f32]) -> f32 {
        self.reduce(Reduction::Sum, x)
    }
    /// `Σ a[i]·b[i]`, pairwise over blocks like [`Kernels::sum`].
    pub fn dot(&self, a: &[f32], b: &[f32]) -> f32 {
        self.run(Dot { a, b })
    }
    /// Whole-slice reduction; the identity (0, -inf, +inf; NaN for a mean) for an empty slice.
    pub fn reduce(&self, op: Reduction, x: &[f32]) -> f32 {
        match op {
            Reduction::Sum => self.run(Whole { op: SumOp, x }),
            Reduction::Mean => self.run(Whole { op: SumOp, x }) / x.len() as f32,
            Reduction::Max => self.run(Whole { op: MaxOp, x }),
            Reduction::Min => self.run(Whole { op: MinOp, x }),
        }
    }
    /// `out[r] = op(x[r, ..])` for a `out.len() × cols` matrix.
    pub fn reduce_rows(&self, op: Reduction, x: &[f32], cols: usize, out: &mut [f32]) {
        match op {
            Reduction::Sum | Reduction::Mean => self.run(Rows {
                op: SumOp,
                x,
                cols,
                out: &mut *out,
            }),
            Reduction::Max => self.run(Rows {
                op: MaxOp,
                x,
                cols,
                out,
            }),
            Reduction::Min => self.run(Rows {
                op: MinOp,
                x,
                cols,
                out,
            }),
        }
        if op == Reduction::Mean {
            let inv = 1.0 / cols as f32;
            self.run(InPlace {
                op: WithScalar(Mul, inv),
                x: out,
            });
        }
    }
    /// `out[c] = op(x[.., c])` for a `rows × out.len()` matrix.
    pub fn reduce_cols(&self, op: Reduction, x: &[f32], out: &mut [f32]) {
        let cols = out.len();
        match op {
            Reduction::Sum | Reduction::Mean => self.run(Cols {
                op: SumOp,
                x,
                out: &mut *out,
            }),
            Reduction::Max => self.run(Cols { op: MaxOp, x, out }),
            Reduction::Min => self.run(Cols { op: MinOp, x, out }),
        }
        if op == Reduction::Mean && cols > 0 {
            let inv = 1.0 / (x.len() / cols) as f32;
            self.run(InPlace {
                op: WithScalar(Mul, inv),
                x: out,
            });
        }
    }
    /// Softmax along each row of `cols` elements.
    pub fn softmax_rows(&self, x: &[f32], cols: usize, out: &mut [f32]) {
        self.run(Softmax { x, cols, out })
    }
    /// Layer normalisation along each row of `gamma.len()` elements.
    pub fn layer_norm_rows(
        &self,
        x: &[f32],
        gamma: &[f32],
        beta: &[f32],
        eps: f32,
        out: &mut [f32],
    ) {
        self.run(LayerNorm {
            x,
            gamma,
            beta,
            eps,
            out,
        })
    }
    /// `C[m×n] = A[m×k]·B[k×n]`, row-major, single-threaded; `ws` keeps the packing buffers.
    #[allow(clippy::too_many_arguments)] // the BLAS shape: sizes, operands, workspace
    pub fn gemm(
        &self,
        m: usize,
        n: usize,
        k: usize,
        a: &[f32],
        b: &[f32],
        c: &mut [f32],
        ws: &mut GemmWorkspace,
    ) {
        crate::kernels::check_gemm_sizes("gemm", (m, n, k), a.len(), b.len(), c.len());
        let g = GemmArgs {
            m,
            n,
            k,
            a: a.as_ptr(),
            lda: k,
            b: b.as_ptr(),
            ldb: n,
            c: c.as_mut_ptr(),
            ldc: n,
        };
        // SAFETY: the sizes were checked above and `c` is borrowed mutably.
        unsafe { self.gemm_raw(g, ws) }
    }
    /// GEMM on a strided region (used by the parallel family to hand C tiles to threads).
    ///
    /// # Safety
    /// As [`gemm::gemm`]: the regions must be valid and the C region not aliased.
    pub(crate) unsafe fn gemm_raw(&self, g: GemmArgs, ws: &mut GemmWorkspace) {
        self.run(GemmTask { g, ws })
    }
    /// Runs the FMA-chain peak kernel for `iters` steps; returns the sum of all lanes.
    pub fn fma_chain(&self, iters: usize, a: f32, b: f32) -> f32 {
        self.run(FmaChain { iters, a, b })
    }
    /// `(chains, lanes per chain)` of [`Kernels::fma_chain`]: FLOPs per step = 2·chains·lanes.
    pub fn fma_chain_shape(&self) -> (usize, usize) {
        self.run(FmaShape)
    }
}

struct Zip<'a, O> {
    op: O,
    a: &'a [f32],
    b: &'a [f32],
    out: &'a mut [f32],
}
impl<O: BinaryOp> Task for Zip<'_, O> {
    type Out = ();
    #[inline(always)]
    fn run<S: Lanes>(self, s: S) {
        elementwise::zip(s, self.op, self.a, self.b, self.out)
    }
}

struct Map<'a, O> {
    op: O,
    x: &'a [f32],
    out: &'a mut [f32],
}
impl<O: UnaryOp> Task for Map<'_, O> {
    type Out = ();
    #[inline(always)]
    fn run<S: Lanes>(self, s: S) {
        elementwise::map(s, self.op, self.x, self.out)
    }
}

struct InPlace<'a, O> {
    op: O,
    x: &'a mut [f32],
}
impl<O: UnaryOp> Task for InPlace<'_, O> {
    type Out = ();
    #[inline(always)]
    fn run<S: Lanes>(self, s: S) {
        elementwise::map_in_place(s, self.op, self.x)
    }
}

struct CopyTask<'a> {
    x: &'a [f32],
    out: &'a mut [f32],
}
impl Task for CopyTask<'_> {
    type Out = ();
    #[inline(always)]
    fn run<S: Lanes>(self, s: S) {
        elementwise::copy(s, self.x, self.out)
    }
}

struct FillTask<'a> {
    value: f32,
    out: &'a mut [f32],
}
impl Task for FillTask<'_> {
    type Out = ();
    #[inline(always)]
    fn run<S: Lanes>(self, s: S) {
        elementwise::fill(s, self.value, self.out)
    }
}

struct Whole<'a, R> {
    op: R,
    x: &'a [f32],
}
impl<R: ReduceOp> Task for Whole<'_, R> {
    type Out = f32;
    #[inline(always)]
    fn run<S: Lanes>(self, s: S) -> f32 {
        reduce::reduce(s, self.op, self.x)
    }
}

struct Rows<'a, R> {
    op: R,
    x: &'a [f32],
    cols: usize,
    out: &'a mut [f32],
}
impl<R: ReduceOp> Task for Rows<'_, R> {
    type Out = ();
    #[inline(always)]
    fn run<S: Lanes>(self, s: S) {
        reduce::reduce_rows(s, self.op, self.x, self.cols, self.out)
    }
}

struct Cols<'a, R> {
    op: R,
    x: &'a [f32],
    out: &'a mut [f32],
}
impl<R: ReduceOp> Task for Cols<'_, R> {
    type Out = ();
    #[inline(always)]
    fn run<S: Lanes>(self, s: S) {
        let cols = self.out.len();
        reduce::reduce_cols(s, self.op, self.x, cols, self.out)
    }
}

struct Softmax<'a> {
    x: &'a [f32],
    cols: usize,
    out: &'a mut [f32],
}
impl Task for Softmax<'_> {
    type Out = ();
    #[inline(always)]
    fn run<S: Lanes>(self, s: S) {
        rows::softmax_rows(s, self.x, self.cols, self.out)
    }
}

struct LayerNorm<'a> {
    x: &'a [f32],
    gamma: &'a [f32],
    beta: &'a [f32],
    eps: f32,
    out: &'a mut [f32],
}
impl Task for LayerNorm<'_> {
    type Out = ();
    #[inline(always)]
    fn run<S: Lanes>(self, s: S) {
        rows::layer_norm_rows(s, self.x, self.gamma, self.beta, self.eps, self.out)
    }
}

struct GemmTask<'a> {
    g: GemmArgs,
    ws: &'a mut GemmWorkspace,
}
impl Task for GemmTask<'_> {
    type Out = ();
    #[inline(always)]
    fn run<S: Lanes>(self, s: S) {
        // SAFETY: `gemm_raw`'s caller upholds the region contract.
        unsafe { gemm::gemm(s, self.g, self.ws) }
    }
}

struct Dot<'a> {
    a: &'a [f32],
    b: &'a [f32],
}
impl Task for Dot<'_> {
    type Out = f32;
    #[inline(always)]
    fn run<S: Lanes>(self, s: S) -> f32 {
        reduce::dot(s, self.a, self.b)
    }
}

struct FmaChain {
    iters: usize,
    a: f32,
    b: f32,
}
impl Task for FmaChain {
    type Out = f32;
    #[inline(always)]
    fn run<S: Lanes>(self, s: S) -> f32 {
        peak::fma_chains(s, self.iters, self.a, self.b)
    }
}

struct FmaShape;
impl Task for FmaShape {
    type Out = (usize, usize);
    #[inline(always)]
    fn run<S: Lanes>(self, _s: S) -> (usize, usize) {
        (peak::chain_count::<S>(), S::WIDTH)
    }
}
