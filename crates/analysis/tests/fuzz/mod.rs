//! Shared by the fuzz tests: proptest's case count, JSON values of every kind, and one-pointer
//! edits of a valid document.
#![allow(dead_code)]

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;

/// `PROPTEST_CASES` when set, else `default` (kept small so `cargo test` stays fast).
pub fn config(default: u32) -> ProptestConfig {
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

/// JSON values of every kind, with the numbers importers trip on.
pub fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![Just(0.0), Just(-1.0), Just(1e308), Just(1e-308), Just(-0.0)]
            .prop_map(Value::from),
        ".{0,10}".prop_map(Value::from),
        prop_oneof![
            Just("Bytes"),
            Just("Elements"),
            Just("BytesDecimal"),
            Just("ElementsAndBytes")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
            prop::collection::btree_map("[a-zA-Z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every JSON pointer in `v`, the root included.
pub fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
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

/// Replaces the value at one pointer, or removes it when `with` is `None`.
pub fn mutate(doc: &mut Value, at: &Index, with: Option<&Value>) {
    let mut all = Vec::new();
    pointers(doc, String::new(), &mut all);
    let ptr = at.get(&all).clone();
    if let Some(v) = with {
        if let Some(slot) = doc.pointer_mut(&ptr) {
            *slot = v.clone();
        }
        return;
    }
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
