"""A character-level language model: read text one character at a time, guess the next.

This is the model of Karpathy's "The Unreasonable Effectiveness of Recurrent
Neural Networks" (2015), built from the book's own layers:

* every character is a one-hot vector over the *vocabulary* (the characters
  that occur in the training text), see :class:`rnnbook.data.encoding.Vocabulary`;
* one or more recurrent layers (any cell of
  :data:`rnnbook.layers.registry.CELLS`) are stacked, each reading the states
  of the one below: one :class:`rnnbook.layers.stacked.Stacked` layer, whose
  parameters carry ``torch.nn.LSTM``'s names (``rnn.weight_ih_l0``, ...), see
  :class:`CharModel`;
* a linear read-out turns the top state into one score per character, and the
  loss is the softmax cross-entropy of the true next character, in nats per
  character.  Guessing uniformly costs :math:`\\ln V` for a vocabulary of V.

:func:`sample` writes new text, one character at a time, with a temperature,
using the layers' per-step API (:meth:`CharModel.step`).  Training is
:class:`rnnbook.training.chartrainer.CharTrainer`.
"""

from __future__ import annotations

import functools
import re

import numpy as np

from rnnbook._validation import (
    check_array,
    check_choice,
    check_instance,
    check_params_dict,
    check_positive_float,
    check_positive_int,
    check_rng,
)
from rnnbook.data.encoding import Vocabulary, one_hot
from rnnbook.layers.base import Params, State, attach, join, split
from rnnbook.layers.linear import init_linear, linear, linear_backward
from rnnbook.layers.registry import CELLS
from rnnbook.layers.stacked import Stacked, StackedTrace
from rnnbook.training.losses import cross_entropy, exp_normalize


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
        ``rnn.weight_ih_l{k}``, ``rnn.weight_hh_l{k}``, ``rnn.bias_ih_l{k}``,
        ``rnn.bias_hh_l{k}`` for every layer k (torch's names and shapes: the
        ``rnn.*`` entries, without the prefix, are a ``state_dict`` of
        ``torch.nn.RNN/LSTM/GRU(V, H, num_layers=layers)``), and
        ``readout.weight`` (V, H), ``readout.bias`` (V,).
    rnn : Stacked
        The recurrent layers, one :class:`~rnnbook.layers.stacked.Stacked`.
    layers : list of RecurrentLayer
        Its single layers, layer 0 first (``rnn.cells``).
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
        self.rnn = Stacked(cell, vocab_size, hidden_size, self.n_layers, rng=rng, dtype=self.dtype)
        self.layers = self.rnn.cells
        self._state_parts = len(self.layers[0].state_parts(self.layers[0].init_state(1)))  # 2 for the LSTM's (h, c)
        self.params: Params = {}
        attach(self.params, "rnn", self.rnn)
        self.params |= join("readout", init_linear(hidden_size, vocab_size, rng=rng, dtype=self.dtype))

    def load_params(self, params: Params) -> None:
        """Copy ``params`` (same names, shapes and dtype) into the model's arrays.

        Names of the layout before :class:`~rnnbook.layers.stacked.Stacked`
        (``layer{k}.weight_ih``) are read as their torch names
        (``rnn.weight_ih_l{k}``), so old checkpoints still load.
        """
        params = {legacy_name(k): v for k, v in check_params_dict(params, "params").items()}
        if set(params) != set(self.params):
            raise ValueError(
                f"params must have the names {sorted(self.params)}, got {sorted(params)}"
            )
        for name, value in params.items():
            if value.shape != self.params[name].shape or value.dtype != self.dtype:
                raise ValueError(
                    f"{name} must be {self.dtype} of shape {self.params[name].shape}, got {value.dtype} {value.shape}"
                )
            check_array(value, name, ndim=value.ndim)  # finite: NaN weights would give NaN text
        for name, value in params.items():  # all checked first, so a refused dict changes nothing
            self.params[name][...] = value

    def check_ids(self, ids: object, name: str = "ids") -> np.ndarray:
        """Check character indices (T, B): integers in ``[0, vocab_size)``."""
        ids = np.asarray(ids)
        if not np.issubdtype(ids.dtype, np.integer) or ids.ndim != 2:
            raise TypeError(f"{name} must be a (T, B) integer array, got {ids.dtype} of shape {ids.shape}")
        if ids.size == 0:
            raise ValueError(f"{name} must hold at least one character in each of at least one sequence, "
                             f"got shape {ids.shape}")
        if ids.min() < 0 or ids.max() >= self.vocab_size:
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
        if state0 is not None:
            if not isinstance(state0, list | tuple) or len(state0) != self.n_layers:
                raise ValueError(f"state0 must be a list of {self.n_layers} layer states, got {type(state0).__name__}")
            state0 = [layer.check_state(s, x.shape[1]) for layer, s in zip(self.layers, state0, strict=True)]
            state0 = self.rnn.stack_states(state0)
        top, trace = self.rnn.run(x, state0)
        final = self.rnn.unstack_state(self.rnn.final_state(trace))
        logits = linear(split(self.params, "readout"), top)
        return logits, trace.outputs, trace.traces, final

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
        grads_rnn, _, _ = self.rnn.backprop(StackedTrace(traces=list(traces), outputs=list(all_states)), dtop)
        return loss, join("rnn", grads_rnn) | join("readout", grads_out), final

    def probabilities(self, ids: np.ndarray, temperature: float = 1.0) -> np.ndarray:
        """Next-character probabilities (T, B, V) after each of ``ids`` (T, B), from a zero state."""
        return tempered(self.logits(ids), temperature)

    def step(self, ids: np.ndarray, state: list[State] | None = None) -> tuple[np.ndarray, list[State]]:
        """One character per sequence: scores (B, V) for the next one, and the new states.

        The per-step API for writing text: ``ids`` and ``state`` are checked
        (cheaply: no layer copies or checks its weights).

        Parameters
        ----------
        ids : numpy.ndarray of int, shape (B,)
        state : list of states, one per layer, optional
            Each (B, H), or ``(h, c)`` for an LSTM, as the previous step
            returned them; zeros when omitted.
        """
        ids = np.asarray(ids)
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer) or ids.size == 0:
            raise TypeError(f"ids must be a (B,) integer array of at least one index, got {ids.dtype} of shape "
                            f"{ids.shape}")
        if state is not None:
            if not isinstance(state, list | tuple) or len(state) != self.n_layers:
                got = f"{type(state).__name__} of length {len(state)}" if isinstance(state, list | tuple) else (
                    type(state).__name__)
                raise ValueError(f"state must be a list of {self.n_layers} layer states, got a {got}")
            if not all(self._fits(s, len(ids)) for s in state):  # (cheap: sample calls this once per character)
                state = [layer.check_state(s, len(ids)) for layer, s in zip(self.layers, state, strict=True)]
        stacked = self.rnn.init_state(len(ids)) if state is None else self.rnn.stack_states(state)
        h, stacked = self.rnn.step(one_hot(ids, self.vocab_size, self.dtype), stacked)
        scores = linear(split(self.params, "readout"), h)
        if state is not None and not np.isfinite(scores).all():  # a NaN in the state spreads to every score
            for layer, s in zip(self.layers, state, strict=True):
                layer.check_state(s, len(ids))  # names a state that holds NaN or infinity
        return scores, self.rnn.unstack_state(stacked)

    def _fits(self, state: object, batch: int) -> bool:
        """Whether one layer's ``state`` has the type, shapes and dtype of this model's states for ``batch`` rows."""
        parts = state if self._state_parts > 1 else (state,)
        return isinstance(parts, tuple | list) and len(parts) == self._state_parts and all(
            type(p) is np.ndarray and p.shape == (batch, self.hidden_size) and p.dtype == self.dtype for p in parts
        )


