"""The ops peers implement: their parameters, inputs, an f64 NumPy reference, and how closely an
output must agree with it. Framework files (`frameworks/*.py`) implement each op; this file says
what the op *is*, once, so every framework is judged by the same rule.

Semantics follow tensorbench's CPU suite (crates/cpu-simd):
- add(n):              out = a + b
- sum(n):              s = sum(x)                      (error judged against sum |x|)
- softmax(rows, cols): softmax along each row
- layer_norm(rows, cols): (x - mean) / sqrt(var + eps) per row (biased variance), then * gamma + beta
  when the workload supplies them; eps from params["eps"], else 1e-5
- gemm(m, n, k):       C = A @ B, A m×k, B k×n, row-major
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

LAYER_NORM_EPS = 1e-5


class OpError(ValueError):
    """A workload whose parameters this op cannot run with; the message names the field."""


@dataclass(frozen=True)
class OpDef:
    name: str
    params: tuple[str, ...]
    # (name, shape) of each input, in the order frameworks take them; names as tensorbench dumps them.
    inputs: Callable[[dict], list[tuple[str, tuple[int, ...]]]]
    reference: Callable[[list[np.ndarray], dict], np.ndarray]
    # Relative tolerance per dtype against the f64 reference (the cross-check allows twice that).
    tolerance: dict[str, float]
    # Uniform range of each input by name (default [-1, 1)), as tensorbench's workload draws it.
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    # Optional scale of the error metric from the inputs (sum: sum |x|, its condition).
    error_scale: Optional[Callable[[list[np.ndarray]], float]] = None
    # Input names that a dumped workload may leave out (layer_norm without affine parameters).
    optional: tuple[str, ...] = ()
    # Tolerance growing with the parameters (gemm: with sqrt(k)); overrides `tolerance` for f32.
    f32_tolerance: Optional[Callable[[dict], float]] = None

    def shapes(self, params: dict) -> list[tuple[str, tuple[int, ...]]]:
        return self.inputs(checked_params(self, params))


def checked_params(op: OpDef, params: dict) -> dict:
    """The op's integer parameters, or OpError naming the missing or malformed one."""
    out = dict(params)
    for key in op.params:
        if key not in params:
            raise OpError(f"params lacks `{key}` ({op.name} needs {', '.join(op.params)})")
        value = params[key]
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise OpError(f"params.{key} = {value!r}: expected a positive integer")
    return out


def _softmax_ref(inputs: list[np.ndarray], p: dict) -> np.ndarray:
    x = inputs[0]
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def layer_norm_eps(params: dict) -> float:
    eps = params.get("eps", LAYER_NORM_EPS)
    return float(eps) if isinstance(eps, (int, float)) and not isinstance(eps, bool) else LAYER_NORM_EPS


def _layer_norm_ref(inputs: list[np.ndarray], p: dict) -> np.ndarray:
    x = inputs[0]
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    y = (x - mean) / np.sqrt(var + layer_norm_eps(p))
    if len(inputs) == 3:
        y = y * inputs[1] + inputs[2]
    return y


def gemm_f32_tolerance(params: dict) -> float:
    """tensorbench's GEMM tolerance: a length-k f32 dot product's rounding grows like sqrt(k)."""
    return 5e-4 * max(math.sqrt(params.get("k", 1) / 256.0), 1.0)


# Tolerances and input ranges are tensorbench's own (crates/cpu-simd/src/workloads), so a peer is
# held to the bar tensorbench's kernels pass.
OPS: dict[str, OpDef] = {
    op.name: op
    for op in [
        OpDef(
            "add", ("n",),
            lambda p: [("a", (p["n"],)), ("b", (p["n"],))],
            lambda i, p: i[0] + i[1],
            {"f32": 1e-6, "f64": 1e-14},
        ),
        OpDef(
            "sum", ("n",),
            lambda p: [("x", (p["n"],))],
            lambda i, p: np.asarray([i[0].sum()]),
            {"f32": 1e-5, "f64": 1e-12},
            ranges={"x": (0.0, 1.0)},
            error_scale=lambda i: float(np.abs(i[0].astype(np.float64)).sum()),
        ),
        OpDef(
            "softmax", ("rows", "cols"),
            lambda p: [("x", (p["rows"], p["cols"]))],
            _softmax_ref,
            {"f32": 1e-5, "f64": 1e-12},
            ranges={"x": (-8.0, 8.0)},
        ),
        OpDef(
            "layer_norm", ("rows", "cols"),
            lambda p: [("x", (p["rows"], p["cols"])), ("gamma", (p["cols"],)), ("beta", (p["cols"],))],
            _layer_norm_ref,
            {"f32": 1e-4, "f64": 1e-10},
            ranges={"x": (-1.0, 3.0), "gamma": (0.5, 1.5), "beta": (-0.5, 0.5)},
            optional=("gamma", "beta"),
        ),
        OpDef(
            "gemm", ("m", "n", "k"),
            lambda p: [("a", (p["m"], p["k"])), ("b", (p["k"], p["n"]))],
            lambda i, p: i[0] @ i[1],
            {"f32": 5e-4, "f64": 1e-10},
            f32_tolerance=gemm_f32_tolerance,
        ),
    ]
}

DTYPES = {"f32": np.float32, "f64": np.float64}


def make_inputs(op: OpDef, params: dict, dtype: str, seed: int) -> list[np.ndarray]:
    """Fresh inputs uniform in each input's range, as tensorbench's workloads draw them.

    The generator is NumPy's PCG64, not tensorbench's ChaCha8: timing does not depend on the values,
    and the cross-check against tensorbench uses its dumped tensors, not regenerated ones.
    """
    rng = np.random.default_rng(seed)
    arrays = []
    for name, shape in op.shapes(params):
        lo, hi = op.ranges.get(name, (-1.0, 1.0))
        arrays.append(rng.uniform(lo, hi, size=shape).astype(DTYPES[dtype]))
    return arrays


def reference(op: OpDef, inputs: list[np.ndarray], params: dict) -> np.ndarray:
    """The op in float64 on the given inputs."""
    return op.reference([np.asarray(x, dtype=np.float64) for x in inputs], params)


def max_rel_err(got: np.ndarray, ref: np.ndarray, scale: Optional[float] = None) -> float:
    """Largest relative error, as tensorbench-core's `max_rel_err`: the denominator is floored at
    1e-3 of the output's scale so near-zero entries are judged by absolute error. `scale`
    overrides the output's scale (sum passes sum |x|, so the floor is the sum's conditioning)."""
    got = np.asarray(got, dtype=np.float64).ravel()
    ref = np.asarray(ref, dtype=np.float64).ravel()
    if got.shape != ref.shape:
        return float("inf")
    if np.isnan(got).any() or np.isinf(got).any():
        return float("inf")
    if scale is None:
        floor = max(float(np.abs(ref).max(initial=0.0)), 1e-30) * 1e-3
    else:
        floor = max(scale, 1e-30)
    return float((np.abs(got - ref) / np.maximum(np.abs(ref), floor)).max(initial=0.0))


def tolerance(op: OpDef, dtype: str, params: Optional[dict] = None) -> float:
    if dtype == "f32" and op.f32_tolerance is not None:
        return op.f32_tolerance(params or {})
    return op.tolerance.get(dtype, op.tolerance["f32"])
