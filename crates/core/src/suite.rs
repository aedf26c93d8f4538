//! What a suite binary registers: workloads on their devices, probes, batches for remote
//! executors, and the few things a target adds to the run. The one driver ([`main`], [`run_suite`])
//! runs it. A suite binary is a few lines:
//!
//! ```no_run
//! use tensorbench_core::suite::{self, Suite, SuiteOptions};
//! fn register(suite: &mut Suite, opts: &SuiteOptions) { /* suite.add(...) */ }
//! fn main() -> std::process::ExitCode { suite::main("my-target", register) }
//! ```

use crate::closure::FnWorkload;
use crate::device::{Device, HostCpu};
use crate::remote::Executor;
use crate::schema::{GpuInfo, Measurement, Run, Validation};
use crate::workload::{Unavailable, Workload, WorkloadSpec};
use std::collections::BTreeMap;
use std::sync::Arc;

pub use crate::driver::{SuiteError, main, main_with, measure_isolated, run_suite};
pub use crate::error::panic_message;
pub use crate::options::{SuiteOptions, exit, profile_parser};

/// What a probe's result contributes to the run's peaks.
#[derive(Clone)]
pub enum Ceiling {
    /// Publishes the measured GB/s under this key; the best one becomes `bandwidth_gbps`.
    Bandwidth(&'static str),
    /// Publishes the measured GFLOP/s under this key; the best one of each type becomes its
    /// compute ceiling (`compute_gflops` for f32, `compute_gflops_<dtype>` for others), also
    /// under its thread count (`compute_gflops_t1`).
    Compute(&'static str),
    /// The probe's own rule (per-level bandwidths from a working-set sweep, say): given its
    /// measurement and the device's peaks so far, the peaks to publish.
    Derived(Arc<DeriveCeiling>),
}

/// The rule of a [`Ceiling::Derived`] probe.
pub type DeriveCeiling =
    dyn Fn(&Measurement, &BTreeMap<String, f64>) -> BTreeMap<String, f64> + Send + Sync;

impl std::fmt::Debug for Ceiling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ceiling::Bandwidth(k) => write!(f, "Bandwidth({k:?})"),
            Ceiling::Compute(k) => write!(f, "Compute({k:?})"),
            Ceiling::Derived(_) => f.write_str("Derived"),
        }
    }
}

/// Where an entry is measured.
pub(crate) enum Runner {
    /// In this process, by the sampler, on a device.
    Local {
        device: Arc<dyn Device>,
        workload: Box<dyn Workload>,
    },
    /// By the executor with this index in [`Suite::executors`].
    Remote(usize),
}

pub(crate) struct Entry {
    pub(crate) spec: WorkloadSpec,
    pub(crate) runner: Runner,
    pub(crate) ceiling: Option<Ceiling>,
}

type RecordHook = Box<dyn FnMut(&mut Measurement)>;
type FinishHook = Box<dyn FnOnce(&Run)>;

/// The registered workloads of one target. Probes run first so every later measurement can be
/// placed on the roofline.
#[derive(Default)]
pub struct Suite {
    pub(crate) probes: Vec<Entry>,
    pub(crate) workloads: Vec<Entry>,
    pub(crate) executors: Vec<Box<dyn Executor>>,
    pub(crate) gpus: Vec<GpuInfo>,
    pub(crate) config: BTreeMap<String, serde_json::Value>,
    pub(crate) refused: Vec<(&'static str, String)>,
    pub(crate) on_record: Vec<RecordHook>,
    pub(crate) on_finish: Vec<FinishHook>,
}

impl std::fmt::Debug for Suite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Suite")
            .field("probes", &self.probes.len())
            .field("workloads", &self.workloads.len())
            .finish()
    }
}

/// Registers workloads on one device: `suite.on(device).add(workload)`.
pub struct OnDevice<'a> {
    suite: &'a mut Suite,
    device: Arc<dyn Device>,
}

impl OnDevice<'_> {
    /// A workload measured on this device.
    pub fn add(&mut self, w: impl Workload + 'static) -> &mut Self {
        self.add_boxed(Box::new(w))
    }

    /// A boxed workload measured on this device.
    pub fn add_boxed(&mut self, w: Box<dyn Workload>) -> &mut Self {
        let entry = local(self.device.clone(), w, None);
        self.suite.workloads.push(entry);
        self
    }

    /// The closure form on this device (see [`Suite::bench`]).
    pub fn bench<S: Send + 'static>(
        &mut self,
        spec: WorkloadSpec,
        setup: impl FnMut(u64) -> S + Send + 'static,
        run: impl FnMut(&mut S) + Send + 'static,
        check: impl FnMut(&S) -> Validation + Send + 'static,
    ) -> &mut Self {
        self.add(FnWorkload::new(spec, setup, run, check))
    }

    /// A roofline probe on this device: measured like any workload, its rate becomes a ceiling.
    pub fn add_probe(&mut self, w: Box<dyn Workload>, ceiling: Ceiling) -> &mut Self {
        let entry = local(self.device.clone(), w, Some(ceiling));
        self.suite.probes.push(entry);
        self
    }
}

