"""Readers: csv/parquet via pyarrow, npz without pickle; errors name file, column and row."""

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from engine.data.tabular import (check_columns, dataset_columns, read_csv, read_npz,
                                 read_parquet)
from engine.errors import SpecError, UserError


def _table(n=6):
    return pa.table({
        "Time": np.arange(n, dtype=np.float64),
        "V1": np.linspace(-1, 1, n),
        "V2": np.arange(n, dtype=np.int64),
        "Amount": np.full(n, 2.5),
        "Class": np.array([0, 1, 0, 0, 1, 0]),
    })


@pytest.fixture(params=["csv", "parquet"])
def tabular(request, tmp_path):
    """(kind, reader, writer(table, name) -> file name) for each arrow format."""
    kind = request.param

    def write(table, name="creditcard"):
        file = f"{name}.{kind}"
        if kind == "csv":
            pacsv.write_csv(table, tmp_path / file)
        else:
            pq.write_table(table, tmp_path / file)
        return file

    return kind, {"csv": read_csv, "parquet": read_parquet}[kind], write


def test_reads_features_and_labels(tabular, tmp_path):
    kind, read, write = tabular
    cfg = {"kind": kind, "path": write(_table()), "label": "Class", "drop": ["Time"]}
    t = read(cfg, tmp_path)
    assert t.feature_names == ("V1", "V2", "Amount")
    assert t.X.dtype == np.float32 and t.X.shape == (6, 3)
    np.testing.assert_allclose(t.X[:, 1], np.arange(6))
    assert t.y.dtype == np.int64 and t.y.tolist() == [0, 1, 0, 0, 1, 0]
    assert t.class_names == ("0", "1")


def test_columns_select_in_order(tabular, tmp_path):
    kind, read, write = tabular
    cfg = {"kind": kind, "path": write(_table()), "label": "Class", "columns": ["Amount", "V1"]}
    t = read(cfg, tmp_path)
    assert t.feature_names == ("Amount", "V1")
    np.testing.assert_allclose(t.X[:, 0], 2.5)


def test_string_labels_map_to_sorted_classes(tabular, tmp_path):
    kind, read, write = tabular
    table = _table().set_column(4, "Class", pa.array(["b", "a", "c", "a", "b", "c"]))
    t = read({"kind": kind, "path": write(table), "label": "Class"}, tmp_path)
    assert t.class_names == ("a", "b", "c")
    assert t.y.tolist() == [1, 0, 2, 0, 1, 2]


def test_integer_like_text_labels_sort_numerically():
    from engine.data.tabular import encode_labels
    y, names = encode_labels(np.array(["10", "9", "10"], dtype=object), "f.csv", "c")
    assert names == ("9", "10") and y.tolist() == [1, 0, 1]
    y2, _ = encode_labels(np.array(["9"], dtype=object), "f.csv", "c", class_names=names)
    assert y2.tolist() == [0]


def test_nan_names_file_column_and_row(tabular, tmp_path):
    kind, read, write = tabular
    v1 = pa.array([0.0, 1.0, None, 2.0, float("nan"), 1.0])
    file = write(_table().set_column(1, "V1", v1))
    with pytest.raises(UserError) as e:
        read({"kind": kind, "path": file, "label": "Class"}, tmp_path)
    msg = str(e.value)
    assert file in msg and "'V1'" in msg and "row 3" in msg


def test_nan_in_dropped_column_is_fine(tabular, tmp_path):
    kind, read, write = tabular
    file = write(_table().set_column(0, "Time", pa.array([None, 1.0, 2, 3, 4, 5])))
    t = read({"kind": kind, "path": file, "label": "Class", "drop": ["Time"]}, tmp_path)
    assert np.isfinite(t.X).all()


def test_missing_column_did_you_mean(tabular, tmp_path):
    kind, read, write = tabular
    file = write(_table())
    with pytest.raises(UserError, match=r"creditcard\.\w+: column 'Clas' not found; "
                                        r"did you mean 'Class'\?"):
        read({"kind": kind, "path": file, "label": "Clas"}, tmp_path)


