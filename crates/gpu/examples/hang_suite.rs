//! TEST FIXTURE, not a benchmark: a small wgpu suite binary that xtask's supervision test runs as
//! a real child, to check that a hung GPU workload is stopped at its cap, recorded `failed`, and
//! the run resumed after it.
//!
//! Real WGSL kernels on the adapter wgpu finds (lavapipe in CI), on a [`WgpuDevice`], in run order:
//! `gpu/add/…/n=4096`, `gpu/mul/…/n=4096` (with `TENSORBENCH_FIXTURE_HANG=1` its `execute` never returns: a
//! hung submission that never looks at signals; with `=abort` it aborts the process, with `=segv`
//! it faults: a crashing driver), `gpu/relu/…/n=4096`, `gpu/sum/…/n=4096`.
//! Without an adapter it prints why and exits with [`NO_ADAPTER`], which tests read as a skip.
//!
//! ```text
//! cargo run -p tensorbench-gpu --features wgpu --example hang_suite -- --out /tmp/hang --events
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tensorbench_core::schema::Validation;
use tensorbench_core::suite::{self, Suite};
use tensorbench_core::{Result, Workload, WorkloadSpec};
use tensorbench_gpu::catalog::kernel_spec;
use tensorbench_gpu::problem::{BinaryOp, Kernel, Shape, UnaryOp};
use tensorbench_gpu::wgpu_backend::context::WgpuContext;
use tensorbench_gpu::wgpu_backend::device::{Timing, WgpuDevice};
use tensorbench_gpu::wgpu_backend::{self, kernel::KernelWorkload};

/// The environment variable that hangs or crashes the `mul` kernel.
const HANG_VAR: &str = "TENSORBENCH_FIXTURE_HANG";
/// Exit code without any wgpu adapter (automake's "skipped").
const NO_ADAPTER: u8 = 77;
const N: usize = 4096;

/// What the `mul` kernel does before it submits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    /// Stalls forever.
    Hang,
    /// Aborts the process (SIGABRT).
    Abort,
    /// Faults on a null write (SIGSEGV).
    Segv,
}

impl Fault {
    fn from_env() -> Self {
        match std::env::var(HANG_VAR).as_deref() {
            Ok("1") => Self::Hang,
            Ok("abort") => Self::Abort,
            Ok("segv") => Self::Segv,
            _ => Self::None,
        }
    }
}

/// A real kernel whose `execute` can be made to stall forever or crash before it submits.
struct Stalling {
    kernel: KernelWorkload,
    fault: Fault,
}

impl Workload for Stalling {
    fn execute(&mut self) {
        match self.fault {
            Fault::None => {}
            Fault::Hang => loop {
                std::thread::sleep(Duration::from_secs(3600));
            },
            Fault::Abort => std::process::abort(),
            Fault::Segv => {
                // A real fault, as in core's selftest_suite: std's handler lets it kill us.
                // SAFETY: none; this fixture exists to crash its process on purpose.
                unsafe { std::ptr::null_mut::<u8>().write_volatile(1) };
                unreachable!("the write above faults");
            }
        }
        self.kernel.execute();
    }
    fn spec(&self) -> &WorkloadSpec {
        self.kernel.spec()
    }
    fn sync(&mut self) -> Result<()> {
        self.kernel.sync()
    }
    fn prepare(&mut self, seed: u64) -> Result<()> {
        self.kernel.prepare(seed)
    }
    fn validate(&mut self) -> Result<Validation> {
        self.kernel.validate()
    }
}

fn kernel(ctx: &Arc<WgpuContext>, k: Kernel) -> KernelWorkload {
    let shape = Shape::Flat(N);
    KernelWorkload::new(
        kernel_spec(k, shape, "wgpu", "wgpu:0"),
        ctx.clone(),
        k,
        shape,
    )
}

fn register(suite: &mut Suite, ctx: &Arc<WgpuContext>, fault: Fault) {
    suite.add_gpu(ctx.gpu_info());
    let mut on = suite.on(Arc::new(WgpuDevice {
        ctx: ctx.clone(),
        timing: Timing::Device,
    }));
    on.add(kernel(ctx, Kernel::Binary(BinaryOp::Add)));
    on.add(Stalling {
        kernel: kernel(ctx, Kernel::Binary(BinaryOp::Mul)),
        fault,
    });
    on.add(kernel(ctx, Kernel::Unary(UnaryOp::Relu)));
    on.add(kernel(ctx, Kernel::Sum));
}

fn main() -> ExitCode {
    let ctx = match wgpu_backend::open() {
        Ok(ctx) => ctx,
        Err(reason) => {
            eprintln!("no wgpu adapter: {reason}");
            return ExitCode::from(NO_ADAPTER);
        }
    };
    let fault = Fault::from_env();
    suite::main("gpu", move |suite, _| register(suite, &ctx, fault))
}
