//! `cargo xtask bench`: build each target's suite, run it supervised, add peers, compare with a
//! baseline, print, and keep the run and its report.

use crate::interop::Format;
use crate::supervise::{self, Invocation};
use crate::targets::{self, Launcher, Target};
use crate::{bad_input, peers, report, table, workspace};
use anyhow::{Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tensorbench_analysis::baseline::{check_name, resolve_run, save_baseline_with};
use tensorbench_analysis::repetitions::merge_runs;
use tensorbench_analysis::{CompareConfig, Comparison, Verdict, compare_runs};
use tensorbench_core::Profile;
use tensorbench_core::schema::{Run, Status};
use tensorbench_core::store;
use tensorbench_core::suite::{exit, profile_parser};

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// cpu (default) | gpu | wgpu | cuda | distributed | wasm | all.
    #[arg(long, default_value = "cpu")]
    pub target: String,
    /// How much of the size range to cover (quick: CI-sized).
    #[arg(long, default_value_t = Profile::Quick, value_parser = profile_parser())]
    pub profile: Profile,
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
    /// Also run the same workloads in these frameworks: numpy, torch, jax (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub peers: Vec<String>,
    /// Processes for the distributed target (mpirun -np).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    pub ranks: u32,
    /// Open MPI hostfile for multi-node distributed runs.
    #[arg(long)]
    pub hostfile: Option<PathBuf>,
    /// Collective back-ends of the distributed target (comma-separated; default both).
    #[arg(long, value_delimiter = ',', value_parser = ["mpi", "nccl"])]
    pub backend: Vec<String>,
    /// Save this run as baseline NAME (results/baselines/NAME.json; NAME-<target> with --target all).
    #[arg(long, value_name = "NAME")]
    pub save_baseline: Option<String>,
    /// Compare this run with baseline NAME (or a run file) and print the verdicts.
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,
    /// Exit with code 1 when the comparison finds a confirmed regression.
    #[arg(long, requires = "baseline")]
    pub fail_on_regression: bool,
    /// Save the baseline even when some measurements failed or were invalid (an interrupted or
    /// incomplete run is never saved).
    #[arg(long, requires = "save_baseline")]
    pub allow_failed: bool,
    /// Run the suite in this many separate processes and merge them (default 1; `ci` uses 3).
    /// Verdicts then require a change to hold in every process.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub repetitions: Option<u32>,
    /// Carry on an interrupted run from its `.jsonl` stream (single target), skipping what it finished.
    #[arg(long, value_name = "STREAM")]
    pub resume: Option<PathBuf>,
    /// Runtimes of the wasm target (comma-separated; default node,chromium; a missing one is
    /// recorded as skipped with its install command).
    #[arg(long, value_delimiter = ',', value_parser = ["node", "chromium", "wasmtime", "all"])]
    pub runtime: Vec<String>,
    /// Do not write the HTML report beside the run file.
    #[arg(long)]
    pub no_report: bool,
}

/// What one target's run produced.
#[derive(Debug)]
pub struct TargetRun {
    pub run_path: PathBuf,
    pub run: Run,
    pub comparison: Option<Comparison>,
    pub exit_code: u8,
}

pub fn run(args: &BenchArgs) -> Result<u8> {
    let runs = run_targets(args)?;
    Ok(runs.iter().map(|r| r.exit_code).max().unwrap_or(0))
}

/// Validates the flags, then builds and runs every selected target in turn.
pub fn run_targets(args: &BenchArgs) -> Result<Vec<TargetRun>> {
    let targets = check_args(args)?;
    let several = targets.len() > 1;
    let mut runs = Vec::new();
    for target in targets {
        let r = run_target(target, args, several)?;
        print_run(&r, args.format)?;
        runs.push(r);
    }
    Ok(runs)
}

fn check_args(args: &BenchArgs) -> Result<Vec<&'static Target>> {
    if let Some(f) = &args.filter
        && let Err(e) = regex::Regex::new(f)
    {
        bad_input!("--filter {f:?} is not a valid regular expression: {e}");
    }
    if args.out.is_file() {
        bad_input!(
            "--out {}: is a file, expected a directory",
            args.out.display()
        );
    }
    if let Some(p) = args
        .peers
        .iter()
        .find(|p| !peers::FRAMEWORKS.contains(&p.as_str()))
    {
        bad_input!(
            "--peers {p:?}: expected any of {}",
            peers::FRAMEWORKS.join(", ")
        );
    }
    if let Some(h) = &args.hostfile {
        let hosts = crate::hostfile::read(h)?;
        if let Some(slots) = crate::hostfile::total_slots(&hosts)
            && u64::from(args.ranks) > slots
        {
            bad_input!(
                "--ranks {} but --hostfile {} offers {slots} slots",
                args.ranks,
                h.display()
            );
        }
    }
    if let Some(r) = &args.resume {
        if let Err(e) = store::load_run(r) {
            bad_input!("--resume: {e}");
        }
        if args.repetitions.unwrap_or(1) > 1 {
            bad_input!(
                "--resume carries on one process's run: it cannot be combined with --repetitions"
            );
        }
    }
    let targets = targets::resolve(&args.target).map_err(anyhow::Error::new)?;
    // Fail before a long run, not after it.
    if let Some(name) = &args.save_baseline {
        check_name(name).map_err(|e| crate::BadInput(format!("--save-baseline: {e}")))?;
    }
    if let Some(name) = &args.baseline {
        for t in &targets {
            let name = baseline_name(name, t, targets.len() > 1);
            resolve_run(&name, &args.out)
                .map_err(|e| crate::BadInput(format!("--baseline: {e}")))?;
        }
    }
    Ok(targets)
}

