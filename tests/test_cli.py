"""The ``rnnbook`` command end to end, run as a reader runs it: ``python -m rnnbook ...`` in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnnbook.layers.registry import CELLS
from rnnbook.training import checkpoint

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--hidden", "16", "--seq-len", "16", "--batch", "4", "--print-every", "5"]


def rnnbook(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run the command; the timeout only catches a hang (a busy machine may be slow)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", COLUMNS="250")  # wide help text, so phrases are not wrapped
    return subprocess.run(
        [sys.executable, "-m", "rnnbook", *map(str, args)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )


def default_signals() -> None:
    """Run in a child before it starts: SIGINT (Ctrl-C) and SIGHUP act as on a terminal.

    A test run started as a background job (``make test &``) ignores SIGINT, one
    started with ``nohup`` ignores SIGHUP, every child inherits that, and the
    trainer rightly keeps an ignored signal ignored; the tests that send these
    signals test the terminal's case.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("rnnbook: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def trained_run(text_file, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "run"
    result = rnnbook("train", text_file, "--out", out, "--steps", "40", "--sample-every", "20", "--lr", "0.02", *SMALL)
    assert result.returncode == 0, result.stderr
    return out


def load_arrays(run: Path) -> dict[str, np.ndarray]:
    return checkpoint.load(run)[0]


def test_train_prints_progress_and_saves(trained_run, text_file):
    arrays, meta = checkpoint.load(trained_run)
    assert meta["trainer"]["step"] == 40 and meta["model"] == "rnn"
    assert len(arrays["losses"]) == 40
    # training works: the last losses are well below the uniform guess ln(V)
    assert np.mean(arrays["losses"][-5:]) < 0.8 * np.log(len(meta["vocabulary"]))
    val_steps = [step for step, _ in meta["validation"]]
    assert val_steps == list(range(5, 41, 5))


def test_progress_line_and_sample(text_file, tmp_path):
    result = rnnbook("train", text_file, "--out", tmp_path / "r", "--steps", "10", "--sample-every", "10", *SMALL)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    progress = [line for line in lines if line.startswith("step 10/10")]
    assert progress and "train " in progress[0] and "val " in progress[0] and "chars/s" in progress[0]
    assert "left" in progress[0]
    assert "--- sample at step 10 ---" in result.stdout
    assert "validation loss" in lines[-1]


def test_sample_is_reproducible_and_primed(trained_run):
    a = rnnbook("sample", trained_run, "--length", "80", "--seed", "1", "--prime", "the ")
    b = rnnbook("sample", trained_run, "--length", "80", "--seed", "1", "--prime", "the ")
    c = rnnbook("sample", trained_run, "--length", "80", "--seed", "2", "--prime", "the ")
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout != c.stdout
    assert a.stdout.startswith("the ") and len(a.stdout.rstrip("\n")) == 84


def test_info(trained_run):
    result = rnnbook("info", trained_run)
    assert result.returncode == 0, result.stderr
    assert "rnn, 1 layer(s) of 16" in result.stdout and "step 40" in result.stdout
    assert "validation loss" in result.stdout and "format version:  1" in result.stdout


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_resume_equals_uninterrupted(cell, text_file, tmp_path):
    common = [text_file, "--model", cell, "--layers", "2", "--seed", "3", *SMALL]
    straight = rnnbook("train", *common, "--out", tmp_path / "a", "--steps", "30")
    assert straight.returncode == 0, straight.stderr
    first = rnnbook("train", *common, "--out", tmp_path / "b", "--steps", "13")
    assert first.returncode == 0, first.stderr
    second = rnnbook("train", "--resume", "--out", tmp_path / "b", "--steps", "30")
    assert second.returncode == 0, second.stderr
    a, b = load_arrays(tmp_path / "a"), load_arrays(tmp_path / "b")
    assert a.keys() == b.keys()
    for name in a:  # weights, Adam's moments, the carried state, the losses: bit for bit
        assert np.array_equal(a[name], b[name]), name


