//! Roofline probes: what this machine can do, measured through the same sampler as everything
//! else, and published as ceilings (see docs/METHODOLOGY.md, "Ceilings").
//!
//! - A working-set sweep (a read-only pass and STREAM's add, on 1 thread and on the run's thread
//!   count) gives the L1, L2 and L3 bandwidths; a finer read sweep past L2 finds the knee, the
//!   size from which bandwidth stops falling (where DRAM begins).
//! - STREAM copy/scale/add/triad with ordinary stores, on arrays 4× the knee (capped by free memory
//!   and by the probe time), give the DRAM ceiling; a non-temporal copy is a separate, labelled
//!   probe that is never a ceiling.
//! - FMA chains (f32), VNNI dot products (int8) and AVX512-BF16 dot products (bf16), on 1 thread
//!   and on all, give the compute ceilings per type.

use crate::kernels::amx_peak::{TileOp, tile_chains};
use crate::kernels::simd::Kernels;
use crate::kernels::{Reduction, par};
use crate::workloads::{Ctx, Profile};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};
use tensorbench_core::roofline::{BANDWIDTH_KEY, Level, bandwidth_key, best_rates, capacity_key};
use tensorbench_core::schema::{Measurement, Validation};
use tensorbench_core::suite::{Ceiling, Suite};
use tensorbench_core::{DType, Result, Workload, WorkloadSpec, machine};

/// The suite name of probe ids.
const SUITE: &str = "cpu-probe";
/// STREAM's scalar.
const STREAM_SCALAR: f32 = 3.0;

// ---------------------------------------------------------------------------------------------
// Sizing from the measured knee

/// A fall of bandwidth smaller than this (relative) counts as flat: noise on a shared machine.
pub const KNEE_TOLERANCE: f64 = 0.1;
/// STREAM's rule: each array at least this many times the cache it must not fit in.
pub const KNEE_FACTOR: usize = 4;
/// Samples a probe must fit in its time cap (20 wanted for its best to settle, margin for
/// warm-up).
const SAMPLES_IN_CAP: f64 = 25.0;

/// The knee of a sweep of `(bytes, GB/s)`: the smallest size from which no larger size is slower
/// by more than [`KNEE_TOLERANCE`]. The flag says whether a plateau was seen (false when only the
/// largest size qualifies: the sweep may have stopped short of DRAM).
pub fn knee(points: &[(usize, f64)]) -> Option<(usize, bool)> {
    let mut p = points.to_vec();
    p.sort_by_key(|x| x.0);
    let last = p.len().checked_sub(1)?;
    (0..=last)
        .find(|&i| {
            p[i + 1..]
                .iter()
                .all(|&(_, b)| p[i].1 <= (1.0 + KNEE_TOLERANCE) * b)
        })
        .map(|i| (p[i].0, i < last))
}

/// Points a plateau needs past the knee before the sweep may stop early: one flat point can be a
/// noise dip on a shared machine.
const PLATEAU_POINTS: usize = 2;

/// The knee of a sweep that need not go on: the bandwidth has fallen from the sweep's best by more
/// than [`KNEE_TOLERANCE`] (past the caches) and stayed flat for [`PLATEAU_POINTS`] larger sizes.
/// Larger sizes would only measure DRAM again.
pub fn plateau(points: &[(usize, f64)]) -> Option<usize> {
    let (k, _) = knee(points)?;
    let at_knee = points.iter().find(|p| p.0 == k)?.1;
    // Flat both ways: a larger size that is faster than the knee means the sweep is noise here.
    let flat = |b: f64| (b - at_knee).abs() <= KNEE_TOLERANCE * at_knee;
    let past: Vec<f64> = points.iter().filter(|p| p.0 > k).map(|p| p.1).collect();
    let top = points.iter().map(|p| p.1).fold(0.0, f64::max);
    (past.len() >= PLATEAU_POINTS
        && past.iter().all(|&b| flat(b))
        && at_knee < (1.0 - KNEE_TOLERANCE) * top)
        .then_some(k)
}

/// What decided a DRAM probe's array size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizedBy {
    /// [`KNEE_FACTOR`] × the measured knee.
    Knee,
    /// Fewer bytes, so that the probe gets its samples within the sampler's time cap.
    Time,
    /// Fewer bytes, to stay within a third of the free memory.
    Memory,
    /// No knee was measured (sweep skipped or resumed past): the reported last-level cache.
    Fallback,
}

impl SizedBy {
    pub fn name(self) -> &'static str {
        match self {
            SizedBy::Knee => "knee",
            SizedBy::Time => "time",
            SizedBy::Memory => "memory",
            SizedBy::Fallback => "fallback",
        }
    }
}

/// What bounds a DRAM probe's size besides the knee.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub free_bytes: u64,
    /// A measured rate at this thread count (GB/s), for the time cap; none: no time cap.
    pub gbps: Option<f64>,
    /// Seconds one iteration may take.
    pub seconds_per_iter: f64,
}

/// Elements per array of a probe touching `arrays` arrays: [`KNEE_FACTOR`] × `knee_bytes` each,
/// rounded down to a power of two (so ids stay stable when the knee wobbles within a sweep step),
/// lowered to fit the probe time but never so far that all arrays together hold less than twice
/// the knee (the probe would measure L3, not DRAM), then lowered to fit free memory; at least
/// 1 Mi elements.
pub fn array_len(knee_bytes: usize, arrays: usize, limits: &Limits) -> (usize, SizedBy) {
    let pow2_below = |bytes: f64| {
        let n = ((bytes / 4.0).max(1.0) as usize).next_power_of_two();
        if (n as f64) * 4.0 > bytes { n / 2 } else { n }
    };
    let floor = knee_bytes
        .max(2 * knee_bytes / arrays)
        .div_ceil(4)
        .next_power_of_two();
    let memory = pow2_below(limits.free_bytes as f64 / 3.0 / arrays as f64);
    let time = limits.gbps.map_or(usize::MAX, |g| {
        pow2_below(g * 1e9 * limits.seconds_per_iter / arrays as f64)
    });
    let want = pow2_below((KNEE_FACTOR * knee_bytes) as f64);
    let (n, by) = if time < want {
        (time.max(floor), SizedBy::Time)
    } else {
        (want, SizedBy::Knee)
    };
    let (n, by) = if memory < n {
        (memory, SizedBy::Memory)
    } else {
        (n, by)
    };
    (n.max(1 << 20), by)
}

/// The knee sweep's results, shared by its probes (which fill it) and the DRAM probes (which are
/// sized from it when their turn comes, after the sweep has run).
#[derive(Debug)]
pub struct Sizing {
    points: Mutex<Vec<(usize, f64)>>,
    expected: usize,
    knee: OnceLock<(usize, bool)>,
    threads: usize,
    seconds_per_iter: f64,
    fallback_bytes: usize,
}

