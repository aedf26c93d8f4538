//! Roofline probes: what this machine can do, measured through the same sampler as everything
//! else. STREAM copy/scale/add/triad give the bandwidth ceilings, the FMA-chain kernel the
//! compute ceiling; a working-set sweep shows bandwidth from L1 to DRAM.

use crate::kernels::simd::Kernels;
use crate::kernels::{Reduction, par};
use crate::workloads::{Ctx, Profile};
use rayon::prelude::*;
use tensorbench_core::schema::Validation;
use tensorbench_core::suite::{Ceiling, Suite};
use tensorbench_core::{DType, Result, Workload, WorkloadSpec, machine};

/// The suite name of probe ids.
const SUITE: &str = "cpu-probe";
/// STREAM's scalar.
const STREAM_SCALAR: f32 = 3.0;

/// The four STREAM kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    /// `c = a`
    Copy,
    /// `b = s·c`
    Scale,
    /// `c = a + b`
    Add,
    /// `a = b + s·c`
    Triad,
}

impl StreamKind {
    pub const ALL: [StreamKind; 4] = [
        StreamKind::Copy,
        StreamKind::Scale,
        StreamKind::Add,
        StreamKind::Triad,
    ];

    pub fn name(self) -> &'static str {
        match self {
            StreamKind::Copy => "stream_copy",
            StreamKind::Scale => "stream_scale",
            StreamKind::Add => "stream_add",
            StreamKind::Triad => "stream_triad",
        }
    }

    /// The peak key this probe publishes.
    pub fn ceiling(self) -> Ceiling {
        Ceiling::Bandwidth(match self {
            StreamKind::Copy => "stream_copy_gbps",
            StreamKind::Scale => "stream_scale_gbps",
            StreamKind::Add => "stream_add_gbps",
            StreamKind::Triad => "stream_triad_gbps",
        })
    }

    /// Arrays touched per element (STREAM convention: copy/scale 2, add/triad 3).
    fn arrays(self) -> usize {
        match self {
            StreamKind::Copy | StreamKind::Scale => 2,
            StreamKind::Add | StreamKind::Triad => 3,
        }
    }
}

/// One STREAM kernel over rayon on arrays of `n` elements. The inputs are constant per array
/// (as in STREAM), which makes the check of every output element cheap and exact.
pub struct Stream {
    spec: WorkloadSpec,
    kind: StreamKind,
    n: usize,
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
    values: (f32, f32),
}

impl Stream {
    pub fn new(kind: StreamKind, n: usize, threads: usize) -> Self {
        let arrays = kind.arrays();
        let flops = match kind {
            StreamKind::Copy => 0.0,
            StreamKind::Scale | StreamKind::Add => n as f64,
            StreamKind::Triad => 2.0 * n as f64,
        };
        let spec = WorkloadSpec::new(SUITE, kind.name(), "rayon", DType::F32)
            .param("n", n)
            .cost(flops, (arrays * n * 4) as f64)
            .threads(threads)
            .footprint((arrays * n * 4) as u64);
        Self {
            spec,
            kind,
            n,
            a: vec![],
            b: vec![],
            c: vec![],
            values: (1.0, 2.0),
        }
    }

    /// The value every output element must hold, and the output.
    fn expected(&self) -> (f64, &[f32]) {
        let (x, y) = (f64::from(self.values.0), f64::from(self.values.1));
        let s = f64::from(STREAM_SCALAR);
        match self.kind {
            StreamKind::Copy => (x, &self.c),
            StreamKind::Scale => (s * x, &self.b),
            StreamKind::Add => (x + y, &self.c),
            StreamKind::Triad => (x + s * y, &self.a), // b = x, c = y
        }
    }
}

/// A buffer of `n` copies of `v`, first touched in parallel (pages land where they are used).
fn filled(n: usize, v: f32) -> Vec<f32> {
    let mut x = Vec::with_capacity(n);
    x.spare_capacity_mut()
        .par_chunks_mut(par::chunk_len(n))
        .for_each(|ch| {
            ch.iter_mut().for_each(|s| {
                s.write(v);
            })
        });
    // SAFETY: all n slots were initialised above.
    unsafe { x.set_len(n) };
    x
}

