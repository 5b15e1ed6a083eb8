"""schemas/: valid Draft 2020-12 schemas, the names they define, the example experiments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from engine.formats import parse
from engine.spec import SCHEMA_DIR, registry, schema_names, schemas, validate_data

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"
EXAMPLES = sorted(p for p in EXPERIMENTS.glob("*") if p.suffix in (".yaml", ".json", ".edn"))


@pytest.mark.parametrize("path", sorted(SCHEMA_DIR.glob("*.schema.json")), ids=lambda p: p.name)
def test_schema_is_valid_draft_2020_12(path):
    schema = json.loads(path.read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == path.name


def _objects(node, where=""):
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            yield where, node
        for k, v in node.items():
            yield from _objects(v, f"{where}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _objects(v, f"{where}/{i}")


def test_unknown_keys_are_closed_everywhere():
    """Every object schema either is closed itself or closes in each kind's then-branch."""
    for name, schema in schemas().items():
        for where, node in _objects(schema):
            if where.endswith("/if") or "/if/" in where:
                continue
            branches = [b["then"] for b in node.get("allOf", ()) if "then" in b]
            closed = node.get("additionalProperties") is False or (
                branches and all(b.get("additionalProperties") is False for b in branches))
            assert closed, f"{name}{where} accepts unknown keys"


def test_every_kind_has_a_branch():
    s = schemas()
    for schema, names in [(s["layer.schema.json"], "layers"),
                          (s["optimizer.schema.json"], "optimizers"),
                          (s["dataset.schema.json"], "datasets"),
                          (s["optimizer.schema.json"]["$defs"]["schedule"], "schedules")]:
        kinds = {b["if"]["properties"]["kind"]["const"] for b in schema["allOf"]}
        assert kinds == set(schema["properties"]["kind"]["enum"])
        if names == "layers":
            assert kinds == schema_names()["layers"]


def test_schema_names_match_the_contract():
    names = schema_names()
    assert names["layers"] == {
        "input", "linear", "relu", "tanh", "logistic", "prelu", "softmax", "dropout",
        "linear->relu", "linear->tanh", "linear->logistic", "linear->softmax",
        "convolutional", "max-pooling"}
    assert names["initializers"] == {"auto", "xavier", "relu", "bengio-glorot", "orthogonal",
                                     "zeros", "constant"}
    assert names["schedules"] == {"constant", "step", "exponential", "cosine", "linear-warmup"}
    assert names["datasets"] == {"csv", "parquet", "npz", "synthetic-fraud"}
    assert names["samplings"] == {"shuffle", "class-balanced"}
    assert names["augmentations"] == {"variance-noise"}
    assert names["metrics"] == {"loss", "f-beta", "f1", "precision", "recall", "accuracy",
                                "roc-auc", "pr-auc"}


@pytest.mark.parametrize("path", [p for p in EXAMPLES if "extends" not in parse(p).data],
                         ids=lambda p: p.name)
def test_example_experiments_validate(path):
    assert validate_data(parse(path).data) == []


@pytest.mark.parametrize("path", [p for p in EXAMPLES if p.suffix != ".edn"
                                  and "extends" not in parse(p).data],  # partial files are not complete
                         ids=lambda p: p.name)
def test_raw_files_validate_as_an_editor_sees_them(path):
    """The schema accepts the files as written (vector layers), as yaml-language-server does."""
    data = parse(path).data
    validator = Draft202012Validator(schemas()["experiment.schema.json"], registry=registry())
    assert [e.message for e in validator.iter_errors(data)] == []


def test_yaml_files_point_editors_at_the_schema():
    for path in EXPERIMENTS.glob("*.yaml"):
        first = path.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/experiment.schema.json"
