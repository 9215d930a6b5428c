"""The printable chapters: ``make pdf``'s step run on the built book, then every PDF read back with pypdf.

The ``printed_book`` fixture runs ``book/_ext/print_pdf.py`` (what ``make pdf`` runs
after ``make html``) on the book of the ``built_book`` fixture, so ``make test``
checks the PDFs without a separate step.  Each chapter's PDF must hold its
numbered title, the chapter's cite-this line and page numbers on the first page,
at least one displayed equation typeset as glyphs on the line of its number
(and no raw TeX outside the code listings, which quote docstrings verbatim),
every figure's caption, and links to the public book
(never into the printing machine's file system).  The whole book is the
chapters in the table of contents' order, one bookmark each.

Math is read with pypdf's layout mode: MathJax's fonts end up as Type 3 fonts,
whose text pypdf's plain mode leaves out (and layout mode sets sub- and
superscripts on lines of their own, so captions are compared, without their
math, with the plain text).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytestmark = pytest.mark.pdf

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHAPTERS = re.findall(r"^chapters/([\w-]+)\s*$", (ROOT / "book" / "index.md").read_text(encoding="utf-8"), re.M)
RAW_TEX = ["$$", "\\frac", "\\[", "\\(", "\\begin{", "\\tanh", "\\sigma"]


@pytest.fixture(scope="session")
def printed_book(built_book):
    """(html folder, pdf folder) after printing the built book; the PDFs are also copied into the site."""
    pytest.importorskip("pypdf", reason="pypdf comes with the test extra: pip install -e '.[test]'")
    pytest.importorskip("playwright", reason="Playwright comes with the test extra: pip install -e '.[test]'")
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    out = Path(tempfile.mkdtemp(prefix="rnnbook-pdf-"))
    result = subprocess.run(
        [sys.executable, str(ROOT / "book" / "_ext" / "print_pdf.py"), "--html", str(built_book), "--out", str(out)],
        capture_output=True, text=True, timeout=1800,  # catches a hang only
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return built_book, out


def normalise(text: str) -> str:
    """Ligatures undone (NFKC: "ﬁ" -> "fi"), all whitespace removed: layout differs, letters do not."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


class _Page(HTMLParser):
    """The chapter page's h1 text and its figure captions, with the math left out of the captions."""

    def __init__(self) -> None:
        super().__init__()
        self.title, self.captions = "", []
        self._stack: list[str] = []
        self._in_h1 = self._in_caption = False
        self._math_depth = 0

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "h1" and not self.title:
            self._in_h1 = True
        if tag == "figcaption":
            self._in_caption = True
            self.captions.append([])
        if self._math_depth or "math" in classes or "headerlink" in classes:
            self._math_depth += 1

    def handle_endtag(self, tag):
        if self._math_depth:
            self._math_depth -= 1
        if tag == "h1":
            self._in_h1 = False
        if tag == "figcaption":
            self._in_caption = False

    def handle_data(self, data):
        if self._math_depth:
            if self._in_caption and self.captions:
                self.captions[-1].append(None)  # a gap where the math was
            return
        if self._in_h1:
            self.title += data
        if self._in_caption:
            self.captions[-1].append(data)


def page_facts(html_page: Path) -> tuple[str, list[list[str]]]:
    """The chapter's title (without its number) and each caption as runs of text between the math."""
    parser = _Page()
    parser.feed(html_page.read_text(encoding="utf-8"))
    captions = []
    for pieces in parser.captions:
        runs, current = [], ""
        for piece in pieces:
            if piece is None:
                runs.append(current)
                current = ""
            else:
                current += piece
        runs.append(current)
        captions.append([r for r in (normalise(r) for r in runs) if len(r) >= 4])
    return parser.title.strip(), captions


def pdf_text(path: Path, mode: str) -> list[str]:
    """Each page's text: ``"layout"`` keeps the math (set as it is printed), ``"plain"`` leaves it out."""
    from pypdf import PdfReader

    return [page.extract_text(extraction_mode=mode) for page in PdfReader(str(path)).pages]


def prose_text(path: Path) -> str:
    """The text outside code: code is set in a monospaced font and may quote TeX (docstrings) verbatim."""
    from pypdf import PdfReader

    chunks: list[str] = []

    def keep(text, cm, tm, font, size):
        if font is None or "Mono" not in str(font.get("/BaseFont", "")):
            chunks.append(text)

    for page in PdfReader(str(path)).pages:
        page.extract_text(visitor_text=keep)
    return "".join(chunks)


