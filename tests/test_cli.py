"""engine/cli.py and engine/check.py, as a user meets them: exit codes and messages."""

import subprocess
import sys
from pathlib import Path

import pytest

from engine.backend import gpu_available
from tests.experiment_files import small_experiment

ROOT = Path(__file__).resolve().parent.parent


def engine(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "engine", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def assert_user_error(result, *fragments):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_check_passes_on_every_bundled_example():
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "experiments").iterdir() if p.is_file())
    assert len(files) >= 4
    result = engine("check", *files)
    assert result.returncode == 0, result.stderr
    assert "832" in result.stdout  # the fraud MLP's parameter count in the shape table


def test_check_names_the_line_of_a_layer_that_cannot_fit(tmp_path):
    bad = tmp_path / "pool.yaml"
    bad.write_text("name: pool\ndataset: {kind: synthetic-fraud, rows: 1000}\nnetwork:\n"
                   "  - [input, 29, 1, 1]\n"
                   "  - [linear, 36]\n"
                   "  - [max-pooling, 2, 0, 2]\n")
    assert_user_error(engine("check", bad), f"{bad}:6:", "network[2]", "image input")


def test_check_names_an_input_that_does_not_fit_the_data(tmp_path):
    bad = tmp_path / "width.yaml"
    bad.write_text("name: width\ndataset: {kind: synthetic-fraud, rows: 1000}\nnetwork:\n"
                   "  - [input, 30, 1, 1]\n  - [linear, 2]\n")
    assert_user_error(engine("check", bad), f"{bad}:4:", "network[0]", "30 values", "29 feature")


def test_check_names_a_missing_column_with_a_suggestion(tmp_path):
    (tmp_path / "cards.csv").write_text("V1,V2,Amount,Class\n1,2,3,0\n4,5,6,1\n")
    bad = tmp_path / "cols.yaml"
    bad.write_text("name: cols\ndataset:\n  kind: csv\n  path: cards.csv\n  label: Clas\n"
                   "network:\n  - [input, 3, 1, 1]\n  - [linear, 2]\n")
    assert_user_error(engine("check", bad), f"{bad}:5:", "dataset.label", "did you mean 'Class'")


def test_run_trains_and_reports_the_run_folder(tmp_path):
    path = small_experiment(tmp_path, epochs=2)
    result = engine("run", path, "--set", "training.epoch-count=2", "--device", "cpu")
    assert result.returncode == 0, result.stderr
    assert "epoch   1/2" in result.stdout and "epoch   2/2" in result.stdout
    line = next(l for l in result.stdout.splitlines() if l.startswith("epoch   1/2"))
    for field in ("train-loss", "test-loss", "val-loss", "val-precision", "val-recall", "val-f1",
                  "samples/s"):
        assert field in line, line
    assert "run folder:" in result.stdout
    run_dir = next((tmp_path / "runs").iterdir())
    ev = engine("evaluate", run_dir, "--device", "cpu")
    assert ev.returncode == 0, ev.stderr
    assert "precision" in ev.stdout and "actual" in ev.stdout


def test_nan_in_data_is_a_clear_error(tmp_path):
    (tmp_path / "cards.csv").write_text("V1,V2,Class\n1,2,0\n4,,1\n5,6,0\n")
    path = tmp_path / "nan.yaml"
    path.write_text("name: nan\ndataset: {kind: csv, path: cards.csv, label: Class}\n"
                    "network:\n  - [input, 2, 1, 1]\n  - [linear, 2]\n  - [softmax]\n")
    assert_user_error(engine("run", path, "--out", tmp_path / "runs"), "cards.csv", "V2")


def test_an_invalid_file_lists_every_problem_with_its_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ndataset: {kind: synthetic-fraud}\nnetwork:\n"
                   "  - [input, 29, 1, 1]\n  - [linear-relu, 20]\n  - [dropout, 1.5]\n"
                   "training:\n  epoch-cout: 3\n")
    result = engine("run", bad)
    assert_user_error(result, f"{bad}:5:", "did you mean 'linear->relu'", f"{bad}:6:", "network[2]",
                      f"{bad}:8:", "epoch-count")


@pytest.mark.skipif(gpu_available(), reason="this machine has a GPU, so --device gpu is valid")
def test_asking_for_a_gpu_that_is_not_there_is_a_user_error(tmp_path):
    result = engine("run", small_experiment(tmp_path, epochs=1), "--device", "gpu")
    assert_user_error(result, "--device gpu")


def test_unknown_file_suffix_is_a_user_error(tmp_path):
    bad = tmp_path / "x.toml"
    bad.write_text("name = 1\n")
    assert_user_error(engine("check", bad), "x.toml")
