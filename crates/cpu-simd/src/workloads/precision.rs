//! f16 and bf16 storage with f32 arithmetic: GEMM (compute-bound) and GEMV (memory-bound, the
//! case where half the bytes pays), next to an f32 GEMV from the same kernel for comparison.
//!
//! Each workload validates against an f64 reference computed from the *rounded* inputs (the
//! kernel's own error), and reports the accuracy cost of the storage type separately, in
//! `extra.rel_err_vs_f32`: the relative error of its result against the f32 kernel's result on
//! the original, unrounded inputs. The speed partner's id is in `extra.f32_partner`; speed-ups
//! are computed from the two measured medians, never inside a workload.

use super::gemm::{Shape, validate_gemm};
use super::{Backend, Ctx, Profile, SUITE, gemm_tolerance};
use crate::kernels::half_prec::{self, GemvStorage, HalfGemmWorkspace, narrow, widen_vec};
use crate::kernels::simd::{GemmWorkspace, Kernels};
use half::{bf16, f16};
use std::collections::BTreeMap;
use tensorbench_core::schema::Validation;
use tensorbench_core::suite::Suite;
use tensorbench_core::workload::validate_against;
use tensorbench_core::{DType, Result, Workload, WorkloadSpec, data};

/// How `extra.rel_err_vs_f32` is defined, recorded beside it.
pub const REL_ERR_DEFINITION: &str =
    "Frobenius norm: ||result - f32 result on the original inputs|| / ||f32 result||";

/// The spec of `op` on `backend` with element type `dtype`.
pub fn spec_of(op: &str, backend: Backend, dtype: DType, ctx: &Ctx) -> WorkloadSpec {
    WorkloadSpec::new(SUITE, op, backend.name(), dtype).threads(backend.threads(ctx))
}

/// The id of the f32 GEMM measurement at the same shape and backend.
pub fn f32_gemm_id(backend: Backend, (m, n, k): Shape, ctx: &Ctx) -> String {
    super::spec("gemm", backend, ctx)
        .param("m", m)
        .param("n", n)
        .param("k", k)
        .id
}

/// `||got - want|| / ||want||` in f64 (Frobenius / Euclidean norms).
pub fn frobenius_rel_err(got: &[f32], want: &[f32]) -> f64 {
    assert_eq!(got.len(), want.len(), "relative error of different lengths");
    let (mut diff, mut norm) = (0.0f64, 0.0f64);
    for (&g, &w) in got.iter().zip(want) {
        let (g, w) = (f64::from(g), f64::from(w));
        diff += (g - w) * (g - w);
        norm += w * w;
    }
    if norm == 0.0 {
        if diff == 0.0 { 0.0 } else { f64::INFINITY }
    } else {
        (diff / norm).sqrt()
    }
}

/// A storage type these workloads measure.
pub trait Precision: GemvStorage {
    const DTYPE: DType;
}
impl Precision for f32 {
    const DTYPE: DType = DType::F32;
}
impl Precision for f16 {
    const DTYPE: DType = DType::F16;
}
impl Precision for bf16 {
    const DTYPE: DType = DType::Bf16;
}

fn accuracy_extra(partner: &str, rel_err: Option<f64>) -> BTreeMap<String, serde_json::Value> {
    let mut e = BTreeMap::new();
    e.insert("f32_partner".into(), partner.into());
    if let Some(r) = rel_err {
        e.insert("rel_err_vs_f32".into(), r.into());
        e.insert("rel_err_definition".into(), REL_ERR_DEFINITION.into());
    }
    e
}

/// `C = A·B` with A and B stored in `T`, f32 arithmetic; `simd` (one thread) or `rayon`.
pub struct HalfGemm<T: Precision> {
    spec: WorkloadSpec,
    parallel: bool,
    shape: Shape,
    partner: String,
    seed: u64,
    a: Vec<T>,
    b: Vec<T>,
    c: Vec<f32>,
    /// The f32 GEMM on the unrounded inputs, kept from `prepare` until `validate`.
    c_f32: Vec<f32>,
    ws: HalfGemmWorkspace,
    b_wide: Vec<f32>,
    rel_err: Option<f64>,
}

impl<T: Precision> HalfGemm<T> {
    /// `backend` is `Simd` or `Rayon`.
    pub fn new(backend: Backend, shape: Shape, ctx: &Ctx) -> Self {
        let (m, n, k) = shape;
        let elems = m * k + k * n;
        let bytes = elems * T::DTYPE.size_bytes() + m * n * 4;
        let spec = spec_of("gemm", backend, T::DTYPE, ctx)
            .param("m", m)
            .param("n", n)
            .param("k", k)
            .cost(2.0 * (m * n * k) as f64, bytes as f64)
            .footprint((elems * 6 + m * n * 8) as u64);
        Self {
            spec,
            parallel: backend == Backend::Rayon,
            shape,
            partner: f32_gemm_id(backend, shape, ctx),
            seed: 0,
            a: vec![],
            b: vec![],
            c: vec![],
            c_f32: vec![],
            ws: HalfGemmWorkspace::new(),
            b_wide: vec![],
            rel_err: None,
        }
    }
}

