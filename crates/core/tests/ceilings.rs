//! Probes publish ceilings through the driver: per-thread compute keys, derived per-level
//! bandwidths, and no roofline on the probes themselves; later measurements are placed in the
//! level their footprint lands in.

mod common;

use clap::Parser;
use common::AddOne;
use std::collections::BTreeMap;
use std::sync::Arc;
use tensorbench_core::roofline::{Level, bandwidth_key, capacity_key};
use tensorbench_core::store;
use tensorbench_core::suite::{Ceiling, Suite, SuiteOptions, run_suite};

fn register(suite: &mut Suite, _: &SuiteOptions) {
    // An L1 "probe": whatever it measures becomes the 1-thread L1 ceiling, with a capacity that
    // holds the workload below.
    let rule = Ceiling::Derived(Arc::new(|m, _| {
        let gbps = m.throughput.as_ref().and_then(|t| t.gbps).unwrap_or(0.0);
        BTreeMap::from([
            (bandwidth_key(Level::L1, 1), gbps),
            (capacity_key(Level::L1, 1), 1e6),
        ])
    }));
    suite.add_probe(AddOne::new(4096).named("l1_probe"), rule);
    suite.add_probe(
        AddOne::new(64).named("flops_probe"),
        Ceiling::Compute("add_gflops"),
    );
    suite.add(AddOne::new(1024));
}

/// The one run file under `results/<machine>/`.
fn only_run(results: &std::path::Path) -> tensorbench_core::Run {
    let first = |dir: &std::path::Path| std::fs::read_dir(dir).unwrap().next().unwrap().unwrap();
    let machine = first(results);
    store::load_run(&first(&machine.path()).path()).unwrap()
}

/// Runs `register`'s suite on one thread into a scratch directory; its run file.
fn run_one_thread(register: fn(&mut Suite, &SuiteOptions)) -> tensorbench_core::Run {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let opts = SuiteOptions::parse_from(["suite", "--out", out, "--threads", "1"]);
    run_suite("test", &opts, register).unwrap();
    only_run(dir.path())
}

#[test]
fn probes_publish_levels_and_thread_counts_and_carry_no_roofline() {
    let run = run_one_thread(register);
    let peaks = &run.peaks["cpu"];
    for key in [
        "bandwidth_l1_gbps_t1",
        "level_l1_bytes_t1",
        "add_gflops",
        "compute_gflops_t1",
    ] {
        assert!(peaks.contains_key(key), "{key} missing from {peaks:?}");
    }
    assert!(
        run.measurements[0].roofline.is_none(),
        "a probe is no result"
    );
    assert!(run.measurements[1].roofline.is_none());
    let m = &run.measurements[2];
    assert!(!m.extra.contains_key("footprint_bytes"), "AddOne sets none");
    let r = m.roofline.as_ref().expect("placed");
    // Without a footprint its 8 KiB of traffic stands for it: inside the 1e6-byte L1.
    if r.bound == tensorbench_core::schema::Bound::Memory {
        assert_eq!(r.level.as_deref(), Some("L1"));
        assert_eq!(r.ceiling, "bandwidth_l1_gbps_t1");
    } else {
        assert_eq!(r.ceiling, "compute_gflops_t1");
    }
}

/// A bf16 "probe" in closure form that declares almost no work: its own rate is tiny.
fn register_bf16(suite: &mut Suite, _: &SuiteOptions) {
    use tensorbench_core::closure::FnWorkload;
    use tensorbench_core::workload::validate_against;
    use tensorbench_core::{DType, WorkloadSpec};
    suite.add_probe(
        AddOne::new(64).named("f32_probe"),
        Ceiling::Compute("f32_gflops"),
    );
    let spec = WorkloadSpec::new("test", "slow_bf16", "fixture", DType::Bf16)
        .cost(1.0, 0.0)
        .threads(1);
    let slow = FnWorkload::new(
        spec,
        |_| vec![1.0f32; 256],
        |x| x.iter_mut().for_each(|v| *v = v.sqrt()),
        |x| validate_against(x, &vec![1.0; 256], 0.0, "f64 sqrt of 1"),
    );
    suite.add_probe(slow, Ceiling::Compute("bf16_dot_gflops"));
}

#[test]
fn a_bf16_ceiling_is_never_below_the_f32_peak_it_can_widen_to() {
    let run = run_one_thread(register_bf16);
    let peaks = &run.peaks["cpu"];
    let (f32_peak, own) = (peaks["compute_gflops_t1"], peaks["bf16_dot_gflops"]);
    assert!(
        own < f32_peak,
        "the fixture's own rate is the lower: {peaks:?}"
    );
    assert_eq!(peaks["compute_gflops_bf16_t1"], f32_peak);
    assert_eq!(peaks["compute_gflops_bf16"], peaks["compute_gflops"]);
}

#[test]
fn a_probe_publishes_its_fastest_sample_and_samples_until_it_settles() {
    let run = run_one_thread(register);
    let probe = &run.measurements[1];
    let stats = probe.stats.as_ref().expect("timed");
    let best = probe.flops / (stats.min_ns * 1e-9) / 1e9;
    assert_eq!(run.peaks["cpu"]["add_gflops"], best, "STREAM's best rate");
    let median = probe.throughput.as_ref().and_then(|t| t.gflops).unwrap();
    assert!(best >= median);
    // The probe rule's floor: enough samples for its best to settle.
    assert!(probe.samples_ns.len() >= tensorbench_core::stats::MIN_DEPENDENT_N);
}
