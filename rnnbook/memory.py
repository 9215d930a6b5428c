"""Memory tasks: problems that can only be solved by carrying information for many steps.

The *adding problem* of Hochreiter & Schmidhuber (1997), in the later form used
by Arjovsky et al. (2016) and many others: every step shows two numbers, a value
drawn from U[0, 1] and a marker that is 1 at exactly two steps (one in each half
of the sequence) and 0 elsewhere.  At the end the network must output the sum
of the two marked values.  The first marked value may sit at the very start of
the sequence, so the network has to hold it for up to ``length`` steps.  A
network that remembers nothing can do no better than always answering 1 (the
mean of the sum), which scores a mean squared error of 1/6, about 0.167.

The *copy task* asks the network to reproduce, after a long blank, a short
string of symbols it saw at the start.

:class:`SequenceRegressor` is the many-to-one model for the adding problem, and
:func:`train_on_lag` / :func:`lag_sweep` train one at a given lag and measure it
on fresh sequences.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rnnbook._validation import (
    check_array,
    check_choice,
    check_dtype,
    check_positive_float,
    check_positive_int,
    check_rng,
)
from rnnbook.linear import init_linear, linear_backward, linear_forward
from rnnbook.losses import mean_squared_error
from rnnbook.models import join, make_cell, split
from rnnbook.optim import SGD, Adam, clip_gradients, global_norm
from rnnbook.tasks import one_hot

Params = dict[str, np.ndarray]

#: An answer to the adding problem counts as right when it is this close to the target.
SOLVED_TOLERANCE = 0.04

#: The mean squared error of always answering 1, the best answer that uses no memory:
#: the variance of the sum of two independent U[0, 1] values, 2 * 1/12.
BASELINE_MSE = 1.0 / 6.0


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


class SequenceRegressor:
    """Many-to-one regression: read a whole sequence, then output one number.

    Parameters
    ----------
    input_size : int
        I, features per step (2 for the adding problem).
    hidden_size : int
        H, the size of the state.
    cell : {"rnn", "lstm", "gru"}, default "rnn"
        The recurrent layer, built by :func:`rnnbook.models.make_cell`.
    activation : str, default "tanh"
        For ``cell="rnn"`` only.
    rng : numpy.random.Generator or int
    dtype : float32 or float64

    Attributes
    ----------
    params : dict
        ``rnn.*`` (the recurrent layer, torch names) and ``readout.weight`` (1, H),
        ``readout.bias`` (1,).

    Examples
    --------
    >>> model = SequenceRegressor(2, 8, rng=0)
    >>> x, y = adding_problem(4, 10, rng=1)
    >>> model.predict(x).shape
    (4,)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        cell: str = "rnn",
        activation: str = "tanh",
        rng: np.random.Generator | int,
        dtype: type | np.dtype = np.float64,
    ) -> None:
        rng = check_rng(rng)
        dtype = check_dtype(dtype)
        self.cell = cell
        self.layer = make_cell(cell, input_size, hidden_size, rng=rng, dtype=dtype, activation=activation)
        readout = init_linear(hidden_size, 1, rng=rng, dtype=dtype)
        self.params = join("rnn", self.layer.params) | join("readout", readout)
        self.layer.params = split(self.params, "rnn")

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The answer for each sequence, shape (B,), from ``x`` of shape (T, B, I)."""
        states, _ = self.layer.forward(x)
        return linear_forward(split(self.params, "readout"), states[-1])[:, 0]

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray) -> tuple[float, Params]:
        """Mean squared error of the answers against targets ``y`` (B,), and every gradient."""
        states, trace = self.layer.forward(x)
        y = check_array(y, "y", ndim=1, shape=(x.shape[1],), dtype=x.dtype)
        readout = split(self.params, "readout")
        last = states[-1]
        loss, dpred = mean_squared_error(linear_forward(readout, last), y[:, None])
        grads_out, dlast = linear_backward(readout, last, dpred)
        dstates = np.zeros_like(states)
        dstates[-1] = dlast
        grads_rnn, _, _ = self.layer.backward(trace, dstates)
        return loss, join("rnn", grads_rnn) | join("readout", grads_out)


def solved_fraction(predictions: np.ndarray, targets: np.ndarray, tolerance: float = SOLVED_TOLERANCE) -> float:
    """The fraction of answers within ``tolerance`` of their target.

    Parameters
    ----------
    predictions, targets : numpy.ndarray, shape (B,)
    tolerance : float, default 0.04

    Returns
    -------
    float
    """
    predictions = check_array(predictions, "predictions", ndim=1)
    targets = check_array(targets, "targets", ndim=1, shape=predictions.shape, dtype=predictions.dtype)
    tolerance = check_positive_float(tolerance, "tolerance")
    return float(np.mean(np.abs(predictions - targets) < tolerance))


@dataclass
class TrainLog:
    """What one training run on the adding problem produced.

    Attributes
    ----------
    losses : list of float
        The training loss of every step.
    grad_norms : list of float
        The global gradient norm of every step, before clipping.
    diverged : bool
        True if a gradient became NaN or infinite and training stopped there.
    """

    losses: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)
    diverged: bool = False


def train_regressor(
    model: SequenceRegressor,
    x: np.ndarray,
    y: np.ndarray,
    optimizer,
    *,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator | int,
    max_norm: float | None = None,
) -> TrainLog:
    """Train with mini-batches, recording loss and gradient norm; stop cleanly on NaN.

    This is :func:`rnnbook.train.fit` plus two things the chapters on
    exploding gradients need, which is why it is a separate loop: the gradient
    norm of every step, and a clean stop (``diverged=True``) when the gradient
    is no longer a finite number, instead of the optimiser's ``ValueError``.

    Parameters
    ----------
    model : SequenceRegressor
        Anything with ``params`` and ``loss_and_grads(x, y)``.
    x : numpy.ndarray, shape (T, N, I)
    y : numpy.ndarray, shape (N,)
    optimizer : rnnbook.optim.Optimizer
    epochs, batch_size : int
    rng : numpy.random.Generator or int
        For the order of the examples.
    max_norm : float, optional
        Clip the global gradient norm to this (:func:`rnnbook.optim.clip_gradients`).

    Returns
    -------
    TrainLog
    """
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    if max_norm is not None:
        max_norm = check_positive_float(max_norm, "max_norm")
    rng = check_rng(rng)
    x = check_array(x, "x", ndim=3)
    y = check_array(y, "y", ndim=1, shape=(x.shape[1],), dtype=x.dtype)
    log = TrainLog()
    n = x.shape[1]
    # Divergence is an outcome this loop reports, not an accident: silence numpy's overflow warnings.
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(epochs):
            order = rng.permutation(n)
            for start in range(0, n, batch_size):
                idx = order[start : start + batch_size]
                try:
                    loss, grads = model.loss_and_grads(x[:, idx], y[idx])
                except ValueError as error:
                    # rnnbook's input checks refuse infinite or NaN intermediate arrays (an answer
                    # so large that its gradient overflowed); that is divergence, anything else is a bug.
                    if "must be finite" not in str(error):
                        raise
                    loss, grads = float("inf"), None
                norm = float("inf") if grads is None else global_norm(grads)
                log.losses.append(loss)
                log.grad_norms.append(norm)
                if not (np.isfinite(norm) and np.isfinite(loss)):
                    log.diverged = True
                    return log
                if max_norm is not None:
                    clip_gradients(grads, max_norm)
                optimizer.step(model.params, grads)
    return log


@dataclass
class LagResult:
    """The outcome of training on the adding problem at one lag.

    Attributes
    ----------
    lag : int
        The sequence length T.
    test_mse : float
        Mean squared error on fresh test sequences (``nan`` if training diverged).
    solved : float
        Fraction of test answers within :data:`SOLVED_TOLERANCE` of the target.
    log : TrainLog
        Losses and gradient norms of every training step.
    model : SequenceRegressor
        The trained model.
    """

    lag: int
    test_mse: float
    solved: float
    log: TrainLog
    model: SequenceRegressor


def train_on_lag(
    lag: int,
    *,
    cell: str = "rnn",
    hidden_size: int = 32,
    n_train: int = 4000,
    n_test: int = 500,
    epochs: int = 30,
    batch_size: int = 50,
    optimizer: str = "adam",
    lr: float = 5e-3,
    max_norm: float | None = None,
    rng: np.random.Generator | int,
) -> LagResult:
    """Train a fresh :class:`SequenceRegressor` on the adding problem of length ``lag``.

    Parameters
    ----------
    lag : int
        T, the sequence length: how far back the first marked value may lie.
    cell : {"rnn", "lstm", "gru"}, default "rnn"
    hidden_size : int, default 32
    n_train, n_test : int, default 4000 and 500
        Training and test sequences (the test set is drawn separately).
    epochs, batch_size : int, default 30 and 50
    optimizer : {"adam", "sgd"}, default "adam"
    lr : float, default 0.005
    max_norm : float, optional
        Clip the global gradient norm to this.
    rng : numpy.random.Generator or int
        Everything random (data, weights, order) comes from it.

    Returns
    -------
    LagResult
    """
    lag = check_positive_int(lag, "lag")
    hidden_size = check_positive_int(hidden_size, "hidden_size")
    n_test = check_positive_int(n_test, "n_test")
    lr = check_positive_float(lr, "lr")
    optimizer = check_choice(optimizer, "optimizer", ("adam", "sgd"))
    rng = check_rng(rng)
    x, y = adding_problem(n_train, lag, rng=rng)
    x_test, y_test = adding_problem(n_test, lag, rng=rng)
    model = SequenceRegressor(2, hidden_size, cell=cell, rng=rng)
    opt = Adam(lr) if optimizer == "adam" else SGD(lr)
    log = train_regressor(model, x, y, opt, epochs=epochs, batch_size=batch_size, rng=rng, max_norm=max_norm)
    if log.diverged:
        return LagResult(lag=lag, test_mse=float("nan"), solved=0.0, log=log, model=model)
    pred = model.predict(x_test)
    test_mse = float(np.mean((pred - y_test) ** 2))
    return LagResult(lag=lag, test_mse=test_mse, solved=solved_fraction(pred, y_test), log=log, model=model)


def lag_sweep(lags: Sequence[int], *, seed: int = 0, **kwargs) -> list[LagResult]:
    """:func:`train_on_lag` at every lag, each run seeded from ``seed`` and its lag.

    Parameters
    ----------
    lags : sequence of int
        The sequence lengths to try.
    seed : int, default 0
        Run ``i`` uses ``numpy.random.default_rng([seed, lag])``, so adding a lag
        to the sweep does not change the others.
    **kwargs
        Passed on to :func:`train_on_lag`.

    Returns
    -------
    list of LagResult, one per lag, in order.
    """
    if isinstance(lags, str | bytes) or not isinstance(lags, Sequence) or len(lags) == 0:
        raise TypeError(f"lags must be a non-empty sequence of positive integers, got {lags!r}")
    lags = [check_positive_int(lag, "lag") for lag in lags]
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise TypeError(f"seed must be a non-negative integer, got {seed!r}")
    return [train_on_lag(lag, rng=np.random.default_rng([int(seed), lag]), **kwargs) for lag in lags]
