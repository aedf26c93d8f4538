//! Run files: round-trip, streams cut short, and bad files named in errors.

use std::path::Path;
use tensorbench_schema::schema::{Caches, Machine, Run, RunStatus, SCHEMA_VERSION};
use tensorbench_schema::store::{self, Error, RunWriter};
use tensorbench_schema::{DType, Measurement, WorkloadSpec};

/// A machine with every field filled (what `machine::detect()` in core gives on a host), so
/// parsers see each of them.
fn machine() -> Machine {
    Machine {
        hostname: Some("test-host".into()),
        cpu_model: Some("Test CPU @ 3.0GHz".into()),
        arch: "x86_64".into(),
        physical_cores: Some(2),
        logical_cores: 4,
        caches: Caches {
            l1d: Some(32 << 10),
            l2: Some(1 << 20),
            l3: Some(32 << 20),
        },
        features: vec!["avx2".into(), "fma".into()],
        memory_bytes: Some(16 << 30),
        os: Some("Linux".into()),
        kernel: Some("6.1".into()),
        rustc: Some("rustc 1.95.0".into()),
        governor: Some("performance".into()),
        load_avg_1m: Some(0.5),
        gpus: vec![],
    }
}

fn run() -> Run {
    Run {
        schema_version: SCHEMA_VERSION,
        run_id: "r1".into(),
        target: "cpu".into(),
        profile: "quick".into(),
        command: "test".into(),
        started_at: store::now_rfc3339(),
        finished_at: None,
        status: RunStatus::Running,
        git: Default::default(),
        machine: machine(),
        build_profile: "debug".into(),
        config: serde_json::json!({}),
        peaks: Default::default(),
        measurements: vec![],
    }
}

fn measurement(id: &str) -> Measurement {
    let spec = WorkloadSpec::new("t", id, "scalar", DType::F32);
    Measurement::skipped(&spec, Default::default(), "for the test")
}

#[test]
fn schema_round_trips_through_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = RunWriter::create(dir.path(), run()).unwrap();
    w.record_peaks("cpu", [("bandwidth_gbps".to_string(), 10.0)].into())
        .unwrap();
    w.record(measurement("a")).unwrap();
    let expected = w.run().clone();
    let path = w.finish(RunStatus::Complete).unwrap();
    let back = store::load_run(&path).unwrap();
    assert_eq!(back.measurements, expected.measurements);
    assert_eq!(back.peaks, expected.peaks);
    assert_eq!(back.status, RunStatus::Complete);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(store::parse_run(&text, &path).unwrap(), back);
}

#[test]
fn a_torn_last_line_is_dropped_and_the_run_is_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = RunWriter::create(dir.path(), run()).unwrap();
    w.record(measurement("a")).unwrap();
    w.record(measurement("b")).unwrap();
    let stream = w.stream_path().to_path_buf();
    drop(w);
    let mut text = std::fs::read_to_string(&stream).unwrap();
    text.push_str("{\"record\":\"measurement\",\"id\":\"c\",\"op");
    std::fs::write(&stream, text).unwrap();
    let back = store::load_run(&stream).unwrap();
    assert_eq!(back.status, RunStatus::Interrupted);
    assert_eq!(back.measurements.len(), 2);
}

#[test]
fn resume_after_a_torn_tail_cuts_it_so_the_stream_still_parses() {
    for tail in ["{\"record\":\"measurement\",\"id\":\"c\",\"op", "{\"torn\n"] {
        let dir = tempfile::tempdir().unwrap();
        let mut w = RunWriter::create(dir.path(), run()).unwrap();
        w.record(measurement("a")).unwrap();
        let stream = w.stream_path().to_path_buf();
        drop(w);
        let mut text = std::fs::read_to_string(&stream).unwrap();
        text.push_str(tail);
        std::fs::write(&stream, text).unwrap();
        let mut w = RunWriter::resume(&stream).unwrap();
        w.record(measurement("b")).unwrap();
        drop(w);
        let back = store::load_run(&stream).expect("the resumed stream parses");
        let ids: Vec<_> = back.measurements.iter().map(|m| m.id.clone()).collect();
        assert_eq!(
            ids,
            [measurement("a").id, measurement("b").id],
            "after tail {tail:?}"
        );
    }
}

