"""``load_dataset``: reader -> stratified split -> standardise -> augment (training split only).

Randomness: each step draws from its own generator, ``np.random.default_rng([seed, k])``
with ``k`` from :data:`RNG_PURPOSES` (ids 1001+, clear of the training loop's), so changing
one step never shifts another's draws.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, NamedTuple, Sequence

import numpy as np

from engine.data import synthetic_fraud
from engine.data.augment import augment
from engine.data.splits import split_count, stratified_split
from engine.data.tabular import Table, read_csv, read_npz, read_parquet
from engine.errors import SpecError

RNG_PURPOSES = {"generation": 1001, "test-split": 1002, "validation-split": 1003,
                "augmentation": 1004}


def data_rng(seed: int, purpose: str) -> np.random.Generator:
    """The generator of one data step, derived from the experiment seed."""
    return np.random.default_rng([int(seed), RNG_PURPOSES[purpose]])


class Splits(NamedTuple):
    """A loaded data set. Arrays are float32 X [N, F] (npz images [N, C, H, W]), int64 y [N]."""

    train: tuple[np.ndarray, np.ndarray]          # after augmentation
    validation: tuple[np.ndarray, np.ndarray] | None
    test: tuple[np.ndarray, np.ndarray]
    feature_names: tuple[str, ...]
    num_classes: int
    class_names: tuple[str, ...]                  # class index -> label value as text
    standardization: tuple[np.ndarray, np.ndarray] | None  # (mean, std) float32 [F...]


def _synthetic(cfg: Mapping, base_dir, rng: np.random.Generator) -> Table:
    rows = cfg.get("rows")
    rate = cfg.get("fraud-rate")
    rows = synthetic_fraud.DEFAULT_ROWS if rows is None else rows
    rate = synthetic_fraud.DEFAULT_FRAUD_RATE if rate is None else rate
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 4:
        raise SpecError(("dataset", "rows"), f"must be an integer >= 4, got {rows!r}")
    if not 0.0 < float(rate) < 1.0:
        raise SpecError(("dataset", "fraud-rate"), f"must lie in (0, 1), got {rate!r}")
    X, y = synthetic_fraud.generate(rows, float(rate), rng)
    return Table(X, y, synthetic_fraud.FEATURE_NAMES, synthetic_fraud.CLASS_NAMES)


def _read_csv(cfg, base_dir, rng):
    return read_csv(cfg, base_dir)


def _read_parquet(cfg, base_dir, rng):
    return read_parquet(cfg, base_dir)


def _read_npz(cfg, base_dir, rng):
    return read_npz(cfg, base_dir)


# kind -> (cfg, base_dir, rng) -> Table
DATASETS = {"csv": _read_csv, "parquet": _read_parquet, "npz": _read_npz,
            "synthetic-fraud": _synthetic}


def fit_standardization(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature (mean, std) of ``X`` [N, ...] in float32; a zero std becomes 1."""
    X64 = np.asarray(X, dtype=np.float64)
    mean = X64.mean(axis=0)
    std = X64.std(axis=0)
    std[std == 0] = 1.0
    return mean.astype(np.float32), std.astype(np.float32)


def standardize(X: np.ndarray, standardization) -> np.ndarray:
    """``(X - mean) / std`` as a new float32 array; X unchanged when ``standardization`` is None."""
    if standardization is None:
        return X
    mean, std = standardization
    return ((np.asarray(X, dtype=np.float32) - mean) / std).astype(np.float32, copy=False)


