"""engine/spec: load, extends, --set, defaults, freezing, hashing, property round trips."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import SpecError, UserError, format_path
from engine.formats import parse_text
from engine.spec import (dump_yaml, fill_defaults, load, parse_override, schema_names,
                         spec_hash, validate_data)
from tests.strategies import experiments, to_text

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"
FAST = settings(max_examples=50, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

MINIMAL = """\
name: tiny
dataset: {kind: synthetic-fraud}
network:
  - [input, 4]
  - [linear, 2]
  - [max-pooling, 2]
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_defaults_are_filled(tmp_path):
    spec = load(write(tmp_path, "x.yaml", MINIMAL)).spec
    assert spec["seed"] == 0
    assert dict(spec["dataset"]) == {"kind": "synthetic-fraud", "test-size": 0.2,
                                     "validation-size": None, "standardize": False,
                                     "augmentation": None, "rows": 284807, "fraud-rate": 0.0017275}
    assert dict(spec["network"][0]) == {"kind": "input", "width": 4, "height": 1, "channels": 1}
    assert dict(spec["network"][1]) == {"kind": "linear", "num-output": 2, "init": "auto",
                                        "l1-regularization": 0, "l2-regularization": 0,
                                        "learning-attenuation": 1, "frozen": False}
    assert dict(spec["network"][2]) == {"kind": "max-pooling", "kernel-dim": 2, "pad": 0,
                                        "stride": 2}
    opt = spec["optimizer"]
    assert (opt["kind"], opt["learning-rate"], opt["beta1"], opt["beta2"], opt["epsilon"]) == \
        ("adam", 0.001, 0.9, 0.999, 1e-8)
    assert dict(opt["schedule"]) == {"kind": "constant", "warmup-epochs": 0}
    assert dict(spec["training"]) == {"batch-size": 128, "epoch-count": 10, "epoch-size": None,
                                      "sampling": "shuffle", "loss": "auto", "patience": None,
                                      "init-from": None}
    assert dict(spec["evaluation"]) == {"metric": "loss", "beta": 1.0, "threshold": 0.5}
    assert dict(spec["output"]) == {"dir": "runs"}


@pytest.mark.parametrize("optimizer,expected", [
    ({"kind": "sgd"}, {"learning-rate": 0.001, "momentum": 0.9, "nesterov": True}),
    ({"kind": "adamw"}, {"weight-decay": 0.01, "beta1": 0.9}),
    ({"kind": "adadelta"}, {"learning-rate": 1.0, "decay": 0.05, "epsilon": 1e-6}),
    ({"kind": "rmsprop"}, {"learning-rate": 0.001, "decay": 0.9, "epsilon": 1e-8, "momentum": 0}),
    ({"schedule": {"kind": "step", "every": 2}}, {"kind": "adam"}),
])
def test_optimizer_defaults_per_kind(optimizer, expected):
    data = parse_text(MINIMAL, "yaml").data
    data["optimizer"] = optimizer
    assert validate_data(data) == []
    opt = fill_defaults(data)["optimizer"]
    assert {k: opt[k] for k in expected} == expected
    if "schedule" in optimizer:
        assert opt["schedule"] == {"kind": "step", "every": 2, "gamma": 0.1, "warmup-epochs": 0}


def test_schedule_and_augmentation_defaults():
    data = parse_text(MINIMAL, "yaml").data
    data["optimizer"] = {"schedule": {"kind": "linear-warmup"}}
    data["dataset"]["augmentation"] = {"kind": "variance-noise"}
    spec = fill_defaults(data)
    assert spec["optimizer"]["schedule"] == {"kind": "linear-warmup", "warmup-epochs": 1}
    assert spec["dataset"]["augmentation"] == {"kind": "variance-noise", "rule": "post",
                                               "std": 1.0, "target-balance": 0.5}


def test_spec_is_frozen(tmp_path):
    spec = load(write(tmp_path, "x.yaml", MINIMAL)).spec
    with pytest.raises(TypeError):
        spec["seed"] = 3
    with pytest.raises(TypeError):
        spec["network"][0]["width"] = 3
    with pytest.raises((TypeError, AttributeError)):
        spec["network"].append({})


def test_edn_twin_equals_yaml():
    yaml_spec = load(EXPERIMENTS / "fraud.yaml").spec
    edn_spec = load(EXPERIMENTS / "fraud.edn").spec
    assert yaml_spec == edn_spec
    assert spec_hash(yaml_spec) == spec_hash(edn_spec)


def test_fraud_experiment_is_cortex_model():
    spec = load(EXPERIMENTS / "fraud.yaml").spec
    assert [(layer["kind"], layer.get("num-output"), layer.get("id")) for layer in spec["network"]] == [
        ("input", None, "data"), ("linear->relu", 20, None), ("dropout", None, None),
        ("linear->relu", 10, None), ("linear", 2, None), ("softmax", None, "label")]
    assert spec["network"][2]["probability"] == 0.9
    assert spec["training"]["batch-size"] == 100 and spec["training"]["epoch-size"] == 200000
    assert spec["training"]["sampling"] == "class-balanced"
    assert spec["evaluation"]["metric"] == "f1" and spec["evaluation"]["threshold"] == 0.9
    assert spec["dataset"]["augmentation"]["rule"] == "post"


