"""A "Cite this chapter" box and per-chapter downloads, made at build time.

Every document under ``book/chapters/`` gets a last section, "Cite this
chapter", holding

- a plain-text reference and a BibTeX entry (chapter title and number, book
  title, version, year, URL), and
- links to download the chapter's MyST source, its executed notebook
  (``.ipynb``, opens in Jupyter) and its printable PDF.

and a copy of the plain-text reference right under the chapter's title, shown
only in print (class ``rnnbook-print-cite``, see ``book/_static/print.css``), so
the first page of a printed chapter says how to cite it.

The PDFs are made by ``make pdf`` (``book/_ext/print_pdf.py``), not by the HTML
build: they land in ``_build/html/_downloads/pdf/<slug>.pdf`` (and the whole book
in ``book.pdf`` beside them).  In a plain ``make html`` build the PDF link
(class ``rnnbook-download-pdf``) points to a file that is not there yet.

One source of truth: the book's title, authors, version and base URL come from
``conf.py`` (``project``, ``author``, ``release``, ``html_baseurl``), the year
from ``today``, the chapter's number from the toctree's section numbers and its
title from the page.  Nothing is written per chapter.

Why a small extension of our own: sphinxcontrib-bibtex formats references *to*
other works, and the citation extensions on PyPI (e.g. sphinx-citation) render
a whole-project CITATION.cff; none writes a per-chapter entry that knows the
chapter's section number, which is only known after all documents are read.
So the section is added when a chapter's doctree is read (before the table of
contents is collected, so it is numbered and listed like any other section) and
filled in when the doctree is resolved (when the numbers are known).

Executed notebooks: myst-nb writes them beside the output folder
(``<outdir>/../jupyter_execute/<docname>.ipynb``); they are copied next to each
chapter's page (``book/chapters/<slug>.ipynb``) so the link works offline and
the URL is stable.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

CHAPTER_PREFIX = "book/chapters/"
SECTION_TITLE = "Cite this chapter"
SECTION_ID = "cite-this-chapter"
PDF_FOLDER = "_downloads/pdf"  # where make pdf copies the chapters' PDFs, relative to the HTML root


@dataclass(frozen=True)
class ChapterCitation:
    """What a reference to one chapter needs (all plain text)."""

    slug: str  # file name of the chapter, without suffix: "why-memory"
    title: str  # the chapter's title: "Why memory?"
    number: str | None  # section number from the toctree: "1", or None if unnumbered
    book_title: str
    authors: str
    version: str
    year: str
    url: str


class cite_placeholder(nodes.General, nodes.Element):  # noqa: N801 (docutils node names are lowercase)
    """Stands where the citation goes until the chapter's number is known."""


class chapter_placeholder(nodes.Inline, nodes.TextElement):  # noqa: N801
    """A {chapter}`slug` reference, resolved once every chapter's number and title are known."""


def chapter_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """``{chapter}`why-memory``: "Chapter 1, Why memory?" linked if that chapter exists, plain text if not.

    Chapters are written at different times; a plain {doc} link to one not yet
    in the book would fail the build, this one falls back to the slug.
    """
    slug = text.strip()
    return [chapter_placeholder(rawtext, slug, slug=slug)], []


_BIBTEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                   "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def bibtex_escape(text: str) -> str:
    """Escape the characters that are special to (La)TeX in a BibTeX field value."""
    return "".join(_BIBTEX_SPECIAL.get(ch, ch) for ch in text)


def bibtex_key(citation: ChapterCitation) -> str:
    """A key like ``rnnbook2026-why-memory``: letters, digits and hyphens only."""
    book = re.sub(r"[^a-z0-9]", "", citation.book_title.split(":")[0].lower()) or "book"
    slug = re.sub(r"[^a-z0-9-]", "-", citation.slug.lower())
    return f"{book}{citation.year}-{slug}"


def format_bibtex(citation: ChapterCitation) -> str:
    """A BibTeX ``@incollection`` entry for one chapter of the book.

    The authors are a group, so they are braced as one name (BibTeX would
    otherwise read "The rnnbook authors" as first names and a surname).
    """
    fields = [
        ("author", "{" + bibtex_escape(citation.authors) + "}"),
        ("title", bibtex_escape(citation.title)),
        ("booktitle", bibtex_escape(citation.book_title)),
    ]
    if citation.number:
        fields.append(("chapter", citation.number))
    fields += [
        ("year", citation.year),
        ("version", bibtex_escape(citation.version)),
        ("note", f"Version {bibtex_escape(citation.version)}"),
        ("url", citation.url),
    ]
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@incollection{{{bibtex_key(citation)},\n{body}\n}}"


