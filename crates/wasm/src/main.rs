//! `tensorbench-wasm`: the wasm suite (both modules, in Node, headless Chromium, wasmtime) beside the
//! same ops natively, into one run file. Takes every suite flag plus `--runtime`.

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    use tensorbench_core::SingleProcess;
    use tensorbench_wasm::host::suite::{WasmFlags, register};
    tensorbench_core::suite::main_with("wasm", &SingleProcess, |suite, opts, flags: &WasmFlags| {
        register(suite, opts, flags)
    })
}

// The wasm32 build of this crate is its library; the runner is a host program.
#[cfg(target_arch = "wasm32")]
fn main() {}
