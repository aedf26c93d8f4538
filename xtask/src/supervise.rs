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
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Runs `inv` to completion, restarting with `--resume` after each timed-out workload.
pub fn run(inv: &Invocation) -> Result<Outcome> {
    install_signal_forwarding();
    let mut outcome = Outcome {
        stream: inv.resume.clone(),
        ..Outcome::default()
    };
    let progress = Progress::new();
    loop {
        let mut args = inv.args.clone();
        if let Some(stream) = &outcome.stream {
            args.extend(["--resume".into(), stream.display().to_string()]);
        }
        let mut child = spawn(inv, &args)?;
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
                    &format!("crashed: {}", signal_name(signal)),
                )?;
                progress.note(&format!(
                    "{}: the suite was killed by {}; resuming after it",
                    spec.id,
                    signal_name(signal)
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
    outcome.interrupted = INTERRUPTED.load(Ordering::SeqCst);
    Ok(outcome)
}

fn spawn(inv: &Invocation, args: &[String]) -> Result<Child> {
    use std::os::unix::process::CommandExt as _;
    // Its own process group, so a timeout or a second Ctrl-C stops everything it started too
    // (mpirun's ranks, Node, Chromium), not just the suite binary.
    let child = Command::new(&inv.program)
        .args(args)
        .envs(inv.env.iter().cloned())
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
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
    loop {
        match events.recv_timeout(Duration::from_millis(200)) {
            Ok(Incoming::Event(e)) => on_event(e, &mut current, outcome, progress),
            Ok(Incoming::Eof) | Err(RecvTimeoutError::Disconnected) => {
                use std::os::unix::process::ExitStatusExt as _;
                let status = child.wait().context("waiting for the suite")?;
                CHILD_PID.store(0, Ordering::SeqCst);
                let interrupted = INTERRUPTED.load(Ordering::SeqCst);
                return Ok(match (status.signal(), current, interrupted) {
                    (Some(signal), Some((spec, _)), false) => Watch::Crashed {
                        spec: Box::new(spec),
                        signal,
                    },
                    _ => Watch::Exited(status.code()),
                });
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        if let Some((spec, since)) = &current
            && since.elapsed() > cap
            && !INTERRUPTED.load(Ordering::SeqCst)
        {
            return Ok(Watch::TimedOut(Box::new(spec.clone())));
        }
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

/// A signal's name as users know it, with its number.
fn signal_name(signal: i32) -> String {
    let name = match signal {
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL (the OOM killer, or another process)",
        11 => "SIGSEGV",
        15 => "SIGTERM",
        _ => "signal",
    };
    format!("{name} ({signal})")
}

/// Sends `signal` to the child's whole process group.
fn signal_group(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([signal, "--", &format!("-{pid}")])
        .stderr(Stdio::null())
        .status();
}

fn kill(child: &mut Child) {
    signal_group(child.id(), "-KILL");
    let _ = child.kill();
    let _ = child.wait();
    CHILD_PID.store(0, Ordering::SeqCst);
}

fn install_signal_forwarding() {
    let _ = ctrlc::set_handler(|| {
        let again = INTERRUPTED.swap(true, Ordering::SeqCst);
        let pid = CHILD_PID.load(Ordering::SeqCst);
        if again {
            // A second interrupt stops everything at once; the stream keeps what finished.
            if pid != 0 {
                signal_group(pid, "-KILL");
            }
            std::process::exit(130);
        }
        if pid != 0 {
            // The child runs in its own process group, so it has not seen the terminal's
            // signal: forward it once, and the suite finishes its run file.
            signal_group(pid, "-TERM");
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
mod tests {
    use super::*;
    use tensorbench_core::schema::RunStatus;
    use tensorbench_core::store::load_run;

    const HANG_ID: &str = "selftest/hang/fixture/f32/n=16";

    /// Builds core's `selftest_suite` example (a test fixture whose `hang` workload never returns
    /// under `TENSORBENCH_SELFTEST_HANG=1`) and returns its path.
    fn selftest_binary() -> PathBuf {
        let out = Command::new(crate::workspace::cargo())
            .current_dir(crate::workspace::root())
            .args([
                "build",
                "-p",
                "tensorbench-core",
                "--example",
                "selftest_suite",
            ])
            .args(["--message-format", "json-render-diagnostics"])
            .stderr(Stdio::inherit())
            .output()
            .expect("cargo runs");
        assert!(
            out.status.success(),
            "building the selftest_suite example failed"
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| {
                v["reason"] == "compiler-artifact" && v["target"]["name"] == "selftest_suite"
            })
            .find_map(|v| v["executable"].as_str().map(PathBuf::from))
            .expect("cargo reports the example's executable")
    }

    #[test]
    fn a_hung_workload_is_stopped_at_its_cap_recorded_failed_and_the_run_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let inv = Invocation {
            program: selftest_binary(),
            args: ["--events", "--no-probes", "--seed", "7", "--out"]
                .into_iter()
                .map(String::from)
                .chain([dir.path().display().to_string()])
                .collect(),
            env: vec![("TENSORBENCH_SELFTEST_HANG".into(), "1".into())],
            workload_timeout: Duration::from_secs(3),
            resume: None,
        };
        // On a thread, so a supervisor that fails to stop the hang fails this test, not hangs it.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || tx.send(run(&inv).expect("supervision works")));
        let outcome = rx
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|e| {
                let _ = Command::new("kill")
                    .args(["-KILL", &CHILD_PID.load(Ordering::SeqCst).to_string()])
                    .status();
                panic!("the supervisor did not stop the hung workload: {e}")
            });

        assert_eq!(outcome.timed_out, [HANG_ID]);
        assert_eq!(
            outcome.exit_code,
            Some(0),
            "the resumed suite finished normally"
        );
        assert!(!outcome.interrupted);
        let path = outcome.run_file.expect("the run was finished");
        let run = load_run(&path).expect("the run file parses");
        assert_eq!(run.status, RunStatus::Complete);
        let ids: Vec<&str> = run.measurements.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids.len(), 7, "every workload has one measurement: {ids:?}");
        let hang = &run.measurements[3];
        assert_eq!(hang.id, HANG_ID);
        assert_eq!(hang.status, Status::Failed);
        assert!(
            hang.reason
                .as_deref()
                .unwrap_or_default()
                .contains("timed out")
        );
        // The workloads after the hung one ran in the resumed suite.
        for m in run.measurements.iter().filter(|m| m.id != HANG_ID) {
            assert_eq!(m.status, Status::Ok, "{}", m.id);
        }
        assert!(ids[4..].iter().all(|id| id.contains("/slow/")), "{ids:?}");
        let stream = outcome.stream.expect("the stream was announced");
        assert!(
            !stream.exists(),
            "the stream is removed once the run is finished"
        );
    }

    /// Runs the selftest suite with its `hang` workload crashing the process as `mode` says.
    fn crashed_run(mode: &str) -> (Outcome, tensorbench_core::Run) {
        let dir = tempfile::tempdir().unwrap();
        let inv = Invocation {
            program: selftest_binary(),
            args: ["--events", "--no-probes", "--seed", "7", "--out"]
                .into_iter()
                .map(String::from)
                .chain([dir.path().display().to_string()])
                .collect(),
            env: vec![("TENSORBENCH_SELFTEST_HANG".into(), mode.into())],
            workload_timeout: Duration::from_secs(60),
            resume: None,
        };
        let outcome = run(&inv).expect("supervision works");
        let run = load_run(outcome.run_file.as_ref().expect("the run was finished")).unwrap();
        (outcome, run)
    }

    #[test]
    fn a_workload_that_crashes_the_suite_is_recorded_failed_with_its_signal_and_the_run_goes_on() {
        for (mode, signal) in [("abort", "SIGABRT"), ("segv", "SIGSEGV")] {
            let (outcome, run) = crashed_run(mode);
            assert_eq!(outcome.crashed, [HANG_ID], "{mode}");
            assert_eq!(run.status, RunStatus::Complete);
            assert_eq!(
                run.measurements.len(),
                7,
                "{mode}: every workload has a measurement"
            );
            let hang = &run.measurements[3];
            assert_eq!((hang.id.as_str(), hang.status), (HANG_ID, Status::Failed));
            let reason = hang.reason.as_deref().unwrap_or_default();
            assert!(reason.contains(signal), "{mode}: {reason}");
            let others = run.measurements.iter().filter(|m| m.id != HANG_ID);
            assert!(others.into_iter().all(|m| m.status == Status::Ok), "{mode}");
        }
    }
}
