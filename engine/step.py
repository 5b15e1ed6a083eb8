"""The training step, compiled once per run: ``(params, opt_state, X, y, rng) -> (params,
opt_state, loss)``, pure at its boundary.

Compiling means deciding everything that does not change between steps up front (whether
softmax and cross-entropy fuse, which per-parameter vectors are needed, where each layer's
gradient lives in the flat gradient vector), so the step itself is only the layers' kernels,
the loss and one flat optimizer update.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from engine.losses import LOSSES
from engine.optimizers import apply_updates


class Regularization(NamedTuple):
    """Per-parameter vectors [size] (or None when unused): l1 and l2 strengths, and the
    learning-rate scale (Cortex's learning-attenuation; 0 for frozen layers)."""

    l1: object
    l2: object
    lr_scale: object


def regularization(net, xp=np) -> Regularization:
    """The network's per-parameter regularisation and attenuation vectors on ``xp``."""
    to = (lambda v: None if v is None else xp.asarray(v))
    return Regularization(
        l1=to(net.per_parameter("l1-regularization", 0.0, names=("weight",))),
        l2=to(net.per_parameter("l2-regularization", 0.0, names=("weight",))),
        lr_scale=to(net.per_parameter("learning-attenuation", 1.0, frozen_zero=True)),
    )


def fuses_softmax(net, loss_name: str) -> bool:
    """True when the final softmax is folded into the loss (stable, and cheaper)."""
    return loss_name == "softmax-cross-entropy" and net.infos[-1].kind == "softmax"


def make_loss_and_grad(net, loss_name: str, xp=np, *, reuse_grads: bool = False) -> Callable:
    """``loss_and_grad(flat, X, y, rng, train=True) -> (loss, grads [size])``.

    The loss is the batch mean of ``loss_name`` (without regularisation); ``grads`` is a new
    vector. With a final softmax and cross-entropy, the loss sees the logits.

    ``reuse_grads``: for the training step only. The gradient then goes into one buffer
    (per dtype), views and all, reused by every call: it saves an allocation and the
    slicing of views per step, and is safe because the step consumes the gradient before
    returning (no optimizer keeps it). Callers that keep gradients must leave it False.
    """
    fused = fuses_softmax(net, loss_name)
    layers = net.layers[:-1] if fused else net.layers
    count = len(layers)
    # Backprop stops at the first layer with parameters: nothing before it needs a gradient,
    # so that layer skips its input gradient (for the fraud MLP, a whole matmul per step).
    first = next((k for k in range(count) if net.infos[k].slices), count)
    loss_fn = LOSSES[loss_name]
    size = net.size
    scratch: dict = {}  # dtype -> (grads, views), when reuse_grads

    def loss_and_grad(flat, X, y, rng, train=True):
        views = net.views(flat)
        if reuse_grads:
            grads, grad_views = scratch.get(flat.dtype) or scratch.setdefault(
                flat.dtype, _buffer(xp.empty(size, dtype=flat.dtype)))
        else:
            grads, grad_views = _buffer(xp.empty(size, dtype=flat.dtype))
        backprops = []
        Y = X
        for k in range(count):
            Y, backprop = layers[k].apply(views[k], Y, train=train, rng=rng)
            backprops.append(backprop)
        loss, dY = loss_fn(Y, y)
        for k in range(count - 1, first - 1, -1):
            dY, _ = backprops[k](dY, grads_out=grad_views[k], need_dX=k > first)
        if fused and net.infos[-1].slices:  # pragma: no cover - softmax has no parameters
            raise AssertionError("softmax with parameters cannot be fused")
        return loss, grads

    def _buffer(grads):
        return grads, net.views(grads)

    return loss_and_grad


def make_train_step(net, loss_name: str, optimizer, xp=np) -> Callable:
    """``step(flat, opt_state, X, y, rng) -> (new_flat, new_opt_state, loss)``.

    ``flat`` [size] and ``opt_state`` are never written; the returned ``new_flat`` is a new
    read-only vector. l1/l2 add ``l1*sign(w) + l2*w`` to the weights' gradients; the update
    is scaled per parameter by learning-attenuation (0 for frozen layers).
    """
    loss_and_grad = make_loss_and_grad(net, loss_name, xp, reuse_grads=True)
    reg = regularization(net, xp)
    update = optimizer.update

    def step(flat, opt_state, X, y, rng):
        loss, grads = loss_and_grad(flat, X, y, rng)
        # grads is the step's own scratch vector, so adding into it writes nobody's input.
        if reg.l2 is not None:
            grads += reg.l2 * flat
        if reg.l1 is not None:
            grads += reg.l1 * xp.sign(flat)
        updates, opt_state = update(grads, opt_state, flat)
        if reg.lr_scale is not None:
            updates = updates * reg.lr_scale
        new_flat = apply_updates(flat, updates)
        if isinstance(new_flat, np.ndarray):
            new_flat.flags.writeable = False
        return new_flat, opt_state, loss

    return step
