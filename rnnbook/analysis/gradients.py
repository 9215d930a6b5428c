"""How gradients flow back through time: Jacobians, their norms, a bound, truncation.

Backpropagation through time multiplies one Jacobian per step.  The state
equation :math:`h_t = f(a_t)`, :math:`a_t = W_l x_t + b_l + W h_{t-1} + b`
gives

.. math:: \\frac{\\partial h_t}{\\partial h_{t-1}} = \\operatorname{diag}(f'(a_t))\\, W ,

and the gradient that reaches step :math:`k` from step :math:`T` passes through
the product of the :math:`T - k` Jacobians in between.  :func:`state_jacobians`
computes each factor, :func:`gradient_norm_by_lag` the norm of every product,
:func:`pascanu_bound` the upper bound :math:`(\\gamma \\lambda_1)^{T-k}` of
Pascanu, Mikolov & Bengio (2013), and :func:`rescale_to_singular_value` sets
:math:`\\lambda_1`, the largest singular value of :math:`W`.
:func:`truncated_backprop_through_time` stops the gradient after a fixed window.
:func:`measured_lag_curves` measures the norms for a whole grid of
:math:`\\lambda_1` (the curves the gradient explorer of the book draws).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rnnbook._validation import (
    check_array,
    check_choice,
    check_dtype,
    check_positive_float,
    check_positive_int,
    check_rng,
)
from rnnbook.layers.activations import ACTIVATIONS
from rnnbook.layers.base import Params, RecurrentLayer, check_params, init_params
from rnnbook.layers.reference import lstm_forward
from rnnbook.layers.rnn import Trace, backprop_through_time, unroll

#: gamma: the largest value of f' for each activation, used in the bound.
#: tanh'(0) = 1, sigmoid'(0) = 1/4, relu' is 0 or 1.
GAMMA: dict[str, float] = {"tanh": 1.0, "sigmoid": 0.25, "relu": 1.0}


def state_jacobians(
    params: Params,
    x: np.ndarray,
    state0: np.ndarray | None = None,
    activation: str = "tanh",
) -> np.ndarray:
    """The Jacobian of every step, :math:`\\partial h_t / \\partial h_{t-1} = \\operatorname{diag}(f'(a_t)) W`.

    Parameters
    ----------
    params : dict
        ``weight_ih`` (H, I), ``weight_hh`` (H, H), ``bias_ih``, ``bias_hh`` (H,).
    x : numpy.ndarray, shape (T, B, I)
        The input sequence.
    state0 : numpy.ndarray, shape (B, H), optional
        :math:`h_0`; zeros when omitted.
    activation : {"tanh", "relu", "sigmoid"}

    Returns
    -------
    numpy.ndarray, shape (T, B, H, H)
        Entry ``[t - 1, b]`` is :math:`\\partial h_t / \\partial h_{t-1}` for sequence ``b``
        (row i, column j: how much unit i of :math:`h_t` moves per unit j of :math:`h_{t-1}`).
    """
    states, trace = unroll(params, x, state0, activation)
    fprime = ACTIVATIONS[trace.activation][1](states)  # (T, B, H), f'(a_t) from h_t
    return fprime[..., :, None] * params["weight_hh"]


def _check_ord(ord: object) -> int | str:
    if ord not in (2, "fro"):
        raise ValueError(f"ord must be 2 (the spectral norm) or 'fro' (Frobenius), got {ord!r}")
    return ord  # type: ignore[return-value]


def gradient_norm_by_lag(
    params: Params,
    x: np.ndarray,
    state0: np.ndarray | None = None,
    activation: str = "tanh",
    ord: int | str = 2,
) -> np.ndarray:
    """The norm of dh_T/dh_k, how much the last state moves per unit of an earlier one, for every lag T - k.

    The product of Jacobians is built from the last step backwards,
    dh_T/dh_k = J_T J_(T-1) ... J_(k+1), one factor more for each step further back.

    Parameters
    ----------
    params : dict
        ``weight_ih`` (H, I), ``weight_hh`` (H, H), ``bias_ih``, ``bias_hh`` (H,).
    x : numpy.ndarray, shape (T, B, I)
        The input sequence.
    state0 : numpy.ndarray, shape (B, H), optional
        The initial state h_0; zeros when omitted.
    activation : {"tanh", "relu", "sigmoid"}
    ord : {2, "fro"}, default 2
        The matrix norm: 2 is the spectral norm (the largest singular value),
        the one the bound of :func:`pascanu_bound` is about.

    Returns
    -------
    numpy.ndarray, shape (T + 1, B)
        Row ``T - k`` (the lag) is the norm of dh_T/dh_k for every
        sequence; row 0 is the norm of the identity (1 for ord=2).
    """
    ord = _check_ord(ord)
    jac = state_jacobians(params, x, state0, activation)
    steps, batch, hidden, _ = jac.shape
    product = np.broadcast_to(np.eye(hidden, dtype=jac.dtype), (batch, hidden, hidden))
    norms = np.empty((steps + 1, batch), dtype=jac.dtype)
    norms[0] = np.linalg.norm(product, ord=ord, axis=(-2, -1))
    for lag in range(1, steps + 1):
        product = product @ jac[steps - lag]
        norms[lag] = np.linalg.norm(product, ord=ord, axis=(-2, -1))
    return norms


def rescale_to_singular_value(weight: np.ndarray, singular_value: float) -> np.ndarray:
    """Scale a matrix so that its largest singular value becomes ``singular_value``.

    Parameters
    ----------
    weight : numpy.ndarray, shape (M, N)
        Any non-zero matrix (typically ``weight_hh``, (H, H)).
    singular_value : float
        The target :math:`\\lambda_1`, > 0.

    Returns
    -------
    numpy.ndarray, shape (M, N)
        A new array, ``weight * singular_value / lambda_1(weight)``, same dtype.
    """
    weight = check_array(weight, "weight", ndim=2)
    singular_value = check_positive_float(singular_value, "singular_value")
    largest = float(np.linalg.norm(weight, ord=2))
    if largest == 0:
        raise ValueError("weight is all zeros: it has no largest singular value to rescale")
    return (weight * (singular_value / largest)).astype(weight.dtype)


def random_orthogonal(size: int, *, rng: np.random.Generator | int, dtype: type | np.dtype = np.float64) -> np.ndarray:
    """A random rotation (orthogonal matrix), uniform over all of them: every singular value is 1.

    Scaled by ``s`` it is a recurrent matrix whose singular values all equal
    ``s``, so that :math:`\\lambda_1` alone says how it stretches.  Drawn as the
    Q of the QR decomposition of a Gaussian matrix, with the signs fixed so the
    result is uniform (Mezzadri 2007); numpy has no sampler of its own for this.

    Parameters
    ----------
    size : int
        H.
    rng : numpy.random.Generator or int
    dtype : float32 or float64

    Returns
    -------
    numpy.ndarray, shape (H, H)
    """
    size = check_positive_int(size, "size")
    rng = check_rng(rng)
    dtype = check_dtype(dtype)
    q, r = np.linalg.qr(rng.normal(size=(size, size)))
    return (q * np.sign(np.diag(r))).astype(dtype)


def pascanu_bound(
    weight_hh: np.ndarray,
    lags: np.ndarray | int,
    activation: str = "tanh",
) -> np.ndarray:
    """The upper bound :math:`\\|\\partial h_T / \\partial h_k\\|_2 \\le (\\gamma \\lambda_1)^{T-k}`.

    Each Jacobian :math:`\\operatorname{diag}(f'(a)) W` has spectral norm at most
    :math:`\\gamma \\lambda_1`, where :math:`\\gamma` bounds :math:`|f'|`
    (:data:`GAMMA`: 1 for tanh, 1/4 for sigmoid) and :math:`\\lambda_1` is the
    largest singular value of :math:`W`; a product of :math:`T - k` of them has
    norm at most the product of the norms (Pascanu, Mikolov & Bengio 2013).  So
    :math:`\\lambda_1 < 1/\\gamma` is enough for the gradient to vanish
    exponentially fast.

    Parameters
    ----------
    weight_hh : numpy.ndarray, shape (H, H)
        The recurrent weights :math:`W`.
    lags : int or numpy.ndarray of int, any shape
        The lags :math:`T - k` (>= 0).  An int ``n`` means ``0, 1, ..., n``.
    activation : {"tanh", "relu", "sigmoid"}

    Returns
    -------
    numpy.ndarray of float64, the shape of ``lags`` (or (n + 1,))
        :math:`(\\gamma \\lambda_1)^{\\text{lag}}`.
    """
    weight_hh = check_array(weight_hh, "weight_hh", ndim=2)
    if weight_hh.shape[0] != weight_hh.shape[1]:
        raise ValueError(f"weight_hh must be square (H, H), got {weight_hh.shape}")
    gamma = GAMMA[check_choice(activation, "activation", tuple(GAMMA))]
    if isinstance(lags, int | np.integer) and not isinstance(lags, bool):
        if lags < 0:
            raise ValueError(f"lags must be >= 0, got {lags}")
        lags = np.arange(int(lags) + 1)
    if not isinstance(lags, np.ndarray) or not np.issubdtype(lags.dtype, np.integer):
        raise TypeError(f"lags must be an int or an integer numpy array, got {type(lags).__name__}")
    if lags.size and lags.min() < 0:
        raise ValueError(f"lags must be >= 0, got {lags.min()}")
    factor = gamma * float(np.linalg.norm(weight_hh, ord=2))
    return np.power(factor, lags.astype(np.float64))


def truncated_backprop_through_time(
    params: Params,
    trace: Trace,
    dstates: np.ndarray,
    window: int,
) -> tuple[Params, np.ndarray]:
    """Backpropagation through time cut into windows of ``window`` steps.

    The forward pass is unchanged: the state flows across the whole sequence.
    Backwards, the sequence is cut into consecutive chunks of ``window`` steps
    (the last may be shorter) and the gradient is not passed from a chunk to the
    one before it: the state a chunk starts from is treated as a constant.  This
    is how long sequences are trained in practice (the state is carried from
    one chunk to the next, the gradient is not); it makes every step cost the
    same, and it makes any dependency longer than the window invisible to the
    gradient.  With ``window >= T`` it is exact backpropagation through time.

    Parameters
    ----------
    params : dict
        The parameters :func:`rnnbook.layers.rnn.unroll` used.
    trace : Trace
        What :func:`rnnbook.layers.rnn.unroll` returned.
    dstates : numpy.ndarray, shape (T, B, H)
        The gradient of the loss with respect to every state.
    window : int
        Steps per chunk, >= 1.

    Returns
    -------
    grads : dict
        The truncated gradient of each parameter, same names and shapes.
    dx : numpy.ndarray, shape (T, B, I)
        The truncated gradient with respect to the inputs.
    """
    check_params(params)
    if not isinstance(trace, Trace):
        raise TypeError(f"trace must be the Trace returned by rnnbook.layers.rnn.unroll, got {type(trace).__name__}")
    window = check_positive_int(window, "window")
    states = trace.states
    dstates = check_array(dstates, "dstates", ndim=3, shape=states.shape, dtype=states.dtype)
    steps = states.shape[0]
    grads = {name: np.zeros_like(p) for name, p in params.items()}
    dx = np.zeros_like(trace.x)
    for start in range(0, steps, window):
        stop = min(start + window, steps)
        start_state = trace.state0 if start == 0 else states[start - 1]
        chunk = Trace(x=trace.x[start:stop], state0=start_state, states=states[start:stop], activation=trace.activation)
        chunk_grads, dx[start:stop], _ = backprop_through_time(params, chunk, dstates[start:stop])
        for name, g in chunk_grads.items():  # the gradient at the chunk's start state is dropped: the cut
            grads[name] += g
    return grads, dx



def memory_jacobian_norms(layer: RecurrentLayer, x: np.ndarray, lags) -> np.ndarray:
    """How strongly the layer's memory at the end depends on its memory at an earlier step k, for each lag T - k.

    The *memory* is what the layer says carries its long memory
    (:meth:`~rnnbook.layers.base.RecurrentLayer.memory`): the cell c_t of an
    LSTM, the state h_t of an RNN or a GRU.  For each lag T - k this runs the
    layer along ``x`` and returns the spectral norm (largest singular value) of
    the Jacobian of the final memory with respect to the memory at step k:
    the most that a change of the memory T - k steps back can move the final
    memory, per unit of change.  A norm that falls like gamma**(T - k) means
    the gradient vanishes; a flat one means it survives.

    The Jacobian is computed with the layer's own backward pass: the sequence is
    copied H times into a batch, and copy ``j`` backpropagates the unit vector
    e_j from the final memory, so the gradient it returns for the
    initial memory is row ``j`` of the Jacobian.

    Parameters
    ----------
    layer : RecurrentLayer
        An RNN, LSTM or GRU.
    x : numpy.ndarray, shape (T, 1, I)
        One input sequence, with the layer's dtype.
    lags : sequence of int
        Each lag T - k, in ``1 .. T``.

    Returns
    -------
    numpy.ndarray, shape (len(lags),)
        The norm for each lag, float64.
    """
    hidden, dtype = layer.hidden_size, layer.dtype
    x = check_array(x, "x", ndim=3, shape=(None, 1, layer.input_size), dtype=dtype)
    steps = x.shape[0]
    lags = [check_positive_int(k, "lag") for k in lags]
    if any(k > steps for k in lags):
        raise ValueError(f"every lag must be at most the sequence length {steps}, got {max(lags)}")
    batch = np.repeat(x, hidden, axis=1)  # (T, H, I): H copies of the one sequence
    _, trace = layer.forward(batch)
    unit = layer.state_from_memory(np.eye(hidden, dtype=dtype))  # e_j at the final memory of copy j
    norms = np.empty(len(lags))
    for n, k in enumerate(lags):
        start = steps - k
        state0 = None if start == 0 else layer.state_at(trace, start - 1)
        tail, tail_trace = layer.run(batch[start:], state0)
        _, _, dstate0 = layer.backprop(tail_trace, np.zeros_like(tail), unit)
        norms[n] = np.linalg.norm(layer.memory(dstate0).astype(np.float64), 2)
    return norms


def measured_lag_curves(
    scales: Sequence[float],
    *,
    hidden_size: int = 32,
    steps: int = 100,
    batch: int = 10,
    rng: np.random.Generator | int,
) -> np.ndarray:
    """Mean :math:`\\|\\partial h_T / \\partial h_k\\|` of a tanh network for each weight scale and lag T - k.

    The recurrent weights are ``scale`` times one random rotation, so their
    largest singular value is ``scale``; the input weights and biases are the
    default initialisation, the inputs standard normal.  The same rotation,
    weights and inputs serve every scale.

    Parameters
    ----------
    scales : sequence of float
        The largest singular values to measure, each > 0.
    hidden_size : int, default 32
    steps : int, default 100
        T, the longest lag measured.
    batch : int, default 10
        How many random input sequences the norm is averaged over.
    rng : numpy.random.Generator or int

    Returns
    -------
    numpy.ndarray, shape (len(scales), steps + 1)
        Row i, column k: the mean spectral norm at lag k for ``scales[i]``.
    """
    scales = [check_positive_float(s, "scale") for s in scales]
    hidden_size = check_positive_int(hidden_size, "hidden_size")
    steps = check_positive_int(steps, "steps")
    batch = check_positive_int(batch, "batch")
    rng = check_rng(rng)
    rotation = random_orthogonal(hidden_size, rng=rng)
    base = init_params(1, hidden_size, rng=rng)
    x = rng.normal(size=(steps, batch, 1))
    return np.array([gradient_norm_by_lag(dict(base, weight_hh=s * rotation), x).mean(axis=1) for s in scales])


def forget_gate_products(layer: RecurrentLayer, x: np.ndarray, lags) -> np.ndarray:
    """The belt-only memory factor of an LSTM: the largest product of forget gates over the last T - k steps.

    Along the cell alone, dc_T/dc_k = diag(f_T * f_(T-1) * ... * f_(k+1)),
    whose spectral norm is the largest entry of the product.  Compare
    :func:`memory_jacobian_norms`, which measures the full
    Jacobian, the road through the hidden state included.

    Parameters
    ----------
    layer : rnnbook.layers.lstm.LSTM
        A layer whose state has a cell (``"c"`` in its
        :meth:`~rnnbook.layers.base.RecurrentLayer.state_parts`).
    x : numpy.ndarray, shape (T, 1, I)
        One input sequence, with the layer's dtype.
    lags : sequence of int
        Each lag T - k, in ``1 .. T``.

    Returns
    -------
    numpy.ndarray, shape (len(lags),)
        The largest product over the units, for each lag, float64.
    """
    if not isinstance(layer, RecurrentLayer) or "c" not in layer.state_parts(layer.init_state(1)):
        raise TypeError(f"layer must be a layer with a cell state (an LSTM), got {type(layer).__name__}")
    x = check_array(x, "x", ndim=3, shape=(None, 1, layer.input_size), dtype=layer.params["weight_hh"].dtype)
    steps = x.shape[0]
    lags = [check_positive_int(k, "lag") for k in lags]
    if any(k > steps for k in lags):
        raise ValueError(f"every lag must be at most the sequence length {steps}, got {max(lags)}")
    zeros = layer.state_parts(layer.init_state(1))
    _, cache = lstm_forward(layer.params, x, zeros["h"], zeros["c"])  # the readable cell shows its gates
    forget = np.stack([f[0] for _, f, _, _ in cache["gates"]]).astype(np.float64)  # (T, H): f_t of each step
    return np.array([np.prod(forget[steps - k :], axis=0).max() for k in lags])
