"""The four shapes: generated data (rnnbook.data) and the models that write sequences (rnnbook.shapes)."""

from __future__ import annotations

import datetime

import numpy as np
import pytest

from rnnbook import Adam, MLPClassifier, SequenceClassifier, accuracy, fit
from rnnbook.analysis.gradcheck import check_gradients
from rnnbook.data.datasets import (
    DIGIT_NAMES,
    MONTHS,
    NEGATIVE,
    NO_NOT,
    NOT_NEUTRAL,
    NOT_SENTIMENT,
    POSITIVE,
    TAGS,
    bag_of_words,
    date_tokens,
    date_vocabularies,
    dates,
    digit_glyphs,
    digit_images,
    negation_tags,
    sentiment_sentences,
    sentiment_vocabulary,
)
from rnnbook.data.encoding import Vocabulary
from rnnbook.models.seq2seq import (
    Captioner,
    Translator,
    masked_cross_entropy,
    sequence_accuracy,
    token_accuracy,
)
from rnnbook.models.tagger import SequenceTagger

# --------------------------------------------------------------------------- data


def test_digit_images_shapes_and_labels():
    images, labels = digit_images(50, rng=0)
    assert images.shape == (50, 9, 7) and images.dtype == np.float64
    assert labels.shape == (50,) and np.issubdtype(labels.dtype, np.integer)
    assert labels.min() >= 0 and labels.max() <= 9
    assert digit_images(4, rng=0, dtype=np.float32)[0].dtype == np.float32


def test_digit_images_are_the_font_when_clean():
    # With no shift and (almost) no noise, each image is its glyph inside a one-pixel blank margin.
    images, labels = digit_images(30, rng=3, noise=1e-12, shift=0)
    glyphs = digit_glyphs()
    np.testing.assert_allclose(images[:, 1:-1, 1:-1], glyphs[labels], atol=1e-9)
    np.testing.assert_allclose(images[:, [0, -1], :], 0, atol=1e-9)
    np.testing.assert_allclose(images[:, :, [0, -1]], 0, atol=1e-9)


def test_the_ten_glyphs_differ():
    flat = digit_glyphs().reshape(10, -1)
    distances = (flat[:, None] != flat[None]).sum(axis=-1)
    assert (distances + np.eye(10, dtype=int) * 99).min() >= 2


def test_digit_images_are_deterministic():
    a, la = digit_images(20, rng=7)
    b, lb = digit_images(20, rng=np.random.default_rng(7))
    c, _ = digit_images(20, rng=8)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n": 0}, ValueError, "n must be a positive integer"),
        ({"n": 3, "shift": 2}, ValueError, "shift must be 0 or 1"),
        ({"n": 3, "noise": -1.0}, ValueError, "noise must be a finite number > 0"),
        ({"n": 3, "rng": "seed"}, TypeError, "rng must be a numpy.random.Generator"),
    ],
)
def test_digit_images_bad_input(kwargs, error, match):
    kwargs = {"rng": 0} | kwargs
    with pytest.raises(error, match=match):
        digit_images(**kwargs)


def test_vocabulary_round_trip_and_padding():
    vocab = Vocabulary("abc")
    assert vocab.symbols[:3] == ("<pad>", "<s>", "</s>") and len(vocab) == 6
    ids = vocab.encode(["ab", "c"], length=4)
    np.testing.assert_array_equal(ids, [[3, 5], [4, 2], [2, 0], [0, 0]])
    assert vocab.decode(ids) == [["a", "b"], ["c"]]
    left = vocab.encode(["ab", "c"], end=False, pad_at="start")
    np.testing.assert_array_equal(left, [[3, 0], [4, 5]])
    assert vocab.one_hot(ids).shape == (4, 2, 6)


def test_vocabulary_bad_input():
    vocab = Vocabulary(["good", "bad"])
    with pytest.raises(ValueError, match=r"not in the vocabulary: \['fine'\]"):
        vocab.encode([["good", "fine"]])
    with pytest.raises(ValueError, match="length=2 is too short: the longest sequence needs 3 steps"):
        vocab.encode([["good", "bad"]], length=2)
    with pytest.raises(ValueError, match="pad_at must be one of"):
        vocab.encode([["good"]], pad_at="middle")
    with pytest.raises(TypeError, match="non-empty list of token sequences"):
        vocab.encode("good")
    with pytest.raises(TypeError, match="tokens must be non-empty strings"):
        Vocabulary(["a", ""])


