"""What the models that read out of one recurrent layer share: the layer, the read-out, and their passes."""

from __future__ import annotations

import numpy as np

from rnnbook._validation import check_rng
from rnnbook.layers.base import Params, attach, join, split
from rnnbook.layers.linear import init_linear, linear, linear_backward
from rnnbook.layers.registry import make_cell


class RecurrentReadout:
    """A recurrent layer (``rnn.*``) and a dense read-out (``readout.*``) of its final state or of every state.

    The many-to-one models (:class:`~rnnbook.models.classifiers.SequenceClassifier`,
    :class:`~rnnbook.models.regressor.SequenceRegressor`) read the final state;
    the aligned many-to-many :class:`~rnnbook.models.tagger.SequenceTagger`
    reads every state.

    Parameters
    ----------
    input_size : int
        I, features per step.
    hidden_size : int
        H, the size of the state.
    n_outputs : int
        O, numbers read out of a state.
    cell : str
        A name from :data:`rnnbook.layers.registry.CELLS`.
        A name from :data:`rnnbook.layers.registry.CELLS`.
    activation : str, default "tanh"
        For the ``"rnn"`` cell only.
    rng : numpy.random.Generator or int
    dtype : float32 or float64

    Attributes
    ----------
    layer : rnnbook.layers.base.RecurrentLayer
    params : dict
        ``rnn.*`` (the layer, torch names; views shared with ``layer.params``),
        ``readout.weight`` (O, H) and ``readout.bias`` (O,).
    """

    every_step = False

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        n_outputs: int,
        *,
        cell: str,
        activation: str = "tanh",
        rng: np.random.Generator | int,
        dtype: type | np.dtype = np.float64,
    ) -> None:
        rng = check_rng(rng)
        self.layer = make_cell(cell, input_size, hidden_size, rng=rng, dtype=np.dtype(dtype), activation=activation)
        self.params: Params = {}
        attach(self.params, "rnn", self.layer)
        self.params |= join("readout", init_linear(hidden_size, n_outputs, rng=rng, dtype=dtype))

    def read(self, x: np.ndarray) -> tuple[np.ndarray, tuple]:
        """The read-out of ``x`` (T, B, I): (B, O) from the final state, or (T, B, O) with ``every_step``.

        Returns the read-out and what :meth:`backward` needs.
        """
        states, trace = self.layer.forward(x)
        read = states if self.every_step else states[-1]
        return linear(split(self.params, "readout"), read), (states, trace)

    def backward(self, saved: tuple, dout: np.ndarray) -> Params:
        """Every gradient, from the gradient ``dout`` at the read-out that :meth:`read` returned with ``saved``."""
        states, trace = saved
        read = states if self.every_step else states[-1]
        grads_out, dread = linear_backward(split(self.params, "readout"), read, dout)
        if self.every_step:
            dstates = dread
        else:
            dstates = np.zeros_like(states)
            dstates[-1] = dread
        grads_rnn, _, _ = self.layer.backprop(trace, dstates)
        return join("rnn", grads_rnn) | join("readout", grads_out)
