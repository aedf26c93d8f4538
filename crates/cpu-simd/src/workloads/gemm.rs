//! f32 GEMM `C[m×n] = A[m×k]·B[k×n]` (row-major): our blocked SIMD kernel single-threaded and
//! over rayon, the textbook scalar loop, and the `gemm` and `matrixmultiply` crates as peers.

use super::{Backend, Ctx, Profile, gemm_tolerance, spec};
use crate::kernels::simd::{GemmWorkspace, Kernels};
use crate::kernels::{par, peers, scalar};
use tensorbench_core::schema::Validation;
use tensorbench_core::suite::Suite;
use tensorbench_core::workload::{NamedTensor, validate_against};
use tensorbench_core::{Result, Workload, WorkloadSpec, data};
use tensorbench_ops::{op, param};

/// Above this many multiply-adds the f64 reference is checked on a random sample of outputs.
const FULL_REFERENCE_MACS: usize = 1 << 27;
/// Output entries checked against f64 dot products when sampling.
const SAMPLES: usize = 256;

/// `(m, n, k)`.
pub type Shape = (usize, usize, usize);

/// `(m, n, k, a, b, c)`: `c = a·b`, row-major.
pub type GemmFn = fn(usize, usize, usize, &[f32], &[f32], &mut [f32]);

/// How a backend runs the product.
pub enum GemmKernel {
    Scalar,
    /// Our blocked kernel on one thread, with its packing buffers.
    Simd(GemmWorkspace),
    /// Our blocked kernel on tiles of C over rayon.
    Rayon,
    /// The `gemm` crate on this many threads.
    GemmCrate(usize),
    Matrixmultiply,
    /// Any other kernel (tests plant wrong ones through this).
    Custom(GemmFn),
}

impl GemmKernel {
    pub fn for_backend(backend: Backend, ctx: &Ctx) -> Option<Self> {
        Some(match backend {
            Backend::Scalar => GemmKernel::Scalar,
            Backend::Simd => GemmKernel::Simd(GemmWorkspace::new()),
            Backend::Rayon => GemmKernel::Rayon,
            Backend::GemmCrate => GemmKernel::GemmCrate(ctx.threads),
            Backend::Matrixmultiply => GemmKernel::Matrixmultiply,
            Backend::Ndarray => return None,
        })
    }

    /// `c = a·b`.
    pub fn run(&mut self, (m, n, k): Shape, a: &[f32], b: &[f32], c: &mut [f32]) {
        match self {
            GemmKernel::Scalar => scalar::gemm(m, n, k, a, b, c),
            GemmKernel::Simd(ws) => Kernels::best().gemm(m, n, k, a, b, c, ws),
            GemmKernel::Rayon => par::gemm(m, n, k, a, b, c),
            GemmKernel::GemmCrate(t) => peers::gemm_crate(m, n, k, a, b, c, *t),
            GemmKernel::Matrixmultiply => peers::matrixmultiply(m, n, k, a, b, c),
            GemmKernel::Custom(f) => f(m, n, k, a, b, c),
        }
    }
}

pub struct Gemm {
    spec: WorkloadSpec,
    kernel: GemmKernel,
    shape: Shape,
    seed: u64,
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
}

impl Gemm {
    pub fn new(backend: Backend, kernel: GemmKernel, shape: Shape, ctx: &Ctx) -> Self {
        let (m, n, k) = shape;
        let elems = m * k + k * n + m * n;
        let spec = spec(op::GEMM, backend, ctx)
            .param(param::M, m)
            .param(param::N, n)
            .param(param::K, k)
            .cost(2.0 * (m * n * k) as f64, (elems * 4) as f64)
            .footprint((elems * 4) as u64);
        Self {
            spec,
            kernel,
            shape,
            seed: 0,
            a: vec![],
            b: vec![],
            c: vec![],
        }
    }
}

