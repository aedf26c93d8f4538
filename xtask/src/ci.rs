//! `cargo xtask ci`: what one CI job runs. With `--base REV` (pull requests): a paired A/B of
//! the working tree against REV in one sitting (`cargo xtask ab`). Without it (history on main):
//! bench, compare with the stored baseline. Either way it writes the Markdown summary and exits 1
//! only on a confirmed regression or an invalid result; 2 is bad input, 3 a missing baseline or
//! an infrastructure failure (a build, a suite that cannot be served).

use crate::ab::AbArgs;
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
    /// Gate on a paired A/B of the working tree against this git revision (the pull request's
    /// base), instead of a stored baseline.
    #[arg(long, value_name = "REV", conflicts_with_all = ["baseline", "save_baseline"])]
    pub base: Option<String>,
    /// Most rounds of the paired A/B (with --base).
    #[arg(long, default_value_t = 12, requires = "base")]
    pub rounds: u64,
    /// Seconds after which the paired A/B starts no new round (with --base).
    #[arg(long, default_value_t = 540, requires = "base")]
    pub time_budget: u64,
}

pub fn run(args: &CiArgs) -> Result<u8> {
    if let Some(rev) = &args.base {
        return paired(args, rev);
    }
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
        append(path, &cap_markdown(md, MAX_SUMMARY_BYTES))?;
    }
    Ok(runs.iter().map(|r| r.exit_code).max().unwrap_or(0))
}

/// `ci --base REV`: `ab REV` over the same selection, its verdicts as the summary.
fn paired(args: &CiArgs, rev: &str) -> Result<u8> {
    let b = &args.bench;
    let ab_args = AbArgs {
        base: Some(rev.to_string()),
        head: None,
        target: b.target.clone(),
        profile: b.profile,
        filter: b.filter.clone(),
        threads: b.threads,
        cold: b.cold,
        rounds: args.rounds,
        threshold: 0.01,
        alpha: 0.01,
        time_budget: args.time_budget,
        timeout: b.timeout,
        seed: b.seed,
        base_bin: None,
        head_bin: None,
        out: b.out.clone(),
        no_report: b.no_report,
    };
    let (code, comparison) = crate::ab::paired(&ab_args)?;
    if let Some(path) = &args.summary {
        append(path, &comparison.to_summary_markdown())?;
    }
    Ok(code)
}

fn append(path: &std::path::Path, md: &str) -> Result<()> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(md.as_bytes()))
        .with_context(|| format!("--summary {}", path.display()))
}
