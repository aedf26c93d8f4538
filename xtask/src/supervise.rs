//! Runs a suite binary as a supervised child: shows progress from its event stream, stops a
//! workload that runs past its cap (records it `failed` and resumes the run after it), and forwards
//! SIGINT/SIGTERM so the child can finish its run file.

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{BufRead, BufReader, IsTerminal};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};
use tensorbench_core::WorkloadSpec;
use tensorbench_core::child;
use tensorbench_core::events::Event;
use tensorbench_core::schema::{CacheMode, Measurement, Status};
use tensorbench_core::store::RunWriter;

/// The command that runs a suite: program, arguments (without `--resume`), environment.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Per-workload wall-clock cap.
    pub workload_timeout: Duration,
    /// An interrupted run's `.jsonl` stream to carry on.
    pub resume: Option<PathBuf>,
}

/// What came of a supervised run.
#[derive(Debug, Default)]
pub struct Outcome {
    pub run_file: Option<PathBuf>,
    pub stream: Option<PathBuf>,
    /// The suite's last exit code (`None` when killed by a signal).
    pub exit_code: Option<i32>,
    pub timed_out: Vec<String>,
    /// Workloads during which the suite was killed by a signal (recorded `failed`, run resumed).
    pub crashed: Vec<String>,
    pub interrupted: bool,
}

/// What the reader thread hands over: one progress event, or the end of the child's stdout.
enum Incoming {
    Event(Event),
    Eof,
}

static CHILD_PID: AtomicU32 = AtomicU32::new(0);
/// The supervised run's temp dir, for the exit path that runs no destructor.
static SCRATCH: std::sync::Mutex<Option<PathBuf>> = std::sync::Mutex::new(None);
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// How long an interrupted suite has to finish its run file before it is killed (its stream
/// keeps what finished, for `--resume`): a workload hung in a kernel never looks at the signal.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Runs `inv` to completion, restarting with `--resume` after each timed-out workload.
pub fn run(inv: &Invocation) -> Result<Outcome> {
    install_signal_forwarding();
    let mut outcome = Outcome {
        stream: inv.resume.clone(),
        ..Outcome::default()
    };
    let progress = Progress::new();
    // The suite's temp dir (`TMPDIR`): the runtimes' profiles and scratch files land in it, and
    // it goes when the run ends, however the suite ended (a timeout kill runs no destructor).
    let scratch = Scratch::new()?;
    loop {
        let mut args = inv.args.clone();
        if let Some(stream) = &outcome.stream {
            args.extend(["--resume".into(), stream.display().to_string()]);
        }
        let mut child = spawn(inv, &args, &scratch.0)?;
        let events = read_events(&mut child);
        match watch(
            &mut child,
            &events,
            inv.workload_timeout,
            &mut outcome,
            &progress,
        )? {
            Watch::Crashed { spec, signal } => {
                record_failed(
                    &outcome,
                    &spec,
                    &format!("crashed: {}", child::signal_name(signal)),
                )?;
                progress.note(&format!(
                    "{}: the suite was killed by {}; resuming after it",
                    spec.id,
                    child::signal_name(signal)
                ));
                outcome.crashed.push(spec.id);
            }
            Watch::Exited(code) => {
                outcome.exit_code = code;
                break;
            }
            Watch::TimedOut(spec) => {
                kill(&mut child);
                let cap = inv.workload_timeout;
                let reason = format!("timed out: still running after {cap:?}; stopped by xtask");
                record_failed(&outcome, &spec, &reason)?;
                progress.note(&format!(
                    "{}: stopped after {:?}",
                    spec.id, inv.workload_timeout
                ));
                outcome.timed_out.push(spec.id);
            }
        }
    }
    progress.finish();
    drop(scratch);
    // Reset: the next Ctrl-C (during a comparison, another repetition) must act on its own.
    outcome.interrupted = INTERRUPTED.swap(false, Ordering::SeqCst);
    Ok(outcome)
}

fn scratch_slot() -> std::sync::MutexGuard<'static, Option<PathBuf>> {
    SCRATCH.lock().unwrap_or_else(|e| e.into_inner())
}

