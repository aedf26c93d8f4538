//! `tensorbench-gpu`: the GPU suite binary. Takes the flags of every suite binary (`--profile`,
//! `--filter`, `--out`, ...). Environment: `TENSORBENCH_GPU_BACKEND=wgpu|cuda|all` picks the
//! backends (default all); `WGPU_BACKEND` (e.g. `vulkan`, `gl`) and `TENSORBENCH_WGPU_ADAPTER`
//! (a name substring or backend) pick the wgpu adapter.

use std::process::ExitCode;
use tensorbench_core::suite::{self, exit};
use tensorbench_gpu::Error;
use tensorbench_gpu::select::Selection;

fn main() -> ExitCode {
    // Both checks are of the environment the user set: bad input, even where the adapter asked
    // for is missing because there is none at all.
    let selection = match Selection::from_env().and_then(check_adapter_choice) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(exit::BAD_INPUT);
        }
    };
    suite::main("gpu", |s, opts| {
        tensorbench_gpu::register(s, opts, selection)
    })
}

/// An adapter asked for by name that does not exist is bad input, not a skip.
#[cfg(feature = "wgpu")]
fn check_adapter_choice(selection: Selection) -> Result<Selection, Error> {
    use tensorbench_gpu::wgpu_backend::context::{ADAPTER_ENV, choose_adapter, list_adapters};
    let wanted = std::env::var(ADAPTER_ENV)
        .ok()
        .filter(|w| !w.trim().is_empty());
    match wanted {
        Some(w) if selection.wgpu => {
            choose_adapter(&list_adapters(), Some(&w))?;
            Ok(selection)
        }
        _ => Ok(selection),
    }
}

#[cfg(not(feature = "wgpu"))]
fn check_adapter_choice(selection: Selection) -> Result<Selection, Error> {
    Ok(selection)
}
