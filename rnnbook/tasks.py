"""Small tasks whose answers need memory, generated in code (no downloads).

Every generator takes an explicit :class:`numpy.random.Generator` (or a seed)
and returns arrays in the time-major layout of the package: inputs (T, B, I).
"""

from __future__ import annotations

import numpy as np

from rnnbook._validation import check_positive_int, check_rng


def one_hot(indices: np.ndarray, n_classes: int, dtype: type | np.dtype = np.float64) -> np.ndarray:
    """One-hot encode integer ``indices`` of any shape into shape (..., n_classes)."""
    n_classes = check_positive_int(n_classes, "n_classes")
    indices = np.asarray(indices)
    if not np.issubdtype(indices.dtype, np.integer):
        raise TypeError(f"indices must be integers, got dtype {indices.dtype}")
    if indices.size and (indices.min() < 0 or indices.max() >= n_classes):
        raise ValueError(f"indices must be in [0, {n_classes}), got {indices.min()} to {indices.max()}")
    return np.eye(n_classes, dtype=dtype)[indices]


def first_symbol(
    n_sequences: int,
    length: int,
    n_symbols: int,
    *,
    rng: np.random.Generator | int,
    dtype: type | np.dtype = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """"What was the first symbol?": a question asked only at the end of the sequence.

    Every sequence is ``length`` symbols drawn uniformly from ``n_symbols``;
    the answer is the first one.  The first and last symbols are drawn
    independently, so a network that sees only the last symbol can do no
    better than chance, 1 / n_symbols.

    Parameters
    ----------
    n_sequences : int
        B, the number of sequences.
    length : int
        T, the number of steps (at least 2).
    n_symbols : int
        K, the size of the alphabet (at least 2).
    rng : numpy.random.Generator or int

    Returns
    -------
    x : numpy.ndarray, shape (T, B, K)
        One-hot symbols.
    y : numpy.ndarray of int, shape (B,)
        The first symbol of each sequence.
    """
    n_sequences = check_positive_int(n_sequences, "n_sequences")
    length = check_positive_int(length, "length")
    n_symbols = check_positive_int(n_symbols, "n_symbols")
    if length < 2 or n_symbols < 2:
        raise ValueError(f"need length >= 2 and n_symbols >= 2, got length={length}, n_symbols={n_symbols}")
    rng = check_rng(rng)
    symbols = rng.integers(0, n_symbols, size=(length, n_sequences))
    return one_hot(symbols, n_symbols, dtype), symbols[0].copy()
