"""engine/check.py: the corpus entries that need shapes or data columns (`check: true` in
tests/bad/expected.yaml) fail `engine check` at their line; good files print their table."""

from pathlib import Path

import pytest
from rich.console import Console

from engine.check import check_file
from engine.errors import UserError
from engine.formats import parse

BAD = Path(__file__).resolve().parent / "bad"
EXPECTED = parse(BAD / "expected.yaml").data
CHECK_ENTRIES = sorted(n for n, e in EXPECTED.items() if e.get("check"))


def test_there_are_shape_and_column_entries():
    assert len(CHECK_ENTRIES) >= 8
    assert all((BAD / name).is_file() for name in CHECK_ENTRIES)


@pytest.mark.parametrize("name", CHECK_ENTRIES)
def test_check_rejects_at_the_line(name):
    expected = EXPECTED[name]
    with pytest.raises(UserError) as info:
        check_file(BAD / name, Console(file=open("/dev/null", "w")))
    lines = str(info.value).splitlines()
    where = f"{BAD / name}:{expected['line']}:"
    assert any(where in line and expected["contains"] in line for line in lines), lines


def test_check_prints_each_layers_shape_and_the_total(tmp_path):
    console = Console(record=True, width=120)
    root = Path(__file__).resolve().parent.parent
    net = check_file(root / "experiments" / "fraud.yaml", console)
    text = console.export_text()
    assert [info.out_shape for info in net.infos] == [(29,), (20,), (20,), (20,), (10,), (10,), (2,), (2,)]
    for fragment in ("linear-1", "600", "210", "22", "832", "dropout-1"):
        assert fragment in text
