//! Tensor creation: zeros and fill into an existing buffer (scalar, SIMD, rayon), and seeded
//! uniform random data (`tensorbench_core::data`, the generator every input in the suite uses).

use super::elementwise::{Elementwise, Kernel, OpDef};
use super::{Backend, Ctx, check, spec};
use crate::kernels::{par, scalar, simd::Kernels};
use tensorbench_core::schema::Validation;
use tensorbench_core::suite::Suite;
use tensorbench_core::{Result, Workload, WorkloadSpec, data};

/// The value `fill` writes.
pub const FILL_VALUE: f32 = 0.75;

fn ops() -> Vec<(OpDef, Vec<(Backend, Kernel)>)> {
    use Backend::*;
    use Kernel::Nullary as N;
    let def = |name, reference| OpDef {
        name,
        inputs: &[],
        reference,
        tolerance: 0.0,
    };
    vec![
        (
            def("zeros", |_| 0.0),
            vec![
                (Scalar, N(scalar::zeros)),
                (Simd, N(|o| Kernels::best().zeros(o))),
                (Rayon, N(par::zeros)),
            ],
        ),
        (
            def("fill", |_| f64::from(FILL_VALUE)),
            vec![
                (Scalar, N(|o| scalar::fill(o, FILL_VALUE))),
                (Simd, N(|o| Kernels::best().fill(o, FILL_VALUE))),
                (Rayon, N(|o| par::fill(o, FILL_VALUE))),
            ],
        ),
    ]
}

/// `random`: a fresh `Vec` of `n` uniform values in [-1, 1) from the seed (allocation included,
/// as in any framework's `rand`).
pub struct Random {
    spec: WorkloadSpec,
    n: usize,
    seed: u64,
    out: Vec<f32>,
}

impl Random {
    pub fn new(n: usize, ctx: &Ctx) -> Self {
        let spec = spec("random", Backend::Scalar, ctx)
            .param("n", n)
            .cost(0.0, (n * 4) as f64)
            .footprint((n * 16) as u64);
        Self {
            spec,
            n,
            seed: 0,
            out: Vec::new(),
        }
    }
}

impl Workload for Random {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, seed: u64) -> Result<()> {
        self.seed = seed;
        Ok(())
    }
    fn execute(&mut self) {
        self.out = data::uniform_f32(self.n, self.seed);
    }
    /// The stream must be reproducible from the seed and inside [-1, 1): the reference is an
    /// independent regeneration, with out-of-range values replaced by NaN so they fail.
    fn validate(&mut self) -> Result<Validation> {
        let reference: Vec<f64> = data::uniform_f32(self.n, self.seed)
            .into_iter()
            .map(|v| {
                if (-1.0..1.0).contains(&v) {
                    f64::from(v)
                } else {
                    f64::NAN
                }
            })
            .collect();
        Ok(check(&self.out, &reference, 0.0))
    }
}

pub fn register(suite: &mut Suite, ctx: &Ctx) {
    for (def, kernels) in ops() {
        for n in ctx.sizes() {
            for &(backend, kernel) in &kernels {
                suite.add(Elementwise::new(
                    spec(def.name, backend, ctx),
                    def,
                    kernel,
                    n,
                ));
            }
        }
    }
    for n in ctx.sizes() {
        suite.add(Random::new(n, ctx));
    }
}
