"""The teaching kit: a different problem set for every student, its answer key, and grading.

- :mod:`rnnbook.teaching.problems`: the chapters and their kinds of problem, the seeding, :func:`make_sheet`;
- :mod:`rnnbook.teaching.generators`: one generator per kind, answered by the package's own functions;
- :mod:`rnnbook.teaching.sheets`: worksheet and key as Markdown, HTML and JSON, :func:`write_sheet`;
- :mod:`rnnbook.teaching.grading`: :func:`check` an answers file against a key;
- :mod:`rnnbook.teaching.commands`: the ``rnnbook problems`` and ``rnnbook check`` commands;
- :mod:`rnnbook.teaching.reading`: how long each chapter takes to read, for the teachers page.

From Python::

    from rnnbook.teaching import make_sheet, write_sheet, check
    paths = write_sheet(make_sheet("gates", "s001"), "sheets")
    print(check("sheets/gates-s001-key.json", "answers.csv").format())
"""

from rnnbook.teaching.grading import GradingError, check
from rnnbook.teaching.problems import CHAPTERS, KINDS, make_sheet
from rnnbook.teaching.sheets import write_sheet

__all__ = ["CHAPTERS", "KINDS", "GradingError", "check", "make_sheet", "write_sheet"]
