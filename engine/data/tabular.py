"""Readers for tabular files: csv and parquet through pyarrow, npz through NumPy.

Each reader returns a :class:`Table`: float32 features, int64 class indices (labels mapped
through their sorted unique values) and the names of both. Data problems raise
:class:`UserError` naming the file, the column and the first bad row; columns the experiment
declares but the file lacks raise with a did-you-mean over the file's header.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Mapping, NamedTuple, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from engine.errors import SpecError, UserError, did_you_mean


class Table(NamedTuple):
    """What a reader returns."""

    X: np.ndarray                   # float32 [N, F] (npz may give [N, *shape])
    y: np.ndarray | None            # int64 [N] class indices; None when the label is absent
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]    # class index -> the label value as text


def resolve_path(cfg: Mapping, base_dir: Path | str, path_override=None) -> Path:
    """The data file: ``path_override`` as given, else ``cfg["path"]`` relative to ``base_dir``."""
    if path_override is not None:
        path = Path(path_override)
    else:
        if not cfg.get("path"):
            raise SpecError(("dataset", "path"), f"dataset kind '{cfg.get('kind')}' needs a path")
        path = Path(cfg["path"])
        if not path.is_absolute():
            path = Path(base_dir) / path
    if not path.is_file():
        raise UserError(f"{path}: data file not found")
    return path


# ---------------------------------------------------------------- headers and columns

def _csv_header(path: Path) -> tuple[str, ...]:
    """Column names from the first line only (parsed by pyarrow, so quoting is handled)."""
    with open(path, "rb") as f:
        first = f.readline()
    if not first.strip():
        raise UserError(f"{path.name}: empty file, no header line")
    try:
        header = pacsv.read_csv(io.BytesIO(first)).column_names
    except pa.ArrowInvalid as e:
        raise UserError(f"{path.name}: cannot read the header line: {e}") from None
    return tuple(header)


def _parquet_header(path: Path) -> tuple[str, ...]:
    try:
        return tuple(pq.read_schema(path).names)
    except (pa.ArrowInvalid, OSError) as e:
        raise UserError(f"{path.name}: not a readable parquet file: {e}") from None


def file_columns(kind: str, path: Path) -> tuple[str, ...]:
    """All column names of a csv/parquet file, read from the header or schema only."""
    return _csv_header(path) if kind == "csv" else _parquet_header(path)


def _as_names(value, default=()) -> tuple[str, ...]:
    if value is None:
        return tuple(default)
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def select_columns(cfg: Mapping, header: Sequence[str], file_name: str,
                   *, error=None) -> tuple[tuple[str, ...], str | None]:
    """(feature columns, label column) for ``cfg`` over a file's ``header``.

    ``error(path_tail, message)`` makes the exception for a declared column the file lacks
    (default: a UserError naming the file).
    """
    if error is None:
        def error(path_tail, message):
            return UserError(f"{file_name}: {message}")
    header = tuple(header)
    label = cfg.get("label")
    drop = _as_names(cfg.get("drop"))
    columns = cfg.get("columns")

    def missing(name, path_tail):
        return error(path_tail, f"column '{name}' not found{did_you_mean(name, header)}")

    if label is not None and label not in header:
        raise missing(label, ("label",))
    for i, name in enumerate(drop):
        if name not in header:
            raise missing(name, ("drop", i))
    if columns is not None:
        features = _as_names(columns)
        for i, name in enumerate(features):
            if name not in header:
                raise missing(name, ("columns", i))
        if label is not None and label in features:
            raise error(("columns",), f"the label column '{label}' is also listed as a feature")
    else:
        skip = set(drop) | ({label} if label is not None else set())
        features = tuple(c for c in header if c not in skip)
    if not features:
        raise error(("columns",), "no feature columns left")
    return features, label


def dataset_columns(cfg: Mapping, base_dir: Path | str) -> tuple[str, ...]:
    """The feature names ``cfg`` yields, reading only a file's header (for ``engine check``).

    csv/parquet: the selected feature columns; npz: ``<features>0 .. <features>F-1`` from the
    array's stored shape; synthetic-fraud: V1..V28, Amount.
    """
    kind = cfg.get("kind")
    if kind == "synthetic-fraud":
        from engine.data.synthetic_fraud import FEATURE_NAMES
        return FEATURE_NAMES
    path = resolve_path(cfg, base_dir)
    if kind == "npz":
        key = cfg.get("features") or "x"
        shape = _npz_shape(path, key)
        return tuple(f"{key}{i}" for i in range(int(np.prod(shape[1:], dtype=np.int64))))
    return select_columns(cfg, file_columns(kind, path), path.name)[0]


def check_columns(cfg: Mapping, base_dir: Path | str) -> None:
    """Raise SpecError(("dataset", "label"|"columns"|"drop", i?), ...) for a declared column
    (or npz array) the data file lacks. The file's header only is read."""
    kind = cfg.get("kind")
    if kind in ("csv", "parquet"):
        path = resolve_path(cfg, base_dir)
        select_columns(cfg, file_columns(kind, path), path.name,
                       error=lambda tail, msg: SpecError(("dataset",) + tail, f"{path.name}: {msg}"))
    elif kind == "npz":
        path = resolve_path(cfg, base_dir)
        keys = _npz_keys(path)
        for field, default in (("features", "x"), ("labels", "y")):
            key = cfg.get(field) or default
            if key not in keys:
                raise SpecError(("dataset", field),
                                f"{path.name}: no array '{key}'{did_you_mean(key, keys)}"
                                f" (arrays: {', '.join(sorted(keys))})")


