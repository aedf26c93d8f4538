//! int8 symmetric quantization: `quantize` and `dequantize` (memory-bound, per tensor and per
//! channel) and the int8 GEMM with i32 accumulation.
//!
//! The int8 GEMM is validated exactly (its i32 output against i64 dot products, tolerance 0).
//! Its accuracy cost is recorded in `extra`: the dequantized result against the f32 GEMM on the
//! original f32 inputs, with B quantized per tensor and per output channel (A per tensor both
//! times). `extra.f32_partner` names the f32 GEMM measurement at the same shape and backend.

use super::gemm::Shape;
use super::precision::{REL_ERR_DEFINITION, f32_gemm_id, frobenius_rel_err, spec_of};
use super::{Backend, Ctx, Profile};
use crate::kernels::int8_gemm::{self, Int8Gemm, Int8Workspace};
use crate::kernels::quant::{self, Granularity};
use crate::kernels::simd::{GemmWorkspace, Kernels};
use std::collections::BTreeMap;
use tensorbench_core::schema::Validation;
use tensorbench_core::suite::Suite;
use tensorbench_core::workload::validate_against;
use tensorbench_core::{DType, Result, Workload, WorkloadSpec, data};

/// Round-to-nearest leaves at most half a step, plus the rounding of `x · (1/s)` in f32.
const ROUND_TRIP_TOLERANCE: f64 = 0.5 + 1e-4;

/// Elements per channel (row) of the quantized tensors.
const CHANNEL_LEN: usize = 1024;

/// `(rows, cols)` of a tensor of `n` values split into channels.
fn channels(n: usize) -> (usize, usize) {
    let cols = CHANNEL_LEN.min(n);
    (n / cols, cols)
}

/// The f64 reference scale of each row (one row covering everything for per-tensor).
fn reference_scales(x: &[f32], cols: usize) -> Vec<f64> {
    x.chunks(cols.max(1))
        .map(|row| {
            let amax = row.iter().fold(0.0f64, |m, &v| m.max(f64::from(v).abs()));
            if amax > 0.0 { amax / 127.0 } else { 1.0 }
        })
        .collect()
}

/// `max |q·s − x| / s_ref` in steps of the f64 reference scale: at most 1/2 when the scale is
/// right and every value is rounded to nearest; a wrong scale or rounding shows as more.
fn round_trip_steps(x: &[f32], q: &[i8], scales: &[f32], cols: usize) -> f64 {
    let refs = reference_scales(x, cols);
    let mut worst = 0.0f64;
    for (r, ((xs, qs), &s)) in x.chunks(cols).zip(q.chunks(cols)).zip(scales).enumerate() {
        for (&v, &qv) in xs.iter().zip(qs) {
            let err = if qv == i8::MIN {
                f64::INFINITY
            } else {
                (f64::from(qv) * f64::from(s) - f64::from(v)).abs() / refs[r]
            };
            worst = worst.max(err);
        }
    }
    worst
}

/// `quantize` or `dequantize` of `n` f32 values, per tensor or per channel.
pub struct QuantOp {
    spec: WorkloadSpec,
    dequant: bool,
    gran: Granularity,
    rows: usize,
    cols: usize,
    x: Vec<f32>,
    q: Vec<i8>,
    scales: Vec<f32>,
    out: Vec<f32>,
}

impl QuantOp {
    /// `dequant` picks `dequantize` over `quantize`.
    pub fn new(dequant: bool, gran: Granularity, n: usize, ctx: &Ctx) -> Self {
        let (rows, cols) = channels(n);
        let n = rows * cols;
        let op = if dequant { "dequantize" } else { "quantize" };
        let spec = spec_of(op, Backend::Simd, DType::I8, ctx)
            .param("n", n)
            .param("channel_len", cols)
            .param("granularity", gran.name())
            // One read of each input and one write of each output; no arithmetic counted.
            .cost(0.0, (n * 5 + rows * 4) as f64)
            .footprint((n * 9) as u64);
        Self {
            spec,
            dequant,
            gran,
            rows,
            cols,
            x: vec![],
            q: vec![],
            scales: vec![],
            out: vec![],
        }
    }

