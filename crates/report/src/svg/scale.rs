//! Axes: linear or logarithmic maps from data to pixels, with candidate tick sets from dense to
//! sparse so the frame can pick the densest one whose labels do not overlap.

/// Linear or base-10 logarithmic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleKind {
    Linear,
    Log,
}

/// A map from a data interval to a pixel interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axis {
    pub kind: ScaleKind,
    pub lo: f64,
    pub hi: f64,
    /// Ticks only at whole numbers (thread counts, run numbers).
    pub integer: bool,
    p0: f64,
    p1: f64,
}

/// Largest magnitude an axis reaches: data beyond it (up to `f64::MAX`) is drawn at the edge, so
/// that spans, padding and tick steps never overflow to infinity.
const LIMIT: f64 = 1e300;
/// Smallest positive bound of a log axis (subnormals have no usable logarithm spacing).
const LOG_FLOOR: f64 = 1e-300;
/// Most ticks one candidate set may hold; a set that would hold more is dropped.
const MAX_TICKS: f64 = 1000.0;

/// `v` held inside ±[`LIMIT`]; `fallback` when it is not a number.
fn clamp_finite(v: f64, fallback: f64) -> f64 {
    if v.is_nan() {
        fallback
    } else {
        v.clamp(-LIMIT, LIMIT)
    }
}

/// A non-empty linear domain: finite, inside ±[`LIMIT`], `lo < hi`.
fn linear_domain(lo: f64, hi: f64) -> (f64, f64) {
    let (lo, hi) = (clamp_finite(lo, 0.0), clamp_finite(hi, 1.0));
    if lo < hi {
        (lo, hi)
    } else if lo == hi {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - pad, hi + pad)
    } else {
        (hi, lo)
    }
}

/// A non-empty log domain: inside [[`LOG_FLOOR`], [`LIMIT`]], `lo < hi`.
fn log_domain(lo: f64, hi: f64) -> (f64, f64) {
    let lo = if lo.is_nan() {
        1.0
    } else {
        lo.clamp(LOG_FLOOR, LIMIT / 10.0)
    };
    let hi = if hi.is_nan() {
        lo * 10.0
    } else {
        hi.clamp(LOG_FLOOR, LIMIT)
    };
    if lo < hi {
        (lo, hi)
    } else {
        (lo, (lo * 10.0).min(LIMIT).max(lo * 1.5))
    }
}

/// Data spanning at least this ratio (max / min) gets a log scale from [`Axis::auto`].
const LOG_WHEN_RATIO: f64 = 20.0;

impl Axis {
    /// A log scale when the (positive) data spans more than a decade or so, else linear; padded so
    /// markers do not sit on the frame.
    pub fn auto(min: f64, max: f64) -> Self {
        if min > 0.0 && max.is_finite() && max / min >= LOG_WHEN_RATIO {
            Self::log(min, max)
        } else {
            Self::linear(min, max)
        }
    }

    /// A log axis over [min, max], padded by a quarter on each side.
    pub fn log(min: f64, max: f64) -> Self {
        let (min, max) = positive_span(min, max);
        let (lo, hi) = log_domain(min / 1.25, max * 1.25);
        Self {
            kind: ScaleKind::Log,
            lo,
            hi,
            integer: false,
            p0: 0.0,
            p1: 1.0,
        }
    }

    /// A linear axis over [min, max] rounded out to a nice step; starts at zero when all data is
    /// non-negative and zero is not far (rates are honest from zero).
    pub fn linear(min: f64, max: f64) -> Self {
        let (mut min, mut max) = if min.is_finite() && max.is_finite() {
            // Room for the rounding out below: it must not overflow either.
            (min.clamp(-LIMIT, LIMIT), max.clamp(-LIMIT, LIMIT))
        } else {
            (0.0, 1.0)
        };
        if min > max {
            std::mem::swap(&mut min, &mut max);
        }
        if min >= 0.0 && min < max * 0.6 {
            min = 0.0;
        }
        if max - min <= f64::EPSILON * max.abs().max(1.0) {
            let pad = if max == 0.0 { 1.0 } else { max.abs() * 0.1 };
            min -= pad;
            max += pad;
        }
        let step = nice_step((max - min) / 5.0);
        let (lo, hi) = linear_domain((min / step).floor() * step, (max / step).ceil() * step);
        Self {
            kind: ScaleKind::Linear,
            lo,
            hi,
            integer: false,
            p0: 0.0,
            p1: 1.0,
        }
    }

