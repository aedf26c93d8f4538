//! The suite driver for `mpirun`: every rank registers the same workloads and runs each through
//! the core [`Sampler`] in step; rank 0 alone writes the run file. What would make ranks take
//! different paths is agreed on first (seed, memory fit, interruption), and checked after
//! (sample counts and statuses); a rank that panics aborts the whole job naming itself.

use crate::comm::{self, Layout};
use crate::registry::{self, Backend, Entry};
use crate::test_support::{self, Faulty};
use crate::{DistWorkload, watchdog};
use clap::Parser;
use mpi::Threading;
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::process::ExitCode;
use std::time::Duration;
use tensorbench_core::machine;
use tensorbench_core::sampler::{Sampler, SamplerConfig, skipped};
use tensorbench_core::schema::{CacheMode, Measurement, RunStatus, Status};
use tensorbench_core::store::{self, RunWriter};
use tensorbench_core::suite::{SuiteOptions, exit, interrupt};

/// The target name written in run files.
pub const TARGET: &str = "distributed";

/// Flags of `tensorbench-distributed`: every suite flag, plus the distributed ones.
#[derive(Debug, Clone, Parser)]
#[command(about = "Run tensorbench's distributed suite under mpirun; rank 0 writes the run file")]
pub struct DistOptions {
    #[command(flatten)]
    pub suite: SuiteOptions,
    /// Back-ends to measure collectives on (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "mpi,nccl")]
    pub backend: Vec<Backend>,
    /// Seconds a rank may go without progress before the whole job is aborted.
    #[arg(long, default_value_t = 300.0)]
    pub rank_timeout: f64,
}

/// Entry point of the binary: initialises MPI, runs the suite, returns the agreed exit code.
pub fn main() -> ExitCode {
    let Some((universe, _threading)) = mpi::initialize_with_threading(Threading::Multiple) else {
        eprintln!("error: MPI was already initialised");
        return ExitCode::from(exit::SOME_FAILED);
    };
    let layout = Layout::gather();
    install_panic_hook(layout.who());
    let code = match DistOptions::try_parse() {
        Ok(opts) => run(&opts, &layout),
        Err(e) => {
            if layout.rank == 0 {
                let _ = e.print();
            }
            if e.use_stderr() {
                exit::BAD_INPUT
            } else {
                exit::OK
            }
        }
    };
    drop(universe);
    ExitCode::from(code)
}

/// Prefixes panic messages with the rank and host that panicked.
fn install_panic_hook(who: String) {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        eprintln!("{who} panicked:");
        default(info);
    }));
}

/// Runs the suite on every rank; returns rank 0's exit code (broadcast, so all ranks agree).
pub fn run(opts: &DistOptions, layout: &Layout) -> u8 {
    if opts.rank_timeout.is_finite() && opts.rank_timeout > 0.0 {
        // Started before registration: setting up NCCL is collective and could hang too.
        watchdog::start(layout.who(), Duration::from_secs_f64(opts.rank_timeout));
        watchdog::begin("registration");
    }
    let code = match prepare_run(opts, layout) {
        Ok(Some(mut plan)) => plan.execute(opts, layout),
        Ok(None) => exit::OK,
        Err(msg) => {
            if layout.rank == 0 {
                eprintln!("error: {msg}");
            }
            exit::BAD_INPUT
        }
    };
    comm::broadcast_u64(u64::from(code)) as u8
}

/// Everything decided before the first workload.
struct Plan {
    entries: Vec<Entry>,
    sampler: Sampler,
    seed: u64,
    writer: Option<RunWriter>,
}

