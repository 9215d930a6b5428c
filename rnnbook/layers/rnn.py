"""The vanilla recurrent network: one equation, applied again and again.

The whole idea of a recurrent network fits in one line, the *state equation*

.. math:: h_t = f(W_l x_t + b_l + W h_{t-1} + b)

which mixes the new input :math:`x_t` with the old state :math:`h_{t-1}` and
squashes the sum through an activation :math:`f`.  :func:`step` is that line;
:func:`unroll` applies it along a whole sequence; :func:`backprop_through_time`
runs the chain rule back along the same chain.

Names and shapes follow ``torch.nn.RNN`` so that weights copy across by name:
the book's :math:`W_l` is ``weight_ih`` (H, I), :math:`W` is ``weight_hh``
(H, H), and the two biases ``bias_ih`` and ``bias_hh`` (H,) are kept apart
(their sum is the single bias of the book) so the parameter count matches.
Sequences are time-major: ``x`` has shape (T, B, I) for T steps, a batch of B
and I input features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbook._validation import check_choice
from rnnbook.layers.activations import ACTIVATIONS, DERIVATIVES_INTO
from rnnbook.layers.base import (
    Params,
    RecurrentLayer,
    check_array_state,
    check_dstates,
    check_input,
    check_params,
    check_trace,
    init_params,
    weight_gradients,
)

__all__ = ["RNN", "Trace", "backprop", "backprop_through_time", "init_params", "run", "step", "unroll"]


def step(
    x: np.ndarray,
    state: np.ndarray,
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    bias_ih: np.ndarray,
    bias_hh: np.ndarray,
    activation: str = "tanh",
) -> np.ndarray:
    """One tick of the state equation, :math:`h_t = f(W_l x_t + b_l + W h_{t-1} + b)`.

    Parameters
    ----------
    x : numpy.ndarray, shape (B, I)
        The inputs at this step, one row per sequence in the batch.
    state : numpy.ndarray, shape (B, H)
        The previous state :math:`h_{t-1}`.
    weight_ih : numpy.ndarray, shape (H, I)
        :math:`W_l`, the input weights.
    weight_hh : numpy.ndarray, shape (H, H)
        :math:`W`, the recurrent weights.
    bias_ih, bias_hh : numpy.ndarray, shape (H,)
        The two biases; only their sum matters.
    activation : {"tanh", "relu", "sigmoid"}
        The squashing function :math:`f`.

    Returns
    -------
    numpy.ndarray, shape (B, H)
        The new state :math:`h_t`.
    """
    f = ACTIVATIONS[check_choice(activation, "activation", tuple(ACTIVATIONS))][0]
    try:
        return f(x @ weight_ih.T + bias_ih + state @ weight_hh.T + bias_hh)
    except ValueError:  # checked only when the shapes do not fit, so the loop of steps costs nothing more
        shapes = {"x": x, "state": state, "weight_ih": weight_ih, "weight_hh": weight_hh, "bias_ih": bias_ih,
                  "bias_hh": bias_hh}
        raise ValueError(
            "step needs x (B, I), state (B, H), weight_ih (H, I), weight_hh (H, H), bias_ih and bias_hh (H,); got "
            + ", ".join(f"{name} {np.shape(value)}" for name, value in shapes.items())
        ) from None


@dataclass(frozen=True)
class Trace:
    """What :func:`unroll` remembers for the backward pass.

    Attributes
    ----------
    x : numpy.ndarray, shape (T, B, I)
        The input sequence.
    state0 : numpy.ndarray, shape (B, H)
        The initial state.
    states : numpy.ndarray, shape (T, B, H)
        Every state :math:`h_1 \\dots h_T`.
    activation : str
        The activation that produced them.
    """

    x: np.ndarray
    state0: np.ndarray
    states: np.ndarray
    activation: str


def unroll(
    params: Params,
    x: np.ndarray,
    state0: np.ndarray | None = None,
    activation: str = "tanh",
) -> tuple[np.ndarray, Trace]:
    """Apply the state equation along a whole sequence, for a whole batch.

    The input projection :math:`W_l x_t + b_l` does not depend on the state, so
    it is computed for every step at once in one matrix product; only the
    recurrent part runs step by step.

    Parameters
    ----------
    params : dict
        ``weight_ih`` (H, I), ``weight_hh`` (H, H), ``bias_ih``, ``bias_hh`` (H,).
    x : numpy.ndarray, shape (T, B, I)
        The input sequence, with the parameters' dtype.
    state0 : numpy.ndarray, shape (B, H), optional
        The initial state :math:`h_0`; zeros when omitted.
    activation : {"tanh", "relu", "sigmoid"}
        The activation :math:`f`.

    Returns
    -------
    states : numpy.ndarray, shape (T, B, H)
        :math:`h_1, \\dots, h_T`.
    trace : Trace
        What :func:`backprop_through_time` needs.
    """
    input_size, hidden_size, dtype = check_params(params)
    x = check_input(x, input_size, dtype)
    state0 = check_array_state(state0, x.shape[1], hidden_size, dtype)
    check_choice(activation, "activation", tuple(ACTIVATIONS))
    return run(params, x, state0, activation)


def run(params: Params, x: np.ndarray, state0: np.ndarray, activation: str = "tanh") -> tuple[np.ndarray, Trace]:
    """:func:`unroll` without its input checks, for callers that made them: ``state0`` (B, H) is required."""
    f = ACTIVATIONS[activation][0]
    input_size, hidden_size, dtype = x.shape[2], state0.shape[1], x.dtype
    steps, batch, _ = x.shape
    # All input projections in one product, (T*B, I) @ (I, H), written straight into
    # the states array; the two biases are added once, as their sum.
    states = np.empty((steps, batch, hidden_size), dtype=dtype)
    np.matmul(
        x.reshape(steps * batch, input_size), params["weight_ih"].T, out=states.reshape(steps * batch, hidden_size)
    )
    states += params["bias_ih"] + params["bias_hh"]
    # Only the recurrent part runs step by step.  One preallocated buffer holds
    # h_{t-1} W^T, so the loop allocates nothing.  W^T is copied once into a
    # contiguous array: OpenBLAS multiplies a small batch by a transposed view up
    # to twice as slowly.  np.dot costs less per call than np.matmul (measured:
    # about a microsecond, which matters at batch size 1).
    w_hh_t = np.ascontiguousarray(params["weight_hh"].T)
    recurrent = np.empty((batch, hidden_size), dtype=dtype)
    previous = state0
    for current in states:  # current = states[t], a view: filled in place
        np.dot(previous, w_hh_t, out=recurrent)
        current += recurrent
        previous = f(current)
    return states, Trace(x=x, state0=state0, states=states, activation=activation)


def backprop_through_time(
    params: Params,
    trace: Trace,
    dstates: np.ndarray,
) -> tuple[Params, np.ndarray, np.ndarray]:
    """Run the chain rule backwards along the unrolled chain.

    Parameters
    ----------
    params : dict
        The parameters :func:`unroll` used.
    trace : Trace
        What :func:`unroll` returned.
    dstates : numpy.ndarray, shape (T, B, H)
        The gradient of the loss with respect to every state :math:`h_t`
        (zeros where a state does not feed the loss directly).

    Returns
    -------
    grads : dict
        The gradient for each parameter, same names and shapes.
    dx : numpy.ndarray, shape (T, B, I)
        The gradient with respect to the inputs.
    dstate0 : numpy.ndarray, shape (B, H)
        The gradient with respect to the initial state.
    """
    trace = check_trace(trace, Trace)
    input_size, hidden_size, dtype = check_params(params)
    if (trace.x.shape[-1], trace.states.shape[-1], trace.states.dtype) != (input_size, hidden_size, dtype):
        raise ValueError(
            f"params must be those unroll used (input size {trace.x.shape[-1]}, hidden size "
            f"{trace.states.shape[-1]}, {trace.states.dtype}), got input size {input_size}, hidden size "
            f"{hidden_size}, {dtype}"
        )
    return backprop(params, trace, check_dstates(dstates, trace.states))


def backprop(params: Params, trace: Trace, dstates: np.ndarray) -> tuple[Params, np.ndarray, np.ndarray]:
    """:func:`backprop_through_time` without its input checks."""
    states = trace.states
    steps, batch, hidden = states.shape
    w_hh = params["weight_hh"]
    # da[t] = dL/da_t, the gradient at the pre-activation of step t.  It starts as
    # f'(a_t) for all steps at once (computed from the stored states in one pass);
    # the loop then multiplies in delta_t, the blame arriving at h_t.
    da = np.empty_like(states)
    DERIVATIVES_INTO[trace.activation](states, da)
    carry = np.zeros((batch, hidden), dtype=states.dtype)  # dL/dh_t arriving from step t+1
    for t in range(steps - 1, -1, -1):
        carry += dstates[t]  # delta_t: the direct blame plus the message from step t+1
        da[t] *= carry
        np.dot(da[t], w_hh, out=carry)  # the message handed back to step t-1
    grads, dx = weight_gradients(da, da, trace.x, trace.state0, states, params["weight_ih"])
    return grads, dx, carry


class RNN(RecurrentLayer):
    """A vanilla recurrent layer holding its parameters, laid out as ``torch.nn.RNN``.

    Parameters
    ----------
    input_size : int
        I, the number of input features.
    hidden_size : int
        H, the size of the state.
    activation : {"tanh", "relu", "sigmoid"}, default "tanh"
        The activation :math:`f`.  (``torch.nn.RNN`` offers tanh and relu.)
    rng : numpy.random.Generator or int
        Randomness for the initial weights.
    dtype : numpy dtype, default float64
        float32 or float64.

    Attributes
    ----------
    params : dict of str to numpy.ndarray
        ``weight_ih`` (H, I), ``weight_hh`` (H, H), ``bias_ih`` (H,), ``bias_hh`` (H,).

    Examples
    --------
    >>> import numpy as np
    >>> from rnnbook import RNN
    >>> layer = RNN(3, 5, rng=0)
    >>> states, trace = layer.forward(np.zeros((7, 2, 3)))
    >>> states.shape
    (7, 2, 5)
    """

    gates = 1
    trace_type = Trace

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        activation: str = "tanh",
        *,
        rng: np.random.Generator | int,
        dtype: type | np.dtype = np.float64,
    ) -> None:
        self.activation = check_choice(activation, "activation", tuple(ACTIVATIONS))
        super().__init__(input_size, hidden_size, rng=rng, dtype=dtype)

    @classmethod
    def options(cls, activation: str = "tanh") -> dict[str, str]:
        """``{"activation": activation}``: the RNN takes any of :data:`~rnnbook.layers.activations.ACTIVATIONS`."""
        return {"activation": activation}

    def step(self, x: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One step of the state equation on ``x`` (B, I) from ``state`` (B, H); returns ``(h, h)``."""
        if not isinstance(state, np.ndarray):  # a tuple (an LSTM's state) would broadcast or fail deep inside
            raise TypeError(f"state of an RNN must be one (B, H) array, got {type(state).__name__}")
        p = self.params
        a = x @ p["weight_ih"].T
        a += p["bias_ih"] + p["bias_hh"]
        a += state @ p["weight_hh"].T
        h = ACTIVATIONS[self.activation][0](a)
        return h, h

    def unroll(self, x: np.ndarray, state0: np.ndarray) -> tuple[np.ndarray, Trace]:
        """:func:`~rnnbook.layers.rnn.run` with this layer's parameters and activation."""
        return run(self.params, x, state0, self.activation)

    def bptt(
        self, trace: Trace, dstates: np.ndarray, dfinal: np.ndarray | None
    ) -> tuple[Params, np.ndarray, np.ndarray]:
        """:func:`~rnnbook.layers.rnn.backprop` with this layer's parameters."""
        return backprop(self.params, trace, dstates)