/// Largest relative deviation of `got` from the constant `expected`, in parallel.
fn max_rel_dev(got: &[f32], expected: f64) -> f64 {
    got.par_iter()
        .map(|&g| {
            let g = f64::from(g);
            if g.is_nan() {
                f64::INFINITY
            } else {
                (g - expected).abs() / expected.abs().max(1e-30)
            }
        })
        .reduce(|| 0.0, f64::max)
}

impl Workload for Stream {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, seed: u64) -> Result<()> {
        // Input values vary with the seed; outputs start as NaN so untouched elements fail.
        let x = 1.0 + (seed % 97) as f32 / 97.0;
        self.values = (x, 2.0 * x);
        let (n, k) = (self.n, self.kind);
        let (x, y) = self.values;
        self.a = filled(n, if k == StreamKind::Triad { f32::NAN } else { x });
        self.b = match k {
            StreamKind::Copy => vec![],
            StreamKind::Scale => filled(n, f32::NAN),
            StreamKind::Add => filled(n, y),
            StreamKind::Triad => filled(n, x),
        };
        self.c = match k {
            StreamKind::Copy | StreamKind::Add => filled(n, f32::NAN),
            StreamKind::Scale => filled(n, x),
            StreamKind::Triad => filled(n, y),
        };
        Ok(())
    }
    fn execute(&mut self) {
        match self.kind {
            StreamKind::Copy => par::copy(&self.a, &mut self.c),
            StreamKind::Scale => par::mul_scalar(&self.c, STREAM_SCALAR, &mut self.b),
            StreamKind::Add => par::add(&self.a, &self.b, &mut self.c),
            StreamKind::Triad => par::scale_add(&self.b, &self.c, STREAM_SCALAR, &mut self.a),
        }
    }
    fn validate(&mut self) -> Result<Validation> {
        let (expected, out) = self.expected();
        let err = max_rel_dev(out, expected);
        Ok(Validation {
            max_rel_err: err,
            tolerance: 1e-6,
            passed: err <= 1e-6,
            reference: "f64 value every element must hold".into(),
        })
    }
}

/// Reads a buffer of a given size with the SIMD sum on one core: the read bandwidth of whichever
/// level of the memory hierarchy the buffer fits in.
pub struct WorkingSet {
    spec: WorkloadSpec,
    n: usize,
    x: Vec<f32>,
    out: f32,
}

impl WorkingSet {
    pub fn new(bytes: usize) -> Self {
        let n = bytes / 4;
        let spec = WorkloadSpec::new(SUITE, "working_set", "simd", DType::F32)
            .param("bytes", bytes)
            .cost(n as f64, (n * 4) as f64)
            .footprint((n * 4) as u64);
        Self {
            spec,
            n,
            x: vec![],
            out: f32::NAN,
        }
    }
}

impl Workload for WorkingSet {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, seed: u64) -> Result<()> {
        self.x = filled(self.n, 1.0 + (seed % 89) as f32 / 89.0);
        Ok(())
    }
    fn execute(&mut self) {
        self.out = std::hint::black_box(Kernels::best().reduce(Reduction::Sum, &self.x));
    }
    fn validate(&mut self) -> Result<Validation> {
        let reference = f64::from(self.x.first().copied().unwrap_or(0.0)) * self.n as f64;
        Ok(crate::workloads::check(&[self.out], &[reference], 1e-5))
    }
}

/// Steps of the FMA chains per `execute` (about a millisecond on a current core).
const FMA_ITERS: usize = 100_000;
const FMA_A: f32 = 0.999_9;
const FMA_B: f32 = 1e-4;

/// Peak FMA throughput: independent FMA chains on every thread of the pool.
pub struct FmaPeak {
    spec: WorkloadSpec,
    out: f32,
}

impl FmaPeak {
    pub fn new(threads: usize) -> Self {
        let (chains, lanes) = Kernels::best().fma_chain_shape();
        let flops = 2.0 * (chains * lanes * FMA_ITERS * threads) as f64;
        let spec = WorkloadSpec::new(SUITE, "fma_peak", Kernels::best().isa().name(), DType::F32)
            .param("chains", chains)
            .param("lanes", lanes)
            .param("iters", FMA_ITERS)
            .cost(flops, 0.0)
            .threads(threads);
        Self {
            spec,
            out: f32::NAN,
        }
    }
}

