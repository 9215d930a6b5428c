"""The state equation by hand: step-by-step traces, parameter counts, the response to one pulse.

These helpers serve the chapters that take the state equation

.. math:: h_t = f(W_l x_t + W h_{t-1} + b)

apart.  :func:`trace_states` runs it on one sequence and keeps every term of
every step (the input part, the memory part, the bias, the sum before the
activation and the new state), so that a reader can check each number with a
calculator; :func:`format_trace` prints those terms as a table.
:func:`count_parameters` counts the numbers in a parameter dict and
:func:`chain_parameter_count` gives the same count from the sizes alone, for a
recurrent network (one set of weights shared by every step) or for a
hypothetical chain with separate weights per step.  :func:`pulse_response` is
the state after a single input pulse followed by silence: how long the
network remembers it depends on the activation and the weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from rnnbook._validation import check_array, check_choice, check_positive_int
from rnnbook.layers.activations import ACTIVATIONS
from rnnbook.layers.base import Params, check_params
from rnnbook.layers.rnn import step, unroll


def count_parameters(params: Mapping[str, np.ndarray]) -> int:
    """The number of trainable numbers in a parameter dict.

    Parameters
    ----------
    params : dict of str to numpy.ndarray
        Any parameter dict of rnnbook: a layer's (``weight_ih``, ``weight_hh``,
        ``bias_ih``, ``bias_hh``) or a model's flat dict with dotted names.

    Returns
    -------
    int
        The total number of entries of all arrays.
    """
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict of numpy arrays, got {type(params).__name__}")
    if not params:
        raise ValueError("params must hold at least one array, got an empty dict")
    for name, array in params.items():
        check_array(array, f"params[{name!r}]", ndim=None)
    return int(sum(array.size for array in params.values()))


def chain_parameter_count(input_size: int, hidden_size: int, steps: int = 1, *, shared: bool = True) -> int:
    """How many parameters a recurrent layer has, from its sizes alone.

    One copy of the network has ``H*I`` input weights, ``H*H`` recurrent weights
    and two biases of ``H`` (PyTorch's layout), that is ``H*I + H*H + 2H``.
    A recurrent network shares that one copy between all steps, so the count
    does not depend on ``steps``.  A hypothetical chain with separate weights
    for every step has ``steps`` times as many.

    Parameters
    ----------
    input_size : int
        I, the number of input features.
    hidden_size : int
        H, the size of the state.
    steps : int, default 1
        T, the length of the sequence the chain is unrolled over.
    shared : bool, default True
        True: one set of weights for all steps (a recurrent network).
        False: a separate set per step.

    Returns
    -------
    int
        The number of parameters.
    """
    inputs = check_positive_int(input_size, "input_size")
    hidden = check_positive_int(hidden_size, "hidden_size")
    steps = check_positive_int(steps, "steps")
    if not isinstance(shared, bool):
        raise TypeError(f"shared must be True or False, got {shared!r}")
    one_copy = hidden * inputs + hidden * hidden + 2 * hidden
    return one_copy if shared else steps * one_copy


@dataclass(frozen=True)
class StateTrace:
    """Every term of the state equation at every step of one sequence.

    Row ``t - 1`` of each (T, H) array belongs to step ``t``, so that
    ``preactivation[t - 1] == input_part[t - 1] + memory_part[t - 1] + bias``.

    Attributes
    ----------
    x : numpy.ndarray, shape (T, I)
        The inputs :math:`x_1 \\dots x_T`.
    state0 : numpy.ndarray, shape (H,)
        The initial state :math:`h_0`.
    input_part : numpy.ndarray, shape (T, H)
        :math:`W_l x_t`.
    memory_part : numpy.ndarray, shape (T, H)
        :math:`W h_{t-1}`.
    bias : numpy.ndarray, shape (H,)
        :math:`b`, the sum ``bias_ih + bias_hh``.
    preactivation : numpy.ndarray, shape (T, H)
        :math:`a_t = W_l x_t + W h_{t-1} + b`.
    states : numpy.ndarray, shape (T, H)
        :math:`h_t = f(a_t)`.
    activation : str
        The name of :math:`f`.
    """

    x: np.ndarray
    state0: np.ndarray
    input_part: np.ndarray
    memory_part: np.ndarray
    bias: np.ndarray
    preactivation: np.ndarray
    states: np.ndarray
    activation: str


def trace_states(
    params: Params, x: np.ndarray, state0: np.ndarray | None = None, activation: str = "tanh"
) -> StateTrace:
    """Run the state equation over one sequence, keeping every term of every step.

    The new state of each step comes from :func:`rnnbook.layers.rnn.step`, the same
    code every network in the book runs; the separate terms are computed
    beside it so that they can be printed.

    Parameters
    ----------
    params : dict
        ``weight_ih`` (H, I), ``weight_hh`` (H, H), ``bias_ih``, ``bias_hh`` (H,).
    x : numpy.ndarray, shape (T, I)
        One input sequence (no batch dimension), with the parameters' dtype.
    state0 : numpy.ndarray, shape (H,), optional
        The initial state :math:`h_0`; zeros when omitted.
    activation : {"tanh", "relu", "sigmoid"}
        The activation :math:`f`.

    Returns
    -------
    StateTrace
        The inputs, the three terms, their sum and the states, step by step.
    """
    input_size, hidden_size, dtype = check_params(params)
    x = check_array(x, "x", ndim=2, shape=(None, input_size), dtype=dtype)
    if state0 is None:
        state0 = np.zeros(hidden_size, dtype=dtype)
    state0 = check_array(state0, "state0", ndim=1, shape=(hidden_size,), dtype=dtype)
    activation = check_choice(activation, "activation", tuple(ACTIVATIONS))
    w_ih, w_hh = params["weight_ih"], params["weight_hh"]
    bias = params["bias_ih"] + params["bias_hh"]
    input_part = x @ w_ih.T  # every step's input part at once: it does not depend on the state
    memory_part = np.empty_like(input_part)
    states = np.empty_like(input_part)
    previous = state0
    for t in range(len(x)):
        memory_part[t] = w_hh @ previous
        states[t] = step(x[t : t + 1], previous[None, :], w_ih, w_hh, params["bias_ih"], params["bias_hh"],
                         activation)[0]
        previous = states[t]
    return StateTrace(
        x=x,
        state0=state0,
        input_part=input_part,
        memory_part=memory_part,
        bias=bias,
        preactivation=input_part + memory_part + bias,
        states=states,
        activation=activation,
    )


def _vector(v: np.ndarray, digits: int) -> str:
    if v.size == 1:  # a single number needs no brackets
        return f"{float(v[0]):.{digits}f}"
    return "(" + ", ".join(f"{float(value):.{digits}f}" for value in v) + ")"


def format_trace(trace: StateTrace, digits: int = 3, style: str = "markdown") -> str:
    """A table of a :class:`StateTrace`: one row per step, one column per term.

    Parameters
    ----------
    trace : StateTrace
        What :func:`trace_states` returned.
    digits : int, default 3
        Digits after the decimal point.
    style : {"markdown", "text"}
        "markdown": a Markdown table with the book's symbols in math (for the
        book's pages).  "text": aligned columns of plain text (for a terminal).

    Returns
    -------
    str
        The table; row 0 shows the initial state.
    """
    if not isinstance(trace, StateTrace):
        raise TypeError(f"trace must be a StateTrace from trace_states, got {type(trace).__name__}")
    digits = check_positive_int(digits, "digits")
    style = check_choice(style, "style", ("markdown", "text"))
    f_name = trace.activation
    if style == "markdown":
        f_tex = "\\tanh" if f_name == "tanh" else f"\\mathrm{{{f_name}}}"
        header = ["$t$", "$x_t$", "$W_l x_t$", "$W h_{t-1}$", "$b$", "$a_t$", f"$h_t = {f_tex}(a_t)$"]
    else:
        header = ["t", "x_t", "W_l x_t", "W h_(t-1)", "b", "a_t", f"h_t = {f_name}(a_t)"]
    blank = "" if style == "markdown" else "-"
    rows = [["0", blank, blank, blank, blank, blank, _vector(trace.state0, digits)]]
    for t in range(len(trace.x)):
        rows.append([
            str(t + 1),
            _vector(trace.x[t], digits),
            _vector(trace.input_part[t], digits),
            _vector(trace.memory_part[t], digits),
            _vector(trace.bias, digits),
            _vector(trace.preactivation[t], digits),
            _vector(trace.states[t], digits),
        ])
    if style == "markdown":
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in [header, *rows])


def pulse_response(params: Params, pulse: np.ndarray, steps: int, activation: str = "tanh") -> np.ndarray:
    """The states after one input pulse at step 1 and zero input afterwards.

    Parameters
    ----------
    params : dict
        ``weight_ih`` (H, I), ``weight_hh`` (H, H), ``bias_ih``, ``bias_hh`` (H,).
    pulse : numpy.ndarray, shape (I,)
        The input :math:`x_1`; :math:`x_2 = \\dots = x_T = 0`.
    steps : int
        T, the number of steps.
    activation : {"tanh", "relu", "sigmoid"}
        The activation :math:`f`.

    Returns
    -------
    numpy.ndarray, shape (T, H)
        :math:`h_1, \\dots, h_T`, starting from :math:`h_0 = 0`.
    """
    input_size, _, dtype = check_params(params)
    pulse = check_array(pulse, "pulse", ndim=1, shape=(input_size,), dtype=dtype, allow_empty=False)
    steps = check_positive_int(steps, "steps")
    x = np.zeros((steps, 1, input_size), dtype=dtype)
    x[0, 0] = pulse
    states, _ = unroll(params, x, activation=activation)
    return states[:, 0]