/// Checks flags, registers and filters workloads, agrees on the seed and opens the run file on
/// rank 0. `Ok(None)` when there is nothing to run (`--list`). Errors are bad input.
fn prepare_run(opts: &DistOptions, layout: &Layout) -> Result<Option<Plan>, String> {
    let suite = &opts.suite;
    let mut config = SamplerConfig::profile(suite.profile);
    if suite.cold {
        config.mode = CacheMode::Cold;
    }
    // Every rank must stop sampling at the same sample: only the max-reduced clock may decide.
    config.wall_time_cap = false;
    if suite.resume.is_some() {
        return Err("--resume is not supported by the distributed suite: rerun it (ranks must all start from the same point)".into());
    }
    if suite.dump_tensors.is_some() {
        return Err("--dump-tensors is not supported by the distributed suite: collectives have no peer to cross-check".into());
    }
    if !(opts.rank_timeout.is_finite() && opts.rank_timeout > 0.0) {
        return Err(format!(
            "--rank-timeout {}: expected a positive number of seconds",
            opts.rank_timeout
        ));
    }
    let mut entries = registry::register(suite.profile, layout, &opts.backend);
    if let Some(pattern) = &suite.filter {
        entries = filter(entries, pattern)?;
    }
    if suite.list || suite.list_json {
        if layout.rank == 0 {
            print_list(&entries, suite.list_json);
        }
        return Ok(None);
    }
    let seed = comm::broadcast_u64(suite.seed.unwrap_or_else(clock_seed));
    let writer = open_writer(opts, layout, &config, seed);
    // Rank 0 could fail to create the run file; every rank must hear of it.
    if !comm::all_true(layout.rank != 0 || writer.is_ok()) {
        return Err(writer
            .err()
            .unwrap_or_else(|| "rank 0 could not create the run file".into()));
    }
    let machine = writer
        .as_ref()
        .ok()
        .and_then(|w| w.as_ref())
        .map(|w| w.run().machine.clone());
    let llc = machine.map_or(32 << 20, |m| machine::last_level_cache_bytes(&m));
    Ok(Some(Plan {
        entries,
        sampler: Sampler::new(config, llc),
        seed,
        writer: writer.ok().flatten(),
    }))
}

fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

fn filter(entries: Vec<Entry>, pattern: &str) -> Result<Vec<Entry>, String> {
    let re = regex::Regex::new(pattern)
        .map_err(|e| format!("--filter {pattern:?} is not a valid regular expression: {e}"))?;
    let total = entries.len();
    let kept: Vec<Entry> = entries
        .into_iter()
        .filter(|e| re.is_match(&e.spec().id))
        .collect();
    if kept.is_empty() {
        return Err(format!(
            "--filter {pattern:?} matches none of the {total} workloads (list them with --list)"
        ));
    }
    Ok(kept)
}

fn print_list(entries: &[Entry], json: bool) {
    if json {
        let specs: Vec<_> = entries.iter().map(Entry::spec).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&specs).unwrap_or_default()
        );
    } else {
        for e in entries {
            println!("{}", e.spec().id);
        }
    }
}

/// Rank 0's run file (`Ok(None)` on other ranks).
fn open_writer(
    opts: &DistOptions,
    layout: &Layout,
    config: &SamplerConfig,
    seed: u64,
) -> Result<Option<RunWriter>, String> {
    if layout.rank != 0 {
        return Ok(None);
    }
    let suite = &opts.suite;
    let machine = machine::detect();
    let dir = suite
        .out
        .join(store::machine_slug(machine.hostname.as_deref()));
    let config = serde_json::json!({
        "sampler": config,
        "threads": 1,
        "filter": suite.filter,
        "seed": seed,
        "ranks": layout.size,
        "rank_hosts": layout.hosts,
        "backends": opts.backend.iter().map(|b| format!("{b:?}").to_lowercase()).collect::<Vec<_>>(),
        "rank_timeout_s": opts.rank_timeout,
    });
    let run = tensorbench_core::suite::new_run(TARGET, suite, machine, config);
    RunWriter::create(&dir, run)
        .map(Some)
        .map_err(|e| e.to_string())
}

fn emit(opts: &DistOptions, layout: &Layout, event: serde_json::Value) {
    if opts.suite.events && layout.rank == 0 {
        println!("{event}");
    }
}

