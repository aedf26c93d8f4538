//! `cargo xtask compare OLD NEW`: verdicts between two runs or baselines.
//!
//! Exit codes: 0 no confirmed regression, 1 at least one `slower` verdict, 2 bad input (a missing
//! or unreadable run file, an unknown baseline, a bad threshold or pattern, runs measured under
//! different configurations without `--allow-config-mismatch`), with a message naming it.

use crate::interop::Format;
use anyhow::Context;
use clap::ValueEnum;
use std::io::Write;
use std::path::{Path, PathBuf};
use tensorbench_analysis::baseline::resolve_run;
use tensorbench_analysis::config::TestKind;
use tensorbench_analysis::{CompareConfig, Comparison, Verdict, compare_runs};
use tensorbench_core::suite::exit;

/// The two-sample test behind the p-values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Test {
    MannWhitney,
    Welch,
}

/// Flags of `cargo xtask compare`.
#[derive(Debug, Clone, clap::Args)]
pub struct CompareArgs {
    /// Baseline: a run file (.json or .jsonl), a results directory (its newest run) or a baseline
    /// name (results/baselines/NAME.json).
    pub old: String,
    /// New run: same forms as OLD.
    pub new: String,
    /// Relative change treated as noise (0.05 = ±5%).
    #[arg(long, default_value_t = tensorbench_analysis::config::DEFAULT_THRESHOLD)]
    pub threshold: f64,
    /// Per-id threshold as REGEX=FRACTION, e.g. `gemm/.*=0.10`; repeatable, the last match wins.
    #[arg(long = "threshold-for", value_name = "REGEX=FRACTION")]
    pub threshold_for: Vec<String>,
    /// False-discovery rate of the Benjamini–Hochberg-corrected test.
    #[arg(long, default_value_t = tensorbench_analysis::config::DEFAULT_ALPHA)]
    pub alpha: f64,
    /// Fewer samples than this on a side gives `ambiguous`.
    #[arg(long, default_value_t = tensorbench_analysis::config::DEFAULT_MIN_SAMPLES)]
    pub min_samples: usize,
    /// Two-sample test.
    #[arg(long, value_enum, default_value_t = Test::MannWhitney)]
    pub test: Test,
    /// How to print the verdicts; bmf, github-action-benchmark and csv print NEW's
    /// measurements instead, as `cargo xtask export` does (the exit code is still the verdict's).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Also append the Markdown verdict table to this file (e.g. "$GITHUB_STEP_SUMMARY").
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
    /// Also write the comparison as JSON to this file (for `report`).
    #[arg(long, value_name = "FILE")]
    pub json_out: Option<PathBuf>,
    /// Compare measurements taken under different configurations (threads, hot/cold, build or
    /// sampling profile, target features) instead of refusing; each such id is then noted.
    #[arg(long)]
    pub allow_config_mismatch: bool,
    /// Results directory where baseline names are looked up.
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
}

/// Runs the comparison and returns the exit code (see the module docs).
pub fn run(args: &CompareArgs, results_dir: &Path) -> anyhow::Result<u8> {
    let (comparison, new) = match build(args, results_dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(exit::BAD_INPUT);
        }
    };
    let text = match args.format {
        Format::Table => comparison.to_table(),
        Format::Markdown => comparison.to_markdown(),
        Format::Json => serde_json::to_string_pretty(&comparison)? + "\n",
        other => {
            crate::interop::print_export(other.export().expect("the rest are exports"), &new)?;
            String::new()
        }
    };
    if !text.is_empty() {
        print_out(&text)?;
    }
    if let Some(path) = &args.summary {
        append(path, &comparison.to_markdown())?;
    }
    if let Some(path) = &args.json_out {
        tensorbench_core::store::write_json_atomic(path, &comparison)?;
    }
    let regressions = comparison.count(Verdict::Slower);
    if regressions > 0 {
        eprintln!("{regressions} confirmed regression(s)");
        return Ok(exit::SOME_FAILED);
    }
    Ok(exit::OK)
}

/// The comparison, and the new run it was made of.
fn build(
    args: &CompareArgs,
    results_dir: &Path,
) -> anyhow::Result<(Comparison, tensorbench_core::schema::Run)> {
    let cfg = config(args)?;
    let old = resolve_run(&args.old, results_dir)?;
    let new = resolve_run(&args.new, results_dir)?;
    // The mismatch names fields, not files: say which two run files were refused.
    tensorbench_analysis::check_like_for_like(&old.run, &new.run, args.allow_config_mismatch)
        .map_err(|e| {
            let (o, n) = (old.path.display(), new.path.display());
            anyhow::anyhow!("{o} (baseline) vs {n} (new): {e}")
        })?;
    let mut comparison = compare_runs(&old.run, &new.run, &cfg);
    comparison.old_label = old.label;
    comparison.new_label = new.label;
    let shared = comparison
        .items
        .iter()
        .filter(|i| !matches!(i.verdict, Verdict::New | Verdict::Missing))
        .count();
    if shared == 0 {
        comparison
            .warnings
            .push("the two runs have no measurement id in common".into());
    }
    Ok((comparison, new.run))
}

