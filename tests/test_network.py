"""engine/network.py: expansion, ids, shape inference, the flat parameter buffer."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from engine.errors import SpecError
from engine.network import build, expand, forward, predict

FRAUD = [
    {"kind": "input", "width": 29, "height": 1, "channels": 1, "id": "data"},
    {"kind": "linear->relu", "num-output": 20},
    {"kind": "dropout", "probability": 0.9},
    {"kind": "linear->relu", "num-output": 10},
    {"kind": "linear", "num-output": 2},
    {"kind": "softmax", "id": "label"},
]


def test_shorthands_expand_with_cortex_ids():
    ids = [(i, layer_id, cfg["kind"]) for i, layer_id, cfg in expand(FRAUD)]
    assert ids == [(0, "data", "input"), (1, "linear-1", "linear"), (1, "relu-1", "relu"),
                   (2, "dropout-1", "dropout"), (3, "linear-2", "linear"), (3, "relu-2", "relu"),
                   (4, "linear-3", "linear"), (5, "label", "softmax")]


def test_an_id_on_a_shorthand_names_the_activation():
    desc = [FRAUD[0], {"kind": "linear->tanh", "num-output": 3, "id": "hidden"}]
    assert [layer_id for _, layer_id, _ in expand(desc)] == ["data", "linear-1", "hidden"]


def test_auto_init_follows_cortex_rule():
    cfgs = [cfg for _, _, cfg in expand(FRAUD)]
    assert [c["init"] for c in cfgs if c["kind"] == "linear"] == ["relu", "relu", "xavier"]


def test_duplicate_ids_are_an_error_at_the_second_layer():
    desc = [FRAUD[0], {"kind": "linear", "num-output": 3, "id": "data"}]
    with pytest.raises(SpecError) as e:
        expand(desc)
    assert e.value.problems[0].path == ("network", 1, "id")
    assert "duplicate layer id 'data'" in str(e.value)


def test_network_must_start_with_input():
    with pytest.raises(SpecError, match="starts with an input layer"):
        expand(FRAUD[1:])


def test_parameters_are_views_into_one_read_only_vector():
    net, flat = build(FRAUD, np.random.default_rng(0))
    assert net.size == 29 * 20 + 20 + 20 * 10 + 10 + 10 * 2 + 2
    assert flat.shape == (net.size,) and flat.dtype == np.float32
    assert not flat.flags.writeable
    for params in net.views(flat):
        for arr in params.values():
            assert np.shares_memory(arr, flat)
    named = net.named_tensors(flat)
    assert {k: v.shape for k, v in named.items()} == {
        "linear-1.weight": (20, 29), "linear-1.bias": (20,), "linear-2.weight": (10, 20),
        "linear-2.bias": (10,), "linear-3.weight": (2, 10), "linear-3.bias": (2,)}


def test_same_seed_same_parameters_other_seed_other():
    a = build(FRAUD, np.random.default_rng(3))[1]
    b = build(FRAUD, np.random.default_rng(3))[1]
    c = build(FRAUD, np.random.default_rng(4))[1]
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_predict_keeps_the_last_partial_batch():
    net, flat = build(FRAUD, np.random.default_rng(0))
    X = np.random.default_rng(1).normal(size=(1001, 29)).astype(np.float32)
    P = predict(net, flat, X, batch_size=100)
    assert P.shape == (1001, 2)
    np.testing.assert_allclose(P, forward(net, flat, X), rtol=1e-5, atol=1e-6)


def test_a_shape_that_cannot_work_names_its_layer():
    desc = [{"kind": "input", "width": 8, "height": 8, "channels": 1},
            {"kind": "max-pooling", "kernel-dim": 3, "pad": 0, "stride": 2},
            {"kind": "max-pooling", "kernel-dim": 3, "pad": 0, "stride": 2},
            {"kind": "max-pooling", "kernel-dim": 3, "pad": 0, "stride": 2}]
    with pytest.raises(SpecError) as e:
        build(desc, np.random.default_rng(0))
    assert e.value.problems[0].path[:2] == ("network", 3)


# A random layer stack: image layers first (conv/pool), then dense layers.
@st.composite
def stacks(draw):
    c, h = draw(st.integers(1, 3)), draw(st.integers(4, 9))
    desc = [{"kind": "input", "width": h, "height": h, "channels": c}]
    for _ in range(draw(st.integers(0, 2))):
        k = draw(st.integers(1, 3))
        if draw(st.booleans()):
            desc.append({"kind": "convolutional", "kernel-dim": k, "pad": draw(st.integers(0, 1)),
                         "stride": draw(st.integers(1, 2)), "num-kernels": draw(st.integers(1, 4))})
        else:
            desc.append({"kind": "max-pooling", "kernel-dim": k, "pad": 0, "stride": draw(st.integers(1, 2))})
        desc.append({"kind": draw(st.sampled_from(["relu", "tanh", "logistic", "prelu"]))})
    for _ in range(draw(st.integers(1, 3))):
        desc.append({"kind": draw(st.sampled_from(["linear", "linear->relu", "linear->tanh", "linear->logistic"])),
                     "num-output": draw(st.integers(1, 6))})
        if draw(st.booleans()):
            desc.append({"kind": "dropout", "probability": draw(st.floats(0.3, 1.0))})
    desc.append({"kind": "softmax"})
    return desc


@settings(max_examples=30, deadline=None)
@given(stacks(), st.integers(1, 5))
def test_inferred_shapes_equal_actual_shapes(desc, n):
    try:
        net, flat = build(desc, np.random.default_rng(0))
    except SpecError:
        return  # e.g. a pooling window larger than what is left: an error, not a wrong shape
    X = np.random.default_rng(1).normal(size=(n,) + net.in_shape).astype(np.float32)
    Y = X
    for layer, info, params in zip(net.layers, net.infos, net.views(flat)):
        Y, _ = layer.apply(params, Y, train=True, rng=np.random.default_rng(2))
        assert Y.shape == (n,) + info.out_shape, info
    assert math.isclose(float(Y.sum()), n, rel_tol=1e-4)  # softmax rows sum to 1
