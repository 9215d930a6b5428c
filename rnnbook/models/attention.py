"""An encoder-decoder that looks back: the translator with attention (Bahdanau et al. 2015).

:class:`rnnbook.models.seq2seq.Translator` squeezes the whole input into the
encoder's final state.  :class:`AttentionTranslator` keeps *every* encoder
state.  Before each output step the decoder's state :math:`h_{j-1}` asks
:func:`rnnbook.layers.attention.attend` for a context, a weighted average of
the encoder states whose weights it recomputes at every step; the decoder
then reads the previous output token and that context:

.. math::

   \\text{context}_j = \\textstyle\\sum_t a_{jt} s_t, \\qquad
   h_j = \\text{cell}([\\text{token}_{j-1}; \\text{context}_j], h_{j-1}), \\qquad
   y_j = W_y h_j + b_y .

Because the context depends on the previous decoder state, the decoder runs
one step at a time, and so does its backward pass: each step is a sequence of
length one for the layer's ``run`` and ``backprop``, so any cell of the
registry works.
"""

from __future__ import annotations

import numpy as np

from rnnbook._validation import check_positive_int, check_rng
from rnnbook.data.encoding import one_hot
from rnnbook.layers.attention import (
    attend,
    attend_backward,
    check_score,
    init_attention,
    project_keys,
    project_keys_backward,
)
from rnnbook.layers.base import Params, State, attach, join, split
from rnnbook.layers.linear import init_linear, linear, linear_backward
from rnnbook.layers.registry import make_cell
from rnnbook.models.seq2seq import check_specials, check_targets, masked_loss


