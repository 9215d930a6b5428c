"""Small tasks whose answers need memory, generated in code (no downloads).

* :func:`first_symbol`: "what was the first symbol?", asked at the end;
* :func:`adding_problem`: the adding problem of Hochreiter & Schmidhuber
  (1997), in the later form used by Arjovsky et al. (2016) and many others:
  every step shows two numbers, a value drawn from U[0, 1] and a marker that
  is 1 at exactly two steps (one in each half of the sequence) and 0
  elsewhere.  At the end the network must output the sum of the two marked
  values.  The first marked value may sit at the very start of the sequence,
  so the network has to hold it for up to ``length`` steps.  A network that
  remembers nothing can do no better than always answering 1 (the mean of the
  sum), which scores a mean squared error of 1/6 (:data:`BASELINE_MSE`);
* :func:`copy_task`: reproduce, after a long blank, a short string of
  symbols seen at the start.

Every generator takes an explicit :class:`numpy.random.Generator` (or a seed)
and returns arrays in the time-major layout of the package: inputs (T, B, I).
"""

from __future__ import annotations

import numpy as np

from rnnbook._validation import check_dtype, check_positive_int, check_rng
from rnnbook.data.encoding import one_hot

#: The mean squared error of always answering 1, the best answer that uses no memory:
#: the variance of the sum of two independent U[0, 1] values, 2 * 1/12.
BASELINE_MSE = 1.0 / 6.0


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
        V, the size of the alphabet (at least 2).
    rng : numpy.random.Generator or int
        The source of randomness (or a seed for one).
    dtype : float32 or float64, default float64
        The dtype of the one-hot inputs.

    Returns
    -------
    x : numpy.ndarray, shape (T, B, V)
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
    dtype = check_dtype(dtype)
    symbols = rng.integers(0, n_symbols, size=(length, n_sequences))
    return one_hot(symbols, n_symbols, dtype), symbols[0].copy()


def adding_problem(
    n_sequences: int,
    length: int,
    *,
    rng: np.random.Generator | int,
    dtype: type | np.dtype = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """Sequences for the adding problem: add the two marked numbers.

    Parameters
    ----------
    n_sequences : int
        B, the number of sequences.
    length : int
        T, the number of steps (at least 2).  The first marker falls uniformly in
        steps ``0 .. T//2 - 1`` and the second in ``T//2 .. T - 1``.
    rng : numpy.random.Generator or int
        The source of randomness (or a seed for one).
    dtype : numpy dtype, default float64
        float32 or float64.

    Returns
    -------
    x : numpy.ndarray, shape (T, B, 2)
        ``x[..., 0]`` the values, U[0, 1]; ``x[..., 1]`` the markers, 0 or 1.
    y : numpy.ndarray, shape (B,)
        The sum of the two marked values, in [0, 2].

    Examples
    --------
    >>> x, y = adding_problem(3, 10, rng=0)
    >>> x.shape, y.shape
    ((10, 3, 2), (3,))
    >>> bool(np.allclose((x[..., 0] * x[..., 1]).sum(axis=0), y))
    True
    """
    n_sequences = check_positive_int(n_sequences, "n_sequences")
    length = check_positive_int(length, "length")
    if length < 2:
        raise ValueError(f"length must be at least 2 (one marker in each half), got {length}")
    rng = check_rng(rng)
    dtype = check_dtype(dtype)
    half = length // 2
    values = rng.uniform(0.0, 1.0, size=(length, n_sequences))
    first = rng.integers(0, half, size=n_sequences)
    second = rng.integers(half, length, size=n_sequences)
    columns = np.arange(n_sequences)
    markers = np.zeros((length, n_sequences))
    markers[first, columns] = 1.0
    markers[second, columns] = 1.0
    x = np.stack([values, markers], axis=-1).astype(dtype)
    y = (values[first, columns] + values[second, columns]).astype(dtype)
    return x, y


def copy_task(
    n_sequences: int,
    n_remember: int,
    lag: int,
    n_symbols: int = 8,
    *,
    rng: np.random.Generator | int,
    dtype: type | np.dtype = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """Sequences for the copy task: see a short string, wait, then write it back.

    The input is ``n_remember`` random symbols (from ``1 .. n_symbols``), then
    ``lag - 1`` blanks (symbol 0), then a "go" signal (symbol ``n_symbols + 1``),
    then ``n_remember - 1`` more blanks.  The target is blank everywhere except
    the last ``n_remember`` steps, which must repeat the string.

    Parameters
    ----------
    n_sequences : int
        B, the number of sequences.
    n_remember : int
        How many symbols to remember.
    lag : int
        Steps between the end of the string and the go signal (at least 1).
    n_symbols : int, default 8
        The size of the alphabet to copy (at least 1).
    rng : numpy.random.Generator or int
    dtype : float32 or float64
        The dtype of the one-hot inputs.

    Returns
    -------
    x : numpy.ndarray, shape (T, B, n_symbols + 2)
        One-hot inputs, with ``T = 2 * n_remember + lag - 1`` steps.
    y : numpy.ndarray of int, shape (T, B)
        The class to output at every step: 0 (blank) or a symbol.
    """
    n_sequences = check_positive_int(n_sequences, "n_sequences")
    n_remember = check_positive_int(n_remember, "n_remember")
    lag = check_positive_int(lag, "lag")
    n_symbols = check_positive_int(n_symbols, "n_symbols")
    rng = check_rng(rng)
    dtype = check_dtype(dtype)
    length = n_remember + lag + n_remember - 1
    string = rng.integers(1, n_symbols + 1, size=(n_remember, n_sequences))
    inputs = np.zeros((length, n_sequences), dtype=np.int64)
    inputs[:n_remember] = string
    inputs[n_remember + lag - 1] = n_symbols + 1
    targets = np.zeros((length, n_sequences), dtype=np.int64)
    targets[length - n_remember :] = string
    return one_hot(inputs, n_symbols + 2, dtype), targets
