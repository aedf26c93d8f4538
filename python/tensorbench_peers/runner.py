"""Runs every task on every requested framework: validate (against an f64 reference and, where
tensorbench dumped its tensors, against tensorbench itself), then time with the shared sampler.
Nothing here raises past a measurement: a problem becomes a `failed`, `invalid` or `skipped` line."""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from .protocol import MeasurementWriter, Task, blank_measurement, finite, throughput
from .sampler import SamplerConfig, sample
from .stats import summarize_checked

SEED_STRIDE = 0x9E37_79B9  # as the Rust suite spaces per-workload seeds


@dataclass
class RunOptions:
    frameworks: list[str]
    config: SamplerConfig
    threads: int
    seed: int
    thread_control: dict
    tensors: Optional[Path] = None
    framework_problems: dict[str, str] = field(default_factory=dict)


def _skip_all(tasks: list[Task], opts: RunOptions, writer: MeasurementWriter, reason: str) -> None:
    for task in tasks:
        for name in opts.frameworks:
            m = blank_measurement(task, name, opts.threads, opts.config.mode)
            m["reason"] = reason
            writer.write(m)


def run(tasks: list[Task], opts: RunOptions, writer: MeasurementWriter) -> list[dict]:
    """Measures every task on every framework, writing each measurement as it finishes."""
    try:
        import numpy  # noqa: F401  (inputs and the reference need it)
    except ImportError:
        _skip_all(tasks, opts, writer, "numpy is not installed (peers need it for inputs and the "
                                       "f64 reference): pip install numpy")
        return []
    return _Runner(opts, writer).run(tasks)


class _Runner:
    def __init__(self, opts: RunOptions, writer: MeasurementWriter) -> None:
        from . import crosscheck, frameworks

        self.opts, self.writer = opts, writer
        self.loaded: dict[str, tuple[object, Optional[str]]] = {
            name: frameworks.load(name) for name in opts.frameworks
        }
        self.info = {name: fw.info() for name, (fw, _) in self.loaded.items() if fw is not None}
        self.dumps = crosscheck.load_dumps(opts.tensors) if opts.tensors else []
        self.checks: dict[tuple, object] = {}
        self.flusher = _host_flusher() if opts.config.mode == "cold" else None

    def run(self, tasks: list[Task]) -> list[dict]:
        done = []
        for index, task in enumerate(tasks):
            seed = (self.opts.seed + index * SEED_STRIDE) % (1 << 64)
            for m in self.measure_task(task, seed):
                self.writer.write(m)
                done.append(m)
        return done

    def measure_task(self, task: Task, seed: int) -> list[dict]:
        from . import ops

        blanks = {name: self.blank(task, name, seed) for name in self.opts.frameworks}
        problem = self.task_problem(task)
        op = inputs = ref = None
        if problem is None:
            try:
                op = ops.OPS[task.op]
                inputs = ops.make_inputs(op, task.params, task.dtype, seed)
                ref = ops.reference(op, inputs, task.params)
            except (ops.OpError, MemoryError) as e:
                problem = f"{type(e).__name__}: {e}" if isinstance(e, MemoryError) else str(e)
        for name, m in blanks.items():
            if problem is not None:
                m["reason"] = problem
                continue
            self.measure(m, task, name, op, inputs, ref)
        return list(blanks.values())

    def blank(self, task: Task, name: str, seed: int) -> dict:
        m = blank_measurement(task, name, self.opts.threads, self.opts.config.mode)
        m["extra"].update({
            "framework": name,
            "seed": seed,
            "python": platform.python_version(),
            "thread_control": self.opts.thread_control,
            "inputs": "numpy PCG64 uniform [-1, 1) from seed",
            **self.info.get(name, {}),
        })
        return m

    def task_problem(self, task: Task) -> Optional[str]:
        from . import ops

        if task.op not in ops.OPS:
            return f"no peer implementation of op {task.op!r} (peers implement {', '.join(ops.OPS)})"
        if task.dtype not in ops.DTYPES:
            return f"peers run f32 and f64, not {task.dtype}"
        if self.opts.config.mode == "cold" and task.device != "cpu":
            return "cold mode is host-only for peers (no device cache flush)"
        available = _available_memory_bytes()
        # Inputs and output in the workload's dtype plus an f64 reference: about 3x its footprint.
        if available is not None and task.footprint_bytes * 3 > available * 0.8:
            return (f"needs about {task.footprint_bytes * 3 >> 20} MiB with the f64 reference, "
                    f"but only {available >> 20} MiB of memory is available")
        return None

    def measure(self, m: dict, task: Task, name: str, op, inputs, ref) -> None:
        fw, missing = self.loaded[name]
        if fw is None:
            m["reason"] = missing
            return
        problem = fw.device_problem(task.device)
        if problem is not None:
            m["reason"] = problem
            return
        try:
            self.validate_and_time(m, task, fw, op, inputs, ref)
        except MemoryError as e:
            _fail(m, f"out of memory: {e}")
        except Exception as e:  # a framework error is this measurement's failure, not the run's
            _fail(m, f"{type(e).__name__}: {e}")

    def validate_and_time(self, m: dict, task: Task, fw, op, inputs, ref) -> None:
        from . import ops

        bound = fw.bind(op, task.params, inputs, task.device)
        m["extra"].update(bound.extra)
        m["extra"]["timing"] = bound.timing
        scale = op.error_scale(inputs) if op.error_scale else None
        err = ops.max_rel_err(bound.output(), ref, scale)
        tol = ops.tolerance(op, task.dtype, task.params)
        m["validation"] = _validation(err, tol, "f64 NumPy reference on the same inputs")
        check = self.cross_check(fw, task)
        if check is not None:
            m["extra"]["cross_check"] = check.to_json()
            if check.params_text == task.params_text or not check.passed:
                m["validation"] = _validation(
                    check.max_rel_err, check.tolerance,
                    f"tensorbench output of {check.against} on identical inputs",
                )
        if not m["validation"]["passed"]:
            m["status"] = "invalid"
            m["reason"] = _invalid_reason(err, tol, check)
            return
        flush = self.flusher if task.device == "cpu" else None
        sampled = sample(bound.timer, self.opts.config, flush)
        stats, unstable = summarize_checked(sampled.samples_ns, self.opts.config.confidence)
        if unstable is not None:
            sampled.sampling["unstable"] = unstable
            sampled.sampling["converged"] = False
        m.update({
            "samples_ns": sampled.samples_ns,
            "iters_per_sample": sampled.iters,
            "stats": stats,
            "throughput": throughput(task, stats["median_ns"]),
            "sampling": sampled.sampling,
            "status": "ok",
        })

    def cross_check(self, fw, task: Task):
        """The framework's agreement with tensorbench on this op (once per op), if dumped."""
        from . import crosscheck

        dump = crosscheck.dump_for(self.dumps, task.op, task.dtype, task.device, task.params_text)
        if dump is None:
            return None
        key = (fw.name, dump.spec["id"])
        if key not in self.checks:
            self.checks[key] = crosscheck.check(fw, dump)
        return self.checks[key]


