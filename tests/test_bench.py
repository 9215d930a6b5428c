"""The benchmark's machinery: its JSON, its correctness checks, its reference loops.

No test here asserts anything about speed: speed is measured by running the
benchmark (``make bench``), never in a timed test.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))  # the benchmark is not in the package
import bench  # noqa: E402
import throughput  # noqa: E402

ROW_FIELDS = {
    "cell", "T", "B", "I", "H", "rnnbook_s", "torch_s", "loop_s", "gemm_s", "gemm_flops", "rnnbook_gflops",
    "gemm_gflops", "fraction_of_gemm", "torch_over_rnnbook", "loop_over_rnnbook", "torch_max_error",
    "loop_max_error", "peak_bytes", "state_bytes", "peak_over_state", "peak_over_state_and_input",
}


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    """One run of ``python benchmarks/bench.py --quick`` (with a single repeat), and its JSON."""
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    status = bench.main(["--quick", "--repeats", "1", "--out", str(out)])
    return status, json.loads(out.read_text())


def test_quick_run_writes_every_field(quick_report):
    status, report = quick_report
    assert status == 0
    cells = bench.available_cells()
    assert "rnn" in cells
    rows = report["results"]
    assert [(r["cell"], (r["T"], r["B"], r["I"], r["H"])) for r in rows] == [
        (c, s) for c in cells for s in bench.QUICK_SIZES
    ]
    for row in rows:
        assert set(row) == ROW_FIELDS
        for key in ("rnnbook_s", "gemm_s", "loop_s", "peak_bytes", "fraction_of_gemm", "loop_over_rnnbook"):
            assert row[key] > 0, key
        assert row["state_bytes"] == row["T"] * row["B"] * row["H"] * 4  # float32
    meta = report["meta"]
    assert meta["quick"] is True and meta["dtype"] == "float32" and meta["threads"] >= 1
    assert meta["timer"] == "wall"


def test_quick_run_checked_every_answer(quick_report):
    _, report = quick_report
    for row in report["results"]:
        # the loop runs at every quick size, so rnnbook was checked against it everywhere
        assert row["loop_max_error"] is not None and row["loop_max_error"] <= bench.TOLERANCE
        if report["meta"]["torch"] is not None:
            assert row["torch_max_error"] is not None and row["torch_max_error"] <= bench.TOLERANCE
            assert row["torch_s"] > 0


def test_quick_run_prints_a_table(capsys, tmp_path):
    args = ["--quick", "--repeats", "1", "--cells", "rnn", "--no-torch", "--out", str(tmp_path / "b.json")]
    assert bench.main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["cell", "T,B,I,H"]
    assert [line.split()[:2] for line in lines[1:3]] == [
        ["rnn", ",".join(map(str, size))] for size in bench.QUICK_SIZES
    ]


def _wrong_backprop(original):
    def wrong(params, trace, dstates):
        grads, dx, dstate0 = original(params, trace, dstates)
        return grads | {"weight_hh": grads["weight_hh"] * 1.01}, dx, dstate0
    return wrong


def test_cross_check_catches_a_wrong_gradient(monkeypatch):
    from rnnbook.layers import rnn

    monkeypatch.setattr(rnn, "backprop_through_time", _wrong_backprop(rnn.backprop_through_time))
    with pytest.raises(bench.MismatchError, match=r"rnn .* relative error above .* in weight_hh"):
        bench.run(bench.QUICK_SIZES[:1], ["rnn"], repeats=1, min_time=0.0, use_torch=False)


@pytest.mark.torch
def test_cross_check_against_torch_catches_a_wrong_gradient(monkeypatch, torch):
    from rnnbook.layers import rnn

    monkeypatch.setattr(rnn, "backprop_through_time", _wrong_backprop(rnn.backprop_through_time))
    # no loop: the only check left is the one against torch
    with pytest.raises(bench.MismatchError, match=r"torch: relative error above .* in weight_hh"):
        bench.run(bench.QUICK_SIZES[:1], ["rnn"], repeats=1, min_time=0.0, loop_max_states=0)


def test_a_mismatch_stops_the_command_line(monkeypatch, tmp_path, capsys):
    from rnnbook.layers import rnn

    monkeypatch.setattr(rnn, "backprop_through_time", _wrong_backprop(rnn.backprop_through_time))
    out = tmp_path / "b.json"
    assert bench.main(["--quick", "--cells", "rnn", "--no-torch", "--out", str(out)]) == 1
    assert "disagree" in capsys.readouterr().err
    assert not out.exists()


def test_cross_check_rules():
    rng = np.random.default_rng(0)
    result = (rng.normal(size=(3, 2, 4)), {"w": rng.normal(size=(4, 4))}, rng.normal(size=(3, 2, 5)))
    assert bench.cross_check(result, result, "same") == 0.0
    states, grads, dx = result
    with pytest.raises(bench.MismatchError, match="in dx"):
        bench.cross_check(result, (states, grads, dx + 1e-2), "shifted dx")
    with pytest.raises(bench.MismatchError, match="in w"):
        bench.cross_check(result, (states, {"w": np.full((4, 4), np.nan)}, dx), "nan")
    with pytest.raises(bench.MismatchError, match=r"states: shape \(2, 2, 4\)"):
        bench.cross_check(result, (states[:2], grads, dx), "short")
    # a float32-sized rounding difference passes
    assert bench.cross_check(result, (states * (1 + 1e-6), grads, dx), "rounding") < bench.TOLERANCE


@pytest.mark.parametrize("cell", bench.available_cells())
def test_loop_gives_rnnbooks_gradients(cell, rng):
    """The textbook per-sequence loop and the batched code are two independent derivations."""
    spec = bench.CELLS[cell]
    steps, batch, n_in, hidden = 5, 3, 4, 6
    params = {k: v.astype(np.float64) for k, v in bench.make_problem(spec, (steps, batch, n_in, hidden))[0].items()}
    x = rng.normal(size=(steps, batch, n_in))
    dstates = rng.normal(size=(steps, batch, hidden))  # not all ones: every output weighs differently
    ours = bench.rnnbook_forward_backward(spec, params, x, dstates)
    loop = spec.loop(params, x, dstates)
    errors = bench.max_relative_error(ours, loop)
    assert set(errors) == {"states", "dx", "weight_ih", "weight_hh", "bias_ih", "bias_hh"}
    assert max(errors.values()) < 1e-12, errors


def test_gemm_count_is_six_products_per_layer():
    # forward: x W_ih^T and h W_hh^T; backward: dA W_hh, dA^T x, dA^T h, dA W_ih.  Each is a
    # T*B x (I or H) x G*H product, so 2 * 3 * T*B*G*H*(I + H) operations in all.
    for gates in (1, 3, 4):
        steps, batch, n_in, hidden = 7, 3, 5, 4
        assert bench.gemm_flops((steps, batch, n_in, hidden), gates) == 6 * steps * batch * gates * hidden * (
            n_in + hidden
        )
    bench.gemm_workload((3, 2, 4, 5), 4)()  # runs, with matching shapes


def test_peak_memory_sees_numpy_arrays():
    assert bench.peak_memory(lambda: np.ones(10**6)) >= 8 * 10**6
    assert bench.peak_memory(lambda: None) < 10**5


@pytest.mark.parametrize("cell", bench.available_cells())
def test_backward_memory_grows_linearly_with_time(cell):
    """Twice the steps, twice the memory: storage is O(T*B*H), not more."""
    spec = bench.CELLS[cell]
    peaks = []
    for steps in (40, 80):
        params, x, dstates = bench.make_problem(spec, (steps, 8, 16, 32))
        peaks.append(bench.peak_memory(lambda: bench.rnnbook_forward_backward(spec, params, x, dstates)))  # noqa: B023
    assert 1.6 < peaks[1] / peaks[0] < 2.2, peaks


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(SystemExit):
        bench.main(["--quick", "--repeats", "0", "--out", str(tmp_path / "b.json")])
    with pytest.raises(SystemExit):
        bench.main(["--quick", "--threads", "0", "--out", str(tmp_path / "b.json")])
    with pytest.raises(SystemExit):
        bench.main(["--quick", "--cells", "rnn,transformer", "--out", str(tmp_path / "b.json")])
    with pytest.raises(ValueError, match="cells must be among"):
        bench.run(bench.QUICK_SIZES[:1], ["transformer"])


def test_thread_count_without_threadpoolctl(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_threadpoolctl(name, *args, **kwargs):
        if name == "threadpoolctl":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_threadpoolctl)
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert bench.blas_info()["num_threads"] == 3
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "5")
    assert bench.blas_info()["num_threads"] == 5
    monkeypatch.delenv("OPENBLAS_NUM_THREADS")
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert bench.blas_info()["num_threads"] == (os.cpu_count() or 1)


def test_threads_option_sets_the_blas_threads(tmp_path):
    pytest.importorskip("threadpoolctl", reason="--threads uses threadpoolctl")
    out = tmp_path / "b.json"
    args = ["--quick", "--repeats", "1", "--cells", "rnn", "--threads", "1", "--cpu-time", "--out", str(out)]
    assert bench.main(args) == 0
    meta = json.loads(out.read_text())["meta"]
    assert meta["threads"] == 1 and meta["timer"] == "cpu"
    if meta["torch"] is not None:
        assert meta["torch_threads"] == 1


def test_sampling_part_times_both_ways_on_the_same_text(tmp_path, capsys):
    out = tmp_path / "sampling.json"
    assert bench.main(["--sampling", "--quick", "--repeats", "1", "--out", str(out)]) == 0
    row = json.loads(out.read_text())["sampling"]
    # the per-step API and the sequence API draw the same characters: the same function, two ways
    assert row["same_text"] is True
    assert row["length"] == 50 and row["cell"] == "lstm" and row["layers"] == 2 and row["hidden"] == 128
    assert row["step_s"] > 0 and row["sequence_s"] > 0
    assert row["speedup"] == pytest.approx(row["sequence_s"] / row["step_s"])
    assert row["step_chars_s"] == pytest.approx(row["length"] / row["step_s"])
    assert "per-step API" in capsys.readouterr().out


def test_training_part_reports_characters_per_second(tmp_path, capsys):
    out = tmp_path / "training.json"
    assert bench.main(["--training", "--quick", "--repeats", "1", "--out", str(out)]) == 0
    row = json.loads(out.read_text())["training"]
    assert (row["hidden"], row["seq_len"], row["dtype"]) == (100, 25, "float64")  # min-char-rnn's size
    assert row["check_error"] <= 1e-8
    for key in ("loop_chars_s", "rnnbook_chars_s", "rnnbook_batched_chars_s"):
        assert row[key] > 0, key
    assert row["speedup"] == pytest.approx(row["rnnbook_chars_s"] / row["loop_chars_s"])
    assert "min-char-rnn loop" in capsys.readouterr().out


def test_minchar_loop_gives_the_char_models_gradients(monkeypatch):
    text = "hello world, hello rnn"
    vocab = throughput.Vocabulary.from_text(text)
    ids = vocab.encode(text)
    model = throughput.CharModel(len(vocab), 7, cell="rnn", rng=3)
    assert throughput.check_minchar_agrees(model, ids[:9]) <= 1e-8
    # a loop whose recurrent gradient is 1% off is caught, not timed
    right = throughput.minchar_loss

    def wrong(*args):
        loss, grads, h = right(*args)
        grads["dWhh"] *= 1.01
        return loss, grads, h

    monkeypatch.setattr(throughput, "minchar_loss", wrong)
    with pytest.raises(AssertionError, match="disagree"):
        throughput.check_minchar_agrees(model, ids[:9])


def test_profile_splits_each_pass_into_its_products_and_the_rest(capsys):
    products = {name: 0.002 for name, *_ in bench.gemm_shapes((4, 2, 3, 5), 4)}
    fake = {"forward": 0.010, "backward": 0.030, "products": products}
    lines = bench.format_profile("lstm", (4, 2, 3, 5), fake).splitlines()
    # forward: two products of 2 ms each, so 6 ms (60%) are the rest; backward: four, 22 ms (73%)
    assert "products 4.0" in lines[1] and "the rest 6.0 (60%)" in lines[1]
    assert "products 8.0" in lines[2] and "the rest 22.0 (73%)" in lines[2]
    assert bench.main(["--profile", "--quick", "--cells", "gru", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "gru at (T,B,I,H) = (8, 3, 5, 6)" in out and out.count("the rest") == 2
