"""Pending code for chapters 7 and 8, to move into the new package layout.

Until the package restructure lands, the helpers that the chapters on gates
and on the character model need live here (see the book brief).  After it
lands, :class:`NGramModel` moves to ``rnnbook/models/`` and the rest to
``rnnbook/analysis/``.

* :class:`NGramModel`: a character n-gram model with add-k smoothing, the
  baseline a recurrent language model must beat.
* :func:`char_losses`: the surprise of a :class:`rnnbook.charmodel.CharModel`
  at every next character of a text.
* :func:`long_range_positions`: where in Python source a character can only be
  guessed by remembering something far back (closing brackets and quotes,
  indentation after a colon).
* :func:`forget_gate_products`: the belt-only part of an LSTM's memory
  Jacobian, beside :func:`rnnbook.lstm.memory_jacobian_norms`.
* :func:`seed_sweep`: the adding problem for several cells and seeds.
"""

from __future__ import annotations

import io
import tokenize
from collections.abc import Mapping, Sequence

import numpy as np

from rnnbook._validation import check_array, check_positive_float, check_positive_int
from rnnbook.lstm import LSTM
from rnnbook.memory import LagResult, lag_sweep


class NGramModel:
    """A character n-gram model: the next character's probability given the previous ``order - 1``.

    With add-k smoothing,

    .. math:: P(x \\mid u) = \\frac{N(u, x) + k}{N(u) + k V},

    where :math:`u` is the context (the previous ``order - 1`` characters),
    :math:`N(u, x)` counts how often ``x`` followed ``u`` in the training text,
    :math:`N(u) = \\sum_x N(u, x)` and V is the vocabulary size.  A context never
    seen gives every character the probability 1/V.  Positions at the start of
    a text, with fewer than ``order - 1`` characters before them, are padded
    with a start symbol (index V), in training and in scoring alike.

    Parameters
    ----------
    order : int
        1 (unigram: character frequencies), 2 (bigram), 3 (trigram), ...
    vocab_size : int
        V, the number of characters; the ids are in ``0 .. V - 1``.
    k : float, default 1.0
        The smoothing constant (> 0); 1 is Laplace's rule.

    Examples
    --------
    >>> model = NGramModel(2, 3, k=1.0).fit(np.array([0, 1, 0, 1, 0, 1]))
    >>> round(float(np.exp(model.log_probs(np.array([0, 1]))[1])), 3)  # P(1 | 0) = (3 + 1) / (3 + 3)
    0.667
    """

    def __init__(self, order: int, vocab_size: int, *, k: float = 1.0) -> None:
        self.order = check_positive_int(order, "order")
        self.vocab_size = check_positive_int(vocab_size, "vocab_size")
        self.k = check_positive_float(k, "k")
        self._pairs = np.zeros(0, dtype=np.int64)  # sorted codes of (context, next) seen in training
        self._pair_counts = np.zeros(0, dtype=np.int64)
        self._contexts = np.zeros(0, dtype=np.int64)
        self._context_counts = np.zeros(0, dtype=np.int64)

    def _check_ids(self, ids: np.ndarray, name: str) -> np.ndarray:
        ids = np.asarray(ids)
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"{name} must be a 1-d integer array, got {ids.dtype} of shape {ids.shape}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(f"{name} must be in [0, {self.vocab_size}), got {ids.min()} to {ids.max()}")
        return ids.astype(np.int64)

    def _codes(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Context codes (N,) for every position of ``ids`` (N,), and the character codes (N,)."""
        base = self.vocab_size + 1  # V characters and the start symbol
        padded = np.concatenate([np.full(self.order - 1, self.vocab_size, dtype=np.int64), ids])
        context = np.zeros(len(ids), dtype=np.int64)
        for j in range(self.order - 1):
            context = context * base + padded[j : j + len(ids)]
        return context, ids

    def fit(self, ids: np.ndarray) -> NGramModel:
        """Count the n-grams of a training text ``ids`` (N,) of character indices; returns ``self``."""
        ids = self._check_ids(ids, "ids")
        context, nxt = self._codes(ids)
        self._pairs, self._pair_counts = np.unique(context * self.vocab_size + nxt, return_counts=True)
        self._contexts, self._context_counts = np.unique(context, return_counts=True)
        return self

    @staticmethod
    def _lookup(keys: np.ndarray, counts: np.ndarray, query: np.ndarray) -> np.ndarray:
        where = np.clip(np.searchsorted(keys, query), 0, max(len(keys) - 1, 0))
        found = (where < len(keys)) & (keys[where] == query) if len(keys) else np.zeros(len(query), bool)
        return np.where(found, counts[where] if len(keys) else 0, 0)

    def log_probs(self, ids: np.ndarray) -> np.ndarray:
        """The natural log of the probability of every character of ``ids`` (N,) given the ones before it.

        Returns
        -------
        numpy.ndarray, shape (N,)
            ``out[t] = ln P(ids[t] | ids[t - order + 1 : t])``.
        """
        ids = self._check_ids(ids, "ids")
        context, nxt = self._codes(ids)
        pair = self._lookup(self._pairs, self._pair_counts, context * self.vocab_size + nxt)
        total = self._lookup(self._contexts, self._context_counts, context)
        return np.log(pair + self.k) - np.log(total + self.k * self.vocab_size)

    def loss(self, ids: np.ndarray) -> float:
        """Mean surprise, in nats per character, at the characters ``ids[1:]`` of a text ``ids`` (N,).

        The first character is left out, as in :func:`rnnbook.charmodel.evaluate`,
        which scores every *next* character.
        """
        ids = self._check_ids(ids, "ids")
        if len(ids) < 2:
            raise ValueError(f"ids must hold at least 2 characters, got {len(ids)}")
        return float(-self.log_probs(ids)[1:].mean())


def char_losses(model, ids: np.ndarray) -> np.ndarray:
    """A character model's surprise at every next character of one text, read from a zero state.

    Parameters
    ----------
    model : rnnbook.charmodel.CharModel
    ids : numpy.ndarray of int, shape (N,)

    Returns
    -------
    numpy.ndarray, shape (N - 1,)
        ``out[t] = -ln p(ids[t + 1] | ids[: t + 1])`` in nats, float64.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) < 2:
        raise ValueError(f"ids must be a 1-d array of at least 2 characters, got shape {ids.shape}")
    logits = model.logits(ids[:-1, None])[:, 0].astype(np.float64)  # (N - 1, V)
    top = logits.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(logits - top).sum(axis=1)) + top[:, 0]
    return log_norm - logits[np.arange(len(ids) - 1), ids[1:]]


