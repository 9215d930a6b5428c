"""Experiments on the adding problem: train at a given lag, sweep over lags, score the answers.

:func:`train_on_lag` trains a fresh :class:`~rnnbook.models.regressor.SequenceRegressor`
on the adding problem (:func:`rnnbook.data.synthetic.adding_problem`) of one
length and measures it on fresh sequences; :func:`lag_sweep` does so for
several lengths, each run seeded on its own, and :func:`seed_sweep` for
several lengths and several seeds, so that a conclusion rests on more than
one run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from rnnbook._validation import check_array, check_choice, check_positive_float, check_positive_int, check_rng
from rnnbook.data.synthetic import adding_problem
from rnnbook.models.regressor import SequenceRegressor
from rnnbook.training.loop import TrainLog, train_regressor
from rnnbook.training.optim import SGD, Adam

#: An answer to the adding problem counts as right when it is this close to the target.
SOLVED_TOLERANCE = 0.04


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
    """Train a fresh :class:`~rnnbook.models.regressor.SequenceRegressor` on the adding problem of length ``lag``.

    Parameters
    ----------
    lag : int
        T, the sequence length: how far back the first marked value may lie.
    cell : str, default "rnn"
        A name from :data:`rnnbook.layers.registry.CELLS`.
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


@dataclass
class SeedSweep:
    """Training runs of the adding problem at several lags, several seeds each.

    Attributes
    ----------
    lags : list of int
        The sequence lengths, in order.
    seeds : list of int
    runs : list of list of LagResult
        ``runs[i][j]`` is lag ``lags[i]`` with seed ``seeds[j]``.
    """

    lags: list[int]
    seeds: list[int]
    runs: list[list[LagResult]]

    def test_mse(self) -> np.ndarray:
        """Test mean squared errors, shape (len(lags), len(seeds))."""
        return np.array([[r.test_mse for r in row] for row in self.runs])

    def solved(self) -> np.ndarray:
        """Fractions of test answers within the tolerance, shape (len(lags), len(seeds))."""
        return np.array([[r.solved for r in row] for row in self.runs])


def seed_sweep(lags: Sequence[int], seeds: Sequence[int], **kwargs) -> SeedSweep:
    """:func:`train_on_lag` at every lag with every seed.

    Run (lag, seed) uses ``numpy.random.default_rng([seed, lag])``, as
    :func:`lag_sweep` does, so one more lag or seed leaves the
    other runs unchanged.

    Parameters
    ----------
    lags, seeds : sequence of int
    **kwargs
        Passed on to :func:`train_on_lag`.

    Returns
    -------
    SeedSweep
    """
    if isinstance(lags, str | bytes) or not isinstance(lags, Sequence) or len(lags) == 0:
        raise TypeError(f"lags must be a non-empty sequence of positive integers, got {lags!r}")
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence | range) or len(seeds) == 0:
        raise TypeError(f"seeds must be a non-empty sequence of non-negative integers, got {seeds!r}")
    lags = [check_positive_int(lag, "lag") for lag in lags]
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise TypeError(f"every seed must be a non-negative integer, got {seed!r}")
    seeds = [int(seed) for seed in seeds]
    runs = [[train_on_lag(lag, rng=np.random.default_rng([seed, lag]), **kwargs) for seed in seeds] for lag in lags]
    return SeedSweep(lags=lags, seeds=seeds, runs=runs)


def cell_sweep(
    cells: Mapping[str, int], lags: Sequence[int], seeds: Sequence[int], **settings
) -> dict[str, list[list[LagResult]]]:
    """:func:`seed_sweep` for several cells, each with its own hidden size.

    Parameters
    ----------
    cells : mapping of str to int
        Each cell's name in the registry (``rnnbook.layers.registry.CELLS``) and its hidden size.
    lags : sequence of int
        Sequence lengths.
    seeds : sequence of int
        One independent run (data, weights, order) per seed.
    **settings
        Passed on to :func:`train_on_lag` (not ``cell`` or ``hidden_size``).

    Returns
    -------
    dict of str to list of list of LagResult
        ``out[cell][s][j]`` is the run of seed ``seeds[s]`` at ``lags[j]``.
    """
    if not isinstance(cells, Mapping):
        raise TypeError(f"cells must be a mapping of cell name to hidden size, got {type(cells).__name__}")
    if not cells or not seeds:
        raise ValueError(f"cells and seeds must not be empty, got {dict(cells)!r} and {list(seeds)!r}")
    by_cell = {}
    for cell, hidden in cells.items():
        sweep = seed_sweep(lags, seeds, cell=cell, hidden_size=hidden, **settings)
        by_cell[cell] = [list(runs_of_seed) for runs_of_seed in zip(*sweep.runs, strict=True)]
    return by_cell
