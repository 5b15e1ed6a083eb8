"""``engine evaluate`` and ``engine predict``: use a finished run's best network."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from rich.console import Console
from rich.table import Table

from engine import atomic
from engine.backend import get_xp, to_numpy
from engine.data.pipeline import load_dataset, read_features
from engine.errors import UserError
from engine.metrics import confusion_matrix, predict_labels
from engine.network import predict
from engine.runs import load_run
from engine.scoring import score_and_probs
from engine.train import resolve_loss


def _standardization(pre: dict):
    if pre.get("mean") is None:
        return None
    return (np.asarray(pre["mean"], np.float32), np.asarray(pre["std"], np.float32))


def _read(loaded, pre: dict, data):
    return read_features(loaded.spec["dataset"], loaded.base_dir, data,
                         feature_names=pre.get("feature-names"), class_names=pre.get("class-names"),
                         standardization=_standardization(pre))


def evaluate_run(run_dir, *, data=None, device: str = "auto", console: Console | None = None) -> dict:
    """Metrics and confusion matrix of the run's best network on ``data`` (a file with the
    training columns and labels) or, by default, on the run's own test split.

    Returns:
        the metrics dict (engine.scoring.score) plus ``confusion`` [K, K] as nested lists.
    """
    console = console or Console(highlight=False)
    loaded, net, params, pre = load_run(run_dir)
    spec = loaded.spec
    if data is None:
        X, y = load_dataset(spec["dataset"], spec["seed"], loaded.base_dir).test
        source = "the run's test split"
    else:
        X, y = _read(loaded, pre, data)
        source = str(data)
        if y is None:
            raise UserError(f"{data}: no label column '{spec['dataset'].get('label', 'Class')}'; "
                            "evaluate needs labels (use predict for unlabelled data)")
    xp = get_xp(device)
    threshold, beta = float(spec["evaluation"]["threshold"]), float(spec["evaluation"]["beta"])
    result, probs = score_and_probs(net, xp.asarray(params), xp.asarray(X), xp.asarray(y),
                                    loss_name=resolve_loss(spec), threshold=threshold, beta=beta)
    confusion = confusion_matrix(probs, y, threshold)
    result["confusion"] = confusion.tolist()

    console.print(f"{spec['name']}: best network on {source} ({len(y):,} rows, threshold {threshold})")
    metrics = Table("metric", "value")
    for key in ("loss", "accuracy", "precision", "recall", "f1", "f-beta", "roc-auc", "pr-auc"):
        value = result.get(key)
        metrics.add_row(key, "n/a" if value is None else f"{value:.4f}")
    console.print(metrics)
    names = pre.get("class-names") or [str(k) for k in range(len(confusion))]
    matrix = Table("actual \\ predicted", *map(str, names))
    for name, row in zip(names, confusion):
        matrix.add_row(str(name), *(f"{int(v):,}" for v in row))
    console.print(matrix)
    return result


def predict_run(run_dir, *, data, out, device: str = "auto") -> int:
    """Write ``out`` (CSV): per row of ``data``, the predicted class (at the experiment's
    threshold) and each class's probability. Returns the number of rows written."""
    loaded, net, params, pre = load_run(run_dir)
    X, _ = _read(loaded, pre, data)
    xp = get_xp(device)
    probs = to_numpy(predict(net, xp.asarray(params), xp.asarray(X)))
    threshold = float(loaded.spec["evaluation"]["threshold"])
    labels = predict_labels(probs, threshold)
    names = pre.get("class-names") or [str(k) for k in range(probs.shape[1])]
    columns = {"prediction": [str(names[k]) for k in labels]}
    for k, name in enumerate(names):
        columns[f"probability_{name}"] = probs[:, k].astype(np.float64)
    buffer = io.BytesIO()
    pacsv.write_csv(pa.table(columns), buffer)
    atomic.write_bytes(out, buffer.getvalue())
    return len(labels)
