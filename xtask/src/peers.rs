//! Peers: the suite's workloads run in NumPy, PyTorch and JAX by the Python runner in `python/`
//! (`python -m tensorbench_peers`), timed with the same stopping rule, and appended to the run file
//! beside tensorbench's own measurements.
//!
//! The protocol: the suite binary lists its workloads (`--list-json`) and dumps the smallest one of
//! each op (`--dump-tensors`); the runner gets both as files and writes one `Measurement` per line.
//! A missing Python is a skip line per peer measurement, never an error.

use crate::BadInput;
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use tensorbench_core::child;
use tensorbench_core::sampler::skipped;
use tensorbench_core::schema::{CacheMode, Measurement, Status};
use tensorbench_core::{WorkloadSpec, roofline, store};

/// Frameworks the runner knows.
pub const FRAMEWORKS: [&str; 3] = ["numpy", "torch", "jax"];

/// What `cargo xtask peers setup` installs by default (pinned in `python/requirements.txt`).
pub const REQUIREMENTS: &str = "python/requirements.txt";
/// PyTorch, pinned, installed only with `--torch` (PyPI's Linux wheel is ~3 GB).
pub const TORCH_REQUIREMENTS: &str = "python/requirements-torch.txt";

/// The runner's exit code for bad input (a flag or a file it names).
const RUNNER_BAD_INPUT: i32 = 2;
const RUNNER_INTERRUPTED: i32 = 130;

/// How long each child of a peers run may take before it is stopped with what it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `--list-json`: the suite registers its workloads and prints them.
    pub list: Duration,
    /// `--dump-tensors`: the smallest workload of each op, generated and written.
    pub dump: Duration,
    /// The runner, per measurement it takes (its total is this times their number, plus
    /// [`Limits::list`] for the interpreter and its imports).
    pub per_measurement: Duration,
}

impl Limits {
    /// The limits of a run whose workloads each have `workload_timeout` (`bench --timeout`).
    pub fn new(workload_timeout: Duration) -> Self {
        Self {
            list: Duration::from_secs(120),
            dump: Duration::from_secs(600),
            per_measurement: workload_timeout,
        }
    }

    fn runner(&self, measurements: usize) -> Duration {
        let n = u32::try_from(measurements).unwrap_or(u32::MAX);
        self.list
            .saturating_add(self.per_measurement.saturating_mul(n))
    }
}

/// What one peers run added to the run file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PeersOutcome {
    /// Measurements appended (or replaced, when a peer id was already in the run).
    pub appended: usize,
    pub ok: usize,
    pub invalid: usize,
    pub failed: usize,
    pub skipped: usize,
    /// The runner was stopped by an interrupt; what it finished was still appended.
    pub interrupted: bool,
    /// Things worth telling the user (no cross-check possible, runner exit status, ...).
    pub notes: Vec<String>,
}

impl PeersOutcome {
    /// 0 when everything measured or skipped cleanly, 1 for failed or invalid, 130 if interrupted.
    pub fn exit_code(&self) -> u8 {
        if self.interrupted {
            130
        } else if self.failed > 0 || self.invalid > 0 {
            1
        } else {
            0
        }
    }

    fn count(&mut self, ms: &[Measurement]) {
        for m in ms {
            match m.status {
                Status::Ok => self.ok += 1,
                Status::Invalid => self.invalid += 1,
                Status::Failed => self.failed += 1,
                Status::Skipped => self.skipped += 1,
            }
        }
        self.appended = ms.len();
    }
}

/// Options of `cargo xtask peers setup`.
#[derive(Debug, Clone, Default)]
pub struct SetupOptions {
    /// Also install PyTorch (PyPI's Linux wheel is a ~3 GB CUDA build).
    pub torch: bool,
    /// The Python that creates the venv (default `python3`).
    pub python: Option<PathBuf>,
}

/// `cargo xtask peers setup`: creates the venv at `venv_dir` and installs NumPy and JAX (PyTorch on
/// request), with uv when it is on `PATH` (much faster, same pins) and with venv and pip otherwise.
pub fn setup_with(venv_dir: &Path, opts: &SetupOptions) -> Result<()> {
    let python = venv_python(venv_dir);
    let installer = Installer::detect();
    let base = opts.python.clone().unwrap_or_else(|| "python3".into());
    if !python.exists() {
        run_step(&mut installer.create_venv(&base, venv_dir)).with_context(|| {
            format!(
                "creating the venv with {} (is Python 3 installed?)",
                base.display()
            )
        })?;
    }
    let root = crate::workspace::root();
    run_step(&mut installer.install(&python, &root.join(REQUIREMENTS)))?;
    if opts.torch {
        run_step(&mut installer.install(&python, &root.join(TORCH_REQUIREMENTS)))?;
    }
    eprintln!("peers venv ready: {}", venv_dir.display());
    Ok(())
}

/// What makes the venv and installs into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Installer {
    /// `uv venv` and `uv pip install`.
    Uv,
    /// `python -m venv` and the venv's `pip`.
    Pip,
}

impl Installer {
    /// uv when `uv --version` runs, pip otherwise.
    pub fn detect() -> Self {
        let has_uv = Command::new("uv")
            .arg("--version")
            .output() // deadline: set-up, not a run's child; `--version` returns at once
            .is_ok_and(|o| o.status.success());
        if has_uv { Self::Uv } else { Self::Pip }
    }

    fn create_venv(self, base_python: &Path, venv_dir: &Path) -> Command {
        let mut cmd = match self {
            // uv's venv has no pip of its own; everything is installed with `uv pip`.
            Self::Uv => {
                let mut c = Command::new("uv");
                c.arg("venv").arg("--python").arg(base_python);
                c
            }
            Self::Pip => {
                let mut c = Command::new(base_python);
                c.args(["-m", "venv"]);
                c
            }
        };
        cmd.arg(venv_dir);
        cmd
    }

