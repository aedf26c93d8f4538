//! The rayon family: the SIMD kernels of [`super::simd::Kernels::best`] run over chunks in
//! parallel on rayon's current pool (the suite binary sizes the global pool from `--threads`).

use super::Reduction;
use super::simd::{GemmArgs, GemmWorkspace, Kernels};
use rayon::prelude::*;
use std::cell::RefCell;

/// Elements per task: about four tasks per thread for balance, never so few that rayon's
/// per-task cost shows, and a multiple of a cache line of any vector width.
pub fn chunk_len(n: usize) -> usize {
    let per_task = n.div_ceil(rayon::current_num_threads() * 4);
    per_task.max(16 * 1024).next_multiple_of(64)
}

fn zip(
    a: &[f32],
    b: &[f32],
    out: &mut [f32],
    f: impl Fn(&Kernels, &[f32], &[f32], &mut [f32]) + Sync,
) {
    assert!(
        a.len() == out.len() && b.len() == out.len(),
        "input and output lengths differ"
    );
    let k = Kernels::best();
    let c = chunk_len(out.len());
    out.par_chunks_mut(c)
        .zip(a.par_chunks(c).zip(b.par_chunks(c)))
        .for_each(|(o, (a, b))| f(&k, a, b, o));
}

fn map(x: &[f32], out: &mut [f32], f: impl Fn(&Kernels, &[f32], &mut [f32]) + Sync) {
    assert_eq!(x.len(), out.len(), "input and output lengths differ");
    let k = Kernels::best();
    let c = chunk_len(out.len());
    out.par_chunks_mut(c)
        .zip(x.par_chunks(c))
        .for_each(|(o, x)| f(&k, x, o));
}

pub fn add(a: &[f32], b: &[f32], out: &mut [f32]) {
    zip(a, b, out, Kernels::add)
}
pub fn sub(a: &[f32], b: &[f32], out: &mut [f32]) {
    zip(a, b, out, Kernels::sub)
}
pub fn mul(a: &[f32], b: &[f32], out: &mut [f32]) {
    zip(a, b, out, Kernels::mul)
}
pub fn div(a: &[f32], b: &[f32], out: &mut [f32]) {
    zip(a, b, out, Kernels::div)
}
/// `out = a + s·b` (the STREAM triad).
pub fn scale_add(a: &[f32], b: &[f32], s: f32, out: &mut [f32]) {
    zip(a, b, out, |k, a, b, o| k.scale_add(a, b, s, o))
}
/// `out = x` (the STREAM copy) with ordinary stores, in parallel chunks.
pub fn copy(x: &[f32], out: &mut [f32]) {
    map(x, out, Kernels::copy)
}
/// `out = x` with non-temporal stores where the CPU has them (`memcpy` elsewhere): the STREAM
/// copy's separate, labelled non-temporal variant, never a ceiling.
pub fn copy_nontemporal(x: &[f32], out: &mut [f32]) {
    map(x, out, |_, x, o| super::stream_nt::copy(x, o))
}
pub fn add_scalar(x: &[f32], c: f32, out: &mut [f32]) {
    map(x, out, |k, x, o| k.add_scalar(x, c, o))
}
pub fn sub_scalar(x: &[f32], c: f32, out: &mut [f32]) {
    map(x, out, |k, x, o| k.sub_scalar(x, c, o))
}
pub fn mul_scalar(x: &[f32], c: f32, out: &mut [f32]) {
    map(x, out, |k, x, o| k.mul_scalar(x, c, o))
}
pub fn div_scalar(x: &[f32], c: f32, out: &mut [f32]) {
    map(x, out, |k, x, o| k.div_scalar(x, c, o))
}
pub fn relu(x: &[f32], out: &mut [f32]) {
    map(x, out, Kernels::relu)
}
pub fn leaky_relu(x: &[f32], alpha: f32, out: &mut [f32]) {
    map(x, out, |k, x, o| k.leaky_relu(x, alpha, o))
}
pub fn sigmoid(x: &[f32], out: &mut [f32]) {
    map(x, out, Kernels::sigmoid)
}
pub fn tanh(x: &[f32], out: &mut [f32]) {
    map(x, out, Kernels::tanh)
}
pub fn gelu(x: &[f32], out: &mut [f32]) {
    map(x, out, Kernels::gelu)
}
pub fn exp(x: &[f32], out: &mut [f32]) {
    map(x, out, Kernels::exp)
}
pub fn zeros(out: &mut [f32]) {
    fill(out, 0.0)
}
pub fn fill(out: &mut [f32], value: f32) {
    let k = Kernels::best();
    let c = chunk_len(out.len());
    out.par_chunks_mut(c).for_each(|o| k.fill(o, value));
}

