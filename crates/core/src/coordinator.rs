//! How the processes of one run agree. The driver is the same whatever the coordinator: it asks
//! the coordinator before every decision that could make processes take different paths (which
//! workloads to skip, whether to stop, whether a workload fits), so processes that run in
//! lock-step (MPI ranks) never wait in a collective another process skipped.

use crate::sampler::SamplerConfig;
use crate::schema::Measurement;
use std::collections::BTreeMap;

/// One run's processes. The default methods describe a single process.
pub trait Coordinator {
    /// Whether this process writes the run file and prints events and messages.
    fn is_writer(&self) -> bool {
        true
    }

    /// The writer's `value`, on every process.
    fn broadcast(&self, value: u64) -> u64 {
        value
    }

    /// Whether `value` holds on every process.
    fn all(&self, value: bool) -> bool {
        value
    }

    /// Adjusts the sampler so every process takes the same decisions.
    fn configure(&self, _config: &mut SamplerConfig) {}

    /// Facts about the processes, for the run header's `config`.
    fn run_config(&self) -> BTreeMap<String, serde_json::Value> {
        BTreeMap::new()
    }

    /// A workload is about to start (a watchdog may count it as progress).
    fn begin(&self, _id: &str) {}

    /// A workload panicked in this process. A single process records it `failed` and goes on
    /// (the default); processes in lock-step cannot, and abort the whole job instead.
    fn panicked(&self, _id: &str, _message: &str) {}

    /// After every measurement, on every process: check the processes agree and add what
    /// describes them all (ranks, hosts).
    fn measured(&self, _m: &mut Measurement) {}
}

/// One process: the default.
#[derive(Debug, Clone, Copy, Default)]
pub struct SingleProcess;

impl Coordinator for SingleProcess {}
