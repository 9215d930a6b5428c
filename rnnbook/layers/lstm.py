"""The long short-term memory (LSTM) layer: a state with a protected cell.

An LSTM carries two arrays from step to step: the *cell* :math:`c_t`, a long
memory that is changed only by elementwise scaling and adding, and the *hidden
state* :math:`h_t`, what the layer shows to the outside.  Four gates, each a
small layer of its own that reads the input and the previous hidden state,
decide what happens to the cell:

.. math::

   i_t &= \\sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}) \\quad \\text{(input gate)} \\\\
   f_t &= \\sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}) \\quad \\text{(forget gate)} \\\\
   g_t &= \\tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) \\quad \\text{(candidate)} \\\\
   o_t &= \\sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}) \\quad \\text{(output gate)} \\\\
   c_t &= f_t \\odot c_{t-1} + i_t \\odot g_t \\\\
   h_t &= o_t \\odot \\tanh(c_t)

Names, shapes and the gate order (i, f, g, o) follow ``torch.nn.LSTM``, so
weights copy across by name: ``weight_ih`` (4H, I) stacks the four input
matrices, ``weight_hh`` (4H, H) the four recurrent ones, and ``bias_ih``,
``bias_hh`` (4H,) the biases.  Sequences are time-major, ``x`` of shape
(T, B, I).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbook._validation import check_array
from rnnbook.layers.activations import sigmoid_
from rnnbook.layers.base import (
    Params,
    RecurrentLayer,
    check_dstates,
    check_input,
    check_params,
    check_trace,
    chunk_steps,
    weight_gradients,
)

__all__ = ["LSTM", "LSTMTrace", "backprop", "backprop_through_time", "run", "unroll"]

GATES = 4


@dataclass(frozen=True)
class LSTMTrace:
    """What :func:`unroll` remembers for the backward pass.

    Attributes
    ----------
    x : numpy.ndarray, shape (T, B, I)
        The input sequence.
    state0 : numpy.ndarray, shape (B, H)
        The initial hidden state :math:`h_0`.
    cell0 : numpy.ndarray, shape (B, H)
        The initial cell :math:`c_0`.
    states : numpy.ndarray, shape (T, B, H)
        The hidden states :math:`h_1 \\dots h_T`.
    cells : numpy.ndarray, shape (T, B, H)
        The cells :math:`c_1 \\dots c_T`.
    gates : numpy.ndarray, shape (T, B, 4H)
        The gate values after their squashing, in torch's order
        :math:`i_t, f_t, g_t, o_t` along the last axis.
    tanh_cells : numpy.ndarray, shape (T, B, H)
        :math:`\\tanh(c_t)`, kept so the backward pass need not recompute it.
    """

    x: np.ndarray
    state0: np.ndarray
    cell0: np.ndarray
    states: np.ndarray
    cells: np.ndarray
    gates: np.ndarray
    tanh_cells: np.ndarray



def _gate_scale(hidden: int, dtype: np.dtype) -> np.ndarray:
    """(4H,): 1/2 for the rows of the sigmoid gates i, f, o and 1 for the tanh candidate g."""
    scale = np.full(GATES * hidden, 0.5, dtype=dtype)
    scale[2 * hidden : 3 * hidden] = 1.0
    return scale


def check_state0(
    state0: object, batch: int, hidden_size: int, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray]:
    """Check an LSTM initial state: ``None`` (zeros) or a tuple ``(h0, c0)`` of (B, H) arrays."""
    if state0 is None:
        zeros = np.zeros((batch, hidden_size), dtype=dtype)
        return zeros, zeros.copy()
    if not isinstance(state0, tuple | list) or len(state0) != 2:
        got = f"a {type(state0).__name__} of length {len(state0)}" if isinstance(state0, tuple | list) else (
            type(state0).__name__
        )
        raise TypeError(f"state0 of an LSTM must be None or a tuple (h0, c0) of two (B, H) arrays, got {got}")
    h0 = check_array(state0[0], "h0", ndim=2, shape=(batch, hidden_size), dtype=dtype)
    c0 = check_array(state0[1], "c0", ndim=2, shape=(batch, hidden_size), dtype=dtype)
    return h0, c0


def unroll(
    params: Params,
    x: np.ndarray,
    state0: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, LSTMTrace]:
    """Run the LSTM along a whole sequence, for a whole batch.

    The input part of all four gates, :math:`W_{i\\cdot} x_t + b_{i\\cdot} + b_{h\\cdot}`,
    does not depend on the state, so it is computed for every step in one
    matrix product.  Each step then needs one (B, H) @ (H, 4H) product for the
    recurrent part of the four gates, and elementwise work.

    Parameters
    ----------
    params : dict
        ``weight_ih`` (4H, I), ``weight_hh`` (4H, H), ``bias_ih``, ``bias_hh`` (4H,).
    x : numpy.ndarray, shape (T, B, I)
        The input sequence, with the parameters' dtype.
    state0 : tuple of two numpy.ndarray, each (B, H), optional
        ``(h0, c0)``, the initial hidden state and cell; zeros when omitted.

    Returns
    -------
    states : numpy.ndarray, shape (T, B, H)
        The hidden states :math:`h_1, \\dots, h_T`.
    trace : LSTMTrace
        What :func:`backprop_through_time` needs, including the cells
        ``trace.cells`` (T, B, H).
    """
    input_size, hidden, dtype = check_params(params, gates=GATES)
    x = check_input(x, input_size, dtype)
    return run(params, x, check_state0(state0, x.shape[1], hidden, dtype))


def run(params: Params, x: np.ndarray, state0: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, LSTMTrace]:
    """:func:`unroll` without its input checks: ``state0 = (h0, c0)`` is required."""
    h0, c0 = state0
    steps, batch, input_size = x.shape
    hidden, dtype = h0.shape[1], x.dtype
    width = GATES * hidden
    # sigmoid(a) = (tanh(a / 2) + 1) / 2.  Halving the rows of i, f and o in the weights
    # and biases (exact in floating point) lets one tanh squash all four gates at once;
    # then one multiply by `half` and one add of `shift` turn i, f, o into sigmoids.
    half = _gate_scale(hidden, dtype)
    shift = np.where(half == 1, 0, 0.5).astype(dtype)
    # W_ih^T and W_hh^T scaled, each written straight into a contiguous (I or H, 4H) array in one
    # pass: the products are faster on them than on transposed views.
    w_ih_t = np.multiply(params["weight_ih"].T, half, out=np.empty((input_size, width), dtype=dtype))
    w_hh_t = np.multiply(params["weight_hh"].T, half, out=np.empty((hidden, width), dtype=dtype))
    bias = (params["bias_ih"] + params["bias_hh"]) * half
    gates = np.empty((steps, batch, width), dtype=dtype)
    states = np.empty((steps, batch, hidden), dtype=dtype)
    cells = np.empty_like(states)
    tanh_cells = np.empty_like(states)
    recurrent = np.empty((batch, width), dtype=dtype)
    ig = np.empty((batch, hidden), dtype=dtype)
    two, three = 2 * hidden, 3 * hidden
    # The input part of every step in one product, (T*B, I) @ (I, 4H), plus the bias.
    # (Taking it a cache-sized chunk of steps at a time measured no faster: the
    # per-step product streams W_hh through the cache between the chunk's steps anyway.)
    np.matmul(x.reshape(-1, input_size), w_ih_t, out=gates.reshape(-1, width))
    gates += bias
    h, c = h0, c0
    for t in range(steps):
        a = gates[t]  # a view: the gates of step t are computed in place
        a += np.dot(h, w_hh_t, out=recurrent)
        np.tanh(a, out=a)
        a *= half
        a += shift  # i, f, o are sigmoids now, g a tanh
        c = np.multiply(a[:, hidden:two], c, out=cells[t])  # c_t = f_t c_{t-1} + i_t g_t
        c += np.multiply(a[:, :hidden], a[:, two:three], out=ig)
        tc = np.tanh(c, out=tanh_cells[t])
        h = np.multiply(a[:, three:], tc, out=states[t])  # h_t = o_t tanh(c_t)
    trace = LSTMTrace(x=x, state0=h0, cell0=c0, states=states, cells=cells, gates=gates, tanh_cells=tanh_cells)
    return states, trace


def backprop_through_time(
    params: Params,
    trace: LSTMTrace,
    dstates: np.ndarray,
    dcell: np.ndarray | None = None,
) -> tuple[Params, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Run the chain rule backwards through the LSTM.

    The gradient reaches the previous cell along :math:`c_t = f_t c_{t-1} + \\dots`
    as :math:`\\partial c_t / \\partial c_{t-1} = f_t`, one elementwise factor per
    step: no matrix and no squashing derivative in between.  Per step the loop
    collects the gradient at the four gates' pre-activations; the weight, bias
    and input gradients are then single big products after the loop.

    Parameters
    ----------
    params : dict
        The parameters :func:`unroll` used.
    trace : LSTMTrace
        What :func:`unroll` returned.
    dstates : numpy.ndarray, shape (T, B, H)
        The gradient of the loss with respect to every hidden state :math:`h_t`.
    dcell : numpy.ndarray, shape (B, H), optional
        The gradient with respect to the final cell :math:`c_T` (when the loss
        reads it, for instance through a state carried on); zeros when omitted.

    Returns
    -------
    grads : dict
        The gradient for each parameter, same names and shapes.
    dx : numpy.ndarray, shape (T, B, I)
        The gradient with respect to the inputs.
    dstate0 : tuple of two numpy.ndarray, each (B, H)
        ``(dh0, dc0)``, the gradients with respect to the initial state and cell.
    """
    states = check_trace(trace, LSTMTrace).states
    dstates = check_dstates(dstates, states)
    if dcell is not None:
        dcell = check_array(dcell, "dcell", ndim=2, shape=states.shape[1:], dtype=states.dtype)
    return backprop(params, trace, dstates, dcell)


