//! A multi-layer perceptron of `layers` square layers, forward and one training step's backward:
//!
//! ```text
//! a₀ = x,  aₗ = ReLU(aₗ₋₁·Wₗ + bₗ) (hidden),  y = a_L = a_{L-1}·W_L + b_L (linear)
//! loss = ½·Σ(y - t)² / batch
//! ```
//!
//! The backward pass yields every `dWₗ = aₗ₋₁ᵀ·dzₗ`, `dbₗ = Σ_rows dzₗ` and the input gradient
//! `dx`, with `dzₗ₋₁ = dzₗ·Wₗᵀ ⊙ [aₗ₋₁ > 0]`. The GEMM kernels take row-major operands only, so
//! `aₗ₋₁ᵀ` and `Wₗᵀ` are transposed into scratch (O(n²) beside the O(n³) products).

use super::exec::Exec;
use super::reference as r;
use crate::kernels::Reduction;
use crate::kernels::simd::Act;
use tensorbench_core::data;

/// Shape of the MLP: `layers` layers of `width × width` on a `batch × width` input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MlpConfig {
    pub batch: usize,
    pub width: usize,
    pub layers: usize,
}

impl MlpConfig {
    /// The forward GEMMs' 2·batch·width² per layer (bias, ReLU uncounted).
    pub fn forward_flops(&self) -> f64 {
        2.0 * (self.batch * self.width * self.width * self.layers) as f64
    }

    /// Forward plus the backward's two GEMMs per layer (dW and the input gradient): three times
    /// the forward. Transposes, bias gradients and the ReLU mask are not counted.
    pub fn train_flops(&self) -> f64 {
        3.0 * self.forward_flops()
    }

    pub fn weight_len(&self) -> usize {
        self.layers * (self.width * self.width + self.width)
    }

    pub fn act_len(&self) -> usize {
        self.batch * self.width
    }
}

/// Weights (`in × out`) and biases per layer.
#[derive(Debug, Clone)]
pub struct MlpWeights {
    pub w: Vec<Vec<f32>>,
    pub b: Vec<Vec<f32>>,
}

impl MlpWeights {
    pub fn random(c: &MlpConfig, seed: u64) -> Self {
        let n = c.width;
        let s = |l: usize, k: u64| seed.wrapping_add(2 * l as u64 + k);
        Self {
            w: (0..c.layers)
                .map(|l| super::transformer::init_weight(n, n * n, s(l, 0)))
                .collect(),
            b: (0..c.layers)
                .map(|l| data::uniform_f32_in(n, s(l, 1), -0.1, 0.1))
                .collect(),
        }
    }
}

/// Gradients of the loss with respect to every weight, bias and the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Grads<T> {
    pub dw: Vec<Vec<T>>,
    pub db: Vec<Vec<T>>,
    pub dx: Vec<T>,
}

/// An MLP ready to run, with activations, gradients and scratch allocated once.
#[derive(Debug)]
pub struct Mlp {
    pub config: MlpConfig,
    pub weights: MlpWeights,
    exec: Exec,
    /// `aₗ` for l = 1..=L; the last is the output `y`.
    pub acts: Vec<Vec<f32>>,
    pub grads: Grads<f32>,
    dz: Vec<f32>,
    da: Vec<f32>,
    /// `width × batch`: a transposed activation.
    at: Vec<f32>,
    /// `width × width`: a transposed weight.
    wt: Vec<f32>,
}

impl Mlp {
    pub fn new(config: MlpConfig, weights: MlpWeights, exec: Exec) -> Self {
        assert!(
            config.layers > 0 && config.batch > 0 && config.width > 0,
            "mlp config {config:?}: sizes must be non-zero"
        );
        let (n, a) = (config.width, config.act_len());
        Self {
            acts: vec![vec![f32::NAN; a]; config.layers],
            grads: Grads {
                dw: vec![vec![f32::NAN; n * n]; config.layers],
                db: vec![vec![f32::NAN; n]; config.layers],
                dx: vec![f32::NAN; a],
            },
            dz: vec![0.0; a],
            da: vec![0.0; a],
            at: vec![0.0; a],
            wt: vec![0.0; n * n],
            config,
            weights,
            exec,
        }
    }

    /// `y = self.acts[L-1]` for input `x` (`batch × width`).
    pub fn forward(&mut self, x: &[f32]) {
        let c = self.config;
        assert_eq!(x.len(), c.act_len(), "mlp input is not batch × width");
        let n = c.width;
        for l in 0..c.layers {
            let act = if l + 1 < c.layers {
                Act::Relu
            } else {
                Act::Identity
            };
            let (done, rest) = self.acts.split_at_mut(l);
            let input = if l == 0 { x } else { &done[l - 1] };
            let (w, b) = (&self.weights.w[l], &self.weights.b[l]);
            self.exec
                .gemm_bias_act((c.batch, n, n), input, w, b, act, &mut rest[0]);
        }
    }

