//! `cargo xtask ci`: what one CI job runs. Bench, compare with the base branch's baseline when
//! there is one, write the Markdown summary, and exit 1 on a confirmed regression.

use crate::bench::{self, BenchArgs};
use crate::table;
use anyhow::{Context, Result};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use tensorbench_analysis::baseline::resolve_run;
use tensorbench_analysis::render::{MAX_SUMMARY_BYTES, cap_markdown, escape_markdown};

/// The baseline `ci` compares with when `--baseline` is not given (saved on the base branch).
pub const DEFAULT_BASELINE: &str = "base";

/// Exit code of `ci` when a target has no baseline to compare with.
pub const NO_BASELINE: u8 = 3;

/// The default baselines the selected targets lack.
fn missing_baselines(args: &BenchArgs) -> Result<Vec<String>> {
    let targets = crate::targets::resolve(&args.target).map_err(anyhow::Error::new)?;
    let several = targets.len() > 1;
    Ok(targets
        .iter()
        .map(|t| bench::baseline_name(DEFAULT_BASELINE, t, several))
        .filter(|name| resolve_run(name, &args.out).is_err())
        .collect())
}

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
        // A gate with nothing to compare with must say so with its own exit code, never pass:
        // every target needs its own baseline (`base`, or `base-<target>` for several).
        let missing = missing_baselines(&bench_args)?;
        if !missing.is_empty() {
            eprintln!(
                "error: no baseline to gate on in {}: {} (save one on the base branch with \
                 `cargo xtask bench --save-baseline {DEFAULT_BASELINE}`); exit {NO_BASELINE}",
                bench_args.out.display(),
                missing.join(", ")
            );
            return Ok(NO_BASELINE);
        }
        bench_args.baseline = Some(DEFAULT_BASELINE.into());
    }
    bench_args.fail_on_regression = true;
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
                escape_markdown(&r.run.run_id),
                table::render_markdown(&r.run)
            ));
        }
        // GitHub refuses a job summary past 1 MiB: the whole of it is capped, not each part.
        let md = cap_markdown(md, MAX_SUMMARY_BYTES);
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(md.as_bytes()))
            .with_context(|| format!("--summary {}", path.display()))?;
    }
    Ok(runs.iter().map(|r| r.exit_code).max().unwrap_or(0))
}
