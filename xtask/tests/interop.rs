//! `cargo xtask import criterion` and `cargo xtask export`, end to end through the binary: a
//! `target/criterion` tree laid out exactly as criterion 0.5 writes it is imported, `compare`
//! reads the run file, and each export is checked against its format's published shape.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn xtask(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("xtask runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// One estimate of criterion's `estimates.json`.
fn estimate(v: f64) -> Value {
    json!({"confidence_interval": {"confidence_level": 0.95, "lower_bound": v * 0.98,
        "upper_bound": v * 1.02}, "point_estimate": v, "standard_error": v * 0.01})
}

/// One benchmark as criterion 0.5 leaves it: `new/` (and `base/`, the previous run, which the
/// import must ignore) holding `benchmark.json`, `estimates.json`, `sample.json`, `tukey.json`.
fn criterion_bench(root: &Path, group: &str, function: Option<&str>, value: Option<&str>) {
    let full_id = [Some(group), function, value]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("/");
    let benchmark = json!({"group_id": group, "function_id": function, "value_str": value,
        "throughput": {"Bytes": 8192}, "full_id": full_id, "directory_name": full_id,
        "title": full_id});
    let iters: Vec<f64> = (1..=20).map(|i| f64::from(i) * 50.0).collect();
    let times: Vec<f64> = iters
        .iter()
        .enumerate()
        .map(|(k, i)| i * (200.0 + (k % 3) as f64))
        .collect();
    let sample = json!({"sampling_mode": "Linear", "iters": iters, "times": times});
    let estimates = json!({"mean": estimate(201.0), "median": estimate(201.0),
        "median_abs_dev": estimate(1.0), "slope": estimate(200.5), "std_dev": estimate(0.8)});
    for (sub, scale) in [("new", 1.0), ("base", 2.0)] {
        let dir = root.join(&full_id).join(sub);
        std::fs::create_dir_all(&dir).unwrap();
        let times: Vec<f64> = times.iter().map(|t| t * scale).collect();
        let sample = json!({"sampling_mode": "Linear", "iters": sample["iters"], "times": times});
        std::fs::write(dir.join("benchmark.json"), benchmark.to_string()).unwrap();
        std::fs::write(dir.join("sample.json"), sample.to_string()).unwrap();
        std::fs::write(dir.join("estimates.json"), estimates.to_string()).unwrap();
        std::fs::write(dir.join("tukey.json"), "[180.0,190.0,210.0,220.0]").unwrap();
    }
    std::fs::create_dir_all(root.join("report")).unwrap();
    std::fs::write(root.join("report/index.html"), "<html></html>").unwrap();
}