def test_sigint_saves_and_resume_matches(text_file, tmp_path):
    common = [text_file, *SMALL, "--print-every", "1", "--checkpoint-every", "100000"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "rnnbook", "train", *map(str, common), "--out", str(tmp_path / "b"),
         "--steps", "100000"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_signals,
    )
    try:
        for line in proc.stdout:
            if line.startswith("step 8/"):
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=900)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "interrupted at step" in out
    stopped = checkpoint.load(tmp_path / "b")[1]["trainer"]["step"]
    assert stopped >= 8
    # resume to a few steps later; a run never interrupted must end on the same bits
    target = str(stopped + 7)
    resumed = rnnbook("train", "--resume", "--out", tmp_path / "b", "--steps", target)
    assert resumed.returncode == 0, resumed.stderr
    straight = rnnbook("train", *common, "--out", tmp_path / "a", "--steps", target)
    assert straight.returncode == 0, straight.stderr
    a, b = load_arrays(tmp_path / "a"), load_arrays(tmp_path / "b")
    for name in a:
        if name.startswith(("param/", "optim/", "state/")) or name == "losses":
            assert np.array_equal(a[name], b[name]), name


def test_nan_stops_and_keeps_the_last_good_checkpoint(text_file, tmp_path):
    out = tmp_path / "r"
    assert rnnbook("train", text_file, "--out", out, "--steps", "5", *SMALL).returncode == 0
    # an absurd learning rate overflows float32 within a few steps
    result = rnnbook("train", "--resume", "--out", out, "--steps", "100", "--lr", "1e38")
    assert_one_line_error(result, "nan", "last good checkpoint is kept")
    assert checkpoint.load(out)[1]["trainer"]["step"] == 5


@pytest.mark.torch
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_export_gives_torch_the_same_probabilities(cell, text_file, tmp_path, torch):
    out = tmp_path / "r"
    result = rnnbook("train", text_file, "--out", out, "--steps", "5", "--model", cell, "--layers", "2", *SMALL)
    assert result.returncode == 0, result.stderr
    target = tmp_path / "model.pt"
    result = rnnbook("export", out, "--torch", target)
    assert result.returncode == 0, result.stderr
    config = json.loads(Path(str(target) + ".json").read_text())
    state_dict = torch.load(target)
    assert "rnn.weight_ih_l0" in state_dict and "rnn.weight_hh_l1" in state_dict and "decoder.weight" in state_dict

    class CharRNN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            layer = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[config["model"]]
            self.rnn = layer(config["input_size"], config["hidden_size"], num_layers=config["num_layers"])
            self.decoder = torch.nn.Linear(config["hidden_size"], config["input_size"])

        def forward(self, x):
            return self.decoder(self.rnn(x)[0])

    net = CharRNN()
    net.load_state_dict(state_dict)  # strict: every name must match
    model, vocab, _ = checkpoint.load_model(out)
    ids = vocab.encode("the cat sat on a log.\nthe dog")
    x = torch.nn.functional.one_hot(torch.from_numpy(ids), len(vocab)).float()[:, None, :]
    with torch.no_grad():
        theirs = torch.softmax(net(x), dim=-1).numpy()
    ours = model.probabilities(ids[:, None])
    np.testing.assert_allclose(theirs, ours, rtol=1e-4, atol=1e-6)


def test_export_without_checkpoint_is_an_error(tmp_path):
    assert_one_line_error(rnnbook("export", tmp_path, "--torch", tmp_path / "m.pt"), "no checkpoint")


# ---------------------------------------------------------------------------
# Bad input: one line on stderr, non-zero status, no traceback.


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        (None, ["no such file"]),
        (b"", ["empty"]),
        (b"hello\x00world" * 100, ["binary", "byte offset 5"]),
        (b"abc " * 50 + b"\xff\xfe rest", ["not valid UTF-8", "byte offset 200"]),
        (b"too short", ["shorter than one sequence"]),
    ],
    ids=["missing", "empty", "binary", "not-utf8", "too-short"],
)
def test_bad_text_files(content, fragments, tmp_path):
    path = tmp_path / "text.txt"
    if content is not None:
        path.write_bytes(content)
    result = rnnbook("train", path, "--out", tmp_path / "r", "--steps", "3", *SMALL)
    assert_one_line_error(result, *fragments)


