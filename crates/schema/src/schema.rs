//! The run-file schema: what every target writes and what analysis and report read.
//! `docs/RESULTS.md` documents each field; bump [`SCHEMA_VERSION`] on any incompatible change.

use crate::spec::WorkloadSpec;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the run-file schema written by this build.
pub const SCHEMA_VERSION: u32 = 1;

/// Element type of a workload's tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    F64,
    F32,
    F16,
    Bf16,
    I32,
    I8,
    U8,
}

impl DType {
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockSource {
    Host,
    CudaEvent,
    WgpuTimestamp,
    PerformanceNow,
    MpiWtime,
    /// A scripted clock, used by tests of the sampler only.
    Fake,
}

/// Hot: caches warm from the previous iteration. Cold: caches flushed before every sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheMode {
    #[default]
    Hot,
    Cold,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutlierCounts {
    pub low_severe: usize,
    pub low_mild: usize,
    pub high_mild: usize,
    pub high_severe: usize,
}

/// How a median's confidence interval was formed (see `docs/METHODOLOGY.md`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub median_ns: f64,
    /// Distribution-free confidence interval of the median, robust to serial dependence.
    pub ci_low_ns: f64,
    pub ci_high_ns: f64,
    /// The level the interval has: the one asked for, or lower when `ci_method` is `range`.
    pub confidence: f64,
    #[serde(default)]
    pub ci_method: CiMethod,
    /// Independent samples worth as much as these (n over the dependence's variance inflation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_samples: Option<f64>,
    pub mean_ns: f64,
    pub std_ns: f64,
    pub mad_ns: f64,
    pub min_ns: f64,
    pub max_ns: f64,
    pub p05_ns: f64,
    pub p95_ns: f64,
    pub outliers: OutlierCounts,
}

/// Energy read from a hardware counter (RAPL, NVML) around the timed batches. When no counter
/// can be read, only `unavailable` is set: no figure is ever estimated.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Energy {
    /// The counter read, e.g. `rapl:package-0+dram`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joules_per_iter: Option<f64>,
    /// Mean power over the timed batches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watts: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gflops_per_joule: Option<f64>,
    /// Why there is no figure (no counter on this machine, permission, too short to resolve).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

impl Energy {
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Self {
            unavailable: Some(reason.into()),
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    pub gflops: Option<f64>,
    pub gbps: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bound {
    Memory,
    Compute,
}

/// Where a measurement stands against the ceilings measured in the same run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Roofline {
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Validation {
    pub max_rel_err: f64,
    pub tolerance: f64,
    pub passed: bool,
    /// What the output was checked against, e.g. `f64 scalar reference`.
    pub reference: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocCounts {
    /// Heap allocations per iteration of the timed body.
    pub count: u64,
    pub bytes: u64,
}

/// How the sampler ended for this measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplingInfo {
    pub clock_source: ClockSource,
    pub clock_resolution_ns: f64,
    pub warmup_ns: f64,
    pub total_time_ns: f64,
    /// True when the CI target was met on a stationary series; false when a cap stopped it first.
    pub converged: bool,
    pub ci_target: f64,
    /// Set when the samples drifted (their level moved during sampling), with the reason. The
    /// measurement stays `ok`, its CI spans the drift, and comparisons of it say so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unstable: Option<String>,
}

/// One op at one parameter point on one backend, measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub id: String,
    pub op: String,
    pub backend: String,
    pub device: String,
    pub dtype: DType,
    pub params: BTreeMap<String, serde_json::Value>,
    pub threads: usize,
    pub mode: CacheMode,
    /// Floating-point operations of one iteration.
    pub flops: f64,
    /// Minimal bytes one iteration must move to and from memory.
    pub bytes: f64,
    #[serde(default)]
    pub samples_ns: Vec<f64>,
    pub iters_per_sample: u64,
    pub stats: Option<Stats>,
    pub throughput: Option<Throughput>,
    pub roofline: Option<Roofline>,
    pub validation: Option<Validation>,
    pub alloc: Option<AllocCounts>,
    pub sampling: Option<SamplingInfo>,
    /// Energy per op from a hardware counter, or why there is none (absent in files written
    /// before energy was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub energy: Option<Energy>,
    pub status: Status,
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
            extra: footprint_extra(spec.footprint_bytes),
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

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Caches {
    pub l1d: Option<u64>,
    pub l2: Option<u64>,
    pub l3: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuInfo {
    pub name: String,
    pub backend: String,
    pub device_type: Option<String>,
    pub driver: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// The machine a run was measured on. Unknown fields are `null`, never guessed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub hostname: Option<String>,
    pub cpu_model: Option<String>,
    pub arch: String,
    pub physical_cores: Option<usize>,
    pub logical_cores: usize,
    pub caches: Caches,
    pub features: Vec<String>,
    pub memory_bytes: Option<u64>,
    pub os: Option<String>,
    pub kernel: Option<String>,
    pub rustc: Option<String>,
    pub governor: Option<String>,
    pub load_avg_1m: Option<f64>,
    #[serde(default)]
    pub gpus: Vec<GpuInfo>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GitInfo {
    pub commit: Option<String>,
    pub dirty: Option<bool>,
    pub branch: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Running,
    Complete,
    Interrupted,
}

/// Ceilings measured in this run by the roofline probes, keyed by device (`cpu`, `cuda:0`, ...)
/// and then by name (`stream_triad_gbps`, `fma_gflops`, ...).
pub type Peaks = BTreeMap<String, BTreeMap<String, f64>>;

/// A whole run: who, where, how, and every measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub schema_version: u32,
    pub run_id: String,
    pub target: String,
    pub profile: String,
    pub command: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: RunStatus,
    pub git: GitInfo,
    pub machine: Machine,
    /// Build profile of the suite binary (`bench`, `release`, `debug`).
    pub build_profile: String,
    pub config: serde_json::Value,
    pub peaks: Peaks,
    pub measurements: Vec<Measurement>,
}

impl Run {
    /// The measurement with this id, if present.
    pub fn get(&self, id: &str) -> Option<&Measurement> {
        self.measurements.iter().find(|m| m.id == id)
    }
}

/// The footprint, for placing the measurement in a memory level (absent when unknown).
fn footprint_extra(bytes: u64) -> BTreeMap<String, serde_json::Value> {
    let mut extra = BTreeMap::new();
    if bytes > 0 {
        extra.insert(crate::roofline::FOOTPRINT_KEY.to_string(), bytes.into());
    }
    extra
}
