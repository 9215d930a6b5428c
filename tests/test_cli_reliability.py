"""The ``rnnbook`` command as an adversarial user runs it (issue 12): it never loses a run and never crashes.

Each test reproduces one defect class of the issue in a subprocess, the way
tests/test_cli.py runs the command.  Sizes are small (``--hidden 16 --seq-len 16
--batch 4``) so that every training run takes a second or two.
"""

from __future__ import annotations

import errno
import os
import random
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from test_cli import ROOT, SMALL, assert_one_line_error, default_signals, rnnbook

from rnnbook.training import checkpoint

#: A refusal must not come near the memory a real allocation of the request would take.
REFUSAL_MAX_RSS = 100 * 2**20


def popen(*args: str, env: dict | None = None, **kwargs) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS="1", **(env or {}))
    kwargs.setdefault("preexec_fn", default_signals)  # as from a terminal, even in a background or nohup run
    return subprocess.Popen(
        [sys.executable, "-m", "rnnbook", *map(str, args)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs,
    )


def finish(proc: subprocess.Popen) -> tuple[str, str]:
    """Wait for a process started by :func:`popen` (minutes: only a hang is caught); its stdout and stderr."""
    try:
        return proc.communicate(timeout=900)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def wait_for_line(proc: subprocess.Popen, prefix: str) -> str:
    for line in proc.stdout:
        if line.startswith(prefix):
            return line
    raise AssertionError(f"the process ended before printing a line starting with {prefix!r}: {finish(proc)}")


#: Runs the command, then writes the peak resident memory of this process (VmHWM, in kB) to the file argv[1].
#: VmHWM belongs to the program after exec; getrusage's maxrss would also count the forked copy of pytest.
_MEASURED = (
    "import sys\n"
    "from rnnbook.cli import main\n"
    "status = main(sys.argv[2:])\n"
    "peak = [line for line in open('/proc/self/status') if line.startswith('VmHWM:')][0].split()[1]\n"
    "open(sys.argv[1], 'w').write(peak)\n"
    "sys.exit(status)\n"
)


def run_measured(*args: str) -> tuple[subprocess.CompletedProcess, int]:
    """Run the command; the result and the peak resident memory of the process, in bytes (-1 if not measured)."""
    with tempfile.TemporaryDirectory() as scratch:
        peak_file = Path(scratch) / "peak"
        result = subprocess.run(
            [sys.executable, "-c", _MEASURED, str(peak_file), *map(str, args)],
            cwd=ROOT, env=dict(os.environ, OMP_NUM_THREADS="1"), capture_output=True, text=True, timeout=900,
        )
        peak = int(peak_file.read_text()) * 1024 if peak_file.exists() else -1
    return result, peak


def step_of(run: Path) -> int:
    return checkpoint.load(run)[1]["trainer"]["step"]


@pytest.fixture(scope="module")
def trained_run(text_file, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "run"
    result = rnnbook("train", text_file, "--out", out, "--steps", "40", "--lr", "0.02", *SMALL)
    assert result.returncode == 0, result.stderr
    return out


# --- 1. resuming a --minutes run ---------------------------------------------------------------


def test_resume_of_a_minutes_run_without_a_new_budget(text_file, tmp_path):
    out = tmp_path / "r"
    first = rnnbook("train", text_file, "--out", out, "--minutes", "0.02", *SMALL)
    assert first.returncode == 0, first.stderr
    trained = step_of(out)
    again = rnnbook("train", "--resume", "--out", out, "--print-every", "10")
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr
    assert step_of(out) >= trained


# --- 2. an unusable --out, found before the first step -----------------------------------------


@pytest.mark.parametrize("kind", ["regular-file", "under-a-file", "under-proc", "empty"])
def test_unusable_out_is_refused_before_training(kind, text_file, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    out = {"regular-file": blocker, "under-a-file": blocker / "run", "under-proc": "/proc/rnnbook-run",
           "empty": ""}[kind]
    result = rnnbook("train", text_file, "--out", out, "--steps", "30", *SMALL)
    assert_one_line_error(result, "--out")
    assert not any(line.startswith("step ") for line in result.stdout.splitlines()), result.stdout
    assert blocker.read_text() == "not a folder\n"


# --- 3. output trouble never stops training ----------------------------------------------------


def test_closed_stdout_keeps_training_and_saves(text_file, tmp_path):
    proc = popen("train", text_file, "--out", tmp_path / "r", "--steps", "60", *SMALL, "--print-every", "1")
    proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    err = proc.stderr.read()
    proc.wait(timeout=900)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert step_of(tmp_path / "r") == 60


def test_ascii_terminal_keeps_training(tmp_path):
    text = tmp_path / "accents.txt"
    text.write_text("déjà vu à la café über naïve Ærø façade " * 120, encoding="utf-8")
    env = {"PYTHONIOENCODING": "ascii"}
    proc = popen("train", text, "--out", tmp_path / "r", "--steps", "20", "--sample-every", "10", *SMALL, env=env)
    out, err = finish(proc)
    assert proc.returncode == 0, err
    assert "--- sample at step 20 ---" in out and "?" in out  # what ASCII cannot show is replaced
    assert step_of(tmp_path / "r") == 20
    for command in (["info", tmp_path / "r"], ["sample", tmp_path / "r", "--length", "50", "--prime", "déjà"]):
        proc = popen(*command, env=env)
        out, err = finish(proc)
        assert proc.returncode == 0, err
        assert "?" in out


# --- 5. huge inputs are refused before they are read or allocated -------------------------------


def test_huge_text_file_is_refused_without_reading_it(tmp_path):
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as handle:
        handle.truncate(3 * 2**30)  # sparse: 3 GiB that take no room on disk
    result, rss = run_measured("train", huge, "--out", tmp_path / "r", "--steps", "3", *SMALL)
    assert_one_line_error(result, "huge.txt", "GiB")
    assert 0 < rss < REFUSAL_MAX_RSS, rss


def test_huge_model_is_refused_as_one_line(text_file, tmp_path):
    result, rss = run_measured("train", text_file, "--out", tmp_path / "r", "--steps", "3", *SMALL,
                               "--hidden", "100000")
    assert_one_line_error(result, "--hidden 100000", "GiB")
    assert 0 < rss < REFUSAL_MAX_RSS, rss


def test_memory_error_is_one_line(text_file, tmp_path, monkeypatch, capsys):
    from rnnbook import cli
    from rnnbook.models.charmodel import CharModel

    def out_of_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(CharModel, "__init__", out_of_memory)
    status = cli.main(["train", str(text_file), "--out", str(tmp_path / "r"), "--steps", "3", *SMALL])
    err = capsys.readouterr().err
    assert status != 0
    assert err.count("\n") == 1 and err.startswith("rnnbook: error: ") and "memory" in err, err


# --- 6. killed saves ---------------------------------------------------------------------------


def test_kill_9_during_saves_leaves_a_loadable_checkpoint_and_no_temp_files(text_file, tmp_path):
    out = tmp_path / "r"
    assert rnnbook("train", text_file, "--out", out, "--steps", "3", *SMALL).returncode == 0
    lucky = random.Random(12)
    for round_ in range(6):
        proc = popen("train", "--resume", "--out", out, "--steps", "100000", "--checkpoint-every", "1",
                     "--print-every", "1")
        for _ in range(2 + round_):
            wait_for_line(proc, "step ")
        os.sched_yield()
        if lucky.random() < 0.5:
            os.sched_yield()
        proc.kill()  # SIGKILL: no handler runs, often in the middle of a save
        finish(proc)
        assert step_of(out) >= 3  # the checkpoint always stays loadable
    # What a save killed half-way leaves behind, whether or not the loop above hit one:
    (out / ".checkpoint-killed.npz.tmp").write_bytes(b"PK\x03\x04 half a checkpoint")
    stopped = step_of(out)
    result = rnnbook("train", "--resume", "--out", out, "--steps", stopped + 2)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".checkpoint-")) == []
    assert step_of(out) == stopped + 2


# --- 7. two trainers on one --out --------------------------------------------------------------


def test_second_trainer_on_one_out_is_refused_naming_the_first(text_file, tmp_path):
    out = tmp_path / "r"
    first = popen("train", text_file, "--out", out, "--steps", "100000", "--checkpoint-every", "100000",
                  *SMALL, "--print-every", "1")
    try:
        wait_for_line(first, "step ")
        second = rnnbook("train", text_file, "--out", out, "--steps", "5", *SMALL)
        assert_one_line_error(second, str(first.pid), "--out")
        resumed = rnnbook("train", "--resume", "--out", out, "--steps", "5")
        assert_one_line_error(resumed, str(first.pid))
    finally:
        first.send_signal(signal.SIGINT)
        out_text, err = finish(first)
    assert first.returncode == 130, err
    assert step_of(out) >= 1
    # the lock dies with its process: the run can be continued
    assert rnnbook("train", "--resume", "--out", out, "--steps", step_of(out) + 1).returncode == 0


# --- 8. sampling at any positive temperature ---------------------------------------------------


def greedy(model, vocab, length: int) -> str:
    """The likeliest character at every step, after a newline."""
    logits, _, _, state = model.run(vocab.encode("\n")[:, None])
    out = []
    for _ in range(length):
        nxt = int(np.argmax(logits[-1, 0]))
        out.append(nxt)
        logits, _, _, state = model.run(np.array([[nxt]]), state)
    return vocab.decode(out)


def test_tiny_temperature_is_greedy(trained_run):
    from rnnbook.models.charmodel import sample

    model, vocab, _ = checkpoint.load_model(trained_run)
    expected = greedy(model, vocab, 60)
    for temperature in (1e-310, 5e-324, 1e-30):  # RuntimeWarnings are errors in the tests
        assert sample(model, vocab, 60, temperature=temperature, rng=3) == expected, temperature
    result = rnnbook("sample", trained_run, "--temperature", "1e-310", "--length", "60", "--seed", "5")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert result.stdout == expected + "\n"


def test_huge_temperature_is_finite(trained_run):
    from rnnbook.models.charmodel import sample

    model, vocab, _ = checkpoint.load_model(trained_run)
    text = sample(model, vocab, 200, temperature=1e300, rng=3)
    assert len(set(text)) > 3  # near-uniform draws, not one character


# --- 10. export to targets that cannot be written ----------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["directory", "full-device", "under-proc", "json-blocked"])
def test_export_to_an_unwritable_target(kind, trained_run, tmp_path, torch):
    target = {"directory": tmp_path, "full-device": Path("/dev/full"), "under-proc": Path("/proc/rnnbook.pt"),
              "json-blocked": tmp_path / "m.pt"}[kind]
    if kind == "json-blocked":
        (tmp_path / "m.pt.json").mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    result = rnnbook("export", trained_run, "--torch", target)
    assert_one_line_error(result, str(target))
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing left behind, not even the .pt
    assert not Path("/dev/full.json").exists()


# --- 11. the smaller defects ------------------------------------------------------------------


def test_diverging_run_warns_once(text_file, tmp_path):
    # Adam with lr 1e6 stays finite but lands far above the uniform guess ln V
    result = rnnbook("train", text_file, "--out", tmp_path / "r", "--steps", "80", "--lr", "1e6", *SMALL)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rnnbook: warning: "), result.stderr
    assert "uniform" in lines[0] and "--lr" in lines[0]


def test_healthy_run_does_not_warn(text_file, tmp_path):
    result = rnnbook("train", text_file, "--out", tmp_path / "r", "--steps", "80", "--lr", "0.02", *SMALL)
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_sigterm_saves_like_ctrl_c(text_file, tmp_path):
    proc = popen("train", text_file, "--out", tmp_path / "r", "--steps", "100000", "--checkpoint-every", "100000",
                 *SMALL, "--print-every", "1")
    try:
        wait_for_line(proc, "step 8/")
        proc.send_signal(signal.SIGTERM)
    finally:
        out, err = finish(proc)
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    assert "terminated at step" in out
    assert step_of(tmp_path / "r") >= 8


@pytest.mark.parametrize("command", ["train", "sample"])
def test_negative_seed_names_the_option(command, trained_run, text_file, tmp_path):
    args = ["train", text_file, "--out", tmp_path / "r", *SMALL] if command == "train" else ["sample", trained_run]
    assert_one_line_error(rnnbook(*args, "--seed", "-1"), "--seed", "-1")


def test_storage_error_names_the_file(text_file, tmp_path, monkeypatch, capsys):
    from rnnbook import cli

    def disk_full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    out = tmp_path / "r"
    status = cli.main(["train", str(text_file), "--out", str(out), "--steps", "3", *SMALL])
    err = capsys.readouterr().err
    assert status == 1
    assert err.count("\n") == 1 and err.startswith("rnnbook: error: "), err
    assert str(out / checkpoint.FILENAME) in err and os.strerror(errno.ENOSPC) in err, err
    # (a folder the failed run created and saved nothing in is removed altogether)
    assert not out.exists() or not [p.name for p in out.iterdir() if p.name.startswith(".checkpoint-")]


def test_byte_order_mark_is_not_a_character(text_file, tmp_path):
    with_bom = tmp_path / "bom.txt"
    with_bom.write_bytes(b"\xef\xbb\xbf" + text_file.read_bytes())
    result = rnnbook("train", with_bom, "--out", tmp_path / "r", "--steps", "2", *SMALL)
    assert result.returncode == 0, result.stderr
    vocabulary = checkpoint.load(tmp_path / "r")[1]["vocabulary"]
    assert vocabulary == "".join(sorted(set(text_file.read_text(encoding="utf-8"))))


def test_files_get_the_umask_mode(text_file, tmp_path):
    out = tmp_path / "r"
    proc = popen("train", text_file, "--out", out, "--steps", "2", *SMALL, preexec_fn=lambda: os.umask(0o022))
    _, err = finish(proc)
    assert proc.returncode == 0, err
    assert (out / checkpoint.FILENAME).stat().st_mode & 0o777 == 0o644
    assert out.stat().st_mode & 0o777 == 0o755
