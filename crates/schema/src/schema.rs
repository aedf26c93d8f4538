//! The run-file schema: what every target writes and what analysis and report read.
//! `docs/RESULTS.md` documents each field; bump [`SCHEMA_VERSION`] on any incompatible change.

use crate::spec::WorkloadSpec;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the run-file schema written by this build.
pub const SCHEMA_VERSION: u32 = 1;

/// Element type of a workload's tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    /// 64-bit float.
    F64,
    /// 32-bit float.
    F32,
    /// IEEE 754 half-precision float.
    F16,
    /// bfloat16: f32's exponent, 8-bit mantissa.
    Bf16,
    /// 32-bit signed integer.
    I32,
    /// 8-bit signed integer.
    I8,
    /// 8-bit unsigned integer.
    U8,
}

impl DType {
    /// The name ids and run files spell it with (`f32`, `bf16`, ...).
    pub fn name(self) -> &'static str {
        match self {
            DType::F64 => "f64",
            DType::F32 => "f32",
            DType::F16 => "f16",
            DType::Bf16 => "bf16",
            DType::I32 => "i32",
            DType::I8 => "i8",
            DType::U8 => "u8",
        }
    }
    /// Bytes of one element.
    pub fn size_bytes(self) -> usize {
        match self {
            DType::F64 => 8,
            DType::F32 | DType::I32 => 4,
            DType::F16 | DType::Bf16 => 2,
            DType::I8 | DType::U8 => 1,
        }
    }
    /// Default relative-error tolerance against an f64 reference, per element type.
    pub fn default_tolerance(self) -> f64 {
        match self {
            DType::F64 => 1e-12,
            DType::F32 => 1e-5,
            DType::F16 => 2e-3,
            DType::Bf16 => 1.6e-2,
            DType::I32 | DType::I8 | DType::U8 => 0.0,
        }
    }
}

/// Which clock produced a measurement's samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClockSource {
    /// The host's monotonic clock.
    Host,
    /// CUDA events recorded around the batch.
    CudaEvent,
    /// wgpu timestamp queries.
    WgpuTimestamp,
    /// `performance.now()` in a JavaScript engine.
    PerformanceNow,
    /// `MPI_Wtime`, the slowest rank's time.
    MpiWtime,
    /// A scripted clock, used by tests of the sampler only.
    Fake,
}

/// Hot: caches warm from the previous iteration. Cold: caches flushed before every sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CacheMode {
    /// Caches warm from the previous iteration (the default).
    #[default]
    Hot,
    /// Caches flushed before every sample (`--cold`).
    Cold,
}

/// What became of a measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Validated, then timed.
    Ok,
    /// Output did not match the reference: never shown as a speed.
    Invalid,
    /// The workload raised an error or panicked; `reason` says what.
    Failed,
    /// Could not be measured here (no device, not enough memory, ...); `reason` says why.
    Skipped,
}

impl Status {
    /// The name a run file spells it with (`ok`, `invalid`, `failed`, `skipped`).
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Invalid => "invalid",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }
}

/// Tukey outlier counts of the samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OutlierCounts {
    /// Samples below Q1 − 3·IQR.
    pub low_severe: usize,
    /// Samples between Q1 − 3·IQR and Q1 − 1.5·IQR.
    pub low_mild: usize,
    /// Samples between Q3 + 1.5·IQR and Q3 + 3·IQR.
    pub high_mild: usize,
    /// Samples above Q3 + 3·IQR.
    pub high_severe: usize,
}

/// How a median's confidence interval was formed (see `docs/METHODOLOGY.md`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CiMethod {
    /// Order statistics whose ranks are widened by the serial dependence of the samples, estimated
    /// by non-overlapping batch means of the indicator `sample <= median`.
    BatchMeans,
    /// The exact order-statistic interval, which assumes independent samples: too few samples to
    /// estimate their dependence. Files written before this field was recorded also read as this.
    #[default]
    OrderStatistic,
    /// Too few samples for the confidence asked for: (min, max), with the level it does have.
    Range,
    /// Several processes merged: the spread of the per-process medians is included.
    Hierarchical,
}

