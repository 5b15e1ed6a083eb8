"""JSON experiment files: the standard library's parser, plus a pass that records positions.

``json`` keeps the last of duplicate keys silently and reports no positions, so after it has
checked the syntax a small scanner walks the same text again, recording where each value starts
and flagging duplicate keys. Scalars are still decoded by ``json``'s own scanner.
"""

from __future__ import annotations

import json
import json.decoder
import math

from engine.errors import Problem, UserError
from engine.formats import Document, LineIndex

_WHITESPACE = " \t\n\r"


def parse_json(text: str, file: str = "<input>") -> Document:
    """Parse JSON ``text``; ``file`` names it in errors.

    Returns:
        a Document with plain data and (line, col) of every value.
    Raises:
        UserError: syntax errors (at their line and column), duplicate keys (all of them),
            NaN/Infinity, which JSON does not have.
    """
    try:
        json.loads(text)
    except json.JSONDecodeError as e:
        raise UserError([Problem(f"JSON syntax error: {e.msg}", file=file,
                                 line=e.lineno, col=e.colno)]) from None
    walker = _Walker(text, file)
    data = walker.document()
    if walker.problems:
        raise UserError(walker.problems)
    return Document(data, walker.positions)


class _Walker:
    """Re-scans text that ``json`` has accepted, recording positions and duplicate keys."""

    def __init__(self, text: str, file: str):
        self.text, self.file = text, file
        self.where = LineIndex(text)
        self.scan = json.decoder.JSONDecoder().scan_once
        self.positions: dict[tuple, tuple[int, int]] = {}
        self.problems: list[Problem] = []

    def skip(self, i: int) -> int:
        while i < len(self.text) and self.text[i] in _WHITESPACE:
            i += 1
        return i

    def document(self):
        value, _ = self.value(self.skip(0), ())
        return value

    def value(self, i: int, path: tuple):
        self.positions[path] = self.where(i)
        c = self.text[i]
        if c == "{":
            return self.obj(i + 1, path)
        if c == "[":
            return self.array(i + 1, path)
        value, end = self.scan(self.text, i)
        if isinstance(value, float) and not math.isfinite(value):
            line, col = self.where(i)
            self.problems.append(Problem(f"{value} is not a JSON number", path, self.file, line, col))
        return value, end

    def obj(self, i: int, path: tuple):
        out: dict = {}
        first_at: dict = {}
        i = self.skip(i)
        if self.text[i] == "}":
            return out, i + 1
        while True:
            i = self.skip(i)
            key_at = self.where(i)
            key, i = json.decoder.scanstring(self.text, i + 1)
            i = self.skip(i) + 1  # the colon
            value, i = self.value(self.skip(i), path + (key,))
            if key in first_at:
                self.problems.append(Problem(
                    f"duplicate key '{key}' (first at line {first_at[key][0]})",
                    path + (key,), self.file, *key_at))
            else:
                first_at[key] = key_at
                out[key] = value
            i = self.skip(i)
            if self.text[i] == "}":
                return out, i + 1
            i += 1  # the comma

    def array(self, i: int, path: tuple):
        out: list = []
        i = self.skip(i)
        if self.text[i] == "]":
            return out, i + 1
        while True:
            value, i = self.value(self.skip(i), path + (len(out),))
            out.append(value)
            i = self.skip(i)
            if self.text[i] == "]":
                return out, i + 1
            i += 1
