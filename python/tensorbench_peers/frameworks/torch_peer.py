"""PyTorch peers: eager ops on CPU (host clock, batched) or CUDA (CUDA events around the batch,
then a synchronise on the end event). `out=` is used where the op takes it."""

from __future__ import annotations

import os
from typing import Optional

import numpy as np
import torch

from ..ops import OpDef, layer_norm_eps
from ..sampler import HostTimer
from .base import Bound, Framework, cuda_index


class CudaEventTimer:
    """CUDA events recorded on the current stream around the batch; `elapsed_time` after the end
    event has completed. The resolution is measured as the smallest non-zero gap between two
    back-to-back events."""

    source = "cuda_event"

    def __init__(self, step, device: torch.device) -> None:
        self._step = step
        self._device = device
        self.resolution_ns = self._measure_resolution_ns()

    def _pair(self) -> tuple:
        return torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)

    def _measure_resolution_ns(self) -> float:
        gaps = []
        with torch.cuda.device(self._device):
            for _ in range(50):
                start, end = self._pair()
                start.record()
                end.record()
                end.synchronize()
                gap = start.elapsed_time(end) * 1e6
                if gap > 0:
                    gaps.append(gap)
        # No non-zero gap seen: finer than observable; the sample target then sizes the batch.
        return min(gaps) if gaps else 1.0

    def time_batch(self, iters: int) -> float:
        step = self._step
        with torch.cuda.device(self._device):
            start, end = self._pair()
            start.record()
            for _ in range(iters):
                step()
            end.record()
            end.synchronize()
            return start.elapsed_time(end) * 1e6


def build(op: OpDef, params: dict, t: list[torch.Tensor]):
    """(step, output): `step` runs the op once; `output` returns the last result tensor."""
    last: list[Optional[torch.Tensor]] = [None]

    def keep(fn):
        def step() -> None:
            last[0] = fn()

        return step, lambda: last[0]

    if op.name == "add":
        out = torch.empty_like(t[0])
        return keep(lambda: torch.add(t[0], t[1], out=out))
    if op.name == "sum":
        return keep(lambda: torch.sum(t[0]).reshape(1))
    if op.name == "softmax":
        return keep(lambda: torch.softmax(t[0], dim=-1))
    if op.name == "layer_norm":
        weight, bias = (t[1], t[2]) if len(t) == 3 else (None, None)
        eps, shape = layer_norm_eps(params), (t[0].shape[-1],)
        return keep(lambda: torch.nn.functional.layer_norm(t[0], shape, weight, bias, eps))
    if op.name == "gemm":
        out = torch.empty((t[0].shape[0], t[1].shape[1]), dtype=t[0].dtype, device=t[0].device)
        return keep(lambda: torch.matmul(t[0], t[1], out=out))
    raise ValueError(f"torch peer has no op {op.name!r}")


class TorchFramework(Framework):
    name = "torch"

    def info(self) -> dict:
        return {
            "framework_version": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "torch_cuda": torch.version.cuda,
            "torch_mkl": torch.backends.mkl.is_available(),
            "torch_openmp": torch.backends.openmp.is_available(),
        }

    def device_problem(self, device: str) -> Optional[str]:
        if device == "cpu":
            return None
        index = cuda_index(device)
        if index is None:
            return f"torch peers run on cpu and cuda devices, not {device!r}"
        if not torch.cuda.is_available():
            return f"torch {torch.__version__} sees no CUDA device (built for CUDA {torch.version.cuda})"
        if index >= torch.cuda.device_count():
            return f"torch sees {torch.cuda.device_count()} CUDA device(s), not {device}"
        return None

    def bind(self, op: OpDef, params: dict, inputs: list[np.ndarray], device: str) -> Bound:
        dev = torch.device(device)
        tensors = [torch.from_numpy(np.ascontiguousarray(x)).to(dev) for x in inputs]
        step, result = build(op, params, tensors)

        def output() -> np.ndarray:
            with torch.inference_mode():
                step()
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)
            return result().detach().cpu().numpy().copy()

        if dev.type == "cuda":
            name = torch.cuda.get_device_name(dev)
            timer = CudaEventTimer(step, dev)
            return Bound(timer, output, "CUDA events around a batch, end event synchronised",
                         {"device_name": name})
        return Bound(HostTimer(step), output, "host perf_counter_ns around a batch of calls")


def load() -> TorchFramework:
    threads = os.environ.get("OMP_NUM_THREADS")  # set by threads.configure before this import
    if threads and threads.isdigit():
        torch.set_num_threads(int(threads))
    return TorchFramework()
