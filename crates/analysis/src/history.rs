//! Change points over the history of one machine: the run files of `results/<machine>/`, ordered by
//! `started_at`, give each id a series of medians; a penalised piecewise-constant fit finds where
//! its level stepped.
//!
//! The method, in the spirit of asv's `step_detect` (a penalised fit) but our own:
//!
//! 1. Work on `y = ln(median)`, so a step is a ratio and noise is relative.
//! 2. Estimate the noise σ robustly from first differences: `1.4826 · MAD(Δy) / √2` (a step moves
//!    one difference only, so it barely moves the MAD), floored at `min_noise`.
//! 3. Find the exact minimiser of `Σ_segments Σ (y - mean)² + β · #segments` by optimal
//!    partitioning (dynamic programming, O(n²)), with `β = penalty · σ² · ln n` (a BIC-like
//!    penalty) and segments at least `min_segment` long.
//! 4. Merge away the weakest step while it is smaller than `min_step` or the t-test between its two
//!    neighbouring segments (variances floored at σ², Bonferroni-corrected for the split positions
//!    the fit chose among) gives confidence below `min_confidence`.
//!
//! Everything is deterministic: no resampling, no random starts.
//!
//! A series is one id **under one configuration** ([`MeasurementConfig`]: threads, cache mode,
//! build and sampling profile, target features): hot and cold runs, or two thread counts, are two
//! series, so switching between them is never taken for a step.

use crate::Result;
use crate::baseline::run_files;
use crate::like::MeasurementConfig;
use crate::stats::median;
use crate::verdict::{ChangePoint, History, TrendPoint};
use statrs::distribution::{ContinuousCDF, StudentsT};
use std::collections::BTreeMap;
use std::path::Path;
use tensorbench_schema::schema::{Run, Status};
use tensorbench_schema::store::load_run;

/// Knobs of the step detector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepConfig {
    /// Multiplier of `σ² ln n` in the per-segment penalty.
    pub penalty: f64,
    /// Fewest points in a segment: a single-run blip is an outlier, not a new level.
    pub min_segment: usize,
    /// Smallest relative step reported (0.02 = 2%).
    pub min_step: f64,
    /// Smallest `1 - p` of the test between neighbouring segments for a step to stand.
    pub min_confidence: f64,
    /// Floor of the noise estimate, relative (0.002 = 0.2%): keeps a near-noiseless series from
    /// turning every wiggle into a step.
    pub min_noise: f64,
}

/// Defaults chosen on seeded synthetic series (log-normal noise): no false step in 500 flat series
/// of 40 points at 2% noise nor 200 of 100 points; a 5% step in 20+20 points at 2% noise found in
/// 90% of series, a 10% step in 10+10 points at 3% noise in 75%.
impl Default for StepConfig {
    fn default() -> Self {
        Self {
            penalty: 4.0,
            min_segment: 2,
            min_step: 0.02,
            min_confidence: 0.999,
            min_noise: 0.002,
        }
    }
}

/// Reads every complete run file of `dir` (one machine's results) and returns each id's history with
/// its steps, sorted by id and configuration. A bad run file is an error naming it.
pub fn history(dir: &Path) -> Result<Vec<History>> {
    history_with(dir, &StepConfig::default())
}

/// [`history`] with explicit detector settings.
pub fn history_with(dir: &Path, cfg: &StepConfig) -> Result<Vec<History>> {
    let mut runs = Vec::new();
    for path in run_files(dir)? {
        runs.push(load_run(&path)?);
    }
    Ok(history_of_runs(runs, cfg))
}

/// The histories of already loaded runs (sorted here by `started_at`).
pub fn history_of_runs(mut runs: Vec<Run>, cfg: &StepConfig) -> Vec<History> {
    runs.sort_by(|a, b| a.started_at.cmp(&b.started_at));
    let mut series: BTreeMap<(String, String), Vec<TrendPoint>> = BTreeMap::new();
    for run in &runs {
        for m in run.measurements.iter().filter(|m| m.status == Status::Ok) {
            let Some(s) = &m.stats else { continue };
            let key = (m.id.clone(), MeasurementConfig::of(run, m).label());
            series.entry(key).or_default().push(TrendPoint {
                run_id: run.run_id.clone(),
                started_at: run.started_at.clone(),
                commit: run.git.commit.clone(),
                median_ns: s.median_ns,
                ci_low_ns: s.ci_low_ns,
                ci_high_ns: s.ci_high_ns,
            });
        }
    }
    series
        .into_iter()
        .map(|((id, config), points)| {
            let values: Vec<f64> = points.iter().map(|p| p.median_ns).collect();
            let steps = detect_steps(&values, cfg)
                .into_iter()
                .map(|s| ChangePoint {
                    run_id: points[s.index].run_id.clone(),
                    index: s.index,
                    before_ns: s.before,
                    after_ns: s.after,
                    ratio: s.after / s.before,
                    confidence: s.confidence,
                })
                .collect();
            History {
                id,
                config,
                points,
                steps,
            }
        })
        .collect()
}

/// A step found in a series: from `index` on, the level is `after` instead of `before`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    pub index: usize,
    /// Median of the segment before and after the step.
    pub before: f64,
    pub after: f64,
    /// `1 - p` of the corrected t-test between the two segments (see the module docs).
    pub confidence: f64,
}

