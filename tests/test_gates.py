"""LSTM and GRU: gradient checks, PyTorch equivalence, dtypes, determinism, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook import RNN, SequenceClassifier, check_gradients, numerical_gradient
from rnnbook.analysis.gradients import memory_jacobian_norms
from rnnbook.layers import gru as gru_module
from rnnbook.layers import lstm as lstm_module
from rnnbook.layers.base import init_params
from rnnbook.layers.gru import GRU
from rnnbook.layers.lstm import LSTM

SHAPES = [  # (T, B, I, H): include T=1, batch 1 and hidden size 1
    (1, 1, 1, 1),
    (1, 3, 2, 4),
    (5, 1, 3, 1),
    (4, 2, 3, 5),
    (7, 3, 1, 2),
]


# -- gradient checks ---------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
def test_lstm_gradients_match_finite_differences(shape, rng):
    steps, batch, n_in, hidden = shape
    params = init_params(n_in, hidden, rng=rng, gates=4)
    x = rng.normal(size=(steps, batch, n_in))
    h0 = rng.normal(size=(batch, hidden)) * 0.5
    c0 = rng.normal(size=(batch, hidden))
    weights = rng.normal(size=(steps, batch, hidden))  # every output counts differently
    cell_weights = rng.normal(size=(batch, hidden))  # and the final cell too

    def loss() -> float:
        states, trace = lstm_module.unroll(params, x, (h0, c0))
        return float(np.sum(states * weights) + np.sum(trace.cells[-1] * cell_weights))

    _, trace = lstm_module.unroll(params, x, (h0, c0))
    grads, dx, (dh0, dc0) = lstm_module.backprop_through_time(params, trace, weights.copy(), cell_weights.copy())
    arrays = dict(params) | {"x": x, "h0": h0, "c0": c0}
    analytic = grads | {"x": dx, "h0": dh0, "c0": dc0}
    errors = check_gradients(loss, arrays, analytic)
    assert set(errors) == {"weight_ih", "weight_hh", "bias_ih", "bias_hh", "x", "h0", "c0"}
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("shape", SHAPES)
def test_gru_gradients_match_finite_differences(shape, rng):
    steps, batch, n_in, hidden = shape
    params = init_params(n_in, hidden, rng=rng, gates=3)
    x = rng.normal(size=(steps, batch, n_in))
    h0 = rng.normal(size=(batch, hidden)) * 0.5
    weights = rng.normal(size=(steps, batch, hidden))

    def loss() -> float:
        states, _ = gru_module.unroll(params, x, h0)
        return float(np.sum(states * weights))

    _, trace = gru_module.unroll(params, x, h0)
    grads, dx, dh0 = gru_module.backprop_through_time(params, trace, weights.copy())
    arrays = dict(params) | {"x": x, "h0": h0}
    analytic = grads | {"x": dx, "h0": dh0}
    errors = check_gradients(loss, arrays, analytic)
    assert max(errors.values()) < 1e-6, errors


def test_gradient_check_can_fail(rng):
    """A wrong gradient (the forget gate's block dropped) is caught by the same check."""
    params = init_params(2, 3, rng=rng, gates=4)
    x = rng.normal(size=(4, 2, 2))
    weights = rng.normal(size=(4, 2, 3))
    _, trace = lstm_module.unroll(params, x)
    grads, _, _ = lstm_module.backprop_through_time(params, trace, weights.copy())
    grads["weight_hh"][3:6] = 0.0
    errors = check_gradients(
        lambda: float(np.sum(lstm_module.unroll(params, x)[0] * weights)), {"weight_hh": params["weight_hh"]}, grads
    )
    assert errors["weight_hh"] > 1e-3


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_sequence_classifier_gradients(cell, rng):
    model = SequenceClassifier(3, 4, 2, cell=cell, rng=rng)
    x = rng.normal(size=(6, 5, 3))
    y = rng.integers(0, 2, size=5)
    _, grads = model.loss_and_grads(x, y)
    assert set(grads) == set(model.params)
    errors = check_gradients(lambda: model.loss_and_grads(x, y)[0], model.params, grads)
    assert max(errors.values()) < 1e-6, errors


# -- the equations, written out by hand -------------------------------------------

def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def test_lstm_is_its_equations(rng):
    hidden = 3
    params = init_params(2, hidden, rng=rng, gates=4)
    x = rng.normal(size=(5, 2, 2))
    h, c = np.zeros((2, hidden)), np.zeros((2, hidden))
    states, trace = lstm_module.unroll(params, x)
    for t in range(5):
        a = x[t] @ params["weight_ih"].T + params["bias_ih"] + h @ params["weight_hh"].T + params["bias_hh"]
        i, f, g, o = np.split(a, 4, axis=1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        np.testing.assert_allclose(states[t], h, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(trace.cells[t], c, rtol=1e-12, atol=1e-14)
    layer = LSTM(2, hidden, rng=0)
    layer.params = params
    h_last, c_last = layer.final_state(trace)
    assert np.array_equal(h_last, states[-1]) and np.array_equal(c_last, trace.cells[-1])


def test_gru_is_its_equations(rng):
    hidden = 3
    params = init_params(2, hidden, rng=rng, gates=3)
    x = rng.normal(size=(5, 2, 2))
    h = rng.normal(size=(2, hidden))
    states, _ = gru_module.unroll(params, x, h.copy())
    for t in range(5):
        gi = x[t] @ params["weight_ih"].T + params["bias_ih"]
        gh = h @ params["weight_hh"].T + params["bias_hh"]
        r = sigmoid(gi[:, :hidden] + gh[:, :hidden])
        z = sigmoid(gi[:, hidden : 2 * hidden] + gh[:, hidden : 2 * hidden])
        n = np.tanh(gi[:, 2 * hidden :] + r * gh[:, 2 * hidden :])  # reset AFTER the matmul
        h = (1 - z) * n + z * h
        np.testing.assert_allclose(states[t], h, rtol=1e-12, atol=1e-14)


def test_lstm_sigmoid_does_not_overflow():
    params = {k: v * 1000 for k, v in init_params(2, 3, rng=0, gates=4).items()}
    with np.errstate(all="raise"):
        states, _ = lstm_module.unroll(params, np.full((3, 1, 2), 50.0))
    assert np.isfinite(states).all()


# -- PyTorch ------------------------------------------------------------------------

def copy_into(torch, ref, params):
    with torch.no_grad():
        for name, p in params.items():  # same names, with torch's _l0 suffix
            getattr(ref, f"{name}_l0").copy_(torch.from_numpy(p))


def assert_close(a, b, name):
    np.testing.assert_allclose(a, b, atol=1e-6, rtol=1e-6, err_msg=name)


@pytest.mark.torch
@pytest.mark.parametrize("nonzero_state0", [False, True])
def test_lstm_equal_to_torch(torch, nonzero_state0, rng):
    steps, batch, n_in, hidden = 6, 3, 4, 5
    layer = LSTM(n_in, hidden, rng=rng)
    ref = torch.nn.LSTM(n_in, hidden).double()
    copy_into(torch, ref, layer.params)
    x = rng.normal(size=(steps, batch, n_in))
    h0 = rng.normal(size=(batch, hidden)) if nonzero_state0 else np.zeros((batch, hidden))
    c0 = rng.normal(size=(batch, hidden)) if nonzero_state0 else np.zeros((batch, hidden))
    weights = rng.normal(size=(steps, batch, hidden))
    cell_weights = rng.normal(size=(batch, hidden))
    tx = torch.tensor(x, requires_grad=True)
    th0 = torch.tensor(h0[None], requires_grad=True)
    tc0 = torch.tensor(c0[None], requires_grad=True)
    out, (hn, cn) = ref(tx, (th0, tc0))
    ((out * torch.from_numpy(weights)).sum() + (cn[0] * torch.from_numpy(cell_weights)).sum()).backward()

    states, trace = layer.forward(x, (h0, c0))
    grads, dx, (dh0, dc0) = layer.backward(trace, weights.copy(), cell_weights.copy())
    assert_close(states, out.detach().numpy(), "states")
    assert_close(layer.output(layer.final_state(trace)), hn[0].detach().numpy(), "h_T")
    assert_close(trace.cells[-1], cn[0].detach().numpy(), "c_T")
    assert set(grads) == {"weight_ih", "weight_hh", "bias_ih", "bias_hh"}
    for name, g in grads.items():
        assert_close(g, getattr(ref, f"{name}_l0").grad.numpy(), name)
    assert_close(dx, tx.grad.numpy(), "dx")
    assert_close(dh0, th0.grad[0].numpy(), "dh0")
    assert_close(dc0, tc0.grad[0].numpy(), "dc0")


@pytest.mark.torch
@pytest.mark.parametrize("nonzero_state0", [False, True])
def test_gru_equal_to_torch(torch, nonzero_state0, rng):
    steps, batch, n_in, hidden = 6, 3, 4, 5
    layer = GRU(n_in, hidden, rng=rng)
    ref = torch.nn.GRU(n_in, hidden).double()
    copy_into(torch, ref, layer.params)
    x = rng.normal(size=(steps, batch, n_in))
    h0 = rng.normal(size=(batch, hidden)) if nonzero_state0 else np.zeros((batch, hidden))
    weights = rng.normal(size=(steps, batch, hidden))
    tx = torch.tensor(x, requires_grad=True)
    th0 = torch.tensor(h0[None], requires_grad=True)
    out, hn = ref(tx, th0)
    (out * torch.from_numpy(weights)).sum().backward()

    states, trace = layer.forward(x, h0)
    grads, dx, dh0 = layer.backward(trace, weights.copy())
    assert_close(states, out.detach().numpy(), "states")
    assert_close(layer.output(layer.final_state(trace)), hn[0].detach().numpy(), "h_T")
    for name, g in grads.items():
        assert_close(g, getattr(ref, f"{name}_l0").grad.numpy(), name)
    assert_close(dx, tx.grad.numpy(), "dx")
    assert_close(dh0, th0.grad[0].numpy(), "dh0")


@pytest.mark.torch
@pytest.mark.parametrize("name, module", [("LSTM", lstm_module), ("GRU", gru_module)])
def test_weights_copy_back_from_torch(torch, name, module):
    ref = getattr(torch.nn, name)(3, 4).double()
    params = {key[:-3]: p.detach().numpy().copy() for key, p in ref.state_dict().items()}
    x = np.random.default_rng(0).normal(size=(5, 2, 3))
    states, _ = module.unroll(params, x)
    np.testing.assert_allclose(states, ref(torch.from_numpy(x))[0].detach().numpy(), atol=1e-12)


# -- dtypes, determinism, initialisation -------------------------------------------

@pytest.mark.parametrize("cls", [LSTM, GRU])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(cls, dtype, rng):
    layer = cls(3, 4, rng=rng, dtype=dtype)
    x = rng.normal(size=(5, 2, 3)).astype(dtype)
    states, trace = layer.forward(x)
    grads, dx, dstate0 = layer.backward(trace, np.ones_like(states))
    dstate0 = dstate0 if isinstance(dstate0, tuple) else (dstate0,)
    assert states.dtype == dtype and dx.dtype == dtype
    assert all(d.dtype == dtype for d in dstate0)
    assert all(g.dtype == dtype for g in grads.values())
    assert all(a.dtype == dtype for a in vars(trace).values())


@pytest.mark.parametrize("cls, gates", [(LSTM, 4), (GRU, 3)])
def test_same_seed_same_bits(cls, gates, rng):
    a, b, c = cls(3, 4, rng=7), cls(3, 4, rng=7), cls(3, 4, rng=8)
    assert a.params["weight_hh"].shape == (gates * 4, 4) and a.params["bias_ih"].shape == (gates * 4,)
    assert a.input_size == 3 and a.hidden_size == 4
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    assert not np.array_equal(a.params["weight_hh"], c.params["weight_hh"])
    x = rng.normal(size=(5, 2, 3))
    sa, ta = a.forward(x)
    sb, tb = b.forward(x)
    assert np.array_equal(sa, sb)
    grads_a, grads_b = a.backward(ta, sa)[0], b.backward(tb, sb)[0]
    assert all(np.array_equal(grads_a[k], grads_b[k]) for k in grads_a)


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_initialisation_matches_torch_bounds(cls):
    hidden = 50
    params = cls(20, hidden, rng=3).params
    bound = 1 / np.sqrt(hidden)
    for name, p in params.items():
        assert np.abs(p).max() <= bound, name
        assert np.abs(p).max() > 0.9 * bound, f"{name} does not fill U(-1/sqrt(H), 1/sqrt(H))"


# -- bad input ---------------------------------------------------------------------

@pytest.mark.parametrize("module, gates", [(lstm_module, 4), (gru_module, 3)])
@pytest.mark.parametrize(
    "x, error, message",
    [
        (np.zeros((5, 3)), ValueError, r"x must have 3 dimensions \(\*, \*, 3\), got shape \(5, 3\)"),
        (np.zeros((5, 2, 2)), ValueError, r"x must have shape \(\*, \*, 3\), got \(5, 2, 2\)"),
        (np.zeros((0, 2, 3)), ValueError, r"x must not be empty, got shape \(0, 2, 3\)"),
        (np.zeros((5, 2, 3), dtype=np.int64), TypeError, r"x must have dtype float32 or float64, got int64"),
        (np.zeros((5, 2, 3), dtype=np.float32), TypeError, r"x must have dtype float64 to match"),
        ([[[0.0, 0.0, 0.0]]], TypeError, r"x must be a numpy array of float32 or float64, got list"),
        (np.full((5, 2, 3), np.nan), ValueError, r"x must be finite, found nan at index \(0, 0, 0\)"),
    ],
)
def test_unroll_rejects_bad_sequences(module, gates, x, error, message):
    params = init_params(3, 4, rng=0, gates=gates)
    with pytest.raises(error, match=message):
        module.unroll(params, x)


@pytest.mark.parametrize(
    "state0, error, message",
    [
        (np.zeros((2, 4)), TypeError, r"state0 of an LSTM must be None or a tuple \(h0, c0\) .*got ndarray"),
        ((np.zeros((2, 4)),), TypeError, r"tuple \(h0, c0\) of two \(B, H\) arrays, got a tuple of length 1"),
        ((np.zeros((3, 4)), np.zeros((2, 4))), ValueError, r"h0 must have shape \(2, 4\), got \(3, 4\)"),
        ((np.zeros((2, 4)), np.zeros((2, 5))), ValueError, r"c0 must have shape \(2, 4\), got \(2, 5\)"),
        ((np.zeros((2, 4)), np.zeros((2, 4), np.float32)), TypeError, r"c0 must have dtype float64 to match"),
        ((np.zeros((2, 4)), np.full((2, 4), np.nan)), ValueError, r"c0 must be finite"),
    ],
)
def test_lstm_rejects_bad_state0(state0, error, message):
    params = init_params(3, 4, rng=0, gates=4)
    with pytest.raises(error, match=message):
        lstm_module.unroll(params, np.zeros((5, 2, 3)), state0)


def test_gru_rejects_bad_state0():
    params = init_params(3, 4, rng=0, gates=3)
    with pytest.raises(ValueError, match=r"state0 must have shape \(2, 4\), got \(3, 4\)"):
        gru_module.unroll(params, np.zeros((5, 2, 3)), np.zeros((3, 4)))
    with pytest.raises(TypeError, match=r"state0 must be a numpy array of float32 or float64, got tuple"):
        gru_module.unroll(params, np.zeros((5, 2, 3)), (np.zeros((2, 4)), np.zeros((2, 4))))


@pytest.mark.parametrize("module, gates", [(lstm_module, 4), (gru_module, 3)])
def test_unroll_rejects_bad_params(module, gates):
    params = init_params(3, 4, rng=0, gates=gates)
    rnn_params = init_params(3, 4, rng=0, gates=1)  # a vanilla RNN's weights are not enough
    with pytest.raises(ValueError, match=rf"weight_hh must have shape \({gates}\*H, H\), got \(4, 4\)"):
        module.unroll(rnn_params, np.zeros((5, 2, 3)))
    with pytest.raises(ValueError, match=rf"bias_hh must have shape \({gates * 4},\), got \(4,\)"):
        module.unroll(dict(params, bias_hh=np.zeros(4)), np.zeros((5, 2, 3)))
    with pytest.raises(ValueError, match=r"params is missing \['bias_ih'\]"):
        module.unroll({k: v for k, v in params.items() if k != "bias_ih"}, np.zeros((5, 2, 3)))
    with pytest.raises(TypeError, match="all parameters must share one dtype"):
        module.unroll(dict(params, bias_hh=params["bias_hh"].astype(np.float32)), np.zeros((5, 2, 3)))


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_backward_rejects_wrong_gradient_shape(cls):
    layer = cls(3, 4, rng=0)
    states, trace = layer.forward(np.zeros((5, 2, 3)))
    with pytest.raises(ValueError, match=r"dstates must have shape \(5, 2, 4\), got \(5, 2, 3\)"):
        layer.backward(trace, np.zeros((5, 2, 3)))
    with pytest.raises(TypeError, match=r"dstates must have dtype float64 to match"):
        layer.backward(trace, np.zeros((5, 2, 4), dtype=np.float32))


def test_lstm_backward_rejects_wrong_dcell():
    layer = LSTM(3, 4, rng=0)
    states, trace = layer.forward(np.zeros((5, 2, 3)))
    with pytest.raises(ValueError, match=r"dcell must have 2 dimensions \(2, 4\), got shape \(5, 2, 4\)"):
        layer.backward(trace, np.zeros_like(states), np.zeros_like(states))


@pytest.mark.parametrize("cls", [LSTM, GRU])
@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"input_size": 0, "hidden_size": 3}, ValueError, "input_size must be a positive integer, got 0"),
        ({"input_size": 2, "hidden_size": 2.0}, TypeError, "hidden_size must be a positive integer, got 2.0"),
        ({"input_size": 2, "hidden_size": 3, "dtype": np.float16}, TypeError, "dtype must be float32 or float64"),
        ({"input_size": 2, "hidden_size": 3, "rng": None}, TypeError, "rng must be a numpy.random.Generator"),
    ],
)
def test_constructor_rejects_bad_arguments(cls, kwargs, error, message):
    kwargs.setdefault("rng", 0)
    with pytest.raises(error, match=message):
        cls(**kwargs)


