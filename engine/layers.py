"""Layers as pure (init, apply) pairs, one registry entry per kind of the schema.

``LAYERS[kind].make(cfg, index, next_activation=None) -> Layer`` where ``cfg`` is the
normalised layer map (kebab-case keys, defaults filled) and ``index`` its position in
``spec["network"]`` (for error paths). A :class:`Layer` is

- ``init(rng, in_shape) -> (params, out_shape)``: params is ``{}`` or a dict of float32 arrays
  (``linear``: ``weight [out, in]``, ``bias [out]``; ``convolutional``: ``weight [kernels,
  channels, k, k]``, ``bias [kernels]``; ``prelu``: ``weight [channels]``). Shapes exclude
  the batch: ``(n,)`` or ``(channels, height, width)``. Raises ``SpecError(("network",
  index, field), ...)`` when ``in_shape`` does not fit. Shape inference is ``init``.
- ``apply(params, X, *, train=False, rng=None) -> (Y, backprop)``: ``X`` is ``[N, *in_shape]``
  (float32, or float64 for gradient checks); ``rng`` is needed only by dropout in training.
- ``backprop(dY, grads_out=None, *, need_dX=True) -> (dX, grads)``: ``grads`` has the keys of
  params. When ``grads_out`` (a dict of preallocated arrays shaped like params) is given the
  gradients are written into it and those arrays are returned: that is the fast path of the
  compiled train step. ``need_dX=False`` skips the input gradient (returns ``None``), for the
  first layer.

Nothing writes into ``params``, ``X`` or ``dY``. The hot kinds (linear, relu, dropout) cost a
few NumPy calls per apply/backprop and nothing else; keep them that way.

Shorthands (``linear->relu`` ...) are registered too so the key set equals the schema's; the
network builder normally expands them (see :data:`SHORTHANDS`), but their ``make`` also works
and gives linear followed by the activation with the linear's params.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, NamedTuple

import numpy as np

from engine.backend import array_module
from engine.errors import SpecError, UserError
from engine.initializers import init_weights
from engine.losses import cached_ones as _ones, softmax


class Layer(NamedTuple):
    """A layer instance: see the module docstring for the two functions' contracts."""

    init: Callable[..., tuple[dict, tuple]]
    apply: Callable[..., tuple[Any, Callable]]


class LayerKind(NamedTuple):
    """A registry entry. ``make(cfg, index, next_activation=None) -> Layer``.

    ``param_names`` are the keys of the params dict; ``expands_to`` is ``(linear, activation)``
    for a shorthand kind, else ``None``.
    """

    name: str
    make: Callable[..., Layer]
    param_names: tuple[str, ...] = ()
    expands_to: tuple[str, str] | None = None


def _where(index: int, field: str) -> tuple:
    return ("network", index, field)


def _size(shape: tuple) -> int:
    return int(math.prod(shape))


def _no_grads_backprop(dX_fn):
    """A backprop for a parameterless layer whose input gradient is ``dX_fn(dY)``."""

    def backprop(dY, grads_out=None, *, need_dX=True):
        return (dX_fn(dY) if need_dX else None), {}

    return backprop


def _identity_backprop(dY, grads_out=None, *, need_dX=True):
    return (dY if need_dX else None), {}


# ---------------------------------------------------------------------------------- input

def input_layer(cfg: Mapping, index: int, next_activation: str | None = None) -> Layer:
    """The data entry point: shape ``(width,)`` when height == channels == 1, else ``(c, h, w)``.

    ``init(rng, in_shape)`` takes ``in_shape=None`` or the data's shape, which must have the same
    number of elements. ``apply`` reshapes flat rows to an image shape when needed.
    """
    width, height, channels = int(cfg["width"]), int(cfg.get("height", 1)), int(cfg.get("channels", 1))
    shape = (width,) if height == channels == 1 else (channels, height, width)

    def init(rng, in_shape=None):
        if in_shape is not None and _size(in_shape) != _size(shape):
            raise SpecError(_where(index, "width"),
                            f"input of shape {shape} ({_size(shape)} values) does not fit data "
                            f"of shape {tuple(in_shape)} ({_size(in_shape)} values)")
        return {}, shape

    def apply(params, X, *, train=False, rng=None):
        if X.shape[1:] == shape:
            return X, _identity_backprop
        if _size(X.shape[1:]) != _size(shape):
            raise UserError(f"the data has rows of shape {X.shape[1:]} but the input layer "
                            f"(network[{index}]) expects {shape}")
        in_shape = X.shape
        return X.reshape((X.shape[0],) + shape), _no_grads_backprop(lambda dY: dY.reshape(in_shape))

    return Layer(init, apply)


