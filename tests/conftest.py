"""Shared fixtures: PyTorch (when installed), the built book (once per session)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(config, items):
    """Send every test that needs the built book to one xdist worker, so the book is built once."""
    for item in items:
        if "built_book" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("book"))


@pytest.fixture(scope="session")
def torch():
    """The torch module, or skip: these tests compare rnnbook with torch.nn."""
    return pytest.importorskip(
        "torch",
        reason="PyTorch is not installed in this environment; install torch==2.13.0 (CPU) "
        "to compare rnnbook with torch.nn.RNN/LSTM/GRU",
    )


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> Path:
    """Build the whole book, from clean, with warnings as errors; return the HTML folder.

    Uses its own doctree and execution cache so that every chapter and every
    gallery script really runs.  Set RNNBOOK_BUILT_BOOK to the path of an
    existing build to skip the build (for iterating on browser tests).
    """
    existing = os.environ.get("RNNBOOK_BUILT_BOOK")
    if existing:
        return Path(existing)
    out = tmp_path_factory.mktemp("book")
    html = out / "html"
    cmd = [
        sys.executable, "-m", "sphinx", "-b", "html", str(ROOT), str(html),
        "-W", "--keep-going", "-n", "-q",
        "-d", str(out / "doctrees"),
        "-D", f"nb_execution_cache_path={out / 'jupyter_cache'}",
    ]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1500)
    if result.returncode != 0:
        pytest.fail(f"the book build failed (exit {result.returncode}):\n{result.stderr[-6000:]}")
    return html
