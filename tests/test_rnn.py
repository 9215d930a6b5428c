"""The vanilla RNN: gradient checks, PyTorch equivalence, dtypes, bad input, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook import RNN, backprop_through_time, check_gradients, init_params, step, unroll

SHAPES = [  # (T, B, I, H): include T=1, batch 1 and hidden size 1
    (1, 1, 1, 1),
    (1, 3, 2, 4),
    (5, 1, 3, 1),
    (4, 2, 3, 5),
    (7, 3, 1, 2),
]


def loss_of(params, x, state0, activation, weights):
    """A scalar that touches every state with a different weight."""
    states, _ = unroll(params, x, state0, activation)
    return float(np.sum(states * weights))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_gradients_match_finite_differences(shape, activation, rng):
    steps, batch, n_in, hidden = shape
    params = init_params(n_in, hidden, rng=rng)
    x = rng.normal(size=(steps, batch, n_in))
    state0 = rng.normal(size=(batch, hidden)) * 0.5
    weights = rng.normal(size=(steps, batch, hidden))
    states, trace = unroll(params, x, state0, activation)
    grads, dx, dstate0 = backprop_through_time(params, trace, weights.copy())
    arrays = dict(params) | {"x": x, "state0": state0}
    analytic = grads | {"x": dx, "state0": dstate0}
    errors = check_gradients(lambda: loss_of(params, x, state0, activation, weights), arrays, analytic)
    # relu has kinks; with random inputs no pre-activation lands within eps of zero
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype, rng):
    layer = RNN(3, 4, rng=rng, dtype=dtype)
    x = rng.normal(size=(5, 2, 3)).astype(dtype)
    states, trace = layer.forward(x)
    grads, dx, dstate0 = layer.backward(trace, np.ones_like(states))
    assert states.dtype == dtype and dx.dtype == dtype and dstate0.dtype == dtype
    assert all(g.dtype == dtype for g in grads.values())


def test_step_is_the_state_equation(rng):
    params = init_params(3, 4, rng=rng)
    x = rng.normal(size=(2, 3))
    s = rng.normal(size=(2, 4))
    by_hand = np.tanh(x @ params["weight_ih"].T + s @ params["weight_hh"].T + params["bias_ih"] + params["bias_hh"])
    np.testing.assert_allclose(step(x, s, **params), by_hand, rtol=1e-12)


def test_unroll_equals_repeated_steps(rng):
    params = init_params(3, 4, rng=rng)
    x = rng.normal(size=(6, 2, 3))
    state = np.zeros((2, 4))
    states, _ = unroll(params, x, activation="relu")
    for t in range(6):
        state = step(x[t], state, **params, activation="relu")
        np.testing.assert_allclose(states[t], state, rtol=1e-12)


def test_same_seed_same_bits():
    a = RNN(3, 4, rng=7).params
    b = RNN(3, 4, rng=7).params
    c = RNN(3, 4, rng=8).params
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["weight_hh"], c["weight_hh"])


def test_initialisation_matches_torch_bounds(rng):
    hidden = 50
    params = init_params(20, hidden, rng=rng)
    bound = 1 / np.sqrt(hidden)
    for name, p in params.items():
        assert np.abs(p).max() <= bound, name
        assert np.abs(p).max() > 0.9 * bound, f"{name} does not fill U(-1/sqrt(H), 1/sqrt(H))"


@pytest.mark.torch
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("nonzero_state0", [False, True])
def test_equal_to_torch(torch, nonlinearity, nonzero_state0, rng):
    steps, batch, n_in, hidden = 6, 3, 4, 5
    layer = RNN(n_in, hidden, nonlinearity, rng=rng)
    ref = torch.nn.RNN(n_in, hidden, nonlinearity=nonlinearity).double()
    with torch.no_grad():
        for name, p in layer.params.items():  # same names, with torch's _l0 suffix
            getattr(ref, f"{name}_l0").copy_(torch.from_numpy(p))
    x = rng.normal(size=(steps, batch, n_in))
    state0 = rng.normal(size=(batch, hidden)) if nonzero_state0 else np.zeros((batch, hidden))
    tx = torch.tensor(x, requires_grad=True)
    th0 = torch.tensor(state0[None], requires_grad=True)
    out, hn = ref(tx, th0)
    out.sum().backward()  # loss = sum of all states, as in numpy-ml's tests

    states, trace = layer.forward(x, state0)
    grads, dx, dstate0 = layer.backward(trace, np.ones_like(states))
    np.testing.assert_allclose(states, out.detach().numpy(), atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(states[-1], hn[0].detach().numpy(), atol=1e-6, rtol=1e-6)
    for name, g in grads.items():
        np.testing.assert_allclose(g, getattr(ref, f"{name}_l0").grad.numpy(), atol=1e-6, rtol=1e-6, err_msg=name)
    np.testing.assert_allclose(dx, tx.grad.numpy(), atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(dstate0, th0.grad[0].numpy(), atol=1e-6, rtol=1e-6)


@pytest.mark.torch
def test_weights_copy_back_from_torch(torch):
    ref = torch.nn.RNN(3, 4).double()
    params = {name[:-3]: p.detach().numpy().copy() for name, p in ref.state_dict().items()}
    x = np.random.default_rng(0).normal(size=(5, 2, 3))
    states, _ = unroll(params, x)
    np.testing.assert_allclose(states, ref(torch.from_numpy(x))[0].detach().numpy(), atol=1e-12)


# -- bad input -------------------------------------------------------------------

@pytest.fixture
def params(rng):
    return init_params(3, 4, rng=rng)


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
        (np.full((5, 2, 3), np.inf), ValueError, r"x must be finite, found inf"),
    ],
)
def test_unroll_rejects_bad_sequences(params, x, error, message):
    with pytest.raises(error, match=message):
        unroll(params, x)


def test_unroll_rejects_bad_state0(params):
    with pytest.raises(ValueError, match=r"state0 must have shape \(2, 4\), got \(3, 4\)"):
        unroll(params, np.zeros((5, 2, 3)), np.zeros((3, 4)))


def test_unroll_rejects_bad_activation(params):
    with pytest.raises(ValueError, match=r"activation must be one of 'tanh', 'relu', 'sigmoid', got 'softplus'"):
        unroll(params, np.zeros((5, 2, 3)), activation="softplus")


def test_unroll_rejects_bad_params(params):
    broken = dict(params, weight_hh=np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"weight_hh must have shape \(1\*H, H\), got \(4, 5\)"):
        unroll(broken, np.zeros((5, 2, 3)))
    with pytest.raises(ValueError, match=r"params is missing \['bias_hh'\]"):
        unroll({k: v for k, v in params.items() if k != "bias_hh"}, np.zeros((5, 2, 3)))
    mixed = dict(params, bias_hh=params["bias_hh"].astype(np.float32))
    with pytest.raises(TypeError, match="all parameters must share one dtype"):
        unroll(mixed, np.zeros((5, 2, 3)))


def test_backprop_rejects_wrong_gradient_shape(params):
    states, trace = unroll(params, np.zeros((5, 2, 3)))
    with pytest.raises(ValueError, match=r"dstates must have shape \(5, 2, 4\), got \(5, 2, 3\)"):
        backprop_through_time(params, trace, np.zeros((5, 2, 3)))


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"input_size": 0, "hidden_size": 3}, ValueError, "input_size must be a positive integer, got 0"),
        ({"input_size": 2, "hidden_size": -1}, ValueError, "hidden_size must be a positive integer, got -1"),
        ({"input_size": 2.5, "hidden_size": 3}, TypeError, "input_size must be a positive integer, got 2.5"),
        ({"input_size": 2, "hidden_size": 3, "dtype": np.int32}, TypeError, "dtype must be float32 or float64"),
        ({"input_size": 2, "hidden_size": 3, "rng": "seed"}, TypeError, "rng must be a numpy.random.Generator"),
    ],
)
def test_init_params_rejects_bad_sizes(kwargs, error, message):
    kwargs.setdefault("rng", 0)
    with pytest.raises(error, match=message):
        init_params(**kwargs)
