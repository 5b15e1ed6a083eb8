"""engine/step.py: the compiled training step is pure, deterministic and exact."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from engine.network import build
from engine.optimizers import OPTIMIZERS
from engine.step import make_loss_and_grad, make_train_step

MLP = [
    {"kind": "input", "width": 6, "height": 1, "channels": 1},
    {"kind": "linear->tanh", "num-output": 5},
    {"kind": "prelu"},
    {"kind": "linear->logistic", "num-output": 4},
    {"kind": "linear", "num-output": 3},
    {"kind": "softmax"},
]
CONV = [
    {"kind": "input", "width": 6, "height": 6, "channels": 2},
    {"kind": "convolutional", "kernel-dim": 3, "pad": 1, "stride": 1, "num-kernels": 3},
    {"kind": "relu"},
    {"kind": "max-pooling", "kernel-dim": 2, "pad": 0, "stride": 2},
    {"kind": "linear", "num-output": 3},
    {"kind": "softmax"},
]


def data(net, n, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n,) + net.in_shape).astype(dtype)
    return X, rng.integers(0, 3, n)


def readonly(a):
    a = np.array(a)
    a.flags.writeable = False
    return a


@pytest.mark.parametrize("desc", [MLP, CONV], ids=["mlp", "conv"])
@pytest.mark.parametrize("loss", ["softmax-cross-entropy", "mse"])
def test_network_gradient_matches_finite_differences(desc, loss):
    net, flat = build(desc, np.random.default_rng(0), dtype=np.float64)
    X, y = data(net, 7)
    loss_and_grad = make_loss_and_grad(net, loss)
    _, grads = loss_and_grad(flat, X, y, None, train=False)
    eps = 1e-6
    rng = np.random.default_rng(1)
    for i in rng.choice(net.size, size=min(net.size, 40), replace=False):
        plus, minus = flat.copy(), flat.copy()
        plus[i] += eps
        minus[i] -= eps
        numeric = (loss_and_grad(plus, X, y, None, train=False)[0]
                   - loss_and_grad(minus, X, y, None, train=False)[0]) / (2 * eps)
        assert grads[i] == pytest.approx(numeric, rel=1e-4, abs=1e-7), i


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 40), st.data())
def test_mean_gradient_does_not_depend_on_how_the_batch_is_split(n, draw):
    net, flat = build(MLP, np.random.default_rng(0), dtype=np.float64)
    X, y = data(net, n, seed=n)
    cut = draw.draw(st.integers(1, n - 1))
    loss_and_grad = make_loss_and_grad(net, "softmax-cross-entropy")
    _, whole = loss_and_grad(flat, X, y, None, train=False)
    _, first = loss_and_grad(flat, X[:cut], y[:cut], None, train=False)
    _, second = loss_and_grad(flat, X[cut:], y[cut:], None, train=False)
    np.testing.assert_allclose(whole, (cut * first + (n - cut) * second) / n, rtol=1e-9, atol=1e-12)


def adam():
    return OPTIMIZERS["adam"]({"learning-rate": 0.01}, lambda step: 0.01)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_step_never_writes_its_inputs_and_returns_new_values(seed):
    desc = MLP[:2] + [{"kind": "dropout", "probability": 0.7}] + MLP[3:]
    net, flat = build(desc, np.random.default_rng(seed))
    X, y = data(net, 9, seed, np.float32)
    X, y = readonly(X), readonly(y)
    opt = adam()
    state = opt.init(flat)
    state = type(state)(*[readonly(s) if isinstance(s, np.ndarray) else s for s in state])
    before = flat.copy()
    new_flat, new_state, loss = make_train_step(net, "softmax-cross-entropy", opt)(
        flat, state, X, y, np.random.default_rng(seed))
    assert np.array_equal(flat, before)
    assert new_flat is not flat and not np.shares_memory(new_flat, flat)
    assert not new_flat.flags.writeable
    assert np.isfinite(loss)


def test_same_seed_gives_bit_identical_steps():
    desc = MLP[:2] + [{"kind": "dropout", "probability": 0.7}] + MLP[3:]

    def run():
        net, flat = build(desc, np.random.default_rng(5))
        X, y = data(net, 64, 5, np.float32)
        opt = adam()
        state, step, rng = opt.init(flat), make_train_step(net, "softmax-cross-entropy", opt), np.random.default_rng(9)
        for s in range(0, 64, 8):
            flat, state, _ = step(flat, state, X[s:s + 8], y[s:s + 8], rng)
        return flat

    assert np.array_equal(run(), run())


def sgd(lr=0.1):
    return OPTIMIZERS["sgd"]({"learning-rate": lr, "momentum": 0.0, "nesterov": False}, lambda step: lr)


def test_frozen_layers_do_not_move_and_attenuation_scales_updates():
    desc = [MLP[0], {"kind": "linear", "num-output": 5, "frozen": True},
            {"kind": "linear", "num-output": 4, "learning-attenuation": 0.5},
            {"kind": "linear", "num-output": 3}, {"kind": "softmax"}]
    net, flat = build(desc, np.random.default_rng(0))
    X, y = data(net, 16, 0, np.float32)
    opt = sgd()
    new, _, _ = make_train_step(net, "softmax-cross-entropy", opt)(flat, opt.init(flat), X, y, None)
    _, grads = make_loss_and_grad(net, "softmax-cross-entropy")(flat, X, y, None)
    frozen, half, full = (net.infos[i].slices for i in (1, 2, 3))
    for a, b, _ in frozen.values():
        assert np.array_equal(new[a:b], flat[a:b])
    for a, b, _ in half.values():
        np.testing.assert_allclose(new[a:b] - flat[a:b], -0.05 * grads[a:b], rtol=1e-4, atol=1e-7)
    for a, b, _ in full.values():
        np.testing.assert_allclose(new[a:b] - flat[a:b], -0.1 * grads[a:b], rtol=1e-4, atol=1e-7)


def test_l1_and_l2_act_on_weights_not_biases():
    desc = [MLP[0], {"kind": "linear", "num-output": 3, "l2-regularization": 0.5, "l1-regularization": 0.25},
            {"kind": "softmax"}]
    net, flat = build(desc, np.random.default_rng(0))
    X, y = data(net, 16, 0, np.float32)
    opt = sgd(1.0)
    new, _, _ = make_train_step(net, "softmax-cross-entropy", opt)(flat, opt.init(flat), X, y, None)
    _, grads = make_loss_and_grad(net, "softmax-cross-entropy")(flat, X, y, None)
    a, b, _ = net.infos[1].slices["weight"]
    expected = grads[a:b] + 0.5 * flat[a:b] + 0.25 * np.sign(flat[a:b])
    np.testing.assert_allclose(flat[a:b] - new[a:b], expected, rtol=1e-4, atol=1e-6)
    a, b, _ = net.infos[1].slices["bias"]
    np.testing.assert_allclose(flat[a:b] - new[a:b], grads[a:b], rtol=1e-4, atol=1e-6)
