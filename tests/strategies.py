"""Shared hypothesis strategies: valid experiments (plain data) and their serialisations."""

from __future__ import annotations

import json

import edn_format
from hypothesis import strategies as st

from engine.formats.yaml_format import dump_yaml_text

names = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,15}", fullmatch=True)
pos_ints = st.integers(min_value=1, max_value=512)
# floats that survive every format's text round trip exactly
fractions = st.floats(min_value=0.01, max_value=0.99).map(lambda x: round(x, 4))
positive = st.floats(min_value=1e-6, max_value=10.0).map(lambda x: float(f"{x:.6g}"))
ids = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)
inits = st.one_of(
    st.sampled_from(["auto", "xavier", "relu", "bengio-glorot", "orthogonal", "zeros"]),
    st.builds(lambda v: {"kind": "constant", "value": v}, positive))


@st.composite
def weighted_options(draw) -> dict:
    """Optional parameter options of linear-like layers."""
    out = {}
    if draw(st.booleans()):
        out["init"] = draw(inits)
    if draw(st.booleans()):
        out["l2-regularization"] = draw(st.sampled_from([0, 0.001, 0.01]))
    if draw(st.booleans()):
        out["frozen"] = draw(st.booleans())
    return out


@st.composite
def layers(draw, vector: bool | None = None) -> dict | list:
    """One valid non-input layer, in map form or (sometimes) Cortex vector form."""
    kind = draw(st.sampled_from(["linear", "relu", "tanh", "logistic", "prelu", "softmax",
                                 "dropout", "linear->relu", "linear->tanh", "linear->logistic",
                                 "linear->softmax"]))
    positional, options = [], {}
    if kind.startswith("linear"):
        positional = [("num-output", draw(pos_ints))]
        options = draw(weighted_options())
    elif kind == "dropout":
        positional = [("probability", draw(fractions))]
    elif kind == "prelu" and draw(st.booleans()):
        options["neg-scale"] = draw(fractions)
    if draw(st.booleans()):
        options["id"] = draw(ids)
    vector = draw(st.booleans()) if vector is None else vector
    if vector:
        return [kind, *(v for _, v in positional), *([options] if options else [])]
    return {"kind": kind, **dict(positional), **options}


@st.composite
def networks(draw) -> list:
    """A valid network: an input layer then 1-5 layers."""
    first = ["input", draw(pos_ints), 1, 1, {"id": "data"}] if draw(st.booleans()) else \
        {"kind": "input", "width": draw(pos_ints)}
    return [first, *draw(st.lists(layers(), min_size=1, max_size=5))]


@st.composite
def datasets(draw) -> dict:
    kind = draw(st.sampled_from(["csv", "parquet", "npz", "synthetic-fraud"]))
    out: dict = {"kind": kind}
    if kind in ("csv", "parquet"):
        out.update(path="data/x." + kind, label="Class")
        if draw(st.booleans()):
            out["drop"] = draw(st.lists(names, max_size=3))
    elif kind == "npz":
        out["path"] = "x.npz"
    else:
        out["rows"] = draw(st.integers(min_value=1000, max_value=300000))
    out["test-size"] = draw(st.one_of(pos_ints, fractions))
    if draw(st.booleans()):
        out["validation-size"] = draw(st.one_of(st.none(), fractions))
    if draw(st.booleans()):
        out["augmentation"] = {"kind": "variance-noise",
                               "rule": draw(st.sampled_from(["post", "std"]))}
    return out


@st.composite
def optimizers(draw) -> dict:
    kind = draw(st.sampled_from(["sgd", "adam", "adamw", "adadelta", "rmsprop"]))
    out: dict = {"kind": kind}
    if draw(st.booleans()):
        out["learning-rate"] = draw(positive)
    schedule = draw(st.sampled_from([None, "constant", "step", "exponential", "cosine",
                                     "linear-warmup"]))
    if schedule == "step":
        out["schedule"] = {"kind": "step", "every": draw(pos_ints)}
    elif schedule:
        out["schedule"] = {"kind": schedule}
    return out


@st.composite
def experiments(draw) -> dict:
    """A valid experiment as a file would hold it (optional sections sometimes left out)."""
    out: dict = {"name": draw(names), "dataset": draw(datasets()), "network": draw(networks())}
    if draw(st.booleans()):
        out["seed"] = draw(st.integers(min_value=0, max_value=2**31))
    if draw(st.booleans()):
        out["optimizer"] = draw(optimizers())
    if draw(st.booleans()):
        out["training"] = {"batch-size": draw(pos_ints), "epoch-count": draw(pos_ints),
                           "sampling": draw(st.sampled_from(["shuffle", "class-balanced"])),
                           "patience": draw(st.one_of(st.none(), pos_ints))}
    if draw(st.booleans()):
        out["evaluation"] = {"metric": draw(st.sampled_from(
            ["loss", "f-beta", "f1", "precision", "recall", "accuracy", "roc-auc", "pr-auc"])),
            "threshold": draw(fractions)}
    return out


def _edn_value(value):
    if isinstance(value, dict):
        return {edn_format.Keyword(k): _edn_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_edn_value(v) for v in value]
    return value


def to_text(data, fmt: str) -> str:
    """``data`` written as ``fmt`` ("yaml", "json" or "edn"); EDN map keys become keywords.

    Vector layers are written with a trailing options map in every format.
    """
    if fmt == "yaml":
        return dump_yaml_text(data)
    if fmt == "json":
        return json.dumps(data, indent=1)
    return edn_format.dumps(_edn_value(data))
