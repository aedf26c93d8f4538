//! Bridges to other tools: criterion results in, Bencher and github-action-benchmark JSON out.

pub mod criterion;
pub mod export;
