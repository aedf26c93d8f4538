//! Change points planted in synthetic histories are found where they were planted, and none in
//! flat noise.

mod common;

use common::{measurement, run, samples};
use tensorbench_analysis::history::{StepConfig, detect_steps, history};
use tensorbench_schema::store::write_json_atomic;

/// A series of medians: `level(i)` with log-normal noise.
fn series(levels: &[(usize, f64)], noise: f64, seed: u64) -> Vec<f64> {
    let n: usize = levels.iter().map(|(len, _)| len).sum();
    let z = samples(n, 1.0, noise, seed);
    levels
        .iter()
        .flat_map(|&(len, level)| std::iter::repeat_n(level, len))
        .zip(z)
        .map(|(level, e)| level * e)
        .collect()
}

#[test]
fn one_planted_step_is_found_in_place() {
    for seed in 0..10 {
        let y = series(&[(20, 100.0), (20, 120.0)], 0.01, seed);
        let steps = detect_steps(&y, &StepConfig::default());
        assert_eq!(steps.len(), 1, "seed {seed}: {steps:?}");
        assert_eq!(steps[0].index, 20);
        let ratio = steps[0].after / steps[0].before;
        assert!((ratio - 1.2).abs() < 0.02, "{ratio}");
        assert!(steps[0].confidence > 0.999);
    }
}

#[test]
fn up_and_down_steps_are_both_found() {
    let y = series(&[(15, 100.0), (10, 110.0), (15, 95.0)], 0.01, 42);
    let idx: Vec<usize> = detect_steps(&y, &StepConfig::default())
        .iter()
        .map(|s| s.index)
        .collect();
    assert_eq!(idx, vec![15, 25]);
}

#[test]
fn flat_noise_has_no_step() {
    for seed in 0..30 {
        let y = series(&[(40, 100.0)], 0.02, 1000 + seed);
        let steps = detect_steps(&y, &StepConfig::default());
        assert!(steps.is_empty(), "seed {seed}: {steps:?}");
    }
}

#[test]
fn too_short_a_series_has_no_step() {
    assert!(detect_steps(&[1.0, 2.0, 3.0], &StepConfig::default()).is_empty());
    assert!(detect_steps(&[], &StepConfig::default()).is_empty());
}

#[test]
fn history_reads_a_machine_directory_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let medians = series(&[(6, 1000.0), (6, 1300.0)], 0.005, 7);
    for (i, m) in medians.iter().enumerate() {
        // File names sort in the opposite order to `started_at`: the history must sort by time.
        let r = run(
            &format!("run-{}", 99 - i),
            &format!("2026-01-{:02}T00:00:00Z", i + 1),
            vec![measurement("synthetic/x", samples(20, *m, 0.001, i as u64))],
        );
        write_json_atomic(&dir.path().join(format!("{}.json", r.run_id)), &r).unwrap();
    }
    let h = history(dir.path()).unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].points.len(), 12);
    assert_eq!(h[0].points[0].started_at, "2026-01-01T00:00:00Z");
    assert_eq!(h[0].steps.len(), 1, "{:?}", h[0].steps);
    assert_eq!(h[0].steps[0].index, 6);
    assert_eq!(h[0].steps[0].run_id, "run-93");
    assert!((h[0].steps[0].ratio - 1.3).abs() < 0.03);
}

#[test]
fn history_names_a_bad_run_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("broken.json"), "{\"schema_version\": 1, ").unwrap();
    let e = history(dir.path()).unwrap_err().to_string();
    assert!(e.contains("broken.json"), "{e}");
}
