//! What is measured at each profile, independent of any backend, so a backend that cannot run
//! here still lists every one of its workloads (as `skipped`, with the reason).

use crate::problem::{BinaryOp, Kernel, Shape, UnaryOp, cost};
use tensorbench_core::suite::Ceiling;
use tensorbench_core::{DType, WorkloadSpec};
use tensorbench_ops::{op, param};

/// Suite name: the first part of every id of this crate.
pub const SUITE: &str = "gpu";

/// The sampler profiles, which also size the problems.
pub use tensorbench_ops::Profile;

/// Sizes of flat vectors (elementwise ops, sums, transfers).
pub fn flat_sizes(profile: Profile) -> Vec<usize> {
    match profile {
        Profile::Quick => vec![1 << 20],
        Profile::Standard => vec![1 << 20, 1 << 24, 1 << 28],
        Profile::Full => vec![1 << 16, 1 << 20, 1 << 22, 1 << 24, 1 << 26, 1 << 28],
    }
}

/// (rows, cols) of the row-wise ops: a wide batch of hidden-size rows, and long rows.
pub fn row_shapes(profile: Profile) -> Vec<(usize, usize)> {
    match profile {
        Profile::Quick => vec![(256, 1024)],
        Profile::Standard => vec![(4096, 1024), (16384, 4096), (1024, 32768)],
        Profile::Full => vec![(4096, 1024), (16384, 4096), (8192, 8192), (1024, 32768)],
    }
}

/// GEMM shapes (m, n, k): squares, and the skinny shapes of transformer inference (a decode
/// batch of 16 tokens, and a prefill through an MLP up-projection of 4096 → 11008).
pub fn gemm_shapes(profile: Profile) -> Vec<(usize, usize, usize)> {
    let skinny = [(16, 4096, 4096), (2048, 11008, 4096)];
    match profile {
        Profile::Quick => vec![(256, 256, 256)],
        Profile::Standard => {
            let mut v = vec![(1024, 1024, 1024), (4096, 4096, 4096), (8192, 8192, 8192)];
            v.extend(skinny);
            v
        }
        Profile::Full => {
            let squares = [1024, 2048, 4096, 8192].map(|s| (s, s, s));
            let mut v = squares.to_vec();
            v.extend(skinny);
            v
        }
    }
}

/// Every (kernel, shape) of a profile, the same list for every backend.
pub fn kernel_points(profile: Profile) -> Vec<(Kernel, Shape)> {
    let mut points = Vec::new();
    for n in flat_sizes(profile) {
        points.extend(BinaryOp::ALL.map(|op| (Kernel::Binary(op), Shape::Flat(n))));
        points.extend(UnaryOp::ALL.map(|op| (Kernel::Unary(op), Shape::Flat(n))));
        points.push((Kernel::Sum, Shape::Flat(n)));
    }
    for (rows, cols) in row_shapes(profile) {
        let shape = Shape::Rows { rows, cols };
        points.extend([Kernel::RowSum, Kernel::Softmax, Kernel::LayerNorm].map(|k| (k, shape)));
    }
    for (rows, cols) in transpose_shapes(profile) {
        points.push((Kernel::Transpose, Shape::Rows { rows, cols }));
    }
    for (m, n, k) in gemm_shapes(profile) {
        points.push((Kernel::Gemm, Shape::Gemm { m, n, k }));
    }
    for shape in mlp_shapes(profile) {
        points.push((Kernel::Mlp, shape));
    }
    points
}

/// MLP forward passes: a small batch through narrow layers, and a training-sized batch through
/// hidden-size layers.
pub fn mlp_shapes(profile: Profile) -> Vec<Shape> {
    let mlp = |batch, width, layers| Shape::Mlp {
        batch,
        width,
        layers,
    };
    match profile {
        Profile::Quick => vec![mlp(64, 256, 3)],
        Profile::Standard | Profile::Full => vec![mlp(128, 1024, 4), mlp(4096, 4096, 4)],
    }
}

fn transpose_shapes(profile: Profile) -> Vec<(usize, usize)> {
    match profile {
        Profile::Quick => vec![(1024, 1024)],
        Profile::Standard | Profile::Full => vec![(4096, 4096), (16384, 16384), (4096, 11008)],
    }
}

/// A GPU backend of this crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Wgpu,
    Cuda,
}

impl Backend {
    /// The `backend` field of its own kernels' measurements.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Wgpu => "wgpu",
            Backend::Cuda => "cuda",
        }
    }

    /// The `device` field (and the key of its measured peaks).
    pub fn device(self) -> &'static str {
        match self {
            Backend::Wgpu => "wgpu:0",
            Backend::Cuda => "cuda:0",
        }
    }
}

