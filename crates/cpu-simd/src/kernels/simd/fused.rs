//! Fused kernels: several elementwise steps in one pass over memory, and GEMM with a bias and an
//! activation applied in its output pass ([`super::gemm::Epilogue`]). The unfused compositions
//! of the same ops are the kernels in [`super::Kernels`] called one after another.

use super::elementwise::{BinaryOp, UnaryOp};
use super::gemm::{self, Epilogue, GemmArgs, GemmWorkspace};
use super::lanes::Lanes;
use super::{Kernels, Map, Task, math};

/// The activation after a fused bias.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Act {
    Identity,
    Relu,
    /// The tanh-form GELU of [`Kernels::gelu`].
    Gelu,
}

impl Act {
    pub fn name(self) -> &'static str {
        match self {
            Act::Identity => "identity",
            Act::Relu => "relu",
            Act::Gelu => "gelu",
        }
    }

    #[inline(always)]
    fn apply<S: Lanes>(self, s: S, x: S::V) -> S::V {
        match self {
            Act::Identity => x,
            Act::Relu => s.max(x, s.splat(0.0)),
            Act::Gelu => math::gelu(s, x),
        }
    }
}

/// `act(c + bias[j])`: the bias is indexed by column of the GEMM region.
#[derive(Debug, Clone, Copy)]
struct BiasAct {
    bias: *const f32,
    act: Act,
}
impl Epilogue for BiasAct {
    #[inline(always)]
    fn apply<S: Lanes>(self, s: S, v: S::V, j: usize) -> S::V {
        // SAFETY: the caller of `gemm_bias_act_raw` guarantees the bias covers the region's columns.
        let b = unsafe { s.load(self.bias.add(j)) };
        self.act.apply(s, s.add(v, b))
    }
}

/// `max(a + b, 0)`.
#[derive(Debug, Clone, Copy)]
struct AddRelu;
impl BinaryOp for AddRelu {
    #[inline(always)]
    fn apply<S: Lanes>(self, s: S, a: S::V, b: S::V) -> S::V {
        s.max(s.add(a, b), s.splat(0.0))
    }
}

/// `act(x·scale + shift)` (a folded batch norm, then an activation).
#[derive(Debug, Clone, Copy)]
struct ScaleShiftAct {
    scale: f32,
    shift: f32,
    act: Act,
}
impl UnaryOp for ScaleShiftAct {
    #[inline(always)]
    fn apply<S: Lanes>(self, s: S, x: S::V) -> S::V {
        self.act
            .apply(s, s.fma(x, s.splat(self.scale), s.splat(self.shift)))
    }
}

impl Kernels {
    /// `out = max(a + b, 0)` in one pass.
    pub fn add_relu(&self, a: &[f32], b: &[f32], out: &mut [f32]) {
        self.zip(AddRelu, a, b, out)
    }

    /// `out[r, ..] = act(x[r, ..]·scale[r] + shift[r])` for a `scale.len() × cols` matrix: an
    /// inference batch norm on NCHW data (one row per channel) fused with its activation.
    pub fn scale_shift_rows(
        &self,
        x: &[f32],
        scale: &[f32],
        shift: &[f32],
        act: Act,
        out: &mut [f32],
    ) {
        let rows = scale.len();
        assert!(
            shift.len() == rows && x.len() == out.len() && rows > 0 && x.len().is_multiple_of(rows),
            "scale_shift_rows operand sizes do not match"
        );
        let cols = x.len() / rows;
        for (r, (xr, or)) in x
            .chunks_exact(cols)
            .zip(out.chunks_exact_mut(cols))
            .enumerate()
        {
            let op = ScaleShiftAct {
                scale: scale[r],
                shift: shift[r],
                act,
            };
            self.run(Map { op, x: xr, out: or });
        }
    }

    /// `C = act(A·B + bias)` with bias and activation applied in the GEMM's output pass.
    #[allow(clippy::too_many_arguments)] // the BLAS shape plus the epilogue
    pub fn gemm_bias_act(
        &self,
        m: usize,
        n: usize,
        k: usize,
        a: &[f32],
        b: &[f32],
        bias: &[f32],
        act: Act,
        c: &mut [f32],
        ws: &mut GemmWorkspace,
    ) {
        crate::kernels::check_gemm_sizes("gemm_bias_act", (m, n, k), a.len(), b.len(), c.len());
        assert_eq!(
            bias.len(),
            n,
            "gemm_bias_act: bias has {} elements, n={n}",
            bias.len()
        );
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
        // SAFETY: sizes checked above; the bias holds n floats.
        unsafe { self.gemm_bias_act_raw(g, bias.as_ptr(), act, ws) }
    }

    /// [`Kernels::gemm_bias_act`] on a strided region.
    ///
    /// # Safety
    /// As [`Kernels::gemm_raw`], and `bias` must be readable for the region's `n` columns.
    pub(crate) unsafe fn gemm_bias_act_raw(
        &self,
        g: GemmArgs,
        bias: *const f32,
        act: Act,
        ws: &mut GemmWorkspace,
    ) {
        let e = BiasAct { bias, act };
        self.run(GemmEpilogueTask { g, ws, e })
    }
}

struct GemmEpilogueTask<'a, E> {
    g: GemmArgs,
    ws: &'a mut GemmWorkspace,
    e: E,
}
impl<E: Epilogue> Task for GemmEpilogueTask<'_, E> {
    type Out = ();
    #[inline(always)]
    fn run<S: Lanes>(self, s: S) {
        // SAFETY: `gemm_bias_act_raw`'s caller upholds the region and bias contract.
        unsafe { gemm::gemm_with(s, self.g, self.ws, self.e) }
    }
}
