//! The library path users take: a workload defined outside the suites, run through the sampler,
//! gives a run file the rest of the tooling reads.

#[allow(dead_code)]
#[path = "../examples/naive_matmul.rs"]
mod naive_matmul;

use clap::Parser;
use tensorbench_core::schema::Status;
use tensorbench_core::store;
use tensorbench_core::suite::{SuiteOptions, run_suite};

#[test]
fn the_example_writes_a_valid_run_file() {
    let dir = tempfile::tempdir().unwrap();
    let o = SuiteOptions::parse_from(["x", "--out", dir.path().to_str().unwrap(), "--no-probes"]);
    assert_eq!(run_suite("example", &o, naive_matmul::register).unwrap(), 0);
    let machine_dir = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let file = std::fs::read_dir(machine_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let run = store::load_run(&file).unwrap();
    assert_eq!(run.target, "example");
    assert_eq!(run.measurements.len(), 2);
    for m in &run.measurements {
        assert_eq!(m.status, Status::Ok);
        assert!(m.validation.as_ref().unwrap().passed);
        assert!(m.throughput.as_ref().unwrap().gflops.unwrap() > 0.0);
    }
    assert_eq!(run.measurements[0].id, "example/matmul/naive/f32/n=64");
}
