"""Grading a filled-in answers file against a key written by :func:`rnnbook.teaching.sheets.write_sheet`.

The answers file is what the worksheet describes: a CSV with the header
``question,answer`` and one line per question id, or a JSON object mapping
question ids to answers.  Numbers are right within the question's tolerance
(stored in the key), integers, shapes and yes/no answers must match exactly, a
question left out or left blank is wrong.  Anything else (a missing file, a
file that is neither CSV nor JSON, a question id the key does not have, an
answer that is not a number) is a :class:`GradingError` with a one-line message.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from rnnbook.teaching.drafts import ANSWER_TYPES
from rnnbook.teaching.sheets import KEY_FORMAT, KEY_VERSION

_YES = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False, "false": False, "0": False}


class GradingError(ValueError):
    """A key or answers file that cannot be graded; the message is one line."""


@dataclass(frozen=True)
class Mark:
    """The mark of one question."""

    question: str
    right: bool
    given: str  # the answer as written, "" if missing
    expected: str  # the key's answer, as text
    tolerance: float


@dataclass(frozen=True)
class Report:
    """Every question's mark, in the key's order."""

    marks: list

    @property
    def right(self) -> int:
        return sum(m.right for m in self.marks)

    @property
    def total(self) -> int:
        return len(self.marks)

    def format(self) -> str:
        """One line per question, then the total."""
        width = max(len(m.question) for m in self.marks)
        lines = []
        for m in self.marks:
            tol = f" (tolerance {m.tolerance:g})" if m.tolerance else ""
            # a shape's spaces may be line breaks, tabs or "\u2028" (re's \s): shown escaped, one line per question
            given = (m.given if m.given.isprintable() else repr(m.given)) if m.given else "(no answer)"
            lines.append(f"{m.question:<{width}}  {'right' if m.right else 'WRONG'}  {given}  key: {m.expected}{tol}")
        lines.append(f"total: {self.right}/{self.total} right ({100 * self.right / self.total:.0f}%)")
        return "\n".join(lines)


#: The largest key or answers file read (a real one is a few kilobytes).
MAX_FILE_BYTES = 2**22
#: The longest answer read (a number or a shape needs a few dozen characters).
MAX_ANSWER_CHARS = 100
_QUESTION_ID = re.compile(r"q[1-9][0-9]{0,2}[a-z]")


def _read(path: str | Path, what: str) -> str:
    path = Path(path)
    if not path.exists():
        raise GradingError(f"expected the {what} file {path}, found no such file")
    if not path.is_file():
        raise GradingError(f"expected the {what} file {path}, found something that is not a regular file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise GradingError(f"{what} {path}: expected a file of at most {MAX_FILE_BYTES // 2**20} MiB, "
                           f"got {path.stat().st_size:,} bytes")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise GradingError(f"{what} {path}: expected a UTF-8 text file (CSV or JSON), got binary data") from None


def load_key(path: str | Path) -> dict:
    """Read and check a key file (``*-key.json``)."""
    key = _parse_json(_read(path, "key"), f"key {path}: expected the JSON answer key 'rnnbook problems' writes")
    if not isinstance(key, dict) or key.get("format") != KEY_FORMAT:
        raise GradingError(f"key {path}: expected an answer key written by 'rnnbook problems' (*-key.json), "
                           "got another kind of file")
    if key.get("version") != KEY_VERSION or not isinstance(key.get("questions"), list) or not key["questions"]:
        raise GradingError(f"key {path}: expected key format version {KEY_VERSION} with questions, "
                           f"got version {key.get('version')!r}")
    seen = set()
    for index, question in enumerate(key["questions"]):
        problem = _question_problem(question)
        if problem:
            raise GradingError(f"key {path}: question {index + 1}: expected {problem}")
        if question["id"] in seen:
            raise GradingError(f"key {path}: expected each question id once, got {question['id']} twice")
        seen.add(question["id"])
    return key


def _is_number(value: object) -> bool:
    # abs(x) < 1e300 compares an int of any size without converting it to a float (which could overflow)
    return isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < 1e300


def _question_problem(question: object) -> str:
    """What is wrong with one question of a key, or "" (the key is the teacher's, but a file can be anything)."""
    if not isinstance(question, dict):
        return f"an object with id, type, answer and tolerance, got a JSON {type(question).__name__}"
    qid, kind, answer = question.get("id"), question.get("type"), question.get("answer")
    if not isinstance(qid, str) or not _QUESTION_ID.fullmatch(qid):
        return f"an id like q1a, got {qid!r}"
    if kind not in ANSWER_TYPES:
        return f"a type among {', '.join(ANSWER_TYPES)}, got {kind!r}"
    if "answer" not in question:
        return "an answer, got none"
    good = {
        "number": _is_number(answer),
        "integer": isinstance(answer, int) and not isinstance(answer, bool) and abs(answer) < 2**63,
        "shape": isinstance(answer, list) and 0 < len(answer) <= 10
        and all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**63 for n in answer),
        "yesno": isinstance(answer, bool),
    }[kind]
    if not good:
        return f"the answer of a {kind} question, got {str(answer)[:40]!r}"
    tolerance = question.get("tolerance", 0.0)
    if (kind == "number" and "tolerance" not in question) or not _is_number(tolerance) or tolerance < 0:
        return f"a tolerance, a number >= 0, got {str(tolerance)[:40]!r}"
    return ""


