"""Beam search: beam 1 is greedy decoding, and a wide enough beam finds the most likely output."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rnnbook.models.attention import AttentionTranslator
from rnnbook.models.decoding import beam_search, sample_outputs, sequence_log_likelihood
from rnnbook.models.seq2seq import Translator


def _models():
    return [
        Translator(4, 6, 5, cell="lstm", rng=0),
        Translator(4, 6, 5, feed_context=False, rng=1),
        AttentionTranslator(4, 6, 5, cell="gru", rng=2),
    ]


def _upto_end(column, eos=2):
    ends = np.flatnonzero(column == eos)
    return tuple(column[: ends[0] + 1] if ends.size else column)


def _log_probability(model, source, outputs):
    """Summed log-probability of ``outputs`` (T', N) by teacher forcing."""
    logits = model.logits(source, outputs)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return np.take_along_axis(log_p, outputs[..., None], axis=-1)[..., 0].sum(axis=0)


@pytest.mark.parametrize("model", _models(), ids=["lstm", "start-only", "attention"])
def test_beam_of_one_is_greedy(model, rng):
    source = rng.normal(size=(5, 8, 4)) * 3
    greedy = model.generate(source, 6)
    beamed, _ = beam_search(model, source, 6, 1)
    for g, b in zip(greedy.T, beamed.T, strict=True):
        assert _upto_end(g) == _upto_end(b)


@pytest.mark.parametrize("model", _models(), ids=["lstm", "start-only", "attention"])
def test_a_wide_beam_finds_the_most_likely_output(model, rng):
    source = rng.normal(size=(5, 3, 4)) * 3
    length, vocab = 3, model.vocab_size
    every = np.array(list(itertools.product(range(vocab), repeat=length))).T  # (3, 125): all outputs
    beamed, score = beam_search(model, source, length, vocab ** (length - 1), eos=None)
    for b in range(source.shape[1]):
        column = np.repeat(source[:, b : b + 1], every.shape[1], axis=1)
        all_scores = _log_probability(model, column, every)
        best = int(np.argmax(all_scores))
        np.testing.assert_array_equal(beamed[:, b], every[:, best])
        np.testing.assert_allclose(score[b], all_scores[best], rtol=1e-10)
    # and the beam's score is the score of the output it returns
    np.testing.assert_allclose(score, _log_probability(model, source, beamed), rtol=1e-10)


def test_wider_beams_never_score_lower_on_their_best(rng):
    model = Translator(4, 6, 5, rng=3)
    source = rng.normal(size=(5, 20, 4)) * 3
    scores = [beam_search(model, source, 4, k, eos=None)[1] for k in (1, 2, 4, 25, 125)]
    # an exact search (beam >= V^(T'-1)) is at least as good as any narrower one
    for narrower in scores[:-1]:
        assert np.all(scores[-1] >= narrower - 1e-12)


def test_bad_arguments_are_refused(rng):
    model = Translator(4, 6, 5, rng=0)
    with pytest.raises(ValueError, match="beam"):
        beam_search(model, rng.normal(size=(5, 2, 4)), 3, 0)
    with pytest.raises(TypeError, match="Translator or an AttentionTranslator"):
        beam_search(object(), rng.normal(size=(5, 2, 4)), 3, 2)


@pytest.mark.parametrize("model", _models(), ids=["lstm", "start-only", "attention"])
def test_with_an_end_token_the_score_stops_at_the_first_end(model, rng):
    # the attention chapter scores decoded dates this way: tokens after the first end token count nothing
    source = rng.normal(size=(5, 30, 4)) * 3
    beamed, score = beam_search(model, source, 6, 3, eos=2)
    logits = model.logits(source, beamed)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_p, beamed[..., None], axis=-1)[..., 0]  # (6, 30)
    after_end = np.cumsum(beamed == 2, axis=0) - (beamed == 2) > 0
    assert after_end.any(), "no hypothesis ended early: the test would not test the end token"
    np.testing.assert_allclose(score, np.where(after_end, 0.0, picked).sum(axis=0), rtol=1e-10)



def test_sampling_at_a_tiny_temperature_is_greedy():
    rng = np.random.default_rng(0)
    model = Translator(4, 6, 7, rng=1)
    source = rng.normal(size=(5, 3, 4))
    assert np.array_equal(sample_outputs(model, source, 6, 1e-6, np.random.default_rng(2)), model.generate(source, 6))


def test_log_likelihood_sums_log_probabilities_up_to_the_first_end_token():
    rng = np.random.default_rng(0)
    model = Translator(4, 6, 7, rng=1)
    source = rng.normal(size=(5, 3, 4))
    outputs = np.array([[3, 4, 5], [2, 2, 6], [5, 2, 2], [6, 6, 2], [4, 3, 3], [3, 5, 4]])
    z = model.logits(source, outputs)  # teacher-forced scores (T', N, V)
    log_p = z - z.max(axis=-1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=-1, keepdims=True))
    expected = []
    for n in range(outputs.shape[1]):
        total = 0.0
        for j in range(outputs.shape[0]):
            total += log_p[j, n, outputs[j, n]]
            if outputs[j, n] == 2:  # the end token counts, nothing after it
                break
        expected.append(total)
    np.testing.assert_allclose(sequence_log_likelihood(model, source, outputs), expected, rtol=1e-10)
