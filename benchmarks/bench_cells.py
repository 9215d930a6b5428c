"""The benchmark's contenders: rnnbook's layers, the reference loops, torch; and the check that they agree."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from rnnbook.layers import reference
from rnnbook.layers.base import RecurrentLayer, init_params
from rnnbook.layers.registry import CELLS as LAYERS

Size = tuple[int, int, int, int]  # (T, B, I, H)

#: Largest allowed error relative to the largest value, for outputs and gradients in float32.
TOLERANCE = 2e-4


class MismatchError(AssertionError):
    """Raised when two implementations disagree: nothing is timed then."""


# -- the three cells ----------------------------------------------------------------


def loop_rnn(params: dict[str, np.ndarray], x: np.ndarray, dstates: np.ndarray) -> tuple[np.ndarray, dict, np.ndarray]:
    """Forward and backward of the reference tanh RNN from a zero state: ``(states, grads, dx)``.

    Parameters
    ----------
    params : dict
        ``weight_ih`` (H, I), ``weight_hh`` (H, H), ``bias_ih``, ``bias_hh`` (H,).
    x : numpy.ndarray, shape (T, B, I)
    dstates : numpy.ndarray, shape (T, B, H)
        The gradient of the loss with respect to every state.

    Returns
    -------
    states : numpy.ndarray, shape (T, B, H)
    grads : dict
        Gradients with the parameters' names and shapes.
    dx : numpy.ndarray, shape (T, B, I)
    """
    states, cache = reference.rnn_forward(params, x, np.zeros(dstates.shape[1:], dtype=x.dtype))
    grads, dx, _ = reference.rnn_backward(params, cache, dstates)
    return states, grads, dx


def loop_lstm(params: dict[str, np.ndarray], x: np.ndarray, dstates: np.ndarray) -> tuple[np.ndarray, dict, np.ndarray]:
    """Forward and backward of the reference LSTM from a zero state; the contract of :func:`loop_rnn`."""
    zeros = np.zeros(dstates.shape[1:], dtype=x.dtype)
    states, cache = reference.lstm_forward(params, x, zeros, zeros)
    grads, dx, _ = reference.lstm_backward(params, cache, dstates)
    return states, grads, dx


def loop_gru(params: dict[str, np.ndarray], x: np.ndarray, dstates: np.ndarray) -> tuple[np.ndarray, dict, np.ndarray]:
    """Forward and backward of the reference GRU from a zero state; the contract of :func:`loop_rnn`."""
    states, cache = reference.gru_forward(params, x, np.zeros(dstates.shape[1:], dtype=x.dtype))
    grads, dx, _ = reference.gru_backward(params, cache, dstates)
    return states, grads, dx


@dataclass(frozen=True)
class Cell:
    """One recurrent cell: rnnbook's layer class (from the registry) and the reference loop."""

    name: str
    layer: type[RecurrentLayer]
    loop: Callable[[dict, np.ndarray, np.ndarray], tuple[np.ndarray, dict, np.ndarray]]

    @property
    def gates(self) -> int:
        """Blocks of H rows in ``weight_ih`` / ``weight_hh``."""
        return self.layer.gates

    @property
    def torch_class(self) -> str:
        """The class in ``torch.nn`` (rnnbook's layers carry torch's names)."""
        return self.layer.__name__

    @property
    def module(self) -> ModuleType:
        """The layer's module, with ``unroll()`` and ``backprop_through_time()``."""
        return inspect.getmodule(self.layer)


#: The reference loop of each cell.
LOOPS = {"rnn": loop_rnn, "lstm": loop_lstm, "gru": loop_gru}
#: The cells by name: rnnbook's layer and the reference loop.
CELLS: dict[str, Cell] = {name: Cell(name, layer, LOOPS[name]) for name, layer in LAYERS.items()}


def available_cells() -> list[str]:
    """The names of the cells to benchmark: every cell of the registry."""
    return list(CELLS)


# -- the problem and the implementations --------------------------------------------


