//! # tensorbench-wasm
//!
//! The cpu-simd kernels and the one sampler compiled for `wasm32-unknown-unknown`, twice (plain
//! and with `simd128`), exported through wasm-bindgen and driven in Node and headless Chromium.
//!
//! - [`ops`]: the measured ops as workloads, shared by the module and the native side;
//! - `module` (wasm32 only): the sampler runs inside the module, timed by the embedder's clock,
//!   and hands back finished measurements as JSON; exported through wasm-bindgen (`bindgen`,
//!   default: Node, browsers) or as plain `extern "C"` functions (`cabi`: wasmtime);
//! - `host` (native only): building the two modules, running them in each runtime, and writing
//!   wasm and native measurements side by side into one run file.

pub mod error;
pub mod ops;

pub use error::Error;

#[cfg(all(target_arch = "wasm32", feature = "bindgen", not(feature = "cabi")))]
mod bindgen;
#[cfg(all(target_arch = "wasm32", feature = "cabi"))]
mod cabi;
#[cfg(target_arch = "wasm32")]
mod module;

#[cfg(not(target_arch = "wasm32"))]
pub mod host;
