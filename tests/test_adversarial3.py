"""What a third adversarial user of the library found (after tests/test_adversarial.py and test_adversarial2.py).

Each test is one defect and failed before its fix: the teaching kit's sheets
and grading, the n-gram model at high orders, the character model's per-step
API, and checkpoints the library wrote but could not read back.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from rnnbook._validation import check_array
from rnnbook.data.datasets import digit_images
from rnnbook.data.encoding import Vocabulary
from rnnbook.data.synthetic import first_symbol
from rnnbook.models.charmodel import CharModel, sample, tempered
from rnnbook.models.decoding import sequence_log_likelihood
from rnnbook.models.ngram import NGramModel
from rnnbook.models.seq2seq import Translator
from rnnbook.teaching import GradingError, check, make_sheet, write_sheet
from rnnbook.teaching.grading import load_answers
from rnnbook.teaching.problems import resolve_chapter
from rnnbook.teaching.sheets import worksheet_markdown
from rnnbook.training import checkpoint
from rnnbook.training.chartrainer import CharTrainer

# -- the teaching kit -----------------------------------------------------------------------------


def test_a_student_id_with_a_line_break_is_refused():
    # "s001\n" matched the ID pattern (``$`` matches before a final newline): the sheets were written
    # to file names with a line break in them, and the worksheet's header broke in two.
    with pytest.raises(ValueError, match="student ID"):
        make_sheet(4, "s001\n")


@pytest.mark.parametrize("chapter", ["²", "٣"])
def test_a_chapter_in_other_digits_names_the_chapters(chapter):
    # "²" passed str.isdigit() and then failed in int(): "invalid literal for int() with base 10: '²'".
    with pytest.raises(ValueError, match="expected a chapter number") as info:
        resolve_chapter(chapter)
    assert "gates" in str(info.value)


@pytest.mark.parametrize("salt", ["a\nb", "\udcff", "tab\there"])
def test_a_salt_with_control_characters_is_refused(salt):
    # A salt with a line break broke the sheet's Markdown header; one that is not text (a byte that is not
    # UTF-8, from the command line) gave "'utf-8' codec can't encode character '\udcff' ..." without a name.
    with pytest.raises(ValueError, match="salt"):
        make_sheet(4, "s1", salt=salt)


def test_a_salt_with_a_backtick_stays_one_code_span():
    # "a`b" was written as `a`b`: the header's code span ended after "a".
    header = worksheet_markdown(make_sheet(4, "s1", salt="a`b")).splitlines()[2]
    assert "`` a`b ``" in header, header


@pytest.mark.parametrize("chapter", ["learning-through-time", "vanishing-gradients"])
def test_every_student_gets_a_sheet(chapter):
    # The truncation problem drew a window of 5-40 steps for a sequence of 20-200 and then a step after the
    # first window; when the window was the longer, numpy's "low >= high": 'rnnbook problems 6 --student s009'
    # failed, as did about one student in twenty-five for chapters 5 and 6.
    for number in range(100):
        sheet = make_sheet(chapter, f"s{number:03d}", count=6)
        for problem in sheet.problems:
            if problem.kind == "tbptt_chunks":
                assert problem.given["window"] < problem.given["T"] and problem.given["late"] > problem.given["window"]


def test_write_sheet_does_not_follow_a_planted_link(tmp_path):
    # A symbolic link planted under a sheet's name (in a shared folder) had the key written through it,
    # into whatever file it pointed at.
    sheet = make_sheet(4, "s1")
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("keep me", encoding="utf-8")
    out = tmp_path / "sheets"
    out.mkdir()
    (out / "state-equation-s1-key.json").symlink_to(elsewhere)
    write_sheet(sheet, out)
    assert elsewhere.read_text(encoding="utf-8") == "keep me"
    assert not (out / "state-equation-s1-key.json").is_symlink()
    assert json.loads((out / "state-equation-s1-key.json").read_text(encoding="utf-8"))["student"] == "s1"
    assert not list(out.glob(".*tmp*"))


@pytest.fixture(scope="module")
def sheet_files(tmp_path_factory):
    out = tmp_path_factory.mktemp("sheet")
    write_sheet(make_sheet(4, "s1"), out)
    return out / "state-equation-s1-key.json", out / "state-equation-s1-answers.csv"


def _crafted_key(path, tmp_path, change):
    key = json.loads(path.read_text(encoding="utf-8"))
    change(key)
    crafted = tmp_path / "crafted-key.json"
    crafted.write_text(json.dumps(key), encoding="utf-8")
    return crafted


def _first(field, value=None, delete=False):
    def change(key):
        if delete:
            del key["questions"][0][field]
        else:
            key["questions"][0][field] = value
    return change


KEY_CASES = {  # each gave a KeyError or OverflowError traceback, or a message about Python's internals
    "no-id": (_first("id", delete=True), "id"),
    "no-type": (_first("type", delete=True), "type"),
    "no-answer": (_first("answer", delete=True), "answer"),
    "question-a-string": (lambda key: key["questions"].__setitem__(0, "q1a"), "question"),
    "unknown-type": (_first("type", "essay"), "type"),
    "answer-a-string": (_first("answer", "abc"), "answer"),
    "answer-too-big-for-a-float": (_first("answer", 10**400), "answer"),
    "tolerance-a-string": (_first("tolerance", "abc"), "tolerance"),
    "negative-tolerance": (_first("tolerance", -1), "tolerance"),
    "id-with-escape": (_first("id", "\x1b[31mq1a"), "id"),
    "repeated-id": (lambda key: key["questions"][1].__setitem__("id", key["questions"][0]["id"]), "q1a twice"),
    "shape-a-number": (lambda key: [q.__setitem__("answer", 5) for q in key["questions"] if q["type"] == "shape"],
                       "shape"),
}


@pytest.mark.parametrize("case", KEY_CASES, ids=KEY_CASES.keys())
def test_a_crafted_key_is_refused_in_one_line(case, sheet_files, tmp_path):
    key, answers = sheet_files
    change, fragment = KEY_CASES[case]
    with pytest.raises(GradingError) as info:
        check(_crafted_key(key, tmp_path, change), answers)
    message = str(info.value)
    assert "\n" not in message and "\x1b" not in message and fragment in message, message


@pytest.mark.parametrize("space", ["\n", "\r", "\u2028", "\x0b"])
def test_a_shape_answer_with_line_breaks_stays_on_its_line(space, sheet_files, tmp_path):
    # A shape's spaces may be any whitespace: "(1,<line break>1)" split the question's line of the report in two,
    # and a carriage return overwrote its "WRONG" on a terminal.
    key, _ = sheet_files
    shape_id = next(q["id"] for q in json.loads(key.read_text(encoding="utf-8"))["questions"] if q["type"] == "shape")
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({shape_id: f"(1,{space}1)"}), encoding="utf-8")
    report = check(key, answers).format()
    assert len(report.splitlines()) == len(json.loads(key.read_text(encoding="utf-8"))["questions"]) + 1, report
    assert all(line.isprintable() for line in report.splitlines()), report


def test_a_csv_field_beyond_the_csv_limit_is_a_grading_error(tmp_path):
    # _csv.Error: field larger than field limit (131072), as a traceback.
    answers = tmp_path / "big.csv"
    answers.write_text("question,answer\nq1a," + "1" * 200_000 + "\n", encoding="utf-8")
    with pytest.raises(GradingError, match="big.csv"):
        load_answers(answers)


@pytest.mark.parametrize("text", ['{"q1a": "0.1", "q1a": "0.5"}', '{"q1a": "0.1", " q1a": "0.5"}'])
def test_json_answers_name_a_repeated_question(text, tmp_path):
    # The CSV refused a question answered twice; the JSON silently kept the last answer.
    answers = tmp_path / "twice.json"
    answers.write_text(text, encoding="utf-8")
    with pytest.raises(GradingError, match="q1a twice"):
        load_answers(answers)


@pytest.mark.parametrize(
    "tokens, specials, fragment",
    [("abc", "no", "specials"), ("abc", 1, "specials"), (5, True, "tokens"), (None, False, "tokens")],
    ids=["specials-a-string", "specials-an-int", "tokens-an-int", "tokens-none"],
)
def test_vocabulary_checks_its_arguments(tokens, specials, fragment):
    # specials="no" was taken for True (six symbols for "abc"); Vocabulary(5): "'int' object is not iterable".
    with pytest.raises(TypeError, match=fragment):
        Vocabulary(tokens, specials=specials)


@pytest.mark.parametrize(
    "make",
    [lambda dtype: first_symbol(3, 4, 2, rng=0, dtype=dtype), lambda dtype: digit_images(3, rng=0, dtype=dtype)],
    ids=["first_symbol", "digit_images"],
)
@pytest.mark.parametrize("dtype", [int, np.float16, "foo"])
def test_data_sets_check_their_dtype(make, dtype):
    # An int dtype was accepted (digit_images rounded its noise away); "foo" gave numpy's "data type 'foo' not
    # understood"; adding_problem and copy_task already refused both.
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        make(dtype)


# -- the n-gram model -----------------------------------------------------------------------------


def test_ngram_orders_beyond_int64_codes_are_refused():
    # A context is coded as a number in base V + 1: order 10 with 100 characters overflowed int64, so
    # fit() silently wrapped its codes around and next_log_probs()/sample() raised
    # "OverflowError: Python int too large to convert to C long".
    with pytest.raises(ValueError, match="order"):
        NGramModel(10, 100)
    largest = NGramModel(9, 100).fit(np.random.default_rng(0).integers(0, 100, 500))
    ids = np.arange(12)
    expected = [largest.log_probs(np.append(ids, c))[-1] for c in range(100)]
    assert np.allclose(largest.next_log_probs(ids), expected)
    assert largest.sample(3, prime=ids, rng=0).shape == (3,)


def test_ngram_smoothing_that_overflows_is_refused():
    # smoothing = 1e308 with 3 characters: N(u) + kappa V was infinite, every probability 0, the loss inf,
    # and sampling drew from NaN (always the last character), all without a word.
    with pytest.raises(ValueError, match="smoothing"):
        NGramModel(2, 3, smoothing=1e308)
    assert np.isfinite(NGramModel(2, 3, smoothing=1e307).fit(np.array([0, 1, 2])).loss(np.array([0, 1, 2])))


def test_ngram_sampling_at_a_tiny_temperature_is_greedy_and_quiet():
    # "RuntimeWarning: overflow encountered in divide" at temperature 1e-310.
    model = NGramModel(2, 3).fit(np.array([0, 1, 0, 1, 0, 1, 0, 2]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = model.sample(4, prime=np.array([0]), temperature=1e-310, rng=0)
    assert out.tolist() == [1, 0, 1, 0]


# -- the character model's per-step API and sampling ----------------------------------------------


@pytest.mark.parametrize(
    "ids, state, fragment",
    [
        (np.array([[0, 1]]), None, "ids"),  # operands could not be broadcast together with shapes (1,0,16) (1,4)
        (3, None, "ids"),  # object of type 'int' has no len()
        (np.array([0]), "two-rows", "h0"),  # non-broadcastable output operand with shape (1,16) ...
        (np.array([0]), "one-layer", "state"),  # IndexError: index 1 is out of bounds for axis 0 with size 1
        (np.array([0]), "nan", "finite"),  # NaN scores, silently
        (np.array([0]), "float32", "float64"),  # float32 states were mixed in silently
    ],
    ids=["2-d-ids", "an-int", "state-of-another-batch", "state-of-one-layer-of-two", "nan-state", "float32-state"],
)
def test_char_model_step_checks_its_ids_and_state(ids, state, fragment):
    model = CharModel(5, 4, cell="lstm", layers=2, rng=0)
    if state == "two-rows":
        state = model.step(np.array([0, 1]))[1]
    elif state == "one-layer":
        state = model.step(np.array([0]))[1][:1]
    elif state == "nan":
        state = model.step(np.array([0]))[1]
        state[1][1][0, 2] = np.nan  # the cell of layer 1
    elif state == "float32":
        state = [tuple(part.astype(np.float32) for part in s) for s in model.step(np.array([0]))[1]]
    with pytest.raises((TypeError, ValueError), match=fragment):
        model.step(ids, state)


def test_sampling_a_model_whose_scores_overflow_says_so():
    # Finite float32 weights near the largest float32 overflowed in the read-out: numpy's RuntimeWarning
    # lines, then "scores must be finite, found -inf at index (0,)".
    model = CharModel(3, 4, rng=0, dtype=np.float32)
    model.params["rnn.bias_ih_l0"][:] = 10  # every state unit near 1
    model.params["readout.weight"][:] = 3e38
    model.params["readout.weight"][1] = -3e38
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="weights") as info:
            sample(model, Vocabulary("abc", specials=False), 5, rng=0)
    assert "too large" in str(info.value)


def test_tempered_extreme_scores_are_quiet():
    # "RuntimeWarning: overflow encountered in subtract" for scores 1e308 and -1e308.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tempered(np.array([1e308, -1e308]), 1.0).tolist() == [1.0, 0.0]


def test_a_wrong_rank_is_named_once():
    # "weight_hh must have 2 dimensions 2 dimensions, got shape (1,)".
    with pytest.raises(ValueError) as info:
        check_array(np.zeros(1), "weight_hh", ndim=2)
    assert str(info.value) == "weight_hh must have 2 dimensions, got shape (1,)"


@pytest.mark.parametrize(
    "outputs, error",
    [(np.zeros((3, 2)), TypeError), (np.zeros(3, dtype=int), ValueError), (np.full((3, 2), 7), ValueError)],
    ids=["float", "1-d", "outside-the-vocabulary"],
)
def test_sequence_log_likelihood_names_its_outputs(outputs, error):
    # "targets must be an integer numpy array ...": the message named model.logits' argument, not the caller's.
    model = Translator(3, 4, 6, rng=0)
    with pytest.raises(error, match="outputs"):
        sequence_log_likelihood(model, np.zeros((5, 2, 3)), outputs)


# -- checkpoint.save writes only what checkpoint.load reads ---------------------------------------


@pytest.fixture(scope="module")
def model_checkpoint():
    model = CharModel(3, 2, rng=0)
    arrays = {f"param/{k}": v for k, v in model.params.items()}
    return arrays, checkpoint.model_metadata(model, Vocabulary("abc", specials=False))


@pytest.mark.parametrize(
    "extra",
    [np.ones(3, bool), np.ones(3, complex), np.array(["ab"]), np.zeros(2, dtype=[("a", "f8")]),
     np.array([math.nan])],
    ids=["bool", "complex", "str", "structured", "nan"],
)
def test_save_refuses_arrays_load_would_refuse(extra, model_checkpoint, tmp_path):
    # Each was written, then refused by every load ("a bool array, expected numbers", "holds NaN ..."):
    # a run saved that way was lost.
    arrays, meta = model_checkpoint
    with pytest.raises((TypeError, ValueError), match="extra"):
        checkpoint.save(tmp_path / "r", arrays | {"extra": extra}, meta)
    assert not (tmp_path / "r" / "checkpoint.npz").exists()


def test_save_writes_a_fortran_ordered_array_loadably(model_checkpoint, tmp_path):
    # A transposed array was saved with fortran_order=True, which load refuses ("a Fortran-ordered float64 array").
    arrays, meta = model_checkpoint
    weight = np.asfortranarray(arrays["param/readout.weight"])
    checkpoint.save(tmp_path / "r", arrays | {"param/readout.weight": weight}, meta)
    loaded, _ = checkpoint.load(tmp_path / "r")
    assert np.array_equal(loaded["param/readout.weight"], weight)
    model, _, _ = checkpoint.load_model(tmp_path / "r")
    assert np.array_equal(model.params["readout.weight"], weight)


def _patch_member(path, member: bytes, method: int | None = None, encrypted: bool = False) -> None:
    """Mark ``member`` of the zip ``path`` as compressed with ``method`` or as encrypted, in both of its headers."""
    raw = bytearray(path.read_bytes())
    at = raw.find(member)
    while at >= 0:
        for signature, start, flags, how in ((b"PK\x03\x04", at - 30, 6, 8), (b"PK\x01\x02", at - 46, 8, 10)):
            if raw[start : start + 4] == signature:
                if method is not None:
                    raw[start + how : start + how + 2] = method.to_bytes(2, "little")
                if encrypted:
                    raw[start + flags] |= 1
        at = raw.find(member, at + 1)
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("member", [b"param/readout.weight.npy", b"__metadata__.npy"], ids=["weights", "metadata"])
@pytest.mark.parametrize("how", [{"method": 20}, {"encrypted": True}], ids=["unknown-method", "encrypted"])
def test_a_member_zip_cannot_read_is_a_checkpoint_error(how, member, model_checkpoint, tmp_path):
    # NotImplementedError: That compression method is not supported / RuntimeError: File ... is encrypted,
    # password required for extraction: tracebacks from 'rnnbook info' and 'rnnbook sample'.
    arrays, meta = model_checkpoint
    checkpoint.save(tmp_path / "r", arrays, meta)
    _patch_member(checkpoint.checkpoint_path(tmp_path / "r"), member, **how)
    with pytest.raises(checkpoint.CheckpointError, match="not an rnnbook checkpoint"):
        checkpoint.load_model(tmp_path / "r")


@pytest.fixture(scope="module")
def short_run():
    text = "the cat sat on the mat. " * 20
    vocab = Vocabulary.from_text(text)
    trainer = CharTrainer(CharModel(len(vocab), 4, cell="gru", layers=2, rng=0), vocab.encode(text), seq_len=6,
                          batch_size=2, rng=0)
    trainer.train_step()
    return trainer, vocab, text


@pytest.mark.parametrize(
    "vocab, extra",
    [(Vocabulary("ab", specials=False), None), ("specials", None), ("own", {"hidden_size": 999}),
     ("own", {"trainer": {"step": 5}}), ("own", {"run": {"model": "gru"}})],
    ids=["another-vocabulary", "a-vocabulary-with-specials", "extra-hidden-size", "extra-trainer", "extra-bad-run"],
)
def test_save_training_refuses_what_load_training_would_refuse(vocab, extra, short_run, tmp_path):
    # Each was written, then refused by every load ("vocab_size 19 does not match the vocabulary's 2 characters",
    # "vocabulary must list every character once", "the array ... the metadata implies (3996, 19)" ...).
    trainer, own, text = short_run
    vocab = {"own": own, "specials": Vocabulary(own.chars)}.get(vocab, vocab)
    with pytest.raises(ValueError, match="could not be loaded"):
        checkpoint.save_training(tmp_path / "r", trainer, vocab, extra)
    assert not (tmp_path / "r" / "checkpoint.npz").exists()
    checkpoint.save_training(tmp_path / "ok", trainer, own)
    assert checkpoint.load_training(tmp_path / "ok", own.encode(text))[0].step_count == 1


def test_save_training_names_what_is_not_a_trainer(short_run, tmp_path):
    # AttributeError: 'object' object has no attribute 'model'.
    _, vocab, _ = short_run
    with pytest.raises(TypeError, match="CharTrainer"):
        checkpoint.save_training(tmp_path / "r", object(), vocab)
    with pytest.raises(TypeError, match="Vocabulary"):
        checkpoint.save_training(tmp_path / "r", short_run[0], "abc")


@pytest.mark.parametrize("change", ["float", "outside", "two-d"])
def test_load_training_checks_the_text(change, short_run, tmp_path):
    # Float ids were cast to int64 and ids outside the vocabulary accepted: the run resumed on another text,
    # or failed at a later step deep inside one_hot.
    trainer, vocab, text = short_run
    checkpoint.save_training(tmp_path / "r", trainer, vocab)
    ids = vocab.encode(text)
    bad = {"float": ids + 0.25, "outside": ids + len(vocab), "two-d": ids[None, :]}[change]
    with pytest.raises((TypeError, ValueError), match="ids"):
        checkpoint.load_training(tmp_path / "r", bad)
