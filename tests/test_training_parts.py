"""Losses, optimisers, clipping, the gradient checker, tasks, models and the training loop."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook import (
    SGD,
    Adagrad,
    Adam,
    MLPClassifier,
    SequenceClassifier,
    accuracy,
    check_gradients,
    clip_elementwise,
    clip_gradients,
    fit,
    global_norm,
    init_linear,
    linear_backward,
    linear_forward,
    mean_squared_error,
    numerical_gradient,
    relative_error,
    softmax,
    softmax_cross_entropy,
)
from rnnbook.data.encoding import one_hot
from rnnbook.data.synthetic import first_symbol


def test_softmax_cross_entropy_gradient(rng):
    logits = rng.normal(size=(3, 4, 5))
    targets = rng.integers(0, 5, size=(3, 4))
    loss, dlogits = softmax_cross_entropy(logits, targets)
    errors = check_gradients(lambda: softmax_cross_entropy(logits, targets)[0], {"logits": logits}, {"logits": dlogits})
    assert errors["logits"] < 1e-7
    assert loss == pytest.approx(-np.mean(np.log(softmax(logits)[np.arange(3)[:, None], np.arange(4), targets])))


def test_softmax_is_stable_for_huge_scores():
    p = softmax(np.array([[1000.0, 0.0, -1000.0]]))
    assert np.isfinite(p).all() and p[0, 0] == pytest.approx(1.0)


def test_mean_squared_error_gradient(rng):
    pred, target = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    loss, dpred = mean_squared_error(pred, target)
    assert loss == pytest.approx(np.mean((pred - target) ** 2))
    assert check_gradients(lambda: mean_squared_error(pred, target)[0], {"p": pred}, {"p": dpred})["p"] < 1e-7


def test_linear_gradient(rng):
    params = init_linear(3, 2, rng=rng)
    x = rng.normal(size=(4, 5, 3))
    w = rng.normal(size=(4, 5, 2))
    grads, dx = linear_backward(params, x, w)
    errors = check_gradients(
        lambda: float(np.sum(linear_forward(params, x) * w)), dict(params) | {"x": x}, grads | {"x": dx}
    )
    assert max(errors.values()) < 1e-7


@pytest.mark.parametrize("model_cls", [SequenceClassifier, MLPClassifier])
def test_model_gradients(model_cls, rng):
    model = model_cls(3, 4, 5, rng=rng)
    x = rng.normal(size=(6, 2, 3)) if model_cls is SequenceClassifier else rng.normal(size=(2, 3))
    y = np.array([1, 4])
    _, grads = model.loss_and_grads(x, y)
    errors = check_gradients(lambda: model.loss_and_grads(x, y)[0], model.params, grads)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.torch
@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda: SGD(lr=0.1), lambda t, p: t.optim.SGD(p, lr=0.1)),
        (lambda: SGD(lr=0.1, momentum=0.9), lambda t, p: t.optim.SGD(p, lr=0.1, momentum=0.9)),
        (lambda: Adagrad(lr=0.1), lambda t, p: t.optim.Adagrad(p, lr=0.1)),
        (lambda: Adam(lr=0.01), lambda t, p: t.optim.Adam(p, lr=0.01)),
    ],
    ids=["sgd", "momentum", "adagrad", "adam"],
)
def test_optimisers_take_torchs_steps(torch, ours, theirs, rng):
    start = rng.normal(size=(3, 4))
    grads_seq = [rng.normal(size=(3, 4)) for _ in range(5)]
    params = {"w": start.copy()}
    opt = ours()
    tp = torch.tensor(start.copy(), requires_grad=True)
    topt = theirs(torch, [tp])
    for g in grads_seq:
        opt.step(params, {"w": g.copy()})
        tp.grad = torch.tensor(g)
        topt.step()
    np.testing.assert_allclose(params["w"], tp.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_gradients_like_torch(torch, max_norm, rng):
    grads = {"a": rng.normal(size=(3, 4)), "b": rng.normal(size=(5,))}
    tensors = [
        torch.zeros(3, 4, dtype=torch.float64, requires_grad=True),
        torch.zeros(5, dtype=torch.float64, requires_grad=True),
    ]
    for t, g in zip(tensors, grads.values(), strict=True):
        t.grad = torch.tensor(g.copy())
    total_torch = torch.nn.utils.clip_grad_norm_(tensors, max_norm)
    total = clip_gradients(grads, max_norm)
    assert total == pytest.approx(float(total_torch), rel=1e-12)
    for t, g in zip(tensors, grads.values(), strict=True):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-12)


def test_clip_gradients_keeps_direction(rng):
    grads = {"a": rng.normal(size=(10,)) * 100}
    before = grads["a"].copy()
    total = clip_gradients(grads, 1.0)
    assert total == pytest.approx(np.linalg.norm(before))
    assert global_norm(grads) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(grads["a"] / np.linalg.norm(grads["a"]), before / np.linalg.norm(before))


def test_clip_elementwise():
    grads = {"a": np.array([-9.0, 0.5, 7.0])}
    clip_elementwise(grads, 5)
    np.testing.assert_array_equal(grads["a"], [-5.0, 0.5, 5.0])


def test_numerical_gradient_of_a_known_function():
    x = np.array([1.0, -2.0, 3.0])
    grad = numerical_gradient(lambda: float(np.sum(x**3)), x)
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-8)
    assert x.tolist() == [1.0, -2.0, 3.0], "the array must be restored"


def test_gradient_checker_catches_a_wrong_gradient(rng):
    x = rng.normal(size=(4,))
    errors = check_gradients(lambda: float(np.sum(x**2)), {"x": x}, {"x": 3 * x})
    assert errors["x"] > 0.3


def test_relative_error_basics():
    assert relative_error(np.ones(3), np.ones(3)) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        relative_error(np.ones(3), np.ones(4))


def test_first_symbol_task(rng):
    x, y = first_symbol(50, 6, 3, rng=rng)
    assert x.shape == (6, 50, 3) and y.shape == (50,)
    np.testing.assert_array_equal(x[0].argmax(axis=1), y)
    np.testing.assert_array_equal(x.sum(axis=2), 1)


def test_recurrent_network_beats_feedforward_on_first_symbol():
    """The claim of the chapter "Why memory?": with memory, far above chance; without, at chance."""
    x, y = first_symbol(2000, 10, 4, rng=0)
    xt, yt = first_symbol(1000, 10, 4, rng=1)
    rnn = SequenceClassifier(4, 16, 4, rng=0)
    fit(rnn, x, y, Adam(lr=0.01), epochs=10, batch_size=50, rng=0)
    mlp = MLPClassifier(4, 16, 4, rng=0)
    fit(mlp, x[-1], y, Adam(lr=0.01), epochs=10, batch_size=50, rng=0)
    # chance is 0.25; three standard errors on 1000 samples is about 0.04
    assert abs(accuracy(mlp, xt[-1], yt) - 0.25) < 0.045
    assert accuracy(rnn, xt, yt) > 0.95


def test_fit_is_deterministic():
    x, y = first_symbol(200, 5, 3, rng=0)
    runs = []
    for _ in range(2):
        model = SequenceClassifier(3, 8, 3, rng=0)
        runs.append((fit(model, x, y, Adam(), epochs=2, batch_size=20, rng=3), model.params["rnn.weight_hh"].copy()))
    assert runs[0][0] == runs[1][0]
    assert np.array_equal(runs[0][1], runs[1][1])


# -- bad input -------------------------------------------------------------------


def test_bad_inputs_are_refused_with_clear_messages(rng):
    with pytest.raises(TypeError, match="targets must be an integer numpy array"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"targets must hold class indices in \[0, 3\), got values from 0 to 3"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match=r"targets must have shape \(2,\), got \(3,\)"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="logits must be finite"):
        softmax_cross_entropy(np.array([[np.nan, 0.0]]), np.array([0]))
    with pytest.raises(ValueError, match=r"targets must have shape \(2, 3\), got \(3, 2\)"):
        mean_squared_error(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="max_norm must be a finite number > 0, got -1"):
        clip_gradients({"a": np.ones(2)}, -1)
    with pytest.raises(ValueError, match="lr must be a finite number > 0, got 0"):
        Adam(lr=0)
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\), got 1.5"):
        SGD(lr=0.1, momentum=1.5)
    with pytest.raises(ValueError, match="grads must have the same names as params"):
        SGD(lr=0.1).step({"a": np.ones(2)}, {"b": np.ones(2)})
    with pytest.raises(ValueError, match="gradient of a holds NaN or inf"):
        SGD(lr=0.1).step({"a": np.ones(2)}, {"a": np.array([np.nan, 1.0])})
    with pytest.raises(ValueError, match=r"gradient of a must have shape \(2,\), got \(3,\)"):
        SGD(lr=0.1).step({"a": np.ones(2)}, {"a": np.ones(3)})
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 3\)"):
        linear_forward(init_linear(3, 2, rng=rng), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="need length >= 2"):
        first_symbol(10, 1, 4, rng=0)
    with pytest.raises(ValueError, match=r"indices must be in \[0, 3\)"):
        one_hot(np.array([0, 3]), 3)
    with pytest.raises(TypeError, match="x must have dtype float64"):
        numerical_gradient(lambda: 0.0, np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError, match="x has 5 examples along axis 1 but y has 4"):
        fit(
            SequenceClassifier(3, 2, 2, rng=0),
            np.zeros((2, 5, 3)),
            np.zeros(4, dtype=int),
            SGD(0.1),
            epochs=1,
            batch_size=2,
            rng=0,
        )
    with pytest.raises(ValueError, match="cell must be one of"):
        SequenceClassifier(3, 2, 2, cell="transformer", rng=0)
