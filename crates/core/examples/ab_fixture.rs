//! TEST FIXTURE, not a benchmark: a suite binary whose cost is known, so `cargo xtask ab` can be
//! tested end to end on two "builds" that differ by a known factor.
//!
//! Workloads: `abfix/sleep/steady/f32/n=…` ×2, whose `execute` sleeps 2 ms, and
//! `abfix/sleep/planted/f32/n=…` ×2, which sleep 2 ms × `TENSORBENCH_FIXTURE_FACTOR` (default 1). Sleeps,
//! not arithmetic, so a loaded test machine does not change the factor.
//!
//! ```text
//! TENSORBENCH_FIXTURE_FACTOR=1.5 cargo run -p tensorbench-core --example ab_fixture -- --list
//! ```

use std::process::ExitCode;
use std::time::Duration;
use tensorbench_core::prelude::*;

/// The factor the planted workloads' sleep is scaled by.
const FACTOR_VAR: &str = "TENSORBENCH_FIXTURE_FACTOR";

fn main() -> ExitCode {
    let factor: f64 = std::env::var(FACTOR_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    suite::main("abfix", |s, _| {
        for n in [16usize, 32] {
            register(s, "steady", n, Duration::from_millis(2));
            register(s, "planted", n, Duration::from_secs_f64(2e-3 * factor));
        }
    })
}

/// y = x + 1 over `n` elements, then a sleep of `pause`.
fn register(s: &mut Suite, backend: &str, n: usize, pause: Duration) {
    let spec = WorkloadSpec::new("abfix", "sleep", backend, DType::F32)
        .param("n", n)
        .cost(n as f64, 8.0 * n as f64);
    s.bench(
        spec,
        move |seed| (data::uniform_f32(n, seed), vec![0.0f32; n]),
        move |(x, y)| {
            y.iter_mut().zip(x.iter()).for_each(|(y, x)| *y = x + 1.0);
            std::thread::sleep(pause);
        },
        |(x, y)| {
            let reference: Vec<f64> = x.iter().map(|&v| f64::from(v) + 1.0).collect();
            validate_against(y, &reference, 1e-6, "f64 scalar")
        },
    );
}
