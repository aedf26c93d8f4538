//! Sparse `y = A·x` with A in CSR form across densities, beside the dense f32 GEMV at the same n
//! (`extra.dense_partner`, registered by `precision.rs`): where the crossover lies shows when
//! the medians are compared. FLOPs are `2·nnz` and bytes the CSR arrays plus x and y, from the
//! expected nnz (`n²·density`; the drawn one is `extra.nnz`).

use super::precision::gemv_id;
use super::{Backend, Ctx, Profile, gemm_tolerance, spec};
use crate::kernels::sparse::{self, Csr};
use std::collections::BTreeMap;
use tensorbench_core::schema::Validation;
use tensorbench_core::suite::Suite;
use tensorbench_core::workload::validate_against;
use tensorbench_core::{DType, Result, Workload, WorkloadSpec, data};

/// A random `n × n` matrix where each entry is nonzero with probability `density`.
pub fn random_csr(n: usize, density: f64, seed: u64) -> Csr {
    let mut dense = data::uniform_f32(n * n, seed);
    let keep = data::uniform_f32_in(n * n, seed.wrapping_add(7), 0.0, 1.0);
    for (v, &u) in dense.iter_mut().zip(&keep) {
        if f64::from(u) >= density {
            *v = 0.0;
        }
    }
    Csr::from_dense(n, n, &dense)
}

/// `y = A·x` for an `n × n` CSR matrix of the given density; `scalar` (one thread) or `rayon`.
pub struct Spmv {
    spec: WorkloadSpec,
    parallel: bool,
    n: usize,
    density: f64,
    partner: String,
    a: Option<Csr>,
    x: Vec<f32>,
    y: Vec<f32>,
}

impl Spmv {
    pub fn new(backend: Backend, n: usize, density: f64, ctx: &Ctx) -> Self {
        let expected_nnz = (n * n) as f64 * density;
        // Values and u32 indices of the nonzeros, row pointers, x and y.
        let bytes = expected_nnz * 8.0 + ((n + 1) * 8 + 2 * n * 4) as f64;
        let spec = spec("spmv", backend, ctx)
            .param("n", n)
            .param("density", density)
            .cost(2.0 * expected_nnz, bytes)
            .footprint((n * n * 8) as u64 + bytes as u64);
        // The dense partner on the same number of threads.
        let dense = if backend == Backend::Rayon {
            Backend::Rayon
        } else {
            Backend::Simd
        };
        Self {
            spec,
            parallel: backend == Backend::Rayon,
            n,
            density,
            partner: gemv_id(dense, DType::F32, n, n, ctx),
            a: None,
            x: vec![],
            y: vec![],
        }
    }
}

impl Workload for Spmv {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, seed: u64) -> Result<()> {
        let a = random_csr(self.n, self.density, seed);
        self.a = Some(a);
        self.x = data::uniform_f32(self.n, seed.wrapping_add(1));
        self.y = vec![f32::NAN; self.n];
        Ok(())
    }
    fn execute(&mut self) {
        if let Some(a) = &self.a {
            if self.parallel {
                sparse::par_spmv(a, &self.x, &mut self.y);
            } else {
                sparse::spmv(a, &self.x, &mut self.y);
            }
        }
    }
    fn validate(&mut self) -> Result<Validation> {
        let Some(a) = &self.a else {
            return Err(tensorbench_core::Error::workload(
                &self.spec.id,
                "not prepared",
            ));
        };
        let mut longest = 1;
        let reference: Vec<f64> = (0..a.rows)
            .map(|r| {
                let (idx, val) = a.row(r);
                longest = longest.max(idx.len());
                idx.iter()
                    .zip(val)
                    .map(|(&c, &v)| f64::from(v) * f64::from(self.x[c as usize]))
                    .sum()
            })
            .collect();
        Ok(validate_against(
            &self.y,
            &reference,
            gemm_tolerance(longest),
            "f64 reference from the same CSR matrix and x",
        ))
    }
    fn extra(&self) -> BTreeMap<String, serde_json::Value> {
        let mut e = BTreeMap::new();
        e.insert("dense_partner".into(), self.partner.clone().into());
        e.insert("density".into(), self.density.into());
        if let Some(a) = &self.a {
            e.insert("nnz".into(), a.nnz().into());
            e.insert("csr_bytes".into(), a.bytes().into());
        }
        e
    }
}

pub fn register(suite: &mut Suite, ctx: &Ctx) {
    let (n, densities, backends): (usize, &[f64], &[Backend]) = match ctx.profile {
        Profile::Quick => (1024, &[0.01], &[Backend::Scalar]),
        Profile::Standard | Profile::Full => (
            4096,
            &[0.001, 0.01, 0.1, 0.5],
            &[Backend::Scalar, Backend::Rayon],
        ),
    };
    for &backend in backends {
        for &d in densities {
            suite.add(Spmv::new(backend, n, d, ctx));
        }
    }
}
