//! The fault matrix of xtask's supervision, on every target: a hung workload is stopped at its
//! cap, and one that crashes the suite (abort, segfault) is recorded `failed` with its signal;
//! either way the run is resumed after it, the rest measured, the stream and run file parse, a
//! baseline is not replaced, and no process or temp dir is left. SIGINT once and twice to
//! `bench` end the run interrupted. Each test supervises a real suite binary: a
//! test fixture where the product has no fault to offer (cpu, wgpu, distributed), or the product
//! itself with a runtime that hangs or dies mid-batch (wasm in Node). A test whose target cannot
//! run here prints why and passes (the wasm ones fail instead under `TENSORBENCH_REQUIRE_WASM=1`).

use super::*;
use crate::targets::{self, Target};
use std::path::Path;
use std::sync::Mutex;
use tensorbench_core::schema::{Run, RunStatus};
use tensorbench_core::store::load_run;

/// A workload's cap: far above a quick-profile workload (0.3 s of sampling), far below a hang.
const CAP: Duration = Duration::from_secs(5);
/// How long one supervised run may take before the test calls the supervisor broken.
const DEADLINE: Duration = Duration::from_secs(120);

/// One supervised run at a time: the child pid is process-wide, and runs sharing two cores
/// could push a healthy workload past its cap.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn target(name: &str) -> &'static Target {
    targets::resolve(name).expect("a known target")[0]
}

/// Builds `kind` (`--bin`, `--example`) `name` of `package` in the dev profile.
fn build(package: &str, kind: &str, name: &str, features: &[&str]) -> PathBuf {
    // `cargo xtask test` builds every binary and example once, with the run's features.
    if let Some(dir) = std::env::var_os("TENSORBENCH_PREBUILT_DIR") {
        let sub = if kind == "--example" { "examples" } else { "" };
        return Path::new(&dir).join(sub).join(name);
    }
    crate::workspace::build_artifact(package, kind, name, features, "dev")
        .unwrap_or_else(|e| panic!("{e:#}"))
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// The suite flags `xtask bench` passes, in quick profile, into `out`.
fn suite_args(out: &Path, filter: &str) -> Vec<String> {
    let mut a = strings(&[
        "--events",
        "--profile",
        "quick",
        "--no-probes",
        "--seed",
        "7",
    ]);
    a.extend(["--out".into(), out.display().to_string()]);
    a.extend(["--filter".into(), filter.into()]);
    a
}

fn invocation(program: PathBuf, args: Vec<String>, env: &[(&str, &str)]) -> Invocation {
    Invocation {
        program,
        args,
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        workload_timeout: CAP,
        resume: None,
    }
}

/// The ids `inv` would run, in order (`--list-json`), or its exit code and stderr.
fn list_ids(inv: &Invocation) -> Result<Vec<String>, (Option<i32>, String)> {
    // Not beside a supervised run, whose check for processes left running would see it.
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let out = Command::new(&inv.program)
        .args(&inv.args)
        .arg("--list-json")
        .envs(inv.env.iter().cloned())
        .stdin(Stdio::null())
        .output()
        .expect("the suite starts");
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        return Err((out.status.code(), stderr));
    }
    let specs: Vec<WorkloadSpec> = serde_json::from_slice(&out.stdout).expect("one JSON array");
    Ok(specs.into_iter().map(|s| s.id).collect())
}

/// Runs `inv` supervised on a thread, so a supervisor that fails to stop a hang fails the test
/// instead of hanging it.
fn supervise(inv: Invocation) -> Outcome {
    supervise_leaving_none_of(inv, &[])
}

