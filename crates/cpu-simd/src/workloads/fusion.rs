//! Fusion pairs: the same math as one fused kernel and as the suite's single-op kernels run one
//! after another over whole tensors (as an eager framework runs them), each materialising its
//! result. Ids differ only in `variant=fused|unfused`; `extra` names the partner and the bytes
//! the fused form saves (from the minimal bytes of each variant in `cost`).
//!
//! - `add_relu`: `max(a + b, 0)` against add, then ReLU.
//! - `gemm_bias_gelu`: bias and GELU in the GEMM's output pass against GEMM, bias add, GELU.
//! - `softmax`: the row-fused kernel (one trip to memory per row) against max, subtract, exp,
//!   sum and divide passes.
//! - `layer_norm`: the row-fused kernel against mean, centre, square, variance, normalise,
//!   scale and shift passes.

use super::models::exec::{Exec, RowOp};
use super::models::reference as r;
use super::{Backend, Ctx, Profile, check, gemm_tolerance, spec};
use crate::kernels::simd::Act;
use crate::kernels::{LAYER_NORM_EPS, Reduction};
use std::collections::BTreeMap;
use tensorbench_core::schema::Validation;
use tensorbench_core::suite::Suite;
use tensorbench_core::{Result, Workload, WorkloadSpec, data};

/// A fused computation and its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pair {
    AddRelu { n: usize },
    GemmBiasGelu { m: usize, n: usize, k: usize },
    Softmax { rows: usize, cols: usize },
    LayerNorm { rows: usize, cols: usize },
}

impl Pair {
    pub fn name(self) -> &'static str {
        match self {
            Pair::AddRelu { .. } => "add_relu",
            Pair::GemmBiasGelu { .. } => "gemm_bias_gelu",
            Pair::Softmax { .. } => "softmax",
            Pair::LayerNorm { .. } => "layer_norm",
        }
    }

    /// Elements of the output.
    fn len(self) -> usize {
        match self {
            Pair::AddRelu { n } => n,
            Pair::GemmBiasGelu { m, n, .. } => m * n,
            Pair::Softmax { rows, cols } | Pair::LayerNorm { rows, cols } => rows * cols,
        }
    }

    /// Nominal FLOPs, the same for both variants: the GEMM's 2mnk (bias and GELU uncounted),
    /// 2 per element for add+ReLU, 5 for softmax and 7 for layer norm (as their own workloads).
    fn flops(self) -> f64 {
        let n = self.len() as f64;
        match self {
            Pair::AddRelu { .. } => 2.0 * n,
            Pair::GemmBiasGelu { m, n, k } => 2.0 * (m * n * k) as f64,
            Pair::Softmax { .. } => 5.0 * n,
            Pair::LayerNorm { .. } => 7.0 * n,
        }
    }

    /// Minimal bytes of the fused form: inputs read once, output written once.
    fn fused_bytes(self) -> f64 {
        let n = self.len();
        4.0 * match self {
            Pair::AddRelu { .. } => 3 * n,
            Pair::GemmBiasGelu { m, n, k } => m * k + k * n + n + m * n,
            Pair::Softmax { .. } => 2 * n,
            Pair::LayerNorm { cols, .. } => 2 * n + 2 * cols,
        } as f64
    }

    /// Extra bytes of the unfused form: each intermediate written and read back, plus re-reads.
    /// add+ReLU: the sum (2n). GEMM: C through the bias add and the GELU (4mn). Softmax: x read
    /// again by subtract, the shifted and exp tensors written and read, exp read again by divide
    /// (6n). Layer norm: x read again, the centred, squared, normalised and scaled tensors
    /// written and read, the centred one read again (10n).
    fn extra_unfused_bytes(self) -> f64 {
        let n = self.len();
        4.0 * match self {
            Pair::AddRelu { .. } => 2 * n,
            Pair::GemmBiasGelu { .. } => 4 * n,
            Pair::Softmax { .. } => 6 * n,
            Pair::LayerNorm { .. } => 10 * n,
        } as f64
    }

    fn tolerance(self) -> f64 {
        match self {
            Pair::AddRelu { .. } => 1e-6,
            Pair::GemmBiasGelu { k, .. } => gemm_tolerance(k),
            Pair::Softmax { .. } => 1e-5,
            Pair::LayerNorm { .. } => 1e-4,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Fused,
    Unfused,
}

impl Variant {
    pub fn name(self) -> &'static str {
        match self {
            Variant::Fused => "fused",
            Variant::Unfused => "unfused",
        }
    }
    fn other(self) -> Self {
        match self {
            Variant::Fused => Variant::Unfused,
            Variant::Unfused => Variant::Fused,
        }
    }
}

/// Inputs, output and the unfused form's intermediates.
#[derive(Debug, Default)]
struct Buffers {
    a: Vec<f32>,
    b: Vec<f32>,
    /// Bias, or gamma.
    v: Vec<f32>,
    /// Beta.
    w: Vec<f32>,
    out: Vec<f32>,
    t1: Vec<f32>,
    t2: Vec<f32>,
    /// Per-row statistics.
    r1: Vec<f32>,
    r2: Vec<f32>,
}