impl Sizing {
    /// For a sweep of `expected` points at `threads` threads, probes of at most `seconds_per_iter`
    /// per iteration, and `fallback_bytes` as the knee when none was measured.
    pub fn new(
        expected: usize,
        threads: usize,
        seconds_per_iter: f64,
        fallback_bytes: usize,
    ) -> Self {
        Self {
            points: Mutex::new(Vec::new()),
            expected,
            knee: OnceLock::new(),
            threads,
            seconds_per_iter,
            fallback_bytes,
        }
    }

    /// Adds a sweep point; once all are in, or a [`plateau`] shows, fixes and returns the knee.
    pub fn record(&self, bytes: usize, gbps: f64) -> Option<(usize, bool)> {
        let mut p = self.points.lock().unwrap_or_else(|e| e.into_inner());
        p.push((bytes, gbps));
        let k = if let Some(k) = plateau(&p) {
            (k, true)
        } else if p.len() >= self.expected {
            knee(&p)?
        } else {
            return None;
        };
        Some(*self.knee.get_or_init(|| k))
    }

    /// Why a sweep point of `bytes` is not measured: the knee was fixed at a plateau before its
    /// turn.
    fn past_plateau(&self, bytes: usize) -> Option<String> {
        let (k, _) = self.knee()?;
        let measured = self.points.lock().unwrap_or_else(|e| e.into_inner());
        (bytes > k && !measured.iter().any(|p| p.0 == bytes)).then(|| {
            format!(
                "the knee sweep reached its plateau at {} MiB (the knee) before this size; larger \
                 sizes only measure DRAM again",
                k >> 20
            )
        })
    }

    /// The knee, if the sweep finished.
    pub fn knee(&self) -> Option<(usize, bool)> {
        self.knee.get().copied()
    }

    /// Elements per array for a DRAM probe of `arrays` arrays on `threads` threads.
    pub fn len(&self, arrays: usize, threads: usize) -> (usize, SizedBy) {
        let free = machine::available_memory_bytes().unwrap_or(4 << 30);
        let Some((knee, _)) = self.knee() else {
            let limits = Limits {
                free_bytes: free,
                gbps: None,
                seconds_per_iter: 0.0,
            };
            return (
                array_len(self.fallback_bytes, arrays, &limits).0,
                SizedBy::Fallback,
            );
        };
        // The sweep's largest point is DRAM at the sweep's thread count; with fewer threads the
        // rate is at least the per-thread share of it.
        let top = self.points.lock().unwrap_or_else(|e| e.into_inner());
        let rate = top.iter().max_by_key(|p| p.0).map(|p| p.1);
        let rate = rate.map(|r| r * threads.min(self.threads) as f64 / self.threads as f64);
        let limits = Limits {
            free_bytes: free,
            gbps: rate,
            seconds_per_iter: self.seconds_per_iter,
        };
        array_len(knee, arrays, &limits)
    }

    /// Elements per array for a probe of `arrays` arrays whose footprint is the smallest power
    /// of two per array at or past the knee: DRAM as placement counts it (a footprint from the
    /// knee on), where what the cache still holds helps most. A ceiling must bound every result
    /// placed under it, and a result just past the knee runs faster than one at STREAM's 4×
    /// (measured here: `add` at 192 MiB beat STREAM add at 768 MiB by 0.4%).
    pub fn edge_len(&self, arrays: usize) -> (usize, SizedBy) {
        let Some((knee, _)) = self.knee() else {
            return (
                self.fallback_bytes.div_ceil(4 * arrays).next_power_of_two(),
                SizedBy::Fallback,
            );
        };
        let n = knee.div_ceil(4 * arrays).next_power_of_two();
        let free = machine::available_memory_bytes().unwrap_or(4 << 30);
        let memory = ((free / 3) as usize / arrays / 4).max(1 << 20);
        if memory < n {
            (memory, SizedBy::Memory)
        } else {
            (n, SizedBy::Knee)
        }
    }

    /// The best rate of the sweep's points at or past the knee, once it is fixed: the sweep's
    /// DRAM rate at its smallest DRAM footprints (see [`Sizing::edge_len`]).
    fn past_knee_best(&self) -> Option<f64> {
        let (knee, _) = self.knee()?;
        let p = self.points.lock().unwrap_or_else(|e| e.into_inner());
        p.iter()
            .filter(|x| x.0 >= knee)
            .map(|x| x.1)
            .reduce(f64::max)
    }

    /// What a DRAM probe records about its size.
    fn extra(&self, by: SizedBy) -> BTreeMap<String, serde_json::Value> {
        let mut e = BTreeMap::from([("sized_by".to_string(), by.name().into())]);
        if let Some((k, plateau)) = self.knee() {
            e.insert("knee_bytes".into(), k.into());
            e.insert("knee_plateau_seen".into(), plateau.into());
        }
        e
    }
}

/// A probe's size: fixed, or fixed from the knee at its turn.
#[derive(Debug, Clone)]
pub enum Size {
    /// Elements per array.
    Fixed(usize),
    /// STREAM's size: [`KNEE_FACTOR`] × the knee (see [`Sizing::len`]).
    Dram(Arc<Sizing>),
    /// The smallest size past the knee (see [`Sizing::edge_len`]).
    KneeEdge(Arc<Sizing>),
}

impl Size {
    /// Whether resolving now gives the size the probe will be measured at: a DRAM size is only
    /// known once the knee sweep has finished.
    fn is_final(&self) -> bool {
        match self {
            Size::Fixed(_) => true,
            Size::Dram(s) | Size::KneeEdge(s) => s.knee().is_some(),
        }
    }
    fn resolve(&self, arrays: usize, threads: usize) -> (usize, Option<SizedBy>) {
        match self {
            Size::Fixed(n) => (*n, None),
            Size::Dram(s) => {
                let (n, by) = s.len(arrays, threads);
                (n, Some(by))
            }
            Size::KneeEdge(s) => {
                let (n, by) = s.edge_len(arrays);
                (n, Some(by))
            }
        }
    }
    fn extra(&self, by: Option<SizedBy>) -> BTreeMap<String, serde_json::Value> {
        match (self, by) {
            (Size::Dram(s) | Size::KneeEdge(s), Some(by)) => s.extra(by),
            _ => BTreeMap::new(),
        }
    }
}

/// A probe's spec, its array length or passes, and what sized it.
type Resolved = (WorkloadSpec, usize, Option<SizedBy>);

/// A probe's spec, fixed once its size is final. Every probe is registered (and its spec read for
/// the listing) before the knee sweep runs; until the sweep has finished, a DRAM probe's spec is
/// a provisional one, sized as if no knee had been measured. The driver reads the spec again at
/// the probe's turn, after the sweep, and then gets the knee-sized one.
#[derive(Debug, Default)]
struct SpecCell {
    provisional: OnceLock<Resolved>,
    fixed: OnceLock<Resolved>,
}

