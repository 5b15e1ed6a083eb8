"""``engine check``: validate a file and walk its network's shapes without training.

Parsing and schema validation come from engine.spec; shape inference is the layers' own
``init`` (run through engine.network.build), so ``check`` and ``run`` can never disagree.
Dataset columns are checked from the data file's header only.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from engine.data.tabular import check_columns, dataset_columns
from engine.errors import SpecError, locate
from engine.network import build
from engine.spec import load
from engine.train import check_fit


def _shape_text(shape: tuple) -> str:
    return "x".join(str(d) for d in shape)


def shape_table(net) -> Table:
    """A rich table: layer id, kind, spec index, output shape, parameter count, and total."""
    table = Table(title=None, show_footer=True)
    table.add_column("layer", footer="total")
    table.add_column("kind")
    table.add_column(escape("network[i]"), justify="right")
    table.add_column("output shape", justify="right")
    total = sum(math.prod(shape) for info in net.infos for (_, _, shape) in info.slices.values())
    table.add_column("parameters", justify="right", footer=f"{total:,}")
    for info in net.infos:
        count = sum(math.prod(shape) for (_, _, shape) in info.slices.values())
        table.add_row(info.id, info.kind, str(info.index), _shape_text(info.out_shape), f"{count:,}")
    return table


def missing_data_file(loaded) -> str | None:
    """A warning when the dataset names a file that is not there (yet): the description can
    still be valid, e.g. fraud-kaggle.yaml before creditcard.csv is downloaded."""
    dataset = loaded.spec["dataset"]
    if dataset["kind"] == "synthetic-fraud" or not dataset.get("path"):
        return None
    path = Path(dataset["path"])
    path = path if path.is_absolute() else Path(loaded.base_dir) / path
    if path.is_file():
        return None
    position = locate(loaded.positions, ("dataset", "path"))
    file = getattr(position, "file", None) or loaded.file  # the path may come from an extends parent
    line, col = position
    return (f"{file}:{line}:{col}: dataset.path: warning: data file {path} not found, "
            "so its columns are not checked (run needs it)")


def check_loaded(loaded, console: Console | None = None):
    """The built network of a loaded spec, after the data columns and the input size are
    checked against the dataset's header (when the data file is there). Raises SpecError
    located in the file."""
    spec = loaded.spec
    warning = missing_data_file(loaded)
    if warning and console is not None:
        console.print(warning, soft_wrap=True, style="yellow")
    try:
        net, _ = build(spec["network"], np.random.default_rng(0))
        if warning:
            return net
        check_columns(spec["dataset"], loaded.base_dir)
        check_fit(net, len(dataset_columns(spec["dataset"], loaded.base_dir)))
    except SpecError as exc:
        raise exc.located(str(loaded.file), loaded.positions) from None
    return net


def check_file(path, console: Console | None = None):
    """Check one file and print its shape table; raises UserError listing its problems."""
    console = console or Console(highlight=False)
    loaded = load(path)
    net = check_loaded(loaded, console)
    console.print(f"{path}: ok ({loaded.spec['name']})")
    console.print(shape_table(net))
    return net
