//! A small multilayer perceptron (tanh hidden layers, linear output, mean squared error) with its
//! backward pass, generic over f32 (the timed step, on cpu-simd's single-threaded SIMD kernels:
//! one rank, one core) and f64 (the reference, on `tensorbench_ops::reference`). tanh rather than
//! ReLU keeps the f32 and f64 gradients close everywhere: no activation mask can flip between the
//! two precisions.

use std::ops::{Add, AddAssign, Mul, Sub};
use tensorbench_cpu_simd::kernels::simd::{Act, GemmWorkspace, Kernels};
use tensorbench_cpu_simd::kernels::transpose;
use tensorbench_ops::reference as r;

/// Element type of the network: f32 for the measured step, f64 for its reference.
pub trait Real:
    Copy
    + Default
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + AddAssign
{
    /// What the kernels keep between steps, so the timed step does not allocate.
    type Scratch: Default + std::fmt::Debug;
    fn from_f64(x: f64) -> Self;
    /// `out (m×n) = x (m×k) · w (k×n) + bias` on every row.
    fn linear(
        dims: (usize, usize, usize),
        x: &[Self],
        w: &[Self],
        bias: &[Self],
        out: &mut [Self],
        s: &mut Self::Scratch,
    );
    /// `out = tanh(z)`.
    fn tanh(z: &[Self], out: &mut [Self], s: &mut Self::Scratch);
    /// `c (m×n) = aᵀ · b` for `a` stored `k×m` and `b` `k×n`.
    fn gemm_tn(
        dims: (usize, usize, usize),
        a: &[Self],
        b: &[Self],
        c: &mut [Self],
        s: &mut Self::Scratch,
    );
    /// `c (m×n) = a · bᵀ` for `a` stored `m×k` and `b` `n×k`.
    fn gemm_nt(
        dims: (usize, usize, usize),
        a: &[Self],
        b: &[Self],
        c: &mut [Self],
        s: &mut Self::Scratch,
    );
}

/// cpu-simd's kernels at this CPU's widest instruction set, its GEMM packing buffers and a
/// buffer for the transposed operand (its GEMM reads row-major operands only).
#[derive(Debug)]
pub struct SimdScratch {
    kernels: Kernels,
    gemm: GemmWorkspace,
    transposed: Vec<f32>,
}

impl Default for SimdScratch {
    fn default() -> Self {
        Self {
            kernels: Kernels::best(),
            gemm: GemmWorkspace::new(),
            transposed: Vec::new(),
        }
    }
}

impl SimdScratch {
    /// `rows × cols` `x` transposed into the kept buffer (grown once, then reused).
    fn transpose(&mut self, rows: usize, cols: usize, x: &[f32]) {
        self.transposed.resize(rows * cols, 0.0);
        transpose(rows, cols, x, &mut self.transposed);
    }
}

impl Real for f32 {
    type Scratch = SimdScratch;
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    fn linear(
        (m, k, n): (usize, usize, usize),
        x: &[f32],
        w: &[f32],
        bias: &[f32],
        out: &mut [f32],
        s: &mut SimdScratch,
    ) {
        let ws = &mut s.gemm;
        s.kernels
            .gemm_bias_act(m, n, k, x, w, bias, Act::Identity, out, ws);
    }
    fn tanh(z: &[f32], out: &mut [f32], s: &mut SimdScratch) {
        s.kernels.tanh(z, out);
    }
    fn gemm_tn(
        (m, k, n): (usize, usize, usize),
        a: &[f32],
        b: &[f32],
        c: &mut [f32],
        s: &mut SimdScratch,
    ) {
        s.transpose(k, m, a);
        s.kernels.gemm(m, n, k, &s.transposed, b, c, &mut s.gemm);
    }
    fn gemm_nt(
        (m, k, n): (usize, usize, usize),
        a: &[f32],
        b: &[f32],
        c: &mut [f32],
        s: &mut SimdScratch,
    ) {
        s.transpose(n, k, b);
        s.kernels.gemm(m, n, k, a, &s.transposed, c, &mut s.gemm);
    }
}

impl Real for f64 {
    type Scratch = ();
    fn from_f64(x: f64) -> Self {
        x
    }
    fn linear(
        (m, k, n): (usize, usize, usize),
        x: &[f64],
        w: &[f64],
        bias: &[f64],
        out: &mut [f64],
        _: &mut (),
    ) {
        let mut z = r::matmul(m, n, k, x, w);
        r::add_bias(&mut z, bias);
        out.copy_from_slice(&z);
    }
    fn tanh(z: &[f64], out: &mut [f64], _: &mut ()) {
        for (o, &v) in out.iter_mut().zip(z) {
            *o = v.tanh();
        }
    }
    fn gemm_tn((m, k, n): (usize, usize, usize), a: &[f64], b: &[f64], c: &mut [f64], _: &mut ()) {
        c.copy_from_slice(&r::matmul(m, n, k, &r::transpose(k, m, a), b));
    }
    fn gemm_nt((m, k, n): (usize, usize, usize), a: &[f64], b: &[f64], c: &mut [f64], _: &mut ()) {
        c.copy_from_slice(&r::matmul(m, n, k, a, &r::transpose(n, k, b)));
    }
}

