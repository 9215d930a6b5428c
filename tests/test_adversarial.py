"""What an adversarial reader of the book or user of the command found after issues 11 and 12.

Each test is one defect: before its fix, the library answered with a numpy or
Python error from deep inside (an AttributeError, an IndexError, a numpy
message that names no argument) or silently gave a wrong answer, and the
command printed a traceback.  Now each is a one-line ValueError/TypeError that
names what was expected and what was given (or, for the command, one line
``rnnbook: error: ...``).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest
from test_cli import SMALL, assert_one_line_error, rnnbook, trained_run  # noqa: F401 (fixtures)
from test_cli_reliability import finish, popen, step_of, wait_for_line

from rnnbook import (
    GRU,
    LSTM,
    RNN,
    SGD,
    Adam,
    backprop_through_time,
    clip_gradients,
    fit,
    global_norm,
    init_params,
    softmax,
)
from rnnbook.data.encoding import Vocabulary
from rnnbook.models.charmodel import CharModel, sample
from rnnbook.models.classifiers import SequenceClassifier
from rnnbook.training import checkpoint

CELL_CLASSES = [RNN, LSTM, GRU]


# -- the library --------------------------------------------------------------------------


@pytest.mark.parametrize("cls", CELL_CLASSES)
def test_negative_seed_names_rng(cls):
    # numpy said only "expected non-negative integer".
    with pytest.raises(ValueError, match=r"rng .*-1"):
        cls(4, 3, rng=-1)


@pytest.mark.parametrize("cls", CELL_CLASSES)
@pytest.mark.parametrize("trace", [None, (1, 2), "trace"])
def test_backward_with_something_that_is_not_a_trace(cls, trace):
    # An AttributeError ('NoneType' object has no attribute 'states') from inside backward.
    layer = cls(4, 3, rng=0)
    with pytest.raises(TypeError, match=r"trace .*" + type(trace).__name__):
        layer.backward(trace, np.ones((2, 1, 3)))


@pytest.mark.parametrize("cls", CELL_CLASSES)
def test_backward_with_the_trace_of_another_cell(cls):
    # The trace of another kind of cell has other fields: an AttributeError, or a wrong result.
    other = RNN if cls is not RNN else GRU
    x = np.zeros((2, 1, 4))
    _, trace = other(4, 3, rng=0).forward(x)
    with pytest.raises(TypeError, match=r"trace .*" + type(trace).__name__):
        cls(4, 3, rng=0).backward(trace, np.ones((2, 1, 3)))


def test_backprop_through_time_function_checks_its_trace():
    params = init_params(4, 3, rng=0)
    with pytest.raises(TypeError, match=r"trace .*NoneType"):
        backprop_through_time(params, None, np.ones((2, 1, 3)))


@pytest.mark.parametrize("cls", CELL_CLASSES)
@pytest.mark.parametrize(("batch", "error"), [(-1, ValueError), (0, ValueError), ("2", TypeError), (2.0, TypeError)])
def test_init_state_checks_the_batch(cls, batch, error):
    # -1 gave numpy's "negative dimensions are not allowed", "2" a message that named no argument,
    # and 0 an empty state that forward() would then refuse.
    with pytest.raises(error, match="batch"):
        cls(4, 3, rng=0).init_state(batch)


@pytest.mark.parametrize(("gates", "error"), [(0, ValueError), (-1, ValueError), (1.5, TypeError)])
def test_init_params_checks_gates(gates, error):
    # gates=0 gave empty weights silently; -1 and 1.5 numpy errors that named no argument.
    with pytest.raises(error, match="gates"):
        init_params(4, 3, rng=0, gates=gates)


@pytest.mark.parametrize("index", [100, -1])
def test_decode_refuses_indices_outside_the_vocabulary(index):
    # 100 was an IndexError; -1 silently decoded as the last character.
    vocab = Vocabulary.from_text("hello")
    with pytest.raises(ValueError, match=rf"indices must be in \[0, {len(vocab)}\).*{index}"):
        vocab.decode([index])


@pytest.mark.parametrize("text", ["ab", "abcdefghijklmnop"])
def test_sample_refuses_a_vocabulary_of_another_size(text):
    # A smaller vocabulary gave an IndexError; a larger one silently wrote text from the wrong characters.
    model = CharModel(len(Vocabulary.from_text("hello")), 4, rng=0)
    with pytest.raises(ValueError, match=r"vocab .*model"):
        sample(model, Vocabulary.from_text(text), 3, rng=0)


@pytest.mark.parametrize(
    ("logits", "error", "fragment"),
    [
        ([1.0, 2.0], TypeError, "logits must be a numpy array"),  # AttributeError: 'list' object has no attribute 'max'
        (np.array([1, 2]), TypeError, "logits must have dtype"),  # numpy's UFuncTypeError about casting
        (np.array([np.nan, 1.0]), ValueError, "logits must be finite"),  # NaN probabilities, silently
    ],
)
def test_softmax_checks_its_input(logits, error, fragment):
    with pytest.raises(error, match=fragment):
        softmax(logits)


def test_softmax_names_a_wrong_axis():
    # numpy's AxisError named no argument.
    with pytest.raises(ValueError, match=r"axis must be .*got 5"):
        softmax(np.zeros((2, 3)), axis=5)


@pytest.mark.parametrize("optimizer", [SGD(0.1), Adam(0.1)])
def test_optimizer_refuses_a_list_gradient(optimizer):
    # AttributeError: 'list' object has no attribute 'shape'.
    with pytest.raises(TypeError, match=r"gradient of w must be a numpy array.*list"):
        optimizer.step({"w": np.ones(3)}, {"w": [1.0, 2.0, 3.0]})


def test_optimizer_refuses_integer_parameters():
    # numpy's UFuncTypeError ("Cannot cast ufunc 'multiply' output ...") from inside Adam's update.
    with pytest.raises(TypeError, match=r"w must have dtype float32 or float64, got int64"):
        Adam(0.1).step({"w": np.ones(3, dtype=np.int64)}, {"w": np.ones(3)})


def test_clip_gradients_and_global_norm_refuse_what_is_not_a_dict_of_arrays():
    # clip_gradients([...]): AttributeError: 'list' object has no attribute 'values';
    # global_norm({"w": [1, 2]}) silently computed a norm of a list.
    with pytest.raises(TypeError, match=r"grads must be a dict.*list"):
        clip_gradients([np.ones(3)], 1.0)
    with pytest.raises(TypeError, match=r"gradient of w must be a numpy array.*list"):
        global_norm({"w": [1.0, 2.0]})


def test_fit_refuses_a_list_and_a_non_optimizer():
    model = SequenceClassifier(4, 3, 2, rng=0)
    x, y = np.zeros((3, 4, 4)), np.array([0, 1, 0, 1])
    # AttributeError: 'list' object has no attribute 'ndim'.
    with pytest.raises(TypeError, match=r"x must be a numpy array.*list"):
        fit(model, x.tolist(), y, SGD(0.1), epochs=1, batch_size=2, rng=0)
    # AttributeError: 'str' object has no attribute 'step', after the first batch's forward and backward.
    with pytest.raises(TypeError, match=r"optimizer must be .*str"):
        fit(model, x, y, "adam", epochs=1, batch_size=2, rng=0)


# -- the command --------------------------------------------------------------------------


def test_train_on_a_symlink_loop(tmp_path):
    # RuntimeError: Symlink loop from '.../loop1' (a traceback), from Path.resolve.
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    result = rnnbook("train", tmp_path / "loop1", "--out", tmp_path / "run", "--steps", "2", *SMALL)
    assert_one_line_error(result, "loop1", "symbolic link")
    assert not (tmp_path / "run" / "checkpoint.npz").exists()


@pytest.mark.parametrize("key", ["lr", "max_norm"])
def test_checkpoint_with_a_huge_integer_number(trained_run, tmp_path, key):  # noqa: F811 (fixture)
    # A JSON integer like 2**200 passed the schema as a "finite number"; the resumed training then failed
    # with numpy's "ufunc 'isfinite' not supported for the input types ...".
    arrays, meta = checkpoint.load(trained_run)
    meta.pop("format_version")
    meta["trainer"][key] = 2**200
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    checkpoint.save(run, arrays, json.loads(json.dumps(meta)))
    result = rnnbook("train", "--resume", "--out", run, "--steps", "42", *SMALL)
    assert_one_line_error(result, "invalid metadata", f"trainer.{key}")


def test_sighup_saves_like_ctrl_c(text_file, tmp_path):  # noqa: F811 (fixture)
    # Closing the terminal (or an ssh session dropping) sends SIGHUP, whose default action killed the
    # trainer at once: every step since the last checkpoint was lost (here, all of them).
    proc = popen("train", text_file, "--out", tmp_path / "r", "--steps", "100000", "--checkpoint-every", "100000",
                 *SMALL, "--print-every", "1")
    try:
        wait_for_line(proc, "step 8/")
        proc.send_signal(signal.SIGHUP)
    finally:
        out, err = finish(proc)
    assert proc.returncode == 129, err
    assert "Traceback" not in err
    assert "at step" in out and "SIGHUP" in out
    assert step_of(tmp_path / "r") >= 8


def test_resume_help_names_what_may_change(text_file, tmp_path):  # noqa: F811 (fixture)
    # The help said "(only --lr may change)", yet a resumed run takes a new budget too.
    help_text = " ".join(rnnbook("train", "--help").stdout.split())
    resume_help = help_text.rsplit("--resume", 1)[1].split("--model")[0]
    out = tmp_path / "r"
    assert rnnbook("train", text_file, "--out", out, "--steps", "4", *SMALL).returncode == 0
    assert rnnbook("train", "--resume", "--out", out, "--steps", "6", *SMALL).returncode == 0
    assert step_of(out) == 6
    assert "--steps" in resume_help and "--minutes" in resume_help, resume_help


def test_console_survives_a_hung_up_terminal():
    # After SIGHUP the terminal is gone and a write fails with EIO, which is not a broken pipe:
    # the OSError escaped Console.print, so the trainer stopped on its next progress line.
    from rnnbook.cli.runtime import Console

    class HungUp:
        def write(self, text):
            raise OSError(errno.EIO, os.strerror(errno.EIO))

        def flush(self):
            pass

        def fileno(self):
            raise OSError(errno.EBADF, "no file descriptor")

    console = Console(HungUp(), keep_going=True)
    console.print("step 1")
    console.print("step 2")
    assert console.closed


# -- the encoder-decoder models and the dense layer ----------------------------------------


def test_masked_cross_entropy_refuses_a_target_outside_the_classes():
    # IndexError: index 5 is out of bounds for axis 1 with size 3.
    from rnnbook.models.seq2seq import masked_cross_entropy

    with pytest.raises(ValueError, match=r"targets must hold class indices in \[0, 3\).*5"):
        masked_cross_entropy(np.zeros((2, 2, 3)), np.array([[5, 1], [1, 1]]))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_captioner_refuses_empty_targets(cell):
    # IndexError: index 0 is out of bounds for axis 0 with size 0, from inside the teacher forcing.
    from rnnbook.models.seq2seq import Captioner

    model = Captioner(5, 4, 6, cell=cell, rng=0)
    with pytest.raises(ValueError, match=r"targets must have at least one step, got shape \(0, 2\)"):
        model.loss_and_grads(np.zeros((2, 5)), np.zeros((0, 2), dtype=np.int64))


def test_accuracies_refuse_nothing_to_score():
    # nan with a RuntimeWarning ("Mean of empty slice"), not an error naming the cause.
    from rnnbook.models.seq2seq import sequence_accuracy, token_accuracy

    with pytest.raises(ValueError, match="no sequence"):
        sequence_accuracy(np.zeros((2, 0), dtype=np.int64), np.zeros((2, 0), dtype=np.int64))
    with pytest.raises(ValueError, match="nothing but padding"):
        token_accuracy(np.zeros((2, 2), dtype=np.int64), np.zeros((2, 2), dtype=np.int64))


def test_linear_backward_names_a_wrong_gradient_shape():
    # numpy's "matmul: Input operand 1 has a mismatch in its core dimension 0 ...".
    from rnnbook import init_linear, linear_backward

    params = init_linear(3, 2, rng=0)
    with pytest.raises(ValueError, match=r"dy must have shape \(4, 2\).*got \(4, 5\)"):
        linear_backward(params, np.zeros((4, 3)), np.zeros((4, 5)))
    with pytest.raises(TypeError, match=r"dy must be a numpy array.*list"):
        linear_backward(params, np.zeros((4, 3)), [[0.0, 0.0]] * 4)


def test_cell_name_of_something_that_is_not_a_cell():
    # KeyError: <class 'object'>.
    from rnnbook.layers.registry import cell_name

    with pytest.raises(TypeError, match=r"layer must be .*RNN.*got object"):
        cell_name(object())


@pytest.mark.parametrize("betas", ["ab", None, (0.9, "x")])
def test_adam_names_bad_betas(betas):
    # "'<=' not supported between instances of 'int' and 'str'", "'NoneType' object is not iterable".
    with pytest.raises((TypeError, ValueError), match=r"betas must be two numbers in \[0, 1\)"):
        Adam(0.1, betas=betas)


def test_info_does_not_replay_control_characters_from_a_checkpoint(trained_run, tmp_path):  # noqa: F811 (fixture)
    # A crafted checkpoint's text_path went to the terminal raw: escape sequences could clear the screen,
    # retitle the window or hide lines of the output.
    arrays, meta = checkpoint.load(trained_run)
    meta.pop("format_version")
    meta["run"]["text_path"] = "/tmp/x\x1b[2J\x1b]0;pwned\x07\rfake line"
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    checkpoint.save(run, arrays, meta)
    result = rnnbook("info", run)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout and "\r" not in result.stdout
    assert "\\x1b[2J" in result.stdout
    # The same path in an error message (the text is missing when resuming): one line, nothing raw.
    result = rnnbook("train", "--resume", "--out", run, "--steps", "50")
    assert_one_line_error(result, "\\x1b[2J")
    assert "\x1b" not in result.stderr and "\r" not in result.stderr


@pytest.mark.parametrize("command", ["sample", "info"])
def test_output_to_a_full_device_is_an_error(command, trained_run):  # noqa: F811 (fixture)
    # The text is what sample is for: writing it to a full disk must not end with status 0.
    # (Before the fixes it did fail, with the message "No space left on device" naming no output; the SIGHUP
    # fix first made every output error quiet, as the trainer needs, which turned this into a silent status 0.)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "rnnbook", command, str(trained_run)], stdout=full,
                                stderr=subprocess.PIPE, text=True, env=env, timeout=900)
    assert_one_line_error(result, "standard output", "No space left on device")


@pytest.mark.parametrize("command", ["sample", "info"])
def test_closed_standard_output(command, trained_run):  # noqa: F811 (fixture)
    # "rnnbook info DIR >&-" ended in a traceback: AttributeError: 'NoneType' object has no attribute 'write'.
    env = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run([sys.executable, "-m", "rnnbook", command, str(trained_run)], stdout=None,
                            stderr=subprocess.PIPE, text=True, env=env, timeout=900,
                            preexec_fn=lambda: os.close(1))
    assert_one_line_error(result, "standard output")


def test_resume_with_steps_already_reached(trained_run, tmp_path):  # noqa: F811 (fixture)
    # "--resume --steps 5" on a run at step 40 trained nothing, said "done: step 40" with status 0, and
    # saved 5 as the run's budget, so that every later plain --resume also did nothing.
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    before = (run / "checkpoint.npz").read_bytes()
    result = rnnbook("train", "--resume", "--out", run, "--steps", "5")
    assert_one_line_error(result, "--steps 5", "step 40")
    assert (run / "checkpoint.npz").read_bytes() == before
