"""What every recurrent layer shares: parameters in torch's layout, and the layer contract.

A recurrent layer keeps its parameters in a dict, ``Params``, under
``torch.nn.RNN``/``LSTM``/``GRU`` names: ``weight_ih`` (G*H, I),
``weight_hh`` (G*H, H), ``bias_ih`` and ``bias_hh`` (G*H,), with G blocks of
rows (1 for the RNN, 4 for the LSTM, 3 for the GRU).  Models keep all their
arrays in one flat dict with dotted names (``"rnn.weight_hh"``); :func:`attach`
gives a layer *views* into such a dict, so an optimiser that updates the
model's dict in place updates the layer too.

:class:`RecurrentLayer` is the contract every cell meets.  Its *state* is
opaque: one (B, H) array for the RNN and the GRU, a tuple ``(h, c)`` for the
LSTM.  Code outside ``rnnbook.layers`` only passes states around and asks
the layer about them, so it never needs to know which cell it holds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnbook._validation import (
    check_array,
    check_dtype,
    check_instance,
    check_positive_int,
    check_rng,
    check_same_dtype,
)

__all__ = [
    "RecurrentLayer", "attach", "check_array_state", "check_dstates", "check_input", "check_params", "check_trace",
    "init_params",
    "join", "split", "weight_gradients",
]  # (and the type aliases Params and State, which the API page leaves out: autodoc cannot show them)

#: A dict of named parameter (or gradient) arrays.
Params = dict[str, np.ndarray]
#: A layer's state: a (B, H) array, or a tuple of them (the LSTM's ``(h, c)``).  Opaque to callers.
State = Any


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
    gates = check_positive_int(gates, "gates")
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
        raise ValueError(f"weight_hh must have shape ({gates}*H, H), got {w_hh.shape}")
    hidden = w_hh.shape[1]
    w_ih = check_array(params["weight_ih"], "weight_ih", ndim=2, shape=(gates * hidden, None))
    check_array(params["bias_ih"], "bias_ih", ndim=1, shape=(gates * hidden,))
    check_array(params["bias_hh"], "bias_hh", ndim=1, shape=(gates * hidden,))
    dtype = check_same_dtype({k: params[k] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")})
    return w_ih.shape[1], hidden, dtype


def check_input(x: object, input_size: int, dtype: np.dtype) -> np.ndarray:
    """Check an input sequence of shape (T, B, I) with the parameters' dtype."""
    return check_array(x, "x", ndim=3, shape=(None, None, input_size), dtype=dtype)


def check_array_state(state0: object, batch: int, hidden_size: int, dtype: np.dtype) -> np.ndarray:
    """Check a one-array initial state (B, H); make a zero state if it is None."""
    if state0 is None:
        return np.zeros((batch, hidden_size), dtype=dtype)
    return check_array(state0, "state0", ndim=2, shape=(batch, hidden_size), dtype=dtype)


#: How many bytes of gate rows the fast layers process as one chunk of steps: a
#: chunk that fits in a core's cache is read from main memory once, not once per pass.
CHUNK_BYTES = 1 << 20


def chunk_steps(batch: int, width: int, itemsize: int) -> int:
    """How many steps of (B, width) rows fill :data:`CHUNK_BYTES` (at least one)."""
    return max(1, CHUNK_BYTES // (batch * width * itemsize))


def check_dstates(dstates: object, states: np.ndarray) -> np.ndarray:
    """Check the gradient with respect to every state: the states' shape (T, B, H) and dtype."""
    return check_array(dstates, "dstates", ndim=3, shape=states.shape, dtype=states.dtype)


def check_trace(trace: object, kind: type) -> Any:
    """Check that ``trace`` is a ``kind``, the record a forward pass of this cell returned."""
    return check_instance(trace, kind, "trace", f"the {kind.__name__} that the forward pass (unroll) returned")


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
    ``x_t @ weight_ih.T + bias_ih`` plus ``h_{t-1} @ weight_hh.T + bias_hh``.
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
    }
    # One sum when both parts share their gradient (the RNN and the LSTM): a pass over T*B*G*H saved.
    grads["bias_hh"] = grads["bias_ih"].copy() if d_recurrent is d_input else flat_recurrent.sum(axis=0)
    return grads, (flat_input @ weight_ih).reshape(x.shape)


