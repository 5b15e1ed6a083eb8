"""Cortex's train-n, done right: epochs of sampled batches (the last partial batch kept),
the experiment's metric after each epoch, the BEST network kept (on the validation split
when there is one), optional early stopping, and the step count kept in the optimizer state.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Mapping, NamedTuple

import numpy as np

from engine import checkpoint
from engine.backend import get_xp, to_numpy
from engine.data.pipeline import load_dataset
from engine.data.sampling import make_sampler
from engine.errors import SpecError
from engine.losses import choose_loss
from engine.metrics import is_better
from engine.network import build
from engine.optimizers import OPTIMIZERS
from engine.schedules import SCHEDULES
from engine.scoring import score
from engine.step import make_train_step

# Purposes for RNGs derived from the experiment seed: np.random.default_rng([seed, purpose]).
# (The data pipeline uses its own small purpose numbers; these stay clear of them.)
RNG_INIT, RNG_SAMPLING, RNG_DROPOUT = 101, 102, 103


def derive_rng(seed: int, purpose: int) -> np.random.Generator:
    """An independent generator for one purpose, fixed by the experiment seed."""
    return np.random.default_rng([int(seed), purpose])


class Trained(NamedTuple):
    """What a training run produced. ``history`` holds one record per epoch."""

    net: object
    best_params: np.ndarray
    last_params: np.ndarray
    history: tuple
    summary: dict
    splits: object


def resolve_loss(spec: Mapping) -> str:
    """The loss named in ``training.loss``, or Cortex's rule for ``auto``."""
    name = spec["training"].get("loss", "auto")
    return choose_loss(spec["network"]) if name in (None, "auto") else name


def check_fit(net, features: int, num_classes: int | None = None) -> None:
    """Raise SpecError when the network's input does not take ``features`` values, or its
    output does not give one value per class (when ``num_classes`` is known)."""
    in_size = int(np.prod(net.in_shape))
    if in_size != features:
        raise SpecError(("network", 0), f"the input layer takes {in_size} values but the "
                        f"dataset has {features} feature columns")
    out_size = int(np.prod(net.out_shape))
    if num_classes is not None and out_size != num_classes:
        raise SpecError(("network", net.infos[-1].index),
                        f"the network outputs {out_size} values but the dataset has "
                        f"{num_classes} classes")


def resolve_init_from(value, base_dir: Path) -> Path:
    """The checkpoint named by ``training.init-from``: a .safetensors file, or a run folder
    (its best.safetensors). Relative paths are from the experiment file's folder."""
    path = Path(value)
    if not path.is_absolute():
        path = Path(base_dir) / path
    if path.is_dir():
        path = path / "best.safetensors"
    if not path.exists():
        raise SpecError(("training", "init-from"), f"checkpoint '{value}' not found (looked for {path})")
    return path


