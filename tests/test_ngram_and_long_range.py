"""The n-gram baseline (rnnbook.models.ngram) and the helpers behind chapters 7 and 8 (rnnbook.analysis)."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook.analysis.experiments import cell_sweep, lag_sweep
from rnnbook.analysis.gradients import forget_gate_products, memory_jacobian_norms
from rnnbook.analysis.text import char_losses, compiles_alone, compiling_share, long_range_positions
from rnnbook.layers.lstm import LSTM
from rnnbook.layers.rnn import RNN
from rnnbook.models.charmodel import CharModel
from rnnbook.models.ngram import NGramModel
from rnnbook.training.chartrainer import evaluate

# -- the n-gram model -------------------------------------------------------------


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("smoothing", [0.1, 1.0])
def test_ngram_probabilities_sum_to_one_for_every_context(order, smoothing):
    rng = np.random.default_rng(0)
    vocab = 4
    model = NGramModel(order, vocab, smoothing=smoothing).fit(rng.integers(0, vocab, size=200))
    for context in [[0, 1], [3, 3], [2, 0]]:
        total = sum(np.exp(model.log_probs(np.array(context + [x]))[-1]) for x in range(vocab))
        assert total == pytest.approx(1.0, abs=1e-12)


def test_ngram_matches_the_add_k_formula_counted_by_hand():
    text = np.array([0, 1, 0, 2, 0, 1, 1])  # after 0: 1, 2, 1 (three times); after 1: 0, 1
    model = NGramModel(2, 3, smoothing=0.5).fit(text)
    probs = np.exp(model.log_probs(np.array([0, 1, 1, 0, 0])))
    assert probs[1] == pytest.approx((2 + 0.5) / (3 + 1.5))  # P(1 | 0)
    assert probs[2] == pytest.approx((1 + 0.5) / (2 + 1.5))  # P(1 | 1)
    assert probs[3] == pytest.approx((1 + 0.5) / (2 + 1.5))  # P(0 | 1)
    assert probs[4] == pytest.approx((0 + 0.5) / (3 + 1.5))  # P(0 | 0): never seen, smoothed


def test_ngram_unseen_context_is_uniform_and_unigram_is_the_frequencies():
    model = NGramModel(3, 5, smoothing=1.0).fit(np.array([0, 1, 0, 1, 0, 1]))
    assert np.exp(model.log_probs(np.array([4, 4, 2]))[-1]) == pytest.approx(1 / 5)
    unigram = NGramModel(1, 2, smoothing=1e-9).fit(np.array([0, 0, 0, 1]))
    assert np.exp(unigram.log_probs(np.array([0, 1]))) == pytest.approx([0.75, 0.25])


def test_ngram_loss_leaves_out_the_first_character():
    model = NGramModel(2, 3).fit(np.array([0, 1, 2, 0, 1, 2]))
    ids = np.array([2, 0, 1])
    assert model.loss(ids) == pytest.approx(-model.log_probs(ids)[1:].mean())


def test_a_longer_context_fits_its_own_training_text_better():
    rng = np.random.default_rng(1)
    text = np.tile(rng.integers(0, 6, size=50), 20)  # a repeated random block: order helps
    losses = [NGramModel(n, 6, smoothing=0.01).fit(text).loss(text) for n in (1, 2, 3)]
    assert losses[0] > losses[1] > losses[2]


@pytest.mark.parametrize(
    ("ids", "error", "message"),
    [
        (np.array([0, 5]), ValueError, r"ids must be in \[0, 3\), got 0 to 5"),
        (np.array([[0, 1]]), TypeError, "ids must be a 1-d integer array"),
        (np.array([0.0, 1.0]), TypeError, "ids must be a 1-d integer array"),
    ],
)
def test_ngram_refuses_bad_ids(ids, error, message):
    with pytest.raises(error, match=message):
        NGramModel(2, 3).fit(ids)


def test_ngram_refuses_bad_settings():
    with pytest.raises((TypeError, ValueError), match="order"):
        NGramModel(0, 3)
    with pytest.raises((TypeError, ValueError), match="smoothing"):
        NGramModel(2, 3, smoothing=0.0)
    with pytest.raises(ValueError, match="at least 2 characters"):
        NGramModel(2, 3).fit(np.array([0, 1])).loss(np.array([1]))


# -- per-character losses of a recurrent model -------------------------------------


def test_char_losses_average_to_the_evaluated_loss():
    rng = np.random.default_rng(2)
    model = CharModel(7, 5, cell="lstm", rng=rng)
    ids = rng.integers(0, 7, size=40)
    losses = char_losses(model, ids)
    assert losses.shape == (39,)
    assert np.all(losses > 0)
    assert losses.mean() == pytest.approx(evaluate(model, ids, streams=1, seq_len=100), rel=1e-10)


def test_char_losses_refuses_a_text_too_short():
    with pytest.raises(ValueError, match="at least 2 characters"):
        char_losses(CharModel(3, 2, rng=0), np.array([1]))


# -- long-range positions in Python source ----------------------------------------


def test_long_range_positions_find_far_brackets_quotes_and_indentation():
    source = 'x = (1,\n     2)\ny = (3)\ns = """abcdefghij"""\nif x:\n    y = 1\n'
    found = long_range_positions(source, 5)
    assert [source[p] for p in found["closing bracket"]] == [")"]
    assert found["closing bracket"][0] == source.index("2)") + 1  # the near "(3)" is left out
    quote = found["closing quote"][0]
    assert source[quote : quote + 3] == '"""' and source[quote - 1] == "j"
    block = source.index("    y = 1")
    assert list(found["indentation after a colon"]) == list(range(block, block + 5))  # 4 spaces and the "y"


