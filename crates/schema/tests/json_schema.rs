//! The published JSON Schemas (`docs/schema/`) are exactly what the types generate. A change to
//! the run-file types fails here until the files are regenerated with
//! `TENSORBENCH_BLESS=1 cargo test -p tensorbench-schema --test json_schema` (and, where old files no
//! longer read, `SCHEMA_VERSION` is bumped: see `docs/RESULTS.md`).

use std::path::PathBuf;
use tensorbench_schema::json_schema::{
    RUN_SCHEMA_PATH, STREAM_RECORD_SCHEMA_PATH, run_schema, stream_record_schema, to_file_text,
};
use tensorbench_schema::schema::SCHEMA_VERSION;

fn repo_file(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative)
}

fn check(relative: &str, schema: &serde_json::Value) {
    let path = repo_file(relative);
    let want = to_file_text(schema);
    if std::env::var_os("TENSORBENCH_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{relative} is not what the types generate: run \
         `TENSORBENCH_BLESS=1 cargo test -p tensorbench-schema --test json_schema` and commit it"
    );
}

#[test]
fn the_run_schema_file_matches_the_types() {
    check(RUN_SCHEMA_PATH, &run_schema());
}

#[test]
fn the_stream_record_schema_file_matches_the_types() {
    check(STREAM_RECORD_SCHEMA_PATH, &stream_record_schema());
}

#[test]
fn the_schemas_pin_the_version_and_list_enum_values() {
    let run = run_schema();
    assert_eq!(run["properties"]["schema_version"]["const"], SCHEMA_VERSION);
    let text = run.to_string();
    for value in [
        "\"bf16\"",
        "\"interrupted\"",
        "\"skipped\"",
        "\"batch_means\"",
    ] {
        assert!(text.contains(value), "no {value} in the run schema");
    }
    let record = stream_record_schema().to_string();
    for tag in ["\"header\"", "\"peaks\"", "\"measurement\"", "\"end\""] {
        assert!(record.contains(tag), "no {tag} record in the stream schema");
    }
}
