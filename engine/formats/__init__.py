"""Experiment files as plain data: YAML, JSON and EDN, each with a map of node positions.

``parse(path)`` reads a file with a safe, data-only reader chosen by its suffix and returns a
:class:`Document`: ``data`` is plain Python (dict, list, str, int, float, bool, None) and
``positions`` maps every node's path tuple, e.g. ``("network", 2, 1)``, to its 1-based
``(line, col)``. Nothing in a file is ever evaluated: custom YAML tags and EDN tags are errors.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from engine.errors import Problem, UserError

SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".edn": "edn"}


@dataclass(frozen=True)
class Document:
    """A parsed file: plain ``data`` and ``positions`` (path tuple -> (line, col), 1-based)."""

    data: Any
    positions: Mapping[tuple, tuple[int, int]] = field(default_factory=dict)


def parse(path: str | Path) -> Document:
    """Parse an experiment file by its suffix (.yaml/.yml, .json, .edn).

    Args:
        path: the file to read.
    Returns:
        a :class:`Document` with plain data and the position of every node.
    Raises:
        UserError: unreadable file, unsupported suffix, syntax errors, duplicate keys,
            tags that are not plain data; each problem names the file, line and column.
    """
    path = Path(path)
    if path.is_dir():
        raise UserError([Problem("is a folder; give experiment files, e.g. "
                                 f"{path}/*.yaml", file=str(path))])
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise UserError([Problem(
            f"unsupported file type '{path.suffix or '(none)'}'; experiment files end in "
            + ", ".join(SUFFIXES), file=str(path))])
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError([Problem("no such file", file=str(path))]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise UserError([Problem(f"cannot read the file: {e}", file=str(path))]) from None
    return parse_text(text, fmt, str(path))


def parse_text(text: str, fmt: str, file: str = "<input>") -> Document:
    """Parse ``text`` in format ``fmt`` ("yaml", "json" or "edn"); ``file`` names it in errors.

    Returns:
        a :class:`Document`.
    Raises:
        UserError: as :func:`parse`.
    """
    if fmt == "yaml":
        from engine.formats.yaml_format import parse_yaml as fn
    elif fmt == "json":
        from engine.formats.json_format import parse_json as fn
    elif fmt == "edn":
        from engine.formats.edn_format import parse_edn as fn
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return fn(text, file)


class LineIndex:
    """Character offset -> 1-based (line, col) for one text."""

    def __init__(self, text: str):
        self._starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]

    def __call__(self, offset: int) -> tuple[int, int]:
        """(line, col) of ``offset``, both 1-based."""
        line = bisect.bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1
