"""Execute the book's notebooks two at a time, beside the gallery, before Sphinx reads them.

myst-nb executes a notebook when Sphinx reads it, and Sphinx reads documents one
after another (``-j`` hands whole alphabetical chunks to each process, which on
this book puts every chapter in the same chunk).  On a two-core machine that
leaves a core idle for most of the build.  This extension fills myst-nb's own
execution cache first:

1. at ``config-inited`` it reads every MyST notebook under ``book/`` the way
   myst-nb does, asks the jupyter-cache whether its code cells were executed
   already, and starts the missing ones in a pool of worker threads, largest
   first (each notebook runs in its own kernel process, so the threads only
   wait);
2. sphinx-gallery then runs its scripts in the main process meanwhile;
3. at ``env-before-read-docs`` it waits for the pool and stores each executed
   notebook in the cache, exactly as myst-nb would.  When Sphinx reads a
   chapter, myst-nb finds it in the cache and does not execute it again.

A notebook that fails is not stored: myst-nb then executes it itself while
reading and reports the error as usual.  Nothing about what a notebook computes
changes: the same code runs in the same kind of kernel, with the same working
directory and timeout, and the results are stored under the same key.
"""

from __future__ import annotations

import os
import queue
import threading
from concurrent.futures import Future
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)

#: How many notebooks run at once: one kernel per core of a two-core laptop.
WORKERS = 2


def _notebooks(app) -> list[Path]:
    """The MyST notebooks of the book, the largest file first (roughly the longest to run)."""
    from myst_nb.core.read import is_myst_markdown_notebook

    found = []
    for path in Path(app.srcdir, "book").rglob("*.md"):
        if "_build" in path.parts:
            continue
        if is_myst_markdown_notebook(path.read_text(encoding="utf-8")):
            found.append(path)
    return sorted(found, key=lambda p: (-p.stat().st_size, str(p)))


def _read(app, path: Path):
    """The notebook myst-nb makes of ``path`` (code cells and metadata are what the cache keys on)."""
    from myst_nb.core.read import read_myst_markdown_notebook
    from myst_parser.config.main import MdParserConfig

    config = MdParserConfig(enable_extensions=set(app.config.myst_enable_extensions))
    return read_myst_markdown_notebook(
        path.read_text(encoding="utf-8"), config=config, add_source_map=True, path=path
    )


def _execute(notebook, path: Path, timeout: int):
    """Run one notebook in its own kernel, in its folder; return jupyter-cache's result or the exception."""
    from jupyter_cache.executors.utils import single_nb_execution

    try:
        return single_nb_execution(notebook, cwd=str(path.parent), timeout=timeout, allow_errors=False)
    except Exception as exc:  # a kernel that died: myst-nb runs the notebook again and reports it
        return exc


def start(app, config) -> None:
    """Start executing every notebook that the cache does not hold yet."""
    app.rnnbook_executions = {}
    if config.nb_execution_mode != "cache":
        return
    from jupyter_cache import get_cache

    cache = get_cache(config.nb_execution_cache_path)
    todo = []
    for path in _notebooks(app):
        notebook = _read(app, path)
        if notebook.metadata.get("mystnb", {}).get("execution_mode", "cache") != "cache":
            continue  # a page that runs every time it is read (the teachers page) is left to myst-nb
        try:
            cache.match_cache_notebook(notebook)
        except KeyError:
            todo.append((path, notebook))
    if not todo:
        return
    logger.info(f"executing {len(todo)} notebooks, {WORKERS} at a time, beside the gallery")
    app.rnnbook_executions = _run_in_background(todo, config.nb_execution_timeout)


def _run_in_background(todo: list, timeout: int) -> dict[Path, Future]:
    """Start :data:`WORKERS` daemon threads that execute ``todo`` in order; a future per notebook.

    Daemon threads, not a ``ThreadPoolExecutor``: when the build stops early
    (Ctrl-C, an error), Python does not wait for the queued notebooks, and
    each kernel ends with its parent process.
    """
    futures = {path: Future() for path, _ in todo}
    tasks: queue.SimpleQueue = queue.SimpleQueue()
    for task in todo:
        tasks.put(task)

    def work() -> None:
        while True:
            try:
                path, notebook = tasks.get_nowait()
            except queue.Empty:
                return
            if futures[path].set_running_or_notify_cancel():
                futures[path].set_result(_execute(notebook, path, timeout))

    for k in range(min(WORKERS, len(todo))):
        threading.Thread(target=work, name=f"rnnbook-notebook-{k}", daemon=True).start()
    return futures


def store(app, env, docnames) -> None:
    """Wait for the notebooks and put each one that ran through into myst-nb's cache."""
    executions: dict[Path, Future] = getattr(app, "rnnbook_executions", {})
    if not executions:
        return
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(app.config.nb_execution_cache_path)
    for path, future in executions.items():
        result = future.result()
        name = os.path.relpath(path, app.srcdir)
        if isinstance(result, Exception) or result.err is not None:
            logger.info(f"{name}: failed in the pool; myst-nb runs it again and reports the error")
            continue
        record = cache.add_nb_to_project(str(path), read_data={"type": "plugin", "name": "myst_nb_md"})
        cache.cache_notebook_bundle(
            CacheBundleIn(result.nb, record.uri, data={"execution_seconds": result.time}),
            check_validity=False,
            overwrite=True,
        )
        logger.info(f"{name}: executed in {result.time:.2f} seconds [rnnbook_execute]")
    app.rnnbook_executions = {}


def setup(app):
    app.connect("config-inited", start, priority=900)  # after conf.py has set the cache path
    app.connect("env-before-read-docs", store)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