def backprop(
    params: Params, trace: LSTMTrace, dstates: np.ndarray, dcell: np.ndarray | None = None
) -> tuple[Params, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """:func:`backprop_through_time` without its input checks."""
    states = trace.states
    steps, batch, hidden = states.shape
    dtype = states.dtype
    width = GATES * hidden
    dc = np.zeros((batch, hidden), dtype=dtype) if dcell is None else dcell.copy()
    w_hh = params["weight_hh"]
    gates, cells, tanh_cells = trace.gates, trace.cells, trace.tanh_cells
    # da[t] = dL/da_t, the gradient at the four gates' pre-activations of step t, (B, 4H).
    # It starts as the local derivative of the cell or output with respect to each
    # pre-activation, for a chunk of steps at once (vectorised, no Python loop):
    #   i: g_t i_t (1 - i_t)   f: c_{t-1} f_t (1 - f_t)   g: i_t (1 - g_t^2)   o: tanh(c_t) o_t (1 - o_t)
    # and the loop over the chunk's steps multiplies in the gradient arriving at c_t
    # (i, f, g) or h_t (o).  Chunks go from the last steps to the first, and each fits
    # in the cache, so the loop finds its rows there.
    da = np.empty_like(gates)
    chunk = chunk_steps(batch, width, da.itemsize)
    through_h = np.empty((min(chunk, steps), batch, hidden), dtype=dtype)
    dh = np.zeros((batch, hidden), dtype=dtype)  # dL/dh_t arriving from step t+1
    tmp = np.empty((batch, hidden), dtype=dtype)
    for stop in range(steps, 0, -chunk):
        start = max(0, stop - chunk)
        i, f, g, o = (gates[start:stop, :, k * hidden : (k + 1) * hidden] for k in range(GATES))
        di, df, dg, do = (da[start:stop, :, k * hidden : (k + 1) * hidden] for k in range(GATES))
        tc = tanh_cells[start:stop]
        np.subtract(1, i, out=di)
        di *= i
        di *= g
        np.subtract(1, f, out=df)
        df *= f
        if start == 0:
            df[0] *= trace.cell0
            df[1:] *= cells[: stop - 1]
        else:
            df *= cells[start - 1 : stop - 1]
        np.multiply(g, g, out=dg)
        np.subtract(1, dg, out=dg)
        dg *= i
        np.subtract(1, o, out=do)
        do *= o
        do *= tc
        # The gradient reaching c_t from h_t is dh * o_t (1 - tanh(c_t)^2).
        th = through_h[: stop - start]
        np.multiply(tc, tc, out=th)
        np.subtract(1, th, out=th)
        th *= o
        for k in range(stop - start - 1, -1, -1):
            dh += dstates[start + k]
            do[k] *= dh
            dc += np.multiply(dh, th[k], out=tmp)
            di[k] *= dc  # i, f and g all hang off the cell
            df[k] *= dc
            dg[k] *= dc
            dc *= f[k]  # the conveyor belt: dL/dc_{t-1} = dL/dc_t * f_t
            np.dot(da[start + k], w_hh, out=dh)  # the message handed back to h_{t-1}
    grads, dx = weight_gradients(da, da, trace.x, trace.state0, states, params["weight_ih"])
    return grads, dx, (dh, dc)


class LSTM(RecurrentLayer):
    """An LSTM layer holding its parameters, laid out as ``torch.nn.LSTM``.

    Parameters
    ----------
    input_size : int
        I, the number of input features.
    hidden_size : int
        H, the size of the hidden state and of the cell.
    rng : numpy.random.Generator or int
        Randomness for the initial weights, U(-1/sqrt(H), 1/sqrt(H)) as in torch.
    dtype : numpy dtype, default float64
        float32 or float64.

    Attributes
    ----------
    params : dict of str to numpy.ndarray
        ``weight_ih`` (4H, I), ``weight_hh`` (4H, H), ``bias_ih`` (4H,), ``bias_hh`` (4H,),
        with the gates stacked in the order i, f, g, o.

    Examples
    --------
    >>> import numpy as np
    >>> from rnnbook.layers.lstm import LSTM
    >>> layer = LSTM(3, 5, rng=0)
    >>> states, trace = layer.forward(np.zeros((7, 2, 3)))
    >>> states.shape, trace.cells.shape
    ((7, 2, 5), (7, 2, 5))
    """

    gates = GATES
    trace_type = LSTMTrace

    def step(
        self, x: np.ndarray, state: tuple[np.ndarray, np.ndarray]
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """One step on ``x`` (B, I) from ``state = (h, c)``; returns ``(h_t, (h_t, c_t))``, each (B, H)."""
        if not isinstance(state, tuple | list) or len(state) != 2:  # an array would unpack into two rows
            raise TypeError(f"state of an LSTM must be a tuple (h, c) of two (B, H) arrays, got {type(state).__name__}")
        p = self.params
        h, c = state
        hidden = h.shape[1]
        a = x @ p["weight_ih"].T
        a += p["bias_ih"] + p["bias_hh"]
        a += h @ p["weight_hh"].T
        sigmoid_(a[:, : 2 * hidden])  # i and f
        np.tanh(a[:, 2 * hidden : 3 * hidden], out=a[:, 2 * hidden : 3 * hidden])  # g
        sigmoid_(a[:, 3 * hidden :])  # o
        i, f, g, o = a[:, :hidden], a[:, hidden : 2 * hidden], a[:, 2 * hidden : 3 * hidden], a[:, 3 * hidden :]
        c = f * c + i * g
        h = o * np.tanh(c)
        return h, (h, c)

    def unroll(self, x: np.ndarray, state0: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, LSTMTrace]:
        """:func:`~rnnbook.layers.lstm.run` with this layer's parameters."""
        return run(self.params, x, state0)

    def bptt(
        self, trace: LSTMTrace, dstates: np.ndarray, dfinal: tuple[np.ndarray, np.ndarray] | None
    ) -> tuple[Params, np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """:func:`~rnnbook.layers.lstm.backprop` with this layer's parameters; the cell's gradient is ``dfinal[1]``."""
        return backprop(self.params, trace, dstates, None if dfinal is None else self.memory(dfinal))

    def backward(
        self, trace: LSTMTrace, dstates: np.ndarray, dcell: np.ndarray | None = None
    ) -> tuple[Params, np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """Backpropagate ``dstates`` (T, B, H) (and ``dcell`` (B, H)); return ``(grads, dx, (dh0, dc0))``."""
        return backprop_through_time(self.params, trace, dstates, dcell)

    def state_at(self, trace: LSTMTrace, t: int) -> tuple[np.ndarray, np.ndarray]:
        """``(h_t, c_t)`` after step ``t``, views into the trace."""
        return trace.states[t], trace.cells[t]

    # The state is the pair (h, c): h is what the layer shows, c its long memory.

    def check_state(self, state0: object, batch: int) -> tuple[np.ndarray, np.ndarray]:
        """Check ``None`` (zeros) or a tuple ``(h0, c0)`` of (B, H) arrays."""
        return check_state0(state0, batch, self.hidden_size, self.dtype)

    def output(self, state: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """:math:`h`, the hidden state (B, H)."""
        return state[0]

    def state_from_output(self, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(h, 0)``: the hidden state ``h`` (B, H) and an empty cell."""
        return h, np.zeros_like(h)

    def memory(self, state: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """:math:`c`, the cell (B, H)."""
        return state[1]

    def state_from_memory(self, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(0, m)``: an empty hidden state and the cell ``m`` (B, H)."""
        return np.zeros_like(m), m

    def copy_state(self, state: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Copies of ``h`` and ``c``."""
        return state[0].copy(), state[1].copy()

    def state_parts(self, state: tuple[np.ndarray, np.ndarray]) -> dict[str, np.ndarray]:
        """``{"h": h, "c": c}``."""
        return {"h": state[0], "c": state[1]}

    def state_from_parts(self, parts: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """``(parts["h"], parts["c"])``."""
        return parts["h"], parts["c"]