def test_check_columns_blames_the_spec_field(tabular, tmp_path):
    kind, _, write = tabular
    file = write(_table())
    with pytest.raises(SpecError) as e:
        check_columns({"kind": kind, "path": file, "label": "Class", "drop": ["Time", "Amont"]},
                      tmp_path)
    (problem,) = e.value.problems
    assert problem.path == ("dataset", "drop", 1)
    assert "did you mean 'Amount'" in problem.message
    with pytest.raises(SpecError) as e:
        check_columns({"kind": kind, "path": file, "label": "class"}, tmp_path)
    assert e.value.problems[0].path == ("dataset", "label")
    check_columns({"kind": kind, "path": file, "label": "Class"}, tmp_path)  # no error


def test_non_numeric_feature_is_a_clear_error(tabular, tmp_path):
    kind, read, write = tabular
    file = write(_table().append_column("merchant", pa.array(list("abcdef"))))
    with pytest.raises(UserError, match="'merchant' is not numeric"):
        read({"kind": kind, "path": file, "label": "Class"}, tmp_path)


def test_dataset_columns_reads_the_header_only(tmp_path):
    # a broken second line proves nothing past the header is parsed
    (tmp_path / "d.csv").write_text('"Time","V1","Class"\n1,2\n')
    cols = dataset_columns({"kind": "csv", "path": "d.csv", "label": "Class", "drop": ["Time"]},
                           tmp_path)
    assert cols == ("V1",)


def test_dataset_columns_parquet_and_synthetic(tmp_path):
    pq.write_table(_table(), tmp_path / "d.parquet")
    cfg = {"kind": "parquet", "path": "d.parquet", "label": "Class"}
    assert dataset_columns(cfg, tmp_path) == ("Time", "V1", "V2", "Amount")
    syn = dataset_columns({"kind": "synthetic-fraud"}, tmp_path)
    assert len(syn) == 29 and syn[0] == "V1" and syn[-1] == "Amount"


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="not found"):
        read_csv({"kind": "csv", "path": "nope.csv", "label": "y"}, tmp_path)


def test_npz_reads_without_pickle(tmp_path):
    X = np.arange(12, dtype=np.float64).reshape(4, 3)
    np.savez(tmp_path / "d.npz", inputs=X, y=np.array([2, 0, 2, 1]))
    t = read_npz({"kind": "npz", "path": "d.npz", "features": "inputs"}, tmp_path)
    assert t.X.dtype == np.float32 and t.X.shape == (4, 3)
    assert t.y.tolist() == [2, 0, 2, 1]
    assert t.feature_names == ("inputs0", "inputs1", "inputs2")
    assert dataset_columns({"kind": "npz", "path": "d.npz", "features": "inputs"},
                           tmp_path) == t.feature_names


def test_npz_refuses_object_arrays(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.array([[1.0], [2.0]]),
             y=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(UserError, match="pickle"):
        read_npz({"kind": "npz", "path": "d.npz"}, tmp_path)


def test_npz_missing_array(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.ones((2, 2)), labels=np.array([0, 1]))
    with pytest.raises(UserError, match="did you mean 'labels'"):
        read_npz({"kind": "npz", "path": "d.npz", "labels": "label"}, tmp_path)
    with pytest.raises(SpecError) as e:
        check_columns({"kind": "npz", "path": "d.npz"}, tmp_path)
    assert e.value.problems[0].path == ("dataset", "labels")


def test_empty_text_label_is_missing(tmp_path):
    (tmp_path / "d.csv").write_text("V1,Class\n1.0,a\n2.0,\n3.0,b\n")
    with pytest.raises(UserError, match=r"'Class' has a missing value .* row 2 \(line 3\)"):
        read_csv({"kind": "csv", "path": "d.csv", "label": "Class"}, tmp_path)
