"""Print every chapter of the built book, and the whole book, to PDF with headless Chromium.

Usage (``make pdf`` runs it after ``make html``)::

    python tools/print_pdf.py [--html _build/html] [--out _build/pdf]

Writes ``<out>/<slug>.pdf`` for every chapter and ``<out>/book.pdf``, and copies
them into ``<html>/_downloads/pdf/``, where each chapter's "Cite this chapter"
box links its PDF.

Why Chromium: the chapters are already typeset for a browser (MathJax's math,
the figures, highlighted code), so printing the built pages gives the book as
readers see it, offline, with nothing new to install in CI (Chromium and
Playwright are already what tests/test_browser.py uses); a LaTeX build would
need a TeX distribution and a second rendering of every page.  The print style
sheet (``book/_static/print.css``) drops the sidebars, numbers the pages and
shows the chapter's cite-this line under its title.

Why the whole book is the chapters merged with pypdf: each chapter is printed
once and the book is exactly those pages, so a chapter handed out and the same
chapter in the book are identical; a generated single page would render every
chapter's math and figures a second time and mix the chapters' element ids.
Each chapter is a bookmark of the merged file; page numbers count within a
chapter, as on the chapter's own PDF.

Needs Playwright (the test extra), pypdf (the test extra) and /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]
CHAPTER_PREFIX = "chapters/"


class _TocLinks(HTMLParser):
    """The hrefs of the toctree's first-level entries on the book's front page, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self._in_l1 = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "li" and "toctree-l1" in (attrs.get("class") or "").split():
            self._in_l1 = True
        elif tag == "a" and self._in_l1 and attrs.get("href"):
            self.hrefs.append(attrs["href"].split("#")[0])
            self._in_l1 = False


def chapters_in_order(html: Path) -> list[Path]:
    """The chapter pages of the built book, in the order of the front page's table of contents."""
    index = html / "book" / "index.html"
    if not index.is_file():
        raise SystemExit(f"print_pdf: error: expected a built book in {html} (run make html), found no {index}")
    parser = _TocLinks()
    parser.feed(index.read_text(encoding="utf-8"))
    pages: list[Path] = []
    for href in parser.hrefs:  # the sidebar lists the chapters too: keep the first of each
        page = html / "book" / href
        if href.startswith(CHAPTER_PREFIX) and page not in pages:
            pages.append(page)
    if not pages:
        raise SystemExit(f"print_pdf: error: expected chapter links in {index}, found none")
    return pages


WAIT_FOR_PAGE = """async () => {
  if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
    await window.MathJax.startup.promise;
  }
  for (const img of document.querySelectorAll('img')) { img.loading = 'eager'; }
  await Promise.all([...document.images].map(img => img.complete ? null :
    new Promise(done => { img.onload = img.onerror = done; })));
  await document.fonts.ready;
  return document.querySelectorAll('mjx-container').length;
}"""


# Links within the page stay links within the PDF; links to the rest of the book (other chapters, the
# references, the downloads) would point into the printing machine's file system, so they are pointed
# at the book's public address instead, read from the page's canonical link (conf.py's html_baseurl).
PUBLIC_LINKS = """(root) => {
  const canonical = document.querySelector('link[rel="canonical"]');
  if (!canonical) { return -1; }
  const here = location.href.split('#')[0];
  const publicRoot = canonical.href.slice(0, canonical.href.length - here.slice(root.length).length);
  let changed = 0;
  for (const a of document.querySelectorAll('a[href]')) {
    const url = a.href;
    if (url.startsWith(root) && url.split('#')[0] !== here) { a.href = publicRoot + url.slice(root.length); changed++; }
  }
  return changed;
}"""


def chapter_title(page) -> str:
    """The chapter's title as the page shows it ("4. The state equation"), without the permalink sign."""
    text = page.locator("article h1").first.inner_text()
    return re.sub(r"\s+", " ", text.replace("#", "").replace("\u00b6", "")).strip()


def print_chapters(html: Path, pages: list[Path], out: Path) -> list[tuple[Path, str]]:
    """Print each page (under the built book ``html``) to ``out/<stem>.pdf``; return (pdf, title) pairs in order."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise SystemExit(f"print_pdf: error: expected Chromium at {CHROMIUM}, found nothing")
    out.mkdir(parents=True, exist_ok=True)
    done = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            page.emulate_media(media="print")
            for html_page in pages:
                page.goto(html_page.resolve().as_uri(), wait_until="load")
                page.evaluate(WAIT_FOR_PAGE)
                page.evaluate(PUBLIC_LINKS, html.resolve().as_uri() + "/")
                target = out / f"{html_page.stem}.pdf"
                page.pdf(path=str(target), prefer_css_page_size=True, print_background=True, outline=True,
                         tagged=True)
                done.append((target, chapter_title(page)))
        finally:
            browser.close()
    return done


def merge(chapters: list[tuple[Path, str]], target: Path, title: str) -> Path:
    """Concatenate the chapter PDFs into ``target``, one bookmark per chapter."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for pdf, chapter in chapters:
        writer.append(str(pdf), outline_item=chapter)
    writer.add_metadata({"/Title": title})
    with open(target, "wb") as handle:
        writer.write(handle)
    return target


def book_title(html: Path) -> str:
    match = re.search(r"<title>(.*?)</title>", (html / "book" / "index.html").read_text(encoding="utf-8"), re.S)
    return re.sub(r"\s+", " ", match.group(1)).strip() if match else "rnnbook"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", default="_build/html", type=Path, help="the built book (default _build/html)")
    parser.add_argument("--out", default="_build/pdf", type=Path, help="where the PDFs go (default _build/pdf)")
    args = parser.parse_args(argv)
    start = time.process_time(), time.monotonic()
    pages = chapters_in_order(args.html)
    chapters = print_chapters(args.html, pages, args.out)
    book = merge(chapters, args.out / "book.pdf", book_title(args.html))
    downloads = args.html / "_downloads" / "pdf"
    downloads.mkdir(parents=True, exist_ok=True)
    for pdf in [*(pdf for pdf, _ in chapters), book]:
        shutil.copyfile(pdf, downloads / pdf.name)
    cpu, wall = time.process_time() - start[0], time.monotonic() - start[1]
    print(f"wrote {len(chapters)} chapter PDFs and {book} into {args.out}, copied to {downloads} "
          f"({wall:.1f} s; this process {cpu:.1f} s CPU, Chromium's own not counted)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
