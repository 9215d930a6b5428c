"""A checkpoint is untrusted input (issue 12, defect 4): crafted files are refused in one line, fast, small.

Every crafted checkpoint here starts from a real one and changes one thing:
its metadata (wrong types, missing keys, deep nesting, huge or fractional
sizes, negative steps), the header of one array (a shape that disagrees with
the metadata, 1e11 values), one array's values (NaN), or the compression (a
member that expands hugely).  Each must raise :class:`CheckpointError` with a
one-line message, and refusing must allocate far less than the file asks for
(measured with tracemalloc, which sees numpy's allocations).
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from test_cli import assert_one_line_error, rnnbook

from rnnbook.data.encoding import Vocabulary
from rnnbook.models.charmodel import CharModel
from rnnbook.training import checkpoint
from rnnbook.training.chartrainer import CharTrainer

TEXT = "the cat sat on the mat and the dog ran to the log. " * 20
REFUSAL_MAX_BYTES = 100 * 2**20


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def npy_header(shape: tuple[int, ...], dtype: str = "<f4") -> bytes:
    """Only the .npy header of an array of ``shape``: what a member that lies about its size starts with."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def write(directory: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> Path:
    """Write an npz by hand: ``members`` maps array names to .npy bytes (or to a callable writing them)."""
    directory.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(checkpoint.checkpoint_path(directory), "w", compression=compression, compresslevel=1) as z:
        for name, data in members.items():
            if callable(data):
                with z.open(name + ".npy", "w", force_zip64=True) as handle:
                    data(handle)
            else:
                z.writestr(name + ".npy", data)
    return directory


def members_of(arrays: dict[str, np.ndarray], meta: dict | str) -> dict[str, bytes]:
    raw = meta if isinstance(meta, str) else json.dumps(meta)
    return {name: npy(a) for name, a in arrays.items()} | {
        "__metadata__": npy(np.frombuffer(raw.encode("utf-8"), dtype=np.uint8))
    }


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> tuple[dict[str, np.ndarray], dict]:
    """A real two-layer LSTM checkpoint after 3 steps: its arrays and metadata."""
    vocab = Vocabulary.from_text(TEXT)
    model = CharModel(len(vocab), 8, cell="lstm", layers=2, rng=0, dtype=np.float32)
    trainer = CharTrainer(model, vocab.encode(TEXT), seq_len=8, batch_size=2, rng=0)
    for _ in range(3):
        trainer.train_step()
    run = {
        "model": "lstm", "hidden": 8, "layers": 2, "seq_len": 8, "batch": 2, "lr": 2e-3, "seed": 0,
        "text_path": "/somewhere/text.txt", "text_sha256": hashlib.sha256(TEXT.encode()).hexdigest(), "steps": 3,
    }
    out = tmp_path_factory.mktemp("good") / "run"
    checkpoint.save_training(out, trainer, vocab, {"run": run, "validation": [[3, 2.5]], "elapsed": 0.5})
    return checkpoint.load(out)


def load_model(directory: Path):
    return checkpoint.load_model(directory)


def load_training(directory: Path):
    return checkpoint.load_training(directory, Vocabulary.from_text(TEXT).encode(TEXT))


LOADERS = {"load_model": load_model, "load_training": load_training}


def refused(directory: Path, loader, *fragments: str) -> str:
    """Load with ``loader``; it must raise CheckpointError in one line, allocating < 100 MB; the message."""
    tracemalloc.start()
    try:
        with pytest.raises(checkpoint.CheckpointError) as info:
            loader(directory)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert peak < REFUSAL_MAX_BYTES, f"refusing took {peak / 2**20:.0f} MiB: {message}"
    assert "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_the_good_checkpoint_loads(good, tmp_path):
    arrays, meta = good
    run = write(tmp_path / "r", members_of(arrays, meta))
    for loader in LOADERS.values():
        loader(run)


