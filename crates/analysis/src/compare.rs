//! Verdicts between two runs, id by id.
//!
//! For every id present in both runs as a valid `ok` measurement with enough samples, the ratio
//! `median(new) / median(old)` gets a seeded bootstrap CI and the two sample sets a two-sample test
//! (Mann-Whitney U by default); the p-values of the suite are corrected together with
//! Benjamini–Hochberg. With `t` the id's noise threshold:
//!
//! * `slower` — corrected p < α **and** the whole CI lies above `1 + t`;
//! * `faster` — corrected p < α **and** the whole CI lies below `1 / (1 + t)` (symmetric in log
//!   space, so swapping the runs mirrors the verdict);
//! * `same` — the whole CI lies within `[1 / (1 + t), 1 + t]`;
//! * `ambiguous` — anything else, and whenever a side has fewer than `min_samples` samples.
//!
//! Ids are joined like for like: where a shared id was measured under another configuration
//! (threads, cache mode, build or sampling profile, target features; see [`crate::like`]) its note
//! says so and the comparison warns; `cargo xtask compare` refuses such runs unless asked to
//! proceed ([`crate::check_like_for_like`]). A side whose samples drifted (`unstable`) is noted.
//!
//! When both runs merge several processes (`--repetitions`), `slower` and `faster` must also hold
//! between every pair of processes (see [`crate::repetitions`]); otherwise the verdict is `ambiguous`.

use crate::config::{CompareConfig, TestKind};
use crate::like::{MeasurementConfig, config_mismatches};
use crate::repetitions::process_medians;
use crate::stats::{Bootstrap, benjamini_hochberg, mann_whitney_u, median, welch_t};
use crate::verdict::{Comparison, IdComparison, Severity, Verdict};
use tensorbench_schema::schema::{Measurement, Run, RunStatus, Status};

/// Cut points of [`Severity`] on the lower bound of the ratio's CI, as a slowdown fraction:
/// minor below 10%, moderate below 25%, major below 50%, critical from 50% on.
pub const SEVERITY_CUTS: [f64; 3] = [0.10, 0.25, 0.50];

/// Compares `new` against `old` (the baseline). Labels default to the run ids.
pub fn compare_runs(old: &Run, new: &Run, cfg: &CompareConfig) -> Comparison {
    let mut items: Vec<IdComparison> = Vec::new();
    let mut tested: Vec<(usize, f64)> = Vec::new();
    for id in joined_ids(old, new) {
        let (mut item, p) = compare_one(old.get(&id), new.get(&id), &id, cfg);
        if let (Some(o), Some(n)) = (old.get(&id), new.get(&id)) {
            note_unlike(&mut item, old, o, new, n);
        }
        if let Some(p) = p {
            tested.push((items.len(), p));
        }
        items.push(item);
    }
    let raw: Vec<f64> = tested.iter().map(|&(_, p)| p).collect();
    for (&(i, _), q) in tested.iter().zip(benjamini_hochberg(&raw)) {
        decide(&mut items[i], q, cfg.alpha);
        if let (Some(o), Some(n)) = (old.get(&items[i].id), new.get(&items[i].id)) {
            require_every_process(&mut items[i], o, n);
        }
    }
    let mut warnings = like_for_like_warnings(old, new);
    if !has_processes(old) || !has_processes(new) {
        warnings.push(
            "a run was measured in a single process: changes between processes are not measured, \
             so a verdict can mistake a process's state for a code change (use --repetitions 3)"
                .into(),
        );
    }
    Comparison {
        old_label: old.run_id.clone(),
        new_label: new.run_id.clone(),
        old_run_id: old.run_id.clone(),
        new_run_id: new.run_id.clone(),
        warnings,
        items,
        ci_level: 0.95,
    }
}

/// Ids of the new run in its order, then ids only the baseline has.
fn joined_ids(old: &Run, new: &Run) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for m in new.measurements.iter().chain(&old.measurements) {
        if seen.insert(m.id.as_str()) {
            ids.push(m.id.clone());
        }
    }
    ids
}

