//! Data-parallel training: a real forward and backward pass of [`mlp::Shape::benchmark`] on each
//! rank's share of the batch, then the gradient summed over ranks — by the MPI library, by a ring,
//! or by a parameter server — and averaged. Strong scaling keeps the global batch fixed; weak
//! scaling keeps each rank's batch fixed.

use crate::comm::{self, Layout};
use crate::mlp::{self, Shape, Workspace};
use crate::reduce::{F32Wire, RingScratch, mpi_all_reduce, parameter_server, ring_all_reduce};
use tensorbench_core::data::{uniform_f32, uniform_f32_in};
use tensorbench_core::schema::{Measurement, Validation};
use tensorbench_core::workload::validate_against;
use tensorbench_core::{DType, Result, Workload, WorkloadSpec};

/// Global batch of the strong-scaling runs.
pub const STRONG_GLOBAL_BATCH: usize = 128;
/// Per-rank batch of the weak-scaling runs.
pub const WEAK_LOCAL_BATCH: usize = 32;

/// How the global batch grows with the rank count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scaling {
    Strong,
    Weak,
}

impl Scaling {
    pub fn name(self) -> &'static str {
        match self {
            Scaling::Strong => "strong",
            Scaling::Weak => "weak",
        }
    }

    /// Each rank's batch at `ranks` ranks.
    pub fn local_batch(self, ranks: usize) -> usize {
        match self {
            Scaling::Strong => (STRONG_GLOBAL_BATCH / ranks).max(1),
            Scaling::Weak => WEAK_LOCAL_BATCH,
        }
    }
}

/// How the gradient is summed over ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The library's `MPI_Allreduce`.
    Mpi,
    /// The hand-written ring of [`ring_all_reduce`], f32 on the wire.
    Ring,
    /// Reduce to rank 0, then broadcast.
    ParameterServer,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Mpi => "mpi_allreduce",
            Method::Ring => "ring",
            Method::ParameterServer => "parameter_server",
        }
    }
}

/// The network's initial parameters (identical on every rank, as a data-parallel job broadcasts
/// them): weights uniform in ±1/√fan_in, biases small.
pub fn init_params(shape: &Shape, seed: u64) -> Vec<f32> {
    let mut p = Vec::with_capacity(shape.param_count());
    for (l, w) in shape.0.windows(2).enumerate() {
        let (i, o) = (w[0], w[1]);
        let bound = 1.0 / (i as f32).sqrt();
        p.extend(uniform_f32_in(
            i * o,
            seed ^ ((l as u64) << 32),
            -bound,
            bound,
        ));
        p.extend(uniform_f32_in(o, seed ^ ((l as u64) << 32) ^ 1, -0.1, 0.1));
    }
    p
}

/// Rank `rank`'s inputs and targets: `batch` samples.
pub fn rank_batch(shape: &Shape, seed: u64, rank: usize, batch: usize) -> (Vec<f32>, Vec<f32>) {
    let base = seed ^ 0xD1B5_4A32_D192_ED03u64.wrapping_mul(rank as u64 + 1);
    (
        uniform_f32(batch * shape.input(), base),
        uniform_f32(batch * shape.output(), base ^ 0xFF),
    )
}

/// Mean over ranks of each rank's local-batch gradient, in f64: the gradient of the global batch.
fn reference_gradient(
    shape: &Shape,
    params: &[f32],
    seed: u64,
    ranks: usize,
    batch: usize,
) -> Vec<f64> {
    let p: Vec<f64> = params.iter().map(|&v| f64::from(v)).collect();
    let mut ws = Workspace::<f64>::new(shape, batch);
    let mut g = vec![0.0f64; p.len()];
    let mut mean = vec![0.0f64; p.len()];
    for r in 0..ranks {
        let (x, t) = rank_batch(shape, seed, r, batch);
        let x: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        let t: Vec<f64> = t.iter().map(|&v| f64::from(v)).collect();
        mlp::gradients(shape, &p, &x, &t, batch, &mut g, &mut ws);
        for (m, v) in mean.iter_mut().zip(&g) {
            *m += v / ranks as f64;
        }
    }
    mean
}

