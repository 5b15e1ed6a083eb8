"""The run folder: where a run's resolved spec, metrics, checkpoints and summary live.

``<output>/<name>-<first 8 hex of the resolved spec's hash>/``::

    experiment.yaml      the resolved spec, every default filled in
    metrics.jsonl        one JSON object per epoch
    best.safetensors     the best network by the experiment's metric
    last.safetensors     the network after the last epoch
    preprocessing.json   feature names, class names, standardisation statistics
    summary.json         best epoch, metric, best score, final metrics, timings, seed, version
    log.txt              the lines the run printed

Every file is written atomically (temporary file, then rename), so a killed run never
leaves a torn file; the metrics and log are rewritten whole after each epoch.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np

from engine import __version__, atomic, checkpoint
from engine.errors import UserError
from engine.report import ConsoleReporter, Observers, epoch_line
from engine.spec import dump_yaml, spec_hash
from engine.train import resolve_init_from, train


def run_dir_for(spec, out: str | None = None) -> Path:
    """``<out or spec.output.dir>/<name>-<hash8>``."""
    root = Path(out if out is not None else spec["output"]["dir"])
    return root / f"{spec['name']}-{spec_hash(spec)[:8]}"


def _json_safe(value):
    """JSON-ready copy: NumPy scalars to Python, NaN/inf to None (strict JSON has neither)."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dumps(value) -> str:
    """Strict JSON text of ``value`` (see _json_safe)."""
    return json.dumps(_json_safe(value), sort_keys=True)


class RunWriter:
    """Observer that keeps the run folder current after every epoch."""

    def __init__(self, run_dir: Path, epoch_count: int, metric: str):
        self.run_dir, self.epoch_count, self.metric = run_dir, epoch_count, metric
        self.records: list[str] = []
        self.lines: list[str] = []

    def log(self, line: str) -> None:
        self.lines.append(line)
        atomic.write_text(self.run_dir / "log.txt", "\n".join(self.lines) + "\n")

    def epoch_start(self, epoch, total_batches):
        pass

    def batch_done(self, done):
        pass

    def epoch_end(self, record, params, net):
        self.records.append(dumps(record))
        atomic.write_text(self.run_dir / "metrics.jsonl", "\n".join(self.records) + "\n")
        if params is not None:
            checkpoint.save(self.run_dir / "best.safetensors", net, params,
                            {"epoch": record["epoch"], "metric": self.metric, "score": record["score"]})
        self.log(epoch_line(record, self.epoch_count, self.metric))


def execute(loaded, *, out: str | None = None, device: str = "auto", console=None,
            quiet: bool = False) -> tuple[Path, dict]:
    """Train the experiment and fill its run folder.

    Returns:
        ``(run_dir, summary)``.
    """
    spec = loaded.spec
    if spec["training"].get("init-from"):  # a missing checkpoint fails before any folder exists
        resolve_init_from(spec["training"]["init-from"], loaded.base_dir)
    run_dir = run_dir_for(spec, out)
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic.write_text(run_dir / "experiment.yaml", dump_yaml(spec))
    training = spec["training"]
    writer = RunWriter(run_dir, int(training["epoch-count"]), spec["evaluation"]["metric"])
    writer.log(f"run {spec['name']} -> {run_dir}")
    reporter = None if quiet else ConsoleReporter(int(training["epoch-count"]),
                                                  spec["evaluation"]["metric"], console)
    if reporter is not None:
        reporter.print(f"run [bold]{spec['name']}[/bold] -> {run_dir}")

    result = train(loaded, device=device, observer=Observers(reporter, writer))
    net, summary = result.net, dict(result.summary)
    summary.update({"engine-version": __version__, "spec-hash": spec_hash(spec), "name": spec["name"],
                    "experiment-file": str(Path(loaded.file).resolve()),
                    "base-dir": str(Path(loaded.base_dir).resolve())})
    meta = {"epoch": summary["best-epoch"], "metric": summary["metric"], "score": summary["best-score"]}
    checkpoint.save(run_dir / "best.safetensors", net, result.best_params, meta)
    checkpoint.save(run_dir / "last.safetensors", net, result.last_params,
                    {"epoch": summary["epochs-run"], "metric": summary["metric"]})
    splits = result.splits
    standardization = getattr(splits, "standardization", None)
    atomic.write_text(run_dir / "preprocessing.json", dumps({
        "feature-names": list(splits.feature_names),
        "class-names": [str(c) for c in getattr(splits, "class_names", range(splits.num_classes))],
        "mean": None if standardization is None else np.asarray(standardization[0]).tolist(),
        "std": None if standardization is None else np.asarray(standardization[1]).tolist(),
    }))
    atomic.write_text(run_dir / "summary.json", dumps(summary))
    best = summary["best"]
    lines = [f"best epoch {summary['best-epoch']} by {summary['metric']} on the {summary['selection']} split"]
    for split in ("validation", "test"):
        if split in best:
            s = best[split]
            lines.append(f"  {split:<10}  loss {s['loss']:.4f}  precision {s['precision']:.3f}  "
                         f"recall {s['recall']:.3f}  f1 {s['f1']:.3f}  roc-auc {_fmt(s.get('roc-auc'))}")
    lines.append(f"wall {summary['wall-seconds']:.1f} s, training {_fmt(summary['samples-per-second'], ',.0f')} samples/s")
    lines.append(f"run folder: {run_dir}")
    for line in lines:
        writer.log(line)
        if reporter is not None:
            reporter.print(line)
    return run_dir, summary


def _fmt(value, spec: str = ".3f") -> str:
    return "n/a" if value is None else format(value, spec)


def load_run(run_dir) -> tuple:
    """``(loaded, net, best_params, preprocessing)`` of a finished run folder."""
    from engine.network import build
    from engine.spec import load
    from engine.train import RNG_INIT, derive_rng

    run_dir = Path(run_dir)
    if not (run_dir / "experiment.yaml").exists():
        raise UserError(f"{run_dir}: not a run folder (no experiment.yaml)")
    loaded = load(run_dir / "experiment.yaml")
    summary_path = run_dir / "summary.json"
    if summary_path.exists():  # relative data paths are from the original experiment's folder
        base_dir = json.loads(summary_path.read_text()).get("base-dir")
        if base_dir:
            loaded = dataclasses.replace(loaded, base_dir=Path(base_dir))
    net, _ = build(loaded.spec["network"], derive_rng(loaded.spec["seed"], RNG_INIT))
    params = checkpoint.params_for(net, run_dir / "best.safetensors")
    pre_path = run_dir / "preprocessing.json"
    preprocessing = json.loads(pre_path.read_text()) if pre_path.exists() else {}
    return loaded, net, params, preprocessing