    fn install(self, venv_python: &Path, requirements: &Path) -> Command {
        let mut cmd = match self {
            Self::Uv => {
                let mut c = Command::new("uv");
                c.args(["pip", "install", "--python"]).arg(venv_python);
                c
            }
            Self::Pip => {
                let mut c = Command::new(venv_python);
                c.args(["-m", "pip", "install"]);
                c
            }
        };
        cmd.arg("-r").arg(requirements);
        cmd
    }
}

/// The pins of a requirements file: `(name, version)` of each `name==version` line (extras such
/// as `jax[cpu]` keep only the name).
pub fn pins(requirements: &str) -> Vec<(String, String)> {
    requirements
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter_map(|l| l.split_once("=="))
        .map(|(name, version)| {
            let name = name.split('[').next().unwrap_or(name).trim();
            (name.to_string(), version.trim().to_string())
        })
        .collect()
}

fn run_step(cmd: &mut Command) -> Result<()> {
    eprintln!("$ {}", shown(cmd));
    let status = cmd
        .status() // deadline: none; `peers setup` is an install the user watches, not a run
        .with_context(|| format!("could not start `{}`", shown(cmd)))?;
    anyhow::ensure!(status.success(), "`{}` failed ({status})", shown(cmd));
    Ok(())
}

fn shown(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The venv the setup command creates by default: `.venv` in the repository root.
pub fn default_venv() -> PathBuf {
    crate::workspace::root().join(".venv")
}

/// The interpreter inside a venv.
pub fn venv_python(venv_dir: &Path) -> PathBuf {
    if cfg!(windows) {
        venv_dir.join("Scripts").join("python.exe")
    } else {
        venv_dir.join("bin").join("python")
    }
}

/// The Python to run peers with: the default venv's when it exists, else `python3` from `PATH`.
pub fn default_python() -> PathBuf {
    let venv = venv_python(&default_venv());
    if venv.exists() {
        venv
    } else {
        "python3".into()
    }
}

/// Lists the suite's workloads, dumps the smallest of each op for the cross-check, runs the
/// runner for `peers`, and appends its measurements to `run_file`.
pub fn run_peers(
    suite_binary: &Path,
    suite_args: &[String],
    peers: &[String],
    run_file: &Path,
    python: &Path,
    limits: &Limits,
) -> Result<PeersOutcome> {
    check_peers(peers)?;
    // Its children lead process groups of their own: an interrupt must reach them.
    crate::supervise::install_signal_forwarding();
    let sel = Selection::from_suite_args(suite_args);
    let specs = list_workloads(suite_binary, &sel, limits.list)?;
    let mut outcome = PeersOutcome::default();
    if specs.is_empty() {
        outcome
            .notes
            .push("the suite selected no workloads: no peers to run".into());
        return Ok(outcome);
    }
    let scratch = Scratch::new()?;
    let workloads = scratch.path.join("workloads.json");
    std::fs::write(&workloads, serde_json::to_vec_pretty(&specs)?)
        .with_context(|| format!("writing {}", workloads.display()))?;
    let tensors = scratch.path.join("tensors");
    let tensors = match dump_tensors(suite_binary, &sel, &specs, &tensors, limits.dump) {
        Ok(()) => Some(tensors),
        Err(e) => {
            outcome
                .notes
                .push(format!("no cross-check against tensorbench: {e:#}"));
            None
        }
    };
    let out = scratch.path.join("peers.jsonl");
    let cmd = runner_command(python, &sel, peers, &workloads, tensors.as_deref(), &out);
    let limit = limits.runner(specs.len() * peers.len());
    let measurements = match run_runner(cmd, python, limit)? {
        RunnerExit::Finished(status) => {
            outcome.interrupted = status.code() == Some(RUNNER_INTERRUPTED);
            let ended = format!("the peers runner {}", child::describe_exit(status));
            let written = written_measurements(&out)?;
            if outcome.interrupted {
                written
            } else {
                with_the_rest_failed(written, &specs, peers, sel.mode(), &ended, &mut outcome)
            }
        }
        RunnerExit::Stopped(reason) => {
            let written = written_measurements(&out)?;
            with_the_rest_failed(written, &specs, peers, sel.mode(), &reason, &mut outcome)
        }
        RunnerExit::NotStarted(reason) => skipped_all(&specs, peers, sel.mode(), &reason),
    };
    append_to_run(run_file, &measurements)?;
    outcome.count(&measurements);
    Ok(outcome)
}

fn check_peers(peers: &[String]) -> Result<()> {
    if peers.is_empty() {
        crate::bad_input!("--peers: name at least one of {}", FRAMEWORKS.join(", "));
    }
    if let Some(p) = peers.iter().find(|p| !FRAMEWORKS.contains(&p.as_str())) {
        crate::bad_input!(
            "--peers: unknown framework {p:?} (known: {})",
            FRAMEWORKS.join(", ")
        );
    }
    Ok(())
}

/// The suite flags that select workloads and shape sampling, picked out of the suite's arguments.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Selection {
    profile: Option<String>,
    filter: Option<String>,
    threads: Option<String>,
    seed: Option<String>,
    cold: bool,
}

