"""The committed model of the character-model chapter's longer run is what its Makefile recipe trains.

The model (book/trained/code-lstm) is committed because training it takes
minutes that the book's build cannot spend. These tests tie it to the
command in the Makefile: its recorded settings are the command's, and the
command, run again for its first steps, gives the same training losses as the
committed run recorded, step by step.
"""

from __future__ import annotations

import hashlib
import re
import shlex
import sys
from pathlib import Path

import numpy as np
import pytest

from rnnbook.cli.parser import DEFAULTS
from rnnbook.data.text import builtin_corpus
from rnnbook.training import checkpoint
from tests.test_cli import rnnbook

ROOT = Path(__file__).resolve().parents[1]
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")


def make_variable(name: str) -> str:
    match = re.search(rf"^{name} := (.*)$", MAKEFILE, flags=re.MULTILINE)
    assert match, f"the Makefile defines no {name}"
    return match.group(1).strip()


MODEL = ROOT / make_variable("CODE_MODEL")
TRAIN = shlex.split(make_variable("CODE_MODEL_TRAIN"))


def recipe() -> dict:
    """The Makefile's training options as the run's settings: every default the command does not give."""
    given = dict(zip(TRAIN[::2], TRAIN[1::2], strict=True))
    settings = dict(DEFAULTS) | {"corpus": "small"}
    for flag, value in given.items():
        key = flag.removeprefix("--").replace("-", "_")
        assert key in settings, f"unexpected option {flag} in CODE_MODEL_TRAIN"
        settings[key] = type(settings[key])(value) if key != "corpus" else value
    return settings


def test_the_committed_model_is_the_one_the_recipe_describes():
    model, vocab, meta = checkpoint.load_model(MODEL)
    saved = meta["run"]
    for key, value in recipe().items():
        assert saved[key] == value, f"{key}: the committed model has {saved[key]!r}, the Makefile says {value!r}"
    assert saved["text_path"] is None  # a built-in corpus, so the run can be repeated on any machine
    assert meta["step"] == saved["steps"] == len(checkpoint.load(MODEL)[0]["losses"])
    assert model.cell == saved["model"] and model.hidden_size == saved["hidden"]
    # the recipe is the Makefile's only way to make the file, and make html makes it when it is missing
    assert "$(BIN)/rnnbook train $(CODE_MODEL_TRAIN)" in MAKEFILE
    assert re.search(r"^html: .*\| \$\(CODE_MODEL\)/checkpoint\.npz$", MAKEFILE, flags=re.MULTILINE)


def test_the_recipe_repeats_the_committed_training(tmp_path):
    meta = checkpoint.load_metadata(MODEL)
    corpus = builtin_corpus(meta["run"]["corpus"])
    if hashlib.sha256(corpus.encode("utf-8")).hexdigest() != meta["run"]["text_sha256"]:
        pytest.skip(
            f"this Python's standard library (Python {sys.version.split()[0]}) is not the one the model was trained "
            "on: its corpus differs, so its training cannot be repeated step by step here"
        )
    steps = 30
    options = TRAIN[:]
    options[options.index("--steps") + 1] = str(steps)
    result = rnnbook("train", *options, "--out", tmp_path / "again", "--print-every", "1000")
    assert result.returncode == 0, result.stderr
    again = checkpoint.load(tmp_path / "again")[0]["losses"]
    committed = checkpoint.load(MODEL)[0]["losses"][:steps]
    # One BLAS thread and the same seed: the same losses up to the rounding of another processor's kernels.
    # Another seed, learning rate or chunk length changes them by far more than this tolerance.
    np.testing.assert_allclose(again, committed, rtol=1e-3)
    assert committed[-1] < committed[0] - 0.5  # and the steps compared are real training, not a flat start
