//! The driver every suite binary shares: registration of workloads and probes, argument parsing,
//! running each workload through the one [`Sampler`] in isolation from the others' failures, and
//! streaming results to the run file. A suite binary is a few lines:
//!
//! ```no_run
//! use tensorbench_core::suite::{self, Suite, SuiteOptions};
//! fn register(suite: &mut Suite, opts: &SuiteOptions) { /* suite.add(...) */ }
//! fn main() -> std::process::ExitCode { suite::main("my-target", register) }
//! ```

use crate::machine;
use crate::sampler::{Sampler, SamplerConfig, skipped};
use crate::schema::{CacheMode, Measurement, Run, RunStatus, SCHEMA_VERSION, Status};
use crate::store::{self, RunWriter};
use crate::workload::Workload;
use clap::Parser;
use std::collections::BTreeMap;
use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit codes shared by suite binaries and xtask.
pub mod exit {
    pub const OK: u8 = 0;
    /// Some measurement failed or was invalid, or (xtask) a confirmed regression.
    pub const SOME_FAILED: u8 = 1;
    /// Bad input: a flag, a file, a filter that matches nothing.
    pub const BAD_INPUT: u8 = 2;
    /// Stopped by SIGINT/SIGTERM; what finished is in the run file, marked `interrupted`.
    pub const INTERRUPTED: u8 = 130;
}

/// Flags every suite binary takes; xtask passes them through.
#[derive(Debug, Clone, Parser)]
#[command(about = "Run a tensorbench suite and write its run file")]
pub struct SuiteOptions {
    /// quick | standard | full
    #[arg(long, default_value = "quick")]
    pub profile: String,
    /// Only workloads whose id matches this regular expression (probes always run).
    #[arg(long)]
    pub filter: Option<String>,
    /// Threads for parallel kernels (default: all logical cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Flush caches before every sample.
    #[arg(long)]
    pub cold: bool,
    /// Results directory; the run goes to `<out>/<machine>/<run-id>.json`.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Base seed for input data (default: from the clock, recorded per measurement).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Skip the roofline probes (measurements then carry no roofline).
    #[arg(long)]
    pub no_probes: bool,
    /// Print the workload ids this invocation would run, one per line, and exit.
    #[arg(long)]
    pub list: bool,
    /// Print the specs this invocation would run as a JSON array, and exit.
    #[arg(long)]
    pub list_json: bool,
    /// Run each selected workload once (no timing) and write its inputs and outputs to this
    /// directory for peer cross-checks: `<dir>/<n>/meta.json` and `<dir>/<n>/<tensor>.f32`.
    #[arg(long)]
    pub dump_tensors: Option<PathBuf>,
    /// Carry on an interrupted run from its `.jsonl` stream, skipping what it finished.
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// The command line to record in the run (xtask passes its own).
    #[arg(long)]
    pub command: Option<String>,
    /// Print one JSON event per line on stdout (for xtask's progress display).
    #[arg(long)]
    pub events: bool,
}

impl SuiteOptions {
    pub fn threads(&self) -> usize {
        self.threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

/// What a probe's result contributes to the run's peaks.
#[derive(Clone)]
pub enum Ceiling {
    /// Publishes the measured GB/s under this key; the best one becomes `bandwidth_gbps`.
    Bandwidth(&'static str),
    /// Publishes the measured GFLOP/s under this key; the best one of each type becomes its
    /// compute ceiling (`compute_gflops` for f32, `compute_gflops_<dtype>` for others), also
    /// under its thread count (`compute_gflops_t1`).
    Compute(&'static str),
    /// The probe's own rule (per-level bandwidths from a working-set sweep, say): given its
    /// measurement and the device's peaks so far, the peaks to publish.
    Derived(std::sync::Arc<DeriveCeiling>),
}

/// The rule of a [`Ceiling::Derived`] probe.
pub type DeriveCeiling =
    dyn Fn(&Measurement, &BTreeMap<String, f64>) -> BTreeMap<String, f64> + Send + Sync;

impl std::fmt::Debug for Ceiling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ceiling::Bandwidth(k) => write!(f, "Bandwidth({k:?})"),
            Ceiling::Compute(k) => write!(f, "Compute({k:?})"),
            Ceiling::Derived(_) => f.write_str("Derived"),
        }
    }
}

struct Entry {
    workload: Box<dyn Workload>,
    ceiling: Option<Ceiling>,
}

/// The registered workloads of one target. Probes run first so every later measurement can be
/// placed on the roofline.
#[derive(Default)]
pub struct Suite {
    probes: Vec<Entry>,
    workloads: Vec<Entry>,
    gpus: Vec<crate::schema::GpuInfo>,
}

impl std::fmt::Debug for Suite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Suite")
            .field("probes", &self.probes.len())
            .field("workloads", &self.workloads.len())
            .finish()
    }
}