# -- parameter views ------------------------------------------------------------------


def split(params: Params, prefix: str) -> Params:
    """The entries of ``params`` under ``prefix.``, with the prefix removed (views, not copies)."""
    start = prefix + "."
    return {k[len(start):]: v for k, v in params.items() if k.startswith(start)}


def join(prefix: str, params: Params) -> Params:
    """Put ``prefix.`` in front of every name."""
    return {f"{prefix}.{k}": v for k, v in params.items()}


def attach(params: Params, prefix: str, part: Any) -> None:
    """Add ``part.params`` to ``params`` under ``prefix.`` and point ``part`` at those entries.

    After this, ``params`` (a model's flat dict) and ``part.params`` (a layer's)
    hold the same arrays, so an update in place through either reaches both.
    """
    params |= join(prefix, part.params)
    part.params = split(params, prefix)


# -- the layer contract ---------------------------------------------------------------


class RecurrentLayer:
    """The contract every recurrent cell meets, and what the cells share.

    Subclasses set ``gates`` (blocks of H rows: 1 for the RNN, 4 for the LSTM,
    3 for the GRU) and define :meth:`step`, :meth:`run`, :meth:`backprop` and
    :meth:`state_at`; cells whose state is not one (B, H) array (the LSTM)
    also override the state helpers at the end.

    Public entries (:meth:`forward`, :meth:`backward`) check their inputs; the
    others (:meth:`step`, :meth:`run`, :meth:`backprop`) trust their arrays,
    for callers (the models) that have checked them once already.

    Parameters
    ----------
    input_size : int
        I, the number of input features.
    hidden_size : int
        H, the size of the state.
    rng : numpy.random.Generator or int
        Randomness for the initial weights, U(-1/sqrt(H), 1/sqrt(H)) as in torch.
    dtype : numpy dtype, default float64
        float32 or float64.
    """

    gates = 1
    #: The class of the record :meth:`unroll` returns, which :meth:`backward` checks it is given.
    trace_type: type = object

    def __init__(
        self, input_size: int, hidden_size: int, *, rng: np.random.Generator | int, dtype: type | np.dtype = np.float64
    ) -> None:
        self.params = init_params(input_size, hidden_size, rng=rng, dtype=dtype, gates=self.gates)

    @classmethod
    def options(cls, activation: str = "tanh") -> dict[str, str]:
        """The constructor's keyword options for ``activation`` (see :func:`~rnnbook.layers.registry.make_cell`).

        A gated cell has its own activations, so it accepts only the default.
        """
        if activation != "tanh":
            raise ValueError(
                f"activation applies to the 'rnn' cell only; {cls.__name__} has its own, got {activation!r}"
            )
        return {}

    @property
    def input_size(self) -> int:
        """I, the number of input features."""
        return self.params["weight_ih"].shape[1]

    @property
    def hidden_size(self) -> int:
        """H, the size of the state."""
        return self.params["weight_hh"].shape[1]

    @property
    def dtype(self) -> np.dtype:
        """The parameters' dtype."""
        return self.params["weight_hh"].dtype

    # -- the five operations -------------------------------------------------------

    def init_state(self, batch: int) -> State:
        """The zero state for ``batch`` sequences."""
        batch = check_positive_int(batch, "batch")
        return self.state_from_output(np.zeros((batch, self.hidden_size), dtype=self.dtype))

    def step(self, x: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """One time step from ``state`` on inputs ``x`` (B, I); returns ``(h, new state)``, h (B, H).

        Trusts its arrays: meant for generating one token at a time.
        """
        raise NotImplementedError

    def run(self, x: np.ndarray, state0: State | None = None) -> tuple[np.ndarray, Any]:
        """The sequence forward pass without input checks: states (T, B, H) and a trace (zero state if None)."""
        return self.unroll(x, self.init_state(x.shape[1]) if state0 is None else state0)

    def backprop(
        self, trace: Any, dstates: np.ndarray, dfinal: State | None = None
    ) -> tuple[Params, np.ndarray, State]:
        """Backpropagation through time without input checks.

        ``dstates`` (T, B, H) is the gradient with respect to every output, and
        ``dfinal`` (a state, optional) that with respect to the final state.
        Returns ``(grads, dx, dstate0)``, ``dstate0`` shaped like a state.
        """
        if dfinal is not None:
            dstates = dstates.copy()
            dstates[-1] += self.output(dfinal)  # the final output is part of the final state
        return self.bptt(trace, dstates, dfinal)

    def unroll(self, x: np.ndarray, state0: State) -> tuple[np.ndarray, Any]:
        """The cell's own forward pass over ``x`` (T, B, I) from ``state0``: its module's ``run``."""
        raise NotImplementedError

    def bptt(self, trace: Any, dstates: np.ndarray, dfinal: State | None) -> tuple[Params, np.ndarray, State]:
        """The cell's own backward pass: its module's ``backprop``, with ``dstates`` already holding the final output's
        gradient (a cell whose state has more than its output also takes the rest from ``dfinal``)."""
        raise NotImplementedError

    def state_at(self, trace: Any, t: int) -> State:
        """The state after step ``t`` of the pass that made ``trace`` (a view into the trace)."""
        return trace.states[t]

    def final_state(self, trace: Any) -> State:
        """The state after the last step (copies), to continue the sequence from."""
        return self.copy_state(self.state_at(trace, -1))

    def forward(self, x: np.ndarray, state0: State | None = None) -> tuple[np.ndarray, Any]:
        """Check ``x`` (T, B, I) and ``state0``, then :meth:`run`: the states (T, B, H) and a trace."""
        _, _, dtype = check_params(self.params, self.gates)
        x = check_input(x, self.input_size, dtype)
        return self.run(x, self.check_state(state0, x.shape[1]))

    def backward(self, trace: Any, dstates: np.ndarray) -> tuple[Params, np.ndarray, State]:
        """Check ``dstates`` (T, B, H), then :meth:`backprop`: ``(grads, dx, dstate0)``."""
        return self.backprop(trace, check_dstates(dstates, check_trace(trace, self.trace_type).states))

    # -- the state, for cells whose state is one (B, H) array ------------------------

    def check_state(self, state0: object, batch: int) -> State:
        """Check an initial state for ``batch`` sequences (None means zeros)."""
        return check_array_state(state0, batch, self.hidden_size, self.dtype)

    def output(self, state: State) -> np.ndarray:
        """The part of a state the layer shows to the outside, :math:`h` (B, H)."""
        return state

    def state_from_output(self, h: np.ndarray) -> State:
        """A state whose output part is ``h`` (B, H) and whose other parts are zero."""
        return h

    def memory(self, state: State) -> np.ndarray:
        """The part of a state that carries the long memory (B, H): the cell of an LSTM, else the state."""
        return state

    def state_from_memory(self, m: np.ndarray) -> State:
        """A state whose memory part is ``m`` (B, H) and whose other parts are zero."""
        return m

    def copy_state(self, state: State) -> State:
        """A copy of ``state`` that shares no memory with it."""
        return state.copy()

    def state_parts(self, state: State) -> dict[str, np.ndarray]:
        """The arrays of a state by name: ``{"h": ...}`` (and ``"c"`` for the LSTM's cell)."""
        return {"h": state}

    def state_from_parts(self, parts: dict[str, np.ndarray]) -> State:
        """The state of :meth:`state_parts`' arrays."""
        return parts["h"]