impl SpecCell {
    fn get(&self, size: &Size, make: impl FnOnce() -> Resolved) -> &Resolved {
        if let Some(r) = self.fixed.get() {
            return r;
        }
        if size.is_final() {
            self.fixed.get_or_init(make)
        } else {
            self.provisional.get_or_init(make)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// STREAM

/// The four STREAM kernels, and the copy with non-temporal stores.
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
    /// `c = a` with non-temporal stores: labelled, never a ceiling.
    CopyNt,
}

impl StreamKind {
    /// The ordinary-store kernels, whose best is the DRAM ceiling.
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
            StreamKind::CopyNt => "stream_copy_nt",
        }
    }

    /// The peak key this probe publishes.
    pub fn key(self) -> &'static str {
        match self {
            StreamKind::Copy => "stream_copy_gbps",
            StreamKind::Scale => "stream_scale_gbps",
            StreamKind::Add => "stream_add_gbps",
            StreamKind::Triad => "stream_triad_gbps",
            StreamKind::CopyNt => "stream_copy_nt_gbps",
        }
    }

    /// What the probe publishes: its own key; the ordinary-store kernels also the DRAM ceiling at
    /// their thread count and the legacy best (`bandwidth_gbps`).
    pub fn ceiling(self, threads: usize) -> Ceiling {
        let dram = (self != StreamKind::CopyNt).then(|| bandwidth_key(Level::Dram, threads));
        let key = self.key();
        Ceiling::Derived(Arc::new(move |m, peaks| {
            let Some(v) = gbps(m) else {
                return BTreeMap::new();
            };
            // The best of its measurements: a probe measured again never lowers a ceiling.
            let mut out = BTreeMap::from([(key.to_string(), best(peaks, key, v))]);
            if let Some(d) = &dram {
                out.insert(d.clone(), best(peaks, d, v));
                out.insert(BANDWIDTH_KEY.into(), best(peaks, BANDWIDTH_KEY, v));
            }
            out
        }))
    }

    /// Arrays touched per element (STREAM convention: copy/scale 2, add/triad 3).
    fn arrays(self) -> usize {
        match self {
            StreamKind::Copy | StreamKind::Scale | StreamKind::CopyNt => 2,
            StreamKind::Add | StreamKind::Triad => 3,
        }
    }
}

/// The GB/s an ok probe publishes: its fastest sample's (see [`best_rates`]).
fn gbps(m: &Measurement) -> Option<f64> {
    best_rates(m).0
}

/// The larger of `v` and what `peaks` already hold under `key`.
fn best(peaks: &BTreeMap<String, f64>, key: &str, v: f64) -> f64 {
    peaks.get(key).map_or(v, |b| b.max(v))
}

/// One STREAM kernel over rayon on arrays of `n` elements. The inputs are constant per array
/// (as in STREAM), which makes the check of every output element cheap and exact.
pub struct Stream {
    spec: SpecCell,
    size: Size,
    threads: usize,
    kind: StreamKind,
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
    values: (f32, f32),
}

impl Stream {
    /// On arrays of `n` elements.
    pub fn new(kind: StreamKind, n: usize, threads: usize) -> Self {
        Self::sized(kind, Size::Fixed(n), threads)
    }

    /// On arrays sized when the probe's turn comes.
    pub fn sized(kind: StreamKind, size: Size, threads: usize) -> Self {
        Self {
            spec: SpecCell::default(),
            size,
            threads,
            kind,
            a: vec![],
            b: vec![],
            c: vec![],
            values: (1.0, 2.0),
        }
    }

    fn resolved(&self) -> &Resolved {
        self.spec.get(&self.size, || {
            let (kind, arrays) = (self.kind, self.kind.arrays());
            let (n, by) = self.size.resolve(arrays, self.threads);
            let flops = match kind {
                StreamKind::Copy | StreamKind::CopyNt => 0.0,
                StreamKind::Scale | StreamKind::Add => n as f64,
                StreamKind::Triad => 2.0 * n as f64,
            };
            let spec = WorkloadSpec::new(SUITE, kind.name(), "rayon", DType::F32)
                .param("n", n)
                .cost(flops, (arrays * n * 4) as f64)
                .threads(self.threads)
                .footprint((arrays * n * 4) as u64);
            (spec, n, by)
        })
    }

    fn n(&self) -> usize {
        self.resolved().1
    }

    /// The value every output element must hold, and the output.
    fn expected(&self) -> (f64, &[f32]) {
        let (x, y) = (f64::from(self.values.0), f64::from(self.values.1));
        let s = f64::from(STREAM_SCALAR);
        match self.kind {
            StreamKind::Copy | StreamKind::CopyNt => (x, &self.c),
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

fn constant_check(err: f64) -> Validation {
    Validation {
        max_rel_err: err,
        tolerance: 1e-6,
        passed: err <= 1e-6,
        reference: "f64 value every element must hold".into(),
    }
}

impl Workload for Stream {
    fn release(&mut self) -> bool {
        (self.a, self.b, self.c) = (Vec::new(), Vec::new(), Vec::new());
        true
    }
    fn spec(&self) -> &WorkloadSpec {
        &self.resolved().0
    }
    fn extra(&self) -> BTreeMap<String, serde_json::Value> {
        let mut e = self.size.extra(self.resolved().2);
        if self.kind == StreamKind::CopyNt {
            let nt = crate::kernels::stream_nt::is_nontemporal();
            e.insert("nontemporal_stores".into(), nt.into());
        }
        e
    }
    fn prepare(&mut self, seed: u64) -> Result<()> {
        // Input values vary with the seed; outputs start as NaN so untouched elements fail.
        let x = 1.0 + (seed % 97) as f32 / 97.0;
        self.values = (x, 2.0 * x);
        let (n, k) = (self.n(), self.kind);
        let (x, y) = self.values;
        self.a = filled(n, if k == StreamKind::Triad { f32::NAN } else { x });
        self.b = match k {
            StreamKind::Copy | StreamKind::CopyNt => vec![],
            StreamKind::Scale => filled(n, f32::NAN),
            StreamKind::Add => filled(n, y),
            StreamKind::Triad => filled(n, x),
        };
        self.c = match k {
            StreamKind::Copy | StreamKind::CopyNt | StreamKind::Add => filled(n, f32::NAN),
            StreamKind::Scale => filled(n, x),
            StreamKind::Triad => filled(n, y),
        };
        Ok(())
    }
    fn execute(&mut self) {
        match self.kind {
            StreamKind::Copy => par::copy(&self.a, &mut self.c),
            StreamKind::CopyNt => par::copy_nontemporal(&self.a, &mut self.c),
            StreamKind::Scale => par::mul_scalar(&self.c, STREAM_SCALAR, &mut self.b),
            StreamKind::Add => par::add(&self.a, &self.b, &mut self.c),
            StreamKind::Triad => par::scale_add(&self.b, &self.c, STREAM_SCALAR, &mut self.a),
        }
    }
    fn validate(&mut self) -> Result<Validation> {
        let (expected, out) = self.expected();
        Ok(constant_check(max_rel_dev(out, expected)))
    }
}

// ---------------------------------------------------------------------------------------------
// Working-set sweep

/// What a working-set probe does with its buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepKernel {
    /// A read-only pass (the SIMD sum): the level's load bandwidth.
    Read,
    /// STREAM's add `c = a + b` (two loads, one ordinary store): the level's mixed bandwidth.
    Add,
}

impl SweepKernel {
    fn arrays(self) -> usize {
        match self {
            SweepKernel::Read => 1,
            SweepKernel::Add => 3,
        }
    }
    fn op(self) -> &'static str {
        match self {
            SweepKernel::Read => "working_set",
            SweepKernel::Add => "working_set_add",
        }
    }
}

/// One thread's buffers and its last result.
#[derive(Debug, Default)]
struct Part {
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
    sum: f32,
}

/// Bytes each thread moves per `execute` at least: passes over a cache-resident buffer repeat
/// until then, so that waking the pool costs little next to the work.
const SWEEP_BYTES_PER_EXECUTE: usize = 32 << 20;

/// A buffer of a given total size split over `threads` threads (each its own part, first touched
/// by the thread that uses it), read or added over repeatedly: the bandwidth of whichever level
/// of the memory hierarchy the parts fit in.
pub struct WorkingSet {
    spec: SpecCell,
    kernel: SweepKernel,
    threads: usize,
    size: Size,
    parts: Vec<Mutex<Part>>,
    value: f32,
    /// The knee sweep this is a point of: skipped once the sweep has reached its plateau.
    sweep: Option<Arc<Sizing>>,
}

impl WorkingSet {
    /// A read-only pass over `bytes` on one thread.
    pub fn new(bytes: usize) -> Self {
        Self::with(SweepKernel::Read, 1, Size::Fixed(bytes / 4))
    }

