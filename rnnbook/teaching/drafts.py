"""What a problem generator returns, and the small helpers that print its numbers.

Kept apart from the generators so that the sheets, the grading and the tests
share one definition of a part, a tolerance and a printed number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ANSWER_TYPES = ("number", "integer", "shape", "yesno")


@dataclass(frozen=True)
class Part:
    """One answer a problem asks for.

    Attributes
    ----------
    prompt : str
        What to give, in Markdown with ``$...$`` math (``"$h_2$, unit 1"``).
    answer : float, int, tuple of int or bool
        The key's value: a number, an exact integer, an array shape, or yes/no.
    type : {"number", "integer", "shape", "yesno"}
    tol_abs, tol_rel : float
        A number is right when ``|given - answer| <= max(tol_abs, tol_rel * |answer|)``;
        integers, shapes and yes/no must match exactly.
    """

    prompt: str
    answer: float | int | tuple | bool
    type: str = "number"
    tol_abs: float = 0.0
    tol_rel: float = 0.0

    def __post_init__(self) -> None:
        if self.type not in ANSWER_TYPES:
            raise ValueError(f"type must be one of {ANSWER_TYPES}, got {self.type!r}")

    def tolerance(self) -> float:
        """The allowed absolute error for this key (0 for exact answers)."""
        if self.type != "number":
            return 0.0
        return max(self.tol_abs, self.tol_rel * abs(float(self.answer)))

    def describe_tolerance(self) -> str:
        """How the part is marked, for the worksheet: "to within 0.01", "exactly", ..."""
        if self.type != "number":
            return "exactly"
        if self.tol_rel and self.tol_abs:
            return f"to within {num(self.tol_abs)} or {num(100 * self.tol_rel)}%, whichever is larger"
        if self.tol_rel:
            return f"to within {num(100 * self.tol_rel)}%"
        return f"to within {num(self.tol_abs)}"


@dataclass(frozen=True)
class Draft:
    """A generated problem before it gets its number on a sheet (see :class:`problems.Problem`)."""

    title: str
    text: str
    given: dict
    parts: list
    steps: list = field(default_factory=list)


def tenths(rng: np.random.Generator, low: float, high: float, size=None, *, nonzero: bool = True) -> np.ndarray:
    """Numbers with one decimal in ``[low, high]`` (zero excluded if ``nonzero``), as float64."""
    values = rng.integers(round(low * 10), round(high * 10) + 1, size=size)
    if nonzero:
        values = np.where(values == 0, 1, values)
    return np.asarray(values / 10, dtype=np.float64)


def num(x: float, digits: int = 4) -> str:
    """A number as a student writes it: ``3``, ``0.5``, ``-0.4621`` (at most ``digits`` decimals)."""
    x = float(x)
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    text = f"{x:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def pnum(x: float, digits: int = 4) -> str:
    """A number as a factor or a base: negative ones in parentheses, ``(-0.8)``."""
    text = num(x, digits)
    return f"({text})" if text.startswith("-") else text


def col(v) -> str:
    """A column vector in TeX."""
    return r"\begin{pmatrix} " + r" \\ ".join(num(x) for x in np.ravel(v)) + r" \end{pmatrix}"


def mat(m) -> str:
    """A matrix in TeX, row by row."""
    rows = [" & ".join(num(x) for x in row) for row in np.atleast_2d(m)]
    return r"\begin{pmatrix} " + r" \\ ".join(rows) + r" \end{pmatrix}"


def seq(values) -> str:
    """A tuple of numbers: ``(0.5, -1, 0.2)``."""
    return "(" + ", ".join(num(x) for x in np.ravel(values)) + ")"


def shape_text(shape) -> str:
    """A shape as numpy prints it: ``(5, 3, 8)``."""
    return "(" + ", ".join(str(int(n)) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def as_given(value) -> float | list:
    """A given number or array as plain Python (floats, nested lists), for the key file."""
    array = np.asarray(value, dtype=np.float64)
    return float(array) if array.ndim == 0 else array.tolist()