impl Selection {
    fn from_suite_args(args: &[String]) -> Self {
        let mut sel = Self::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
                _ => (arg.as_str(), None),
            };
            let slot = match flag {
                "--profile" => &mut sel.profile,
                "--filter" => &mut sel.filter,
                "--threads" => &mut sel.threads,
                "--seed" => &mut sel.seed,
                "--cold" => {
                    sel.cold = true;
                    continue;
                }
                _ => continue,
            };
            *slot = inline.or_else(|| it.next().cloned());
        }
        sel
    }

    fn mode(&self) -> CacheMode {
        if self.cold {
            CacheMode::Cold
        } else {
            CacheMode::Hot
        }
    }

    /// Arguments for the suite binary's `--list-json` and `--dump-tensors` calls. The profile goes
    /// too: it decides which sizes a suite registers.
    fn suite_args(&self, filter: Option<&str>) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(p) = &self.profile {
            args.extend(["--profile".into(), p.clone()]);
        }
        if let Some(f) = filter.or(self.filter.as_deref()) {
            args.extend(["--filter".into(), f.to_string()]);
        }
        if let Some(t) = &self.threads {
            args.extend(["--threads".into(), t.clone()]);
        }
        args
    }
}

fn list_workloads(suite: &Path, sel: &Selection, limit: Duration) -> Result<Vec<WorkloadSpec>> {
    let mut cmd = Command::new(suite);
    cmd.arg("--list-json")
        .args(sel.suite_args(None))
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    let what = format!("{} --list-json", suite.display());
    let out = child::output_within(&mut cmd, &what, limit)?;
    if out.status.code() == Some(RUNNER_BAD_INPUT) {
        crate::bad_input!(
            "{} --list-json refused its arguments (see above)",
            suite.display()
        );
    }
    anyhow::ensure!(
        out.status.success(),
        "{} --list-json failed ({})",
        suite.display(),
        out.status
    );
    parse_specs(&out.stdout, &format!("{} --list-json", suite.display()))
}

fn parse_specs(bytes: &[u8], source: &str) -> Result<Vec<WorkloadSpec>> {
    serde_json::from_slice(bytes)
        .with_context(|| format!("{source}: not a JSON array of workload specs"))
}

/// For each (op, dtype, device), the workload with the smallest footprint: the size the
/// cross-check runs at (every size is also checked against an f64 reference by the runner).
fn cross_check_ids(specs: &[WorkloadSpec]) -> Vec<String> {
    let mut smallest: BTreeMap<(&str, &str, &str), &WorkloadSpec> = BTreeMap::new();
    for s in specs {
        let key = (s.op.as_str(), s.dtype.name(), s.device.as_str());
        let entry = smallest.entry(key).or_insert(s);
        if s.footprint_bytes < entry.footprint_bytes {
            *entry = s;
        }
    }
    smallest.values().map(|s| s.id.clone()).collect()
}

fn exact_ids_filter(ids: &[String]) -> String {
    let alternatives: Vec<String> = ids.iter().map(|id| regex::escape(id)).collect();
    format!("^(?:{})$", alternatives.join("|"))
}

fn dump_tensors(
    suite: &Path,
    sel: &Selection,
    specs: &[WorkloadSpec],
    dir: &Path,
    limit: Duration,
) -> Result<()> {
    let filter = exact_ids_filter(&cross_check_ids(specs));
    let mut cmd = Command::new(suite);
    cmd.arg("--dump-tensors")
        .arg(dir)
        .args(sel.suite_args(Some(&filter)));
    if let Some(seed) = &sel.seed {
        cmd.args(["--seed", seed]);
    }
    cmd.stdin(Stdio::null()).stdout(Stdio::null());
    let what = format!("{} --dump-tensors", suite.display());
    let status = child::status_within(&mut cmd, &what, limit)?;
    anyhow::ensure!(
        status.success(),
        "{} --dump-tensors failed ({status})",
        suite.display()
    );
    anyhow::ensure!(
        dir.is_dir(),
        "{} --dump-tensors wrote no tensors",
        suite.display()
    );
    Ok(())
}

enum RunnerExit {
    /// The runner ran to its end: an exit code, or a signal that killed it.
    Finished(std::process::ExitStatus),
    /// The runner ran past its limit and was stopped (this says so) with what it started.
    Stopped(String),
    /// The interpreter could not be started: every peer measurement is skipped with this reason.
    NotStarted(String),
}

/// The `python/` directory the runner package lives in.
fn python_dir() -> PathBuf {
    crate::workspace::root().join("python")
}

fn runner_command(
    python: &Path,
    sel: &Selection,
    peers: &[String],
    workloads: &Path,
    tensors: Option<&Path>,
    out: &Path,
) -> Command {
    let mut cmd = Command::new(python);
    cmd.args(["-m", "tensorbench_peers", "--workloads"])
        .arg(workloads)
        .arg("--out")
        .arg(out)
        .args(["--peers", &peers.join(",")]);
    for (flag, value) in [
        ("--profile", &sel.profile),
        ("--threads", &sel.threads),
        ("--seed", &sel.seed),
    ] {
        if let Some(v) = value {
            cmd.args([flag, v]);
        }
    }
    if sel.cold {
        cmd.arg("--cold");
    }
    if let Some(t) = tensors {
        cmd.arg("--tensors").arg(t);
    }
    let mut path = vec![python_dir()];
    path.extend(
        std::env::var_os("PYTHONPATH")
            .iter()
            .flat_map(std::env::split_paths),
    );
    cmd.env("PYTHONPATH", std::env::join_paths(path).unwrap_or_default());
    cmd.stdin(Stdio::null());
    cmd
}

