//! What `ab` leaves: the verdict table (the `compare` style), a run file of HEAD's paired
//! samples with each id's paired verdict, the comparison beside it for `report`, the HTML report,
//! and, for an A/A (BASE and HEAD the same build), this machine's noise floor per id.

use super::builds::Build;
use super::{AbArgs, IdState};
use crate::targets::Target;
use anyhow::{Context, Result};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tensorbench_analysis::baseline::{NOISE_FLOOR_FILE, PAIRED_SUFFIX};
use tensorbench_analysis::paired::{PairedConfig, PairedResult, PairedVerdict, Round};
use tensorbench_analysis::stats::median;
use tensorbench_analysis::{Comparison, IdComparison, Verdict};
use tensorbench_core::schema::{CacheMode, Measurement, Run, RunStatus, SCHEMA_VERSION, Status};
use tensorbench_core::suite::exit;
use tensorbench_core::{WorkloadSpec, machine, stats, store};

/// Everything the rounds produced.
pub struct Outcome<'a> {
    pub sides: &'a [Build; 2],
    pub target: &'a Target,
    pub cfg: &'a PairedConfig,
    pub specs: &'a [WorkloadSpec],
    pub states: &'a BTreeMap<String, IdState>,
    pub seed: u64,
    pub elapsed: Duration,
}

/// Prints, writes, and returns the exit code (1 when any id is `slower` or failed on a side)
/// and the verdicts.
pub fn finish(args: &AbArgs, o: &Outcome<'_>) -> Result<(u8, Comparison)> {
    let cmp = comparison(o);
    println!("{}", cmp.to_table());
    let run = run_file(args, o);
    let dir = args
        .out
        .join(store::machine_slug(run.machine.hostname.as_deref()));
    let run_path = dir.join(format!("{}.json", run.run_id));
    store::write_json_atomic(&run_path, &run)?;
    store::write_json_atomic(&paired_path(&run_path), &cmp)?;
    println!("paired run file: {}", run_path.display());
    if same_build(o.sides) {
        let floor = write_noise_floor(&dir, args, o)?;
        println!("noise floor (A/A): {}", floor.display());
    }
    if !args.no_report {
        let html = crate::report::write_run_report(&run_path, Some(&cmp))?;
        eprintln!("report: {}", html.display());
    }
    eprintln!("ab took {:.0} s", o.elapsed.as_secs_f64());
    if nothing_compared(o.states) {
        eprintln!(
            "error: nothing was compared: every selected id was skipped on a side (see the \
             notes); a gate does not pass on nothing"
        );
        return Ok((exit::INFRASTRUCTURE, cmp));
    }
    let failed = cmp.count(Verdict::Invalid) > 0;
    Ok((u8::from(cmp.count(Verdict::Slower) > 0 || failed), cmp))
}

/// No id was compared in any round: none was selected, or every one was skipped.
fn nothing_compared(states: &BTreeMap<String, IdState>) -> bool {
    states
        .values()
        .all(|s| s.rounds.is_empty() && s.not_timed.as_ref().is_none_or(|_| s.skipped()))
}

fn comparison(o: &Outcome<'_>) -> Comparison {
    let items = o
        .specs
        .iter()
        .filter_map(|spec| Some((spec, o.states.get(&spec.id)?)))
        .filter(|(_, s)| !s.skipped())
        .map(|(spec, s)| item(spec, s, o.cfg))
        .collect();
    let mut warnings = skipped_notes(o);
    warnings.extend(mde_distribution(o.states));
    warnings.push(format!(
        "paired A/B in one sitting: BASE {} vs HEAD {}; verdicts hold the false-alarm rate at {:.0}% per id over {} looks",
        o.sides[0].label,
        o.sides[1].label,
        o.cfg.alpha * 100.0,
        o.cfg.looks
    ));
    Comparison {
        old_label: o.sides[0].label.clone(),
        new_label: o.sides[1].label.clone(),
        old_run_id: o.sides[0].label.clone(),
        new_run_id: o.sides[1].label.clone(),
        warnings,
        items,
        ci_level: 1.0 - o.cfg.alpha / o.cfg.looks.max(1) as f64,
    }
}

