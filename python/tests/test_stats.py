import math

from tensorbench_peers.stats import (
    median_ci_rank, median_ci_sorted, quantile_sorted, summarize, tukey_outliers,
)


def exact_rank(n: int, confidence: float) -> int:
    """The Rust loop, with exact binomial probabilities."""
    alpha, j = 1.0 - confidence, 0
    while j < n // 2 and 2 * sum(math.comb(n, i) for i in range(j + 1)) / 2**n <= alpha:
        j += 1
    return j


def test_quantiles_interpolate_like_type_7():
    s = [1.0, 2.0, 3.0, 4.0]
    assert quantile_sorted(s, 0.5) == 2.5
    assert (quantile_sorted(s, 0.0), quantile_sorted(s, 1.0)) == (1.0, 4.0)


def test_ci_rank_matches_exact_binomial_for_every_n_up_to_300():
    for n in range(1, 301):
        for conf in (0.95, 0.99):
            assert median_ci_rank(n, conf) == exact_rank(n, conf), (n, conf)


def test_ci_of_ten_samples_is_the_textbook_interval():
    assert median_ci_sorted([float(i) for i in range(10)], 0.95) == (1.0, 8.0)
    assert median_ci_sorted([1.0, 2.0, 3.0], 0.95) is None


def test_ci_rank_of_large_n_is_near_the_normal_approximation():
    n = 10_000
    j = median_ci_rank(n, 0.95)
    assert abs(j - (n / 2 - 1.96 * math.sqrt(n) / 2)) < 2


def test_tukey_counts_planted_outliers():
    v = [100.0 + i % 10 for i in range(100)] + [1000.0, 116.0, 80.0]
    c = tukey_outliers(v)
    assert (c["high_severe"], c["high_mild"], c["low_severe"] + c["low_mild"]) == (1, 1, 1)


def test_summary_of_constant_and_known_samples():
    s = summarize([5.0] * 20, 0.95)
    assert (s["median_ns"], s["std_ns"], s["mad_ns"], s["ci_low_ns"], s["ci_high_ns"]) == (5, 0, 0, 5, 5)
    s = summarize([1.0, 2.0, 3.0, 4.0, 10.0], 0.95)
    assert s["median_ns"] == 3.0 and s["mean_ns"] == 4.0 and s["mad_ns"] == 1.0
    assert math.isclose(s["std_ns"], math.sqrt(12.5))
    assert (s["ci_low_ns"], s["ci_high_ns"]) == (1.0, 10.0)  # n=5 cannot reach 95%: full range
    assert s["ci_method"] == "range" and s["confidence"] == 1.0 - 0.5 ** 4  # labelled 93.75%
    assert summarize([], 0.95) is None


def test_t_quantiles_match_the_tables():
    from tensorbench_peers.stats import t_quantile
    assert abs(t_quantile(0.95, 9) - 2.2622) < 1e-3
    assert abs(t_quantile(0.95, 2) - 4.3027) < 1e-3


def test_dependent_samples_get_a_wider_interval_than_shuffled_ones():
    from tensorbench_peers.stats import median_ci
    slow = [float((i // 25) % 2) + (i % 25) * 1e-3 for i in range(200)]
    s = sorted(slow)
    fast = [s[i // 2] if i % 2 == 0 else s[100 + i // 2] for i in range(200)]
    a, b = median_ci(slow, 0.95), median_ci(fast, 0.95)
    assert a["effective_samples"] < 40 and a["high"] - a["low"] > b["high"] - b["low"]


def test_a_ramp_is_flagged():
    from tensorbench_peers.stats import summarize_checked
    st, why = summarize_checked([1000.0 + i for i in range(300)], 0.95)
    assert "wandering" in why and st["confidence"] < 0.95