# ---------------------------------------------------------------------------------- linear

def linear(cfg: Mapping, index: int, next_activation: str | None = None) -> Layer:
    """``Y = X @ W.T + b`` on the flattened input; ``weight [num-output, in]``, ``bias [num-output]``.

    ``init`` option (default ``auto``) draws the weights; ``auto`` uses ``next_activation``.
    Bias starts at 0 (Cortex). Any input shape is flattened to ``[N, in]``.

    Hot path: apply is one matmul and an in-place bias add; backprop is ``dW = dY.T @ X`` and
    ``db = ones @ dY`` (into ``grads_out`` with ``out=`` when given) and ``dX = dY @ W``, which
    ``need_dX=False`` skips.
    """
    n_out = int(cfg["num-output"])
    if n_out < 1:
        raise SpecError(_where(index, "num-output"), f"num-output must be at least 1, got {n_out}")
    init_cfg = cfg.get("init", "auto")

    def init(rng, in_shape):
        n_in = _size(in_shape)
        W = init_weights(init_cfg, rng, (n_out, n_in), n_in, n_out, next_activation,
                         path=_where(index, "init"))
        return {"weight": W, "bias": np.zeros(n_out, np.float32)}, (n_out,)

    def apply(params, X, *, train=False, rng=None):
        W = params["weight"]
        X2 = X if X.ndim == 2 else X.reshape(X.shape[0], -1)
        # dot, not matmul/@: the same BLAS call with less dispatch on small 2-D arrays.
        Y = X2.dot(W.T)
        Y += params["bias"]  # Y is ours: in place saves an allocation

        def backprop(dY, grads_out=None, *, need_dX=True):
            xp = np if type(dY) is np.ndarray else array_module(dY)
            ones = _ones(xp, dY.shape[0], dY.dtype)  # bias grad as a matvec: faster than sum(0)
            if grads_out is None:
                dW = dY.T.dot(X2)
                db = ones.dot(dY)
            else:
                dW = xp.dot(dY.T, X2, out=grads_out["weight"])
                db = xp.dot(ones, dY, out=grads_out["bias"])
            if not need_dX:
                return None, {"weight": dW, "bias": db}
            dX = dY.dot(W)
            return (dX if X.ndim == 2 else dX.reshape(X.shape)), {"weight": dW, "bias": db}

        return Y, backprop

    return Layer(init, apply)


# ---------------------------------------------------------------------------------- activations

def _activation(forward: Callable, grad: Callable, name: str):
    """A parameterless elementwise layer: ``Y = forward(xp, X)``, ``dX = grad(dY, X, Y)``."""

    def make(cfg: Mapping, index: int, next_activation: str | None = None) -> Layer:
        def init(rng, in_shape):
            return {}, tuple(in_shape)

        def apply(params, X, *, train=False, rng=None):
            Y = forward(array_module(X), X)

            def backprop(dY, grads_out=None, *, need_dX=True):
                return (grad(dY, X, Y) if need_dX else None), {}

            return Y, backprop

        return Layer(init, apply)

    make.__name__ = name
    make.__doc__ = f"The {name} activation: same shape out as in, no params."
    return make


_ZERO = np.float32(0)  # a NumPy scalar: cheaper per call than a Python 0, and keeps X's dtype


def relu(cfg: Mapping, index: int, next_activation: str | None = None) -> Layer:
    """``max(X, 0)``: same shape out as in, no params; backprop ``dY * (Y > 0)``."""

    def init(rng, in_shape):
        return {}, tuple(in_shape)

    def apply(params, X, *, train=False, rng=None):
        Y = (np if type(X) is np.ndarray else array_module(X)).maximum(X, _ZERO)

        def backprop(dY, grads_out=None, *, need_dX=True):
            return (dY * (Y > _ZERO) if need_dX else None), {}

        return Y, backprop

    return Layer(init, apply)


tanh = _activation(lambda xp, X: xp.tanh(X), lambda dY, X, Y: dY * (1 - Y * Y), "tanh")
# 1/(1+exp(-x)) written through tanh: no overflow warning for large negative x.
logistic = _activation(lambda xp, X: 0.5 + 0.5 * xp.tanh(0.5 * X),
                       lambda dY, X, Y: dY * (Y * (1 - Y)), "logistic")