/// [`supervise`], then checks that no process of `exes` is left running, before another test's
/// run can start one.
fn supervise_leaving_none_of(inv: Invocation, exes: &[&Path]) -> Outcome {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let scratch_before = run_temp_dirs();
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    std::thread::spawn(move || tx.send(run(&inv).expect("supervision works")));
    let outcome = rx.recv_timeout(DEADLINE).unwrap_or_else(|e| {
        match CHILD_PID.load(Ordering::SeqCst) {
            0 => {}
            pid => child::kill_tree(pid),
        }
        panic!("the supervisor did not stop the hung workload: {e}")
    });
    assert_eq!(CHILD_PID.load(Ordering::SeqCst), 0, "no stale child pid");
    assert!(
        !INTERRUPTED.load(Ordering::SeqCst),
        "the interrupt state is reset"
    );
    let left: Vec<_> = run_temp_dirs()
        .difference(&scratch_before)
        .cloned()
        .collect();
    assert!(left.is_empty(), "the run's temp dir is removed: {left:?}");
    for exe in exes {
        assert_eq!(
            left_running(exe),
            [0; 0],
            "no {} left running",
            exe.display()
        );
    }
    eprintln!(
        "supervised run, resumed: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    outcome
}

/// The supervised runs' temp dirs (`tensorbench-run-*`) now in the temp directory.
fn run_temp_dirs() -> std::collections::BTreeSet<PathBuf> {
    let entries = std::fs::read_dir(std::env::temp_dir())
        .into_iter()
        .flatten();
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("tensorbench-run-"))
        })
        .collect()
}

/// What every target must show: `hang` alone timed out and is recorded `failed` saying so; the
/// run resumed and finished, every other listed workload `ok`, some of them after the hang.
fn assert_stopped_and_resumed(outcome: Outcome, listed: &[String], hang: &str) -> Run {
    assert_eq!(outcome.timed_out, [hang]);
    assert!(outcome.crashed.is_empty(), "{:?}", outcome.crashed);
    assert_failed_and_resumed(outcome, listed, hang, "timed out")
}

/// The same for a crash: `faulty` alone took the suite down, and is recorded `failed` naming
/// `signal`; the run resumed after it.
fn assert_crashed_and_resumed(
    outcome: Outcome,
    listed: &[String],
    faulty: &str,
    signal: &str,
) -> Run {
    assert_eq!(outcome.crashed, [faulty]);
    assert!(outcome.timed_out.is_empty(), "{:?}", outcome.timed_out);
    assert_failed_and_resumed(outcome, listed, faulty, signal)
}

/// `faulty` is `failed` with `why` in its reason, every other listed workload `ok`, in order, some
/// after it; the run finished complete and its stream is gone.
fn assert_failed_and_resumed(outcome: Outcome, listed: &[String], faulty: &str, why: &str) -> Run {
    assert_eq!(
        outcome.exit_code,
        Some(0),
        "the resumed suite finished normally"
    );
    assert!(!outcome.interrupted);
    let run = load_run(&outcome.run_file.expect("the run was finished")).expect("it parses");
    assert_eq!(run.status, RunStatus::Complete);
    let ids: Vec<&str> = run.measurements.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, listed, "every workload has one measurement, in order");
    let at = listed
        .iter()
        .position(|id| id == faulty)
        .expect("the faulty workload is listed");
    assert!(
        at + 1 < listed.len(),
        "workloads after the faulty one ran in the resumed suite"
    );
    let m = &run.measurements[at];
    assert_eq!(m.status, Status::Failed);
    let reason = m.reason.as_deref().unwrap_or_default();
    assert!(reason.contains(why), "{why}: {reason}");
    for m in run.measurements.iter().filter(|m| m.id != faulty) {
        assert_eq!(m.status, Status::Ok, "{}: {:?}", m.id, m.reason);
    }
    let stream = outcome.stream.expect("the stream was announced");
    assert!(
        !stream.exists(),
        "the stream is removed once the run is finished"
    );
    run
}

/// Bench's `--save-baseline` step (the function it calls) on a faulty `run`, over a good baseline
/// saved first (`run`'s `ok` measurements): the faulty run is refused and the good baseline is
/// byte-identical, with no `.prev` copy made.
fn assert_baseline_kept(out: &Path, run: &Run) {
    use tensorbench_analysis::baseline::save_baseline_with;
    let mut good = run.clone();
    good.measurements.retain(|m| m.status == Status::Ok);
    let path = save_baseline_with(out, "good", &good, false).expect("a complete run is a baseline");
    let before = std::fs::read(&path).unwrap();
    let refused = save_baseline_with(out, "good", run, false);
    let err = refused.expect_err("a run with a failed workload is no baseline");
    assert!(err.to_string().contains("failed"), "{err}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the baseline is byte-identical"
    );
    assert!(!path.with_file_name("good.prev.json").exists());
}

