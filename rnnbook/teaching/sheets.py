"""A sheet as files: the worksheet and the answer key, in Markdown (with math) and as printable HTML.

:func:`write_sheet` writes, for one student and chapter, into a folder:

- ``<chapter>-<student>-worksheet.md`` and ``.html``: the problems, the
  question ids, how each answer is marked, and how to hand answers in;
- ``<chapter>-<student>-answers.csv``: the answers file to fill in;
- ``<chapter>-<student>-key.md`` and ``.html``: the answers with worked steps;
- ``<chapter>-<student>-key.json``: the key that ``rnnbook check`` reads.

The HTML pages are self-contained (no script, no network): the math is
written with HTML sub- and superscripts and small tables for matrices, and a
print style sheet fits a sheet onto A4 or Letter; print them from the browser
to get a PDF.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import secrets
from pathlib import Path

from rnnbook.teaching.drafts import num, shape_text
from rnnbook.teaching.problems import Problem, Sheet

KEY_FORMAT = "rnnbook-answer-key"
KEY_VERSION = 1


def answer_text(part) -> str:
    """The key's answer as a student would write it."""
    if part.type == "yesno":
        return "yes" if part.answer else "no"
    if part.type == "shape":
        return shape_text(part.answer)
    if part.type == "integer":
        return str(int(part.answer))
    return num(part.answer)


def _stem(sheet: Sheet) -> str:
    return f"{sheet.chapter}-{sheet.student}"


def _code(text: str) -> str:
    """``text`` as one Markdown code span, whatever backticks it holds (CommonMark: a longer fence, spaced)."""
    if "`" not in text:
        return f"`{text}`"
    fence = "`" * (max(len(run) for run in re.findall("`+", text)) + 1)
    return f"{fence} {text} {fence}"


def _header(sheet: Sheet, what: str) -> str:
    salt = f", course salt {_code(sheet.salt)}" if sheet.salt else ""
    return (f"# Chapter {sheet.chapter_number} ({sheet.chapter}): {what}\n\n"
            f"Student: **{sheet.student}**{salt}.\n")


def _instructions(sheet: Sheet) -> str:
    stem = _stem(sheet)
    return (
        "Every number you need is on this sheet; a calculator is enough. Hand in your answers as a CSV file "
        f"with the header `question,answer` and one line per question id below (`{stem}-answers.csv` is a "
        "template), or as a JSON object mapping each question id to its answer, e.g. "
        '`{"q1a": 0.25, "q2a": "yes"}`. Numbers with a decimal point; yes/no questions as `yes` or `no`; '
        "shapes as a tuple in quotes, e.g. `\"(5, 3, 8)\"`."
    )


def worksheet_markdown(sheet: Sheet) -> str:
    """The worksheet in Markdown with ``$...$`` math."""
    lines = [_header(sheet, "worksheet"), _instructions(sheet), ""]
    for problem in sheet.problems:
        lines += [f"## Problem {problem.number}: {problem.title}", "", problem.text, ""]
        for index, part in enumerate(problem.parts):
            lines.append(f"- **{problem.question_id(index)}**: {part.prompt} (marked {part.describe_tolerance()})")
        lines.append("")
    return "\n".join(lines)


def key_markdown(sheet: Sheet) -> str:
    """The answer key in Markdown: every answer and the worked steps behind it."""
    lines = [_header(sheet, "answer key"), ""]
    for problem in sheet.problems:
        lines += [f"## Problem {problem.number}: {problem.title}", "", problem.text, ""]
        for index, part in enumerate(problem.parts):
            lines.append(f"- **{problem.question_id(index)}** ({part.prompt}): **{answer_text(part)}**")
        lines += ["", "Worked steps:", ""]
        lines += [f"{k}. {step}" for k, step in enumerate(problem.steps, 1)]
        lines.append("")
    return "\n".join(lines)


def key_json(sheet: Sheet) -> dict:
    """The key as data: what ``rnnbook check`` needs, and the given numbers of every problem."""
    questions = []
    for problem in sheet.problems:
        for index, part in enumerate(problem.parts):
            answer = list(part.answer) if part.type == "shape" else part.answer
            questions.append({
                "id": problem.question_id(index), "type": part.type,
                "answer": bool(answer) if part.type == "yesno" else answer,
                "tolerance": part.tolerance(), "prompt": part.prompt,
            })
    return {
        "format": KEY_FORMAT, "version": KEY_VERSION, "chapter": sheet.chapter, "student": sheet.student,
        "salt": sheet.salt, "questions": questions,
        "problems": [{"number": p.number, "kind": p.kind, "given": p.given} for p in sheet.problems],
    }


def answers_template(sheet: Sheet) -> str:
    """An answers CSV with every question id and an empty answer."""
    ids = [p.question_id(i) for p in sheet.problems for i in range(len(p.parts))]
    return "question,answer\n" + "".join(f"{qid},\n" for qid in ids)


# -- HTML ------------------------------------------------------------------------------------

_FN = '<span class="fn">{}</span>'  # function names upright, as in print
_TEX_WORDS = {
    r"\tanh": _FN.format("tanh"), r"\ln": _FN.format("ln") + " ", r"\exp": _FN.format("exp"),
    r"\max": _FN.format("max") + " ", r"\sigma": "σ", r"\odot": "⊙", r"\cdot": "·", r"\times": "×",
    r"\theta": "θ", r"\tau": "τ", r"\lambda": "λ", r"\gamma": "γ", r"\sum": "∑", r"\le": "≤", r"\ge": "≥",
    r"\dots": "…", r"\partial": "∂", r"\lceil": "⌈", r"\rceil": "⌉", r"\sqrt": "√",
}


