"""Losses: ``LOSSES[name](Y, T) -> (mean_loss, dY)`` with gradients of the batch MEAN.

- ``softmax-cross-entropy``: ``Y`` are the LOGITS ``[N, K]`` (the network's final softmax is
  fused into the loss in training), ``T`` int class indices ``[N]`` (or a float target
  distribution ``[N, K]``). Stable through log-sum-exp; ``dY = (softmax(Y) - onehot(T)) / N``.
- ``mse``: mean over all elements of ``(Y - T)**2``; int labels ``[N]`` are one-hot encoded to
  Y's width, a float ``T`` must have Y's shape. ``dY = 2 (Y - T) / Y.size``.

Because both are means over the batch, the loss and gradient of a batch equal the size-weighted
mean of those of its parts.
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np

from engine.backend import array_module

Loss = Callable[..., tuple[float, object]]


_ONES: dict = {}


def cached_ones(xp, n: int, dtype):
    """A cached read-only vector of ``n`` ones: row/column sums as matvecs beat ``.sum(axis)``
    on small arrays, and a fresh ``ones`` would cost as much as the matvec itself."""
    key = (xp.__name__, n, dtype)
    ones = _ONES.get(key)
    if ones is None:
        if len(_ONES) > 64:
            _ONES.clear()
        ones = xp.ones(n, dtype=dtype)
        if xp is np:
            ones.flags.writeable = False
        _ONES[key] = ones
    return ones


def _row_starts(xp, n: int, k: int):
    """``arange(0, n*k, k)``, cached like :func:`cached_ones`."""
    key = (xp.__name__, n, k)
    starts = _STARTS.get(key)
    if starts is None:
        if len(_STARTS) > 64:
            _STARTS.clear()
        starts = xp.arange(0, n * k, k)
        if xp is np:
            starts.flags.writeable = False
        _STARTS[key] = starts
    return starts


_STARTS: dict = {}


def softmax(X, axis: int = -1):
    """``exp(X) / sum(exp(X))`` along ``axis``, stable (the max is subtracted first)."""
    xp = array_module(X)
    if X.ndim == 2 and axis in (1, -1):
        E = xp.exp(X - _row_max(xp, X)[:, None])
        E /= (E @ cached_ones(xp, X.shape[1], E.dtype))[:, None]
        return E
    E = xp.exp(X - X.max(axis=axis, keepdims=True))
    E /= E.sum(axis=axis, keepdims=True)
    return E


def _row_max(xp, X):
    """``X.max(axis=1)`` of a 2-D array; reducing a contiguous copy of ``X.T`` is several times
    faster for the few columns of a classifier's output (NumPy's per-row reduction overhead)."""
    return xp.ascontiguousarray(X.T).max(axis=0)


def softmax_cross_entropy(Y, T) -> tuple[float, object]:
    """Mean cross-entropy of softmax(Y) against labels T, and its gradient w.r.t. the logits Y.

    Args:
        Y: logits ``[N, K]``.
        T: int class indices ``[N]``, or a float target distribution ``[N, K]``.
    Returns:
        ``(mean_loss, dY)`` with ``dY [N, K] = (softmax(Y) - onehot(T)) / N``.
    """
    xp = array_module(Y)
    N, K = Y.shape
    Z = Y - _row_max(xp, Y)[:, None]
    E = xp.exp(Z)
    S = E @ cached_ones(xp, K, E.dtype)  # row sums
    if T.ndim == 1:
        flat = _row_starts(xp, N, K) + T  # flat indices of the true classes: take/put beat [rows, T]
        loss = float((xp.log(S) - Z.take(flat)).sum()) / N
        E *= xp.divide(1.0 / N, S)[:, None]  # E is ours: becomes softmax / N in place
        E.ravel()[flat] -= 1.0 / N
        return loss, E
    mass = T.sum(axis=1)
    loss = float((xp.log(S) * mass).sum() - (Z * T).sum()) / N
    E /= S[:, None]
    return loss, (E * mass[:, None] - T) / N


def mse(Y, T) -> tuple[float, object]:
    """Mean squared error over all elements, and its gradient.

    Args:
        Y: predictions ``[N, K]`` (or ``[N]``).
        T: int labels ``[N]`` (one-hot encoded to K columns) or a float target of Y's shape.
    Returns:
        ``(mean_loss, dY)`` with ``dY = 2 (Y - T) / Y.size``.
    """
    xp = array_module(Y)
    if T.shape != Y.shape and T.ndim == 1 and Y.ndim == 2 and T.dtype.kind in "iu":
        T = (T[:, None] == xp.arange(Y.shape[1])).astype(Y.dtype)
    D = Y - T
    return float((D * D).sum()) / D.size, D * (2.0 / D.size)


LOSSES: dict[str, Loss] = {
    "softmax-cross-entropy": softmax_cross_entropy,
    "mse": mse,
}


def choose_loss(network: Sequence[Mapping]) -> str:
    """Cortex's default: ``softmax-cross-entropy`` when the last layer is a softmax (or
    ``linear->softmax``), else ``mse``. ``network`` is the list of normalised layer maps."""
    last = network[-1].get("kind") if network else None
    return "softmax-cross-entropy" if last in ("softmax", "linear->softmax") else "mse"
