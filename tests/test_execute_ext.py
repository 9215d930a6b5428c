"""The build's parallel execution (book/_ext/rnnbook_execute.py) stores what myst-nb will look up.

The extension executes the notebooks before Sphinx reads them and stores them in
myst-nb's jupyter-cache.  That saves time only if it reads each notebook exactly
as myst-nb does when Sphinx reads it: the cache keys on the code cells and the
kernel.  A reader that differed would make every chapter run twice.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

myst_nb = pytest.importorskip("myst_nb", reason="myst-nb comes with the book extra")
import rnnbook_execute  # noqa: E402
from jupyter_cache.cache.main import JupyterCacheBase  # noqa: E402
from myst_nb.core.config import NbParserConfig  # noqa: E402
from myst_nb.core.read import create_nb_reader  # noqa: E402
from myst_parser.config.main import MdParserConfig  # noqa: E402

MYST_EXTENSIONS = {"dollarmath", "amsmath", "colon_fence", "deflist", "substitution"}
APP = SimpleNamespace(srcdir=str(ROOT), config=SimpleNamespace(myst_enable_extensions=MYST_EXTENSIONS))
NOTEBOOKS = rnnbook_execute._notebooks(APP)


def test_finds_every_chapter_and_the_performance_page():
    names = {path.relative_to(ROOT).as_posix() for path in NOTEBOOKS}
    chapters = {p.relative_to(ROOT).as_posix() for p in (ROOT / "book" / "chapters").glob("*.md")}
    assert chapters <= names and "book/performance.md" in names
    assert "book/glossary.md" not in names  # plain Markdown pages are not notebooks


def test_conf_enables_the_same_myst_extensions():
    line = next(
        line for line in (ROOT / "conf.py").read_text(encoding="utf-8").splitlines()
        if line.startswith("myst_enable_extensions")
    )
    assert set(re.findall(r'"(\w+)"', line)) == MYST_EXTENSIONS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_reads_each_notebook_as_myst_nb_does(path, tmp_path):
    text = path.read_text(encoding="utf-8")
    md_config = MdParserConfig(enable_extensions=MYST_EXTENSIONS)
    theirs = create_nb_reader(str(path), md_config, NbParserConfig(), text).read(text)
    ours = rnnbook_execute._read(APP, path)
    cache = JupyterCacheBase(str(tmp_path))
    assert cache.create_hashed_notebook(ours)[1] == cache.create_hashed_notebook(theirs)[1]
    assert sum(cell.cell_type == "code" for cell in ours.cells) > 0


def test_starts_every_chapter_not_in_the_cache_but_not_the_pages_that_run_every_time(tmp_path, monkeypatch):
    monkeypatch.setattr(rnnbook_execute, "_execute", lambda notebook, path, timeout: (path, timeout))  # runs nothing
    config = SimpleNamespace(
        myst_enable_extensions=MYST_EXTENSIONS, nb_execution_mode="cache",
        nb_execution_cache_path=str(tmp_path), nb_execution_timeout=300,
    )
    app = SimpleNamespace(srcdir=str(ROOT), config=config)
    rnnbook_execute.start(app, config)  # an empty cache: everything is missing
    started = {path.relative_to(ROOT).as_posix() for path in app.rnnbook_executions}
    chapters = {p.relative_to(ROOT).as_posix() for p in (ROOT / "book" / "chapters").glob("*.md")}
    assert started == chapters | {"book/performance.md"}  # teachers.md runs at every read (execution_mode: force)
    # The stub returns at once: the timeout only catches a hang.
    results = {path: future.result(timeout=600) for path, future in app.rnnbook_executions.items()}
    assert all(result == (path, 300) for path, result in results.items())


def test_stores_what_ran_through_and_leaves_failures_to_myst_nb(tmp_path):
    from concurrent.futures import Future

    from jupyter_cache import get_cache

    chain, why = ROOT / "book" / "chapters" / "chain.md", ROOT / "book" / "chapters" / "why-memory.md"
    ran, failed, died = Future(), Future(), Future()
    ran.set_result(SimpleNamespace(nb=rnnbook_execute._read(APP, chain), err=None, time=1.5))
    failed.set_result(SimpleNamespace(nb=rnnbook_execute._read(APP, why), err=RuntimeError("cell 3"), time=0.1))
    died.set_result(RuntimeError("the kernel died"))
    config = SimpleNamespace(nb_execution_cache_path=str(tmp_path))
    app = SimpleNamespace(srcdir=str(ROOT), config=config,
                          rnnbook_executions={chain: ran, why: failed, ROOT / "book" / "performance.md": died})
    rnnbook_execute.store(app, None, [])
    cache = get_cache(str(tmp_path))
    assert cache.match_cache_notebook(rnnbook_execute._read(APP, chain)).data["execution_seconds"] == 1.5
    with pytest.raises(KeyError):  # myst-nb finds nothing, runs the chapter itself and reports its error
        cache.match_cache_notebook(rnnbook_execute._read(APP, why))
    assert len(cache.list_cache_records()) == 1 and app.rnnbook_executions == {}


def test_chapter_times_reads_the_builds_settings_from_conf_without_importing_it():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import chapter_times

    assert set(chapter_times._conf_value("myst_enable_extensions")) == MYST_EXTENSIONS
    assert chapter_times._conf_value("nb_execution_timeout") == 300
    with pytest.raises(KeyError, match="no nb_nothing"):
        chapter_times._conf_value("nb_nothing")
