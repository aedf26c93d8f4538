//! `cargo xtask ci`: what one CI job runs. Bench, compare with the base branch's baseline when
//! there is one, write the Markdown summary, and exit 1 on a confirmed regression.

use crate::bench::{self, BenchArgs};
use crate::table;
use anyhow::{Context, Result};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use tensorbench_analysis::baseline::resolve_run;

/// The baseline `ci` compares with when `--baseline` is not given (saved on the base branch).
pub const DEFAULT_BASELINE: &str = "base";

/// Processes per suite in `ci` when `--repetitions` is not given.
pub const DEFAULT_REPETITIONS: u32 = 3;

#[derive(Debug, Clone, Args)]
pub struct CiArgs {
    #[command(flatten)]
    pub bench: BenchArgs,
    /// Append the Markdown verdicts and results here (GitHub's job summary by default).
    #[arg(long, env = "GITHUB_STEP_SUMMARY")]
    pub summary: Option<PathBuf>,
}

pub fn run(args: &CiArgs) -> Result<u8> {
    let mut bench_args = args.bench.clone();
    // One process cannot tell its own state from a code change; a gate needs several.
    bench_args.repetitions = bench_args.repetitions.or(Some(DEFAULT_REPETITIONS));
    if bench_args.baseline.is_none() {
        if resolve_run(DEFAULT_BASELINE, &bench_args.out).is_ok() {
            bench_args.baseline = Some(DEFAULT_BASELINE.into());
        } else {
            eprintln!(
                "no baseline {DEFAULT_BASELINE:?} in {}: nothing to compare with (save one with --save-baseline {DEFAULT_BASELINE})",
                bench_args.out.display()
            );
        }
    }
    bench_args.fail_on_regression = bench_args.baseline.is_some();
    let runs = bench::run_targets(&bench_args)?;
    if let Some(path) = &args.summary {
        let mut md = String::new();
        for r in &runs {
            if let Some(c) = &r.comparison {
                md.push_str(&c.to_markdown());
            }
            md.push_str(&format!(
                "\n<details><summary>{} measurements of run {}</summary>\n\n{}\n</details>\n",
                r.run.measurements.len(),
                r.run.run_id,
                table::render_markdown(&r.run)
            ));
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(md.as_bytes()))
            .with_context(|| format!("--summary {}", path.display()))?;
    }
    Ok(runs.iter().map(|r| r.exit_code).max().unwrap_or(0))
}
