"""Reading a checkpoint file as untrusted input: the metadata's schema, the arrays' headers, bounded reads.

A checkpoint can come from anyone, so :mod:`rnnbook.training.checkpoint`
reads it in this order, and refuses at the first step that fails, with one
line naming the file and what was wrong:

1. the file's size and the zip's table of contents (a cap on both);
2. the ``__metadata__`` member (at most :data:`MAX_METADATA_BYTES`), parsed as
   JSON without ``NaN``/``Infinity`` and nested at most :data:`MAX_NESTING`
   levels deep, then checked against :data:`SCHEMA` (types, ranges, required
   keys);
3. the memory the described model asks for, against
   :data:`rnnbook.training.chartrainer.MAX_MEMORY_BYTES`;
4. for each array that is needed (and only those), its ``.npy`` header (read
   with ``numpy.lib.format.read_magic``, no data read) against the shape
   and dtype the metadata implies, and the member's size against the header;
5. then the data, exactly as many bytes as the header declared, refusing NaN
   and infinite values.

:func:`check_savable` makes a save refuse what these steps would refuse, so
that no run is written that could not be read again.
"""

from __future__ import annotations

import json
import math
import struct
import zipfile
from pathlib import Path

import numpy as np

from rnnbook.data.text import CORPORA
from rnnbook.layers.registry import CELLS
from rnnbook.training.chartrainer import MAX_MEMORY_BYTES

#: The largest metadata document a checkpoint may hold (a long run's history fits many times over).
MAX_METADATA_BYTES = 2 * 2**20
#: The deepest nesting of lists and objects in the metadata (a real checkpoint has 4).
MAX_NESTING = 6
#: The most members (arrays) a checkpoint's zip may list.
MAX_MEMBERS = 100_000
#: Every integer a checkpoint holds is below this (the command refuses larger options, so its runs stay loadable).
MAX_INTEGER = 2**62
_BIG = MAX_INTEGER


class CheckpointError(ValueError):
    """A checkpoint that is missing, corrupted, of another format version, or not acceptable as input."""


# -- 1. the file and its table of contents -----------------------------------------------------


def open_zip(path: Path) -> zipfile.ZipFile:
    """Open ``path`` as a zip after checking its size and its table of contents (without reading it)."""
    size = path.stat().st_size
    if size > MAX_MEMORY_BYTES:
        raise CheckpointError(f"{path}: a file of {size / 2**30:.1f} GiB, more than the {_gib()} a checkpoint may be")
    with open(path, "rb") as handle:
        handle.seek(max(0, size - 2**16 - 22))
        tail = handle.read()
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or len(tail) < end + 22:
        raise CheckpointError(f"{path}: corrupted or not an rnnbook checkpoint (not a zip file)")
    entries, directory_size = struct.unpack("<HI", tail[end + 10 : end + 16])
    if entries > MAX_MEMBERS or directory_size > MAX_MEMBERS * 300:
        raise CheckpointError(f"{path}: lists {entries} arrays in {directory_size} bytes; not an rnnbook checkpoint")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
        raise CheckpointError(f"{path}: corrupted or not an rnnbook checkpoint ({type(err).__name__}: {err})") from None
    # numpy writes members stored or deflated, never encrypted; zipfile would raise NotImplementedError or
    # RuntimeError ("password required") for the others, at the first read.
    for info in zf.infolist():
        if info.flag_bits & 1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            zf.close()
            how = "encrypted" if info.flag_bits & 1 else f"compressed with zip method {info.compress_type}"
            raise CheckpointError(f"{path}: the member {info.filename[:80]!r} is {how}; numpy writes members "
                                  "stored or deflated: not an rnnbook checkpoint")
    return zf


def _gib(n: int = MAX_MEMORY_BYTES) -> str:
    return f"{n / 2**30:g} GiB"


# -- 0. what a save may write: only what every load accepts -----------------------------------


def check_savable(arrays: dict, metadata: dict, meta_key: str) -> None:
    """Refuse ``arrays`` that :func:`read_array` would refuse on loading (a run saved so would be lost).

    ``meta_key`` is the metadata's own member name, which no array may take.
    """
    if not isinstance(arrays, dict) or not isinstance(metadata, dict):
        raise TypeError(f"arrays and metadata must be dicts, got {type(arrays).__name__} and {type(metadata).__name__}")
    for name, value in arrays.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"array names must be non-empty strings, got {name!r}")
        if not isinstance(value, np.ndarray):
            raise TypeError(f"array {name!r} must be a numpy array, got {type(value).__name__}")
        if value.dtype.kind not in "iuf" or value.dtype.fields is not None:
            raise TypeError(f"array {name!r} has dtype {value.dtype}; checkpoints hold integer and float arrays only")
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise ValueError(f"array {name!r} holds NaN or infinite values; a checkpoint's arrays must be finite")
    if meta_key in arrays:
        raise ValueError(f"{meta_key!r} is the metadata's own entry; name the array otherwise")


