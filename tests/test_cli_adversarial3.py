"""What a third adversarial user of the ``rnnbook`` command found (after test_cli_adversarial2.py).

Each test is one defect and failed before its fix: a time budget that lost the
run, a grading that could be made to hang or to print a traceback, and a
crafted checkpoint whose weights overflow.
"""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys

import numpy as np
import pytest
from test_cli import ROOT, SMALL, assert_one_line_error, rnnbook, trained_run  # noqa: F401 (fixtures)
from test_cli_adversarial2 import make_worksheet
from test_cli_reliability import finish, popen, step_of, wait_for_line

from rnnbook.cli.errors import terminal_text
from rnnbook.training import checkpoint


@pytest.mark.parametrize("minutes", ["1e308", "1e300"])
def test_a_huge_time_budget_trains_and_saves(minutes, text_file, tmp_path):
    # --minutes 1e308 is 6e309 seconds, infinite: the first progress line ("... left") raised
    # "OverflowError: cannot convert float infinity to integer" and the run ended unsaved; --minutes 1e300
    # printed a 300-digit number of minutes left.
    out = tmp_path / "r"
    proc = popen("train", text_file, "--out", out, "--minutes", minutes, *SMALL)
    try:
        line = wait_for_line(proc, "step 5 ")
        proc.send_signal(signal.SIGTERM)
    finally:
        stdout, stderr = finish(proc)
    assert proc.returncode == 143, (stdout, stderr)
    assert len(line) < 200 and "left" in line, line
    assert step_of(out) >= 5


@pytest.fixture(scope="module")
def worksheet(tmp_path_factory):
    return make_worksheet(tmp_path_factory.mktemp("sheet"), "4")


@pytest.mark.parametrize(
    "change, fragment",
    [(lambda q: q.pop("id"), "id"), (lambda q: q.pop("answer"), "answer"),
     (lambda q: q.__setitem__("answer", 10**400), "answer")],
    ids=["no-id", "no-answer", "answer-beyond-floats"],
)
def test_check_with_a_crafted_key_is_one_line(change, fragment, worksheet, tmp_path):
    # KeyError: 'id' / KeyError: 'answer' / OverflowError: int too large to convert to float, as tracebacks.
    key, answers = worksheet
    data = json.loads(key.read_text(encoding="utf-8"))
    change(data["questions"][0])
    crafted = tmp_path / "key.json"
    crafted.write_text(json.dumps(data), encoding="utf-8")
    assert_one_line_error(rnnbook("check", crafted, answers), "key", fragment)


@pytest.mark.parametrize("answer", ["1" + " " * 2**20 + "a", "9" * 5000], ids=["a-megabyte-of-spaces", "5000-digits"])
def test_check_refuses_a_long_shape_answer_at_once(answer, worksheet, tmp_path):
    # The shape pattern backtracked over runs of spaces, quadratically: "1", a megabyte of spaces and "a" kept
    # 'rnnbook check' busy for hours (20,000 spaces took 3 s); 5000 digits gave Python's "Exceeds the limit
    # (4300 digits) for integer string conversion ...".
    key, _ = worksheet
    shape_id = next(q["id"] for q in json.loads(key.read_text(encoding="utf-8"))["questions"] if q["type"] == "shape")
    answers = tmp_path / "answers.json"  # (a CSV field stops at 128 KiB; JSON has no such limit)
    answers.write_text(json.dumps({shape_id: answer}), encoding="utf-8")
    result = rnnbook("check", key, answers, timeout=300)  # minutes: only the hang is caught
    assert_one_line_error(result, shape_id)
    assert len(result.stderr) < 300, result.stderr[:300]


def test_sample_from_weights_that_overflow_is_one_line(trained_run, tmp_path):  # noqa: F811 (fixture)
    # Finite float32 weights near the largest float32 passed every check of the checkpoint; sampling printed
    # numpy's "RuntimeWarning: overflow encountered in matmul" and its source line, then
    # "rnnbook: error: scores must be finite, found -inf at index (0,)".
    arrays, meta = checkpoint.load(trained_run)
    arrays = {k: v.copy() for k, v in arrays.items()}
    arrays["param/rnn.bias_ih_l0"][:] = 10
    arrays["param/readout.weight"][:] = 3e38
    arrays["param/readout.weight"][1] = -3e38
    assert all(np.isfinite(v).all() for v in arrays.values())
    checkpoint.save(tmp_path / "r", arrays, meta)
    assert_one_line_error(rnnbook("sample", tmp_path / "r", "--length", "5"), "weights", "too large")


def _on_a_terminal(*args) -> bytes:
    """Run the command with its standard output on a pseudo-terminal; what the terminal received."""
    controller, terminal = pty.openpty()
    env = dict(os.environ, OMP_NUM_THREADS="1")
    with subprocess.Popen([sys.executable, "-m", "rnnbook", *map(str, args)], cwd=ROOT, env=env,
                          stdout=terminal, stderr=subprocess.PIPE) as proc:
        os.close(terminal)
        received = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the command closed the terminal
                break
            if not chunk:
                break
            received += chunk
        proc.wait(timeout=900)
    os.close(controller)
    assert proc.returncode == 0, proc.stderr.read()
    return received


def test_sample_does_not_drive_the_terminal(trained_run, tmp_path):  # noqa: F811 (fixture)
    # A checkpoint whose vocabulary holds ESC (or a text with colour codes) had 'rnnbook sample' write escape
    # sequences to the terminal as they came: a crafted run could clear the screen, retitle the window or
    # set the clipboard (OSC 52).  On a terminal they are now shown escaped; into a pipe the text stays as it is.
    arrays, meta = checkpoint.load(trained_run)
    arrays = {k: v.copy() for k, v in arrays.items()}
    vocabulary = "\x1b" + meta["vocabulary"][1:]
    meta = meta | {"vocabulary": vocabulary}
    arrays["param/readout.bias"][:] = -50
    arrays["param/readout.bias"][0] = 50  # always ESC next
    checkpoint.save(tmp_path / "r", arrays, meta)
    shown = _on_a_terminal("sample", tmp_path / "r", "--length", "20")
    assert b"\x1b" not in shown and shown.count(b"\\x1b") == 20, shown
    piped = rnnbook("sample", tmp_path / "r", "--length", "20")
    assert piped.returncode == 0 and piped.stdout.count("\x1b") == 20, piped


def test_terminal_text_keeps_line_ends_and_tabs():
    # (Windows line ends must still read as line ends on a terminal; a lone carriage return overwrites a line.)
    assert terminal_text("a\r\nb\tc\rd\x1b[2J\x07\x9b") == "a\r\nb\tc\\rd\\x1b[2J\\x07\\x9b"
    assert terminal_text("héllo ☃ 😀") == "héllo ☃ 😀"