# Each case: (what to change in a deep copy of the metadata, fragments the message must hold).
def _set(path: str, value):
    def change(meta):
        *parents, last = path.split(".")
        node = meta
        for key in parents:
            node = node[key]
        node[last] = value

    return change


def _delete(path: str):
    def change(meta):
        *parents, last = path.split(".")
        node = meta
        for key in parents:
            node = node[key]
        del node[last]

    return change


METADATA_CASES = {
    "vocabulary-a-dict": (_set("vocabulary", {"a": 1}), ["vocabulary"]),
    "trainer-a-list": (_set("trainer", [1, 2, 3]), ["trainer"]),
    "run-a-list": (_set("run", ["lstm"]), ["run"]),
    "validation-a-dict": (_set("validation", {"3": 2.5}), ["validation"]),
    "rng-state-a-list": (_set("trainer.rng_state", [1, 2]), ["rng_state"]),
    "missing-vocabulary": (_delete("vocabulary"), ["vocabulary"]),
    "missing-hidden-size": (_delete("hidden_size"), ["hidden_size"]),
    "missing-text-sha256": (_delete("run.text_sha256"), ["text_sha256"]),
    "huge-hidden-size": (_set("hidden_size", 1_000_000), ["hidden_size"]),
    "huge-layers": (_set("layers", 10_000_000), ["layers"]),
    "huge-but-consistent": (_set("hidden_size", 30_000), ["GiB"]),
    "millions-of-one-unit-layers": (lambda meta: meta.update(layers=5_000_000, hidden_size=1), ["layers"]),
    "hidden-size-disagrees-with-arrays": (_set("hidden_size", 9), ["shape"]),
    "vocab-size-disagrees": (_set("vocab_size", 99), ["vocab"]),
    "fractional-hidden-size": (_set("hidden_size", 8.5), ["hidden_size", "8.5"]),
    "boolean-layers": (_set("layers", True), ["layers"]),
    "string-step": (_set("trainer.step", "3"), ["step"]),
    "negative-step": (_set("trainer.step", -5), ["step", "-5"]),
    "negative-offset": (_set("trainer.offset", -1), ["offset"]),
    "zero-seq-len": (_set("trainer.seq_len", 0), ["seq_len"]),
    "unknown-cell": (_set("model", "transformer"), ["model"]),
    "unknown-dtype": (_set("dtype", "object"), ["dtype"]),
    "repeated-characters": (_set("vocabulary", "aab"), ["vocabulary"]),
    "bad-rng-state": (_set("trainer.rng_state.state.state", -1), ["rng_state"]),
    "nested-deeper-than-any-checkpoint": (_set("elapsed", [[[[[[[[[[[[1.0]]]]]]]]]]]]), ["nest"]),
}


@pytest.mark.parametrize("loader", LOADERS.values(), ids=LOADERS.keys())
@pytest.mark.parametrize("case", METADATA_CASES, ids=METADATA_CASES.keys())
def test_crafted_metadata_is_refused(case, loader, good, tmp_path):
    arrays, meta = good
    meta = copy.deepcopy(meta)
    change, fragments = METADATA_CASES[case]
    change(meta)
    run = write(tmp_path / "r", members_of(arrays, meta))
    refused(run, loader, *fragments)


@pytest.mark.parametrize("loader", LOADERS.values(), ids=LOADERS.keys())
@pytest.mark.parametrize(
    "raw",
    [
        '{"format_version": 1, "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"format_version": 1, "elapsed": NaN}',
        '{"format_version": 1, "elapsed": 1e999}',
        '["format_version", 1]',
        '{"format_version": 1, "vocabulary": "' + "x" * (8 * 2**20) + '"}',
    ],
    ids=["100000-deep", "nan-literal", "infinite-number", "not-an-object", "8-MiB-of-metadata"],
)
def test_crafted_json_is_refused(raw, loader, good, tmp_path):
    arrays, _ = good
    run = write(tmp_path / "r", members_of(arrays, raw))
    refused(run, loader, "metadata")


