"""Summary statistics of one sample set, computed exactly as tensorbench-core's `stats.rs` does.

Pure Python (no NumPy) so the sampler works, and is tested, whatever frameworks are installed.
A Rust test in `xtask/src/peers.rs` feeds the same samples to both and compares the results.
"""

from __future__ import annotations

import math
from bisect import insort
from functools import lru_cache
from statistics import NormalDist
from typing import Optional, Sequence

_LN2 = math.log(2.0)

# The same constants as `stats.rs`.
BATCHES = 10
MIN_DEPENDENT_N = 2 * BATCHES
MIN_DRIFT_N = 2 * MIN_DEPENDENT_N
DRIFT_Z = 3.0


def quantile_sorted(values: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile of sorted data (type 7, the R and NumPy default)."""
    if not values:
        raise ValueError("quantile of an empty sample")
    pos = min(max(q, 0.0), 1.0) * (len(values) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def _binomial_half_cdf(n: int, j: int) -> float:
    """P(B <= j) for B ~ Binomial(n, 1/2), summed downward from j in log space.

    Terms shrink by the factor i / (n - i + 1) going down, so the loop stops once they no longer
    change the sum: O(sqrt n) terms near the median, few in the tails.
    """
    if j < 0:
        return 0.0
    if j >= n:
        return 1.0
    log_pmf = math.lgamma(n + 1) - math.lgamma(j + 1) - math.lgamma(n - j + 1) - n * _LN2
    term, total, i = math.exp(log_pmf), 0.0, j
    while i >= 0 and term > 0.0:
        total += term
        if term < total * 1e-17:
            break
        term *= i / (n - i + 1)
        i -= 1
    return total


@lru_cache(maxsize=4096)
def median_ci_rank(n: int, confidence: float) -> int:
    """The 1-based rank j of the median's CI [x_(j), x_(n+1-j)]; 0 when n is too small.

    Same rule as the Rust sampler: the largest j <= n/2 with 2 P(B <= j-1) <= alpha. The CDF is
    monotone in j, so a binary search finds it.
    """
    alpha = 1.0 - confidence
    lo, hi = 0, n // 2  # invariant: the condition holds for every k < lo
    while lo < hi:
        mid = (lo + hi) // 2
        if 2.0 * _binomial_half_cdf(n, mid) <= alpha:
            lo = mid + 1
        else:
            hi = mid
    return lo


def median_ci_sorted(values: Sequence[float], confidence: float) -> Optional[tuple[float, float]]:
    """Distribution-free confidence interval of the median from order statistics.

    The number of samples below the true median is Binomial(n, 1/2), so [x_(j), x_(n+1-j)] covers it
    with a probability known without any assumption about the shape of timing noise.
    Returns None when n is too small to reach the confidence asked for.
    """
    n = len(values)
    j = median_ci_rank(n, confidence) if n > 0 else 0
    if j == 0:
        return None
    return values[j - 1], values[n - j]


def t_two_sided_cdf(t: float, df: int) -> float:
    """P(|T| <= t) for Student's t with integer df, in closed form (Abramowitz & Stegun 26.7.3-4),
    step for step as `stats.rs` computes it."""
    if t <= 0.0:
        return 0.0
    theta = math.atan(t / math.sqrt(df))
    s, c = math.sin(theta), math.cos(theta)
    odd = df % 2 == 1
    term, total, k = (c, 0.0, 1) if odd else (1.0, 0.0, 0)
    while k + 2 <= df:
        total += term
        term *= c * c * (k + 1) / (k + 2)
        k += 2
    return 2.0 / math.pi * (theta + s * total) if odd else s * total


@lru_cache(maxsize=64)
def t_quantile(confidence: float, df: int) -> float:
    """The two-sided `confidence` quantile of Student's t (bisection, as in Rust)."""
    lo, hi = 0.0, 1e4
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if t_two_sided_cdf(mid, df) < confidence:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _normal_quantile(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def _normal_two_sided(z: float) -> float:
    return 2.0 * NormalDist().cdf(z) - 1.0


def indicator_inflation(samples: Sequence[float], median: float) -> float:
    """Long-run variance of the below-median indicator (ties one half) over its independent value,
    by non-overlapping batch means over BATCHES batches; at least 1."""
    n = len(samples)
    ind = [1.0 if x < median else 0.5 if x == median else 0.0 for x in samples]
    p = sum(ind) / n
    iid = p * (1.0 - p)
    if n < BATCHES or iid <= 0.0:
        return 1.0
    acc = 0.0
    for k in range(BATCHES):
        batch = ind[k * n // BATCHES:(k + 1) * n // BATCHES]
        mean = sum(batch) / len(batch)
        acc += len(batch) * (mean - p) ** 2
    return max(acc / (BATCHES - 1) / iid, 1.0)


def rank_ar1_inflation(samples: Sequence[float]) -> float:
    """(1 + r) / (1 - r) from the lag-1 autocorrelation r of the samples' mid-ranks; at least 1."""
    n = len(samples)
    if n < 3:
        return 1.0
    order = sorted(range(n), key=lambda i: samples[i])
    rank = [0.0] * n
    center = (n - 1.0) / 2.0
    start = 0
    while start < n:
        end = start + 1
        while end < n and samples[order[end]] == samples[order[start]]:
            end += 1
        mid = (start + end - 1) / 2.0 - center
        for i in order[start:end]:
            rank[i] = mid
        start = end
    den = sum(r * r for r in rank)
    if den <= 0.0:
        return 1.0
    num = sum(rank[i] * rank[i + 1] for i in range(n - 1))
    r = min(max(num / den, 0.0), 0.99)
    return (1.0 + r) / (1.0 - r)


def _range(s: Sequence[float], reached: float, asked: float) -> dict:
    confidence = min(reached, asked)
    return {"low": s[0], "high": s[-1], "confidence": confidence, "method": "range",
            "effective_samples": None, "quantile": _normal_quantile(max(confidence, 0.5))}


def median_ci(samples: Sequence[float], confidence: float, s: Optional[Sequence[float]] = None) -> Optional[dict]:
    """CI of the median of `samples` in the order they were taken, robust to serial dependence:
    `stats.rs`'s `median_ci`, number for number (see docs/METHODOLOGY.md)."""
    if not samples:
        return None
    s = sorted(samples) if s is None else s
    n = len(s)
    exact = median_ci_rank(n, confidence)
    if n < MIN_DEPENDENT_N:
        if exact == 0:
            return _range(s, 1.0 - 0.5 ** (n - 1), confidence)
        return {"low": s[exact - 1], "high": s[n - exact], "confidence": confidence,
                "method": "order_statistic", "effective_samples": None,
                "quantile": _normal_quantile(confidence)}
    batch = (t_quantile(confidence, BATCHES - 1), indicator_inflation(samples, quantile_sorted(s, 0.5)))
    ar1 = (_normal_quantile(confidence), rank_ar1_inflation(samples))
    q, inflation = batch if batch[0] * math.sqrt(batch[1]) >= ar1[0] * math.sqrt(ar1[1]) else ar1
    spread = math.sqrt(n * inflation) / 2.0
    j = math.floor(n / 2.0 - q * spread)
    effective = n / inflation
    if j < 1.0:
        reached = min(t_two_sided_cdf((n / 2.0 - 1.0) / spread, BATCHES - 1),
                      _normal_two_sided((n / 2.0 - 1.0) / spread))
        ci = _range(s, reached, confidence)
        ci["effective_samples"] = effective
        return ci
    j = min(int(j), max(exact, 1))
    return {"low": s[j - 1], "high": s[n - j], "confidence": confidence, "method": "batch_means",
            "effective_samples": effective, "quantile": q}


def relative_ci_half_width(samples: Sequence[float], confidence: float) -> Optional[float]:
    """(high - low) / (2 median) of `median_ci`; None when it does not reach `confidence`."""
    if not samples:
        return None
    s = sorted(samples)
    ci = median_ci(samples, confidence, s)
    median = quantile_sorted(s, 0.5)
    if ci["method"] == "range" or median <= 0.0:
        return None
    return (ci["high"] - ci["low"]) / (2.0 * median)


def halves(samples: Sequence[float], confidence: float) -> Optional[dict]:
    """First half against second half (time order); None below MIN_DRIFT_N samples."""
    if len(samples) < MIN_DRIFT_N:
        return None
    h = len(samples) // 2

    def one(x):
        s = sorted(x)
        ci = median_ci(x, confidence, s)
        return ci, quantile_sorted(s, 0.5), (ci["high"] - ci["low"]) / (2.0 * ci["quantile"])

    (first, m1, se1), (second, m2, se2) = one(samples[:h]), one(samples[h:])
    se = math.sqrt(se1 * se1 + se2 * se2)
    d = abs(m2 - m1)
    z = 0.0 if d == 0.0 else (d / se if se > 0.0 else math.inf)
    return {"first": first, "second": second, "first_median": m1, "second_median": m2, "z": z}


def drift_reason(h: dict) -> str:
    return ("drift: the second half's median is {:+.1f}% from the first's ({:.1f} standard errors)"
            .format((h["second_median"] / h["first_median"] - 1.0) * 100.0, h["z"]))


def relative_ci_half_width_sorted(values: Sequence[float], confidence: float) -> Optional[float]:
    """(high - low) / (2 * median) of the median's CI; None when it cannot be formed."""
    ci = median_ci_sorted(values, confidence)
    if ci is None:
        return None
    median = quantile_sorted(values, 0.5)
    return (ci[1] - ci[0]) / (2.0 * median) if median > 0.0 else None


def tukey_outliers(values: Sequence[float]) -> dict:
    """Tukey's fences: mild beyond 1.5 IQR from the quartiles, severe beyond 3 IQR."""
    counts = {"low_severe": 0, "low_mild": 0, "high_mild": 0, "high_severe": 0}
    s = sorted(values)
    if len(s) < 4:
        return counts
    q1, q3 = quantile_sorted(s, 0.25), quantile_sorted(s, 0.75)
    iqr = q3 - q1
    for x in s:
        if x < q1 - 3.0 * iqr:
            counts["low_severe"] += 1
        elif x < q1 - 1.5 * iqr:
            counts["low_mild"] += 1
        elif x > q3 + 3.0 * iqr:
            counts["high_severe"] += 1
        elif x > q3 + 1.5 * iqr:
            counts["high_mild"] += 1
    return counts


def summarize(samples: Sequence[float], confidence: float) -> Optional[dict]:
    """The `Stats` record of the run-file schema, from per-iteration samples in ns, in the order
    they were taken."""
    if not samples:
        return None
    s = sorted(samples)
    n = len(s)
    mean = sum(s) / n
    var = sum((x - mean) ** 2 for x in s) / (n - 1) if n > 1 else 0.0
    median = quantile_sorted(s, 0.5)
    deviations = sorted(abs(x - median) for x in s)
    ci = median_ci(list(samples), confidence, s)
    out = {
        "median_ns": median,
        "ci_low_ns": ci["low"],
        "ci_high_ns": ci["high"],
        "confidence": ci["confidence"],
        "ci_method": ci["method"],
        "mean_ns": mean,
        "std_ns": math.sqrt(var),
        "mad_ns": quantile_sorted(deviations, 0.5),
        "min_ns": s[0],
        "max_ns": s[-1],
        "p05_ns": quantile_sorted(s, 0.05),
        "p95_ns": quantile_sorted(s, 0.95),
        "outliers": tukey_outliers(s),
    }
    if ci["effective_samples"] is not None:
        out["effective_samples"] = ci["effective_samples"]
    return out


def summarize_checked(samples: Sequence[float], confidence: float) -> Optional[tuple[dict, Optional[str]]]:
    """`summarize`, then the drift check: a drifting series gets a CI spanning both halves' and
    the reason (`stats.rs`'s `summarize_checked`)."""
    st = summarize(samples, confidence)
    if st is None:
        return None
    h = halves(list(samples), confidence)
    if h is None or h["z"] <= DRIFT_Z:
        return st, _wandered(st, len(samples))
    st["ci_low_ns"] = min(st["ci_low_ns"], h["first"]["low"], h["second"]["low"])
    st["ci_high_ns"] = max(st["ci_high_ns"], h["first"]["high"], h["second"]["high"])
    return st, drift_reason(h)


class SortedSamples:
    """Samples kept sorted as they arrive, so the stopping rule costs O(n) per sample, not O(n log n)."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def add(self, x: float) -> None:
        insort(self.values, x)

    def __len__(self) -> int:
        return len(self.values)

    def relative_ci_half_width(self, confidence: float) -> Optional[float]:
        return relative_ci_half_width_sorted(self.values, confidence)


def _wandered(st: dict, n: int) -> Optional[str]:
    eff = st.get("effective_samples")
    if eff is None or n < MIN_DRIFT_N or st["ci_method"] != "range":
        return None
    return ("wandering level: the {} samples move together so much that they are worth "
            "{:.1f} independent ones, and (min, max) covers the median at only {:.0f}%"
            .format(n, eff, st["confidence"] * 100.0))