    /// `kernel` on `threads` threads over `size` (elements per array, all threads together).
    pub fn with(kernel: SweepKernel, threads: usize, size: Size) -> Self {
        Self {
            spec: SpecCell::default(),
            kernel,
            threads: threads.max(1),
            size,
            parts: Vec::new(),
            value: 1.0,
            sweep: None,
        }
    }

    /// A point of the knee sweep that `sizing` records.
    fn in_sweep(mut self, sizing: Arc<Sizing>) -> Self {
        self.sweep = Some(sizing);
        self
    }

    fn resolved(&self) -> &Resolved {
        self.spec.get(&self.size, || {
            let arrays = self.kernel.arrays();
            let (n, by) = self.size.resolve(arrays, self.threads);
            let per = (n / self.threads).max(64);
            let bytes = arrays * per * self.threads * 4;
            let reps = SWEEP_BYTES_PER_EXECUTE.div_ceil(arrays * per * 4);
            let backend = if self.threads == 1 { "simd" } else { "rayon" };
            let spec = WorkloadSpec::new(SUITE, self.kernel.op(), backend, DType::F32)
                .param("bytes", bytes)
                .cost((reps * per * self.threads) as f64, (reps * bytes) as f64)
                .threads(self.threads)
                .footprint(bytes as u64);
            (spec, reps, by)
        })
    }

    /// Elements per thread and passes per execute.
    fn shape(&self) -> (usize, usize) {
        let (spec, reps, _) = self.resolved();
        let per = spec.footprint_bytes as usize / 4 / self.kernel.arrays() / self.threads;
        (per, *reps)
    }

    fn run_part(kernel: SweepKernel, k: Kernels, part: &mut Part, reps: usize) {
        for _ in 0..reps {
            match kernel {
                SweepKernel::Read => {
                    part.sum = std::hint::black_box(k.reduce(Reduction::Sum, &part.a));
                }
                SweepKernel::Add => k.add(&part.a, &part.b, &mut part.c),
            }
        }
    }

    fn for_each_part(&self, f: impl Fn(&mut Part) + Sync) {
        let lock = |i: usize| self.parts[i].lock().unwrap_or_else(|e| e.into_inner());
        if self.threads == 1 {
            f(&mut lock(0));
        } else {
            rayon::broadcast(|ctx| f(&mut lock(ctx.index() % self.threads)));
        }
    }
}

impl Workload for WorkingSet {
    fn release(&mut self) -> bool {
        self.parts = Vec::new();
        true
    }
    fn spec(&self) -> &WorkloadSpec {
        &self.resolved().0
    }
    fn extra(&self) -> BTreeMap<String, serde_json::Value> {
        self.size.extra(self.resolved().2)
    }
    fn unavailable(&self) -> Option<String> {
        let bytes = self.resolved().0.footprint_bytes as usize;
        self.sweep.as_ref()?.past_plateau(bytes)
    }
    fn prepare(&mut self, seed: u64) -> Result<()> {
        self.value = 1.0 + (seed % 89) as f32 / 89.0;
        let (per, _) = self.shape();
        let (v, kernel) = (self.value, self.kernel);
        self.parts = (0..self.threads)
            .map(|_| Mutex::new(Part::default()))
            .collect();
        self.for_each_part(|p| {
            p.a = vec![v; per];
            if kernel == SweepKernel::Add {
                p.b = vec![2.0 * v; per];
                p.c = vec![f32::NAN; per];
            }
        });
        Ok(())
    }
    fn execute(&mut self) {
        let (_, reps) = self.shape();
        let (kernel, k) = (self.kernel, Kernels::best());
        self.for_each_part(|p| Self::run_part(kernel, k, p, reps));
    }
    fn validate(&mut self) -> Result<Validation> {
        let (per, _) = self.shape();
        let v = f64::from(self.value);
        let mut worst = 0.0f64;
        for p in &self.parts {
            let p = p.lock().unwrap_or_else(|e| e.into_inner());
            let err = match self.kernel {
                SweepKernel::Read => {
                    let want = v * per as f64;
                    (f64::from(p.sum) - want).abs() / want
                }
                SweepKernel::Add => max_rel_dev(&p.c, 3.0 * v),
            };
            worst = worst.max(if err.is_nan() { f64::INFINITY } else { err });
        }
        let mut check = constant_check(worst);
        check.tolerance = 1e-5;
        check.passed = worst <= 1e-5;
        Ok(check)
    }
}

/// A cache level's ceiling at `threads`: the best of its probes, and (L1, L2) the capacity of the
/// level for that many threads.
fn level_ceiling(level: Level, threads: usize, capacity: Option<u64>) -> Ceiling {
    Ceiling::Derived(Arc::new(move |m, peaks| {
        let Some(v) = gbps(m) else {
            return BTreeMap::new();
        };
        let key = bandwidth_key(level, threads);
        let mut out = BTreeMap::from([(key.clone(), best(peaks, &key, v))]);
        if let Some(c) = capacity {
            out.insert(capacity_key(level, threads), c as f64);
        }
        out
    }))
}

/// A knee-sweep point: L3 ceiling candidate; the last one fixes the knee, which ends L3 (for
/// every thread count in `counts`).
fn knee_ceiling(sizing: Arc<Sizing>, threads: usize, counts: Vec<usize>) -> Ceiling {
    Ceiling::Derived(Arc::new(move |m, peaks| {
        let Some(v) = gbps(m) else {
            return BTreeMap::new();
        };
        let key = bandwidth_key(Level::L3, threads);
        let mut out = BTreeMap::from([(key.clone(), best(peaks, &key, v))]);
        if let Some((knee, _)) = sizing.record(m.extra_bytes(), v) {
            out.insert("working_set_knee_bytes".into(), knee as f64);
            for &t in &counts {
                out.insert(capacity_key(Level::L3, t), knee as f64);
            }
        }
        // The points from the knee on are DRAM at the run's thread count.
        if let Some(dram) = sizing.past_knee_best() {
            let key = bandwidth_key(Level::Dram, threads);
            out.insert(key.clone(), best(peaks, &key, dram));
        }
        out
    }))
}

/// A DRAM-level probe other than STREAM at the run's thread count (read-only and add passes).
fn dram_ceiling(threads: usize) -> Ceiling {
    Ceiling::Derived(Arc::new(move |m, peaks| {
        let Some(v) = gbps(m) else {
            return BTreeMap::new();
        };
        let key = bandwidth_key(Level::Dram, threads);
        BTreeMap::from([(key.clone(), best(peaks, &key, v))])
    }))
}

/// The footprint a probe measurement was sized to.
trait ExtraBytes {
    fn extra_bytes(&self) -> usize;
}
impl ExtraBytes for Measurement {
    fn extra_bytes(&self) -> usize {
        self.params
            .get("bytes")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0) as usize
    }
}