@pytest.mark.parametrize("loader", LOADERS.values(), ids=LOADERS.keys())
def test_header_declaring_1e11_values_is_refused(loader, good, tmp_path):
    arrays, meta = good
    members = members_of(arrays, meta)
    members["param/readout.bias"] = npy_header((10**11,)) + bytes(64)  # 400 GB declared, 64 bytes given
    refused(write(tmp_path / "r", members), loader, "readout.bias")


@pytest.mark.parametrize("loader", LOADERS.values(), ids=LOADERS.keys())
def test_header_that_matches_but_member_too_short_is_refused(loader, good, tmp_path):
    arrays, meta = good
    members = members_of(arrays, meta)
    members["param/readout.weight"] = members["param/readout.weight"][:-16]
    refused(write(tmp_path / "r", members), loader, "readout.weight")


def test_zip_bomb_is_refused_before_it_expands(good, tmp_path):
    """A 2 MB deflated member that expands to 512 MiB of zeros, declared as the losses."""
    arrays, meta = good
    members = members_of(arrays, meta)

    def bomb(handle):
        handle.write(npy_header((64 * 2**20,), "<f8"))
        zeros = bytes(2**24)
        for _ in range(32):
            handle.write(zeros)

    members["losses"] = bomb
    run = write(tmp_path / "r", members, compression=zipfile.ZIP_DEFLATED)
    assert checkpoint.checkpoint_path(run).stat().st_size < 8 * 2**20
    refused(run, load_training, "losses")
    # sampling does not need the losses: they are never read
    model, _, _ = checkpoint.load_model(run)
    assert model.hidden_size == 8


@pytest.mark.parametrize("loader", LOADERS.values(), ids=LOADERS.keys())
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_weights_are_refused(value, loader, good, tmp_path):
    arrays, meta = good
    arrays = dict(arrays)
    weight = arrays["param/rnn.weight_hh_l1"].copy()
    weight[2, 3] = value
    arrays["param/rnn.weight_hh_l1"] = weight
    refused(write(tmp_path / "r", members_of(arrays, meta)), loader, "rnn.weight_hh_l1", "finite")


@pytest.mark.parametrize("loader", LOADERS.values(), ids=LOADERS.keys())
def test_wrong_dtype_in_a_header_is_refused(loader, good, tmp_path):
    arrays, meta = good
    arrays = dict(arrays) | {"param/readout.bias": arrays["param/readout.bias"].astype(np.float64)}
    refused(write(tmp_path / "r", members_of(arrays, meta)), loader, "readout.bias", "float")


@pytest.mark.parametrize("loader", LOADERS.values(), ids=LOADERS.keys())
def test_missing_member_is_refused(loader, good, tmp_path):
    arrays, meta = good
    arrays = {k: v for k, v in arrays.items() if k != "param/rnn.bias_hh_l0"}
    refused(write(tmp_path / "r", members_of(arrays, meta)), loader, "rnn.bias_hh_l0")


def test_only_the_needed_members_are_read(good, tmp_path):
    arrays, meta = good
    members = members_of(arrays, meta)
    members["losses"] = b"\x93NUMPY garbage, not an array"
    members["optim/t"] = b"more garbage"
    run = write(tmp_path / "r", members)
    model, vocab, _ = checkpoint.load_model(run)  # sampling needs only the weights
    assert model.n_layers == 2 and len(vocab) == meta["vocab_size"]
    refused(run, load_training)


def test_crafted_checkpoint_through_the_command_is_one_line(good, tmp_path):
    arrays, meta = good
    meta = copy.deepcopy(meta)
    meta["trainer"]["step"] = -5
    run = write(tmp_path / "r", members_of(arrays, meta))
    for args in (["info", run], ["sample", run], ["train", "--resume", "--out", run, "--steps", "5"]):
        assert_one_line_error(rnnbook(*args), "step")
