"""Many-to-one regression: read a whole sequence, then output one number (the adding problem's model)."""

from __future__ import annotations

import numpy as np

from rnnbook._validation import check_array, check_dtype
from rnnbook.layers.base import Params
from rnnbook.models.base import RecurrentReadout
from rnnbook.training.losses import squared_error


class SequenceRegressor(RecurrentReadout):
    """Many-to-one regression: read a whole sequence, then output one number.

    Parameters
    ----------
    input_size : int
        I, features per step (2 for the adding problem).
    hidden_size : int
        H, the size of the state.
    cell : str, default "rnn"
        A name from :data:`rnnbook.layers.registry.CELLS`.
        The recurrent layer, built by :func:`rnnbook.layers.registry.make_cell`.
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
    >>> from rnnbook.data.synthetic import adding_problem
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
        self.cell = cell
        dtype = check_dtype(dtype)
        super().__init__(input_size, hidden_size, 1, cell=cell, activation=activation, rng=rng, dtype=dtype)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The answer for each sequence, shape (B,), from ``x`` of shape (T, B, I)."""
        return self.read(x)[0][:, 0]

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray) -> tuple[float, Params]:
        """Mean squared error of the answers against targets ``y`` (B,), and every gradient."""
        predictions, saved = self.read(x)
        y = check_array(y, "y", ndim=1, shape=(x.shape[1],), dtype=x.dtype)
        loss, dpred = squared_error(predictions, y[:, None])
        return loss, self.backward(saved, dpred)
