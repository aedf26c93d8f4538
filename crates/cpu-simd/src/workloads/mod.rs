//! The CPU workloads: one file per op family, each with a `register` function listed in
//! [`register`]. Adding a family is one file plus one line there.
//!
//! Every workload prepares fresh seeded inputs, runs one kernel of one backend family per
//! `execute`, and validates its output against an f64 reference computed from the same inputs.

pub mod alloc;
pub mod conv2d;
pub mod creation;
pub mod elementwise;
pub mod fft;
pub mod fusion;
pub mod gemm;
pub mod layer_norm;
pub mod mlp;
pub mod models;
pub mod precision;
pub mod quant;
pub mod reduce;
pub mod reduce_axis;
pub mod resnet;
pub mod softmax;
pub mod spmv;
pub mod transformer;
pub mod unary;

pub mod binary;

use tensorbench_core::schema::Validation;
use tensorbench_core::suite::{Suite, SuiteOptions};
use tensorbench_core::workload::validate_against;
use tensorbench_core::{DType, WorkloadSpec};

/// The suite name every CPU workload id starts with.
pub const SUITE: &str = "cpu-simd";

/// How much of the size range a run covers: the one profile type every suite shares.
pub use tensorbench_ops::Profile;

/// What a family's `register` needs to know.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    pub profile: Profile,
    /// Threads of the parallel backends (`--threads`).
    pub threads: usize,
}

impl Ctx {
    pub fn new(profile: Profile, threads: usize) -> Self {
        Self { profile, threads }
    }

    /// From the suite's flags.
    pub fn from_options(opts: &SuiteOptions) -> Self {
        Self::new(opts.profile, opts.threads().max(1))
    }

    /// Element counts for the 1-D ops: cache-resident to DRAM-resident.
    pub fn sizes(&self) -> Vec<usize> {
        match self.profile {
            Profile::Quick => vec![1 << 20],
            Profile::Standard => vec![1 << 12, 1 << 16, 1 << 20, 1 << 24],
            Profile::Full => (10..=24).step_by(2).map(|p| 1 << p).collect(),
        }
    }
}

/// The kernel families a workload can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Scalar,
    Simd,
    Rayon,
    Ndarray,
    GemmCrate,
    Matrixmultiply,
}

impl Backend {
    /// The families every op has.
    pub const OWN: [Backend; 3] = [Backend::Scalar, Backend::Simd, Backend::Rayon];

    pub fn name(self) -> &'static str {
        match self {
            Backend::Scalar => "scalar",
            Backend::Simd => "simd",
            Backend::Rayon => "rayon",
            Backend::Ndarray => "ndarray",
            Backend::GemmCrate => "gemm",
            Backend::Matrixmultiply => "matrixmultiply",
        }
    }

    /// Threads this family uses under `ctx`.
    pub fn threads(self, ctx: &Ctx) -> usize {
        match self {
            Backend::Rayon | Backend::GemmCrate | Backend::Matrixmultiply => ctx.threads,
            Backend::Scalar | Backend::Simd | Backend::Ndarray => 1,
        }
    }
}

/// The spec of `op` on `backend`, f32, with the backend's thread count.
pub fn spec(op: &str, backend: Backend, ctx: &Ctx) -> WorkloadSpec {
    WorkloadSpec::new(SUITE, op, backend.name(), DType::F32).threads(backend.threads(ctx))
}

/// Compares with the f64 reference and names it.
pub fn check(got: &[f32], reference: &[f64], tolerance: f64) -> Validation {
    validate_against(
        got,
        reference,
        tolerance,
        "f64 reference from the same inputs",
    )
}

/// Relative tolerance of an f32 GEMM with inner dimension `k` against f64: the rounding error of
/// a length-k dot product grows about like sqrt(k).
pub fn gemm_tolerance(k: usize) -> f64 {
    5e-4 * (k as f64 / 256.0).sqrt().max(1.0)
}

/// Registers the roofline probes and every CPU workload for `opts.profile`.
pub fn register(suite: &mut Suite, opts: &SuiteOptions) {
    let ctx = Ctx::from_options(opts);
    crate::probes::register(suite, &ctx);
    creation::register(suite, &ctx);
    binary::register(suite, &ctx);
    unary::register(suite, &ctx);
    reduce::register(suite, &ctx);
    reduce_axis::register(suite, &ctx);
    softmax::register(suite, &ctx);
    layer_norm::register(suite, &ctx);
    gemm::register(suite, &ctx);
    conv2d::register(suite, &ctx);
    precision::register(suite, &ctx);
    quant::register(suite, &ctx);
    fft::register(suite, &ctx);
    spmv::register(suite, &ctx);
    alloc::register(suite, &ctx);
    transformer::register(suite, &ctx);
    fusion::register(suite, &ctx);
    resnet::register(suite, &ctx);
    mlp::register(suite, &ctx);
}
