"""Measuring: the matrix products alone, medians of repeated timings, peak memory, BLAS threads, torch."""

from __future__ import annotations

import importlib
import os
import time
import timeit
import tracemalloc
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
from bench_cells import Cell, Size, make_problem

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
        ("recurrent h W_hh^T (per step)", batch, hidden, g, steps),
        ("backward dA W_hh (per step)", batch, g, hidden, steps),
        ("grad W_ih = dA^T x", g, steps * batch, n_in, 1),
        ("grad W_hh = dA^T h", g, steps * batch, hidden, 1),
        ("dx = dA W_ih", steps * batch, g, n_in, 1),
    ]


def gemm_flops(size: Size, gates: int) -> int:
    """Floating-point operations (2 per multiply-add) of :func:`gemm_shapes`."""
    return sum(2 * m * k * n * count for _, m, k, n, count in gemm_shapes(size, gates))


def gemm_workload(size: Size, gates: int, seed: int = 0, only: str | None = None) -> Callable[[], None]:
    """A function that does only the products of :func:`gemm_shapes`, into preallocated outputs.

    The weight gradients multiply a transposed operand, as rnnbook does
    (``dA.T @ x``), so BLAS sees the same layouts.  ``only`` names one product
    of :func:`gemm_shapes` to do alone.
    """
    rng = np.random.default_rng(seed)
    work = []
    for name, m, k, n, count in gemm_shapes(size, gates):
        if only is not None and name != only:
            continue
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


def profile(cell: Cell, size: Size, repeats: int = 5, timer: Callable[[], float] = time.perf_counter) -> dict:
    """Where the time of rnnbook's forward and backward pass goes: each product alone, and the rest.

    Times the forward pass, the backward pass, and each product of
    :func:`gemm_shapes` alone with numpy, side by side (:func:`median_times`).
    What a pass takes beyond its products is the elementwise work (gates,
    their derivatives), Python's loop and the memory traffic between them.

    Returns
    -------
    dict
        ``{"forward": s, "backward": s, "products": {name: s}}``, seconds per call.
    """
    params, x, dstates = make_problem(cell, size)
    module = cell.module
    _, trace = module.unroll(params, x)
    fns = {
        "forward": lambda: module.unroll(params, x),
        "backward": lambda: module.backprop_through_time(params, trace, dstates),
    }
    names = [name for name, *_ in gemm_shapes(size, cell.gates)]
    fns |= {name: gemm_workload(size, cell.gates, only=name) for name in names}
    times = median_times(fns, repeats=repeats, timer=timer)
    return {"forward": times["forward"], "backward": times["backward"], "products": {n: times[n] for n in names}}


def format_profile(cell: str, size: Size, prof: dict) -> str:
    """The lines of :func:`profile`'s report: each pass, its products and the rest, in ms."""
    products = prof["products"]
    lines = [f"{cell} at (T,B,I,H) = {size}, ms per call:"]
    for part, names in (("forward", list(products)[:2]), ("backward", list(products)[2:])):
        total, product_time = prof[part], sum(products[n] for n in names)
        listing = ", ".join(f"{n} {1e3 * products[n]:.1f}" for n in names)
        rest = total - product_time
        lines.append(
            f"  {part:8s} {1e3 * total:8.1f} = products {1e3 * product_time:.1f} ({listing})"
            f" + the rest {1e3 * rest:.1f} ({100 * rest / total:.0f}%)"
        )
    return "\n".join(lines)


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
