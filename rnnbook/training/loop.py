"""The training loop: show examples, measure the error, step downhill, repeat.

:func:`fit` is the one loop every model of the package trains with (the
character model's :class:`~rnnbook.training.chartrainer.CharTrainer` steps
through its text differently, but stops the same way).  When the loss or a
gradient stops being a finite number, training cannot go on: the loop raises
:class:`TrainingDiverged`, the one exception for divergence, before the
weights are touched.  :func:`train_regressor` is :func:`fit` with a
:class:`TrainLog` that records every gradient norm and turns divergence into
an outcome (``log.diverged``), as the chapters on exploding gradients need.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from rnnbook._validation import check_instance, check_labels, check_positive_float, check_positive_int, check_rng
from rnnbook.training.optim import Optimizer, clip_gradients, global_norm


class TrainingDiverged(ValueError):
    """The loss, a gradient or a weight became NaN or infinite: training cannot go on."""


@dataclass
class TrainLog:
    """What one training run produced.

    Attributes
    ----------
    losses : list of float
        The training loss of every step.
    grad_norms : list of float
        The global gradient norm of every step, before clipping.
    diverged : bool
        True if the loss or a gradient became NaN or infinite and training stopped there.
    """

    losses: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)
    diverged: bool = False


def batch_axis(x: np.ndarray) -> int:
    """Sequences (T, B, I) are batched along axis 1; plain inputs (B, I) along axis 0."""
    return 1 if x.ndim == 3 else 0


def check_finite_step(loss: float, norm: float, step: int) -> None:
    """Raise :class:`TrainingDiverged` if the loss or the gradient norm of training step ``step`` is not finite."""
    if not (math.isfinite(loss) and math.isfinite(norm)):
        what = f"the loss became {loss}" if not math.isfinite(loss) else f"the gradient norm became {norm}"
        raise TrainingDiverged(f"{what} at training step {step}; try a smaller learning rate")


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
    log: TrainLog | None = None,
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
        If given, clip the global gradient norm to it (:func:`rnnbook.training.optim.clip_gradients`).
    log : TrainLog, optional
        If given, the loss and the gradient norm (before clipping) of every
        step are appended to it, the last one even when training diverges.

    Returns
    -------
    list of float
        The loss of every step, in order.

    Raises
    ------
    TrainingDiverged
        If the loss or a gradient becomes NaN or infinite; the weights are then
        left as they were before that step.
    """
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    if max_norm is not None:
        max_norm = check_positive_float(max_norm, "max_norm")
    rng = check_rng(rng)
    check_instance(x, np.ndarray, "x", "a numpy array")
    check_instance(y, np.ndarray, "y", "a numpy array")
    check_instance(optimizer, Optimizer, "optimizer", "an Optimizer (SGD, Adagrad or Adam)")
    if not isinstance(getattr(model, "params", None), dict) or not callable(getattr(model, "loss_and_grads", None)):
        raise TypeError(f"model must have params (a dict) and loss_and_grads(x, y), got {type(model).__name__}")
    axis = batch_axis(x)
    n = x.shape[axis]
    if n == 0:
        raise ValueError(f"x holds no examples: its axis {axis} is empty, shape {x.shape}")
    y_axis = 0 if y.ndim == 1 else 1
    if y.shape[y_axis] != n:
        raise ValueError(f"x has {n} examples along axis {axis} but y has {y.shape[y_axis]} along axis {y_axis}")
    losses = []
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            # Overflow is divergence, detected below and reported as TrainingDiverged, not as numpy warnings.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                loss, grads = model.loss_and_grads(np.take(x, idx, axis=axis), np.take(y, idx, axis=y_axis))
                norm = global_norm(grads)
            if log is not None:
                log.losses.append(loss)
                log.grad_norms.append(norm)
            check_finite_step(loss, norm, len(losses) + 1)
            if max_norm is not None:
                clip_gradients(grads, max_norm)
            optimizer.step(model.params, grads)
            losses.append(loss)
    return losses


def train_regressor(
    model,
    x: np.ndarray,
    y: np.ndarray,
    optimizer: Optimizer,
    *,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator | int,
    max_norm: float | None = None,
) -> TrainLog:
    """:func:`fit`, recording loss and gradient norm of every step, and stopping cleanly on NaN.

    Divergence is an outcome here, not an error: the log says ``diverged=True``
    and holds the step where it happened.

    Parameters
    ----------
    model : SequenceRegressor
        Anything with ``params`` and ``loss_and_grads(x, y)``.
    x : numpy.ndarray, shape (T, N, I)
    y : numpy.ndarray, shape (N,)
    optimizer : rnnbook.training.optim.Optimizer
    epochs, batch_size : int
    rng : numpy.random.Generator or int
        For the order of the examples.
    max_norm : float, optional
        Clip the global gradient norm to this (:func:`rnnbook.training.optim.clip_gradients`).

    Returns
    -------
    TrainLog
    """
    log = TrainLog()
    try:
        fit(model, x, y, optimizer, epochs=epochs, batch_size=batch_size, rng=rng, max_norm=max_norm, log=log)
    except TrainingDiverged:
        log.diverged = True
    return log


def accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    """The fraction of examples whose highest-scoring class is the label.

    Parameters
    ----------
    model
        Anything with ``logits(x)``, scores (..., C).
    x : numpy.ndarray
        The inputs ``model.logits`` takes.
    y : numpy.ndarray of int, shape (...)
        The labels, one per row of scores.
    """
    if not callable(getattr(model, "logits", None)):
        raise TypeError(f"model must have a logits(x) method (a classifier), got {type(model).__name__}")
    logits = model.logits(x)
    check_labels(y, "y", shape=logits.shape[:-1], n_classes=logits.shape[-1])
    return float(np.mean(logits.argmax(axis=-1) == y))
