"""Memory tasks, the many-to-one regressor, and the gradient-flow tools of Part II."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook import SGD, check_gradients
from rnnbook.analysis.experiments import lag_sweep, solved_fraction, train_on_lag
from rnnbook.analysis.gradients import (
    GAMMA,
    gradient_norm_by_lag,
    pascanu_bound,
    random_orthogonal,
    rescale_to_singular_value,
    state_jacobians,
    truncated_backprop_through_time,
)
from rnnbook.data.synthetic import BASELINE_MSE, adding_problem, copy_task
from rnnbook.layers.base import init_params
from rnnbook.layers.rnn import Trace, backprop_through_time, unroll
from rnnbook.models.regressor import SequenceRegressor
from rnnbook.training.loop import train_regressor

# -- the adding problem ------------------------------------------------------------


@pytest.mark.parametrize("n, length", [(1, 2), (5, 3), (7, 10), (4, 51)])
def test_adding_problem_shapes_and_markers(n, length):
    x, y = adding_problem(n, length, rng=0)
    assert x.shape == (length, n, 2) and y.shape == (n,)
    values, markers = x[..., 0], x[..., 1]
    assert set(np.unique(markers)) <= {0.0, 1.0}
    half = length // 2
    # exactly one marker in each half, for every sequence
    np.testing.assert_array_equal(markers[:half].sum(axis=0), np.ones(n))
    np.testing.assert_array_equal(markers[half:].sum(axis=0), np.ones(n))
    assert values.min() >= 0 and values.max() <= 1
    np.testing.assert_allclose(y, (values * markers).sum(axis=0), rtol=1e-12)


def test_adding_problem_statistics():
    # the target is the sum of two independent U[0, 1]: mean 1, variance 2/12
    _, y = adding_problem(20000, 20, rng=3)
    assert abs(y.mean() - 1.0) < 0.02
    assert abs(np.mean((y - 1.0) ** 2) - BASELINE_MSE) < 0.01
    assert BASELINE_MSE == pytest.approx(2 / 12)


def test_adding_problem_is_deterministic_and_keeps_dtype():
    a = adding_problem(4, 9, rng=5)
    b = adding_problem(4, 9, rng=np.random.default_rng(5))
    c = adding_problem(4, 9, rng=6)
    assert all(np.array_equal(p, q) for p, q in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])
    x, y = adding_problem(4, 9, rng=5, dtype=np.float32)
    assert x.dtype == np.float32 and y.dtype == np.float32


def test_adding_problem_markers_reach_both_ends():
    # over many draws the first marker can be at step 0 and the second at the last step
    x, _ = adding_problem(2000, 8, rng=1)
    assert x[0, :, 1].any() and x[-1, :, 1].any()
    assert (x[:4, :, 1].sum(axis=0) == 1).all()


@pytest.mark.parametrize(
    "args, kwargs, error, message",
    [
        ((0, 10), {"rng": 0}, ValueError, "n_sequences must be a positive integer, got 0"),
        ((3, 1), {"rng": 0}, ValueError, "length must be at least 2"),
        ((3, 2.5), {"rng": 0}, TypeError, "length must be a positive integer"),
        ((3, 10), {"rng": "x"}, TypeError, "rng must be a numpy.random.Generator"),
        ((3, 10), {"rng": 0, "dtype": np.int64}, TypeError, "dtype must be float32 or float64"),
    ],
)
def test_adding_problem_rejects_bad_input(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        adding_problem(*args, **kwargs)


# -- the copy task -------------------------------------------------------------------


def test_copy_task_layout():
    n_remember, lag, k = 3, 5, 4
    x, y = copy_task(6, n_remember, lag, k, rng=0)
    length = 2 * n_remember + lag - 1
    assert x.shape == (length, 6, k + 2) and y.shape == (length, 6)
    symbols = x.argmax(axis=-1)
    np.testing.assert_array_equal(y[-n_remember:], symbols[:n_remember])  # the string comes back
    assert (y[:-n_remember] == 0).all()
    assert (symbols[n_remember + lag - 1] == k + 1).all()  # the go signal
    assert ((symbols[:n_remember] >= 1) & (symbols[:n_remember] <= k)).all()


def test_copy_task_rejects_bad_input():
    with pytest.raises(ValueError, match="lag must be a positive integer, got 0"):
        copy_task(2, 3, 0, rng=0)
    with pytest.raises(TypeError, match="n_remember must be a positive integer"):
        copy_task(2, "3", 4, rng=0)


# -- the regressor ---------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(1, 1, 1), (2, 3, 4), (7, 2, 5)])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_regressor_gradients(shape, activation, rng):
    steps, batch, hidden = shape
    model = SequenceRegressor(2, hidden, activation=activation, rng=rng)
    x = rng.uniform(size=(steps, batch, 2))
    y = rng.uniform(0, 2, size=batch)
    _, grads = model.loss_and_grads(x, y)
    errors = check_gradients(lambda: model.loss_and_grads(x, y)[0], model.params, grads)
    assert set(errors) == set(model.params)
    assert max(errors.values()) < 1e-6, errors


def test_regressor_loss_is_mse_of_predictions(rng):
    model = SequenceRegressor(2, 4, rng=rng)
    x, y = adding_problem(6, 8, rng=rng)
    loss, _ = model.loss_and_grads(x, y)
    assert loss == pytest.approx(np.mean((model.predict(x) - y) ** 2), rel=1e-12)


def test_regressor_dtype_and_seed(rng):
    model = SequenceRegressor(2, 4, rng=3, dtype=np.float32)
    x, y = adding_problem(5, 6, rng=0, dtype=np.float32)
    loss, grads = model.loss_and_grads(x, y)
    assert model.predict(x).dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())
    again = SequenceRegressor(2, 4, rng=3, dtype=np.float32)
    assert all(np.array_equal(again.params[k], model.params[k]) for k in model.params)


def test_regressor_rejects_bad_input(rng):
    with pytest.raises(ValueError, match="cell must be one of"):
        SequenceRegressor(2, 4, cell="transformer", rng=0)
    with pytest.raises(ValueError, match="hidden_size must be a positive integer, got 0"):
        SequenceRegressor(2, 0, rng=0)
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        SequenceRegressor(2, 3, rng=0, dtype=np.int32)
    model = SequenceRegressor(2, 4, rng=0)
    x, y = adding_problem(5, 6, rng=0)
    with pytest.raises(ValueError, match=r"y must have shape \(5,\), got \(4,\)"):
        model.loss_and_grads(x, y[:4])
    with pytest.raises(ValueError, match=r"x must have shape \(\*, \*, 2\)"):
        model.predict(np.zeros((6, 5, 3)))
    with pytest.raises(TypeError, match="y must have dtype float64"):
        model.loss_and_grads(x, y.astype(np.float32))


# -- training ----------------------------------------------------------------------------


def test_short_lag_is_learned_and_beats_the_baseline():
    # at lag 6 the marked values are close to the answer: a small RNN must beat "always 1" clearly
    result = train_on_lag(6, hidden_size=16, n_train=2000, epochs=20, rng=0)
    assert result.test_mse < BASELINE_MSE / 4, result.test_mse
    assert result.solved > 0.2
    assert result.log.losses[-1] < result.log.losses[0]
    assert len(result.log.losses) == len(result.log.grad_norms) == 20 * 40


def test_lag_sweep_is_reproducible_and_independent_of_the_other_lags():
    small = dict(hidden_size=4, n_train=100, n_test=50, epochs=1)
    a = lag_sweep([4, 8], seed=1, **small)
    b = lag_sweep([8], seed=1, **small)
    assert [r.lag for r in a] == [4, 8]
    assert a[1].test_mse == b[0].test_mse


def test_train_regressor_stops_cleanly_on_nan(rng):
    model = SequenceRegressor(2, 4, rng=rng)
    x, y = adding_problem(20, 6, rng=rng)
    model.params["rnn.weight_hh"][...] = 1e200  # the state saturates, the gradient overflows
    model.params["readout.weight"][...] = 1e200
    with np.errstate(all="ignore"):
        log = train_regressor(model, x, y, SGD(0.1), epochs=2, batch_size=10, rng=0)
    assert log.diverged and len(log.losses) == 1
    assert not np.isfinite(log.grad_norms[0]) or not np.isfinite(log.losses[0])


def test_training_with_clipping_never_exceeds_the_norm_in_the_step(rng):
    model = SequenceRegressor(2, 4, rng=rng)
    x, y = adding_problem(40, 6, rng=rng)
    before = {k: v.copy() for k, v in model.params.items()}
    lr, max_norm = 0.5, 0.01
    log = train_regressor(model, x, y, SGD(lr), epochs=1, batch_size=40, rng=0, max_norm=max_norm)
    moved = np.sqrt(sum(np.sum((model.params[k] - before[k]) ** 2) for k in before))
    assert log.grad_norms[0] > max_norm  # clipping was active ...
    assert moved <= lr * max_norm * (1 + 1e-9)  # ... so the step is at most lr * max_norm long


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: train_on_lag(0, rng=0), ValueError, "lag must be a positive integer, got 0"),
        (lambda: train_on_lag(5, optimizer="rmsprop", rng=0), ValueError, "optimizer must be one of"),
        (lambda: train_on_lag(5, lr=-1.0, rng=0), ValueError, "lr must be a finite number > 0"),
        (lambda: train_on_lag(5, max_norm=0.0, rng=0, epochs=1, n_train=10), ValueError, "max_norm must be"),
        (lambda: lag_sweep([]), TypeError, "lags must be a non-empty sequence"),
        (lambda: lag_sweep("10"), TypeError, "lags must be a non-empty sequence"),
        (lambda: lag_sweep([5, -2]), ValueError, "lag must be a positive integer, got -2"),
        (lambda: lag_sweep([5], seed=-1), TypeError, "seed must be a non-negative integer"),
        (lambda: solved_fraction(np.zeros(3), np.zeros(4)), ValueError, r"targets must have shape \(3,\)"),
        (lambda: solved_fraction(np.zeros(3), np.zeros(3), tolerance=0), ValueError, "tolerance must be"),
    ],
)
def test_training_helpers_reject_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_solved_fraction_counts_answers_within_tolerance():
    pred = np.array([1.0, 1.03, 1.05, 0.5])
    target = np.ones(4)
    assert solved_fraction(pred, target) == 0.5
    assert solved_fraction(pred, target, tolerance=0.6) == 1.0


# -- gradient flow ---------------------------------------------------------------------------


def numerical_state_jacobian(params, x, state_k, k, activation, eps=1e-6):
    """dh_T/dh_k by central differences: perturb h_k, rerun steps k+1..T (one sequence, B=1)."""
    hidden = state_k.shape[1]
    jac = np.empty((hidden, hidden))
    for j in range(hidden):
        plus, minus = state_k.copy(), state_k.copy()
        plus[0, j] += eps
        minus[0, j] -= eps
        up = unroll(params, x[k:], plus, activation)[0][-1, 0]
        down = unroll(params, x[k:], minus, activation)[0][-1, 0]
        jac[:, j] = (up - down) / (2 * eps)
    return jac


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("ord", [2, "fro"])
def test_gradient_norm_by_lag_matches_finite_differences(activation, ord, rng):
    steps, hidden = 6, 3
    params = init_params(2, hidden, rng=rng)
    params["weight_hh"] = rescale_to_singular_value(rng.normal(size=(hidden, hidden)), 1.3)
    x = rng.normal(size=(steps, 1, 2))
    state0 = rng.normal(size=(1, hidden)) * 0.3
    norms = gradient_norm_by_lag(params, x, state0, activation, ord=ord)
    assert norms.shape == (steps + 1, 1)
    states, _ = unroll(params, x, state0, activation)
    all_states = np.concatenate([state0[None], states])  # h_0 .. h_T
    for lag in range(1, steps + 1):
        k = steps - lag
        numeric = numerical_state_jacobian(params, x, all_states[k], k, activation)
        assert norms[lag, 0] == pytest.approx(np.linalg.norm(numeric, ord=ord), rel=1e-6, abs=1e-9)
    assert norms[0, 0] == pytest.approx(np.linalg.norm(np.eye(hidden), ord=ord))


def test_state_jacobians_are_diag_fprime_times_w(rng):
    params = init_params(2, 4, rng=rng)
    x = rng.normal(size=(3, 2, 2))
    jac = state_jacobians(params, x)
    states, _ = unroll(params, x)
    assert jac.shape == (3, 2, 4, 4)
    np.testing.assert_allclose(jac[1, 0], np.diag(1 - states[1, 0] ** 2) @ params["weight_hh"], rtol=1e-12)


def test_linear_case_is_the_power_of_w(rng):
    # With zero input, zero biases and zero state, tanh stays at 0 where tanh' = 1:
    # dh_T/dh_k = W^(T-k) exactly, and for s * (a rotation) its norm is s^(T-k).
    hidden, steps, s = 5, 12, 1.1
    params = {
        "weight_ih": np.zeros((hidden, 1)),
        "weight_hh": s * random_orthogonal(hidden, rng=rng),
        "bias_ih": np.zeros(hidden),
        "bias_hh": np.zeros(hidden),
    }
    norms = gradient_norm_by_lag(params, np.zeros((steps, 1, 1)))
    np.testing.assert_allclose(norms[:, 0], s ** np.arange(steps + 1), rtol=1e-10)
    np.testing.assert_allclose(norms[:, 0], pascanu_bound(params["weight_hh"], steps), rtol=1e-10)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("singular_value", [0.5, 0.9, 1.0, 1.1, 1.5, 4.0])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_pascanu_bound_holds(seed, singular_value, activation):
    rng = np.random.default_rng(seed)
    hidden, steps, batch = 8, 25, 4
    params = init_params(3, hidden, rng=rng)
    params["weight_hh"] = rescale_to_singular_value(rng.normal(size=(hidden, hidden)), singular_value)
    x = rng.normal(size=(steps, batch, 3))
    norms = gradient_norm_by_lag(params, x, rng.normal(size=(batch, hidden)), activation)
    bound = pascanu_bound(params["weight_hh"], steps, activation)
    assert bound[1] == pytest.approx(GAMMA[activation] * singular_value)
    assert (norms <= bound[:, None] * (1 + 1e-10)).all(), (norms / bound[:, None]).max()
    if GAMMA[activation] * singular_value < 1:  # below 1/gamma the gradient must vanish
        assert norms[-1].max() <= (GAMMA[activation] * singular_value) ** steps * (1 + 1e-10)


def test_the_bound_is_not_vacuous():
    # a matrix the bound is tight for (s times a rotation, linear regime) hits it; the test above could fail
    w = 0.9 * random_orthogonal(6, rng=0)
    params = {"weight_ih": np.zeros((6, 1)), "weight_hh": w, "bias_ih": np.zeros(6), "bias_hh": np.zeros(6)}
    norms = gradient_norm_by_lag(params, np.zeros((10, 1, 1)), activation="tanh")
    assert (norms[:, 0] / pascanu_bound(w, 10)).min() > 1 - 1e-9
    # gamma is the largest slope: tanh'(0) = 1, sigmoid'(0) = 1/4
    assert GAMMA == {"tanh": 1.0, "sigmoid": 0.25, "relu": 1.0}


def test_rescale_and_orthogonal(rng):
    w = rng.normal(size=(5, 5))
    for s in (0.5, 1.0, 1.5):
        scaled = rescale_to_singular_value(w, s)
        assert np.linalg.svd(scaled, compute_uv=False)[0] == pytest.approx(s)
        np.testing.assert_allclose(scaled / s, w / np.linalg.norm(w, 2), rtol=1e-12)  # direction kept
    q = random_orthogonal(6, rng=3)
    np.testing.assert_allclose(q @ q.T, np.eye(6), atol=1e-12)
    assert np.array_equal(q, random_orthogonal(6, rng=3))
    assert rescale_to_singular_value(w.astype(np.float32), 2.0).dtype == np.float32


def test_truncated_bptt_equals_full_when_the_window_covers_the_sequence(rng):
    params = init_params(2, 3, rng=rng)
    x = rng.normal(size=(7, 2, 2))
    states, trace = unroll(params, x)
    dstates = rng.normal(size=states.shape)
    full, dx_full, _ = backprop_through_time(params, trace, dstates)
    for window in (7, 10):
        grads, dx = truncated_backprop_through_time(params, trace, dstates, window)
        for name in full:
            np.testing.assert_allclose(grads[name], full[name], rtol=1e-12)
        np.testing.assert_allclose(dx, dx_full, rtol=1e-12)


def test_truncated_bptt_cuts_the_gradient_at_the_window(rng):
    # only the last state feeds the loss: with window 3, inputs older than 3 steps get no gradient
    params = init_params(2, 3, rng=rng)
    x = rng.normal(size=(8, 1, 2))
    states, trace = unroll(params, x)
    dstates = np.zeros_like(states)
    dstates[-1] = 1.0
    grads, dx = truncated_backprop_through_time(params, trace, dstates, 3)
    # chunks: [0,3) [3,6) [6,8): the last chunk is steps 6 and 7
    assert np.all(dx[:6] == 0) and np.abs(dx[6:]).min() > 0
    # and equals exact BPTT run on the last chunk alone, starting from h_6 as a constant
    chunk = Trace(x=x[6:], state0=states[5], states=states[6:], activation="tanh")
    exact, dx_chunk, _ = backprop_through_time(params, chunk, dstates[6:])
    np.testing.assert_allclose(dx[6:], dx_chunk, rtol=1e-12)
    np.testing.assert_allclose(grads["weight_hh"], exact["weight_hh"], rtol=1e-12)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda p, x: gradient_norm_by_lag(p, x[..., :1]), ValueError, r"x must have shape \(\*, \*, 2\)"),
        (lambda p, x: gradient_norm_by_lag(p, x, ord=1), ValueError, "ord must be 2"),
        (lambda p, x: gradient_norm_by_lag(p, x, activation="gelu"), ValueError, "activation must be one of"),
        (lambda p, x: state_jacobians(p, x.astype(np.float32)), TypeError, "x must have dtype float64"),
        (lambda p, x: state_jacobians({"weight_hh": p["weight_hh"]}, x), ValueError, "params is missing"),
        (lambda p, x: rescale_to_singular_value(np.zeros((3, 3)), 1.0), ValueError, "all zeros"),
        (lambda p, x: rescale_to_singular_value(p["weight_hh"], -1.0), ValueError, "singular_value must be"),
        (lambda p, x: rescale_to_singular_value([[1.0]], 1.0), TypeError, "weight must be a numpy array"),
        (lambda p, x: pascanu_bound(p["weight_ih"], 3), ValueError, r"weight_hh must be square"),
        (lambda p, x: pascanu_bound(p["weight_hh"], -1), ValueError, "lags must be >= 0"),
        (lambda p, x: pascanu_bound(p["weight_hh"], 2.5), TypeError, "lags must be an int"),
        (lambda p, x: pascanu_bound(p["weight_hh"], np.array([1, -2])), ValueError, "lags must be >= 0"),
        (lambda p, x: pascanu_bound(p["weight_hh"], 3, "softsign"), ValueError, "activation must be one of"),
        (lambda p, x: random_orthogonal(0, rng=0), ValueError, "size must be a positive integer"),
        (lambda p, x: random_orthogonal(3, rng=0, dtype=np.int8), TypeError, "dtype must be float32"),
        (lambda p, x: truncated_backprop_through_time(p, "trace", np.zeros((4, 2, 3)), 2), TypeError, "trace"),
        (lambda p, x: truncated_backprop_through_time(p, unroll(p, x)[1], np.zeros((4, 2, 3)), 0),
         ValueError, "window must be a positive integer"),
        (lambda p, x: truncated_backprop_through_time(p, unroll(p, x)[1], np.zeros((4, 2, 2)), 2),
         ValueError, r"dstates must have shape \(4, 2, 3\)"),
    ],
)
def test_gradient_tools_reject_bad_input(call, error, message, rng):
    params = init_params(2, 3, rng=rng)
    x = rng.normal(size=(4, 2, 2))
    with pytest.raises(error, match=message):
        call(params, x)


def test_pascanu_bound_accepts_arrays_of_lags(rng):
    w = rescale_to_singular_value(rng.normal(size=(4, 4)), 0.5)
    np.testing.assert_allclose(pascanu_bound(w, np.array([[0, 2], [4, 1]]), "sigmoid"),
                               np.array([[1, 0.125**2], [0.125**4, 0.125]]), rtol=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_regressor_gradients_for_every_cell(cell, rng):
    model = SequenceRegressor(2, 3, cell=cell, rng=rng)
    x, y = adding_problem(2, 5, rng=rng)
    _, grads = model.loss_and_grads(x, y)
    errors = check_gradients(lambda: model.loss_and_grads(x, y)[0], model.params, grads)
    assert set(errors) == set(model.params)
    assert max(errors.values()) < 1e-6, errors
