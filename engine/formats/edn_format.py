"""EDN experiment files (Cortex's own syntax), read as plain data with positions.

edn_format's parser records no positions, keeps the last of duplicate keys and would run tag
handlers, so only its lexer is used (tokens carry their character offset) and this module parses
the tokens itself. Keywords become strings without the colon (``:linear->relu`` ->
``"linear->relu"``), vectors and lists become lists, maps dicts. Tags (``#inst``, ``#uuid``,
``#foo/bar``), sets, symbols, characters, ratios and metadata are not plain data: errors.
``#_`` discards the next form, as in EDN.
"""

from __future__ import annotations

import decimal
from dataclasses import replace

from edn_format import edn_lex
from edn_format.exceptions import EDNDecodeError

from engine.errors import Problem, UserError
from engine.formats import Document, LineIndex

_LEXER = None  # building the PLY lexer compiles its regexes; clones are cheap
_CLOSE = {"VECTOR_START": "VECTOR_END", "LIST_START": "LIST_END", "MAP_START": "MAP_OR_SET_END"}
_CLOSE_CHAR = {"VECTOR_END": "]", "LIST_END": ")", "MAP_OR_SET_END": "}"}


class _Syntax(Exception):
    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.message, self.offset = message, offset


def _tokens(text: str) -> list:
    global _LEXER
    if _LEXER is None:
        _LEXER = edn_lex.lex()
    lexer = _LEXER.clone()
    lexer.input(text)
    out = []
    while True:
        try:
            tok = lexer.token()
        except EDNDecodeError:
            raise _Syntax(f"unexpected character {text[lexer.lexpos]!r}", lexer.lexpos) from None
        if tok is None:
            return out
        out.append(tok)


def parse_edn(text: str, file: str = "<input>") -> Document:
    """Parse EDN ``text``; ``file`` names it in errors.

    Returns:
        a Document with plain data and (line, col) of every value.
    Raises:
        UserError: syntax errors (the first, at its line), and all duplicate keys,
            tags and other forms that are not plain data.
    """
    where = LineIndex(text)
    try:
        tokens = _tokens(text)
        parser = _Parser(tokens, len(text), where, file)
        data = parser.document()
    except _Syntax as e:
        raise UserError([Problem(f"EDN syntax error: {e.message}", file=file,
                                 line=where(e.offset)[0], col=where(e.offset)[1])]) from None
    if parser.problems:
        raise UserError(parser.problems)
    return Document(data, parser.positions)