/// Processes still running `exe` (once killed ones have gone), e.g. a hung MPI rank.
fn left_running(exe: &Path) -> Vec<u32> {
    let running = || -> Vec<u32> {
        let dirs = std::fs::read_dir("/proc").into_iter().flatten().flatten();
        dirs.filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|p| p == exe))
            .collect()
    };
    // Half a second: a rank that outlives mpirun on its own lives about 2 s.
    for _ in 0..5 {
        if running().is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    running()
}

#[test]
fn cpu_a_hung_workload_is_stopped_at_its_cap_recorded_failed_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let program = build("tensorbench-core", "--example", "selftest_suite", &[]);
    let args = strings(&["--events", "--no-probes", "--seed", "7", "--out"]);
    let mut inv = invocation(program, args, &[("TENSORBENCH_FIXTURE_HANG", "1")]);
    inv.args.push(dir.path().display().to_string());
    inv.workload_timeout = Duration::from_secs(3);
    let listed = list_ids(&inv).expect("the fixture lists its workloads");
    let hang = "selftest/hang/fixture/f32/n=16";
    let run = assert_stopped_and_resumed(supervise(inv), &listed, hang);
    let ids: Vec<&str> = run.measurements.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids.len(), 7, "{ids:?}");
    assert!(ids[4..].iter().all(|id| id.contains("/slow/")), "{ids:?}");
}

#[test]
fn wgpu_a_hung_kernel_is_stopped_at_its_cap_recorded_failed_and_the_run_goes_on() {
    let t = target("wgpu");
    let fixture = build(t.package, "--example", "hang_suite", t.features);
    let dir = tempfile::tempdir().unwrap();
    let mut env = t.env.to_vec();
    env.push(("TENSORBENCH_FIXTURE_HANG", "1"));
    let inv = invocation(fixture, suite_args(dir.path(), "/wgpu/"), &env);
    let listed = match list_ids(&inv) {
        Ok(ids) => ids,
        // The fixture's "no adapter" code.
        Err((Some(77), why)) => return eprintln!("skipped: {}", why.trim()),
        Err((code, why)) => panic!("listing failed ({code:?}): {why}"),
    };
    assert_eq!(listed.len(), 4, "{listed:?}");
    let hang = listed[1].clone();
    assert!(hang.starts_with("gpu/mul/wgpu/"), "{hang}");
    assert_stopped_and_resumed(supervise(inv), &listed, &hang);
}

#[test]
fn distributed_a_hung_collective_under_mpirun_is_stopped_recorded_failed_and_the_run_goes_on() {
    use clap::Parser as _;
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        bench: crate::bench::BenchArgs,
    }
    let t = target("distributed");
    let bench = Cli::parse_from(["bench", "--target", t.name]).bench;
    let dir = tempfile::tempdir().unwrap();
    let filter = "(all_reduce|all_gather)/mpi/.*bytes=(64|4096),";
    let args = suite_args(dir.path(), filter);
    // Before the build: without Open MPI the fixture (features mpi, nccl) cannot build.
    if let Err(e) = crate::bench::check_mpi() {
        return eprintln!("skipped: {e}");
    }
    let fixture = build(t.package, "--example", "fault_suite", t.features);
    // The very command line `xtask bench --target distributed` runs, with the fixture binary.
    let mpirun_args = match crate::bench::mpirun_args(&bench, &fixture, args) {
        Ok(a) => a,
        Err(e) => return eprintln!("skipped: {e}"),
    };
    let mut inv = invocation("mpirun".into(), mpirun_args, &[]);
    // Under MPI the sampler has no wall-clock cap (every rank must take the same decisions), and
    // a quick collective's barrier-synchronised batches take 1-2 s on two loaded cores.
    inv.workload_timeout = Duration::from_secs(8);
    let listed = list_ids(&inv).expect("the fixture lists its workloads under mpirun");
    assert_eq!(listed.len(), 4, "{listed:?}");
    let hang = listed[1].clone();
    inv.env
        .push(("TENSORBENCH_FIXTURE_HANG_ID".into(), hang.clone()));
    let outcome = supervise_leaving_none_of(inv, &[&fixture]);
    assert_stopped_and_resumed(outcome, &listed, &hang);
}

