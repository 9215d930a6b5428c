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
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import numpy as np
import throughput  # beside this file, like the modules above
from bench_cells import (
    CELLS,
    TOLERANCE,
    Cell,
    MismatchError,
    Size,
    available_cells,
    cross_check,
    loop_gru,
    loop_lstm,
    loop_rnn,
    make_problem,
    max_relative_error,
    rnnbook_forward_backward,
    torch_forward_backward,
    torch_layer,
    torch_results,
)
from bench_measure import (
    blas_info,
    format_profile,
    gemm_flops,
    gemm_shapes,
    gemm_workload,
    import_torch,
    median_times,
    peak_memory,
    profile,
)
from bench_sampling import SAMPLING, bench_sampling, format_sampling, sample_by_sequence

__all__ = [
    "CELLS", "QUICK_SIZES", "SAMPLING", "SIZES", "TOLERANCE", "Cell", "MismatchError", "available_cells",
    "bench_one", "bench_sampling", "blas_info", "cross_check", "format_row", "format_sampling", "gemm_flops",
    "gemm_shapes", "gemm_workload", "header", "loop_gru", "loop_lstm", "loop_rnn", "main", "make_problem",
    "max_relative_error", "median_times", "peak_memory", "rnnbook_forward_backward", "run", "sample_by_sequence",
    "torch_results",
]

#: The sizes of the full benchmark: a min-char-rnn-sized model on one sequence,
#: then ever larger batches and layers.
SIZES: tuple[Size, ...] = ((25, 1, 65, 100), (50, 32, 65, 128), (100, 64, 128, 256), (100, 64, 512, 512))
#: Tiny sizes for ``--quick`` (a smoke test: the numbers mean little).
QUICK_SIZES: tuple[Size, ...] = ((6, 1, 5, 4), (8, 3, 5, 6))
#: The per-sequence loop is run only up to this many numbers T*B*H (the two smaller sizes).
LOOP_MAX_STATES = 50 * 32 * 128


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
        Names from :data:`bench_cells.CELLS`; default every cell rnnbook has.
    repeats : int
        Timed repeats per measurement (the median is kept).
    min_time : float
        Seconds each repeat lasts at least (fast calls are repeated within it).
    use_torch : bool
        Compare with torch when it is installed.
    loop_max_states : int
        Run the per-sequence loop only where T*B*H is at most this.
    cpu_time : bool
        Time with the process's CPU time instead of the wall clock (see :func:`bench_measure.median_times`).
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
    parser.add_argument(
        "--profile", action="store_true",
        help="where the time goes at the largest size: each product alone and the rest, per cell",
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
    if args.profile:
        timer = time.process_time if args.cpu_time else time.perf_counter
        size = sizes[-1]
        with limits:
            for name in cells or available_cells():
                print(format_profile(name, size, profile(CELLS[name], size, repeats=repeats, timer=timer)), flush=True)
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
