"""The checkpoint file format, all of it: array names, metadata, saving, loading.

A checkpoint is one file, ``checkpoint.npz`` in the run's folder: numpy's
zip of arrays (the weights, Adam's memory, the state carried between chunks,
the loss of every step) plus one more entry, ``__metadata__``, holding a JSON
document as UTF-8 bytes: the format version, the model kind and sizes, the
vocabulary, the step, the position in the text and the state of the random
number generator.  It is read with ``allow_pickle=False``, so loading a
checkpoint never runs code.

Writing is atomic: the file is written under a temporary name in the same
folder (``.checkpoint-*.npz.tmp``, created with the mode the umask gives new
files), flushed to disk with ``fsync``, and then renamed over the old one with
``os.replace``.  A run killed half-way through a save leaves the previous
checkpoint intact, and the temporary file, which :func:`remove_stale_temporaries`
deletes at the next start.

Reading treats the file as untrusted input (see
:mod:`rnnbook.training.checkpoint_checks`): the metadata is checked against a
schema, the memory it asks for against a cap, and every array's header
against the metadata before its data is read; only the arrays needed are read.

The arrays are named ``param/<name>`` (the model's parameters),
``optim/<name>/<slot>`` and ``optim/steps`` (Adam's memory),
``state/<layer>/<part>`` (the state carried between chunks: ``h``, and ``c``
for an LSTM) and ``losses``.  :func:`~rnnbook.training.run_record.read_record`
reads the metadata into a :class:`~rnnbook.training.run_record.RunRecord`,
so no other module needs to know its keys, and
:mod:`rnnbook.training.torch_export` writes the weights under PyTorch's names.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from pathlib import Path

import numpy as np

from rnnbook._validation import check_instance
from rnnbook.data.encoding import Vocabulary
from rnnbook.models.charmodel import CharModel
from rnnbook.training.chartrainer import MAX_MEMORY_BYTES, CharTrainer, streams_for
from rnnbook.training.checkpoint_checks import (
    CheckpointError,
    check_loadable,
    check_memory,
    check_metadata,
    check_savable,
    expected_arrays,
    open_zip,
    parse_metadata,
    read_array,
    read_metadata_member,
)
from rnnbook.training.run_record import RunRecord, read_record  # noqa: F401 (re-exported for the command line)

#: Bumped whenever the layout changes; other versions are refused with a clear message.
FORMAT_VERSION = 1
FILENAME = "checkpoint.npz"
_META_KEY = "__metadata__"
_TEMPORARY = ".checkpoint-*.npz.tmp"


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
        Integer and float arrays only, floats finite (anything else could not
        be loaded again: objects need pickle).
    metadata : dict
        JSON-serialisable; ``format_version`` is added.

    Returns
    -------
    Path
        The checkpoint file.
    """
    check_savable(arrays, metadata, _META_KEY)
    # A Fortran-ordered array (a transpose, say) would be written with fortran_order=True, which loads refuse.
    # (np.ascontiguousarray would also make a 0-d array 1-d: only the others are copied.)
    arrays = {k: v if v.flags.c_contiguous else np.ascontiguousarray(v) for k, v in arrays.items()}
    meta = {"format_version": FORMAT_VERSION} | metadata
    try:  # NaN and infinity are not JSON: a checkpoint holding them could not be loaded again
        text = json.dumps(meta, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValueError(f"metadata must be JSON numbers, strings, lists and dicts (finite numbers): {err}") from None
    blob = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    target = checkpoint_path(directory)
    tmp = directory / _TEMPORARY.replace("*", secrets.token_hex(8))
    # Mode 0o666 minus the umask, as for any new file (tempfile.mkstemp would make it 0o600).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays, **{_META_KEY: blob})
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise OSError(err.errno, f"cannot write the checkpoint {target}: {err.strerror or err}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
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


def remove_stale_temporaries(directory: str | Path) -> list[Path]:
    """Delete what saves killed half-way left in ``directory`` (``.checkpoint-*.npz.tmp``); the removed files.

    Call it only while holding the run folder's lock: another process's save
    in progress looks the same.
    """
    removed = []
    for tmp in Path(directory).glob(_TEMPORARY):
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


def _open(directory: str | Path, *, training: bool = False):
    """The checked path, the open zip and the checked metadata of a run folder's checkpoint."""
    path = checkpoint_path(directory)
    if not Path(directory).is_dir():
        if Path(directory).is_file():
            raise CheckpointError(f"{directory}: a file, not a run folder; give the folder that holds {FILENAME}")
        raise CheckpointError(f"{directory}: no such run folder")
    if not path.is_file():
        raise CheckpointError(f"{directory}: no checkpoint there (expected {path})")
    zf = open_zip(path)
    try:
        meta = parse_metadata(read_metadata_member(zf, path), path)
        version = meta.get("format_version")
        if version is None:
            raise CheckpointError(f"{path}: not an rnnbook checkpoint (no format version)")
        if version != FORMAT_VERSION:
            raise CheckpointError(
                f"{path}: checkpoint format version {version!r}, this rnnbook reads version "
                f"{FORMAT_VERSION}; retrain, or use the rnnbook version that wrote it"
            )
        check_metadata(meta, path, training=training)
        check_memory(meta, path, training=training)
        members = len(zf.infolist())
        if 4 * meta["layers"] + 2 > members:  # every layer has four weight arrays: check before listing them
            raise CheckpointError(
                f"{path}: invalid metadata: layers {meta['layers']} needs {4 * meta['layers'] + 2} arrays, "
                f"the file holds {members}"
            )
    except BaseException:
        zf.close()
        raise
    return path, zf, meta


def load_metadata(directory: str | Path) -> dict:
    """The checked metadata of a run folder's checkpoint (no array is read)."""
    _, zf, meta = _open(directory)
    zf.close()
    return meta


def load(directory: str | Path) -> tuple[dict[str, np.ndarray], dict]:
    """Read ``directory/checkpoint.npz``; return ``(arrays, metadata)``, every array of the file.

    Raises
    ------
    CheckpointError
        If there is no checkpoint, the file is not a readable checkpoint
        (truncated, overwritten, not an ``.npz``, metadata or arrays that fail
        the checks of :mod:`rnnbook.training.checkpoint_checks`), or it was
        written by another format version.
    """
    path, zf, meta = _open(directory)
    with zf:
        names = [n[: -len(".npy")] for n in zf.namelist() if n.endswith(".npy") and n != _META_KEY + ".npy"]
        declared = sum(info.file_size for info in zf.infolist())
        if declared > MAX_MEMORY_BYTES:
            raise CheckpointError(f"{path}: its arrays declare {declared / 2**30:.1f} GiB, more than the cap")
        arrays = {name: read_array(zf, path, name, None, None) for name in names}
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


# -- the trainer's state: arrays and metadata ------------------------------------------


def trainer_arrays(trainer: CharTrainer) -> dict[str, np.ndarray]:
    """Weights (``param/...``), Adam's memory (``optim/...``), the carried state (``state/...``) and ``losses``."""
    arrays = {f"param/{k}": v for k, v in trainer.model.params.items()}
    arrays |= {f"optim/{k}": np.asarray(v) for k, v in trainer.optimizer.state_dict().items()}
    for k, (layer, state) in enumerate(zip(trainer.model.layers, trainer.state or [], strict=False)):
        arrays |= {f"state/{k}/{part}": value for part, value in layer.state_parts(state).items()}
    arrays["losses"] = np.asarray(trainer.losses, dtype=np.float64)
    return arrays


def trainer_meta(trainer: CharTrainer) -> dict:
    """The position in the data, the settings and the rng, JSON-ready."""
    return {
        "step": trainer.step_count,
        "epoch": trainer.epoch,
        "chunk": trainer.chunk,
        "offset": trainer.offset,
        "seq_len": trainer.seq_len,
        "batch_size": trainer.requested_batch_size,
        "lr": trainer.optimizer.lr,
        "max_norm": trainer.max_norm,
        "rng_state": trainer.rng.bit_generator.state,
        "has_state": trainer.state is not None,
    }


def restore_trainer(trainer: CharTrainer, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """Put what :func:`trainer_arrays` and :func:`trainer_meta` returned back into ``trainer``."""
    trainer.model.load_params({k[len("param/"):]: v for k, v in arrays.items() if k.startswith("param/")})
    trainer.optimizer.load_state_dict({k[len("optim/"):]: v for k, v in arrays.items() if k.startswith("optim/")})
    trainer.rng.bit_generator.state = meta["rng_state"]
    trainer.step_count, trainer.epoch = int(meta["step"]), int(meta["epoch"])
    trainer.offset, trainer.chunk = int(meta["offset"]), int(meta["chunk"])
    trainer.cut()
    trainer.losses = [float(v) for v in arrays["losses"]]
    trainer.state = None
    if meta["has_state"]:
        trainer.state = []
        for k, layer in enumerate(trainer.model.layers):
            prefix = f"state/{k}/"
            parts = {name[len(prefix):]: v for name, v in arrays.items() if name.startswith(prefix)}
            trainer.state.append(layer.state_from_parts(parts))


def save_training(directory: str | Path, trainer: CharTrainer, vocab: Vocabulary, extra: dict | None = None) -> Path:
    """Checkpoint a training run: the model, the trainer's full state and ``extra`` metadata.

    Refused (ValueError) if :func:`load_training` would refuse the file: a vocabulary
    that is not the model's, ``extra`` that overrides the model's sizes, ...
    """
    check_instance(trainer, CharTrainer, "trainer", "a CharTrainer")
    check_instance(vocab, Vocabulary, "vocab", "the model's Vocabulary (without special tokens)")
    meta = model_metadata(trainer.model, vocab) | {"trainer": trainer_meta(trainer)} | (extra or {})
    arrays = trainer_arrays(trainer)
    check_loadable(checkpoint_path(directory), arrays, meta | {"format_version": FORMAT_VERSION}, trainer.batch_size)
    return save(directory, arrays, meta)


def _read(directory: str | Path, n_ids: int | None = None) -> tuple[dict[str, np.ndarray], dict]:
    """The checked metadata and only the arrays needed, each checked against it.

    Only the model's arrays, or with ``n_ids`` (the length of the training
    text) everything a training run needs.
    """
    path, zf, meta = _open(directory, training=n_ids is not None)
    with zf:
        streams = None
        if n_ids is not None:
            t = meta["trainer"]
            streams = max(1, streams_for(n_ids, t["seq_len"], t["batch_size"]))
        members = set(zf.namelist())
        arrays = {
            name: read_array(zf, path, _member(name, members), shape, dtype)
            for name, (shape, dtype) in expected_arrays(meta, streams).items()
        }
    return arrays, meta


def _member(name: str, members: set[str]) -> str:
    """The member that holds array ``name``: itself, or in a checkpoint written before the
    stacked layer, its old name (``param/layer0.weight_ih`` for ``param/rnn.weight_ih_l0``,
    and the same inside ``optim/``)."""
    if name + ".npy" in members:
        return name
    old = re.sub(r"(^|/)rnn\.(weight_ih|weight_hh|bias_ih|bias_hh)_l(\d+)(/|$)", r"\1layer\3.\2\4", name)
    return old if old + ".npy" in members else name


def _build(arrays: dict[str, np.ndarray], meta: dict) -> tuple[CharModel, Vocabulary]:
    vocab = Vocabulary(meta["vocabulary"], specials=False)
    model = CharModel(
        meta["vocab_size"], meta["hidden_size"], cell=meta["model"], layers=meta["layers"], rng=0,
        dtype=np.dtype(meta["dtype"]),
    )
    model.load_params({k[len("param/"):]: v for k, v in arrays.items() if k.startswith("param/")})
    return model, vocab


def load_model(directory: str | Path) -> tuple[CharModel, Vocabulary, dict]:
    """The trained model of a run folder, its vocabulary and the checkpoint's metadata (only the weights are read)."""
    arrays, meta = _read(directory)
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
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"ids must be the text as a 1-d integer array, got {ids.dtype} of shape {ids.shape}")
    arrays, meta = _read(directory, len(ids))
    if ids.size and (ids.min() < 0 or ids.max() >= meta["vocab_size"]):
        raise ValueError(f"ids must be in [0, {meta['vocab_size']}), the checkpoint's vocabulary, got {ids.min()} "
                         f"to {ids.max()}")
    model, vocab = _build(arrays, meta)
    t = meta["trainer"]
    if t["offset"] >= t["seq_len"]:
        raise CheckpointError(f"{checkpoint_path(directory)}: invalid metadata: trainer.offset {t['offset']} is not "
                              f"below trainer.seq_len {t['seq_len']}")
    trainer = CharTrainer(
        model, ids, seq_len=t["seq_len"], batch_size=t["batch_size"], lr=t["lr"], max_norm=t["max_norm"], rng=0,
    )
    restore_trainer(trainer, arrays, t)
    if trainer.chunk > trainer.n_chunks or int(arrays["optim/steps"]) != t["step"]:
        raise CheckpointError(f"{checkpoint_path(directory)}: invalid metadata: the position in the text or "
                              "Adam's step count does not fit the run")
    return trainer, vocab, meta


def save_run(
    directory: str | Path, trainer: CharTrainer, vocab: Vocabulary, *, settings: dict, validation: list, elapsed: float
) -> Path:
    """Checkpoint a training run with the command line's ``settings``, the validation history and the time spent."""
    return save_training(directory, trainer, vocab, {"run": settings, "validation": validation, "elapsed": elapsed})


def export_weights(directory: str | Path, target: str | Path) -> Path:
    """Write a run folder ``target`` with the weights of the run in ``directory`` and nothing to train on.

    The new checkpoint keeps the weights, the metadata that describes the
    model and the run (vocabulary, settings, validation losses, time spent,
    and the step reached as ``step``) and the training loss of every step
    (``losses``), and leaves out Adam's memory and the state carried between
    chunks: about a third of the size.  :func:`load_model` (so ``rnnbook
    sample``, ``info`` and ``export --torch``) reads it; :func:`load_training`
    refuses it.

    Raises
    ------
    FileExistsError
        If ``target`` already holds a checkpoint (the run itself included).
    CheckpointError
        If ``directory`` holds no readable checkpoint.
    """
    if checkpoint_path(target).exists():
        raise FileExistsError(f"{target} already holds a checkpoint; give a new folder")
    arrays, meta = load(directory)
    kept = {name: value for name, value in arrays.items() if name.startswith("param/") or name == "losses"}
    record = read_record(meta)
    meta = {key: value for key, value in meta.items() if key not in ("format_version", "trainer")}
    if record.step is not None:
        meta["step"] = record.step
    return save(target, kept, meta)
