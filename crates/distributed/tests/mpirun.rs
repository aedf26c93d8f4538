//! The suite binary under real `mpirun`, 2 and 4 ranks: results are read back from the run file
//! rank 0 wrote. Faults are injected by the test fixture `examples/fault_suite.rs` (the same suite
//! with failing or hung workloads), never by the product binary. Skipped (with the reason
//! printed) where Open MPI's `mpirun` is not installed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tensorbench_core::schema::{Measurement, Run, Status};
use tensorbench_core::store::load_run;

const BIN: &str = env!("CARGO_BIN_EXE_tensorbench-distributed");

fn mpirun_available() -> bool {
    let ok = Command::new("mpirun")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "skipped: `mpirun` is not installed (apt-get install openmpi-bin libopenmpi-dev)"
        );
    }
    ok
}

/// Builds the `fault_suite` example beside this test's binaries (same profile, target dir and
/// features) and returns its path.
fn fault_suite() -> PathBuf {
    // `cargo xtask test` builds every example once, with the run's features.
    if let Some(dir) = std::env::var_os("TENSORBENCH_PREBUILT_DIR") {
        return Path::new(&dir).join("examples/fault_suite");
    }
    let bin_dir = Path::new(BIN).parent().expect("the binary's directory");
    let profile = match bin_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => "dev",
        Some(other) => other,
    };
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args([
        "build",
        "-p",
        "tensorbench-distributed",
        "--example",
        "fault_suite",
    ])
    .args(["--profile", profile, "--target-dir"])
    .arg(bin_dir.parent().expect("the target directory"));
    // This test is built only with `mpi` (required-features); the example needs it too.
    cmd.args([
        "--features",
        if cfg!(feature = "nccl") {
            "nccl"
        } else {
            "mpi"
        },
    ]);
    let status = cmd.status().expect("running cargo");
    assert!(status.success(), "building the fault_suite example failed");
    bin_dir.join("examples").join("fault_suite")
}

fn mpirun(ranks: usize, args: &[&str], env: &[(&str, &str)]) -> Output {
    mpirun_binary(Path::new(BIN), ranks, args, env)
}

fn mpirun_binary(bin: &Path, ranks: usize, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("mpirun");
    cmd.args([
        "--allow-run-as-root",
        "--oversubscribe",
        "-np",
        &ranks.to_string(),
    ]);
    for (k, v) in env {
        cmd.args(["-x", &format!("{k}={v}")]);
    }
    cmd.arg(bin).args(args);
    cmd.output().expect("running mpirun")
}

