"""Text to train a character model on: the built-in corpus, a file of your own, a validation split.

The built-in corpus (:func:`builtin_corpus`) is the Python source of a fixed
list of standard-library modules (:data:`BUILTIN_FILES`), read from the
running interpreter's own library folder (``sysconfig.get_paths()["stdlib"]``),
so it is there offline on every machine and never copied into this repository.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

#: The standard-library modules whose source makes the built-in corpus, in this order.
BUILTIN_FILES: tuple[str, ...] = (
    "textwrap.py",
    "fnmatch.py",
    "glob.py",
    "bisect.py",
    "string.py",
    "colorsys.py",
    "queue.py",
    "sched.py",
    "graphlib.py",
    "contextlib.py",
    "abc.py",
    "copy.py",
    "reprlib.py",
    "numbers.py",
    "operator.py",
)


#: The largest text file that is read (whole, and then held again as 8-byte indices, one per character).
MAX_TEXT_BYTES = 2**28


class TextError(ValueError):
    """A text that cannot be trained on or sampled from (missing, empty, binary, ...)."""


def builtin_corpus() -> str:
    """The built-in corpus: the source of :data:`BUILTIN_FILES`, joined by newlines.

    The files are read at run time from ``sysconfig.get_paths()["stdlib"]``, the
    standard library of the running Python, so the text (and every number
    computed from it) can differ slightly between Python versions.

    Returns
    -------
    str
        About 150 000 characters of Python code, comments and docstrings.

    Raises
    ------
    TextError
        If one of the files is missing (a stripped-down Python installation).
    """
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    parts = []
    for name in BUILTIN_FILES:
        path = stdlib / name
        if not path.is_file():
            raise TextError(
                f"the built-in corpus needs {path} (standard-library source), which is missing; "
                "pass a text file of your own instead"
            )
        parts.append(read_text(path))
    return "\n".join(parts)


def read_text(path: str | Path) -> str:
    """Read a UTF-8 text file, refusing what cannot be a training text.

    A UTF-8 byte-order mark at the start (which some editors write) is
    dropped: it marks the encoding and is not a character of the text.

    Raises
    ------
    TextError
        If the file is missing, is not a file, is larger than
        :data:`MAX_TEXT_BYTES` (checked before reading), is empty, is UTF-16,
        holds NUL bytes (a binary file) or is not valid UTF-8 (the message
        gives the byte offset).
    """
    if isinstance(path, str) and not path:  # Path("") would be the current folder
        raise TextError("expected the name of a text file, got an empty string")
    path = Path(path)
    if path.is_symlink() and not path.exists():
        raise TextError(f"{path}: a symbolic link to nothing (dangling, or a loop of links)")
    if not path.exists():
        raise TextError(f"{path}: no such file")
    if not path.is_file():
        raise TextError(f"{path}: not a regular file")
    size = path.stat().st_size
    if size > MAX_TEXT_BYTES:
        raise TextError(
            f"{path}: {size / 2**30:.2f} GiB, larger than the {MAX_TEXT_BYTES / 2**30:g} GiB "
            f"({MAX_TEXT_BYTES // 2**20} MiB) a training text may be; train on a part of it"
        )
    data = path.read_bytes()
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0  # byte offsets below count it
    data = data[bom:]
    if not data:
        raise TextError(f"{path}: the file is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise TextError(f"{path}: UTF-16 text (it starts with a UTF-16 byte-order mark), expected UTF-8; "
                        "save the file as UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise TextError(f"{path}: looks like a binary file (NUL byte at byte offset {nul + bom}), expected UTF-8 text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise TextError(
            f"{path}: not valid UTF-8 at byte offset {err.start + bom} (byte 0x{data[err.start]:02x}); "
            "save the file as UTF-8"
        ) from None


def split_text(text: str, validation_fraction: float = 0.1) -> tuple[str, str]:
    """Split ``text`` into a training part and the last ``validation_fraction`` for validation."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if not 0 < validation_fraction < 1:
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
    cut = len(text) - max(2, int(round(len(text) * validation_fraction)))
    return text[:cut], text[cut:]
