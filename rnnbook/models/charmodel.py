"""A character-level language model: read text one character at a time, guess the next.

This is the model of Karpathy's "The Unreasonable Effectiveness of Recurrent
Neural Networks" (2015), built from the book's own layers:

* every character is a one-hot vector over the *vocabulary* (the characters
  that occur in the training text), see :class:`rnnbook.data.encoding.Vocabulary`;
* one or more recurrent layers (any cell of
  :data:`rnnbook.layers.registry.CELLS`) are stacked, each reading the states
  of the one below, see :class:`CharModel`;
* a linear read-out turns the top state into one score per character, and the
  loss is the softmax cross-entropy of the true next character, in nats per
  character.  Guessing uniformly costs :math:`\\ln V` for a vocabulary of V.

:func:`sample` writes new text, one character at a time, with a temperature,
using the layers' per-step API (:meth:`CharModel.step`).  Training is
:class:`rnnbook.training.chartrainer.CharTrainer`.
"""

from __future__ import annotations

import numpy as np

from rnnbook._validation import check_choice, check_positive_float, check_positive_int, check_rng
from rnnbook.data.encoding import Vocabulary, one_hot
from rnnbook.layers.base import Params, State, attach, join, split
from rnnbook.layers.linear import init_linear, linear, linear_backward
from rnnbook.layers.registry import CELLS, make_cell
from rnnbook.training.losses import cross_entropy, softmax


