//! Summary statistics of one sample set: what the sampler needs to decide when to stop and what a
//! measurement records. Comparisons between runs live in tensorbench-analysis.

use crate::schema::{CiMethod, OutlierCounts, Stats};
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
/// Valid for independent samples only: [`median_ci`] is what measurements record.
/// Returns `None` when `n` is too small to reach the requested confidence.
pub fn median_ci_sorted(sorted: &[f64], confidence: f64) -> Option<(f64, f64)> {
    let n = sorted.len();
    // With 1-based order statistics, [x_(j), x_(n+1-j)] covers the median with probability
    // 1 - 2 P(B <= j-1). Take the largest j that still reaches the confidence asked for.
    let j = exact_rank(n, confidence);
    (j > 0).then(|| (sorted[j - 1], sorted[n - j]))
}

/// Batches of the dependence estimate: few enough that each spans many samples (long beside the
/// samples' correlation time), enough that the t quantile with `BATCHES - 1` degrees of freedom
/// stays moderate (2.26 at 95%).
pub const BATCHES: usize = 10;
/// Fewest samples from which the dependence is estimated (two per batch); below it the interval
/// assumes independence and says so (`order_statistic`), and the sampler never calls it converged.
pub const MIN_DEPENDENT_N: usize = 2 * BATCHES;
/// Fewest samples for the half-against-half drift check (each half then has its own batches).
pub const MIN_DRIFT_N: usize = 2 * MIN_DEPENDENT_N;
/// Halves whose medians differ by more than this many standard errors have drifted.
pub const DRIFT_Z: f64 = 3.0;

/// A confidence interval of the median and how it was formed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MedianCi {
    /// Lower end, in the samples' unit.
    pub low: f64,
    /// Upper end, in the samples' unit.
    pub high: f64,
    /// The level the interval has (lower than asked for when `method` is `Range`).
    pub confidence: f64,
    /// How the interval was formed.
    pub method: CiMethod,
    /// n over the dependence's variance inflation; `None` when not estimated.
    pub effective_samples: Option<f64>,
    /// The multiplier of the median's standard error the interval's half-width stands for.
    pub quantile: f64,
}

/// CI of the median of `samples` **in the order they were taken**, robust to serial dependence.
///
/// The count of samples below the true median is, for large n, normal with variance `n σ²`, where
/// `σ²` is the long-run variance of the indicator `1{x_t < median}` (ties count one half): `1/4`
/// for independent samples, more when neighbours move together. `σ²` is estimated by
/// non-overlapping batch means of the indicator over [`BATCHES`] batches, floored at the
/// independent value, and the ranks `n/2 ∓ t_{B-1} √(n σ²)` pick the interval from the sorted
/// samples; it is never narrower than the exact independent interval.
pub fn median_ci(samples: &[f64], confidence: f64) -> Option<MedianCi> {
    (!samples.is_empty()).then(|| median_ci_with(samples, &sorted(samples), confidence))
}

fn median_ci_with(samples: &[f64], s: &[f64], confidence: f64) -> MedianCi {
    let n = s.len();
    let exact = exact_rank(n, confidence);
    if n < MIN_DEPENDENT_N {
        return match exact {
            0 => range(s, 1.0 - 0.5f64.powi(n as i32 - 1), confidence),
            j => MedianCi {
                low: s[j - 1],
                high: s[n - j],
                confidence,
                method: CiMethod::OrderStatistic,
                effective_samples: None,
                quantile: normal_quantile(confidence),
            },
        };
    }
    // The batch estimate has BATCHES - 1 degrees of freedom, hence t; the AR(1) one rests on
    // n - 1 neighbour pairs, hence the normal quantile. The wider of the two is used.
    let batch = (
        t_quantile(confidence, BATCHES - 1),
        indicator_inflation(samples, quantile_sorted(s, 0.5)),
    );
    let ar1 = (normal_quantile(confidence), rank_ar1_inflation(samples));
    let (q, inflation) = if batch.0 * batch.1.sqrt() >= ar1.0 * ar1.1.sqrt() {
        batch
    } else {
        ar1
    };
    let spread = (n as f64 * inflation).sqrt() / 2.0;
    let j = (n as f64 / 2.0 - q * spread).floor();
    let effective = Some(n as f64 / inflation);
    if j < 1.0 {
        let reached = t_two_sided_cdf((n as f64 / 2.0 - 1.0) / spread, BATCHES - 1)
            .min(normal_two_sided((n as f64 / 2.0 - 1.0) / spread));
        let mut ci = range(s, reached, confidence);
        ci.effective_samples = effective;
        return ci;
    }
    let j = (j as usize).min(exact.max(1));
    MedianCi {
        low: s[j - 1],
        high: s[n - j],
        confidence,
        method: CiMethod::BatchMeans,
        effective_samples: effective,
        quantile: q,
    }
}

/// (min, max), which covers the median with probability `reached` (below `asked`).
fn range(s: &[f64], reached: f64, asked: f64) -> MedianCi {
    let confidence = reached.min(asked);
    MedianCi {
        low: s[0],
        high: s[s.len() - 1],
        confidence,
        method: CiMethod::Range,
        effective_samples: None,
        quantile: normal_quantile(confidence.max(0.5)),
    }
}

