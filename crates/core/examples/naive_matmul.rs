//! Measuring an op of your own with tensorbench-core: a naive matmul, defined here, outside every
//! suite, run through the same sampler and written to the same run-file schema that
//! `cargo xtask compare` and `cargo xtask report` read.
//!
//! ```text
//! cargo run --release -p tensorbench-core --example naive_matmul -- --out results
//! ```

use std::process::ExitCode;
use tensorbench_core::prelude::*;

/// C = A · B for square n×n f32 matrices, the textbook triple loop.
pub struct NaiveMatmul {
    spec: WorkloadSpec,
    n: usize,
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
}

impl NaiveMatmul {
    /// The workload at size `n`.
    pub fn new(n: usize) -> Self {
        let nf = n as f64;
        let spec = WorkloadSpec::new("example", "matmul", "naive", DType::F32)
            .param("n", n)
            // 2n³ flops; at least A and B read and C written once.
            .cost(2.0 * nf * nf * nf, 3.0 * 4.0 * nf * nf)
            .footprint((3 * n * n * 4) as u64);
        Self {
            spec,
            n,
            a: vec![],
            b: vec![],
            c: vec![],
        }
    }
}

impl Workload for NaiveMatmul {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }

    fn prepare(&mut self, seed: u64) -> Result<()> {
        self.a = data::uniform_f32(self.n * self.n, seed);
        self.b = data::uniform_f32(self.n * self.n, seed ^ 1);
        self.c = vec![0.0; self.n * self.n];
        Ok(())
    }

    fn execute(&mut self) {
        let n = self.n;
        for i in 0..n {
            for j in 0..n {
                let mut acc = 0.0f32;
                for k in 0..n {
                    acc += self.a[i * n + k] * self.b[k * n + j];
                }
                self.c[i * n + j] = acc;
            }
        }
    }

    fn validate(&mut self) -> Result<Validation> {
        let n = self.n;
        let mut reference = vec![0.0f64; n * n];
        for i in 0..n {
            for k in 0..n {
                let a = f64::from(self.a[i * n + k]);
                for j in 0..n {
                    reference[i * n + j] += a * f64::from(self.b[k * n + j]);
                }
            }
        }
        // f32 rounding error grows with the length of each dot product.
        let tolerance = n as f64 * 1e-5;
        Ok(validate_against(
            &self.c,
            &reference,
            tolerance,
            "f64 triple loop",
        ))
    }

    fn tensors(&self) -> Vec<NamedTensor> {
        let s = [self.n, self.n];
        vec![
            NamedTensor::input("a", &s, &self.a),
            NamedTensor::input("b", &s, &self.b),
            NamedTensor::output("c", &s, &self.c),
        ]
    }
}

/// Registers the example's workloads: two sizes.
pub fn register(suite: &mut Suite, _opts: &SuiteOptions) {
    suite.add(NaiveMatmul::new(64));
    suite.add(NaiveMatmul::new(128));
}

fn main() -> ExitCode {
    suite::main("example", register)
}
