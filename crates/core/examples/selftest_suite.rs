//! TEST FIXTURE, not a benchmark: a tiny suite binary the reliability tests run as a real child
//! process, to kill it, interrupt it, run two at once or let xtask stop a hung workload.
//!
//! Workloads, in run order:
//! - `selftest/add_one/fast/f32/n=…` ×3: every `execute` sleeps 1 ms, which bounds the sample
//!   count (so a debug build on a loaded machine still finishes each in under a second);
//! - `selftest/hang/fixture/f32/n=16`: fast, except with `TENSORBENCH_FIXTURE_HANG=1` its
//!   `execute` sleeps forever (a hung kernel that never looks at signals), with `=abort` it
//!   aborts the process and with `=segv` the process gets SIGSEGV (a crashing kernel);
//! - `selftest/add_one/slow/f32/n=…` ×3: every `execute` sleeps 100 ms, so each takes about a
//!   second: slow enough to be signalled mid-run, fast enough for tests.
//!
//! ```text
//! cargo run -p tensorbench-core --example selftest_suite -- --out /tmp/selftest --no-probes
//! ```

use std::process::ExitCode;
use std::time::Duration;
use tensorbench_core::schema::Validation;
use tensorbench_core::suite::{self, Suite, SuiteOptions};
use tensorbench_core::workload::validate_against;
use tensorbench_core::{DType, Result, Workload, WorkloadSpec, data};

/// The environment variable that turns the `hang` workload into a hung kernel.
const HANG_VAR: &str = "TENSORBENCH_FIXTURE_HANG";

/// How `execute` behaves besides computing y = x + 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pace {
    /// Sleeps this long per call.
    Sleep(Duration),
    /// Never returns.
    Hang,
    /// Takes the whole process down: `abort` (SIGABRT) or `segv` (a null write, SIGSEGV).
    Crash(&'static str),
}

/// y = x + 1 over `n` f32 elements, validated against f64.
struct AddOne {
    spec: WorkloadSpec,
    pace: Pace,
    x: Vec<f32>,
    y: Vec<f32>,
}

impl AddOne {
    fn new(op: &str, backend: &str, n: usize, pace: Pace) -> Self {
        let spec = WorkloadSpec::new("selftest", op, backend, DType::F32)
            .param("n", n)
            .cost(n as f64, 8.0 * n as f64)
            .footprint(8 * n as u64);
        Self {
            spec,
            pace,
            x: Vec::new(),
            y: Vec::new(),
        }
    }
}

impl Workload for AddOne {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }

    fn prepare(&mut self, seed: u64) -> Result<()> {
        self.x = data::uniform_f32(self.x_len(), seed);
        self.y = vec![0.0; self.x.len()];
        Ok(())
    }

    fn execute(&mut self) {
        match self.pace {
            Pace::Sleep(d) => std::thread::sleep(d),
            Pace::Hang => loop {
                std::thread::sleep(Duration::from_secs(3600));
            },
            Pace::Crash("abort") => std::process::abort(),
            Pace::Crash(_) => {
                // A real fault, as a broken kernel makes one: a SIGSEGV sent with `kill` would
                // be swallowed by std's stack-overflow handler, which only re-faults.
                // SAFETY: none; this fixture exists to crash its process on purpose.
                unsafe { std::ptr::null_mut::<u8>().write_volatile(1) };
                unreachable!("the write above faults");
            }
        }
        for (y, x) in self.y.iter_mut().zip(&self.x) {
            *y = x + 1.0;
        }
    }

    fn validate(&mut self) -> Result<Validation> {
        let reference: Vec<f64> = self.x.iter().map(|&x| f64::from(x) + 1.0).collect();
        Ok(validate_against(&self.y, &reference, 1e-6, "f64 scalar"))
    }
}

impl AddOne {
    fn x_len(&self) -> usize {
        self.spec.params["n"].as_u64().unwrap_or(0) as usize
    }
}

fn register(suite: &mut Suite, _opts: &SuiteOptions) {
    let fast = Pace::Sleep(Duration::from_millis(1));
    for n in [256, 512, 1024] {
        suite.add(AddOne::new("add_one", "fast", n, fast));
    }
    let hang = match std::env::var(HANG_VAR).as_deref() {
        Ok("1") => Pace::Hang,
        Ok("abort") => Pace::Crash("abort"),
        Ok("segv") => Pace::Crash("segv"),
        _ => fast,
    };
    suite.add(AddOne::new("hang", "fixture", 16, hang));
    for n in [16, 32, 64] {
        let pace = Pace::Sleep(Duration::from_millis(100));
        suite.add(AddOne::new("add_one", "slow", n, pace));
    }
}

fn main() -> ExitCode {
    suite::main("selftest", register)
}
