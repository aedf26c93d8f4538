//! Two-sample statistics for comparing runs: bootstrap confidence intervals, rank and t tests, and
//! the Benjamini–Hochberg correction. Distributions come from statrs; resampling is seeded
//! (ChaCha8) so the same inputs always give the same verdict.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

pub use tensorbench_schema::stats::{quantile_sorted, summarize, tukey_outliers};

/// Median of unsorted data; `None` when empty.
pub fn median(samples: &[f64]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut v = samples.to_vec();
    Some(median_in_place(&mut v))
}

/// Median by selection (O(n)); reorders `v`. `v` must not be empty.
fn median_in_place(v: &mut [f64]) -> f64 {
    let n = v.len();
    let mid = n / 2;
    let (_, hi, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    let hi = *hi;
    if n % 2 == 1 {
        return hi;
    }
    // The largest of the lower half is the other middle element.
    let lo = v[..mid].iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo + hi) / 2.0
}

/// How to resample: the number of bootstrap replicates, the confidence level and the seed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bootstrap {
    pub resamples: usize,
    pub confidence: f64,
    pub seed: u64,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Self {
            resamples: 2000,
            confidence: 0.95,
            seed: 0x7e45_0b3e_4c11_0001,
        }
    }
}

impl Bootstrap {
    /// Percentile bootstrap CI of the median of `samples`. `None` for fewer than 2 samples.
    pub fn median_ci(&self, samples: &[f64]) -> Option<(f64, f64)> {
        if samples.len() < 2 {
            return None;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut buf = vec![0.0; samples.len()];
        let stats: Vec<f64> = (0..self.resamples)
            .map(|_| resampled_median(samples, &mut buf, &mut rng))
            .collect();
        Some(self.percentile_interval(stats))
    }

    /// Percentile bootstrap CI of `median(new) / median(old)`, resampling each side independently.
    /// `None` for fewer than 2 samples on a side or a non-positive median.
    pub fn ratio_ci(&self, old: &[f64], new: &[f64]) -> Option<(f64, f64)> {
        if old.len() < 2 || new.len() < 2 {
            return None;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let (mut bo, mut bn) = (vec![0.0; old.len()], vec![0.0; new.len()]);
        let mut ratios = Vec::with_capacity(self.resamples);
        for _ in 0..self.resamples {
            let mo = resampled_median(old, &mut bo, &mut rng);
            let mn = resampled_median(new, &mut bn, &mut rng);
            if mo <= 0.0 {
                return None;
            }
            ratios.push(mn / mo);
        }
        Some(self.percentile_interval(ratios))
    }

    fn percentile_interval(&self, mut stats: Vec<f64>) -> (f64, f64) {
        stats.sort_by(f64::total_cmp);
        let alpha = 1.0 - self.confidence;
        (
            quantile_sorted(&stats, alpha / 2.0),
            quantile_sorted(&stats, 1.0 - alpha / 2.0),
        )
    }
}

fn resampled_median(samples: &[f64], buf: &mut [f64], rng: &mut ChaCha8Rng) -> f64 {
    for slot in buf.iter_mut() {
        *slot = samples[rng.random_range(0..samples.len())];
    }
    median_in_place(buf)
}

/// Result of a two-sample test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestResult {
    /// The test statistic (z for Mann-Whitney, t for Welch).
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

/// Mann-Whitney U test, two-sided, by the normal approximation with the tie correction of the
/// variance (no continuity correction). Fits timing samples, which are rarely normal. `None` when a
/// side is empty.
pub fn mann_whitney_u(a: &[f64], b: &[f64]) -> Option<TestResult> {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|&x| (x, true))
        .chain(b.iter().map(|&x| (x, false)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let (rank_sum_a, tie_term) = rank_sum_with_ties(&all);
    let u = rank_sum_a - n1 * (n1 + 1.0) / 2.0;
    let n = n1 + n2;
    let mean = n1 * n2 / 2.0;
    let var = n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    if var <= 0.0 {
        // Every value tied: no evidence of a difference.
        return Some(TestResult {
            statistic: 0.0,
            p_value: 1.0,
        });
    }
    let z = (u - mean) / var.sqrt();
    Some(TestResult {
        statistic: z,
        p_value: two_sided_normal(z),
    })
}

/// Sum of the midranks of the `true`-tagged values, and Σ(t³ - t) over tie groups.
fn rank_sum_with_ties(sorted: &[(f64, bool)]) -> (f64, f64) {
    let (mut rank_sum, mut tie_term) = (0.0, 0.0);
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j + 1 < sorted.len() && sorted[j + 1].0 == sorted[i].0 {
            j += 1;
        }
        let midrank = (i + j) as f64 / 2.0 + 1.0;
        let count = (j - i + 1) as f64;
        tie_term += count.powi(3) - count;
        rank_sum += sorted[i..=j].iter().filter(|(_, is_a)| *is_a).count() as f64 * midrank;
        i = j + 1;
    }
    (rank_sum, tie_term)
}

fn two_sided_normal(z: f64) -> f64 {
    let std = Normal::standard();
    (2.0 * std.cdf(-z.abs())).min(1.0)
}

/// Welch's unequal-variance t-test, two-sided. `None` with fewer than 2 samples on a side.
pub fn welch_t(a: &[f64], b: &[f64]) -> Option<TestResult> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let (ma, va, na) = mean_var(a);
    let (mb, vb, nb) = mean_var(b);
    let (sa, sb) = (va / na, vb / nb);
    let se2 = sa + sb;
    if se2 <= 0.0 {
        let p = if ma == mb { 1.0 } else { 0.0 };
        return Some(TestResult {
            statistic: if ma == mb { 0.0 } else { f64::INFINITY },
            p_value: p,
        });
    }
    let t = (ma - mb) / se2.sqrt();
    // Welch–Satterthwaite degrees of freedom.
    let df = se2 * se2 / (sa * sa / (na - 1.0) + sb * sb / (nb - 1.0));
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    Some(TestResult {
        statistic: t,
        p_value: (2.0 * dist.cdf(-t.abs())).min(1.0),
    })
}

fn mean_var(x: &[f64]) -> (f64, f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var, n)
}