# -- 2. the metadata ---------------------------------------------------------------------------


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number a checkpoint may hold")


def _depth(value: object) -> int:
    """How deeply lists and objects nest in ``value`` (iteratively: no recursion to exhaust)."""
    deepest, todo = 0, [(value, 0)]
    while todo:
        node, level = todo.pop()
        if isinstance(node, dict | list):
            level += 1
            deepest = max(deepest, level)
            if level > MAX_NESTING:
                return level
            todo.extend((child, level) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def parse_metadata(raw: bytes, path: Path) -> dict:
    """The metadata document ``raw`` (UTF-8 JSON) as a dict, refusing what no checkpoint holds."""
    if len(raw) > MAX_METADATA_BYTES:
        raise CheckpointError(f"{path}: invalid metadata: {len(raw)} bytes, more than the {MAX_METADATA_BYTES}")
    try:
        meta = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except RecursionError:
        raise CheckpointError(f"{path}: invalid metadata: nested deeper than {MAX_NESTING} levels") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path}: invalid metadata: not valid JSON ({err})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: invalid metadata: expected a JSON object, got a {type(meta).__name__}")
    if _depth(meta) > MAX_NESTING:
        raise CheckpointError(f"{path}: invalid metadata: nested deeper than {MAX_NESTING} levels")
    return meta


def _integer(low: int, high: int = _BIG, *, none: bool = False):
    def check(value, where):
        if value is None and none:
            return
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where} must be an integer, got {value!r}")
        if not low <= value < high:
            raise ValueError(f"{where} must be an integer in [{low}, {high}), got {value}")

    return check


def _number(low: float, *, inclusive: bool = False, none: bool = False):
    def check(value, where):
        if value is None and none:
            return
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"{where} must be a finite number, got {value!r}")
        if isinstance(value, int) and abs(value) > 2**53:  # numpy cannot take such an int into float arithmetic
            raise ValueError(f"{where} must be a number of at most 2**53, got an integer of {len(str(value))} digits")
        if value < low or (value == low and not inclusive):
            raise ValueError(f"{where} must be {'>=' if inclusive else '>'} {low}, got {value}")

    return check


def _choice(*options, none: bool = False):
    def check(value, where):
        if value is None and none:
            return
        if not isinstance(value, str) or value not in options:
            raise ValueError(f"{where} must be one of {', '.join(map(repr, options))}, got {value!r}")

    return check


def _string(*, none: bool = False, hex_length: int | None = None):
    def check(value, where):
        if value is None and none:
            return
        if not isinstance(value, str):
            raise ValueError(f"{where} must be a string, got {type(value).__name__}")
        if hex_length is not None and (len(value) != hex_length or value.strip("0123456789abcdef")):
            raise ValueError(f"{where} must be {hex_length} hexadecimal digits, got {value[:80]!r}")

    return check


def _boolean(value, where):
    if not isinstance(value, bool):
        raise ValueError(f"{where} must be true or false, got {value!r}")


def _vocabulary(value, where):
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where} must be a non-empty string of characters, got {type(value).__name__}")
    if len(set(value)) != len(value):
        raise ValueError(f"{where} must list every character once")


def _history(value, where):
    if not isinstance(value, list):
        raise ValueError(f"{where} must be a list of [step, loss] pairs, got {type(value).__name__}")
    for i, pair in enumerate(value):
        if not isinstance(pair, list) or len(pair) != 2:
            raise ValueError(f"{where}[{i}] must be a [step, loss] pair, got {pair!r}")
        _integer(0)(pair[0], f"{where}[{i}][0]")
        _number(0, inclusive=True)(pair[1], f"{where}[{i}][1]")


def _object(schema: dict):
    def check(value, where):
        if not isinstance(value, dict):
            raise ValueError(f"{where} must be an object, got {type(value).__name__}")
        for key, (required, check_value) in schema.items():
            if key in value:
                check_value(value[key], f"{where}.{key}" if where else key)
            elif required:
                raise ValueError(f"{(where + '.') if where else ''}{key} is missing")

    return check


