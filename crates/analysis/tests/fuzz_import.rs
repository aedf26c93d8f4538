//! Property-based fuzzing of the criterion import, which reads files another tool wrote: on any
//! `benchmark.json` / `sample.json` / `estimates.json` it returns a run or an error naming the
//! file, never panics, and a run it returns can be saved and read back as a run file.
//!
//! `cargo test` runs a fixed number of cases; for a longer run:
//! `PROPTEST_CASES=100000 cargo test --release -p tensorbench-analysis --test fuzz_import`.

mod fuzz;

use fuzz::{any_json, config, mutate};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;
use std::path::Path;
use tensorbench_analysis::interop::criterion;
use tensorbench_schema::Run;
use tensorbench_schema::store::parse_run;

fn import_criterion(dir: &Path) -> tensorbench_analysis::Result<Run> {
    criterion::import_criterion(dir, Default::default(), Default::default())
}

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/criterion/add/simd/1024/new"
);
const FILES: [&str; 3] = ["benchmark.json", "sample.json", "estimates.json"];

fn fixture(file: &str) -> Value {
    let text = std::fs::read_to_string(Path::new(FIXTURE).join(file)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// What one of the three files holds in a case.
#[derive(Debug, Clone)]
enum Content {
    Fixture,
    Missing,
    Text(String),
    Json(Value),
    Mutated(Vec<(Index, Option<Value>)>),
}

fn content() -> impl Strategy<Value = Content> {
    prop_oneof![
        2 => Just(Content::Fixture),
        1 => Just(Content::Missing),
        1 => ".{0,60}".prop_map(Content::Text),
        2 => any_json().prop_map(Content::Json),
        6 => prop::collection::vec((any::<Index>(), prop::option::of(any_json())), 1..4)
            .prop_map(Content::Mutated),
    ]
}

fn render(file: &str, c: &Content) -> Option<String> {
    match c {
        Content::Fixture => Some(fixture(file).to_string()),
        Content::Missing => None,
        Content::Text(t) => Some(t.clone()),
        Content::Json(v) => Some(v.to_string()),
        Content::Mutated(edits) => {
            let mut doc = fixture(file);
            for (at, with) in edits {
                mutate(&mut doc, at, with.as_ref());
            }
            Some(doc.to_string())
        }
    }
}

/// Imports a criterion directory holding the three files; checks the error names a path below
/// it, or that the run survives a save and reload.
fn check(contents: &[Content; 3]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let new_dir = dir.path().join("group").join("new");
    std::fs::create_dir_all(&new_dir).unwrap();
    for (file, c) in FILES.iter().zip(contents) {
        if let Some(text) = render(file, c) {
            std::fs::write(new_dir.join(file), text).unwrap();
        }
    }
    match import_criterion(dir.path()) {
        Err(e) => {
            let root = dir.path().display().to_string();
            prop_assert!(
                e.to_string().contains(&root),
                "error does not name the file: {e}"
            );
        }
        Ok(run) => {
            let text = serde_json::to_string(&run).unwrap();
            let back = parse_run(&text, Path::new("imported.json"));
            prop_assert!(
                back.is_ok(),
                "an imported run does not read back: {:?}",
                back.err()
            );
        }
    }
    Ok(())
}

#[test]
fn the_fixture_imports() {
    check(&[Content::Fixture, Content::Fixture, Content::Fixture]).unwrap();
    let run = import_criterion(Path::new(FIXTURE).parent().unwrap()).unwrap();
    assert_eq!(run.measurements.len(), 1);
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn criterion_import_survives_arbitrary_and_mutated_files(
        benchmark in content(),
        sample in content(),
        estimates in content(),
    ) {
        check(&[benchmark, sample, estimates])?;
    }
}
