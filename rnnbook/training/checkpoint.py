"""The checkpoint file format, all of it: array names, metadata, saving, loading, the torch export.

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

The arrays are named ``param/<name>`` (the model's parameters),
``optim/<name>/<slot>`` and ``optim/steps`` (Adam's memory),
``state/<layer>/<part>`` (the state carried between chunks: ``h``, and ``c``
for an LSTM) and ``losses``.  :func:`read_record` reads the metadata into a
:class:`RunRecord`, so no other module needs to know its keys, and
:func:`export_torch` writes the weights under PyTorch's names.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnbook.data.encoding import Vocabulary
from rnnbook.models.charmodel import CharModel, legacy_name
from rnnbook.training.chartrainer import CharTrainer

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
    optim = {k[len("optim/"):]: v for k, v in arrays.items() if k.startswith("optim/")}
    # Adam's memory is keyed "name/slot"; names of the layout before the stacked layer are renamed
    trainer.optimizer.load_state_dict({_legacy_slot(k): v for k, v in optim.items()})
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


def _legacy_slot(key: str) -> str:
    name, slash, slot = key.rpartition("/")
    return f"{legacy_name(name)}/{slot}" if slash else key


def save_training(directory: str | Path, trainer: CharTrainer, vocab: Vocabulary, extra: dict | None = None) -> Path:
    """Checkpoint a training run: the model, the trainer's full state and ``extra`` metadata."""
    meta = model_metadata(trainer.model, vocab) | {"trainer": trainer_meta(trainer)} | (extra or {})
    return save(directory, trainer_arrays(trainer), meta)


def _build(arrays: dict[str, np.ndarray], meta: dict) -> tuple[CharModel, Vocabulary]:
    try:
        vocab = Vocabulary(meta["vocabulary"], specials=False)
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
        restore_trainer(trainer, arrays, t)
    except (KeyError, TypeError) as err:
        raise CheckpointError(f"the checkpoint has no complete training state: {err}") from None
    return trainer, vocab, meta


# -- what the metadata says -----------------------------------------------------------


@dataclass(frozen=True)
class RunRecord:
    """What a checkpoint's metadata says about its run.

    Attributes
    ----------
    format_version : int
    cell : str
        A name from :data:`rnnbook.layers.registry.CELLS`.
    hidden_size, layers : int
    vocabulary : str
        The characters, in index order.
    step : int or None
        The training steps done.
    settings : dict or None
        The training settings the command line saved with the run (its own
        names and values, kept verbatim), None if it saved none.
    validation : list of [step, loss]
        The validation losses measured so far.
    elapsed : float
        Seconds of training so far.
    """

    format_version: int
    cell: str
    hidden_size: int
    layers: int
    vocabulary: str
    step: int | None = None
    settings: dict | None = None
    validation: list = field(default_factory=list)
    elapsed: float = 0.0


def read_record(meta: dict) -> RunRecord:
    """The :class:`RunRecord` of a checkpoint's metadata (as :func:`load` returns it)."""
    try:
        settings = meta.get("run")
        return RunRecord(
            format_version=int(meta["format_version"]),
            cell=str(meta["model"]),
            hidden_size=int(meta["hidden_size"]),
            layers=int(meta["layers"]),
            vocabulary=str(meta["vocabulary"]),
            step=meta.get("trainer", {}).get("step"),
            settings=settings if isinstance(settings, dict) else None,
            validation=list(meta.get("validation", [])),
            elapsed=float(meta.get("elapsed", 0.0)),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise CheckpointError(f"the checkpoint's metadata is incomplete: {type(err).__name__}: {err}") from None


def save_run(
    directory: str | Path, trainer: CharTrainer, vocab: Vocabulary, *, settings: dict, validation: list, elapsed: float
) -> Path:
    """Checkpoint a training run with the command line's ``settings``, the validation history and the time spent."""
    return save_training(directory, trainer, vocab, {"run": settings, "validation": validation, "elapsed": elapsed})


# -- the torch export -----------------------------------------------------------------


def torch_state_dict(model: CharModel) -> dict[str, np.ndarray]:
    """The model's weights under ``torch.nn.RNN/LSTM/GRU`` (``rnn.*``) and ``torch.nn.Linear`` (``decoder.*``) names."""
    # The model's recurrent weights already carry torch's names: a copy, no renaming.
    state = {name: value for name, value in model.params.items() if name.startswith("rnn.")}
    state["decoder.weight"] = model.params["readout.weight"]
    state["decoder.bias"] = model.params["readout.bias"]
    return state


def torch_config(model: CharModel, vocab: Vocabulary) -> dict:
    """What it takes to build the matching torch modules: kind, sizes and the vocabulary."""
    return {
        "model": model.cell,
        "input_size": model.vocab_size,
        "hidden_size": model.hidden_size,
        "num_layers": model.n_layers,
        "vocabulary": vocab.chars,
    }


def export_torch(directory: str | Path, target: str | Path) -> tuple[CharModel, Path]:
    """Write the trained model of a run folder as a PyTorch ``state_dict`` (``torch.save``), and its config.

    The weights go to ``target``; ``target.json`` holds :func:`torch_config`.

    Returns
    -------
    model : CharModel
        The exported model.
    config : Path
        The JSON file written beside ``target``.

    Raises
    ------
    ImportError
        If PyTorch is not installed.
    CheckpointError
        If the run folder holds no valid checkpoint.
    """
    model, vocab, _ = load_model(directory)
    import torch

    target = Path(target)
    if not target.parent.is_dir():
        raise FileNotFoundError(f"{target.parent}: no such folder")
    torch.save({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in torch_state_dict(model).items()}, target)
    config = Path(str(target) + ".json")
    config.write_text(json.dumps(torch_config(model, vocab), indent=2) + "\n", encoding="utf-8")
    return model, config