/// Runs the runner `cmd` (by `python`) within `limit`; past it the runner is stopped with what it
/// started, and the answer says so, naming it and the limit.
fn run_runner(mut cmd: Command, python: &Path, limit: Duration) -> Result<RunnerExit> {
    let what = format!(
        "the peers runner ({} -m tensorbench_peers)",
        python.display()
    );
    let status = match child::status_within(&mut cmd, &what, limit) {
        Ok(s) => s,
        Err(tensorbench_core::Error::Spawn { source, .. }) => {
            return Ok(RunnerExit::NotStarted(format!(
                "Python not found ({}: {source}): run `cargo xtask peers setup`",
                python.display()
            )));
        }
        Err(e @ tensorbench_core::Error::TimedOut { .. }) => {
            return Ok(RunnerExit::Stopped(e.to_string()));
        }
        Err(e) => return Err(e.into()),
    };
    if status.code() == Some(RUNNER_BAD_INPUT) {
        crate::bad_input!("the peers runner refused its input (see its message above)");
    }
    Ok(RunnerExit::Finished(status))
}

/// What the runner wrote before it ended (nothing, if it never opened its output).
fn written_measurements(out: &Path) -> Result<Vec<Measurement>> {
    if out.exists() {
        read_measurements(out)
    } else {
        Ok(Vec::new())
    }
}

/// `written`, plus a `failed` measurement (saying how the runner `ended`) for every peer
/// measurement it should have written and did not: a runner that crashed or was stopped
/// mid-run never passes for one that measured everything. Noted when any was missing.
fn with_the_rest_failed(
    mut written: Vec<Measurement>,
    specs: &[WorkloadSpec],
    peers: &[String],
    mode: CacheMode,
    ended: &str,
    outcome: &mut PeersOutcome,
) -> Vec<Measurement> {
    let reason = format!("{ended} before measuring it");
    let missing: Vec<Measurement> = skipped_all(specs, peers, mode, &reason)
        .into_iter()
        .filter(|m| !written.iter().any(|w| w.id == m.id))
        .map(|mut m| {
            m.status = Status::Failed;
            m
        })
        .collect();
    if !missing.is_empty() {
        outcome.notes.push(format!(
            "{ended}: {} peer measurement(s) recorded failed",
            missing.len()
        ));
    }
    written.extend(missing);
    written
}

/// The id a peer measurement of `spec` gets, as the runner builds it:
/// `peers/<op>/<framework>/<dtype>/<params as in the spec id>` (`peers-cuda/...` off the host).
pub fn peer_id(spec: &WorkloadSpec, framework: &str) -> String {
    let suite = if spec.device == "cpu" {
        "peers".to_string()
    } else {
        format!(
            "peers-{}",
            spec.device.split(':').next().unwrap_or_default()
        )
    };
    let params = spec.id.splitn(5, '/').nth(4).unwrap_or_default();
    format!(
        "{suite}/{}/{framework}/{}/{params}",
        spec.op,
        spec.dtype.name()
    )
}

/// One skipped measurement per distinct peer id, for when the runner cannot start at all.
fn skipped_all(
    specs: &[WorkloadSpec],
    peers: &[String],
    mode: CacheMode,
    reason: &str,
) -> Vec<Measurement> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for spec in specs {
        for fw in peers {
            let id = peer_id(spec, fw);
            if !seen.insert(id.clone()) {
                continue;
            }
            let mut m = skipped(spec, mode, reason);
            m.id = id;
            m.backend = fw.clone();
            m.extra
                .insert("peer_of".into(), serde_json::json!([spec.id]));
            out.push(m);
        }
    }
    out
}

/// Reads the runner's JSON Lines; a torn last line (a crash mid-write) is dropped, any other bad
/// line is an error naming the file, the line and the field.
fn read_measurements(path: &Path) -> Result<Vec<Measurement>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        match serde_json::from_str::<Measurement>(line) {
            Ok(m) => out.push(m),
            Err(e) if i + 1 == lines.len() && e.is_eof() => break,
            Err(e) => anyhow::bail!("{}: line {}: not a measurement: {e}", path.display(), i + 1),
        }
    }
    Ok(out)
}

/// Adds `measurements` to the run file (replacing any with the same id), placing each under the
/// roofline measured in that run, and writes the file back atomically.
fn append_to_run(run_file: &Path, measurements: &[Measurement]) -> Result<()> {
    let mut run =
        store::load_run(run_file).map_err(|e| anyhow::Error::new(BadInput(e.to_string())))?;
    for m in measurements {
        let mut m = m.clone();
        if let Some(median) = m.stats.as_ref().map(|s| s.median_ns) {
            m.roofline = roofline::classify_measurement(&run.peaks, &m, median * 1e-9);
        }
        run.measurements.retain(|old| old.id != m.id);
        run.measurements.push(m);
    }
    let target = if run_file.extension().is_some_and(|e| e == "jsonl") {
        run_file.with_extension("json")
    } else {
        run_file.to_path_buf()
    };
    store::write_json_atomic(&target, &run)?;
    Ok(())
}

/// A scratch directory for the protocol files, removed when dropped.
struct Scratch {
    path: PathBuf,
}

