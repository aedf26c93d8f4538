//! The collectives over MPI on host buffers, one workload per (operation, size).

use crate::check::{check_output, validation};
use crate::collectives::{Collective, bandwidths};
use crate::comm::{self, Layout};
use crate::pattern;
use mpi::collective::SystemOperation;
use mpi::traits::*;
use tensorbench_core::schema::{Measurement, Validation};
use tensorbench_core::{DType, Result, Workload, WorkloadSpec};

/// One collective at one size on `MPI_COMM_WORLD`, f32, on CPU buffers.
#[derive(Debug)]
pub struct MpiCollective {
    spec: WorkloadSpec,
    op: Collective,
    /// Elements of the nccl-tests size.
    count: usize,
    ranks: usize,
    rank: usize,
    seed: u64,
    send: Vec<f32>,
    recv: Vec<f32>,
    wrong: u64,
}

impl MpiCollective {
    /// `count` elements (from [`Collective::count`]; must be non-zero).
    pub fn new(op: Collective, count: usize, layout: &Layout) -> Self {
        let bytes = count * 4;
        let (send, recv) = op.buffer_lens(count, layout.size);
        let spec = WorkloadSpec::new("distributed", op.name(), "mpi", DType::F32)
            .param(tensorbench_ops::param::BYTES, bytes)
            .param("ranks", layout.size)
            .cost(0.0, bytes as f64)
            .footprint(((send + recv) * 4 * layout.local_size) as u64);
        Self {
            spec,
            op,
            count,
            ranks: layout.size,
            rank: layout.rank,
            seed: 0,
            send: Vec::new(),
            recv: Vec::new(),
            wrong: 0,
        }
    }

    fn output(&self) -> &[f32] {
        if self.op == Collective::Broadcast {
            &self.send
        } else {
            &self.recv
        }
    }
}

impl Workload for MpiCollective {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }

    fn prepare(&mut self, seed: u64) -> Result<()> {
        let (send_len, recv_len) = self.op.buffer_lens(self.count, self.ranks);
        self.seed = seed;
        self.send = vec![f32::NAN; send_len];
        // Broadcast's non-root buffers start as NaN, so data that never arrives counts as wrong.
        if self.op != Collective::Broadcast || self.rank == 0 {
            pattern::fill(&mut self.send, seed, self.rank, 0);
        }
        self.recv = vec![f32::NAN; recv_len];
        comm::agree(Ok(()), &self.spec.id, "prepare")
    }

    fn execute(&mut self) {
        let world = comm::world();
        let root = world.process_at_rank(0);
        let sum = SystemOperation::sum();
        match self.op {
            Collective::AllReduce => world.all_reduce_into(&self.send[..], &mut self.recv[..], sum),
            Collective::AllGather => world.all_gather_into(&self.send[..], &mut self.recv[..]),
            Collective::ReduceScatter => {
                world.reduce_scatter_block_into(&self.send[..], &mut self.recv[..], sum)
            }
            Collective::Broadcast => root.broadcast_into(&mut self.send[..]),
            Collective::Reduce if self.rank == 0 => {
                root.reduce_into_root(&self.send[..], &mut self.recv[..], sum)
            }
            Collective::Reduce => root.reduce_into(&self.send[..], sum),
            Collective::AllToAll => world.all_to_all_into(&self.send[..], &mut self.recv[..]),
        }
    }

    fn validate(&mut self) -> Result<Validation> {
        let local = check_output(
            self.op,
            self.seed,
            self.ranks,
            self.rank,
            self.count,
            self.output(),
        );
        self.wrong = comm::sum_u64(local.wrong);
        Ok(validation(self.wrong, comm::max_f64(local.max_rel_err)))
    }

    fn annotate(&mut self, m: &mut Measurement) {
        annotate_collective(m, self.op, self.ranks, self.wrong);
    }
}

/// Adds `wrong`, `algbw_gbps` and `busbw_gbps` (from the median time, the max over ranks).
pub fn annotate_collective(m: &mut Measurement, op: Collective, ranks: usize, wrong: u64) {
    m.extra.insert("wrong".into(), wrong.into());
    if let Some(stats) = &m.stats {
        let (alg, bus) = bandwidths(op, m.bytes, stats.median_ns * 1e-9, ranks);
        m.extra.insert("algbw_gbps".into(), alg.into());
        m.extra.insert("busbw_gbps".into(), bus.into());
    }
}