/// One id's row (skipped ids have none: the warnings name them).
fn item(spec: &WorkloadSpec, state: &IdState, cfg: &PairedConfig) -> IdComparison {
    let (base, head) = medians(&state.rounds);
    let mut i = IdComparison {
        id: spec.id.clone(),
        op: spec.op.clone(),
        backend: spec.backend.clone(),
        verdict: Verdict::Ambiguous,
        severity: None,
        ratio: None,
        ratio_ci: None,
        p_value: None,
        p_adjusted: None,
        threshold: cfg.threshold,
        old_median_ns: base,
        new_median_ns: head,
        note: None,
    };
    if let Some((_, why)) = &state.not_timed {
        i.verdict = Verdict::Invalid;
        i.note = Some(why.clone());
        return i;
    }
    match &state.result {
        Some(r) => {
            i.verdict = verdict(&r.verdict);
            i.ratio = Some(r.ratio);
            i.ratio_ci = Some(r.ci);
            i.note = Some(note(r, cfg));
        }
        None => i.note = Some("no round sampled both sides".into()),
    }
    i
}

fn verdict(v: &PairedVerdict) -> Verdict {
    match v {
        PairedVerdict::Slower => Verdict::Slower,
        PairedVerdict::Faster => Verdict::Faster,
        PairedVerdict::Same => Verdict::Same,
        PairedVerdict::Insensitive => Verdict::Insensitive,
        PairedVerdict::Ambiguous(_) => Verdict::Ambiguous,
    }
}

fn note(r: &PairedResult, cfg: &PairedConfig) -> String {
    let mut note = format!(
        "±{:.1}% detectable here; {} rounds",
        r.mde * 100.0,
        r.rounds
    );
    match &r.verdict {
        PairedVerdict::Ambiguous(why) => note = format!("{why}; {note}"),
        PairedVerdict::Insensitive => {
            note = format!("noise hides ±{:.1}% here; {note}", cfg.threshold * 100.0)
        }
        _ => {}
    }
    note
}

/// Medians over every round's samples of BASE and of HEAD.
fn medians(rounds: &[Round]) -> (Option<f64>, Option<f64>) {
    let all = |side: fn(&Round) -> &Vec<f64>| -> Vec<f64> {
        rounds
            .iter()
            .flat_map(|r| side(r).iter().copied())
            .collect()
    };
    (median(&all(|r| &r.base)), median(&all(|r| &r.head)))
}

/// The spread of the MDEs and of the rounds they rest on: what this machine resolves.
fn mde_distribution(states: &BTreeMap<String, IdState>) -> Option<String> {
    let results: Vec<&PairedResult> = states.values().filter_map(|s| s.result.as_ref()).collect();
    let mut mdes: Vec<f64> = results.iter().map(|r| r.mde * 100.0).collect();
    let mut rounds: Vec<f64> = results.iter().map(|r| r.rounds as f64).collect();
    mdes.sort_by(f64::total_cmp);
    rounds.sort_by(f64::total_cmp);
    let at = |xs: &[f64], q: f64| xs[((xs.len() - 1) as f64 * q).round() as usize];
    (!mdes.is_empty()).then(|| {
        format!(
            "detectable effect over {} ids: median ±{:.1}%, 90th percentile ±{:.1}%, max ±{:.1}%; \
             rounds used: median {:.0}, max {:.0}",
            mdes.len(),
            at(&mdes, 0.5),
            at(&mdes, 0.9),
            at(&mdes, 1.0),
            at(&rounds, 0.5),
            at(&rounds, 1.0)
        )
    })
}

fn skipped_notes(o: &Outcome<'_>) -> Vec<String> {
    o.states
        .iter()
        .filter(|(_, s)| s.skipped())
        .filter_map(|(id, s)| Some((id, &s.not_timed.as_ref()?.1)))
        .map(|(id, why)| format!("{id}: not compared (skipped: {why})"))
        .collect()
}

/// HEAD's samples as a run file, each measurement carrying its paired verdict under `ab`.
fn run_file(args: &AbArgs, o: &Outcome<'_>) -> Run {
    let mode = if args.cold {
        CacheMode::Cold
    } else {
        CacheMode::Hot
    };
    let measurements = o
        .specs
        .iter()
        .filter_map(|spec| Some(measurement(spec, o.states.get(&spec.id)?, mode)))
        .collect();
    let mut git = machine::git_info(&crate::workspace::root());
    if let Some(c) = &o.sides[1].commit {
        git.commit = Some(c.clone());
        git.dirty = Some(false);
    }
    Run {
        schema_version: SCHEMA_VERSION,
        run_id: store::new_run_id(&format!("{}-ab", o.target.name)),
        target: o.target.name.to_string(),
        profile: args.profile.to_string(),
        command: format!(
            "cargo xtask {}",
            std::env::args().skip(1).collect::<Vec<_>>().join(" ")
        ),
        started_at: store::now_rfc3339(),
        finished_at: Some(store::now_rfc3339()),
        status: RunStatus::Complete,
        git,
        machine: machine::detect(),
        build_profile: "bench".into(),
        config: json!({
            "ab": {
                "base": o.sides[0].label, "head": o.sides[1].label,
                "base_commit": o.sides[0].commit, "head_commit": o.sides[1].commit,
                "threshold": o.cfg.threshold, "alpha": o.cfg.alpha, "looks": o.cfg.looks,
                "max_rounds": args.rounds, "time_budget_s": args.time_budget,
                "seed": o.seed, "elapsed_s": o.elapsed.as_secs_f64(),
            },
            "threads": args.threads, "filter": args.filter,
        }),
        peaks: BTreeMap::new(),
        measurements,
    }
}