# -- memory_jacobian_norms ------------------------------------------------------------

def numerical_jacobian_norm(layer, x, k):
    """The spectral norm of d m_T / d m_{T-k} by central differences, one row at a time."""
    steps = x.shape[0]
    states, trace = layer.forward(x)
    is_lstm = isinstance(layer, LSTM)
    start = steps - k
    h0 = states[start - 1].copy() if start else np.zeros((1, layer.hidden_size))
    c0 = trace.cells[start - 1].copy() if (start and is_lstm) else np.zeros((1, layer.hidden_size))
    memory0 = c0 if is_lstm else h0
    rows = []
    for j in range(layer.hidden_size):
        def final(j=j):
            if is_lstm:
                return float(layer.forward(x[start:], (h0, c0))[1].cells[-1, 0, j])
            return float(layer.forward(x[start:], h0)[0][-1, 0, j])
        rows.append(numerical_gradient(final, memory0)[0])
    return np.linalg.norm(np.array(rows), 2)


@pytest.mark.parametrize("cls", [LSTM, GRU, RNN])
def test_memory_jacobian_norms_match_finite_differences(cls, rng):
    layer = cls(2, 3, rng=rng)
    x = rng.normal(size=(6, 1, 2))
    lags = [1, 3, 6]
    norms = memory_jacobian_norms(layer, x, lags)
    assert norms.shape == (3,)
    for k, norm in zip(lags, norms, strict=True):
        np.testing.assert_allclose(norm, numerical_jacobian_norm(layer, x, k), rtol=1e-6)


