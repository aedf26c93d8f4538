//! Both modules built for wasm32, run in Node and headless Chromium: kernel outputs against the
//! native f64 reference, the sampler inside the module, and the driver end to end. A missing
//! wasm target, wasm-bindgen-cli, Node or Chromium skips with the install command, unless
//! `TENSORBENCH_REQUIRE_WASM=1` (CI), which makes it a failure.

use serde_json::{Value, json};
use std::time::Duration;
use tensorbench_core::schema::{Measurement, Status};
use tensorbench_core::workload::max_rel_err;
use tensorbench_core::{ClockSource, store};
use tensorbench_wasm::host::build::{self, Abi, Module, Variant};
use tensorbench_wasm::host::runtimes::{self, Found, Runtime};
use tensorbench_wasm::host::{Missing, wasm_required};
use tensorbench_wasm::ops::{self, Inputs, Op, Point};

fn skip_or_fail(m: &Missing) {
    if wasm_required() {
        panic!("TENSORBENCH_REQUIRE_WASM=1 but {m}");
    }
    eprintln!("SKIPPED: {m}");
}

fn module(variant: Variant) -> Option<Module> {
    module_for(variant, Runtime::Node)
}

/// The module `runtime` loads: wasm-bindgen for JavaScript engines, the C ABI for wasmtime.
fn module_for(variant: Variant, runtime: Runtime) -> Option<Module> {
    let (check, build): (fn() -> _, fn(Variant) -> _) = match runtime.abi() {
        Abi::Bindgen => (build::check_toolchain, build::build),
        Abi::Cabi => (build::check_target, build::build_cabi),
    };
    if let Err(m) = check() {
        skip_or_fail(&m);
        return None;
    }
    Some(build(variant).unwrap_or_else(|e: anyhow::Error| panic!("{e:#}")))
}

fn runtime(r: Runtime) -> Option<Found> {
    runtimes::detect(r).map_err(|m| skip_or_fail(&m)).ok()
}

/// Odd lengths so every kernel's vector tail runs; two softmax rows; GEMMs off any block size.
fn checks() -> Vec<Point> {
    Op::ALL
        .into_iter()
        .map(|op| {
            let n = match op {
                Op::Softmax => 2 * ops::SOFTMAX_COLS,
                Op::Gemm | Op::GemmI8 => 19,
                _ => 1037,
            };
            Point { op, n }
        })
        .collect()
}

fn check_kernels(variant: Variant, r: Runtime) {
    let (Some(found), Some(module)) = (runtime(r), module_for(variant, r)) else {
        return;
    };
    let points = checks();
    let request = json!({
        "mode": "kernels",
        "checks": points.iter().enumerate().map(|(i, p)| json!({"op": p.op, "n": p.n, "seed": 100 + i})).collect::<Vec<_>>(),
    });
    let reply = runtimes::execute(&found, &module, &request, Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("{e:#}"));
    let want_isa = match variant {
        Variant::Scalar => "portable",
        Variant::Simd128 => "simd128",
    };
    assert_eq!(reply["build"]["isa"], want_isa, "{reply}");
    assert_eq!(reply["build"]["backend"], variant.backend());
    let outputs = reply["outputs"].as_array().expect("outputs");
    assert_eq!(outputs.len(), points.len());
    for (i, (p, got)) in points.iter().zip(outputs).enumerate() {
        let got: Vec<f64> = serde_json::from_value(got.clone()).unwrap();
        let reference = ops::reference(*p, &Inputs::generate(*p, 100 + i as u64));
        let err = max_rel_err(&got, &reference);
        assert!(
            err <= ops::tolerance(*p),
            "{} n={} in {} ({}): max relative error {err:e}",
            p.op.name(),
            p.n,
            found.device(),
            variant.name()
        );
    }
}

#[test]
fn scalar_module_matches_native_reference_in_node() {
    check_kernels(Variant::Scalar, Runtime::Node)
}

#[test]
fn simd128_module_matches_native_reference_in_node() {
    check_kernels(Variant::Simd128, Runtime::Node)
}

