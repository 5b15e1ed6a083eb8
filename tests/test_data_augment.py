"""variance-noise augmentation: the post's rule, reproduced exactly, and the std rule."""

import numpy as np
import pytest

from engine.data.augment import AUGMENTATIONS, augment, augment_count, noise_scale
from engine.errors import SpecError


def _data(n=400, pos=12, f=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, f)).astype(np.float32)
    y = np.zeros(n, dtype=np.int64)
    y[rng.choice(n, pos, replace=False)] = 1
    X[y == 1] += 3
    X.flags.writeable = False
    y.flags.writeable = False
    return X, y


def test_registry_names():
    assert set(AUGMENTATIONS) == {"variance-noise"}


def test_post_rule_scale_is_variance_times_5000_over_features():
    X, y = _data()
    s = noise_scale({"rule": "post"}, X[y == 1])
    expected = X[y == 1].astype(np.float64).var(axis=0, ddof=1) * 5000 / X.shape[1]
    np.testing.assert_allclose(s, expected, rtol=1e-12)


def test_reaches_target_balance_with_the_posts_rounding():
    X, y = _data()
    X2, y2 = augment({"kind": "variance-noise"}, X, y, np.random.default_rng(0))
    pos, neg = 12, 388
    rounds = int((neg - pos) / pos)  # the post's augments-per-sample
    assert augment_count(y, 1, 0.5) == (rounds, rounds * pos)
    assert len(y2) == 400 + rounds * pos and y2[400:].min() == 1
    assert abs(y2.mean() - 0.5) <= pos / len(y2)
    np.testing.assert_array_equal(X2[:400], X)  # originals first, unchanged


@pytest.mark.parametrize("cfg", [{"rule": "post"}, {"rule": "std", "std": 0.5}])
def test_noise_is_bounded_by_s_per_feature_and_copies_cycle(cfg):
    X, y = _data()
    X2, y2 = augment(dict(cfg, kind="variance-noise"), X, y, np.random.default_rng(1))
    Xp = X[y == 1]
    s = noise_scale(cfg, Xp)
    if cfg["rule"] == "std":
        np.testing.assert_allclose(s, 0.5 * Xp.astype(np.float64).std(axis=0, ddof=1))
    copies = X2[400:].reshape(-1, len(Xp), X.shape[1])  # round, row, feature
    delta = copies - Xp[None]
    assert np.all(np.abs(delta) <= s * (1 + 1e-5) + 1e-5)
    assert np.all(np.abs(delta).max(axis=(0, 1)) > 0.5 * s)  # the noise uses its range


def test_target_balance_below_half():
    X, y = _data()
    _, y2 = augment({"kind": "variance-noise", "target-balance": 0.2}, X, y,
                    np.random.default_rng(0))
    assert 0.2 - 12 / len(y2) <= y2.mean() <= 0.2


def test_deterministic_from_rng():
    X, y = _data()
    a = augment({"kind": "variance-noise"}, X, y, np.random.default_rng(3))
    b = augment({"kind": "variance-noise"}, X, y, np.random.default_rng(3))
    np.testing.assert_array_equal(a[0], b[0])


def test_none_is_identity_and_errors():
    X, y = _data()
    assert augment(None, X, y, np.random.default_rng(0))[0] is X
    with pytest.raises(SpecError):
        augment({"kind": "variance-noise", "rule": "cubic"}, X, y, np.random.default_rng(0))
    with pytest.raises(SpecError):
        augment({"kind": "mixup"}, X, y, np.random.default_rng(0))
