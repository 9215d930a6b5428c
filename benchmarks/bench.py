"""How fast is rnnbook?  A benchmark of forward plus backpropagation through time.

Run it with ``python benchmarks/bench.py`` (or ``make bench``).  For every
recurrent cell the package has (the vanilla RNN, the LSTM and the GRU) and for
each size (T, B, I, H) it times, on the same float32 inputs and weights:

* **rnnbook**: ``unroll`` then ``backprop_through_time`` of the cell's
  module, with the loss "sum of all outputs" (so every ``dstates`` is one);
* **torch**: ``torch.nn.RNN`` / ``LSTM`` / ``GRU`` on the CPU, forward and
  ``backward()`` of the same loss, with as many threads as numpy's BLAS has
  (skipped when PyTorch is not installed);
* **loop**: the reference cells of :mod:`rnnbook.layers.reference`, a plain
  loop over the steps in the style of Karpathy's ``min-char-rnn.py``, one line
  per equation (small sizes only);
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

``--sampling`` times instead how long the character model takes to write
1,000 characters (:func:`rnnbook.models.charmodel.sample`, 2 layers of 128
LSTM units): with the layers' per-step API, as the package samples, and
through the sequence API with one character per call, as it sampled before
the per-step API existed; it reports characters per second.

``--training`` times one training update of the character model at the size
of ``min-char-rnn.py`` against a loop in its style (``benchmarks/throughput.py``), in
characters per second.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
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
import throughput  # beside this file: on the path when run as a script or imported as the tests do

from rnnbook.data.encoding import Vocabulary
from rnnbook.data.text import builtin_corpus
from rnnbook.layers import reference
from rnnbook.layers.base import RecurrentLayer, init_params
from rnnbook.layers.registry import CELLS as LAYERS
from rnnbook.models.charmodel import CharModel, sample
from rnnbook.training.losses import softmax

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


#: The cells by name: rnnbook's layer and the reference loop.
LOOPS = {"rnn": loop_rnn, "lstm": loop_lstm, "gru": loop_gru}
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


# -- sampling -------------------------------------------------------------------------

#: What ``--sampling`` times: characters written, and the model's cell, layers and hidden size.
SAMPLING = {"length": 1000, "cell": "lstm", "layers": 2, "hidden": 128}


def sample_by_sequence(
    model: CharModel, vocab: Vocabulary, length: int, *, temperature: float = 1.0, prime: str = "", rng
) -> str:
    """Write text as :func:`~rnnbook.models.charmodel.sample` did before the per-step API.

    Every character goes through the sequence forward pass (:meth:`CharModel.run`,
    with its checks) as a sequence of length 1.  The same draws as ``sample``,
    so both write the same text from the same seed.
    """
    rng = np.random.default_rng(rng)
    ids = vocab.encode(prime or ("\n" if "\n" in vocab.index else vocab.chars[0]))
    logits, _, _, state = model.run(ids[:, None])
    out = []
    for _ in range(length):
        p = softmax(logits[-1, 0].astype(np.float64) / temperature)
        cdf = np.cumsum(p)
        nxt = int(min(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"), len(p) - 1))
        out.append(nxt)
        logits, _, _, state = model.run(np.array([[nxt]]), state)
    return vocab.decode(out)


def bench_sampling(
    *, length: int = SAMPLING["length"], hidden: int = SAMPLING["hidden"], layers: int = SAMPLING["layers"],
    repeats: int = 5, timer: Callable[[], float] = time.process_time,
) -> dict[str, Any]:
    """Time writing ``length`` characters with the per-step API and with the sequence API.

    The model is an untrained float32 :class:`~rnnbook.models.charmodel.CharModel`
    with the LSTM cell over the built-in corpus's characters.

    Returns
    -------
    dict
        The settings, the median seconds of each way (``step_s``, ``sequence_s``),
        their ratio ``speedup`` and whether both wrote the same text (``same_text``).
    """
    vocab = Vocabulary.from_text(builtin_corpus())
    model = CharModel(len(vocab), hidden, cell=SAMPLING["cell"], layers=layers, rng=0, dtype=np.float32)
    ways = {
        "step": lambda: sample(model, vocab, length, rng=0),
        "sequence": lambda: sample_by_sequence(model, vocab, length, rng=0),
    }
    texts = {name: way() for name, way in ways.items()}  # also the warm-up
    seconds = {}
    for name, way in ways.items():
        times = []
        for _ in range(repeats):
            start = timer()
            way()
            times.append(timer() - start)
        seconds[name] = float(np.median(times))
    return {
        "length": length, "cell": SAMPLING["cell"], "layers": layers, "hidden": hidden, "vocab_size": len(vocab),
        "repeats": repeats, "step_s": seconds["step"], "sequence_s": seconds["sequence"],
        "speedup": seconds["sequence"] / seconds["step"], "same_text": texts["step"] == texts["sequence"],
        "step_chars_s": length / seconds["step"],
    }


def format_sampling(row: dict[str, Any]) -> str:
    """The sampling measurement in one line."""
    return (
        f"sampling {row['length']} characters, {row['cell']} {row['layers']} x {row['hidden']}, "
        f"vocabulary {row['vocab_size']}: per-step API {row['step_s'] * 1e3:.1f} ms "
        f"({row['step_chars_s']:,.0f} chars/s), sequence API "
        f"{row['sequence_s'] * 1e3:.1f} ms, {row['speedup']:.1f}x faster"
        + ("" if row["same_text"] else " (warning: the two wrote different text)")
    )


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
            "try OMP_NUM_THREADS=1 python benchmarks/bench.py --cpu-time"
        )
        lines.append(
            f"warning: the machine was busy (load average {load[0]:.1f} on {meta['cpu_count']} CPUs); {advice}"
        )
    slow = {k: v for k, v in meta["env"].items() if k.startswith("OPENBLAS") and v}
    if slow:
        lines.append(f"note: {slow} is set and may slow OpenBLAS down")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line, ``python benchmarks/bench.py``; ``--help`` lists the options."""
    parser = argparse.ArgumentParser(prog="python benchmarks/bench.py", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a smoke test in seconds")
    parser.add_argument(
        "--sampling", action="store_true",
        help=f"time writing {SAMPLING['length']} characters with the per-step and the sequence API instead",
    )
    parser.add_argument(
        "--training", action="store_true",
        help="time training updates of the char model (min-char-rnn size) against a min-char-rnn-style loop instead",
    )
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
    if args.training:
        timer = time.process_time if args.cpu_time else time.perf_counter
        row = throughput.training_speed(repeats=repeats, calls=2 if args.quick else 20, timer=timer)
        print(throughput.format_training(row))
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump({"meta": {"quick": args.quick, "timer": "cpu" if args.cpu_time else "wall"}, "training": row}, fh,
                      indent=2)
        print(f"wrote {args.out}")
        return 0
    if args.sampling:
        length = 50 if args.quick else SAMPLING["length"]
        timer = time.process_time if args.cpu_time else time.perf_counter
        row = bench_sampling(length=length, repeats=repeats, timer=timer)
        print(format_sampling(row))
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump({"meta": {"quick": args.quick, "timer": "cpu" if args.cpu_time else "wall"}, "sampling": row}, fh,
                      indent=2)
        print(f"wrote {args.out}")
        return 0
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
