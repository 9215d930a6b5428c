"""The ``rnnbook`` command: train a character-level language model on your own text.

::

    rnnbook train [TEXTFILE] --out DIR [--model rnn|lstm|gru] [--hidden N] [--layers N]
                  [--seq-len N] [--batch N] [--lr X] [--steps N | --minutes X] [--seed N]
                  [--checkpoint-every N] [--resume]
    rnnbook sample DIR [--temperature X] [--length N] [--prime TEXT] [--seed N]
    rnnbook info DIR
    rnnbook export DIR --torch FILE

``train`` holds out the last 10% of the text for validation, prints a progress
line (step, training and validation loss in nats per character, characters per
second, time left) and now and then a sample, and checkpoints the run into
``DIR`` every ``--checkpoint-every`` steps, at the end, and on Ctrl-C (then it
exits with status 130).  ``train --resume --out DIR`` continues from the
checkpoint; with the same ``--steps`` it ends on exactly the same weights as a
run that was never interrupted.  Without TEXTFILE it trains on the built-in
corpus, the Python source of a few standard-library modules
(:data:`rnnbook.charmodel.BUILTIN_FILES`).

Every error (a missing, empty, binary or non-UTF-8 text, a text shorter than
one sequence, a corrupted checkpoint, a temperature of 0 ...) is one line on
stderr, ``rnnbook: error: ...``, and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import signal
import sys
import time
from pathlib import Path

import numpy as np

from rnnbook import checkpoint
from rnnbook.charmodel import (
    BUILTIN_FILES,
    CharModel,
    CharTrainer,
    TextError,
    TrainingDiverged,
    Vocabulary,
    builtin_corpus,
    evaluate,
    read_text,
    sample,
    split_text,
)
from rnnbook.models import CELLS
from rnnbook.teaching.commands import add_subcommands

PROG = "rnnbook"
VALIDATION_FRACTION = 0.1
DEFAULTS = {"model": "rnn", "hidden": 128, "layers": 1, "seq_len": 50, "batch": 32, "lr": 2e-3, "seed": 0}


class CLIError(Exception):
    """An error reported as one line, ``rnnbook: error: ...``, with exit status 1."""


class _Parser(argparse.ArgumentParser):
    # argparse prints the usage before its error message; the tool promises one line.
    def error(self, message: str):
        self.exit(2, f"{PROG}: error: {message} (see {self.prog} --help)\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


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
        description="Train a character-level language model (rnnbook, chapter 8) and write text with it.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = sub.add_parser(
        "train",
        help="train a model on a text file (or the built-in corpus)",
        description=(
            "Train a character-level model. The last 10% of the text is held out for validation. "
            "A checkpoint is saved in DIR every --checkpoint-every steps, at the end and on Ctrl-C (exit status 130); "
            "'rnnbook train --resume --out DIR' continues it, bit for bit as if never interrupted. "
            f"Without TEXTFILE the built-in corpus is used: the Python source of the standard-library "
            f"modules {corpus}, read from this Python's library folder."
        ),
    )
    train.add_argument("text", nargs="?", metavar="TEXTFILE", help="a UTF-8 text file (default: built-in corpus)")
    train.add_argument("--out", required=True, metavar="DIR", help="the run folder for checkpoints")
    train.add_argument(
        "--resume", action="store_true", help="continue the run checkpointed in --out (only --lr may change)"
    )
    train.add_argument("--model", choices=tuple(CELLS), help=f"recurrent layer (default {DEFAULTS['model']})")
    train.add_argument("--hidden", type=_positive_int, metavar="N", help=f"state size (default {DEFAULTS['hidden']})")
    train.add_argument("--layers", type=_positive_int, metavar="N", help="stacked layers (default 1)")
    train.add_argument(
        "--seq-len", type=_positive_int, metavar="N", help=f"characters per chunk (default {DEFAULTS['seq_len']})"
    )
    train.add_argument(
        "--batch", type=_positive_int, metavar="N", help=f"streams side by side (default {DEFAULTS['batch']})"
    )
    train.add_argument(
        "--lr", type=_positive_float, metavar="X", help=f"Adam's learning rate (default {DEFAULTS['lr']})"
    )
    budget = train.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=_positive_int, metavar="N", help="train until this step (default 2000)")
    budget.add_argument("--minutes", type=_positive_float, metavar="X", help="train for this long instead")
    train.add_argument("--seed", type=int, metavar="N", help="seed for weights and data order (default 0)")
    train.add_argument(
        "--checkpoint-every", type=_positive_int, default=200, metavar="N", help="steps between checkpoints (200)"
    )
    train.add_argument(
        "--print-every", type=_positive_int, default=50, metavar="N", help="steps between progress lines (50)"
    )
    train.add_argument("--sample-every", type=_positive_int, default=500, metavar="N", help="steps between samples")

    smp = sub.add_parser(
        "sample", help="write text with a trained model", description="Write text with a trained model."
    )
    smp.add_argument("run", metavar="DIR", help="a run folder written by 'rnnbook train'")
    smp.add_argument("--temperature", type=_positive_float, default=1.0, metavar="X", help="> 0 (default 1.0)")
    smp.add_argument("--length", type=_positive_int, default=500, metavar="N", help="characters to write (500)")
    smp.add_argument("--prime", default="", metavar="TEXT", help="text the model reads first")
    smp.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the sampling (0)")

    info = sub.add_parser("info", help="describe a run folder", description="Describe a run folder.")
    info.add_argument("run", metavar="DIR")

    export = sub.add_parser(
        "export",
        help="write the weights for PyTorch",
        description=(
            "Write the weights as a PyTorch state_dict (torch.save): rnn.weight_ih_l0 ... for torch.nn.RNN/LSTM/GRU "
            "and decoder.weight, decoder.bias for torch.nn.Linear; FILE.json holds the sizes and the vocabulary."
        ),
    )
    export.add_argument("run", metavar="DIR")
    export.add_argument("--torch", required=True, metavar="FILE", help="the .pt file to write")
    add_subcommands(sub)  # rnnbook problems, rnnbook check (the teaching kit)
    return parser


# ---------------------------------------------------------------------------


def _load_text(path: str | None) -> tuple[str, str]:
    """The text and a description of where it came from."""
    if path is None:
        return builtin_corpus(), "built-in corpus"
    return read_text(path), str(Path(path).resolve())


def _fmt_time(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}m{seconds % 60:02d}s"


class _Interrupt:
    """Turns the first Ctrl-C into a flag the training loop checks between steps."""

    def __init__(self) -> None:
        self.requested = False

    def __enter__(self):
        self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        self.requested = True
        signal.signal(signal.SIGINT, self.previous)  # a second Ctrl-C stops at once

    def __exit__(self, *exc) -> None:
        signal.signal(signal.SIGINT, self.previous)


def cmd_train(args: argparse.Namespace) -> int:
    out = Path(args.out)
    has_checkpoint = checkpoint.checkpoint_path(out).exists()
    if args.resume:
        arrays_meta = checkpoint.load(out)[1]
        run = arrays_meta.get("run")
        if not isinstance(run, dict):
            raise CLIError(f"the checkpoint in {out} has no training settings; it cannot be resumed")
        for option, key in [("model", "model"), ("hidden", "hidden_size"), ("layers", "layers")]:
            given = getattr(args, option)
            if given is not None and given != arrays_meta[key]:
                raise CLIError(
                    f"--{option} {given} does not match the checkpoint ({arrays_meta[key]}); drop it to resume"
                )
        for option in ("seq_len", "batch", "seed"):
            given = getattr(args, option)
            if given is not None and given != run[option]:
                flag = "--" + option.replace("_", "-")
                raise CLIError(f"{flag} {given} does not match the checkpoint ({run[option]}); drop it to resume")
        text_path = args.text if args.text is not None else run["text_path"]
        text, source = _load_text(text_path)
        if hashlib.sha256(text.encode("utf-8")).hexdigest() != run["text_sha256"]:
            raise CLIError(f"the text ({source}) is not the one the checkpoint in {out} was trained on")
        settings = run
    else:
        if has_checkpoint:
            raise CLIError(f"{out} already holds a checkpoint; add --resume to continue it, or choose another --out")
        text, source = _load_text(args.text)
        settings = {k: (getattr(args, k) if getattr(args, k) is not None else v) for k, v in DEFAULTS.items()}
        settings |= {"text_path": None if args.text is None else str(Path(args.text).resolve())}
        settings |= {"text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}
        settings |= {"steps": args.steps if args.steps is not None else (None if args.minutes else 2000)}

    train_text, valid_text = split_text(text, VALIDATION_FRACTION)
    if args.resume:
        vocab = Vocabulary(arrays_meta["vocabulary"])
        trainer, vocab, meta = checkpoint.load_training(out, vocab.encode(train_text))
        history = meta.get("validation", [])
        if args.lr is not None:  # a new learning rate is allowed (after a divergence, say)
            settings["lr"] = trainer.optimizer.lr = args.lr
        elapsed_before = float(meta.get("elapsed", 0.0))
    else:
        vocab = Vocabulary.from_text(text)
        rng = np.random.default_rng(settings["seed"])
        model = CharModel(
            len(vocab), settings["hidden"], cell=settings["model"], layers=settings["layers"], rng=rng,
            dtype=np.float32,
        )
        trainer = CharTrainer(
            model, vocab.encode(train_text), seq_len=settings["seq_len"], batch_size=settings["batch"],
            lr=settings["lr"], rng=rng,
        )
        history, elapsed_before = [], 0.0
    valid_ids = vocab.encode(valid_text)
    if args.resume:
        print(f"resuming {out} from step {trainer.step_count}", flush=True)
    if trainer.batch_size < settings["batch"]:
        print(f"note: the text is short; training on {trainer.batch_size} streams instead of {settings['batch']}")
    model = trainer.model
    if args.steps is not None or args.minutes is not None:
        target_steps = args.steps
    else:
        target_steps = settings.get("steps", 2000)
    deadline = None if args.minutes is None else time.monotonic() + 60 * args.minutes
    print(
        f"training a {model.cell} ({model.n_layers} x {model.hidden_size}) on {source}: {len(train_text)} characters "
        f"for training, {len(valid_text)} for validation, vocabulary of {len(vocab)} (uniform guess: "
        f"ln {len(vocab)} = {math.log(len(vocab)):.3f} nats/char)",
        flush=True,
    )

    def save() -> None:
        extra = {"run": settings, "validation": history, "elapsed": elapsed_before + time.monotonic() - start}
        checkpoint.save_training(out, trainer, vocab, extra)

    tty = sys.stdout.isatty()
    start = last_time = time.monotonic()
    last_step = trainer.step_count
    chars_per_step = trainer.batch_size * trainer.seq_len
    with _Interrupt() as interrupt:
        while True:
            if target_steps is not None and trainer.step_count >= target_steps:
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
            try:
                trainer.train_step()
            except TrainingDiverged as err:
                kept = checkpoint.checkpoint_path(out)
                kept = f"the last good checkpoint is kept in {out}" if kept.exists() else "no checkpoint was written"
                raise CLIError(f"training stopped: {err}; {kept}") from None
            step = trainer.step_count
            if step % args.checkpoint_every == 0:
                save()
            if step % args.print_every == 0 or step == target_steps:
                now = time.monotonic()
                speed = (step - last_step) * chars_per_step / max(now - last_time, 1e-9)
                seconds_per_step = (now - last_time) / max(step - last_step, 1)
                last_time, last_step = now, step
                val = evaluate(model, valid_ids)
                history.append([step, val])
                if deadline is not None:
                    left = deadline - now
                else:
                    left = (target_steps - step) * seconds_per_step
                line = (
                    f"step {step}{'' if target_steps is None else '/' + str(target_steps)}  "
                    f"train {np.mean(trainer.losses[-args.print_every:]):.3f}  val {val:.3f} nats/char  "
                    f"{speed:,.0f} chars/s  {_fmt_time(left)} left"
                )
                print(("\r" + line) if tty else line, end="" if tty else "\n", flush=True)
            if step % args.sample_every == 0:
                # The sample has its own rng, so printing samples never changes the training run.
                sample_rng = np.random.default_rng([settings["seed"], step])
                text_sample = sample(model, vocab, 200, temperature=0.8, rng=sample_rng)
                print(("\n" if tty else "") + f"--- sample at step {step} ---\n{text_sample}\n---", flush=True)
            if interrupt.requested:
                save()
                print(
                    f"\ninterrupted at step {step}; checkpoint saved in {out}. "
                    f"Continue with: rnnbook train --resume --out {out}",
                    flush=True,
                )
                return 130
    save()
    val = evaluate(model, valid_ids)
    print(
        ("\n" if tty else "")
        + f"done: step {trainer.step_count}, validation loss {val:.3f} nats/char "
        f"(uniform guess {math.log(len(vocab)):.3f}), {_fmt_time(time.monotonic() - start)} this run; "
        f"checkpoint in {out}",
        flush=True,
    )
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    model, vocab, _ = checkpoint.load_model(args.run)
    missing = vocab.unknown(args.prime)
    if missing:
        raise CLIError(
            "the priming text has characters that are not in the model's vocabulary: "
            + ", ".join(repr(c) for c in missing)
        )
    text = sample(model, vocab, args.length, temperature=args.temperature, prime=args.prime, rng=args.seed)
    print(args.prime + text)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    model, vocab, meta = checkpoint.load_model(args.run)
    n_params = sum(int(p.size) for p in model.params.values())
    run = meta.get("run", {})
    trainer = meta.get("trainer", {})
    print(f"run folder:      {Path(args.run).resolve()}")
    print(f"format version:  {meta['format_version']}")
    print(f"model:           {model.cell}, {model.n_layers} layer(s) of {model.hidden_size}, {n_params:,} parameters")
    print(f"vocabulary:      {len(vocab)} characters {vocab.chars!r}")
    print(f"uniform guess:   ln {len(vocab)} = {math.log(len(vocab)):.3f} nats/char")
    print(f"text:            {run.get('text_path') or 'built-in corpus'}")
    print(
        f"training:        step {trainer.get('step')}, seq-len {run.get('seq_len')}, batch {run.get('batch')}, "
        f"lr {run.get('lr')}, seed {run.get('seed')}"
    )
    if meta.get("validation"):
        step, val = meta["validation"][-1]
        print(f"validation loss: {val:.3f} nats/char at step {step}")
    return 0


def torch_state_dict(model: CharModel) -> dict[str, np.ndarray]:
    """The model's weights under ``torch.nn.RNN/LSTM/GRU`` (``rnn.*``) and ``torch.nn.Linear`` (``decoder.*``) names."""
    state = {}
    for k in range(model.n_layers):
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            state[f"rnn.{name}_l{k}"] = model.params[f"layer{k}.{name}"]
    state["decoder.weight"] = model.params["readout.weight"]
    state["decoder.bias"] = model.params["readout.bias"]
    return state


