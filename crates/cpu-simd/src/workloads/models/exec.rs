//! The ops a model layer is built from, on one backend family: `simd` (one thread, the SIMD
//! kernels in sequence) or `rayon` (the same kernels over rayon, and the parallel GEMM).

use crate::kernels::simd::{Act, GemmArgs, GemmWorkspace, Kernels};
use crate::kernels::{Reduction, par};
use crate::workloads::Backend;
use rayon::prelude::*;
use std::cell::RefCell;

/// A binary op of a row-wise broadcast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowOp {
    Add,
    Sub,
    Mul,
    Div,
}

/// A backend a model runs on, with its GEMM packing buffers.
#[derive(Debug)]
pub struct Exec {
    kernels: Kernels,
    parallel: bool,
    ws: GemmWorkspace,
}

impl Exec {
    /// `simd` or `rayon`; other families have no model implementation.
    pub fn new(backend: Backend) -> Option<Self> {
        let parallel = match backend {
            Backend::Simd => false,
            Backend::Rayon => true,
            _ => return None,
        };
        Some(Self {
            kernels: Kernels::best(),
            parallel,
            ws: GemmWorkspace::new(),
        })
    }

    pub fn kernels(&self) -> Kernels {
        self.kernels
    }

    pub fn is_parallel(&self) -> bool {
        self.parallel
    }

    /// `c = a·b` (`m×k` times `k×n`).
    pub fn gemm(&mut self, m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
        if self.parallel {
            par::gemm(m, n, k, a, b, c)
        } else {
            self.kernels.gemm(m, n, k, a, b, c, &mut self.ws)
        }
    }

    /// `c = act(a·b + bias)`, the bias and activation fused into the GEMM's output pass.
    #[allow(clippy::too_many_arguments)] // the BLAS shape plus the epilogue
    pub fn gemm_bias_act(
        &mut self,
        (m, n, k): (usize, usize, usize),
        a: &[f32],
        b: &[f32],
        bias: &[f32],
        act: Act,
        c: &mut [f32],
    ) {
        if self.parallel {
            par_gemm_bias_act(self.kernels, (m, n, k), a, b, bias, act, c)
        } else {
            let ws = &mut self.ws;
            self.kernels.gemm_bias_act(m, n, k, a, b, bias, act, c, ws)
        }
    }

    /// `out = a + b`.
    pub fn add(&self, a: &[f32], b: &[f32], out: &mut [f32]) {
        if self.parallel {
            par::add(a, b, out)
        } else {
            self.kernels.add(a, b, out)
        }
    }

    /// `out = max(a + b, 0)`, fused.
    pub fn add_relu(&self, a: &[f32], b: &[f32], out: &mut [f32]) {
        let k = self.kernels;
        self.chunked2(a, b, out, move |a, b, o| k.add_relu(a, b, o))
    }

    pub fn relu(&self, x: &[f32], out: &mut [f32]) {
        if self.parallel {
            par::relu(x, out)
        } else {
            self.kernels.relu(x, out)
        }
    }

    pub fn gelu(&self, x: &[f32], out: &mut [f32]) {
        if self.parallel {
            par::gelu(x, out)
        } else {
            self.kernels.gelu(x, out)
        }
    }

    pub fn softmax_rows(&self, x: &[f32], cols: usize, out: &mut [f32]) {
        if self.parallel {
            par::softmax_rows(x, cols, out)
        } else {
            self.kernels.softmax_rows(x, cols, out)
        }
    }

    pub fn layer_norm_rows(&self, x: &[f32], gamma: &[f32], beta: &[f32], out: &mut [f32]) {
        let eps = crate::kernels::LAYER_NORM_EPS;
        if self.parallel {
            par::layer_norm_rows(x, gamma, beta, eps, out)
        } else {
            self.kernels.layer_norm_rows(x, gamma, beta, eps, out)
        }
    }