def _matrix_html(body: str) -> str:
    rows = [row.split("&") for row in body.split(r"\\")]
    cells = "".join("<tr>" + "".join(f"<td>{html.escape(c.strip())}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="matrix">{cells}</table>'


def tex_to_html(tex: str) -> str:
    """The small TeX subset the generators write (sub/superscripts, Greek letters, pmatrix) as HTML."""
    pieces = re.split(r"\\begin\{pmatrix\}(.*?)\\end\{pmatrix\}", tex)
    out = []
    for k, piece in enumerate(pieces):
        if k % 2:
            out.append(_matrix_html(piece))
            continue
        text = html.escape(piece, quote=False)
        for word in sorted(_TEX_WORDS, key=len, reverse=True):
            text = re.sub(re.escape(word) + r"(?![A-Za-z])", _TEX_WORDS[word], text)
        text = re.sub(r"_\{([^{}]*)\}", r"<sub>\1</sub>", text)
        text = re.sub(r"_([A-Za-z0-9])", r"<sub>\1</sub>", text)
        text = re.sub(r"\^\{([^{}]*)\}", r"<sup>\1</sup>", text)
        text = re.sub(r"\^([A-Za-z0-9])", r"<sup>\1</sup>", text)
        out.append(text.replace("{", "").replace("}", ""))
    return '<span class="math">' + "".join(out) + "</span>"


def inline_html(markdown: str) -> str:
    """One paragraph of the generators' Markdown (``$math$``, ``**bold**``, ```code```) as HTML."""
    out = []
    for k, piece in enumerate(markdown.split("$")):
        if k % 2:
            out.append(tex_to_html(piece))
        else:
            text = html.escape(piece, quote=False)
            text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
            out.append(re.sub(r"`([^`]+)`", r"<code>\1</code>", text))
    return "".join(out)


_STYLE = """
body { font: 12pt/1.45 Georgia, "DejaVu Serif", serif; max-width: 46em; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #999; }
.math { font-family: "DejaVu Serif", serif; font-style: italic; }
.math .fn { font-style: normal; }
table.matrix { display: inline-table; vertical-align: middle; border-left: 1px solid; border-right: 1px solid;
  border-radius: 4px; border-collapse: separate; border-spacing: 6px 0; font-style: normal; }
table.matrix td { text-align: right; }
.answer { display: inline-block; min-width: 8em; border-bottom: 1px solid #333; margin-left: .5em; }
code { font-size: .95em; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } li, .problem { break-inside: avoid; } }
@page { size: A4; margin: 18mm 16mm; }
"""


def _page(title: str, body: list[str]) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def _problem_html(problem: Problem, with_key: bool) -> list[str]:
    body = [f'<section class="problem"><h2>Problem {problem.number}: {html.escape(problem.title)}</h2>',
            f"<p>{inline_html(problem.text)}</p>", "<ul>"]
    for index, part in enumerate(problem.parts):
        qid = problem.question_id(index)
        if with_key:
            body.append(f"<li><strong>{qid}</strong> ({inline_html(part.prompt)}): "
                        f"<strong>{html.escape(answer_text(part))}</strong></li>")
        else:
            body.append(f"<li><strong>{qid}</strong>: {inline_html(part.prompt)} "
                        f"<em>(marked {html.escape(part.describe_tolerance())})</em>"
                        '<span class="answer">&nbsp;</span></li>')
    body.append("</ul>")
    if with_key:
        body += ["<p>Worked steps:</p>", "<ol>"] + [f"<li>{inline_html(s)}</li>" for s in problem.steps] + ["</ol>"]
    return [*body, "</section>"]


def sheet_html(sheet: Sheet, *, with_key: bool) -> str:
    """The worksheet (``with_key=False``) or the answer key as one printable HTML page."""
    what = "answer key" if with_key else "worksheet"
    salt = f", course salt <code>{html.escape(sheet.salt)}</code>" if sheet.salt else ""
    body = [f"<h1>Chapter {sheet.chapter_number} ({sheet.chapter}): {what}</h1>",
            f"<p>Student: <strong>{html.escape(sheet.student)}</strong>{salt}.</p>"]
    if not with_key:
        body.append(f"<p>{inline_html(_instructions(sheet))}</p>")
    for problem in sheet.problems:
        body += _problem_html(problem, with_key)
    return _page(f"{sheet.chapter} {what} for {sheet.student}", body)


def write_sheet(sheet: Sheet, out: str | Path = ".") -> list[Path]:
    """Write the worksheet, the answers template and the key of ``sheet`` into the folder ``out``.

    Returns
    -------
    list of pathlib.Path
        The files written, worksheet first.
    """
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"expected a folder for the sheets, got the file {folder}")
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / _stem(sheet)
    files = {
        f"{stem}-worksheet.md": worksheet_markdown(sheet),
        f"{stem}-worksheet.html": sheet_html(sheet, with_key=False),
        f"{stem}-answers.csv": answers_template(sheet),
        f"{stem}-key.md": key_markdown(sheet),
        f"{stem}-key.html": sheet_html(sheet, with_key=True),
        f"{stem}-key.json": json.dumps(key_json(sheet), indent=1) + "\n",
    }
    for path, text in files.items():
        _write_new(Path(path), text)
    return [Path(p) for p in files]


def _write_new(path: Path, text: str) -> None:
    """Write ``text`` to a new file and rename it to ``path``: a link planted at ``path`` is replaced, not
    followed, and a failed write leaves no half-written sheet."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
