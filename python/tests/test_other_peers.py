"""JAX and PyTorch peers, where installed (skipped with the reason otherwise)."""

import pytest

from tensorbench_peers import frameworks, ops
from test_numpy_peers import SHAPES


@pytest.mark.parametrize("framework", ["jax", "torch"])
@pytest.mark.parametrize("name", sorted(SHAPES))
def test_peer_matches_the_f64_reference(framework, name):
    fw, reason = frameworks.load(framework)
    if fw is None:
        pytest.skip(reason)
    op, params = ops.OPS[name], SHAPES[name]
    inputs = ops.make_inputs(op, params, "f32", seed=5)
    bound = fw.bind(op, params, inputs, "cpu")
    got = bound.output()
    scale = op.error_scale(inputs) if op.error_scale else None
    assert str(got.dtype) == "float32"
    assert ops.max_rel_err(got, ops.reference(op, inputs, params), scale) <= ops.tolerance(op, "f32", params)
    assert bound.timer.time_batch(3) > 0
    if framework == "jax":
        assert bound.extra["compile_ns"] > 0


def test_jax_reports_no_cuda_device_here_as_a_reason():
    fw, reason = frameworks.load("jax")
    if fw is None:
        pytest.skip(reason)
    problem = fw.device_problem("cuda:7")
    assert problem is None or "cuda" in problem
    assert fw.device_problem("tpu:0") is not None
