"""Many-to-one regression: read a whole sequence, then output one number (the adding problem's model)."""

from __future__ import annotations

import numpy as np

from rnnbook._validation import check_array, check_dtype, check_rng
from rnnbook.layers.base import Params, attach, join, split
from rnnbook.layers.linear import init_linear, linear, linear_backward
from rnnbook.layers.registry import make_cell
from rnnbook.training.losses import squared_error


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
        rng = check_rng(rng)
        dtype = check_dtype(dtype)
        self.cell = cell
        self.layer = make_cell(cell, input_size, hidden_size, rng=rng, dtype=dtype, activation=activation)
        self.params: Params = {}
        attach(self.params, "rnn", self.layer)
        self.params |= join("readout", init_linear(hidden_size, 1, rng=rng, dtype=dtype))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The answer for each sequence, shape (B,), from ``x`` of shape (T, B, I)."""
        states, _ = self.layer.forward(x)
        return linear(split(self.params, "readout"), states[-1])[:, 0]

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray) -> tuple[float, Params]:
        """Mean squared error of the answers against targets ``y`` (B,), and every gradient."""
        states, trace = self.layer.forward(x)
        y = check_array(y, "y", ndim=1, shape=(x.shape[1],), dtype=x.dtype)
        readout = split(self.params, "readout")
        last = states[-1]
        loss, dpred = squared_error(linear(readout, last), y[:, None])
        grads_out, dlast = linear_backward(readout, last, dpred)
        dstates = np.zeros_like(states)
        dstates[-1] = dlast
        grads_rnn, _, _ = self.layer.backprop(trace, dstates)
        return loss, join("rnn", grads_rnn) | join("readout", grads_out)