def test_the_toctree_lists_chapters():
    assert len(CHAPTERS) >= 8, CHAPTERS


@pytest.mark.parametrize("slug", CHAPTERS)
def test_chapter_pdf(printed_book, slug):
    html, out = printed_book
    pages = pdf_text(out / f"{slug}.pdf", "layout")
    text = "\n".join(pages)
    # Captions are compared without their math, so with the text pypdf gives when it leaves the math out.
    flat = normalise("\n".join(pdf_text(out / f"{slug}.pdf", "plain")))
    title, captions = page_facts(html / "book" / "chapters" / f"{slug}.html")
    number = CHAPTERS.index(slug) + 1
    # The numbered title, the cite-this line and the page number on the first page.
    assert normalise(f"{number}. {title}") in normalise(pages[0]), f"{slug}: title {title!r} not on page 1"
    assert "Citeas:" in normalise(pages[0]) and f"book/chapters/{slug}.html" in normalise(pages[0]), pages[0][:800]
    assert f"Page 1 of {len(pages)}" in pages[0], f"{slug}: no page number on page 1"
    # Equations typeset: a displayed equation on the line of its number, and no TeX source left over.
    equation_lines = [line for line in text.splitlines()
                      if re.search(rf"\({number}\.\d+\)\s*$", line) and "=" in line and "Eq." not in line]
    assert equation_lines, f"{slug}: no typeset equation next to an equation number ({number}.k)"
    prose = prose_text(out / f"{slug}.pdf")  # untypeset TeX would be set in the prose's fonts
    # every chapter has the section "The question" (tests/test_chapters.py checks it in the source)
    assert "The question" in prose and title.split()[0] in prose, f"{slug}: no prose read from the PDF"
    leftovers = [marker for marker in RAW_TEX if marker in prose]
    assert not leftovers, f"{slug}: raw TeX outside code in the PDF: {leftovers}"
    # Every figure's caption (its text between the math), in place.
    assert captions, f"{slug}: the page has no figure captions to look for"
    for runs in captions:
        missing = [run for run in runs if run not in flat]
        assert not missing, f"{slug}: caption text not in the PDF: {missing}"


@pytest.mark.parametrize("slug", CHAPTERS)
def test_chapter_pdf_links_point_to_the_public_book(printed_book, slug):
    from pypdf import PdfReader

    _, out = printed_book
    uris = []
    for page in PdfReader(str(out / f"{slug}.pdf")).pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action is not None and "/URI" in action:
                uris.append(str(action["/URI"]))
    assert uris, f"{slug}: no link kept in the PDF"
    local = [u for u in uris if u.startswith("file:")]
    assert not local, f"{slug}: links into the printing machine's file system: {local[:3]}"


def test_the_book_is_the_chapters_in_order(printed_book):
    from pypdf import PdfReader

    html, out = printed_book
    book = PdfReader(str(out / "book.pdf"))
    lengths = [len(PdfReader(str(out / f"{slug}.pdf")).pages) for slug in CHAPTERS]
    assert len(book.pages) == sum(lengths)
    titles = [item.title for item in book.outline if not isinstance(item, list)]
    assert [t.split(". ", 1)[0] for t in titles] == [str(n) for n in range(1, len(CHAPTERS) + 1)], titles
    # Each chapter starts where the bookmarks say, with its own page 1.
    first_pages = [sum(lengths[:k]) for k in range(len(CHAPTERS))]
    assert [book.get_destination_page_number(item) for item in book.outline if not isinstance(item, list)] \
        == first_pages
    for start in first_pages:
        assert "Page 1 of" in book.pages[start].extract_text(extraction_mode="layout")


def test_each_chapter_page_links_its_pdf_and_the_site_has_it(printed_book):
    html, _ = printed_book
    for slug in CHAPTERS:
        page = (html / "book" / "chapters" / f"{slug}.html").read_text(encoding="utf-8")
        match = re.search(r'<a class="[^"]*\brnnbook-download-pdf\b[^"]*" href="([^"]+)"', page)
        assert match, f"{slug}: no PDF link in the cite box"
        target = (html / "book" / "chapters" / match.group(1)).resolve()
        assert target == (html / "_downloads" / "pdf" / f"{slug}.pdf").resolve() and target.stat().st_size > 0
    assert (html / "_downloads" / "pdf" / "book.pdf").stat().st_size > 0
