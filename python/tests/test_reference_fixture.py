"""The peers against tensorbench's own f64 references (crates/ops/src/reference.rs).

`fixtures/ops_reference.json` holds fixed inputs and the Rust references' outputs on them; a Rust
test (crates/ops/tests/peer_fixture.rs) fails when the references drift from the file. Here each
peer framework runs the op on those inputs and is held to the op's tolerance against the stored
outputs, and NumPy's f64 reference (ops.py) must agree with the Rust one to f64 rounding.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from tensorbench_peers import frameworks, ops

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "ops_reference.json").read_text())
CASES = {case["op"]: case for case in FIXTURE["cases"]}


def inputs_of(case: dict) -> list[np.ndarray]:
    op = ops.OPS[case["op"]]
    return [
        np.asarray(case["inputs"][name], dtype=np.float32).reshape(shape)
        for name, shape in op.shapes(case["params"])
    ]


def test_the_fixture_covers_every_peer_op():
    assert set(CASES) == set(ops.OPS)
    assert FIXTURE["layer_norm_eps"] == pytest.approx(ops.LAYER_NORM_EPS, rel=1e-6)


@pytest.mark.parametrize("name", sorted(CASES))
def test_numpy_reference_equals_the_rust_reference(name):
    case = CASES[name]
    got = ops.reference(ops.OPS[name], inputs_of(case), case["params"])
    want = np.asarray(case["reference"])
    # Same formula in f64, different summation order: agreement to f64 rounding of O(1) values
    # (absolute 1e-13 where layer_norm's +beta cancels to near zero); a semantic difference
    # (eps, unbiased variance, no max subtraction) is orders of magnitude larger.
    np.testing.assert_allclose(np.ravel(got), want, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("framework", ["numpy", "jax", "torch"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_peer_matches_the_rust_reference(framework, name):
    fw, reason = frameworks.load(framework)
    if fw is None:
        pytest.skip(reason)
    case, op = CASES[name], ops.OPS[name]
    inputs = inputs_of(case)
    got = fw.bind(op, case["params"], inputs, "cpu").output()
    scale = op.error_scale(inputs) if op.error_scale else None
    err = ops.max_rel_err(got, np.asarray(case["reference"]), scale)
    assert err <= ops.tolerance(op, "f32", case["params"]), f"{framework} {name}: {err}"


def test_a_wrong_reference_would_be_caught():
    case, op = CASES["softmax"], ops.OPS["softmax"]
    wrong = np.asarray(case["reference"]).copy()
    wrong[5] *= 1.001
    got = ops.reference(op, inputs_of(case), case["params"])
    assert ops.max_rel_err(got, wrong) > ops.tolerance(op, "f32")