/// The 1-based rank j of the exact independent interval [x_(j), x_(n+1-j)]; 0 when unreachable.
fn exact_rank(n: usize, confidence: f64) -> usize {
    let Ok(binom) = Binomial::new(0.5, n as u64) else {
        return 0;
    };
    let alpha = 1.0 - confidence;
    let mut j = 0usize;
    while j < n / 2 && 2.0 * binom.cdf(j as u64) <= alpha {
        j += 1;
    }
    j
}

/// Long-run variance of the below-median indicator over its independent value, at least 1.
pub fn indicator_inflation(samples: &[f64], median: f64) -> f64 {
    let n = samples.len();
    let ind = |x: f64| {
        if x < median {
            1.0
        } else if x == median {
            0.5
        } else {
            0.0
        }
    };
    let p = samples.iter().map(|&x| ind(x)).sum::<f64>() / n as f64;
    let iid = p * (1.0 - p);
    if n < BATCHES || iid <= 0.0 {
        return 1.0;
    }
    let mut acc = 0.0;
    for k in 0..BATCHES {
        let batch = &samples[k * n / BATCHES..(k + 1) * n / BATCHES];
        let mean = batch.iter().map(|&x| ind(x)).sum::<f64>() / batch.len() as f64;
        acc += batch.len() as f64 * (mean - p).powi(2);
    }
    (acc / (BATCHES - 1) as f64 / iid).max(1.0)
}

/// `(1 + r) / (1 - r)` from the lag-1 autocorrelation `r` of the samples' ranks (tied ones share
/// their mean rank), at least 1: the variance inflation of an AR(1) process. Estimated from every pair of
/// neighbours, it is much steadier than the batch estimate, so taking the larger of the two keeps
/// the stopping rule from stopping on a batch estimate that happened to come out low.
pub fn rank_ar1_inflation(samples: &[f64]) -> f64 {
    let n = samples.len();
    if n < 3 {
        return 1.0;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| samples[a].total_cmp(&samples[b]));
    // Tied samples share their mean rank (a quantised clock gives many ties).
    let mut rank = vec![0.0; n];
    let center = (n as f64 - 1.0) / 2.0;
    let mut start = 0;
    while start < n {
        let mut end = start + 1;
        while end < n && samples[order[end]] == samples[order[start]] {
            end += 1;
        }
        let mid = (start + end - 1) as f64 / 2.0 - center;
        for &i in &order[start..end] {
            rank[i] = mid;
        }
        start = end;
    }
    let den: f64 = rank.iter().map(|r| r * r).sum();
    let num: f64 = rank.windows(2).map(|w| w[0] * w[1]).sum();
    if den <= 0.0 {
        return 1.0;
    }
    let r = (num / den).clamp(0.0, 0.99);
    (1.0 + r) / (1.0 - r)
}

/// P(|T| <= t) for Student's t with `df` (integer) degrees of freedom, in closed form
/// (Abramowitz & Stegun 26.7.3–4), so the Python peers compute the very same numbers.
pub fn t_two_sided_cdf(t: f64, df: usize) -> f64 {
    if t <= 0.0 {
        return 0.0;
    }
    let theta = (t / (df as f64).sqrt()).atan();
    let (s, c) = (theta.sin(), theta.cos());
    let (mut term, mut sum) = if df % 2 == 1 { (c, 0.0) } else { (1.0, 0.0) };
    let mut k = if df % 2 == 1 { 1 } else { 0 };
    // Terms of cos^k θ, k = 1, 3, .. (odd df) or 0, 2, .. (even df), up to df - 2.
    while k + 2 <= df {
        sum += term;
        term *= c * c * (k + 1) as f64 / (k + 2) as f64;
        k += 2;
    }
    if df % 2 == 1 {
        2.0 / std::f64::consts::PI * (theta + s * sum)
    } else {
        s * sum
    }
}

/// The two-sided `confidence` quantile of Student's t (bisection on [`t_two_sided_cdf`]).
pub fn t_quantile(confidence: f64, df: usize) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1e4f64);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if t_two_sided_cdf(mid, df) < confidence {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

fn normal_two_sided(z: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    2.0 * Normal::standard().cdf(z) - 1.0
}

fn normal_quantile(confidence: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::standard().inverse_cdf(0.5 + confidence / 2.0)
}

/// Relative half-width of the median's CI, (high - low) / (2 median); `None` when the interval
/// does not reach the confidence asked for.
pub fn relative_ci_half_width(samples: &[f64], confidence: f64) -> Option<f64> {
    let s = sorted(samples);
    if s.is_empty() {
        return None;
    }
    let ci = median_ci_with(samples, &s, confidence);
    let med = quantile_sorted(&s, 0.5);
    (ci.method != CiMethod::Range && med > 0.0).then(|| (ci.high - ci.low) / (2.0 * med))
}

/// The first and second halves of a series, set against each other.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Halves {
    /// CI of the first half's median.
    pub first: MedianCi,
    /// CI of the second half's median.
    pub second: MedianCi,
    /// Median of the first half.
    pub first_median: f64,
    /// Median of the second half.
    pub second_median: f64,
    /// Difference of the halves' medians in standard errors of that difference.
    pub z: f64,
}

