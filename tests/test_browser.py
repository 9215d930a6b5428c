"""The built book in a real browser (Chromium driven by Playwright), served on localhost.

Every page is opened once, at desktop width and then at phone width, and checked:
no console error, no request leaving localhost (such requests are recorded and
aborted, so the book must work offline), math rendered, images with alt text,
headings that nest, no horizontal overflow at 390 px, and axe-core reporting no
serious or critical accessibility violation.  Then: search, the interactive
gradient explorer, the "Cite this chapter" BibTeX, the 404 page, dark mode, and
reading straight from disk (file://).

The site is served under the same path as on GitHub Pages (the path of
``html_baseurl``, read back from the 404 page), and a missing page answers with
404.html, as GitHub Pages does.

Skips, with the reason, when Playwright, Chromium (/usr/bin/chromium) or axe-core
(npm, installed into .venv/npm by ``make test``) is missing.  Screenshots go to
$RNNBOOK_SCREENSHOTS if set (else a temporary folder).
"""

from __future__ import annotations

import functools
import http.server
import math
import os
import re
import threading
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / ".venv" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# Folders of the build that hold assets, not pages.
ASSET_DIRS = {"_static", "_sources", "_downloads", "_images", "jupyter_execute", ".doctrees"}


# -- Serving the built book ---------------------------------------------------------------


def site_prefix(html: Path) -> str:
    """The path the site lives under (e.g. /rnnbook/): the 404 page links its CSS with it."""
    page = (html / "404.html").read_text(encoding="utf-8")
    match = re.search(r'href="(/[^"]*?)_static/', page)
    return match.group(1) if match else "/"


class BookHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the build under a path prefix; a missing file gets 404.html with status 404."""

    prefix = "/"

    def translate_path(self, path: str) -> str:
        path = unquote(urlparse(path).path)
        if not path.startswith(self.prefix):
            return str(Path(self.directory) / "__outside_the_site__")
        return super().translate_path("/" + path[len(self.prefix):])

    def send_error(self, code, message=None, explain=None):
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.exists():
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


@pytest.fixture(scope="module")
def site(built_book):
    """(base URL of the book's site on localhost, folder of the build)."""
    prefix = site_prefix(built_book)
    handler = functools.partial(type("Handler", (BookHandler,), {"prefix": prefix}), directory=str(built_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}{prefix}", built_book
    server.shutdown()
    server.server_close()


# -- The browser -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
    if not CHROMIUM.exists():
        pytest.skip(f"no browser: Chromium not found at {CHROMIUM} (Debian: apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("RNNBOOK_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Tab:
    """A page in a fresh browser context that records what went wrong."""

    def __init__(self, browser, base: str, **context_options):
        self.context = browser.new_context(**context_options)
        # Playwright's 30 s default can run out on a busy machine; this only catches a hang.
        self.context.set_default_timeout(120_000)
        self.page = self.context.new_page()
        self.console_errors: list[str] = []
        self.external: list[str] = []
        self.failed: list[str] = []
        host = urlparse(base).netloc
        self.page.on("console", lambda msg: msg.type == "error" and self.console_errors.append(msg.text))
        self.page.on("pageerror", lambda exc: self.console_errors.append(f"uncaught: {exc}"))
        self.page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.status} {r.url}"))

        def route(route):
            url = route.request.url
            if urlparse(url).netloc == host or url.startswith(("data:", "blob:", "about:")):
                route.continue_()
            else:
                self.external.append(url)
                route.abort()

        self.page.route("**/*", route)

    def goto(self, url: str):
        response = self.page.goto(url, wait_until="load")
        wait_for_math(self.page)
        return response

    def close(self):
        self.context.close()


def wait_for_math(page) -> None:
    """Wait until MathJax (if the page loads it) has typeset everything."""
    page.wait_for_function(
        "() => !document.querySelector('script[src*=\"mathjax\"]') || "
        "(window.MathJax && window.MathJax.startup && window.MathJax.startup.promise)",
        timeout=120_000,
    )
    page.evaluate("() => window.MathJax && window.MathJax.startup ? window.MathJax.startup.promise : null")


def book_pages(html: Path) -> list[str]:
    """Every HTML page of the build, relative to its root ("book/index.html", ...)."""
    pages = []
    for path in sorted(html.rglob("*.html")):
        rel = path.relative_to(html)
        if rel.parts[0] in ASSET_DIRS or rel.as_posix() == "index.html":  # index.html: a redirect, checked apart
            continue
        pages.append(rel.as_posix())
    return pages


# JavaScript run on every page -----------------------------------------------------------------

RAW_TEX_JS = r"""() => {
  // Text left outside code and outside MathJax's output that still looks like TeX delimiters.
  const root = document.querySelector('main') || document.body;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const found = [];
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement.closest('pre, code, script, style, mjx-container, textarea, .highlight')) continue;
    if (/\\\(|\\\)|\\\[|\\\]|\$\$/.test(node.textContent)) found.push(node.textContent.trim().slice(0, 80));
  }
  return {raw: found, typeset: document.querySelectorAll('mjx-container').length,
          mathSpans: document.querySelectorAll('.math').length};
}"""

STRUCTURE_JS = r"""() => {
  const article = document.querySelector('article') || document.querySelector('main') || document.body;
  // Every image says what it shows; alt="" is allowed only outside figures (a decorative
  // thumbnail next to its own title), never for a figure.
  const imgs = [...article.querySelectorAll('img')]
      .filter(i => !i.hasAttribute('alt') || (i.closest('figure') && !i.getAttribute('alt').trim()))
      .map(i => i.getAttribute('src'));
  const levels = [...article.querySelectorAll('h1, h2, h3, h4, h5, h6')]
      .filter(h => h.offsetParent !== null).map(h => +h.tagName[1]);
  const jumps = [];
  for (let i = 1; i < levels.length; i++) {
    if (levels[i] > levels[i - 1] + 1) jumps.push(`h${levels[i - 1]} -> h${levels[i]}`);
  }
  return {imgsWithoutAlt: imgs, firstHeading: levels[0] || 0, jumps: jumps,
          h1: [...article.querySelectorAll('h1')].filter(h => h.offsetParent !== null).length};
}"""

OVERFLOW_JS = """() => ({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})"""

AXE_JS = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""


def run_axe(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(AXE_JS)


@pytest.fixture(scope="module")
def reports(browser, site, shots):
    """Open every page once (desktop, then phone width) and record what each check needs."""
    base, html = site
    out = {}
    tab = Tab(browser, base, viewport=DESKTOP)
    try:
        for rel in book_pages(html):
            tab.console_errors.clear(), tab.external.clear(), tab.failed.clear()
            response = tab.goto(base + rel)
            report = {"status": response.status if response else None}
            report["math"] = tab.page.evaluate(RAW_TEX_JS)
            report["structure"] = tab.page.evaluate(STRUCTURE_JS)
            report["axe"] = run_axe(tab.page) if AXE.exists() else None
            tab.page.set_viewport_size(PHONE)
            tab.page.wait_for_timeout(150)
            report["overflow"] = tab.page.evaluate(OVERFLOW_JS)
            if rel in ("book/index.html", "book/chapters/why-memory.html", "book/chapters/vanishing-gradients.html"):
                tab.page.screenshot(path=str(shots / f"phone-{rel.replace('/', '_')}.png"))
            tab.page.set_viewport_size(DESKTOP)
            report["console"] = list(tab.console_errors)
            report["external"] = list(tab.external)
            report["failed"] = [f for f in tab.failed if not (rel == "404.html" and f.endswith("/404.html"))]
            out[rel] = report
    finally:
        tab.close()
    return out


# -- Every page ----------------------------------------------------------------------------


def test_pages_found(reports, site):
    _, html = site
    pages = list(reports)
    chapters = [p for p in pages if p.startswith("book/chapters/")]
    assert "book/index.html" in pages and "404.html" in pages and "search.html" in pages
    assert len(chapters) == len(list((ROOT / "book" / "chapters").glob("*.md"))), chapters
    print(f"\nchecked {len(pages)} pages ({len(chapters)} chapters)")


def test_no_console_error_and_no_failed_request(reports):
    bad = {p: r["console"] + r["failed"] for p, r in reports.items() if r["console"] or r["failed"]}
    assert not bad, f"console errors or failed requests: {bad}"


def test_nothing_leaves_localhost(reports):
    bad = {p: r["external"] for p, r in reports.items() if r["external"]}
    assert not bad, f"requests to other hosts (the book must work offline): {bad}"


def test_math_is_rendered(reports):
    raw = {p: r["math"]["raw"] for p, r in reports.items() if r["math"]["raw"]}
    assert not raw, f"raw TeX left visible: {raw}"
    untypeset = {p: r["math"] for p, r in reports.items() if r["math"]["mathSpans"] and not r["math"]["typeset"]}
    assert not untypeset, f"math not typeset by MathJax: {untypeset}"
    chapters_with_math = [p for p, r in reports.items() if p.startswith("book/chapters/") and r["math"]["typeset"]]
    assert chapters_with_math, "no chapter shows typeset math"


def test_images_have_alt_text_and_headings_nest(reports):
    no_alt = {p: r["structure"]["imgsWithoutAlt"] for p, r in reports.items() if r["structure"]["imgsWithoutAlt"]}
    assert not no_alt, f"images without alt text: {no_alt}"
    jumps = {p: r["structure"]["jumps"] for p, r in reports.items() if r["structure"]["jumps"]}
    assert not jumps, f"headings skip a level: {jumps}"
    not_h1 = {p: r["structure"] for p, r in reports.items() if r["structure"]["h1"] != 1}
    assert not not_h1, f"pages without exactly one visible h1 in the article: {not_h1}"


def test_accessibility_axe(reports):
    if not AXE.exists():
        pytest.skip(f"axe-core not found at {AXE}: `make test` installs it with npm (npm was missing?)")
    bad = {p: r["axe"] for p, r in reports.items() if r["axe"]}
    assert not bad, f"axe-core: serious or critical violations: {bad}"


def test_no_horizontal_overflow_at_phone_width(reports):
    bad = {p: r["overflow"] for p, r in reports.items() if r["overflow"]["scroll"] > r["overflow"]["client"] + 1}
    assert not bad, f"pages wider than a {PHONE['width']} px phone: {bad}"


# -- Features -----------------------------------------------------------------------------------


def test_root_redirects_to_the_book(browser, site):
    base, _ = site
    tab = Tab(browser, base)
    try:
        tab.page.goto(base, wait_until="load")
        tab.page.wait_for_url(re.compile(r".*/book/index\.html$"), timeout=120_000)
    finally:
        tab.close()


@pytest.mark.parametrize(("term", "chapter"), [("feedforward", "why-memory")])
def test_search_finds_a_chapter(browser, site, term, chapter):
    base, html = site
    source = (ROOT / "book" / "chapters" / f"{chapter}.md").read_text(encoding="utf-8")
    assert term in source, "the search term must be in the chapter"
    tab = Tab(browser, base)
    try:
        tab.goto(f"{base}search.html?q={term}")
        tab.page.wait_for_selector("#search-results li a", timeout=120_000)
        links = tab.page.eval_on_selector_all("#search-results li a", "els => els.map(e => e.href)")
        assert any(f"book/chapters/{chapter}.html" in link for link in links), links
        assert not tab.external and not tab.console_errors, (tab.external, tab.console_errors)
    finally:
        tab.close()


EXPLORER_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Explorer test</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="_static/rnnbook.css"></head>
<body><main><h1>Explorer test</h1>
<div id="gradient-explorer" class="gradient-explorer" data-gamma="1"></div></main>
<script src="_static/gradient-explorer.js"></script></body></html>"""


def test_gradient_explorer_responds_to_sliders(browser, site, shots):
    """On the vanishing-gradients chapter if it has the figure, else on a small page of our own."""
    base, html = site
    chapter = html / "book" / "chapters" / "vanishing-gradients.html"
    tab = Tab(browser, base, viewport=DESKTOP)
    on_chapter = chapter.exists() and 'id="gradient-explorer"' in chapter.read_text(encoding="utf-8")
    try:
        if on_chapter:
            tab.goto(base + "book/chapters/vanishing-gradients.html")
        else:
            url = base + "_explorer_test.html"
            tab.page.route(url, lambda route: route.fulfill(body=EXPLORER_PAGE, content_type="text/html"))
            tab.goto(url)
        root = tab.page.locator("#gradient-explorer")
        readout = root.locator(".ge-readout")
        lam, lag = root.locator("input[type=range]").nth(0), root.locator("input[type=range]").nth(1)
        marker = root.locator("circle.ge-marker")

        def value() -> float:
            return float(readout.get_attribute("data-value"))

        lam.fill("0.8")
        lag.fill("50")
        assert math.isclose(value(), 0.8**50, rel_tol=1e-9)
        assert "shrinks" in readout.inner_text()
        if on_chapter:
            # The chapter passes the curves it measured in a real tanh network: drawn, read out, under the bound.
            measured = float(readout.get_attribute("data-measured"))
            assert 0 < measured <= value() * (1 + 1e-9), (measured, value())
            assert "Measured" in readout.inner_text()
            assert len(root.locator("polyline.ge-measured").get_attribute("points").split()) > 50
        low = float(marker.get_attribute("cy"))
        root.scroll_into_view_if_needed()
        tab.page.screenshot(path=str(shots / "explorer-vanishing.png"))

        lam.fill("1.2")
        assert math.isclose(value(), 1.2**50, rel_tol=1e-9)
        assert "grows" in readout.inner_text()
        assert float(marker.get_attribute("cy")) < low, "the marker did not move up when the bound grew"
        tab.page.screenshot(path=str(shots / "explorer-exploding.png"))

        # The keyboard works too: one step right on the lag slider multiplies the bound by 1.2 once more.
        lag.focus()
        tab.page.keyboard.press("ArrowRight")
        assert math.isclose(value(), 1.2**51, rel_tol=1e-9)

        # At phone width it fits the screen, sliders included.
        tab.page.set_viewport_size(PHONE)
        root.scroll_into_view_if_needed()
        box = root.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        assert lam.bounding_box()["width"] > 100, "the slider is too narrow to drag on a phone"
        root.screenshot(path=str(shots / "explorer-phone.png"))
        assert not tab.console_errors and not tab.external, (tab.console_errors, tab.external)
    finally:
        tab.close()


def test_cite_box_holds_valid_bibtex(browser, site):
    import bibtexparser
    base, html = site
    chapters = sorted((html / "book" / "chapters").glob("*.html"))
    assert chapters
    tab = Tab(browser, base)
    try:
        for page in chapters:
            tab.goto(f"{base}book/chapters/{page.name}")
            text = tab.page.locator("#cite-this-chapter pre").inner_text()
            library = bibtexparser.parse_string(text)
            assert not library.failed_blocks and len(library.entries) == 1, f"{page.name}: {text}"
            entry = library.entries[0]
            for field in ("author", "title", "booktitle", "year", "version", "url"):
                assert entry.get(field), f"{page.name}: no {field} in {text}"
            assert entry["url"].endswith(f"book/chapters/{page.name}")
            # The downloads it links are served.
            for link in tab.page.locator("#cite-this-chapter a").all():
                href = link.get_attribute("href")
                if "rnnbook-download-pdf" in (link.get_attribute("class") or "") and not (
                    html / "_downloads" / "pdf" / Path(href).name
                ).exists():
                    continue  # made by make pdf, not by make html; tests/test_pdf.py checks it once printed
                response = tab.page.request.get(tab.page.url.rsplit("/", 1)[0] + "/" + href)
                assert response.ok, f"{page.name}: download {href} answers {response.status}"
    finally:
        tab.close()


def test_404_page(browser, site, shots):
    base, _ = site
    tab = Tab(browser, base)
    try:
        response = tab.goto(base + "book/chapters/no-such-chapter.html")
        assert response.status == 404
        assert "Page not found" in tab.page.title()
        # Its styles and scripts load from the site (absolute links under the site's path):
        # the only failed request, and the only console error, is the missing page itself.
        assert tab.failed == [f"404 {base}book/chapters/no-such-chapter.html"], tab.failed
        errors = [e for e in tab.console_errors if "404 (Not Found)" not in e]
        assert len(tab.console_errors) - len(errors) == 1 and not errors, tab.console_errors
        assert not tab.external, tab.external
        tab.page.screenshot(path=str(shots / "404.png"))
        tab.page.get_by_role("link", name="contents of the book").click()
        tab.page.wait_for_url(re.compile(r".*/book/index\.html$"))
    finally:
        tab.close()


def _luminance(rgb: str) -> float:
    r, g, b = (int(x) / 255 for x in re.findall(r"\d+", rgb)[:3])
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    la, lb = sorted([_luminance(a), _luminance(b)], reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_light_and_dark_mode_are_readable(browser, site, shots, scheme):
    base, html = site
    tab = Tab(browser, base, viewport=DESKTOP, color_scheme=scheme)
    try:
        tab.goto(base + "book/chapters/why-memory.html")
        assert tab.page.evaluate("document.documentElement.dataset.theme") == scheme
        colors = tab.page.evaluate(
            """() => { const p = document.querySelector('article p');
                       return {text: getComputedStyle(p).color,
                               bg: getComputedStyle(document.body).backgroundColor}; }"""
        )
        assert _contrast(colors["text"], colors["bg"]) >= 7, colors  # WCAG AAA for body text
        assert (_luminance(colors["bg"]) < 0.1) == (scheme == "dark"), colors
        # Figures are drawn black on white: in dark mode they keep a white background.
        figure = tab.page.locator("article figure img").first
        figure.scroll_into_view_if_needed()
        if scheme == "dark":
            assert figure.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 255, 255)"
        tab.page.screenshot(path=str(shots / f"{scheme}-why-memory.png"))
        if AXE.exists():
            assert not run_axe(tab.page), f"axe-core in {scheme} mode"
        assert not tab.console_errors and not tab.external
    finally:
        tab.close()


def test_works_from_the_file_system(browser, site):
    """Opened straight from disk (file://, no server): math is typeset and search finds a chapter.

    Chromium blocks the search page's fetches of other pages from file:// (it uses
    them only for excerpts under each result), so those console errors are expected.
    """
    _, html = site
    tab = Tab(browser, "file://")
    try:
        tab.goto((html / "book" / "chapters" / "why-memory.html").as_uri())
        assert tab.page.evaluate("document.querySelectorAll('mjx-container').length") > 0
        assert tab.page.evaluate("[...document.fonts].some(f => f.family.startsWith('MJX') && f.status === 'loaded')")
        tab.goto((html / "search.html").as_uri() + "?q=feedforward")
        tab.page.wait_for_selector("#search-results li a", timeout=120_000)
        links = tab.page.eval_on_selector_all("#search-results li a", "els => els.map(e => e.href)")
        assert any("book/chapters/why-memory.html" in link for link in links), links
        assert not tab.external, tab.external
    finally:
        tab.close()
