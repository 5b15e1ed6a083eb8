"""YAML experiment files: composed with a safe loader so every node keeps its line.

The file is composed into a node tree (never constructed with ``yaml.load``) and the tree is
turned into plain data here, so that duplicate keys, non-string keys and tags can be reported
at their own line. Only the standard data tags are allowed (str, int, float, bool, null, map,
seq); ``!!python/...``, ``!!binary``, ``!!set``, ``!custom`` and the like are errors.
"""

from __future__ import annotations

import re

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from engine.errors import Problem, UserError
from engine.formats import Document

_STANDARD = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_STANDARD + t for t in ("str", "int", "float", "bool", "null")}
_MERGE = _STANDARD + "merge"
# Alias expansion can grow a small file exponentially ("billion laughs"); no real experiment
# comes near this many nodes.
_MAX_NODES = 200_000

# YAML 1.1 (PyYAML) reads 1e-8 as a string because its float pattern needs a dot; experiment
# files are full of such numbers, so resolve the YAML 1.2 forms as floats too.
_FLOAT = re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""", re.X)


class DataLoader(yaml.SafeLoader):
    """A safe loader with YAML 1.2 floats and no timestamps (dates stay strings)."""


DataLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in (_STANDARD + "timestamp", _STANDARD + "float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
DataLoader.add_implicit_resolver(_STANDARD + "float", _FLOAT, list("-+0123456789."))


class DataDumper(yaml.SafeDumper):
    """A safe dumper that quotes every string :class:`DataLoader` (or YAML 1.1) would not read
    back as a string, e.g. ``"1e5"``."""


DataDumper.yaml_implicit_resolvers = {
    first: list(resolvers) for first, resolvers in yaml.SafeDumper.yaml_implicit_resolvers.items()}
DataDumper.add_implicit_resolver(_STANDARD + "float", _FLOAT, list("-+0123456789."))


def dump_yaml_text(data) -> str:
    """Plain ``data`` as block YAML that :func:`parse_yaml` reads back to equal data."""
    return yaml.dump(data, Dumper=DataDumper, sort_keys=False, allow_unicode=True, width=100)


def _mark(node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_STANDARD):] if tag.startswith(_STANDARD) else tag


def _tag_message(tag: str) -> str:
    return (f"tag {_short_tag(tag)} is not allowed: experiment files hold plain data "
            "(strings, numbers, booleans, null, maps, lists)")


def parse_yaml(text: str, file: str = "<input>") -> Document:
    """Parse YAML ``text``; ``file`` names it in errors.

    Returns:
        a Document with plain data and (line, col) of every node.
    Raises:
        UserError: syntax errors (the first, at its line), and all duplicate keys,
            non-string keys and disallowed tags.
    """
    loader = DataLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        message = " ".join(x for x in (e.context, e.problem) if x)
        raise UserError([Problem(f"YAML syntax error: {message}", file=file,
                                 line=mark.line + 1 if mark else 0,
                                 col=mark.column + 1 if mark else 0)]) from None
    except yaml.YAMLError as e:
        raise UserError([Problem(f"YAML error: {e}", file=file)]) from None
    finally:
        loader.dispose()
    builder = _Builder(loader, file)
    data = builder.build(node, ()) if node is not None else None
    if builder.problems:
        raise UserError(builder.problems)
    return Document(data, builder.positions)


class _Builder:
    """Turns a composed node tree into plain data, collecting positions and problems."""

    def __init__(self, loader, file: str):
        self.loader, self.file = loader, file
        self.positions: dict[tuple, tuple[int, int]] = {}
        self.problems: list[Problem] = []
        self.count = 0

    def problem(self, message: str, path: tuple, node) -> None:
        self.problems.append(Problem(message, path, self.file, *_mark(node)))

    def build(self, node, path: tuple):
        self.count += 1
        if self.count > _MAX_NODES:
            raise UserError([Problem(f"too many nodes (over {_MAX_NODES}) after expanding aliases",
                                     path, self.file, *_mark(node))])
        self.positions[path] = _mark(node)
        if isinstance(node, ScalarNode):
            if node.tag not in _SCALAR_TAGS:
                self.problem(_tag_message(node.tag), path, node)
                return None
            try:
                return self.loader.construct_object(node, deep=True)
            except (yaml.YAMLError, ValueError) as e:
                self.problem(f"bad {_short_tag(node.tag)} value {node.value!r}: {e}", path, node)
                return None
        if isinstance(node, SequenceNode):
            if node.tag != _STANDARD + "seq":
                self.problem(_tag_message(node.tag), path, node)
                return None
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        if node.tag != _STANDARD + "map":
            self.problem(_tag_message(node.tag), path, node)
            return None
        return self.mapping(node, path)

    def mapping(self, node: MappingNode, path: tuple) -> dict:
        out: dict = {}
        first_line: dict = {}
        merged: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                # `<<: *base` copies the keys of an anchored map; keys written here win.
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for source in sources:
                    if not isinstance(source, MappingNode):
                        self.problem("'<<' merges maps only", path, source)
                        continue
                    for k, v in self.mapping(source, path).items():
                        merged.setdefault(k, v)
                continue
            key = self.build(key_node, path + ("<key>",))
            self.positions.pop(path + ("<key>",), None)
            if not isinstance(key, str):
                self.problem(f"key {key!r} must be a string", path, key_node)
                continue
            if key in first_line:
                self.problem(f"duplicate key '{key}' (first at line {first_line[key]})",
                             path + (key,), key_node)
                continue
            first_line[key] = _mark(key_node)[0]
            out[key] = self.build(value_node, path + (key,))
        for k, v in merged.items():
            out.setdefault(k, v)
        return out