def softmax_layer(cfg: Mapping, index: int, next_activation: str | None = None) -> Layer:
    """Probabilities over axis 1 (features, or channels per pixel for an image input).

    Its backprop is the full Jacobian-vector product ``Y * (dY - sum(dY * Y))``; training with
    softmax-cross-entropy fuses the two instead (the loss takes the logits).
    """

    def init(rng, in_shape):
        return {}, tuple(in_shape)

    def apply(params, X, *, train=False, rng=None):
        Y = softmax(X, axis=1)

        def backprop(dY, grads_out=None, *, need_dX=True):
            if not need_dX:
                return None, {}
            return Y * (dY - (dY * Y).sum(axis=1, keepdims=True)), {}

        return Y, backprop

    return Layer(init, apply)


def prelu(cfg: Mapping, index: int, next_activation: str | None = None) -> Layer:
    """``Y = X`` where positive, ``a * X`` elsewhere, with a learnt slope ``a`` per channel.

    ``weight`` is ``[channels]`` for an image input, ``[features]`` for a flat one, initialised to
    ``neg-scale`` (default 0.25, Cortex).
    """
    neg_scale = float(cfg.get("neg-scale", 0.25))

    def init(rng, in_shape):
        return {"weight": np.full(in_shape[0], neg_scale, np.float32)}, tuple(in_shape)

    def apply(params, X, *, train=False, rng=None):
        xp = array_module(X)
        a = params["weight"]
        if X.ndim > 2:
            a = a.reshape((-1,) + (1,) * (X.ndim - 2))
        positive = X > 0
        Y = xp.where(positive, X, X * a)
        axes = (0,) + tuple(range(2, X.ndim))

        def backprop(dY, grads_out=None, *, need_dX=True):
            da_all = xp.where(positive, 0, dY * X)
            if grads_out is None:
                da = da_all.sum(axis=axes)
            else:
                da = da_all.sum(axis=axes, out=grads_out["weight"])
            dX = xp.where(positive, dY, dY * a) if need_dX else None
            return dX, {"weight": da}

        return Y, backprop

    return Layer(init, apply)


# ---------------------------------------------------------------------------------- dropout