/// Benjamini–Hochberg adjusted p-values (q-values), in the input order: controls the false
/// discovery rate across all the comparisons of one suite.
pub fn benjamini_hochberg(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| p_values[i].total_cmp(&p_values[j]));
    let mut adjusted = vec![0.0; m];
    let mut running_min = 1.0f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        let q = p_values[i] * m as f64 / (rank + 1) as f64;
        running_min = running_min.min(q);
        adjusted[i] = running_min.min(1.0);
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_distr_free::normal_samples;

    /// Seeded normal samples by Box–Muller over ChaCha8 (test data only).
    mod rand_distr_free {
        use rand::{Rng, SeedableRng};
        use rand_chacha::ChaCha8Rng;
        pub fn normal_samples(n: usize, mean: f64, sd: f64, seed: u64) -> Vec<f64> {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..n)
                .map(|_| {
                    let (u1, u2): (f64, f64) = (rng.random(), rng.random());
                    let z = (-2.0 * (1.0 - u1).ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                    mean + sd * z
                })
                .collect()
        }
    }

    #[test]
    fn median_of_even_and_odd() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn bootstrap_median_ci_brackets_truth_and_is_deterministic() {
        let x = normal_samples(400, 100.0, 5.0, 1);
        let b = Bootstrap::default();
        let (lo, hi) = b.median_ci(&x).unwrap();
        assert!(lo < 100.0 && hi > 100.0, "({lo}, {hi})");
        assert!(hi - lo < 2.0, "({lo}, {hi})");
        assert_eq!(b.median_ci(&x), Some((lo, hi)));
    }

    #[test]
    fn bootstrap_ratio_ci_covers_planted_ratio() {
        let old = normal_samples(300, 100.0, 2.0, 2);
        let new = normal_samples(300, 110.0, 2.2, 3);
        let (lo, hi) = Bootstrap::default().ratio_ci(&old, &new).unwrap();
        assert!(
            lo < 1.1 && hi > 1.1 && lo > 1.08 && hi < 1.12,
            "({lo}, {hi})"
        );
    }

    #[test]
    fn mann_whitney_matches_scipy() {
        // scipy.stats.mannwhitneyu([1,2,3,4,5],[6,7,8,9,10], use_continuity=False,
        // method="asymptotic") gives U=0, p=0.00902344.
        let r = mann_whitney_u(&[1., 2., 3., 4., 5.], &[6., 7., 8., 9., 10.]).unwrap();
        assert!((r.p_value - 0.009_023_4).abs() < 1e-6, "{}", r.p_value);
        // With ties: [1,2,2,3] vs [2,3,3,4]: U=3, tie-corrected p=0.129155 (same scipy call).
        let r = mann_whitney_u(&[1., 2., 2., 3.], &[2., 3., 3., 4.]).unwrap();
        assert!((r.p_value - 0.129_155_01).abs() < 1e-6, "{}", r.p_value);
        assert_eq!(mann_whitney_u(&[1.0; 5], &[1.0; 5]).unwrap().p_value, 1.0);
    }

    #[test]
    fn welch_matches_scipy() {
        // scipy.stats.ttest_ind([1,2,3,4,5],[2,4,6,8,11], equal_var=False):
        // t=-1.866278, p=0.114990 (df 5.5733).
        let r = welch_t(&[1., 2., 3., 4., 5.], &[2., 4., 6., 8., 11.]).unwrap();
        assert!((r.statistic + 1.866_277_9).abs() < 1e-6, "{}", r.statistic);
        assert!((r.p_value - 0.114_990_16).abs() < 1e-6, "{}", r.p_value);
        assert!(welch_t(&[1.0], &[2.0, 3.0]).is_none());
    }

    #[test]
    fn bh_matches_reference() {
        // R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "BH") = 0.02 0.04 0.04 0.02
        let q = benjamini_hochberg(&[0.01, 0.04, 0.03, 0.005]);
        let want = [0.02, 0.04, 0.04, 0.02];
        for (a, b) in q.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{q:?}");
        }
        assert!(benjamini_hochberg(&[]).is_empty());
    }

    #[test]
    fn tests_see_a_shift_and_not_its_absence() {
        let a = normal_samples(100, 100.0, 1.0, 4);
        let b = normal_samples(100, 101.0, 1.0, 5);
        let a2 = normal_samples(100, 100.0, 1.0, 6);
        assert!(mann_whitney_u(&a, &b).unwrap().p_value < 1e-6);
        assert!(welch_t(&a, &b).unwrap().p_value < 1e-6);
        assert!(mann_whitney_u(&a, &a2).unwrap().p_value > 0.01);
    }
}
