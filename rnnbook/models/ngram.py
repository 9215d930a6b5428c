"""A character n-gram model: the counting baseline a recurrent language model must beat.

It guesses the next character from the ``order - 1`` characters before it, by
how often each character followed them in the training text, with additive
smoothing (add-kappa, also called add-k or Lidstone smoothing) so that nothing
unseen gets probability zero (Jurafsky and Martin, *Speech and Language
Processing*, chapter 3).  Its held-out loss, in nats per
character like :func:`rnnbook.training.chartrainer.evaluate`'s, says what a
memory of a few characters is worth.
"""

from __future__ import annotations

import numpy as np

from rnnbook._validation import check_positive_float, check_positive_int, check_rng


class NGramModel:
    """A character n-gram model: the next character's probability given the previous ``order - 1``.

    With additive (add-kappa) smoothing,

    .. math:: P(x \\mid u) = \\frac{N(u, x) + \\kappa}{N(u) + \\kappa V},

    where :math:`u` is the context (the previous ``order - 1`` characters),
    :math:`N(u, x)` counts how often ``x`` followed ``u`` in the training text,
    :math:`N(u) = \\sum_x N(u, x)` and V is the vocabulary size.  A context never
    seen gives every character the probability 1/V.  Positions at the start of
    a text, with fewer than ``order - 1`` characters before them, are padded
    with a start symbol (index V), in training and in scoring alike.

    Parameters
    ----------
    order : int
        1 (unigram: character frequencies), 2 (bigram), 3 (trigram), ...; at
        most the largest order whose n-grams fit in int64 codes,
        :math:`(V + 1)^{order - 1} V < 2^{63}` (9 for 100 characters).
    vocab_size : int
        V, the number of characters; the ids are in ``0 .. V - 1``.
    smoothing : float, default 1.0
        The smoothing constant :math:`\\kappa > 0`; 1 is Laplace's rule.

    Examples
    --------
    >>> model = NGramModel(2, 3, smoothing=1.0).fit(np.array([0, 1, 0, 1, 0, 1]))
    >>> round(float(np.exp(model.log_probs(np.array([0, 1]))[1])), 3)  # P(1 | 0) = (3 + 1) / (3 + 3)
    0.667
    """

    def __init__(self, order: int, vocab_size: int, *, smoothing: float = 1.0) -> None:
        self.order = check_positive_int(order, "order")
        self.vocab_size = check_positive_int(vocab_size, "vocab_size")
        self.smoothing = check_positive_float(smoothing, "smoothing")
        if not np.isfinite(self.smoothing * self.vocab_size):  # N(u) + kappa V infinite: every probability 0
            raise ValueError(
                f"smoothing must keep smoothing * vocab_size finite, got smoothing = {self.smoothing:g} "
                f"with vocab_size {self.vocab_size}"
            )
        # A (context, next) pair is coded as one int64: (V + 1)**(order - 1) contexts times V characters.
        largest = 0  # the highest order whose codes fit
        while (self.vocab_size + 1) ** largest * self.vocab_size < 2**63:
            largest += 1
        if self.order > largest:
            raise ValueError(
                f"order must be at most {largest} for vocab_size {self.vocab_size} (its n-grams are counted by "
                f"int64 codes), got {self.order}"
            )
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
        return np.log(pair + self.smoothing) - np.log(total + self.smoothing * self.vocab_size)

    def loss(self, ids: np.ndarray) -> float:
        """Mean surprise, in nats per character, at the characters ``ids[1:]`` of a text ``ids`` (N,).

        The first character is left out, as in :func:`rnnbook.training.chartrainer.evaluate`,
        which scores every *next* character.
        """
        ids = self._check_ids(ids, "ids")
        if len(ids) < 2:
            raise ValueError(f"ids must hold at least 2 characters, got {len(ids)}")
        return float(-self.log_probs(ids)[1:].mean())

    def next_log_probs(self, context: np.ndarray) -> np.ndarray:
        """The natural log of the probability of every character (V,) after ``context`` (any length, 1-d).

        Only the last ``order - 1`` characters of ``context`` count; a shorter
        context is padded with the start symbol, as at the start of a text.
        """
        context = self._check_ids(context, "context")
        keep = self.order - 1
        padded = np.concatenate([np.full(max(keep - len(context), 0), self.vocab_size, dtype=np.int64), context])
        code = 0
        for symbol in padded[len(padded) - keep :] if keep else ():
            code = code * (self.vocab_size + 1) + int(symbol)
        pair = self._lookup(self._pairs, self._pair_counts, code * self.vocab_size + np.arange(self.vocab_size))
        total = self._lookup(self._contexts, self._context_counts, np.array([code]))[0]
        return np.log(pair + self.smoothing) - np.log(total + self.smoothing * self.vocab_size)

    def sample(
        self, length: int, *, prime: np.ndarray, temperature: float = 1.0, rng: np.random.Generator | int
    ) -> np.ndarray:
        """Write ``length`` characters (ids, shape (length,)), each drawn given those before, after ``prime`` (1-d).

        As for the recurrent models, the log-probabilities are divided by
        ``temperature`` before they are normalised again.
        """
        length = check_positive_int(length, "length")
        temperature = check_positive_float(temperature, "temperature")
        rng = check_rng(rng)
        text = list(self._check_ids(prime, "prime"))
        for _ in range(length):
            scaled = self.next_log_probs(np.array(text[max(len(text) - self.order + 1, 0) :], dtype=np.int64))
            with np.errstate(over="ignore"):  # a tiny temperature: -inf for all but the likeliest, greedy
                scaled = (scaled - scaled.max()) / temperature
            p = np.exp(scaled)
            cdf = np.cumsum(p)
            text.append(min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), self.vocab_size - 1))
        return np.array(text[len(text) - length :], dtype=np.int64)
