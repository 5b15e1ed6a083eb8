"""engine/layers.py: gradients vs finite differences, shape inference, purity, dropout, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from engine.backend import to_numpy
from engine.errors import SpecError
from engine.layers import LAYERS, SHORTHANDS, Layer
from tests.gradcheck import assert_close, check_layer

SCHEMA_LAYER_NAMES = {
    "input", "linear", "relu", "tanh", "logistic", "prelu", "softmax", "dropout",
    "convolutional", "max-pooling", "linear->relu", "linear->tanh", "linear->logistic",
    "linear->softmax",
}

FAST = settings(max_examples=30, deadline=None)


def make(kind: str, index: int = 1, next_activation=None, **cfg) -> Layer:
    return LAYERS[kind].make({k.replace("_", "-"): v for k, v in cfg.items()}, index,
                             next_activation=next_activation)


def build(kind, in_shape, seed=0, **cfg):
    layer = make(kind, **cfg)
    params, out_shape = layer.init(np.random.default_rng(seed), in_shape)
    return layer, params, out_shape


def away_from_zero(rng, shape):
    """Values with |x| in [0.2, 1.2]: no kink of relu/prelu within a finite-difference step."""
    return rng.uniform(0.2, 1.2, shape) * rng.choice([-1.0, 1.0], shape)


def distinct(rng, shape):
    """Values 0.1 apart in random order: max-pooling's argmax is stable under a small probe."""
    return (rng.permutation(int(np.prod(shape))) * 0.1 - 3.0).reshape(shape)


def test_registry_has_exactly_the_schema_names():
    assert set(LAYERS) == SCHEMA_LAYER_NAMES
    assert SHORTHANDS == {"linear->relu": "relu", "linear->tanh": "tanh",
                          "linear->logistic": "logistic", "linear->softmax": "softmax"}
    for name, act in SHORTHANDS.items():
        assert LAYERS[name].expands_to == ("linear", act)


# ---------------------------------------------------------------------------------- gradients

GRAD_CASES = [
    ("linear", (5,), {"num_output": 3}),
    ("linear", (2, 3, 2), {"num_output": 4}),  # flattens an image input
    ("relu", (6,), {}),
    ("tanh", (6,), {}),
    ("logistic", (6,), {}),
    ("softmax", (5,), {}),
    ("softmax", (3, 2, 2), {}),  # per pixel over channels
    ("prelu", (4,), {}),
    ("prelu", (3, 2, 2), {"neg_scale": 0.1}),
    ("linear->tanh", (4,), {"num_output": 3}),
    ("linear->relu", (4,), {"num_output": 3, "init": {"kind": "constant", "value": 0.5}}),
    ("convolutional", (2, 5, 5), {"kernel_dim": 3, "num_kernels": 3}),
    ("convolutional", (2, 5, 6), {"kernel_dim": 3, "pad": 1, "stride": 2, "num_kernels": 2}),
    ("convolutional", (1, 4, 4), {"kernel_dim": 2, "pad": 2, "stride": 3, "num_kernels": 2}),
]


@pytest.mark.parametrize("kind,in_shape,cfg", GRAD_CASES, ids=lambda v: str(v))
def test_backprop_matches_finite_differences(xp, kind, in_shape, cfg):
    rng = np.random.default_rng(1)
    layer, params, _ = build(kind, in_shape, **cfg)
    params = {k: v + rng.normal(0, 0.1, v.shape) for k, v in params.items()}  # nonzero biases
    X = away_from_zero(rng, (3,) + in_shape)
    if kind == "linear->relu":  # keep the pre-activations away from relu's kink
        params = {"weight": np.full(params["weight"].shape, 0.5), "bias": np.array([0.3, -0.35, 0.1])}
        X = np.abs(X) * np.where(np.arange(4) % 2, 1, -1)
    check_layer(layer, params, X, xp=xp)


