//! Complex f32 forward FFT through `rustfft` (which picks AVX/SSE/NEON code at run time): 1-D at
//! powers of two and not (3·2^k, a prime, 10^k), and 2-D as row FFTs, a transpose, column FFTs
//! and a transpose back (row-major in, row-major out).
//!
//! FLOPs are the conventional `5·N·log2(N)` for every N (the figure FFT benchmarks quote, not a
//! count of this algorithm's operations). Each `execute` copies the input into the work buffer
//! first (the transform is in place), so repeated runs transform the same data.
//!
//! Validation: relative L2 error against rustfft in f64 on the same input.

use super::{Ctx, Profile, SUITE};
use crate::kernels::transpose;
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;
use tensorbench_core::schema::Validation;
use tensorbench_core::suite::Suite;
use tensorbench_core::{DType, Result, Workload, WorkloadSpec, data};

/// f32 FFT error grows like sqrt(log n)·ε; 1e-5 leaves a wide margin and still rejects any wrong
/// transform (those are off by O(1)).
const TOLERANCE: f64 = 1e-5;

/// A planned forward transform, 1-D (`rows == 1`) or 2-D, with its buffers.
pub struct Plan<T: rustfft::FftNum> {
    rows: usize,
    cols: usize,
    along_rows: Arc<dyn Fft<T>>,
    along_cols: Arc<dyn Fft<T>>,
    scratch: Vec<Complex<T>>,
    tmp: Vec<Complex<T>>,
}

impl<T: rustfft::FftNum> Plan<T> {
    pub fn new(rows: usize, cols: usize) -> Self {
        let mut planner = FftPlanner::new();
        let along_rows = planner.plan_fft_forward(cols);
        let along_cols = planner.plan_fft_forward(rows);
        let scratch_len = along_rows
            .get_inplace_scratch_len()
            .max(along_cols.get_inplace_scratch_len());
        let zero = Complex::new(T::zero(), T::zero());
        Self {
            rows,
            cols,
            along_rows,
            along_cols,
            scratch: vec![zero; scratch_len],
            tmp: vec![zero; if rows > 1 { rows * cols } else { 0 }],
        }
    }

    /// Transforms `buf` (`rows × cols`, row-major) in place.
    pub fn forward(&mut self, buf: &mut [Complex<T>]) {
        assert_eq!(buf.len(), self.rows * self.cols, "fft buffer size");
        self.along_rows.process_with_scratch(buf, &mut self.scratch);
        if self.rows > 1 {
            transpose(self.rows, self.cols, buf, &mut self.tmp);
            self.along_cols
                .process_with_scratch(&mut self.tmp, &mut self.scratch);
            transpose(self.cols, self.rows, &self.tmp, buf);
        }
    }
}

/// `Σ_j x_j·e^{-2πi·jk/n}` in f64, O(n²): the textbook definition, for tests.
pub fn naive_dft(x: &[Complex<f64>]) -> Vec<Complex<f64>> {
    let n = x.len();
    (0..n)
        .map(|k| {
            x.iter()
                .enumerate()
                .map(|(j, &v)| {
                    let angle = -2.0 * std::f64::consts::PI * ((j * k) % n) as f64 / n as f64;
                    v * Complex::new(angle.cos(), angle.sin())
                })
                .sum()
        })
        .collect()
}

/// `||got − want|| / ||want||` over complex values.
pub fn rel_l2_err(got: &[Complex<f32>], want: &[Complex<f64>]) -> f64 {
    if got.len() != want.len() {
        return f64::INFINITY;
    }
    let (mut diff, mut norm) = (0.0, 0.0);
    for (g, w) in got.iter().zip(want) {
        let g = Complex::new(f64::from(g.re), f64::from(g.im));
        diff += (g - w).norm_sqr();
        norm += w.norm_sqr();
    }
    if diff.is_nan() {
        return f64::INFINITY;
    }
    if norm == 0.0 {
        diff.sqrt()
    } else {
        (diff / norm).sqrt()
    }
}

