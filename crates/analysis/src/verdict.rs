//! The shapes of answers: per-id verdicts between two runs, and change points over history.
//! Report and xtask read these; keep them serialisable and stable.

use serde::{Deserialize, Serialize};

/// What happened to one measurement id between a baseline and a new run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Faster,
    Slower,
    Same,
    /// The data cannot tell (too few samples, overlapping wide intervals).
    Ambiguous,
    /// Only in the new run.
    New,
    /// Only in the baseline.
    Missing,
    /// One side is not a valid `ok` measurement.
    Invalid,
    /// This machine's noise cannot resolve the threshold for this id (a paired A/B's MDE is
    /// above it): not evidence of `same`.
    Insensitive,
}

/// How bad a confirmed slowdown is, by the lower bound of the ratio's CI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Minor,
    Moderate,
    Major,
    Critical,
}

/// The comparison of one id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdComparison {
    pub id: String,
    pub op: String,
    pub backend: String,
    pub verdict: Verdict,
    pub severity: Option<Severity>,
    /// new median / old median (> 1 is slower).
    pub ratio: Option<f64>,
    /// 95% bootstrap CI of the ratio of medians.
    pub ratio_ci: Option<(f64, f64)>,
    /// Raw p-value of the test used, and after Benjamini–Hochberg over the suite.
    pub p_value: Option<f64>,
    pub p_adjusted: Option<f64>,
    /// Noise threshold applied to this id (0.05 = 5%).
    pub threshold: f64,
    pub old_median_ns: Option<f64>,
    pub new_median_ns: Option<f64>,
    pub note: Option<String>,
}

/// All verdicts between two runs, with warnings when they are not like for like.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub old_label: String,
    pub new_label: String,
    pub old_run_id: String,
    pub new_run_id: String,
    /// E.g. "CPU model differs: ... vs ...", "threads differ".
    pub warnings: Vec<String>,
    pub items: Vec<IdComparison>,
    /// Confidence of the items' `ratio_ci` (0.95 for `compare`; a paired A/B's is higher, as
    /// it splits its error rate over several looks).
    #[serde(default = "ninety_five")]
    pub ci_level: f64,
}

fn ninety_five() -> f64 {
    0.95
}

/// The CI column's header: "95% CI", "99.8% CI".
pub fn ci_header(level: f64) -> String {
    let pct = level * 100.0;
    if (pct - pct.round()).abs() < 1e-9 {
        format!("{pct:.0}% CI")
    } else {
        format!("{pct:.1}% CI")
    }
}

impl Comparison {
    /// Confirmed regressions, worst first.
    pub fn regressions(&self) -> Vec<&IdComparison> {
        let mut v: Vec<_> = self
            .items
            .iter()
            .filter(|i| i.verdict == Verdict::Slower)
            .collect();
        v.sort_by(|a, b| b.ratio.unwrap_or(1.0).total_cmp(&a.ratio.unwrap_or(1.0)));
        v
    }

    pub fn count(&self, verdict: Verdict) -> usize {
        self.items.iter().filter(|i| i.verdict == verdict).count()
    }
}

/// One id's median in one run of the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    pub run_id: String,
    pub started_at: String,
    pub commit: Option<String>,
    pub median_ns: f64,
    pub ci_low_ns: f64,
    pub ci_high_ns: f64,
}

/// A detected step in an id's history: from `index` on, the level changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangePoint {
    /// Index into the trend of the first point of the new level.
    pub index: usize,
    pub run_id: String,
    pub before_ns: f64,
    pub after_ns: f64,
    /// after / before.
    pub ratio: f64,
    /// 1 - p of the test between the two segments.
    pub confidence: f64,
}

/// The history of one id under one configuration across run files, with its detected steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct History {
    pub id: String,
    /// The configuration label of the series (`MeasurementConfig::label`), e.g.
    /// `threads=2,hot,bench,quick`; empty in histories saved before series were split.
    #[serde(default)]
    pub config: String,
    pub points: Vec<TrendPoint>,
    pub steps: Vec<ChangePoint>,
}
