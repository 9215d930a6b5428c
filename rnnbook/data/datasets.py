"""Small data sets for the four shapes of a recurrent network, all generated in code.

Nothing is downloaded.  Each generator takes an explicit
:class:`numpy.random.Generator` (or a seed), so the same seed always gives the
same data:

* :func:`digit_images`: noisy, shifted bitmaps of the digits 0-9 drawn from a
  built-in 5x7 pixel font (one-to-one: image -> class; one-to-many:
  image -> the digit's name, letter by letter, see :data:`DIGIT_NAMES`);
* :func:`sentiment_sentences`: short film reviews in which the same words can
  mean opposite things depending on their order (many-to-one), with
  :func:`negation_tags` marking which words a "not" applies to (aligned
  many-to-many);
* :func:`dates`: dates written out in words and their ISO form,
  ``"24 november 2026" -> "2026-11-24"`` (many-to-many translation), read
  as tokens by :func:`date_tokens`.

A :class:`~rnnbook.data.encoding.Vocabulary` turns their token sequences into
padded integer arrays of the package's time-major layout, (T, N), and back.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

import numpy as np

from rnnbook._validation import check_dtype, check_positive_float, check_positive_int, check_rng
from rnnbook.data.encoding import Vocabulary, one_hot

# A 5-wide, 7-tall pixel font for the digits, one string per row ("#" = ink).
# Written out here (rather than rendered from a system font) so that the images
# are identical on every machine and need no font library.
DIGIT_FONT: dict[int, tuple[str, ...]] = {
    0: (".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."),
    1: ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    2: (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    3: ("#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."),
    4: ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    5: ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    6: ("..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."),
    7: ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    8: (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    9: (".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."),
}

#: The name of each digit, the caption the one-to-many model learns to write.
DIGIT_NAMES: tuple[str, ...] = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

#: Height and width of a glyph of ``DIGIT_FONT``, and the blank margin around it.
GLYPH_SHAPE = (7, 5)
MARGIN = 1


def digit_glyphs(dtype: type | np.dtype = np.float64) -> np.ndarray:
    """The ten clean glyphs of ``DIGIT_FONT`` as 0/1 arrays.

    Returns
    -------
    numpy.ndarray, shape (10, 7, 5)
        ``glyphs[d]`` is the digit ``d``, ink = 1.
    """
    return np.array(
        [[[ch == "#" for ch in row] for row in DIGIT_FONT[d]] for d in range(10)], dtype=dtype
    )


def digit_images(
    n: int,
    *,
    rng: np.random.Generator | int,
    noise: float = 0.3,
    shift: int = 1,
    dtype: type | np.dtype = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """Noisy pictures of the digits 0-9, drawn from a built-in pixel font.

    Each image is a 5x7 glyph placed on a 7x9 canvas (one blank pixel all
    round), moved by a random whole number of pixels (at most ``shift``) up or
    down and left or right, with Gaussian noise of standard deviation ``noise``
    added to every pixel.  Shifts and noise make the task a real one: the same
    digit never gives the same picture twice.

    Parameters
    ----------
    n : int
        N, the number of images.
    rng : numpy.random.Generator or int
        The source of randomness (or a seed for one).
    noise : float, default 0.3
        Standard deviation of the pixel noise (ink is 1, paper 0).
    shift : int, default 1
        The largest shift in pixels, in each direction (0 or 1: the margin is one pixel).
    dtype : float32 or float64

    Returns
    -------
    images : numpy.ndarray, shape (N, 9, 7)
        The pictures, rows first.
    labels : numpy.ndarray of int, shape (N,)
        The digit in each picture, uniform over 0-9.
    """
    n = check_positive_int(n, "n")
    rng = check_rng(rng)
    noise = check_positive_float(noise, "noise")
    dtype = check_dtype(dtype)  # an integer dtype would round the noise away, silently
    if isinstance(shift, bool) or not isinstance(shift, int | np.integer) or not 0 <= shift <= MARGIN:
        raise ValueError(f"shift must be 0 or {MARGIN} (the blank margin of the canvas), got {shift!r}")
    height, width = GLYPH_SHAPE[0] + 2 * MARGIN, GLYPH_SHAPE[1] + 2 * MARGIN
    labels = rng.integers(0, 10, size=n)
    rows = rng.integers(-shift, shift + 1, size=n) + MARGIN
    cols = rng.integers(-shift, shift + 1, size=n) + MARGIN
    glyphs = digit_glyphs(dtype)
    images = np.zeros((n, height, width), dtype=dtype)
    for i in range(n):
        images[i, rows[i] : rows[i] + GLYPH_SHAPE[0], cols[i] : cols[i] + GLYPH_SHAPE[1]] = glyphs[labels[i]]
    images += rng.normal(0.0, noise, size=images.shape).astype(dtype)
    return images, labels


def bag_of_words(indices: np.ndarray, vocab_size: int, dtype: type | np.dtype = np.float64) -> np.ndarray:
    """How often each token occurs in each sequence, ignoring order (and padding, start, end).

    Parameters
    ----------
    indices : numpy.ndarray of int, shape (T, N)
        Encoded sequences (see :meth:`rnnbook.data.encoding.Vocabulary.encode`).
    vocab_size : int
        V.

    Returns
    -------
    numpy.ndarray, shape (N, V)
        ``counts[n, v]`` = occurrences of token ``v`` in sequence ``n``; the
        columns of the three special tokens are zero.
    """
    if np.ndim(indices) != 2:
        raise ValueError(f"indices must be encoded sequences of shape (T, N), got shape {np.shape(indices)}")
    counts = one_hot(indices, vocab_size, dtype).sum(axis=0)
    counts[:, [Vocabulary.pad, Vocabulary.bos, Vocabulary.eos]] = 0
    return counts


# The review grammar.  Each review has two clauses, "<subject> was [not] [very] <word>",
# joined by "and" or "but": one clause carries a sentiment word, the other a neutral one.
SUBJECTS = ("film", "plot", "acting", "music", "ending")
POSITIVE = ("good", "great", "fun", "moving")
NEGATIVE = ("bad", "dull", "awful", "boring")
NEUTRAL = ("long", "short", "old", "new", "quiet", "french")

#: What a review's "not" applies to: nothing, the neutral word, or the sentiment word.
NO_NOT, NOT_NEUTRAL, NOT_SENTIMENT = 0, 1, 2


def sentiment_sentences(
    n: int,
    *,
    rng: np.random.Generator | int,
    p_not: float = 0.5,
    p_very: float = 0.3,
) -> tuple[list[list[str]], np.ndarray, np.ndarray]:
    """Two-clause film reviews whose meaning depends on word order.

    Every review reads "the S1 was [not] [very] W1 and/but the S2 was [not]
    [very] W2", where one of W1, W2 is a sentiment word (good, great, fun,
    moving; bad, dull, awful, boring) and the other a neutral one (long, short,
    old, ...).  With probability ``p_not`` the review holds one "not", placed
    before the sentiment word or before the neutral word with equal chance;
    only the first flips the review's sentiment.  So "the film was not long but
    the plot was good" (positive) and "the film was long but the plot was not
    good" (negative) have the same words, counted: only their order differs.

    Parameters
    ----------
    n : int
        N, the number of reviews.
    rng : numpy.random.Generator or int
    p_not : float, default 0.5
        Probability that a review holds a "not" (in [0, 1]).
    p_very : float, default 0.3
        Probability of "very" before each describing word (in [0, 1]).

    Returns
    -------
    sentences : list of N lists of str
        The reviews, word by word.
    labels : numpy.ndarray of int, shape (N,)
        1 for a positive review, 0 for a negative one.
    negation : numpy.ndarray of int, shape (N,)
        :data:`NO_NOT` (0), :data:`NOT_NEUTRAL` (1) or :data:`NOT_SENTIMENT` (2).
    """
    n = check_positive_int(n, "n")
    rng = check_rng(rng)
    for value, name in ((p_not, "p_not"), (p_very, "p_very")):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
    sentences, labels, negation = [], np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    for i in range(n):
        positive = bool(rng.random() < 0.5)
        sentiment_word = str(rng.choice(POSITIVE if positive else NEGATIVE))
        neutral_word = str(rng.choice(NEUTRAL))
        kind = NO_NOT if rng.random() >= p_not else int(rng.choice([NOT_NEUTRAL, NOT_SENTIMENT]))
        subjects = rng.choice(len(SUBJECTS), size=2, replace=False)
        clauses = []
        for word, negated in ((sentiment_word, kind == NOT_SENTIMENT), (neutral_word, kind == NOT_NEUTRAL)):
            clause = ["the", SUBJECTS[subjects[len(clauses)]], "was"]
            clause += ["not"] * negated + ["very"] * bool(rng.random() < p_very) + [word]
            clauses.append(clause)
        if rng.random() < 0.5:
            clauses.reverse()
        sentences.append(clauses[0] + [str(rng.choice(["and", "but"]))] + clauses[1])
        labels[i] = int(positive != (kind == NOT_SENTIMENT))
        negation[i] = kind
    return sentences, labels, negation


def sentiment_vocabulary() -> Vocabulary:
    """Every word :func:`sentiment_sentences` can write."""
    words = ["the", "was", "not", "very", "and", "but", *SUBJECTS, *POSITIVE, *NEGATIVE, *NEUTRAL]
    return Vocabulary(words)


#: The tags of :func:`negation_tags`, by index; index 0 marks padding.
TAGS: tuple[str, ...] = ("<pad>", "plain", "negated")


def negation_tags(sentences: Sequence[Sequence[str]], *, length: int | None = None) -> np.ndarray:
    """Tag each word "negated" if a "not" before it in its clause applies to it, else "plain".

    The scope of a "not" runs from the word after it to the end of its clause
    (the next "and" or "but"); "not" itself is plain.  The tags line up with
    :meth:`rnnbook.data.encoding.Vocabulary.encode` called with ``end=False, pad_at="start"``.

    Parameters
    ----------
    sentences : sequence of N sequences of str
    length : int, optional
        T, the padded length; by default the longest sentence.

    Returns
    -------
    numpy.ndarray of int64, shape (T, N)
        Indices into :data:`TAGS`: 0 for padding (at the start), 1 plain, 2 negated.
    """
    if isinstance(sentences, str) or not isinstance(sentences, Sequence) or not sentences:
        raise TypeError(f"sentences must be a non-empty list of word lists, got {type(sentences).__name__}")
    longest = max(len(s) for s in sentences)
    length = longest if length is None else check_positive_int(length, "length")
    if longest > length:
        raise ValueError(f"length={length} is too short: the longest sentence has {longest} words")
    out = np.zeros((length, len(sentences)), dtype=np.int64)
    for j, sentence in enumerate(sentences):
        inside = False
        for t, word in enumerate(sentence, start=length - len(sentence)):
            if word in ("and", "but"):
                inside = False
            out[t, j] = 2 if inside else 1
            if word == "not":
                inside = True
    return out


def mirrored_negation_tags(sentences: Sequence[Sequence[str]], *, length: int) -> np.ndarray:
    """The negation task turned round: a word is "negated" when a "not" AFTER it applies to it.

    The tags of each sentence read backwards (:func:`negation_tags`), turned
    round again, so that a tagger reading left to right cannot know a word's tag
    when it reads the word.

    Parameters
    ----------
    sentences : sequence of N sequences of str
    length : int
        T, the padded length (padding at the start).

    Returns
    -------
    numpy.ndarray of int64, shape (T, N)
    """
    length = check_positive_int(length, "length")
    out = np.zeros((length, len(sentences)), dtype=np.int64)
    for j, sentence in enumerate(sentences):
        if len(sentence) > length:
            raise ValueError(f"length={length} is too short: sentence {j} has {len(sentence)} words")
        out[length - len(sentence) :, j] = negation_tags([list(sentence)[::-1]])[:, 0][::-1]
    return out


MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)


def dates(
    n: int,
    *,
    rng: np.random.Generator | int,
    first_year: int = 2000,
    last_year: int = 2029,
) -> tuple[list[str], list[str]]:
    """Dates written the way people say them, and the way computers store them.

    ``"24 november 2026" -> "2026-11-24"``: days are drawn uniformly from every
    calendar day from 1 January ``first_year`` to 31 December ``last_year``
    (leap years included, via the standard ``datetime`` module).

    Parameters
    ----------
    n : int
        N, the number of dates.
    rng : numpy.random.Generator or int
    first_year, last_year : int
        The range of years, inclusive.

    Returns
    -------
    sources : list of N str
        "day month year", the day without a leading zero, the month in words.
    targets : list of N str
        The same date as ISO 8601, "YYYY-MM-DD".
    """
    n = check_positive_int(n, "n")
    rng = check_rng(rng)
    first_year = check_positive_int(first_year, "first_year")
    last_year = check_positive_int(last_year, "last_year")
    if not 1000 <= first_year <= last_year <= 9999:
        raise ValueError(f"need 1000 <= first_year <= last_year <= 9999, got {first_year} and {last_year}")
    start = datetime.date(first_year, 1, 1).toordinal()
    stop = datetime.date(last_year, 12, 31).toordinal()
    days = [datetime.date.fromordinal(int(d)) for d in rng.integers(start, stop + 1, size=n)]
    sources = [f"{d.day} {MONTHS[d.month - 1]} {d.year}" for d in days]
    return sources, [d.isoformat() for d in days]


def date_tokens(text: str) -> list[str]:
    """Split a written date into the tokens the translator reads: digits one by one, the month whole.

    ``"24 november 2026" -> ["2", "4", "november", "2", "0", "2", "6"]``.  A
    month is one word, so it is one token; spelling it out letter by letter
    would only make the sequence longer.

    Parameters
    ----------
    text : str
        "day month year", as :func:`dates` writes it.

    Returns
    -------
    list of str
    """
    parts = text.split() if isinstance(text, str) else []
    if len(parts) != 3 or not parts[0].isdigit() or parts[1] not in MONTHS or not parts[2].isdigit():
        raise ValueError(f"text must read 'day month year' like '24 november 2026', got {text!r}")
    return [*parts[0], parts[1], *parts[2]]


def date_vocabularies() -> tuple[Vocabulary, Vocabulary]:
    """The tokens of written dates (digits and months, see :func:`date_tokens`) and the characters of ISO dates."""
    return Vocabulary([*"0123456789", *MONTHS]), Vocabulary("0123456789-")
