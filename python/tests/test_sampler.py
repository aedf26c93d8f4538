import itertools
import math

import pytest

from tensorbench_peers.sampler import SamplerConfig, batch_size, due_for_check, sample


class ScriptedTimer:
    """A clock that reports `per_iter_ns[k] * iters` for the k-th batch (cycling), and records the
    batch sizes it was asked for."""

    source = "fake"

    def __init__(self, per_iter_ns, resolution_ns=20.0):
        self._times = itertools.cycle(per_iter_ns)
        self.resolution_ns = resolution_ns
        self.batches = []

    def time_batch(self, iters):
        self.batches.append(iters)
        return next(self._times) * iters


def test_profiles_carry_the_rust_numbers():
    quick, standard, full = (SamplerConfig.profile(p) for p in ("quick", "standard", "full"))
    assert (quick.warmup_s, quick.min_samples, quick.min_time_s, quick.max_time_s) == (0.05, 10, 0.05, 0.3)
    assert (quick.ci_target, quick.confidence, quick.sample_target_s) == (0.01, 0.95, 2e-4)
    assert (standard.min_samples, standard.max_time_s, standard.sample_target_s) == (20, 3.0, 1e-3)
    assert (full.min_samples, full.ci_target, full.max_time_s) == (50, 0.005, 15.0)
    with pytest.raises(KeyError):
        SamplerConfig.profile("fast")


def test_batch_size_follows_target_and_resolution():
    assert batch_size(100.0, 20.0, 2e-4) == 2000  # 200 µs of 100 ns calls
    assert batch_size(100.0, 1000.0, 2e-4) == 10_000  # 1000 ticks of 1 µs dominate
    assert batch_size(1e9, 20.0, 2e-4) == 1  # a call longer than the target: one per sample
    assert batch_size(0.0, 20.0, 2e-4) == 200_000_000  # floor on the per-call time, then capped


def test_steady_timings_stop_at_min_samples_and_min_time():
    cfg = SamplerConfig.profile("quick")
    timer = ScriptedTimer([1000.0])
    s = sample(timer, cfg)
    assert s.converged
    assert s.iters == batch_size(1000.0, 20.0, cfg.sample_target_s) == 200
    # Each sample is 200 µs: min_time 50 ms needs 250 samples, more than min_samples; past 100
    # samples the CI is checked every n/20-th sample, as in Rust, so it stops at the next check.
    first = math.ceil(cfg.min_time_s * 1e9 / (200 * 1000.0))
    assert len(s.samples_ns) == next(n for n in itertools.count(first) if due_for_check(n))
    assert all(x == 1000.0 for x in s.samples_ns)
    assert s.sampling["converged"] and s.sampling["clock_source"] == "fake"


def test_warm_up_doubles_batches_until_the_warm_up_time():
    cfg = SamplerConfig.profile("quick")
    timer = ScriptedTimer([1000.0])
    s = sample(timer, cfg)
    warm = timer.batches[: timer.batches.index(200)]
    assert warm[:4] == [1, 2, 4, 8]
    assert s.warmup_ns >= cfg.warmup_s * 1e9


def test_noise_wider_than_the_target_runs_to_the_time_cap():
    cfg = SamplerConfig.profile("quick")
    # Half the samples 20% slower: the median's CI straddles both levels and never tightens to 1%.
    s = sample(ScriptedTimer([1000.0, 1200.0]), cfg)
    assert not s.converged
    assert s.total_ns >= cfg.max_time_s * 1e9
    assert s.total_ns < cfg.max_time_s * 1e9 + 200 * 1200.0 * 2


def test_sample_cap_stops_sampling():
    cfg = SamplerConfig(max_samples=15, min_samples=10, max_time_s=100.0, min_time_s=100.0)
    s = sample(ScriptedTimer([1000.0]), cfg)
    assert len(s.samples_ns) == 15 and not s.converged


def test_cold_mode_flushes_before_every_one_iteration_sample():
    cfg = SamplerConfig(mode="cold")
    flushes = []
    timer = ScriptedTimer([1e6])
    s = sample(timer, cfg, lambda: flushes.append(1))
    assert s.iters == 1 and len(flushes) == len(s.samples_ns)


def test_a_drifting_series_samples_to_the_cap_unconverged():
    # +1% every 100 samples, tiny noise: the halves disagree at every check.
    times = [1000.0 * (1.0 + 1e-4 * i) * (1.0 + 0.001 * ((i * 7919) % 13 - 6)) for i in range(20_000)]
    cfg = SamplerConfig(wall_time_cap=False)
    s = sample(ScriptedTimer(times), cfg)
    assert not s.converged
    assert s.total_ns >= cfg.max_time_s * 1e9


def test_convergence_needs_enough_samples_to_estimate_dependence():
    cfg = SamplerConfig(min_time_s=0.0, sample_target_s=1e-6, wall_time_cap=False)
    s = sample(ScriptedTimer([1000.0], resolution_ns=1e-3), cfg)
    assert s.converged and len(s.samples_ns) == 20


def test_wall_time_caps_a_slow_sampler():
    import time as _time

    class Slow(ScriptedTimer):
        def time_batch(self, iters):
            _time.sleep(0.01)
            return 1.0 * iters  # reports next to nothing: only the wall clock can stop it

    cfg = SamplerConfig(max_time_s=0.1, min_time_s=10.0, max_samples=10_000)
    s = sample(Slow([1.0]), cfg)
    assert not s.converged and len(s.samples_ns) < 30