pub struct Fusion {
    spec: WorkloadSpec,
    partner: String,
    pair: Pair,
    variant: Variant,
    exec: Exec,
    buf: Buffers,
}

fn pair_spec(pair: Pair, variant: Variant, backend: Backend, ctx: &Ctx) -> WorkloadSpec {
    let s = spec(&format!("fusion.{}", pair.name()), backend, ctx).param("variant", variant.name());
    let s = match pair {
        Pair::AddRelu { n } => s.param("n", n),
        Pair::GemmBiasGelu { m, n, k } => s.param("m", m).param("n", n).param("k", k),
        Pair::Softmax { rows, cols } | Pair::LayerNorm { rows, cols } => {
            s.param("rows", rows).param("cols", cols)
        }
    };
    let bytes = match variant {
        Variant::Fused => pair.fused_bytes(),
        Variant::Unfused => pair.fused_bytes() + pair.extra_unfused_bytes(),
    };
    // The footprint that picks the roofline's level is the largest working set of any one pass:
    // the unfused form's extra traffic goes through intermediates a pass at a time, each pass over
    // no more than the fused form's tensors, so both variants share it (and a faster level is the
    // safe choice: a ceiling must stay an upper bound).
    s.cost(pair.flops(), bytes)
        .footprint(pair.fused_bytes() as u64)
}

impl Fusion {
    /// `None` for backends without a fused implementation (only `simd` and `rayon` have one).
    pub fn new(pair: Pair, variant: Variant, backend: Backend, ctx: &Ctx) -> Option<Self> {
        Some(Self {
            spec: pair_spec(pair, variant, backend, ctx),
            partner: pair_spec(pair, variant.other(), backend, ctx).id,
            pair,
            variant,
            exec: Exec::new(backend)?,
            buf: Buffers::default(),
        })
    }

    fn run_fused(&mut self) {
        let (e, b) = (&mut self.exec, &mut self.buf);
        match self.pair {
            Pair::AddRelu { .. } => e.add_relu(&b.a, &b.b, &mut b.out),
            Pair::GemmBiasGelu { m, n, k } => {
                e.gemm_bias_act((m, n, k), &b.a, &b.b, &b.v, Act::Gelu, &mut b.out)
            }
            Pair::Softmax { cols, .. } => e.softmax_rows(&b.a, cols, &mut b.out),
            Pair::LayerNorm { .. } => e.layer_norm_rows(&b.a, &b.v, &b.w, &mut b.out),
        }
    }

    fn run_unfused(&mut self) {
        let (e, b) = (&mut self.exec, &mut self.buf);
        match self.pair {
            Pair::AddRelu { .. } => {
                e.add(&b.a, &b.b, &mut b.t1);
                e.relu(&b.t1, &mut b.out);
            }
            Pair::GemmBiasGelu { m, n, k } => {
                e.gemm(m, n, k, &b.a, &b.b, &mut b.out);
                e.row_vector(RowOp::Add, &b.out, &b.v, &mut b.t1);
                e.gelu(&b.t1, &mut b.out);
            }
            Pair::Softmax { cols, .. } => {
                e.reduce_rows(Reduction::Max, &b.a, cols, &mut b.r1);
                e.row_scalar(RowOp::Sub, &b.a, &b.r1, &mut b.t1);
                e.exp(&b.t1, &mut b.t2);
                e.reduce_rows(Reduction::Sum, &b.t2, cols, &mut b.r2);
                e.row_scalar(RowOp::Div, &b.t2, &b.r2, &mut b.out);
            }
            Pair::LayerNorm { cols, .. } => {
                e.reduce_rows(Reduction::Mean, &b.a, cols, &mut b.r1);
                e.row_scalar(RowOp::Sub, &b.a, &b.r1, &mut b.t1);
                e.mul(&b.t1, &b.t1, &mut b.t2);
                e.reduce_rows(Reduction::Mean, &b.t2, cols, &mut b.r2);
                // One scalar per row: not a pass over the tensor.
                b.r2.iter_mut()
                    .for_each(|v| *v = 1.0 / (*v + LAYER_NORM_EPS).sqrt());
                e.row_scalar(RowOp::Mul, &b.t1, &b.r2, &mut b.t2);
                e.row_vector(RowOp::Mul, &b.t2, &b.v, &mut b.t1);
                e.row_vector(RowOp::Add, &b.t1, &b.w, &mut b.out);
            }
        }
    }

