//! The exports for JavaScript engines, through wasm-bindgen; `js/harness.mjs` calls them.

use crate::module;
use tensorbench_core::ClockSource;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `performance.now()`: milliseconds, sub-millisecond where the engine allows.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Runs the suite (see [`module::run_suite`]) timed by `performance.now()`.
#[wasm_bindgen]
pub fn run_suite(request: &str) -> String {
    module::run_suite(request, performance_now, ClockSource::PerformanceNow)
}

/// One kernel call's output (see [`module::kernel_output`]); an error throws its text, a string.
#[wasm_bindgen]
pub fn kernel_output(op: &str, n: usize, seed: u32) -> Result<Vec<f64>, JsValue> {
    module::kernel_output(op, n, seed).map_err(|e| JsValue::from_str(&e.to_string()))
}

/// `{backend, isa}` of this build.
#[wasm_bindgen]
pub fn build_info() -> String {
    module::build_info()
}

/// Bytes of linear memory now.
#[wasm_bindgen]
pub fn memory_bytes() -> f64 {
    module::memory_bytes() as f64
}
