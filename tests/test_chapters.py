"""Every chapter has the book's Feynman shape, and no computed result is typed by hand.

The rule for "typed by hand": outside code cells, math, directive options and
glue roles, a chapter's prose may not contain a decimal number (``0.93``) or a
percentage (``93%``).  Those are results, and results are glued from the code
that computes them.  Whole numbers stay allowed, because they are the
settings the code is given (16 hidden units, 10 symbols), not what it found.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book" / "chapters").glob("*.md"))

SECTIONS = [
    "The question",
    "In plain words",
    "The picture",
    "The math",
    "The code",
    "Check yourself",
    "Explain it back",
    "Further reading",
]


def prose_of(source: str) -> str:
    """The chapter with code, math, directive bodies' options and roles removed."""
    text = re.sub(r"^---\n.*?\n---\n", "", source, count=1, flags=re.S)  # front matter
    # fenced blocks: code cells, literal includes, math; keep the caption text of figures
    def fence(match: re.Match) -> str:
        head, body = match.group(2), match.group(3)
        skipped = ("{code-cell}", "{literalinclude}", "{math}", "{raw}", "python", "bash", "text", "{eval-rst}")
        if head.startswith(skipped):
            return ""
        return "\n".join(line for line in body.splitlines() if not line.startswith(":"))
    text = re.sub(r"^(`{3,}|:{3,})(\S*.*?)\n(.*?)^\1\s*$", fence, text, flags=re.S | re.M)
    text = re.sub(r"\$\$.*?\$\$", "", text, flags=re.S)
    text = re.sub(r"\$[^$\n]+\$", "", text)
    text = re.sub(r"\{[\w:-]+\}`[^`]*`", "", text)  # roles: {glue:text}`key:.2f`, {cite:p}`...`
    text = re.sub(r"`[^`]*`", "", text)  # inline code
    text = re.sub(r"\(https?://[^)]*\)", "", text)
    return text


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_has_the_eight_parts_in_order(chapter):
    source = chapter.read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", source, flags=re.M)
    positions = []
    for section in SECTIONS:
        matches = [i for i, h in enumerate(headings) if h.strip().startswith(section)]
        assert matches, f"{chapter.name} has no '## {section}' section"
        positions.append(matches[0])
    assert positions == sorted(positions), f"{chapter.name}: sections out of order: {headings}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_opens_with_label_and_overview(chapter):
    source = chapter.read_text(encoding="utf-8")
    body = re.sub(r"^---\n.*?\n---\n", "", source, count=1, flags=re.S).lstrip()
    assert re.match(r"\([\w-]+\)=\n# ", body), f"{chapter.name} must open with a label, then its title"
    assert "Overview" in body[:1500], f"{chapter.name} must open with an overview"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_has_its_ingredients(chapter):
    source = chapter.read_text(encoding="utf-8")
    assert re.search(r"\{literalinclude\} \.\./\.\./rnnbook/(\w+/)*\w+\.py\n(:\w+:.*\n)*:pyobject:", source), (
        f"{chapter.name} must show rnnbook's own source with literalinclude :pyobject:"
    )
    assert re.search(r"\{glue:figure\}[^\n]*\n(:\w+:.*\n)*", source), f"{chapter.name} has no figure glued from code"
    for block in re.findall(r"```\{glue:figure\}.*?```", source, flags=re.S):
        assert ":alt:" in block and ":name:" in block, f"{chapter.name}: every figure needs :alt: and :name:"
    assert re.search(r"```\{math\}\n:label:", source), f"{chapter.name} has no labelled equation"
    exercises = re.findall(r"^:{3,}\{exercise\}", source, flags=re.M)
    solutions = re.findall(r"^:{3,}\{solution\}[^\n]*\n:class: dropdown", source, flags=re.M)
    assert 2 <= len(exercises) <= 4, f"{chapter.name} has {len(exercises)} exercises (want 2 to 4)"
    assert len(solutions) == len(exercises), f"{chapter.name}: every exercise needs a folding solution"
    assert re.search(r"[Pp]redict", source), f"{chapter.name}: one exercise should ask for a prediction"
    assert "{cite" in source, f"{chapter.name} cites nothing"
    assert "{glue:text}" in source, f"{chapter.name} glues no result into its prose"


TYPED = r"(?<![\w.])\d+\.\d+(?![\w.])|\d+(?:\.\d+)?\s?%"

#: The only decimals a chapter may type: chosen settings, not results, each
#: with its reason.  Everything else is glued from the code that computes it.
ALLOWED_TYPED: dict[str, dict[str, str]] = {
    "why-memory": {"0.01": "the learning rate of the chapter's training runs, a chosen setting"},
    "vanishing-gradients": {
        value: "a largest singular value chosen for the figure of the bound"
        for value in ("0.5", "0.9", "1.0", "1.1", "1.5")
    },
    "char-model": {value: "a sampling temperature chosen for the figure" for value in ("0.5", "1.5")},
}


def alt_texts(source: str) -> str:
    """The alt texts of a chapter's figures: prose for a reader who cannot see the figure."""
    return "\n".join(re.findall(r"^:alt:(.*)$", source, flags=re.M))


def typed_numbers(text: str, chapter: str) -> list[str]:
    """Decimals and percentages typed into ``text``, less the chapter's allowed settings."""
    allowed = ALLOWED_TYPED.get(chapter, {})
    return [number for number in re.findall(TYPED, text) if number not in allowed]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_no_computed_result_typed_by_hand(chapter):
    source = chapter.read_text(encoding="utf-8")
    typed = typed_numbers(prose_of(source), chapter.stem)
    assert not typed, f"{chapter.name}: numbers typed into the prose (glue them instead): {typed}"
    typed = typed_numbers(alt_texts(source), chapter.stem)
    assert not typed, f"{chapter.name}: numbers typed into an alt text (describe the shape instead): {typed}"


def test_the_checker_catches_typed_numbers():
    sample = "Intro.\n\nThe network reached 93% and a loss of 0.25 nats.\n\n```{code-cell} python\nx = 0.5\n```\n"
    assert re.findall(TYPED, prose_of(sample)) == ["93%", "0.25"]
    figure = "```{glue:figure} fig\n:alt: A curve that ends at 0.93, near 1.5 at the end.\n:name: f\n\nCaption.\n```\n"
    assert typed_numbers(alt_texts(figure), "some-chapter") == ["0.93", "1.5"]
    # an allowed setting passes only in its own chapter
    assert typed_numbers("at temperature 0.5 and 0.7", "char-model") == ["0.7"]
    assert typed_numbers("at temperature 0.5", "why-memory") == ["0.5"]
