"""Every qualitative claim about a computed result is checked by the build.

A sentence such as "the feedforward network stays at chance" or "the
captioner is about as good" is a claim about numbers the chapter computes.
The book's rule: such a sentence is glued from the number, or a hidden cell
beside it asserts the claim, so that the build fails when it stops being true.

This test cannot read meaning, so it works from a list of phrases that, in
this book, only ever describe a computed result (``CLAIMS``). Where one occurs
in a chapter's prose (``prose_of`` of tests/test_chapters.py) or in a figure's
alt text or caption, it counts as checked if

* its own paragraph holds a glue role, or
* the source within ``NEAR`` lines of it holds a hidden ``remove-cell`` code
  cell with an ``assert``, or
* a hidden assert cell anywhere in the chapter names the phrase (in its
  message or a comment): the way an overview or a summary that repeats a
  result points to the check that keeps it true.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_chapters import CHAPTERS, prose_of  # noqa: E402

#: Phrases that state a result of an experiment (case-insensitive, word boundaries).
CLAIMS = [
    r"stays? (?:level|flat)",
    r"at chance",
    r"learns? the task",
    r"learned the task",
    r"(?:a|about a) hundred times",
    r"times (?:lower|higher|smaller|larger)",
    r"has to do more",
    r"about as (?:often|good|well)",
    r"coin toss",
    r"no better than",
    r"almost every",
    r"in every run",
    r"far (?:below|above|behind)",
    r"(?:network|model|LSTM|RNN|GRU|cell) (?:wins|beats)",
]
NEAR = 40  # lines of source on either side


def _assert_cells(lines: list[str]) -> dict[int, str]:
    """The hidden code cells that contain an assert: first line number -> the cell's text, lowercased."""
    found = {}
    source = "\n".join(lines)
    for match in re.finditer(r"^```\{code-cell\}[^\n]*\n:tags: \[remove-cell\]\n(.*?)^```", source, re.S | re.M):
        if re.search(r"^\s*assert ", match.group(1), flags=re.M):
            found[source[: match.start()].count("\n")] = " ".join(match.group(1).lower().split())
    return found


def unguarded_claims(source: str) -> list[str]:
    """Each claim phrase of the prose, alt texts and captions that has no check nearby."""
    lines = source.splitlines()
    asserts = _assert_cells(lines)
    code = _code_lines(lines)
    visible = prose_of(source) + "\n" + "\n".join(re.findall(r"^:alt:(.*)$", source, flags=re.M))
    problems = []
    for pattern in CLAIMS:
        for hit in re.finditer(r"(?<!\w)" + pattern + r"(?!\w)", visible, flags=re.I):
            phrase = hit.group(0)
            # every line of the source where the phrase stands (it may break across lines)
            words = r"\s+".join(re.escape(w) for w in phrase.split())
            for where in re.finditer(words, source, flags=re.I):
                line = source[: where.start()].count("\n")
                if line in code:
                    continue
                paragraph = _paragraph(lines, line)
                named = " ".join(phrase.lower().split())
                if (
                    "{glue:" in paragraph
                    or any(abs(start - line) <= NEAR for start in asserts)
                    or any(named in text for text in asserts.values())
                ):
                    continue
                problems.append(f"line {line + 1}: '{phrase}': {lines[line].strip()[:80]}")
    return sorted(set(problems))


def _paragraph(lines: list[str], line: int) -> str:
    start = line
    while start > 0 and lines[start - 1].strip():
        start -= 1
    end = line
    while end < len(lines) - 1 and lines[end + 1].strip():
        end += 1
    return "\n".join(lines[start : end + 1])


def _code_lines(lines: list[str]) -> set[int]:
    """The line numbers inside code cells and literal includes (fenced with backticks)."""
    inside, fence, code = set(), None, False
    for number, text in enumerate(lines):
        if fence is None:
            opened = re.match(r"^(`{3,})(\S*)", text)
            if opened:
                fence, code = opened.group(1), opened.group(2).startswith(("{code-cell}", "{literalinclude}", "python"))
        elif text.strip() == fence:
            fence = None
        elif code:
            inside.add(number)
    return inside


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_claim_has_a_check_beside_it(chapter):
    problems = unguarded_claims(chapter.read_text(encoding="utf-8"))
    assert not problems, f"{chapter.name}: claims about results with no glue or assert beside them:\n" + "\n".join(
        problems
    )


def test_the_guard_check_catches_a_planted_claim():
    filler = ["Some words."] * (NEAR + 5)
    unguarded = "\n".join(["(x)=", "# X", "", "The network stays at chance.", "", *filler])
    assert len(unguarded_claims(unguarded)) == 1
    guarded = unguarded.replace(
        "The network stays at chance.\n",
        "The network stays at chance.\n\n```{code-cell} python\n:tags: [remove-cell]\nassert acc < 0.3\n```\n",
    )
    assert unguarded_claims(guarded) == []
    glued = unguarded.replace("stays at chance.", "stays at chance, {glue:text}`acc:.1f`%.")
    assert unguarded_claims(glued) == []
    named = unguarded + "\n```{code-cell} python\n:tags: [remove-cell]\nassert acc < 0.3, 'not at chance'\n```\n"
    assert unguarded_claims(named) == []
    in_code = "\n".join(["(x)=", "# X", "", "```{code-cell} python", "# it stays at chance", "```", *filler])
    assert unguarded_claims(in_code) == []
