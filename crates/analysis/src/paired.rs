//! Paired, interleaved A/B verdicts (issue 15's statistics): both builds run alternately in one
//! sitting, round after round, so slow drift of the machine moves both sides of a round together
//! and cancels in the round's ratio HEAD/BASE.
//!
//! The ratio's CI is hierarchical (Kalibera & Jones): resample rounds, then samples within each
//! chosen round's two sides; the statistic is the geometric mean of the rounds' median ratios.
//! Few rounds make that bootstrap too narrow, so the CI is never narrower than Student's t
//! interval over the rounds' log ratios (measured: an A/A of 3 rounds under load flagged 9 of 132
//! ids on the bootstrap alone).
//! A verdict compares the whole CI with ±threshold. Under adaptive rounds each look spends part
//! of the error rate (Bonferroni over the planned looks), so stopping when the CI first clears a
//! bound keeps the false-alarm rate at or below `alpha` overall.

use crate::stats::median;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

/// One round of one id: the samples (ns) BASE and HEAD took in that round's two processes.
#[derive(Debug, Clone, PartialEq)]
pub struct Round {
    /// BASE's samples in this round.
    pub base: Vec<f64>,
    /// HEAD's samples in this round.
    pub head: Vec<f64>,
}

/// The rule's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct PairedConfig {
    /// Smallest relative change that counts (0.01: ±1%, so a real 2% change is caught).
    pub threshold: f64,
    /// Overall false-alarm rate per id across every look.
    pub alpha: f64,
    /// Power the minimal detectable effect is quoted at.
    pub power: f64,
    /// Looks planned (the round cap, when every round is a look): each gets `alpha / looks`.
    pub looks: usize,
    /// Bootstrap resamples per CI.
    pub resamples: usize,
    /// Seed of the resampling, so a verdict is reproducible from its data.
    pub seed: u64,
}

impl Default for PairedConfig {
    fn default() -> Self {
        Self {
            threshold: 0.01,
            alpha: 0.01,
            power: 0.8,
            looks: 1,
            resamples: 2000,
            seed: 0x7e57,
        }
    }
}

/// What the data say about HEAD against BASE for one id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairedVerdict {
    /// The whole CI lies above 1 + threshold.
    Slower,
    /// The whole CI lies below 1 - threshold.
    Faster,
    /// The whole CI lies within ±threshold.
    Same,
    /// This machine's noise cannot resolve the threshold for this id: its MDE is above it.
    Insensitive,
    /// Not decided, with why.
    Ambiguous(String),
}

impl PairedVerdict {
    /// Whether more rounds cannot change it: `slower`, `faster` and `same` stop the adaptive
    /// rounds; `insensitive` and `ambiguous` ask for more (the MDE shrinks with rounds).
    pub fn is_decided(&self) -> bool {
        matches!(self, Self::Slower | Self::Faster | Self::Same)
    }
}

/// A paired result: ratio HEAD/BASE, its CI at this look's level, the MDE and the verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct PairedResult {
    /// Geometric mean over rounds of median(HEAD) / median(BASE).
    pub ratio: f64,
    /// The CI of `ratio` at confidence `1 - alpha / looks`.
    pub ci: (f64, f64),
    /// Minimal detectable effect (relative, e.g. 0.013) at `alpha / looks` and `power`.
    pub mde: f64,
    /// Rounds the result rests on.
    pub rounds: usize,
    /// The verdict.
    pub verdict: PairedVerdict,
}

/// Fewest rounds a verdict other than `ambiguous` rests on, and the first look: with Student's
/// t over the rounds, 3 rounds (2 degrees of freedom) resolve only huge changes.
pub const MIN_ROUNDS: usize = 4;

/// The rounds after which undecided ids are judged, for at most `max_rounds`: 4, 8, 16, … and
/// the cap itself. Looks double so a few of them cover many rounds, and each spends
/// `alpha / looks.len()`; stopping before the last look only spends less.
pub fn looks(max_rounds: usize) -> Vec<usize> {
    let max = max_rounds.max(MIN_ROUNDS);
    let mut at: Vec<usize> = std::iter::successors(Some(MIN_ROUNDS), |r| Some(r * 2))
        .take_while(|&r| r < max)
        .collect();
    at.push(max);
    at
}