/// A stand-in for `node` (the script at `TENSORBENCH_NODE`): the real one, except that its first run of
/// a module forwards only the first `lines` lines of the reply and then stops answering, as a
/// runtime stuck mid-batch does. `--version` always passes straight through.
fn stalling_node(dir: &Path, real: &Path, lines: usize) -> PathBuf {
    faulty_node(dir, real, lines, "exec sleep 3600")
}

/// The same stand-in, doing `then` (a shell command: a hang, a signal) after those lines.
fn faulty_node(dir: &Path, real: &Path, lines: usize, then: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let (script, marker) = (dir.join("node"), dir.join("stalled-once"));
    let text = format!(
        "#!/bin/sh\n\
         [ \"$1\" = --version ] || [ -e '{marker}' ] && exec '{real}' \"$@\"\n\
         : > '{marker}'\n\
         '{real}' \"$@\" | head -n {lines}\n\
         {then}\n",
        marker = marker.display(),
        real = real.display(),
    );
    std::fs::write(&script, text).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

/// Node and the wasm suite binary, with both modules built here, outside the supervised run's
/// deadline (the suite builds them before it times anything, and finds them fresh); `None` after
/// a skip line when Node or the wasm toolchain is missing.
fn wasm_suite_and_node() -> Option<(PathBuf, PathBuf)> {
    use tensorbench_wasm::host::build::{self, Variant};
    use tensorbench_wasm::host::{runtimes, wasm_required};
    let node = build::check_toolchain().and_then(|()| runtimes::detect(runtimes::Runtime::Node));
    let node = match node {
        Ok(found) => found.binary,
        Err(m) if wasm_required() => panic!("TENSORBENCH_REQUIRE_WASM=1 but {m}"),
        Err(m) => {
            eprintln!("skipped: {m}");
            return None;
        }
    };
    for v in Variant::ALL {
        build::build(v).unwrap_or_else(|e| panic!("{e:#}"));
    }
    let t = target("wasm");
    Some((node, build(t.package, "--bin", t.bin, t.features)))
}

#[test]
fn wasm_a_runtime_that_hangs_mid_batch_is_stopped_recorded_failed_and_the_run_goes_on() {
    let Some((node, program)) = wasm_suite_and_node() else {
        return;
    };
    let (dir, bin) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut args = suite_args(dir.path(), "/(add|dot)/.*n=65536");
    args.extend(strings(&["--runtime", "node"]));
    // `ready`, then the first measurement of the scalar module's batch: it hangs on the second.
    let fake = stalling_node(bin.path(), &node, 2);
    let inv = invocation(
        program,
        args,
        &[("TENSORBENCH_NODE", fake.to_str().unwrap())],
    );
    let listed = list_ids(&inv).expect("the suite lists its workloads");
    let first = listed.iter().position(|id| id.contains("/wasm-scalar/"));
    let hang = listed[first.expect("a wasm-scalar workload") + 1].clone();
    assert!(hang.contains("/wasm-scalar/"), "{listed:?}");
    assert_stopped_and_resumed(supervise(inv), &listed, &hang);
}

#[test]
fn wgpu_a_kernel_that_crashes_the_suite_is_recorded_failed_with_its_signal_and_the_run_goes_on() {
    let t = target("wgpu");
    let fixture = build(t.package, "--example", "hang_suite", t.features);
    for (mode, signal) in [("abort", "SIGABRT"), ("segv", "SIGSEGV")] {
        let dir = tempfile::tempdir().unwrap();
        let mut env = t.env.to_vec();
        env.push(("TENSORBENCH_FIXTURE_HANG", mode));
        let inv = invocation(fixture.clone(), suite_args(dir.path(), "/wgpu/"), &env);
        let listed = match list_ids(&inv) {
            Ok(ids) => ids,
            Err((Some(77), why)) => return eprintln!("skipped: {}", why.trim()),
            Err((code, why)) => panic!("listing failed ({code:?}): {why}"),
        };
        let faulty = listed[1].clone();
        assert!(faulty.starts_with("gpu/mul/wgpu/"), "{faulty}");
        let outcome = supervise_leaving_none_of(inv, &[&fixture]);
        let run = assert_crashed_and_resumed(outcome, &listed, &faulty, signal);
        assert_baseline_kept(dir.path(), &run);
    }
}

#[test]
fn distributed_a_rank_that_crashes_under_mpirun_is_recorded_failed_with_its_signal_and_the_run_goes_on()
 {
    use clap::Parser as _;
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        bench: crate::bench::BenchArgs,
    }
    let t = target("distributed");
    let bench = Cli::parse_from(["bench", "--target", t.name]).bench;
    let dir = tempfile::tempdir().unwrap();
    let args = suite_args(dir.path(), "(all_reduce|all_gather)/mpi/.*bytes=(64|4096),");
    if let Err(e) = crate::bench::check_mpi() {
        return eprintln!("skipped: {e}");
    }
    let fixture = build(t.package, "--example", "fault_suite", t.features);
    let mpirun_args = match crate::bench::mpirun_args(&bench, &fixture, args) {
        Ok(a) => a,
        Err(e) => return eprintln!("skipped: {e}"),
    };
    let mut inv = invocation("mpirun".into(), mpirun_args, &[]);
    inv.workload_timeout = Duration::from_secs(30);
    let listed = list_ids(&inv).expect("the fixture lists its workloads under mpirun");
    let faulty = listed[1].clone();
    // The last rank faults; mpirun reports it as exit code 128 + 11 and stops the others.
    inv.env.push((
        "TENSORBENCH_FIXTURE_HANG_ID".into(),
        format!("{faulty}:segv"),
    ));
    let outcome = supervise_leaving_none_of(inv, &[&fixture]);
    let run = assert_crashed_and_resumed(outcome, &listed, &faulty, "SIGSEGV");
    assert_baseline_kept(dir.path(), &run);
}

