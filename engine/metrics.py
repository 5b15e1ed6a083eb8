"""Classification metrics from predicted class probabilities.

Binary problems (two classes) treat class 1 as the positive class and predict it when its
probability is at least ``threshold`` (Cortex's fraud example meant to do this and never did:
it compared ``1`` with ``1.0``). More classes predict the argmax and macro-average.

Every ratio with a zero denominator is 0, never a division error (Cortex's precision crashed
when nothing was predicted positive). AUCs are None when undefined (only one class present).
"""

from __future__ import annotations

from typing import Callable, Mapping, NamedTuple

import numpy as np


def _as_probs(probs) -> np.ndarray:
    """``probs`` as a float64 [N, K] array; a [N] or [N, 1] input is P(class 1) of a binary task."""
    P = np.asarray(probs, dtype=np.float64)
    if P.ndim == 1:
        P = P[:, None]
    if P.ndim != 2:
        raise ValueError(f"probs must be [N, K], got shape {P.shape}")
    if P.shape[1] == 1:
        P = np.concatenate([1.0 - P, P], axis=1)
    return P


def predict_labels(probs, threshold: float = 0.5) -> np.ndarray:
    """Predicted class indices, int64 [N].

    Args:
        probs: [N, K] class probabilities (or [N] / [N, 1]: probability of class 1).
        threshold: binary only: class 1 when ``probs[:, 1] >= threshold``.
    """
    P = _as_probs(probs)
    if P.shape[1] == 2:
        return (P[:, 1] >= threshold).astype(np.int64)
    return np.argmax(P, axis=1).astype(np.int64)


def confusion_matrix(probs, y, threshold: float = 0.5) -> np.ndarray:
    """[K, K] int64 counts: row = true class, column = predicted class."""
    P = _as_probs(probs)
    K = P.shape[1]
    y = _as_labels(y, len(P), K)
    pred = predict_labels(P, threshold)
    return np.bincount(y * K + pred, minlength=K * K).reshape(K, K)


def _as_labels(y, n: int, K: int) -> np.ndarray:
    y = np.asarray(y).astype(np.int64, copy=False).reshape(-1)
    if len(y) != n:
        raise ValueError(f"{n} predictions but {len(y)} labels")
    if len(y) and (y.min() < 0 or y.max() >= K):
        raise ValueError(f"labels must lie in [0, {K}), got [{y.min()}, {y.max()}]")
    return y


