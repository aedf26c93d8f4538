//! The exports for engines without JavaScript (wasmtime): plain `extern "C"` functions over
//! byte buffers in linear memory, and the clock imported from the host as `tensorbench.now_ms`.
//!
//! The host writes a request (the JSON of `js/harness.mjs`) into a buffer from `tb_alloc`, calls
//! `tb_call`, and reads the reply at the returned `ptr << 32 | len`, which it frees with `tb_free`.

use crate::module;
use serde::Deserialize;
use tensorbench_core::ClockSource;

#[link(wasm_import_module = "tensorbench")]
unsafe extern "C" {
    /// The host's monotonic clock in milliseconds.
    safe fn now_ms() -> f64;
}

/// A buffer of `len` bytes for the host to write into.
#[unsafe(no_mangle)]
pub extern "C" fn tb_alloc(len: usize) -> *mut u8 {
    Box::leak(vec![0u8; len].into_boxed_slice()).as_mut_ptr()
}

/// Frees a buffer from [`tb_alloc`] or a reply of [`tb_call`].
///
/// # Safety
/// `ptr` and `len` must be exactly a buffer `tb_alloc` returned or a reply `tb_call` returned.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tb_free(ptr: *mut u8, len: usize) {
    // SAFETY: the caller passes back a boxed slice of exactly `len` bytes allocated here.
    drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) });
}

#[derive(Deserialize)]
struct Check {
    op: String,
    n: usize,
    seed: u32,
}

#[derive(Deserialize)]
struct Kernels {
    checks: Vec<Check>,
}

/// Answers the request in `[ptr, ptr + len)`; returns the reply as `ptr << 32 | len`.
///
/// # Safety
/// `[ptr, ptr + len)` must be a buffer from [`tb_alloc`] holding the request.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tb_call(ptr: *const u8, len: usize) -> u64 {
    // SAFETY: the caller wrote `len` bytes at `ptr`.
    let request = unsafe { std::slice::from_raw_parts(ptr, len) };
    let reply = answer(&String::from_utf8_lossy(request)).into_bytes();
    // A boxed slice, so its allocation is exactly `len` bytes, as `tb_free` assumes.
    let reply = Box::leak(reply.into_boxed_slice());
    let (len, p) = (reply.len(), reply.as_mut_ptr());
    ((p as u64) << 32) | len as u64
}

fn answer(request: &str) -> String {
    let mode = serde_json::from_str::<serde_json::Value>(request)
        .map(|v| v["mode"].clone())
        .unwrap_or_default();
    let mut reply: serde_json::Value = if mode == "info" {
        // Only the build facts (added below): what the host asks before the first workload.
        serde_json::json!({})
    } else if mode == "kernels" {
        match serde_json::from_str::<Kernels>(request) {
            Ok(k) => {
                let outputs: tensorbench_core::Result<Vec<Vec<f64>>> = k
                    .checks
                    .iter()
                    .map(|c| module::kernel_output(&c.op, c.n, c.seed))
                    .collect();
                match outputs {
                    Ok(o) => serde_json::json!({ "outputs": o }),
                    Err(e) => serde_json::json!({ "error": e.to_string() }),
                }
            }
            Err(e) => serde_json::json!({ "error": format!("bad request: {e}") }),
        }
    } else {
        let text = module::run_suite(request, || now_ms(), ClockSource::Host);
        serde_json::from_str(&text)
            .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }))
    };
    reply["build"] = serde_json::from_str(&module::build_info()).unwrap_or_default();
    reply.to_string()
}