impl Suite {
    pub fn add(&mut self, w: impl Workload + 'static) {
        self.workloads.push(Entry {
            workload: Box::new(w),
            ceiling: None,
        });
    }

    pub fn add_boxed(&mut self, w: Box<dyn Workload>) {
        self.workloads.push(Entry {
            workload: w,
            ceiling: None,
        });
    }

    /// A workload that cannot run here (no device, driver, library or build feature): listed and
    /// filtered like any other, and recorded as `skipped` with `reason`.
    pub fn add_skipped(&mut self, spec: crate::WorkloadSpec, reason: impl Into<String>) {
        self.add(crate::workload::Unavailable::new(spec, reason));
    }

    /// A GPU found while registering, recorded in the run's `machine.gpus`.
    pub fn add_gpu(&mut self, gpu: crate::schema::GpuInfo) {
        self.gpus.push(gpu);
    }

    /// A roofline probe: measured like any workload, and its rate becomes a ceiling.
    pub fn add_probe(&mut self, w: impl Workload + 'static, ceiling: Ceiling) {
        self.probes.push(Entry {
            workload: Box::new(w),
            ceiling: Some(ceiling),
        });
    }

    pub fn ids(&self) -> Vec<String> {
        self.probes
            .iter()
            .chain(&self.workloads)
            .map(|e| e.workload.spec().id.clone())
            .collect()
    }

    /// Keeps the workloads whose id matches; probes stay. Errors when the pattern is invalid or
    /// matches no workload.
    pub fn retain_matching(&mut self, pattern: &str) -> Result<(), String> {
        let re = regex::Regex::new(pattern)
            .map_err(|e| format!("--filter {pattern:?} is not a valid regular expression: {e}"))?;
        let total = self.workloads.len();
        self.workloads
            .retain(|e| re.is_match(&e.workload.spec().id));
        if self.workloads.is_empty() {
            return Err(format!(
                "--filter {pattern:?} matches none of the {total} workloads (list them with --list)"
            ));
        }
        Ok(())
    }
}