def _quote_length(token_text: str) -> int:
    body = token_text.lstrip("rRbBuUfF")
    return 3 if body[:3] in ('"""', "'''") else 1


def long_range_positions(source: str, min_distance: int) -> dict[str, np.ndarray]:
    """Positions in Python source whose character depends on something far back.

    Parameters
    ----------
    source : str
        Python source that :mod:`tokenize` can read.
    min_distance : int
        How far back (in characters) the opening must lie.

    Returns
    -------
    dict of str to numpy.ndarray of int
        ``"closing bracket"``: every ``)``, ``]`` or ``}`` whose opening bracket
        is more than ``min_distance`` characters earlier.
        ``"closing quote"``: the first character of the closing quotes of every
        string literal that opened more than ``min_distance`` characters earlier.
        ``"indentation after a colon"``: the leading spaces and the first other
        character of every line that follows a line ending in ``:`` (the new,
        deeper indentation depends on the previous line's).
        Every position ``p`` indexes ``source``: the character to guess is
        ``source[p]``, after reading ``source[:p]``.
    """
    min_distance = check_positive_int(min_distance, "min_distance")
    lines = source.splitlines(keepends=True)
    line_start = np.cumsum([0] + [len(line) for line in lines])

    def offset(row_col: tuple[int, int]) -> int:
        return int(line_start[row_col[0] - 1] + row_col[1])

    brackets, quotes, indents = [], [], []
    stack: list[int] = []
    previous = None
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.OP and token.string in "([{":
            stack.append(offset(token.start))
        elif token.type == tokenize.OP and token.string in ")]}" and stack:
            start, end = stack.pop(), offset(token.start)
            if end - start > min_distance:
                brackets.append(end)
        elif token.type == tokenize.STRING:
            start, end = offset(token.start), offset(token.end) - _quote_length(token.string)
            if end - start > min_distance:
                quotes.append(end)
        elif token.type == tokenize.NEWLINE and previous is not None and previous.string == ":":
            row = token.start[0]  # the next non-blank line is the new block's first
            while row < len(lines) and not lines[row].strip():
                row += 1
            if row < len(lines):
                depth = len(lines[row]) - len(lines[row].lstrip(" "))
                indents.extend(range(int(line_start[row]), int(line_start[row]) + depth + 1))
        if token.type not in (tokenize.NL, tokenize.COMMENT, tokenize.NEWLINE):
            previous = token
    return {
        "closing bracket": np.array(brackets, dtype=np.int64),
        "closing quote": np.array(quotes, dtype=np.int64),
        "indentation after a colon": np.array(indents, dtype=np.int64),
    }


