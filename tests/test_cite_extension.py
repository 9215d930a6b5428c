"""The "Cite this chapter" extension (book/_ext/rnnbook_cite.py) and the book's citation metadata.

Three levels: the formatting functions alone; the extension in a tiny Sphinx
project of its own (fast, no notebooks); the chapters of the built book.
"""

from __future__ import annotations

import datetime
import re
import sys
from pathlib import Path

import bibtexparser
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import rnnbook_cite as rc  # noqa: E402

import rnnbook  # noqa: E402

CHAPTERS = sorted((ROOT / "book" / "chapters").glob("*.md"))


def make_citation(**changes) -> rc.ChapterCitation:
    values = dict(
        slug="why-memory",
        title="Why memory?",
        number="1",
        book_title="rnnbook: Recurrent Neural Networks, Explained",
        authors="The rnnbook authors",
        version="0.1.0",
        year="2026",
        url="https://example.org/book/book/chapters/why-memory.html",
    )
    values.update(changes)
    return rc.ChapterCitation(**values)


def parse_one(bibtex: str):
    library = bibtexparser.parse_string(bibtex)
    assert not library.failed_blocks, f"BibTeX did not parse:\n{bibtex}"
    assert len(library.entries) == 1, f"expected one entry, got {len(library.entries)}:\n{bibtex}"
    return library.entries[0]


# -- The formatting functions --------------------------------------------------------


def test_bibtex_entry_has_every_field():
    entry = parse_one(rc.format_bibtex(make_citation()))
    assert entry.entry_type == "incollection"
    assert entry.key == "rnnbook2026-why-memory"
    assert entry["title"] == "Why memory?"
    assert entry["booktitle"] == "rnnbook: Recurrent Neural Networks, Explained"
    assert entry["chapter"] == "1"
    assert entry["year"] == "2026"
    assert entry["version"] == "0.1.0"
    assert entry["url"] == "https://example.org/book/book/chapters/why-memory.html"
    # A group author is braced as one name, or BibTeX splits it into first names and a surname.
    assert entry["author"] == "{The rnnbook authors}"


def test_bibtex_escapes_tex_specials():
    entry = parse_one(rc.format_bibtex(make_citation(title="Gates & gradients: 100% of x_t {really}")))
    assert entry["title"] == r"Gates \& gradients: 100\% of x\_t \{really\}"


def test_unnumbered_chapter_has_no_chapter_field():
    citation = make_citation(number=None)
    entry = parse_one(rc.format_bibtex(citation))
    assert "chapter" not in entry.fields_dict
    assert rc.format_plain(citation).count("Chapter") == 0


def test_plain_reference():
    plain = rc.format_plain(make_citation())
    assert plain == (
        "The rnnbook authors (2026). \u201cWhy memory?\u201d Chapter 1 in rnnbook: Recurrent Neural "
        "Networks, Explained, version 0.1.0. https://example.org/book/book/chapters/why-memory.html"
    )
    # A title without closing punctuation gets a full stop inside the quotes.
    assert "\u201cGates.\u201d Chapter 7 in" in rc.format_plain(make_citation(title="Gates", number="7"))


@pytest.mark.parametrize("base", ["https://a.org/x/", "https://a.org/x"])
def test_chapter_url(base):
    assert rc.chapter_url(base, "book/chapters/gates") == "https://a.org/x/book/chapters/gates.html"


def test_key_is_safe():
    key = rc.bibtex_key(make_citation(slug="Odd name_2"))
    assert re.fullmatch(r"[a-z0-9-]+", key), key


def test_parse_check_can_fail():
    """The BibTeX check above is not vacuous: a broken entry is caught."""
    broken = rc.format_bibtex(make_citation())[:-1]  # drop the closing brace
    with pytest.raises(AssertionError):
        parse_one(broken)


# -- The extension in a tiny project -------------------------------------------------


