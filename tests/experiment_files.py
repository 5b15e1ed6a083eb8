"""Small experiment files for end-to-end tests (seconds, not minutes)."""

from pathlib import Path

SMALL = """\
name: {name}
seed: {seed}
dataset:
  kind: synthetic-fraud
  rows: 6000
  fraud-rate: 0.03
  test-size: 0.25
  validation-size: {validation}
network:
  - [input, 29, 1, 1, {{id: data}}]
  - [linear->relu, 16]
  - [dropout, 0.9]
  - [linear->relu, 8]
  - [linear, 2]
  - [softmax, {{id: label}}]
optimizer:
  kind: adam
  learning-rate: {lr}
training:
  batch-size: 64
  epoch-count: {epochs}
  epoch-size: {epoch_size}
  sampling: {sampling}
evaluation:
  metric: {metric}
  threshold: {threshold}
output:
  dir: {out}
"""


def small_experiment(folder: Path, name: str = "small", **fields) -> Path:
    """Write a small fraud experiment into ``folder`` and return its path."""
    values = dict(name=name, seed=3, validation=0.2, lr=0.003, epochs=4, epoch_size=3000,
                  sampling="class-balanced", metric="f1", threshold=0.5, out=str(folder / "runs"))
    values.update(fields)
    path = Path(folder) / f"{name}.yaml"
    path.write_text(SMALL.format(**values))
    return path