def forget_gate_products(layer: LSTM, x: np.ndarray, lags: Sequence[int]) -> np.ndarray:
    """The belt-only memory factor of an LSTM: the largest product of forget gates over ``k`` steps.

    Along the cell alone, :math:`\\partial c_T / \\partial c_{T-k} = \\mathrm{diag}(\\prod_{t=T-k+1}^{T} f_t)`,
    whose spectral norm is the largest entry of the product.  Compare
    :func:`rnnbook.lstm.memory_jacobian_norms`, which measures the full
    Jacobian, the road through the hidden state included.

    Parameters
    ----------
    layer : rnnbook.lstm.LSTM
    x : numpy.ndarray, shape (T, 1, I)
        One input sequence, with the layer's dtype.
    lags : sequence of int
        Each ``k`` in ``1 .. T``.

    Returns
    -------
    numpy.ndarray, shape (len(lags),)
        The largest product over the units, for each lag, float64.
    """
    if not isinstance(layer, LSTM):
        raise TypeError(f"layer must be an rnnbook.lstm.LSTM, got {type(layer).__name__}")
    hidden = layer.hidden_size
    x = check_array(x, "x", ndim=3, shape=(None, 1, layer.input_size), dtype=layer.params["weight_hh"].dtype)
    steps = x.shape[0]
    lags = [check_positive_int(k, "lag") for k in lags]
    if any(k > steps for k in lags):
        raise ValueError(f"every lag must be at most the sequence length {steps}, got {max(lags)}")
    _, trace = layer.forward(x)
    forget = trace.gates[:, 0, hidden : 2 * hidden].astype(np.float64)  # (T, H), gates stacked i, f, g, o
    return np.array([np.prod(forget[steps - k :], axis=0).max() for k in lags])


def seed_sweep(
    cells: Mapping[str, int], lags: Sequence[int], seeds: Sequence[int], **settings
) -> dict[str, list[list[LagResult]]]:
    """The adding problem for every cell, seed and lag: :func:`rnnbook.memory.lag_sweep` in a loop.

    Parameters
    ----------
    cells : mapping of str to int
        Each cell (``"rnn"``, ``"lstm"``, ``"gru"``) and its hidden size.
    lags : sequence of int
        Sequence lengths.
    seeds : sequence of int
        One independent run (data, weights, order) per seed.
    **settings
        Passed on to :func:`rnnbook.memory.train_on_lag` (not ``cell`` or ``hidden_size``).

    Returns
    -------
    dict of str to list of list of LagResult
        ``out[cell][s][j]`` is the run of seed ``seeds[s]`` at ``lags[j]``.
    """
    if not cells or not seeds:
        raise ValueError(f"cells and seeds must not be empty, got {dict(cells)!r} and {list(seeds)!r}")
    return {
        cell: [lag_sweep(list(lags), seed=seed, cell=cell, hidden_size=hidden, **settings) for seed in seeds]
        for cell, hidden in cells.items()
    }
