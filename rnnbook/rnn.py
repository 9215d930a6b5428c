"""The vanilla recurrent network: one equation, applied again and again.

The whole idea of a recurrent network fits in one line, the *state equation*

.. math:: S_t = f(W_l x_t + b_l + W S_{t-1} + b)

which mixes the new input :math:`x_t` with the old state :math:`S_{t-1}` and
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

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rnnbook._validation import (
    check_array,
    check_choice,
    check_dtype,
    check_positive_int,
    check_rng,
    check_same_dtype,
)

Params = dict[str, np.ndarray]


def step(
    x: np.ndarray,
    state: np.ndarray,
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    bias_ih: np.ndarray,
    bias_hh: np.ndarray,
    activation: str = "tanh",
) -> np.ndarray:
    """One tick of the state equation, :math:`S_t = f(W_l x_t + b_l + W S_{t-1} + b)`.

    Parameters
    ----------
    x : numpy.ndarray, shape (B, I)
        The inputs at this step, one row per sequence in the batch.
    state : numpy.ndarray, shape (B, H)
        The previous state :math:`S_{t-1}`.
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
        The new state :math:`S_t`.
    """
    f = ACTIVATIONS[check_choice(activation, "activation", tuple(ACTIVATIONS))][0]
    return f(x @ weight_ih.T + bias_ih + state @ weight_hh.T + bias_hh)


def _tanh(a: np.ndarray) -> np.ndarray:
    return np.tanh(a, out=a)


def _relu(a: np.ndarray) -> np.ndarray:
    return np.maximum(a, 0, out=a)


def _sigmoid(a: np.ndarray) -> np.ndarray:
    # 1 / (1 + exp(-a)) written so that it never overflows: tanh is bounded.
    np.multiply(a, 0.5, out=a)
    np.tanh(a, out=a)
    np.multiply(a, 0.5, out=a)
    np.add(a, 0.5, out=a)
    return a


# Each activation with the derivative f'(a) written in terms of the output s = f(a),
# which is what the backward pass has stored.
ACTIVATIONS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "tanh": (_tanh, lambda s: 1 - s * s),
    "relu": (_relu, lambda s: (s > 0).astype(s.dtype)),
    "sigmoid": (_sigmoid, lambda s: s * (1 - s)),
}



def _tanh_derivative_into(s: np.ndarray, out: np.ndarray) -> None:
    np.multiply(s, s, out=out)
    np.subtract(1, out, out=out)


def _relu_derivative_into(s: np.ndarray, out: np.ndarray) -> None:
    np.greater(s, 0, out=out)


def _sigmoid_derivative_into(s: np.ndarray, out: np.ndarray) -> None:
    np.subtract(1, s, out=out)
    np.multiply(out, s, out=out)


# The same derivatives, written into a preallocated array: the backward pass computes
# f'(a_t) for every step in one vectorised pass instead of allocating temporaries per step.
_DERIVATIVES_INTO: dict[str, Callable[[np.ndarray, np.ndarray], None]] = {
    "tanh": _tanh_derivative_into,
    "relu": _relu_derivative_into,
    "sigmoid": _sigmoid_derivative_into,
}


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
        Every state :math:`S_1 \\dots S_T`.
    activation : str
        The activation that produced them.
    """

    x: np.ndarray
    state0: np.ndarray
    states: np.ndarray
    activation: str


def init_params(
    input_size: int,
    hidden_size: int,
    *,
    rng: np.random.Generator | int,
    dtype: type | np.dtype = np.float64,
    gates: int = 1,
) -> Params:
    """Draw parameters the way ``torch.nn.RNN`` does: U(-1/sqrt(H), 1/sqrt(H)).

    Parameters
    ----------
    input_size : int
        I, the number of input features.
    hidden_size : int
        H, the size of the state.
    rng : numpy.random.Generator or int
        The source of randomness (or a seed for one).
    dtype : numpy dtype, default float64
        float32 or float64.
    gates : int, default 1
        How many blocks of H rows to stack (4 for an LSTM, 3 for a GRU).

    Returns
    -------
    dict of str to numpy.ndarray
        ``weight_ih`` (gates*H, I), ``weight_hh`` (gates*H, H), ``bias_ih`` and
        ``bias_hh`` (gates*H,).
    """
    input_size = check_positive_int(input_size, "input_size")
    hidden_size = check_positive_int(hidden_size, "hidden_size")
    dtype = check_dtype(dtype)
    rng = check_rng(rng)
    bound = 1.0 / np.sqrt(hidden_size)
    shapes = {
        "weight_ih": (gates * hidden_size, input_size),
        "weight_hh": (gates * hidden_size, hidden_size),
        "bias_ih": (gates * hidden_size,),
        "bias_hh": (gates * hidden_size,),
    }
    return {name: rng.uniform(-bound, bound, size=s).astype(dtype) for name, s in shapes.items()}


