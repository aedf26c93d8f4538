"""What a peer framework provides: its versions, which devices it runs on, and an op bound to
inputs (a `Bound`) that the one sampler times through the bound's timer."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from ..ops import OpDef
from ..sampler import Timer


@dataclass
class Bound:
    """One op on one framework, bound to its inputs on its device."""

    timer: Timer
    # Runs the op once, waits for it, and returns the output as a NumPy array.
    output: Callable[[], np.ndarray]
    # How timing was done, recorded in the measurement (`extra.timing`).
    timing: str
    # Extra facts for the measurement, e.g. JAX's `compile_ns`.
    extra: dict = field(default_factory=dict)


class Framework(ABC):
    """Base of the framework adapters in this package."""

    name = ""

    @abstractmethod
    def info(self) -> dict:
        """Versions and settings recorded in every measurement (`extra`)."""

    def device_problem(self, device: str) -> Optional[str]:
        """None when this framework can run on `device` here, else why not."""
        return None if device == "cpu" else f"{self.name} peers run on the host CPU only"

    @abstractmethod
    def bind(self, op: OpDef, params: dict, inputs: list[np.ndarray], device: str) -> Bound:
        """Places the inputs on `device` and prepares the op (compiling it where the framework does)."""


def cuda_index(device: str) -> Optional[int]:
    """`cuda:1` -> 1, `cuda` -> 0; None for any other device."""
    if device == "cuda":
        return 0
    if device.startswith("cuda:") and device[5:].isdigit():
        return int(device[5:])
    return None