#: The PCG64 generator's state, as ``numpy.random.Generator.bit_generator.state`` gives it.
RNG_STATE = {
    "bit_generator": (True, _choice("PCG64")),
    "state": (True, _object({"state": (True, _integer(0, 2**128)), "inc": (True, _integer(0, 2**128))})),
    "has_uint32": (True, _integer(0, 2)),
    "uinteger": (True, _integer(0, 2**32)),
}
TRAINER = {
    "step": (True, _integer(0)),
    "epoch": (True, _integer(0)),
    "chunk": (True, _integer(0)),
    "offset": (True, _integer(0)),
    "seq_len": (True, _integer(1)),
    "batch_size": (True, _integer(1)),
    "lr": (True, _number(0)),
    "max_norm": (True, _number(0)),
    "rng_state": (True, _object(RNG_STATE)),
    "has_state": (True, _boolean),
}
#: The command line's settings of a run (see ``rnnbook.cli.parser.DEFAULTS``).
RUN = {
    "model": (True, _choice(*CELLS)),
    "hidden": (True, _integer(1)),
    "layers": (True, _integer(1)),
    "seq_len": (True, _integer(1)),
    "batch": (True, _integer(1)),
    "lr": (True, _number(0)),
    "seed": (True, _integer(0)),
    "text_path": (True, _string(none=True)),
    "corpus": (False, _choice(*CORPORA, none=True)),
    "text_sha256": (True, _string(hex_length=64)),
    "steps": (False, _integer(1, none=True)),
    "minutes": (False, _number(0, none=True)),
}
#: Every key a checkpoint's metadata may have: (required, check).  Other keys are ignored.
SCHEMA = {
    "format_version": (True, _integer(1)),
    "model": (True, _choice(*CELLS)),
    "vocab_size": (True, _integer(1)),
    "hidden_size": (True, _integer(1)),
    "layers": (True, _integer(1)),
    "dtype": (True, _choice("float32", "float64")),
    "vocabulary": (True, _vocabulary),
    "trainer": (False, _object(TRAINER)),
    "run": (False, _object(RUN)),
    "validation": (False, _history),
    "elapsed": (False, _number(0, inclusive=True)),
    "step": (False, _integer(0)),
}


def check_metadata(meta: dict, path: Path, *, training: bool) -> None:
    """Check ``meta`` against :data:`SCHEMA` (and that a training run's state is there if ``training``)."""
    try:
        _object(SCHEMA)(meta, "")
        if training and "trainer" not in meta:
            raise ValueError(
                "trainer is missing: the checkpoint holds no training state (a folder written by "
                "'rnnbook export --weights' holds the weights only and cannot be resumed)"
            )
        if len(meta["vocabulary"]) != meta["vocab_size"]:
            raise ValueError(
                f"vocab_size {meta['vocab_size']} does not match the vocabulary's {len(meta['vocabulary'])} characters"
            )
    except ValueError as err:
        raise CheckpointError(f"{path}: invalid metadata: {err}") from None


# -- 3. the memory the checkpoint asks for -----------------------------------------------------


def param_shapes(meta: dict) -> dict[str, tuple[int, ...]]:
    """The shape of every parameter of the model ``meta`` describes, by name (computed, nothing built)."""
    rows = CELLS[meta["model"]].gates * meta["hidden_size"]
    hidden, vocab = meta["hidden_size"], meta["vocab_size"]
    shapes = {}
    for k in range(meta["layers"]):
        shapes |= {  # torch's names, as the model's stacked layer keeps them
            f"rnn.weight_ih_l{k}": (rows, vocab if k == 0 else hidden), f"rnn.weight_hh_l{k}": (rows, hidden),
            f"rnn.bias_ih_l{k}": (rows,), f"rnn.bias_hh_l{k}": (rows,),
        }
    return shapes | {"readout.weight": (vocab, hidden), "readout.bias": (vocab,)}


def check_memory(meta: dict, path: Path, *, training: bool) -> None:
    """Refuse a checkpoint whose arrays (and the model built from them) would need more than the cap."""
    gates, hidden, vocab, layers = CELLS[meta["model"]].gates, meta["hidden_size"], meta["vocab_size"], meta["layers"]
    count = gates * hidden * (vocab + hidden + 2) + (layers - 1) * gates * hidden * (2 * hidden + 2)
    count += vocab * (hidden + 1)
    need = 2 * count * np.dtype(meta["dtype"]).itemsize  # the arrays read, and the model they are copied into
    if training:
        need += 2 * count * np.dtype(meta["dtype"]).itemsize + 8 * meta["trainer"]["step"]  # Adam's memory, losses
    if need > MAX_MEMORY_BYTES:
        raise CheckpointError(
            f"{path}: the checkpoint asks for {need / 2**30:,.1f} GiB (hidden_size {hidden}, layers {layers}, "
            f"vocab_size {vocab}), more than the {_gib()} limit"
        )


