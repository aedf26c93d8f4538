//! What a comparison treats as noise and as significant.

use crate::stats::Bootstrap;
use crate::{Error, Result};
use regex::Regex;

/// Default noise threshold: changes within ±5% are `same`.
pub const DEFAULT_THRESHOLD: f64 = 0.05;
/// Default false-discovery rate for the Benjamini–Hochberg-corrected test.
pub const DEFAULT_ALPHA: f64 = 0.05;
/// Fewer samples than this on either side gives `ambiguous`.
pub const DEFAULT_MIN_SAMPLES: usize = 5;

/// The two-sample test behind `p_value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TestKind {
    /// Rank test: assumes nothing about the shape of timing noise (the default).
    #[default]
    MannWhitney,
    /// Welch's t-test on the per-iteration times.
    Welch,
}

/// A noise threshold that applies to the ids matching a regular expression.
#[derive(Debug, Clone)]
pub struct ThresholdRule {
    pub pattern: Regex,
    pub threshold: f64,
}

/// How [`compare_runs`](crate::compare_runs) decides.
#[derive(Debug, Clone)]
pub struct CompareConfig {
    /// Relative change treated as noise (0.05 = 5%) for ids no rule matches.
    pub threshold: f64,
    /// Per-id overrides; the last matching rule wins, so later, more specific rules can refine.
    pub rules: Vec<ThresholdRule>,
    /// False-discovery rate of the corrected test.
    pub alpha: f64,
    pub min_samples: usize,
    pub test: TestKind,
    pub bootstrap: Bootstrap,
}

impl Default for CompareConfig {
    fn default() -> Self {
        Self {
            threshold: DEFAULT_THRESHOLD,
            rules: Vec::new(),
            alpha: DEFAULT_ALPHA,
            min_samples: DEFAULT_MIN_SAMPLES,
            test: TestKind::default(),
            bootstrap: Bootstrap::default(),
        }
    }
}

impl CompareConfig {
    /// Sets the global threshold; it must lie in (0, 10).
    pub fn with_threshold(mut self, threshold: f64) -> Result<Self> {
        self.threshold = check_threshold("--threshold", threshold)?;
        Ok(self)
    }

    /// Adds a per-id threshold for ids matching `pattern` (a regular expression).
    pub fn with_rule(mut self, pattern: &str, threshold: f64) -> Result<Self> {
        let regex = Regex::new(pattern).map_err(|e| Error::BadPattern {
            pattern: pattern.to_string(),
            source: Box::new(e),
        })?;
        self.rules.push(ThresholdRule {
            pattern: regex,
            threshold: check_threshold("--threshold-for", threshold)?,
        });
        Ok(self)
    }

    /// Parses a `PATTERN=FRACTION` rule, e.g. `gemm/.*=0.10`.
    pub fn with_rule_spec(self, spec: &str) -> Result<Self> {
        let (pattern, value) = spec.rsplit_once('=').ok_or_else(|| {
            Error::bad_argument(
                "--threshold-for",
                format!("`{spec}` is not PATTERN=FRACTION"),
            )
        })?;
        let threshold = value.trim().parse::<f64>().map_err(|_| {
            Error::bad_argument("--threshold-for", format!("`{value}` is not a number"))
        })?;
        self.with_rule(pattern, threshold)
    }

    /// The noise threshold for `id`.
    pub fn threshold_for(&self, id: &str) -> f64 {
        self.rules
            .iter()
            .rev()
            .find(|r| r.pattern.is_match(id))
            .map_or(self.threshold, |r| r.threshold)
    }
}

fn check_threshold(flag: &str, t: f64) -> Result<f64> {
    if t.is_finite() && t > 0.0 && t < 10.0 {
        Ok(t)
    } else {
        Err(Error::bad_argument(
            flag,
            format!("threshold {t} must be a fraction in (0, 10), e.g. 0.05 for 5%"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_matching_rule_wins() {
        let cfg = CompareConfig::default()
            .with_rule("gemm", 0.10)
            .unwrap()
            .with_rule_spec("gemm/.*/n=64=0.2")
            .unwrap();
        assert_eq!(cfg.threshold_for("cpu/add/simd/f32/n=8"), DEFAULT_THRESHOLD);
        assert_eq!(cfg.threshold_for("cpu/gemm/simd/f32/n=128"), 0.10);
        assert_eq!(cfg.threshold_for("cpu/gemm/simd/f32/n=64"), 0.2);
    }

    #[test]
    fn bad_rules_name_what_is_wrong() {
        let e = CompareConfig::default().with_rule("(", 0.1).unwrap_err();
        assert!(e.to_string().contains("invalid pattern `(`"), "{e}");
        let e = CompareConfig::default().with_rule_spec("gemm").unwrap_err();
        assert!(e.to_string().contains("--threshold-for"), "{e}");
        let e = CompareConfig::default().with_threshold(-1.0).unwrap_err();
        assert!(e.to_string().contains("--threshold"), "{e}");
    }
}
