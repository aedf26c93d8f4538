//! A post-LN transformer encoder layer (BERT layout) from the suite's kernels:
//!
//! ```text
//! qkv = x·Wqkv + bqkv                          (one GEMM for Q, K and V)
//! ctx = softmax(Q·Kᵀ/sqrt(d_head))·V per head   (no mask)
//! h1  = LN1(x + ctx·Wo + bo)
//! out = LN2(h1 + GELU(h1·W1 + b1)·W2 + b2)      (GELU tanh form, bias+GELU fused in the GEMM)
//! ```
//!
//! Activations are `tokens × d_model` row-major, `tokens = batch·seq`; weights are `in × out`.

use super::exec::{Exec, Shared};
use super::reference as r;
use crate::kernels::LAYER_NORM_EPS;
use crate::kernels::simd::{Act, GemmArgs, GemmWorkspace, Kernels};
use rayon::prelude::*;
use tensorbench_core::data;

/// Shape of one encoder layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransformerConfig {
    pub d_model: usize,
    pub heads: usize,
    pub d_ff: usize,
    pub seq: usize,
    pub batch: usize,
}

impl TransformerConfig {
    /// BERT-base: d_model 768, 12 heads, d_ff 3072.
    pub fn bert_base(seq: usize, batch: usize) -> Self {
        Self {
            d_model: 768,
            heads: 12,
            d_ff: 3072,
            seq,
            batch,
        }
    }

    pub fn d_head(&self) -> usize {
        self.d_model / self.heads
    }

    pub fn tokens(&self) -> usize {
        self.seq * self.batch
    }

    /// GEMM FLOPs (2·m·n·k each): QKV, scores, context, output projection, the two MLP GEMMs.
    /// Softmax, layer norms, GELU and the residual adds (under 1% at BERT-base) are not counted.
    pub fn flops(&self) -> f64 {
        let (t, d, f) = (self.tokens() as f64, self.d_model as f64, self.d_ff as f64);
        let s = self.seq as f64;
        let projections = 2.0 * t * d * (3.0 * d) + 2.0 * t * d * d;
        let attention = 2.0 * 2.0 * self.batch as f64 * s * s * d;
        let mlp = 2.0 * 2.0 * t * d * f;
        projections + attention + mlp
    }

    /// Floats of all weights, biases and norm parameters.
    pub fn weight_len(&self) -> usize {
        let (d, f) = (self.d_model, self.d_ff);
        4 * d * d + 2 * d * f + 3 * d + d + f + d + 4 * d
    }

    /// Minimal bytes: every weight read once, the input read and the output written once.
    pub fn min_bytes(&self) -> f64 {
        4.0 * (self.weight_len() + 2 * self.tokens() * self.d_model) as f64
    }

    fn check(&self) {
        assert!(
            self.heads > 0
                && self.d_model.is_multiple_of(self.heads)
                && self.seq > 0
                && self.batch > 0,
            "transformer config {self:?}: d_model must be a multiple of heads, sizes non-zero"
        );
    }
}

/// The layer's parameters, `in × out` row-major.
#[derive(Debug, Clone)]
pub struct TransformerWeights {
    pub w_qkv: Vec<f32>,
    pub b_qkv: Vec<f32>,
    pub w_o: Vec<f32>,
    pub b_o: Vec<f32>,
    pub w_1: Vec<f32>,
    pub b_1: Vec<f32>,
    pub w_2: Vec<f32>,
    pub b_2: Vec<f32>,
    pub ln1_gamma: Vec<f32>,
    pub ln1_beta: Vec<f32>,
    pub ln2_gamma: Vec<f32>,
    pub ln2_beta: Vec<f32>,
}

/// Uniform weights with variance `1/fan_in`, so activations stay of order one.
pub fn init_weight(fan_in: usize, len: usize, seed: u64) -> Vec<f32> {
    let a = (3.0 / fan_in as f32).sqrt();
    data::uniform_f32_in(len, seed, -a, a)
}

impl TransformerWeights {
    pub fn random(c: &TransformerConfig, seed: u64) -> Self {
        let (d, f) = (c.d_model, c.d_ff);
        let small = |n, s: u64| data::uniform_f32_in(n, seed.wrapping_add(s), -0.1, 0.1);
        let gamma = |s: u64| data::uniform_f32_in(d, seed.wrapping_add(s), 0.5, 1.5);
        Self {
            w_qkv: init_weight(d, d * 3 * d, seed.wrapping_add(1)),
            b_qkv: small(3 * d, 2),
            w_o: init_weight(d, d * d, seed.wrapping_add(3)),
            b_o: small(d, 4),
            w_1: init_weight(d, d * f, seed.wrapping_add(5)),
            b_1: small(f, 6),
            w_2: init_weight(f, f * d, seed.wrapping_add(7)),
            b_2: small(d, 8),
            ln1_gamma: gamma(9),
            ln1_beta: small(d, 10),
            ln2_gamma: gamma(11),
            ln2_beta: small(d, 12),
        }
    }
}

