"""The ``rnnbook`` command's options, and every training setting's default, defined once."""

from __future__ import annotations

import argparse
import math

from rnnbook.cli.errors import PROG
from rnnbook.data.text import BUILTIN_FILES, CORPORA
from rnnbook.layers.registry import CELLS
from rnnbook.teaching.commands import add_subcommands
from rnnbook.training.chartrainer import DEFAULT_LR
from rnnbook.training.checkpoint_checks import MAX_INTEGER

#: The share of the text held out for validation.
VALIDATION_FRACTION = 0.1
#: The training settings a run is defined by (saved with it), by option name, with their defaults.
DEFAULTS = {
    "model": "rnn",
    "hidden": 128,
    "layers": 1,
    "seq_len": 50,
    "batch": 32,
    "lr": DEFAULT_LR,
    "seed": 0,
    "steps": 2000,
}
#: The help of every command's DIR argument.
RUN_FOLDER = "a run folder written by 'rnnbook train' or 'rnnbook export --weights'"
#: The most characters ``rnnbook sample`` writes in one go (a megabyte of text; more is a typo, or a hang).
MAX_SAMPLE_LENGTH = 1_000_000
#: How often the training loop checkpoints, prints progress and writes a sample, in steps.
EVERY = {"checkpoint_every": 200, "print_every": 50, "sample_every": 500}


class _Parser(argparse.ArgumentParser):
    # argparse prints the usage before its error message; the tool promises one line.
    def error(self, message: str):
        self.exit(2, f"{PROG}: error: {message} (see {self.prog} --help)\n")