/// Parses the process arguments, registers the suite and runs it. Returns the exit code.
pub fn main(target: &str, register: impl FnOnce(&mut Suite, &SuiteOptions)) -> ExitCode {
    let opts = match SuiteOptions::try_parse() {
        Ok(o) => o,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::BAD_INPUT
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run_suite(target, &opts, register) {
        Ok(code) => ExitCode::from(code),
        Err(SuiteError::BadInput(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(exit::BAD_INPUT)
        }
        Err(SuiteError::Io(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(exit::SOME_FAILED)
        }
    }
}

#[derive(Debug)]
pub enum SuiteError {
    BadInput(String),
    Io(crate::Error),
}

impl From<crate::Error> for SuiteError {
    fn from(e: crate::Error) -> Self {
        SuiteError::Io(e)
    }
}

/// Runs a suite with parsed options; the library form of [`main`].
pub fn run_suite(
    target: &str,
    opts: &SuiteOptions,
    register: impl FnOnce(&mut Suite, &SuiteOptions),
) -> Result<u8, SuiteError> {
    let mut config = SamplerConfig::profile(&opts.profile).ok_or_else(|| {
        SuiteError::BadInput(format!(
            "--profile {:?}: expected one of quick, standard, full",
            opts.profile
        ))
    })?;
    if opts.cold {
        config.mode = CacheMode::Cold;
    }
    let mut suite = Suite::default();
    register(&mut suite, opts);
    if let Some(f) = &opts.filter {
        suite.retain_matching(f).map_err(SuiteError::BadInput)?;
    }
    if opts.no_probes {
        suite.probes.clear();
    }
    if opts.list {
        // A closed pipe (`--list | head`) is not an error.
        let mut out = std::io::stdout().lock();
        for id in suite.ids() {
            if writeln!(out, "{id}").is_err() {
                break;
            }
        }
        return Ok(exit::OK);
    }
    if opts.list_json {
        let specs: Vec<_> = suite.workloads.iter().map(|e| e.workload.spec()).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&specs).map_err(crate::Error::from)?
        );
        return Ok(exit::OK);
    }
    if let Some(dir) = &opts.dump_tensors {
        let seed = opts.seed.unwrap_or(0);
        let mut workloads: Vec<_> = suite.workloads.drain(..).map(|e| e.workload).collect();
        return crate::dump::dump_all(&mut workloads, dir, seed)
            .map(|_| exit::OK)
            .map_err(SuiteError::Io);
    }
    let gpus = std::mem::take(&mut suite.gpus);
    let mut writer = open_writer(target, opts, &config, gpus)?;
    emit(
        opts,
        serde_json::json!({"event": "run", "run_id": writer.run().run_id, "stream": writer.stream_path()}),
    );
    interrupt::install();
    let machine = writer.run().machine.clone();
    let mut sampler = Sampler::new(config, machine::last_level_cache_bytes(&machine));
    let code = run_entries(&mut suite, &mut sampler, &mut writer, opts)?;
    let status = if interrupt::requested() {
        RunStatus::Interrupted
    } else {
        RunStatus::Complete
    };
    let path = writer.finish(status)?;
    emit(
        opts,
        serde_json::json!({"event": "finished", "path": path, "status": status}),
    );
    Ok(if interrupt::requested() {
        exit::INTERRUPTED
    } else {
        code
    })
}

fn open_writer(
    target: &str,
    opts: &SuiteOptions,
    config: &SamplerConfig,
    gpus: Vec<crate::schema::GpuInfo>,
) -> Result<RunWriter, SuiteError> {
    if let Some(stream) = &opts.resume {
        return RunWriter::resume(stream).map_err(|e| SuiteError::BadInput(e.to_string()));
    }
    let machine = crate::schema::Machine {
        gpus,
        ..machine::detect()
    };
    let dir = opts
        .out
        .join(store::machine_slug(machine.hostname.as_deref()));
    let config = serde_json::json!({
        "sampler": config,
        "threads": opts.threads(),
        "filter": opts.filter,
        "seed": opts.seed,
    });
    let run = new_run(target, opts, machine, config);
    Ok(RunWriter::create(&dir, run)?)
}

/// The header of a new run of `target`: ids, time, git, machine and the given configuration.
/// Shared by every driver (the distributed one too) so run files agree on what they record.
pub fn new_run(
    target: &str,
    opts: &SuiteOptions,
    machine: crate::schema::Machine,
    config: serde_json::Value,
) -> Run {
    Run {
        schema_version: SCHEMA_VERSION,
        run_id: store::new_run_id(target),
        target: target.to_string(),
        profile: opts.profile.clone(),
        command: opts
            .command
            .clone()
            .unwrap_or_else(|| std::env::args().collect::<Vec<_>>().join(" ")),
        started_at: store::now_rfc3339(),
        finished_at: None,
        status: RunStatus::Running,
        git: machine::git_info(Path::new(".")),
        machine,
        build_profile: build_profile().to_string(),
        config,
        peaks: BTreeMap::new(),
        measurements: Vec::new(),
    }
}

/// The text of a panic payload (`&str` or `String`), for `failed` reasons.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".into())
}

fn build_profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}

fn run_entries(
    suite: &mut Suite,
    sampler: &mut Sampler,
    writer: &mut RunWriter,
    opts: &SuiteOptions,
) -> Result<u8, SuiteError> {
    let done: std::collections::HashSet<String> = writer
        .run()
        .measurements
        .iter()
        .map(|m| m.id.clone())
        .collect();
    let base_seed = opts.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    });
    let entries: Vec<Entry> = suite
        .probes
        .drain(..)
        .chain(suite.workloads.drain(..))
        .collect();
    let total = entries.len();
    let mut code = exit::OK;
    for (index, mut entry) in entries.into_iter().enumerate() {
        let id = entry.workload.spec().id.clone();
        if done.contains(&id) {
            continue;
        }
        if interrupt::requested() {
            break;
        }
        emit(
            opts,
            serde_json::json!({
                "event": "start", "id": id, "index": index, "total": total,
                "spec": entry.workload.spec(),
            }),
        );
        let seed = base_seed.wrapping_add(index as u64 * 0x9E37_79B9);
        let m = measure_isolated(entry.workload.as_mut(), sampler, seed, &writer.run().peaks);
        drop(entry.workload);
        if interrupt::requested() {
            // Cut short mid-sampling: not a result, so not recorded.
            break;
        }
        if matches!(m.status, Status::Failed | Status::Invalid) {
            code = exit::SOME_FAILED;
        }
        let mut m = m;
        if let Some(ceiling) = &entry.ceiling {
            // A probe is a ceiling, not a result placed under one.
            m.roofline = None;
            record_ceiling(writer, &m, ceiling)?;
        }
        emit(
            opts,
            serde_json::json!({"event": "done", "id": id, "status": m.status}),
        );
        writer.record(m)?;
    }
    Ok(code)
}