    fn scale_cols(&self) -> usize {
        match self.gran {
            Granularity::PerTensor => self.rows * self.cols,
            Granularity::PerChannel => self.cols,
        }
    }

    fn quantize(&mut self) {
        match self.gran {
            Granularity::PerTensor => self.scales[0] = quant::quantize_tensor(&self.x, &mut self.q),
            Granularity::PerChannel => {
                quant::quantize_rows(&self.x, self.cols, &mut self.scales, &mut self.q)
            }
        }
    }
}

impl Workload for QuantOp {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, seed: u64) -> Result<()> {
        let n = self.rows * self.cols;
        self.x = data::uniform_f32(n, seed);
        // Channels of different ranges, as in real weights: row r spans ±(1 + r mod 7).
        for (r, row) in self.x.chunks_mut(self.cols).enumerate() {
            let range = 1.0 + (r % 7) as f32;
            row.iter_mut().for_each(|v| *v *= range);
        }
        self.q = vec![0; n];
        self.scales = vec![1.0; n / self.scale_cols()];
        self.out = vec![];
        if self.dequant {
            self.quantize();
            self.out = vec![f32::NAN; n];
        }
        Ok(())
    }
    fn execute(&mut self) {
        if self.dequant {
            let cols = self.scale_cols();
            quant::dequantize_rows(&self.q, cols, &self.scales, &mut self.out);
        } else {
            self.quantize();
        }
    }
    fn validate(&mut self) -> Result<Validation> {
        let cols = self.scale_cols();
        if self.dequant {
            let reference: Vec<f64> = self
                .q
                .chunks(cols)
                .zip(&self.scales)
                .flat_map(|(qs, &s)| qs.iter().map(move |&q| f64::from(q) * f64::from(s)))
                .collect();
            return Ok(validate_against(
                &self.out,
                &reference,
                1e-6,
                "f64 q·scale from the same int8 values and scales",
            ));
        }
        let steps = round_trip_steps(&self.x, &self.q, &self.scales, cols);
        Ok(Validation {
            max_rel_err: steps,
            tolerance: ROUND_TRIP_TOLERANCE,
            passed: steps <= ROUND_TRIP_TOLERANCE,
            reference: "f64: |q·scale − x| in steps of max|x|/127; round to nearest allows 1/2"
                .into(),
        })
    }
}

/// Above this many multiply-adds the exact check samples outputs.
const FULL_CHECK_MACS: usize = 1 << 27;
/// Outputs checked exactly when sampling.
const SAMPLES: usize = 256;

/// `(m, n, k, a, bt, c)`: `c = a · btᵀ` in i32.
pub type Int8Fn = fn(usize, usize, usize, &[i8], &[i8], &mut [i32]);

/// How a backend runs the int8 product.
pub enum Int8Kernel {
    Scalar,
    Simd(Int8Gemm, Int8Workspace),
    Rayon,
    /// Any other kernel (tests plant wrong ones through this).
    Custom(Int8Fn),
}

impl Int8Kernel {
    pub fn for_backend(backend: Backend) -> Option<Self> {
        Some(match backend {
            Backend::Scalar => Int8Kernel::Scalar,
            Backend::Simd => Int8Kernel::Simd(Int8Gemm::best(), Int8Workspace::new()),
            Backend::Rayon => Int8Kernel::Rayon,
            _ => return None,
        })
    }

    pub fn run(&mut self, (m, n, k): Shape, a: &[i8], bt: &[i8], c: &mut [i32]) {
        match self {
            Int8Kernel::Scalar => int8_gemm::scalar_gemm(m, n, k, a, bt, c),
            Int8Kernel::Simd(g, ws) => g.gemm(m, n, k, a, bt, c, ws),
            Int8Kernel::Rayon => int8_gemm::par_gemm(m, n, k, a, bt, c),
            Int8Kernel::Custom(f) => f(m, n, k, a, bt, c),
        }
    }
}