def test_extension_in_a_small_project(tmp_path):
    import sphinx.application as sphinx_app
    src = tmp_path / "src"
    (src / "book" / "chapters").mkdir(parents=True)
    (src / "conf.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})\n"
        "extensions = ['rnnbook_cite']\n"
        "project = 'Tiny: A Test Book'\nauthor = 'Ann Author'\nrelease = '9.8.7'\n"
        "today = '2031-02-03'\nhtml_baseurl = 'https://tiny.example/'\nroot_doc = 'book/index'\n",
        encoding="utf-8",
    )
    (src / "book" / "index.rst").write_text(
        "Tiny\n====\n\n.. toctree::\n   :numbered: 1\n\n   chapters/first\n   chapters/second\n\n"
        ".. toctree::\n\n   teachers\n",
        encoding="utf-8",
    )
    for name, title in [("first", "First things"), ("second", "Second & last?")]:
        (src / "book" / "chapters" / f"{name}.rst").write_text(
            f"{title}\n{'=' * len(title)}\n\nText.\n\nPart\n----\n\nMore.\n", encoding="utf-8"
        )
    (src / "book" / "teachers.rst").write_text(
        "Teachers\n========\n\nSee :chapter:`second` and :chapter:`missing`.\n", encoding="utf-8"
    )
    out = tmp_path / "out"
    app = sphinx_app.Sphinx(str(src), str(src), str(out), str(tmp_path / "doctrees"), "html", status=None,
                            warning=None, freshenv=True)
    app.build()

    page = (out / "book" / "chapters" / "second.html").read_text(encoding="utf-8")
    # The section is the chapter's last one, and it is listed in the page's contents.
    assert page.rfind('<section id="cite-this-chapter">') > page.rfind('<section id="part">') > 0
    bibtex = re.search(r'<div class="[^"]*highlight-bibtex[^>]*>.*?<pre>(.*?)</pre>', page, flags=re.S)
    assert bibtex, "no BibTeX block on the page"
    entry = parse_one(re.sub(r"<[^>]+>", "", bibtex.group(1)).replace("&amp;", "&").replace("&#64;", "@")
                      .replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">"))
    assert entry["chapter"] == "2"  # from the toctree's numbering, not typed anywhere
    assert entry["title"] == r"Second \& last?"
    assert entry["year"] == "2031" and entry["version"] == "9.8.7"
    assert entry["url"] == "https://tiny.example/book/chapters/second.html"
    assert "Ann Author (2031). \u201cSecond &amp; last?\u201d Chapter 2 in Tiny: A Test Book, version 9.8.7." in page
    assert 'href="../../_sources/book/chapters/second.rst.txt"' in page and 'href="second.ipynb"' in page

    teachers = (out / "book" / "teachers.html").read_text(encoding="utf-8")
    assert re.search(r'<a [^>]*href="chapters/second.html"[^>]*>Chapter 2, Second &amp; last\?</a>', teachers)
    assert "<code" in teachers and "chapters/missing" in teachers  # no chapter of that name: plain text


# -- The built book ------------------------------------------------------------------------


def toctree_chapters() -> list[str]:
    """Chapter slugs in the order of the "Chapters" toctree of book/index.md."""
    index = (ROOT / "book" / "index.md").read_text(encoding="utf-8")
    block = re.search(r"```\{toctree\}\n:caption: Chapters\n(.*?)```", index, flags=re.S)
    assert block, "book/index.md has no 'Chapters' toctree"
    return re.findall(r"^chapters/([\w-]+)\s*$", block.group(1), flags=re.M)


def extract_bibtex(html: str) -> str:
    match = re.search(r'<section id="cite-this-chapter">.*?<pre>(.*?)</pre>', html, flags=re.S)
    assert match, "no BibTeX block in the 'Cite this chapter' section"
    text = re.sub(r"<[^>]+>", "", match.group(1))
    for escaped, char in [("&#64;", "@"), ("&amp;", "&"), ("&quot;", '"'), ("&lt;", "<"), ("&gt;", ">"),
                          ("&#39;", "'")]:
        text = text.replace(escaped, char)
    return text


