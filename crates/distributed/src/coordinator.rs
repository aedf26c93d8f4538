//! How MPI ranks agree: rank 0 writes the run file and prints; every decision that could make
//! ranks take different paths (skip, stop, fit, seed) is agreed over `MPI_COMM_WORLD`; a rank
//! that panics aborts the whole job naming itself; after each workload the ranks check that they
//! came out of the sampler alike.

use crate::comm::{self, Layout};
use crate::watchdog;
use std::collections::BTreeMap;
use tensorbench_core::Coordinator;
use tensorbench_core::sampler::SamplerConfig;
use tensorbench_core::schema::Measurement;

/// The ranks of one `mpirun`.
#[derive(Debug, Clone)]
pub struct MpiCoordinator {
    pub layout: Layout,
}

impl Coordinator for MpiCoordinator {
    fn is_writer(&self) -> bool {
        self.layout.rank == 0
    }

    fn broadcast(&self, value: u64) -> u64 {
        comm::broadcast_u64(value)
    }

    fn all(&self, value: bool) -> bool {
        comm::all_true(value)
    }

    fn configure(&self, config: &mut SamplerConfig) {
        // Every rank must stop sampling at the same sample: only the max-reduced clock may
        // decide, and wall time differs per rank.
        config.wall_time_cap = false;
    }

    fn run_config(&self) -> BTreeMap<String, serde_json::Value> {
        BTreeMap::from([
            ("threads".to_string(), 1.into()),
            ("ranks".to_string(), self.layout.size.into()),
            ("rank_hosts".to_string(), self.layout.hosts.clone().into()),
        ])
    }

    fn begin(&self, id: &str) {
        watchdog::begin(id);
    }

    fn panicked(&self, id: &str, message: &str) {
        comm::abort_job(&format!(
            "{} failed in workload {id}: {message}; aborting the job",
            self.layout.who()
        ));
    }

    fn measured(&self, m: &mut Measurement) {
        check_ranks_agree(m, &self.layout);
        m.extra.insert("ranks".into(), self.layout.size.into());
        m.extra
            .insert("rank_hosts".into(), self.layout.hosts.clone().into());
        m.extra
            .entry("rank_devices".into())
            .or_insert_with(|| vec![m.device.clone(); self.layout.size].into());
    }
}

/// Aborts when ranks came out of the sampler differently: that would mean they diverged.
fn check_ranks_agree(m: &Measurement, layout: &Layout) {
    let status = m.status as u64;
    let fingerprint = (m.samples_ns.len() as u64) << 8 | status;
    let (lo, hi) = comm::min_max_u64(fingerprint);
    if lo != hi {
        comm::abort_job(&format!(
            "{}: ranks disagree on workload {} (samples/status differ across ranks); aborting",
            layout.who(),
            m.id
        ));
    }
}
