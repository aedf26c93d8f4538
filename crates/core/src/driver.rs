//! The one driver every suite binary runs: flags, registration, filter, listing, tensor dumps,
//! the run file (new or resumed), progress events, interruption, the memory check, seeds,
//! panic isolation, probes before workloads and ceilings from probes. A target brings its
//! workloads (on their devices), maybe remote executors and a coordinator; nothing else.

use crate::coordinator::{Coordinator, SingleProcess};
use crate::device::{Device, HostCpu};
use crate::error::panic_message;
use crate::events::Event;
use crate::options::{SuiteOptions, exit};
use crate::remote::Batch;
use crate::sampler::{Sampler, SamplerConfig, skipped};
use crate::schema::{CacheMode, DType, Measurement, Peaks, Run, RunStatus, SCHEMA_VERSION, Status};
use crate::store::{self, RunWriter};
use crate::suite::{Ceiling, Entry, Runner, Suite};
use crate::workload::Workload;
use crate::{interrupt, machine};
use clap::{Args, Parser};
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::ops::ControlFlow;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::process::ExitCode;

mod recheck;

/// Why a suite could not run.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// A flag, file or filter at fault; the message names it. Exit code 2. Core's
    /// [`crate::Error::BadInput`] becomes this one.
    #[error("{0}")]
    BadInput(String),
    /// Reading or writing the run file failed. Exit code 1.
    #[error(transparent)]
    Io(crate::Error),
}

/// Core's bad input stays bad input (exit code 2); every other error is [`SuiteError::Io`].
impl From<crate::Error> for SuiteError {
    fn from(e: crate::Error) -> Self {
        match e {
            crate::Error::BadInput { message, .. } => SuiteError::BadInput(message),
            e => SuiteError::Io(e),
        }
    }
}

impl From<tensorbench_schema::Error> for SuiteError {
    fn from(e: tensorbench_schema::Error) -> Self {
        SuiteError::Io(e.into())
    }
}

impl SuiteError {
    /// The exit code this error ends the process with.
    pub fn exit_code(&self) -> u8 {
        match self {
            SuiteError::BadInput(_) | SuiteError::Io(crate::Error::BadInput { .. }) => {
                exit::BAD_INPUT
            }
            SuiteError::Io(_) => exit::INFRASTRUCTURE,
        }
    }
}

/// No flags beyond the common ones.
#[derive(Debug, Clone, Copy, Args)]
pub struct NoFlags;

#[derive(Debug, Parser)]
#[command(about = "Run a tensorbench suite and write its run file")]
struct Flags<A: Args> {
    #[command(flatten)]
    suite: SuiteOptions,
    #[command(flatten)]
    target: A,
}

/// Parses the process arguments, registers the suite and runs it in this one process.
pub fn main(target: &str, register: impl FnOnce(&mut Suite, &SuiteOptions)) -> ExitCode {
    main_with(target, &SingleProcess, |s, o, _: &NoFlags| {
        register(s, o);
        Ok(())
    })
}

/// [`main`] for a suite with flags of its own (`A`) and a coordinator of its own. Every process
/// returns the writer's exit code.
pub fn main_with<A: Args>(
    target: &str,
    coordinator: &dyn Coordinator,
    register: impl FnOnce(&mut Suite, &SuiteOptions, &A) -> Result<(), SuiteError>,
) -> ExitCode {
    let code = match Flags::<A>::try_parse() {
        Ok(flags) => {
            let result = run_with(target, &flags.suite, coordinator, |s, o| {
                register(s, o, &flags.target)
            });
            result.unwrap_or_else(|e| {
                if coordinator.is_writer() {
                    eprintln!("error: {e}");
                }
                e.exit_code()
            })
        }
        Err(e) => {
            if coordinator.is_writer() {
                let _ = e.print();
            }
            if e.use_stderr() {
                exit::BAD_INPUT
            } else {
                exit::OK
            }
        }
    };
    ExitCode::from(coordinator.broadcast(u64::from(code)) as u8)
}

/// Runs a suite with parsed options in this one process; the library form of [`main`].
pub fn run_suite(
    target: &str,
    opts: &SuiteOptions,
    register: impl FnOnce(&mut Suite, &SuiteOptions),
) -> Result<u8, SuiteError> {
    run_with(target, opts, &SingleProcess, |s, o| {
        register(s, o);
        Ok(())
    })
}

