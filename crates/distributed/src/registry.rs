//! What a distributed run measures, per profile and back-end.

use crate::clock::MpiDevice;
use crate::collectives::{self, Collective};
use crate::comm::Layout;
use crate::compress::{Compression, GradAllReduce};
use crate::dp::{DpStep, Method, Scaling};
use crate::mpi_collective::MpiCollective;
use crate::nccl;
use std::sync::Arc;
use tensorbench_core::suite::Suite;
use tensorbench_core::{DType, Device, Workload, WorkloadSpec};
use tensorbench_ops::{Profile, param};

/// A back-end the suite can run collectives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// MPI on host buffers.
    Mpi,
    /// NCCL on GPU buffers, one process per GPU (needs the `nccl` feature, GPUs and libnccl).
    Nccl,
}

/// One registered measurement: a workload and the device it runs on, or a spec with the reason
/// it cannot run here.
pub enum Entry {
    Run(Arc<dyn Device>, Box<dyn Workload>),
    Skip { spec: WorkloadSpec, reason: String },
}

impl Entry {
    pub fn spec(&self) -> &WorkloadSpec {
        match self {
            Entry::Run(_, w) => w.spec(),
            Entry::Skip { spec, .. } => spec,
        }
    }

    /// Adds this entry to `suite`.
    pub fn register(self, suite: &mut Suite) {
        match self {
            Entry::Run(device, w) => {
                suite.on(device).add_boxed(w);
            }
            Entry::Skip { spec, reason } => suite.add_skipped(spec, reason),
        }
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Entry::Run(_, w) => write!(f, "Run({})", w.spec().id),
            Entry::Skip { spec, reason } => write!(f, "Skip({}: {reason})", spec.id),
        }
    }
}

/// Every measurement of a run, in the order they run; identical on every rank. Collective
/// (the NCCL probe agrees across ranks).
pub fn entries(profile: Profile, layout: &Layout, backends: &[Backend]) -> Vec<Entry> {
    let sizes = collectives::sizes(profile);
    let mpi: Arc<dyn Device> = Arc::new(MpiDevice);
    let mut entries = Vec::new();
    if backends.contains(&Backend::Mpi) {
        for op in Collective::ALL {
            for &bytes in &sizes {
                entries.push(mpi_collective(op, bytes, layout, &mpi));
            }
        }
        for scaling in [Scaling::Strong, Scaling::Weak] {
            for method in [Method::Mpi, Method::Ring, Method::ParameterServer] {
                let w = DpStep::new(scaling, method, layout);
                entries.push(Entry::Run(mpi.clone(), Box::new(w)));
            }
        }
        for method in Compression::ALL {
            let w = GradAllReduce::new(method, layout);
            entries.push(Entry::Run(mpi.clone(), Box::new(w)));
        }
    }
    if backends.contains(&Backend::Nccl) {
        entries.extend(nccl::register(&sizes, layout));
    }
    entries
}

fn mpi_collective(op: Collective, bytes: usize, layout: &Layout, mpi: &Arc<dyn Device>) -> Entry {
    match op.count(bytes, 4, layout.size) {
        0 => Entry::Skip {
            spec: WorkloadSpec::new("distributed", op.name(), "mpi", DType::F32)
                .param(param::BYTES, bytes)
                .param("ranks", layout.size),
            reason: format!(
                "{bytes} B holds less than one f32 per rank at {} ranks (nccl-tests sizes {} in blocks of one per rank)",
                layout.size,
                op.name()
            ),
        },
        count => Entry::Run(mpi.clone(), Box::new(MpiCollective::new(op, count, layout))),
    }
}
