"""User-facing errors: every problem names its file, line, column and field path.

Code deep inside the engine raises :class:`SpecError` with a field *path* (a tuple of keys
and indices into the experiment spec). The CLI, which knows the file and its position map,
turns each path into ``FILE:LINE:COL: field.path: message`` and exits with status 2.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable, Sequence

Path = tuple  # a field path: ("network", 2, "probability")


def format_path(path: Sequence) -> str:
    """``("network", 2, "probability")`` -> ``network[2].probability``; ``()`` -> ``<top>``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "<top>"


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the nearest known name, or ``""`` when none is close."""
    match = difflib.get_close_matches(str(name), sorted(known), n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else ""


@dataclass(frozen=True)
class Problem:
    """One mistake in one file. ``line``/``col`` are 1-based; 0 when unknown."""

    message: str
    path: Path = ()
    file: str = ""
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file + (f":{self.line}:{self.col or 1}" if self.line else ""))
        if self.path:
            parts.append(format_path(self.path))
        parts.append(self.message)
        return ": ".join(parts)


class UserError(Exception):
    """A mistake by the user (bad file, bad data, bad flag): printed without a traceback, exit 2."""

    def __init__(self, problems: Sequence[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem(problems)]
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SpecError(UserError):
    """A problem at a field path of the spec, raised before the file and line are known.

    ``SpecError(("network", 3), "linear needs ...")``; the CLI locates it with
    :meth:`located`.
    """

    def __init__(self, path: Path | Sequence[Problem], message: str | None = None):
        if message is None:  # already a list of problems
            super().__init__(path)
        else:
            super().__init__([Problem(message, tuple(path))])

    def located(self, file: str, positions) -> "SpecError":
        """The same problems with ``file`` and the line/col of each path from ``positions``.

        ``positions`` maps a path tuple to ``(line, col)``; a path without an entry takes the
        position of its nearest ancestor that has one.
        """
        out = []
        for p in self.problems:
            if p.line:  # already located (e.g. a problem of an `extends` parent file)
                out.append(Problem(p.message, p.path, p.file or file, p.line, p.col))
                continue
            pos = locate(positions, p.path)
            line, col = pos
            # a Position knows its own file: nodes inherited through `extends` live elsewhere
            where = getattr(pos, "file", "") or file
            out.append(Problem(p.message, p.path, p.file or where, line, col))
        return SpecError(out)


class Position(tuple):
    """``(line, col)`` of a node that also knows its ``file`` (an ``extends`` parent's nodes
    live in the parent). Unpacks and compares like the plain pair."""

    file: str

    def __new__(cls, line: int, col: int, file: str = ""):
        self = super().__new__(cls, (line, col))
        self.file = file
        return self

    def __repr__(self) -> str:
        return f"Position({self[0]}, {self[1]}, {self.file!r})"

    def __reduce__(self):
        return (Position, (self[0], self[1], self.file))


def locate(positions, path: Sequence) -> tuple[int, int]:
    """(line, col) of ``path`` or of its nearest ancestor in ``positions``; (0, 0) if none."""
    path = tuple(path)
    while True:
        if path in positions:
            return positions[path]
        if not path:
            return (0, 0)
        path = path[:-1]