/// The run's temp dir, published in [`SCRATCH`] for the exiting signal handler. Whoever
/// empties the slot removes the dir while holding its lock: a second Ctrl-C that lands while
/// the run ends (its kill wakes the main thread) either removes it itself or waits till it
/// is gone, and never exits between the two.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("tensorbench-run-")
            .tempdir()
            .context("creating the run's temp dir")?
            .keep();
        *scratch_slot() = Some(dir.clone());
        Ok(Self(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        remove_scratch(&mut scratch_slot());
    }
}

/// Empties the slot and removes its dir, under the caller's hold of the lock.
fn remove_scratch(slot: &mut Option<PathBuf>) {
    if let Some(dir) = slot.take() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn spawn(inv: &Invocation, args: &[String], tmp: &std::path::Path) -> Result<Child> {
    use std::os::unix::process::CommandExt as _;
    // Its own process group, so a timeout or a second Ctrl-C stops everything it started too
    // (mpirun's ranks, Node, Chromium), not just the suite binary.
    let child = Command::new(&inv.program)
        .args(args)
        .env("TMPDIR", tmp)
        .envs(inv.env.iter().cloned())
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn() // deadline: `watch`'s per-workload cap, then `kill` (the whole tree)
        .with_context(|| format!("could not start {}", inv.program.display()))?;
    CHILD_PID.store(child.id(), Ordering::SeqCst);
    Ok(child)
}

fn read_events(child: &mut Child) -> Receiver<Incoming> {
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            match Event::parse_line(&line) {
                Some(event) => {
                    let _ = tx.send(Incoming::Event(event));
                }
                // Not an event: something the suite printed; pass it on.
                None => eprintln!("{line}"),
            }
        }
        let _ = tx.send(Incoming::Eof);
    });
    rx
}

enum Watch {
    Exited(Option<i32>),
    TimedOut(Box<WorkloadSpec>),
    /// Killed by a signal (abort, segfault, the OOM killer) while measuring `spec`.
    Crashed {
        spec: Box<WorkloadSpec>,
        signal: i32,
    },
}

