"""Taggers, the aligned many-to-many shape: one answer (a tag) per input step.

:class:`SequenceTagger` reads a sequence in one direction only, so the tag of
step t can depend only on steps 1..t.  :class:`StackedTagger` reads it with
:class:`rnnbook.layers.stacked.Stacked`; with ``bidirectional=True`` the tag
of step t sees the whole sequence, the steps after t included.
"""

from __future__ import annotations

import numpy as np

from rnnbook._validation import check_labels, check_positive_int
from rnnbook.layers.base import Params, attach, join, split
from rnnbook.layers.linear import init_linear, linear, linear_backward
from rnnbook.layers.stacked import Stacked
from rnnbook.models.base import RecurrentReadout
from rnnbook.models.seq2seq import masked_loss


class SequenceTagger(RecurrentReadout):
    """Aligned many-to-many: one answer (a tag) per input step, read out of every state.

    Parameters
    ----------
    input_size : int
        I, features per step.
    hidden_size : int
        H.
    n_tags : int
        C, the tags, *including* the padding tag ``pad`` that is never scored.
    cell : str, default "rnn"
        A name from :data:`rnnbook.layers.registry.CELLS`.
    pad : int, default 0
        The tag of padded positions; left out of the loss.
    rng : numpy.random.Generator or int
    dtype : float32 or float64

    Attributes
    ----------
    params : dict
        ``rnn.*`` and ``readout.weight`` (C, H), ``readout.bias`` (C,).
    """

    every_step = True

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        n_tags: int,
        *,
        cell: str = "rnn",
        pad: int = 0,
        rng: np.random.Generator | int,
        dtype: type | np.dtype = np.float64,
    ) -> None:
        self.n_tags = check_positive_int(n_tags, "n_tags")
        if isinstance(pad, bool) or not isinstance(pad, int | np.integer) or not 0 <= pad < self.n_tags:
            raise ValueError(f"pad must be a tag index in [0, {self.n_tags}), got {pad!r}")
        self.pad = int(pad)
        super().__init__(input_size, hidden_size, self.n_tags, cell=cell, rng=rng, dtype=dtype)

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Scores (T, B, C) for every step of ``x`` (T, B, I)."""
        return self.read(x)[0]

    def loss_and_grads(self, x: np.ndarray, tags: np.ndarray) -> tuple[float, Params]:
        """Cross-entropy of the tags (T, B) for ``x`` (T, B, I), padding left out, and every gradient."""
        logits, saved = self.read(x)
        check_labels(tags, "tags", shape=logits.shape[:2], n_classes=self.n_tags)
        loss, dlogits = masked_loss(logits, tags, self.pad)
        return loss, self.backward(saved, dlogits)


class StackedTagger:
    """One tag per step, read out of a one- or two-directional recurrent layer.

    Parameters
    ----------
    input_size : int
        I, features per step (the vocabulary, for one-hot words).
    hidden_size : int
        H, per direction.
    n_tags : int
        Tags, index 0 being padding (left out of the loss).
    bidirectional : bool
        Read the sequence both ways.
    cell : str, default "rnn"
        A name from ``rnnbook.layers.registry.CELLS``.
    rng : numpy.random.Generator or int
    """

    def __init__(
        self, input_size: int, hidden_size: int, n_tags: int, *, bidirectional: bool, cell: str = "rnn", rng
    ) -> None:
        if not isinstance(bidirectional, bool):
            raise TypeError(f"bidirectional must be True or False, got {bidirectional!r}")
        self.rnn = Stacked(cell, input_size, hidden_size, 1, bidirectional, rng=rng)
        self.params: Params = {}
        attach(self.params, "rnn", self.rnn)
        self.params |= join("readout", init_linear(self.rnn.output_size, n_tags, rng=rng))

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Tag scores (T, B, tags) for inputs x (T, B, I)."""
        return linear(split(self.params, "readout"), self.rnn.forward(x)[0])

    def loss_and_grads(self, x: np.ndarray, tags: np.ndarray) -> tuple[float, Params]:
        """Cross-entropy of ``tags`` (T, B) (padding left out) for inputs x (T, B, I), and every gradient."""
        out, trace = self.rnn.forward(x)
        readout = split(self.params, "readout")
        loss, dlogits = masked_loss(linear(readout, out), tags, 0)
        grads_out, dout = linear_backward(readout, out, dlogits)
        grads_rnn, _, _ = self.rnn.backward(trace, dout)
        return loss, join("rnn", grads_rnn) | join("readout", grads_out)