#[test]
fn wasm_a_runtime_killed_by_a_signal_fails_its_workload_naming_the_signal_and_the_run_goes_on() {
    let Some((node, program)) = wasm_suite_and_node() else {
        return;
    };
    let (dir, bin) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut args = suite_args(dir.path(), "/add/.*n=65536");
    args.extend(strings(&["--runtime", "node"]));
    // `ready`, then Node dies of SIGSEGV in the scalar module's one workload.
    let fake = faulty_node(bin.path(), &node, 1, "kill -SEGV $$");
    let inv = invocation(
        program,
        args,
        &[("TENSORBENCH_NODE", fake.to_str().unwrap())],
    );
    let listed = list_ids(&inv).expect("the suite lists its workloads");
    let scalar: Vec<&String> = listed
        .iter()
        .filter(|id| id.contains("/wasm-scalar/"))
        .collect();
    assert_eq!(scalar.len(), 1, "{listed:?}");
    let node = node.canonicalize().unwrap_or(node);
    let outcome = supervise_leaving_none_of(inv, &[&node]);
    // The suite itself lives: it records the workload `failed` and goes on.
    assert!(
        outcome.crashed.is_empty() && outcome.timed_out.is_empty(),
        "{outcome:?}"
    );
    assert_eq!(outcome.exit_code, Some(1), "some measurements failed");
    let run =
        load_run(outcome.run_file.as_ref().expect("the run was finished")).expect("it parses");
    assert_eq!(run.status, RunStatus::Complete);
    let ids: Vec<&str> = run.measurements.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, listed, "every workload has one measurement, in order");
    for m in &run.measurements {
        let faulty = scalar.contains(&&m.id);
        let reason = m.reason.as_deref().unwrap_or_default();
        if faulty {
            assert_eq!(m.status, Status::Failed, "{}", m.id);
            assert!(reason.contains("SIGSEGV"), "{}: {reason}", m.id);
        } else {
            assert_eq!(m.status, Status::Ok, "{}: {reason}", m.id);
        }
    }
    assert!(
        !outcome.stream.expect("announced").exists(),
        "the stream is gone"
    );
    assert_baseline_kept(dir.path(), &run);
}

