"""The whole book builds with warnings as errors, and its pages hold executed output."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book" / "chapters").glob("*.md"))
GALLERY = sorted((ROOT / "gallery").glob("*/plot_*.py"))

pytestmark = pytest.mark.book


def text_of(page: Path) -> str:
    return re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8"))


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_page_has_executed_outputs(built_book, chapter):
    page = built_book / "book" / "chapters" / f"{chapter.stem}.html"
    assert page.exists(), f"no page for {chapter.name}"
    html = page.read_text(encoding="utf-8")
    # Executed code cells leave output areas; figures glued from code are PNGs.
    assert "cell_output" in html, f"{page.name} shows no executed output"
    assert re.search(r'<img[^>]+src="[^"]+\.png"', html), f"{page.name} has no figure drawn by code"
    # A glue key that failed to resolve would leave the role text behind.
    assert "{glue:" not in html


@pytest.mark.parametrize("script", GALLERY, ids=lambda p: p.stem)
def test_gallery_page_has_its_figure(built_book, script):
    part = script.parent.name
    page = built_book / "examples" / part / f"{script.stem}.html"
    assert page.exists(), f"no gallery page for {script}"
    html = page.read_text(encoding="utf-8")
    assert f"sphx_glr_{script.stem}_001.png" in html, f"{page.name} shows no figure"


def test_index_bibliography_and_api(built_book):
    index = text_of(built_book / "book" / "index.html")
    assert "Recurrent Neural Networks, Explained" in index
    refs = text_of(built_book / "book" / "references.html")
    for author in ["Elman", "Bengio", "Hochreiter", "Pascanu", "Olah", "Karpathy", "Goodfellow"]:
        assert author in refs, f"{author} missing from the bibliography"
    api = text_of(built_book / "book" / "api.html")
    for name in ["unroll", "backprop_through_time", "clip_gradients", "numerical_gradient"]:
        assert name in api, f"{name} missing from the API reference"
    assert (built_book / "examples" / "index.html").exists()
    assert (built_book / "index.html").exists(), "no landing page at the root of the site"


def test_the_build_pins_one_blas_thread_whatever_the_reader_sets():
    """Two builds print the same numbers on any machine only if the thread count is fixed.

    A float sum is ordered differently for another BLAS thread count, and a long
    training run can turn the last bits into another outcome; conf.py pins one
    thread for the chapters' kernels and the in-process gallery scripts.
    """
    probe = (
        "import os, runpy; runpy.run_path('conf.py');"
        "print(os.environ['OMP_NUM_THREADS'], os.environ['OPENBLAS_NUM_THREADS'])"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2"}
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "1"]
