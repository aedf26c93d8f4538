//! Like for like: what a measurement's figures depend on beyond its id. Comparisons and history
//! join on the id **and** this configuration; a cold run set against a hot baseline, or one
//! thread count against another, is not a change of code.

use crate::render::escape_control;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use tensorbench_schema::schema::{CacheMode, Measurement, Run};

/// The configuration of one measurement in its run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasurementConfig {
    pub threads: usize,
    pub mode: CacheMode,
    /// Build profile of the suite binary (`bench`, `release`, `debug`).
    pub build_profile: String,
    /// Sampling profile (`quick`, `standard`, `full`).
    pub profile: String,
    /// Compile-time target features of the suite binary (`config.target_features`), when recorded.
    pub target_features: Option<String>,
}

impl MeasurementConfig {
    pub fn of(run: &Run, m: &Measurement) -> Self {
        let features = run.config.get("target_features").and_then(|v| match v {
            serde_json::Value::Array(a) => Some(
                a.iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join("+"),
            ),
            serde_json::Value::String(s) => Some(s.clone()),
            _ => None,
        });
        Self {
            threads: m.threads,
            mode: m.mode,
            build_profile: run.build_profile.clone(),
            profile: run.profile.clone(),
            target_features: features,
        }
    }

    /// A short, stable label, e.g. `threads=2,hot,bench,quick,avx2+fma`.
    pub fn label(&self) -> String {
        let mut s = format!(
            "threads={},{},{},{}",
            self.threads,
            mode_name(self.mode),
            self.build_profile,
            self.profile
        );
        if let Some(f) = &self.target_features {
            s.push(',');
            s.push_str(if f.is_empty() { "no-features" } else { f });
        }
        s
    }

    /// What differs from `other`, one `what: a vs b` per field (features only when both are known).
    pub fn differences(&self, other: &Self) -> Vec<String> {
        let mut d = Vec::new();
        let mut cmp = |what: &str, a: String, b: String| {
            if a != b {
                // Quoted in a one-line error: no line break or escape of the file's making.
                let (a, b) = (escape_control(&a), escape_control(&b));
                d.push(format!("{what}: {a} vs {b}"));
            }
        };
        cmp(
            "threads",
            self.threads.to_string(),
            other.threads.to_string(),
        );
        cmp(
            "cache mode",
            mode_name(self.mode).into(),
            mode_name(other.mode).into(),
        );
        cmp(
            "build profile",
            self.build_profile.clone(),
            other.build_profile.clone(),
        );
        cmp(
            "sampling profile",
            self.profile.clone(),
            other.profile.clone(),
        );
        if let (Some(a), Some(b)) = (&self.target_features, &other.target_features) {
            cmp("target features", a.clone(), b.clone());
        }
        d
    }
}

fn mode_name(m: CacheMode) -> &'static str {
    match m {
        CacheMode::Hot => "hot",
        CacheMode::Cold => "cold",
    }
}

/// The configuration differences between the ids both runs hold, each with how many ids it
/// concerns, e.g. `cache mode: hot (baseline) vs cold (new) for 111 id(s)`.
pub fn config_mismatches(old: &Run, new: &Run) -> Vec<String> {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for n in &new.measurements {
        let Some(o) = old.get(&n.id) else { continue };
        let (a, b) = (MeasurementConfig::of(old, o), MeasurementConfig::of(new, n));
        for d in a.differences(&b) {
            *counts.entry(d).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .map(|(d, k)| format!("{d} (baseline vs new) for {k} id(s)"))
        .collect()
}

/// Errors with every mismatch unless `allow`; with `allow`, returns them to be shown as warnings.
pub fn check_like_for_like(old: &Run, new: &Run, allow: bool) -> Result<Vec<String>> {
    let mismatches = config_mismatches(old, new);
    if mismatches.is_empty() || allow {
        return Ok(mismatches);
    }
    Err(Error::ConfigMismatch { mismatches })
}
