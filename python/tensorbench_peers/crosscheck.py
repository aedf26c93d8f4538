"""Cross-checking peers against tensorbench on identical inputs.

`tensorbench-<target> --dump-tensors DIR` runs each workload once and writes `DIR/<k>/meta.json`
({spec, seed, tensors: [{name, role, shape, file}]}) with one raw little-endian f32 file per tensor.
A peer computes the op on the dumped inputs and its output is compared with tensorbench's output;
since both carry rounding error, the bound is twice the op's tolerance against an f64 reference.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from . import ops
from .frameworks.base import Framework
from .protocol import BadInput, check_spec, finite, params_text


@dataclass
class Dump:
    """One dumped tensorbench workload: its spec, inputs in the op's order and its output."""

    spec: dict
    inputs: list[np.ndarray]
    output: np.ndarray

    @property
    def key(self) -> tuple[str, str, str, str]:
        s = self.spec
        return (s["op"], s["dtype"], s["device"], params_text(s))

    @property
    def size(self) -> int:
        return sum(x.size for x in self.inputs)


@dataclass
class CrossCheck:
    against: str  # the tensorbench workload id
    params_text: str
    max_rel_err: float
    tolerance: float

    @property
    def passed(self) -> bool:
        return self.max_rel_err <= self.tolerance

    def to_json(self) -> dict:
        return {
            "against": self.against,
            "params": self.params_text,
            "max_rel_err": finite(self.max_rel_err),
            "tolerance": self.tolerance,
            "passed": self.passed,
        }


def _field(obj: dict, name: str, types: tuple, where: str):
    if name not in obj:
        raise BadInput(f"{where}: field `{name}` is missing")
    if not isinstance(obj[name], types):
        raise BadInput(f"{where}: field `{name}` has the wrong type ({json.dumps(obj[name])})")
    return obj[name]


def _read_tensor(directory: Path, entry: dict, where: str) -> tuple[str, str, np.ndarray]:
    name = _field(entry, "name", (str,), where)
    role = _field(entry, "role", (str,), where)
    shape = _field(entry, "shape", (list,), where)
    path = directory / _field(entry, "file", (str,), where)
    if role not in ("input", "output"):
        raise BadInput(f"{where}: field `role` must be input or output, found {role!r}")
    if not all(isinstance(d, int) and d >= 0 for d in shape):
        raise BadInput(f"{where}: field `shape` must list non-negative integers")
    try:
        data = np.fromfile(path, dtype="<f4")
    except OSError as e:
        raise BadInput(f"{path}: cannot read tensor {name!r}: {e}") from e
    expected = int(np.prod(shape, dtype=np.int64))
    if data.size != expected:
        raise BadInput(f"{path}: {data.size} f32 values, but shape {shape} needs {expected}")
    return name, role, data.reshape(shape)


def _order_inputs(op: ops.OpDef, named: list[tuple[str, np.ndarray]], where: str) -> list[np.ndarray]:
    """The dumped inputs in the op's order: by name when the names match the op's, else as dumped."""
    wanted = [name for name, _ in op.shapes(_unchecked(op))]
    required = [n for n in wanted if n not in op.optional]
    names = [n for n, _ in named]
    if len(named) not in (len(wanted), len(required)):
        raise BadInput(f"{where}: {op.name} takes inputs {wanted}, the dump has {names}")
    by_name = dict(named)
    if set(names) <= set(wanted):
        return [by_name[n] for n in wanted if n in by_name]
    return [x for _, x in named]


def _unchecked(op: ops.OpDef) -> dict:
    return {k: 1 for k in op.params}


def load_dump(directory: Path) -> Optional[Dump]:
    """One dump directory, or None when its op has no peer implementation."""
    meta_path = directory / "meta.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except OSError as e:
        raise BadInput(f"{meta_path}: cannot read: {e.strerror or e}") from e
    except json.JSONDecodeError as e:
        raise BadInput(f"{meta_path}: not JSON ({e.msg} at line {e.lineno})") from e
    if not isinstance(meta, dict):
        raise BadInput(f"{meta_path}: expected an object")
    spec = _field(meta, "spec", (dict,), str(meta_path))
    check_spec(spec, f"{meta_path}: spec")
    op = ops.OPS.get(spec["op"])
    if op is None:
        return None
    tensors = _field(meta, "tensors", (list,), str(meta_path))
    read = [_read_tensor(directory, t, f"{meta_path}: tensors[{i}]") for i, t in enumerate(tensors)]
    inputs = [(n, x) for n, role, x in read if role == "input"]
    outputs = [x for _, role, x in read if role == "output"]
    if not outputs:
        raise BadInput(f"{meta_path}: field `tensors` has no output")
    return Dump(spec, _order_inputs(op, inputs, str(meta_path)), outputs[0])


def load_dumps(root: Path) -> list[Dump]:
    """Every dump under `root` (sub-directories holding a meta.json), in name order."""
    if not root.is_dir():
        raise BadInput(f"{root}: --tensors is not a directory")
    dirs = sorted((d for d in root.iterdir() if (d / "meta.json").is_file()), key=lambda d: d.name)
    return [d for d in (load_dump(p) for p in dirs) if d is not None]


def dump_for(dumps: list[Dump], op: str, dtype: str, device: str, params: str) -> Optional[Dump]:
    """The dump of exactly this workload, else the smallest of the same op, dtype and device."""
    same = [d for d in dumps if d.key[:3] == (op, dtype, device)]
    exact = [d for d in same if d.key[3] == params]
    return (exact or sorted(same, key=lambda d: d.size) or [None])[0]


def check(framework: Framework, dump: Dump) -> CrossCheck:
    """Runs the op in `framework` on the dump's inputs and compares with tensorbench's output."""
    spec = dump.spec
    op = ops.OPS[spec["op"]]
    dtype = ops.DTYPES.get(spec["dtype"], np.float32)
    inputs = [x.astype(dtype) for x in dump.inputs]
    got = framework.bind(op, spec["params"], inputs, spec["device"]).output()
    scale = op.error_scale(inputs) if op.error_scale else None
    err = ops.max_rel_err(got, dump.output, scale)
    return CrossCheck(spec["id"], params_text(spec), err, 2.0 * ops.tolerance(op, spec["dtype"], spec["params"]))
