//! Softmax along the rows of a `rows × cols` matrix.

use super::{Backend, Ctx, Profile, check, spec};
use crate::kernels::{par, scalar, simd::Kernels};
use tensorbench_core::schema::Validation;
use tensorbench_core::suite::Suite;
use tensorbench_core::workload::NamedTensor;
use tensorbench_core::{Result, Workload, WorkloadSpec, data};
use tensorbench_ops::{op, param};

/// `(x, cols, out)`.
pub type SoftmaxFn = fn(&[f32], usize, &mut [f32]);

/// Nominal FLOPs per element: max, subtract, exp, sum, scale.
const FLOPS_PER_ELEMENT: f64 = 5.0;
const TOLERANCE: f64 = 1e-5;

pub fn kernel(backend: Backend) -> Option<SoftmaxFn> {
    Some(match backend {
        Backend::Scalar => scalar::softmax_rows,
        Backend::Simd => |x, c, o| Kernels::best().softmax_rows(x, c, o),
        Backend::Rayon => par::softmax_rows,
        _ => return None,
    })
}

/// The f64 softmax of each row (the shared reference every backend uses).
pub fn reference(x: &[f32], cols: usize) -> Vec<f64> {
    tensorbench_ops::reference::softmax_rows(x, cols)
}

pub struct Softmax {
    spec: WorkloadSpec,
    kernel: SoftmaxFn,
    rows: usize,
    cols: usize,
    x: Vec<f32>,
    out: Vec<f32>,
}

impl Softmax {
    pub fn new(backend: Backend, kernel: SoftmaxFn, rows: usize, cols: usize, ctx: &Ctx) -> Self {
        let n = rows * cols;
        let spec = spec(op::SOFTMAX, backend, ctx)
            .param(param::ROWS, rows)
            .param(param::COLS, cols)
            .cost(FLOPS_PER_ELEMENT * n as f64, (n * 8) as f64)
            .footprint((n * 16) as u64);
        Self {
            spec,
            kernel,
            rows,
            cols,
            x: Vec::new(),
            out: Vec::new(),
        }
    }
}

impl Workload for Softmax {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, seed: u64) -> Result<()> {
        // Logit-like spread, so the max subtraction matters.
        self.x = data::uniform_f32_in(self.rows * self.cols, seed, -8.0, 8.0);
        self.out = vec![f32::NAN; self.x.len()];
        Ok(())
    }
    fn execute(&mut self) {
        (self.kernel)(&self.x, self.cols, &mut self.out);
    }
    fn validate(&mut self) -> Result<Validation> {
        Ok(check(&self.out, &reference(&self.x, self.cols), TOLERANCE))
    }
    fn tensors(&self) -> Vec<NamedTensor> {
        let shape = [self.rows, self.cols];
        vec![
            NamedTensor::input("x", &shape, &self.x),
            NamedTensor::output("out", &shape, &self.out),
        ]
    }
}

/// `(rows, cols)` per profile: rows of 4096 (a vocabulary-sized row) and of 1024.
pub fn shapes(ctx: &Ctx) -> Vec<(usize, usize)> {
    match ctx.profile {
        Profile::Quick => vec![(256, 4096)],
        Profile::Standard => vec![(256, 4096), (4096, 4096), (4096, 1024)],
        Profile::Full => vec![
            (16, 4096),
            (256, 4096),
            (4096, 4096),
            (4096, 1024),
            (16384, 1024),
        ],
    }
}

pub fn register(suite: &mut Suite, ctx: &Ctx) {
    for (rows, cols) in shapes(ctx) {
        for backend in Backend::OWN {
            if let Some(k) = kernel(backend) {
                suite.add(Softmax::new(backend, k, rows, cols, ctx));
            }
        }
    }
}
