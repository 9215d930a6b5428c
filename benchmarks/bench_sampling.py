"""The sampling part of the benchmark: writing text one character at a time, two ways."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from rnnbook.data.encoding import Vocabulary
from rnnbook.data.text import builtin_corpus
from rnnbook.models.charmodel import CharModel, sample
from rnnbook.training.losses import softmax

# -- sampling -------------------------------------------------------------------------

#: What ``--sampling`` times: characters written, and the model's cell, layers and hidden size.
SAMPLING = {"length": 1000, "cell": "lstm", "layers": 2, "hidden": 128}


def sample_by_sequence(
    model: CharModel, vocab: Vocabulary, length: int, *, temperature: float = 1.0, prime: str = "", rng
) -> str:
    """Write text as :func:`~rnnbook.models.charmodel.sample` did before the per-step API.

    Every character goes through the sequence forward pass (:meth:`~rnnbook.models.charmodel.CharModel.run`,
    with its checks) as a sequence of length 1.  The same draws as ``sample``,
    so both write the same text from the same seed.
    """
    rng = np.random.default_rng(rng)
    ids = vocab.encode(prime or ("\n" if "\n" in vocab.index else vocab.chars[0]))
    logits, _, _, state = model.run(ids[:, None])
    out = []
    for _ in range(length):
        p = softmax(logits[-1, 0].astype(np.float64) / temperature)
        cdf = np.cumsum(p)
        nxt = int(min(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"), len(p) - 1))
        out.append(nxt)
        logits, _, _, state = model.run(np.array([[nxt]]), state)
    return vocab.decode(out)


def bench_sampling(
    *, length: int = SAMPLING["length"], hidden: int = SAMPLING["hidden"], layers: int = SAMPLING["layers"],
    repeats: int = 5, timer: Callable[[], float] = time.process_time,
) -> dict[str, Any]:
    """Time writing ``length`` characters with the per-step API and with the sequence API.

    The model is an untrained float32 :class:`~rnnbook.models.charmodel.CharModel`
    with the LSTM cell over the built-in corpus's characters.

    Returns
    -------
    dict
        The settings, the median seconds of each way (``step_s``, ``sequence_s``),
        their ratio ``speedup`` and whether both wrote the same text (``same_text``).
    """
    vocab = Vocabulary.from_text(builtin_corpus())
    model = CharModel(len(vocab), hidden, cell=SAMPLING["cell"], layers=layers, rng=0, dtype=np.float32)
    ways = {
        "step": lambda: sample(model, vocab, length, rng=0),
        "sequence": lambda: sample_by_sequence(model, vocab, length, rng=0),
    }
    texts = {name: way() for name, way in ways.items()}  # also the warm-up
    seconds = {}
    for name, way in ways.items():
        times = []
        for _ in range(repeats):
            start = timer()
            way()
            times.append(timer() - start)
        seconds[name] = float(np.median(times))
    return {
        "length": length, "cell": SAMPLING["cell"], "layers": layers, "hidden": hidden, "vocab_size": len(vocab),
        "repeats": repeats, "step_s": seconds["step"], "sequence_s": seconds["sequence"],
        "speedup": seconds["sequence"] / seconds["step"], "same_text": texts["step"] == texts["sequence"],
        "step_chars_s": length / seconds["step"],
    }


def format_sampling(row: dict[str, Any]) -> str:
    """The sampling measurement in one line."""
    return (
        f"sampling {row['length']} characters, {row['cell']} {row['layers']} x {row['hidden']}, "
        f"vocabulary {row['vocab_size']}: per-step API {row['step_s'] * 1e3:.1f} ms "
        f"({row['step_chars_s']:,.0f} chars/s), sequence API "
        f"{row['sequence_s'] * 1e3:.1f} ms, {row['speedup']:.1f}x faster"
        + ("" if row["same_text"] else " (warning: the two wrote different text)")
    )
