//! The host side: building the two modules ([`build`]), running them in each runtime
//! ([`runtimes`]), and the suite that core's driver runs, measuring native and wasm side by side
//! into one run ([`suite`]).

pub mod build;
pub mod runtimes;
pub mod sizes;
pub mod suite;
#[cfg(feature = "wasmtime")]
pub mod wasmtime_rt;

pub use crate::error::Missing;

/// Whether missing pieces must fail instead of skip (CI sets it).
pub fn wasm_required() -> bool {
    std::env::var("TENSORBENCH_REQUIRE_WASM").is_ok_and(|v| v == "1")
}
