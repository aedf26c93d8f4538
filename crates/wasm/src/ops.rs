//! The ops this target measures, as [`Workload`]s shared by both sides: the wasm module runs
//! them with its `performance.now()` clock, the host runs the same ones natively for the
//! side-by-side ratios. Inputs come from core's seeded generator, so both sides (and the tests'
//! native reference) see identical data for a seed.

use serde::{Deserialize, Serialize};
use tensorbench_core::schema::Validation;
use tensorbench_core::workload::validate_against;
use tensorbench_core::{DType, Result, Workload, WorkloadSpec, data};
use tensorbench_cpu_simd::kernels::simd::{GemmWorkspace, Kernels};
use tensorbench_cpu_simd::kernels::{int8, scalar};
use tensorbench_ops::reference as r;
use tensorbench_ops::{Profile, op, param};

/// The suite name in every id.
pub const SUITE: &str = "wasm";
/// Row length of the softmax workloads.
pub const SOFTMAX_COLS: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Add,
    Mul,
    Relu,
    Sum,
    Dot,
    Softmax,
    Gemm,
    DotI8,
    GemmI8,
}

impl Op {
    pub const ALL: [Op; 9] = [
        Op::Add,
        Op::Mul,
        Op::Relu,
        Op::Sum,
        Op::Dot,
        Op::Softmax,
        Op::Gemm,
        Op::DotI8,
        Op::GemmI8,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::Add => op::ADD,
            Op::Mul => op::MUL,
            Op::Relu => op::RELU,
            Op::Sum => op::SUM,
            Op::Dot => op::DOT,
            Op::Softmax => op::SOFTMAX,
            Op::Gemm => op::GEMM,
            Op::DotI8 => "dot_i8",
            Op::GemmI8 => "gemm_i8",
        }
    }

    fn is_gemm(self) -> bool {
        matches!(self, Op::Gemm | Op::GemmI8)
    }

    fn is_int8(self) -> bool {
        matches!(self, Op::DotI8 | Op::GemmI8)
    }
}

/// One op at one size: `n` elements, or `n × n × n` for the GEMMs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Point {
    pub op: Op,
    pub n: usize,
}

/// What each profile measures: vectors of 2^10 (three f32 operands in 12 KiB: L1, so the
/// instructions are the limit), 2^12 and 2^16 (L2) and 2^20 elements (4 MiB per f32 operand, out
/// of L2), GEMMs of 64 and 128. `full` adds 2^22. Softmax rows are [`SOFTMAX_COLS`] long, so its
/// smallest point is one row.
pub fn catalog(profile: Profile) -> Vec<Point> {
    let mut lengths = vec![1 << 10, 1 << 12, 1 << 16, 1 << 20];
    if profile == Profile::Full {
        lengths.push(1 << 22);
    }
    let mut points = Vec::new();
    for op in Op::ALL {
        let sizes: &[usize] = if op.is_gemm() { &[64, 128] } else { &lengths };
        points.extend(sizes.iter().map(|&n| Point { op, n }));
    }
    points
}

/// The kernel family a workload calls.
#[derive(Debug, Clone, Copy)]
pub enum Flavor {
    /// `kernels::scalar` and `int8::*_scalar`: one element at a time.
    Scalar,
    /// `kernels::simd` at the widest instruction set of this build and CPU, and `int8::{dot,gemm}`.
    Simd(Kernels),
}

impl Flavor {
    /// The kernels' instruction set, for the measurement's `extra`.
    pub fn isa(self, op: Op) -> &'static str {
        match self {
            Flavor::Scalar => "scalar",
            Flavor::Simd(_) if op.is_int8() => int8::isa(),
            Flavor::Simd(k) => k.isa().name(),
        }
    }
}

