"""Makes `tensorbench_peers` importable when pytest runs from the repository root
(`python -m pytest python/tests`), and shares small helpers."""

import json
import sys
from pathlib import Path

import pytest

PYTHON_DIR = Path(__file__).resolve().parents[1]
if str(PYTHON_DIR) not in sys.path:
    sys.path.insert(0, str(PYTHON_DIR))


def spec(op: str, params: dict, backend: str = "simd", **over) -> dict:
    """A WorkloadSpec as `--list-json` prints it, with an id built the way the Rust side builds it."""
    text = ",".join(f"{k}={v}" for k, v in sorted(params.items()))
    s = {
        "id": f"cpu-simd/{op}/{backend}/f32/{text}",
        "op": op, "backend": backend, "device": "cpu", "dtype": "f32", "params": params,
        "flops": 100.0, "bytes": 400.0, "threads": 1, "footprint_bytes": 4096,
    }
    s.update(over)
    return s


@pytest.fixture
def small_specs() -> list[dict]:
    return [
        spec("add", {"n": 1000}),
        spec("add", {"n": 1000}, backend="scalar"),
        spec("sum", {"n": 1000}),
        spec("softmax", {"rows": 8, "cols": 33}),
        spec("layer_norm", {"rows": 8, "cols": 33}),
        spec("gemm", {"m": 17, "n": 9, "k": 31}),
    ]


@pytest.fixture
def write_json(tmp_path):
    def write(name: str, value) -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(value) if not isinstance(value, str) else value)
        return path

    return write
