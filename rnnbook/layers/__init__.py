"""The layers: the recurrent cells (fast and reference), the dense read-out, and the registry.

- :mod:`~rnnbook.layers.base`: parameters, views into a model's parameters, the layer contract;
- :mod:`~rnnbook.layers.rnn`, :mod:`~rnnbook.layers.lstm`, :mod:`~rnnbook.layers.gru`: the fast layers;
- :mod:`~rnnbook.layers.reference`: the same cells written for reading, one step at a time;
- :mod:`~rnnbook.layers.activations`: the fast layers' squashing functions;
- :mod:`~rnnbook.layers.linear`: the dense layer;
- :mod:`~rnnbook.layers.attention`: additive and dot-product attention, forward and backward;
- :mod:`~rnnbook.layers.stacked`: deep and bidirectional layers with torch's names and layouts;
- :mod:`~rnnbook.layers.registry`: cells by name.
"""

from rnnbook.layers.base import Params, RecurrentLayer
from rnnbook.layers.gru import GRU
from rnnbook.layers.lstm import LSTM
from rnnbook.layers.registry import CELLS, make_cell
from rnnbook.layers.rnn import RNN

__all__ = ["CELLS", "GRU", "LSTM", "RNN", "Params", "RecurrentLayer", "make_cell"]
