"""Summary statistics of one sample set, computed exactly as tensorbench-core's `stats.rs` does.

Pure Python (no NumPy) so the sampler works, and is tested, whatever frameworks are installed.
A Rust test in `xtask/src/peers.rs` feeds the same samples to both and compares the results.
"""

from __future__ import annotations

import math
from bisect import insort
from functools import lru_cache
from typing import Optional, Sequence

_LN2 = math.log(2.0)


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
    """The `Stats` record of the run-file schema, from per-iteration samples in ns."""
    if not samples:
        return None
    s = sorted(samples)
    n = len(s)
    mean = sum(s) / n
    var = sum((x - mean) ** 2 for x in s) / (n - 1) if n > 1 else 0.0
    median = quantile_sorted(s, 0.5)
    deviations = sorted(abs(x - median) for x in s)
    ci = median_ci_sorted(s, confidence) or (s[0], s[-1])
    return {
        "median_ns": median,
        "ci_low_ns": ci[0],
        "ci_high_ns": ci[1],
        "confidence": confidence,
        "mean_ns": mean,
        "std_ns": math.sqrt(var),
        "mad_ns": quantile_sorted(deviations, 0.5),
        "min_ns": s[0],
        "max_ns": s[-1],
        "p05_ns": quantile_sorted(s, 0.05),
        "p95_ns": quantile_sorted(s, 0.95),
        "outliers": tukey_outliers(s),
    }


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
