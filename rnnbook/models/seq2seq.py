"""Small models for the shapes of a recurrent network beyond many-to-one.

Many-to-one (a sequence in, one answer out) is
:class:`rnnbook.models.classifiers.SequenceClassifier` and one-to-one (no
sequence at all) is :class:`rnnbook.models.classifiers.MLPClassifier`.  This
module adds the shapes that *write* a sequence:

* :class:`Captioner`, one-to-many: an image sets the decoder's first state,
  and the decoder writes a caption one token at a time;
* :class:`Translator`, many-to-many with an encoder and a decoder: the
  encoder reads the whole input, its final state starts the decoder
  (Sutskever et al. 2014; Cho et al. 2014);
* the aligned many-to-many shape, one answer per input step, is
  :class:`rnnbook.models.tagger.SequenceTagger`.

A decoder is trained with *teacher forcing*: at every step it is fed the
correct previous token (the start token ``<s>`` first) and scored on the next
one.  At test time nobody gives it the correct tokens, so ``generate``
feeds back its own best guess (*greedy decoding*).  Targets are padded with
index 0 (``<pad>``, see :class:`rnnbook.data.encoding.Vocabulary`) after their end
token; padded positions are left out of the loss.

Like every model of the package, each keeps one flat ``params`` dict with
dotted names and offers ``loss_and_grads(x, y) -> (loss, grads)``, so
:func:`rnnbook.training.loop.fit` and the optimisers work unchanged.  Any cell
of :data:`rnnbook.layers.registry.CELLS` can encode and decode: the models pass
its state around without looking inside.
"""

from __future__ import annotations

import numpy as np

from rnnbook._validation import check_array, check_dtype, check_features, check_labels, check_positive_int, check_rng
from rnnbook.data.encoding import one_hot
from rnnbook.layers.base import Params, State, attach, join, split
from rnnbook.layers.linear import init_linear, linear, linear_backward
from rnnbook.layers.registry import make_cell
from rnnbook.training.losses import cross_entropy


def masked_cross_entropy(logits: np.ndarray, targets: np.ndarray, pad: int = 0) -> tuple[float, np.ndarray]:
    """Mean cross-entropy over the positions whose target is not padding.

    Parameters
    ----------
    logits : numpy.ndarray, shape (T, B, C)
    targets : numpy.ndarray of int, shape (T, B)
        Target classes; positions equal to ``pad`` are ignored.
    pad : int, default 0

    Returns
    -------
    loss : float
        The mean of ``-log p[target]`` over the kept positions.
    dlogits : numpy.ndarray, shape (T, B, C)
        Its gradient; zero at padded positions.
    """
    logits = check_array(logits, "logits", ndim=None)
    check_labels(targets, "targets", shape=logits.shape[:-1], n_classes=logits.shape[-1])
    if isinstance(pad, bool) or not isinstance(pad, int | np.integer) or not 0 <= pad < logits.shape[-1]:
        raise ValueError(f"pad must be a class index in [0, {logits.shape[-1]}), got {pad!r}")
    return masked_loss(logits, targets, pad)


def masked_loss(logits: np.ndarray, targets: np.ndarray, pad: int) -> tuple[float, np.ndarray]:
    """:func:`masked_cross_entropy` without its input checks, for models that checked their targets.

    (Their logits may overflow when training diverges: the loss is then NaN or
    infinite, which the training loop reports as divergence.)
    """
    keep = targets != pad
    if not keep.any():
        raise ValueError("targets hold nothing but padding: there is nothing to score")
    loss, dkept = cross_entropy(logits[keep], targets[keep])
    dlogits = np.zeros_like(logits)
    dlogits[keep] = dkept
    return loss, dlogits


def sequence_accuracy(predicted: np.ndarray, targets: np.ndarray, eos: int = 2) -> float:
    """The fraction of sequences predicted exactly, up to and including the end token.

    Parameters
    ----------
    predicted : numpy.ndarray of int, shape (T1, N)
    targets : numpy.ndarray of int, shape (T2, N)
    eos : int, default 2
        The end token; whatever follows it is ignored.

    Returns
    -------
    float
    """
    _check_tokens(predicted, "predicted")
    _check_tokens(targets, "targets")
    if predicted.ndim != 2 or targets.ndim != 2 or predicted.shape[1] != targets.shape[1]:
        raise ValueError(
            f"predicted and targets must both be (T, N) with the same N, got {predicted.shape} and {targets.shape}"
        )
    if predicted.shape[1] == 0:
        raise ValueError(f"there is no sequence to score: predicted and targets have shapes {predicted.shape}, "
                         f"{targets.shape}")

    def upto_end(column: np.ndarray) -> tuple[int, ...]:
        ends = np.flatnonzero(column == eos)
        return tuple(column[: ends[0] + 1] if ends.size else column)

    return float(np.mean([upto_end(p) == upto_end(t) for p, t in zip(predicted.T, targets.T, strict=True)]))


