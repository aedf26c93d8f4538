//! # tensorbench-analysis
//!
//! Reads run files (only through `tensorbench-schema`, never the harness) and answers: did it get
//! slower, and since when?
//!
//! * [`compare_runs`] — per-id verdicts between a baseline and a new run (bootstrap CI of the ratio
//!   of medians, Mann-Whitney U or Welch with Benjamini–Hochberg, a noise threshold per id);
//!   [`Comparison::to_markdown`] renders them.
//! * [`baseline`] — named baselines under `<results>/baselines/` and resolving `compare` arguments.
//! * [`history()`] — change points over one machine's run files.
//! * [`complexity`] — O(1) … O(n³) fits over size sweeps; [`roofline`] — % of measured ceilings.
//! * [`interop`] — criterion import, Bencher BMF and github-action-benchmark export.
//!
//! ```no_run
//! use std::path::Path;
//! use tensorbench_analysis::{compare_runs, CompareConfig, Verdict};
//! use tensorbench_schema::store::load_run;
//!
//! let old = load_run(Path::new("results/baselines/main.json"))?;
//! let new = load_run(Path::new("results/my-host/2026-11-22T11-20-03Z-cpu-3f2a9c.json"))?;
//! let cmp = compare_runs(&old, &new, &CompareConfig::default());
//! println!("{}", cmp.to_markdown());
//! let failed = cmp.count(Verdict::Slower) > 0;
//! # let _ = failed;
//! # Ok::<(), tensorbench_analysis::Error>(())
//! ```

pub mod baseline;
pub mod compare;
pub mod complexity;
pub mod config;
pub mod error;
pub mod history;
pub mod interop;
pub mod like;
pub mod paired;
pub mod render;
pub mod repetitions;
pub mod roofline;
pub mod stats;
pub mod verdict;

pub use compare::compare_runs;
pub use config::CompareConfig;
pub use error::{Error, Result};
pub use history::history;
pub use like::{MeasurementConfig, check_like_for_like};
pub use verdict::{ChangePoint, Comparison, History, IdComparison, Severity, TrendPoint, Verdict};