    /// A linear axis with exactly this domain (made finite and non-empty when it is not).
    pub fn linear_exact(lo: f64, hi: f64) -> Self {
        let (lo, hi) = linear_domain(lo, hi);
        Self {
            kind: ScaleKind::Linear,
            lo,
            hi,
            integer: false,
            p0: 0.0,
            p1: 1.0,
        }
    }

    /// A log axis with exactly this domain (made positive, finite and non-empty when it is not).
    pub fn log_exact(lo: f64, hi: f64) -> Self {
        let (lo, hi) = log_domain(lo, hi);
        Self {
            kind: ScaleKind::Log,
            lo,
            hi,
            integer: false,
            p0: 0.0,
            p1: 1.0,
        }
    }

    /// The same axis with ticks at whole numbers only.
    pub fn integer_ticks(self) -> Self {
        Self {
            integer: true,
            ..self
        }
    }

    /// The same axis drawn from pixel `p0` (at `lo`) to `p1` (at `hi`).
    pub fn with_range(self, p0: f64, p1: f64) -> Self {
        Self { p0, p1, ..self }
    }

    /// Where `v` falls, 0 at `lo` and 1 at `hi`; values far off the axis (or not numbers) are held a
    /// far outside it, so a pixel is always a finite number.
    fn t(&self, v: f64) -> f64 {
        let t = match self.kind {
            ScaleKind::Linear => (clamp_finite(v, self.lo) - self.lo) / (self.hi - self.lo),
            ScaleKind::Log => {
                let v = if v.is_nan() {
                    self.lo
                } else {
                    v.clamp(LOG_FLOOR, LIMIT)
                };
                (v.ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
            }
        };
        if t.is_finite() {
            t.clamp(-1e6, 1e6)
        } else {
            0.0
        }
    }

    /// The pixel of data value `v`.
    pub fn map(&self, v: f64) -> f64 {
        self.p0 + self.t(v) * (self.p1 - self.p0)
    }

    /// The pixel of `v`, held inside the axis (for values drawn at the edge when off-scale).
    pub fn map_clamped(&self, v: f64) -> f64 {
        self.p0 + self.t(v).clamp(0.0, 1.0) * (self.p1 - self.p0)
    }

    pub fn contains(&self, v: f64) -> bool {
        v >= self.lo && v <= self.hi
    }

    /// Candidate tick sets inside the domain, densest first.
    pub fn tick_sets(&self) -> Vec<Vec<f64>> {
        match self.kind {
            ScaleKind::Linear => {
                linear_tick_sets(self.lo, self.hi, if self.integer { 1.0 } else { 0.0 })
            }
            ScaleKind::Log => log_tick_sets(self.lo, self.hi),
        }
    }
}

fn positive_span(min: f64, max: f64) -> (f64, f64) {
    let min = if min > 0.0 && min.is_finite() {
        min
    } else {
        1.0
    };
    let max = if max.is_finite() && max > min {
        max
    } else {
        min * 10.0
    };
    (min, max)
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let base = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * base)
        .find(|s| *s >= raw * 0.999)
        .unwrap_or(10.0 * base)
}

/// Tick sets of 10 down to 2 intervals, with steps of at least `min_step`.
fn linear_tick_sets(lo: f64, hi: f64, min_step: f64) -> Vec<Vec<f64>> {
    [10.0, 6.0, 4.0, 3.0, 2.0]
        .into_iter()
        .map(|n| {
            let step = nice_step((hi - lo) / n).max(min_step);
            let (first, last) = ((lo / step).ceil(), (hi / step).floor());
            // A domain the axis constructors did not vet (or overflowing spans) must not ask for
            // billions of ticks.
            if !(first.is_finite() && last.is_finite()) || last - first > MAX_TICKS {
                return Vec::new();
            }
            (first as i64..=last as i64)
                .map(|i| {
                    let v = i as f64 * step;
                    // Snap values like 0.30000000000000004.
                    (v / step).round() * step
                })
                .collect()
        })
        .collect()
}