def _ratio(num, den):
    """num / den elementwise, 0 where den is 0."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den != 0)


def _f_beta(precision, recall, beta: float):
    b2 = beta * beta
    return _ratio((1 + b2) * precision * recall, b2 * precision + recall)


def roc_auc(scores, positive) -> float | None:
    """Area under the ROC curve: P(score of a random positive > that of a random negative),
    ties counting one half (the Mann-Whitney U statistic from average ranks).

    Args:
        scores: [N] scores, higher = more positive.
        positive: [N] bools.
    Returns: the AUC, or None when there are no positives or no negatives.
    """
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    pos = np.asarray(positive, dtype=bool).reshape(-1)
    n_pos = int(pos.sum())
    n_neg = len(pos) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = _average_ranks(s)
    u = ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def _average_ranks(s: np.ndarray) -> np.ndarray:
    """1-based ranks of ``s``, tied values sharing the mean of their ranks."""
    order = np.argsort(s, kind="stable")
    sorted_s = s[order]
    new_group = np.empty(len(s), dtype=bool)
    new_group[:1] = True
    new_group[1:] = sorted_s[1:] != sorted_s[:-1]
    group = np.cumsum(new_group) - 1
    starts = np.flatnonzero(new_group)
    ends = np.append(starts[1:], len(s))  # exclusive
    mean_rank = (starts + 1 + ends) / 2.0  # mean of ranks starts+1 .. ends
    ranks = np.empty(len(s))
    ranks[order] = mean_rank[group]
    return ranks


def average_precision(scores, positive) -> float | None:
    """Area under the precision-recall curve as average precision:
    sum over distinct thresholds of (recall step) x (precision there). None without positives.
    """
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    pos = np.asarray(positive, dtype=bool).reshape(-1)
    n_pos = int(pos.sum())
    if n_pos == 0:
        return None
    order = np.argsort(-s, kind="stable")
    s_sorted = s[order]
    tp = np.cumsum(pos[order])
    # evaluate only at the last index of each run of tied scores: one threshold per value
    last = np.append(s_sorted[1:] != s_sorted[:-1], True)
    tp = tp[last].astype(np.float64)
    predicted = (np.flatnonzero(last) + 1).astype(np.float64)
    precision = tp / predicted
    recall_step = np.diff(np.concatenate([[0.0], tp])) / n_pos
    return float(np.sum(recall_step * precision))


def evaluate(probs, y, *, threshold: float = 0.5, beta: float = 1.0,
             loss: float | None = None) -> dict:
    """Every metric for one set of predictions.

    Args:
        probs: [N, K] class probabilities (rows of a softmax), or [N] / [N, 1] = P(class 1).
        y: [N] int true class indices.
        threshold: binary: class 1 predicted when ``probs[:, 1] >= threshold``.
        beta: the F-beta weight of recall.
        loss: when given, stored under ``"loss"`` (the training loop computes it).
    Returns:
        dict with ints ``tp, fp, tn, fn, count`` and floats ``precision, recall, f-beta, f1,
        accuracy``, ``roc-auc, pr-auc`` (None when undefined) [and ``loss``].
        Binary: counts and ratios for class 1. More classes: counts summed one-vs-rest over
        classes, ratios and AUCs macro-averaged (one-vs-rest) over classes.
    """
    P = _as_probs(probs)
    K = P.shape[1]
    y = _as_labels(y, len(P), K)
    cm = confusion_matrix(P, y, threshold)
    tp_k = np.diag(cm)
    fp_k = cm.sum(axis=0) - tp_k
    fn_k = cm.sum(axis=1) - tp_k
    tn_k = len(y) - tp_k - fp_k - fn_k
    precision_k = _ratio(tp_k, tp_k + fp_k)
    recall_k = _ratio(tp_k, tp_k + fn_k)
    if K == 2:
        tp, fp, tn, fn = (int(a[1]) for a in (tp_k, fp_k, tn_k, fn_k))
        precision, recall = float(precision_k[1]), float(recall_k[1])
        f_b = float(_f_beta(precision, recall, beta))
        f_1 = float(_f_beta(precision, recall, 1.0))
        roc = roc_auc(P[:, 1], y == 1)
        pr = average_precision(P[:, 1], y == 1)
    else:
        tp, fp, tn, fn = (int(a.sum()) for a in (tp_k, fp_k, tn_k, fn_k))
        precision, recall = float(precision_k.mean()), float(recall_k.mean())
        f_b = float(_f_beta(precision_k, recall_k, beta).mean())
        f_1 = float(_f_beta(precision_k, recall_k, 1.0).mean())
        roc = _macro([roc_auc(P[:, k], y == k) for k in range(K)])
        pr = _macro([average_precision(P[:, k], y == k) for k in range(K)])
    out = {
        "tp": tp, "fp": fp, "tn": tn, "fn": fn, "count": int(len(y)),
        "precision": precision, "recall": recall, "f-beta": f_b, "f1": f_1,
        "accuracy": float(_ratio(np.trace(cm), len(y))),
        "roc-auc": roc, "pr-auc": pr,
    }
    if loss is not None:
        out["loss"] = float(loss)
    return out


def _macro(values) -> float | None:
    defined = [v for v in values if v is not None]
    return float(np.mean(defined)) if defined else None


class Metric(NamedTuple):
    """A selectable metric: its report key and which direction is better."""

    name: str
    higher_is_better: bool
    read: Callable[[Mapping], float | None]


def _reader(key: str) -> Callable[[Mapping], float | None]:
    return lambda report: report.get(key)


METRICS: dict[str, Metric] = {
    name: Metric(name, name != "loss", _reader(name))
    for name in ("loss", "f-beta", "f1", "precision", "recall", "accuracy", "roc-auc", "pr-auc")
}
HIGHER_IS_BETTER: dict[str, bool] = {name: m.higher_is_better for name, m in METRICS.items()}


def is_better(name: str, new: float | None, best: float | None) -> bool:
    """True when ``new`` beats ``best`` for metric ``name``; an undefined (None/NaN) value
    never beats a defined one, and anything beats an undefined best."""
    def undefined(v):
        return v is None or (isinstance(v, float) and np.isnan(v))

    if undefined(new):
        return False
    if undefined(best):
        return True
    return new > best if HIGHER_IS_BETTER[name] else new < best
