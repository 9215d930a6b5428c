"""The torch export of a checkpoint: a run folder's weights under PyTorch's names, with their config.

:func:`export_torch` reads the trained model (:func:`rnnbook.training.checkpoint.load_model`) and writes
``torch.save`` of :func:`torch_state_dict` and, beside it, ``FILE.json`` with
:func:`torch_config`.  Both files are written under temporary names and
renamed only when both are complete, so a failure leaves neither behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path

import numpy as np

from rnnbook.data.encoding import Vocabulary
from rnnbook.models.charmodel import CharModel
from rnnbook.training.checkpoint import load_model


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
    config = Path(str(target) + ".json")
    if not target.parent.is_dir():
        raise FileNotFoundError(f"{target.parent}: no such folder")
    # Both files are written under temporary names first and renamed only when both are complete:
    # a failure leaves neither behind (and never half of one).
    weights = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in torch_state_dict(model).items()}
    token = secrets.token_hex(8)
    tmp_target, tmp_config = (p.with_name(f".{p.name}.{token}.tmp") for p in (target, config))
    try:
        with open(tmp_target, "xb") as handle:
            torch.save(weights, handle)
            handle.flush()
            os.fsync(handle.fileno())
        with open(tmp_config, "x", encoding="utf-8") as handle:
            handle.write(json.dumps(torch_config(model, vocab), indent=2) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_config, config)
        os.replace(tmp_target, target)
    except (OSError, RuntimeError) as err:
        for tmp in (tmp_target, tmp_config):
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err).splitlines()[0]
        raise OSError(getattr(err, "errno", None), f"cannot write {target}: {reason}") from None
    return model, config