fn measurement(spec: &WorkloadSpec, state: &IdState, mode: CacheMode) -> Measurement {
    let mut m = Measurement::blank(spec, mode);
    if let Some((status, why)) = &state.not_timed {
        m.status = *status;
        m.reason = Some(why.clone());
        return m;
    }
    let samples: Vec<f64> = state.rounds.iter().flat_map(|r| r.head.clone()).collect();
    m.stats = stats::summarize(&samples, 0.95);
    m.status = if m.stats.is_some() {
        Status::Ok
    } else {
        Status::Failed
    };
    m.samples_ns = samples;
    if let Some(r) = &state.result {
        let mut ab = paired_json(r, &state.rounds);
        ab["legs"] = json!(state.legs);
        m.extra.insert("ab".into(), ab);
    }
    m
}

fn paired_json(r: &PairedResult, rounds: &[Round]) -> serde_json::Value {
    let round_ratios: Vec<Option<f64>> = rounds
        .iter()
        .map(|r| Some(median(&r.head)? / median(&r.base)?))
        .collect();
    let verdict = match &r.verdict {
        PairedVerdict::Ambiguous(why) => json!({"ambiguous": why}),
        v => json!(format!("{v:?}").to_lowercase()),
    };
    json!({
        "verdict": verdict, "ratio": r.ratio, "ci": [r.ci.0, r.ci.1],
        "mde": r.mde, "rounds": r.rounds, "round_ratios": round_ratios,
    })
}

/// Where the comparison of the paired run at `run_path` is kept.
pub fn paired_path(run_path: &Path) -> PathBuf {
    let stem = run_path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("run");
    run_path.with_file_name(format!("{stem}{PAIRED_SUFFIX}"))
}

/// BASE and HEAD are one build: an A/A, whose MDEs are this machine's noise floor.
fn same_build(sides: &[Build; 2]) -> bool {
    match (&sides[0].commit, &sides[1].commit) {
        (Some(a), Some(b)) => a == b,
        _ => sides[0].binary == sides[1].binary,
    }
}

/// `<machine>/noise-floor.json`: per id, the MDE an A/A measured, merged over earlier ones.
fn write_noise_floor(dir: &Path, args: &AbArgs, o: &Outcome<'_>) -> Result<PathBuf> {
    let path = dir.join(NOISE_FLOOR_FILE);
    let mut floor: serde_json::Map<String, serde_json::Value> = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    for (id, s) in o.states {
        if let Some(r) = &s.result {
            floor.insert(
                id.clone(),
                json!({
                    "mde": r.mde, "rounds": r.rounds, "profile": args.profile.to_string(),
                    "threads": args.threads, "measured_at": store::now_rfc3339(),
                }),
            );
        }
    }
    store::write_json_atomic(&path, &floor)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(rounds: usize, not_timed: Option<Status>) -> IdState {
        IdState {
            rounds: vec![
                Round {
                    base: vec![1.0],
                    head: vec![1.0]
                };
                rounds
            ],
            legs: Vec::new(),
            result: None,
            not_timed: not_timed.map(|s| (s, "why".into())),
        }
    }

    #[test]
    fn a_gate_on_only_skipped_ids_compared_nothing() {
        let of = |v: Vec<IdState>| -> BTreeMap<String, IdState> {
            v.into_iter()
                .enumerate()
                .map(|(i, s)| (i.to_string(), s))
                .collect()
        };
        assert!(nothing_compared(&of(vec![])));
        assert!(nothing_compared(&of(vec![
            state(0, Some(Status::Skipped)),
            state(0, Some(Status::Skipped)),
        ])));
        assert!(!nothing_compared(&of(vec![
            state(0, Some(Status::Skipped)),
            state(4, None)
        ])));
        // A failed side is a verdict of its own (`invalid`, exit 1), not "nothing".
        assert!(!nothing_compared(&of(vec![state(0, Some(Status::Failed))])));
    }
}