class CharModel:
    """One-hot characters in, stacked recurrent layers, one score per character out.

    Parameters
    ----------
    vocab_size : int
        V, the number of characters.
    hidden_size : int
        H, the size of every layer's state.
    cell : str, default "rnn"
        A name from :data:`rnnbook.layers.registry.CELLS`.
        The recurrent layer (see :func:`rnnbook.layers.registry.make_cell`).
    layers : int, default 1
        How many recurrent layers to stack; layer 0 reads the characters,
        layer k > 0 reads the states of layer k - 1.
    rng : numpy.random.Generator or int
        Randomness for the initial weights.
    dtype : float32 or float64, default float64

    Attributes
    ----------
    params : dict of str to numpy.ndarray
        ``layer{k}.weight_ih``, ``layer{k}.weight_hh``, ``layer{k}.bias_ih``,
        ``layer{k}.bias_hh`` for every layer k (torch's shapes for the cell),
        and ``readout.weight`` (V, H), ``readout.bias`` (V,).
    """

    def __init__(
        self,
        vocab_size: int,
        hidden_size: int,
        *,
        cell: str = "rnn",
        layers: int = 1,
        rng: np.random.Generator | int,
        dtype: type | np.dtype = np.float64,
    ) -> None:
        self.vocab_size = check_positive_int(vocab_size, "vocab_size")
        self.hidden_size = check_positive_int(hidden_size, "hidden_size")
        self.cell = check_choice(cell, "cell", tuple(CELLS))
        self.n_layers = check_positive_int(layers, "layers")
        rng = check_rng(rng)
        self.dtype = np.dtype(dtype)
        self.layers = []
        self.params: Params = {}
        for k in range(self.n_layers):
            layer = make_cell(cell, vocab_size if k == 0 else hidden_size, hidden_size, rng=rng, dtype=self.dtype)
            self.layers.append(layer)
            attach(self.params, f"layer{k}", layer)
        self.params |= join("readout", init_linear(hidden_size, vocab_size, rng=rng, dtype=self.dtype))

    def load_params(self, params: Params) -> None:
        """Copy ``params`` (same names, shapes and dtype) into the model's arrays."""
        if set(params) != set(self.params):
            raise ValueError(
                f"params must have the names {sorted(self.params)}, got {sorted(params)}"
            )
        for name, value in params.items():
            if value.shape != self.params[name].shape or value.dtype != self.dtype:
                raise ValueError(
                    f"{name} must be {self.dtype} of shape {self.params[name].shape}, got {value.dtype} {value.shape}"
                )
            self.params[name][...] = value

    def check_ids(self, ids: object, name: str = "ids") -> np.ndarray:
        """Check character indices (T, B): integers in ``[0, vocab_size)``."""
        ids = np.asarray(ids)
        if not np.issubdtype(ids.dtype, np.integer) or ids.ndim != 2:
            raise TypeError(f"{name} must be a (T, B) integer array, got {ids.dtype} of shape {ids.shape}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(f"{name} must be in [0, {self.vocab_size}), got {ids.min()} to {ids.max()}")
        return ids

    def run(self, ids: np.ndarray, state0: list[State] | None = None):
        """The forward pass.

        Parameters
        ----------
        ids : numpy.ndarray of int, shape (T, B)
            Character indices.
        state0 : list of states, one per layer, optional
            Each (B, H), or ``(h, c)`` for an LSTM; zeros when omitted.

        Returns
        -------
        logits : numpy.ndarray, shape (T, B, V)
        states : list of numpy.ndarray, each (T, B, H)
            Every layer's states (the hidden states for an LSTM).
        traces : list
            Every layer's trace, for its ``backward``.
        final : list of states
            Every layer's last state, to continue from.
        """
        x = one_hot(self.check_ids(ids), self.vocab_size, self.dtype)
        if state0 is None:
            state0 = [None] * self.n_layers
        all_states, traces, final = [], [], []
        for k, (layer, s0) in enumerate(zip(self.layers, state0, strict=True)):
            # The characters are checked above; the states of the layer below need no check.
            states, trace = layer.forward(x, s0) if k == 0 else layer.run(x, s0)
            all_states.append(states)
            traces.append(trace)
            final.append(layer.final_state(trace))
            x = states
        logits = linear(split(self.params, "readout"), x)
        return logits, all_states, traces, final

    def logits(self, ids: np.ndarray, state0: list[State] | None = None) -> np.ndarray:
        """Scores (T, B, V) for the character after each of ``ids`` (T, B)."""
        return self.run(ids, state0)[0]

    def loss_and_grads(
        self, ids: np.ndarray, targets: np.ndarray, state0: list[State] | None = None
    ) -> tuple[float, Params]:
        """Mean cross-entropy (nats per character) of ``targets`` (T, B) after ``ids`` (T, B), and every gradient.

        The gradient stops at ``state0``: it is treated as a constant (truncated
        backpropagation through time).
        """
        loss, grads, _ = self.loss_grads_and_state(ids, targets, state0)
        return loss, grads

    def loss_grads_and_state(
        self, ids: np.ndarray, targets: np.ndarray, state0: list[State] | None = None
    ) -> tuple[float, Params, list[State]]:
        """:meth:`loss_and_grads` plus every layer's final state, to start the next chunk from."""
        logits, all_states, traces, final = self.run(ids, state0)
        targets = self.check_ids(targets, "targets")
        if targets.shape != logits.shape[:2]:
            raise ValueError(f"targets must have the shape of ids {logits.shape[:2]}, got {targets.shape}")
        loss, dlogits = cross_entropy(logits, targets)
        readout = split(self.params, "readout")
        grads_out, dtop = linear_backward(readout, all_states[-1], dlogits)
        grads = join("readout", grads_out)
        for k in range(self.n_layers - 1, -1, -1):
            layer_grads, dtop, _ = self.layers[k].backprop(traces[k], dtop)
            grads |= join(f"layer{k}", layer_grads)
        return loss, grads, final

    def probabilities(self, ids: np.ndarray, temperature: float = 1.0) -> np.ndarray:
        """Next-character probabilities (T, B, V) after each of ``ids`` (T, B), from a zero state."""
        temperature = check_positive_float(temperature, "temperature")
        return softmax(self.logits(ids) / temperature)

    def step(self, ids: np.ndarray, state: list[State] | None = None) -> tuple[np.ndarray, list[State]]:
        """One character per sequence: scores (B, V) for the next one, and the new states.

        The per-step API for writing text: ``ids`` (B,) are trusted to be
        valid indices, and no layer copies or checks its weights.

        Parameters
        ----------
        ids : numpy.ndarray of int, shape (B,)
        state : list of states, one per layer, optional
            Zeros when omitted.
        """
        if state is None:
            state = [layer.init_state(len(ids)) for layer in self.layers]
        x = one_hot(ids, self.vocab_size, self.dtype)
        new_state = []
        for layer, s in zip(self.layers, state, strict=True):
            x, s = layer.step(x, s)
            new_state.append(s)
        return linear(split(self.params, "readout"), x), new_state


# ---------------------------------------------------------------------------
# Sampling


def sample(
    model: CharModel,
    vocab: Vocabulary,
    length: int,
    *,
    temperature: float = 1.0,
    prime: str = "",
    rng: np.random.Generator | int,
) -> str:
    """Write ``length`` new characters, one at a time, each drawn from the model's guess.

    The model first reads ``prime`` (or a newline, or the first character of the
    vocabulary if the text has no newline, when ``prime`` is empty) to set its
    state.  Then, at every step, the scores are divided by ``temperature``
    before the softmax: below 1 the likeliest characters get likelier (safer,
    more repetitive text), above 1 the distribution flattens (more surprising
    text, more mistakes).  The drawn character is fed back in as the next input.

    Parameters
    ----------
    model : CharModel
    vocab : Vocabulary
        The model's vocabulary.
    length : int
        How many characters to write.
    temperature : float, default 1.0
        > 0.
    prime : str, default ""
        Text to read first; every character must be in ``vocab``.
    rng : numpy.random.Generator or int
        The source of randomness: the same seed gives the same text.

    Returns
    -------
    str
        The ``length`` new characters (without ``prime``).
    """
    length = check_positive_int(length, "length")
    temperature = check_positive_float(temperature, "temperature")
    rng = check_rng(rng)
    if not prime:
        prime = "\n" if "\n" in vocab.index else vocab.chars[0]
    ids = vocab.encode(prime)
    logits, _, _, state = model.run(ids[:, None])
    scores = logits[-1, 0]
    out = []
    token = np.empty(1, dtype=np.int64)
    for _ in range(length):
        p = softmax(scores.astype(np.float64) / temperature)
        # Inverse-CDF draw: one uniform number per character, robust to p summing to 1 - 1e-16.
        cdf = np.cumsum(p)
        token[0] = min(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"), len(p) - 1)
        out.append(int(token[0]))
        step_logits, state = model.step(token, state)
        scores = step_logits[0]
    return vocab.decode(out)
