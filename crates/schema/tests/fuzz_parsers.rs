//! Property-based fuzzing of the run-file parsers, which read files from outside (other machines,
//! CI artifacts, crashed runs): on any input they return a run or an error naming the file, and
//! never panic. A stream cut at any byte (a `kill -9` mid-write) still yields every complete record.
//!
//! `cargo test` runs a fixed number of cases; for a longer run:
//! `PROPTEST_CASES=100000 cargo test --release -p tensorbench-schema --test fuzz_parsers`.

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};
use std::path::Path;
use tensorbench_schema::schema::{Caches, Machine, Run, RunStatus, SCHEMA_VERSION};
use tensorbench_schema::store::{Record, now_rfc3339, parse_run, read_stream};
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

/// `PROPTEST_CASES` when set, else `default` (kept small so `cargo test` stays fast).
fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A measurement with every optional part filled, so mutations reach every field's parser.
fn measurement(n: usize) -> Measurement {
    let spec = WorkloadSpec::new("fuzz", "add", "scalar", DType::F32)
        .param("n", n)
        .cost(n as f64, 8.0 * n as f64);
    let mut m = Measurement::skipped(&spec, Default::default(), "fixture");
    m.samples_ns = vec![10.0, 11.0, 12.5];
    m.stats = tensorbench_schema::stats::summarize(&m.samples_ns, 0.95);
    m.iters_per_sample = 4;
    m.extra.insert("seed".into(), 7.into());
    m
}

fn run() -> Run {
    Run {
        schema_version: SCHEMA_VERSION,
        run_id: "fuzz-run".into(),
        target: "cpu".into(),
        profile: "quick".into(),
        command: "fuzz".into(),
        started_at: now_rfc3339(),
        finished_at: Some(now_rfc3339()),
        status: RunStatus::Complete,
        git: Default::default(),
        machine: machine(),
        build_profile: "debug".into(),
        config: json!({"threads": 2}),
        peaks: [(
            "cpu".to_string(),
            [("bandwidth_gbps".to_string(), 10.0)].into(),
        )]
        .into(),
        measurements: vec![measurement(16), measurement(32)],
    }
}

fn valid_run_value() -> Value {
    serde_json::to_value(run()).unwrap()
}

/// The lines of a finished run's stream: header, peaks, measurements, end.
fn valid_stream_lines() -> Vec<String> {
    let full = run();
    let header = Run {
        measurements: vec![],
        ..full.clone()
    };
    let mut records = vec![Record::Header(Box::new(header))];
    records.push(Record::Peaks {
        device: "cpu".into(),
        values: full.peaks["cpu"].clone(),
    });
    records.extend(
        full.measurements
            .into_iter()
            .map(|m| Record::Measurement(Box::new(m))),
    );
    records.push(Record::End {
        status: RunStatus::Complete,
        finished_at: now_rfc3339(),
    });
    records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect()
}

/// Every JSON pointer in `v`, the root included.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                pointers(
                    child,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// JSON values of every kind, with the numbers parsers trip on.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![Just(0.0), Just(-1.0), Just(1e308), Just(-1e-308), Just(0.5)]
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        prop_oneof![
            Just("ok"),
            Just("failed"),
            Just("invalid"),
            Just("skipped"),
            Just("complete"),
            Just("interrupted"),
            Just("running"),
            Just("f32"),
            Just("hot"),
            Just("cold"),
            Just("measurement"),
            Just("header"),
            Just("end"),
            Just("peaks"),
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One structural change to a JSON document.
#[derive(Debug, Clone)]
enum Edit {
    Replace(Index, Value),
    Remove(Index),
    AddKey(Index, String, Value),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), any_json()).prop_map(|(i, v)| Edit::Replace(i, v)),
        any::<Index>().prop_map(Edit::Remove),
        (any::<Index>(), "[a-z_]{1,10}", any_json()).prop_map(|(i, k, v)| Edit::AddKey(i, k, v)),
    ]
}

fn apply(doc: &mut Value, edit: &Edit) {
    let mut all = Vec::new();
    pointers(doc, String::new(), &mut all);
    let at = |i: &Index| i.get(&all).clone();
    match edit {
        Edit::Replace(i, v) => {
            if let Some(slot) = doc.pointer_mut(&at(i)) {
                *slot = v.clone();
            }
        }
        Edit::Remove(i) => {
            let ptr = at(i);
            let Some((parent, key)) = ptr.rsplit_once('/') else {
                return;
            };
            match doc.pointer_mut(parent) {
                Some(Value::Object(m)) => {
                    m.remove(&key.replace("~1", "/").replace("~0", "~"));
                }
                Some(Value::Array(a)) => {
                    if let Ok(k) = key.parse::<usize>() {
                        a.remove(k);
                    }
                }
                _ => {}
            }
        }
        Edit::AddKey(i, k, v) => {
            if let Some(Value::Object(m)) = doc.pointer_mut(&at(i)) {
                m.insert(k.clone(), v.clone());
            }
        }
    }
}

/// One byte-level change to a text: what a torn write, a bad copy or a hand edit does.
#[derive(Debug, Clone)]
enum Splice {
    Truncate(Index),
    Delete(Index, usize),
    Insert(Index, String),
    Overwrite(Index, u8),
}