@pytest.mark.parametrize("in_shape,cfg", [
    ((2, 4, 4), {"kernel_dim": 2}),
    ((1, 5, 5), {"kernel_dim": 2}),                        # ceil: a partial last window
    ((2, 5, 4), {"kernel_dim": 3, "stride": 1}),           # overlapping windows
    ((1, 6, 5), {"kernel_dim": 3, "pad": 1, "stride": 2}),
])
def test_max_pooling_backprop(xp, in_shape, cfg):
    rng = np.random.default_rng(2)
    layer, params, _ = build("max-pooling", in_shape, **cfg)
    check_layer(layer, params, distinct(rng, (2,) + in_shape), xp=xp)


def test_dropout_backprop_uses_the_same_mask(xp):
    rng = np.random.default_rng(3)
    layer, params, _ = build("dropout", (7,), probability=0.6)
    check_layer(layer, params, rng.standard_normal((4, 7)), xp=xp, train=True, seed=5)


# ---------------------------------------------------------------------------------- forward values

def naive_conv(X, W, b, pad, stride):
    X = np.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    N, C, H, Wd = X.shape
    K, _, k, _ = W.shape
    oh, ow = (H - k) // stride + 1, (Wd - k) // stride + 1
    Y = np.zeros((N, K, oh, ow))
    for n in range(N):
        for f in range(K):
            for i in range(oh):
                for j in range(ow):
                    patch = X[n, :, i * stride:i * stride + k, j * stride:j * stride + k]
                    Y[n, f, i, j] = (patch * W[f]).sum() + b[f]
    return Y


def naive_max_pool(X, k, pad, stride, out_h, out_w):
    N, C, H, Wd = X.shape
    Y = np.full((N, C, out_h, out_w), -np.inf)
    for i in range(out_h):
        for j in range(out_w):
            r0, c0 = i * stride - pad, j * stride - pad
            window = X[:, :, max(r0, 0):max(r0 + k, 0), max(c0, 0):max(c0 + k, 0)]
            Y[:, :, i, j] = window.max(axis=(2, 3))
    return Y


