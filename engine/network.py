"""Build a network from its description: shorthand expansion, ids, shape inference, and a
flat parameter buffer that every layer's parameters are views into.

The flat buffer is what makes the immutable API fast: an optimizer update is a dozen ufunc
calls over one vector and returns a new vector; the layers' parameter dicts are re-sliced
from it (views, no copies) at each step.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping, Sequence

import numpy as np

from engine.backend import array_module
from engine.errors import SpecError, did_you_mean
from engine.layers import LAYERS, SHORTHANDS

# Activations whose presence right after a weight layer makes `init: auto` pick relu-init.
_RELU_LIKE = {"relu", "prelu"}
_WEIGHTED = {"linear", "convolutional", "prelu"}
_NO_PARAMS = MappingProxyType({})


@dataclass(frozen=True)
class LayerInfo:
    """One layer after expansion, with its place in the flat parameter buffer.

    ``index`` is the layer's position in the spec's ``network`` list (a shorthand gives two
    layers with the same index); ``slices`` maps a parameter name ("weight", "bias") to its
    ``(start, stop, shape)`` in the flat buffer.
    """

    index: int
    id: str
    kind: str
    cfg: Mapping
    in_shape: tuple
    out_shape: tuple
    slices: Mapping


@dataclass(frozen=True)
class Network:
    """A built network: its layers (pure ``init``/``apply`` pairs), their infos, and the
    flat parameter layout. Parameters themselves are a separate value (a flat vector)."""

    layers: tuple
    infos: tuple
    size: int
    in_shape: tuple
    out_shape: tuple
    description: tuple  # the spec's network list (normalised map form), for checkpoints

    def __post_init__(self):
        # The layout as plain tuples: views() runs twice per training step, so it is kept to
        # one slice and one reshape per parameter array, and nothing per parameterless layer.
        layout = tuple(tuple((name, a, b, shape) for name, (a, b, shape) in info.slices.items())
                       for info in self.infos)
        object.__setattr__(self, "_layout", layout)

    def views(self, flat) -> tuple:
        """Per-layer parameter dicts whose arrays are views into ``flat`` [size]."""
        return tuple({name: flat[a:b].reshape(shape) for name, a, b, shape in entries}
                     if entries else _NO_PARAMS for entries in self._layout)

    def named_tensors(self, flat) -> dict:
        """``{"<layer-id>.<param>": array}`` in PyTorch's shapes (checkpoint naming)."""
        named = {}
        for info, params in zip(self.infos, self.views(flat)):
            for name, arr in params.items():
                named[f"{info.id}.{name}"] = arr
        return named

    def per_parameter(self, key: str, default: float, *, frozen_zero: bool = False,
                      names: tuple | None = None):
        """A float32 vector [size] holding each layer's option ``key`` for its parameters.

        ``names`` limits it to those parameters (e.g. ``("weight",)``: no decay on biases);
        with ``frozen_zero``, parameters of layers marked ``frozen`` get 0. Returns None when
        every entry equals ``default`` (so the training step can skip the work).
        """
        vec = np.full(self.size, default, dtype=np.float32)
        for info in self.infos:
            value = float(info.cfg.get(key, default))
            if frozen_zero and info.cfg.get("frozen", False):
                value = 0.0
            for name, (a, b, _) in info.slices.items():
                if names is None or name in names:
                    vec[a:b] = value
        return None if np.all(vec == default) else vec