/// Runs a suite with parsed options under `coordinator`. Returns this process's exit code.
pub(crate) fn run_with(
    target: &str,
    opts: &SuiteOptions,
    coordinator: &dyn Coordinator,
    register: impl FnOnce(&mut Suite, &SuiteOptions) -> Result<(), SuiteError>,
) -> Result<u8, SuiteError> {
    let config = sampler_config(opts, coordinator)?;
    let mut suite = Suite::default();
    register(&mut suite, opts)?;
    select(&mut suite, opts)?;
    if opts.list || opts.list_json {
        if coordinator.is_writer() {
            print_list(&suite, opts.list_json)?;
        }
        return Ok(exit::OK);
    }
    if let Some(dir) = &opts.dump_tensors {
        return dump(&mut suite, dir, opts.seed.unwrap_or(0));
    }
    if opts.serve {
        let llc = machine::last_level_cache_bytes(&machine::detect());
        return Ok(crate::serve::serve(&mut suite, Sampler::new(config, llc)));
    }
    let prepared = prepare_executors(&mut suite);
    let writer = open_writer(target, opts, &config, &mut suite, coordinator)?;
    let mut driver = Driver::new(opts, coordinator, config, writer, &mut suite);
    driver.emit(|w| Event::Run {
        run_id: w.run().run_id.clone(),
        stream: w.stream_path().to_path_buf(),
    });
    interrupt::install();
    driver.run(&mut suite, &prepared)?;
    driver.recheck(&mut suite)?;
    driver.finish(&mut suite)
}

fn sampler_config(
    opts: &SuiteOptions,
    coordinator: &dyn Coordinator,
) -> Result<SamplerConfig, SuiteError> {
    let mut config = SamplerConfig::profile(opts.profile);
    if opts.cold {
        config.mode = CacheMode::Cold;
    }
    coordinator.configure(&mut config);
    Ok(config)
}

/// Refused flags, the filter and `--no-probes`: everything decided before anything runs.
fn select(suite: &mut Suite, opts: &SuiteOptions) -> Result<(), SuiteError> {
    if let Some((flag, reason)) = suite.refused.iter().find(|(f, _)| opts.given(f)) {
        return Err(SuiteError::BadInput(format!("{flag}: {reason}")));
    }
    if let Some(f) = &opts.filter {
        suite.retain_matching(f)?;
    }
    if opts.no_probes {
        suite.probes.clear();
    }
    Ok(())
}

fn print_list(suite: &Suite, json: bool) -> Result<(), SuiteError> {
    if json {
        let specs: Vec<_> = suite.workloads.iter().map(|e| &e.spec).collect();
        let text = serde_json::to_string_pretty(&specs).map_err(crate::Error::from)?;
        println!("{text}");
        return Ok(());
    }
    // A closed pipe (`--list | head`) is not an error.
    let mut out = std::io::stdout().lock();
    for id in suite.ids() {
        if writeln!(out, "{id}").is_err() {
            break;
        }
    }
    Ok(())
}

fn dump(suite: &mut Suite, dir: &Path, seed: u64) -> Result<u8, SuiteError> {
    let mut workloads: Vec<Box<dyn Workload>> = suite
        .workloads
        .drain(..)
        .filter_map(|e| match e.runner {
            Runner::Local { workload, .. } => Some(workload),
            Runner::Remote(_) => None,
        })
        .collect();
    crate::dump::dump_all(&mut workloads, dir, seed)?;
    Ok(exit::OK)
}

/// Prepares each executor that has a selected workload; its facts go into the run's config.
fn prepare_executors(suite: &mut Suite) -> BTreeMap<usize, crate::Result<()>> {
    let used: HashSet<usize> = suite
        .workloads
        .iter()
        .filter_map(|e| match e.runner {
            Runner::Remote(i) => Some(i),
            Runner::Local { .. } => None,
        })
        .collect();
    let mut prepared = BTreeMap::new();
    for i in used {
        let result = suite.executors[i].prepare().map(|facts| {
            suite.config.extend(facts);
        });
        prepared.insert(i, result);
    }
    prepared
}

