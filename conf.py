"""Sphinx configuration: one build for the book (book/), the gallery (gallery/) and the API.

The source directory is the repository root, so everything that is not a page
is excluded below.  Build with ``make html`` (warnings are errors).
"""

from __future__ import annotations

import datetime
import os
import sys
from urllib.parse import urlparse

# One BLAS thread for everything this build runs: the chapters' kernels inherit
# the environment, and the gallery scripts run in this process (numpy is not
# imported yet).  Two reasons: a float sum is ordered differently for another
# thread count, so pinning it makes two builds print the same numbers; and on a
# 2-core machine that is busy with anything else, a second BLAS thread waits on
# a busy core and makes the small matrix products of the book several times
# slower instead of faster.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

sys.path.insert(0, os.path.abspath("."))
sys.path.insert(0, os.path.abspath("book/_ext"))  # rnnbook_cite: "Cite this chapter" + downloads
sys.path.insert(0, os.path.abspath("benchmarks"))  # the benchmark's API page (book/api.md)
import rnnbook  # noqa: E402

project = "rnnbook: Recurrent Neural Networks, Explained"
author = "The rnnbook authors"
version = release = rnnbook.__version__
copyright = f"2026, {author}. Text and figures CC BY 4.0; code MIT"
today = datetime.date(2026, 11, 24).isoformat()
root_doc = "book/index"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax 3 served from _static/mathjax: the book works with no network
    "notfound.extension",  # sphinx-notfound-page: 404.html with absolute links
    "rnnbook_cite",
    "rnnbook_execute",  # runs the notebooks two at a time beside the gallery (book/_ext/rnnbook_execute.py)
    "rnnbook_a11y",  # fixes attributes of the themes that axe-core flags (see book/_ext/rnnbook_a11y.py)
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinxcontrib.bibtex",
    "sphinx_design",
    "sphinx_exercise",
    "sphinx_togglebutton",  # solutions with :class: dropdown fold away (sphinx-exercise relies on it)
    "sphinx_copybutton",
]

exclude_patterns = [
    "_build",
    ".venv",
    ".git",
    ".ci",
    ".github",
    ".pytest_cache",
    ".ruff_cache",
    "**/.ipynb_checkpoints",
    "README.md",
    "tests",
    "rnnbook",
    "gallery",
    "jupyter_execute",
    # sphinx-gallery writes a notebook beside every page it generates; myst-nb
    # would read those as second copies of the same documents.
    "examples/**/*.ipynb",
    "examples/*.ipynb",
    "sg_execution_times.rst",
    "examples/sg_execution_times.rst",
    "examples/**/sg_execution_times.rst",
]

# -- Notebooks (myst-nb) ------------------------------------------------------
nb_execution_mode = "cache"
# The cache keys on a notebook's code cells only, and sphinx-gallery on a
# script's own text, but the chapters and scripts print what rnnbook computes:
# after a change to the package, or to a trained model they load
# (book/trained), they must run again.  So the execution cache lives in a
# folder named after a hash of the package's sources and of those models, and
# the gallery forgets its run records when that hash changes.
import glob  # noqa: E402
import hashlib  # noqa: E402

_HERE = os.path.dirname(os.path.abspath(__file__))
# The teaching kit (worksheets) feeds no chapter, so editing it re-runs nothing.
PACKAGE_HASH = hashlib.sha256(
    b"".join(
        open(path, "rb").read()
        for path in sorted(glob.glob(os.path.join(_HERE, "rnnbook", "**", "*.py"), recursive=True))
        + sorted(glob.glob(os.path.join(_HERE, "book", "trained", "**", "*.npz"), recursive=True))
        if os.sep + "teaching" + os.sep not in path
    )
).hexdigest()[:16]
# One cache for every build of this checkout (make html and make test's build
# alike), so the chapters run once per change of the package or of a chapter.
nb_execution_cache_path = os.path.join(_HERE, "_build", ".jupyter_cache", PACKAGE_HASH)
_gallery_stamp = os.path.join("examples", ".rnnbook-package-hash")
if os.path.isdir("examples") and (
    not os.path.exists(_gallery_stamp) or open(_gallery_stamp).read() != PACKAGE_HASH
):
    for _record in glob.glob("examples/**/*.md5", recursive=True):
        os.remove(_record)
os.makedirs("examples", exist_ok=True)
with open(_gallery_stamp, "w") as _stamp:
    _stamp.write(PACKAGE_HASH)
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_timeout = 300
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "substitution"]
myst_dmath_double_inline = True
myst_heading_anchors = 3

# -- Cross-references, numbering ---------------------------------------------
nitpicky = True
# numpydoc's "Parameters" types are plain text; these are the external names
# that still become references (there is no network for intersphinx here).
nitpick_ignore_regex = [
    ("py:class", r"(numpy|np)\..*"),
    ("py:class", r"(optional|callable|dict|list|tuple|float|int|str|bool|sequence|default|of|or|shape|any)"),
]
numfig = True
math_numfig = True
math_eqref_format = "Eq. ({number})"
numfig_format = {"figure": "Fig. %s", "table": "Table %s", "code-block": "Listing %s"}
numfig_secnum_depth = 1

# -- API reference (autodoc + numpydoc) ---------------------------------------
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "undoc-members": False}
numpydoc_show_class_members = False
numpydoc_validation_checks: set[str] = set()

# -- Bibliography --------------------------------------------------------------
bibtex_bibfiles = ["book/refs.bib"]
bibtex_default_style = "plain"
bibtex_reference_style = "author_year"

