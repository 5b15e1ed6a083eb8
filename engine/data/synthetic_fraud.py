"""A synthetic stand-in for Kaggle's credit-card fraud data (the reference workload).

Shaped like the real file after dropping Time: 28 PCA-like columns V1..V28 (zero mean,
variances falling from ~3.8 to ~0.1 like principal components, heavier tails than a
Gaussian) and Amount (log-normal, mean ~88, long tail), with frauds at 0.172%.

Frauds differ from normal rows mostly in a handful of features (V14, V12, V10, V17, V4, V11,
shifted by several standard deviations with a larger spread), and look normal elsewhere.
To keep the task hard but learnable, a share of frauds are "quiet" (only slightly shifted,
so recall stays below 1) and a small share of normal rows look fraudulent (so precision
stays below 1): a good classifier's best F1 lands around 0.6-0.85, not 1.
"""

from __future__ import annotations

import numpy as np

FEATURE_NAMES: tuple[str, ...] = tuple(f"V{i}" for i in range(1, 29)) + ("Amount",)
LABEL_NAME = "Class"
CLASS_NAMES: tuple[str, ...] = ("0", "1")

# Standard deviations of Kaggle's V1..V28 (falling like PCA components).
_STD = np.array([
    1.96, 1.65, 1.52, 1.42, 1.38, 1.33, 1.24, 1.19, 1.10, 1.09, 1.02, 1.00, 0.995, 0.959,
    0.915, 0.876, 0.849, 0.838, 0.814, 0.771, 0.735, 0.726, 0.624, 0.606, 0.521, 0.482,
    0.404, 0.330,
])
# Fraud-class shift of each V, in units of that feature's std (Kaggle's fraud means / stds,
# rounded; the strongest are V14, V12, V10, V17, V4, V11, V3, V16, V7).
_SHIFT = np.zeros(28)
for _name, _z in {"V1": -1.6, "V2": 1.5, "V3": -3.0, "V4": 2.6, "V5": -1.4, "V6": -0.6,
                  "V7": -2.9, "V9": -1.6, "V10": -3.4, "V11": 2.5, "V12": -3.9, "V14": -4.7,
                  "V16": -3.1, "V17": -4.9, "V18": -1.8, "V19": 0.5, "V21": 0.5}.items():
    _SHIFT[int(_name[1:]) - 1] = _z
_FRAUD_SPREAD = 1.0 + 0.35 * np.abs(_SHIFT)  # frauds vary more where they differ more


# Kaggle's share: 492 frauds in 284,807 rows (0.172%), so the default size has exactly 492.
DEFAULT_ROWS = 284807
DEFAULT_FRAUD_RATE = 492 / 284807


def fraud_count(rows: int, fraud_rate: float) -> int:
    """round(rows x fraud_rate), at least 2 and leaving at least 2 normal rows."""
    return int(min(max(2, round(rows * fraud_rate)), rows - 2))


def generate(rows: int = DEFAULT_ROWS, fraud_rate: float = DEFAULT_FRAUD_RATE,
             rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Draw the data set.

    Args:
        rows: number of rows (>= 4).
        fraud_rate: share of frauds; exactly ``fraud_count(rows, fraud_rate)`` are made.
        rng: the only source of randomness (same generator state -> same data).
    Returns:
        X float32 [rows, 29] (columns ``FEATURE_NAMES``), y int64 [rows] (1 = fraud).
    """
    if rng is None:
        rng = np.random.default_rng(0)
    rows = int(rows)
    if rows < 4:
        raise ValueError(f"synthetic-fraud needs at least 4 rows, got {rows}")
    n_fraud = fraud_count(rows, fraud_rate)

    y = np.zeros(rows, dtype=np.int64)
    fraud_idx = rng.choice(rows, size=n_fraud, replace=False)
    y[fraud_idx] = 1

    # Normal rows: Gaussian with a per-row scale mixture (15% of rows twice as wide) for
    # heavier tails than a Gaussian, as PCA scores of skewed raw features have.
    Z = rng.standard_normal((rows, 28), dtype=np.float32)
    wide = rng.random(rows, dtype=np.float32) < 0.15
    Z[wide] *= np.float32(2.0)
    V = Z * (_STD / np.sqrt(1 + 0.15 * 3)).astype(np.float32)  # keep overall variance ~ _STD^2

    # Frauds: a per-fraud "strength" along the fraud direction. ~25% are quiet (strength
    # near 0: they look normal), the rest are shifted by ~0.4-1.4 of the full shift.
    strength = np.where(rng.random(n_fraud) < 0.25,
                        rng.uniform(0.0, 0.25, n_fraud),
                        rng.uniform(0.35, 1.4, n_fraud))
    spread = rng.standard_normal((n_fraud, 28)) * (0.5 * _FRAUD_SPREAD) * np.sqrt(strength)[:, None]
    V[fraud_idx] += ((strength[:, None] * _SHIFT + spread) * _STD).astype(np.float32)

    # Normal rows that look fraudulent: about a third as many as frauds, moderately shifted.
    normal_idx = np.flatnonzero(y == 0)
    n_decoy = min(len(normal_idx), max(1, round(0.35 * n_fraud)))
    decoy_idx = rng.choice(normal_idx, size=n_decoy, replace=False)
    decoy_strength = rng.uniform(0.25, 0.8, n_decoy)
    V[decoy_idx] += ((decoy_strength[:, None] * _SHIFT
                      + 0.5 * rng.standard_normal((n_decoy, 28)) * _FRAUD_SPREAD)
                     * _STD).astype(np.float32)

    V -= V.mean(axis=0, dtype=np.float64).astype(np.float32)  # PCA scores are centred

    # Amount: log-normal with median ~22 and mean ~88 (Kaggle's); frauds have a lower
    # median and a longer tail. Rounded to cents.
    log_amount = np.where(y == 1, 2.2 + 2.0 * rng.standard_normal(rows),
                          3.09 + 1.66 * rng.standard_normal(rows))
    amount = np.round(np.minimum(np.exp(log_amount), 25691.16), 2)

    X = np.empty((rows, 29), dtype=np.float32)
    X[:, :28] = V
    X[:, 28] = amount
    return X, y