/// The writer's run file, new or resumed; `None` on other processes. Every process hears
/// whether the writer could open it.
fn open_writer(
    target: &str,
    opts: &SuiteOptions,
    config: &SamplerConfig,
    suite: &mut Suite,
    coordinator: &dyn Coordinator,
) -> Result<Option<RunWriter>, SuiteError> {
    let writer = if coordinator.is_writer() {
        Some(create_or_resume(target, opts, config, suite, coordinator))
    } else {
        None
    };
    let ok = writer.as_ref().is_none_or(Result::is_ok);
    if !coordinator.all(ok) {
        return Err(match writer {
            Some(Err(e)) => e,
            _ => SuiteError::BadInput("the writing process could not open the run file".into()),
        });
    }
    writer.transpose()
}

fn create_or_resume(
    target: &str,
    opts: &SuiteOptions,
    config: &SamplerConfig,
    suite: &mut Suite,
    coordinator: &dyn Coordinator,
) -> Result<RunWriter, SuiteError> {
    if let Some(stream) = &opts.resume {
        return RunWriter::resume(stream).map_err(|e| SuiteError::BadInput(e.to_string()));
    }
    let machine = crate::schema::Machine {
        gpus: std::mem::take(&mut suite.gpus),
        ..machine::detect()
    };
    let dir = opts
        .out
        .join(store::machine_slug(machine.hostname.as_deref()));
    let mut header = serde_json::Map::new();
    header.insert(
        "sampler".into(),
        serde_json::to_value(config).map_err(crate::Error::from)?,
    );
    header.insert("threads".into(), opts.threads().into());
    header.insert("target_features".into(), compiled_target_features().into());
    header.insert("filter".into(), opts.filter.clone().into());
    header.insert("seed".into(), opts.seed.into());
    header.extend(coordinator.run_config());
    header.extend(suite.config.clone());
    let run = new_run(target, opts, machine, header.into());
    Ok(RunWriter::create(&dir, run)?)
}

/// The header of a new run of `target`: ids, time, git, machine and the given configuration.
pub(crate) fn new_run(
    target: &str,
    opts: &SuiteOptions,
    machine: crate::schema::Machine,
    config: serde_json::Value,
) -> Run {
    Run {
        schema_version: SCHEMA_VERSION,
        run_id: store::new_run_id(target),
        target: target.to_string(),
        profile: opts.profile.to_string(),
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

/// The SIMD target features this binary was compiled with (`-C target-feature`/`target-cpu`):
/// part of a measurement's configuration, since they change what the compiler emits.
fn compiled_target_features() -> Vec<&'static str> {
    let all = [
        ("sse4.2", cfg!(target_feature = "sse4.2")),
        ("avx", cfg!(target_feature = "avx")),
        ("avx2", cfg!(target_feature = "avx2")),
        ("fma", cfg!(target_feature = "fma")),
        ("avx512f", cfg!(target_feature = "avx512f")),
        ("neon", cfg!(target_feature = "neon")),
        ("sve", cfg!(target_feature = "sve")),
        ("simd128", cfg!(target_feature = "simd128")),
    ];
    all.into_iter()
        .filter(|(_, on)| *on)
        .map(|(f, _)| f)
        .collect()
}

fn build_profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}

/// The state of one run while its entries are measured.
struct Driver<'a> {
    opts: &'a SuiteOptions,
    coordinator: &'a dyn Coordinator,
    sampler: Sampler,
    writer: Option<RunWriter>,
    /// Ids the resumed stream already holds (the writer's; agreed per entry).
    done: HashSet<String>,
    seed: u64,
    total: usize,
    code: u8,
    interrupted: bool,
    /// Probes kept (released) after their turn, to measure again at the end of the run.
    kept: Vec<Option<recheck::Kept>>,
    /// The kept probes that measure each ceiling, with their own best rates: (device, key) →
    /// slot in `kept` → GB/s or GFLOP/s.
    measured_by: BTreeMap<(String, String), BTreeMap<usize, f64>>,
}

impl<'a> Driver<'a> {
    fn new(
        opts: &'a SuiteOptions,
        coordinator: &'a dyn Coordinator,
        config: SamplerConfig,
        writer: Option<RunWriter>,
        suite: &mut Suite,
    ) -> Self {
        let llc = machine::last_level_cache_bytes(&machine::detect());
        let done = writer.as_ref().map_or_else(HashSet::new, |w| {
            w.run().measurements.iter().map(|m| m.id.clone()).collect()
        });
        let seed = coordinator.broadcast(opts.seed.unwrap_or_else(clock_seed));
        Self {
            opts,
            coordinator,
            sampler: Sampler::new(config, llc),
            writer,
            done,
            seed,
            total: suite.probes.len() + suite.workloads.len(),
            code: exit::OK,
            interrupted: false,
            kept: Vec::new(),
            measured_by: BTreeMap::new(),
        }
    }

