//! Verdicts on synthetic samples where the truth is known.

mod common;

use common::{measurement, pair, run, samples, skipped};
use tensorbench_analysis::{CompareConfig, Severity, Verdict, compare_runs};

fn verdict_of(old_median: f64, new_median: f64, noise: f64, n: usize, seed: u64) -> Verdict {
    let (old, new) = pair(n, old_median, new_median, noise, seed);
    compare_runs(&old, &new, &CompareConfig::default()).items[0].verdict
}

#[test]
fn identical_distributions_are_same() {
    for seed in 0..20 {
        assert_eq!(
            verdict_of(1000.0, 1000.0, 0.02, 100, seed),
            Verdict::Same,
            "seed {seed}"
        );
    }
}

#[test]
fn ten_percent_slowdown_with_low_noise_is_slower() {
    let (old, new) = pair(100, 1000.0, 1100.0, 0.01, 7);
    let cmp = compare_runs(&old, &new, &CompareConfig::default());
    let item = &cmp.items[0];
    assert_eq!(item.verdict, Verdict::Slower);
    let (lo, hi) = item.ratio_ci.unwrap();
    assert!(lo > 1.05 && lo < 1.1 && hi > 1.1, "CI ({lo}, {hi})");
    assert!((item.ratio.unwrap() - 1.1).abs() < 0.01);
    assert!(item.p_adjusted.unwrap() < 0.05);
    assert!(matches!(
        item.severity,
        Some(Severity::Minor | Severity::Moderate)
    ));
    assert_eq!(cmp.regressions().len(), 1);
}

#[test]
fn ten_percent_speedup_is_faster() {
    assert_eq!(verdict_of(1000.0, 900.0, 0.01, 100, 8), Verdict::Faster);
}

#[test]
fn one_percent_shift_inside_five_percent_threshold_is_same() {
    // The test may well call 1% significant; the CI inside ±5% makes it `same`.
    let (old, new) = pair(200, 1000.0, 1010.0, 0.01, 9);
    let cmp = compare_runs(&old, &new, &CompareConfig::default());
    assert!(cmp.items[0].p_value.unwrap() < 0.05, "the shift is real");
    assert_eq!(cmp.items[0].verdict, Verdict::Same);
}

#[test]
fn too_few_samples_is_ambiguous() {
    let item = {
        let (old, new) = pair(4, 1000.0, 2000.0, 0.01, 10);
        compare_runs(&old, &new, &CompareConfig::default()).items[0].clone()
    };
    assert_eq!(item.verdict, Verdict::Ambiguous);
    assert!(item.note.unwrap().contains("too few samples"));
    assert!(
        (item.ratio.unwrap() - 2.0).abs() < 0.1,
        "the ratio is still reported"
    );
}

#[test]
fn noisy_small_shift_is_ambiguous() {
    // 6% shift under 15% noise with 30 samples: the CI straddles the threshold.
    assert_eq!(verdict_of(1000.0, 1060.0, 0.15, 30, 11), Verdict::Ambiguous);
}

#[test]
fn severity_grows_with_the_slowdown() {
    let sev = |r: f64| {
        let (old, new) = pair(100, 1000.0, 1000.0 * r, 0.01, 12);
        compare_runs(&old, &new, &CompareConfig::default()).items[0].severity
    };
    assert_eq!(sev(1.2), Some(Severity::Moderate));
    assert_eq!(sev(1.4), Some(Severity::Major));
    assert_eq!(sev(2.5), Some(Severity::Critical));
}

#[test]
fn per_id_threshold_overrides_the_global_one() {
    let (old, new) = pair(100, 1000.0, 1100.0, 0.01, 13);
    let cfg = CompareConfig::default().with_rule("add/", 0.2).unwrap();
    let item = &compare_runs(&old, &new, &cfg).items[0];
    assert_eq!(item.threshold, 0.2);
    assert_eq!(item.verdict, Verdict::Same);
    let cfg = CompareConfig::default().with_threshold(0.2).unwrap();
    assert_eq!(
        compare_runs(&old, &new, &cfg).items[0].verdict,
        Verdict::Same
    );
}