def token_accuracy(predicted: np.ndarray, targets: np.ndarray, pad: int = 0) -> float:
    """The fraction of non-padding positions of ``targets`` (T, N) that ``predicted`` (T, N) gets right."""
    _check_tokens(predicted, "predicted")
    _check_tokens(targets, "targets")
    if predicted.shape != targets.shape:
        raise ValueError(f"predicted and targets must have the same shape, got {predicted.shape}, {targets.shape}")
    keep = targets != pad
    if not keep.any():
        raise ValueError("targets hold nothing but padding: there is nothing to score")
    return float(np.mean(predicted[keep] == targets[keep]))


class _Decoder:
    """What every decoder shares: teacher-forced training and greedy generation.

    A subclass sets ``params`` (with ``decoder.*`` and ``readout.*``),
    ``self.decoder`` (a layer from :func:`rnnbook.layers.registry.make_cell`
    whose ``params`` are views into ``params``), ``vocab_size``, ``bos`` and
    ``pad``.  The decoder's state is opaque here (a tuple for an LSTM).
    """

    params: Params
    vocab_size: int
    bos: int
    pad: int

    def _check_targets(self, targets: np.ndarray, batch: int) -> np.ndarray:
        return check_targets(targets, batch, self.vocab_size)

    def _teacher_inputs(self, targets: np.ndarray, context: np.ndarray | None) -> np.ndarray:
        """The decoder's inputs, (T, B, V) or (T, B, V + H): ``<s>`` then the targets shifted one step
        right, one-hot, followed by ``context`` (B, H) at every step if one is given."""
        shifted = np.empty_like(targets)
        shifted[0] = self.bos
        shifted[1:] = targets[:-1]
        return self._with_context(one_hot(shifted, self.vocab_size, self.params["readout.weight"].dtype), context)

    @staticmethod
    def _with_context(tokens: np.ndarray, context: np.ndarray | None) -> np.ndarray:
        if context is None:
            return tokens
        return np.concatenate([tokens, np.broadcast_to(context, (tokens.shape[0], *context.shape))], axis=-1)

    def _decode_logits(self, state0: State, targets: np.ndarray, context: np.ndarray | None = None):
        states, trace = self.decoder.run(self._teacher_inputs(targets, context), state0)
        return linear(split(self.params, "readout"), states), states, trace

    def _decode_loss(
        self, state0: State, targets: np.ndarray, context: np.ndarray | None = None
    ) -> tuple[float, Params, State, np.ndarray | None]:
        """Teacher-forced loss from the decoder state ``state0``.

        Returns the loss, the decoder and readout gradients, and the gradients
        with respect to ``state0`` (shaped like it) and to ``context`` (B, H)
        (None without one).
        """
        logits, states, trace = self._decode_logits(state0, targets, context)
        loss, dlogits = masked_loss(logits, targets, self.pad)
        grads_out, dstates = linear_backward(split(self.params, "readout"), states, dlogits)
        grads_dec, dx, dstate0 = self.decoder.backprop(trace, dstates)
        dcontext = None if context is None else dx[:, :, self.vocab_size :].sum(axis=0)
        return loss, join("decoder", grads_dec) | join("readout", grads_out), dstate0, dcontext

    def _greedy(self, state: State, batch: int, length: int, context: np.ndarray | None = None) -> np.ndarray:
        """Feed back the most likely token at every step, one :meth:`step` at a time; the tokens (length, B)."""
        length = check_positive_int(length, "length")
        readout = split(self.params, "readout")
        token = np.full(batch, self.bos)
        out = np.empty((length, batch), dtype=np.int64)
        for t in range(length):
            x = self._with_context(one_hot(token, self.vocab_size, self.decoder.dtype)[None], context)[0]
            h, state = self.decoder.step(x, state)
            token = linear(readout, h).argmax(axis=-1)
            out[t] = token
        return out


