//! `cargo xtask bench`: build each target's suite, run it supervised, print and keep the run.

use crate::supervise::{self, Invocation};
use crate::targets::{self, Launcher, Target};
use crate::{bad_input, table, workspace};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tensorbench_core::schema::{Run, Status};
use tensorbench_core::store;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Markdown,
}

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// cpu (default), or all.
    #[arg(long, default_value = "cpu")]
    pub target: String,
    /// quick (default, CI-sized) | standard | full.
    #[arg(long, default_value = "quick")]
    pub profile: String,
    /// Only workloads whose id matches this regular expression.
    #[arg(long)]
    pub filter: Option<String>,
    /// Threads for parallel kernels (default: all logical cores).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub threads: Option<u32>,
    /// Flush caches before every sample.
    #[arg(long)]
    pub cold: bool,
    /// Results directory (runs go to <out>/<machine>/<run-id>.json).
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// How to print the results.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Seconds one workload may run before it is stopped and recorded as failed.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// Base seed for the input data (default: from the clock).
    #[arg(long)]
    pub seed: Option<u64>,
}

/// What one target's run produced.
#[derive(Debug)]
pub struct TargetRun {
    pub target: &'static str,
    pub run_path: PathBuf,
    pub run: Run,
    pub exit_code: u8,
}

pub fn run(args: &BenchArgs) -> Result<u8> {
    let runs = run_targets(args)?;
    let mut code = 0;
    for r in &runs {
        print_run(&r.run, &r.run_path, args.format)?;
        code = code.max(r.exit_code);
    }
    Ok(code)
}

/// Validates the flags, then builds and runs every selected target in turn.
pub fn run_targets(args: &BenchArgs) -> Result<Vec<TargetRun>> {
    let targets = check_args(args)?;
    let mut runs = Vec::new();
    for target in targets {
        runs.push(run_target(target, args)?);
    }
    Ok(runs)
}

fn check_args(args: &BenchArgs) -> Result<Vec<&'static Target>> {
    if !["quick", "standard", "full"].contains(&args.profile.as_str()) {
        bad_input!("--profile {:?}: expected quick, standard or full", args.profile);
    }
    if let Some(f) = &args.filter
        && let Err(e) = regex::Regex::new(f)
    {
        bad_input!("--filter {f:?} is not a valid regular expression: {e}");
    }
    if args.out.is_file() {
        bad_input!("--out {}: is a file, expected a directory", args.out.display());
    }
    targets::resolve(&args.target).map_err(|e| anyhow::Error::new(crate::BadInput(e)))
}

fn run_target(target: &'static Target, args: &BenchArgs) -> Result<TargetRun> {
    let binary = workspace::build_binary(target.package, target.bin, target.features)?;
    let inv = invocation(target, &binary, args);
    eprintln!("running the {} suite ({} profile)", target.name, args.profile);
    let outcome = supervise::run(&inv)?;
    if outcome.exit_code == Some(2) {
        bad_input!("the {} suite refused its arguments (see above)", target.name);
    }
    let run_path = outcome
        .run_file
        .clone()
        .or_else(|| outcome.stream.clone())
        .with_context(|| format!("the {} suite wrote no run file", target.name))?;
    let run = store::load_run(&run_path)?;
    let exit_code = exit_code_of(&run, &outcome);
    Ok(TargetRun {
        target: target.name,
        run_path,
        run,
        exit_code,
    })
}

fn exit_code_of(run: &Run, outcome: &supervise::Outcome) -> u8 {
    if outcome.interrupted {
        return 130;
    }
    let bad = run
        .measurements
        .iter()
        .any(|m| matches!(m.status, Status::Failed | Status::Invalid));
    if bad || !outcome.timed_out.is_empty() || outcome.exit_code != Some(0) {
        1
    } else {
        0
    }
}

fn invocation(target: &Target, binary: &Path, args: &BenchArgs) -> Invocation {
    let mut suite_args: Vec<String> = vec![
        "--events".into(),
        "--profile".into(),
        args.profile.clone(),
        "--out".into(),
        args.out.display().to_string(),
        "--command".into(),
        command_line(),
    ];
    if let Some(f) = &args.filter {
        suite_args.extend(["--filter".into(), f.clone()]);
    }
    if let Some(t) = args.threads {
        suite_args.extend(["--threads".into(), t.to_string()]);
    }
    if let Some(s) = args.seed {
        suite_args.extend(["--seed".into(), s.to_string()]);
    }
    if args.cold {
        suite_args.push("--cold".into());
    }
    debug_assert_eq!(target.launcher, Launcher::Direct);
    Invocation {
        program: binary.to_path_buf(),
        args: suite_args,
        env: target
            .env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        workload_timeout: Duration::from_secs(args.timeout),
    }
}

/// The command as the user typed it, for the run file.
fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("cargo xtask {}", args.join(" "))
}

fn print_run(run: &Run, path: &Path, format: Format) -> Result<()> {
    match format {
        Format::Table => {
            println!("{}", table::render(run));
            println!("run file: {}", path.display());
        }
        Format::Markdown => println!("{}", table::render_markdown(run)),
        Format::Json => println!("{}", serde_json::to_string_pretty(run)?),
    }
    Ok(())
}
