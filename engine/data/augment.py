"""Training-split augmentation: noisy copies of the minority class (the fraud post's trick).

``variance-noise`` adds uniform noise in ``[-s, s)`` per feature to copies of the minority
class's rows until that class makes up ``target-balance`` of the training split. As in the
post, the copies are whole rounds over every minority row:
``rounds = int(num_augments / count_minority)`` (so the balance lands at or just under the
target).

The half-width ``s`` per feature:

- rule ``post`` (default, faithful to the blog): the minority class's per-feature sample
  variance x 5000 / n_features. Note this scales the VARIANCE, not the standard deviation:
  on Kaggle-like data the noise is tens to thousands of times the class's spread, so the
  synthetic rows lie far outside the real data (see docs: reference cortex-facts).
- rule ``std``: ``std`` x the minority class's per-feature sample standard deviation.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from engine.errors import SpecError

_PATH = ("dataset", "augmentation")


def minority_class(y: np.ndarray) -> int:
    """Class 1 for binary labels; otherwise the least frequent present class (lowest index
    on ties)."""
    classes, counts = np.unique(y, return_counts=True)
    if set(classes.tolist()) <= {0, 1}:
        return 1
    return int(classes[np.argmin(counts)])


def noise_scale(cfg: Mapping, X_minority: np.ndarray) -> np.ndarray:
    """Half-widths s, float64 [F], of the noise for each (flattened) feature.

    Variances and standard deviations are sample statistics (n - 1, as the post's
    ``core.matrix.stats/variance``); 0 with a single row.
    """
    rule = cfg.get("rule") or "post"
    X = np.asarray(X_minority, dtype=np.float64).reshape(len(X_minority), -1)
    variance = X.var(axis=0, ddof=1) if len(X) > 1 else np.zeros(X.shape[1])
    if rule == "post":
        return variance * (5000.0 / X.shape[1])
    if rule == "std":
        return float(cfg.get("std", 1.0)) * np.sqrt(variance)
    raise SpecError(_PATH + ("rule",), f"unknown rule '{rule}' (known: post, std)")


def augment_count(y: np.ndarray, minority: int, target_balance: float) -> tuple[int, int]:
    """(rounds, copies): the post's whole rounds over the minority rows, and the rows added."""
    count_pos = int(np.sum(y == minority))
    count_neg = len(y) - count_pos
    target = target_balance * count_neg / (1.0 - target_balance)  # minority rows wanted
    num_augments = target - count_pos
    if num_augments <= 0 or count_pos == 0:
        return 0, 0
    rounds = int(num_augments / count_pos)
    return rounds, rounds * count_pos


def variance_noise(cfg: Mapping, X: np.ndarray, y: np.ndarray,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Append noisy copies of the minority class's rows.

    Args:
        cfg: {rule: post|std, std: float, target-balance: float in (0, 1)}.
        X: float32 [N, ...] training features; y: int64 [N] labels.
        rng: the augmentation's generator.
    Returns:
        (X', y'): the original rows first, then ``rounds`` copies of all minority rows
        (round r, row i at ``N + r * count + i``), each plus uniform noise in [-s, s).
    """
    balance = cfg.get("target-balance", 0.5)
    if balance is None:
        balance = 0.5
    if not 0.0 < float(balance) < 1.0:
        raise SpecError(_PATH + ("target-balance",), f"must lie in (0, 1), got {balance}")
    minority = minority_class(y)
    pos = np.flatnonzero(y == minority)
    if len(pos) == 0:
        raise SpecError(_PATH, f"the training split has no rows of class {minority} to augment")
    s = noise_scale(cfg, X[pos])
    rounds, copies = augment_count(y, minority, float(balance))
    if rounds == 0:
        return X, y
    base = np.tile(X[pos].reshape(len(pos), -1), (rounds, 1)).astype(np.float64)
    noise = rng.uniform(-1.0, 1.0, size=base.shape) * s
    extra = (base + noise).astype(X.dtype).reshape((copies,) + X.shape[1:])
    X_out = np.concatenate([X, extra])
    y_out = np.concatenate([y, np.full(copies, minority, dtype=y.dtype)])
    return X_out, y_out


AUGMENTATIONS = {"variance-noise": variance_noise}


def augment(cfg: Mapping | None, X: np.ndarray, y: np.ndarray,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Apply the augmentation ``cfg`` describes (``cfg["kind"]`` in AUGMENTATIONS); None or
    an empty cfg returns the inputs unchanged."""
    if not cfg:
        return X, y
    kind = cfg.get("kind", "variance-noise")
    if kind not in AUGMENTATIONS:
        raise SpecError(_PATH + ("kind",),
                        f"unknown augmentation '{kind}' (known: {', '.join(AUGMENTATIONS)})")
    return AUGMENTATIONS[kind](cfg, X, y, rng)