def check_params(params: Params, gates: int = 1) -> tuple[int, int, np.dtype]:
    """Check a parameter dict and return ``(input_size, hidden_size, dtype)``."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of arrays, got {type(params).__name__}")
    missing = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"} - set(params)
    if missing:
        raise ValueError(f"params is missing {sorted(missing)}; got keys {sorted(params)}")
    w_hh = check_array(params["weight_hh"], "weight_hh", ndim=2)
    if w_hh.shape[0] % gates or w_hh.shape[0] // gates != w_hh.shape[1]:
        raise ValueError(
            f"weight_hh must have shape ({gates}*H, H), got {w_hh.shape}"
        )
    hidden = w_hh.shape[1]
    w_ih = check_array(params["weight_ih"], "weight_ih", ndim=2, shape=(gates * hidden, None))
    check_array(params["bias_ih"], "bias_ih", ndim=1, shape=(gates * hidden,))
    check_array(params["bias_hh"], "bias_hh", ndim=1, shape=(gates * hidden,))
    dtype = check_same_dtype({k: params[k] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")})
    return w_ih.shape[1], hidden, dtype


def check_sequence(
    x: np.ndarray, state0: np.ndarray | None, input_size: int, hidden_size: int, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray]:
    """Check a (T, B, I) sequence and a (B, H) initial state; make a zero state if None."""
    x = check_array(x, "x", ndim=3, shape=(None, None, input_size), dtype=dtype)
    batch = x.shape[1]
    if state0 is None:
        state0 = np.zeros((batch, hidden_size), dtype=dtype)
    else:
        state0 = check_array(state0, "state0", ndim=2, shape=(batch, hidden_size), dtype=dtype)
    return x, state0


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
        The initial state :math:`S_0`; zeros when omitted.
    activation : {"tanh", "relu", "sigmoid"}
        The activation :math:`f`.

    Returns
    -------
    states : numpy.ndarray, shape (T, B, H)
        :math:`S_1, \\dots, S_T`.
    trace : Trace
        What :func:`backprop_through_time` needs.
    """
    input_size, hidden_size, dtype = check_params(params)
    x, state0 = check_sequence(x, state0, input_size, hidden_size, dtype)
    f = ACTIVATIONS[check_choice(activation, "activation", tuple(ACTIVATIONS))][0]
    steps, batch, _ = x.shape
    # All input projections in one product, (T*B, I) @ (I, H), written straight into
    # the states array; the two biases are added once, as their sum.
    states = np.empty((steps, batch, hidden_size), dtype=dtype)
    np.matmul(
        x.reshape(steps * batch, input_size), params["weight_ih"].T, out=states.reshape(steps * batch, hidden_size)
    )
    states += params["bias_ih"] + params["bias_hh"]
    # Only the recurrent part runs step by step.  One preallocated buffer holds
    # S_{t-1} W^T, so the loop allocates nothing.  W^T is copied once into a
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
        The gradient of the loss with respect to every state :math:`S_t`
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
    states = trace.states
    dstates = check_array(dstates, "dstates", ndim=3, shape=states.shape, dtype=states.dtype)
    steps, batch, hidden = states.shape
    w_hh = params["weight_hh"]
    # da[t] = dL/da_t, the gradient at the pre-activation of step t.  It starts as
    # f'(a_t) for all steps at once (computed from the stored states in one pass);
    # the loop then multiplies in delta_t, the blame arriving at S_t.
    da = np.empty_like(states)
    _DERIVATIVES_INTO[trace.activation](states, da)
    carry = np.zeros((batch, hidden), dtype=states.dtype)  # dL/dS_t arriving from step t+1
    for t in range(steps - 1, -1, -1):
        carry += dstates[t]  # delta_t: the direct blame plus the message from step t+1
        da[t] *= carry
        np.dot(da[t], w_hh, out=carry)  # the message handed back to step t-1
    grads, dx = weight_gradients(da, da, trace.x, trace.state0, states, params["weight_ih"])
    return grads, dx, carry


