//! A backend that cannot run here still lists every workload, each `skipped` with the reason.

use clap::Parser;
use tensorbench_core::schema::Status;
use tensorbench_core::store::load_run;
use tensorbench_core::suite::{SuiteOptions, run_suite};
use tensorbench_gpu::catalog::{Backend, Profile, entries};
use tensorbench_gpu::select::Selection;

fn cuda_runs_here() -> bool {
    #[cfg(feature = "cuda")]
    {
        tensorbench_gpu::cuda_backend::device::open().is_ok()
    }
    #[cfg(not(feature = "cuda"))]
    {
        false
    }
}

#[test]
fn cuda_without_a_device_is_all_skipped_lines() {
    if cuda_runs_here() {
        eprintln!("skipping: a CUDA device is present, so nothing is skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().to_str().expect("utf-8 path");
    let opts = SuiteOptions::parse_from(["tensorbench-gpu", "--profile", "quick", "--out", out]);
    let selection = Selection {
        wgpu: false,
        cuda: true,
    };
    let code = run_suite("gpu", &opts, |s, o| {
        tensorbench_gpu::register(s, o, selection)
    })
    .expect("suite runs");
    assert_eq!(code, 0, "skips are not failures");
    let run_file = walk_json(dir.path()).expect("a run file");
    let run = load_run(&run_file).expect("readable run");
    let expected = entries(Backend::Cuda, Profile::Quick);
    assert_eq!(run.measurements.len(), expected.len());
    for m in &run.measurements {
        assert_eq!(m.status, Status::Skipped, "{}", m.id);
        let reason = m.reason.as_deref().unwrap_or_default();
        assert!(!reason.is_empty(), "{} has no reason", m.id);
        if cfg!(feature = "cuda") {
            assert!(
                reason.contains("CUDA") || reason.contains("cuda"),
                "{}: {reason}",
                m.id
            );
        } else {
            assert!(reason.contains("`cuda` feature"), "{}: {reason}", m.id);
        }
    }
    assert!(run.peaks.is_empty(), "a skipped probe publishes no ceiling");
}

fn walk_json(dir: &std::path::Path) -> Option<std::path::PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let p = entry.path();
        if p.is_dir() {
            if let Some(found) = walk_json(&p) {
                return Some(found);
            }
        } else if p.extension().is_some_and(|e| e == "json") {
            return Some(p);
        }
    }
    None
}

#[test]
fn the_one_driver_lists_specs_and_refuses_unknown_flags() {
    let bin = env!("CARGO_BIN_EXE_tensorbench-gpu");
    let out = std::process::Command::new(bin)
        .args(["--list-json"])
        .env("TENSORBENCH_GPU_BACKEND", "wgpu")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let specs: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!specs.is_empty() && specs.iter().all(|s| s["id"].is_string()));
    let out = std::process::Command::new(bin)
        .arg("--no-such-flag")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--no-such-flag"));
}

/// A bad value of either variable is bad input: exit code 2, with a message naming it.
#[test]
fn bad_backend_or_adapter_variable_exits_2_naming_it() {
    let bin = env!("CARGO_BIN_EXE_tensorbench-gpu");
    let mut cases = vec![("TENSORBENCH_GPU_BACKEND", "metal")];
    if cfg!(feature = "wgpu") {
        cases.push(("TENSORBENCH_WGPU_ADAPTER", "no-such-adapter-anywhere"));
    }
    for (var, value) in cases {
        let out = std::process::Command::new(bin)
            .arg("--list")
            .env(var, value)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{var}={value}: {stderr}");
        assert!(
            stderr.contains(var)
                || var == "TENSORBENCH_WGPU_ADAPTER" && stderr.contains("no wgpu adapter"),
            "{stderr}"
        );
    }
}
