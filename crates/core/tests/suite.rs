//! The suite driver end to end: run files on disk, isolation of failures, filters, resume.

mod common;

use clap::{CommandFactory, Parser};
use common::AddOne;
use std::path::Path;
use tensorbench_core::schema::{RunStatus, Status};
use tensorbench_core::store::{self, RunWriter};
use tensorbench_core::suite::{Suite, SuiteError, SuiteOptions, run_suite};

fn opts(out: &Path, extra: &[&str]) -> SuiteOptions {
    let mut args = vec!["suite", "--out", out.to_str().unwrap(), "--no-probes"];
    args.extend_from_slice(extra);
    SuiteOptions::parse_from(args)
}

fn register(suite: &mut Suite, _: &SuiteOptions) {
    suite.add(AddOne::new(1024));
    let mut wrong = AddOne::new(1024).named("add_one_wrong");
    wrong.wrong = true;
    suite.add(wrong);
    let mut boom = AddOne::new(16).named("add_one_panics");
    boom.panic_in_execute = true;
    suite.add(boom);
}

fn only_run_file(dir: &Path) -> std::path::PathBuf {
    let machine_dir = std::fs::read_dir(dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let files: Vec<_> = std::fs::read_dir(machine_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

#[test]
fn a_run_records_ok_invalid_and_failed_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let code = run_suite("test", &opts(dir.path(), &[]), register).unwrap();
    assert_eq!(
        code, 1,
        "a failed or invalid workload makes the exit code say so"
    );
    let path = only_run_file(dir.path());
    assert_eq!(path.extension().unwrap(), "json");
    let run = store::load_run(&path).unwrap();
    assert_eq!(run.status, RunStatus::Complete);
    let statuses: Vec<_> = run.measurements.iter().map(|m| m.status).collect();
    assert_eq!(statuses, [Status::Ok, Status::Invalid, Status::Failed]);
    assert!(
        run.measurements[2]
            .reason
            .as_ref()
            .unwrap()
            .contains("planted panic")
    );
}

#[test]
fn cores_bad_input_is_the_suites_bad_input_and_exits_2() {
    let e: SuiteError = tensorbench_core::Error::bad_input("--x", "--x 3: too many").into();
    assert!(matches!(&e, SuiteError::BadInput(m) if m == "--x 3: too many"));
    assert_eq!(e.exit_code(), 2);
    let e: SuiteError = tensorbench_core::Error::unavailable("RAPL", "no counters").into();
    // A missing counter or device that stops the whole suite is infrastructure, not a verdict.
    assert_eq!((e.exit_code(), e.to_string().as_str()), (3, "no counters"));
    let _: &dyn std::error::Error = &e;
}

#[test]
fn filter_matching_nothing_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let err = run_suite("test", &opts(dir.path(), &["--filter", "gemm"]), register).unwrap_err();
    let SuiteError::BadInput(msg) = err else {
        panic!("expected bad input")
    };
    assert!(msg.contains("--filter") && msg.contains("gemm"), "{msg}");
    let err = run_suite("test", &opts(dir.path(), &["--filter", "("]), register).unwrap_err();
    assert!(matches!(err, SuiteError::BadInput(m) if m.contains("regular expression")));
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing written"
    );
}

#[test]
fn a_bad_profile_exits_2_naming_the_flag_and_the_choices() {
    let err = SuiteOptions::try_parse_from(["suite", "--profile", "fast"]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let msg = err.to_string();
    assert!(msg.contains("--profile") && msg.contains("fast"), "{msg}");
    for name in ["quick", "standard", "full"] {
        assert!(msg.contains(name), "{msg}");
    }
    let help = SuiteOptions::command().render_help().to_string();
    assert!(
        help.contains("quick") && help.contains("standard") && help.contains("full"),
        "{help}"
    );
}

#[test]
fn profiles_parse_once_and_default_to_quick() {
    use tensorbench_core::Profile;
    assert_eq!(SuiteOptions::parse_from(["suite"]).profile, Profile::Quick);
    for p in Profile::ALL {
        let opts = SuiteOptions::parse_from(["suite", "--profile", p.as_str()]);
        assert_eq!(opts.profile, p);
    }
}

#[test]
fn filter_keeps_matching_workloads() {
    let dir = tempfile::tempdir().unwrap();
    let code = run_suite(
        "test",
        &opts(dir.path(), &["--filter", "add_one/"]),
        register,
    )
    .unwrap();
    assert_eq!(code, 0);
    let run = store::load_run(&only_run_file(dir.path())).unwrap();
    assert_eq!(run.measurements.len(), 1);
}

#[test]
fn resume_skips_what_an_interrupted_stream_finished() {
    let dir = tempfile::tempdir().unwrap();
    // An interrupted run: header and one measurement, no end record.
    let o = opts(dir.path(), &["--filter", "add_one/"]);
    run_suite("test", &o, register).unwrap();
    let done = store::load_run(&only_run_file(dir.path())).unwrap();
    let stream = dir.path().join("interrupted.jsonl");
    let mut header = done.clone();
    header.run_id = "interrupted".into();
    header.status = RunStatus::Running;
    let mut w = RunWriter::create(dir.path(), header).unwrap();
    w.record(done.measurements[0].clone()).unwrap();
    drop(w);
    assert_eq!(
        store::load_run(&stream).unwrap().status,
        RunStatus::Interrupted
    );

    let resumed = opts(dir.path(), &["--resume", stream.to_str().unwrap()]);
    run_suite("test", &resumed, register).unwrap();
    let run = store::load_run(&dir.path().join("interrupted.json")).unwrap();
    assert_eq!(run.status, RunStatus::Complete);
    let ids: Vec<_> = run.measurements.iter().map(|m| m.op.as_str()).collect();
    assert_eq!(
        ids,
        ["add_one", "add_one_wrong", "add_one_panics"],
        "finished one kept, rest run"
    );
    assert!(
        !stream.exists(),
        "stream removed once the run file is complete"
    );
}