/// One thing a backend measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// One of our own kernels.
    Kernel(Kernel, Shape),
    /// A vendor-library GEMM (cuBLAS) in `DType` with f32 accumulation.
    Blas(DType, Shape),
    /// Device-to-device copy of `n` f32: the bandwidth ceiling of the roofline.
    Copy(usize),
    /// Host↔device transfer of `n` f32.
    Transfer {
        to_device: bool,
        pinned: bool,
        n: usize,
    },
    /// An empty kernel: launch overhead.
    Launch,
}

/// A point with its spec and, for roofline probes, the ceiling it publishes.
#[derive(Debug, Clone)]
pub struct Entry {
    pub point: Point,
    pub spec: WorkloadSpec,
    pub ceiling: Option<Ceiling>,
}

/// Everything `backend` measures at `profile`: probes first, then kernels, library GEMMs,
/// transfers and launch overhead.
pub fn entries(backend: Backend, profile: Profile) -> Vec<Entry> {
    let dev = backend.device();
    let mut out = Vec::new();
    let probe_n = *flat_sizes(profile).last().unwrap_or(&(1 << 20));
    let copy_key = match backend {
        Backend::Wgpu => "copy_gbps",
        Backend::Cuda => "d2d_copy_gbps",
    };
    out.push(entry(
        Point::Copy(probe_n),
        backend,
        Some(Ceiling::Bandwidth(copy_key)),
    ));
    if backend == Backend::Cuda {
        let s = probe_gemm_size(profile);
        let shape = Shape::Gemm { m: s, n: s, k: s };
        let ceiling = Some(Ceiling::Compute("gemm_f32_gflops"));
        out.push(entry(Point::Blas(DType::F32, shape), backend, ceiling));
    }
    for (kernel, shape) in kernel_points(profile) {
        out.push(entry(Point::Kernel(kernel, shape), backend, None));
    }
    if backend == Backend::Cuda {
        for (m, n, k) in gemm_shapes(profile) {
            let shape = Shape::Gemm { m, n, k };
            for dtype in [DType::F32, DType::F16, DType::Bf16] {
                let point = Point::Blas(dtype, shape);
                if !out.iter().any(|e| e.point == point) {
                    out.push(entry(point, backend, None));
                }
            }
        }
        out.push(entry(Point::Launch, backend, None));
    }
    for n in transfer_sizes(profile) {
        for to_device in [true, false] {
            let pinned_options: &[bool] = match backend {
                Backend::Cuda => &[false, true],
                // wgpu stages every transfer through its own mapped buffers.
                Backend::Wgpu => &[false],
            };
            for &pinned in pinned_options {
                let point = Point::Transfer {
                    to_device,
                    pinned,
                    n,
                };
                out.push(entry(point, backend, None));
            }
        }
    }
    debug_assert!(out.iter().all(|e| e.spec.device == dev));
    out
}

fn probe_gemm_size(profile: Profile) -> usize {
    match profile {
        Profile::Quick => 1024,
        Profile::Standard | Profile::Full => 8192,
    }
}

fn transfer_sizes(profile: Profile) -> Vec<usize> {
    match profile {
        Profile::Quick => vec![1 << 22],
        Profile::Standard => vec![1 << 20, 1 << 26],
        Profile::Full => vec![1 << 16, 1 << 20, 1 << 24, 1 << 28],
    }
}

/// Elements per buffer of the device-to-device copy probe: at least 8× the device's L2 (so the
/// copy measures HBM, not L2; nvbench's rule of thumb), as a power of two, never below the
/// profile's size. `l2_bytes` 0 (unknown) keeps the profile's size.
pub fn probe_copy_len(l2_bytes: usize, profile_n: usize) -> usize {
    (8 * l2_bytes / 4).next_power_of_two().max(profile_n)
}

/// The copy probe of `e` resized to [`probe_copy_len`] for a device with `l2_bytes` of L2; any
/// other entry unchanged.
pub fn sized_for_l2(e: Entry, backend: Backend, l2_bytes: usize) -> Entry {
    match (e.point, &e.ceiling) {
        (Point::Copy(n), Some(_)) => {
            entry(Point::Copy(probe_copy_len(l2_bytes, n)), backend, e.ceiling)
        }
        _ => e,
    }
}

fn entry(point: Point, backend: Backend, ceiling: Option<Ceiling>) -> Entry {
    Entry {
        point,
        spec: point_spec(point, backend),
        ceiling,
    }
}