def cmd_export(args: argparse.Namespace) -> int:
    model, vocab, _ = checkpoint.load_model(args.run)
    try:
        import torch
    except ImportError:
        raise CLIError("export --torch needs PyTorch, which is not installed (pip install torch)") from None
    target = Path(args.torch)
    if not target.parent.is_dir():
        raise CLIError(f"{target.parent}: no such folder")
    torch.save({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in torch_state_dict(model).items()}, target)
    config = {
        "model": model.cell,
        "input_size": model.vocab_size,
        "hidden_size": model.hidden_size,
        "num_layers": model.n_layers,
        "vocabulary": vocab.chars,
    }
    Path(str(target) + ".json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {target} ({model.cell}, {model.n_layers} x {model.hidden_size}) and {target}.json")
    return 0


COMMANDS = {"train": cmd_train, "sample": cmd_sample, "info": cmd_info, "export": cmd_export}


def main(argv: list[str] | None = None) -> int:
    """Run the ``rnnbook`` command with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS.get(args.command, getattr(args, "func", None))(args)
    except (CLIError, TextError, TrainingDiverged, checkpoint.CheckpointError) as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: error: interrupted", file=sys.stderr)
        return 130
    except (OSError, ValueError, TypeError) as err:
        # Anything else the user can cause (a folder that cannot be written, ...): one line, no traceback.
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 1
