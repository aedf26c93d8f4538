"""The peers' timing loop: the same stopping rule, profiles and numbers as tensorbench-core's
`sampler.rs`, so a NumPy median and a tensorbench median are estimated the same way.

Warm-up by time (doubling batches), batch size from the clock's resolution and the sample target,
then samples until the median's dependence-aware 95% CI is within the target on a stationary
series (halves agree) with at least `min_samples`, `MIN_DEPENDENT_N` and `min_time_s`, or until
`max_time_s` (timed or wall-clock) / `max_samples`. The CI is checked on the same schedule as in
Rust (`due_for_check`). A framework brings a `Timer` (how one batch is
timed: host clock, CUDA events, ...), never its own loop.
"""

from __future__ import annotations

import math
import time
from functools import lru_cache
from dataclasses import asdict, dataclass, field, replace
from typing import Callable, Optional, Protocol

from .stats import MIN_DEPENDENT_N, DRIFT_Z, halves, relative_ci_half_width


@dataclass(frozen=True)
class SamplerConfig:
    """How long and how precisely to sample; field for field the Rust `SamplerConfig`."""

    warmup_s: float = 0.05
    min_samples: int = 10
    max_samples: int = 10_000
    min_time_s: float = 0.05
    max_time_s: float = 0.3
    ci_target: float = 0.01
    confidence: float = 0.95
    sample_target_s: float = 2e-4
    mode: str = "hot"
    wall_time_cap: bool = True
    min_samples_cap_s: float = 0.0

    @staticmethod
    def profile(name: str) -> "SamplerConfig":
        """`quick` (the default, CI-sized), `standard` or `full`; KeyError for any other name."""
        base = SamplerConfig()
        profiles = {
            "quick": base,
            "standard": replace(
                base, warmup_s=0.3, min_samples=20, min_time_s=0.5, max_time_s=3.0,
                sample_target_s=1e-3,
            ),
            "full": replace(
                base, warmup_s=1.0, min_samples=50, min_time_s=2.0, max_time_s=15.0,
                ci_target=0.005, sample_target_s=2e-3,
            ),
        }
        return profiles[name]

    def to_json(self) -> dict:
        return asdict(self)


PROFILES = ("quick", "standard", "full")


class Timer(Protocol):
    """Times one batch: runs the op `iters` times, waits for it to finish, returns elapsed ns."""

    source: str  # a `ClockSource` of the schema: host, cuda_event, ...
    resolution_ns: float

    def time_batch(self, iters: int) -> float: ...


@dataclass
class Sampled:
    samples_ns: list[float]
    iters: int
    warmup_ns: float
    total_ns: float
    converged: bool
    sampling: dict = field(default_factory=dict)


def batch_size(per_iter_ns: float, resolution_ns: float, target_s: float) -> int:
    """Iterations per sample so one sample lasts at least `target_s` and 1000 clock ticks."""
    want_ns = max(target_s * 1e9, resolution_ns * 1000.0)
    return int(min(max(math.ceil(want_ns / max(per_iter_ns, 1e-3)), 1.0), 1e9))


def warm_up(timer: Timer, cfg: SamplerConfig) -> tuple[float, float]:
    """Runs doubling batches until the warm-up time is spent; returns (last per-iter ns, spent ns)."""
    iters, spent = 1, 0.0
    while True:
        ns = timer.time_batch(iters)
        spent += ns
        per_iter = ns / iters
        if spent >= cfg.warmup_s * 1e9 or spent >= cfg.max_time_s * 1e9:
            return per_iter, spent
        if ns < cfg.sample_target_s * 1e9:
            iters *= 2


def due_for_check(n: int) -> bool:
    """Every sample below 100, then every n/20-th one: deciding stays cheap beside measuring."""
    return n < 100 or n % (n // 20) == 0


def ci_within(samples: list[float], cfg: SamplerConfig) -> bool:
    """Converged: CI within target on enough samples to estimate their dependence, halves agree."""
    if len(samples) < MIN_DEPENDENT_N:
        return False
    half = relative_ci_half_width(samples, cfg.confidence)
    if half is None or half > cfg.ci_target:
        return False
    h = halves(samples, cfg.confidence)
    return h is None or h["z"] <= DRIFT_Z


def past_time_cap(cfg: SamplerConfig, timed_ns: float, wall_s: float, n: int) -> bool:
    """Past `max_time_s` of timed or wall-clock time (and `min_samples_cap_s` while fewer than
    `min_samples` samples are in)."""
    cap = max(cfg.max_time_s, cfg.min_samples_cap_s) if n < cfg.min_samples else cfg.max_time_s
    return timed_ns >= cap * 1e9 or (cfg.wall_time_cap and wall_s >= cap)


def sample(
    timer: Timer, cfg: SamplerConfig, flush: Optional[Callable[[], None]] = None
) -> Sampled:
    """Warm up, size the batch, then sample until the CI target or a cap is reached.

    `flush` (cold mode) runs before every sample, outside the timed region; cold samples are one
    iteration each, as in the Rust sampler.
    """
    per_iter_ns, warmup_ns = warm_up(timer, cfg)
    cold = cfg.mode == "cold"
    iters = 1 if cold else batch_size(per_iter_ns, timer.resolution_ns, cfg.sample_target_s)
    samples: list[float] = []
    total_ns = 0.0
    wall_start = time.perf_counter()
    while True:
        if cold and flush is not None:
            flush()
        ns = timer.time_batch(iters)
        total_ns += ns
        samples.append(ns / iters)
        n = len(samples)
        enough = n >= cfg.min_samples and total_ns >= cfg.min_time_s * 1e9
        if enough and due_for_check(n) and ci_within(samples, cfg):
            converged = True
            break
        wall_s = time.perf_counter() - wall_start
        if past_time_cap(cfg, total_ns, wall_s, n) or n >= cfg.max_samples:
            converged = False
            break
    return Sampled(samples, iters, warmup_ns, total_ns, converged, {
        "clock_source": timer.source,
        "clock_resolution_ns": timer.resolution_ns,
        "warmup_ns": warmup_ns,
        "total_time_ns": total_ns,
        "converged": converged,
        "ci_target": cfg.ci_target,
    })


@lru_cache(maxsize=1)
def measure_perf_counter_resolution_ns() -> float:
    """The smallest non-zero step between successive `perf_counter_ns` readings (median of many),
    which also covers the cost of reading the clock, as the Rust host clock measures itself."""
    steps = []
    for _ in range(201):
        a = time.perf_counter_ns()
        b = time.perf_counter_ns()
        while b == a:
            b = time.perf_counter_ns()
        steps.append(b - a)
    steps.sort()
    return max(float(steps[len(steps) // 2]), 1.0)


class HostTimer:
    """Host monotonic clock around a batch of synchronous calls (NumPy, PyTorch on CPU, JAX with
    `block_until_ready` inside `run`)."""

    source = "host"

    def __init__(self, run: Callable[[], object], resolution_ns: Optional[float] = None) -> None:
        self._run = run
        self.resolution_ns = resolution_ns or measure_perf_counter_resolution_ns()

    def time_batch(self, iters: int) -> float:
        run = self._run
        start = time.perf_counter_ns()
        for _ in range(iters):
            run()
        return float(time.perf_counter_ns() - start)
