//! Every CUDA kernel, cuBLAS GEMM and transfer validated against the f64 reference on device 0.
//! Without a driver or GPU the tests print why and pass.
#![cfg(feature = "cuda")]

use std::sync::Arc;
use tensorbench_core::schema::{Peaks, Status};
use tensorbench_core::{ClockSource, DType, Sampler, SamplerConfig, Workload};
use tensorbench_gpu::catalog::{Backend, Point, kernel_spec, point_spec};
use tensorbench_gpu::cuda_backend::blas;
use tensorbench_gpu::cuda_backend::device::{self, CudaGpu};
use tensorbench_gpu::cuda_backend::ops::CudaKernelWorkload;
use tensorbench_gpu::cuda_backend::transfer::{CudaTransfer, LaunchOverhead, Movement};
use tensorbench_gpu::problem::{BinaryOp, Kernel, Shape, UnaryOp};

fn gpu() -> Option<Arc<CudaGpu>> {
    match device::open() {
        Ok(gpu) => Some(gpu),
        Err(reason) => {
            eprintln!("skipping: CUDA unavailable: {reason}");
            None
        }
    }
}

fn check(w: &mut dyn Workload) {
    w.prepare(11)
        .unwrap_or_else(|e| panic!("{}: prepare: {e}", w.spec().id));
    w.execute();
    w.sync()
        .unwrap_or_else(|e| panic!("{}: sync: {e}", w.spec().id));
    let v = w
        .validate()
        .unwrap_or_else(|e| panic!("{}: validate: {e}", w.spec().id));
    assert!(v.passed, "{}: {v:?}", w.spec().id);
}

fn kernel(gpu: &Arc<CudaGpu>, k: Kernel, shape: Shape) -> CudaKernelWorkload {
    CudaKernelWorkload::new(
        kernel_spec(k, shape, "cuda", "cuda:0"),
        gpu.clone(),
        k,
        shape,
    )
}

#[test]
fn our_kernels_match_the_reference() {
    let Some(gpu) = gpu() else { return };
    if let Err(reason) = &gpu.kernels {
        eprintln!("skipping: {reason}");
        return;
    }
    for n in [4, 1 << 12, 1 << 22] {
        for op in BinaryOp::ALL {
            check(&mut kernel(&gpu, Kernel::Binary(op), Shape::Flat(n)));
        }
        for op in UnaryOp::ALL {
            check(&mut kernel(&gpu, Kernel::Unary(op), Shape::Flat(n)));
        }
        check(&mut kernel(&gpu, Kernel::Sum, Shape::Flat(n)));
    }
    for (rows, cols) in [(1, 7), (5, 300), (64, 1024), (3, 5000)] {
        let shape = Shape::Rows { rows, cols };
        for k in [
            Kernel::RowSum,
            Kernel::Softmax,
            Kernel::LayerNorm,
            Kernel::Transpose,
        ] {
            check(&mut kernel(&gpu, k, shape));
        }
    }
    for (m, n, k) in [(64, 64, 16), (70, 50, 33), (256, 512, 128)] {
        check(&mut kernel(&gpu, Kernel::Gemm, Shape::Gemm { m, n, k }));
    }
    for (batch, width, layers) in [(4, 64, 1), (70, 96, 3)] {
        let shape = Shape::Mlp {
            batch,
            width,
            layers,
        };
        check(&mut kernel(&gpu, Kernel::Mlp, shape));
    }
    check(&mut LaunchOverhead::new(
        point_spec(Point::Launch, Backend::Cuda),
        gpu.clone(),
    ));
}

#[test]
fn cublas_gemms_match_the_reference() {
    let Some(gpu) = gpu() else { return };
    if let Err(reason) = &gpu.cublas {
        eprintln!("skipping: {reason}");
        return;
    }
    for (m, n, k) in [(64, 64, 64), (70, 50, 33), (512, 256, 1024)] {
        let shape = Shape::Gemm { m, n, k };
        for dtype in [DType::F32, DType::F16, DType::Bf16] {
            let spec = point_spec(Point::Blas(dtype, shape), Backend::Cuda);
            let mut w = blas::workload(spec, gpu.clone(), dtype, shape).expect("gemm workload");
            check(w.as_mut());
        }
    }
}

#[test]
fn transfers_move_the_data_exactly() {
    let Some(gpu) = gpu() else { return };
    let n = 1 << 16;
    for movement in [
        Movement::Upload { pinned: false },
        Movement::Upload { pinned: true },
        Movement::Download { pinned: false },
        Movement::Download { pinned: true },
        Movement::DeviceCopy,
    ] {
        let point = match movement {
            Movement::Upload { pinned } => Point::Transfer {
                to_device: true,
                pinned,
                n,
            },
            Movement::Download { pinned } => Point::Transfer {
                to_device: false,
                pinned,
                n,
            },
            Movement::DeviceCopy => Point::Copy(n),
        };
        check(&mut CudaTransfer::new(
            point_spec(point, Backend::Cuda),
            gpu.clone(),
            movement,
            n,
        ));
    }
}

#[test]
fn event_clock_times_through_the_sampler_hot_and_cold() {
    let Some(gpu) = gpu() else { return };
    for cold in [false, true] {
        let n = 1 << 20;
        let point = Point::Copy(n);
        let mut w = CudaTransfer::new(
            point_spec(point, Backend::Cuda),
            gpu.clone(),
            Movement::DeviceCopy,
            n,
        );
        let mut config = SamplerConfig {
            warmup_s: 0.01,
            min_samples: 5,
            min_time_s: 0.01,
            max_time_s: 0.2,
            ..SamplerConfig::default()
        };
        if cold {
            config.mode = tensorbench_core::schema::CacheMode::Cold;
        }
        let on_gpu = device::CudaDevice(gpu.clone());
        let m = Sampler::new(config, 1 << 20).measure_on(&on_gpu, &mut w, 1, &Peaks::new());
        assert_eq!(m.status, Status::Ok, "{:?}", m.reason);
        assert_eq!(
            m.sampling.expect("sampled").clock_source,
            ClockSource::CudaEvent
        );
        assert!(m.samples_ns.iter().all(|&s| s > 0.0));
        assert!(m.extra.contains_key("compute_capability"));
    }
}