# ---------------------------------------------------------------- values

def _feature_matrix(table: pa.Table, names: Sequence[str], file_name: str) -> np.ndarray:
    X = np.empty((table.num_rows, len(names)), dtype=np.float32)
    for j, name in enumerate(names):
        col = table.column(name)
        if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)
                or pa.types.is_boolean(col.type) or pa.types.is_null(col.type)):
            raise UserError(f"{file_name}: feature column '{name}' is not numeric "
                            f"(type {col.type}); drop it or choose other columns")
        _check_present(col, name, file_name)
        values = col.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
        bad = ~np.isfinite(values)
        if bad.any():
            _raise_bad_row(file_name, name, int(np.argmax(bad)), "a non-finite value")
        X[:, j] = values
    return X


def _check_present(col: pa.ChunkedArray, name: str, file_name: str) -> None:
    """Raise naming the first null or NaN row of ``col``."""
    bad = None
    if col.null_count:
        bad = pc.is_null(col)
    if pa.types.is_floating(col.type):
        nan = pc.is_nan(col)
        bad = nan if bad is None else pc.or_kleene(bad, nan)
    if bad is not None and pc.any(bad).as_py():
        first = int(np.argmax(bad.to_numpy(zero_copy_only=False).astype(bool)))
        _raise_bad_row(file_name, name, first, "a missing value (NaN or empty)")


def _raise_bad_row(file_name: str, column: str, row: int, what: str):
    where = f"row {row + 1}"
    if file_name.lower().endswith(".csv"):
        where += f" (line {row + 2})"
    raise UserError(f"{file_name}: column '{column}' has {what} at data {where}")


def _sort_key(values: list):
    """Sort text labels that all look like integers numerically, others as given."""
    if values and all(isinstance(v, str) for v in values):
        try:
            return sorted(values, key=lambda v: (int(v), v))
        except ValueError:
            return sorted(values)
    return sorted(values)


