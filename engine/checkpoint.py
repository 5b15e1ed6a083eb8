"""Checkpoints in safetensors: tensors named ``<layer-id>.weight`` / ``<layer-id>.bias`` in
PyTorch's shapes (``safetensors.torch.load_file`` gives a state dict), the network
description and run facts in the file's string metadata. No pickle anywhere.

Format version 1 metadata keys: ``format`` ("engine-checkpoint"), ``format-version`` ("1"),
``engine-version``, ``network`` (JSON of the spec's network list), plus caller extras
(epoch, metric, score) as strings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save as st_save

from engine import __version__, atomic
from engine.backend import to_numpy
from engine.errors import UserError

FORMAT = "engine-checkpoint"
FORMAT_VERSION = "1"


def save(path, net, flat, extra: Mapping[str, object] = ()) -> None:
    """Atomically write ``net``'s parameters ``flat`` [size] to ``path`` (.safetensors)."""
    tensors = {name: np.ascontiguousarray(to_numpy(a)) for name, a in net.named_tensors(flat).items()}
    metadata = {
        "format": FORMAT,
        "format-version": FORMAT_VERSION,
        "engine-version": __version__,
        "network": json.dumps(list(net.description), sort_keys=True, default=list),
    }
    metadata.update({str(k): str(v) for k, v in dict(extra).items()})
    atomic.write_bytes(path, st_save(tensors, metadata=metadata))


def load(path) -> tuple[dict, dict]:
    """``(tensors, metadata)`` of a checkpoint file; UserError when it is not one of ours."""
    path = Path(path)
    try:
        with safe_open(str(path), framework="np") as f:
            metadata = dict(f.metadata() or {})
            tensors = {name: f.get_tensor(name) for name in f.keys()}
    except FileNotFoundError:
        raise UserError(f"{path}: checkpoint not found") from None
    except (SafetensorError, ValueError, OSError) as exc:
        raise UserError(f"{path}: not a readable safetensors checkpoint ({exc})") from None
    if metadata.get("format") != FORMAT:
        raise UserError(f"{path}: not an engine checkpoint (metadata format is "
                        f"{metadata.get('format')!r})")
    if metadata.get("format-version") != FORMAT_VERSION:
        raise UserError(f"{path}: checkpoint format version {metadata.get('format-version')} "
                        f"is not supported (this engine reads version {FORMAT_VERSION})")
    return tensors, metadata


def params_for(net, path, dtype=np.float32) -> np.ndarray:
    """A flat parameter vector for ``net`` filled from the checkpoint at ``path``.

    Raises:
        UserError: a tensor the network needs is missing or has another shape.
    """
    tensors, _ = load(path)
    flat = np.zeros(net.size, dtype=dtype)
    problems = []
    for info in net.infos:
        for name, (a, b, shape) in info.slices.items():
            key = f"{info.id}.{name}"
            if key not in tensors:
                problems.append(f"tensor '{key}' is missing")
            elif tuple(tensors[key].shape) != tuple(shape):
                problems.append(f"tensor '{key}' has shape {tuple(tensors[key].shape)}, "
                                f"the network needs {tuple(shape)}")
            else:
                flat[a:b] = tensors[key].ravel()
    if problems:
        raise UserError(f"{path}: does not fit this network: " + "; ".join(problems))
    flat.flags.writeable = False
    return flat
