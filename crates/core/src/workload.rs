//! What a benchmark is: one op at one parameter point, with its inputs, its cost model (FLOPs and
//! minimal bytes) and a check of its output against a higher-precision reference.

use crate::Result;
use crate::schema::{Measurement, Validation};
use std::collections::BTreeMap;

/// The static description of a workload; it lives in tensorbench-schema (run files and events
/// carry it) and is re-exported here at its old path.
pub use tensorbench_schema::spec::WorkloadSpec;

/// One benchmark. The sampler drives it as: `prepare` → `execute` + `sync` → `validate` → timed
/// batches of `execute` between a clock's `start` and `stop`. The clock, energy counter and cache
/// flush come from the [`Device`](crate::device::Device) it is registered on.
///
/// Implementations must not time anything themselves: the one sampler does.
pub trait Workload: Send {
    /// What this workload is: id, op, parameters, cost model.
    fn spec(&self) -> &WorkloadSpec;

    /// Allocate and fill the inputs from `seed` (fresh random data each run).
    fn prepare(&mut self, seed: u64) -> Result<()>;

    /// Run the op once. Must not allocate on the heap in steady state where the op itself does not.
    fn execute(&mut self);

    /// Wait for work issued by `execute` to finish (device backends); a no-op on the host.
    fn sync(&mut self) -> Result<()> {
        Ok(())
    }

    /// Check the output of the last `execute` against a higher-precision reference.
    fn validate(&mut self) -> Result<Validation>;

    /// Inputs and outputs of the last `execute`, for cross-checking peers (NumPy, PyTorch, ...) on
    /// identical data (`--dump-tensors`). Empty when the workload does not take part.
    fn tensors(&self) -> Vec<NamedTensor> {
        Vec::new()
    }

    /// Why this workload cannot run on this machine (no device, driver, library or build
    /// feature), if so. The sampler then records it as `skipped` with this reason and calls
    /// nothing else on it.
    fn unavailable(&self) -> Option<String> {
        None
    }

    /// Backend-specific facts to record in the measurement's `extra` (device name, driver, ...).
    fn extra(&self) -> BTreeMap<String, serde_json::Value> {
        BTreeMap::new()
    }

    /// Frees what `prepare` allocated, so that the driver may keep the workload after its turn
    /// and measure it again (a probe whose ceiling a result beat is measured once more at the
    /// end of the run). `true` once freed. The default frees nothing and says `false`; the
    /// driver then drops the workload after its turn and never measures it again.
    fn release(&mut self) -> bool {
        false
    }

    /// Adds what was measured beside time to the finished measurement (bandwidths of a
    /// collective, wrong elements, ...). Called once after the sampler, whatever the status; under
    /// MPI on every rank in the same order, so it may be collective.
    fn annotate(&mut self, _m: &mut Measurement) {}
}

/// A workload that cannot run here: listed and filtered like any other, recorded as `skipped`
/// with its reason (see [`crate::suite::Suite::add_skipped`]).
#[derive(Debug)]
pub(crate) struct Unavailable {
    spec: WorkloadSpec,
    reason: String,
}

impl Unavailable {
    pub(crate) fn new(spec: WorkloadSpec, reason: impl Into<String>) -> Self {
        Self {
            spec,
            reason: reason.into(),
        }
    }
}

impl Workload for Unavailable {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, _seed: u64) -> Result<()> {
        Err(crate::Error::workload(&self.spec.id, &self.reason))
    }
    fn execute(&mut self) {}
    fn validate(&mut self) -> Result<Validation> {
        Err(crate::Error::workload(&self.spec.id, &self.reason))
    }
    fn unavailable(&self) -> Option<String> {
        Some(self.reason.clone())
    }
}

/// Whether a dumped tensor was given to the op or produced by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TensorRole {
    /// Given to the op.
    Input,
    /// Produced by the op.
    Output,
}

/// A copy of one of a workload's tensors, row-major f32 (other dtypes are converted to f32).
#[derive(Debug, Clone, PartialEq)]
pub struct NamedTensor {
    /// The tensor's name, also its file name (`<name>.f32`).
    pub name: String,
    /// Input or output.
    pub role: TensorRole,
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// The values, row-major.
    pub data: Vec<f32>,
}

impl NamedTensor {
    /// A copy of an input tensor.
    pub fn input(name: &str, shape: &[usize], data: &[f32]) -> Self {
        Self::new(name, TensorRole::Input, shape, data)
    }
    /// A copy of an output tensor.
    pub fn output(name: &str, shape: &[usize], data: &[f32]) -> Self {
        Self::new(name, TensorRole::Output, shape, data)
    }
    fn new(name: &str, role: TensorRole, shape: &[usize], data: &[f32]) -> Self {
        Self {
            name: name.to_string(),
            role,
            shape: shape.to_vec(),
            data: data.to_vec(),
        }
    }
}

