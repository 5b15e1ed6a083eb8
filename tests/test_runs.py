"""engine/runs.py, engine/checkpoint.py, engine/atomic.py, engine/predict.py: the run folder."""

import json

import numpy as np
import pyarrow.csv as pacsv
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file

from engine import atomic, checkpoint
from engine.errors import UserError
from engine.predict import evaluate_run, predict_run
from engine.runs import execute, load_run
from engine.spec import load, spec_hash
from tests.experiment_files import small_experiment


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    loaded = load(small_experiment(folder, epochs=3))
    run_dir, summary = execute(loaded, device="cpu", quiet=True)
    return folder, loaded, run_dir, summary


def test_run_folder_is_named_by_the_resolved_spec_and_complete(run):
    folder, loaded, run_dir, _ = run
    assert run_dir == folder / "runs" / f"small-{spec_hash(loaded.spec)[:8]}"
    assert {p.name for p in run_dir.iterdir()} == {
        "experiment.yaml", "metrics.jsonl", "best.safetensors", "last.safetensors",
        "summary.json", "log.txt", "preprocessing.json"}
    # The saved spec is the resolved one: it loads back to the same value and hash.
    again = load(run_dir / "experiment.yaml")
    assert spec_hash(again.spec) == spec_hash(loaded.spec)
    assert again.spec["training"]["batch-size"] == 64


def test_metrics_summary_and_log(run):
    _, _, run_dir, summary = run
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["epoch"] for r in records] == [1, 2, 3]
    assert {"train-loss", "samples-per-second", "validation", "test", "best"} <= set(records[0])
    saved = json.loads((run_dir / "summary.json").read_text())
    for key in ("best-epoch", "metric", "best-score", "final", "wall-seconds", "samples-per-second",
                "seed", "engine-version"):
        assert key in saved
    assert saved == json.loads(json.dumps(saved))  # strict JSON
    assert saved["best-score"] == summary["best-score"]
    log = (run_dir / "log.txt").read_text()
    assert log.count("epoch ") >= 3 and "best epoch" in log


def test_checkpoint_has_pytorch_names_shapes_and_the_description(run):
    _, loaded, run_dir, _ = run
    tensors = load_file(run_dir / "best.safetensors")
    assert {k: v.shape for k, v in tensors.items()} == {
        "linear-1.weight": (16, 29), "linear-1.bias": (16,), "linear-2.weight": (8, 16),
        "linear-2.bias": (8,), "linear-3.weight": (2, 8), "linear-3.bias": (2,)}
    with safe_open(str(run_dir / "best.safetensors"), framework="np") as f:
        meta = f.metadata()
    assert meta["format"] == "engine-checkpoint" and meta["format-version"] == "1"
    assert json.loads(meta["network"])[1] == dict(loaded.spec["network"][1])


def test_evaluate_reproduces_the_summarys_test_metrics(run):
    _, _, run_dir, summary = run
    result = evaluate_run(run_dir, device="cpu")
    assert result["f1"] == pytest.approx(summary["best"]["test"]["f1"])
    assert result["loss"] == pytest.approx(summary["best"]["test"]["loss"], rel=1e-5)
    confusion = np.array(result["confusion"])
    assert confusion.sum() == 1500 and confusion[1, 1] == result["tp"]


def test_predict_writes_one_row_per_input_row(run, tmp_path):
    _, _, run_dir, _ = run
    from engine.data.synthetic_fraud import FEATURE_NAMES, generate

    X, y = generate(300, 0.05, np.random.default_rng(7))
    data = tmp_path / "new.csv"
    data.write_text(",".join(FEATURE_NAMES) + "\n" + "\n".join(",".join(map(str, row)) for row in X))
    out = tmp_path / "pred.csv"
    assert predict_run(run_dir, data=data, out=out, device="cpu") == 300
    table = pacsv.read_csv(out).to_pydict()
    assert set(table) == {"prediction", "probability_0", "probability_1"}
    p = np.array(table["probability_1"])
    np.testing.assert_allclose(np.array(table["probability_0"]) + p, 1.0, atol=1e-6)
    assert [str(v) for v in table["prediction"]] == ["1" if v >= 0.5 else "0" for v in p]


def test_init_from_starts_where_the_checkpoint_is(run, tmp_path):
    _, _, run_dir, _ = run
    # Every layer frozen: the run can only keep the parameters it started from.
    path = small_experiment(tmp_path, name="warm", epochs=1)
    loaded = load(path, [f"training.init-from={run_dir}"] + [f"network[{i}].frozen=true" for i in (1, 3, 4)])
    warm_dir, _ = execute(loaded, device="cpu", quiet=True)
    _, net, start, _ = load_run(run_dir)
    _, _, after, _ = load_run(warm_dir)
    np.testing.assert_array_equal(after, start)


def test_a_failed_write_leaves_the_old_file_whole(tmp_path):
    target = tmp_path / "summary.json"
    atomic.write_text(target, "old")

    class Exploding:  # a buffer whose bytes cannot be read mid-write
        def __buffer__(self, flags):
            raise OSError("disk full")

    with pytest.raises((OSError, TypeError)):
        atomic.write_bytes(target, Exploding())
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]  # no temporary left


def test_a_checkpoint_for_another_network_is_refused(run, tmp_path):
    _, _, run_dir, _ = run
    other = load(small_experiment(tmp_path, name="other"), ["network[1].num-output=5"])
    from engine.network import build

    net, _ = build(other.spec["network"], np.random.default_rng(0))
    with pytest.raises(UserError, match="linear-1.weight' has shape"):
        checkpoint.params_for(net, run_dir / "best.safetensors")


def test_evaluate_on_a_labelled_file_scores_that_file(run, tmp_path):
    _, _, run_dir, _ = run
    from engine.data.synthetic_fraud import FEATURE_NAMES, generate

    X, y = generate(400, 0.1, np.random.default_rng(11))
    data = tmp_path / "labelled.csv"
    rows = (",".join(map(str, list(row) + [label])) for row, label in zip(X, y))
    data.write_text(",".join(FEATURE_NAMES + ("Class",)) + "\n" + "\n".join(rows))
    result = evaluate_run(run_dir, data=data, device="cpu")
    confusion = np.array(result["confusion"])
    assert confusion.sum() == 400 and confusion[1].sum() == int(y.sum())
    assert result["tp"] == confusion[1, 1] and result["fp"] == confusion[0, 1]
