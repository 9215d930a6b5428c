"""How long a chapter takes to read, computed from its MyST source: the reading times of the teachers page.

The rule (:func:`reading_time`): the words of prose at :data:`WORDS_PER_MINUTE`,
plus one minute for every :data:`LINES_PER_MINUTE` lines of code or display math
that the reader sees.  Prose is everything outside code and math, including
the admonitions, the exercises and the figures' captions, but not the hints
and solutions that fold away (reading those is part of doing the exercises);
a glued number or a reference counts as one word.  Code is
every code cell that is shown (not tagged ``remove-cell``, ``remove-input`` or
``hide-input``), every ``literalinclude`` (the lines of its ``:pyobject:``) and
every plain fenced block (a shell command, say).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

#: The reading speed for prose with new ideas in it, in words per minute.
WORDS_PER_MINUTE = 130
#: Lines of code or display math read per minute.
LINES_PER_MINUTE = 10

_FENCE = re.compile(r"^(`{3,}|~{3,})\s*(\{[\w:-]+\}|[\w+-]*)\s*(.*)$")
_HIDDEN_TAGS = ("remove-cell", "remove-input", "hide-input")
_SKIPPED = ("{toctree}", "{raw}", "{eval-rst}")
_WORD = re.compile(r"[^\W_](?:[\w'’-]*\w)?")


@dataclass(frozen=True)
class ReadingTime:
    """What a chapter holds for a reader, and the minutes it takes by the rule of this module."""

    words: int
    code_lines: int

    @property
    def minutes(self) -> float:
        return self.words / WORDS_PER_MINUTE + self.code_lines / LINES_PER_MINUTE


def _included_lines(path: Path, options: dict[str, str]) -> int:
    """The non-blank lines a ``literalinclude`` of ``path`` shows: its ``:pyobject:``, cut by ``:start-at:`` etc."""
    rows = path.read_text(encoding="utf-8").splitlines()
    name = options.get("pyobject", "").strip()
    if name:
        nodes: list[ast.AST] = [ast.parse("\n".join(rows))]
        for part in name.split("."):
            found = [n for parent in nodes for n in ast.iter_child_nodes(parent)
                     if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and n.name == part]
            if not found:
                raise ValueError(f"{path} has no {name!r} to include")
            nodes = found[:1]
        node = nodes[0]
        first = min([node.lineno] + [d.lineno for d in node.decorator_list])
        rows = rows[first - 1 : node.end_lineno]
    for option, keep_match, from_start in (("start-at", True, True), ("start-after", False, True),
                                           ("end-at", True, False), ("end-before", False, False)):
        marker = options.get(option, "").strip()
        at = next((k for k, row in enumerate(rows) if marker and marker in row), None)
        if at is not None:
            rows = rows[at + (not keep_match) :] if from_start else rows[: at + keep_match]
    return sum(1 for row in rows if row.strip())


def _dropdown(lines: list[str], opener: int) -> bool:
    """Whether the colon-fenced directive opened at line ``opener`` has the option ``:class: dropdown``."""
    for line in lines[opener + 1 :]:
        if not re.match(r"^:[\w-]+:", line):
            return False
        if re.match(r"^:class:.*\bdropdown\b", line):
            return True
    return False


def _prose_words(line: str) -> int:
    line = re.sub(r"\{[\w:-]+\}`([^`]*)`", lambda m: "x" if "<" not in m[1] else m[1].split("<")[0], line)
    line = re.sub(r"\$[^$]+\$", "x", line)  # inline math: one word
    line = re.sub(r"\]\([^)]*\)", "]", line)  # the target of a link
    return len(_WORD.findall(line))


def reading_time(path: str | Path) -> ReadingTime:
    """Count the words of prose and the lines of code and display math that a chapter shows.

    Parameters
    ----------
    path : str or pathlib.Path
        A chapter's MyST Markdown source; ``literalinclude`` paths are read
        relative to it.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"\A---\n.*?\n---\n", "", text, count=1, flags=re.S)  # front matter
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    lines = text.splitlines()
    words = code = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == fence[1]), len(lines))
            body = lines[i + 1 : end]
            options = dict(re.match(r"^:([\w-]+):\s*(.*)$", b).groups() for b in body if re.match(r"^:[\w-]+:", b))
            content = [b for b in body if b.strip() and not re.match(r"^:[\w-]+:", b)]
            kind = fence[2]
            if kind == "{code-cell}":
                if not any(tag in options.get("tags", "") for tag in _HIDDEN_TAGS):
                    code += len(content)
            elif kind == "{literalinclude}":
                code += _included_lines((path.parent / fence[3].strip()).resolve(), options)
            elif kind == "{math}" or not kind.startswith("{"):  # display math, or a plain block of code
                code += len(content)
            elif kind not in _SKIPPED:  # a figure's caption, an admonition: prose
                words += sum(_prose_words(b) for b in content)
            i = end + 1
            continue
        if line.strip().startswith("$$"):
            end = i if line.strip().endswith("$$") and len(line.strip()) > 2 else next(
                (j for j in range(i + 1, len(lines)) if lines[j].strip().endswith("$$")), len(lines)
            )
            code += end - i + 1
            i = end + 1
            continue
        folded = re.match(r"^(:{3,})\{([\w:-]+)\}", line)
        if folded and (folded[2] == "solution" or _dropdown(lines, i)):
            # a hint or a solution folds away: reading it is part of doing the exercise
            i = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == folded[1]), len(lines)) + 1
            continue
        if not re.match(r"^(:{3,}|:[\w-]+:|\([\w-]+\)=)", line):  # colon fences, options and labels are markup
            words += _prose_words(line)
        i += 1
    return ReadingTime(words=words, code_lines=code)