def format_plain(citation: ChapterCitation) -> str:
    """A one-line reference: authors (year). "Title." Chapter N in Book, version V. URL"""
    chapter = f"Chapter {citation.number} in " if citation.number else "In "
    title = citation.title if citation.title[-1:] in ".?!" else citation.title + "."
    return (
        f"{citation.authors} ({citation.year}). \u201c{title}\u201d {chapter}"
        f"{citation.book_title}, version {citation.version}. {citation.url}"
    )


def chapter_url(baseurl: str, docname: str) -> str:
    """The page's public URL: ``html_baseurl`` + ``<docname>.html``."""
    return baseurl.rstrip("/") + "/" + docname + ".html"


def _year(today: str) -> str:
    match = re.match(r"(\d{4})", today or "")
    return match.group(1) if match else str(datetime.date.today().year)


# -- Sphinx hooks ------------------------------------------------------------------


def add_section(app: Sphinx, doctree: nodes.document) -> None:
    """Append an empty "Cite this chapter" section to a chapter (filled in later)."""
    docname = app.env.docname
    if not docname.startswith(CHAPTER_PREFIX):
        return
    top = next(iter(doctree.findall(nodes.section)), None)
    if top is None:
        return
    section = nodes.section("", ids=[SECTION_ID], names=[SECTION_TITLE.lower()])
    section += nodes.title("", SECTION_TITLE)
    section += cite_placeholder(docname=docname)
    top += section


def citation_for(app: Sphinx, docname: str) -> ChapterCitation:
    env = app.env
    config = app.config
    number = env.toc_secnumbers.get(docname, {}).get("")
    title_node = env.titles.get(docname)
    return ChapterCitation(
        slug=docname.rsplit("/", 1)[-1],
        title=title_node.astext() if title_node is not None else docname,
        number=".".join(str(n) for n in number) if number else None,
        book_title=config.project,
        authors=config.author,
        version=config.release,
        year=_year(config.today),
        url=chapter_url(config.html_baseurl or "", docname),
    )


