"""Accessibility fixes to the HTML that the themes write, applied after the build.

axe-core (tests/test_browser.py) finds four serious or critical problems in markup that
comes from the themes and extensions, not from the book's text:

- pydata-sphinx-theme's search button has ``aria-label="Search"`` while its
  visible text is "Search Ctrl+K" (axe: label-content-name-mismatch): the label
  is dropped, so the visible text is the name.
- myst-nb's hidden-cell toggles have ``aria-label="Toggle hidden content"``
  while they show "Show code cell source" (label-content-name-mismatch): same fix.
- pydata-sphinx-theme's sidebar expanders are ``<summary>`` elements holding
  only an icon (summary-name): they get a label.
- docutils gives bibliography entries the deprecated role ``doc-biblioentry``
  inside a ``role="list"`` (aria-required-children): they become list items.

None of these has a configuration option, and overriding the themes' templates
would copy much more of their markup than these few attributes, so the built
pages are patched with exact string replacements (each one a no-op when a
theme update changes the markup; the browser test then reports the problem).
sphinx-gallery's thumbnail links (whose text it hides with CSS) are fixed in
book/_static/rnnbook.css instead.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

REPLACEMENTS = [
    (re.escape(' title="Search" aria-label="Search" data-bs-placement="bottom"'),
     ' title="Search" data-bs-placement="bottom"'),
    (re.escape('<summary aria-label="Toggle hidden content">'), "<summary>"),
    (r'(<details(?: open="open")?>)<summary>(<span class="toctree-toggle" role="presentation">)',
     r'\1<summary aria-label="Show or hide the sections">\2'),
    # docutils marks bibliography entries role="doc-biblioentry" inside a role="list":
    # that role is deprecated and no longer counts as a list item (aria-required-children).
    (re.escape('<div class="citation" id="') + r'([^"]+)' + re.escape('" role="doc-biblioentry">'),
     r'<div class="citation" id="\1" role="listitem">'),
]


def fix_html(text: str) -> str:
    """Apply every replacement to one page's HTML."""
    for pattern, replacement in REPLACEMENTS:
        text = re.sub(pattern, replacement, text)
    return text


def fix_pages(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        fixed = fix_html(text)
        if fixed != text:
            page.write_text(fixed, encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("build-finished", fix_pages)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