def _integer(text: str, low: int, high: int, expected: str) -> int:
    """``int(text)`` if it lies in [low, high], else the one-line error "expected ..., got ..."."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
    return value


# A checkpoint holds integers below 2**62: a run trained with a larger step count or
# seed could never be loaded again, so the command refuses them before training.
def _positive_int(text: str) -> int:
    return _integer(text, 1, MAX_INTEGER - 1, f"a positive integer below 2**62 = {MAX_INTEGER}")


def _sample_length(text: str) -> int:
    return _integer(text, 1, MAX_SAMPLE_LENGTH, f"a positive integer at most {MAX_SAMPLE_LENGTH:,}")


def _seed(text: str) -> int:
    return _integer(text, 0, MAX_INTEGER - 1, f"an integer >= 0 and below 2**62 = {MAX_INTEGER}")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``rnnbook`` command."""
    corpus = ", ".join(BUILTIN_FILES)
    parser = _Parser(
        prog=PROG,
        description="Train a character-level language model (the book's chapter on it) and write text with it.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = sub.add_parser(
        "train",
        help="train a model on a text file (or the built-in corpus)",
        description=(
            "Train a character-level model. The last 10% of the text is held out for validation. "
            "A checkpoint is saved in DIR every --checkpoint-every steps, at the end and on Ctrl-C, SIGTERM or "
            "SIGHUP (exit status 130, 143 or 129); DIR is locked while a run trains in it. "
            "'rnnbook train --resume --out DIR' continues it, bit for bit as if never interrupted. "
            f"Without TEXTFILE a built-in corpus is used, read from this Python's library folder: with "
            f"--corpus small (the default) the Python source of the standard-library modules {corpus}; with "
            f"--corpus large the source of {len(CORPORA['large'])} modules (about 3.5 million characters, "
            "listed in rnnbook.data.text.LARGE_FILES), for longer runs."
        ),
    )
    train.add_argument("text", nargs="?", metavar="TEXTFILE", help="a UTF-8 text file (default: built-in corpus)")
    train.add_argument(
        "--corpus", choices=tuple(CORPORA), help="the built-in corpus to train on when no TEXTFILE is given (small)"
    )
    train.add_argument("--out", required=True, metavar="DIR", help="the run folder for checkpoints")
    train.add_argument(
        "--resume", action="store_true",
        help="continue the run checkpointed in --out (only --lr, --steps or --minutes and the intervals may change)",
    )
    train.add_argument("--model", choices=tuple(CELLS), help=f"recurrent layer (default {DEFAULTS['model']})")
    train.add_argument("--hidden", type=_positive_int, metavar="N", help=f"state size (default {DEFAULTS['hidden']})")
    train.add_argument(
        "--layers", type=_positive_int, metavar="N", help=f"stacked layers (default {DEFAULTS['layers']})"
    )
    train.add_argument(
        "--seq-len", type=_positive_int, metavar="N", help=f"characters per chunk (default {DEFAULTS['seq_len']})"
    )
    train.add_argument(
        "--batch", type=_positive_int, metavar="N", help=f"streams side by side (default {DEFAULTS['batch']})"
    )
    train.add_argument(
        "--lr", type=_positive_float, metavar="X", help=f"Adam's learning rate, constant (default {DEFAULTS['lr']})"
    )
    budget = train.add_mutually_exclusive_group()
    budget.add_argument(
        "--steps", type=_positive_int, metavar="N", help=f"train until this step (default {DEFAULTS['steps']})"
    )
    budget.add_argument("--minutes", type=_positive_float, metavar="X", help="train for this long instead")
    train.add_argument(
        "--seed", type=_seed, metavar="N", help=f"seed for weights and data order (default {DEFAULTS['seed']})"
    )
    intervals = [("checkpoint_every", "checkpoints"), ("print_every", "progress lines"), ("sample_every", "samples")]
    for option, what in intervals:
        train.add_argument(
            "--" + option.replace("_", "-"), type=_positive_int, default=EVERY[option], metavar="N",
            help=f"steps between {what} ({EVERY[option]})",
        )

    smp = sub.add_parser(
        "sample", help="write text with a trained model",
        description=(
            "Write text with a trained model. On a terminal, control characters other than line ends and tabs "
            "(escape, bell, a lone carriage return ...) are shown as escapes such as \\x1b; into a file or a pipe "
            "the text goes as it is."
        ),
    )
    smp.add_argument("run", metavar="DIR", help=RUN_FOLDER)
    smp.add_argument("--temperature", type=_positive_float, default=1.0, metavar="X", help="> 0 (default 1.0)")
    smp.add_argument(
        "--length", type=_sample_length, default=500, metavar="N",
        help=f"characters to write (500; at most {MAX_SAMPLE_LENGTH:,})",
    )
    smp.add_argument(
        "--prime", default="", metavar="TEXT",
        help="text the model reads first (characters of its vocabulary; see 'rnnbook info DIR')",
    )
    smp.add_argument("--seed", type=_seed, default=0, metavar="N", help="seed of the sampling (0)")

    info = sub.add_parser("info", help="describe a run folder", description="Describe a run folder.")
    info.add_argument("run", metavar="DIR", help=RUN_FOLDER)

    export = sub.add_parser(
        "export",
        help="write the weights for PyTorch, or a smaller run folder",
        description=(
            "--torch FILE: write the weights as a PyTorch state_dict (torch.save): rnn.weight_ih_l0 ... for "
            "torch.nn.RNN/LSTM/GRU and decoder.weight, decoder.bias for torch.nn.Linear; FILE.json holds the sizes "
            "and the vocabulary. --weights NEWDIR: write a new run folder with the weights and the run's record only, "
            "without the optimiser's memory (about a third of the size), for 'rnnbook sample', 'info' and "
            "'export --torch'; it cannot be resumed."
        ),
    )
    export.add_argument("run", metavar="DIR", help=RUN_FOLDER)
    target = export.add_mutually_exclusive_group(required=True)
    target.add_argument("--torch", metavar="FILE", help="the .pt file to write")
    target.add_argument("--weights", metavar="NEWDIR", help="the new run folder to write (must hold no checkpoint)")
    add_subcommands(sub)  # rnnbook problems, rnnbook check (the teaching kit)
    return parser