/// Imports a two-benchmark criterion tree into `dir/results`; returns the run file written.
fn import(dir: &Path) -> PathBuf {
    let criterion = dir.join("target/criterion");
    criterion_bench(&criterion, "memcpy", Some("std"), Some("8192"));
    criterion_bench(&criterion, "checksum", None, None);
    let out = xtask(
        dir,
        &[
            "import",
            "criterion",
            criterion.to_str().unwrap(),
            "--out",
            dir.join("results").to_str().unwrap(),
            "--hostname",
            "bench-host",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let machine_dir = dir.join("results/bench-host");
    let files: Vec<PathBuf> = std::fs::read_dir(&machine_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

fn export(dir: &Path, format: &str, run: &Path) -> Value {
    let out = xtask(dir, &["export", format, run.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("the export is JSON")
}

#[test]
fn an_imported_criterion_tree_is_a_run_that_compare_reads() {
    let dir = tempfile::tempdir().unwrap();
    let run_file = import(dir.path());
    let run: Value = serde_json::from_str(&std::fs::read_to_string(&run_file).unwrap()).unwrap();
    assert_eq!(run["target"], "criterion");
    assert_eq!(run["machine"]["hostname"], "bench-host");
    assert_eq!(
        run["git"]["commit"],
        Value::Null,
        "criterion records no commit"
    );
    let ids: Vec<&str> = run["measurements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["criterion/checksum", "criterion/memcpy/std/8192"]);
    let memcpy = &run["measurements"][1];
    assert_eq!(memcpy["extra"]["criterion_estimate"], "slope");
    assert_eq!(
        memcpy["samples_ns"].as_array().unwrap().len(),
        20,
        "new/ only"
    );
    assert!(
        memcpy["stats"]["median_ns"].as_f64().unwrap() < 203.0,
        "not base/"
    );

    let out = xtask(
        dir.path(),
        &[
            "compare",
            run_file.to_str().unwrap(),
            run_file.to_str().unwrap(),
        ],
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{table}{}", stderr(&out));
    assert!(table.contains("criterion/memcpy/std/8192"), "{table}");
}

#[test]
fn bmf_export_has_benchers_shape() {
    let dir = tempfile::tempdir().unwrap();
    let run_file = import(dir.path());
    let bmf = export(dir.path(), "bmf", &run_file);
    // https://bencher.dev/docs/reference/bencher-metric-format/:
    // {"<benchmark>": {"<measure>": {"value": n, "lower_value": n?, "upper_value": n?}}}
    let benchmarks = bmf.as_object().expect("a top-level object");
    assert_eq!(benchmarks.len(), 2);
    for (name, measures) in benchmarks {
        assert!(name.starts_with("criterion/"), "{name}");
        let measures = measures.as_object().expect("measures are an object");
        assert_eq!(measures.keys().collect::<Vec<_>>(), ["latency"]);
        let metric = measures["latency"].as_object().unwrap();
        let mut keys: Vec<&str> = metric.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["lower_value", "upper_value", "value"]);
        let [lo, v, hi] =
            ["lower_value", "value", "upper_value"].map(|k| metric[k].as_f64().expect("a number"));
        assert!(lo <= v && v <= hi && v > 0.0, "{lo} {v} {hi}");
    }
}

#[test]
fn github_action_benchmark_export_has_the_custom_shape() {
    let dir = tempfile::tempdir().unwrap();
    let run_file = import(dir.path());
    let gab = export(dir.path(), "github-action-benchmark", &run_file);
    // github-action-benchmark's `customSmallerIsBetter`: an array of
    // {"name": string, "unit": string, "value": number, "range"?: string, "extra"?: string}.
    let entries = gab.as_array().expect("a top-level array");
    assert_eq!(entries.len(), 2);
    for e in entries {
        let obj = e.as_object().unwrap();
        for key in obj.keys() {
            assert!(
                ["name", "unit", "value", "range", "extra"].contains(&key.as_str()),
                "{key}"
            );
        }
        assert!(e["name"].as_str().unwrap().starts_with("criterion/"));
        assert_eq!(e["unit"], "ns");
        assert!(e["value"].as_f64().unwrap() > 0.0);
        assert!(e["range"].is_string() && e["extra"].is_string(), "{e}");
    }
}

#[test]
fn csv_and_markdown_exports_go_to_a_file_with_output() {
    let dir = tempfile::tempdir().unwrap();
    let run_file = import(dir.path());
    let csv = dir.path().join("out/run.csv");
    let out = xtask(
        dir.path(),
        &[
            "export",
            "csv",
            run_file.to_str().unwrap(),
            "--output",
            csv.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "nothing on stdout with --output");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("run_id,target,id,"), "{text}");
    assert_eq!(text.lines().count(), 3, "header and two rows");

    let out = xtask(
        dir.path(),
        &["export", "markdown", run_file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("## tensorbench results"), "{md}");
    assert!(md.contains("criterion/memcpy/std/8192"), "{md}");
}

#[test]
fn export_resolves_a_baseline_name() {
    let dir = tempfile::tempdir().unwrap();
    let run_file = import(dir.path());
    let baselines = dir.path().join("results/baselines");
    std::fs::create_dir_all(&baselines).unwrap();
    std::fs::copy(&run_file, baselines.join("main.json")).unwrap();
    let bmf = export(dir.path(), "bmf", Path::new("main"));
    assert_eq!(bmf.as_object().unwrap().len(), 2);
}

#[test]
fn bad_export_and_import_input_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let run_file = import(dir.path());
    let run = run_file.to_str().unwrap();

    let out = xtask(dir.path(), &["export", "xml", run]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("xml"), "{}", stderr(&out));

    let out = xtask(dir.path(), &["export", "bmf", "missing/run.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("missing/run.json"),
        "{}",
        stderr(&out)
    );

    let out = xtask(dir.path(), &["export", "bmf", "nosuchbaseline"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nosuchbaseline"), "{}", stderr(&out));

    let out = xtask(dir.path(), &["export", "bmf", run, run]);
    assert_eq!(out.status.code(), Some(2), "one id twice: {}", stderr(&out));

    let out = xtask(dir.path(), &["import", "criterion", "no/such/dir"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no/such/dir"), "{}", stderr(&out));

    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = xtask(
        dir.path(),
        &["import", "criterion", empty.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("empty"), "{}", stderr(&out));

    let out = xtask(dir.path(), &["import", "sqlite", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("sqlite"), "{}", stderr(&out));
}

/// `--format` on `compare` prints the new run exactly as `export` does (and on `bench`, the same
/// code prints its run); the verdict still sets the exit code.
#[test]
fn compare_format_prints_the_new_run_as_export_does() {
    let dir = tempfile::tempdir().unwrap();
    let run_file = import(dir.path());
    let run = run_file.to_str().unwrap();
    for format in ["bmf", "github-action-benchmark", "csv"] {
        let exported = xtask(dir.path(), &["export", format, run]);
        let compared = xtask(dir.path(), &["compare", run, run, "--format", format]);
        assert_eq!(compared.status.code(), Some(0), "{}", stderr(&compared));
        assert!(
            exported.stdout.len() > 100,
            "{format}: {}",
            stderr(&exported)
        );
        assert_eq!(
            String::from_utf8_lossy(&compared.stdout),
            String::from_utf8_lossy(&exported.stdout),
            "{format}"
        );
    }
}
