//! The wgpu backend: WGSL kernels on any adapter wgpu finds (Vulkan, Metal, DX12, GL), timed
//! with timestamp queries where the adapter has them.

pub mod clock;
pub mod context;
pub mod device;
pub mod elementwise;
pub mod kernel;
pub mod matmul;
pub mod mlp;
pub mod rows;
pub mod sum;
pub mod transfer;
pub mod transpose;

use crate::catalog::{self, Backend, Point, Profile};
use crate::problem::Shape;
use context::WgpuContext;
use device::{Timing, WgpuDevice};
use kernel::KernelWorkload;
use std::sync::Arc;
use tensorbench_core::Device;
use tensorbench_core::suite::Suite;
use transfer::{DataWorkload, Movement};

/// wgpu exposes no energy counter, and the host's package counter does not describe work done
/// on a GPU.
const NO_ENERGY_COUNTER: &str = "wgpu exposes no energy counter (NVIDIA GPUs report energy \
     through the cuda backend's NVML counter)";

/// Opens the adapter, catching a panic from a broken driver as an error.
pub fn open() -> Result<Arc<WgpuContext>, crate::Error> {
    std::panic::catch_unwind(WgpuContext::open).unwrap_or_else(|_| {
        Err(crate::Error::unavailable(
            "wgpu adapter",
            "wgpu panicked while opening the adapter",
        ))
    })
}

/// Registers every wgpu workload of `profile`, or all of them as `skipped` when no adapter opens.
pub fn register(suite: &mut Suite, profile: Profile) {
    let ctx = match open() {
        Ok(ctx) => ctx,
        Err(why) => {
            crate::skip_backend(suite, Backend::Wgpu, profile, &why.to_string());
            return;
        }
    };
    suite.add_gpu(ctx.gpu_info());
    let on = |timing| -> Arc<dyn Device> {
        Arc::new(WgpuDevice {
            ctx: ctx.clone(),
            timing,
        })
    };
    let (timed, staged) = (on(Timing::Device), on(Timing::SubmitWait));
    for e in catalog::entries(Backend::Wgpu, profile) {
        if let Some(reason) = too_large(&ctx, e.point) {
            suite.add_skipped(e.spec, reason);
            continue;
        }
        let ctx = ctx.clone();
        match (e.point, e.ceiling) {
            (Point::Kernel(kernel, shape), _) => {
                suite
                    .on(timed.clone())
                    .add(KernelWorkload::new(e.spec, ctx, kernel, shape));
            }
            (Point::Copy(n), Some(ceiling)) => {
                let w = DataWorkload::new(e.spec, ctx, Movement::DeviceCopy, n);
                suite.on(timed.clone()).add_probe(Box::new(w), ceiling);
            }
            (Point::Copy(n), None) => {
                let w = DataWorkload::new(e.spec, ctx, Movement::DeviceCopy, n);
                suite.on(timed.clone()).add(w);
            }
            (Point::Transfer { to_device, n, .. }, _) => {
                let movement = if to_device {
                    Movement::Upload
                } else {
                    Movement::Download
                };
                let w = DataWorkload::new(e.spec, ctx, movement, n);
                suite.on(staged.clone()).add(w);
            }
            (Point::Blas(..) | Point::Launch, _) => {
                suite.add_skipped(e.spec, "not measured on wgpu");
            }
        }
    }
}

/// Why `point` cannot run on this adapter, if its largest buffer exceeds the binding limit.
fn too_large(ctx: &WgpuContext, point: Point) -> Option<String> {
    let elems = match point {
        Point::Kernel(_, Shape::Flat(n)) => n,
        Point::Kernel(_, Shape::Rows { rows, cols }) => rows * cols,
        Point::Kernel(_, Shape::Gemm { m, n, k }) => (m * k).max(k * n).max(m * n),
        Point::Kernel(_, Shape::Mlp { batch, width, .. }) => (batch * width).max(width * width),
        Point::Copy(n) | Point::Transfer { n, .. } => n,
        Point::Blas(..) | Point::Launch => 0,
    } as u64;
    let max = ctx.max_binding_elems();
    (elems > max).then(|| {
        format!(
            "needs a buffer of {} MiB; adapter {} binds at most {} MiB",
            (elems * 4) >> 20,
            ctx.info.name,
            (max * 4) >> 20
        )
    })
}
