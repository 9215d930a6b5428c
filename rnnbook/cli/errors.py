"""The command's name, its one error type, and what makes a string from a file safe to show."""

from __future__ import annotations

import unicodedata

PROG = "rnnbook"


class CLIError(Exception):
    """An error reported as one line, ``rnnbook: error: ...``, with exit status 1."""


def printable(text: str) -> str:
    """``text`` with every character a terminal would act on (escape, carriage return, newline, bidi marks ...)
    written as its Python escape, so that a string from a crafted checkpoint cannot drive the terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def terminal_text(text: str) -> str:
    """Text a model wrote, for a terminal: its control characters (escape, a lone carriage return, bell, the C1
    controls ...) written as their Python escapes, except newlines, tabs and the carriage return of a Windows
    line end, so that a crafted checkpoint cannot have ``rnnbook sample`` drive the terminal.  (Written to a
    file or a pipe, text stays as it is.)"""
    return "".join(
        repr(c)[1:-1]
        if unicodedata.category(c) == "Cc" and c not in "\n\t" and not (c == "\r" and text[i + 1 : i + 2] == "\n")
        else c
        for i, c in enumerate(text)
    )