def expand(description: Sequence[Mapping]) -> list[tuple[int, str, dict]]:
    """Expand shorthands and resolve ids and ``init: auto``.

    Args:
        description: the spec's ``network`` list of layer maps (each has ``kind``).
    Returns:
        ``[(spec_index, layer_id, cfg), ...]`` where ``cfg`` is a plain dict with ``kind``.
    Raises:
        SpecError: unknown kinds, a first layer that is not ``input``, duplicate ids.
    """
    flat: list[tuple[int, dict]] = []
    for i, layer in enumerate(description):
        kind = layer.get("kind")
        if kind not in LAYERS:
            raise SpecError(("network", i, "kind"), f"unknown layer '{kind}'{did_you_mean(kind, LAYERS)}")
        if kind in SHORTHANDS:
            linear = {k: v for k, v in layer.items() if k != "id"}
            linear["kind"] = "linear"
            activation = {"kind": SHORTHANDS[kind]}
            if layer.get("id") is not None:
                activation["id"] = layer["id"]
            flat += [(i, linear), (i, activation)]
        else:
            flat.append((i, dict(layer)))
    if not flat or flat[0][1]["kind"] != "input":
        raise SpecError(("network", 0, "kind"), "a network starts with an input layer, "
                        "e.g. [input, 29, 1, 1, {id: data}]")
    for pos, (i, cfg) in enumerate(flat[1:], start=1):
        if cfg["kind"] == "input":
            raise SpecError(("network", i, "kind"), "only the first layer can be an input layer")
    # Cortex's "auto" init: relu-init when the next activation is relu, else xavier.
    for pos, (i, cfg) in enumerate(flat):
        if cfg["kind"] in _WEIGHTED and cfg.get("init", "auto") in ("auto", None):
            following = flat[pos + 1][1]["kind"] if pos + 1 < len(flat) else None
            cfg["init"] = "relu" if following in _RELU_LIKE else "xavier"
    counts: dict[str, int] = {}
    seen: dict[str, int] = {}
    out = []
    for i, cfg in flat:
        kind = cfg["kind"]
        counts[kind] = counts.get(kind, 0) + 1
        layer_id = cfg.get("id") or f"{kind}-{counts[kind]}"
        if layer_id in seen:
            raise SpecError(("network", i, "id"), f"duplicate layer id '{layer_id}' "
                            f"(also used by network[{seen[layer_id]}])")
        seen[layer_id] = i
        out.append((i, str(layer_id), cfg))
    return out


def build(description: Sequence[Mapping], rng: np.random.Generator, dtype=np.float32):
    """Build the network and its initial parameters.

    Args:
        description: the spec's ``network`` list (normalised map form, defaults filled).
        rng: the generator all initialisers draw from (derive it from the experiment seed).
    Returns:
        ``(network, params)`` with ``params`` a read-only flat vector [network.size].
    Raises:
        SpecError: at the offending layer's path when a shape does not fit.
    """
    expanded = expand(description)
    layers, infos, chunks = [], [], []
    shape = None  # the input layer defines the shape
    offset = 0
    for i, layer_id, cfg in expanded:
        layer = LAYERS[cfg["kind"]].make(cfg, i)
        params, out_shape = layer.init(rng, shape)
        slices = {}
        for name, arr in params.items():
            arr = np.asarray(arr, dtype=dtype)
            slices[name] = (offset, offset + arr.size, tuple(arr.shape))
            chunks.append(arr.ravel())
            offset += arr.size
        layers.append(layer)
        infos.append(LayerInfo(i, layer_id, cfg["kind"], cfg, tuple(shape or out_shape),
                               tuple(out_shape), slices))
        shape = tuple(out_shape)
    flat = np.concatenate(chunks).astype(dtype) if chunks else np.zeros(0, dtype)
    flat.flags.writeable = False
    net = Network(tuple(layers), tuple(infos), offset, infos[0].out_shape, shape,
                  tuple(dict(layer) for layer in description))
    return net, flat


def forward(net: Network, flat, X, *, train: bool = False, rng=None, stop: int | None = None):
    """The network's output for a batch.

    Args:
        flat: parameters [size]; X: inputs [N, *in_shape].
        stop: run layers ``[:stop]`` only (e.g. -1 to get logits before a final softmax).
    Returns:
        Y [N, *out_shape] (probabilities when the network ends in softmax).
    """
    Y = X
    for layer, params in list(zip(net.layers, net.views(flat)))[:stop]:
        Y, _ = layer.apply(params, Y, train=train, rng=rng)
    return Y


def predict(net: Network, flat, X, batch_size: int = 4096, stop: int | None = None):
    """Inference over ``X`` [N, ...] in batches, keeping the last partial batch (Cortex
    dropped it). ``stop`` as in :func:`forward`. Returns outputs [N, ...] on X's module."""
    if len(X) <= batch_size:
        return forward(net, flat, X, stop=stop)
    parts = [forward(net, flat, X[s:s + batch_size], stop=stop) for s in range(0, len(X), batch_size)]
    return array_module(X).concatenate(parts)