def load_answers(path: str | Path) -> dict[str, str]:
    """Read an answers file, CSV (``question,answer``) or JSON (an object), into question id -> answer text."""
    path = Path(path)
    text = _read(path, "answers")
    suffix = path.suffix.lower()
    if suffix == ".json" or (suffix != ".csv" and text.lstrip().startswith("{")):
        return _answers_json(path, text)
    if suffix == ".csv" or text.lstrip().lower().startswith("question"):
        return _answers_csv(path, text)
    raise GradingError(f"answers {path}: expected a CSV file (header 'question,answer') or a JSON object, "
                       f"got a {suffix or 'suffix-less'} file that is neither")


def _parse_json(text: str, expected: str) -> object:
    """``json.loads(text)``, or a one-line GradingError: ``expected`` (what and where), then what was got."""
    try:
        return json.loads(text, object_pairs_hook=_object_once)
    except json.JSONDecodeError as err:
        raise GradingError(f"{expected}, got invalid JSON ({err.msg} at line {err.lineno})") from None
    except RecursionError:
        raise GradingError(f"{expected}, got lists or objects nested too deeply to read") from None
    except _Repeated as err:
        raise GradingError(f"{expected}, got {_shown(err.args[0])} twice") from None


class _Repeated(Exception):
    """A key given twice in one JSON object."""


def _object_once(pairs: list) -> dict:
    """A JSON object as a dict, refusing a key given twice (``json`` would keep the last silently)."""
    out = {}
    for name, value in pairs:
        if name in out:
            raise _Repeated(name)
        out[name] = value
    return out


def _shown(text: str) -> str:
    """``text`` (from a file) cut to 40 characters, quoted and escaped if it holds anything unprintable."""
    return text[:40] if text.isprintable() else repr(text[:40])


def _answers_json(path: Path, text: str) -> dict[str, str]:
    data = _parse_json(text, f"answers {path}: expected a JSON object of question ids to answers")
    if not isinstance(data, dict):
        raise GradingError(f"answers {path}: expected a JSON object of question ids to answers, "
                           f"got a JSON {type(data).__name__}")
    answers = {}
    for qid, value in data.items():
        if isinstance(value, list):
            value = "(" + ", ".join(str(v) for v in value) + ")"
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        elif value is None:
            value = ""
        qid = qid.strip()
        if qid in answers:  # " q1a" and "q1a"
            raise GradingError(f"answers {path}: expected each question once, got {_shown(qid)} twice")
        answers[qid] = str(value).strip()
    return answers


