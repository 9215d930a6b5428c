"""Saving and loading a character model's training run, safely.

A checkpoint is one file, ``checkpoint.npz`` in the run's folder: numpy's
zip of arrays (the weights, Adam's memory, the state carried between chunks,
the loss of every step) plus one more entry, ``__metadata__``, holding a JSON
document as UTF-8 bytes: the format version, the model kind and sizes, the
vocabulary, the step, the position in the text and the state of the random
number generator.  It is read with ``allow_pickle=False``, so loading a
checkpoint never runs code.

Writing is atomic: the file is written under a temporary name in the same
folder, flushed to disk with ``fsync``, and then renamed over the old one with
``os.replace``.  A run killed half-way through a save leaves the previous
checkpoint intact.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from rnnbook.charmodel import CharModel, CharTrainer, Vocabulary

#: Bumped whenever the layout changes; other versions are refused with a clear message.
FORMAT_VERSION = 1
FILENAME = "checkpoint.npz"
_META_KEY = "__metadata__"


class CheckpointError(ValueError):
    """A checkpoint that is missing, corrupted, or of another format version."""


def checkpoint_path(directory: str | Path) -> Path:
    """The checkpoint file of a run folder."""
    return Path(directory) / FILENAME


def save(directory: str | Path, arrays: dict[str, np.ndarray], metadata: dict) -> Path:
    """Write ``arrays`` and ``metadata`` to ``directory/checkpoint.npz``, atomically.

    Parameters
    ----------
    directory : str or Path
        The run folder; created if needed.
    arrays : dict of str to numpy.ndarray
        Numeric arrays only (no objects: they could not be loaded without pickle).
    metadata : dict
        JSON-serialisable; ``format_version`` is added.

    Returns
    -------
    Path
        The checkpoint file.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, value in arrays.items():
        if value.dtype == object:
            raise TypeError(f"array {name!r} has dtype object; checkpoints hold numeric arrays only")
    meta = {"format_version": FORMAT_VERSION} | metadata
    blob = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    target = checkpoint_path(directory)
    fd, tmp = tempfile.mkstemp(prefix=".checkpoint-", suffix=".npz.tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays, **{_META_KEY: blob})
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    # Make the rename itself durable (POSIX: fsync the folder); not possible on every system.
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return target
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
    return target


def load(directory: str | Path) -> tuple[dict[str, np.ndarray], dict]:
    """Read ``directory/checkpoint.npz``; return ``(arrays, metadata)``.

    Raises
    ------
    CheckpointError
        If there is no checkpoint, the file is not a readable checkpoint
        (truncated, overwritten, not an ``.npz``), or it was written by another
        format version.
    """
    path = checkpoint_path(directory)
    if not Path(directory).is_dir():
        raise CheckpointError(f"{directory}: no such run folder")
    if not path.is_file():
        raise CheckpointError(f"{directory}: no checkpoint there (expected {path})")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        meta = json.loads(arrays.pop(_META_KEY).tobytes().decode("utf-8"))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path}: corrupted or not an rnnbook checkpoint ({type(err).__name__}: {err})") from None
    if not isinstance(meta, dict) or "format_version" not in meta:
        raise CheckpointError(f"{path}: not an rnnbook checkpoint (no format version)")
    if meta["format_version"] != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {meta['format_version']}, this rnnbook reads version "
            f"{FORMAT_VERSION}; retrain, or use the rnnbook version that wrote it"
        )
    return arrays, meta


def model_metadata(model: CharModel, vocab: Vocabulary) -> dict:
    """What it takes to rebuild ``model``: kind, sizes, dtype and vocabulary."""
    return {
        "model": model.cell,
        "vocab_size": model.vocab_size,
        "hidden_size": model.hidden_size,
        "layers": model.n_layers,
        "dtype": model.dtype.name,
        "vocabulary": vocab.chars,
    }


def save_training(directory: str | Path, trainer: CharTrainer, vocab: Vocabulary, extra: dict | None = None) -> Path:
    """Checkpoint a training run: the model, the trainer's full state and ``extra`` metadata."""
    meta = model_metadata(trainer.model, vocab) | {"trainer": trainer.state_meta()} | (extra or {})
    return save(directory, trainer.state_arrays(), meta)


def _build(arrays: dict[str, np.ndarray], meta: dict) -> tuple[CharModel, Vocabulary]:
    try:
        vocab = Vocabulary(meta["vocabulary"])
        model = CharModel(
            int(meta["vocab_size"]), int(meta["hidden_size"]), cell=meta["model"], layers=int(meta["layers"]),
            rng=0, dtype=np.dtype(meta["dtype"]),
        )
        model.load_params({k[len("param/"):]: v for k, v in arrays.items() if k.startswith("param/")})
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"the checkpoint does not describe a valid model: {err}") from None
    if len(vocab) != model.vocab_size:
        raise CheckpointError(f"the checkpoint's vocabulary has {len(vocab)} characters, its model {model.vocab_size}")
    return model, vocab


def load_model(directory: str | Path) -> tuple[CharModel, Vocabulary, dict]:
    """The trained model of a run folder, its vocabulary and the checkpoint's metadata."""
    arrays, meta = load(directory)
    model, vocab = _build(arrays, meta)
    return model, vocab, meta


def load_training(directory: str | Path, ids: np.ndarray) -> tuple[CharTrainer, Vocabulary, dict]:
    """Rebuild a training run from its checkpoint, ready to continue where it stopped.

    Parameters
    ----------
    directory : str or Path
        The run folder.
    ids : numpy.ndarray of int, shape (N,)
        The same training text, encoded with the checkpoint's vocabulary.
    """
    arrays, meta = load(directory)
    model, vocab = _build(arrays, meta)
    try:
        t = meta["trainer"]
        trainer = CharTrainer(
            model, ids, seq_len=int(t["seq_len"]), batch_size=int(t["batch_size"]), lr=float(t["lr"]),
            max_norm=float(t["max_norm"]), rng=0,
        )
        trainer.load_state(arrays, t)
    except (KeyError, TypeError) as err:
        raise CheckpointError(f"the checkpoint has no complete training state: {err}") from None
    return trainer, vocab, meta
