"""The command's name, its one error type, and what makes a string from a file safe to show."""

from __future__ import annotations

PROG = "rnnbook"


class CLIError(Exception):
    """An error reported as one line, ``rnnbook: error: ...``, with exit status 1."""


def printable(text: str) -> str:
    """``text`` with every character a terminal would act on (escape, carriage return, newline, bidi marks ...)
    written as its Python escape, so that a string from a crafted checkpoint cannot drive the terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))
