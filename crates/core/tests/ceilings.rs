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

#[test]
fn probes_publish_levels_and_thread_counts_and_carry_no_roofline() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let opts = SuiteOptions::parse_from(["suite", "--out", out, "--threads", "1"]);
    run_suite("test", &opts, register).unwrap();
    let machine = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let file = std::fs::read_dir(machine.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let run = store::load_run(&file.path()).unwrap();
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
