"""What a network needs memory for on the adding problem, and whether it uses it.

The adding problem (:func:`rnnbook.data.synthetic.adding_problem`) asks for the
sum of two marked values.  :func:`memoryless_mse` and :func:`memoryless_baseline`
give the best a model without memory can do: it still sees the last step, and
when that step is the second marked one it knows half the answer.
:func:`marked_value_sensitivity` probes a trained model: how far its answer
moves when each marked value moves (an exact adder: 1 and 1).
"""

from __future__ import annotations

import numpy as np

from rnnbook._validation import check_array, check_positive_float, check_positive_int


def memoryless_mse(length: int) -> float:
    """The mean squared error of the best adding-problem answer that sees only the last step.

    Such a model sees the last value and the last marker. When the last step is
    marked (probability ``1 / (T - T // 2)``, the second marker's range) the
    best guess is that value plus 0.5, wrong by the first value's spread, a
    variance of 1/12; otherwise the best guess is 1, with a variance of 1/6.

    Parameters
    ----------
    length : int
        T, the sequence length (at least 2).

    Returns
    -------
    float
    """
    length = check_positive_int(length, "length")
    if length < 2:
        raise ValueError(f"length must be at least 2, got {length}")
    p_last_marked = 1.0 / (length - length // 2)
    return p_last_marked / 12.0 + (1.0 - p_last_marked) / 6.0


def _last_step_features(x: np.ndarray) -> np.ndarray:
    value, marker = x[-1, :, 0], x[-1, :, 1]
    return np.stack([np.ones_like(value), marker, value * marker], axis=1)


def memoryless_baseline(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray) -> float:
    """Fit the best memoryless answer on training data and return its test mean squared error.

    The model sees only the last step's value v and marker m and answers
    ``w0 + w1 m + w2 v m`` (the best such answer has this form: 1 when the last
    step is unmarked, v + 0.5 when it is marked), with the weights found by
    least squares on the training set.

    Parameters
    ----------
    x_train, x_test : numpy.ndarray, shape (T, B, 2)
        Adding-problem inputs (values, markers).
    y_train, y_test : numpy.ndarray, shape (B,)
        Their targets.

    Returns
    -------
    float
        The test mean squared error.
    """
    x_train = check_array(x_train, "x_train", ndim=3)
    x_test = check_array(x_test, "x_test", ndim=3)
    y_train = check_array(y_train, "y_train", ndim=1, shape=(x_train.shape[1],))
    y_test = check_array(y_test, "y_test", ndim=1, shape=(x_test.shape[1],))
    if x_train.shape[2] != 2 or x_test.shape[2] != 2:
        raise ValueError(
            f"inputs must have 2 features per step (value, marker), got {x_train.shape} and {x_test.shape}"
        )
    weights, *_ = np.linalg.lstsq(_last_step_features(x_train), y_train, rcond=None)
    prediction = _last_step_features(x_test) @ weights
    return float(np.mean((prediction - y_test) ** 2))


def marked_value_sensitivity(model, x: np.ndarray, delta: float = 0.1) -> np.ndarray:
    """How far the answer moves per unit change of each marked value.

    A network that adds the two marked values moves its answer by ``delta``
    when either of them grows by ``delta``: both ratios are near 1. A network
    that forgot the first value does not move with it: ratio near 0.

    Parameters
    ----------
    model : SequenceRegressor
        Anything with ``predict(x)`` returning shape (B,).
    x : numpy.ndarray, shape (T, B, 2)
        Adding-problem inputs, exactly two marked steps per sequence.
    delta : float, default 0.1
        The nudge.

    Returns
    -------
    numpy.ndarray, shape (2, B)
        Row 0: change of the answer over ``delta`` for the first marked value;
        row 1: for the second.
    """
    x = check_array(x, "x", ndim=3)
    delta = check_positive_float(delta, "delta")
    markers = x[..., 1]
    if not np.all(markers.sum(axis=0) == 2):
        raise ValueError("every sequence must have exactly two marked steps")
    base = model.predict(x)
    columns = np.arange(x.shape[1])
    marked = np.sort(np.argsort(-markers, axis=0, kind="stable")[:2], axis=0)  # (2, B): first, second
    out = np.empty((2, x.shape[1]))
    for which in range(2):
        nudged = x.copy()
        nudged[marked[which], columns, 0] += delta
        out[which] = (model.predict(nudged) - base) / delta
    return out