#[test]
fn cpu_a_workload_that_crashes_the_suite_is_recorded_failed_with_its_signal_and_the_run_goes_on() {
    let program = build("tensorbench-core", "--example", "selftest_suite", &[]);
    let hang = "selftest/hang/fixture/f32/n=16";
    for (mode, signal) in [("abort", "SIGABRT"), ("segv", "SIGSEGV")] {
        let dir = tempfile::tempdir().unwrap();
        let args = strings(&["--events", "--no-probes", "--seed", "7", "--out"]);
        let mut inv = invocation(program.clone(), args, &[("TENSORBENCH_FIXTURE_HANG", mode)]);
        inv.args.push(dir.path().display().to_string());
        let outcome = supervise(inv);
        assert_eq!(outcome.crashed, [hang], "{mode}");
        assert!(outcome.timed_out.is_empty(), "{mode}");
        let run = load_run(outcome.run_file.as_ref().expect("the run was finished")).unwrap();
        assert_eq!(run.status, RunStatus::Complete);
        assert_eq!(
            run.measurements.len(),
            7,
            "{mode}: every workload has a measurement"
        );
        let crashed = &run.measurements[3];
        assert_eq!(
            (crashed.id.as_str(), crashed.status),
            (hang, Status::Failed)
        );
        let reason = crashed.reason.as_deref().unwrap_or_default();
        assert!(reason.contains(signal), "{mode}: {reason}");
        let others = run.measurements.iter().filter(|m| m.id != hang);
        assert!(others.into_iter().all(|m| m.status == Status::Ok), "{mode}");
        assert_baseline_kept(dir.path(), &run);
    }
}

#[test]
fn an_interrupt_is_forwarded_once_and_never_swallowed() {
    use OnInterrupt::*;
    assert_eq!(on_interrupt(false, 42, false), ForwardToSuite(42));
    assert_eq!(on_interrupt(false, 42, true), ForwardToSuite(42));
    assert_eq!(on_interrupt(false, 0, true), ForwardToChildren);
    // Nothing to wait for, or a second interrupt: exit at once.
    assert_eq!(on_interrupt(false, 0, false), Exit);
    assert_eq!(on_interrupt(true, 42, true), Exit);
    assert_eq!(on_interrupt(true, 0, false), Exit);
}

/// The suite's `TMPDIR` (where Chromium's profile and other scratch land) is removed when the
/// run ends, even when the suite is killed and runs no destructor of its own.
#[test]
fn the_suites_temp_dir_is_removed_however_the_suite_ended() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let (suite, note) = (dir.path().join("suite"), dir.path().join("tmpdir"));
    let text = format!(
        "#!/bin/sh\necho \"$TMPDIR\" > '{}'\nmkdir \"$TMPDIR/profile\" && : > \"$TMPDIR/profile/x\"\n\
         kill -KILL $$\n",
        note.display()
    );
    std::fs::write(&suite, text).unwrap();
    std::fs::set_permissions(&suite, std::fs::Permissions::from_mode(0o755)).unwrap();
    let outcome = supervise(invocation(suite, Vec::new(), &[]));
    assert_eq!(outcome.exit_code, None, "the stand-in was killed");
    let tmp = std::fs::read_to_string(&note).unwrap();
    let tmp = Path::new(tmp.trim());
    assert!(
        tmp.to_string_lossy().contains("tensorbench-run-"),
        "{tmp:?}"
    );
    assert!(!tmp.exists(), "{tmp:?} is removed");
}

/// Where the SIGINT tests tell their child what to run: `[suite, results dir]` as JSON.
const SIGINT_CHILD_VAR: &str = "TENSORBENCH_FIXTURE_SIGINT_CHILD";

