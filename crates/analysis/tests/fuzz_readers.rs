//! Property-based fuzzing of the readers of a results directory, which hold files from other
//! machines, CI artifacts and crashed runs: a baseline by name (with its `.prev`), a directory's
//! newest run, a machine's history, and a comparison of whatever they return. On any files they
//! give a result or an error naming the file (or the name looked up), and never panic.
//!
//! `cargo test` runs a fixed number of cases; for a longer run:
//! `PROPTEST_CASES=100000 cargo test --release -p tensorbench-analysis --test fuzz_readers`.

mod common;
mod fuzz;

use common::{measurement, run, samples, skipped};
use fuzz::{any_json, config, mutate};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;
use std::path::Path;
use tensorbench_analysis::baseline::{load_baseline, resolve_run};
use tensorbench_analysis::history::history;
use tensorbench_analysis::{CompareConfig, compare_runs};

/// A valid run file: two measured ids and a skipped one, started at second `i`.
fn valid_run(i: usize) -> Value {
    let r = run(
        &format!("run-{i}"),
        &format!("2026-01-01T00:00:{:02}Z", i % 60),
        vec![
            measurement(
                "fuzz/add/scalar/f32/n=64",
                samples(20, 100.0, 0.02, i as u64),
            ),
            measurement(
                "fuzz/dot/simd/f32/n=64",
                samples(20, 50.0, 0.02, 7 + i as u64),
            ),
            skipped("fuzz/gemm/cuda/f32/n=64", "no GPU"),
        ],
    );
    serde_json::to_value(r).unwrap()
}

/// What one file holds in a case.
#[derive(Debug, Clone)]
enum Content {
    Valid,
    Text(String),
    Json(Value),
    Mutated(Vec<(Index, Option<Value>)>),
}

fn content() -> impl Strategy<Value = Content> {
    prop_oneof![
        2 => Just(Content::Valid),
        1 => ".{0,80}".prop_map(Content::Text),
        1 => any_json().prop_map(Content::Json),
        6 => prop::collection::vec((any::<Index>(), prop::option::of(any_json())), 1..4)
            .prop_map(Content::Mutated),
    ]
}

fn render(i: usize, c: &Content) -> String {
    match c {
        Content::Valid => valid_run(i).to_string(),
        Content::Text(t) => t.clone(),
        Content::Json(v) => v.to_string(),
        Content::Mutated(edits) => {
            let mut doc = valid_run(i);
            for (at, with) in edits {
                mutate(&mut doc, at, with.as_ref());
            }
            doc.to_string()
        }
    }
}

/// An error must name where it came from: a path under the case's directory, or the name.
fn names_its_source(e: &impl std::fmt::Display, root: &Path, name: &str) -> bool {
    let text = e.to_string();
    text.contains(&root.display().to_string()) || text.contains(name)
}

/// Writes the machine directory's run files and the baseline `base` (with `base.prev`), then
/// reads them every way a command does.
fn check(files: &[Content], baseline: &Content, prev: &Content) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let machine = results.join("test-host");
    let baselines = results.join("baselines");
    std::fs::create_dir_all(&machine).unwrap();
    std::fs::create_dir_all(&baselines).unwrap();
    for (i, c) in files.iter().enumerate() {
        std::fs::write(machine.join(format!("run-{i}.json")), render(i, c)).unwrap();
    }
    std::fs::write(baselines.join("base.json"), render(90, baseline)).unwrap();
    std::fs::write(baselines.join("base.prev.json"), render(91, prev)).unwrap();

    let root = dir.path();
    let by_name = resolve_run("base", &results);
    if let Err(e) = &by_name {
        prop_assert!(names_its_source(e, root, "base"), "{e}");
    }
    if let Err(e) = load_baseline(&results, "base.prev") {
        prop_assert!(names_its_source(&e, root, "base.prev"), "{e}");
    }
    let newest = resolve_run(machine.to_str().unwrap(), &results);
    if let Err(e) = &newest {
        prop_assert!(names_its_source(e, root, "run-"), "{e}");
    }
    match history(&machine) {
        Err(e) => prop_assert!(names_its_source(&e, root, "run-"), "{e}"),
        Ok(h) => prop_assert!(h.iter().all(|id| !id.id.is_empty())),
    }
    if let (Ok(old), Ok(new)) = (by_name, newest) {
        let cmp = compare_runs(&old.run, &new.run, &CompareConfig::default());
        let _ = (cmp.to_table(), cmp.to_markdown());
    }
    Ok(())
}

#[test]
fn valid_files_read_back() {
    let files = [Content::Valid, Content::Valid];
    check(&files, &Content::Valid, &Content::Valid).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.json"), valid_run(1).to_string()).unwrap();
    assert_eq!(history(dir.path()).unwrap().len(), 2, "two measured ids");
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn results_readers_survive_arbitrary_and_mutated_files(
        files in prop::collection::vec(content(), 1..4),
        baseline in content(),
        prev in content(),
    ) {
        check(&files, &baseline, &prev)?;
    }
}
