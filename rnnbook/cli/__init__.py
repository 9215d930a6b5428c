"""The ``rnnbook`` command: train a character-level language model on your own text.

::

    rnnbook train [TEXTFILE | --corpus small|large] --out DIR [--model rnn|lstm|gru] [--hidden N] [--layers N]
                  [--seq-len N] [--batch N] [--lr X] [--steps N | --minutes X] [--seed N]
                  [--checkpoint-every N] [--print-every N] [--sample-every N] [--resume]
    rnnbook sample DIR [--temperature X] [--length N] [--prime TEXT] [--seed N]
    rnnbook info DIR
    rnnbook export DIR --torch FILE | --weights NEWDIR
    rnnbook problems CHAPTER --student ID [--count N] [--out DIR] [--salt S]
    rnnbook check KEY ANSWERS

``train`` holds out the last 10% of the text for validation, prints a progress
line (step, training and validation loss in nats per character, characters per
second, time left) and now and then a sample, and checkpoints the run into
``DIR`` every ``--checkpoint-every`` steps, at the end, and on Ctrl-C, SIGTERM or
SIGHUP (then it exits with status 130, 143 or 129).  ``DIR`` is checked (created
if missing, writable) and locked before the first step, so a second trainer on
it is refused; a closed standard output or a terminal that cannot show a
character never stops the training.  ``train --resume --out DIR`` continues from the
checkpoint; with the same ``--steps`` it ends on exactly the same weights as a
run that was never interrupted.  Without TEXTFILE it trains on a built-in
corpus, the Python source of standard-library modules: 15 of them
(:data:`rnnbook.data.text.BUILTIN_FILES`), or with ``--corpus large`` 111
(:data:`rnnbook.data.text.LARGE_FILES`).  ``export --weights NEWDIR`` writes a
run folder with the weights only (no optimiser state: a third of the size),
which ``sample``, ``info`` and ``export --torch`` read.

``problems`` and ``check`` are the teaching kit (``rnnbook.teaching``): a
worksheet and answer key per student and chapter, and the grading of a
filled-in answers file.

Every error (a missing, empty, binary or non-UTF-8 text, a text shorter than
one sequence, a corrupted or crafted checkpoint, a temperature of 0, sizes
that would not fit in memory, a full disk ...) is one line on stderr,
``rnnbook: error: ...``, and a non-zero exit status.
"""

from __future__ import annotations

import sys

from rnnbook.cli.commands import cmd_export, cmd_info, cmd_sample
from rnnbook.cli.errors import PROG, CLIError, printable
from rnnbook.cli.parser import build_parser
from rnnbook.cli.train import cmd_train
from rnnbook.data.text import TextError
from rnnbook.training.checkpoint import CheckpointError
from rnnbook.training.loop import TrainingDiverged

__all__ = ["CLIError", "build_parser", "main"]

COMMANDS = {"train": cmd_train, "sample": cmd_sample, "info": cmd_info, "export": cmd_export}


def main(argv: list[str] | None = None) -> int:
    """Run the ``rnnbook`` command with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS.get(args.command, getattr(args, "func", None))(args)
    except (CLIError, TextError, TrainingDiverged, CheckpointError) as err:
        print(f"{PROG}: error: {printable(err)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: error: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print(
            f"{PROG}: error: out of memory; try a smaller --hidden, --layers, --batch or --seq-len, or a shorter text",
            file=sys.stderr,
        )
        return 1
    except OSError as err:
        # A full disk, a folder that cannot be written ...: one line that names the file.
        where = f"{err.filename}: " if err.filename else ""
        print(f"{PROG}: error: {printable(where + str(err.strerror or err))}", file=sys.stderr)
        return 1
    except (ValueError, TypeError) as err:
        # Anything else the user can cause: one line, no traceback.
        print(f"{PROG}: error: {printable(err)}", file=sys.stderr)
        return 1