/// Summary statistics of the per-iteration samples, in nanoseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Stats {
    /// Median per-iteration time.
    pub median_ns: f64,
    /// Distribution-free confidence interval of the median, robust to serial dependence.
    pub ci_low_ns: f64,
    /// Upper end of the median's confidence interval.
    pub ci_high_ns: f64,
    /// The level the interval has: the one asked for, or lower when `ci_method` is `range`.
    pub confidence: f64,
    /// How the interval was formed.
    #[serde(default)]
    pub ci_method: CiMethod,
    /// Independent samples worth as much as these (n over the dependence's variance inflation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_samples: Option<f64>,
    /// Mean per-iteration time.
    pub mean_ns: f64,
    /// Standard deviation of the samples.
    pub std_ns: f64,
    /// Median absolute deviation of the samples.
    pub mad_ns: f64,
    /// Fastest sample.
    pub min_ns: f64,
    /// Slowest sample.
    pub max_ns: f64,
    /// 5th percentile.
    pub p05_ns: f64,
    /// 95th percentile.
    pub p95_ns: f64,
    /// Tukey outlier counts.
    pub outliers: OutlierCounts,
}

/// Energy read from a hardware counter (RAPL, NVML) around the timed batches. When no counter
/// can be read, only `unavailable` is set: no figure is ever estimated.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Energy {
    /// The counter read, e.g. `rapl:package-0+dram`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Joules per iteration over the sampling loop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joules_per_iter: Option<f64>,
    /// Mean power over the timed batches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watts: Option<f64>,
    /// GFLOP per joule (absent for ops without FLOPs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gflops_per_joule: Option<f64>,
    /// Why there is no figure (no counter on this machine, permission, too short to resolve).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

impl Energy {
    /// A record with no figure, only the reason there is none.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Self {
            unavailable: Some(reason.into()),
            ..Self::default()
        }
    }
}

/// Rates at the median time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Throughput {
    /// GFLOP/s at the median time (absent for ops without FLOPs).
    pub gflops: Option<f64>,
    /// GB/s of minimal bytes moved, at the median time (absent for ops without bytes).
    pub gbps: Option<f64>,
}

/// Which ceiling limits a measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Bound {
    /// Left of the ridge point: limited by memory bandwidth.
    Memory,
    /// Right of the ridge point: limited by arithmetic.
    Compute,
}

/// Where a measurement stands against the ceilings measured in the same run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Roofline {
    /// Which ceiling limits it at its intensity.
    pub bound: Bound,
    /// Achieved rate over the attainable rate at this arithmetic intensity (0..~1).
    pub pct_of_peak: f64,
    /// FLOPs per byte moved.
    pub intensity: Option<f64>,
    /// The ceiling compared against, e.g. `bandwidth_l2_gbps_t1` or `compute_gflops_t2`.
    pub ceiling: String,
    /// The memory level the footprint landed in (`L1`, `L2`, `L3`, `DRAM`) for memory-bound
    /// placements; absent in files written before levels were measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// Threads the ceiling was measured with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceiling_threads: Option<usize>,
    /// The ceiling's value (GB/s or GFLOP/s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceiling_value: Option<f64>,
    /// Set when the rate exceeds its ceiling: the probe under-measures that ceiling, and the %
    /// must not be shown as a result. Says by how much and against what.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above_ceiling: Option<String>,
}

/// The check of a workload's output against a higher-precision reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Validation {
    /// Largest relative error of the output against the reference.
    pub max_rel_err: f64,
    /// Largest error that passes.
    pub tolerance: f64,
    /// `max_rel_err <= tolerance`.
    pub passed: bool,
    /// What the output was checked against, e.g. `f64 scalar reference`.
    pub reference: String,
}

/// Heap allocations of one iteration (the fewest seen over the samples).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AllocCounts {
    /// Heap allocations per iteration of the timed body.
    pub count: u64,
    /// Heap bytes allocated per iteration of the timed body.
    pub bytes: u64,
}

