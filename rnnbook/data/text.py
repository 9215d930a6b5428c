"""Text to train a character model on: the built-in corpus, a file of your own, a validation split.

A built-in corpus (:func:`builtin_corpus`) is the Python source of a fixed
list of standard-library modules, read from the running interpreter's own
library folder (``sysconfig.get_paths()["stdlib"]``), so it is there offline on
every machine and never copied into this repository.  There are two
(:data:`CORPORA`): ``"small"``, the 15 modules of :data:`BUILTIN_FILES` (about
150 000 characters, for runs of a minute, as in the book's chapter), and
``"large"``, the 111 modules of :data:`LARGE_FILES` (about 3.5 million
characters, for runs of many minutes, which a small text would let the model
learn by heart).
"""

from __future__ import annotations

import sysconfig
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

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

#: The modules of the large corpus, in this order (names without ``.py``): a fixed choice of
#: modules at the top of the standard library whose source is plain ASCII in Python 3.11,
#: leaving out those that later versions remove or turn into packages, generated tables
#: (stringprep) and jokes (this, antigravity).  Held out for validation: the last tenth of
#: the text, from inside turtle.py on.
LARGE_MODULES: tuple[str, ...] = (
    "abc", "argparse", "ast", "base64", "bdb", "bisect", "calendar", "cmd", "code", "codecs", "codeop",
    "colorsys", "compileall", "configparser", "contextlib", "copy", "copyreg", "csv", "dataclasses",
    "datetime", "difflib", "dis", "doctest", "enum", "filecmp", "fileinput", "fnmatch", "genericpath",
    "getpass", "gettext", "glob", "graphlib", "gzip", "hashlib", "hmac", "imaplib", "inspect", "io",
    "ipaddress", "keyword", "linecache", "locale", "lzma", "mailbox", "mimetypes", "modulefinder", "netrc",
    "ntpath", "numbers", "opcode", "operator", "optparse", "os", "pdb", "pickle", "pickletools", "pkgutil",
    "platform", "plistlib", "poplib", "posixpath", "pprint", "profile", "pstats", "pty", "py_compile",
    "pyclbr", "pydoc", "queue", "quopri", "random", "reprlib", "rlcompleter", "sched", "secrets", "selectors",
    "shelve", "shutil", "signal", "site", "smtplib", "socket", "socketserver", "ssl", "stat", "string",
    "struct", "subprocess", "symtable", "tabnanny", "tarfile", "tempfile", "textwrap", "threading", "timeit",
    "token", "tokenize", "trace", "traceback", "tracemalloc", "tty", "turtle", "types", "typing", "uuid",
    "warnings", "wave", "weakref", "webbrowser", "zipapp", "zipimport",
)
#: The files of the large corpus: :data:`LARGE_MODULES` with ``.py``.
LARGE_FILES: tuple[str, ...] = tuple(f"{name}.py" for name in LARGE_MODULES)
#: The built-in corpora by name: ``rnnbook train --corpus NAME``.
CORPORA: Mapping[str, tuple[str, ...]] = MappingProxyType({"small": BUILTIN_FILES, "large": LARGE_FILES})


#: The largest text file that is read (whole, and then held again as 8-byte indices, one per character).
MAX_TEXT_BYTES = 2**28


class TextError(ValueError):
    """A text that cannot be trained on or sampled from (missing, empty, binary, ...)."""


def builtin_corpus(name: str = "small") -> str:
    """A built-in corpus: the source of its modules (:data:`CORPORA`), joined by newlines.

    The files are read at run time from ``sysconfig.get_paths()["stdlib"]``, the
    standard library of the running Python, so the text (and every number
    computed from it) can differ slightly between Python versions.

    Parameters
    ----------
    name : {"small", "large"}, default "small"
        ``"small"``: :data:`BUILTIN_FILES`, about 150 000 characters of
        Python code, comments and docstrings; ``"large"``: :data:`LARGE_FILES`,
        about 3.5 million.

    Returns
    -------
    str
        The corpus.

    Raises
    ------
    ValueError
        If ``name`` names no corpus.
    TextError
        If one of the files is missing (a stripped-down Python installation).
    """
    if not isinstance(name, str) or name not in CORPORA:
        raise ValueError(f"name must be one of {', '.join(map(repr, CORPORA))}, got {name!r}")
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    parts = []
    for file in CORPORA[name]:
        path = stdlib / file
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