/// Layer widths, input first: `[input, hidden..., output]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape(pub Vec<usize>);

impl Shape {
    /// The network the data-parallel benchmarks train: 256 → 512 → 512 → 64 (about 0.4 M
    /// parameters, a 1.6 MB gradient).
    pub fn benchmark() -> Self {
        Shape(vec![256, 512, 512, 64])
    }

    fn layers(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.0.windows(2).map(|w| (w[0], w[1]))
    }

    /// Weights and biases of all layers.
    pub fn param_count(&self) -> usize {
        self.layers().map(|(i, o)| i * o + o).sum()
    }

    /// Offsets of each layer's weights (i×o, row-major) and bias in the flat parameter vector.
    fn offsets(&self) -> Vec<(usize, usize)> {
        let mut at = 0;
        self.layers()
            .map(|(i, o)| {
                let w = at;
                at += i * o + o;
                (w, w + i * o)
            })
            .collect()
    }

    /// Floating-point operations of one forward and backward pass over `batch` samples: two GEMMs
    /// per layer (forward, weight gradient) and a third (input gradient) for all but the first.
    pub fn step_flops(&self, batch: usize) -> f64 {
        self.layers()
            .enumerate()
            .map(|(l, (i, o))| (if l == 0 { 4.0 } else { 6.0 }) * (batch * i * o) as f64)
            .sum()
    }

    pub fn input(&self) -> usize {
        self.0[0]
    }

    pub fn output(&self) -> usize {
        *self.0.last().expect("a shape has layers")
    }
}

/// Scratch buffers of one pass, kept between steps so the timed step does not allocate.
#[derive(Debug, Default)]
pub struct Workspace<T: Real> {
    /// Pre-activations (last layer: outputs) and activations per layer, batch×width.
    z: Vec<Vec<T>>,
    a: Vec<Vec<T>>,
    /// Gradient of the loss with respect to each layer's pre-activation.
    dz: Vec<Vec<T>>,
    kernels: T::Scratch,
}

impl<T: Real> Workspace<T> {
    pub fn new(shape: &Shape, batch: usize) -> Self {
        let per_layer = || {
            shape
                .layers()
                .map(|(_, o)| vec![T::default(); batch * o])
                .collect()
        };
        Self {
            z: per_layer(),
            a: per_layer(),
            dz: per_layer(),
            kernels: T::Scratch::default(),
        }
    }
}

