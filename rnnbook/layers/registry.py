"""The one registry of recurrent cells: a name, as the command line and the models take it, to a layer class."""

from __future__ import annotations

import numpy as np

from rnnbook._validation import check_choice
from rnnbook.layers.base import RecurrentLayer
from rnnbook.layers.gru import GRU
from rnnbook.layers.lstm import LSTM
from rnnbook.layers.rnn import RNN

#: The recurrent layers a model can be built from, by name.
CELLS: dict[str, type[RecurrentLayer]] = {"rnn": RNN, "lstm": LSTM, "gru": GRU}

#: The name of each layer class, the inverse of :data:`CELLS`.
CELL_NAMES: dict[type[RecurrentLayer], str] = {cls: name for name, cls in CELLS.items()}


def make_cell(
    cell: str,
    input_size: int,
    hidden_size: int,
    *,
    rng: np.random.Generator | int,
    dtype: type | np.dtype = np.float64,
    activation: str = "tanh",
) -> RecurrentLayer:
    """Build a recurrent layer by name: ``"rnn"`` (with ``activation``), ``"lstm"`` or ``"gru"``.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}
    input_size, hidden_size : int
        I and H.
    rng : numpy.random.Generator or int
    dtype : float32 or float64
    activation : str, default "tanh"
        The RNN's activation; a gated cell has its own and refuses any other.

    Returns
    -------
    RecurrentLayer
    """
    cls = CELLS[check_choice(cell, "cell", tuple(CELLS))]
    return cls(input_size, hidden_size, rng=rng, dtype=dtype, **cls.options(activation))


def cell_name(layer: RecurrentLayer) -> str:
    """The registry name of a layer (``"rnn"``, ``"lstm"`` or ``"gru"``)."""
    if type(layer) not in CELL_NAMES:
        kinds = ", ".join(cls.__name__ for cls in CELL_NAMES)
        raise TypeError(f"layer must be one of the registered cells ({kinds}), got {type(layer).__name__}")
    return CELL_NAMES[type(layer)]
