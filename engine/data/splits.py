"""Stratified, seeded hold-out splits (test, then optional validation)."""

from __future__ import annotations

import numbers

import numpy as np

from engine.errors import SpecError


def split_count(size, total: int, path: tuple) -> int:
    """Rows that ``size`` asks for out of ``total``: an int is a row count, a float in (0, 1)
    a fraction of ``total`` (rounded, at least 1)."""
    if isinstance(size, bool) or not isinstance(size, numbers.Real):
        raise SpecError(path, f"must be a row count (integer >= 1) or a fraction in (0, 1), "
                              f"got {size!r}")
    if isinstance(size, float) and size.is_integer() and size >= 1:
        size = int(size)  # JSON Schema counts 1.0 as an integer; so do we
    if isinstance(size, numbers.Integral):
        if size < 1:
            raise SpecError(path, f"must be at least 1 row, got {size}")
        return int(size)
    if not 0.0 < float(size) < 1.0:
        raise SpecError(path, f"a fraction must lie strictly between 0 and 1, got {size}")
    return max(1, int(round(float(size) * total)))


def stratified_split(y: np.ndarray, count: int, rng: np.random.Generator,
                     path: tuple = ("dataset", "test-size"),
                     class_names=None) -> tuple[np.ndarray, np.ndarray]:
    """Hold out ``count`` rows, keeping each class's share.

    Each class gives ``count x n_class / N`` rows, rounded by largest remainder so the total
    is exactly ``count``; which rows is a seeded shuffle within the class.

    Args:
        y: int [N] class indices.
        count: rows to hold out.
        rng: the split's generator.
        path: the spec field blamed when ``count`` is too large.
    Returns:
        (held, kept): int64 index arrays, each in increasing order.
    Raises:
        SpecError(path): no rows, or no rows of some class, would be left.
    """
    y = np.asarray(y).astype(np.int64, copy=False)
    n = len(y)
    if count >= n:
        raise SpecError(path, f"{count} rows leaves no training rows (the data has {n} rows)")
    classes, counts = np.unique(y, return_counts=True)
    quota = counts * (count / n)
    take = np.floor(quota).astype(np.int64)
    short = count - int(take.sum())
    if short:
        order = np.lexsort((classes, -(quota - take)))  # largest remainder first, then class
        take[order[:short]] += 1
    # Never take a whole class: move that row to the class with the most rows to spare.
    for i in np.flatnonzero(take >= counts):
        excess = int(take[i] - counts[i] + 1)
        take[i] -= excess
        spare = counts - take - 1
        for j in np.argsort(-spare, kind="stable"):
            give = min(excess, int(spare[j]))
            take[j] += give
            excess -= give
            if not excess:
                break
        if excess:
            name = class_names[classes[i]] if class_names else classes[i]
            raise SpecError(path, f"{count} rows leaves no training rows of class '{name}' "
                                  f"({counts[i]} rows in all)")
    shuffled = rng.permutation(n)
    by_class = shuffled[np.argsort(y[shuffled], kind="stable")]  # each class, shuffled
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(n) - np.repeat(starts, counts)           # position within its class
    held_mask = np.zeros(n, dtype=bool)
    held_mask[by_class[rank < np.repeat(take, counts)]] = True
    return np.flatnonzero(held_mask), np.flatnonzero(~held_mask)