#[test]
fn resume_ends_a_whole_last_line_that_lost_its_newline() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = RunWriter::create(dir.path(), run()).unwrap();
    w.record(measurement("a")).unwrap();
    let stream = w.stream_path().to_path_buf();
    drop(w);
    let text = std::fs::read_to_string(&stream).unwrap();
    std::fs::write(&stream, text.trim_end()).unwrap();
    let mut w = RunWriter::resume(&stream).unwrap();
    w.record(measurement("b")).unwrap();
    drop(w);
    assert_eq!(store::load_run(&stream).unwrap().measurements.len(), 2);
}

#[test]
fn writer_refuses_to_overwrite_an_existing_run() {
    let dir = tempfile::tempdir().unwrap();
    let w = RunWriter::create(dir.path(), run()).unwrap();
    let path = w.finish(RunStatus::Complete).unwrap();
    let before = std::fs::read(&path).unwrap();
    assert!(RunWriter::create(dir.path(), run()).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

fn load_err(dir: &Path, name: &str, body: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    let e = store::load_run(&p).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains(name), "error must name the file: {msg}");
    msg
}

#[test]
fn bad_files_get_errors_that_name_file_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(load_err(d, "empty.json", "").contains("empty"));
    assert!(load_err(d, "trunc.json", "{\"schema_version\": 1, \"run_").contains("truncated"));
    assert!(load_err(d, "other.json", "{\"hello\": 1}").contains("schema_version"));
    let mut v = serde_json::to_value(run()).unwrap();
    v["schema_version"] = 99.into();
    let e = load_err(d, "future.json", &v.to_string());
    assert!(e.contains("99"), "{e}");
    let mut v = serde_json::to_value(run()).unwrap();
    v["machine"]["logical_cores"] = "two".into();
    let e = load_err(d, "field.json", &v.to_string());
    assert!(e.contains("machine.logical_cores"), "names the field: {e}");
    let missing = store::load_run(&d.join("nope.json")).unwrap_err();
    assert!(matches!(missing, Error::Io { .. }) && missing.to_string().contains("nope.json"));
}

/// A measurement placed again (probes measured again at the end of a run) has its new placement
/// in the finished file and in the stream it is resumed from, the latest one winning.
#[test]
fn a_measurement_placed_again_keeps_its_new_placement_in_file_and_stream() {
    use tensorbench_schema::schema::{Bound, Roofline};
    let placed = |pct: f64| Roofline {
        bound: Bound::Memory,
        pct_of_peak: pct,
        intensity: None,
        ceiling: "bandwidth_l1_gbps_t1".into(),
        level: Some("L1".into()),
        ceiling_threads: Some(1),
        ceiling_value: Some(10.0),
        above_ceiling: None,
    };
    let dir = tempfile::tempdir().unwrap();
    let mut w = RunWriter::create(dir.path(), run()).unwrap();
    let mut m = measurement("a");
    m.roofline = Some(placed(1.3));
    w.record(m).unwrap();
    w.record(measurement("b")).unwrap();
    w.place(&measurement("a").id, Some(placed(0.9))).unwrap();
    w.place(&measurement("a").id, Some(placed(0.8))).unwrap();
    let from_stream = store::read_stream(w.stream_path()).unwrap();
    let path = w.finish(RunStatus::Complete).unwrap();
    let from_file = store::load_run(&path).unwrap();
    for run in [from_stream, from_file] {
        let r = run.measurements[0].roofline.as_ref().expect("placed");
        assert_eq!(r.pct_of_peak, 0.8);
        assert!(run.measurements[1].roofline.is_none(), "b untouched");
    }
}