/// Whole-slice reduction: per-chunk SIMD reductions combined as a tree.
pub fn reduce(op: Reduction, x: &[f32]) -> f32 {
    let k = Kernels::best();
    let c = chunk_len(x.len());
    let inner = if op == Reduction::Mean {
        Reduction::Sum
    } else {
        op
    };
    let parts = x.par_chunks(c).map(|ch| k.reduce(inner, ch));
    match op {
        Reduction::Sum => parts.sum(),
        Reduction::Mean => parts.sum::<f32>() / x.len() as f32,
        Reduction::Max => parts.reduce(|| f32::NEG_INFINITY, f32::max),
        Reduction::Min => parts.reduce(|| f32::INFINITY, f32::min),
    }
}

/// Rows per task for a row-wise kernel over `rows × cols`.
fn rows_per_task(rows: usize, cols: usize) -> usize {
    (chunk_len(rows * cols) / cols.max(1)).clamp(1, rows.max(1))
}

/// `out[r] = op(x[r, ..])`, parallel over groups of rows.
pub fn reduce_rows(op: Reduction, x: &[f32], cols: usize, out: &mut [f32]) {
    assert_eq!(x.len(), out.len() * cols, "matrix is not rows × cols");
    let k = Kernels::best();
    let r = rows_per_task(out.len(), cols);
    if cols == 0 {
        k.reduce_rows(op, x, cols, out);
        return;
    }
    out.par_chunks_mut(r)
        .zip(x.par_chunks(r * cols))
        .for_each(|(o, x)| k.reduce_rows(op, x, cols, o));
}

/// `out[c] = op(x[.., c])`: each task reduces a band of rows into its own partial row (one
/// allocation per task), and the partials are combined.
pub fn reduce_cols(op: Reduction, x: &[f32], out: &mut [f32]) {
    let cols = out.len();
    if cols == 0 {
        return;
    }
    assert_eq!(x.len() % cols, 0, "matrix is not rows × cols");
    let rows = x.len() / cols;
    let k = Kernels::best();
    let inner = if op == Reduction::Mean {
        Reduction::Sum
    } else {
        op
    };
    let combine = move |mut a: Vec<f32>, b: Vec<f32>| {
        for (a, b) in a.iter_mut().zip(b) {
            *a = match inner {
                Reduction::Max => a.max(b),
                Reduction::Min => a.min(b),
                _ => *a + b,
            };
        }
        a
    };
    let total = x
        .par_chunks(rows_per_task(rows, cols) * cols)
        .map(|band| {
            let mut part = vec![0.0; cols];
            k.reduce_cols(inner, band, &mut part);
            part
        })
        .reduce_with(combine);
    match total {
        Some(t) => out.copy_from_slice(&t),
        None => k.reduce_cols(inner, x, out),
    }
    if op == Reduction::Mean {
        let inv = 1.0 / rows as f32;
        out.iter_mut().for_each(|v| *v *= inv);
    }
}

/// Softmax along rows, parallel over groups of rows.
pub fn softmax_rows(x: &[f32], cols: usize, out: &mut [f32]) {
    assert_eq!(x.len(), out.len(), "input and output lengths differ");
    let k = Kernels::best();
    if cols == 0 {
        return;
    }
    let r = rows_per_task(x.len() / cols, cols) * cols;
    out.par_chunks_mut(r)
        .zip(x.par_chunks(r))
        .for_each(|(o, x)| k.softmax_rows(x, cols, o));
}

