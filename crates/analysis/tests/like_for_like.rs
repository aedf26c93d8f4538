//! Comparisons and history join on the id and the configuration it was measured under.

mod common;

use common::{measurement, pair, run, samples};
use tensorbench_analysis::history::{StepConfig, history_of_runs};
use tensorbench_analysis::{CompareConfig, Error, check_like_for_like, compare_runs};
use tensorbench_schema::schema::{CacheMode, Run};

/// The new run of `pair` measured cold (and three times slower, as cold runs are).
fn cold_against_hot() -> (Run, Run) {
    let (old, mut new) = pair(60, 1000.0, 3000.0, 0.01, 1);
    for m in &mut new.measurements {
        m.mode = CacheMode::Cold;
    }
    (old, new)
}

#[test]
fn a_cold_run_against_a_hot_baseline_is_refused() {
    let (old, new) = cold_against_hot();
    let err = check_like_for_like(&old, &new, false).unwrap_err();
    assert!(matches!(err, Error::ConfigMismatch { .. }));
    let text = err.to_string();
    assert!(text.contains("cache mode: hot vs cold"), "{text}");
    assert!(text.contains("--allow-config-mismatch"), "{text}");
}

#[test]
fn asked_to_proceed_it_warns_and_notes_each_id() {
    let (old, new) = cold_against_hot();
    let warnings = check_like_for_like(&old, &new, true).unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let cmp = compare_runs(&old, &new, &CompareConfig::default());
    assert!(
        cmp.warnings.iter().any(|w| w.contains("cache mode")),
        "{:?}",
        cmp.warnings
    );
    let note = cmp.items[0].note.as_deref().unwrap_or_default();
    assert!(note.contains("not like for like"), "{note}");
}

#[test]
fn like_runs_pass_the_check() {
    let (old, new) = pair(60, 1000.0, 1000.0, 0.01, 2);
    assert!(check_like_for_like(&old, &new, false).unwrap().is_empty());
}

#[test]
fn threads_and_build_profile_are_part_of_the_configuration() {
    let (old, mut new) = pair(60, 1000.0, 1000.0, 0.01, 3);
    new.measurements[0].threads = 4;
    new.build_profile = "debug".into();
    let Err(Error::ConfigMismatch { mismatches }) = check_like_for_like(&old, &new, false) else {
        panic!("not refused");
    };
    assert_eq!(mismatches.len(), 2, "{mismatches:?}");
}

#[test]
fn history_with_two_configurations_has_two_series_and_no_false_step() {
    // Alternating hot (1 µs) and cold (3 µs) runs of one id: one series would step at every run.
    let id = "synthetic/add/scalar/f32/n=1024";
    let runs: Vec<Run> = (0..20)
        .map(|i| {
            let cold = i % 2 == 1;
            let level = if cold { 3000.0 } else { 1000.0 };
            let mut m = measurement(
                id,
                samples(50, level * (1.0 + 0.01 * (i as f64 % 3.0)), 0.01, i),
            );
            m.mode = if cold {
                CacheMode::Cold
            } else {
                CacheMode::Hot
            };
            run(
                &format!("r{i:02}"),
                &format!("2026-01-{:02}T00:00:00Z", i + 1),
                vec![m],
            )
        })
        .collect();
    let h = history_of_runs(runs, &StepConfig::default());
    assert_eq!(
        h.len(),
        2,
        "{:?}",
        h.iter().map(|x| &x.config).collect::<Vec<_>>()
    );
    for series in &h {
        assert_eq!(series.id, id);
        assert_eq!(series.points.len(), 10);
        assert!(
            series.steps.is_empty(),
            "{}: {:?}",
            series.config,
            series.steps
        );
    }
    assert!(h.iter().any(|s| s.config.contains("cold")));
    assert!(h.iter().any(|s| s.config.contains("hot")));
}
