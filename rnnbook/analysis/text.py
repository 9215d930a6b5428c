"""What the character-model chapter measures on text: per-character surprise, long-range characters.

- :func:`char_losses`: a :class:`rnnbook.models.charmodel.CharModel`'s surprise at
  every next character of one text;
- :func:`compiling_share`: how much of a text is code, the share of its lines that
  Python compiles on their own (:func:`compiles_alone`);
- :func:`long_range_positions`: where in Python source a character can only be
  guessed by remembering something far back (closing brackets and quotes,
  indentation after a colon), found with Python's ``tokenize`` module.
"""

from __future__ import annotations

import io
import tokenize

import numpy as np

from rnnbook._validation import check_positive_int


def char_losses(model, ids: np.ndarray) -> np.ndarray:
    """A character model's surprise at every next character of one text, read from a zero state.

    Parameters
    ----------
    model : rnnbook.models.charmodel.CharModel
    ids : numpy.ndarray of int, shape (N,)

    Returns
    -------
    numpy.ndarray, shape (N - 1,)
        ``out[t] = -ln p(ids[t + 1] | ids[: t + 1])`` in nats, float64.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) < 2:
        raise ValueError(f"ids must be a 1-d array of at least 2 characters, got shape {ids.shape}")
    logits = model.logits(ids[:-1, None])[:, 0].astype(np.float64)  # (N - 1, V)
    top = logits.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(logits - top).sum(axis=1)) + top[:, 0]
    return log_norm - logits[np.arange(len(ids) - 1), ids[1:]]


def _quote_length(token_text: str) -> int:
    body = token_text.lstrip("rRbBuUfF")
    return 3 if body[:3] in ('"""', "'''") else 1


def long_range_positions(source: str, min_distance: int) -> dict[str, np.ndarray]:
    """Positions in Python source whose character depends on something far back.

    Parameters
    ----------
    source : str
        Python source that the ``tokenize`` module can read.
    min_distance : int
        How far back (in characters) the opening must lie.

    Returns
    -------
    dict of str to numpy.ndarray of int
        ``"closing bracket"``: every ``)``, ``]`` or ``}`` whose opening bracket
        is more than ``min_distance`` characters earlier.
        ``"closing quote"``: the first character of the closing quotes of every
        string literal that opened more than ``min_distance`` characters earlier.
        ``"indentation after a colon"``: the leading spaces and the first other
        character of every line that follows a line ending in ``:`` (the new,
        deeper indentation depends on the previous line's).
        Every position ``p`` indexes ``source``: the character to guess is
        ``source[p]``, after reading ``source[:p]``.
    """
    min_distance = check_positive_int(min_distance, "min_distance")
    lines = source.splitlines(keepends=True)
    line_start = np.cumsum([0] + [len(line) for line in lines])

    def offset(row_col: tuple[int, int]) -> int:
        return int(line_start[row_col[0] - 1] + row_col[1])

    brackets, quotes, indents = [], [], []
    stack: list[int] = []
    previous = None
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.OP and token.string in "([{":
            stack.append(offset(token.start))
        elif token.type == tokenize.OP and token.string in ")]}" and stack:
            start, end = stack.pop(), offset(token.start)
            if end - start > min_distance:
                brackets.append(end)
        elif token.type == tokenize.STRING:
            start, end = offset(token.start), offset(token.end) - _quote_length(token.string)
            if end - start > min_distance:
                quotes.append(end)
        elif token.type == tokenize.NEWLINE and previous is not None and previous.string == ":":
            row = token.start[0]  # the next non-blank line is the new block's first
            while row < len(lines) and not lines[row].strip():
                row += 1
            if row < len(lines):
                depth = len(lines[row]) - len(lines[row].lstrip(" "))
                indents.extend(range(int(line_start[row]), int(line_start[row]) + depth + 1))
        if token.type not in (tokenize.NL, tokenize.COMMENT, tokenize.NEWLINE):
            previous = token
    return {
        "closing bracket": np.array(brackets, dtype=np.int64),
        "closing quote": np.array(quotes, dtype=np.int64),
        "indentation after a colon": np.array(indents, dtype=np.int64),
    }


#: Lines that continue a block statement: compiled after a block they can follow.
_CONTINUATIONS = {"elif": "if 1:\n    pass\n", "else": "if 1:\n    pass\n", "except": "try:\n    pass\n",
                  "finally": "try:\n    pass\n"}


def compiles_alone(line: str) -> bool:
    """Whether one stripped line of code is valid Python on its own.

    A line ending in ``:`` (a block opener such as ``def f(x):``) gets a
    ``pass`` body first, and ``elif``, ``else``, ``except`` and ``finally``
    lines the ``if`` or ``try`` block they continue.  Then Python's own
    ``compile`` decides, at the top level or, for lines such as ``return x``,
    ``break`` or ``await x``, inside a loop in a function or a coroutine.
    """
    text = line.strip()
    if not text:
        return False
    if text.endswith(":"):
        text += "\n    pass"
    text = _CONTINUATIONS.get(text.split(maxsplit=1)[0].rstrip(":"), "") + text
    nested = "".join("        " + row + "\n" for row in text.split("\n"))
    for candidate in (text, "def _():\n    while 1:\n" + nested, "async def _():\n    while 1:\n" + nested):
        try:
            compile(candidate, "<line>", "exec")
        except (SyntaxError, ValueError):  # ValueError: a NUL character
            continue
        return True
    return False


def code_lines(text: str) -> list[str]:
    """The complete lines of ``text`` that hold code: stripped, not blank, not only a comment.

    The last line is left out unless ``text`` ends with a newline: a sample
    that stops mid-line would be judged on half a line.
    """
    lines = text.split("\n")
    lines = lines if text.endswith("\n") else lines[:-1]
    return [s for s in (line.strip() for line in lines) if s and not s.startswith("#")]


def compiling_share(text: str) -> tuple[float, int]:
    """The share of the code lines of ``text`` (:func:`code_lines`) that compile on their own, and their number.

    Returns
    -------
    share : float
        In [0, 1]; 0.0 for a text without a complete code line.
    n_lines : int
    """
    lines = code_lines(text)
    return (float(np.mean([compiles_alone(line) for line in lines])) if lines else 0.0), len(lines)
