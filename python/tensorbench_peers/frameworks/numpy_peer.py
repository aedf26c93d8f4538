"""NumPy peers: the ops as a NumPy user writes them, into preallocated outputs (`out=`) where NumPy
allows, timed on the host clock in batches."""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..ops import OpDef, layer_norm_eps
from ..sampler import HostTimer
from .base import Bound, Framework


def _softmax(x: np.ndarray) -> tuple[Callable[[], object], Callable[[], np.ndarray]]:
    out = np.empty_like(x)

    def step() -> None:
        np.subtract(x, x.max(axis=-1, keepdims=True), out=out)
        np.exp(out, out=out)
        np.divide(out, out.sum(axis=-1, keepdims=True), out=out)

    return step, lambda: out


def _layer_norm(inputs: list[np.ndarray], eps: float):
    x = inputs[0]
    affine = inputs[1:] if len(inputs) == 3 else None
    out, sq = np.empty_like(x), np.empty_like(x)

    def step() -> None:
        np.subtract(x, x.mean(axis=-1, keepdims=True), out=out)
        var = np.square(out, out=sq).mean(axis=-1, keepdims=True)
        np.multiply(out, 1.0 / np.sqrt(var + eps), out=out)
        if affine is not None:
            np.multiply(out, affine[0], out=out)
            np.add(out, affine[1], out=out)

    return step, lambda: out


def _sum(x: np.ndarray):
    last = [np.zeros(1, dtype=x.dtype)]

    def step() -> None:
        last[0] = np.asarray([x.sum()])

    return step, lambda: last[0]


def _binary(fn, a: np.ndarray, b: np.ndarray, out: np.ndarray):
    return (lambda: fn(a, b, out=out)), (lambda: out)


def build(op: OpDef, params: dict, inputs: list[np.ndarray]):
    """(step, output) for the op: `step` runs it once; `output` reads the last result."""
    if op.name == "add":
        return _binary(np.add, inputs[0], inputs[1], np.empty_like(inputs[0]))
    if op.name == "sum":
        return _sum(inputs[0])
    if op.name == "softmax":
        return _softmax(inputs[0])
    if op.name == "layer_norm":
        return _layer_norm(inputs, layer_norm_eps(params))
    if op.name == "gemm":
        a, b = inputs
        return _binary(np.matmul, a, b, np.empty((a.shape[0], b.shape[1]), dtype=a.dtype))
    raise ValueError(f"numpy peer has no op {op.name!r}")


def blas_info() -> dict:
    """The BLAS NumPy calls, its version, kernel and threads: threadpoolctl when installed (it
    reports the kernel actually chosen at run time), else NumPy's build configuration."""
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                keys = ("internal_api", "version", "architecture", "num_threads", "filepath")
                return {"source": "threadpoolctl", **{k: pool.get(k) for k in keys}}
    except ImportError:
        pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return {"source": "numpy.show_config", "name": blas.get("name"), "version": blas.get("version")}
    except (TypeError, KeyError):
        return {"source": "unknown"}


class NumpyFramework(Framework):
    name = "numpy"

    def info(self) -> dict:
        return {"framework_version": np.__version__, "blas": blas_info()}

    def bind(self, op: OpDef, params: dict, inputs: list[np.ndarray], device: str) -> Bound:
        step, result = build(op, params, [np.ascontiguousarray(x) for x in inputs])

        def output() -> np.ndarray:
            step()
            return np.array(result(), copy=True)

        return Bound(HostTimer(step), output, "host perf_counter_ns around a batch of calls")


def load() -> NumpyFramework:
    return NumpyFramework()
