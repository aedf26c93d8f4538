//! # tensorbench-gpu
//!
//! GPU workloads for tensorbench, on two backends that plug into the one
//! [`Sampler`](tensorbench_core::Sampler) through device clocks:
//!
//! - **wgpu** (feature `wgpu`): any GPU through Vulkan, Metal, DX12 or GL — WGSL kernels, timed
//!   with timestamp queries where the adapter has them. On a machine without a GPU it runs on
//!   Mesa lavapipe (a CPU rasteriser, reported as device type `Cpu`).
//! - **CUDA** (feature `cuda`): NVIDIA GPUs through cudarc, loaded at run time (no CUDA toolkit
//!   needed to build) — NVRTC kernels, cuBLAS, CUDA-event timing, transfer bandwidth.
//!
//! Both measure the same [`catalog`] of ops (see [`problem::Kernel`]), validated against the f64
//! references of [`reference`] before they are timed. A backend that is not built, or finds no
//! device or library at run time, registers its whole catalogue as `skipped` with the reason.

pub mod catalog;
pub mod error;
pub mod problem;
pub mod reference;
pub mod select;

#[cfg(feature = "cuda")]
pub mod cuda_backend;
#[cfg(feature = "wgpu")]
pub mod wgpu_backend;

pub use error::Error;

use catalog::{Backend, Profile};
use select::Selection;
use tensorbench_core::suite::{Suite, SuiteOptions};

/// Registers the backends in `selection` for `opts.profile`.
pub fn register(suite: &mut Suite, opts: &SuiteOptions, selection: Selection) {
    let profile = opts.profile;
    if selection.wgpu {
        register_wgpu(suite, profile);
    }
    if selection.cuda {
        register_cuda(suite, profile);
    }
}

#[cfg(feature = "wgpu")]
fn register_wgpu(suite: &mut Suite, profile: Profile) {
    wgpu_backend::register(suite, profile);
}

#[cfg(not(feature = "wgpu"))]
fn register_wgpu(suite: &mut Suite, profile: Profile) {
    skip_backend(
        suite,
        Backend::Wgpu,
        profile,
        "built without the `wgpu` feature",
    );
}

#[cfg(feature = "cuda")]
fn register_cuda(suite: &mut Suite, profile: Profile) {
    cuda_backend::register(suite, profile);
}

#[cfg(not(feature = "cuda"))]
fn register_cuda(suite: &mut Suite, profile: Profile) {
    skip_backend(
        suite,
        Backend::Cuda,
        profile,
        "built without the `cuda` feature",
    );
}

/// Registers every workload of `backend` as `skipped` with `reason`.
pub fn skip_backend(suite: &mut Suite, backend: Backend, profile: Profile, reason: &str) {
    for e in catalog::entries(backend, profile) {
        suite.add_skipped(e.spec, reason);
    }
}