impl<T: Precision> Workload for HalfGemm<T> {
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
        self.a = narrow(&a);
        self.b = narrow(&b);
        self.c = vec![f32::NAN; m * n];
        self.rel_err = None;
        Ok(())
    }
    fn execute(&mut self) {
        let (m, n, k) = self.shape;
        if self.parallel {
            half_prec::par_gemm(m, n, k, &self.a, &self.b, &mut self.c, &mut self.b_wide);
        } else {
            half_prec::gemm(m, n, k, &self.a, &self.b, &mut self.c, &mut self.ws);
        }
    }
    fn validate(&mut self) -> Result<Validation> {
        let (a, b) = (widen_vec(&self.a), widen_vec(&self.b));
        let mut v = validate_gemm(&a, &b, &self.c, self.shape, self.seed);
        v.reference = format!(
            "{} (inputs as rounded to {}; the rounding cost is extra.rel_err_vs_f32)",
            v.reference,
            T::DTYPE.name()
        );
        self.rel_err = Some(frobenius_rel_err(&self.c, &self.c_f32));
        self.c_f32 = vec![];
        Ok(v)
    }
    fn extra(&self) -> BTreeMap<String, serde_json::Value> {
        accuracy_extra(&self.partner, self.rel_err)
    }
}

/// `y = A·x` with A (`m × k`, the weights) stored in `T` and x in f32.
pub struct Gemv<T: Precision> {
    spec: WorkloadSpec,
    parallel: bool,
    m: usize,
    k: usize,
    partner: Option<String>,
    a: Vec<T>,
    x: Vec<f32>,
    y: Vec<f32>,
    y_f32: Vec<f32>,
    rel_err: Option<f64>,
}

impl<T: Precision> Gemv<T> {
    /// `backend` is `Simd` or `Rayon`.
    pub fn new(backend: Backend, m: usize, k: usize, ctx: &Ctx) -> Self {
        let bytes = m * k * T::DTYPE.size_bytes() + (k + m) * 4;
        let spec = spec_of("gemv", backend, T::DTYPE, ctx)
            .param("m", m)
            .param("k", k)
            .cost(2.0 * (m * k) as f64, bytes as f64)
            .footprint((m * k * (4 + T::DTYPE.size_bytes()) + (k + 2 * m) * 4) as u64);
        let partner = (T::DTYPE != DType::F32).then(|| gemv_id(backend, DType::F32, m, k, ctx));
        Self {
            spec,
            parallel: backend == Backend::Rayon,
            m,
            k,
            partner,
            a: vec![],
            x: vec![],
            y: vec![],
            y_f32: vec![],
            rel_err: None,
        }
    }
}

/// The id of the GEMV measurement with `dtype` storage.
pub fn gemv_id(backend: Backend, dtype: DType, m: usize, k: usize, ctx: &Ctx) -> String {
    spec_of("gemv", backend, dtype, ctx)
        .param("m", m)
        .param("k", k)
        .id
}

fn run_gemv<T: GemvStorage>(parallel: bool, a: &[T], x: &[f32], y: &mut [f32]) {
    if parallel {
        half_prec::par_gemv(a, x, y)
    } else {
        half_prec::gemv(a, x, y)
    }
}

impl<T: Precision> Workload for Gemv<T> {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, seed: u64) -> Result<()> {
        let a = data::uniform_f32(self.m * self.k, seed);
        self.x = data::uniform_f32(self.k, seed.wrapping_add(1));
        if self.partner.is_some() {
            self.y_f32 = vec![0.0; self.m];
            half_prec::gemv(&a, &self.x, &mut self.y_f32);
        }
        self.a = narrow(&a);
        self.y = vec![f32::NAN; self.m];
        self.rel_err = None;
        Ok(())
    }
    fn execute(&mut self) {
        run_gemv(self.parallel, &self.a, &self.x, &mut self.y);
    }
    fn validate(&mut self) -> Result<Validation> {
        let reference: Vec<f64> = self
            .a
            .chunks(self.k.max(1))
            .map(|row| {
                row.iter()
                    .zip(&self.x)
                    .map(|(&a, &x)| f64::from(a.to_f32()) * f64::from(x))
                    .sum()
            })
            .collect();
        if self.partner.is_some() {
            self.rel_err = Some(frobenius_rel_err(&self.y, &self.y_f32));
        }
        Ok(validate_against(
            &self.y,
            &reference,
            gemm_tolerance(self.k),
            &format!(
                "f64 reference from the same inputs (A as rounded to {})",
                T::DTYPE.name()
            ),
        ))
    }
    fn extra(&self) -> BTreeMap<String, serde_json::Value> {
        match &self.partner {
            Some(p) => accuracy_extra(p, self.rel_err),
            None => BTreeMap::new(),
        }
    }
}

/// GEMM shapes: all have an f32 partner in `gemm.rs`'s list for the same profile.
fn gemm_shapes(ctx: &Ctx) -> Vec<Shape> {
    match ctx.profile {
        Profile::Quick => vec![(256, 256, 256)],
        Profile::Standard | Profile::Full => {
            vec![(512, 512, 512), (1024, 1024, 1024), (128, 768, 768)]
        }
    }
}

/// GEMV sizes `(m, k)`: cache-resident and DRAM-resident weights.
pub fn gemv_shapes(ctx: &Ctx) -> Vec<(usize, usize)> {
    match ctx.profile {
        Profile::Quick => vec![(1024, 1024)],
        Profile::Standard | Profile::Full => vec![(1024, 1024), (4096, 4096)],
    }
}

fn backends(ctx: &Ctx) -> &'static [Backend] {
    match ctx.profile {
        Profile::Quick => &[Backend::Simd],
        _ => &[Backend::Simd, Backend::Rayon],
    }
}

pub fn register(suite: &mut Suite, ctx: &Ctx) {
    for &backend in backends(ctx) {
        for shape in gemm_shapes(ctx) {
            suite.add(HalfGemm::<f16>::new(backend, shape, ctx));
            suite.add(HalfGemm::<bf16>::new(backend, shape, ctx));
        }
        for (m, k) in gemv_shapes(ctx) {
            suite.add(Gemv::<f32>::new(backend, m, k, ctx));
            suite.add(Gemv::<f16>::new(backend, m, k, ctx));
            suite.add(Gemv::<bf16>::new(backend, m, k, ctx));
        }
    }
}
