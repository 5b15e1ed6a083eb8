"""Stratified, seeded splits."""

import numpy as np
import pytest

from engine.data.splits import split_count, stratified_split
from engine.errors import SpecError


def _labels(n=1000, pos=50):
    y = np.zeros(n, dtype=np.int64)
    y[np.random.default_rng(0).choice(n, pos, replace=False)] = 1
    y.flags.writeable = False
    return y


def test_fraction_and_count():
    assert split_count(0.2, 1000, ("p",)) == 200
    assert split_count(37, 1000, ("p",)) == 37
    assert split_count(50.0, 1000, ("p",)) == 50
    for bad in (0.0, 1.5, 0, -3, True, "x"):
        with pytest.raises(SpecError):
            split_count(bad, 1000, ("dataset", "test-size"))


def test_stratified_keeps_class_ratios_and_partitions():
    y = _labels()
    held, kept = stratified_split(y, 200, np.random.default_rng(1))
    assert len(held) == 200 and len(kept) == 800
    assert np.intersect1d(held, kept).size == 0
    assert np.union1d(held, kept).size == 1000
    assert y[held].sum() == 10 and y[kept].sum() == 40


def test_exact_total_with_rounding():
    y = np.array([0] * 7 + [1] * 5 + [2] * 3)
    held, _ = stratified_split(y, 4, np.random.default_rng(0))
    assert len(held) == 4
    assert np.bincount(y[held], minlength=3).tolist() in ([2, 1, 1], [2, 2, 0])


def test_deterministic_from_the_seed():
    y = _labels()
    a = stratified_split(y, 100, np.random.default_rng(5))
    b = stratified_split(y, 100, np.random.default_rng(5))
    c = stratified_split(y, 100, np.random.default_rng(6))
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


def test_too_large_split_is_a_spec_error():
    y = _labels(100, 2)
    with pytest.raises(SpecError) as e:
        stratified_split(y, 100, np.random.default_rng(0))
    assert e.value.problems[0].path == ("dataset", "test-size")
    with pytest.raises(SpecError, match="class"):
        stratified_split(y, 99, np.random.default_rng(0))


def test_a_whole_class_is_never_held_out_when_avoidable():
    y = np.array([0] * 10 + [1])
    held, kept = stratified_split(y, 5, np.random.default_rng(0))
    assert 1 in y[kept]
