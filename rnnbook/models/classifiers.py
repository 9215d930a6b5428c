"""Small models built from the layers: a state plus a read-out.

Every model keeps its parameters in one flat dict, ``params``, whose names say
where each array lives (``"rnn.weight_hh"``, ``"readout.weight"``), and offers
``logits(x)`` and ``loss_and_grads(x, y)``.  That is all an optimiser and
:func:`rnnbook.training.loop.fit` need.
"""

from __future__ import annotations

import numpy as np

from rnnbook._validation import check_array, check_labels, check_positive_int, check_rng
from rnnbook.layers.base import Params, join, split
from rnnbook.layers.linear import init_linear, linear, linear_backward
from rnnbook.models.base import RecurrentReadout
from rnnbook.training.losses import cross_entropy


class SequenceClassifier(RecurrentReadout):
    """Many-to-one: read a whole sequence, then answer once from the final state.

    Parameters
    ----------
    input_size : int
        I, features per step.
    hidden_size : int
        H, the size of the state.
    n_classes : int
        C, the number of possible answers.
    cell : str, default "rnn"
        The recurrent layer, a name from :data:`rnnbook.layers.registry.CELLS`.
    activation : str, default "tanh"
        For ``cell="rnn"`` only.
    rng : numpy.random.Generator or int
    dtype : float32 or float64

    Attributes
    ----------
    params : dict
        ``rnn.*`` (the recurrent layer, torch names) and ``readout.weight`` (C, H),
        ``readout.bias`` (C,).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        n_classes: int,
        *,
        cell: str = "rnn",
        activation: str = "tanh",
        rng: np.random.Generator | int,
        dtype: type | np.dtype = np.float64,
    ) -> None:
        self.n_classes = check_positive_int(n_classes, "n_classes")
        super().__init__(
            input_size, hidden_size, self.n_classes, cell=cell, activation=activation, rng=rng, dtype=dtype
        )

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Scores for each class, shape (B, C), from a sequence ``x`` of shape (T, B, I)."""
        return self.read(x)[0]

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray) -> tuple[float, Params]:
        """Cross-entropy of the answers against labels ``y`` (B,), and every gradient."""
        logits, saved = self.read(x)
        check_labels(y, "y", shape=(x.shape[1],), n_classes=self.n_classes)
        loss, dlogits = cross_entropy(logits, y)
        return loss, self.backward(saved, dlogits)


class MLPClassifier:
    """One-to-one: a feedforward network, input -> tanh hidden layer -> class scores.

    It has no state: it sees one input vector and nothing before it.

    Parameters
    ----------
    input_size : int
        I, features of the input.
    hidden_size : int
        H, units in the hidden layer.
    n_classes : int
        C.
    rng : numpy.random.Generator or int
    dtype : float32 or float64

    Attributes
    ----------
    params : dict
        ``hidden.weight`` (H, I), ``hidden.bias`` (H,), ``readout.weight`` (C, H),
        ``readout.bias`` (C,).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        n_classes: int,
        *,
        rng: np.random.Generator | int,
        dtype: type | np.dtype = np.float64,
    ) -> None:
        rng = check_rng(rng)
        self.n_classes = check_positive_int(n_classes, "n_classes")
        self.params = join("hidden", init_linear(input_size, hidden_size, rng=rng, dtype=dtype)) | join(
            "readout", init_linear(hidden_size, n_classes, rng=rng, dtype=dtype)
        )

    def _check_x(self, x: object) -> np.ndarray:
        weight = self.params["hidden.weight"]
        return check_array(x, "x", ndim=2, shape=(None, weight.shape[1]), dtype=weight.dtype)

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Scores (B, C) for inputs ``x`` of shape (B, I)."""
        x = self._check_x(x)
        hidden = np.tanh(linear(split(self.params, "hidden"), x))
        return linear(split(self.params, "readout"), hidden)

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray) -> tuple[float, Params]:
        """Cross-entropy against labels ``y`` (B,), and every gradient."""
        x = self._check_x(x)
        check_labels(y, "y", shape=(x.shape[0],), n_classes=self.n_classes)
        first, second = split(self.params, "hidden"), split(self.params, "readout")
        hidden = np.tanh(linear(first, x))
        loss, dlogits = cross_entropy(linear(second, hidden), y)
        grads_out, dhidden = linear_backward(second, hidden, dlogits)
        grads_in, _ = linear_backward(first, x, dhidden * (1 - hidden * hidden))
        return loss, join("hidden", grads_in) | join("readout", grads_out)