/// The child of the SIGINT tests, run in a process of its own (this test binary again):
/// `bench --save-baseline good` on the suite named in `TENSORBENCH_FIXTURE_SIGINT_CHILD`, exiting with
/// bench's code as `cargo xtask bench` does. Without that variable it does nothing.
#[test]
#[ignore = "the SIGINT tests run it in a process of its own"]
fn bench_for_the_sigint_tests() {
    use clap::Parser as _;
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        bench: crate::bench::BenchArgs,
    }
    let Ok(spec) = std::env::var(SIGINT_CHILD_VAR) else {
        return;
    };
    let (suite, out): (PathBuf, String) = serde_json::from_str(&spec).unwrap();
    let flags = ["--out", &out, "--save-baseline", "good", "--no-report"];
    let args = [
        "bench",
        "--timeout",
        "10",
        "--seed",
        "7",
        "--format",
        "json",
    ];
    let bench = Cli::parse_from(args.iter().chain(&flags)).bench;
    let code = match crate::bench::run_binary(target("cpu"), &suite, &bench, false) {
        Ok(r) => r.exit_code,
        Err(e) => {
            eprintln!("error: {e:#}");
            3
        }
    };
    std::process::exit(i32::from(code));
}

/// A complete one-measurement run: the good baseline an interrupted run must not replace.
fn complete_run() -> Run {
    let spec = WorkloadSpec::new("selftest", "add_one", "fast", tensorbench_core::DType::F32);
    let mut m = Measurement::skipped(&spec, CacheMode::Hot, "x");
    (m.status, m.reason) = (Status::Ok, None);
    m.stats = tensorbench_core::stats::summarize(&[10.0; 12], 0.95);
    Run {
        schema_version: tensorbench_core::schema::SCHEMA_VERSION,
        run_id: "good".into(),
        target: "cpu".into(),
        profile: "quick".into(),
        command: "test".into(),
        started_at: "2026-01-01T00:00:00Z".into(),
        finished_at: None,
        status: RunStatus::Complete,
        git: Default::default(),
        machine: Default::default(),
        build_profile: "bench".into(),
        config: serde_json::Value::Null,
        peaks: Default::default(),
        measurements: vec![m],
    }
}

/// What an interrupted `bench` left: its exit code, its stderr, the seconds from the last
/// SIGINT to its exit, and its directories (results, `TMPDIR`).
struct Interrupted {
    code: Option<i32>,
    stderr: String,
    after_last: Duration,
    out: tempfile::TempDir,
    tmp: tempfile::TempDir,
    fixture: PathBuf,
    baseline: (PathBuf, Vec<u8>),
    /// Held till the checks are done: another test's run of the fixture is no leftover of ours.
    _one: std::sync::MutexGuard<'static, ()>,
}

