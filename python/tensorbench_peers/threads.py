"""One thread count for every framework, set before any of them is imported (BLAS and OpenMP read
their variables once, at load time)."""

from __future__ import annotations

import os

# Read by OpenMP, OpenBLAS, MKL, BLIS, Accelerate and NumExpr when they load.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)

# XLA's CPU backend has no thread-count flag; with one thread it can be told to run single-threaded.
XLA_SINGLE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def schedulable_cpus() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return list(range(os.cpu_count() or 1))


def configure(threads: int) -> dict:
    """Sets the thread variables, pins the process to `threads` CPUs when fewer than it may use (the
    way to bound XLA's and PyTorch's pools, which size themselves from the affinity mask), and
    returns what was done, for the measurements' `extra.thread_control`."""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    record: dict = {"threads": threads, "variables": list(THREAD_VARIABLES)}
    if threads == 1:
        flags = os.environ.get("XLA_FLAGS", "")
        os.environ["XLA_FLAGS"] = f"{flags} {XLA_SINGLE_THREAD}".strip()
        record["xla_flags"] = os.environ["XLA_FLAGS"]
    cpus = schedulable_cpus()
    if threads < len(cpus) and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cpus[:threads])
        record["affinity"] = cpus[:threads]
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if name in os.environ:  # they change which OpenBLAS kernel runs, so speed: record them
            record[name] = os.environ[name]
    return record
