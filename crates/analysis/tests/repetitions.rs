//! Runs merged from several processes: the process is the unit of replication.

mod common;

use common::{measurement, run, samples};
use tensorbench_analysis::repetitions::{merge_runs, process_medians};
use tensorbench_analysis::{CompareConfig, Verdict, compare_runs};
use tensorbench_schema::schema::Run;

/// A run merged from processes whose medians are `medians` (tight noise inside each process).
fn merged(medians: &[f64], seed: u64) -> Run {
    let parts: Vec<Run> = medians
        .iter()
        .enumerate()
        .map(|(i, &m)| {
            let s = samples(50, m, 0.005, seed + i as u64);
            run(
                &format!("p{i}"),
                "2026-01-01T00:00:00Z",
                vec![measurement("x", s)],
            )
        })
        .collect();
    merge_runs(&parts).unwrap()
}

#[test]
fn merging_keeps_every_sample_and_each_process_median() {
    let r = merged(&[1000.0, 1100.0, 1050.0], 1);
    let m = &r.measurements[0];
    assert_eq!(m.samples_ns.len(), 150);
    let medians = process_medians(m).unwrap();
    assert_eq!(medians.len(), 3);
    assert!((medians[1] / medians[0] - 1.1).abs() < 0.01, "{medians:?}");
    assert_eq!(r.config["repetitions"], 3);
}

#[test]
fn one_slow_process_is_not_a_regression() {
    // Old processes at 1000; new ones at 1000, 1000 and one at 2000 (a process in a bad state).
    // Pooled samples shift the median test, but not every process is slower.
    let old = merged(&[1000.0, 1000.0, 2000.0], 10);
    let new = merged(&[2000.0, 2000.0, 1000.0], 20);
    let cmp = compare_runs(&old, &new, &CompareConfig::default());
    assert_ne!(cmp.items[0].verdict, Verdict::Slower, "{:?}", cmp.items[0]);
}

#[test]
fn a_slowdown_in_every_process_is_slower() {
    let old = merged(&[1000.0, 1010.0, 995.0], 30);
    let new = merged(&[1200.0, 1190.0, 1210.0], 40);
    let cmp = compare_runs(&old, &new, &CompareConfig::default());
    assert_eq!(cmp.items[0].verdict, Verdict::Slower, "{:?}", cmp.items[0]);
    assert!(!cmp.warnings.iter().any(|w| w.contains("single process")));
}

#[test]
fn single_process_runs_carry_a_warning() {
    let (old, new) = common::pair(50, 1000.0, 1000.0, 0.01, 3);
    let cmp = compare_runs(&old, &new, &CompareConfig::default());
    assert!(cmp.warnings.iter().any(|w| w.contains("single process")));
}

#[test]
fn the_merged_ci_widens_with_process_variance() {
    let agree = merged(&[1000.0, 1000.0, 1000.0], 50);
    let spread = merged(&[960.0, 1000.0, 1040.0], 50);
    let width = |r: &Run| {
        let s = r.measurements[0].stats.as_ref().unwrap();
        assert_eq!(
            s.ci_method,
            tensorbench_schema::schema::CiMethod::Hierarchical
        );
        s.ci_high_ns - s.ci_low_ns
    };
    assert!(
        width(&spread) > 5.0 * width(&agree),
        "{} vs {}",
        width(&spread),
        width(&agree)
    );
    // The level's CI (t with 2 degrees of freedom, se = sd / √3 = 23) spans the processes.
    let s = spread.measurements[0].stats.as_ref().unwrap();
    assert!(s.ci_low_ns < 960.0 && s.ci_high_ns > 1040.0, "{s:?}");
}

#[test]
fn merged_ceilings_are_the_median_of_the_processes() {
    let parts: Vec<Run> = [30.0, 10.0, 20.0]
        .iter()
        .enumerate()
        .map(|(i, &gbps)| {
            let mut r = run(&format!("p{i}"), "2026-01-01T00:00:00Z", vec![]);
            r.peaks
                .entry("cpu".into())
                .or_default()
                .insert("bandwidth_gbps".into(), gbps);
            r
        })
        .collect();
    let merged = merge_runs(&parts).unwrap();
    assert_eq!(merged.peaks["cpu"]["bandwidth_gbps"], 20.0);
}

#[test]
fn merging_keeps_the_ids_that_only_later_parts_measured() {
    let s = |seed| samples(20, 1000.0, 0.005, seed);
    // The first process was cut short after `x`; the second measured `x` and `y`.
    let short = run("p0", "2026-01-01T00:00:00Z", vec![measurement("x", s(1))]);
    let whole = run(
        "p1",
        "2026-01-01T00:01:00Z",
        vec![measurement("x", s(2)), measurement("y", s(3))],
    );
    let r = merge_runs(&[short, whole]).unwrap();
    let ids: Vec<&str> = r.measurements.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert_eq!(r.measurements[0].samples_ns.len(), 40);
    assert_eq!(r.measurements[1].samples_ns.len(), 20);
}
