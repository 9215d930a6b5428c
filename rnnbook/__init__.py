"""rnnbook: the recurrent networks of the book, in plain numpy.

The modules follow the chapters:

- why memory: :mod:`rnnbook.tasks` (data that needs memory), :mod:`rnnbook.models`,
  :mod:`rnnbook.train`;
- the chain and the state equation: :mod:`rnnbook.rnn`, :mod:`rnnbook.diagrams`,
  :mod:`rnnbook.trace`;
- the four shapes: :mod:`rnnbook.data`, :mod:`rnnbook.shapes`;
- learning through time, vanishing gradients: :mod:`rnnbook.gradcheck`,
  :mod:`rnnbook.losses`, :mod:`rnnbook.optim`, :mod:`rnnbook.memory`,
  :mod:`rnnbook.gradients`;
- gates: :mod:`rnnbook.lstm`, :mod:`rnnbook.gru`;
- the character model: :mod:`rnnbook.charmodel`, :mod:`rnnbook.checkpoint`,
  :mod:`rnnbook.cli`;
- speed: :mod:`rnnbook.bench`.
"""

from rnnbook.gradcheck import check_gradients, numerical_gradient, relative_error
from rnnbook.gru import GRU
from rnnbook.linear import init_linear, linear_backward, linear_forward
from rnnbook.losses import mean_squared_error, softmax, softmax_cross_entropy
from rnnbook.lstm import LSTM
from rnnbook.models import MLPClassifier, SequenceClassifier
from rnnbook.optim import SGD, Adagrad, Adam, clip_elementwise, clip_gradients, global_norm
from rnnbook.rnn import RNN, backprop_through_time, init_params, step, unroll
from rnnbook.train import accuracy, fit

__version__ = "0.1.0"

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "SGD",
    "Adagrad",
    "Adam",
    "MLPClassifier",
    "SequenceClassifier",
    "accuracy",
    "backprop_through_time",
    "check_gradients",
    "clip_elementwise",
    "clip_gradients",
    "fit",
    "global_norm",
    "init_linear",
    "init_params",
    "linear_backward",
    "linear_forward",
    "mean_squared_error",
    "numerical_gradient",
    "relative_error",
    "softmax",
    "softmax_cross_entropy",
    "step",
    "unroll",
]