def expected_arrays(meta: dict, streams: int | None) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """The arrays a model needs (and, given the trainer's ``streams``, a training run): name to (shape, dtype)."""
    dtype = np.dtype(meta["dtype"])
    params = param_shapes(meta)
    expected = {f"param/{name}": (shape, dtype) for name, shape in params.items()}
    if streams is None:
        return expected
    t = meta["trainer"]
    expected["optim/steps"] = ((), np.dtype(np.int64))
    if t["step"] > 0:
        expected |= {f"optim/{name}/{slot}": (shape, dtype) for name, shape in params.items() for slot in "mv"}
    if t["has_state"]:
        # the names of a state's parts are the layer's business: ask a one-unit layer of the same kind
        unit = CELLS[meta["model"]](1, 1, rng=0, dtype=dtype)
        for k in range(meta["layers"]):
            expected |= {
                f"state/{k}/{part}": ((streams, meta["hidden_size"]), dtype)
                for part in unit.state_parts(unit.init_state(1))
            }
    expected["losses"] = ((t["step"],), np.dtype(np.float64))
    return expected


def check_loadable(path: Path, arrays: dict[str, np.ndarray], meta: dict, streams: int) -> None:
    """Refuse to save a training run that loading would refuse: ``meta`` against the schema, and ``arrays``
    against the names, shapes and dtypes ``meta`` implies for ``streams`` streams.  (Not the memory cap: a
    run that outgrew it still gives its model to ``rnnbook sample``, which reads the weights only.)"""
    try:
        check_metadata(meta, path, training=True)
    except CheckpointError as err:
        raise ValueError(f"refusing to save what could not be loaded again: {err}") from None
    for name, (shape, dtype) in expected_arrays(meta, streams).items():
        got = arrays.get(name)
        if got is None or got.shape != tuple(shape) or got.dtype != dtype:
            found = "nothing" if got is None else f"{got.dtype} of shape {got.shape}"
            raise ValueError(f"refusing to save what could not be loaded again: {path}: the array {name} is "
                             f"{found}, the metadata implies {np.dtype(dtype)} of shape {tuple(shape)}")


# -- 4. and 5. the arrays ----------------------------------------------------------------------


def read_array(zf: zipfile.ZipFile, path: Path, name: str, shape: tuple | None, dtype: np.dtype | None) -> np.ndarray:
    """Read member ``name`` (without ``.npy``): header first, checked against ``shape`` and ``dtype``, then the data.

    With ``shape`` and ``dtype`` None, the header's own are accepted (the
    caller bounds the total); the data read is always exactly what the header
    declares and what the member holds, and float arrays must be finite.
    """
    try:
        info = zf.getinfo(name + ".npy")
    except KeyError:
        raise CheckpointError(f"{path}: the array {name} is missing") from None
    try:
        with zf.open(info) as handle:
            version = np.lib.format.read_magic(handle)
            header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
            if version not in header:
                raise ValueError(f"npy format version {version}")
            got_shape, fortran, got_dtype = header[version](handle, max_header_size=1000)
            if fortran or got_dtype.hasobject or got_dtype.kind not in "iuf":
                raise ValueError(f"a {'Fortran-ordered ' if fortran else ''}{got_dtype} array, expected numbers")
            if shape is not None and (tuple(got_shape) != tuple(shape) or got_dtype != dtype):
                raise CheckpointError(
                    f"{path}: the array {name} is {got_dtype} of shape {tuple(got_shape)}, the metadata implies "
                    f"{np.dtype(dtype)} of shape {tuple(shape)}"
                )
            nbytes = math.prod(got_shape) * got_dtype.itemsize
            if info.file_size != handle.tell() + nbytes:
                raise CheckpointError(
                    f"{path}: the array {name} declares {nbytes} bytes of data, its member holds "
                    f"{info.file_size - handle.tell()}"
                )
            data = bytearray(nbytes)
            if handle.readinto(data) != nbytes or handle.read(1):
                raise ValueError("the member's data does not match its size")
    except CheckpointError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile, SyntaxError) as err:
        raise CheckpointError(f"{path}: corrupted array {name} ({type(err).__name__}: {err})") from None
    array = np.frombuffer(data, dtype=got_dtype).reshape(got_shape)
    if got_dtype.kind == "f" and not np.isfinite(array).all():
        raise CheckpointError(f"{path}: the array {name} holds NaN or infinite values; weights must be finite")
    return array


def read_metadata_member(zf: zipfile.ZipFile, path: Path) -> bytes:
    """The raw bytes of the ``__metadata__`` member, at most :data:`MAX_METADATA_BYTES`."""
    try:
        info = zf.getinfo("__metadata__.npy")
    except KeyError:
        raise CheckpointError(f"{path}: not an rnnbook checkpoint (no metadata)") from None
    if info.file_size > MAX_METADATA_BYTES + 1000:
        raise CheckpointError(f"{path}: invalid metadata: {info.file_size} bytes, more than {MAX_METADATA_BYTES}")
    array = read_array(zf, path, "__metadata__", None, None)
    if array.dtype != np.uint8 or array.ndim != 1:
        raise CheckpointError(f"{path}: invalid metadata: expected bytes, got {array.dtype} of shape {array.shape}")
    return array.tobytes()
