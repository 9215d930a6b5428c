"""What a second adversarial user of the ``rnnbook`` command found (after tests/test_adversarial.py).

Each test is one defect, and failed before its fix: the command lost a trained
run, stopped a run it had been told to keep going, reported a stale number, or
could be made to run without end.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
from test_cli import ROOT, SMALL, assert_one_line_error, rnnbook, trained_run  # noqa: F401 (fixtures)
from test_cli_reliability import finish, popen, step_of, wait_for_line

from rnnbook.training import checkpoint


def _ignore_hangup():
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def test_nohup_keeps_training_through_a_hangup(text_file, tmp_path):
    # ``nohup rnnbook train ...`` sets SIGHUP to "ignore" so that a run outlives the terminal; the trainer
    # installed its own handler over that and stopped (status 129) as soon as the terminal closed.
    proc = popen("train", text_file, "--out", tmp_path / "r", "--steps", "60", *SMALL, "--print-every", "1",
                 preexec_fn=_ignore_hangup)
    try:
        wait_for_line(proc, "step 3/")
        proc.send_signal(signal.SIGHUP)
    finally:
        out, err = finish(proc)
    assert proc.returncode == 0, (out, err)
    assert step_of(tmp_path / "r") == 60


def test_a_signal_that_was_ignored_stays_ignored():
    # The same for SIGINT, which a shell sets to "ignore" for a background job (``rnnbook train ... &``).
    code = (
        "import signal\n"
        "from rnnbook.cli.runtime import StopSignals\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "with StopSignals() as s:\n"
        "    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN\n"
        "    assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL\n"
        "assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("how", ["the-checkpoint", "a-link-to-it", "json-is-the-checkpoint"])
def test_export_never_overwrites_the_run_it_reads(how, trained_run, tmp_path):  # noqa: F811 (fixture)
    # ``rnnbook export DIR --torch DIR/checkpoint.npz`` replaced the checkpoint by a torch file: the whole
    # trained run was lost, and the command said "wrote ...".
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    target = run / "checkpoint.npz"
    if how == "a-link-to-it":
        target = tmp_path / "link.pt"
        target.symlink_to(run / "checkpoint.npz")
    elif how == "json-is-the-checkpoint":
        target = tmp_path / "x.pt"
        (tmp_path / "x.pt.json").symlink_to(run / "checkpoint.npz")
    before = (run / "checkpoint.npz").read_bytes()
    result = rnnbook("export", run, "--torch", target)
    assert_one_line_error(result, "--torch", "checkpoint")
    assert (run / "checkpoint.npz").read_bytes() == before
    assert rnnbook("info", run).returncode == 0


@pytest.mark.parametrize("command", [["sample"], ["info"], ["export", "--torch", "x.pt"]])
def test_an_empty_run_folder_name_is_refused(command, trained_run, tmp_path):  # noqa: F811 (fixture)
    # DIR "" was read as the current folder: "rnnbook sample ''" sampled whatever run was there.
    import shutil

    shutil.copy(trained_run / "checkpoint.npz", tmp_path / "checkpoint.npz")
    result = subprocess.run(
        [sys.executable, "-m", "rnnbook", *command, ""], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert_one_line_error(result, "empty")
    assert not (tmp_path / "x.pt").exists()


def test_the_last_validation_loss_is_saved(text_file, tmp_path):
    # A run that ends between two progress lines (always, with --minutes) printed "done: ... validation loss
    # X" but saved an older loss (or none): ``rnnbook info`` then reported a different, stale number.
    out = tmp_path / "r"
    result = rnnbook("train", text_file, "--out", out, "--minutes", "0.005", *SMALL[:-2], "--print-every", "100000")
    assert result.returncode == 0, result.stderr
    done = result.stdout.strip().splitlines()[-1]
    step = int(done.split("step ")[1].split(",")[0])
    saved_step, saved_loss = checkpoint.load(out)[1]["validation"][-1]
    assert saved_step == step == step_of(out)
    assert f"validation loss {saved_loss:.3f}" in done, (done, saved_loss)
    assert f"validation loss: {saved_loss:.3f} nats/char at step {step}" in rnnbook("info", out).stdout


def test_sample_length_has_a_ceiling(trained_run):  # noqa: F811 (fixture)
    # --length 99999999999999999999 was accepted and the command ran (and grew) until killed.
    result = rnnbook("sample", trained_run, "--length", "99999999999999999999")
    assert_one_line_error(result, "--length", "at most")
    assert "at most" in " ".join(rnnbook("sample", "--help").stdout.split())


def test_utf16_text_is_named(tmp_path):
    # A UTF-16 file (what Windows' Notepad long saved as "Unicode") was called "a binary file".
    path = tmp_path / "notes.txt"
    path.write_text("hello world, " * 100, encoding="utf-16")
    result = rnnbook("train", path, "--out", tmp_path / "r", *SMALL)
    assert_one_line_error(result, "UTF-16", "UTF-8")


def test_export_message_does_not_replay_control_characters(trained_run, tmp_path):  # noqa: F811 (fixture)
    target = tmp_path / "a\x1b[2Jb.pt"
    result = rnnbook("export", trained_run, "--torch", target)
    if result.returncode == 0:  # torch installed
        assert "\x1b" not in result.stdout
    else:
        assert "\x1b" not in result.stderr


@pytest.mark.parametrize("option", ["--seed", "--steps"])
def test_a_run_is_never_saved_unloadable(option, text_file, tmp_path):
    # --seed 99999999999999999999 trained and saved a checkpoint whose metadata the loader then refused
    # ("run.seed must be an integer in [0, 2**62)"): info, sample and --resume all failed, the run was lost.
    # (--steps 99999999999999999999, stopped with Ctrl-C, the same.)
    result = rnnbook("train", text_file, "--out", tmp_path / "r", option, str(10**20), *SMALL)
    assert_one_line_error(result, option, "2**62")
    assert not (tmp_path / "r" / "checkpoint.npz").exists()
    edge = rnnbook("train", text_file, "--out", tmp_path / "e", "--seed", str(2**62 - 1), "--steps", "3", *SMALL)
    assert edge.returncode == 0, edge.stderr
    assert rnnbook("info", tmp_path / "e").returncode == 0


# -- rnnbook problems / rnnbook check ---------------------------------------------------------------


def make_worksheet(folder, chapter: str):
    """``rnnbook problems CHAPTER`` for one student into ``folder``: the key and the answers file."""
    result = rnnbook("problems", chapter, "--student", "alice", "--out", folder)
    assert result.returncode == 0, result.stderr
    return next(folder.glob("*-key.json")), next(folder.glob("*-answers.csv"))


@pytest.fixture(scope="module")
def worksheet(tmp_path_factory):
    return make_worksheet(tmp_path_factory.mktemp("sheet"), "1")


@pytest.mark.parametrize("which", ["key", "answers"])
def test_check_survives_deeply_nested_json(which, worksheet, tmp_path):
    # A JSON file of 100000 nested lists ended in a RecursionError traceback.
    key, answers = worksheet
    deep = tmp_path / "deep.json"
    deep.write_text('{"q1a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    result = rnnbook("check", *((deep, answers) if which == "key" else (key, deep)))
    assert_one_line_error(result, which, "nested")


@pytest.mark.parametrize("path", ["/dev/zero", "."])
def test_check_names_a_file_that_is_not_regular(path, worksheet):
    # /dev/zero or a folder was "found no such file".
    key, _ = worksheet
    result = rnnbook("check", key, path)
    assert_one_line_error(result, "not a regular file")


def test_check_into_a_closed_pipe_is_quiet(worksheet):
    # "rnnbook check KEY ANSWERS | head -1" ended with "rnnbook: error: Broken pipe" (and status 1),
    # where sample and info stop quietly.
    key, answers = worksheet
    # (``true`` exits at once, long before Python has started: the pipe is closed at the first write.)
    result = subprocess.run(
        f"{sys.executable} -m rnnbook check {key} {answers} | true", shell=True, cwd=ROOT,
        capture_output=True, text=True, timeout=600,
    )
    assert result.stderr == ""


def test_check_with_standard_output_closed_is_an_error(worksheet):
    # With standard output closed the report went nowhere and the status was 0.
    import os

    key, answers = worksheet
    result = subprocess.run([sys.executable, "-m", "rnnbook", "check", str(key), str(answers)], stdout=None,
                            stderr=subprocess.PIPE, text=True, timeout=600, preexec_fn=lambda: os.close(1))
    assert_one_line_error(result, "standard output")


def test_resume_after_the_text_moved_says_what_to_do(text_file, tmp_path):
    # "rnnbook: error: /path/words.txt: no such file" gave no hint that --resume reads the text again,
    # nor that it can be given at its new place.
    import shutil

    text = tmp_path / "words.txt"
    shutil.copy(text_file, text)
    out = tmp_path / "r"
    assert rnnbook("train", text, "--out", out, "--steps", "3", *SMALL).returncode == 0
    text.rename(tmp_path / "moved.txt")
    result = rnnbook("train", "--resume", "--out", out, "--steps", "6")
    assert_one_line_error(result, "no such file", "TEXTFILE --resume")
    again = rnnbook("train", tmp_path / "moved.txt", "--resume", "--out", out, "--steps", "6")
    assert again.returncode == 0, again.stderr
    assert step_of(out) == 6


def test_unknown_priming_characters_are_listed_briefly(trained_run):  # noqa: F811 (fixture)
    # 500 unknown characters made a 3.5 kB error line.
    prime = "".join(chr(0x4E00 + i) for i in range(500))
    result = rnnbook("sample", trained_run, "--prime", prime)
    assert_one_line_error(result, "and 490 more")
    assert len(result.stderr) < 300


@pytest.mark.parametrize("kind", ["link-to-a-file", "fifo"])
def test_a_planted_lock_file_is_not_followed(kind, text_file, tmp_path):
    # In a shared --out folder, DIR/.lock planted as a symbolic link made the trainer truncate the file it
    # pointed at and write its process id there (run as root: any file on the system).
    import os

    victim = tmp_path / "precious.txt"
    victim.write_text("precious data\n")
    out = tmp_path / "shared"
    out.mkdir()
    if kind == "link-to-a-file":
        (out / ".lock").symlink_to(victim)
    else:
        os.mkfifo(out / ".lock")
    result = rnnbook("train", text_file, "--out", out, "--steps", "3", *SMALL)
    assert_one_line_error(result, ".lock")
    assert victim.read_text() == "precious data\n"
    assert not (out / "checkpoint.npz").exists()


@pytest.mark.parametrize("text", ["", "missing.txt"])
def test_a_failed_start_leaves_no_empty_run_folder(text, tmp_path):
    # --out was created (and locked) before the text was read: a typo in the file name left an empty run
    # folder behind; and an empty file name was reported as ".: not a regular file".
    out = tmp_path / "new" / "run"
    result = rnnbook("train", text, "--out", out, *SMALL)
    assert_one_line_error(result, "empty string" if text == "" else "no such file")
    assert not out.exists()
    assert (tmp_path / "new").exists()  # only the folder of the run itself is removed


def test_the_checkpoint_file_instead_of_its_folder(trained_run):  # noqa: F811 (fixture)
    # "rnnbook sample DIR/checkpoint.npz" said "no such run folder", though the file is right there.
    result = rnnbook("sample", trained_run / "checkpoint.npz")
    assert_one_line_error(result, "not a run folder", "give the folder")


def test_info_on_a_checkpoint_saved_by_the_library(text_file, tmp_path):
    # A checkpoint written with checkpoint.save_training (no command-line settings) was described as
    # trained on the "built-in corpus", with "seq-len None, batch None, lr None, seed None".
    import numpy as np

    from rnnbook.data.encoding import Vocabulary
    from rnnbook.models.charmodel import CharModel
    from rnnbook.training.chartrainer import CharTrainer

    text = text_file.read_text(encoding="utf-8")
    vocab = Vocabulary.from_text(text)
    trainer = CharTrainer(CharModel(len(vocab), 8, rng=0, dtype=np.float32), vocab.encode(text), seq_len=8,
                          batch_size=2, lr=0.01, rng=0)
    trainer.train_step()
    checkpoint.save_training(tmp_path / "lib", trainer, vocab)
    result = rnnbook("info", tmp_path / "lib")
    assert result.returncode == 0, result.stderr
    assert "built-in corpus" not in result.stdout and "None" not in result.stdout, result.stdout
    assert "step 1" in result.stdout