#[test]
fn scalar_module_matches_native_reference_in_chromium() {
    check_kernels(Variant::Scalar, Runtime::Chromium)
}

#[test]
fn simd128_module_matches_native_reference_in_chromium() {
    check_kernels(Variant::Simd128, Runtime::Chromium)
}

#[test]
fn sampler_runs_inside_the_module() {
    let (Some(module), Some(found)) = (module(Variant::Simd128), runtime(Runtime::Node)) else {
        return;
    };
    let ids: Vec<String> = [
        Point {
            op: Op::Add,
            n: 1 << 16,
        },
        Point {
            op: Op::DotI8,
            n: 1 << 16,
        },
    ]
    .iter()
    .map(|&p| ops::spec(p, "wasm-simd128", Some("node")).id)
    .collect();
    let request = json!({"profile": "quick", "seed": 7, "runtime": "node", "ids": ids});
    let reply = runtimes::execute(&found, &module, &request, Duration::from_secs(120)).unwrap();
    let ms: Vec<Measurement> = serde_json::from_value(reply["measurements"].clone()).unwrap();
    assert_eq!(ms.iter().map(|m| m.id.clone()).collect::<Vec<_>>(), ids);
    for m in &ms {
        assert_eq!(m.status, Status::Ok, "{m:?}");
        assert!(m.validation.as_ref().unwrap().passed);
        let sampling = m.sampling.as_ref().unwrap();
        assert_eq!(sampling.clock_source, ClockSource::PerformanceNow);
        assert!(m.stats.as_ref().unwrap().median_ns > 0.0);
        assert!(m.samples_ns.len() >= 10);
    }
    assert!(reply["memory_bytes"].as_u64().unwrap() >= 65536);
    assert!(reply["cold_start"]["compile_ms"].as_f64().unwrap() > 0.0);
}

#[test]
fn a_bad_request_is_an_error_not_a_crash() {
    let (Some(module), Some(found)) = (module(Variant::Scalar), runtime(Runtime::Node)) else {
        return;
    };
    let request = json!({"profile": "fastest", "seed": 1, "runtime": "node"});
    let err = runtimes::execute(&found, &module, &request, Duration::from_secs(60)).unwrap_err();
    assert!(format!("{err:#}").contains("unknown profile"), "{err:#}");
}

fn driver() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_tensorbench-wasm"))
}

#[test]
fn driver_rejects_an_unknown_runtime() {
    let out = driver().args(["--runtime", "deno"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--runtime \"deno\""));
}

#[test]
fn driver_writes_native_and_wasm_side_by_side() {
    if build::check_toolchain()
        .map_err(|m| skip_or_fail(&m))
        .is_err()
        || runtime(Runtime::Node).is_none()
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = driver()
        .args([
            "--runtime",
            "node",
            "--seed",
            "3",
            "--filter",
            "/add/.*n=65536",
        ])
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let path = stderr
        .lines()
        .find_map(|l| l.strip_prefix("run file: "))
        .expect("run file path");
    let run = store::load_run(std::path::Path::new(path)).unwrap();
    let backends: Vec<&str> = run
        .measurements
        .iter()
        .map(|m| m.backend.as_str())
        .collect();
    assert_eq!(
        backends,
        [
            "native-scalar",
            "native-simd",
            "wasm-scalar",
            "wasm-simd128"
        ]
    );
    assert!(run.measurements.iter().all(|m| m.status == Status::Ok));
    let simd = &run.measurements[3];
    assert!(simd.device.starts_with("node "), "{}", simd.device);
    for key in [
        "speedup_vs_wasm_scalar",
        "speedup_vs_native_simd",
        "wasm_brotli_bytes",
        "cold_compile_ms",
        "memory_high_water_bytes",
    ] {
        assert!(
            simd.extra.get(key).is_some_and(Value::is_number),
            "{key} missing in {:?}",
            simd.extra
        );
    }
    assert!(run.config["runtimes"]["node"].is_string());
}

#[cfg(feature = "wasmtime")]
#[test]
fn scalar_module_matches_native_reference_in_wasmtime() {
    check_kernels(Variant::Scalar, Runtime::Wasmtime)
}

