"""The ``rnnbook problems`` and ``rnnbook check`` commands.

::

    rnnbook problems CHAPTER --student ID [--count N] [--out DIR] [--salt S]
    rnnbook check KEY ANSWERS

:func:`add_subcommands` adds both to the ``rnnbook`` command's parser; each
subparser's ``func`` default is the function that runs it.  Errors are
:class:`ValueError` (a :class:`~rnnbook.teaching.grading.GradingError` for the
files), which the command prints as one line, ``rnnbook: error: ...``.
"""

from __future__ import annotations

import argparse

from rnnbook.teaching.grading import check
from rnnbook.teaching.problems import CHAPTERS, make_sheet
from rnnbook.teaching.sheets import write_sheet


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of problems from 1 to 50, got {text!r}") from None
    if not 1 <= value <= 50:
        raise argparse.ArgumentTypeError(f"expected a number of problems from 1 to 50, got {value}")
    return value


def cmd_problems(args: argparse.Namespace) -> int:
    from rnnbook.cli.runtime import Console  # here: rnnbook.cli imports this module

    sheet = make_sheet(args.chapter, args.student, count=args.count, salt=args.salt)
    paths = write_sheet(sheet, args.out)
    n_questions = sum(len(p.parts) for p in sheet.problems)
    console = Console(keep_going=True)  # the files are the result: a closed pipe does not undo them
    console.print(f"chapter {sheet.chapter_number} ({sheet.chapter}), student {sheet.student}: "
                  f"{len(sheet.problems)} problems, {n_questions} answers")
    for path in paths:
        console.print(f"wrote {path}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from rnnbook.cli.runtime import Console

    Console().print(check(args.key, args.answers).format())  # a closed pipe stops quietly, like sample
    return 0


def add_subcommands(sub: argparse._SubParsersAction) -> None:
    """Add ``problems`` and ``check`` to the subparsers ``sub`` of the ``rnnbook`` command."""
    chapters = ", ".join(f"{n} {slug}" for n, slug in enumerate(CHAPTERS, 1))
    problems = sub.add_parser(
        "problems",
        help="write a worksheet and its answer key for one student",
        description=(
            "Write a worksheet (Markdown and printable HTML), an answers template (CSV) and the answer key "
            "(Markdown and HTML with worked steps, JSON for 'rnnbook check') for one student and one chapter. "
            "The numbers come from the chapter, the student ID and the salt: the same three give the same sheet. "
            f"Chapters: {chapters}."
        ),
    )
    problems.add_argument("chapter", metavar="CHAPTER", help="a chapter slug or number")
    problems.add_argument("--student", required=True, metavar="ID", help="the student's ID (letters, digits, ._-)")
    problems.add_argument("--count", type=_count, metavar="N", help="number of problems (default: one per kind)")
    problems.add_argument("--out", default=".", metavar="DIR", help="folder for the files (default: here)")
    problems.add_argument(
        "--salt", default="", metavar="S", help="a course salt (printable text): other numbers for the same ID"
    )
    problems.set_defaults(func=cmd_problems)

    grade = sub.add_parser(
        "check",
        help="grade a filled-in answers file",
        description=(
            "Grade ANSWERS (CSV with the header question,answer, or a JSON object) against KEY (the *-key.json "
            "that 'rnnbook problems' wrote): one line per question, right or wrong, then the total."
        ),
    )
    grade.add_argument("key", metavar="KEY", help="the *-key.json file")
    grade.add_argument("answers", metavar="ANSWERS", help="the student's answers (.csv or .json)")
    grade.set_defaults(func=cmd_check)