    fn emit(&self, event: impl FnOnce(&RunWriter) -> Event) {
        if let (true, Some(w)) = (self.opts.events, &self.writer) {
            println!("{}", event(w).to_line());
        }
    }

    fn announce(&self, index: usize, entry_spec: &crate::WorkloadSpec) {
        self.coordinator.begin(&entry_spec.id);
        self.emit(|_| Event::Start {
            id: entry_spec.id.clone(),
            index: Some(index),
            total: Some(self.total),
            spec: Some(Box::new(entry_spec.clone())),
        });
    }

    /// Whether every process carries on (no stop was asked for anywhere).
    fn carry_on(&mut self) -> bool {
        if !self.interrupted && !self.coordinator.all(!interrupt::requested()) {
            self.interrupted = true;
        }
        !self.interrupted
    }

    /// Whether the writer's resumed stream holds `id` already, agreed by every process.
    fn already_done(&self, id: &str) -> bool {
        self.coordinator
            .broadcast(u64::from(self.done.contains(id)))
            == 1
    }

    fn seed_of(&self, index: usize) -> u64 {
        self.seed.wrapping_add(index as u64 * 0x9E37_79B9)
    }

    fn run(
        &mut self,
        suite: &mut Suite,
        prepared: &BTreeMap<usize, crate::Result<()>>,
    ) -> Result<(), SuiteError> {
        let mut entries: Vec<(usize, Entry)> = suite
            .probes
            .drain(..)
            .chain(suite.workloads.drain(..))
            .enumerate()
            .filter(|(_, e)| !self.already_done(&e.spec.id))
            .collect::<Vec<_>>();
        entries.reverse();
        while let Some((index, entry)) = entries.pop() {
            if !self.carry_on() {
                break;
            }
            match entry.runner {
                Runner::Local {
                    device,
                    mut workload,
                } => {
                    // The workload's spec now, not at registration: a probe sized by earlier
                    // probes fixes its id only at its turn.
                    self.announce(index, workload.spec());
                    let seed = self.seed_of(index);
                    let base = self.sampler.config.clone();
                    if entry.ceiling.is_some() {
                        self.sampler.config = base.for_probe();
                    }
                    let m = self.measure(device.as_ref(), workload.as_mut(), seed);
                    self.sampler.config = base;
                    if !self.carry_on() {
                        // Cut short mid-sampling: not a result, so not recorded.
                        break;
                    }
                    match entry.ceiling {
                        Some(ceiling) if workload.release() => {
                            let probe = recheck::Kept::new(index, device, workload, ceiling);
                            self.record_kept_probe(m, probe, suite)?;
                        }
                        // Dropped now: its buffers go before the next entry's are made.
                        ceiling => {
                            self.record(m, ceiling, suite)?;
                        }
                    }
                }
                Runner::Remote(k) => {
                    let mut batch = vec![(index, entry.spec)];
                    while let Some((
                        _,
                        Entry {
                            runner: Runner::Remote(j),
                            ..
                        },
                    )) = entries.last()
                        && *j == k
                    {
                        let (i, e) = entries.pop().expect("just looked at it");
                        batch.push((i, e.spec));
                    }
                    self.run_remote(suite, k, &batch, &prepared[&k])?;
                }
            }
        }
        Ok(())
    }

