//! Criterion import on a small fixture tree; Bencher BMF and github-action-benchmark export shape.

mod common;

use std::path::Path;
use tensorbench_analysis::interop::export::{to_bmf, to_github_action_benchmark};
use tensorbench_analysis::{CompareConfig, Verdict, compare_runs};
use tensorbench_schema::Status;
use tensorbench_schema::schema::{GitInfo, Machine, Run, SCHEMA_VERSION};

/// The machine and commit the importer stamps on the run (the caller detects them).
fn host() -> (Machine, GitInfo) {
    let machine = Machine {
        hostname: Some("bench-host".into()),
        logical_cores: 8,
        ..Machine::default()
    };
    let git = GitInfo {
        commit: Some("0123abc".into()),
        ..GitInfo::default()
    };
    (machine, git)
}

fn import_criterion(dir: &Path) -> tensorbench_analysis::Result<Run> {
    let (machine, git) = host();
    tensorbench_analysis::interop::criterion::import_criterion(dir, machine, git)
}

fn fixture() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/criterion"
    ))
}

#[test]
fn imports_the_new_results_of_every_benchmark() {
    let run = import_criterion(fixture()).unwrap();
    assert_eq!(run.schema_version, SCHEMA_VERSION);
    assert_eq!(run.target, "criterion");
    assert_eq!(
        (run.machine.clone(), run.git.clone()),
        host(),
        "stamped with the caller's machine"
    );
    let ids: Vec<&str> = run.measurements.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["criterion/add/simd/1024", "criterion/sum"]);

    let add = &run.measurements[0];
    assert_eq!(add.status, Status::Ok);
    assert_eq!(add.backend, "criterion");
    assert_eq!(add.op, "add");
    assert_eq!(add.samples_ns.len(), 10, "only new/, not base/");
    assert_eq!(add.samples_ns[0], 250.0);
    assert_eq!(add.samples_ns[6], 252.0, "times / iters");
    assert_eq!(add.stats.as_ref().unwrap().median_ns, 250.0);
    assert_eq!(add.bytes, 12288.0);
    assert_eq!(add.params["value"], 1024);
    assert_eq!(add.extra["criterion_median_ns"], 250.0);

    let sum = &run.measurements[1];
    assert_eq!(sum.samples_ns[1], 1010.0);
    assert_eq!(sum.extra["elements"], 4096);
}

#[test]
fn imported_runs_compare_like_any_other() {
    let a = import_criterion(fixture()).unwrap();
    let b = import_criterion(fixture()).unwrap();
    let cmp = compare_runs(&a, &b, &CompareConfig::default());
    assert!(
        cmp.items.iter().all(|i| i.verdict == Verdict::Same),
        "{}",
        cmp.to_table()
    );
}

#[test]
fn missing_or_malformed_criterion_results_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let e = import_criterion(dir.path()).unwrap_err().to_string();
    assert!(e.contains("no `new/benchmark.json`"), "{e}");
    let new = dir.path().join("x/new");
    std::fs::create_dir_all(&new).unwrap();
    std::fs::write(
        new.join("benchmark.json"),
        r#"{"group_id":"x","full_id":"x"}"#,
    )
    .unwrap();
    std::fs::write(
        new.join("sample.json"),
        r#"{"iters":[1.0],"times":[1.0, 2.0]}"#,
    )
    .unwrap();
    let e = import_criterion(dir.path()).unwrap_err().to_string();
    assert!(
        e.contains("sample.json") && e.contains("differ in length"),
        "{e}"
    );
    std::fs::write(new.join("sample.json"), "{").unwrap();
    let e = import_criterion(dir.path()).unwrap_err().to_string();
    assert!(e.contains("sample.json"), "{e}");
}

#[test]
fn bmf_has_latency_with_bounds_per_ok_id() {
    let (old, _) = common::pair(20, 100.0, 100.0, 0.01, 1);
    let mut run = old;
    run.measurements.push(common::skipped("gpu/x", "no GPU"));
    let bmf = to_bmf(&run);
    let obj = bmf.as_object().unwrap();
    assert_eq!(obj.len(), 1, "skipped ids are not speeds");
    let lat = &obj["synthetic/add/scalar/f32/n=1024"]["latency"];
    let (v, lo, hi) = (
        lat["value"].as_f64().unwrap(),
        lat["lower_value"].as_f64().unwrap(),
        lat["upper_value"].as_f64().unwrap(),
    );
    assert!(lo <= v && v <= hi && (v - 100.0).abs() < 2.0);
}

#[test]
fn github_action_benchmark_entries_have_the_custom_shape() {
    let (run, _) = common::pair(20, 100.0, 100.0, 0.01, 1);
    let json = serde_json::to_value(to_github_action_benchmark(&run)).unwrap();
    let entry = &json.as_array().unwrap()[0];
    assert_eq!(entry["name"], "synthetic/add/scalar/f32/n=1024");
    assert_eq!(entry["unit"], "ns");
    assert!(entry["value"].as_f64().unwrap() > 0.0);
    assert!(entry["range"].as_str().unwrap().starts_with("± "));
    assert!(entry["extra"].as_str().unwrap().contains("20 samples"));
    let keys: Vec<&String> = entry.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["extra", "name", "range", "unit", "value"]);
}