// ---------------------------------------------------------------------------------------------
// Compute peaks

/// Steps of the FMA chains per `execute` (about a millisecond on a current core).
const FMA_ITERS: usize = 100_000;
const FMA_A: f32 = 0.999_9;
const FMA_B: f32 = 1e-4;

/// Peak FMA throughput: independent FMA chains on every thread of the pool, or on the calling
/// thread alone (`threads == 1`, the one-thread ceiling; its id says `threads=1`).
pub struct FmaPeak {
    spec: WorkloadSpec,
    single: bool,
    out: f32,
}

impl FmaPeak {
    /// On every thread of the pool (`threads` of them).
    pub fn new(threads: usize) -> Self {
        Self::build(threads, false)
    }

    /// On one thread.
    pub fn single() -> Self {
        Self::build(1, true)
    }

    fn build(threads: usize, single: bool) -> Self {
        let (chains, lanes) = Kernels::best().fma_chain_shape();
        let flops = 2.0 * (chains * lanes * FMA_ITERS * threads) as f64;
        let mut spec =
            WorkloadSpec::new(SUITE, "fma_peak", Kernels::best().isa().name(), DType::F32)
                .param("chains", chains)
                .param("lanes", lanes)
                .param("iters", FMA_ITERS)
                .cost(flops, 0.0)
                .threads(threads);
        if single {
            spec = spec.param("threads", 1);
        }
        Self {
            spec,
            single,
            out: f32::NAN,
        }
    }

    fn workers(&self) -> usize {
        if self.single {
            1
        } else {
            rayon::current_num_threads()
        }
    }
}

impl Workload for FmaPeak {
    fn release(&mut self) -> bool {
        true // holds no buffers
    }
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, _seed: u64) -> Result<()> {
        Ok(())
    }
    fn execute(&mut self) {
        self.out = std::hint::black_box(if self.single {
            Kernels::best().fma_chain(FMA_ITERS, FMA_A, FMA_B)
        } else {
            par::fma_chain(FMA_ITERS, FMA_A, FMA_B)
        });
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
        let reference = per_thread * self.workers() as f64;
        Ok(crate::workloads::check(&[self.out], &[reference], 1e-3))
    }
}

/// Rounds of the int8 chains per execute: a few milliseconds, like the FMA chain.
const INT8_ITERS: usize = 200_000;
const INT8_A: u8 = 3;
const INT8_B: i8 = -2;

/// The int8 compute ceiling (`compute_gflops_i8`, read as GOP/s): VNNI dot-product chains on
/// every thread, or on one (`single`). Registered only where the CPU has VNNI.
pub struct Int8Peak {
    spec: WorkloadSpec,
    single: bool,
    out: Option<i64>,
}

impl Int8Peak {
    pub fn new(threads: usize) -> Self {
        Self::build(threads, false)
    }

    pub fn single() -> Self {
        Self::build(1, true)
    }

    fn build(threads: usize, single: bool) -> Self {
        use crate::kernels::int8_peak::{CHAINS, PRODUCTS_PER_OP};
        let ops = 2.0 * (CHAINS * PRODUCTS_PER_OP * INT8_ITERS * threads) as f64;
        let mut spec = WorkloadSpec::new(SUITE, "int8_peak", "avx512vnni", DType::I8)
            .param("chains", CHAINS)
            .param("iters", INT8_ITERS)
            .cost(ops, 0.0)
            .threads(threads);
        if single {
            spec = spec.param("threads", 1);
        }
        Self {
            spec,
            single,
            out: None,
        }
    }
}

impl Workload for Int8Peak {
    fn release(&mut self) -> bool {
        true // holds no buffers
    }
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, _seed: u64) -> Result<()> {
        Ok(())
    }
    fn execute(&mut self) {
        self.out = std::hint::black_box(if self.single {
            crate::kernels::int8_peak::dot_chains(INT8_ITERS, INT8_A, INT8_B)
        } else {
            par::int8_dot_chains(INT8_ITERS, INT8_A, INT8_B)
        });
    }
    /// Every lane's sum is known exactly: rounds × chains × 64 products × a × b per thread.
    fn validate(&mut self) -> Result<Validation> {
        use crate::kernels::int8_peak::{CHAINS, PRODUCTS_PER_OP};
        let per_thread =
            (INT8_ITERS * CHAINS * PRODUCTS_PER_OP) as i64 * i64::from(INT8_A) * i64::from(INT8_B);
        let workers = if self.single {
            1
        } else {
            rayon::current_num_threads()
        };
        let want = per_thread * workers as i64;
        let got = self.out.map_or(f64::NAN, |v| v as f64);
        Ok(tensorbench_core::workload::validate_against(
            &[got],
            &[want as f64],
            0.0,
            "exact i64 count of the products",
        ))
    }
}

/// A compute peak whose kernel runs independent chains with an exactly known result: one
/// description per instruction family, one probe type for all of them.
#[derive(Debug, Clone, Copy)]
pub struct PeakKernel {
    pub op: &'static str,
    pub backend: &'static str,
    pub dtype: DType,
    /// The ceiling key it publishes, and the one-thread key.
    pub ceiling: &'static str,
    pub ceiling_t1: &'static str,
    /// Rounds per call: a few milliseconds, and the count stays exact.
    pub iters: usize,
    /// Operations one thread does per call.
    pub ops: usize,
    /// One thread's result; `None` where the CPU cannot run it.
    pub run: fn(usize) -> Option<f64>,
    /// What one thread's result must be.
    pub expected: fn(usize) -> f64,
}