    /// Measures one workload in this process, turning a panic into a `failed` measurement and
    /// skipping what would not fit in free memory (on any process).
    fn measure(&mut self, device: &dyn Device, w: &mut dyn Workload, seed: u64) -> Measurement {
        let spec = w.spec().clone();
        let mode = self.sampler.config.mode;
        let shortfall = memory_shortfall(spec.footprint_bytes);
        if !self.coordinator.all(shortfall.is_none()) {
            let reason = shortfall.unwrap_or_else(|| {
                format!(
                    "needs {} MiB, more than 80% of the memory available to another process of this run",
                    spec.footprint_bytes >> 20
                )
            });
            return skipped(&spec, mode, reason);
        }
        let peaks = self.peaks();
        let sampler = &mut self.sampler;
        let measured = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let mut m = sampler.measure_on(device, w, seed, &peaks);
            w.annotate(&mut m);
            m
        }));
        let mut m = measured.unwrap_or_else(|payload| {
            let msg = panic_message(payload.as_ref());
            self.coordinator.panicked(&spec.id, &msg);
            let mut m = skipped(&spec, mode, format!("panicked: {msg}"));
            m.status = Status::Failed;
            m
        });
        self.coordinator.measured(&mut m);
        m
    }

    fn peaks(&self) -> Peaks {
        self.writer
            .as_ref()
            .map(|w| w.run().peaks.clone())
            .unwrap_or_default()
    }

    /// Hands consecutive remote entries to their executor as one batch, announcing and recording
    /// each as it comes back.
    fn run_remote(
        &mut self,
        suite: &mut Suite,
        k: usize,
        batch: &[(usize, crate::WorkloadSpec)],
        prepared: &crate::Result<()>,
    ) -> Result<(), SuiteError> {
        let mode = self.sampler.config.mode;
        if let Err(why) = prepared {
            let reason = why.to_string();
            for (index, spec) in batch {
                self.announce(*index, spec);
                self.record(skipped(spec, mode, reason.clone()), None, suite)?;
            }
            return Ok(());
        }
        let specs: Vec<_> = batch.iter().map(|(_, s)| s.clone()).collect();
        let seeds: Vec<u64> = batch.iter().map(|(i, _)| self.seed_of(*i)).collect();
        let request = Batch {
            specs: &specs,
            seeds: &seeds,
            profile: self.opts.profile.as_str(),
            mode,
        };
        let mut executor = std::mem::replace(&mut suite.executors[k], Box::new(Spent));
        let mut next = 0;
        let mut failure: Option<SuiteError> = None;
        self.announce(batch[0].0, &batch[0].1);
        let outcome = executor.run(&request, &mut |m| {
            let Some((_, expected)) = batch.get(next) else {
                return ControlFlow::Break(());
            };
            let m = if m.id == expected.id {
                m
            } else {
                failed(
                    expected,
                    mode,
                    format!("the runtime returned {} instead", m.id),
                )
            };
            next += 1;
            if let Err(e) = self.record(m, None, suite) {
                failure = Some(e);
                return ControlFlow::Break(());
            }
            if !self.carry_on() {
                return ControlFlow::Break(());
            }
            if let Some((i, s)) = batch.get(next) {
                self.announce(*i, s);
            }
            ControlFlow::Continue(())
        });
        suite.executors[k] = executor;
        if let Some(e) = failure {
            return Err(e);
        }
        if self.interrupted {
            return Ok(());
        }
        let reason = match outcome {
            Err(e) => e.to_string(),
            Ok(()) => "the runtime returned no measurement for it".to_string(),
        };
        for (_, spec) in &batch[next..] {
            self.record(failed(spec, mode, reason.clone()), None, suite)?;
        }
        Ok(())
    }

    /// Records a finished measurement: hooks, event, run file, ceilings. The ceiling keys a
    /// probe published (empty for a result).
    fn record(
        &mut self,
        mut m: Measurement,
        ceiling: Option<Ceiling>,
        suite: &mut Suite,
    ) -> Result<Vec<String>, SuiteError> {
        if matches!(m.status, Status::Failed | Status::Invalid) {
            self.code = exit::SOME_FAILED;
        }
        for hook in &mut suite.on_record {
            hook(&mut m);
        }
        self.emit(|_| Event::Done {
            id: m.id.clone(),
            status: m.status,
        });
        let Some(writer) = self.writer.as_mut() else {
            return Ok(Vec::new());
        };
        let mut published = Vec::new();
        if let Some(ceiling) = &ceiling {
            // A probe is a ceiling, not a result placed under one.
            m.roofline = None;
            published = record_ceiling(writer, &m, ceiling)?;
        }
        writer.record(m)?;
        Ok(published)
    }

    fn finish(mut self, suite: &mut Suite) -> Result<u8, SuiteError> {
        let interrupted = self.interrupted || interrupt::requested();
        let Some(writer) = self.writer.take() else {
            return Ok(self.code);
        };
        let status = if interrupted {
            RunStatus::Interrupted
        } else {
            RunStatus::Complete
        };
        let run = writer.run().clone();
        let path = writer.finish(status)?;
        for hook in suite.on_finish.drain(..) {
            hook(&run);
        }
        eprintln!("run file: {}", path.display());
        if self.opts.events {
            println!("{}", Event::Finished { path, status }.to_line());
        }
        Ok(if interrupted {
            exit::INTERRUPTED
        } else {
            self.code
        })
    }
}

