"""rnnbook: the recurrent networks of the book, in plain numpy.

The package is laid out by kind, so a thing is found by what it is:

- :mod:`rnnbook.layers`: the recurrent cells (:mod:`~rnnbook.layers.rnn`,
  :mod:`~rnnbook.layers.lstm`, :mod:`~rnnbook.layers.gru`, fast), the same
  cells written for reading (:mod:`~rnnbook.layers.reference`), the layer
  contract (:mod:`~rnnbook.layers.base`), the dense read-out
  (:mod:`~rnnbook.layers.linear`) and the cells by name
  (:mod:`~rnnbook.layers.registry`);
- :mod:`rnnbook.models`: a layer plus a read-out: classifiers, a regressor,
  encoder-decoder models (:mod:`~rnnbook.models.seq2seq`) and the character
  model (:mod:`~rnnbook.models.charmodel`);
- :mod:`rnnbook.data`: the vocabulary and one-hot vectors, synthetic tasks,
  small data sets and text, all made in code;
- :mod:`rnnbook.training`: losses, optimisers, the training loop, the
  character model's trainer and its checkpoint format;
- :mod:`rnnbook.analysis`: what the book uses to look inside: gradient checks,
  Jacobians and bounds, traces, diagrams, experiments;
- :mod:`rnnbook.cli`: the ``rnnbook`` command.

The speed benchmark lives outside the package, in ``benchmarks/bench.py``.
"""

from rnnbook.analysis.gradcheck import check_gradients, numerical_gradient, relative_error
from rnnbook.layers.base import init_params
from rnnbook.layers.gru import GRU
from rnnbook.layers.linear import init_linear, linear_backward, linear_forward
from rnnbook.layers.lstm import LSTM
from rnnbook.layers.rnn import RNN, backprop_through_time, step, unroll
from rnnbook.models.classifiers import MLPClassifier, SequenceClassifier
from rnnbook.training.loop import accuracy, fit
from rnnbook.training.losses import mean_squared_error, softmax, softmax_cross_entropy
from rnnbook.training.optim import SGD, Adagrad, Adam, clip_elementwise, clip_gradients, global_norm

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
