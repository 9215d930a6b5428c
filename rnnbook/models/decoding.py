"""Beam search: keep the ``beam`` most likely partial outputs instead of only the best one.

Greedy decoding (``generate``) commits to the most likely token at every step;
a token that looked best early can force a poor output later.  Beam search
keeps, at every step, the ``beam`` partial outputs with the largest summed
log-probability; with ``beam=1`` it is greedy decoding.  It works for
:class:`rnnbook.models.seq2seq.Translator` and
:class:`rnnbook.models.attention.AttentionTranslator`: each hypothesis is one
row of an enlarged batch (B * beam rows), and after each step the rows are
re-gathered from their parents.
"""

from __future__ import annotations

import numpy as np

from rnnbook._validation import check_instance, check_labels, check_positive_float, check_positive_int, check_rng
from rnnbook.data.encoding import one_hot
from rnnbook.layers.attention import attend
from rnnbook.layers.base import RecurrentLayer, State, split
from rnnbook.layers.linear import linear
from rnnbook.models.attention import AttentionTranslator
from rnnbook.models.charmodel import tempered
from rnnbook.models.seq2seq import Translator


def _gather(layer: RecurrentLayer, state: State, rows: np.ndarray) -> State:
    """The rows ``rows`` of a state (any cell), as a new state."""
    return layer.state_from_parts({name: part[rows] for name, part in layer.state_parts(state).items()})


def _stepper(model, source: np.ndarray, beam: int):
    """The decoder's first state for B * beam rows (each source repeated ``beam`` times) and its step.

    The step takes tokens (N,) and the states of N rows and returns the scores
    (N, V) and the new states.
    """
    readout = split(model.params, "readout")
    rows = np.repeat(np.arange(source.shape[1]), beam)
    dtype = model.decoder.dtype
    if isinstance(model, AttentionTranslator):
        keys, trace, projected = model._encode(source)
        keys = keys[:, rows]
        projected = None if projected is None else projected[:, rows]
        attention = split(model.params, "attention")

        def step(tokens, state):
            context, _ = attend(attention, model.decoder.output(state), keys, projected, model.score)
            x = np.concatenate([one_hot(tokens, model.vocab_size, dtype), context], axis=-1)
            h, state = model.decoder.step(x, state)
            return linear(readout, h), state

        return _gather(model.decoder, model.encoder.final_state(trace), rows), step
    if isinstance(model, Translator):
        final = model.encode(source)
        context = model._context(final)
        context = None if context is None else context[rows]

        def step(tokens, state):
            x = model._with_context(one_hot(tokens, model.vocab_size, dtype)[None], context)[0]
            h, state = model.decoder.step(x, state)
            return linear(readout, h), state

        return _gather(model.decoder, final, rows), step
    raise TypeError(f"not a translator: {type(model).__name__}")  # beam_search checked it already


def _check_translator(model: object, source: object) -> None:
    """Check the model and that ``source`` is an array (the encoder checks its shape, dtype and values)."""
    check_instance(model, Translator | AttentionTranslator, "model", "a Translator or an AttentionTranslator")
    check_instance(source, np.ndarray, "source", "a (T, B, I) numpy array of float32 or float64")


def _check_eos(eos: object, vocab_size: int) -> int:
    """The end token: an index in [0, vocab_size) (a negative one would count from the end, silently)."""
    if isinstance(eos, bool) or not isinstance(eos, int | np.integer) or not 0 <= eos < vocab_size:
        raise ValueError(f"eos must be a token index in [0, {vocab_size}), got {eos!r}")
    return int(eos)