#[cfg(feature = "wasmtime")]
#[test]
fn simd128_module_matches_native_reference_in_wasmtime() {
    check_kernels(Variant::Simd128, Runtime::Wasmtime)
}

#[cfg(feature = "wasmtime")]
#[test]
fn sampler_runs_inside_the_module_in_wasmtime() {
    let (Some(found), Some(module)) = (
        runtime(Runtime::Wasmtime),
        module_for(Variant::Simd128, Runtime::Wasmtime),
    ) else {
        return;
    };
    let id = ops::spec(
        Point {
            op: Op::Dot,
            n: 1 << 16,
        },
        "wasm-simd128",
        Some("wasmtime"),
    )
    .id;
    let request = json!({"profile": "quick", "seed": 9, "runtime": "wasmtime", "ids": [id]});
    let reply = runtimes::execute(&found, &module, &request, Duration::from_secs(120)).unwrap();
    let ms: Vec<Measurement> = serde_json::from_value(reply["measurements"].clone()).unwrap();
    assert_eq!(ms.len(), 1);
    assert_eq!(ms[0].status, Status::Ok, "{:?}", ms[0]);
    assert_eq!(
        ms[0].sampling.as_ref().unwrap().clock_source,
        ClockSource::Host
    );
    assert!(reply["cold_start"]["compile_ms"].as_f64().unwrap() > 0.0);
}

#[cfg(not(feature = "wasmtime"))]
#[test]
fn wasmtime_is_a_clean_skip_without_its_feature() {
    let missing = runtimes::detect(Runtime::Wasmtime).unwrap_err();
    assert!(missing.install.contains("--features wasmtime"), "{missing}");
}

#[test]
fn the_one_driver_lists_and_refuses_flags_that_cannot_apply() {
    let out = driver()
        .args(["--list-json", "--runtime", "node", "--filter", "/add/"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let specs: Vec<Value> = serde_json::from_slice(&out.stdout).expect("one JSON array, no run");
    assert!(specs.iter().any(|s| s["backend"] == "wasm-simd128"));
    for bad in [&["--no-such-flag"][..], &["--cold"], &["--threads", "2"]] {
        let out = driver().args(bad).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(bad[0]),
            "{bad:?}"
        );
    }
}

#[test]
fn a_cut_wasm_stream_resumes_where_it_stopped() {
    if build::check_toolchain()
        .map_err(|m| skip_or_fail(&m))
        .is_err()
        || runtime(Runtime::Node).is_none()
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--runtime",
        "node",
        "--seed",
        "3",
        "--filter",
        "/dot/.*n=65536",
    ];
    let out = driver()
        .args(args)
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run_path = std::fs::read_dir(
        dir.path()
            .read_dir()
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path(),
    )
    .unwrap()
    .map(|e| e.unwrap().path())
    .find(|p| p.extension().is_some_and(|e| e == "json"))
    .unwrap();
    let full = store::load_run(&run_path).unwrap();
    assert_eq!(full.measurements.len(), 4);
    // What a killed run leaves: the header and the natives, no wasm measurement yet.
    let cut = tempfile::tempdir().unwrap();
    let header = tensorbench_core::Run {
        measurements: Vec::new(),
        ..full.clone()
    };
    let mut w = store::RunWriter::create(cut.path(), header).unwrap();
    for m in &full.measurements[..2] {
        w.record(m.clone()).unwrap();
    }
    let stream = w.stream_path().to_path_buf();
    drop(w);
    let out = driver()
        .args(args)
        .arg("--resume")
        .arg(&stream)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let resumed = store::load_run(&stream.with_extension("json")).unwrap();
    let backends: Vec<&str> = resumed
        .measurements
        .iter()
        .map(|m| m.backend.as_str())
        .collect();
    assert_eq!(
        backends,
        [
            "native-scalar",
            "native-simd",
            "wasm-scalar",
            "wasm-simd128"
        ]
    );
    assert!(resumed.measurements.iter().all(|m| m.status == Status::Ok));
}