def legacy_name(name: str) -> str:
    """A parameter name of the layout before the stacked layer, ``layer{k}.weight_ih``, as ``rnn.weight_ih_l{k}``.

    Other names are returned as they are.
    """
    match = re.fullmatch(r"layer(\d+)\.(weight_ih|weight_hh|bias_ih|bias_hh)", name)
    return f"rnn.{match[2]}_l{match[1]}" if match else name



# ---------------------------------------------------------------------------
# Sampling


def tempered(scores: np.ndarray, temperature: float) -> np.ndarray:
    """The probabilities ``softmax(scores / temperature)`` along the last axis, safe at any temperature > 0.

    The largest score is subtracted *before* dividing by the temperature (in
    log space, every scaled score is then <= 0), so no division can overflow:
    a temperature so small that every other scaled score becomes minus
    infinity leaves all the probability on the largest score, which is greedy
    choice; a huge one gives the uniform distribution.

    Parameters
    ----------
    scores : numpy.ndarray, shape (..., V)
        Finite scores.
    temperature : float
        > 0.

    Returns
    -------
    numpy.ndarray, shape (..., V)
    """
    scores = check_array(scores, "scores", ndim=None)
    temperature = check_positive_float(temperature, "temperature")
    with np.errstate(over="ignore", under="ignore"):
        shifted = scores - scores.max(axis=-1, keepdims=True)  # -inf when the scores span more than a float
        shifted /= temperature  # 0 for the largest score, at worst -inf for the others
        return exp_normalize(shifted)  # the softmax of scores that may hold -inf


def _overflow_named(write):
    """``write`` (:func:`sample`) without numpy's overflow warnings, and with scores that overflowed reported
    as what they are: finite weights too large for the model's dtype (float32 weights near 3e38, say)."""

    @functools.wraps(write)
    def checked(model, *args, **kwargs):
        with np.errstate(over="ignore", invalid="ignore"):
            try:
                return write(model, *args, **kwargs)
            except ValueError as err:
                if not str(err).startswith("scores must be finite"):  # tempered's check of the model's scores
                    raise
        largest = max(float(np.abs(p).max()) for p in model.params.values())
        raise ValueError(f"the model's scores overflowed to infinity: its weights are too large for {model.dtype} "
                         f"arithmetic (the largest |weight| is {largest:.3g})") from None

    return checked


@_overflow_named
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
    check_instance(model, CharModel, "model", "a CharModel")
    check_instance(vocab, Vocabulary, "vocab", "the model's Vocabulary")
    length = check_positive_int(length, "length")
    if len(vocab) != model.vocab_size:
        raise ValueError(f"vocab must be the model's vocabulary of {model.vocab_size} characters, got {len(vocab)}")
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
        p = tempered(scores.astype(np.float64), temperature)
        # Inverse-CDF draw: one uniform number per character, robust to p summing to 1 - 1e-16.
        cdf = np.cumsum(p)
        token[0] = min(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"), len(p) - 1)
        out.append(int(token[0]))
        step_logits, state = model.step(token, state)
        scores = step_logits[0]
    return vocab.decode(out)
