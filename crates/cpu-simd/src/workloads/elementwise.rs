//! The workload shared by every elementwise family (creation, binary, unary): `k` inputs in, one
//! output out, one kernel call per `execute`, an f64 reference per element.

use super::check;
use tensorbench_core::schema::Validation;
use tensorbench_core::workload::NamedTensor;
use tensorbench_core::{Result, Workload, WorkloadSpec, data};

/// A kernel over zero, one or two inputs.
#[derive(Debug, Clone, Copy)]
pub enum Kernel {
    Nullary(fn(&mut [f32])),
    Unary(fn(&[f32], &mut [f32])),
    Binary(fn(&[f32], &[f32], &mut [f32])),
}

/// The op's definition: input ranges, per-element f64 reference, tolerance.
#[derive(Debug, Clone, Copy)]
pub struct OpDef {
    pub name: &'static str,
    /// One `(lo, hi)` uniform range per input.
    pub inputs: &'static [(f32, f32)],
    /// The f64 value of output element `i` given the inputs' element `i`.
    pub reference: fn(&[f64]) -> f64,
    pub tolerance: f64,
}

/// One elementwise op on one backend at one length.
pub struct Elementwise {
    spec: WorkloadSpec,
    def: OpDef,
    kernel: Kernel,
    n: usize,
    inputs: Vec<Vec<f32>>,
    out: Vec<f32>,
}

impl Elementwise {
    /// `spec` gets `n`, its cost (one flop per element; bytes = every input read plus the output
    /// written once) and its footprint.
    pub fn new(spec: WorkloadSpec, def: OpDef, kernel: Kernel, n: usize) -> Self {
        let arrays = def.inputs.len() + 1;
        let bytes = (arrays * n * 4) as f64;
        let spec = spec
            .param(tensorbench_ops::param::N, n)
            .cost(n as f64, bytes)
            .footprint((arrays * n * 4 + n * 8) as u64)
            // Timed, it touches its arrays; the f64 reference is read only to validate.
            .working_set((arrays * n * 4) as u64);
        Self {
            spec,
            def,
            kernel,
            n,
            inputs: Vec::new(),
            out: Vec::new(),
        }
    }
}

impl Workload for Elementwise {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }

    fn prepare(&mut self, seed: u64) -> Result<()> {
        self.inputs = (self.def.inputs.iter().enumerate())
            .map(|(i, &(lo, hi))| data::uniform_f32_in(self.n, seed.wrapping_add(i as u64), lo, hi))
            .collect();
        // NaN until written, so a kernel that skips elements cannot pass validation.
        self.out = vec![f32::NAN; self.n];
        Ok(())
    }

    fn execute(&mut self) {
        match self.kernel {
            Kernel::Nullary(f) => f(&mut self.out),
            Kernel::Unary(f) => f(&self.inputs[0], &mut self.out),
            Kernel::Binary(f) => f(&self.inputs[0], &self.inputs[1], &mut self.out),
        }
    }

    fn validate(&mut self) -> Result<Validation> {
        let mut args = vec![0.0f64; self.inputs.len()];
        let reference: Vec<f64> = (0..self.n)
            .map(|i| {
                for (a, input) in args.iter_mut().zip(&self.inputs) {
                    *a = f64::from(input[i]);
                }
                (self.def.reference)(&args)
            })
            .collect();
        Ok(check(&self.out, &reference, self.def.tolerance))
    }

    fn tensors(&self) -> Vec<NamedTensor> {
        let names = ["a", "b"];
        let mut t: Vec<NamedTensor> = (self.inputs.iter().zip(names))
            .map(|(x, name)| NamedTensor::input(name, &[self.n], x))
            .collect();
        t.push(NamedTensor::output("out", &[self.n], &self.out));
        t
    }
}