/// The spec of `point` for `backend` (e.g. `native-simd`, `wasm-simd128`); `runtime` (node,
/// chromium, wasmtime) becomes a parameter so each runtime's measurement has its own id.
pub fn spec(point: Point, backend: &str, runtime: Option<&str>) -> WorkloadSpec {
    let Point { op, n } = point;
    let dtype = if op.is_int8() { DType::I8 } else { DType::F32 };
    let mut s = WorkloadSpec::new(SUITE, op.name(), backend, dtype);
    s = match op {
        Op::Gemm | Op::GemmI8 => s.param(param::M, n).param(param::N, n).param(param::K, n),
        Op::Softmax => s
            .param(param::ROWS, n / SOFTMAX_COLS)
            .param(param::COLS, SOFTMAX_COLS),
        _ => s.param(param::N, n),
    };
    if let Some(r) = runtime {
        s = s.param("runtime", r);
    }
    let nf = n as f64;
    let (flops, bytes, footprint) = match op {
        Op::Add | Op::Mul => (nf, 12.0 * nf, 12 * n),
        Op::Relu => (nf, 8.0 * nf, 8 * n),
        Op::Sum => (nf, 4.0 * nf, 4 * n),
        Op::Dot => (2.0 * nf, 8.0 * nf, 8 * n),
        Op::Softmax => (5.0 * nf, 8.0 * nf, 8 * n),
        Op::Gemm => (2.0 * nf * nf * nf, 12.0 * nf * nf, 12 * n * n),
        Op::DotI8 => (2.0 * nf, 2.0 * nf, 2 * n),
        Op::GemmI8 => (2.0 * nf * nf * nf, 6.0 * nf * nf, 6 * n * n),
    };
    s.cost(flops, bytes).footprint(footprint as u64)
}

/// One op at one size through one kernel family.
pub struct KernelWorkload {
    spec: WorkloadSpec,
    point: Point,
    flavor: Flavor,
    inputs: Inputs,
    out: Vec<f32>,
    out_i32: Vec<i32>,
    ws: GemmWorkspace,
}

/// The seeded inputs of a point.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub a: Vec<f32>,
    pub b: Vec<f32>,
    pub a_i8: Vec<i8>,
    pub b_i8: Vec<i8>,
}

impl Inputs {
    /// Sums and dots take inputs in [0, 1) so the result is well conditioned and the check is of
    /// the accumulation; int8 inputs cover the whole range but -128 (symmetric quantization).
    pub fn generate(point: Point, seed: u64) -> Self {
        let Point { op, n } = point;
        let len = if op.is_gemm() { n * n } else { n };
        let f = |s| match op {
            Op::Sum | Op::Dot => data::uniform_f32_in(len, s, 0.0, 1.0),
            _ => data::uniform_f32(len, s),
        };
        let q = |s| {
            data::uniform_f32_in(len, s, -127.0, 128.0)
                .into_iter()
                .map(|x| x.floor() as i8)
                .collect()
        };
        let two = !matches!(op, Op::Relu | Op::Sum | Op::Softmax);
        match op {
            Op::DotI8 | Op::GemmI8 => Self {
                a_i8: q(seed),
                b_i8: q(seed ^ 0x5EED),
                ..Self::default()
            },
            _ => Self {
                a: f(seed),
                b: if two { f(seed ^ 0x5EED) } else { Vec::new() },
                ..Self::default()
            },
        }
    }
}

impl KernelWorkload {
    pub fn new(point: Point, flavor: Flavor, backend: &str, runtime: Option<&str>) -> Self {
        Self {
            spec: spec(point, backend, runtime),
            point,
            flavor,
            inputs: Inputs::default(),
            out: Vec::new(),
            out_i32: Vec::new(),
            ws: GemmWorkspace::new(),
        }
    }

    /// The output of the last `execute`, widened to f64 (one value for sums and dots).
    pub fn output(&self) -> Vec<f64> {
        if self.point.op.is_int8() {
            self.out_i32.iter().map(|&x| f64::from(x)).collect()
        } else {
            self.out.iter().map(|&x| f64::from(x)).collect()
        }
    }
}