class _Parser:
    """Recursive descent over edn_format's tokens, building plain data and positions."""

    def __init__(self, tokens: list, end: int, where: LineIndex, file: str):
        self.tokens, self.end, self.where, self.file = tokens, end, where, file
        self.i = 0
        self.positions: dict[tuple, tuple[int, int]] = {}
        self.problems: list[Problem] = []

    def problem(self, message: str, path: tuple, tok) -> None:
        self.problems.append(Problem(message, path, self.file, *self.where(tok.lexpos)))

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def document(self):
        self.skip_discards(())
        if self.peek() is None:
            return None
        value = self.form(())
        self.skip_discards(())
        extra = self.peek()
        if extra is not None:
            raise _Syntax("more than one top-level form; an experiment file is one map",
                          extra.lexpos)
        return value

    def skip_discards(self, path: tuple) -> None:
        while (tok := self.peek()) is not None and tok.type == "DISCARD_TAG":
            self.i += 1
            self.form(path + ("#_",), record=False)

    def form(self, path: tuple, record: bool = True):
        self.skip_discards(path)
        tok = self.peek()
        if tok is None:
            raise _Syntax("unexpected end of file (an unclosed bracket?)", self.end)
        self.i += 1
        if record:
            self.positions[path] = self.where(tok.lexpos)
        kind = tok.type
        if kind in ("VECTOR_START", "LIST_START"):
            return self.sequence(path, _CLOSE[kind], record, tok)
        if kind == "MAP_START":
            return self.mapping(tok, path, record)
        if kind in _CLOSE_CHAR:
            raise _Syntax(f"unexpected '{_CLOSE_CHAR[kind]}'", tok.lexpos)
        if kind in ("STRING", "INTEGER", "HEX_INTEGER"):
            return tok.value
        if kind == "FLOAT":
            return float(tok.value) if isinstance(tok.value, decimal.Decimal) else tok.value
        if kind == "KEYWORD":
            return tok.value.name
        if kind == "SYMBOL":
            if tok.value is None or isinstance(tok.value, bool):
                return tok.value
            self.problem(f"symbol '{tok.value}' is not a value; write a keyword :{tok.value} "
                         f"or a string \"{tok.value}\"", path, tok)
            return None
        if kind == "SYMBOLIC_VALUE":
            if record:
                self.problem(f"{tok.value} is not allowed in an experiment file", path, tok)
            return None
        if kind == "TAG":
            self.form(path, record=False)
            if record:
                self.problem(f"tag #{tok.value} is not allowed: experiment files hold plain data "
                             "(strings, numbers, keywords, booleans, nil, maps, vectors)", path, tok)
            return None
        if kind in ("SET_START", "MAP_NAMESPACE_TAG", "CARET"):
            what = {"SET_START": "a set #{...}", "MAP_NAMESPACE_TAG": "a namespaced map #:ns{...}",
                    "CARET": "metadata ^..."}[kind]
            if kind == "SET_START":
                self.sequence(path, "MAP_OR_SET_END", False, tok)
            else:
                self.form(path, record=False)
                if kind == "CARET":
                    self.form(path, record=False)
            if record:
                self.problem(f"{what} is not allowed; use a vector [...] or a map {{...}}", path, tok)
            return None
        # CHAR, WHITESPACE (\newline), RATIO
        if record:
            self.problem(f"{kind.lower()} literal {tok.value!r} is not allowed; use a string or "
                         "a number", path, tok)
        return None

    def items(self, path: tuple, close: str, record: bool, start) -> list:
        out = []
        opened = self.text_of(start)
        while True:
            self.skip_discards(path)
            tok = self.peek()
            if tok is None:
                line, col = self.where(start.lexpos)
                raise _Syntax(f"the '{opened}' at line {line}, column {col} is never closed",
                              start.lexpos)
            if tok.type == close:
                self.i += 1
                return out
            if tok.type in _CLOSE_CHAR:
                line, col = self.where(start.lexpos)
                raise _Syntax(f"expected '{_CLOSE_CHAR[close]}' to close the '{opened}' at line "
                              f"{line}, column {col}, got '{_CLOSE_CHAR[tok.type]}'", tok.lexpos)
            out.append((tok, self.form(path + (len(out),), record)))

    @staticmethod
    def text_of(tok) -> str:
        return {"VECTOR_START": "[", "LIST_START": "(", "MAP_START": "{", "SET_START": "#{"}[tok.type]

    def sequence(self, path: tuple, close: str, record: bool, start) -> list:
        return [value for _, value in self.items(path, close, record, start)]

    def mapping(self, start, path: tuple, record: bool) -> dict:
        # Parse as a flat sequence first, then move each value's positions under its key.
        entries = self.items(path, "MAP_OR_SET_END", record, start)
        if len(entries) % 2:
            # the unpaired form is most often the last key; point there
            tok, key = entries[-1]
            shown = f":{key}" if isinstance(key, str) else "a form"
            raise _Syntax(f"a map needs an even number of forms; {shown} has no value",
                          tok.lexpos)
        out: dict = {}
        first_line: dict = {}
        for n in range(0, len(entries), 2):
            key_tok, key = entries[n]
            if record:
                self._move(path + (n,), None)
                self._move(path + (n + 1,), None if not isinstance(key, str) else path + (key,))
            if not isinstance(key, str):
                self.problem(f"map key {key!r} must be a keyword or a string", path, key_tok)
                continue
            if key in first_line:
                self.problem(f"duplicate key :{key} (first at line {first_line[key]})",
                             path + (key,), key_tok)
                continue
            first_line[key] = self.where(key_tok.lexpos)[0]
            out[key] = entries[n + 1][1]
        return out

    def _move(self, old: tuple, new: tuple | None) -> None:
        """Re-key the positions under ``old`` to ``new`` (or drop them when ``new`` is None)."""
        n = len(old)
        for p in [p for p in self.positions if p[:n] == old]:
            pos = self.positions.pop(p)
            if new is not None:
                self.positions[new + p[n:]] = pos
        # problems found inside the value were recorded at the same provisional paths
        self.problems = [
            replace(p, path=(new if new is not None else old[:-1]) + p.path[n:])
            if p.path[:n] == old else p for p in self.problems]

