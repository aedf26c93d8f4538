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
