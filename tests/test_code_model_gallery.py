"""The gallery script of the longer run finds the committed weights as a reader runs it, or says why not.

tests/test_gallery.py runs every script by its path from a folder outside the
repository. This script also reads ``book/trained/code-lstm``, so it must find
the repository from the folder it is run in when it has no path of its own
(pasted into a session, ``exec``), and fail with one line, not a traceback,
where there is no repository to find.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "gallery" / "text" / "plot_code_model.py"


def run_pasted(cwd: Path) -> subprocess.CompletedProcess:
    """Run the script's text with ``python -c`` (no script path in sys.argv) in ``cwd``."""
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    code = f"exec(compile(open({str(SCRIPT)!r}).read(), 'plot_code_model.py', 'exec'))"
    # The timeout only catches a hang.
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def test_pasted_script_finds_the_weights_from_a_subfolder_of_the_repository():
    result = run_pasted(ROOT / "book" / "chapters")
    assert result.returncode == 0, result.stderr[-3000:]
    # the chapter's three samples, each with its share of compiling lines and of spaces
    lines = [line for line in result.stdout.splitlines() if line.startswith("sample ")]
    assert [line.split(":")[0] for line in lines] == ["sample 1", "sample 2", "sample 3"], result.stdout[-2000:]
    assert all("lines compile on their own" in line and "in a row" in line for line in lines), lines


def test_pasted_script_outside_the_repository_names_what_it_expected(tmp_path):
    result = run_pasted(tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"expected book/trained/code-lstm in {tmp_path.resolve()} or a folder above; "
        "run this script from the rnnbook repository"
    ], result.stderr
