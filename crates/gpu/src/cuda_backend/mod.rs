//! The CUDA backend (cudarc, loaded at run time): NVRTC kernels, cuBLAS, transfers, CUDA-event
//! timing, the device's measured ceilings. No driver, no device or no library is a `skipped`
//! line with the reason.
//!
//! Clocks and throttling: every measurement records the SM and memory clocks and the throttle
//! reasons NVML reports as its sampling starts (`throttled: true` when power or heat lowers the
//! clocks), beside the maximum clocks the driver reports. The copy probe is sized to 8× the L2.

pub mod blas;
pub mod clock;
pub mod device;
pub mod energy;
pub mod kernels;
pub mod ops;
pub mod transfer;

use crate::catalog::{self, Backend, Entry, Point, Profile};
use device::{CudaDevice, CudaGpu};
use ops::CudaKernelWorkload;
use std::sync::Arc;
use tensorbench_core::suite::Suite;
use tensorbench_core::{Device, Workload};
use transfer::{CudaTransfer, LaunchOverhead, Movement};

/// Registers every CUDA workload of `profile`, or all of them as `skipped` when CUDA cannot run.
pub fn register(suite: &mut Suite, profile: Profile) {
    let gpu = match device::open() {
        Ok(gpu) => gpu,
        Err(why) => {
            crate::skip_backend(suite, Backend::Cuda, profile, &why.to_string());
            return;
        }
    };
    suite.add_gpu(gpu.info.gpu_info());
    let free = gpu.free_memory();
    let on_gpu: Arc<dyn Device> = Arc::new(CudaDevice(gpu.clone()));
    for e in catalog::entries(Backend::Cuda, profile) {
        let e = catalog::sized_for_l2(e, Backend::Cuda, gpu.info.l2_bytes);
        if let Some(reason) = unavailable(&gpu, &e, free) {
            suite.add_skipped(e.spec, reason);
            continue;
        }
        let ceiling = e.ceiling.clone();
        let Some(w) = workload(e, gpu.clone()) else {
            continue;
        };
        match ceiling {
            Some(c) => suite.on(on_gpu.clone()).add_probe(w, c),
            None => suite.on(on_gpu.clone()).add_boxed(w),
        };
    }
}

fn workload(e: Entry, gpu: Arc<CudaGpu>) -> Option<Box<dyn Workload>> {
    Some(match e.point {
        Point::Kernel(kernel, shape) => {
            Box::new(CudaKernelWorkload::new(e.spec, gpu, kernel, shape))
        }
        Point::Blas(dtype, shape) => return blas::workload(e.spec, gpu, dtype, shape),
        Point::Copy(n) => Box::new(CudaTransfer::new(e.spec, gpu, Movement::DeviceCopy, n)),
        Point::Transfer {
            to_device,
            pinned,
            n,
        } => {
            let m = if to_device {
                Movement::Upload { pinned }
            } else {
                Movement::Download { pinned }
            };
            Box::new(CudaTransfer::new(e.spec, gpu, m, n))
        }
        Point::Launch => Box::new(LaunchOverhead::new(e.spec, gpu)),
    })
}

/// Why `e` cannot run on this device: a missing library, or more memory than is free.
fn unavailable(gpu: &CudaGpu, e: &Entry, free: Option<usize>) -> Option<String> {
    let needs_kernels = matches!(e.point, Point::Kernel(..) | Point::Launch);
    if let (true, Err(why)) = (needs_kernels, &gpu.kernels) {
        return Some(why.to_string());
    }
    if let (Point::Blas(..), Err(why)) = (e.point, &gpu.cublas) {
        return Some(why.to_string());
    }
    // Device memory: the same bytes as the host copies, within 90% of what is free now.
    let need = e.spec.footprint_bytes / 2;
    match free {
        Some(free) if need > free as u64 / 10 * 9 => Some(format!(
            "needs {} MiB of device memory; {} MiB free on {}",
            need >> 20,
            free >> 20,
            gpu.info.name
        )),
        _ => None,
    }
}
