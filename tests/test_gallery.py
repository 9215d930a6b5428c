"""Every gallery script runs by hand, as a reader runs it, and draws its figure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "gallery").glob("*/plot_*.py"))


def test_there_are_scripts():
    assert SCRIPTS, "the gallery has no plot_*.py scripts"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_script_runs_by_hand_and_draws(script, tmp_path):
    env = dict(os.environ)
    env["MPLBACKEND"] = "module://_save_figures_backend"
    env["RNNBOOK_FIGURE_DIR"] = str(tmp_path)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), env.get("PYTHONPATH", "")])
    env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = "1"  # as in the book build (conf.py)
    # The timeout only catches a hang: a busy machine may run a 20 s script for minutes.
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1800
    )
    assert result.returncode == 0, f"{script.name} failed:\n{result.stderr[-3000:]}"
    assert list(tmp_path.glob("figure_*.png")), f"{script.name} drew no figure"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_script_page_names_its_chapter(script):
    docstring = script.read_text(encoding="utf-8").split('"""')[1]
    assert ":ref:`" in docstring, f"{script.name} does not link to its chapter"