/// The spec of `point` on `backend`.
pub fn point_spec(point: Point, backend: Backend) -> WorkloadSpec {
    let dev = backend.device();
    match point {
        Point::Kernel(kernel, shape) => kernel_spec(kernel, shape, backend.name(), dev),
        Point::Blas(dtype, shape) => {
            let (flops, f32_bytes) = cost(Kernel::Gemm, shape);
            let bytes = f32_bytes / 4.0 * dtype.size_bytes() as f64;
            let mut spec = WorkloadSpec::new(SUITE, op::GEMM, "cublas", dtype).device(dev);
            for (key, value) in shape.params() {
                spec = spec.param(key, value);
            }
            spec.cost(flops, bytes).footprint(f32_bytes as u64 * 2)
        }
        Point::Copy(n) => {
            let bytes = 8.0 * n as f64;
            WorkloadSpec::new(SUITE, op::COPY, backend.name(), DType::F32)
                .device(dev)
                .param(param::N, n)
                .cost(0.0, bytes)
                .footprint(bytes as u64)
        }
        Point::Transfer {
            to_device,
            pinned,
            n,
        } => {
            let op = if to_device { "upload" } else { "download" };
            let memory = if pinned { "pinned" } else { "pageable" };
            let bytes = 4.0 * n as f64;
            WorkloadSpec::new(SUITE, op, backend.name(), DType::F32)
                .device(dev)
                .param(param::N, n)
                .param("host", memory)
                .cost(0.0, bytes)
                .footprint(bytes as u64 * 2)
        }
        Point::Launch => WorkloadSpec::new(SUITE, "launch", backend.name(), DType::F32)
            .device(dev)
            .param("kernel", "empty"),
    }
}

/// The spec of `kernel` on `shape` run by `backend` on `device`.
pub fn kernel_spec(kernel: Kernel, shape: Shape, backend: &str, device: &str) -> WorkloadSpec {
    let (flops, bytes) = cost(kernel, shape);
    let mut spec = WorkloadSpec::new(SUITE, kernel.name(), backend, DType::F32).device(device);
    for (key, value) in shape.params() {
        spec = spec.param(key, value);
    }
    // Host copies of inputs and output, plus the reference check's working set.
    spec.cost(flops, bytes)
        .footprint((bytes as u64).saturating_mul(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_probe_is_eight_times_the_l2() {
        // H100: 50 MiB of L2 → 400 MiB → 2^27 f32 (512 MiB) per buffer.
        assert_eq!(probe_copy_len(50 << 20, 1 << 20), 1 << 27);
        // Unknown L2, or a small one: the profile's size.
        assert_eq!(probe_copy_len(0, 1 << 20), 1 << 20);
        assert_eq!(probe_copy_len(256 << 10, 1 << 20), 1 << 20);
        let probe = entries(Backend::Cuda, Profile::Quick).remove(0);
        let sized = sized_for_l2(probe, Backend::Cuda, 50 << 20);
        assert_eq!(sized.point, Point::Copy(1 << 27));
        assert!(sized.spec.id.contains("n=134217728"), "{}", sized.spec.id);
        assert!(sized.ceiling.is_some());
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let points = kernel_points(Profile::Standard);
        let ids: std::collections::BTreeSet<String> = points
            .iter()
            .map(|&(k, s)| kernel_spec(k, s, "wgpu", "wgpu:0").id)
            .collect();
        assert_eq!(ids.len(), points.len());
        assert!(ids.contains("gpu/add/wgpu/f32/n=268435456"));
        assert!(ids.contains("gpu/gemm/wgpu/f32/k=8192,m=8192,n=8192"));
    }

    #[test]
    fn both_backends_list_a_copy_probe_first() {
        for backend in [Backend::Wgpu, Backend::Cuda] {
            let all = entries(backend, Profile::Quick);
            assert!(matches!(all[0].point, Point::Copy(_)));
            assert!(all[0].ceiling.is_some());
            let ids: std::collections::BTreeSet<_> = all.iter().map(|e| &e.spec.id).collect();
            assert_eq!(ids.len(), all.len(), "duplicate ids for {backend:?}");
        }
        let cuda = entries(Backend::Cuda, Profile::Standard);
        assert!(
            cuda.iter()
                .any(|e| e.spec.id == "gpu/gemm/cublas/bf16/k=8192,m=8192,n=8192")
        );
        assert!(
            cuda.iter()
                .any(|e| e.spec.id == "gpu/upload/cuda/f32/host=pinned,n=67108864")
        );
    }

    #[test]
    fn quick_profile_is_small() {
        for (k, s) in kernel_points(Profile::Quick) {
            let spec = kernel_spec(k, s, "wgpu", "wgpu:0");
            assert!(
                spec.bytes <= 16.0 * 1024.0 * 1024.0,
                "{} too big for quick",
                spec.id
            );
        }
    }
}