fn watch(
    child: &mut Child,
    events: &Receiver<Incoming>,
    cap: Duration,
    outcome: &mut Outcome,
    progress: &Progress,
) -> Result<Watch> {
    let mut current: Option<(WorkloadSpec, Instant)> = None;
    let mut interrupted_at: Option<Instant> = None;
    loop {
        match events.recv_timeout(Duration::from_millis(200)) {
            Ok(Incoming::Event(e)) => on_event(e, &mut current, outcome, progress),
            Ok(Incoming::Eof) | Err(RecvTimeoutError::Disconnected) => {
                let status = child.wait().context("waiting for the suite")?;
                CHILD_PID.store(0, Ordering::SeqCst);
                let interrupted = INTERRUPTED.load(Ordering::SeqCst);
                return Ok(match (killed_by(status), current, interrupted) {
                    (Some(signal), Some((spec, _)), false) => Watch::Crashed {
                        spec: Box::new(spec),
                        signal,
                    },
                    _ => Watch::Exited(status.code()),
                });
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        if INTERRUPTED.load(Ordering::SeqCst) {
            let since = *interrupted_at.get_or_insert_with(Instant::now);
            if since.elapsed() > STOP_GRACE.min(cap) {
                kill(child);
                progress.note(&format!(
                    "the suite did not stop within {:?} of the interrupt: killed it",
                    STOP_GRACE.min(cap)
                ));
                return Ok(Watch::Exited(None));
            }
        } else if let Some((spec, since)) = &current
            && since.elapsed() > cap
        {
            return Ok(Watch::TimedOut(Box::new(spec.clone())));
        }
    }
}

/// The signal that killed the suite: its own death, or (exit code 128 + N) a launcher's report
/// that a process it ran died of signal N, as `mpirun` and a shell report a rank or child
/// killed by a signal. No suite exits above 128 of its own, except 130 for an interrupt.
fn killed_by(status: std::process::ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.signal(), status.code()) {
        (Some(signal), _) => Some(signal),
        (None, Some(code)) if code != 130 && (129..=128 + 31).contains(&code) => Some(code - 128),
        _ => None,
    }
}

fn on_event(
    event: Event,
    current: &mut Option<(WorkloadSpec, Instant)>,
    outcome: &mut Outcome,
    progress: &Progress,
) {
    match event {
        Event::Run { stream, .. } => outcome.stream = Some(stream),
        Event::Start {
            id,
            index,
            total,
            spec,
        } => {
            progress.start(index, total, &id);
            // Without a spec a hang cannot be recorded, so it is not timed either.
            *current = spec.map(|s| (*s, Instant::now()));
        }
        Event::Done { id, status } => {
            progress.done(&id, status);
            *current = None;
        }
        Event::Finished { path, .. } => outcome.run_file = Some(path),
    }
}

/// Appends a `failed` measurement for the workload that hung or crashed the suite, so the
/// resumed run skips it.
fn record_failed(outcome: &Outcome, spec: &WorkloadSpec, reason: &str) -> Result<()> {
    let stream = outcome
        .stream
        .as_ref()
        .context("the suite stopped before announcing its run stream")?;
    let mut writer = RunWriter::resume(stream)?;
    let mut m = Measurement::skipped(spec, CacheMode::Hot, reason.to_string());
    m.status = Status::Failed;
    writer.record(m)?;
    Ok(())
}

/// Kills the suite with everything it started, at once: its stream on disk is its state, and
/// a SIGTERM would have it finish the run as interrupted instead of being resumed. The whole
/// tree, not one group: mpirun's ranks and the wasm host's Node and Chromium lead groups of
/// their own.
fn kill(child: &mut Child) {
    child::kill_tree(child.id());
    let _ = child.kill();
    let _ = child.wait();
    CHILD_PID.store(0, Ordering::SeqCst);
}

/// What an interrupt does, from whether it is the second, the supervised suite's pid (0 when
/// none runs) and whether other children (the peers runner) are live.
#[derive(Debug, PartialEq, Eq)]
enum OnInterrupt {
    /// Forward SIGTERM once to the suite, which finishes its run file.
    ForwardToSuite(u32),
    /// Forward SIGINT once to the other children, which finish what they can.
    ForwardToChildren,
    /// Kill everything and exit 130: a second interrupt, or nothing to wait for.
    Exit,
}

fn on_interrupt(again: bool, suite: u32, children: bool) -> OnInterrupt {
    match (again, suite, children) {
        (false, 0, true) => OnInterrupt::ForwardToChildren,
        (false, pid, _) if pid != 0 => OnInterrupt::ForwardToSuite(pid),
        _ => OnInterrupt::Exit,
    }
}

/// Installs the handler (once per process; later calls do nothing). Children run in process
/// groups of their own and never see the terminal's signal, so it is forwarded to them once;
/// a second one, or one with nothing to wait for, exits at once: no signal is ever swallowed.
pub(crate) fn install_signal_forwarding() {
    let _ = ctrlc::set_handler(|| {
        let again = INTERRUPTED.swap(true, Ordering::SeqCst);
        let pid = CHILD_PID.load(Ordering::SeqCst);
        match on_interrupt(again, pid, child::any_live()) {
            OnInterrupt::ForwardToSuite(pid) => child::signal_group(pid, libc::SIGTERM),
            OnInterrupt::ForwardToChildren => child::signal_all(libc::SIGINT),
            OnInterrupt::Exit => {
                // The stream keeps what finished.
                if pid != 0 {
                    child::kill_tree(pid);
                }
                child::signal_all(libc::SIGKILL);
                remove_scratch(&mut scratch_slot());
                std::process::exit(130);
            }
        }
    });
}

/// A progress bar on a terminal; one line per finished workload otherwise (CI logs).
struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let pb = ProgressBar::new(0);
            pb.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {wide_msg}")
                    .expect("valid template"),
            );
            pb
        });
        Self { bar }
    }

    fn start(&self, index: Option<usize>, total: Option<usize>, id: &str) {
        if let Some(pb) = &self.bar {
            pb.set_length(total.unwrap_or(0) as u64);
            pb.set_position(index.unwrap_or(0) as u64);
            pb.set_message(id.to_string());
        }
    }

    fn done(&self, id: &str, status: Status) {
        match &self.bar {
            Some(pb) => pb.inc(1),
            None => eprintln!("{:<8} {id}", status.name()),
        }
    }

    fn note(&self, msg: &str) {
        match &self.bar {
            Some(pb) => pb.println(msg),
            None => eprintln!("{msg}"),
        }
    }

    fn finish(&self) {
        if let Some(pb) = &self.bar {
            pb.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests;
