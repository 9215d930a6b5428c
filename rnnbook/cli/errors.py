"""The command's name and its one error type."""

from __future__ import annotations

PROG = "rnnbook"


class CLIError(Exception):
    """An error reported as one line, ``rnnbook: error: ...``, with exit status 1."""