def test_bag_of_words_counts_and_ignores_order():
    vocab = Vocabulary(["a", "b", "c"])
    ids = vocab.encode([["a", "b", "a"], ["b", "a", "a"], ["c"]], pad_at="start")
    bags = bag_of_words(ids, len(vocab))
    assert bags.shape == (3, 6)
    np.testing.assert_array_equal(bags[0], [0, 0, 0, 2, 1, 0])  # specials (pad, start, end) are not counted
    np.testing.assert_array_equal(bags[0], bags[1])


def _label_from_words(words: list[str]) -> int:
    """The sentiment of a review, read off its words independently of the generator."""
    for i, w in enumerate(words):
        if w in POSITIVE or w in NEGATIVE:
            before = words[max(0, i - 2) : i]
            return int((w in POSITIVE) != ("not" in before))
    raise AssertionError(f"no sentiment word in {words}")


def test_sentiment_sentences_follow_their_grammar():
    sentences, labels, negation = sentiment_sentences(300, rng=0)
    assert len(sentences) == 300 and labels.shape == negation.shape == (300,)
    assert set(np.unique(labels)) == {0, 1} and set(np.unique(negation)) == {NO_NOT, NOT_NEUTRAL, NOT_SENTIMENT}
    for words, label, kind in zip(sentences, labels, negation, strict=True):
        assert label == _label_from_words(words)
        assert words.count("not") == (kind != NO_NOT)
        assert ("and" in words) != ("but" in words)
    vocab = sentiment_vocabulary()
    assert vocab.encode(sentences).shape[1] == 300  # every word is in the vocabulary


def _move_not(words: list[str]) -> list[str]:
    """The same review with its "not" moved to the other clause."""
    words = list(words)
    i = words.index("not")
    del words[i]
    join = words.index("and") if "and" in words else words.index("but")
    other = join + 4 if i < join else 3  # after "<join> the S was", or after the first "the S was"
    return words[:other] + ["not"] + words[other:]


def test_sentiment_order_matters_same_bag_opposite_labels():
    # The point of the data set: every review with a "not" has a twin with the same words, counted, and the
    # opposite label, so no classifier of word counts can beat a coin on them.
    sentences, labels, negation = sentiment_sentences(2000, rng=1)
    for words, label in zip(sentences, labels, strict=True):
        if "not" in words:
            twin = _move_not(words)
            assert sorted(twin) == sorted(words) and twin != words
            assert _label_from_words(twin) == 1 - label
    # And the generator draws both twins equally often: given the words, the label is a coin.
    has_not = negation != NO_NOT
    positive_word = np.array([any(w in POSITIVE for w in s) for s in sentences])
    for group in (has_not & positive_word, has_not & ~positive_word):
        assert abs(labels[group].mean() - 0.5) < 0.07, labels[group].mean()


def test_sentiment_sentences_are_deterministic_and_checked():
    assert sentiment_sentences(20, rng=5)[0] == sentiment_sentences(20, rng=5)[0]
    assert sentiment_sentences(20, rng=5)[0] != sentiment_sentences(20, rng=6)[0]
    assert (sentiment_sentences(50, rng=0, p_not=0.0)[2] == NO_NOT).all()
    with pytest.raises(ValueError, match=r"p_not must be a probability in \[0, 1\], got 1.5"):
        sentiment_sentences(5, rng=0, p_not=1.5)


def test_negation_tags_mark_the_scope_of_not():
    sentence = "the film was not very good but the plot was long".split()
    tags = negation_tags([sentence, ["not", "bad"]])
    assert tags.shape == (11, 2)
    names = [TAGS[i] for i in tags[:, 0]]
    assert names == ["plain"] * 4 + ["negated"] * 2 + ["plain"] * 5
    assert [TAGS[i] for i in tags[:, 1]] == ["<pad>"] * 9 + ["plain", "negated"]
    with pytest.raises(ValueError, match="length=3 is too short"):
        negation_tags([sentence], length=3)


