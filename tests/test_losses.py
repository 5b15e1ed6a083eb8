"""engine/losses.py: gradients vs finite differences, stability, batch-split invariance."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from engine.backend import to_numpy
from engine.losses import LOSSES, choose_loss, softmax
from tests.gradcheck import check_loss

FAST = settings(max_examples=30, deadline=None)


def test_registry_names():
    assert set(LOSSES) == {"softmax-cross-entropy", "mse"}


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("K", [2, 5])
def test_gradient_matches_finite_differences(xp, name, K):
    rng = np.random.default_rng(K)
    Y = rng.standard_normal((6, K)) * 2
    T = rng.integers(0, K, 6)
    check_loss(LOSSES[name], Y, T, xp=xp)


def test_soft_targets_and_float_mse_targets(xp):
    rng = np.random.default_rng(0)
    Y = rng.standard_normal((4, 3))
    P = rng.dirichlet(np.ones(3), 4)
    check_loss(LOSSES["softmax-cross-entropy"], Y, P, xp=xp)
    check_loss(LOSSES["mse"], Y, P, xp=xp)
    labels = np.array([0, 2, 1, 1])
    a = LOSSES["softmax-cross-entropy"](xp.asarray(Y), xp.asarray(labels))[0]
    b = LOSSES["softmax-cross-entropy"](xp.asarray(Y), xp.asarray(np.eye(3)[labels]))[0]
    assert a == pytest.approx(b, rel=1e-12)


def test_cross_entropy_values_and_stability(xp):
    Y = xp.asarray(np.array([[0.0, 0.0], [1000.0, -1000.0], [-1000.0, 1000.0]], dtype=np.float32))
    loss, dY = LOSSES["softmax-cross-entropy"](Y, xp.asarray(np.array([0, 0, 0])))
    assert loss == pytest.approx((np.log(2) + 0 + 2000) / 3, rel=1e-5)
    assert np.isfinite(to_numpy(dY)).all() and dY.dtype == xp.float32
    np.testing.assert_allclose(to_numpy(dY), [[-1 / 6, 1 / 6], [0, 0], [-1 / 3, 1 / 3]], atol=1e-7)


def test_mse_value_with_int_labels(xp):
    Y = xp.asarray(np.array([[0.5, 0.5], [1.0, 0.0]]))
    loss, dY = LOSSES["mse"](Y, xp.asarray(np.array([1, 0])))
    assert loss == pytest.approx((0.25 + 0.25 + 0 + 0) / 4)
    np.testing.assert_allclose(to_numpy(dY), [[0.25, -0.25], [0, 0]])


def test_softmax_is_stable_and_normalised(xp):
    X = xp.asarray(np.array([[1e4, 0.0, -1e4], [1.0, 2.0, 3.0]], dtype=np.float32))
    P = to_numpy(softmax(X))
    np.testing.assert_allclose(P.sum(1), 1, rtol=1e-6)
    np.testing.assert_allclose(P[0], [1, 0, 0])
    np.testing.assert_allclose(P[1], np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum(), rtol=1e-6)
    image = np.random.default_rng(0).standard_normal((2, 3, 2, 2))
    np.testing.assert_allclose(to_numpy(softmax(xp.asarray(image), axis=1)).sum(1), 1)


@FAST
@given(st.sampled_from(sorted(LOSSES)), st.integers(2, 20), st.integers(2, 4), st.data())
def test_batch_mean_does_not_depend_on_the_split(name, N, K, data):
    """Loss and gradient of a batch = the size-weighted mean of those of its two parts."""
    cut = data.draw(st.integers(1, N - 1))
    seed = data.draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    Y = rng.standard_normal((N, K))
    T = rng.integers(0, K, N)
    loss = LOSSES[name]
    full, dY = loss(Y, T)
    (la, da), (lb, db) = loss(Y[:cut], T[:cut]), loss(Y[cut:], T[cut:])
    assert full == pytest.approx((cut * la + (N - cut) * lb) / N, rel=1e-9, abs=1e-12)
    # per-example gradients are the same; each part's is scaled by its own 1/size
    np.testing.assert_allclose(dY, np.concatenate([da * cut / N, db * (N - cut) / N]), atol=1e-12)


@FAST
@given(st.integers(1, 6), st.integers(2, 4))
def test_losses_never_write_their_inputs(N, K):
    rng = np.random.default_rng(N * K)
    Y = rng.standard_normal((N, K)).astype(np.float32)
    T = rng.integers(0, K, N)
    Y.flags.writeable = False
    T.flags.writeable = False
    for loss in LOSSES.values():
        loss(Y, T)


def test_choose_loss_follows_cortex():
    assert choose_loss([{"kind": "input"}, {"kind": "linear"}, {"kind": "softmax"}]) == "softmax-cross-entropy"
    assert choose_loss([{"kind": "input"}, {"kind": "linear->softmax"}]) == "softmax-cross-entropy"
    assert choose_loss([{"kind": "input"}, {"kind": "linear"}]) == "mse"
    assert choose_loss([{"kind": "input"}, {"kind": "linear->logistic"}]) == "mse"
