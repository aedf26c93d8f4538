//! Paired, interleaved A/B verdicts (issue 15's statistics): both builds run alternately in one
//! sitting, round after round, so slow drift of the machine moves both sides of a round together
//! and cancels in the round's ratio HEAD/BASE.
//!
//! Each round's ratio is median(HEAD) / median(BASE) over that round's samples, so it carries
//! the samples' noise; rounds are fresh processes in a drawn order, so they are independent
//! units. The ratio is their 20%-trimmed geometric mean, and its CI is Yuen's trimmed-mean t
//! interval over the rounds (Student's t below 5 rounds, where nothing is trimmed).
//!
//! This replaced a hierarchical bootstrap (Kalibera & Jones: rounds, then samples within them),
//! for two measured reasons: with few rounds it was too narrow (an A/A of 3 rounds under load
//! flagged 9 of 132 ids), and round ratios here are heavy-tailed (a round in which one side was
//! stolen from lands 10-30% off), which made resampled rounds far too wide (median detectable
//! effect ±13% over 12 rounds of the quick suite).
//! A verdict compares the whole CI with ±threshold. Under adaptive rounds each look spends part
//! of the error rate (Bonferroni over the planned looks), so stopping when the CI first clears a
//! bound keeps the false-alarm rate at or below `alpha` overall.

use crate::stats::median;
use statrs::distribution::{ContinuousCDF, StudentsT};

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
}

impl Default for PairedConfig {
    fn default() -> Self {
        Self {
            threshold: 0.01,
            alpha: 0.01,
            power: 0.8,
            looks: 1,
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
    /// 20%-trimmed geometric mean over rounds of median(HEAD) / median(BASE).
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
    let (ci, mde) = match RoundSpread::of(&usable) {
        Some(s) => (s.interval(level), s.detectable_effect(level, cfg.power)),
        None => ((0.0, f64::INFINITY), f64::INFINITY),
    };
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
    let mut logs = round_logs(rounds);
    (!logs.is_empty()).then(|| trimmed_mean(&mut logs))
}

/// Each round's ln(median head / median base).
fn round_logs<'a>(rounds: impl Iterator<Item = (&'a [f64], &'a [f64])>) -> Vec<f64> {
    rounds
        .filter_map(|(b, h)| Some((median(h)? / median(b)?).ln()))
        .filter(|l| l.is_finite())
        .collect()
}

/// Share of rounds trimmed from each end. Round ratios are heavy-tailed on shared machines (a
/// round in which one side's process was stolen from lands 10–30% off), and one such round
/// moves a mean and its spread far more than the other rounds' agreement can pull back; Yuen's
/// 20% trimmed mean keeps its interval valid with the tails cut.
const TRIM: f64 = 0.2;

/// Rounds trimmed from each end of `n`.
fn trimmed(n: usize) -> usize {
    (TRIM * n as f64).floor() as usize
}

/// The mean of `xs` without its `trimmed(n)` lowest and highest values (sorts `xs`).
fn trimmed_mean(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let g = trimmed(xs.len());
    let kept = &xs[g..xs.len() - g];
    kept.iter().sum::<f64>() / kept.len() as f64
}

/// The spread of the rounds' own log ratios, the units the rounds really are: Yuen's trimmed
/// mean, its standard error and degrees of freedom.
#[derive(Debug, Clone, Copy)]
struct RoundSpread {
    mean: f64,
    /// Standard error of the mean log ratio.
    se: f64,
    /// Degrees of freedom (kept rounds − 1).
    df: f64,
}

impl RoundSpread {
    /// Yuen's trimmed-mean interval: the trimmed mean, the winsorized variance, and
    /// rounds − 2g − 1 degrees of freedom (Student's t when nothing is trimmed).
    fn of(rounds: &[&Round]) -> Option<Self> {
        let mut logs = round_logs(rounds.iter().map(|r| (&r.base[..], &r.head[..])));
        let n = logs.len();
        let g = trimmed(n);
        let h = n - 2 * g;
        if h < 2 {
            return None;
        }
        let mean = trimmed_mean(&mut logs);
        let (lo, hi) = (logs[g], logs[n - 1 - g]);
        let wins: Vec<f64> = logs.iter().map(|l| l.clamp(lo, hi)).collect();
        let wmean = wins.iter().sum::<f64>() / n as f64;
        let wvar = wins.iter().map(|l| (l - wmean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
        Some(Self {
            mean,
            se: ((n as f64 - 1.0) * wvar / (h as f64 * (h as f64 - 1.0))).sqrt(),
            df: h as f64 - 1.0,
        })
    }

    /// Student's t quantile at `p`.
    fn t(&self, p: f64) -> f64 {
        StudentsT::new(0.0, 1.0, self.df).map_or(f64::INFINITY, |t| t.inverse_cdf(p))
    }

    /// The interval of the ratio at `level` (two-sided).
    fn interval(&self, level: f64) -> (f64, f64) {
        let half = self.t(1.0 - level / 2.0) * self.se;
        ((self.mean - half).exp(), (self.mean + half).exp())
    }

    /// The effect a two-sided test at `level` detects with `power`: (t_{1-level/2} + t_{power})
    /// standard errors of the log ratio, as a relative change.
    fn detectable_effect(&self, level: f64, power: f64) -> f64 {
        ((self.t(1.0 - level / 2.0) + self.t(power)) * self.se).exp() - 1.0
    }
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
