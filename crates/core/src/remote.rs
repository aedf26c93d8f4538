//! Measurements made outside this process's sampler: a wasm runtime runs the sampler inside a
//! module and hands the measurements back. The driver gives an [`Executor`] a batch of
//! consecutive specs and records, announces and resumes them one by one, like any other.

use crate::schema::{CacheMode, Measurement};
use crate::workload::WorkloadSpec;
use std::collections::BTreeMap;
use std::ops::ControlFlow;

/// What the driver tells an executor about the run.
#[derive(Debug, Clone)]
pub struct Batch<'a> {
    /// The specs to measure, in order.
    pub specs: &'a [WorkloadSpec],
    /// The input seed of each spec, as the driver derives it for local workloads.
    pub seeds: &'a [u64],
    /// The run's `--profile` name (`quick`, `standard`, `full`).
    pub profile: &'a str,
    /// Hot or cold caches, as the run's `--cold` asks.
    pub mode: CacheMode,
}

/// Runs batches of workloads somewhere else (a JavaScript engine, an embedded runtime).
pub trait Executor: Send {
    /// Gets ready (builds the module, finds the runtime). Called once, only when the run selects
    /// one of its workloads, before the run file is opened. The facts returned go into the run
    /// header's `config`; an error is the reason every one of its workloads is `skipped`.
    fn prepare(&mut self) -> crate::Result<BTreeMap<String, serde_json::Value>>;

    /// Measures `batch.specs` in order, handing each measurement to `record` as soon as it is
    /// finished, and stops early when `record` breaks (the run was interrupted). An error is the
    /// reason the workloads it did not hand back are `failed`.
    fn run(
        &mut self,
        batch: &Batch<'_>,
        record: &mut dyn FnMut(Measurement) -> ControlFlow<()>,
    ) -> crate::Result<()>;
}
