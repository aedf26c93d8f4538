//! Baselines and bad input: every bad file is an error naming it and what is wrong, and nothing
//! already written is overwritten.

mod common;

use common::{pair, run};
use std::path::Path;
use tensorbench_analysis::baseline::{
    list_baselines, load_baseline, resolve_run, save_baseline, save_baseline_from_file,
};
use tensorbench_schema::store::write_json_atomic;

fn write_run(dir: &Path, name: &str) -> std::path::PathBuf {
    let (old, _) = pair(10, 100.0, 100.0, 0.01, 1);
    let path = dir.join(name);
    write_json_atomic(&path, &old).unwrap();
    path
}

#[test]
fn baselines_round_trip_and_resolve_by_name() {
    let results = tempfile::tempdir().unwrap();
    let (old, _) = pair(10, 100.0, 100.0, 0.01, 1);
    let path = save_baseline(results.path(), "main-cpu", &old).unwrap();
    assert_eq!(path, results.path().join("baselines/main-cpu.json"));
    let loaded = load_baseline(results.path(), "main-cpu").unwrap();
    assert_eq!(loaded.run_id, old.run_id);
    assert_eq!(loaded.measurements[0].samples_ns.len(), 10);
    assert_eq!(list_baselines(results.path()).unwrap(), vec!["main-cpu"]);
    let r = resolve_run("main-cpu", results.path()).unwrap();
    assert_eq!(r.label, "baseline main-cpu");
    assert_eq!(r.run, loaded);
}

#[test]
fn resolve_accepts_a_file_and_a_directory() {
    let results = tempfile::tempdir().unwrap();
    let machine = results.path().join("host");
    let early = run("early", "2026-01-01T00:00:00Z", vec![]);
    let late = run("late", "2026-02-01T00:00:00Z", vec![]);
    write_json_atomic(&machine.join("b.json"), &early).unwrap();
    write_json_atomic(&machine.join("a.json"), &late).unwrap();
    let by_file = resolve_run(machine.join("b.json").to_str().unwrap(), results.path()).unwrap();
    assert_eq!(by_file.run.run_id, "early");
    let by_dir = resolve_run(machine.to_str().unwrap(), results.path()).unwrap();
    assert_eq!(by_dir.run.run_id, "late");
}

#[test]
fn unknown_baseline_lists_the_existing_ones() {
    let results = tempfile::tempdir().unwrap();
    let (old, _) = pair(10, 100.0, 100.0, 0.01, 1);
    save_baseline(results.path(), "main", &old).unwrap();
    save_baseline(results.path(), "release-1", &old).unwrap();
    let e = load_baseline(results.path(), "mian")
        .unwrap_err()
        .to_string();
    assert!(e.contains("no baseline named `mian`"), "{e}");
    assert!(e.contains("available: main, release-1"), "{e}");
    let e = resolve_run("mian", results.path()).unwrap_err().to_string();
    assert!(
        e.contains("`mian` is neither a run file nor a baseline"),
        "{e}"
    );
    assert!(e.contains("main, release-1"), "{e}");
    let e = save_baseline(results.path(), "../evil", &old)
        .unwrap_err()
        .to_string();
    assert!(e.contains("invalid baseline name `../evil`"), "{e}");
}

/// (file name, contents, what the error must say)
fn bad_files() -> Vec<(&'static str, String, &'static str)> {
    let (good, _) = pair(10, 100.0, 100.0, 0.01, 1);
    let full = serde_json::to_string_pretty(&good).unwrap();
    let mut other_version = serde_json::to_value(&good).unwrap();
    other_version["schema_version"] = 99.into();
    let mut wrong_field = serde_json::to_value(&good).unwrap();
    wrong_field["measurements"][0]["samples_ns"] = "fast".into();
    vec![
        (
            "truncated.json",
            full[..full.len() / 2].to_string(),
            "truncated",
        ),
        ("empty.json", String::new(), "empty"),
        (
            "wrong-schema.json",
            r#"{"benchmarks": []}"#.into(),
            "schema_version",
        ),
        (
            "other-version.json",
            other_version.to_string(),
            "schema_version 99",
        ),
        ("wrong-field.json", wrong_field.to_string(), "samples_ns"),
    ]
}

