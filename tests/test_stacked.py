"""Deep and bidirectional layers: equal to torch.nn.RNN/LSTM/GRU, gradient-checked, strict about states."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook.analysis.gradcheck import check_gradients, numerical_gradient, relative_error
from rnnbook.data.datasets import mirrored_negation_tags, negation_tags
from rnnbook.layers.stacked import Stacked
from rnnbook.models.tagger import StackedTagger

T, B, I, H = 5, 3, 4, 3  # noqa: E741 (I is the book's input size)
CELLS = ["rnn", "lstm", "gru"]


def _state(cell, layers, directions, rng, scale=0.5):
    shape = (layers * directions, B, H)
    if cell == "lstm":
        return rng.normal(scale=scale, size=shape), rng.normal(scale=scale, size=shape)
    return rng.normal(scale=scale, size=shape)


def _parts(state):
    return state if isinstance(state, tuple) else (state,)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("layers", [1, 2, 3])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_equal_to_torch(cell, layers, bidirectional, rng, torch):
    stack = Stacked(cell, I, H, layers, bidirectional, rng=rng)
    directions = 2 if bidirectional else 1
    x = rng.normal(size=(T, B, I))
    state0 = _state(cell, layers, directions, rng)
    output, trace = stack.forward(x, state0)
    final = stack.final_state(trace)
    # a loss that reaches every output and every final state: weighted sums
    doutput = rng.normal(size=output.shape)
    dfinal = tuple(rng.normal(size=p.shape) for p in _parts(final))
    dfinal_state = dfinal if cell == "lstm" else dfinal[0]
    grads, dx, dstate0 = stack.backward(trace, doutput, dfinal_state)

    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](
        I, H, num_layers=layers, bidirectional=bidirectional
    ).double()
    # the names ARE torch's: the state_dict loads as it is, strictly
    module.load_state_dict({k: torch.tensor(v) for k, v in stack.params.items()}, strict=True)
    tx = torch.tensor(x, requires_grad=True)
    t0 = tuple(torch.tensor(p, requires_grad=True) for p in _parts(state0))
    tout, tfinal = module(tx, t0 if cell == "lstm" else t0[0])
    tfinal = tfinal if cell == "lstm" else (tfinal,)
    loss = (tout * torch.tensor(doutput)).sum()
    loss = loss + sum((f * torch.tensor(d)).sum() for f, d in zip(tfinal, dfinal, strict=True))
    loss.backward()

    np.testing.assert_allclose(output, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert output.shape == (T, B, directions * H)
    for ours, theirs in zip(_parts(final), tfinal, strict=True):
        assert ours.shape == (layers * directions, B, H)
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    named = dict(module.named_parameters())
    assert list(grads) == list(named), "gradients must come in torch's order, with torch's names"
    for name, g in grads.items():
        np.testing.assert_allclose(g, named[name].grad.numpy(), rtol=1e-8, atol=1e-11, err_msg=name)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-8, atol=1e-11)
    for ours, theirs in zip(_parts(dstate0), t0, strict=True):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-8, atol=1e-11)


@pytest.mark.parametrize("cell", CELLS)
def test_gradients_match_finite_differences(cell, rng):
    stack = Stacked(cell, I, H, 2, True, rng=rng)
    x = rng.normal(size=(T, B, I))
    state0 = _state(cell, 2, 2, rng)
    weights = rng.normal(size=(T, B, 2 * H))
    dfinal = tuple(rng.normal(size=p.shape) for p in _parts(state0))

    def loss():
        output, trace = stack.forward(x, state0)
        final = _parts(stack.final_state(trace))
        return float((output * weights).sum() + sum((f * d).sum() for f, d in zip(final, dfinal, strict=True)))

    _, trace = stack.forward(x, state0)
    grads, dx, dstate0 = stack.backward(trace, weights, dfinal if cell == "lstm" else dfinal[0])
    errors = check_gradients(loss, stack.params, grads)
    assert max(errors.values()) < 1e-7, errors
    assert relative_error(dx, numerical_gradient(loss, x)) < 1e-7
    for ours, part in zip(_parts(dstate0), _parts(state0), strict=True):
        assert relative_error(ours, numerical_gradient(loss, part)) < 1e-7


def test_one_layer_one_direction_is_the_single_layer(rng):
    from rnnbook.layers.lstm import LSTM

    stack = Stacked("lstm", I, H, rng=0)
    single = LSTM(I, H, rng=0)
    x = rng.normal(size=(T, B, I))
    np.testing.assert_array_equal(stack.forward(x)[0], single.forward(x)[0])
    assert stack.parameter_names() == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]


def test_reverse_direction_reads_from_the_end(rng):
    # The reverse direction's output at the last step has read only x_T.
    stack = Stacked("rnn", I, H, 1, True, rng=0)
    x = rng.normal(size=(T, B, I))
    changed = x.copy()
    changed[0] += 1.0
    out, _ = stack.forward(x)
    out2, _ = stack.forward(changed)
    np.testing.assert_array_equal(out[-1, :, H:], out2[-1, :, H:])
    assert not np.allclose(out[0, :, H:], out2[0, :, H:])
    assert not np.allclose(out[-1, :, :H], out2[-1, :, :H])


def test_step_matches_run_for_a_deep_one_directional_stack(rng):
    stack = Stacked("gru", I, H, 3, rng=0)
    x = rng.normal(size=(T, B, I))
    output, trace = stack.forward(x)
    state = stack.init_state(B)
    for t in range(T):
        out, state = stack.step(x[t], state)
        np.testing.assert_allclose(out, output[t], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(state, stack.final_state(trace), rtol=1e-12, atol=1e-14)


def test_params_assignment_rebinds_the_cells(rng):
    stack = Stacked("rnn", I, H, 2, rng=0)
    new = {k: np.zeros_like(v) for k, v in stack.params.items()}
    stack.params = new
    out, _ = stack.forward(rng.normal(size=(T, B, I)))
    np.testing.assert_array_equal(out, 0.0)


@pytest.mark.parametrize(
    ("cell", "state", "message"),
    [
        ("gru", np.zeros((1, B, H)), r"state0 must have shape \(4, 3, 3\)"),  # one layer's worth for 2x2
        ("rnn", np.zeros((4, B, H + 1)), r"state0 must have shape \(4, 3, 3\)"),
        ("lstm", np.zeros((4, B, H)), r"state0 must be a tuple \(h, c\)"),
        ("lstm", (np.zeros((4, B, H)), np.zeros((2, B, H))), r"state0\[1\] \(c\) must have shape"),
    ],
)
def test_bad_states_are_refused_in_one_line(cell, state, message, rng):
    stack = Stacked(cell, I, H, 2, True, rng=0)
    with pytest.raises(ValueError, match=message) as info:
        stack.forward(rng.normal(size=(T, B, I)), state)
    assert "\n" not in str(info.value)


def test_bad_settings_are_refused(rng):
    with pytest.raises(ValueError, match="num_layers"):
        Stacked("rnn", I, H, 0, rng=0)
    with pytest.raises(TypeError, match="bidirectional"):
        Stacked("rnn", I, H, 1, "yes", rng=0)
    with pytest.raises(ValueError, match="cannot step"):
        Stacked("rnn", I, H, 1, True, rng=0).step(np.zeros((B, I)), np.zeros((2, B, H)))
    with pytest.raises(ValueError, match="params must hold exactly"):
        Stacked("rnn", I, H, 2, rng=0).params = {"weight_ih_l0": np.zeros((H, I))}


# -- the character model is built on the stacked layer ----------------------------------


def test_char_model_params_are_torch_names_and_it_matches_torch(rng, torch):
    from rnnbook.models.charmodel import CharModel

    model = CharModel(7, 5, cell="lstm", layers=2, rng=0)
    assert [k for k in model.params if k.startswith("rnn.")] == [f"rnn.{n}" for n in model.rnn.parameter_names()]
    lstm = torch.nn.LSTM(7, 5, num_layers=2).double()
    lstm.load_state_dict({k[len("rnn."):]: torch.tensor(v) for k, v in model.params.items() if k.startswith("rnn.")})
    ids = rng.integers(0, 7, size=(6, 2))
    top = model.run(ids)[1][-1]
    with torch.no_grad():
        theirs = lstm(torch.nn.functional.one_hot(torch.from_numpy(ids), 7).double())[0].numpy()
    np.testing.assert_allclose(top, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell", CELLS)
def test_char_model_gradients_and_steps(cell, rng):
    from rnnbook.models.charmodel import CharModel

    model = CharModel(6, 4, cell=cell, layers=2, rng=1)
    ids, targets = rng.integers(0, 6, size=(5, 2)), rng.integers(0, 6, size=(5, 2))
    state0 = model.run(rng.integers(0, 6, size=(3, 2)))[3]  # a non-zero start, one state per layer
    loss, grads = model.loss_and_grads(ids, targets, state0)
    errors = check_gradients(lambda: model.loss_and_grads(ids, targets, state0)[0], model.params, grads)
    assert max(errors.values()) < 1e-6, errors
    logits = model.logits(ids, state0)
    state = state0
    for t in range(ids.shape[0]):
        step_logits, state = model.step(ids[t], state)
        np.testing.assert_allclose(step_logits, logits[t], rtol=1e-10, atol=1e-12)


def test_a_checkpoint_with_the_old_layer_names_still_loads_and_resumes(tmp_path):
    from rnnbook.models.charmodel import CharModel
    from rnnbook.training import checkpoint
    from rnnbook.training.chartrainer import CharTrainer

    rng = np.random.default_rng(0)
    ids = rng.integers(0, 6, size=400)
    vocab_chars = "abcdef"
    from rnnbook.data.encoding import Vocabulary

    vocab = Vocabulary(vocab_chars, specials=False)
    trainer = CharTrainer(CharModel(6, 4, cell="gru", layers=2, rng=0), ids, seq_len=10, batch_size=4, lr=0.01,
                          max_norm=5.0, rng=0)
    for _ in range(3):
        trainer.train_step()
    checkpoint.save_training(tmp_path / "new", trainer, vocab)
    arrays, meta = checkpoint.load(tmp_path / "new")

    def old(name: str) -> str:  # the layout before the stacked layer: layer{k}.weight_ih
        import re

        return re.sub(r"rnn\.(weight_ih|weight_hh|bias_ih|bias_hh)_l(\d+)", r"layer\2.\1", name)

    old_arrays = {old(k): v for k, v in arrays.items()}
    assert "param/layer1.weight_hh" in old_arrays and "optim/layer0.bias_ih/m" in old_arrays
    checkpoint.save(tmp_path / "old", old_arrays, meta)
    resumed, _, _ = checkpoint.load_training(tmp_path / "old", ids)
    for name, value in trainer.model.params.items():
        np.testing.assert_array_equal(resumed.model.params[name], value)
    assert resumed.optimizer.state.keys() == trainer.optimizer.state.keys()
    np.testing.assert_array_equal(resumed.train_step(), trainer.train_step())


def test_stacked_tagger_gradients_and_mirrored_tags():
    # a "not" after a word negates it in the mirrored task, exactly as one before it does in the plain one
    sentence = ["good", "not", "but", "fun"]
    assert mirrored_negation_tags([sentence], length=5)[:, 0].tolist() == (
        [0] + negation_tags([sentence[::-1]])[:, 0][::-1].tolist()
    )
    rng = np.random.default_rng(0)
    tagger = StackedTagger(5, 3, 3, bidirectional=True, rng=1)
    x, tags = rng.normal(size=(4, 2, 5)), np.array([[1, 2], [2, 1], [0, 1], [1, 1]])
    _, grads = tagger.loss_and_grads(x, tags)
    errors = check_gradients(lambda: tagger.loss_and_grads(x, tags)[0], tagger.params, grads)
    assert max(errors.values()) < 1e-6, errors
    with pytest.raises(TypeError, match="bidirectional"):
        StackedTagger(5, 3, 3, bidirectional="yes", rng=1)
