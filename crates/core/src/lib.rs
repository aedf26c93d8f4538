//! # tensorbench-core
//!
//! The measurement harness of tensorbench: the [`Workload`] and [`Clock`] traits every backend
//! implements, the one [`Sampler`] that times them all, and the run-file schema ([`Run`],
//! [`Measurement`]) that analysis and reporting read.
//!
//! ## Measuring your own op
//!
//! A framework author implements [`Workload`] for an op; one import brings in all it needs. The
//! sampler measures it directly (below), or a [`suite::Suite`] registers it to get a whole run
//! file and the common flags, as the `naive_matmul` example does.
//!
//! ```
//! use tensorbench_core::prelude::*;
//!
//! struct Scale { spec: WorkloadSpec, x: Vec<f32>, y: Vec<f32> }
//!
//! impl Workload for Scale {
//!     fn spec(&self) -> &WorkloadSpec { &self.spec }
//!     fn prepare(&mut self, seed: u64) -> Result<()> {
//!         (self.x, self.y) = (data::uniform_f32(1024, seed), vec![0.0; 1024]);
//!         Ok(())
//!     }
//!     fn execute(&mut self) { for (y, x) in self.y.iter_mut().zip(&self.x) { *y = 2.0 * x; } }
//!     fn validate(&mut self) -> Result<Validation> {
//!         let reference: Vec<f64> = self.x.iter().map(|&x| 2.0 * f64::from(x)).collect();
//!         Ok(validate_against(&self.y, &reference, 1e-6, "f64 scalar"))
//!     }
//! }
//!
//! let spec = WorkloadSpec::new("mine", "scale", "scalar", DType::F32)
//!     .param("n", 1024)
//!     .cost(1024.0, 8.0 * 1024.0);
//! let mut w = Scale { spec, x: vec![], y: vec![] };
//! let mut sampler = Sampler::new(SamplerConfig::default(), 32 << 20);
//! let m = sampler.measure(&mut w, 42, &Peaks::new());
//! assert_eq!(m.status, Status::Ok);
//! ```
//!
//! Without a type of its own, the same op is three closures over its state, in closure form:
//! `suite.bench(spec, setup, run, check)` ([`suite::Suite::bench`], [`closure`]).
//!
//! As a suite binary of its own (flags, run file, progress events), `main` is one line:
//! `suite::main("mine", |s, _| s.add(w))`.
//!
//! ## Where the rest lives
//!
//! Backends implement [`Device`] (clock, energy counter, cache flush) and [`Clock`]; processes
//! that run in lock-step implement [`Coordinator`]; runtimes that measure elsewhere implement
//! [`remote::Executor`]. The run-file types are in [`schema`], their readers and writers in
//! [`store`].

// Per crate rather than in `[workspace.lints]`: this is a library others depend on, while the
// workspace's binaries and test crates have no public items worth documenting.
#![warn(missing_docs)]

pub mod alloc;
#[cfg(unix)]
pub mod child;
pub mod clock;
pub mod closure;
pub mod coordinator;
pub mod data;
pub mod device;
mod driver;
pub(crate) mod dump;
pub mod energy;
pub mod error;
pub mod interrupt;
pub mod machine;
mod options;
pub mod remote;
pub mod sampler;
pub mod serve;
pub mod suite;
pub mod workload;

/// The run-file schema, its readers and writers, summary statistics, roofline placement and
/// progress events live in tensorbench-schema (so readers of runs need not build the harness);
/// they stay reachable at their old paths here.
pub use tensorbench_schema::{events, roofline, schema, stats, store};

pub use clock::{Clock, ClockSource, HostClock};
pub use coordinator::{Coordinator, SingleProcess};
pub use device::{Device, HostCpu};
pub use driver::NoFlags;
pub use error::{Error, Result};
pub use sampler::{Sampler, SamplerConfig};
pub use schema::{DType, Measurement, Run, Status};
pub use tensorbench_ops::Profile;
pub use workload::{NamedTensor, Workload, WorkloadSpec};

/// What a user-defined workload needs, in one import: `use tensorbench_core::prelude::*;`.
pub mod prelude {
    pub use crate::closure::FnWorkload;
    pub use crate::data;
    pub use crate::error::{Error, Result};
    pub use crate::sampler::{Sampler, SamplerConfig};
    pub use crate::schema::{DType, Peaks, Status, Validation};
    pub use crate::suite::{self, Suite, SuiteOptions};
    pub use crate::workload::{NamedTensor, Workload, WorkloadSpec, validate_against};
}
