"""The character-level language model: gradients, sampling, training state, checkpoints, bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from rnnbook.analysis.gradcheck import check_gradients
from rnnbook.data.encoding import Vocabulary
from rnnbook.data.text import BUILTIN_FILES, TextError, builtin_corpus, read_text, split_text
from rnnbook.layers.registry import CELLS
from rnnbook.models.charmodel import CharModel, sample
from rnnbook.training import checkpoint
from rnnbook.training.chartrainer import RECIPE, CharTrainer, cosine_lr, evaluate, train_char_model
from rnnbook.training.losses import softmax

TEXT = "the cat sat on the mat. the dog sat on the log.\n" * 40


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("layers", [1, 2])
def test_gradients_match_finite_differences(cell, layers, rng):
    model = CharModel(6, 5, cell=cell, layers=layers, rng=0, dtype=np.float64)
    ids, targets = rng.integers(0, 6, (7, 3)), rng.integers(0, 6, (7, 3))
    state0 = model.run(ids)[3]  # a non-zero carried state, as in truncated BPTT
    loss, grads = model.loss_and_grads(ids, targets, state0)
    errors = check_gradients(lambda: model.loss_and_grads(ids, targets, state0)[0], model.params, grads)
    assert max(errors.values()) < 1e-6, errors
    assert set(grads) == set(model.params)


def test_loss_is_in_nats_per_character():
    # With every weight zero the model gives every character the same score: loss ln V exactly.
    model = CharModel(7, 4, rng=0)
    for p in model.params.values():
        p[...] = 0
    loss, _ = model.loss_and_grads(np.zeros((5, 2), dtype=np.int64), np.ones((5, 2), dtype=np.int64))
    assert loss == pytest.approx(math.log(7), rel=1e-12)


def test_final_state_continues_the_sequence(rng):
    # Running two halves with the state carried gives the same scores as running the whole.
    for cell in sorted(CELLS):
        model = CharModel(5, 4, cell=cell, layers=2, rng=1)
        ids = rng.integers(0, 5, (10, 2))
        whole = model.logits(ids)
        first, _, _, state = model.run(ids[:4])
        second, _, _, _ = model.run(ids[4:], state)
        np.testing.assert_allclose(np.concatenate([first, second]), whole, rtol=1e-12, atol=1e-12)


def trained_model(steps=150):
    vocab = Vocabulary.from_text(TEXT)
    model = CharModel(len(vocab), 24, rng=0, dtype=np.float64)
    trainer = CharTrainer(model, vocab.encode(TEXT), seq_len=20, batch_size=8, lr=1e-2, rng=0)
    for _ in range(steps):
        trainer.train_step()
    return model, vocab, trainer


def test_training_beats_the_uniform_guess():
    model, vocab, trainer = trained_model()
    assert np.mean(trainer.losses[:5]) > 0.9 * math.log(len(vocab))
    # This text repeats two sentences: a trained model must be far better than ln V.
    assert evaluate(model, vocab.encode(TEXT)) < 0.5 * math.log(len(vocab))


def test_sampling_is_deterministic_given_a_seed():
    model, vocab, _ = trained_model(40)
    a = sample(model, vocab, 60, prime="the ", rng=3)
    b = sample(model, vocab, 60, prime="the ", rng=np.random.default_rng(3))
    c = sample(model, vocab, 60, prime="the ", rng=4)
    assert a == b
    assert a != c
    assert len(a) == 60 and set(a) <= set(vocab.chars)


def test_low_temperature_is_greedy():
    model, vocab, _ = trained_model(40)
    text = sample(model, vocab, 30, prime="the", temperature=1e-4, rng=0)
    # Greedy decoding by hand: always the single most likely next character.
    ids = list(vocab.encode("the"))
    for _ in range(30):
        probs = model.probabilities(np.array(ids)[:, None])[-1, 0]
        ids.append(int(probs.argmax()))
    assert text == vocab.decode(ids[3:])


def test_temperature_flattens_or_sharpens_the_distribution():
    model, vocab, _ = trained_model(40)
    ids = vocab.encode("the cat")[:, None]

    def entropy(t):
        p = model.probabilities(ids, temperature=t)[-1, 0]
        return float(-(p * np.log(p)).sum())

    entropies = [entropy(t) for t in (0.25, 0.5, 1.0, 1.5, 3.0, 100.0)]
    assert entropies == sorted(entropies)
    assert entropies[-1] == pytest.approx(math.log(len(vocab)), abs=0.01)
    # Temperature 1 is the model's own distribution.
    np.testing.assert_allclose(model.probabilities(ids, 1.0), softmax(model.logits(ids)))


def test_high_temperature_writes_less_likely_text():
    # Judged by the model itself at temperature 1: cold text is likely, hot text surprising.
    model, vocab, _ = trained_model(150)
    surprise = {}
    for t in (0.3, 1.0, 3.0):
        text = "the " + sample(model, vocab, 400, prime="the ", temperature=t, rng=0)
        surprise[t] = evaluate(model, vocab.encode(text))
    assert surprise[0.3] < surprise[1.0] < surprise[3.0]


def test_trainer_carries_the_state_across_consecutive_chunks():
    vocab = Vocabulary.from_text(TEXT)
    model = CharModel(len(vocab), 8, rng=0)
    trainer = CharTrainer(model, vocab.encode(TEXT), seq_len=10, batch_size=4, rng=0)
    ids = vocab.encode(TEXT)
    trainer.train_step()
    first = trainer._inputs[:10].copy()
    trainer.train_step()
    second = trainer._inputs[10:20]
    # each stream continues where it stopped: stream b's chunk 2 follows its chunk 1 in the text
    for b in range(4):
        start = trainer.offset + b * trainer._inputs.shape[0]
        np.testing.assert_array_equal(first[:, b], ids[start : start + 10])
        np.testing.assert_array_equal(second[:, b], ids[start + 10 : start + 20])
    assert trainer.state is not None and trainer.state[0].shape == (4, 8)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_restored_trainer_continues_bit_for_bit(cell, tmp_path):
    vocab = Vocabulary.from_text(TEXT)

    def fresh():
        rng = np.random.default_rng(5)
        model = CharModel(len(vocab), 8, cell=cell, layers=2, rng=rng, dtype=np.float32)
        # seq_len 30 over ~1900 characters: an epoch is a few steps, so the offset rng is exercised
        return CharTrainer(model, vocab.encode(TEXT), seq_len=30, batch_size=8, rng=rng)

    straight = fresh()
    for _ in range(25):
        straight.train_step()
    interrupted = fresh()
    for _ in range(11):
        interrupted.train_step()
    checkpoint.save_training(tmp_path, interrupted, vocab)
    resumed, _, meta = checkpoint.load_training(tmp_path, vocab.encode(TEXT))
    assert meta["trainer"]["step"] == 11
    for _ in range(14):
        resumed.train_step()
    assert resumed.epoch == straight.epoch >= 1
    for name, value in straight.model.params.items():
        assert np.array_equal(value, resumed.model.params[name]), name
    assert resumed.losses == straight.losses


def test_checkpoint_is_written_atomically_and_refuses_other_versions(tmp_path):
    model, vocab, trainer = trained_model(3)
    path = checkpoint.save_training(tmp_path, trainer, vocab)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind
    loaded, loaded_vocab, meta = checkpoint.load_model(tmp_path)
    assert loaded_vocab.chars == vocab.chars and meta["format_version"] == checkpoint.FORMAT_VERSION
    arrays, meta = checkpoint.load(tmp_path)
    checkpoint.save(tmp_path, arrays, meta | {"format_version": checkpoint.FORMAT_VERSION + 1})
    with pytest.raises(checkpoint.CheckpointError, match="format version"):
        checkpoint.load(tmp_path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(checkpoint.CheckpointError, match="corrupted"):
        checkpoint.load(tmp_path)
    with pytest.raises(checkpoint.CheckpointError, match="no such run folder"):
        checkpoint.load(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(checkpoint.CheckpointError, match="no checkpoint"):
        checkpoint.load(tmp_path / "empty")


def test_checkpoint_metadata_is_plain_json(tmp_path):
    _, vocab, trainer = trained_model(3)
    checkpoint.save_training(tmp_path, trainer, vocab)
    with np.load(tmp_path / checkpoint.FILENAME, allow_pickle=False) as npz:
        meta = json.loads(npz["__metadata__"].tobytes())
    assert meta["vocabulary"] == vocab.chars and meta["model"] == "rnn" and meta["trainer"]["step"] == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"abc\x00def", "NUL byte at byte offset 3"),
        ("caf\u00e9 ok".encode("latin-1"), "not valid UTF-8 at byte offset 3"),
    ],
)
def test_read_text_refuses_bad_files(tmp_path, content, message):
    path = tmp_path / "t.txt"
    path.write_bytes(content)
    with pytest.raises(TextError, match=message):
        read_text(path)


def test_bad_input():
    with pytest.raises(TextError, match="no such file"):
        read_text("/nonexistent/file.txt")
    vocab = Vocabulary.from_text("abc")
    with pytest.raises(TextError, match="'z'"):
        vocab.encode("abz")
    model = CharModel(3, 4, rng=0)
    with pytest.raises(ValueError, match="temperature"):
        sample(model, vocab, 5, temperature=0, rng=0)
    with pytest.raises(ValueError, match="temperature"):
        sample(model, vocab, 5, temperature=-1.0, rng=0)
    with pytest.raises(TextError, match="'q'"):
        sample(model, vocab, 5, prime="aq", rng=0)
    with pytest.raises(TextError, match="shorter than one sequence"):
        CharTrainer(model, vocab.encode("abcabc"), seq_len=10, batch_size=2, rng=0)
    with pytest.raises(ValueError, match="ids must be in"):
        model.logits(np.array([[3]]))


def test_short_text_uses_fewer_streams():
    vocab = Vocabulary.from_text("abc")
    model = CharModel(3, 4, rng=0)
    trainer = CharTrainer(model, vocab.encode("abc" * 10), seq_len=10, batch_size=8, rng=0)
    assert trainer.batch_size == 2
    trainer.train_step()


def test_split_text_holds_out_the_end():
    train, valid = split_text("abcdefghijklmnopqrst", 0.1)
    assert train + valid == "abcdefghijklmnopqrst" and valid == "st"


def test_builtin_corpus_is_the_listed_stdlib_files():
    text = builtin_corpus()
    assert len(text) > 50_000
    assert text.count("\n") > 1000
    assert "def " in text and len(BUILTIN_FILES) >= 10


def test_cosine_lr_falls_from_the_peak_to_the_floor():
    rates = [cosine_lr(step, 100, 0.02, floor=0.1) for step in range(100)]
    assert rates[0] == pytest.approx(0.02) and rates[-1] == pytest.approx(0.002)
    assert all(a > b for a, b in zip(rates[:-1], rates[1:], strict=True))
    assert rates[49] == pytest.approx(0.011, rel=0.02)  # halfway down, the mean of peak and floor


def test_train_char_model_is_seeded_and_calls_back_at_the_steps():
    text = "def f(x):\n    return x + 1\n" * 40
    vocab = Vocabulary.from_text(text)
    ids = vocab.encode(text)
    seen = []
    model, trainer, curve = train_char_model(
        ids, len(vocab), cell="rnn", hidden_size=16, steps=30, peak_lr=1e-2, seed=3,
        eval_ids=ids[:200], eval_every=10, at_steps=(0, 30), callback=lambda step, m: seen.append(step),
    )
    again, _, _ = train_char_model(ids, len(vocab), cell="rnn", hidden_size=16, steps=30, peak_lr=1e-2, seed=3)
    other, _, _ = train_char_model(ids, len(vocab), cell="rnn", hidden_size=16, steps=30, peak_lr=1e-2, seed=4)
    assert seen == [0, 30]
    assert curve[:, 0].tolist() == [0, 10, 20, 30] and len(trainer.losses) == 30
    assert curve[-1, 1] < curve[0, 1] < math.log(len(vocab)) + 0.1  # it learns from a uniform start
    assert all(np.array_equal(model.params[k], again.params[k]) for k in model.params)
    assert not np.array_equal(model.params["readout.weight"], other.params["readout.weight"])
    assert trainer.optimizer.lr == pytest.approx(cosine_lr(29, 30, 1e-2, RECIPE["floor"]))
    with pytest.raises(ValueError, match="at_steps"):
        train_char_model(ids, len(vocab), cell="rnn", hidden_size=8, steps=5, peak_lr=1e-2, seed=0,
                         at_steps=(6,), callback=print)


def test_char_trainer_checks_its_model_and_text():
    model = CharModel(5, 4, rng=0)
    with pytest.raises(TypeError, match="model must be a CharModel, got dict"):
        CharTrainer({}, np.arange(40) % 5, seq_len=4, batch_size=2, rng=0)
    with pytest.raises(TypeError, match=r"ids must be a 1-d integer array \(the encoded text\), got float64"):
        CharTrainer(model, np.arange(40.0) % 5, seq_len=4, batch_size=2, rng=0)  # not silently cast
    with pytest.raises(TypeError, match=r"got int64 of shape \(20, 2\)"):
        CharTrainer(model, (np.arange(40) % 5).reshape(20, 2), seq_len=4, batch_size=2, rng=0)
    with pytest.raises(ValueError, match=r"ids must be in \[0, 5\), got 0 to 7"):
        CharTrainer(model, np.arange(40) % 8, seq_len=4, batch_size=2, rng=0)