/// Evicts the host caches before a cold sample by *reading* a separate buffer 1.5x the
/// last-level cache, in parallel on every logical core (one chunk on the calling thread, so the
/// core a single-threaded op runs on is always swept).
///
/// Why this way: on non-inclusive L3s (Intel since Skylake-SP, AMD) a sweep from one core leaves
/// the other cores' L2 warm, so every core an op may use sweeps its own share; the sweep only
/// reads, so it leaves no dirty lines whose write-back the op would pay for (the op's own dirty
/// lines are written back during the sweep, outside the timed window).
#[derive(Debug)]
pub struct CacheFlusher {
    buf: Vec<u64>,
    threads: usize,
}

/// Least bytes each thread sweeps: more than any core's private L2.
const FLUSH_PER_THREAD: u64 = 4 << 20;

impl CacheFlusher {
    pub(crate) fn new(llc_bytes: u64) -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let bytes = (llc_bytes.max(1 << 20) / 2 * 3).max(FLUSH_PER_THREAD * threads as u64);
        // Written once so that real pages back it: untouched zero pages all map to one page.
        let buf = (0..bytes / 8).map(|i| i | 1).collect();
        Self { buf, threads }
    }

    /// Bytes read by one flush.
    pub fn bytes(&self) -> u64 {
        self.buf.len() as u64 * 8
    }

    /// Reads the whole buffer once, spread over every logical core.
    pub fn flush(&mut self) {
        let chunk = self.buf.len().div_ceil(self.threads).max(1);
        let mut parts = self.buf.chunks(chunk);
        let own = parts.next();
        std::thread::scope(|scope| {
            for part in parts {
                scope.spawn(move || sweep(part));
            }
            if let Some(part) = own {
                sweep(part);
            }
        });
    }
}

/// Reads one word per 64-byte line.
fn sweep(words: &[u64]) {
    let sum = words
        .iter()
        .step_by(8)
        .fold(0u64, |acc, &w| acc.wrapping_add(w));
    std::hint::black_box(sum);
}

/// Largest relative error of `got` against an f64 reference, with a floor on the denominator so
/// values near zero are judged by absolute error relative to the output's scale.
pub fn max_rel_err<T: Copy + Into<f64>>(got: &[T], reference: &[f64]) -> f64 {
    if got.len() != reference.len() {
        return f64::INFINITY;
    }
    let scale = reference
        .iter()
        .fold(0.0f64, |m, r| m.max(r.abs()))
        .max(1e-30);
    let floor = scale * 1e-3;
    got.iter()
        .zip(reference)
        .map(|(&g, &r)| {
            let g: f64 = g.into();
            if g.is_nan() != r.is_nan() {
                f64::INFINITY
            } else if g.is_nan() || g == r {
                0.0
            } else {
                (g - r).abs() / r.abs().max(floor)
            }
        })
        .fold(0.0, f64::max)
}

/// Compares `got` with `reference` and builds the [`Validation`] record.
pub fn validate_against<T: Copy + Into<f64>>(
    got: &[T],
    reference: &[f64],
    tolerance: f64,
    what: &str,
) -> Validation {
    let err = max_rel_err(got, reference);
    Validation {
        max_rel_err: err,
        tolerance,
        passed: err <= tolerance,
        reference: what.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flusher_reads_a_real_buffer_on_every_core() {
        let mut f = CacheFlusher::new(8 << 20);
        assert!(f.bytes() >= 12 << 20);
        assert!(f.buf.iter().all(|&w| w != 0));
        let before = f.buf.clone();
        f.flush();
        // Read-only: the sweep leaves no dirty lines.
        assert_eq!(f.buf, before);
    }

    #[test]
    fn rel_err_catches_one_wrong_element() {
        let r = vec![1.0f64; 100];
        let mut g = vec![1.0f32; 100];
        assert_eq!(max_rel_err(&g, &r), 0.0);
        g[99] = 1.01;
        let e = max_rel_err(&g, &r);
        assert!(e > 0.009 && e < 0.011, "{e}");
        assert!(!validate_against(&g, &r, 1e-5, "f64").passed);
        assert_eq!(max_rel_err(&g[..99], &r), f64::INFINITY);
        g[0] = f32::NAN;
        assert_eq!(max_rel_err(&g, &r), f64::INFINITY);
    }
}
