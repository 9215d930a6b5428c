"""No glossary term is used in a chapter before the book has taught it.

The rule, precisely:

* **Terms.** Every entry of ``book/glossary.md`` (a ``{glossary}`` block) is a
  term with its synonyms: the lines of the entry before its indented
  definition. Its *home* is the chapter named by the entry's
  ``Taught in {ref}`label``` (the first ``{ref}`` of the definition).
* **Chapters** are read in the order of the toctree of ``book/index.md``.
* **Used** means: a word-boundary, case-insensitive match of the term or one
  of its synonyms (an ``s`` may follow, for the plural) in the chapter's prose,
  that is, the chapter with code cells, literal includes, math, inline code,
  directive options and roles removed, exactly as
  ``tests/test_chapters.py``'s ``prose_of`` does, and with headings and the
  opening ``Overview`` box removed too (a title or an overview announces what
  the chapter teaches; the text under it teaches it).
* **Introduced** in a chapter means: linked with ``{term}`...``` there, or,
  in the term's home chapter, written in bold or italics (``**state**`` or
  ``*state*``), the book's way of saying "this is the word being defined".
* A chapter may use a term anywhere if an **earlier** chapter is its home.
  Otherwise (the home is this chapter, a later one, or none) the first use in
  the chapter must not come before the chapter introduces it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_chapters import prose_of  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "book" / "glossary.md"
INDEX = ROOT / "book" / "index.md"

MARK = "\u27e6{}\u27e7"  # a {term} link becomes ⟦term⟧ so that prose_of keeps its place


def glossary_terms(text: str) -> dict[str, tuple[list[str], str | None]]:
    """Map each term to (its names, its home chapter's label) from the glossary's source."""
    terms: dict[str, tuple[list[str], str | None]] = {}
    for block in re.findall(r"^```\{glossary\}\n(.*?)^```", text, flags=re.S | re.M):
        names: list[str] = []
        definition: list[str] = []
        for line in [*block.splitlines(), ""]:
            if line and not line.startswith(" "):
                if definition:  # a new entry starts: close the previous one
                    _add(terms, names, definition)
                    names, definition = [], []
                names.append(line.strip())
            elif line.strip():
                definition.append(line)
        if names:
            _add(terms, names, definition)
    return terms


def _add(terms, names, definition):
    home = re.search(r"\{ref\}`([\w-]+)`", " ".join(definition))
    terms[names[0].lower()] = ([n.lower() for n in names], home.group(1) if home else None)


def toctree_chapters(index: str) -> list[Path]:
    """The chapters in reading order."""
    block = re.search(r"```\{toctree\}\n:caption: Chapters\n(.*?)```", index, flags=re.S).group(1)
    return [ROOT / "book" / f"{line.strip()}.md" for line in block.splitlines() if line.startswith("chapters/")]


def chapter_label(source: str) -> str:
    return re.search(r"^\(([\w-]+)\)=", source, flags=re.M).group(1)


def marked_prose(source: str) -> str:
    """prose_of the chapter, with every {term} link kept as a mark ⟦term⟧ in its place."""
    def mark(match: re.Match) -> str:
        text = match.group(1)
        target = re.search(r"<([^>]+)>\s*$", text)
        return MARK.format(" ".join((target.group(1) if target else text).split()).lower())

    source = re.sub(r"^(:{3,})\{admonition\} Overview\n.*?^\1\s*$", "", source, count=1, flags=re.S | re.M)
    prose = prose_of(re.sub(r"\{term\}`([^`]*)`", mark, source))
    prose = re.sub(r"^\([\w-]+\)=\s*$", "", prose, flags=re.M)  # target labels such as (gates)= name, they do not use
    return re.sub(r"^#+ .*$", "", prose, flags=re.M)  # headings


def _pattern(name: str) -> str:
    words = r"\s+".join(re.escape(word) for word in name.split())  # a term may break across lines
    return r"(?<![\w-])" + words + r"(?:s|es)?(?![\w-])"


def violations(chapters: list[tuple[str, str]], terms) -> list[str]:
    """Every (chapter, term) whose first use comes before its introduction.

    ``chapters`` is a list of (label, source) in reading order.
    """
    order = {label: i for i, (label, _) in enumerate(chapters)}
    found = []
    for position, (label, source) in enumerate(chapters):
        prose = marked_prose(source)
        plain = re.sub(r"\u27e6[^\u27e7]*\u27e7", lambda m: " " * len(m.group(0)), prose)
        for key, (names, home) in terms.items():
            if home in order and order[home] < position:
                continue  # taught in an earlier chapter
            uses = [m.start() for n in names for m in re.finditer(_pattern(n), plain, flags=re.I)]
            if not uses:
                continue
            intros = [prose.find(MARK.format(n)) for n in names]
            if home == label:
                for n in names:
                    emphasis = re.search(r"(\*\*?)" + _pattern(n) + r"\1", prose, flags=re.I)
                    intros.append(emphasis.start() if emphasis else -1)
            intros = [i for i in intros if i >= 0]
            first_use = min(uses)
            if not intros or min(intros) > first_use + 2:  # +2: the use may be the emphasised word itself
                context = plain[max(0, first_use - 60) : first_use + 40].replace("\n", " ")
                found.append(f"{label}: '{key}' (taught in {home}) used before it is introduced: ...{context}...")
    return found


def test_the_rule_catches_a_planted_use():
    terms = {"gradient": (["gradient"], "two"), "state": (["state", "hidden state"], "one")}
    one = "(one)=\n# One\n\nA network keeps a *state*. The state changes.\n"
    two_bad = "(two)=\n# Two\n\nThe gradient is used here, and only then **gradient** is defined.\n"
    two_good = "(two)=\n# Two\n\nThe **gradient** is defined first; the gradient is used after.\n"
    early_link = "(zero)=\n# Zero\n\nA {term}`gradient` is linked, then the gradient used.\n"
    early_bare = "(zero)=\n# Zero\n\nThe gradient is used with no link, the `gradient` in code is fine.\n"
    assert violations([("one", one), ("two", two_good)], terms) == []
    assert len(violations([("one", one), ("two", two_bad)], terms)) == 1
    assert violations([("zero", early_link), ("one", one), ("two", two_good)], terms) == []
    caught = violations([("zero", early_bare), ("one", one), ("two", two_good)], terms)
    assert len(caught) == 1 and "'gradient'" in caught[0]
    # the state, taught in chapter "one", may be used freely in chapter "two"
    assert violations([("one", one), ("two", two_good + "\nThe hidden state.\n")], terms) == []
    # a heading announces a term, the text under it teaches it
    titled = "(two)=\n# The gradient\n\nThe **gradient** is defined first.\n"
    assert violations([("one", one), ("two", titled)], terms) == []
    overview = "(two)=\n# Two\n\n:::{admonition} Overview\nOn the gradient.\n:::\n\nThe **gradient** is defined.\n"
    assert violations([("one", one), ("two", overview)], terms) == []
    # code and math do not count as uses
    code = "(zero)=\n# Zero\n\n```{code-cell} python\ngradient = 1\n```\n\n$\\text{gradient}$\n"
    assert violations([("zero", code), ("one", one), ("two", two_good)], terms) == []


def test_the_glossary_parser_reads_synonyms_and_homes():
    terms = glossary_terms(GLOSSARY.read_text(encoding="utf-8"))
    assert "state" in terms and terms["state"][1] == "why-memory"
    assert all(home is not None for _, home in terms.values()), "every glossary entry must say where it is taught"


def test_every_home_is_a_chapter():
    labels = [chapter_label(p.read_text(encoding="utf-8")) for p in toctree_chapters(INDEX.read_text(encoding="utf-8"))]
    terms = glossary_terms(GLOSSARY.read_text(encoding="utf-8"))
    strays = {key: home for key, (_, home) in terms.items() if home not in labels}
    assert not strays, f"glossary entries whose 'Taught in' is not a chapter: {strays}"


def test_no_term_is_used_before_it_is_taught():
    terms = glossary_terms(GLOSSARY.read_text(encoding="utf-8"))
    chapters = []
    for path in toctree_chapters(INDEX.read_text(encoding="utf-8")):
        source = path.read_text(encoding="utf-8")
        chapters.append((chapter_label(source), source))
    problems = violations(chapters, terms)
    assert not problems, "terms used before they are taught (link them with {term} or teach them first):\n" + "\n".join(
        problems
    )


if __name__ == "__main__":  # pragma: no cover - a quick listing while writing
    pytest.main([__file__, "-q", "-p", "no:xdist"])
