"""Optimizers as Optax-style gradient transformations on FLAT parameter vectors.

A :class:`GradientTransformation` is ``(init, update)``: ``init(params [P]) -> state`` and
``update(grads [P], state, params [P]) -> (updates [P], new_state)``; then
``params = apply_updates(params, updates)``. States are NamedTuples holding ``count`` (the
number of updates done, an int) and arrays; nothing is ever written in place, every step returns
fresh arrays. Keeping the step count in the state fixes Cortex's Adam, which restarted its bias
correction every epoch.

Small transforms (:func:`scale_by_adam`, :func:`trace`, :func:`add_decayed_weights`,
:func:`scale_by_schedule`, ...) compose with :func:`chain`. The named optimizers in
:data:`OPTIMIZERS` compute the same thing as their chains but fused into one update of a dozen
ufunc calls, because the train step of a small network is dominated by per-call overhead.
``OPTIMIZERS[kind](cfg, schedule)`` takes the optimizer's kebab-case options (defaults in
:data:`DEFAULTS`) and ``schedule(step) -> learning rate`` (``step`` = the state's count before
the update, from 0); ``schedule=None`` means the constant ``learning-rate``.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, NamedTuple

from engine.backend import array_module

Schedule = Callable[[int], float]


class GradientTransformation(NamedTuple):
    """``init(params) -> state``; ``update(grads, state, params) -> (updates, new_state)``."""

    init: Callable[[Any], Any]
    update: Callable[[Any, Any, Any], tuple[Any, Any]]


class CountState(NamedTuple):
    """The state of a stateless transform: just the step count."""

    count: int


class TraceState(NamedTuple):
    count: int
    trace: Any  # [P] momentum buffer


class ScaleByAdamState(NamedTuple):
    count: int
    mu: Any  # [P] first moment
    nu: Any  # [P] second moment


class ScaleByRmsState(NamedTuple):
    count: int
    nu: Any  # [P] running mean of g^2


class ScaleByAdadeltaState(NamedTuple):
    count: int
    acc_grad: Any  # [P] running mean of g^2
    acc_update: Any  # [P] running mean of update^2


class ChainState(NamedTuple):
    count: int
    inner: tuple  # the states of the chained transforms, in order


class AdamState(NamedTuple):
    count: int
    mu: Any
    nu: Any


class SgdState(NamedTuple):
    count: int
    trace: Any


class RmspropState(NamedTuple):
    count: int
    nu: Any
    trace: Any  # None when momentum is 0


class AdadeltaState(NamedTuple):
    count: int
    acc_grad: Any
    acc_update: Any


def apply_updates(params, updates):
    """``params + updates`` as a new array (in params' dtype)."""
    return (params + updates).astype(params.dtype, copy=False)


def _zeros(params):
    return array_module(params).zeros_like(params)


def _constant(lr: float) -> Schedule:
    return lambda step: lr


# ---------------------------------------------------------------------------------- small transforms

def scale(factor: float) -> GradientTransformation:
    """``updates = factor * grads``."""
    return GradientTransformation(lambda params: CountState(0),
                                  lambda g, state, params=None: (g * factor, CountState(state.count + 1)))


def scale_by_schedule(schedule: Schedule) -> GradientTransformation:
    """``updates = -schedule(count) * grads``: the learning-rate step (negated, so it descends)."""

    def update(g, state, params=None):
        return g * -schedule(state.count), CountState(state.count + 1)

    return GradientTransformation(lambda params: CountState(0), update)


def add_decayed_weights(weight_decay: float) -> GradientTransformation:
    """``updates = grads + weight_decay * params`` (decoupled weight decay when placed before the
    learning-rate step, as in AdamW)."""

    def update(g, state, params):
        return g + weight_decay * params, CountState(state.count + 1)

    return GradientTransformation(lambda params: CountState(0), update)


def trace(decay: float, nesterov: bool = False) -> GradientTransformation:
    """Momentum: ``t = g + decay * t``; updates ``t``, or ``g + decay * t`` with Nesterov."""

    def update(g, state, params=None):
        t = g + decay * state.trace
        out = g + decay * t if nesterov else t
        return out, TraceState(state.count + 1, t)

    return GradientTransformation(lambda params: TraceState(0, _zeros(params)), update)


def scale_by_adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> GradientTransformation:
    """Adam's direction ``mu_hat / (sqrt(nu_hat) + eps)`` with bias correction from the count
    (Kingma & Ba 2015, Algorithm 1)."""

    def update(g, state, params=None):
        xp = array_module(g)
        t = state.count + 1
        mu = b1 * state.mu + (1 - b1) * g
        nu = b2 * state.nu + (1 - b2) * (g * g)
        out = (mu / (1 - b1 ** t)) / (xp.sqrt(nu / (1 - b2 ** t)) + eps)
        return out, ScaleByAdamState(t, mu, nu)

    return GradientTransformation(lambda p: ScaleByAdamState(0, _zeros(p), _zeros(p)), update)


def scale_by_rms(decay: float = 0.9, eps: float = 1e-8) -> GradientTransformation:
    """RMSProp's direction ``g / (sqrt(nu) + eps)`` with ``nu = decay*nu + (1-decay)*g^2``."""

    def update(g, state, params=None):
        nu = decay * state.nu + (1 - decay) * (g * g)
        return g / (array_module(g).sqrt(nu) + eps), ScaleByRmsState(state.count + 1, nu)

    return GradientTransformation(lambda p: ScaleByRmsState(0, _zeros(p)), update)


def scale_by_adadelta(decay: float = 0.05, eps: float = 1e-6) -> GradientTransformation:
    """AdaDelta (Zeiler 2012) with Cortex's weighting: ``decay`` is the weight of the NEW value,
    ``acc = decay * g^2 + (1 - decay) * acc``; direction ``sqrt(acc_update + eps) /
    sqrt(acc_grad + eps) * g``."""

    def update(g, state, params=None):
        xp = array_module(g)
        acc_grad = decay * (g * g) + (1 - decay) * state.acc_grad
        dx = xp.sqrt(state.acc_update + eps) / xp.sqrt(acc_grad + eps) * g
        acc_update = decay * (dx * dx) + (1 - decay) * state.acc_update
        return dx, ScaleByAdadeltaState(state.count + 1, acc_grad, acc_update)

    return GradientTransformation(lambda p: ScaleByAdadeltaState(0, _zeros(p), _zeros(p)), update)


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Apply ``transforms`` in order, each to the previous one's updates."""

    def init(params):
        return ChainState(0, tuple(t.init(params) for t in transforms))

    def update(g, state, params=None):
        states = []
        for t, s in zip(transforms, state.inner):
            g, s = t.update(g, s, params)
            states.append(s)
        return g, ChainState(state.count + 1, tuple(states))

    return GradientTransformation(init, update)


# ---------------------------------------------------------------------------------- named, fused

DEFAULTS: dict[str, dict[str, Any]] = {
    "sgd": {"learning-rate": 0.001, "momentum": 0.9, "nesterov": True},
    "adam": {"learning-rate": 0.001, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
    "adamw": {"learning-rate": 0.001, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8,
              "weight-decay": 0.01},
    "adadelta": {"learning-rate": 1.0, "decay": 0.05, "epsilon": 1e-6},
    "rmsprop": {"learning-rate": 0.001, "decay": 0.9, "epsilon": 1e-8, "momentum": 0.0},
}


def _options(kind: str, cfg: Mapping, schedule: Schedule | None):
    opts = dict(DEFAULTS[kind])
    opts.update((k, v) for k, v in (cfg or {}).items() if k in opts and v is not None)
    if schedule is None:
        schedule = _constant(float(opts["learning-rate"]))
    return opts, schedule


def _adam_like(b1: float, b2: float, eps: float, weight_decay: float, schedule: Schedule):
    def init(params):
        return AdamState(0, _zeros(params), _zeros(params))

    def update(g, state, params):
        xp = array_module(g)
        t = state.count + 1
        mu = state.mu * b1
        mu += (1 - b1) * g
        nu = g * g
        nu *= 1 - b2
        nu += b2 * state.nu
        # mu_hat/(sqrt(nu_hat)+eps) == sqrt(c2)/c1 * mu/(sqrt(nu) + eps*sqrt(c2)), c = 1 - b**t
        root_c2 = math.sqrt(1 - b2 ** t)
        den = xp.sqrt(nu)
        den += eps * root_c2
        out = xp.divide(mu, den)
        lr = schedule(state.count)
        out *= -lr * root_c2 / (1 - b1 ** t)
        if weight_decay:
            out -= (lr * weight_decay) * params
        return out, AdamState(t, mu, nu)

    return GradientTransformation(init, update)


def adam(cfg: Mapping | None = None, schedule: Schedule | None = None) -> GradientTransformation:
    """Adam: ``chain(scale_by_adam(beta1, beta2, epsilon), scale_by_schedule(schedule))``, fused."""
    o, schedule = _options("adam", cfg, schedule)
    return _adam_like(float(o["beta1"]), float(o["beta2"]), float(o["epsilon"]), 0.0, schedule)


def adamw(cfg: Mapping | None = None, schedule: Schedule | None = None) -> GradientTransformation:
    """AdamW (Loshchilov & Hutter 2019): ``chain(scale_by_adam, add_decayed_weights(weight-decay),
    scale_by_schedule)``, fused; the decay is scaled by the learning rate, as in Optax."""
    o, schedule = _options("adamw", cfg, schedule)
    return _adam_like(float(o["beta1"]), float(o["beta2"]), float(o["epsilon"]),
                      float(o["weight-decay"]), schedule)


def sgd(cfg: Mapping | None = None, schedule: Schedule | None = None) -> GradientTransformation:
    """SGD with momentum (``trace(momentum, nesterov)``) then the learning-rate step, fused."""
    o, schedule = _options("sgd", cfg, schedule)
    m, nesterov = float(o["momentum"]), bool(o["nesterov"])

    def init(params):
        return SgdState(0, _zeros(params) if m else None)

    def update(g, state, params=None):
        lr = schedule(state.count)
        if not m:
            return g * -lr, SgdState(state.count + 1, None)
        t = state.trace * m
        t += g
        if nesterov:
            out = t * m
            out += g
            out *= -lr
        else:
            out = t * -lr
        return out, SgdState(state.count + 1, t)

    return GradientTransformation(init, update)


def rmsprop(cfg: Mapping | None = None, schedule: Schedule | None = None) -> GradientTransformation:
    """RMSProp: ``scale_by_rms(decay, epsilon)``, then ``trace(momentum)`` when momentum > 0, then
    the learning-rate step, fused."""
    o, schedule = _options("rmsprop", cfg, schedule)
    decay, eps, m = float(o["decay"]), float(o["epsilon"]), float(o["momentum"])

    def init(params):
        return RmspropState(0, _zeros(params), _zeros(params) if m else None)

    def update(g, state, params=None):
        xp = array_module(g)
        nu = g * g
        nu *= 1 - decay
        nu += decay * state.nu
        den = xp.sqrt(nu)
        den += eps
        out = xp.divide(g, den)
        t = None
        if m:
            t = state.trace * m
            t += out
            out = t.copy()
        out *= -schedule(state.count)
        return out, RmspropState(state.count + 1, nu, t)

    return GradientTransformation(init, update)


def adadelta(cfg: Mapping | None = None, schedule: Schedule | None = None) -> GradientTransformation:
    """AdaDelta with Cortex's semantics (``decay`` weighs the new value; see
    :func:`scale_by_adadelta`), then the learning-rate step (default 1.0), fused."""
    o, schedule = _options("adadelta", cfg, schedule)
    inner = scale_by_adadelta(float(o["decay"]), float(o["epsilon"]))

    def init(params):
        return AdadeltaState(0, _zeros(params), _zeros(params))

    def update(g, state, params=None):
        dx, s = inner.update(g, state, params)
        dx *= -schedule(state.count)  # dx is ours; acc_update was computed before the scaling
        return dx, AdadeltaState(s.count, s.acc_grad, s.acc_update)

    return GradientTransformation(init, update)


OPTIMIZERS: dict[str, Callable[[Mapping, Schedule | None], GradientTransformation]] = {
    "sgd": sgd,
    "adam": adam,
    "adamw": adamw,
    "adadelta": adadelta,
    "rmsprop": rmsprop,
}
