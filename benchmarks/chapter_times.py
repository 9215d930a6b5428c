"""How long each of the book's notebooks takes to execute on its own, one after another.

``python benchmarks/chapter_times.py [NAME ...]`` (from the repository's root)
runs every notebook the build runs (or those whose file name contains a NAME),
each in its own kernel, exactly as the build does (book/_ext/rnnbook_execute.py;
one BLAS thread, as conf.py sets), but one at a time, and prints each one's
wall-clock seconds (its kernel is another process, so this process's CPU time
would not count it). The build itself runs two at a time, so the times its log
prints include waiting for the other; these are the times the budget of issue 13
(at most 30 s a chapter on an idle machine) is about. Nothing is cached or
written.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import rnnbook_execute  # noqa: E402


def _conf_value(name: str) -> object:
    """A literal setting of conf.py (importing conf.py would touch the gallery's run records)."""
    tree = ast.parse((ROOT / "conf.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise KeyError(f"conf.py sets no {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", metavar="NAME", help="run only the notebooks whose file name contains NAME")
    args = parser.parse_args(argv)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # as conf.py pins them
        os.environ[variable] = "1"
    config = SimpleNamespace(myst_enable_extensions=_conf_value("myst_enable_extensions"))
    app = SimpleNamespace(srcdir=str(ROOT), config=config)
    failed = 0
    for path in rnnbook_execute._notebooks(app):
        if args.only and not any(name in path.name for name in args.only):
            continue
        notebook = rnnbook_execute._read(app, path)
        start = time.perf_counter()
        result = rnnbook_execute._execute(notebook, path, _conf_value("nb_execution_timeout"))
        error = result if isinstance(result, Exception) else result.err
        failed += error is not None
        note = f"  FAILED: {str(error).splitlines()[0][:100]}" if error is not None else ""
        print(f"{path.relative_to(ROOT).as_posix():40s} {time.perf_counter() - start:6.1f} s{note}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