impl Halves {
    /// Whether the halves' medians differ by more than [`DRIFT_Z`] standard errors.
    pub fn drifted(&self) -> bool {
        self.z > DRIFT_Z
    }

    /// Why the series counts as drifting, for `SamplingInfo::unstable`.
    pub fn reason(&self) -> String {
        format!(
            "drift: the second half's median is {:+.1}% from the first's ({:.1} standard errors)",
            (self.second_median / self.first_median - 1.0) * 100.0,
            self.z
        )
    }
}

/// Half against half (time order), each with its own dependence-aware CI; `None` below
/// [`MIN_DRIFT_N`] samples.
pub fn halves(samples: &[f64], confidence: f64) -> Option<Halves> {
    if samples.len() < MIN_DRIFT_N {
        return None;
    }
    let (a, b) = samples.split_at(samples.len() / 2);
    let one = |x: &[f64]| {
        let s = sorted(x);
        let ci = median_ci_with(x, &s, confidence);
        let se = (ci.high - ci.low) / (2.0 * ci.quantile);
        (ci, quantile_sorted(&s, 0.5), se)
    };
    let ((first, m1, se1), (second, m2, se2)) = (one(a), one(b));
    let se = (se1 * se1 + se2 * se2).sqrt();
    let z = match (m2 - m1).abs() {
        0.0 => 0.0,
        d if se > 0.0 => d / se,
        _ => f64::INFINITY,
    };
    Some(Halves {
        first,
        second,
        first_median: m1,
        second_median: m2,
        z,
    })
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

/// Everything a [`Stats`] holds, from raw per-iteration samples in the order they were taken.
/// `None` for an empty sample set.
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
    let ci = median_ci_with(samples, &s, confidence);
    Some(Stats {
        median_ns: median,
        ci_low_ns: ci.low,
        ci_high_ns: ci.high,
        confidence: ci.confidence,
        ci_method: ci.method,
        effective_samples: ci.effective_samples,
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

/// [`summarize`], then the half-against-half drift check. When the halves drifted, the CI is
/// widened to span both halves' intervals (the level moved over that range while it was measured),
/// so a drifting measurement never looks tight, and the reason comes back beside it.
pub fn summarize_checked(samples: &[f64], confidence: f64) -> Option<(Stats, Option<String>)> {
    let mut st = summarize(samples, confidence)?;
    let reason = halves(samples, confidence)
        .filter(Halves::drifted)
        .map(|h| {
            st.ci_low_ns = st.ci_low_ns.min(h.first.low).min(h.second.low);
            st.ci_high_ns = st.ci_high_ns.max(h.first.high).max(h.second.high);
            h.reason()
        })
        .or_else(|| wandered(&st, samples.len()));
    Some((st, reason))
}

/// A smooth drift also looks, inside each half, like samples that move together; when they move
/// together so much that even (min, max) cannot reach the confidence, the level was not steady.
fn wandered(st: &Stats, n: usize) -> Option<String> {
    let eff = st.effective_samples?;
    (n >= MIN_DRIFT_N && st.ci_method == CiMethod::Range).then(|| {
        format!(
            "wandering level: the {n} samples move together so much that they are worth \
             {eff:.1} independent ones, and (min, max) covers the median at only {:.0}%",
            st.confidence * 100.0
        )
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
    fn t_quantiles_match_the_tables() {
        assert!((t_quantile(0.95, 9) - 2.2622).abs() < 1e-3);
        assert!((t_quantile(0.95, 2) - 4.3027).abs() < 1e-3);
        assert!((t_quantile(0.99, 1) - 63.657).abs() < 1e-2);
        assert!((t_two_sided_cdf(1.96, 10_000) - 0.95).abs() < 1e-3);
    }

    #[test]
    fn dependence_widens_and_independence_does_not() {
        // A slow zig-zag (long runs above and below the median) against the same values shuffled
        // into alternation: same sorted samples, very different information.
        let slow: Vec<f64> = (0..200)
            .map(|i| f64::from((i / 25) % 2) + f64::from(i % 25) * 1e-3)
            .collect();
        let mut fast = slow.clone();
        fast.sort_by(f64::total_cmp);
        let fast: Vec<f64> = (0..200)
            .map(|i| fast[if i % 2 == 0 { i / 2 } else { 100 + i / 2 }])
            .collect();
        let a = median_ci(&slow, 0.95).unwrap();
        let b = median_ci(&fast, 0.95).unwrap();
        assert!(a.effective_samples.unwrap() < 40.0, "{a:?}");
        assert!(a.high - a.low > b.high - b.low);
        let exact = median_ci_sorted(&sorted(&fast), 0.95).unwrap();
        assert!(b.low <= exact.0 && b.high >= exact.1);
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
