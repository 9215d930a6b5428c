"""The fast layers compute exactly what the readable reference cells compute: forward, every gradient, each step.

The reference cells (rnnbook.layers.reference) are the book's equations, one
line each; the fast layers reorder, batch and fuse the same arithmetic.  In
float64 the two must agree to 1e-10, from a non-zero initial state and with a
gradient arriving at the final state as well as at every output.
"""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook.layers import reference
from rnnbook.layers.gru import GRU
from rnnbook.layers.lstm import LSTM
from rnnbook.layers.rnn import RNN

STEPS, BATCH, N_IN, HIDDEN = 6, 3, 4, 5


def assert_equal_to_1e10(fast, ref, what):
    np.testing.assert_allclose(fast, ref, rtol=1e-10, atol=1e-10, err_msg=what)


def random_params(layer, rng):
    """Weights larger than torch's initialisation, so every gate is far from its linear middle."""
    for value in layer.params.values():
        value[...] = rng.normal(scale=0.7, size=value.shape)
    return layer.params


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_rnn_equals_its_reference(activation, rng):
    layer = RNN(N_IN, HIDDEN, activation, rng=0)
    params = random_params(layer, rng)
    x = rng.normal(size=(STEPS, BATCH, N_IN))
    h0 = rng.normal(size=(BATCH, HIDDEN))
    dstates, dfinal = rng.normal(size=(STEPS, BATCH, HIDDEN)), rng.normal(size=(BATCH, HIDDEN))

    states, trace = layer.forward(x, h0)
    grads, dx, dh0 = layer.backprop(trace, dstates, dfinal)
    ref_states, cache = reference.rnn_forward(params, x, h0, activation)
    ref_grads, ref_dx, ref_dh0 = reference.rnn_backward(params, cache, dstates, dfinal)

    assert_equal_to_1e10(states, ref_states, "states")
    assert set(grads) == set(ref_grads) == set(params)
    for name in params:
        assert_equal_to_1e10(grads[name], ref_grads[name], name)
    assert_equal_to_1e10(dx, ref_dx, "dx")
    assert_equal_to_1e10(dh0, ref_dh0, "dh0")
    assert_equal_to_1e10(layer.step(x[0], h0)[0], reference.rnn_step(params, x[0], h0, activation), "step")


def test_lstm_equals_its_reference(rng):
    layer = LSTM(N_IN, HIDDEN, rng=0)
    params = random_params(layer, rng)
    x = rng.normal(size=(STEPS, BATCH, N_IN))
    h0, c0 = rng.normal(size=(BATCH, HIDDEN)), rng.normal(size=(BATCH, HIDDEN))
    dstates = rng.normal(size=(STEPS, BATCH, HIDDEN))
    dh_last, dc_last = rng.normal(size=(BATCH, HIDDEN)), rng.normal(size=(BATCH, HIDDEN))

    states, trace = layer.forward(x, (h0, c0))
    grads, dx, (dh0, dc0) = layer.backprop(trace, dstates, (dh_last, dc_last))
    ref_states, cache = reference.lstm_forward(params, x, h0, c0)
    ref_dstates = dstates.copy()
    ref_dstates[-1] += dh_last  # the reference takes the blame on h_T as part of dstates
    ref_grads, ref_dx, (ref_dh0, ref_dc0) = reference.lstm_backward(params, cache, ref_dstates, dc_last)

    assert_equal_to_1e10(states, ref_states, "states")
    assert_equal_to_1e10(trace.cells, np.stack(cache["cs"][1:]), "cells")
    assert set(grads) == set(ref_grads) == set(params)
    for name in params:
        assert_equal_to_1e10(grads[name], ref_grads[name], name)
    assert_equal_to_1e10(dx, ref_dx, "dx")
    assert_equal_to_1e10(dh0, ref_dh0, "dh0")
    assert_equal_to_1e10(dc0, ref_dc0, "dc0")
    h, (h_again, c) = layer.step(x[0], (h0, c0))
    ref_h, ref_c, _ = reference.lstm_step(params, x[0], h0, c0)
    assert h is h_again
    assert_equal_to_1e10(h, ref_h, "step h")
    assert_equal_to_1e10(c, ref_c, "step c")


def test_gru_equals_its_reference(rng):
    layer = GRU(N_IN, HIDDEN, rng=0)
    params = random_params(layer, rng)
    x = rng.normal(size=(STEPS, BATCH, N_IN))
    h0 = rng.normal(size=(BATCH, HIDDEN))
    dstates, dfinal = rng.normal(size=(STEPS, BATCH, HIDDEN)), rng.normal(size=(BATCH, HIDDEN))

    states, trace = layer.forward(x, h0)
    grads, dx, dh0 = layer.backprop(trace, dstates, dfinal)
    ref_states, cache = reference.gru_forward(params, x, h0)
    ref_grads, ref_dx, ref_dh0 = reference.gru_backward(params, cache, dstates, dfinal)

    assert_equal_to_1e10(states, ref_states, "states")
    assert set(grads) == set(ref_grads) == set(params)
    for name in params:
        assert_equal_to_1e10(grads[name], ref_grads[name], name)
    assert_equal_to_1e10(dx, ref_dx, "dx")
    assert_equal_to_1e10(dh0, ref_dh0, "dh0")
    assert_equal_to_1e10(layer.step(x[0], h0)[0], reference.gru_step(params, x[0], h0)[0], "step")


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_steps_one_at_a_time_give_the_sequence_forward(cls, rng):
    layer = cls(N_IN, HIDDEN, rng=0)
    random_params(layer, rng)
    x = rng.normal(size=(STEPS, BATCH, N_IN))
    states, trace = layer.forward(x)
    state = layer.init_state(BATCH)
    for t in range(STEPS):
        h, state = layer.step(x[t], state)
        assert_equal_to_1e10(h, states[t], f"step {t}")
        assert_equal_to_1e10(layer.output(state), h, f"output of the state at step {t}")
    for got, want in zip(layer.state_parts(state).values(), layer.state_parts(layer.final_state(trace)).values(),
                         strict=True):
        assert_equal_to_1e10(got, want, "final state")


def test_reference_sigmoid_is_the_logistic_function():
    a = np.array([-30.0, -1.0, 0.0, 2.0, 30.0])
    np.testing.assert_allclose(reference.sigmoid(a), np.exp(a) / (np.exp(a) + 1), rtol=1e-15)
    assert reference.sigmoid(np.array(0.0)) == 0.5
