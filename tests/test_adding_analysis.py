"""The adding-problem analysis of chapters 5 and 6: memoryless baseline, probe, seed sweeps, measured curves."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook.analysis.adding import marked_value_sensitivity, memoryless_baseline, memoryless_mse
from rnnbook.analysis.experiments import seed_sweep, train_on_lag
from rnnbook.analysis.gradients import measured_lag_curves
from rnnbook.data.synthetic import adding_problem


class ExactAdder:
    """Adds the two marked values: what a perfect network would answer."""

    def predict(self, x):
        return (x[..., 0] * x[..., 1]).sum(axis=0)


class LastMarkedOnly:
    """Remembers nothing but the last marked value it saw (it overwrites the first)."""

    def predict(self, x):
        marked = x[..., 1] > 0
        last = x.shape[0] - 1 - np.argmax(marked[::-1], axis=0)
        return x[last, np.arange(x.shape[1]), 0] + 0.5


def test_memoryless_mse_is_the_mixture_of_the_two_cases():
    # T = 10: the second marker falls on the last step one time in five;
    # then the error is the first value's variance 1/12, else the sum's variance 1/6.
    assert memoryless_mse(10) == pytest.approx(0.2 / 12 + 0.8 / 6)
    assert memoryless_mse(2) == pytest.approx(1 / 12)  # the last step is always marked
    # Longer sequences: the last step is rarely marked, so the baseline approaches 1/6.
    assert memoryless_mse(10) < memoryless_mse(50) < 1 / 6


def test_memoryless_baseline_reaches_its_expected_value_and_beats_always_one():
    x_train, y_train = adding_problem(20000, 10, rng=0)
    x_test, y_test = adding_problem(20000, 10, rng=1)
    fitted = memoryless_baseline(x_train, y_train, x_test, y_test)
    assert fitted == pytest.approx(memoryless_mse(10), abs=0.005)
    assert fitted < np.mean((1.0 - y_test) ** 2)


def test_memoryless_rejects_bad_input():
    with pytest.raises(ValueError, match="length must be at least 2"):
        memoryless_mse(1)
    x, y = adding_problem(5, 4, rng=0)
    with pytest.raises(ValueError, match="2 features per step"):
        memoryless_baseline(np.zeros((4, 5, 3)), y, x, y)


def test_marked_value_sensitivity_tells_an_adder_from_a_forgetter():
    x, _ = adding_problem(50, 12, rng=2)
    np.testing.assert_allclose(marked_value_sensitivity(ExactAdder(), x), 1.0, rtol=1e-9)
    forgetter = marked_value_sensitivity(LastMarkedOnly(), x)
    np.testing.assert_allclose(forgetter[0], 0.0, atol=1e-9)
    np.testing.assert_allclose(forgetter[1], 1.0, rtol=1e-9)


def test_marked_value_sensitivity_needs_two_markers():
    x, _ = adding_problem(3, 6, rng=0)
    x[:, 0, 1] = 0.0
    with pytest.raises(ValueError, match="exactly two marked steps"):
        marked_value_sensitivity(ExactAdder(), x)


def test_seed_sweep_runs_every_lag_with_every_seed_as_train_on_lag_would():
    settings = dict(hidden_size=4, n_train=40, n_test=20, epochs=1, batch_size=20)
    sweep = seed_sweep([3, 5], [0, 2], **settings)
    assert sweep.test_mse().shape == (2, 2) and sweep.solved().shape == (2, 2)
    alone = train_on_lag(5, rng=np.random.default_rng([2, 5]), **settings)
    assert sweep.runs[1][1].test_mse == alone.test_mse


@pytest.mark.parametrize("seeds", [[-1], [1.5], "01", []])
def test_seed_sweep_rejects_bad_seeds(seeds):
    with pytest.raises(TypeError, match="seed"):
        seed_sweep([3], seeds, hidden_size=2, n_train=4, n_test=2, epochs=1)


def test_measured_lag_curves_start_at_one_and_stay_under_the_bound():
    scales = [0.5, 1.0, 1.5]
    curves = measured_lag_curves(scales, hidden_size=8, steps=30, batch=4, rng=0)
    assert curves.shape == (3, 31)
    np.testing.assert_allclose(curves[:, 0], 1.0)
    for s, curve in zip(scales, curves, strict=True):
        assert np.all(curve <= s ** np.arange(31) * (1 + 1e-12))
    assert curves[0, 30] < 1e-6 < curves[2, 30]  # 0.5 vanishes, 1.5 does not


def test_measured_lag_curves_rejects_a_bad_scale():
    with pytest.raises(ValueError, match="scale"):
        measured_lag_curves([0.0], rng=0)
