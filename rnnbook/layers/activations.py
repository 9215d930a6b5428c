"""The squashing functions of the fast layers, in place, and their derivatives.

Each activation overwrites its argument (the fast layers pass a fresh
pre-activation buffer they own), and each derivative is written in terms of
the activation's *output* :math:`s = f(a)`, which is what a backward pass has
stored.  The readable versions, with a sigmoid written as
:math:`1 / (1 + e^{-a})`, are in :mod:`rnnbook.layers.reference`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def tanh_(a: np.ndarray) -> np.ndarray:
    """:math:`\\tanh(a)`, written into ``a`` (any shape); returns ``a``."""
    return np.tanh(a, out=a)


def relu_(a: np.ndarray) -> np.ndarray:
    """:math:`\\max(a, 0)`, written into ``a`` (any shape); returns ``a``."""
    return np.maximum(a, 0, out=a)


def sigmoid_(a: np.ndarray) -> np.ndarray:
    """:math:`\\sigma(a) = (\\tanh(a/2) + 1)/2`, written into ``a`` (any shape); returns ``a``.

    The same function as :math:`1 / (1 + e^{-a})`, written so that it never
    overflows: tanh is bounded.
    """
    np.multiply(a, 0.5, out=a)
    np.tanh(a, out=a)
    np.multiply(a, 0.5, out=a)
    np.add(a, 0.5, out=a)
    return a


def tanh_derivative_into(s: np.ndarray, out: np.ndarray) -> None:
    """Write :math:`1 - s^2` (tanh' from the output ``s``) into ``out`` (same shape)."""
    np.multiply(s, s, out=out)
    np.subtract(1, out, out=out)


def relu_derivative_into(s: np.ndarray, out: np.ndarray) -> None:
    """Write 1 where ``s > 0`` and 0 elsewhere into ``out`` (same shape)."""
    np.greater(s, 0, out=out)


def sigmoid_derivative_into(s: np.ndarray, out: np.ndarray) -> None:
    """Write :math:`s (1 - s)` (sigmoid' from the output ``s``) into ``out`` (same shape)."""
    np.subtract(1, s, out=out)
    np.multiply(out, s, out=out)


#: Each activation with the derivative f'(a) written in terms of the output s = f(a).
ACTIVATIONS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "tanh": (tanh_, lambda s: 1 - s * s),
    "relu": (relu_, lambda s: (s > 0).astype(s.dtype)),
    "sigmoid": (sigmoid_, lambda s: s * (1 - s)),
}

#: The same derivatives, written into a preallocated array: a backward pass computes
#: f'(a_t) for every step in one vectorised pass instead of allocating temporaries per step.
DERIVATIVES_INTO: dict[str, Callable[[np.ndarray, np.ndarray], None]] = {
    "tanh": tanh_derivative_into,
    "relu": relu_derivative_into,
    "sigmoid": sigmoid_derivative_into,
}