/// Stands in for an executor while it runs (it is moved out so the driver can record).
struct Spent;

impl crate::remote::Executor for Spent {
    fn prepare(&mut self) -> crate::Result<BTreeMap<String, serde_json::Value>> {
        Ok(BTreeMap::new())
    }
    fn run(
        &mut self,
        _batch: &Batch<'_>,
        _record: &mut dyn FnMut(Measurement) -> ControlFlow<()>,
    ) -> crate::Result<()> {
        Ok(())
    }
}

fn failed(spec: &crate::WorkloadSpec, mode: CacheMode, reason: String) -> Measurement {
    let mut m = skipped(spec, mode, reason);
    m.status = Status::Failed;
    m
}

fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Why a workload of `footprint` bytes would not fit in this process's free memory, if so.
pub(crate) fn memory_shortfall(footprint: u64) -> Option<String> {
    let avail = machine::available_memory_bytes()?;
    (footprint > avail / 10 * 8).then(|| {
        format!(
            "needs {} MiB but only {} MiB of memory is available",
            footprint >> 20,
            avail >> 20
        )
    })
}

/// Publishes a probe's ceilings; the keys it published.
fn record_ceiling(
    writer: &mut RunWriter,
    m: &Measurement,
    ceiling: &Ceiling,
) -> Result<Vec<String>, SuiteError> {
    use crate::roofline::{BANDWIDTH_KEY, compute_key, compute_key_at};
    if m.status != Status::Ok {
        return Ok(Vec::new());
    }
    let (gbps, gflops) = crate::roofline::best_rates(m);
    let current = writer
        .run()
        .peaks
        .get(&m.device)
        .cloned()
        .unwrap_or_default();
    // Every key the best of its measurements: a probe measured again never lowers a ceiling.
    let best = |key: &str, v: f64| current.get(key).map_or(v, |b| b.max(v));
    // A compute ceiling counts for its own type only: an int8 probe's rate is no f32 peak.
    let values = match (ceiling, gbps, gflops) {
        (Ceiling::Bandwidth(k), Some(v), _) => BTreeMap::from([
            (k.to_string(), best(k, v)),
            (BANDWIDTH_KEY.into(), best(BANDWIDTH_KEY, v)),
        ]),
        (Ceiling::Compute(k), _, Some(v)) => {
            let (all, at) = (compute_key(m.dtype), compute_key_at(m.dtype, m.threads));
            // bf16 and f16 widen to f32 exactly, so an op of theirs may run as f32 FMAs: their
            // ceiling is never below the f32 peak at the same thread count.
            let f32_floor = |key: String| match m.dtype {
                DType::Bf16 | DType::F16 => current.get(&key).copied().unwrap_or(0.0),
                _ => 0.0,
            };
            let b_all = best(&all, v.max(f32_floor(compute_key(DType::F32))));
            let b_at = best(&at, v.max(f32_floor(compute_key_at(DType::F32, m.threads))));
            BTreeMap::from([(k.to_string(), best(k, v)), (all, b_all), (at, b_at)])
        }
        (Ceiling::Derived(rule), _, _) => rule(m, &current),
        _ => return Ok(Vec::new()),
    };
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let keys = values.keys().cloned().collect();
    writer.record_peaks(&m.device, values)?;
    Ok(keys)
}

/// Measures one workload on the host with panic isolation and the memory check, outside any
/// run (for embedding the sampler in a program of one's own).
pub fn measure_isolated(
    w: &mut dyn Workload,
    sampler: &mut Sampler,
    seed: u64,
    peaks: &Peaks,
) -> Measurement {
    let spec = w.spec().clone();
    if let Some(reason) = memory_shortfall(spec.footprint_bytes) {
        return skipped(&spec, sampler.config.mode, reason);
    }
    std::panic::catch_unwind(AssertUnwindSafe(|| {
        sampler.measure_on(&HostCpu, w, seed, peaks)
    }))
    .unwrap_or_else(|payload| {
        let msg = panic_message(payload.as_ref());
        failed(&spec, sampler.config.mode, format!("panicked: {msg}"))
    })
}
