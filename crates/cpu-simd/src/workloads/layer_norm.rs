//! Layer normalisation along the rows of a `rows × cols` matrix, with per-column gamma and beta.

use super::{Backend, Ctx, check, spec};
use crate::kernels::{LAYER_NORM_EPS, par, scalar, simd::Kernels};
use tensorbench_core::schema::Validation;
use tensorbench_core::suite::Suite;
use tensorbench_core::workload::NamedTensor;
use tensorbench_core::{Result, Workload, WorkloadSpec, data};
use tensorbench_ops::{op, param};

/// `(x, gamma, beta, eps, out)`.
pub type LayerNormFn = fn(&[f32], &[f32], &[f32], f32, &mut [f32]);

/// Nominal FLOPs per element: mean, centre, square-accumulate, scale, gamma, beta.
const FLOPS_PER_ELEMENT: f64 = 7.0;
/// f32 mean and variance over thousands of elements, then a normalised output near zero.
const TOLERANCE: f64 = 1e-4;

pub fn kernel(backend: Backend) -> Option<LayerNormFn> {
    Some(match backend {
        Backend::Scalar => scalar::layer_norm_rows,
        Backend::Simd => |x, g, b, e, o| Kernels::best().layer_norm_rows(x, g, b, e, o),
        Backend::Rayon => par::layer_norm_rows,
        _ => return None,
    })
}

/// The f64 layer norm of each row (the shared reference every backend uses).
pub fn reference(x: &[f32], gamma: &[f32], beta: &[f32], eps: f32) -> Vec<f64> {
    tensorbench_ops::reference::layer_norm_rows(x, gamma, beta, eps.into())
}

pub struct LayerNorm {
    spec: WorkloadSpec,
    kernel: LayerNormFn,
    rows: usize,
    cols: usize,
    x: Vec<f32>,
    gamma: Vec<f32>,
    beta: Vec<f32>,
    out: Vec<f32>,
}

impl LayerNorm {
    pub fn new(backend: Backend, kernel: LayerNormFn, rows: usize, cols: usize, ctx: &Ctx) -> Self {
        let n = rows * cols;
        let spec = spec(op::LAYER_NORM, backend, ctx)
            .param(param::ROWS, rows)
            .param(param::COLS, cols)
            .cost(
                FLOPS_PER_ELEMENT * n as f64,
                ((2 * n + 2 * cols) * 4) as f64,
            )
            .footprint((n * 16) as u64);
        Self {
            spec,
            kernel,
            rows,
            cols,
            x: vec![],
            gamma: vec![],
            beta: vec![],
            out: vec![],
        }
    }
}

impl Workload for LayerNorm {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, seed: u64) -> Result<()> {
        // A non-zero mean, so centring is exercised.
        self.x = data::uniform_f32_in(self.rows * self.cols, seed, -1.0, 3.0);
        self.gamma = data::uniform_f32_in(self.cols, seed.wrapping_add(1), 0.5, 1.5);
        self.beta = data::uniform_f32_in(self.cols, seed.wrapping_add(2), -0.5, 0.5);
        self.out = vec![f32::NAN; self.x.len()];
        Ok(())
    }
    fn execute(&mut self) {
        (self.kernel)(
            &self.x,
            &self.gamma,
            &self.beta,
            LAYER_NORM_EPS,
            &mut self.out,
        );
    }
    fn validate(&mut self) -> Result<Validation> {
        let r = reference(&self.x, &self.gamma, &self.beta, LAYER_NORM_EPS);
        Ok(check(&self.out, &r, TOLERANCE))
    }
    fn tensors(&self) -> Vec<NamedTensor> {
        let shape = [self.rows, self.cols];
        vec![
            NamedTensor::input("x", &shape, &self.x),
            NamedTensor::input("gamma", &[self.cols], &self.gamma),
            NamedTensor::input("beta", &[self.cols], &self.beta),
            NamedTensor::output("out", &shape, &self.out),
        ]
    }
}

pub fn register(suite: &mut Suite, ctx: &Ctx) {
    for (rows, cols) in super::softmax::shapes(ctx) {
        for backend in Backend::OWN {
            if let Some(k) = kernel(backend) {
                suite.add(LayerNorm::new(backend, k, rows, cols, ctx));
            }
        }
    }
}