/// Layer normalisation along rows, parallel over groups of rows.
pub fn layer_norm_rows(x: &[f32], gamma: &[f32], beta: &[f32], eps: f32, out: &mut [f32]) {
    assert_eq!(x.len(), out.len(), "input and output lengths differ");
    let k = Kernels::best();
    let cols = gamma.len();
    if cols == 0 {
        return;
    }
    let r = rows_per_task(x.len() / cols, cols) * cols;
    out.par_chunks_mut(r)
        .zip(x.par_chunks(r))
        .for_each(|(o, x)| k.layer_norm_rows(x, gamma, beta, eps, o));
}

thread_local! {
    /// Each pool thread keeps its packing buffers across calls.
    static WORKSPACE: RefCell<GemmWorkspace> = RefCell::new(GemmWorkspace::new());
}

/// The C pointer handed to tasks that write disjoint tiles of it.
#[derive(Clone, Copy)]
struct SharedC(*mut f32);
// SAFETY: tasks write disjoint tiles (see `gemm`).
unsafe impl Send for SharedC {}
unsafe impl Sync for SharedC {}

impl SharedC {
    /// Through a method, so closures capture the `Send` wrapper rather than its raw field.
    fn ptr(self) -> *mut f32 {
        self.0
    }
}

/// How C is cut into tiles for `threads` workers: rows first (each tile then packs its own A
/// rows and all of B), columns when there are too few rows (skinny shapes such as 1×768×3072).
fn tile_grid(m: usize, n: usize, threads: usize) -> (usize, usize) {
    let row_parts = (m / 32).clamp(1, threads);
    let col_parts = (threads / row_parts).clamp(1, (n / 64).max(1));
    (row_parts, col_parts)
}

/// Splits `len` into `parts` ranges whose boundaries are multiples of `align`.
fn split(len: usize, parts: usize, align: usize, i: usize) -> (usize, usize) {
    let step = len.div_ceil(parts).next_multiple_of(align);
    ((i * step).min(len), ((i + 1) * step).min(len))
}

/// `C[m×n] = A[m×k]·B[k×n]` with the SIMD blocked kernel on disjoint tiles of C in parallel.
pub fn gemm(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    crate::kernels::check_gemm_sizes("gemm", (m, n, k), a.len(), b.len(), c.len());
    let kernels = Kernels::best();
    let (rp, cp) = tile_grid(m, n, rayon::current_num_threads());
    let shared = SharedC(c.as_mut_ptr());
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
            // SAFETY (offsets): i0 < m and j0 < n, inside the checked operands.
            a: unsafe { a.as_ptr().add(i0 * k) },
            lda: k,
            b: unsafe { b.as_ptr().add(j0) },
            ldb: n,
            c: unsafe { shared.ptr().add(i0 * n + j0) },
            ldc: n,
        };
        // SAFETY: the tiles (i0..i1) × (j0..j1) of distinct t are disjoint, and `c` is borrowed
        // mutably for the whole call.
        WORKSPACE.with(|ws| unsafe { kernels.gemm_raw(g, &mut ws.borrow_mut()) });
    });
}

/// [`super::int8_peak::dot_chains`] on every thread of the pool, summed; `None` without VNNI.
pub fn int8_dot_chains(iters: usize, a: u8, b: i8) -> Option<i64> {
    (0..rayon::current_num_threads())
        .into_par_iter()
        .map(|_| super::int8_peak::dot_chains(iters, a, b))
        .sum()
}

/// The FMA-chain peak kernel on every thread of the pool; returns the sum of every lane of
/// every thread (each thread computes the same chains).
pub fn fma_chain(iters: usize, a: f32, b: f32) -> f32 {
    let k = Kernels::best();
    (0..rayon::current_num_threads())
        .into_par_iter()
        .map(|_| k.fma_chain(iters, a, b))
        .sum()
}
