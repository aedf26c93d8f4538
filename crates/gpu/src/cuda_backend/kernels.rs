//! Our CUDA kernels (`kernels.cu`), compiled once per run with NVRTC for the device's own
//! architecture.

use cudarc::driver::{CudaContext, CudaModule};
use cudarc::nvrtc::{CompileOptions, compile_ptx_with_opts};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use crate::Error;

/// The CUDA C source of every kernel.
pub const SOURCE: &str = include_str!("kernels.cu");

/// Threads per block of the one-dimensional kernels.
pub const BLOCK: u32 = 256;

/// NVRTC's `--gpu-architecture` value for a compute capability (`compute_90` for Hopper).
pub fn arch_flag((major, minor): (i32, i32)) -> String {
    format!("compute_{major}{minor}")
}

/// Compiles [`SOURCE`] and loads it into `ctx`; `Err` says why our kernels cannot run.
pub fn build(ctx: &Arc<CudaContext>, cc: (i32, i32)) -> Result<Arc<CudaModule>, Error> {
    let nvrtc = |reason: String| Error::unavailable("NVRTC", reason);
    // SAFETY: only tries to dlopen NVRTC by its known names.
    if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        return Err(nvrtc(
            "NVRTC not found (libnvrtc.so not on the library path), so our kernels \
                    cannot be compiled"
                .into(),
        ));
    }
    // CompileOptions wants a &'static str; one small string per run.
    let arch: &'static str = Box::leak(arch_flag(cc).into_boxed_str());
    let opts = CompileOptions {
        arch: Some(arch),
        name: Some("tensorbench_kernels.cu".into()),
        ..Default::default()
    };
    let ptx = catch_unwind(AssertUnwindSafe(|| compile_ptx_with_opts(SOURCE, opts)))
        .map_err(|_| nvrtc("NVRTC panicked while compiling our kernels".into()))?
        .map_err(|e| nvrtc(format!("NVRTC could not compile our kernels: {e}")))?;
    ctx.load_module(ptx)
        .map_err(|e| Error::unavailable("CUDA module", format!("loading our kernels: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arch_flag_names_the_virtual_architecture() {
        assert_eq!(arch_flag((9, 0)), "compute_90");
        assert_eq!(arch_flag((12, 0)), "compute_120");
    }

    #[test]
    fn every_launched_kernel_is_exported_with_c_linkage() {
        for name in [
            "add_f32",
            "mul_f32",
            "relu_f32",
            "gelu_f32",
            "exp_f32",
            "partial_sums",
            "final_sum",
            "row_sum",
            "softmax",
            "layer_norm",
            "transpose",
            "matmul",
            "empty",
        ] {
            let direct = format!("extern \"C\" __global__ void {name}(");
            let macro_made = [format!("KERNEL({name},"), format!("KERNEL({name}, ")];
            assert!(
                SOURCE.contains(&direct) || macro_made.iter().any(|m| SOURCE.contains(m.as_str())),
                "kernel {name} missing from kernels.cu"
            );
        }
    }
}
