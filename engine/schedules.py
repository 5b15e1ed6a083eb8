"""Learning-rate schedules: ``SCHEDULES[kind](cfg, base_lr, steps_per_epoch, epoch_count)``
returns ``schedule(step) -> learning rate`` for ``step`` = 0, 1, 2, ... (the optimizer state's
count before the update).

All durations are in epochs and may be fractional: ``epoch = step / steps_per_epoch``.

- ``constant``: ``base_lr``.
- ``step`` {``every`` (required), ``gamma`` 0.1}: ``base_lr * gamma ** floor(epoch / every)``.
- ``exponential`` {``gamma`` 0.95}: ``base_lr * gamma ** epoch`` (smooth, per epoch).
- ``cosine`` {``min-learning-rate`` 0}: from ``base_lr`` at step 0 to ``min-learning-rate`` at
  ``epoch_count`` epochs (half a cosine), then flat.
- ``linear-warmup`` {``warmup-epochs`` 1}: the warm-up below, then constant.

Every kind also takes ``warmup-epochs`` (0 by default, except ``linear-warmup``): over the first
``W = warmup-epochs * steps_per_epoch`` steps the rate is multiplied by ``(step + 1) / W``, a line
from near 0 that reaches the schedule's value at the end of the warm-up (no step is wasted at 0).
The decay is a function of the absolute epoch, unaffected by the warm-up.
"""

from __future__ import annotations

import math
from typing import Callable, Mapping

from engine.errors import SpecError

Schedule = Callable[[int], float]
_PATH = ("optimizer", "schedule")


def _number(cfg: Mapping, key: str, default, *, minimum: float | None = None,
            positive: bool = False) -> float:
    value = cfg.get(key, default)
    if value is None:
        value = default
    if value is None:
        raise SpecError(_PATH + (key,), f"the schedule needs '{key}'")
    value = float(value)
    if positive and not value > 0:
        raise SpecError(_PATH + (key,), f"'{key}' must be > 0, got {value}")
    if minimum is not None and value < minimum:
        raise SpecError(_PATH + (key,), f"'{key}' must be >= {minimum}, got {value}")
    return value


def _with_warmup(decay: Callable[[float], float], cfg: Mapping, steps_per_epoch: int,
                 default_warmup: float = 0.0) -> Schedule:
    """``schedule(step)``: ``decay(epoch)`` times the linear warm-up factor."""
    spe = max(int(steps_per_epoch), 1)
    warmup_steps = _number(cfg, "warmup-epochs", default_warmup, minimum=0.0) * spe

    if warmup_steps <= 0:
        return lambda step: decay(step / spe)

    def schedule(step: int) -> float:
        lr = decay(step / spe)
        if step + 1 < warmup_steps:
            lr *= (step + 1) / warmup_steps
        return lr

    return schedule


def constant(cfg: Mapping, base_lr: float, steps_per_epoch: int, epoch_count: int) -> Schedule:
    """``base_lr`` (after the optional warm-up)."""
    base_lr = float(base_lr)
    return _with_warmup(lambda epoch: base_lr, cfg or {}, steps_per_epoch)


def step(cfg: Mapping, base_lr: float, steps_per_epoch: int, epoch_count: int) -> Schedule:
    """``base_lr * gamma ** floor(epoch / every)``."""
    cfg = cfg or {}
    every = _number(cfg, "every", None, positive=True)
    gamma = _number(cfg, "gamma", 0.1, minimum=0.0)
    base_lr = float(base_lr)
    # a hair of slack so that e.g. epoch 0.3/0.1 lands on 3, not 2.9999
    return _with_warmup(lambda epoch: base_lr * gamma ** math.floor(epoch / every + 1e-9),
                        cfg, steps_per_epoch)


def exponential(cfg: Mapping, base_lr: float, steps_per_epoch: int, epoch_count: int) -> Schedule:
    """``base_lr * gamma ** epoch``."""
    cfg = cfg or {}
    gamma = _number(cfg, "gamma", 0.95, minimum=0.0)
    base_lr = float(base_lr)
    return _with_warmup(lambda epoch: base_lr * gamma ** epoch, cfg, steps_per_epoch)


def cosine(cfg: Mapping, base_lr: float, steps_per_epoch: int, epoch_count: int) -> Schedule:
    """Half a cosine from ``base_lr`` to ``min-learning-rate`` over ``epoch_count`` epochs."""
    cfg = cfg or {}
    low = _number(cfg, "min-learning-rate", 0.0, minimum=0.0)
    base_lr, total = float(base_lr), max(float(epoch_count), 1e-12)

    def decay(epoch: float) -> float:
        return low + (base_lr - low) * 0.5 * (1.0 + math.cos(math.pi * min(epoch / total, 1.0)))

    return _with_warmup(decay, cfg, steps_per_epoch)


def linear_warmup(cfg: Mapping, base_lr: float, steps_per_epoch: int, epoch_count: int) -> Schedule:
    """A linear warm-up over ``warmup-epochs`` (default 1), then ``base_lr``."""
    base_lr = float(base_lr)
    return _with_warmup(lambda epoch: base_lr, cfg or {}, steps_per_epoch, default_warmup=1.0)


SCHEDULES: dict[str, Callable[[Mapping, float, int, int], Schedule]] = {
    "constant": constant,
    "step": step,
    "exponential": exponential,
    "cosine": cosine,
    "linear-warmup": linear_warmup,
}
