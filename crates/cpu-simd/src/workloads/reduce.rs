//! Whole-tensor reductions: sum, mean, max, min.

use super::{Backend, Ctx, check, spec};
use crate::kernels::{Reduction, par, peers, scalar, simd::Kernels};
use tensorbench_core::schema::Validation;
use tensorbench_core::suite::Suite;
use tensorbench_core::workload::NamedTensor;
use tensorbench_core::{Result, Workload, WorkloadSpec, data};

/// A whole-slice reduction kernel.
pub type ReduceFn = fn(Reduction, &[f32]) -> f32;

/// The kernel of `backend`.
pub fn kernel(backend: Backend) -> Option<ReduceFn> {
    Some(match backend {
        Backend::Scalar => scalar::reduce,
        Backend::Simd => |op, x| Kernels::best().reduce(op, x),
        Backend::Rayon => par::reduce,
        Backend::Ndarray => peers::nd::reduce,
        _ => return None,
    })
}

/// Tolerance against f64. Inputs are positive, so the sum is well conditioned and the check is
/// of the accumulation itself: a naive f32 loop fails it at 2^24 elements.
pub fn tolerance(op: Reduction) -> f64 {
    match op {
        Reduction::Sum | Reduction::Mean => 1e-5,
        Reduction::Max | Reduction::Min => 0.0,
    }
}

pub struct Reduce {
    spec: WorkloadSpec,
    op: Reduction,
    kernel: ReduceFn,
    n: usize,
    x: Vec<f32>,
    out: f32,
}

impl Reduce {
    pub fn new(op: Reduction, backend: Backend, kernel: ReduceFn, n: usize, ctx: &Ctx) -> Self {
        let spec = spec(op.name(), backend, ctx)
            .param(tensorbench_ops::param::N, n)
            .cost(n as f64, (n * 4) as f64)
            .footprint((n * 4) as u64);
        Self {
            spec,
            op,
            kernel,
            n,
            x: Vec::new(),
            out: f32::NAN,
        }
    }
}

impl Workload for Reduce {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, seed: u64) -> Result<()> {
        self.x = data::uniform_f32_in(self.n, seed, 0.0, 1.0);
        self.out = f32::NAN;
        Ok(())
    }
    fn execute(&mut self) {
        self.out = std::hint::black_box((self.kernel)(self.op, &self.x));
    }
    fn validate(&mut self) -> Result<Validation> {
        let reference = self.op.reference(self.x.iter().map(|&v| f64::from(v)));
        Ok(check(&[self.out], &[reference], tolerance(self.op)))
    }
    fn tensors(&self) -> Vec<NamedTensor> {
        vec![
            NamedTensor::input("x", &[self.n], &self.x),
            NamedTensor::output("out", &[], &[self.out]),
        ]
    }
}

pub fn register(suite: &mut Suite, ctx: &Ctx) {
    for op in Reduction::ALL {
        for n in ctx.sizes() {
            for backend in [
                Backend::Scalar,
                Backend::Simd,
                Backend::Rayon,
                Backend::Ndarray,
            ] {
                if let Some(k) = kernel(backend) {
                    suite.add(Reduce::new(op, backend, k, n, ctx));
                }
            }
        }
    }
}
