"""The dense layer that reads an answer out of a state: y = W h + b.

Laid out as ``torch.nn.Linear``: ``weight`` (O, I), ``bias`` (O,).  It is the
"ordinary network" of the book: no memory, one input at a time.
"""

from __future__ import annotations

import numpy as np

from rnnbook._validation import check_features, check_instance, check_positive_int, check_rng
from rnnbook.layers.base import Params


def init_linear(
    in_features: int, out_features: int, *, rng: np.random.Generator | int, dtype: type | np.dtype = np.float64
) -> Params:
    """Draw ``weight`` (O, I) and ``bias`` (O,) from U(-1/sqrt(I), 1/sqrt(I)), as torch does."""
    in_features = check_positive_int(in_features, "in_features")
    out_features = check_positive_int(out_features, "out_features")
    rng = check_rng(rng)
    bound = 1.0 / np.sqrt(in_features)
    return {
        "weight": rng.uniform(-bound, bound, (out_features, in_features)).astype(dtype),
        "bias": rng.uniform(-bound, bound, (out_features,)).astype(dtype),
    }


def linear_forward(params: Params, x: np.ndarray) -> np.ndarray:
    """Compute ``x @ weight.T + bias``.

    Parameters
    ----------
    params : dict
        ``weight`` (O, I) and ``bias`` (O,).
    x : numpy.ndarray, shape (..., I)
        Any number of leading dimensions.

    Returns
    -------
    numpy.ndarray, shape (..., O)
    """
    weight = params["weight"]
    return linear(params, check_features(x, "x", weight.shape[1], dtype=weight.dtype))


def linear(params: Params, x: np.ndarray) -> np.ndarray:
    """:func:`linear_forward` without its input check, for callers that made it."""
    return x @ params["weight"].T + params["bias"]


def linear_backward(params: Params, x: np.ndarray, dy: np.ndarray) -> tuple[Params, np.ndarray]:
    """Gradients of ``x @ weight.T + bias``.

    Parameters
    ----------
    params : dict
        ``weight`` (O, I) and ``bias`` (O,).
    x : numpy.ndarray, shape (..., I)
        The input of the forward pass.
    dy : numpy.ndarray, shape (..., O)
        The gradient with respect to the output.

    Returns
    -------
    grads : dict
        ``weight`` (O, I) and ``bias`` (O,).
    dx : numpy.ndarray, shape (..., I)
    """
    weight = params["weight"]
    x = check_instance(x, np.ndarray, "x", "a numpy array")
    dy = check_instance(dy, np.ndarray, "dy", "a numpy array")
    # Shapes only: a NaN gradient is for the training loop to report as divergence.
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"x must have shape (..., {weight.shape[1]}), got {x.shape}")
    if dy.shape != (*x.shape[:-1], weight.shape[0]):
        raise ValueError(
            f"dy must have shape {(*x.shape[:-1], weight.shape[0])} (x's leading dimensions, then the "
            f"{weight.shape[0]} outputs), got {dy.shape}"
        )
    flat_x = x.reshape(-1, weight.shape[1])
    flat_dy = dy.reshape(-1, weight.shape[0])
    grads = {"weight": flat_dy.T @ flat_x, "bias": flat_dy.sum(axis=0)}
    return grads, dy @ weight