fn splice() -> impl Strategy<Value = Splice> {
    prop_oneof![
        any::<Index>().prop_map(Splice::Truncate),
        (any::<Index>(), 1usize..40).prop_map(|(i, n)| Splice::Delete(i, n)),
        (any::<Index>(), r#"[{}\[\]",:0-9a-z\\ .eE+\-\n]{1,8}"#)
            .prop_map(|(i, s)| Splice::Insert(i, s)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Splice::Overwrite(i, b)),
    ]
}

/// Applies `s` to `text`'s bytes; the result may be invalid UTF-8.
fn splice_bytes(text: &[u8], s: &Splice) -> Vec<u8> {
    let mut b = text.to_vec();
    let at = |i: &Index| i.index(b.len() + 1);
    match s {
        Splice::Truncate(i) => b.truncate(at(i)),
        Splice::Delete(i, n) => {
            let start = at(i);
            b.drain(start..(start + n).min(b.len()));
        }
        Splice::Insert(i, s) => {
            let start = at(i);
            b.splice(start..start, s.bytes());
        }
        Splice::Overwrite(i, byte) => {
            if !b.is_empty() {
                let k = i.index(b.len());
                b[k] = *byte;
            }
        }
    }
    b
}

const NAME: &str = "fuzzed-run.json";

/// The property every parser must keep: no panic (proptest reports one), and an error names the file.
fn check_run_text(text: &str) -> Result<(), TestCaseError> {
    if let Err(e) = parse_run(text, Path::new(NAME)) {
        prop_assert!(
            e.to_string().contains(NAME),
            "error does not name the file: {e}"
        );
    }
    Ok(())
}

fn check_stream_bytes(bytes: &[u8]) -> Result<Option<Run>, TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fuzzed.jsonl");
    std::fs::write(&path, bytes).unwrap();
    match read_stream(&path) {
        Ok(run) => Ok(Some(run)),
        Err(e) => {
            prop_assert!(
                e.to_string().contains("fuzzed.jsonl"),
                "error does not name the file: {e}"
            );
            Ok(None)
        }
    }
}

#[test]
fn the_fixtures_are_valid() {
    let text = serde_json::to_string(&valid_run_value()).unwrap();
    assert_eq!(
        parse_run(&text, Path::new(NAME))
            .unwrap()
            .measurements
            .len(),
        2
    );
    let stream = valid_stream_lines().join("\n") + "\n";
    let run = check_stream_bytes(stream.as_bytes()).unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Complete);
    assert_eq!(run.measurements.len(), 2);
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn parse_run_survives_arbitrary_text(text in any::<String>()) {
        check_run_text(&text)?;
    }

    #[test]
    fn parse_run_survives_json_like_text(text in r#"[{}\[\]",:0-9a-z_ .eE+\-]{0,200}"#) {
        check_run_text(&text)?;
    }

    #[test]
    fn parse_run_survives_structural_mutations(edits in prop::collection::vec(edit(), 1..4)) {
        let mut doc = valid_run_value();
        for e in &edits {
            apply(&mut doc, e);
        }
        check_run_text(&doc.to_string())?;
    }

    #[test]
    fn parse_run_survives_byte_mutations(splices in prop::collection::vec(splice(), 1..4)) {
        let mut bytes = serde_json::to_vec_pretty(&valid_run_value()).unwrap();
        for s in &splices {
            bytes = splice_bytes(&bytes, s);
        }
        check_run_text(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn read_stream_survives_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        check_stream_bytes(&bytes)?;
    }

    #[test]
    fn read_stream_survives_structural_mutations(
        line in any::<Index>(),
        edits in prop::collection::vec(edit(), 1..3),
        reorder in prop::option::of((any::<Index>(), any::<Index>())),
    ) {
        let mut lines = valid_stream_lines();
        let k = line.index(lines.len());
        let mut doc: Value = serde_json::from_str(&lines[k]).unwrap();
        for e in &edits {
            apply(&mut doc, e);
        }
        lines[k] = doc.to_string();
        if let Some((a, b)) = reorder {
            let (a, b) = (a.index(lines.len()), b.index(lines.len()));
            lines.swap(a, b);
        }
        check_stream_bytes((lines.join("\n") + "\n").as_bytes())?;
    }

    #[test]
    fn read_stream_survives_byte_mutations(splices in prop::collection::vec(splice(), 1..4)) {
        let mut bytes = (valid_stream_lines().join("\n") + "\n").into_bytes();
        for s in &splices {
            bytes = splice_bytes(&bytes, s);
        }
        check_stream_bytes(&bytes)?;
    }

    /// `kill -9` mid-write: the stream cut at any byte after the header keeps every complete record.
    #[test]
    fn a_stream_cut_anywhere_after_its_header_keeps_every_complete_record(cut in any::<Index>()) {
        let lines = valid_stream_lines();
        let text = lines.join("\n") + "\n";
        let header_end = lines[0].len() + 1;
        let at = header_end + cut.index(text.len() - header_end + 1);
        let run = check_stream_bytes(&text.as_bytes()[..at])?.expect("a cut stream parses");
        // A line survives when the cut left it whole, with or without its newline.
        let whole: Vec<bool> = text[..at]
            .split('\n')
            .zip(&lines)
            .map(|(kept, line)| kept == line)
            .collect();
        // Lines: header, peaks, two measurements, end.
        let measurements = whole.iter().skip(2).take(2).filter(|&&w| w).count();
        prop_assert_eq!(run.measurements.len(), measurements);
        let ended = whole.get(4).copied().unwrap_or(false);
        let want = if ended { RunStatus::Complete } else { RunStatus::Interrupted };
        prop_assert_eq!(run.status, want);
    }
}
