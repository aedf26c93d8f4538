"""The peer frameworks. Each is imported only when asked for, after the thread count is set, and a
missing one is reported with the command that installs it, never raised."""

from __future__ import annotations

import importlib
from typing import Optional

__all__ = ["KNOWN", "INSTALL_HINTS", "load"]

# name -> module implementing it.
KNOWN = {"numpy": "numpy_peer", "torch": "torch_peer", "jax": "jax_peer"}

INSTALL_HINTS = {
    "numpy": "pip install numpy",
    "torch": "pip install torch",
    "jax": "pip install 'jax[cpu]'",
}


def load(name: str) -> tuple[Optional[object], Optional[str]]:
    """(framework, None) when it imports, else (None, why not) naming the install command.

    The adapters need NumPy (inputs and the f64 reference), so a missing NumPy skips them all."""
    try:
        module = importlib.import_module(f"{__name__}.{KNOWN[name]}")
        return module.load(), None
    except ImportError as e:
        missing = (getattr(e, "name", None) or name).split(".")[0]
        if missing == name:
            return None, f"{name} is not installed: {INSTALL_HINTS[name]}"
        hint = INSTALL_HINTS.get(missing, f"pip install {missing}")
        return None, f"{name} peers need {missing}, which is not installed: {hint}"
