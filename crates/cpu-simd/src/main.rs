//! `tensorbench-cpu`: the CPU suite binary. Probes, then every registered CPU workload, through
//! the one sampler; the run file goes to `--out`.

use std::process::ExitCode;
use tensorbench_core::alloc::CountingAllocator;
use tensorbench_core::suite::{self, Suite, SuiteOptions};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn main() -> ExitCode {
    suite::main("cpu", |suite: &mut Suite, opts: &SuiteOptions| {
        configure_threads(opts.threads());
        tensorbench_cpu_simd::register(suite, opts);
    })
}

/// Sizes rayon's global pool (used by the `rayon` backend and the `gemm` peer) and
/// matrixmultiply's threads to `--threads`, once, before any workload runs.
fn configure_threads(threads: usize) {
    if let Err(e) = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
    {
        eprintln!("warning: could not size the rayon pool to {threads} threads: {e}");
    }
    // SAFETY: called on the main thread before any other thread of this process is started.
    unsafe { std::env::set_var("MATMUL_NUM_THREADS", threads.to_string()) };
}
