"""Training the character model: truncated backpropagation through time over streams of text.

:class:`CharTrainer` cuts the text into ``batch_size`` long streams that are
read side by side, ``seq_len`` characters at a time: the state at the end of
one chunk is the starting state of the next, but the gradient stops at the
chunk boundary.  :func:`evaluate` measures the loss on held-out text.
:func:`train_char_model` trains one model from a seed with the book's short
recipe (a cosine learning-rate schedule, :func:`cosine_lr`), for the chapter
and the gallery alike.
"""

from __future__ import annotations

import numpy as np

from rnnbook._validation import check_positive_float, check_positive_int, check_rng
from rnnbook.data.text import TextError
from rnnbook.layers.base import State
from rnnbook.models.charmodel import CharModel
from rnnbook.training.loop import TrainingDiverged, check_finite_step
from rnnbook.training.losses import cross_entropy
from rnnbook.training.optim import Adam, clip_gradients

#: Adam's learning rate and the clipping threshold when none is given.
DEFAULT_LR = 2e-3
DEFAULT_MAX_NORM = 5.0
#: The most memory a training run, or a checkpoint being loaded, may ask for (one cap for both).
MAX_MEMORY_BYTES = 2 * 2**30


def streams_for(n_ids: int, seq_len: int, batch_size: int) -> int:
    """How many streams a text of ``n_ids`` characters gives: ``batch_size``, fewer if it is too short."""
    return min(batch_size, (n_ids - 1) // seq_len)


def memory_estimate(
    vocab_size: int, hidden_size: int, layers: int, *, gates: int, seq_len: int, batch_size: int, itemsize: int = 4
) -> int:
    """About how many bytes a :class:`CharTrainer` of these sizes needs, before anything is allocated.

    The parameters four times over (weights, gradients, Adam's two moments),
    and per step of a chunk, for each layer, its gate pre-activations, states
    and their gradients, plus the one-hot inputs and the scores with their
    gradient (T, B, V).  ``gates`` is 1 for the RNN, 4 for the LSTM, 3 for the GRU.
    """
    params = gates * hidden_size * (vocab_size + hidden_size + 2) + vocab_size * (hidden_size + 1)
    params += (layers - 1) * gates * hidden_size * (2 * hidden_size + 2)
    activations = seq_len * batch_size * (layers * (2 * gates + 4) * hidden_size + 3 * vocab_size)
    return (4 * params + activations) * itemsize


def evaluate(model: CharModel, ids: np.ndarray, *, streams: int = 16, seq_len: int = 200) -> float:
    """Mean cross-entropy, in nats per character, of every next character of ``ids`` (N,).

    The text is cut into ``streams`` pieces read side by side, ``seq_len`` steps
    at a time, each carrying its state across chunks (only the first characters
    of each stream are read from a zero state).
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) < 2:
        raise ValueError(f"ids must be a 1-d array of at least 2 characters, got shape {ids.shape}")
    streams = max(1, min(streams, (len(ids) - 1) // 32 or 1))
    length = (len(ids) - 1) // streams
    inputs = ids[: streams * length].reshape(streams, length).T
    targets = ids[1 : streams * length + 1].reshape(streams, length).T
    total, state = 0.0, None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for start in range(0, length, seq_len):
            logits, _, _, state = model.run(inputs[start : start + seq_len], state)
            loss, _ = cross_entropy(logits, targets[start : start + seq_len])
            total += loss * logits.shape[0] * streams
    # The characters that did not fit into equal streams (fewer than `streams`) are left out.
    return total / (length * streams)


class CharTrainer:
    """Adam on a character model, batches of streams, truncated BPTT carrying the state.

    The training text is cut into ``batch_size`` streams of equal length read
    side by side; each step trains on the next ``seq_len`` characters of every
    stream, starting from the states where the previous step stopped.  When the
    streams run out (an *epoch*), the state is reset and the streams are cut
    again from a random offset in ``[0, seq_len)`` drawn from ``rng``, so that
    the chunk boundaries move from epoch to epoch.

    Everything the next step depends on (weights, Adam's moments, the rng, the
    position in the text, the carried state) is in its attributes, and
    :mod:`rnnbook.training.checkpoint` saves and restores all of it, so a
    restored run continues bit for bit.

    Parameters
    ----------
    model : CharModel
    ids : numpy.ndarray of int, shape (N,)
        The training text, encoded.
    seq_len : int
        T, the characters per chunk (the truncation length).
    batch_size : int
        B, the number of streams; reduced (see ``self.batch_size``) when the
        text is too short for B streams of at least ``seq_len`` characters.
    lr : float, default 2e-3
        Adam's learning rate.
    max_norm : float, default 5.0
        The global gradient norm is clipped to this.
    rng : numpy.random.Generator or int
        For the offsets of the epochs.

    Raises
    ------
    TextError
        If the text is shorter than one sequence (``seq_len + 1`` characters).
    """

    def __init__(
        self,
        model: CharModel,
        ids: np.ndarray,
        *,
        seq_len: int,
        batch_size: int,
        lr: float = DEFAULT_LR,
        max_norm: float = DEFAULT_MAX_NORM,
        rng: np.random.Generator | int,
    ) -> None:
        if not isinstance(model, CharModel):
            raise TypeError(f"model must be a CharModel, got {type(model).__name__}")
        self.model = model
        ids = np.asarray(ids)
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"ids must be a 1-d integer array (the encoded text), got {ids.dtype} of shape {ids.shape}")
        model.check_ids(ids[:, None], "ids")  # every id in [0, vocab_size)
        self.ids = ids.astype(np.int64, copy=False)
        self.seq_len = check_positive_int(seq_len, "seq_len")
        check_positive_int(batch_size, "batch_size")
        if len(self.ids) < self.seq_len + 1:
            raise TextError(
                f"the training text has {len(self.ids)} characters, shorter than one sequence "
                f"(seq_len + 1 = {self.seq_len + 1}); use a longer text or a smaller --seq-len"
            )
        self.requested_batch_size = batch_size
        self.batch_size = streams_for(len(self.ids), self.seq_len, batch_size)
        self.max_norm = check_positive_float(max_norm, "max_norm")
        self.optimizer = Adam(lr=lr)
        self.rng = check_rng(rng)
        self.step_count = 0
        self.epoch = 0
        self.chunk = 0
        self.losses: list[float] = []
        self.state: list[State] | None = None
        self._new_epoch()

    def _new_epoch(self) -> None:
        slack = min(self.seq_len - 1, len(self.ids) - 1 - self.batch_size * self.seq_len)
        self.offset = int(self.rng.integers(0, slack + 1))
        self.cut()
        self.chunk = 0
        self.state = None

    def cut(self) -> None:
        """Cut the text into the streams of the current epoch, from ``self.offset``."""
        usable = self.ids[self.offset :]
        length = (len(usable) - 1) // self.batch_size
        self.n_chunks = length // self.seq_len
        self._inputs = usable[: self.batch_size * length].reshape(self.batch_size, length).T
        self._targets = usable[1 : self.batch_size * length + 1].reshape(self.batch_size, length).T

    def train_step(self) -> float:
        """One step of Adam on the next chunk; returns its loss (nats per character).

        Raises
        ------
        TrainingDiverged
            If the loss or a gradient is NaN or infinite (the weights are then
            left as they were before this step), or if the update made a weight
            NaN or infinite (then they are not: keep the last checkpoint).
        """
        if self.chunk >= self.n_chunks:
            self.epoch += 1
            self._new_epoch()
        rows = slice(self.chunk * self.seq_len, (self.chunk + 1) * self.seq_len)
        # Overflow is divergence, detected below and reported as TrainingDiverged, not as numpy warnings.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            loss, grads, final = self.model.loss_grads_and_state(self._inputs[rows], self._targets[rows], self.state)
            norm = clip_gradients(grads, self.max_norm)
        check_finite_step(loss, norm, self.step_count + 1)
        with np.errstate(over="ignore", invalid="ignore"):
            self.optimizer.step(self.model.params, grads)
        if not all(np.isfinite(p).all() for p in self.model.params.values()):
            raise TrainingDiverged(
                f"the weights became NaN or infinite at training step {self.step_count + 1}; "
                "try a smaller learning rate (lr; --lr of rnnbook train)"
            )
        self.state = final
        self.chunk += 1
        self.step_count += 1
        self.losses.append(loss)
        return loss


def cosine_lr(step: int, steps: int, peak: float, floor: float = 0.05) -> float:
    """The learning rate of training step ``step`` (0-based) of ``steps``: a cosine from ``peak`` to ``floor * peak``.

    Large steps early, while the weights are far from any good value, and
    small ones at the end, so that the last updates settle instead of jumping
    around a minimum: the same number of updates reaches a lower loss than a
    constant learning rate.
    """
    progress = min(max(step / max(steps - 1, 1), 0.0), 1.0)
    return float(peak * (floor + (1 - floor) * 0.5 * (1 + np.cos(np.pi * progress))))


#: The book's recipe for a short run: 8 streams of 50 characters, Adam with a cosine schedule.
#: ``peak_lr`` differs by cell: the gated cells take larger steps without diverging.
RECIPE = {"batch_size": 8, "seq_len": 50, "floor": 0.05}


def train_char_model(
    ids: np.ndarray,
    vocab_size: int,
    *,
    cell: str,
    hidden_size: int,
    steps: int,
    peak_lr: float,
    seed: int,
    eval_ids: np.ndarray | None = None,
    eval_every: int = 100,
    at_steps: tuple[int, ...] = (),
    callback=None,
) -> tuple[CharModel, CharTrainer, np.ndarray]:
    """Train one character model from scratch with the book's recipe (:data:`RECIPE`, :func:`cosine_lr`).

    Parameters
    ----------
    ids : numpy.ndarray of int, shape (N,)
        The training text, encoded.
    vocab_size : int
        V.
    cell : str
        A cell name of :data:`rnnbook.layers.registry.CELLS`.
    hidden_size : int
        H.
    steps : int
        Training steps (updates) of ``RECIPE["batch_size"]`` streams by ``RECIPE["seq_len"]`` characters.
    peak_lr : float
        Adam's learning rate at the start; it falls to ``RECIPE["floor"] * peak_lr`` by the last step.
    seed : int
        Seeds the weights and the data order: the same seed gives the same model.
    eval_ids : numpy.ndarray of int, shape (M,), optional
        Held-out text whose loss is measured before training and every ``eval_every`` steps.
    eval_every : int, default 100
    at_steps : tuple of int
        Steps (0 to ``steps``) after which ``callback(step, model)`` is called, e.g. to sample.
    callback : callable, optional

    Returns
    -------
    model : CharModel
        float32 weights.
    trainer : CharTrainer
        Holds the training losses of every step (``trainer.losses``).
    curve : numpy.ndarray, shape (K, 2)
        (training step, held-out loss) pairs; empty (0, 2) without ``eval_ids``.
    """
    steps = check_positive_int(steps, "steps")
    eval_every = check_positive_int(eval_every, "eval_every")
    peak_lr = check_positive_float(peak_lr, "peak_lr")
    bad = [s for s in at_steps if not 0 <= s <= steps]
    if bad:
        raise ValueError(f"at_steps must lie in [0, {steps}], got {bad}")
    if at_steps and callback is None:
        raise ValueError("at_steps needs a callback(step, model) to call")
    rng = np.random.default_rng(seed)
    model = CharModel(vocab_size, hidden_size, cell=cell, rng=rng, dtype=np.float32)
    trainer = CharTrainer(
        model, ids, seq_len=RECIPE["seq_len"], batch_size=RECIPE["batch_size"], lr=peak_lr, rng=rng
    )
    curve = [] if eval_ids is None else [(0, evaluate(model, eval_ids))]
    for step in range(steps + 1):
        if step in at_steps:
            callback(step, model)
        if step == steps:
            break
        trainer.optimizer.lr = cosine_lr(step, steps, peak_lr, RECIPE["floor"])
        trainer.train_step()
        if eval_ids is not None and (step + 1) % eval_every == 0:
            curve.append((step + 1, evaluate(model, eval_ids)))
    return model, trainer, np.array(curve, dtype=float).reshape(-1, 2)
