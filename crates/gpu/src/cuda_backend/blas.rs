//! cuBLAS GEMM: SGEMM in f32, and GemmEx in f16 and bf16 with f32 accumulation (tensor cores).
//! Row-major C = A·B is computed as column-major Cᵀ = Bᵀ·Aᵀ, so nothing is transposed.

use super::clock::EventClock;
use super::device::CudaGpu;
use crate::problem::{Kernel, Problem, Shape};
use crate::reference::{summation_tolerance, validate_gemm};
use cudarc::cublas::sys::cublasOperation_t;
use cudarc::cublas::{CudaBlas, Gemm, GemmConfig};
use cudarc::driver::{CudaSlice, DeviceRepr, ValidAsZeroBits};
use half::{bf16, f16};
use std::collections::BTreeMap;
use std::sync::Arc;
use tensorbench_core::schema::Validation;
use tensorbench_core::workload::CacheFlusher;
use tensorbench_core::{Clock, DType, Error, Result, Workload, WorkloadSpec};

/// An element type cuBLAS multiplies, converted from and to f32 on the host.
pub trait BlasElement: DeviceRepr + ValidAsZeroBits + Copy + Default + Unpin {
    fn from_f32(x: f32) -> Self;
    fn to_f32(self) -> f32;
    const ONE: Self;
    const ZERO: Self;
    /// Unit roundoff of the output type (its rounding error relative to |C|).
    const UNIT_ROUNDOFF: f64;
}

impl BlasElement for f32 {
    fn from_f32(x: f32) -> Self {
        x
    }
    fn to_f32(self) -> f32 {
        self
    }
    const ONE: Self = 1.0;
    const ZERO: Self = 0.0;
    const UNIT_ROUNDOFF: f64 = 0.0;
}

impl BlasElement for f16 {
    fn from_f32(x: f32) -> Self {
        f16::from_f32(x)
    }
    fn to_f32(self) -> f32 {
        f16::to_f32(self)
    }
    const ONE: Self = f16::ONE;
    const ZERO: Self = f16::ZERO;
    const UNIT_ROUNDOFF: f64 = 1.0 / 2048.0;
}

impl BlasElement for bf16 {
    fn from_f32(x: f32) -> Self {
        bf16::from_f32(x)
    }
    fn to_f32(self) -> f32 {
        bf16::to_f32(self)
    }
    const ONE: Self = bf16::ONE;
    const ZERO: Self = bf16::ZERO;
    const UNIT_ROUNDOFF: f64 = 1.0 / 256.0;
}

struct Operands<T> {
    a: CudaSlice<T>,
    b: CudaSlice<T>,
    c: CudaSlice<T>,
}

/// A cuBLAS GEMM of element type `T` on one shape.
pub struct BlasGemm<T: BlasElement> {
    spec: WorkloadSpec,
    gpu: Arc<CudaGpu>,
    dims: (usize, usize, usize),
    state: Option<(Problem, CudaBlas, Operands<T>)>,
    failure: Option<Error>,
}

/// The workload for `dtype` (f32, f16 or bf16).
pub fn workload(
    spec: WorkloadSpec,
    gpu: Arc<CudaGpu>,
    dtype: DType,
    shape: Shape,
) -> Option<Box<dyn Workload>> {
    let Shape::Gemm { m, n, k } = shape else {
        return None;
    };
    let dims = (m, n, k);
    Some(match dtype {
        DType::F32 => Box::new(BlasGemm::<f32>::new(spec, gpu, dims)),
        DType::F16 => Box::new(BlasGemm::<f16>::new(spec, gpu, dims)),
        DType::Bf16 => Box::new(BlasGemm::<bf16>::new(spec, gpu, dims)),
        _ => return None,
    })
}

impl<T: BlasElement> BlasGemm<T> {
    pub fn new(spec: WorkloadSpec, gpu: Arc<CudaGpu>, dims: (usize, usize, usize)) -> Self {
        Self {
            spec,
            gpu,
            dims,
            state: None,
            failure: None,
        }
    }

    fn config(&self) -> GemmConfig<T> {
        let (m, n, k) = self.dims;
        let (m, n, k) = (m as i32, n as i32, k as i32);
        GemmConfig {
            transa: cublasOperation_t::CUBLAS_OP_N,
            transb: cublasOperation_t::CUBLAS_OP_N,
            m: n,
            n: m,
            k,
            alpha: T::ONE,
            lda: n,
            ldb: k,
            beta: T::ZERO,
            ldc: n,
        }
    }
}

impl<T: BlasElement> Workload for BlasGemm<T>
where
    CudaBlas: Gemm<T>,
{
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }

    fn prepare(&mut self, seed: u64) -> Result<()> {
        self.state = None;
        let (m, n, k) = self.dims;
        let mut problem = Problem::generate(Kernel::Gemm, Shape::Gemm { m, n, k }, seed);
        let s = &self.gpu.stream;
        let e = |err: cudarc::driver::DriverError| self.gpu.error(err);
        let upload = |x: &mut Vec<f32>| {
            let typed: Vec<T> = x.iter().map(|&v| T::from_f32(v)).collect();
            // The reference multiplies exactly what the GPU gets.
            x.iter_mut().zip(&typed).for_each(|(v, t)| *v = t.to_f32());
            s.clone_htod(&typed).map_err(e)
        };
        let a = upload(&mut problem.inputs[0])?;
        let b = upload(&mut problem.inputs[1])?;
        let c = s.alloc_zeros::<T>(m * n).map_err(e)?;
        let blas = CudaBlas::new(s.clone()).map_err(|err| self.gpu.error(err))?;
        self.state = Some((problem, blas, Operands { a, b, c }));
        self.gpu.sync()
    }

    fn execute(&mut self) {
        let cfg = self.config();
        let Some((_, blas, ops)) = self.state.as_mut() else {
            return;
        };
        // SAFETY: the config's sizes and leading dimensions match the buffers' row-major shapes.
        let r = unsafe { blas.gemm(cfg, &ops.b, &ops.a, &mut ops.c) };
        if let Err(err) = r {
            let err = self.gpu.error(err);
            self.failure.get_or_insert(err);
        }
    }

    fn sync(&mut self) -> Result<()> {
        self.failure.take().map_or(Ok(()), Err)?;
        self.gpu.sync()
    }

    fn validate(&mut self) -> Result<Validation> {
        let (problem, _, ops) = self
            .state
            .as_ref()
            .ok_or_else(|| Error::workload(&self.spec.id, "used before prepare()"))?;
        let c = self
            .gpu
            .stream
            .clone_dtoh(&ops.c)
            .map_err(|e| self.gpu.error(e))?;
        let got: Vec<f32> = c.into_iter().map(T::to_f32).collect();
        let k = self.dims.2;
        // Accumulation in f32 in any order (tensor cores included), then rounding to T.
        let tolerance = 2.0 * summation_tolerance(k) + T::UNIT_ROUNDOFF;
        Ok(validate_gemm(
            &got,
            &problem.inputs[0],
            &problem.inputs[1],
            self.dims,
            tolerance,
        ))
    }

    fn clock(&self) -> Result<Box<dyn Clock>> {
        Ok(Box::new(EventClock::new(self.gpu.clone())?))
    }

    fn flush_caches(&mut self, _host: &mut CacheFlusher) {
        if let Err(e) = self.gpu.flush_l2() {
            self.failure.get_or_insert(e);
        }
    }

    fn extra(&self) -> BTreeMap<String, serde_json::Value> {
        let mut m = self.gpu.measurement_extra();
        m.insert("accumulate".into(), "f32".into());
        m
    }
}
