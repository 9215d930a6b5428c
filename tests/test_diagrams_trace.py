"""rnnbook.diagrams (rolled and unrolled drawings) and rnnbook.trace (hand traces, parameter counts)."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook import RNN, SequenceClassifier
from rnnbook.analysis.trace import (
    StateTrace,
    chain_parameter_count,
    count_parameters,
    format_trace,
    pulse_response,
    trace_states,
)
from rnnbook.layers.base import init_params
from rnnbook.layers.rnn import unroll

plt = pytest.importorskip("matplotlib.pyplot", reason="the diagram tests need matplotlib (rnnbook[plot])")
from rnnbook.analysis import diagrams  # noqa: E402  (after the importorskip: it draws with matplotlib)


@pytest.fixture
def close_figures():
    yield
    plt.close("all")


def small_params() -> dict[str, np.ndarray]:
    """Two units, one input: numbers small enough to check by hand."""
    return {
        "weight_ih": np.array([[0.5], [-0.3]]),
        "weight_hh": np.array([[0.6, -0.4], [0.2, 0.5]]),
        "bias_ih": np.array([0.1, 0.0]),
        "bias_hh": np.array([0.0, 0.1]),
    }


# -- diagrams --------------------------------------------------------------------------

def test_rolled_has_one_box(close_figures):
    fig = diagrams.draw_rolled()
    assert len(diagrams.cell_boxes(fig)) == 1


@pytest.mark.parametrize("steps", [1, 3, diagrams.MAX_DRAWN_STEPS])
def test_unrolled_has_one_box_per_step(steps, close_figures):
    fig = diagrams.draw_unrolled(steps)
    boxes = diagrams.cell_boxes(fig)
    assert len(boxes) == steps
    # the copies stand in a row, left to right, equally spaced
    xs = [box.get_x() for box in boxes]
    assert xs == sorted(xs)
    assert np.allclose(np.diff(xs), xs[1] - xs[0] if steps > 1 else 0)


@pytest.mark.parametrize("steps", [1, 4, 7])
def test_rolled_and_unrolled_has_one_more_box(steps, close_figures):
    fig = diagrams.draw_rolled_and_unrolled(steps)
    assert len(diagrams.cell_boxes(fig)) == steps + 1


def test_shared_copies_look_alike_and_separate_ones_do_not(close_figures):
    shared = {tuple(b.get_facecolor()) for b in diagrams.cell_boxes(diagrams.draw_unrolled(4))}
    separate = {tuple(b.get_facecolor()) for b in diagrams.cell_boxes(diagrams.draw_unrolled(4, shared=False))}
    assert len(shared) == 1
    assert len(separate) == 4


def test_drawing_into_given_axes_uses_its_figure(close_figures):
    fig, (left, right) = plt.subplots(1, 2)
    assert diagrams.draw_rolled(left) is fig
    assert diagrams.draw_unrolled(3, right, label="B") is fig
    assert len(diagrams.cell_boxes(fig)) == 4
    assert "B" in [text.get_text() for text in right.texts]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: diagrams.draw_unrolled(0), ValueError, "positive integer"),
        (lambda: diagrams.draw_unrolled(diagrams.MAX_DRAWN_STEPS + 1), ValueError, "at most"),
        (lambda: diagrams.draw_unrolled(2.0), TypeError, "positive integer"),
        (lambda: diagrams.draw_unrolled(True), TypeError, "positive integer"),
        (lambda: diagrams.draw_unrolled(3, shared="yes"), TypeError, "shared"),
        (lambda: diagrams.draw_unrolled(3, ax="left"), TypeError, "Axes"),
        (lambda: diagrams.draw_rolled(label=3), TypeError, "label"),
        (lambda: diagrams.draw_rolled_and_unrolled(-1), ValueError, "positive integer"),
        (lambda: diagrams.cell_boxes("figure"), TypeError, "Figure"),
    ],
)
def test_diagrams_refuse_bad_input(call, error, match, close_figures):
    with pytest.raises(error, match=match):
        call()


# -- parameter counts ------------------------------------------------------------------

@pytest.mark.parametrize(("inputs", "hidden"), [(1, 1), (3, 5), (10, 20), (65, 100)])
def test_count_matches_the_hand_formula(inputs, hidden):
    params = init_params(inputs, hidden, rng=0)
    # by hand: an (H, I) and an (H, H) matrix and two vectors of H
    assert count_parameters(params) == hidden * inputs + hidden * hidden + 2 * hidden
    assert chain_parameter_count(inputs, hidden) == count_parameters(params)


def test_count_does_not_grow_with_length_unless_weights_are_separate():
    one = chain_parameter_count(3, 5)
    assert one == 5 * 3 + 5 * 5 + 2 * 5
    for steps in (1, 10, 1000):
        assert chain_parameter_count(3, 5, steps) == one
        assert chain_parameter_count(3, 5, steps, shared=False) == steps * one


def test_count_of_a_model_covers_every_array():
    model = SequenceClassifier(4, 16, 4, rng=0)
    # recurrent layer + read-out (4 x 16 weights and 4 biases)
    assert count_parameters(model.params) == chain_parameter_count(4, 16) + 4 * 16 + 4


@pytest.mark.parametrize(("inputs", "hidden"), [(1, 1), (3, 5), (7, 16)])
def test_count_matches_torch_rnn(torch, inputs, hidden):
    layer = RNN(inputs, hidden, rng=0)
    reference = torch.nn.RNN(inputs, hidden)
    assert count_parameters(layer.params) == sum(p.numel() for p in reference.parameters())
    # and the arrays are the same ones, name by name
    assert {k: tuple(v.shape) for k, v in layer.params.items()} == {
        name.removesuffix("_l0"): tuple(p.shape) for name, p in reference.named_parameters()
    }


def test_count_matches_torch_lstm_and_gru(torch):
    for gates, module in ((4, torch.nn.LSTM), (3, torch.nn.GRU)):
        params = init_params(3, 5, rng=0, gates=gates)
        assert count_parameters(params) == sum(p.numel() for p in module(3, 5).parameters())


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: count_parameters([np.zeros(3)]), TypeError, "dict"),
        (lambda: count_parameters({}), ValueError, "empty"),
        (lambda: count_parameters({"w": [1.0, 2.0]}), TypeError, "numpy array"),
        (lambda: count_parameters({"w": np.zeros(3, dtype=np.int64)}), TypeError, "float"),
        (lambda: chain_parameter_count(0, 5), ValueError, "input_size"),
        (lambda: chain_parameter_count(3, 2.5), TypeError, "hidden_size"),
        (lambda: chain_parameter_count(3, 5, 0), ValueError, "steps"),
        (lambda: chain_parameter_count(3, 5, 2, shared=1), TypeError, "shared"),
    ],
)
def test_counts_refuse_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- hand traces -----------------------------------------------------------------------

def test_first_step_by_hand():
    trace = trace_states(small_params(), np.array([[1.0], [0.0]]))
    # h_0 = 0, so a_1 = W_l x_1 + b = (0.5, -0.3) + (0.1, 0.1)
    assert np.allclose(trace.preactivation[0], [0.6, -0.2])
    assert np.allclose(trace.states[0], np.tanh([0.6, -0.2]))
    # step 2: no input, a_2 = W h_1 + b
    s1 = np.tanh([0.6, -0.2])
    assert np.allclose(trace.memory_part[1], [0.6 * s1[0] - 0.4 * s1[1], 0.2 * s1[0] + 0.5 * s1[1]])
    assert np.allclose(trace.states[1], np.tanh(trace.memory_part[1] + [0.1, 0.1]))


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_trace_agrees_with_unroll(activation, rng):
    params = init_params(3, 4, rng=rng)
    x = rng.normal(size=(6, 3))
    state0 = rng.normal(size=4)
    trace = trace_states(params, x, state0, activation)
    states, _ = unroll(params, x[:, None, :], state0[None, :], activation)
    np.testing.assert_allclose(trace.states, states[:, 0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(trace.preactivation, trace.input_part + trace.memory_part + trace.bias)
    np.testing.assert_allclose(trace.memory_part[1:], trace.states[:-1] @ params["weight_hh"].T)


def test_format_trace_has_a_row_per_step_and_the_numbers():
    trace = trace_states(small_params(), np.array([[1.0], [0.0], [0.0], [1.0]]))
    table = format_trace(trace, digits=3)
    lines = table.splitlines()
    assert len(lines) == 2 + 1 + 4  # header, rule, h_0, four steps
    assert all(line.startswith("|") and line.endswith("|") for line in lines)
    assert {line.count("|") for line in lines} == {8}  # seven columns on every line
    assert f"{np.tanh(0.6):.3f}" in lines[3]
    text = format_trace(trace, digits=2, style="text")
    assert len(text.splitlines()) == 1 + 1 + 4
    assert "tanh" in text.splitlines()[0] and "$" not in text


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: trace_states(small_params(), np.zeros((3, 2))), ValueError, "x must have shape"),
        (lambda: trace_states(small_params(), np.zeros((3, 1, 1))), ValueError, "2 dimensions"),
        (lambda: trace_states(small_params(), np.zeros((3, 1), dtype=np.float32)), TypeError, "dtype"),
        (lambda: trace_states(small_params(), np.zeros((3, 1)), np.zeros(3)), ValueError, "state0"),
        (lambda: trace_states(small_params(), np.zeros((3, 1)), activation="cos"), ValueError, "activation"),
        (lambda: trace_states({"weight_ih": np.zeros((2, 1))}, np.zeros((3, 1))), ValueError, "missing"),
        (lambda: format_trace("a table"), TypeError, "StateTrace"),
        (lambda: format_trace(trace_states(small_params(), np.zeros((2, 1))), digits=0), ValueError, "digits"),
        (lambda: format_trace(trace_states(small_params(), np.zeros((2, 1))), style="html"), ValueError, "style"),
    ],
)
def test_trace_refuses_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_trace_is_a_state_trace():
    assert isinstance(trace_states(small_params(), np.zeros((2, 1))), StateTrace)


# -- the response to one pulse ---------------------------------------------------------

def test_relu_pulse_grows_by_the_eigenvalue():
    # W = 1.2 I and no bias: after the pulse every step multiplies the state by 1.2 exactly
    params = {"weight_ih": np.array([[1.0], [0.5]]), "weight_hh": 1.2 * np.eye(2),
              "bias_ih": np.zeros(2), "bias_hh": np.zeros(2)}
    states = pulse_response(params, np.array([1.0]), 10, "relu")
    np.testing.assert_allclose(states, 1.2 ** np.arange(10)[:, None] * [1.0, 0.5])


def test_tanh_pulse_decays_or_saturates():
    small = {"weight_ih": np.array([[1.0]]), "weight_hh": np.array([[0.5]]),
             "bias_ih": np.zeros(1), "bias_hh": np.zeros(1)}
    decaying = pulse_response(small, np.array([1.0]), 30)[:, 0]
    assert np.all(np.diff(decaying) < 0) and decaying[-1] < 0.5 ** 20  # |tanh(a)| < |a|: faster than 0.5^t
    large = dict(small, weight_hh=np.array([[2.0]]))
    saturating = pulse_response(large, np.array([1.0]), 30)[:, 0]
    # the fixed point s = tanh(2 s), s > 0, lies between 0.95 and 0.96, and the state stays below 1
    assert np.all(saturating < 1) and 0.95 < saturating[-1] < 0.96


def test_sigmoid_forgets_the_pulse():
    params = init_params(1, 3, rng=0)
    with_pulse = pulse_response(params, np.array([1.0]), 40, "sigmoid")
    without = pulse_response(params, np.array([0.0]), 40, "sigmoid")
    assert np.all(with_pulse > 0) and np.all(with_pulse < 1)
    # sigmoid' <= 1/4, and a 3 x 3 matrix with entries below 1/sqrt(3) has a largest singular value
    # below sqrt(3): each step shrinks the difference by at least 0.44, and 0.44**39 < 1e-13
    assert np.abs(with_pulse[-1] - without[-1]).max() < 1e-12


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: pulse_response(small_params(), np.zeros(2), 5), ValueError, "pulse"),
        (lambda: pulse_response(small_params(), np.array([np.nan]), 5), ValueError, "finite"),
        (lambda: pulse_response(small_params(), np.zeros(1), 0), ValueError, "steps"),
        (lambda: pulse_response(small_params(), np.zeros(1), 5, "step"), ValueError, "activation"),
    ],
)
def test_pulse_response_refuses_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
