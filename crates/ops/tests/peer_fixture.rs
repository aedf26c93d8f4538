//! The Python peers are judged against the same f64 references as the Rust backends.
//!
//! Mechanism (the simplest honest one): this test computes `tensorbench_ops::reference` on small
//! fixed inputs and compares the result with `python/tests/fixtures/ops_reference.json`, which
//! holds those inputs and reference outputs; `python/tests/test_reference_fixture.py` runs the
//! NumPy (and, where installed, JAX and PyTorch) peers on the same inputs and checks them, and
//! NumPy's own f64 reference, against the stored outputs. So a change to a Rust reference fails
//! here until the fixture is rewritten (`TENSORBENCH_BLESS=1 cargo test -p tensorbench-ops --test
//! peer_fixture`), and the rewritten fixture then holds the peers to the new values.
//! Inputs come from a small splitmix64 generator written out in full, not from core's ChaCha
//! (which the ops crate sits below); the fixture stores them, so Python never regenerates them.

use serde_json::{Value, json};
use std::path::PathBuf;
use tensorbench_ops::reference as r;
use tensorbench_ops::{ids, op};

fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../python/tests/fixtures/ops_reference.json")
}

/// `len` values uniform in [lo, hi), rounded to f32, from splitmix64 seeded with `seed`.
fn uniform(len: usize, seed: u64, lo: f32, hi: f32) -> Vec<f32> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            let unit = (z >> 40) as f32 / (1u64 << 24) as f32;
            lo + (hi - lo) * unit
        })
        .collect()
}

fn case(
    name: &str,
    params: &[(&str, usize)],
    inputs: &[(&str, &[f32])],
    reference: Vec<f64>,
) -> Value {
    let params: serde_json::Map<String, Value> = params
        .iter()
        .map(|&(k, v)| (k.to_string(), v.into()))
        .collect();
    let inputs: serde_json::Map<String, Value> = inputs
        .iter()
        .map(|&(k, v)| (k.to_string(), json!(v)))
        .collect();
    json!({ "op": name, "params": params, "inputs": inputs, "reference": reference })
}

/// The ops the Python peers implement (python/tensorbench_peers/ops.py), each on odd sizes so a
/// vector tail or a row boundary is exercised.
fn cases() -> Vec<Value> {
    let n = 37;
    let (a, b) = (uniform(n, 1, -1.0, 1.0), uniform(n, 2, -1.0, 1.0));
    let add: Vec<f64> = a
        .iter()
        .zip(&b)
        .map(|(&x, &y)| f64::from(x) + f64::from(y))
        .collect();
    let s = uniform(n, 3, 0.0, 1.0);
    let (rows, cols) = (3, 19);
    let logits = uniform(rows * cols, 4, -8.0, 8.0);
    let x = uniform(rows * cols, 5, -1.0, 3.0);
    let gamma = uniform(cols, 6, 0.5, 1.5);
    let beta = uniform(cols, 7, -0.5, 0.5);
    let eps = f64::from(r::LAYER_NORM_EPS);
    let (m, gn, k) = (5, 3, 7);
    let (ga, gb) = (uniform(m * k, 8, -1.0, 1.0), uniform(k * gn, 9, -1.0, 1.0));
    vec![
        case(op::ADD, &ids::flat(n), &[("a", &a), ("b", &b)], add),
        case(
            op::SUM,
            &ids::flat(n),
            &[("x", &s)],
            vec![r::sum_and_abs(&s).0],
        ),
        case(
            op::SOFTMAX,
            &ids::rows(rows, cols),
            &[("x", &logits)],
            r::softmax_rows(&logits, cols),
        ),
        case(
            op::LAYER_NORM,
            &ids::rows(rows, cols),
            &[("x", &x), ("gamma", &gamma), ("beta", &beta)],
            r::layer_norm_rows(&x, &gamma, &beta, eps),
        ),
        case(
            op::GEMM,
            &ids::gemm(m, gn, k),
            &[("a", &ga), ("b", &gb)],
            r::matmul(m, gn, k, &ga, &gb),
        ),
    ]
}

fn fixture_text() -> String {
    let doc = json!({
        "about": "f64 references from tensorbench_ops::reference on fixed inputs; written by \
                  `TENSORBENCH_BLESS=1 cargo test -p tensorbench-ops --test peer_fixture`, read by \
                  python/tests/test_reference_fixture.py",
        "layer_norm_eps": f64::from(r::LAYER_NORM_EPS),
        "cases": cases(),
    });
    serde_json::to_string_pretty(&doc).expect("json") + "\n"
}

#[test]
fn the_peer_fixture_holds_the_current_references() {
    let path = fixture_path();
    let want = fixture_text();
    if std::env::var_os("TENSORBENCH_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (write it with TENSORBENCH_BLESS=1)",
            path.display()
        )
    });
    let (have_v, want_v): (Value, Value) = (
        serde_json::from_str(&have).unwrap(),
        serde_json::from_str(&want).unwrap(),
    );
    assert!(
        have_v == want_v,
        "{} is out of date with tensorbench_ops::reference: rerun with TENSORBENCH_BLESS=1 and \
         check the Python peers against it",
        path.display()
    );
}

#[test]
fn the_generator_is_uniform_in_range() {
    let v = uniform(10_000, 42, -8.0, 8.0);
    assert!(v.iter().all(|&x| (-8.0..8.0).contains(&x)));
    let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64;
    assert!(mean.abs() < 0.2, "mean {mean}");
    assert_ne!(uniform(4, 1, 0.0, 1.0), uniform(4, 2, 0.0, 1.0));
}

#[test]
fn profiles_serialise_lowercase() {
    use tensorbench_ops::Profile;
    assert_eq!(
        serde_json::to_string(&Profile::Standard).unwrap(),
        "\"standard\""
    );
    assert_eq!(
        serde_json::from_str::<Profile>("\"full\"").unwrap(),
        Profile::Full
    );
    assert!(serde_json::from_str::<Profile>("\"Full\"").is_err());
}
