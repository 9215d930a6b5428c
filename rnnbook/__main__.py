"""``python -m rnnbook``: the command-line tool (see :mod:`rnnbook.cli`)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``rnnbook`` command."""
    from rnnbook.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