impl PeakKernel {
    /// AVX512-BF16 `vdpbf16ps` chains.
    pub const BF16_DOT: Self = {
        use crate::kernels::bf16_peak::{CHAINS, FLOPS_PER_OP};
        const ITERS: usize = 100_000; // lanes stay below 2^24, where f32 counts exactly
        Self {
            op: "bf16_peak",
            backend: "avx512bf16",
            dtype: DType::Bf16,
            ceiling: "bf16_dot_gflops",
            ceiling_t1: "bf16_dot_gflops_t1",
            iters: ITERS,
            ops: CHAINS * FLOPS_PER_OP * ITERS,
            run: crate::kernels::bf16_peak::dot_chains,
            expected: |iters| (iters * CHAINS * 16 * 2) as f64, // each lane: 1·1 + 1·1 per round
        }
    };

    /// AVX512-FP16 `vfmadd231ph` chains.
    pub const F16_FMA: Self = {
        use crate::kernels::f16_peak::{CHAINS, FLOPS_PER_OP, LANES, lane_value};
        const ITERS: usize = 100_000;
        Self {
            op: "f16_peak",
            backend: "avx512fp16",
            dtype: DType::F16,
            ceiling: "f16_fma_gflops",
            ceiling_t1: "f16_fma_gflops_t1",
            iters: ITERS,
            ops: CHAINS * FLOPS_PER_OP * ITERS,
            run: crate::kernels::f16_peak::fma_chains,
            expected: |iters| lane_value(iters) * (CHAINS * LANES) as f64,
        }
    };

    /// AMX `tdpbf16ps` on four tile accumulators.
    pub const AMX_BF16: Self = Self {
        op: "amx_bf16_peak",
        backend: "amx",
        dtype: DType::Bf16,
        ceiling: "amx_bf16_gflops",
        ceiling_t1: "amx_bf16_gflops_t1",
        iters: AMX_ITERS,
        ops: amx_ops(TileOp::Bf16),
        run: |iters| tile_chains(TileOp::Bf16, iters),
        expected: |iters| amx_count(TileOp::Bf16, iters),
    };

    /// AMX `tdpbssd` on four tile accumulators.
    pub const AMX_INT8: Self = Self {
        op: "amx_int8_peak",
        backend: "amx",
        dtype: DType::I8,
        ceiling: "amx_int8_gops",
        ceiling_t1: "amx_int8_gops_t1",
        iters: AMX_ITERS,
        ops: amx_ops(TileOp::Int8),
        run: |iters| tile_chains(TileOp::Int8, iters),
        expected: |iters| amx_count(TileOp::Int8, iters),
    };
}

/// Rounds of the AMX chains per call: about a millisecond; bf16 counts stay below 2^24.
const AMX_ITERS: usize = 20_000;

const fn amx_ops(op: TileOp) -> usize {
    crate::kernels::amx_peak::ACCUMULATORS * op.ops_per_instruction() * AMX_ITERS
}

/// Every AMX accumulator element gains `depth` products of ones per round.
fn amx_count(op: TileOp, iters: usize) -> f64 {
    use crate::kernels::amx_peak::{ACCUMULATORS, TILE_ELEMENTS};
    (iters * ACCUMULATORS * TILE_ELEMENTS * op.depth()) as f64
}

/// The compute ceiling of one [`PeakKernel`] on every thread, or on one (`single`).
pub struct ChainPeak {
    spec: WorkloadSpec,
    kernel: PeakKernel,
    single: bool,
    out: Option<f64>,
}

impl ChainPeak {
    pub fn new(kernel: PeakKernel, threads: usize, single: bool) -> Self {
        let threads = if single { 1 } else { threads };
        let mut spec = WorkloadSpec::new(SUITE, kernel.op, kernel.backend, kernel.dtype)
            .param("iters", kernel.iters)
            .cost((kernel.ops * threads) as f64, 0.0)
            .threads(threads);
        if single {
            spec = spec.param("threads", 1);
        }
        Self {
            spec,
            kernel,
            single,
            out: None,
        }
    }

    fn workers(&self) -> usize {
        if self.single {
            1
        } else {
            rayon::current_num_threads()
        }
    }
}