impl Plan {
    fn execute(&mut self, opts: &DistOptions, layout: &Layout) -> u8 {
        if let Some(w) = &self.writer {
            emit(
                opts,
                layout,
                serde_json::json!({"event": "run", "run_id": w.run().run_id, "stream": w.stream_path()}),
            );
        }
        interrupt::install();
        let mut fault = test_support::fault_for(layout.rank);
        let total = self.entries.len();
        let mut code = exit::OK;
        let mut interrupted = false;
        for (index, entry) in std::mem::take(&mut self.entries).into_iter().enumerate() {
            // Ranks stop together: a signal on any rank stops every rank before the next workload.
            if !comm::all_true(!interrupt::requested()) {
                interrupted = true;
                break;
            }
            let id = entry.spec().id.clone();
            watchdog::begin(&id);
            emit(
                opts,
                layout,
                serde_json::json!({"event": "start", "id": id, "index": index, "total": total}),
            );
            let seed = self.seed.wrapping_add(index as u64 * 0x9E37_79B9);
            let m = match entry {
                Entry::Skip { spec, reason } => skipped(&spec, self.sampler.config.mode, reason),
                Entry::Run(w) => {
                    let w = match fault.take() {
                        Some(f) => Box::new(Faulty { inner: w, fault: f }),
                        None => w,
                    };
                    self.measure(w, seed, layout)
                }
            };
            if !comm::all_true(!interrupt::requested()) {
                interrupted = true;
                break;
            }
            if matches!(m.status, Status::Failed | Status::Invalid) {
                code = exit::SOME_FAILED;
            }
            emit(
                opts,
                layout,
                serde_json::json!({"event": "done", "id": id, "status": m.status}),
            );
            if let Some(w) = self.writer.as_mut() {
                if let Err(e) = w.record(m) {
                    comm::abort_job(&format!("{}: writing the run file: {e}", layout.who()));
                }
            }
        }
        self.finish(opts, layout, code, interrupted)
    }

    fn finish(&mut self, opts: &DistOptions, layout: &Layout, code: u8, interrupted: bool) -> u8 {
        let Some(writer) = self.writer.take() else {
            return code;
        };
        let status = if interrupted {
            RunStatus::Interrupted
        } else {
            RunStatus::Complete
        };
        match writer.finish(status) {
            Ok(path) => {
                emit(
                    opts,
                    layout,
                    serde_json::json!({"event": "finished", "path": path, "status": status}),
                );
                if interrupted { exit::INTERRUPTED } else { code }
            }
            Err(e) => {
                eprintln!("error: {e}");
                exit::SOME_FAILED
            }
        }
    }

    /// Measures one workload on every rank in step and returns the measurement (identical on
    /// every rank up to raw buffers; only rank 0's is recorded).
    fn measure(&mut self, mut w: Box<dyn DistWorkload>, seed: u64, layout: &Layout) -> Measurement {
        let spec = w.spec().clone();
        if let Some(reason) = memory_shortfall(spec.footprint_bytes) {
            return skipped(&spec, self.sampler.config.mode, reason);
        }
        let sampler = &mut self.sampler;
        let measured = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let mut m = sampler.measure(w.as_mut(), seed, &BTreeMap::new());
            w.annotate(&mut m, layout);
            m
        }));
        let mut m = match measured {
            Ok(m) => m,
            Err(payload) => comm::abort_job(&format!(
                "{} failed in workload {}: {}; aborting the job",
                layout.who(),
                spec.id,
                tensorbench_core::suite::panic_message(payload.as_ref())
            )),
        };
        check_ranks_agree(&m, layout);
        m.extra.insert("ranks".into(), layout.size.into());
        m.extra
            .insert("rank_hosts".into(), layout.hosts.clone().into());
        m.extra
            .entry("rank_devices".into())
            .or_insert_with(|| vec![m.device.clone(); layout.size].into());
        m
    }
}

/// Collective: a skip reason when the workload would not fit in memory on some host.
fn memory_shortfall(footprint: u64) -> Option<String> {
    let available = machine::available_memory_bytes().unwrap_or(u64::MAX);
    let fits = footprint <= available / 10 * 8;
    (!comm::all_true(fits)).then(|| {
        format!(
            "needs {} MiB on a host (all its ranks together), more than 80% of the memory available on at least one host",
            footprint >> 20
        )
    })
}

/// Aborts when ranks came out of the sampler differently: that would mean they diverged.
fn check_ranks_agree(m: &Measurement, layout: &Layout) {
    let status = m.status as u64;
    let fingerprint = (m.samples_ns.len() as u64) << 8 | status;
    let (lo, hi) = comm::min_max_u64(fingerprint);
    if lo != hi {
        comm::abort_job(&format!(
            "{}: ranks disagree on workload {} (samples/status differ across ranks); aborting",
            layout.who(),
            m.id
        ));
    }
}