/// The comparison of one id, and the raw p-value when it goes on to the corrected test.
fn compare_one(
    old: Option<&Measurement>,
    new: Option<&Measurement>,
    id: &str,
    cfg: &CompareConfig,
) -> (IdComparison, Option<f64>) {
    let threshold = cfg.threshold_for(id);
    let (old, new) = match (old, new) {
        (Some(o), Some(n)) => (o, n),
        (None, Some(n)) => return (blank(n, Verdict::New, threshold, None), None),
        (Some(o), None) => return (blank(o, Verdict::Missing, threshold, None), None),
        (None, None) => unreachable!("id {id} comes from one of the runs"),
    };
    if let Some(why) = invalid_reason(old, new) {
        return (blank(new, Verdict::Invalid, threshold, Some(why)), None);
    }
    let mut item = blank(new, Verdict::Ambiguous, threshold, None);
    item.old_median_ns = median_of(old);
    item.new_median_ns = median_of(new);
    item.ratio = match (item.old_median_ns, item.new_median_ns) {
        (Some(o), Some(n)) if o > 0.0 => Some(n / o),
        _ => None,
    };
    let (a, b) = (&old.samples_ns, &new.samples_ns);
    if a.len() < cfg.min_samples || b.len() < cfg.min_samples {
        let why = format!(
            "too few samples to tell ({} old, {} new; need {})",
            a.len(),
            b.len(),
            cfg.min_samples
        );
        item.note = Some(join_notes(item.note.take(), why));
        return (item, None);
    }
    let boot = Bootstrap {
        seed: cfg.bootstrap.seed ^ fnv1a(id),
        ..cfg.bootstrap
    };
    item.ratio_ci = boot.ratio_ci(a, b);
    let test = match cfg.test {
        TestKind::MannWhitney => mann_whitney_u(a, b),
        TestKind::Welch => welch_t(a, b),
    };
    item.p_value = test.map(|t| t.p_value);
    let p = item.p_value;
    (item, p)
}

/// Sets the verdict of a tested item from its corrected p-value and its ratio CI.
fn decide(item: &mut IdComparison, p_adjusted: f64, alpha: f64) {
    item.p_adjusted = Some(p_adjusted);
    let Some((lo, hi)) = item.ratio_ci else {
        return;
    };
    let upper = 1.0 + item.threshold;
    let lower = 1.0 / upper;
    let significant = p_adjusted < alpha;
    item.verdict = if significant && lo > upper {
        item.severity = Some(severity(lo));
        Verdict::Slower
    } else if significant && hi < lower {
        Verdict::Faster
    } else if lo >= lower && hi <= upper {
        Verdict::Same
    } else {
        Verdict::Ambiguous
    };
}

/// With several processes per side, a change must hold between every pair of processes: the
/// range of new/old per-process median ratios must lie beyond the threshold too.
fn require_every_process(item: &mut IdComparison, old: &Measurement, new: &Measurement) {
    let (Some(o), Some(n)) = (process_medians(old), process_medians(new)) else {
        return;
    };
    let (o_min, o_max) = min_max(&o);
    let (n_min, n_max) = min_max(&n);
    let (lo, hi) = (n_min / o_max, n_max / o_min);
    let upper = 1.0 + item.threshold;
    let held = match item.verdict {
        Verdict::Slower => lo > upper,
        Verdict::Faster => hi < 1.0 / upper,
        _ => true,
    };
    if !held {
        item.verdict = Verdict::Ambiguous;
        item.severity = None;
        let why = format!(
            "not in every process: per-process ratios span {:+.1}%..{:+.1}%",
            (lo - 1.0) * 100.0,
            (hi - 1.0) * 100.0
        );
        item.note = Some(join_notes(item.note.take(), why));
    }
}

fn min_max(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        })
}

fn has_processes(run: &Run) -> bool {
    run.measurements
        .iter()
        .any(|m| process_medians(m).is_some())
}

/// Severity of a slowdown whose ratio CI starts at `ratio_low`.
pub fn severity(ratio_low: f64) -> Severity {
    let excess = ratio_low - 1.0;
    match SEVERITY_CUTS.iter().position(|&cut| excess < cut) {
        Some(0) => Severity::Minor,
        Some(1) => Severity::Moderate,
        Some(_) => Severity::Major,
        None => Severity::Critical,
    }
}