/// How the sampler ended for this measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SamplingInfo {
    /// Which clock the samples were read from.
    pub clock_source: ClockSource,
    /// That clock's resolution as measured on this machine.
    pub clock_resolution_ns: f64,
    /// Time spent warming up before sampling.
    pub warmup_ns: f64,
    /// Timed time of all samples together.
    pub total_time_ns: f64,
    /// True when the CI target was met on a stationary series; false when a cap stopped it first.
    pub converged: bool,
    /// Relative half-width of the median's CI asked for (0.01 = ±1%).
    pub ci_target: f64,
    /// Set when the samples drifted (their level moved during sampling), with the reason. The
    /// measurement stays `ok`, its CI spans the drift, and comparisons of it say so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unstable: Option<String>,
}

/// One op at one parameter point on one backend, measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Measurement {
    /// `<suite>/<op>/<backend>/<dtype>/<k=v,…>`, params sorted by key; what comparisons join on.
    pub id: String,
    /// The op, e.g. `add`, `gemm`.
    pub op: String,
    /// Kernel family or, for peers, the framework.
    pub backend: String,
    /// Where it ran, e.g. `cpu`, `cuda:0`.
    pub device: String,
    /// Element type.
    pub dtype: DType,
    /// The parameter point.
    pub params: BTreeMap<String, serde_json::Value>,
    /// Threads the kernel used.
    pub threads: usize,
    /// Hot or cold caches.
    pub mode: CacheMode,
    /// Floating-point operations of one iteration.
    pub flops: f64,
    /// Minimal bytes one iteration must move to and from memory.
    pub bytes: f64,
    /// Per-iteration time of each sample (sample time / `iters_per_sample`).
    #[serde(default)]
    pub samples_ns: Vec<f64>,
    /// Iterations timed together in one sample.
    pub iters_per_sample: u64,
    /// Summary statistics of `samples_ns`; absent unless timed.
    pub stats: Option<Stats>,
    /// Rates at the median time.
    pub throughput: Option<Throughput>,
    /// Placement under the run's ceilings; absent without probes.
    pub roofline: Option<Roofline>,
    /// The check of the output against the reference.
    pub validation: Option<Validation>,
    /// Heap allocations per iteration; absent without the counting allocator.
    pub alloc: Option<AllocCounts>,
    /// How sampling went.
    pub sampling: Option<SamplingInfo>,
    /// Energy per op from a hardware counter, or why there is none (absent in files written
    /// before energy was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub energy: Option<Energy>,
    /// `ok`, `invalid`, `failed` or `skipped`.
    pub status: Status,
    /// Why it is not `ok`: the error, the failed check, or why it was skipped.
    pub reason: Option<String>,
    /// Extra, backend-specific fields (e.g. `ranks`, `busbw_gbps`, the SM clock).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Measurement {
    /// A measurement of `spec` with nothing measured yet (status `skipped` until filled).
    pub fn blank(spec: &WorkloadSpec, mode: CacheMode) -> Self {
        Self {
            id: spec.id.clone(),
            op: spec.op.clone(),
            backend: spec.backend.clone(),
            device: spec.device.clone(),
            dtype: spec.dtype,
            params: spec.params.clone(),
            threads: spec.threads,
            mode,
            flops: spec.flops,
            bytes: spec.bytes,
            samples_ns: Vec::new(),
            iters_per_sample: 0,
            stats: None,
            throughput: None,
            roofline: None,
            validation: None,
            alloc: None,
            sampling: None,
            energy: None,
            status: Status::Skipped,
            reason: None,
            extra: footprint_extra(spec.placement_bytes()),
        }
    }

    /// A `skipped` measurement with its reason, for what cannot be measured here.
    pub fn skipped(spec: &WorkloadSpec, mode: CacheMode, reason: impl Into<String>) -> Self {
        Self {
            reason: Some(reason.into()),
            ..Self::blank(spec, mode)
        }
    }
}

/// Cache sizes in bytes; `None` where the machine does not say.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Caches {
    /// L1 data cache bytes.
    pub l1d: Option<u64>,
    /// L2 cache bytes.
    pub l2: Option<u64>,
    /// L3 cache bytes.
    pub l3: Option<u64>,
}