def test_dates_are_correct_iso_translations():
    sources, targets = dates(200, rng=0)
    for s, t in zip(sources, targets, strict=True):
        day, month, year = s.split()
        assert datetime.date(int(year), MONTHS.index(month) + 1, int(day)).isoformat() == t
    assert dates(10, rng=3) == dates(10, rng=3) and dates(10, rng=3) != dates(10, rng=4)
    years = {int(t[:4]) for t in dates(500, rng=1, first_year=2020, last_year=2021)[1]}
    assert years == {2020, 2021}


def test_date_tokens_and_vocabularies():
    assert date_tokens("24 november 2026") == ["2", "4", "november", "2", "0", "2", "6"]
    source, target = date_vocabularies()
    assert source.encode([date_tokens("1 may 2003")]).shape == (7, 1)
    assert target.decode(target.encode(["2026-11-24"])) == [list("2026-11-24")]
    with pytest.raises(ValueError, match="'day month year'"):
        date_tokens("2026-11-24")
    with pytest.raises(ValueError, match="first_year <= last_year"):
        dates(3, rng=0, first_year=2030, last_year=2020)


# --------------------------------------------------------------------------- models: gradients


def _max_gradient_error(model, x, y) -> float:
    _, grads = model.loss_and_grads(x, y)
    assert set(grads) == set(model.params)
    errors = check_gradients(lambda: model.loss_and_grads(x, y)[0], model.params, grads)
    return max(errors.values())


# Three captions of different lengths: tokens, end (2), then padding (0).
TARGETS = np.array([[3, 4, 5], [6, 2, 6], [2, 0, 4], [0, 0, 2]])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_captioner_gradients(cell, rng):
    model = Captioner(6, 5, 7, cell=cell, rng=0)
    assert _max_gradient_error(model, rng.normal(size=(3, 6)), TARGETS) < 1e-6


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("feed_context", [True, False])
def test_translator_gradients(cell, feed_context, rng):
    model = Translator(4, 5, 7, cell=cell, feed_context=feed_context, rng=0)
    assert _max_gradient_error(model, rng.normal(size=(5, 3, 4)), TARGETS) < 1e-6


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_tagger_gradients(cell, rng):
    tags = np.array([[0, 1, 0], [2, 1, 1], [1, 2, 2], [1, 1, 2]])
    model = SequenceTagger(4, 5, 3, cell=cell, rng=0)
    assert _max_gradient_error(model, rng.normal(size=(4, 3, 4)), tags) < 1e-6


def test_padding_is_left_out_of_the_loss(rng):
    logits = rng.normal(size=(4, 3, 7))
    loss, dlogits = masked_cross_entropy(logits, TARGETS)
    changed = logits.copy()
    changed[TARGETS == 0] += 10 * rng.normal(size=(int((TARGETS == 0).sum()), 7))
    assert masked_cross_entropy(changed, TARGETS)[0] == pytest.approx(loss)
    assert np.all(dlogits[TARGETS == 0] == 0)
    with pytest.raises(ValueError, match="nothing but padding"):
        masked_cross_entropy(logits, np.zeros((4, 3), dtype=np.int64))


def test_the_image_and_the_source_reach_the_output(rng):
    captioner = Captioner(6, 5, 7, rng=0)
    images = rng.normal(size=(3, 6))
    assert not np.allclose(captioner.logits(images, TARGETS), captioner.logits(images + 1, TARGETS))
    translator = Translator(4, 5, 7, rng=0)
    source = rng.normal(size=(5, 3, 4))
    changed = source.copy()
    changed[0] += 1  # the very first input step
    assert not np.allclose(translator.logits(source, TARGETS), translator.logits(changed, TARGETS))