/// `bench --save-baseline good` over a good baseline, on the cpu fixture with its hung workload,
/// in a process of its own; `times` SIGINTs once the hang has started.
fn interrupted_bench(times: usize) -> Interrupted {
    use std::os::unix::fs::PermissionsExt as _;
    use std::os::unix::process::CommandExt as _;
    let one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let fixture = build("tensorbench-core", "--example", "selftest_suite", &[]);
    let (out, tmp, bin) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let suite = bin.path().join("suite");
    let text = format!(
        "#!/bin/sh\nTENSORBENCH_FIXTURE_HANG=1 exec '{}' \"$@\" --no-probes\n",
        fixture.display()
    );
    std::fs::write(&suite, text).unwrap();
    std::fs::set_permissions(&suite, std::fs::Permissions::from_mode(0o755)).unwrap();
    let baseline = tensorbench_analysis::baseline::save_baseline_with(
        out.path(),
        "good",
        &complete_run(),
        false,
    )
    .unwrap();
    let bytes = std::fs::read(&baseline).unwrap();
    let spec = serde_json::to_string(&(&suite, out.path())).unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "supervise::tests::bench_for_the_sigint_tests",
            "--ignored",
        ])
        .args(["--nocapture", "--test-threads=1"])
        .env(SIGINT_CHILD_VAR, spec)
        .env("TMPDIR", tmp.path())
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    let started = Instant::now();
    // The last fast workload done: the hung one is next.
    while !lines
        .last()
        .is_some_and(|l: &String| l.ends_with("selftest/add_one/fast/f32/n=1024"))
    {
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(line) => lines.push(line),
            Err(_) if started.elapsed() < DEADLINE => {}
            Err(e) => {
                child::kill_tree(child.id());
                panic!(
                    "the fixture never reached its hang ({e}):\n{}",
                    lines.join("\n")
                );
            }
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    let mut signalled = Instant::now();
    for i in 0..times {
        if i > 0 {
            std::thread::sleep(Duration::from_millis(300));
        }
        let pid = i32::try_from(child.id()).unwrap();
        // SAFETY: kill(2) with plain integers, to our own child.
        unsafe { libc::kill(pid, libc::SIGINT) };
        signalled = Instant::now();
    }
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if signalled.elapsed() > DEADLINE {
            child::kill_tree(child.id());
            panic!(
                "bench did not end after the interrupt:\n{}",
                lines.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let after_last = signalled.elapsed();
    lines.extend(rx.try_iter());
    Interrupted {
        code,
        stderr: lines.join("\n"),
        after_last,
        out,
        tmp,
        fixture: fixture.canonicalize().unwrap_or(fixture),
        baseline: (baseline, bytes),
        _one: one,
    }
}

/// What both interrupts must leave: the stream of what finished (the three fast workloads,
/// parseable, so `--resume` carries on from it), the good baseline byte-identical with no
/// `.prev` copy, no suite running and no temp dir of the run.
fn assert_interrupted_cleanly(r: &Interrupted) {
    let (path, bytes) = &r.baseline;
    assert_eq!(
        &std::fs::read(path).unwrap(),
        bytes,
        "the baseline is byte-identical"
    );
    assert!(!path.with_file_name("good.prev.json").exists());
    let streams: Vec<PathBuf> = walk(r.out.path())
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    let [stream] = &streams[..] else {
        panic!("one stream is left to resume: {streams:?}\n{}", r.stderr)
    };
    let run = load_run(stream).expect("the stream parses");
    assert_ne!(run.status, RunStatus::Complete);
    let ids: Vec<&str> = run.measurements.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(ids.iter().all(|id| id.contains("/fast/")), "{ids:?}");
    assert_eq!(left_running(&r.fixture), [0; 0], "no suite left running");
    let left: Vec<_> = std::fs::read_dir(r.tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(
        left.iter()
            .all(|p| !p.to_string_lossy().contains("tensorbench-run-")),
        "{left:?}"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).into_iter().flatten().flatten();
    entries
        .flat_map(|e| {
            let p = e.path();
            if p.is_dir() { walk(&p) } else { vec![p] }
        })
        .collect()
}

/// One SIGINT: forwarded to the suite once; its hung workload never looks, so after the grace
/// it is killed; bench exits 130, saving nothing over the good baseline, and the stream of what
/// finished is left for `--resume`.
#[test]
fn one_sigint_to_bench_is_forwarded_once_and_the_run_ends_interrupted_and_resumable() {
    let r = interrupted_bench(1);
    assert_eq!(r.code, Some(130), "{}", r.stderr);
    assert!(
        r.stderr.contains("interrupt: finishing the run file"),
        "forwarded:\n{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("second interrupt"),
        "once:\n{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("of the interrupt: killed it"),
        "{}",
        r.stderr
    );
    assert_interrupted_cleanly(&r);
}

/// Two SIGINTs: the second exits 130 at once, killing the suite, with the same guarantees.
#[test]
fn a_second_sigint_to_bench_exits_130_at_once_leaving_nothing_running() {
    let r = interrupted_bench(2);
    assert_eq!(r.code, Some(130), "{}", r.stderr);
    // "At once": well before the grace an interrupted suite gets.
    assert!(
        r.after_last < STOP_GRACE,
        "{:?}\n{}",
        r.after_last,
        r.stderr
    );
    assert!(
        !r.stderr.contains("of the interrupt: killed it"),
        "{}",
        r.stderr
    );
    assert_interrupted_cleanly(&r);
}
