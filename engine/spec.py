"""Load an experiment file into a validated, fully resolved, frozen spec.

``load(path, overrides)``: parse (YAML, JSON or EDN) -> resolve ``extends`` -> normalise layers
to map form -> apply ``--set`` overrides -> validate against ``schemas/experiment.schema.json``
(every problem reported, each at its file and line) -> fill every default from the schemas ->
freeze.

``extends: base.yaml`` names a file (relative to this one) that this file overrides: maps are
merged key by key, anything else (lists included: a child's ``network`` replaces the parent's)
is replaced, and a key set to ``null`` in the child is removed, so its default applies (e.g.
``dataset: {augmentation: null}`` turns the parent's augmentation off). Chains may be any
length; cycles are errors. Relative paths in the spec (dataset ``path``) are resolved against
``Loaded.base_dir``, the directory of the file given to ``load``.

Resolved spec layout: every key of the schemas is present (``null`` where the default is
"none"), except a layer's ``id`` when none was written. ``max-pooling``'s ``stride`` defaults to
its ``kind``'s ``kernel-dim``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Sequence

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from engine.errors import Position, Problem, SpecError, UserError, did_you_mean, locate
from engine.formats import parse, parse_text
from engine.formats.yaml_format import dump_yaml_text
from engine.frozen import freeze, thaw
from engine.layer_syntax import normalize_network

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
ROOT_SCHEMA = "experiment.schema.json"


@dataclass(frozen=True)
class Loaded:
    """A loaded experiment.

    spec: the resolved, frozen spec (MappingProxyType / tuples).
    positions: path tuple -> :class:`engine.errors.Position` ((line, col) plus its file).
    file: the file given to :func:`load`, as a string.
    base_dir: the directory relative paths in the spec are resolved against.
    """

    spec: Mapping[str, Any]
    positions: Mapping[tuple, tuple[int, int]]
    file: str
    base_dir: Path


# ---------------------------------------------------------------------------------------------
# schemas

@lru_cache(maxsize=None)
def schemas() -> dict[str, dict]:
    """Every schema in ``schemas/`` by its ``$id`` (e.g. ``"layer.schema.json"``)."""
    out = {}
    if not (SCHEMA_DIR / ROOT_SCHEMA).is_file():  # a non-editable install leaves them behind
        raise RuntimeError(f"the JSON Schemas are not at {SCHEMA_DIR}: engine reads them from its "
                           "source tree; install it with `pip install -e .`")
    for f in sorted(SCHEMA_DIR.glob("*.schema.json")):
        schema = json.loads(f.read_text(encoding="utf-8"))
        out[schema["$id"]] = schema
    return out


@lru_cache(maxsize=None)
def registry() -> Registry:
    """A ``referencing.Registry`` holding every schema under its ``$id``."""
    return Registry().with_resources(
        (uri, Resource.from_contents(s)) for uri, s in schemas().items())


@lru_cache(maxsize=None)
def validator() -> Draft202012Validator:
    """The Draft 2020-12 validator of a whole (normalised) experiment."""
    return Draft202012Validator(schemas()[ROOT_SCHEMA], registry=registry())


def schema_names() -> dict[str, set[str]]:
    """The names each registry must hold, read from the schema files.

    Returns:
        ``{"layers", "initializers", "optimizers", "schedules", "losses", "datasets",
        "samplings", "augmentations", "metrics"}`` -> set of names. ``losses`` leaves out
        ``auto`` (resolved by the trainer, not a loss); ``initializers`` keeps it (the
        initialiser registry has an ``auto`` entry).
    """
    s = schemas()
    layer, opt, ds = s["layer.schema.json"], s["optimizer.schema.json"], s["dataset.schema.json"]
    training, evaluation = s["training.schema.json"], s["evaluation.schema.json"]
    return {
        "layers": set(layer["properties"]["kind"]["enum"]),
        "initializers": set(layer["$defs"]["initializer"]["enum"]),
        "optimizers": set(opt["properties"]["kind"]["enum"]),
        "schedules": set(opt["$defs"]["schedule"]["properties"]["kind"]["enum"]),
        "losses": set(training["properties"]["loss"]["enum"]) - {"auto"},
        "datasets": set(ds["properties"]["kind"]["enum"]),
        "samplings": set(training["properties"]["sampling"]["enum"]),
        "augmentations": set(ds["$defs"]["augmentation"]["properties"]["kind"]["enum"]),
        "metrics": set(evaluation["properties"]["metric"]["enum"]),
    }


# ---------------------------------------------------------------------------------------------
# validation

_TYPE_NAMES = {"integer": "an integer", "number": "a number", "string": "a string",
               "boolean": "true or false", "object": "a map", "array": "a list", "null": "null"}
# What an unknown `kind` (or other enum value) is called, by the key that holds it.
_NOUNS = {"optimizer": "optimizer", "schedule": "schedule", "dataset": "dataset kind",
          "augmentation": "augmentation", "init": "initialiser", "sampling": "sampling",
          "loss": "loss", "metric": "metric", "rule": "augmentation rule"}


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, str):
        return f"string '{value}'"
    if isinstance(value, Mapping):
        return "a map"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


def _fmt_num(x: Any) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


def _subject(path: tuple, root: Any) -> str:
    """How a message names the field: ``dropout probability`` for layer fields, else the key."""
    key = next((p for p in reversed(path) if isinstance(p, str)), "value")
    if len(path) == 3 and path[0] == "network" and isinstance(path[1], int):
        try:
            kind = root["network"][path[1]].get("kind")
        except (AttributeError, IndexError, KeyError, TypeError):
            kind = None
        if isinstance(kind, str):
            return f"{kind} {key}"
    return key


def _enum_noun(path: tuple) -> str:
    if not path:
        return "value"
    last = path[-1]
    if last == "kind" and len(path) >= 2:
        if path[0] == "network" and len(path) == 3:
            return "layer"
        parent = next((p for p in reversed(path[:-1]) if isinstance(p, str)), "")
        return _NOUNS.get(parent, f"{parent} kind")
    if isinstance(last, int):
        return "value"
    return _NOUNS.get(last, f"{last} value")


def _kind_noun(path: tuple) -> str:
    """What the map at ``path`` is: "layer", "dataset", "optimizer", "schedule", ..."""
    return _enum_noun(path + ("kind",)).removesuffix(" kind")


def _messages(error, root: Any) -> Iterable[tuple[tuple, str]]:
    """(path, readable message) pairs for one jsonschema error."""
    path = tuple(error.absolute_path)
    v, inst, val = error.validator, error.instance, error.validator_value
    subject = _subject(path, root)
    if v == "type":
        types = [val] if isinstance(val, str) else list(val)
        yield path, (f"expected {' or '.join(_TYPE_NAMES.get(t, t) for t in types)}, "
                     f"got {_describe(inst)}")
    elif v == "enum":
        noun = _enum_noun(path)
        names = [str(x) for x in val]
        if isinstance(inst, str):
            hint = did_you_mean(inst, names) or f"; known: {', '.join(names)}"
            yield path, f"unknown {noun} '{inst}'{hint}"
        else:
            yield path, f"expected one of {', '.join(names)}, got {_describe(inst)}"
    elif v == "additionalProperties":
        props = list(error.schema.get("properties", {}))
        for key in inst:
            if key not in props:
                hint = did_you_mean(key, props) or (
                    f"; known keys: {', '.join(props)}" if props else "")
                where = f" for a {inst['kind']} {_kind_noun(path)}" if isinstance(
                    inst.get("kind"), str) else ""
                yield path + (key,), f"unknown key '{key}'{where}{hint}"
    elif v == "required":
        for key in val:
            if isinstance(inst, Mapping) and key not in inst:
                what = f" (a {inst['kind']} {_kind_noun(path)} needs it)" if isinstance(
                    inst.get("kind"), str) else ""
                yield path, f"missing required key '{key}'{what}"
    elif v == "minimum":
        yield path, f"{subject} {_fmt_num(inst)} is less than the minimum of {_fmt_num(val)}"
    elif v == "maximum":
        yield path, f"{subject} {_fmt_num(inst)} is greater than the maximum of {_fmt_num(val)}"
    elif v == "exclusiveMinimum":
        yield path, f"{subject} {_fmt_num(inst)} must be greater than {_fmt_num(val)}"
    elif v == "exclusiveMaximum":
        hint = ""
        if path[-1:] in (("test-size",), ("validation-size",)):
            hint = " (a fraction), or a whole number of rows"
        yield path, f"{subject} {_fmt_num(inst)} must be less than {_fmt_num(val)}{hint}"
    elif v == "pattern":
        if path == ("name",):
            yield path, (f"name '{inst}' may only contain letters, digits, '_', '.' and '-' "
                         "(it names run folders)")
        else:
            yield path, f"{subject} '{inst}' does not match {val}"
    elif v == "minItems":
        if path == ("network",):
            yield path, "network needs at least one layer"
        else:
            yield path, f"{subject} needs at least {val} item(s)"
    elif v == "minLength":
        yield path, f"{subject} must not be empty"
    else:
        yield path, error.message


def _validate(data: Any, skip: Sequence[tuple] = ()) -> list[Problem]:
    """Schema problems of a normalised experiment, paths under ``skip`` left out."""
    if not isinstance(data, Mapping):
        return [Problem(f"an experiment is a map of keys (name, dataset, network, ...), "
                        f"got {_describe(data)}")]
    seen, out = set(), []
    errors = sorted(validator().iter_errors(data), key=lambda e: (
        [str(p) for p in e.absolute_path], len(e.relative_schema_path)))
    for error in errors:
        for path, message in _messages(error, data):
            if any(path[:len(s)] == s for s in skip):
                continue
            # one type error per field is enough (several branches may check the type)
            key = (path, "type") if error.validator == "type" else (path, message)
            if key in seen:
                continue
            seen.add(key)
            out.append(Problem(message, path))
    return out


def validate_data(data: Any) -> list[Problem]:
    """Problems of an in-memory experiment (no ``extends``), without file positions.

    Args:
        data: plain data as a file would hold it (layers in map or vector form).
    Returns:
        the problems; an empty list when ``data`` is a valid experiment.
    """
    data, _, problems = normalize_network(data, {})
    return problems + _validate(data, [p.path[:2] for p in problems])


# ---------------------------------------------------------------------------------------------
# defaults

def _applicable(schema: Any, instance: Any, resolver) -> list[tuple[dict, Any]]:
    """The (sub)schemas that apply to ``instance``: itself, its $ref, allOf, the taken if-branch."""
    if not isinstance(schema, dict):
        return []
    out = [(schema, resolver)]
    if "$ref" in schema:
        resolved = resolver.lookup(schema["$ref"])
        out += _applicable(resolved.contents, instance, resolved.resolver)
    for sub in schema.get("allOf", ()):
        out += _applicable(sub, instance, resolver)
    if "if" in schema:
        taken = Draft202012Validator(schema["if"]).is_valid(instance)
        branch = schema.get("then" if taken else "else")
        out += _applicable(branch, instance, resolver)
    return out


def _fill(schema: dict, instance: Any, resolver) -> Any:
    """A copy of ``instance`` with every missing ``default`` of ``schema`` filled in, nested."""
    if isinstance(instance, Mapping):
        out = dict(instance)
        # a filled `kind` default can switch on another if/then branch with more defaults
        for _ in range(4):
            apps = _applicable(schema, out, resolver)
            added = False
            for sub, _r in apps:
                for key, prop in sub.get("properties", {}).items():
                    if key not in out and isinstance(prop, dict) and "default" in prop:
                        out[key] = copy.deepcopy(prop["default"])
                        added = True
            if not added:
                break
        order: list[str] = []
        for sub, _r in apps:
            order += [k for k in sub.get("properties", {}) if k not in order]
        for key in out:
            for sub, r in apps:
                prop = sub.get("properties", {}).get(key)
                if isinstance(prop, dict):
                    out[key] = _fill(prop, out[key], r)
        rank = {k: i for i, k in enumerate(order)}
        return {k: out[k] for k in sorted(out, key=lambda k: rank.get(k, len(rank)))}
    if isinstance(instance, list):
        apps = _applicable(schema, instance, resolver)
        out = list(instance)
        for sub, r in apps:
            if isinstance(sub.get("items"), dict):
                out = [_fill(sub["items"], item, r) for item in out]
        return out
    return instance


def fill_defaults(data: Mapping) -> dict:
    """A copy of a valid, normalised experiment with every default of the schemas filled in.

    Args:
        data: an experiment that :func:`validate_data` accepts (vector-form layers are
            normalised first).
    Returns:
        the fully resolved spec as plain data.
    """
    data, _, _ = normalize_network(data, {})
    resolver = registry().resolver(base_uri=ROOT_SCHEMA)
    out = _fill(schemas()[ROOT_SCHEMA], data, resolver)
    for layer in out.get("network", ()):
        if layer.get("kind") == "max-pooling" and "stride" not in layer:
            layer["stride"] = layer["kernel-dim"]  # Cortex: pooling windows do not overlap
    out.pop("extends", None)
    return out


# ---------------------------------------------------------------------------------------------
# extends

def _subtree(positions: Mapping, path: tuple) -> dict:
    n = len(path)
    return {p: v for p, v in positions.items() if p[:n] == path}


def _merge(base: dict, over: dict, path: tuple, positions: dict, over_positions: Mapping) -> dict:
    """Deep-merge ``over`` onto ``base``; ``positions`` (of base) is updated in place."""
    out = dict(base)
    if path in over_positions:
        positions[path] = over_positions[path]
    for key, value in over.items():
        p = path + (key,)
        if value is None:
            out.pop(key, None)
            for q in _subtree(positions, p):
                del positions[q]
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = _merge(base[key], value, p, positions, over_positions)
        else:
            out[key] = value
            for q in _subtree(positions, p):
                del positions[q]
            positions.update(_subtree(over_positions, p))
    return out


def _read(path: Path, chain: tuple[Path, ...] = ()) -> tuple[Any, dict]:
    """Data and positions of ``path`` with its ``extends`` chain merged in."""
    doc = parse(path)
    file = str(path)
    positions = {p: Position(line, col, file) for p, (line, col) in doc.positions.items()}
    data = doc.data
    if not isinstance(data, dict) or "extends" not in data:
        return data, positions
    ext = data["extends"]
    where = positions.get(("extends",), Position(0, 0, file))
    if not isinstance(ext, str) or not ext:
        raise UserError([Problem(f"extends names a file, got {_describe(ext)}", ("extends",),
                                 file, *where)])
    parent = path.parent / ext
    here = path.resolve()
    if parent.resolve() in chain + (here,):
        names = " -> ".join(str(p.name) for p in chain + (here, parent.resolve()))
        raise UserError([Problem(f"extends cycle: {names}", ("extends",), file, *where)])
    if not parent.is_file():
        raise UserError([Problem(f"extends: no such file '{ext}' (looked for {parent})",
                                 ("extends",), file, *where)])
    base, base_positions = _read(parent, chain + (here,))
    if not isinstance(base, dict):
        raise UserError([Problem(f"extends: '{ext}' does not hold a map of keys",
                                 ("extends",), file, *where)])
    child = {k: v for k, v in data.items() if k != "extends"}
    merged_positions = dict(base_positions)
    merged = _merge(base, child, (), merged_positions, positions)
    return merged, merged_positions


# ---------------------------------------------------------------------------------------------
# overrides

_PATH_PART = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_\-<>]*)|\[(\d+)\]|(\.)")


def parse_override(text: str) -> tuple[tuple, Any]:
    """``"training.batch-size=64"`` -> ``(("training", "batch-size"), 64)``.

    The value is read as a YAML scalar or flow collection (``[dropout, 0.5]``, ``{kind: sgd}``).

    Raises:
        UserError: no ``=``, a malformed path, or a value that is not plain YAML.
    """
    where = f"--set {text}"
    if "=" not in text:
        raise UserError([Problem("expected PATH=VALUE, e.g. training.batch-size=64", file=where)])
    key, raw = text.split("=", 1)
    path: list = []
    i, expect_key = 0, True
    while i < len(key):
        m = _PATH_PART.match(key, i)
        if not m or (m.group(3) and expect_key) or (m.group(1) and not expect_key):
            raise UserError([Problem(f"malformed path '{key}' (write e.g. network[2].probability)",
                                     file=where)])
        if m.group(1):
            path.append(m.group(1))
            expect_key = False
        elif m.group(2):
            if not path:
                raise UserError([Problem(f"malformed path '{key}'", file=where)])
            path.append(int(m.group(2)))
        else:
            expect_key = True
        i = m.end()
    if not path or expect_key:
        raise UserError([Problem(f"malformed path '{key}' (write e.g. network[2].probability)",
                                 file=where)])
    value = parse_text(raw, "yaml", where).data if raw.strip() else None
    return tuple(path), value


def _apply_override(data: dict, path: tuple, value: Any, where: str) -> dict:
    """A copy of ``data`` with ``value`` at ``path``; intermediate maps are created."""
    root = copy.deepcopy(data)
    node = root
    for n, part in enumerate(path):
        last = n == len(path) - 1
        here = path[:n]
        if isinstance(part, int):
            if not isinstance(node, list):
                raise UserError([Problem(f"{_fmt_path(here)} is not a list, so it has no "
                                         f"[{part}]", path, where)])
            if part >= len(node):
                raise UserError([Problem(f"unknown path: {_fmt_path(here)} has {len(node)} "
                                         f"items, so [{part}] does not exist", path, where)])
        else:
            if not isinstance(node, dict):
                raise UserError([Problem(f"unknown path: {_fmt_path(here) or 'the experiment'} "
                                         f"is {_describe(node)}, not a map with '{part}'",
                                         path, where)])
            if not last and part not in node:
                node[part] = [] if isinstance(path[n + 1], int) else {}
        if last:
            node[part] = value
        else:
            node = node[part]
    return root


def _fmt_path(path: tuple) -> str:
    from engine.errors import format_path
    return format_path(path) if path else ""


# ---------------------------------------------------------------------------------------------
# load

def load(path: str | Path, overrides: Sequence[str] = ()) -> Loaded:
    """Load, validate and resolve an experiment file.

    Args:
        path: a .yaml/.yml, .json or .edn experiment file.
        overrides: ``--set`` strings, ``"training.batch-size=64"``, ``"network[2].probability=0.8"``,
            applied in order after ``extends``.
    Returns:
        a :class:`Loaded` whose ``spec`` is fully resolved (every default filled) and frozen.
    Raises:
        UserError: unreadable or malformed files, bad ``extends``, bad ``--set`` strings.
        SpecError: every schema problem, each located at its file and line (``--set``
            problems name the ``--set`` instead).
    """
    path = Path(path)
    data, positions = _read(path)
    data, positions, problems = normalize_network(data, positions)
    set_paths: list[tuple[tuple, str]] = []
    if isinstance(data, dict):
        for text in overrides:
            key, value = parse_override(text)
            data = _apply_override(data, key, value, f"--set {text}")
            set_paths.append((key, f"--set {text}"))
        if overrides:
            data, positions, more = normalize_network(data, positions)
            problems += [p for p in more if p not in problems]
    bad_layers = [p.path[:2] for p in problems]
    problems = problems + _validate(data, bad_layers)
    if problems:
        raise SpecError(_locate(problems, positions, str(path), set_paths))
    spec = fill_defaults(data)
    return Loaded(freeze(spec), MappingProxyType(positions), str(path), path.parent)


def _locate(problems: Sequence[Problem], positions: Mapping, file: str,
            set_paths: Sequence[tuple[tuple, str]]) -> list[Problem]:
    out = []
    for p in problems:
        setter = next((w for k, w in reversed(set_paths) if p.path[:len(k)] == k), None)
        if setter:
            out.append(Problem(p.message, p.path, setter))
            continue
        pos = locate(positions, p.path)
        out.append(Problem(p.message, p.path, getattr(pos, "file", "") or file, *pos))
    # in reading order: this file first, then inherited files, then --set problems
    return sorted(out, key=lambda p: (p.file.startswith("--set"), p.file != file, p.file,
                                      p.line, p.col))


# ---------------------------------------------------------------------------------------------
# output

def spec_hash(spec: Mapping) -> str:
    """SHA-256 hex digest of the spec's canonical JSON (sorted keys, compact separators)."""
    text = json.dumps(thaw(spec), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def dump_yaml(spec: Mapping) -> str:
    """The resolved spec as YAML text (loads back to the same spec)."""
    return dump_yaml_text(thaw(spec))
