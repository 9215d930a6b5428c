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
    chunk_steps,
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


def _blocks(w: np.ndarray, order: tuple[int, ...]) -> np.ndarray:
    """The blocks of H rows of ``w`` (3H, ...) in ``order``: ``(2, 1, 0)`` reverses r, z, n."""
    hidden = w.shape[0] // GATES
    return np.concatenate([w[k * hidden : (k + 1) * hidden] for k in order])


def run(params: Params, x: np.ndarray, h0: np.ndarray) -> tuple[np.ndarray, GRUTrace]:
    """:func:`unroll` without its input checks: ``h0`` (B, H) is required."""
    steps, batch, input_size = x.shape
    hidden, dtype = h0.shape[1], x.dtype
    two, width = 2 * hidden, GATES * hidden
    # sigmoid(a) = (tanh(a / 2) + 1) / 2: halve the rows of r and z in the weights and
    # biases (exact in floating point), and one tanh squashes both gates.
    half = np.ones(width, dtype=dtype)
    half[:two] = 0.5
    # W_ih^T and W_hh^T scaled, each written straight into a contiguous (I or H, 3H) array in one
    # pass: the products are faster on them than on transposed views.
    w_ih_t = np.multiply(params["weight_ih"].T, half, out=np.empty((input_size, width), dtype=dtype))
    w_hh_t = np.multiply(params["weight_hh"].T, half, out=np.empty((hidden, width), dtype=dtype))
    # r and z add both biases before the squashing; n keeps b_hn inside the reset product.
    bias = params["bias_ih"] * half
    bias[:two] += params["bias_hh"][:two] * 0.5
    b_hn = params["bias_hh"][two:]
    gates = np.empty((steps, batch, width), dtype=dtype)
    states = np.empty((steps, batch, hidden), dtype=dtype)
    hidden_n = np.empty_like(states)
    recurrent = np.empty((batch, width), dtype=dtype)
    # The input part of every step in one product, (T*B, I) @ (I, 3H), plus the bias.
    np.matmul(x.reshape(-1, input_size), w_ih_t, out=gates.reshape(-1, width))
    gates += bias
    h = h0
    for t in range(steps):
        a = gates[t]  # a view: the gates of step t are computed in place
        np.dot(h, w_hh_t, out=recurrent)  # (B, 3H)
        rz = a[:, :two]
        rz += recurrent[:, :two]
        np.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5  # r and z
        hn = np.add(recurrent[:, two:], b_hn, out=hidden_n[t])  # W_hn h_{t-1} + b_hn
        n = a[:, two:]
        n += np.multiply(a[:, :hidden], hn, out=recurrent[:, two:])  # (the buffer is free again)
        np.tanh(n, out=n)
        # h = (1 - z) n + z h_prev = n + z (h_prev - n)
        new = np.subtract(h, n, out=states[t])
        new *= a[:, hidden:two]
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
    # The gradient at the pre-activations goes into one (T, B, 4H) buffer of four blocks,
    #   n_in | z | r | n_rec
    # n_in at the candidate's input part W_in x_t + b_in, n_rec at its recurrent part
    # W_hn h_{t-1} + b_hn (they differ by the reset gate); r and z are shared.  Blocks 0-2
    # are then the input side (rows n, z, r of W_ih) and blocks 1-3 the recurrent side
    # (rows z, r, n of W_hh), each one contiguous matrix, so no copy is needed.
    d = np.empty((steps, batch, 4 * hidden), dtype=dtype)
    dn, dz, dr, dn_rec = (d[..., k * hidden : (k + 1) * hidden] for k in range(4))
    w_hh_zrn = _blocks(params["weight_hh"], (1, 0, 2))
    chunk = chunk_steps(batch, 4 * hidden, dtype.itemsize)
    tmp = np.empty((min(chunk, steps), batch, hidden), dtype=dtype)
    dh = np.zeros((batch, hidden), dtype=dtype)  # dL/dh_t arriving from step t+1
    message = np.empty((batch, hidden), dtype=dtype)
    for stop in range(steps, 0, -chunk):
        start = max(0, stop - chunk)
        span = slice(start, stop)
        r, z, n = (trace.gates[span, :, k * hidden : (k + 1) * hidden] for k in range(GATES))
        tk = tmp[: stop - start]
        # The local derivatives for a chunk of steps at once (vectorised, no Python loop):
        #   n_in: (1 - z)(1 - n^2) per unit of dL/dh_t     z: (h_{t-1} - n) z (1 - z) per unit of dL/dh_t
        #   r: (W_hn h_{t-1} + b_hn) r (1 - r) per unit of dL/dn_in     n_rec: r per unit of dL/dn_in
        np.multiply(n, n, out=dn[span])
        np.subtract(1, dn[span], out=dn[span])
        dn[span] -= np.multiply(dn[span], z, out=tk)
        if start == 0:
            np.subtract(trace.state0, n[0], out=dz[0])
            np.subtract(states[: stop - 1], n[1:], out=dz[1:stop])
        else:
            np.subtract(states[start - 1 : stop - 1], n, out=dz[span])
        np.subtract(z, np.multiply(z, z, out=tk), out=tk)
        dz[span] *= tk
        np.subtract(r, np.multiply(r, r, out=tk), out=tk)
        np.multiply(trace.hidden_n[span], tk, out=dr[span])
        dn_rec[span] = r
        # The loop multiplies in the gradients as they arrive, from the chunk's last step back.
        for t in range(stop - 1, start - 1, -1):
            dh += dstates[t]
            dn[t] *= dh  # dL/d(candidate pre-activation)
            dz[t] *= dh
            dr[t] *= dn[t]
            dn_rec[t] *= dn[t]
            dh *= z[t - start]  # the direct road: h_t = ... + z_t h_{t-1}
            dh += np.dot(d[t, :, hidden:], w_hh_zrn, out=message)  # and the road through the gates
    flat = d.reshape(steps * batch, 4 * hidden)
    d_input, d_recurrent = flat[:, : 3 * hidden], flat[:, hidden:]
    grad_hh = d_recurrent[:batch].T @ trace.state0
    if steps > 1:
        grad_hh += d_recurrent[batch:].T @ states.reshape(steps * batch, hidden)[:-batch]
    sums = flat.sum(axis=0)  # the bias gradients of the four blocks in one pass
    n_in, s_z, s_r, n_rec = (sums[k * hidden : (k + 1) * hidden] for k in range(4))
    grads = {
        "weight_ih": _blocks(d_input.T @ trace.x.reshape(steps * batch, -1), (2, 1, 0)),
        "weight_hh": _blocks(grad_hh, (1, 0, 2)),
        "bias_ih": np.concatenate([s_r, s_z, n_in]),
        "bias_hh": np.concatenate([s_r, s_z, n_rec]),
    }
    dx = (d_input @ _blocks(params["weight_ih"], (2, 1, 0))).reshape(trace.x.shape)
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
    >>> from rnnbook.layers.gru import GRU
    >>> layer = GRU(3, 5, rng=0)
    >>> states, trace = layer.forward(np.zeros((7, 2, 3)))
    >>> states.shape
    (7, 2, 5)
    """

    gates = GATES
    trace_type = GRUTrace

    def step(self, x: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One step on ``x`` (B, I) from ``state`` (B, H); returns ``(h_t, h_t)``."""
        if not isinstance(state, np.ndarray):  # a tuple (an LSTM's state) would broadcast or fail deep inside
            raise TypeError(f"state of a GRU must be one (B, H) array, got {type(state).__name__}")
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
