"""Which training rows each epoch visits, as index arrays (vectorised, seeded).

- ``shuffle``: an epoch is one pass in a fresh random order; with an ``epoch_size`` the
  epochs are cut from an endless stream of reshuffled passes.
- ``class-balanced``: Cortex's ``infinite-class-balanced-dataset``: each class is an endless
  stream of reshuffled passes over its rows, the classes are interleaved in turn
  (class 0, class 1, class 0, ...), and the stream is cut into epochs of ``epoch_size``
  (default: the training split's size).
"""

from __future__ import annotations

import numpy as np

from engine.errors import SpecError


class _Passes:
    """An endless stream of random permutations of ``range(n)``; ``take(m)`` the next m."""

    def __init__(self, n: int, rng: np.random.Generator):
        self.n = n
        self.rng = rng
        self.rest = np.empty(0, dtype=np.int64)  # the unread tail of the current pass

    def take(self, m: int) -> np.ndarray:
        if m <= len(self.rest):
            out, self.rest = self.rest[:m], self.rest[m:]
            return out
        need = m - len(self.rest)
        passes = -(-need // self.n)
        if passes == 1:
            fresh = self.rng.permutation(self.n)
        else:  # many permutations at once: argsort of random keys, one row per pass
            fresh = np.argsort(self.rng.random((passes, self.n)), axis=1).reshape(-1)
        stream = np.concatenate([self.rest, fresh])
        out, self.rest = stream[:m], stream[m:]
        return out


class Sampler:
    """Produces one int64 index array per epoch; holds its stream position internally.

    ``next_epoch()`` returns the next epoch's indices; iterating yields epochs endlessly.
    ``epoch_size`` is the length of each epoch.
    """

    def __init__(self, y: np.ndarray, epoch_size: int, rng: np.random.Generator,
                 balanced: bool):
        self.epoch_size = int(epoch_size)
        y = np.asarray(y).astype(np.int64, copy=False)
        if balanced:
            order = np.argsort(y, kind="stable")
            classes, counts = np.unique(y, return_counts=True)
            self._members = np.split(order, np.cumsum(counts)[:-1])
            self._streams = [_Passes(len(m), rng) for m in self._members]
        else:
            self._members = [np.arange(len(y), dtype=np.int64)]
            self._streams = [_Passes(len(y), rng)]
        self._position = 0  # of the interleaved stream, for the class turn

    def next_epoch(self) -> np.ndarray:
        m, K = self.epoch_size, len(self._streams)
        if K == 1:
            return self._members[0][self._streams[0].take(m)]
        turn = (self._position + np.arange(m)) % K
        out = np.empty(m, dtype=np.int64)
        for k in range(K):
            slots = turn == k
            out[slots] = self._members[k][self._streams[k].take(int(slots.sum()))]
        self._position = (self._position + m) % K
        return out

    def __iter__(self):
        return self

    def __next__(self) -> np.ndarray:
        return self.next_epoch()


def shuffle(y, epoch_size, rng) -> Sampler:
    """One reshuffled pass per epoch, or ``epoch_size`` indices from endless passes."""
    return Sampler(y, len(y) if epoch_size is None else epoch_size, rng, balanced=False)


def class_balanced(y, epoch_size, rng) -> Sampler:
    """Classes interleaved equally from endless per-class passes (Cortex's stream)."""
    return Sampler(y, len(y) if epoch_size is None else epoch_size, rng, balanced=True)


SAMPLINGS = {"shuffle": shuffle, "class-balanced": class_balanced}


def make_sampler(kind: str, y: np.ndarray, epoch_size: int | None,
                 rng: np.random.Generator) -> Sampler:
    """The sampler ``kind`` over training labels ``y`` [N].

    Args:
        kind: a key of ``SAMPLINGS``.
        y: int [N] training labels (class-balanced groups by them).
        epoch_size: indices per epoch; None = len(y).
        rng: the sampler's generator (all its shuffles draw from it).
    """
    if kind not in SAMPLINGS:
        raise SpecError(("training", "sampling"),
                        f"unknown sampling '{kind}' (known: {', '.join(SAMPLINGS)})")
    if len(y) == 0:
        raise SpecError(("training", "sampling"), "the training split is empty")
    if epoch_size is not None and (isinstance(epoch_size, bool) or int(epoch_size) < 1):
        raise SpecError(("training", "epoch-size"), f"must be at least 1, got {epoch_size!r}")
    return SAMPLINGS[kind](y, epoch_size, rng)