/// The forward FFT of `rows × cols` complex f32 values (`rows == 1`: 1-D).
pub struct FftWorkload {
    spec: WorkloadSpec,
    rows: usize,
    cols: usize,
    plan: Option<Plan<f32>>,
    input: Vec<Complex<f32>>,
    buf: Vec<Complex<f32>>,
}

impl FftWorkload {
    pub fn new(rows: usize, cols: usize) -> Self {
        let n = rows * cols;
        let spec = if rows == 1 {
            WorkloadSpec::new(SUITE, "fft", "rustfft", DType::F32).param("n", n)
        } else {
            WorkloadSpec::new(SUITE, "fft2d", "rustfft", DType::F32)
                .param("rows", rows)
                .param("cols", cols)
        };
        let flops = 5.0 * n as f64 * (n as f64).log2();
        // Complex f32: 8 bytes per value, read once and written once.
        let spec = spec
            .cost(flops, (n * 16) as f64)
            .footprint((n * 8 * 4) as u64);
        Self {
            spec,
            rows,
            cols,
            plan: None,
            input: vec![],
            buf: vec![],
        }
    }
}

impl Workload for FftWorkload {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, seed: u64) -> Result<()> {
        let n = self.rows * self.cols;
        let v = data::uniform_f32(2 * n, seed);
        self.input = v.chunks(2).map(|c| Complex::new(c[0], c[1])).collect();
        self.buf = self.input.clone();
        self.plan = Some(Plan::new(self.rows, self.cols));
        Ok(())
    }
    fn execute(&mut self) {
        if let Some(plan) = self.plan.as_mut() {
            self.buf.copy_from_slice(&self.input);
            plan.forward(&mut self.buf);
        }
    }
    fn validate(&mut self) -> Result<Validation> {
        let mut want: Vec<Complex<f64>> = self
            .input
            .iter()
            .map(|c| Complex::new(f64::from(c.re), f64::from(c.im)))
            .collect();
        Plan::<f64>::new(self.rows, self.cols).forward(&mut want);
        let err = rel_l2_err(&self.buf, &want);
        Ok(Validation {
            max_rel_err: err,
            tolerance: TOLERANCE,
            passed: err <= TOLERANCE,
            reference: "rustfft in f64 on the same input; relative L2 error".into(),
        })
    }
}

/// 1-D lengths: powers of two, then 3·2^k, a prime and 10^k.
fn lengths(ctx: &Ctx) -> Vec<usize> {
    match ctx.profile {
        Profile::Quick => vec![4096],
        Profile::Standard => vec![
            1 << 10,
            1 << 12,
            1 << 16,
            1 << 20,
            1000,
            3 << 12,
            4093,
            1_000_000,
        ],
        Profile::Full => vec![
            1 << 8,
            1 << 10,
            1 << 12,
            1 << 14,
            1 << 16,
            1 << 18,
            1 << 20,
            1 << 22,
            1000,
            3 << 12,
            4093,
            65_537,
            1_000_000,
        ],
    }
}

/// 2-D shapes `(rows, cols)`.
fn shapes_2d(ctx: &Ctx) -> Vec<(usize, usize)> {
    match ctx.profile {
        Profile::Quick => vec![],
        Profile::Standard => vec![(256, 256), (1024, 1024), (1000, 1000)],
        Profile::Full => vec![
            (256, 256),
            (1024, 1024),
            (2048, 2048),
            (1000, 1000),
            (768, 1024),
        ],
    }
}

pub fn register(suite: &mut Suite, ctx: &Ctx) {
    for n in lengths(ctx) {
        suite.add(FftWorkload::new(1, n));
    }
    for (r, c) in shapes_2d(ctx) {
        suite.add(FftWorkload::new(r, c));
    }
}
