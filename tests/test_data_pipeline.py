"""load_dataset: reader -> split -> standardise -> augment; read_features for new files."""

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from engine.data import DATASETS, load_dataset, read_features
from engine.errors import SpecError, UserError

SYN = {"kind": "synthetic-fraud", "rows": 20000, "fraud-rate": 0.01, "test-size": 0.2}


def test_registry_names():
    assert set(DATASETS) == {"csv", "parquet", "npz", "synthetic-fraud"}


def test_synthetic_splits_stratified_and_deterministic():
    s = load_dataset(dict(SYN, **{"validation-size": 0.1}), 1, ".")
    assert s.test[0].shape == (4000, 29) and s.validation[0].shape == (2000, 29)
    assert s.train[0].shape == (14000, 29) and s.train[0].dtype == np.float32
    assert int(s.test[1].sum()) == 40 and int(s.validation[1].sum()) == 20
    assert s.num_classes == 2 and s.class_names == ("0", "1") and len(s.feature_names) == 29
    assert s.standardization is None
    again = load_dataset(dict(SYN, **{"validation-size": 0.1}), 1, ".")
    np.testing.assert_array_equal(s.test[0], again.test[0])
    other = load_dataset(dict(SYN, **{"validation-size": 0.1}), 2, ".")
    assert not np.array_equal(s.test[0], other.test[0])


def test_standardisation_uses_train_statistics_only():
    raw = load_dataset(SYN, 0, ".")
    s = load_dataset(dict(SYN, standardize=True), 0, ".")
    mean, std = s.standardization
    np.testing.assert_allclose(mean, raw.train[0].mean(axis=0, dtype=np.float64), rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(s.train[0].mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(s.train[0].std(axis=0), 1, atol=1e-3)
    np.testing.assert_allclose(s.test[0], (raw.test[0] - mean) / std, rtol=1e-5, atol=1e-5)
    assert np.abs(s.test[0].mean(axis=0)).max() > 1e-4  # test stats were not used


def test_augmentation_applies_to_train_only():
    cfg = dict(SYN, augmentation={"kind": "variance-noise", "rule": "std", "std": 0.1})
    plain, s = load_dataset(SYN, 0, "."), load_dataset(cfg, 0, ".")
    assert 0.45 < s.train[1].mean() <= 0.5
    np.testing.assert_array_equal(s.test[0], plain.test[0])


def test_too_large_test_size_is_a_spec_error():
    with pytest.raises(SpecError) as e:
        load_dataset(dict(SYN, **{"test-size": 20000}), 0, ".")
    assert e.value.problems[0].path == ("dataset", "test-size")


def _write_csv(path, n=60, with_label=True):
    rng = np.random.default_rng(0)
    cols = {"Time": np.arange(n), "V1": rng.standard_normal(n), "Amount": rng.random(n)}
    if with_label:
        cols["Class"] = np.where(np.arange(n) % 3 == 0, "fraud", "ok")
    pacsv.write_csv(pa.table(cols), path)


def test_csv_pipeline_and_read_features(tmp_path):
    _write_csv(tmp_path / "train.csv")
    cfg = {"kind": "csv", "path": "train.csv", "label": "Class", "drop": ["Time"],
           "test-size": 12, "standardize": True}
    s = load_dataset(cfg, 0, tmp_path)
    assert s.feature_names == ("V1", "Amount") and s.class_names == ("fraud", "ok")
    assert len(s.test[1]) == 12 and int((s.test[1] == 0).sum()) == 4
    _write_csv(tmp_path / "new.csv", n=9, with_label=False)
    X, y = read_features(cfg, tmp_path, tmp_path / "new.csv", feature_names=s.feature_names,
                         class_names=s.class_names, standardization=s.standardization)
    assert X.shape == (9, 2) and y is None
    X, y = read_features(cfg, tmp_path, feature_names=s.feature_names,
                         class_names=s.class_names)
    assert y.tolist()[:3] == [0, 1, 1]


def test_read_features_for_synthetic_needs_a_file(tmp_path):
    with pytest.raises(SpecError):
        read_features(SYN, tmp_path)
    with pytest.raises(UserError, match="column 'V2' not found"):
        _write_csv(tmp_path / "x.csv")
        read_features(SYN, tmp_path, tmp_path / "x.csv")


def test_npz_pipeline(tmp_path):
    X = np.random.default_rng(0).standard_normal((50, 1, 4, 4))
    np.savez(tmp_path / "img.npz", x=X, y=np.arange(50) % 5)
    s = load_dataset({"kind": "npz", "path": "img.npz", "test-size": 0.2,
                      "standardize": True}, 0, tmp_path)
    assert s.train[0].shape == (40, 1, 4, 4) and s.num_classes == 5
    assert np.bincount(s.test[1]).tolist() == [2] * 5
    assert s.standardization[0].shape == (1, 4, 4)
