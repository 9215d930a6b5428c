"""Characters per second: training the character model, and writing with it.

Two measurements for ``python benchmarks/bench.py --training``:

* **training**: one update of the character model (forward, backpropagation
  through time, clipping, the optimiser) at the size of Karpathy's
  ``min-char-rnn.py`` (a tanh RNN with 100 state units, 25 characters per
  update, one sequence), timed two ways on the same text and the same
  weights: :class:`rnnbook.training.chartrainer.CharTrainer`, and
  :func:`minchar_update`, a loop in the style of ``min-char-rnn.py`` (one
  column vector per character, dicts of per-step arrays, Adagrad, gradients
  clipped elementwise to [-5, 5]).  Then rnnbook once more with a batch of
  streams, which the loop cannot do.
* **sampling** (:func:`bench_sampling.bench_sampling`, with ``--sampling``): how many characters per second the
  per-step API writes.

The two training ways update differently (Adam with a global norm clip against
Adagrad with an elementwise clip), so only their speed is compared; their
losses and gradients before the update are checked to agree first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from rnnbook.data.encoding import Vocabulary
from rnnbook.data.text import builtin_corpus
from rnnbook.models.charmodel import CharModel
from rnnbook.training.chartrainer import CharTrainer

#: The min-char-rnn size: state units, characters per update, and rnnbook's larger batch.
TRAINING = {"hidden": 100, "seq_len": 25, "batch": 32}


def minchar_params(model: CharModel) -> dict[str, np.ndarray]:
    """The weights of a one-layer RNN :class:`~rnnbook.models.charmodel.CharModel` under min-char-rnn's names (copies).

    ``Wxh`` (H, V), ``Whh`` (H, H), ``Why`` (V, H), and the biases ``bh`` (H, 1)
    (the sum of rnnbook's two) and ``by`` (V, 1).
    """
    p = model.params
    return {
        "Wxh": p["rnn.weight_ih_l0"].copy(), "Whh": p["rnn.weight_hh_l0"].copy(), "Why": p["readout.weight"].copy(),
        "bh": (p["rnn.bias_ih_l0"] + p["rnn.bias_hh_l0"])[:, None], "by": p["readout.bias"][:, None].copy(),
    }


def minchar_loss(
    params: dict[str, np.ndarray], inputs: list[int], targets: list[int], hprev: np.ndarray
) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    """Loss (summed over the characters), gradients and last state, one column vector per character.

    Parameters
    ----------
    params : dict
        See :func:`minchar_params`.
    inputs, targets : list of int
        T character ids each.
    hprev : numpy.ndarray, shape (H, 1)
        The state before the first character.

    Returns
    -------
    loss : float
        The cross-entropy summed over the T characters, in nats.
    grads : dict
        ``dWxh``, ``dWhh``, ``dWhy``, ``dbh``, ``dby``, the shapes of the weights.
    h : numpy.ndarray, shape (H, 1)
        The state after the last character.
    """
    wxh, whh, why, bh, by = (params[k] for k in ("Wxh", "Whh", "Why", "bh", "by"))
    xs, hs, ps = {}, {-1: hprev}, {}
    loss = 0.0
    for t, char in enumerate(inputs):
        xs[t] = np.zeros((wxh.shape[1], 1))
        xs[t][char] = 1
        hs[t] = np.tanh(wxh @ xs[t] + whh @ hs[t - 1] + bh)
        ys = why @ hs[t] + by
        ps[t] = np.exp(ys - ys.max()) / np.sum(np.exp(ys - ys.max()))
        loss -= float(np.log(ps[t][targets[t], 0]))
    grads = {k: np.zeros_like(params[k[1:]]) for k in ("dWxh", "dWhh", "dWhy", "dbh", "dby")}
    dhnext = np.zeros_like(hprev)
    for t in reversed(range(len(inputs))):
        dy = ps[t].copy()
        dy[targets[t]] -= 1
        grads["dWhy"] += dy @ hs[t].T
        grads["dby"] += dy
        dhraw = (1 - hs[t] * hs[t]) * (why.T @ dy + dhnext)
        grads["dbh"] += dhraw
        grads["dWxh"] += dhraw @ xs[t].T
        grads["dWhh"] += dhraw @ hs[t - 1].T
        dhnext = whh.T @ dhraw
    return loss, grads, hs[len(inputs) - 1]


def minchar_update(
    params: dict[str, np.ndarray], memory: dict[str, np.ndarray], inputs: list[int], targets: list[int],
    hprev: np.ndarray, lr: float = 0.1,
) -> tuple[float, np.ndarray]:
    """One min-char-rnn update: loss and gradients, clip to [-5, 5], Adagrad; returns ``(loss, h)``."""
    loss, grads, h = minchar_loss(params, inputs, targets, hprev)
    for name, grad in grads.items():
        np.clip(grad, -5, 5, out=grad)
        mem = memory[name[1:]]
        mem += grad * grad
        params[name[1:]] -= lr * grad / np.sqrt(mem + 1e-8)
    return loss, h


def check_minchar_agrees(model: CharModel, ids: np.ndarray) -> float:
    """Check that :func:`minchar_loss` and ``model`` give the same loss and gradients; return the largest error.

    min-char-rnn sums over the characters where rnnbook averages, so the loop's
    numbers are divided by T first.  Raises AssertionError when they differ by
    more than 1e-8 relative to the largest gradient.
    """
    steps = len(ids) - 1
    loss, grads = model.loss_and_grads(ids[:-1, None], ids[1:, None])
    ref_loss, ref, _ = minchar_loss(minchar_params(model), list(ids[:-1]), list(ids[1:]),
                                    np.zeros((model.hidden_size, 1)))
    pairs = [
        (grads["rnn.weight_ih_l0"], ref["dWxh"]), (grads["rnn.weight_hh_l0"], ref["dWhh"]),
        (grads["readout.weight"], ref["dWhy"]), (grads["rnn.bias_ih_l0"], ref["dbh"][:, 0]),
        (grads["readout.bias"], ref["dby"][:, 0]),
    ]
    scale = max(float(np.abs(ours).max()) for ours, _ in pairs)
    error = max(float(np.abs(ours - theirs / steps).max()) for ours, theirs in pairs) / scale
    error = max(error, abs(loss - ref_loss / steps) / abs(loss))
    if not error <= 1e-8:
        raise AssertionError(f"rnnbook and the min-char-rnn loop disagree: relative error {error:.2e}")
    return error


def _median_seconds(fn: Callable[[], object], repeats: int, timer: Callable[[], float], calls: int) -> float:
    """Median over ``repeats`` of the time per call of ``calls`` calls of ``fn``."""
    fn()
    times = []
    for _ in range(repeats):
        start = timer()
        for _ in range(calls):
            fn()
        times.append((timer() - start) / calls)
    return float(np.median(times))


def training_speed(
    *, repeats: int = 5, calls: int = 20, timer: Callable[[], float] = time.process_time,
    hidden: int = TRAINING["hidden"], seq_len: int = TRAINING["seq_len"], batch: int = TRAINING["batch"],
) -> dict[str, Any]:
    """Characters per second of one training update: rnnbook (batch 1 and ``batch``) and the min-char-rnn loop.

    All in float64, as min-char-rnn, on the built-in corpus.  The two batch-1
    ways start from the same weights and are checked with
    :func:`check_minchar_agrees` before anything is timed.

    Returns
    -------
    dict
        The settings, ``loop_chars_s``, ``rnnbook_chars_s``, ``rnnbook_batched_chars_s``,
        ``speedup`` (rnnbook over the loop at batch 1) and ``check_error``.
    """
    vocab = Vocabulary.from_text(builtin_corpus())
    ids = vocab.encode(builtin_corpus())
    model = CharModel(len(vocab), hidden, cell="rnn", rng=0)
    error = check_minchar_agrees(model, ids[: seq_len + 1])
    params = minchar_params(model)
    memory = {k: np.zeros_like(v) for k, v in params.items()}
    state = {"h": np.zeros((hidden, 1)), "at": 0}

    def loop_update() -> None:
        at = state["at"] if state["at"] + seq_len + 1 < len(ids) else 0
        _, state["h"] = minchar_update(params, memory, list(ids[at : at + seq_len]),
                                       list(ids[at + 1 : at + seq_len + 1]), state["h"])
        state["at"] = at + seq_len

    single = CharTrainer(model, ids, seq_len=seq_len, batch_size=1, rng=0)
    batched = CharTrainer(CharModel(len(vocab), hidden, cell="rnn", rng=0), ids, seq_len=seq_len,
                          batch_size=batch, rng=0)
    seconds = {
        "loop": _median_seconds(loop_update, repeats, timer, calls),
        "rnnbook": _median_seconds(single.train_step, repeats, timer, calls),
        "batched": _median_seconds(batched.train_step, repeats, timer, max(1, calls // 4)),
    }
    return {
        "cell": "rnn", "hidden": hidden, "seq_len": seq_len, "vocab_size": len(vocab), "batch": batched.batch_size,
        "dtype": "float64", "repeats": repeats, "check_error": error,
        "loop_chars_s": seq_len / seconds["loop"], "rnnbook_chars_s": seq_len / seconds["rnnbook"],
        "rnnbook_batched_chars_s": seq_len * batched.batch_size / seconds["batched"],
        "speedup": seconds["loop"] / seconds["rnnbook"],
    }


def format_training(row: dict[str, Any]) -> str:
    """The training measurement in one line."""
    return (
        f"training a char {row['cell']} of {row['hidden']} units, {row['seq_len']} characters per update, "
        f"{row['dtype']}: min-char-rnn loop {row['loop_chars_s']:,.0f} chars/s, rnnbook "
        f"{row['rnnbook_chars_s']:,.0f} chars/s ({row['speedup']:.1f}x), rnnbook with a batch of "
        f"{row['batch']} streams {row['rnnbook_batched_chars_s']:,.0f} chars/s"
    )