    fn reference(&self) -> Vec<f64> {
        let b = &self.buf;
        match self.pair {
            Pair::AddRelu { .. } => (b.a.iter().zip(&b.b))
                .map(|(&x, &y)| r::relu(f64::from(x) + f64::from(y)))
                .collect(),
            Pair::GemmBiasGelu { m, n, k } => {
                let mut c = r::matmul(m, n, k, &r::widen(&b.a), &r::widen(&b.b));
                r::add_bias(&mut c, &r::widen(&b.v));
                c.into_iter().map(r::gelu).collect()
            }
            Pair::Softmax { cols, .. } => {
                let mut x = r::widen(&b.a);
                r::softmax_rows(&mut x, cols);
                x
            }
            Pair::LayerNorm { .. } => {
                let mut x = r::widen(&b.a);
                let eps = f64::from(LAYER_NORM_EPS);
                r::layer_norm_rows(&mut x, &r::widen(&b.v), &r::widen(&b.w), eps);
                x
            }
        }
    }
}

impl Workload for Fusion {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, seed: u64) -> Result<()> {
        let len = self.pair.len();
        let unfused = self.variant == Variant::Unfused;
        let scratch = |n: usize| if unfused { vec![0.0; n] } else { Vec::new() };
        let uniform = |n, s: u64| data::uniform_f32(n, seed.wrapping_add(s));
        self.buf = match self.pair {
            Pair::AddRelu { n } => Buffers {
                a: uniform(n, 0),
                b: uniform(n, 1),
                t1: scratch(n),
                ..Buffers::default()
            },
            Pair::GemmBiasGelu { m, n, k } => Buffers {
                a: uniform(m * k, 0),
                // Scaled so the GELU sees inputs of order one, where it is not linear.
                b: data::uniform_f32_in(k * n, seed.wrapping_add(1), -2.0, 2.0)
                    .into_iter()
                    .map(|v| v / (k as f32).sqrt())
                    .collect(),
                v: uniform(n, 2),
                t1: scratch(m * n),
                ..Buffers::default()
            },
            Pair::Softmax { rows, .. } => Buffers {
                a: data::uniform_f32_in(len, seed, -8.0, 8.0),
                t1: scratch(len),
                t2: scratch(len),
                r1: scratch(rows),
                r2: scratch(rows),
                ..Buffers::default()
            },
            Pair::LayerNorm { rows, cols } => Buffers {
                // An offset mean, so a missing centring step shows.
                a: data::uniform_f32_in(len, seed, -1.0, 3.0),
                v: data::uniform_f32_in(cols, seed.wrapping_add(1), 0.5, 1.5),
                w: uniform(cols, 2),
                t1: scratch(len),
                t2: scratch(len),
                r1: scratch(rows),
                r2: scratch(rows),
                ..Buffers::default()
            },
        };
        self.buf.out = vec![f32::NAN; len];
        Ok(())
    }
    fn execute(&mut self) {
        match self.variant {
            Variant::Fused => self.run_fused(),
            Variant::Unfused => self.run_unfused(),
        }
    }
    fn validate(&mut self) -> Result<Validation> {
        Ok(check(
            &self.buf.out,
            &self.reference(),
            self.pair.tolerance(),
        ))
    }
    fn extra(&self) -> BTreeMap<String, serde_json::Value> {
        let mut e = BTreeMap::new();
        e.insert("partner_id".into(), self.partner.clone().into());
        e.insert("fusion_variant".into(), self.variant.name().into());
        e.insert("bytes_saved".into(), self.pair.extra_unfused_bytes().into());
        e
    }
}

/// The pairs per profile: cache- and memory-resident elementwise sizes, BERT-base shapes (the
/// FFN up-projection at 128 tokens, 12 heads of 128×128 scores, 128 tokens of 768) and larger.
pub fn pairs(ctx: &Ctx) -> Vec<Pair> {
    use Pair::*;
    match ctx.profile {
        Profile::Quick => vec![
            AddRelu { n: 1 << 20 },
            GemmBiasGelu {
                m: 64,
                n: 768,
                k: 256,
            },
            Softmax {
                rows: 256,
                cols: 1024,
            },
            LayerNorm {
                rows: 256,
                cols: 768,
            },
        ],
        Profile::Standard | Profile::Full => vec![
            AddRelu { n: 1 << 16 },
            AddRelu { n: 1 << 22 },
            GemmBiasGelu {
                m: 128,
                n: 3072,
                k: 768,
            },
            Softmax {
                rows: 1536,
                cols: 128,
            },
            Softmax {
                rows: 4096,
                cols: 1024,
            },
            LayerNorm {
                rows: 128,
                cols: 768,
            },
            LayerNorm {
                rows: 4096,
                cols: 1024,
            },
        ],
    }
}

/// The quick profile keeps to one thread, so it stays quick.
pub fn backends(ctx: &Ctx) -> &'static [Backend] {
    match ctx.profile {
        Profile::Quick => &[Backend::Simd],
        Profile::Standard | Profile::Full => &[Backend::Simd, Backend::Rayon],
    }
}

pub fn register(suite: &mut Suite, ctx: &Ctx) {
    for pair in pairs(ctx) {
        for &backend in backends(ctx) {
            for variant in [Variant::Fused, Variant::Unfused] {
                if let Some(w) = Fusion::new(pair, variant, backend, ctx) {
                    suite.add(w);
                }
            }
        }
    }
}
