"""``rnnbook sample``, ``rnnbook info`` and ``rnnbook export``: what to do with a trained run."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from rnnbook.cli.errors import CLIError, printable, terminal_text
from rnnbook.cli.runtime import Console, fmt_time, open_run_folder
from rnnbook.models.charmodel import sample
from rnnbook.training import checkpoint
from rnnbook.training.torch_export import export_torch


def _run_folder(run: str) -> str:
    """The DIR argument, refused when empty (``Path("")`` would silently be the current folder)."""
    if not run:
        raise CLIError("DIR must name a run folder, got an empty string")
    return run


def cmd_sample(args: argparse.Namespace) -> int:
    """Write ``--length`` characters with the model of a run folder."""
    model, vocab, _ = checkpoint.load_model(_run_folder(args.run))
    missing = vocab.unknown(args.prime)
    if missing:
        raise CLIError(
            "the priming text has characters that are not in the model's vocabulary: "
            + ", ".join(repr(c) for c in missing[:10])
            + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        )
    text = sample(model, vocab, args.length, temperature=args.temperature, prime=args.prime, rng=args.seed)
    console = Console()
    console.print(terminal_text(args.prime + text) if console.isatty() else args.prime + text)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    """Describe a run folder: the model, its vocabulary, the training settings and the last validation loss."""
    model, vocab, meta = checkpoint.load_model(_run_folder(args.run))
    console = Console()
    record = checkpoint.read_record(meta)
    n_params = sum(int(p.size) for p in model.params.values())
    run = record.settings or {}
    console.print(f"run folder:      {printable(Path(args.run).resolve())}")
    console.print(f"format version:  {record.format_version}")
    console.print(
        f"model:           {model.cell}, {model.n_layers} layer(s) of {model.hidden_size}, {n_params:,} parameters"
    )
    console.print(f"vocabulary:      {len(vocab)} characters {vocab.chars!r}")
    console.print(f"uniform guess:   ln {len(vocab)} = {math.log(len(vocab)):.3f} nats/char")
    if record.settings is None:  # saved by the library (checkpoint.save_training), not by 'rnnbook train'
        console.print("text:            not recorded (the run was not saved by 'rnnbook train')")
        console.print(f"training:        step {record.step if record.step is not None else 'not recorded'}")
    else:
        text = run.get("text_path") or f"built-in corpus ({run.get('corpus') or 'small'})"
        console.print(f"text:            {printable(text)}")
        console.print(
            f"training:        step {record.step}, seq-len {run.get('seq_len')}, batch {run.get('batch')}, "
            f"lr {run.get('lr')}, seed {run.get('seed')}, {fmt_time(record.elapsed)} of training"
        )
    console.print(
        "resumable:       " + ("yes ('rnnbook train --resume --out DIR')" if record.resumable
                               else "no: the weights only (as 'rnnbook export --weights' writes them)")
    )
    if record.validation:
        step, val = record.validation[-1]
        console.print(f"validation loss: {val:.3f} nats/char at step {step}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write the weights of a run folder for PyTorch (see :func:`rnnbook.training.torch_export.export_torch`),
    or, with ``--weights``, as a smaller run folder (:func:`rnnbook.training.checkpoint.export_weights`)."""
    if args.weights is not None:
        return _export_weights(_run_folder(args.run), args.weights)
    if not args.torch:
        raise CLIError("--torch must name the file to write, got an empty string")
    target = Path(args.torch)
    config = Path(str(target) + ".json")
    source = checkpoint.checkpoint_path(_run_folder(args.run))
    for path in (target, config):
        if path.exists() and not path.is_file():
            raise CLIError(
                f"--torch {printable(target)}: {printable(path)} exists and is not a regular file; give a new file name"
            )
        if path.exists() and source.exists() and path.samefile(source):
            raise CLIError(
                f"--torch {printable(target)}: {printable(path)} is the run's checkpoint; writing it would destroy "
                "the trained run; give a new file name"
            )
    if not target.parent.is_dir():
        raise CLIError(f"--torch {printable(target)}: no such folder {printable(target.parent)}")
    try:
        model, config = export_torch(args.run, target)
    except ImportError:
        raise CLIError("export --torch needs PyTorch, which is not installed (pip install torch)") from None
    message = (
        f"wrote {printable(target)} ({model.cell}, {model.n_layers} x {model.hidden_size}) and {printable(config)}"
    )
    Console(keep_going=True).print(message)  # the files are the result: a failed message does not undo them
    return 0


def _export_weights(run: str, target: str) -> int:
    """``export --weights``: the run's weights as a new run folder, locked while it is written."""
    with open_run_folder(target, create=True, option="--weights") as folder:
        try:
            written = checkpoint.export_weights(run, folder)
        except FileExistsError:
            raise CLIError(
                f"--weights {printable(target)}: the folder already holds a checkpoint, which writing would "
                "destroy; give a new folder name"
            ) from None
    size = written.stat().st_size
    Console(keep_going=True).print(f"wrote {printable(written)} (the weights only, {size / 2**20:.1f} MiB)")
    return 0
