"""A character-level language model: read text one character at a time, guess the next.

This is the model of Karpathy's "The Unreasonable Effectiveness of Recurrent
Neural Networks" (2015), built from the book's own layers:

* every character is a one-hot vector over the *vocabulary* (the characters
  that occur in the training text), see :class:`Vocabulary`;
* one or more recurrent layers (``"rnn"``, ``"lstm"`` or ``"gru"``, from
  :data:`rnnbook.models.CELLS`) are stacked, each reading the states of the one
  below, see :class:`CharModel`;
* a linear read-out turns the top state into one score per character, and the
  loss is the softmax cross-entropy of the true next character, in nats per
  character.  Guessing uniformly costs :math:`\\ln V` for a vocabulary of V.

Training (:class:`CharTrainer`) cuts the text into ``batch_size`` long streams
that are read side by side, ``seq_len`` characters at a time, with *truncated
backpropagation through time*: the state at the end of one chunk is the
starting state of the next, but the gradient stops at the chunk boundary.
:func:`sample` writes new text, one character at a time, with a temperature.

The built-in corpus (:func:`builtin_corpus`) is the Python source of a fixed
list of standard-library modules (:data:`BUILTIN_FILES`), read from the
running interpreter's own library folder (``sysconfig.get_paths()["stdlib"]``),
so it is there offline on every machine and never copied into this repository.
"""

from __future__ import annotations

import math
import sysconfig
from pathlib import Path

import numpy as np

from rnnbook._validation import check_choice, check_positive_float, check_positive_int, check_rng
from rnnbook.linear import init_linear, linear_backward, linear_forward
from rnnbook.losses import softmax, softmax_cross_entropy
from rnnbook.models import CELLS, join, make_cell, split
from rnnbook.optim import Adam, clip_gradients

Params = dict[str, np.ndarray]
#: A layer's state: an array (B, H), or ``(h, c)`` for an LSTM.
State = np.ndarray | tuple[np.ndarray, np.ndarray]

#: The standard-library modules whose source makes the built-in corpus, in this order.
BUILTIN_FILES: tuple[str, ...] = (
    "textwrap.py",
    "fnmatch.py",
    "glob.py",
    "bisect.py",
    "string.py",
    "colorsys.py",
    "queue.py",
    "sched.py",
    "graphlib.py",
    "contextlib.py",
    "abc.py",
    "copy.py",
    "reprlib.py",
    "numbers.py",
    "operator.py",
)


class TextError(ValueError):
    """A text that cannot be trained on or sampled from (missing, empty, binary, ...)."""


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


# ---------------------------------------------------------------------------
# Text


def builtin_corpus() -> str:
    """The built-in corpus: the source of :data:`BUILTIN_FILES`, joined by newlines.

    The files are read at run time from ``sysconfig.get_paths()["stdlib"]``, the
    standard library of the running Python, so the text (and every number
    computed from it) can differ slightly between Python versions.

    Returns
    -------
    str
        About 150 000 characters of Python code, comments and docstrings.

    Raises
    ------
    TextError
        If one of the files is missing (a stripped-down Python installation).
    """
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    parts = []
    for name in BUILTIN_FILES:
        path = stdlib / name
        if not path.is_file():
            raise TextError(
                f"the built-in corpus needs {path} (standard-library source), which is missing; "
                "pass a text file of your own instead"
            )
        parts.append(read_text(path))
    return "\n".join(parts)


def read_text(path: str | Path) -> str:
    """Read a UTF-8 text file, refusing what cannot be a training text.

    Raises
    ------
    TextError
        If the file is missing, is not a file, is empty, holds NUL bytes (a
        binary file) or is not valid UTF-8 (the message gives the byte offset).
    """
    path = Path(path)
    if not path.exists():
        raise TextError(f"{path}: no such file")
    if not path.is_file():
        raise TextError(f"{path}: not a regular file")
    data = path.read_bytes()
    if not data:
        raise TextError(f"{path}: the file is empty")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise TextError(f"{path}: looks like a binary file (NUL byte at byte offset {nul}), expected UTF-8 text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise TextError(
            f"{path}: not valid UTF-8 at byte offset {err.start} (byte 0x{data[err.start]:02x}); "
            "save the file as UTF-8"
        ) from None


def split_text(text: str, validation_fraction: float = 0.1) -> tuple[str, str]:
    """Split ``text`` into a training part and the last ``validation_fraction`` for validation."""
    if not 0 < validation_fraction < 1:
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
    cut = len(text) - max(2, int(round(len(text) * validation_fraction)))
    return text[:cut], text[cut:]


