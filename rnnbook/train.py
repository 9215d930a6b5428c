"""The training loop: show examples, measure the error, step downhill, repeat."""

from __future__ import annotations

import numpy as np

from rnnbook._validation import check_positive_float, check_positive_int, check_rng
from rnnbook.optim import Optimizer, clip_gradients


def batch_axis(x: np.ndarray) -> int:
    """Sequences (T, B, I) are batched along axis 1; plain inputs (B, I) along axis 0."""
    return 1 if x.ndim == 3 else 0


def fit(
    model,
    x: np.ndarray,
    y: np.ndarray,
    optimizer: Optimizer,
    *,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator | int,
    max_norm: float | None = None,
) -> list[float]:
    """Train ``model`` with mini-batches drawn in a new random order each epoch.

    Parameters
    ----------
    model
        Anything with ``params`` and ``loss_and_grads(x, y)``.
    x : numpy.ndarray, shape (T, N, I) or (N, I)
        All training inputs.
    y : numpy.ndarray, shape (N,) or (T, N)
        All targets; the example axis matches ``x``.
    optimizer : Optimizer
    epochs : int
        Passes over the data.
    batch_size : int
        Examples per step.
    rng : numpy.random.Generator or int
        For the order of the examples.
    max_norm : float, optional
        If given, clip the global gradient norm to it (:func:`rnnbook.optim.clip_gradients`).

    Returns
    -------
    list of float
        The loss of every step, in order.
    """
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    if max_norm is not None:
        check_positive_float(max_norm, "max_norm")
    rng = check_rng(rng)
    axis = batch_axis(x)
    n = x.shape[axis]
    y_axis = 0 if y.ndim == 1 else 1
    if y.shape[y_axis] != n:
        raise ValueError(f"x has {n} examples along axis {axis} but y has {y.shape[y_axis]} along axis {y_axis}")
    losses = []
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            loss, grads = model.loss_and_grads(np.take(x, idx, axis=axis), np.take(y, idx, axis=y_axis))
            if max_norm is not None:
                clip_gradients(grads, max_norm)
            optimizer.step(model.params, grads)
            losses.append(loss)
    return losses


def accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    """The fraction of examples whose highest-scoring class is the label."""
    return float(np.mean(model.logits(x).argmax(axis=-1) == y))
