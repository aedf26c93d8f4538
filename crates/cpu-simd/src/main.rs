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
    matmul_threads_from_env(threads);
    if let Err(e) = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
    {
        eprintln!("warning: could not size the rayon pool to {threads} threads: {e}");
    }
}

/// matrixmultiply reads its thread count only from `MATMUL_NUM_THREADS`, and `set_var` is
/// unsound once other threads exist (the signal handler's already does). So when the variable
/// does not say `threads`, this process re-executes itself with it set: `exec` replaces every
/// thread, and the new process reads the variable it was started with.
fn matmul_threads_from_env(threads: usize) {
    use std::os::unix::process::CommandExt as _;
    const VAR: &str = "MATMUL_NUM_THREADS";
    let wanted = threads.to_string();
    if std::env::var(VAR).is_ok_and(|v| v == wanted) {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return eprintln!("warning: {VAR} not set: cannot find this executable");
    };
    let err = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(VAR, &wanted)
        .exec();
    eprintln!("warning: {VAR} not set: re-executing failed: {err}");
}