def test_generate_shapes(rng):
    assert Captioner(6, 5, 7, rng=0).generate(rng.normal(size=(3, 6)), 4).shape == (4, 3)
    assert Translator(4, 5, 7, rng=0).generate(rng.normal(size=(5, 3, 4)), 6).shape == (6, 3)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_greedy_generation_is_teacher_forcing_on_its_own_output(cell, rng):
    # generate() runs the decoder one step at a time; logits() runs it over the whole sequence.
    # Fed its own greedy tokens, the teacher-forced pass must pick every one of them again.
    captioner = Captioner(6, 5, 7, cell=cell, rng=0)
    images = rng.normal(size=(3, 6))
    tokens = captioner.generate(images, 5)
    np.testing.assert_array_equal(captioner.logits(images, tokens).argmax(axis=-1), tokens)
    for feed_context in (True, False):
        translator = Translator(4, 5, 7, cell=cell, feed_context=feed_context, rng=0)
        source = rng.normal(size=(5, 3, 4))
        tokens = translator.generate(source, 6)
        np.testing.assert_array_equal(translator.logits(source, tokens).argmax(axis=-1), tokens)


def test_sequence_and_token_accuracy():
    targets = np.array([[3, 3, 3], [2, 4, 2], [0, 2, 0]])
    predicted = np.array([[3, 3, 4], [2, 4, 2], [5, 5, 0]])  # column 0 right up to its end; 1 misses the end
    assert sequence_accuracy(predicted, targets) == pytest.approx(1 / 3)
    assert token_accuracy(predicted, targets) == pytest.approx(5 / 7)
    with pytest.raises(ValueError, match="same N"):
        sequence_accuracy(predicted[:, :2], targets)
    with pytest.raises(TypeError, match="predicted must be an integer numpy array of token indices, got float64"):
        token_accuracy(predicted.astype(float), targets)


def test_models_bad_input(rng):
    with pytest.raises(ValueError, match="cell must be one of 'rnn', 'lstm', 'gru', got 'transformer'"):
        Translator(4, 5, 7, cell="transformer", rng=0)
    with pytest.raises(ValueError, match="bos and pad must be different tokens"):
        Captioner(6, 5, 7, bos=0, pad=0, rng=0)
    with pytest.raises(ValueError, match=r"pad must be a token index in \[0, 7\), got 9"):
        Captioner(6, 5, 7, pad=9, rng=0)
    model = Captioner(6, 5, 7, rng=0)
    with pytest.raises(ValueError, match=r"images must have shape \(\.\.\., 6\)"):
        model.loss_and_grads(rng.normal(size=(3, 5)), TARGETS)
    with pytest.raises(TypeError, match="images must have dtype float32 or float64, got int64"):
        model.loss_and_grads(np.ones((3, 6), dtype=np.int64), TARGETS)
    with pytest.raises(ValueError, match=r"targets must hold class indices in \[0, 7\)"):
        model.loss_and_grads(rng.normal(size=(3, 6)), TARGETS + 5)
    with pytest.raises(ValueError, match=r"targets must have shape \(\*, 2\)"):
        model.loss_and_grads(rng.normal(size=(2, 6)), TARGETS)
    with pytest.raises(ValueError, match=r"x must have shape \(\*, \*, 4\)"):
        Translator(4, 5, 7, rng=0).loss_and_grads(rng.normal(size=(5, 3, 3)), TARGETS)
    with pytest.raises(ValueError, match=r"tags must have shape \(4, 3\)"):
        SequenceTagger(4, 5, 3, rng=0).loss_and_grads(rng.normal(size=(4, 3, 4)), np.ones((3, 3), dtype=np.int64))
    with pytest.raises(TypeError, match="feed_context must be True or False"):
        Translator(4, 5, 7, feed_context=1, rng=0)


# --------------------------------------------------------------------------- trained models beat their baselines
# Small versions of the chapter's experiments, fixed seeds.  The margins are those the chapter claims.


