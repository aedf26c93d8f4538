//! Asymptotic complexity from a size sweep, the way Google Benchmark fits it: for each candidate
//! `g(n)`, the least-squares coefficient `c = Σ t·g / Σ g²`, and the fit's RMS error normalised by
//! the mean time; the candidate with the smallest normalised RMS wins.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tensorbench_schema::schema::{Run, Status};

/// The candidate growth laws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Complexity {
    #[serde(rename = "O(1)")]
    Constant,
    #[serde(rename = "O(log n)")]
    Logarithmic,
    #[serde(rename = "O(n)")]
    Linear,
    #[serde(rename = "O(n log n)")]
    Linearithmic,
    #[serde(rename = "O(n^2)")]
    Quadratic,
    #[serde(rename = "O(n^3)")]
    Cubic,
}

impl Complexity {
    pub const ALL: [Complexity; 6] = [
        Complexity::Constant,
        Complexity::Logarithmic,
        Complexity::Linear,
        Complexity::Linearithmic,
        Complexity::Quadratic,
        Complexity::Cubic,
    ];

    /// `g(n)` of this law.
    pub fn eval(self, n: f64) -> f64 {
        match self {
            Complexity::Constant => 1.0,
            Complexity::Logarithmic => n.log2(),
            Complexity::Linear => n,
            Complexity::Linearithmic => n * n.log2(),
            Complexity::Quadratic => n * n,
            Complexity::Cubic => n * n * n,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Complexity::Constant => "O(1)",
            Complexity::Logarithmic => "O(log n)",
            Complexity::Linear => "O(n)",
            Complexity::Linearithmic => "O(n log n)",
            Complexity::Quadratic => "O(n^2)",
            Complexity::Cubic => "O(n^3)",
        }
    }
}

/// One candidate's fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    pub complexity: Complexity,
    /// Time per unit of `g(n)`, in the unit of the times given (ns here).
    pub coefficient: f64,
    /// RMS of the residuals over the mean time.
    pub normalized_rms: f64,
}

/// The best fit and every candidate's, best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComplexityFit {
    pub best: Fit,
    pub candidates: Vec<Fit>,
}

/// Fits `times` (at sizes `sizes`) against every law. `None` with fewer than 2 distinct sizes or
/// non-positive sizes.
pub fn fit_complexity(sizes: &[f64], times: &[f64]) -> Option<ComplexityFit> {
    let distinct = {
        let mut s = sizes.to_vec();
        s.sort_by(f64::total_cmp);
        s.dedup();
        s.len()
    };
    if sizes.len() != times.len() || distinct < 2 || sizes.iter().any(|&n| n.is_nan() || n < 1.0) {
        return None;
    }
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    let mut candidates: Vec<Fit> = Complexity::ALL
        .iter()
        .map(|&c| fit_one(c, sizes, times, mean))
        .collect();
    candidates.sort_by(|a, b| a.normalized_rms.total_cmp(&b.normalized_rms));
    Some(ComplexityFit {
        best: candidates[0],
        candidates,
    })
}

fn fit_one(c: Complexity, sizes: &[f64], times: &[f64], mean: f64) -> Fit {
    let g: Vec<f64> = sizes.iter().map(|&n| c.eval(n)).collect();
    let gg: f64 = g.iter().map(|x| x * x).sum();
    let coefficient = if gg > 0.0 {
        g.iter().zip(times).map(|(x, t)| x * t).sum::<f64>() / gg
    } else {
        0.0
    };
    let sse: f64 = g
        .iter()
        .zip(times)
        .map(|(x, t)| (t - coefficient * x).powi(2))
        .sum();
    let rms = (sse / times.len() as f64).sqrt();
    Fit {
        complexity: c,
        coefficient,
        normalized_rms: if mean > 0.0 {
            rms / mean
        } else {
            f64::INFINITY
        },
    }
}

/// The fit of one sweep in a run: every `ok` measurement that differs only in the size parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepFit {
    /// The sweep's ids with the size parameter written as `{param}=*`.
    pub sweep: String,
    pub param: String,
    pub sizes: Vec<f64>,
    pub medians_ns: Vec<f64>,
    pub fit: ComplexityFit,
}

/// Fits every sweep over the numeric parameter `param` (e.g. `n`) in `run` that has at least
/// three sizes.
pub fn fit_sweeps(run: &Run, param: &str) -> Vec<SweepFit> {
    let mut sweeps: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for m in run.measurements.iter().filter(|m| m.status == Status::Ok) {
        let (Some(size), Some(stats)) = (m.params.get(param).and_then(|v| v.as_f64()), &m.stats)
        else {
            continue;
        };
        let mut rest = m.params.clone();
        rest.insert(param.to_string(), "*".into());
        let rest: Vec<String> = rest
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect();
        let key = format!(
            "{}/{}/{}/{}/{}/t{}",
            m.device,
            m.op,
            m.backend,
            m.dtype.name(),
            rest.join(","),
            m.threads
        );
        sweeps.entry(key).or_default().push((size, stats.median_ns));
    }
    sweeps
        .into_iter()
        .filter(|(_, pts)| pts.len() >= 3)
        .filter_map(|(sweep, mut pts)| {
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (sizes, medians_ns): (Vec<f64>, Vec<f64>) = pts.into_iter().unzip();
            let fit = fit_complexity(&sizes, &medians_ns)?;
            Some(SweepFit {
                sweep,
                param: param.to_string(),
                sizes,
                medians_ns,
                fit,
            })
        })
        .collect()
}
