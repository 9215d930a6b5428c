"""``rnnbook train``: resolve the settings, build or resume the run, then the training loop.

The settings of a run (``rnnbook.cli.parser.DEFAULTS``) come from the
command line for a new run and from the checkpoint when resuming, where only
``--lr`` and the budget may change; they are saved with every checkpoint, so
``--resume`` needs nothing but ``--out``.  The budget is a step to reach
(``--steps``) or a total training time (``--minutes``, counted over every
resumption); a resumed run without a new budget continues towards the saved one.

The run folder is checked and locked before anything else
(:func:`rnnbook.cli.runtime.open_run_folder`); printing never stops the
training (:class:`rnnbook.cli.runtime.Console`); SIGTERM and SIGHUP save like Ctrl-C.
A run whose validation loss is still worse than guessing uniformly
(:math:`\\ln V`) after :data:`WARMUP_STEPS` steps gets one warning on stderr
and goes on: the checkpoint is still the user's to keep or drop.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnbook.cli.errors import CLIError, printable, terminal_text
from rnnbook.cli.parser import DEFAULTS, VALIDATION_FRACTION
from rnnbook.cli.runtime import EXIT_STATUS, Console, StopSignals, fmt_time, open_run_folder, warn
from rnnbook.data.encoding import Vocabulary
from rnnbook.data.text import TextError, builtin_corpus, read_text, split_text
from rnnbook.layers.registry import CELLS
from rnnbook.models.charmodel import CharModel, sample
from rnnbook.training import checkpoint
from rnnbook.training.chartrainer import MAX_MEMORY_BYTES, CharTrainer, evaluate, memory_estimate, streams_for
from rnnbook.training.loop import TrainingDiverged

#: The options that fix the model, with the name of each in a checkpoint's record.
MODEL_OPTIONS = {"model": "cell", "hidden": "hidden_size", "layers": "layers"}
#: The options that fix the data order, which a resumed run must keep.
DATA_OPTIONS = ("seq_len", "batch", "seed")
#: Steps after which a validation loss above the uniform guess ln V earns a warning.
WARMUP_STEPS = 50


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


def _load_text(path: str | None, corpus: str | None) -> tuple[str, str]:
    """The text (the file at ``path``, else the built-in ``corpus``) and a description of where it came from."""
    if path is None:
        corpus = corpus or "small"  # runs saved before --corpus existed trained on the small one
        return builtin_corpus(corpus), f"built-in corpus ({corpus})"
    return read_text(path), printable(_absolute(path))


def _absolute(path: str) -> str:
    """``path`` made absolute, its symbolic links resolved where they can be (read_text reports a loop)."""
    try:
        return str(Path(path).resolve())
    except (OSError, RuntimeError):  # Python < 3.13 raises RuntimeError for a symbolic link loop
        return str(Path(path).absolute())


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def resolve_settings(args: argparse.Namespace, out: Path) -> tuple[dict, checkpoint.RunRecord | None]:
    """The settings of the run: the options over the defaults, or the checkpoint's when resuming.

    Returns the settings and, when resuming, the checkpoint's record.
    """
    if args.text is not None and args.corpus is not None:
        raise CLIError(f"give a TEXTFILE or --corpus, not both (got {printable(args.text)} and --corpus {args.corpus})")
    if not args.resume:
        if checkpoint.checkpoint_path(out).exists():
            raise CLIError(f"{out} already holds a checkpoint; add --resume to continue it, or choose another --out")
        settings = {k: (getattr(args, k) if getattr(args, k) is not None else v) for k, v in DEFAULTS.items()}
        if args.steps is None and args.minutes:
            settings["steps"] = None
        settings["minutes"] = args.minutes
        settings["text_path"] = None if args.text is None else _absolute(args.text)
        settings["corpus"] = None if args.text is not None else args.corpus or "small"
        return settings, None
    record = checkpoint.read_record(checkpoint.load_metadata(out))
    if record.settings is None:
        raise CLIError(f"the checkpoint in {out} has no training settings; it cannot be resumed")
    for option, field in MODEL_OPTIONS.items():
        given, saved = getattr(args, option), getattr(record, field)
        if given is not None and given != saved:
            raise CLIError(f"--{option} {given} does not match the checkpoint ({saved}); drop it to resume")
    saved_corpus = None if record.settings.get("text_path") else record.settings.get("corpus") or "small"
    if args.corpus is not None and args.corpus != saved_corpus:
        saved = f"--corpus {saved_corpus}" if saved_corpus else "a text file"
        raise CLIError(f"--corpus {args.corpus} does not match the checkpoint (trained on {saved}); drop it to resume")
    for option in DATA_OPTIONS:
        given = getattr(args, option)
        if given is not None and given != record.settings[option]:
            flag, saved = "--" + option.replace("_", "-"), record.settings[option]
            raise CLIError(f"{flag} {given} does not match the checkpoint ({saved}); drop it to resume")
    return dict(record.settings), record


def build_or_resume(args: argparse.Namespace, out: Path, settings: dict, record: checkpoint.RunRecord | None) -> Run:
    """A new run from ``settings``, or the checkpointed run of ``out`` restored (``record`` given)."""
    text_path = args.text if args.text is not None else settings.get("text_path")
    try:
        text, source = _load_text(text_path, settings.get("corpus"))
    except TextError as err:
        if record is None or args.text is not None or text_path is None:
            raise
        raise CLIError(
            f"{err}; the run in {out} was trained on that file: if it moved, give its new place, "
            f"'rnnbook train TEXTFILE --resume --out {out}'"
        ) from None
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
    check_memory(settings, len(vocab), len(text), len(train_text))
    rng = np.random.default_rng(settings["seed"])
    model = CharModel(
        len(vocab), settings["hidden"], cell=settings["model"], layers=settings["layers"], rng=rng, dtype=np.float32
    )
    trainer = CharTrainer(
        model, vocab.encode(train_text), seq_len=settings["seq_len"], batch_size=settings["batch"],
        lr=settings["lr"], rng=rng,
    )
    return Run(trainer, vocab, settings, source, train_text, valid_text, [], 0.0)


def check_memory(settings: dict, vocab_size: int, n_chars: int, n_train: int) -> None:
    """Refuse sizes whose training would need more than the memory cap, before anything is allocated.

    The cap is :data:`rnnbook.training.chartrainer.MAX_MEMORY_BYTES`; the
    estimate :func:`rnnbook.training.chartrainer.memory_estimate`, plus the
    text's ``n_chars`` characters as 8-byte indices (``n_train`` of them for training).
    """
    streams = max(1, streams_for(n_train, settings["seq_len"], settings["batch"]))
    need = memory_estimate(
        vocab_size, settings["hidden"], settings["layers"], gates=CELLS[settings["model"]].gates,
        seq_len=settings["seq_len"], batch_size=streams,
    ) + 8 * n_chars
    if need > MAX_MEMORY_BYTES:
        raise CLIError(
            f"--hidden {settings['hidden']} --layers {settings['layers']} --batch {settings['batch']} --seq-len "
            f"{settings['seq_len']} on {n_chars:,} characters would need about {need / 2**30:,.1f} GiB of memory, "
            f"more than the {MAX_MEMORY_BYTES / 2**30:g} GiB limit; choose smaller sizes or a shorter text"
        )


def budget(args: argparse.Namespace, settings: dict, elapsed_before: float) -> tuple[int | None, float | None]:
    """The step to reach and the seconds to train in this run (one of them None); saves the budget in ``settings``.

    A new ``--steps`` or ``--minutes`` replaces the saved budget (``--minutes``
    counts from now); without either, a resumed run continues towards the
    saved one: its step, or what is left of its total time.
    """
    if args.steps is not None:
        settings["steps"], settings["minutes"] = args.steps, None
    elif args.minutes is not None:
        settings["steps"], settings["minutes"] = None, elapsed_before / 60 + args.minutes
        return None, 60 * args.minutes
    if settings.get("steps") is not None:
        return settings["steps"], None
    if settings.get("minutes") is not None:
        return None, max(0.0, 60 * settings["minutes"] - elapsed_before)
    raise CLIError("the checkpoint does not say how long to train; give --steps N or --minutes X")


def _stopped(console: Console, received: signal.Signals, step: int, out: Path) -> int:
    """Report a stop by signal (the checkpoint is saved); the exit status, 128 + the signal's number."""
    verb = "interrupted" if received == signal.SIGINT else "terminated"
    console.print(
        f"\n{verb} at step {step} by {received.name}; checkpoint saved in {out}. "
        f"Continue with: rnnbook train --resume --out {out}"
    )
    return EXIT_STATUS[received]