/// f64 dot product of row `i` of A and column `j` of B.
fn dot(a: &[f32], b: &[f32], (_, n, k): Shape, i: usize, j: usize) -> f64 {
    (0..k)
        .map(|p| f64::from(a[i * k + p]) * f64::from(b[p * n + j]))
        .sum()
}

/// Checks every output when that is cheap, else `SAMPLES` random entries (a real check: each is
/// a full f64 dot product).
pub fn validate_gemm(a: &[f32], b: &[f32], c: &[f32], shape: Shape, seed: u64) -> Validation {
    let (m, n, k) = shape;
    let tol = gemm_tolerance(k);
    if m * n * k <= FULL_REFERENCE_MACS {
        let reference = tensorbench_ops::reference::matmul(m, n, k, a, b);
        return validate_against(c, &reference, tol, "f64 reference from the same inputs");
    }
    let picks: Vec<usize> = data::uniform_f32_in(SAMPLES, seed ^ 0x5EED, 0.0, 1.0)
        .into_iter()
        .map(|u| ((u as f64 * (m * n) as f64) as usize).min(m * n - 1))
        .collect();
    let got: Vec<f32> = picks.iter().map(|&e| c[e]).collect();
    let reference: Vec<f64> = picks
        .iter()
        .map(|&e| dot(a, b, shape, e / n, e % n))
        .collect();
    validate_against(
        &got,
        &reference,
        tol,
        "f64 dot products at 256 random outputs",
    )
}

impl Workload for Gemm {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, seed: u64) -> Result<()> {
        let (m, n, k) = self.shape;
        self.seed = seed;
        self.a = data::uniform_f32(m * k, seed);
        self.b = data::uniform_f32(k * n, seed.wrapping_add(1));
        self.c = vec![f32::NAN; m * n];
        Ok(())
    }
    fn execute(&mut self) {
        self.kernel.run(self.shape, &self.a, &self.b, &mut self.c);
    }
    fn validate(&mut self) -> Result<Validation> {
        Ok(validate_gemm(
            &self.a, &self.b, &self.c, self.shape, self.seed,
        ))
    }
    fn tensors(&self) -> Vec<NamedTensor> {
        let (m, n, k) = self.shape;
        vec![
            NamedTensor::input("a", &[m, k], &self.a),
            NamedTensor::input("b", &[k, n], &self.b),
            NamedTensor::output("c", &[m, n], &self.c),
        ]
    }
}

/// Square sizes and skinny shapes from real models: a GPT-2/BERT-base MLP for one token
/// (1×768×3072), attention projections for 128 tokens (128×768×768), and a larger MLP block
/// (512×4096×1024).
pub fn shapes(ctx: &Ctx) -> Vec<Shape> {
    let square = |s: usize| (s, s, s);
    match ctx.profile {
        Profile::Quick => vec![square(256), (128, 768, 768)],
        Profile::Standard => vec![
            square(256),
            square(512),
            square(1024),
            square(2048),
            (1, 768, 3072),
            (128, 768, 768),
            (512, 4096, 1024),
        ],
        Profile::Full => vec![
            square(256),
            square(384),
            square(512),
            square(768),
            square(1024),
            square(1536),
            square(2048),
            (1, 768, 3072),
            (128, 768, 768),
            (512, 4096, 1024),
        ],
    }
}

/// The scalar loop is only run where it finishes in reasonable time.
const SCALAR_MAX_MACS: usize = 1 << 28;

pub fn register(suite: &mut Suite, ctx: &Ctx) {
    use Backend::*;
    for shape in shapes(ctx) {
        for backend in [Scalar, Simd, Rayon, GemmCrate, Matrixmultiply] {
            if backend == Scalar && shape.0 * shape.1 * shape.2 > SCALAR_MAX_MACS {
                continue;
            }
            if let Some(kernel) = GemmKernel::for_backend(backend, ctx) {
                suite.add(Gemm::new(backend, kernel, shape, ctx));
            }
        }
    }
}
