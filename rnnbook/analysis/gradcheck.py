"""Is my gradient right?  Compare it with a finite difference.

For a function ``f`` of an array ``x``, the central difference
``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)`` approximates the partial
derivative along entry ``i`` with an error of order ``eps**2``.  Comparing it
with the analytic gradient catches almost every backward-pass bug.  Use float64:
in float32 the rounding error swamps the comparison.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rnnbook._validation import check_array, check_positive_float


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of ``f()`` with respect to the array ``x``.

    ``x`` is perturbed in place, one entry at a time, and restored afterwards;
    ``f`` takes no arguments and reads ``x`` through a closure, so it works
    for any array a model holds (a weight, an input, an initial state).

    Parameters
    ----------
    f : callable () -> float
        The scalar function.
    x : numpy.ndarray, float64, any shape
        The array to differentiate with respect to.
    eps : float, default 1e-6
        The step.

    Returns
    -------
    numpy.ndarray, same shape as ``x``
    """
    x = check_array(x, "x", ndim=None, dtype=np.dtype(np.float64), allow_empty=True)
    eps = check_positive_float(eps, "eps")
    grad = np.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat_x, x):
        raise ValueError("x must be contiguous so that it can be perturbed in place")
    if not callable(f):
        raise TypeError(f"f must be a function of no arguments returning a number, got {type(f).__name__}")
    if not x.flags.writeable:
        raise ValueError("x must be writeable: it is perturbed in place (and restored)")
    for i in range(flat_x.size):
        old = flat_x[i]
        try:
            flat_x[i] = old + eps
            plus = _scalar(f())
            flat_x[i] = old - eps
            minus = _scalar(f())
        finally:
            flat_x[i] = old
        flat_grad[i] = (plus - minus) / (2 * eps)
    return grad


def _scalar(value: object) -> float:
    """What ``f`` returned, as a float: it must be one finite real number."""
    if np.ndim(value) != 0 or isinstance(value, bool | str | bytes | complex | np.complexfloating):
        raise TypeError(f"f must return a scalar (one real number), got {type(value).__name__} {np.shape(value)}")
    number = float(value)
    if not np.isfinite(number):
        raise ValueError(f"f must return a finite number, got {number} (the function is not differentiable there)")
    return number


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """``||a - b|| / max(||a||, ||b||)`` in the Euclidean norm: 0 means identical.

    Taken over the whole array rather than entry by entry, so that an entry
    that is almost zero in both (where finite differences are all noise) does
    not dominate.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def check_gradients(
    f: Callable[[], float],
    arrays: dict[str, np.ndarray],
    analytic: dict[str, np.ndarray],
    eps: float = 1e-6,
) -> dict[str, float]:
    """Relative error between analytic and numerical gradients, array by array.

    Parameters
    ----------
    f : callable () -> float
        The loss, reading the arrays through a closure.
    arrays : dict of str to numpy.ndarray
        The arrays to perturb (float64).
    analytic : dict of str to numpy.ndarray
        The gradients your backward pass computed, same keys and shapes.

    Returns
    -------
    dict of str to float
        For each name, :func:`relative_error` of analytic against numerical.
    """
    missing = set(arrays) - set(analytic)
    if missing:
        raise ValueError(f"analytic gradients missing for {sorted(missing)}")
    return {name: relative_error(analytic[name], numerical_gradient(f, x, eps)) for name, x in arrays.items()}