@pytest.mark.book
@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_built_chapter_ends_with_citation(built_book, chapter):
    page = built_book / "book" / "chapters" / f"{chapter.stem}.html"
    if not page.exists():
        pytest.fail(f"no page for {chapter.name}")
    html = page.read_text(encoding="utf-8")
    sections = re.findall(r'<section id="([\w-]+)">\s*<h2', html)
    assert sections and sections[-1] == "cite-this-chapter", f"last sections: {sections[-3:]}"
    entry = parse_one(extract_bibtex(html))
    heading = r'<h1>((?:<span class="section-number">[^<]*</span>)?[^<]*)<a class="headerlink"'
    title = re.search(heading, html).group(1)
    title = " ".join(re.sub(r"<[^>]+>", "", title).split())
    title = re.sub(r"^[\d.]+\s*", "", title)  # the section number shown before the title
    assert entry["title"] == rc.bibtex_escape(title)
    assert entry["version"] == rnnbook.__version__
    assert entry["url"].endswith(f"/book/chapters/{chapter.stem}.html")
    order = toctree_chapters()
    if chapter.stem in order:
        assert entry["chapter"] == str(order.index(chapter.stem) + 1)
    # Both downloads are in the site, and the notebook opens in Jupyter (valid nbformat, executed).
    import nbformat
    notebook = nbformat.read(page.with_suffix(".ipynb"), as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code and all(c.execution_count for c in code), "the notebook is not executed"
    # the hidden cells that assert the chapter's claims say so at their top, for a reader who changes the code
    checks = [c for c in code if "remove-cell" in c.metadata.get("tags", []) and "assert " in c.source]
    assert all(c.source.startswith(rc.CHECK_LABEL) for c in checks), "a check cell of the notebook is not labelled"
    assert (built_book / "_sources" / "book" / "chapters" / chapter.name).exists()


# -- Citation metadata of the repository ---------------------------------------------------


def test_citation_cff():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"].startswith("1.2")
    assert cff["title"] == "rnnbook: Recurrent Neural Networks, Explained"
    assert str(cff["version"]) == rnnbook.__version__
    assert set(cff["license"]) == {"CC-BY-4.0", "MIT"}
    datetime.date.fromisoformat(str(cff["date-released"]))
    assert cff["authors"]


def test_license_is_stated_everywhere():
    for name in ["README.md", "LICENSE"]:
        text = (ROOT / name).read_text(encoding="utf-8")
        assert "CC BY 4.0" in text and "MIT" in text, f"{name} does not state both licenses"


@pytest.mark.book
def test_footer_shows_version_and_licenses(built_book):
    html = (built_book / "book" / "index.html").read_text(encoding="utf-8")
    footer = html[html.find('<footer class="bd-footer-content"'):]
    assert f"rnnbook {rnnbook.__version__}" in footer
    assert "CC BY 4.0" in footer and "MIT" in footer


# -- The accessibility fixes (book/_ext/rnnbook_a11y.py) ------------------------------------


def test_a11y_fixes_are_exact_and_idempotent():
    import rnnbook_a11y

    page = (
        '<button class="btn" title="Search" aria-label="Search" data-bs-placement="bottom">'
        '<summary aria-label="Toggle hidden content"><p>Show code cell source</p></summary>'
        '<details open="open"><summary><span class="toctree-toggle" role="presentation"></span></summary></details>'
        '<div class="citation" id="id15" role="doc-biblioentry"></div>'
    )
    fixed = rnnbook_a11y.fix_html(page)
    assert 'aria-label="Search"' not in fixed and 'title="Search"' in fixed
    assert "Toggle hidden content" not in fixed
    assert '<details open="open"><summary aria-label="Show or hide the sections">' in fixed
    assert '<div class="citation" id="id15" role="listitem">' in fixed
    assert rnnbook_a11y.fix_html(fixed) == fixed
    # Markup it does not know is left alone.
    other = '<summary aria-label="Something else"><button aria-label="Search">'
    assert rnnbook_a11y.fix_html(other) == other