def test_extends_merges_and_null_removes():
    base = load(EXPERIMENTS / "fraud.yaml")
    plain = load(EXPERIMENTS / "fraud-no-augmentation.yaml")
    assert plain.spec["dataset"]["augmentation"] is None
    assert plain.spec["name"] == "fraud-no-augmentation"
    assert plain.spec["network"] == base.spec["network"]
    kaggle = load(EXPERIMENTS / "fraud-kaggle.yaml").spec["dataset"]
    assert (kaggle["kind"], kaggle["path"], kaggle["label"], kaggle["drop"]) == \
        ("csv", "creditcard.csv", "Class", ("Time",))
    assert "rows" not in kaggle and kaggle["test-size"] == 50000
    # positions of inherited nodes point into the parent file
    assert plain.positions[("network", 2, "probability")].file.endswith("fraud.yaml")
    assert plain.positions[("name",)].file.endswith("fraud-no-augmentation.yaml")


def test_extends_replaces_lists_and_locates_errors_in_the_parent(tmp_path):
    write(tmp_path, "base.yaml", MINIMAL.replace("[linear, 2]", "[dropout, 1.5]"))
    child = write(tmp_path, "child.edn", '{:extends "base.yaml" :training {:batch-size 0}}')
    with pytest.raises(SpecError) as info:
        load(child)
    text = str(info.value)
    assert f"{tmp_path / 'base.yaml'}:5:15: network[1].probability: dropout probability 1.5" in text
    assert f"{child}:1:46: training.batch-size: batch-size 0 is less than the minimum" in text
    write(tmp_path, "child2.json", '{"extends": "base.yaml", "network": [["input", 3]]}')
    assert load(tmp_path / "child2.json").spec["network"] == ({"kind": "input", "width": 3,
                                                               "height": 1, "channels": 1},)


def test_extends_cycles_and_missing_files(tmp_path):
    write(tmp_path, "a.yaml", "extends: b.yaml\nname: a\n")
    write(tmp_path, "b.yaml", "name: b\nextends: a.yaml\n")
    with pytest.raises(UserError, match=r"b.yaml:2:10: extends: extends cycle: a.yaml -> b.yaml -> a.yaml"):
        load(tmp_path / "a.yaml")
    write(tmp_path, "c.yaml", "extends: nowhere.yaml\n")
    with pytest.raises(UserError, match=r"c.yaml:1:10: extends: extends: no such file 'nowhere.yaml'"):
        load(tmp_path / "c.yaml")


def test_set_overrides(tmp_path):
    path = EXPERIMENTS / "fraud.yaml"
    spec = load(path, ["training.batch-size=64", "network[2].probability=0.8",
                       "optimizer.kind=sgd", "dataset.augmentation=null",
                       "network[4]=[linear, 3, {l2-regularization: 1e-3}]"]).spec
    assert spec["training"]["batch-size"] == 64
    assert spec["network"][2]["probability"] == 0.8
    assert spec["optimizer"]["kind"] == "sgd" and spec["optimizer"]["momentum"] == 0.9
    assert spec["dataset"]["augmentation"] is None
    assert spec["network"][4]["num-output"] == 3
    assert spec["network"][4]["l2-regularization"] == 0.001


@pytest.mark.parametrize("override,fragment", [
    ("training.batch-size=big", "--set training.batch-size=big: training.batch-size: expected an integer"),
    ("training.epoch-cout=3", "unknown key 'epoch-cout'; did you mean 'epoch-count'?"),
    ("network[9].probability=0.5", "unknown path: network has 6 items, so [9] does not exist"),
    ("seed.x=1", "unknown path: seed is number 1, not a map with 'x'"),
    ("training", "expected PATH=VALUE"),
    ("training..x=1", "malformed path"),
    ("name=!!python/object:os.system x", "tag !!python/object:os.system is not allowed"),
])
def test_bad_set_overrides_name_the_flag(override, fragment):
    with pytest.raises(UserError) as info:
        load(EXPERIMENTS / "fraud.yaml", [override])
    assert fragment in str(info.value)


def test_parse_override():
    assert parse_override("network[2].probability=0.8") == (("network", 2, "probability"), 0.8)
    assert parse_override("optimizer={kind: sgd}") == (("optimizer",), {"kind": "sgd"})
    assert parse_override("optimizer.epsilon=1e-7") == (("optimizer", "epsilon"), 1e-7)