impl Workload for KernelWorkload {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }

    fn prepare(&mut self, seed: u64) -> Result<()> {
        let Point { op, n } = self.point;
        self.inputs = Inputs::generate(self.point, seed);
        let out_len = match op {
            Op::Sum | Op::Dot | Op::DotI8 => 1,
            Op::Gemm | Op::GemmI8 => n * n,
            _ => n,
        };
        if op.is_int8() {
            self.out_i32 = vec![0; out_len];
        } else {
            self.out = vec![0.0; out_len];
        }
        Ok(())
    }

    fn execute(&mut self) {
        let Inputs { a, b, a_i8, b_i8 } = &self.inputs;
        let n = self.point.n;
        match (self.flavor, self.point.op) {
            (Flavor::Scalar, Op::Add) => scalar::add(a, b, &mut self.out),
            (Flavor::Scalar, Op::Mul) => scalar::mul(a, b, &mut self.out),
            (Flavor::Scalar, Op::Relu) => scalar::relu(a, &mut self.out),
            (Flavor::Scalar, Op::Sum) => self.out[0] = scalar::sum(a),
            (Flavor::Scalar, Op::Dot) => self.out[0] = scalar::dot(a, b),
            (Flavor::Scalar, Op::Softmax) => scalar::softmax_rows(a, SOFTMAX_COLS, &mut self.out),
            (Flavor::Scalar, Op::Gemm) => scalar::gemm(n, n, n, a, b, &mut self.out),
            (Flavor::Scalar, Op::DotI8) => self.out_i32[0] = int8::dot_scalar(a_i8, b_i8),
            (Flavor::Scalar, Op::GemmI8) => {
                int8::gemm_scalar(n, n, n, a_i8, b_i8, &mut self.out_i32)
            }
            (Flavor::Simd(k), Op::Add) => k.add(a, b, &mut self.out),
            (Flavor::Simd(k), Op::Mul) => k.mul(a, b, &mut self.out),
            (Flavor::Simd(k), Op::Relu) => k.relu(a, &mut self.out),
            (Flavor::Simd(k), Op::Sum) => self.out[0] = k.sum(a),
            (Flavor::Simd(k), Op::Dot) => self.out[0] = k.dot(a, b),
            (Flavor::Simd(k), Op::Softmax) => k.softmax_rows(a, SOFTMAX_COLS, &mut self.out),
            (Flavor::Simd(k), Op::Gemm) => k.gemm(n, n, n, a, b, &mut self.out, &mut self.ws),
            (Flavor::Simd(_), Op::DotI8) => self.out_i32[0] = int8::dot(a_i8, b_i8),
            (Flavor::Simd(_), Op::GemmI8) => int8::gemm(n, n, n, a_i8, b_i8, &mut self.out_i32),
        }
    }

    fn validate(&mut self) -> Result<Validation> {
        let reference = reference(self.point, &self.inputs);
        let what = "f64 reference from the same inputs";
        Ok(validate_against(
            &self.output(),
            &reference,
            tolerance(self.point),
            what,
        ))
    }

    fn extra(&self) -> std::collections::BTreeMap<String, serde_json::Value> {
        let isa = self.flavor.isa(self.point.op);
        [("isa".to_string(), isa.into())].into()
    }
}

/// Relative tolerance against the f64 reference; int8 results are exact integers.
pub fn tolerance(point: Point) -> f64 {
    match point.op {
        Op::Add | Op::Mul | Op::Relu => 1e-6,
        Op::Sum | Op::Dot | Op::Softmax => 1e-5,
        Op::Gemm => 5e-4 * (point.n as f64 / 256.0).sqrt().max(1.0),
        Op::DotI8 | Op::GemmI8 => 0.0,
    }
}

/// The op computed in f64 (exact integers for int8) from the inputs.
pub fn reference(point: Point, x: &Inputs) -> Vec<f64> {
    let Point { op, n } = point;
    let (a, b, ai, bi) = (&x.a, &x.b, &x.a_i8, &x.b_i8);
    let zip = |f: fn(f64, f64) -> f64| -> Vec<f64> {
        a.iter()
            .zip(b)
            .map(|(&x, &y)| f(x.into(), y.into()))
            .collect()
    };
    match op {
        Op::Add => zip(|x, y| x + y),
        Op::Mul => zip(|x, y| x * y),
        Op::Relu => a.iter().map(|&x| r::relu(x.into())).collect(),
        Op::Sum => vec![r::sum_and_abs(a).0],
        Op::Dot => vec![r::dot(a, b)],
        Op::DotI8 => vec![r::dot(ai, bi)],
        Op::Softmax => r::softmax_rows(a, SOFTMAX_COLS),
        // B is k × n row-major for f32, n × k (transposed) for int8.
        Op::Gemm => r::matmul(n, n, n, a, b),
        Op::GemmI8 => (0..n * n)
            .map(|ij| r::dot(&ai[ij / n * n..][..n], &bi[ij % n * n..][..n]))
            .collect(),
    }
}

/// Runs `point` once through `flavor` on the inputs of `seed` and returns its output in f64:
/// what the tests compare against [`reference`] computed natively.
pub fn run_once(point: Point, flavor: Flavor, seed: u64) -> Result<Vec<f64>> {
    let mut w = KernelWorkload::new(point, flavor, "check", None);
    w.prepare(seed)?;
    w.execute();
    Ok(w.output())
}
