"""Metrics against hand counts and definitions."""

import itertools
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.metrics import (HIGHER_IS_BETTER, METRICS, average_precision, confusion_matrix,
                            evaluate, is_better, predict_labels, roc_auc)


def _binary(p1):
    p1 = np.asarray(p1, dtype=np.float64)
    P = np.stack([1 - p1, p1], axis=1)
    P.flags.writeable = False
    return P


P = _binary([0.95, 0.8, 0.6, 0.3, 0.92, 0.1, 0.55, 0.2])
Y = np.array([1, 1, 0, 1, 0, 0, 1, 0])


def test_hand_counted_confusion_at_half():
    r = evaluate(P, Y, threshold=0.5)
    # predicted 1: idx 0,1,2,4,6 -> tp 0,1,6 = 3; fp 2,4 = 2; fn 3 = 1; tn 5,7 = 2
    assert (r["tp"], r["fp"], r["fn"], r["tn"]) == (3, 2, 1, 2)
    assert r["precision"] == pytest.approx(3 / 5)
    assert r["recall"] == pytest.approx(3 / 4)
    assert r["f1"] == pytest.approx(2 * 0.6 * 0.75 / 1.35)
    assert r["accuracy"] == pytest.approx(5 / 8)
    assert confusion_matrix(P, Y, 0.5).tolist() == [[2, 2], [1, 3]]


def test_threshold_changes_predictions():
    assert predict_labels(P, 0.5).tolist() == [1, 1, 1, 0, 1, 0, 1, 0]
    assert predict_labels(P, 0.9).tolist() == [1, 0, 0, 0, 1, 0, 0, 0]
    r = evaluate(P, Y, threshold=0.9)
    assert (r["tp"], r["fp"], r["fn"], r["tn"]) == (1, 1, 3, 3)
    assert r["precision"] == pytest.approx(0.5) and r["recall"] == pytest.approx(0.25)


def test_probability_equal_to_threshold_is_positive():
    assert predict_labels(_binary([0.9]), 0.9).tolist() == [1]


def test_nothing_predicted_positive_gives_zero_not_a_crash():
    r = evaluate(P, Y, threshold=0.99)
    assert r["tp"] == r["fp"] == 0
    assert r["precision"] == 0.0 and r["recall"] == 0.0 and r["f1"] == 0.0
    r = evaluate(_binary([0.1, 0.2]), np.array([0, 0]))
    assert r["recall"] == 0.0 and r["roc-auc"] is None and r["pr-auc"] is None


def test_f_beta():
    r = evaluate(P, Y, threshold=0.5, beta=2.0)
    p, rc = 0.6, 0.75
    assert r["f-beta"] == pytest.approx(5 * p * rc / (4 * p + rc))


def test_multiclass_macro():
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    y = np.array([0, 1, 1, 2])
    r = evaluate(probs, y, threshold=0.99)  # threshold ignored for K > 2
    assert confusion_matrix(probs, y).tolist() == [[1, 0, 0], [0, 1, 1], [1, 0, 0]]
    assert r["accuracy"] == pytest.approx(0.5)
    assert r["precision"] == pytest.approx((0.5 + 1 + 0) / 3)
    assert r["recall"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert r["f1"] == pytest.approx((2 / 3 + 2 / 3 + 0) / 3)
    assert r["roc-auc"] is not None


def _pairwise_auc(s, y):
    pos, neg = s[y == 1], s[y == 0]
    wins = sum((a > b) + 0.5 * (a == b) for a, b in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


def _brute_ap(s, y):
    """Average precision: mean over positives of the precision at its score's threshold."""
    total = 0.0
    for v in np.unique(s):
        sel = s >= v
        recall_here = np.sum(y[sel]) / y.sum()
        higher = s > v
        recall_before = np.sum(y[higher]) / y.sum()
        total += (recall_here - recall_before) * np.mean(y[sel])
    return total


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.booleans()), min_size=2, max_size=30))
def test_roc_auc_equals_pairwise_definition(rows):
    s = np.array([r[0] / 6 for r in rows])  # few distinct values: many ties
    y = np.array([int(r[1]) for r in rows])
    auc = roc_auc(s, y == 1)
    if y.min() == y.max():
        assert auc is None
    else:
        assert auc == pytest.approx(_pairwise_auc(s, y))
        assert average_precision(s, y == 1) == pytest.approx(_brute_ap(s, y))


def test_perfect_and_reversed_scores():
    y = np.array([0, 0, 1, 1])
    s = np.array([0.1, 0.2, 0.8, 0.9])
    assert roc_auc(s, y == 1) == 1.0 and roc_auc(-s, y == 1) == 0.0
    assert average_precision(s, y == 1) == 1.0


def test_fifty_thousand_rows_are_fast_and_inputs_untouched():
    rng = np.random.default_rng(0)
    probs = _binary(rng.random(50000))
    y = (rng.random(50000) < 0.01).astype(np.int64)
    y.flags.writeable = False
    evaluate(probs, y)
    start = time.perf_counter()
    evaluate(probs, y, threshold=0.9)
    assert time.perf_counter() - start < 0.1


def test_deterministic():
    assert evaluate(P, Y, threshold=0.7) == evaluate(P, Y, threshold=0.7)


def test_registry_and_direction():
    assert set(METRICS) == {"loss", "f-beta", "f1", "precision", "recall", "accuracy",
                            "roc-auc", "pr-auc"}
    assert HIGHER_IS_BETTER["loss"] is False and HIGHER_IS_BETTER["f1"] is True
    assert is_better("loss", 0.1, 0.2) and not is_better("f1", 0.1, 0.2)
    assert is_better("roc-auc", 0.5, None) and not is_better("roc-auc", None, 0.5)
    r = evaluate(P, Y, loss=0.25)
    assert METRICS["loss"].read(r) == 0.25 and METRICS["f1"].read(r) == r["f1"]