def test_all_problems_are_reported_at_their_lines(tmp_path):
    path = write(tmp_path, "x.yaml", """\
name: x
dataset: {kind: synthetic-fraud, test-size: 0}
network:
  - [input, 29]
  - [linear-relu, 20]
  - [dropout, 1.5]
training: {epoch-cout: 3}
""")
    with pytest.raises(SpecError) as info:
        load(path)
    lines = str(info.value).splitlines()
    assert lines == [
        f"{path}:2:45: dataset.test-size: test-size 0 is less than the minimum of 1",
        f"{path}:5:6: network[1][0]: unknown layer 'linear-relu'; did you mean 'linear->relu'?",
        f"{path}:6:15: network[2].probability: dropout probability 1.5 is greater than the "
        "maximum of 1",
        f"{path}:7:24: training.epoch-cout: unknown key 'epoch-cout'; did you mean 'epoch-count'?",
    ]


def test_spec_hash_and_dump_yaml_round_trip(tmp_path):
    loaded = load(EXPERIMENTS / "fraud.yaml")
    text = dump_yaml(loaded.spec)
    again = load(write(tmp_path, "resolved.yaml", text)).spec
    assert again == loaded.spec
    assert spec_hash(again) == spec_hash(loaded.spec)
    assert len(spec_hash(again)) == 64
    assert spec_hash(load(EXPERIMENTS / "fraud.yaml", ["seed=2"]).spec) != spec_hash(again)


def test_loaded_fields():
    loaded = load(EXPERIMENTS / "fraud.yaml")
    assert loaded.file.endswith("fraud.yaml") and loaded.base_dir == EXPERIMENTS
    assert loaded.positions[("network", 2, "probability")] == (16, 15)
    err = SpecError(("network", 2, "probability"), "too high").located(loaded.file, loaded.positions)
    assert str(err) == f"{loaded.file}:16:15: network[2].probability: too high"


def test_schema_names():
    names = schema_names()
    assert names["layers"] >= {"input", "linear->softmax", "max-pooling"}
    assert names["losses"] == {"softmax-cross-entropy", "mse"}
    assert names["optimizers"] == {"sgd", "adam", "adamw", "adadelta", "rmsprop"}
    assert "auto" in names["initializers"]


# --- properties ----------------------------------------------------------------------------

@FAST
@given(experiments())
def test_valid_experiments_validate(data):
    assert validate_data(data) == []


@FAST
@given(experiments())
def test_round_trip_through_every_format(tmp_path, data):
    specs = []
    for fmt in ("yaml", "json", "edn"):
        path = tmp_path / f"x.{fmt}"
        path.write_text(to_text(data, fmt))
        specs.append(load(path).spec)
    assert specs[0] == specs[1] == specs[2]
    # the resolved spec is a fixed point
    path = tmp_path / "resolved.yaml"
    path.write_text(dump_yaml(specs[0]))
    assert load(path).spec == specs[0]


def _leaves(value, path=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, path + (k,))
    elif isinstance(value, list) and path[:1] != ("network",):
        for i, v in enumerate(value):
            yield from _leaves(v, path + (i,))
    elif path and path[-1] != "kind" and not isinstance(value, (dict, list)):
        yield path


def _set(data, path, value):
    node = data
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value


@FAST
@given(experiments(), st.data())
def test_mutations_are_rejected_naming_the_field(data, draw):
    normal = fill_defaults(_normalised(data))
    kind = draw.draw(st.sampled_from(["type", "unknown-key", "range", "layer"]))
    mutated = copy.deepcopy(normal)
    if kind == "type":
        path = draw.draw(st.sampled_from(sorted(
            (p for p in _leaves(normal) if p[-1] not in ("init", "name", "path", "label")),
            key=str)))
        _set(mutated, path, [1, 2] if not isinstance(_get(normal, path), list) else "x")
        expect = (path, "expected")
    elif kind == "unknown-key":
        section = draw.draw(st.sampled_from(["dataset", "optimizer", "training", "evaluation",
                                             "output"]))
        mutated[section]["epoch-cout"] = 1
        path = (section, "epoch-cout")
        expect = (path, "unknown key 'epoch-cout'")
    elif kind == "range":
        path, value = draw.draw(st.sampled_from([
            (("training", "batch-size"), 0), (("seed",), -1), (("evaluation", "threshold"), 1.5),
            (("network", 0, "width"), 0), (("dataset", "test-size"), -0.5)]))
        _set(mutated, path, value)
        expect = (path, "minimum" if value in (0, -1) else "")
    else:
        i = draw.draw(st.integers(0, len(normal["network"]) - 1))
        mutated["network"][i] = {"kind": "linear-relu", "num-output": 3}
        path = ("network", i, "kind")
        expect = (path, "unknown layer 'linear-relu'; did you mean 'linear->relu'?")
    problems = validate_data(mutated)
    assert problems, (kind, path)
    assert any(p.path[:len(expect[0])] == expect[0] and expect[1] in p.message
               for p in problems), \
        [str(p) for p in problems]
    assert any(format_path(expect[0]) in str(p) for p in problems)


def _normalised(data):
    from engine.layer_syntax import normalize_network
    return normalize_network(data, {})[0]


def _get(data, path):
    for p in path:
        data = data[p]
    return data
