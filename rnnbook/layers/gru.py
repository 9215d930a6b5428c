"""The gated recurrent unit (GRU): two gates, one state.

The GRU of Cho et al. (2014) keeps the LSTM's idea, that the new state is a
gated mixture of the old state and a candidate, with one state instead of two
and three blocks of weights instead of four:

.. math::

   r_t &= \\sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}) \\quad \\text{(reset gate)} \\\\
   z_t &= \\sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}) \\quad \\text{(update gate)} \\\\
   n_t &= \\tanh(W_{in} x_t + b_{in} + r_t \\odot (W_{hn} h_{t-1} + b_{hn})) \\quad \\text{(candidate)} \\\\
   h_t &= (1 - z_t) \\odot n_t + z_t \\odot h_{t-1}

This is exactly ``torch.nn.GRU``: gate order r, z, n, and the reset gate
multiplies the recurrent product *after* the matrix (bias :math:`b_{hn}`
included).  ``weight_ih`` (3H, I), ``weight_hh`` (3H, H), ``bias_ih`` and
``bias_hh`` (3H,) copy across by name.  Sequences are time-major, ``x`` of
shape (T, B, I).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbook.layers.activations import sigmoid_
from rnnbook.layers.base import (
    Params,
    RecurrentLayer,
    check_array_state,
    check_dstates,
    check_input,
    check_params,
    check_trace,
    weight_gradients,
)

__all__ = ["GRU", "GRUTrace", "backprop", "backprop_through_time", "run", "unroll"]

GATES = 3


@dataclass(frozen=True)
class GRUTrace:
    """What :func:`unroll` remembers for the backward pass.

    Attributes
    ----------
    x : numpy.ndarray, shape (T, B, I)
        The input sequence.
    state0 : numpy.ndarray, shape (B, H)
        The initial state :math:`h_0`.
    states : numpy.ndarray, shape (T, B, H)
        The states :math:`h_1 \\dots h_T`.
    gates : numpy.ndarray, shape (T, B, 3H)
        :math:`r_t, z_t, n_t` after their squashing, in torch's order.
    hidden_n : numpy.ndarray, shape (T, B, H)
        :math:`W_{hn} h_{t-1} + b_{hn}`, the recurrent part of the candidate
        before the reset gate scales it.
    """

    x: np.ndarray
    state0: np.ndarray
    states: np.ndarray
    gates: np.ndarray
    hidden_n: np.ndarray



def unroll(
    params: Params,
    x: np.ndarray,
    state0: np.ndarray | None = None,
) -> tuple[np.ndarray, GRUTrace]:
    """Run the GRU along a whole sequence, for a whole batch.

    The input part of the three gates is computed for all steps in one matrix
    product; each step then needs one (B, H) @ (H, 3H) product and elementwise
    work.

    Parameters
    ----------
    params : dict
        ``weight_ih`` (3H, I), ``weight_hh`` (3H, H), ``bias_ih``, ``bias_hh`` (3H,).
    x : numpy.ndarray, shape (T, B, I)
        The input sequence, with the parameters' dtype.
    state0 : numpy.ndarray, shape (B, H), optional
        The initial state :math:`h_0`; zeros when omitted.

    Returns
    -------
    states : numpy.ndarray, shape (T, B, H)
        :math:`h_1, \\dots, h_T`.
    trace : GRUTrace
        What :func:`backprop_through_time` needs.
    """
    input_size, hidden, dtype = check_params(params, gates=GATES)
    x = check_input(x, input_size, dtype)
    return run(params, x, check_array_state(state0, x.shape[1], hidden, dtype))


def run(params: Params, x: np.ndarray, h0: np.ndarray) -> tuple[np.ndarray, GRUTrace]:
    """:func:`unroll` without its input checks: ``h0`` (B, H) is required."""
    steps, batch, input_size = x.shape
    hidden, dtype = h0.shape[1], x.dtype
    two = 2 * hidden
    # sigmoid(a) = (tanh(a / 2) + 1) / 2: halve the rows of r and z in the weights and
    # biases (exact in floating point), and one tanh squashes both gates.
    half = np.ones(GATES * hidden, dtype=dtype)
    half[:two] = 0.5
    # A contiguous copy of W_hh^T: the per-step product is faster on it than on a transposed view.
    w_ih = params["weight_ih"] * half[:, None]
    w_hh_t = np.ascontiguousarray((params["weight_hh"] * half[:, None]).T)
    # All input projections in one product: (T*B, I) @ (I, 3H).
    gates = (x.reshape(steps * batch, input_size) @ w_ih.T).reshape(steps, batch, GATES * hidden)
    gates += params["bias_ih"] * half
    # r and z add both biases before the squashing; n keeps b_hn inside the reset product.
    gates[..., :two] += params["bias_hh"][:two] * 0.5
    b_hn = params["bias_hh"][two:]
    states = np.empty((steps, batch, hidden), dtype=dtype)
    hidden_n = np.empty_like(states)
    recurrent = np.empty((batch, GATES * hidden), dtype=dtype)
    h = h0
    for t in range(steps):
        a = gates[t]  # a view: the gates of step t are computed in place
        np.dot(h, w_hh_t, out=recurrent)  # (B, 3H)
        rz = a[:, :two]
        rz += recurrent[:, :two]
        np.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5  # r and z
        r, z, n = a[:, :hidden], a[:, hidden:two], a[:, two:]
        hn = np.add(recurrent[:, two:], b_hn, out=hidden_n[t])  # W_hn h_{t-1} + b_hn
        hn_r = np.multiply(r, hn, out=recurrent[:, two:])  # (the buffer is free again)
        n += hn_r
        np.tanh(n, out=n)
        # h = (1 - z) n + z h_prev = n + z (h_prev - n)
        new = np.subtract(h, n, out=states[t])
        new *= z
        new += n
        h = new
    return states, GRUTrace(x=x, state0=h0, states=states, gates=gates, hidden_n=hidden_n)


def backprop_through_time(
    params: Params,
    trace: GRUTrace,
    dstates: np.ndarray,
) -> tuple[Params, np.ndarray, np.ndarray]:
    """Run the chain rule backwards through the GRU.

    The state reaches the next one along two roads: directly, scaled by the
    update gate (:math:`\\partial h_t / \\partial h_{t-1} \\ni z_t`), and through the
    gates and the candidate (one matrix product).  The loop collects the
    gradient at the gates' pre-activations; weights, biases and inputs get
    theirs in single big products after the loop.

    Parameters
    ----------
    params : dict
        The parameters :func:`unroll` used.
    trace : GRUTrace
        What :func:`unroll` returned.
    dstates : numpy.ndarray, shape (T, B, H)
        The gradient of the loss with respect to every state :math:`h_t`.

    Returns
    -------
    grads : dict
        The gradient for each parameter, same names and shapes.
    dx : numpy.ndarray, shape (T, B, I)
        The gradient with respect to the inputs.
    dstate0 : numpy.ndarray, shape (B, H)
        The gradient with respect to the initial state.
    """
    return backprop(params, trace, check_dstates(dstates, check_trace(trace, GRUTrace).states))


def backprop(params: Params, trace: GRUTrace, dstates: np.ndarray) -> tuple[Params, np.ndarray, np.ndarray]:
    """:func:`backprop_through_time` without its input checks."""
    states = trace.states
    steps, batch, hidden = states.shape
    dtype = states.dtype
    two = 2 * hidden
    w_hh = params["weight_hh"]
    gates = trace.gates
    r, z, n = gates[..., :hidden], gates[..., hidden:two], gates[..., two:]  # each (T, B, H)
    # dgh[t]: gradient at the recurrent projection W_hh h_{t-1} + b_hh of step t (B, 3H);
    # dn_in[t]: gradient at the candidate's input part W_in x_t + b_in (B, H), which differs
    # from the recurrent one by the reset gate.  For r and z the two coincide.
    # Both start as the local derivatives, for all steps at once (vectorised, no Python loop):
    #   n: (1 - z)(1 - n^2) per unit of dL/dh_t      z: (h_{t-1} - n) z (1 - z) per unit of dL/dh_t
    #   r: (W_hn h_{t-1} + b_hn) r (1 - r) per unit of dL/dn_pre    n (recurrent part): r per unit of dL/dn_pre
    # and the loop only multiplies in the gradients as they arrive.
    dgh = np.empty_like(gates)
    dr, dz, dn = dgh[..., :hidden], dgh[..., hidden:two], dgh[..., two:]
    dn_in = np.multiply(n, n)
    np.subtract(1, dn_in, out=dn_in)
    dn_in *= 1 - z
    np.subtract(trace.state0, n[0], out=dz[0])
    np.subtract(states[:-1], n[1:], out=dz[1:])
    dz *= z
    dz *= 1 - z
    np.subtract(1, r, out=dr)
    dr *= r
    dr *= trace.hidden_n
    dn[...] = r
    dh = np.zeros((batch, hidden), dtype=dtype)  # dL/dh_t arriving from step t+1
    message = np.empty((batch, hidden), dtype=dtype)
    for t in range(steps - 1, -1, -1):
        dh += dstates[t]
        dn_in[t] *= dh  # dL/d(candidate pre-activation)
        dz[t] *= dh
        dr[t] *= dn_in[t]
        dn[t] *= dn_in[t]
        dh *= z[t]  # the direct road: h_t = ... + z_t h_{t-1}
        dh += np.matmul(dgh[t], w_hh, out=message)  # and the road through the gates
    # The input projection's gradient: the same as dgh except for the candidate block,
    # where the reset gate sits between the recurrent product and the sum.
    dgi = dgh.copy()
    dgi[..., two:] = dn_in
    grads, dx = weight_gradients(dgi, dgh, trace.x, trace.state0, states, params["weight_ih"])
    return grads, dx, dh


class GRU(RecurrentLayer):
    """A GRU layer holding its parameters, laid out as ``torch.nn.GRU``.

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

    Attributes
    ----------
    params : dict of str to numpy.ndarray
        ``weight_ih`` (3H, I), ``weight_hh`` (3H, H), ``bias_ih`` (3H,), ``bias_hh`` (3H,),
        with the gates stacked in the order r, z, n.

    Examples
    --------
    >>> import numpy as np
    >>> from rnnbook.gru import GRU
    >>> layer = GRU(3, 5, rng=0)
    >>> states, trace = layer.forward(np.zeros((7, 2, 3)))
    >>> states.shape
    (7, 2, 5)
    """

    gates = GATES
    trace_type = GRUTrace

    def step(self, x: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One step on ``x`` (B, I) from ``state`` (B, H); returns ``(h_t, h_t)``."""
        p = self.params
        hidden = state.shape[1]
        two = 2 * hidden
        gi = x @ p["weight_ih"].T
        gi += p["bias_ih"]
        gh = state @ p["weight_hh"].T
        gh += p["bias_hh"]
        rz = sigmoid_(gi[:, :two] + gh[:, :two])
        r, z = rz[:, :hidden], rz[:, hidden:]
        n = np.tanh(gi[:, two:] + r * gh[:, two:])
        h = n + z * (state - n)
        return h, h

    def unroll(self, x: np.ndarray, state0: np.ndarray) -> tuple[np.ndarray, GRUTrace]:
        """:func:`~rnnbook.layers.gru.run` with this layer's parameters."""
        return run(self.params, x, state0)

    def bptt(
        self, trace: GRUTrace, dstates: np.ndarray, dfinal: np.ndarray | None
    ) -> tuple[Params, np.ndarray, np.ndarray]:
        """:func:`~rnnbook.layers.gru.backprop` with this layer's parameters."""
        return backprop(self.params, trace, dstates)