/// Judges `rounds` of one id under `cfg`; `None` when no round has samples on both sides.
pub fn judge(rounds: &[Round], cfg: &PairedConfig) -> Option<PairedResult> {
    let usable: Vec<&Round> = rounds
        .iter()
        .filter(|r| !r.base.is_empty() && !r.head.is_empty())
        .collect();
    let ratio = log_ratio(usable.iter().copied().map(|r| (&r.base[..], &r.head[..])))?.exp();
    let level = cfg.alpha / cfg.looks.max(1) as f64;
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut boots: Vec<f64> = (0..cfg.resamples)
        .filter_map(|_| resample(&usable, &mut rng))
        .collect();
    boots.sort_by(f64::total_cmp);
    let boot_ci = (
        quantile(&boots, level / 2.0),
        quantile(&boots, 1.0 - level / 2.0),
    );
    let spread = RoundSpread::of(&usable);
    let (lo, hi) = spread.map_or(boot_ci, |s| s.widen(boot_ci, level));
    let ci = (lo.exp(), hi.exp());
    let mde = detectable_effect(&boots, spread, level, cfg.power);
    let verdict = verdict(ci, mde, usable.len(), cfg.threshold);
    Some(PairedResult {
        ratio,
        ci,
        mde,
        rounds: usable.len(),
        verdict,
    })
}

/// Mean over rounds of ln(median head / median base).
fn log_ratio<'a>(rounds: impl Iterator<Item = (&'a [f64], &'a [f64])>) -> Option<f64> {
    let logs: Vec<f64> = rounds
        .filter_map(|(b, h)| Some((median(h)? / median(b)?).ln()))
        .filter(|l| l.is_finite())
        .collect();
    (!logs.is_empty()).then(|| logs.iter().sum::<f64>() / logs.len() as f64)
}

/// One hierarchical resample: rounds with replacement, then each side's samples within them.
fn resample(rounds: &[&Round], rng: &mut ChaCha8Rng) -> Option<f64> {
    let pick = |xs: &[f64], rng: &mut ChaCha8Rng| -> Vec<f64> {
        (0..xs.len())
            .map(|_| xs[rng.random_range(0..xs.len())])
            .collect()
    };
    let chosen: Vec<(Vec<f64>, Vec<f64>)> = (0..rounds.len())
        .map(|_| {
            let r = rounds[rng.random_range(0..rounds.len())];
            (pick(&r.base, rng), pick(&r.head, rng))
        })
        .collect();
    log_ratio(chosen.iter().map(|(b, h)| (&b[..], &h[..])))
}

/// Linear-interpolated quantile of sorted `xs`.
fn quantile(xs: &[f64], q: f64) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (xs.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    xs[lo] + (xs[hi] - xs[lo]) * (pos - lo as f64)
}

/// The spread of the rounds' own log ratios: the units the rounds really are. With few rounds a
/// bootstrap over them is too narrow (3 rounds have 10 distinct resamples, and their spread
/// understates the rounds' variance), so the CI is at least Student's t interval over the rounds,
/// which is exact for normal round ratios at any count.
#[derive(Debug, Clone, Copy)]
struct RoundSpread {
    mean: f64,
    /// Standard error of the mean log ratio.
    se: f64,
    /// Degrees of freedom (rounds − 1).
    df: f64,
}

impl RoundSpread {
    fn of(rounds: &[&Round]) -> Option<Self> {
        let logs: Vec<f64> = rounds
            .iter()
            .filter_map(|r| Some((median(&r.head)? / median(&r.base)?).ln()))
            .filter(|l| l.is_finite())
            .collect();
        let n = logs.len() as f64;
        if n < 2.0 {
            return None;
        }
        let mean = logs.iter().sum::<f64>() / n;
        let var = logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (n - 1.0);
        Some(Self {
            mean,
            se: (var / n).sqrt(),
            df: n - 1.0,
        })
    }

