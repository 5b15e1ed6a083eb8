"""engine/optimizers.py: convergence table, hand-computed Adam, fused == chained, step count, purity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from engine.backend import to_numpy
from engine.optimizers import (
    OPTIMIZERS, add_decayed_weights, apply_updates, chain, scale, scale_by_adadelta, scale_by_adam,
    scale_by_rms, scale_by_schedule, trace,
)

FAST = settings(max_examples=30, deadline=None)

CURVATURE = np.array([1.0, 3.0, 0.5, 2.0], np.float32)
TARGET = np.array([1.0, -2.0, 0.5, 3.0], np.float32)


def quadratic_grad(x):
    """Gradient of 0.5 * sum(CURVATURE * (x - TARGET)**2)."""
    return CURVATURE * (x - TARGET)


# optimizer, options, steps, tolerance on |x - TARGET| (Optax-style table)
CONVERGENCE = [
    ("sgd", {"learning-rate": 0.05}, 300, 1e-3),
    ("sgd", {"learning-rate": 0.05, "nesterov": False}, 300, 1e-3),
    ("sgd", {"learning-rate": 0.2, "momentum": 0.0}, 300, 1e-3),
    ("adam", {"learning-rate": 0.05}, 1000, 1e-2),
    ("adamw", {"learning-rate": 0.05, "weight-decay": 0.0}, 1000, 1e-2),
    ("rmsprop", {"learning-rate": 0.01}, 1000, 2e-2),
    ("rmsprop", {"learning-rate": 0.01, "momentum": 0.5}, 1000, 2e-2),
    ("adadelta", {"learning-rate": 10.0}, 1000, 5e-2),
]


@pytest.mark.parametrize("kind,cfg,steps,tol", CONVERGENCE, ids=lambda v: str(v))
def test_converges_on_a_quadratic(xp, kind, cfg, steps, tol):
    opt = OPTIMIZERS[kind](cfg, None)
    target = xp.asarray(TARGET)
    x = xp.zeros(4, dtype=xp.float32)
    state = opt.init(x)
    for _ in range(steps):
        updates, state = opt.update(xp.asarray(CURVATURE) * (x - target), state, x)
        x = apply_updates(x, updates)
    assert x.dtype == xp.float32
    assert np.abs(to_numpy(x) - TARGET).max() < tol
    assert state.count == steps


def test_adamw_decays_towards_zero():
    opt = OPTIMIZERS["adamw"]({"learning-rate": 0.01, "weight-decay": 0.5}, None)
    x = np.ones(3, np.float32)
    state = opt.init(x)
    for _ in range(50):
        u, state = opt.update(np.zeros(3, np.float32), state, x)
        x = apply_updates(x, u)
    np.testing.assert_allclose(x, (1 - 0.01 * 0.5) ** 50, rtol=1e-5)


def test_adam_matches_hand_computed_steps():
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    opt = OPTIMIZERS["adam"]({"learning-rate": lr}, None)
    x = np.array([1.0, -2.0], np.float32)
    state = opt.init(x)
    grads = [np.array([0.5, -1.0], np.float32), np.array([0.1, 2.0], np.float32)]
    m = v = np.zeros(2)
    expected = x.astype(np.float64)
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g.astype(np.float64) ** 2
        expected = expected - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        u, state = opt.update(g, state, x)
        x = apply_updates(x, u)
        np.testing.assert_allclose(x, expected, rtol=1e-6)
        assert state.count == t
    # the first Adam step moves each coordinate by ~lr against the gradient's sign
    np.testing.assert_allclose(apply_updates(np.zeros(2, np.float32),
                                             opt.update(grads[0], opt.init(np.zeros(2)), np.zeros(2))[0]),
                               [-lr, lr], rtol=1e-6)


def test_schedule_sees_the_step_count_which_lives_in_the_state():
    seen = []

    def schedule(step):
        seen.append(step)
        return 0.1

    for kind in OPTIMIZERS:
        seen.clear()
        opt = OPTIMIZERS[kind]({}, schedule)
        x = np.ones(3, np.float32)
        state = opt.init(x)
        assert state.count == 0
        for _ in range(4):
            _, state = opt.update(np.ones(3, np.float32), state, x)
        assert state.count == 4 and seen == [0, 1, 2, 3], kind


def _run(opt, grads, x):
    state = opt.init(x)
    out = []
    for g in grads:
        u, state = opt.update(g, state, x)
        x = apply_updates(x, u)
        out.append(x)
    return np.array(out)


def _sched(step):
    return 0.05 / (1 + step)


@pytest.mark.parametrize("kind,cfg,chained", [
    ("adam", {}, chain(scale_by_adam(0.9, 0.999, 1e-8), scale_by_schedule(_sched))),
    ("adamw", {"weight-decay": 0.1},
     chain(scale_by_adam(0.9, 0.999, 1e-8), add_decayed_weights(0.1), scale_by_schedule(_sched))),
    ("sgd", {"momentum": 0.8}, chain(trace(0.8, nesterov=True), scale_by_schedule(_sched))),
    ("sgd", {"momentum": 0.8, "nesterov": False}, chain(trace(0.8), scale_by_schedule(_sched))),
    ("rmsprop", {"decay": 0.8}, chain(scale_by_rms(0.8, 1e-8), scale_by_schedule(_sched))),
    ("rmsprop", {"momentum": 0.5}, chain(scale_by_rms(0.9, 1e-8), trace(0.5), scale_by_schedule(_sched))),
    ("adadelta", {}, chain(scale_by_adadelta(0.05, 1e-6), scale_by_schedule(_sched))),
])
def test_fused_optimizers_equal_their_chains(kind, cfg, chained):
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((6, 5))
    x = rng.standard_normal(5)
    np.testing.assert_allclose(_run(OPTIMIZERS[kind](cfg, _sched), grads, x), _run(chained, grads, x),
                               rtol=1e-10, atol=1e-12)


def test_adadelta_uses_cortex_weighting():
    """acc = decay * g^2 + (1 - decay) * acc with decay 0.05: the new gradient weighs 5%."""
    opt = OPTIMIZERS["adadelta"]({}, None)
    g = np.array([2.0])
    u, state = opt.update(g, opt.init(np.zeros(1)), np.zeros(1))
    np.testing.assert_allclose(state.acc_grad, 0.05 * 4)
    np.testing.assert_allclose(u, -np.sqrt(1e-6) / np.sqrt(0.2 + 1e-6) * 2)


def test_small_transforms():
    g, p = np.array([1.0, -2.0]), np.array([3.0, 4.0])
    assert np.allclose(scale(0.5).update(g, scale(0.5).init(p), p)[0], [0.5, -1.0])
    t = add_decayed_weights(0.1)
    assert np.allclose(t.update(g, t.init(p), p)[0], [1.3, -1.6])
    s = scale_by_schedule(lambda step: 0.1)
    assert np.allclose(s.update(g, s.init(p), p)[0], [-0.1, 0.2])


def _read_only(a):
    a = np.array(a)
    a.flags.writeable = False
    return a


@FAST
@given(st.sampled_from(sorted(OPTIMIZERS)), st.integers(1, 8), st.integers(1, 3))
def test_update_never_writes_its_inputs(kind, size, steps):
    rng = np.random.default_rng(size)
    opt = OPTIMIZERS[kind]({"momentum": 0.5} if kind in ("sgd", "rmsprop") else {}, None)
    x = _read_only(rng.standard_normal(size).astype(np.float32))
    state = opt.init(x)
    for _ in range(steps):
        state = type(state)(*(_read_only(s) if isinstance(s, np.ndarray) else s for s in state))
        g = _read_only(rng.standard_normal(size).astype(np.float32))
        u, state = opt.update(g, state, x)
        x = _read_only(apply_updates(x, u))
        assert x.dtype == np.float32


def test_named_defaults():
    from engine.optimizers import DEFAULTS
    assert DEFAULTS["sgd"] == {"learning-rate": 0.001, "momentum": 0.9, "nesterov": True}
    assert DEFAULTS["adam"]["learning-rate"] == 0.001 and DEFAULTS["adam"]["epsilon"] == 1e-8
    assert DEFAULTS["adamw"]["weight-decay"] == 0.01
    assert DEFAULTS["adadelta"] == {"learning-rate": 1.0, "decay": 0.05, "epsilon": 1e-6}
    assert DEFAULTS["rmsprop"] == {"learning-rate": 0.001, "decay": 0.9, "epsilon": 1e-8, "momentum": 0.0}
    assert set(OPTIMIZERS) == {"sgd", "adam", "adamw", "adadelta", "rmsprop"}