impl Scratch {
    fn new() -> Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path =
            std::env::temp_dir().join(format!("tensorbench-peers-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self { path })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tensorbench_core::DType;
    use tensorbench_core::schema::Run;

    fn spec(op: &str, params: &[(&str, u64)], backend: &str) -> WorkloadSpec {
        let mut s = WorkloadSpec::new("cpu-simd", op, backend, DType::F32)
            .cost(1e6, 4e6)
            .threads(1);
        for (k, v) in params {
            s = s.param(k, *v);
        }
        s.footprint(params.iter().map(|(_, v)| v * 4).sum())
    }

    fn specs() -> Vec<WorkloadSpec> {
        vec![
            spec("add", &[("n", 4096)], "simd"),
            spec("add", &[("n", 1024)], "scalar"),
            spec("add", &[("n", 1024)], "simd"),
            spec("gemm", &[("m", 16), ("n", 8), ("k", 32)], "simd"),
        ]
    }

    /// The Python to run the runner with in tests, or why the test is skipped.
    fn python_with_numpy() -> Option<PathBuf> {
        let python =
            std::env::var_os("TENSORBENCH_PYTHON").map_or_else(default_python, PathBuf::from);
        let ok = Command::new(&python)
            .args(["-c", "import numpy"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            eprintln!(
                "skipped: {} cannot import numpy (run `cargo xtask peers setup`)",
                python.display()
            );
        }
        ok.then_some(python)
    }

    fn write_run(dir: &Path, measurements: &[Measurement]) -> PathBuf {
        let run: Run = serde_json::from_value(serde_json::json!({
            "schema_version": tensorbench_core::schema::SCHEMA_VERSION,
            "run_id": "r", "target": "cpu", "profile": "quick", "command": "test",
            "started_at": "2026-01-01T00:00:00Z", "finished_at": null, "status": "complete",
            "git": {"commit": null, "dirty": null, "branch": null},
            "machine": {"hostname": null, "cpu_model": null, "arch": "x86_64", "physical_cores": null,
                        "logical_cores": 2, "caches": {"l1d": null, "l2": null, "l3": null},
                        "features": [], "memory_bytes": null, "os": null, "kernel": null, "rustc": null,
                        "governor": null, "load_avg_1m": null},
            "build_profile": "bench", "config": {},
            "peaks": {"cpu": {"bandwidth_gbps": 10.0, "compute_gflops": 100.0}},
            "measurements": measurements,
        }))
        .unwrap();
        let path = dir.join("run.json");
        store::write_json_atomic(&path, &run).unwrap();
        path
    }

    fn ok_measurement(id: &str, median_ns: f64) -> Measurement {
        let mut m = skipped(&specs()[0], CacheMode::Hot, "x");
        m.id = id.into();
        m.status = Status::Ok;
        m.reason = None;
        m.stats = tensorbench_core::stats::summarize(&[median_ns; 12], 0.95);
        m
    }

    #[test]
    fn selection_is_read_from_suite_args() {
        let args: Vec<String> = [
            "--events",
            "--profile",
            "standard",
            "--out",
            "results",
            "--filter=add",
            "--threads",
            "2",
            "--cold",
            "--seed",
            "9",
            "--command",
            "cargo xtask bench",
        ]
        .map(String::from)
        .to_vec();
        let sel = Selection::from_suite_args(&args);
        assert_eq!(sel.profile.as_deref(), Some("standard"));
        assert_eq!(sel.filter.as_deref(), Some("add"));
        assert_eq!(
            (sel.threads.as_deref(), sel.seed.as_deref(), sel.cold),
            (Some("2"), Some("9"), true)
        );
        assert_eq!(
            sel.suite_args(None),
            ["--profile", "standard", "--filter", "add", "--threads", "2"]
        );
        assert_eq!(sel.suite_args(Some("^x$"))[3], "^x$");
    }

    #[test]
    fn peer_ids_keep_the_params_text_of_the_suite_id() {
        let s = spec("gemm", &[("m", 16), ("n", 8), ("k", 32)], "simd");
        assert_eq!(peer_id(&s, "numpy"), "peers/gemm/numpy/f32/k=32,m=16,n=8");
        assert_eq!(
            peer_id(&s.clone().device("cuda:0"), "torch"),
            "peers-cuda/gemm/torch/f32/k=32,m=16,n=8"
        );
    }

    #[test]
    fn the_smallest_workload_of_each_op_is_dumped_and_matched_exactly() {
        let ids = cross_check_ids(&specs());
        assert_eq!(
            ids,
            [
                "cpu-simd/add/scalar/f32/n=1024",
                "cpu-simd/gemm/simd/f32/k=32,m=16,n=8"
            ]
        );
        let re = regex::Regex::new(&exact_ids_filter(&ids)).unwrap();
        assert!(re.is_match("cpu-simd/add/scalar/f32/n=1024"));
        assert!(!re.is_match("cpu-simd/add/scalar/f32/n=10240"));
        assert!(!re.is_match("cpu-simd/add/simd/f32/n=1024"));
    }

    #[test]
    fn unknown_or_no_peers_are_bad_input() {
        let e = check_peers(&["numpy".into(), "tf".into()]).unwrap_err();
        assert!(e.downcast_ref::<BadInput>().is_some() && e.to_string().contains("\"tf\""));
        assert!(check_peers(&[]).is_err());
        assert!(check_peers(&["jax".into(), "torch".into()]).is_ok());
    }

    #[test]
    fn measurement_lines_drop_a_torn_tail_and_name_a_bad_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.jsonl");
        let line = serde_json::to_string(&ok_measurement("peers/a", 10.0)).unwrap();
        std::fs::write(&path, format!("{line}\n{}", &line[..line.len() / 2])).unwrap();
        assert_eq!(read_measurements(&path).unwrap().len(), 1);
        std::fs::write(&path, format!("{{\"id\": 3}}\n{line}\n")).unwrap();
        let e = read_measurements(&path).unwrap_err().to_string();
        assert!(e.contains("m.jsonl: line 1"), "{e}");
    }

    #[test]
    fn appending_replaces_same_ids_and_places_on_the_roofline() {
        let dir = tempfile::tempdir().unwrap();
        let run_file = write_run(
            dir.path(),
            &[
                ok_measurement("cpu-simd/x", 5.0),
                ok_measurement("peers/a", 1.0),
            ],
        );
        append_to_run(
            &run_file,
            &[
                ok_measurement("peers/a", 1e6),
                ok_measurement("peers/b", 2e6),
            ],
        )
        .unwrap();
        let run = store::load_run(&run_file).unwrap();
        let ids: Vec<&str> = run.measurements.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["cpu-simd/x", "peers/a", "peers/b"]);
        let a = run.get("peers/a").unwrap();
        assert_eq!(a.stats.as_ref().unwrap().median_ns, 1e6);
        // 4 MB in 1 ms = 4 GB/s of the run's 10 GB/s.
        let r = a.roofline.as_ref().unwrap();
        assert!((r.pct_of_peak - 0.4).abs() < 1e-9, "{r:?}");
    }

    #[test]
    fn a_missing_python_is_a_skip_line_per_peer_measurement() {
        let dir = tempfile::tempdir().unwrap();
        let sel = Selection::default();
        let peers = ["numpy".to_string(), "jax".to_string()];
        let python = Path::new("/nonexistent/python3");
        let (w, o) = (dir.path().join("w.json"), dir.path().join("o"));
        let cmd = runner_command(python, &sel, &peers, &w, None, &o);
        let exit = run_runner(cmd, python, Duration::from_secs(60)).unwrap();
        let RunnerExit::NotStarted(reason) = exit else {
            panic!("expected NotStarted")
        };
        assert!(reason.contains("cargo xtask peers setup"));
        let ms = skipped_all(&specs(), &peers, CacheMode::Hot, &reason);
        assert_eq!(ms.len(), 6); // 3 distinct shapes x 2 frameworks
        assert!(
            ms.iter().all(
                |m| m.status == Status::Skipped && m.reason.as_deref() == Some(reason.as_str())
            )
        );
        assert_eq!(ms[0].id, "peers/add/numpy/f32/n=4096");
        assert_eq!(ms[1].backend, "jax");
    }

    /// An executable shell script at `dir/name`.
    fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// Whether a process whose command line holds `marker` is still running a second from now
    /// (SIGKILL lands asynchronously; an orphan is reaped by whoever adopts it).
    fn running(marker: &str) -> bool {
        let now = || {
            let dirs = std::fs::read_dir("/proc").into_iter().flatten().flatten();
            dirs.filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
                .any(|c| String::from_utf8_lossy(&c).contains(marker))
        };
        (0..50).all(|_| {
            let alive = now();
            if alive {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            alive
        })
    }

    /// A stand-in `python` that starts a child and then never answers: the runner is stopped at
    /// its limit, with the child, and the error names it and the limit.
    #[test]
    fn a_stalled_peers_runner_is_stopped_at_its_limit_with_what_it_started() {
        let dir = tempfile::tempdir().unwrap();
        let marker = format!("{}", 86_400 + std::process::id());
        let python = script(
            dir.path(),
            "python",
            &format!("sleep {marker} &\nexec sleep {marker}"),
        );
        let o = dir.path().join("o");
        let cmd = runner_command(
            &python,
            &Selection::default(),
            &["numpy".into()],
            &o,
            None,
            &o,
        );
        let started = std::time::Instant::now();
        let exit = run_runner(cmd, &python, Duration::from_millis(500)).unwrap();
        let RunnerExit::Stopped(err) = exit else {
            panic!("a stalled runner is stopped")
        };
        assert!(
            err.contains("peers runner") && err.contains("still running after"),
            "{err}"
        );
        assert!(started.elapsed() < Duration::from_secs(30), "no hang");
        assert!(!running(&marker), "nothing the runner started is left");
    }

    /// A stand-in `python` that writes one measurement and then crashes (`kill -SEGV`) or hangs,
    /// run through `run_peers` as bench runs it: what it wrote is kept, and every peer
    /// measurement it never wrote is `failed` saying how the runner ended; no panic, no error,
    /// exit code 1, nothing it started left running.
    #[test]
    fn a_peers_runner_that_crashes_or_hangs_records_the_rest_failed_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("specs.json");
        std::fs::write(&list, serde_json::to_vec(&specs()).unwrap()).unwrap();
        let suite = script(
            dir.path(),
            "suite",
            &format!("[ \"$1\" = --list-json ] && cat '{}'", list.display()),
        );
        let first = ok_measurement(&peer_id(&specs()[0], "numpy"), 7.0);
        let line = serde_json::to_string(&first).unwrap();
        let marker = format!("{}", 93_000 + std::process::id());
        for (then, why) in [
            ("kill -SEGV $$".to_string(), "killed by SIGSEGV (11)"),
            (
                format!("sleep {marker} & exec sleep {marker}"),
                "still running after",
            ),
        ] {
            // `--out FILE` is the runner's output: the stand-in writes one line to it, then `then`.
            let body = format!(
                "while [ \"$1\" != --out ]; do shift; done\necho '{line}' > \"$2\"\n{then}"
            );
            let python = script(dir.path(), "python", &body);
            let run_file = write_run(dir.path(), &[ok_measurement("cpu-simd/x", 5.0)]);
            let limits = Limits {
                list: Duration::from_secs(1),
                ..Limits::new(Duration::from_millis(100))
            };
            let outcome = run_peers(&suite, &[], &["numpy".into()], &run_file, &python, &limits)
                .unwrap_or_else(|e| {
                    panic!("{why}: a broken runner is recorded, not an error: {e:#}")
                });
            assert_eq!(
                (
                    outcome.appended,
                    outcome.ok,
                    outcome.failed,
                    outcome.exit_code()
                ),
                (3, 1, 2, 1),
                "{why}: {outcome:?}"
            );
            assert!(
                outcome.notes.iter().any(|n| n.contains(why)),
                "{:?}",
                outcome.notes
            );
            let run = store::load_run(&run_file).expect("the run file parses");
            assert_eq!(run.get(&first.id).map(|m| m.status), Some(Status::Ok));
            let failed: Vec<&Measurement> = run
                .measurements
                .iter()
                .filter(|m| m.status == Status::Failed)
                .collect();
            assert_eq!(failed.len(), 2, "{why}");
            for m in failed {
                let reason = m.reason.as_deref().unwrap_or_default();
                assert!(
                    reason.contains("peers runner") && reason.contains(why),
                    "{reason}"
                );
            }
        }
        assert!(!running(&marker), "nothing the runner started is left");
    }

    /// A stand-in suite whose `--list-json` or `--dump-tensors` never ends: each is stopped at
    /// its limit, and the error names the call.
    #[test]
    fn a_suite_that_stalls_listing_or_dumping_is_stopped_at_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let marker = format!("{}", 90_000 + std::process::id());
        let suite = script(dir.path(), "suite", &format!("exec sleep {marker}"));
        let (sel, limit) = (Selection::default(), Duration::from_millis(300));
        let err = format!("{:#}", list_workloads(&suite, &sel, limit).unwrap_err());
        assert!(err.contains("--list-json was still running"), "{err}");
        let tensors = dir.path().join("t");
        let err = dump_tensors(&suite, &sel, &specs(), &tensors, limit).unwrap_err();
        assert!(
            format!("{err:#}").contains("--dump-tensors was still running"),
            "{err:#}"
        );
        assert!(!running(&marker));
    }

