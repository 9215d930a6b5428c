"""Shared fixtures: PyTorch (when installed), the built book (once per session)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def torch():
    """The torch module, or skip: these tests compare rnnbook with torch.nn."""
    return pytest.importorskip(
        "torch",
        reason="PyTorch is not installed in this environment; install torch==2.13.0 (CPU) "
        "to compare rnnbook with torch.nn.RNN/LSTM/GRU",
    )


@pytest.fixture(scope="module")
def text_file(tmp_path_factory) -> Path:
    """About 6000 characters of made-up sentences over a small alphabet (for the command's tests)."""
    rng = np.random.default_rng(0)
    words = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran", "to", "log", "and", "slept"]
    lines = [" ".join(rng.choice(words, size=rng.integers(3, 9))) + "." for _ in range(300)]
    path = tmp_path_factory.mktemp("text") / "words.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def book_build_command(out: Path) -> list[str]:
    """Build the whole book, warnings as errors, with its own doctrees (every page read afresh).

    The chapters' execution cache and the gallery's run records are the ones
    ``make html`` uses (see conf.py): a chapter or script runs again only when
    it or the package changed, so after ``make html`` this build executes
    nothing, and a build here leaves ``make html`` nothing to execute.
    """
    return [
        sys.executable, "-m", "sphinx", "-b", "html", str(ROOT), str(out / "html"),
        "-W", "--keep-going", "-n", "-q",
        "-d", str(out / "doctrees"),
    ]  # fmt: skip


def start_book_build(out: Path) -> subprocess.Popen:
    """Start the build in the background; it writes its exit status to out/exit when done."""
    out.mkdir(parents=True, exist_ok=True)
    runner = "import subprocess, sys; r = subprocess.run(sys.argv[2:]); open(sys.argv[1], 'w').write(str(r.returncode))"
    with open(out / "log", "w") as log:
        return subprocess.Popen(
            [sys.executable, "-c", runner, str(out / "exit"), *book_build_command(out)],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        )


def pytest_configure(config):
    """On a full run (no paths given), start building the book at once, in the background.

    The build is the longest test by far; started here, it runs while the
    pytest-xdist workers get on with everything else, and the ``built_book``
    fixture only waits for it.  Runs of a few files build on demand instead.
    """
    if os.environ.get("PYTEST_XDIST_WORKER") or os.environ.get("RNNBOOK_BUILT_BOOK"):
        return
    if config.args_source != pytest.Config.ArgsSource.TESTPATHS or config.option.collectonly:
        return
    out = Path(tempfile.mkdtemp(prefix="rnnbook-book-"))
    config._rnnbook_book_build = start_book_build(out)
    os.environ["RNNBOOK_BOOK_BUILD"] = str(out)  # the workers inherit it


def pytest_collection_modifyitems(config, items):
    """Run the tests that need the built book last, so the workers are busy while it builds."""
    items.sort(key=lambda item: "built_book" in getattr(item, "fixturenames", ()))


def pytest_unconfigure(config):
    build = getattr(config, "_rnnbook_book_build", None)
    if build is not None:
        if build.poll() is None:
            build.kill()
            build.wait()
        shutil.rmtree(os.environ["RNNBOOK_BOOK_BUILD"], ignore_errors=True)


@pytest.fixture(scope="session")
def built_book() -> Path:
    """The whole book, built from clean with warnings as errors; the path of its HTML folder.

    Every chapter and every gallery script really runs (own doctrees, own
    execution cache).  Set RNNBOOK_BUILT_BOOK to an existing build's HTML folder
    to skip the build (for iterating on browser tests).
    """
    existing = os.environ.get("RNNBOOK_BUILT_BOOK")
    if existing:
        return Path(existing)
    background = os.environ.get("RNNBOOK_BOOK_BUILD")
    if background:
        out = Path(background)
    else:
        out = Path(tempfile.mkdtemp(prefix="rnnbook-book-"))
        start_book_build(out)
        os.environ["RNNBOOK_BOOK_BUILD"] = str(out)
    deadline = time.monotonic() + 3 * 3600  # catches a hang only, never a slow machine
    while not (out / "exit").exists():
        if time.monotonic() > deadline:
            pytest.fail(f"the book build did not finish in three hours; its log: {out / 'log'}")
        time.sleep(2)
    status = (out / "exit").read_text()
    if status != "0":
        pytest.fail(f"the book build failed (exit {status}):\n{(out / 'log').read_text()[-6000:]}")
    return out / "html"