#[test]
fn bad_run_files_are_errors_naming_the_file_and_the_fault() {
    let dir = tempfile::tempdir().unwrap();
    for (name, body, what) in bad_files() {
        let path = dir.path().join(name);
        std::fs::write(&path, &body).unwrap();
        let e = resolve_run(path.to_str().unwrap(), dir.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains(name), "{name}: {e}");
        assert!(e.contains(what), "{name}: {e}");
    }
    let missing = dir.path().join("nope.json");
    let e = resolve_run(missing.to_str().unwrap(), dir.path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("nope.json"), "{e}");
}

#[test]
fn bad_baseline_files_are_errors_naming_the_file() {
    let results = tempfile::tempdir().unwrap();
    for (name, body, what) in bad_files() {
        let stem = name.trim_end_matches(".json");
        let path = results.path().join("baselines").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &body).unwrap();
        let e = load_baseline(results.path(), stem).unwrap_err().to_string();
        assert!(e.contains(name) && e.contains(what), "{name}: {e}");
        let e = resolve_run(stem, results.path()).unwrap_err().to_string();
        assert!(e.contains(name) && e.contains(what), "{name}: {e}");
    }
}

#[test]
fn a_bad_file_never_replaces_a_good_baseline() {
    let results = tempfile::tempdir().unwrap();
    let good = write_run(results.path(), "good.json");
    let saved = save_baseline_from_file(results.path(), "main", &good).unwrap();
    let before = std::fs::read(&saved).unwrap();
    for (name, body, _) in bad_files() {
        let bad = results.path().join(name);
        std::fs::write(&bad, &body).unwrap();
        assert!(save_baseline_from_file(results.path(), "main", &bad).is_err());
        assert_eq!(
            std::fs::read(&saved).unwrap(),
            before,
            "{name} overwrote the baseline"
        );
        assert_eq!(
            std::fs::read_to_string(&bad).unwrap(),
            body,
            "{name} was modified"
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(results.path().join("baselines"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[test]
fn only_a_complete_clean_run_replaces_a_baseline_and_the_old_one_is_kept() {
    use tensorbench_analysis::baseline::save_baseline_with;
    use tensorbench_schema::schema::{RunStatus, Status};
    let results = tempfile::tempdir().unwrap();
    let (good, newer) = pair(10, 100.0, 100.0, 0.01, 1);
    let path = save_baseline(results.path(), "main", &good).unwrap();
    let bytes = std::fs::read(&path).unwrap();

    let mut interrupted = newer.clone();
    interrupted.status = RunStatus::Interrupted;
    let mut failed = newer.clone();
    let mut broken = failed.measurements[0].clone();
    broken.id.push_str("-broken");
    broken.status = Status::Failed;
    failed.measurements.push(broken);
    let mut empty = newer.clone();
    empty.measurements.clear();
    for (bad, why) in [
        (&interrupted, "interrupted"),
        (&failed, "failed or invalid"),
        (&empty, "no ok measurement"),
    ] {
        let e = save_baseline(results.path(), "main", bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains(why) && e.contains("`main`"), "{e}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "the good baseline is untouched"
        );
    }
    // Failures accepted on request; the baseline it replaces is kept as `main.prev`.
    save_baseline_with(results.path(), "main", &failed, true).unwrap();
    let prev = load_baseline(results.path(), "main.prev").unwrap();
    assert_eq!(prev.run_id, good.run_id);
    assert_eq!(
        load_baseline(results.path(), "main").unwrap().run_id,
        failed.run_id
    );
}
