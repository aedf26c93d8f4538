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

/// A probe that a busy machine slowed on its first turn (each execute also sleeps), running at
/// its own speed when measured again; `releases` says whether it lets the driver keep it.
struct SlowedFirst {
    inner: AddOne,
    slowed: bool,
    releases: bool,
    /// Slowed when measured again too: a probe far below the ceiling it publishes.
    always: bool,
}

impl tensorbench_core::Workload for SlowedFirst {
    fn spec(&self) -> &tensorbench_core::WorkloadSpec {
        &self.inner.spec
    }
    fn prepare(&mut self, seed: u64) -> tensorbench_core::Result<()> {
        self.inner.prepare(seed)
    }
    fn execute(&mut self) {
        self.inner.execute();
        if self.slowed {
            let us = if self.always { 10_000 } else { 300 };
            std::thread::sleep(std::time::Duration::from_micros(us));
        }
    }
    fn validate(&mut self) -> tensorbench_core::Result<tensorbench_core::schema::Validation> {
        self.inner.validate()
    }
    fn release(&mut self) -> bool {
        if self.releases {
            self.slowed = self.always;
            (self.inner.x, self.inner.y) = (Vec::new(), Vec::new());
        }
        self.releases
    }
}

/// `y = x + 1` done twice per execute, declaring the bytes of once: half the probe's rate.
struct Twice(AddOne);

impl tensorbench_core::Workload for Twice {
    fn spec(&self) -> &tensorbench_core::WorkloadSpec {
        &self.0.spec
    }
    fn prepare(&mut self, seed: u64) -> tensorbench_core::Result<()> {
        self.0.prepare(seed)
    }
    fn execute(&mut self) {
        self.0.execute();
        self.0.execute();
    }
    fn validate(&mut self) -> tensorbench_core::Result<tensorbench_core::schema::Validation> {
        self.0.validate()
    }
}

/// An L1 rule over the probe's best rate, a capacity that holds the result below.
fn l1_rule() -> Ceiling {
    Ceiling::Derived(Arc::new(|m, peaks| {
        let (gbps, _) = tensorbench_core::roofline::best_rates(m);
        let key = bandwidth_key(Level::L1, 1);
        let best = peaks
            .get(&key)
            .map_or(0.0, |&b: &f64| b)
            .max(gbps.unwrap_or(0.0));
        BTreeMap::from([(key, best), (capacity_key(Level::L1, 1), 1e6)])
    }))
}

fn register_slowed(suite: &mut Suite, releases: bool, slowed: bool) {
    let probe = SlowedFirst {
        inner: AddOne::new(4096).named("l1_probe"),
        slowed,
        releases,
        always: false,
    };
    suite.add_probe(probe, l1_rule());
    // A second probe of the same ceiling, far below it (10 ms an execute, every time).
    let far = SlowedFirst {
        inner: AddOne::new(4096).named("far_probe"),
        slowed: true,
        releases: true,
        always: true,
    };
    suite.add_probe(far, l1_rule());
    suite.add(Twice(AddOne::new(4096)));
}

fn recheck_ids(run: &tensorbench_core::Run) -> Vec<&str> {
    let ids = run.measurements.iter().map(|m| m.id.as_str());
    ids.filter(|id| id.contains("pass=recheck")).collect()
}

#[test]
fn a_probe_a_result_beat_is_measured_again_and_the_result_placed_under_the_raised_ceiling() {
    let run = run_one_thread(|s, _| register_slowed(s, true, true));
    assert_eq!(
        recheck_ids(&run),
        ["test/l1_probe/scalar/f32/n=4096,pass=recheck"]
    );
    let result = run.measurements.iter().find(|m| m.op == "add_one").unwrap();
    let r = result.roofline.as_ref().expect("placed");
    assert!(r.above_ceiling.is_none(), "{r:?}");
    assert!(r.pct_of_peak <= 1.0);
    assert_eq!(
        r.ceiling_value,
        Some(run.peaks["cpu"]["bandwidth_l1_gbps_t1"])
    );
    let first = &run.measurements[0];
    let (slowed_rate, _) = tensorbench_core::roofline::best_rates(first);
    assert!(
        r.ceiling_value.unwrap() > 2.0 * slowed_rate.unwrap(),
        "raised"
    );
}

#[test]
fn a_probe_that_cannot_be_released_is_not_measured_again_and_the_result_stays_flagged() {
    let run = run_one_thread(|s, _| register_slowed(s, false, true));
    assert!(recheck_ids(&run).is_empty());
    let result = run.measurements.iter().find(|m| m.op == "add_one").unwrap();
    let r = result.roofline.as_ref().expect("placed");
    assert!(r.above_ceiling.is_some(), "{r:?}");
}

#[test]
fn a_ceiling_no_result_beat_is_not_measured_again() {
    let run = run_one_thread(|s, _| register_slowed(s, true, false));
    assert!(recheck_ids(&run).is_empty());
    let result = run.measurements.iter().find(|m| m.op == "add_one").unwrap();
    assert!(result.roofline.as_ref().unwrap().above_ceiling.is_none());
}