class Captioner(_Decoder):
    """One-to-many: an image sets the first state; a recurrent decoder writes its caption.

    The image ``v`` (flattened to P numbers) becomes the decoder's initial state
    through one dense layer, :math:`h_0 = \\tanh(W_v v + b_v)` (an LSTM's cell
    starts empty); from there the decoder runs like a language model, one
    token per step.

    Parameters
    ----------
    n_pixels : int
        P, numbers per (flattened) image.
    hidden_size : int
        H.
    vocab_size : int
        V, the tokens the caption is written in (with ``<pad>``, ``<s>``, ``</s>``).
    cell : str, default "rnn"
        A name from :data:`rnnbook.layers.registry.CELLS`.
    bos, pad : int, default 1 and 0
        The start and padding tokens (as in :class:`rnnbook.data.encoding.Vocabulary`).
    rng : numpy.random.Generator or int
    dtype : float32 or float64

    Attributes
    ----------
    params : dict
        ``image.weight`` (H, P), ``image.bias`` (H,); ``decoder.*`` (the
        recurrent layer, input size V, torch names); ``readout.weight`` (V, H),
        ``readout.bias`` (V,).
    """

    def __init__(
        self,
        n_pixels: int,
        hidden_size: int,
        vocab_size: int,
        *,
        cell: str = "rnn",
        bos: int = 1,
        pad: int = 0,
        rng: np.random.Generator | int,
        dtype: type | np.dtype = np.float64,
    ) -> None:
        rng = check_rng(rng)
        dtype = check_dtype(dtype)
        self.vocab_size = check_positive_int(vocab_size, "vocab_size")
        self.bos, self.pad = check_specials(bos, pad, self.vocab_size)
        self.decoder = make_cell(cell, vocab_size, hidden_size, rng=rng, dtype=dtype)
        self.params: Params = join("image", init_linear(n_pixels, hidden_size, rng=rng, dtype=dtype))
        attach(self.params, "decoder", self.decoder)
        self.params |= join("readout", init_linear(hidden_size, vocab_size, rng=rng, dtype=dtype))

    def initial_state(self, images: np.ndarray) -> np.ndarray:
        """:math:`h_0 = \\tanh(W_v v + b_v)`, shape (B, H), for images (B, P)."""
        weight = self.params["image.weight"]
        images = check_features(images, "images", weight.shape[1], dtype=weight.dtype)
        if images.ndim != 2:
            raise ValueError(f"images must be flattened to shape (B, {weight.shape[1]}), got {images.shape}")
        return np.tanh(linear(split(self.params, "image"), images))

    def logits(self, images: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Teacher-forced scores (T, B, V) for images (B, P) and target tokens (T, B)."""
        state0 = self.decoder.state_from_output(self.initial_state(images))
        return self._decode_logits(state0, self._check_targets(targets, images.shape[0]))[0]

    def loss_and_grads(self, images: np.ndarray, targets: np.ndarray) -> tuple[float, Params]:
        """Teacher-forced cross-entropy of the captions ``targets`` (T, B) given ``images`` (B, P).

        ``targets`` holds each caption's tokens, its end token, then padding.
        """
        h0 = self.initial_state(images)
        targets = self._check_targets(targets, images.shape[0])
        loss, grads, dstate0, _ = self._decode_loss(self.decoder.state_from_output(h0), targets)
        dh0 = self.decoder.output(dstate0)
        grads_img, _ = linear_backward(split(self.params, "image"), images, dh0 * (1 - h0 * h0))
        return loss, join("image", grads_img) | grads

    def generate(self, images: np.ndarray, length: int) -> np.ndarray:
        """Greedy captions, tokens of shape (length, B), for images (B, P)."""
        h0 = self.initial_state(images)
        return self._greedy(self.decoder.state_from_output(h0), h0.shape[0], length)


class Translator(_Decoder):
    """Many-to-many with an encoder and a decoder: read everything, then write.

    The encoder reads the input sequence; its final state is the decoder's
    first state; the decoder writes the output one token at a time, as
    :class:`Captioner` does.  Input and output can have different lengths.

    Parameters
    ----------
    input_size : int
        I, features per input step (the source vocabulary, for one-hot input).
    hidden_size : int
        H, shared by encoder and decoder.
    vocab_size : int
        V, the output tokens (with ``<pad>``, ``<s>``, ``</s>``).
    cell : str, default "rnn"
        A name from :data:`rnnbook.layers.registry.CELLS`.
        For both encoder and decoder.
    feed_context : bool, default True
        Also give the encoder's final state to the decoder as an extra input
        at every step, as Cho et al. (2014) do, instead of only as its first
        state (Sutskever et al. 2014).  The decoder then need not carry the
        whole input in its own state to the end of the output.
    bos, pad : int, default 1 and 0
    rng : numpy.random.Generator or int
    dtype : float32 or float64

    Attributes
    ----------
    params : dict
        ``encoder.*`` (input size I), ``decoder.*`` (input size V, or V + H with
        ``feed_context``),
        ``readout.weight`` (V, H), ``readout.bias`` (V,).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        vocab_size: int,
        *,
        cell: str = "rnn",
        feed_context: bool = True,
        bos: int = 1,
        pad: int = 0,
        rng: np.random.Generator | int,
        dtype: type | np.dtype = np.float64,
    ) -> None:
        rng = check_rng(rng)
        self.vocab_size = check_positive_int(vocab_size, "vocab_size")
        hidden_size = check_positive_int(hidden_size, "hidden_size")
        self.bos, self.pad = check_specials(bos, pad, self.vocab_size)
        if not isinstance(feed_context, bool):
            raise TypeError(f"feed_context must be True or False, got {feed_context!r}")
        self.feed_context = feed_context
        decoder_inputs = vocab_size + hidden_size * feed_context
        self.encoder = make_cell(cell, input_size, hidden_size, rng=rng, dtype=np.dtype(dtype))
        self.decoder = make_cell(cell, decoder_inputs, hidden_size, rng=rng, dtype=np.dtype(dtype))
        self.params: Params = {}
        attach(self.params, "encoder", self.encoder)
        attach(self.params, "decoder", self.decoder)
        self.params |= join("readout", init_linear(hidden_size, vocab_size, rng=rng, dtype=dtype))

    def encode(self, source: np.ndarray) -> State:
        """The encoder's final state after reading ``source`` (T, B, I) (a (B, H) array, or a tuple for an LSTM)."""
        _, trace = self.encoder.forward(source)
        return self.encoder.final_state(trace)

    def _context(self, final: State) -> np.ndarray | None:
        return self.encoder.output(final) if self.feed_context else None

    def logits(self, source: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Teacher-forced scores (T', B, V) for a source (T, B, I) and targets (T', B)."""
        state0 = self.encode(source)
        return self._decode_logits(state0, self._check_targets(targets, source.shape[1]), self._context(state0))[0]

    def loss_and_grads(self, source: np.ndarray, targets: np.ndarray) -> tuple[float, Params]:
        """Teacher-forced cross-entropy of ``targets`` (T', B) given ``source`` (T, B, I).

        The decoder's gradient with respect to its first state (plus, with
        ``feed_context``, that with respect to its extra input, summed over
        the steps) is the gradient with respect to the encoder's last state:
        backpropagation runs from the last output token back to the first
        input step.
        """
        states, trace = self.encoder.forward(source)
        targets = self._check_targets(targets, source.shape[1])
        final = self.encoder.final_state(trace)
        loss, grads, dstate0, dcontext = self._decode_loss(final, targets, self._context(final))
        dstates = np.zeros_like(states)
        if dcontext is not None:
            dstates[-1] = dcontext
        grads_enc, _, _ = self.encoder.backprop(trace, dstates, dstate0)
        return loss, join("encoder", grads_enc) | grads

    def generate(self, source: np.ndarray, length: int) -> np.ndarray:
        """Greedy outputs, tokens of shape (length, B), for a source (T, B, I)."""
        final = self.encode(source)
        return self._greedy(final, source.shape[1], length, self._context(final))


def check_targets(targets: object, batch: int, vocab_size: int) -> np.ndarray:
    """Target tokens (T', B) with T' >= 1, each in [0, vocab_size), for a batch of ``batch``."""
    targets = check_labels(targets, "targets", shape=(None, batch), n_classes=vocab_size)
    if len(targets) == 0:
        raise ValueError(f"targets must have at least one step, got shape {targets.shape}")
    return targets


def check_specials(bos: int, pad: int, vocab_size: int) -> tuple[int, int]:
    """The start and padding tokens, checked: two different indices in [0, vocab_size)."""
    for value, name in ((bos, "bos"), (pad, "pad")):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or not 0 <= value < vocab_size:
            raise ValueError(f"{name} must be a token index in [0, {vocab_size}), got {value!r}")
    if bos == pad:
        raise ValueError(f"bos and pad must be different tokens, got {bos} for both")
    return int(bos), int(pad)


def _check_tokens(tokens: object, name: str) -> None:
    if not isinstance(tokens, np.ndarray) or not np.issubdtype(tokens.dtype, np.integer):
        got = tokens.dtype if isinstance(tokens, np.ndarray) else type(tokens).__name__
        raise TypeError(f"{name} must be an integer numpy array of token indices, got {got}")