fn record_ceiling(
    writer: &mut RunWriter,
    m: &Measurement,
    ceiling: &Ceiling,
) -> Result<(), SuiteError> {
    use crate::roofline::{BANDWIDTH_KEY, compute_key, compute_key_at};
    let (Status::Ok, Some(tp)) = (m.status, m.throughput.as_ref()) else {
        return Ok(());
    };
    let current = writer
        .run()
        .peaks
        .get(&m.device)
        .cloned()
        .unwrap_or_default();
    let best = |key: &str, v: f64| current.get(key).map_or(v, |b| b.max(v));
    // A compute ceiling counts for its own type only: an int8 probe's rate is no f32 peak.
    let values = match (ceiling, tp.gbps, tp.gflops) {
        (Ceiling::Bandwidth(k), Some(v), _) => BTreeMap::from([
            (k.to_string(), v),
            (BANDWIDTH_KEY.into(), best(BANDWIDTH_KEY, v)),
        ]),
        (Ceiling::Compute(k), _, Some(v)) => {
            let (all, at) = (compute_key(m.dtype), compute_key_at(m.dtype, m.threads));
            let (b_all, b_at) = (best(&all, v), best(&at, v));
            BTreeMap::from([(k.to_string(), v), (all, b_all), (at, b_at)])
        }
        (Ceiling::Derived(rule), _, _) => rule(m, &current),
        _ => return Ok(()),
    };
    if values.is_empty() {
        return Ok(());
    }
    Ok(writer.record_peaks(&m.device, values)?)
}

/// Measures one workload, turning a panic into a `failed` measurement and skipping what would not
/// fit in free memory.
pub fn measure_isolated(
    w: &mut dyn Workload,
    sampler: &mut Sampler,
    seed: u64,
    peaks: &crate::schema::Peaks,
) -> Measurement {
    let spec = w.spec().clone();
    if let Some(avail) = machine::available_memory_bytes() {
        if spec.footprint_bytes > avail / 10 * 8 {
            return skipped(
                &spec,
                sampler.config.mode,
                format!(
                    "needs {} MiB but only {} MiB of memory is available",
                    spec.footprint_bytes >> 20,
                    avail >> 20
                ),
            );
        }
    }
    match std::panic::catch_unwind(AssertUnwindSafe(|| sampler.measure(w, seed, peaks))) {
        Ok(m) => m,
        Err(payload) => {
            let msg = panic_message(payload.as_ref());
            let mut m = skipped(&spec, sampler.config.mode, format!("panicked: {msg}"));
            m.status = Status::Failed;
            m
        }
    }
}

fn emit(opts: &SuiteOptions, event: serde_json::Value) {
    if opts.events {
        println!("{event}");
    }
}

/// SIGINT/SIGTERM handling: the first signal asks the run to stop after writing what it has (the
/// sampler checks between samples); a second one exits at once. The stream on disk is valid either way.
pub mod interrupt {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    static REQUESTED: AtomicBool = AtomicBool::new(false);
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))] // no signals there
    static SIGNALS: AtomicUsize = AtomicUsize::new(0);

    /// Installs the handler once per process; later calls are no-ops.
    pub fn install() {
        #[cfg(not(target_arch = "wasm32"))]
        let _ = ctrlc::set_handler(|| {
            REQUESTED.store(true, Ordering::SeqCst);
            if SIGNALS.fetch_add(1, Ordering::SeqCst) >= 1 {
                eprintln!("second interrupt: exiting now; finished measurements are on disk");
                std::process::exit(i32::from(super::exit::INTERRUPTED));
            }
            eprintln!("interrupt: finishing the run file (press again to exit now)");
        });
    }

    /// Whether a stop was requested.
    pub fn requested() -> bool {
        REQUESTED.load(Ordering::Relaxed)
    }

    /// Asks the run to stop, as a signal would (for embedding and tests).
    pub fn request() {
        REQUESTED.store(true, Ordering::SeqCst);
    }
}