fn invalid_reason(old: &Measurement, new: &Measurement) -> Option<String> {
    let side = |m: &Measurement, name: &str| -> Option<String> {
        if m.status != Status::Ok {
            let reason = m.reason.as_deref().unwrap_or("no reason given");
            return Some(format!("{name} is {}: {reason}", status_name(m.status)));
        }
        (m.samples_ns.is_empty() && m.stats.is_none())
            .then(|| format!("{name} has neither samples nor statistics"))
    };
    match (side(old, "baseline"), side(new, "new run")) {
        (None, None) => None,
        (a, b) => Some(a.into_iter().chain(b).collect::<Vec<_>>().join("; ")),
    }
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::Invalid => "invalid",
        Status::Failed => "failed",
        Status::Skipped => "skipped",
    }
}

fn median_of(m: &Measurement) -> Option<f64> {
    median(&m.samples_ns).or_else(|| m.stats.as_ref().map(|s| s.median_ns))
}

/// Notes a configuration that differs and a side that drifted while it was sampled.
fn note_unlike(
    item: &mut IdComparison,
    old_run: &Run,
    old: &Measurement,
    new_run: &Run,
    new: &Measurement,
) {
    let (a, b) = (
        MeasurementConfig::of(old_run, old),
        MeasurementConfig::of(new_run, new),
    );
    let diff = a.differences(&b);
    if !diff.is_empty() {
        let why = format!("not like for like (baseline vs new): {}", diff.join(", "));
        item.note = Some(join_notes(item.note.take(), why));
    }
    for (m, name) in [(old, "baseline"), (new, "new run")] {
        if let Some(why) = m.sampling.as_ref().and_then(|s| s.unstable.as_deref()) {
            let why = format!("{name} is unstable ({why})");
            item.note = Some(join_notes(item.note.take(), why));
        }
    }
}

fn join_notes(a: Option<String>, b: String) -> String {
    match a {
        Some(a) => format!("{a}; {b}"),
        None => b,
    }
}

fn blank(m: &Measurement, verdict: Verdict, threshold: f64, note: Option<String>) -> IdComparison {
    IdComparison {
        id: m.id.clone(),
        op: m.op.clone(),
        backend: m.backend.clone(),
        verdict,
        severity: None,
        ratio: None,
        ratio_ci: None,
        p_value: None,
        p_adjusted: None,
        threshold,
        old_median_ns: None,
        new_median_ns: None,
        note,
    }
}

/// Warnings when the two runs were not measured alike.
fn like_for_like_warnings(old: &Run, new: &Run) -> Vec<String> {
    let (a, b) = (&old.machine, &new.machine);
    let mut w = Vec::new();
    let mut differ = |what: &str, x: String, y: String| {
        if x != y {
            w.push(format!("{what} differs: {x} (baseline) vs {y} (new)"));
        }
    };
    let opt = |s: &Option<String>| s.clone().unwrap_or_else(|| "unknown".into());
    differ("machine (hostname)", opt(&a.hostname), opt(&b.hostname));
    differ("CPU model", opt(&a.cpu_model), opt(&b.cpu_model));
    differ(
        "logical cores",
        a.logical_cores.to_string(),
        b.logical_cores.to_string(),
    );
    w.extend(
        config_mismatches(old, new)
            .into_iter()
            .map(|d| format!("not like for like: {d}")),
    );
    let unstable = new
        .measurements
        .iter()
        .filter(|m| m.sampling.as_ref().is_some_and(|s| s.unstable.is_some()))
        .count();
    if unstable > 0 {
        w.push(format!(
            "{unstable} measurement(s) of the new run drifted while sampled (unstable)"
        ));
    }
    for (run, name) in [(old, "baseline"), (new, "new run")] {
        if run.status != RunStatus::Complete {
            w.push(format!(
                "{name} {} is not complete: it holds only what finished",
                run.run_id
            ));
        }
    }
    w
}

/// FNV-1a: a stable per-id seed, independent of the order ids are compared in.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_cut_points() {
        assert_eq!(severity(1.06), Severity::Minor);
        assert_eq!(severity(1.10), Severity::Moderate);
        assert_eq!(severity(1.30), Severity::Major);
        assert_eq!(severity(1.50), Severity::Critical);
        assert_eq!(severity(3.0), Severity::Critical);
    }

    #[test]
    fn seeds_are_stable_per_id() {
        assert_eq!(fnv1a("a/b"), fnv1a("a/b"));
        assert_ne!(fnv1a("a/b"), fnv1a("a/c"));
    }
}
