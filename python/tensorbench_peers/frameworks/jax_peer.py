"""JAX peers: each op jitted, compiled ahead of timing (`lower().compile()`, its time recorded as
`compile_ns`), and each call waited for with `block_until_ready`, as JAX's own benchmarking advice
says, so asynchronous dispatch never hides work from the clock."""

from __future__ import annotations

import time
from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np

from ..ops import OpDef, layer_norm_eps
from ..sampler import HostTimer
from .base import Bound, Framework, cuda_index

# f64 workloads need 64-bit types; explicit f32 arrays stay f32.
jax.config.update("jax_enable_x64", True)


def _layer_norm(eps: float, affine: bool):
    def f(x, *gb):
        mean = jnp.mean(x, axis=-1, keepdims=True)
        var = jnp.mean(jnp.square(x - mean), axis=-1, keepdims=True)
        y = (x - mean) * jax.lax.rsqrt(var + eps)
        return y * gb[0] + gb[1] if affine else y

    return f


def function(op: OpDef, params: dict, n_inputs: int):
    """The op as a function of its inputs, to be jitted."""
    if op.name == "add":
        return lambda x, y: x + y
    if op.name == "sum":
        return lambda x: jnp.sum(x).reshape(1)
    if op.name == "softmax":
        return lambda x: jax.nn.softmax(x, axis=-1)
    if op.name == "layer_norm":
        return _layer_norm(layer_norm_eps(params), n_inputs == 3)
    if op.name == "gemm":
        # Full f32 precision: on GPUs JAX's default may use TF32/bf16 passes for f32 matmuls.
        return lambda a, b: jnp.matmul(a, b, precision=jax.lax.Precision.HIGHEST)
    raise ValueError(f"jax peer has no op {op.name!r}")


def _device(device: str):
    if device == "cpu":
        return jax.devices("cpu")[0]
    index = cuda_index(device)
    gpus = jax.devices("gpu") if index is not None else []
    return gpus[index] if index is not None and index < len(gpus) else None


class JaxFramework(Framework):
    name = "jax"

    def info(self) -> dict:
        import jaxlib

        return {
            "framework_version": jax.__version__,
            "jaxlib_version": jaxlib.__version__,
            "jax_default_backend": jax.default_backend(),
        }

    def device_problem(self, device: str) -> Optional[str]:
        if device != "cpu" and cuda_index(device) is None:
            return f"jax peers run on cpu and cuda devices, not {device!r}"
        try:
            found = _device(device)
        except RuntimeError as e:  # no such backend in this jaxlib
            return f"jax {jax.__version__} has no {device} backend: {e}"
        return None if found is not None else f"jax {jax.__version__} sees no device {device}"

    def bind(self, op: OpDef, params: dict, inputs: list[np.ndarray], device: str) -> Bound:
        dev = _device(device)
        args = [jax.device_put(np.ascontiguousarray(x), dev) for x in inputs]
        jax.block_until_ready(args)
        started = time.perf_counter_ns()
        compiled = jax.jit(function(op, params, len(args))).lower(*args).compile()
        compile_ns = float(time.perf_counter_ns() - started)

        def step() -> None:
            compiled(*args).block_until_ready()

        def output() -> np.ndarray:
            return np.asarray(compiled(*args).block_until_ready()).copy()

        return Bound(
            HostTimer(step), output, "host perf_counter_ns, block_until_ready on every call",
            {"compile_ns": compile_ns, "device_name": str(dev.device_kind)},
        )


def load() -> JaxFramework:
    return JaxFramework()
