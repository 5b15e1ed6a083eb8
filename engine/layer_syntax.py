"""Cortex's vector form of a layer -> the map form, carrying each value's file position.

``[linear->relu, 20]`` and ``[input, 29, 1, 1, {id: data}]`` (YAML/JSON) or
``[:input 29 1 1 :id :data]`` (EDN: after parsing, keywords are strings, so the options are
``"id", "data"`` pairs) become ``{kind: linear->relu, num-output: 20}`` and
``{kind: input, width: 29, height: 1, channels: 1, id: data}``. Positional arguments are numbers
in Cortex's order (the ``x-positional`` list of each kind in ``schemas/layer.schema.json``); the
first non-number starts the options: a trailing map, or name/value pairs. Map-form layers pass
through unchanged (the schema checks them).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from engine.errors import Problem, did_you_mean

SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "layer.schema.json"


@lru_cache(maxsize=None)
def positional_names() -> dict[str, tuple[str, ...]]:
    """Layer kind -> the names of its positional arguments, in Cortex's order (from the schema)."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    out = {}
    for branch in schema["allOf"]:
        kind = branch["if"]["properties"]["kind"]["const"]
        out[kind] = tuple(branch["then"].get("x-positional", ()))
    return out


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def normalize_layer(layer: Any, path: tuple = ()) -> tuple[Any, dict[tuple, tuple], list[Problem]]:
    """One layer in map form.

    Args:
        layer: a map-form layer (returned as a plain copy) or a vector-form list.
        path: the layer's path in the spec, e.g. ``("network", 2)``, for problems.
    Returns:
        ``(layer, moves, problems)``: ``moves`` maps each vector element's sub-path, e.g.
        ``(1,)``, to its map key path, e.g. ``("probability",)`` (``None`` to drop it);
        ``problems`` is empty when the layer could be read (the result may still be invalid
        for the schema). With problems the layer is returned unchanged.
    """
    if isinstance(layer, Mapping):
        return dict(layer), {}, []
    if not isinstance(layer, list):
        return layer, {}, []  # the schema says what a layer must be
    problems: list[Problem] = []
    known = positional_names()
    if not layer or not isinstance(layer[0], str):
        return layer, {}, [Problem("a vector layer starts with its kind, e.g. [linear, 20]",
                                   path + ((0,) if layer else ()))]
    kind = layer[0]
    if kind not in known:
        return layer, {}, [Problem(f"unknown layer '{kind}'{did_you_mean(kind, known)}",
                                   path + (0,))]
    names = known[kind]
    out: dict = {"kind": kind}
    moves: dict[tuple, tuple | None] = {(0,): ("kind",)}
    i = 1
    while i < len(layer) and _is_number(layer[i]):
        if i - 1 >= len(names):
            takes = f"{len(names)} ({', '.join(names)})" if names else "none"
            problems.append(Problem(
                f"too many positional arguments: {kind} takes {takes}, got {i - 1 + sum(1 for x in layer[i:] if _is_number(x))}",
                path + (i,)))
            return layer, {}, problems
        out[names[i - 1]] = layer[i]
        moves[(i,)] = (names[i - 1],)
        i += 1

    def option(key: str, value: Any, at: tuple, key_at: tuple | None) -> None:
        if key in out:
            problems.append(Problem(f"'{key}' is given twice", path + at))
        out[key] = value
        moves[at] = (key,)
        if key_at is not None:
            moves[key_at] = None

    while i < len(layer):
        item = layer[i]
        if isinstance(item, Mapping) and i == len(layer) - 1:
            for key, value in item.items():
                option(key, value, (i, key), None)
            moves.setdefault((i,), None)
            i += 1
        elif isinstance(item, str):
            if i + 1 >= len(layer):
                problems.append(Problem(
                    f"odd keyword list: option '{item}' has no value", path + (i,)))
                break
            option(item, layer[i + 1], (i + 1,), (i,))
            i += 2
        elif _is_number(item):
            problems.append(Problem(
                f"positional argument {item} after the options; Cortex's order for {kind} is "
                f"[{', '.join([kind, *names]) if names else kind}, options...]", path + (i,)))
            i += 1
        else:
            problems.append(Problem(
                f"expected an option name (e.g. id) or a map of options, got {json.dumps(item)}",
                path + (i,)))
            i += 1
    if problems:
        return layer, {}, problems
    # a trailing options map is moved key by key: ("network", i, 4, "id") -> ("network", i, "id")
    return out, moves, []


def normalize_network(data: Any, positions: Mapping[tuple, Any]
                      ) -> tuple[Any, dict[tuple, Any], list[Problem]]:
    """Normalise every layer of ``data["network"]`` to map form.

    Args:
        data: the experiment (plain data); not modified.
        positions: path tuple -> position, for ``data``.
    Returns:
        ``(data, positions, problems)``: a copy of ``data`` whose network layers are maps,
        positions re-keyed to follow the values (``("network", 2, 1)`` ->
        ``("network", 2, "probability")``), and the problems of layers that could not be read
        (those layers are left as written).
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("network"), list):
        return data, dict(positions), []
    network, problems = [], []
    positions = dict(positions)
    for i, layer in enumerate(data["network"]):
        base = ("network", i)
        new, moves, found = normalize_layer(layer, base)
        network.append(new)
        problems += found
        if not moves:
            continue
        # longest sub-paths first so a trailing map's keys move before the map itself is dropped
        for sub in sorted(moves, key=len, reverse=True):
            old, target = base + sub, moves[sub]
            n = len(old)
            for p in [p for p in positions if p[:n] == old]:
                pos = positions.pop(p)
                if target is not None:
                    positions[base + target + p[n:]] = pos
    return {**data, "network": network}, positions, problems
