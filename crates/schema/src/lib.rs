//! # tensorbench-schema
//!
//! What a tensorbench run is on disk and on the wire, and nothing of the harness that measures
//! it: the run-file types ([`Run`], [`Measurement`], ...; documented in `docs/RESULTS.md`), the
//! streaming writer and the readers that check the schema version ([`store`]), the summary
//! statistics a measurement records ([`stats`]), roofline placement ([`roofline`]) and the
//! progress events suite binaries print ([`events`]), and the JSON Schemas of the run file and
//! stream record generated from those types ([`json_schema`]).
//!
//! Analysis, reporting and anything else that only *reads* runs depends on this crate alone, so
//! it stays free of the harness's dependencies (command-line parsing, system probing, signals,
//! thread pools). `tensorbench-core` re-exports every module at its old path.
//!
//! ```
//! use tensorbench_schema::{DType, Measurement, Status, WorkloadSpec};
//!
//! let spec = WorkloadSpec::new("mine", "scale", "scalar", DType::F32).param("n", 1024);
//! let m = Measurement::skipped(&spec, Default::default(), "no device here");
//! assert_eq!(m.id, "mine/scale/scalar/f32/n=1024");
//! assert_eq!(m.status, Status::Skipped);
//! ```

// Per crate rather than in `[workspace.lints]`: this is a library others depend on, while the
// workspace's binaries and test crates have no public items worth documenting.
#![warn(missing_docs)]

pub mod error;
pub mod events;
pub mod json_schema;
pub mod roofline;
pub mod schema;
pub mod spec;
pub mod stats;
pub mod store;

pub use error::{Error, Result};
pub use events::Event;
pub use schema::{ClockSource, DType, Measurement, Run, Status};
pub use spec::WorkloadSpec;