/// A GPU found while registering a suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GpuInfo {
    /// Adapter or device name.
    pub name: String,
    /// The API it was found through (`cuda`, `wgpu/vulkan`, ...).
    pub backend: String,
    /// The kind of device as the API reports it (`DiscreteGpu`, `IntegratedGpu`, ...).
    pub device_type: Option<String>,
    /// Driver name and version, if reported.
    pub driver: Option<String>,
    /// Further facts the backend reports.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// The machine a run was measured on. Unknown fields are `null`, never guessed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Machine {
    /// Host name.
    pub hostname: Option<String>,
    /// CPU brand string.
    pub cpu_model: Option<String>,
    /// Architecture, e.g. `x86_64`.
    pub arch: String,
    /// Physical cores.
    pub physical_cores: Option<usize>,
    /// Logical cores (hardware threads) available to the process.
    pub logical_cores: usize,
    /// Cache sizes.
    pub caches: Caches,
    /// SIMD features detected at run time.
    pub features: Vec<String>,
    /// Total memory in bytes.
    pub memory_bytes: Option<u64>,
    /// Operating system and version.
    pub os: Option<String>,
    /// Kernel version.
    pub kernel: Option<String>,
    /// Version of the rustc that built the suite.
    pub rustc: Option<String>,
    /// CPU frequency governor of cpu0.
    pub governor: Option<String>,
    /// One-minute load average when the machine was read.
    pub load_avg_1m: Option<f64>,
    /// GPUs found by the suite.
    #[serde(default)]
    pub gpus: Vec<GpuInfo>,
}

/// The git checkout a suite ran in; all `None` outside one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GitInfo {
    /// `HEAD` commit hash.
    pub commit: Option<String>,
    /// Whether tracked files had uncommitted changes.
    pub dirty: Option<bool>,
    /// Branch name.
    pub branch: Option<String>,
}

/// How far a run got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Still being written (stream only).
    Running,
    /// Finished normally.
    Complete,
    /// Stopped early (signal, or a stream without its `end` record).
    Interrupted,
}

/// Ceilings measured in this run by the roofline probes, keyed by device (`cpu`, `cuda:0`, ...)
/// and then by name (`stream_triad_gbps`, `fma_gflops`, ...).
pub type Peaks = BTreeMap<String, BTreeMap<String, f64>>;

/// A whole run: who, where, how, and every measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Run {
    /// Schema version of the file; readers refuse others.
    pub schema_version: u32,
    /// `YYYY-MM-DDTHH-MM-SSZ-<target>-<6 hex>`: sorts by time, unique per process.
    pub run_id: String,
    /// The suite that ran, e.g. `cpu`.
    pub target: String,
    /// The `--profile` it ran with.
    pub profile: String,
    /// The command line, as typed.
    pub command: String,
    /// Start time, RFC 3339, UTC.
    pub started_at: String,
    /// End time, RFC 3339, UTC; `None` while running.
    pub finished_at: Option<String>,
    /// Running, complete or interrupted.
    pub status: RunStatus,
    /// The checkout the suite ran in.
    pub git: GitInfo,
    /// The machine it ran on.
    pub machine: Machine,
    /// Build profile of the suite binary (`bench`, `release`, `debug`).
    pub build_profile: String,
    /// The sampler configuration, threads, filter, seed and what the target adds.
    pub config: serde_json::Value,
    /// Ceilings measured by this run's probes.
    pub peaks: Peaks,
    /// Every measurement, in run order.
    pub measurements: Vec<Measurement>,
}

impl Run {
    /// The measurement with this id, if present.
    pub fn get(&self, id: &str) -> Option<&Measurement> {
        self.measurements.iter().find(|m| m.id == id)
    }
}

/// The footprint that places the measurement in a memory level (its working set where it
/// declares one; absent when unknown).
fn footprint_extra(bytes: u64) -> BTreeMap<String, serde_json::Value> {
    let mut extra = BTreeMap::new();
    if bytes > 0 {
        extra.insert(crate::roofline::FOOTPRINT_KEY.to_string(), bytes.into());
    }
    extra
}