/// The quantized operands: A per tensor, B (as `Bᵀ`, `n × k`) per tensor or per output channel.
struct Quantized {
    a: Vec<i8>,
    a_scale: f32,
    bt: Vec<i8>,
    /// One scale per output channel (all equal for per-tensor).
    b_scales: Vec<f32>,
}

impl Quantized {
    fn new(a: &[f32], bt: &[f32], k: usize, gran: Granularity) -> Self {
        let n = bt.len() / k.max(1);
        let mut qa = vec![0; a.len()];
        let a_scale = quant::quantize_tensor(a, &mut qa);
        let mut qb = vec![0; bt.len()];
        let b_scales = match gran {
            Granularity::PerTensor => vec![quant::quantize_tensor(bt, &mut qb); n],
            Granularity::PerChannel => {
                let mut s = vec![0.0; n];
                quant::quantize_rows(bt, k, &mut s, &mut qb);
                s
            }
        };
        Self {
            a: qa,
            a_scale,
            bt: qb,
            b_scales,
        }
    }

    /// `c[i][j] · s_a · s_b[j]`.
    fn dequantize(&self, c: &[i32]) -> Vec<f32> {
        let n = self.b_scales.len();
        c.iter()
            .enumerate()
            .map(|(e, &v)| v as f32 * self.a_scale * self.b_scales[e % n])
            .collect()
    }
}

/// `C[m×n] = A[m×k]·Bᵀ` in int8 with i32 accumulation (B quantized per output channel).
pub struct Int8GemmWorkload {
    spec: WorkloadSpec,
    kernel: Int8Kernel,
    shape: Shape,
    partner: String,
    seed: u64,
    q: Option<Quantized>,
    c: Vec<i32>,
    c_f32: Vec<f32>,
    err_per_tensor: Option<f64>,
    err_per_channel: Option<f64>,
}

impl Int8GemmWorkload {
    pub fn new(backend: Backend, kernel: Int8Kernel, shape: Shape, ctx: &Ctx) -> Self {
        let (m, n, k) = shape;
        let spec = spec_of("gemm", backend, DType::I8, ctx)
            .param("m", m)
            .param("n", n)
            .param("k", k)
            .cost(2.0 * (m * n * k) as f64, (m * k + n * k + m * n * 4) as f64)
            .footprint(((m * k + n * k) * 6 + m * n * 12) as u64);
        Self {
            spec,
            kernel,
            shape,
            partner: f32_gemm_id(backend, shape, ctx),
            seed: 0,
            q: None,
            c: vec![],
            c_f32: vec![],
            err_per_tensor: None,
            err_per_channel: None,
        }
    }

    fn check_exact(&self, q: &Quantized) -> Validation {
        let (m, n, k) = self.shape;
        let picks: Vec<usize> = if m * n * k <= FULL_CHECK_MACS {
            (0..m * n).collect()
        } else {
            data::uniform_f32_in(SAMPLES, self.seed ^ 0x5EED, 0.0, 1.0)
                .into_iter()
                .map(|u| ((f64::from(u) * (m * n) as f64) as usize).min(m * n - 1))
                .collect()
        };
        let got: Vec<i32> = picks.iter().map(|&e| self.c[e]).collect();
        let reference: Vec<f64> = picks
            .iter()
            .map(|&e| int8_gemm::dot_i64(&q.a, &q.bt, k, e / n, e % n) as f64)
            .collect();
        let what = if picks.len() == m * n {
            "exact i64 dot products of the same int8 inputs"
        } else {
            "exact i64 dot products at 256 random outputs"
        };
        validate_against(&got, &reference, 0.0, what)
    }
}