/// Runs the suite and loads the one run file it wrote under `out`.
fn run_suite(ranks: usize, out: &Path, filter: &str) -> Run {
    let args = [
        "--profile",
        "quick",
        "--out",
        out.to_str().unwrap(),
        "--filter",
        filter,
    ];
    let o = mpirun(ranks, &args, &[]);
    assert!(
        o.status.success(),
        "mpirun -np {ranks} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    load_run(&run_file(out)).expect("reading the run back")
}

fn run_file(out: &Path) -> PathBuf {
    let host_dir = std::fs::read_dir(out)
        .unwrap()
        .next()
        .expect("a machine directory")
        .unwrap()
        .path();
    let files: Vec<PathBuf> = std::fs::read_dir(host_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "exactly one run file, found {files:?}");
    files[0].clone()
}

fn extra_u64(m: &Measurement, key: &str) -> u64 {
    m.extra
        .get(key)
        .and_then(|v| v.as_u64())
        .unwrap_or_else(|| panic!("{}: no {key}", m.id))
}

fn extra_f64(m: &Measurement, key: &str) -> f64 {
    m.extra
        .get(key)
        .and_then(|v| v.as_f64())
        .unwrap_or_else(|| panic!("{}: no {key}", m.id))
}

#[test]
fn collectives_are_correct_and_timed_at_2_and_4_ranks() {
    if !mpirun_available() {
        return;
    }
    for ranks in [2, 4] {
        let dir = tempfile::tempdir().unwrap();
        let run = run_suite(ranks, dir.path(), "/mpi/.*bytes=(64|4096),");
        assert_eq!(run.measurements.len(), 12, "6 collectives × 2 sizes");
        for m in &run.measurements {
            assert_eq!(m.status, Status::Ok, "{}: {:?}", m.id, m.reason);
            assert_eq!(extra_u64(m, "wrong"), 0, "{}", m.id);
            assert_eq!(extra_u64(m, "ranks"), ranks as u64);
            assert_eq!(m.extra["rank_hosts"].as_array().unwrap().len(), ranks);
            assert!(m.id.ends_with(&format!("ranks={ranks}")), "{}", m.id);
            let (alg, bus) = (extra_f64(m, "algbw_gbps"), extra_f64(m, "busbw_gbps"));
            let stats = m.stats.as_ref().unwrap();
            assert!(
                (alg - m.bytes / stats.median_ns).abs() <= 1e-9 * alg,
                "{}",
                m.id
            );
            assert!(bus > 0.0);
            let sampling = m.sampling.as_ref().unwrap();
            assert_eq!(
                sampling.clock_source,
                tensorbench_core::ClockSource::MpiWtime
            );
        }
        let id = format!("distributed/all_reduce/mpi/f32/bytes=4096,ranks={ranks}");
        let ar = run.get(&id).unwrap();
        let factor = 2.0 * (ranks as f64 - 1.0) / ranks as f64;
        let ratio = extra_f64(ar, "busbw_gbps") / extra_f64(ar, "algbw_gbps");
        assert!((ratio - factor).abs() < 1e-12);
    }
}

#[test]
fn data_parallel_step_and_compression_at_2_ranks() {
    if !mpirun_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let filter = "dp_step.*method=ring|dp_step.*parameter_server.*strong|grad_allreduce";
    let run = run_suite(2, dir.path(), filter);
    assert_eq!(run.measurements.len(), 6);
    for m in &run.measurements {
        assert_eq!(m.status, Status::Ok, "{}: {:?}", m.id, m.reason);
        assert!(m.validation.as_ref().unwrap().passed);
    }
    for m in run.measurements.iter().filter(|m| m.op == "dp_step") {
        let share = extra_f64(m, "comm_share");
        assert!(share > 0.0 && share < 1.0, "{}: share {share}", m.id);
        assert!(m.throughput.as_ref().unwrap().gflops.unwrap() > 0.0);
    }
    let get = |method: &str| {
        run.measurements
            .iter()
            .find(|m| m.op == "grad_allreduce" && m.params["method"] == method)
            .unwrap()
    };
    let (f32_ring, f16_ring, topk) = (get("ring_f32"), get("ring_f16"), get("topk"));
    let sent = |m: &Measurement| extra_f64(m, "bytes_sent_per_rank");
    assert_eq!(sent(f16_ring) * 2.0, sent(f32_ring));
    assert!(sent(topk) < sent(f16_ring));
    let errs = [f32_ring, f16_ring, topk].map(|m| extra_f64(m, "compression_rel_err"));
    assert!(
        errs[0] < 1e-6 && errs[0] < errs[1] && errs[1] < 1e-2 && errs[2] > errs[1],
        "{errs:?}"
    );
}

#[test]
fn nccl_without_gpus_is_a_skip_line() {
    if !mpirun_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let o = mpirun(
        2,
        &["--backend", "nccl", "--out", dir.path().to_str().unwrap()],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run = load_run(&run_file(dir.path())).unwrap();
    assert!(!run.measurements.is_empty());
    for m in &run.measurements {
        assert_eq!(m.backend, "nccl");
        // Where GPUs and libnccl exist these are measured instead; otherwise each says why not.
        if m.status == Status::Skipped {
            assert!(
                !m.reason.as_deref().unwrap_or_default().is_empty(),
                "{}",
                m.id
            );
        } else {
            assert_eq!(m.status, Status::Ok, "{}: {:?}", m.id, m.reason);
            assert_eq!(extra_u64(m, "wrong"), 0, "{}", m.id);
        }
    }
}

#[test]
fn a_failing_rank_fails_the_run_and_is_named() {
    if !mpirun_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--out",
        dir.path().to_str().unwrap(),
        "--filter",
        "all_reduce/mpi/.*bytes=64,",
    ];
    // The fixture's variable, and the one the product binary used to read.
    let fault = [
        ("TENSORBENCH_FIXTURE_FAIL_RANK", "1"),
        ("TENSORBENCH_DIST_FAIL_RANK", "1"),
    ];
    let o = mpirun(2, &args, &fault);
    assert!(
        o.status.success(),
        "the product binary injects no fault: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = mpirun_binary(&fault_suite(), 2, &args, &fault);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    let named = "failed in workload distributed/all_reduce/mpi/f32/bytes=64,ranks=2";
    assert!(
        stderr.contains("rank 1 (") && stderr.contains(named),
        "stderr: {stderr}"
    );
}

#[test]
fn a_hung_rank_is_aborted_by_the_watchdog() {
    if !mpirun_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let args = [
        "--out",
        out,
        "--filter",
        "all_reduce/mpi/.*bytes=64,",
        "--rank-timeout",
        "3",
    ];
    let o = mpirun_binary(
        &fault_suite(),
        2,
        &args,
        &[("TENSORBENCH_FIXTURE_FAIL_RANK", "0:hang")],
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    let named = "no progress in workload distributed/all_reduce/mpi/f32/bytes=64,ranks=2";
    assert!(stderr.contains(named), "stderr: {stderr}");
}

#[test]
fn bad_flags_exit_2_with_the_flag_named() {
    if !mpirun_available() {
        return;
    }
    let o = mpirun(2, &["--profile", "nope"], &[]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("--profile") && stderr.contains("nope"),
        "{stderr}"
    );
    let o = mpirun(2, &["--filter", "no-such-workload"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--filter"));
}

/// Writes `run`'s header and its first `keep` measurements as an interrupted stream (what a
/// killed run leaves) and returns its path.
fn cut_stream(run: &Run, keep: usize, dir: &Path) -> PathBuf {
    let header = Run {
        measurements: Vec::new(),
        ..run.clone()
    };
    let mut w = tensorbench_core::store::RunWriter::create(dir, header).unwrap();
    for m in &run.measurements[..keep] {
        w.record(m.clone()).unwrap();
    }
    w.stream_path().to_path_buf()
}

#[test]
fn the_one_driver_lists_refuses_and_resumes_under_mpirun() {
    if !mpirun_available() {
        return;
    }
    let o = mpirun(2, &["--list-json", "--filter", "all_reduce/mpi"], &[]);
    assert!(o.status.success());
    let specs: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).expect("one JSON array");
    assert!(!specs.is_empty() && specs.iter().all(|s| s["id"].as_str().is_some()));
    for bad in [
        &["--no-such-flag"][..],
        &["--threads", "2"],
        &["--dump-tensors", "x"],
    ] {
        let o = mpirun(2, bad, &[]);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(bad[0]),
            "{bad:?}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let full = run_suite(2, dir.path(), "(all_reduce|broadcast)/mpi/.*bytes=64,");
    assert_eq!(full.measurements.len(), 2);
    let cut = tempfile::tempdir().unwrap();
    let stream = cut_stream(&full, 1, cut.path());
    let o = mpirun(
        2,
        &[
            "--resume",
            stream.to_str().unwrap(),
            "--filter",
            "(all_reduce|broadcast)/mpi/.*bytes=64,",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let resumed = load_run(&stream.with_extension("json")).unwrap();
    let ids = |r: &Run| {
        r.measurements
            .iter()
            .map(|m| m.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(&resumed),
        ids(&full),
        "the resumed run finishes what the cut one lacked"
    );
    assert_eq!(
        resumed.measurements[0].samples_ns,
        full.measurements[0].samples_ns
    );
}
