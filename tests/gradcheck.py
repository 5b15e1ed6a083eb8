"""A float64 central-difference gradient checker shared by the tests (Chainer's gradient_check idea).

``numerical_grad(f, x)`` differentiates a scalar function of one array; ``check_layer`` compares a
layer's backprop (input and parameter gradients) with it on float64 copies of everything.
"""

from __future__ import annotations

import numpy as np

from engine.backend import to_numpy


def numerical_grad(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """d f(x) / dx by central differences; ``f`` takes a float64 NumPy array, returns a float.

    ``x`` is not modified: each probe perturbs a copy.
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = f(x.copy())
        flat[i] = old - eps
        down = f(x.copy())
        flat[i] = old
        gflat[i] = (up - down) / (2 * eps)
    return grad


def assert_close(actual, expected, rtol=1e-5, atol=1e-7, what=""):
    np.testing.assert_allclose(to_numpy(actual), to_numpy(expected), rtol=rtol, atol=atol, err_msg=what)


def check_layer(layer, params: dict, X, *, xp=np, train=False, seed=0, rtol=1e-5, atol=1e-7,
                dY=None) -> None:
    """Assert ``layer``'s backprop matches finite differences of ``sum(apply(...) * dY)``.

    Everything is cast to float64. ``seed`` re-seeds the rng on each apply, so dropout draws the
    same mask every time.
    """
    X = np.asarray(to_numpy(X), dtype=np.float64)
    params = {k: np.asarray(to_numpy(v), dtype=np.float64) for k, v in params.items()}

    def run(X_, params_):
        rng = np.random.default_rng(seed)
        return layer.apply({k: xp.asarray(v) for k, v in params_.items()}, xp.asarray(X_),
                           train=train, rng=rng)

    Y, backprop = run(X, params)
    if dY is None:
        dY = np.random.default_rng(seed + 1).standard_normal(to_numpy(Y).shape)
    dX, grads = backprop(xp.asarray(dY))
    assert set(grads) == set(params)

    def objective(X_, params_):
        return float(np.sum(to_numpy(run(X_, params_)[0]) * dY))

    assert_close(dX, numerical_grad(lambda x: objective(x, params), X), rtol, atol, "dX")
    for name in params:
        def f(v, name=name):
            return objective(X, {**params, name: v})

        assert_close(grads[name], numerical_grad(f, params[name]), rtol, atol, f"d{name}")


def check_loss(loss, Y, T, *, xp=np, rtol=1e-5, atol=1e-7) -> None:
    """Assert a loss's dY matches finite differences of its mean loss (float64)."""
    Y = np.asarray(to_numpy(Y), dtype=np.float64)
    _, dY = loss(xp.asarray(Y), xp.asarray(T))
    expected = numerical_grad(lambda y: loss(xp.asarray(y), xp.asarray(T))[0], Y)
    assert_close(dY, expected, rtol, atol, "dY")
