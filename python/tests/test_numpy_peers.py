import numpy as np
import pytest

from tensorbench_peers import ops
from tensorbench_peers.frameworks import numpy_peer

SHAPES = {
    "add": {"n": 1001},
    "sum": {"n": 4097},
    "softmax": {"rows": 5, "cols": 67},
    "layer_norm": {"rows": 5, "cols": 67},
    "gemm": {"m": 13, "n": 7, "k": 29},
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_numpy_peer_matches_the_f64_reference(name):
    op, params = ops.OPS[name], SHAPES[name]
    inputs = ops.make_inputs(op, params, "f32", seed=3)
    got = numpy_peer.NumpyFramework().bind(op, params, inputs, "cpu").output()
    ref = ops.reference(op, inputs, params)
    scale = op.error_scale(inputs) if op.error_scale else None
    assert got.dtype == np.float32
    assert ops.max_rel_err(got, ref, scale) <= ops.tolerance(op, "f32", params)


def test_reference_semantics_on_hand_computed_values():
    x = np.array([[0.0, np.log(3.0)]])
    np.testing.assert_allclose(ops.reference(ops.OPS["softmax"], [x], {}), [[0.25, 0.75]])
    y = ops.reference(ops.OPS["layer_norm"], [np.array([[1.0, 3.0]])], {"eps": 0.0})
    np.testing.assert_allclose(y, [[-1.0, 1.0]])
    a, b = np.array([[1.0, 2.0]]), np.array([[3.0], [4.0]])
    assert ops.reference(ops.OPS["gemm"], [a, b], {}) == 11.0


def test_a_wrong_element_is_caught():
    ref = np.ones(100)
    got = ref.copy()
    assert ops.max_rel_err(got, ref) == 0.0
    got[42] = 1.001
    assert ops.max_rel_err(got, ref) > ops.tolerance(ops.OPS["add"], "f32")
    got[42] = np.nan
    assert ops.max_rel_err(got, ref) == float("inf")
    assert ops.max_rel_err(got[:99], ref) == float("inf")


def test_missing_params_are_named():
    with pytest.raises(ops.OpError, match="params lacks `k`"):
        ops.OPS["gemm"].shapes({"m": 2, "n": 2})
    with pytest.raises(ops.OpError, match="params.n = -1"):
        ops.OPS["add"].shapes({"n": -1})


def test_blas_is_recorded():
    info = numpy_peer.NumpyFramework().info()
    assert info["framework_version"] == np.__version__
    assert info["blas"]["source"] in ("threadpoolctl", "numpy.show_config")