fn log_tick_sets(lo: f64, hi: f64) -> Vec<Vec<f64>> {
    let (lo, hi) = log_domain(lo, hi);
    let first = lo.log10().floor() as i32;
    let last = hi.log10().ceil() as i32;
    let within = |v: &f64| *v >= lo * 0.999_999 && *v <= hi * 1.000_001;
    let with = |mults: &[f64], every: i32| -> Vec<f64> {
        (first..=last)
            .filter(|e| e.rem_euclid(every) == 0)
            .flat_map(|e| mults.iter().map(move |m| m * 10f64.powi(e)))
            .filter(within)
            .collect()
    };
    let mut sets = vec![
        with(&[1.0, 2.0, 5.0], 1),
        with(&[1.0, 3.0], 1),
        with(&[1.0], 1),
        with(&[1.0], 2),
        with(&[1.0], 3),
    ];
    // A narrow log axis may hold no decade at all: fall back to 1-2-5 only.
    sets.retain(|s| s.len() >= 2);
    if sets.is_empty() {
        sets.push(linear_tick_sets(lo, hi, 0.0).swap_remove(2));
    }
    sets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_picks_log_for_wide_positive_data() {
        assert_eq!(Axis::auto(1.0, 1e4).kind, ScaleKind::Log);
        assert_eq!(Axis::auto(1.0, 5.0).kind, ScaleKind::Linear);
        assert_eq!(Axis::auto(-1.0, 1e4).kind, ScaleKind::Linear);
    }

    #[test]
    fn linear_domain_is_rounded_and_from_zero() {
        let a = Axis::linear(3.0, 97.0);
        assert_eq!((a.lo, a.hi), (0.0, 100.0));
        let b = Axis::linear(90.0, 97.0);
        assert!(b.lo > 0.0 && b.lo <= 90.0 && b.hi >= 97.0);
    }

    #[test]
    fn map_is_monotonic_and_log_even_per_decade() {
        let a = Axis::log_exact(1.0, 1000.0).with_range(0.0, 300.0);
        assert!((a.map(10.0) - 100.0).abs() < 1e-9);
        assert!((a.map(100.0) - 200.0).abs() < 1e-9);
        let y = Axis::linear_exact(0.0, 10.0).with_range(200.0, 0.0);
        assert!((y.map(5.0) - 100.0).abs() < 1e-9);
        assert_eq!(y.map_clamped(20.0), 0.0);
    }

    #[test]
    fn log_ticks_go_from_dense_to_decades() {
        let a = Axis::log_exact(1.0, 1e6);
        let sets = a.tick_sets();
        assert!(sets[0].contains(&2.0) && sets[0].contains(&5e5));
        assert!(
            sets.iter()
                .any(|s| s == &vec![1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6])
        );
        let sparse = sets.last().unwrap();
        assert!(sparse.len() < 7);
    }

    #[test]
    fn integer_axis_has_whole_ticks() {
        let a = Axis::linear_exact(0.0, 3.0).integer_ticks();
        assert!(a.tick_sets().iter().flatten().all(|v| v.fract() == 0.0));
    }

    #[test]
    fn extreme_and_non_finite_domains_stay_finite() {
        let cases = [
            (1.5e308, 1.7e308),
            (-1.5e308, 1.5e308),
            (-f64::MAX, f64::MAX),
            (5e-324, 1.5e308),
            (f64::NAN, 1.0),
            (1.0, f64::INFINITY),
            (f64::NEG_INFINITY, f64::NAN),
            (-1e300, -5e-324),
            (0.0, 0.0),
            (3.0, 3.0),
            (10.0, -10.0),
        ];
        for (lo, hi) in cases {
            for a in [
                Axis::auto(lo, hi),
                Axis::linear(lo, hi),
                Axis::log(lo, hi),
                Axis::linear_exact(lo, hi),
                Axis::log_exact(lo, hi),
            ] {
                assert!(
                    a.lo.is_finite() && a.hi.is_finite() && a.lo < a.hi,
                    "{lo} {hi}: {a:?}"
                );
                let sets = a.tick_sets();
                // At most 1001 linear ticks, or 1-2-5 over the 600 decades of a log axis.
                assert!(sets.iter().all(|s| s.len() <= 1810), "{lo} {hi}");
                let a = a.with_range(0.0, 100.0);
                for v in [lo, hi, f64::NAN, f64::INFINITY, -f64::MAX, 0.0, 5e-324] {
                    assert!(a.map(v).is_finite(), "{lo} {hi} {v}: {a:?}");
                    assert!(a.map_clamped(v).is_finite());
                }
            }
        }
    }

    #[test]
    fn narrow_log_axis_still_has_ticks() {
        let a = Axis::log_exact(3.0, 7.0);
        assert!(a.tick_sets().iter().all(|s| s.len() >= 2));
    }
}
