//! Fault injection for the integration tests, and nothing else: `TENSORBENCH_DIST_FAIL_RANK=R`
//! makes rank R panic in the first workload it runs (`R:hang` makes it stop responding instead),
//! so the tests can check that a failing or hung rank fails the whole run with a message naming
//! it. Unset, nothing changes.

use tensorbench_core::schema::{Measurement, Validation};
use tensorbench_core::{Result, Workload, WorkloadSpec};

/// The environment variable the tests set.
pub const FAIL_RANK_VAR: &str = "TENSORBENCH_DIST_FAIL_RANK";

/// What the injected fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Panic,
    Hang,
}

/// The fault asked for this rank, if any.
pub fn fault_for(rank: usize) -> Option<Fault> {
    parse(&std::env::var(FAIL_RANK_VAR).ok()?, rank)
}

fn parse(value: &str, rank: usize) -> Option<Fault> {
    let (target, mode) = value.split_once(':').unwrap_or((value, "panic"));
    (target.trim().parse::<usize>().ok()? == rank).then_some(match mode {
        "hang" => Fault::Hang,
        _ => Fault::Panic,
    })
}

/// Wraps `inner` so that the first `execute` on this rank of any workload sharing `armed` fails
/// as `fault` says: the first workload that runs after `--filter`, whichever it is.
pub struct Faulty {
    pub inner: Box<dyn Workload>,
    pub fault: Fault,
    pub armed: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Workload for Faulty {
    fn spec(&self) -> &WorkloadSpec {
        self.inner.spec()
    }
    fn prepare(&mut self, seed: u64) -> Result<()> {
        self.inner.prepare(seed)
    }
    fn execute(&mut self) {
        if !self.armed.swap(false, std::sync::atomic::Ordering::SeqCst) {
            return self.inner.execute();
        }
        match self.fault {
            Fault::Panic => panic!("injected failure ({FAIL_RANK_VAR})"),
            Fault::Hang => loop {
                std::thread::sleep(std::time::Duration::from_secs(1));
            },
        }
    }
    fn validate(&mut self) -> Result<Validation> {
        self.inner.validate()
    }
    fn annotate(&mut self, m: &mut Measurement) {
        self.inner.annotate(m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_named_rank_fails() {
        assert_eq!(parse("1", 1), Some(Fault::Panic));
        assert_eq!(parse("1", 0), None);
        assert_eq!(parse("2:hang", 2), Some(Fault::Hang));
        assert_eq!(parse("x", 0), None);
    }
}
