//! Summary statistics of one sample set: what the sampler needs to decide when to stop and what a
//! measurement records. Comparisons between runs live in tensorbench-analysis.

use crate::schema::{OutlierCounts, Stats};
use statrs::distribution::{Binomial, DiscreteCDF};

/// Linear-interpolated quantile of sorted data (the "type 7" estimator R and NumPy use by default).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    assert!(!sorted.is_empty(), "quantile of an empty sample");
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

fn sorted(samples: &[f64]) -> Vec<f64> {
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// Distribution-free confidence interval of the median from order statistics: the number of samples
/// below the true median is Binomial(n, 1/2), so the interval [x_(j), x_(k)] covers it with
/// probability P(j <= B < k). Needs no assumption about the shape of timing noise.
/// Returns `None` when `n` is too small to reach the requested confidence.
pub fn median_ci_sorted(sorted: &[f64], confidence: f64) -> Option<(f64, f64)> {
    let n = sorted.len();
    let binom = Binomial::new(0.5, n as u64).ok()?;
    let alpha = 1.0 - confidence;
    // With 1-based order statistics, [x_(j), x_(n+1-j)] covers the median with probability
    // 1 - 2 P(B <= j-1). Take the largest j that still reaches the confidence asked for.
    let mut j = 0usize;
    while j < n / 2 && 2.0 * binom.cdf(j as u64) <= alpha {
        j += 1;
    }
    (j > 0).then(|| (sorted[j - 1], sorted[n - j]))
}

/// Relative half-width of the median's CI: (high - low) / (2 * median).
pub fn relative_ci_half_width(samples: &[f64], confidence: f64) -> Option<f64> {
    let s = sorted(samples);
    let (lo, hi) = median_ci_sorted(&s, confidence)?;
    let med = quantile_sorted(&s, 0.5);
    (med > 0.0).then(|| (hi - lo) / (2.0 * med))
}

/// Tukey's fences: mild beyond 1.5 IQR from the quartiles, severe beyond 3 IQR.
pub fn tukey_outliers(samples: &[f64]) -> OutlierCounts {
    let s = sorted(samples);
    if s.len() < 4 {
        return OutlierCounts::default();
    }
    let q1 = quantile_sorted(&s, 0.25);
    let q3 = quantile_sorted(&s, 0.75);
    let iqr = q3 - q1;
    let (lo_mild, hi_mild) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
    let (lo_severe, hi_severe) = (q1 - 3.0 * iqr, q3 + 3.0 * iqr);
    let mut c = OutlierCounts::default();
    for &x in &s {
        if x < lo_severe {
            c.low_severe += 1;
        } else if x < lo_mild {
            c.low_mild += 1;
        } else if x > hi_severe {
            c.high_severe += 1;
        } else if x > hi_mild {
            c.high_mild += 1;
        }
    }
    c
}

/// Everything a [`Stats`] holds, from raw per-iteration samples. `None` for an empty sample set.
pub fn summarize(samples: &[f64], confidence: f64) -> Option<Stats> {
    if samples.is_empty() {
        return None;
    }
    let s = sorted(samples);
    let n = s.len() as f64;
    let mean = s.iter().sum::<f64>() / n;
    let var = if s.len() > 1 {
        s.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    let median = quantile_sorted(&s, 0.5);
    let mut dev: Vec<f64> = s.iter().map(|x| (x - median).abs()).collect();
    dev.sort_by(f64::total_cmp);
    let (ci_low, ci_high) = median_ci_sorted(&s, confidence).unwrap_or((s[0], s[s.len() - 1]));
    Some(Stats {
        median_ns: median,
        ci_low_ns: ci_low,
        ci_high_ns: ci_high,
        confidence,
        mean_ns: mean,
        std_ns: var.sqrt(),
        mad_ns: quantile_sorted(&dev, 0.5),
        min_ns: s[0],
        max_ns: s[s.len() - 1],
        p05_ns: quantile_sorted(&s, 0.05),
        p95_ns: quantile_sorted(&s, 0.95),
        outliers: tukey_outliers(&s),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate() {
        let s = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&s, 0.5), 2.5);
        assert_eq!(quantile_sorted(&s, 0.0), 1.0);
        assert_eq!(quantile_sorted(&s, 1.0), 4.0);
    }

    #[test]
    fn median_ci_brackets_median_and_shrinks_with_n() {
        let small: Vec<f64> = (0..10).map(f64::from).collect();
        let large: Vec<f64> = (0..1000).map(|i| f64::from(i) / 100.0).collect();
        let (lo, hi) = median_ci_sorted(&small, 0.95).unwrap();
        assert!(lo <= 4.5 && hi >= 4.5);
        // n=10 at 95%: the textbook interval is [x_(2), x_(9)] (1-based), i.e. indices 1 and 8.
        assert_eq!((lo, hi), (1.0, 8.0));
        let (llo, lhi) = median_ci_sorted(&large, 0.95).unwrap();
        assert!((lhi - llo) / 10.0 < (hi - lo) / 10.0);
    }

    #[test]
    fn median_ci_refuses_tiny_samples() {
        assert!(median_ci_sorted(&[1.0, 2.0, 3.0], 0.95).is_none());
        assert!(median_ci_sorted(&[1.0], 0.95).is_none());
    }

    #[test]
    fn tukey_counts_planted_outliers() {
        let mut v: Vec<f64> = (0..100).map(|i| 100.0 + f64::from(i % 10)).collect();
        v.push(1000.0); // severe high
        v.push(112.0); // q3≈107, iqr≈5 → 112 is beyond 1.5 IQR (114.5)? no: mild fence 114.5
        v.push(116.0); // mild high (between 114.5 and 122)
        v.push(80.0); // severe low (below 80-ish fence 77?)
        let c = tukey_outliers(&v);
        assert_eq!(c.high_severe, 1);
        assert_eq!(c.high_mild, 1);
        assert_eq!(c.low_severe + c.low_mild, 1);
    }

    #[test]
    fn summary_of_constant_samples() {
        let s = summarize(&[5.0; 20], 0.95).unwrap();
        assert_eq!(s.median_ns, 5.0);
        assert_eq!(s.std_ns, 0.0);
        assert_eq!(s.mad_ns, 0.0);
        assert_eq!((s.ci_low_ns, s.ci_high_ns), (5.0, 5.0));
        assert!(summarize(&[], 0.95).is_none());
    }
}
