//! Inside the module, whichever ABI exports it: the clock over the embedder's `now`, the suite
//! (the sampler runs in here) and the one-shot kernel outputs for the tests. Requests and
//! replies are the JSON of `js/harness.mjs`.

use crate::ops::{self, Flavor, KernelWorkload, Op, Point};
use serde::{Deserialize, Serialize};
use tensorbench_core::device::MeterResult;
use tensorbench_core::schema::{Measurement, Peaks};
use tensorbench_core::{
    Clock, ClockSource, Device, Error, Result, Sampler, SamplerConfig, Workload,
};
use tensorbench_cpu_simd::kernels::simd::Kernels;
use tensorbench_ops::Profile;

/// The embedder's clock: milliseconds from an arbitrary origin, monotonic.
pub(crate) type Now = fn() -> f64;

/// The `Clock` of this target: `performance.now()` in JavaScript engines, the host's monotonic
/// clock imported into wasmtime. Its resolution depends on the embedder (Node: sub-microsecond;
/// a browser coarsens it unless the page is cross-origin isolated).
struct ModuleClock {
    now: Now,
    source: ClockSource,
    started: Option<f64>,
    resolution_ns: f64,
}

impl ModuleClock {
    fn new(now: Now, source: ClockSource) -> Self {
        Self {
            now,
            source,
            started: None,
            resolution_ns: resolution_ns(now),
        }
    }
}

/// The median smallest non-zero step between successive readings.
fn resolution_ns(now: Now) -> f64 {
    let mut steps: Vec<f64> = (0..101)
        .map(|_| {
            let a = now();
            let mut b = now();
            while b == a {
                b = now();
            }
            (b - a) * 1e6
        })
        .collect();
    steps.sort_by(f64::total_cmp);
    steps[steps.len() / 2].max(1.0)
}

impl Clock for ModuleClock {
    fn source(&self) -> ClockSource {
        self.source
    }
    fn resolution_ns(&self) -> f64 {
        self.resolution_ns
    }
    fn start(&mut self) -> Result<()> {
        self.started = Some((self.now)());
        Ok(())
    }
    fn stop(&mut self) -> Result<f64> {
        let started = self
            .started
            .take()
            .ok_or_else(|| tensorbench_core::Error::Clock {
                clock: "module clock".into(),
                reason: "stop() without start()".into(),
            })?;
        Ok(((self.now)() - started) * 1e6)
    }
}

/// This module's device: the embedder's clock, and no energy counter (none is readable from
/// inside a wasm module).
struct ModuleDevice {
    now: Now,
    source: ClockSource,
}

impl Device for ModuleDevice {
    fn clock(&self) -> Result<Box<dyn Clock>> {
        Ok(Box::new(ModuleClock::new(self.now, self.source)))
    }
    fn energy_meter(&self) -> MeterResult {
        Err(Error::unavailable(
            "energy counter",
            "no energy counter is readable from inside a wasm module",
        ))
    }
}

/// The backend name of this build.
pub(crate) fn backend() -> &'static str {
    if cfg!(target_feature = "simd128") {
        "wasm-simd128"
    } else {
        "wasm-scalar"
    }
}

/// What the host asks the module to run.
#[derive(Debug, Deserialize)]
struct SuiteRequest {
    /// Parsed by [`Profile`]'s `FromStr`, so a bad name gets its message.
    profile: String,
    seed: u64,
    /// The runtime's name, which goes into every id.
    runtime: String,
    /// Ids to run (the host applied `--filter`); all of the profile when absent.
    ids: Option<Vec<String>>,
    /// The input seed of each of `ids`, as the host's driver derives them.
    seeds: Option<Vec<u64>>,
}

impl SuiteRequest {
    /// The seed of workload `id` (at `index` in the catalog), or `None` when not asked for.
    fn seed_of(&self, id: &str, index: usize) -> Option<u64> {
        let Some(ids) = &self.ids else {
            return Some(self.seed.wrapping_add(index as u64 * 0x9E37_79B9));
        };
        let at = ids.iter().position(|i| i == id)?;
        let derived = self.seed.wrapping_add(index as u64 * 0x9E37_79B9);
        Some(
            self.seeds
                .as_ref()
                .and_then(|s| s.get(at).copied())
                .unwrap_or(derived),
        )
    }
}

#[derive(Debug, Serialize)]
struct SuiteReply {
    backend: &'static str,
    measurements: Vec<Measurement>,
    /// Linear memory after the run: it only grows, so this is the high-water mark.
    memory_bytes: u64,
}

fn error(message: String) -> String {
    serde_json::json!({ "error": message }).to_string()
}

/// Runs the profile's workloads through the sampler; returns `{backend, measurements,
/// memory_bytes}` as JSON, or `{error}` when the request is not understood.
pub(crate) fn run_suite(request: &str, now: Now, source: ClockSource) -> String {
    let req: SuiteRequest = match serde_json::from_str(request) {
        Ok(r) => r,
        Err(e) => return error(format!("bad request: {e}")),
    };
    let profile: Profile = match req.profile.parse() {
        Ok(p) => p,
        Err(e) => return error(e.to_string()),
    };
    let mut sampler = Sampler::new(SamplerConfig::profile(profile), 0);
    let device = ModuleDevice { now, source };
    let mut measurements = Vec::new();
    for (index, point) in ops::catalog(profile).into_iter().enumerate() {
        let flavor = Flavor::Simd(Kernels::best());
        let mut w = KernelWorkload::new(point, flavor, backend(), Some(&req.runtime));
        let Some(seed) = req.seed_of(&w.spec().id, index) else {
            continue;
        };
        measurements.push(sampler.measure_on(&device, &mut w, seed, &Peaks::new()));
    }
    let reply = SuiteReply {
        backend: backend(),
        measurements,
        memory_bytes: memory_bytes(),
    };
    serde_json::to_string(&reply).unwrap_or_else(|e| error(e.to_string()))
}

/// The output of one kernel call on the inputs of `seed`, for checks against a native reference.
pub(crate) fn kernel_output(op: &str, n: usize, seed: u32) -> Result<Vec<f64>> {
    let op: Op = serde_json::from_value(serde_json::Value::String(op.into()))
        .map_err(|_| Error::bad_input("op", format!("unknown op {op:?}")))?;
    ops::run_once(
        Point { op, n },
        Flavor::Simd(Kernels::best()),
        u64::from(seed),
    )
}

/// `{backend, isa}` of this build.
pub(crate) fn build_info() -> String {
    serde_json::json!({ "backend": backend(), "isa": Kernels::best().isa().name() }).to_string()
}

/// Bytes of linear memory now.
pub(crate) fn memory_bytes() -> u64 {
    (core::arch::wasm32::memory_size::<0>() * 65536) as u64
}