fn local(device: Arc<dyn Device>, workload: Box<dyn Workload>, ceiling: Option<Ceiling>) -> Entry {
    Entry {
        spec: workload.spec().clone(),
        runner: Runner::Local { device, workload },
        ceiling,
    }
}

impl Suite {
    /// Registers on `device` what follows: `suite.on(device).add(w)`.
    pub fn on(&mut self, device: Arc<dyn Device>) -> OnDevice<'_> {
        OnDevice {
            suite: self,
            device,
        }
    }

    /// A workload on the host CPU.
    pub fn add(&mut self, w: impl Workload + 'static) {
        self.on(Arc::new(HostCpu)).add(w);
    }

    /// A workload on the host CPU in closure form: `setup(seed)` makes the inputs, `run` is the
    /// timed op, `check` validates its last output (see [`crate::closure`]).
    pub fn bench<S: Send + 'static>(
        &mut self,
        spec: WorkloadSpec,
        setup: impl FnMut(u64) -> S + Send + 'static,
        run: impl FnMut(&mut S) + Send + 'static,
        check: impl FnMut(&S) -> Validation + Send + 'static,
    ) {
        self.on(Arc::new(HostCpu)).bench(spec, setup, run, check);
    }

    /// A boxed workload on the host CPU.
    pub fn add_boxed(&mut self, w: Box<dyn Workload>) {
        self.on(Arc::new(HostCpu)).add_boxed(w);
    }

    /// A roofline probe on the host CPU.
    pub fn add_probe(&mut self, w: impl Workload + 'static, ceiling: Ceiling) {
        self.on(Arc::new(HostCpu)).add_probe(Box::new(w), ceiling);
    }

    /// A workload that cannot run here (no device, driver, library or build feature): listed and
    /// filtered like any other, and recorded as `skipped` with `reason`.
    pub fn add_skipped(&mut self, spec: WorkloadSpec, reason: impl Into<String>) {
        self.add(Unavailable::new(spec, reason));
    }

    /// Workloads measured by `executor` (a wasm runtime), in the order given; the driver hands
    /// consecutive ones over as one batch.
    pub fn add_remote(&mut self, executor: Box<dyn Executor>, specs: Vec<WorkloadSpec>) {
        let index = self.executors.len();
        self.executors.push(executor);
        self.workloads.extend(specs.into_iter().map(|spec| Entry {
            spec,
            runner: Runner::Remote(index),
            ceiling: None,
        }));
    }

    /// A GPU found while registering, recorded in the run's `machine.gpus`.
    pub fn add_gpu(&mut self, gpu: GpuInfo) {
        self.gpus.push(gpu);
    }

    /// A fact about this target's run for the run header's `config` (it overrides the driver's
    /// own key of that name, such as `threads`).
    pub fn config(&mut self, key: &str, value: impl Into<serde_json::Value>) {
        self.config.insert(key.to_string(), value.into());
    }

    /// Refuses the flag `--name` for this target, with the reason: given, it exits 2 with a
    /// message naming it, before anything runs. A flag is never silently ignored.
    pub fn refuse(&mut self, flag: &'static str, reason: impl Into<String>) {
        self.refused.push((flag, reason.into()));
    }

    /// Called with every measurement before it is recorded (to add figures relative to earlier
    /// measurements of the run).
    pub fn on_record(&mut self, hook: impl FnMut(&mut Measurement) + 'static) {
        self.on_record.push(Box::new(hook));
    }

    /// Called with the finished run (a target's own summary on stderr).
    pub fn on_finish(&mut self, hook: impl FnOnce(&Run) + 'static) {
        self.on_finish.push(Box::new(hook));
    }

    /// Every id, probes first, in run order.
    pub fn ids(&self) -> Vec<String> {
        self.probes
            .iter()
            .chain(&self.workloads)
            .map(|e| e.spec.id.clone())
            .collect()
    }

    /// Keeps the workloads whose id matches; probes stay. Errors when the pattern is invalid or
    /// matches no workload.
    pub(crate) fn retain_matching(&mut self, pattern: &str) -> Result<(), SuiteError> {
        let bad = SuiteError::BadInput;
        let re = regex::Regex::new(pattern).map_err(|e| {
            bad(format!(
                "--filter {pattern:?} is not a valid regular expression: {e}"
            ))
        })?;
        let total = self.workloads.len();
        self.workloads.retain(|e| re.is_match(&e.spec.id));
        if self.workloads.is_empty() {
            return Err(bad(format!(
                "--filter {pattern:?} matches none of the {total} workloads (list them with --list)"
            )));
        }
        Ok(())
    }
}
