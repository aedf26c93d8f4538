//! # tensorbench-cpu-simd
//!
//! CPU kernels in backend families ([`kernels::scalar`], [`kernels::simd`], [`kernels::par`],
//! [`kernels::peers`]), the CPU workloads built on them, and the roofline probes (STREAM, a
//! working-set sweep, FMA peak) that measure this machine's ceilings.
//!
//! With default features off only the kernels remain (no rayon, no threads), so a wasm32 crate
//! can reuse them.

pub mod error;
pub mod kernels;
#[cfg(feature = "suite")]
pub mod probes;
#[cfg(feature = "suite")]
pub mod workloads;

pub use error::Error;
#[cfg(feature = "suite")]
pub use workloads::register;
