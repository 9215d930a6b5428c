"""Symbols as numbers: the one vocabulary type and the one one-hot encoder.

A :class:`Vocabulary` numbers the symbols a model reads or writes, characters
and word tokens alike.  A character model's vocabulary is just its characters
(:meth:`Vocabulary.from_text`); a vocabulary for models that decode also has
three special tokens in front, padding, start and end, so that sequences of
different lengths fit into one padded (T, N) array.  :func:`one_hot` turns
indices into the vectors a layer reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from rnnbook._validation import check_choice, check_positive_int
from rnnbook.data.text import TextError


def one_hot(indices: np.ndarray, n_classes: int, dtype: type | np.dtype = np.float64) -> np.ndarray:
    """One-hot encode integer ``indices`` of any shape into shape (..., n_classes)."""
    n_classes = check_positive_int(n_classes, "n_classes")
    indices = np.asarray(indices)
    if not np.issubdtype(indices.dtype, np.integer):
        raise TypeError(f"indices must be integers, got dtype {indices.dtype}")
    if indices.size and (indices.min() < 0 or indices.max() >= n_classes):
        raise ValueError(f"indices must be in [0, {n_classes}), got {indices.min()} to {indices.max()}")
    out = np.zeros(indices.shape + (n_classes,), dtype=dtype)
    np.put_along_axis(out, indices[..., None], 1, axis=-1)
    return out


class Vocabulary:
    """A numbered list of symbols (characters or tokens), optionally with padding, start and end.

    With ``specials=True`` (the default) index 0 is ``"<pad>"`` (filler that
    makes sequences the same length), 1 is ``"<s>"`` (the start symbol a
    decoder is fed first) and 2 is ``"</s>"`` (the end of a sequence), and the
    tokens follow in the order given.  Without them (a character model's
    vocabulary, :meth:`from_text`) the symbols are numbered from 0.

    Parameters
    ----------
    tokens : iterable of str
        The ordinary symbols (characters or words); duplicates are dropped.
    specials : bool, default True
        Whether to put ``<pad>``, ``<s>``, ``</s>`` in front.

    Examples
    --------
    >>> vocab = Vocabulary("abc")
    >>> vocab.encode(["ab", "c"], length=4)[:, 0]
    array([3, 4, 2, 0])
    >>> vocab.decode(vocab.encode(["ab", "c"], length=4))
    [['a', 'b'], ['c']]
    >>> chars = Vocabulary.from_text("hello")
    >>> chars.chars, chars.encode("hole").tolist(), chars.decode([3, 0])
    ('ehlo', [1, 3, 2, 0], 'oe')
    """

    PAD, BOS, EOS = "<pad>", "<s>", "</s>"
    pad, bos, eos = 0, 1, 2

    def __init__(self, tokens: Iterable[str], *, specials: bool = True) -> None:
        if not isinstance(specials, bool):  # "no" or 0.0 would be taken for True or False silently
            raise TypeError(f"specials must be True or False, got {specials!r}")
        if not isinstance(tokens, Iterable):
            raise TypeError(f"tokens must be a string or an iterable of strings, got {type(tokens).__name__}")
        symbols = [self.PAD, self.BOS, self.EOS] if specials else []
        for token in tokens:
            if not isinstance(token, str) or not token:
                raise TypeError(f"tokens must be non-empty strings, got {token!r}")
            if token not in symbols:
                symbols.append(token)
        if not symbols:
            raise ValueError(f"a vocabulary needs at least one symbol, got {tokens!r}")
        self.specials = bool(specials)
        self.symbols: tuple[str, ...] = tuple(symbols)
        self.index: dict[str, int] = {s: i for i, s in enumerate(symbols)}

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        """The sorted set of characters of ``text``, numbered from 0 (no special tokens)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        return cls(sorted(set(text)), specials=False)

    @property
    def chars(self) -> str:
        """The symbols joined into one string: a character vocabulary's characters, in index order."""
        return "".join(self.symbols)

    def __len__(self) -> int:
        return len(self.symbols)

    def __contains__(self, token: object) -> bool:
        """Whether ``token`` is one of the symbols (``"a" in vocab``)."""
        return token in self.index

    def __iter__(self):
        """The symbols, in index order."""
        return iter(self.symbols)

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} symbols: {' '.join(self.symbols[:12])}{' ...' if len(self) > 12 else ''})"

    def unknown(self, tokens: Iterable[str]) -> list[str]:
        """The symbols of ``tokens`` (a text, or a token list) that are not in the vocabulary, each once."""
        return list(dict.fromkeys(t for t in tokens if t not in self.index))

    def encode(
        self,
        sequences: str | Sequence[Sequence[str]],
        *,
        length: int | None = None,
        end: bool = True,
        pad_at: str = "end",
    ) -> np.ndarray:
        """Turn one text into indices (N,), or token sequences into one padded array (T, N).

        Parameters
        ----------
        sequences : str or sequence of sequences of str
            One text (a string; for a vocabulary without special tokens), or N
            sequences of tokens (a string is a sequence of characters).
        length : int, optional
            T, the padded length; by default the longest sequence (plus its end token).
        end : bool, default True
            Whether to write ``"</s>"`` after each sequence.
        pad_at : {"end", "start"}, default "end"
            Where the padding goes.  An encoder that answers from its last
            state should read the padding *first* (``"start"``), so that the
            last thing it reads is the sequence itself.

        Returns
        -------
        numpy.ndarray of int64, shape (N,) for one text, (T, N) for sequences

        Raises
        ------
        TextError
            If a symbol is not in the vocabulary (the message lists them).
        """
        if isinstance(sequences, str) and not self.specials:
            return self._encode_text(sequences)
        check_choice(pad_at, "pad_at", ("end", "start"))
        if isinstance(sequences, str) or not isinstance(sequences, Sequence) or not sequences:
            raise TypeError(f"sequences must be a non-empty list of token sequences, got {type(sequences).__name__}")
        coded = []
        for i, seq in enumerate(sequences):
            unknown = [tok for tok in seq if tok not in self.index]
            if unknown:
                raise TextError(f"sequence {i} holds tokens not in the vocabulary: {unknown[:5]}")
            coded.append([self.index[tok] for tok in seq] + ([self.eos] if end else []))
        longest = max(len(c) for c in coded)
        if length is None:
            length = longest
        length = check_positive_int(length, "length")
        if longest > length:
            raise ValueError(f"length={length} is too short: the longest sequence needs {longest} steps")
        out = np.full((length, len(coded)), self.pad, dtype=np.int64)
        for j, c in enumerate(coded):
            if pad_at == "end":
                out[: len(c), j] = c
            else:
                out[length - len(c) :, j] = c
        return out

    def _encode_text(self, text: str) -> np.ndarray:
        missing = self.unknown(text)
        if missing:
            raise TextError(
                "characters not in the model's vocabulary: " + ", ".join(repr(c) for c in missing[:10])
                + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
            )
        return np.fromiter((self.index[c] for c in text), dtype=np.int64, count=len(text))

    def decode(self, indices) -> str | list[list[str]]:
        """The text of indices (N,), or the token lists of the columns of (T, N).

        Each column is read up to its first end token; padding and start
        tokens are skipped.

        Returns
        -------
        str for indices (N,); list of N lists of str for (T, N)
        """
        indices = np.asarray(indices)
        if indices.ndim == 1 and indices.size == 0:
            return ""
        if indices.ndim not in (1, 2) or not np.issubdtype(indices.dtype, np.integer):
            raise ValueError(f"indices must be a 1-d or 2-d integer array, got {indices.dtype} {indices.shape}")
        if indices.size and (indices.min() < 0 or indices.max() >= len(self.symbols)):
            # a negative index would silently count from the end
            raise ValueError(
                f"indices must be in [0, {len(self.symbols)}), got values from {indices.min()} to {indices.max()}"
            )
        if indices.ndim == 1:
            return "".join(self.symbols[int(i)] for i in indices)
        out = []
        for column in indices.T:
            tokens = []
            for i in column:
                if self.specials and i == self.eos:
                    break
                if not self.specials or i not in (self.pad, self.bos):
                    tokens.append(self.symbols[i])
            out.append(tokens)
        return out

    def one_hot(self, indices: np.ndarray, dtype: type | np.dtype = np.float64) -> np.ndarray:
        """One-hot vectors (..., V) for an index array of any shape."""
        return one_hot(indices, len(self), dtype)