    /// `out[r, ..] = act(x[r, ..]·scale[r] + shift[r])`, one row per channel, parallel over
    /// channels on rayon.
    pub fn scale_shift_rows(
        &self,
        x: &[f32],
        scale: &[f32],
        shift: &[f32],
        act: Act,
        out: &mut [f32],
    ) {
        let k = self.kernels;
        if !self.parallel {
            return k.scale_shift_rows(x, scale, shift, act, out);
        }
        let cols = x.len() / scale.len().max(1);
        assert_eq!(x.len(), out.len(), "input and output lengths differ");
        let rows = (par::chunk_len(x.len()) / cols.max(1)).max(1);
        out.par_chunks_mut(rows * cols)
            .zip(x.par_chunks(rows * cols))
            .zip(scale.par_chunks(rows).zip(shift.par_chunks(rows)))
            .for_each(|((o, x), (sc, sh))| k.scale_shift_rows(x, sc, sh, act, o));
    }

    pub fn mul(&self, a: &[f32], b: &[f32], out: &mut [f32]) {
        if self.parallel {
            par::mul(a, b, out)
        } else {
            self.kernels.mul(a, b, out)
        }
    }

    pub fn exp(&self, x: &[f32], out: &mut [f32]) {
        if self.parallel {
            par::exp(x, out)
        } else {
            self.kernels.exp(x, out)
        }
    }

    /// `out[r] = op(x[r, ..])` for a `out.len() × cols` matrix.
    pub fn reduce_rows(&self, op: Reduction, x: &[f32], cols: usize, out: &mut [f32]) {
        if self.parallel {
            par::reduce_rows(op, x, cols, out)
        } else {
            self.kernels.reduce_rows(op, x, cols, out)
        }
    }

    /// `out[c] = op(x[.., c])` for a `rows × out.len()` matrix.
    pub fn reduce_cols(&self, op: Reduction, x: &[f32], out: &mut [f32]) {
        if self.parallel {
            par::reduce_cols(op, x, out)
        } else {
            self.kernels.reduce_cols(op, x, out)
        }
    }

    /// `out[r, j] = x[r, j] ∘ v[r]`: one scalar per row (`v.len()` rows).
    pub fn row_scalar(&self, op: RowOp, x: &[f32], v: &[f32], out: &mut [f32]) {
        let k = self.kernels;
        self.by_rows(x, v.len(), out, |r0, x, o, cols| {
            for (i, (xr, or)) in x
                .chunks_exact(cols)
                .zip(o.chunks_exact_mut(cols))
                .enumerate()
            {
                let c = v[r0 + i];
                match op {
                    RowOp::Add => k.add_scalar(xr, c, or),
                    RowOp::Sub => k.sub_scalar(xr, c, or),
                    RowOp::Mul => k.mul_scalar(xr, c, or),
                    RowOp::Div => k.div_scalar(xr, c, or),
                }
            }
        })
    }

    /// `out[r, j] = x[r, j] ∘ v[j]`: one vector broadcast over the rows (`v.len()` columns).
    pub fn row_vector(&self, op: RowOp, x: &[f32], v: &[f32], out: &mut [f32]) {
        let k = self.kernels;
        let rows = x.len() / v.len().max(1);
        self.by_rows(x, rows, out, |_, x, o, cols| {
            for (xr, or) in x.chunks_exact(cols).zip(o.chunks_exact_mut(cols)) {
                match op {
                    RowOp::Add => k.add(xr, v, or),
                    RowOp::Sub => k.sub(xr, v, or),
                    RowOp::Mul => k.mul(xr, v, or),
                    RowOp::Div => k.div(xr, v, or),
                }
            }
        })
    }

    /// Runs `f(first_row, x_rows, out_rows, cols)` over groups of whole rows of a `rows`-row
    /// matrix (in parallel on rayon).
    fn by_rows(
        &self,
        x: &[f32],
        rows: usize,
        out: &mut [f32],
        f: impl Fn(usize, &[f32], &mut [f32], usize) + Sync,
    ) {
        assert!(
            x.len() == out.len() && rows > 0 && x.len().is_multiple_of(rows),
            "row-wise operand sizes do not match"
        );
        let cols = x.len() / rows;
        if !self.parallel || cols == 0 {
            return f(0, x, out, cols);
        }
        let group = (par::chunk_len(x.len()) / cols).max(1);
        out.par_chunks_mut(group * cols)
            .zip(x.par_chunks(group * cols))
            .enumerate()
            .for_each(|(g, (o, x))| f(g * group, x, o, cols));
    }

