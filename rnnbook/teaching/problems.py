"""Problem sets per student: the registry of chapters and problem kinds, and the seeding.

A *problem* is a question a student can answer with pencil, paper and a
calculator, with the numbers it needs printed in its text, and an answer
computed by the package's own functions (see :mod:`rnnbook.teaching.generators`).
A *sheet* is the list of problems one student gets for one chapter.  Its
numbers are drawn from a generator seeded with a hash (SHA-256, not Python's
salted ``hash``) of the chapter, the student's ID and an optional course salt,
so a teacher can regenerate any sheet, and two students get different numbers
for the same kinds of question.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import numpy as np

from rnnbook.teaching import generators

#: Chapter slug -> the kinds of problem its sheets draw from, in the book's order.
#: A new chapter gets a line here (at least three kinds); its number is its position.
CHAPTERS: dict[str, tuple[str, ...]] = {
    "why-memory": ("uniform_loss", "state_trace", "parameter_count"),
    "chain": ("state_trace", "parameter_count", "four_shapes"),
    "four-shapes": ("four_shapes", "parameter_count", "uniform_loss"),
    "state-equation": ("state_trace", "parameter_count", "four_shapes"),
    "learning-through-time": ("bptt_gradient", "tbptt_chunks", "clipping"),
    "vanishing-gradients": ("gradient_factor", "clipping", "tbptt_chunks"),
    "encoder-decoder": ("four_shapes", "uniform_loss", "clipping"),
    "gates": ("lstm_step", "gated_parameter_count", "gradient_factor"),
    "char-model": ("softmax_temperature", "uniform_loss", "parameter_count"),
    "attention": ("attention_weights", "softmax_temperature", "four_shapes"),
    "to-pytorch": ("gated_parameter_count", "lstm_step", "uniform_loss"),
}

#: Problem kind -> its generator, a function of a numpy Generator returning a :class:`generators.Draft`.
KINDS = generators.KINDS

_STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class Problem:
    """One numbered problem of a sheet.

    Attributes
    ----------
    number : int
        1, 2, ... on the sheet.
    kind : str
        A key of :data:`KINDS`.
    title, text : str
        A short title, and the question in Markdown with ``$...$`` math; every
        number the answer needs is printed in it.
    given : dict of str to float or nested list of float
        The numbers printed in the text, by name (for the tests and the key).
    parts : list of generators.Part
        The answers asked for; part ``k`` has the question id ``q<number><letter>``.
    steps : list of str
        The worked solution, one Markdown paragraph per step.
    """

    number: int
    kind: str
    title: str
    text: str
    given: dict
    parts: list
    steps: list = field(default_factory=list)

    def question_id(self, index: int) -> str:
        """The id of part ``index`` (0-based): ``q1a``, ``q1b``, ..."""
        return f"q{self.number}{chr(ord('a') + index)}"


@dataclass(frozen=True)
class Sheet:
    """One student's problems for one chapter."""

    chapter: str
    chapter_number: int
    student: str
    salt: str
    problems: list


def resolve_chapter(chapter: str | int) -> str:
    """The chapter's slug, from its slug or its number (``"gates"``, ``8`` or ``"8"``)."""
    slugs = list(CHAPTERS)
    text = str(chapter).strip()
    if text.isascii() and text.isdigit():  # "²" and "٣" are digits to str.isdigit, but not to int()
        number = int(text)
        if 1 <= number <= len(slugs):
            return slugs[number - 1]
        raise ValueError(f"expected a chapter number from 1 to {len(slugs)} or a slug, got {text}")
    if text in CHAPTERS:
        return text
    raise ValueError(f"expected a chapter number (1-{len(slugs)}) or one of {', '.join(slugs)}; got {text!r}")


def check_student(student: object) -> str:
    """A student ID: letters, digits, '.', '_' or '-' (it becomes part of file names), at most 64."""
    if not isinstance(student, str) or not _STUDENT_ID.fullmatch(student):  # match's "$" allows a final newline
        raise ValueError(
            "expected a student ID of letters, digits, '.', '_' or '-' (at most 64, not starting with "
            f"'.', '_' or '-'), got {student!r}"
        )
    return student


def seed_words(chapter: str, student: str, salt: str = "") -> list[int]:
    """The seed of a sheet: SHA-256 of (chapter, student, salt) as eight 32-bit words.

    Python's ``hash()`` of a string changes from run to run; SHA-256 does not,
    so the same three strings give the same sheet on any machine, any day.
    """
    digest = hashlib.sha256("\0".join(["rnnbook-problems", chapter, student, salt]).encode("utf-8")).digest()
    return [int(w) for w in np.frombuffer(digest, dtype="<u4")]


def make_sheet(chapter: str | int, student: str, *, count: int | None = None, salt: str = "") -> Sheet:
    """The problems of one student for one chapter.

    Parameters
    ----------
    chapter : str or int
        A slug (``"gates"``) or a chapter number (1-based).
    student : str
        The student's ID.
    count : int, optional
        How many problems (default: one of each kind of the chapter; more
        cycle through the kinds again, with new numbers).
    salt : str, default ""
        A course salt: the same student gets other numbers in another course.

    Returns
    -------
    Sheet
    """
    slug = resolve_chapter(chapter)
    student = check_student(student)
    if not isinstance(salt, str):
        raise TypeError(f"salt must be a string, got {type(salt).__name__}")
    if not salt.isprintable():  # a line break would split the sheets' headers; "\udcff" is a byte that is not UTF-8
        raise ValueError(f"expected a salt of printable characters (no line breaks, tabs or undecodable bytes), "
                         f"got {salt!r}")
    kinds = CHAPTERS[slug]
    if count is None:
        count = len(kinds)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 50:
        raise ValueError(f"expected a problem count from 1 to 50, got {count!r}")
    seed = seed_words(slug, student, salt)
    problems = []
    for index in range(count):
        kind = kinds[index % len(kinds)]
        rng = np.random.default_rng([*seed, index])  # one stream per problem: --count 5 extends --count 3
        draft = KINDS[kind](rng)
        problems.append(
            Problem(number=index + 1, kind=kind, title=draft.title, text=draft.text, given=draft.given,
                    parts=draft.parts, steps=draft.steps)
        )
    return Sheet(chapter=slug, chapter_number=list(CHAPTERS).index(slug) + 1, student=student, salt=salt,
                 problems=problems)