    /// One training step's gradients (forward included) for input `x` and target `t`.
    pub fn forward_backward(&mut self, x: &[f32], t: &[f32]) {
        self.forward(x);
        let c = self.config;
        let (n, bsz) = (c.width, c.batch);
        assert_eq!(t.len(), c.act_len(), "mlp target is not batch × width");
        let inv = 1.0 / bsz as f32;
        // One pass of batch × width: dL/dy = (y - t)/batch.
        for ((d, &y), &tv) in self.dz.iter_mut().zip(&self.acts[c.layers - 1]).zip(t) {
            *d = (y - tv) * inv;
        }
        for l in (0..c.layers).rev() {
            let input = if l == 0 { x } else { &self.acts[l - 1] };
            transpose(bsz, n, input, &mut self.at);
            let e = &mut self.exec;
            e.gemm(n, n, bsz, &self.at, &self.dz, &mut self.grads.dw[l]);
            e.reduce_cols(Reduction::Sum, &self.dz, &mut self.grads.db[l]);
            transpose(n, n, &self.weights.w[l], &mut self.wt);
            if l == 0 {
                e.gemm(bsz, n, n, &self.dz, &self.wt, &mut self.grads.dx);
            } else {
                e.gemm(bsz, n, n, &self.dz, &self.wt, &mut self.da);
                relu_backward(&self.da, &self.acts[l - 1], &mut self.dz);
            }
        }
    }
}

/// `out = g` where the ReLU's output `a` is positive, else 0.
fn relu_backward(g: &[f32], a: &[f32], out: &mut [f32]) {
    for ((o, &g), &a) in out.iter_mut().zip(g).zip(a) {
        *o = if a > 0.0 { g } else { 0.0 };
    }
}

pub use crate::kernels::transpose;

/// Weights in f64.
#[derive(Debug, Clone)]
pub struct Weights64 {
    pub w: Vec<Vec<f64>>,
    pub b: Vec<Vec<f64>>,
}

impl From<&MlpWeights> for Weights64 {
    fn from(m: &MlpWeights) -> Self {
        Self {
            w: m.w.iter().map(|w| r::widen(w)).collect(),
            b: m.b.iter().map(|b| r::widen(b)).collect(),
        }
    }
}

/// The f64 forward: every layer's output, the last being `y`.
pub fn reference_forward(c: &MlpConfig, w: &Weights64, x: &[f64]) -> Vec<Vec<f64>> {
    let mut acts: Vec<Vec<f64>> = Vec::with_capacity(c.layers);
    for l in 0..c.layers {
        let input = if l == 0 { x } else { &acts[l - 1] };
        let mut z = r::matmul(c.batch, c.width, c.width, input, &w.w[l]);
        r::add_bias(&mut z, &w.b[l]);
        if l + 1 < c.layers {
            z.iter_mut().for_each(|v| *v = r::relu(*v));
        }
        acts.push(z);
    }
    acts
}

/// The f64 loss `½·Σ(y - t)²/batch`.
pub fn reference_loss(c: &MlpConfig, w: &Weights64, x: &[f64], t: &[f64]) -> f64 {
    let acts = reference_forward(c, w, x);
    let y = &acts[c.layers - 1];
    0.5 * y.iter().zip(t).map(|(y, t)| (y - t) * (y - t)).sum::<f64>() / c.batch as f64
}

/// The f64 backward pass, written out directly from the chain rule.
pub fn reference_grads(c: &MlpConfig, w: &Weights64, x: &[f64], t: &[f64]) -> Grads<f64> {
    let (n, bsz) = (c.width, c.batch);
    let acts = reference_forward(c, w, x);
    let mut dz: Vec<f64> = (acts[c.layers - 1].iter().zip(t))
        .map(|(y, t)| (y - t) / bsz as f64)
        .collect();
    let mut g = Grads {
        dw: vec![Vec::new(); c.layers],
        db: vec![Vec::new(); c.layers],
        dx: Vec::new(),
    };
    for l in (0..c.layers).rev() {
        let input = if l == 0 { x } else { &acts[l - 1] };
        g.dw[l] = r::matmul(n, n, bsz, &r::transpose(bsz, n, input), &dz);
        g.db[l] = (0..n)
            .map(|j| (0..bsz).map(|i| dz[i * n + j]).sum())
            .collect();
        let da = r::matmul(bsz, n, n, &dz, &r::transpose(n, n, &w.w[l]));
        if l == 0 {
            g.dx = da;
        } else {
            dz = (da.iter().zip(&acts[l - 1]))
                .map(|(&d, &a)| if a > 0.0 { d } else { 0.0 })
                .collect();
        }
    }
    g
}
