"""The two built-in corpora (``rnnbook train --corpus``) and the weights-only run folder (``export --weights``)."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook.data.text import BUILTIN_FILES, CORPORA, LARGE_FILES, builtin_corpus
from rnnbook.training import checkpoint
from rnnbook.training.checkpoint_checks import CheckpointError
from tests.test_cli import SMALL, assert_one_line_error, rnnbook, trained_run  # noqa: F401 (fixture)

TINY = [*SMALL, "--print-every", "1000"]  # no validation pass before the end: the large corpus is long


def test_the_corpora_by_name():
    small, large = builtin_corpus(), builtin_corpus("large")
    assert small == builtin_corpus("small")
    assert CORPORA["small"] == BUILTIN_FILES and CORPORA["large"] == LARGE_FILES
    assert len(LARGE_FILES) == len(set(LARGE_FILES)) == 111
    # "about 3.5 million characters", as the help and the docstring say, and plain ASCII
    assert 3.0e6 < len(large) < 4.0e6 and large.isascii()
    assert len(large) > 20 * len(small)


@pytest.mark.parametrize("name", ["medium", "", None, 1])
def test_an_unknown_corpus_is_a_one_line_error(name):
    with pytest.raises(ValueError, match=r"name must be one of 'small', 'large', got") as err:
        builtin_corpus(name)
    assert "\n" not in str(err.value)


def test_corpus_and_textfile_are_exclusive(text_file, tmp_path):
    result = rnnbook("train", text_file, "--corpus", "large", "--out", tmp_path / "r", "--steps", "1", *TINY)
    assert_one_line_error(result, "a TEXTFILE or --corpus, not both")
    assert_one_line_error(rnnbook("train", "--corpus", "huge", "--out", tmp_path / "s"), "invalid choice: 'huge'")
    assert not (tmp_path / "r").exists()


def test_a_run_on_the_large_corpus_is_saved_and_resumed(tmp_path):
    out = tmp_path / "large"
    first = rnnbook("train", "--corpus", "large", "--out", out, "--steps", "2", *TINY)
    assert first.returncode == 0, first.stderr
    assert "built-in corpus (large)" in first.stdout
    meta = checkpoint.load_metadata(out)
    assert meta["run"]["corpus"] == "large" and meta["run"]["text_path"] is None
    info = rnnbook("info", out)
    assert "text:            built-in corpus (large)" in info.stdout, info.stdout
    assert_one_line_error(rnnbook("train", "--resume", "--out", out, "--corpus", "small"), "--corpus small", "large")
    resumed = rnnbook("train", "--resume", "--out", out, "--steps", "3", "--print-every", "1000")
    assert resumed.returncode == 0, resumed.stderr
    assert checkpoint.load_metadata(out)["trainer"]["step"] == 3


def test_a_run_from_before_the_corpus_option_resumes_on_the_small_corpus(tmp_path):
    out = tmp_path / "old"
    assert rnnbook("train", "--out", out, "--steps", "2", *TINY).returncode == 0
    arrays, meta = checkpoint.load(out)
    assert meta["run"].pop("corpus") == "small"
    checkpoint.save(out, arrays, {k: v for k, v in meta.items() if k != "format_version"})
    resumed = rnnbook("train", "--resume", "--out", out, "--steps", "3", "--print-every", "1000")
    assert resumed.returncode == 0, resumed.stderr
    assert "built-in corpus (small)" in resumed.stdout
    assert_one_line_error(rnnbook("train", "--resume", "--out", out, "--corpus", "large"), "--corpus large")


def test_a_text_file_run_refuses_a_corpus_on_resume(trained_run):  # noqa: F811 (fixture)
    assert_one_line_error(rnnbook("train", "--resume", "--out", trained_run, "--corpus", "small"), "a text file")


def test_a_crafted_corpus_name_in_a_checkpoint_is_refused(trained_run, tmp_path):  # noqa: F811 (fixture)
    arrays, meta = checkpoint.load(trained_run)
    meta["run"]["corpus"] = "../../etc/passwd"
    checkpoint.save(tmp_path / "crafted", arrays, {k: v for k, v in meta.items() if k != "format_version"})
    with pytest.raises(CheckpointError, match=r"run\.corpus must be one of 'small', 'large'"):
        checkpoint.load_metadata(tmp_path / "crafted")


def test_export_weights_keeps_the_model_and_drops_the_optimiser(trained_run, tmp_path):  # noqa: F811 (fixture)
    before = checkpoint.checkpoint_path(trained_run).read_bytes()
    target = tmp_path / "weights"
    result = rnnbook("export", trained_run, "--weights", target)
    assert result.returncode == 0, result.stderr
    assert "the weights only" in result.stdout
    assert checkpoint.checkpoint_path(trained_run).read_bytes() == before  # the run itself is untouched
    full, full_meta = checkpoint.load(trained_run)
    light, light_meta = checkpoint.load(target)
    assert sorted(light) == sorted([k for k in full if k.startswith("param/")] + ["losses"])
    for name, value in light.items():
        np.testing.assert_array_equal(value, full[name])
    assert "trainer" not in light_meta and light_meta["step"] == full_meta["trainer"]["step"]
    for key in ("run", "validation", "vocabulary", "elapsed"):
        assert light_meta[key] == full_meta[key]
    # a third of the size or less: Adam keeps two arrays per weight
    assert checkpoint.checkpoint_path(target).stat().st_size < 0.4 * len(before)
    # it samples exactly as the run does, and `info` reports the same step and loss
    args = ("--length", "60", "--seed", "3", "--temperature", "0.7")
    assert rnnbook("sample", target, *args).stdout == rnnbook("sample", trained_run, *args).stdout
    info = rnnbook("info", target).stdout
    assert f"step {full_meta['trainer']['step']}," in info and f"{full_meta['validation'][-1][1]:.3f}" in info


def test_export_weights_refuses_to_overwrite_or_resume(trained_run, tmp_path):  # noqa: F811 (fixture)
    target = tmp_path / "weights"
    assert rnnbook("export", trained_run, "--weights", target).returncode == 0
    written = checkpoint.checkpoint_path(target).read_bytes()
    assert_one_line_error(rnnbook("export", trained_run, "--weights", target), "already holds a checkpoint")
    assert_one_line_error(rnnbook("export", target, "--weights", trained_run), "already holds a checkpoint")
    assert checkpoint.checkpoint_path(target).read_bytes() == written
    assert_one_line_error(rnnbook("train", "--resume", "--out", target), "holds the weights only")
    a_file = tmp_path / "file.txt"
    a_file.write_text("keep me", encoding="utf-8")
    assert_one_line_error(rnnbook("export", trained_run, "--weights", a_file), "not a folder")
    assert a_file.read_text(encoding="utf-8") == "keep me"
    assert_one_line_error(rnnbook("export", trained_run, "--weights", ""), "empty string")
    assert_one_line_error(rnnbook("export", trained_run, "--weights", target, "--torch", tmp_path / "m.pt"),
                          "not allowed with")
    assert_one_line_error(rnnbook("export", trained_run), "one of the arguments --torch --weights is required")


def test_export_weights_refuses_a_folder_in_use(trained_run, tmp_path):  # noqa: F811 (fixture)
    from rnnbook.cli.runtime import open_run_folder

    target = tmp_path / "busy"
    with open_run_folder(str(target), create=True):  # as a trainer starting in that folder holds it
        result = rnnbook("export", trained_run, "--weights", target)
    assert_one_line_error(result, f"--weights {target} is in use by another rnnbook process")
    assert not checkpoint.checkpoint_path(target).exists()
    # and once free, the export works and the trainer's check then refuses the folder
    assert rnnbook("export", trained_run, "--weights", target).returncode == 0
    assert_one_line_error(rnnbook("train", "--out", target, "--steps", "1", *TINY), "already holds a checkpoint")


def test_info_says_whether_a_run_can_be_resumed(trained_run, tmp_path):  # noqa: F811 (fixture)
    full = rnnbook("info", trained_run).stdout
    assert "resumable:       yes" in full and " of training" in full
    assert rnnbook("export", trained_run, "--weights", tmp_path / "w").returncode == 0
    light = rnnbook("info", tmp_path / "w").stdout
    assert "resumable:       no: the weights only" in light