impl Workload for ChainPeak {
    fn release(&mut self) -> bool {
        true // holds no buffers
    }
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, _seed: u64) -> Result<()> {
        Ok(())
    }
    fn execute(&mut self) {
        let (run, iters) = (self.kernel.run, self.kernel.iters);
        self.out = std::hint::black_box(if self.single {
            run(iters)
        } else {
            (0..self.workers())
                .into_par_iter()
                .map(|_| run(iters))
                .sum()
        });
    }
    /// Every chain's count is known exactly.
    fn validate(&mut self) -> Result<Validation> {
        let want = (self.kernel.expected)(self.kernel.iters) * self.workers() as f64;
        Ok(tensorbench_core::workload::validate_against(
            &[self.out.unwrap_or(f64::NAN)],
            &[want],
            0.0,
            "exact count of the products",
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Registration

/// STREAM array length when no knee was measured: 4× the reported last-level cache, at least
/// 64 MiB. (A VM can report far more L3 than its share; the knee is measured whenever the sweep
/// runs, and this is only its stand-in.)
pub fn stream_len() -> usize {
    let llc = machine::last_level_cache_bytes(&machine::detect()) as usize;
    (4 * llc).max(64 << 20) / 4
}

/// Sizes of the knee sweep at `threads` threads: doubling from twice the private caches of all
/// threads to the larger of 4× the reported LLC and 512 MiB, at most 1 GiB and a sixth of the
/// free memory.
pub fn knee_sizes(l2_per_core: usize, llc: usize, threads: usize, free: u64) -> Vec<usize> {
    let start = 2 * l2_per_core * threads;
    let top = (4 * llc).clamp(512 << 20, 1 << 30).min((free / 6) as usize);
    let mut sizes: Vec<usize> = std::iter::successors(Some(start), |s| Some(s * 2))
        .take_while(|&s| s <= top)
        .collect();
    if sizes.len() < 2 {
        sizes = vec![start, 2 * start];
    }
    sizes
}

/// A probe's time cap under this profile.
fn time_cap_s(profile: Profile) -> f64 {
    let config = tensorbench_core::sampler::SamplerConfig::profile(profile);
    config.for_probe().max_time_s
}

/// Registers the ceilings as probes: the per-level sweep (1 thread and the run's), the knee
/// sweep, STREAM at DRAM size, and the compute peaks per type; types without a kernel are
/// recorded as skipped with the reason.
pub fn register(suite: &mut Suite, ctx: &Ctx) {
    let caches = machine::detect().caches;
    let l1 = caches.l1d.unwrap_or(32 << 10) as usize;
    let l2 = caches.l2.unwrap_or(1 << 20) as usize;
    let counts: Vec<usize> = if ctx.threads > 1 {
        vec![1, ctx.threads]
    } else {
        vec![1]
    };
    let free = machine::available_memory_bytes().unwrap_or(4 << 30);
    let llc = machine::last_level_cache_bytes(&machine::detect()) as usize;
    let sizes = knee_sizes(l2, llc, ctx.threads, free);
    let sizing = Arc::new(Sizing::new(
        sizes.len(),
        ctx.threads,
        time_cap_s(ctx.profile) / SAMPLES_IN_CAP,
        stream_len() * 4 / KNEE_FACTOR,
    ));
    register_levels(suite, &counts, l1, l2);
    for &bytes in &sizes {
        let w = WorkingSet::with(SweepKernel::Read, ctx.threads, Size::Fixed(bytes / 4))
            .in_sweep(sizing.clone());
        suite.add_probe(w, knee_ceiling(sizing.clone(), ctx.threads, counts.clone()));
    }
    register_dram(suite, ctx, &counts, &sizing);
    register_compute(suite, ctx);
}

/// L1 and L2 (half of each level, so the parts surely fit) and L3 (just past the private caches)
/// for both kernels and every thread count; L3 at the run's count is the knee sweep's start.
fn register_levels(suite: &mut Suite, counts: &[usize], l1: usize, l2: usize) {
    for &t in counts {
        for kernel in [SweepKernel::Read, SweepKernel::Add] {
            let points = [
                (Level::L1, l1 * t / 2, Some((l1 * t) as u64)),
                (Level::L2, l2 * t / 2, Some((l2 * t) as u64)),
                (Level::L3, 2 * l2 * t, None),
            ];
            for (level, bytes, capacity) in points {
                let last = Some(&t) == counts.last();
                if level == Level::L3 && kernel == SweepKernel::Read && last {
                    continue; // the knee sweep's first point
                }
                let n = bytes / 4 / kernel.arrays();
                let w = WorkingSet::with(kernel, t, Size::Fixed(n));
                suite.add_probe(w, level_ceiling(level, t, capacity));
            }
        }
    }
}

/// STREAM (ordinary stores, and the labelled non-temporal copy) at the run's thread count, and
/// read and add passes at DRAM size for the other thread counts.
fn register_dram(suite: &mut Suite, ctx: &Ctx, counts: &[usize], sizing: &Arc<Sizing>) {
    let size = Size::Dram(sizing.clone());
    for kind in StreamKind::ALL.into_iter().chain([StreamKind::CopyNt]) {
        let w = Stream::sized(kind, size.clone(), ctx.threads);
        suite.add_probe(w, kind.ceiling(ctx.threads));
    }
    // At the run's thread count the sweep's points past the knee are its DRAM read passes; the
    // other counts get theirs at the knee's edge, where DRAM is fastest.
    let edge = Size::KneeEdge(sizing.clone());
    for &t in counts.iter().filter(|&&t| t != ctx.threads) {
        for kernel in [SweepKernel::Read, SweepKernel::Add] {
            let w = WorkingSet::with(kernel, t, edge.clone());
            suite.add_probe(w, dram_ceiling(t));
        }
    }
}

/// f32 FMA, int8 VNNI and bf16 dot-product peaks, on the run's thread count and on one; f16 and
/// AMX recorded as skipped with the reason.
fn register_compute(suite: &mut Suite, ctx: &Ctx) {
    let single = ctx.threads > 1;
    suite.add_probe(FmaPeak::new(ctx.threads), Ceiling::Compute("fma_gflops"));
    if single {
        suite.add_probe(FmaPeak::single(), Ceiling::Compute("fma_gflops_t1"));
    }
    if crate::kernels::int8_peak::is_available() {
        suite.add_probe(Int8Peak::new(ctx.threads), Ceiling::Compute("vnni_gops"));
        if single {
            suite.add_probe(Int8Peak::single(), Ceiling::Compute("vnni_gops_t1"));
        }
    }
    for kernel in available_chain_peaks() {
        suite.add_probe(
            ChainPeak::new(kernel, ctx.threads, false),
            Ceiling::Compute(kernel.ceiling),
        );
        if single {
            let c = Ceiling::Compute(kernel.ceiling_t1);
            suite.add_probe(ChainPeak::new(kernel, 1, true), c);
        }
    }
    for (op, backend, dtype, reason) in unavailable_compute() {
        let spec = WorkloadSpec::new(SUITE, op, backend, dtype).threads(ctx.threads);
        suite.add_skipped(spec, reason);
    }
}

/// The chain peaks this CPU can run.
fn available_chain_peaks() -> Vec<PeakKernel> {
    let mut out = Vec::new();
    if crate::kernels::bf16_peak::is_available() {
        out.push(PeakKernel::BF16_DOT);
    }
    if crate::kernels::f16_peak::is_available() {
        out.push(PeakKernel::F16_FMA);
    }
    for (op, kernel) in [
        (TileOp::Bf16, PeakKernel::AMX_BF16),
        (TileOp::Int8, PeakKernel::AMX_INT8),
    ] {
        if crate::kernels::amx_peak::unavailable(op).is_none() {
            out.push(kernel);
        }
    }
    out
}

/// The compute ceilings this CPU cannot measure, with why.
fn unavailable_compute() -> Vec<(&'static str, &'static str, DType, String)> {
    let mut out = Vec::new();
    if !crate::kernels::f16_peak::is_available() {
        let why = "no AVX512-FP16 on this CPU: f16 is judged against the f32 FMA peak";
        out.push(("f16_peak", "avx512fp16", DType::F16, why.to_string()));
    }
    for (op, kernel) in [
        (TileOp::Bf16, PeakKernel::AMX_BF16),
        (TileOp::Int8, PeakKernel::AMX_INT8),
    ] {
        if let Some(why) = crate::kernels::amx_peak::unavailable(op) {
            out.push((kernel.op, kernel.backend, kernel.dtype, why));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic sweep: 60 GB/s in L3 up to 32 MiB, falling through 64 MiB, flat at 20 GB/s
    /// (±5%) from 128 MiB.
    fn sweep() -> Vec<(usize, f64)> {
        let mib = 1 << 20;
        vec![
            (8 * mib, 60.0),
            (16 * mib, 59.0),
            (32 * mib, 55.0),
            (64 * mib, 35.0),
            (128 * mib, 21.0),
            (256 * mib, 20.0),
            (512 * mib, 20.5),
            (1024 * mib, 19.6),
        ]
    }

    #[test]
    fn the_knee_is_where_the_sweep_stops_falling() {
        assert_eq!(knee(&sweep()), Some((128 << 20, true)));
        // Order does not matter.
        let mut rev = sweep();
        rev.reverse();
        assert_eq!(knee(&rev), Some((128 << 20, true)));
        // Still falling at the end: the largest size, flagged as no plateau seen.
        let falling: Vec<_> = sweep().into_iter().take(4).collect();
        assert_eq!(knee(&falling), Some((64 << 20, false)));
        assert_eq!(knee(&[]), None);
    }

    #[test]
    fn the_sweep_stops_once_it_has_fallen_and_stayed_flat() {
        let p = sweep();
        // Flat for only one point past the knee: could be a noise dip, so go on.
        assert_eq!(plateau(&p[..6]), None);
        assert_eq!(plateau(&p[..7]), Some(128 << 20));
        // Flat from the start (all of it in one cache level): never a plateau, the whole sweep runs.
        let flat: Vec<_> = p.iter().map(|&(b, _)| (b, 40.0)).collect();
        assert_eq!(plateau(&flat), None);
        assert_eq!(plateau(&[]), None);
        // Seen on this VM: a slow 16 MiB point, then 32 MiB faster again. Not a plateau.
        let mib = 1 << 20;
        let noisy = [
            (8 * mib, 27.7),
            (16 * mib, 20.1),
            (32 * mib, 32.4),
            (64 * mib, 20.9),
        ];
        assert_eq!(plateau(&noisy), None);
    }

    #[test]
    fn a_sweep_point_past_the_plateau_is_skipped_with_the_reason() {
        let points = sweep();
        let sizing = Arc::new(Sizing::new(points.len(), 2, 10.0, 32 << 20));
        let (last, _) = *points.last().unwrap();
        let probe =
            WorkingSet::with(SweepKernel::Read, 2, Size::Fixed(last / 4)).in_sweep(sizing.clone());
        assert_eq!(
            probe.unavailable(),
            None,
            "measured while the sweep is open"
        );
        for &(b, g) in &points[..points.len() - 1] {
            sizing.record(b, g);
        }
        let why = probe.unavailable().expect("skipped past the plateau");
        assert!(why.contains("plateau"), "{why}");
    }

    #[test]
    fn arrays_are_four_times_the_knee_within_the_limits() {
        let roomy = Limits {
            free_bytes: 64 << 30,
            gbps: Some(30.0),
            seconds_per_iter: 1.0,
        };
        // 4 × 128 MiB = 512 MiB per array = 128 Mi f32.
        assert_eq!(array_len(128 << 20, 3, &roomy), (128 << 20, SizedBy::Knee));
        // 3 GiB free: a third over 3 arrays is 341 MiB, rounded down to 256 MiB.
        let tight = Limits {
            free_bytes: 3 << 30,
            ..roomy
        };
        assert_eq!(array_len(128 << 20, 3, &tight), (64 << 20, SizedBy::Memory));
        // 0.04 s at 30 GB/s is 1.2 GB per iteration: 400 MB per array → 256 MiB.
        let quick = Limits {
            seconds_per_iter: 0.04,
            ..roomy
        };
        assert_eq!(array_len(128 << 20, 3, &quick), (64 << 20, SizedBy::Time));
        // A slow machine's time cap never takes the arrays below the knee: 128 MiB each.
        let slow = Limits {
            gbps: Some(1.0),
            ..quick
        };
        assert_eq!(array_len(128 << 20, 3, &slow), (32 << 20, SizedBy::Time));
        // A read-only probe (one array) keeps twice the knee.
        assert_eq!(array_len(128 << 20, 1, &slow), (64 << 20, SizedBy::Time));
    }

    #[test]
    fn dram_probes_are_sized_from_the_recorded_sweep() {
        let points = sweep();
        let s = Sizing::new(points.len(), 2, 10.0, 32 << 20);
        let (_, by) = s.len(2, 2);
        assert_eq!(by, SizedBy::Fallback);
        // The plateau (128 MiB, then 256 and 512 flat) fixes the knee one point early.
        for (i, &(b, g)) in points.iter().enumerate().take(points.len() - 1) {
            let k = s.record(b, g);
            assert_eq!(k.is_some(), i + 2 == points.len(), "point {i}");
        }
        assert_eq!(s.knee(), Some((128 << 20, true)));
        let last = points.last().unwrap().0;
        let why = s
            .past_plateau(last)
            .expect("the last point is past the plateau");
        assert!(why.contains("plateau at 128 MiB"), "{why}");
        assert_eq!(s.past_plateau(64 << 20), None, "a point below the knee");
        let (n, by) = s.len(2, 2);
        if by == SizedBy::Knee {
            assert_eq!(n * 4, KNEE_FACTOR * (128 << 20));
        } else {
            // Little free memory on this machine: smaller, and said so.
            assert_eq!(by, SizedBy::Memory);
            assert!(n * 4 < KNEE_FACTOR * (128 << 20));
        }
    }

    #[test]
    fn edge_probes_sit_just_past_the_knee_and_the_sweep_past_it_is_dram() {
        let points = sweep();
        let s = Sizing::new(points.len(), 2, 10.0, 32 << 20);
        assert_eq!(s.past_knee_best(), None, "no knee yet");
        for &(b, g) in &points {
            s.record(b, g);
        }
        let knee = 128usize << 20;
        assert_eq!(s.knee().map(|k| k.0), Some(knee));
        // The fastest point from the knee on (21 GB/s at the knee), not the last.
        assert_eq!(s.past_knee_best(), Some(21.0));
        for arrays in [1, 3] {
            let (n, by) = s.edge_len(arrays);
            if by == SizedBy::Memory {
                continue; // little free memory on this machine
            }
            let footprint = arrays * n * 4;
            assert!(footprint >= knee, "placed in DRAM: {footprint}");
            assert!(footprint < 2 * knee, "the smallest such size: {footprint}");
            assert!(n.is_power_of_two());
        }
    }

    #[test]
    fn a_dram_probe_registered_before_the_sweep_is_sized_by_the_knee_at_its_turn() {
        let points = sweep();
        let sizing = Arc::new(Sizing::new(points.len(), 2, 10.0, 32 << 20));
        let probe = Stream::sized(StreamKind::Triad, Size::Dram(sizing.clone()), 2);
        // Registration reads the spec before any sweep point is in.
        let listed = probe.spec().id.clone();
        assert_eq!(probe.resolved().2, Some(SizedBy::Fallback));
        for &(b, g) in &points {
            sizing.record(b, g);
        }
        let (spec, n, by) = probe.resolved();
        assert_ne!(
            by,
            &Some(SizedBy::Fallback),
            "sized from the knee at its turn"
        );
        assert_eq!(*n, sizing.len(3, 2).0);
        assert!(listed.ends_with(&format!("n={}", (32usize << 20) * KNEE_FACTOR / 4)));
        // Fixed from then on.
        assert_eq!(probe.spec().id, spec.id);
    }

    #[test]
    fn the_knee_sweep_starts_past_the_private_caches() {
        let s = knee_sizes(2 << 20, 105 << 20, 2, 24 << 30);
        assert_eq!(s.first(), Some(&(8 << 20)));
        assert_eq!(s.last(), Some(&(512 << 20)));
        assert!(s.windows(2).all(|w| w[1] == 2 * w[0]));
        // A VM reporting 480 MiB of L3: up to 1 GiB, never past a sixth of free memory.
        assert_eq!(
            knee_sizes(2 << 20, 480 << 20, 2, 24 << 30).last(),
            Some(&(1 << 30))
        );
        assert_eq!(
            knee_sizes(2 << 20, 480 << 20, 2, 1 << 30).last(),
            Some(&(128 << 20))
        );
    }
}
