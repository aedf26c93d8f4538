//! Reliability of real suite processes: `kill -9` keeps what finished, SIGINT/SIGTERM finish the
//! run file as `interrupted`, `--resume` carries on after a crash, and two runs into one results
//! directory do not collide. Every test runs the `selftest_suite` example as a child process.

use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};
use tensorbench_core::schema::{RunStatus, Status};
use tensorbench_core::store::load_run;

/// Long enough for a loaded CI machine; a passing test never waits this long.
const PATIENCE: Duration = Duration::from_secs(120);
const FAST_IDS: [&str; 3] = [
    "selftest/add_one/fast/f32/n=256",
    "selftest/add_one/fast/f32/n=512",
    "selftest/add_one/fast/f32/n=1024",
];
const HANG_ID: &str = "selftest/hang/fixture/f32/n=16";
const FIRST_SLOW_ID: &str = "selftest/add_one/slow/f32/n=16";

/// Builds the fixture suite once per test binary and returns its path, read from cargo's JSON
/// messages so any `CARGO_TARGET_DIR` works.
fn selftest_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // `cargo xtask test` builds every example once, with the run's features.
        if let Some(dir) = std::env::var_os("TENSORBENCH_PREBUILT_DIR") {
            return Path::new(&dir).join("examples/selftest_suite");
        }
        let out = Command::new(env!("CARGO"))
            .args([
                "build",
                "-p",
                "tensorbench-core",
                "--example",
                "selftest_suite",
            ])
            .args(["--message-format", "json-render-diagnostics"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stderr(Stdio::inherit())
            .output()
            .expect("cargo runs");
        assert!(
            out.status.success(),
            "building the selftest_suite example failed"
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| {
                v["reason"] == "compiler-artifact" && v["target"]["name"] == "selftest_suite"
            })
            .find_map(|v| v["executable"].as_str().map(PathBuf::from))
            .expect("cargo reports the example's executable")
    })
}

/// A running suite, killed if a test fails before it exits (a hanging child must not outlive us).
struct Suite {
    child: Child,
    events: Receiver<Value>,
}

impl Drop for Suite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Suite {
    fn start(out: &Path, extra: &[&str], hang: bool) -> Self {
        let mut cmd = Command::new(selftest_binary());
        cmd.args(["--events", "--no-probes", "--seed", "7", "--out"])
            .arg(out)
            .args(extra)
            .env_remove("TENSORBENCH_FIXTURE_HANG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if hang {
            cmd.env("TENSORBENCH_FIXTURE_HANG", "1");
        }
        let mut child = cmd.spawn().expect("the selftest suite starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, events) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        Self { child, events }
    }

    /// Waits for the first event `want` accepts; returns it and every event seen before it.
    fn wait_for(&self, want: impl Fn(&Value) -> bool) -> (Value, Vec<Value>) {
        let deadline = Instant::now() + PATIENCE;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let v = self
                .events
                .recv_timeout(left)
                .unwrap_or_else(|e| panic!("no awaited event ({e}); saw {seen:?}"));
            if want(&v) {
                return (v, seen);
            }
            seen.push(v);
        }
    }

    fn stream_path(&self) -> PathBuf {
        let (run, _) = self.wait_for(|v| v["event"] == "run");
        PathBuf::from(run["stream"].as_str().expect("run event names its stream"))
    }

    fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs")
            .success();
        assert!(ok, "kill -{name} failed");
    }

    /// Waits for the process to exit, polling so a hang fails the test instead of blocking it.
    fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the suite did not exit in {PATIENCE:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn started(id: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["event"] == "start" && v["id"] == id
}

fn ids_done(events: &[Value]) -> BTreeSet<String> {
    events
        .iter()
        .filter(|v| v["event"] == "done")
        .filter_map(|v| v["id"].as_str().map(String::from))
        .collect()
}

/// Counts `measurement` records in a stream as they are on disk right now.
fn records_on_disk(stream: &Path) -> usize {
    std::fs::read_to_string(stream)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(r#""record":"measurement""#))
        .count()
}

/// Every file below `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("dir reads") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn sigkill_mid_run_keeps_every_finished_measurement_and_resume_completes_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut suite = Suite::start(dir.path(), &[], true);
    let stream = suite.stream_path();
    // The hang workload starts only after the fast ones are recorded; it then never returns.
    let (_, before) = suite.wait_for(started(HANG_ID));
    let deadline = Instant::now() + PATIENCE;
    while records_on_disk(&stream) < FAST_IDS.len() {
        assert!(
            Instant::now() < deadline,
            "measurements never reached the disk"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    suite.child.kill().expect("SIGKILL is sent");
    assert_eq!(suite.wait().signal(), Some(9));

    let run = load_run(&stream).expect("the stream of a killed run parses");
    assert_eq!(run.status, RunStatus::Interrupted);
    let on_disk: BTreeSet<String> = run.measurements.iter().map(|m| m.id.clone()).collect();
    assert_eq!(
        on_disk,
        ids_done(&before),
        "every `done` workload is on disk, nothing else"
    );
    assert_eq!(on_disk, FAST_IDS.iter().map(|s| s.to_string()).collect());
    for m in &run.measurements {
        assert_eq!(m.status, Status::Ok, "{}", m.id);
        assert!(
            !m.samples_ns.is_empty() && m.stats.is_some(),
            "{} lost its samples",
            m.id
        );
    }
    assert!(
        !stream.with_extension("json").exists(),
        "a killed run has no final file"
    );

    // Carry it on without the hang: the finished measurements are kept as they were, not rerun.
    let stream_arg = stream.display().to_string();
    let mut resumed = Suite::start(
        dir.path(),
        &["--filter", "fast|hang", "--resume", &stream_arg],
        false,
    );
    assert!(resumed.wait().success());
    let done = load_run(&stream.with_extension("json")).expect("the resumed run is finished");
    assert_eq!(done.status, RunStatus::Complete);
    assert_eq!(done.run_id, run.run_id);
    let ids: Vec<&str> = done.measurements.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, [FAST_IDS.as_slice(), &[HANG_ID]].concat());
    for (old, new) in run.measurements.iter().zip(&done.measurements) {
        assert_eq!(old.samples_ns, new.samples_ns, "{} was rerun", old.id);
    }
    assert!(
        !stream.exists(),
        "the stream is removed once the run is finished"
    );
}

fn signal_finishes_the_run_as_interrupted(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut suite = Suite::start(dir.path(), &[], false);
    let stream = suite.stream_path();
    // Signalled while the first slow workload samples (each sample takes 100 ms).
    let (_, before) = suite.wait_for(started(FIRST_SLOW_ID));
    suite.signal(signal);
    assert_eq!(
        suite.wait().code(),
        Some(130),
        "exit code after SIG{signal}"
    );

    let final_path = stream.with_extension("json");
    let run = load_run(&final_path).expect("the final run file is written and parses");
    assert_eq!(run.status, RunStatus::Interrupted);
    assert!(run.finished_at.is_some());
    let ids: BTreeSet<String> = run.measurements.iter().map(|m| m.id.clone()).collect();
    assert_eq!(
        ids,
        ids_done(&before),
        "finished measurements kept, the cut-short one dropped"
    );
    assert!(!ids.contains(FIRST_SLOW_ID));
    assert_eq!(ids.len(), FAST_IDS.len() + 1);
    assert!(
        !stream.exists(),
        "the stream is removed after the final rename"
    );
    assert_eq!(
        files_under(dir.path()),
        vec![final_path],
        "no temporary file is left"
    );
}

#[test]
fn sigterm_finishes_the_run_file_as_interrupted_with_exit_130() {
    signal_finishes_the_run_as_interrupted("TERM");
}

#[test]
fn sigint_finishes_the_run_file_as_interrupted_with_exit_130() {
    signal_finishes_the_run_as_interrupted("INT");
}

#[test]
fn two_runs_into_one_results_directory_at_once_both_survive() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = Suite::start(dir.path(), &["--filter", "fast"], false);
    let mut b = Suite::start(dir.path(), &["--filter", "fast"], false);
    assert!(a.wait().success());
    assert!(b.wait().success());

    let files = files_under(dir.path());
    assert_eq!(
        files.len(),
        2,
        "one final file per run, no stream or temp left: {files:?}"
    );
    let runs: Vec<_> = files
        .iter()
        .map(|f| {
            assert_eq!(
                f.extension().and_then(|e| e.to_str()),
                Some("json"),
                "{f:?}"
            );
            load_run(f).unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    assert_ne!(runs[0].run_id, runs[1].run_id);
    for run in &runs {
        assert_eq!(run.status, RunStatus::Complete);
        let ids: Vec<&str> = run.measurements.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, FAST_IDS);
    }
}

/// Starts the suite with writes capped at `limit` bytes per file (RLIMIT_FSIZE, with SIGXFSZ
/// ignored so a write past it fails with EFBIG, as on a full disk); returns its exit status
/// and stderr.
fn run_with_file_limit(out: &Path, limit: u64) -> (ExitStatus, String) {
    use std::io::Read as _;
    use std::os::unix::process::CommandExt as _;
    let mut cmd = Command::new(selftest_binary());
    cmd.args(["--no-probes", "--seed", "7", "--out"])
        .arg(out)
        .env_remove("TENSORBENCH_FIXTURE_HANG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let cap = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &cap) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("the selftest suite starts");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut suite = Suite {
        child,
        events: mpsc::channel().1,
    };
    let status = suite.wait();
    (status, reader.join().unwrap())
}

/// A full disk mid-run: the suite stops with an error naming the file it could not write, never
/// a panic; what reached the disk parses, and `--resume` with room again completes the run.
#[test]
fn a_full_disk_stops_the_suite_naming_the_file_and_resume_completes_it() {
    let roomy = tempfile::tempdir().unwrap();
    let (status, _) = run_with_file_limit(roomy.path(), u64::MAX);
    assert!(status.success());
    let whole = files_under(roomy.path());
    let full_size = std::fs::metadata(&whole[0]).unwrap().len();

    let dir = tempfile::tempdir().unwrap();
    let (status, stderr) = run_with_file_limit(dir.path(), full_size / 2);
    assert_eq!(
        status.code(),
        Some(3),
        "infrastructure, not a verdict: {status:?}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("File too large"), "{stderr}");
    let stream = files_under(dir.path())
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .expect("the stream is kept");
    assert!(stderr.contains(&stream.display().to_string()), "{stderr}");
    let cut = load_run(&stream).expect("the cut stream parses");
    assert_eq!(cut.status, RunStatus::Interrupted);
    assert!(cut.measurements.len() < 7, "{}", cut.measurements.len());

    let stream_arg = stream.display().to_string();
    let mut resumed = Suite::start(dir.path(), &["--resume", &stream_arg], false);
    assert!(resumed.wait().success());
    let done = load_run(&stream.with_extension("json")).expect("the resumed run is finished");
    assert_eq!(done.status, RunStatus::Complete);
    assert_eq!(done.measurements.len(), 7);
    for (old, new) in cut.measurements.iter().zip(&done.measurements) {
        assert_eq!(old.samples_ns, new.samples_ns, "{} was rerun", old.id);
    }
}