    #[test]
    fn runner_output_deserialises_into_measurements() {
        let Some(python) = python_with_numpy() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let workloads = dir.path().join("w.json");
        std::fs::write(&workloads, serde_json::to_vec(&specs()).unwrap()).unwrap();
        let out = dir.path().join("o.jsonl");
        let peers = ["numpy".to_string(), "torch".to_string()];
        let sel = Selection {
            seed: Some("5".into()),
            ..Selection::default()
        };
        let cmd = runner_command(&python, &sel, &peers, &workloads, None, &out);
        let exit = run_runner(cmd, &python, Duration::from_secs(300)).unwrap();
        assert!(matches!(exit, RunnerExit::Finished(s) if s.success()));
        let ms = read_measurements(&out).unwrap();
        assert_eq!(ms.len(), 6);
        for m in ms.iter().filter(|m| m.backend == "numpy") {
            assert_eq!(m.status, Status::Ok, "{:?}", m.reason);
            let st = m.stats.as_ref().unwrap();
            assert!(st.ci_low_ns <= st.median_ns && st.median_ns <= st.ci_high_ns);
            assert!(m.validation.as_ref().unwrap().passed);
            assert_eq!(
                m.id,
                peer_id(
                    &specs()
                        .into_iter()
                        .find(|s| m.extra["peer_of"][0] == s.id.as_str())
                        .unwrap(),
                    "numpy"
                )
            );
        }
        // torch is either measured or a skip line saying how to install it.
        for m in ms.iter().filter(|m| m.backend == "torch") {
            assert!(
                m.status == Status::Ok
                    || m.reason.as_deref() == Some("torch is not installed: pip install torch")
            );
        }
    }

