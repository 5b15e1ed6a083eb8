"""Load a run's best checkpoint into PyTorch and check it computes what the engine computes.

    .venv-bench/bin/python bench/pytorch_checkpoint.py runs/fraud-xxxxxxxx

Reads ``best.safetensors`` with ``safetensors.torch.load_file`` (a state dict named
``<layer-id>.weight`` / ``<layer-id>.bias``), builds the same MLP from the network
description in the file's metadata, loads the state dict strictly, and compares its outputs
with the engine's on 1,000 rows of the run's test split. Dense networks only (linear and
activations), which is what the fraud model is.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from torch import nn

from engine.data.pipeline import load_dataset
from engine.network import expand, predict
from engine.runs import load_run

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "logistic": nn.Sigmoid}


class FromDescription(nn.Module):
    """The engine's dense network as a torch module whose submodules carry the engine's ids."""

    def __init__(self, description, state):
        super().__init__()
        self.order = []
        for _, layer_id, cfg in expand(description):
            kind = cfg["kind"]
            if kind == "linear":
                out_features, in_features = state[f"{layer_id}.weight"].shape
                self.add_module(layer_id, nn.Linear(in_features, out_features))
            elif kind in ACTIVATIONS:
                self.add_module(layer_id, ACTIVATIONS[kind]())
            elif kind == "softmax":
                self.add_module(layer_id, nn.Softmax(dim=1))
            elif kind in ("input", "dropout"):
                continue  # identity at inference
            else:
                raise SystemExit(f"{kind}: this check covers dense networks only")
            self.order.append(layer_id)

    def forward(self, X):
        for layer_id in self.order:
            X = getattr(self, layer_id)(X)
        return X


def main(run_dir: str) -> None:
    loaded, net, params, _ = load_run(run_dir)
    state = load_file(str(Path(run_dir) / "best.safetensors"))
    print("tensors:", {k: tuple(v.shape) for k, v in state.items()})
    model = FromDescription(loaded.spec["network"], state)
    print("load_state_dict(strict=True):", model.load_state_dict(state, strict=True))
    X, _ = load_dataset(loaded.spec["dataset"], loaded.spec["seed"], loaded.base_dir).test
    X = X[:1000]
    with torch.no_grad():
        torch_out = model(torch.from_numpy(X)).numpy()
    engine_out = predict(net, params, X)
    diff = float(np.abs(torch_out - engine_out).max())
    print(f"max |torch - engine| over {len(X)} rows: {diff:.2e}")
    if diff > 1e-5:
        raise SystemExit("outputs differ")


if __name__ == "__main__":
    main(sys.argv[1])
