//! Roofline summaries place measurements with core's classifier.

mod common;

use tensorbench_analysis::roofline::{points, summarize_ops};
use tensorbench_schema::roofline::{BANDWIDTH_KEY, COMPUTE_KEY};
use tensorbench_schema::schema::Bound;

#[test]
fn summary_places_unplaced_measurements_from_the_run_peaks() {
    // 1 GB moved in 0.2 s (median) against 10 GB/s: memory-bound at 50%.
    let mut slow = common::measurement("mem/a", vec![2e8; 10]);
    slow.bytes = 1e9;
    slow.flops = 1e8;
    // Same op at twice the speed: 100%.
    let mut fast = common::measurement("mem/b", vec![1e8; 10]);
    fast.bytes = 1e9;
    fast.flops = 1e8;
    let skipped = common::skipped("mem/c", "no memory");
    let mut run = common::run("r", "t", vec![slow, fast, skipped]);
    run.peaks.entry("cpu".into()).or_default().extend([
        (BANDWIDTH_KEY.to_string(), 10.0),
        (COMPUTE_KEY.to_string(), 100.0),
    ]);
    let pts = points(&run);
    assert_eq!(pts.len(), 2);
    assert_eq!(pts[0].roofline.bound, Bound::Memory);
    assert!((pts[0].roofline.pct_of_peak - 0.5).abs() < 1e-9);
    let ops = summarize_ops(&run);
    assert_eq!(ops.len(), 1);
    assert_eq!(
        (ops[0].points, ops[0].memory_bound, ops[0].compute_bound),
        (2, 2, 0)
    );
    assert!((ops[0].best_pct_of_peak - 1.0).abs() < 1e-9);
    assert!((ops[0].median_pct_of_peak - 0.75).abs() < 1e-9);
}

#[test]
fn no_peaks_no_roofline() {
    let run = common::run("r", "t", vec![common::measurement("x", vec![1.0; 10])]);
    assert!(points(&run).is_empty());
}
