"""Weight initialisers: the ``init`` option of parameterised layers.

Each entry of :data:`INITIALIZERS` is ``fn(rng, shape, fan_in, fan_out, cfg, next_activation)
-> float32 ndarray``; callers normally use :func:`init_weights`. Gaussian initialisers follow
Cortex: the draw is shifted and scaled so the sample has EXACTLY mean 0 and the target variance
(not merely in expectation), which makes small layers start alike across seeds.

Parameters are created on the host (NumPy, from a ``numpy.random.Generator``); the network
builder moves them to the device.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from engine.errors import SpecError

Initializer = Callable[..., np.ndarray]


def exact_gaussian(rng: np.random.Generator, shape: tuple, variance: float) -> np.ndarray:
    """A float32 normal draw of ``shape`` rescaled to sample mean 0 and sample variance ``variance``.

    A single element cannot have both; it is drawn plainly with standard deviation ``sqrt(variance)``.
    """
    W = rng.standard_normal(shape)
    if W.size > 1:
        W -= W.mean()
        W *= np.sqrt(variance) / W.std()
    else:
        W *= np.sqrt(variance)
    return W.astype(np.float32)


def _xavier(rng, shape, fan_in, fan_out, cfg=None, next_activation=None):
    """Gaussian, variance 1/fan_in (Cortex's xavier)."""
    return exact_gaussian(rng, shape, 1.0 / fan_in)


def _relu(rng, shape, fan_in, fan_out, cfg=None, next_activation=None):
    """Gaussian, variance 2/fan_in (He et al. 2015)."""
    return exact_gaussian(rng, shape, 2.0 / fan_in)


def _bengio_glorot(rng, shape, fan_in, fan_out, cfg=None, next_activation=None):
    """Gaussian, variance 2/(fan_in + fan_out) (Glorot & Bengio 2010)."""
    return exact_gaussian(rng, shape, 2.0 / (fan_in + fan_out))


def _auto(rng, shape, fan_in, fan_out, cfg=None, next_activation=None):
    """relu init when the next activation is relu, else xavier (Cortex's rule)."""
    fn = _relu if next_activation == "relu" else _xavier
    return fn(rng, shape, fan_in, fan_out)


def _orthogonal(rng, shape, fan_in, fan_out, cfg=None, next_activation=None):
    """A (semi-)orthogonal matrix over ``[shape[0], prod(shape[1:])]``, gain 1.

    Rows are orthonormal when ``shape[0] <= prod(shape[1:])``, else columns are.
    QR of a Gaussian with the signs of R's diagonal folded in (Saxe et al. 2014), so the
    result is uniformly distributed over orthogonal matrices.
    """
    rows = shape[0]
    cols = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    A = rng.standard_normal((max(rows, cols), min(rows, cols)))
    Q, R = np.linalg.qr(A)
    Q *= np.sign(np.diag(R))
    if rows < cols:
        Q = Q.T
    return np.ascontiguousarray(Q.reshape(shape), dtype=np.float32)


def _zeros(rng, shape, fan_in, fan_out, cfg=None, next_activation=None):
    """All zeros."""
    return np.zeros(shape, np.float32)


def _constant(rng, shape, fan_in, fan_out, cfg=None, next_activation=None):
    """Every element ``cfg["value"]`` (default 0)."""
    value = 0.0 if cfg is None else cfg.get("value", 0.0)
    return np.full(shape, value, np.float32)


INITIALIZERS: dict[str, Initializer] = {
    "auto": _auto,
    "xavier": _xavier,
    "relu": _relu,
    "bengio-glorot": _bengio_glorot,
    "orthogonal": _orthogonal,
    "zeros": _zeros,
    "constant": _constant,
}


def init_weights(kind_or_cfg: str | Mapping[str, Any], rng: np.random.Generator, shape: tuple,
                 fan_in: int, fan_out: int, next_activation: str | None = None,
                 path: tuple = ()) -> np.ndarray:
    """A float32 weight array of ``shape`` drawn by the initialiser named in ``kind_or_cfg``.

    Args:
        kind_or_cfg: a name (``"xavier"``) or a map ``{"kind": "constant", "value": 0.1}``.
        rng: the generator to draw from.
        shape: the weight shape, e.g. ``[out, in]`` or ``[kernels, channels, k, k]``.
        fan_in, fan_out: inputs/outputs per unit (``in`` and ``out`` for a linear layer;
            ``channels*k*k`` and ``kernels*k*k`` for a convolution).
        next_activation: the kind of the activation after this layer (``"relu"``...), for ``auto``.
        path: the spec path of the ``init`` field, for the error on an unknown name.
    Raises:
        SpecError: unknown initialiser name.
    """
    if isinstance(kind_or_cfg, Mapping):
        kind, cfg = kind_or_cfg.get("kind"), kind_or_cfg
    else:
        kind, cfg = kind_or_cfg, None
    fn = INITIALIZERS.get(kind)
    if fn is None:
        raise SpecError(path, f"unknown initialiser {kind!r}; known: {', '.join(INITIALIZERS)}")
    return fn(rng, tuple(shape), fan_in, fan_out, cfg, next_activation)
