"""``engine check``: validate a file and walk its network's shapes without training.

Parsing and schema validation come from engine.spec; shape inference is the layers' own
``init`` (run through engine.network.build), so ``check`` and ``run`` can never disagree.
Dataset columns are checked from the data file's header only.
"""

from __future__ import annotations

import math

import numpy as np
from rich.console import Console
from rich.table import Table

from engine.data.tabular import check_columns, dataset_columns
from engine.errors import SpecError
from engine.network import build
from engine.spec import load


def _shape_text(shape: tuple) -> str:
    return "x".join(str(d) for d in shape)


def shape_table(net) -> Table:
    """A rich table: layer id, kind, spec index, output shape, parameter count, and total."""
    table = Table(title=None, show_footer=True)
    table.add_column("layer", footer="total")
    table.add_column("kind")
    table.add_column("network[i]", justify="right")
    table.add_column("output shape", justify="right")
    total = sum(math.prod(shape) for info in net.infos for (_, _, shape) in info.slices.values())
    table.add_column("parameters", justify="right", footer=f"{total:,}")
    for info in net.infos:
        count = sum(math.prod(shape) for (_, _, shape) in info.slices.values())
        table.add_row(info.id, info.kind, str(info.index), _shape_text(info.out_shape), f"{count:,}")
    return table


def check_loaded(loaded):
    """The built network of a loaded spec, after the data columns and the input size are
    checked against the dataset's header. Raises SpecError located in the file."""
    spec = loaded.spec
    try:
        net, _ = build(spec["network"], np.random.default_rng(0))
        check_columns(spec["dataset"], loaded.base_dir)
        features = len(dataset_columns(spec["dataset"], loaded.base_dir))
        in_size = math.prod(net.in_shape)
        if features != in_size:
            raise SpecError(("network", 0), f"the input layer takes {in_size} values but the "
                            f"dataset has {features} feature columns")
    except SpecError as exc:
        raise exc.located(str(loaded.file), loaded.positions) from None
    return net


def check_file(path, console: Console | None = None):
    """Check one file and print its shape table; raises UserError listing its problems."""
    console = console or Console(highlight=False)
    loaded = load(path)
    net = check_loaded(loaded)
    console.print(f"{path}: ok ({loaded.spec['name']})")
    console.print(shape_table(net))
    return net