def _answers_csv(path: Path, text: str) -> dict[str, str]:
    try:
        rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    except csv.Error as err:  # a field longer than the csv module's limit (128 KiB), say
        raise GradingError(f"answers {path}: expected a CSV file of short answers, got unreadable CSV ({err})") \
            from None
    if not rows or [c.strip().lower() for c in rows[0]] != ["question", "answer"]:
        found = ",".join(rows[0]) if rows else "an empty file"
        raise GradingError(f"answers {path}: expected a CSV file whose first line is 'question,answer', got {found!r}")
    answers = {}
    for line, row in enumerate(rows[1:], 2):
        if len(row) != 2:
            raise GradingError(f"answers {path}: expected two columns (question,answer) on every line, "
                               f"got {len(row)} on line {line}: {','.join(row)!r}")
        qid = row[0].strip()
        if qid in answers:
            raise GradingError(f"answers {path}: expected each question once, got {qid} twice")
        answers[qid] = row[1].strip()
    return answers


def _parse(qid: str, kind: str, text: str):
    if len(text) > MAX_ANSWER_CHARS:  # (also keeps the shape pattern's backtracking short)
        raise GradingError(f"answer to {qid}: expected at most {MAX_ANSWER_CHARS} characters, "
                           f"got {len(text):,}: {text[:20]!r}...")
    if kind == "yesno":
        if text.lower() not in _YES:
            raise GradingError(f"answer to {qid}: expected yes or no, got {text!r}")
        return _YES[text.lower()]
    if kind == "shape":
        if not re.fullmatch(r"\(?\s*\d+(\s*[,x×]\s*\d+)*\s*,?\s*\)?", text):
            raise GradingError(f"answer to {qid}: expected a shape like (5, 3, 8), got {text!r}")
        return tuple(int(n) for n in re.findall(r"\d+", text))
    try:
        value = float(text)
    except ValueError:
        raise GradingError(f"answer to {qid}: expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise GradingError(f"answer to {qid}: expected a finite number, got {text!r}")
    return value


def _expected_text(question: dict) -> str:
    answer = question["answer"]
    if question["type"] == "yesno":
        return "yes" if answer else "no"
    if question["type"] == "shape":
        return "(" + ", ".join(str(n) for n in answer) + ")"
    return f"{answer:.6g}" if isinstance(answer, float) else str(answer)


def grade(key: dict, answers: dict[str, str], *, answers_name: str = "answers") -> Report:
    """Mark ``answers`` (question id -> text) against a loaded ``key``."""
    known = [q["id"] for q in key["questions"]]
    unknown = [qid for qid in answers if qid not in known]
    if unknown:
        raise GradingError(f"{answers_name}: expected question ids {known[0]} ... {known[-1]} of this key, "
                           f"got unknown id(s) {', '.join(unknown[:5])}")
    marks = []
    for question in key["questions"]:
        qid, kind = question["id"], question["type"]
        text = answers.get(qid, "")
        if text == "":
            marks.append(Mark(qid, False, "", _expected_text(question), question.get("tolerance", 0.0)))
            continue
        value = _parse(qid, kind, text)
        if kind == "number":
            right = abs(value - float(question["answer"])) <= float(question["tolerance"]) + 1e-12
        elif kind == "shape":
            right = value == tuple(question["answer"])
        elif kind == "integer":
            right = value == int(question["answer"])
        else:
            right = value == bool(question["answer"])
        marks.append(Mark(qid, bool(right), text, _expected_text(question), question.get("tolerance", 0.0)))
    return Report(marks)


def check(key_path: str | Path, answers_path: str | Path) -> Report:
    """Grade the answers file ``answers_path`` with the key ``key_path`` (both as the worksheet describes)."""
    key = load_key(key_path)
    return grade(key, load_answers(answers_path), answers_name=f"answers {answers_path}")
