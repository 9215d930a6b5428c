"""Attention: forward and backward agree (finite differences and torch), the translator's gradients are right."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook.analysis.gradcheck import check_gradients, numerical_gradient
from rnnbook.layers.attention import (
    attend,
    attend_backward,
    init_attention,
    project_keys,
    project_keys_backward,
)
from rnnbook.models.attention import AttentionTranslator
from rnnbook.models.seq2seq import sequence_accuracy

T, B, H, A = 5, 3, 4, 6


def _attention_loss(params, query, keys, weights_out, score):
    """A scalar that depends on every output of attend: sum(context * weights_out)."""
    projected = project_keys(params, keys) if score == "additive" else None
    context, cache = attend(params, query, keys, projected, score)
    return float((context * weights_out).sum()), projected, cache


@pytest.mark.parametrize("score", ["additive", "dot"])
def test_attend_backward_matches_finite_differences(score, rng):
    params = init_attention(H, A, rng=rng)
    params = {k: 3 * v for k, v in params.items()}  # away from the nearly uniform weights of a fresh layer
    query, keys = rng.normal(size=(B, H)), rng.normal(size=(T, B, H))
    weights_out = rng.normal(size=(B, H))
    _, projected, cache = _attention_loss(params, query, keys, weights_out, score)
    grads, dquery, dkeys, dprojected = attend_backward(params, cache, weights_out)
    if score == "additive":
        grads["keys"], dkeys_proj = project_keys_backward(params, keys, dprojected)
        dkeys = dkeys + dkeys_proj
    else:
        assert grads == {} and dprojected is None

    def f():
        return _attention_loss(params, query, keys, weights_out, score)[0]

    arrays = {"query_in": query, "keys_in": keys} | ({k: params[k] for k in params} if score == "additive" else {})
    analytic = {"query_in": dquery, "keys_in": dkeys} | grads
    errors = check_gradients(f, arrays, analytic)
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("score", ["additive", "dot"])
def test_attend_matches_torch_autograd(score, rng, torch):
    params = init_attention(H, A, rng=rng)
    query, keys = rng.normal(size=(B, H)), rng.normal(size=(T, B, H))
    weights_out = rng.normal(size=(B, H))
    _, projected, cache = _attention_loss(params, query, keys, weights_out, score)
    context, _ = attend(params, query, keys, projected, score)
    grads, dquery, dkeys, dprojected = attend_backward(params, cache, weights_out)
    if score == "additive":
        grads["keys"], dkeys_proj = project_keys_backward(params, keys, dprojected)
        dkeys = dkeys + dkeys_proj

    t = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    q = torch.tensor(query, requires_grad=True)
    s = torch.tensor(keys, requires_grad=True)
    if score == "additive":  # Bahdanau et al. (2015): e_t = v . tanh(W_q q + W_s s_t)
        e = torch.tanh(s @ t["keys"].T + q @ t["query"].T) @ t["v"]
    else:  # Luong et al. (2015): e_t = q . s_t
        e = (s * q).sum(-1)
    a = torch.softmax(e, dim=0)
    ctx = (a[..., None] * s).sum(0)
    (ctx * torch.tensor(weights_out)).sum().backward()
    np.testing.assert_allclose(context, ctx.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cache.weights, a.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dquery, q.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dkeys, s.grad.numpy(), rtol=1e-9, atol=1e-12)
    for name, g in grads.items():
        np.testing.assert_allclose(g, t[name].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


def test_weights_are_a_distribution_and_a_sharp_query_picks_its_key(rng):
    keys = np.eye(T)[:, None, :].repeat(B, axis=1)  # (T, B, T): step t's key is the unit vector e_t
    query = 50.0 * keys[2]  # asks for step 2, loudly
    context, cache = attend({}, query, keys, None, "dot")
    assert np.all(cache.weights > 0)
    np.testing.assert_allclose(cache.weights.sum(axis=0), 1.0)
    np.testing.assert_allclose(context, keys[2], atol=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("score", ["additive", "dot"])
def test_translator_gradients_match_finite_differences(cell, score, rng):
    model = AttentionTranslator(4, 5, 6, cell=cell, score=score, attention_size=3, rng=1)
    for name, value in model.params.items():  # larger weights: gradients well above finite-difference noise
        value *= 3 if name.startswith("attention") else 1.5
    x = rng.normal(size=(4, 3, 4))
    y = rng.integers(1, 6, size=(5, 3))
    y[-1, 0] = 0  # one padded position, left out of the loss
    loss, grads = model.loss_and_grads(x, y)
    assert set(grads) == set(model.params)
    errors = check_gradients(lambda: model.loss_and_grads(x, y)[0], model.params, grads, eps=1e-5)
    assert max(errors.values()) < 1e-6, errors


def test_translator_gradient_reaches_the_first_source_step(rng):
    # The decoder's first query already sees every encoder state: the gradient
    # with respect to the first input step is there through the attention alone.
    model = AttentionTranslator(4, 5, 6, rng=2)
    x = rng.normal(size=(4, 2, 4))
    y = rng.integers(1, 6, size=(3, 2))

    def f():
        return model.loss_and_grads(x, y)[0]

    numeric = numerical_gradient(f, x)
    assert np.abs(numeric[0]).max() > 1e-4


def test_translate_shapes_and_weights(rng):
    model = AttentionTranslator(4, 5, 6, cell="gru", rng=0)
    tokens, weights = model.translate(rng.normal(size=(7, 3, 4)), 9)
    assert tokens.shape == (9, 3) and weights.shape == (9, 7, 3)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.generate(rng.normal(size=(7, 3, 4)), 2).shape, (2, 3))


def test_translator_learns_to_copy_in_reverse():
    # Write the 6 source symbols backwards: each output step must find one input step.
    rng = np.random.default_rng(0)
    from rnnbook import Adam, fit

    symbols = rng.integers(3, 8, size=(6, 600))
    x = np.eye(8)[symbols]
    y = np.concatenate([symbols[::-1], np.full((1, 600), 2)])
    model = AttentionTranslator(8, 16, 8, rng=0)
    fit(model, x[:, :500], y[:, :500], Adam(lr=0.01), epochs=30, batch_size=50, rng=0, max_norm=5.0)
    accuracy = sequence_accuracy(model.generate(x[:, 500:], 7), y[:, 500:])
    assert accuracy > 0.9, accuracy


def test_bad_input_is_refused_in_one_line():
    with pytest.raises(ValueError, match="score must be one of") as info:
        AttentionTranslator(4, 5, 6, score="cosine", rng=0)
    assert "\n" not in str(info.value)
    model = AttentionTranslator(4, 5, 6, rng=0)
    with pytest.raises(ValueError, match="targets"):
        model.loss_and_grads(np.zeros((3, 2, 4)), np.zeros((4, 5), dtype=int))
    with pytest.raises(ValueError, match="x"):
        model.loss_and_grads(np.zeros((3, 2, 5)), np.ones((4, 2), dtype=int))
    with pytest.raises(ValueError, match="bos"):
        AttentionTranslator(4, 5, 6, bos=9, rng=0)



def test_logits_are_the_scores_the_loss_is_computed_from(rng):
    from rnnbook.models.seq2seq import masked_cross_entropy

    model = AttentionTranslator(4, 5, 6, cell="lstm", rng=3)
    x, y = rng.normal(size=(4, 3, 4)), rng.integers(1, 6, size=(5, 3))
    loss, _ = model.loss_and_grads(x, y)
    assert model.logits(x, y).shape == (5, 3, 6)
    assert abs(masked_cross_entropy(model.logits(x, y), y)[0] - loss) < 1e-12
