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

/// A criterion 0.5 `new/` directory for one linear-mode benchmark whose samples cost a fixed
/// 100 ns per sample plus `slope` per iteration, with criterion's slope written as it would be.
fn linear_bench(root: &Path, slope: f64) -> std::path::PathBuf {
    let new = root.join("copy/new");
    std::fs::create_dir_all(&new).unwrap();
    std::fs::write(
        new.join("benchmark.json"),
        r#"{"group_id":"copy","function_id":null,"value_str":null,"throughput":{"Bytes":4096},"full_id":"copy","directory_name":"copy","title":"copy"}"#,
    )
    .unwrap();
    let iters: Vec<f64> = (1..=10).map(f64::from).collect();
    let times: Vec<f64> = iters.iter().map(|i| 100.0 + slope * i).collect();
    let sample = serde_json::json!({"sampling_mode": "Linear", "iters": iters, "times": times});
    std::fs::write(new.join("sample.json"), sample.to_string()).unwrap();
    let est = |v: f64| {
        serde_json::json!({"confidence_interval": {"confidence_level": 0.95,
            "lower_bound": v - 1.0, "upper_bound": v + 1.0}, "point_estimate": v, "standard_error": 0.5})
    };
    let estimates = serde_json::json!({"mean": est(slope + 30.0), "median": est(slope + 25.0),
        "median_abs_dev": est(5.0), "slope": est(slope), "std_dev": est(10.0)});
    std::fs::write(new.join("estimates.json"), estimates.to_string()).unwrap();
    new
}

#[test]
fn criterions_slope_is_the_headline_estimate_and_samples_stay_raw() {
    let dir = tempfile::tempdir().unwrap();
    linear_bench(dir.path(), 400.0);
    let run = import_criterion(dir.path()).unwrap();
    let m = &run.measurements[0];
    assert_eq!(m.extra["criterion_estimate"], "slope");
    assert_eq!(m.extra["criterion_estimate_ns"], 400.0);
    assert_eq!(
        m.extra["criterion_estimate_ci_ns"],
        serde_json::json!([399.0, 401.0])
    );
    let gbps = m.throughput.as_ref().unwrap().gbps.unwrap();
    assert!(
        (gbps - 4096.0 / 400.0).abs() < 1e-9,
        "rate at the slope: {gbps}"
    );
    // The samples are criterion's own per-iteration ratios, fixed cost included.
    assert_eq!(m.samples_ns[0], 500.0);
    assert_eq!(m.samples_ns[9], 410.0);
}

#[test]
fn flat_sampling_falls_back_to_criterions_mean() {
    let dir = tempfile::tempdir().unwrap();
    let new = linear_bench(dir.path(), 400.0);
    let path = new.join("estimates.json");
    let mut est: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    est["slope"] = serde_json::Value::Null;
    std::fs::write(&path, est.to_string()).unwrap();
    let run = import_criterion(dir.path()).unwrap();
    let m = &run.measurements[0];
    assert_eq!(m.extra["criterion_estimate"], "mean");
    assert_eq!(m.extra["criterion_estimate_ns"], 430.0);
}

#[test]
fn the_run_is_dated_by_criterions_files_not_by_the_import() {
    let dir = tempfile::tempdir().unwrap();
    let new = linear_bench(dir.path(), 400.0);
    // 2021-06-01T12:00:00Z, when "criterion wrote" the sample.
    let written = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_622_548_800);
    std::fs::File::options()
        .write(true)
        .open(new.join("sample.json"))
        .unwrap()
        .set_modified(written)
        .unwrap();
    let run = import_criterion(dir.path()).unwrap();
    assert_eq!(run.started_at, "2021-06-01T12:00:00.000Z");
    assert_eq!(run.finished_at.as_deref(), Some("2021-06-01T12:00:00.000Z"));
    assert!(
        run.run_id.starts_with("2021-06-01T12-00-00Z-criterion-"),
        "{}",
        run.run_id
    );
}

#[test]
fn a_malformed_estimates_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let new = linear_bench(dir.path(), 400.0);
    std::fs::write(new.join("estimates.json"), "{").unwrap();
    let e = import_criterion(dir.path()).unwrap_err().to_string();
    assert!(e.contains("estimates.json"), "{e}");
}
