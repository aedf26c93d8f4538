//! TEST FIXTURE, not a benchmark: the distributed suite exactly as `tensorbench-distributed` runs
//! it (same flags, registration and driver, under `mpirun`), with faults injected for the tests.
//! The product binary reads none of these variables.
//!
//! - `TENSORBENCH_FIXTURE_FAIL_RANK=R`: rank R panics in the first workload it runs (`R:hang`: it stops
//!   responding instead), so a test can check that one bad rank fails the whole run, named;
//! - `TENSORBENCH_FIXTURE_HANG_ID=ID`: workload ID never returns from `execute`, on every rank, so a
//!   test can check that xtask's `--timeout` stops it and resumes the run after it;
//!   `ID:abort` or `ID:segv`: the last rank aborts (SIGABRT) or faults (SIGSEGV) in ID instead, so
//!   a test can check that a crashed rank is recorded `failed` and the run resumed after it.
//!
//! ```text
//! cargo build -p tensorbench-distributed --example fault_suite
//! TENSORBENCH_FIXTURE_FAIL_RANK=1 mpirun -np 2 -x TENSORBENCH_FIXTURE_FAIL_RANK target/debug/examples/fault_suite --out /tmp/f
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tensorbench_core::schema::{Measurement, Validation};
use tensorbench_core::workload::NamedTensor;
use tensorbench_core::{Result, Workload, WorkloadSpec};
use tensorbench_distributed::comm::Layout;

const FAIL_RANK_VAR: &str = "TENSORBENCH_FIXTURE_FAIL_RANK";
const HANG_ID_VAR: &str = "TENSORBENCH_FIXTURE_HANG_ID";

/// What the injected fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Panic,
    Hang,
    Abort,
    Segv,
}

/// The workload `TENSORBENCH_FIXTURE_HANG_ID` names and what it does there on `rank` of `size`:
/// `ID` hangs on every rank; `ID:abort` and `ID:segv` crash the last rank only, so the others
/// wait in the collective until mpirun stops them.
fn id_fault(value: &str, rank: usize, size: usize) -> (&str, Option<Fault>) {
    let crash = match value.rsplit_once(':') {
        Some((id, "abort")) => Some((id, Fault::Abort)),
        Some((id, "segv")) => Some((id, Fault::Segv)),
        _ => None,
    };
    match crash {
        Some((id, fault)) => (id, (rank + 1 == size).then_some(fault)),
        None => (value, Some(Fault::Hang)),
    }
}

/// The fault `TENSORBENCH_FIXTURE_FAIL_RANK` asks of `rank`, if any.
fn rank_fault(value: &str, rank: usize) -> Option<Fault> {
    let (target, mode) = value.split_once(':').unwrap_or((value, "panic"));
    (target.trim().parse::<usize>().ok()? == rank).then_some(match mode {
        "hang" => Fault::Hang,
        _ => Fault::Panic,
    })
}

/// `inner`, except that the first `execute` of any workload sharing `armed` fails as `fault`
/// says; every other call passes through.
struct Faulty {
    inner: Box<dyn Workload>,
    fault: Fault,
    armed: Arc<AtomicBool>,
}

impl Workload for Faulty {
    fn spec(&self) -> &WorkloadSpec {
        self.inner.spec()
    }
    fn prepare(&mut self, seed: u64) -> Result<()> {
        self.inner.prepare(seed)
    }
    fn execute(&mut self) {
        if !self.armed.swap(false, Ordering::SeqCst) {
            return self.inner.execute();
        }
        match self.fault {
            Fault::Panic => panic!("injected failure ({FAIL_RANK_VAR})"),
            // A hung kernel: it never looks at signals or the watchdog.
            Fault::Hang => loop {
                std::thread::sleep(Duration::from_secs(1));
            },
            Fault::Abort => {
                crash_pause();
                std::process::abort()
            }
            Fault::Segv => {
                crash_pause();
                // A real fault, as in core's selftest_suite: std's handler lets it kill us.
                // SAFETY: none; this fixture exists to crash its process on purpose.
                unsafe { std::ptr::null_mut::<u8>().write_volatile(1) };
                unreachable!("the write above faults");
            }
        }
    }
    fn sync(&mut self) -> Result<()> {
        self.inner.sync()
    }
    fn validate(&mut self) -> Result<Validation> {
        self.inner.validate()
    }
    fn tensors(&self) -> Vec<NamedTensor> {
        self.inner.tensors()
    }
    fn unavailable(&self) -> Option<String> {
        self.inner.unavailable()
    }
    fn extra(&self) -> std::collections::BTreeMap<String, serde_json::Value> {
        self.inner.extra()
    }
    fn annotate(&mut self, m: &mut Measurement) {
        self.inner.annotate(m);
    }
}

/// A moment before a crash, as a crash mid-kernel has: rank 0's start event for the workload
/// reaches xtask before mpirun tears the job down.
fn crash_pause() {
    std::thread::sleep(Duration::from_millis(300));
}

fn main() -> ExitCode {
    let fail_rank = std::env::var(FAIL_RANK_VAR).ok();
    let hang_id = std::env::var(HANG_ID_VAR).ok();
    // One switch for the whole rank: only the first workload it runs after `--filter` fails.
    let first = Arc::new(AtomicBool::new(true));
    tensorbench_distributed::suite::main_with_wrapper(move |layout: &Layout, inner| {
        let by_id = hang_id
            .as_deref()
            .map(|v| id_fault(v, layout.rank, layout.size))
            .filter(|(id, _)| *id == inner.spec().id);
        let (fault, armed) = if let Some((_, fault)) = by_id {
            let Some(fault) = fault else { return inner };
            (fault, Arc::new(AtomicBool::new(true)))
        } else if let Some(f) = fail_rank
            .as_deref()
            .and_then(|v| rank_fault(v, layout.rank))
        {
            (f, first.clone())
        } else {
            return inner;
        };
        Box::new(Faulty {
            inner,
            fault,
            armed,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_named_rank_fails() {
        assert_eq!(rank_fault("1", 1), Some(Fault::Panic));
        assert_eq!(rank_fault("1", 0), None);
        assert_eq!(rank_fault("2:hang", 2), Some(Fault::Hang));
        assert_eq!(rank_fault("x", 0), None);
    }

    #[test]
    fn an_id_hangs_everywhere_or_crashes_the_last_rank() {
        assert_eq!(id_fault("a/b", 0, 2), ("a/b", Some(Fault::Hang)));
        assert_eq!(id_fault("a/b:abort", 1, 2), ("a/b", Some(Fault::Abort)));
        assert_eq!(id_fault("a/b:segv", 1, 2), ("a/b", Some(Fault::Segv)));
        assert_eq!(id_fault("a/b:segv", 0, 2), ("a/b", None));
        assert_eq!(id_fault("a:b", 0, 2), ("a:b", Some(Fault::Hang)));
    }
}