#[test]
fn many_unchanged_ids_raise_no_false_alarm() {
    let ids: Vec<String> = (0..200)
        .map(|i| format!("synthetic/op{i}/scalar/f32/n=1"))
        .collect();
    let side = |seed: u64| {
        ids.iter()
            .enumerate()
            .map(|(i, id)| measurement(id, samples(50, 500.0 + i as f64, 0.03, seed + i as u64)))
            .collect()
    };
    let old = run("a", "2026-01-01T00:00:00Z", side(0));
    let new = run("b", "2026-01-02T00:00:00Z", side(10_000));
    let cmp = compare_runs(&old, &new, &CompareConfig::default());
    assert_eq!(cmp.count(Verdict::Slower), 0);
    assert_eq!(cmp.count(Verdict::Faster), 0);
    assert!(cmp.count(Verdict::Same) >= 195, "{}", cmp.summary_line());
}

#[test]
fn new_missing_and_invalid_ids() {
    let ok = |id: &str, seed| measurement(id, samples(20, 100.0, 0.01, seed));
    let old = run("a", "t0", vec![ok("x", 1), ok("gone", 2), ok("broken", 3)]);
    let mut bad = ok("broken", 4);
    bad.status = tensorbench_schema::Status::Invalid;
    bad.reason = Some("output differs".into());
    let new = run(
        "b",
        "t1",
        vec![ok("x", 5), ok("fresh", 6), bad, skipped("nogpu", "no GPU")],
    );
    let cmp = compare_runs(&old, &new, &CompareConfig::default());
    let v = |id: &str| cmp.items.iter().find(|i| i.id == id).unwrap();
    assert_eq!(v("x").verdict, Verdict::Same);
    assert_eq!(v("fresh").verdict, Verdict::New);
    assert_eq!(v("nogpu").verdict, Verdict::New);
    assert_eq!(v("gone").verdict, Verdict::Missing);
    assert_eq!(v("broken").verdict, Verdict::Invalid);
    assert!(
        v("broken")
            .note
            .as_ref()
            .unwrap()
            .contains("new run is invalid")
    );
}

#[test]
fn unlike_runs_are_warned_about() {
    let (old, mut new) = pair(20, 100.0, 100.0, 0.01, 14);
    new.machine.cpu_model = Some("Other CPU".into());
    new.build_profile = "debug".into();
    new.measurements[0].threads = 4;
    let cmp = compare_runs(&old, &new, &CompareConfig::default());
    let all = cmp.warnings.join("\n");
    assert!(
        all.contains("CPU model differs: Test CPU (baseline) vs Other CPU (new)"),
        "{all}"
    );
    assert!(all.contains("build profile: bench vs debug"), "{all}");
    assert!(
        all.contains("threads: 1 vs 4 (baseline vs new) for 1 id(s)"),
        "{all}"
    );
    assert!(
        cmp.items[0]
            .note
            .as_ref()
            .unwrap()
            .contains("threads: 1 vs 4")
    );
    let (old, new) = pair(20, 100.0, 100.0, 0.01, 15);
    // Like for like: nothing to warn about but the runs being single processes.
    assert!(
        compare_runs(&old, &new, &CompareConfig::default())
            .warnings
            .iter()
            .all(|w| w.contains("single process"))
    );
}

#[test]
fn verdicts_are_deterministic_and_mirror_when_swapped() {
    let (old, new) = pair(60, 1000.0, 1150.0, 0.02, 16);
    let cfg = CompareConfig::default();
    assert_eq!(
        compare_runs(&old, &new, &cfg),
        compare_runs(&old, &new, &cfg)
    );
    assert_eq!(
        compare_runs(&old, &new, &cfg).items[0].verdict,
        Verdict::Slower
    );
    assert_eq!(
        compare_runs(&new, &old, &cfg).items[0].verdict,
        Verdict::Faster
    );
}

#[test]
fn markdown_puts_regressions_first() {
    let mk = |id: &str, m: f64, seed| measurement(id, samples(50, m, 0.01, seed));
    let old = run(
        "a",
        "t0",
        vec![
            mk("same1", 100.0, 1),
            mk("slow", 100.0, 2),
            mk("same2", 100.0, 3),
        ],
    );
    let new = run(
        "b",
        "t1",
        vec![
            mk("same1", 100.0, 4),
            mk("slow", 150.0, 5),
            mk("same2", 100.0, 6),
        ],
    );
    let md = compare_runs(&old, &new, &CompareConfig::default()).to_markdown();
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| ")).collect();
    assert!(rows[0].starts_with("| verdict | id |"), "{md}");
    assert!(
        rows[1].contains("| slow |") && rows[1].contains("SLOWER"),
        "{md}"
    );
    assert!(md.contains("**1 slower · 2 same**"), "{md}");
    let table = compare_runs(&old, &new, &CompareConfig::default()).to_table();
    assert!(
        table.find("slow").unwrap() < table.find("same1").unwrap(),
        "{table}"
    );
}
