"""What a second adversarial reader of the book found in the library (after tests/test_adversarial.py).

Each test is one defect and failed before its fix: a docstring example that
no longer ran, an AttributeError/IndexError/KeyError or a numpy message from
deep inside, or a silently wrong answer.  Now each is a one-line
ValueError/TypeError naming what was expected and what was given, or the
right answer.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import rnnbook
from rnnbook import SGD, Adam, accuracy, backprop_through_time, clip_gradients, fit, global_norm, init_params
from rnnbook.analysis.experiments import cell_sweep
from rnnbook.analysis.gradcheck import numerical_gradient
from rnnbook.data.datasets import bag_of_words
from rnnbook.data.encoding import Vocabulary
from rnnbook.layers.rnn import unroll
from rnnbook.layers.stacked import Stacked
from rnnbook.models.attention import AttentionTranslator
from rnnbook.models.charmodel import CharModel, sample, tempered
from rnnbook.models.classifiers import SequenceClassifier
from rnnbook.models.decoding import beam_search, sample_outputs, sequence_log_likelihood
from rnnbook.models.seq2seq import Captioner, Translator, masked_cross_entropy

#: Modules that need more than numpy to import (matplotlib for the diagrams).
_NEEDS_MORE = {"rnnbook.analysis.diagrams"}


def _modules():
    for info in pkgutil.walk_packages(rnnbook.__path__, "rnnbook."):
        if info.name not in _NEEDS_MORE:
            yield info.name


@pytest.mark.parametrize("name", sorted(_modules()))
def test_every_docstring_example_runs(name):
    # The LSTM's and the GRU's examples imported rnnbook.lstm and rnnbook.gru, modules that the
    # package's new layout (rnnbook.layers.*) no longer has: a reader copying them got ModuleNotFoundError.
    module = importlib.import_module(name)
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in finder.find(module, name):  # run as pytest --doctest-modules would, in the module's namespace
        runner.run(test)
    assert runner.failures == 0, f"{runner.failures} failing docstring example(s) in {name}"


# -- decoding ------------------------------------------------------------------------------------


@pytest.fixture(params=[Translator, AttentionTranslator])
def translator(request):
    return request.param(3, 4, 6, cell="lstm", rng=0)


SOURCE = np.random.default_rng(0).normal(size=(4, 2, 3))


@pytest.mark.parametrize("eos", [99, -1, "a", 2.0])
def test_beam_search_checks_the_end_token(translator, eos):
    # 99 and "a" gave IndexErrors from inside; -1 was read by numpy as the last token, silently.
    with pytest.raises((ValueError, TypeError), match=r"eos .*\[0, 6\)"):
        beam_search(translator, SOURCE, 5, 2, eos=eos)


@pytest.mark.parametrize("eos", [99, "a"])
def test_sequence_log_likelihood_checks_the_end_token(translator, eos):
    # "a" was compared with the tokens, never matched, and every token after the end counted.
    outputs = np.ones((5, 2), dtype=np.int64)
    with pytest.raises((ValueError, TypeError), match=r"eos .*\[0, 6\)"):
        sequence_log_likelihood(translator, SOURCE, outputs, eos=eos)


def test_decoding_refuses_a_list_source_and_a_non_translator(translator):
    # AttributeError: 'list' object has no attribute 'shape' / 'str' object has no attribute 'logits'.
    with pytest.raises(TypeError, match="numpy array"):
        beam_search(translator, SOURCE.tolist(), 5, 2)
    with pytest.raises(TypeError, match="numpy array"):
        sample_outputs(translator, SOURCE.tolist(), 5, 1.0, np.random.default_rng(0))
    with pytest.raises(TypeError, match="Translator"):
        sample_outputs("model", SOURCE, 5, 1.0, np.random.default_rng(0))
    with pytest.raises(TypeError, match="Translator"):
        sequence_log_likelihood("model", SOURCE, np.ones((5, 2), dtype=np.int64))


def test_sample_outputs_takes_a_seed_like_everything_else(translator):
    # rng=0 (a seed, which every other function of the package accepts) gave
    # AttributeError: 'int' object has no attribute 'random'.
    a = sample_outputs(translator, SOURCE, 5, 1.0, 0)
    b = sample_outputs(translator, SOURCE, 5, 1.0, np.random.default_rng(0))
    assert np.array_equal(a, b)


def test_masked_cross_entropy_checks_logits_and_pad():
    targets = np.ones((5, 2), dtype=np.int64)
    logits = np.zeros((5, 2, 6))
    with pytest.raises(TypeError, match="logits"):  # was AttributeError
        masked_cross_entropy(logits.tolist(), targets)
    with pytest.raises((ValueError, TypeError), match=r"pad .*\[0, 6\)"):  # was silently "nothing is padding"
        masked_cross_entropy(logits, targets, pad="x")


def test_attention_size_is_checked_even_when_unused():
    # attention_size=-5 with the dot score (which has no scoring layer) was silently ignored.
    with pytest.raises(ValueError, match="attention_size"):
        AttentionTranslator(3, 4, 6, score="dot", attention_size=-5, rng=0)


def test_captioner_names_a_bad_dtype():
    # numpy's "data type 'foo' not understood" did not say what the dtype may be.
    with pytest.raises(TypeError, match="float32 or float64"):
        Captioner(3, 4, 6, dtype="foo", rng=0)


# -- the character model -------------------------------------------------------------------------


def test_stacked_backward_checks_its_trace():
    # AttributeError: 'str' object has no attribute 'output'.
    layer = Stacked("gru", 3, 4, 2, True, rng=0)
    out, _ = layer.forward(SOURCE)
    with pytest.raises(TypeError, match="trace"):
        layer.backward("trace", np.ones_like(out))


def test_char_model_refuses_an_empty_sequence():
    # IndexError: index -1 is out of bounds for axis 0 with size 0, from inside the layers.
    with pytest.raises(ValueError, match="ids"):
        CharModel(5, 4, rng=0).logits(np.zeros((0, 2), dtype=np.int64))


@pytest.mark.parametrize("bad", ["list", "nan"])
def test_load_params_checks_the_arrays(bad):
    # A list gave AttributeError ('list' object has no attribute 'shape'); NaN weights loaded silently.
    model = CharModel(5, 4, rng=0)
    params = {k: (v.tolist() if bad == "list" else np.full_like(v, np.nan)) for k, v in model.params.items()}
    before = {k: v.copy() for k, v in model.params.items()}
    with pytest.raises((TypeError, ValueError), match="readout.bias|rnn."):
        model.load_params(params)
    assert all(np.array_equal(before[k], v) for k, v in model.params.items())


def test_sample_checks_model_and_vocabulary():
    # "argument of type 'builtin_function_or_method' is not iterable" for a str vocabulary,
    # AttributeError for a model that is not one.
    model, vocab = CharModel(5, 4, rng=0), Vocabulary.from_text("abcde")
    with pytest.raises(TypeError, match="Vocabulary"):
        sample(model, "abcde", 10, rng=0)
    with pytest.raises(TypeError, match="CharModel"):
        sample("model", vocab, 10, rng=0)


@pytest.mark.parametrize(
    "scores, error",
    [([0.0, 1.0], TypeError), (np.array([1, 2]), TypeError), (np.array([np.nan, 1.0]), ValueError),
     (np.array([np.inf, 1.0]), ValueError)],
)
def test_tempered_checks_its_scores(scores, error):
    # A list: AttributeError; integers: numpy's UFuncTypeError; NaN and inf: NaN probabilities and a warning.
    with pytest.raises(error, match="scores"):
        tempered(scores, 1.0)


def test_vocabulary_from_text_wants_a_string():
    # A list of words became a vocabulary of whole words, silently: from_text(["ab"]) had one symbol, "ab".
    with pytest.raises(TypeError, match="text must be a str"):
        Vocabulary.from_text(["ab"])


# -- training --------------------------------------------------------------------------------------


def test_global_norm_of_large_float32_gradients():
    # The squares were summed in float32 and overflowed at 1.8e19: a finite gradient of norm 2e19
    # had norm inf, clip_gradients then multiplied every gradient by 0 and fit reported divergence.
    grads = {"w": np.full(4, 1e19, dtype=np.float32), "b": np.full(2, -1e19, dtype=np.float32)}
    assert global_norm(grads) == pytest.approx(np.sqrt(6) * 1e19, rel=1e-6)
    clip_gradients(grads, 1.0)
    assert global_norm(grads) == pytest.approx(1.0, rel=1e-5)
    assert np.all(grads["w"] > 0) and np.all(grads["b"] < 0)


def test_global_norm_beyond_float64_squares():
    grads = {"w": np.full(4, 1e200)}
    assert global_norm(grads) == pytest.approx(2e200)


def test_accuracy_checks_its_labels():
    # A batch of 2 labels for 4 examples: numpy's "operands could not be broadcast together".
    model = SequenceClassifier(3, 4, 2, rng=0)
    x = np.random.default_rng(0).normal(size=(5, 4, 3))
    with pytest.raises(ValueError, match=r"y must have shape \(4,\)"):
        accuracy(model, x, np.zeros(2, dtype=np.int64))
    with pytest.raises(TypeError, match="y must be an integer"):
        accuracy(model, x, np.zeros(4))


def test_fit_checks_the_model_and_the_examples():
    model = SequenceClassifier(3, 4, 2, rng=0)
    x, y = np.zeros((5, 0, 3)), np.zeros(0, dtype=np.int64)
    with pytest.raises(ValueError, match="no examples"):  # returned [] and trained nothing
        fit(model, x, y, SGD(lr=0.1), epochs=1, batch_size=2, rng=0)
    with pytest.raises(TypeError, match="loss_and_grads"):  # AttributeError
        fit("model", np.zeros((5, 2, 3)), np.zeros(2, dtype=np.int64), SGD(lr=0.1), epochs=1, batch_size=2, rng=0)


def test_optimizer_refuses_a_gradient_of_another_dtype():
    # A float32 gradient was applied to float64 parameters without a word.
    with pytest.raises(TypeError, match="float64"):
        SGD(lr=0.1).step({"w": np.ones(3)}, {"w": np.ones(3, dtype=np.float32)})


def test_optimizer_names_a_read_only_parameter():
    # numpy's "output array is read-only" did not say which array.
    frozen = np.ones(3)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="w .*read-only"):
        Adam(lr=0.1).step({"w": frozen}, {"w": np.ones(3)})


def test_adam_names_parameters_whose_shape_changed():
    # "operands could not be broadcast together with shapes (3,) (4,) (3,)".
    opt = Adam(lr=0.1)
    opt.step({"w": np.ones(3)}, {"w": np.ones(3)})
    with pytest.raises(ValueError, match="memory of w"):
        opt.step({"w": np.ones(4)}, {"w": np.ones(4)})


@pytest.mark.parametrize("state", [{"x": 5}, "x", {"steps": np.array(1), "w": np.ones(2)}])
def test_load_state_dict_checks_what_it_is_given(state):
    # KeyError: 'steps'; TypeError: string indices must be integers; ValueError from rsplit.
    with pytest.raises((TypeError, ValueError), match="state"):
        Adam(lr=0.1).load_state_dict(state)


def test_backprop_through_time_refuses_params_of_another_cell():
    # numpy's "shapes (4,4) and (16,4) not aligned" for an LSTM's parameters.
    params = init_params(3, 4, rng=0)
    _, trace = unroll(params, SOURCE)
    with pytest.raises(ValueError, match="weight_hh"):
        backprop_through_time(init_params(3, 4, rng=0, gates=4), trace, np.ones((4, 2, 4)))


@pytest.mark.parametrize("f, fragment", [(lambda: np.ones(2), "scalar"), (lambda: float("nan"), "finite")])
def test_numerical_gradient_checks_what_f_returns(f, fragment):
    # "setting an array element with a sequence"; a NaN gradient without a word.
    with pytest.raises((TypeError, ValueError), match=fragment):
        numerical_gradient(f, np.zeros(3))


def test_cell_sweep_wants_a_mapping():
    # AttributeError: 'list' object has no attribute 'items'.
    with pytest.raises(TypeError, match="cells"):
        cell_sweep(["rnn"], [3], [0])


def test_bag_of_words_wants_sequences():
    # A 1-d array gave an IndexError (too many indices for array).
    with pytest.raises(ValueError, match=r"\(T, N\)"):
        bag_of_words(np.array([3, 4]), 5)


@pytest.mark.parametrize(
    "arrays, metadata, error",
    [({"a": np.ones(2)}, {"loss": float("nan")}, ValueError),  # was written, then refused by every load
     ({"a": np.ones(2)}, {"tags": {1, 2}}, ValueError),  # json's "Object of type set is not JSON serializable"
     ({"a": [1, 2]}, {}, TypeError),  # AttributeError: 'list' object has no attribute 'dtype'
     ({"__metadata__": np.ones(2)}, {}, ValueError)],  # numpy.savez() got multiple values for keyword argument
)
def test_checkpoint_save_refuses_what_it_could_not_load(arrays, metadata, error, tmp_path):
    from rnnbook.training import checkpoint

    with pytest.raises(error, match="metadata|array"):
        checkpoint.save(tmp_path / "run", arrays, metadata)
    assert not (tmp_path / "run" / "checkpoint.npz").exists()


@pytest.mark.parametrize("which", ["x", "state"])
def test_step_names_the_shapes_that_do_not_fit(which):
    # numpy's "matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature ...".
    from rnnbook import step

    params = init_params(3, 4, rng=0)
    x, state = np.zeros((2, 3)), np.zeros((2, 4))
    if which == "x":
        x = np.zeros((2, 2))
    else:
        state = np.zeros((2, 5))
    with pytest.raises(ValueError, match=r"x \(B, I\), state \(B, H\).*got x \(2, \d\), state \(2, \d\)"):
        step(x, state, **params)


def test_a_vocabulary_answers_membership():
    # "'z' in vocab" raised TypeError: argument of type 'Vocabulary' is not iterable.
    vocab = Vocabulary.from_text("hello")
    assert "h" in vocab and "z" not in vocab and 3 not in vocab
    assert list(vocab) == ["e", "h", "l", "o"]


def test_mlp_classifier_wants_one_row_per_example():
    # A sequence (T, B, I) was accepted and scored step by step: logits (T, B, C), where (B, C) is documented.
    from rnnbook import MLPClassifier

    with pytest.raises(ValueError, match=r"x must have 2 dimensions"):
        MLPClassifier(3, 4, 2, rng=0).logits(SOURCE)


@pytest.mark.parametrize("bad", ["nan", "other-cell", "list", "float32-layer"])
def test_stacked_forward_checks_its_parameters(bad):
    # Stacked.forward checked x but not the parameters: a NaN weight gave NaN outputs silently, a GRU's
    # parameters in an LSTM stack a numpy broadcast error, a list an AttributeError.
    stack = Stacked("lstm", 3, 4, 2, rng=0)
    params = {k: v.copy() for k, v in stack.params.items()}
    if bad == "nan":
        params["weight_hh_l1"][0, 0] = np.nan
    elif bad == "other-cell":
        params = dict(Stacked("gru", 3, 4, 2, rng=0).params)
    elif bad == "list":
        params["weight_ih_l0"] = params["weight_ih_l0"].tolist()
    else:
        params |= {k: v.astype(np.float32) for k, v in params.items() if k.endswith("_l1")}
    stack.params = params
    with pytest.raises((TypeError, ValueError), match=r"layer \d"):
        stack.forward(SOURCE)


@pytest.mark.parametrize("batch", [1, 2])
def test_lstm_step_refuses_an_array_for_its_state(batch):
    # An array (B, H) where (h, c) goes was unpacked row by row: "not enough values to unpack" for B = 1,
    # an IndexError (tuple index out of range) for B = 2, whose two rows became h and c.
    from rnnbook import LSTM

    layer = LSTM(3, 4, rng=0)
    with pytest.raises(TypeError, match=r"tuple \(h, c\)"):
        layer.step(np.zeros((batch, 3)), np.zeros((batch, 4)))


@pytest.mark.parametrize("cell", ["RNN", "GRU"])
def test_one_array_cells_refuse_a_tuple_state_in_step(cell):
    # An LSTM's (h, c) given to RNN.step: numpy's "non-broadcastable output operand"; to GRU.step an
    # AttributeError ('tuple' object has no attribute 'shape').
    layer = getattr(rnnbook, cell)(3, 4, rng=0)
    with pytest.raises(TypeError, match=r"one \(B, H\) array, got tuple"):
        layer.step(np.zeros((2, 3)), (np.zeros((2, 4)), np.zeros((2, 4))))


def test_clipping_names_a_read_only_gradient():
    # numpy's "output array is read-only" (or, for clip_elementwise, a list gave an AttributeError).
    from rnnbook import clip_elementwise

    frozen = np.full(3, 10.0)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="gradient of w is read-only"):
        clip_gradients({"w": frozen}, 1.0)
    with pytest.raises(ValueError, match="gradient of w is read-only"):
        clip_elementwise({"w": frozen}, 1.0)
    with pytest.raises(TypeError, match="gradient of w"):
        clip_elementwise({"w": [1.0, 2.0]}, 1.0)
