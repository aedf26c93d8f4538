"""The runner's protocol with the Rust side.

In: the JSON array `tensorbench-<target> --list-json` prints (one `WorkloadSpec` per workload).
Out: JSON Lines, one `Measurement` of the run-file schema per line, flushed as each finishes, so an
interrupted runner leaves every finished measurement readable.

Peers measure each distinct (op, dtype, device, params) once, however many tensorbench backends
share it, under the id `peers/<op>/<framework>/<dtype>/<params>` (`peers-cuda/...` off the host), so
they sit beside tensorbench's ids in tables.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

# Field -> accepted Python types, as `WorkloadSpec` serialises them.
SPEC_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "op": (str,),
    "backend": (str,),
    "device": (str,),
    "dtype": (str,),
    "params": (dict,),
    "flops": (int, float),
    "bytes": (int, float),
    "threads": (int,),
    "footprint_bytes": (int,),
}


class BadInput(Exception):
    """Input the runner cannot use; the message names the file and the field. Exit code 2."""


@dataclass
class Task:
    """One distinct workload shape, measured once per framework."""

    op: str
    dtype: str
    device: str
    params: dict
    params_text: str  # the params part of the tensorbench id, verbatim
    flops: float
    bytes: float
    footprint_bytes: int
    source_ids: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.op, self.dtype, self.device, self.params_text)

    def peer_id(self, framework: str) -> str:
        suite = "peers" if self.device == "cpu" else f"peers-{self.device.split(':')[0]}"
        return f"{suite}/{self.op}/{framework}/{self.dtype}/{self.params_text}"


def load_workloads(path: Path) -> list[dict]:
    """Reads and checks the workload list; BadInput naming the file, the entry and the field."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise BadInput(f"{path}: cannot read the workload list: {e.strerror or e}") from e
    try:
        specs = json.loads(text)
    except json.JSONDecodeError as e:
        raise BadInput(f"{path}: not JSON ({e.msg} at line {e.lineno} column {e.colno})") from e
    if not isinstance(specs, list):
        raise BadInput(f"{path}: expected a JSON array of workload specs, found {type(specs).__name__}")
    for index, spec in enumerate(specs):
        check_spec(spec, f"{path}: workload [{index}]")
    return specs


def check_spec(spec: object, where: str) -> None:
    if not isinstance(spec, dict):
        raise BadInput(f"{where}: expected an object, found {type(spec).__name__}")
    for name, types in SPEC_FIELDS.items():
        if name not in spec:
            raise BadInput(f"{where}: field `{name}` is missing")
        value = spec[name]
        if isinstance(value, bool) or not isinstance(value, types):
            wanted = " or ".join(t.__name__ for t in types)
            raise BadInput(f"{where}: field `{name}` must be {wanted}, found {json.dumps(value)}")


def params_text(spec: dict) -> str:
    """The `k=v,...` part of the tensorbench id, taken verbatim so the peer id matches it exactly."""
    parts = spec["id"].split("/", 4)
    if len(parts) == 5:
        return parts[4]
    return ",".join(
        f"{k}={v}" if isinstance(v, str) else f"{k}={json.dumps(v)}" for k, v in sorted(spec["params"].items())
    )


def group(specs: list[dict]) -> list[Task]:
    """One task per distinct (op, dtype, device, params), in first-seen order."""
    tasks: dict[tuple, Task] = {}
    for spec in specs:
        task = Task(
            op=spec["op"], dtype=spec["dtype"], device=spec["device"], params=spec["params"],
            params_text=params_text(spec), flops=float(spec["flops"]), bytes=float(spec["bytes"]),
            footprint_bytes=spec["footprint_bytes"],
        )
        tasks.setdefault(task.key, task).source_ids.append(spec["id"])
    return list(tasks.values())


def blank_measurement(task: Task, framework: str, threads: int, mode: str) -> dict:
    """A measurement of `task` on `framework` with nothing measured yet (status `skipped`)."""
    return {
        "id": task.peer_id(framework),
        "op": task.op,
        "backend": framework,
        "device": task.device,
        "dtype": task.dtype,
        "params": task.params,
        "threads": threads,
        "mode": mode,
        "flops": task.flops,
        "bytes": task.bytes,
        "samples_ns": [],
        "iters_per_sample": 0,
        "stats": None,
        "throughput": None,
        "roofline": None,
        "validation": None,
        "alloc": None,
        "sampling": None,
        "status": "skipped",
        "reason": None,
        "extra": {"peer_of": list(task.source_ids)},
    }


def throughput(task: Task, median_ns: float) -> dict:
    secs = median_ns * 1e-9
    return {
        "gflops": task.flops / secs / 1e9 if task.flops > 0 else None,
        "gbps": task.bytes / secs / 1e9 if task.bytes > 0 else None,
    }


def finite(x: float) -> float:
    """JSON has no infinity or NaN; the largest double stands in, and the reason says why."""
    return x if math.isfinite(x) else sys.float_info.max


class MeasurementWriter:
    """Writes one measurement per line and flushes it, to a file or to stdout (`-`)."""

    def __init__(self, path: str) -> None:
        self._own = path != "-"
        self._out: IO[str] = open(path, "w", encoding="utf-8") if self._own else sys.stdout

    def write(self, m: dict) -> None:
        self._out.write(json.dumps(m, allow_nan=False) + "\n")
        self._out.flush()

    def close(self) -> None:
        if self._own:
            self._out.close()


def read_measurements(path: Path) -> list[dict]:
    """Reads a runner's output back (tests and tools); a torn last line is dropped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    for number, line in enumerate(lines, start=1):
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines):
                break
            raise
    return out


def status_counts(measurements: list[dict]) -> dict[str, int]:
    counts = {"ok": 0, "invalid": 0, "failed": 0, "skipped": 0}
    for m in measurements:
        counts[m["status"]] = counts.get(m["status"], 0) + 1
    return counts