/// One attention worker's buffers.
#[derive(Debug)]
struct HeadScratch {
    /// `d_head × seq`: Kᵀ of one head, pre-scaled by `1/sqrt(d_head)`.
    kt: Vec<f32>,
    scores: Vec<f32>,
    probs: Vec<f32>,
    ws: GemmWorkspace,
}

/// A layer ready to run: its weights, activations and scratch, allocated once.
#[derive(Debug)]
pub struct TransformerLayer {
    pub config: TransformerConfig,
    pub weights: TransformerWeights,
    exec: Exec,
    qkv: Vec<f32>,
    ctx: Vec<f32>,
    proj: Vec<f32>,
    h1: Vec<f32>,
    ln1: Vec<f32>,
    ff: Vec<f32>,
    h2: Vec<f32>,
    /// The layer's output after the last `forward`.
    pub out: Vec<f32>,
    heads: Vec<HeadScratch>,
}

impl TransformerLayer {
    pub fn new(config: TransformerConfig, weights: TransformerWeights, exec: Exec) -> Self {
        config.check();
        let (t, d, s) = (config.tokens(), config.d_model, config.seq);
        let workers = if exec.is_parallel() {
            rayon::current_num_threads().min(config.batch * config.heads)
        } else {
            1
        };
        let heads = (0..workers)
            .map(|_| HeadScratch {
                kt: vec![0.0; config.d_head() * s],
                scores: vec![0.0; s * s],
                probs: vec![0.0; s * s],
                ws: GemmWorkspace::new(),
            })
            .collect();
        Self {
            config,
            weights,
            exec,
            qkv: vec![0.0; t * 3 * d],
            ctx: vec![0.0; t * d],
            proj: vec![0.0; t * d],
            h1: vec![0.0; t * d],
            ln1: vec![0.0; t * d],
            ff: vec![0.0; t * config.d_ff],
            h2: vec![0.0; t * d],
            out: vec![f32::NAN; t * d],
            heads,
        }
    }

    /// Runs the layer on `x` (`tokens × d_model`); the result is in `self.out`.
    pub fn forward(&mut self, x: &[f32]) {
        let c = self.config;
        let (t, d, f) = (c.tokens(), c.d_model, c.d_ff);
        assert_eq!(x.len(), t * d, "transformer input is not tokens × d_model");
        let w = &self.weights;
        let e = &mut self.exec;
        e.gemm_bias_act(
            (t, 3 * d, d),
            x,
            &w.w_qkv,
            &w.b_qkv,
            Act::Identity,
            &mut self.qkv,
        );
        attention(&c, e.kernels(), &self.qkv, &mut self.heads, &mut self.ctx);
        e.gemm_bias_act(
            (t, d, d),
            &self.ctx,
            &w.w_o,
            &w.b_o,
            Act::Identity,
            &mut self.proj,
        );
        e.add(x, &self.proj, &mut self.h1);
        e.layer_norm_rows(&self.h1, &w.ln1_gamma, &w.ln1_beta, &mut self.ln1);
        e.gemm_bias_act(
            (t, f, d),
            &self.ln1,
            &w.w_1,
            &w.b_1,
            Act::Gelu,
            &mut self.ff,
        );
        e.gemm_bias_act(
            (t, d, f),
            &self.ff,
            &w.w_2,
            &w.b_2,
            Act::Identity,
            &mut self.proj,
        );
        e.add(&self.ln1, &self.proj, &mut self.h2);
        e.layer_norm_rows(&self.h2, &w.ln2_gamma, &w.ln2_beta, &mut self.out);
    }
}

/// Multi-head attention over every (sequence, head) pair; each worker takes every
/// `workers`-th pair with its own scratch (one worker: in order, on this thread).
fn attention(
    c: &TransformerConfig,
    k: Kernels,
    qkv: &[f32],
    heads: &mut [HeadScratch],
    ctx: &mut [f32],
) {
    let pairs = c.batch * c.heads;
    let workers = heads.len();
    let shared = Shared(ctx.as_mut_ptr());
    let work = |(wi, sc): (usize, &mut HeadScratch)| {
        for pair in (wi..pairs).step_by(workers) {
            // SAFETY: each pair writes its own rows × head columns of ctx, and ctx is borrowed
            // mutably for the whole call.
            unsafe { attention_head(c, k, qkv, pair / c.heads, pair % c.heads, sc, shared) };
        }
    };
    if workers == 1 {
        heads.iter_mut().enumerate().for_each(work);
    } else {
        heads.par_iter_mut().enumerate().for_each(work);
    }
}