class _Progress:
    """The progress line, and the one warning about a run worse than guessing uniformly."""

    def __init__(self, console: Console, trainer: CharTrainer, vocab_size: int, target: int | None, warmup: int):
        self.console, self.trainer, self.target, self.warmup = console, trainer, target, warmup
        self.uniform = math.log(vocab_size)
        self.warned = False
        self.last_time, self.last_step = time.monotonic(), trainer.step_count

    def check(self, step: int, val: float) -> None:
        if step >= self.warmup and val > self.uniform and not self.warned:
            self.warned = True
            warn(
                f"at step {step} the validation loss ({val:.3f} nats/char) is worse than guessing uniformly "
                f"(ln V = {self.uniform:.3f}): the run is not learning; try another --lr "
                f"(now {self.trainer.optimizer.lr:g})"
            )

    def report(self, step: int, val: float, deadline: float | None, print_every: int) -> None:
        now = time.monotonic()
        speed = (step - self.last_step) * self.trainer.batch_size * self.trainer.seq_len / max(now - self.last_time,
                                                                                               1e-9)
        seconds_per_step = (now - self.last_time) / max(step - self.last_step, 1)
        self.last_time, self.last_step = now, step
        left = deadline - now if deadline is not None else (self.target - step) * seconds_per_step
        line = (
            f"step {step}{'' if self.target is None else '/' + str(self.target)}  "
            f"train {np.mean(self.trainer.losses[-print_every:]):.3f}  val {val:.3f} nats/char  "
            f"{speed:,.0f} chars/s  {fmt_time(left)} left"
        )
        tty = self.console.isatty()
        self.console.print(("\r" + line) if tty else line, end="" if tty else "\n")
        self.check(step, val)