    /// A Python that runs the pure-Python statistics (no NumPy needed).
    fn plain_python() -> Option<PathBuf> {
        let python =
            std::env::var_os("TENSORBENCH_PYTHON").map_or_else(default_python, PathBuf::from);
        let ok = Command::new(&python)
            .args(["-c", "import statistics"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            eprintln!("skipped: no Python at {}", python.display());
        }
        ok.then_some(python)
    }

    /// Sample sets the parity test feeds both sides: periodic with outliers, small n (range and
    /// independent intervals), a slowly wandering series (the dependence-aware interval), a step
    /// (the drift check) and ties.
    fn parity_sets() -> Vec<Vec<f64>> {
        let periodic: Vec<f64> = (0..257)
            .map(|i| 1000.0 + f64::from((i * 37) % 101) + if i % 50 == 0 { 900.0 } else { 0.0 })
            .collect();
        let wandering: Vec<f64> = (0..400)
            .map(|i| 1000.0 + 20.0 * (f64::from(i) / 30.0).sin() + f64::from((i * 13) % 7))
            .collect();
        let step: Vec<f64> = (0..120)
            .map(|i| if i < 60 { 1000.0 } else { 1100.0 } + f64::from(i % 5))
            .collect();
        let ties: Vec<f64> = (0..64).map(|i| f64::from(100 + (i % 3) * 20)).collect();
        vec![
            periodic,
            vec![3.0, 1.0, 2.0],
            (0..12).map(|i| f64::from((i * 7) % 12)).collect(),
            wandering,
            step,
            ties,
        ]
    }

    #[test]
    fn python_stats_equal_core_stats() {
        let Some(python) = plain_python() else {
            return;
        };
        let sets = parity_sets();
        let script = format!(
            "import json; from tensorbench_peers.stats import summarize_checked; \
             print(json.dumps([summarize_checked(s, 0.95) for s in {}]))",
            serde_json::to_string(&sets).unwrap()
        );
        let out = Command::new(&python)
            .args(["-c", &script])
            .env("PYTHONPATH", python_dir())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let all: Vec<(tensorbench_core::schema::Stats, Option<String>)> =
            serde_json::from_slice(&out.stdout).unwrap();
        for (samples, (theirs, their_why)) in sets.iter().zip(all) {
            let (ours, our_why) =
                tensorbench_core::stats::summarize_checked(samples, 0.95).unwrap();
            assert_eq!(theirs.outliers, ours.outliers);
            assert_eq!(theirs.ci_method, ours.ci_method, "n={}", samples.len());
            assert_eq!(their_why, our_why, "n={}", samples.len());
            let eff = |s: &tensorbench_core::schema::Stats| s.effective_samples.unwrap_or(0.0);
            // serde_json's float parsing may be one ulp off, so equal within 1e-12.
            for (a, b) in [
                (theirs.median_ns, ours.median_ns),
                (theirs.ci_low_ns, ours.ci_low_ns),
                (theirs.ci_high_ns, ours.ci_high_ns),
                (theirs.confidence, ours.confidence),
                (eff(&theirs), eff(&ours)),
                (theirs.mean_ns, ours.mean_ns),
                (theirs.std_ns, ours.std_ns),
                (theirs.mad_ns, ours.mad_ns),
                (theirs.p05_ns, ours.p05_ns),
                (theirs.p95_ns, ours.p95_ns),
            ] {
                assert!(
                    (a - b).abs() <= 1e-12 * b.abs(),
                    "n={}: {a} vs {b}",
                    samples.len()
                );
            }
        }
        // The sets exercise every method and both verdicts of the drift check.
        let methods: std::collections::BTreeSet<String> = sets
            .iter()
            .map(|s| {
                format!(
                    "{:?}",
                    tensorbench_core::stats::summarize(s, 0.95)
                        .unwrap()
                        .ci_method
                )
            })
            .collect();
        assert_eq!(methods.len(), 3, "{methods:?}");
        assert!(sets.iter().any(|s| {
            tensorbench_core::stats::summarize_checked(s, 0.95)
                .unwrap()
                .1
                .is_some()
        }));
    }

    #[test]
    fn run_peers_end_to_end_with_a_scripted_suite() {
        let Some(python) = python_with_numpy() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        // A stand-in suite binary that answers --list-json and dumps nothing.
        let list = dir.path().join("specs.json");
        std::fs::write(&list, serde_json::to_vec(&specs()).unwrap()).unwrap();
        let suite = dir.path().join("suite.sh");
        std::fs::write(
            &suite,
            format!(
                "#!/bin/sh\nif [ \"$1\" = --list-json ]; then cat '{}'; fi\n",
                list.display()
            ),
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&suite, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let run_file = write_run(dir.path(), &[ok_measurement("cpu-simd/x", 5.0)]);
        let outcome = run_peers(
            &suite,
            &["--seed".into(), "3".into()],
            &["numpy".into()],
            &run_file,
            &python,
            &Limits::new(Duration::from_secs(60)),
        )
        .unwrap();
        assert_eq!(
            (outcome.appended, outcome.ok, outcome.exit_code()),
            (3, 3, 0),
            "{outcome:?}"
        );
        let run = store::load_run(&run_file).unwrap();
        assert_eq!(run.measurements.len(), 4);
        assert!(
            run.get("peers/gemm/numpy/f32/k=32,m=16,n=8")
                .is_some_and(|m| m.roofline.is_some())
        );
    }

    #[test]
    fn uv_and_pip_install_the_same_requirements_into_the_venv() {
        let (venv, req) = (Path::new("/v"), Path::new("/r.txt"));
        let python = venv_python(venv);
        let uv = Installer::Uv.install(&python, req);
        assert_eq!(
            shown(&uv),
            "uv pip install --python /v/bin/python -r /r.txt"
        );
        let pip = Installer::Pip.install(&python, req);
        assert_eq!(shown(&pip), "/v/bin/python -m pip install -r /r.txt");
        let base = Path::new("python3");
        assert_eq!(
            shown(&Installer::Uv.create_venv(base, venv)),
            "uv venv --python python3 /v"
        );
        assert_eq!(
            shown(&Installer::Pip.create_venv(base, venv)),
            "python3 -m venv /v"
        );
    }

    /// pyproject.toml's extras and the requirements files setup installs carry the same pins,
    /// so `pip install tensorbench-peers[jax]` gets what `cargo xtask peers setup` tested.
    #[test]
    fn pyproject_extras_pin_what_setup_installs() {
        let root = crate::workspace::root();
        let read = |f: &str| std::fs::read_to_string(root.join(f)).unwrap();
        let pyproject = read("python/pyproject.toml");
        let quoted = regex::Regex::new(r#""([A-Za-z0-9_.\-]+)(\[[a-z,]+\])?==([^"]+)""#).unwrap();
        let mut extras: Vec<(String, String)> = quoted
            .captures_iter(&pyproject)
            .map(|c| (c[1].to_string(), c[3].to_string()))
            .collect();
        let mut installed = pins(&read(REQUIREMENTS));
        installed.extend(pins(&read(TORCH_REQUIREMENTS)));
        for list in [&mut extras, &mut installed] {
            list.sort();
            list.dedup();
        }
        assert!(installed.iter().any(|(n, _)| n == "numpy"), "{installed:?}");
        assert_eq!(extras, installed);
        assert!(pyproject.contains("[build-system]"));
        assert!(pyproject.contains(r#"requires-python = ">=3.11""#));
    }

    #[test]
    fn pins_read_name_and_version_and_drop_extras_and_comments() {
        let text = "# comment\nnumpy==2.4.6\njax[cpu]==0.10.2  # cpu wheels\nloose>=1\n";
        assert_eq!(
            pins(text),
            [
                ("numpy".to_string(), "2.4.6".to_string()),
                ("jax".to_string(), "0.10.2".to_string())
            ]
        );
    }
}
