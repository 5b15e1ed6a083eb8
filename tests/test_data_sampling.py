"""Samplers: one reshuffled pass, or Cortex's class-balanced endless stream."""

import time

import numpy as np
import pytest

from engine.data.sampling import SAMPLINGS, make_sampler
from engine.errors import SpecError


def _y(n=1000, pos=20):
    y = np.zeros(n, dtype=np.int64)
    y[:pos] = 1
    y.flags.writeable = False
    return y


def test_registry_names():
    assert set(SAMPLINGS) == {"shuffle", "class-balanced"}


def test_shuffle_covers_every_index_once_per_epoch():
    s = make_sampler("shuffle", _y(), None, np.random.default_rng(0))
    a, b = s.next_epoch(), s.next_epoch()
    assert a.dtype == np.int64
    np.testing.assert_array_equal(np.sort(a), np.arange(1000))
    np.testing.assert_array_equal(np.sort(b), np.arange(1000))
    assert not np.array_equal(a, b)


def test_shuffle_with_epoch_size_cycles_through_passes():
    s = make_sampler("shuffle", _y(100, 5), 30, np.random.default_rng(0))
    stream = np.concatenate([s.next_epoch() for _ in range(10)])  # 3 passes of 100
    for k in range(3):
        np.testing.assert_array_equal(np.sort(stream[100 * k:100 * (k + 1)]), np.arange(100))


def test_class_balanced_is_half_and_half_and_interleaved():
    y = _y()
    s = make_sampler("class-balanced", y, 500, np.random.default_rng(0))
    e = s.next_epoch()
    assert len(e) == 500 and y[e].mean() == 0.5
    assert y[e][:6].tolist() in ([0, 1] * 3, [1, 0] * 3)
    # every minority row appears; each pass over a class is a permutation
    stream = np.concatenate([e, s.next_epoch()])
    frauds = stream[y[stream] == 1]
    for k in range(len(frauds) // 20):
        np.testing.assert_array_equal(np.sort(frauds[20 * k:20 * (k + 1)]), np.arange(20))


def test_class_balanced_default_epoch_size_and_determinism():
    y = _y()
    a = make_sampler("class-balanced", y, None, np.random.default_rng(7))
    b = make_sampler("class-balanced", y, None, np.random.default_rng(7))
    ea, eb = [a.next_epoch() for _ in range(3)], [b.next_epoch() for _ in range(3)]
    assert len(ea[0]) == 1000
    for u, v in zip(ea, eb):
        np.testing.assert_array_equal(u, v)


def test_odd_epochs_keep_alternating():
    y = _y(50, 5)
    s = make_sampler("class-balanced", y, 3, np.random.default_rng(0))
    stream = np.concatenate([s.next_epoch() for _ in range(4)])
    labels = y[stream]
    assert np.all(labels[1:] != labels[:-1])


def test_big_epoch_is_fast():
    y = np.zeros(230000, dtype=np.int64)
    y[:400] = 1
    for kind in SAMPLINGS:
        s = make_sampler(kind, y, 200000, np.random.default_rng(0))
        s.next_epoch()
        start = time.perf_counter()
        s.next_epoch()
        assert time.perf_counter() - start < 0.1


def test_errors():
    with pytest.raises(SpecError, match="did|known"):
        make_sampler("balanced", _y(), None, np.random.default_rng(0))
    with pytest.raises(SpecError):
        make_sampler("shuffle", _y(), 0, np.random.default_rng(0))
