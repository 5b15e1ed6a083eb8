"""Score a network on a data split: its loss and every metric at the experiment's threshold."""

from __future__ import annotations

import numpy as np

from engine.backend import to_numpy
from engine.losses import LOSSES, softmax
from engine.metrics import evaluate
from engine.network import predict
from engine.step import fuses_softmax


def outputs(net, flat, X, loss_name: str, batch_size: int = 8192):
    """``(scores, probs)`` for X [N, ...]: the values the loss sees (logits when a final
    softmax is fused into cross-entropy) and the network's outputs [N, K]."""
    if fuses_softmax(net, loss_name):
        logits = predict(net, flat, X, batch_size, stop=-1)
        return logits, softmax(logits)
    Y = predict(net, flat, X, batch_size)
    return Y, Y


def score_and_probs(net, flat, X, y, *, loss_name: str, threshold: float, beta: float):
    """``(metrics, probs)``: the metrics of :func:`score` and the network's outputs as a
    NumPy [N, K] array, from one forward pass (for callers that need both)."""
    scores, probs = outputs(net, flat, X, loss_name)
    loss, _ = LOSSES[loss_name](scores, y)
    probs = np.asarray(to_numpy(probs), dtype=np.float64)
    metrics = evaluate(probs, np.asarray(to_numpy(y)), threshold=threshold, beta=beta, loss=loss)
    return metrics, probs


def score(net, flat, X, y, *, loss_name: str, threshold: float, beta: float) -> dict:
    """Metrics of the network on (X [N, ...], y [N]): ``loss`` plus engine.metrics.evaluate's
    keys (precision, recall, f1, f-beta, accuracy, roc-auc, pr-auc, tp/fp/tn/fn)."""
    return score_and_probs(net, flat, X, y, loss_name=loss_name, threshold=threshold, beta=beta)[0]
