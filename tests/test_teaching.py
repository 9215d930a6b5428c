"""The teaching kit: every kind of problem, the sheets, the grading and the two commands.

Every generator's answer is recomputed here from the numbers printed in its
question, with code that does not go through the function the generator
called: plain numpy formulas, numerical differentiation (rnnbook.gradcheck) for
the gradient, and torch.nn where PyTorch is installed.  "No hidden parameter"
is checked by finding every given number, in order, among the numbers of the
question's text.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnnbook.analysis.gradcheck import numerical_gradient
from rnnbook.teaching import CHAPTERS, KINDS, GradingError, check, make_sheet, write_sheet
from rnnbook.teaching.grading import grade, load_key
from rnnbook.teaching.problems import resolve_chapter
from rnnbook.teaching.reading import LINES_PER_MINUTE, WORDS_PER_MINUTE, reading_time
from rnnbook.teaching.sheets import key_json, tex_to_html

ROOT = Path(__file__).resolve().parents[1]
DRAWS = 25  # problems drawn per kind


def drafts(kind: str):
    return [KINDS[kind](np.random.default_rng([7, i])) for i in range(DRAWS)]


def answers_of(draft) -> list:
    return [part.answer for part in draft.parts]


def numbers_in(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", text)]


def flat(value) -> list[float]:
    return [float(v) for v in np.ravel(np.asarray(value, dtype=float))]


def close(parts, expected) -> None:
    """Every numeric part within a tenth of its tolerance of the independent value (exact ones equal)."""
    assert len(parts) == len(expected)
    for part, value in zip(parts, expected, strict=True):
        if part.type == "number":
            assert abs(part.answer - value) <= max(part.tolerance() / 10, 1e-9), (part.prompt, part.answer, value)
        else:
            assert part.answer == value, (part.prompt, part.answer, value)


# -- Each kind, recomputed ------------------------------------------------------------------


def test_every_kind_is_tested():
    """Each kind has a test_kind_<kind> (or test_kind_<kind>_and_<kind>) below."""
    tested = {kind for name in globals() if name.startswith("test_kind_")
              for kind in name[len("test_kind_"):].split("_and_")}
    assert tested == set(KINDS), set(KINDS) ^ tested


def test_kind_state_trace():
    for d in drafts("state_trace"):
        g = d.given
        w_l, w, b = np.array(g["W_l"]), np.array(g["W"]), np.array(g["b"])
        h, expected = np.zeros(2), []
        for x in g["x"]:
            h = np.tanh(w_l[:, 0] * x + w @ h + b)
            expected += list(h)
        close(d.parts, expected)


def test_state_trace_matches_torch(torch):
    for d in drafts("state_trace"):
        g = d.given
        rnn = torch.nn.RNN(1, 2, dtype=torch.float64)
        with torch.no_grad():
            rnn.weight_ih_l0.copy_(torch.tensor(g["W_l"]))
            rnn.weight_hh_l0.copy_(torch.tensor(g["W"]))
            rnn.bias_ih_l0.copy_(torch.tensor(g["b"]))
            rnn.bias_hh_l0.zero_()
            out, _ = rnn(torch.tensor(g["x"], dtype=torch.float64).reshape(3, 1, 1))
        close(d.parts, out.reshape(-1).tolist())


GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _cell_of(draft) -> str:
    title = draft.title.lower()
    return "lstm" if "lstm" in title else "gru" if "gru" in title else "rnn"


@pytest.mark.parametrize("kind", ["parameter_count", "gated_parameter_count"])
def test_kind_parameter_count_and_gated_parameter_count(kind):
    seen = set()
    for d in drafts(kind):
        cell, g = _cell_of(d), d.given
        seen.add(cell)
        n, inputs, hidden = GATES[cell], g["I"], g["H"]
        one = n * hidden * inputs + n * hidden * hidden + 2 * n * hidden
        second = g["T"] * one if cell == "rnn" else n * hidden * hidden
        close(d.parts, [one, second])
        if cell != "rnn":
            assert f"{n} gate blocks" in d.text, d.text
    assert seen == ({"rnn"} if kind == "parameter_count" else {"lstm", "gru"})


def test_parameter_count_matches_torch(torch):
    for kind in ("parameter_count", "gated_parameter_count"):
        for d in drafts(kind)[:8]:
            layer = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[_cell_of(d)]
            assert d.parts[0].answer == sum(p.numel() for p in layer(d.given["I"], d.given["H"]).parameters())


def test_kind_gradient_factor():
    answers = set()
    for d in drafts("gradient_factor"):
        g = d.given
        lam = np.linalg.svd(np.array(g["W"]), compute_uv=False)[0]
        per_step = g["gamma"] * lam
        close(d.parts, [per_step, per_step ** g["lag"], bool(per_step < 1)])
        answers.add(d.parts[2].answer)
    assert answers == {True, False}, "the draws should ask both ways"


def test_kind_clipping():
    for d in drafts("clipping"):
        g = d.given
        entries = np.array([*g["g_W"], g["g_b"]])
        norm = float(np.sqrt((entries**2).sum()))
        scale = min(1.0, g["theta"] / (norm + 1e-6))
        close(d.parts, [norm, *(entries * scale)])


def test_clipping_matches_torch(torch):
    for d in drafts("clipping"):
        g = d.given
        w = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
        b = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
        w.grad, b.grad = torch.tensor(g["g_W"], dtype=torch.float64), torch.tensor([g["g_b"]], dtype=torch.float64)
        norm = torch.nn.utils.clip_grad_norm_([w, b], g["theta"])
        close(d.parts, [float(norm), *w.grad.tolist(), *b.grad.tolist()])


def test_kind_lstm_step():
    for d in drafts("lstm_step"):
        g = {k: np.array(v) for k, v in d.given.items()}
        c = g["f"] * g["c_prev"] + g["i"] * g["g"]
        close(d.parts, [*c, *(g["o"] * np.tanh(c))])


def test_lstm_step_matches_torch(torch):
    for d in drafts("lstm_step")[:10]:
        g = {k: torch.tensor(v, dtype=torch.float64) for k, v in d.given.items()}
        cell = torch.nn.LSTMCell(1, 2, dtype=torch.float64)
        with torch.no_grad():
            cell.weight_ih.zero_()
            cell.weight_hh.zero_()
            cell.bias_hh.zero_()
            cell.bias_ih.copy_(torch.cat([torch.logit(g["i"]), torch.logit(g["f"]), torch.atanh(g["g"]),
                                          torch.logit(g["o"])]))
            h, c = cell(torch.zeros(1, 1, dtype=torch.float64), (torch.zeros(1, 2, dtype=torch.float64),
                                                                 g["c_prev"][None]))
        close(d.parts, [*c[0].tolist(), *h[0].tolist()])


def test_kind_softmax_temperature():
    for d in drafts("softmax_temperature"):
        z = np.array(d.given["y"]) / d.given["tau"]
        e = np.array([math.exp(v) for v in z])
        close(d.parts, list(e / e.sum()))


def test_softmax_temperature_matches_torch(torch):
    for d in drafts("softmax_temperature"):
        p = torch.softmax(torch.tensor(d.given["y"], dtype=torch.float64) / d.given["tau"], dim=0)
        close(d.parts, p.tolist())


def test_kind_attention_weights():
    for d in drafts("attention_weights"):
        s, q = np.array(d.given["h"]), np.array(d.given["h'"])
        e = [math.exp(sum(si * qi for si, qi in zip(row, q, strict=True))) for row in s]  # e_t = d . s_t
        a = [v / sum(e) for v in e]
        context = [sum(a[t] * s[t][j] for t in range(3)) for j in range(2)]
        close(d.parts, a + context)


def test_kind_uniform_loss():
    for d in drafts("uniform_loss"):
        close(d.parts, [math.log(d.given["V"]), -math.log(d.given["p"])])


def test_kind_four_shapes():
    kinds = set()
    for d in drafts("four_shapes"):
        g = d.given
        x, states = (g["T"], g["B"], g["I"]), (g["T"], g["B"], g["H"])
        if "many-to-one" in d.title:
            expected = [x, states, (g["B"], g["answers"])]
        elif "aligned" in d.title:
            expected = [x, states, (g["T"], g["B"], g["answers"])]
        else:
            expected = [x, (g["B"], g["H"]), (g["T_out"], g["B"], g["answers"])]
        kinds.add(d.title)
        close(d.parts, expected)
    assert len(kinds) == 3


def test_kind_tbptt_chunks():
    answers = set()
    for d in drafts("tbptt_chunks"):
        g = d.given
        chunks = -(-g["T"] // g["window"])
        same_chunk = (g["late"] - 1) // g["window"] == (g["early"] - 1) // g["window"]
        close(d.parts, [chunks, g["T"] - (chunks - 1) * g["window"], same_chunk])
        answers.add(same_chunk)
    assert answers == {True, False}


def _two_steps(w_l, w, b, h0, x):
    h1 = math.tanh(w_l * x[0] + w * h0 + b)
    return h1, math.tanh(w_l * x[1] + w * h1 + b)


def test_kind_bptt_gradient():
    """h_1, h_2 by the formula; dL/dw by numerical differentiation (central differences)."""
    for d in drafts("bptt_gradient"):
        g = d.given
        weight = np.array([g["w"]])

        def loss(g=g, weight=weight):
            return _two_steps(g["w_l"], float(weight[0]), g["b"], g["h0"], g["x"])[1]

        numerical = float(numerical_gradient(loss, weight)[0])
        close(d.parts, [*_two_steps(g["w_l"], g["w"], g["b"], g["h0"], g["x"]), numerical])


def test_bptt_gradient_matches_torch_autograd(torch):
    for d in drafts("bptt_gradient"):
        g = d.given
        w = torch.tensor(g["w"], dtype=torch.float64, requires_grad=True)
        h = torch.tensor(g["h0"], dtype=torch.float64)
        for x in g["x"]:
            h = torch.tanh(g["w_l"] * x + w * h + g["b"])
        h.backward()
        assert abs(d.parts[2].answer - float(w.grad)) < 1e-12


# -- Every problem is solvable from its text ------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_given_number_is_printed_in_the_question(kind):
    for d in drafts(kind):
        printed = numbers_in(d.text)
        for name, value in d.given.items():
            wanted = flat(value)
            found = any(printed[i:i + len(wanted)] == wanted for i in range(len(printed) - len(wanted) + 1))
            assert found, f"{kind}: {name} = {wanted} is not printed in order in: {d.text}"
        assert d.steps and all(p.prompt for p in d.parts)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_numbers_are_nice(kind):
    """Given numbers are small and have at most two decimals: a calculator is enough."""
    for d in drafts(kind):
        for name, value in d.given.items():
            for v in flat(value):
                assert abs(v) <= 1000 and abs(v * 100 - round(v * 100)) < 1e-9, (kind, name, v)


# -- Sheets ------------------------------------------------------------------------------------


def test_every_chapter_of_the_book_has_three_kinds():
    toctree = re.findall(r"^chapters/([\w-]+)\s*$", (ROOT / "book" / "index.md").read_text(encoding="utf-8"), re.M)
    assert list(CHAPTERS) == toctree
    for slug, kinds in CHAPTERS.items():
        assert len(set(kinds)) >= 3 and set(kinds) <= set(KINDS), slug


def test_chapters_by_number_or_slug():
    number = list(CHAPTERS).index("gates") + 1
    assert resolve_chapter(str(number)) == resolve_chapter(number) == "gates"
    for bad in ("0", "99", "gatez", ""):
        with pytest.raises(ValueError, match="expected a chapter"):
            resolve_chapter(bad)


@pytest.mark.parametrize("slug", list(CHAPTERS))
def test_same_id_same_sheet_other_id_or_salt_other_sheet(slug):
    one = key_json(make_sheet(slug, "s001", count=4))
    assert one == key_json(make_sheet(slug, "s001", count=4))
    assert one["questions"] != key_json(make_sheet(slug, "s002", count=4))["questions"]
    assert one["questions"] != key_json(make_sheet(slug, "s001", count=4, salt="2026-spring"))["questions"]
    kinds = [p["kind"] for p in one["problems"]]
    assert kinds[:3] == list(CHAPTERS[slug])[:3]
    # More problems extend the sheet: the first ones stay the same.
    assert key_json(make_sheet(slug, "s001", count=6))["problems"][:4] == one["problems"]


def test_bad_student_ids_and_counts():
    for bad in ("", "a b", "../x", "-x", "x" * 65, 42):
        with pytest.raises(ValueError, match="expected a student ID"):
            make_sheet("gates", bad)
    for bad in (0, 51, 2.0, True):
        with pytest.raises(ValueError, match="expected a problem count"):
            make_sheet("gates", "s1", count=bad)


def test_written_files(tmp_path):
    paths = write_sheet(make_sheet("learning-through-time", "s9", count=4), tmp_path)
    names = sorted(p.name for p in paths)
    assert names == sorted(f"learning-through-time-s9-{n}" for n in
                           ["worksheet.md", "worksheet.html", "answers.csv", "key.md", "key.html", "key.json"])
    worksheet = (tmp_path / "learning-through-time-s9-worksheet.md").read_text()
    key = (tmp_path / "learning-through-time-s9-key.md").read_text()
    assert "question,answer" in worksheet and "Worked steps" in key and "Worked steps" not in worksheet
    template = (tmp_path / "learning-through-time-s9-answers.csv").read_text()
    for qid in [q["id"] for q in json.loads((tmp_path / "learning-through-time-s9-key.json").read_text())["questions"]]:
        assert f"**{qid}**" in worksheet and f"{qid}," in template
    for page in ("worksheet.html", "key.html"):
        html = (tmp_path / f"learning-through-time-s9-{page}").read_text()
        assert "$" not in html and not re.search(r"\\[a-z]+", html), "TeX left in the printable page"
        assert "<script" not in html and "http" not in html  # self-contained, works offline


def test_tex_to_html():
    assert tex_to_html(r"h_{t-1} = \tanh(a_t)") == (
        '<span class="math">h<sub>t-1</sub> = <span class="fn">tanh</span>(a<sub>t</sub>)</span>')
    assert "<table" in tex_to_html(r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}")


# -- Grading ---------------------------------------------------------------------------------


def key_answers(key: dict) -> dict[str, str]:
    out = {}
    for q in key["questions"]:
        a = q["answer"]
        out[q["id"]] = ("yes" if a else "no") if q["type"] == "yesno" else (
            "(" + ", ".join(map(str, a)) + ")" if q["type"] == "shape" else repr(a))
    return out


@pytest.mark.parametrize("slug", list(CHAPTERS))
def test_the_key_scores_100_and_a_perturbed_answer_is_wrong(tmp_path, slug):
    write_sheet(make_sheet(slug, "s1", count=6), tmp_path)
    key_path = tmp_path / f"{slug}-s1-key.json"
    key = load_key(key_path)
    answers = key_answers(key)
    report = grade(key, answers)
    assert report.right == report.total == len(key["questions"])
    for q in key["questions"]:
        wrong = dict(answers)
        if q["type"] == "number":
            wrong[q["id"]] = repr(q["answer"] + 2 * q["tolerance"] + 1e-3)
            near = dict(answers, **{q["id"]: repr(q["answer"] + 0.9 * q["tolerance"])})
            assert grade(key, near).right == report.total, q  # inside the tolerance is right
        elif q["type"] == "yesno":
            wrong[q["id"]] = "no" if q["answer"] else "yes"
        elif q["type"] == "shape":
            wrong[q["id"]] = "(" + ", ".join(str(n + 1) for n in q["answer"]) + ")"
        else:
            wrong[q["id"]] = str(q["answer"] + 1)
        marks = {m.question: m.right for m in grade(key, wrong).marks}
        assert marks[q["id"]] is False and sum(marks.values()) == report.total - 1, q
    # As files, CSV and JSON alike; a missing answer is wrong.
    csv_path, json_path = tmp_path / "a.csv", tmp_path / "a.json"
    first = key["questions"][0]["id"]
    csv_path.write_text("question,answer\n" + "".join(f'{k},"{v}"\n' for k, v in answers.items() if k != first))
    json_path.write_text(json.dumps(answers))
    assert check(key_path, json_path).right == report.total
    partial = check(key_path, csv_path)
    assert partial.right == report.total - 1 and "(no answer)" in partial.format()
    assert partial.format().splitlines()[-1].startswith(f"total: {report.total - 1}/{report.total}")


def test_bad_answers_files(tmp_path):
    write_sheet(make_sheet("gates", "s1"), tmp_path)
    key = tmp_path / "gates-s1-key.json"
    cases = {
        "missing.csv": None,
        "notes.txt": "these are my answers: 0.5, 0.3\n",
        "wrongid.csv": "question,answer\nq9z,0.5\n",
        "nan.csv": "question,answer\nq1a,zero point five\n",
        "header.csv": "id,value\nq1a,0.5\n",
        "list.json": "[1, 2]",
        "broken.json": "{\"q1a\": 0.5",
    }
    for name, text in cases.items():
        if text is not None:
            (tmp_path / name).write_text(text)
        with pytest.raises(GradingError) as err:
            check(key, tmp_path / name)
        assert "\n" not in str(err.value) and "expected" in str(err.value), (name, err.value)
    with pytest.raises(GradingError, match="answer key"):
        check(tmp_path / "wrongid.csv", tmp_path / "wrongid.csv")


# -- The commands, as a teacher runs them -------------------------------------------------------


def rnnbook(*args, cwd):
    return subprocess.run([sys.executable, "-m", "rnnbook", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_commands_end_to_end(tmp_path):
    made = rnnbook("problems", "5", "--student", "kim", "--count", "4", "--out", "sheets", "--salt", "x",
                   cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "chapter 5 (learning-through-time), student kim: 4 problems" in made.stdout
    key = tmp_path / "sheets" / "learning-through-time-kim-key.json"
    (tmp_path / "answers.json").write_text(json.dumps(key_answers(json.loads(key.read_text()))))
    graded = rnnbook("check", str(key), "answers.json", cwd=tmp_path)
    assert graded.returncode == 0, graded.stderr
    n = len(json.loads(key.read_text())["questions"])
    assert graded.stdout.strip().splitlines()[-1] == f"total: {n}/{n} right (100%)"
    assert sum(line.split()[1] == "right" for line in graded.stdout.splitlines()[:-1]) == n


@pytest.mark.parametrize("args, files, expected", [
    (["check", "nokey.json", "a.csv"], {}, "found no such file"),
    (["check", "key.json", "missing.csv"], {}, "found no such file"),
    (["check", "key.json", "a.txt"], {"a.txt": "0.5 0.3\n"}, "expected a CSV file"),
    (["check", "key.json", "a.csv"], {"a.csv": "question,answer\nq7x,1\n"}, "unknown id(s) q7x"),
    (["check", "key.json", "a.csv"], {"a.csv": "question,answer\nq1a,abc\n"}, "expected a number"),
    (["check", "key.json", "a.bin"], {"a.bin": b"\xff\xfe\x00bin"}, "UTF-8"),
    (["check", "a.csv", "a.csv"], {"a.csv": "question,answer\n"}, "answer key"),
    (["problems", "gatez", "--student", "s1"], {}, "expected a chapter number"),
    (["problems", "gates", "--student", "a b"], {}, "expected a student ID"),
    (["problems", "gates", "--student", "s1", "--count", "0"], {}, "expected a number of problems"),
    (["problems", "gates"], {}, "--student"),
])
def test_command_errors_are_one_line(tmp_path, args, files, expected):
    write_sheet(make_sheet("why-memory", "s1"), tmp_path)
    (tmp_path / "key.json").write_bytes((tmp_path / "why-memory-s1-key.json").read_bytes())
    for name, content in files.items():
        (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    result = rnnbook(*args, cwd=tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rnnbook: error: ") and expected in lines[0], result.stderr


def test_reading_time_counts_prose_and_shown_code_only(tmp_path):
    module = 'import os\n\n\ndef shown(x):\n    """Doc."""\n\n    return x\n\n\ndef other():\n    pass\n'
    (tmp_path / "mod.py").write_text(module)
    chapter = tmp_path / "chapter.md"
    chapter.write_text(
        "---\nfile_format: mystnb\n---\n\n(label)=\n# One two\n\nThree four {glue:text}`key:.2f` six $x_t$ eight.\n\n"
        "```{code-cell} python\n:tags: [remove-cell]\nhidden = 1\nhidden = 2\n```\n\n"
        "```{code-cell} python\nshown = 1\n\nshown = 2\n```\n\n"
        "```{literalinclude} mod.py\n:pyobject: shown\n:language: python\n```\n\n"
        "```{math}\n:label: eq\nh_t = f(a_t)\n```\n\n"
        "::::{exercise}\n:label: ex\n\nNine ten.\n\n"
        ":::{admonition} Hint\n:class: dropdown\nfolded words here\n:::\n::::\n\n"
        ":::{solution} ex\n:class: dropdown\n\nfolded as well\n:::\n\n"
        "```{glue:figure} fig\n:alt: not counted\n:name: fig\n\nEleven twelve.\n```\n"
    )
    time = reading_time(chapter)
    assert time.words == 12  # the heading, the prose (a glue role and inline math one word each), exercise, caption
    assert time.code_lines == 2 + 3 + 1  # the shown cell, the function's non-blank lines, the equation
    assert time.minutes == pytest.approx(12 / WORDS_PER_MINUTE + 6 / LINES_PER_MINUTE)


def test_reading_time_of_every_chapter_of_the_book():
    chapters = sorted((Path(__file__).resolve().parents[1] / "book" / "chapters").glob("*.md"))
    times = {path.stem: reading_time(path) for path in chapters}
    assert all(t.words > 500 and t.code_lines > 10 for t in times.values()), times


def test_every_chapter_reads_in_15_to_25_minutes_and_chapter_1_is_the_shortest():
    """Issue 14: each chapter reads in 15-25 minutes, chapter 1 the shortest (the teachers page shows the same rule)."""
    chapters = sorted((Path(__file__).resolve().parents[1] / "book" / "chapters").glob("*.md"))
    minutes = {path.stem: reading_time(path).minutes for path in chapters}
    outside = {name: round(m, 1) for name, m in minutes.items() if not 15 <= round(m) <= 25}
    assert not outside, f"chapters outside 15-25 minutes by the rule of rnnbook.teaching.reading: {outside}"
    assert min(minutes, key=minutes.get) == "why-memory", minutes
