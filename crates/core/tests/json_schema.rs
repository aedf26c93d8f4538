//! A fresh run file, written by the driver for a real workload, and every line of a run stream
//! validate against the published JSON Schemas in `docs/schema/` (which
//! `tensorbench-schema`'s `tests/json_schema.rs` keeps equal to what the types generate).

#[allow(dead_code)]
#[path = "../examples/naive_matmul.rs"]
mod naive_matmul;

use clap::Parser;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tensorbench_core::schema::{Measurement, RunStatus};
use tensorbench_core::store::{self, Record, RunWriter};
use tensorbench_core::suite::{SuiteOptions, run_suite};
use tensorbench_core::{DType, WorkloadSpec};

fn validator(relative: &str) -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative);
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

fn assert_valid(v: &jsonschema::Validator, what: &str, doc: &Value) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {}", errors.join("\n"));
}

/// Runs the naive-matmul example through the driver; returns its run file.
fn fresh_run(dir: &Path) -> PathBuf {
    let o = SuiteOptions::parse_from(["x", "--out", dir.to_str().unwrap(), "--no-probes"]);
    assert_eq!(run_suite("example", &o, naive_matmul::register).unwrap(), 0);
    let machine_dir = std::fs::read_dir(dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::read_dir(machine_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
}

#[test]
fn a_fresh_run_file_validates_against_the_run_schema() {
    let dir = tempfile::tempdir().unwrap();
    let file = fresh_run(dir.path());
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(!doc["measurements"].as_array().unwrap().is_empty());
    let v = validator("docs/schema/run.schema.json");
    assert_valid(&v, &file.display().to_string(), &doc);

    // And the schema has teeth: what readers refuse, it refuses too.
    let mut wrong = doc.clone();
    wrong["schema_version"] = 999.into();
    assert!(!v.is_valid(&wrong), "another schema version passed");
    let mut wrong = doc.clone();
    wrong["measurements"][0]["status"] = "fast".into();
    assert!(!v.is_valid(&wrong), "an unknown status passed");
    let mut wrong = doc;
    wrong["measurements"][0]["dtype"] = Value::Null;
    assert!(!v.is_valid(&wrong), "a missing dtype passed");
}

#[test]
fn every_line_of_a_run_stream_validates_against_the_record_schema() {
    let dir = tempfile::tempdir().unwrap();
    let run = store::load_run(&fresh_run(&dir.path().join("fresh"))).unwrap();
    let stream_dir = dir.path().join("stream");
    let mut w = RunWriter::create(&stream_dir, run.clone()).unwrap();
    w.record_peaks("cpu", [("bandwidth_gbps".to_string(), 12.5)].into())
        .unwrap();
    for m in &run.measurements {
        w.record(m.clone()).unwrap();
    }
    let spec = WorkloadSpec::new("example", "matmul", "gpu", DType::F16).param("n", 64);
    w.record(Measurement::skipped(
        &spec,
        Default::default(),
        "no GPU here",
    ))
    .unwrap();
    let text = std::fs::read_to_string(w.stream_path()).unwrap();
    let end = Record::End {
        status: RunStatus::Complete,
        finished_at: store::now_rfc3339(),
    };
    let end = serde_json::to_string(&end).unwrap();
    let v = validator("docs/schema/stream-record.schema.json");
    let lines: Vec<&str> = text.lines().chain([end.as_str()]).collect();
    assert_eq!(lines.len(), run.measurements.len() + 4);
    for (i, line) in lines.iter().enumerate() {
        let doc: Value = serde_json::from_str(line).unwrap();
        assert_valid(&v, &format!("stream line {}", i + 1), &doc);
    }
    let bogus = serde_json::json!({"record": "footer"});
    assert!(!v.is_valid(&bogus), "an unknown record kind passed");
}