def test_long_range_positions_respects_the_distance():
    source = "x = (1, 2, 3)\n"
    assert len(long_range_positions(source, 5)["closing bracket"]) == 1
    assert len(long_range_positions(source, 20)["closing bracket"]) == 0


# -- the belt alone ----------------------------------------------------------------


def test_forget_gate_products_are_at_most_one_and_fall_with_the_lag():
    layer = LSTM(2, 3, rng=0)
    x = np.random.default_rng(3).normal(size=(12, 1, 2))
    products = forget_gate_products(layer, x, range(1, 13))
    assert np.all(products <= 1.0) and np.all(np.diff(products) <= 0)


def test_an_open_belt_alone_is_the_whole_jacobian():
    layer = LSTM(1, 2, rng=0)
    for name in layer.params:
        layer.params[name][:] = 0.0
    layer.params["bias_ih"][0:2] = -40.0  # input gate shut
    layer.params["bias_ih"][2:4] = 40.0  # forget gate open
    x = np.zeros((20, 1, 1))
    assert forget_gate_products(layer, x, [5, 20]) == pytest.approx([1.0, 1.0])
    assert memory_jacobian_norms(layer, x, [5, 20]) == pytest.approx([1.0, 1.0])


def test_forget_gate_products_refuse_other_layers_and_long_lags():
    with pytest.raises(TypeError, match="with a cell state .an LSTM., got RNN"):
        forget_gate_products(RNN(1, 2, rng=0), np.zeros((3, 1, 1)), [1])
    with pytest.raises(ValueError, match="at most the sequence length 3"):
        forget_gate_products(LSTM(1, 2, rng=0), np.zeros((3, 1, 1)), [4])


# -- several seeds -------------------------------------------------------------------


def test_cell_sweep_runs_every_cell_seed_and_lag_like_lag_sweep():
    settings = dict(n_train=20, n_test=10, epochs=1, batch_size=10)
    results = cell_sweep({"rnn": 3, "gru": 2}, [3, 4], [0, 1], **settings)
    assert set(results) == {"rnn", "gru"}
    assert [[r.lag for r in runs] for runs in results["gru"]] == [[3, 4], [3, 4]]
    again = lag_sweep([3, 4], seed=1, cell="gru", hidden_size=2, **settings)
    assert [r.test_mse for r in again] == [r.test_mse for r in results["gru"][1]]
    assert results["rnn"][0][0].test_mse != results["rnn"][1][0].test_mse


def test_cell_sweep_refuses_no_seeds():
    with pytest.raises(ValueError, match="must not be empty"):
        cell_sweep({"rnn": 3}, [3], [])


def test_ngram_next_log_probs_are_the_log_probs_of_the_text():
    ids = np.array([0, 1, 2, 0, 1, 1, 2, 0, 2, 1])
    model = NGramModel(3, 3, smoothing=0.5).fit(ids)
    by_position = model.log_probs(ids)
    for t in range(len(ids)):
        following = model.next_log_probs(ids[:t])
        assert np.isclose(np.exp(following).sum(), 1.0)
        assert np.isclose(following[ids[t]], by_position[t])  # a short context is padded like the text's start


def test_ngram_sample_follows_the_counts_and_the_seed():
    ids = np.array([0, 1, 2] * 30)
    model = NGramModel(2, 3, smoothing=0.01).fit(ids)
    written = model.sample(30, prime=np.array([0]), temperature=0.1, rng=0)
    assert written.tolist() == ([1, 2, 0] * 10)  # after 0 comes 1, after 1 comes 2, ...
    first, again = (model.sample(50, prime=np.array([0]), temperature=3.0, rng=5) for _ in range(2))
    assert first.tolist() == again.tolist() and first.shape == (50,)
    with pytest.raises(ValueError, match="temperature"):
        model.sample(5, prime=np.array([0]), temperature=0.0, rng=0)


@pytest.mark.parametrize(
    ("line", "valid"),
    [
        ("x = f(a, b)", True),
        ("def area(width, height):", True),  # a block opener gets a pass body
        ("else:", True),  # a continuation gets the block it continues
        ("except KeyError as err:", True),
        ("return self._items[0]", True),  # valid inside a function
        ("yield from parts", True),
        ("foo(a,", False),  # an open bracket
        ("Return the first item.", False),  # prose
        ("def area(width:", False),
        ("", False),
    ],
)
def test_compiles_alone(line, valid):
    assert compiles_alone(line) is valid


def test_compiling_share_skips_comments_blank_lines_and_a_cut_last_line():
    text = "x = 1\n\n# a comment\nthe end of\n    return x\nfoo(a,"
    assert compiling_share(text) == (2 / 3, 3)  # x = 1, return x, not 'the end of'; 'foo(a,' is cut off
    assert compiling_share(text + "\n") == (2 / 4, 4)
    assert compiling_share("no newline") == (0.0, 0)