/// `ctx[seq b, head h] = softmax(Q·Kᵀ/sqrt(d_head))·V` for one sequence and head.
///
/// # Safety
/// `ctx` must point to `tokens × d_model` floats of which no one else touches this pair's block.
unsafe fn attention_head(
    c: &TransformerConfig,
    k: Kernels,
    qkv: &[f32],
    b: usize,
    h: usize,
    sc: &mut HeadScratch,
    ctx: Shared,
) {
    let (s, d, dh) = (c.seq, c.d_model, c.d_head());
    let ld = 3 * d;
    let row0 = b * s;
    let scale = 1.0 / (dh as f32).sqrt();
    for j in 0..s {
        let key = &qkv[(row0 + j) * ld + d + h * dh..][..dh];
        for (p, &v) in key.iter().enumerate() {
            sc.kt[p * s + j] = v * scale;
        }
    }
    let scores = GemmArgs {
        m: s,
        n: s,
        k: dh,
        a: qkv[row0 * ld + h * dh..].as_ptr(),
        lda: ld,
        b: sc.kt.as_ptr(),
        ldb: s,
        c: sc.scores.as_mut_ptr(),
        ldc: s,
    };
    // SAFETY: Q's block is s rows of dh at stride 3d inside qkv; kt and scores are dh×s, s×s.
    unsafe { k.gemm_raw(scores, &mut sc.ws) };
    k.softmax_rows(&sc.scores, s, &mut sc.probs);
    let context = GemmArgs {
        m: s,
        n: dh,
        k: s,
        a: sc.probs.as_ptr(),
        lda: s,
        b: qkv[row0 * ld + 2 * d + h * dh..].as_ptr(),
        ldb: ld,
        // SAFETY (offset): row0 < tokens and h·dh < d.
        c: unsafe { ctx.ptr().add(row0 * d + h * dh) },
        ldc: d,
    };
    // SAFETY: V's block is s rows of dh at stride 3d inside qkv; the ctx block is this pair's.
    unsafe { k.gemm_raw(context, &mut sc.ws) };
}

/// The layer in f64, written out directly: the validation reference.
pub fn reference(c: &TransformerConfig, w: &TransformerWeights, x: &[f32]) -> Vec<f64> {
    let (t, d, f, s, dh) = (c.tokens(), c.d_model, c.d_ff, c.seq, c.d_head());
    let x = r::widen(x);
    let linear = |input: &[f64], n: usize, k: usize, wt: &[f32], bias: &[f32]| {
        let mut y = r::matmul(t, n, k, input, &r::widen(wt));
        r::add_bias(&mut y, &r::widen(bias));
        y
    };
    let qkv = linear(&x, 3 * d, d, &w.w_qkv, &w.b_qkv);
    let at = |tok: usize, part: usize, h: usize, p: usize| qkv[tok * 3 * d + part * d + h * dh + p];
    let scale = 1.0 / (dh as f64).sqrt();
    let mut ctx = vec![0.0; t * d];
    for b in 0..c.batch {
        for h in 0..c.heads {
            let mut scores = vec![0.0; s * s];
            for i in 0..s {
                for j in 0..s {
                    let dot: f64 = (0..dh)
                        .map(|p| at(b * s + i, 0, h, p) * at(b * s + j, 1, h, p))
                        .sum();
                    scores[i * s + j] = dot * scale;
                }
            }
            r::softmax_rows(&mut scores, s);
            for i in 0..s {
                for p in 0..dh {
                    ctx[(b * s + i) * d + h * dh + p] = (0..s)
                        .map(|j| scores[i * s + j] * at(b * s + j, 2, h, p))
                        .sum();
                }
            }
        }
    }
    let proj = linear(&ctx, d, d, &w.w_o, &w.b_o);
    let mut h1: Vec<f64> = x.iter().zip(&proj).map(|(a, b)| a + b).collect();
    let eps = f64::from(LAYER_NORM_EPS);
    r::layer_norm_rows(
        &mut h1,
        &r::widen(&w.ln1_gamma),
        &r::widen(&w.ln1_beta),
        eps,
    );
    let mut ff = linear(&h1, f, d, &w.w_1, &w.b_1);
    ff.iter_mut().for_each(|v| *v = r::gelu(*v));
    let ff2 = linear(&ff, d, f, &w.w_2, &w.b_2);
    let mut out: Vec<f64> = h1.iter().zip(&ff2).map(|(a, b)| a + b).collect();
    r::layer_norm_rows(
        &mut out,
        &r::widen(&w.ln2_gamma),
        &r::widen(&w.ln2_beta),
        eps,
    );
    out
}