def _validation(err: float, tol: float, reference: str) -> dict:
    return {"max_rel_err": finite(err), "tolerance": tol, "passed": err <= tol, "reference": reference}


def _invalid_reason(err: float, tol: float, check) -> str:
    if check is not None and not check.passed:
        return (f"disagrees with tensorbench {check.against} on identical inputs: max relative "
                f"error {check.max_rel_err:.3g} > {check.tolerance:.3g}")
    what = "non-finite output" if err == float("inf") else f"max relative error {err:.3g}"
    return f"output differs from the f64 reference: {what} > {tol:.3g}"


def _fail(m: dict, reason: str) -> None:
    m["status"] = "failed"
    m["reason"] = reason
    m["samples_ns"] = []
    m["stats"] = m["throughput"] = m["sampling"] = None


def _available_memory_bytes() -> Optional[int]:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _last_level_cache_bytes() -> int:
    base = Path("/sys/devices/system/cpu/cpu0/cache")
    best = 0
    for index in sorted(base.glob("index*")):
        try:
            size = (index / "size").read_text().strip()
            mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(size[-1:], 1)
            best = max(best, int(size.rstrip("KMG")) * mult)
        except (OSError, ValueError):
            continue
    return best or 32 << 20


def _host_flusher() -> Callable[[], None]:
    """Evicts the host caches before a cold sample, as core's CacheFlusher: a read-only sweep
    (no dirty lines left for the op to write back) of a buffer 1.5x the last-level cache, one
    chunk per logical core in parallel (NumPy releases the GIL in the reduction)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    threads = os.cpu_count() or 1
    words = max(max(_last_level_cache_bytes(), 1 << 20) // 2 * 3, threads * (4 << 20)) // 8
    buf = np.ones(words, dtype=np.uint64)  # written once, so real pages back it
    chunks = np.array_split(buf, threads)
    pool = ThreadPoolExecutor(max_workers=threads)

    def flush() -> None:
        # One word per 64-byte line.
        list(pool.map(lambda c: int(c[::8].sum()), chunks))

    return flush


def wall_seed() -> int:
    return time.time_ns() % (1 << 64)
