import json
import re
import subprocess
import sys

import pytest

from conftest import PYTHON_DIR, spec
from tensorbench_peers.__main__ import main
from tensorbench_peers.protocol import BadInput, group, load_workloads, read_measurements

MEASUREMENT_FIELDS = {
    "id", "op", "backend", "device", "dtype", "params", "threads", "mode", "flops", "bytes",
    "samples_ns", "iters_per_sample", "stats", "throughput", "roofline", "validation", "alloc",
    "sampling", "status", "reason", "extra",
}


def test_workload_list_round_trips_and_groups_shared_shapes(small_specs, write_json):
    path = write_json("w.json", small_specs)
    specs = load_workloads(path)
    assert specs == small_specs
    tasks = group(specs)
    assert len(tasks) == 5  # add n=1000 appears for simd and scalar: measured once
    add = tasks[0]
    assert add.source_ids == ["cpu-simd/add/simd/f32/n=1000", "cpu-simd/add/scalar/f32/n=1000"]
    assert add.peer_id("numpy") == "peers/add/numpy/f32/n=1000"
    assert tasks[-1].peer_id("jax") == "peers/gemm/jax/f32/k=31,m=17,n=9"


def test_peer_ids_of_device_workloads_name_the_device():
    [task] = group([spec("add", {"n": 8}, device="cuda:0")])
    assert task.peer_id("torch") == "peers-cuda/add/torch/f32/n=8"


@pytest.mark.parametrize("text, message", [
    ("not json", "not JSON"),
    ('{"id": 1}', "expected a JSON array"),
    ("[3]", "workload [0]: expected an object"),
])
def test_malformed_lists_name_the_file(write_json, text, message):
    path = write_json("bad.json", text)
    with pytest.raises(BadInput, match=re.escape(message)) as e:
        load_workloads(path)
    assert str(path) in str(e.value)


def test_missing_and_mistyped_fields_are_named(write_json):
    s = spec("add", {"n": 8})
    del s["flops"]
    with pytest.raises(BadInput, match=r"workload \[1\]: field `flops` is missing"):
        load_workloads(write_json("a.json", [spec("add", {"n": 8}), s]))
    with pytest.raises(BadInput, match="field `threads` must be int"):
        load_workloads(write_json("b.json", [spec("add", {"n": 8}, threads="2")]))


def test_bad_input_exits_2_with_the_file_named(write_json, capsys, tmp_path):
    path = write_json("bad.json", "[{]")
    assert main(["--workloads", str(path), "--out", str(tmp_path / "o.jsonl")]) == 2
    assert str(path) in capsys.readouterr().err
    assert main(["--workloads", str(tmp_path / "missing.json")]) == 2
    assert main(["--workloads", str(path), "--peers", "tensorflow"]) == 2
    assert main(["--profile", "fast"]) == 2


def test_runner_output_is_one_schema_measurement_per_line(small_specs, write_json, tmp_path):
    out = tmp_path / "m.jsonl"
    code = main(["--workloads", str(write_json("w.json", small_specs)), "--out", str(out),
                 "--peers", "numpy", "--seed", "7", "--threads", "1"])
    assert code == 0
    ms = read_measurements(out)
    assert len(ms) == 5
    for m in ms:
        assert set(m) == MEASUREMENT_FIELDS
        assert m["backend"] == "numpy" and m["status"] == "ok", m["reason"]
        assert m["threads"] == 1 and m["extra"]["framework_version"]
        assert m["stats"]["ci_low_ns"] <= m["stats"]["median_ns"] <= m["stats"]["ci_high_ns"]
        assert m["validation"]["passed"] and m["sampling"]["clock_source"] == "host"
        assert len(m["samples_ns"]) >= 10 and m["iters_per_sample"] >= 1
    # Strict JSON, parseable by serde_json: no NaN or Infinity.
    json.loads("[" + ",".join(out.read_text().splitlines()) + "]", parse_constant=pytest.fail)


def test_a_torn_last_line_is_dropped(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"id": "a", "status": "ok"}\n{"id": "b", "sta')
    assert [m["id"] for m in read_measurements(path)] == ["a"]


def test_module_runs_as_a_program(small_specs, write_json):
    proc = subprocess.run(
        [sys.executable, "-m", "tensorbench_peers", "--workloads",
         str(write_json("w.json", small_specs[:1])), "--peers", "numpy", "--out", "-"],
        cwd=PYTHON_DIR, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    [m] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert m["id"] == "peers/add/numpy/f32/n=1000" and m["status"] == "ok"