/// Steps in a series of positive values (e.g. one id's medians over runs).
pub fn detect_steps(values: &[f64], cfg: &StepConfig) -> Vec<Step> {
    if values.len() < 2 * cfg.min_segment || values.iter().any(|v| v.is_nan() || *v <= 0.0) {
        return Vec::new();
    }
    let y: Vec<f64> = values.iter().map(|v| v.ln()).collect();
    let sigma = noise_sigma(&y).max(cfg.min_noise);
    let beta = cfg.penalty * sigma * sigma * (y.len() as f64).ln();
    let mut bounds = optimal_partition(&y, beta, cfg.min_segment);
    prune_weak_steps(&y, &mut bounds, sigma, cfg);
    steps_at(values, &y, &bounds, sigma)
}

/// Robust σ of the noise from first differences.
fn noise_sigma(y: &[f64]) -> f64 {
    let diffs: Vec<f64> = y.windows(2).map(|w| w[1] - w[0]).collect();
    let center = median(&diffs).unwrap_or(0.0);
    let dev: Vec<f64> = diffs.iter().map(|d| (d - center).abs()).collect();
    1.4826 * median(&dev).unwrap_or(0.0) / std::f64::consts::SQRT_2
}

/// Segment starts (excluding 0) of the exact penalised least-squares piecewise-constant fit.
fn optimal_partition(y: &[f64], beta: f64, min_len: usize) -> Vec<usize> {
    let n = y.len();
    let (mut s1, mut s2) = (vec![0.0; n + 1], vec![0.0; n + 1]);
    for (i, v) in y.iter().enumerate() {
        s1[i + 1] = s1[i] + v;
        s2[i + 1] = s2[i] + v * v;
    }
    // Sum of squared deviations from the mean of y[a..b].
    let cost = |a: usize, b: usize| {
        let (len, sum) = ((b - a) as f64, s1[b] - s1[a]);
        (s2[b] - s2[a]) - sum * sum / len
    };
    let mut best = vec![f64::INFINITY; n + 1];
    let mut prev = vec![0usize; n + 1];
    best[0] = -beta;
    for end in min_len..=n {
        for start in (0..=end - min_len).filter(|&s| s == 0 || s >= min_len) {
            let c = best[start] + cost(start, end) + beta;
            if c < best[end] {
                best[end] = c;
                prev[end] = start;
            }
        }
    }
    let mut bounds = Vec::new();
    let mut end = n;
    while end > 0 {
        let start = prev[end];
        if start > 0 {
            bounds.push(start);
        }
        end = start;
    }
    bounds.reverse();
    bounds
}

/// Removes, weakest first, steps that are too small or not confident enough.
fn prune_weak_steps(y: &[f64], bounds: &mut Vec<usize>, sigma: f64, cfg: &StepConfig) {
    loop {
        let weakest = (0..bounds.len())
            .map(|k| (k, step_strength(y, bounds, k, sigma)))
            .filter(|(_, (size, conf))| *size < cfg.min_step || *conf < cfg.min_confidence)
            .min_by(|a, b| a.1.1.total_cmp(&b.1.1).then(a.1.0.total_cmp(&b.1.0)));
        match weakest {
            Some((k, _)) => {
                bounds.remove(k);
            }
            None => return,
        }
    }
}

/// The segments on either side of step `k`.
fn neighbours<'a>(y: &'a [f64], bounds: &[usize], k: usize) -> (&'a [f64], &'a [f64]) {
    let start = if k == 0 { 0 } else { bounds[k - 1] };
    let end = bounds.get(k + 1).copied().unwrap_or(y.len());
    (&y[start..bounds[k]], &y[bounds[k]..end])
}

/// (relative size, confidence) of step `k`.
fn step_strength(y: &[f64], bounds: &[usize], k: usize, sigma: f64) -> (f64, f64) {
    let (a, b) = neighbours(y, bounds, k);
    let size = (median(b).unwrap_or(0.0) - median(a).unwrap_or(0.0))
        .abs()
        .exp()
        - 1.0;
    (size, confidence(a, b, sigma))
}

/// `1 - p` of a two-sided t-test between two neighbouring segments (log values). Each segment's
/// variance is floored at the series' robust noise `sigma²`, so a short segment that happens to be
/// flat cannot look infinitely certain; and p is multiplied by the number of places the step could
/// have been put between them (Bonferroni), since the fit chose the split that looks most different.
fn confidence(a: &[f64], b: &[f64], sigma: f64) -> f64 {
    let var = |x: &[f64]| {
        let n = x.len() as f64;
        let mean = x.iter().sum::<f64>() / n;
        let sample = if x.len() > 1 {
            x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        };
        (mean, sample.max(sigma * sigma), n)
    };
    let ((ma, va, na), (mb, vb, nb)) = (var(a), var(b));
    let t = (mb - ma) / (va / na + vb / nb).sqrt();
    let df = (na + nb - 2.0).max(1.0);
    let Ok(dist) = StudentsT::new(0.0, 1.0, df) else {
        return 0.0;
    };
    let p = 2.0 * dist.cdf(-t.abs());
    let positions = (a.len() + b.len()).saturating_sub(1) as f64;
    1.0 - (p * positions).min(1.0)
}

fn steps_at(values: &[f64], y: &[f64], bounds: &[usize], sigma: f64) -> Vec<Step> {
    (0..bounds.len())
        .map(|k| {
            let (a, b) = neighbours(y, bounds, k);
            let start = if k == 0 { 0 } else { bounds[k - 1] };
            let end = bounds.get(k + 1).copied().unwrap_or(y.len());
            Step {
                index: bounds[k],
                before: median(&values[start..bounds[k]]).unwrap_or(f64::NAN),
                after: median(&values[bounds[k]..end]).unwrap_or(f64::NAN),
                confidence: confidence(a, b, sigma),
            }
        })
        .collect()
}