/// The baseline a target's run is saved as or compared with: `NAME`, or `NAME-<target>` when one
/// command runs several targets.
pub fn baseline_name(name: &str, target: &Target, several: bool) -> String {
    if several {
        format!("{name}-{}", target.name)
    } else {
        name.to_string()
    }
}

fn run_target(target: &'static Target, args: &BenchArgs, several: bool) -> Result<TargetRun> {
    let mut features = target.features;
    if target.name == "wasm" {
        crate::test_cmd::install_wasm_tools()?;
        // wasmtime is embedded in the runner: a long build, so only when asked for.
        if args.runtime.iter().any(|r| r == "wasmtime" || r == "all") {
            features = &["wasmtime"];
        }
    }
    let binary = workspace::build_binary(target.package, target.bin, features)?;
    run_binary(target, &binary, args, several)
}

/// Runs the built suite `binary` of `target` as `bench` does (supervised, repetitions merged,
/// peers added, baseline saved, compared, reported); the fault tests run it on a fixture.
pub(crate) fn run_binary(
    target: &'static Target,
    binary: &Path,
    args: &BenchArgs,
    several: bool,
) -> Result<TargetRun> {
    let inv = invocation(target, binary, args)?;
    let reps = args.repetitions.unwrap_or(1);
    let mut parts = Vec::new();
    let mut exit_code = 0;
    let mut interrupted = false;
    for rep in 1..=reps {
        eprintln!(
            "running the {} suite ({} profile, process {rep} of {reps})",
            target.name, args.profile
        );
        let outcome = supervise::run(&inv)?;
        if outcome.exit_code == Some(2) {
            bad_input!(
                "the {} suite refused its arguments (see above)",
                target.name
            );
        }
        let path = outcome
            .run_file
            .clone()
            .or_else(|| outcome.stream.clone())
            .with_context(|| format!("the {} suite wrote no run file", target.name))?;
        exit_code = exit_code.max(exit_code_of(&store::load_run(&path)?, &outcome));
        parts.push(path);
        interrupted = outcome.interrupted;
        if interrupted {
            break;
        }
    }
    let run_path = merge_parts(&parts)?;
    if !args.peers.is_empty() && !interrupted {
        exit_code = exit_code.max(add_peers(binary, &inv, args, &run_path)?);
    }
    let run = store::load_run(&run_path)?;
    let name_for = |n: &str| baseline_name(n, target, several);
    if let Some(name) = &args.save_baseline {
        // A run that did not complete cleanly never replaces a good baseline: said, and exit 1.
        match save_baseline_with(&args.out, &name_for(name), &run, args.allow_failed) {
            Ok(path) => eprintln!("saved baseline {}", path.display()),
            Err(e) => {
                eprintln!("error: {e}");
                exit_code = exit_code.max(1);
            }
        }
    }
    let comparison = match &args.baseline {
        Some(name) => Some(compare_with(&name_for(name), &run, &args.out)?),
        None => None,
    };
    if args.fail_on_regression
        && comparison
            .as_ref()
            .is_some_and(|c| c.count(Verdict::Slower) > 0)
    {
        exit_code = exit_code.max(1);
    }
    if !args.no_report {
        let html = report::write_run_report(&run_path, comparison.as_ref())?;
        eprintln!("report: {}", html.display());
    }
    Ok(TargetRun {
        run_path,
        run,
        comparison,
        exit_code,
    })
}

/// One process's run file as it is; several merged into one run file (every sample kept, each
/// process's median recorded), which replaces the parts.
fn merge_parts(parts: &[PathBuf]) -> Result<PathBuf> {
    if let [only] = parts {
        return Ok(only.clone());
    }
    let runs = parts
        .iter()
        .map(|p| store::load_run(p))
        .collect::<Result<Vec<_>, _>>()?;
    let merged = merge_runs(&runs).context("no run to merge")?;
    let dir = parts[0].parent().unwrap_or(Path::new("."));
    let path = dir.join(format!("{}.json", merged.run_id));
    store::write_json_atomic(&path, &merged)?;
    for p in parts {
        std::fs::remove_file(p).with_context(|| format!("removing {}", p.display()))?;
    }
    eprintln!("merged {} processes into {}", parts.len(), path.display());
    Ok(path)
}