def fill_section(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for placeholder in list(doctree.findall(cite_placeholder)):
        citation = citation_for(app, placeholder["docname"])
        slug = citation.slug
        # The copy of the source that Sphinx writes (same rule as Sphinx's HTML builder).
        source_suffix = Path(app.env.doc2path(docname)).suffix
        source_name = docname + source_suffix
        if source_suffix != app.config.html_sourcelink_suffix:
            source_name += app.config.html_sourcelink_suffix
        source_link = os.path.relpath(f"_sources/{source_name}", os.path.dirname(docname))
        source_label = "MyST source (.md)" if source_suffix == ".md" else f"source ({source_suffix})"

        intro = nodes.paragraph(
            "", "If you use or teach from this chapter, please cite it. The book is licensed CC BY 4.0 "
            "(text and figures) and MIT (code). As plain text:"
        )
        plain = nodes.paragraph("", format_plain(citation), classes=["rnnbook-cite-plain"])
        bibtex_intro = nodes.paragraph("", "As BibTeX:")
        entry = format_bibtex(citation)
        bibtex = nodes.literal_block(entry, entry, language="bibtex", classes=["rnnbook-cite-bibtex"])
        downloads = nodes.paragraph("", "Download this chapter: ")
        if app.config.html_copy_source:
            downloads += nodes.reference("", source_label, refuri=source_link, classes=["rnnbook-download-md"])
            downloads += nodes.Text(" \u00b7 ")
        downloads += nodes.reference("", "executed notebook (.ipynb)", refuri=f"{slug}.ipynb",
                                     classes=["rnnbook-download-ipynb"])
        downloads += nodes.Text(" \u00b7 ")
        pdf_link = os.path.relpath(f"{PDF_FOLDER}/{slug}.pdf", os.path.dirname(docname))
        downloads += nodes.reference("", "printable PDF (made by make pdf)", refuri=pdf_link,
                                     classes=["rnnbook-download-pdf"])
        box = nodes.container("", intro, plain, bibtex_intro, bibtex, downloads, classes=["rnnbook-cite-box"])
        placeholder.replace_self(box)
        top = next(iter(doctree.findall(nodes.section)), None)
        if top is not None and isinstance(top[0], nodes.title):
            top.insert(1, nodes.paragraph("", "Cite as: " + format_plain(citation), classes=["rnnbook-print-cite"]))


def resolve_chapter_refs(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for ref in list(doctree.findall(chapter_placeholder)):
        target = CHAPTER_PREFIX + ref["slug"]
        if target in app.env.all_docs and target in app.env.titles:
            citation = citation_for(app, target)
            label = f"Chapter {citation.number}, {citation.title}" if citation.number else citation.title
            uri = app.builder.get_relative_uri(docname, target)
            ref.replace_self(nodes.reference("", label, refuri=uri, internal=True))
        else:
            ref.replace_self(nodes.literal("", f"chapters/{ref['slug']}"))


def pages_with_chapter_refs(app: Sphinx, env: Any, added: set, changed: set, removed: set) -> list[str]:
    """Re-read the pages that use {chapter} when the set of chapters changed."""
    chapters = sorted(d for d in env.found_docs if d.startswith(CHAPTER_PREFIX))
    if getattr(env, "rnnbook_chapters", None) == chapters:
        return []
    env.rnnbook_chapters = chapters
    return [d for d in env.found_docs if d in env.all_docs and _uses_chapter_role(env, d)]


def _uses_chapter_role(env: Any, docname: str) -> bool:
    try:
        return "{chapter}`" in Path(env.doc2path(docname)).read_text(encoding="utf-8")
    except OSError:
        return False


def copy_notebooks(app: Sphinx, exception: Exception | None) -> None:
    """Copy each chapter's executed notebook next to its page."""
    if exception is not None or app.builder.format != "html":
        return
    config = getattr(app.env, "mystnb_config", None)
    folder = Path(getattr(config, "output_folder", "") or Path(app.outdir).parent / "jupyter_execute")
    for docname in sorted(app.env.found_docs):
        if not docname.startswith(CHAPTER_PREFIX):
            continue
        notebook = folder / f"{docname}.ipynb"
        target = Path(app.outdir) / f"{docname}.ipynb"
        if notebook.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(notebook, target)
            _merge_cached_outputs(target, config)
            _label_checks(target)
        else:
            logger.warning("rnnbook_cite: no executed notebook for %s at %s", docname, notebook)


def _merge_cached_outputs(path: Path, config: Any) -> None:
    """Fill in the outputs from myst-nb's execution cache.

    When a chapter's outputs come from the cache (an unchanged chapter on a
    second build), myst-nb 1.4 writes the *unexecuted* notebook to
    jupyter_execute/ (it merges the cached outputs into a copy it renders, not
    into the one it writes).  The cache holds the executed notebook, matched by
    the hash of the code cells, so the outputs are taken from there.
    """
    if config is None or getattr(config, "execution_mode", None) != "cache":
        return
    import nbformat
    from jupyter_cache import get_cache

    notebook = nbformat.read(path, as_version=4)
    try:
        _, merged = get_cache(config.execution_cache_path).merge_match_into_notebook(notebook)
    except KeyError:  # not in the cache: what myst-nb wrote is what there is
        return
    nbformat.write(merged, path)


#: The first line of every check cell in a downloaded notebook (see :func:`_label_checks`).
CHECK_LABEL = (
    "# The book's check of its own sentences (hidden on the web page). After you change the code\n"
    "# above, it may stop with an AssertionError: the sentences are about the original code. Skip it.\n"
)


def _label_checks(path: Path) -> None:
    """Label the hidden cells that assert the chapter's claims, so a reader of the notebook knows them.

    A reader who changes the code for an exercise and runs the notebook on would
    otherwise meet an ``AssertionError`` from a cell the web page never showed.
    """
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.cell_type == "code" and "remove-cell" in tags and "assert " in cell.source:
            if not cell.source.startswith(CHECK_LABEL):
                cell.source = CHECK_LABEL + cell.source
    nbformat.write(notebook, path)


def visit_placeholder(self: Any, node: nodes.Element) -> None:  # pragma: no cover (replaced before writing)
    raise nodes.SkipNode


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_node(cite_placeholder, html=(visit_placeholder, None), latex=(visit_placeholder, None),
                 text=(visit_placeholder, None))
    # Priority below 500: runs before the table-of-contents collector reads the
    # doctree, so the new section is numbered and listed in the page's contents.
    app.connect("doctree-read", add_section, priority=400)
    app.connect("doctree-resolved", fill_section)
    app.add_node(chapter_placeholder, html=(visit_placeholder, None), latex=(visit_placeholder, None),
                 text=(visit_placeholder, None))
    app.add_role("chapter", chapter_role)
    app.connect("doctree-resolved", resolve_chapter_refs)
    app.connect("env-get-outdated", pages_with_chapter_refs)
    app.connect("build-finished", copy_notebooks)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