impl Workload for FmaPeak {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, _seed: u64) -> Result<()> {
        Ok(())
    }
    fn execute(&mut self) {
        self.out = std::hint::black_box(par::fma_chain(FMA_ITERS, FMA_A, FMA_B));
    }
    /// The f64 recurrence each chain follows, times lanes and threads.
    fn validate(&mut self) -> Result<Validation> {
        let (chains, lanes) = Kernels::best().fma_chain_shape();
        let per_thread: f64 = (0..chains)
            .map(|i| {
                let mut x = i as f64;
                for _ in 0..FMA_ITERS {
                    x = x * f64::from(FMA_A) + f64::from(FMA_B);
                }
                x * lanes as f64
            })
            .sum();
        let reference = per_thread * rayon::current_num_threads() as f64;
        Ok(crate::workloads::check(&[self.out], &[reference], 1e-3))
    }
}

/// Rounds of the int8 chains per execute: a few milliseconds, like the FMA chain.
const INT8_ITERS: usize = 200_000;
const INT8_A: u8 = 3;
const INT8_B: i8 = -2;

/// The int8 compute ceiling (`compute_gflops_i8`, read as GOP/s): VNNI dot-product chains on
/// every thread. Registered only where the CPU has VNNI.
pub struct Int8Peak {
    spec: WorkloadSpec,
    out: Option<i64>,
}

impl Int8Peak {
    pub fn new(threads: usize) -> Self {
        use crate::kernels::int8_peak::{CHAINS, PRODUCTS_PER_OP};
        let ops = 2.0 * (CHAINS * PRODUCTS_PER_OP * INT8_ITERS * threads) as f64;
        let spec = WorkloadSpec::new(SUITE, "int8_peak", "avx512vnni", DType::I8)
            .param("chains", CHAINS)
            .param("iters", INT8_ITERS)
            .cost(ops, 0.0)
            .threads(threads);
        Self { spec, out: None }
    }
}

impl Workload for Int8Peak {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, _seed: u64) -> Result<()> {
        Ok(())
    }
    fn execute(&mut self) {
        self.out = std::hint::black_box(par::int8_dot_chains(INT8_ITERS, INT8_A, INT8_B));
    }
    /// Every lane's sum is known exactly: rounds × chains × 64 products × a × b per thread.
    fn validate(&mut self) -> Result<Validation> {
        use crate::kernels::int8_peak::{CHAINS, PRODUCTS_PER_OP};
        let per_thread =
            (INT8_ITERS * CHAINS * PRODUCTS_PER_OP) as i64 * i64::from(INT8_A) * i64::from(INT8_B);
        let want = per_thread * rayon::current_num_threads() as i64;
        let got = self.out.map_or(f64::NAN, |v| v as f64);
        Ok(tensorbench_core::workload::validate_against(
            &[got],
            &[want as f64],
            0.0,
            "exact i64 count of the products",
        ))
    }
}

/// STREAM array length: at least 4× the last-level cache (STREAM's rule), at least 64 MiB.
pub fn stream_len() -> usize {
    let llc = machine::last_level_cache_bytes(&machine::detect()) as usize;
    (4 * llc).max(64 << 20) / 4
}

/// Working-set sizes from L1 to DRAM.
fn working_sets(ctx: &Ctx, dram_bytes: usize) -> Vec<usize> {
    let caches = machine::detect().caches;
    match ctx.profile {
        Profile::Quick => {
            let l1 = caches.l1d.unwrap_or(32 << 10) as usize / 2;
            let l2 = caches.l2.unwrap_or(1 << 20) as usize / 2;
            vec![l1, l2, dram_bytes]
        }
        Profile::Standard | Profile::Full => {
            let mut sizes: Vec<usize> = (0..)
                .map(|i| (16 << 10) << (2 * i))
                .take_while(|&s| s < dram_bytes)
                .collect();
            sizes.push(dram_bytes);
            sizes
        }
    }
}

/// Registers the ceilings (STREAM ×4, FMA peak) as probes and the sweep as workloads.
pub fn register(suite: &mut Suite, ctx: &Ctx) {
    let n = stream_len();
    for kind in StreamKind::ALL {
        suite.add_probe(Stream::new(kind, n, ctx.threads), kind.ceiling());
    }
    suite.add_probe(FmaPeak::new(ctx.threads), Ceiling::Compute("fma_gflops"));
    if crate::kernels::int8_peak::is_available() {
        suite.add_probe(Int8Peak::new(ctx.threads), Ceiling::Compute("vnni_gops"));
    }
    for bytes in working_sets(ctx, n * 4) {
        suite.add(WorkingSet::new(bytes));
    }
}
