"""``rnnbook train``: resolve the settings, build or resume the run, then the training loop.

The settings of a run (:data:`rnnbook.cli.parser.DEFAULTS`) come from the
command line for a new run and from the checkpoint when resuming, where only
``--lr`` may change; they are saved with every checkpoint, so ``--resume``
needs nothing but ``--out``.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnbook.cli.errors import CLIError
from rnnbook.cli.parser import DEFAULTS, VALIDATION_FRACTION
from rnnbook.data.encoding import Vocabulary
from rnnbook.data.text import builtin_corpus, read_text, split_text
from rnnbook.models.charmodel import CharModel, sample
from rnnbook.training import checkpoint
from rnnbook.training.chartrainer import CharTrainer, evaluate
from rnnbook.training.loop import TrainingDiverged

#: The options that fix the model, with the name of each in a checkpoint's record.
MODEL_OPTIONS = {"model": "cell", "hidden": "hidden_size", "layers": "layers"}
#: The options that fix the data order, which a resumed run must keep.
DATA_OPTIONS = ("seq_len", "batch", "seed")


@dataclass
class Run:
    """A training run ready to continue: the trainer and what the loop reports and saves."""

    trainer: CharTrainer
    vocab: Vocabulary
    settings: dict
    source: str
    train_text: str
    valid_text: str
    history: list
    elapsed_before: float


def _load_text(path: str | None) -> tuple[str, str]:
    """The text and a description of where it came from."""
    if path is None:
        return builtin_corpus(), "built-in corpus"
    return read_text(path), str(Path(path).resolve())


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _fmt_time(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}m{seconds % 60:02d}s"


def resolve_settings(args: argparse.Namespace, out: Path) -> tuple[dict, checkpoint.RunRecord | None]:
    """The settings of the run: the options over the defaults, or the checkpoint's when resuming.

    Returns the settings and, when resuming, the checkpoint's record.
    """
    if not args.resume:
        if checkpoint.checkpoint_path(out).exists():
            raise CLIError(f"{out} already holds a checkpoint; add --resume to continue it, or choose another --out")
        settings = {k: (getattr(args, k) if getattr(args, k) is not None else v) for k, v in DEFAULTS.items()}
        if args.steps is None and args.minutes:
            settings["steps"] = None
        settings["text_path"] = None if args.text is None else str(Path(args.text).resolve())
        return settings, None
    record = checkpoint.read_record(checkpoint.load(out)[1])
    if record.settings is None:
        raise CLIError(f"the checkpoint in {out} has no training settings; it cannot be resumed")
    for option, field in MODEL_OPTIONS.items():
        given, saved = getattr(args, option), getattr(record, field)
        if given is not None and given != saved:
            raise CLIError(f"--{option} {given} does not match the checkpoint ({saved}); drop it to resume")
    for option in DATA_OPTIONS:
        given = getattr(args, option)
        if given is not None and given != record.settings[option]:
            flag, saved = "--" + option.replace("_", "-"), record.settings[option]
            raise CLIError(f"{flag} {given} does not match the checkpoint ({saved}); drop it to resume")
    return dict(record.settings), record


def build_or_resume(args: argparse.Namespace, out: Path, settings: dict, record: checkpoint.RunRecord | None) -> Run:
    """A new run from ``settings``, or the checkpointed run of ``out`` restored (``record`` given)."""
    text_path = args.text if args.text is not None else settings.get("text_path")
    text, source = _load_text(text_path)
    if record is not None and _sha256(text) != settings["text_sha256"]:
        raise CLIError(f"the text ({source}) is not the one the checkpoint in {out} was trained on")
    settings["text_sha256"] = _sha256(text)
    train_text, valid_text = split_text(text, VALIDATION_FRACTION)
    if record is not None:
        vocab = Vocabulary(record.vocabulary, specials=False)
        trainer, vocab, _ = checkpoint.load_training(out, vocab.encode(train_text))
        if args.lr is not None:  # a new learning rate is allowed (after a divergence, say)
            settings["lr"] = trainer.optimizer.lr = args.lr
        return Run(trainer, vocab, settings, source, train_text, valid_text, record.validation, record.elapsed)
    vocab = Vocabulary.from_text(text)
    rng = np.random.default_rng(settings["seed"])
    model = CharModel(
        len(vocab), settings["hidden"], cell=settings["model"], layers=settings["layers"], rng=rng, dtype=np.float32
    )
    trainer = CharTrainer(
        model, vocab.encode(train_text), seq_len=settings["seq_len"], batch_size=settings["batch"],
        lr=settings["lr"], rng=rng,
    )
    return Run(trainer, vocab, settings, source, train_text, valid_text, [], 0.0)


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


def train_loop(args: argparse.Namespace, out: Path, run: Run) -> int:
    """Train until the step or time budget is spent, checkpointing, reporting and sampling on the way."""
    trainer, vocab, settings, history = run.trainer, run.vocab, run.settings, run.history
    model = trainer.model
    valid_ids = vocab.encode(run.valid_text)
    if args.resume:
        print(f"resuming {out} from step {trainer.step_count}", flush=True)
    if trainer.batch_size < settings["batch"]:
        print(f"note: the text is short; training on {trainer.batch_size} streams instead of {settings['batch']}")
    if args.steps is not None or args.minutes is not None:
        target_steps = args.steps
    else:
        target_steps = settings.get("steps", DEFAULTS["steps"])
    deadline = None if args.minutes is None else time.monotonic() + 60 * args.minutes
    print(
        f"training a {model.cell} ({model.n_layers} x {model.hidden_size}) on {run.source}: "
        f"{len(run.train_text)} characters for training, {len(run.valid_text)} for validation, vocabulary of "
        f"{len(vocab)} (uniform guess: ln {len(vocab)} = {math.log(len(vocab)):.3f} nats/char)",
        flush=True,
    )

    def save() -> None:
        elapsed = run.elapsed_before + time.monotonic() - start
        checkpoint.save_run(out, trainer, vocab, settings=settings, validation=history, elapsed=elapsed)

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
                left = deadline - now if deadline is not None else (target_steps - step) * seconds_per_step
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


def cmd_train(args: argparse.Namespace) -> int:
    """``rnnbook train``: resolve the settings, build or resume the run, train."""
    out = Path(args.out)
    settings, record = resolve_settings(args, out)
    return train_loop(args, out, build_or_resume(args, out, settings, record))
