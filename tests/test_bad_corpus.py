"""The bad-file corpus: every file in tests/bad/ fails to load with its expected message, at its
expected line (tests/bad/expected.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import UserError
from engine.formats import parse
from engine.spec import load

BAD = Path(__file__).resolve().parent / "bad"
EXPECTED = parse(BAD / "expected.yaml").data


def test_corpus_is_complete():
    files = {p.name for p in BAD.iterdir() if p.is_file() and p.name != "expected.yaml"}
    mine = {name for name in EXPECTED if (BAD / name).is_file()
            and not EXPECTED[name].get("check")}
    assert files - set(EXPECTED) == set(), "files without an entry in expected.yaml"
    assert len(mine) >= 40


@pytest.mark.parametrize("name", sorted(n for n in EXPECTED if (BAD / n).is_file()
                                         and not EXPECTED[n].get("check")))
def test_bad_file_is_rejected_at_its_line(name):
    expected = EXPECTED[name]
    path = BAD / name
    with pytest.raises(UserError) as info:
        load(path, expected.get("set", ()))
    text = str(info.value)
    file = BAD / expected["file"] if "file" in expected else path
    where = f"{file}:{expected['line']}:" if expected["line"] else f"{file}: "
    assert where in text, text
    assert expected["contains"] in text, text
    # the expected problem is on the line the entry names, not merely somewhere in the output
    assert any(where in line and expected["contains"] in line for line in text.splitlines()), text
