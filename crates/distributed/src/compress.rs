//! Gradient compression, measured: the same gradient summed over ranks by a ring carrying f32, a
//! ring carrying f16, and top-k sparsification, each with the bytes it sends, its time and the
//! error it introduces against the exact sum.

use crate::comm::{self, Layout};
use crate::dp::{WEAK_LOCAL_BATCH, init_params, rank_batch};
use crate::mlp::{self, Shape, Workspace};
use crate::reduce::{F16Wire, F32Wire, RingScratch, TopK, Wire, ring_all_reduce, ring_reference};
use mpi::traits::*;
use tensorbench_core::schema::{Measurement, Validation};
use tensorbench_core::workload::max_rel_err;
use tensorbench_core::{DType, Result, Workload, WorkloadSpec};

/// Share of the gradient top-k keeps.
pub const TOP_K_FRACTION: f64 = 0.01;

/// How the gradient is compressed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// No compression: the ring with f32 on the wire, the baseline.
    None,
    /// The ring with f16 on the wire.
    F16,
    /// Each rank's 1% largest entries, all-gathered.
    TopK,
}

impl Compression {
    pub const ALL: [Compression; 3] = [Compression::None, Compression::F16, Compression::TopK];

    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "ring_f32",
            Compression::F16 => "ring_f16",
            Compression::TopK => "topk",
        }
    }
}

/// One compressed gradient sum per iteration, on a real gradient of the benchmark network.
#[derive(Debug)]
pub struct GradAllReduce {
    spec: WorkloadSpec,
    method: Compression,
    ranks: usize,
    rank: usize,
    local: Vec<f32>,
    out: Vec<f32>,
    /// What the method's own roundings give, exactly (checked bit for bit).
    expected: Vec<f32>,
    /// The exact sum in f64 (what compression is judged against).
    exact: Vec<f64>,
    ring16: RingScratch<F16Wire>,
    ring32: RingScratch<F32Wire>,
    topk: TopK,
    bytes_sent: u64,
}

impl GradAllReduce {
    pub fn new(method: Compression, layout: &Layout) -> Self {
        let elems = Shape::benchmark().param_count();
        let spec = WorkloadSpec::new("distributed", "grad_allreduce", "mpi", DType::F32)
            .param("method", method.name())
            .param("ranks", layout.size)
            .param("elems", elems)
            .cost(0.0, (elems * 4) as f64)
            .footprint((elems * 4 * (layout.size + 6) * layout.local_size) as u64);
        let k = (elems as f64 * TOP_K_FRACTION).ceil() as usize;
        Self {
            spec,
            method,
            ranks: layout.size,
            rank: layout.rank,
            local: Vec::new(),
            out: Vec::new(),
            expected: Vec::new(),
            exact: Vec::new(),
            ring16: RingScratch::default(),
            ring32: RingScratch::default(),
            topk: TopK::new(k),
            bytes_sent: 0,
        }
    }

    fn expected_sum(&mut self, inputs: &[Vec<f32>]) -> Vec<f32> {
        let len = inputs[0].len();
        match self.method {
            Compression::None => (0..len)
                .map(|i| ring_reference::<F32Wire>(inputs, i))
                .collect(),
            Compression::F16 => (0..len)
                .map(|i| ring_reference::<F16Wire>(inputs, i))
                .collect(),
            Compression::TopK => self.topk.reference(inputs),
        }
    }

    fn ring<W: Wire>(local: &[f32], out: &mut [f32], scratch: &mut RingScratch<W>) -> u64 {
        out.copy_from_slice(local);
        ring_all_reduce(out, scratch)
    }
}

/// Every rank's gradient of its own batch, gathered on every rank. Collective.
fn gather_gradients(local: &[f32], ranks: usize) -> Vec<Vec<f32>> {
    let mut all = vec![0.0f32; local.len() * ranks];
    comm::world().all_gather_into(local, &mut all[..]);
    all.chunks(local.len()).map(<[f32]>::to_vec).collect()
}

/// ‖got − exact‖₂ / ‖exact‖₂.
pub fn relative_l2_error(got: &[f32], exact: &[f64]) -> f64 {
    let (mut diff, mut norm) = (0.0f64, 0.0f64);
    for (&g, &e) in got.iter().zip(exact) {
        diff += (f64::from(g) - e).powi(2);
        norm += e * e;
    }
    if norm > 0.0 {
        (diff / norm).sqrt()
    } else {
        diff.sqrt()
    }
}

impl Workload for GradAllReduce {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }

    fn prepare(&mut self, seed: u64) -> Result<()> {
        let shape = Shape::benchmark();
        let params = init_params(&shape, seed);
        let (x, t) = rank_batch(&shape, seed, self.rank, WEAK_LOCAL_BATCH);
        self.local = vec![0.0; params.len()];
        let mut ws = Workspace::new(&shape, WEAK_LOCAL_BATCH);
        mlp::gradients(
            &shape,
            &params,
            &x,
            &t,
            WEAK_LOCAL_BATCH,
            &mut self.local,
            &mut ws,
        );
        let inputs = gather_gradients(&self.local, self.ranks);
        self.exact = (0..self.local.len())
            .map(|i| inputs.iter().map(|g| f64::from(g[i])).sum())
            .collect();
        self.expected = self.expected_sum(&inputs);
        self.out = vec![0.0; self.local.len()];
        comm::agree(Ok(()), &self.spec.id, "prepare")
    }

    fn execute(&mut self) {
        self.bytes_sent = match self.method {
            Compression::None => Self::ring(&self.local, &mut self.out, &mut self.ring32),
            Compression::F16 => Self::ring(&self.local, &mut self.out, &mut self.ring16),
            Compression::TopK => self.topk.all_reduce(&self.local, &mut self.out),
        };
    }

    fn validate(&mut self) -> Result<Validation> {
        let reference: Vec<f64> = self.expected.iter().map(|&v| f64::from(v)).collect();
        let err = comm::max_f64(max_rel_err(&self.out, &reference));
        Ok(Validation {
            max_rel_err: err,
            tolerance: 0.0,
            passed: err == 0.0,
            reference: format!(
                "{} replayed in f64 with the same roundings, bit for bit",
                self.method.name()
            ),
        })
    }

    fn annotate(&mut self, m: &mut Measurement) {
        let sent = comm::max_f64(self.bytes_sent as f64);
        let dense = ring_bytes(self.out.len(), self.ranks);
        m.extra.insert("bytes_sent_per_rank".into(), sent.into());
        m.extra
            .insert("uncompressed_ring_bytes_per_rank".into(), dense.into());
        m.extra.insert(
            "compression_rel_err".into(),
            relative_l2_error(&self.out, &self.exact).into(),
        );
        if self.method == Compression::TopK {
            m.extra.insert("k".into(), self.topk.k.into());
        }
    }
}

/// Bytes each rank sends in an f32 ring over `len` elements: 2(n−1) chunks of about len/n.
fn ring_bytes(len: usize, ranks: usize) -> f64 {
    2.0 * (ranks as f64 - 1.0) / ranks as f64 * (len * 4) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l2_error_is_relative() {
        assert_eq!(relative_l2_error(&[1.0, 0.0], &[1.0, 0.0]), 0.0);
        let e = relative_l2_error(&[3.0, 0.0], &[4.0, 0.0]);
        assert!((e - 0.25).abs() < 1e-12);
    }
}