class AttentionTranslator:
    """Many-to-many with an encoder, a decoder, and attention between them.

    Parameters
    ----------
    input_size : int
        I, features per input step (the source vocabulary, for one-hot input).
    hidden_size : int
        H, shared by encoder and decoder.
    vocab_size : int
        V, the output tokens (with ``<pad>``, ``<s>``, ``</s>``).
    cell : str, default "rnn"
        A name from :data:`rnnbook.layers.registry.CELLS`, for both encoder and decoder.
    score : {"additive", "dot"}, default "additive"
        Bahdanau's additive score or Luong's dot product.
    attention_size : int, optional
        A, the size of the additive scoring layer; H when omitted.
    bos, pad : int, default 1 and 0
    rng : numpy.random.Generator or int
    dtype : float32 or float64

    Attributes
    ----------
    params : dict
        ``encoder.*`` (input size I), ``decoder.*`` (input size V + H),
        ``attention.query`` (A, H), ``attention.keys`` (A, H), ``attention.v``
        (A,) (additive score only), ``readout.weight`` (V, H), ``readout.bias`` (V,).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        vocab_size: int,
        *,
        cell: str = "rnn",
        score: str = "additive",
        attention_size: int | None = None,
        bos: int = 1,
        pad: int = 0,
        rng: np.random.Generator | int,
        dtype: type | np.dtype = np.float64,
    ) -> None:
        rng = check_rng(rng)
        self.vocab_size = check_positive_int(vocab_size, "vocab_size")
        hidden_size = check_positive_int(hidden_size, "hidden_size")
        self.bos, self.pad = check_specials(bos, pad, self.vocab_size)
        self.score = check_score(score)
        self.encoder = make_cell(cell, input_size, hidden_size, rng=rng, dtype=np.dtype(dtype))
        self.decoder = make_cell(cell, vocab_size + hidden_size, hidden_size, rng=rng, dtype=np.dtype(dtype))
        self.params: Params = {}
        attach(self.params, "encoder", self.encoder)
        attach(self.params, "decoder", self.decoder)
        size = hidden_size if attention_size is None else check_positive_int(attention_size, "attention_size")
        if self.score == "additive":
            self.params |= join("attention", init_attention(hidden_size, size, rng=rng, dtype=dtype))
        self.params |= join("readout", init_linear(hidden_size, vocab_size, rng=rng, dtype=dtype))

    # -- the forward pass -------------------------------------------------------------

    def _encode(self, source: np.ndarray):
        keys, trace = self.encoder.forward(source)
        attention = split(self.params, "attention")
        projected = project_keys(attention, keys) if self.score == "additive" else None
        return keys, trace, projected

    def _token(self, token: np.ndarray) -> np.ndarray:
        return one_hot(token, self.vocab_size, self.decoder.dtype)

    def _check_targets(self, targets: np.ndarray, batch: int) -> np.ndarray:
        return check_targets(targets, batch, self.vocab_size)

    def logits(self, source: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Teacher-forced scores (T', B, V) for a source (T, B, I) and targets (T', B)."""
        keys, enc_trace, projected = self._encode(source)
        targets = self._check_targets(targets, source.shape[1])
        attention, readout = split(self.params, "attention"), split(self.params, "readout")
        state = self.encoder.final_state(enc_trace)
        out = []
        for j in range(targets.shape[0]):
            token = targets[j - 1] if j else np.full(targets.shape[1], self.bos)
            context, _ = attend(attention, self.decoder.output(state), keys, projected, self.score)
            h, state = self.decoder.step(np.concatenate([self._token(token), context], axis=-1), state)
            out.append(linear(readout, h))
        return np.stack(out)

    def loss_and_grads(self, source: np.ndarray, targets: np.ndarray) -> tuple[float, Params]:
        """Teacher-forced cross-entropy of ``targets`` (T', B) given ``source`` (T, B, I), and every gradient.

        Forward: encode; then, for each output step, attend with the previous
        decoder state, step the decoder on [previous token; context], read out.
        Backward: the same steps in reverse, each undone by its own backward
        function; the gradients reaching the encoder states (through the
        averages and the projected keys) and its final state (through the
        decoder's first state) then run back through the encoder.
        """
        keys, enc_trace, projected = self._encode(source)
        targets = self._check_targets(targets, source.shape[1])
        attention, readout = split(self.params, "attention"), split(self.params, "readout")
        state = self.encoder.final_state(enc_trace)
        steps = []
        for j in range(targets.shape[0]):
            token = targets[j - 1] if j else np.full(targets.shape[1], self.bos)
            context, cache = attend(attention, self.decoder.output(state), keys, projected, self.score)
            x = np.concatenate([self._token(token), context], axis=-1)
            _, trace = self.decoder.run(x[None], state)
            state = self.decoder.final_state(trace)
            steps.append((cache, trace))
        states = np.stack([self.decoder.output(self.decoder.state_at(trace, 0)) for _, trace in steps])  # (T', B, H)
        loss, dlogits = masked_loss(linear(readout, states), targets, self.pad)
        grads_out, dstates = linear_backward(readout, states, dlogits)

        grads: Params = {}
        dkeys = np.zeros_like(keys)
        dprojected = None if projected is None else np.zeros_like(projected)
        dstate = None  # the gradient with respect to the decoder state after step j
        for j in range(targets.shape[0] - 1, -1, -1):
            cache, trace = steps[j]
            grads_dec, dx, dstate = self.decoder.backprop(trace, dstates[j][None], dstate)
            _accumulate(grads, join("decoder", grads_dec))
            grads_att, dquery, dkeys_j, dprojected_j = attend_backward(attention, cache, dx[0, :, self.vocab_size :])
            _accumulate(grads, join("attention", grads_att))
            dkeys += dkeys_j
            if dprojected is not None:
                dprojected += dprojected_j
            dstate = self._add_to_output(dstate, dquery)
        if dprojected is not None:
            grads["attention.keys"], dkeys_proj = project_keys_backward(attention, keys, dprojected)
            dkeys += dkeys_proj
        grads_enc, _, _ = self.encoder.backprop(enc_trace, dkeys, dstate)
        return loss, grads | join("encoder", grads_enc) | join("readout", grads_out)

    def _add_to_output(self, state: State, dh: np.ndarray) -> State:
        """``state`` with ``dh`` (B, H) added to its output part (h), whatever the cell."""
        parts = dict(self.decoder.state_parts(state))
        parts["h"] = parts["h"] + dh
        return self.decoder.state_from_parts(parts)

    # -- writing ----------------------------------------------------------------------

    def translate(self, source: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
        """Greedy outputs and where they looked.

        Parameters
        ----------
        source : numpy.ndarray, shape (T, B, I)
        length : int
            T', the number of tokens to write.

        Returns
        -------
        tokens : numpy.ndarray of int, shape (T', B)
        weights : numpy.ndarray, shape (T', T, B)
            The attention weights of every output step over the input steps.
        """
        length = check_positive_int(length, "length")
        keys, enc_trace, projected = self._encode(source)
        attention, readout = split(self.params, "attention"), split(self.params, "readout")
        state = self.encoder.final_state(enc_trace)
        token = np.full(source.shape[1], self.bos)
        tokens = np.empty((length, source.shape[1]), dtype=np.int64)
        weights = np.empty((length, *keys.shape[:2]), dtype=keys.dtype)
        for j in range(length):
            context, cache = attend(attention, self.decoder.output(state), keys, projected, self.score)
            h, state = self.decoder.step(np.concatenate([self._token(token), context], axis=-1), state)
            token = linear(readout, h).argmax(axis=-1)
            tokens[j], weights[j] = token, cache.weights
        return tokens, weights

    def generate(self, source: np.ndarray, length: int) -> np.ndarray:
        """Greedy outputs, tokens of shape (length, B), for a source (T, B, I)."""
        return self.translate(source, length)[0]


def _accumulate(total: Params, part: Params) -> None:
    for name, value in part.items():
        if name in total:
            total[name] += value
        else:
            total[name] = value.copy()