def train(loaded, *, device: str = "auto", observer=None) -> Trained:
    """Train the experiment in ``loaded`` (an engine.spec.Loaded).

    Args:
        device: ``auto`` | ``cpu`` | ``gpu`` (the array module for every kernel).
        observer: optional object told of progress: ``epoch_start(epoch, total_batches)``,
            ``batch_done(done)``, ``epoch_end(record, params, net)`` where ``params`` is the
            new best parameter vector when the epoch improved, else None (the run folder
            saves it then). None trains silently.
    Returns:
        Trained, with the best and last parameters as NumPy vectors.
    """
    spec = loaded.spec
    seed = int(spec["seed"])
    training, evaluation = spec["training"], spec["evaluation"]
    xp = get_xp(device)

    splits = load_dataset(spec["dataset"], seed, loaded.base_dir)
    net, flat = build(spec["network"], derive_rng(seed, RNG_INIT))
    check_fit(net, int(np.prod(splits.train[0].shape[1:])), splits.num_classes)
    if training.get("init-from"):  # start from a trained network, as Cortex's train-n could
        flat = checkpoint.params_for(net, resolve_init_from(training["init-from"], loaded.base_dir))
    loss_name = resolve_loss(spec)

    X_train, y_train = splits.train
    batch_size = int(training["batch-size"])
    epoch_size = training.get("epoch-size") or len(y_train)
    steps_per_epoch = -(-int(epoch_size) // batch_size)
    epoch_count = int(training["epoch-count"])
    opt_cfg = spec["optimizer"]
    sched_cfg = opt_cfg.get("schedule") or {"kind": "constant"}
    schedule = SCHEDULES[sched_cfg["kind"]](sched_cfg, float(opt_cfg["learning-rate"]),
                                            steps_per_epoch, epoch_count)
    optimizer = OPTIMIZERS[opt_cfg["kind"]](opt_cfg, schedule)

    # Everything the loop touches lives on the chosen device from here on.
    flat = xp.asarray(flat)
    opt_state = optimizer.init(flat)
    X_train_d, y_train_d = xp.asarray(X_train), xp.asarray(y_train)
    select_name = "validation" if splits.validation is not None else "test"
    eval_sets = {"test": tuple(map(xp.asarray, splits.test))}
    if splits.validation is not None:
        eval_sets["validation"] = tuple(map(xp.asarray, splits.validation))

    step = make_train_step(net, loss_name, optimizer, xp)
    sampler = make_sampler(training["sampling"], y_train, epoch_size, derive_rng(seed, RNG_SAMPLING))
    dropout_rng = derive_rng(seed, RNG_DROPOUT)
    metric = evaluation["metric"]
    threshold, beta = float(evaluation["threshold"]), float(evaluation["beta"])
    patience = training.get("patience")

    history, best, best_epoch, best_flat, best_scores = [], None, 0, flat, None
    since_best, train_seconds, samples_seen, steps = 0, 0.0, 0, 0
    started = time.perf_counter()
    for epoch in range(1, epoch_count + 1):
        idx = xp.asarray(sampler.next_epoch())
        X_epoch, y_epoch = X_train_d[idx], y_train_d[idx]  # one gather per epoch
        n = len(idx)
        if observer is not None:
            observer.epoch_start(epoch, -(-n // batch_size))
        t0 = time.perf_counter()
        loss_sum = 0.0
        for b, s in enumerate(range(0, n, batch_size)):
            flat, opt_state, loss = step(flat, opt_state, X_epoch[s:s + batch_size],
                                         y_epoch[s:s + batch_size], dropout_rng)
            # Weighted by the batch's size so a partial last batch counts for what it holds.
            loss_sum += float(loss) * min(batch_size, n - s)
            if observer is not None and b % 64 == 63:
                observer.batch_done(b + 1)
        seconds = time.perf_counter() - t0
        steps += b + 1
        train_seconds += seconds
        samples_seen += n

        scores = {name: score(net, flat, X, y, loss_name=loss_name, threshold=threshold, beta=beta)
                  for name, (X, y) in eval_sets.items()}
        value = scores[select_name][metric]
        improved = is_better(metric, value, best)
        if improved:
            best, best_epoch, best_flat, best_scores, since_best = value, epoch, flat, scores, 0
        else:
            since_best += 1
        record = {"epoch": epoch, "train-loss": loss_sum / max(n, 1),
                  "samples-per-second": n / seconds if seconds > 0 else float("inf"),
                  "seconds": seconds, "best": improved, "selection": select_name,
                  "score": value, **scores}
        history.append(record)
        if observer is not None:
            observer.epoch_end(record, best_flat if improved else None, net)
        if patience is not None and since_best >= int(patience):
            break

    wall = time.perf_counter() - started
    if best_scores is None:  # every epoch scored NaN: the last network stands as the best
        best_epoch, best_flat = len(history), flat
        best_scores = {k: history[-1][k] for k in eval_sets}
    summary = {
        "best-epoch": best_epoch,
        "metric": metric,
        "best-score": best,
        "selection": select_name,
        "threshold": threshold,
        "best": best_scores,
        "final": {k: history[-1][k] for k in eval_sets},
        "epochs-run": len(history),
        "steps": steps,
        "stopped-early": len(history) < epoch_count,
        "wall-seconds": wall,
        "train-seconds": train_seconds,
        "samples-per-second": samples_seen / train_seconds if train_seconds > 0 else None,
        "loss": loss_name,
        "seed": seed,
    }
    return Trained(net, np.asarray(to_numpy(best_flat)), np.asarray(to_numpy(flat)),
                   tuple(history), summary, splits)