fn config(args: &CompareArgs) -> tensorbench_analysis::Result<CompareConfig> {
    if !(args.alpha > 0.0 && args.alpha < 1.0) {
        return Err(tensorbench_analysis::Error::bad_argument(
            "--alpha",
            format!("{} is not a probability in (0, 1)", args.alpha),
        ));
    }
    let mut cfg = CompareConfig {
        alpha: args.alpha,
        min_samples: args.min_samples.max(2),
        test: match args.test {
            Test::MannWhitney => TestKind::MannWhitney,
            Test::Welch => TestKind::Welch,
        },
        ..CompareConfig::default()
    }
    .with_threshold(args.threshold)?;
    for spec in &args.threshold_for {
        cfg = cfg.with_rule_spec(spec)?;
    }
    Ok(cfg)
}

/// Writes to stdout; a closed pipe (`compare ... | head`) is not an error.
fn print_out(text: &str) -> anyhow::Result<()> {
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

fn append(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("{}: cannot open for appending", path.display()))?;
    writeln!(f, "{text}").with_context(|| format!("{}: write failed", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: CompareArgs,
    }

    fn args(extra: &[&str]) -> CompareArgs {
        Cli::parse_from(["compare"].iter().chain(extra)).args
    }

    #[test]
    fn bad_input_exits_2_and_touches_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let truncated = dir.path().join("run.json");
        std::fs::write(&truncated, "{\"schema_version\": 1,").unwrap();
        let t = truncated.to_str().unwrap();
        assert_eq!(run(&args(&[t, t]), dir.path()).unwrap(), 2);
        assert_eq!(run(&args(&["nobaseline", t]), dir.path()).unwrap(), 2);
        assert_eq!(
            run(&args(&[t, t, "--threshold=-1"]), dir.path()).unwrap(),
            2
        );
        assert_eq!(
            run(&args(&[t, t, "--threshold-for", "(=0.1"]), dir.path()).unwrap(),
            2
        );
        assert_eq!(
            std::fs::read_to_string(&truncated).unwrap(),
            "{\"schema_version\": 1,"
        );
    }

    fn write_run(path: &Path, mode: &str) {
        let samples: Vec<f64> = (0..30).map(|i| 1000.0 + f64::from(i % 5)).collect();
        let run = serde_json::json!({
            "schema_version": tensorbench_core::schema::SCHEMA_VERSION,
            "run_id": mode, "target": "cpu", "profile": "quick", "command": "test",
            "started_at": "2026-01-01T00:00:00Z", "finished_at": null, "status": "complete",
            "git": {"commit": null, "dirty": null, "branch": null},
            "machine": {"hostname": null, "cpu_model": null, "arch": "x86_64", "physical_cores": null,
                        "logical_cores": 2, "caches": {"l1d": null, "l2": null, "l3": null},
                        "features": [], "memory_bytes": null, "os": null, "kernel": null, "rustc": null,
                        "governor": null, "load_avg_1m": null},
            "build_profile": "bench", "config": {}, "peaks": {},
            "measurements": [{
                "id": "cpu-simd/add/simd/f32/n=1024", "op": "add", "backend": "simd",
                "device": "cpu", "dtype": "f32", "params": {"n": 1024}, "threads": 1,
                "mode": mode, "flops": 1024.0, "bytes": 12288.0, "samples_ns": samples,
                "iters_per_sample": 1,
                "stats": tensorbench_core::stats::summarize(&samples, 0.95),
                "throughput": null, "roofline": null, "validation": null, "alloc": null,
                "sampling": null, "status": "ok", "reason": null,
            }],
        });
        std::fs::write(path, run.to_string()).unwrap();
    }

    #[test]
    fn cold_against_hot_is_refused_unless_asked_to_proceed() {
        let dir = tempfile::tempdir().unwrap();
        let (hot, cold) = (dir.path().join("hot.json"), dir.path().join("cold.json"));
        write_run(&hot, "hot");
        write_run(&cold, "cold");
        let (h, c) = (hot.to_str().unwrap(), cold.to_str().unwrap());
        assert_eq!(run(&args(&[h, c]), dir.path()).unwrap(), 2);
        let err = build(&args(&[h, c]), dir.path()).unwrap_err().to_string();
        assert!(err.contains("cache mode: hot vs cold"), "{err}");
        let allowed = args(&[h, c, "--allow-config-mismatch"]);
        let (cmp, _) = build(&allowed, dir.path()).unwrap();
        assert!(
            cmp.warnings.iter().any(|w| w.contains("cache mode")),
            "{:?}",
            cmp.warnings
        );
        assert_eq!(run(&args(&[h, h]), dir.path()).unwrap(), 0);
    }
}