    /// Student's t quantile at `p`.
    fn t(&self, p: f64) -> f64 {
        StudentsT::new(0.0, 1.0, self.df).map_or(f64::INFINITY, |t| t.inverse_cdf(p))
    }

    /// The bootstrap interval `(lo, hi)` (log scale), widened to the t interval where wider.
    fn widen(&self, (lo, hi): (f64, f64), level: f64) -> (f64, f64) {
        let half = self.t(1.0 - level / 2.0) * self.se;
        (lo.min(self.mean - half), hi.max(self.mean + half))
    }
}

/// The effect a two-sided test at `level` detects with `power`: (q_{1-level/2} + q_{power})
/// standard errors of the log ratio, as a relative change. The standard error is the larger of
/// the bootstrap's and the rounds' own, and q is Student's t over the rounds where known.
fn detectable_effect(boots: &[f64], spread: Option<RoundSpread>, level: f64, power: f64) -> f64 {
    let n = boots.len() as f64;
    if n < 2.0 {
        return f64::INFINITY;
    }
    let mean = boots.iter().sum::<f64>() / n;
    let boot_se = (boots.iter().map(|b| (b - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let (se, k) = match spread {
        Some(s) => (boot_se.max(s.se), s.t(1.0 - level / 2.0) + s.t(power)),
        None => {
            let z = Normal::standard();
            (
                boot_se,
                z.inverse_cdf(1.0 - level / 2.0) + z.inverse_cdf(power),
            )
        }
    };
    (k * se).exp() - 1.0
}

fn verdict(ci: (f64, f64), mde: f64, rounds: usize, threshold: f64) -> PairedVerdict {
    let (up, down) = (1.0 + threshold, 1.0 - threshold);
    if rounds < MIN_ROUNDS {
        return PairedVerdict::Ambiguous(format!(
            "{rounds} round(s); a verdict needs {MIN_ROUNDS}"
        ));
    }
    if ci.0 > up {
        PairedVerdict::Slower
    } else if ci.1 < down {
        PairedVerdict::Faster
    } else if mde > threshold {
        PairedVerdict::Insensitive
    } else if ci.0 >= down && ci.1 <= up {
        PairedVerdict::Same
    } else {
        PairedVerdict::Ambiguous(format!(
            "the CI {:+.1}%..{:+.1}% straddles ±{:.1}%",
            (ci.0 - 1.0) * 100.0,
            (ci.1 - 1.0) * 100.0,
            threshold * 100.0
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(base: f64, head: f64) -> Round {
        Round {
            base: vec![base; 5],
            head: vec![head; 5],
        }
    }

    #[test]
    fn noiseless_rounds_give_the_exact_ratio() {
        let rounds: Vec<Round> = (0..5)
            .map(|i| round(100.0 + f64::from(i), 110.0 + 1.1 * f64::from(i)))
            .collect();
        let r = judge(&rounds, &PairedConfig::default()).unwrap();
        assert!((r.ratio - 1.1).abs() < 1e-12, "{r:?}");
        assert_eq!(r.verdict, PairedVerdict::Slower);
    }

    #[test]
    fn looks_double_up_to_the_cap() {
        assert_eq!(looks(12), [4, 8, 12]);
        assert_eq!(looks(10), [4, 8, 10]);
        assert_eq!(looks(4), [4]);
        assert_eq!(looks(1), [4]);
        assert_eq!(looks(33), [4, 8, 16, 32, 33]);
    }

    #[test]
    fn too_few_rounds_are_ambiguous() {
        let r = judge(&[round(100.0, 200.0)], &PairedConfig::default()).unwrap();
        assert!(matches!(r.verdict, PairedVerdict::Ambiguous(_)), "{r:?}");
        assert!(judge(&[], &PairedConfig::default()).is_none());
    }
}