/// One data-parallel training step (forward, backward, gradient sum and average) per iteration.
#[derive(Debug)]
pub struct DpStep {
    spec: WorkloadSpec,
    shape: Shape,
    method: Method,
    ranks: usize,
    rank: usize,
    batch: usize,
    seed: u64,
    params: Vec<f32>,
    x: Vec<f32>,
    t: Vec<f32>,
    grads: Vec<f32>,
    reduced: Vec<f32>,
    ws: Workspace<f32>,
    ring: RingScratch<F32Wire>,
    compute_s: f64,
    comm_s: f64,
}

impl DpStep {
    pub fn new(scaling: Scaling, method: Method, layout: &Layout) -> Self {
        let shape = Shape::benchmark();
        let batch = scaling.local_batch(layout.size);
        let global = batch * layout.size;
        let spec = WorkloadSpec::new("distributed", "dp_step", "mpi", DType::F32)
            .param("scaling", scaling.name())
            .param("method", method.name())
            .param("ranks", layout.size)
            .param("global_batch", global)
            .cost(shape.step_flops(global), 0.0)
            .footprint((shape.param_count() * 16 * layout.local_size) as u64);
        Self {
            spec,
            shape,
            method,
            ranks: layout.size,
            rank: layout.rank,
            batch,
            seed: 0,
            params: Vec::new(),
            x: Vec::new(),
            t: Vec::new(),
            grads: Vec::new(),
            reduced: Vec::new(),
            ws: Workspace::default(),
            ring: RingScratch::default(),
            compute_s: 0.0,
            comm_s: 0.0,
        }
    }

    fn sum_gradient(&mut self) {
        match self.method {
            Method::Mpi => mpi_all_reduce(&self.grads, &mut self.reduced),
            Method::Ring => {
                self.reduced.copy_from_slice(&self.grads);
                ring_all_reduce(&mut self.reduced, &mut self.ring);
            }
            Method::ParameterServer => parameter_server(&self.grads, &mut self.reduced),
        }
        let inv = 1.0 / self.ranks as f32;
        for g in &mut self.reduced {
            *g *= inv;
        }
    }
}

impl Workload for DpStep {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }

    fn prepare(&mut self, seed: u64) -> Result<()> {
        self.seed = seed;
        self.params = init_params(&self.shape, seed);
        (self.x, self.t) = rank_batch(&self.shape, seed, self.rank, self.batch);
        self.grads = vec![0.0; self.params.len()];
        self.reduced = vec![0.0; self.params.len()];
        self.ws = Workspace::new(&self.shape, self.batch);
        comm::agree(Ok(()), &self.spec.id, "prepare")
    }

    fn execute(&mut self) {
        let t0 = mpi::time();
        mlp::gradients(
            &self.shape,
            &self.params,
            &self.x,
            &self.t,
            self.batch,
            &mut self.grads,
            &mut self.ws,
        );
        let t1 = mpi::time();
        self.sum_gradient();
        let t2 = mpi::time();
        self.compute_s += t1 - t0;
        self.comm_s += t2 - t1;
    }

    fn validate(&mut self) -> Result<Validation> {
        let reference =
            reference_gradient(&self.shape, &self.params, self.seed, self.ranks, self.batch);
        let local = validate_against(
            &self.reduced,
            &reference,
            1e-3,
            "f64 forward/backward of every rank's batch, averaged",
        );
        let worst = comm::max_f64(local.max_rel_err);
        Ok(Validation {
            max_rel_err: worst,
            passed: worst <= local.tolerance,
            ..local
        })
    }

    fn annotate(&mut self, m: &mut Measurement) {
        let total = self.compute_s + self.comm_s;
        let share = if total > 0.0 {
            self.comm_s / total
        } else {
            0.0
        };
        m.extra.insert(
            "comm_share".into(),
            (comm::sum_f64(share) / self.ranks as f64).into(),
        );
        m.extra
            .insert("comm_share_max".into(), comm::max_f64(share).into());
        m.extra.insert("local_batch".into(), self.batch.into());
        m.extra
            .insert("parameters".into(), self.params.len().into());
        m.extra
            .insert("gradient_bytes".into(), (self.params.len() * 4).into());
    }
}