def dropout(cfg: Mapping, index: int, next_activation: str | None = None) -> Layer:
    """Inverted dropout: in training each unit SURVIVES with ``probability`` p (Cortex) and is
    scaled by 1/p; at inference (``train=False``) or when p == 1 it is the identity. The mask
    comes from 16-bit draws, so p is used rounded to a multiple of 1/65536 (unbiased all the same).

    ``apply`` needs ``rng`` (a ``numpy.random.Generator``) in training; on CuPy the mask is drawn
    on the host and copied.
    """
    p = float(cfg["probability"])
    if not 0.0 < p <= 1.0:
        raise SpecError(_where(index, "probability"),
                        f"dropout probability (to keep a unit) must be in (0, 1], got {p}")

    threshold = min(max(round(p * 65536), 1), 65535)
    keep_scale32, keep_scale64 = np.float32(65536.0 / threshold), np.float64(65536.0 / threshold)

    def init(rng, in_shape):
        return {}, tuple(in_shape)

    def apply(params, X, *, train=False, rng=None):
        if not train or p == 1.0:
            return X, _identity_backprop
        if rng is None:
            raise ValueError("dropout in training needs an rng")
        # 16-bit uniform draws from the raw bit stream are ~3x faster than rng.random; the keep
        # probability is p rounded to a multiple of 1/65536, and the scale is its exact inverse.
        n = X.size
        U = rng.bit_generator.random_raw((n + 3) // 4).view(np.uint16)[:n].reshape(X.shape)
        scale = (U < threshold) * (keep_scale64 if X.dtype == np.float64 else keep_scale32)
        if type(X) is not np.ndarray:
            scale = array_module(X).asarray(scale)
        Y = X * scale

        def backprop(dY, grads_out=None, *, need_dX=True):
            return (dY * scale if need_dX else None), {}

        return Y, backprop

    return Layer(init, apply)


# ---------------------------------------------------------------------------------- convolution

def _windows(xp, Xp, k: int, stride: int, out_h: int, out_w: int):
    """A read-only strided view ``[N, C, out_h, out_w, k, k]`` of the k x k windows of ``Xp``."""
    V = xp.lib.stride_tricks.sliding_window_view(Xp, (k, k), axis=(2, 3))
    return V[:, :, :(out_h - 1) * stride + 1:stride, :(out_w - 1) * stride + 1:stride]


def _image_shape(in_shape, index: int, kind: str) -> tuple[int, int, int]:
    if len(in_shape) != 3:
        raise SpecError(_where(index, "kind"),
                        f"{kind} needs an image input (channels, height, width) but gets the flat "
                        f"shape {tuple(in_shape)}; give the input layer a height and channels, "
                        f"and put {kind} before any linear layer")
    return tuple(int(d) for d in in_shape)


def _check_window(what: str, k: int, pad: int, chw: tuple, index: int) -> None:
    """SpecError at the layer's kernel-dim when a k x k window does not fit the padded input."""
    c, h, w = chw
    if k > h + 2 * pad or k > w + 2 * pad:
        raise SpecError(_where(index, "kernel-dim"),
                        f"{what} is larger than the padded input {h + 2 * pad}x{w + 2 * pad} "
                        f"(input {c}x{h}x{w}, pad {pad})")


def _int_option(cfg: Mapping, key: str, default, index: int, minimum: int) -> int:
    value = cfg.get(key, default)
    if value is None:
        value = default
    if value is None or int(value) < minimum:
        raise SpecError(_where(index, key), f"{key} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def convolutional(cfg: Mapping, index: int, next_activation: str | None = None) -> Layer:
    """2-D cross-correlation with square kernels; output ``floor((in + 2*pad - k)/stride) + 1``.

    Options: ``kernel-dim`` k, ``pad`` (0, zeros), ``stride`` (1), ``num-kernels`` K, ``init``.
    ``weight [K, channels, k, k]`` (fan-in ``channels*k*k``), ``bias [K]``. im2col through a
    strided window view and ``tensordot``; the backward col2im loops over the k*k offsets.
    """
    k = _int_option(cfg, "kernel-dim", None, index, 1)
    pad = _int_option(cfg, "pad", 0, index, 0)
    stride = _int_option(cfg, "stride", 1, index, 1)
    n_kernels = _int_option(cfg, "num-kernels", None, index, 1)
    init_cfg = cfg.get("init", "auto")

    def out_hw(h, w):
        return (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1

    def init(rng, in_shape):
        c, h, w = _image_shape(in_shape, index, "convolutional")
        _check_window(f"kernel-dim {k}", k, pad, (c, h, w), index)
        W = init_weights(init_cfg, rng, (n_kernels, c, k, k), c * k * k, n_kernels * k * k,
                         next_activation, path=_where(index, "init"))
        return {"weight": W, "bias": np.zeros(n_kernels, np.float32)}, (n_kernels,) + out_hw(h, w)

    def apply(params, X, *, train=False, rng=None):
        xp = array_module(X)
        W = params["weight"]
        N, C, H, Wd = X.shape
        oh, ow = out_hw(H, Wd)
        Xp = xp.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else X
        V = _windows(xp, Xp, k, stride, oh, ow)
        Y = xp.tensordot(V, W, axes=([1, 4, 5], [1, 2, 3]))  # [N, oh, ow, K]
        Y += params["bias"]
        Y = xp.ascontiguousarray(Y.transpose(0, 3, 1, 2))

        def backprop(dY, grads_out=None, *, need_dX=True):
            dW = xp.tensordot(dY, V, axes=([0, 2, 3], [0, 2, 3]))  # [K, C, k, k]
            db = dY.sum(axis=(0, 2, 3))
            if grads_out is not None:
                grads_out["weight"][...] = dW
                grads_out["bias"][...] = db
                dW, db = grads_out["weight"], grads_out["bias"]
            if not need_dX:
                return None, {"weight": dW, "bias": db}
            dcols = xp.tensordot(W, dY, axes=([0], [1]))  # [C, k, k, N, oh, ow]
            dXp = xp.zeros(Xp.shape, dtype=dcols.dtype)
            for i in range(k):
                for j in range(k):
                    dXp[:, :, i:i + (oh - 1) * stride + 1:stride, j:j + (ow - 1) * stride + 1:stride] += \
                        dcols[:, i, j].transpose(1, 0, 2, 3)
            dX = xp.ascontiguousarray(dXp[:, :, pad:pad + H, pad:pad + Wd]) if pad else dXp
            return dX, {"weight": dW, "bias": db}

        return Y, backprop

    return Layer(init, apply)


def max_pooling(cfg: Mapping, index: int, next_activation: str | None = None) -> Layer:
    """Max over k x k windows per channel; output ``ceil((in + 2*pad - k)/stride) + 1`` (Cortex).

    Options: ``kernel-dim`` k, ``pad`` (0, must be < k), ``stride`` (default k). Padding never
    wins the max (it is -inf). As in Caffe, a last window that would start inside the right
    padding is dropped, so every window sees real data. The gradient goes to the first maximum.
    """
    k = _int_option(cfg, "kernel-dim", None, index, 1)
    pad = _int_option(cfg, "pad", 0, index, 0)
    stride = _int_option(cfg, "stride", k, index, 1)
    if pad >= k:
        raise SpecError(_where(index, "pad"), f"max-pooling pad ({pad}) must be smaller than "
                                              f"kernel-dim ({k})")

    def out_len(n):
        out = -(-(n + 2 * pad - k) // stride) + 1
        if (out - 1) * stride >= n + pad:
            out -= 1
        return out

    def init(rng, in_shape):
        c, h, w = _image_shape(in_shape, index, "max-pooling")
        _check_window(f"pooling window {k}x{k}", k, pad, (c, h, w), index)
        return {}, (c, out_len(h), out_len(w))

    def apply(params, X, *, train=False, rng=None):
        xp = array_module(X)
        N, C, H, Wd = X.shape
        oh, ow = out_len(H), out_len(Wd)
        Hn, Wn = (oh - 1) * stride + k, (ow - 1) * stride + k  # padded extent the windows use
        Xp = xp.full((N, C, max(Hn, H + pad), max(Wn, Wd + pad)), -xp.inf, dtype=X.dtype)
        Xp[:, :, pad:pad + H, pad:pad + Wd] = X
        V = _windows(xp, Xp, k, stride, oh, ow).reshape(N, C, oh, ow, k * k)
        argmax = V.argmax(axis=-1)
        Y = V.max(axis=-1)

        def backprop(dY, grads_out=None, *, need_dX=True):
            if not need_dX:
                return None, {}
            dXp = xp.zeros(Xp.shape, dtype=dY.dtype)
            for i in range(k):
                for j in range(k):
                    dXp[:, :, i:i + (oh - 1) * stride + 1:stride, j:j + (ow - 1) * stride + 1:stride] += \
                        xp.where(argmax == i * k + j, dY, 0)
            return xp.ascontiguousarray(dXp[:, :, pad:pad + H, pad:pad + Wd]), {}

        return Y, backprop

    return Layer(init, apply)


# ---------------------------------------------------------------------------------- shorthands

SHORTHANDS: dict[str, str] = {
    "linear->relu": "relu",
    "linear->tanh": "tanh",
    "linear->logistic": "logistic",
    "linear->softmax": "softmax",
}
"""Shorthand kind -> the activation it puts after a linear layer (the ``id`` goes to it)."""


def _shorthand(activation: str):
    def make(cfg: Mapping, index: int, next_activation: str | None = None) -> Layer:
        lin = linear(cfg, index, next_activation=activation)
        act = LAYERS[activation].make(cfg, index)

        def init(rng, in_shape):
            params, shape = lin.init(rng, in_shape)
            return params, act.init(rng, shape)[1]

        def apply(params, X, *, train=False, rng=None):
            H, lin_backprop = lin.apply(params, X, train=train, rng=rng)
            Y, act_backprop = act.apply({}, H, train=train, rng=rng)

            def backprop(dY, grads_out=None, *, need_dX=True):
                dH, _ = act_backprop(dY)
                return lin_backprop(dH, grads_out, need_dX=need_dX)

            return Y, backprop

        return Layer(init, apply)

    make.__name__ = f"linear_{activation}"
    make.__doc__ = f"linear then {activation} as one layer (the builder usually expands it)."
    return make


LAYERS: dict[str, LayerKind] = {
    "input": LayerKind("input", input_layer),
    "linear": LayerKind("linear", linear, ("weight", "bias")),
    "relu": LayerKind("relu", relu),
    "tanh": LayerKind("tanh", tanh),
    "logistic": LayerKind("logistic", logistic),
    "prelu": LayerKind("prelu", prelu, ("weight",)),
    "softmax": LayerKind("softmax", softmax_layer),
    "dropout": LayerKind("dropout", dropout),
    "convolutional": LayerKind("convolutional", convolutional, ("weight", "bias")),
    "max-pooling": LayerKind("max-pooling", max_pooling),
    **{name: LayerKind(name, _shorthand(act), ("weight", "bias"), ("linear", act))
       for name, act in SHORTHANDS.items()},
}