def weight_gradients(
    d_input: np.ndarray,
    d_recurrent: np.ndarray,
    x: np.ndarray,
    state0: np.ndarray,
    states: np.ndarray,
    weight_ih: np.ndarray,
) -> tuple[Params, np.ndarray]:
    """The parameter and input gradients of all steps at once, one big product each.

    Every recurrent layer (RNN, LSTM, GRU) computes its pre-activations as
    ``x_t @ weight_ih.T + bias_ih`` plus ``S_{t-1} @ weight_hh.T + bias_hh``.
    Once the backward loop has collected the gradient at both parts for every
    step, the weight gradients are sums over steps, which are matrix products
    over the (T*B) rows.  The previous state is ``state0`` for the first step
    and ``states[t-1]`` after that, so the product is split in two rather than
    copying the states into a shifted array.

    Parameters
    ----------
    d_input, d_recurrent : numpy.ndarray, shape (T, B, G*H)
        The gradient at the input and at the recurrent part of the
        pre-activations (the same array for the RNN and the LSTM; they differ in
        the GRU's candidate block, where the reset gate sits in between).
    x : numpy.ndarray, shape (T, B, I)
    state0 : numpy.ndarray, shape (B, H)
    states : numpy.ndarray, shape (T, B, H)
    weight_ih : numpy.ndarray, shape (G*H, I)

    Returns
    -------
    grads : dict
        ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``.
    dx : numpy.ndarray, shape (T, B, I)
    """
    steps, batch, hidden = states.shape
    flat_input = d_input.reshape(steps * batch, -1)
    flat_recurrent = d_recurrent.reshape(steps * batch, -1)
    grad_hh = d_recurrent[0].T @ state0
    if steps > 1:
        grad_hh += flat_recurrent[batch:].T @ states.reshape(steps * batch, hidden)[:-batch]
    grads = {
        "weight_ih": flat_input.T @ x.reshape(steps * batch, -1),
        "weight_hh": grad_hh,
        "bias_ih": flat_input.sum(axis=0),
        "bias_hh": flat_recurrent.sum(axis=0),
    }
    return grads, (flat_input @ weight_ih).reshape(x.shape)


class RecurrentLayer:
    """What every recurrent layer shares: its parameters in torch's layout and their sizes.

    Subclasses set ``gates`` (1 for the RNN, 4 for the LSTM, 3 for the GRU) and
    define ``forward`` and ``backward``.
    """

    gates = 1

    def __init__(
        self, input_size: int, hidden_size: int, *, rng: np.random.Generator | int, dtype: type | np.dtype = np.float64
    ) -> None:
        self.params = init_params(input_size, hidden_size, rng=rng, dtype=dtype, gates=self.gates)

    @property
    def input_size(self) -> int:
        """I, the number of input features."""
        return self.params["weight_ih"].shape[1]

    @property
    def hidden_size(self) -> int:
        """H, the size of the state."""
        return self.params["weight_hh"].shape[1]

    def final_state(self, states: np.ndarray) -> np.ndarray:
        """The hidden state after the last step, shape (B, H)."""
        return states[-1]


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

    def forward(self, x: np.ndarray, state0: np.ndarray | None = None) -> tuple[np.ndarray, Trace]:
        """Unroll over ``x`` (T, B, I); return the states (T, B, H) and a trace."""
        return unroll(self.params, x, state0, self.activation)

    def backward(self, trace: Trace, dstates: np.ndarray) -> tuple[Params, np.ndarray, np.ndarray]:
        """Backpropagate ``dstates`` (T, B, H); return ``(grads, dx, dstate0)``."""
        return backprop_through_time(self.params, trace, dstates)