def make_problem(cell: Cell, size: Size, seed: int = 0) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Weights (as torch initialises them), inputs and ``dstates`` = ones, all float32.

    Returns
    -------
    params : dict of float32 arrays, torch's names
    x : numpy.ndarray, shape (T, B, I)
    dstates : numpy.ndarray, shape (T, B, H)
        All ones: the gradient of the loss "sum of all outputs".
    """
    steps, batch, n_in, hidden = size
    rng = np.random.default_rng(seed)
    params = init_params(n_in, hidden, rng=rng, dtype=np.float32, gates=cell.gates)
    x = rng.standard_normal((steps, batch, n_in), dtype=np.float32)
    return params, x, np.ones((steps, batch, hidden), dtype=np.float32)


def rnnbook_forward_backward(
    cell: Cell, params: dict[str, np.ndarray], x: np.ndarray, dstates: np.ndarray
) -> tuple[np.ndarray, dict, np.ndarray]:
    """rnnbook's forward pass and BPTT; returns ``(states, grads, dx)``."""
    module = cell.module
    states, trace = module.unroll(params, x)
    grads, dx, _ = module.backprop_through_time(params, trace, dstates)
    return states, grads, dx


def torch_layer(torch: ModuleType, cell: Cell, params: dict[str, np.ndarray]) -> Any:
    """The torch.nn layer of ``cell`` holding a copy of ``params`` (torch adds the suffix _l0)."""
    _, n_in = params["weight_ih"].shape
    hidden = params["weight_hh"].shape[1]
    layer = getattr(torch.nn, cell.torch_class)(n_in, hidden)
    with torch.no_grad():
        for name, value in params.items():
            getattr(layer, f"{name}_l0").copy_(torch.from_numpy(value))
    return layer


def torch_forward_backward(torch: ModuleType, layer: Any, x: Any) -> Any:
    """Forward, loss = sum of all outputs, backward; returns the outputs."""
    layer.zero_grad(set_to_none=True)
    x.grad = None
    out, _ = layer(x)
    out.sum().backward()
    return out


def torch_results(torch: ModuleType, cell: Cell, params: dict, x: np.ndarray) -> tuple[np.ndarray, dict, np.ndarray]:
    """torch's ``(states, grads, dx)`` for the loss "sum of all outputs", as numpy arrays."""
    layer = torch_layer(torch, cell, params)
    tx = torch.from_numpy(x).requires_grad_(True)
    out = torch_forward_backward(torch, layer, tx)
    grads = {name: getattr(layer, f"{name}_l0").grad.numpy() for name in params}
    return out.detach().numpy(), grads, tx.grad.numpy()


def max_relative_error(reference: tuple, candidate: tuple) -> dict[str, float]:
    """For the outputs, each gradient and dx: the largest absolute difference over the largest absolute reference."""
    ref_states, ref_grads, ref_dx = reference
    states, grads, dx = candidate
    pairs = {"states": (ref_states, states), "dx": (ref_dx, dx)} | {
        name: (ref_grads[name], grads[name]) for name in ref_grads
    }
    errors = {}
    for name, (a, b) in pairs.items():
        if np.shape(a) != np.shape(b):
            raise MismatchError(f"{name}: shape {np.shape(b)} where {np.shape(a)} was expected")
        scale = max(float(np.max(np.abs(a))), np.finfo(np.float32).tiny)
        errors[name] = float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)))) / scale
    return errors


def cross_check(reference: tuple, candidate: tuple, what: str, tolerance: float = TOLERANCE) -> float:
    """Check that two ``(states, grads, dx)`` agree; return the largest relative error.

    Raises
    ------
    MismatchError
        If any output or gradient differs by more than ``tolerance`` times the
        largest absolute value of the reference.
    """
    errors = max_relative_error(reference, candidate)
    bad = {name: err for name, err in errors.items() if not err <= tolerance}  # NaN counts as bad
    if bad:
        listing = ", ".join(f"{name} {err:.2e}" for name, err in bad.items())
        raise MismatchError(f"{what}: relative error above {tolerance:g} in {listing}")
    return max(errors.values())