def load_dataset(cfg: Mapping, seed: int, base_dir: Path | str) -> Splits:
    """Read or generate the data, split it, standardise it, augment the training split.

    Args:
        cfg: the experiment's ``dataset`` map (kind, path, label, columns, drop, features,
            labels, rows, fraud-rate, test-size, validation-size, standardize, augmentation).
        seed: the experiment seed.
        base_dir: the experiment file's folder (relative paths start there).
    Returns:
        :class:`Splits`. Test and validation rows are stratified by class; a fractional
        ``validation-size`` is a fraction of ALL rows, taken from those left after the test.
    """
    kind = cfg.get("kind")
    if kind not in DATASETS:
        raise SpecError(("dataset", "kind"),
                        f"unknown dataset kind '{kind}' (known: {', '.join(DATASETS)})")
    table = DATASETS[kind](cfg, Path(base_dir), data_rng(seed, "generation"))
    X, y = table.X, table.y
    n = len(y)
    num_classes = max(len(table.class_names), int(y.max()) + 1 if n else 0)

    test_size = cfg.get("test-size", 0.2)
    test_size = 0.2 if test_size is None else test_size
    test_count = split_count(test_size, n, ("dataset", "test-size"))
    test_idx, rest = stratified_split(y, test_count, data_rng(seed, "test-split"),
                                      ("dataset", "test-size"), table.class_names)
    validation_idx = None
    if cfg.get("validation-size") is not None:
        path = ("dataset", "validation-size")
        count = split_count(cfg["validation-size"], n, path)
        held, kept = stratified_split(y[rest], count, data_rng(seed, "validation-split"),
                                      path, table.class_names)
        validation_idx, rest = rest[held], rest[kept]

    X_train, y_train = X[rest], y[rest]
    standardization = fit_standardization(X_train) if cfg.get("standardize") else None

    def part(idx):
        return standardize(X[idx], standardization), y[idx]

    X_train = standardize(X_train, standardization)
    X_train, y_train = augment(cfg.get("augmentation"), X_train, y_train,
                               data_rng(seed, "augmentation"))
    return Splits(
        train=(X_train, y_train),
        validation=None if validation_idx is None else part(validation_idx),
        test=part(test_idx),
        feature_names=tuple(table.feature_names),
        num_classes=num_classes,
        class_names=tuple(table.class_names),
        standardization=standardization,
    )


_READERS_BY_SUFFIX = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".npz": "npz"}


def read_features(cfg: Mapping, base_dir: Path | str, path_override=None, *,
                  feature_names: Sequence[str] | None = None,
                  class_names: Sequence[str] | None = None,
                  standardization=None) -> tuple[np.ndarray, np.ndarray | None]:
    """Read a new file with the training data's columns (for ``predict`` / ``evaluate --data``).

    Args:
        cfg: the experiment's ``dataset`` map (label, columns, drop, features, labels).
        base_dir: the experiment file's folder, for a relative ``cfg["path"]``.
        path_override: the file to read instead of ``cfg["path"]``; its suffix (.csv,
            .parquet/.pq, .npz) picks the reader. Needed for synthetic-fraud, whose columns
            are V1..V28, Amount and label Class.
        feature_names: the trained model's features, selected in this order (recommended).
        class_names: the trained model's classes, so label values map to the same indices.
        standardization: the training split's (mean, std), applied when given.
    Returns:
        (X float32, y int64 [N] or None when the file has no label column).
    """
    kind = cfg.get("kind")
    if path_override is not None:
        kind = _READERS_BY_SUFFIX.get(Path(path_override).suffix.lower(), kind)
    if kind == "synthetic-fraud" or kind not in ("csv", "parquet", "npz"):
        if path_override is None:
            raise SpecError(("dataset", "kind"), f"dataset kind '{cfg.get('kind')}' has no "
                            "file to read; give a .csv, .parquet or .npz file")
        raise SpecError(("dataset", "kind"), f"{path_override}: cannot tell the format; "
                        "use a .csv, .parquet or .npz file")
    if cfg.get("kind") == "synthetic-fraud":
        cfg = {"label": synthetic_fraud.LABEL_NAME}
        feature_names = feature_names or synthetic_fraud.FEATURE_NAMES
        class_names = class_names or synthetic_fraud.CLASS_NAMES
    reader = {"csv": read_csv, "parquet": read_parquet, "npz": read_npz}[kind]
    table = reader(cfg, base_dir, path_override=path_override, class_names=class_names,
                   require_label=False, feature_names=feature_names)
    return standardize(table.X, standardization), table.y
