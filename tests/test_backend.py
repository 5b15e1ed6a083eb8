"""engine/backend.py: the one array-module seam, and CPU/GPU parity when a GPU is present."""

import numpy as np
import pytest

from engine.backend import array_module, get_xp, gpu_available, to_numpy
from engine.errors import UserError
from engine.network import build
from engine.optimizers import OPTIMIZERS
from engine.step import make_train_step
from tests.test_network import FRAUD


def test_cpu_is_always_numpy():
    assert get_xp("cpu") is np
    assert array_module(np.zeros(3)) is np
    a = np.arange(3)
    assert to_numpy(a) is a


def test_auto_uses_the_gpu_exactly_when_one_is_there():
    assert (get_xp("auto") is not np) == gpu_available()


@pytest.mark.skipif(gpu_available(), reason="a GPU is present, so --device gpu is valid here")
def test_gpu_without_a_device_is_a_user_error():
    with pytest.raises(UserError, match="--device gpu"):
        get_xp("gpu")


def _train(xp, steps=30):
    net, flat = build(FRAUD, np.random.default_rng(0))
    rng = np.random.default_rng(1)
    X = rng.normal(size=(steps * 50, 29)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 1).astype(np.int64)
    opt = OPTIMIZERS["adam"]({"learning-rate": 0.01}, lambda step: 0.01)
    flat = xp.asarray(flat)
    state, step = opt.init(flat), make_train_step(net, "softmax-cross-entropy", opt, xp)
    X, y, drop = xp.asarray(X), xp.asarray(y), np.random.default_rng(2)
    for s in range(0, len(X), 50):
        flat, state, loss = step(flat, state, X[s:s + 50], y[s:s + 50], drop)
    return to_numpy(flat), float(loss)


@pytest.mark.gpu
@pytest.mark.skipif(not gpu_available(), reason="needs CuPy and a CUDA device")
def test_gpu_training_matches_cpu():
    cpu, cpu_loss = _train(np)
    gpu, gpu_loss = _train(get_xp("gpu"))
    np.testing.assert_allclose(gpu, cpu, rtol=2e-3, atol=2e-4)
    assert gpu_loss == pytest.approx(cpu_loss, rel=1e-2, abs=1e-4)
