//! # tensorbench-analysis
//!
//! Reads run files (only through the schema in `tensorbench_core::schema`) and answers: did it get
//! slower, and since when?

pub mod verdict;

pub use verdict::{ChangePoint, Comparison, History, IdComparison, Severity, TrendPoint, Verdict};