def test_bad_checkpoints(trained_run, tmp_path):
    arrays, meta = checkpoint.load(trained_run)
    checkpoint.save(tmp_path / "v2", arrays, meta | {"format_version": 2})
    assert_one_line_error(rnnbook("sample", tmp_path / "v2"), "format version 2")
    assert_one_line_error(rnnbook("train", "--resume", "--out", tmp_path / "v2"), "format version 2")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / checkpoint.FILENAME).write_bytes(b"PK\x03\x04 this is not a zip file")
    assert_one_line_error(rnnbook("info", tmp_path / "bad"), "corrupted")
    truncated = tmp_path / "cut"
    truncated.mkdir()
    data = (trained_run / checkpoint.FILENAME).read_bytes()
    (truncated / checkpoint.FILENAME).write_bytes(data[: len(data) // 2])
    assert_one_line_error(rnnbook("sample", truncated), "corrupted")
    assert_one_line_error(rnnbook("info", tmp_path / "nothing"), "no such run folder")


@pytest.mark.parametrize("value", ["0", "-0.5"])
def test_bad_temperature(trained_run, value):
    assert_one_line_error(rnnbook("sample", trained_run, f"--temperature={value}"), "--temperature")


def test_prime_outside_the_vocabulary(trained_run):
    result = rnnbook("sample", trained_run, "--prime", "the Zebra")
    assert_one_line_error(result, "'Z'", "'b'", "vocabulary")


def test_existing_run_needs_resume(trained_run, text_file):
    result = rnnbook("train", text_file, "--out", trained_run, "--steps", "3")
    assert_one_line_error(result, "--resume")


def test_resume_with_other_settings_or_text(trained_run, tmp_path):
    assert_one_line_error(rnnbook("train", "--resume", "--out", trained_run, "--hidden", "32"), "--hidden 32")
    other = tmp_path / "other.txt"
    other.write_text("a different text " * 100, encoding="utf-8")
    assert_one_line_error(rnnbook("train", other, "--resume", "--out", trained_run), "not the one")


def test_usage_errors_are_one_line(tmp_path):
    assert_one_line_error(rnnbook("train", "--steps", "3"), "--out")
    assert_one_line_error(rnnbook("train", "--out", tmp_path, "--hidden", "0"), "--hidden")
    assert_one_line_error(rnnbook("frobnicate"), "invalid choice")


def test_help_names_the_builtin_corpus():
    result = rnnbook("train", "--help")
    assert result.returncode == 0
    assert "built-in corpus" in result.stdout and "textwrap.py" in result.stdout


def test_export_without_torch_is_a_clear_error(trained_run, tmp_path):
    # Run the command in a Python where `import torch` fails, as on a machine without PyTorch.
    code = "import sys; sys.modules['torch'] = None; from rnnbook.cli import main; sys.exit(main(sys.argv[1:]))"
    result = subprocess.run(
        [sys.executable, "-c", code, "export", str(trained_run), "--torch", str(tmp_path / "m.pt")],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    assert_one_line_error(result, "needs PyTorch")
    assert not (tmp_path / "m.pt").exists()


def test_minutes_budget_and_exclusive_budgets(text_file, tmp_path):
    result = rnnbook("train", text_file, "--out", tmp_path / "r", "--minutes", "0.01", *SMALL)
    assert result.returncode == 0, result.stderr
    assert checkpoint.load(tmp_path / "r")[1]["trainer"]["step"] >= 1
    both = rnnbook("train", text_file, "--out", tmp_path / "s", "--minutes", "1", "--steps", "5")
    assert_one_line_error(both, "not allowed with")