@pytest.mark.parametrize("pad,stride", [(0, 1), (1, 2), (2, 3)])
def test_conv_forward_matches_a_direct_loop(xp, pad, stride):
    rng = np.random.default_rng(6)
    layer, params, out_shape = build("convolutional", (2, 6, 7), kernel_dim=3, pad=pad, stride=stride,
                                     num_kernels=3)
    params["bias"] = rng.standard_normal(3).astype(np.float32)
    X = rng.standard_normal((2, 2, 6, 7)).astype(np.float32)
    Y, _ = layer.apply({k: xp.asarray(v) for k, v in params.items()}, xp.asarray(X))
    assert Y.shape == (2,) + out_shape
    assert_close(Y, naive_conv(X, params["weight"], params["bias"], pad, stride), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("k,pad,stride", [(2, 0, 2), (3, 1, 2), (3, 0, 1), (2, 1, 3)])
def test_max_pooling_forward_matches_a_direct_loop(xp, k, pad, stride):
    rng = np.random.default_rng(7)
    layer, _, out_shape = build("max-pooling", (2, 7, 6), kernel_dim=k, pad=pad, stride=stride)
    X = rng.standard_normal((3, 2, 7, 6)).astype(np.float32)
    Y, _ = layer.apply({}, xp.asarray(X))
    assert Y.shape == (3,) + out_shape
    assert_close(Y, naive_max_pool(X, k, pad, stride, *out_shape[1:]))


# ---------------------------------------------------------------------------------- shapes

def test_conv_and_pool_output_formulas():
    assert build("convolutional", (3, 7, 9), kernel_dim=3, pad=1, stride=2, num_kernels=4)[2] == (4, 4, 5)
    assert build("convolutional", (1, 28, 28), kernel_dim=5, num_kernels=20)[2] == (20, 24, 24)
    # Cortex pools with ceil: (7 - 2) / 2 = 2.5 -> 3, + 1
    assert build("max-pooling", (2, 7, 7), kernel_dim=2)[2] == (2, 4, 4)
    assert build("max-pooling", (20, 24, 24), kernel_dim=2, stride=2)[2] == (20, 12, 12)
    assert build("max-pooling", (1, 5, 5), kernel_dim=3, pad=1, stride=2)[2] == (1, 3, 3)
    # a window that would start in the right padding is dropped (Caffe's rule)
    assert build("max-pooling", (1, 4, 4), kernel_dim=2, pad=1, stride=3)[2] == (1, 2, 2)


def test_input_shapes():
    assert build("input", None, width=29)[2] == (29,)
    assert build("input", None, width=28, height=28, channels=1)[2] == (1, 28, 28)
    layer, _, _ = build("input", None, width=4, height=2, channels=3)
    Y, backprop = layer.apply({}, np.arange(48, dtype=np.float32).reshape(2, 24))
    assert Y.shape == (2, 3, 2, 4)
    assert backprop(Y)[0].shape == (2, 24)
    with pytest.raises(SpecError) as err:
        build("input", (10,), width=29)
    assert err.value.problems[0].path == ("network", 1, "width")


@st.composite
def layer_stacks(draw):
    """An input shape and a stack of layers that fits it (by construction)."""
    image = draw(st.booleans())
    if image:
        shape = (draw(st.integers(1, 3)), draw(st.integers(3, 8)), draw(st.integers(3, 8)))
    else:
        shape = (draw(st.integers(1, 12)),)
    stack, cur = [], shape
    for _ in range(draw(st.integers(1, 5))):
        if len(cur) == 3 and min(cur[1:]) >= 2:
            kind = draw(st.sampled_from(["convolutional", "max-pooling", "relu", "prelu", "linear"]))
        else:
            kind = draw(st.sampled_from(["linear", "relu", "tanh", "logistic", "prelu", "softmax",
                                         "dropout", "linear->relu", "linear->softmax"]))
        cfg = {}
        if kind in ("linear", "linear->relu", "linear->softmax"):
            cfg = {"num-output": draw(st.integers(1, 6))}
        elif kind == "dropout":
            cfg = {"probability": draw(st.floats(0.1, 1.0))}
        elif kind in ("convolutional", "max-pooling"):
            k = draw(st.integers(1, min(cur[1:])))
            cfg = {"kernel-dim": k, "pad": draw(st.integers(0, k - 1)), "stride": draw(st.integers(1, 3))}
            if kind == "convolutional":
                cfg["num-kernels"] = draw(st.integers(1, 3))
        stack.append((kind, cfg))
        _, cur = LAYERS[kind].make(cfg, 0).init(np.random.default_rng(0), cur)
    return shape, stack


@FAST
@given(layer_stacks(), st.integers(1, 4))
def test_inferred_shapes_equal_actual_shapes(case, batch):
    shape, stack = case
    rng = np.random.default_rng(0)
    X = rng.standard_normal((batch,) + shape).astype(np.float32)
    for i, (kind, cfg) in enumerate(stack):
        layer = LAYERS[kind].make(cfg, i)
        params, out_shape = layer.init(rng, X.shape[1:])
        Y, backprop = layer.apply(params, X, train=True, rng=rng)
        assert Y.shape == (batch,) + out_shape, (kind, cfg)
        assert Y.dtype == np.float32, kind
        dX, grads = backprop(np.ones_like(Y))
        assert dX.shape == X.shape and dX.dtype == np.float32, kind
        assert {k: g.shape for k, g in grads.items()} == {k: p.shape for k, p in params.items()}
        X = Y


# ---------------------------------------------------------------------------------- purity

def _read_only(a):
    a = np.array(a)
    a.flags.writeable = False
    return a


@FAST
@given(layer_stacks(), st.integers(1, 3), st.booleans())
def test_apply_and_backprop_never_write_their_inputs(case, batch, train):
    shape, stack = case
    rng = np.random.default_rng(1)
    X = _read_only(rng.standard_normal((batch,) + shape).astype(np.float32))
    for i, (kind, cfg) in enumerate(stack):
        layer = LAYERS[kind].make(cfg, i)
        params, _ = layer.init(rng, X.shape[1:])
        params = {k: _read_only(v) for k, v in params.items()}
        Y, backprop = layer.apply(params, X, train=train, rng=rng)
        dY = _read_only(np.ones_like(Y))
        backprop(dY)
        grads_out = {k: np.zeros_like(v) for k, v in params.items()}
        backprop(dY, grads_out, need_dX=False)
        X = _read_only(Y)


def test_grads_out_fast_path_writes_into_the_given_buffers(xp):
    rng = np.random.default_rng(4)
    for kind, shape, cfg in [("linear", (5,), {"num_output": 3}), ("prelu", (2, 3, 3), {}),
                             ("convolutional", (2, 4, 4), {"kernel_dim": 2, "num_kernels": 3})]:
        layer, params, _ = build(kind, shape, **cfg)
        params = {k: xp.asarray(v) for k, v in params.items()}
        X = xp.asarray(rng.standard_normal((4,) + shape).astype(np.float32))
        Y, backprop = layer.apply(params, X)
        dY = xp.asarray(rng.standard_normal(Y.shape).astype(np.float32))
        dX, grads = backprop(dY)
        buffers = {k: xp.zeros_like(v) for k, v in params.items()}
        dX2, grads2 = backprop(dY, buffers)
        assert_close(dX2, dX)
        for k in params:
            assert grads2[k] is buffers[k]
            assert_close(buffers[k], grads[k], rtol=1e-5, atol=1e-6)
        dX3, grads3 = backprop(dY, need_dX=False)
        assert dX3 is None and set(grads3) == set(params)


def test_float32_in_float32_out(xp):
    layer, params, _ = build("linear", (5,), num_output=3)
    Y, backprop = layer.apply({k: xp.asarray(v) for k, v in params.items()},
                              xp.ones((2, 5), dtype=xp.float32))
    assert Y.dtype == xp.float32
    dX, grads = backprop(xp.ones((2, 3), dtype=xp.float32))
    assert dX.dtype == xp.float32 and grads["weight"].dtype == xp.float32


# ---------------------------------------------------------------------------------- dropout

def test_dropout_keeps_fraction_p_and_scales_by_one_over_p(xp):
    layer, params, _ = build("dropout", (1000,), probability=0.9)
    X = xp.ones((200, 1000), dtype=xp.float32)
    Y, backprop = layer.apply(params, X, train=True, rng=np.random.default_rng(0))
    Y = to_numpy(Y)
    kept = Y != 0
    assert abs(kept.mean() - 0.9) < 0.005
    np.testing.assert_allclose(Y[kept], 1 / 0.9, rtol=1e-4)  # p quantised to 1/65536
    dX, _ = backprop(xp.ones_like(X))
    np.testing.assert_array_equal(to_numpy(dX), Y)


def test_dropout_is_identity_at_inference_and_deterministic_per_rng(xp):
    layer, params, _ = build("dropout", (50,), probability=0.5)
    X = xp.asarray(np.random.default_rng(0).standard_normal((10, 50)).astype(np.float32))
    Y, _ = layer.apply(params, X, train=False, rng=None)
    np.testing.assert_array_equal(to_numpy(Y), to_numpy(X))
    A = layer.apply(params, X, train=True, rng=np.random.default_rng(7))[0]
    B = layer.apply(params, X, train=True, rng=np.random.default_rng(7))[0]
    np.testing.assert_array_equal(to_numpy(A), to_numpy(B))


# ---------------------------------------------------------------------------------- errors

@pytest.mark.parametrize("kind,in_shape,cfg,field", [
    ("convolutional", (30,), {"kernel-dim": 3, "num-kernels": 2}, "kind"),
    ("max-pooling", (30,), {"kernel-dim": 2}, "kind"),
    ("max-pooling", (1, 3, 3), {"kernel-dim": 4}, "kernel-dim"),
    ("max-pooling", (1, 3, 3), {"kernel-dim": 2, "pad": 2}, "pad"),
    ("convolutional", (1, 3, 3), {"kernel-dim": 6, "pad": 1, "num-kernels": 1}, "kernel-dim"),
    ("dropout", (3,), {"probability": 0.0}, "probability"),
    ("dropout", (3,), {"probability": 1.5}, "probability"),
    ("linear", (3,), {"num-output": 2, "init": "gaussian-ish"}, "init"),
])
def test_shape_and_option_errors_name_the_field(kind, in_shape, cfg, field):
    with pytest.raises(SpecError) as err:
        LAYERS[kind].make(cfg, 4).init(np.random.default_rng(0), in_shape)
    problem = err.value.problems[0]
    assert problem.path == ("network", 4, field)
    if field == "kernel-dim":
        assert "larger than the padded input" in problem.message