def beam_search(
    model, source: np.ndarray, length: int, beam: int, eos: int | None = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Decode with a beam: the most likely output found, and its log-probability.

    Parameters
    ----------
    model : Translator or AttentionTranslator
    source : numpy.ndarray, shape (T, B, I)
    length : int
        T', the tokens to write.
    beam : int
        How many partial outputs to keep; 1 is greedy decoding.
    eos : int or None, default 2
        The end token: a hypothesis that wrote it is finished, and its score no
        longer changes (it is padded with further end tokens).  None: every
        hypothesis runs for all ``length`` tokens.

    Returns
    -------
    tokens : numpy.ndarray of int, shape (T', B)
        The best hypothesis of each source.
    log_probability : numpy.ndarray, shape (B,)
        Its summed log-probability.
    """
    _check_translator(model, source)
    length = check_positive_int(length, "length")
    beam = check_positive_int(beam, "beam")
    if eos is not None:
        eos = _check_eos(eos, model.vocab_size)
    batch, vocab = source.shape[1], model.vocab_size
    state, step = _stepper(model, source, beam)
    tokens = np.full(batch * beam, model.bos)
    scores = np.full((batch, beam), -np.inf)
    scores[:, 0] = 0.0  # one live hypothesis per source to start with
    done = np.zeros(batch * beam, dtype=bool)
    history = np.empty((0, batch * beam), dtype=np.int64)
    for _ in range(length):
        logits, state = step(tokens, state)
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))  # (B*beam, V)
        if eos is not None:
            log_p[done] = -np.inf
            log_p[done, eos] = 0.0  # a finished hypothesis stays as it is
        total = (scores.reshape(-1, 1) + log_p).reshape(batch, beam * vocab)
        best = np.argsort(-total, axis=1, kind="stable")[:, :beam]  # (B, beam), best first
        scores = np.take_along_axis(total, best, axis=1)
        parents = (np.arange(batch)[:, None] * beam + best // vocab).ravel()
        tokens = (best % vocab).ravel()
        history = np.vstack([history[:, parents], tokens])
        state = _gather(model.decoder, state, parents)
        done = done[parents] | (tokens == eos) if eos is not None else done
    return history[:, ::beam], scores[:, 0]


def sequence_log_likelihood(model, source: np.ndarray, outputs: np.ndarray, eos: int = 2) -> np.ndarray:
    """How likely a translator finds given outputs: summed log-probability up to each first end token.

    Parameters
    ----------
    model : Translator or AttentionTranslator
    source : numpy.ndarray, shape (T, N, I)
    outputs : numpy.ndarray of int, shape (T', N)
        Token indices; what follows a row's first ``eos`` does not count.
    eos : int, default 2

    Returns
    -------
    numpy.ndarray, shape (N,)
        Teacher-forced: the log-probability of each token given the tokens before it.
    """
    _check_translator(model, source)
    eos = _check_eos(eos, model.vocab_size)
    # named here: model.logits would call them "targets"
    check_labels(outputs, "outputs", shape=(None, source.shape[1] if source.ndim == 3 else None),
                 n_classes=model.vocab_size)
    log_p = np.log(tempered(model.logits(source, outputs), 1.0))  # (T', N, V)
    picked = np.take_along_axis(log_p, outputs[..., None], axis=-1)[..., 0]  # (T', N)
    after_end = np.cumsum(outputs == eos, axis=0) - (outputs == eos) > 0
    return np.where(after_end, 0.0, picked).sum(axis=0)


def sample_outputs(
    model, source: np.ndarray, length: int, temperature: float, rng: np.random.Generator | int
) -> np.ndarray:
    """Write outputs by drawing each token from the tempered softmax of the translator's scores.

    Parameters
    ----------
    model : Translator or AttentionTranslator
    source : numpy.ndarray, shape (T, N, I)
    length : int
        T', the tokens written per output.
    temperature : float
        tau > 0: below 1 sharper, above 1 flatter than the model's own distribution.
    rng : numpy.random.Generator or int
        The source of randomness (or a seed for one).

    Returns
    -------
    numpy.ndarray of int64, shape (T', N)
        Token j depends only on the tokens before it (the scores at step j are teacher-forced on them).
    """
    _check_translator(model, source)
    length = check_positive_int(length, "length")
    temperature = check_positive_float(temperature, "temperature")
    rng = check_rng(rng)
    out = np.zeros((length, source.shape[1]), dtype=np.int64)
    for j in range(length):
        p = tempered(model.logits(source, out)[j], temperature)  # (N, V)
        out[j] = np.minimum((p.cumsum(axis=1) < rng.random((len(p), 1))).sum(axis=1), p.shape[1] - 1)
    return out