/// Loss gradient with respect to every parameter for inputs `x` (batch×input) and targets `t`
/// (batch×output), written into `grads` (same layout as `params`). Loss: ½·mean over the batch of
/// the squared error.
pub fn gradients<T: Real>(
    shape: &Shape,
    params: &[T],
    x: &[T],
    t: &[T],
    batch: usize,
    grads: &mut [T],
    ws: &mut Workspace<T>,
) {
    let offsets = shape.offsets();
    let dims: Vec<(usize, usize)> = shape.layers().collect();
    let last = dims.len() - 1;
    for (l, &(i, o)) in dims.iter().enumerate() {
        let (w, b) = offsets[l];
        let (before, rest) = ws.a.split_at_mut(l);
        let input: &[T] = if l == 0 { x } else { &before[l - 1] };
        let z = &mut ws.z[l];
        let (weights, bias) = (&params[w..w + i * o], &params[b..b + o]);
        T::linear((batch, i, o), input, weights, bias, z, &mut ws.kernels);
        let a = &mut rest[0];
        if l == last {
            a.copy_from_slice(z);
        } else {
            T::tanh(z, a, &mut ws.kernels);
        }
    }
    let scale = T::from_f64(1.0 / batch as f64);
    for ((d, &y), &t) in ws.dz[last].iter_mut().zip(&ws.a[last]).zip(t) {
        *d = (y - t) * scale;
    }
    for l in (0..=last).rev() {
        let (i, o) = dims[l];
        let (w, b) = offsets[l];
        let input: &[T] = if l == 0 { x } else { &ws.a[l - 1] };
        let (dw, db) = grads[w..b + o].split_at_mut(i * o);
        T::gemm_tn((i, batch, o), input, &ws.dz[l], dw, &mut ws.kernels);
        db.fill(T::default());
        for row in ws.dz[l].chunks(o) {
            for (g, &d) in db.iter_mut().zip(row) {
                *g += d;
            }
        }
        if l > 0 {
            let (lower, upper) = ws.dz.split_at_mut(l);
            let da = &mut lower[l - 1];
            let weights = &params[w..w + i * o];
            T::gemm_nt((batch, o, i), &upper[0], weights, da, &mut ws.kernels);
            // d tanh(z)/dz = 1 - tanh(z)^2, and a = tanh(z) is kept.
            for (d, &a) in da.iter_mut().zip(&ws.a[l - 1]) {
                *d = *d * (T::from_f64(1.0) - a * a);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loss(shape: &Shape, p: &[f64], x: &[f64], t: &[f64], batch: usize) -> f64 {
        let mut act = x.to_vec();
        let offsets = shape.offsets();
        let dims: Vec<_> = shape.layers().collect();
        for (l, &(i, o)) in dims.iter().enumerate() {
            let (w, b) = offsets[l];
            let mut next = vec![0.0; batch * o];
            for s in 0..batch {
                for j in 0..o {
                    let mut z = p[b + j];
                    for k in 0..i {
                        z += act[s * i + k] * p[w + k * o + j];
                    }
                    next[s * o + j] = if l + 1 == dims.len() { z } else { z.tanh() };
                }
            }
            act = next;
        }
        act.iter()
            .zip(t)
            .map(|(y, t)| 0.5 * (y - t).powi(2))
            .sum::<f64>()
            / batch as f64
    }

    #[test]
    fn backward_matches_finite_differences() {
        let shape = Shape(vec![3, 4, 2]);
        let batch = 5;
        let n = shape.param_count();
        let p: Vec<f64> = (0..n)
            .map(|k| ((k * 37 % 11) as f64 - 5.0) / 10.0)
            .collect();
        let x: Vec<f64> = (0..batch * 3)
            .map(|k| ((k * 13 % 7) as f64 - 3.0) / 4.0)
            .collect();
        let t: Vec<f64> = (0..batch * 2)
            .map(|k| ((k * 5 % 3) as f64 - 1.0) / 2.0)
            .collect();
        let mut g = vec![0.0; n];
        gradients(
            &shape,
            &p,
            &x,
            &t,
            batch,
            &mut g,
            &mut Workspace::new(&shape, batch),
        );
        for k in 0..n {
            let (mut hi, mut lo) = (p.clone(), p.clone());
            hi[k] += 1e-6;
            lo[k] -= 1e-6;
            let fd = (loss(&shape, &hi, &x, &t, batch) - loss(&shape, &lo, &x, &t, batch)) / 2e-6;
            assert!(
                (fd - g[k]).abs() < 1e-7,
                "param {k}: analytic {} vs numeric {fd}",
                g[k]
            );
        }
    }

    #[test]
    fn the_simd_step_matches_the_f64_reference() {
        let shape = Shape(vec![19, 33, 17, 5]);
        let batch = 7;
        let n = shape.param_count();
        let p: Vec<f32> = (0..n)
            .map(|k| ((k * 37 % 23) as f32 - 11.0) / 40.0)
            .collect();
        let x: Vec<f32> = (0..batch * 19)
            .map(|k| ((k * 13 % 7) as f32 - 3.0) / 4.0)
            .collect();
        let t: Vec<f32> = (0..batch * 5)
            .map(|k| ((k * 5 % 3) as f32 - 1.0) / 2.0)
            .collect();
        let mut g32 = vec![0.0f32; n];
        let mut ws32 = Workspace::new(&shape, batch);
        // Twice: the second step reuses the kept scratch, as the timed steps do.
        for _ in 0..2 {
            gradients(&shape, &p, &x, &t, batch, &mut g32, &mut ws32);
        }
        let w = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>();
        let mut g64 = vec![0.0f64; n];
        let mut ws64 = Workspace::new(&shape, batch);
        gradients(&shape, &w(&p), &w(&x), &w(&t), batch, &mut g64, &mut ws64);
        let v = tensorbench_core::workload::validate_against(&g32, &g64, 1e-4, "f64");
        assert!(v.passed, "max rel err {}", v.max_rel_err);
        // A wrong weight gradient is caught at that tolerance.
        g32[3] += 0.01;
        let v = tensorbench_core::workload::validate_against(&g32, &g64, 1e-4, "f64");
        assert!(!v.passed);
    }

    #[test]
    fn flops_count_three_gemms_per_hidden_layer() {
        let s = Shape(vec![2, 3, 4]);
        assert_eq!(s.step_flops(10), 4.0 * 60.0 + 6.0 * 120.0);
        assert_eq!(s.param_count(), 2 * 3 + 3 + 3 * 4 + 4);
    }
}
