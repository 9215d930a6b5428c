"""Losses: how wrong is the network, and which way is better?

Each loss returns its value and its gradient with respect to the prediction,
so that the backward pass can start from it.
"""

from __future__ import annotations

import numpy as np

from rnnbook._validation import check_array, check_labels


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Turn scores into probabilities, stably (the largest score is subtracted first).

    Parameters
    ----------
    logits : numpy.ndarray, shape (..., C)
    axis : int, default -1

    Returns
    -------
    numpy.ndarray, same shape as ``logits``; sums to one along ``axis``.

    Raises
    ------
    TypeError
        If ``logits`` is not a float32/float64 numpy array.
    ValueError
        If ``logits`` is empty or not finite, or ``axis`` is not one of its axes.
    """
    logits = check_array(logits, "logits", ndim=None)
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer) or not -logits.ndim <= axis < logits.ndim:
        raise ValueError(
            f"axis must be an integer in [{-logits.ndim}, {logits.ndim}) for logits of shape {logits.shape}, "
            f"got {axis!r}"
        )
    return exp_normalize(logits, axis)


def exp_normalize(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """:func:`softmax` without its input checks, for callers whose scores may hold -inf or have been checked."""
    shifted = logits - logits.max(axis=axis, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=axis, keepdims=True)
    return shifted


def softmax_cross_entropy(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of ``softmax(logits)`` against integer targets, in nats.

    Matches ``torch.nn.functional.cross_entropy`` with ``reduction="mean"``.

    Parameters
    ----------
    logits : numpy.ndarray, shape (..., C)
        Unnormalised scores for C classes.
    targets : numpy.ndarray of int, shape (...)
        The correct class for every row.

    Returns
    -------
    loss : float
        The mean of ``-log p[target]`` over all rows.
    dlogits : numpy.ndarray, shape (..., C)
        The gradient of ``loss`` with respect to ``logits``.
    """
    logits = check_array(logits, "logits", ndim=None)
    targets = check_labels(targets, "targets", shape=logits.shape[:-1], n_classes=logits.shape[-1])
    return cross_entropy(logits, targets)


def cross_entropy(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """:func:`softmax_cross_entropy` without its input checks, for models that checked their targets."""
    probs = exp_normalize(logits).reshape(-1, logits.shape[-1])
    flat_targets = targets.reshape(-1)
    rows = np.arange(flat_targets.size)
    picked = probs[rows, flat_targets]
    loss = float(-np.log(np.maximum(picked, np.finfo(logits.dtype).tiny)).mean())
    probs[rows, flat_targets] -= 1
    probs /= flat_targets.size
    return loss, probs.reshape(logits.shape)


def mean_squared_error(predictions: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean of the squared differences, as ``torch.nn.functional.mse_loss``.

    Parameters
    ----------
    predictions : numpy.ndarray, any shape
    targets : numpy.ndarray, same shape and dtype

    Returns
    -------
    loss : float
    dpredictions : numpy.ndarray, same shape as ``predictions``
    """
    predictions = check_array(predictions, "predictions", ndim=None)
    targets = check_array(
        targets, "targets", ndim=predictions.ndim, shape=predictions.shape, dtype=predictions.dtype
    )
    return squared_error(predictions, targets)


def squared_error(predictions: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """:func:`mean_squared_error` without its input checks, for models that checked their targets."""
    diff = predictions - targets
    return float(np.mean(diff * diff)), (2.0 / diff.size) * diff