# -- Gallery (sphinx-gallery) ----------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": ["gallery"],
    "gallery_dirs": ["examples"],
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py|/_",
    "within_subsection_order": "FileNameSortKey",
    "plot_gallery": "True",
    "download_all_examples": True,
    "doc_module": ("rnnbook",),
    "backreferences_dir": "_build/backreferences",
    "reference_url": {"rnnbook": None},
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 1,
}
# Parts of the gallery in the book's order (a folder not listed here fails the
# build, so a new part cannot be forgotten).
sphinx_gallery_conf["subsection_order"] = [
    "gallery/memory",    # chapters 1-4
    "gallery/learning",  # chapters 5-6
    "gallery/gates",     # chapter 8
    "gallery/text",      # chapter 9
    "gallery/beyond",    # chapter 10 on
]

# -- HTML -----------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = "rnnbook"
html_baseurl = os.environ.get("RNNBOOK_BASEURL", "https://rnnbook.github.io/rnnbook/")
html_static_path = ["book/_static"]
html_css_files = ["rnnbook.css", "print.css"]  # print.css: printing and make pdf
html_js_files = ["gradient-explorer.js"]  # attaches only where <div id="gradient-explorer"> exists
# The 404 page links with absolute paths under the site's path (/rnnbook/ on GitHub Pages).
notfound_urls_prefix = urlparse(html_baseurl).path or "/"
notfound_context = {
    "title": "Page not found",
    "body": "<h1>Page not found</h1><p>This page does not exist (any more). Start again from the "
    f'<a href="{notfound_urls_prefix}book/index.html">contents of the book</a>, or use the search.</p>',
}
html_extra_path = ["book/_extra"]
html_last_updated_fmt = ""
html_theme_options = {
    "repository_url": "https://github.com/rnnbook/rnnbook",
    "path_to_docs": ".",
    "use_download_button": True,
    "use_source_button": False,
    "show_toc_level": 2,
    "extra_footer": (
        f"<p>rnnbook {release}. Text and figures licensed "
        "CC BY 4.0; code licensed MIT. Reuse with attribution.</p>"
    ),
}
html_sidebars: dict[str, list[str]] = {}
# Without a default, pydata-sphinx-theme logs a console error on a reader's first visit.
html_context = {"default_mode": "auto"}
suppress_warnings = ["mystnb.unknown_mime_type"]
myst_substitutions = {"version": release, "baseurl": html_baseurl}


# -- Links between chapters, examples and the API --------------------------------
# Each gallery script names its chapter in its docstring (:ref:`label`); that is
# the one source of truth for "which examples belong to which chapter".  Every
# chapter page gets a mini-gallery of its scripts, and every function or class
# of the API reference gets a mini-gallery of the scripts that use it
# (sphinx-gallery's backreferences).  sphinx-gallery has no option that does
# either for MyST chapters or plain autodoc pages, hence these few lines.
import re  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent


def examples_by_chapter() -> dict[str, list[str]]:
    """Map a chapter label to the gallery scripts whose docstring links to it."""
    found: dict[str, list[str]] = {}
    for script in sorted(ROOT.glob("gallery/*/plot_*.py")):
        docstring = script.read_text(encoding="utf-8").split('"""')[1]
        for label in re.findall(r":ref:`([\w-]+)`", docstring):
            found.setdefault(label, []).append(script.relative_to(ROOT).as_posix())
    return found


def add_examples_to_chapter(app, docname: str, source: list[str]) -> None:
    if not docname.startswith("book/chapters/"):
        return
    label = re.search(r"^\(([\w-]+)\)=", source[0], flags=re.M)
    scripts = examples_by_chapter().get(label.group(1), []) if label else []
    if scripts:
        # Links to the pages sphinx-gallery makes (its label for gallery/a/b.py
        # is sphx_glr_examples_a_b.py).  The minigallery directive cannot run
        # inside a MyST notebook, so the chapter gets a plain list.
        links = [f"- {{ref}}`sphx_glr_examples_{Path(s).parent.name}_{Path(s).name}`" for s in scripts]
        source[0] += "\n\n## Run the examples\n\n" + "\n".join(links) + "\n"


def add_examples_to_api(app, what, name, obj, options, lines) -> None:
    if what not in ("function", "class"):
        return
    names = [name]
    short = name.rsplit(".", 1)[-1]
    if getattr(rnnbook, short, None) is obj:
        names.append(f"rnnbook.{short}")
    lines.extend(["", f".. minigallery:: {' '.join(names)}", f"   :add-heading: Examples using ``{short}``", ""])


def chapters_with_new_examples(app, env, added, changed, removed) -> list[str]:
    """Re-read a chapter when its list of examples changed (its own file may not have)."""
    current = examples_by_chapter()
    previous = getattr(env, "rnnbook_examples", {})
    env.rnnbook_examples = current
    labels = {k for k in current.keys() | previous.keys() if current.get(k) != previous.get(k)}
    chapters = [doc for doc in env.found_docs if doc.startswith("book/chapters/")]
    return [doc for doc in chapters if any(f"({label})=" in _head(doc) for label in labels)]


def _head(docname: str) -> str:
    path = ROOT / f"{docname}.md"
    return path.read_text(encoding="utf-8")[:600] if path.exists() else ""


def setup(app):
    app.connect("env-get-outdated", chapters_with_new_examples)
    app.connect("source-read", add_examples_to_chapter)
    app.connect("autodoc-process-docstring", add_examples_to_api, priority=900)