    /// Runs `f` over matching chunks of `a`, `b`, `out` (in parallel on rayon).
    fn chunked2(
        &self,
        a: &[f32],
        b: &[f32],
        out: &mut [f32],
        f: impl Fn(&[f32], &[f32], &mut [f32]) + Sync,
    ) {
        assert!(
            a.len() == out.len() && b.len() == out.len(),
            "input and output lengths differ"
        );
        if !self.parallel {
            return f(a, b, out);
        }
        let c = par::chunk_len(out.len());
        out.par_chunks_mut(c)
            .zip(a.par_chunks(c).zip(b.par_chunks(c)))
            .for_each(|(o, (a, b))| f(a, b, o));
    }
}

thread_local! {
    /// Packing buffers of each pool thread for the fused GEMM, kept across calls.
    static WORKSPACE: RefCell<GemmWorkspace> = RefCell::new(GemmWorkspace::new());
}

/// A pointer handed to tasks that write disjoint regions of it.
#[derive(Clone, Copy)]
pub(crate) struct Shared(pub *mut f32);
// SAFETY: users hand each task a disjoint region.
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

impl Shared {
    /// Through a method, so closures capture the `Send` wrapper rather than its raw field.
    pub(crate) fn ptr(self) -> *mut f32 {
        self.0
    }
}

/// Splits `len` into `parts` ranges whose boundaries are multiples of `align`.
fn split(len: usize, parts: usize, align: usize, i: usize) -> (usize, usize) {
    let step = len.div_ceil(parts).next_multiple_of(align);
    ((i * step).min(len), ((i + 1) * step).min(len))
}

/// The fused GEMM on disjoint tiles of C, cut as `par::gemm` cuts them (rows first, columns for
/// skinny shapes), so fused and unfused runs share one decomposition.
#[allow(clippy::too_many_arguments)]
pub fn par_gemm_bias_act(
    kernels: Kernels,
    (m, n, k): (usize, usize, usize),
    a: &[f32],
    b: &[f32],
    bias: &[f32],
    act: Act,
    c: &mut [f32],
) {
    crate::kernels::check_gemm_sizes("gemm_bias_act", (m, n, k), a.len(), b.len(), c.len());
    assert_eq!(
        bias.len(),
        n,
        "gemm_bias_act: bias has {} elements, n={n}",
        bias.len()
    );
    let threads = rayon::current_num_threads();
    let rp = (m / 32).clamp(1, threads);
    let cp = (threads / rp).clamp(1, (n / 64).max(1));
    let shared = Shared(c.as_mut_ptr());
    (0..rp * cp).into_par_iter().for_each(|t| {
        let (i0, i1) = split(m, rp, 8, t / cp);
        let (j0, j1) = split(n, cp, 64, t % cp);
        if i0 == i1 || j0 == j1 {
            return;
        }
        let g = GemmArgs {
            m: i1 - i0,
            n: j1 - j0,
            k,
            a: a[i0 * k..].as_ptr(),
            lda: k,
            b: b[j0..].as_ptr(),
            ldb: n,
            // SAFETY: i0 < m and j0 < n, inside the checked C.
            c: unsafe { shared.ptr().add(i0 * n + j0) },
            ldc: n,
        };
        let bias = bias[j0..].as_ptr();
        // SAFETY: tiles of distinct t are disjoint; `c` is borrowed mutably for the whole call;
        // the bias holds the tile's columns.
        WORKSPACE
            .with(|ws| unsafe { kernels.gemm_bias_act_raw(g, bias, act, &mut ws.borrow_mut()) });
    });
}
