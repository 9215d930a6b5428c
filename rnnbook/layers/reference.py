"""The recurrent cells written for reading: one time step at a time, one line per equation.

These are the RNN, the LSTM and the GRU exactly as the book writes them, in
the spirit of Karpathy's ``min-char-rnn.py``: an explicit sigmoid, one line per
gate, a plain loop over the time steps forward and another one backward, no
buffers reused, no input checks.  They compute the same functions as the fast
layers (:mod:`rnnbook.layers.rnn`, :mod:`rnnbook.layers.lstm`,
:mod:`rnnbook.layers.gru`), and ``tests/test_reference_cells.py`` proves it,
forward and every gradient, to 1e-10 in float64.  The benchmark
(``benchmarks/bench.py``) times them as the plain loop.

Every function takes the parameters in torch's layout (see
:mod:`rnnbook.layers.base`): ``weight_ih`` (G*H, I) stacks the input weights
of the G blocks, ``weight_hh`` (G*H, H) the recurrent ones, ``bias_ih`` and
``bias_hh`` (G*H,) the biases.  Inputs are time-major, ``x`` (T, B, I);
states are (B, H).  A forward pass returns the states (T, B, H) and a
*cache* (a dict of what the backward pass needs); a backward pass takes the
gradient with respect to every state, ``dstates`` (T, B, H), and returns the
gradients of the parameters, of the inputs (T, B, I) and of the initial state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # only for the annotations: the API page documents this module's own names
    from rnnbook.layers.base import Params


def sigmoid(a: np.ndarray) -> np.ndarray:
    """The logistic function :math:`\\sigma(a) = 1 / (1 + e^{-a})`, elementwise (any shape)."""
    return 1 / (1 + np.exp(-a))


# -- the vanilla RNN: h_t = f(W_l x_t + W h_{t-1} + b) ---------------------------------

#: The RNN's activations f, and f' written with the output h = f(a).
RNN_ACTIVATIONS = {
    "tanh": (np.tanh, lambda h: 1 - h * h),
    "relu": (lambda a: np.maximum(a, 0), lambda h: (h > 0).astype(h.dtype)),
    "sigmoid": (sigmoid, lambda h: h * (1 - h)),
}


def rnn_step(params: Params, x: np.ndarray, h_prev: np.ndarray, activation: str = "tanh") -> np.ndarray:
    """One step of the state equation: x (B, I) and h_prev (B, H) give h (B, H)."""
    f = RNN_ACTIVATIONS[activation][0]
    W_l, W = params["weight_ih"], params["weight_hh"]
    b = params["bias_ih"] + params["bias_hh"]
    a = x @ W_l.T + h_prev @ W.T + b  # the pre-activation a_t
    return f(a)  # h_t = f(a_t)


def rnn_forward(
    params: Params, x: np.ndarray, h0: np.ndarray, activation: str = "tanh"
) -> tuple[np.ndarray, dict]:
    """The RNN along x (T, B, I) from h0 (B, H): the states (T, B, H) and a cache."""
    hs = [h0]  # hs[t] is h_t; h_0 first
    for t in range(len(x)):
        hs.append(rnn_step(params, x[t], hs[t], activation))
    return np.stack(hs[1:]), {"x": x, "hs": hs, "activation": activation}


def rnn_backward(
    params: Params, cache: dict, dstates: np.ndarray, dh_last: np.ndarray | None = None
) -> tuple[Params, np.ndarray, np.ndarray]:
    """Backpropagation through time: dstates (T, B, H) (and dh_last (B, H)) give (grads, dx, dh0)."""
    x, hs = cache["x"], cache["hs"]
    f_prime = RNN_ACTIVATIONS[cache["activation"]][1]
    W_l, W = params["weight_ih"], params["weight_hh"]
    dW_l, dW, db = np.zeros_like(W_l), np.zeros_like(W), np.zeros_like(params["bias_ih"])
    dx = np.zeros_like(x)
    carry = np.zeros_like(hs[0]) if dh_last is None else dh_last  # the message from step t+1
    for t in reversed(range(len(x))):
        delta = dstates[t] + carry  # delta_t: the direct blame plus the message from step t+1
        da = delta * f_prime(hs[t + 1])  # back through f: f'(a_t) delta_t
        dW_l += da.T @ x[t]  # each weight collects its gradient from every step
        dW += da.T @ hs[t]
        db += da.sum(axis=0)
        dx[t] = da @ W_l
        carry = da @ W  # the message handed back to step t-1
    grads = {"weight_ih": dW_l, "weight_hh": dW, "bias_ih": db, "bias_hh": db.copy()}
    return grads, dx, carry


# -- the LSTM: four gates and a cell ----------------------------------------------------


def lstm_step(
    params: Params, x: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray
) -> tuple[np.ndarray, np.ndarray, tuple]:
    """One LSTM step: x (B, I), h_prev and c_prev (B, H) give h, c (B, H) and the gates (i, f, g, o)."""
    W_ii, W_if, W_ig, W_io = np.split(params["weight_ih"], 4)  # each gate's input weights, (H, I)
    W_hi, W_hf, W_hg, W_ho = np.split(params["weight_hh"], 4)  # each gate's recurrent weights, (H, H)
    b_ii, b_if, b_ig, b_io = np.split(params["bias_ih"], 4)
    b_hi, b_hf, b_hg, b_ho = np.split(params["bias_hh"], 4)
    i = sigmoid(x @ W_ii.T + b_ii + h_prev @ W_hi.T + b_hi)  # input gate: how much of the candidate to write
    f = sigmoid(x @ W_if.T + b_if + h_prev @ W_hf.T + b_hf)  # forget gate: how much of the old cell to keep
    g = np.tanh(x @ W_ig.T + b_ig + h_prev @ W_hg.T + b_hg)  # candidate: what could be written
    o = sigmoid(x @ W_io.T + b_io + h_prev @ W_ho.T + b_ho)  # output gate: how much of the cell to show
    c = f * c_prev + i * g  # the new cell: keep some of the old, write some of the new
    h = o * np.tanh(c)  # the new hidden state: what the cell shows
    return h, c, (i, f, g, o)


def lstm_forward(params: Params, x: np.ndarray, h0: np.ndarray, c0: np.ndarray) -> tuple[np.ndarray, dict]:
    """The LSTM along x (T, B, I) from (h0, c0) (B, H): the hidden states (T, B, H) and a cache."""
    hs, cs, gates = [h0], [c0], []
    for t in range(len(x)):
        h, c, gate_values = lstm_step(params, x[t], hs[t], cs[t])
        hs.append(h)
        cs.append(c)
        gates.append(gate_values)
    return np.stack(hs[1:]), {"x": x, "hs": hs, "cs": cs, "gates": gates}


def lstm_backward(
    params: Params, cache: dict, dstates: np.ndarray, dc_last: np.ndarray | None = None
) -> tuple[Params, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """BPTT through the LSTM: dstates (T, B, H) (and dc_last (B, H)) give (grads, dx, (dh0, dc0))."""
    x, hs, cs = cache["x"], cache["hs"], cache["cs"]
    W_x, W_h = params["weight_ih"], params["weight_hh"]
    dW_x, dW_h, db = np.zeros_like(W_x), np.zeros_like(W_h), np.zeros_like(params["bias_ih"])
    dx = np.zeros_like(x)
    dh_next = np.zeros_like(hs[0])  # blame on h_t arriving from step t+1
    dc_next = np.zeros_like(cs[0]) if dc_last is None else dc_last  # blame on c_t arriving from step t+1
    for t in reversed(range(len(x))):
        i, f, g, o = cache["gates"][t]
        tanh_c = np.tanh(cs[t + 1])
        dh = dstates[t] + dh_next
        dc = dc_next + dh * o * (1 - tanh_c**2)  # h_t = o_t tanh(c_t)
        do = dh * tanh_c
        di = dc * g  # c_t = f_t c_{t-1} + i_t g_t
        df = dc * cs[t]
        dg = dc * i
        # back through each gate's squashing function to its pre-activation
        da = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g**2), do * o * (1 - o)], axis=1)
        dW_x += da.T @ x[t]
        dW_h += da.T @ hs[t]
        db += da.sum(axis=0)
        dx[t] = da @ W_x
        dh_next = da @ W_h  # the message to h_{t-1}, through all four gates
        dc_next = dc * f  # the message to c_{t-1}: only the forget gate in between
    grads = {"weight_ih": dW_x, "weight_hh": dW_h, "bias_ih": db, "bias_hh": db.copy()}
    return grads, dx, (dh_next, dc_next)


# -- the GRU: two gates, one state ------------------------------------------------------


def gru_step(params: Params, x: np.ndarray, h_prev: np.ndarray) -> tuple[np.ndarray, tuple]:
    """One GRU step: x (B, I) and h_prev (B, H) give h (B, H) and (r, z, n, W_hn h_prev + b_hn)."""
    (W_ir, W_iz, W_in), (W_hr, W_hz, W_hn) = np.split(params["weight_ih"], 3), np.split(params["weight_hh"], 3)
    (b_ir, b_iz, b_in), (b_hr, b_hz, b_hn) = np.split(params["bias_ih"], 3), np.split(params["bias_hh"], 3)
    r = sigmoid(x @ W_ir.T + b_ir + h_prev @ W_hr.T + b_hr)  # reset gate: how much of the past the candidate sees
    z = sigmoid(x @ W_iz.T + b_iz + h_prev @ W_hz.T + b_hz)  # update gate: how much of the old state to keep
    hn = h_prev @ W_hn.T + b_hn  # the recurrent part of the candidate
    n = np.tanh(x @ W_in.T + b_in + r * hn)  # candidate: the new content
    h = (1 - z) * n + z * h_prev  # a gated mixture of the new and the old
    return h, (r, z, n, hn)


def gru_forward(params: Params, x: np.ndarray, h0: np.ndarray) -> tuple[np.ndarray, dict]:
    """The GRU along x (T, B, I) from h0 (B, H): the states (T, B, H) and a cache."""
    hs, parts = [h0], []
    for t in range(len(x)):
        h, step_parts = gru_step(params, x[t], hs[t])
        hs.append(h)
        parts.append(step_parts)
    return np.stack(hs[1:]), {"x": x, "hs": hs, "parts": parts}


def gru_backward(
    params: Params, cache: dict, dstates: np.ndarray, dh_last: np.ndarray | None = None
) -> tuple[Params, np.ndarray, np.ndarray]:
    """BPTT through the GRU: dstates (T, B, H) (and dh_last (B, H)) give (grads, dx, dh0)."""
    x, hs = cache["x"], cache["hs"]
    W_x, W_h = params["weight_ih"], params["weight_hh"]
    dW_x, dW_h = np.zeros_like(W_x), np.zeros_like(W_h)
    db_x, db_h = np.zeros_like(params["bias_ih"]), np.zeros_like(params["bias_hh"])
    dx = np.zeros_like(x)
    dh_next = np.zeros_like(hs[0]) if dh_last is None else dh_last
    for t in reversed(range(len(x))):
        r, z, n, hn = cache["parts"][t]
        dh = dstates[t] + dh_next
        dn = dh * (1 - z) * (1 - n**2)  # h_t = (1 - z_t) n_t + z_t h_{t-1}, then back through tanh
        dz = dh * (hs[t] - n) * z * (1 - z)
        dr = dn * hn * r * (1 - r)  # n_t = tanh(... + r_t (W_hn h_{t-1} + b_hn))
        d_input = np.concatenate([dr, dz, dn], axis=1)  # the gradient at the input parts
        d_recurrent = np.concatenate([dr, dz, dn * r], axis=1)  # at the recurrent parts: r sits in between for n
        dW_x += d_input.T @ x[t]
        dW_h += d_recurrent.T @ hs[t]
        db_x += d_input.sum(axis=0)
        db_h += d_recurrent.sum(axis=0)
        dx[t] = d_input @ W_x
        dh_next = dh * z + d_recurrent @ W_h  # the direct road through z, and the road through the gates
    grads = {"weight_ih": dW_x, "weight_hh": dW_h, "bias_ih": db_x, "bias_hh": db_h}
    return grads, dx, dh_next
