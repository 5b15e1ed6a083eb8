"""engine/initializers.py: exact Gaussian statistics, orthogonality, auto rule, errors."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import SpecError
from engine.initializers import INITIALIZERS, init_weights


def test_registry_names():
    assert set(INITIALIZERS) == {"auto", "xavier", "relu", "bengio-glorot", "orthogonal", "zeros",
                                 "constant"}


@pytest.mark.parametrize("kind,variance", [
    ("xavier", 1 / 30), ("relu", 2 / 30), ("bengio-glorot", 2 / (30 + 20)),
])
@pytest.mark.parametrize("seed", [0, 1])
def test_gaussian_inits_have_exact_mean_and_variance(kind, variance, seed):
    W = init_weights(kind, np.random.default_rng(seed), (20, 30), 30, 20)
    assert W.dtype == np.float32 and W.shape == (20, 30)
    assert abs(float(W.astype(np.float64).mean())) < 1e-7
    assert float(W.astype(np.float64).var()) == pytest.approx(variance, rel=1e-5)


def test_auto_is_relu_before_relu_else_xavier():
    rng = lambda: np.random.default_rng(3)  # noqa: E731
    np.testing.assert_array_equal(init_weights("auto", rng(), (4, 5), 5, 4, "relu"),
                                  init_weights("relu", rng(), (4, 5), 5, 4))
    np.testing.assert_array_equal(init_weights("auto", rng(), (4, 5), 5, 4, "tanh"),
                                  init_weights("xavier", rng(), (4, 5), 5, 4))
    np.testing.assert_array_equal(init_weights("auto", rng(), (4, 5), 5, 4),
                                  init_weights("xavier", rng(), (4, 5), 5, 4))


@pytest.mark.parametrize("shape", [(4, 9), (9, 4), (6, 6), (3, 2, 2, 2)])
def test_orthogonal(shape):
    W = init_weights("orthogonal", np.random.default_rng(0), shape, 1, 1).astype(np.float64)
    assert W.shape == shape
    M = W.reshape(shape[0], -1)
    if M.shape[0] <= M.shape[1]:
        np.testing.assert_allclose(M @ M.T, np.eye(M.shape[0]), atol=1e-6)  # orthonormal rows
    else:
        np.testing.assert_allclose(M.T @ M, np.eye(M.shape[1]), atol=1e-6)


def test_zeros_and_constant():
    rng = np.random.default_rng(0)
    assert not init_weights("zeros", rng, (2, 3), 3, 2).any()
    np.testing.assert_array_equal(init_weights({"kind": "constant", "value": 0.1}, rng, (2, 3), 3, 2),
                                  np.full((2, 3), 0.1, np.float32))
    assert not init_weights("constant", rng, (2,), 1, 1).any()


def test_same_seed_same_weights():
    a = init_weights("xavier", np.random.default_rng(9), (5, 5), 5, 5)
    b = init_weights("xavier", np.random.default_rng(9), (5, 5), 5, 5)
    np.testing.assert_array_equal(a, b)


def test_single_element_is_finite():
    W = init_weights("relu", np.random.default_rng(0), (1, 1), 1, 1)
    assert np.isfinite(W).all()


def test_unknown_name_is_a_spec_error():
    with pytest.raises(SpecError) as err:
        init_weights("glorot", np.random.default_rng(0), (2, 2), 2, 2, path=("network", 1, "init"))
    assert err.value.problems[0].path == ("network", 1, "init")
