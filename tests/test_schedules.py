"""engine/schedules.py: values at chosen steps, warm-up, errors."""

from __future__ import annotations

import math

import pytest

from engine.errors import SpecError
from engine.schedules import SCHEDULES

SPE = 10  # steps per epoch


def test_registry_names():
    assert set(SCHEDULES) == {"constant", "step", "exponential", "cosine", "linear-warmup"}


def test_constant():
    s = SCHEDULES["constant"]({}, 0.01, SPE, 5)
    assert [s(0), s(7), s(10_000)] == [0.01, 0.01, 0.01]


def test_step():
    s = SCHEDULES["step"]({"every": 2}, 1.0, SPE, 10)
    assert s(0) == 1.0 and s(19) == 1.0
    assert s(20) == pytest.approx(0.1) and s(39) == pytest.approx(0.1)
    assert s(40) == pytest.approx(0.01)
    fractional = SCHEDULES["step"]({"every": 0.5, "gamma": 0.5}, 1.0, SPE, 10)
    assert [fractional(4), fractional(5), fractional(15)] == pytest.approx([1.0, 0.5, 0.125])


def test_step_needs_every():
    with pytest.raises(SpecError) as err:
        SCHEDULES["step"]({}, 1.0, SPE, 10)
    assert err.value.problems[0].path == ("optimizer", "schedule", "every")


def test_exponential_is_per_epoch_and_fractional():
    s = SCHEDULES["exponential"]({}, 1.0, SPE, 10)
    assert s(0) == 1.0
    assert s(10) == pytest.approx(0.95)
    assert s(5) == pytest.approx(0.95 ** 0.5)
    assert SCHEDULES["exponential"]({"gamma": 0.5}, 2.0, SPE, 10)(30) == pytest.approx(0.25)


def test_cosine():
    s = SCHEDULES["cosine"]({"min-learning-rate": 0.1}, 1.0, SPE, 4)
    assert s(0) == pytest.approx(1.0)
    assert s(20) == pytest.approx(0.55)  # half way
    assert s(10) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 4)))
    assert s(40) == pytest.approx(0.1) and s(400) == pytest.approx(0.1)
    assert SCHEDULES["cosine"]({}, 1.0, SPE, 4)(40) == pytest.approx(0.0, abs=1e-12)


def test_linear_warmup_then_constant():
    s = SCHEDULES["linear-warmup"]({}, 1.0, SPE, 5)  # warmup-epochs 1 = 10 steps
    assert [s(0), s(4), s(9), s(10), s(100)] == pytest.approx([0.1, 0.5, 1.0, 1.0, 1.0])
    s = SCHEDULES["linear-warmup"]({"warmup-epochs": 0.5}, 2.0, SPE, 5)
    assert [s(0), s(4), s(5)] == pytest.approx([0.4, 2.0, 2.0])


def test_every_kind_takes_a_warmup():
    s = SCHEDULES["exponential"]({"warmup-epochs": 2}, 1.0, SPE, 10)
    assert s(0) == pytest.approx(0.95 ** 0.0 * 1 / 20)
    assert s(9) == pytest.approx(0.95 ** 0.9 * 10 / 20)
    assert s(30) == pytest.approx(0.95 ** 3)
    c = SCHEDULES["cosine"]({"warmup-epochs": 1}, 1.0, SPE, 4)
    assert c(4) == pytest.approx(0.5 * (0.5 * (1 + math.cos(math.pi * 0.4 / 4))))
    assert SCHEDULES["constant"]({"warmup-epochs": 1}, 0.1, SPE, 4)(0) == pytest.approx(0.01)


def test_bad_values_are_spec_errors():
    with pytest.raises(SpecError):
        SCHEDULES["step"]({"every": 0}, 1.0, SPE, 10)
    with pytest.raises(SpecError):
        SCHEDULES["linear-warmup"]({"warmup-epochs": -1}, 1.0, SPE, 10)