def train_loop(args: argparse.Namespace, out: Path, run: Run, console: Console) -> int:
    """Train until the step or time budget is spent, checkpointing, reporting and sampling on the way."""
    trainer, vocab, settings, history = run.trainer, run.vocab, run.settings, run.history
    model = trainer.model
    valid_ids = vocab.encode(run.valid_text)
    if args.resume:
        console.print(f"resuming {out} from step {trainer.step_count}")
    if trainer.batch_size < settings["batch"]:
        console.print(
            f"note: the text is short; training on {trainer.batch_size} streams instead of {settings['batch']}"
        )
    start = time.monotonic()
    target_steps, seconds = budget(args, settings, run.elapsed_before)
    if args.steps is not None and args.steps <= trainer.step_count:
        raise CLIError(
            f"--steps {args.steps} is not beyond the checkpoint's step {trainer.step_count}: there is nothing to "
            "train; give a larger --steps"
        )
    deadline = None if seconds is None else start + seconds
    console.print(
        f"training a {model.cell} ({model.n_layers} x {model.hidden_size}) on {run.source}: "
        f"{len(run.train_text):,} characters for training, {len(run.valid_text):,} for validation, vocabulary of "
        f"{len(vocab)} (uniform guess: ln {len(vocab)} = {math.log(len(vocab)):.3f} nats/char)"
    )

    def save() -> None:
        elapsed = run.elapsed_before + time.monotonic() - start
        checkpoint.save_run(out, trainer, vocab, settings=settings, validation=history, elapsed=elapsed)

    progress = _Progress(console, trainer, len(vocab), target_steps, WARMUP_STEPS)
    with StopSignals() as signals:
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
                val = evaluate(model, valid_ids)
                history.append([step, val])
                progress.report(step, val, deadline, args.print_every)
            if step % args.sample_every == 0 and not console.closed:
                # The sample has its own rng, so printing samples never changes the training run.
                sample_rng = np.random.default_rng([settings["seed"], step])
                text_sample = sample(model, vocab, 200, temperature=0.8, rng=sample_rng)
                text_sample = terminal_text(text_sample) if console.isatty() else text_sample
                console.print(("\n" if console.isatty() else "") + f"--- sample at step {step} ---\n{text_sample}\n---")
            if signals.received is not None:
                save()
                return _stopped(console, signals.received, step, out)
        # The final loss is saved with the run too (a run may end between two progress lines), so that
        # `rnnbook info` reports the number printed below.
        if history and history[-1][0] == trainer.step_count:
            val = history[-1][1]
        else:
            val = evaluate(model, valid_ids)
            history.append([trainer.step_count, val])
        save()
    if trainer.step_count >= WARMUP_STEPS:
        progress.check(trainer.step_count, val)
    console.print(
        ("\n" if console.isatty() else "")
        + f"done: step {trainer.step_count}, validation loss {val:.3f} nats/char "
        f"(uniform guess {math.log(len(vocab)):.3f}), {fmt_time(time.monotonic() - start)} this run; "
        f"checkpoint in {out}"
    )
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """``rnnbook train``: resolve the settings, build or resume the run, train."""
    with open_run_folder(args.out, create=not args.resume) as out:
        settings, record = resolve_settings(args, out)
        return train_loop(args, out, build_or_resume(args, out, settings, record), Console(keep_going=True))