fn add_peers(binary: &Path, inv: &Invocation, args: &BenchArgs, run_path: &Path) -> Result<u8> {
    let outcome = peers::run_peers(
        binary,
        &inv.args,
        &args.peers,
        run_path,
        &peers::default_python(),
        &peers::Limits::new(inv.workload_timeout),
    )?;
    for note in &outcome.notes {
        eprintln!("peers: {note}");
    }
    Ok(outcome.exit_code())
}

fn compare_with(baseline: &str, run: &Run, out: &Path) -> Result<Comparison> {
    let old =
        resolve_run(baseline, out).map_err(|e| crate::BadInput(format!("--baseline: {e}")))?;
    // A baseline measured under another configuration is no baseline for this run.
    tensorbench_analysis::check_like_for_like(&old.run, run, false)
        .map_err(|e| crate::BadInput(format!("--baseline: {e}")))?;
    let mut c = compare_runs(&old.run, run, &CompareConfig::default());
    c.old_label = old.label;
    c.new_label = run.run_id.clone();
    Ok(c)
}

fn exit_code_of(run: &Run, outcome: &supervise::Outcome) -> u8 {
    if outcome.interrupted {
        return exit::INTERRUPTED;
    }
    if outcome.exit_code == Some(i32::from(exit::INFRASTRUCTURE)) {
        return exit::INFRASTRUCTURE;
    }
    let bad = run
        .measurements
        .iter()
        .any(|m| matches!(m.status, Status::Failed | Status::Invalid));
    if bad
        || !outcome.timed_out.is_empty()
        || !outcome.crashed.is_empty()
        || outcome.exit_code != Some(0)
    {
        1
    } else {
        0
    }
}

fn invocation(target: &Target, binary: &Path, args: &BenchArgs) -> Result<Invocation> {
    let mut suite_args = suite_args(args);
    if target.name == "distributed" && !args.backend.is_empty() {
        suite_args.extend(["--backend".into(), args.backend.join(",")]);
    }
    if target.name == "wasm" && !args.runtime.is_empty() {
        suite_args.extend(["--runtime".into(), args.runtime.join(",")]);
    }
    let (program, all_args) = match target.launcher {
        Launcher::Direct => (binary.to_path_buf(), suite_args),
        Launcher::Mpirun => (
            PathBuf::from("mpirun"),
            mpirun_args(args, binary, suite_args)?,
        ),
    };
    Ok(Invocation {
        program,
        args: all_args,
        env: target
            .env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        workload_timeout: Duration::from_secs(args.timeout),
        resume: args.resume.clone(),
    })
}

fn suite_args(args: &BenchArgs) -> Vec<String> {
    let mut a: Vec<String> = vec![
        "--events".into(),
        "--profile".into(),
        args.profile.to_string(),
        "--out".into(),
        args.out.display().to_string(),
        "--command".into(),
        command_line(),
    ];
    if let Some(f) = &args.filter {
        a.extend(["--filter".into(), f.clone()]);
    }
    if let Some(t) = args.threads {
        a.extend(["--threads".into(), t.to_string()]);
    }
    if let Some(s) = args.seed {
        a.extend(["--seed".into(), s.to_string()]);
    }
    if args.cold {
        a.push("--cold".into());
    }
    a
}

/// `mpirun` is Open MPI's launcher: it (not we) starts and connects the ranks, on this host or
/// the hosts of `--hostfile`.
pub(crate) fn mpirun_args(
    args: &BenchArgs,
    binary: &Path,
    suite_args: Vec<String>,
) -> Result<Vec<String>> {
    check_mpi()?;
    let mut a = vec!["-np".to_string(), args.ranks.to_string()];
    if is_root() {
        a.push("--allow-run-as-root".into());
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if args.hostfile.is_none() && args.ranks as usize > cores {
        a.push("--oversubscribe".into());
    }
    if let Some(h) = &args.hostfile {
        a.extend(["--hostfile".into(), h.display().to_string()]);
    }
    a.push(binary.display().to_string());
    a.extend(suite_args);
    Ok(a)
}

/// Open MPI's launcher is on PATH, or what to install.
pub(crate) fn check_mpi() -> Result<()> {
    if which("mpirun").is_none() {
        anyhow::bail!(
            "the distributed target needs Open MPI: apt-get install -y libopenmpi-dev openmpi-bin libclang-dev"
        );
    }
    Ok(())
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    })
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The command as the user typed it, for the run file.
fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("cargo xtask {}", args.join(" "))
}

fn print_run(r: &TargetRun, format: Format) -> Result<()> {
    match format {
        Format::Table => {
            println!("{}", table::render(&r.run));
            if let Some(c) = &r.comparison {
                println!("{}", c.to_table());
            }
            println!("run file: {}", r.run_path.display());
        }
        Format::Markdown => {
            if let Some(c) = &r.comparison {
                println!("{}", c.to_markdown());
            }
            println!("{}", table::render_markdown(&r.run));
        }
        Format::Json => println!("{}", serde_json::to_string_pretty(&r.run)?),
        other => {
            let export = other.export().expect("the rest are exports");
            crate::interop::print_export(export, &r.run)?;
            eprintln!("run file: {}", r.run_path.display());
        }
    }
    Ok(())
}