impl Workload for Int8GemmWorkload {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, seed: u64) -> Result<()> {
        let (m, n, k) = self.shape;
        self.seed = seed;
        let a = data::uniform_f32(m * k, seed);
        let b = data::uniform_f32(k * n, seed.wrapping_add(1));
        self.c_f32 = vec![0.0; m * n];
        Kernels::best().gemm(m, n, k, &a, &b, &mut self.c_f32, &mut GemmWorkspace::new());
        let bt = transpose(&b, k, n);
        // The per-tensor variant is run once here, only for its accuracy.
        let per_tensor = Quantized::new(&a, &bt, k, Granularity::PerTensor);
        let mut c = vec![0; m * n];
        Int8Gemm::best().gemm(
            m,
            n,
            k,
            &per_tensor.a,
            &per_tensor.bt,
            &mut c,
            &mut Int8Workspace::new(),
        );
        self.err_per_tensor = Some(frobenius_rel_err(&per_tensor.dequantize(&c), &self.c_f32));
        self.q = Some(Quantized::new(&a, &bt, k, Granularity::PerChannel));
        self.c = vec![i32::MIN; m * n];
        self.err_per_channel = None;
        Ok(())
    }
    fn execute(&mut self) {
        if let Some(q) = &self.q {
            self.kernel.run(self.shape, &q.a, &q.bt, &mut self.c);
        }
    }
    fn validate(&mut self) -> Result<Validation> {
        let Some(q) = &self.q else {
            return Err(tensorbench_core::Error::workload(
                &self.spec.id,
                "not prepared",
            ));
        };
        let v = self.check_exact(q);
        self.err_per_channel = Some(frobenius_rel_err(&q.dequantize(&self.c), &self.c_f32));
        self.c_f32 = vec![];
        Ok(v)
    }
    fn extra(&self) -> BTreeMap<String, serde_json::Value> {
        let mut e = BTreeMap::new();
        e.insert("f32_partner".into(), self.partner.clone().into());
        e.insert(
            "quantization".into(),
            "symmetric int8, A per tensor, B per output channel (timed); per-tensor B for accuracy only"
                .into(),
        );
        e.insert("int8_path".into(), Int8Gemm::best().path().name().into());
        if let (Some(t), Some(c)) = (self.err_per_tensor, self.err_per_channel) {
            e.insert("rel_err_vs_f32".into(), c.into());
            e.insert("rel_err_vs_f32_per_channel".into(), c.into());
            e.insert("rel_err_vs_f32_per_tensor".into(), t.into());
            e.insert("rel_err_definition".into(), REL_ERR_DEFINITION.into());
        }
        e
    }
}

/// Row-major `rows × cols` to `cols × rows`.
pub fn transpose(x: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    tensorbench_ops::reference::transpose(rows, cols, x)
}

/// Shapes with an f32 partner in `gemm.rs`'s list for the same profile.
fn gemm_shapes(ctx: &Ctx) -> Vec<Shape> {
    match ctx.profile {
        Profile::Quick => vec![(256, 256, 256)],
        Profile::Standard | Profile::Full => vec![
            (256, 256, 256),
            (512, 512, 512),
            (1024, 1024, 1024),
            (2048, 2048, 2048),
            (128, 768, 768),
        ],
    }
}

/// The scalar loop only where it finishes in reasonable time.
const SCALAR_MAX_MACS: usize = 1 << 28;

pub fn register(suite: &mut Suite, ctx: &Ctx) {
    let quick = ctx.profile == Profile::Quick;
    for n in if quick { vec![1 << 20] } else { ctx.sizes() } {
        for gran in Granularity::ALL {
            suite.add(QuantOp::new(false, gran, n, ctx));
            if !quick || gran == Granularity::PerChannel {
                suite.add(QuantOp::new(true, gran, n, ctx));
            }
        }
    }
    for shape in gemm_shapes(ctx) {
        for backend in [Backend::Scalar, Backend::Simd, Backend::Rayon] {
            let macs = shape.0 * shape.1 * shape.2;
            if backend == Backend::Scalar && (quick || macs > SCALAR_MAX_MACS) {
                continue;
            }
            if let Some(kernel) = Int8Kernel::for_backend(backend) {
                suite.add(Int8GemmWorkload::new(backend, kernel, shape, ctx));
            }
        }
    }
}
