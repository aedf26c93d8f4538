//! `cargo xtask` on bad input: exit code 2, a message naming the flag or file, and nothing
//! already on disk changed. Every case fails before any build, so these run in milliseconds.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tensorbench_core::schema::{Run, RunStatus, SCHEMA_VERSION};
use tensorbench_core::store::{self, RunWriter};

fn xtask(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("xtask runs")
}

/// Asserts exit code 2 and that stderr mentions every one of `names`.
fn assert_bad_input(out: &Output, names: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    for name in names {
        assert!(
            stderr.contains(name),
            "stderr does not name {name:?}: {stderr}"
        );
    }
}

/// Every file below `dir` with its bytes, to show a command changed nothing.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(snapshot(&path));
        } else {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    out.sort();
    out
}

fn bench_rejects(extra: &[&str], names: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("results");
    let out_arg = out_dir.display().to_string();
    let mut args = vec!["bench", "--out", &out_arg];
    args.extend(extra);
    assert_bad_input(&xtask(dir.path(), &args), names);
    assert!(!out_dir.exists(), "a rejected bench wrote results");
}

#[test]
fn bench_rejects_an_unknown_target() {
    bench_rejects(&["--target", "tpu"], &["tpu"]);
}

#[test]
fn bench_rejects_an_unknown_profile() {
    bench_rejects(&["--profile", "fast"], &["--profile", "fast"]);
}

#[test]
fn bench_rejects_an_invalid_filter() {
    bench_rejects(&["--filter", "("], &["--filter"]);
}

#[test]
fn bench_rejects_zero_threads() {
    bench_rejects(&["--threads", "0"], &["--threads"]);
}

#[test]
fn bench_rejects_a_file_as_out_and_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notadir");
    std::fs::write(&file, "keep me").unwrap();
    let out = xtask(dir.path(), &["bench", "--out", file.to_str().unwrap()]);
    assert_bad_input(&out, &["--out", "notadir"]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
}

/// A complete, valid run file in `dir`.
fn valid_run(dir: &Path) -> PathBuf {
    let run = Run {
        schema_version: SCHEMA_VERSION,
        run_id: "valid".into(),
        target: "cpu".into(),
        profile: "quick".into(),
        command: "test".into(),
        started_at: store::now_rfc3339(),
        finished_at: None,
        status: RunStatus::Running,
        git: Default::default(),
        machine: Default::default(),
        build_profile: "debug".into(),
        config: serde_json::json!({}),
        peaks: Default::default(),
        measurements: vec![],
    };
    RunWriter::create(dir, run)
        .unwrap()
        .finish(RunStatus::Complete)
        .unwrap()
}

#[test]
fn compare_names_a_missing_file_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let valid = valid_run(dir.path());
    let before = snapshot(dir.path());
    let missing = dir.path().join("missing.json");
    let out = xtask(
        dir.path(),
        &[
            "compare",
            missing.to_str().unwrap(),
            valid.to_str().unwrap(),
        ],
    );
    assert_bad_input(&out, &["missing.json"]);
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn compare_names_a_truncated_file_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let valid = valid_run(dir.path());
    let text = std::fs::read_to_string(&valid).unwrap();
    let truncated = dir.path().join("truncated.json");
    std::fs::write(&truncated, &text[..text.len() / 2]).unwrap();
    let before = snapshot(dir.path());
    for args in [[&valid, &truncated], [&truncated, &valid]] {
        let args = [
            "compare",
            args[0].to_str().unwrap(),
            args[1].to_str().unwrap(),
        ];
        assert_bad_input(&xtask(dir.path(), &args), &["truncated.json"]);
    }
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn bench_rejects_a_bad_baseline_name_before_building() {
    bench_rejects(
        &["--save-baseline", "../../x"],
        &["--save-baseline", "../../x"],
    );
}

#[test]
fn bench_all_checks_each_targets_own_baseline_before_building() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    // `main` exists, but `--target all` compares each target with `main-<target>`.
    let baselines = results.join("baselines");
    std::fs::create_dir_all(&baselines).unwrap();
    std::fs::copy(valid_run(dir.path()), baselines.join("main.json")).unwrap();
    let before = snapshot(&results);
    let out_arg = results.display().to_string();
    let args = [
        "bench",
        "--target",
        "all",
        "--baseline",
        "main",
        "--out",
        &out_arg,
    ];
    assert_bad_input(&xtask(dir.path(), &args), &["--baseline", "main-cpu"]);
    assert_eq!(snapshot(&results), before);
}

#[test]
fn ci_without_a_baseline_for_every_target_fails_loudly_with_its_own_code() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let baselines = results.join("baselines");
    std::fs::create_dir_all(&baselines).unwrap();
    // Only `base` exists: a single-target ci would compare, but `--target all` needs base-<t>.
    std::fs::copy(valid_run(dir.path()), baselines.join("base.json")).unwrap();
    let out_arg = results.display().to_string();
    let out = xtask(dir.path(), &["ci", "--target", "all", "--out", &out_arg]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("base-cpu") && stderr.contains("no baseline"),
        "{stderr}"
    );
    // And nothing was built or run: no run file appeared.
    assert_eq!(std::fs::read_dir(&results).unwrap().count(), 1, "{stderr}");
}

#[test]
fn bench_rejects_a_bad_hostfile_naming_its_line_and_too_few_slots() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, "node01 slots=2\nnode02 slots=two\n").unwrap();
    let h = hosts.to_str().unwrap();
    let args = ["--target", "distributed", "--hostfile", h];
    bench_rejects(&args, &["--hostfile", "hosts", "line 2", "slots=two"]);
    std::fs::write(&hosts, "node01 slots=2\nnode02 slots=1\n").unwrap();
    let args = ["--target", "distributed", "--hostfile", h, "--ranks", "4"];
    bench_rejects(&args, &["--ranks 4", "3 slots"]);
}

#[test]
fn help_lists_the_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--help"][..],
        &["bench", "--help"],
        &["compare", "--help"],
    ] {
        let out = xtask(dir.path(), args);
        let help = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        for code in [
            "Exit codes:",
            "  2    bad input",
            "  3    a gate",
            "  130  ",
        ] {
            assert!(help.contains(code), "{args:?} lacks {code:?}:\n{help}");
        }
    }
}

#[test]
fn bench_rejects_an_unknown_backend_or_runtime_before_any_build() {
    bench_rejects(
        &["--target", "distributed", "--backend", "mpi,gloo"],
        &["gloo", "--backend"],
    );
    bench_rejects(
        &["--target", "wasm", "--runtime", "node,deno"],
        &["deno", "--runtime"],
    );
}
