"""engine/formats: plain data, positions of every node, duplicates, tags, syntax errors."""

from __future__ import annotations

import pytest

from engine.errors import UserError
from engine.formats import parse, parse_text

LAYERS_YAML = """\
name: fraud
network:
  - [input, 29, 1, 1, {id: data}]
  - [dropout, 0.9]
"""
LAYERS_JSON = """\
{"name": "fraud",
 "network": [
   ["input", 29, 1, 1, {"id": "data"}],
   ["dropout", 0.9]]}
"""
LAYERS_EDN = """\
{:name "fraud"
 :network [[:input 29 1 1 :id :data]
           [:dropout 0.9]]}
"""


def problems(text: str, fmt: str):
    with pytest.raises(UserError) as info:
        parse_text(text, fmt, "x." + fmt)
    return info.value.problems


def test_yaml_positions():
    doc = parse_text(LAYERS_YAML, "yaml")
    assert doc.data == {"name": "fraud",
                        "network": [["input", 29, 1, 1, {"id": "data"}], ["dropout", 0.9]]}
    assert doc.positions[()] == (1, 1)
    assert doc.positions[("name",)] == (1, 7)
    assert doc.positions[("network", 1)] == (4, 5)
    assert doc.positions[("network", 1, 1)] == (4, 15)
    assert doc.positions[("network", 0, 4, "id")] == (3, 28)


def test_json_positions():
    doc = parse_text(LAYERS_JSON, "json")
    assert doc.data == {"name": "fraud",
                        "network": [["input", 29, 1, 1, {"id": "data"}], ["dropout", 0.9]]}
    assert doc.positions[("name",)] == (1, 10)
    assert doc.positions[("network", 1, 1)] == (4, 16)
    assert doc.positions[("network", 0, 4, "id")] == (3, 31)


def test_edn_keywords_become_strings_with_positions():
    doc = parse_text(LAYERS_EDN, "edn")
    assert doc.data == {"name": "fraud",
                        "network": [["input", 29, 1, 1, "id", "data"], ["dropout", 0.9]]}
    assert doc.positions[("name",)] == (1, 8)
    assert doc.positions[("network",)] == (2, 11)
    assert doc.positions[("network", 1, 1)] == (3, 22)
    assert doc.positions[("network", 0, 5)] == (2, 31)


def test_edn_forms():
    doc = parse_text('{:a :linear->relu :b nil :c [true false] :d (1 2) :e 2.5M :f "s" '
                     ':g #_ 3 4 :h {"k" -1}}', "edn")
    assert doc.data == {"a": "linear->relu", "b": None, "c": [True, False], "d": [1, 2],
                        "e": 2.5, "f": "s", "g": 4, "h": {"k": -1}}


@pytest.mark.parametrize("fmt", ["yaml", "json", "edn"])
def test_every_node_has_a_position(fmt):
    text = {"yaml": LAYERS_YAML, "json": LAYERS_JSON, "edn": LAYERS_EDN}[fmt]
    doc = parse_text(text, fmt)

    def paths(value, path=()):
        yield path
        if isinstance(value, dict):
            for k, v in value.items():
                yield from paths(v, path + (k,))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                yield from paths(v, path + (i,))
    assert set(paths(doc.data)) == set(doc.positions)


@pytest.mark.parametrize("fmt,text,line", [
    ("yaml", "a: 1\nb: 2\na: 3\n", 3),
    ("json", '{"a": 1,\n "b": 2,\n "a": 3}', 3),
    ("edn", "{:a 1\n :b 2\n :a 3}", 3),
])
def test_duplicate_keys_are_errors(fmt, text, line):
    [p] = problems(text, fmt)
    assert "duplicate key" in p.message and "first at line 1" in p.message
    assert p.line == line and p.path == ("a",)


def test_all_duplicates_are_listed():
    found = problems("a: 1\na: 2\nb: {c: 1, c: 2}\n", "yaml")
    assert [(p.path, p.line) for p in found] == [(("a",), 2), (("b", "c"), 3)]


@pytest.mark.parametrize("text,tag", [
    ("a: !!python/object/apply:os.system [echo hi]\n", "!!python/object/apply:os.system"),
    ("a: 1\nb: !foo 3\n", "!foo"),
    ("a: !!binary aGVsbG8=\n", "!!binary"),
    ("a: !!timestamp 2020-01-01\n", "!!timestamp"),
])
def test_yaml_custom_tags_are_rejected(text, tag):
    [p] = problems(text, "yaml")
    assert tag in p.message and "not allowed" in p.message
    assert p.line == text.count("\n", 0, text.index("!")) + 1


@pytest.mark.parametrize("text,what", [
    ('{:a #inst "2020-01-01"}', "#inst"),
    ('{:a #uuid "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"}', "#uuid"),
    ('{:a\n #foo/bar 3}', "#foo/bar"),
    ("{:a #{1 2}}", "set"),
    ("{:a b}", "symbol"),
])
def test_edn_tags_and_non_data_are_rejected(text, what):
    [p] = problems(text, "edn")
    assert what in p.message and p.path == ("a",)
    assert p.line == text.count("\n") + 1


def test_edn_tag_handlers_never_run():
    import edn_format
    calls = []
    edn_format.add_tag("boom", lambda v: calls.append(v))
    try:
        problems('{:a #boom "x"}', "edn")
    finally:
        edn_format.remove_tag("boom")
    assert calls == []


@pytest.mark.parametrize("fmt,text,line,col", [
    ("yaml", "a: 1\nb: [1, 2\n", 3, 1),
    ("yaml", "a: 1\n  b: 2\n", 2, 4),
    ("json", '{"a": 1,\n "b": }', 2, 7),
    ("json", '{"a": 1\n "b": 2}', 2, 2),
    ("edn", "{:a 1\n :b [1 2}", 2, 9),
    ("edn", "{:a 1\n :b}", 2, 2),
    ("edn", "{:a 1\n :b ~}", 2, 5),
])
def test_syntax_errors_give_line_and_column(fmt, text, line, col):
    [p] = problems(text, fmt)
    assert "syntax error" in p.message
    assert (p.line, p.col) == (line, col)
    assert str(p).startswith(f"x.{fmt}:{line}:{col}: ")


def test_yaml_floats_without_a_dot():
    assert parse_text("a: 1e-8\nb: 5e3\nc: 2020-01-01\n", "yaml").data == {
        "a": 1e-8, "b": 5000.0, "c": "2020-01-01"}


def test_yaml_aliases_and_merge_keys():
    doc = parse_text("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n", "yaml")
    assert doc.data["m"] == {"x": 1, "y": 3}


def test_yaml_alias_bomb_is_refused():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    with pytest.raises(UserError, match="too many nodes"):
        parse_text("\n".join(lines) + "\n", "yaml")


def test_unsupported_suffix_and_missing_file(tmp_path):
    (tmp_path / "x.toml").write_text("a = 1")
    with pytest.raises(UserError, match=r"unsupported file type '\.toml'.*\.yaml.*\.json.*\.edn"):
        parse(tmp_path / "x.toml")
    with pytest.raises(UserError, match="no such file"):
        parse(tmp_path / "missing.yaml")


def test_parse_reads_files(tmp_path):
    for fmt, text in [("yaml", LAYERS_YAML), ("json", LAYERS_JSON), ("edn", LAYERS_EDN)]:
        (tmp_path / f"x.{fmt}").write_text(text)
        assert parse(tmp_path / f"x.{fmt}").data["name"] == "fraud"
