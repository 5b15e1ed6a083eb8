"""engine/train.py: Cortex's train-n, with the best network kept and honest selection."""

import numpy as np
import pytest

from engine.losses import softmax
from engine.network import forward
from engine.scoring import score
from engine.spec import load
from engine.train import train
from tests.experiment_files import small_experiment


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    path = small_experiment(tmp_path_factory.mktemp("train"), epochs=6)
    return load(path), train(load(path), device="cpu")


def test_training_learns_the_fraud_task(trained):
    _, result = trained
    history = result.history
    assert history[-1]["train-loss"] < history[0]["train-loss"]
    test = result.summary["best"]["test"]
    assert test["roc-auc"] > 0.85
    assert test["f1"] > 0.3


def test_the_best_network_is_kept_and_its_score_is_the_reported_one(trained):
    loaded, result = trained
    s = result.summary
    scores = [r["score"] for r in result.history]
    assert s["best-epoch"] == 1 + int(np.argmax(scores))  # first epoch reaching the max
    assert s["best-score"] == max(scores)
    again = score(result.net, result.best_params, *result.splits.validation,
                  loss_name="softmax-cross-entropy", threshold=0.5, beta=1.0)
    assert again["f1"] == pytest.approx(s["best-score"])
    assert s["selection"] == "validation" and set(s["best"]) == {"validation", "test"}


def test_the_last_partial_batch_is_kept(tmp_path):
    path = small_experiment(tmp_path, epochs=2, epoch_size=1000)  # 1000 = 15 x 64 + 40
    result = train(load(path), device="cpu")
    assert result.summary["steps"] == 2 * 16


def test_same_seed_bit_identical_other_seed_different(tmp_path):
    a = train(load(small_experiment(tmp_path, name="a", epochs=2)), device="cpu")
    b = train(load(small_experiment(tmp_path, name="b", epochs=2)), device="cpu")
    c = train(load(small_experiment(tmp_path, name="c", epochs=2, seed=4)), device="cpu")
    assert np.array_equal(a.last_params, b.last_params)
    assert [r["train-loss"] for r in a.history] == [r["train-loss"] for r in b.history]
    assert not np.array_equal(a.last_params, c.last_params)


def test_the_threshold_changes_predictions(trained):
    _, result = trained
    X, y = result.splits.test
    loose = score(result.net, result.best_params, X, y, loss_name="softmax-cross-entropy", threshold=0.5, beta=1.0)
    strict = score(result.net, result.best_params, X, y, loss_name="softmax-cross-entropy", threshold=0.99, beta=1.0)
    probs = softmax(forward(result.net, result.best_params, X, stop=-1))
    assert loose["tp"] + loose["fp"] == int((probs[:, 1] >= 0.5).sum())
    assert strict["tp"] + strict["fp"] == int((probs[:, 1] >= 0.99).sum())
    assert strict["tp"] + strict["fp"] < loose["tp"] + loose["fp"]


def test_early_stopping_stops_patience_epochs_after_the_best(tmp_path):
    path = small_experiment(tmp_path, epochs=40, metric="loss")
    loaded = load(path, ["training.patience=2", "optimizer.learning-rate=0.05"])
    result = train(loaded, device="cpu")
    s = result.summary
    assert s["stopped-early"] and s["epochs-run"] < 40
    assert s["epochs-run"] - s["best-epoch"] == 2


def test_without_validation_the_test_split_selects(tmp_path):
    result = train(load(small_experiment(tmp_path, epochs=1, validation="null")), device="cpu")
    assert result.summary["selection"] == "test" and result.splits.validation is None