def test_digit_classifier_and_captioner_learn():
    x_train, y_train = digit_images(2000, rng=0)
    x_test, y_test = digit_images(400, rng=1)
    x_train, x_test = x_train.reshape(2000, -1), x_test.reshape(400, -1)
    classifier = MLPClassifier(63, 32, 10, rng=0)
    fit(classifier, x_train, y_train, Adam(lr=0.01), epochs=10, batch_size=50, rng=0)
    assert accuracy(classifier, x_test, y_test) > 0.8  # chance: 0.1

    vocab = Vocabulary("".join(DIGIT_NAMES))
    captions_train = vocab.encode([DIGIT_NAMES[d] for d in y_train])
    captions_test = vocab.encode([DIGIT_NAMES[d] for d in y_test])
    captioner = Captioner(63, 32, len(vocab), rng=0)
    fit(captioner, x_train, captions_train, Adam(lr=0.01), epochs=10, batch_size=50, rng=0)
    # Chance is 0.1 even for a decoder that only ever writes valid names.
    assert sequence_accuracy(captioner.generate(x_test, 7), captions_test) > 0.8


def test_rnn_reads_negation_where_bag_of_words_cannot():
    vocab = sentiment_vocabulary()
    s_train, y_train, _ = sentiment_sentences(1500, rng=0)
    s_test, y_test, neg_test = sentiment_sentences(600, rng=1)
    ids_train = vocab.encode(s_train, length=12, end=False, pad_at="start")
    ids_test = vocab.encode(s_test, length=12, end=False, pad_at="start")
    has_not = neg_test != NO_NOT

    bow = MLPClassifier(len(vocab), 32, 2, rng=0)
    fit(bow, bag_of_words(ids_train, len(vocab)), y_train, Adam(lr=0.01), epochs=10, batch_size=50, rng=0)
    bow_right = bow.logits(bag_of_words(ids_test, len(vocab))).argmax(-1) == y_test

    rnn = SequenceClassifier(len(vocab), 32, 2, rng=0)
    fit(rnn, vocab.one_hot(ids_train), y_train, Adam(lr=0.01), epochs=8, batch_size=50, rng=0)
    rnn_right = rnn.logits(vocab.one_hot(ids_test)).argmax(-1) == y_test

    assert bow_right[~has_not].mean() > 0.95  # without "not", counting words is enough
    assert bow_right[has_not].mean() < 0.62  # a coin: 0.5 in expectation, whatever the classifier
    assert rnn_right[has_not].mean() > 0.95
    assert rnn_right.mean() > bow_right.mean() + 0.15


def test_tagger_finds_the_scope_of_not():
    vocab = sentiment_vocabulary()
    s_train, _, _ = sentiment_sentences(1000, rng=0)
    s_test, _, _ = sentiment_sentences(300, rng=1)
    x_train = vocab.one_hot(vocab.encode(s_train, length=12, end=False, pad_at="start"))
    x_test = vocab.one_hot(vocab.encode(s_test, length=12, end=False, pad_at="start"))
    tags_train, tags_test = negation_tags(s_train, length=12), negation_tags(s_test, length=12)
    tagger = SequenceTagger(len(vocab), 32, len(TAGS), rng=0)
    fit(tagger, x_train, tags_train, Adam(lr=0.01), epochs=6, batch_size=50, rng=0)
    predicted = tagger.logits(x_test).argmax(-1)
    negated = tags_test == TAGS.index("negated")
    # Always answering "plain" gets every negated word wrong; the tagger gets almost all of them.
    assert np.mean(predicted[negated] == tags_test[negated]) > 0.95
    assert token_accuracy(predicted, tags_test) > 0.98


def test_translator_learns_dates():
    source_vocab, target_vocab = date_vocabularies()
    s_train, t_train = dates(2000, rng=0)
    s_test, t_test = dates(300, rng=1)
    x_train = source_vocab.one_hot(source_vocab.encode([date_tokens(s) for s in s_train], length=7, end=False,
                                                       pad_at="start"))
    x_test = source_vocab.one_hot(source_vocab.encode([date_tokens(s) for s in s_test], length=7, end=False,
                                                      pad_at="start"))
    y_train, y_test = target_vocab.encode(t_train), target_vocab.encode(t_test)
    model = Translator(len(source_vocab), 64, len(target_vocab), rng=0)
    fit(model, x_train, y_train, Adam(lr=0.003), epochs=12, batch_size=50, rng=0, max_norm=5.0)
    # Guessing a whole date right has a chance of about 1 in 11 000 (the days of 30 years).
    assert sequence_accuracy(model.generate(x_test, 11), y_test) > 0.8