def test_memory_jacobian_norms_of_a_perfect_memory():
    """An LSTM whose forget gates are saturated open and input gates shut keeps its cell: norm 1 at every lag."""
    layer = LSTM(1, 2, rng=0)
    layer.params["bias_ih"][:] = 0.0
    layer.params["bias_hh"][:] = 0.0
    layer.params["weight_ih"][:] = 0.0
    layer.params["weight_hh"][:] = 0.0
    layer.params["bias_ih"][0:2] = -40.0  # input gate shut
    layer.params["bias_ih"][2:4] = 40.0  # forget gate open
    norms = memory_jacobian_norms(layer, np.zeros((30, 1, 1)), [1, 10, 30])
    np.testing.assert_allclose(norms, 1.0, rtol=1e-12)


def test_memory_jacobian_norms_rejects_bad_lags():
    layer = LSTM(2, 3, rng=0)
    with pytest.raises(ValueError, match="every lag must be at most the sequence length 4, got 5"):
        memory_jacobian_norms(layer, np.zeros((4, 1, 2)), [1, 5])
    with pytest.raises(ValueError, match=r"x must have shape \(\*, 1, 2\), got \(4, 2, 2\)"):
        memory_jacobian_norms(layer, np.zeros((4, 2, 2)), [1])


def test_memory_jacobian_norms_agree_with_chapter_six_for_the_rnn(rng):
    """For a vanilla RNN the memory is the state, so the norms must equal gradients.gradient_norm_by_lag."""
    from rnnbook.analysis.gradients import gradient_norm_by_lag

    layer = RNN(2, 5, rng=rng)
    x = rng.normal(size=(12, 1, 2))
    lags = list(range(1, 13))
    np.testing.assert_allclose(
        memory_jacobian_norms(layer, x, lags), gradient_norm_by_lag(layer.params, x)[1:, 0], rtol=1e-10
    )
