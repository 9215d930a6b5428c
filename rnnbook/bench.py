"""How fast is rnnbook?  A benchmark of forward plus backpropagation through time.

Run it with ``python -m rnnbook.bench`` (or ``make bench``).  For every
recurrent cell the package has (the vanilla RNN, the LSTM and the GRU) and for
each size (T, B, I, H) it times, on the same float32 inputs and weights:

* **rnnbook**: ``unroll`` then ``backprop_through_time`` of the cell's
  module, with the loss "sum of all outputs" (so every ``dstates`` is one);
* **torch**: ``torch.nn.RNN`` / ``LSTM`` / ``GRU`` on the CPU, forward and
  ``backward()`` of the same loss, with as many threads as numpy's BLAS has
  (skipped when PyTorch is not installed);
* **loop**: a plain loop in the style of Karpathy's ``min-char-rnn.py`` that
  handles one sequence at a time, one column vector per step (small sizes only);
* **GEMM**: numpy's matrix multiply alone, at exactly the shapes of the
  products rnnbook's forward and backward pass do.  No implementation built
  from these products can be faster, so rnnbook's speed as a fraction of this
  rate says how much time goes to anything else (elementwise work, Python).

Before anything is timed, rnnbook's outputs and gradients are checked against
torch (and against the loop): a benchmark of a wrong answer is worthless.
The peak memory that numpy allocates during the forward and backward pass is
measured with ``tracemalloc`` and compared with the T*B*H numbers of the
stored states.

Times are medians over several repeats, after a warm-up, in the manner of
``timeit``.  The results are printed as a table and written as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import platform
import sys
import time
import timeit
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from rnnbook.rnn import init_params

Size = tuple[int, int, int, int]  # (T, B, I, H)

#: The sizes of the full benchmark: a min-char-rnn-sized model on one sequence,
#: then ever larger batches and layers.
SIZES: tuple[Size, ...] = ((25, 1, 65, 100), (50, 32, 65, 128), (100, 64, 128, 256), (100, 64, 512, 512))
#: Tiny sizes for ``--quick`` (a smoke test: the numbers mean little).
QUICK_SIZES: tuple[Size, ...] = ((6, 1, 5, 4), (8, 3, 5, 6))
#: The per-sequence loop is run only up to this many numbers T*B*H (the two smaller sizes).
LOOP_MAX_STATES = 50 * 32 * 128
#: Largest allowed error relative to the largest value, for outputs and gradients in float32.
TOLERANCE = 2e-4


class MismatchError(AssertionError):
    """Raised when two implementations disagree: nothing is timed then."""


# -- the three cells ----------------------------------------------------------------


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def loop_rnn(params: dict[str, np.ndarray], x: np.ndarray, dstates: np.ndarray) -> tuple[np.ndarray, dict, np.ndarray]:
    """Forward and backward of a tanh RNN, one sequence at a time, as in min-char-rnn.

    Every step works on column vectors: the state of one sequence is (H, 1).
    This is the textbook loop a first implementation would write; it is here
    to be timed against the batched version and to check its gradients.

    Parameters
    ----------
    params : dict
        ``weight_ih`` (H, I), ``weight_hh`` (H, H), ``bias_ih``, ``bias_hh`` (H,).
    x : numpy.ndarray, shape (T, B, I)
        The inputs; the B sequences are handled one after the other.
    dstates : numpy.ndarray, shape (T, B, H)
        The gradient of the loss with respect to every state.

    Returns
    -------
    states : numpy.ndarray, shape (T, B, H)
    grads : dict
        Gradients with the parameters' names and shapes, summed over the batch.
    dx : numpy.ndarray, shape (T, B, I)
    """
    w_ih, w_hh = params["weight_ih"], params["weight_hh"]
    bias = (params["bias_ih"] + params["bias_hh"])[:, None]
    steps, batch, _ = x.shape
    hidden = w_hh.shape[0]
    states = np.empty((steps, batch, hidden), dtype=x.dtype)
    dx = np.empty_like(x)
    dw_ih, dw_hh, dbias = np.zeros_like(w_ih), np.zeros_like(w_hh), np.zeros_like(bias)
    for b in range(batch):
        xs, hs = {}, {-1: np.zeros((hidden, 1), dtype=x.dtype)}
        for t in range(steps):
            xs[t] = x[t, b][:, None]
            hs[t] = np.tanh(w_ih @ xs[t] + w_hh @ hs[t - 1] + bias)
            states[t, b] = hs[t][:, 0]
        dhnext = np.zeros((hidden, 1), dtype=x.dtype)
        for t in reversed(range(steps)):
            dh = dstates[t, b][:, None] + dhnext
            dhraw = (1 - hs[t] * hs[t]) * dh
            dbias += dhraw
            dw_ih += dhraw @ xs[t].T
            dw_hh += dhraw @ hs[t - 1].T
            dx[t, b] = (w_ih.T @ dhraw)[:, 0]
            dhnext = w_hh.T @ dhraw
    grads = {"weight_ih": dw_ih, "weight_hh": dw_hh, "bias_ih": dbias[:, 0], "bias_hh": dbias[:, 0].copy()}
    return states, grads, dx


def loop_lstm(params: dict[str, np.ndarray], x: np.ndarray, dstates: np.ndarray) -> tuple[np.ndarray, dict, np.ndarray]:
    """Forward and backward of an LSTM (torch's gate order i, f, g, o), one sequence at a time.

    Same contract as :func:`loop_rnn`, with ``weight_ih`` (4H, I), ``weight_hh`` (4H, H)
    and biases (4H,).
    """
    w_ih, w_hh = params["weight_ih"], params["weight_hh"]
    bias = (params["bias_ih"] + params["bias_hh"])[:, None]
    steps, batch, _ = x.shape
    hidden = w_hh.shape[1]
    h_ = slice(0, hidden), slice(hidden, 2 * hidden), slice(2 * hidden, 3 * hidden), slice(3 * hidden, None)
    states = np.empty((steps, batch, hidden), dtype=x.dtype)
    dx = np.empty_like(x)
    dw_ih, dw_hh, dbias = np.zeros_like(w_ih), np.zeros_like(w_hh), np.zeros_like(bias)
    for b in range(batch):
        zero = np.zeros((hidden, 1), dtype=x.dtype)
        xs, hs, cs, gates = {}, {-1: zero}, {-1: zero}, {}
        for t in range(steps):
            xs[t] = x[t, b][:, None]
            a = w_ih @ xs[t] + w_hh @ hs[t - 1] + bias
            i, f, g, o = _sigmoid(a[h_[0]]), _sigmoid(a[h_[1]]), np.tanh(a[h_[2]]), _sigmoid(a[h_[3]])
            gates[t] = i, f, g, o
            cs[t] = f * cs[t - 1] + i * g
            hs[t] = o * np.tanh(cs[t])
            states[t, b] = hs[t][:, 0]
        dhnext, dcnext = np.zeros_like(zero), np.zeros_like(zero)
        for t in reversed(range(steps)):
            i, f, g, o = gates[t]
            tc = np.tanh(cs[t])
            dh = dstates[t, b][:, None] + dhnext
            dc = dcnext + dh * o * (1 - tc * tc)
            da = np.concatenate([
                dc * g * i * (1 - i),
                dc * cs[t - 1] * f * (1 - f),
                dc * i * (1 - g * g),
                dh * tc * o * (1 - o),
            ])
            dbias += da
            dw_ih += da @ xs[t].T
            dw_hh += da @ hs[t - 1].T
            dx[t, b] = (w_ih.T @ da)[:, 0]
            dhnext = w_hh.T @ da
            dcnext = dc * f
    grads = {"weight_ih": dw_ih, "weight_hh": dw_hh, "bias_ih": dbias[:, 0], "bias_hh": dbias[:, 0].copy()}
    return states, grads, dx


def loop_gru(params: dict[str, np.ndarray], x: np.ndarray, dstates: np.ndarray) -> tuple[np.ndarray, dict, np.ndarray]:
    """Forward and backward of a GRU (torch's formulation, gate order r, z, n), one sequence at a time.

    Same contract as :func:`loop_rnn`, with ``weight_ih`` (3H, I), ``weight_hh`` (3H, H)
    and biases (3H,).
    """
    w_ih, w_hh = params["weight_ih"], params["weight_hh"]
    b_ih, b_hh = params["bias_ih"][:, None], params["bias_hh"][:, None]
    steps, batch, _ = x.shape
    hidden = w_hh.shape[1]
    two = 2 * hidden
    states = np.empty((steps, batch, hidden), dtype=x.dtype)
    dx = np.empty_like(x)
    dw_ih, dw_hh = np.zeros_like(w_ih), np.zeros_like(w_hh)
    db_ih, db_hh = np.zeros_like(b_ih), np.zeros_like(b_hh)
    for b in range(batch):
        xs, hs, cache = {}, {-1: np.zeros((hidden, 1), dtype=x.dtype)}, {}
        for t in range(steps):
            xs[t] = x[t, b][:, None]
            gi = w_ih @ xs[t] + b_ih  # input part of r, z, n
            gh = w_hh @ hs[t - 1] + b_hh  # recurrent part of r, z, n
            r = _sigmoid(gi[:hidden] + gh[:hidden])
            z = _sigmoid(gi[hidden:two] + gh[hidden:two])
            n = np.tanh(gi[two:] + r * gh[two:])
            hs[t] = (1 - z) * n + z * hs[t - 1]
            cache[t] = r, z, n, gh[two:]
            states[t, b] = hs[t][:, 0]
        dhnext = np.zeros((hidden, 1), dtype=x.dtype)
        for t in reversed(range(steps)):
            r, z, n, hn = cache[t]
            dh = dstates[t, b][:, None] + dhnext
            dn = dh * (1 - z) * (1 - n * n)
            dz = dh * (hs[t - 1] - n) * z * (1 - z)
            dr = dn * hn * r * (1 - r)
            d_in = np.concatenate([dr, dz, dn])  # gradient at the input part
            d_hid = np.concatenate([dr, dz, dn * r])  # gradient at the recurrent part
            db_ih += d_in
            db_hh += d_hid
            dw_ih += d_in @ xs[t].T
            dw_hh += d_hid @ hs[t - 1].T
            dx[t, b] = (w_ih.T @ d_in)[:, 0]
            dhnext = dh * z + w_hh.T @ d_hid
    grads = {"weight_ih": dw_ih, "weight_hh": dw_hh, "bias_ih": db_ih[:, 0], "bias_hh": db_hh[:, 0]}
    return states, grads, dx


@dataclass(frozen=True)
class Cell:
    """One recurrent cell: rnnbook's module, the matching torch class and the loop."""

    name: str
    module: str  # the rnnbook module with unroll() and backprop_through_time()
    gates: int  # blocks of H rows in weight_ih / weight_hh
    torch_class: str  # the class in torch.nn
    loop: Callable[[dict, np.ndarray, np.ndarray], tuple[np.ndarray, dict, np.ndarray]]


#: The cells by name: rnnbook module, torch class and reference loop.
CELLS: dict[str, Cell] = {
    "rnn": Cell("rnn", "rnnbook.rnn", 1, "RNN", loop_rnn),
    "lstm": Cell("lstm", "rnnbook.lstm", 4, "LSTM", loop_lstm),
    "gru": Cell("gru", "rnnbook.gru", 3, "GRU", loop_gru),
}


def available_cells() -> list[str]:
    """The names of the cells whose rnnbook module can be imported."""
    names = []
    for name, cell in CELLS.items():
        try:
            importlib.import_module(cell.module)
        except ImportError:
            continue
        names.append(name)
    return names


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
    module = importlib.import_module(cell.module)
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


# -- what the matrix products alone cost ----------------------------------------------


def gemm_shapes(size: Size, gates: int) -> list[tuple[str, int, int, int, int]]:
    """The matrix products of rnnbook's forward and backward pass, as (name, m, k, n, count).

    Each is an (m, k) @ (k, n) product done ``count`` times.  All three cells do
    the same ones, with G*H columns for G gate blocks: the input projection of
    all steps at once, one recurrent product per step forward and one backward,
    and after the backward loop the two weight gradients and the input gradient.
    """
    steps, batch, n_in, hidden = size
    g = gates * hidden
    return [
        ("input projection x W_ih^T", steps * batch, n_in, g, 1),
        ("recurrent S W_hh^T (per step)", batch, hidden, g, steps),
        ("backward dA W_hh (per step)", batch, g, hidden, steps),
        ("grad W_ih = dA^T x", g, steps * batch, n_in, 1),
        ("grad W_hh = dA^T S", g, steps * batch, hidden, 1),
        ("dx = dA W_ih", steps * batch, g, n_in, 1),
    ]


def gemm_flops(size: Size, gates: int) -> int:
    """Floating-point operations (2 per multiply-add) of :func:`gemm_shapes`."""
    return sum(2 * m * k * n * count for _, m, k, n, count in gemm_shapes(size, gates))


def gemm_workload(size: Size, gates: int, seed: int = 0) -> Callable[[], None]:
    """A function that does only the products of :func:`gemm_shapes`, into preallocated outputs.

    The weight gradients multiply a transposed operand, as rnnbook does
    (``dA.T @ x``), so BLAS sees the same layouts.
    """
    rng = np.random.default_rng(seed)
    work = []
    for name, m, k, n, count in gemm_shapes(size, gates):
        if name.startswith("grad"):
            a = rng.standard_normal((k, m), dtype=np.float32).T
        else:
            a = rng.standard_normal((m, k), dtype=np.float32)
        if count > 1:  # one row block per step, as the loops use them
            a = rng.standard_normal((count, m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        work.append((a, b, np.empty((m, n), dtype=np.float32), count))

    def run() -> None:
        for a, b, out, count in work:
            if count == 1:
                np.matmul(a, b, out=out)
            else:
                for i in range(count):
                    np.dot(a[i], b, out=out)  # np.dot: the cheapest call for many small products

    return run


# -- measuring ------------------------------------------------------------------------


def median_times(
    fns: dict[str, Callable[[], object]],
    repeats: int = 5,
    min_time: float = 0.05,
    timer: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Median seconds per call of each function, timed side by side in the manner of ``timeit``.

    Each function gets one warm-up call and as many calls per repeat as make a
    repeat last at least ``min_time`` seconds.  The repeats take turns (first
    repeat of every function, then the second ...), so that a slow moment of a
    shared machine hits all of them alike rather than one.  ``timer`` is the
    clock: wall time by default; ``time.process_time`` counts only the CPU
    time of this process, which a busy machine disturbs less (but which adds up
    the time of all threads, so it is a fair measure only with one thread).
    """
    timers, numbers = {}, {}
    for name, fn in fns.items():
        start = time.perf_counter()
        fn()  # warm-up: caches, lazy initialisation, page faults of new buffers
        once = time.perf_counter() - start
        timers[name] = timeit.Timer(fn, timer=timer)
        numbers[name] = max(1, int(min_time / max(once, 1e-9)))
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, timer in timers.items():
            samples[name].append(timer.timeit(numbers[name]) / numbers[name])
    return {name: float(np.median(values)) for name, values in samples.items()}


def peak_memory(fn: Callable[[], object]) -> int:
    """Peak bytes allocated (numpy arrays included) while ``fn`` runs, above what was there before."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    result = fn()
    _, peak = tracemalloc.get_traced_memory()
    del result
    if not was_tracing:
        tracemalloc.stop()
    return peak - before


def blas_info() -> dict[str, Any]:
    """numpy's BLAS: library, kernel and threads.

    threadpoolctl, when installed, asks the loaded BLAS library itself.  Without
    it the thread count is what OpenBLAS would choose: ``OPENBLAS_NUM_THREADS``,
    else ``OMP_NUM_THREADS``, else the number of CPUs.
    """
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        threads = os.cpu_count() or 1
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
            value = os.environ.get(var, "").split(",")[0].strip()
            if value.isdigit() and int(value) > 0:
                threads = int(value)
                break
        return {"library": "unknown (threadpoolctl not installed)", "num_threads": threads}
    for pool in threadpool_info():
        if pool.get("user_api") == "blas" and "numpy" in pool.get("filepath", ""):
            return {
                "library": pool.get("internal_api"),
                "version": pool.get("version"),
                "architecture": pool.get("architecture"),
                "num_threads": pool.get("num_threads"),
            }
    return {"library": "unknown", "num_threads": os.cpu_count() or 1}


def import_torch() -> ModuleType | None:
    """torch, or None when it is not installed."""
    try:
        return importlib.import_module("torch")
    except ImportError:
        return None


def bench_one(
    cell: Cell,
    size: Size,
    *,
    torch: ModuleType | None,
    run_loop: bool,
    repeats: int,
    min_time: float,
    timer: Callable[[], float] = time.perf_counter,
) -> dict[str, Any]:
    """Check, then time, one cell at one size; return one row of the results."""
    steps, batch, n_in, hidden = size
    params, x, dstates = make_problem(cell, size)
    ours = rnnbook_forward_backward(cell, params, x, dstates)
    row: dict[str, Any] = {"cell": cell.name, "T": steps, "B": batch, "I": n_in, "H": hidden}

    # Correctness first: nothing is timed unless the answers agree.
    row["torch_max_error"] = None
    if torch is not None:
        row["torch_max_error"] = cross_check(torch_results(torch, cell, params, x), ours, f"{cell.name} {size} torch")
    row["loop_max_error"] = None
    if run_loop:
        row["loop_max_error"] = cross_check(ours, cell.loop(params, x, dstates), f"{cell.name} {size} loop")

    contenders: dict[str, Callable[[], object]] = {
        "rnnbook": lambda: rnnbook_forward_backward(cell, params, x, dstates),
        "gemm": gemm_workload(size, cell.gates),
    }
    if torch is not None:
        layer = torch_layer(torch, cell, params)
        tx = torch.from_numpy(x).requires_grad_(True)
        contenders["torch"] = lambda: torch_forward_backward(torch, layer, tx)
    if run_loop:
        contenders["loop"] = lambda: cell.loop(params, x, dstates)
    times = median_times(contenders, repeats, min_time, timer)
    for name in ("rnnbook", "gemm", "torch", "loop"):
        row[f"{name}_s"] = times.get(name)

    flops = gemm_flops(size, cell.gates)
    row["gemm_flops"] = flops
    row["rnnbook_gflops"] = flops / row["rnnbook_s"] / 1e9
    row["gemm_gflops"] = flops / row["gemm_s"] / 1e9
    row["fraction_of_gemm"] = row["gemm_s"] / row["rnnbook_s"]
    row["torch_over_rnnbook"] = row["torch_s"] / row["rnnbook_s"] if row["torch_s"] else None
    row["loop_over_rnnbook"] = row["loop_s"] / row["rnnbook_s"] if row["loop_s"] else None

    peak = peak_memory(lambda: rnnbook_forward_backward(cell, params, x, dstates))
    state_bytes = steps * batch * hidden * x.itemsize
    row["peak_bytes"] = peak
    row["state_bytes"] = state_bytes
    row["peak_over_state"] = peak / state_bytes
    # The part of the peak that scales with the input size: x's gradient dx is (T, B, I).
    row["peak_over_state_and_input"] = peak / (steps * batch * (hidden + n_in) * x.itemsize)
    return row


def run(
    sizes: Sequence[Size] = SIZES,
    cells: Sequence[str] | None = None,
    *,
    repeats: int = 5,
    min_time: float = 0.05,
    use_torch: bool = True,
    loop_max_states: int = LOOP_MAX_STATES,
    cpu_time: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the benchmark and return ``{"meta": ..., "results": [one dict per cell and size]}``.

    Parameters
    ----------
    sizes : sequence of (T, B, I, H)
        The problem sizes.
    cells : sequence of str, optional
        Names from :data:`CELLS`; default every cell rnnbook has.
    repeats : int
        Timed repeats per measurement (the median is kept).
    min_time : float
        Seconds each repeat lasts at least (fast calls are repeated within it).
    use_torch : bool
        Compare with torch when it is installed.
    loop_max_states : int
        Run the per-sequence loop only where T*B*H is at most this.
    cpu_time : bool
        Time with the process's CPU time instead of the wall clock (see :func:`median_times`).
    progress : callable, optional
        Called with a line of text after each row.

    Raises
    ------
    MismatchError
        If rnnbook disagrees with torch or with the loop.
    """
    names = list(cells) if cells is not None else available_cells()
    for name in names:
        if name not in CELLS:
            raise ValueError(f"cells must be among {sorted(CELLS)}, got {name!r}")
    torch = import_torch() if use_torch else None
    blas = blas_info()
    threads = int(blas["num_threads"] or 1)
    if torch is not None:
        torch.set_num_threads(threads)
    meta = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__ if torch is not None else None,
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        "blas": blas,
        "threads": threads,
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "machine": platform.machine(),
        "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
        "dtype": "float32",
        "repeats": repeats,
        "timer": "cpu" if cpu_time else "wall",
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    results = []
    for name in names:
        for size in sizes:
            steps, batch, _, hidden = size
            row = bench_one(
                CELLS[name],
                tuple(size),
                torch=torch,
                run_loop=steps * batch * hidden <= loop_max_states,
                repeats=repeats,
                min_time=min_time,
                timer=time.process_time if cpu_time else time.perf_counter,
            )
            results.append(row)
            if progress is not None:
                progress(format_row(row))
    return {"meta": meta, "results": results}


# -- reporting ------------------------------------------------------------------------

COLUMNS = (
    ("cell", 5), ("T,B,I,H", 16), ("rnnbook ms", 11), ("torch ms", 10), ("torch/ours", 10),
    ("loop ms", 9), ("loop/ours", 9), ("GEMM ms", 9), ("ours GF/s", 9), ("GEMM GF/s", 9),
    ("of limit", 8), ("peak MiB", 8), ("peak/TBH", 8), ("max err", 8),
)


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def format_row(row: dict[str, Any]) -> str:
    """One row of the table."""
    errors = [e for e in (row["torch_max_error"], row["loop_max_error"]) if e is not None]
    cells = (
        row["cell"],
        f"{row['T']},{row['B']},{row['I']},{row['H']}",
        _fmt(row["rnnbook_s"] * 1e3, ".3f"),
        _fmt(row["torch_s"] and row["torch_s"] * 1e3, ".3f"),
        _fmt(row["torch_over_rnnbook"], ".2f") + ("x" if row["torch_over_rnnbook"] else ""),
        _fmt(row["loop_s"] and row["loop_s"] * 1e3, ".1f"),
        _fmt(row["loop_over_rnnbook"], ".1f") + ("x" if row["loop_over_rnnbook"] else ""),
        _fmt(row["gemm_s"] * 1e3, ".3f"),
        _fmt(row["rnnbook_gflops"], ".1f"),
        _fmt(row["gemm_gflops"], ".1f"),
        _fmt(row["fraction_of_gemm"] * 100, ".0f") + "%",
        _fmt(row["peak_bytes"] / 2**20, ".2f"),
        _fmt(row["peak_over_state"], ".1f"),
        _fmt(max(errors) if errors else None, ".0e"),
    )
    return " ".join(text.rjust(width) for text, (_, width) in zip(cells, COLUMNS, strict=True))


def header() -> str:
    """The table's header line."""
    return " ".join(title.rjust(width) for title, width in COLUMNS)


def describe(meta: dict[str, Any]) -> str:
    """One paragraph about the machine and the settings."""
    blas = meta["blas"]
    lines = [
        f"numpy {meta['numpy']} ({blas.get('library')} {blas.get('version', '')}, kernel "
        f"{blas.get('architecture', '?')}, {meta['threads']} thread(s)); "
        f"torch {meta['torch'] or 'not installed'}"
        + (f" ({meta['torch_threads']} thread(s))" if meta["torch"] else "")
        + f"; float32; median of {meta['repeats']} repeats of "
        + ("CPU time" if meta.get("timer") == "cpu" else "wall-clock time"),
        "ours = rnnbook forward + BPTT; limit = numpy's matmul alone at the same shapes "
        "('of limit' = GEMM time / rnnbook time); peak = tracemalloc peak of forward + backward, "
        "peak/TBH = that over the T*B*H float32 states",
    ]
    load = meta.get("load_average")
    if load and load[0] > (meta["cpu_count"] or 1) - 0.5:
        advice = (
            "CPU times are steadier than wall-clock times, but caches are shared"
            if meta.get("timer") == "cpu"
            else "wall-clock times are unreliable, ratios less so (the contenders take turns); "
            "try OMP_NUM_THREADS=1 python -m rnnbook.bench --cpu-time"
        )
        lines.append(
            f"warning: the machine was busy (load average {load[0]:.1f} on {meta['cpu_count']} CPUs); {advice}"
        )
    slow = {k: v for k, v in meta["env"].items() if k.startswith("OPENBLAS") and v}
    if slow:
        lines.append(f"note: {slow} is set and may slow OpenBLAS down")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line, ``python -m rnnbook.bench``; ``--help`` lists the options."""
    parser = argparse.ArgumentParser(prog="python -m rnnbook.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a smoke test in seconds")
    parser.add_argument("--out", default="bench.json", help="where to write the JSON results (default bench.json)")
    parser.add_argument("--cells", default=None, help="comma-separated cells, e.g. rnn,lstm (default: all)")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats per measurement")
    parser.add_argument("--no-torch", action="store_true", help="do not compare with torch")
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time CPU seconds of this process, not the wall clock (steadier on a busy machine; fair with 1 thread)",
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="threads for numpy's BLAS and torch (needs threadpoolctl)"
    )
    args = parser.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else SIZES
    repeats = args.repeats if args.repeats is not None else (3 if args.quick else 5)
    if repeats < 1:
        parser.error(f"--repeats must be at least 1, got {repeats}")
    cells = args.cells.split(",") if args.cells else None
    unknown = sorted(set(cells or ()) - set(available_cells()))
    if unknown:
        parser.error(f"--cells must be among {available_cells()}, got {unknown}")
    limits = contextlib.nullcontext()
    if args.threads is not None:
        if args.threads < 1:
            parser.error(f"--threads must be at least 1, got {args.threads}")
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            parser.error("--threads needs threadpoolctl (pip install threadpoolctl); or set OMP_NUM_THREADS")
        limits = threadpool_limits(limits=args.threads, user_api="blas")
    print(header(), flush=True)
    try:
        with limits:
            report = run(
                sizes,
                cells,
                repeats=repeats,
                min_time=0.01 if args.quick else 0.05,
                use_torch=not args.no_torch,
                loop_max_states=10**9 if args.quick else LOOP_MAX_STATES,
                cpu_time=args.cpu_time,
                progress=lambda line: print(line, flush=True),
            )
    except MismatchError as error:
        print(f"error: the implementations disagree, nothing more is timed: {error}", file=sys.stderr)
        return 1
    print(describe(report["meta"]))
    report["meta"]["quick"] = args.quick
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=2)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
