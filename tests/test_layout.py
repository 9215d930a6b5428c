"""The package's floor plan holds: one owner for each concept, no cell kind outside the layers, small modules.

These read the source as text, like the checks of issue 11 ("Done when"), so
that a change that brings a second owner or an LSTM special case back fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "rnnbook"
SOURCES = sorted(PACKAGE.rglob("*.py"))


def definitions(pattern: str) -> list[str]:
    """The package files (relative paths) with a line matching ``pattern``."""
    return [str(p.relative_to(ROOT)) for p in SOURCES if re.search(pattern, p.read_text(encoding="utf-8"), re.M)]


def test_no_code_outside_the_layers_branches_on_the_cell_kind():
    kind = re.compile(r'"lstm"|isinstance\([^)]*(LSTM|GRU)')
    found = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for p in SOURCES
        if p.parent.name != "layers"
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
        if kind.search(line)
    ]
    assert found == [], "the cell kind leaks out of rnnbook/layers/:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("pattern", "owner"),
    [
        (r"^def one_hot\(", "rnnbook/data/encoding.py"),
        (r"^class Vocabulary\b", "rnnbook/data/encoding.py"),
        (r"^Params = ", "rnnbook/layers/base.py"),
        (r"^CELLS\b.*=", "rnnbook/layers/registry.py"),
        (r"^class TrainingDiverged\b", "rnnbook/training/loop.py"),
        (r"^def fit\(", "rnnbook/training/loop.py"),
        (r"^FORMAT_VERSION = ", "rnnbook/training/checkpoint.py"),
        (r"^def torch_state_dict\(", "rnnbook/training/torch_export.py"),  # the format's torch side, beside it
        (r"^DEFAULTS = ", "rnnbook/cli/parser.py"),
    ],
)
def test_one_owner_for_each_concept(pattern, owner):
    assert definitions(pattern) == [owner]


def test_the_command_line_reads_no_checkpoint_metadata_keys():
    # The checkpoint module owns the format: the CLI gets a RunRecord, never the raw metadata dict.
    for path in (PACKAGE / "cli").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"meta\[|meta\.get\(|\[\"(run|trainer|validation|elapsed|vocabulary)\"\]", text), path.name


@pytest.mark.parametrize("path", SOURCES + sorted((ROOT / "benchmarks").glob("*.py")), ids=lambda p: p.name)
def test_no_module_over_about_400_lines(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 430, f"{path.name}: split it by what it holds"
