"""The cross-check against tensorbench, on dumps laid out as `--dump-tensors` writes them."""

import json

import numpy as np
import pytest

from conftest import spec
from tensorbench_peers import crosscheck, ops
from tensorbench_peers.__main__ import main
from tensorbench_peers.frameworks import numpy_peer
from tensorbench_peers.protocol import BadInput, read_measurements


def write_dump(root, index, s, tensors):
    """`tensors`: (name, role, array) as tensorbench's dump writes them (f32, little-endian)."""
    d = root / str(index)
    d.mkdir(parents=True)
    meta = []
    for name, role, array in tensors:
        array = np.asarray(array, dtype="<f4")
        array.tofile(d / f"{name}.f32")
        meta.append({"name": name, "role": role, "shape": list(array.shape), "file": f"{name}.f32"})
    (d / "meta.json").write_text(json.dumps({"spec": s, "seed": 1, "tensors": meta}))


def gemm_dump(root, index, params, plant_error=False):
    rng = np.random.default_rng(index)
    a = rng.uniform(-1, 1, (params["m"], params["k"])).astype(np.float32)
    b = rng.uniform(-1, 1, (params["k"], params["n"])).astype(np.float32)
    c = (a.astype(np.float64) @ b).astype(np.float32)
    if plant_error:
        c[1, 2] += 0.05 * np.abs(c).max()
    write_dump(root, index, spec("gemm", params), [("a", "input", a), ("b", "input", b), ("c", "output", c)])


def test_agreeing_output_fills_validation(tmp_path, write_json):
    params = {"m": 8, "n": 6, "k": 16}
    gemm_dump(tmp_path / "dump", 0, params)
    out = tmp_path / "m.jsonl"
    code = main(["--workloads", str(write_json("w.json", [spec("gemm", params)])), "--out", str(out),
                 "--peers", "numpy", "--tensors", str(tmp_path / "dump")])
    [m] = read_measurements(out)
    assert code == 0 and m["status"] == "ok"
    assert m["validation"]["passed"]
    assert m["validation"]["reference"].startswith("tensorbench output of cpu-simd/gemm/simd")
    assert m["extra"]["cross_check"]["passed"]


def test_planted_wrong_output_marks_the_peer_invalid(tmp_path, write_json):
    small, large = {"m": 8, "n": 6, "k": 16}, {"m": 32, "n": 32, "k": 32}
    gemm_dump(tmp_path / "dump", 0, small, plant_error=True)
    out = tmp_path / "m.jsonl"
    specs = [spec("gemm", small), spec("gemm", large)]
    code = main(["--workloads", str(write_json("w.json", specs)), "--out", str(out),
                 "--peers", "numpy", "--tensors", str(tmp_path / "dump")])
    ms = read_measurements(out)
    assert code == 1
    # The small size was dumped; the large one shares the op's code path and is judged by it too.
    for m in ms:
        assert m["status"] == "invalid", m["id"]
        assert m["validation"]["passed"] is False
        assert "disagrees with tensorbench cpu-simd/gemm/simd/f32/k=16,m=8,n=6" in m["reason"]
        assert m["stats"] is None and m["samples_ns"] == []


def test_inputs_are_matched_by_name_and_optional_ones_may_be_absent(tmp_path):
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    y = ops.reference(ops.OPS["layer_norm"], [x], {}).astype(np.float32)
    s = spec("layer_norm", {"rows": 3, "cols": 4})
    write_dump(tmp_path, 0, s, [("y", "output", y), ("x", "input", x)])
    [dump] = crosscheck.load_dumps(tmp_path)
    check = crosscheck.check(numpy_peer.NumpyFramework(), dump)
    assert check.passed, check.max_rel_err


def test_a_short_tensor_file_is_bad_input(tmp_path):
    s = spec("add", {"n": 4})
    write_dump(tmp_path, 0, s, [("x", "input", np.ones(4)), ("y", "input", np.ones(4)), ("z", "output", np.ones(4))])
    (tmp_path / "0" / "z.f32").write_bytes(b"\0" * 8)
    with pytest.raises(BadInput, match=r"z\.f32: 2 f32 values, but shape \[4\] needs 4"):
        crosscheck.load_dumps(tmp_path)


def test_a_meta_without_tensors_field_is_bad_input(tmp_path):
    (tmp_path / "0").mkdir()
    (tmp_path / "0" / "meta.json").write_text(json.dumps({"spec": spec("add", {"n": 4})}))
    with pytest.raises(BadInput, match="field `tensors` is missing"):
        crosscheck.load_dumps(tmp_path)
