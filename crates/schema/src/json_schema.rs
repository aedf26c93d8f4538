//! JSON Schemas (draft 2020-12) of the run file and of one line of a run stream, generated from
//! the types themselves so they cannot drift: `docs/schema/run.schema.json` and
//! `docs/schema/stream-record.schema.json` are these, checked by `tests/json_schema.rs`
//! (`TENSORBENCH_BLESS=1 cargo test -p tensorbench-schema --test json_schema` rewrites them).

use crate::schema::{Run, SCHEMA_VERSION};
use crate::store::Record;
use serde_json::Value;

/// Where the published schemas live, relative to the repository root.
pub const RUN_SCHEMA_PATH: &str = "docs/schema/run.schema.json";
/// The stream record's schema, beside the run file's.
pub const STREAM_RECORD_SCHEMA_PATH: &str = "docs/schema/stream-record.schema.json";

/// The schema of a whole run file (`<run-id>.json`).
pub fn run_schema() -> Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(Run)).unwrap_or_default();
    pin_version(&mut schema["properties"]["schema_version"]);
    schema
}

/// The schema of one line of a run stream (`<run-id>.jsonl`): a header, peaks, a measurement or
/// the end.
pub fn stream_record_schema() -> Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(Record)).unwrap_or_default();
    pin_version(&mut schema["$defs"]["Run"]["properties"]["schema_version"]);
    schema
}

/// Readers refuse any other version, so the schema says which one it describes.
fn pin_version(field: &mut Value) {
    if let Value::Object(map) = field {
        map.insert("const".into(), SCHEMA_VERSION.into());
    }
}

/// A schema as it is written to disk: pretty, with a final newline.
pub fn to_file_text(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).unwrap_or_default();
    text.push('\n');
    text
}
