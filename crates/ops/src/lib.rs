//! The op vocabulary every tensorbench backend shares, below core and every backend:
//!
//! - [`Profile`]: how much of the size range a run covers, parsed once from `--profile`;
//! - [`op`] and [`param`]: the op names and parameter keys that more than one backend puts in
//!   its measurement ids, so the same op is spelt the same way in every suite;
//! - [`reference`](mod@reference): the f64 references outputs are validated against (softmax, layer norm,
//!   GELU, GEMM, sums), one copy for cpu-simd, gpu, wasm, distributed and the Python peers'
//!   fixture.

// Per crate rather than in `[workspace.lints]`: this is a library others depend on, while the
// workspace's binaries and test crates have no public items worth documenting.
#![warn(missing_docs)]

pub mod ids;
pub mod profile;
pub mod reference;

pub use ids::{op, param};
pub use profile::{ParseProfileError, Profile};