def encode_labels(values: np.ndarray | list, file_name: str, column: str,
                  class_names: Sequence[str] | None = None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Map label values to class indices.

    Without ``class_names`` the classes are the sorted unique values (integers and bools
    numerically, text alphabetically or numerically when all of it is integers). With
    ``class_names`` (a trained model's classes) each value is looked up by its text; an
    unknown value raises. Returns (int64 [N], class names as text).
    """
    values = np.asarray(values)
    if values.dtype.kind == "f":
        if not np.all(np.isfinite(values)):
            _raise_bad_row(file_name, column, int(np.argmax(~np.isfinite(values))),
                           "a missing value (NaN or empty)")
        if not np.all(values == np.round(values)):
            raise UserError(f"{file_name}: label column '{column}' has fractional values; "
                            "labels must be integers, booleans or text")
        values = values.astype(np.int64)
    if class_names is None:
        uniques, inverse = np.unique(values, return_inverse=True)
        ordered = _sort_key(uniques.tolist())
        if ordered != uniques.tolist():
            position = {v: i for i, v in enumerate(ordered)}
            remap = np.array([position[v] for v in uniques.tolist()], dtype=np.int64)
            inverse = remap[inverse]
        names = tuple(_label_text(v) for v in ordered)
        return inverse.astype(np.int64).reshape(-1), names
    names = tuple(str(c) for c in class_names)
    uniques, inverse = np.unique(values, return_inverse=True)
    index = {n: i for i, n in enumerate(names)}
    remap = []
    for v in uniques.tolist():
        text = _label_text(v)
        if text not in index:
            raise UserError(f"{file_name}: label column '{column}' has the value '{text}', "
                            f"not one of the model's classes {list(names)}")
        remap.append(index[text])
    return np.asarray(remap, dtype=np.int64)[inverse].reshape(-1), names


def _label_text(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    return str(v)


def _label_values(table: pa.Table, label: str, file_name: str) -> np.ndarray:
    col = table.column(label)
    _check_present(col, label, file_name)
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    if not (pa.types.is_integer(col.type) or pa.types.is_boolean(col.type)
            or pa.types.is_floating(col.type) or pa.types.is_string(col.type)
            or pa.types.is_large_string(col.type)):
        raise UserError(f"{file_name}: label column '{label}' has type {col.type}; "
                        "labels must be integers, booleans or text")
    return col.to_numpy(zero_copy_only=False)


def _from_arrow(table: pa.Table, features, label, file_name, class_names, require_label) -> Table:
    X = _feature_matrix(table, features, file_name)
    y, names = None, tuple(class_names or ())
    if label is not None and label in table.column_names:
        y, names = encode_labels(_label_values(table, label, file_name), file_name, label,
                                 class_names)
    elif require_label:
        raise UserError(f"{file_name}: the label column is not set")
    return Table(X, y, tuple(features), names)


def _read_arrow(kind: str, path: Path, cfg: Mapping, *, class_names=None,
                require_label=True, feature_names=None) -> Table:
    if require_label and cfg.get("label") is None:
        raise SpecError(("dataset", "label"), f"a {kind} dataset needs a label column")
    header = file_columns(kind, path)
    if feature_names is not None:  # a trained model's features, in its order
        cfg = dict(cfg, columns=list(feature_names), drop=[])
    if not require_label and cfg.get("label") is not None and cfg["label"] not in header:
        cfg = dict(cfg, label=None)
    features, label = select_columns(cfg, header, path.name)
    used = list(features) + ([label] if label is not None else [])
    try:
        if kind == "csv":
            # empty text is missing, so an empty label cell is reported, not a class ""
            table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
                include_columns=used, strings_can_be_null=True))
        else:
            table = pq.read_table(path, columns=used)
    except (pa.ArrowInvalid, OSError) as e:
        raise UserError(f"{path.name}: cannot read: {e}") from None
    return _from_arrow(table, features, label, path.name, class_names, require_label)


def read_csv(cfg: Mapping, base_dir: Path | str, **kw) -> Table:
    """cfg: path, label, columns, drop. See :func:`select_columns`."""
    return _read_arrow("csv", resolve_path(cfg, base_dir, kw.pop("path_override", None)), cfg, **kw)


def read_parquet(cfg: Mapping, base_dir: Path | str, **kw) -> Table:
    """cfg: path, label, columns, drop."""
    return _read_arrow("parquet", resolve_path(cfg, base_dir, kw.pop("path_override", None)),
                       cfg, **kw)


# ---------------------------------------------------------------- npz

def _npz_keys(path: Path) -> tuple[str, ...]:
    try:
        with zipfile.ZipFile(path) as z:
            return tuple(n[:-4] if n.endswith(".npy") else n for n in z.namelist())
    except zipfile.BadZipFile:
        raise UserError(f"{path.name}: not an npz archive") from None


def _npz_shape(path: Path, key: str) -> tuple[int, ...]:
    """The stored shape of one array, from its .npy header only."""
    keys = _npz_keys(path)
    if key not in keys:
        raise UserError(f"{path.name}: no array '{key}'{did_you_mean(key, keys)}")
    with zipfile.ZipFile(path) as z, z.open(key + ".npy") as f:
        major, _ = np.lib.format.read_magic(f)
        read_header = (np.lib.format.read_array_header_1_0 if major == 1
                       else np.lib.format.read_array_header_2_0)
        shape, _, _ = read_header(f)
    return tuple(shape)


def read_npz(cfg: Mapping, base_dir: Path | str, *, path_override=None, class_names=None,
             require_label=True, feature_names=None) -> Table:
    """cfg: path, features (array name, default "x"), labels (default "y").

    Features [N, ...] become float32 (images keep their shape); labels [N] integers or bools.
    Object arrays are refused (``allow_pickle=False``).
    """
    path = resolve_path(cfg, base_dir, path_override)
    fkey = cfg.get("features") or "x"
    lkey = cfg.get("labels") or "y"
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = tuple(archive.files)
            if fkey not in keys:
                raise UserError(f"{path.name}: no array '{fkey}'{did_you_mean(fkey, keys)}")
            X = archive[fkey]
            labels = archive[lkey] if lkey in keys else None
    except ValueError as e:  # object arrays need pickle
        raise UserError(f"{path.name}: cannot load without pickle: {e}") from None
    except (OSError, zipfile.BadZipFile) as e:
        raise UserError(f"{path.name}: not an npz archive: {e}") from None
    if labels is None and require_label:
        raise UserError(f"{path.name}: no array '{lkey}'{did_you_mean(lkey, keys)}")
    if X.ndim < 2 or X.dtype.kind not in "biuf":
        raise UserError(f"{path.name}: '{fkey}' must be a numeric array [N, ...], "
                        f"got {X.dtype} {X.shape}")
    bad = ~np.isfinite(X.reshape(len(X), -1)).all(axis=1)
    if bad.any():
        raise UserError(f"{path.name}: '{fkey}' has a NaN or infinite value in row "
                        f"{int(np.argmax(bad)) + 1}")
    names = tuple(f"{fkey}{i}" for i in range(int(np.prod(X.shape[1:], dtype=np.int64))))
    if feature_names is not None and len(feature_names) != len(names):
        raise UserError(f"{path.name}: '{fkey}' has {len(names)} features per row, "
                        f"the model expects {len(feature_names)}")
    y, cnames = None, tuple(class_names or ())
    if labels is not None:
        if labels.ndim != 1 or len(labels) != len(X):
            raise UserError(f"{path.name}: '{lkey}' must be [N] with N = {len(X)}, "
                            f"got shape {labels.shape}")
        if labels.dtype.kind not in "biuU":
            raise UserError(f"{path.name}: '{lkey}' must hold integer class labels, "
                            f"got {labels.dtype}")
        y, cnames = encode_labels(labels, path.name, lkey, class_names)
    return Table(X.astype(np.float32), y, names, cnames)