class Vocabulary:
    """The characters a model knows, each with an index.

    Parameters
    ----------
    chars : str
        The characters, each once; their order gives the indices.

    Examples
    --------
    >>> vocab = Vocabulary.from_text("hello")
    >>> vocab.chars, vocab.encode("hole").tolist(), vocab.decode([3, 0])
    ('ehlo', [1, 3, 2, 0], 'oe')
    """

    def __init__(self, chars: str) -> None:
        if not isinstance(chars, str) or not chars:
            raise ValueError(f"a vocabulary needs at least one character, got {chars!r}")
        if len(set(chars)) != len(chars):
            raise ValueError("a vocabulary must list every character once")
        self.chars = chars
        self.index = {c: i for i, c in enumerate(chars)}

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        """The sorted set of characters of ``text``."""
        return cls("".join(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    def unknown(self, text: str) -> list[str]:
        """The characters of ``text`` that are not in the vocabulary, each once, in order of appearance."""
        return list(dict.fromkeys(c for c in text if c not in self.index))

    def encode(self, text: str) -> np.ndarray:
        """Indices (N,), int64, of the characters of ``text``.

        Raises
        ------
        TextError
            If a character is not in the vocabulary (the message lists them).
        """
        missing = self.unknown(text)
        if missing:
            raise TextError(
                "characters not in the model's vocabulary: " + ", ".join(repr(c) for c in missing[:10])
                + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
            )
        return np.fromiter((self.index[c] for c in text), dtype=np.int64, count=len(text))

    def decode(self, ids) -> str:
        """The text of a sequence of indices."""
        return "".join(self.chars[int(i)] for i in ids)


# ---------------------------------------------------------------------------
# The model


def final_state(cell: str, states: np.ndarray, trace) -> State:
    """The state a layer ends in, to start the next chunk from (copies, not views)."""
    if cell == "lstm":
        return states[-1].copy(), trace.cells[-1].copy()
    return states[-1].copy()


class CharModel:
    """One-hot characters in, stacked recurrent layers, one score per character out.

    Parameters
    ----------
    vocab_size : int
        V, the number of characters.
    hidden_size : int
        H, the size of every layer's state.
    cell : {"rnn", "lstm", "gru"}, default "rnn"
        The recurrent layer (see :func:`rnnbook.models.make_cell`).
    layers : int, default 1
        How many recurrent layers to stack; layer 0 reads the characters,
        layer k > 0 reads the states of layer k - 1.
    rng : numpy.random.Generator or int
        Randomness for the initial weights.
    dtype : float32 or float64, default float64

    Attributes
    ----------
    params : dict of str to numpy.ndarray
        ``layer{k}.weight_ih``, ``layer{k}.weight_hh``, ``layer{k}.bias_ih``,
        ``layer{k}.bias_hh`` for every layer k (torch's shapes for the cell),
        and ``readout.weight`` (V, H), ``readout.bias`` (V,).
    """

    def __init__(
        self,
        vocab_size: int,
        hidden_size: int,
        *,
        cell: str = "rnn",
        layers: int = 1,
        rng: np.random.Generator | int,
        dtype: type | np.dtype = np.float64,
    ) -> None:
        self.vocab_size = check_positive_int(vocab_size, "vocab_size")
        self.hidden_size = check_positive_int(hidden_size, "hidden_size")
        self.cell = check_choice(cell, "cell", tuple(CELLS))
        self.n_layers = check_positive_int(layers, "layers")
        rng = check_rng(rng)
        self.dtype = np.dtype(dtype)
        self.layers = []
        self.params: Params = {}
        for k in range(self.n_layers):
            layer = make_cell(cell, vocab_size if k == 0 else hidden_size, hidden_size, rng=rng, dtype=self.dtype)
            self.layers.append(layer)
            self.params |= join(f"layer{k}", layer.params)
        self.params |= join("readout", init_linear(hidden_size, vocab_size, rng=rng, dtype=self.dtype))
        self._share()

    def _share(self) -> None:
        """Point every layer at its entries of ``params`` (so that updates in place reach them)."""
        for k, layer in enumerate(self.layers):
            layer.params = split(self.params, f"layer{k}")

    def load_params(self, params: Params) -> None:
        """Copy ``params`` (same names, shapes and dtype) into the model's arrays."""
        if set(params) != set(self.params):
            raise ValueError(
                f"params must have the names {sorted(self.params)}, got {sorted(params)}"
            )
        for name, value in params.items():
            if value.shape != self.params[name].shape or value.dtype != self.dtype:
                raise ValueError(
                    f"{name} must be {self.dtype} of shape {self.params[name].shape}, got {value.dtype} {value.shape}"
                )
            self.params[name][...] = value

    def one_hot(self, ids: np.ndarray) -> np.ndarray:
        """One-hot vectors (T, B, V) for character indices ``ids`` (T, B)."""
        ids = np.asarray(ids)
        if not np.issubdtype(ids.dtype, np.integer) or ids.ndim != 2:
            raise TypeError(f"ids must be a (T, B) integer array, got {ids.dtype} of shape {ids.shape}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(f"ids must be in [0, {self.vocab_size}), got {ids.min()} to {ids.max()}")
        x = np.zeros(ids.shape + (self.vocab_size,), dtype=self.dtype)
        np.put_along_axis(x, ids[..., None], 1, axis=-1)
        return x

    def run(self, ids: np.ndarray, state0: list[State] | None = None):
        """The forward pass.

        Parameters
        ----------
        ids : numpy.ndarray of int, shape (T, B)
            Character indices.
        state0 : list of states, one per layer, optional
            Each (B, H), or ``(h, c)`` for an LSTM; zeros when omitted.

        Returns
        -------
        logits : numpy.ndarray, shape (T, B, V)
        states : list of numpy.ndarray, each (T, B, H)
            Every layer's states (the hidden states for an LSTM).
        traces : list
            Every layer's trace, for its ``backward``.
        final : list of states
            Every layer's last state, to continue from.
        """
        x = self.one_hot(ids)
        if state0 is None:
            state0 = [None] * self.n_layers
        all_states, traces, final = [], [], []
        for layer, s0 in zip(self.layers, state0, strict=True):
            states, trace = layer.forward(x, s0)
            all_states.append(states)
            traces.append(trace)
            final.append(final_state(self.cell, states, trace))
            x = states
        logits = linear_forward(split(self.params, "readout"), x)
        return logits, all_states, traces, final

    def logits(self, ids: np.ndarray, state0: list[State] | None = None) -> np.ndarray:
        """Scores (T, B, V) for the character after each of ``ids`` (T, B)."""
        return self.run(ids, state0)[0]

    def loss_and_grads(
        self, ids: np.ndarray, targets: np.ndarray, state0: list[State] | None = None
    ) -> tuple[float, Params]:
        """Mean cross-entropy (nats per character) of ``targets`` (T, B) after ``ids`` (T, B), and every gradient.

        The gradient stops at ``state0``: it is treated as a constant (truncated
        backpropagation through time).  The final states are kept in
        ``self.final_state`` for the next chunk.
        """
        logits, all_states, traces, final = self.run(ids, state0)
        if not np.isfinite(logits).all():
            raise TrainingDiverged("the scores became NaN or infinite")
        loss, dlogits = softmax_cross_entropy(logits, np.asarray(targets))
        readout = split(self.params, "readout")
        grads_out, dtop = linear_backward(readout, all_states[-1], dlogits)
        grads = join("readout", grads_out)
        for k in range(self.n_layers - 1, -1, -1):
            layer_grads, dtop, _ = self.layers[k].backward(traces[k], dtop)
            grads |= join(f"layer{k}", layer_grads)
        self.final_state = final
        return loss, grads

    def probabilities(self, ids: np.ndarray, temperature: float = 1.0) -> np.ndarray:
        """Next-character probabilities (T, B, V) after each of ``ids`` (T, B), from a zero state."""
        temperature = check_positive_float(temperature, "temperature")
        return softmax(self.logits(ids) / temperature)


# ---------------------------------------------------------------------------
# Sampling


def sample(
    model: CharModel,
    vocab: Vocabulary,
    length: int,
    *,
    temperature: float = 1.0,
    prime: str = "",
    rng: np.random.Generator | int,
) -> str:
    """Write ``length`` new characters, one at a time, each drawn from the model's guess.

    The model first reads ``prime`` (or a newline, or the first character of the
    vocabulary if the text has no newline, when ``prime`` is empty) to set its
    state.  Then, at every step, the scores are divided by ``temperature``
    before the softmax: below 1 the likeliest characters get likelier (safer,
    more repetitive text), above 1 the distribution flattens (more surprising
    text, more mistakes).  The drawn character is fed back in as the next input.

    Parameters
    ----------
    model : CharModel
    vocab : Vocabulary
        The model's vocabulary.
    length : int
        How many characters to write.
    temperature : float, default 1.0
        > 0.
    prime : str, default ""
        Text to read first; every character must be in ``vocab``.
    rng : numpy.random.Generator or int
        The source of randomness: the same seed gives the same text.

    Returns
    -------
    str
        The ``length`` new characters (without ``prime``).
    """
    length = check_positive_int(length, "length")
    temperature = check_positive_float(temperature, "temperature")
    rng = check_rng(rng)
    if not prime:
        prime = "\n" if "\n" in vocab.index else vocab.chars[0]
    ids = vocab.encode(prime)
    logits, _, _, state = model.run(ids[:, None])
    out = []
    for _ in range(length):
        p = softmax(logits[-1, 0].astype(np.float64) / temperature)
        # Inverse-CDF draw: one uniform number per character, robust to p summing to 1 - 1e-16.
        cdf = np.cumsum(p)
        nxt = int(min(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"), len(p) - 1))
        out.append(nxt)
        logits, _, _, state = model.run(np.array([[nxt]]), state)
    return vocab.decode(out)


# ---------------------------------------------------------------------------
# Training


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
            loss, _ = softmax_cross_entropy(logits, targets[start : start + seq_len])
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
    position in the text, the carried state) is in :meth:`state_arrays` and
    :meth:`state_meta`, so a run restored from them continues bit for bit.

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
        lr: float = 2e-3,
        max_norm: float = 5.0,
        rng: np.random.Generator | int,
    ) -> None:
        self.model = model
        self.ids = np.asarray(ids, dtype=np.int64)
        self.seq_len = check_positive_int(seq_len, "seq_len")
        check_positive_int(batch_size, "batch_size")
        if len(self.ids) < self.seq_len + 1:
            raise TextError(
                f"the training text has {len(self.ids)} characters, shorter than one sequence "
                f"(seq_len + 1 = {self.seq_len + 1}); use a longer text or a smaller --seq-len"
            )
        self.requested_batch_size = batch_size
        self.batch_size = min(batch_size, (len(self.ids) - 1) // self.seq_len)
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
        self._cut()
        self.chunk = 0
        self.state = None

    def _cut(self) -> None:
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
            If the loss or a gradient is NaN or infinite; the weights are then
            left as they were before this step.
        """
        if self.chunk >= self.n_chunks:
            self.epoch += 1
            self._new_epoch()
        rows = slice(self.chunk * self.seq_len, (self.chunk + 1) * self.seq_len)
        # Overflow is detected below and reported as TrainingDiverged, not as numpy warnings.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            try:
                loss, grads = self.model.loss_and_grads(self._inputs[rows], self._targets[rows], self.state)
            except TrainingDiverged:
                loss, grads = math.nan, {}
            finite = math.isfinite(loss) and all(np.isfinite(g).all() for g in grads.values())
            if finite:
                clip_gradients(grads, self.max_norm)
                finite = all(np.isfinite(g).all() for g in grads.values())
        if not finite:
            raise TrainingDiverged(
                f"the loss became {loss} at step {self.step_count + 1}; try a smaller learning rate (--lr)"
            )
        with np.errstate(over="ignore", invalid="ignore"):
            self.optimizer.step(self.model.params, grads)
        if not all(np.isfinite(p).all() for p in self.model.params.values()):
            raise TrainingDiverged(
                f"the weights became NaN or infinite at step {self.step_count + 1}; try a smaller learning rate (--lr)"
            )
        self.state = self.model.final_state
        self.chunk += 1
        self.step_count += 1
        self.losses.append(loss)
        return loss

    # -- checkpointing: everything the next step depends on --------------------

    def state_arrays(self) -> dict[str, np.ndarray]:
        """Weights (``param/...``), Adam's memory (``optim/...``) and the carried state (``state/...``)."""
        arrays = {f"param/{k}": v for k, v in self.model.params.items()}
        arrays |= {f"optim/{k}": np.asarray(v) for k, v in self.optimizer.state_dict().items()}
        for k, s in enumerate(self.state or []):
            if isinstance(s, tuple):
                arrays[f"state/{k}/h"], arrays[f"state/{k}/c"] = s
            else:
                arrays[f"state/{k}/h"] = s
        arrays["losses"] = np.asarray(self.losses, dtype=np.float64)
        return arrays

    def state_meta(self) -> dict:
        """The position in the data and the rng, JSON-ready."""
        return {
            "step": self.step_count,
            "epoch": self.epoch,
            "chunk": self.chunk,
            "offset": self.offset,
            "seq_len": self.seq_len,
            "batch_size": self.requested_batch_size,
            "lr": self.optimizer.lr,
            "max_norm": self.max_norm,
            "rng_state": self.rng.bit_generator.state,
            "has_state": self.state is not None,
        }

    def load_state(self, arrays: dict[str, np.ndarray], meta: dict) -> None:
        """Restore what :meth:`state_arrays` and :meth:`state_meta` returned."""
        self.model.load_params({k[len("param/"):]: v for k, v in arrays.items() if k.startswith("param/")})
        self.optimizer.load_state_dict({k[len("optim/"):]: v for k, v in arrays.items() if k.startswith("optim/")})
        self.rng.bit_generator.state = meta["rng_state"]
        self.step_count, self.epoch = int(meta["step"]), int(meta["epoch"])
        self.offset, self.chunk = int(meta["offset"]), int(meta["chunk"])
        self._cut()
        self.losses = [float(v) for v in arrays["losses"]]
        if meta["has_state"]:
            lstm = self.model.cell == "lstm"
            self.state = [
                (arrays[f"state/{k}/h"], arrays[f"state/{k}/c"]) if lstm else arrays[f"state/{k}/h"]
                for k in range(self.model.n_layers)
            ]
        else:
            self.state = None
